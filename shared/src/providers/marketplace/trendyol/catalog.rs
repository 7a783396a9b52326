//! Trendyol's product services (docs/marketplace-wire.md T1–T7): v2 create,
//! approved-content update (keyed by `contentId`),
//! price-and-inventory, batch results, category attributes and product basic
//! info. Every write is asynchronous at Trendyol: it answers a
//! `batchRequestId`, whose per-item result is read later.
//!
//! Wire details that come from Trendyol's docs but were not seen against a
//! live account are marked UNCONFIRMED; they are all in this file.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::config::TrendyolSettings;
use crate::domain::catalog_sync::Push;
use crate::domain::category::{CategoryAttribute, CategoryRules};
use crate::domain::product::Product;
use crate::error::{Error, ProviderError, ProviderFailure};
use crate::ports::{BatchOutcome, ItemResult};
use crate::providers::http::{Endpoint, HttpLayer, RateGroup, StandardRetryRules};
use crate::providers::marketplace::http::{json_array, BasicJsonApi};

const PROVIDER: &str = "trendyol";

/// A price as Trendyol reads it: a JSON number in lira (`199.99`), written
/// from integer kuruş so no float ever touches it.
fn price(money: crate::money::Money) -> Box<RawValue> {
    RawValue::from_string(money.to_major_string()).expect("a decimal is a JSON number")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Image<'a> {
    url: &'a str,
}

/// v2 attribute: value ids as an array, or free text where the category
/// allows custom values (v1 spelled these `attributeValueId` /
/// `customAttributeValue`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attribute<'a> {
    attribute_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute_value_ids: Option<[u64; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute_value: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateItem<'a> {
    barcode: &'a str,
    title: &'a str,
    product_main_id: &'a str,
    brand_id: u64,
    category_id: u64,
    quantity: i64,
    stock_code: &'a str,
    dimensional_weight: u32,
    description: &'a str,
    currency_type: &'static str,
    list_price: Box<RawValue>,
    sale_price: Box<RawValue>,
    vat_rate: i64,
    cargo_company_id: u64,
    images: Vec<Image<'a>>,
    attributes: Vec<Attribute<'a>>,
}

/// Approved products, keyed by Trendyol's content id: only content may
/// change (not barcode, brand, category); attributes are sent whole.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContentItem<'a> {
    content_id: u64,
    title: &'a str,
    description: &'a str,
    images: Vec<Image<'a>>,
    attributes: Vec<Attribute<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceItem<'a> {
    barcode: &'a str,
    sale_price: Box<RawValue>,
    list_price: Box<RawValue>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StockItem<'a> {
    barcode: &'a str,
    quantity: i64,
}

/// The wire item for `push`, or `None` when the product is not listed on
/// Trendyol or (content updates) its content id is not known yet.
pub fn wire_item(product: &Product, push: Push, content_id: Option<u64>) -> Option<Box<RawValue>> {
    let mapping = product.trendyol.as_ref()?;
    let images = || {
        product
            .images
            .iter()
            .map(|url| Image { url })
            .collect::<Vec<_>>()
    };
    let attributes = || {
        mapping
            .attributes
            .iter()
            .map(|a| Attribute {
                attribute_id: a.attribute_id,
                attribute_value_ids: a.attribute_value_id.map(|id| [id]),
                attribute_value: a.custom_attribute_value.as_deref(),
            })
            .collect::<Vec<_>>()
    };
    let json = match push {
        Push::Create => serde_json::to_string(&CreateItem {
            barcode: &product.barcode,
            title: &product.title,
            product_main_id: mapping.product_main_id.as_deref().unwrap_or(&product.sku),
            brand_id: mapping.brand_id,
            category_id: mapping.category_id,
            quantity: product.stock,
            stock_code: &product.sku,
            dimensional_weight: mapping.dimensional_weight,
            description: &product.description,
            currency_type: "TRY",
            list_price: price(product.list_price),
            sale_price: price(product.price),
            vat_rate: product.vat_rate,
            cargo_company_id: mapping.cargo_company_id,
            images: images(),
            attributes: attributes(),
        }),
        Push::Content => serde_json::to_string(&ContentItem {
            content_id: content_id?,
            title: &product.title,
            description: &product.description,
            images: images(),
            attributes: attributes(),
        }),
        Push::Price => serde_json::to_string(&PriceItem {
            barcode: &product.barcode,
            sale_price: price(product.price),
            list_price: price(product.list_price),
        }),
        Push::Stock => serde_json::to_string(&StockItem {
            barcode: &product.barcode,
            quantity: product.stock,
        }),
    }
    .expect("wire items serialize");
    Some(RawValue::from_string(json).expect("serde_json output is JSON"))
}

