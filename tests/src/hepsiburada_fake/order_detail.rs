//! One order by its number on the oms host — "Siparişe Ait Detay
//! Listeleme", `GET /orders/merchantid/{merchantId}/ordernumber/{orderNumber}`
//! (docs/marketplace-wire.md H17). Answers the order's line items, any
//! status, as `{"orderNumber", "items"}` (UNCONFIRMED shape); an order the
//! fake does not hold → 404 `{"message": …}` (UNCONFIRMED). Auth,
//! User-Agent, merchant id, the order services' limit and fault injection
//! (`EndpointKind::Orders`) are applied by the caller.
//!
//! `forget_order` drops an order from the fake: an order of ours (from a
//! forged or misrouted notice) Hepsiburada does not know.

use axum::response::Response;
use serde_json::json;

use super::{hb_json, oms_error, HbState, HepsiburadaFake};

/// "Siparişe Ait Detay Listeleme".
pub const ORDER_DETAIL: &str = "GET /orders/merchantid/{merchantId}/ordernumber/{orderNumber}";

pub(super) fn order_detail(s: &HbState, order_number: &str) -> Response {
    let items = s.orders.items_of(order_number);
    if items.is_empty() {
        return oms_error(404, &format!("Order not found: {order_number}"));
    }
    hb_json(200, json!({"orderNumber": order_number, "items": items}))
}

impl HepsiburadaFake {
    /// Drops order `order_number` (all its lines) from the fake.
    pub fn forget_order(&self, order_number: &str) {
        self.with(|s| s.orders.lines.retain(|l| l.order_number != order_number));
    }

    /// Order-detail requests that arrived (faults and 429s included).
    pub fn order_detail_request_count(&self) -> usize {
        self.request_count(ORDER_DETAIL)
    }
}
