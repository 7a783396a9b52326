//! A local Hepsiburada merchant API for the catalog endpoints, speaking the
//! wire contract of ../docs/marketplace-wire.md (§ Hepsiburada): HTTP Basic
//! `merchantId:serviceKey` with the integrator username as `User-Agent`,
//! separate listing and catalog (mpop) hosts (two ports here), async
//! price/stock uploads polled by id, the multipart product import polled by
//! tracking id, category attributes in three buckets, a per-endpoint rate
//! limit answering 429 with `X-RateLimit-*` headers, the catalog host's own
//! limit (100 requests per second over all its endpoints, answered with 403:
//! January 2026 changelog, H8), and faults (shared with the Trendyol fake: no
//! fault ever processes the request). Wrong credentials and a wrong
//! `User-Agent` get 401; the listing host accepts only `/merchantid/` and
//! the order list only lower-case `offset`/`limit`/`begindate`/`enddate`
//! (query names are case-sensitive at Hepsiburada); the import takes
//! `Image1`…`Image10` and `Video1` (H9).
//!
//! Orders live on a third host (oms-external, its own port): the paid-orders
//! list with mandatory limit/offset, limit silently capped at 100, and a
//! begindate/enddate window silently cut to 24 h (§ Orders of the doc);
//! packages with the intransit call of the "Mağaza Hesabı" model (H7: the
//! tracking number of a parcel shipped with the merchant's own carrier) and
//! the package read (one object). A begindate that is not `yyyy-MM-dd HH:mm`
//! (an ISO date) gets 200 with an empty page, as Hepsiburada answers.
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
    barcode_ok, civil_from_days, civil_parts, days_from_civil, header, int_field, iso_now,
    percent_decode, query_param, two_decimals, with_rate_headers, Gate, Pass, DAY_MS, HOUR_MS,
};
pub use crate::trendyol_fake::{AcceptedCounts, EndpointKind, Fault, Kind, RecordedRequest};

/// The record-based accounting service (H14).
mod accounting;
/// The cancelled-line list (H15).
mod cancelled;
pub use accounting::{HbAccountingSpec, ACCOUNTING_MAX_LIMIT, ACCOUNTING_TRANSACTIONS};
/// One order by its number (H17).
mod order_detail;
pub use cancelled::{CANCELLED_MAX_LIMIT, CANCELLED_STATUS, ORDER_CANCELLED_LIST};
/// Claims (returns, H16).
mod claims;
pub use claims::{
    CLAIM_ACCEPT, CLAIM_CUSTOMER_NAME, CLAIM_EXPLANATION, CLAIM_LIST, CLAIM_MAX_LIMIT,
    CLAIM_REJECT, CLAIM_STATUS_LIST,
};
pub use order_detail::ORDER_DETAIL;
mod invoices;
pub use invoices::{CANCEL_BY_MERCHANT, INVOICE_REQUIRED, MISSING_INVOICE, PACKAGE_INVOICE};
/// Packaging of lines and the package list (H13).
mod packages;
pub use packages::{CREATE_PACKAGE, PACKAGE_LIST, PACKAGE_LIST_MAX_LIMIT};

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
/// "image1 ile image10 arasında" (June 2025 changelog).
pub const MAX_IMAGES: usize = 10;
/// "1 saniye içerisinde 100" on the catalog services (January 2026 changelog).
pub const CATALOG_RATE_LIMIT: usize = 100;
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
    for i in 2..=MAX_IMAGES {
        v.push(HbAttribute::text(
            &format!("Image{i}"),
            &format!("Görsel {i}"),
            false,
        ));
    }
    v.push(HbAttribute::text("Video1", "Video", false));
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
    orders: HbOrders,
    claims: claims::HbClaims,
    accounting: accounting::HbAccounting,
    /// The catalog host's limit over all its endpoints, and its arrivals.
    catalog_limit: Option<(usize, Duration)>,
    catalog_arrivals: std::collections::VecDeque<Instant>,
    catalog_throttled: u64,
    /// Upload status words: processing, completed, completed with errors,
    /// failed.
    status_words: [&'static str; 4],
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
            orders: HbOrders::new(),
            claims: Default::default(),
            accounting: Default::default(),
            catalog_limit: Some((CATALOG_RATE_LIMIT, Duration::from_secs(1))),
            catalog_arrivals: Default::default(),
            catalog_throttled: 0,
            status_words: UPPER_CASE_WORDS,
        };
        s.gate
            .limits
            .insert(ORDER_LIST, (ORDERS_RATE_LIMIT, Duration::from_secs(1)));
        s.gate.limits.insert(
            ORDER_CANCELLED_LIST,
            (ORDERS_RATE_LIMIT, Duration::from_secs(1)),
        );
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

/// A running fake with three listeners: listing-external, mpop and
/// oms-external.
#[derive(Clone)]
pub struct HepsiburadaFake {
    /// Stands for `https://listing-external.hepsiburada.com`.
    pub listing_base_url: String,
    /// Stands for `https://mpop.hepsiburada.com`.
    pub mpop_base_url: String,
    /// Stands for `https://oms-external.hepsiburada.com`.
    pub oms_base_url: String,
    state: Arc<Mutex<HbState>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Host {
    Listing,
    Mpop,
    Oms,
}

impl HepsiburadaFake {
    /// Starts the three hosts on ephemeral loopback ports.
    pub async fn start() -> HepsiburadaFake {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Self::start_on_hosts(any, any, any).await
    }

    /// Listing and mpop on the given addresses, oms on an ephemeral port.
    pub async fn start_on(listing_addr: SocketAddr, mpop_addr: SocketAddr) -> HepsiburadaFake {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Self::start_on_hosts(listing_addr, mpop_addr, any).await
    }

