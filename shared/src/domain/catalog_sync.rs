//! Deciding what to push to a marketplace: compare what a product should look
//! like there (its digests, `Product::sync_hash`) with what the marketplace
//! last acknowledged, rejected, or has in flight; and cut the pushes into
//! batches that fit the marketplace's item limit and SQS's message size.

use serde::{Deserialize, Serialize};

use crate::domain::marketplace::Marketplace;
use crate::domain::product::{Product, SyncKind};

/// Trendyol's and Hepsiburada's limit per batch request (docs/marketplace-wire.md T1–T3, H1).
pub const MAX_BATCH_ITEMS: usize = 1_000;
/// The most we put in one marketplace request (neither marketplace
/// publishes a body limit; 1,000 products with long descriptions would make
/// tens of MB). A plan item is at most ~250 bytes, so a plan of 1,000 stays
/// far below DynamoDB's 400 KB item limit, and jobs on the queue only name
/// their plan: SQS's 256 KiB message limit never cuts a batch short.
pub const MAX_REQUEST_BYTES: usize = 4_000_000;

/// What one marketplace knows of one kind of a product's data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindState {
    /// Digest of the last state the marketplace acknowledged.
    pub acked: Option<String>,
    /// Digest of a state the marketplace refused (or we refused before
    /// sending); it is not sent again until the product changes.
    pub rejected: Option<String>,
    /// A batch with this kind of the product is planned or awaiting its result.
    pub in_flight: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingState {
    pub content: KindState,
    pub price: KindState,
    pub stock: KindState,
}

impl ListingState {
    pub fn kind(&self, kind: SyncKind) -> &KindState {
        match kind {
            SyncKind::Content => &self.content,
            SyncKind::Price => &self.price,
            SyncKind::Stock => &self.stock,
        }
    }
    pub fn kind_mut(&mut self, kind: SyncKind) -> &mut KindState {
        match kind {
            SyncKind::Content => &mut self.content,
            SyncKind::Price => &mut self.price,
            SyncKind::Stock => &mut self.stock,
        }
    }
}

/// One kind of request to a marketplace; each has its own endpoint (Trendyol's
/// price and stock share one, but are planned apart so that a stock change
/// never resends a price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Push {
    /// The first listing of a product.
    Create,
    /// Content of a product the marketplace already has.
    Content,
    Price,
    Stock,
}

impl Push {
    pub fn as_str(self) -> &'static str {
        match self {
            Push::Create => "create",
            Push::Content => "content",
            Push::Price => "price",
            Push::Stock => "stock",
        }
    }

    /// The kinds a successful push brings in line: a create carries price
    /// and stock too (Trendyol requires them; Hepsiburada's import file has
    /// `price` and `stock`), and so does every Hepsiburada import.
    pub fn kinds(self, marketplace: Marketplace) -> &'static [SyncKind] {
        match (self, marketplace) {
            (Push::Create, _) | (Push::Content, Marketplace::Hepsiburada) => &SyncKind::ALL,
            (Push::Content, Marketplace::Trendyol) => &[SyncKind::Content],
            (Push::Price, _) => &[SyncKind::Price],
            (Push::Stock, _) => &[SyncKind::Stock],
        }
    }

    /// The product's digests of the kinds this push brings in line (what a
    /// plan item records; kinds without a digest left out).
    pub fn hashes(self, product: &Product, marketplace: Marketplace) -> Vec<(SyncKind, String)> {
        self.kinds(marketplace)
            .iter()
            .filter_map(|k| product.sync_hash(marketplace, *k).map(|h| (*k, h)))
            .collect()
    }
}

/// What to do for one product on one marketplace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingPlan {
    pub pushes: Vec<Push>,
    /// Nothing to send and nothing in flight: every kind is acknowledged or
    /// refused at its current digest. A product settled on every marketplace
    /// leaves the sync's work list until it changes again.
    pub settled: bool,
}

