//! Marketplace orders as we keep them, and the one rule for taking in what a
//! marketplace says about an order (by webhook or by polling): what changes,
//! which stock moves, which events go out. Pure: the store runs the decision
//! as one transaction (`ports::MarketplaceOrderStore`).
//!
//! - The same snapshot applied twice changes nothing the second time.
//! - Statuses only move forward, by each marketplace's order of statuses
//!   (`trendyol_status`, `hepsiburada_status`): a stale snapshot (an older
//!   poll page, a late webhook) is ignored.
//! - Stock is per order line: a line takes its quantity once when first seen
//!   in a live status and gives it back once when it is cancelled or
//!   unsupplied (a return comes back through its claim, only when sellable:
//!   `domain::marketplace_claim`). Lines are keyed by the marketplace's line id, so a package
//!   split (Trendyol gives the remaining lines a new package) moves nothing.
//! - Events are derived from the state change, not from the delivery, so the
//!   same change seen by webhook and by poll has one identity and is
//!   published once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order_details::{
    check_totals, erase_after_ms, LineFacts, PackageFacts, PersonalData, PersonalDataRetention,
    PersonalRecord, SnapshotDetails,
};

/// A marketplace status in our words, with its place in that marketplace's
/// lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Our normalized word (lowercase).
    pub word: &'static str,
    /// Later statuses rank higher; a snapshot moves a package or line only
    /// to a higher rank. Unknown statuses rank 0 (never move anything).
    pub rank: u8,
    /// The line's units are no longer sold: stock taken for it goes back.
    pub releases_stock: bool,
}

const fn status(word: &'static str, rank: u8, releases_stock: bool) -> Status {
    Status {
        word,
        rank,
        releases_stock,
    }
}

const UNKNOWN: Status = status("unknown", 0, false);

/// Trendyol package (and line) statuses, docs/marketplace-wire.md T8. `Awaiting` is an
/// order still in the payment check: Trendyol says to use it only to reserve
/// stock, so it takes stock like `Created` and gives it back if cancelled.
/// `UnPacked` dissolves a package into new ones (its lines keep their
/// stock); `Repack` is a package being repacked.
pub fn trendyol_status(marketplace_status: &str) -> Status {
    match marketplace_status.to_ascii_lowercase().as_str() {
        "awaiting" => status("awaiting", 1, false),
        "created" => status("created", 2, false),
        "picking" => status("picking", 3, false),
        "repack" => status("repack", 3, false),
        "invoiced" => status("invoiced", 4, false),
        "shipped" => status("shipped", 5, false),
        "atcollectionpoint" | "at_collection_point" => status("at_collection_point", 6, false),
        "undelivered" => status("undelivered", 6, false),
        "delivered" => status("delivered", 7, false),
        "unpacked" => status("unpacked", 8, false),
        // A return gives stock back only through its claim, item by item,
        // when accepted as sellable (`domain::marketplace_claim`).
        "returned" => status("returned", 9, false),
        "cancelled" => status("cancelled", 10, true),
        "unsupplied" => status("unsupplied", 10, true),
        _ => UNKNOWN,
    }
}

/// Hepsiburada: the open-order list says `Open` (UNCONFIRMED word, see
/// docs/marketplace-wire.md H6) for lines waiting to be packed; webhooks name
/// the event (`createOrder`, `orderCancel`, …). Unpack and re-pack share a
/// rank, so a package unpacked and packed again publishes no new event.
pub fn hepsiburada_status(marketplace_status: &str) -> Status {
    match marketplace_status.to_ascii_lowercase().as_str() {
        "open" | "createorder" => status("created", 2, false),
        "createpackages" | "packaged" | "unpack" | "unpacked" => status("packaged", 3, false),
        "intransit" | "shipped" => status("shipped", 5, false),
        "undeliver" | "undelivered" => status("undelivered", 6, false),
        "deliver" | "delivered" => status("delivered", 7, false),
        "ordercancel" | "cancelled" | "canceled" => status("cancelled", 10, true),
        _ => UNKNOWN,
    }
}

/// Every status word (ours) an order of `marketplace` can be listed under
/// (gsi2 `MKTLIST#<marketplace>#<word>`), `unknown` included: reading them
/// all lists every order we hold.
pub fn status_words(marketplace: Marketplace) -> &'static [&'static str] {
    match marketplace {
        Marketplace::Trendyol => &[
            "awaiting",
            "created",
            "picking",
            "repack",
            "invoiced",
            "shipped",
            "at_collection_point",
            "undelivered",
            "delivered",
            "unpacked",
            "returned",
            "cancelled",
            "unsupplied",
            UNKNOWN.word,
        ],
        Marketplace::Hepsiburada => &[
            "created",
            "packaged",
            "shipped",
            "undelivered",
            "delivered",
            "cancelled",
            UNKNOWN.word,
        ],
    }
}

pub fn status_of(marketplace: Marketplace, marketplace_status: &str) -> Status {
    match marketplace {
        Marketplace::Trendyol => trendyol_status(marketplace_status),
        Marketplace::Hepsiburada => hepsiburada_status(marketplace_status),
    }
}

/// What a marketplace said about an order at one moment: a Trendyol package,
/// a group of Hepsiburada lines, or a webhook naming only the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSnapshot {
    pub marketplace: Marketplace,
    pub order_number: String,
    /// Trendyol shipment package id; `None` = the order as a whole.
    pub package_id: Option<String>,
    /// The marketplace's own status word or event name.
    pub marketplace_status: String,
    /// The lines this snapshot lists. Empty = the status applies to every
    /// line we know of the order (a Hepsiburada webhook names no lines).
    pub lines: Vec<LineSnapshot>,
    /// When the marketplace says this happened (epoch ms).
    pub occurred_ms: i64,
    /// Money, cargo and the buyer, when the report carries them (a list
    /// entry or a whole-package webhook; not a status-only webhook).
    pub details: Option<Box<SnapshotDetails>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSnapshot {
    /// The marketplace's order line id (stable across package splits).
    pub line_id: String,
    /// Our SKU: the merchant SKU the marketplace echoes (Trendyol
    /// `merchantSku` = the product's stockCode, Hepsiburada `merchantSKU`).
    pub sku: Option<String>,
    pub quantity: u32,
    /// The line's own status, when the marketplace gives one; otherwise the
    /// snapshot's status applies.
    pub marketplace_status: Option<String>,
}

/// How a line stands with our stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStock {
    /// Its quantity was taken from the product's stock.
    Taken,
    /// Nothing taken: released, or first seen already cancelled.
    NotTaken,
    /// It should have taken stock but there was not enough: recorded and
    /// published as `integration.error`; nothing to give back later.
    Oversold,
    /// Its SKU is not in our catalog (or it has none): stock untouched.
    Untracked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u32,
    pub status: String,
    pub marketplace_status: String,
    pub rank: u8,
    pub stock: LineStock,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitState {
    pub status: String,
    pub marketplace_status: String,
    pub rank: u8,
    pub changed_ms: i64,
}

