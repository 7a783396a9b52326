//! Trendyol claims (returns) — getClaims, docs/marketplace-wire.md T14:
//! `GET /integration/order/sellers/{sellerId}/claims?startDate&endDate&page&size`
//! (epoch ms, pages of at most 200), one entry per claim, its items grouped
//! under the order lines they return; a claim item's status is an object
//! `{"name": …}`. order-poll reads it window by window like the packages.
//!
//! UNCONFIRMED (kept in this file): that `startDate`/`endDate` select on
//! the last change (`lastModifiedDate`, the order Trendyol says it returns
//! them in), that `orderLine.id` is the package line id we stored, that
//! `customerClaimItemReason.id` is the reason code of Trendyol's return
//! reason table, and that each claim item is one unit.
//!
//! The buyer's name and note (`customerFirstName`, `customerLastName`,
//! `customerNote`) are never read.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use serde::{Deserialize, Serialize};

use super::{PageWire, TrendyolOrders, MAX_PAGE_SIZE, PROVIDER};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_claim::{ClaimItemSnapshot, ClaimSnapshot};
use crate::error::Error;
use crate::providers::http::{Endpoint, StandardRetryRules};
use crate::providers::marketplace::http::{form_data, Refusal, Unreadable};

/// Trendyol's limit on claim approve and reject, per minute (T14).
pub const CLAIM_ACTIONS_PER_MINUTE: u32 = 5;
/// How long one instance trusts the claim issue reasons it read: Trendyol
/// changes them rarely, and a reason it dropped is still refused by it.
pub const ISSUE_REASONS_TTL: Duration = Duration::from_secs(3600);

/// One of Trendyol's claim issue reasons (getClaimsIssueReasons, T14): the
/// `reasonId` a rejection names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimIssueReason {
    pub id: u64,
    /// Only shown to the platform: a reason without a name (null) keeps
    /// its id rather than fail every rejection.
    #[serde(default, deserialize_with = "super::opt_text")]
    pub name: Option<String>,
}

type CachedReasons = Option<(Instant, Arc<Vec<ClaimIssueReason>>)>;

/// Approve and reject's own endpoint budget (5 per `window`, spaced: not
/// the package status's 50 per 10 s; per instance, so several warm
/// instances can still meet Trendyol's 429, which the HTTP layer waits
/// out), and the issue reasons read last.
pub struct ClaimActions {
    endpoint: Endpoint,
    issue_reasons: Mutex<CachedReasons>,
}

impl ClaimActions {
    pub fn new(window: Duration) -> Self {
        ClaimActions {
            endpoint: Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(CLAIM_ACTIONS_PER_MINUTE, window),
            issue_reasons: Mutex::new(None),
        }
    }
}

