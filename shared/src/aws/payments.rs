//! The payment ledger on the order item, and the refund requests with the
//! order's refund lock (ports `PaymentLedgerStore`, `RefundRequestStore`).
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | order (payment side) | `payment_status`, `payment_provider`, `payment_ref`, `paid_minor`, `paid_at`, `refunded_minor`, `payment_event_ids` (string set), `early_refunds` (JSON text), `payment_version`; `refund_lock` (request id), `refund_lock_until` (ms) |
//! | refund request | `order_id`, `provider`, `operation`, `params_hash`, `state` (`claimed`/`sent`/`done`), `lease_until_ms`, `plan` (JSON text), `response_status`, `response_body`; TTL `expires_at` |

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use crate::aws::dynamo::{
    conditional_failed, decode, n, s, store_error, DynamoStore, Item, OrderItem,
    PaymentAttemptItem, GSI1,
};
use crate::aws::keys;
use crate::domain::payment::RefundPlan;
use crate::domain::payment_ledger::PaymentLedger;
use crate::domain::refund::{RefundOperation, RefundRecord, RefundState};
use crate::domain::PaymentAttempt;
use crate::error::{Error, Result};
use crate::ports::{
    LedgerVersion, PaymentLedgerStore, RefundClaim, RefundLock, RefundRequestStore,
};

/// How long a request id is remembered (and answered from its record).
pub const REFUND_RETENTION_SECS: i64 = 90 * 24 * 3600;

/// The lock of a refund that was sent: held until its outcome is known.
const SENT: i64 = i64::MAX;

impl PaymentLedgerStore for DynamoStore {
    async fn load_ledger(&self, order_id: &str) -> Result<Option<(PaymentLedger, LedgerVersion)>> {
        match self
            .get_item(&keys::order_pk(order_id), keys::ORDER_SK)
            .await?
        {
            Some(item) => Ok(Some(decode::<OrderItem>(item)?.into_ledger()?)),
            None => Ok(None),
        }
    }

    async fn save_ledger(
        &self,
        ledger: &PaymentLedger,
        version: LedgerVersion,
        now: &str,
    ) -> Result<bool> {
        let mut set = vec![
            "payment_status = :status",
            "refunded_minor = :refunded",
            "payment_version = :next",
            "payment_updated_at = :now",
        ];
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(keys::order_pk(&ledger.order_id)))
            .key("sk", s(keys::ORDER_SK))
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":status", s(ledger.status.as_str()))
            .expression_attribute_values(":refunded", n(ledger.refunded_minor))
            .expression_attribute_values(":next", n(version.payment as i64 + 1))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":content", n(version.content as i64));
        // The ledger only ever gains facts: absent ones are left as they are.
        if let Some(provider) = &ledger.provider {
            set.push("payment_provider = :provider");
            request = request.expression_attribute_values(":provider", s(provider));
        }
        if let Some(r) = &ledger.provider_ref {
            set.push("payment_ref = :ref");
            request = request.expression_attribute_values(":ref", s(r));
        }
        if let Some(paid) = ledger.paid_minor {
            set.push("paid_minor = :paid");
            request = request.expression_attribute_values(":paid", n(paid));
        }
        if let Some(at) = &ledger.paid_at {
            set.push("paid_at = :paid_at");
            request = request.expression_attribute_values(":paid_at", s(at));
        }
        if !ledger.applied.is_empty() {
            set.push("payment_event_ids = :ids");
            let ids = ledger.applied.iter().cloned().collect();
            request = request.expression_attribute_values(":ids", AttributeValue::Ss(ids));
        }
        if !ledger.early_refunds.is_empty() {
            set.push("early_refunds = :early");
            let text = serde_json::to_string(&ledger.early_refunds)
                .map_err(|e| Error::Internal(e.to_string()))?;
            request = request.expression_attribute_values(":early", s(&text));
        }
        let unchanged = if version.payment == 0 {
            "attribute_not_exists(payment_version)".to_string()
        } else {
            request = request.expression_attribute_values(":pv", n(version.payment as i64));
            "payment_version = :pv".to_string()
        };
        let result = request
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(format!(
                "attribute_exists(pk) AND #version = :content AND {unchanged}"
            ))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn attempt_for_ref(
        &self,
        provider: &str,
        provider_ref: &str,
    ) -> Result<Option<PaymentAttempt>> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :ref")
            .expression_attribute_values(
                ":ref",
                s(keys::provider_ref_gsi_pk(provider, provider_ref)),
            )
            .limit(1)
            .send()
            .await
            .map_err(|e| store_error("Query", e))?;
        match out.items.unwrap_or_default().into_iter().next() {
            Some(item) => Ok(Some(decode::<PaymentAttemptItem>(item)?.into_attempt())),
            None => Ok(None),
        }
    }
}

