//! Trendyol order webhooks (providers.md §3.5). Trendyol signs nothing: it
//! presents the credentials we registered with the webhook, either HTTP Basic
//! or an API key in `x-api-key`. The payload is a whole shipment package, in
//! the shape of getShipmentPackages.

use serde::Deserialize;

use crate::domain::delivery::{unix_ms_to_rfc3339, Delivery, Effect, MalformedPayload};
use crate::domain::event::MarketplaceOrderDetail;

pub const API_KEY_HEADER: &str = "x-api-key";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentPackage {
    /// The shipment package id (a new one when a line is cancelled and the
    /// package splits).
    #[serde(deserialize_with = "number_or_string")]
    id: String,
    order_number: String,
    /// Package status word: Created, Picking, Invoiced, Shipped, Cancelled,
    /// Delivered, UnDelivered, Returned, Repack, UnPacked, UnSupplied, Awaiting…
    #[serde(alias = "shipmentPackageStatus")]
    status: String,
    /// Epoch milliseconds.
    last_modified_date: Option<i64>,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

/// A verified delivery → `marketplace.order.created` (status Created) or
/// `marketplace.order.status_changed`. The identity is package id + status +
/// last-modified time: the same push repeated dedupes, a real change does not.
pub fn normalize_trendyol_package(raw_body: &[u8]) -> Result<Delivery, MalformedPayload> {
    let p: ShipmentPackage =
        serde_json::from_slice(raw_body).map_err(|e| MalformedPayload::new("trendyol", e))?;
    let modified = p.last_modified_date.unwrap_or_default();
    Ok(Delivery {
        provider: "trendyol",
        event_id: format!("{}:{}:{}", p.id, p.status, modified),
        event_type: p.status.clone(),
        occurred_at: unix_ms_to_rfc3339(modified)
            .ok_or_else(|| MalformedPayload::new("trendyol", "lastModifiedDate is out of range"))?,
        effect: Effect::MarketplaceOrder(MarketplaceOrderDetail {
            marketplace: "trendyol".into(),
            order_number: p.order_number,
            package_id: Some(p.id),
            status: p.status.to_ascii_lowercase(),
            marketplace_status: p.status,
        }),
    })
}

/// Whether a normalized Trendyol status announces a new order.
pub fn is_new_order(status: &str) -> bool {
    status == "created"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_push_becomes_an_order_event() {
        let body = br#"{"id": 3330111, "orderNumber": "10654411111", "status": "Created",
            "lastModifiedDate": 1795700000000, "lines": [{"quantity": 1}]}"#;
        let d = normalize_trendyol_package(body).unwrap();
        assert_eq!(d.event_id, "3330111:Created:1795700000000");
        let Effect::MarketplaceOrder(o) = d.effect else {
            panic!()
        };
        assert_eq!(o.order_number, "10654411111");
        assert!(is_new_order(&o.status));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(normalize_trendyol_package(b"{\"id\": []}").is_err());
        assert!(normalize_trendyol_package(b"not json").is_err());
    }
}
