//! A local Hepsiburada merchant API for the catalog endpoints, speaking the
//! wire contract of ../docs/marketplace-wire.md (§ Hepsiburada): HTTP Basic
//! `merchantId:serviceKey` with the integrator username as `User-Agent`,
//! separate listing and catalog (mpop) hosts (two ports here), async
//! price/stock uploads polled by id, the multipart product import polled by
//! tracking id, category attributes in three buckets, a per-endpoint rate
//! limit answering 429 with `X-RateLimit-*` headers, and faults (shared with
//! the Trendyol fake: no fault ever processes the request).
//!
//! Approximations (UNCONFIRMED in the doc): uploads and imports are
//! processed when submitted (polls only decide visibility), an imported
//! merchantSku is listed at once, error bodies and the import status shape
//! are ours, and Trendyol's barcode/title rules are applied.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};

use crate::trendyol_fake::{
    barcode_ok, header, int_field, iso_now, percent_decode, query_param, two_decimals,
    with_rate_headers, Gate, Pass,
};
pub use crate::trendyol_fake::{AcceptedCounts, EndpointKind, Fault, Kind, RecordedRequest};

pub const TEST_MERCHANT_ID: &str = "6fc6d90d-ee1d-4372-b3a6-264b1275e9ff";
/// 12-character alphanumeric "Servis Anahtarı".
pub const TEST_SERVICE_KEY: &str = "Hb7kQ2mX9pLw";
pub const TEST_INTEGRATOR_USERNAME: &str = "ayaztrade_dev";

pub const DEFAULT_CATEGORY_ID: i64 = 18_021_982;
/// A non-leaf category.
pub const PARENT_CATEGORY_ID: i64 = 18_021_900;
/// Enum variant attribute of the default category (values Kırmızı, Mavi, Siyah).
pub const ATTR_COLOR: &str = "renk_variant_property";
pub const MAX_ITEMS: usize = 1000;
pub const MAX_STOCK: i64 = 20_000;

pub const PRICE_UPLOAD: &str = "POST /listings/merchantid/{merchantId}/price-uploads";
pub const PRICE_UPLOAD_STATUS: &str = "GET /listings/merchantid/{merchantId}/price-uploads/id/{id}";
pub const STOCK_UPLOAD: &str = "POST /listings/merchantid/{merchantId}/stock-uploads";
pub const STOCK_UPLOAD_STATUS: &str = "GET /listings/merchantid/{merchantId}/stock-uploads/id/{id}";
pub const PRODUCT_IMPORT: &str = "POST /product/api/products/import";
pub const IMPORT_STATUS: &str = "GET /product/api/products/status/{trackingId}";
pub const CATEGORY_ATTRIBUTES: &str = "GET /product/api/categories/{categoryId}/attributes";
pub const ATTRIBUTE_VALUES: &str =
    "GET /product/api/categories/{categoryId}/attribute/{attributeId}/values";

/// An attribute of a category; `bucket` is where it is listed.
#[derive(Debug, Clone)]
pub struct HbAttribute {
    pub id: String,
    pub name: String,
    pub mandatory: bool,
    /// "string", "enum", "integer", …
    pub kind: String,
    pub multi_value: bool,
    /// Allowed values of enum attributes.
    pub values: Vec<String>,
}

impl HbAttribute {
    pub fn text(id: &str, name: &str, mandatory: bool) -> Self {
        HbAttribute {
            id: id.into(),
            name: name.into(),
            mandatory,
            kind: "string".into(),
            multi_value: false,
            values: vec![],
        }
    }

    pub fn enumeration(id: &str, name: &str, mandatory: bool, values: &[&str]) -> Self {
        HbAttribute {
            kind: "enum".into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            ..Self::text(id, name, mandatory)
        }
    }
}

#[derive(Debug, Clone)]
pub struct HbCategory {
    pub id: i64,
    pub name: String,
    pub leaf: bool,
    pub base_attributes: Vec<HbAttribute>,
    pub attributes: Vec<HbAttribute>,
    pub variant_attributes: Vec<HbAttribute>,
}

impl HbCategory {
    fn all(&self) -> impl Iterator<Item = &HbAttribute> {
        self.base_attributes
            .iter()
            .chain(&self.attributes)
            .chain(&self.variant_attributes)
    }
}

