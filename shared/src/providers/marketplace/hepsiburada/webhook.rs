//! Hepsiburada order webhooks (docs/marketplace-wire.md H11): HB calls
//! `<our base>/<eventName>` (createOrder, createPackages, orderCancel, unpack,
//! intransit, deliver, …) with the Basic-auth credentials we registered.
//!
//! UNCONFIRMED: the payload shape comes from a third-party SDK, not from HB's
//! own documentation. Everything that depends on it is in this file: the
//! field names below and the event identity. If HB's real payload differs,
//! this is the only place to change.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::delivery::{Delivery, Effect, MalformedPayload};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::OrderSnapshot;

/// Event names (the last path segment) that we turn into order events.
/// Claim notices (`claims/awaitingaction`, `claims/accept`, … H16) are
/// answered `ignored` on purpose: order-poll's claims feed finds every
/// claim, and a notice repeats the buyer's name and text.
pub const ORDER_EVENTS: &[&str] = &[
    "createOrder",
    "createPackages",
    "orderCancel",
    "unpack",
    "intransit",
    "deliver",
    "undeliver",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HbEvent {
    /// UNCONFIRMED field names: an event/message id if HB sends one.
    #[serde(alias = "eventId", alias = "messageId", alias = "id")]
    event_id: Option<serde_json::Value>,
    #[serde(alias = "OrderNumber")]
    order_number: Option<String>,
}

/// Normalizes a verified delivery of `event_name`. Without an event id in the
/// payload, the identity is a hash of event name and body, so an identical
/// redelivery still dedupes.
pub fn normalize_hepsiburada_event(
    event_name: &str,
    raw_body: &[u8],
) -> Result<Delivery, MalformedPayload> {
    let e: HbEvent =
        serde_json::from_slice(raw_body).map_err(|e| MalformedPayload::new("hepsiburada", e))?;
    let event_id = match &e.event_id {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => {
            let mut h = Sha256::new();
            h.update(event_name.as_bytes());
            h.update(b"\n");
            h.update(raw_body);
            format!("sha256:{}", hex::encode(h.finalize()))
        }
    };
    let effect = match (ORDER_EVENTS.contains(&event_name), e.order_number) {
        // HB's events name the order, not its lines: the status applies to
        // every line we know of it. HB keeps its status per order here, so
        // the package number is not a unit of its own.
        (true, Some(order_number)) => Effect::MarketplaceOrder(OrderSnapshot {
            marketplace: Marketplace::Hepsiburada,
            order_number,
            package_id: None,
            marketplace_status: event_name.to_string(),
            lines: Vec::new(),
            occurred_ms: crate::clock::now_ms(),
            details: None,
        }),
        (true, None) => {
            return Err(MalformedPayload::new(
                "hepsiburada",
                format!("{event_name} without orderNumber"),
            ))
        }
        (false, _) => Effect::Ignored,
    };
    Ok(Delivery {
        provider: "hepsiburada",
        event_id: format!("{event_name}:{event_id}"),
        event_type: event_name.to_string(),
        occurred_at: crate::clock::now_rfc3339(),
        effect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_events_normalize_and_dedupe_by_content() {
        let body = br#"{"orderNumber": "4001234567", "packageNumber": "P1"}"#;
        let a = normalize_hepsiburada_event("createOrder", body).unwrap();
        let b = normalize_hepsiburada_event("createOrder", body).unwrap();
        assert_eq!(a.event_id, b.event_id);
        let Effect::MarketplaceOrder(o) = a.effect else {
            panic!()
        };
        assert_eq!(o.marketplace_status, "createOrder");
        let other = normalize_hepsiburada_event("claimCreated", b"{}").unwrap();
        assert_eq!(other.effect, Effect::Ignored);
        assert!(normalize_hepsiburada_event("deliver", b"{}").is_err());
    }
}
