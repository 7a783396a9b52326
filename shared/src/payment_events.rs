//! Applying a normalized provider notification (a `Delivery`): move the
//! order's payment state forward and publish the domain event, exactly once
//! per provider event identity. Shared by the webhook function and by the
//! iyzico hosted-checkout callback, so a payment reported through both is
//! applied by whichever arrives first and is a duplicate for the other.

use sha2::{Digest, Sha256};

use crate::aws::idempotency::AUDIT_RETENTION_SECS;
use crate::domain::delivery::{unix_ms_to_rfc3339, Delivery, Effect, OrderRef, PaymentNotice};
use crate::domain::event::{
    DetailType, DomainEvent, EventDetail, IntegrationErrorDetail, PaymentDetail,
};
use crate::domain::{PaymentEventKind, PaymentStatus};
use crate::error::Result;
use crate::http_api::now_rfc3339;
use crate::idempotency::{run_once, AuditInfo, Claim, Disposition, IdempotencyStore, Once};
use crate::marketplace_orders::OrderIntake;
use crate::ports::{
    EventPublisher, MarketplaceOrderStore, PaymentApplied, PaymentChange, PaymentEventStore,
};

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
}

impl<'a, S, P> DeliveryApplier<'a, S, P>
where
    S: IdempotencyStore + PaymentEventStore + MarketplaceOrderStore,
    P: EventPublisher,
{
    pub fn new(store: &'a S, publisher: &'a P) -> Self {
        DeliveryApplier { store, publisher }
    }

    /// Claims the delivery's identity and applies it once. An order we do not
    /// know (yet) leaves no record, so a later delivery can still apply it.
    pub async fn process(&self, delivery: &Delivery, claim: &Claim) -> Result<Once<&'static str>> {
        run_once(self.store, claim, || async {
            let outcome = self.apply(delivery).await?;
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
    async fn apply(&self, delivery: &Delivery) -> Result<&'static str> {
        match &delivery.effect {
            Effect::Ignored => Ok("ignored"),
            // The same path as order-poll's: stored once, forward only,
            // events exactly when the stored order changes.
            Effect::MarketplaceOrder(snapshot) => Ok(OrderIntake::new(self.store, self.publisher)
                .take(snapshot)
                .await?
                .as_str()),
            Effect::Payment(notice) => self.apply_payment(delivery, notice).await,
        }
    }

    async fn apply_payment(
        &self,
        delivery: &Delivery,
        notice: &PaymentNotice,
    ) -> Result<&'static str> {
        let order_id = match &notice.order {
            OrderRef::Id(id) => id.clone(),
            OrderRef::ProviderRef(r) => match self
                .store
                .order_for_provider_ref(delivery.provider, r)
                .await?
            {
                Some(id) => id,
                None => return Ok("unknown_order"),
            },
            OrderRef::Claimed {
                order_id: claimed,
                proof_ref,
            } => {
                let recorded = self
                    .store
                    .order_for_provider_ref(delivery.provider, proof_ref)
                    .await?;
                if recorded.as_deref() != Some(claimed.as_str()) {
                    tracing::warn!(
                        provider = delivery.provider,
                        claimed = %claimed,
                        proof_ref = %proof_ref,
                        recorded = recorded.as_deref().unwrap_or(""),
                        "payment notice names an order our records do not tie to this payment"
                    );
                    return Ok("unknown_order");
                }
                claimed.clone()
            }
        };
        let status = match notice.kind.target_status() {
            Some(to) => {
                let change = PaymentChange {
                    order_id: order_id.clone(),
                    to,
                    event_id: format!("{}:{}", delivery.provider, delivery.event_id),
                    provider: delivery.provider.to_string(),
                    provider_ref: notice.provider_ref.clone(),
                    paid_minor: match notice.kind {
                        PaymentEventKind::Succeeded => notice.amount.map(|m| m.minor),
                        _ => None,
                    },
                    refunded_minor: match notice.kind {
                        PaymentEventKind::Refunded { refunded_total, .. } => Some(refunded_total),
                        _ => None,
                    },
                    collected: match notice.kind {
                        PaymentEventKind::Succeeded => notice.amount,
                        _ => None,
                    },
                    now: now_rfc3339(),
                };
                match self.store.apply_payment_change(&change).await? {
                    PaymentApplied::Changed | PaymentApplied::AlreadyApplied => to,
                    PaymentApplied::OrderMissing => return Ok("unknown_order"),
                    PaymentApplied::AmountMismatch { order_total } => {
                        tracing::error!(order_id, expected = %order_total, received = ?notice.amount, "payment amount differs from the order total");
                        self.publisher
                            .publish(&[DomainEvent {
                                detail_type: DetailType::IntegrationError,
                                event_id: format!("{}:{}", delivery.provider, delivery.event_id),
                                occurred_at: delivery.occurred_at.clone(),
                                detail: EventDetail::IntegrationError(IntegrationErrorDetail {
                                    kind: "amount_mismatch".into(),
                                    provider: delivery.provider.to_string(),
                                    order_id: Some(order_id.clone()),
                                    provider_ref: Some(notice.provider_ref.clone()),
                                    expected: Some(order_total),
                                    received: notice.amount,
                                    message: "the gateway collected an amount other than the order total; the order was not marked paid".into(),
                                }),
                            }])
                            .await?;
                        return Ok("amount_mismatch");
                    }
                    PaymentApplied::Stale { current } => {
                        tracing::info!(
                            order_id,
                            current = current.as_str(),
                            wanted = to.as_str(),
                            "stale payment event"
                        );
                        return Ok("stale");
                    }
                }
            }
            None => match self.store.payment_status(&order_id).await? {
                None => return Ok("unknown_order"),
                // A failure reported after the money was collected changes nothing.
                Some(current)
                    if matches!(notice.kind, PaymentEventKind::Failed { .. })
                        && current.is_collected() =>
                {
                    return Ok("stale")
                }
                Some(current) => current,
            },
        };
        self.publisher
            .publish(&[payment_event(delivery, notice, order_id, status)])
            .await?;
        Ok("applied")
    }
}

fn payment_event(
    delivery: &Delivery,
    notice: &PaymentNotice,
    order_id: String,
    status: PaymentStatus,
) -> DomainEvent {
    let (detail_type, failure_code, failure_message, dispute_reason) = match &notice.kind {
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
        event_id: format!("{}:{}", delivery.provider, delivery.event_id),
        occurred_at: delivery.occurred_at.clone(),
        detail: EventDetail::Payment(PaymentDetail {
            order_id,
            provider: delivery.provider.to_string(),
            provider_ref: notice.provider_ref.clone(),
            amount: notice.amount,
            payment_status: status.as_str().to_string(),
            failure_code,
            failure_message,
            dispute_reason,
        }),
    }
}