/// The base attributes every leaf category has in the default data.
pub fn default_base_attributes() -> Vec<HbAttribute> {
    let mut v = vec![
        HbAttribute::text("merchantSku", "Satıcı Stok Kodu", true),
        HbAttribute::text("VaryantGroupID", "Varyant Grup Id", false),
        HbAttribute::text("Barcode", "Barkod", true),
        HbAttribute::text("UrunAdi", "Ürün Adı", true),
        HbAttribute::text("UrunAciklamasi", "Ürün Açıklaması", true),
        HbAttribute::text("Marka", "Marka", true),
        HbAttribute::text("GarantiSuresi", "Garanti Süresi (Ay)", true),
        HbAttribute::text("kg", "Desi", true),
        HbAttribute::enumeration("tax_vat_rate", "KDV", true, &["0", "1", "10", "20"]),
        HbAttribute::text("price", "Fiyat", false),
        HbAttribute::text("stock", "Stok", false),
        HbAttribute::text("Image1", "Görsel 1", true),
    ];
    for i in 2..=5 {
        v.push(HbAttribute::text(
            &format!("Image{i}"),
            &format!("Görsel {i}"),
            false,
        ));
    }
    v
}

/// What Hepsiburada holds for one merchantSku.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingState {
    pub merchant_sku: String,
    pub hepsiburada_sku: String,
    pub barcode: String,
    pub title: String,
    pub description: String,
    pub brand: String,
    pub category_id: i64,
    pub variant_group_id: Option<String>,
    pub vat_rate: i64,
    pub price: Option<f64>,
    pub stock: Option<i64>,
    /// The `attributes` object as last imported.
    pub attributes: Value,
}

struct Upload {
    created: String,
    total: usize,
    errors: Vec<Value>,
    price_validations: Option<Vec<Value>>,
    failed_items: usize,
    polls: u32,
    polls_needed: u32,
}

struct Import {
    rows: Vec<Value>,
    polls: u32,
    polls_needed: u32,
}

struct HbState {
    gate: Gate,
    listings: HashMap<String, ListingState>,
    accepted: HashMap<String, AcceptedCounts>,
    price_uploads: HashMap<String, Upload>,
    stock_uploads: HashMap<String, Upload>,
    imports: HashMap<String, Import>,
    categories: HashMap<i64, HbCategory>,
    price_bounds: Option<(f64, f64)>,
    polls_to_complete: u32,
    next_hb_sku: u64,
}

impl HbState {
    fn new() -> Self {
        let mut s = HbState {
            gate: Gate::new(Some((500, Duration::from_secs(1)))),
            listings: HashMap::new(),
            accepted: HashMap::new(),
            price_uploads: HashMap::new(),
            stock_uploads: HashMap::new(),
            imports: HashMap::new(),
            categories: HashMap::new(),
            price_bounds: None,
            polls_to_complete: 1,
            next_hb_sku: 0x4_0000,
        };
        s.categories.insert(
            PARENT_CATEGORY_ID,
            HbCategory {
                id: PARENT_CATEGORY_ID,
                name: "Giyim".into(),
                leaf: false,
                base_attributes: vec![],
                attributes: vec![],
                variant_attributes: vec![],
            },
        );
        s.categories.insert(
            DEFAULT_CATEGORY_ID,
            HbCategory {
                id: DEFAULT_CATEGORY_ID,
                name: "Tişört".into(),
                leaf: true,
                base_attributes: default_base_attributes(),
                attributes: vec![HbAttribute::enumeration(
                    "materyal_property",
                    "Materyal",
                    false,
                    &["Pamuk", "Polyester"],
                )],
                variant_attributes: vec![HbAttribute::enumeration(
                    ATTR_COLOR,
                    "Renk",
                    true,
                    &["Kırmızı", "Mavi", "Siyah"],
                )],
            },
        );
        s
    }
}

/// A running fake with two listeners: listing-external and mpop.
#[derive(Clone)]
pub struct HepsiburadaFake {
    /// Stands for `https://listing-external.hepsiburada.com`.
    pub listing_base_url: String,
    /// Stands for `https://mpop.hepsiburada.com`.
    pub mpop_base_url: String,
    state: Arc<Mutex<HbState>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Host {
    Listing,
    Mpop,
}

impl HepsiburadaFake {
    /// Starts both hosts on ephemeral loopback ports.
    pub async fn start() -> HepsiburadaFake {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Self::start_on(any, any).await
    }