/// The decision for one product on one marketplace.
pub fn plan_listing(
    product: &Product,
    marketplace: Marketplace,
    state: &ListingState,
) -> ListingPlan {
    if !product.listed_on(marketplace) {
        return ListingPlan {
            pushes: vec![],
            settled: true,
        };
    }
    let desired = |kind| product.sync_hash(marketplace, kind);
    let needs = |kind: SyncKind| {
        let s = state.kind(kind);
        let d = desired(kind);
        d != s.acked && d != s.rejected
    };
    let mut pushes = Vec::new();
    let any_in_flight = SyncKind::ALL.iter().any(|k| state.kind(*k).in_flight);
    let created = state.content.acked.is_some();
    if !created {
        // Nothing can be priced or stocked before the listing exists; one
        // create at a time, and none while its content is refused as is.
        if !any_in_flight && needs(SyncKind::Content) {
            pushes.push(Push::Create);
        }
    } else {
        for (kind, push) in [
            (SyncKind::Content, Push::Content),
            (SyncKind::Price, Push::Price),
            (SyncKind::Stock, Push::Stock),
        ] {
            // One batch per kind in flight at a time keeps results in order:
            // an older batch can never acknowledge over a newer one.
            if !state.kind(kind).in_flight && needs(kind) {
                pushes.push(push);
            }
        }
        // A Hepsiburada re-import carries price and stock as well.
        if marketplace == Marketplace::Hepsiburada && pushes.first() == Some(&Push::Content) {
            pushes.truncate(1);
        }
    }
    // With nothing in flight, an empty plan means every kind is acknowledged
    // or refused as it is now (or the create is refused, which blocks the rest).
    let settled = !any_in_flight && pushes.is_empty();
    ListingPlan { pushes, settled }
}

