//! Marketplace claims (returns) as we keep them, and the one rule for taking
//! in what a marketplace says about a claim. Pure: the store runs the
//! decision as the claim's order's transaction.
//!
//! - A claim is kept on the order it is about (`MarketplaceOrder::claims`),
//!   so a claim item's stock and the order's own stock moves share one
//!   conditional write: whichever report comes first, each moves once.
//! - Claim item statuses only move forward (`claim_status`); the same
//!   snapshot applied twice changes nothing the second time.
//! - Stock comes back only for an item the marketplace accepted whose
//!   reason says the unit is sellable again (`ClaimPolicy`, a setting): the
//!   item's units (Trendyol: one; Hepsiburada: the claim's quantity), once (`Restock::Returned` is written in the same
//!   transaction as the product's stock).
//! - Events: `marketplace.claim.created` once per claim,
//!   `marketplace.claim.status_changed` once per item change, each with an
//!   id derived from the change, so webhook and poll publish one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::{
    LineStock, MarketplaceOrder, OrderChange, OrderEvent, PersonalWrite, StockMove,
};

/// A claim item status in our words and its place in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimStatus {
    pub word: &'static str,
    /// Later statuses rank higher; unknown ones rank 0 and move nothing.
    pub rank: u8,
    /// The marketplace took the return (accepted, or refunded after it):
    /// the status at which a sellable unit goes back to stock.
    pub accepted: bool,
}

const fn claim(word: &'static str, rank: u8) -> ClaimStatus {
    ClaimStatus {
        word,
        rank,
        accepted: false,
    }
}

const fn taken(word: &'static str, rank: u8) -> ClaimStatus {
    ClaimStatus {
        word,
        rank,
        accepted: true,
    }
}

/// The status word of a claim item waiting for the seller's decision: only
/// then can it be approved or rejected (both marketplaces).
pub const AWAITING_SELLER: &str = "waiting_in_action";

/// A marketplace's claim item status in our words (docs/marketplace-wire.md
/// T14, H16).
///
/// Trendyol: a rejected item can still be accepted after Trendyol's
/// analysis, so `accepted` ranks above `rejected`.
///
/// Hepsiburada: a claim is one line; a seller's rejection may be disputed
/// (`InDispute`) and decided by Hepsiburada either way, so `in_dispute`
/// ranks below both outcomes; `Refunded` follows `Accepted` (a claim first
/// seen refunded still gives its units back). The order is UNCONFIRMED.
pub fn claim_status(marketplace: Marketplace, marketplace_status: &str) -> ClaimStatus {
    let word = marketplace_status.to_ascii_lowercase();
    match marketplace {
        Marketplace::Trendyol => match word.as_str() {
            "created" => claim("created", 1),
            "waitinginaction" => claim(AWAITING_SELLER, 2),
            "waitingfraudcheck" => claim("waiting_fraud_check", 2),
            "inanalysis" => claim("in_analysis", 3),
            "unresolved" => claim("unresolved", 4),
            "rejected" => claim("rejected", 5),
            "accepted" => taken("accepted", 6),
            "cancelled" => claim("cancelled", 6),
            _ => claim("unknown", 0),
        },
        Marketplace::Hepsiburada => match word.as_str() {
            "newrequest" => claim("created", 1),
            "awaitingpreapproval" => claim("waiting_pre_approval", 2),
            "awaitingaction" => claim(AWAITING_SELLER, 3),
            "indispute" => claim("in_dispute", 4),
            "rejected" => claim("rejected", 5),
            "accepted" => taken("accepted", 6),
            "cancelled" => claim("cancelled", 6),
            "refunded" => taken("refunded", 7),
            _ => claim("unknown", 0),
        },
    }
}

