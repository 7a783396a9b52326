//! The `product-sync` function (EventBridge schedule every 30 minutes, a
//! `sync.requested` event, or a batch of stock-sync queue messages — a
//! marketplace stock move or a catalog change, planned at once): reads the products that changed since they last
//! settled, decides per marketplace what to push (`domain::catalog_sync`),
//! refuses products whose category rules they break before anything is
//! sent, and fans the rest out to the catalog queue in batches sized to each
//! endpoint's item limit and SQS's message limit. Each batch is recorded as
//! a plan first, so its products count as in flight until its result is in.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws::dynamo::DynamoStore;
use crate::aws::sdk::AwsEnv;
use crate::aws::sqs::SqsQueue;
use crate::clock::now_ms;
use crate::config::{self, CatalogSettings, HttpSettings, ProcessEnv};
use crate::domain::catalog_sync::{
    chunk, plan_listing, CatalogJob, Push, MAX_BATCH_ITEMS, MAX_REQUEST_BYTES,
};
use crate::domain::category::{category_problems, CategoryRules};
use crate::domain::marketplace::Marketplace;
use crate::domain::operations::sync_requested;
use crate::domain::product::SyncKind;
use crate::error::Result;
use crate::ports::{
    CatalogSyncStore, JobQueue, Plan, PlanItem, ResultOutcome, StoredProduct, SyncResult,
    SyncTrigger,
};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::catalog::{self, CatalogClients, MarketplaceClient};

/// Why a Trendyol content change is refused before sending.
pub const TRENDYOL_FIXED_CHANGED: &str =
    "barcode, SKU, brand, category, productMainId, VAT rate, desi or cargo \
     company changed: Trendyol cannot change them on an existing product through a content \
     update (VAT and desi take variant-bulk-update, which this integration does not send yet)";

/// How long one sync may hold the lock (longer than the function's timeout).
const LOCK_FOR: Duration = Duration::from_secs(16 * 60);
const PLAN_RETENTION_SECS: i64 = 2 * 24 * 3600;
const WRITE_CONCURRENCY: usize = 16;

/// What one run did (returned to an on-demand caller and logged).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Another sync held the lock: this one did nothing.
    pub skipped: bool,
    pub pending_products: usize,
    pub settled: usize,
    /// Products refused before sending (category rules, size).
    pub refused: usize,
    /// Pushes waiting on something (a Trendyol content id, a category
    /// lookup that failed); tried again next run.
    pub deferred: usize,
    /// Products mapped to a marketplace this deployment has no credentials
    /// for: they stay on the work list.
    pub waiting_for_unconfigured: usize,
    /// Products changed again while an earlier push of that kind is in
    /// flight (one batch per kind at a time): planned once its result is in.
    pub held_by_in_flight: usize,
    /// Their SKUs (for the follow-up nudge).
    #[serde(skip)]
    pub held_skus: Vec<String>,
    /// `<marketplace>:<push>` → batches (one provider request each).
    pub batches: BTreeMap<String, usize>,
    /// `<marketplace>:<push>` → items.
    pub items: BTreeMap<String, usize>,
    /// Time from reading the work list to the last job queued…
    pub planning_ms: u64,
    /// …of which reading the work list and open plans,
    pub read_ms: u64,
    /// deciding and building the batches (CPU only),
    pub decide_ms: u64,
    /// category and content-id lookups (cached or at the marketplace),
    pub lookup_ms: u64,
    /// and writing plans, jobs, refusals and settlements.
    pub write_ms: u64,
    /// The `sync.requested` event that started this run, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}

pub struct App<S, Q> {
    store: S,
    queue: Q,
    /// The stock-sync queue this function consumes (`STOCK_SYNC_QUEUE_URL`):
    /// a message that could not be planned now comes back sooner through it.
    stock_queue: Option<Q>,
    marketplaces: CatalogClients,
    settings: CatalogSettings,
}

/// A stock-sync message that could not be planned now (the lock was held,
/// or the plan failed) comes back after `base · 2^(receives − 1)`, at most
/// 15 minutes: 10 receives (the queue's maxReceiveCount) outlast the sync
/// lock's 16 minutes.
const STOCK_RETRY_BASE: Duration = Duration::from_secs(5);
/// Follow-ups of one chain of held changes (about 36 minutes in all).
const MAX_FOLLOW_UPS: u32 = 9;

