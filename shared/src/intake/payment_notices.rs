//! Applying a normalized provider notification (a `Delivery`): move the
//! order's payment state forward and publish the domain event, exactly once
//! per provider event identity. Shared by the webhook function and by the
//! iyzico hosted-checkout callback, so a payment reported through both is
//! applied by whichever arrives first and is a duplicate for the other.

use sha2::{Digest, Sha256};

use crate::api::idempotency::{run_once, AuditInfo, Claim, Disposition, IdempotencyStore, Once};
use crate::aws::idempotency::AUDIT_RETENTION_SECS;
use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::domain::delivery::{unix_ms_to_rfc3339, Delivery, Effect, OrderRef, PaymentNotice};
use crate::domain::marketplace_order_details::PersonalDataRetention;
use crate::domain::payment_ledger::{decide, Notice, PaymentLedger};
use crate::domain::PaymentEventKind;
use crate::error::{Error, Result};
use crate::intake::marketplace_orders::OrderIntake;
use crate::intake::refunds::{Gateway, Refunds};
use crate::ports::{
    EventPublisher, MarketplaceOrderStore, OrderReader, PaymentLedgerStore, RefundRequestStore,
};
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::stripe::StripeClient;

/// The idempotency claim of a delivery: scoped by provider (webhook and
/// callback share it), keyed by the provider's event identity, the record
/// kept as the audit entry for 30 days.
pub fn delivery_claim(delivery: &Delivery, payload: &[u8], now_ms: i64, deadline_ms: i64) -> Claim {
    Claim {
        scope: format!("webhook:{}", delivery.provider),
        key: delivery.event_id.clone(),
        payload_hash: hex::encode(Sha256::digest(payload)),
        now_ms,
        in_progress_until_ms: deadline_ms,
        expires_at: now_ms / 1000 + AUDIT_RETENTION_SECS,
        audit: AuditInfo {
            provider: delivery.provider.to_string(),
            event_type: delivery.event_type.clone(),
            event_id: delivery.event_id.clone(),
            received_at: unix_ms_to_rfc3339(now_ms).unwrap_or_else(now_rfc3339),
        },
    }
}

pub struct DeliveryApplier<'a, S, P> {
    store: &'a S,
    publisher: &'a P,
    auto_refund: Option<AutoRefund<'a>>,
    retention: PersonalDataRetention,
}

/// The gateways that give back unwanted payments when the merchant turned
/// `AUTO_REFUND_UNWANTED_PAYMENTS` on (default off: such payments are only
/// published with `action: refund_required`).
#[derive(Clone, Copy, Default)]
pub struct AutoRefund<'a> {
    pub stripe: Option<&'a StripeClient>,
    pub iyzico: Option<&'a IyzicoClient>,
}

