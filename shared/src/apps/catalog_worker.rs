//! The `catalog-worker` function (SQS consumer of the catalog queue, partial
//! batch responses): sends planned batches to the marketplaces and reads
//! their results later, from a delayed check job rather than a sleep.
//!
//! A send is guarded by its plan: one invocation leases the plan, sends,
//! and marks it sent with the marketplace's batch id before queueing the
//! check. A redelivered send finds the plan sent (queues the check again) or
//! gone (finished), so a batch is submitted once unless the marketplace's
//! answer itself was lost. Trendyol's 15-minute rule on identical price and
//! stock bodies is kept with a remembered body digest.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::stream::{self, StreamExt};
use serde_json::value::RawValue;

use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::aws::sqs::{retry_delay, SqsQueue, MAX_DELAY_SECS};
use crate::clock::{now_ms, now_rfc3339};
use crate::config::{self, CatalogSettings, HttpSettings, ProcessEnv};
use crate::domain::catalog_sync::{CatalogJob, Push};
use crate::domain::event::{CatalogSyncDetail, DetailType, DomainEvent, EventDetail};
use crate::domain::marketplace::Marketplace;
use crate::domain::product::SyncKind;
use crate::error::{Error, ProviderFailure, Result};
use crate::ports::{
    BatchOutcome, CatalogSyncStore, EventPublisher, ItemResult, JobQueue, Plan, PlanItem,
    PlanLease, ResultOutcome, StoredProduct, SyncResult,
};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::catalog::{self, CatalogClients, MarketplaceClient};

const WRITE_CONCURRENCY: usize = 16;
/// Messages of one event handled at once (the template's BatchSize is 5).
const JOBS_IN_PARALLEL: usize = 10;
/// A send lease outlives any invocation (the function's timeout is 5 min).
const LEASE: Duration = Duration::from_secs(6 * 60);

pub struct App<S, Q, P> {
    store: S,
    queue: Q,
    publisher: P,
    marketplaces: CatalogClients,
    settings: CatalogSettings,
}

impl App<DynamoStore, SqsQueue, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let settings = CatalogSettings::from_env(&env)?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        let bus = config::event_bus_name(&env)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            SqsQueue::new(aws.sqs(), settings.queue_url.clone()),
            EventBridgePublisher::new(aws.eventbridge(), bus),
            catalog::catalog_clients(&env, &http)?,
            settings,
        ))
    }
}

impl<S: CatalogSyncStore, Q: JobQueue, P: EventPublisher> App<S, Q, P> {
    pub fn new(
        store: S,
        queue: Q,
        publisher: P,
        marketplaces: CatalogClients,
        settings: CatalogSettings,
    ) -> Self {
        App {
            store,
            queue,
            publisher,
            marketplaces,
            settings,
        }
    }

    /// The Lambda handler: each message on its own; the ones that failed are
    /// reported so only they are redelivered (and reach the DLQ after
    /// maxReceiveCount).
    pub async fn handle(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<SqsEvent>,
    ) -> Result<SqsBatchResponse, lambda_http::Error> {
        Ok(self.process(event.payload).await)
    }

    /// The messages of one event run side by side: they are independent
    /// plans, and each endpoint's rate limiter spaces their requests, so the
    /// allowed rate is used while others wait on DynamoDB or the network.
    pub async fn process(&self, event: SqsEvent) -> SqsBatchResponse {
        let failures: Vec<Option<BatchItemFailure>> = stream::iter(event.records)
            .map(|record| self.process_record(record))
            .buffer_unordered(JOBS_IN_PARALLEL)
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures.into_iter().flatten().collect();
        response
    }

    async fn process_record(&self, record: SqsMessage) -> Option<BatchItemFailure> {
        let id = record.message_id.clone().unwrap_or_default();
        let job = record
            .body
            .as_deref()
            .map(serde_json::from_str::<CatalogJob>);
        let readable = matches!(job, Some(Ok(_)));
        let outcome = match job {
            Some(Ok(job)) => self.run(job).await,
            Some(Err(e)) => Err(Error::Internal(format!("unreadable catalog job: {e}"))),
            None => Err(Error::Internal("catalog job without a body".into())),
        };
        let e = outcome.err()?;
        let receives: u32 = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        // An unreadable job never gets better: straight on to the DLQ.
        let delay = if readable {
            retry_delay(self.settings.retry_delay, receives)
        } else {
            0
        };
        tracing::warn!(message_id = %id, receives, delay, error = %e, "catalog job failed; SQS will redeliver it");
        if let Some(receipt) = &record.receipt_handle {
            if let Err(e) = self.queue.retry_later(receipt, delay).await {
                tracing::warn!(error = %e, "could not shorten the retry delay; the queue's visibility timeout applies");
            }
        }
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        Some(failure)
    }

