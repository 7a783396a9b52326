//! Trendyol claims (returns) on the fake: getClaims
//! (docs/marketplace-wire.md T14). Claims are made against stored packages
//! (`add_claim`), their items move by `set_claim_item_status` (Trendyol's
//! side: acceptance, rejection, …); every change bumps `lastModifiedDate`.
//!
//! Checks as getShipmentPackages (T8): auth, User-Agent, seller id, the
//! per-endpoint limit and fault injection (`EndpointKind::Orders`) are
//! applied by the caller; here `page` ≥ 0, `size` 1–200 (default 50),
//! numeric dates, a window of at most 14 days (UNCONFIRMED for claims:
//! modelled like the packages), selection on `lastModifiedDate`
//! (UNCONFIRMED), oldest change first.

use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use super::{business_error, query_param, ty_json, TyState, ORDERS_MAX_WINDOW_MS};

/// getClaims.
pub const CLAIMS: &str = "GET /integration/order/sellers/{sellerId}/claims";
/// approveClaimLineItems.
pub const APPROVE_CLAIM: &str =
    "PUT /integration/order/sellers/{sellerId}/claims/{claimId}/items/approve";
/// createClaimIssue (the rejection), a `multipart/form-data` form.
pub const REJECT_CLAIM: &str = "POST /integration/order/sellers/{sellerId}/claims/{claimId}/issue";
/// getClaimsIssueReasons: not seller-scoped (T14).
pub const CLAIM_ISSUE_REASONS: &str = "GET /integration/order/claim-issue-reasons";
/// Trendyol's claim issue reasons, as its page lists them (T14,
/// [TY-ISSUE-REASONS]).
pub const CLAIM_ISSUE_REASON_IDS: &[(i64, &str)] = &[
    (1, "İade gelen ürün sahte"),
    (51, "İade gelen ürün kullanılmış"),
    (201, "İade gelen ürün yanlış"),
    (251, "İade gelen ürün defolu / zarar görmüş"),
    (401, "Eksik ürün"),
    (101, "Fazla ürün"),
    (151, "Ürünün bir parçası / aksesuarı eksik"),
    (301, "Ürün bana ait değil"),
    (351, "İade paketi boş geldi"),
    (1651, "İade paketi elime ulaşmadı"),
    (1701, "Ürün yanlış değil"),
    (1751, "Ürün kusurlu değil"),
    (451, "Diğer"),
];
pub const CLAIMS_MAX_PAGE_SIZE: i64 = 200;
pub const CLAIMS_DEFAULT_PAGE_SIZE: i64 = 50;
/// Claim item statuses (docs/marketplace-wire.md T14).
pub const CLAIM_ITEM_STATUSES: &[&str] = &[
    "Created",
    "WaitingInAction",
    "WaitingFraudCheck",
    "InAnalysis",
    "Unresolved",
    "Accepted",
    "Rejected",
    "Cancelled",
];

#[derive(Debug, Clone)]
struct ClaimItem {
    id: String,
    line_id: i64,
    reason_id: i64,
    status: String,
}

#[derive(Debug, Clone)]
struct Claim {
    id: String,
    order_number: String,
    package_id: i64,
    claim_date_ms: u64,
    last_modified_ms: u64,
    items: Vec<ClaimItem>,
}

#[derive(Default)]
pub(super) struct TyClaims {
    claims: Vec<Claim>,
    next: u64,
    /// Executed approvals: (claim id, item ids).
    approvals: Vec<(String, Vec<String>)>,
    /// Executed rejections: (claim id, item ids, reason id, description).
    rejections: Vec<Rejection>,
    /// Reads of the claim issue reasons.
    issue_reason_reads: usize,
}

/// A rejection the fake executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub claim_id: String,
    pub items: Vec<String>,
    pub reason_id: i64,
    pub description: String,
}