/// Whether a product-sync input is an SQS batch (the stock-sync queue).
pub fn is_sqs_batch(payload: &serde_json::Value) -> bool {
    payload["Records"]
        .as_array()
        .and_then(|r| r.first())
        .is_some_and(|r| r["eventSource"] == "aws:sqs")
}

impl App<DynamoStore, SqsQueue> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let settings = CatalogSettings::from_env(&env)?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        let stock_queue =
            config::optional(&env, "STOCK_SYNC_QUEUE_URL").map(|url| SqsQueue::new(aws.sqs(), url));
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            SqsQueue::new(aws.sqs(), settings.queue_url.clone()),
            catalog::catalog_clients(&env, &http)?,
            settings,
        )
        .with_stock_queue(stock_queue))
    }
}

/// About how many bytes a product adds to a request: its whole encoding for
/// a create or content update (descriptions dominate), little for price or stock.
fn request_bytes(stored: &StoredProduct, push: Push) -> usize {
    match push {
        Push::Create | Push::Content => {
            let p = &stored.product;
            p.description.len()
                + p.title.len()
                + p.images.iter().map(String::len).sum::<usize>()
                + 1_000
        }
        Push::Price | Push::Stock => 100,
    }
}

/// A push decided for one product.
struct Decided<'a> {
    stored: &'a StoredProduct,
    client: &'a MarketplaceClient,
    marketplace: Marketplace,
    push: Push,
}

/// (marketplace, sku) → the kinds a plan has in flight, each with the
/// digest that plan carries (what was sent, once it is sent).
type InFlight = HashMap<(Marketplace, String), HashMap<SyncKind, Option<String>>>;

/// A product refused on a marketplace before sending, and why.
type Refusal<'a> = (&'a StoredProduct, Marketplace, Vec<String>);

/// (marketplace, push) → plan items with about how many request bytes each adds.
type Groups = BTreeMap<(Marketplace, Push), Vec<(PlanItem, usize)>>;

/// Takes out of `decided` the creates and content updates that cannot go:
/// a Trendyol content update changing what Trendyol fixed at creation, or a
/// product breaking its category's rules (refused; returned), and one whose
/// category rules could not be looked up this time (counted in `deferred`,
/// tried again next run).
fn refuse<'a>(
    decided: &mut Vec<Decided<'a>>,
    rules: &HashMap<(Marketplace, u64), Option<CategoryRules>>,
    deferred: &mut usize,
) -> Vec<Refusal<'a>> {
    let mut refusals = Vec::new();
    decided.retain(|d| {
        if !matches!(d.push, Push::Create | Push::Content) {
            return true;
        }
        if d.marketplace == Marketplace::Trendyol && d.push == Push::Content {
            let now_fixed = d.stored.product.trendyol_fixed_digest();
            if d.stored.trendyol_fixed.is_some() && d.stored.trendyol_fixed != now_fixed {
                refusals.push((
                    d.stored,
                    d.marketplace,
                    vec![TRENDYOL_FIXED_CHANGED.to_string()],
                ));
                return false;
            }
        }
        let Some(category) = d.client.category_of(d.stored) else {
            return true;
        };
        match rules.get(&(d.marketplace, category)) {
            // Lookup failed this time: try again next run.
            None => {
                *deferred += 1;
                false
            }
            Some(rules) => {
                let problems = category_problems(&d.stored.product, d.marketplace, rules.as_ref());
                if problems.is_empty() {
                    true
                } else {
                    refusals.push((d.stored, d.marketplace, problems));
                    false
                }
            }
        }
    });
    refusals
}