    pub async fn run(&self, job: CatalogJob) -> Result<()> {
        match job {
            CatalogJob::Send {
                plan_id,
                marketplace,
                push,
            } => self.send(&plan_id, marketplace, push).await,
            CatalogJob::Check {
                plan_id,
                marketplace,
                push,
                batch_id,
                attempt,
            } => {
                self.check(&plan_id, marketplace, push, &batch_id, attempt)
                    .await
            }
        }
    }

    fn client(&self, marketplace: Marketplace) -> Result<&MarketplaceClient> {
        self.marketplaces
            .configured(marketplace)
            .ok_or_else(|| Error::Config(format!("{} is not configured", marketplace.as_str())))
    }

    async fn queue_check(
        &self,
        plan_id: &str,
        marketplace: Marketplace,
        push: Push,
        batch_id: &str,
        attempt: u32,
    ) -> Result<()> {
        let base = self.settings.check_delay.as_secs() as u32;
        let delay = base
            .saturating_mul(1 << (attempt.saturating_sub(1)).min(10))
            .min(MAX_DELAY_SECS);
        let job = CatalogJob::Check {
            plan_id: plan_id.to_string(),
            marketplace,
            push,
            batch_id: batch_id.to_string(),
            attempt,
        };
        self.queue.send_jobs(&[job], delay).await
    }

    async fn send(&self, plan_id: &str, marketplace: Marketplace, push: Push) -> Result<()> {
        let client = self.client(marketplace)?;
        let now = now_ms();
        let Some(plan) = self.lease(plan_id, marketplace, push, now).await? else {
            return Ok(());
        };
        // Built from the products as they are now: a change made since the
        // plan goes out with it, and the plan records what was really sent.
        let skus: Vec<String> = plan.items.iter().map(|i| i.sku.clone()).collect();
        let products = self.store.get_products(&skus).await?;
        let batch = wire_batch(client, &products, marketplace, push);
        self.refuse_duplicates(batch.duplicates, marketplace, push, plan.created_ms)
            .await?;
        if batch.items.is_empty() {
            // Its products are gone or no longer listed there.
            return self.store.delete_plan(plan_id).await;
        }
        let bodies: Vec<&RawValue> = batch.bodies.iter().map(AsRef::as_ref).collect();
        let guard = client.refuses_repeated_bodies(push).then(|| {
            (
                format!("{}:{}", marketplace.as_str(), push.as_str()),
                client.body_digest(&bodies),
            )
        });
        if let Some((scope, digest)) = &guard {
            // A margin (a minute of Trendyol's 15): the clock starts here,
            // before the rate limiter and the request itself.
            let window = self.settings.duplicate_body_window.as_millis() as i64 * 16 / 15;
            if !self.store.claim_body(scope, digest, now, window).await? {
                // The very same body went out less than 15 minutes ago:
                // Trendyol would refuse it. Send it again once the window passed.
                self.store.release_plan(plan_id).await?;
                let delay = self.after_body_window();
                tracing::info!(%plan_id, delay, "identical body sent recently; sending later");
                return self.send_later(plan_id, marketplace, push).await;
            }
        }
        match client.submit(push, &bodies).await {
            Ok(batch_id) => {
                tracing::info!(
                    %plan_id,
                    marketplace = marketplace.as_str(),
                    push = push.as_str(),
                    items = batch.items.len(),
                    %batch_id,
                    "batch submitted"
                );
                self.store
                    .mark_plan_sent(plan_id, &batch_id, &batch.items)
                    .await?;
                self.queue_check(plan_id, marketplace, push, &batch_id, 1)
                    .await
            }
            Err(e) => {
                self.submit_failed(plan_id, marketplace, push, guard.as_ref(), e)
                    .await
            }
        }
    }