fn claim_json(s: &TyState, c: &Claim) -> Value {
    let package = s.orders.packages.iter().find(|p| p.id == c.package_id);
    let mut lines: Vec<i64> = c.items.iter().map(|i| i.line_id).collect();
    lines.dedup();
    let items: Vec<Value> = lines
        .iter()
        .map(|line_id| {
            let spec = package.and_then(|p| p.lines.iter().find(|(id, _)| id == line_id));
            json!({
                "orderLine": {
                    "id": line_id,
                    "productName": spec.map(|(_, l)| l.product_name.clone()),
                    "barcode": spec.map(|(_, l)| l.barcode.clone()),
                    "merchantSku": spec.map(|(_, l)| l.merchant_sku.clone()),
                    "productColor": "Standart",
                    "productSize": " Tek Ebat",
                    "price": spec.map(|(_, l)| l.price),
                    "vatBaseAmount": 20,
                },
                "claimItems": c.items.iter().filter(|i| i.line_id == *line_id).map(|i| json!({
                    "id": i.id,
                    "orderLineItemId": i.line_id * 10,
                    "customerClaimItemReason": {"id": i.reason_id, "name": format!("reason {}", i.reason_id), "code": "CODE"},
                    "trendyolClaimItemReason": {"id": i.reason_id, "name": format!("reason {}", i.reason_id), "code": "CODE"},
                    "claimItemStatus": {"name": i.status},
                    "note": "",
                    "customerNote": "Test Müşteri 05000000000",
                    "resolved": matches!(i.status.as_str(), "Accepted" | "Rejected" | "Cancelled"),
                    "autoAccepted": false,
                    "acceptedBySeller": false,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "id": c.id,
        "claimId": c.id,
        "orderNumber": c.order_number,
        "orderDate": package.map(|p| p.order_date_ms),
        "customerFirstName": "Test",
        "customerLastName": "Müşteri",
        "claimDate": c.claim_date_ms,
        "cargoTrackingNumber": 7_260_242_095_704_u64,
        "cargoProviderName": "Trendyol Express",
        "orderShipmentPackageId": c.package_id,
        "items": items,
        "lastModifiedDate": c.last_modified_ms,
    })
}

pub(super) fn claims_list(s: &mut TyState, uri: &Uri) -> Response {
    let result = (|| -> Result<Value, String> {
        for k in ["page", "size", "startDate", "endDate"] {
            if let Some(v) = query_param(uri, k).filter(|v| !v.trim().is_empty()) {
                if v.trim().parse::<i64>().is_err() {
                    return Err(format!("{k} must be a number: {v}"));
                }
            }
        }
        let num = |k: &str| query_param(uri, k).and_then(|v| v.trim().parse::<i64>().ok());
        let page = num("page").unwrap_or(0);
        let size = num("size").unwrap_or(CLAIMS_DEFAULT_PAGE_SIZE);
        if page < 0 || !(1..=CLAIMS_MAX_PAGE_SIZE).contains(&size) {
            return Err(format!(
                "page must be >= 0 and size 1..=200: page={page}, size={size}"
            ));
        }
        // `claimIds` given: every other parameter is ignored (T14).
        if let Some(ids) = query_param(uri, "claimIds").filter(|v| !v.trim().is_empty()) {
            let ids: Vec<&str> = ids.split(',').map(str::trim).collect();
            let content: Vec<Value> = s
                .claims
                .claims
                .iter()
                .filter(|c| ids.contains(&c.id.as_str()))
                .map(|c| claim_json(s, c))
                .collect();
            return Ok(json!({
                "totalElements": content.len(), "totalPages": 1, "page": 0,
                "size": size, "content": content,
            }));
        }
        let (start, end) = (num("startDate"), num("endDate"));
        if let (Some(a), Some(b)) = (start, end) {
            if b < a || (b - a) as u64 > ORDERS_MAX_WINDOW_MS {
                return Err("the date range must be at most two weeks".into());
            }
        }
        let mut hits: Vec<&Claim> = s
            .claims
            .claims
            .iter()
            .filter(|c| {
                start.is_none_or(|a| c.last_modified_ms as i64 >= a)
                    && end.is_none_or(|b| c.last_modified_ms as i64 <= b)
            })
            .collect();
        hits.sort_by_key(|c| c.last_modified_ms);
        let total = hits.len();
        let content: Vec<Value> = hits
            .into_iter()
            .skip((page * size) as usize)
            .take(size as usize)
            .map(|c| claim_json(s, c))
            .collect();
        Ok(json!({
            "totalElements": total,
            "totalPages": total.div_ceil(size as usize),
            "page": page,
            "size": size,
            "content": content,
        }))
    })();
    match result {
        Ok(body) => ty_json(200, body),
        Err(message) => business_error(400, "claim.query.invalid", &message),
    }
}

/// approveClaimLineItems: every listed item must belong to the claim and
/// wait in `WaitingInAction` (the refusal's envelope and text: UNCONFIRMED).
pub(super) fn approve_claim(s: &mut TyState, claim_id: &str, body: &[u8]) -> Response {
    let ids: Vec<String> = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("claimLineItemIdList").and_then(Value::as_array) {
            Some(list) if !list.is_empty() && list.iter().all(Value::is_string) => list
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect(),
            _ => {
                return business_error(
                    400,
                    "claimLineItemIdList.required",
                    "claimLineItemIdList must be a non-empty list of claim item ids",
                )
            }
        },
        Err(_) => return business_error(400, "request.body.invalid", "the body is not JSON"),
    };
    if let Some(refusal) = decide_waiting_items(s, claim_id, &ids, "Accepted", 400) {
        return refusal;
    }
    s.claims.approvals.push((claim_id.to_string(), ids));
    ty_json(200, Value::Null)
}

/// The text fields of a `multipart/form-data` body, by name; `Err` when the
/// Content-Type or the framing is not a form.
pub fn form_fields(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = ct
        .strip_prefix("multipart/form-data;")
        .and_then(|rest| rest.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| format!("Content-Type must be multipart/form-data: {ct}"))?;
    let body = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_string())?;
    let delimiter = format!("--{boundary}");
    let mut parts = body.split(delimiter.as_str());
    if parts.next() != Some("") {
        return Err("the form does not start with its boundary".into());
    }
    let mut fields = Vec::new();
    let mut closed = false;
    for part in parts {
        if part.starts_with("--") {
            closed = true;
            break;
        }
        let part = part
            .strip_prefix("\r\n")
            .and_then(|p| p.strip_suffix("\r\n"))
            .ok_or("a form part is not framed by CRLF")?;
        let (head, value) = part
            .split_once("\r\n\r\n")
            .ok_or("a form part has no header end")?;
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
            .ok_or("a form part has no name")?;
        fields.push((name.to_string(), value.to_string()));
    }
    if !closed {
        return Err("the form is not closed".into());
    }
    Ok(fields)
}

/// getClaimsIssueReasons: a bare array of `{id, name}` (T14); counted.
pub(super) fn claim_issue_reasons(s: &mut TyState) -> Response {
    s.claims.issue_reason_reads += 1;
    let rows: Vec<Value> = CLAIM_ISSUE_REASON_IDS
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    ty_json(200, Value::Array(rows))
}

/// createClaimIssue: a form of `claimIssueReasonId` (one of the claim
/// issue reasons: another is 400, UNCONFIRMED text),
/// `claimItemIdList` (comma-separated items of the claim) and
/// `description` (1–500 characters), 400 otherwise; an item not in
/// `WaitingInAction` is 409 (the refusal's status and text: UNCONFIRMED).
/// The items move to `Rejected`.
pub(super) fn reject_claim(
    s: &mut TyState,
    claim_id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let fields = match form_fields(headers, body) {
        Ok(f) => f,
        Err(message) => return business_error(400, "request.body.invalid", &message),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(reason_id) = field("claimIssueReasonId")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| CLAIM_ISSUE_REASON_IDS.iter().any(|(id, _)| id == n))
    else {
        return business_error(
            400,
            "claimIssueReasonId.required",
            "claimIssueReasonId must be a claim issue reason id",
        );
    };
    let ids: Vec<String> = field("claimItemIdList")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return business_error(
            400,
            "claimItemIdList.required",
            "claimItemIdList must list claim item ids",
        );
    }
    let Some(description) = field("description")
        .filter(|d| !d.trim().is_empty() && d.chars().count() <= 500)
        .map(str::to_string)
    else {
        return business_error(
            400,
            "description.invalid",
            "description must be 1 to 500 characters",
        );
    };
    if let Some(refusal) = decide_waiting_items(s, claim_id, &ids, "Rejected", 409) {
        return refusal;
    }
    s.claims.rejections.push(Rejection {
        claim_id: claim_id.to_string(),
        items: ids,
        reason_id,
        description,
    });
    ty_json(200, Value::Null)
}

/// Moves claim items `ids` of `claim_id` from WaitingInAction to `status`
/// (`None`), or the refusal (404 unknown claim, 400 an item not in it, `not_waiting` for
/// an item in another status: approve answers 400, reject 409 — neither is
/// confirmed, our client reads the claim back either way).
fn decide_waiting_items(
    s: &mut TyState,
    claim_id: &str,
    ids: &[String],
    status: &str,
    not_waiting: u16,
) -> Option<Response> {
    let now = s.orders.clock();
    let Some(c) = s.claims.claims.iter_mut().find(|c| c.id == claim_id) else {
        return Some(business_error(
            404,
            "claim.not.found",
            &format!("İade talebi bulunamadı: {claim_id}"),
        ));
    };
    for id in ids {
        match c.items.iter().find(|i| &i.id == id) {
            None => {
                return Some(business_error(
                    400,
                    "claim.item.not.found",
                    &format!("claim item {id} is not in claim {claim_id}"),
                ))
            }
            Some(i) if i.status != "WaitingInAction" => {
                return Some(business_error(
                    not_waiting,
                    "claim.item.status.not.valid",
                    &format!(
                    "claim item {id} is {}; only WaitingInAction items can be moved to {status}",
                    i.status
                ),
                ))
            }
            Some(_) => {}
        }
    }
    for i in c.items.iter_mut().filter(|i| ids.contains(&i.id)) {
        i.status = status.into();
    }
    c.last_modified_ms = now.max(c.last_modified_ms + 1);
    None
}

impl super::TrendyolFake {
    /// Rejections the fake executed.
    pub fn claim_rejections(&self) -> Vec<Rejection> {
        self.with(|s| s.claims.rejections.clone())
    }

    /// Reads of getClaimsIssueReasons that reached the fake.
    pub fn claim_issue_reason_reads(&self) -> usize {
        self.with(|s| s.claims.issue_reason_reads)
    }

    /// Approvals the fake executed: (claim id, item ids).
    pub fn claim_approvals(&self) -> Vec<(String, Vec<String>)> {
        self.with(|s| s.claims.approvals.clone())
    }

    /// A claim (return) on the lines of package `package_id`: one claim
    /// item per unit of `(line index, units)`, reason `reason_id`, status
    /// `Created`, dated now. Returns the claim id and its item ids.
    pub fn add_claim(
        &self,
        package_id: i64,
        units: &[(usize, usize)],
        reason_id: i64,
    ) -> (String, Vec<String>) {
        self.with(|s| {
            let now = s.orders.clock();
            let p = s
                .orders
                .packages
                .iter()
                .find(|p| p.id == package_id)
                .unwrap_or_else(|| panic!("unknown Trendyol package {package_id}"))
                .clone();
            s.claims.next += 1;
            let id = format!(
                "c1a1{:04x}-0000-4000-8000-{:012x}",
                s.claims.next, s.claims.next
            );
            let mut items = Vec::new();
            for (line, n) in units {
                let (line_id, _) = p.lines[*line];
                for _ in 0..*n {
                    s.claims.next += 1;
                    items.push(ClaimItem {
                        id: format!(
                            "1e0{:05x}-0000-4000-8000-{:012x}",
                            s.claims.next, s.claims.next
                        ),
                        line_id,
                        reason_id,
                        status: "Created".into(),
                    });
                }
            }
            let ids = items.iter().map(|i| i.id.clone()).collect();
            s.claims.claims.push(Claim {
                id: id.clone(),
                order_number: p.order_number.clone(),
                package_id,
                claim_date_ms: now,
                last_modified_ms: now,
                items,
            });
            (id, ids)
        })
    }

    /// Moves claim items (all of the claim's when `items` is empty) to
    /// `status` (Trendyol's side) and bumps the claim's `lastModifiedDate`.
    pub fn set_claim_item_status(&self, claim_id: &str, items: &[String], status: &str) {
        assert!(
            CLAIM_ITEM_STATUSES.contains(&status),
            "unknown claim item status {status}"
        );
        self.with(|s| {
            let now = s.orders.clock();
            let c = s
                .claims
                .claims
                .iter_mut()
                .find(|c| c.id == claim_id)
                .unwrap_or_else(|| panic!("unknown claim {claim_id}"));
            for i in c.items.iter_mut() {
                if items.is_empty() || items.contains(&i.id) {
                    i.status = status.into();
                }
            }
            c.last_modified_ms = now.max(c.last_modified_ms + 1);
        })
    }

    /// A claim in the getClaims shape.
    pub fn claim(&self, claim_id: &str) -> Option<Value> {
        self.with(|s| {
            let c = s.claims.claims.iter().find(|c| c.id == claim_id)?.clone();
            Some(claim_json(s, &c))
        })
    }

    /// getClaims requests that arrived (any outcome).
    pub fn claims_request_count(&self) -> usize {
        self.request_count(CLAIMS)
    }
}
