//! The `order-poll` function (EventBridge schedule, every 5 minutes): the
//! safety net under the marketplaces' order webhooks. For each marketplace it
//! reads every order changed since its cursor, window by window, and takes
//! each one in through the same `OrderIntake` as the webhook.
//!
//! - A cursor per marketplace (`OrderCursorStore`) moves only after a window
//!   was read to its end and every order in it was taken in; the next run
//!   starts `overlap` before it (clock skew, late writes). After an outage it
//!   catches up window by window: Trendyol ≤ 14 days per request and 3 months
//!   back at most, Hepsiburada ≤ 24 hours (a wider window would be cut
//!   silently, so none is ever sent).
//! - Paging while orders keep changing: Trendyol pages oldest change first;
//!   a package that changes moves out of the window and shifts the rest
//!   left, so when the total shrinks the read goes on from the last package
//!   of the page before (keyset), not from the next offset; when it grows
//!   (a late write inside the window) the window is read again. Hepsiburada
//!   drops lines from its list once packed, so a changed total re-reads the
//!   window from offset 0. Orders seen twice are harmless: the intake is
//!   idempotent.
//! - Hepsiburada's cancelled lines are a second feed with a cursor of its
//!   own (`PollFeed::Cancelled`), read after the orders, window by window
//!   like them (by cancel date, pages of at most 50, a changed total
//!   re-reads the window): a lost `orderCancel` webhook cannot keep stock
//!   taken, and the intake gives each line's stock back once whichever of
//!   the two told it first.
//! - Trendyol's claims (returns) are a third feed (`PollFeed::Claims`),
//!   windows like the packages', each claim taken in through the claim
//!   intake (`intake::marketplace_claims`): events once, sellable units back
//!   to stock once. A claim of an order we do not hold is reported as
//!   `integration.error` and skipped. Hepsiburada's claims are the same
//!   feed with a cursor of its own: its windows like the cancelled lines',
//!   each claim status's list read over the window by status-change date
//!   (a claim that moved is in the list of its new status), pages of the
//!   page size (≤ 100) until a short one.

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::config::{self, HttpSettings, OrderPollSettings, ProcessEnv};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, IntegrationErrorDetail};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_claim::ClaimSnapshot;
use crate::domain::marketplace_order::OrderSnapshot;
use crate::domain::operations::sync_requested;
use crate::error::{Error, Result};
use crate::intake::marketplace_claims::{ClaimIntake, ClaimIntakeRun};
use crate::intake::marketplace_orders::{Intake, OrderIntake};
use crate::ports::{EventPublisher, MarketplaceOrderStore, OrderCursorStore, PollFeed};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::hepsiburada::orders::cancelled::{
    cancelled_snapshots, MAX_CANCELLED_LIMIT,
};
use crate::providers::marketplace::hepsiburada::orders::claims::CLAIM_STATUSES;
use crate::providers::marketplace::hepsiburada::orders::{self as hb, HepsiburadaOrders};
use crate::providers::marketplace::http::Unreadable;
use crate::providers::marketplace::orders::{order_clients, OrderClient, OrderClients};
use crate::providers::marketplace::trendyol::orders::TrendyolOrders;

/// Trendyol lists the last 3 months; a day of margin.
const TRENDYOL_MAX_LOOKBACK_MS: i64 = 89 * 24 * 3600 * 1000;
/// Re-reads of a window from its start (the list grew inside it) before
/// the window is given up for this run (its cursor does not move).
const MAX_REGROWTHS: u32 = 5;
/// Records Trendyol serves for one query (`page × size`), announced for
/// 15 Oct 2026 (docs/marketplace-wire.md T8).
const TRENDYOL_MAX_RECORDS: u64 = 10_000;
/// Orders of one page taken in side by side.
const TAKE_CONCURRENCY: usize = 8;
const MINUTE_MS: i64 = 60_000;

/// `ms` rounded up to a whole minute.
fn minute_up(ms: i64) -> i64 {
    (ms + MINUTE_MS - 1).div_euclid(MINUTE_MS) * MINUTE_MS
}