impl<'a, S, P> DeliveryApplier<'a, S, P>
where
    S: IdempotencyStore
        + PaymentLedgerStore
        + MarketplaceOrderStore
        + RefundRequestStore
        + OrderReader,
    P: EventPublisher,
{
    pub fn new(store: &'a S, publisher: &'a P) -> Self {
        DeliveryApplier {
            store,
            publisher,
            auto_refund: None,
            retention: PersonalDataRetention::default(),
        }
    }

    /// How long marketplace buyers' personal data is kept.
    pub fn with_personal_data_retention(mut self, retention: PersonalDataRetention) -> Self {
        self.retention = retention;
        self
    }

    pub fn with_auto_refund(mut self, auto_refund: Option<AutoRefund<'a>>) -> Self {
        self.auto_refund = auto_refund;
        self
    }

    /// Claims the delivery's identity and applies it once. An order we do not
    /// know (yet) leaves no record, so a later delivery can still apply it.
    pub async fn process(&self, delivery: &Delivery, claim: &Claim) -> Result<Once<&'static str>> {
        run_once(self.store, claim, || async {
            let outcome = self.apply(delivery, claim.in_progress_until_ms).await?;
            let disposition = if outcome == "unknown_order" {
                Disposition::Release
            } else {
                Disposition::Complete(outcome.to_string())
            };
            Ok((outcome, disposition))
        })
        .await
    }

    /// Applies a delivery; returns the outcome word recorded in the audit.
    async fn apply(&self, delivery: &Delivery, deadline_ms: i64) -> Result<&'static str> {
        match &delivery.effect {
            Effect::Ignored => Ok("ignored"),
            // The same path as order-poll's: stored once, forward only,
            // events exactly when the stored order changes.
            Effect::MarketplaceOrder(snapshot) => Ok(OrderIntake::new(self.store, self.publisher)
                .with_retention(self.retention)
                .take(snapshot)
                .await?
                .as_str()),
            Effect::Payment(notice) => self.apply_payment(delivery, notice, deadline_ms).await,
        }
    }

    async fn apply_payment(
        &self,
        delivery: &Delivery,
        notice: &PaymentNotice,
        deadline_ms: i64,
    ) -> Result<&'static str> {
        // Which order, and (for a checkout we started) what we asked for.
        let (order_id, attempt) = match &notice.order {
            OrderRef::Id(id) => (id.clone(), None),
            OrderRef::ProviderRef(r) => {
                match self.store.attempt_for_ref(delivery.provider, r).await? {
                    Some(attempt) => (attempt.order_id.clone(), Some(attempt)),
                    None => return Ok("unknown_order"),
                }
            }
            OrderRef::Claimed {
                order_id: claimed,
                proof_ref,
            } => {
                let attempt = self
                    .store
                    .attempt_for_ref(delivery.provider, proof_ref)
                    .await?;
                if attempt.as_ref().map(|a| a.order_id.as_str()) != Some(claimed.as_str()) {
                    tracing::warn!(
                        provider = delivery.provider,
                        claimed = %claimed,
                        proof_ref = %proof_ref,
                        "payment notice names an order our records do not tie to this payment"
                    );
                    return Ok("unknown_order");
                }
                (claimed.clone(), attempt)
            }
        };
        // A success is checked against an amount we can trust: the signed
        // notice's own, else what we initialised for that checkout.
        let amount = match notice.kind {
            PaymentEventKind::Succeeded => notice.amount.or(attempt.map(|a| a.amount)),
            _ => notice.amount,
        };
        let event_id = format!("{}:{}", delivery.provider, delivery.event_id);
        let notice = Notice {
            provider: delivery.provider,
            provider_ref: &notice.provider_ref,
            kind: &notice.kind,
            amount,
            event_id: &event_id,
            occurred_at: &delivery.occurred_at,
        };
        let outcome = apply_notice(self.store, self.publisher, &order_id, &notice)
            .await?
            .map_or("unknown_order", |(outcome, _)| outcome);
        if let ("amount_mismatch" | "duplicate_payment", Some(amount)) = (outcome, amount) {
            self.refund_unwanted(&order_id, &notice, amount, deadline_ms)
                .await?;
        }
        Ok(outcome)
    }

    /// With the setting on, gives the unwanted payment back (exactly once; a
    /// failure fails the delivery, whose redelivery resumes the refund).
    async fn refund_unwanted(
        &self,
        order_id: &str,
        notice: &Notice<'_>,
        amount: crate::money::Money,
        deadline_ms: i64,
    ) -> Result<()> {
        let Some(auto) = self.auto_refund else {
            return Ok(());
        };
        let gateway = match notice.provider {
            "stripe" => auto.stripe.map(Gateway::Stripe),
            "iyzico" => auto.iyzico.map(|client| Gateway::Iyzico {
                client,
                // Our own request, not a shopper's: iyzico requires an ip.
                ip: "127.0.0.1".into(),
            }),
            _ => None,
        };
        let Some(gateway) = gateway else {
            return Ok(());
        };
        Refunds {
            store: self.store,
            publisher: self.publisher,
            gateway,
        }
        .refund_unwanted(order_id, notice.provider_ref, amount, now_ms(), deadline_ms)
        .await
    }
}