/// An event waiting to be published: written in the same transaction as the
/// change it announces, removed once published (an outbox), so a crash
/// between the two never loses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderEvent {
    Created {
        event_id: String,
        occurred_ms: i64,
        package_id: Option<String>,
        status: String,
        marketplace_status: String,
    },
    StatusChanged {
        event_id: String,
        occurred_ms: i64,
        package_id: Option<String>,
        status: String,
        marketplace_status: String,
        previous_status: Option<String>,
    },
    /// Stock moved for a line: negative when sold, positive when given back.
    StockChanged {
        event_id: String,
        occurred_ms: i64,
        sku: String,
        change: i64,
        line_id: String,
    },
    Oversold {
        event_id: String,
        occurred_ms: i64,
        sku: String,
        quantity: u32,
        line_id: String,
    },
    /// A package's totals do not add up to its lines (or its money could
    /// not be read exactly): published as `integration.error`.
    TotalsMismatch {
        event_id: String,
        occurred_ms: i64,
        package_id: Option<String>,
        problems: Vec<String>,
    },
    /// A seller action recorded on the order (`marketplace.order.seller_action`).
    SellerAction {
        event_id: String,
        action: SellerAction,
    },
    /// A claim (return) first seen (`domain::marketplace_claim`).
    ClaimCreated {
        event_id: String,
        occurred_ms: i64,
        claim_id: String,
    },
    /// A claim item moved forward.
    ClaimStatusChanged {
        event_id: String,
        occurred_ms: i64,
        claim_id: String,
        item_id: String,
        status: String,
        previous_status: Option<String>,
    },
}

impl OrderEvent {
    pub fn event_id(&self) -> &str {
        match self {
            OrderEvent::Created { event_id, .. }
            | OrderEvent::StatusChanged { event_id, .. }
            | OrderEvent::StockChanged { event_id, .. }
            | OrderEvent::Oversold { event_id, .. }
            | OrderEvent::TotalsMismatch { event_id, .. }
            | OrderEvent::SellerAction { event_id, .. }
            | OrderEvent::ClaimCreated { event_id, .. }
            | OrderEvent::ClaimStatusChanged { event_id, .. } => event_id,
        }
    }
}

/// The stored order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceOrder {
    pub marketplace: Marketplace,
    pub order_number: String,
    pub first_seen_ms: i64,
    /// Trendyol packages by id; `""` = the order as a whole (Hepsiburada).
    pub units: BTreeMap<String, UnitState>,
    pub lines: BTreeMap<String, LineState>,
    /// Events not yet published.
    #[serde(default)]
    pub outbox: Vec<OrderEvent>,
    /// Totals and cargo by package id (`""` = the order as a whole).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages: BTreeMap<String, PackageFacts>,
    /// Money and product facts by line id (stable across package splits).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub line_facts: BTreeMap<String, LineFacts>,
    /// Where the buyer's personal data (stored apart) stands; never the
    /// data itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal: Option<PersonalRecord>,
    /// What we asked the marketplace to do with the order, and what it
    /// said: the last [`MAX_SELLER_ACTIONS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seller_actions: Vec<SellerAction>,
    /// Claims (returns) by the marketplace's claim id
    /// (`domain::marketplace_claim`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, crate::domain::marketplace_claim::Claim>,
}

/// Actions kept on an order (older ones are dropped first).
pub const MAX_SELLER_ACTIONS: usize = 20;

/// The recorded name of a package status change asked of the marketplace
/// (`package_status:Picking`, `package_status:Invoiced`; the marketplace's
/// status word).
pub fn package_status_action(status_word: &str) -> String {
    format!("package_status:{status_word}")
}

/// One seller action on the order: `package_status:<Status>`,
/// `unsupplied:<reasonId>`, `invoice_link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SellerAction {
    pub at_ms: i64,
    /// e.g. `package_status:Picking`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    /// `done` (sent and accepted), `already` (the marketplace was there:
    /// nothing sent, or a repeat refused yet done), `refused`.
    pub outcome: String,
    /// What was sent beyond the action's name (the invoice link, the
    /// lines not supplied); never personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The marketplace's message when it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl MarketplaceOrder {
    /// Records an action, keeping the last [`MAX_SELLER_ACTIONS`], and
    /// puts its `marketplace.order.seller_action` in the outbox: saved in
    /// the same write, so the event is never lost once the action is on
    /// the order.
    pub fn record_action(&mut self, action: SellerAction) {
        let event_id = format!(
            "{}:{}:{}:{}:{}",
            self.marketplace.as_str(),
            self.order_number,
            action.package_id.as_deref().unwrap_or("-"),
            action.action,
            action.at_ms
        );
        self.outbox.push(OrderEvent::SellerAction {
            event_id,
            action: action.clone(),
        });
        self.seller_actions.push(action);
        // Oldest first, but never the mark that the seller invoiced the
        // package elsewhere: accounting reads it to refuse a second invoice
        // however many actions come after it.
        while self.seller_actions.len() > MAX_SELLER_ACTIONS {
            let oldest = self
                .seller_actions
                .iter()
                .position(|a| !a.invoiced_elsewhere())
                .unwrap_or(0);
            self.seller_actions.remove(oldest);
        }
    }

    /// The action by which the seller told the marketplace, through us,
    /// that a package is invoiced (with the invoice's number): an invoice
    /// made elsewhere.
    pub fn invoiced_elsewhere(&self) -> Option<&SellerAction> {
        self.seller_actions.iter().find(|a| a.invoiced_elsewhere())
    }
}

impl SellerAction {
    /// `package_status:Invoiced` sent and accepted (`done`), or found
    /// there already (`already`: the marketplace had it, perhaps from an
    /// earlier attempt whose answer was lost) — either way the seller named
    /// an invoice of their own.
    pub fn invoiced_elsewhere(&self) -> bool {
        self.action == package_status_action("Invoiced")
            && (self.outcome == "done" || self.outcome == "already")
    }
}

/// The marketplace status of lines Hepsiburada has packed.
pub const HB_PACKAGED: &str = "Packaged";

/// What a Hepsiburada packaging of `line_ids` into `package_number` says
/// about `order`, as a report for the order intake: those lines
/// `Packaged`, each carrying the package number among its facts (where the
/// invoice link and the tracking push find it). The facts are the stored
/// ones with the number added, so the intake keeps everything else.
/// Packing moves no stock (it was taken when the order arrived).
pub fn hepsiburada_packaged(
    order: &MarketplaceOrder,
    package_number: &str,
    line_ids: &[&str],
    at_ms: i64,
) -> OrderSnapshot {
    let mut details = SnapshotDetails {
        package: order.packages.get("").cloned().unwrap_or_default(),
        lines: BTreeMap::new(),
        personal: None,
    };
    let mut lines = Vec::new();
    for id in line_ids {
        let Some(stored) = order.lines.get(*id) else {
            continue;
        };
        let mut facts = order
            .line_facts
            .get(*id)
            .cloned()
            .unwrap_or_else(|| LineFacts {
                quantity: stored.quantity,
                ..Default::default()
            });
        facts.package_number = Some(package_number.to_string());
        details.lines.insert(id.to_string(), facts);
        lines.push(LineSnapshot {
            line_id: id.to_string(),
            sku: stored.sku.clone(),
            quantity: stored.quantity,
            marketplace_status: Some(HB_PACKAGED.into()),
        });
    }
    OrderSnapshot {
        marketplace: Marketplace::Hepsiburada,
        order_number: order.order_number.clone(),
        package_id: None,
        marketplace_status: HB_PACKAGED.into(),
        lines,
        occurred_ms: at_ms,
        details: Some(Box::new(details)),
    }
}

