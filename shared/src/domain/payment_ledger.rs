//! What the payment notices have established about an order's money, and the
//! one rule that decides what a notice does to it (docs/exactly-once.md rule 6:
//! facts bind to what they are about).
//!
//! Pure: the store loads the ledger, [`decide`] says what to write and what to
//! publish, and the store writes only if the ledger did not change meanwhile
//! (an optimistic version), else it loads and decides again. Every gateway
//! path that marks an order paid or refunded comes through here: the Stripe
//! and iyzico webhooks, the iyzico callback and our own refunds.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::event::{
    DetailType, DomainEvent, DuplicatePaymentDetail, EventDetail, IntegrationErrorDetail,
    PaymentDetail,
};
use crate::domain::payment::{PaymentEventKind, PaymentStatus};
use crate::money::Money;

pub const REFUND_REQUIRED: &str = "refund_required";
pub const REVIEW: &str = "review";

/// The payment side of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLedger {
    pub order_id: String,
    /// The order's total: the one amount that may mark it paid.
    pub total: Money,
    pub status: PaymentStatus,
    /// The gateway and payment that paid the order.
    pub provider: Option<String>,
    pub provider_ref: Option<String>,
    pub paid_minor: Option<i64>,
    /// When the gateway says the paying payment succeeded (the notice's
    /// `occurredAt`, RFC 3339): the payment date of the order's invoice.
    pub paid_at: Option<String>,
    pub refunded_minor: i64,
    /// Ids of the events applied, so a redelivery after a failed publish is
    /// recognised (and its events published again, with the same ids).
    pub applied: BTreeSet<String>,
    /// Refunds reported before their payment's success (`provider:ref` →
    /// refund). Kept, not applied: the success still applies when it comes,
    /// and the refund right after it.
    pub early_refunds: BTreeMap<String, EarlyRefund>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlyRefund {
    /// Cumulative, as the gateway reports it.
    pub refunded_total: i64,
    pub full: bool,
    pub event_id: String,
    pub occurred_at: String,
    /// Applied when its payment's success arrived.
    #[serde(default)]
    pub applied: bool,
}

impl PaymentLedger {
    /// A ledger with nothing collected yet.
    pub fn unpaid(order_id: &str, total: Money) -> Self {
        PaymentLedger {
            order_id: order_id.to_string(),
            total,
            status: PaymentStatus::Unpaid,
            provider: None,
            provider_ref: None,
            paid_minor: None,
            paid_at: None,
            refunded_minor: 0,
            applied: BTreeSet::new(),
            early_refunds: BTreeMap::new(),
        }
    }

    /// Whether `provider`/`provider_ref` is the payment that paid the order.
    pub fn paid_by(&self, provider: &str, provider_ref: &str) -> bool {
        self.status.is_collected()
            && self.provider.as_deref() == Some(provider)
            && self.provider_ref.as_deref() == Some(provider_ref)
    }

    fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.total.currency)
    }
}

/// A notice about one payment, after authentication.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub provider: &'a str,
    /// The gateway's payment id (PaymentIntent, iyzico paymentId).
    pub provider_ref: &'a str,
    pub kind: &'a PaymentEventKind,
    /// On success: what was collected, from a source we trust (a signed
    /// notice, a signed retrieve, or the amount we initialised for that
    /// checkout); `None` when no such source exists. Refunds: the cumulative
    /// refunded amount. Disputes: the disputed amount.
    pub amount: Option<Money>,
    /// `provider:<provider's event id>`: the id of every event it publishes.
    pub event_id: &'a str,
    pub occurred_at: &'a str,
}

/// What a notice does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The ledger to store, if it changes.
    pub write: Option<PaymentLedger>,
    /// Published after the write.
    pub events: Vec<DomainEvent>,
    /// For the audit and the answer: `applied`, `stale`, `held`,
    /// `amount_mismatch`, `amount_unverified`, `duplicate_payment`,
    /// `other_payment`, `refund_exceeds_paid`, `unmatched`.
    pub outcome: &'static str,
}

