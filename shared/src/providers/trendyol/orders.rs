//! Trendyol's shipment packages (providers.md §3.4, docs/marketplace-wire.md
//! T8): the list order-poll reads, and the package shape Trendyol's webhooks
//! push (the same model). Read into `OrderSnapshot`s here and nowhere else.
//!
//! UNCONFIRMED (kept in this file): that `startDate`/`endDate` select on the
//! package's last-modified time; that `orderLineItemStatusName` carries a
//! line's own status in the same words as the package status.

use serde::Deserialize;

use crate::config::TrendyolSettings;
use crate::domain::marketplace_order::{LineSnapshot, OrderSnapshot};
use crate::domain::product::Marketplace;
use crate::error::Error;
use crate::providers::http::{Endpoint, HttpLayer, StandardRetryRules};
use crate::providers::marketplace_http::{BasicJsonApi, Unreadable};

const PROVIDER: &str = "trendyol";
/// Trendyol's largest page.
pub const MAX_PAGE_SIZE: u32 = 200;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(deserialize_with = "id_text")]
    id: String,
    order_number: String,
    /// `status` is the package status; the sample shows
    /// `shipmentPackageStatus` can differ (docs/marketplace-wire.md T8), so
    /// it is only the fallback.
    status: Option<String>,
    shipment_package_status: Option<String>,
    last_modified_date: Option<i64>,
    order_date: Option<i64>,
    #[serde(default)]
    lines: Vec<Line>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(deserialize_with = "id_text")]
    id: String,
    quantity: u32,
    /// The product's `stockCode` as we created it: our SKU.
    merchant_sku: Option<String>,
    order_line_item_status_name: Option<String>,
}

fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.is_empty() => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

impl Package {
    fn into_snapshot(self) -> Result<OrderSnapshot, serde_json::Error> {
        let Some(status) = self.status.or(self.shipment_package_status) else {
            return Err(serde::de::Error::missing_field("status"));
        };
        Ok(OrderSnapshot {
            marketplace: Marketplace::Trendyol,
            order_number: self.order_number,
            package_id: Some(self.id),
            marketplace_status: status,
            lines: self
                .lines
                .into_iter()
                .map(|l| LineSnapshot {
                    line_id: l.id,
                    sku: l.merchant_sku.filter(|s| !s.is_empty()),
                    quantity: l.quantity,
                    marketplace_status: l.order_line_item_status_name,
                })
                .collect(),
            occurred_ms: self.last_modified_date.or(self.order_date).unwrap_or(0),
        })
    }
}

/// A package as Trendyol sends it (webhook body or list entry).
pub fn package_snapshot(raw: &[u8]) -> Result<OrderSnapshot, serde_json::Error> {
    serde_json::from_slice::<Package>(raw)?.into_snapshot()
}

/// One page of the list. Packages that cannot be read are counted, not
/// fatal: one odd package must not stop every other order.
#[derive(Debug)]
pub struct PackagePage {
    pub total_elements: u64,
    pub total_pages: u64,
    /// Entries on the page, readable or not.
    pub listed: usize,
    pub packages: Vec<OrderSnapshot>,
    pub unreadable: Vec<Unreadable>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageWire {
    // Required: a page without them cannot be paged safely.
    total_elements: u64,
    total_pages: u64,
    #[serde(default)]
    content: Vec<Box<serde_json::value::RawValue>>,
}

pub struct TrendyolOrders {
    api: BasicJsonApi,
    base: String,
    seller_id: String,
    list: Endpoint,
}

impl TrendyolOrders {
    /// `requests_per_10s`: this function's share of Trendyol's 50 per 10 s
    /// on the order endpoint (order-poll runs alone on it).
    pub fn new(
        http: HttpLayer,
        settings: &TrendyolSettings,
        requests_per_10s: u32,
    ) -> Result<Self, Error> {
        Ok(TrendyolOrders {
            api: BasicJsonApi::new(
                http,
                PROVIDER,
                &settings.api_key,
                &settings.api_secret,
                &settings.user_agent,
            )?,
            base: settings.api_base.clone(),
            seller_id: settings.seller_id.clone(),
            list: Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(requests_per_10s, settings.rate_window),
        })
    }

    /// Packages last modified in `[start_ms, end_ms]`, oldest change first.
    pub async fn list(
        &self,
        start_ms: i64,
        end_ms: i64,
        page: u32,
        size: u32,
    ) -> Result<PackagePage, Error> {
        let url = format!(
            "{}/integration/order/sellers/{}/orders?startDate={start_ms}&endDate={end_ms}\
             &page={page}&size={}&orderByField=PackageLastModifiedDate&orderByDirection=ASC",
            self.base,
            self.seller_id,
            size.min(MAX_PAGE_SIZE)
        );
        let answer = self
            .api
            .get(&self.list, "trendyol_shipment_packages", url)
            .await?;
        let wire: PageWire = self.api.decode(&answer)?;
        let listed = wire.content.len();
        let mut packages = Vec::with_capacity(listed);
        let mut unreadable = Vec::new();
        for raw in wire.content {
            match package_snapshot(raw.get().as_bytes()) {
                Ok(p) => packages.push(p),
                Err(e) => unreadable.push(Unreadable::new(raw.get().as_bytes(), e)),
            }
        }
        Ok(PackagePage {
            total_elements: wire.total_elements,
            total_pages: wire.total_pages,
            listed,
            packages,
            unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_reads_into_a_snapshot() {
        let body = br#"{"id": 3330111, "orderNumber": "10654411111", "status": "Created",
            "shipmentPackageStatus": "Created", "orderDate": 1795690000000,
            "lastModifiedDate": 1795700000000, "lines": [
              {"id": 55, "quantity": 2, "merchantSku": "SKU-1", "barcode": "869",
               "orderLineItemStatusName": "Created", "price": 10.5},
              {"id": "56", "quantity": 1, "merchantSku": ""}]}"#;
        let s = package_snapshot(body).unwrap();
        assert_eq!(s.package_id.as_deref(), Some("3330111"));
        assert_eq!(s.order_number, "10654411111");
        assert_eq!(s.occurred_ms, 1_795_700_000_000);
        assert_eq!(s.lines[0].sku.as_deref(), Some("SKU-1"));
        assert_eq!(s.lines[0].quantity, 2);
        assert_eq!(s.lines[1].line_id, "56");
        assert_eq!(s.lines[1].sku, None, "an empty merchantSku is no SKU");
    }

    #[test]
    fn odd_packages_are_errors_not_panics() {
        assert!(package_snapshot(br#"{"id": [], "orderNumber": "1", "status": "x"}"#).is_err());
        assert!(package_snapshot(br#"{"id": 1, "status": "Created"}"#).is_err());
        assert!(package_snapshot(br#"{"id": 1, "orderNumber": "1"}"#).is_err());
        assert!(package_snapshot(
            br#"{"id": 1, "orderNumber": "1", "status": "Created",
            "lines": [{"id": 1, "quantity": -1}]}"#
        )
        .is_err());
        assert!(package_snapshot(b"[]").is_err());
    }
}
