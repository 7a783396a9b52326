//! Seller actions on a marketplace claim (return), served by the
//! marketplace-orders function:
//! `POST /marketplace-orders/trendyol/{orderNumber}/claims/{claimId}/approve`
//! `{"items": [claim item id, …]}` (absent: every item of the claim), and
//! `POST /marketplace-orders/trendyol/{orderNumber}/claims/{claimId}/reject`
//! `{"reasonId": n, "description": "…", "items"?: […]}` (Trendyol's
//! createClaimIssue, a reason id of its claim-issue-reasons and 1–500
//! characters; a rejected item gives no stock back). Both the same way:
//!
//! Idempotent by asking Trendyol, like the package status action: the claim
//! is read first (every item already accepted, or rejected: nothing is
//! sent, `already`),
//! an item Trendyol holds in another status than `WaitingInAction` is 409
//! with that status (nothing sent), and after a refusal the claim is read
//! again (accepted, or rejected: our call arrived and its answer was lost,
//! `done`). The description is never logged nor recorded. Then
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
use crate::providers::marketplace::trendyol::orders::claims::{
    check_claim_id, MAX_REJECT_DESCRIPTION,
};
use crate::providers::marketplace::trendyol::orders::TrendyolOrders;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    #[serde(default)]
    items: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RejectBody {
    #[serde(default)]
    reason_id: Option<serde_json::Value>,
    #[serde(default)]
    description: Option<serde_json::Value>,
    #[serde(default)]
    items: Option<Vec<String>>,
}

/// What the seller decides on claim items.
enum Decision {
    Approve,
    Reject { reason_id: u64, description: String },
}

impl Decision {
    /// The claim item status word (`claim_status`) the decision leads to.
    fn target(&self) -> &'static str {
        match self {
            Decision::Approve => "accepted",
            Decision::Reject { .. } => "rejected",
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject { .. } => "reject",
        }
    }
}

/// The reject body checked: reason id, description and the items (`None`:
/// all), every bad field named.
fn reject_body(body: RejectBody) -> Result<(Decision, Option<Vec<String>>)> {
    let mut problems = Vec::new();
    let reason_id = match body.reason_id.as_ref().and_then(serde_json::Value::as_u64) {
        Some(n) if n > 0 => n,
        _ => {
            problems.push(FieldError::new(
                "reasonId",
                "a positive integer: a Trendyol claim issue reason id",
            ));
            0
        }
    };
    let description = match body.description {
        Some(serde_json::Value::String(d))
            if !d.trim().is_empty() && d.chars().count() <= MAX_REJECT_DESCRIPTION =>
        {
            d
        }
        _ => {
            problems.push(FieldError::new(
                "description",
                format!("text of 1 to {MAX_REJECT_DESCRIPTION} characters"),
            ));
            String::new()
        }
    };
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }
    Ok((
        Decision::Reject {
            reason_id,
            description,
        },
        body.items,
    ))
}

fn in_status(snap: &ClaimSnapshot, item: &str, word: &str) -> bool {
    snap.items
        .iter()
        .any(|i| i.item_id == item && claim_status(&i.marketplace_status).word == word)
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
        self.decide_claim(
            marketplace,
            order_number,
            claim_id,
            Decision::Approve,
            body.items,
        )
        .await
    }

    /// Rejects claim items at Trendyol with a reason (module docs); answers
    /// the order.
    pub async fn reject_claim(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        claim_id: &str,
        body: &[u8],
    ) -> Result<OrderView> {
        let body: RejectBody = if body.iter().all(u8::is_ascii_whitespace) {
            RejectBody::default()
        } else {
            parse_json(body)?
        };
        let (decision, items) = reject_body(body)?;
        self.decide_claim(marketplace, order_number, claim_id, decision, items)
            .await
    }

    async fn decide_claim(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        claim_id: &str,
        decision: Decision,
        items: Option<Vec<String>>,
    ) -> Result<OrderView> {
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
        let items: Vec<String> = match items {
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
        let target = decision.target();
        let verb = decision.verb();
        let current = self.read_claim(client, claim_id).await?;
        let pending: Vec<String> = items
            .iter()
            .filter(|i| !in_status(&current, i, target))
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
                    "only WaitingInAction claim items can be {verb}d: {}",
                    blocked.join(", ")
                ))
            } else {
                let sent = match &decision {
                    Decision::Approve => client.approve_claim_items(claim_id, &pending).await?,
                    Decision::Reject {
                        reason_id,
                        description,
                    } => {
                        client
                            .reject_claim_items(claim_id, &pending, *reason_id, description)
                            .await?
                    }
                };
                match sent {
                    Ok(()) => None,
                    Err(refusal) => {
                        let now = self.read_claim(client, claim_id).await?;
                        (!pending.iter().all(|i| in_status(&now, i, target)))
                            .then(|| format!("{} (HTTP {})", refusal.message, refusal.status))
                    }
                }
            };
            if let Some(message) = refused {
                self.actions()
                    .record_action(
                        marketplace,
                        order_number,
                        claim_action(verb, claim_id, "refused", Some(message.clone())),
                    )
                    .await?;
                tracing::warn!(claim_id, verb, "Trendyol refused a claim decision");
                return Err(Error::Conflict {
                    code: "marketplace_refused",
                    message: format!("Trendyol refused to {verb} claim {claim_id}: {message}"),
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
                claim_action(verb, claim_id, outcome.0, outcome.1),
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

fn claim_action(
    verb: &str,
    claim_id: &str,
    outcome: &str,
    message: Option<String>,
) -> SellerAction {
    SellerAction {
        at_ms: now_ms(),
        action: format!("claim_{verb}:{claim_id}"),
        package_id: None,
        outcome: outcome.to_string(),
        detail: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: serde_json::Value) -> Result<(Decision, Option<Vec<String>>)> {
        reject_body(serde_json::from_value(body).unwrap())
    }

    fn bad_fields(body: serde_json::Value) -> Vec<String> {
        match check(body) {
            Err(Error::Validation(p)) => p.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn a_rejection_needs_a_positive_reason_id_and_a_description_of_1_to_500_characters() {
        let (d, items) =
            check(serde_json::json!({"reasonId": 3, "description": "Kullanılmış"})).unwrap();
        assert!(items.is_none());
        match d {
            Decision::Reject {
                reason_id,
                description,
            } => assert_eq!((reason_id, description.as_str()), (3, "Kullanılmış")),
            Decision::Approve => panic!("a rejection"),
        }
        let ok = "ş".repeat(500);
        assert!(
            check(serde_json::json!({"reasonId": 1, "description": ok, "items": ["a"]})).is_ok()
        );
        assert_eq!(
            bad_fields(serde_json::json!({})),
            ["reasonId", "description"]
        );
        for reason in [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!("3"),
            serde_json::json!(1.5),
        ] {
            assert_eq!(
                bad_fields(serde_json::json!({"reasonId": reason, "description": "x"})),
                ["reasonId"]
            );
        }
        for description in [
            serde_json::json!(""),
            serde_json::json!("  "),
            serde_json::json!(5),
            serde_json::json!("x".repeat(501)),
        ] {
            assert_eq!(
                bad_fields(serde_json::json!({"reasonId": 2, "description": description})),
                ["description"]
            );
        }
        assert!(
            serde_json::from_value::<RejectBody>(serde_json::json!({"reasonId": 1, "x": 1}))
                .is_err()
        );
    }
}
