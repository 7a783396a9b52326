//! One refund protocol for both gateways: the money moves at the gateway
//! exactly once per `requestId`, however often the caller retries and
//! wherever an invocation dies (docs/exactly-once.md):
//!
//! 1. **Claim first**, by `requestId`, with a hash of the parameters: a
//!    finished request answers its first answer; other parameters → 422.
//! 2. **One refund in flight per order**: a lock on the order item.
//! 3. **Attempted means remembered**: the record becomes `sent` (with its
//!    plan) before the gateway is called, and is never forgotten after that.
//!    An unclear outcome is resolved by asking the gateway: Stripe replays the
//!    same Idempotency-Key; for iyzico we read the payment's refunds back and
//!    send again only when they show none of ours.
//! 4. **After the gateway said yes**, the ledger and `payment.refunded`
//!    (same `eventId` on every retry) are finished on the retry.

use serde::Serialize;

use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::domain::event::{DetailType, DomainEvent, EventDetail, IntegrationErrorDetail};
use crate::domain::payment::{plan_refund, RefundPlan};
use crate::domain::payment_ledger::Notice;
use crate::domain::refund::{RefundOperation, RefundRecord, RefundState};
use crate::domain::{Order, PaymentEventKind, PaymentStatus};
use crate::error::{Error, ProviderFailure, Result};
use crate::intake::payment_notices::apply_notice;
use crate::money::{Currency, Money};
use crate::ports::{
    EventPublisher, OrderReader, PaymentLedgerStore, RefundClaim, RefundLock, RefundRequestStore,
};
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::iyzico::price::format_price;
use crate::providers::iyzico::wire::{
    CancelRequest, PaymentDetailsReport, RefundRequest as IyzicoRefundRequest,
};
use crate::providers::stripe::{to_stripe_amount, StripeClient};

/// The answer to a refund or cancel.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundMade {
    pub refund_id: String,
    pub order_id: String,
    pub request_id: String,
    pub amount: i64,
    pub refunded_total: i64,
    pub remaining: i64,
    pub currency: String,
    pub payment_status: String,
}

/// The gateway that collected the order's money.
pub enum Gateway<'a> {
    Stripe(&'a StripeClient),
    Iyzico {
        client: &'a IyzicoClient,
        /// The caller's IP, which iyzico requires on refunds.
        ip: String,
    },
}

impl Gateway<'_> {
    fn provider(&self) -> &'static str {
        match self {
            Gateway::Stripe(_) => "stripe",
            Gateway::Iyzico { .. } => "iyzico",
        }
    }
}

/// What iyzico's records say about a refund we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Executed,
    NotExecuted,
    /// Neither: someone else refunded meanwhile (in the panel?). A person
    /// must look; nothing is sent.
    Unclear(String),
}

/// Reads iyzico's report of a payment against the refund we sent: ours if a
/// refund carries our conversation id (UNCONFIRMED that the report echoes
/// it), else by the refunded total, which only our one refund in flight can
/// have moved from exactly `plan.before` to exactly `plan.after`.
pub fn resolve_iyzico(
    report: &PaymentDetailsReport,
    record: &RefundRecord,
    plan: &RefundPlan,
    currency: Currency,
) -> Result<Resolution> {
    let Some(payment) = report
        .payments
        .iter()
        .find(|p| p.payment_id.as_deref() == Some(plan.provider_ref.as_str()))
    else {
        return Ok(Resolution::Unclear(format!(
            "iyzico's report does not list payment {}",
            plan.provider_ref
        )));
    };
    let refunds = payment
        .item_transactions
        .iter()
        .flat_map(|i| &i.refunds)
        .chain(&payment.cancels)
        .filter(|r| r.error_code.is_none());
    let mut refunded = 0i64;
    for r in refunds {
        if r.refund_conversation_id.as_deref() == Some(record.request_id.as_str()) {
            return Ok(Resolution::Executed);
        }
        if let Some(price) = &r.refund_price {
            refunded += Money::parse_major(&price.to_string(), currency)?.minor;
        }
    }
    let cancelled = !payment.cancels.iter().all(|c| c.error_code.is_some());
    // Exactly our refund's total, nothing else: a panel refund of another
    // amount must not pass for ours (nor hide that ours never happened).
    Ok(match record.operation {
        RefundOperation::Cancel if cancelled => Resolution::Executed,
        _ if refunded == plan.after => Resolution::Executed,
        _ if refunded == plan.before => Resolution::NotExecuted,
        _ => Resolution::Unclear(format!(
            "iyzico reports {refunded} refunded of payment {}; we had {} before this refund and {} after",
            plan.provider_ref, plan.before, plan.after
        )),
    })
}

