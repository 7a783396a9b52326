//! Telling a marketplace the tracking number of a package we ship with our
//! own Aras contract: Trendyol `update-tracking-number`, Hepsiburada
//! `intransit` (docs/marketplace-wire.md T9, H7). Used by the tracking poll.

use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::config::{OrderPollSettings, Source};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, IntegrationErrorDetail};
use crate::domain::marketplace::Marketplace;
use crate::domain::shipment::{MarketplacePackage, ShipmentRecord};
use crate::error::{Error, Result};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::hepsiburada::orders::InTransit;
use crate::providers::marketplace::http::TrackingPush;
use crate::providers::marketplace::orders::{order_clients, OrderClient, OrderClients};

/// Aras's public tracking page; `{trackingNumber}` is replaced.
/// UNCONFIRMED URL shape (Aras's site, not an API).
const DEFAULT_TRACKING_URL: &str =
    "https://kargotakip.araskargo.com.tr/mainpage.aspx?code={trackingNumber}";
/// Aras's customer line (444 25 52), shown to Hepsiburada buyers.
const DEFAULT_TRACKING_PHONE: &str = "4442552";

/// How a push ended, when the marketplace answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Accepted now, or the package already carries this number.
    Done,
    /// Refused for good; a person must look.
    Refused(String),
}

pub struct TrackingPushers {
    clients: OrderClients,
    tracking_url: String,
    tracking_phone: String,
    delivery_days: i64,
}

impl TrackingPushers {
    pub fn new(clients: OrderClients) -> Self {
        TrackingPushers {
            clients,
            tracking_url: DEFAULT_TRACKING_URL.into(),
            tracking_phone: DEFAULT_TRACKING_PHONE.into(),
            delivery_days: 3,
        }
    }

    pub fn from_env(env: &dyn Source, http: &HttpLayer) -> Result<Self> {
        let polls = OrderPollSettings::from_env(env)?;
        let clients = order_clients(env, http, polls.trendyol_requests_per_10s)?;
        let mut pushers = TrackingPushers::new(clients);
        if let Some(url) = env.get("ARAS_TRACKING_URL").filter(|v| !v.is_empty()) {
            if !url.contains("{trackingNumber}") {
                return Err(Error::Config(
                    "ARAS_TRACKING_URL must contain {trackingNumber}".into(),
                ));
            }
            pushers.tracking_url = url;
        }
        if let Some(phone) = env.get("ARAS_TRACKING_PHONE").filter(|v| !v.is_empty()) {
            pushers.tracking_phone = phone;
        }
        if let Some(days) = env.get("HEPSIBURADA_ESTIMATED_DELIVERY_DAYS") {
            pushers.delivery_days = days.parse().map_err(|_| {
                Error::Config(format!(
                    "HEPSIBURADA_ESTIMATED_DELIVERY_DAYS={days:?} is not a number"
                ))
            })?;
        }
        Ok(pushers)
    }

    /// Tells `package`'s marketplace the tracking number. `Err` = try again
    /// later (unreachable, rate limited, or not configured here).
    pub async fn push(
        &self,
        record: &ShipmentRecord,
        package: &MarketplacePackage,
        tracking_number: &str,
    ) -> Result<Pushed> {
        let client = self
            .clients
            .configured(package.marketplace)
            .ok_or_else(|| not_configured(package.marketplace))?;
        let answer = match client {
            OrderClient::Trendyol(trendyol) => {
                trendyol
                    .update_tracking_number(&package.package_id, tracking_number)
                    .await?
            }
            OrderClient::Hepsiburada(hepsiburada) => {
                let now = now_ms();
                let shipment = InTransit {
                    shipped_ms: now,
                    estimated_arrival_ms: now + self.delivery_days * 24 * 3_600_000,
                    tracking_url: self
                        .tracking_url
                        .replace("{trackingNumber}", tracking_number),
                    tracking_phone_number: self.tracking_phone.clone(),
                    // Desi is a measure, not money: hundredths to a number.
                    deci: record.desi as f64 / 100.0,
                };
                hepsiburada
                    .send_tracking_number(&package.package_id, tracking_number, &shipment)
                    .await?
            }
        };
        Ok(match answer {
            TrackingPush::Accepted | TrackingPush::AlreadySet => Pushed::Done,
            TrackingPush::Refused(reason) => Pushed::Refused(reason),
        })
    }
}

fn not_configured(marketplace: Marketplace) -> Error {
    Error::Config(format!(
        "{} is not configured for this function: the tracking number waits",
        marketplace.as_str()
    ))
}

/// `integration.error` for a refused push (same shipment, same event id).
pub fn refusal_event(
    shipment_id: &str,
    package: &MarketplacePackage,
    tracking_number: &str,
    reason: &str,
) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::IntegrationError,
        event_id: format!("aras:{shipment_id}:tracking_push_refused"),
        occurred_at: now_rfc3339(),
        detail: EventDetail::IntegrationError(IntegrationErrorDetail {
            action: None,
            kind: "tracking_push_refused".into(),
            provider: package.marketplace.as_str().into(),
            order_id: None,
            provider_ref: Some(package.order_number.clone()),
            expected: None,
            received: None,
            message: format!(
                "{} refused tracking number {tracking_number} for package {} of order {}: {reason}",
                package.marketplace.as_str(),
                package.package_id,
                package.order_number
            ),
        }),
    }
}