/// What a marketplace said about a claim at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimSnapshot {
    pub marketplace: Marketplace,
    pub claim_id: String,
    pub order_number: String,
    /// When the buyer claimed (epoch ms).
    pub claimed_ms: i64,
    /// When the marketplace last changed it (epoch ms).
    pub occurred_ms: i64,
    pub items: Vec<ClaimItemSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimItemSnapshot {
    /// The marketplace's claim item id (what approve/reject name).
    pub item_id: String,
    /// The order line it returns.
    pub order_line_id: Option<String>,
    /// Our SKU (the merchant SKU the marketplace echoes).
    pub sku: Option<String>,
    /// The buyer's reason: the marketplace's code and its name.
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub marketplace_status: String,
    /// Units the item returns (a Trendyol claim item is one; a Hepsiburada
    /// claim names its line's quantity).
    pub quantity: u32,
}

/// Whether a claim item's units go back to stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restock {
    /// Not accepted (yet).
    Pending,
    /// Accepted and sellable: its units went back to stock.
    Returned,
    /// Accepted, but its reason does not make the unit sellable.
    NotSellable,
    /// Accepted and sellable, but no product of ours to give it to.
    Untracked,
    /// Accepted and sellable, but its order line holds no stock to give
    /// back: never taken (oversold, untracked, first seen cancelled) or
    /// already given back (a package returned before returns went through
    /// their claims). Giving a unit back would make stock out of nothing.
    NotHeld,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_line_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub status: String,
    pub marketplace_status: String,
    pub rank: u8,
    /// Units the item returns (stored before Hepsiburada's claims: one).
    #[serde(default = "one")]
    pub quantity: u32,
    pub restock: Restock,
}

fn one() -> u32 {
    1
}

/// A claim as stored on its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub claimed_ms: i64,
    pub changed_ms: i64,
    /// By claim item id.
    pub items: BTreeMap<String, ClaimItem>,
}

/// Which accepted claim items are sellable again (a setting:
/// `MARKETPLACE_CLAIM_SELLABLE_REASONS`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimPolicy {
    /// Reason codes (the marketplace's) whose accepted units go back to
    /// stock, each for one marketplace or (`None`) for every one; anything
    /// else (defective, wrong, damaged, unknown) does not.
    pub sellable_reasons: Vec<(Option<Marketplace>, String)>,
}

impl ClaimPolicy {
    /// The setting's text: comma-separated reason codes, each bare (every
    /// marketplace: the format before Hepsiburada's claims) or prefixed
    /// with its marketplace (`hepsiburada:FoundCheaper`, `trendyol:401`);
    /// `none` = nothing is sellable. `Err` names the entry it cannot read.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut sellable_reasons = Vec::new();
        if text.trim() == "none" {
            return Ok(ClaimPolicy { sellable_reasons });
        }
        for entry in text.split(',').map(str::trim) {
            let (marketplace, code) = match entry.split_once(':') {
                Some((m, code)) => match Marketplace::parse(m.trim()) {
                    Some(m) => (Some(m), code.trim()),
                    None => return Err(entry.to_string()),
                },
                None => (None, entry),
            };
            if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(entry.to_string());
            }
            sellable_reasons.push((marketplace, code.to_string()));
        }
        Ok(ClaimPolicy { sellable_reasons })
    }

    pub fn sellable(&self, marketplace: Marketplace, reason_code: Option<&str>) -> bool {
        reason_code.is_some_and(|c| {
            self.sellable_reasons
                .iter()
                .any(|(m, s)| m.is_none_or(|m| m == marketplace) && s == c)
        })
    }
}

fn key(order: &MarketplaceOrder, claim_id: &str) -> String {
    format!(
        "{}:{}:claim:{claim_id}",
        order.marketplace.as_str(),
        order.order_number
    )
}

