//! The one way a marketplace claim (return) gets in, whoever reports it
//! (order-poll's claim feeds; a seller action's read-back): decide
//! (`domain::marketplace_claim`), write the claim on its order with the
//! units it gives back as the order's one conditional transaction, publish
//! the events it put on the order's outbox (the order intake's publisher and
//! outbox sweep, so a crash between write and publish loses nothing).

use crate::clock::now_rfc3339;
use crate::domain::event::{ClaimItemDetail, EventDetail, MarketplaceClaimDetail};
use crate::domain::marketplace_claim::{
    apply_claim, untrack_restock, Claim, ClaimPolicy, ClaimSnapshot, Restock,
};
use crate::domain::marketplace_order::MarketplaceOrder;
use crate::error::{Error, Result};
use crate::intake::marketplace_orders::OrderIntake;
use crate::ports::{EventPublisher, MarketplaceOrderStore, OrderSave};

/// What taking in a claim snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimIntake {
    Created,
    Changed,
    Unchanged,
    /// The claim names an order we do not hold: nothing stored (reported
    /// by the caller as `integration.error`).
    UnknownOrder,
}

const MAX_ATTEMPTS: usize = 8;

pub struct ClaimIntakeRun<'a, S, P> {
    store: &'a S,
    publisher: &'a P,
    policy: &'a ClaimPolicy,
}

impl<'a, S, P> ClaimIntakeRun<'a, S, P>
where
    S: MarketplaceOrderStore,
    P: EventPublisher,
{
    pub fn new(store: &'a S, publisher: &'a P, policy: &'a ClaimPolicy) -> Self {
        ClaimIntakeRun {
            store,
            publisher,
            policy,
        }
    }

    pub async fn take(&self, snap: &ClaimSnapshot) -> Result<ClaimIntake> {
        let orders = OrderIntake::new(self.store, self.publisher);
        for _ in 0..MAX_ATTEMPTS {
            let Some((order, version)) = self
                .store
                .load_marketplace_order(snap.marketplace, &snap.order_number)
                .await?
            else {
                return Ok(ClaimIntake::UnknownOrder);
            };
            let is_new = !order.claims.contains_key(&snap.claim_id);
            let mut change = apply_claim(&order, snap, self.policy);
            if !change.changed {
                // Events a crashed predecessor wrote but did not publish.
                orders.flush(snap.marketplace, &snap.order_number).await?;
                return Ok(ClaimIntake::Unchanged);
            }
            let saved = loop {
                match self
                    .store
                    .save_marketplace_order(&change, Some(version), &now_rfc3339())
                    .await?
                {
                    OrderSave::Saved { .. } => break true,
                    OrderSave::Conflict => break false,
                    OrderSave::Refused { sku, refusal } => {
                        // A give-back is refused only for a product we do
                        // not have.
                        tracing::warn!(claim_id = %snap.claim_id, sku = %sku, ?refusal, "a claim's unit has no product to go back to");
                        if !change.moves.iter().any(|m| m.sku == sku) {
                            return Err(Error::Store(format!(
                                "claim {}: a product refused a move the claim did not make ({sku})",
                                snap.claim_id
                            )));
                        }
                        change = untrack_restock(change, &sku);
                    }
                }
            };
            if !saved {
                tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(5..50))).await;
                continue;
            }
            orders.flush(snap.marketplace, &snap.order_number).await?;
            return Ok(if is_new {
                ClaimIntake::Created
            } else {
                ClaimIntake::Changed
            });
        }
        Err(Error::Store(format!(
            "the order of claim {} kept changing; gave up after {MAX_ATTEMPTS} attempts",
            snap.claim_id
        )))
    }
}

fn restock_word(r: Restock) -> &'static str {
    match r {
        Restock::Pending => "pending",
        Restock::Returned => "returned",
        Restock::NotSellable => "not_sellable",
        Restock::Untracked => "untracked",
        Restock::NotHeld => "not_held",
    }
}

/// A stored claim's items as events and the order's view show them
/// (`changed`: only that item, with its status before).
pub fn claim_items(
    claim: &Claim,
    changed: Option<(&String, Option<String>)>,
) -> Vec<ClaimItemDetail> {
    claim
        .items
        .iter()
        .filter(|(id, _)| changed.as_ref().is_none_or(|(item, _)| *item == *id))
        .map(|(id, i)| ClaimItemDetail {
            item_id: id.clone(),
            order_line_id: i.order_line_id.clone(),
            sku: i.sku.clone(),
            reason_code: i.reason_code.clone(),
            reason: i.reason.clone(),
            status: i.status.clone(),
            marketplace_status: i.marketplace_status.clone(),
            previous_status: changed.as_ref().and_then(|(_, p)| p.clone()),
            quantity: i.quantity,
            restock: restock_word(i.restock).to_string(),
        })
        .collect()
}

/// The detail of `marketplace.claim.created` (every item: `changed` None)
/// or `.status_changed` (the item that moved and its status before).
pub fn claim_detail(
    order: &MarketplaceOrder,
    claim_id: &str,
    changed: Option<(&String, Option<String>)>,
) -> EventDetail {
    let items = order
        .claims
        .get(claim_id)
        .map(|c| claim_items(c, changed))
        .unwrap_or_default();
    EventDetail::MarketplaceClaim(MarketplaceClaimDetail {
        marketplace: order.marketplace.as_str().to_string(),
        order_number: order.order_number.clone(),
        claim_id: claim_id.to_string(),
        items,
    })
}