pub struct Refunds<'a, S, P> {
    pub store: &'a S,
    pub publisher: &'a P,
    pub gateway: Gateway<'a>,
}

fn in_progress(order_id: &str) -> Error {
    Error::Conflict {
        code: "refund_in_progress",
        message: format!(
            "another refund of order {order_id} is in flight; retry later (a refund whose answer was lost finishes when its own requestId is retried)"
        ),
    }
}

impl<S, P> Refunds<'_, S, P>
where
    S: RefundRequestStore + PaymentLedgerStore + OrderReader,
    P: EventPublisher,
{
    /// Runs a refund request to its answer: `(HTTP status, JSON body)`.
    pub async fn run(
        &self,
        request: RefundRecord,
        amount: Option<i64>,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<(u16, String)> {
        let (order_id, request_id) = (request.order_id.clone(), request.request_id.clone());
        let record = match self
            .store
            .claim_refund(&request, now_ms, lease_until_ms)
            .await?
        {
            RefundClaim::Done { status, body } => {
                // A lock left behind by a death after the answer was stored.
                self.store
                    .unlock_order_refund(&order_id, &request_id)
                    .await?;
                return Ok((status, body));
            }
            RefundClaim::Mismatch => {
                return Err(Error::Unprocessable {
                    code: "idempotency_key_reused",
                    message: format!(
                        "requestId {request_id} was used before with other parameters"
                    ),
                })
            }
            RefundClaim::Busy => return Err(in_progress(&order_id)),
            RefundClaim::Claimed(Some(old)) if old.state == RefundState::Sent => old,
            RefundClaim::Claimed(_) => request,
        };
        if record.state == RefundState::Sent {
            let answer = self.resume(record).await;
            return self.release_on_error(&request_id, answer).await;
        }
        self.lock(&record, now_ms, lease_until_ms).await?;
        let order = match self.load_order(&order_id).await {
            Ok(order) => order,
            Err(e) => return self.give_up(&record, e).await,
        };
        let plan = match self.plan(&record, &order, amount) {
            Ok(plan) => plan,
            // A refusal is the request's answer, as a success would be.
            Err(e) if e.http_status() < 500 => return self.answer_error(&record, &e).await,
            Err(e) => return self.give_up(&record, e).await,
        };
        let mut sent = record;
        sent.plan = Some(plan.clone());
        sent.sent_at_ms = Some(now_ms);
        if !self
            .store
            .mark_refund_sent(&sent, lease_until_ms, true)
            .await?
        {
            return Err(in_progress(&order_id));
        }
        sent.state = RefundState::Sent;
        let outcome = self.send(&sent, &plan, order.content.currency).await;
        let answer = self.settle(&sent, &plan, &order, outcome).await;
        self.release_on_error(&request_id, answer).await
    }

    /// A sent request whose outcome is still unclear stays `sent`, with the
    /// order locked, but its lease ends with this invocation: the caller's
    /// retry takes it up at once and asks the gateway.
    async fn release_on_error(
        &self,
        request_id: &str,
        answer: Result<(u16, String)>,
    ) -> Result<(u16, String)> {
        if answer.is_err() {
            if let Err(e) = self.store.release_refund_lease(request_id).await {
                tracing::warn!(error = %e, request_id, "could not end a refund lease; it ends at its deadline");
            }
        }
        answer
    }

    /// Takes the order's refund lock; a lock left by a finished or forgotten
    /// request is taken over.
    async fn lock(&self, record: &RefundRecord, now_ms: i64, lease_until_ms: i64) -> Result<()> {
        for _ in 0..2 {
            match self
                .store
                .lock_order_for_refund(&record.order_id, &record.request_id, now_ms, lease_until_ms)
                .await?
            {
                RefundLock::Locked => return Ok(()),
                RefundLock::NoOrder => {
                    self.store.abandon_refund(&record.request_id).await?;
                    return Err(Error::NotFound {
                        what: "order",
                        id: record.order_id.clone(),
                    });
                }
                RefundLock::HeldBy(holder) => match self.store.get_refund(&holder).await? {
                    Some(h) if h.state != RefundState::Done => {
                        self.store.abandon_refund(&record.request_id).await?;
                        return Err(Error::Conflict {
                            code: "refund_in_progress",
                            message: format!(
                                "refund request {holder} of order {} is in flight; retry later, or retry {holder} to finish it",
                                record.order_id
                            ),
                        });
                    }
                    _ => {
                        self.store
                            .unlock_order_refund(&record.order_id, &holder)
                            .await?
                    }
                },
            }
        }
        self.store.abandon_refund(&record.request_id).await?;
        Err(in_progress(&record.order_id))
    }

    /// A request that was sent, taken up again: learn its outcome at the
    /// gateway before anything is sent again.
    async fn resume(&self, record: RefundRecord) -> Result<(u16, String)> {
        let plan = record.plan.clone().ok_or_else(|| {
            Error::Store(format!(
                "refund {} was sent without a plan",
                record.request_id
            ))
        })?;
        let order = self.load_order(&record.order_id).await?;
        let outcome = self
            .resolve_sent(&record, &plan, order.content.currency)
            .await?;
        self.settle(&record, &plan, &order, outcome).await
    }

    /// Learns what became of a sent request at the gateway, sending it again
    /// only where that is proven safe. `Err` (outer): nothing could be
    /// learned, the request stays `sent`.
    async fn resolve_sent(
        &self,
        record: &RefundRecord,
        plan: &RefundPlan,
        currency: Currency,
    ) -> Result<Result<String>> {
        Ok(match &self.gateway {
            Gateway::Stripe(stripe) => {
                // Stripe's list is authoritative and outlives its 24 h
                // idempotency keys: ours carries metadata[request_id].
                let refunds = stripe.list_refunds(&plan.provider_ref).await?;
                match refunds
                    .into_iter()
                    .find(|r| r.metadata.get("request_id") == Some(&record.request_id))
                {
                    Some(r) if r.status == "failed" || r.status == "canceled" => {
                        Err(stripe_refund_refused(&r.id, r.status))
                    }
                    Some(r) => Ok(r.id),
                    // Not there: sent again with the same key (a request
                    // still in flight at Stripe is answered 409, retried).
                    None => self.send(record, plan, currency).await,
                }
            }
            Gateway::Iyzico { client, .. } => {
                let report = client.payment_details(&plan.provider_ref).await?;
                match resolve_iyzico(&report, record, plan, currency)? {
                    Resolution::Executed => Ok(iyzico_refund_id(record, plan)),
                    Resolution::NotExecuted => {
                        // The report may lag a refund still being processed:
                        // "not there" counts only once the request is old.
                        let sent_at = record.sent_at_ms.unwrap_or_default();
                        let wait_ms = sent_at + IYZICO_REPORT_SETTLE_MS - now_ms();
                        if wait_ms > 0 {
                            return Err(Error::Conflict {
                                code: "refund_outcome_pending",
                                message: format!(
                                    "iyzico's report does not show this refund yet; retry with the same requestId in {} s",
                                    (wait_ms + 999) / 1000
                                ),
                            });
                        }
                        self.send(record, plan, currency).await
                    }
                    Resolution::Unclear(message) => {
                        tracing::error!(order_id = %record.order_id, request_id = %record.request_id, %message, "refund outcome unclear");
                        // Loud: the order's refunds wait for a person.
                        self.publisher
                            .publish(&[unclear_refund_event(record, plan, currency, &message)])
                            .await?;
                        return Err(Error::Conflict {
                            code: "refund_outcome_unclear",
                            message: format!("{message}; check the iyzico panel before retrying"),
                        });
                    }
                }
            }
        })
    }

    /// Gives back a whole payment the order must not keep (collected for
    /// another amount, or a second payment of a paid order), when the
    /// merchant turned `AUTO_REFUND_UNWANTED_PAYMENTS` on. Exactly once by
    /// the same protocol (request id `auto-<provider>-<payment>`), without
    /// the order's lock or ledger: this payment is not the order's.
    pub async fn refund_unwanted(
        &self,
        order_id: &str,
        provider_ref: &str,
        amount: Money,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<()> {
        let provider = self.gateway.provider();
        let request_id = format!("auto-{provider}-{provider_ref}");
        let mut record = RefundRecord::new(
            &request_id,
            order_id,
            provider,
            RefundOperation::Refund,
            Some(amount.minor),
        );
        let plan = RefundPlan {
            amount: amount.minor,
            before: 0,
            after: amount.minor,
            to: PaymentStatus::Refunded,
            provider_ref: provider_ref.to_string(),
        };
        let outcome = match self
            .store
            .claim_refund(&record, now_ms, lease_until_ms)
            .await?
        {
            RefundClaim::Done { .. } => return Ok(()),
            RefundClaim::Busy => return Err(in_progress(order_id)),
            RefundClaim::Mismatch => {
                return Err(Error::Internal(format!(
                    "refund request {request_id} was made before with other parameters"
                )))
            }
            RefundClaim::Claimed(Some(old)) if old.state == RefundState::Sent => {
                self.resolve_sent(&old, &plan, amount.currency).await
            }
            RefundClaim::Claimed(_) => {
                record.plan = Some(plan.clone());
                record.sent_at_ms = Some(now_ms);
                if !self
                    .store
                    .mark_refund_sent(&record, lease_until_ms, false)
                    .await?
                {
                    return Err(in_progress(order_id));
                }
                Ok(self.send(&record, &plan, amount.currency).await)
            }
        };
        let answer = self
            .finish_unwanted(&record, &plan, amount, provider_ref, outcome)
            .await;
        if answer.is_err() {
            if let Err(e) = self.store.release_refund_lease(&request_id).await {
                tracing::warn!(error = %e, request_id, "could not end a refund lease; it ends at its deadline");
            }
        }
        answer
    }

    /// Records how an automatic refund ended: given back (published, the
    /// refund done), or refused by the gateway (done: a person must give the
    /// money back); any other failure is returned.
    async fn finish_unwanted(
        &self,
        record: &RefundRecord,
        plan: &RefundPlan,
        amount: Money,
        provider_ref: &str,
        outcome: Result<Result<String>>,
    ) -> Result<()> {
        let order_id = record.order_id.as_str();
        let request_id = record.request_id.as_str();
        let provider = self.gateway.provider();
        match outcome {
            Ok(Ok(refund_id)) => {
                let status = match self.store.load_ledger(order_id).await? {
                    Some((ledger, _)) => ledger.status,
                    None => PaymentStatus::Unpaid,
                };
                self.publisher
                    .publish(&[unwanted_refunded_event(record, plan, amount, status)])
                    .await?;
                let body = serde_json::json!({"refundId": refund_id, "orderId": order_id,
                    "requestId": request_id, "amount": amount.minor})
                .to_string();
                self.store
                    .finish_refund(request_id, RefundState::Done, 201, &body)
                    .await?;
                tracing::warn!(
                    order_id,
                    provider,
                    provider_ref,
                    "unwanted payment refunded automatically"
                );
                Ok(())
            }
            // The gateway refused: a person must give the money back.
            Ok(Err(Error::Provider(p)))
                if matches!(
                    p.failure,
                    ProviderFailure::Declined | ProviderFailure::Rejected
                ) =>
            {
                let error = Error::Provider(p);
                self.store
                    .finish_refund(
                        request_id,
                        RefundState::Done,
                        error.http_status(),
                        &error.to_json().to_string(),
                    )
                    .await?;
                tracing::error!(order_id, provider_ref, error = %error, "automatic refund refused");
                Ok(())
            }
            Ok(Err(e)) | Err(e) => Err(e),
        }
    }

    fn plan(
        &self,
        record: &RefundRecord,
        order: &Order,
        amount: Option<i64>,
    ) -> Result<RefundPlan> {
        let plan = plan_refund(order, &record.provider, amount)?;
        // Whatever the gateway call could refuse locally is refused now,
        // before the request is marked sent.
        match &self.gateway {
            Gateway::Stripe(_) => {
                to_stripe_amount(Money::new(plan.amount, order.content.currency))?;
            }
            Gateway::Iyzico { .. } => {
                if !plan.provider_ref.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::Unprocessable {
                        code: "payment_reference_invalid",
                        message: format!(
                            "order {} records iyzico payment {:?}, which is not an iyzico payment id",
                            order.id, plan.provider_ref
                        ),
                    });
                }
            }
        }
        if record.operation == RefundOperation::Cancel && plan.before > 0 {
            return Err(Error::Conflict {
                code: "partially_refunded",
                message: format!(
                    "order {} was partly refunded; refund the rest instead of cancelling",
                    order.id
                ),
            });
        }
        Ok(plan)
    }

    /// Calls the gateway; the refund's id on success.
    async fn send(
        &self,
        record: &RefundRecord,
        plan: &RefundPlan,
        currency: Currency,
    ) -> Result<String> {
        let money = Money::new(plan.amount, currency);
        match (&self.gateway, record.operation) {
            (Gateway::Stripe(stripe), _) => {
                let refund = stripe
                    .create_refund(
                        &plan.provider_ref,
                        to_stripe_amount(money)?,
                        &record.order_id,
                        &record.request_id,
                        &record.stripe_idempotency_key(),
                    )
                    .await?;
                if refund.status == "failed" || refund.status == "canceled" {
                    return Err(stripe_refund_refused(&refund.id, refund.status));
                }
                Ok(refund.id)
            }
            (Gateway::Iyzico { client, ip }, RefundOperation::Refund) => {
                client
                    .refund_payment(&IyzicoRefundRequest {
                        locale: "tr",
                        conversation_id: record.request_id.clone(),
                        payment_id: plan.provider_ref.clone(),
                        price: format_price(money),
                        currency: currency.code().to_string(),
                        ip: ip.clone(),
                    })
                    .await?;
                Ok(iyzico_refund_id(record, plan))
            }
            (Gateway::Iyzico { client, ip }, RefundOperation::Cancel) => {
                client
                    .cancel_payment(&CancelRequest {
                        locale: "tr",
                        conversation_id: record.request_id.clone(),
                        payment_id: plan.provider_ref.clone(),
                        ip: ip.clone(),
                        reason: "other",
                    })
                    .await?;
                Ok(iyzico_refund_id(record, plan))
            }
        }
    }

    /// Turns the gateway's outcome into the request's answer.
    async fn settle(
        &self,
        record: &RefundRecord,
        plan: &RefundPlan,
        order: &Order,
        outcome: Result<String>,
    ) -> Result<(u16, String)> {
        match outcome {
            Ok(refund_id) => self.succeed(record, plan, order, refund_id).await,
            Err(Error::Provider(p)) => match p.failure {
                // The gateway refused it: nothing moved. That is the answer.
                ProviderFailure::Declined | ProviderFailure::Rejected => {
                    self.answer_error(record, &Error::Provider(p)).await
                }
                // Anything else, our credentials refused included: the record
                // stays `sent` and the lock held, never forgotten once the
                // call was tried; the retry asks the gateway first.
                _ => Err(Error::Provider(p)),
            },
            Err(e) => Err(e),
        }
    }

    async fn succeed(
        &self,
        record: &RefundRecord,
        plan: &RefundPlan,
        order: &Order,
        refund_id: String,
    ) -> Result<(u16, String)> {
        let currency = order.content.currency;
        let event_id = record.event_id();
        let occurred_at = now_rfc3339();
        let kind = PaymentEventKind::Refunded {
            refunded_total: plan.after,
            full: plan.to == PaymentStatus::Refunded,
        };
        let notice = Notice {
            provider: self.gateway.provider(),
            provider_ref: &plan.provider_ref,
            kind: &kind,
            amount: Some(Money::new(plan.after, currency)),
            event_id: &event_id,
            occurred_at: &occurred_at,
        };
        // `stale` when the gateway's own webhook recorded it first.
        let (_, ledger) = apply_notice(self.store, self.publisher, &order.id, &notice)
            .await?
            .ok_or_else(|| Error::Store(format!("order {} vanished", order.id)))?;
        let made = RefundMade {
            refund_id,
            order_id: order.id.clone(),
            request_id: record.request_id.clone(),
            amount: plan.amount,
            refunded_total: ledger.refunded_minor,
            remaining: ledger.paid_minor.unwrap_or_default() - ledger.refunded_minor,
            currency: currency.code().to_string(),
            payment_status: ledger.status.as_str().into(),
        };
        let body = serde_json::to_string(&made).map_err(|e| Error::Internal(e.to_string()))?;
        self.finish(record, 201, &body).await
    }

    /// Stores a refusal as the request's answer.
    async fn answer_error(&self, record: &RefundRecord, e: &Error) -> Result<(u16, String)> {
        self.finish(record, e.http_status(), &e.to_json().to_string())
            .await
    }

    async fn finish(
        &self,
        record: &RefundRecord,
        status: u16,
        body: &str,
    ) -> Result<(u16, String)> {
        self.store
            .finish_refund(&record.request_id, RefundState::Done, status, body)
            .await?;
        self.store
            .unlock_order_refund(&record.order_id, &record.request_id)
            .await?;
        Ok((status, body.to_string()))
    }

    /// Nothing was sent: forget the request and free the order.
    async fn give_up(&self, record: &RefundRecord, e: Error) -> Result<(u16, String)> {
        self.store.abandon_refund(&record.request_id).await?;
        self.store
            .unlock_order_refund(&record.order_id, &record.request_id)
            .await?;
        Err(e)
    }

    async fn load_order(&self, order_id: &str) -> Result<Order> {
        self.store
            .order_with_attempts(order_id)
            .await?
            .map(|(order, _)| order)
            .ok_or_else(|| Error::NotFound {
                what: "order",
                id: order_id.to_string(),
            })
    }
}

