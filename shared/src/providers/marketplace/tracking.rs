//! Telling a marketplace the tracking number of a package we ship with our
//! own Aras contract: Trendyol `update-tracking-number`, Hepsiburada
//! `intransit` (docs/marketplace-wire.md T9, H7). Used by the tracking poll.

use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::config::{OrderPollSettings, Source, TrackingPushSettings};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, IntegrationErrorDetail};
use crate::domain::marketplace::Marketplace;
use crate::domain::shipment::{MarketplacePackage, ShipmentRecord};
use crate::error::{Error, Result};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::hepsiburada::orders::InTransit;
use crate::providers::marketplace::http::TrackingPush;
use crate::providers::marketplace::orders::{order_clients, OrderClient, OrderClients};

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
    settings: TrackingPushSettings,
}

impl TrackingPushers {
    pub fn new(clients: OrderClients) -> Self {
        TrackingPushers {
            clients,
            settings: TrackingPushSettings::default(),
        }
    }

    pub fn from_env(env: &dyn Source, http: &HttpLayer) -> Result<Self> {
        let polls = OrderPollSettings::from_env(env)?;
        let clients = order_clients(env, http, polls.trendyol_requests_per_10s)?;
        Ok(TrackingPushers {
            clients,
            settings: TrackingPushSettings::from_env(env)?,
        })
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
                    estimated_arrival_ms: now + self.settings.delivery_days * 24 * 3_600_000,
                    tracking_url: self
                        .settings
                        .tracking_url
                        .replace("{trackingNumber}", tracking_number),
                    tracking_phone_number: self.settings.tracking_phone.clone(),
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
