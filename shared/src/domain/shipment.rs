//! A shipment as we keep it, and the rules around it that need no I/O: its
//! stable id (Aras's `IntegrationCode`), what a tracking answer changes, when
//! the marketplace is told the tracking number. Measures, tariffs and the
//! tracking vocabulary are in `domain::shipping`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::event::{DetailType, DomainEvent, EventDetail, ShipmentDetail};
use crate::domain::marketplace::Marketplace;
use crate::domain::shipping::TrackingStatus;
use crate::money::Money;

/// The carrier every shipment goes with, as events and the API name it.
pub const CARRIER: &str = "aras";

/// Our shipment id, also Aras's `IntegrationCode`: the same order and
/// reference always give the same id, so a retried create finds the first
/// one (at Aras and with us) instead of making a second shipment.
/// 24 characters, `A-Z0-9` (Aras allows 32; UNCONFIRMED which characters).
/// Both parts must be free of control characters (the caller checks), so the
/// separator cannot be forged.
pub fn shipment_id(order_id: &str, reference: &str) -> String {
    let digest = Sha256::digest(format!("{order_id}\n{reference}").as_bytes());
    format!(
        "AYZ{}",
        hex::encode_upper(&digest[..]).get(..21).unwrap_or("")
    )
}

/// Our own `TradingWaybillNumber` for a shipment whose merchant gave no
/// dispatch note number: the shipment id's first 16 characters (`AYZ` and
/// 13 hex digits of the same digest), so it fits Aras's String(16), is the
/// same on every retry and names the shipment (docs/aras-wire.md O20).
pub fn own_waybill_number(shipment_id: &str) -> String {
    shipment_id.chars().take(16).collect()
}

/// `"1.5"` with at most `decimals` decimals → `15` (for `decimals = 1`):
/// kilograms to grams, centimetres to millimetres, with no float.
pub fn parse_scaled(text: &str, decimals: u32) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || (text.contains('.') && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > decimals as usize
        || whole.len() > 12
    {
        return None;
    }
    let scale = 10i64.pow(decimals);
    let frac_value = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(decimals - frac.len() as u32)
    };
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(frac_value)
}

/// Which marketplace package this shipment carries, when it is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplacePackage {
    pub marketplace: Marketplace,
    pub order_number: String,
    /// Trendyol shipment package id / Hepsiburada package number.
    pub package_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ShipmentState {
    /// Claimed by one create request, which is asking Aras now; nobody else
    /// sends SetOrder for this IntegrationCode until `until_ms` (epoch ms)
    /// has passed (the claimant died). A resend to Aras would update the
    /// order (docs/aras-wire.md O18), so only the claimant may send.
    Registering { until_ms: i64 },
    /// Aras accepted it.
    Created,
    /// Aras refused it or could not be reached; a retried create tries again.
    Failed { reason: String },
    /// Cancelled at Aras before dispatch.
    Cancelled,
}

/// Telling the marketplace our tracking number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "push")]
pub enum TrackingPushState {
    /// Not a marketplace order.
    NotNeeded,
    /// Waiting for Aras's tracking number, or for a push that failed to
    /// succeed; `claimed_until_ms` is a running push's lease.
    Pending {
        claimed_until_ms: i64,
    },
    Done {
        tracking_number: String,
    },
    /// The marketplace refused for good (package cancelled, delivered…):
    /// a person must look (published as `integration.error`).
    Refused {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentRecord {
    pub shipment_id: String,
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_package: Option<MarketplacePackage>,
    pub state: ShipmentState,
    /// Aras's key for the order (`InvoiceKey`), when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_key: Option<String>,
    /// One per piece, printed on its label.
    pub barcodes: Vec<String>,
    /// Aras's tracking number, once Aras assigned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    pub tracking: TrackingStatus,
    pub pieces: usize,
    /// Hundredths of a desi / kg.
    pub desi: u64,
    pub kg: u64,
    pub charge_basis: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash_on_delivery: Option<Money>,
    pub push: TrackingPushState,
    /// `shipment.created` went out.
    #[serde(default)]
    pub announced: bool,
    /// Tracking status changes so far: part of each change's event id, so
    /// statuses that may follow each other again (out for delivery after a
    /// failed attempt) never repeat an id.
    #[serde(default)]
    pub status_changes: u32,
    pub created_at: String,
    pub updated_at: String,
    /// SHA-256 (hex) of what was sent to Aras (the SetOrder `Order` without
    /// credentials): a later create for the same shipment with other content
    /// is refused instead of silently answered with this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_digest: Option<String>,
}

impl ShipmentRecord {
    /// Still worth polling: created at Aras and not in a final status, or
    /// its tracking number still to be told to the marketplace.
    pub fn is_open(&self) -> bool {
        self.state == ShipmentState::Created
            && (!self.tracking.is_final()
                || matches!(self.push, TrackingPushState::Pending { .. })
                || !self.announced)
    }

    /// Whether the marketplace should be told now (a number to tell, no
    /// running push holds the lease).
    pub fn push_due(&self, now_ms: i64) -> Option<(&MarketplacePackage, &str)> {
        match (&self.push, &self.marketplace_package, &self.tracking_number) {
            (TrackingPushState::Pending { claimed_until_ms }, Some(p), Some(n))
                if *claimed_until_ms <= now_ms && self.state == ShipmentState::Created =>
            {
                Some((p, n.as_str()))
            }
            _ => None,
        }
    }
}

/// What a tracking answer changes: the new status when it moves forward,
/// and the tracking number when Aras assigned one we did not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingChange {
    pub status: Option<TrackingStatus>,
    pub tracking_number: Option<String>,
}

impl TrackingChange {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.tracking_number.is_none()
    }
}

