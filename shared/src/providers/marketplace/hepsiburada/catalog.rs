//! Hepsiburada's catalogue (mpop) and listing services (docs/marketplace-wire.md
//! H1–H5, H8, H9): product import as a JSON file in
//! a multipart form, its status by tracking id, price and stock uploads with
//! their results, and category attributes.
//!
//! Much of Hepsiburada's surface is UNCONFIRMED (see the wire doc): the
//! import status and upload result shapes, the listing limits, the price
//! format of uploads. All of it is in this file.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::config::HepsiburadaSettings;
use crate::domain::catalog_sync::Push;
use crate::domain::category::{CategoryAttribute, CategoryRules};
use crate::domain::product::Product;
use crate::error::Error;
use crate::money::Money;
use crate::ports::{BatchOutcome, ItemResult};
use crate::providers::http::{Endpoint, HttpLayer, RateGroup, StandardRetryRules};
use crate::providers::marketplace::http::{json_array, BasicJsonApi};

const PROVIDER: &str = "hepsiburada";

/// "image1 ile image10 arasında tanımlanan alanları kullanarak"
/// (docs/marketplace-wire.md H9).
pub const MAX_IMPORT_IMAGES: usize = 10;

/// The import file writes prices the Turkish way, as text: `"130,50"`.
fn import_price(money: Money) -> String {
    money.to_major_string().replace('.', ",")
}

/// Upload prices are JSON numbers (`130.5`), exact from kuruş.
fn upload_price(money: Money) -> Box<RawValue> {
    RawValue::from_string(money.to_major_string()).expect("a decimal is a JSON number")
}

#[derive(Serialize)]
struct ImportProduct<'a> {
    #[serde(rename = "categoryId")]
    category_id: u64,
    merchant: &'a str,
    attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceUpload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    hepsiburada_sku: Option<&'a str>,
    merchant_sku: &'a str,
    price: Box<RawValue>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StockUpload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    hepsiburada_sku: Option<&'a str>,
    merchant_sku: &'a str,
    available_stock: i64,
}

/// The wire item for `push`, or `None` when the product is not listed on
/// Hepsiburada. A content change is a new import of the whole product.
pub fn wire_item(product: &Product, push: Push, merchant_id: &str) -> Option<Box<RawValue>> {
    let mapping = product.hepsiburada.as_ref()?;
    let hb_sku = mapping.hepsiburada_sku.as_deref();
    let json = match push {
        Push::Create | Push::Content => {
            use serde_json::Value::String as S;
            let mut attributes = serde_json::Map::new();
            // Category attributes first, so our base fields win on a clash.
            for (id, value) in &mapping.attributes {
                attributes.insert(id.clone(), S(value.clone()));
            }
            let base = [
                ("merchantSku", mapping.merchant_sku.clone()),
                (
                    "VaryantGroupID",
                    mapping
                        .variant_group_id
                        .clone()
                        .unwrap_or_else(|| product.sku.clone()),
                ),
                ("Barcode", product.barcode.clone()),
                ("UrunAdi", product.title.clone()),
                ("UrunAciklamasi", product.description.clone()),
                ("Marka", product.brand.clone()),
                ("tax_vat_rate", product.vat_rate.to_string()),
                ("price", import_price(product.price)),
                ("stock", product.stock.to_string()),
            ];
            for (name, value) in base {
                attributes.insert(name.into(), S(value));
            }
            attributes.insert(
                "GarantiSuresi".into(),
                serde_json::Value::from(mapping.warranty_months),
            );
            // `Image1`…`Image10` and `Video1` (June 2025 changelog,
            // docs/marketplace-wire.md H9); products carry at most 10.
            for (i, url) in product.images.iter().take(MAX_IMPORT_IMAGES).enumerate() {
                attributes.insert(format!("Image{}", i + 1), S(url.clone()));
            }
            if let Some(video) = &mapping.video_url {
                attributes.insert("Video1".into(), S(video.clone()));
            }
            serde_json::to_string(&ImportProduct {
                category_id: mapping.category_id,
                merchant: merchant_id,
                attributes,
            })
        }
        Push::Price => serde_json::to_string(&PriceUpload {
            hepsiburada_sku: hb_sku,
            merchant_sku: &mapping.merchant_sku,
            price: upload_price(product.price),
        }),
        Push::Stock => serde_json::to_string(&StockUpload {
            hepsiburada_sku: hb_sku,
            merchant_sku: &mapping.merchant_sku,
            available_stock: product.stock,
        }),
    }
    .expect("wire items serialize");
    Some(RawValue::from_string(json).expect("serde_json output is JSON"))
}