/// The refund request item as stored.
#[derive(Serialize, Deserialize)]
struct RefundItem {
    request_id: String,
    order_id: String,
    provider: String,
    operation: RefundOperation,
    params_hash: String,
    state: RefundState,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    sent_at_ms: Option<i64>,
    #[serde(default)]
    response_status: Option<u16>,
    #[serde(default)]
    response_body: Option<String>,
}

impl RefundItem {
    fn into_record(self) -> Result<RefundRecord> {
        let plan: Option<RefundPlan> = match &self.plan {
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|e| Error::Store(format!("unreadable refund plan: {e}")))?,
            ),
            None => None,
        };
        Ok(RefundRecord {
            request_id: self.request_id,
            order_id: self.order_id,
            provider: self.provider,
            operation: self.operation,
            params_hash: self.params_hash,
            state: self.state,
            plan,
            sent_at_ms: self.sent_at_ms,
        })
    }
}

fn state_word(state: RefundState) -> &'static str {
    match state {
        RefundState::Claimed => "claimed",
        RefundState::Sent => "sent",
        RefundState::Done => "done",
    }
}

impl DynamoStore {
    /// Why a claim was refused, read off the record as it was.
    fn refused_claim(&self, item: Item, request: &RefundRecord) -> Result<RefundClaim> {
        let old: RefundItem = decode(item)?;
        if old.params_hash != request.params_hash {
            return Ok(RefundClaim::Mismatch);
        }
        match (old.state, old.response_status, old.response_body) {
            (RefundState::Done, Some(status), Some(body)) => Ok(RefundClaim::Done { status, body }),
            _ => Ok(RefundClaim::Busy),
        }
    }
}

impl RefundRequestStore for DynamoStore {
    async fn claim_refund(
        &self,
        request: &RefundRecord,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<RefundClaim> {
        let operation = match request.operation {
            RefundOperation::Refund => "refund",
            RefundOperation::Cancel => "cancel",
        };
        // New, or taken over from a claimant whose lease ran out (same
        // parameters, not answered yet). What it recorded is kept.
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(keys::refund_pk(&request.request_id)))
            .key("sk", s(keys::REFUND_SK))
            .update_expression(
                "SET entity = :entity, request_id = :rid, order_id = if_not_exists(order_id, :order), \
                 provider = if_not_exists(provider, :provider), operation = if_not_exists(operation, :op), \
                 params_hash = if_not_exists(params_hash, :hash), #state = if_not_exists(#state, :claimed), \
                 lease_until_ms = :lease, expires_at = if_not_exists(expires_at, :expires)",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (params_hash = :hash AND #state <> :done AND lease_until_ms < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":entity", s("refund_request"))
            .expression_attribute_values(":rid", s(&request.request_id))
            .expression_attribute_values(":order", s(&request.order_id))
            .expression_attribute_values(":provider", s(&request.provider))
            .expression_attribute_values(":op", s(operation))
            .expression_attribute_values(":hash", s(&request.params_hash))
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":lease", n(lease_until_ms))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(
                ":expires",
                n(now_ms / 1000 + REFUND_RETENTION_SECS),
            )
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => match out.attributes.filter(|a| !a.is_empty()) {
                None => Ok(RefundClaim::Claimed(None)),
                Some(old) => Ok(RefundClaim::Claimed(Some(
                    decode::<RefundItem>(old)?.into_record()?,
                ))),
            },
            Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let item = match failed.item() {
                        Some(item) => item.clone(),
                        None => self
                            .get_item(&keys::refund_pk(&request.request_id), keys::REFUND_SK)
                            .await?
                            .ok_or_else(|| Error::Store("refund request vanished".into()))?,
                    };
                    self.refused_claim(item, request)
                }
                _ => Err(store_error("UpdateItem", SdkError::ServiceError(ctx))),
            },
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn get_refund(&self, request_id: &str) -> Result<Option<RefundRecord>> {
        match self
            .get_item(&keys::refund_pk(request_id), keys::REFUND_SK)
            .await?
        {
            Some(item) => Ok(Some(decode::<RefundItem>(item)?.into_record()?)),
            None => Ok(None),
        }
    }

