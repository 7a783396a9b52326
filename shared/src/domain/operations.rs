//! What the `operations` function decides, without I/O: how a provider's
//! health check reads, when a cached one is still good, what a sync request
//! may ask for, and how a webhook-audit cursor is spelled.

use serde::{Deserialize, Serialize};

use crate::domain::marketplace::Marketplace;
use crate::error::{Error, ProviderFailure};

/// Every provider this integration calls, in the order health lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Stripe,
    Iyzico,
    Trendyol,
    Hepsiburada,
    Aras,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Stripe,
        Provider::Iyzico,
        Provider::Trendyol,
        Provider::Hepsiburada,
        Provider::Aras,
    ];

    /// The name in routes, keys and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Iyzico => "iyzico",
            Provider::Trendyol => "trendyol",
            Provider::Hepsiburada => "hepsiburada",
            Provider::Aras => "aras",
        }
    }

    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Unhealthy,
    /// No credentials for it in this deployment: nothing was called.
    Unconfigured,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
            HealthStatus::Unconfigured => "unconfigured",
        }
    }

    pub fn parse(text: &str) -> Option<HealthStatus> {
        [
            HealthStatus::Healthy,
            HealthStatus::Unhealthy,
            HealthStatus::Unconfigured,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One provider's health as answered (and cached). Never a secret, never
/// the provider's body: a status, how long the check took, when, and our
/// own error code (plus the provider's short code or HTTP status, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    pub provider: &'static str,
    pub status: HealthStatus,
    /// Time the check took; absent for `unconfigured`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// When the provider was last asked (RFC 3339).
    pub checked_at: String,
    #[serde(skip)]
    pub checked_ms: i64,
    /// `auth_failed`, `unavailable`, `rate_limited`, `rejected`, `internal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The provider's own short code (iyzico `errorCode`, an HTTP status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_code: Option<String>,
    /// Answered from the cache (no provider call this time).
    pub cached: bool,
}

/// Our error code for a failed check, and the provider's short code.
/// A 401/403 (or iyzico's 1000) is `auth_failed`; 5xx, timeouts, refused
/// connections and unreadable answers are `unavailable`.
pub fn failure_code(error: &Error) -> (&'static str, Option<String>) {
    match error {
        Error::Provider(p) => {
            let code = match p.failure {
                ProviderFailure::Unauthorized => "auth_failed",
                ProviderFailure::Unavailable => "unavailable",
                ProviderFailure::RateLimited => "rate_limited",
                ProviderFailure::Rejected
                | ProviderFailure::Declined
                | ProviderFailure::Conflict => "rejected",
            };
            // Short codes only: never a message (it may quote the answer).
            let provider_code = p.provider_code.clone().filter(|c| {
                c.len() <= 32
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            (code, provider_code)
        }
        _ => ("internal", None),
    }
}

/// The status and codes of one check: `None` = the provider is not configured.
pub fn judge(
    outcome: Option<&Result<(), Error>>,
) -> (HealthStatus, Option<String>, Option<String>) {
    match outcome {
        None => (HealthStatus::Unconfigured, None, None),
        Some(Ok(())) => (HealthStatus::Healthy, None, None),
        Some(Err(e)) => {
            let (code, provider_code) = failure_code(e);
            (
                HealthStatus::Unhealthy,
                Some(code.to_string()),
                provider_code,
            )
        }
    }
}

/// A cached check is answered while younger than `ttl_ms` (the table's TTL
/// deletes late, so the age is checked here).
pub fn is_fresh(checked_ms: i64, now_ms: i64, ttl_ms: i64) -> bool {
    now_ms >= checked_ms && now_ms - checked_ms < ttl_ms
}

// ---- sync requests -----------------------------------------------------------

/// What `POST /integrations/{marketplace}/sync` may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncKind {
    /// A catalog plan (product-sync).
    Catalog,
    /// An order poll (order-poll).
    Orders,
}

/// The body of a sync request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    pub kind: SyncKind,
    #[serde(default)]
    pub skus: Option<Vec<String>>,
}

/// SKUs one request may name (each is one conditional write).
pub const MAX_SYNC_SKUS: usize = 100;

/// The request as validated: SKUs deduplicated and sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    pub marketplace: Marketplace,
    pub kind: SyncKind,
    pub skus: Vec<String>,
}