/// Applies a claim snapshot to the order it is about. `changed` is false
/// when nothing is new; `moves` give units back (positive).
pub fn apply_claim(
    order: &MarketplaceOrder,
    snap: &ClaimSnapshot,
    policy: &ClaimPolicy,
) -> OrderChange {
    let mut order = order.clone();
    let key = key(&order, &snap.claim_id);
    let is_new = !order.claims.contains_key(&snap.claim_id);
    let mut claim = order.claims.get(&snap.claim_id).cloned().unwrap_or(Claim {
        claimed_ms: snap.claimed_ms,
        changed_ms: snap.occurred_ms,
        items: BTreeMap::new(),
    });
    let mut events = Vec::new();
    let mut restocked: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    let mut changed = is_new;
    for item in &snap.items {
        let status = claim_status(snap.marketplace, &item.marketplace_status);
        let previous = claim.items.get(&item.item_id).cloned();
        let moves = match &previous {
            None => true,
            Some(p) => status.rank > p.rank,
        };
        if !moves || (status.rank == 0 && previous.is_some()) {
            continue;
        }
        changed = true;
        // Never more units back than the line sold (a claim's quantity is
        // the marketplace's word, UNCONFIRMED for Hepsiburada, H16).
        let sold = item
            .order_line_id
            .as_ref()
            .and_then(|id| order.lines.get(id))
            .map_or(u32::MAX, |line| line.quantity.max(1));
        let mut stored = ClaimItem {
            order_line_id: item.order_line_id.clone(),
            sku: item.sku.clone(),
            reason_code: item.reason_code.clone(),
            reason: item.reason.clone(),
            status: status.word.to_string(),
            marketplace_status: item.marketplace_status.clone(),
            rank: status.rank,
            quantity: item.quantity.max(1).min(sold),
            restock: previous.as_ref().map_or(Restock::Pending, |p| p.restock),
        };
        if status.accepted && stored.restock == Restock::Pending {
            // A line we hold whose stock is not taken has nothing to give
            // back; a line we cannot match (its id as the claim gives it,
            // UNCONFIRMED T14) is trusted to have taken its unit.
            let held = stored
                .order_line_id
                .as_ref()
                .and_then(|id| order.lines.get(id))
                .is_none_or(|line| line.stock == LineStock::Taken);
            let sellable = policy.sellable(snap.marketplace, stored.reason_code.as_deref());
            stored.restock = match (&stored.sku, sellable) {
                (_, false) => Restock::NotSellable,
                (None, true) => Restock::Untracked,
                (Some(_), true) if !held => Restock::NotHeld,
                (Some(sku), true) => {
                    restocked
                        .entry(sku.clone())
                        .or_default()
                        .push((item.item_id.clone(), i64::from(stored.quantity)));
                    Restock::Returned
                }
            };
        }
        if !is_new {
            events.push(OrderEvent::ClaimStatusChanged {
                event_id: format!("{key}:{}:{}", item.item_id, status.word),
                occurred_ms: snap.occurred_ms,
                claim_id: snap.claim_id.clone(),
                item_id: item.item_id.clone(),
                status: status.word.to_string(),
                previous_status: previous.map(|p| p.status),
            });
        }
        claim.items.insert(item.item_id.clone(), stored);
    }
    if !changed {
        return OrderChange {
            order,
            moves: Vec::new(),
            changed: false,
            personal: PersonalWrite::Unchanged,
        };
    }
    claim.changed_ms = claim.changed_ms.max(snap.occurred_ms);
    if is_new {
        order.outbox.push(OrderEvent::ClaimCreated {
            event_id: format!("{key}:created"),
            occurred_ms: snap.claimed_ms,
            claim_id: snap.claim_id.clone(),
        });
    }
    order.outbox.extend(events);
    let moves: Vec<StockMove> = restocked
        .into_iter()
        .map(|(sku, items)| StockMove::new(sku, items))
        .collect();
    for m in &moves {
        order.outbox.push(OrderEvent::StockChanged {
            event_id: format!(
                "{key}:stock:{}:restocked",
                m.lines
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            ),
            occurred_ms: snap.occurred_ms,
            sku: m.sku.clone(),
            change: m.change,
            line_id: m
                .lines
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(","),
        });
    }
    order.claims.insert(snap.claim_id.clone(), claim);
    OrderChange {
        order,
        moves,
        changed: true,
        personal: PersonalWrite::Unchanged,
    }
}

