//! The `reconcile` function: every day, the previous Istanbul day's payments
//! as Stripe and iyzico list them, against our ledgers (README
//! § Reconciliation).
//!
//! Triggers (one Lambda, three inputs):
//! - the nightly schedule → the previous Istanbul day, as the run
//!   `schedule-<day>` (a retry or a second firing resumes or rejoins it);
//! - `reconciliation.requested` (docs/events.md) from the route below or
//!   from a run that ran out of time → that day and run, from its cursors;
//! - HTTP API (IAM): `POST /integrations/reconciliation/{day}` starts a run
//!   of a day (answers 202: it publishes `reconciliation.requested`);
//!   `GET /integrations/reconciliation/{day}` answers the day's report.
//!
//! A run is a sequence of passes, each a paged list read with a cursor
//! stored after every page (`ReconciliationStore`), so memory holds one page
//! and a run resumes in the next invocation without reading a page twice:
//! 1. `stripe-events`: Stripe's events of the day (and of the day after, for
//!    payments that succeed after midnight) of the types the webhook acts on,
//!    fed through the webhook's own intake (`DeliveryApplier`, same claim,
//!    same `evt_…` identity): a lost notice or a dashboard refund is applied
//!    exactly once, and the late webhook is then a duplicate.
//! 2. `stripe-intents`: the PaymentIntents created in the day against our
//!    ledgers; what is still different is a difference.
//! 3. `iyzico-transactions`: iyzico's daily transaction report; a lost
//!    success is applied under the identity its webhook would carry
//!    (`<paymentId>:SUCCESS`), a refund made in iyzico's panel under
//!    `refund:<paymentId>:<refunded total>`.
//!
//! Each difference is stored once per day (`DIFF#…`) and published once as
//! `reconciliation.mismatch` (an alarm counts them); `reconciliation.completed`
//! closes each run with the counts. Marketplace orders are not reconciled yet
//! (the report says so under `notChecked`).

use futures_util::stream::{self, TryStreamExt};
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::idempotency::{IdempotencyStore, Once};
use crate::api::{http_api_answer, http_api_route};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::{now_ms, now_rfc3339};
use crate::config::{
    self, HttpSettings, IyzicoSettings, ProcessEnv, ReconcileSettings, Source, StripeSettings,
};
use crate::domain::delivery::{unix_to_rfc3339, Delivery, Effect, OrderRef, PaymentNotice};
use crate::domain::operations::validate_day;
use crate::domain::payment_ledger::PaymentLedger;
use crate::domain::reconciliation::{
    check_payment, completed_event, istanbul_day_bounds, mismatch_event, previous_istanbul_day,
    requested, requested_event, unhealed, Collection, CompletedDetail, DayReport, Heal, HealedFact,
    ProviderPayment, RequestedDetail,
};
use crate::domain::PaymentEventKind;
use crate::error::{Error, Result};
use crate::intake::payment_notices::{delivery_claim, DeliveryApplier};
use crate::money::{Currency, Money};
use crate::ports::{
    EventPublisher, LedgerBatchReader, MarketplaceOrderStore, OrderReader, PassState,
    PaymentLedgerStore, ReconciliationStore, RefundRequestStore,
};
use crate::providers::http::HttpLayer;
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::iyzico::webhook::payment_event_identity;
use crate::providers::iyzico::wire::ReportedTransaction;
use crate::providers::stripe::webhook::normalize_stripe_event;
use crate::providers::stripe::wire::ListedPaymentIntent;
use crate::providers::stripe::{from_stripe_amount, StripeClient};

/// The Stripe event types the webhook acts on for payments and refunds.
pub const STRIPE_EVENT_TYPES: [&str; 2] = ["payment_intent.succeeded", "charge.refunded"];
pub const PASS_STRIPE_EVENTS: &str = "stripe-events";
pub const PASS_STRIPE_INTENTS: &str = "stripe-intents";
pub const PASS_IYZICO: &str = "iyzico-transactions";
/// What this function does not compare yet; listed on every report.
pub const NOT_CHECKED: [&str; 2] = [
    "marketplace orders (Trendyol, Hepsiburada) and their settlement lines",
    "missing_at_provider: our payments the provider does not list",
];

