//! The `reconcile` function: every day, the previous Istanbul day's payments
//! as Stripe and iyzico list them, and its marketplace orders as Trendyol
//! and Hepsiburada list them, against our records (README
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
//! 4. `<marketplace>-orders` (Trendyol, Hepsiburada): the day's orders
//!    through order-poll's own clients (Trendyol: packages last modified in
//!    the day; Hepsiburada: paid lines added in the day), each compared with
//!    the stored order: one we lack, or whose marketplace status is further
//!    along, is taken in through the order intake the poll and the webhook
//!    use (stock moves once; a late webhook is unchanged); another amount,
//!    or a status behind ours, is a difference.
//! 5. `<marketplace>-ours`: our orders first seen in the day (gsi2) that
//!    the list did not show are asked for (Trendyol by package id,
//!    Hepsiburada by order number); one the marketplace does not find is
//!    `missing_at_provider`.
//! 6. `trendyol-settlements`: Trendyol's sale and return records dated in
//!    the day (its current-account statement, one type at a time), each
//!    compared with the line of our order it names
//!    (`domain::reconciliation::settlements`): a sale for another amount is
//!    `amount_differs`, a return we hold no claim or return for is
//!    `refund_differs`, an order we lack is read back by its package and
//!    taken in (else `missing_here`); a sale that agrees leaves its
//!    commission on the line (one conditional write, none on a rerun).
//!
//! Each difference is stored once per day (`DIFF#…`) and published once as
//! `reconciliation.mismatch` (an alarm counts them); `reconciliation.completed`
//! closes each run with the counts. What is not compared is listed on the
//! report under `notChecked` ([`NOT_CHECKED`]).

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
use crate::domain::marketplace::{Marketplace, Marketplaces};
use crate::domain::marketplace_order::{status_of, status_words, MarketplaceOrder, OrderSnapshot};
use crate::domain::operations::validate_day;
use crate::domain::payment_ledger::PaymentLedger;
use crate::domain::reconciliation::settlements::{
    check_settlement, settlement_missing_here, with_commission, SettlementKind, SettlementRecord,
};
use crate::domain::reconciliation::{
    check_marketplace_order, check_payment, completed_event, istanbul_day_bounds,
    marketplace_not_taken, mismatch_event, missing_at_marketplace, missing_payment_at_provider,
    previous_istanbul_day, requested, requested_event, unhealed, Collection, CompletedDetail,
    DayReport, Heal, HealedFact, OrderCheck, ProviderPayment, RequestedDetail,
};
use crate::domain::PaymentEventKind;
use crate::error::{Error, Result};
use crate::intake::marketplace_orders::{Intake, OrderIntake};
use crate::intake::payment_notices::{delivery_claim, DeliveryApplier};
use crate::money::{Currency, Money};
use crate::ports::{
    EventPublisher, LedgerBatchReader, MarketplaceOrderList, MarketplaceOrderStore, OrderReader,
    PassState, PaymentDayList, PaymentLedgerStore, ReconciliationStore, RefundRequestStore,
};
use crate::providers::http::HttpLayer;
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::iyzico::webhook::payment_event_identity;
use crate::providers::iyzico::wire::ReportedTransaction;
use crate::providers::marketplace::hepsiburada::orders::{self as hb, HepsiburadaOrders};
use crate::providers::marketplace::orders::{order_clients, OrderClient, OrderClients};
use crate::providers::marketplace::trendyol::orders::TrendyolOrders;
use crate::providers::stripe::webhook::normalize_stripe_event;
use crate::providers::stripe::wire::ListedPaymentIntent;
use crate::providers::stripe::{from_stripe_amount, StripeClient};