    pub async fn start_on(listing_addr: SocketAddr, mpop_addr: SocketAddr) -> HepsiburadaFake {
        let state = Arc::new(Mutex::new(HbState::new()));
        let mut urls = Vec::new();
        for (addr, host) in [(listing_addr, Host::Listing), (mpop_addr, Host::Mpop)] {
            let app = Router::new()
                .fallback(handle)
                .layer(DefaultBodyLimit::max(64 << 20))
                .with_state((state.clone(), host));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .expect("bind Hepsiburada fake");
            urls.push(format!("http://{}", listener.local_addr().unwrap()));
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .await
                    .expect("Hepsiburada fake serves");
            });
        }
        HepsiburadaFake {
            mpop_base_url: urls.pop().unwrap(),
            listing_base_url: urls.pop().unwrap(),
            state,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HbState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    // ---- configuration ----

    pub fn push_fault(&self, fault: Fault) {
        self.with(|s| s.gate.faults.push_back(fault));
    }

    pub fn set_failure_rate(&self, rate: f64, seed: u64) {
        self.with(|s| s.gate.set_failure_rate(rate, seed));
    }

    pub fn set_random_faults(&self, faults: Vec<Fault>) {
        self.with(|s| s.gate.random_menu = faults);
    }

    pub fn set_faults_hit(&self, kind: EndpointKind, on: bool) {
        self.with(|s| s.gate.set_faults_hit(kind, on));
    }

    /// Rate limit for every endpoint (default 500 per 1 s).
    pub fn set_rate_limit(&self, max: usize, window: Duration) {
        self.with(|s| s.gate.default_limit = Some((max, window)));
    }

    pub fn set_endpoint_rate_limit(&self, endpoint: &'static str, max: usize, window: Duration) {
        self.with(|s| s.gate.limits.insert(endpoint, (max, window)));
    }

    pub fn disable_rate_limit(&self) {
        self.with(|s| {
            s.gate.default_limit = None;
            s.gate.limits.clear();
        });
    }

    /// Uploads and imports show their result on the `n`th poll (default 1).
    pub fn set_polls_to_complete(&self, n: u32) {
        self.with(|s| s.polls_to_complete = n.max(1));
    }

    /// Prices outside `min..=max` are rejected via `priceValidations`.
    pub fn set_price_bounds(&self, min: f64, max: f64) {
        self.with(|s| s.price_bounds = Some((min, max)));
    }

    pub fn add_category(&self, category: HbCategory) {
        self.with(|s| s.categories.insert(category.id, category));
    }

    pub fn clear_categories(&self) {
        self.with(|s| s.categories.clear());
    }

    // ---- inspection ----

    pub fn listing(&self, merchant_sku: &str) -> Option<ListingState> {
        self.with(|s| s.listings.get(merchant_sku).cloned())
    }

    /// Imports products as the import file would (no request, no
    /// acceptance counted): the state of a merchant who is already listed.
    pub fn preload(&self, items: &[Value]) {
        self.with(|s| {
            for item in items {
                import_item(s, item).unwrap_or_else(|e| panic!("preload refused: {e:?}"));
                if let Some(sku) = item["attributes"]["merchantSku"].as_str() {
                    s.accepted.remove(sku);
                }
            }
        })
    }

    pub fn listing_count(&self) -> usize {
        self.with(|s| s.listings.len())
    }

    /// Per merchantSku: successful items per kind (import of a new SKU =
    /// Create, re-import of a known SKU = Content, Price, Stock).
    pub fn accepted(&self, merchant_sku: &str) -> AcceptedCounts {
        self.with(|s| s.accepted.get(merchant_sku).copied().unwrap_or_default())
    }

    pub fn accepted_count(&self, merchant_sku: &str, kind: Kind) -> u32 {
        self.accepted(merchant_sku).get(kind)
    }

    pub fn accepted_more_than_once(&self, kind: Kind) -> Vec<String> {
        self.with(|s| {
            let mut v: Vec<String> = s
                .accepted
                .iter()
                .filter(|(_, c)| c.get(kind) > 1)
                .map(|(k, _)| k.clone())
                .collect();
            v.sort();
            v
        })
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.with(|s| s.gate.requests.clone())
    }

    pub fn request_count(&self, endpoint: &str) -> usize {
        self.with(|s| s.gate.arrivals.get(endpoint).map_or(0, Vec::len))
    }

    pub fn arrivals(&self, endpoint: &str) -> Vec<Instant> {
        self.with(|s| s.gate.arrivals.get(endpoint).cloned().unwrap_or_default())
    }

    pub fn throttled_count(&self) -> u64 {
        self.with(|s| s.gate.throttled.values().sum())
    }

    pub fn throttled_count_for(&self, endpoint: &str) -> u64 {
        self.with(|s| s.gate.throttled.get(endpoint).copied().unwrap_or(0))
    }

    pub fn faults_injected(&self) -> u64 {
        self.with(|s| s.gate.faults_injected)
    }
}

// ---------------------------------------------------------------------------
// HTTP

fn hb_json(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The catalog envelope, used for every error too.
fn hb_error(status: u16, message: &str) -> Response {
    hb_json(
        status,
        json!({"success": false, "code": status, "version": 1, "message": message, "data": null}),
    )
}

fn envelope(data: Value) -> Value {
    json!({"success": true, "code": 0, "version": 1, "message": null, "data": data})
}

fn fault_response(fault: &Fault) -> Response {
    match fault {
        Fault::Status(code) if *code < 500 => hb_error(*code, "TooManyRequest"),
        Fault::Status(code) => (
            StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY),
            [("content-type", "text/html")],
            format!("<html><body><h1>{code}</h1>fake gateway fault</body></html>"),
        )
            .into_response(),
        Fault::Timeout(_) => (
            StatusCode::GATEWAY_TIMEOUT,
            [("content-type", "text/html")],
            "<html><body><h1>504 Gateway Time-out</h1></body></html>",
        )
            .into_response(),
        Fault::Malformed => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"id\": \"8c1e",
        )
            .into_response(),
    }
}