/// The product `sku` is not in our catalog: the claim items that would have
/// given it units are `Untracked`, and their stock event is dropped.
pub fn untrack_restock(mut change: OrderChange, sku: &str) -> OrderChange {
    let Some(pos) = change.moves.iter().position(|m| m.sku == sku) else {
        return change;
    };
    let refused = change.moves.remove(pos);
    let items: Vec<&str> = refused.lines.iter().map(|(id, _)| id.as_str()).collect();
    change.order.outbox.retain(|e| {
        !matches!(e, OrderEvent::StockChanged { sku: s, change, .. } if s == sku && *change > 0 && e.event_id().ends_with(":restocked"))
    });
    for claim in change.order.claims.values_mut() {
        for (id, item) in claim.items.iter_mut() {
            if items.contains(&id.as_str()) && item.restock == Restock::Returned {
                item.restock = Restock::Untracked;
            }
        }
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::marketplace_order::{apply_snapshot, LineSnapshot, OrderSnapshot};

    fn order() -> MarketplaceOrder {
        let snap = OrderSnapshot {
            marketplace: Marketplace::Trendyol,
            order_number: "TY-9".into(),
            package_id: Some("P1".into()),
            marketplace_status: "Delivered".into(),
            lines: vec![LineSnapshot {
                line_id: "L1".into(),
                sku: Some("SKU-A".into()),
                quantity: 2,
                marketplace_status: None,
            }],
            occurred_ms: 1_000,
            details: None,
        };
        let mut o = apply_snapshot(None, &snap).order;
        o.outbox.clear();
        o
    }

    fn item(id: &str, reason: &str, status: &str) -> ClaimItemSnapshot {
        ClaimItemSnapshot {
            item_id: id.into(),
            order_line_id: Some("L1".into()),
            sku: Some("SKU-A".into()),
            reason_code: Some(reason.into()),
            reason: Some("reason".into()),
            marketplace_status: status.into(),
            quantity: 1,
        }
    }

    fn snap(items: Vec<ClaimItemSnapshot>, at: i64) -> ClaimSnapshot {
        ClaimSnapshot {
            marketplace: Marketplace::Trendyol,
            claim_id: "C1".into(),
            order_number: "TY-9".into(),
            claimed_ms: 2_000,
            occurred_ms: at,
            items,
        }
    }

    fn policy() -> ClaimPolicy {
        ClaimPolicy {
            sellable_reasons: vec![(None, "401".into())],
        }
    }

    fn settle(c: OrderChange) -> MarketplaceOrder {
        let mut o = c.order;
        o.outbox.clear();
        o
    }

    #[test]
    fn a_claim_is_announced_once_and_moves_forward_only() {
        let s = snap(vec![item("I1", "401", "Created")], 2_000);
        let c = apply_claim(&order(), &s, &policy());
        assert!(c.changed && c.moves.is_empty());
        assert!(
            matches!(&c.order.outbox[..], [OrderEvent::ClaimCreated { event_id, .. }] if event_id == "trendyol:TY-9:claim:C1:created")
        );
        let stored = settle(c);
        assert!(!apply_claim(&stored, &s, &policy()).changed);
        let waiting = snap(vec![item("I1", "401", "WaitingInAction")], 3_000);
        let c = apply_claim(&stored, &waiting, &policy());
        assert!(
            matches!(&c.order.outbox[..], [OrderEvent::ClaimStatusChanged { status, previous_status: Some(p), .. }] if status == "waiting_in_action" && p == "created")
        );
        let stored = settle(c);
        // A stale report (an older page) changes nothing.
        assert!(!apply_claim(&stored, &s, &policy()).changed);
    }

    #[test]
    fn only_accepted_sellable_items_give_one_unit_back_once() {
        let s = snap(
            vec![
                item("I1", "401", "WaitingInAction"),
                item("I2", "301", "WaitingInAction"),
            ],
            2_000,
        );
        let stored = settle(apply_claim(&order(), &s, &policy()));
        let accepted = snap(
            vec![item("I1", "401", "Accepted"), item("I2", "301", "Accepted")],
            3_000,
        );
        let c = apply_claim(&stored, &accepted, &policy());
        assert_eq!(c.moves.len(), 1);
        assert_eq!((c.moves[0].sku.as_str(), c.moves[0].change), ("SKU-A", 1));
        let claim = &c.order.claims["C1"];
        assert_eq!(claim.items["I1"].restock, Restock::Returned);
        assert_eq!(claim.items["I2"].restock, Restock::NotSellable);
        assert!(c
            .order
            .outbox
            .iter()
            .any(|e| e.event_id() == "trendyol:TY-9:claim:C1:stock:I1:restocked"));
        let stored = settle(c);
        let again = apply_claim(&stored, &accepted, &policy());
        assert!(!again.changed && again.moves.is_empty());
        // The product is not ours: nothing moves, the item says so.
        let fresh = settle(apply_claim(&order(), &s, &policy()));
        let c = untrack_restock(apply_claim(&fresh, &accepted, &policy()), "SKU-A");
        assert!(c.moves.is_empty());
        assert_eq!(c.order.claims["C1"].items["I1"].restock, Restock::Untracked);
        assert!(!c
            .order
            .outbox
            .iter()
            .any(|e| e.event_id().ends_with(":restocked")));
    }

    #[test]
    fn a_line_whose_stock_is_not_taken_gives_nothing_back() {
        let s = snap(vec![item("I1", "401", "WaitingInAction")], 2_000);
        let accepted = snap(vec![item("I1", "401", "Accepted")], 3_000);
        assert_eq!(order().lines["L1"].stock, LineStock::Taken);
        for stock in [
            LineStock::NotTaken,
            LineStock::Oversold,
            LineStock::Untracked,
        ] {
            let mut held_none = order();
            held_none.lines.get_mut("L1").unwrap().stock = stock;
            let stored = settle(apply_claim(&held_none, &s, &policy()));
            let c = apply_claim(&stored, &accepted, &policy());
            assert!(c.changed && c.moves.is_empty(), "{stock:?}");
            assert_eq!(c.order.claims["C1"].items["I1"].restock, Restock::NotHeld);
        }
    }

    #[test]
    fn rejected_then_accepted_still_restocks_and_unknown_words_move_nothing() {
        let s = snap(vec![item("I1", "401", "Rejected")], 2_000);
        let stored = settle(apply_claim(&order(), &s, &policy()));
        assert_eq!(stored.claims["C1"].items["I1"].restock, Restock::Pending);
        let odd = snap(vec![item("I1", "401", "SomethingNew")], 2_500);
        assert!(!apply_claim(&stored, &odd, &policy()).changed);
        let c = apply_claim(
            &stored,
            &snap(vec![item("I1", "401", "Accepted")], 3_000),
            &policy(),
        );
        assert_eq!(c.moves.len(), 1);
    }

    fn hb_order() -> MarketplaceOrder {
        let snap = OrderSnapshot {
            marketplace: Marketplace::Hepsiburada,
            order_number: "4001".into(),
            package_id: None,
            marketplace_status: "Open".into(),
            lines: vec![LineSnapshot {
                line_id: "L-9".into(),
                sku: Some("SKU-H".into()),
                quantity: 3,
                marketplace_status: None,
            }],
            occurred_ms: 1_000,
            details: None,
        };
        let mut o = apply_snapshot(None, &snap).order;
        o.outbox.clear();
        o
    }

    fn hb_claim(status: &str, reason: &str, at: i64) -> ClaimSnapshot {
        ClaimSnapshot {
            marketplace: Marketplace::Hepsiburada,
            claim_id: "356189794".into(),
            order_number: "4001".into(),
            claimed_ms: 2_000,
            occurred_ms: at,
            items: vec![ClaimItemSnapshot {
                item_id: "356189794".into(),
                order_line_id: Some("L-9".into()),
                sku: Some("SKU-H".into()),
                reason_code: Some(reason.into()),
                reason: None,
                marketplace_status: status.into(),
                quantity: 2,
            }],
        }
    }

    #[test]
    fn the_setting_names_reasons_for_every_marketplace_or_for_one() {
        let p = ClaimPolicy::parse("401, hepsiburada:FoundCheaper,trendyol:501").unwrap();
        assert!(p.sellable(Marketplace::Trendyol, Some("401")));
        assert!(p.sellable(Marketplace::Hepsiburada, Some("401")));
        assert!(p.sellable(Marketplace::Hepsiburada, Some("FoundCheaper")));
        assert!(!p.sellable(Marketplace::Trendyol, Some("FoundCheaper")));
        assert!(p.sellable(Marketplace::Trendyol, Some("501")));
        assert!(!p.sellable(Marketplace::Hepsiburada, Some("501")));
        assert!(!p.sellable(Marketplace::Trendyol, None));
        assert_eq!(ClaimPolicy::parse("none").unwrap(), ClaimPolicy::default());
        for bad in [
            "",
            "401,,501",
            "amazon:401",
            "hepsiburada:",
            "4 01",
            "trendyol:a-b",
        ] {
            assert!(ClaimPolicy::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hepsiburada_statuses_move_forward_and_a_refund_counts_as_accepted() {
        let hb = |s| claim_status(Marketplace::Hepsiburada, s);
        let order = [
            "NewRequest",
            "AwaitingAction",
            "InDispute",
            "Rejected",
            "Accepted",
            "Refunded",
        ];
        for pair in order.windows(2) {
            assert!(hb(pair[0]).rank < hb(pair[1]).rank, "{pair:?}");
        }
        assert_eq!(hb("AwaitingAction").word, AWAITING_SELLER);
        assert_eq!(
            claim_status(Marketplace::Trendyol, "WaitingInAction").word,
            AWAITING_SELLER
        );
        assert!(hb("Accepted").accepted && hb("Refunded").accepted && !hb("Rejected").accepted);
        // Trendyol's words are not Hepsiburada's.
        assert_eq!(hb("WaitingInAction").rank, 0);
        assert_eq!(claim_status(Marketplace::Trendyol, "Refunded").rank, 0);
    }

    #[test]
    fn a_hepsiburada_claim_gives_its_quantity_back_once_even_first_seen_refunded() {
        let policy = ClaimPolicy::parse("hepsiburada:FoundCheaper").unwrap();
        let waiting = settle(apply_claim(
            &hb_order(),
            &hb_claim("AwaitingAction", "FoundCheaper", 2_000),
            &policy,
        ));
        let c = apply_claim(
            &waiting,
            &hb_claim("Accepted", "FoundCheaper", 3_000),
            &policy,
        );
        assert_eq!(c.moves.len(), 1);
        assert_eq!((c.moves[0].sku.as_str(), c.moves[0].change), ("SKU-H", 2));
        let stored = settle(c);
        let refunded = apply_claim(
            &stored,
            &hb_claim("Refunded", "FoundCheaper", 4_000),
            &policy,
        );
        assert!(refunded.changed && refunded.moves.is_empty());
        assert_eq!(
            refunded.order.claims["356189794"].items["356189794"].restock,
            Restock::Returned
        );
        // First seen refunded: the units come back then.
        let c = apply_claim(
            &hb_order(),
            &hb_claim("Refunded", "FoundCheaper", 4_000),
            &policy,
        );
        assert_eq!(c.moves[0].change, 2);
        // A claim of more units than the line sold gives back the line's.
        let mut greedy = hb_claim("Accepted", "FoundCheaper", 4_000);
        greedy.items[0].quantity = 7;
        assert_eq!(
            apply_claim(&hb_order(), &greedy, &policy).moves[0].change,
            3
        );
        // A reason not named for Hepsiburada: nothing.
        let c = apply_claim(
            &hb_order(),
            &hb_claim("Accepted", "WrongProduct", 4_000),
            &policy,
        );
        assert!(c.moves.is_empty());
        assert_eq!(
            c.order.claims["356189794"].items["356189794"].restock,
            Restock::NotSellable
        );
        // Items stored before quantities were kept read as one unit.
        let old: ClaimItem = serde_json::from_value(serde_json::json!({
            "status": "created", "marketplace_status": "Created", "rank": 1, "restock": "pending"
        }))
        .unwrap();
        assert_eq!(old.quantity, 1);
    }
}
