//! Hepsiburada's cancelled-line list on the oms host
//! (docs/marketplace-wire.md H15): "İptal Sipariş Bilgileri Listeleme".
//!
//! A line is listed once its status is [`CANCELLED_STATUS`] (any case), with
//! its last status change as `cancelDate`. Checks as the order list (H6):
//! Basic auth, User-Agent, merchant id, the order-service rate limit and
//! fault injection (`EndpointKind::Orders`) are applied by the caller;
//! here `offset`/`limit` (optional: 0 / 50, a larger limit silently served
//! as 50), the date format and the 24 h window (UNCONFIRMED: modelled like
//! the order list's).

use axum::http::Uri;
use axum::response::Response;
use serde_json::{json, Value};

use super::{
    hb_json, iso_tr, oms_error, parse_hb_date, query_text, HbLine, HbOrderQuery, HbState,
    TEST_MERCHANT_ID,
};

/// "İptal Sipariş Bilgileri Listeleme".
pub const ORDER_CANCELLED_LIST: &str = "GET /orders/merchantid/{merchantId}/cancelled";
/// Largest and default page ("en fazla ve varsayılan olarak 50").
pub const CANCELLED_MAX_LIMIT: i64 = 50;
/// The line status the list shows.
pub const CANCELLED_STATUS: &str = "Cancelled";
/// Reason and canceller the fake reports (values UNCONFIRMED).
pub const CANCEL_REASON_CODE: &str = "CustomerRequest";
pub const CANCELLED_BY: &str = "Customer";

fn is_cancelled(l: &HbLine) -> bool {
    l.status.eq_ignore_ascii_case(CANCELLED_STATUS)
}

fn cancelled_json(l: &HbLine) -> Value {
    json!({
        "lineItemId": l.id,
        "orderNumber": l.order_number,
        "merchantId": TEST_MERCHANT_ID,
        "merchantSku": l.spec.merchant_sku,
        "sku": l.hb_sku,
        "quantity": l.spec.quantity,
        "cancelDate": iso_tr(l.last_status_ms),
        "cancelReasonCode": CANCEL_REASON_CODE,
        "cancelledBy": CANCELLED_BY,
    })
}

pub(super) fn cancelled_list(s: &mut HbState, uri: &Uri) -> Response {
    let text = query_text(uri);
    let (offset_raw, limit_raw) = (text("offset"), text("limit"));
    let (begindate, enddate) = (text("begindate"), text("enddate"));
    let mut q = HbOrderQuery {
        raw: uri.query().unwrap_or("").to_string(),
        offset: offset_raw.as_deref().and_then(|v| v.trim().parse().ok()),
        limit: limit_raw.as_deref().and_then(|v| v.trim().parse().ok()),
        begin_ms: begindate.as_deref().and_then(parse_hb_date),
        end_ms: enddate.as_deref().and_then(parse_hb_date),
        begindate,
        enddate,
        effective_end_ms: None,
        truncated: false,
        http_status: 0,
        returned: vec![],
        served_at_ms: 0,
    };
    let result = (|| -> Result<(Value, Vec<String>), String> {
        let offset = match (&offset_raw, q.offset) {
            (None, _) => 0,
            (Some(_), Some(o)) if o >= 0 => o,
            (Some(raw), _) => return Err(format!("offset must be an integer >= 0: {raw}")),
        };
        let limit = match (&limit_raw, q.limit) {
            (None, _) => CANCELLED_MAX_LIMIT,
            (Some(_), Some(l)) if l >= 1 => l.min(CANCELLED_MAX_LIMIT),
            (Some(raw), _) => return Err(format!("limit must be an integer >= 1: {raw}")),
        };
        let unreadable_date = [(&q.begindate, q.begin_ms), (&q.enddate, q.end_ms)]
            .iter()
            .any(|(raw, parsed)| raw.is_some() && parsed.is_none());
        if unreadable_date {
            return Ok((
                json!({"totalCount": 0, "limit": limit, "offset": offset, "pageCount": 0, "items": []}),
                vec![],
            ));
        }
        let (lo, hi, truncated) = super::served_window(q.begin_ms, q.end_ms);
        q.truncated |= truncated;
        q.effective_end_ms = hi;
        let cancelled = s.orders.lines.iter().filter(|l| is_cancelled(l));
        Ok(super::window_page(
            cancelled,
            (lo, hi),
            (offset, limit),
            |l| l.last_status_ms,
            cancelled_json,
        ))
    })();
    let response = match result {
        Ok((body, ids)) => {
            q.returned = ids;
            hb_json(200, body)
        }
        Err(message) => oms_error(400, &message),
    };
    q.http_status = response.status().as_u16();
    q.served_at_ms = s.orders.clock();
    s.orders.cancelled_queries.push(q);
    response
}

impl super::HepsiburadaFake {
    /// Cancels every line of the order (they leave the paid-order list and
    /// appear in the cancelled list, dated now); returns the line ids.
    pub fn cancel_order(&self, order_number: &str) -> Vec<String> {
        self.update_status(order_number, CANCELLED_STATUS)
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Cancelled-list requests that reached the handler, in arrival order.
    pub fn cancelled_list_queries(&self) -> Vec<HbOrderQuery> {
        self.with(|s| s.orders.cancelled_queries.clone())
    }

    /// Cancelled-list requests that arrived (any outcome).
    pub fn cancelled_list_request_count(&self) -> usize {
        self.request_count(ORDER_CANCELLED_LIST)
    }
}
