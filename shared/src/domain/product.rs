//! Products as the platform hands them to us through the catalog API, the
//! rules a product must meet before any marketplace sees it, and the digests
//! of what each marketplace should show (content, price, stock), which the
//! sync compares with what the marketplace last acknowledged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::marketplace::Marketplace;
use crate::error::FieldError;
use crate::money::{Currency, Money};

/// Products per bulk upsert call.
pub const MAX_BULK_PRODUCTS: usize = 1_000;
/// Trendyol refuses more stock than this per product (docs/marketplace-wire.md T3).
pub const MAX_STOCK: i64 = 20_000;
/// VAT rates Turkey has used since 10 July 2023; Trendyol refuses others.
pub const VAT_RATES: [i64; 4] = [0, 1, 10, 20];
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 30_000;
/// Images a product may carry: Hepsiburada's import takes `Image1`…`Image10`
/// (docs/marketplace-wire.md H9).
pub const MAX_IMAGES: usize = 10;
/// Trendyol takes at most 8 (docs/marketplace-wire.md, product fields): a
/// product listed there may not have more, rather than lose some silently.
pub const MAX_TRENDYOL_IMAGES: usize = 8;

/// One product of `PUT /catalog/products/{sku}` or of a bulk upsert. Amounts
/// are [`Money`]: integer minor units with their currency.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductSubmission {
    /// Required in a bulk upsert; in a PUT it may be left out or must equal the path.
    #[serde(default)]
    pub sku: Option<String>,
    pub barcode: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub price: Money,
    pub list_price: Money,
    pub stock: i64,
    pub vat_rate: i64,
    pub brand: String,
    #[serde(default)]
    pub images: Vec<String>,
    /// Our own attributes (colour, size, …), shown as-is where a marketplace
    /// takes free text.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub trendyol: Option<TrendyolMapping>,
    #[serde(default)]
    pub hepsiburada: Option<HepsiburadaMapping>,
}

/// Where the product sits in Trendyol's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrendyolMapping {
    /// A leaf category of Trendyol's category tree.
    pub category_id: u64,
    pub brand_id: u64,
    /// Groups variants; defaults to our SKU.
    #[serde(default)]
    pub product_main_id: Option<String>,
    pub cargo_company_id: u64,
    /// Desi, as Trendyol's `dimensionalWeight`.
    pub dimensional_weight: u32,
    #[serde(default)]
    pub attributes: Vec<TrendyolAttribute>,
}

/// A category attribute value: one of Trendyol's value ids, or free text
/// where the attribute allows custom values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrendyolAttribute {
    pub attribute_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_value_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_attribute_value: Option<String>,
}

/// Where the product sits in Hepsiburada's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HepsiburadaMapping {
    pub category_id: u64,
    /// The SKU Hepsiburada knows us by (often equal to ours).
    pub merchant_sku: String,
    /// Hepsiburada's own SKU (HBV…), once the listing exists.
    #[serde(default)]
    pub hepsiburada_sku: Option<String>,
    /// Groups variants; defaults to our SKU.
    #[serde(default)]
    pub variant_group_id: Option<String>,
    #[serde(default)]
    pub warranty_months: u32,
    /// Category attribute values by Hepsiburada attribute id.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The product video (`Video1` of the import), an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
}

/// A validated product, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub sku: String,
    pub barcode: String,
    pub title: String,
    pub description: String,
    pub price: Money,
    pub list_price: Money,
    pub stock: i64,
    pub vat_rate: i64,
    pub brand: String,
    pub images: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trendyol: Option<TrendyolMapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hepsiburada: Option<HepsiburadaMapping>,
}

/// What can differ between us and a marketplace, each pushed through its own
/// endpoint so a stock change never resends content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncKind {
    Content,
    Price,
    Stock,
}

