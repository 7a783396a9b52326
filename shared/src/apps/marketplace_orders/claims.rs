//! Seller actions on a marketplace claim (return), served by the
//! marketplace-orders function, the same for both marketplaces:
//! `POST /marketplace-orders/{marketplace}/{orderNumber}/claims/{claimId}/approve`
//! `{"items": [claim item id, …]}` (absent: every item of the claim), and
//! `POST /marketplace-orders/{marketplace}/{orderNumber}/claims/{claimId}/reject`
//! with the marketplace's reason and a description of 1–500 characters
//! (`"items"?` as for approve; a rejected item gives no stock back):
//! - Trendyol: `{"reasonId": n, "description": "…"}`, createClaimIssue with
//!   a reason id of its claim-issue-reasons (T14);
//! - Hepsiburada: `{"reasonCode": "WrongProduct", "description": "…"}`,
//!   its `ClaimRejectionReason` and `MerchantStatement` (H16). A
//!   Hepsiburada claim has one item, named by the claim number.
//!
//! Idempotent by asking the marketplace, like the package status action:
//! the claim is read first (every item already accepted, or rejected:
//! nothing is sent, `already`), an item the marketplace holds in another
//! status than awaiting the seller (Trendyol `WaitingInAction`, Hepsiburada
//! `AwaitingAction`) is 409 with that status (nothing sent), and after a
//! refusal the claim is read again (accepted, or rejected: our call arrived
//! and its answer was lost, `done`). The description is never logged nor
//! recorded. Then the claim as the marketplace has it is taken in through
//! the claim intake (`marketplace.claim.status_changed`, sellable units
//! back to stock once), and the action is recorded on the order
//! (`sellerActions`).
//!
//! A Trendyol `reasonId` that is not one of its claim issue reasons (read
//! once an hour per instance, also served as
//! `GET /marketplace-orders/trendyol/claim-issue-reasons`) is 400 before
//! anything is sent.
//!
//! Also the claims of the order's GET view ([`claim_views`]): items,
//! statuses, reasons, quantities and whether stock came back; nothing of
//! the buyer.

use serde::{Deserialize, Serialize};

use super::{marketplace_claim_not_found, App, OrderView};
use crate::api::parse_json;
use crate::clock::now_ms;
use crate::domain::delivery::unix_ms_to_rfc3339;
use crate::domain::event::ClaimItemDetail;
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_claim::{
    claim_status, Claim, ClaimSnapshot, ClaimStatus, AWAITING_SELLER,
};
use crate::domain::marketplace_order::SellerAction;
use crate::error::{Error, FieldError, Result};
use crate::intake::marketplace_claims::{claim_items, ClaimIntakeRun};
use crate::ports::{
    EventPublisher, MarketplaceOrderList, MarketplaceOrderStore, MarketplacePersonalDataReader,
};
use crate::providers::marketplace::hepsiburada::orders::claims::{
    check_claim_number, check_reject_reason,
};
use crate::providers::marketplace::hepsiburada::orders::HepsiburadaOrders;
use crate::providers::marketplace::http::Refusal;
use crate::providers::marketplace::orders::OrderClient;
use crate::providers::marketplace::trendyol::orders::claims::{
    check_claim_id, ClaimIssueReason, MAX_REJECT_DESCRIPTION,
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
    reason_code: Option<serde_json::Value>,
    #[serde(default)]
    description: Option<serde_json::Value>,
    #[serde(default)]
    items: Option<Vec<String>>,
}

/// A rejection's reason: Trendyol's claim issue reason id, Hepsiburada's
/// rejection reason word.
#[derive(Debug, PartialEq, Eq)]
enum RejectReason {
    Id(u64),
    Code(String),
}

/// What the seller decides on claim items.
enum Decision {
    Approve,
    Reject {
        reason: RejectReason,
        description: String,
    },
}

impl Decision {
    /// Whether an item in `status` shows the decision made: accepted (or
    /// refunded after it); rejected, or disputed after a rejection
    /// (Hepsiburada).
    fn reached(&self, status: ClaimStatus) -> bool {
        match self {
            Decision::Approve => status.accepted,
            Decision::Reject { .. } => matches!(status.word, "rejected" | "in_dispute"),
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject { .. } => "reject",
        }
    }
}

