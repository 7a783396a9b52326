//! Payment state of an order and the attempts made to collect it.
//!
//! The order's payment status only moves forward: providers deliver events late,
//! twice and out of order, so an older or weaker event must never undo a newer
//! state (a `payment_failed` arriving after `succeeded` changes nothing).

use serde::{Deserialize, Serialize};

use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing collected yet (attempts may be in flight or may have failed).
    Unpaid,
    Paid,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    fn rank(self) -> u8 {
        match self {
            PaymentStatus::Unpaid => 0,
            PaymentStatus::Paid => 1,
            PaymentStatus::PartiallyRefunded => 2,
            PaymentStatus::Refunded => 3,
        }
    }

    /// The status after an event that says `next`, or `None` if the event is
    /// older or weaker than what we already know and must change nothing.
    pub fn advance(self, next: PaymentStatus) -> Option<PaymentStatus> {
        // A partial refund after another partial refund is still progress.
        let repeatable = next == PaymentStatus::PartiallyRefunded && self == next;
        (next.rank() > self.rank() || repeatable).then_some(next)
    }

    /// Whether money has been collected: such an order's content is frozen and
    /// no new payment may be started for it.
    pub fn is_collected(self) -> bool {
        self != PaymentStatus::Unpaid
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub const ALL: [PaymentStatus; 4] = [
        PaymentStatus::Unpaid,
        PaymentStatus::Paid,
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
    ];

    /// The statuses from which `to` is a step forward: the condition of the
    /// atomic update that applies a payment event.
    pub fn predecessors(to: PaymentStatus) -> Vec<PaymentStatus> {
        Self::ALL
            .into_iter()
            .filter(|s| s.advance(to) == Some(to))
            .collect()
    }
}

/// What a gateway event says happened to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEventKind {
    Succeeded,
    Failed {
        code: Option<String>,
        message: Option<String>,
    },
    /// `refunded_total` is cumulative (Stripe's `amount_refunded`), so a late
    /// partial refund can never lower it.
    Refunded {
        refunded_total: i64,
        full: bool,
    },
    Disputed {
        reason: Option<String>,
    },
}

impl PaymentEventKind {
    /// The order status this event moves to, if it moves the order at all.
    pub fn target_status(&self) -> Option<PaymentStatus> {
        match self {
            PaymentEventKind::Succeeded => Some(PaymentStatus::Paid),
            PaymentEventKind::Refunded { full: true, .. } => Some(PaymentStatus::Refunded),
            PaymentEventKind::Refunded { full: false, .. } => {
                Some(PaymentStatus::PartiallyRefunded)
            }
            PaymentEventKind::Failed { .. } | PaymentEventKind::Disputed { .. } => None,
        }
    }
}

/// One try at collecting an order's total through a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentAttempt {
    pub order_id: String,
    /// `stripe`, later `iyzico`.
    pub provider: String,
    /// The gateway's id for the attempt (Stripe `pi_…`).
    pub provider_ref: String,
    pub amount: Money,
    /// The gateway's own status word (Stripe `requires_payment_method`, …).
    pub provider_status: String,
    pub idempotency_key: String,
    /// RFC 3339.
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::*;

    #[test]
    fn status_only_moves_forward() {
        assert_eq!(Unpaid.advance(Paid), Some(Paid));
        assert_eq!(Paid.advance(Unpaid), None);
        assert_eq!(Paid.advance(Paid), None);
        assert_eq!(Refunded.advance(PartiallyRefunded), None);
        assert_eq!(
            PartiallyRefunded.advance(PartiallyRefunded),
            Some(PartiallyRefunded)
        );
        assert_eq!(PartiallyRefunded.advance(Refunded), Some(Refunded));
    }

    #[test]
    fn predecessors_follow_advance() {
        use super::PaymentStatus;
        assert_eq!(PaymentStatus::predecessors(Paid), vec![Unpaid]);
        assert_eq!(
            PaymentStatus::predecessors(PartiallyRefunded),
            vec![Unpaid, Paid, PartiallyRefunded]
        );
        assert_eq!(
            PaymentStatus::predecessors(Refunded),
            vec![Unpaid, Paid, PartiallyRefunded]
        );
        assert!(PaymentStatus::predecessors(Unpaid).is_empty());
    }

    #[test]
    fn collected_orders_are_frozen() {
        assert!(!Unpaid.is_collected());
        for s in [Paid, PartiallyRefunded, Refunded] {
            assert!(s.is_collected());
            assert_eq!(super::PaymentStatus::parse(s.as_str()), Some(s));
        }
    }
}