    /// The plan, leased for this send; `None` when there is nothing to send:
    /// the plan is gone (finished), or was sent (its check is queued again).
    async fn lease(
        &self,
        plan_id: &str,
        marketplace: Marketplace,
        push: Push,
        now: i64,
    ) -> Result<Option<Plan>> {
        match self
            .store
            .lease_plan(
                plan_id,
                now,
                now + LEASE.as_millis() as i64,
                now - self.settings.plan_stale_after.as_millis() as i64,
            )
            .await?
        {
            PlanLease::Gone => Ok(None),
            PlanLease::Sent { batch_id } => {
                self.queue_check(plan_id, marketplace, push, &batch_id, 1)
                    .await?;
                Ok(None)
            }
            PlanLease::Held => Err(Error::Conflict {
                code: "plan_in_progress",
                message: format!("plan {plan_id} is being sent by another invocation"),
            }),
            PlanLease::Acquired(plan) => Ok(Some(plan)),
        }
    }

    /// Records each product that shares its result key with an earlier one
    /// of the batch as refused (lasting, at its current digests).
    async fn refuse_duplicates(
        &self,
        duplicates: Vec<(&StoredProduct, String)>,
        marketplace: Marketplace,
        push: Push,
        planned_ms: i64,
    ) -> Result<()> {
        for (stored, reason) in duplicates {
            let hashes = push.hashes(&stored.product, marketplace);
            self.store
                .record_result(&SyncResult {
                    sku: &stored.product.sku,
                    marketplace,
                    hashes: &hashes,
                    fixed: None,
                    outcome: ResultOutcome::Refused {
                        reasons: vec![reason],
                        lasting: true,
                    },
                    planned_ms,
                })
                .await?;
        }
        Ok(())
    }

    /// A submit that failed: the lease is released; a body Trendyol saw
    /// within its window goes again after it; otherwise the error (the job
    /// is retried), and a body the marketplace cannot have taken is
    /// forgotten, so the retry may send it.
    async fn submit_failed(
        &self,
        plan_id: &str,
        marketplace: Marketplace,
        push: Push,
        guard: Option<&(String, String)>,
        e: Error,
    ) -> Result<()> {
        if let Err(release) = self.store.release_plan(plan_id).await {
            tracing::warn!(error = %release, "could not release a plan lease; it expires");
        }
        if is_repeated_body_refusal(&e) {
            // Trendyol saw this body within 15 minutes after all (an
            // earlier answer was lost): send again after the window.
            return self.send_later(plan_id, marketplace, push).await;
        }
        // The body counts as sent when the marketplace may have taken
        // it: a timeout, a dropped connection or a 5xx after the
        // request went out. A refusal (4xx, 429) took nothing.
        let ambiguous =
            matches!(&e, Error::Provider(p) if p.failure == ProviderFailure::Unavailable);
        if let (Some((scope, digest)), false) = (guard, ambiguous) {
            self.store.forget_body(scope, digest).await?;
        }
        Err(e)
    }

    /// Seconds until a body sent now may be sent again (within SQS's delay).
    fn after_body_window(&self) -> u32 {
        (self.settings.duplicate_body_window.as_secs() as u32).min(MAX_DELAY_SECS)
    }

    /// Queues the plan's send again, for after the repeated-body window.
    async fn send_later(&self, plan_id: &str, marketplace: Marketplace, push: Push) -> Result<()> {
        let job = CatalogJob::Send {
            plan_id: plan_id.to_string(),
            marketplace,
            push,
        };
        self.queue.send_jobs(&[job], self.after_body_window()).await
    }

    async fn check(
        &self,
        plan_id: &str,
        marketplace: Marketplace,
        push: Push,
        batch_id: &str,
        attempt: u32,
    ) -> Result<()> {
        let client = self.client(marketplace)?;
        let Some(plan) = self.store.get_plan(plan_id).await? else {
            // Recorded by an earlier delivery of this check.
            return Ok(());
        };
        let sent: Vec<String> = plan.items.iter().map(|i| i.key.clone()).collect();
        let (results, others_ok) = match client.batch_result(push, batch_id, &sent).await? {
            BatchOutcome::Pending if attempt >= self.settings.max_checks => {
                return Err(Error::Unprocessable {
                    code: "batch_never_finished",
                    message: format!(
                        "{} batch {batch_id} still in progress after {attempt} checks",
                        marketplace.as_str()
                    ),
                })
            }
            BatchOutcome::Pending => {
                return self
                    .queue_check(plan_id, marketplace, push, batch_id, attempt + 1)
                    .await
            }
            BatchOutcome::Done { results, others_ok } => (results, others_ok),
        };
        let mut outcomes = item_outcomes(
            &plan.items,
            &results,
            others_ok,
            marketplace,
            push,
            batch_id,
        );
        let adopted = self
            .adopt_existing_listings(outcomes.failed_creates, &mut outcomes.writes)
            .await?;
        // Any failed write: keep the plan so the redelivered check records
        // again (the writes are idempotent).
        self.record_outcomes(outcomes.writes, &adopted, marketplace, plan.created_ms)
            .await?;
        // Once the results are recorded (a check redelivered after a failed
        // publish counts again: the refusal alarm may see a batch twice,
        // never miss one). Adopted listings count as acknowledged.
        crate::telemetry::emit_catalog_batch(
            marketplace.as_str(),
            push.as_str(),
            outcomes.detail.acknowledged + adopted.len(),
            outcomes.detail.refused.saturating_sub(adopted.len()),
        );
        let event = DomainEvent {
            detail_type: DetailType::CatalogSyncCompleted,
            event_id: format!("catalog:{}:{batch_id}", marketplace.as_str()),
            occurred_at: now_rfc3339(),
            detail: EventDetail::CatalogSync(outcomes.detail),
        };
        self.publisher.publish(&[event]).await?;
        self.store.delete_plan(plan_id).await?;
        Ok(())
    }

