//! What the function apps need from the outside world, one small trait per
//! capability, so a handler depends only on what it uses. The DynamoDB
//! adapter in `aws::dynamo` implements them.

use std::future::Future;

use crate::domain::{Order, OrderContent, PaymentAttempt};
use crate::error::Result;

/// The result of writing an order that may already exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderWrite {
    /// Written (created when `version == 1`).
    Written(Order),
    /// Not written: the stored order is collected (paid, refunded) or has
    /// exactly this content already. The stored order is returned.
    Kept(Order),
}

pub trait OrderWriter: Send + Sync {
    /// Creates or replaces the order's content, atomically refusing when the
    /// stored order is already collected or already has the same content.
    fn put_unless_collected(
        &self,
        order_id: &str,
        content: &OrderContent,
        now: &str,
    ) -> impl Future<Output = Result<OrderWrite>> + Send;
}

pub trait OrderReader: Send + Sync {
    /// The order and its payment attempts, strongly consistent.
    fn order_with_attempts(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<(Order, Vec<PaymentAttempt>)>>> + Send;
}

pub trait PaymentAttemptRecorder: Send + Sync {
    /// Records (or refreshes) an attempt; keyed by provider and provider ref,
    /// so recording the same attempt twice is harmless.
    fn record_attempt(&self, attempt: &PaymentAttempt) -> impl Future<Output = Result<()>> + Send;
}

// ---- Payment ledger and refunds ---------------------------------------------

use crate::domain::payment_ledger::PaymentLedger;
use crate::domain::refund::{RefundRecord, RefundState};

/// Where an order's payment ledger stands: a write is made only if neither
/// its content (a PUT while unpaid) nor its ledger changed since it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerVersion {
    pub content: u64,
    pub payment: u64,
}