#[derive(Debug)]
enum Route {
    PriceUpload,
    PriceStatus(String),
    StockUpload,
    StockStatus(String),
    Import,
    ImportStatus(String),
    CategoryAttributes(String),
    AttributeValues(String, String),
}

impl Route {
    fn endpoint(&self) -> &'static str {
        match self {
            Route::PriceUpload => PRICE_UPLOAD,
            Route::PriceStatus(_) => PRICE_UPLOAD_STATUS,
            Route::StockUpload => STOCK_UPLOAD,
            Route::StockStatus(_) => STOCK_UPLOAD_STATUS,
            Route::Import => PRODUCT_IMPORT,
            Route::ImportStatus(_) => IMPORT_STATUS,
            Route::CategoryAttributes(_) => CATEGORY_ATTRIBUTES,
            Route::AttributeValues(..) => ATTRIBUTE_VALUES,
        }
    }

    fn kind(&self) -> EndpointKind {
        match self {
            Route::PriceUpload | Route::StockUpload | Route::Import => EndpointKind::Write,
            Route::PriceStatus(_) | Route::StockStatus(_) | Route::ImportStatus(_) => {
                EndpointKind::Status
            }
            _ => EndpointKind::Reference,
        }
    }
}

/// Routes a request for `host`; also returns the `{merchantId}` of listing paths.
fn route(host: Host, method: &Method, path: &str) -> Option<(Route, Option<String>)> {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let post = method == Method::POST;
    let get = method == Method::GET;
    let r = match (host, s.as_slice()) {
        (Host::Listing, ["listings", m, mid, "price-uploads"])
            if post && m.eq_ignore_ascii_case("merchantid") =>
        {
            (Route::PriceUpload, Some(mid.to_string()))
        }
        (Host::Listing, ["listings", m, mid, "price-uploads", "id", id])
            if get && m.eq_ignore_ascii_case("merchantid") =>
        {
            (Route::PriceStatus(id.to_string()), Some(mid.to_string()))
        }
        (Host::Listing, ["listings", m, mid, "stock-uploads"])
            if post && m.eq_ignore_ascii_case("merchantid") =>
        {
            (Route::StockUpload, Some(mid.to_string()))
        }
        (Host::Listing, ["listings", m, mid, "stock-uploads", "id", id])
            if get && m.eq_ignore_ascii_case("merchantid") =>
        {
            (Route::StockStatus(id.to_string()), Some(mid.to_string()))
        }
        (Host::Mpop, ["product", "api", "products", "import"]) if post => (Route::Import, None),
        (Host::Mpop, ["product", "api", "products", "status", tid]) if get => {
            (Route::ImportStatus(tid.to_string()), None)
        }
        (Host::Mpop, ["product", "api", "categories", cid, "attributes"]) if get => {
            (Route::CategoryAttributes(cid.to_string()), None)
        }
        (Host::Mpop, ["product", "api", "categories", cid, "attribute", aid, "values"]) if get => (
            Route::AttributeValues(cid.to_string(), aid.to_string()),
            None,
        ),
        _ => return None,
    };
    Some(r)
}

fn authorized(headers: &HeaderMap) -> bool {
    let Some(b64) =
        header(headers, "authorization").and_then(|v| v.strip_prefix("Basic ").map(str::to_owned))
    else {
        return false;
    };
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .is_ok_and(|d| d == format!("{TEST_MERCHANT_ID}:{TEST_SERVICE_KEY}").as_bytes())
}