impl MarketplaceOrder {
    /// The order's status in one word, for lists: its least advanced
    /// package (an order is as far as its slowest package), not counting
    /// packages dissolved by an unpack; `unknown` before any package.
    pub fn status(&self) -> &str {
        let live = self.units.values().filter(|u| u.status != "unpacked");
        match live.min_by_key(|u| u.rank) {
            Some(u) => &u.status,
            None => self
                .units
                .values()
                .next()
                .map_or("unknown", |u| u.status.as_str()),
        }
    }

    /// Lines holding stock, by SKU.
    pub fn taken_by_sku(&self) -> BTreeMap<&str, u32> {
        let mut taken = BTreeMap::new();
        for line in self.lines.values() {
            if let (LineStock::Taken, Some(sku)) = (line.stock, line.sku.as_deref()) {
                *taken.entry(sku).or_insert(0) += line.quantity;
            }
        }
        taken
    }
}

/// A stock change for one SKU (lines of the same SKU summed: a transaction
/// may touch an item only once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    pub sku: String,
    /// Negative: units sold; positive: units given back (the lines' sum).
    pub change: i64,
    /// Each line's own part, in order.
    pub lines: Vec<(String, i64)>,
}

impl StockMove {
    pub(crate) fn new(sku: String, lines: Vec<(String, i64)>) -> Self {
        StockMove {
            sku,
            change: lines.iter().map(|(_, d)| d).sum(),
            lines,
        }
    }

    fn line_ids(&self) -> Vec<&str> {
        self.lines.iter().map(|(id, _)| id.as_str()).collect()
    }

    fn event_id(&self, key: &str) -> String {
        format!(
            "{key}:stock:{}:{}",
            self.line_ids().join("+"),
            if self.change < 0 { "taken" } else { "released" }
        )
    }

    fn event(&self, key: &str, occurred_ms: i64) -> OrderEvent {
        OrderEvent::StockChanged {
            event_id: self.event_id(key),
            occurred_ms,
            sku: self.sku.clone(),
            change: self.change,
            line_id: self.line_ids().join(","),
        }
    }
}

/// What applying a snapshot decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    pub order: MarketplaceOrder,
    pub moves: Vec<StockMove>,
    /// Anything to write at all (a new order, a status, a line, an event).
    pub changed: bool,
    /// What to do with the personal-data item, in the same write.
    pub personal: PersonalWrite,
}

/// The personal-data item's part of a change (`order.personal` holds its
/// erase deadline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonalWrite {
    Unchanged,
    /// Store this data (new or changed).
    Put(Box<PersonalData>),
    /// Only the erase deadline moved (the order closed, or reopened).
    Reschedule,
}
/// Why a product refused a stock move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not enough units: it has `available`.
    Short { available: i64 },
    /// No such product in our catalog.
    Unknown,
}

/// A line-less report (the order as a whole, e.g. Hepsiburada's
/// `orderCancel`) gives back stock only of lines not yet shipped: units that
/// left the warehouse come back as returns, line by line.
const SHIPPED_RANK: u8 = 5;

fn event_key(order: &MarketplaceOrder) -> String {
    format!("{}:{}", order.marketplace.as_str(), order.order_number)
}

/// Applies a snapshot to the stored order (`None` = first seen), keeping
/// personal data for the default retention.
pub fn apply_snapshot(current: Option<&MarketplaceOrder>, snap: &OrderSnapshot) -> OrderChange {
    apply_snapshot_with(current, snap, PersonalDataRetention::default())
}

/// Applies a snapshot to the stored order (`None` = first seen).
pub fn apply_snapshot_with(
    current: Option<&MarketplaceOrder>,
    snap: &OrderSnapshot,
    retention: PersonalDataRetention,
) -> OrderChange {
    let mut order = current.cloned().unwrap_or_else(|| MarketplaceOrder {
        marketplace: snap.marketplace,
        order_number: snap.order_number.clone(),
        first_seen_ms: snap.occurred_ms,
        units: BTreeMap::new(),
        lines: BTreeMap::new(),
        outbox: Vec::new(),
        packages: BTreeMap::new(),
        line_facts: BTreeMap::new(),
        personal: None,
        seller_actions: Vec::new(),
        claims: BTreeMap::new(),
    });
    let is_new = current.is_none();
    let outbox_before = order.outbox.len();
    let snap_status = status_of(snap.marketplace, &snap.marketplace_status);
    let key = event_key(&order);
    let unit_id = snap.package_id.clone().unwrap_or_default();
    let unit_changed = !cancels_part_only(&order, snap, snap_status)
        && apply_unit(&mut order, snap, snap_status, &key, &unit_id, is_new);
    let (lines_changed, moves) = apply_lines(&mut order, snap, snap_status, &unit_id);
    let details_changed = apply_details(&mut order, snap, &key, &unit_id);
    announce_with_lines(&mut order, current, outbox_before, &key, &unit_id);
    let personal = apply_personal(&mut order, snap, retention);
    let changed = is_new
        || unit_changed
        || lines_changed
        || details_changed
        || personal != PersonalWrite::Unchanged;
    for m in &moves {
        order.outbox.push(m.event(&key, snap.occurred_ms));
    }
    debug_assert!(changed || order.outbox.len() == outbox_before);
    OrderChange {
        order,
        moves,
        changed,
        personal,
    }
}

/// `Created` is what tells the platform an order exists, with its lines,
/// SKUs and total: an order first known by a report naming no lines (a
/// Hepsiburada notice names only the order) is announced when its lines
/// are first known (the paid-order list the poll reads), not before and
/// empty-handed; its status changes until then are told by that
/// announcement, not as changes of an order the platform never saw.
/// Lines are never removed, so that happens once.
fn announce_with_lines(
    order: &mut MarketplaceOrder,
    current: Option<&MarketplaceOrder>,
    outbox_before: usize,
    key: &str,
    unit_id: &str,
) {
    let held = order.lines.is_empty();
    let first_lines = current.is_some_and(|c| c.lines.is_empty()) && !held;
    if !(held || first_lines) {
        return;
    }
    // This report's own announcement or status change leaves the outbox
    // (held, or told by the announcement); its other events stay.
    let tail = order.outbox.split_off(outbox_before);
    order.outbox.extend(tail.into_iter().filter(|e| {
        !matches!(
            e,
            OrderEvent::Created { .. } | OrderEvent::StatusChanged { .. }
        )
    }));
    let unit = order.units.get(unit_id).cloned();
    if let (true, Some(unit)) = (first_lines, unit) {
        order.outbox.insert(
            outbox_before,
            OrderEvent::Created {
                event_id: format!("{key}:created"),
                occurred_ms: unit.changed_ms,
                package_id: (!unit_id.is_empty()).then(|| unit_id.to_string()),
                status: unit.status,
                marketplace_status: unit.marketplace_status,
            },
        );
    }
}

