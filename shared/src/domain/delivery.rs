//! A provider's notification after authentication and normalization: what
//! happened, to which order, and the provider's own identity for it (the
//! dedupe key). Produced by `providers::<p>::webhook`, consumed by `webhooks`.

use crate::domain::marketplace_order::OrderSnapshot;
use crate::domain::payment::PaymentEventKind;
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub provider: &'static str,
    /// The provider's identity of this notification: Stripe `evt_…`, iyzico
    /// reference code, Trendyol package + status + last-modified, …
    pub event_id: String,
    /// The provider's own event type word (for the audit).
    pub event_type: String,
    /// RFC 3339.
    pub occurred_at: String,
    pub effect: Effect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Payment(PaymentNotice),
    /// What a marketplace says about one of its orders (taken in by
    /// `marketplace_orders::OrderIntake`).
    MarketplaceOrder(OrderSnapshot),
    /// Authenticated, but nothing we act on: acknowledged and audited.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentNotice {
    pub order: OrderRef,
    /// The gateway's payment id (PaymentIntent `pi_…`, iyzico paymentId).
    pub provider_ref: String,
    pub kind: PaymentEventKind,
    pub amount: Option<Money>,
}

/// How a notice names its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// Our order id, carried inside a payload signed as a whole (Stripe metadata).
    Id(String),
    /// Only the provider's payment reference: look the order up (GSI1).
    ProviderRef(String),
    /// The provider names an order, but its signature does not bind that name
    /// unambiguously (iyzico V3 concatenates fields without separators, so
    /// characters can be shifted between paymentId and conversationId). Acted
    /// on only if our record of `proof_ref` (the payment id, or the
    /// hosted-checkout token) points to this order.
    Claimed { order_id: String, proof_ref: String },
}

/// Why an authenticated payload could not be understood (answered 400 and
/// audited; the provider will not succeed by retrying it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {provider} payload: {detail}")]
pub struct MalformedPayload {
    pub provider: &'static str,
    pub detail: String,
}

impl MalformedPayload {
    pub fn new(provider: &'static str, detail: impl std::fmt::Display) -> Self {
        MalformedPayload {
            provider,
            detail: detail.to_string(),
        }
    }
}

/// Unix milliseconds → RFC 3339 (UTC); `None` outside years 0–9999, which
/// RFC 3339 cannot write (a provider's timestamp is input, not a given).
pub fn unix_ms_to_rfc3339(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Unix seconds → RFC 3339 (UTC), as `unix_ms_to_rfc3339`.
pub fn unix_to_rfc3339(secs: i64) -> Option<String> {
    unix_ms_to_rfc3339(secs.checked_mul(1000)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_outside_rfc3339_are_none_not_a_panic() {
        assert_eq!(unix_to_rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            unix_ms_to_rfc3339(1_795_700_000_123).as_deref(),
            Some("2026-11-26T13:33:20.123Z")
        );
        for bad in [-100_000_000_000, i64::MIN, i64::MAX, 300_000_000_000] {
            assert_eq!(unix_to_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(unix_ms_to_rfc3339(i64::MIN), None);
    }
}