/// Applies a notice to the order's ledger (read, decide, write if unchanged,
/// else again) and publishes what it decided: the outcome and the ledger as
/// it now stands. `None`: no such order.
pub async fn apply_notice<S, P>(
    store: &S,
    publisher: &P,
    order_id: &str,
    notice: &Notice<'_>,
) -> Result<Option<(&'static str, PaymentLedger)>>
where
    S: PaymentLedgerStore,
    P: EventPublisher,
{
    const ATTEMPTS: usize = 8;
    for _ in 0..ATTEMPTS {
        let Some((ledger, version)) = store.load_ledger(order_id).await? else {
            return Ok(None);
        };
        let decision = decide(&ledger, notice);
        if let Some(next) = &decision.write {
            if !store.save_ledger(next, version, &now_rfc3339()).await? {
                continue; // changed meanwhile: decide again on what it is now
            }
        }
        if decision.outcome != "applied" {
            tracing::warn!(
                order_id,
                provider = notice.provider,
                outcome = decision.outcome,
                "payment notice not applied as such"
            );
        }
        if !decision.events.is_empty() {
            publisher.publish(&decision.events).await?;
        }
        return Ok(Some((decision.outcome, decision.write.unwrap_or(ledger))));
    }
    Err(Error::Store(format!(
        "order {order_id} kept changing while a payment notice was applied"
    )))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::event::DomainEvent;
    use crate::domain::payment_ledger::PaymentLedger;
    use crate::domain::PaymentAttempt;
    use crate::money::{Currency, Money};
    use crate::ports::LedgerVersion;

    /// One order's ledger in memory; can lose the next writes' race (as if
    /// another invocation wrote first) the way the conditional write would.
    struct MemoryLedger {
        ledger: Mutex<(PaymentLedger, LedgerVersion)>,
        lose_next_saves: Mutex<usize>,
        saves: Mutex<usize>,
    }

    impl PaymentLedgerStore for MemoryLedger {
        async fn load_ledger(&self, _: &str) -> Result<Option<(PaymentLedger, LedgerVersion)>> {
            Ok(Some(self.ledger.lock().unwrap().clone()))
        }
        async fn save_ledger(&self, l: &PaymentLedger, v: LedgerVersion, _: &str) -> Result<bool> {
            let mut lose = self.lose_next_saves.lock().unwrap();
            let mut stored = self.ledger.lock().unwrap();
            if *lose > 0 {
                *lose -= 1;
                // Someone else moved the version on (changing nothing else).
                stored.1.payment += 1;
                return Ok(false);
            }
            if stored.1 != v {
                return Ok(false);
            }
            *stored = (
                l.clone(),
                LedgerVersion {
                    payment: v.payment + 1,
                    ..v
                },
            );
            *self.saves.lock().unwrap() += 1;
            Ok(true)
        }
        async fn attempt_for_ref(&self, _: &str, _: &str) -> Result<Option<PaymentAttempt>> {
            Ok(None)
        }
    }

    #[derive(Default)]
    struct Publisher {
        published: Mutex<Vec<DomainEvent>>,
        fail_next: Mutex<usize>,
    }

    impl EventPublisher for Publisher {
        async fn publish(&self, events: &[DomainEvent]) -> Result<()> {
            let mut fail = self.fail_next.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(Error::Store("injected PutEvents failure".into()));
            }
            self.published.lock().unwrap().extend_from_slice(events);
            Ok(())
        }
    }

    fn store() -> MemoryLedger {
        let ledger = PaymentLedger::unpaid("ord-1", Money::new(10_000, Currency::TRY));
        MemoryLedger {
            ledger: Mutex::new((
                ledger,
                LedgerVersion {
                    content: 1,
                    payment: 0,
                },
            )),
            lose_next_saves: Mutex::new(0),
            saves: Mutex::new(0),
        }
    }

    const SUCCEEDED: PaymentEventKind = PaymentEventKind::Succeeded;

    /// Stripe's success for the whole order total.
    fn success(kind: &PaymentEventKind) -> Notice<'_> {
        Notice {
            provider: "stripe",
            provider_ref: "pi_1",
            kind,
            amount: Some(Money::new(10_000, Currency::TRY)),
            event_id: "stripe:evt_1",
            occurred_at: "2026-12-02T10:00:00Z",
        }
    }

    #[tokio::test]
    async fn a_lost_write_race_is_decided_again_and_applied_once() {
        let store = store();
        *store.lose_next_saves.lock().unwrap() = 2;
        let publisher = Publisher::default();
        let notice = success(&SUCCEEDED);
        let (outcome, ledger) = apply_notice(&store, &publisher, "ord-1", &notice)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(outcome, "applied");
        assert_eq!(ledger.paid_minor, Some(10_000));
        assert_eq!(*store.saves.lock().unwrap(), 1);
        assert_eq!(publisher.published.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_publish_after_the_write_is_published_on_redelivery_with_the_same_id() {
        let store = store();
        let publisher = Publisher::default();
        *publisher.fail_next.lock().unwrap() = 1;
        let notice = success(&SUCCEEDED);
        assert!(apply_notice(&store, &publisher, "ord-1", &notice)
            .await
            .is_err());
        assert_eq!(*store.saves.lock().unwrap(), 1, "the ledger was written");
        let again = apply_notice(&store, &publisher, "ord-1", &notice)
            .await
            .unwrap()
            .map(|(outcome, _)| outcome);
        assert_eq!(again, Some("applied"));
        assert_eq!(*store.saves.lock().unwrap(), 1, "not written twice");
        let published = publisher.published.lock().unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].event_id, "stripe:evt_1");
    }
}