/// A report of the order as a whole that names its lines (Hepsiburada's
/// cancelled list) and gives stock back while another line of the order
/// stays live: a partial cancel. It moves those lines, not the order.
fn cancels_part_only(order: &MarketplaceOrder, snap: &OrderSnapshot, snap_status: Status) -> bool {
    snap.package_id.is_none()
        && !snap.lines.is_empty()
        && snap_status.releases_stock
        && order.lines.iter().any(|(id, l)| {
            !snap.lines.iter().any(|s| &s.line_id == id)
                && !status_of(order.marketplace, &l.marketplace_status).releases_stock
        })
}

/// Money, cargo and product facts: a description replaces the stored one
/// of its package and lines unless it is older. Totals are checked; new
/// problems go on the outbox once. Whether anything changed.
fn apply_details(
    order: &mut MarketplaceOrder,
    snap: &OrderSnapshot,
    key: &str,
    unit_id: &str,
) -> bool {
    let Some(details) = &snap.details else {
        return false;
    };
    let stored = order.packages.get(unit_id);
    if stored.is_some_and(|p| p.observed_ms > snap.occurred_ms) {
        return false;
    }
    let mut package = details.package.clone();
    package.observed_ms = snap.occurred_ms;
    for problem in check_totals(&package, &details.lines) {
        if !package.problems.contains(&problem) {
            package.problems.push(problem);
        }
    }
    let known_problems = stored.map(|p| p.problems.clone()).unwrap_or_default();
    let new_problems: Vec<String> = package
        .problems
        .iter()
        .filter(|p| !known_problems.contains(p))
        .cloned()
        .collect();
    // A commission the order description does not carry (Trendyol's
    // package has none; reconciliation keeps the settlement's) survives a
    // newer description of the line.
    let lines: Vec<(&String, LineFacts)> = details
        .lines
        .iter()
        .map(|(id, l)| {
            let mut l = l.clone();
            if let (None, Some(kept)) = (&l.commission, order.line_facts.get(id)) {
                l.commission = kept.commission;
                if l.commission_rate.is_none() {
                    l.commission_rate = kept.commission_rate.clone();
                }
            }
            (id, l)
        })
        .collect();
    let lines_same = lines
        .iter()
        .all(|(id, l)| order.line_facts.get(*id) == Some(l));
    let package_same = stored.is_some_and(|p| {
        PackageFacts {
            observed_ms: p.observed_ms,
            ..package.clone()
        } == *p
    });
    if lines_same && package_same {
        return false;
    }
    if !new_problems.is_empty() {
        order.outbox.push(OrderEvent::TotalsMismatch {
            event_id: format!("{key}:{unit_id}:totals:{}", snap.occurred_ms),
            occurred_ms: snap.occurred_ms,
            package_id: snap.package_id.clone(),
            problems: new_problems,
        });
    }
    for (id, l) in lines {
        order.line_facts.insert(id.clone(), l);
    }
    order.packages.insert(unit_id.to_string(), package);
    true
}

/// When the order closed: every package (but those dissolved by an unpack)
/// is delivered, returned or cancelled; the last of those times.
fn closed_ms(order: &MarketplaceOrder) -> Option<i64> {
    const DELIVERED_RANK: u8 = 7;
    let live: Vec<&UnitState> = order
        .units
        .values()
        .filter(|u| u.status != "unpacked")
        .collect();
    if live.is_empty() || live.iter().any(|u| u.rank < DELIVERED_RANK) {
        return None;
    }
    live.iter().map(|u| u.changed_ms).max()
}

/// The personal-data item: written when the snapshot brings data we do not
/// hold (and is not older than what we hold), rescheduled when the order's
/// erase deadline moves.
fn apply_personal(
    order: &mut MarketplaceOrder,
    snap: &OrderSnapshot,
    retention: PersonalDataRetention,
) -> PersonalWrite {
    let erase_after = erase_after_ms(retention, order.first_seen_ms, closed_ms(order));
    let offered = snap
        .details
        .as_ref()
        .and_then(|d| d.personal.as_ref())
        .filter(|p| !p.is_empty());
    match (order.personal.clone(), offered) {
        (None, None) => PersonalWrite::Unchanged,
        (None, Some(data)) => {
            order.personal = Some(PersonalRecord {
                fingerprint: data.fingerprint(),
                erase_after_ms: erase_after,
                observed_ms: snap.occurred_ms,
            });
            PersonalWrite::Put(Box::new(data.clone()))
        }
        (Some(record), Some(data))
            if record.observed_ms <= snap.occurred_ms
                && record.fingerprint != data.fingerprint() =>
        {
            order.personal = Some(PersonalRecord {
                fingerprint: data.fingerprint(),
                erase_after_ms: erase_after,
                observed_ms: snap.occurred_ms,
            });
            PersonalWrite::Put(Box::new(data.clone()))
        }
        (Some(record), _) if record.erase_after_ms != erase_after => {
            order.personal = Some(PersonalRecord {
                erase_after_ms: erase_after,
                ..record
            });
            PersonalWrite::Reschedule
        }
        _ => PersonalWrite::Unchanged,
    }
}

/// The package (or the order as a whole): moves it forward to the
/// snapshot's status, with its event on the outbox; whether it moved.
fn apply_unit(
    order: &mut MarketplaceOrder,
    snap: &OrderSnapshot,
    snap_status: Status,
    key: &str,
    unit_id: &str,
    is_new: bool,
) -> bool {
    let previous = order.units.get(unit_id).cloned();
    let unit_moves = match &previous {
        None => true,
        Some(u) => snap_status.rank > u.rank,
    };
    if !(unit_moves && (snap_status.rank > 0 || previous.is_none())) {
        return false;
    }
    let status = snap_status.word.to_string();
    let event_id = format!("{key}:{unit_id}:{}", snap_status.word);
    order.outbox.push(if is_new {
        OrderEvent::Created {
            event_id: format!("{key}:created"),
            occurred_ms: snap.occurred_ms,
            package_id: snap.package_id.clone(),
            status: status.clone(),
            marketplace_status: snap.marketplace_status.clone(),
        }
    } else {
        OrderEvent::StatusChanged {
            event_id,
            occurred_ms: snap.occurred_ms,
            package_id: snap.package_id.clone(),
            status: status.clone(),
            marketplace_status: snap.marketplace_status.clone(),
            previous_status: previous.as_ref().map(|u| u.status.clone()),
        }
    });
    order.units.insert(
        unit_id.to_string(),
        UnitState {
            status,
            marketplace_status: snap.marketplace_status.clone(),
            rank: snap_status.rank,
            changed_ms: snap.occurred_ms,
        },
    );
    true
}

