//! The marketplaces' product services behind one face, so the sync and the
//! worker treat Trendyol and Hepsiburada alike.

use serde_json::value::RawValue;

use crate::config::{HepsiburadaSettings, Source, TrendyolSettings};
use crate::domain::catalog_sync::Push;
use crate::domain::category::CategoryRules;
use crate::domain::product::Marketplace;
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
    pub fn marketplace(&self) -> Marketplace {
        match self {
            MarketplaceClient::Trendyol(_) => Marketplace::Trendyol,
            MarketplaceClient::Hepsiburada(_) => Marketplace::Hepsiburada,
        }
    }

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

/// The marketplaces this deployment has credentials for.
pub struct Marketplaces {
    clients: Vec<MarketplaceClient>,
}

impl Marketplaces {
    pub fn from_env(env: &dyn Source, http: &HttpLayer) -> Result<Self> {
        let mut clients = Vec::new();
        if let Some(settings) = TrendyolSettings::from_env(env)? {
            clients.push(MarketplaceClient::Trendyol(TrendyolCatalog::new(
                http.clone(),
                &settings,
            )?));
        }
        if let Some(settings) = HepsiburadaSettings::from_env(env)? {
            clients.push(MarketplaceClient::Hepsiburada(HepsiburadaCatalog::new(
                http.clone(),
                &settings,
            )?));
        }
        Ok(Marketplaces { clients })
    }

    pub fn get(&self, marketplace: Marketplace) -> Option<&MarketplaceClient> {
        self.clients.iter().find(|c| c.marketplace() == marketplace)
    }

    pub fn iter(&self) -> impl Iterator<Item = &MarketplaceClient> {
        self.clients.iter()
    }

    pub fn trendyol(&self) -> Option<&TrendyolCatalog> {
        self.clients.iter().find_map(|c| match c {
            MarketplaceClient::Trendyol(t) => Some(t),
            _ => None,
        })
    }
}