async fn handle(
    State((state, host)): State<(Arc<Mutex<HbState>>, Host)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = Instant::now();
    let routed = route(host, &method, uri.path());
    let endpoint = routed.as_ref().map(|(r, _)| r.endpoint());
    let index = state
        .lock()
        .unwrap()
        .gate
        .record(&method, &uri, endpoint, &headers, &body, now);
    let response = serve(&state, routed, &uri, &headers, body, now).await;
    state
        .lock()
        .unwrap()
        .gate
        .set_status(index, response.status().as_u16());
    response
}

async fn serve(
    state: &Mutex<HbState>,
    routed: Option<(Route, Option<String>)>,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    now: Instant,
) -> Response {
    let Some((route, merchant)) = routed else {
        return hb_error(404, "Not Found");
    };
    if !authorized(headers) {
        return hb_error(401, "Unauthorized");
    }
    if header(headers, "user-agent").as_deref() != Some(TEST_INTEGRATOR_USERNAME) {
        return hb_error(403, "Forbidden: User-Agent must be the integrator username");
    }
    if merchant.is_some_and(|m| !m.eq_ignore_ascii_case(TEST_MERCHANT_ID)) {
        return hb_error(403, "Forbidden: merchantId does not match the credentials");
    }
    let fault = {
        let mut s = state.lock().unwrap();
        match s.gate.pass(route.endpoint(), route.kind(), now) {
            Pass::Throttled => {
                let (max, window) = s
                    .gate
                    .limits
                    .get(route.endpoint())
                    .copied()
                    .or(s.gate.default_limit)
                    .unwrap_or((0, Duration::from_secs(1)));
                return with_rate_headers(hb_error(429, "TooManyRequest"), max, window);
            }
            Pass::Fault(f) => Some(f),
            Pass::Open => None,
        }
    };
    if let Some(fault) = fault {
        if let Fault::Timeout(d) = fault {
            tokio::time::sleep(d).await;
        }
        return fault_response(&fault);
    }
    let mut s = state.lock().unwrap();
    match route {
        Route::PriceUpload => upload(&mut s, &body, true),
        Route::StockUpload => upload(&mut s, &body, false),
        Route::PriceStatus(id) => upload_status(&mut s, &id, true),
        Route::StockStatus(id) => upload_status(&mut s, &id, false),
        Route::Import => import(&mut s, headers, &body),
        Route::ImportStatus(id) => import_status(&mut s, &id, uri),
        Route::CategoryAttributes(cid) => category_attributes(&s, &cid),
        Route::AttributeValues(cid, aid) => attribute_values(&s, &cid, &aid),
    }
}

fn new_uuid() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        fastrand::u16(0x8000..0xc000),
        fastrand::u64(..) & 0xffff_ffff_ffff
    )
}

/// The JSON array body, or the 400 to answer.
fn body_array(body: &Bytes) -> Result<Vec<Value>, Box<Response>> {
    let error = |m: &str| Err(Box::new(hb_error(400, m)));
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) if items.is_empty() => error("Request body is empty"),
        Ok(Value::Array(items)) if items.len() > MAX_ITEMS => error(&format!(
            "At most {MAX_ITEMS} items per request ({} sent)",
            items.len()
        )),
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => error("Request body must be a JSON array"),
        Err(_) => error("Request body is not valid JSON"),
    }
}

fn item_error(i: usize, item: &Value, errors: Vec<String>) -> Value {
    json!({
        "elementNo": i,
        "hepsiburadaSku": item.get("hepsiburadaSku").cloned().unwrap_or(Value::Null),
        "merchantSku": item.get("merchantSku").cloned().unwrap_or(Value::Null),
        "errors": errors,
    })
}