    pub async fn start_on_hosts(
        listing_addr: SocketAddr,
        mpop_addr: SocketAddr,
        oms_addr: SocketAddr,
    ) -> HepsiburadaFake {
        let state = Arc::new(Mutex::new(HbState::new()));
        let mut urls = Vec::new();
        for (addr, host) in [
            (listing_addr, Host::Listing),
            (mpop_addr, Host::Mpop),
            (oms_addr, Host::Oms),
        ] {
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
            oms_base_url: urls.pop().unwrap(),
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

    /// Rate limit for every endpoint (default 500 per 1 s). The order list
    /// keeps its own 1,000 / 1 s unless set with [`Self::set_endpoint_rate_limit`].
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

    /// The catalog host's shared limit (`None`: off).
    pub fn set_catalog_rate_limit(&self, limit: Option<(usize, Duration)>) {
        self.with(|s| s.catalog_limit = limit);
    }

    /// Catalog requests refused with 403 for going over its limit.
    pub fn catalog_throttled_count(&self) -> u64 {
        self.with(|s| s.catalog_throttled)
    }

    /// The words upload results use (see [`UPPER_CASE_WORDS`],
    /// [`TITLE_CASE_WORDS`]).
    pub fn set_upload_status_words(&self, words: [&'static str; 4]) {
        self.with(|s| s.status_words = words);
    }
}

/// `PROCESSING` / `COMPLETED` / `COMPLETED_WITH_ERRORS` / `FAILED`, as some
/// third-party clients read them.
pub const UPPER_CASE_WORDS: [&str; 4] =
    ["PROCESSING", "COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"];
/// `Processing` / `Done` / `Failed`, as others read them.
pub const TITLE_CASE_WORDS: [&str; 4] = ["Processing", "Done", "Done", "Failed"];

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
        // Not modelled here: answered like `Status`.
        Fault::LostAnswer(code) => fault_response(&Fault::Status(*code)),
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
    Orders,
    Cancelled,
    InTransit(String),
    PackageInfo(String),
    Invoice(String),
    MissingInvoice,
    CancelLine(String),
    ClaimList(Option<String>),
    ClaimDecision(String, bool),
    CreatePackage,
    PackageList,
    Accounting,
    OrderDetail(String),
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
            Route::Orders => ORDER_LIST,
            Route::Cancelled => ORDER_CANCELLED_LIST,
            Route::InTransit(_) => PACKAGE_INTRANSIT,
            Route::PackageInfo(_) => PACKAGE_INFO,
            Route::Invoice(_) => PACKAGE_INVOICE,
            Route::MissingInvoice => MISSING_INVOICE,
            Route::CancelLine(_) => invoices::CANCEL_BY_MERCHANT,
            Route::ClaimList(None) => CLAIM_LIST,
            Route::ClaimList(Some(_)) => CLAIM_STATUS_LIST,
            Route::ClaimDecision(_, false) => CLAIM_ACCEPT,
            Route::ClaimDecision(_, true) => CLAIM_REJECT,
            Route::CreatePackage => CREATE_PACKAGE,
            Route::PackageList => PACKAGE_LIST,
            Route::Accounting => ACCOUNTING_TRANSACTIONS,
            Route::OrderDetail(_) => ORDER_DETAIL,
        }
    }

    /// Served by the catalog host (mpop).
    fn on_catalog_host(&self) -> bool {
        matches!(
            self,
            Route::Import
                | Route::ImportStatus(_)
                | Route::CategoryAttributes(_)
                | Route::AttributeValues(..)
        )
    }