/// How long iyzico's reporting may lag a refund being processed: before
/// that, a report without our refund proves nothing (UNCONFIRMED figure,
/// docs/iyzico-wire.md).
pub const IYZICO_REPORT_SETTLE_MS: i64 = 120_000;

fn stripe_refund_refused(id: &str, status: String) -> Error {
    Error::Provider(crate::error::ProviderError {
        provider: "stripe",
        failure: ProviderFailure::Rejected,
        provider_code: Some(status),
        decline_code: None,
        message: format!("Stripe refund {id} did not go through"),
        request_id: None,
    })
}

/// `payment.refunded` for a payment the order did not keep: its
/// `providerRef` is that payment, `paymentStatus` the order's (unchanged).
fn unwanted_refunded_event(
    record: &RefundRecord,
    plan: &RefundPlan,
    amount: Money,
    order_status: PaymentStatus,
) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::PaymentRefunded,
        event_id: record.event_id(),
        occurred_at: now_rfc3339(),
        detail: EventDetail::Payment(crate::domain::event::PaymentDetail {
            order_id: record.order_id.clone(),
            provider: record.provider.clone(),
            provider_ref: plan.provider_ref.clone(),
            amount: Some(amount),
            payment_status: order_status.as_str().into(),
            failure_code: None,
            failure_message: None,
            dispute_reason: None,
        }),
    }
}