impl Decision {
    fn nothing(outcome: &'static str) -> Self {
        Decision {
            write: None,
            events: Vec::new(),
            outcome,
        }
    }

    fn publish(outcome: &'static str, events: Vec<DomainEvent>) -> Self {
        Decision {
            write: None,
            events,
            outcome,
        }
    }
}

/// Decides what `notice` does to `ledger`.
pub fn decide(ledger: &PaymentLedger, notice: &Notice<'_>) -> Decision {
    if ledger.applied.contains(notice.event_id) {
        // Applied before, but its publish may have failed: publish again.
        return Decision::publish("applied", republish(ledger, notice));
    }
    match notice.kind {
        PaymentEventKind::Succeeded => succeeded(ledger, notice),
        PaymentEventKind::Failed { .. } => {
            if ledger.status.is_collected() {
                Decision::nothing("stale")
            } else {
                Decision::publish("applied", vec![payment_event(ledger, notice)])
            }
        }
        PaymentEventKind::Refunded {
            refunded_total,
            full,
        } => refunded(ledger, notice, *refunded_total, *full),
        PaymentEventKind::Disputed { .. } => {
            if ledger.paid_by(notice.provider, notice.provider_ref) {
                Decision::publish("applied", vec![payment_event(ledger, notice)])
            } else {
                let error = integration_error(
                    ledger,
                    notice,
                    "dispute_unmatched",
                    None,
                    REVIEW,
                    "a dispute was opened on a payment that did not pay this order",
                );
                Decision::publish("unmatched", vec![error])
            }
        }
    }
}

fn succeeded(ledger: &PaymentLedger, notice: &Notice<'_>) -> Decision {
    if ledger.status.is_collected() {
        if ledger.paid_by(notice.provider, notice.provider_ref) {
            return Decision::nothing("stale");
        }
        return Decision::publish("duplicate_payment", duplicate(ledger, notice));
    }
    let Some(collected) = notice.amount else {
        let error = integration_error(
            ledger,
            notice,
            "amount_unverified",
            Some(ledger.total),
            REFUND_REQUIRED,
            "the gateway reported a payment whose amount we cannot verify; the order was not marked paid",
        );
        return Decision::publish("amount_unverified", vec![error]);
    };
    if collected != ledger.total {
        let error = integration_error(
            ledger,
            notice,
            "amount_mismatch",
            Some(ledger.total),
            REFUND_REQUIRED,
            "the gateway collected an amount other than the order total; the order was not marked paid",
        );
        return Decision::publish("amount_mismatch", vec![error]);
    }
    let mut next = ledger.clone();
    next.status = PaymentStatus::Paid;
    next.provider = Some(notice.provider.to_string());
    next.provider_ref = Some(notice.provider_ref.to_string());
    next.paid_minor = Some(collected.minor);
    next.paid_at = Some(notice.occurred_at.to_string());
    next.applied.insert(notice.event_id.to_string());
    let mut events = vec![payment_event(&next, notice)];
    // A refund of this payment that came before its success applies now.
    let key = payment_key(notice.provider, notice.provider_ref);
    if let Some(early) = ledger.early_refunds.get(&key).filter(|e| !e.applied) {
        if early.refunded_total <= collected.minor {
            next.refunded_minor = early.refunded_total;
            next.status = refunded_status(early.full, early.refunded_total, collected.minor);
            next.applied.insert(early.event_id.clone());
            if let Some(e) = next.early_refunds.get_mut(&key) {
                e.applied = true;
            }
            events.push(early_refund_event(&next, notice, early));
        } else {
            let mut error = integration_error(
                &next,
                notice,
                "refund_exceeds_paid",
                Some(collected),
                REVIEW,
                "the gateway reported more refunded than this payment collected",
            );
            // Its own id: it goes out beside this notice's payment.completed.
            error.event_id = format!("{}:refund_exceeds_paid", notice.event_id);
            events.push(error);
        }
    }
    Decision {
        write: Some(next),
        events,
        outcome: "applied",
    }
}