    fn kind(&self) -> EndpointKind {
        match self {
            Route::PriceUpload | Route::StockUpload | Route::Import => EndpointKind::Write,
            Route::PriceStatus(_) | Route::StockStatus(_) | Route::ImportStatus(_) => {
                EndpointKind::Status
            }
            Route::Orders | Route::Cancelled | Route::ClaimList(_) | Route::OrderDetail(_) => {
                EndpointKind::Orders
            }
            Route::Accounting => EndpointKind::Finance,
            Route::InTransit(_)
            | Route::PackageInfo(_)
            | Route::MissingInvoice
            | Route::PackageList => EndpointKind::Tracking,
            // A write, apart from the package reads around it.
            Route::Invoice(_)
            | Route::CancelLine(_)
            | Route::ClaimDecision(..)
            | Route::CreatePackage => EndpointKind::Write,
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
        (Host::Listing, ["listings", m, mid, "price-uploads"]) if post && *m == "merchantid" => {
            (Route::PriceUpload, Some(mid.to_string()))
        }
        (Host::Listing, ["listings", m, mid, "price-uploads", "id", id])
            if get && *m == "merchantid" =>
        {
            (Route::PriceStatus(id.to_string()), Some(mid.to_string()))
        }
        (Host::Listing, ["listings", m, mid, "stock-uploads"]) if post && *m == "merchantid" => {
            (Route::StockUpload, Some(mid.to_string()))
        }
        (Host::Listing, ["listings", m, mid, "stock-uploads", "id", id])
            if get && *m == "merchantid" =>
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
        (Host::Oms, ["orders", m, mid]) if get && m.eq_ignore_ascii_case("merchantid") => {
            (Route::Orders, Some(mid.to_string()))
        }
        (Host::Oms, ["transactions", m, mid]) if get && m.eq_ignore_ascii_case("merchantid") => {
            (Route::Accounting, Some(mid.to_string()))
        }
        (Host::Oms, ["orders", m, mid, o, n])
            if get
                && m.eq_ignore_ascii_case("merchantid")
                && o.eq_ignore_ascii_case("ordernumber") =>
        {
            (Route::OrderDetail(n.to_string()), Some(mid.to_string()))
        }
        (Host::Oms, ["orders", m, mid, "cancelled"])
            if get && m.eq_ignore_ascii_case("merchantid") =>
        {
            (Route::Cancelled, Some(mid.to_string()))
        }
        (Host::Oms, ["packages", m, mid, p, no, "intransit"])
            if post
                && m.eq_ignore_ascii_case("merchantid")
                && p.eq_ignore_ascii_case("packagenumber") =>
        {
            (Route::InTransit(no.to_string()), Some(mid.to_string()))
        }
        (Host::Oms, ["packages", m, mid, p, no, "invoice"])
            if method == Method::PUT
                && m.eq_ignore_ascii_case("merchantid")
                && p.eq_ignore_ascii_case("packagenumber") =>
        {
            (Route::Invoice(no.to_string()), Some(mid.to_string()))
        }
        (Host::Oms, ["lineitems", m, mid, "id", line, "cancelbymerchant"])
            if post && m.eq_ignore_ascii_case("merchantid") =>
        {
            (Route::CancelLine(line.to_string()), Some(mid.to_string()))
        }
        (Host::Oms, ["claims", m, mid]) if get && m.eq_ignore_ascii_case("merchantid") => {
            (Route::ClaimList(None), Some(mid.to_string()))
        }
        (Host::Oms, ["claims", m, mid, "status", status])
            if get && m.eq_ignore_ascii_case("merchantid") =>
        {
            (
                Route::ClaimList(Some(status.to_string())),
                Some(mid.to_string()),
            )
        }
        (Host::Oms, ["claims", "number", no, action])
            if post && (*action == "accept" || *action == "reject") =>
        {
            (
                Route::ClaimDecision(no.to_string(), *action == "reject"),
                None,
            )
        }
        (Host::Oms, ["packages", m, mid]) if post && m.eq_ignore_ascii_case("merchantid") => {
            (Route::CreatePackage, Some(mid.to_string()))
        }
        (Host::Oms, ["packages", m, mid]) if get && m.eq_ignore_ascii_case("merchantid") => {
            (Route::PackageList, Some(mid.to_string()))
        }
        (Host::Oms, ["packages", m, mid, "missing-invoice"])
            if get && m.eq_ignore_ascii_case("merchantid") =>
        {
            (Route::MissingInvoice, Some(mid.to_string()))
        }
        (Host::Oms, ["packages", m, mid, p, no])
            if get
                && m.eq_ignore_ascii_case("merchantid")
                && p.eq_ignore_ascii_case("packagenumber") =>
        {
            (Route::PackageInfo(no.to_string()), Some(mid.to_string()))
        }
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
        return hb_error(
            401,
            "Unauthorized: User-Agent must be the integrator username",
        );
    }
    if route.on_catalog_host() {
        let mut s = state.lock().unwrap();
        if let Some((max, window)) = s.catalog_limit {
            while s
                .catalog_arrivals
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                s.catalog_arrivals.pop_front();
            }
            if s.catalog_arrivals.len() >= max {
                s.catalog_throttled += 1;
                // The body of Hepsiburada's over-limit 403 is UNCONFIRMED.
                return hb_error(403, "Forbidden");
            }
            s.catalog_arrivals.push_back(now);
        }
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
    let mut lost_answer = None;
    if let Some(fault) = fault {
        if let Fault::Timeout(d) = fault {
            tokio::time::sleep(d).await;
        }
        // Only the seller actions process a lost answer (invoices.rs,
        // packages.rs).
        if !(matches!(fault, Fault::LostAnswer(_))
            && matches!(
                route,
                Route::Invoice(_)
                    | Route::CancelLine(_)
                    | Route::ClaimDecision(..)
                    | Route::CreatePackage
            ))
        {
            return fault_response(&fault);
        }
        lost_answer = Some(fault);
    }
    let mut s = state.lock().unwrap();
    let answer = match route {
        Route::PriceUpload => upload(&mut s, &body, true),
        Route::StockUpload => upload(&mut s, &body, false),
        Route::PriceStatus(id) => upload_status(&mut s, &id, true),
        Route::StockStatus(id) => upload_status(&mut s, &id, false),
        Route::Import => import(&mut s, headers, &body),
        Route::ImportStatus(id) => import_status(&mut s, &id, uri),
        Route::CategoryAttributes(cid) => category_attributes(&s, &cid),
        Route::AttributeValues(cid, aid) => attribute_values(&s, &cid, &aid),
        Route::Orders => order_list(&mut s, uri),
        Route::Cancelled => cancelled::cancelled_list(&mut s, uri),
        Route::Accounting => accounting::transactions(&mut s, uri),
        Route::OrderDetail(n) => order_detail::order_detail(&s, &n),
        Route::InTransit(no) => intransit(&mut s, &no, &body),
        Route::PackageInfo(no) => package_info(&s, &no),
        Route::Invoice(no) => invoices::send_invoice(&mut s, &no, &body),
        Route::MissingInvoice => invoices::missing_invoice(&s, uri),
        Route::CancelLine(line) => invoices::cancel_by_merchant(&mut s, &line, &body),
        Route::ClaimList(status) => claims::claim_list(&mut s, uri, status.as_deref()),
        Route::ClaimDecision(no, reject) => claims::decide(&mut s, &no, &body, reject),
        Route::CreatePackage => packages::create_package(&mut s, &body),
        Route::PackageList => packages::package_list(&mut s, uri),
    };
    match lost_answer {
        Some(fault) => fault_response(&fault),
        None => answer,
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
    let words = s.status_words;
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
    let [processing, completed, with_errors, failed] = words;
    let status = if !done {
        processing
    } else if up.failed_items == 0 {
        completed
    } else if up.failed_items == up.total {
        failed
    } else {
        with_errors
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
    for key in attrs.keys() {
        let image_no = key
            .strip_prefix("Image")
            .and_then(|n| n.parse::<usize>().ok());
        if image_no.is_some_and(|n| n == 0 || n > MAX_IMAGES) {
            fail(key, format!("{key}: images are Image1..Image{MAX_IMAGES}"));
        }
    }
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

// ---------------------------------------------------------------------------
// Orders (oms-external): docs/marketplace-wire.md § Orders, H6

/// "Ödemesi Tamamlanmış Siparişleri Listeleme" on the oms host.
pub const ORDER_LIST: &str = "GET /orders/merchantid/{merchantId}";
/// Largest page; a bigger `limit` is silently served as this.
pub const ORDERS_MAX_LIMIT: i64 = 100;
/// Longest begindate..enddate window; a longer one silently becomes
/// begindate + 24 h.
pub const ORDERS_MAX_WINDOW_MS: u64 = 24 * HOUR_MS;
/// Order services: 1,000 requests per second.
pub const ORDERS_RATE_LIMIT: usize = 1000;
pub const LIMIT_OFFSET_REQUIRED: &str = "Bad Request limit and offset parameters are required";
/// The line status this list shows (paid, waiting to be packed).
pub const OPEN_STATUS: &str = "Open";
/// Hepsiburada's dates are Turkey time (UTC+03:00, no DST).
pub const TR_OFFSET_HOURS: i64 = 3;

/// Epoch ms → `yyyy-MM-dd HH:mm` in Turkey time (the begindate/enddate format).
pub fn hb_date(ms: u64) -> String {
    let [y, mo, d, h, mi, ..] = civil_parts(ms, TR_OFFSET_HOURS);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

/// `yyyy-MM-dd HH:mm` (or `yyyy-MM-dd`) in Turkey time → epoch ms.
pub fn parse_hb_date(text: &str) -> Option<u64> {
    let text = text.trim();
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00"));
    let mut dp = date.split('-');
    let (y, mo, d) = (dp.next()?, dp.next()?, dp.next()?);
    let (h, mi) = time.trim().split_once(':')?;
    let digits = |v: &str, n: usize| v.len() == n && v.chars().all(|c| c.is_ascii_digit());
    if dp.next().is_some()
        || !digits(y, 4)
        || !digits(mo, 2)
        || !digits(d, 2)
        || !digits(h, 2)
        || !digits(mi, 2)
    {
        return None;
    }
    let [y, mo, d, h, mi]: [i64; 5] = [y, mo, d, h, mi].map(|v| v.parse().unwrap());
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return None;
    }
    let ms = (days * 86_400 + h * 3600 + mi * 60 - TR_OFFSET_HOURS * 3600) * 1000;
    u64::try_from(ms).ok()
}

/// Epoch ms → `2024-05-11T13:20:30.123+03:00` (Turkey time).
fn iso_tr(ms: u64) -> String {
    let [y, mo, d, h, mi, sec, milli] = civil_parts(ms, TR_OFFSET_HOURS);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{milli:03}+03:00")
}

/// One line of an order to create.
#[derive(Debug, Clone, PartialEq)]
pub struct HbLineSpec {
    pub merchant_sku: String,
    pub quantity: i64,
    /// Unit price paid (TRY).
    pub unit_price: f64,
    pub name: String,
}

impl HbLineSpec {
    pub fn new(merchant_sku: &str, quantity: i64, unit_price: f64) -> Self {
        HbLineSpec {
            merchant_sku: merchant_sku.into(),
            quantity,
            unit_price,
            name: format!("Test Ürün {merchant_sku}"),
        }
    }
}

/// An order to create. Unset: a fresh order number, `orderDate` = the
/// fake's clock, status [`OPEN_STATUS`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HbOrderSpec {
    pub order_number: Option<String>,
    pub order_date_ms: Option<u64>,
    pub status: Option<String>,
    pub lines: Vec<HbLineSpec>,
}

impl HbOrderSpec {
    pub fn new(lines: Vec<HbLineSpec>) -> Self {
        HbOrderSpec {
            lines,
            ..Default::default()
        }
    }

    pub fn line(merchant_sku: &str, quantity: i64, unit_price: f64) -> Self {
        Self::new(vec![HbLineSpec::new(merchant_sku, quantity, unit_price)])
    }

    pub fn order_number(mut self, n: &str) -> Self {
        self.order_number = Some(n.into());
        self
    }

    pub fn at(mut self, ms: u64) -> Self {
        self.order_date_ms = Some(ms);
        self
    }

    pub fn status(mut self, s: &str) -> Self {
        self.status = Some(s.into());
        self
    }
}

/// An order as stored: its number and its line items in the list shape.
#[derive(Debug, Clone, PartialEq)]
pub struct HbStoredOrder {
    pub order_number: String,
    pub order_id: String,
    pub items: Vec<Value>,
}

impl HbStoredOrder {
    /// The line item id of the order's line of `merchant_sku`; panics when
    /// it has none.
    pub fn line_id(&self, merchant_sku: &str) -> String {
        self.items
            .iter()
            .find(|i| i["merchantSKU"] == merchant_sku)
            .and_then(|i| i["id"].as_str())
            .unwrap_or_else(|| panic!("no line of {merchant_sku} in {}", self.order_number))
            .to_string()
    }
}

/// What happens when an order-list request arrives (see
/// [`HepsiburadaFake::on_next_page_request`]).
#[derive(Debug, Clone)]
pub enum HbPageHook {
    Insert(HbOrderSpec),
    /// Every line of the order moves to this status (non-Open lines leave
    /// the list).
    UpdateStatus(String, String),
}

/// One order-list request that reached the handler.
#[derive(Debug, Clone, PartialEq)]
pub struct HbOrderQuery {
    pub raw: String,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub begindate: Option<String>,
    pub enddate: Option<String>,
    /// begindate / enddate parsed (Turkey time), when valid.
    pub begin_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// The end actually used (begin + 24 h when the window was longer).
    pub effective_end_ms: Option<u64>,
    /// The window was longer than 24 h and was silently cut.
    pub truncated: bool,
    pub http_status: u16,
    /// Line item ids returned, in order.
    pub returned: Vec<String>,
    pub served_at_ms: u64,
}

impl HbOrderQuery {
    /// `enddate - begindate` as sent.
    pub fn window_ms(&self) -> Option<u64> {
        Some(self.end_ms?.saturating_sub(self.begin_ms?))
    }
}

#[derive(Debug, Clone)]
struct HbLine {
    id: String,
    order_id: String,
    order_number: String,
    order_date_ms: u64,
    last_status_ms: u64,
    status: String,
    spec: HbLineSpec,
    hb_sku: String,
    customer_id: String,
    seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HbTrigger {
    NextPage,
    Nth(usize),
}

struct HbOrders {
    lines: Vec<HbLine>,
    seq: u64,
    next_order_number: u64,
    clock_offset_ms: i64,
    hooks: Vec<(HbTrigger, HbPageHook)>,
    queries: Vec<HbOrderQuery>,
    cancelled_queries: Vec<HbOrderQuery>,
    packages: Vec<HbPackage>,
    next_package_number: u64,
    /// Accepted intransit calls: (package number, tracking number).
    tracking_updates: Vec<(String, String)>,
    /// Accepted invoice links: (package number, link).
    invoice_links: Vec<(String, String)>,
    /// The next invoice link is refused with this message (400).
    invoice_refusal: Option<String>,
    /// Executed merchant cancels: (line id, reason id).
    merchant_cancels: Vec<(String, u64)>,
    /// Packages made by the create call (package numbers).
    created_packages: Vec<String>,
}

impl HbOrders {
    fn new() -> Self {
        HbOrders {
            lines: Vec::new(),
            seq: 0,
            next_order_number: 4_400_000_000,
            clock_offset_ms: 0,
            hooks: Vec::new(),
            queries: Vec::new(),
            cancelled_queries: Vec::new(),
            packages: Vec::new(),
            next_package_number: 5_000_031_000,
            tracking_updates: Vec::new(),
            invoice_links: Vec::new(),
            invoice_refusal: None,
            merchant_cancels: Vec::new(),
            created_packages: Vec::new(),
        }
    }

    fn clock(&self) -> u64 {
        (wall_ms() as i64 + self.clock_offset_ms).max(0) as u64
    }

    fn insert(&mut self, spec: HbOrderSpec) -> String {
        assert!(!spec.lines.is_empty(), "an order needs at least one line");
        let at = spec.order_date_ms.unwrap_or_else(|| self.clock());
        let number = spec.order_number.unwrap_or_else(|| {
            self.next_order_number += 1;
            self.next_order_number.to_string()
        });
        let order_id = new_uuid();
        let status = spec.status.unwrap_or_else(|| OPEN_STATUS.into());
        let customer_id = new_uuid();
        for line in spec.lines {
            self.seq += 1;
            self.lines.push(HbLine {
                id: new_uuid(),
                order_id: order_id.clone(),
                order_number: number.clone(),
                order_date_ms: at,
                last_status_ms: at,
                status: status.clone(),
                hb_sku: format!("HBC{:011X}", hash_sku(&line.merchant_sku)),
                spec: line,
                customer_id: customer_id.clone(),
                seq: self.seq,
            });
        }
        number
    }

    fn update(&mut self, pick: impl Fn(&HbLine) -> bool, status: &str) -> usize {
        let now = self.clock();
        let mut n = 0;
        for l in self.lines.iter_mut().filter(|l| pick(l)) {
            l.status = status.into();
            l.last_status_ms = now.max(l.last_status_ms + 1);
            n += 1;
        }
        n
    }

    fn items_of(&self, order_number: &str) -> Vec<Value> {
        self.lines
            .iter()
            .filter(|l| l.order_number == order_number)
            .map(line_json)
            .collect()
    }

    fn run_hook(&mut self, hook: HbPageHook) {
        match hook {
            HbPageHook::Insert(spec) => {
                self.insert(spec);
            }
            HbPageHook::UpdateStatus(number, status) => {
                let n = self.update(|l| l.order_number == number, &status);
                assert!(n > 0, "page hook: unknown Hepsiburada order {number}");
            }
        }
    }

    fn fire_hooks(&mut self, offset: i64) {
        let hooks = std::mem::take(&mut self.hooks);
        let mut kept = Vec::new();
        for (trigger, hook) in hooks {
            match trigger {
                HbTrigger::NextPage if offset >= 1 => self.run_hook(hook),
                HbTrigger::Nth(1) => self.run_hook(hook),
                HbTrigger::Nth(n) => kept.push((HbTrigger::Nth(n - 1), hook)),
                t @ HbTrigger::NextPage => kept.push((t, hook)),
            }
        }
        self.hooks = kept;
    }
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn hash_sku(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish() & 0xFFF_FFFF_FFFF
}

/// A line item in the order-list shape.
fn line_json(l: &HbLine) -> Value {
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    let money = |v: f64| json!({"amount": r2(v), "currency": "TRY"});
    let total = l.spec.unit_price * l.spec.quantity as f64;
    let vat_rate = 20.0;
    let address = json!({
        "addressId": format!("{}-a", &l.customer_id[..8]),
        "address": "Test Mah. Örnek Sok. No:1",
        "name": "Test Müşteri",
        "email": "test.musteri@example.com",
        "phoneNumber": "05000000000",
        "alternatePhoneNumber": "",
        "city": "İstanbul",
        "town": "Kadıköy",
        "district": "Moda",
        "postalCode": "34710",
        "countryCode": "TR",
        "directions": "",
    });
    json!({
        "id": l.id,
        "orderId": l.order_id,
        "orderNumber": l.order_number,
        "orderDate": iso_tr(l.order_date_ms),
        "lastStatusUpdateDate": iso_tr(l.last_status_ms),
        "dueDate": iso_tr(l.order_date_ms + 2 * DAY_MS),
        "status": l.status,
        "merchantId": TEST_MERCHANT_ID,
        "sku": l.hb_sku,
        "merchantSKU": l.spec.merchant_sku,
        "productBarcode": l.spec.merchant_sku,
        "name": l.spec.name,
        "quantity": l.spec.quantity,
        "unitPrice": money(l.spec.unit_price),
        "totalPrice": money(total),
        "hbDiscount": {"unitPrice": money(0.0), "totalPrice": money(0.0)},
        "merchantDiscount": {"unitPrice": money(0.0), "totalPrice": money(0.0)},
        "vat": r2(total * vat_rate / (100.0 + vat_rate)),
        "vatRate": vat_rate,
        "commission": money(total * 0.15),
        "commissionRate": 15.0,
        "customerId": l.customer_id,
        "customerName": "Test Müşteri",
        "shippingAddress": address,
        "invoice": {"address": address, "taxNumber": "", "taxOffice": "", "turkishIdentityNumber": "11111111111"},
        "cargoCompany": "Hepsijet",
        "cargoCompanyModel": {"id": 1, "name": "Hepsijet", "shortName": "HX", "logoUrl": "", "trackingUrl": ""},
        "canCreatePackage": l.status == OPEN_STATUS,
        "isCancellable": l.status == OPEN_STATUS,
        "isCancellableByHbAdmin": true,
        "isCargoChangable": true,
        "isCustomized": false,
        "isJetDelivery": false,
        "isMicroExport": false,
        "deliveryType": "Standard",
        "dispatchTime": 1,
        "creationReason": "OrderCreated",
        "packageNumber": null,
        "barcode": null,
    })
}

impl HepsiburadaFake {
    /// The fake's clock (epoch ms): real time plus [`Self::set_clock_offset`].
    pub fn clock_ms(&self) -> u64 {
        self.with(|s| s.orders.clock())
    }

    /// Shifts the fake's clock (negative = the past).
    pub fn set_clock_offset(&self, offset_ms: i64) {
        self.with(|s| s.orders.clock_offset_ms = offset_ms);
    }

    /// Stores an order (one list item per line).
    pub fn add_order(&self, spec: HbOrderSpec) -> HbStoredOrder {
        self.with(|s| {
            let number = s.orders.insert(spec);
            let items = s.orders.items_of(&number);
            HbStoredOrder {
                order_id: items[0]["orderId"].as_str().unwrap().to_string(),
                order_number: number,
                items,
            }
        })
    }

    /// An open order now from `(merchantSku, quantity, unit price)` lines.
    pub fn add_order_lines(&self, lines: &[(&str, i64, f64)]) -> HbStoredOrder {
        self.add_order(HbOrderSpec::new(
            lines
                .iter()
                .map(|(sku, q, p)| HbLineSpec::new(sku, *q, *p))
                .collect(),
        ))
    }

    /// Moves every line of the order to `status` and bumps
    /// `lastStatusUpdateDate`; lines that are not [`OPEN_STATUS`] leave the
    /// paid-orders list. Panics for an unknown order.
    pub fn update_status(&self, order_number: &str, status: &str) -> Vec<Value> {
        self.with(|s| {
            let n = s.orders.update(|l| l.order_number == order_number, status);
            assert!(n > 0, "unknown Hepsiburada order {order_number}");
            s.orders.items_of(order_number)
        })
    }

    /// One line item to `status`.
    pub fn update_line_status(&self, line_id: &str, status: &str) -> Value {
        self.with(|s| {
            let n = s.orders.update(|l| l.id == line_id, status);
            assert!(n > 0, "unknown Hepsiburada line item {line_id}");
            line_json(s.orders.lines.iter().find(|l| l.id == line_id).unwrap())
        })
    }

    /// The line items of an order (any status).
    pub fn order_items(&self, order_number: &str) -> Vec<Value> {
        self.with(|s| s.orders.items_of(order_number))
    }

    /// Line items stored (any status).
    pub fn order_line_count(&self) -> usize {
        self.with(|s| s.orders.lines.len())
    }

    /// Runs `hook` when the next order-list request with `offset` ≥ 1
    /// arrives, before that page is computed.
    pub fn on_next_page_request(&self, hook: HbPageHook) {
        self.with(|s| s.orders.hooks.push((HbTrigger::NextPage, hook)));
    }

    /// Runs `hook` when the `n`-th order-list request from now arrives.
    pub fn on_order_list_request(&self, n: usize, hook: HbPageHook) {
        assert!(n >= 1);
        self.with(|s| s.orders.hooks.push((HbTrigger::Nth(n), hook)));
    }

    pub fn insert_on_next_page_request(&self, spec: HbOrderSpec) {
        self.on_next_page_request(HbPageHook::Insert(spec));
    }

    pub fn pending_page_hooks(&self) -> usize {
        self.with(|s| s.orders.hooks.len())
    }

    /// Order-list requests that reached the handler (past auth, rate limit,
    /// faults), in arrival order.
    pub fn order_list_queries(&self) -> Vec<HbOrderQuery> {
        self.with(|s| s.orders.queries.clone())
    }

    /// Order-list requests that arrived (any outcome).
    pub fn order_list_request_count(&self) -> usize {
        self.request_count(ORDER_LIST)
    }
}

/// The query's value of a parameter, when not blank. Names are
/// case-sensitive, as Hepsiburada reads them.
fn query_text(uri: &Uri) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    move |k: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
    }
}

fn oms_error(status: u16, message: &str) -> Response {
    hb_json(status, json!({"message": message}))
}

fn order_list(s: &mut HbState, uri: &Uri) -> Response {
    // Parameter names are case-sensitive: the order list reads
    // `offset`/`limit` (the changelog's examples; `/packages` wants
    // `Offset`), so `Offset=0` here counts as no offset.
    let text = query_text(uri);
    let (offset_raw, limit_raw) = (text("offset"), text("limit"));
    let begindate = text("begindate");
    let enddate = text("enddate");
    let mut q = HbOrderQuery {
        raw: uri.query().unwrap_or("").to_string(),
        offset: offset_raw.as_deref().and_then(|v| v.trim().parse().ok()),
        limit: limit_raw.as_deref().and_then(|v| v.trim().parse().ok()),
        begin_ms: begindate.as_deref().and_then(parse_hb_date),
        end_ms: enddate.as_deref().and_then(parse_hb_date),
        begindate,
        enddate,
        effective_end_ms: None,
        truncated: false,
        http_status: 0,
        returned: vec![],
        served_at_ms: 0,
    };
    let result = (|| -> Result<(Value, Vec<String>), String> {
        let (Some(offset_raw), Some(limit_raw)) = (&offset_raw, &limit_raw) else {
            return Err(LIMIT_OFFSET_REQUIRED.into());
        };
        let (Some(offset), Some(limit)) = (q.offset, q.limit) else {
            return Err(format!(
                "offset and limit must be integers: offset={offset_raw}, limit={limit_raw}"
            ));
        };
        if offset < 0 || limit < 1 {
            return Err(format!(
                "offset must be >= 0 and limit >= 1: offset={offset}, limit={limit}"
            ));
        }
        let limit = limit.min(ORDERS_MAX_LIMIT);
        // A date not in `yyyy-MM-dd HH:mm` (an ISO date, say) is not
        // refused: Hepsiburada answers 200 with an empty page.
        let unreadable_date = [(&q.begindate, q.begin_ms), (&q.enddate, q.end_ms)]
            .iter()
            .any(|(raw, parsed)| raw.is_some() && parsed.is_none());
        if unreadable_date {
            return Ok((
                json!({"totalCount": 0, "limit": limit, "offset": offset, "pageCount": 0, "items": []}),
                vec![],
            ));
        }
        s.orders.fire_hooks(offset);
        let (lo, hi, truncated) = served_window(q.begin_ms, q.end_ms);
        q.truncated |= truncated;
        q.effective_end_ms = hi;
        let open = s.orders.lines.iter().filter(|l| l.status == OPEN_STATUS);
        Ok(window_page(
            open,
            (lo, hi),
            (offset, limit),
            |l| l.order_date_ms,
            line_json,
        ))
    })();
    let response = match result {
        Ok((body, ids)) => {
            q.returned = ids;
            hb_json(200, body)
        }
        Err(message) => oms_error(400, &message),
    };
    q.http_status = response.status().as_u16();
    q.served_at_ms = s.orders.clock();
    s.orders.queries.push(q);
    response
}

/// The window Hepsiburada serves for `begin`..`end`: at most 24 h (a wider
/// one is cut to begin + 24 h, the flag says so; no end is begin + 24 h).
fn served_window(begin: Option<u64>, end: Option<u64>) -> (Option<u64>, Option<u64>, bool) {
    match (begin, end) {
        (Some(b), Some(e)) if e.saturating_sub(b) > ORDERS_MAX_WINDOW_MS => {
            (Some(b), Some(b + ORDERS_MAX_WINDOW_MS), true)
        }
        (Some(b), Some(e)) => (Some(b), Some(e), false),
        (Some(b), None) => (Some(b), Some(b + ORDERS_MAX_WINDOW_MS), false),
        (None, e) => (None, e, false),
    }
}

/// One page of `lines` that `date_of` dates in `[lo, hi)`, oldest first, in
/// Hepsiburada's list envelope, with the ids it served.
fn window_page<'a>(
    lines: impl Iterator<Item = &'a HbLine>,
    (lo, hi): (Option<u64>, Option<u64>),
    (offset, limit): (i64, i64),
    date_of: impl Fn(&HbLine) -> u64,
    to_json: impl Fn(&HbLine) -> Value,
) -> (Value, Vec<String>) {
    let mut hits: Vec<&HbLine> = lines
        .filter(|l| lo.is_none_or(|b| date_of(l) >= b) && hi.is_none_or(|e| date_of(l) < e))
        .collect();
    hits.sort_by_key(|l| (date_of(l), l.seq));
    let total = hits.len();
    let page: Vec<&HbLine> = hits
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    let ids = page.iter().map(|l| l.id.clone()).collect();
    (
        json!({
            "totalCount": total,
            "limit": limit,
            "offset": offset,
            "pageCount": total.div_ceil(limit as usize),
            "items": page.into_iter().map(to_json).collect::<Vec<_>>(),
        }),
        ids,
    )
}

// ---------------------------------------------------------------------------
// Packages and intransit (oms-external): docs/marketplace-wire.md § Orders, H7

/// "Teslimat Statusu Iletme (Kargoda)".
pub const PACKAGE_INTRANSIT: &str =
    "POST /packages/merchantid/{merchantId}/packagenumber/{packageNumber}/intransit";
/// "Paket İçin Kargo Bilgilerini Listeleme".
pub const PACKAGE_INFO: &str =
    "GET /packages/merchantid/{merchantId}/packagenumber/{packageNumber}";
/// The cargo company of packages the merchant ships with its own carrier.
pub const MERCHANT_ACCOUNT_CARRIER: &str = "Mağaza Hesabı";
/// Status of a fresh package.
pub const PACKAGED_STATUS: &str = "Packaged";
pub const INTRANSIT_STATUS: &str = "InTransit";
/// intransit dates may not be older than this.
pub const INTRANSIT_MAX_AGE_MS: u64 = 7 * DAY_MS;
/// The body fields "Body Zorunlu Alanlar" lists.
pub const INTRANSIT_REQUIRED: &[&str] = &[
    "shippedDate",
    "estimatedArrivalDate",
    "trackingUrl",
    "trackingNumber",
    "trackingPhoneNumber",
    "tax",
    "cost",
    "deci",
];

#[derive(Debug, Clone)]
struct HbPackage {
    number: String,
    order_number: String,
    barcode: String,
    status: String,
    cargo_company: String,
    packaged_ms: u64,
    tracking_number: Option<String>,
    tracking_url: Option<String>,
    /// The last accepted intransit body.
    intransit_body: Option<Value>,
    /// The accepted invoice-link body (`None`: missing an invoice).
    invoice: Option<Value>,
    /// Its lines: (line item id, quantity).
    items: Vec<(String, i64)>,
}

fn package_json(p: &HbPackage) -> Value {
    json!({
        "packageNumber": p.number,
        "barcode": p.barcode,
        "status": p.status,
        "cargoCompany": p.cargo_company,
        "trackingInfoCode": p.tracking_number,
        "trackingInfoUrl": p.tracking_url,
    })
}

/// `2020-04-16T10:14:17.707Z` (also without millis, or with `+03:00`) → epoch ms.
pub fn parse_iso_instant(text: &str) -> Option<u64> {
    let (date, rest) = text.split_once('T')?;
    let (clock, offset_min) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0i64)
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (c, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':')?;
        (
            c,
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?),
        )
    };
    let mut dp = date.split('-');
    let (y, mo, d) = (
        dp.next()?.parse::<i64>().ok()?,
        dp.next()?.parse::<i64>().ok()?,
        dp.next()?.parse::<i64>().ok()?,
    );
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, "0"));
    let mut tp = hms.split(':');
    let (h, mi, sec) = (
        tp.next()?.parse::<i64>().ok()?,
        tp.next()?.parse::<i64>().ok()?,
        tp.next()?.parse::<i64>().ok()?,
    );
    if dp.next().is_some() || tp.next().is_some() || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let millis: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
    let ms = (days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000 + millis;
    u64::try_from(ms).ok()
}

