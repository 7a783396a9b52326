//! Hepsiburada claims ("Talep": returns) on the OMS host
//! (docs/marketplace-wire.md H16). A claim is one order line: its claim
//! number, the line (`line.lineItemId`, `line.merchantSku`), the quantity
//! returned and one status for all of it.
//!
//! - `GET /claims/merchantId/{merchantId}/status/{status}` with
//!   `statusBeginDate`/`statusEndDate` (`yyyy-MM-dd HH:mm`) and
//!   `offset`/`limit` (limit required, ≤ 100): order-poll reads every
//!   status's list over its window, so a claim that changed status in the
//!   window is in the list of the status it has now.
//! - `GET /claims/merchantId/{merchantId}?beginDate&endDate&offset&limit`:
//!   claims by claim date, used to read one claim back by number around the
//!   claim date we stored.
//! - `POST /claims/number/{claimNumber}/accept` `{}` and `…/reject`
//!   `{"ClaimRejectionReason", "MerchantStatement"}`.
//!
//! UNCONFIRMED (kept in this file): the list answer's shape (a bare array or
//! `{items|data|claims: […]}`, as the third-party SDK reads it), that its rows
//! carry the fields of the claim webhook (CONFIRMED for the webhook), the
//! reason field (`reason`, `reasonCode` or `claimReason`, a word or an
//! object with `code`), a status date field, which date `beginDate` selects
//! on, and the accept body for a plain return (`{}`).
//!
//! The buyer (`customerId`, `customerName`) and the buyer's text
//! (`explanation`) are never read.

use bytes::Bytes;
use http::Method;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{hb_date, HepsiburadaOrders, MAX_LIMIT};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_claim::{ClaimItemSnapshot, ClaimSnapshot};
use crate::error::Error;
use crate::providers::marketplace::http::{Refusal, Unreadable};

/// Every claim status Hepsiburada lists by (H16); any other is 400 "Wrong
/// Claim Status" there.
pub const CLAIM_STATUSES: [&str; 8] = [
    "NewRequest",
    "AwaitingPreApproval",
    "AwaitingAction",
    "InDispute",
    "Rejected",
    "Accepted",
    "Refunded",
    "Cancelled",
];

/// The longest statement we send with a rejection (the limit at
/// Hepsiburada is UNCONFIRMED; Trendyol's 500 is kept for both).
pub const MAX_REJECT_STATEMENT: usize = 500;

/// A claim number (digits in every sample; letters tolerated).
pub fn check_claim_number(number: &str) -> Result<(), Error> {
    super::cancelled::check_path_id(number, "claimId", "a Hepsiburada claim number")
}

