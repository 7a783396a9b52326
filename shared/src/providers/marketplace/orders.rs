//! Each marketplace's order service behind one face: the order poll lists
//! orders with it, the tracking poll tells it tracking numbers.

use crate::config::{HepsiburadaSettings, Source, TrendyolSettings};
use crate::domain::marketplace::{Marketplace, Marketplaces};
use crate::error::Result;
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::hepsiburada::orders::HepsiburadaOrders;
use crate::providers::marketplace::trendyol::orders::TrendyolOrders;

pub enum OrderClient {
    Trendyol(TrendyolOrders),
    Hepsiburada(HepsiburadaOrders),
}

/// The order client of each marketplace this deployment has credentials for.
pub type OrderClients = Marketplaces<Option<OrderClient>>;

/// Built once per cold start, from each marketplace's settings.
/// `trendyol_requests_per_10s`: this function's share of Trendyol's order
/// rate limit (docs/marketplace-wire.md).
pub fn order_clients(
    env: &dyn Source,
    http: &HttpLayer,
    trendyol_requests_per_10s: u32,
) -> Result<OrderClients> {
    Marketplaces::try_build(|m| {
        Ok(match m {
            Marketplace::Trendyol => TrendyolSettings::from_env(env)?
                .map(|s| TrendyolOrders::new(http.clone(), &s, trendyol_requests_per_10s))
                .transpose()?
                .map(OrderClient::Trendyol),
            Marketplace::Hepsiburada => HepsiburadaSettings::from_env(env)?
                .map(|s| HepsiburadaOrders::new(http.clone(), &s))
                .transpose()?
                .map(OrderClient::Hepsiburada),
        })
    })
}