/// The reject body checked for `marketplace`: its reason, the description
/// and the items (`None`: all), every bad field named.
fn reject_body(
    marketplace: Marketplace,
    body: RejectBody,
) -> Result<(Decision, Option<Vec<String>>)> {
    let mut problems = Vec::new();
    let reason = match marketplace {
        Marketplace::Trendyol => {
            if body.reason_code.is_some() {
                problems.push(FieldError::new(
                    "reasonCode",
                    "Hepsiburada only; Trendyol takes reasonId",
                ));
            }
            match body.reason_id.as_ref().and_then(serde_json::Value::as_u64) {
                Some(n) if n > 0 => RejectReason::Id(n),
                _ => {
                    problems.push(FieldError::new(
                        "reasonId",
                        "a positive integer: a Trendyol claim issue reason id",
                    ));
                    RejectReason::Id(0)
                }
            }
        }
        Marketplace::Hepsiburada => {
            if body.reason_id.is_some() {
                problems.push(FieldError::new(
                    "reasonId",
                    "Trendyol only; Hepsiburada takes reasonCode",
                ));
            }
            match body.reason_code {
                Some(serde_json::Value::String(c)) if check_reject_reason(&c).is_ok() => {
                    RejectReason::Code(c)
                }
                _ => {
                    problems.push(FieldError::new(
                        "reasonCode",
                        "a Hepsiburada claim rejection reason (letters and digits, e.g. WrongProduct)",
                    ));
                    RejectReason::Code(String::new())
                }
            }
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
            reason,
            description,
        },
        body.items,
    ))
}

/// The marketplace client a claim action goes through.
enum ClaimClient<'a> {
    Trendyol(&'a TrendyolOrders),
    Hepsiburada(&'a HepsiburadaOrders),
}

impl ClaimClient<'_> {
    fn name(&self) -> &'static str {
        match self {
            ClaimClient::Trendyol(_) => "Trendyol",
            ClaimClient::Hepsiburada(_) => "Hepsiburada",
        }
    }

    /// The marketplace's word for an item awaiting the seller.
    fn awaiting_word(&self) -> &'static str {
        match self {
            ClaimClient::Trendyol(_) => "WaitingInAction",
            ClaimClient::Hepsiburada(_) => "AwaitingAction",
        }
    }

    fn check_id(&self, claim_id: &str) -> Result<()> {
        match self {
            ClaimClient::Trendyol(_) => check_claim_id(claim_id),
            ClaimClient::Hepsiburada(_) => check_claim_number(claim_id),
        }
    }

    /// The claim as the marketplace has it now (`stored`: ours, for
    /// Hepsiburada's claim date); 404 when it lists none.
    async fn read(&self, claim_id: &str, stored: &Claim) -> Result<ClaimSnapshot> {
        match self {
            ClaimClient::Trendyol(c) => c.claim(claim_id).await?,
            ClaimClient::Hepsiburada(c) => c.claim(claim_id, stored.claimed_ms).await?,
        }
        .ok_or_else(|| marketplace_claim_not_found(claim_id))
    }

    /// Refuses a Trendyol reason id that is not one of its claim issue
    /// reasons (read once an hour per instance) before anything is sent.
    async fn check_reason(&self, decision: &Decision) -> Result<()> {
        let (
            ClaimClient::Trendyol(c),
            Decision::Reject {
                reason: RejectReason::Id(id),
                ..
            },
        ) = (self, decision)
        else {
            return Ok(());
        };
        let reasons = c.claim_issue_reasons().await?;
        if reasons.iter().any(|r| r.id == *id) {
            return Ok(());
        }
        let known: Vec<String> = reasons.iter().map(|r| r.id.to_string()).collect();
        Err(Error::validation(
            "reasonId",
            format!(
                "not one of Trendyol's claim issue reasons ({}; GET /marketplace-orders/trendyol/claim-issue-reasons)",
                known.join(", ")
            ),
        ))
    }

    /// Sends the decision for `items` (Hepsiburada: the claim, its one item).
    async fn send(
        &self,
        claim_id: &str,
        items: &[String],
        decision: &Decision,
    ) -> Result<std::result::Result<(), Refusal>> {
        match (self, decision) {
            (ClaimClient::Trendyol(c), Decision::Approve) => {
                c.approve_claim_items(claim_id, items).await
            }
            (
                ClaimClient::Trendyol(c),
                Decision::Reject {
                    reason: RejectReason::Id(id),
                    description,
                },
            ) => {
                c.reject_claim_items(claim_id, items, *id, description)
                    .await
            }
            (ClaimClient::Hepsiburada(c), Decision::Approve) => c.accept_claim(claim_id).await,
            (
                ClaimClient::Hepsiburada(c),
                Decision::Reject {
                    reason: RejectReason::Code(code),
                    description,
                },
            ) => c.reject_claim(claim_id, code, description).await,
            // reject_body gives each marketplace its own kind of reason.
            (_, Decision::Reject { .. }) => Err(Error::Config(format!(
                "a {} rejection with another marketplace's reason",
                self.name()
            ))),
        }
    }
}