impl SyncKind {
    pub const ALL: [SyncKind; 3] = [SyncKind::Content, SyncKind::Price, SyncKind::Stock];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Content => "content",
            SyncKind::Price => "price",
            SyncKind::Stock => "stock",
        }
    }
}

impl Product {
    pub fn listed_on(&self, marketplace: Marketplace) -> bool {
        match marketplace {
            Marketplace::Trendyol => self.trendyol.is_some(),
            Marketplace::Hepsiburada => self.hepsiburada.is_some(),
        }
    }

    /// The digest of what `marketplace` should show for `kind`, or `None` when
    /// the product is not listed there. Price and stock digests cover only
    /// price and stock, so changing one never makes the other look stale; a
    /// content digest covers exactly what that marketplace is sent (our own
    /// `attributes` go nowhere yet, so they change nothing).
    pub fn sync_hash(&self, marketplace: Marketplace, kind: SyncKind) -> Option<String> {
        let projection = match (kind, marketplace) {
            (SyncKind::Content, Marketplace::Trendyol) => {
                let t = self.trendyol.as_ref()?;
                // What content-bulk-update carries, plus the fields fixed at
                // creation (so a change to them is noticed, and refused).
                serde_json::json!([
                    "trendyol",
                    self.title,
                    self.description,
                    self.images,
                    t.attributes,
                    self.trendyol_fixed_digest()?
                ])
            }
            (SyncKind::Content, Marketplace::Hepsiburada) => {
                let h = self.hepsiburada.as_ref()?;
                // The import file: base fields, the images, the mapping.
                serde_json::json!([
                    "hepsiburada",
                    self.barcode,
                    self.title,
                    self.description,
                    self.vat_rate,
                    self.brand,
                    self.images,
                    h
                ])
            }
            (SyncKind::Price, m) if self.listed_on(m) => {
                serde_json::json!([self.price, self.list_price])
            }
            (SyncKind::Stock, m) if self.listed_on(m) => serde_json::json!([self.stock]),
            _ => return None,
        };
        Some(short_digest(projection.to_string().as_bytes()))
    }

    /// What Trendyol fixes when it creates a product: content-bulk-update
    /// cannot change barcode, brand, category or product main id, and VAT,
    /// desi and cargo company go through variant-bulk-update (not used yet).
    pub fn trendyol_fixed_digest(&self) -> Option<String> {
        let t = self.trendyol.as_ref()?;
        let fixed = serde_json::json!([
            self.barcode,
            self.sku,
            t.brand_id,
            t.category_id,
            t.product_main_id.as_deref().unwrap_or(&self.sku),
            self.vat_rate,
            t.dimensional_weight,
            t.cargo_company_id
        ]);
        Some(short_digest(fixed.to_string().as_bytes()))
    }

    /// A digest of the whole product, so an identical PUT writes nothing.
    pub fn content_hash(&self) -> String {
        short_digest(&serde_json::to_vec(self).expect("products serialize"))
    }

    /// The identifier a marketplace's batch results name the product by.
    pub fn marketplace_key(&self, marketplace: Marketplace) -> Option<&str> {
        match marketplace {
            Marketplace::Trendyol => self.trendyol.as_ref().map(|_| self.barcode.as_str()),
            Marketplace::Hepsiburada => self.hepsiburada.as_ref().map(|m| m.merchant_sku.as_str()),
        }
    }
}

/// 128 bits of SHA-256, hex: plenty to tell states of one product apart.
fn short_digest(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..16])
}

/// SKUs appear in keys and marketplace requests: keep them plain.
pub fn validate_sku(sku: &str, field: &str) -> Result<(), FieldError> {
    if is_plain_code(sku, 64) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "must be 1–64 characters of A–Z, a–z, 0–9, '.', '-' or '_'",
        ))
    }
}

fn is_https_url(url: &str) -> bool {
    url.starts_with("https://") && url.len() <= 2_000 && !url.contains(char::is_whitespace)
}

