//! The marketplaces' product services behind one face, so the sync and the
//! worker treat Trendyol and Hepsiburada alike.

use serde_json::value::RawValue;

use crate::config::{HepsiburadaSettings, Source, TrendyolSettings};
use crate::domain::catalog_sync::Push;
use crate::domain::category::CategoryRules;
use crate::domain::marketplace::{Marketplace, Marketplaces};
use crate::error::Result;
use crate::ports::{BatchOutcome, StoredProduct};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::hepsiburada::catalog::{
    self as hepsiburada, HepsiburadaCatalog,
};
use crate::providers::marketplace::trendyol::catalog::{self as trendyol, TrendyolCatalog};

pub enum MarketplaceClient {
    Trendyol(TrendyolCatalog),
    Hepsiburada(HepsiburadaCatalog),
}

impl MarketplaceClient {
    /// The item to send, or `None` when it cannot be built yet (Trendyol
    /// content updates need the approved product's content id).
    pub fn wire_item(&self, stored: &StoredProduct, push: Push) -> Option<Box<RawValue>> {
        match self {
            MarketplaceClient::Trendyol(_) => {
                trendyol::wire_item(&stored.product, push, stored.trendyol_content_id)
            }
            MarketplaceClient::Hepsiburada(c) => {
                hepsiburada::wire_item(&stored.product, push, c.merchant_id())
            }
        }
    }

    /// How the marketplace's batch result names this product; `None` when
    /// it cannot be sent yet (a Trendyol content update without content id).
    pub fn result_key(
        &self,
        stored: &StoredProduct,
        push: Push,
        trendyol_content_id: Option<u64>,
    ) -> Option<String> {
        let product = &stored.product;
        match self {
            MarketplaceClient::Trendyol(_) => {
                if push == Push::Content && trendyol_content_id.is_none() {
                    return None;
                }
                product.trendyol.as_ref()?;
                Some(trendyol::result_key_for(
                    push,
                    &product.barcode,
                    trendyol_content_id,
                ))
            }
            MarketplaceClient::Hepsiburada(_) => {
                product.hepsiburada.as_ref().map(|m| m.merchant_sku.clone())
            }
        }
    }

    /// Trendyol refuses an identical price-and-inventory body for 15 minutes.
    pub fn refuses_repeated_bodies(&self, push: Push) -> bool {
        matches!(self, MarketplaceClient::Trendyol(_)) && matches!(push, Push::Price | Push::Stock)
    }

    pub async fn submit(&self, push: Push, items: &[&RawValue]) -> Result<String> {
        match self {
            MarketplaceClient::Trendyol(c) => c.submit(push, items).await,
            MarketplaceClient::Hepsiburada(c) => c.submit(push, items).await,
        }
    }

    /// The exact bytes `submit` sends, for the repeated-body guard.
    pub fn body_digest(&self, items: &[&RawValue]) -> String {
        use sha2::{Digest, Sha256};
        let body = trendyol::batch_body(items);
        hex::encode(Sha256::digest(&body))
    }

    /// `sent`: the result keys of the batch's items, in the order sent.
    pub async fn batch_result(
        &self,
        push: Push,
        batch_id: &str,
        sent: &[String],
    ) -> Result<BatchOutcome> {
        match self {
            MarketplaceClient::Trendyol(c) => c.batch_result(push, batch_id).await,
            MarketplaceClient::Hepsiburada(c) => c.batch_result(push, batch_id, sent).await,
        }
    }

    pub async fn category_rules(&self, category_id: u64) -> Result<Option<CategoryRules>> {
        match self {
            MarketplaceClient::Trendyol(c) => c.category_rules(category_id).await,
            MarketplaceClient::Hepsiburada(c) => c.category_rules(category_id).await,
        }
    }

    pub fn category_of(&self, stored: &StoredProduct) -> Option<u64> {
        match self {
            MarketplaceClient::Trendyol(_) => {
                stored.product.trendyol.as_ref().map(|m| m.category_id)
            }
            MarketplaceClient::Hepsiburada(_) => {
                stored.product.hepsiburada.as_ref().map(|m| m.category_id)
            }
        }
    }
}

/// The catalog client of each marketplace this deployment has credentials for.
pub type CatalogClients = Marketplaces<Option<MarketplaceClient>>;

/// Built once per cold start, from each marketplace's settings.
pub fn catalog_clients(env: &dyn Source, http: &HttpLayer) -> Result<CatalogClients> {
    Marketplaces::try_build(|m| {
        Ok(match m {
            Marketplace::Trendyol => TrendyolSettings::from_env(env)?
                .map(|s| TrendyolCatalog::new(http.clone(), &s))
                .transpose()?
                .map(MarketplaceClient::Trendyol),
            Marketplace::Hepsiburada => HepsiburadaSettings::from_env(env)?
                .map(|s| HepsiburadaCatalog::new(http.clone(), &s))
                .transpose()?
                .map(MarketplaceClient::Hepsiburada),
        })
    })
}

/// Trendyol's client, for what only Trendyol has (content ids, product
/// lookup by barcode).
pub fn trendyol(clients: &CatalogClients) -> Option<&TrendyolCatalog> {
    match &clients.trendyol {
        Some(MarketplaceClient::Trendyol(t)) => Some(t),
        _ => None,
    }
}