/// The lines: the ones listed, or (none listed) every line we know. Returns
/// whether any line changed, and the stock moves they make, one per SKU.
fn apply_lines(
    order: &mut MarketplaceOrder,
    snap: &OrderSnapshot,
    snap_status: Status,
    unit_id: &str,
) -> (bool, Vec<StockMove>) {
    let listed: Vec<LineSnapshot> = if snap.lines.is_empty() {
        order
            .lines
            .iter()
            .map(|(id, l)| LineSnapshot {
                line_id: id.clone(),
                sku: l.sku.clone(),
                quantity: l.quantity,
                marketplace_status: None,
            })
            .collect()
    } else {
        snap.lines.clone()
    };
    let line_less = snap.lines.is_empty();
    // What we already know of this package (or order): a late report of a
    // line must not undo it (an order cancelled before its lines were
    // listed takes no stock when they are).
    let unit_known = order.units.get(unit_id).map(|u| u.rank);
    let mut changed = false;
    let mut moves: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for line in &listed {
        let reported = match &line.marketplace_status {
            Some(raw) if status_of(snap.marketplace, raw).rank > 0 => {
                (status_of(snap.marketplace, raw), raw.clone())
            }
            _ => (snap_status, snap.marketplace_status.clone()),
        };
        let Some(change) = apply_line(order, snap, line, reported, unit_known, unit_id, line_less)
        else {
            continue;
        };
        changed = true;
        if change != 0 {
            let sku = order.lines[&line.line_id].sku.clone().unwrap_or_default();
            moves
                .entry(sku)
                .or_default()
                .push((line.line_id.clone(), change));
        }
    }
    // A give-back and a take of the same SKU in one snapshot net out; the
    // lines still carry their own state.
    let moves = moves
        .into_iter()
        .map(|(sku, lines)| StockMove::new(sku, lines))
        .filter(|m| m.change != 0)
        .collect();
    (changed, moves)
}

/// One reported line, at the status it was `reported` with (and its raw
/// marketplace word): a new line takes stock unless its status gives stock
/// back; a known line moves forward, giving back the stock it took when its
/// new status says so. `None` when nothing changed, else the line's stock
/// change (negative: taken).
fn apply_line(
    order: &mut MarketplaceOrder,
    snap: &OrderSnapshot,
    line: &LineSnapshot,
    reported: (Status, String),
    unit_rank: Option<u8>,
    unit_id: &str,
    line_less: bool,
) -> Option<i64> {
    let (mut line_status, mut raw) = reported;
    let mut change = 0i64;
    match order.lines.get_mut(&line.line_id) {
        None => {
            if let Some(rank) = unit_rank {
                let unit = order.units[unit_id].marketplace_status.clone();
                if rank > line_status.rank {
                    line_status = status_of(snap.marketplace, &unit);
                    raw = unit;
                }
            }
            let takes = !line_status.releases_stock;
            let stock = match (&line.sku, takes) {
                (None, _) => LineStock::Untracked,
                (Some(_), true) => LineStock::Taken,
                (Some(_), false) => LineStock::NotTaken,
            };
            if stock == LineStock::Taken {
                change = -i64::from(line.quantity);
            }
            order.lines.insert(
                line.line_id.clone(),
                LineState {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    status: line_status.word.to_string(),
                    marketplace_status: raw,
                    rank: line_status.rank,
                    stock,
                },
            );
        }
        Some(stored) if line_status.rank > stored.rank => {
            let may_release = !line_less || stored.rank < SHIPPED_RANK;
            if line_status.releases_stock && stored.stock == LineStock::Taken && may_release {
                change = i64::from(stored.quantity);
                stored.stock = LineStock::NotTaken;
            }
            stored.status = line_status.word.to_string();
            stored.marketplace_status = raw;
            stored.rank = line_status.rank;
        }
        Some(_) => return None,
    }
    Some(change)
}

