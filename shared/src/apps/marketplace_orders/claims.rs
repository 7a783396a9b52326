//! Seller actions on a marketplace claim (return), served by the
//! marketplace-orders function:
//! `POST /marketplace-orders/trendyol/{orderNumber}/claims/{claimId}/approve`
//! `{"items": [claim item id, …]}` (absent: every item of the claim).
//!
//! Idempotent by asking Trendyol, like the package status action: the claim
//! is read first (every item already accepted: nothing is sent, `already`),
//! an item Trendyol holds in another status than `WaitingInAction` is 409
//! with that status (nothing sent), and after a refusal the claim is read
//! again (accepted: our call arrived and its answer was lost, `done`). Then
//! the claim as Trendyol has it is taken in through the claim intake
//! (`marketplace.claim.status_changed`, sellable units back to stock once),
//! and the action is recorded on the order (`sellerActions`).

use serde::Deserialize;

use super::{marketplace_claim_not_found, App, OrderView};
use crate::api::parse_json;
use crate::clock::now_ms;
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_claim::{claim_status, ClaimSnapshot};
use crate::domain::marketplace_order::SellerAction;
use crate::error::{Error, FieldError, Result};
use crate::intake::marketplace_claims::ClaimIntakeRun;
use crate::ports::{
    EventPublisher, MarketplaceOrderList, MarketplaceOrderStore, MarketplacePersonalDataReader,
};
use crate::providers::marketplace::orders::OrderClient;
use crate::providers::marketplace::trendyol::orders::claims::check_claim_id;
use crate::providers::marketplace::trendyol::orders::TrendyolOrders;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    #[serde(default)]
    items: Option<Vec<String>>,
}

const ACCEPTED: &str = "accepted";

fn accepted(snap: &ClaimSnapshot, item: &str) -> bool {
    snap.items
        .iter()
        .any(|i| i.item_id == item && claim_status(&i.marketplace_status).word == ACCEPTED)
}

impl<S, P> App<S, P>
where
    S: MarketplaceOrderStore + MarketplaceOrderList + MarketplacePersonalDataReader,
    P: EventPublisher,
{
    /// Approves claim items at Trendyol (module docs); answers the order.
    pub async fn approve_claim(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        claim_id: &str,
        body: &[u8],
    ) -> Result<OrderView> {
        let body: ApproveBody = if body.iter().all(u8::is_ascii_whitespace) {
            ApproveBody::default()
        } else {
            parse_json(body)?
        };
        let client = match (marketplace, self.sources.get(marketplace)) {
            (Marketplace::Trendyol, Some(OrderClient::Trendyol(c))) => c,
            (Marketplace::Trendyol, _) => {
                return Err(Error::Config("Trendyol is not configured here".into()))
            }
            // Hepsiburada's claims are not built yet (README § Returns).
            (m, _) => {
                return Err(Error::NotFound {
                    what: "claim action",
                    id: m.as_str().to_string(),
                })
            }
        };
        if check_claim_id(claim_id).is_err() {
            return Err(marketplace_claim_not_found(claim_id));
        }
        let Some((order, _)) = self
            .store
            .load_marketplace_order(marketplace, order_number)
            .await?
        else {
            return Err(Error::NotFound {
                what: "marketplace order",
                id: order_number.chars().take(64).collect(),
            });
        };
        let Some(claim) = order.claims.get(claim_id) else {
            return Err(marketplace_claim_not_found(claim_id));
        };
        let items: Vec<String> = match body.items {
            Some(items) => {
                let mut problems = Vec::new();
                if items.is_empty() {
                    problems.push(FieldError::new("items", "at least one claim item id"));
                }
                for (i, id) in items.iter().enumerate() {
                    if !claim.items.contains_key(id) {
                        problems.push(FieldError::new(
                            format!("items[{i}]"),
                            format!("not an item of claim {claim_id}"),
                        ));
                    }
                }
                if !problems.is_empty() {
                    return Err(Error::Validation(problems));
                }
                items
            }
            None => claim.items.keys().cloned().collect(),
        };
        let current = self.read_claim(client, claim_id).await?;
        let pending: Vec<String> = items
            .iter()
            .filter(|i| !accepted(&current, i))
            .cloned()
            .collect();
        let mut outcome = ("already", None);
        if !pending.is_empty() {
            // Trendyol's state forbids it: say which item stands where,
            // send nothing.
            let blocked: Vec<String> = current
                .items
                .iter()
                .filter(|i| pending.contains(&i.item_id))
                .filter(|i| !i.marketplace_status.eq_ignore_ascii_case("WaitingInAction"))
                .map(|i| format!("{} is {}", i.item_id, i.marketplace_status))
                .collect();
            let refused = if !blocked.is_empty() {
                Some(format!(
                    "only WaitingInAction claim items can be approved: {}",
                    blocked.join(", ")
                ))
            } else {
                match client.approve_claim_items(claim_id, &pending).await? {
                    Ok(()) => None,
                    Err(refusal) => {
                        let now = self.read_claim(client, claim_id).await?;
                        (!pending.iter().all(|i| accepted(&now, i)))
                            .then(|| format!("{} (HTTP {})", refusal.message, refusal.status))
                    }
                }
            };
            if let Some(message) = refused {
                self.actions()
                    .record_action(
                        marketplace,
                        order_number,
                        claim_action(claim_id, "refused", Some(message.clone())),
                    )
                    .await?;
                tracing::warn!(claim_id, "Trendyol refused a claim approval");
                return Err(Error::Conflict {
                    code: "marketplace_refused",
                    message: format!("Trendyol refused to approve claim {claim_id}: {message}"),
                });
            }
            outcome = ("done", None);
        }
        // What Trendyol now says, taken in like the poll.
        let after = self.read_claim(client, claim_id).await?;
        ClaimIntakeRun::new(&self.store, &self.publisher, &self.claim_policy)
            .take(&after)
            .await?;
        self.actions()
            .record_action(
                marketplace,
                order_number,
                claim_action(claim_id, outcome.0, outcome.1),
            )
            .await?;
        self.order(marketplace, order_number).await
    }

    async fn read_claim(&self, client: &TrendyolOrders, claim_id: &str) -> Result<ClaimSnapshot> {
        client
            .claim(claim_id)
            .await?
            .ok_or_else(|| marketplace_claim_not_found(claim_id))
    }
}

fn claim_action(claim_id: &str, outcome: &str, message: Option<String>) -> SellerAction {
    SellerAction {
        at_ms: now_ms(),
        action: format!("claim_approve:{claim_id}"),
        package_id: None,
        outcome: outcome.to_string(),
        detail: None,
        message,
    }
}