impl HepsiburadaFake {
    /// Packs every line of `order_number` into a new package shipped with
    /// the merchant's own carrier ([`MERCHANT_ACCOUNT_CARRIER`]); the lines
    /// become `Packaged` (and leave the paid-orders list). Returns the
    /// package number.
    pub fn add_package(&self, order_number: &str) -> String {
        self.add_package_with_carrier(order_number, MERCHANT_ACCOUNT_CARRIER)
    }

    /// Same with another cargo company (e.g. `"Hepsijet"`: Hepsiburada's
    /// own carrier, for which intransit is refused).
    pub fn add_package_with_carrier(&self, order_number: &str, carrier: &str) -> String {
        self.with(|s| {
            let items = s
                .orders
                .lines
                .iter()
                .filter(|l| l.order_number == order_number)
                .map(|l| (l.id.clone(), l.spec.quantity))
                .collect();
            let n = s
                .orders
                .update(|l| l.order_number == order_number, PACKAGED_STATUS);
            assert!(n > 0, "unknown Hepsiburada order {order_number}");
            let o = &mut s.orders;
            o.next_package_number += 1;
            let number = o.next_package_number.to_string();
            let packaged_ms = o.clock();
            o.packages.push(HbPackage {
                barcode: format!("62{number}"),
                number: number.clone(),
                order_number: order_number.into(),
                status: PACKAGED_STATUS.into(),
                cargo_company: carrier.into(),
                packaged_ms,
                tracking_number: None,
                tracking_url: None,
                intransit_body: None,
                invoice: None,
                items,
            });
            number
        })
    }