/// The Stripe event types the webhook acts on for payments and refunds.
pub const STRIPE_EVENT_TYPES: [&str; 2] = ["payment_intent.succeeded", "charge.refunded"];
pub const PASS_STRIPE_EVENTS: &str = "stripe-events";
pub const PASS_STRIPE_INTENTS: &str = "stripe-intents";
pub const PASS_IYZICO: &str = "iyzico-transactions";
/// Our payments of the day (gsi2 `PAYDAY#…`) the provider's list did not
/// show, asked for one by one.
pub const PASS_STRIPE_OURS: &str = "stripe-ours";
pub const PASS_IYZICO_OURS: &str = "iyzico-ours";
/// A marketplace's order list of the day: `<marketplace>-orders`.
pub const PASS_ORDERS_SUFFIX: &str = "-orders";
/// Our own orders of the day the marketplace did not list, asked for one
/// by one: `<marketplace>-ours`.
pub const PASS_OURS_SUFFIX: &str = "-ours";
/// Trendyol's settlement records of the day: `trendyol-settlements`.
pub const PASS_SETTLEMENTS_SUFFIX: &str = "-settlements";
/// Hepsiburada's accounting records of the day: `hepsiburada-accounting`.
pub const PASS_ACCOUNTING_SUFFIX: &str = "-accounting";
/// The settlement record types compared, in the order they are read (one
/// `transactionType` per request, T15).
const SETTLEMENT_KINDS: [SettlementKind; 2] = [SettlementKind::Sale, SettlementKind::Return];
/// Records per settlement page: the smaller of the two sizes Trendyol
/// accepts (T15).
const TRENDYOL_SETTLEMENT_PAGE: u32 = 500;
/// What this function does not compare yet; listed on every report
/// (README § Reconciliation says why).
pub const NOT_CHECKED: [&str; 2] = [
    "Trendyol's Discount, Coupon and Provision records and Hepsiburada's accounting records other than Payment, Return and Commission: not read (docs/marketplace-wire.md T15, H14)",
    "missing_at_provider for payments recorded before the by-day index existed (their attempts carry no PAYDAY key)",
];
/// Trendyol finds a package by id without dates only in the last week
/// (docs/marketplace-wire.md T8); older days are not asked about.
const TRENDYOL_DIRECT_READ_DAYS: i64 = 6;
/// Our orders of the day read per index page.
const OURS_PAGE: i32 = 100;
/// Re-reads of a marketplace day whose list kept changing between pages.
const MAX_REREADS: i64 = 5;
/// Records Trendyol serves for one query (`page × size`), as order-poll.
const TRENDYOL_MAX_RECORDS: u64 = 10_000;

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
    /// The order clients order-poll uses, with this function's share of
    /// Trendyol's rate limit.
    marketplaces: OrderClients,
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
        let iyzico = IyzicoSettings::from_env(&env)?.map(|s| IyzicoClient::new(http.clone(), s));
        let settings = ReconcileSettings::from_env(&env)?;
        let marketplaces = order_clients(&env, &http, settings.trendyol_requests_per_10s)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), config::event_bus_name(&env)?),
            stripe,
            iyzico,
            settings,
        )
        .with_marketplaces(marketplaces))
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
        + OrderReader
        + MarketplaceOrderList
        + PaymentDayList,
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
            marketplaces: Marketplaces::build(|_| None),
            settings,
        }
    }

    /// Reconciles these marketplaces' orders too.
    pub fn with_marketplaces(mut self, marketplaces: OrderClients) -> Self {
        self.marketplaces = marketplaces;
        self
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
        let mut passes: Vec<String> = Vec::new();
        if self.stripe.is_some() {
            passes.extend([
                PASS_STRIPE_EVENTS.into(),
                PASS_STRIPE_INTENTS.into(),
                PASS_STRIPE_OURS.into(),
            ]);
        }
        if self.iyzico.is_some() {
            passes.extend([PASS_IYZICO.into(), PASS_IYZICO_OURS.into()]);
        }
        for (marketplace, _) in self.marketplaces.iter_configured() {
            passes.push(format!("{}{PASS_ORDERS_SUFFIX}", marketplace.as_str()));
            // Our own orders of the day the list did not show, asked for
            // one by one (both marketplaces can be asked for one order).
            passes.push(format!("{}{PASS_OURS_SUFFIX}", marketplace.as_str()));
            passes.push(format!(
                "{}{}",
                marketplace.as_str(),
                settlement_pass(marketplace)
            ));
        }
        for pass in passes.iter().map(String::as_str) {
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
        report.not_checked = self.not_checked();
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

    /// What this run does not compare: the fixed list, and each
    /// marketplace this deployment has no credentials for.
    fn not_checked(&self) -> Vec<String> {
        let mut list: Vec<String> = NOT_CHECKED.iter().map(|s| s.to_string()).collect();
        for (marketplace, client) in self.marketplaces.iter() {
            if client.is_none() {
                list.push(format!(
                    "{} orders: not configured in this deployment",
                    marketplace.as_str()
                ));
            }
        }
        list
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
                PASS_STRIPE_OURS => {
                    self.payments_ours_page(day, run_id, "stripe", &state)
                        .await?
                }
                PASS_IYZICO_OURS => {
                    self.payments_ours_page(day, run_id, "iyzico", &state)
                        .await?
                }
                other => self.marketplace_page(day, run_id, other, &state).await?,
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
        let ids: Vec<String> = page.data.iter().map(|pi| pi.id.clone()).collect();
        self.store.mark_listed(day, run_id, "stripe", &ids).await?;
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

    // ---- our payments the provider did not list ------------------------------

    /// One page of our attempts of the day with `provider` (gsi2). The
    /// payment that paid each one's order (the ledger's reference: for
    /// iyzico the paymentId, not the checkout token the attempt is keyed
    /// by), when the provider's list of the day did not show it, is asked
    /// for directly: found, it is compared as if listed (a payment of a
    /// neighbouring day is no false difference); unknown, it is
    /// `missing_at_provider`. Attempts that collected nothing cost no request.
    async fn payments_ours_page(
        &self,
        day: &str,
        run_id: &str,
        provider: &'static str,
        state: &PassState,
    ) -> Result<PassState> {
        let (attempts, next) = self
            .store
            .payments_of_day(provider, day, state.after.as_deref(), OURS_PAGE)
            .await?;
        let order_ids: Vec<String> = attempts.iter().map(|(o, _)| o.clone()).collect();
        let ledgers = self.store.load_ledgers(&order_ids).await?;
        let mut paid: Vec<(String, PaymentLedger)> = Vec::new();
        for ledger in ledgers.into_values() {
            if let (true, Some(p), Some(r)) = (
                ledger.status.is_collected(),
                ledger.provider.as_deref(),
                ledger.provider_ref.clone(),
            ) {
                if p == provider && !paid.iter().any(|(seen, _)| *seen == r) {
                    paid.push((r, ledger));
                }
            }
        }
        let refs: Vec<String> = paid.iter().map(|(r, _)| r.clone()).collect();
        let listed = self.store.listed_of(day, run_id, provider, &refs).await?;
        paid.retain(|(r, _)| !listed.contains(r));
        let requests = paid.len() as u64;
        stream::iter(paid.iter().map(Ok))
            .try_for_each_concurrent(self.settings.concurrency, |(r, ledger)| {
                self.ask_for_payment(day, run_id, provider, r, ledger)
            })
            .await?;
        Ok(PassState {
            done: next.is_none(),
            after: next.or_else(|| state.after.clone()),
            listed: state.listed + attempts.len() as u64,
            requests: state.requests + requests,
            version: state.version,
        })
    }

    async fn ask_for_payment(
        &self,
        day: &str,
        run_id: &str,
        provider: &'static str,
        provider_ref: &str,
        ledger: &PaymentLedger,
    ) -> Result<()> {
        let found = match provider {
            "stripe" => match self
                .stripe()?
                .retrieve_listed_payment_intent(provider_ref)
                .await?
            {
                Some(pi) => {
                    let payment = stripe_payment(&pi)?;
                    let check = check_payment(&payment, Some(ledger));
                    let difference = check.difference.or_else(|| {
                        check
                            .heal
                            .first()
                            .map(|h| unhealed(&payment, Some(ledger), h))
                    });
                    if let Some(d) = difference {
                        self.report_difference(day, run_id, &d).await?;
                    }
                    true
                }
                None => false,
            },
            // iyzico payment ids are digits; a ledger naming anything else
            // (a checkout token) cannot be asked about: logged, not a
            // difference, and the rest of the page goes on.
            _ if provider_ref.is_empty() || !provider_ref.bytes().all(|b| b.is_ascii_digit()) => {
                tracing::warn!(
                    provider_ref,
                    "an iyzico payment reference that is not a payment id; not asked about"
                );
                true
            }
            _ => self.check_iyzico_refunds(day, run_id, provider_ref).await?,
        };
        if !found {
            self.report_difference(
                day,
                run_id,
                &missing_payment_at_provider(provider, provider_ref, ledger),
            )
            .await?;
        }
        Ok(())
    }

    // ---- marketplace orders ----------------------------------------------------

    /// One page of a marketplace pass (`<marketplace>-orders` or `-ours`).
    async fn marketplace_page(
        &self,
        day: &str,
        run_id: &str,
        pass: &str,
        state: &PassState,
    ) -> Result<PassState> {
        let no_pass = || Error::Internal(format!("no pass {pass}"));
        let (name, suffix) = [
            PASS_ORDERS_SUFFIX,
            PASS_OURS_SUFFIX,
            PASS_SETTLEMENTS_SUFFIX,
            PASS_ACCOUNTING_SUFFIX,
        ]
        .into_iter()
        .find_map(|suffix| pass.strip_suffix(suffix).map(|name| (name, suffix)))
        .ok_or_else(no_pass)?;
        let marketplace = Marketplace::parse(name).ok_or_else(no_pass)?;
        let client = self
            .marketplaces
            .configured(marketplace)
            .ok_or_else(|| Error::Config(format!("{} is not configured", marketplace.as_str())))?;
        match (client, suffix) {
            (OrderClient::Trendyol(orders), PASS_ORDERS_SUFFIX) => {
                self.trendyol_orders_page(day, run_id, orders, state).await
            }
            (client, PASS_OURS_SUFFIX) => {
                self.ours_page(day, run_id, marketplace, client, state)
                    .await
            }
            (OrderClient::Trendyol(orders), PASS_SETTLEMENTS_SUFFIX) => {
                self.trendyol_settlements_page(day, run_id, orders, state)
                    .await
            }
            (OrderClient::Hepsiburada(orders), PASS_ORDERS_SUFFIX) => {
                self.hepsiburada_orders_page(day, run_id, orders, state)
                    .await
            }
            (OrderClient::Hepsiburada(orders), PASS_ACCOUNTING_SUFFIX) => {
                self.hepsiburada_accounting_page(day, run_id, orders, state)
                    .await
            }
            _ => Err(no_pass()),
        }
    }

    /// One page of Trendyol's packages last modified in the day (T8: the
    /// window is one day, well within two weeks), oldest change first.
    /// Cursor `from:page:total:last:rereads`: the query's start, the page,
    /// the total its first page announced, the last change time read, and
    /// how often the list moved under this run (at most 5, then the
    /// invocation fails and the run resumes later). When
    /// the total moves (packages changed since and left the day, shifting
    /// the rest left) the read goes on from the last package read
    /// (keyset), as order-poll does; a package that left is one of ours
    /// the `-ours` pass asks for directly.
    async fn trendyol_orders_page(
        &self,
        day: &str,
        run_id: &str,
        orders: &TrendyolOrders,
        state: &PassState,
    ) -> Result<PassState> {
        let (start, end) = istanbul_day_bounds(day)?;
        let (start_ms, end_ms) = (start * 1000, end * 1000 - 1);
        let [from, page, total, last, rereads] =
            cursor_numbers::<5>(state.after.as_deref())?.unwrap_or([start_ms, 0, -1, start_ms, 0]);
        let size = self.settings.trendyol_page_size;
        let p = orders.list(from, end_ms, page as u32, size).await?;
        log_unreadable(Marketplace::Trendyol, p.unreadable.len());
        let page_last = p
            .packages
            .last()
            .map_or(last, |s| s.occurred_ms.clamp(start_ms, end_ms));
        let listed = p.packages.len() as u64;
        self.settle_orders(day, run_id, Marketplace::Trendyol, &p.packages)
            .await?;
        let moved = total >= 0 && p.total_elements != total as u64;
        let last_page = p.listed < size as usize || page as u64 + 1 >= p.total_pages;
        let (done, next) = if moved {
            let rereads = reread(rereads, &format!("Trendyol's order list of {day}"))?;
            // Keyset from the last package of the page before.
            let from = last.max(from);
            (false, [from, 0, -1, from, rereads])
        } else if last_page {
            (true, [from, page, total, page_last, rereads])
        } else if (page as u64 + 2) * u64::from(size) > TRENDYOL_MAX_RECORDS {
            (false, [page_last, 0, -1, page_last, rereads])
        } else {
            (
                false,
                [from, page + 1, p.total_elements as i64, page_last, rereads],
            )
        };
        Ok(PassState {
            done,
            after: Some(cursor_text(&next)),
            listed: state.listed + listed,
            requests: state.requests + 1,
            version: state.version,
        })
    }

    /// One page of Hepsiburada's paid lines added in the day (H6: a 24-hour
    /// window, `limit` ≤ 100). Cursor `offset:total:rereads`; a changed
    /// line count (lines packed meanwhile leave the list) reads the day
    /// again from offset 0, as order-poll does.
    async fn hepsiburada_orders_page(
        &self,
        day: &str,
        run_id: &str,
        orders: &HepsiburadaOrders,
        state: &PassState,
    ) -> Result<PassState> {
        let (start, end) = istanbul_day_bounds(day)?;
        let [offset, total, rereads] =
            cursor_numbers::<3>(state.after.as_deref())?.unwrap_or([0, -1, 0]);
        let limit = self.settings.hepsiburada_page_size.min(hb::MAX_LIMIT);
        let p = orders
            .list(start * 1000, end * 1000, offset as u64, limit)
            .await?;
        log_unreadable(Marketplace::Hepsiburada, p.unreadable.len());
        let listed = p.lines.len() as u64;
        let snaps = hb::snapshots(p.lines, now_ms());
        self.settle_orders(day, run_id, Marketplace::Hepsiburada, &snaps)
            .await?;
        let (done, next) = next_offset_cursor(
            [offset, total, rereads],
            limit,
            p.total_count,
            &format!("Hepsiburada's order list of {day}"),
        )?;
        Ok(PassState {
            done,
            after: Some(cursor_text(&next)),
            listed: state.listed + listed,
            requests: state.requests + 1,
            version: state.version,
        })
    }

    /// Our orders of a marketplace first seen in the day (gsi2, status by
    /// status) that the day's list did not show: each asked for directly
    /// (Trendyol: by its packages, then compared as listed; Hepsiburada: by
    /// its number — its list shows only lines not yet packed, so most of
    /// our orders of a past day are asked for, one request each), or
    /// reported missing at the marketplace. Cursor `<status index>` or
    /// `<status index>|<index cursor>`.
    async fn ours_page(
        &self,
        day: &str,
        run_id: &str,
        marketplace: Marketplace,
        client: &OrderClient,
        state: &PassState,
    ) -> Result<PassState> {
        let (start, end) = istanbul_day_bounds(day)?;
        let words = status_words(marketplace);
        if marketplace == Marketplace::Trendyol
            && now_ms() / 1000 - end > TRENDYOL_DIRECT_READ_DAYS * 86_400
        {
            tracing::warn!(
                day,
                "too old for Trendyol's direct package read; our orders of the day are not checked"
            );
            return Ok(PassState {
                done: true,
                ..state.clone()
            });
        }
        let (index, cursor) = match state.after.as_deref() {
            None => (0, None),
            Some(text) => {
                let (i, c) = text.split_once('|').unwrap_or((text, ""));
                let i: usize = i
                    .parse()
                    .map_err(|_| Error::Store(format!("bad reconciliation cursor {text:?}")))?;
                (i, Some(c.to_string()).filter(|c| !c.is_empty()))
            }
        };
        let Some(word) = words.get(index) else {
            return Ok(PassState {
                done: true,
                ..state.clone()
            });
        };
        let (summaries, next) = self
            .store
            .marketplace_order_page(
                marketplace,
                word,
                start * 1000,
                end * 1000 - 1,
                cursor.as_deref(),
                OURS_PAGE,
            )
            .await?;
        let numbers: Vec<String> = summaries.into_iter().map(|o| o.order_number).collect();
        let listed = self
            .store
            .listed_of(day, run_id, marketplace.as_str(), &numbers)
            .await?;
        let unlisted: Vec<&String> = numbers.iter().filter(|n| !listed.contains(*n)).collect();
        let requests: Vec<u64> = stream::iter(unlisted.into_iter().map(Ok))
            .map_ok(|number| async move {
                match client {
                    OrderClient::Trendyol(orders) => {
                        self.ask_trendyol(day, run_id, orders, number).await
                    }
                    OrderClient::Hepsiburada(orders) => {
                        self.ask_hepsiburada(day, run_id, orders, number).await
                    }
                }
            })
            .try_buffer_unordered(self.settings.concurrency)
            .try_collect()
            .await?;
        let after = match next {
            Some(c) => format!("{index}|{c}"),
            None => (index + 1).to_string(),
        };
        Ok(PassState {
            done: false,
            after: Some(after),
            listed: state.listed + numbers.len() as u64,
            requests: state.requests + requests.iter().sum::<u64>(),
            version: state.version,
        })
    }

    /// Asks Trendyol for each package of one of our orders; compares what
    /// it has, reports the order missing when it has none. The requests made.
    async fn ask_trendyol(
        &self,
        day: &str,
        run_id: &str,
        orders: &TrendyolOrders,
        number: &str,
    ) -> Result<u64> {
        let Some((order, _)) = self
            .store
            .load_marketplace_order(Marketplace::Trendyol, number)
            .await?
        else {
            return Ok(0);
        };
        let mut requests = 0;
        let mut found = false;
        for package_id in order.units.keys().filter(|id| !id.is_empty()) {
            requests += 1;
            if let Some(snap) = orders.package(package_id).await? {
                found = true;
                self.settle_order(day, run_id, &snap).await?;
            }
        }
        if !found && requests > 0 {
            self.report_difference(day, run_id, &missing_at_marketplace(&order))
                .await?;
        }
        Ok(requests)
    }

    /// One page of Trendyol's settlement records of one type dated in the
    /// day (T15: the window is one day, well within 15). Cursor
    /// `type:page:total:rereads`: the index of the type in
    /// [`SETTLEMENT_KINDS`], the page, the total its first page announced
    /// and how often it moved under this run (records of a past day are
    /// not expected to move; if they do, the type is read again from page
    /// 0 — every check and write is idempotent — at most 5 times).
    async fn trendyol_settlements_page(
        &self,
        day: &str,
        run_id: &str,
        orders: &TrendyolOrders,
        state: &PassState,
    ) -> Result<PassState> {
        let (start, end) = istanbul_day_bounds(day)?;
        let [kind_index, page, total, rereads] =
            cursor_numbers::<4>(state.after.as_deref())?.unwrap_or([0, 0, -1, 0]);
        let Some(kind) = SETTLEMENT_KINDS.get(kind_index as usize).copied() else {
            return Ok(PassState {
                done: true,
                ..state.clone()
            });
        };
        let size = TRENDYOL_SETTLEMENT_PAGE;
        let p = orders
            .settlements_page(kind, start * 1000, end * 1000 - 1, page as u32, size)
            .await?;
        if !p.unreadable.is_empty() {
            tracing::warn!(
                count = p.unreadable.len(),
                kind = kind.as_str(),
                "unreadable Trendyol settlement records skipped"
            );
        }
        let reads = self
            .settle_records(day, run_id, &p.records, Some(orders))
            .await?;
        let moved = total >= 0 && p.total_elements != total as u64;
        let last_page = p.listed < size as usize || page as u64 + 1 >= p.total_pages;
        let next = if moved {
            let rereads = reread(rereads, &format!("Trendyol's settlement records of {day}"))?;
            [kind_index, 0, -1, rereads]
        } else if last_page {
            [kind_index + 1, 0, -1, 0]
        } else {
            [kind_index, page + 1, p.total_elements as i64, rereads]
        };
        Ok(PassState {
            done: next[0] as usize >= SETTLEMENT_KINDS.len(),
            after: Some(cursor_text(&next)),
            listed: state.listed + p.listed as u64,
            requests: state.requests + 1 + reads,
            version: state.version,
        })
    }

    /// One page of Hepsiburada's accounting records of the day (H14:
    /// `limit` ≤ 100): sales, returns and commissions, each compared with
    /// our line of its merchant SKU. Cursor `offset:total:rereads`; a total
    /// that moves between pages reads the day again from offset 0 (at most
    /// 5 times; every check and write is idempotent). An order we lack is
    /// not read back (the records name no package): `missing_here`.
    async fn hepsiburada_accounting_page(
        &self,
        day: &str,
        run_id: &str,
        orders: &HepsiburadaOrders,
        state: &PassState,
    ) -> Result<PassState> {
        let [offset, total, rereads] =
            cursor_numbers::<3>(state.after.as_deref())?.unwrap_or([0, -1, 0]);
        let limit = self.settings.hepsiburada_page_size.min(hb::MAX_LIMIT);
        let p = orders.accounting_page(day, offset as u64, limit).await?;
        if !p.unreadable.is_empty() {
            tracing::warn!(
                count = p.unreadable.len(),
                "unreadable Hepsiburada accounting records skipped"
            );
        }
        self.settle_records(day, run_id, &p.records, None).await?;
        let (done, next) = next_offset_cursor(
            [offset, total, rereads],
            limit,
            p.total_count,
            &format!("Hepsiburada's accounting records of {day}"),
        )?;
        Ok(PassState {
            done,
            after: Some(cursor_text(&next)),
            listed: state.listed + p.listed as u64,
            requests: state.requests + 1,
            version: state.version,
        })
    }

    /// Compares a page's settlement records with our orders: one order's
    /// records one after the other (a lost order is read back once, its
    /// commission written without racing itself), orders side by side.
    /// The provider requests made (packages read back).
    async fn settle_records(
        &self,
        day: &str,
        run_id: &str,
        records: &[SettlementRecord],
        read_back: Option<&TrendyolOrders>,
    ) -> Result<u64> {
        let mut by_order: std::collections::BTreeMap<&str, Vec<&SettlementRecord>> =
            std::collections::BTreeMap::new();
        for r in records {
            by_order.entry(r.order_number.as_str()).or_default().push(r);
        }
        let reads: Vec<u64> = stream::iter(by_order.into_values().map(Ok))
            .map_ok(|records| self.settle_settlements(day, run_id, read_back, records))
            .try_buffer_unordered(self.settings.concurrency)
            .try_collect()
            .await?;
        Ok(reads.iter().sum())
    }

    /// Compares one order's settlement records of a page with our order;
    /// the provider requests made (a package read back).
    async fn settle_settlements(
        &self,
        day: &str,
        run_id: &str,
        read_back: Option<&TrendyolOrders>,
        records: Vec<&SettlementRecord>,
    ) -> Result<u64> {
        let Some(first) = records.first() else {
            return Ok(0);
        };
        let (marketplace, number) = (first.marketplace, first.order_number.as_str());
        let load = || async {
            Ok::<_, Error>(
                self.store
                    .load_marketplace_order(marketplace, number)
                    .await?
                    .map(|(order, _)| order),
            )
        };
        let mut stored = load().await?;
        let mut requests = 0;
        let mut read = false;
        for record in records {
            let mut check = check_settlement(record, stored.as_ref());
            if let (true, false, Some(orders), Some(package_id)) =
                (check.take_in, read, read_back, record.package_id.as_deref())
            {
                // A lost order: read back and taken in as the orders pass
                // takes one in (healed once; stock moves once).
                read = true;
                requests += 1;
                if let Some(snap) = orders.package(package_id).await? {
                    self.settle_order(day, run_id, &snap).await?;
                    stored = load().await?;
                    check = check_settlement(record, stored.as_ref());
                }
            }
            if check.take_in {
                self.report_difference(day, run_id, &settlement_missing_here(record))
                    .await?;
            }
            if let Some(d) = &check.difference {
                self.report_difference(day, run_id, d).await?;
            }
            if let Some(write) = &check.commission {
                // A conditional write at the version read; none when the
                // line already holds it (a rerun writes nothing).
                OrderIntake::new(&self.store, &self.publisher)
                    .amend(marketplace, number, |order| with_commission(order, write))
                    .await?;
                stored = load().await?;
            }
        }
        Ok(requests)
    }

    /// Asks Hepsiburada whether it knows one of our orders (one request,
    /// docs/marketplace-wire.md H17); reports the order missing when it
    /// does not. The requests made.
    async fn ask_hepsiburada(
        &self,
        day: &str,
        run_id: &str,
        orders: &HepsiburadaOrders,
        number: &str,
    ) -> Result<u64> {
        let Some((order, _)) = self
            .store
            .load_marketplace_order(Marketplace::Hepsiburada, number)
            .await?
        else {
            return Ok(0);
        };
        if !orders.order_known(number).await? {
            self.report_difference(day, run_id, &missing_at_marketplace(&order))
                .await?;
        }
        Ok(1)
    }

    /// Remembers which orders the marketplace listed (where our own are
    /// then checked against them) and compares each with ours.
    async fn settle_orders(
        &self,
        day: &str,
        run_id: &str,
        marketplace: Marketplace,
        snaps: &[OrderSnapshot],
    ) -> Result<()> {
        let numbers: Vec<String> = snaps.iter().map(|s| s.order_number.clone()).collect();
        self.store
            .mark_listed(day, run_id, marketplace.as_str(), &numbers)
            .await?;
        stream::iter(snaps.iter().map(Ok))
            .try_for_each_concurrent(self.settings.concurrency, |snap| {
                self.settle_order(day, run_id, snap)
            })
            .await
    }

    /// Compares one listed order with ours; what we lack (a lost notice, a
    /// status change) is taken in through the poll's and the webhook's
    /// own intake, so stock moves once and a late webhook finds nothing
    /// new; what still differs is reported.
    async fn settle_order(&self, day: &str, run_id: &str, snap: &OrderSnapshot) -> Result<()> {
        let stored = self.stored_order(snap).await?;
        match check_marketplace_order(snap, stored.as_ref()) {
            OrderCheck::Same => return Ok(()),
            OrderCheck::Differs(d) => return self.report_difference(day, run_id, &d).await,
            OrderCheck::TakeIn => {}
        }
        let intake = OrderIntake::new(&self.store, &self.publisher)
            .with_retention(self.settings.personal_data_retention);
        let taken = match intake.take(snap).await {
            Ok(taken) => Some(taken),
            // An order that cannot be taken in at all (order-poll publishes
            // it as `integration.error` too): a difference of the day.
            Err(Error::Validation(problems)) => {
                tracing::warn!(order_number = %snap.order_number, ?problems, "order not taken in");
                None
            }
            Err(e) => return Err(e),
        };
        let after = self.stored_order(snap).await?;
        match check_marketplace_order(snap, after.as_ref()) {
            OrderCheck::Same => {}
            OrderCheck::Differs(d) => return self.report_difference(day, run_id, &d).await,
            OrderCheck::TakeIn => {
                return self
                    .report_difference(day, run_id, &marketplace_not_taken(snap, after.as_ref()))
                    .await
            }
        }
        let Some(taken @ (Intake::Created | Intake::Changed)) = taken else {
            return Ok(()); // the webhook or the poll had it meanwhile
        };
        let unit = snap.package_id.as_deref().unwrap_or("");
        let word = status_of(snap.marketplace, &snap.marketplace_status).word;
        let fact = HealedFact {
            provider: snap.marketplace.as_str().to_string(),
            provider_ref: snap.order_number.clone(),
            order_id: None,
            fact: if stored.is_none() {
                "marketplace_order".into()
            } else {
                "marketplace_order_status".into()
            },
            event_id: format!(
                "{}:{}:{unit}:{word}",
                snap.marketplace.as_str(),
                snap.order_number
            ),
            outcome: taken.as_str().to_string(),
        };
        tracing::info!(
            day,
            marketplace = snap.marketplace.as_str(),
            order_number = %snap.order_number,
            fact = %fact.fact,
            "reconciliation took in a lost order fact"
        );
        self.store.record_healed(day, &fact, &now_rfc3339()).await
    }

    async fn stored_order(&self, snap: &OrderSnapshot) -> Result<Option<MarketplaceOrder>> {
        Ok(self
            .store
            .load_marketplace_order(snap.marketplace, &snap.order_number)
            .await?
            .map(|(order, _)| order))
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
        let ids: Vec<String> = listed.iter().map(|p| p.provider_ref.clone()).collect();
        self.store.mark_listed(day, run_id, "iyzico", &ids).await?;
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
            if !self.check_iyzico_refunds(day, run_id, pid).await? {
                tracing::warn!(
                    payment_id = %pid,
                    "iyzico's details do not list a payment its report named"
                );
            }
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

    /// Compares a payment as iyzico's reporting details show it (a lost
    /// success or refund applied first); false when iyzico's answer does
    /// not hold it.
    async fn check_iyzico_refunds(&self, day: &str, run_id: &str, pid: &str) -> Result<bool> {
        let report = self.iyzico()?.payment_details(pid).await?;
        let Some(payment) = report
            .payments
            .iter()
            .find(|p| p.payment_id.as_deref() == Some(pid))
        else {
            return Ok(false);
        };
        let currency = Currency::parse(payment.currency.as_deref().unwrap_or("TRY"))?;
        let Some(price) = &payment.price else {
            return Ok(true);
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
        self.settle_iyzico(day, run_id, &p, ledger).await?;
        Ok(true)
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

/// The suffix of `marketplace`'s settlement pass: Trendyol's
/// current-account statement (T15), Hepsiburada's record-based accounting
/// (H14).
fn settlement_pass(marketplace: Marketplace) -> &'static str {
    match marketplace {
        Marketplace::Trendyol => PASS_SETTLEMENTS_SUFFIX,
        Marketplace::Hepsiburada => PASS_ACCOUNTING_SUFFIX,
    }
}

/// Entries the marketplace listed that cannot be read: order-poll reports
/// each as `integration.error`; here they are only counted.
fn log_unreadable(marketplace: Marketplace, count: usize) {
    if count > 0 {
        tracing::warn!(
            marketplace = marketplace.as_str(),
            count,
            "unreadable order entries skipped (order-poll reports them)"
        );
    }
}

/// `<a>:<b>:…` of numbers, as the marketplace passes keep their cursors.
fn cursor_numbers<const N: usize>(after: Option<&str>) -> Result<Option<[i64; N]>> {
    let Some(text) = after else {
        return Ok(None);
    };
    let bad = || Error::Store(format!("bad reconciliation cursor {text:?}"));
    let parts: Vec<i64> = text
        .split(':')
        .map(|p| p.parse::<i64>().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    parts.try_into().map(Some).map_err(|_| bad())
}

/// One more read of a list that moved under the run (`what`): the new
/// count, or an error once it moved [`MAX_REREADS`] times (the invocation
/// fails; the run resumes later from its cursor).
fn reread(rereads: i64, what: &str) -> Result<i64> {
    if rereads >= MAX_REREADS {
        return Err(Error::Store(format!(
            "{what} kept changing; the run goes on later"
        )));
    }
    Ok(rereads + 1)
}

/// The next `offset:total:rereads` cursor of a Hepsiburada offset-paged
/// list, and whether it is done: a total that changed between pages (lines
/// or records left or came) reads the list again from offset 0, at most
/// [`MAX_REREADS`] times, then the invocation fails and the run resumes.
fn next_offset_cursor(
    [offset, total, rereads]: [i64; 3],
    limit: u32,
    total_count: u64,
    what: &str,
) -> Result<(bool, [i64; 3])> {
    if total >= 0 && total_count != total as u64 {
        return Ok((false, [0, -1, reread(rereads, what)?]));
    }
    let next_offset = offset + i64::from(limit);
    Ok((
        next_offset as u64 >= total_count,
        [next_offset, total_count as i64, rereads],
    ))
}

fn cursor_text(parts: &[i64]) -> String {
    parts
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(":")
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