/// The alert for a refund whose outcome the gateway's records cannot settle.
fn unclear_refund_event(
    record: &RefundRecord,
    plan: &RefundPlan,
    currency: Currency,
    message: &str,
) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::IntegrationError,
        event_id: format!("{}:unclear", record.event_id()),
        occurred_at: now_rfc3339(),
        detail: EventDetail::IntegrationError(IntegrationErrorDetail {
            kind: "refund_outcome_unclear".into(),
            provider: record.provider.clone(),
            order_id: Some(record.order_id.clone()),
            provider_ref: Some(plan.provider_ref.clone()),
            expected: Some(Money::new(plan.after, currency)),
            received: None,
            message: format!(
                "refund request {}: {message}; the order's refunds wait until a person settles it",
                record.request_id
            ),
            action: Some(crate::domain::payment_ledger::REVIEW.into()),
        }),
    }
}

/// iyzico gives refunds no id of its own in its answer: ours names the
/// payment and the request.
fn iyzico_refund_id(record: &RefundRecord, plan: &RefundPlan) -> String {
    let what = match record.operation {
        RefundOperation::Refund => "refund",
        RefundOperation::Cancel => "cancel",
    };
    format!("{what}-{}-{}", plan.provider_ref, record.request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(refunds: serde_json::Value, cancels: serde_json::Value) -> PaymentDetailsReport {
        serde_json::from_value(json!({
            "status": "success",
            "payments": [{
                "paymentId": 12345678, "paymentRefundStatus": "PARTIALLY_REFUNDED",
                "currency": "TRY", "cancels": cancels,
                "itemTransactions": [{"paymentTransactionId": 1, "refunds": refunds}]
            }]
        }))
        .unwrap()
    }

    fn plan(before: i64, amount: i64) -> RefundPlan {
        RefundPlan {
            amount,
            before,
            after: before + amount,
            to: PaymentStatus::PartiallyRefunded,
            provider_ref: "12345678".into(),
        }
    }

    fn record(op: RefundOperation) -> RefundRecord {
        RefundRecord::new("req-1", "ord-1", "iyzico", op, Some(2_500))
    }

    #[test]
    fn iyzico_report_decides_whether_our_refund_happened() {
        let r = record(RefundOperation::Refund);
        let none = report(json!([]), json!([]));
        assert_eq!(
            resolve_iyzico(&none, &r, &plan(0, 2_500), Currency::TRY).unwrap(),
            Resolution::NotExecuted
        );
        let ours = report(
            json!([{"refundPrice": 25.0, "refundConversationId": "req-1"}]),
            json!([]),
        );
        assert_eq!(
            resolve_iyzico(&ours, &r, &plan(0, 2_500), Currency::TRY).unwrap(),
            Resolution::Executed
        );
        // No echo of our id, but the total moved by exactly our refund.
        let by_total = report(
            json!([{"refundPrice": 10}, {"refundPrice": 25.5}]),
            json!([]),
        );
        assert_eq!(
            resolve_iyzico(&by_total, &r, &plan(1_000, 2_550), Currency::TRY).unwrap(),
            Resolution::Executed
        );
        assert_eq!(
            resolve_iyzico(&by_total, &r, &plan(3_550, 100), Currency::TRY).unwrap(),
            Resolution::NotExecuted
        );
        // A failed refund counts for nothing; an unexplained total is unclear.
        let failed = report(
            json!([{"refundPrice": 25.0, "refundConversationId": "req-1", "errorCode": "10"}]),
            json!([]),
        );
        assert_eq!(
            resolve_iyzico(&failed, &r, &plan(0, 2_500), Currency::TRY).unwrap(),
            Resolution::NotExecuted
        );
        // A bigger panel refund must not pass for ours.
        let panel = report(json!([{"refundPrice": 40}]), json!([]));
        assert!(matches!(
            resolve_iyzico(&panel, &r, &plan(0, 3_000), Currency::TRY).unwrap(),
            Resolution::Unclear(_)
        ));
        let odd = report(json!([{"refundPrice": 5}]), json!([]));
        assert!(matches!(
            resolve_iyzico(&odd, &r, &plan(0, 2_500), Currency::TRY).unwrap(),
            Resolution::Unclear(_)
        ));
    }

    #[test]
    fn a_cancel_shows_as_a_cancel() {
        let r = record(RefundOperation::Cancel);
        let cancelled = report(json!([]), json!([{"refundPrice": 100.0}]));
        assert_eq!(
            resolve_iyzico(&cancelled, &r, &plan(0, 10_000), Currency::TRY).unwrap(),
            Resolution::Executed
        );
        let other_payment = PaymentDetailsReport { payments: vec![] };
        assert!(matches!(
            resolve_iyzico(&other_payment, &r, &plan(0, 10_000), Currency::TRY).unwrap(),
            Resolution::Unclear(_)
        ));
    }
}