    /// Records each item's outcome; an adopted listing's content is
    /// unknown, and so are the fields Trendyol fixed when someone else
    /// created it. The first failed write is the error.
    async fn record_outcomes(
        &self,
        writes: Vec<(&PlanItem, ResultOutcome)>,
        adopted: &HashSet<String>,
        marketplace: Marketplace,
        planned_ms: i64,
    ) -> Result<()> {
        let unknown_content = [(SyncKind::Content, UNKNOWN_CONTENT.to_string())];
        let outcomes: Vec<Result<()>> = stream::iter(writes)
            .map(|(item, outcome)| {
                let (hashes, fixed): (&[(SyncKind, String)], _) = if adopted.contains(&item.sku) {
                    (&unknown_content, None)
                } else {
                    (&item.hashes, item.fixed.as_deref())
                };
                async move {
                    self.store
                        .record_result(&SyncResult {
                            sku: &item.sku,
                            marketplace,
                            hashes,
                            fixed,
                            outcome,
                            planned_ms,
                        })
                        .await
                }
            })
            .buffer_unordered(WRITE_CONCURRENCY)
            .collect()
            .await;
        outcomes.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(())
    }

    /// A Trendyol create refused because the barcode is already listed (an
    /// earlier create whose answer we lost, or a listing made by hand) would
    /// otherwise leave the product refused for good while it sells on
    /// Trendyol. When Trendyol knows the barcode, the product counts as
    /// created with unknown content (recorded instead of the refusal): its
    /// content, price and stock go out as updates next sync. Bounded per
    /// check; refusals beyond the bound are recorded as they are.
    async fn adopt_existing_listings<'p>(
        &self,
        failed: Vec<(&'p PlanItem, ResultOutcome)>,
        writes: &mut Vec<(&'p PlanItem, ResultOutcome)>,
    ) -> Result<HashSet<String>> {
        let mut adopted = HashSet::new();
        let trendyol = catalog::trendyol(&self.marketplaces);
        for (n, (item, refusal)) in failed.into_iter().enumerate() {
            let info = match trendyol {
                Some(t) if n < MAX_ADOPTIONS_PER_CHECK => t.product_info(&item.key).await?,
                _ => None,
            };
            let Some(info) = info else {
                writes.push((item, refusal));
                continue;
            };
            if let (true, Some(id)) = (info.approved, info.content_id) {
                self.store.set_trendyol_content_id(&item.sku, id).await?;
            }
            tracing::info!(sku = %item.sku, "barcode already listed on Trendyol; updating it instead");
            adopted.insert(item.sku.clone());
            writes.push((item, ResultOutcome::Acknowledged));
        }
        Ok(adopted)
    }
}

/// A plan's products as the marketplace will get them: one wire body and
/// plan item each, in the same order; products whose result key an earlier
/// one has already taken are set aside with the reason.
struct WireBatch<'p> {
    items: Vec<PlanItem>,
    bodies: Vec<Box<RawValue>>,
    duplicates: Vec<(&'p StoredProduct, String)>,
}

/// Builds the batch; products gone from the marketplace (no wire body or
/// no result key) are left out.
fn wire_batch<'p>(
    client: &MarketplaceClient,
    products: &'p [StoredProduct],
    marketplace: Marketplace,
    push: Push,
) -> WireBatch<'p> {
    let mut batch = WireBatch {
        items: Vec::with_capacity(products.len()),
        bodies: Vec::with_capacity(products.len()),
        duplicates: Vec::new(),
    };
    for stored in products {
        let content_id = stored.trendyol_content_id;
        let (Some(body), Some(key)) = (
            client.wire_item(stored, push),
            client.result_key(stored, push, content_id),
        ) else {
            continue;
        };
        // Results are matched by barcode / merchant SKU: two products
        // sharing one cannot both be told apart, so the later waits.
        if let Some(first) = batch.items.iter().find(|i| i.key == key) {
            batch.duplicates.push((
                stored,
                format!(
                    "{key} is also used by SKU {}; each product needs its own on {}",
                    first.sku,
                    marketplace.as_str()
                ),
            ));
            continue;
        }
        batch.items.push(PlanItem {
            sku: stored.product.sku.clone(),
            key,
            hashes: push.hashes(&stored.product, marketplace),
            fixed: (marketplace == Marketplace::Trendyol && push == Push::Create)
                .then(|| stored.product.trendyol_fixed_digest())
                .flatten(),
        });
        batch.bodies.push(body);
    }
    batch
}