/// The import form: one `file` part holding the JSON array.
pub fn import_form(json: &str, boundary: &str) -> Bytes {
    Bytes::from(format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"integrator.json\"\r\n\
         Content-Type: application/json\r\n\r\n{json}\r\n--{boundary}--\r\n"
    ))
}

#[derive(Deserialize)]
struct Uploaded {
    id: String,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    message: Option<String>,
    data: Option<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Imported {
    tracking_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportStatus {
    merchant_sku: String,
    import_status: String,
    #[serde(default)]
    validation_results: Vec<Validation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Validation {
    #[serde(default)]
    attribute_name: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads an import status page (shape UNCONFIRMED, wire doc H4): done when
/// every item is `SUCCESS` or `FAILED`.
pub fn parse_import_status(body: &[u8]) -> Result<BatchOutcome, String> {
    let envelope: Envelope<Vec<ImportStatus>> =
        serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let items = envelope.data.unwrap_or_default();
    let finished = |i: &ImportStatus| i.import_status == "SUCCESS" || i.import_status == "FAILED";
    if items.is_empty() || !items.iter().all(finished) {
        return Ok(BatchOutcome::Pending);
    }
    let results = items
        .into_iter()
        .map(|item| ItemResult {
            ok: item.import_status == "SUCCESS",
            reasons: item
                .validation_results
                .iter()
                .map(|v| {
                    format!(
                        "{}: {}",
                        v.attribute_name.as_deref().unwrap_or("product"),
                        v.message.as_deref().unwrap_or("invalid")
                    )
                })
                .collect(),
            key: item.merchant_sku,
            lasting: true,
        })
        .collect();
    Ok(BatchOutcome::Done {
        results,
        others_ok: false,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadResult {
    status: String,
    #[serde(default)]
    errors: Vec<UploadError>,
    #[serde(default)]
    price_validations: Vec<PriceValidation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadError {
    /// 1-based position in the uploaded array (UNCONFIRMED base).
    #[serde(default)]
    element_no: Option<usize>,
    merchant_sku: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceValidation {
    #[serde(default)]
    element_no: Option<usize>,
    merchant_sku: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// What an upload's `status` word says. Third-party clients disagree on the
/// words' case (`PROCESSING`/`COMPLETED` vs `Processing`/`Done`/`Failed`),
/// so they are compared without regard to case; a word none of them uses is
/// `None` (docs/marketplace-wire.md H1, UNCONFIRMED vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStatus {
    InProgress,
    Finished { failed: bool },
}

pub fn upload_status(word: &str) -> Option<UploadStatus> {
    match word.trim().to_ascii_uppercase().as_str() {
        "PROCESSING" => Some(UploadStatus::InProgress),
        "COMPLETED" | "COMPLETED_WITH_ERRORS" | "DONE" => {
            Some(UploadStatus::Finished { failed: false })
        }
        "FAILED" => Some(UploadStatus::Finished { failed: true }),
        _ => None,
    }
}

/// Reads a price or stock upload result. It lists only the refused items, so
/// the others succeeded once the upload finished. The status word is read
/// by [`upload_status`]; an unknown word is an error (reported, and the check
/// retried until the queue gives it up), never "still processing" forever.
/// A refusal names its item by merchant SKU or, failing that, by position in
/// `sent`; one we cannot place makes nothing count as acknowledged.
pub fn parse_upload_result(body: &[u8], sent: &[String]) -> Result<BatchOutcome, String> {
    let result: UploadResult = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let failed = match upload_status(&result.status) {
        Some(UploadStatus::InProgress) => return Ok(BatchOutcome::Pending),
        Some(UploadStatus::Finished { failed }) => failed,
        None => {
            return Err(format!(
                "unknown upload status word {:?} (known, in any case: Processing, \
                 Completed, Completed_With_Errors, Done, Failed)",
                result.status
            ))
        }
    };
    let place = |sku: Option<String>, element: Option<usize>| {
        sku.or_else(|| element.and_then(|n| sent.get(n.checked_sub(1)?).cloned()))
    };
    let mut unplaced = false;
    let mut results: Vec<ItemResult> = Vec::new();
    for e in result.errors {
        match place(e.merchant_sku, e.element_no) {
            // Listing problems (not listed yet, …): tried again next sync.
            Some(key) => results.push(ItemResult {
                key,
                ok: false,
                reasons: e.errors,
                lasting: false,
            }),
            None => unplaced = true,
        }
    }
    for v in result.price_validations {
        match place(v.merchant_sku, v.element_no) {
            // The price itself is out of Hepsiburada's bounds: wait for a new one.
            Some(key) => results.push(ItemResult {
                key,
                ok: false,
                reasons: vec![format!(
                    "{}: {}",
                    v.kind.as_deref().unwrap_or("price"),
                    v.description.as_deref().unwrap_or("refused")
                )],
                lasting: true,
            }),
            None => unplaced = true,
        }
    }
    Ok(BatchOutcome::Done {
        results,
        others_ok: !failed && !unplaced,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CategoryAttributes {
    #[serde(default)]
    base_attributes: Vec<WireAttribute>,
    #[serde(default)]
    attributes: Vec<WireAttribute>,
    #[serde(default)]
    variant_attributes: Vec<WireAttribute>,
}

#[derive(Deserialize)]
struct WireAttribute {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    mandatory: bool,
}

/// Base fields we always fill from the product, so they are not demanded in
/// the mapping even when the category marks them mandatory.
const FILLED_BY_US: [&str; 10] = [
    "merchantSku",
    "VaryantGroupID",
    "Barcode",
    "UrunAdi",
    "UrunAciklamasi",
    "Marka",
    "GarantiSuresi",
    "tax_vat_rate",
    "price",
    "stock",
];

pub fn parse_category_attributes(body: &[u8]) -> Result<CategoryRules, String> {
    let envelope: Envelope<CategoryAttributes> =
        serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let data = envelope.data.ok_or("no data")?;
    let attributes = data
        .base_attributes
        .into_iter()
        .chain(data.attributes)
        .chain(data.variant_attributes)
        .filter(|a| !FILLED_BY_US.contains(&a.id.as_str()) && !a.id.starts_with("Image"))
        .map(|a| CategoryAttribute {
            id: a.id,
            name: a.name,
            required: a.mandatory,
            allow_custom: true,
            values: vec![],
        })
        .collect();
    Ok(CategoryRules { attributes })
}

/// Hepsiburada's catalogue and listing services for one merchant.
pub struct HepsiburadaCatalog {
    api: BasicJsonApi,
    listing_base: String,
    catalog_base: String,
    merchant_id: String,
    import: Endpoint,
    import_status: Endpoint,
    price: Endpoint,
    stock: Endpoint,
    upload_status: Endpoint,
    attributes: Endpoint,
}

impl HepsiburadaCatalog {
    pub fn new(http: HttpLayer, settings: &HepsiburadaSettings) -> Result<Self, Error> {
        let api = BasicJsonApi::new(
            http,
            PROVIDER,
            &settings.merchant_id,
            &settings.service_key,
            &settings.user_agent,
        )?;
        let endpoint = || {
            Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(settings.requests_per_second, Duration::from_secs(1))
        };
        // The catalog host: one limit for all its endpoints, and 403 is its
        // over-the-limit answer (docs/marketplace-wire.md H8).
        let catalog_group =
            RateGroup::spaced(settings.catalog_requests_per_second, Duration::from_secs(1));
        let catalog = || {
            endpoint()
                .in_group(catalog_group.as_ref())
                .with_forbidden_as_rate_limit()
        };
        Ok(HepsiburadaCatalog {
            api,
            listing_base: settings.listing_base.clone(),
            catalog_base: settings.catalog_base.clone(),
            merchant_id: settings.merchant_id.clone(),
            import: catalog(),
            import_status: catalog(),
            price: endpoint(),
            stock: endpoint(),
            upload_status: endpoint(),
            attributes: catalog(),
        })
    }

    pub fn merchant_id(&self) -> &str {
        &self.merchant_id
    }

    /// Submits one batch; answers the upload id or import tracking id.
    pub async fn submit(&self, push: Push, items: &[&RawValue]) -> Result<String, Error> {
        let body = json_array(items);
        match push {
            Push::Create | Push::Content => {
                let boundary = format!("ayaztrade{:016x}", fastrand::u64(..));
                let answer = self
                    .api
                    .post(
                        &self.import,
                        "hepsiburada_import_products",
                        format!("{}/product/api/products/import", self.catalog_base),
                        &format!("multipart/form-data; boundary={boundary}"),
                        import_form(&body, &boundary),
                    )
                    .await?;
                let envelope: Envelope<Imported> = self.api.decode(&answer)?;
                match envelope.data {
                    Some(data) if envelope.success => Ok(data.tracking_id),
                    _ => Err(self.api.unreadable(&format!(
                        "import refused: {}",
                        envelope.message.unwrap_or_default()
                    ))),
                }
            }
            Push::Price | Push::Stock => {
                let (endpoint, operation, kind) = if push == Push::Price {
                    (&self.price, "hepsiburada_price_upload", "price-uploads")
                } else {
                    (&self.stock, "hepsiburada_stock_upload", "stock-uploads")
                };
                let answer = self
                    .api
                    .post(
                        endpoint,
                        operation,
                        format!(
                            "{}/listings/merchantid/{}/{kind}",
                            self.listing_base, self.merchant_id
                        ),
                        "application/json",
                        Bytes::from(body),
                    )
                    .await?;
                let uploaded: Uploaded = self.api.decode(&answer)?;
                Ok(uploaded.id)
            }
        }
    }

    /// `sent`: the merchant SKUs in the order they were uploaded.
    pub async fn batch_result(
        &self,
        push: Push,
        batch_id: &str,
        sent: &[String],
    ) -> Result<BatchOutcome, Error> {
        let id = crate::providers::marketplace::trendyol::catalog::url_segment(batch_id);
        let answer = match push {
            Push::Create | Push::Content => {
                let url = format!(
                    "{}/product/api/products/status/{id}?page=0&size=1000",
                    self.catalog_base
                );
                let answer = self
                    .api
                    .get(&self.import_status, "hepsiburada_import_status", url)
                    .await?;
                parse_import_status(&answer.body)
            }
            Push::Price | Push::Stock => {
                let kind = if push == Push::Price {
                    "price"
                } else {
                    "stock"
                };
                let url = format!(
                    "{}/listings/merchantid/{}/{kind}-uploads/id/{id}",
                    self.listing_base, self.merchant_id
                );
                let answer = self
                    .api
                    .get(&self.upload_status, "hepsiburada_upload_status", url)
                    .await?;
                parse_upload_result(&answer.body, sent)
            }
        };
        answer.map_err(|e| self.api.unreadable(&e))
    }

    /// The category's attribute rules, or `None` when Hepsiburada does not
    /// know the category (it answers 4xx).
    pub async fn category_rules(&self, category_id: u64) -> Result<Option<CategoryRules>, Error> {
        let url = format!(
            "{}/product/api/categories/{category_id}/attributes",
            self.catalog_base
        );
        match self
            .api
            .get_if_known(&self.attributes, "hepsiburada_category_attributes", url)
            .await?
        {
            None => Ok(None),
            Some(answer) => parse_category_attributes(&answer.body)
                .map(Some)
                .map_err(|e| self.api.unreadable(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::tests::sample;

    #[test]
    fn import_items_carry_base_fields_as_text_and_uploads_exact_numbers() {
        let p = sample("SKU-1");
        let item: serde_json::Value =
            serde_json::from_str(wire_item(&p, Push::Create, "m-1").unwrap().get()).unwrap();
        assert_eq!(item["categoryId"], 6001);
        assert_eq!(item["merchant"], "m-1");
        assert_eq!(item["attributes"]["price"], "199,99");
        assert_eq!(item["attributes"]["stock"], "12");
        assert_eq!(item["attributes"]["renk"], "Mavi");
        assert_eq!(
            item["attributes"]["Image1"],
            "https://cdn.example.com/a.jpg"
        );
        let price = wire_item(&p, Push::Price, "m-1").unwrap();
        assert_eq!(price.get(), r#"{"merchantSku":"SKU-1","price":199.99}"#);
        let stock = wire_item(&p, Push::Stock, "m-1").unwrap();
        assert_eq!(
            stock.get(),
            r#"{"merchantSku":"SKU-1","availableStock":12}"#
        );
        assert_eq!(
            json_array(&[&price, &stock]).matches("merchantSku").count(),
            2
        );
        let form = import_form("[]", "B");
        assert!(std::str::from_utf8(&form)
            .unwrap()
            .contains("name=\"file\""));
    }

    #[test]
    fn upload_results_list_only_refusals() {
        let body = br#"{"id":"u1","status":"COMPLETED_WITH_ERRORS","errors":[
            {"merchantSku":"A","errors":["Urun bulunamadi"]}],
            "priceValidations":[{"merchantSku":"B","type":"MinPrice","description":"too low"}]}"#;
        let sent = vec!["A".to_string(), "B".to_string(), "C".to_string()];
        let BatchOutcome::Done { results, others_ok } = parse_upload_result(body, &sent).unwrap()
        else {
            panic!("done")
        };
        assert!(others_ok);
        assert_eq!(results.len(), 2);
        assert_eq!(results[1].reasons, vec!["MinPrice: too low"]);
        assert_eq!(
            parse_upload_result(br#"{"id":"u1","status":"PROCESSING"}"#, &sent).unwrap(),
            BatchOutcome::Pending
        );
        let BatchOutcome::Done { others_ok, .. } =
            parse_upload_result(br#"{"id":"u1","status":"FAILED"}"#, &sent).unwrap()
        else {
            panic!("done")
        };
        assert!(!others_ok);
        // Words in any case; an unknown word is an error that names it,
        // not "pending" forever. Refusals placed by position.
        assert_eq!(
            parse_upload_result(br#"{"id":"u1","status":"Processing"}"#, &sent).unwrap(),
            BatchOutcome::Pending
        );
        assert!(matches!(
            parse_upload_result(br#"{"id":"u1","status":"Done"}"#, &sent).unwrap(),
            BatchOutcome::Done {
                others_ok: true,
                ..
            }
        ));
        assert!(matches!(
            parse_upload_result(br#"{"id":"u1","status":"Failed"}"#, &sent).unwrap(),
            BatchOutcome::Done {
                others_ok: false,
                ..
            }
        ));
        let unknown = parse_upload_result(br#"{"id":"u1","status":"QUEUED"}"#, &sent);
        assert!(unknown.unwrap_err().contains("\"QUEUED\""));
        let by_position =
            br#"{"status":"COMPLETED_WITH_ERRORS","errors":[{"elementNo":3,"errors":["x"]}]}"#;
        let BatchOutcome::Done { results, others_ok } =
            parse_upload_result(by_position, &sent).unwrap()
        else {
            panic!("done")
        };
        assert_eq!((results[0].key.as_str(), others_ok), ("C", true));
        let unplaced = br#"{"status":"COMPLETED_WITH_ERRORS","errors":[{"errors":["x"]}]}"#;
        let BatchOutcome::Done { others_ok, .. } = parse_upload_result(unplaced, &sent).unwrap()
        else {
            panic!("done")
        };
        assert!(!others_ok, "an error we cannot place acknowledges nothing");
    }

    #[test]
    fn import_status_and_category_attributes_are_read() {
        let body = br#"{"success":true,"data":[
            {"merchantSku":"A","importStatus":"SUCCESS"},
            {"merchantSku":"B","importStatus":"FAILED","validationResults":[{"attributeName":"renk","message":"zorunlu"}]}]}"#;
        let BatchOutcome::Done { results, .. } = parse_import_status(body).unwrap() else {
            panic!("done")
        };
        assert!(results[0].ok && !results[1].ok);
        assert_eq!(results[1].reasons, vec!["renk: zorunlu"]);
        let attrs = br#"{"success":true,"data":{"baseAttributes":[{"id":"UrunAdi","name":"Ad","mandatory":true}],
            "attributes":[{"id":"renk","name":"Renk","mandatory":true}],"variantAttributes":[]}}"#;
        let rules = parse_category_attributes(attrs).unwrap();
        assert_eq!(rules.attributes.len(), 1);
        assert!(rules.attributes[0].required);
    }
}
