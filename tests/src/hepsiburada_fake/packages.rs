//! Packaging of lines on the oms host (docs/marketplace-wire.md H13):
//! "Kalem veya Kalemleri Paketleme" `POST /packages/merchantid/{id}` →
//! 201 `{"packageNumber", "barcode"}`, and "Saticiya Ait Paket Bilgilerini
//! Listeleme" `GET /packages/merchantid/{id}` → a bare JSON array of
//! packages with their items.
//!
//! Checks as the other package calls (auth, User-Agent, merchant id, rate
//! limit, fault injection by the caller: the create is an
//! `EndpointKind::Write` — a `LostAnswer` fault makes the package, then
//! answers the fault — the list a `Tracking` read). Here: the body
//! (`lineItemRequests` non-empty, each `id` a string named once and
//! `quantity` an integer ≥ 1; `parcelQuantity` an integer ≥ 1 and `deci` a
//! number ≥ 0 when given), every line known (404) and `Open` (400), of one
//! order, packed whole; the list's `limit` (< 1 → 400, above 10 served as
//! 10), `Offset` with a capital O (a lower-case `offset` is not read),
//! `timespan` in hours back from the fake's clock by packaging time,
//! `begindate`/`enddate` (`yyyy-MM-dd HH:mm`, Turkey time) on the same date.
//!
//! Modelled, UNCONFIRMED: the refusal statuses and texts, that a line's
//! quantity cannot be packed in part and lines of two orders not together,
//! the list's order (packaging time ascending), and the carrier of a new
//! package (the merchant's own: [`super::MERCHANT_ACCOUNT_CARRIER`]).

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{
    hb_json, iso_tr, parse_hb_date, query_text, HbPackage, HbState, HepsiburadaFake, HOUR_MS,
    MERCHANT_ACCOUNT_CARRIER, OPEN_STATUS, PACKAGED_STATUS, TEST_MERCHANT_ID,
};

pub const CREATE_PACKAGE: &str = "POST /packages/merchantid/{merchantId}";
pub const PACKAGE_LIST: &str = "GET /packages/merchantid/{merchantId}";
/// Largest and default page ("en fazla ve varsayılan olarak 10").
pub const PACKAGE_LIST_MAX_LIMIT: i64 = 10;

/// A refusal: a JSON string body, as the OAS documents the 400/404 of
/// this call.
fn refusal(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(Value::String(message.to_string())),
    )
        .into_response()
}

pub(super) fn create_package(s: &mut HbState, body: &Bytes) -> Response {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return refusal(400, "Request body must be a JSON object");
    };
    let Some(requests) = fields
        .get("lineItemRequests")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return refusal(400, "lineItemRequests is required");
    };
    if let Some(v) = fields.get("parcelQuantity").filter(|v| !v.is_null()) {
        if v.as_u64().is_none_or(|n| n < 1) {
            return refusal(400, "parcelQuantity must be a positive integer");
        }
    }
    if let Some(v) = fields.get("deci").filter(|v| !v.is_null()) {
        if !v.as_f64().is_some_and(|d| d >= 0.0) {
            return refusal(400, "deci must be a non-negative number");
        }
    }
    let mut asked: Vec<(String, i64)> = Vec::new();
    for r in requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .filter(|i| !i.is_empty());
        let quantity = r
            .get("quantity")
            .and_then(Value::as_i64)
            .filter(|q| *q >= 1);
        let (Some(id), Some(quantity)) = (id, quantity) else {
            return refusal(
                400,
                "every lineItemRequests item needs an id and a quantity of at least 1",
            );
        };
        if asked.iter().any(|(seen, _)| seen == id) {
            return refusal(400, &format!("Line item {id} is named twice"));
        }
        asked.push((id.to_string(), quantity));
    }
    let o = &mut s.orders;
    let mut order_number: Option<String> = None;
    for (id, quantity) in &asked {
        let Some(line) = o.lines.iter().find(|l| &l.id == id) else {
            return refusal(404, &format!("Line item {id} not found"));
        };
        if line.status != OPEN_STATUS {
            return refusal(
                400,
                &format!("Line item {id} is {} and cannot be packed", line.status),
            );
        }
        if *quantity != line.spec.quantity {
            return refusal(
                400,
                &format!(
                    "Line item {id} has quantity {}; {quantity} cannot be packed",
                    line.spec.quantity
                ),
            );
        }
        match &order_number {
            Some(n) if *n != line.order_number => {
                return refusal(
                    400,
                    "Line items of different orders cannot be packed together",
                )
            }
            _ => order_number = Some(line.order_number.clone()),
        }
    }
    let order_number = order_number.expect("at least one line");
    let now = o.clock();
    for line in o
        .lines
        .iter_mut()
        .filter(|l| asked.iter().any(|(id, _)| *id == l.id))
    {
        line.status = PACKAGED_STATUS.into();
        line.last_status_ms = now.max(line.last_status_ms + 1);
    }
    o.next_package_number += 1;
    let number = o.next_package_number.to_string();
    let package = HbPackage {
        barcode: format!("62{number}"),
        number: number.clone(),
        order_number,
        status: PACKAGED_STATUS.into(),
        cargo_company: MERCHANT_ACCOUNT_CARRIER.into(),
        packaged_ms: now,
        tracking_number: None,
        tracking_url: None,
        intransit_body: None,
        invoice: None,
        items: asked,
    };
    let answer = json!({"packageNumber": package.number, "barcode": package.barcode});
    o.created_packages.push(package.number.clone());
    o.packages.push(package);
    hb_json(201, answer)
}