pub fn tracking_change(
    record: &ShipmentRecord,
    status: &TrackingStatus,
    tracking_number: Option<&str>,
) -> TrackingChange {
    TrackingChange {
        status: record.tracking.accepts(status).then(|| status.clone()),
        tracking_number: match (tracking_number, &record.tracking_number) {
            (Some(n), None) if !n.trim().is_empty() => Some(n.trim().to_string()),
            _ => None,
        },
    }
}

/// `shipment.created` (id `aras:<shipment>:created`) or
/// `shipment.status_changed` (id `aras:<shipment>:<changes>:<status>`, so a
/// repeat has the same id) for `r` as it stands; `previous` is the status it
/// moved from.
pub fn shipment_event(
    detail_type: DetailType,
    r: &ShipmentRecord,
    previous: Option<&TrackingStatus>,
    occurred_at: String,
) -> DomainEvent {
    let status = match (&r.state, detail_type) {
        (_, DetailType::ShipmentCreated) => "created".to_string(),
        _ => r.tracking.name().to_string(),
    };
    let event_id = match detail_type {
        DetailType::ShipmentCreated => format!("{CARRIER}:{}:created", r.shipment_id),
        _ => format!("{CARRIER}:{}:{}:{status}", r.shipment_id, r.status_changes),
    };
    DomainEvent {
        detail_type,
        event_id,
        occurred_at,
        detail: EventDetail::Shipment(ShipmentDetail {
            shipment_id: r.shipment_id.clone(),
            order_id: r.order_id.clone(),
            carrier: CARRIER.into(),
            status,
            previous_status: previous.map(|p| p.name().to_string()),
            tracking_number: r.tracking_number.clone(),
            marketplace: r
                .marketplace_package
                .as_ref()
                .map(|p| p.marketplace.as_str().to_string()),
            order_number: r
                .marketplace_package
                .as_ref()
                .map(|p| p.order_number.clone()),
            package_id: r.marketplace_package.as_ref().map(|p| p.package_id.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipment_ids_are_stable_and_fit_aras() {
        let a = shipment_id("ord-1", "1");
        assert_eq!(a, shipment_id("ord-1", "1"));
        assert_ne!(a, shipment_id("ord-1", "2"));
        assert_ne!(a, shipment_id("ord-12", ""));
        assert_eq!(a.len(), 24);
        let w = own_waybill_number(&a);
        assert_eq!(w.len(), 16);
        assert!(a.starts_with(&w));
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }

    #[test]
    fn decimals_scale_exactly_or_not_at_all() {
        assert_eq!(parse_scaled("1.5", 3), Some(1_500));
        assert_eq!(parse_scaled("0.125", 3), Some(125));
        assert_eq!(parse_scaled("30", 1), Some(300));
        assert_eq!(parse_scaled("10.5", 1), Some(105));
        for bad in ["1.25", "-1", "", ".5", "1e3", "1.", "abc", "99999999999999"] {
            assert_eq!(parse_scaled(bad, 1), None, "{bad}");
        }
    }

    fn record() -> ShipmentRecord {
        ShipmentRecord {
            shipment_id: "AYZ1".into(),
            order_id: "o".into(),
            marketplace_package: Some(MarketplacePackage {
                marketplace: Marketplace::Trendyol,
                order_number: "1".into(),
                package_id: "2".into(),
            }),
            state: ShipmentState::Created,
            invoice_key: None,
            barcodes: vec![],
            tracking_number: None,
            tracking: TrackingStatus::Created,
            pieces: 1,
            desi: 100,
            kg: 100,
            charge_basis: 100,
            cash_on_delivery: None,
            push: TrackingPushState::Pending {
                claimed_until_ms: 0,
            },
            announced: true,
            status_changes: 0,
            created_at: String::new(),
            updated_at: String::new(),
            order_digest: None,
        }
    }

    #[test]
    fn tracking_only_moves_forward_and_the_number_is_taken_once() {
        let r = record();
        let c = tracking_change(&r, &TrackingStatus::InTransit, Some(" 123 "));
        assert_eq!(c.status, Some(TrackingStatus::InTransit));
        assert_eq!(c.tracking_number.as_deref(), Some("123"));
        let mut later = r.clone();
        later.tracking = TrackingStatus::Delivered;
        later.tracking_number = Some("123".into());
        assert!(tracking_change(&later, &TrackingStatus::InTransit, Some("123")).is_empty());
    }

    #[test]
    fn a_push_is_due_with_a_number_and_no_running_lease() {
        let mut r = record();
        assert!(r.push_due(10).is_none(), "no number yet");
        r.tracking_number = Some("123".into());
        assert!(r.push_due(10).is_some());
        r.push = TrackingPushState::Pending {
            claimed_until_ms: 20,
        };
        assert!(r.push_due(10).is_none(), "another run holds it");
        r.push = TrackingPushState::Done {
            tracking_number: "123".into(),
        };
        assert!(r.push_due(30).is_none());
    }
}