fn refunded(
    ledger: &PaymentLedger,
    notice: &Notice<'_>,
    refunded_total: i64,
    full: bool,
) -> Decision {
    if ledger.paid_by(notice.provider, notice.provider_ref) {
        let paid = ledger.paid_minor.unwrap_or_default();
        if refunded_total <= ledger.refunded_minor {
            return Decision::nothing("stale");
        }
        if refunded_total > paid {
            let error = integration_error(
                ledger,
                notice,
                "refund_exceeds_paid",
                ledger.paid_minor.map(|p| ledger.money(p)),
                REVIEW,
                "the gateway reported more refunded than the order's payment collected",
            );
            return Decision::publish("refund_exceeds_paid", vec![error]);
        }
        let mut next = ledger.clone();
        next.refunded_minor = refunded_total;
        next.status = refunded_status(full, refunded_total, paid);
        next.applied.insert(notice.event_id.to_string());
        let events = vec![payment_event(&next, notice)];
        return Decision {
            write: Some(next),
            events,
            outcome: "applied",
        };
    }
    if ledger.status.is_collected() {
        // A refund of another payment (a duplicate being given back): it
        // does not touch the money that paid this order.
        return Decision::nothing("other_payment");
    }
    // Unpaid: never moved by a refund. Kept for the success that may follow.
    let key = payment_key(notice.provider, notice.provider_ref);
    if ledger
        .early_refunds
        .get(&key)
        .is_some_and(|e| e.refunded_total >= refunded_total)
    {
        return Decision::nothing("stale");
    }
    let mut next = ledger.clone();
    next.early_refunds.insert(
        key,
        EarlyRefund {
            refunded_total,
            full,
            event_id: notice.event_id.to_string(),
            occurred_at: notice.occurred_at.to_string(),
            applied: false,
        },
    );
    Decision {
        write: Some(next),
        events: Vec::new(),
        outcome: "held",
    }
}

/// The events of a notice that was applied before.
fn republish(ledger: &PaymentLedger, notice: &Notice<'_>) -> Vec<DomainEvent> {
    let mut events = Vec::new();
    if matches!(notice.kind, PaymentEventKind::Succeeded) {
        // As first published: the status right after the success.
        let mut then = ledger.clone();
        then.status = PaymentStatus::Paid;
        events.push(payment_event(&then, notice));
        let key = payment_key(notice.provider, notice.provider_ref);
        if let Some(early) = ledger.early_refunds.get(&key).filter(|e| e.applied) {
            events.push(early_refund_event(ledger, notice, early));
        }
    } else {
        events.push(payment_event(ledger, notice));
    }
    events
}

fn refunded_status(full: bool, refunded: i64, paid: i64) -> PaymentStatus {
    if full || refunded >= paid {
        PaymentStatus::Refunded
    } else {
        PaymentStatus::PartiallyRefunded
    }
}

pub fn payment_key(provider: &str, provider_ref: &str) -> String {
    format!("{provider}:{provider_ref}")
}

fn payment_event(ledger: &PaymentLedger, notice: &Notice<'_>) -> DomainEvent {
    let (detail_type, failure_code, failure_message, dispute_reason) = match notice.kind {
        PaymentEventKind::Succeeded => (DetailType::PaymentCompleted, None, None, None),
        PaymentEventKind::Failed { code, message } => (
            DetailType::PaymentFailed,
            code.clone(),
            message.clone(),
            None,
        ),
        PaymentEventKind::Refunded { .. } => (DetailType::PaymentRefunded, None, None, None),
        PaymentEventKind::Disputed { reason } => {
            (DetailType::PaymentDisputed, None, None, reason.clone())
        }
    };
    DomainEvent {
        detail_type,
        event_id: notice.event_id.to_string(),
        occurred_at: notice.occurred_at.to_string(),
        detail: EventDetail::Payment(PaymentDetail {
            order_id: ledger.order_id.clone(),
            provider: notice.provider.to_string(),
            provider_ref: notice.provider_ref.to_string(),
            amount: notice.amount,
            payment_status: ledger.status.as_str().to_string(),
            failure_code,
            failure_message,
            dispute_reason,
        }),
    }
}

