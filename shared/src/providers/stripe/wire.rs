//! Stripe's JSON shapes, only the fields we read.

use std::collections::HashMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub amount: i64,
    /// Lowercase ISO code.
    pub currency: String,
    /// requires_payment_method, requires_confirmation, requires_action,
    /// processing, requires_capture, canceled, succeeded.
    pub status: String,
    /// Handed to the storefront only; never logged.
    pub client_secret: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

impl PaymentIntent {
    /// Whether the storefront can still complete this intent.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status.as_str(),
            "requires_payment_method" | "requires_confirmation" | "requires_action" | "processing"
        )
    }
}

/// `{"error": {...}}` as documented at docs.stripe.com/api/errors.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorDetail {
    /// api_error, card_error, idempotency_error, invalid_request_error.
    #[serde(rename = "type")]
    pub kind: String,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
    pub param: Option<String>,
}

/// `POST /v1/refunds` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    /// pending, requires_action, succeeded, failed, canceled.
    pub status: String,
    /// Ours: `order_id`, `request_id`.
    #[serde(default)]
    pub metadata: std::collections::HashMap<String, String>,
}

/// A page of `GET /v1/refunds`.
#[derive(Debug, Clone, Deserialize)]
pub struct RefundList {
    pub data: Vec<Refund>,
    #[serde(default)]
    pub has_more: bool,
}

/// A page of `GET /v1/events` (docs/stripe-wire.md S51): each event kept as
/// its raw JSON, so it is normalized by the very code the webhook uses.
#[derive(Debug, Deserialize)]
pub struct EventList {
    pub data: Vec<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    pub has_more: bool,
}

/// A page of `GET /v1/payment_intents?created[…]` with
/// `expand[]=data.latest_charge` (docs/stripe-wire.md S52–S53).
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntentList {
    pub data: Vec<ListedPaymentIntent>,
    #[serde(default)]
    pub has_more: bool,
}

/// A PaymentIntent as listed for reconciliation: what was asked, what was
/// received, and (through its latest charge) what was refunded.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedPaymentIntent {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    pub status: String,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    /// Expanded: the charge object (or `null` before any charge).
    #[serde(default)]
    pub latest_charge: Option<ListedCharge>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListedCharge {
    #[serde(default)]
    pub amount_refunded: i64,
}