    async fn lock_order_for_refund(
        &self,
        order_id: &str,
        request_id: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<RefundLock> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(keys::order_pk(order_id)))
            .key("sk", s(keys::ORDER_SK))
            .update_expression("SET refund_lock = :rid, refund_lock_until = :until")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(refund_lock) OR refund_lock = :rid \
                 OR refund_lock_until < :now)",
            )
            .expression_attribute_values(":rid", s(request_id))
            .expression_attribute_values(":until", n(lease_until_ms))
            .expression_attribute_values(":now", n(now_ms))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(RefundLock::Locked),
            Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let item = match failed.item() {
                        Some(item) => Some(item.clone()),
                        None => {
                            self.get_item(&keys::order_pk(order_id), keys::ORDER_SK)
                                .await?
                        }
                    };
                    Ok(match item {
                        None => RefundLock::NoOrder,
                        Some(item) => RefundLock::HeldBy(
                            item.get("refund_lock")
                                .and_then(|v| v.as_s().ok())
                                .cloned()
                                .unwrap_or_default(),
                        ),
                    })
                }
                _ => Err(store_error("UpdateItem", SdkError::ServiceError(ctx))),
            },
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn unlock_order_refund(&self, order_id: &str, request_id: &str) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(keys::order_pk(order_id)))
            .key("sk", s(keys::ORDER_SK))
            .update_expression("REMOVE refund_lock, refund_lock_until")
            .condition_expression("refund_lock = :rid")
            .expression_attribute_values(":rid", s(request_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Not ours (any more): nothing to release.
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn mark_refund_sent(
        &self,
        record: &RefundRecord,
        lease_until_ms: i64,
        hold_order_lock: bool,
    ) -> Result<bool> {
        let plan =
            serde_json::to_string(&record.plan).map_err(|e| Error::Internal(e.to_string()))?;
        let request = Update::builder()
            .table_name(self.table())
            .key("pk", s(keys::refund_pk(&record.request_id)))
            .key("sk", s(keys::REFUND_SK))
            .update_expression("SET #state = :sent, #plan = :plan, sent_at_ms = :sent_at")
            .condition_expression("#state = :claimed AND lease_until_ms = :lease")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#plan", "plan")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":plan", s(&plan))
            .expression_attribute_values(
                ":sent_at",
                n(record.sent_at_ms.ok_or_else(|| {
                    Error::Internal("a refund is marked sent without its time".into())
                })?),
            )
            .expression_attribute_values(":lease", n(lease_until_ms))
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let lock = Update::builder()
            .table_name(self.table())
            .key("pk", s(keys::order_pk(&record.order_id)))
            .key("sk", s(keys::ORDER_SK))
            .update_expression("SET refund_lock_until = :sent")
            .condition_expression("refund_lock = :rid")
            .expression_attribute_values(":sent", n(SENT))
            .expression_attribute_values(":rid", s(&record.request_id))
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let mut transaction = self
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(request).build());
        if hold_order_lock {
            transaction =
                transaction.transact_items(TransactWriteItem::builder().update(lock).build());
        }
        let result = transaction.send().await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error("TransactWriteItems", e)),
        }
    }

    async fn finish_refund(
        &self,
        request_id: &str,
        state: RefundState,
        status: u16,
        body: &str,
    ) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(keys::refund_pk(request_id)))
            .key("sk", s(keys::REFUND_SK))
            .update_expression(
                "SET #state = :state, response_status = :status, response_body = :body",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(state_word(state)))
            .expression_attribute_values(":status", n(i64::from(status)))
            .expression_attribute_values(":body", s(body))
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", e))?;
        Ok(())
    }

    async fn release_refund_lease(&self, request_id: &str) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(keys::refund_pk(request_id)))
            .key("sk", s(keys::REFUND_SK))
            .update_expression("SET lease_until_ms = :zero")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Forgotten already (never sent): nothing to release.
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn abandon_refund(&self, request_id: &str) -> Result<()> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(keys::refund_pk(request_id)))
            .key("sk", s(keys::REFUND_SK))
            // Never forget a request that reached the gateway.
            .condition_expression("#state = :claimed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claimed", s("claimed"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(store_error("DeleteItem", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_stored_word() {
        for (state, word) in [
            (RefundState::Claimed, "claimed"),
            (RefundState::Sent, "sent"),
            (RefundState::Done, "done"),
        ] {
            assert_eq!(state_word(state), word);
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(word)
            );
        }
    }
}