    /// Moves a package to `status` (e.g. `Delivered`, `Undelivered`,
    /// `Unpacked`, `Cancelled`). Panics for an unknown package.
    pub fn set_package_status(&self, package_number: &str, status: &str) {
        self.with(|s| {
            let p = s
                .orders
                .packages
                .iter_mut()
                .find(|p| p.number == package_number)
                .unwrap_or_else(|| panic!("unknown Hepsiburada package {package_number}"));
            p.status = status.into();
        })
    }

    /// The package as the package read shows it.
    pub fn package(&self, package_number: &str) -> Option<Value> {
        self.with(|s| {
            s.orders
                .packages
                .iter()
                .find(|p| p.number == package_number)
                .map(package_json)
        })
    }

    /// Package numbers of an order, in creation order.
    pub fn packages_of(&self, order_number: &str) -> Vec<String> {
        self.with(|s| {
            s.orders
                .packages
                .iter()
                .filter(|p| p.order_number == order_number)
                .map(|p| p.number.clone())
                .collect()
        })
    }

    /// Accepted intransit calls, in order: (package number, tracking number).
    pub fn tracking_updates(&self) -> Vec<(String, String)> {
        self.with(|s| s.orders.tracking_updates.clone())
    }

    /// The tracking number a package was given through intransit.
    pub fn tracking_number(&self, package_number: &str) -> Option<String> {
        self.with(|s| {
            s.orders
                .packages
                .iter()
                .find(|p| p.number == package_number)?
                .tracking_number
                .clone()
        })
    }