/// What one run did for one marketplace.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceReport {
    pub marketplace: String,
    /// `orders`, `cancelled` (Hepsiburada's cancelled lines) or `claims`.
    pub feed: String,
    pub windows: u32,
    pub requests: u32,
    pub rereads: u32,
    pub snapshots: u32,
    pub created: u32,
    pub changed: u32,
    pub unchanged: u32,
    /// Entries the marketplace listed that could not be read (skipped,
    /// published as `integration.error`).
    pub unreadable: u32,
    /// Orders that cannot be taken in at all (published as `integration.error`).
    pub not_taken: u32,
    /// Where the cursor stands after the run (epoch ms).
    pub cursor_ms: Option<i64>,
    /// The cursor reached the present.
    pub caught_up: bool,
    /// Time the cursor was behind Trendyol's 3-month horizon: orders changed
    /// then cannot be listed any more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollReport {
    /// Orders whose events were still waiting to be published (a publish
    /// that failed after its write), published by this run.
    pub outboxes_flushed: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_error: Option<String>,
    pub marketplaces: Vec<MarketplaceReport>,
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    sources: OrderClients,
    settings: OrderPollSettings,
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let settings = OrderPollSettings::from_env(&env)?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        let bus = config::event_bus_name(&env)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), bus),
            order_clients(&env, &http, settings.trendyol_requests_per_10s)?,
            settings,
        ))
    }
}