/// The product refused `sku`'s move; returns the change to try again.
///
/// - Short of units: the lines taking stock are served in order while the
///   units (plus any given back in the same move) last; each line that does
///   not fit takes nothing, is `Oversold`, and an oversell goes on the outbox.
/// - No such product: lines taking stock are `Untracked`, and there is
///   nothing to give back to.
///
/// The move's stock event is replaced by one for what is left of it.
pub fn refuse_move(mut change: OrderChange, sku: &str, refusal: Refusal) -> OrderChange {
    let Some(pos) = change.moves.iter().position(|m| m.sku == sku) else {
        return change;
    };
    let refused = change.moves.remove(pos);
    let key = event_key(&change.order);
    let old_event = refused.event_id(&key);
    let occurred_ms = change
        .order
        .outbox
        .iter()
        .find_map(|e| match e {
            OrderEvent::StockChanged {
                event_id,
                occurred_ms,
                ..
            } if *event_id == old_event => Some(*occurred_ms),
            _ => None,
        })
        .unwrap_or(change.order.first_seen_ms);
    change.order.outbox.retain(|e| e.event_id() != old_event);
    let (releases, takes): (Vec<_>, Vec<_>) = refused.lines.into_iter().partition(|(_, d)| *d > 0);
    let mut budget = match refusal {
        Refusal::Short { available } => {
            available.max(0) + releases.iter().map(|(_, d)| d).sum::<i64>()
        }
        Refusal::Unknown => 0,
    };
    let mut kept = match refusal {
        Refusal::Short { .. } => releases,
        Refusal::Unknown => Vec::new(),
    };
    for (line_id, delta) in takes {
        if -delta <= budget && refusal != Refusal::Unknown {
            budget += delta;
            kept.push((line_id, delta));
            continue;
        }
        let Some(line) = change.order.lines.get_mut(&line_id) else {
            continue;
        };
        match refusal {
            Refusal::Unknown => line.stock = LineStock::Untracked,
            Refusal::Short { .. } => {
                line.stock = LineStock::Oversold;
                change.order.outbox.push(OrderEvent::Oversold {
                    event_id: format!("{key}:oversold:{line_id}"),
                    occurred_ms,
                    sku: sku.to_string(),
                    quantity: line.quantity,
                    line_id: line_id.clone(),
                });
            }
        }
    }
    let left = StockMove::new(sku.to_string(), kept);
    if left.change != 0 {
        change.order.outbox.push(left.event(&key, occurred_ms));
        change.moves.insert(pos, left);
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, sku: &str, qty: u32) -> LineSnapshot {
        LineSnapshot {
            line_id: id.into(),
            sku: Some(sku.into()),
            quantity: qty,
            marketplace_status: None,
        }
    }

    fn package(id: &str, status: &str, lines: Vec<LineSnapshot>, at: i64) -> OrderSnapshot {
        OrderSnapshot {
            marketplace: Marketplace::Trendyol,
            order_number: "TY-1".into(),
            package_id: Some(id.into()),
            marketplace_status: status.into(),
            lines,
            occurred_ms: at,
            details: None,
        }
    }

    fn hb_order(number: &str, status: &str, lines: Vec<LineSnapshot>, at: i64) -> OrderSnapshot {
        OrderSnapshot {
            marketplace: Marketplace::Hepsiburada,
            order_number: number.into(),
            package_id: None,
            marketplace_status: status.into(),
            lines,
            occurred_ms: at,
            details: None,
        }
    }

    fn settle(change: OrderChange) -> MarketplaceOrder {
        let mut o = change.order;
        o.outbox.clear();
        o
    }

    #[test]
    fn packing_hepsiburada_lines_marks_them_and_moves_no_stock() {
        let open = hb_order(
            "HB1",
            "Open",
            vec![line("l1", "A", 2), line("l2", "B", 1)],
            1_000,
        );
        let order = settle(apply_snapshot(None, &open));
        let snap = hepsiburada_packaged(&order, "5000031669", &["l1", "nope"], 2_000);
        assert_eq!(snap.lines.len(), 1, "only lines of the order");
        let change = apply_snapshot(Some(&order), &snap);
        assert!(change.moves.is_empty(), "packing moves no stock");
        let packed = settle(change);
        assert_eq!(packed.lines["l1"].status, "packaged");
        assert_eq!(packed.lines["l1"].stock, LineStock::Taken);
        assert_eq!(packed.lines["l2"].status, "created");
        assert_eq!(
            packed.line_facts["l1"].package_number.as_deref(),
            Some("5000031669")
        );
        assert_eq!(packed.line_facts["l1"].quantity, 2);
        assert!(!packed.line_facts.contains_key("l2"));
        let again = hepsiburada_packaged(&packed, "5000031669", &["l1"], 3_000);
        assert!(!apply_snapshot(Some(&packed), &again).changed, "told twice");
    }

    #[test]
    fn every_status_word_is_listed_once() {
        for m in Marketplace::ALL {
            let words = status_words(m);
            let mut unique = words.to_vec();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), words.len());
        }
        // Every status a marketplace can send (and one it might invent)
        // lands on a listed word, so reading them all misses no order.
        let trendyol = [
            "Awaiting",
            "Created",
            "Picking",
            "Invoiced",
            "Shipped",
            "Cancelled",
            "Delivered",
            "UnDelivered",
            "Returned",
            "Repack",
            "UnPacked",
            "UnSupplied",
            "AtCollectionPoint",
            "SomethingNew",
        ];
        let hepsiburada = [
            "Open",
            "createOrder",
            "createPackages",
            "Packaged",
            "unpack",
            "InTransit",
            "Shipped",
            "Undeliver",
            "Deliver",
            "orderCancel",
            "Cancelled",
            "SomethingNew",
        ];
        for (m, wires) in [
            (Marketplace::Trendyol, &trendyol[..]),
            (Marketplace::Hepsiburada, &hepsiburada[..]),
        ] {
            for wire in wires {
                let word = status_of(m, wire).word;
                assert!(status_words(m).contains(&word), "{m:?} {wire}");
            }
        }
    }

    #[test]
    fn a_new_order_takes_stock_once_and_announces_itself() {
        let snap = package(
            "P1",
            "Created",
            vec![
                line("L1", "SKU-A", 2),
                line("L2", "SKU-A", 1),
                line("L3", "SKU-B", 1),
            ],
            1_000,
        );
        let c = apply_snapshot(None, &snap);
        assert!(c.changed);
        assert_eq!(
            c.moves,
            vec![
                StockMove {
                    sku: "SKU-A".into(),
                    change: -3,
                    lines: vec![("L1".into(), -2), ("L2".into(), -1)]
                },
                StockMove {
                    sku: "SKU-B".into(),
                    change: -1,
                    lines: vec![("L3".into(), -1)]
                },
            ]
        );
        assert!(
            matches!(&c.order.outbox[0], OrderEvent::Created { event_id, .. } if event_id == "trendyol:TY-1:created")
        );
        assert_eq!(c.order.outbox.len(), 3);

        let stored = settle(c);
        let again = apply_snapshot(Some(&stored), &snap);
        assert!(!again.changed);
        assert!(again.moves.is_empty() && again.order.outbox.is_empty());
        assert_eq!(again.order, stored);
    }

    #[test]
    fn statuses_only_move_forward() {
        let created = package("P1", "Created", vec![line("L1", "A", 1)], 1_000);
        let shipped = package("P1", "Shipped", vec![line("L1", "A", 1)], 3_000);
        let picking = package("P1", "Picking", vec![line("L1", "A", 1)], 2_000);
        let stored = settle(apply_snapshot(None, &created));
        let stored = settle(apply_snapshot(Some(&stored), &shipped));
        assert_eq!(stored.units["P1"].status, "shipped");
        let late = apply_snapshot(Some(&stored), &picking);
        assert!(!late.changed, "an older status is ignored");
        assert_eq!(late.order.units["P1"].status, "shipped");
    }

    #[test]
    fn status_change_event_ids_are_the_same_whoever_reports_them() {
        let stored = settle(apply_snapshot(
            None,
            &package("P1", "Created", vec![line("L1", "A", 1)], 1),
        ));
        let by_poll = apply_snapshot(
            Some(&stored),
            &package("P1", "Invoiced", vec![line("L1", "A", 1)], 5),
        );
        let by_webhook = apply_snapshot(Some(&stored), &package("P1", "Invoiced", vec![], 6));
        let ids = |c: &OrderChange| {
            c.order
                .outbox
                .iter()
                .map(|e| e.event_id().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&by_poll), vec!["trendyol:TY-1:P1:invoiced"]);
        assert_eq!(ids(&by_poll), ids(&by_webhook));
    }

    #[test]
    fn cancellation_gives_stock_back_once_and_a_split_moves_nothing() {
        let stored = settle(apply_snapshot(
            None,
            &package(
                "P1",
                "Created",
                vec![line("L1", "A", 2), line("L2", "B", 1)],
                1,
            ),
        ));
        // L2 cancelled: Trendyol moves L1 to a new package P2.
        let mut l2 = line("L2", "B", 1);
        l2.marketplace_status = Some("Cancelled".into());
        let c = apply_snapshot(Some(&stored), &package("P1", "Cancelled", vec![l2], 2));
        assert_eq!(
            c.moves,
            vec![StockMove {
                sku: "B".into(),
                change: 1,
                lines: vec![("L2".into(), 1)]
            }]
        );
        let stored = settle(c);
        let split = apply_snapshot(
            Some(&stored),
            &package("P2", "Created", vec![line("L1", "A", 2)], 3),
        );
        assert!(split.moves.is_empty(), "L1 already holds its stock");
        assert!(split.changed, "the new package is recorded");
        let stored = settle(split);
        let again = apply_snapshot(
            Some(&stored),
            &package("P1", "Cancelled", vec![line("L2", "B", 1)], 4),
        );
        assert!(again.moves.is_empty(), "given back once");
    }

    #[test]
    fn a_webhook_without_lines_applies_to_every_known_line() {
        let snap = hb_order(
            "HB-1",
            "Open",
            vec![line("a", "A", 1), line("b", "B", 3)],
            1,
        );
        let stored = settle(apply_snapshot(None, &snap));
        let cancel = OrderSnapshot {
            marketplace_status: "orderCancel".into(),
            lines: vec![],
            occurred_ms: 2,
            ..snap.clone()
        };
        let c = apply_snapshot(Some(&stored), &cancel);
        let changes: Vec<_> = c.moves.iter().map(|m| (m.sku.as_str(), m.change)).collect();
        assert_eq!(changes, vec![("A", 1), ("B", 3)]);
        assert_eq!(c.order.units[""].status, "cancelled");
    }

    #[test]
    fn first_seen_cancelled_takes_nothing_and_unknown_sku_is_untracked() {
        let mut l = line("L1", "A", 1);
        l.marketplace_status = Some("Cancelled".into());
        let c = apply_snapshot(None, &package("P1", "Cancelled", vec![l], 1));
        assert!(c.moves.is_empty());
        assert_eq!(c.order.lines["L1"].stock, LineStock::NotTaken);
        let mut l = line("L1", "A", 1);
        l.sku = None;
        let c = apply_snapshot(None, &package("P1", "Created", vec![l], 1));
        assert!(c.moves.is_empty());
        assert_eq!(c.order.lines["L1"].stock, LineStock::Untracked);
    }

    #[test]
    fn a_refused_decrement_records_an_oversell_instead_of_a_stock_event() {
        let c = apply_snapshot(
            None,
            &package(
                "P1",
                "Created",
                vec![line("L1", "A", 1), line("L2", "B", 1)],
                7,
            ),
        );
        let c = refuse_move(c, "A", Refusal::Short { available: 0 });
        assert_eq!(c.moves.len(), 1);
        assert_eq!(c.order.lines["L1"].stock, LineStock::Oversold);
        let kinds: Vec<_> = c
            .order
            .outbox
            .iter()
            .map(|e| e.event_id().to_string())
            .collect();
        assert_eq!(
            kinds,
            vec![
                "trendyol:TY-1:created",
                "trendyol:TY-1:stock:L2:taken",
                "trendyol:TY-1:oversold:L1"
            ]
        );
        // Cancelling an oversold line gives nothing back.
        let stored = settle(c);
        let cancel = apply_snapshot(Some(&stored), &package("P1", "Cancelled", vec![], 9));
        let changes: Vec<_> = cancel
            .moves
            .iter()
            .map(|m| (m.sku.as_str(), m.change))
            .collect();
        assert_eq!(changes, vec![("B", 1)]);
        let c = refuse_move(
            apply_snapshot(None, &package("P1", "Created", vec![line("L1", "Z", 1)], 7)),
            "Z",
            Refusal::Unknown,
        );
        assert_eq!(c.order.lines["L1"].stock, LineStock::Untracked);
        assert!(c.moves.is_empty() && c.order.outbox.len() == 1);
    }

    #[test]
    fn status_orders() {
        let order = [
            "Awaiting",
            "Created",
            "Picking",
            "Invoiced",
            "Shipped",
            "Delivered",
            "Returned",
        ];
        for pair in order.windows(2) {
            assert!(
                trendyol_status(pair[0]).rank < trendyol_status(pair[1]).rank,
                "{pair:?}"
            );
        }
        assert!(trendyol_status("UnSupplied").releases_stock);
        assert!(!trendyol_status("UnPacked").releases_stock);
        assert_eq!(trendyol_status("bogus").rank, 0);
        assert!(hepsiburada_status("Open").rank < hepsiburada_status("intransit").rank);
        assert!(hepsiburada_status("orderCancel").releases_stock);
    }

    #[test]
    fn a_short_product_serves_the_lines_that_fit_in_order() {
        let c = apply_snapshot(
            None,
            &package(
                "P1",
                "Created",
                vec![line("L1", "A", 2), line("L2", "A", 1), line("L3", "A", 1)],
                7,
            ),
        );
        let c = refuse_move(c, "A", Refusal::Short { available: 2 });
        assert_eq!(
            c.moves,
            vec![StockMove {
                sku: "A".into(),
                change: -2,
                lines: vec![("L1".into(), -2)]
            }]
        );
        let stock: Vec<_> = c.order.lines.values().map(|l| l.stock).collect();
        assert_eq!(
            stock,
            vec![LineStock::Taken, LineStock::Oversold, LineStock::Oversold]
        );
        let ids: Vec<_> = c
            .order
            .outbox
            .iter()
            .map(|e| e.event_id().to_string())
            .collect();
        assert_eq!(
            ids,
            vec![
                "trendyol:TY-1:created",
                "trendyol:TY-1:oversold:L2",
                "trendyol:TY-1:oversold:L3",
                "trendyol:TY-1:stock:L1:taken"
            ]
        );
    }

    #[test]
    fn an_order_first_known_by_a_notice_is_announced_once_with_its_lines() {
        let created = |c: &OrderChange| -> Vec<(String, String)> {
            c.order
                .outbox
                .iter()
                .filter_map(|e| match e {
                    OrderEvent::Created {
                        event_id, status, ..
                    } => Some((event_id.clone(), status.clone())),
                    _ => None,
                })
                .collect()
        };
        let notice = hb_order("HB-5", "createOrder", vec![], 1);
        let c = apply_snapshot(None, &notice);
        assert!(c.changed, "stored");
        assert!(c.order.outbox.is_empty(), "{:?}", c.order.outbox);
        let stored = settle(c);
        let packed = hb_order("HB-5", "createPackages", vec![], 2);
        let c = apply_snapshot(Some(&stored), &packed);
        assert!(c.changed, "moved");
        assert!(c.order.outbox.is_empty(), "{:?}", c.order.outbox);
        let stored = settle(c);
        let listed = hb_order("HB-5", "Open", vec![line("a", "A", 2)], 2);
        let c = apply_snapshot(Some(&stored), &listed);
        assert_eq!(
            created(&c),
            [(
                "hepsiburada:HB-5:created".to_string(),
                "packaged".to_string()
            )]
        );
        assert!(
            !c.order
                .outbox
                .iter()
                .any(|e| matches!(e, OrderEvent::StatusChanged { .. })),
            "told by the announcement: {:?}",
            c.order.outbox
        );
        assert!(matches!(c.order.outbox[0], OrderEvent::Created { .. }));
        assert_eq!(c.moves.len(), 1, "stock taken with it");
        let stored = settle(c);
        for again in [
            listed,
            OrderSnapshot {
                occurred_ms: 3,
                ..notice
            },
        ] {
            assert!(apply_snapshot(Some(&stored), &again)
                .order
                .outbox
                .is_empty());
        }
        // Cancelled before its lines were listed: announced cancelled when
        // they are, nothing taken.
        let cancel = hb_order("HB-6", "orderCancel", vec![], 1);
        let stored = settle(apply_snapshot(None, &cancel));
        let c = apply_snapshot(
            Some(&stored),
            &hb_order("HB-6", "Open", vec![line("a", "A", 1)], 2),
        );
        assert_eq!(
            created(&c),
            [(
                "hepsiburada:HB-6:created".to_string(),
                "cancelled".to_string()
            )]
        );
        assert!(c.moves.is_empty());
    }

    #[test]
    fn lines_reported_after_the_order_was_cancelled_take_nothing() {
        let cancel = hb_order("HB-9", "orderCancel", vec![], 5);
        let stored = settle(apply_snapshot(None, &cancel));
        let late_page = OrderSnapshot {
            marketplace_status: "Open".into(),
            lines: vec![line("a", "A", 1)],
            occurred_ms: 3,
            ..cancel.clone()
        };
        let c = apply_snapshot(Some(&stored), &late_page);
        assert!(c.moves.is_empty());
        assert_eq!(c.order.lines["a"].stock, LineStock::NotTaken);
        assert_eq!(c.order.lines["a"].status, "cancelled");
    }

    fn cancelled(id: &str, sku: &str, qty: u32) -> LineSnapshot {
        LineSnapshot {
            marketplace_status: Some("Cancelled".into()),
            ..line(id, sku, qty)
        }
    }

    #[test]
    fn a_listed_cancel_moves_its_lines_once_and_the_order_only_when_whole() {
        let open = hb_order(
            "HB-9",
            "Open",
            vec![line("L1", "SKU-A", 2), line("L2", "SKU-B", 1)],
            1_000,
        );
        let stored = settle(apply_snapshot(None, &open));
        // One line cancelled: its stock back, the order still open.
        let part = hb_order(
            "HB-9",
            "Cancelled",
            vec![cancelled("L1", "SKU-A", 2)],
            2_000,
        );
        let c = apply_snapshot(Some(&stored), &part);
        assert_eq!(c.moves.len(), 1);
        assert_eq!(c.moves[0].change, 2);
        assert_eq!(c.order.status(), "created");
        assert!(!c
            .order
            .outbox
            .iter()
            .any(|e| matches!(e, OrderEvent::StatusChanged { .. })));
        let stored = settle(c);
        assert!(!apply_snapshot(Some(&stored), &part).changed);
        // The rest cancelled: the order is cancelled, L1 gives nothing twice.
        let whole = hb_order(
            "HB-9",
            "Cancelled",
            vec![cancelled("L1", "SKU-A", 2), cancelled("L2", "SKU-B", 1)],
            3_000,
        );
        let c = apply_snapshot(Some(&stored), &whole);
        assert_eq!(c.moves.len(), 1);
        assert_eq!((c.moves[0].sku.as_str(), c.moves[0].change), ("SKU-B", 1));
        assert_eq!(c.order.status(), "cancelled");
        // The webhook's orderCancel after the list: nothing left to move.
        let stored = settle(c);
        let webhook = hb_order("HB-9", "orderCancel", vec![], 4_000);
        assert!(!apply_snapshot(Some(&stored), &webhook).changed);
        // And the list after the webhook: nothing either.
        let by_webhook = settle(apply_snapshot(
            Some(&settle(apply_snapshot(None, &open))),
            &webhook,
        ));
        assert!(!apply_snapshot(Some(&by_webhook), &whole).changed);
    }

    #[test]
    fn an_order_level_cancel_gives_back_only_what_has_not_shipped() {
        let snap = hb_order(
            "HB-2",
            "Open",
            vec![line("a", "A", 1), line("b", "B", 1)],
            1,
        );
        let stored = settle(apply_snapshot(None, &snap));
        let mut shipped_b = line("b", "B", 1);
        shipped_b.marketplace_status = Some("intransit".into());
        let stored = settle(apply_snapshot(
            Some(&stored),
            &OrderSnapshot {
                lines: vec![shipped_b],
                occurred_ms: 2,
                ..snap.clone()
            },
        ));
        let c = apply_snapshot(
            Some(&stored),
            &OrderSnapshot {
                marketplace_status: "orderCancel".into(),
                lines: vec![],
                occurred_ms: 3,
                ..snap
            },
        );
        let changes: Vec<_> = c.moves.iter().map(|m| (m.sku.as_str(), m.change)).collect();
        assert_eq!(changes, vec![("A", 1)]);
    }

    #[test]
    fn a_give_back_to_a_product_that_is_gone_is_dropped() {
        let stored = settle(apply_snapshot(
            None,
            &package("P1", "Created", vec![line("L1", "A", 1)], 1),
        ));
        let c = apply_snapshot(Some(&stored), &package("P1", "Cancelled", vec![], 2));
        assert_eq!(c.moves.len(), 1);
        let c = refuse_move(c, "A", Refusal::Unknown);
        assert!(c.moves.is_empty());
        assert_eq!(c.order.outbox.len(), 1, "only the status change");
        assert_eq!(c.order.lines["L1"].stock, LineStock::NotTaken);
    }

    fn with_details(mut snap: OrderSnapshot, total: i64, buyer: &str) -> OrderSnapshot {
        use crate::domain::marketplace_order_details::{LineFacts, PackageFacts, PersonalData};
        use crate::money::{Currency, Money};
        let lines = snap
            .lines
            .iter()
            .map(|l| {
                (
                    l.line_id.clone(),
                    LineFacts {
                        quantity: l.quantity,
                        unit_sale_price: Some(Money::new(1000, Currency::TRY)),
                        ..Default::default()
                    },
                )
            })
            .collect();
        snap.details = Some(Box::new(SnapshotDetails {
            package: PackageFacts {
                total: Some(Money::new(total, Currency::TRY)),
                ..Default::default()
            },
            lines,
            personal: Some(PersonalData {
                buyer_name: Some(buyer.into()),
                ..Default::default()
            }),
        }));
        snap
    }

    #[test]
    fn details_and_personal_data_are_written_once_and_erased_after_closing() {
        let r = PersonalDataRetention::days(30, 90);
        let day = 86_400_000;
        let created = with_details(
            package("P1", "Created", vec![line("L1", "A", 2)], day),
            2000,
            "Ayşe",
        );
        let c = apply_snapshot_with(None, &created, r);
        assert!(
            matches!(&c.personal, PersonalWrite::Put(p) if p.buyer_name.as_deref() == Some("Ayşe"))
        );
        assert_eq!(c.order.personal.as_ref().unwrap().erase_after_ms, 121 * day);
        assert_eq!(c.order.packages["P1"].total.unwrap().minor, 2000);
        let json = serde_json::to_string(&c.order).unwrap();
        assert!(
            !json.contains("Ayşe"),
            "the order item holds no personal data: {json}"
        );
        let stored = settle(c);
        let again = apply_snapshot_with(Some(&stored), &created, r);
        assert!(!again.changed && again.personal == PersonalWrite::Unchanged);
        // Delivered: the erase deadline moves to delivery + 30 days.
        let delivered = package("P1", "Delivered", vec![], 10 * day);
        let c = apply_snapshot_with(Some(&stored), &delivered, r);
        assert_eq!(c.personal, PersonalWrite::Reschedule);
        assert_eq!(c.order.personal.as_ref().unwrap().erase_after_ms, 40 * day);
        // An older description never replaces a newer one.
        let stored = settle(c);
        let late = with_details(
            package("P1", "Created", vec![line("L1", "A", 2)], day / 2),
            2000,
            "Old",
        );
        let c = apply_snapshot_with(Some(&stored), &late, r);
        assert_eq!(c.personal, PersonalWrite::Unchanged);
    }

    #[test]
    fn totals_that_do_not_add_up_are_recorded_and_reported_once() {
        let snap = with_details(
            package("P1", "Created", vec![line("L1", "A", 2)], 5),
            1999,
            "x",
        );
        let c = apply_snapshot(None, &snap);
        assert_eq!(c.order.packages["P1"].problems.len(), 1);
        let mismatches = |c: &OrderChange| {
            c.order
                .outbox
                .iter()
                .filter(|e| matches!(e, OrderEvent::TotalsMismatch { .. }))
                .count()
        };
        assert_eq!(mismatches(&c), 1);
        let stored = settle(c);
        let mut later = snap.clone();
        later.occurred_ms = 9;
        let c = apply_snapshot(Some(&stored), &later);
        assert_eq!(mismatches(&c), 0, "the same problem is reported once");
    }
}