/// Price (`price = true`) or stock upload.
fn upload(s: &mut HbState, body: &Bytes, price: bool) -> Response {
    let items = match body_array(body) {
        Ok(items) => items,
        Err(r) => return *r,
    };
    let mut errors = Vec::new();
    let mut validations = Vec::new();
    let mut failed = 0;
    for (i, item) in items.iter().enumerate() {
        let mut reasons = Vec::new();
        let sku = item.get("merchantSku").and_then(Value::as_str);
        let listing = match sku {
            None => {
                reasons.push("merchantSku is required".to_string());
                None
            }
            Some(sku) => match s.listings.get(sku) {
                None => {
                    reasons.push(format!("Listing not found for merchantSku {sku}"));
                    None
                }
                Some(l) => Some(l),
            },
        };
        if let (Some(l), Some(hb)) = (listing, item.get("hepsiburadaSku").filter(|v| !v.is_null()))
        {
            if hb.as_str() != Some(l.hepsiburada_sku.as_str()) {
                reasons.push(format!(
                    "hepsiburadaSku {hb} does not belong to merchantSku {}",
                    l.merchant_sku
                ));
            }
        }
        let mut value = None;
        if price {
            match item.get("price") {
                Some(Value::Number(n)) if two_decimals(n) && n.as_f64().unwrap_or(0.0) > 0.0 => {
                    value = n.as_f64();
                }
                Some(Value::Number(n)) => {
                    reasons.push(format!("price must be > 0 with at most 2 decimals: {n}"))
                }
                Some(other) => reasons.push(format!("price must be a number: {other}")),
                None => reasons.push("price is required".into()),
            }
        } else {
            match int_field(item, "availableStock") {
                Ok(Some(q)) if (0..=MAX_STOCK).contains(&q) => value = Some(q as f64),
                Ok(Some(q)) => reasons.push(format!("availableStock must be 0..={MAX_STOCK}: {q}")),
                Ok(None) => reasons.push("availableStock is required".into()),
                Err(e) => reasons.push(e),
            }
            if let Err(e) = int_field(item, "maximumPurchasableQuantity") {
                reasons.push(e);
            }
        }
        if !reasons.is_empty() {
            failed += 1;
            errors.push(item_error(i, item, reasons));
            continue;
        }
        let sku = sku.unwrap().to_string();
        let value = value.unwrap();
        if price {
            if let Some((min, max)) = s.price_bounds {
                if value < min || value > max {
                    failed += 1;
                    let kind = if value < min { "MinPrice" } else { "MaxPrice" };
                    validations.push(json!({
                        "elementNo": i,
                        "hepsiburadaSku": item.get("hepsiburadaSku").cloned().unwrap_or(Value::Null),
                        "merchantSku": sku,
                        "type": kind,
                        "minPrice": min,
                        "maxPrice": max,
                        "description": format!("Price {value} is outside {min}..{max}"),
                    }));
                    continue;
                }
            }
            s.listings.get_mut(&sku).unwrap().price = Some(value);
            s.accepted.entry(sku).or_default().price += 1;
        } else {
            s.listings.get_mut(&sku).unwrap().stock = Some(value as i64);
            s.accepted.entry(sku).or_default().stock += 1;
        }
    }
    let id = new_uuid();
    let up = Upload {
        created: iso_now(),
        total: items.len(),
        errors,
        price_validations: price.then_some(validations),
        failed_items: failed,
        polls: 0,
        polls_needed: s.polls_to_complete,
    };
    if price {
        s.price_uploads.insert(id.clone(), up);
    } else {
        s.stock_uploads.insert(id.clone(), up);
    }
    hb_json(200, json!({"id": id}))
}

fn upload_status(s: &mut HbState, id: &str, price: bool) -> Response {
    let uploads = if price {
        &mut s.price_uploads
    } else {
        &mut s.stock_uploads
    };
    let Some(up) = uploads.get_mut(id) else {
        return hb_error(404, &format!("Upload not found: {id}"));
    };
    up.polls += 1;
    let done = up.polls >= up.polls_needed;
    let status = if !done {
        "PROCESSING"
    } else if up.failed_items == 0 {
        "COMPLETED"
    } else if up.failed_items == up.total {
        "FAILED"
    } else {
        "COMPLETED_WITH_ERRORS"
    };
    let mut out = json!({
        "id": id,
        "status": status,
        "createdAt": up.created,
        "total": up.total,
        "errors": if done { Value::Array(up.errors.clone()) } else { json!([]) },
    });
    if let Some(v) = &up.price_validations {
        out["priceValidations"] = if done {
            Value::Array(v.clone())
        } else {
            json!([])
        };
    }
    hb_json(200, out)
}

/// The `file` part of a multipart/form-data body.
pub(crate) fn multipart_file(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_string())
    })?;
    let find = |needle: &[u8], from: usize| -> Option<usize> {
        body.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let delim = format!("--{boundary}");
    let next_delim = format!("\r\n--{boundary}");
    let mut pos = find(delim.as_bytes(), 0)? + delim.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return None;
        }
        if body.get(pos..pos + 2) == Some(b"\r\n") {
            pos += 2;
        }
        let header_end = find(b"\r\n\r\n", pos)?;
        let part_headers = String::from_utf8_lossy(&body[pos..header_end]).to_ascii_lowercase();
        let start = header_end + 4;
        let end = find(next_delim.as_bytes(), start)?;
        let is_file = part_headers.lines().any(|l| {
            l.starts_with("content-disposition:")
                && l.split(';')
                    .any(|p| p.trim() == "name=\"file\"" || p.trim() == "name=file")
        });
        if is_file {
            return Some(body[start..end].to_vec());
        }
        pos = end + next_delim.len();
    }
}