/// What a finished batch said of each planned item.
struct Outcomes<'p> {
    /// Counts and the first refusals, for the completion event.
    detail: CatalogSyncDetail,
    /// What to record per item.
    writes: Vec<(&'p PlanItem, ResultOutcome)>,
    /// Refused Trendyol creates: listings that may exist already.
    failed_creates: Vec<(&'p PlanItem, ResultOutcome)>,
}

/// Matches the batch's results to the planned items by key: ok is
/// acknowledged; a refusal keeps its reasons (a stand-in when the
/// marketplace gave none); an item the answer does not name is
/// acknowledged when unnamed items succeeded (`others_ok`), else unknown
/// and not recorded (it is planned again).
fn item_outcomes<'p>(
    items: &'p [PlanItem],
    results: &[ItemResult],
    others_ok: bool,
    marketplace: Marketplace,
    push: Push,
    batch_id: &str,
) -> Outcomes<'p> {
    let by_key: HashMap<&str, &ItemResult> = results.iter().map(|r| (r.key.as_str(), r)).collect();
    let mut outcomes = Outcomes {
        detail: CatalogSyncDetail {
            marketplace: marketplace.as_str().into(),
            push: push.as_str().into(),
            batch_id: batch_id.into(),
            acknowledged: 0,
            refused: 0,
            unknown: 0,
            refusals: vec![],
        },
        writes: Vec::new(),
        failed_creates: Vec::new(),
    };
    let detail = &mut outcomes.detail;
    for item in items {
        match by_key.get(item.key.as_str()) {
            Some(r) if r.ok => {
                detail.acknowledged += 1;
                outcomes.writes.push((item, ResultOutcome::Acknowledged));
            }
            Some(r) => {
                detail.refused += 1;
                if detail.refusals.len() < 50 {
                    detail.refusals.push((
                        item.sku.clone(),
                        r.reasons.first().cloned().unwrap_or_default(),
                    ));
                }
                let reasons = if r.reasons.is_empty() {
                    vec![format!(
                        "refused by {} without a reason",
                        marketplace.as_str()
                    )]
                } else {
                    r.reasons.clone()
                };
                let outcome = ResultOutcome::Refused {
                    reasons,
                    lasting: r.lasting,
                };
                if marketplace == Marketplace::Trendyol && push == Push::Create {
                    outcomes.failed_creates.push((item, outcome));
                } else {
                    outcomes.writes.push((item, outcome));
                }
            }
            None if others_ok => {
                detail.acknowledged += 1;
                outcomes.writes.push((item, ResultOutcome::Acknowledged));
            }
            None => detail.unknown += 1,
        }
    }
    outcomes
}

/// What we record as acknowledged content of a listing we did not create:
/// never equal to a real digest, so the content is sent as an update.
const UNKNOWN_CONTENT: &str = "listed-elsewhere";
const MAX_ADOPTIONS_PER_CHECK: usize = 100;

/// Trendyol's refusal of a body repeated within 15 minutes.
fn is_repeated_body_refusal(e: &Error) -> bool {
    matches!(e, Error::Provider(p) if p.provider == "trendyol"
        && p.failure == ProviderFailure::Rejected
        && p.message.contains("15 dakika"))
}
