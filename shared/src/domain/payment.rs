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
    /// iyzico hosted checkout: the form handed out, to hand out again while it
    /// is open and the order and the shopper's details are unchanged.
    pub hosted_form: Option<HostedForm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostedForm {
    /// SHA-256 of the initialize request (order content, buyer, addresses).
    pub request_hash: String,
    pub payment_page_url: Option<String>,
    pub checkout_form_content: Option<String>,
    /// When iyzico's token expires (epoch ms).
    pub expires_at_ms: i64,
}

/// At most this many payment attempts per order: a new one beyond it is
/// refused (409 `too_many_attempts`), so no caller can grow the list without
/// bound.
pub const MAX_ATTEMPTS: usize = 20;

/// A refund we are about to make: how much, and the order's refunded total
/// before and after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPlan {
    pub amount: i64,
    pub before: i64,
    pub after: i64,
    pub to: PaymentStatus,
    /// The gateway's payment id to refund.
    pub provider_ref: String,
}

/// Checks a refund request against what the order records: never more than
/// what remains refundable, only through the gateway that collected it.
/// `requested` defaults to everything that remains.
pub fn plan_refund(
    order: &crate::domain::Order,
    provider: &str,
    requested: Option<i64>,
) -> Result<RefundPlan, crate::error::Error> {
    use crate::error::Error;
    let conflict = |code: &'static str, message: String| Error::Conflict { code, message };
    let c = &order.collected;
    if !order.payment_status.is_collected() {
        return Err(conflict(
            "order_not_paid",
            format!("order {} is not paid", order.id),
        ));
    }
    if c.provider.as_deref() != Some(provider) {
        return Err(conflict(
            "paid_with_another_provider",
            format!("order {} was not paid through {provider}", order.id),
        ));
    }
    let (Some(paid), Some(provider_ref)) = (c.paid_minor, c.provider_ref.clone()) else {
        return Err(conflict(
            "payment_amount_unknown",
            format!(
                "order {} has no recorded payment amount to refund against",
                order.id
            ),
        ));
    };
    let remaining = paid - c.refunded_minor;
    let amount = requested.unwrap_or(remaining);
    if amount <= 0 {
        return Err(if requested.is_some() {
            Error::validation("amount", "must be positive")
        } else {
            conflict(
                "nothing_to_refund",
                format!("order {} is fully refunded", order.id),
            )
        });
    }
    if amount > remaining {
        return Err(conflict(
            "refund_exceeds_remaining",
            format!(
                "only {remaining} minor units of order {} remain refundable",
                order.id
            ),
        ));
    }
    let after = c.refunded_minor + amount;
    Ok(RefundPlan {
        amount,
        before: c.refunded_minor,
        after,
        to: if after == paid {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        },
        provider_ref,
    })
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

#[cfg(test)]
mod refund_tests {
    use super::*;
    use crate::domain::order::Collected;
    use crate::domain::{Order, OrderContent};
    use crate::money::Currency;
    use proptest::prelude::*;

    fn paid_order(paid: i64, refunded: i64) -> Order {
        Order {
            id: "o".into(),
            content: OrderContent {
                currency: Currency::TRY,
                customer_ref: "c".into(),
                lines: vec![],
                discounts: vec![],
                shipping: 0,
                subtotal: paid,
                discount_total: 0,
                total: paid,
            },
            payment_status: if refunded == 0 {
                PaymentStatus::Paid
            } else {
                PaymentStatus::PartiallyRefunded
            },
            version: 1,
            collected: Collected {
                provider: Some("stripe".into()),
                provider_ref: Some("pi_1".into()),
                paid_minor: Some(paid),
                paid_at: None,
                refunded_minor: refunded,
            },
        }
    }

    #[test]
    fn partial_then_full_then_nothing() {
        let p = plan_refund(&paid_order(10_000, 0), "stripe", Some(2_500)).unwrap();
        assert_eq!(
            (p.before, p.after, p.to),
            (0, 2_500, PaymentStatus::PartiallyRefunded)
        );
        let p = plan_refund(&paid_order(10_000, 2_500), "stripe", None).unwrap();
        assert_eq!((p.amount, p.to), (7_500, PaymentStatus::Refunded));
        let mut done = paid_order(10_000, 10_000);
        done.payment_status = PaymentStatus::Refunded;
        assert_eq!(
            plan_refund(&done, "stripe", None).unwrap_err().code(),
            "nothing_to_refund"
        );
    }

    #[test]
    fn refusals_are_specific() {
        let o = paid_order(10_000, 0);
        assert_eq!(
            plan_refund(&o, "stripe", Some(10_001)).unwrap_err().code(),
            "refund_exceeds_remaining"
        );
        assert_eq!(
            plan_refund(&o, "iyzico", None).unwrap_err().code(),
            "paid_with_another_provider"
        );
        assert_eq!(
            plan_refund(&o, "stripe", Some(0))
                .unwrap_err()
                .http_status(),
            400
        );
        let mut unpaid = o.clone();
        unpaid.payment_status = PaymentStatus::Unpaid;
        assert_eq!(
            plan_refund(&unpaid, "stripe", None).unwrap_err().code(),
            "order_not_paid"
        );
    }

    proptest! {
        #[test]
        fn refunds_never_exceed_what_was_paid(paid in 1i64..10_000_000, asks in prop::collection::vec(proptest::option::of(1i64..5_000_000), 1..12)) {
            let mut order = paid_order(paid, 0);
            for ask in asks {
                if let Ok(plan) = plan_refund(&order, "stripe", ask) {
                    prop_assert!(plan.after <= paid);
                    prop_assert_eq!(plan.after, plan.before + plan.amount);
                    order.collected.refunded_minor = plan.after;
                    order.payment_status = plan.to;
                }
                prop_assert!(order.collected.refunded_minor <= paid);
            }
        }
    }
}
