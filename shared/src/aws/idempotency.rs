//! Idempotency records and the webhook audit trail in the single table.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | idempotency record (= audit of an accepted delivery) | `status` (`INPROGRESS`/`COMPLETED`), `in_progress_expiry` (ms, the Lambda deadline), `payload_hash`, `provider`, `event_type`, `event_id`, `received_at`, `outcome`, `latency_ms`, `duplicates` |
//! | audit of a (sampled) rejected delivery | `outcome` (`rejected:<reason>` or `unknown_order`), `provider`, `received_at`, `source_ip` |
//!
//! Both carry `gsi1pk = AUDIT#<provider>#<yyyy-mm-dd>`, `gsi1sk = <received-at>#<event id>`,
//! so a day's deliveries of one provider are one GSI query, and `expires_at`
//! (TTL, 30 days).

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use crate::api::idempotency::{Claim, ClaimResult, IdempotencyStore, CLAIM_CONDITION};
use crate::aws::dynamo::{n, s, store_error, DynamoStore};
use crate::aws::keys::{self, audit_gsi_pk, idempotency_pk, rejected_webhook_pk};
use crate::error::Result;
use crate::ports::{AuditRejected, RejectedDelivery};

pub const AUDIT_RETENTION_SECS: i64 = 30 * 24 * 3600;

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

impl AuditRejected for DynamoStore {
    async fn audit_rejected(&self, r: &RejectedDelivery<'_>) -> Result<()> {
        let id = format!("{:016x}", fastrand::u64(..));
        let mut request = self
            .client()
            .put_item()
            .table_name(self.table())
            // Spread over 16 partitions: rejections never share one hot key.
            .item("pk", s(rejected_webhook_pk(r.provider, fastrand::u8(..16))))
            .item("sk", s(format!("{}#{id}", r.received_at)))
            .item("entity", s("webhook_audit"))
            .item("provider", s(r.provider))
            .item("outcome", s(r.outcome))
            .item("received_at", s(r.received_at))
            .item("expires_at", n(r.now_unix + AUDIT_RETENTION_SECS))
            .item("gsi1pk", s(audit_gsi_pk(r.provider, r.received_at)))
            .item("gsi1sk", s(format!("{}#unapplied-{id}", r.received_at)));
        if let Some(ip) = r.source_ip {
            request = request.item("source_ip", s(ip));
        }
        request
            .send()
            .await
            .map_err(|e| store_error("PutItem", e))?;
        Ok(())
    }
}

impl IdempotencyStore for DynamoStore {
    async fn claim(&self, c: &Claim) -> Result<ClaimResult> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(idempotency_pk(&c.scope, &c.key)))
            .item("sk", s(keys::IDEMPOTENCY_SK))
            .item("entity", s("idempotency"))
            .item("status", s(IN_PROGRESS))
            .item("in_progress_expiry", n(c.in_progress_until_ms))
            .item("expires_at", n(c.expires_at))
            .item("payload_hash", s(&c.payload_hash))
            .item("provider", s(&c.audit.provider))
            .item("event_type", s(&c.audit.event_type))
            .item("event_id", s(&c.audit.event_id))
            .item("received_at", s(&c.audit.received_at))
            .item(
                "gsi1pk",
                s(audit_gsi_pk(&c.audit.provider, &c.audit.received_at)),
            )
            .item(
                "gsi1sk",
                s(format!("{}#{}", c.audit.received_at, c.audit.event_id)),
            )
            .condition_expression(CLAIM_CONDITION)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(c.now_ms / 1000))
            .expression_attribute_values(":now_ms", n(c.now_ms))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimResult::Claimed),
            Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    let item = match failed.item() {
                        Some(item) => item.clone(),
                        None => self
                            .get_item(&idempotency_pk(&c.scope, &c.key), "IDEMP")
                            .await?
                            .unwrap_or_default(),
                    };
                    let field = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
                    if field("payload_hash").is_some_and(|h| h != c.payload_hash) {
                        tracing::warn!(scope = %c.scope, key = %c.key, "same event id, different payload");
                    }
                    match field("status").as_deref() {
                        Some(COMPLETED) => Ok(ClaimResult::Completed {
                            outcome: field("outcome").unwrap_or_default(),
                        }),
                        _ => Ok(ClaimResult::InProgress),
                    }
                }
                _ => Err(store_error("PutItem", SdkError::ServiceError(ctx))),
            },
            Err(e) => Err(store_error("PutItem", e)),
        }
    }

    async fn complete(&self, c: &Claim, outcome: &str, latency_ms: i64) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(idempotency_pk(&c.scope, &c.key)))
            .key("sk", s(keys::IDEMPOTENCY_SK))
            .update_expression(
                "SET #status = :completed, outcome = :outcome, latency_ms = :latency",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":outcome", s(outcome))
            .expression_attribute_values(":latency", n(latency_ms))
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", e))?;
        Ok(())
    }

    async fn release(&self, c: &Claim) -> Result<()> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(idempotency_pk(&c.scope, &c.key)))
            .key("sk", s(keys::IDEMPOTENCY_SK))
            // Never delete a record another invocation completed meanwhile.
            .condition_expression("#status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(store_error("DeleteItem", e)),
        }
    }

    async fn note_duplicate(&self, c: &Claim) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(idempotency_pk(&c.scope, &c.key)))
            .key("sk", s(keys::IDEMPOTENCY_SK))
            .update_expression("ADD duplicates :one SET last_duplicate_at = :at")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":at", s(&c.audit.received_at))
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", e))?;
        Ok(())
    }
}