fn early_refund_event(
    ledger: &PaymentLedger,
    notice: &Notice<'_>,
    early: &EarlyRefund,
) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::PaymentRefunded,
        event_id: early.event_id.clone(),
        occurred_at: early.occurred_at.clone(),
        detail: EventDetail::Payment(PaymentDetail {
            order_id: ledger.order_id.clone(),
            provider: notice.provider.to_string(),
            provider_ref: notice.provider_ref.to_string(),
            amount: Some(ledger.money(early.refunded_total)),
            payment_status: ledger.status.as_str().to_string(),
            failure_code: None,
            failure_message: None,
            dispute_reason: None,
        }),
    }
}

fn duplicate(ledger: &PaymentLedger, notice: &Notice<'_>) -> Vec<DomainEvent> {
    let paid_by_provider = ledger.provider.clone().unwrap_or_default();
    let paid_by_ref = ledger.provider_ref.clone().unwrap_or_default();
    let duplicate = DomainEvent {
        detail_type: DetailType::PaymentDuplicate,
        event_id: format!("{}:duplicate", notice.event_id),
        occurred_at: notice.occurred_at.to_string(),
        detail: EventDetail::DuplicatePayment(DuplicatePaymentDetail {
            order_id: ledger.order_id.clone(),
            provider: notice.provider.to_string(),
            provider_ref: notice.provider_ref.to_string(),
            amount: notice.amount,
            paid_by_provider: paid_by_provider.clone(),
            paid_by_ref: paid_by_ref.clone(),
            paid_amount: ledger.paid_minor.map(|p| ledger.money(p)),
            action: REFUND_REQUIRED.into(),
        }),
    };
    let mut error = integration_error(
        ledger,
        notice,
        "duplicate_payment",
        None,
        REFUND_REQUIRED,
        &format!(
            "a second payment was collected for an order already paid by {paid_by_provider} payment {paid_by_ref}"
        ),
    );
    error.event_id = format!("{}:{REFUND_REQUIRED}", notice.event_id);
    vec![duplicate, error]
}