/// Splits `items` into batches of at most `max_items` whose encoded sizes
/// (per `size`, plus one separator byte each) stay within `max_bytes`. An item
/// larger than `max_bytes` on its own travels alone, so nothing is dropped;
/// the caller rejects such items before they get here.
pub fn chunk<T>(
    items: Vec<T>,
    max_items: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
) -> Vec<Vec<T>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for item in items {
        let n = size(&item) + 1;
        if !current.is_empty() && (current.len() == max_items || bytes + n > max_bytes) {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += n;
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// A message on the catalog queue: `{"send": {…}}` or `{"check": {…}}`.
/// A job names its plan; the worker reads the plan's products when it sends,
/// so a batch of 1,000 products of any size is one small message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CatalogJob {
    /// Send one batch request.
    #[serde(rename_all = "camelCase")]
    Send {
        plan_id: String,
        marketplace: Marketplace,
        push: Push,
    },
    /// Read a sent batch's result (queued with a delay, never a sleep).
    #[serde(rename_all = "camelCase")]
    Check {
        plan_id: String,
        marketplace: Marketplace,
        push: Push,
        batch_id: String,
        attempt: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::tests::sample;

    fn acked(product: &Product, m: Marketplace) -> ListingState {
        let mut s = ListingState::default();
        for k in SyncKind::ALL {
            s.kind_mut(k).acked = product.sync_hash(m, k);
        }
        s
    }

    #[test]
    fn a_new_product_is_created_once_and_nothing_else() {
        let p = sample("A");
        let plan = plan_listing(&p, Marketplace::Trendyol, &ListingState::default());
        assert_eq!(plan.pushes, vec![Push::Create]);
        assert!(!plan.settled);
        let mut in_flight = ListingState::default();
        in_flight.content.in_flight = true;
        let plan = plan_listing(&p, Marketplace::Trendyol, &in_flight);
        assert!(plan.pushes.is_empty() && !plan.settled);
    }

    #[test]
    fn an_acknowledged_product_is_settled() {
        let p = sample("A");
        for m in Marketplace::ALL {
            let plan = plan_listing(&p, m, &acked(&p, m));
            assert!(plan.pushes.is_empty() && plan.settled, "{m:?}");
        }
    }

    #[test]
    fn a_stock_change_pushes_stock_only() {
        let p = sample("A");
        let state = acked(&p, Marketplace::Trendyol);
        let mut changed = p.clone();
        changed.stock = 0;
        let plan = plan_listing(&changed, Marketplace::Trendyol, &state);
        assert_eq!(plan.pushes, vec![Push::Stock]);
    }

    #[test]
    fn a_refused_state_is_not_resent_until_it_changes() {
        let p = sample("A");
        let mut state = acked(&p, Marketplace::Hepsiburada);
        let mut changed = p.clone();
        changed.price.minor += 100;
        changed.list_price.minor += 100;
        state.price.rejected = changed.sync_hash(Marketplace::Hepsiburada, SyncKind::Price);
        let plan = plan_listing(&changed, Marketplace::Hepsiburada, &state);
        assert!(plan.pushes.is_empty() && plan.settled);
        changed.price.minor += 1;
        let plan = plan_listing(&changed, Marketplace::Hepsiburada, &state);
        assert_eq!(plan.pushes, vec![Push::Price]);
    }

    #[test]
    fn a_kind_in_flight_waits_and_keeps_the_product_unsettled() {
        let p = sample("A");
        let mut state = acked(&p, Marketplace::Trendyol);
        state.stock.in_flight = true;
        let mut changed = p.clone();
        changed.stock += 1;
        changed.price.minor -= 1;
        let plan = plan_listing(&changed, Marketplace::Trendyol, &state);
        assert_eq!(plan.pushes, vec![Push::Price]);
        assert!(!plan.settled);
    }

    #[test]
    fn a_refused_create_settles_without_price_or_stock() {
        let p = sample("A");
        let mut state = ListingState::default();
        state.content.rejected = p.sync_hash(Marketplace::Trendyol, SyncKind::Content);
        let plan = plan_listing(&p, Marketplace::Trendyol, &state);
        assert!(plan.pushes.is_empty() && plan.settled);
    }

    #[test]
    fn a_hepsiburada_reimport_carries_price_and_stock() {
        let p = sample("A");
        let state = acked(&p, Marketplace::Hepsiburada);
        let mut changed = p.clone();
        changed.title.push('!');
        changed.stock += 1;
        let plan = plan_listing(&changed, Marketplace::Hepsiburada, &state);
        assert_eq!(plan.pushes, vec![Push::Content]);
        assert_eq!(
            Push::Content.kinds(Marketplace::Hepsiburada),
            &SyncKind::ALL
        );
        assert_eq!(
            Push::Content.kinds(Marketplace::Trendyol),
            &[SyncKind::Content]
        );
    }

    #[test]
    fn unlisted_marketplaces_are_settled() {
        let mut p = sample("A");
        p.trendyol = None;
        let plan = plan_listing(&p, Marketplace::Trendyol, &ListingState::default());
        assert!(plan.pushes.is_empty() && plan.settled);
    }

    #[test]
    fn jobs_are_small_and_name_their_plan() {
        let job = CatalogJob::Send {
            plan_id: "p1".into(),
            marketplace: Marketplace::Trendyol,
            push: Push::Price,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(
            text,
            r#"{"send":{"planId":"p1","marketplace":"trendyol","push":"price"}}"#
        );
        let CatalogJob::Send { plan_id, .. } = serde_json::from_str(&text).unwrap() else {
            panic!("a send job")
        };
        assert_eq!(plan_id, "p1");
    }

    #[test]
    fn chunks_respect_count_and_size() {
        let items: Vec<usize> = vec![10; 2_500];
        let batches = chunk(items, 1_000, usize::MAX, |n| *n);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [1000, 1000, 500]
        );
        let batches = chunk(vec![100; 10], 1_000, 350, |n| *n);
        assert!(batches.iter().all(|b| b.len() == 3 || b.len() == 1));
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
        let batches = chunk(vec![500, 1, 1], 1_000, 100, |n| *n);
        assert_eq!(batches, vec![vec![500], vec![1, 1]]);
    }
}
