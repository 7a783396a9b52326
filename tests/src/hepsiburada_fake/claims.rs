//! Hepsiburada's claims (returns, "Talep") on the oms host
//! (docs/marketplace-wire.md H16): the claim list `GET /claims/merchantId/{id}`
//! (by claim date: `beginDate`/`endDate`), the list of one status
//! `GET /claims/merchantId/{id}/status/{status}` (by status-change date:
//! `statusBeginDate`/`statusEndDate`), and the seller's decision
//! `POST /claims/number/{claimNumber}/accept` (`{}`) and `…/reject`
//! (`{"ClaimRejectionReason", "MerchantStatement"}`).
//!
//! Checks: `limit` is required (400 `LimitCannotBeEmpty`, as the
//! third-party SDK verified live) and at most 100 (400 beyond: UNCONFIRMED),
//! `offset` a number; a status outside Hepsiburada's eight is 400 `Wrong
//! Claim Status`; a date that is not `yyyy-MM-dd HH:mm` lists nothing (as
//! the order list). Only an `AwaitingAction` claim can be accepted or
//! rejected (else 400 with the claim's status: text UNCONFIRMED); a
//! rejection needs a reason word and a statement (400 naming the field);
//! unknown claim 404. Auth, User-Agent, merchant id, rate limit and fault
//! injection are the caller's (`EndpointKind::Orders` for the lists,
//! `EndpointKind::Write` for the decisions, whose `LostAnswer` acts, then
//! fails). The list answers a bare array of rows shaped like the claim
//! webhook's body (CONFIRMED for the webhook; UNCONFIRMED for the list),
//! with the buyer's name and text, which the client must never keep.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use super::{hb_json, iso_tr, oms_error, parse_hb_date, HbState, HepsiburadaFake};

pub const CLAIM_LIST: &str = "GET /claims/merchantId/{merchantId}";
pub const CLAIM_STATUS_LIST: &str = "GET /claims/merchantId/{merchantId}/status/{status}";
pub const CLAIM_ACCEPT: &str = "POST /claims/number/{claimNumber}/accept";
pub const CLAIM_REJECT: &str = "POST /claims/number/{claimNumber}/reject";
pub const CLAIM_MAX_LIMIT: usize = 100;
/// Hepsiburada's claim statuses (H16).
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
/// The buyer the fake's claims carry (never to be kept by the client).
pub const CLAIM_CUSTOMER_NAME: &str = "Ayşe Talepçi";
pub const CLAIM_EXPLANATION: &str = "Beden uymadı, 05321234567";

#[derive(Debug, Clone)]
struct HbClaim {
    number: String,
    order_number: String,
    line_id: String,
    merchant_sku: String,
    quantity: i64,
    reason: String,
    status: String,
    claim_ms: u64,
    status_ms: u64,
}

#[derive(Default)]
pub(super) struct HbClaims {
    claims: Vec<HbClaim>,
    next_number: u64,
    /// Executed accepts (claim numbers) and rejects (number, reason).
    accepts: Vec<String>,
    rejects: Vec<(String, String)>,
    /// Statements of executed rejects, to check what was sent.
    statements: Vec<String>,
    list_requests: usize,
}

fn claim_json(c: &HbClaim) -> Value {
    json!({
        "claimNumber": c.number,
        "type": "Return",
        "quantity": c.quantity,
        "status": c.status,
        "customerId": "b5b0f469-dd8f-4b99-bc64-1a1f9e78dfae",
        "customerName": CLAIM_CUSTOMER_NAME,
        "orderNumber": c.order_number,
        "explanation": CLAIM_EXPLANATION,
        "claimDate": iso_tr(c.claim_ms),
        "statusDate": iso_tr(c.status_ms),
        "reason": c.reason,
        "line": {
            "lineItemId": c.line_id,
            "productName": "Tişört",
            "merchantSku": c.merchant_sku,
            "price": {"currency": "TRY", "amount": 10.0},
        },
    })
}