pub fn validate_sync(marketplace: &str, body: SyncBody) -> Result<SyncRequest, Error> {
    let marketplace = Marketplace::parse(marketplace).ok_or_else(|| Error::NotFound {
        what: "marketplace",
        id: marketplace.chars().take(40).collect(),
    })?;
    let mut skus = body.skus.unwrap_or_default();
    if body.kind == SyncKind::Orders && !skus.is_empty() {
        return Err(Error::validation(
            "skus",
            "an order poll reads every changed order; skus are for kind catalog",
        ));
    }
    if skus.len() > MAX_SYNC_SKUS {
        return Err(Error::validation(
            "skus",
            format!("at most {MAX_SYNC_SKUS} SKUs per request"),
        ));
    }
    let problems: Vec<_> = skus
        .iter()
        .enumerate()
        .filter_map(|(i, sku)| {
            crate::domain::product::validate_sku(sku, &format!("skus[{i}]")).err()
        })
        .collect();
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    skus.sort();
    skus.dedup();
    Ok(SyncRequest {
        marketplace,
        kind: body.kind,
        skus,
    })
}

/// The `detail` of a `sync.requested` event as product-sync and order-poll
/// read it from their EventBridge input (docs/events.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequestedDetail {
    pub request_id: String,
    pub marketplace: Marketplace,
    pub kind: SyncKind,
    /// SKUs put back on the catalog work list before publishing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<String>,
}

/// The `sync.requested` detail in a Lambda input, if it is one (a schedule
/// or a manual invoke is not: it runs as before).
pub fn sync_requested(input: &serde_json::Value) -> Option<SyncRequestedDetail> {
    if input.get("detail-type")?.as_str()? != "sync.requested"
        || input.get("source")?.as_str()? != crate::domain::event::EVENT_SOURCE
    {
        return None;
    }
    serde_json::from_value(input.get("detail")?.clone()).ok()
}

// ---- webhook audit -------------------------------------------------------------

/// The webhook providers whose deliveries are audited.
pub const AUDITED_PROVIDERS: [&str; 4] = ["stripe", "iyzico", "trendyol", "hepsiburada"];

/// `YYYY-MM-DD`, a real calendar day.
pub fn validate_day(day: &str) -> Result<(), Error> {
    let midnight = format!("{day}T00:00:00Z");
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(&midnight, rfc3339) {
        Ok(_) if day.len() == 10 => Ok(()),
        _ => Err(Error::validation("day", "a date as YYYY-MM-DD")),
    }
}

/// Where the next page of a day's audit starts: the last item's keys, as an
/// opaque token (hex of `pk\nsk\ngsi1sk`).
pub fn encode_cursor(pk: &str, sk: &str, gsi1sk: &str) -> String {
    hex::encode(format!("{pk}\n{sk}\n{gsi1sk}"))
}