/// Claim and claim item ids are Trendyol's UUIDs: letters, digits and
/// dashes; anything else is refused before a path or body is built.
pub fn check_claim_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::validation(
            "claimId",
            "a Trendyol claim id (letters, digits, dashes)",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimWire {
    id: String,
    order_number: String,
    #[serde(default)]
    claim_date: Option<i64>,
    #[serde(default)]
    last_modified_date: Option<i64>,
    #[serde(default)]
    items: Vec<ItemWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemWire {
    #[serde(default)]
    order_line: Option<OrderLineWire>,
    #[serde(default)]
    claim_items: Vec<ClaimItemWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLineWire {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    merchant_sku: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimItemWire {
    id: String,
    #[serde(default)]
    order_line_item_id: Option<serde_json::Value>,
    #[serde(default)]
    customer_claim_item_reason: Option<ReasonWire>,
    claim_item_status: StatusWire,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasonWire {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StatusWire {
    name: String,
}

fn id_text(v: &Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_claim(raw: &[u8], seen_ms: i64) -> Result<ClaimSnapshot, serde_json::Error> {
    let c: ClaimWire = serde_json::from_slice(raw)?;
    let claimed_ms = c.claim_date.unwrap_or(seen_ms);
    let mut items = Vec::new();
    for group in c.items {
        let line = group.order_line;
        let line_id = line.as_ref().and_then(|l| id_text(&l.id));
        let sku = line
            .and_then(|l| l.merchant_sku)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        for ci in group.claim_items {
            let reason = ci.customer_claim_item_reason;
            items.push(ClaimItemSnapshot {
                item_id: ci.id,
                order_line_id: line_id.clone().or_else(|| id_text(&ci.order_line_item_id)),
                sku: sku.clone(),
                reason_code: reason.as_ref().and_then(|r| id_text(&r.id)),
                reason: reason.and_then(|r| r.name),
                marketplace_status: ci.claim_item_status.name,
                // Each Trendyol claim item is one unit (UNCONFIRMED, T14).
                quantity: 1,
            });
        }
    }
    Ok(ClaimSnapshot {
        marketplace: Marketplace::Trendyol,
        claim_id: c.id,
        order_number: c.order_number,
        claimed_ms,
        occurred_ms: c.last_modified_date.unwrap_or(claimed_ms),
        items,
    })
}

/// One page of claims.
#[derive(Debug)]
pub struct ClaimPage {
    pub total_elements: u64,
    pub total_pages: u64,
    pub listed: usize,
    pub claims: Vec<ClaimSnapshot>,
    pub unreadable: Vec<Unreadable>,
}

impl TrendyolOrders {
    /// Claims changed in `[start_ms, end_ms]`, page `page` of `size` (≤ 200).
    pub async fn list_claims(
        &self,
        start_ms: i64,
        end_ms: i64,
        page: u32,
        size: u32,
    ) -> Result<ClaimPage, Error> {
        let url = format!(
            "{}/integration/order/sellers/{}/claims?startDate={start_ms}&endDate={end_ms}&page={page}&size={}",
            self.base,
            self.seller_id,
            size.min(MAX_PAGE_SIZE)
        );
        // Trendyol's return services share the order list's budget here
        // (order-poll reads one after the other).
        let answer = self.api.get(&self.list, "trendyol_claims", url).await?;
        let wire: PageWire = self.api.decode(&answer)?;
        let listed = wire.content.len();
        let now = crate::clock::now_ms();
        let mut claims = Vec::with_capacity(listed);
        let mut unreadable = Vec::new();
        for raw in wire.content {
            match parse_claim(raw.get().as_bytes(), now) {
                Ok(c) => claims.push(c),
                Err(e) => unreadable.push(Unreadable::new(raw.get().as_bytes(), e)),
            }
        }
        Ok(ClaimPage {
            total_elements: wire.total_elements,
            total_pages: wire.total_pages,
            listed,
            claims,
            unreadable,
        })
    }
}

impl TrendyolOrders {
    /// Claim `claim_id` as Trendyol has it now (`claimIds` filter: the other
    /// parameters are then ignored, T14); `None` when Trendyol lists none.
    pub async fn claim(&self, claim_id: &str) -> Result<Option<ClaimSnapshot>, Error> {
        check_claim_id(claim_id)?;
        let url = format!(
            "{}/integration/order/sellers/{}/claims?claimIds={claim_id}&page=0&size=1",
            self.base, self.seller_id
        );
        let answer = self.api.get(&self.list, "trendyol_claim", url).await?;
        let wire: PageWire = self.api.decode(&answer)?;
        let now = crate::clock::now_ms();
        for raw in wire.content {
            let c = parse_claim(raw.get().as_bytes(), now)
                .map_err(|e| Error::Store(format!("Trendyol claim {claim_id} unreadable: {e}")))?;
            if c.claim_id == claim_id {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// Approves claim items (only `WaitingInAction` ones can be): `Err`
    /// inside is Trendyol's refusal. Repeatable: a repeat after a lost 200
    /// is refused (the items are accepted), which the caller resolves by
    /// reading the claim back.
    pub async fn approve_claim_items(
        &self,
        claim_id: &str,
        item_ids: &[String],
    ) -> Result<Result<(), Refusal>, Error> {
        check_claim_id(claim_id)?;
        for id in item_ids {
            check_claim_id(id)?;
        }
        let url = format!(
            "{}/integration/order/sellers/{}/claims/{claim_id}/items/approve",
            self.base, self.seller_id
        );
        let body = serde_json::json!({"claimLineItemIdList": item_ids, "params": {}});
        Ok(self
            .api
            .write_json(
                &self.claim_actions.endpoint,
                "trendyol_approve_claim",
                Method::PUT,
                url,
                Bytes::from(body.to_string()),
                true,
            )
            .await?
            .map(|_| ()))
    }
}

impl TrendyolOrders {
    /// Trendyol's claim issue reasons (`GET /integration/order/
    /// claim-issue-reasons`, not seller-scoped: T14), read at most once per
    /// [`ISSUE_REASONS_TTL`] by this instance.
    pub async fn claim_issue_reasons(&self) -> Result<Arc<Vec<ClaimIssueReason>>, Error> {
        let cache = &self.claim_actions.issue_reasons;
        if let Some((at, reasons)) = cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if at.elapsed() < ISSUE_REASONS_TTL {
                return Ok(reasons.clone());
            }
        }
        let url = format!("{}/integration/order/claim-issue-reasons", self.base);
        let answer = self
            .api
            .get(&self.list, "trendyol_claim_issue_reasons", url)
            .await?;
        let reasons: Arc<Vec<ClaimIssueReason>> = Arc::new(self.api.decode(&answer)?);
        *cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), reasons.clone()));
        Ok(reasons)
    }
}

/// The longest rejection description Trendyol takes (T14).
pub const MAX_REJECT_DESCRIPTION: usize = 500;

/// The createClaimIssue form (T14): `claimIssueReasonId`,
/// `claimItemIdList` (comma-separated) and `description`.
fn reject_form(
    item_ids: &[String],
    reason_id: u64,
    description: &str,
) -> Result<(String, Bytes), Error> {
    let reason = reason_id.to_string();
    let items = item_ids.join(",");
    form_data(&[
        ("claimIssueReasonId", &reason),
        ("claimItemIdList", &items),
        ("description", description),
    ])
    .map_err(|field| Error::validation(field, "text that cannot be sent as a form field"))
}

impl TrendyolOrders {
    /// Rejects claim items with a reason (createClaimIssue, T14; only
    /// `WaitingInAction` ones can be): `Err` inside is Trendyol's refusal.
    /// Repeatable like the approval: a repeat after a lost answer is
    /// refused (the items are no longer waiting), which the caller
    /// resolves by reading the claim back. Whether the answer has a body
    /// is UNCONFIRMED: it is not read.
    pub async fn reject_claim_items(
        &self,
        claim_id: &str,
        item_ids: &[String],
        reason_id: u64,
        description: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        check_claim_id(claim_id)?;
        for id in item_ids {
            check_claim_id(id)?;
        }
        let url = format!(
            "{}/integration/order/sellers/{}/claims/{claim_id}/issue",
            self.base, self.seller_id
        );
        let (content_type, body) = reject_form(item_ids, reason_id, description)?;
        Ok(self
            .api
            .write_as(
                &self.claim_actions.endpoint,
                "trendyol_reject_claim",
                Method::POST,
                url,
                &content_type,
                body,
                true,
            )
            .await?
            .map(|_| ()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_without_a_name_keeps_its_id() {
        let reasons: Vec<ClaimIssueReason> =
            serde_json::from_str(r#"[{"id":1,"name":null},{"id":2},{"id":3,"name":"Hasarlı"}]"#)
                .unwrap();
        let ids: Vec<(u64, Option<&str>)> =
            reasons.iter().map(|r| (r.id, r.name.as_deref())).collect();
        assert_eq!(ids, [(1, None), (2, None), (3, Some("Hasarlı"))]);
    }

    #[test]
    fn a_rejection_is_sent_as_the_three_form_fields() {
        let (ct, body) = reject_form(&["i-1".into(), "i-2".into()], 7, "Ürün kullanılmış").unwrap();
        assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
        let text = std::str::from_utf8(&body).unwrap();
        for part in [
            "name=\"claimIssueReasonId\"\r\n\r\n7\r\n",
            "name=\"claimItemIdList\"\r\n\r\ni-1,i-2\r\n",
            "name=\"description\"\r\n\r\nÜrün kullanılmış\r\n",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn a_claim_reads_its_items_under_their_lines_and_never_the_buyer() {
        let raw = br#"{"id":"c-1","claimId":"c-1","orderNumber":"TY-9","orderDate":1,"claimDate":2000,
            "lastModifiedDate":3000,"customerFirstName":"Ayse","customerLastName":"Y",
            "items":[{"orderLine":{"id":77,"productName":"P","barcode":"BC-A","merchantSku":" SKU-A ","price":10.5},
              "claimItems":[
                {"id":"i-1","orderLineItemId":991,"customerClaimItemReason":{"id":401,"name":"Vazgectim","code":"CHANGED_MIND"},
                 "claimItemStatus":{"name":"WaitingInAction"},"customerNote":"05551234567","resolved":false},
                {"id":"i-2","claimItemStatus":{"name":"Created"}}]}]}"#;
        let c = parse_claim(raw, 0).unwrap();
        assert_eq!(
            (c.claim_id.as_str(), c.order_number.as_str()),
            ("c-1", "TY-9")
        );
        assert_eq!((c.claimed_ms, c.occurred_ms), (2000, 3000));
        assert_eq!(c.items.len(), 2);
        assert_eq!(c.items[0].order_line_id.as_deref(), Some("77"));
        assert_eq!(c.items[0].sku.as_deref(), Some("SKU-A"));
        assert_eq!(c.items[0].reason_code.as_deref(), Some("401"));
        assert_eq!(c.items[0].marketplace_status, "WaitingInAction");
        assert_eq!(c.items[1].reason_code, None);
        assert!(!format!("{c:?}").contains("0555"));
        assert!(!format!("{c:?}").contains("Ayse"));
        assert!(parse_claim(
            br#"{"id":"c","orderNumber":"1","items":[{"claimItems":[{"id":"x"}]}]}"#,
            0
        )
        .is_err());
    }
}