fn integration_error(
    ledger: &PaymentLedger,
    notice: &Notice<'_>,
    kind: &str,
    expected: Option<Money>,
    action: &str,
    message: &str,
) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::IntegrationError,
        event_id: notice.event_id.to_string(),
        occurred_at: notice.occurred_at.to_string(),
        detail: EventDetail::IntegrationError(IntegrationErrorDetail {
            kind: kind.into(),
            provider: notice.provider.to_string(),
            order_id: Some(ledger.order_id.clone()),
            provider_ref: Some(notice.provider_ref.to_string()),
            expected,
            received: notice.amount,
            message: message.into(),
            action: Some(action.into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;

    const TOTAL: i64 = 10_000;

    fn ledger() -> PaymentLedger {
        PaymentLedger::unpaid("ord-1", Money::new(TOTAL, Currency::TRY))
    }

    fn try_(minor: i64) -> Money {
        Money::new(minor, Currency::TRY)
    }

    fn notice<'a>(
        provider: &'a str,
        r: &'a str,
        kind: &'a PaymentEventKind,
        amount: Option<Money>,
        id: &'a str,
    ) -> Notice<'a> {
        Notice {
            provider,
            provider_ref: r,
            kind,
            amount,
            event_id: id,
            occurred_at: "2026-12-02T10:00:00Z",
        }
    }

    fn apply(l: &PaymentLedger, n: &Notice<'_>) -> (PaymentLedger, Decision) {
        let d = decide(l, n);
        (d.write.clone().unwrap_or_else(|| l.clone()), d)
    }

    fn types(d: &Decision) -> Vec<&'static str> {
        d.events.iter().map(|e| e.detail_type.as_str()).collect()
    }

    #[test]
    fn a_success_for_the_total_marks_paid_with_the_amount() {
        let ok = PaymentEventKind::Succeeded;
        let (l, d) = apply(
            &ledger(),
            &notice("iyzico", "P1", &ok, Some(try_(TOTAL)), "iyzico:P1:SUCCESS"),
        );
        assert_eq!(d.outcome, "applied");
        assert_eq!(types(&d), ["payment.completed"]);
        assert_eq!((l.status, l.paid_minor), (PaymentStatus::Paid, Some(TOTAL)));
    }

    #[test]
    fn another_amount_or_an_unknown_one_leaves_the_order_unpaid_and_asks_for_a_refund() {
        let ok = PaymentEventKind::Succeeded;
        for amount in [
            Some(try_(1_000)),
            Some(Money::new(TOTAL, Currency::USD)),
            None,
        ] {
            let d = decide(&ledger(), &notice("iyzico", "P1", &ok, amount, "e1"));
            assert!(d.write.is_none());
            assert_eq!(types(&d), ["integration.error"]);
            let json = serde_json::to_value(&d.events[0]).unwrap();
            assert_eq!(json["action"], "refund_required");
        }
    }

    #[test]
    fn a_second_payment_is_a_loud_duplicate() {
        let ok = PaymentEventKind::Succeeded;
        let (paid, _) = apply(
            &ledger(),
            &notice("stripe", "pi_1", &ok, Some(try_(TOTAL)), "stripe:evt_1"),
        );
        let d = decide(
            &paid,
            &notice("iyzico", "P2", &ok, Some(try_(TOTAL)), "iyzico:P2:SUCCESS"),
        );
        assert_eq!(d.outcome, "duplicate_payment");
        assert_eq!(types(&d), ["payment.duplicate", "integration.error"]);
        let json = serde_json::to_value(&d.events[0]).unwrap();
        assert_eq!(json["paidByRef"], "pi_1");
        assert_eq!(json["providerRef"], "P2");
        // The same payment again is merely stale.
        let d = decide(
            &paid,
            &notice("stripe", "pi_1", &ok, Some(try_(TOTAL)), "stripe:evt_9"),
        );
        assert_eq!((d.outcome, d.events.len()), ("stale", 0));
    }

    #[test]
    fn a_refund_before_its_success_is_held_then_applied_after_it() {
        let refund = PaymentEventKind::Refunded {
            refunded_total: 2_500,
            full: false,
        };
        let ok = PaymentEventKind::Succeeded;
        let (held, d) = apply(
            &ledger(),
            &notice("stripe", "pi_1", &refund, Some(try_(2_500)), "stripe:evt_r"),
        );
        assert_eq!((d.outcome, held.status), ("held", PaymentStatus::Unpaid));
        let (l, d) = apply(
            &held,
            &notice("stripe", "pi_1", &ok, Some(try_(TOTAL)), "stripe:evt_s"),
        );
        assert_eq!(types(&d), ["payment.completed", "payment.refunded"]);
        assert_eq!(
            (l.status, l.paid_minor, l.refunded_minor),
            (PaymentStatus::PartiallyRefunded, Some(TOTAL), 2_500)
        );
        // A redelivery of the success publishes both again, same ids.
        let again = decide(
            &l,
            &notice("stripe", "pi_1", &ok, Some(try_(TOTAL)), "stripe:evt_s"),
        );
        assert_eq!(again.events, d.events);
    }

    #[test]
    fn a_refund_of_another_payment_does_not_touch_the_order() {
        let ok = PaymentEventKind::Succeeded;
        let (paid, _) = apply(
            &ledger(),
            &notice("iyzico", "P1", &ok, Some(try_(TOTAL)), "iyzico:P1:SUCCESS"),
        );
        let refund = PaymentEventKind::Refunded {
            refunded_total: TOTAL,
            full: true,
        };
        let d = decide(
            &paid,
            &notice(
                "stripe",
                "pi_dup",
                &refund,
                Some(try_(TOTAL)),
                "stripe:evt_r",
            ),
        );
        assert_eq!((d.outcome, d.write.is_none()), ("other_payment", true));
    }

    /// The notices of the model: two payments, one per gateway.
    #[derive(Debug, Clone)]
    enum Step {
        Success { pay: usize, amount: i64 },
        Failure { pay: usize },
        Refund { pay: usize, total: i64, full: bool },
        Dispute { pay: usize },
    }

    const PAYMENTS: [(&str, &str); 2] = [("stripe", "pi_A"), ("iyzico", "P_B")];

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..2usize, prop_oneof![Just(TOTAL), 1..20_000i64])
                .prop_map(|(pay, amount)| Step::Success { pay, amount }),
            (0..2usize).prop_map(|pay| Step::Failure { pay }),
            (0..2usize, 1..12_000i64, any::<bool>()).prop_map(|(pay, total, full)| Step::Refund {
                pay,
                total,
                full
            }),
            (0..2usize).prop_map(|pay| Step::Dispute { pay }),
        ]
    }

    proptest! {
        /// Random interleavings of notices from both gateways, with
        /// redeliveries (the same event id again) and reorderings: the
        /// money stays consistent whatever the order.
        #[test]
        fn money_stays_consistent_under_any_interleaving(
            steps in prop::collection::vec((step(), 0..4u8), 1..40)
        ) {
            let mut l = ledger();
            let mut completed_ids = BTreeSet::new();
            let mut seen: Vec<(Step, String)> = Vec::new();
            for (i, (s, redeliver)) in steps.into_iter().enumerate() {
                // One in four steps redelivers an earlier notice unchanged.
                let (s, id) = match (redeliver, seen.is_empty()) {
                    (0, false) => seen[i % seen.len()].clone(),
                    _ => (s.clone(), format!("e{i}")),
                };
                seen.push((s.clone(), id.clone()));
                let (kind, pay, amount) = match &s {
                    Step::Success { pay, amount } => (PaymentEventKind::Succeeded, *pay, Some(try_(*amount))),
                    Step::Failure { pay } => (PaymentEventKind::Failed { code: None, message: None }, *pay, None),
                    Step::Refund { pay, total, full } => (PaymentEventKind::Refunded { refunded_total: *total, full: *full }, *pay, Some(try_(*total))),
                    Step::Dispute { pay } => (PaymentEventKind::Disputed { reason: None }, *pay, None),
                };
                let (provider, r) = PAYMENTS[pay];
                let d = decide(&l, &notice(provider, r, &kind, amount, &id));
                for e in &d.events {
                    if e.detail_type == DetailType::PaymentCompleted {
                        completed_ids.insert(e.event_id.clone());
                    }
                }
                if let Some(next) = d.write { l = next; }
                // Never refunded more than paid; never a refund on an unpaid order.
                prop_assert!(l.refunded_minor <= l.paid_minor.unwrap_or(0));
                if l.status == PaymentStatus::Unpaid {
                    prop_assert_eq!(l.refunded_minor, 0);
                    prop_assert!(l.paid_minor.is_none());
                } else {
                    // Never paid without the paid amount, and only the total.
                    prop_assert_eq!(l.paid_minor, Some(TOTAL));
                    prop_assert!(l.provider_ref.is_some());
                }
                // Never two payment.completed with different event ids.
                prop_assert!(completed_ids.len() <= 1);
            }
        }
    }
}