pub fn decode_cursor(cursor: &str) -> Result<(String, String, String), Error> {
    let bad = || Error::validation("cursor", "not a cursor this route gave out");
    let bytes = hex::decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(pk), Some(sk), Some(g)) if !pk.is_empty() && !sk.is_empty() && !g.is_empty() => {
            Ok((pk.into(), sk.into(), g.into()))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ProviderError;

    fn provider_error(failure: ProviderFailure, code: Option<&str>) -> Error {
        Error::Provider(ProviderError {
            provider: "trendyol",
            failure,
            provider_code: code.map(String::from),
            decline_code: None,
            message: "body text that must never be shown".into(),
            request_id: None,
        })
    }

    #[test]
    fn outcomes_map_to_statuses_and_codes() {
        assert_eq!(judge(None).0, HealthStatus::Unconfigured);
        assert_eq!(judge(Some(&Ok(()))), (HealthStatus::Healthy, None, None));
        let auth = provider_error(ProviderFailure::Unauthorized, Some("401"));
        assert_eq!(
            judge(Some(&Err(auth))),
            (
                HealthStatus::Unhealthy,
                Some("auth_failed".into()),
                Some("401".into())
            )
        );
        let down = provider_error(ProviderFailure::Unavailable, None);
        assert_eq!(judge(Some(&Err(down))).1.as_deref(), Some("unavailable"));
        let limited = provider_error(ProviderFailure::RateLimited, Some("429"));
        assert_eq!(
            judge(Some(&Err(limited))).1.as_deref(),
            Some("rate_limited")
        );
        let odd = provider_error(
            ProviderFailure::Rejected,
            Some("a long message, not a code"),
        );
        assert_eq!(judge(Some(&Err(odd))).2, None, "only short codes are shown");
        assert_eq!(
            judge(Some(&Err(Error::Config(
                "STRIPE_SECRET_KEY=sk_live_x".into()
            ))))
            .1
            .as_deref(),
            Some("internal")
        );
    }

    #[test]
    fn a_cached_check_is_fresh_only_inside_its_window() {
        assert!(is_fresh(1_000, 1_000, 60_000));
        assert!(is_fresh(1_000, 60_999, 60_000));
        assert!(!is_fresh(1_000, 61_000, 60_000));
        assert!(
            !is_fresh(5_000, 1_000, 60_000),
            "a check from the future is not trusted"
        );
    }

    #[test]
    fn sync_requests_are_validated() {
        let body = |kind, skus: Option<Vec<&str>>| SyncBody {
            kind,
            skus: skus.map(|s| s.into_iter().map(String::from).collect()),
        };
        let r = validate_sync(
            "trendyol",
            body(SyncKind::Catalog, Some(vec!["B", "A", "B"])),
        )
        .unwrap();
        assert_eq!(r.skus, vec!["A", "B"]);
        assert_eq!(r.marketplace, Marketplace::Trendyol);
        assert!(matches!(
            validate_sync("n11", body(SyncKind::Orders, None)),
            Err(Error::NotFound { .. })
        ));
        assert!(validate_sync("hepsiburada", body(SyncKind::Orders, Some(vec!["A"]))).is_err());
        let many: Vec<String> = (0..=MAX_SYNC_SKUS).map(|i| format!("S{i}")).collect();
        assert!(validate_sync(
            "trendyol",
            SyncBody {
                kind: SyncKind::Catalog,
                skus: Some(many)
            }
        )
        .is_err());
    }

    #[test]
    fn the_event_detail_is_read_only_from_a_sync_requested_event() {
        let detail = SyncRequestedDetail {
            request_id: "r1".into(),
            marketplace: Marketplace::Hepsiburada,
            kind: SyncKind::Orders,
            skus: vec![],
        };
        let event = serde_json::json!({
            "detail-type": "sync.requested",
            "source": "ayaztrade.integrations",
            "detail": detail,
        });
        assert_eq!(sync_requested(&event), Some(detail));
        let schedule = serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(sync_requested(&schedule), None);
        assert_eq!(sync_requested(&serde_json::json!({})), None);
    }

    #[test]
    fn days_and_cursors() {
        assert!(validate_day("2026-12-02").is_ok());
        assert!(validate_day("2026-02-30").is_err());
        assert!(validate_day("2026-12-2").is_err());
        let c = encode_cursor(
            "IDEMP#webhook:stripe#evt_1",
            "IDEMP",
            "2026-12-02T10:00:00Z#evt_1",
        );
        assert_eq!(
            decode_cursor(&c).unwrap(),
            (
                "IDEMP#webhook:stripe#evt_1".into(),
                "IDEMP".into(),
                "2026-12-02T10:00:00Z#evt_1".into()
            )
        );
        assert!(decode_cursor("zz").is_err());
        assert!(decode_cursor(&hex::encode("only-one")).is_err());
    }
}