/// A package in the list's shape: the buyer's data too, as Hepsiburada
/// lists it (the client must not keep or log it).
fn listed_json(s: &HbState, p: &HbPackage) -> Value {
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|(id, quantity)| {
            let line = s.orders.lines.iter().find(|l| &l.id == id);
            json!({
                "lineItemId": id,
                "orderNumber": p.order_number,
                "merchantId": TEST_MERCHANT_ID,
                "merchantSku": line.map(|l| l.spec.merchant_sku.clone()),
                "hbSku": line.map(|l| l.hb_sku.clone()),
                "quantity": quantity,
                "orderDate": line.map(|l| iso_tr(l.order_date_ms)),
            })
        })
        .collect();
    json!({
        "id": format!("pkg-{}", p.number),
        "packageNumber": p.number,
        "barcode": p.barcode,
        "status": p.status,
        "cargoCompany": p.cargo_company,
        "customerName": "Test Müşteri",
        "recipientName": "Test Müşteri",
        "email": "test.musteri@example.com",
        "phoneNumber": "05000000000",
        "shippingAddressDetail": "Test Mah. Örnek Sok. No:1",
        "identityNo": "11111111111",
        "items": items,
    })
}

pub(super) fn package_list(s: &mut HbState, uri: &Uri) -> Response {
    // Names are case-sensitive: `Offset`, not `offset`.
    let text = query_text(uri);
    let number = |k: &str, default: i64| match text(k) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("{k} must be an integer")),
    };
    let limit = match number("limit", PACKAGE_LIST_MAX_LIMIT) {
        Ok(n) if n >= 1 => n.min(PACKAGE_LIST_MAX_LIMIT),
        Ok(_) => return refusal(400, "limit must be at least 1"),
        Err(m) => return refusal(400, &m),
    };
    let offset = match number("Offset", 0) {
        Ok(n) if n >= 0 => n,
        Ok(_) => return refusal(400, "Offset must not be negative"),
        Err(m) => return refusal(400, &m),
    };
    let now = s.orders.clock();
    let mut from = match number("timespan", -1) {
        Ok(h) if h >= 0 => Some(now.saturating_sub(h as u64 * HOUR_MS)),
        Ok(_) if text("timespan").is_none() => None,
        Ok(_) => return refusal(400, "timespan must not be negative"),
        Err(m) => return refusal(400, &m),
    };
    let mut to = None;
    for (k, bound) in [("begindate", &mut from), ("enddate", &mut to)] {
        if let Some(v) = text(k) {
            match parse_hb_date(&v) {
                Some(ms) => *bound = Some(ms),
                None => return refusal(400, &format!("{k} must be yyyy-MM-dd HH:mm")),
            }
        }
    }
    let mut hits: Vec<&HbPackage> = s
        .orders
        .packages
        .iter()
        .filter(|p| from.is_none_or(|f| p.packaged_ms >= f) && to.is_none_or(|t| p.packaged_ms < t))
        .collect();
    hits.sort_by_key(|p| (p.packaged_ms, p.number.clone()));
    let page: Vec<Value> = hits
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|p| listed_json(s, p))
        .collect();
    hb_json(200, Value::Array(page))
}

impl HepsiburadaFake {
    /// Packages made by the create call, in order (package numbers): what
    /// the fake executed.
    pub fn created_packages(&self) -> Vec<String> {
        self.with(|s| s.orders.created_packages.clone())
    }

    /// The lines of a package: (line item id, quantity).
    pub fn package_items(&self, package_number: &str) -> Vec<(String, i64)> {
        self.with(|s| {
            s.orders
                .packages
                .iter()
                .find(|p| p.number == package_number)
                .map(|p| p.items.clone())
                .unwrap_or_default()
        })
    }

    /// Create requests that arrived (any outcome).
    pub fn create_package_request_count(&self) -> usize {
        self.request_count(CREATE_PACKAGE)
    }

    /// Package-list requests that arrived (any outcome).
    pub fn package_list_request_count(&self) -> usize {
        self.request_count(PACKAGE_LIST)
    }
}
