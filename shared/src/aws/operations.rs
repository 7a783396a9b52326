//! What the operations function reads and writes in the single table.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | provider health check | `status` (`healthy`/`unhealthy`/`unconfigured`), `checked_at` (RFC 3339), `checked_ms`, `latency_ms`, `error`, `provider_code`, `expires_at` (TTL) |
//!
//! The webhook audit it reads is written by `aws::idempotency` (GSI `gsi1`,
//! `AUDIT#<provider>#<day>`); only the fields `ports::AuditEntry` names are
//! read back (never `source_ip`).

use crate::aws::dynamo::{n, s, store_error, DynamoStore, Item};
use crate::aws::keys::{self, audit_gsi_pk, health_cache_pk};
use crate::domain::operations::{
    decode_cursor, encode_cursor, HealthCheck, HealthStatus, Provider,
};
use crate::error::Result;
use crate::ports::{AuditEntry, AuditPage, HealthCache, WebhookAuditReader};

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

impl HealthCache for DynamoStore {
    async fn cached_health(&self, provider: Provider) -> Result<Option<HealthCheck>> {
        let Some(item) = self
            .get_item(&health_cache_pk(provider.as_str()), keys::CACHE_SK)
            .await?
        else {
            return Ok(None);
        };
        let (Some(status), Some(checked_at), Some(checked_ms)) = (
            text(&item, "status")
                .as_deref()
                .and_then(HealthStatus::parse),
            text(&item, "checked_at"),
            number(&item, "checked_ms"),
        ) else {
            // Unreadable: as if absent (the provider is asked again).
            return Ok(None);
        };
        Ok(Some(HealthCheck {
            provider: provider.as_str(),
            status,
            latency_ms: number(&item, "latency_ms").map(|v| v.max(0) as u64),
            checked_at,
            checked_ms,
            error: text(&item, "error"),
            provider_code: text(&item, "provider_code"),
            cached: true,
        }))
    }

    async fn cache_health(&self, check: &HealthCheck, expires_at: i64) -> Result<()> {
        let mut request = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(health_cache_pk(check.provider)))
            .item("sk", s(keys::CACHE_SK))
            .item("entity", s("health_check"))
            .item("status", s(check.status.as_str()))
            .item("checked_at", s(&check.checked_at))
            .item("checked_ms", n(check.checked_ms))
            .item("expires_at", n(expires_at));
        if let Some(ms) = check.latency_ms {
            request = request.item("latency_ms", n(ms as i64));
        }
        if let Some(e) = &check.error {
            request = request.item("error", s(e));
        }
        if let Some(c) = &check.provider_code {
            request = request.item("provider_code", s(c));
        }
        request
            .send()
            .await
            .map_err(|e| store_error("PutItem", e))?;
        Ok(())
    }
}

impl WebhookAuditReader for DynamoStore {
    async fn audit_page(
        &self,
        provider: &str,
        day: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<AuditPage> {
        let gsi1pk = audit_gsi_pk(provider, day);
        let mut request = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(&gsi1pk))
            .projection_expression(
                "pk, sk, gsi1sk, received_at, outcome, event_id, event_type, latency_ms, duplicates, #status",
            )
            .expression_attribute_names("#status", "status")
            .limit(limit);
        if let Some(cursor) = cursor {
            let (pk, sk, gsi1sk) = decode_cursor(cursor)?;
            request = request
                .exclusive_start_key("pk", s(pk))
                .exclusive_start_key("sk", s(sk))
                .exclusive_start_key("gsi1pk", s(&gsi1pk))
                .exclusive_start_key("gsi1sk", s(gsi1sk));
        }
        let out = request.send().await.map_err(|e| store_error("Query", e))?;
        let entries = out
            .items()
            .iter()
            .map(|item| {
                let accepted = text(item, "pk").is_some_and(|pk| pk.starts_with("IDEMP#"));
                AuditEntry {
                    received_at: text(item, "received_at").unwrap_or_default(),
                    kind: if accepted { "accepted" } else { "rejected" },
                    outcome: text(item, "outcome"),
                    event_id: text(item, "event_id"),
                    event_type: text(item, "event_type"),
                    latency_ms: number(item, "latency_ms"),
                    duplicates: number(item, "duplicates"),
                }
            })
            .collect();
        let next = out.last_evaluated_key().and_then(|key| {
            let get = |name: &str| key.get(name).and_then(|v| v.as_s().ok());
            Some(encode_cursor(get("pk")?, get("sk")?, get("gsi1sk")?))
        });
        Ok(AuditPage { entries, next })
    }
}