    /// The last accepted intransit body of a package.
    pub fn intransit_body(&self, package_number: &str) -> Option<Value> {
        self.with(|s| {
            s.orders
                .packages
                .iter()
                .find(|p| p.number == package_number)?
                .intransit_body
                .clone()
        })
    }

    /// intransit requests that arrived (any outcome).
    pub fn intransit_request_count(&self) -> usize {
        self.request_count(PACKAGE_INTRANSIT)
    }
}

fn package_not_found(no: &str) -> Response {
    hb_json(
        404,
        json!({
            "statusCode": 404,
            "code": "1004",
            "defaultMessage": null,
            "correlationId": new_uuid(),
            "message": format!("cannot find package with package number {no}"),
        }),
    )
}

fn package_info(s: &HbState, no: &str) -> Response {
    match s.orders.packages.iter().find(|p| p.number == no) {
        // One object, not an array.
        Some(p) => hb_json(200, package_json(p)),
        None => package_not_found(no),
    }
}

fn intransit(s: &mut HbState, no: &str, body: &Bytes) -> Response {
    let now = s.orders.clock();
    let o = &mut s.orders;
    let Some(p) = o.packages.iter_mut().find(|p| p.number == no) else {
        return package_not_found(no);
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return oms_error(400, "Request body must be a JSON object");
    };
    if let Some(missing) = INTRANSIT_REQUIRED
        .iter()
        .find(|k| fields.get(**k).is_none_or(Value::is_null))
    {
        return oms_error(400, &format!("{missing} is required"));
    }
    let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or("");
    let tracking = text("trackingNumber").to_string();
    if tracking.trim().is_empty() || text("trackingUrl").is_empty() {
        return oms_error(400, "trackingNumber and trackingUrl must not be empty");
    }
    for k in ["tax", "cost"] {
        if fields.get(k).and_then(Value::as_f64) != Some(0.0) {
            return oms_error(400, &format!("{k} must be 0"));
        }
    }
    if !fields.get("deci").is_some_and(Value::is_number) {
        return oms_error(400, "deci must be a number");
    }
    let (Some(shipped), Some(_)) = (
        parse_iso_instant(text("shippedDate")),
        parse_iso_instant(text("estimatedArrivalDate")),
    ) else {
        return oms_error(
            400,
            "shippedDate and estimatedArrivalDate must be ISO 8601 dates",
        );
    };
    if shipped + INTRANSIT_MAX_AGE_MS < now {
        return oms_error(400, "Tarih bilgileri son 7 günden eski olamaz");
    }
    if shipped < p.packaged_ms {
        return oms_error(400, "Intransit date cannot be before the packaging date");
    }
    if p.cargo_company != MERCHANT_ACCOUNT_CARRIER {
        return oms_error(
            400,
            &format!("Package {no} is not shipped with the merchant account"),
        );
    }
    if p.status != PACKAGED_STATUS {
        return oms_error(
            400,
            &format!(
                "Package {no} is in status {} and cannot be moved to InTransit",
                p.status
            ),
        );
    }
    p.status = INTRANSIT_STATUS.into();
    p.tracking_number = Some(tracking.clone());
    p.tracking_url = Some(text("trackingUrl").to_string());
    p.intransit_body = Some(Value::Object(fields.clone()));
    o.tracking_updates.push((no.to_string(), tracking));
    (StatusCode::OK, "").into_response()
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
    fn iso_instants() {
        assert_eq!(
            parse_iso_instant("2026-11-26T13:33:20.000Z"),
            Some(1_795_700_000_000)
        );
        assert_eq!(
            parse_iso_instant("2026-11-26T16:33:20.5+03:00"),
            Some(1_795_700_000_500)
        );
        assert_eq!(parse_iso_instant("2026-11-26 13:33"), None);
        assert_eq!(parse_iso_instant("2026-02-30T00:00:00Z"), None);
    }

    #[test]
    fn routes_by_host() {
        let p = format!("/listings/merchantid/{TEST_MERCHANT_ID}/price-uploads");
        assert!(route(Host::Listing, &Method::POST, &p).is_some());
        assert!(route(Host::Mpop, &Method::POST, &p).is_none());
        assert!(route(Host::Mpop, &Method::POST, "/product/api/products/import").is_some());
    }
}