fn import(s: &mut HbState, headers: &HeaderMap, body: &Bytes) -> Response {
    let content_type = header(headers, "content-type").unwrap_or_default();
    let Some(file) = multipart_file(&content_type, body) else {
        return hb_error(
            400,
            "Required request part 'file' is not present (multipart/form-data)",
        );
    };
    let items = match body_array(&Bytes::from(file)) {
        Ok(items) => items,
        Err(r) => return *r,
    };
    let mut rows = Vec::with_capacity(items.len());
    for item in &items {
        let attrs = item.get("attributes");
        let sku = attrs
            .and_then(|a| a.get("merchantSku"))
            .cloned()
            .unwrap_or(Value::Null);
        let barcode = attrs
            .and_then(|a| a.get("Barcode"))
            .cloned()
            .unwrap_or(Value::Null);
        let name = attrs
            .and_then(|a| a.get("UrunAdi"))
            .cloned()
            .unwrap_or(Value::Null);
        let (status, product_status, validation) = match import_item(s, item) {
            Ok(()) => ("SUCCESS", "WAITING", vec![]),
            Err(v) => ("FAILED", "MISSING_INFO", v),
        };
        rows.push(json!({
            "merchantSku": sku,
            "barcode": barcode,
            "productName": name,
            "importStatus": status,
            "productStatus": product_status,
            "validationResults": validation,
        }));
    }
    let id = new_uuid();
    let polls_needed = s.polls_to_complete;
    s.imports.insert(
        id.clone(),
        Import {
            rows,
            polls: 0,
            polls_needed,
        },
    );
    hb_json(200, envelope(json!({"trackingId": id})))
}

/// A value of the import file as text (strings as is, numbers printed).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn import_item(s: &mut HbState, item: &Value) -> Result<(), Vec<Value>> {
    let mut v = Vec::new();
    let mut fail = |attr: &str, msg: String| v.push(json!({"attributeName": attr, "message": msg}));
    let category = item.get("categoryId").and_then(Value::as_i64);
    let cat = match category.map(|c| (c, s.categories.get(&c))) {
        Some((_, Some(c))) if c.leaf => Some(c.clone()),
        Some((c, Some(_))) => {
            fail("categoryId", format!("Category {c} is not a leaf category"));
            None
        }
        Some((c, None)) => {
            fail("categoryId", format!("Category {c} not found"));
            None
        }
        None => {
            fail("categoryId", "categoryId is required (integer)".into());
            None
        }
    };
    if item.get("merchant").and_then(Value::as_str) != Some(TEST_MERCHANT_ID) {
        fail("merchant", "merchant must be your merchantId".into());
    }
    let Some(attrs) = item.get("attributes").and_then(Value::as_object) else {
        fail("attributes", "attributes object is required".into());
        return Err(v);
    };
    let get = |k: &str| attrs.get(k).and_then(text);
    let sku = get("merchantSku");
    if let Some(b) = get("Barcode") {
        if !barcode_ok(&b) {
            fail(
                "Barcode",
                format!("Barcode may contain only letters, digits, '.', '-', '_' (≤40): {b}"),
            );
        }
    }
    if let Some(t) = get("UrunAdi") {
        if t.chars().count() > 100 {
            fail("UrunAdi", "UrunAdi must be at most 100 characters".into());
        }
    }
    if let Some(p) = attrs.get("price") {
        let ok = match p {
            Value::Number(n) => two_decimals(n),
            Value::String(t) => {
                let (w, f) = t.split_once(',').unwrap_or((t, ""));
                !w.is_empty()
                    && w.chars().all(|c| c.is_ascii_digit())
                    && f.len() <= 2
                    && f.chars().all(|c| c.is_ascii_digit())
            }
            _ => false,
        };
        if !ok {
            fail("price", format!("Invalid price: {p}"));
        }
    }
    if let Some(cat) = &cat {
        for a in cat.all() {
            match get(&a.id) {
                None if a.mandatory => fail(&a.id, format!("{} is mandatory", a.name)),
                Some(val) if a.kind == "enum" && !a.values.contains(&val) => {
                    fail(&a.id, format!("Invalid value for {}: {val}", a.name))
                }
                _ => {}
            }
        }
    }
    if !v.is_empty() {
        return Err(v);
    }
    let sku = sku.unwrap();
    let parse_price = |v: Option<String>| v.and_then(|p| p.replace(',', ".").parse::<f64>().ok());
    let existing = s.listings.get(&sku).map(|l| l.hepsiburada_sku.clone());
    let hb_sku = existing.clone().unwrap_or_else(|| {
        s.next_hb_sku += 1;
        format!("HBV{:010X}", s.next_hb_sku)
    });
    let listing = ListingState {
        merchant_sku: sku.clone(),
        hepsiburada_sku: hb_sku,
        barcode: get("Barcode").unwrap_or_default(),
        title: get("UrunAdi").unwrap_or_default(),
        description: get("UrunAciklamasi").unwrap_or_default(),
        brand: get("Marka").unwrap_or_default(),
        category_id: category.unwrap(),
        variant_group_id: get("VaryantGroupID"),
        vat_rate: get("tax_vat_rate")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        price: parse_price(get("price")).or_else(|| s.listings.get(&sku).and_then(|l| l.price)),
        stock: get("stock")
            .and_then(|t| t.parse().ok())
            .or_else(|| s.listings.get(&sku).and_then(|l| l.stock)),
        attributes: Value::Object(attrs.clone()),
    };
    s.listings.insert(sku.clone(), listing);
    let counts = s.accepted.entry(sku).or_default();
    if existing.is_some() {
        counts.content += 1;
    } else {
        counts.create += 1;
    }
    Ok(())
}