fn is_plain_code(value: &str, max: usize) -> bool {
    (1..=max).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn check_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

/// Checks a submission against our rules and every mapped marketplace's
/// documented limits; returns all problems at once.
pub fn validate_product(sku: &str, sub: ProductSubmission) -> Result<Product, Vec<FieldError>> {
    let mut errors = Vec::new();
    check_codes(&mut errors, sku, &sub);
    check_texts(&mut errors, &sub);
    check_prices(&mut errors, &sub);
    if !(0..=MAX_STOCK).contains(&sub.stock) {
        errors.push(FieldError::new(
            "stock",
            format!("must be between 0 and {MAX_STOCK}"),
        ));
    }
    if !VAT_RATES.contains(&sub.vat_rate) {
        errors.push(FieldError::new("vatRate", "must be one of 0, 1, 10, 20"));
    }
    check_images(&mut errors, &sub);
    if let Some(t) = &sub.trendyol {
        check_trendyol(&mut errors, t);
    }
    if let Some(h) = &sub.hepsiburada {
        check_hepsiburada(&mut errors, h);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Product {
        sku: sku.to_string(),
        barcode: sub.barcode,
        title: sub.title.trim().to_string(),
        description: sub.description,
        price: sub.price,
        list_price: sub.list_price,
        stock: sub.stock,
        vat_rate: sub.vat_rate,
        brand: sub.brand.trim().to_string(),
        images: sub.images,
        attributes: sub.attributes,
        trendyol: sub.trendyol,
        hepsiburada: sub.hepsiburada,
    })
}

/// The SKU (the path's; the body's, if given, must equal it) and the barcode.
fn check_codes(errors: &mut Vec<FieldError>, sku: &str, sub: &ProductSubmission) {
    if let Err(e) = validate_sku(sku, "sku") {
        errors.push(e);
    }
    if let Some(body_sku) = &sub.sku {
        if body_sku != sku {
            errors.push(FieldError::new("sku", "must equal the SKU in the path"));
        }
    }
    // Trendyol: ≤ 40 characters, only '.', '-' and '_' besides letters and digits.
    if !is_plain_code(&sub.barcode, 40) {
        errors.push(FieldError::new(
            "barcode",
            "must be 1–40 characters of A–Z, a–z, 0–9, '.', '-' or '_'",
        ));
    }
}

/// Title, description and brand.
fn check_texts(errors: &mut Vec<FieldError>, sub: &ProductSubmission) {
    check_text(errors, "title", &sub.title, MAX_TITLE_CHARS);
    if sub.description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push(FieldError::new(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    check_text(errors, "brand", &sub.brand, 100);
}

/// Price and list price: positive Turkish lira, the list price not below
/// the price.
fn check_prices(errors: &mut Vec<FieldError>, sub: &ProductSubmission) {
    let try_currency = Currency::parse("TRY").expect("TRY is ISO 4217");
    for (field, money) in [("price", sub.price), ("listPrice", sub.list_price)] {
        if money.currency != try_currency {
            errors.push(FieldError::new(
                format!("{field}.currency"),
                "must be TRY: Trendyol and Hepsiburada list in Turkish lira",
            ));
        }
        if money.minor <= 0 {
            errors.push(FieldError::new(
                format!("{field}.minor"),
                "must be greater than zero",
            ));
        }
    }
    if sub.list_price.currency == sub.price.currency && sub.list_price.minor < sub.price.minor {
        errors.push(FieldError::new(
            "listPrice",
            "must not be below price (Trendyol refuses listPrice < salePrice)",
        ));
    }
}

/// How many images (fewer for Trendyol), each an https:// URL.
fn check_images(errors: &mut Vec<FieldError>, sub: &ProductSubmission) {
    if sub.images.len() > MAX_IMAGES {
        errors.push(FieldError::new(
            "images",
            format!("at most {MAX_IMAGES} images"),
        ));
    }
    if sub.trendyol.is_some() && sub.images.len() > MAX_TRENDYOL_IMAGES {
        errors.push(FieldError::new(
            "images",
            format!("at most {MAX_TRENDYOL_IMAGES} images for a product listed on Trendyol"),
        ));
    }
    for (i, url) in sub.images.iter().enumerate() {
        if !is_https_url(url) {
            errors.push(FieldError::new(
                format!("images[{i}]"),
                "must be an https:// URL",
            ));
        }
    }
}

/// The Trendyol mapping: its product main id and attributes.
fn check_trendyol(errors: &mut Vec<FieldError>, t: &TrendyolMapping) {
    if let Some(main) = &t.product_main_id {
        if !is_plain_code(main, 40) {
            errors.push(FieldError::new(
                "trendyol.productMainId",
                "must be 1–40 characters of A–Z, a–z, 0–9, '.', '-' or '_'",
            ));
        }
    }
    for (i, a) in t.attributes.iter().enumerate() {
        match (&a.attribute_value_id, &a.custom_attribute_value) {
            (Some(_), None) => {}
            (None, Some(v)) if !v.trim().is_empty() => {}
            _ => errors.push(FieldError::new(
                format!("trendyol.attributes[{i}]"),
                "needs exactly one of attributeValueId or customAttributeValue",
            )),
        }
    }
}

/// The Hepsiburada mapping: its merchant SKU and video URL.
fn check_hepsiburada(errors: &mut Vec<FieldError>, h: &HepsiburadaMapping) {
    if !is_plain_code(&h.merchant_sku, 64) {
        errors.push(FieldError::new(
            "hepsiburada.merchantSku",
            "must be 1–64 characters of A–Z, a–z, 0–9, '.', '-' or '_'",
        ));
    }
    if h.video_url.as_deref().is_some_and(|u| !is_https_url(u)) {
        errors.push(FieldError::new(
            "hepsiburada.videoUrl",
            "must be an https:// URL",
        ));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub fn sample_json(sku: &str) -> serde_json::Value {
        json!({
            "barcode": format!("BC-{sku}"),
            "title": "Pamuklu tişört",
            "description": "Yumuşak pamuk",
            "price": {"minor": 19_999, "currency": "TRY"},
            "listPrice": {"minor": 24_999, "currency": "TRY"},
            "stock": 12,
            "vatRate": 20,
            "brand": "Ayaz",
            "images": ["https://cdn.example.com/a.jpg"],
            "trendyol": {"categoryId": 411, "brandId": 7, "cargoCompanyId": 10,
                         "dimensionalWeight": 2,
                         "attributes": [{"attributeId": 47, "attributeValueId": 4711}]},
            "hepsiburada": {"categoryId": 6001, "merchantSku": sku, "warrantyMonths": 24,
                            "attributes": {"renk": "Mavi"}}
        })
    }

    pub fn sample(sku: &str) -> Product {
        let sub: ProductSubmission = serde_json::from_value(sample_json(sku)).unwrap();
        validate_product(sku, sub).unwrap()
    }

    #[test]
    fn ten_images_for_hepsiburada_eight_for_trendyol_and_an_https_video() {
        // Hepsiburada June 2025 changelog: "image1 ile image10 arasında".
        let mut j = sample_json("SKU-1");
        j["images"] = json!((1..=10)
            .map(|i| format!("https://cdn.example.com/{i}.jpg"))
            .collect::<Vec<_>>());
        assert_eq!(errors_of(j.clone()), ["images"], "listed on Trendyol too");
        j.as_object_mut().unwrap().remove("trendyol");
        j["hepsiburada"]["videoUrl"] = json!("https://cdn.example.com/v.mp4");
        let sub: ProductSubmission = serde_json::from_value(j.clone()).unwrap();
        assert!(validate_product("SKU-1", sub).is_ok());
        j["hepsiburada"]["videoUrl"] = json!("http://cdn.example.com/v.mp4");
        assert_eq!(errors_of(j), ["hepsiburada.videoUrl"]);
    }

    fn errors_of(json: serde_json::Value) -> Vec<String> {
        let sub: ProductSubmission = serde_json::from_value(json).unwrap();
        validate_product("SKU-1", sub)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn given_a_valid_product_then_it_is_accepted() {
        let p = sample("SKU-1");
        assert_eq!(p.price.minor, 19_999);
        assert!(p.listed_on(Marketplace::Trendyol) && p.listed_on(Marketplace::Hepsiburada));
        assert_eq!(p.marketplace_key(Marketplace::Hepsiburada), Some("SKU-1"));
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut j = sample_json("SKU-1");
        j["barcode"] = json!("has space");
        j["title"] = json!("x".repeat(101));
        j["listPrice"] = json!({"minor": 100, "currency": "TRY"});
        j["stock"] = json!(20_001);
        j["vatRate"] = json!(18);
        j["price"]["currency"] = json!("EUR");
        j["images"] = json!(["http://insecure.example.com/a.jpg"]);
        j["trendyol"]["attributes"] = json!([{"attributeId": 1}]);
        let fields = errors_of(j);
        for f in [
            "barcode",
            "title",
            "stock",
            "vatRate",
            "price.currency",
            "images[0]",
            "trendyol.attributes[0]",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn list_price_below_price_is_refused() {
        let mut j = sample_json("SKU-1");
        j["listPrice"] = json!({"minor": 100, "currency": "TRY"});
        assert_eq!(errors_of(j), vec!["listPrice"]);
    }

    #[test]
    fn a_stock_change_changes_only_the_stock_digest() {
        let before = sample("SKU-1");
        let mut after = before.clone();
        after.stock -= 1;
        for m in Marketplace::ALL {
            assert_eq!(
                before.sync_hash(m, SyncKind::Content),
                after.sync_hash(m, SyncKind::Content)
            );
            assert_eq!(
                before.sync_hash(m, SyncKind::Price),
                after.sync_hash(m, SyncKind::Price)
            );
            assert_ne!(
                before.sync_hash(m, SyncKind::Stock),
                after.sync_hash(m, SyncKind::Stock)
            );
        }
        let mut retitled = before.clone();
        retitled.title.push('!');
        let mut own_attributes = before.clone();
        own_attributes.attributes.insert("yaka".into(), "V".into());
        for m in Marketplace::ALL {
            assert_eq!(
                before.sync_hash(m, SyncKind::Content),
                own_attributes.sync_hash(m, SyncKind::Content),
                "our own attributes are sent nowhere"
            );
        }
        let mut new_vat = before.clone();
        new_vat.vat_rate = 10;
        assert_ne!(
            before.trendyol_fixed_digest(),
            new_vat.trendyol_fixed_digest()
        );
        assert_eq!(
            before.trendyol_fixed_digest(),
            retitled.trendyol_fixed_digest()
        );
        assert_ne!(
            before.sync_hash(Marketplace::Trendyol, SyncKind::Content),
            retitled.sync_hash(Marketplace::Trendyol, SyncKind::Content)
        );
    }

    #[test]
    fn a_marketplace_mapping_change_only_touches_that_marketplace() {
        let before = sample("SKU-1");
        let mut after = before.clone();
        after.hepsiburada.as_mut().unwrap().warranty_months = 12;
        assert_eq!(
            before.sync_hash(Marketplace::Trendyol, SyncKind::Content),
            after.sync_hash(Marketplace::Trendyol, SyncKind::Content)
        );
        assert_ne!(
            before.sync_hash(Marketplace::Hepsiburada, SyncKind::Content),
            after.sync_hash(Marketplace::Hepsiburada, SyncKind::Content)
        );
        let mut unlisted = before.clone();
        unlisted.hepsiburada = None;
        assert_eq!(
            unlisted.sync_hash(Marketplace::Hepsiburada, SyncKind::Stock),
            None
        );
    }
}