/// The plan items of the decided pushes, grouped by marketplace and push.
/// The worker builds the wire items from the products when it sends; here
/// only what it will need. A push without its result key (a Trendyol content
/// update whose content id is unknown yet) is counted in `deferred`.
fn group(
    decided: &[Decided<'_>],
    content_ids: &HashMap<String, u64>,
    deferred: &mut usize,
) -> Groups {
    let mut groups = Groups::new();
    for d in decided {
        let sku = d.stored.product.sku.as_str();
        let content_id = d
            .stored
            .trendyol_content_id
            .or_else(|| content_ids.get(sku).copied());
        let Some(key) = d.client.result_key(d.stored, d.push, content_id) else {
            *deferred += 1;
            continue;
        };
        groups.entry((d.marketplace, d.push)).or_default().push((
            PlanItem {
                sku: sku.to_string(),
                key,
                hashes: d.push.hashes(&d.stored.product, d.marketplace),
                fixed: None,
            },
            request_bytes(d.stored, d.push),
        ));
    }
    groups
}

impl<S: CatalogSyncStore, Q: JobQueue + SyncTrigger> App<S, Q> {
    pub fn new(
        store: S,
        queue: Q,
        marketplaces: CatalogClients,
        settings: CatalogSettings,
    ) -> Self {
        App {
            store,
            queue,
            stock_queue: None,
            marketplaces,
            settings,
        }
    }

    /// The stock-sync queue this function consumes, if any.
    pub fn with_stock_queue(mut self, stock_queue: Option<Q>) -> Self {
        self.stock_queue = stock_queue;
        self
    }

    /// The function's one entry point: an SQS batch (the stock-sync queue)
    /// answers with its failed messages; anything else is [`handle`](Self::handle).
    pub async fn handle_any(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>,
    ) -> Result<serde_json::Value, lambda_http::Error> {
        if is_sqs_batch(&event.payload) {
            let batch: SqsEvent = serde_json::from_value(event.payload)?;
            return Ok(serde_json::to_value(self.handle_changes(batch).await)?);
        }
        Ok(serde_json::to_value(self.handle(event).await?)?)
    }

    /// A batch of stock-sync messages (a marketplace stock move, a catalog
    /// change): one plan over the whole work list, however many messages —
    /// they are nudges, the work list is what is planned. When the plan
    /// could not run (another sync holds the lock, or it failed) every
    /// message fails and comes back after a short delay, so a change made
    /// while another plan ran is planned right after it.
    pub async fn handle_changes(&self, batch: SqsEvent) -> SqsBatchResponse {
        let messages = batch.records.len();
        let outcome = self.run().await;
        let why = match &outcome {
            Ok(report) if !report.skipped => {
                tracing::info!(messages, report = %serde_json::to_string(report).unwrap_or_default(), "stock sync done");
                let attempt = batch
                    .records
                    .iter()
                    .filter_map(|r| r.body.as_deref())
                    .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                    .filter_map(|b| b["attempt"].as_u64())
                    .max()
                    .unwrap_or(0) as u32;
                self.follow_up(report, attempt + 1).await;
                return SqsBatchResponse::default();
            }
            Ok(_) => "another product sync holds the lock".to_string(),
            Err(e) => e.to_string(),
        };
        let mut response = SqsBatchResponse::default();
        for record in batch.records {
            let receives: u32 = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let delay = crate::aws::sqs::retry_delay(STOCK_RETRY_BASE, receives);
            if let (Some(queue), Some(receipt)) = (&self.stock_queue, &record.receipt_handle) {
                if let Err(e) = queue.retry_later(receipt, delay).await {
                    tracing::warn!(error = %e, "could not shorten a stock-sync retry; the queue's visibility timeout applies");
                }
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
        tracing::info!(messages, %why, "stock sync not planned now; its messages come back");
        response
    }

    /// The Lambda handler: any event (schedule, on-demand, or a
    /// `sync.requested` from the operations function, whose SKUs it put on
    /// the work list already) runs one sync over the whole work list.
    pub async fn handle(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>,
    ) -> Result<SyncReport, lambda_http::Error> {
        let requested = sync_requested(&event.payload);
        if let Some(r) = &requested {
            tracing::info!(request_id = %r.request_id, skus = r.skus.len(), "sync requested");
        }
        let mut report = self.run().await.map_err(|e| {
            tracing::error!(error = %e, "product sync failed");
            e
        })?;
        report.requested_by = requested.map(|r| r.request_id);
        self.follow_up(&report, 1).await;
        tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "product sync done");
        crate::telemetry::emit_heartbeat("product-sync");
        Ok(report)
    }

    /// Products changed again while their earlier push is in flight wait
    /// for its result (one batch per kind at a time keeps results in
    /// order). Rather than leave them to the next scheduled run, a nudge is
    /// queued for after the result check should be in: `check_delay · 2^(attempt − 1)`
    /// (at least 5 s, at most 15 min), until nothing is held. A failure
    /// to queue costs only time (the schedule plans them).
    async fn follow_up(&self, report: &SyncReport, attempt: u32) {
        // After about half an hour of follow-ups (5 s doubling, ≤ 15 min)
        // the chain ends: the scheduled plan takes over, so a push stuck in
        // flight for hours cannot grow a chain per scheduled run.
        if attempt > MAX_FOLLOW_UPS {
            tracing::info!(
                attempt,
                "still held by an in-flight push; the scheduled sync plans it"
            );
            return;
        }
        let Some(queue) = (report.held_by_in_flight > 0)
            .then_some(self.stock_queue.as_ref())
            .flatten()
        else {
            return;
        };
        let base = self.settings.check_delay.max(STOCK_RETRY_BASE);
        let delay = crate::aws::sqs::retry_delay(base, attempt);
        tracing::info!(
            held = report.held_by_in_flight,
            attempt,
            delay,
            "changed while in flight: planning again after its result"
        );
        if let Err(e) = queue
            .request_sync("in-flight", &report.held_skus, attempt, delay)
            .await
        {
            tracing::warn!(error = %e, "could not queue the follow-up; the scheduled sync plans them");
        }
    }

    pub async fn run(&self) -> Result<SyncReport> {
        let now = now_ms();
        if !self
            .store
            .lock_sync(now, now + LOCK_FOR.as_millis() as i64)
            .await?
        {
            tracing::info!("another product sync is running");
            return Ok(SyncReport {
                skipped: true,
                ..SyncReport::default()
            });
        }
        let result = self.plan_and_queue(now).await;
        if let Err(e) = self.store.unlock_sync().await {
            // The lock expires on its own.
            tracing::warn!(error = %e, "could not release the sync lock");
        }
        result
    }

    async fn plan_and_queue(&self, now: i64) -> Result<SyncReport> {
        let started = Instant::now();
        let mut report = SyncReport::default();
        let mut products = self.store.pending_products().await?;
        products.sort_by(|a, b| a.product.sku.cmp(&b.product.sku));
        report.pending_products = products.len();
        let in_flight = self.in_flight(now).await?;
        report.read_ms = started.elapsed().as_millis() as u64;
        let mut cpu = Instant::now();

        // 1. Decide, per product and marketplace.
        let (mut decided, settled) = self.decide(&products, &in_flight, &mut report);

        // 2. Refuse what breaks its category's rules, before sending.
        let mut decide_time = cpu.elapsed();
        let lookups = Instant::now();
        let rules = self.category_rules(&decided, now).await;
        let refusals = refuse(&mut decided, &rules, &mut report.deferred);

        // 3. Trendyol content updates are keyed by the approved product's content id.
        let content_ids = self.content_ids(&decided).await;
        report.lookup_ms = lookups.elapsed().as_millis() as u64;
        cpu = Instant::now();

        // 4. Group by marketplace and push.
        let groups = group(&decided, &content_ids, &mut report.deferred);

        // 5. Record refusals (they settle the product until it changes).
        decide_time += cpu.elapsed();
        let writes = Instant::now();
        report.refused = refusals.len();
        self.record_refusals(&refusals, now).await?;

        // 6. Plans first, then their jobs: a job never exists without its plan.
        self.queue_batches(groups, now, &mut report).await?;

        // 7. Products with nothing left to do leave the work list.
        report.settled = self.settle(&settled).await;
        report.write_ms = writes.elapsed().as_millis() as u64;
        report.decide_ms = decide_time.as_millis() as u64;
        report.planning_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// The pushes each product needs on each configured marketplace (its
    /// kinds in flight count as such), and the products settled everywhere.
    /// A product listed on a marketplace without credentials here is neither:
    /// it stays on the work list (counted in `waiting`), so it is sent once
    /// the marketplace is configured.
    fn decide<'a>(
        &'a self,
        products: &'a [StoredProduct],
        in_flight: &InFlight,
        report: &mut SyncReport,
    ) -> (Vec<Decided<'a>>, Vec<&'a StoredProduct>) {
        let mut decided: Vec<Decided<'a>> = Vec::new();
        let mut settled: Vec<&StoredProduct> = Vec::new();
        for stored in products {
            let mut all_settled = true;
            let mut held = false;
            for (m, client) in self.marketplaces.iter_configured() {
                let mut state = stored.listing(m).clone();
                if let Some(kinds) = in_flight.get(&(m, stored.product.sku.clone())) {
                    for (k, carried) in kinds {
                        let desired = stored.product.sync_hash(m, *k);
                        let kind = state.kind_mut(*k);
                        kind.in_flight = true;
                        held |= desired != *carried;
                    }
                }
                let plan = plan_listing(&stored.product, m, &state);
                all_settled &= plan.settled;
                decided.extend(plan.pushes.into_iter().map(|push| Decided {
                    stored,
                    client,
                    marketplace: m,
                    push,
                }));
            }
            let unconfigured = Marketplace::ALL.iter().any(|m| {
                stored.product.listed_on(*m) && self.marketplaces.configured(*m).is_none()
            });
            if held {
                report.held_by_in_flight += 1;
                report.held_skus.push(stored.product.sku.clone());
            }
            if unconfigured {
                report.waiting_for_unconfigured += 1;
            } else if all_settled {
                settled.push(stored);
            }
        }
        (decided, settled)
    }

    /// Writes the refusals as lasting results at the product's content digest.
    async fn record_refusals(&self, refusals: &[Refusal<'_>], now: i64) -> Result<()> {
        let refused_writes: Vec<Result<()>> = stream::iter(refusals.iter())
            .map(|(stored, m, problems)| {
                let hash = stored.product.sync_hash(*m, SyncKind::Content);
                async move {
                    let hashes: Vec<(SyncKind, String)> =
                        hash.map(|h| (SyncKind::Content, h)).into_iter().collect();
                    self.store
                        .record_result(&SyncResult {
                            sku: &stored.product.sku,
                            marketplace: *m,
                            hashes: &hashes,
                            fixed: None,
                            outcome: ResultOutcome::Refused {
                                reasons: problems.clone(),
                                lasting: true,
                            },
                            planned_ms: now,
                        })
                        .await
                }
            })
            .buffer_unordered(WRITE_CONCURRENCY)
            .collect()
            .await;
        refused_writes.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(())
    }

    /// Cuts each group into batches, writes their plans, then queues one
    /// send job a plan; counts batches and items in the report.
    async fn queue_batches(&self, groups: Groups, now: i64, report: &mut SyncReport) -> Result<()> {
        let mut plans = Vec::new();
        let mut jobs = Vec::new();
        let run = format!("{now}-{:08x}", fastrand::u32(..));
        for ((m, push), items) in groups {
            let label = format!("{}:{}", m.as_str(), push.as_str());
            // Sized by what the marketplace request will carry.
            for (n, batch) in chunk(items, MAX_BATCH_ITEMS, MAX_REQUEST_BYTES, |(_, bytes)| {
                *bytes
            })
            .into_iter()
            .enumerate()
            {
                let plan_id = format!("{run}-{}-{}-{n}", m.as_str(), push.as_str());
                *report.batches.entry(label.clone()).or_default() += 1;
                *report.items.entry(label.clone()).or_default() += batch.len();
                plans.push(Plan {
                    plan_id: plan_id.clone(),
                    marketplace: m,
                    push,
                    items: batch.into_iter().map(|(item, _)| item).collect(),
                    created_ms: now,
                    batch_id: None,
                });
                jobs.push(CatalogJob::Send {
                    plan_id,
                    marketplace: m,
                    push,
                });
            }
        }
        self.store
            .put_plans(&plans, now / 1000 + PLAN_RETENTION_SECS)
            .await?;
        // If queueing fails the plans go stale and their products are planned again.
        self.queue.send_jobs(&jobs, 0).await
    }

    /// Takes the settled products off the work list; how many left it. One
    /// that could not be taken off is read again next run.
    async fn settle(&self, settled: &[&StoredProduct]) -> usize {
        let settles: Vec<Result<()>> = stream::iter(settled.iter())
            .map(|s| self.store.settle_product(&s.product.sku, s.version))
            .buffer_unordered(WRITE_CONCURRENCY)
            .collect()
            .await;
        let count = settles.iter().filter(|r| r.is_ok()).count();
        if let Some(Err(e)) = settles.into_iter().find(Result::is_err) {
            tracing::warn!(error = %e, "could not settle every product; they are read again next run");
        }
        count
    }

    /// (marketplace, sku) → kinds in flight, from plans that are not stale.
    async fn in_flight(&self, now: i64) -> Result<InFlight> {
        // An unsent plan older than this is never sent (the worker refuses
        // it); a sent one waits for its result checks much longer.
        let unsent_cutoff = now - self.settings.plan_stale_after.as_millis() as i64;
        let sent_cutoff = now - self.settings.sent_plan_stale_after.as_millis() as i64;
        let mut map: InFlight = HashMap::new();
        for plan in self.store.open_plans().await? {
            let cutoff = if plan.batch_id.is_some() {
                sent_cutoff
            } else {
                unsent_cutoff
            };
            if plan.created_ms < cutoff {
                continue;
            }
            for item in plan.items {
                let kinds = map.entry((plan.marketplace, item.sku)).or_default();
                for k in plan.push.kinds(plan.marketplace) {
                    let carried = item.hashes.iter().find(|(h, _)| h == k);
                    kinds.insert(*k, carried.map(|(_, digest)| digest.clone()));
                }
            }
        }
        Ok(map)
    }

    /// Rules for every category a create or content push uses: from the
    /// cache, else from the marketplace (then cached). A category whose
    /// lookup failed is missing from the map.
    async fn category_rules(
        &self,
        decided: &[Decided<'_>],
        now_ms: i64,
    ) -> HashMap<(Marketplace, u64), Option<CategoryRules>> {
        let now = now_ms / 1000;
        let wanted: HashMap<(Marketplace, u64), &MarketplaceClient> = decided
            .iter()
            .filter(|d| matches!(d.push, Push::Create | Push::Content))
            .filter_map(|d| {
                let category = d.client.category_of(d.stored)?;
                Some(((d.marketplace, category), d.client))
            })
            .collect();
        let mut rules = HashMap::new();
        for ((m, category), client) in wanted {
            match self.store.cached_category(m, category, now).await {
                Ok(Some(cached)) => {
                    rules.insert((m, category), cached);
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "category cache unreadable"),
            }
            match client.category_rules(category).await {
                Ok(fetched) => {
                    let expires = now + self.settings.category_cache_ttl.as_secs() as i64;
                    if let Err(e) = self
                        .store
                        .cache_category(m, category, fetched.as_ref(), expires)
                        .await
                    {
                        tracing::warn!(error = %e, "could not cache category rules");
                    }
                    rules.insert((m, category), fetched);
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    marketplace = m.as_str(),
                    category,
                    "category rules unavailable; its products wait for the next run"
                ),
            }
        }
        rules
    }

    /// Content ids of approved Trendyol products whose content changed and
    /// whose id we do not have yet (looked up once, then stored).
    async fn content_ids(&self, decided: &[Decided<'_>]) -> HashMap<String, u64> {
        let mut found = HashMap::new();
        let Some(trendyol) = catalog::trendyol(&self.marketplaces) else {
            return found;
        };
        let missing = decided.iter().filter(|d| {
            d.marketplace == Marketplace::Trendyol
                && d.push == Push::Content
                && d.stored.trendyol_content_id.is_none()
        });
        for d in missing.take(self.settings.max_lookups_per_run) {
            let sku = &d.stored.product.sku;
            match trendyol
                .approved_content_id(&d.stored.product.barcode)
                .await
            {
                Ok(Some(id)) => {
                    if let Err(e) = self.store.set_trendyol_content_id(sku, id).await {
                        tracing::warn!(error = %e, %sku, "could not store a Trendyol content id");
                    }
                    found.insert(sku.clone(), id);
                }
                Ok(None) => {
                    tracing::info!(%sku, "not approved on Trendyol yet; its content update waits")
                }
                Err(e) => tracing::warn!(error = %e, %sku, "Trendyol content id lookup failed"),
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_sqs_batch_is_read_as_stock_changes() {
        let sqs = json!({"Records": [{"messageId": "m1", "eventSource": "aws:sqs", "body": "{}"}]});
        assert!(is_sqs_batch(&sqs));
        // The schedule, a sync.requested event, an empty batch, another source.
        assert!(!is_sqs_batch(&json!({})));
        assert!(!is_sqs_batch(
            &json!({"detail-type": "sync.requested", "detail": {"kind": "catalog"}})
        ));
        assert!(!is_sqs_batch(&json!({"Records": []})));
        assert!(!is_sqs_batch(
            &json!({"Records": [{"eventSource": "aws:sns"}]})
        ));
    }
}