impl<S, P> App<S, P>
where
    S: MarketplaceOrderStore + OrderCursorStore,
    P: EventPublisher,
{
    pub fn new(store: S, publisher: P, sources: OrderClients, settings: OrderPollSettings) -> Self {
        App {
            store,
            publisher,
            sources,
            settings,
        }
    }

    /// The Lambda handler: any event (schedule or on-demand) runs one poll,
    /// stopping new windows a safety margin before the deadline.
    pub async fn handle(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>,
    ) -> Result<PollReport, lambda_http::Error> {
        let now = now_ms();
        let longest = now + self.settings.max_run.as_millis() as i64;
        // A deadline not in the future is none: a local invoke gives 0, or
        // (cargo lambda watch) the constant 600000, i.e. 1970-01-01T00:10Z.
        let deadline_ms = match i64::try_from(event.context.deadline) {
            Ok(d) if d > now => d.min(longest),
            _ => longest,
        };
        // A `sync.requested` from the operations function polls its
        // marketplace only; anything else (the schedule) polls them all.
        let report = match sync_requested(&event.payload) {
            Some(r) => {
                tracing::info!(request_id = %r.request_id, marketplace = r.marketplace.as_str(), "poll requested");
                self.run_only(Some(r.marketplace), deadline_ms).await
            }
            None => self.run(deadline_ms).await,
        };
        let failed = report
            .outbox_error
            .clone()
            .or_else(|| report.marketplaces.iter().find_map(|m| m.error.clone()));
        match failed {
            // Failing the invocation makes the error count in CloudWatch;
            // every marketplace was still tried.
            Some(e) => Err(e.into()),
            None => {
                crate::telemetry::emit_heartbeat("order-poll");
                Ok(report)
            }
        }
    }

    /// Polls every configured marketplace; one failing does not stop the others.
    pub async fn run(&self, deadline_ms: i64) -> PollReport {
        self.run_only(None, deadline_ms).await
    }

    /// [`Self::run`] for one marketplace (`Some`), or all of them.
    pub async fn run_only(&self, only: Option<Marketplace>, deadline_ms: i64) -> PollReport {
        let mut report = PollReport::default();
        match self.flush_outboxes().await {
            Ok(n) => report.outboxes_flushed = n,
            Err(e) => {
                tracing::error!(error = %e, "could not publish waiting order events");
                report.outbox_error = Some(e.to_string());
            }
        }
        // Every marketplace's orders first (the report lists them in that
        // order), then the feeds some marketplaces have.
        for feed in [PollFeed::Orders, PollFeed::Claims, PollFeed::Cancelled] {
            for (marketplace, source) in self.sources.iter_configured() {
                let polled = match source {
                    OrderClient::Trendyol(_) => feed != PollFeed::Cancelled,
                    OrderClient::Hepsiburada(_) => true,
                };
                if !polled || only.is_some_and(|m| m != marketplace) {
                    continue;
                }
                let mut r = MarketplaceReport {
                    marketplace: marketplace.as_str().into(),
                    feed: feed.as_str().into(),
                    ..Default::default()
                };
                if let Err(e) = self
                    .poll(marketplace, feed, source, deadline_ms, &mut r)
                    .await
                {
                    tracing::error!(marketplace = %r.marketplace, feed = %r.feed, error = %e, "order poll failed");
                    r.error = Some(format!("{} {}: {e}", r.marketplace, r.feed));
                }
                tracing::info!(
                    marketplace = %r.marketplace,
                    feed = %r.feed,
                    windows = r.windows,
                    requests = r.requests,
                    created = r.created,
                    changed = r.changed,
                    caught_up = r.caught_up,
                    "order poll"
                );
                report.marketplaces.push(r);
            }
        }
        report
    }

    /// Publishes events left on order outboxes (at most a few hundred per run).
    async fn flush_outboxes(&self) -> Result<u32> {
        let intake = OrderIntake::new(&self.store, &self.publisher)
            .with_retention(self.settings.personal_data_retention);
        let mut flushed = 0;
        for (marketplace, order_number) in self.store.orders_with_outbox(200).await? {
            if intake.flush(marketplace, &order_number).await? {
                flushed += 1;
            }
        }
        Ok(flushed)
    }

    async fn poll(
        &self,
        marketplace: Marketplace,
        feed: PollFeed,
        source: &OrderClient,
        deadline_ms: i64,
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        let mut cursor = self.store.order_cursor(marketplace, feed).await?;
        r.cursor_ms = cursor;
        let mut start = self.first_start(marketplace, feed, cursor, now_ms(), r);
        loop {
            let now = now_ms();
            if now + self.settings.window_margin.as_millis() as i64 > deadline_ms {
                tracing::warn!(
                    marketplace = marketplace.as_str(),
                    "out of time; the next run goes on"
                );
                return Ok(());
            }
            let end = self.read_window(source, feed, start, now, r).await?;
            r.windows += 1;
            // Never move the cursor back (a first run's lookback, a window
            // shorter than the overlap).
            let to = end.max(cursor.unwrap_or(i64::MIN));
            if !self
                .store
                .move_order_cursor(marketplace, feed, cursor, to)
                .await?
            {
                tracing::warn!(
                    marketplace = marketplace.as_str(),
                    "another run moved the order cursor; stopping"
                );
                return Ok(());
            }
            cursor = Some(to);
            r.cursor_ms = cursor;
            if end >= now {
                r.caught_up = true;
                return Ok(());
            }
            start = end;
        }
    }

    /// Where this run's first window starts: `overlap` before the cursor
    /// (a first run: `first_lookback` back), no further back than Trendyol
    /// lists (the gap reported), and for Hepsiburada's orders at least the
    /// rescan back from now.
    fn first_start(
        &self,
        marketplace: Marketplace,
        feed: PollFeed,
        cursor: Option<i64>,
        now: i64,
        r: &mut MarketplaceReport,
    ) -> i64 {
        let overlap = self.settings.overlap.as_millis() as i64;
        let mut start = match cursor {
            Some(c) => c - overlap,
            None => now - self.settings.first_lookback.as_millis() as i64,
        };
        if marketplace == Marketplace::Trendyol && start < now - TRENDYOL_MAX_LOOKBACK_MS {
            let horizon = now - TRENDYOL_MAX_LOOKBACK_MS;
            r.gap_ms = Some(horizon - start);
            tracing::error!(
                gap_ms = horizon - start,
                "the order cursor is behind Trendyol's 3-month horizon; orders changed before it cannot be listed"
            );
            start = horizon;
        }
        if marketplace == Marketplace::Hepsiburada && feed == PollFeed::Orders {
            // Hepsiburada lists lines by order date, and a line can appear
            // late (paid after its order date): re-read the recent past.
            // From the next whole minute back, so the re-read is one window.
            start = start.min(minute_up(now) - self.settings.hepsiburada_rescan.as_millis() as i64);
        }
        start
    }

    /// Reads one window from `start` (at most the marketplace's window
    /// size, not past now) and takes its orders in; where it ended.
    async fn read_window(
        &self,
        source: &OrderClient,
        feed: PollFeed,
        start: i64,
        now: i64,
        r: &mut MarketplaceReport,
    ) -> Result<i64> {
        Ok(match source {
            OrderClient::Trendyol(orders) => {
                let window = self.settings.trendyol_window.as_millis() as i64;
                let end = (start + window).min(now);
                match feed {
                    PollFeed::Claims => self.trendyol_claims_window(orders, start, end, r).await?,
                    _ => self.trendyol_window(orders, start, end, r).await?,
                }
                end
            }
            OrderClient::Hepsiburada(orders) => {
                let window = self.settings.hepsiburada_window.as_millis() as i64;
                // Whole minutes: Hepsiburada's dates have no seconds.
                let start = start.div_euclid(MINUTE_MS) * MINUTE_MS;
                let end = (start + window).min(minute_up(now));
                match feed {
                    PollFeed::Orders | PollFeed::Cancelled => {
                        self.hepsiburada_window(orders, feed, start, end, r).await?
                    }
                    PollFeed::Claims => {
                        self.hepsiburada_claims_window(orders, start, end, r)
                            .await?
                    }
                }
                end
            }
        })
    }

    async fn trendyol_window(
        &self,
        orders: &TrendyolOrders,
        start: i64,
        end: i64,
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        let size = self.settings.trendyol_page_size;
        let (mut from, mut page) = (start, 0u32);
        let mut first_total: Option<u64> = None;
        let mut last_of_previous_page = start;
        let mut regrowths = 0;
        loop {
            let p = orders.list(from, end, page, size).await?;
            r.requests += 1;
            self.report_unreadable(Marketplace::Trendyol, &p.unreadable, r)
                .await?;
            // A package without a last-modified time (UNCONFIRMED: never
            // seen) must not move the keyset outside the window.
            let last_ts = p.packages.last().map(|s| s.occurred_ms.clamp(start, end));
            self.take_all(p.packages, r).await?;
            match first_total {
                Some(t) if p.total_elements > t => {
                    // Something was written inside the window behind us:
                    // read it again from its start.
                    regrowths += 1;
                    r.rereads += 1;
                    if regrowths > MAX_REGROWTHS {
                        return Err(Error::Store(format!(
                            "Trendyol's order list kept growing inside [{start}, {end}]; the window is read again next run"
                        )));
                    }
                    (from, page, first_total) = (start, 0, None);
                    continue;
                }
                Some(t) if p.total_elements < t => {
                    // Packages left the window (their status changed): what
                    // shifted over the page boundary lies after the last
                    // package of the page before. Always progress: the
                    // keyset only moves forward.
                    r.rereads += 1;
                    (from, page, first_total) = (last_of_previous_page.max(from), 0, None);
                    continue;
                }
                _ => {}
            }
            first_total = Some(p.total_elements);
            if p.listed < size as usize || u64::from(page) + 1 >= p.total_pages {
                return Ok(());
            }
            last_of_previous_page = last_ts.unwrap_or(from);
            page += 1;
            if u64::from(page + 1) * u64::from(size) > TRENDYOL_MAX_RECORDS {
                // Trendyol serves at most 10,000 records of one query: go on
                // with a new query from the last package read.
                (from, page, first_total) = (last_of_previous_page.max(from), 0, None);
            }
        }
    }

    /// One window of Hepsiburada's open lines (`Orders`) or cancelled lines
    /// (`Cancelled`, pages of at most 50).
    async fn hepsiburada_window(
        &self,
        orders: &HepsiburadaOrders,
        feed: PollFeed,
        begin: i64,
        end: i64,
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        let max = match feed {
            PollFeed::Cancelled => MAX_CANCELLED_LIMIT,
            _ => hb::MAX_LIMIT,
        };
        let limit = self.settings.hepsiburada_page_size.min(max);
        let mut offset = 0u64;
        let mut first_total: Option<u64> = None;
        let mut rereads = 0;
        loop {
            let (total_count, snapshots, unreadable) = match feed {
                PollFeed::Cancelled => {
                    let p = orders.list_cancelled(begin, end, offset, limit).await?;
                    (
                        p.total_count,
                        cancelled_snapshots(p.lines, now_ms()),
                        p.unreadable,
                    )
                }
                _ => {
                    let p = orders.list(begin, end, offset, limit).await?;
                    (
                        p.total_count,
                        hb::snapshots(p.lines, now_ms()),
                        p.unreadable,
                    )
                }
            };
            r.requests += 1;
            self.report_unreadable(Marketplace::Hepsiburada, &unreadable, r)
                .await?;
            self.take_all(snapshots, r).await?;
            if first_total.is_some_and(|t| t != total_count) {
                // Lines were packed or cancelled (they leave the list) or
                // added: offsets moved under us, read the window again.
                rereads += 1;
                r.rereads += 1;
                if rereads > MAX_REGROWTHS {
                    return Err(Error::Store(format!(
                        "Hepsiburada's {} list kept changing inside [{begin}, {end}); the window is read again next run",
                        feed.as_str()
                    )));
                }
                offset = 0;
                first_total = None;
                continue;
            }
            first_total.get_or_insert(total_count);
            offset += u64::from(limit);
            if offset >= total_count {
                return Ok(());
            }
        }
    }

    /// Trendyol's claims of one window, page by page; a total that changes
    /// between pages (claims moving in or out of the window) reads the
    /// window again from its start.
    async fn trendyol_claims_window(
        &self,
        orders: &TrendyolOrders,
        start: i64,
        end: i64,
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        let size = self.settings.trendyol_page_size;
        let mut page = 0u32;
        let mut first_total: Option<u64> = None;
        let mut rereads = 0;
        loop {
            let p = orders.list_claims(start, end, page, size).await?;
            r.requests += 1;
            self.report_unreadable(Marketplace::Trendyol, &p.unreadable, r)
                .await?;
            self.take_claims(p.claims, r).await?;
            if first_total.is_some_and(|t| t != p.total_elements) {
                rereads += 1;
                r.rereads += 1;
                if rereads > MAX_REGROWTHS {
                    return Err(Error::Store(format!(
                        "Trendyol's claim list kept changing inside [{start}, {end}]; the window is read again next run"
                    )));
                }
                (page, first_total) = (0, None);
                continue;
            }
            first_total.get_or_insert(p.total_elements);
            if p.listed < size as usize || u64::from(page) + 1 >= p.total_pages {
                return Ok(());
            }
            page += 1;
        }
    }

    /// Hepsiburada's claims that changed status in `[begin, end)`: each
    /// status's list, page by page until a short page. A claim moving to
    /// another status during the read may be missed in this run; its new
    /// status date lies inside the next run's overlap, which reads it.
    async fn hepsiburada_claims_window(
        &self,
        orders: &HepsiburadaOrders,
        begin: i64,
        end: i64,
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        let limit = self.settings.hepsiburada_page_size.min(hb::MAX_LIMIT);
        for status in CLAIM_STATUSES {
            let mut offset = 0u64;
            loop {
                let p = orders
                    .list_claims(status, begin, end, offset, limit)
                    .await?;
                r.requests += 1;
                self.report_unreadable(Marketplace::Hepsiburada, &p.unreadable, r)
                    .await?;
                self.take_claims(p.claims, r).await?;
                if p.listed < limit as usize {
                    break;
                }
                offset += p.listed as u64;
            }
        }
        Ok(())
    }

    /// Takes in a page's claims one by one (claims of one order share its
    /// item). A claim of an order we do not hold is published as
    /// `integration.error` (same claim, same event id) and skipped.
    async fn take_claims(
        &self,
        claims: Vec<ClaimSnapshot>,
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        r.snapshots += claims.len() as u32;
        let intake = ClaimIntakeRun::new(&self.store, &self.publisher, &self.settings.claim_policy);
        for claim in &claims {
            match intake.take(claim).await? {
                ClaimIntake::Created => r.created += 1,
                ClaimIntake::Changed => r.changed += 1,
                ClaimIntake::Unchanged => r.unchanged += 1,
                ClaimIntake::UnknownOrder => {
                    r.not_taken += 1;
                    tracing::error!(claim_id = %claim.claim_id, order_number = %claim.order_number, "claim of an order we do not hold");
                    self.publisher
                        .publish(&[integration_error(
                            claim.marketplace,
                            "claim_for_unknown_order",
                            format!(
                                "{}:claim:{}:unknown_order",
                                claim.marketplace.as_str(),
                                claim.claim_id
                            ),
                            Some(claim.order_number.clone()),
                            format!(
                                "claim {} names order {}, which we do not hold; not taken in",
                                claim.claim_id, claim.order_number
                            ),
                        )])
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Takes in a page's orders side by side. An order that cannot be taken
    /// in at all (more SKUs than one transaction holds) is reported as
    /// `integration.error` and skipped; any other failure fails the window
    /// (its cursor does not move, so the next run reads it again).
    async fn take_all(
        &self,
        snapshots: Vec<OrderSnapshot>,
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        r.snapshots += snapshots.len() as u32;
        let intake = OrderIntake::new(&self.store, &self.publisher)
            .with_retention(self.settings.personal_data_retention);
        let intake = &intake;
        let results: Vec<(&OrderSnapshot, Result<Intake>)> = stream::iter(snapshots.iter())
            .map(|s| async move { (s, intake.take(s).await) })
            .buffer_unordered(TAKE_CONCURRENCY)
            .collect()
            .await;
        for (snap, result) in results {
            match result {
                Ok(Intake::Created) => r.created += 1,
                Ok(Intake::Changed) => r.changed += 1,
                Ok(Intake::Unchanged) => r.unchanged += 1,
                Err(Error::Validation(problems)) => {
                    r.not_taken += 1;
                    let message = problems
                        .iter()
                        .map(|p| format!("{}: {}", p.field, p.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    tracing::error!(order_number = %snap.order_number, %message, "order not taken in");
                    self.publisher
                        .publish(&[integration_error(
                            snap.marketplace,
                            "order_not_taken",
                            format!(
                                "{}:{}:not_taken",
                                snap.marketplace.as_str(),
                                snap.order_number
                            ),
                            Some(snap.order_number.clone()),
                            format!("order {} cannot be taken in: {message}", snap.order_number),
                        )])
                        .await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Entries the marketplace listed that we cannot read: skipped, logged
    /// and published as `integration.error` (same entry, same event id).
    async fn report_unreadable(
        &self,
        marketplace: Marketplace,
        unreadable: &[Unreadable],
        r: &mut MarketplaceReport,
    ) -> Result<()> {
        if unreadable.is_empty() {
            return Ok(());
        }
        r.unreadable += unreadable.len() as u32;
        let events: Vec<DomainEvent> = unreadable
            .iter()
            .map(|u| {
                tracing::error!(marketplace = marketplace.as_str(), digest = %u.digest, error = %u.error, "unreadable order entry skipped");
                integration_error(
                    marketplace,
                    "unreadable_order",
                    format!("{}:unreadable:{}", marketplace.as_str(), u.digest),
                    None,
                    format!("an order entry could not be read and was skipped: {}", u.error),
                )
            })
            .collect();
        self.publisher.publish(&events).await
    }
}

fn integration_error(
    marketplace: Marketplace,
    kind: &str,
    event_id: String,
    order_number: Option<String>,
    message: String,
) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::IntegrationError,
        event_id,
        occurred_at: crate::clock::now_rfc3339(),
        detail: EventDetail::IntegrationError(IntegrationErrorDetail {
            action: None,
            kind: kind.into(),
            provider: marketplace.as_str().into(),
            order_id: None,
            provider_ref: order_number,
            expected: None,
            received: None,
            message,
        }),
    }
}