/// A rejection reason word of Hepsiburada's (e.g. `WrongProduct`).
pub fn check_reject_reason(code: &str) -> Result<(), Error> {
    if code.is_empty() || code.len() > 64 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            "reasonCode",
            "a Hepsiburada claim rejection reason (letters and digits, e.g. WrongProduct)",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimWire {
    #[serde(alias = "number")]
    claim_number: serde_json::Value,
    order_number: serde_json::Value,
    #[serde(default)]
    quantity: Option<u32>,
    status: String,
    #[serde(default)]
    claim_date: Option<String>,
    /// UNCONFIRMED names of the last status change's date.
    #[serde(default, alias = "lastStatusDate", alias = "lastModifiedDate")]
    status_date: Option<String>,
    #[serde(default, alias = "reasonCode", alias = "claimReason")]
    reason: Option<ReasonWire>,
    #[serde(default)]
    line: Option<LineWire>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ReasonWire {
    Code(String),
    Object {
        #[serde(default, alias = "id", alias = "reasonCode")]
        code: Option<String>,
        #[serde(default, alias = "name", alias = "title")]
        description: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineWire {
    #[serde(default)]
    line_item_id: Option<String>,
    #[serde(default, alias = "merchantSKU")]
    merchant_sku: Option<String>,
}

fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn instant_ms(text: Option<&str>) -> Option<i64> {
    OffsetDateTime::parse(
        text?,
        &time::format_description::well_known::Iso8601::DEFAULT,
    )
    .ok()
    .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// One listed claim as a snapshot: one item, named by the claim number
/// (what accept and reject name), returning its line's quantity.
fn parse_claim(raw: &[u8], seen_ms: i64) -> Result<ClaimSnapshot, serde_json::Error> {
    use serde::de::Error as _;
    let c: ClaimWire = serde_json::from_slice(raw)?;
    let number =
        text(&c.claim_number).ok_or_else(|| serde_json::Error::custom("claimNumber is empty"))?;
    let order_number =
        text(&c.order_number).ok_or_else(|| serde_json::Error::custom("orderNumber is empty"))?;
    let claimed_ms = instant_ms(c.claim_date.as_deref()).unwrap_or(seen_ms);
    let (reason_code, reason) = match c.reason {
        Some(ReasonWire::Code(code)) => (non_empty(Some(code)), None),
        Some(ReasonWire::Object { code, description }) => (non_empty(code), non_empty(description)),
        None => (None, None),
    };
    let line = c.line;
    Ok(ClaimSnapshot {
        marketplace: Marketplace::Hepsiburada,
        claim_id: number.clone(),
        order_number,
        claimed_ms,
        occurred_ms: instant_ms(c.status_date.as_deref()).unwrap_or(seen_ms),
        items: vec![ClaimItemSnapshot {
            item_id: number,
            order_line_id: non_empty(line.as_ref().and_then(|l| l.line_item_id.clone())),
            sku: non_empty(line.and_then(|l| l.merchant_sku)),
            reason_code,
            reason,
            marketplace_status: c.status,
            quantity: c.quantity.unwrap_or(1).max(1),
        }],
    })
}

/// The list's rows wrapped in an object (UNCONFIRMED, H16).
#[derive(Deserialize)]
struct Wrapped {
    #[serde(alias = "data", alias = "claims")]
    items: Vec<Box<serde_json::value::RawValue>>,
}

type Rows = Vec<Box<serde_json::value::RawValue>>;

/// The list's rows, a bare array or wrapped (`items`, `data`, `claims`).
fn rows(body: &[u8]) -> Result<Rows, serde_json::Error> {
    serde_json::from_slice::<Rows>(body)
        .or_else(|_| serde_json::from_slice::<Wrapped>(body).map(|w| w.items))
}

/// One page of a claim list.
#[derive(Debug)]
pub struct ClaimPage {
    /// Rows listed (read or not): a page shorter than the limit is the last.
    pub listed: usize,
    pub claims: Vec<ClaimSnapshot>,
    pub unreadable: Vec<Unreadable>,
}

fn claim_page(rows: Rows, seen_ms: i64) -> ClaimPage {
    let listed = rows.len();
    let (claims, unreadable) = super::parse_items(rows, |raw| parse_claim(raw, seen_ms));
    ClaimPage {
        listed,
        claims,
        unreadable,
    }
}

fn window(begin_ms: i64, end_ms: i64) -> Result<(String, String), Error> {
    match (hb_date(begin_ms), hb_date(end_ms)) {
        (Some(b), Some(e)) => Ok((b.replace(' ', "%20"), e.replace(' ', "%20"))),
        _ => Err(Error::Config(
            "claim window outside representable dates".into(),
        )),
    }
}

impl HepsiburadaOrders {
    fn rows(&self, answer: &crate::providers::marketplace::http::Answer) -> Result<Rows, Error> {
        rows(&answer.body).map_err(|e| self.api.unreadable(&format!("a claim list: {e}")))
    }

    /// Claims whose status is `status` and last changed in `[begin_ms,
    /// end_ms)` (whole minutes), `limit` (≤ 100) from `offset`.
    pub async fn list_claims(
        &self,
        status: &str,
        begin_ms: i64,
        end_ms: i64,
        offset: u64,
        limit: u32,
    ) -> Result<ClaimPage, Error> {
        if !CLAIM_STATUSES.contains(&status) {
            return Err(Error::Config(format!(
                "{status} is not a Hepsiburada claim status"
            )));
        }
        let (begin, end) = window(begin_ms, end_ms)?;
        let url = format!(
            "{}/claims/merchantId/{}/status/{status}?statusBeginDate={begin}&statusEndDate={end}&offset={offset}&limit={}",
            self.oms_base,
            self.merchant_id,
            limit.clamp(1, MAX_LIMIT)
        );
        let answer = self.api.get(&self.list, "hepsiburada_claims", url).await?;
        Ok(claim_page(self.rows(&answer)?, crate::clock::now_ms()))
    }

    /// Claim `number` as Hepsiburada has it now, looked up among the claims
    /// made in the minutes around `claimed_ms` (its claim date as we stored
    /// it); `None` when Hepsiburada does not list it there.
    pub async fn claim(
        &self,
        number: &str,
        claimed_ms: i64,
    ) -> Result<Option<ClaimSnapshot>, Error> {
        const MINUTE: i64 = 60_000;
        check_claim_number(number)?;
        let begin_ms = claimed_ms.div_euclid(MINUTE) * MINUTE - MINUTE;
        let (begin, end) = window(begin_ms, begin_ms + 3 * MINUTE)?;
        let mut offset = 0u64;
        loop {
            let url = format!(
                "{}/claims/merchantId/{}?beginDate={begin}&endDate={end}&offset={offset}&limit={MAX_LIMIT}",
                self.oms_base, self.merchant_id
            );
            let answer = self.api.get(&self.list, "hepsiburada_claim", url).await?;
            let page = claim_page(self.rows(&answer)?, crate::clock::now_ms());
            if let Some(c) = page.claims.into_iter().find(|c| c.claim_id == number) {
                return Ok(Some(c));
            }
            offset += page.listed as u64;
            if page.listed < MAX_LIMIT as usize {
                return Ok(None);
            }
        }
    }

    /// Accepts claim `number` (only an `AwaitingAction` one can be): `Err`
    /// inside is Hepsiburada's refusal. Repeatable: a repeat after a lost
    /// answer is refused (the claim is no longer waiting), which the caller
    /// resolves by reading the claim back.
    pub async fn accept_claim(&self, number: &str) -> Result<Result<(), Refusal>, Error> {
        check_claim_number(number)?;
        let url = format!("{}/claims/number/{number}/accept", self.oms_base);
        Ok(self
            .api
            .write_json(
                &self.tracking,
                "hepsiburada_accept_claim",
                Method::POST,
                url,
                Bytes::from_static(b"{}"),
                true,
            )
            .await?
            .map(|_| ()))
    }

    /// Rejects claim `number` with one of Hepsiburada's rejection reasons
    /// and the seller's statement (never logged): `Err` inside is the
    /// refusal. Repeatable like the acceptance.
    pub async fn reject_claim(
        &self,
        number: &str,
        reason: &str,
        statement: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        check_claim_number(number)?;
        check_reject_reason(reason)?;
        let url = format!("{}/claims/number/{number}/reject", self.oms_base);
        let body = serde_json::json!({
            "ClaimRejectionReason": reason,
            "MerchantStatement": statement,
        });
        Ok(self
            .api
            .write_json(
                &self.tracking,
                "hepsiburada_reject_claim",
                Method::POST,
                url,
                Bytes::from(body.to_string()),
                true,
            )
            .await?
            .map(|_| ()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claim webhook's sample (H16, [HB-CLAIM-WH]) with a reason.
    const ROW: &str = r#"{"claimNumber":"356189794","type":"Return","quantity":2,
        "status":"AwaitingAction","customerId":"b5b0f469-dd8f-4b99-bc64-1a1f9e78dfae",
        "customerName":"Ayse Yilmaz","orderNumber":"2152988946","explanation":"05551234567",
        "claimDate":"2021-10-14T11:03:17.676Z","orderDate":"2021-10-14T11:00:20Z",
        "reason":"FoundCheaper",
        "line":{"lineItemId":"61680dc6-b404-55fe-1171-d92506060606","productName":"Gömlek",
          "merchantSku":" KIVIRCIK20 ","hbSku":"GYGEO11009AXL","price":{"currency":"TRY","amount":56.0}}}"#;

    #[test]
    fn a_claim_is_one_line_named_by_its_number_and_never_the_buyer() {
        let c = parse_claim(ROW.as_bytes(), 7).unwrap();
        assert_eq!(
            (c.claim_id.as_str(), c.order_number.as_str()),
            ("356189794", "2152988946")
        );
        assert_eq!(c.claimed_ms, 1_634_209_397_676);
        assert_eq!(c.occurred_ms, 7, "no status date: the time it was read");
        let item = &c.items[0];
        assert_eq!(item.item_id, "356189794");
        assert_eq!(
            item.order_line_id.as_deref(),
            Some("61680dc6-b404-55fe-1171-d92506060606")
        );
        assert_eq!(item.sku.as_deref(), Some("KIVIRCIK20"));
        assert_eq!(item.reason_code.as_deref(), Some("FoundCheaper"));
        assert_eq!(
            (item.marketplace_status.as_str(), item.quantity),
            ("AwaitingAction", 2)
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains("Ayse") && !debug.contains("0555") && !debug.contains("b5b0f469"));
        // A numeric claim number, a reason object, no line.
        let c = parse_claim(
            br#"{"claimNumber":42,"orderNumber":"9","status":"Accepted",
                "reasonCode":{"code":"WrongProduct","name":"Yanlis urun"}}"#,
            0,
        )
        .unwrap();
        assert_eq!(c.claim_id, "42");
        assert_eq!(c.items[0].reason_code.as_deref(), Some("WrongProduct"));
        assert_eq!((c.items[0].sku.as_ref(), c.items[0].quantity), (None, 1));
        assert!(parse_claim(br#"{"claimNumber":"","orderNumber":"9","status":"x"}"#, 0).is_err());
        assert!(parse_claim(br#"{"orderNumber":"9","status":"x"}"#, 0).is_err());
    }

    #[test]
    fn the_list_is_read_bare_or_wrapped_and_bad_rows_are_kept_apart() {
        for body in [
            format!("[{ROW}, {{\"claimNumber\": 1}}]"),
            format!("{{\"items\": [{ROW}, {{\"claimNumber\": 1}}], \"totalCount\": 2}}"),
            format!("{{\"data\": [{ROW}, {{\"claimNumber\": 1}}]}}"),
            format!("{{\"claims\": [{ROW}, {{\"claimNumber\": 1}}]}}"),
        ] {
            let page = claim_page(rows(body.as_bytes()).unwrap(), 0);
            assert_eq!(
                (page.listed, page.claims.len(), page.unreadable.len()),
                (2, 1, 1),
                "{body}"
            );
        }
        assert!(rows(br#"{"message":"LimitCannotBeEmpty"}"#).is_err());
    }

    #[test]
    fn numbers_and_reasons_are_checked_before_a_path_or_body_is_built() {
        assert!(check_claim_number("356189794").is_ok());
        for bad in ["", "1/2", "a b", &"9".repeat(65)] {
            assert!(check_claim_number(bad).is_err(), "{bad:?}");
        }
        assert!(check_reject_reason("WrongProduct").is_ok());
        for bad in ["", "Wrong Product", "x\"y"] {
            assert!(check_reject_reason(bad).is_err(), "{bad:?}");
        }
    }
}
