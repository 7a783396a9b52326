//! Hepsiburada's seller actions on the oms host (docs/marketplace-wire.md
//! H13): "Fatura Linki Gonderme" `PUT …/packagenumber/{no}/invoice` (204),
//! the packages missing an invoice `GET …/missing-invoice`, and the
//! merchant cancel of a line not yet packed `POST /lineitems/merchantid/
//! {id}/id/{lineId}/cancelbymerchant` `{"reasonId"}` (200; 400 with a
//! string body — the line then shows in the cancelled list, H15).
//!
//! Checks as the other package calls (auth, User-Agent, merchant id, rate
//! limit, fault injection — `EndpointKind::Tracking` — by the caller).
//! Modelled, UNCONFIRMED: the required body fields (`invoiceLink`,
//! `arrangementDate` as an ISO 8601 instant, `serialNumber`, `rowNumber`),
//! the 400 for a package that has an invoice already or is cancelled, the
//! missing-invoice list's paging (`offset`/`limit`, ≤ 100) and its item
//! fields (`packageNumber`, `orderNumber`, `status`).
//!
//! The invoice call is an `EndpointKind::Write` for fault injection (the
//! reads around it are `Tracking`); a `LostAnswer` fault on it processes it, then answers the
//! fault (the link is there, the answer lost).

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{
    hb_json, oms_error, package_not_found, parse_iso_instant, HbPackage, HbState, HepsiburadaFake,
    OPEN_STATUS,
};

pub const PACKAGE_INVOICE: &str =
    "PUT /packages/merchantid/{merchantId}/packagenumber/{packageNumber}/invoice";
pub const MISSING_INVOICE: &str = "GET /packages/merchantid/{merchantId}/missing-invoice";
pub const CANCEL_BY_MERCHANT: &str =
    "POST /lineitems/merchantid/{merchantId}/id/{lineId}/cancelbymerchant";

/// A 400 with a bare string body, as the OAS documents for the cancel.
fn string_refusal(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(Value::String(message.to_string())),
    )
        .into_response()
}

pub(super) fn cancel_by_merchant(s: &mut HbState, line_id: &str, body: &Bytes) -> Response {
    let reason = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("reasonId").and_then(Value::as_u64))
        .filter(|r| *r > 0);
    let Some(reason) = reason else {
        return string_refusal("reasonId is required");
    };
    let now = s.orders.clock();
    let o = &mut s.orders;
    let Some(line) = o.lines.iter_mut().find(|l| l.id == line_id) else {
        return string_refusal(&format!("Line item {line_id} not found"));
    };
    if line.status != OPEN_STATUS {
        return string_refusal(&format!(
            "Line item {line_id} is {} and cannot be cancelled by the merchant",
            line.status
        ));
    }
    line.status = super::CANCELLED_STATUS.into();
    line.last_status_ms = now.max(line.last_status_ms + 1);
    o.merchant_cancels.push((line_id.to_string(), reason));
    StatusCode::OK.into_response()
}
const MISSING_MAX_LIMIT: usize = 100;

/// Fields the fake requires (UNCONFIRMED which Hepsiburada requires).
pub const INVOICE_REQUIRED: &[&str] = &[
    "invoiceLink",
    "arrangementDate",
    "serialNumber",
    "rowNumber",
];

fn invoiceable(p: &HbPackage) -> bool {
    !["Cancelled", "Unpacked"]
        .iter()
        .any(|s| p.status.eq_ignore_ascii_case(s))
}

pub(super) fn send_invoice(s: &mut HbState, no: &str, body: &Bytes) -> Response {
    let o = &mut s.orders;
    let Some(p) = o.packages.iter_mut().find(|p| p.number == no) else {
        return package_not_found(no);
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return oms_error(400, "Request body must be a JSON object");
    };
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if let Some(missing) = INVOICE_REQUIRED.iter().find(|k| text(k).trim().is_empty()) {
        return oms_error(400, &format!("{missing} is required"));
    }
    if !text("invoiceLink").starts_with("https://") {
        return oms_error(400, "invoiceLink must be an https link");
    }
    if parse_iso_instant(&text("arrangementDate")).is_none() {
        return oms_error(400, "arrangementDate must be an ISO 8601 date");
    }
    if !invoiceable(p) {
        return oms_error(
            400,
            &format!(
                "Package {no} is in status {} and cannot take an invoice",
                p.status
            ),
        );
    }
    if let Some(message) = o.invoice_refusal.take() {
        return oms_error(400, &message);
    }
    if p.invoice.is_some() {
        return oms_error(400, &format!("Package {no} already has an invoice"));
    }
    p.invoice = Some(Value::Object(fields.clone()));
    o.invoice_links.push((no.to_string(), text("invoiceLink")));
    StatusCode::NO_CONTENT.into_response()
}

pub(super) fn missing_invoice(s: &HbState, uri: &Uri) -> Response {
    let param = |k: &str| {
        uri.query().unwrap_or("").split('&').find_map(|kv| {
            kv.split_once('=')
                .filter(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        })
    };
    let offset = match param("offset").map(|v| v.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return oms_error(400, "offset must be a number"),
    };
    let limit = match param("limit").map(|v| v.parse::<usize>()) {
        None => MISSING_MAX_LIMIT,
        Some(Ok(n)) if (1..=MISSING_MAX_LIMIT).contains(&n) => n,
        Some(_) => return oms_error(400, "limit must be 1–100"),
    };
    let items: Vec<Value> = s
        .orders
        .packages
        .iter()
        .filter(|p| p.invoice.is_none() && invoiceable(p))
        .skip(offset)
        .take(limit)
        .map(|p| {
            json!({
                "packageNumber": p.number,
                "orderNumber": p.order_number,
                "status": p.status,
            })
        })
        .collect();
    hb_json(200, Value::Array(items))
}

impl HepsiburadaFake {
    /// Accepted invoice links, in order: (package number, link).
    pub fn invoice_links(&self) -> Vec<(String, String)> {
        self.with(|s| s.orders.invoice_links.clone())
    }

    /// The last accepted invoice body of a package.
    pub fn invoice_body(&self, package_number: &str) -> Option<Value> {
        self.with(|s| {
            s.orders
                .packages
                .iter()
                .find(|p| p.number == package_number)?
                .invoice
                .clone()
        })
    }

    /// Executed merchant cancels, in order: (line id, reason id).
    pub fn merchant_cancels(&self) -> Vec<(String, u64)> {
        self.with(|s| s.orders.merchant_cancels.clone())
    }

    /// Merchant-cancel requests that arrived (any outcome).
    pub fn cancel_request_count(&self) -> usize {
        self.request_count(CANCEL_BY_MERCHANT)
    }

    /// Invoice-link requests that arrived (any outcome).
    pub fn invoice_request_count(&self) -> usize {
        self.request_count(PACKAGE_INVOICE)
    }

    /// The next invoice link (a valid one, for a package without an
    /// invoice) is refused 400 with `message`: a rule of Hepsiburada's the
    /// fake does not model.
    pub fn refuse_next_invoice(&self, message: &str) {
        self.with(|s| s.orders.invoice_refusal = Some(message.to_string()));
    }

    /// Gives a package an invoice made elsewhere (the seller's panel).
    pub fn set_package_invoice(&self, package_number: &str, link: &str) {
        self.with(|s| {
            let p = s
                .orders
                .packages
                .iter_mut()
                .find(|p| p.number == package_number)
                .unwrap_or_else(|| panic!("unknown Hepsiburada package {package_number}"));
            p.invoice = Some(json!({ "invoiceLink": link }));
        })
    }
}