fn reached(snap: &ClaimSnapshot, item: &str, decision: &Decision) -> bool {
    snap.items.iter().any(|i| {
        i.item_id == item && decision.reached(claim_status(snap.marketplace, &i.marketplace_status))
    })
}

impl<S, P> App<S, P>
where
    S: MarketplaceOrderStore + MarketplaceOrderList + MarketplacePersonalDataReader,
    P: EventPublisher,
{
    /// Approves claim items at the marketplace (module docs); answers the
    /// order.
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

    /// Rejects claim items at the marketplace with a reason (module docs);
    /// answers the order.
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
        let (decision, items) = reject_body(marketplace, body)?;
        self.decide_claim(marketplace, order_number, claim_id, decision, items)
            .await
    }

    /// `GET /marketplace-orders/trendyol/claim-issue-reasons`: the reasons a
    /// Trendyol rejection may name, for the platform's menu (Hepsiburada
    /// publishes no such list: 404).
    pub async fn claim_issue_reasons(&self, marketplace: Marketplace) -> Result<IssueReasonsView> {
        match (marketplace, self.sources.get(marketplace)) {
            (Marketplace::Trendyol, Some(OrderClient::Trendyol(c))) => Ok(IssueReasonsView {
                marketplace: marketplace.as_str(),
                reasons: c.claim_issue_reasons().await?.to_vec(),
            }),
            (Marketplace::Trendyol, _) => {
                Err(Error::Config("Trendyol is not configured here".into()))
            }
            (m, _) => Err(Error::NotFound {
                what: "claim issue reasons of this marketplace",
                id: m.as_str().to_string(),
            }),
        }
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
            (Marketplace::Trendyol, Some(OrderClient::Trendyol(c))) => ClaimClient::Trendyol(c),
            (Marketplace::Hepsiburada, Some(OrderClient::Hepsiburada(c))) => {
                ClaimClient::Hepsiburada(c)
            }
            (m, _) => {
                return Err(Error::Config(format!(
                    "{} is not configured here",
                    m.as_str()
                )))
            }
        };
        if client.check_id(claim_id).is_err() {
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
        client.check_reason(&decision).await?;
        let verb = decision.verb();
        let current = client.read(claim_id, claim).await?;
        let pending: Vec<String> = items
            .iter()
            .filter(|i| !reached(&current, i, &decision))
            .cloned()
            .collect();
        let mut outcome = ("already", None);
        if !pending.is_empty() {
            // The marketplace's state forbids it: say which item stands
            // where, send nothing.
            let blocked: Vec<String> = current
                .items
                .iter()
                .filter(|i| pending.contains(&i.item_id))
                .filter(|i| {
                    claim_status(marketplace, &i.marketplace_status).word != AWAITING_SELLER
                })
                .map(|i| format!("{} is {}", i.item_id, i.marketplace_status))
                .collect();
            let refused = if !blocked.is_empty() {
                Some(format!(
                    "only {} claim items can be {verb}d: {}",
                    client.awaiting_word(),
                    blocked.join(", ")
                ))
            } else {
                match client.send(claim_id, &pending, &decision).await? {
                    Ok(()) => None,
                    Err(refusal) => {
                        let now = client.read(claim_id, claim).await?;
                        (!pending.iter().all(|i| reached(&now, i, &decision)))
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
                tracing::warn!(
                    claim_id,
                    verb,
                    marketplace = marketplace.as_str(),
                    "the marketplace refused a claim decision"
                );
                return Err(Error::Conflict {
                    code: "marketplace_refused",
                    message: format!(
                        "{} refused to {verb} claim {claim_id}: {message}",
                        client.name()
                    ),
                });
            }
            outcome = ("done", None);
        }
        // What the marketplace now says, taken in like the poll.
        let after = client.read(claim_id, claim).await?;
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
}

/// Trendyol's claim issue reasons, as the route answers them.
#[derive(Debug, Serialize)]
pub struct IssueReasonsView {
    pub marketplace: &'static str,
    pub reasons: Vec<ClaimIssueReason>,
}

/// A claim as the order's GET view shows it: its items as the claim events
/// carry them (`quantity` units each; `restock: returned` says they came
/// back to stock), never the buyer's note or name.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    pub claim_id: String,
    pub claimed_at: Option<String>,
    pub changed_at: Option<String>,
    pub items: Vec<ClaimItemDetail>,
}

/// The order's claims for its GET view, by claim id.
pub fn claim_views(claims: &std::collections::BTreeMap<String, Claim>) -> Vec<ClaimView> {
    claims
        .iter()
        .map(|(id, c)| ClaimView {
            claim_id: id.clone(),
            claimed_at: unix_ms_to_rfc3339(c.claimed_ms),
            changed_at: unix_ms_to_rfc3339(c.changed_ms),
            items: claim_items(c, None),
        })
        .collect()
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
        reject_body(Marketplace::Trendyol, serde_json::from_value(body).unwrap())
    }

    fn bad_fields(body: serde_json::Value) -> Vec<String> {
        fields_of(check(body))
    }

    fn fields_of(r: Result<(Decision, Option<Vec<String>>)>) -> Vec<String> {
        match r {
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
                reason,
                description,
            } => assert_eq!(
                (reason, description.as_str()),
                (RejectReason::Id(3), "Kullanılmış")
            ),
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

    #[test]
    fn a_hepsiburada_rejection_names_a_reason_word_and_never_a_trendyol_id() {
        let hb = |body: serde_json::Value| {
            reject_body(
                Marketplace::Hepsiburada,
                serde_json::from_value(body).unwrap(),
            )
        };
        match hb(serde_json::json!({"reasonCode": "WrongProduct", "description": "x"})) {
            Ok((Decision::Reject { reason, .. }, None)) => {
                assert_eq!(reason, RejectReason::Code("WrongProduct".into()))
            }
            _ => panic!("a rejection"),
        }
        assert_eq!(
            fields_of(hb(serde_json::json!({"reasonId": 3, "description": ""}))),
            ["reasonId", "reasonCode", "description"]
        );
        assert_eq!(
            fields_of(hb(
                serde_json::json!({"reasonCode": "Wrong Product", "description": "x"})
            )),
            ["reasonCode"]
        );
        assert_eq!(
            bad_fields(serde_json::json!({"reasonId": 3, "reasonCode": "X", "description": "x"})),
            ["reasonCode"]
        );
    }

    #[test]
    fn the_view_shows_each_claim_item_and_its_units_back_without_the_buyer() {
        use crate::domain::marketplace_claim::{ClaimItem, Restock};
        let item = |restock| ClaimItem {
            order_line_id: Some("L1".into()),
            sku: Some("SKU-A".into()),
            reason_code: Some("FoundCheaper".into()),
            reason: None,
            status: "accepted".into(),
            marketplace_status: "Accepted".into(),
            rank: 6,
            quantity: 2,
            restock,
        };
        let claim = Claim {
            claimed_ms: 1_000,
            changed_ms: 2_000,
            items: [
                ("C1".to_string(), item(Restock::Returned)),
                ("C2".to_string(), item(Restock::NotSellable)),
            ]
            .into(),
        };
        let views = claim_views(&[("C1".to_string(), claim)].into());
        let json = serde_json::to_value(&views).unwrap();
        assert_eq!(json[0]["claimId"], "C1");
        assert_eq!(json[0]["claimedAt"], "1970-01-01T00:00:01Z");
        assert_eq!(json[0]["items"][0]["restock"], "returned");
        assert_eq!(json[0]["items"][1]["restock"], "not_sellable");
        assert_eq!(json[0]["items"][1]["reasonCode"], "FoundCheaper");
        assert_eq!(json[0]["items"][1]["quantity"], 2);
        assert!(json[0]["items"][0].get("previousStatus").is_none());
    }
}
