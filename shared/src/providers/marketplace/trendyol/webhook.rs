//! Trendyol order webhooks (docs/marketplace-wire.md T11). Trendyol signs nothing: it
//! presents the credentials we registered with the webhook, either HTTP Basic
//! or an API key in `x-api-key`. The payload is a whole shipment package, in
//! the shape of getShipmentPackages.

use crate::domain::delivery::{unix_ms_to_rfc3339, Delivery, Effect, MalformedPayload};
use crate::providers::marketplace::trendyol::orders::package_snapshot;

pub const API_KEY_HEADER: &str = "x-api-key";

/// A verified delivery → an order snapshot for `marketplace_orders`. The
/// delivery's identity is package id + status + last-modified time: the same
/// push repeated dedupes, a real change does not.
pub fn normalize_trendyol_package(raw_body: &[u8]) -> Result<Delivery, MalformedPayload> {
    let p = package_snapshot(raw_body).map_err(|e| MalformedPayload::new("trendyol", e))?;
    let package_id = p.package_id.clone().unwrap_or_default();
    Ok(Delivery {
        provider: "trendyol",
        event_id: format!("{package_id}:{}:{}", p.marketplace_status, p.occurred_ms),
        event_type: p.marketplace_status.clone(),
        occurred_at: unix_ms_to_rfc3339(p.occurred_ms)
            .ok_or_else(|| MalformedPayload::new("trendyol", "lastModifiedDate is out of range"))?,
        effect: Effect::MarketplaceOrder(p),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_push_becomes_an_order_event() {
        let body = br#"{"id": 3330111, "orderNumber": "10654411111", "status": "Created",
            "lastModifiedDate": 1795700000000, "lines": [{"id": 1, "quantity": 1}]}"#;
        let d = normalize_trendyol_package(body).unwrap();
        assert_eq!(d.event_id, "3330111:Created:1795700000000");
        let Effect::MarketplaceOrder(o) = d.effect else {
            panic!()
        };
        assert_eq!(o.order_number, "10654411111");
        assert_eq!(o.lines.len(), 1);
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(normalize_trendyol_package(b"{\"id\": []}").is_err());
        assert!(normalize_trendyol_package(b"not json").is_err());
    }
}