/// `GET` either list: `status` for the status list.
pub(super) fn claim_list(s: &mut HbState, uri: &Uri, status: Option<&str>) -> Response {
    s.claims.list_requests += 1;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let param = |k: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let Some(limit) = param("limit") else {
        return oms_error(400, "LimitCannotBeEmpty");
    };
    let limit = match limit.parse::<usize>() {
        Ok(n) if (1..=CLAIM_MAX_LIMIT).contains(&n) => n,
        _ => return oms_error(400, "limit must be between 1 and 100"),
    };
    let offset = match param("offset").map(|o| o.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return oms_error(400, "offset must be a number"),
    };
    if status.is_some_and(|st| !CLAIM_STATUSES.contains(&st)) {
        return oms_error(400, "Wrong Claim Status");
    }
    let (begin_key, end_key) = match status {
        Some(_) => ("statusBeginDate", "statusEndDate"),
        None => ("beginDate", "endDate"),
    };
    let date = |k: &str| param(k).map(|v| parse_hb_date(&v));
    let (begin, end) = (date(begin_key), date(end_key));
    if matches!(begin, Some(None)) || matches!(end, Some(None)) {
        return hb_json(200, json!([]));
    }
    let (begin, end) = (begin.flatten(), end.flatten());
    let rows: Vec<Value> = s
        .claims
        .claims
        .iter()
        .filter(|c| status.is_none_or(|st| c.status == st))
        .filter(|c| {
            let at = if status.is_some() {
                c.status_ms
            } else {
                c.claim_ms
            };
            begin.is_none_or(|b| at >= b) && end.is_none_or(|e| at < e)
        })
        .skip(offset)
        .take(limit)
        .map(claim_json)
        .collect();
    hb_json(200, Value::Array(rows))
}

/// `POST …/accept` or `…/reject` (`reject`: the body's reason and
/// statement are required).
pub(super) fn decide(s: &mut HbState, number: &str, body: &Bytes, reject: bool) -> Response {
    let now = s.orders.clock();
    let fields = serde_json::from_slice::<Value>(body).ok();
    let Some(Value::Object(fields)) = fields else {
        return oms_error(400, "Request body must be a JSON object");
    };
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (reason, statement) = (text("ClaimRejectionReason"), text("MerchantStatement"));
    if reject && reason.is_none() {
        return oms_error(400, "ClaimRejectionReason is required");
    }
    if reject && statement.is_none() {
        return oms_error(400, "MerchantStatement is required");
    }
    let c = &mut s.claims;
    let Some(claim) = c.claims.iter_mut().find(|x| x.number == number) else {
        return oms_error(404, &format!("Claim {number} not found"));
    };
    if claim.status != "AwaitingAction" {
        return oms_error(
            400,
            &format!(
                "Claim {number} is {}; only AwaitingAction claims can be decided",
                claim.status
            ),
        );
    }
    claim.status_ms = now.max(claim.status_ms + 1);
    if reject {
        claim.status = "Rejected".into();
        c.rejects
            .push((number.to_string(), reason.unwrap_or_default()));
        c.statements.push(statement.unwrap_or_default());
    } else {
        claim.status = "Accepted".into();
        c.accepts.push(number.to_string());
    }
    StatusCode::OK.into_response()
}

impl HepsiburadaFake {
    /// The buyer claims `quantity` units of line `line_index` of
    /// `order_number` for `reason`; the claim starts `NewRequest`. Its
    /// claim number.
    pub fn add_claim(
        &self,
        order_number: &str,
        line_index: usize,
        quantity: i64,
        reason: &str,
    ) -> String {
        self.with(|s| {
            let now = s.orders.clock();
            let line = s
                .orders
                .lines
                .iter()
                .filter(|l| l.order_number == order_number)
                .nth(line_index)
                .expect("a line of the order")
                .clone();
            let c = &mut s.claims;
            c.next_number += 1;
            let number = (356_189_000 + c.next_number).to_string();
            c.claims.push(HbClaim {
                number: number.clone(),
                order_number: order_number.to_string(),
                line_id: line.id,
                merchant_sku: line.spec.merchant_sku,
                quantity,
                reason: reason.to_string(),
                status: "NewRequest".into(),
                claim_ms: now,
                status_ms: now,
            });
            number
        })
    }

    /// Hepsiburada moves claim `number` to `status` (its side of the flow).
    pub fn set_claim_status(&self, number: &str, status: &str) {
        assert!(CLAIM_STATUSES.contains(&status), "{status}");
        self.with(|s| {
            let now = s.orders.clock();
            let claim = s
                .claims
                .claims
                .iter_mut()
                .find(|c| c.number == number)
                .expect("a claim");
            claim.status = status.to_string();
            claim.status_ms = now.max(claim.status_ms + 1);
        });
    }

    /// The claim's status at Hepsiburada.
    pub fn claim_status(&self, number: &str) -> Option<String> {
        self.with(|s| {
            s.claims
                .claims
                .iter()
                .find(|c| c.number == number)
                .map(|c| c.status.clone())
        })
    }

    /// Executed accepts (claim numbers, in order).
    pub fn claim_accepts(&self) -> Vec<String> {
        self.with(|s| s.claims.accepts.clone())
    }

    /// Executed rejects: (claim number, reason).
    pub fn claim_rejects(&self) -> Vec<(String, String)> {
        self.with(|s| s.claims.rejects.clone())
    }

    /// The statements the executed rejects carried.
    pub fn claim_reject_statements(&self) -> Vec<String> {
        self.with(|s| s.claims.statements.clone())
    }

    pub fn claim_list_request_count(&self) -> usize {
        self.with(|s| s.claims.list_requests)
    }
}