/// Answered by the handler: the day's report as it stands.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunAnswer {
    /// `completed`, `continued` (out of time: the next invocation goes on),
    /// `superseded` (a newer run of the day took over).
    pub outcome: &'static str,
    pub report: Option<DayReport>,
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    stripe: Option<StripeClient>,
    iyzico: Option<IyzicoClient>,
    settings: ReconcileSettings,
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        let stripe = match env.get("STRIPE_SECRET_KEY") {
            Some(_) => Some(StripeClient::new(
                http.clone(),
                StripeSettings::from_env(&env)?,
            )),
            None => None,
        };
        let iyzico = IyzicoSettings::from_env(&env)?.map(|s| IyzicoClient::new(http, s));
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), config::event_bus_name(&env)?),
            stripe,
            iyzico,
            ReconcileSettings::from_env(&env)?,
        ))
    }
}

/// How one pass ended in this invocation.
enum PassEnd {
    Done,
    OutOfTime,
    /// Another invocation moved the cursor first: this one stops.
    Superseded,
}

impl<S, P> App<S, P>
where
    S: ReconciliationStore
        + LedgerBatchReader
        + IdempotencyStore
        + PaymentLedgerStore
        + MarketplaceOrderStore
        + RefundRequestStore
        + OrderReader,
    P: EventPublisher,
{
    pub fn new(
        store: S,
        publisher: P,
        stripe: Option<StripeClient>,
        iyzico: Option<IyzicoClient>,
        settings: ReconcileSettings,
    ) -> Self {
        App {
            store,
            publisher,
            stripe,
            iyzico,
            settings,
        }
    }

    /// The Lambda handler: an HTTP API request (IAM), a
    /// `reconciliation.requested` event, or the schedule.
    pub async fn handle(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<Value>,
    ) -> std::result::Result<Value, lambda_http::Error> {
        let now = now_ms();
        let deadline_ms = match i64::try_from(event.context.deadline) {
            Ok(d) if d > now => d,
            // Local invokes: 15 minutes, as the function's timeout.
            _ => now + 900_000,
        };
        let input = event.payload;
        if let Some((method, path)) = http_api_route(&input) {
            return Ok(self.route(method, path).await);
        }
        let request = match requested(&input) {
            Some(r) => r,
            None => {
                // The schedule: yesterday in Istanbul, as the day's one
                // scheduled run, so a retry (or a second firing) resumes or
                // rejoins it instead of starting over.
                let day = previous_istanbul_day(now);
                RequestedDetail {
                    run_id: format!("schedule-{day}"),
                    day,
                    continuation: 0,
                }
            }
        };
        let answer = self.run(&request, deadline_ms).await?;
        if answer.outcome == "completed" {
            crate::telemetry::emit_heartbeat("reconcile");
        }
        Ok(serde_json::to_value(answer)?)
    }

    /// `POST|GET /integrations/reconciliation/{day}`, answered in the HTTP
    /// API's payload format 2.0.
    async fn route(&self, method: &str, path: &str) -> Value {
        let day = path
            .strip_prefix("/integrations/reconciliation/")
            .unwrap_or("")
            .to_string();
        let result = match validate_day(&day) {
            Err(e) => Err(e),
            Ok(()) => match method {
                "GET" => match self.store.day_report(&day).await {
                    Ok(Some(report)) => Ok((200, serde_json::to_value(report).unwrap_or_default())),
                    Ok(None) => Err(Error::NotFound {
                        what: "reconciliation",
                        id: day.clone(),
                    }),
                    Err(e) => Err(e),
                },
                "POST" => self.request_run(&day).await.map(|v| (202, v)),
                _ => Err(Error::validation("method", "GET or POST")),
            },
        };
        let (status, body) = match result {
            Ok(ok) => ok,
            Err(e) => {
                if e.http_status() >= 500 {
                    tracing::error!(code = e.code(), error = %e, "reconciliation route failed");
                }
                (e.http_status(), e.to_json())
            }
        };
        http_api_answer(status, &body)
    }

    async fn request_run(&self, day: &str) -> Result<Value> {
        let run_id = format!("manual-{}-{:08x}", now_ms(), fastrand::u32(..));
        let detail = RequestedDetail {
            day: day.to_string(),
            run_id: run_id.clone(),
            continuation: 0,
        };
        self.publisher
            .publish(&[requested_event(detail, &now_rfc3339())])
            .await?;
        Ok(json!({
            "day": day,
            "runId": run_id,
            "event": "reconciliation.requested",
            "report": format!("/integrations/reconciliation/{day}"),
        }))
    }

    /// Runs (or goes on with) a run of a day until it is done or the
    /// invocation is out of time; then asks for its continuation.
    pub async fn run(&self, request: &RequestedDetail, deadline_ms: i64) -> Result<RunAnswer> {
        let day = request.day.as_str();
        let run_id = request.run_id.as_str();
        istanbul_day_bounds(day)?;
        self.store.start_run(day, run_id, &now_rfc3339()).await?;
        let stop_at = deadline_ms - self.settings.stop_margin.as_millis() as i64;
        let mut passes: Vec<&str> = Vec::new();
        if self.stripe.is_some() {
            passes.extend([PASS_STRIPE_EVENTS, PASS_STRIPE_INTENTS]);
        }
        if self.iyzico.is_some() {
            passes.push(PASS_IYZICO);
        }
        for pass in passes {
            match self.run_pass(day, run_id, pass, stop_at).await? {
                PassEnd::Done => {}
                PassEnd::Superseded => {
                    tracing::warn!(
                        day,
                        run_id,
                        pass,
                        "another invocation moved the cursor; stopping"
                    );
                    return Ok(RunAnswer {
                        outcome: "superseded",
                        report: self.store.day_report(day).await?,
                    });
                }
                PassEnd::OutOfTime => {
                    if request.continuation >= self.settings.max_continuations {
                        return Err(Error::Internal(format!(
                            "reconciliation of {day} (run {run_id}) still unfinished after {} invocations",
                            request.continuation + 1
                        )));
                    }
                    let next = RequestedDetail {
                        day: day.to_string(),
                        run_id: run_id.to_string(),
                        continuation: request.continuation + 1,
                    };
                    tracing::info!(
                        day,
                        run_id,
                        pass,
                        continuation = next.continuation,
                        "out of time; continuing"
                    );
                    self.publisher
                        .publish(&[requested_event(next, &now_rfc3339())])
                        .await?;
                    return Ok(RunAnswer {
                        outcome: "continued",
                        report: self.store.day_report(day).await?,
                    });
                }
            }
        }
        self.finish(day, run_id).await
    }

    /// Publishes `reconciliation.completed` (before marking the run so: a
    /// failure in between publishes again with the same id) and answers.
    async fn finish(&self, day: &str, run_id: &str) -> Result<RunAnswer> {
        let Some(mut report) = self.store.day_report(day).await? else {
            return Err(Error::Store(format!("the report of {day} vanished")));
        };
        if report.run_id != run_id {
            return Ok(RunAnswer {
                outcome: "superseded",
                report: Some(report),
            });
        }
        if report.status == "running" {
            let detail = CompletedDetail {
                day: day.to_string(),
                run_id: run_id.to_string(),
                providers: report.providers.clone(),
                differences: report.differences.len() as u64,
                healed: report.healed.len() as u64,
            };
            self.publisher
                .publish(&[completed_event(detail, &now_rfc3339())])
                .await?;
            self.store.complete_run(day, run_id, &now_rfc3339()).await?;
            report.status = "completed".into();
        }
        report.not_checked = NOT_CHECKED.iter().map(|s| s.to_string()).collect();
        tracing::info!(
            day,
            run_id,
            differences = report.differences.len(),
            healed = report.healed.len(),
            "reconciliation completed"
        );
        Ok(RunAnswer {
            outcome: "completed",
            report: Some(report),
        })
    }

    /// Reads one pass page by page from its cursor.
    async fn run_pass(&self, day: &str, run_id: &str, pass: &str, stop_at: i64) -> Result<PassEnd> {
        let mut state = self.store.load_pass(day, run_id, pass).await?;
        loop {
            if state.done {
                return Ok(PassEnd::Done);
            }
            if now_ms() >= stop_at {
                return Ok(PassEnd::OutOfTime);
            }
            let next = match pass {
                PASS_STRIPE_EVENTS => self.stripe_events_page(day, &state).await?,
                PASS_STRIPE_INTENTS => self.stripe_intents_page(day, run_id, &state).await?,
                PASS_IYZICO => self.iyzico_page(day, run_id, &state).await?,
                other => return Err(Error::Internal(format!("no pass {other}"))),
            };
            if !self
                .store
                .save_pass(day, run_id, pass, &state, &next)
                .await?
            {
                return Ok(PassEnd::Superseded);
            }
            state = PassState {
                version: state.version + 1,
                ..next
            };
        }
    }

    // ---- Stripe ---------------------------------------------------------------

    fn stripe(&self) -> Result<&StripeClient> {
        self.stripe
            .as_ref()
            .ok_or_else(|| Error::Config("Stripe is not configured".into()))
    }

    /// One page of the day's events through the webhook's intake.
    async fn stripe_events_page(&self, day: &str, state: &PassState) -> Result<PassState> {
        let (start, end) = istanbul_day_bounds(day)?;
        // A payment of the day may succeed (or be refunded) after midnight:
        // its event is read too, up to a day later. Applying one twice is a
        // duplicate claim, nothing more.
        let to = (end + 86_400).min(now_ms() / 1000 + 1);
        let page = self
            .stripe()?
            .list_events_page(
                &STRIPE_EVENT_TYPES,
                start,
                to.max(start),
                self.settings.stripe_page_size,
                state.after.as_deref(),
            )
            .await?;
        let after = match page.data.last() {
            Some(raw) => Some(event_id(raw.get())?),
            None => state.after.clone(),
        };
        // The payment notices of the page, with the order each names.
        let mut notices = Vec::with_capacity(page.data.len());
        for raw in &page.data {
            let body = raw.get().as_bytes();
            let delivery = match normalize_stripe_event(body) {
                Ok(d) => d,
                Err(e) => {
                    // The webhook answers such a payload 400; here it is
                    // skipped and the intents pass judges the payment.
                    tracing::warn!(error = %e, "a Stripe event could not be read");
                    continue;
                }
            };
            let Effect::Payment(notice) = &delivery.effect else {
                continue;
            };
            let fact = match notice.kind {
                PaymentEventKind::Succeeded => "payment_success",
                PaymentEventKind::Refunded { .. } => "refund",
                _ => continue,
            };
            let order_id = match &notice.order {
                OrderRef::Id(id) | OrderRef::Claimed { order_id: id, .. } => Some(id.clone()),
                OrderRef::ProviderRef(r) => self
                    .store
                    .attempt_for_ref(delivery.provider, r)
                    .await?
                    .map(|a| a.order_id),
            };
            if let Some(order_id) = order_id {
                notices.push((body, delivery, fact, order_id));
            }
        }
        // Most were delivered: their order's ledger lists them as applied,
        // and one batch read settles the page (no claim, no audit entry).
        // An order we do not have is left to the intents pass (missing_here),
        // as the webhook leaves it (`unknown_order`, released).
        let ids: Vec<String> = notices.iter().map(|n| n.3.clone()).collect();
        let ledgers = self.store.load_ledgers(&ids).await?;
        let lost = notices.iter().filter(|(_, delivery, _, order_id)| {
            ledgers.get(order_id).is_some_and(|l| {
                !l.applied
                    .contains(&format!("{}:{}", delivery.provider, delivery.event_id))
            })
        });
        stream::iter(lost.map(Ok))
            .try_for_each_concurrent(
                self.settings.concurrency,
                |(body, delivery, fact, _)| async move {
                    self.apply_delivery(day, delivery, body, fact).await
                },
            )
            .await?;
        Ok(PassState {
            done: !page.has_more || page.data.is_empty(),
            after,
            listed: state.listed + page.data.len() as u64,
            requests: state.requests + 1,
            version: state.version,
        })
    }

    /// Applies a delivery through the webhook's claim and intake; records it
    /// as healed when it was new to us and changed something.
    async fn apply_delivery(
        &self,
        day: &str,
        delivery: &Delivery,
        payload: &[u8],
        fact: &str,
    ) -> Result<()> {
        let now = now_ms();
        // The claim's in-progress lease: as long as a webhook's would be.
        let claim = delivery_claim(delivery, payload, now, now + 60_000);
        let once = DeliveryApplier::new(&self.store, &self.publisher)
            .process(delivery, &claim)
            .await?;
        let Once::Ran(outcome) = once else {
            return Ok(()); // the webhook had it (or is on it right now)
        };
        if !matches!(outcome, "applied" | "held") {
            // Not a healing: the intents / report pass judges what is left.
            return Ok(());
        }
        let (provider_ref, order_id) = match &delivery.effect {
            Effect::Payment(n) => (
                n.provider_ref.clone(),
                match &n.order {
                    OrderRef::Id(id) | OrderRef::Claimed { order_id: id, .. } => Some(id.clone()),
                    OrderRef::ProviderRef(_) => None,
                },
            ),
            _ => (String::new(), None),
        };
        tracing::info!(
            day,
            provider = delivery.provider,
            provider_ref = %provider_ref,
            event_id = %delivery.event_id,
            fact,
            "reconciliation applied a lost fact"
        );
        self.store
            .record_healed(
                day,
                &HealedFact {
                    provider: delivery.provider.to_string(),
                    provider_ref,
                    order_id,
                    fact: fact.to_string(),
                    event_id: delivery.event_id.clone(),
                    outcome: outcome.to_string(),
                },
                &now_rfc3339(),
            )
            .await
    }

    /// One page of the PaymentIntents created in the day, compared.
    async fn stripe_intents_page(
        &self,
        day: &str,
        run_id: &str,
        state: &PassState,
    ) -> Result<PassState> {
        let (start, end) = istanbul_day_bounds(day)?;
        let page = self
            .stripe()?
            .list_payment_intents_page(
                start,
                end,
                self.settings.stripe_page_size,
                state.after.as_deref(),
            )
            .await?;
        let mut payments = Vec::with_capacity(page.data.len());
        for pi in &page.data {
            payments.push(stripe_payment(pi)?);
        }
        let ledgers = self.ledgers_for(&payments).await?;
        for (payment, order_id) in &ledgers.0 {
            let ledger = order_id.as_ref().and_then(|id| ledgers.1.get(id));
            let check = check_payment(payment, ledger);
            // The events pass applied every notice Stripe still has: a fact
            // still missing could not be applied through the webhook's path.
            let difference = check
                .difference
                .or_else(|| check.heal.first().map(|h| unhealed(payment, ledger, h)));
            if let Some(d) = difference {
                self.report_difference(day, run_id, &d).await?;
            }
        }
        Ok(PassState {
            done: !page.has_more || page.data.is_empty(),
            after: page
                .data
                .last()
                .map(|pi| pi.id.clone())
                .or_else(|| state.after.clone()),
            listed: state.listed + page.data.len() as u64,
            requests: state.requests + 1,
            version: state.version,
        })
    }

    /// The order each payment names (or our record of its reference leads
    /// to), and those orders' ledgers, read in one batch.
    async fn ledgers_for<'p>(
        &self,
        payments: &'p [ProviderPayment],
    ) -> Result<PaymentsWithLedgers<'p>> {
        let mut resolved = Vec::with_capacity(payments.len());
        for p in payments {
            let order_id = match &p.order_id {
                Some(id) => Some(id.clone()),
                None => self
                    .store
                    .attempt_for_ref(p.provider, &p.provider_ref)
                    .await?
                    .map(|a| a.order_id),
            };
            resolved.push((p, order_id));
        }
        let ids: Vec<String> = resolved.iter().filter_map(|(_, id)| id.clone()).collect();
        let ledgers = self.store.load_ledgers(&ids).await?;
        Ok((resolved, ledgers))
    }

    /// One payment's ledger, read again after a heal.
    async fn ledger_for(&self, payment: &ProviderPayment) -> Result<Option<PaymentLedger>> {
        let (resolved, mut ledgers) = self.ledgers_for(std::slice::from_ref(payment)).await?;
        Ok(resolved
            .into_iter()
            .next()
            .and_then(|(_, id)| id)
            .and_then(|id| ledgers.remove(&id)))
    }

    /// Stores a difference once per day and publishes it until published.
    async fn report_difference(
        &self,
        day: &str,
        run_id: &str,
        difference: &crate::domain::reconciliation::Difference,
    ) -> Result<()> {
        let now = now_rfc3339();
        if !self
            .store
            .record_difference(day, run_id, difference, &now)
            .await?
        {
            return Ok(());
        }
        tracing::error!(
            day,
            kind = difference.kind.as_str(),
            provider = %difference.provider,
            provider_ref = %difference.provider_ref,
            "reconciliation difference"
        );
        self.publisher
            .publish(&[mismatch_event(day, difference, &now)])
            .await?;
        self.store
            .mark_difference_published(day, &difference.key())
            .await
    }

    // ---- iyzico ---------------------------------------------------------------

    fn iyzico(&self) -> Result<&IyzicoClient> {
        self.iyzico
            .as_ref()
            .ok_or_else(|| Error::Config("iyzico is not configured".into()))
    }

    /// One page of iyzico's daily report: payments compared (a lost success
    /// applied), refunds and cancels of the day checked against the
    /// payment's reporting details.
    async fn iyzico_page(&self, day: &str, run_id: &str, state: &PassState) -> Result<PassState> {
        let page_no: u32 = match &state.after {
            Some(p) => {
                p.parse::<u32>()
                    .map_err(|_| Error::Store(format!("bad iyzico cursor {p:?}")))?
                    + 1
            }
            None => 1,
        };
        let report = self.iyzico()?.transactions_page(day, page_no).await?;
        let mut requests = 1;
        let mut refunded_payments: Vec<String> = Vec::new();
        let mut payments = Vec::new();
        for t in &report.transactions {
            let Some(pid) = t.payment_id.clone().filter(|p| !p.is_empty()) else {
                continue;
            };
            match t.transaction_type.as_str() {
                "PAYMENT" => payments.push(t),
                "REFUND" | "CANCEL" if !refunded_payments.contains(&pid) => {
                    refunded_payments.push(pid);
                }
                _ => {}
            }
        }
        let mut listed = Vec::with_capacity(payments.len());
        for t in payments {
            if let Some(p) = iyzico_payment(t)? {
                listed.push(p);
            }
        }
        let (resolved, ledgers) = self.ledgers_for(&listed).await?;
        stream::iter(resolved.iter().map(Ok))
            .try_for_each_concurrent(self.settings.concurrency, |(payment, order_id)| {
                let ledger = order_id.as_ref().and_then(|id| ledgers.get(id)).cloned();
                async move { self.settle_iyzico(day, run_id, payment, ledger).await }
            })
            .await?;
        // Refunds: few a day; their cumulative total from the payment's
        // reporting details (one read each).
        for pid in &refunded_payments {
            requests += 1;
            self.check_iyzico_refunds(day, run_id, pid).await?;
        }
        let total = report.total_page_count.unwrap_or(0);
        Ok(PassState {
            done: report.transactions.is_empty() || page_no >= total,
            after: Some(page_no.to_string()),
            listed: state.listed + report.transactions.len() as u64,
            requests: state.requests + requests,
            version: state.version,
        })
    }

    /// Applies what iyzico proves and we lack, then reports what still differs.
    async fn settle_iyzico(
        &self,
        day: &str,
        run_id: &str,
        payment: &ProviderPayment,
        ledger: Option<PaymentLedger>,
    ) -> Result<()> {
        let mut ledger = ledger;
        let check = check_payment(payment, ledger.as_ref());
        if let (false, Some(order_id)) = (
            check.heal.is_empty(),
            &ledger.as_ref().map(|l| l.order_id.clone()),
        ) {
            for heal in &check.heal {
                self.apply_iyzico(day, order_id, &payment.provider_ref, heal, payment.amount)
                    .await?;
            }
            ledger = self.ledger_for(payment).await?;
        }
        let after = check_payment(payment, ledger.as_ref());
        let difference = after.difference.or_else(|| {
            after
                .heal
                .first()
                .map(|h| unhealed(payment, ledger.as_ref(), h))
        });
        if let Some(d) = difference {
            self.report_difference(day, run_id, &d).await?;
        }
        Ok(())
    }

    async fn check_iyzico_refunds(&self, day: &str, run_id: &str, pid: &str) -> Result<()> {
        let report = self.iyzico()?.payment_details(pid).await?;
        let Some(payment) = report
            .payments
            .iter()
            .find(|p| p.payment_id.as_deref() == Some(pid))
        else {
            tracing::warn!(
                payment_id = pid,
                "iyzico's details do not list a payment its report named"
            );
            return Ok(());
        };
        let currency = Currency::parse(payment.currency.as_deref().unwrap_or("TRY"))?;
        let Some(price) = &payment.price else {
            return Ok(());
        };
        let amount = Money::parse_major(&price.to_string(), currency)?;
        let mut refunded = 0i64;
        for r in payment
            .item_transactions
            .iter()
            .flat_map(|i| &i.refunds)
            .chain(&payment.cancels)
            .filter(|r| r.error_code.is_none())
        {
            if let Some(p) = &r.refund_price {
                refunded += Money::parse_major(&p.to_string(), currency)?.minor;
            }
        }
        let cancelled = payment.cancels.iter().any(|c| c.error_code.is_none());
        if cancelled {
            refunded = refunded.max(amount.minor);
        }
        let p = ProviderPayment {
            provider: "iyzico",
            provider_ref: pid.to_string(),
            order_id: payment.basket_id.clone().filter(|o| !o.is_empty()),
            collection: Collection::Collected,
            provider_status: payment
                .payment_refund_status
                .clone()
                .unwrap_or_else(|| "REFUNDED".into()),
            amount,
            refunded_minor: Some(refunded),
        };
        // A lost success of the same payment is applied first (the same
        // identity as its PAYMENT row's, so whichever comes first applies).
        let ledger = self.ledger_for(&p).await?;
        self.settle_iyzico(day, run_id, &p, ledger).await
    }

    /// Applies an iyzico fact through the webhook's claim and intake, under
    /// the identity its webhook carries (a success) or one made of the
    /// payment and its new refunded total (iyzico sends no refund notice).
    async fn apply_iyzico(
        &self,
        day: &str,
        order_id: &str,
        pid: &str,
        heal: &Heal,
        amount: Money,
    ) -> Result<()> {
        let (event_id, kind, notice_amount, fact) = match heal {
            Heal::Success => (
                payment_event_identity(pid, "SUCCESS"),
                PaymentEventKind::Succeeded,
                amount,
                "payment_success",
            ),
            Heal::Refund {
                refunded_total,
                full,
            } => (
                format!("refund:{pid}:{refunded_total}"),
                PaymentEventKind::Refunded {
                    refunded_total: *refunded_total,
                    full: *full,
                },
                Money::new(*refunded_total, amount.currency),
                "refund",
            ),
        };
        let delivery = Delivery {
            provider: "iyzico",
            event_id: event_id.clone(),
            event_type: format!("reconciliation:{fact}"),
            occurred_at: unix_to_rfc3339(now_ms() / 1000).unwrap_or_else(now_rfc3339),
            effect: Effect::Payment(PaymentNotice {
                // Read back from iyzico's own report over our signed
                // request: the order and amount are iyzico's word.
                order: OrderRef::Id(order_id.to_string()),
                provider_ref: pid.to_string(),
                kind,
                amount: Some(notice_amount),
            }),
        };
        let payload = format!("reconciliation:{event_id}");
        self.apply_delivery(day, &delivery, payload.as_bytes(), fact)
            .await
    }
}

