//! A provider's notification after authentication and normalization: what
//! happened, to which order, and the provider's own identity for it (the
//! dedupe key). Produced by `providers::<p>::webhook`, consumed by `webhooks`.

use crate::domain::event::MarketplaceOrderDetail;
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
    MarketplaceOrder(MarketplaceOrderDetail),
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

/// Unix seconds → RFC 3339 (UTC).
pub fn unix_to_rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("UTC timestamps format")
}

/// Unix milliseconds → RFC 3339 (UTC).
pub fn unix_ms_to_rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("UTC timestamps format")
}