#[derive(Deserialize)]
struct BarcodeOf {
    barcode: String,
}

/// `{"items":[…]}` around items already encoded.
pub fn batch_body(items: &[&RawValue]) -> Bytes {
    Bytes::from(format!("{{\"items\":{}}}", json_array(items)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Submitted {
    batch_request_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchResult {
    /// Absent on price-and-inventory batches (docs/marketplace-wire.md T4).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    items: Vec<BatchItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchItem {
    #[serde(default)]
    request_item: serde_json::Value,
    status: String,
    #[serde(default)]
    failure_reasons: Vec<serde_json::Value>,
}

/// The product a result item is about: create and price/stock results carry
/// `barcode` (create also nests the item under `product`); content updates
/// are keyed by `contentId` (UNCONFIRMED shape: `{"product": item, "contentId": n}`).
fn result_key(request_item: &serde_json::Value) -> Option<String> {
    let product = request_item.get("product");
    let content_id = request_item
        .get("contentId")
        .or_else(|| product.and_then(|p| p.get("contentId")))
        .and_then(|id| id.as_u64());
    if let Some(id) = content_id {
        return Some(format!("content:{id}"));
    }
    request_item
        .get("barcode")
        .or_else(|| product.and_then(|p| p.get("barcode")))
        .and_then(|b| b.as_str())
        .map(str::to_owned)
}

/// How a plan item is named in results: content updates by content id.
pub fn result_key_for(push: Push, barcode: &str, content_id: Option<u64>) -> String {
    match (push, content_id) {
        (Push::Content, Some(id)) => format!("content:{id}"),
        _ => barcode.to_string(),
    }
}

fn reason_text(reason: &serde_json::Value) -> String {
    match reason {
        serde_json::Value::String(s) => s.clone(),
        other => other
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| other.to_string()),
    }
}

/// Reads a batch result. Product batches say `IN_PROGRESS` / `COMPLETED`;
/// price-and-inventory batches have no top-level status, so they count as
/// done once their items are listed. Items not listed are not acknowledged
/// (and are planned again).
pub fn parse_batch_result(push: Push, body: &[u8]) -> Result<BatchOutcome, String> {
    let result: BatchResult = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let done = match result.status.as_deref() {
        Some(status) => status == "COMPLETED",
        None => !result.items.is_empty(),
    };
    // An item neither SUCCESS nor FAILED is not finished: read it later.
    let settled = |i: &BatchItem| i.status == "SUCCESS" || i.status == "FAILED";
    if !done || !result.items.iter().all(settled) {
        return Ok(BatchOutcome::Pending);
    }
    let results = result
        .items
        .into_iter()
        .filter_map(|item| {
            let key = result_key(&item.request_item)?;
            Some(ItemResult {
                key,
                ok: item.status == "SUCCESS",
                reasons: item.failure_reasons.iter().map(reason_text).collect(),
                // Price and stock are refused until Trendyol approves the
                // product: try again rather than give up.
                lasting: matches!(push, Push::Create | Push::Content),
            })
        })
        .collect();
    Ok(BatchOutcome::Done {
        results,
        others_ok: false,
    })
}

/// Product basic info (wire doc T7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductInfo {
    pub approved: bool,
    pub content_id: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BasicInfo {
    #[serde(default)]
    approved: bool,
    #[serde(default)]
    content_id: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CategoryAttributes {
    #[serde(default)]
    category_attributes: Vec<WireCategoryAttribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCategoryAttribute {
    attribute: WireAttributeName,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    allow_custom: bool,
    /// v1 listed values inline; v2 serves them from a separate endpoint, so
    /// value ids are not checked before sending when this is empty.
    #[serde(default)]
    attribute_values: Vec<WireAttributeValue>,
}

#[derive(Deserialize)]
struct WireAttributeName {
    id: u64,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct WireAttributeValue {
    id: u64,
}

/// Category attributes in our terms (v2 shape UNCONFIRMED beyond the fields read here).
pub fn parse_category_attributes(body: &[u8]) -> Result<CategoryRules, String> {
    let wire: CategoryAttributes = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(CategoryRules {
        attributes: wire
            .category_attributes
            .into_iter()
            .map(|a| CategoryAttribute {
                id: a.attribute.id.to_string(),
                name: a.attribute.name,
                required: a.required,
                allow_custom: a.allow_custom,
                values: a
                    .attribute_values
                    .iter()
                    .map(|v| v.id.to_string())
                    .collect(),
            })
            .collect(),
    })
}

/// At most 30 price updates per barcode per minute (docs/marketplace-wire.md
/// T10): this process keeps count and holds a price batch back rather than
/// send a barcode's 31st update within the window.
pub const PRICE_UPDATES_PER_BARCODE: usize = 30;

struct PriceGuard {
    window: Duration,
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl PriceGuard {
    /// Records one price update for each barcode, or names the first one
    /// that already had [`PRICE_UPDATES_PER_BARCODE`] within the window (and
    /// records nothing).
    fn admit(&self, barcodes: &[String], now: Instant) -> Result<(), String> {
        // A panic elsewhere must not stop every later price push: the map
        // stays usable (at worst it forgets a few recent updates).
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        sent.retain(|_, times| {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        if let Some(full) = barcodes.iter().find(|b| {
            sent.get(*b)
                .is_some_and(|t| t.len() >= PRICE_UPDATES_PER_BARCODE)
        }) {
            return Err(full.clone());
        }
        for b in barcodes {
            sent.entry(b.clone()).or_default().push_back(now);
        }
        Ok(())
    }
}

/// Trendyol's product services for one seller.
pub struct TrendyolCatalog {
    api: BasicJsonApi,
    base: String,
    seller_id: String,
    price_guard: PriceGuard,
    create: Endpoint,
    content: Endpoint,
    inventory: Endpoint,
    batch: Endpoint,
    attributes: Endpoint,
    basic_info: Endpoint,
}

impl TrendyolCatalog {
    pub fn new(http: HttpLayer, settings: &TrendyolSettings) -> Result<Self, Error> {
        let api = BasicJsonApi::new(
            http,
            PROVIDER,
            &settings.api_key,
            &settings.api_secret,
            &settings.user_agent,
        )?;
        // 50 requests per 10 s per endpoint, shared by every caller: each
        // process takes its configured share, spaced evenly.
        let endpoint = || {
            Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(settings.requests_per_10s, settings.rate_window)
        };
        // Since 14 September 2026 the product services are also limited per
        // service group, by the seller's listing tier (T10); each catalog
        // worker takes its share of each group.
        let limits = settings.listing_tier.limits();
        let share = |per_minute: u32| {
            RateGroup::spaced(
                (per_minute / settings.catalog_workers).max(1),
                settings.group_window,
            )
        };
        let (read, write, inventory_price) = (
            share(limits.read),
            share(limits.write),
            share(limits.inventory_price),
        );
        Ok(TrendyolCatalog {
            api,
            base: settings.api_base.clone(),
            seller_id: settings.seller_id.clone(),
            price_guard: PriceGuard {
                window: settings.group_window,
                sent: Mutex::new(HashMap::new()),
            },
            create: endpoint().in_group(write.as_ref()),
            content: endpoint().in_group(write.as_ref()),
            inventory: endpoint().in_group(inventory_price.as_ref()),
            batch: endpoint().in_group(read.as_ref()),
            // Category attributes: 50 per minute.
            attributes: Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(50, Duration::from_secs(60))
                .in_group(read.as_ref()),
            basic_info: endpoint().in_group(read.as_ref()),
        })
    }

    /// Submits one batch; answers Trendyol's `batchRequestId`. A price batch
    /// carrying a barcode that already had 30 price updates within the
    /// minute is not sent: `RateLimited`, for the queue to send it later.
    pub async fn submit(&self, push: Push, items: &[&RawValue]) -> Result<String, Error> {
        if push == Push::Price {
            let barcodes: Vec<String> = items
                .iter()
                .filter_map(|i| {
                    serde_json::from_str::<BarcodeOf>(i.get())
                        .ok()
                        .map(|b| b.barcode)
                })
                .collect();
            if let Err(barcode) = self.price_guard.admit(&barcodes, Instant::now()) {
                return Err(Error::Provider(ProviderError {
                    provider: PROVIDER,
                    failure: ProviderFailure::RateLimited,
                    provider_code: None,
                    decline_code: None,
                    message: format!(
                        "barcode {barcode} had {PRICE_UPDATES_PER_BARCODE} price updates within the \
                         minute (Trendyol's per-barcode limit); sent later"
                    ),
                    request_id: None,
                }));
            }
        }
        let seller = &self.seller_id;
        let (endpoint, operation, path) = match push {
            Push::Create => (
                &self.create,
                "trendyol_create_products",
                format!("/integration/product/sellers/{seller}/v2/products"),
            ),
            Push::Content => (
                &self.content,
                "trendyol_update_content",
                format!("/integration/product/sellers/{seller}/products/content-bulk-update"),
            ),
            Push::Price | Push::Stock => (
                &self.inventory,
                "trendyol_price_and_inventory",
                format!("/integration/inventory/sellers/{seller}/products/price-and-inventory"),
            ),
        };
        let answer = self
            .api
            .post(
                endpoint,
                operation,
                format!("{}{path}", self.base),
                "application/json",
                batch_body(items),
            )
            .await?;
        let submitted: Submitted = self.api.decode(&answer)?;
        Ok(submitted.batch_request_id)
    }

    pub async fn batch_result(&self, push: Push, batch_id: &str) -> Result<BatchOutcome, Error> {
        let url = format!(
            "{}/integration/product/sellers/{}/products/batch-requests/{}",
            self.base,
            self.seller_id,
            url_segment(batch_id)
        );
        let answer = self
            .api
            .get(&self.batch, "trendyol_batch_result", url)
            .await?;
        parse_batch_result(push, &answer.body).map_err(|e| self.api.unreadable(&e))
    }

    /// What Trendyol knows of a barcode: `None` when it has no such product,
    /// else whether it is approved and its content id (content updates are
    /// keyed by it).
    pub async fn product_info(&self, barcode: &str) -> Result<Option<ProductInfo>, Error> {
        let url = format!(
            "{}/integration/product/sellers/{}/product/{}",
            self.base,
            self.seller_id,
            url_segment(barcode)
        );
        let Some(answer) = self
            .api
            .get_if_known(&self.basic_info, "trendyol_product_basic_info", url)
            .await?
        else {
            return Ok(None);
        };
        let info: BasicInfo = self.api.decode(&answer)?;
        Ok(Some(ProductInfo {
            approved: info.approved,
            content_id: info.content_id,
        }))
    }

    /// The content id of an approved product; `None` while Trendyol has not
    /// approved it or does not know it.
    pub async fn approved_content_id(&self, barcode: &str) -> Result<Option<u64>, Error> {
        Ok(self
            .product_info(barcode)
            .await?
            .filter(|i| i.approved)
            .and_then(|i| i.content_id))
    }

    /// The category's attribute rules, or `None` when Trendyol does not know
    /// the category as a leaf (it answers 4xx).
    pub async fn category_rules(&self, category_id: u64) -> Result<Option<CategoryRules>, Error> {
        let url = format!(
            "{}/integration/product/categories/{category_id}/attributes",
            self.base
        );
        match self
            .api
            .get_if_known(&self.attributes, "trendyol_category_attributes", url)
            .await?
        {
            None => Ok(None),
            Some(answer) => parse_category_attributes(&answer.body)
                .map(Some)
                .map_err(|e| self.api.unreadable(&e)),
        }
    }
}

/// Batch ids come back from Trendyol; keep them from reshaping our URL.
pub(crate) fn url_segment(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::tests::sample;

    #[test]
    fn prices_are_exact_decimal_numbers_and_stock_items_carry_no_price() {
        let p = sample("SKU-1");
        let price = wire_item(&p, Push::Price, None).unwrap();
        assert_eq!(
            price.get(),
            r#"{"barcode":"BC-SKU-1","salePrice":199.99,"listPrice":249.99}"#
        );
        let stock = wire_item(&p, Push::Stock, None).unwrap();
        assert_eq!(stock.get(), r#"{"barcode":"BC-SKU-1","quantity":12}"#);
        let create: serde_json::Value =
            serde_json::from_str(wire_item(&p, Push::Create, None).unwrap().get()).unwrap();
        assert_eq!(create["currencyType"], "TRY");
        assert_eq!(create["stockCode"], "SKU-1");
        assert_eq!(create["productMainId"], "SKU-1");
        assert_eq!(create["attributes"][0]["attributeValueIds"][0], 4711);
        assert!(wire_item(&p, Push::Content, None).is_none());
        let content: serde_json::Value =
            serde_json::from_str(wire_item(&p, Push::Content, Some(77)).unwrap().get()).unwrap();
        assert_eq!(content["contentId"], 77);
        let body = batch_body(&[&price, &stock]);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["items"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn batch_results_are_read_per_item() {
        let body = br#"{"batchRequestId":"b1","status":"COMPLETED","items":[
            {"requestItem":{"barcode":"A"},"status":"SUCCESS","failureReasons":[]},
            {"requestItem":{"product":{"barcode":"B"}},"status":"FAILED","failureReasons":["Kategori bulunamadi"]},
            {"requestItem":{"product":{"contentId":9}},"status":"SUCCESS","failureReasons":[]}]}"#;
        let BatchOutcome::Done {
            results: items,
            others_ok,
        } = parse_batch_result(Push::Create, body).unwrap()
        else {
            panic!("completed")
        };
        assert!(!others_ok);
        assert_eq!(items[2].key, result_key_for(Push::Content, "X", Some(9)));
        assert_eq!(items.len(), 3);
        assert!(items[0].ok && !items[1].ok);
        assert_eq!(items[1].key, "B");
        assert_eq!(items[1].reasons, vec!["Kategori bulunamadi"]);
        assert_eq!(
            parse_batch_result(Push::Create, br#"{"status":"IN_PROGRESS","items":[]}"#).unwrap(),
            BatchOutcome::Pending
        );
        assert!(parse_batch_result(Push::Create, b"<html>").is_err());
        // Price-and-inventory batches carry no status: done once items show.
        assert_eq!(
            parse_batch_result(Push::Stock, br#"{"batchRequestId":"b2","items":[]}"#).unwrap(),
            BatchOutcome::Pending
        );
        let BatchOutcome::Done { results, .. } = parse_batch_result(
            Push::Stock,
            br#"{"items":[{"requestItem":{"barcode":"A","quantity":1},"status":"SUCCESS"}]}"#,
        )
        .unwrap() else {
            panic!("done")
        };
        assert_eq!(results[0].key, "A");
    }

    #[test]
    fn batch_ids_cannot_reshape_the_url() {
        assert_eq!(url_segment("abc-123/../x?y"), "abc-123..xy");
    }

    #[test]
    fn price_guard_allows_thirty_per_barcode_per_window() {
        // "There is a barcode-based limit of 30 req/min for price update"
        // (Trendyol, service limits after 14 September 2026).
        let guard = PriceGuard {
            window: Duration::from_secs(60),
            sent: Mutex::new(HashMap::new()),
        };
        let t0 = Instant::now();
        let a = vec!["A".to_string()];
        for _ in 0..30 {
            guard.admit(&a, t0).unwrap();
        }
        assert_eq!(guard.admit(&a, t0).unwrap_err(), "A");
        // Another barcode is not held back, and nothing was recorded for it
        // by the refused batch.
        let both = vec!["B".to_string(), "A".to_string()];
        assert!(guard.admit(&both, t0).is_err());
        guard.admit(&["B".to_string()], t0).unwrap();
        // A minute later A may be updated again.
        guard.admit(&a, t0 + Duration::from_secs(60)).unwrap();
    }

    #[test]
    fn tiers_set_the_group_limits() {
        use crate::config::TrendyolTier;
        // "Product Integration Write … 200 req/min | 300 | 400 | 500",
        // "Inventory & Price Write … 350 | 500 | 1000 | 1500", "Read … 1000 |
        // 1250 | 1500 | 2000".
        let lowest = TrendyolTier::parse("100.000").unwrap().limits();
        assert_eq!(
            (lowest.read, lowest.write, lowest.inventory_price),
            (1000, 200, 350)
        );
        let top = TrendyolTier::parse("Unlimited").unwrap().limits();
        assert_eq!(
            (top.read, top.write, top.inventory_price),
            (2000, 500, 1500)
        );
        assert!(TrendyolTier::parse("75000").is_none());
    }
}
