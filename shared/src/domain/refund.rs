//! A refund (or cancel) request, as we remember it from its first arrival to
//! its answer, so that the money moves at the gateway exactly once however
//! often the caller retries (docs/exactly-once.md).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::payment::RefundPlan;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundState {
    /// Claimed; the gateway has not been called.
    Claimed,
    /// The gateway was called: its outcome must be learned from the gateway
    /// before anything is sent again.
    Sent,
    /// Answered; the answer is stored.
    Done,
}

/// `refund` (part or all, `/v1/refunds`, `/v2/payment/refund`) or `cancel`
/// (iyzico's same-day cancel of the whole payment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundOperation {
    Refund,
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    pub request_id: String,
    pub order_id: String,
    /// `stripe` or `iyzico`.
    pub provider: String,
    pub operation: RefundOperation,
    /// What was asked, so a reused request id with other parameters is refused.
    pub params_hash: String,
    pub state: RefundState,
    /// Set when sent.
    #[serde(default)]
    pub plan: Option<RefundPlan>,
    /// When it was sent (epoch ms).
    #[serde(default)]
    pub sent_at_ms: Option<i64>,
}

impl RefundRecord {
    /// A new request. `amount` is what the caller asked (`None`: all that remains).
    pub fn new(
        request_id: &str,
        order_id: &str,
        provider: &str,
        operation: RefundOperation,
        amount: Option<i64>,
    ) -> Self {
        let params = serde_json::json!([provider, operation, order_id, amount]).to_string();
        RefundRecord {
            request_id: request_id.to_string(),
            order_id: order_id.to_string(),
            provider: provider.to_string(),
            operation,
            params_hash: hex::encode(Sha256::digest(params.as_bytes())),
            state: RefundState::Claimed,
            plan: None,
            sent_at_ms: None,
        }
    }

    /// The id of the `payment.refunded` event this request publishes, the
    /// same on every retry.
    pub fn event_id(&self) -> String {
        format!("{}:refund:{}", self.provider, self.request_id)
    }

    /// Stripe's `Idempotency-Key` for this request: a retry is the same
    /// refund at Stripe, whatever our own records say.
    pub fn stripe_idempotency_key(&self) -> String {
        format!("ayaztrade:refund:{}", self.request_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_decide_the_hash() {
        let a = RefundRecord::new("r1", "o1", "stripe", RefundOperation::Refund, Some(100));
        let same = RefundRecord::new("r1", "o1", "stripe", RefundOperation::Refund, Some(100));
        assert_eq!(a.params_hash, same.params_hash);
        for other in [
            RefundRecord::new("r1", "o1", "stripe", RefundOperation::Refund, Some(101)),
            RefundRecord::new("r1", "o1", "stripe", RefundOperation::Refund, None),
            RefundRecord::new("r1", "o2", "stripe", RefundOperation::Refund, Some(100)),
            RefundRecord::new("r1", "o1", "iyzico", RefundOperation::Refund, Some(100)),
            RefundRecord::new("r1", "o1", "iyzico", RefundOperation::Cancel, Some(100)),
        ] {
            assert_ne!(a.params_hash, other.params_hash);
        }
        assert_eq!(a.event_id(), "stripe:refund:r1");
        assert_eq!(a.stripe_idempotency_key(), "ayaztrade:refund:r1");
    }
}