pub trait PaymentLedgerStore: Send + Sync {
    /// The order's payment ledger and its version; `None` if no such order.
    fn load_ledger(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<(PaymentLedger, LedgerVersion)>>> + Send;

    /// Stores the ledger if the order is still at `version`; false otherwise.
    fn save_ledger(
        &self,
        ledger: &PaymentLedger,
        version: LedgerVersion,
        now: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The payment attempt recorded under a provider reference (a Stripe
    /// intent id, an iyzico checkout token): which order, and what amount we
    /// asked the gateway to collect.
    fn attempt_for_ref(
        &self,
        provider: &str,
        provider_ref: &str,
    ) -> impl Future<Output = Result<Option<PaymentAttempt>>> + Send;
}

/// How claiming a refund request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundClaim {
    /// Ours until the lease ends. `Some` when the request was claimed before
    /// by an invocation that did not finish: as it stood then.
    Claimed(Option<RefundRecord>),
    /// Finished: the first answer, to answer again.
    Done { status: u16, body: String },
    /// Another invocation is working on it right now.
    Busy,
    /// The request id was used before with other parameters.
    Mismatch,
}

/// How taking an order's refund lock ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundLock {
    Locked,
    /// Another refund of the order (its request id) is in flight.
    HeldBy(String),
    NoOrder,
}

/// The refund requests (one record per `requestId`) and the per-order lock
/// that keeps one refund in flight per order (docs/exactly-once.md).
pub trait RefundRequestStore: Send + Sync {
    fn claim_refund(
        &self,
        request: &RefundRecord,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<RefundClaim>> + Send;

    fn get_refund(
        &self,
        request_id: &str,
    ) -> impl Future<Output = Result<Option<RefundRecord>>> + Send;

    /// Takes the order's refund lock until `lease_until_ms` (a holder whose
    /// lease ran out before it sent anything loses it).
    fn lock_order_for_refund(
        &self,
        order_id: &str,
        request_id: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<RefundLock>> + Send;

    /// Releases the order's lock if `request_id` holds it.
    fn unlock_order_refund(
        &self,
        order_id: &str,
        request_id: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Records that the provider is about to be called (the record moves to
    /// `sent` with its plan), only while this invocation still holds its
    /// claim lease; with `hold_order_lock`, atomically with keeping the
    /// order's lock until the outcome is known (and only while it is ours).
    /// False otherwise.
    fn mark_refund_sent(
        &self,
        record: &RefundRecord,
        lease_until_ms: i64,
        hold_order_lock: bool,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Stores the answer; later repeats are answered with it.
    fn finish_refund(
        &self,
        request_id: &str,
        state: RefundState,
        status: u16,
        body: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Ends this invocation's lease on a request it could not finish (its
    /// outcome unclear), so the caller's retry may take it up at once.
    fn release_refund_lease(&self, request_id: &str) -> impl Future<Output = Result<()>> + Send;

    /// Forgets a request that was never sent (so a retry starts afresh).
    fn abandon_refund(&self, request_id: &str) -> impl Future<Output = Result<()>> + Send;
}

/// Publishes domain events; fails if any entry was not accepted.
pub trait EventPublisher: Send + Sync {
    fn publish(
        &self,
        events: &[crate::domain::event::DomainEvent],
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A delivery that left no idempotency record: refused before it was trusted
/// (`rejected:<reason>`) or trusted but not applicable yet (`unknown_order`).
/// Who, when, what. Never the payload.
#[derive(Debug, Clone)]
pub struct RejectedDelivery<'a> {
    pub provider: &'a str,
    pub received_at: &'a str,
    pub outcome: &'a str,
    pub source_ip: Option<&'a str>,
    pub now_unix: i64,
}

/// Writing the audit entry of a rejected delivery.
pub trait AuditRejected: Send + Sync {
    fn audit_rejected(
        &self,
        entry: &RejectedDelivery<'_>,
    ) -> impl Future<Output = Result<()>> + Send;
}

// ---- Catalog -------------------------------------------------------------

use crate::domain::catalog_sync::{CatalogJob, ListingState, Push};
use crate::domain::category::CategoryRules;
use crate::domain::marketplace::Marketplace;
use crate::domain::product::{Product, SyncKind};

/// A product as stored, with what each marketplace acknowledged or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProduct {
    pub product: Product,
    pub version: u64,
    pub updated_at: String,
    /// `in_flight` is never set here: it comes from open plans.
    pub trendyol: ListingState,
    pub hepsiburada: ListingState,
    /// Why a marketplace refused a kind, as it said (or as our check said).
    pub failures: Vec<(Marketplace, SyncKind, Vec<String>)>,
    /// Trendyol's id of the approved product's content (content updates are
    /// keyed by it), once looked up.
    pub trendyol_content_id: Option<u64>,
    /// `Product::trendyol_fixed_digest` as Trendyol created the product.
    pub trendyol_fixed: Option<String>,
}

impl StoredProduct {
    pub fn listing(&self, marketplace: Marketplace) -> &ListingState {
        match marketplace {
            Marketplace::Trendyol => &self.trendyol,
            Marketplace::Hepsiburada => &self.hepsiburada,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductWrite {
    Created {
        version: u64,
    },
    Updated {
        version: u64,
    },
    /// Identical to the stored product: nothing written.
    Unchanged,
}

pub trait ProductStore: Send + Sync {
    /// Creates or replaces a product and puts it on the sync's work list;
    /// writes nothing when the stored product is identical.
    fn put_product(
        &self,
        product: &Product,
        now: &str,
    ) -> impl Future<Output = Result<ProductWrite>> + Send;
    fn get_product(&self, sku: &str) -> impl Future<Output = Result<Option<StoredProduct>>> + Send;
}

/// One product of a planned batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanItem {
    pub sku: String,
    pub key: String,
    pub hashes: Vec<(SyncKind, String)>,
    /// Trendyol creates: the digest of the fields fixed at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
}

/// How a marketplace answered for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultOutcome {
    Acknowledged,
    /// `lasting`: not sent again until the product changes; otherwise the
    /// reasons are shown and the next sync tries again (Trendyol refuses
    /// price and stock until it has approved a product).
    Refused {
        reasons: Vec<String>,
        lasting: bool,
    },
}

/// One product's result in a batch.
#[derive(Debug, Clone)]
pub struct SyncResult<'a> {
    pub sku: &'a str,
    pub marketplace: Marketplace,
    pub hashes: &'a [(SyncKind, String)],
    pub fixed: Option<&'a str>,
    pub outcome: ResultOutcome,
    /// When the batch was planned (ms): a result never overwrites one of a
    /// later plan.
    pub planned_ms: i64,
}

/// A batch from planning until its result is recorded: while it exists its
/// products' kinds count as in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub plan_id: String,
    pub marketplace: Marketplace,
    pub push: Push,
    pub items: Vec<PlanItem>,
    pub created_ms: i64,
    /// Set once the marketplace accepted the batch.
    pub batch_id: Option<String>,
}

/// The outcome of trying to take a plan for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanLease {
    /// Ours until the lease ends; the plan as stored.
    Acquired(Plan),
    /// Another invocation is sending it right now.
    Held,
    /// Already sent: its result check is (or must be) queued.
    Sent { batch_id: String },
    /// Finished or expired: nothing to do.
    Gone,
}

/// A marketplace's answer for one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    /// Barcode (Trendyol) or merchant SKU (Hepsiburada).
    pub key: String,
    pub ok: bool,
    pub reasons: Vec<String>,
    /// A refusal about the product's data (not sent again until it changes),
    /// rather than about its state at the marketplace (not approved or not
    /// listed yet: tried again next sync).
    pub lasting: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    Pending,
    Done {
        results: Vec<ItemResult>,
        /// Items the answer does not name succeeded (Hepsiburada's uploads
        /// list only errors); otherwise their fate is unknown and they are
        /// planned again.
        others_ok: bool,
    },
}

pub trait CatalogSyncStore: Send + Sync {
    /// Products on the work list (changed since they last settled).
    fn pending_products(&self) -> impl Future<Output = Result<Vec<StoredProduct>>> + Send;
    /// Takes the product off the work list unless it changed since `version`.
    fn settle_product(&self, sku: &str, version: u64) -> impl Future<Output = Result<()>> + Send;
    /// Records what a marketplace acknowledged or refused, unless a result
    /// of a later plan was recorded already, and puts the product back on
    /// the work list so the next sync settles it or sends again.
    fn record_result(&self, result: &SyncResult<'_>) -> impl Future<Output = Result<()>> + Send;

    fn set_trendyol_content_id(
        &self,
        sku: &str,
        content_id: u64,
    ) -> impl Future<Output = Result<()>> + Send;

    fn open_plans(&self) -> impl Future<Output = Result<Vec<Plan>>> + Send;
    fn put_plans(&self, plans: &[Plan], expires_at: i64)
        -> impl Future<Output = Result<()>> + Send;
    fn get_plan(&self, plan_id: &str) -> impl Future<Output = Result<Option<Plan>>> + Send;
    /// Takes a planned plan for sending; a plan planned before `stale_ms` is
    /// `Gone` (its products were planned again).
    fn lease_plan(
        &self,
        plan_id: &str,
        now_ms: i64,
        until_ms: i64,
        stale_ms: i64,
    ) -> impl Future<Output = Result<PlanLease>> + Send;
    fn release_plan(&self, plan_id: &str) -> impl Future<Output = Result<()>> + Send;
    /// Records the marketplace's batch id and the items as actually sent.
    fn mark_plan_sent(
        &self,
        plan_id: &str,
        batch_id: &str,
        items: &[PlanItem],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Products by SKU, strongly consistent; missing ones are left out.
    fn get_products(
        &self,
        skus: &[String],
    ) -> impl Future<Output = Result<Vec<StoredProduct>>> + Send;
    fn delete_plan(&self, plan_id: &str) -> impl Future<Output = Result<()>> + Send;

    /// Takes a lock that keeps two syncs from planning the same products.
    fn lock_sync(&self, now_ms: i64, until_ms: i64) -> impl Future<Output = Result<bool>> + Send;
    fn unlock_sync(&self) -> impl Future<Output = Result<()>> + Send;

    /// Remembers a request body for a while; false when the same body was
    /// remembered less than `window_ms` ago (Trendyol's 15-minute rule).
    fn claim_body(
        &self,
        scope: &str,
        digest: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn forget_body(&self, scope: &str, digest: &str) -> impl Future<Output = Result<()>> + Send;

    /// Cached category rules: `None` = not cached (or expired);
    /// `Some(None)` = the marketplace does not know the category.
    fn cached_category(
        &self,
        marketplace: Marketplace,
        category_id: u64,
        now: i64,
    ) -> impl Future<Output = Result<Option<Option<CategoryRules>>>> + Send;
    fn cache_category(
        &self,
        marketplace: Marketplace,
        category_id: u64,
        rules: Option<&CategoryRules>,
        expires_at: i64,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// The catalog queue.
pub trait JobQueue: Send + Sync {
    /// Sends jobs; each is at most 256 KiB encoded.
    fn send_jobs(
        &self,
        jobs: &[CatalogJob],
        delay_secs: u32,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Makes a received message that failed visible again after `delay_secs`
    /// (instead of the queue's whole visibility timeout).
    fn retry_later(
        &self,
        receipt_handle: &str,
        delay_secs: u32,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// The stock-sync queue: asks product-sync to plan now rather than at its
/// next scheduled run (README § Catalog sync, "Stock in seconds"). A message
/// is only a nudge: the work list in the table is what gets planned, so a
/// lost one costs time (the schedule still plans it), never a push.
pub trait SyncTrigger: Send + Sync {
    /// One message naming why and, for the logs, which SKUs (at most 100);
    /// `attempt` counts follow-ups of a change held by an in-flight push;
    /// delivered after `delay_secs` (at most 900).
    fn request_sync(
        &self,
        source: &str,
        skus: &[String],
        attempt: u32,
        delay_secs: u32,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// No stock-sync queue in this deployment (or test): changes wait for the
/// scheduled plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrigger;

impl SyncTrigger for NoTrigger {
    async fn request_sync(&self, _: &str, _: &[String], _: u32, _: u32) -> Result<()> {
        Ok(())
    }
}

// ---- Marketplace orders ----------------------------------------------------

use crate::domain::marketplace_order::{MarketplaceOrder, OrderChange, Refusal};

/// How saving an order change ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSave {
    /// Written with its stock moves, as one transaction; the new version.
    Saved { version: u64 },
    /// The order changed since it was read: read it again and re-decide.
    Conflict,
    /// A product refused its move (not enough stock, or no such product);
    /// nothing was written.
    Refused { sku: String, refusal: Refusal },
}

pub trait MarketplaceOrderStore: Send + Sync {
    /// The stored order and its version, strongly consistent.
    fn load_marketplace_order(
        &self,
        marketplace: Marketplace,
        order_number: &str,
    ) -> impl Future<Output = Result<Option<(MarketplaceOrder, u64)>>> + Send;

    /// Writes the order (only if still at `expected_version`; `None` = only
    /// if new) and moves its products' stock, all or nothing. A product whose
    /// stock moves goes back on the catalog's work list, so the other
    /// marketplaces get the new figure on the next sync.
    fn save_marketplace_order(
        &self,
        change: &OrderChange,
        expected_version: Option<u64>,
        now: &str,
    ) -> impl Future<Output = Result<OrderSave>> + Send;

    /// Orders whose outbox still holds events (at most `limit`).
    fn orders_with_outbox(
        &self,
        limit: i32,
    ) -> impl Future<Output = Result<Vec<(Marketplace, String)>>> + Send;

    /// Empties the outbox after its events were published, if the order is
    /// still at `version` (otherwise whoever changed it publishes them again,
    /// with the same event ids).
    fn clear_order_outbox(
        &self,
        order: &MarketplaceOrder,
        version: u64,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// One marketplace order in a list (what gsi2 projects).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceOrderSummary {
    pub order_number: String,
    pub status: String,
    pub first_seen_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<crate::money::Money>,
}

/// Marketplace orders by marketplace and status, oldest first seen first,
/// a page at a time (an index query, never a scan).
pub trait MarketplaceOrderList: Send + Sync {
    /// Orders first seen in `[from_ms, to_ms]`; the cursor of the next page.
    fn marketplace_order_page(
        &self,
        marketplace: Marketplace,
        status: &str,
        from_ms: i64,
        to_ms: i64,
        cursor: Option<&str>,
        limit: i32,
    ) -> impl Future<Output = Result<(Vec<MarketplaceOrderSummary>, Option<String>)>> + Send;
}

/// The buyers' personal data of marketplace orders (KVKK): read only by the
/// functions that need it (the order read API, a shipment made from the
/// order).
pub trait MarketplacePersonalDataReader: Send + Sync {
    /// The buyer's personal data while it is kept (`None`: never given, or
    /// due for erasure at `now_ms`).
    fn marketplace_personal_data(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<crate::domain::marketplace_order_details::PersonalData>>>
           + Send;
}

/// What order-poll reads of a marketplace, each with its own cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollFeed {
    /// Orders changed (Trendyol) or lines added (Hepsiburada).
    Orders,
    /// Hepsiburada's cancelled lines, by cancel date.
    Cancelled,
    /// Claims (returns), by last change.
    Claims,
}

impl PollFeed {
    pub fn as_str(self) -> &'static str {
        match self {
            PollFeed::Orders => "orders",
            PollFeed::Cancelled => "cancelled",
            PollFeed::Claims => "claims",
        }
    }
}

/// Where order polling stands per marketplace and feed: everything modified
/// before the position (epoch ms) has been taken in.
pub trait OrderCursorStore: Send + Sync {
    fn order_cursor(
        &self,
        marketplace: Marketplace,
        feed: PollFeed,
    ) -> impl Future<Output = Result<Option<i64>>> + Send;
    /// Moves the cursor from `from` (`None` = not set) to `to`; false when
    /// another run moved it first.
    fn move_order_cursor(
        &self,
        marketplace: Marketplace,
        feed: PollFeed,
        from: Option<i64>,
        to: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
}

// ---- Shipments --------------------------------------------------------------

use crate::domain::shipment::ShipmentRecord;

pub trait ShipmentStore: Send + Sync {
    /// The shipment and its version, strongly consistent.
    fn get_shipment(
        &self,
        shipment_id: &str,
    ) -> impl Future<Output = Result<Option<(ShipmentRecord, u64)>>> + Send;

    /// Writes the shipment (at version 1) if it is new, its last create
    /// failed, or a `Registering` claim on it expired before `now_ms` (never
    /// over one Aras accepted, nor over a live claim); false when the
    /// condition did not hold.
    fn put_new_shipment(
        &self,
        record: &ShipmentRecord,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Replaces the shipment if it is still at `version`; false otherwise.
    fn update_shipment(
        &self,
        record: &ShipmentRecord,
        version: u64,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Shipments still being tracked (created at Aras, not final).
    fn open_shipments(&self) -> impl Future<Output = Result<Vec<(ShipmentRecord, u64)>>> + Send;
}

// ---- Operations ----------------------------------------------------------

use crate::domain::operations::{HealthCheck, Provider};

/// Health checks shared by every instance of the operations function, so
/// the route never asks a provider more often than the cache allows.
pub trait HealthCache: Send + Sync {
    /// The last check stored for `provider`, fresh or not (`None`: none).
    fn cached_health(
        &self,
        provider: Provider,
    ) -> impl Future<Output = Result<Option<HealthCheck>>> + Send;
    /// Stores a check; the table deletes it after `expires_at` (unix s).
    fn cache_health(
        &self,
        check: &HealthCheck,
        expires_at: i64,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// One webhook delivery as the audit shows it: when, what, how it ended.
/// Never the payload, never the sender's address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub received_at: String,
    /// `accepted` (an idempotency record) or `rejected` (a sampled refusal).
    pub kind: &'static str,
    /// `applied`, `duplicate`, `stale`, `rejected:<reason>`, `unknown_order`…;
    /// absent while the delivery is still being processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<i64>,
    /// Redeliveries answered from the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<i64>,
}

/// A page of a day's audit; `next` = the cursor of the following page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<String>,
}

pub trait WebhookAuditReader: Send + Sync {
    /// Deliveries of `provider` on `day` (YYYY-MM-DD) in arrival order,
    /// at most `limit`, after `cursor` (from a previous page).
    fn audit_page(
        &self,
        provider: &str,
        day: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> impl Future<Output = Result<AuditPage>> + Send;
}

/// Puts products back on the catalog work list, so the next plan decides
/// for them again (what is already acknowledged is not sent again).
pub trait CatalogWorkList: Send + Sync {
    /// False when there is no such product.
    fn mark_pending(&self, sku: &str) -> impl Future<Output = Result<bool>> + Send;
}

/// Outbound-event subscriptions (ERP, CRM, accounting endpoints).
pub trait SubscriptionStore: Send + Sync {
    /// False when the id is taken.
    fn create_subscription(
        &self,
        sub: &crate::domain::outbound::Subscription,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn subscription(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<crate::domain::outbound::Subscription>>> + Send;
    /// Every subscription (all pages).
    fn subscriptions(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::domain::outbound::Subscription>>> + Send;
    /// Replaces the stored item if it still has `expected_updated_at`
    /// (optimistic: two editors cannot both win); false when it changed or is gone.
    fn replace_subscription(
        &self,
        sub: &crate::domain::outbound::Subscription,
        expected_updated_at: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// False when there was none.
    fn delete_subscription(&self, id: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Sets `failing_since` unless one is set (and `updated_at`, so that a
    /// `PUT` or rotation that read the item before does not write it back).
    fn mark_failing(&self, id: &str, since_ms: i64) -> impl Future<Output = Result<()>> + Send;
    /// Removes `failing_since` if one is set (and sets `updated_at`).
    fn clear_failing(&self, id: &str, now: &str) -> impl Future<Output = Result<()>> + Send;
    /// Deactivates an active subscription; false when it was not active or,
    /// with `failing_since_at_most`, when it has not been failing since then
    /// as the table stands now (cleared or re-marked meanwhile).
    fn disable_subscription(
        &self,
        id: &str,
        reason: &str,
        now: &str,
        failing_since_at_most: Option<i64>,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// One delivery (one event to one endpoint): its state and log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub subscription_id: String,
    /// Our event's `eventId`: the `webhook-id` of every attempt and replay.
    pub event_id: String,
    pub event_type: String,
    /// The exact body sent (the same bytes on every attempt).
    #[serde(skip_serializing)]
    pub body: String,
    pub state: crate::domain::outbound::DeliveryState,
    pub attempts: u32,
    /// `attempts` when the current series began (0, or at the last replay).
    #[serde(skip_serializing)]
    pub series_start: u32,
    pub next_attempt_ms: i64,
    #[serde(skip_serializing)]
    pub lease_until_ms: i64,
    pub created_ms: i64,
    pub log: Vec<crate::domain::outbound::AttemptLog>,
}

/// A page of an endpoint's deliveries; `next` continues it.
#[derive(Debug, Clone, Default)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next: Option<String>,
}

pub trait DeliveryStore: Send + Sync {
    /// Writes a new delivery already claimed for its first attempt; false
    /// when this event already has a delivery to this endpoint.
    fn create_delivery(
        &self,
        d: &Delivery,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn delivery(
        &self,
        subscription_id: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<Option<Delivery>>> + Send;
    /// Claims the next attempt of a delivery read as `seen`: only if it is
    /// still as read (attempts and state), so two wake-ups never both send.
    fn claim_attempt(
        &self,
        seen: &Delivery,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Records an attempt's result: the new state, next attempt and log line.
    fn record_attempt(
        &self,
        d: &Delivery,
        state: crate::domain::outbound::DeliveryState,
        next_attempt_ms: i64,
        entry: &crate::domain::outbound::AttemptLog,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Deliveries created in `[from_ms, to_ms]`, a page at a time.
    fn deliveries(
        &self,
        subscription_id: &str,
        from_ms: i64,
        to_ms: i64,
        cursor: Option<&str>,
        limit: i32,
    ) -> impl Future<Output = Result<DeliveryPage>> + Send;
    /// Starts a new series of attempts now (a replay) and keeps the
    /// delivery until `expires_at` (epoch seconds, TTL): false when the
    /// delivery is gone or an attempt is under way.
    fn restart_delivery(
        &self,
        subscription_id: &str,
        event_id: &str,
        now_ms: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// A reminder to look at one delivery again, no sooner than `not_before_ms`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WakeUp {
    pub subscription_id: String,
    pub event_id: String,
    pub not_before_ms: i64,
}

/// The outbound queue: wake-ups for retries and replays.
pub trait WakeUpQueue: Send + Sync {
    fn send_wake_ups(
        &self,
        wake_ups: &[WakeUp],
        delay_secs: u32,
    ) -> impl Future<Output = Result<()>> + Send;
}

// ---- Accounting ----------------------------------------------------------

use crate::domain::invoice::InvoiceRecord;

/// One invoice per order reference, moved forward by conditional writes.
pub trait InvoiceStore: Send + Sync {
    /// The record and its version.
    fn get_invoice(
        &self,
        order_ref: &str,
    ) -> impl Future<Output = Result<Option<(InvoiceRecord, u64)>>> + Send;
    /// Writes a new record (version 1) unless one exists: false if one does.
    fn put_new_invoice(&self, record: &InvoiceRecord) -> impl Future<Output = Result<bool>> + Send;
    /// Replaces the record if it is still at `version`: false if not.
    fn update_invoice(
        &self,
        record: &InvoiceRecord,
        version: u64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// The next sequence number of `series` (1, 2, …), atomically.
    fn next_invoice_sequence(&self, series: &str) -> impl Future<Output = Result<i64>> + Send;
}

/// What the platform sent to invoice a storefront order: the content beside
/// the order, the buyer (and the shipment) apart with a TTL
/// (`aws::storefront_invoices`).
pub trait StorefrontInvoiceDataStore: Send + Sync {
    /// Stores both (the personal data first: content without its buyer is
    /// never seen), replacing what was there.
    fn put_invoice_data(
        &self,
        order_id: &str,
        data: &crate::domain::storefront_invoice::StoredInvoiceData,
        personal: &crate::domain::storefront_invoice::PersonalInvoiceData,
    ) -> impl Future<Output = Result<()>> + Send;
    fn invoice_data(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<crate::domain::storefront_invoice::StoredInvoiceData>>> + Send;
    /// The buyer and shipment while kept (`None`: never sent, or due for
    /// erasure at `now_ms` — TTL deletes lag).
    fn invoice_personal_data(
        &self,
        order_id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<crate::domain::storefront_invoice::PersonalInvoiceData>>>
           + Send;
    /// Records what became of the invoice (on the content item, if there).
    fn set_invoice_outcome(
        &self,
        order_id: &str,
        outcome: &crate::domain::storefront_invoice::Outcome,
    ) -> impl Future<Output = Result<()>> + Send;
}

// ---- Reconciliation ------------------------------------------------------

use crate::domain::reconciliation::{DayReport, Difference, HealedFact};

/// Where one pass over a provider's list for a day stands in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassState {
    /// The provider's paging position: the last object id (Stripe) or the
    /// last page read (iyzico). `None`: from the start.
    pub after: Option<String>,
    pub done: bool,
    /// Entries listed so far and provider requests made so far, this run.
    pub listed: u64,
    pub requests: u64,
    /// 0 = not started in this run; bumped by every save.
    pub version: u64,
}

pub trait ReconciliationStore: Send + Sync {
    /// Starts run `run_id` of `day` (the report says `running`), or joins it
    /// when it is the day's current run already.
    fn start_run(
        &self,
        day: &str,
        run_id: &str,
        now: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The pass as this run left it; one of another run (or none) is fresh.
    fn load_pass(
        &self,
        day: &str,
        run_id: &str,
        pass: &str,
    ) -> impl Future<Output = Result<PassState>> + Send;
    /// Moves the pass from `from` to `to` (conditionally); false when
    /// another invocation moved it first.
    fn save_pass(
        &self,
        day: &str,
        run_id: &str,
        pass: &str,
        from: &PassState,
        to: &PassState,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Records a difference unless the day has it already; true while its
    /// `reconciliation.mismatch` still has to be published.
    fn record_difference(
        &self,
        day: &str,
        run_id: &str,
        difference: &Difference,
        now: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn mark_difference_published(
        &self,
        day: &str,
        difference_key: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Records a fact applied by reconciliation (once per event identity).
    fn record_healed(
        &self,
        day: &str,
        fact: &HealedFact,
        now: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Marks run `run_id` completed; false if it is not the day's running run.
    fn complete_run(
        &self,
        day: &str,
        run_id: &str,
        now: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// The day's report with every difference and healed fact.
    fn day_report(&self, day: &str) -> impl Future<Output = Result<Option<DayReport>>> + Send;
    /// Remembers that `provider` listed these orders in `run_id` of `day`
    /// (so the pass over our own orders asks only for the others).
    fn mark_listed(
        &self,
        day: &str,
        run_id: &str,
        provider: &str,
        refs: &[String],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Which of `refs` `provider` listed in `run_id` of `day`.
    fn listed_of(
        &self,
        day: &str,
        run_id: &str,
        provider: &str,
        refs: &[String],
    ) -> impl Future<Output = Result<std::collections::HashSet<String>>> + Send;
}

/// Our payment attempts of one provider created in one Istanbul day (gsi2
/// `PAYDAY#…`), a page at a time: reconciliation asks the provider about
/// those its own list did not show.
pub trait PaymentDayList: Send + Sync {
    /// `(order id, provider ref)` of each, and the cursor of the next page.
    fn payments_of_day(
        &self,
        provider: &str,
        day: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> impl Future<Output = Result<PaymentDayPage>> + Send;
}

/// `(order id, provider ref)` of each attempt, and the next page's cursor.
pub type PaymentDayPage = (Vec<(String, String)>, Option<String>);

/// Many orders' payment ledgers in one read (reconciliation checks a whole
/// provider page against our records at once).
pub trait LedgerBatchReader: Send + Sync {
    /// The ledgers of those of `order_ids` that exist, by order id
    /// (strongly consistent; any number of ids, read 100 at a time).
    fn load_ledgers(
        &self,
        order_ids: &[String],
    ) -> impl Future<Output = Result<std::collections::HashMap<String, PaymentLedger>>> + Send;
}