/// Payments with the order each resolves to, and those orders' ledgers.
type PaymentsWithLedgers<'p> = (
    Vec<(&'p ProviderPayment, Option<String>)>,
    std::collections::HashMap<String, PaymentLedger>,
);

/// A listed PaymentIntent as a provider payment.
fn stripe_payment(pi: &ListedPaymentIntent) -> Result<ProviderPayment> {
    let succeeded = pi.status == "succeeded";
    let collected = if succeeded && pi.amount_received > 0 {
        pi.amount_received
    } else {
        pi.amount
    };
    let refunded = match &pi.latest_charge {
        Some(charge) => from_stripe_amount(charge.amount_refunded, &pi.currency)?.minor,
        None => 0,
    };
    Ok(ProviderPayment {
        provider: "stripe",
        provider_ref: pi.id.clone(),
        order_id: pi
            .metadata
            .get("order_id")
            .filter(|o| !o.is_empty())
            .cloned(),
        collection: if succeeded {
            Collection::Collected
        } else {
            Collection::NotCollected
        },
        provider_status: pi.status.clone(),
        amount: from_stripe_amount(collected, &pi.currency)?,
        refunded_minor: Some(refunded),
    })
}

/// A PAYMENT row of iyzico's daily report as a provider payment (`None`
/// without a price). The order: `basketId`, else `conversationId` (we send
/// the order id in both).
fn iyzico_payment(t: &ReportedTransaction) -> Result<Option<ProviderPayment>> {
    let pid = t.payment_id.clone().unwrap_or_default();
    let currency = Currency::parse(t.transaction_currency.as_deref().unwrap_or("TRY"))?;
    let Some(price) = &t.price else {
        tracing::warn!(payment_id = %pid, "iyzico listed a payment without a price");
        return Ok(None);
    };
    Ok(Some(ProviderPayment {
        provider: "iyzico",
        provider_ref: pid,
        order_id: t
            .basket_id
            .clone()
            .or_else(|| t.conversation_id.clone())
            .filter(|o| !o.is_empty()),
        // The daily report lists payments made (docs/iyzico-wire.md I39).
        collection: Collection::Collected,
        provider_status: "PAYMENT".into(),
        amount: Money::parse_major(&price.to_string(), currency)?,
        refunded_minor: None,
    }))
}

/// The `id` of a raw Stripe event.
fn event_id(raw: &str) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    serde_json::from_str::<Id>(raw)
        .map(|i| i.id)
        .map_err(|e| Error::Internal(format!("a Stripe event without an id: {e}")))
}