fn import_status(s: &mut HbState, id: &str, uri: &Uri) -> Response {
    let Some(imp) = s.imports.get_mut(id) else {
        return hb_error(404, &format!("trackingId not found: {id}"));
    };
    imp.polls += 1;
    let done = imp.polls >= imp.polls_needed;
    let size = query_param(uri, "size")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let page = query_param(uri, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let rows: Vec<Value> = imp
        .rows
        .iter()
        .skip(page * size)
        .take(size)
        .map(|r| {
            if done {
                r.clone()
            } else {
                let mut r = r.clone();
                r["importStatus"] = json!("PROCESSING");
                r["productStatus"] = Value::Null;
                r["validationResults"] = json!([]);
                r
            }
        })
        .collect();
    let total = imp.rows.len();
    let pages = total.div_ceil(size);
    let mut out = envelope(Value::Array(rows.clone()));
    out["totalElements"] = json!(total);
    out["totalPages"] = json!(pages);
    out["number"] = json!(page);
    out["numberOfElements"] = json!(rows.len());
    out["first"] = json!(page == 0);
    out["last"] = json!(page + 1 >= pages);
    hb_json(200, out)
}

fn attr_json(a: &HbAttribute) -> Value {
    json!({"id": a.id, "name": a.name, "mandatory": a.mandatory, "type": a.kind, "multiValue": a.multi_value})
}

fn category_attributes(s: &HbState, cid: &str) -> Response {
    let Some(cat) = cid.parse::<i64>().ok().and_then(|id| s.categories.get(&id)) else {
        return hb_error(404, &format!("Category not found: {cid}"));
    };
    if !cat.leaf {
        return hb_error(400, &format!("Category {cid} is not a leaf category"));
    }
    hb_json(
        200,
        envelope(json!({
            "baseAttributes": cat.base_attributes.iter().map(attr_json).collect::<Vec<_>>(),
            "attributes": cat.attributes.iter().map(attr_json).collect::<Vec<_>>(),
            "variantAttributes": cat.variant_attributes.iter().map(attr_json).collect::<Vec<_>>(),
        })),
    )
}

fn attribute_values(s: &HbState, cid: &str, aid: &str) -> Response {
    let attr = cid
        .parse::<i64>()
        .ok()
        .and_then(|id| s.categories.get(&id))
        .and_then(|c| c.all().find(|a| a.id == aid).cloned());
    let Some(attr) = attr else {
        return hb_error(404, &format!("Attribute {aid} not found in category {cid}"));
    };
    let values: Vec<Value> = attr
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"id": i + 1, "value": v}))
        .collect();
    let n = values.len();
    let mut out = envelope(Value::Array(values));
    out["totalElements"] = json!(n);
    out["totalPages"] = json!(1);
    out["number"] = json!(0);
    out["first"] = json!(true);
    out["last"] = json!(true);
    hb_json(200, out)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn multipart_file_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nnope\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"integrator.json\"\r\nContent-Type: application/json\r\n\r\n[{\"a\":1}]\r\n--XyZ--\r\n";
        let file = multipart_file("multipart/form-data; boundary=\"XyZ\"", body).unwrap();
        assert_eq!(file, b"[{\"a\":1}]");
        assert!(multipart_file("application/json", body).is_none());
    }

    #[test]
    fn routes_by_host() {
        let p = format!("/listings/merchantid/{TEST_MERCHANT_ID}/price-uploads");
        assert!(route(Host::Listing, &Method::POST, &p).is_some());
        assert!(route(Host::Mpop, &Method::POST, &p).is_none());
        assert!(route(Host::Mpop, &Method::POST, "/product/api/products/import").is_some());
    }
}
