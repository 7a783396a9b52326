//! A local Trendyol seller API for the catalog and order endpoints, speaking the wire
//! contract of ../docs/marketplace-wire.md (§ Trendyol): HTTP Basic auth and
//! the mandatory `User-Agent`, the 1,000-item limit, asynchronous batches
//! with per-item `SUCCESS`/`FAILED` results, the 15-minute identical-body
//! rule on price-and-inventory, a sliding-window rate limit per endpoint
//! (50 / 10 s) and Trendyol's error envelope. Faults can be queued or drawn
//! at random; no fault ever processes the request.
//!
//! Approximations (see the doc's UNCONFIRMED marks): batches are processed
//! when submitted (polls only decide when the result becomes visible), one
//! content per `productMainId`, products are approved on creation unless
//! `set_auto_approve(false)`, and the failure-reason texts are ours.
//!
//! Orders (§ Orders of the doc): getShipmentPackages with epoch-ms windows,
//! page/size ≤ 200, lastModifiedDate ordering, the 3-month lookback and
//! 2-week range, a clock that can be shifted into the past, status updates,
//! webhook payloads identical to polled packages, and hooks that change the
//! store between two page requests; updateTrackingNumber (T9) with the
//! package-status rules and the "already given a number" refusal.
//!
//! The fault, rate-limit and recording machinery at the bottom of this file
//! is shared with the Hepsiburada fake.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};

/// Claims (returns): getClaims (T14).
mod claims;
pub use claims::{
    form_fields, Rejection, APPROVE_CLAIM, CLAIMS, CLAIM_ISSUE_REASONS, CLAIM_ISSUE_REASON_IDS,
    CLAIM_ITEM_STATUSES, REJECT_CLAIM,
};
/// The current-account statement's settlements service (T15).
mod settlements;
pub use settlements::{SettlementQuery, SettlementSpec, SETTLEMENTS, SETTLEMENT_TYPES};

pub const TEST_SELLER_ID: &str = "123456";
pub const TEST_API_KEY: &str = "ty-fake-api-key-0123";
pub const TEST_API_SECRET: &str = "ty-fake-api-secret-4567";
/// What a self-integrated seller sends as `User-Agent`.
pub const TEST_USER_AGENT: &str = "123456 - SelfIntegration";

/// The leaf category of the default reference data.
pub const DEFAULT_CATEGORY_ID: i64 = 91266;
/// A non-leaf parent of [`DEFAULT_CATEGORY_ID`].
pub const PARENT_CATEGORY_ID: i64 = 522;
pub const DEFAULT_BRAND_ID: i64 = 187803;
pub const DEFAULT_BRAND_NAME: &str = "AyazTrade";
/// Default attributes of [`DEFAULT_CATEGORY_ID`]: Renk (47, required, free
/// text, slicer), Beden (293, required, varianter, values 4602 S / 4603 M /
/// 4604 L), Materyal (14, optional, multiple values 82 Pamuk / 85 Polyester).
pub const ATTR_COLOR: i64 = 47;
pub const ATTR_SIZE: i64 = 293;
pub const ATTR_MATERIAL: i64 = 14;

pub const MAX_ITEMS: usize = 1000;
pub const MAX_QUANTITY: i64 = 20_000;
pub const DUPLICATE_BODY_MESSAGE: &str =
    "15 dakika boyunca aynı isteği tekrarlı olarak atamazsınız!";

/// Endpoint names (method + route template), as used for rate limits and
/// the per-endpoint statistics.
pub const CREATE_PRODUCTS: &str = "POST /integration/product/sellers/{sellerId}/v2/products";
pub const UPDATE_CONTENT: &str =
    "POST /integration/product/sellers/{sellerId}/products/content-bulk-update";
pub const PRICE_AND_INVENTORY: &str =
    "POST /integration/inventory/sellers/{sellerId}/products/price-and-inventory";
pub const BATCH_RESULT: &str =
    "GET /integration/product/sellers/{sellerId}/products/batch-requests/{batchRequestId}";
pub const PRODUCT_INFO: &str = "GET /integration/product/sellers/{sellerId}/product/{barcode}";
pub const CATEGORY_ATTRIBUTES: &str = "GET /integration/product/categories/{categoryId}/attributes";
pub const ATTRIBUTE_VALUES: &str =
    "GET /integration/product/categories/{categoryId}/attributes/{attributeId}/values";
pub const BRAND_BY_NAME: &str = "GET /integration/product/brands/by-name";

/// One attribute of a category in the reference data.
#[derive(Debug, Clone)]
pub struct CategoryAttribute {
    pub id: i64,
    pub name: String,
    pub required: bool,
    pub allow_custom: bool,
    pub varianter: bool,
    pub slicer: bool,
    pub allow_multiple: bool,
    /// Allowed value ids and names (ignored for free-text attributes).
    pub values: Vec<(i64, String)>,
}

impl CategoryAttribute {
    /// A list attribute with the given allowed values.
    pub fn list(id: i64, name: &str, required: bool, values: &[(i64, &str)]) -> Self {
        CategoryAttribute {
            id,
            name: name.into(),
            required,
            allow_custom: false,
            varianter: false,
            slicer: false,
            allow_multiple: false,
            values: values.iter().map(|(i, n)| (*i, n.to_string())).collect(),
        }
    }

    /// A free-text (`allowCustom`) attribute.
    pub fn custom(id: i64, name: &str, required: bool) -> Self {
        CategoryAttribute {
            allow_custom: true,
            ..Self::list(id, name, required, &[])
        }
    }
}

/// A category of the reference data; only leaves take products.
#[derive(Debug, Clone)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub leaf: bool,
    pub attributes: Vec<CategoryAttribute>,
}

/// What Trendyol holds for one barcode.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductState {
    pub barcode: String,
    pub created: bool,
    pub approved: bool,
    pub content_id: i64,
    pub title: String,
    pub description: String,
    pub product_main_id: String,
    pub stock_code: String,
    pub brand_id: i64,
    pub category_id: i64,
    pub quantity: i64,
    pub sale_price: f64,
    pub list_price: f64,
    pub vat_rate: i64,
    pub images: Vec<String>,
    /// The attributes array as last accepted (v2 spelling).
    pub attributes: Value,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BatchKind {
    Create,
    Content,
    Inventory,
}

struct Batch {
    kind: BatchKind,
    items: Vec<Value>,
    failed: usize,
    created_ms: u64,
    polls: u32,
    polls_needed: u32,
}

struct TyState {
    gate: Gate,
    products: HashMap<String, ProductState>,
    accepted: HashMap<String, AcceptedCounts>,
    /// contentId → barcodes.
    contents: HashMap<i64, Vec<String>>,
    /// productMainId → contentId.
    main_ids: HashMap<String, i64>,
    next_content_id: i64,
    batches: HashMap<String, Batch>,
    /// Raw price-and-inventory bodies → when they were accepted.
    recent_bodies: HashMap<Bytes, Instant>,
    duplicate_window: Duration,
    polls_to_complete: u32,
    auto_approve: bool,
    categories: HashMap<i64, Category>,
    brands: Vec<(i64, String)>,
    orders: TyOrders,
    claims: claims::TyClaims,
    settlements: settlements::TySettlements,
    /// Service-group limits since 14 September 2026 (group → max per
    /// window) and each group's arrivals.
    group_limits: HashMap<ServiceGroup, usize>,
    group_window: Duration,
    group_arrivals: HashMap<ServiceGroup, std::collections::VecDeque<Instant>>,
    group_throttled: HashMap<ServiceGroup, u64>,
    /// Price updates per barcode within `group_window` (at most 30).
    price_updates: HashMap<String, std::collections::VecDeque<Instant>>,
    price_refused: u64,
}

/// Trendyol's product service groups (docs/marketplace-wire.md T10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceGroup {
    /// "Product Integration Read".
    Read,
    /// "Product Integration Write": create, update, delete.
    Write,
    /// "Inventory & Price Write".
    InventoryPrice,
}

/// The lowest listing tier's limits per minute ("Limit 100.000"): read
/// 1000, write 200, inventory & price 350.
pub const LOWEST_TIER_LIMITS: [(ServiceGroup, usize); 3] = [
    (ServiceGroup::Read, 1000),
    (ServiceGroup::Write, 200),
    (ServiceGroup::InventoryPrice, 350),
];
/// "There is a barcode-based limit of 30 req/min for price update".
pub const PRICE_UPDATES_PER_BARCODE: usize = 30;

impl TyState {
    fn new() -> Self {
        let mut state = TyState {
            gate: Gate::new(Some((50, Duration::from_secs(10)))),
            products: HashMap::new(),
            accepted: HashMap::new(),
            contents: HashMap::new(),
            main_ids: HashMap::new(),
            next_content_id: 9_510_900,
            batches: HashMap::new(),
            recent_bodies: HashMap::new(),
            duplicate_window: Duration::from_secs(900),
            polls_to_complete: 1,
            auto_approve: true,
            categories: HashMap::new(),
            brands: vec![
                (DEFAULT_BRAND_ID, DEFAULT_BRAND_NAME.to_string()),
                (1791, "TrendyolMilla".to_string()),
            ],
            orders: TyOrders::new(),
            claims: Default::default(),
            settlements: Default::default(),
            group_limits: LOWEST_TIER_LIMITS.into_iter().collect(),
            group_window: Duration::from_secs(60),
            group_arrivals: HashMap::new(),
            group_throttled: HashMap::new(),
            price_updates: HashMap::new(),
            price_refused: 0,
        };
        state.categories.insert(
            PARENT_CATEGORY_ID,
            Category {
                id: PARENT_CATEGORY_ID,
                name: "Giyim".into(),
                leaf: false,
                attributes: vec![],
            },
        );
        let mut color = CategoryAttribute::custom(ATTR_COLOR, "Renk", true);
        color.slicer = true;
        let mut size = CategoryAttribute::list(
            ATTR_SIZE,
            "Beden",
            true,
            &[(4602, "S"), (4603, "M"), (4604, "L")],
        );
        size.varianter = true;
        let mut material = CategoryAttribute::list(
            ATTR_MATERIAL,
            "Materyal",
            false,
            &[(82, "Pamuk"), (85, "Polyester")],
        );
        material.allow_multiple = true;
        state.categories.insert(
            DEFAULT_CATEGORY_ID,
            Category {
                id: DEFAULT_CATEGORY_ID,
                name: "Tişört".into(),
                leaf: true,
                attributes: vec![color, size, material],
            },
        );
        state
    }
}

/// A running fake; dropped with the test's runtime.
#[derive(Clone)]
pub struct TrendyolFake {
    pub base_url: String,
    state: Arc<Mutex<TyState>>,
}

impl TrendyolFake {
    /// Starts the fake on an ephemeral loopback port.
    pub async fn start() -> TrendyolFake {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(addr: SocketAddr) -> TrendyolFake {
        let state = Arc::new(Mutex::new(TyState::new()));
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(64 << 20))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind Trendyol fake");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("Trendyol fake serves");
        });
        TrendyolFake { base_url, state }
    }

    fn with<R>(&self, f: impl FnOnce(&mut TyState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    // ---- configuration ----

    /// Queues a fault for the next request to a fault-targeted endpoint.
    pub fn push_fault(&self, fault: Fault) {
        self.with(|s| s.gate.faults.push_back(fault));
    }

    /// Makes `rate` (0..=1) of the requests to fault-targeted endpoints fail
    /// with an assorted fault, drawn from a generator seeded with `seed`.
    pub fn set_failure_rate(&self, rate: f64, seed: u64) {
        self.with(|s| s.gate.set_failure_rate(rate, seed));
    }

    /// The faults random mode draws from (default: 429, 500, 502, 503,
    /// a 200 ms timeout, a malformed 200).
    pub fn set_random_faults(&self, faults: Vec<Fault>) {
        self.with(|s| s.gate.random_menu = faults);
    }

    /// Whether faults (queued and random) hit endpoints of `kind`
    /// (default: all kinds).
    pub fn set_faults_hit(&self, kind: EndpointKind, on: bool) {
        self.with(|s| s.gate.set_faults_hit(kind, on));
    }

    /// Service-group limits (`max` per `window` for each listed group; a
    /// group left out has none) and the window of the per-barcode price rule.
    pub fn set_group_limits(&self, limits: &[(ServiceGroup, usize)], window: Duration) {
        self.with(|s| {
            s.group_limits = limits.iter().copied().collect();
            s.group_window = window;
        });
    }

    /// Requests refused with 429 for going over `group`'s limit.
    pub fn group_throttled(&self, group: ServiceGroup) -> u64 {
        self.with(|s| s.group_throttled.get(&group).copied().unwrap_or(0))
    }

    /// Price-and-inventory requests refused for the per-barcode price rule.
    pub fn price_rule_refusals(&self) -> u64 {
        self.with(|s| s.price_refused)
    }

    /// Rate limit for every endpoint: `max` requests per sliding `window`.
    pub fn set_rate_limit(&self, max: usize, window: Duration) {
        self.with(|s| s.gate.default_limit = Some((max, window)));
    }

    /// Rate limit for one endpoint (e.g. [`CREATE_PRODUCTS`]).
    pub fn set_endpoint_rate_limit(&self, endpoint: &'static str, max: usize, window: Duration) {
        self.with(|s| s.gate.limits.insert(endpoint, (max, window)));
    }

    pub fn disable_rate_limit(&self) {
        self.with(|s| {
            s.gate.default_limit = None;
            s.gate.limits.clear();
        });
    }

    /// The identical-body window of price-and-inventory (default 900 s).
    pub fn set_duplicate_window(&self, window: Duration) {
        self.with(|s| s.duplicate_window = window);
    }

    /// A batch result turns COMPLETED on the `n`th poll (default 1: the first).
    pub fn set_polls_to_complete(&self, n: u32) {
        self.with(|s| s.polls_to_complete = n.max(1));
    }

    /// Whether created products are approved at once (default true).
    pub fn set_auto_approve(&self, on: bool) {
        self.with(|s| s.auto_approve = on);
    }

    /// Approves a created product (and its content).
    pub fn approve(&self, barcode: &str) {
        self.with(|s| {
            if let Some(p) = s.products.get_mut(barcode) {
                p.approved = true;
            }
        });
    }

    /// Adds or replaces a category of the reference data.
    pub fn add_category(&self, category: Category) {
        self.with(|s| s.categories.insert(category.id, category));
    }

    pub fn add_brand(&self, id: i64, name: &str) {
        self.with(|s| s.brands.push((id, name.to_string())));
    }

    /// Drops all categories and brands (then add your own).
    pub fn clear_reference_data(&self) {
        self.with(|s| {
            s.categories.clear();
            s.brands.clear();
        });
    }

    // ---- inspection ----

    pub fn product(&self, barcode: &str) -> Option<ProductState> {
        self.with(|s| s.products.get(barcode).cloned())
    }

    /// Creates products as a v2 create item would (no request, no
    /// acceptance counted): the state of a seller who is already listed.
    pub fn preload(&self, items: &[Value]) {
        self.with(|s| {
            for item in items {
                create_item(s, item).unwrap_or_else(|e| panic!("preload refused: {e:?}"));
                if let Some(b) = item["barcode"].as_str() {
                    s.accepted.remove(b);
                }
            }
        })
    }

    pub fn product_count(&self) -> usize {
        self.with(|s| s.products.len())
    }

    /// How many batch results carried SUCCESS for this barcode, per kind.
    pub fn accepted(&self, barcode: &str) -> AcceptedCounts {
        self.with(|s| s.accepted.get(barcode).copied().unwrap_or_default())
    }

    pub fn accepted_count(&self, barcode: &str, kind: Kind) -> u32 {
        self.accepted(barcode).get(kind)
    }

    /// Barcodes accepted more than once for `kind` (empty when idempotent).
    pub fn accepted_more_than_once(&self, kind: Kind) -> Vec<String> {
        self.with(|s| {
            let mut v: Vec<String> = s
                .accepted
                .iter()
                .filter(|(_, c)| c.get(kind) > 1)
                .map(|(b, _)| b.clone())
                .collect();
            v.sort();
            v
        })
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.with(|s| s.gate.requests.clone())
    }

    /// Requests that reached `endpoint` (any outcome).
    pub fn request_count(&self, endpoint: &str) -> usize {
        self.with(|s| s.gate.arrivals.get(endpoint).map_or(0, Vec::len))
    }

    /// Arrival times of the requests to `endpoint`, in order.
    pub fn arrivals(&self, endpoint: &str) -> Vec<Instant> {
        self.with(|s| s.gate.arrivals.get(endpoint).cloned().unwrap_or_default())
    }

    /// 429s answered by the rate limiter (not injected faults), all endpoints.
    pub fn throttled_count(&self) -> u64 {
        self.with(|s| s.gate.throttled.values().sum())
    }

    pub fn throttled_count_for(&self, endpoint: &str) -> u64 {
        self.with(|s| s.gate.throttled.get(endpoint).copied().unwrap_or(0))
    }

    /// Faults (queued or random) that were answered.
    pub fn faults_injected(&self) -> u64 {
        self.with(|s| s.gate.faults_injected)
    }

    /// Number of batches submitted and accepted (any kind).
    pub fn batch_count(&self) -> usize {
        self.with(|s| s.batches.len())
    }
}

// ---------------------------------------------------------------------------
// HTTP

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn ty_json(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Trendyol's error envelope.
fn ty_error(status: u16, exception: &str, key: &str, message: &str) -> Response {
    ty_json(
        status,
        json!({
            "timestamp": now_ms(),
            "exception": exception,
            "errors": [{"key": key, "message": message, "errorCode": null}],
        }),
    )
}

fn business_error(status: u16, key: &str, message: &str) -> Response {
    ty_error(status, "ClientApiBusinessException", key, message)
}

fn fault_response(fault: &Fault) -> Response {
    match fault {
        Fault::Status(429) => ty_error(
            429,
            "TooManyRequestsException",
            "too.many.requests",
            "too.many.requests",
        ),
        Fault::Status(500) => ty_error(
            500,
            "TrendyolSystemException",
            "generic.exception",
            "Exception Occured",
        ),
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
            "{\"batchRequestId\": \"3f2a",
        )
            .into_response(),
        Fault::LostAnswer(code) => fault_response(&Fault::Status(*code)),
    }
}

#[derive(Debug)]
enum Route {
    Create,
    Content,
    Inventory,
    Batch(String),
    ProductInfo(String),
    CategoryAttributes(String),
    AttributeValues(String, String),
    BrandByName,
    Orders,
    Claims,
    ClaimIssueReasons,
    ApproveClaim(String),
    RejectClaim(String),
    TrackingNumber(String),
    PackageStatus(String),
    Unsupplied(String),
    InvoiceLink,
    Settlements,
}

impl Route {
    /// The service group whose limit the request counts against.
    fn group(&self) -> Option<ServiceGroup> {
        match self {
            Route::Create | Route::Content => Some(ServiceGroup::Write),
            Route::Inventory => Some(ServiceGroup::InventoryPrice),
            Route::Batch(_)
            | Route::ProductInfo(_)
            | Route::CategoryAttributes(_)
            | Route::AttributeValues(..)
            | Route::BrandByName => Some(ServiceGroup::Read),
            Route::Orders
            | Route::Claims
            | Route::ClaimIssueReasons
            | Route::ApproveClaim(_)
            | Route::RejectClaim(_)
            | Route::TrackingNumber(_)
            | Route::PackageStatus(_)
            | Route::Unsupplied(_)
            | Route::InvoiceLink
            | Route::Settlements => None,
        }
    }

    fn endpoint(&self) -> &'static str {
        match self {
            Route::Create => CREATE_PRODUCTS,
            Route::Content => UPDATE_CONTENT,
            Route::Inventory => PRICE_AND_INVENTORY,
            Route::Batch(_) => BATCH_RESULT,
            Route::ProductInfo(_) => PRODUCT_INFO,
            Route::CategoryAttributes(_) => CATEGORY_ATTRIBUTES,
            Route::AttributeValues(..) => ATTRIBUTE_VALUES,
            Route::BrandByName => BRAND_BY_NAME,
            Route::Orders => SHIPMENT_PACKAGES,
            Route::Claims => CLAIMS,
            Route::ClaimIssueReasons => CLAIM_ISSUE_REASONS,
            Route::ApproveClaim(_) => APPROVE_CLAIM,
            Route::RejectClaim(_) => REJECT_CLAIM,
            Route::TrackingNumber(_) => UPDATE_TRACKING_NUMBER,
            Route::PackageStatus(_) => UPDATE_PACKAGE,
            Route::Unsupplied(_) => UNSUPPLIED,
            Route::InvoiceLink => SEND_INVOICE_LINK,
            Route::Settlements => SETTLEMENTS,
        }
    }

    fn kind(&self) -> EndpointKind {
        match self {
            Route::Create | Route::Content | Route::Inventory => EndpointKind::Write,
            Route::Batch(_) => EndpointKind::Status,
            Route::Orders | Route::Claims => EndpointKind::Orders,
            Route::Settlements => EndpointKind::Finance,
            Route::TrackingNumber(_)
            | Route::PackageStatus(_)
            | Route::ApproveClaim(_)
            | Route::RejectClaim(_)
            | Route::Unsupplied(_)
            | Route::InvoiceLink => EndpointKind::Tracking,
            _ => EndpointKind::Reference,
        }
    }
}

/// Routes a request; also returns the `{sellerId}` of seller paths.
fn route(method: &Method, path: &str) -> Option<(Route, Option<String>)> {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let post = method == Method::POST;
    let get = method == Method::GET;
    let put = method == Method::PUT;
    let r = match s.as_slice() {
        ["integration", "product", "sellers", sid, "v2", "products"] if post => {
            (Route::Create, Some(sid.to_string()))
        }
        ["integration", "product", "sellers", sid, "products", "content-bulk-update"] if post => {
            (Route::Content, Some(sid.to_string()))
        }
        ["integration", "inventory", "sellers", sid, "products", "price-and-inventory"] if post => {
            (Route::Inventory, Some(sid.to_string()))
        }
        ["integration", "product", "sellers", sid, "products", "batch-requests", id] if get => {
            (Route::Batch(id.to_string()), Some(sid.to_string()))
        }
        ["integration", "product", "sellers", sid, "product", barcode] if get => (
            Route::ProductInfo(barcode.to_string()),
            Some(sid.to_string()),
        ),
        ["integration", "product", "categories", cid, "attributes"] if get => {
            (Route::CategoryAttributes(cid.to_string()), None)
        }
        ["integration", "product", "categories", cid, "attributes", aid, "values"] if get => (
            Route::AttributeValues(cid.to_string(), aid.to_string()),
            None,
        ),
        ["integration", "product", "brands", "by-name"] if get => (Route::BrandByName, None),
        ["integration", "order", "sellers", sid, "orders"] if get => {
            (Route::Orders, Some(sid.to_string()))
        }
        // Not seller-scoped (T14).
        ["integration", "order", "claim-issue-reasons"] if get => (Route::ClaimIssueReasons, None),
        ["integration", "finance", "che", "sellers", sid, "settlements"] if get => {
            (Route::Settlements, Some(sid.to_string()))
        }
        ["integration", "order", "sellers", sid, "claims"] if get => {
            (Route::Claims, Some(sid.to_string()))
        }
        ["integration", "order", "sellers", sid, "claims", cid, "items", "approve"] if put => {
            (Route::ApproveClaim(cid.to_string()), Some(sid.to_string()))
        }
        ["integration", "order", "sellers", sid, "claims", cid, "issue"] if post => {
            (Route::RejectClaim(cid.to_string()), Some(sid.to_string()))
        }
        ["integration", "order", "sellers", sid, "shipment-packages", pid, "update-tracking-number"]
            if put =>
        {
            (
                Route::TrackingNumber(pid.to_string()),
                Some(sid.to_string()),
            )
        }
        ["integration", "order", "sellers", sid, "shipment-packages", pid, "items", "unsupplied"]
            if put =>
        {
            (Route::Unsupplied(pid.to_string()), Some(sid.to_string()))
        }
        ["integration", "sellers", sid, "seller-invoice-links"] if post => {
            (Route::InvoiceLink, Some(sid.to_string()))
        }
        ["integration", "order", "sellers", sid, "shipment-packages", pid] if put => {
            (Route::PackageStatus(pid.to_string()), Some(sid.to_string()))
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
        .is_ok_and(|d| d == format!("{TEST_API_KEY}:{TEST_API_SECRET}").as_bytes())
}

/// `"{sellerId} - SelfIntegration"` or `"{sellerId} - {Name}"` (alphanumeric, ≤30).
fn user_agent_ok(headers: &HeaderMap) -> bool {
    let Some(ua) = header(headers, "user-agent") else {
        return false;
    };
    let Some((seller, name)) = ua.split_once(" - ") else {
        return false;
    };
    seller == TEST_SELLER_ID
        && !name.is_empty()
        && name.chars().count() <= 30
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

async fn handle(
    State(state): State<Arc<Mutex<TyState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = Instant::now();
    let routed = route(&method, uri.path());
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
    state: &Mutex<TyState>,
    routed: Option<(Route, Option<String>)>,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    now: Instant,
) -> Response {
    let Some((route, seller)) = routed else {
        return business_error(404, "not.found", "The request URL is invalid.");
    };
    if !authorized(headers) {
        return ty_error(
            401,
            "ClientApiAuthenticationException",
            "authentication.error",
            "supplierID, API Key veya API Secret Key bilgilerinden birisi eksik/yanlış.",
        );
    }
    if !user_agent_ok(headers) {
        return ty_error(
            403,
            "ClientApiForbiddenException",
            "forbidden",
            "User-Agent header is missing or invalid",
        );
    }
    if seller.is_some_and(|s| s != TEST_SELLER_ID) {
        return ty_error(
            403,
            "ClientApiForbiddenException",
            "forbidden",
            "Seller id does not match the credentials",
        );
    }
    if let Some(group) = route.group() {
        let mut s = state.lock().unwrap();
        if let Some(max) = s.group_limits.get(&group).copied() {
            let window = s.group_window;
            let arrivals = s.group_arrivals.entry(group).or_default();
            while arrivals
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                arrivals.pop_front();
            }
            if arrivals.len() >= max {
                *s.group_throttled.entry(group).or_default() += 1;
                return ty_error(
                    429,
                    "TooManyRequestsException",
                    "too.many.requests",
                    "too.many.requests",
                );
            }
            arrivals.push_back(now);
        }
    }
    let fault = {
        let mut s = state.lock().unwrap();
        match s.gate.pass(route.endpoint(), route.kind(), now) {
            Pass::Throttled => {
                return ty_error(
                    429,
                    "TooManyRequestsException",
                    "too.many.requests",
                    "too.many.requests",
                )
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
        if !matches!(fault, Fault::LostAnswer(_)) {
            return fault_response(&fault);
        }
        lost_answer = Some(fault);
    }
    let mut s = state.lock().unwrap();
    let answer = match route {
        Route::Create | Route::Content | Route::Inventory => submit(&mut s, &route, &body, now),
        Route::Batch(id) => batch_result(&mut s, &id),
        Route::ProductInfo(barcode) => match s.products.get(&barcode) {
            Some(p) => ty_json(
                200,
                json!({
                    "barcode": p.barcode, "approved": p.approved,
                    "approvedDate": if p.approved { json!(now_ms()) } else { Value::Null },
                    "archived": false, "listingId": format!("{:032x}", hash_str(&p.barcode)),
                    "contentId": p.content_id,
                }),
            ),
            None => business_error(
                404,
                "product.not.found",
                &format!("Ürün bulunamadı: {barcode}"),
            ),
        },
        Route::CategoryAttributes(cid) => category_attributes(&s, &cid),
        Route::AttributeValues(cid, aid) => attribute_values(&s, &cid, &aid, uri),
        Route::BrandByName => {
            let name = query_param(uri, "name").unwrap_or_default();
            let found: Vec<Value> = s
                .brands
                .iter()
                .filter(|(_, n)| *n == name)
                .map(|(id, n)| json!({"id": id, "name": n}))
                .collect();
            ty_json(200, Value::Array(found))
        }
        Route::Orders => shipment_packages(&mut s, uri),
        Route::Claims => claims::claims_list(&mut s, uri),
        Route::ClaimIssueReasons => claims::claim_issue_reasons(&mut s),
        Route::ApproveClaim(cid) => claims::approve_claim(&mut s, &cid, &body),
        Route::RejectClaim(cid) => claims::reject_claim(&mut s, &cid, headers, &body),
        Route::TrackingNumber(pid) => update_tracking_number(&mut s, &pid, &body),
        Route::PackageStatus(pid) => update_package(&mut s, &pid, &body),
        Route::Unsupplied(pid) => unsupplied(&mut s, &pid, &body),
        Route::InvoiceLink => send_invoice_link(&mut s, &body),
        Route::Settlements => settlements::settlements_list(&mut s, uri),
    };
    match lost_answer {
        Some(fault) => fault_response(&fault),
        None => answer,
    }
}

fn hash_str(s: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    let a = h.finish();
    "salt".hash(&mut h);
    ((a as u128) << 64) | h.finish() as u128
}

fn category_attributes(s: &TyState, cid: &str) -> Response {
    let Some(cat) = cid.parse::<i64>().ok().and_then(|id| s.categories.get(&id)) else {
        return business_error(
            404,
            "category.not.found",
            &format!("Kategori bulunamadı: {cid}"),
        );
    };
    if !cat.leaf {
        return business_error(
            400,
            "category.not.leaf",
            &format!("Kategori en alt seviye değil: {cid}"),
        );
    }
    let attrs: Vec<Value> = cat
        .attributes
        .iter()
        .map(|a| {
            json!({
                "allowCustom": a.allow_custom,
                "attribute": {"id": a.id, "name": a.name},
                "categoryId": cat.id,
                "required": a.required,
                "varianter": a.varianter,
                "slicer": a.slicer,
                "allowMultipleAttributeValues": a.allow_multiple,
            })
        })
        .collect();
    ty_json(
        200,
        json!({"id": cat.id, "name": cat.name, "displayName": cat.name, "categoryAttributes": attrs}),
    )
}

fn attribute_values(s: &TyState, cid: &str, aid: &str, uri: &Uri) -> Response {
    let attr = cid
        .parse::<i64>()
        .ok()
        .and_then(|id| s.categories.get(&id))
        .filter(|c| c.leaf)
        .and_then(|c| {
            let aid = aid.parse::<i64>().ok()?;
            c.attributes.iter().find(|a| a.id == aid)
        });
    let Some(attr) = attr else {
        return business_error(404, "attribute.not.found", "Kategori özelliği bulunamadı");
    };
    let size = query_param(uri, "size")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let page = query_param(uri, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let total = attr.values.len();
    let content: Vec<Value> = attr
        .values
        .iter()
        .skip(page * size)
        .take(size)
        .map(|(id, name)| json!({"attributeValueId": id, "attributeValueName": name}))
        .collect();
    ty_json(
        200,
        json!({"totalElements": total, "totalPages": total.div_ceil(size), "page": page, "size": size, "content": content}),
    )
}

fn new_batch_id() -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}-{}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u64(..) & 0xffff_ffff_ffff,
        now_ms() / 1000
    )
}

/// Validates the request envelope, then processes every item into a batch.
fn submit(s: &mut TyState, route: &Route, body: &Bytes, now: Instant) -> Response {
    let Ok(parsed) = serde_json::from_slice::<Value>(body) else {
        return business_error(
            400,
            "request.body.invalid",
            "Request body is not valid JSON",
        );
    };
    let Some(items) = parsed.get("items").and_then(Value::as_array) else {
        return business_error(400, "items.required", "items alanı zorunludur");
    };
    if items.is_empty() {
        return business_error(400, "items.empty", "Gönderilen items bilgisi boş");
    }
    if items.len() > MAX_ITEMS {
        return business_error(
            400,
            "items.max.size",
            &format!(
                "Bir istekte en fazla {MAX_ITEMS} item gönderilebilir ({} gönderildi)",
                items.len()
            ),
        );
    }
    if let Route::Inventory = route {
        // At most 30 price updates per barcode per minute; what Trendyol
        // answers above it is UNCONFIRMED (here: 429 for the request).
        let window = s.group_window;
        let priced: Vec<String> = items
            .iter()
            .filter(|i| i.get("salePrice").is_some() || i.get("listPrice").is_some())
            .filter_map(|i| i.get("barcode").and_then(Value::as_str).map(str::to_owned))
            .collect();
        for barcode in &priced {
            let times = s.price_updates.entry(barcode.clone()).or_default();
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                times.pop_front();
            }
            if times.len() >= PRICE_UPDATES_PER_BARCODE {
                s.price_refused += 1;
                return ty_error(
                    429,
                    "TooManyRequestsException",
                    "too.many.requests",
                    &format!("Barkod bazında dakikada en fazla {PRICE_UPDATES_PER_BARCODE} fiyat güncellemesi: {barcode}"),
                );
            }
        }
        for barcode in priced {
            s.price_updates.entry(barcode).or_default().push_back(now);
        }
        let window = s.duplicate_window;
        if let Some(at) = s.recent_bodies.get(body) {
            if now.duration_since(*at) < window {
                return business_error(400, "duplicate.request", DUPLICATE_BODY_MESSAGE);
            }
        }
        if s.recent_bodies.len() > 50_000 {
            s.recent_bodies
                .retain(|_, at| now.duration_since(*at) < window);
        }
        s.recent_bodies.insert(body.clone(), now);
    }
    let kind = match route {
        Route::Create => BatchKind::Create,
        Route::Content => BatchKind::Content,
        _ => BatchKind::Inventory,
    };
    let mut results = Vec::with_capacity(items.len());
    let mut failed = 0;
    for item in items {
        let (request_item, outcome) = match kind {
            BatchKind::Create => (
                json!({"product": item, "barcode": item.get("barcode").cloned().unwrap_or(Value::Null)}),
                create_item(s, item),
            ),
            BatchKind::Content => (
                json!({"product": item, "contentId": item.get("contentId").cloned().unwrap_or(Value::Null)}),
                content_item(s, item),
            ),
            BatchKind::Inventory => {
                let mut ri = item.clone();
                if let Value::Object(m) = &mut ri {
                    m.insert("updateRequestDate".into(), json!(iso_now()));
                }
                (ri, inventory_item(s, item))
            }
        };
        let (status, reasons) = match outcome {
            Ok(()) => ("SUCCESS", vec![]),
            Err(r) => {
                failed += 1;
                ("FAILED", r)
            }
        };
        results.push(
            json!({"requestItem": request_item, "status": status, "failureReasons": reasons}),
        );
    }
    let id = new_batch_id();
    let polls_needed = s.polls_to_complete;
    s.batches.insert(
        id.clone(),
        Batch {
            kind,
            items: results,
            failed,
            created_ms: now_ms(),
            polls: 0,
            polls_needed,
        },
    );
    ty_json(200, json!({"batchRequestId": id}))
}

fn batch_result(s: &mut TyState, id: &str) -> Response {
    let Some(b) = s.batches.get_mut(id) else {
        return business_error(
            404,
            "batch.request.not.found",
            &format!("Batch request bulunamadı: {id}"),
        );
    };
    b.polls += 1;
    let done = b.polls >= b.polls_needed;
    let kind_name = match b.kind {
        BatchKind::Create => "ProductV2OnBoarding",
        BatchKind::Content => "ProductV2Update",
        BatchKind::Inventory => "ProductInventoryUpdate",
    };
    let mut out = json!({
        "batchRequestId": id,
        "items": if done { Value::Array(b.items.clone()) } else { json!([]) },
        "creationDate": b.created_ms,
        "lastModification": if done { b.created_ms + 1500 } else { b.created_ms },
        "sourceType": "API",
        "itemCount": b.items.len(),
        "failedItemCount": if done { b.failed } else { 0 },
        "batchRequestType": kind_name,
    });
    // Price/stock batches carry no top-level status (see the doc, T4).
    if b.kind != BatchKind::Inventory {
        out["status"] = json!(if done { "COMPLETED" } else { "IN_PROGRESS" });
    }
    ty_json(200, out)
}

/// Now as `2025-05-08T11:37:07.950+00:00`.
pub(crate) fn iso_now() -> String {
    let ms = now_ms();
    let (secs, millis) = (ms / 1000, ms % 1000);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}+00:00",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------
// Item validation and processing

/// Letters (Turkish too), digits, `.`, `-`, `_`; 1..=40 characters.
pub fn barcode_ok(b: &str) -> bool {
    let n = b.chars().count();
    (1..=40).contains(&n)
        && b.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// A JSON number with at most two decimals (as the serializer wrote it).
pub(crate) fn two_decimals(n: &serde_json::Number) -> bool {
    let s = n.to_string();
    if s.contains(['e', 'E']) {
        return n.is_i64() || n.is_u64();
    }
    s.split_once('.').is_none_or(|(_, frac)| frac.len() <= 2)
}

/// `Ok(None)` when absent or null.
pub(crate) fn price_field(item: &Value, key: &str) -> Result<Option<f64>, String> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let v = n.as_f64().unwrap_or(-1.0);
            if !two_decimals(n) {
                Err(format!("{key} en fazla 2 ondalık basamak içerebilir: {n}"))
            } else if v < 0.0 {
                Err(format!("{key} negatif olamaz"))
            } else {
                Ok(Some(v))
            }
        }
        Some(other) => Err(format!("{key} sayı olmalıdır, gelen: {other}")),
    }
}

/// `Ok(None)` when absent or null; integers only.
pub(crate) fn int_field(item: &Value, key: &str) -> Result<Option<i64>, String> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{key} tam sayı olmalıdır, gelen: {v}")),
    }
}

fn str_field<'a>(
    item: &'a Value,
    key: &str,
    max: usize,
    reasons: &mut Vec<String>,
) -> Option<&'a str> {
    match item.get(key) {
        None | Some(Value::Null) => {
            reasons.push(format!("{key} alanı zorunludur"));
            None
        }
        Some(Value::String(v)) if v.trim().is_empty() => {
            reasons.push(format!("{key} boş olamaz"));
            None
        }
        Some(Value::String(v)) if v.chars().count() > max => {
            reasons.push(format!("{key} en fazla {max} karakter olabilir"));
            None
        }
        Some(Value::String(v)) => Some(v),
        Some(other) => {
            reasons.push(format!("{key} metin olmalıdır, gelen: {other}"));
            None
        }
    }
}

fn required_int(item: &Value, key: &str, reasons: &mut Vec<String>) -> Option<i64> {
    match int_field(item, key) {
        Ok(Some(v)) => Some(v),
        Ok(None) => {
            reasons.push(format!("{key} alanı zorunludur"));
            None
        }
        Err(e) => {
            reasons.push(e);
            None
        }
    }
}

fn images_field(item: &Value, reasons: &mut Vec<String>) -> Option<Vec<String>> {
    let Some(list) = item.get("images").and_then(Value::as_array) else {
        reasons.push("images alanı zorunludur".into());
        return None;
    };
    if list.is_empty() || list.len() > 8 {
        reasons.push("1 ile 8 arasında görsel gönderilmelidir".into());
        return None;
    }
    let mut urls = Vec::with_capacity(list.len());
    for img in list {
        match img.get("url").and_then(Value::as_str) {
            Some(u) if u.starts_with("https://") => urls.push(u.to_string()),
            _ => {
                reasons.push(format!("Görsel adresi https ile başlamalıdır: {img}"));
                return None;
            }
        }
    }
    Some(urls)
}

/// v2 attributes against the category; every required attribute must be present.
fn check_attributes(cat: &Category, attrs: Option<&Value>, reasons: &mut Vec<String>) {
    let Some(list) = attrs.and_then(Value::as_array) else {
        reasons.push("attributes alanı zorunludur".into());
        return;
    };
    let mut seen = HashSet::new();
    for a in list {
        let Some(aid) = a.get("attributeId").and_then(Value::as_i64) else {
            reasons.push(format!("attributeId zorunludur: {a}"));
            continue;
        };
        if !seen.insert(aid) {
            reasons.push(format!("attributeId {aid} birden fazla gönderilmiş"));
            continue;
        }
        let Some(def) = cat.attributes.iter().find(|d| d.id == aid) else {
            reasons.push(format!(
                "attributeId {aid}, {} kategorisine ait değil",
                cat.id
            ));
            continue;
        };
        if let Some(ids) = a.get("attributeValueIds") {
            let Some(ids) = ids.as_array().filter(|v| !v.is_empty()) else {
                reasons.push(format!(
                    "attributeValueIds boş olmayan bir dizi olmalıdır ({})",
                    def.name
                ));
                continue;
            };
            if ids.len() > 1 && !def.allow_multiple {
                reasons.push(format!("{} özelliği birden fazla değer alamaz", def.name));
            }
            for id in ids {
                match id.as_i64() {
                    Some(v) if def.values.iter().any(|(vid, _)| *vid == v) => {}
                    _ => reasons.push(format!("{} özelliği için geçersiz değer: {id}", def.name)),
                }
            }
        } else if let Some(v) = a.get("attributeValue") {
            match v.as_str() {
                Some(t) if !t.trim().is_empty() && def.allow_custom => {}
                Some(_) if !def.allow_custom => reasons.push(format!(
                    "{} özelliği serbest metin kabul etmez; attributeValueIds gönderin",
                    def.name
                )),
                _ => reasons.push(format!(
                    "{} özelliği için attributeValue boş olamaz",
                    def.name
                )),
            }
        } else if a.get("attributeValueId").is_some() || a.get("customAttributeValue").is_some() {
            reasons.push(format!(
                "attributeId {aid}: v1 alanları (attributeValueId/customAttributeValue) v2'de desteklenmez; attributeValueIds veya attributeValue gönderin"
            ));
        } else {
            reasons.push(format!(
                "attributeId {aid}: attributeValueIds veya attributeValue zorunludur"
            ));
        }
    }
    for def in cat.attributes.iter().filter(|d| d.required) {
        if !seen.contains(&def.id) {
            reasons.push(format!(
                "Zorunlu kategori özelliği eksik: {} ({})",
                def.name, def.id
            ));
        }
    }
}

fn create_item(s: &mut TyState, item: &Value) -> Result<(), Vec<String>> {
    let mut r = Vec::new();
    let barcode = str_field(item, "barcode", 40, &mut r).map(str::to_owned);
    if let Some(b) = &barcode {
        if !barcode_ok(b) {
            r.push(format!(
                "Barkod yalnızca harf, rakam ve . - _ içerebilir: {b}"
            ));
        } else if s.products.contains_key(b) {
            r.push(format!("Bu barkod ile daha önce ürün oluşturulmuş: {b}"));
        }
    }
    let title = str_field(item, "title", 100, &mut r);
    let main_id = str_field(item, "productMainId", 40, &mut r);
    let stock_code = str_field(item, "stockCode", 100, &mut r);
    let description = str_field(item, "description", 30_000, &mut r);
    if let Some(brand) = required_int(item, "brandId", &mut r) {
        if !s.brands.iter().any(|(id, _)| *id == brand) {
            r.push(format!("Marka bulunamadı: {brand}"));
        }
    }
    let category_id = required_int(item, "categoryId", &mut r);
    match category_id.map(|c| s.categories.get(&c)) {
        Some(Some(cat)) if cat.leaf => check_attributes(cat, item.get("attributes"), &mut r),
        Some(Some(cat)) => r.push(format!("Kategori en alt seviye değil: {}", cat.id)),
        Some(None) => r.push(format!("Kategori bulunamadı: {}", category_id.unwrap())),
        None => {}
    }
    let quantity = required_int(item, "quantity", &mut r);
    if let Some(q) = quantity {
        if !(0..=MAX_QUANTITY).contains(&q) {
            r.push(format!(
                "quantity 0 ile {MAX_QUANTITY} arasında olmalıdır: {q}"
            ));
        }
    }
    match item.get("dimensionalWeight") {
        Some(Value::Number(n)) if n.as_f64().unwrap_or(-1.0) >= 0.0 => {}
        _ => r.push("dimensionalWeight sayı olarak zorunludur".into()),
    }
    if item.get("currencyType").and_then(Value::as_str) != Some("TRY") {
        r.push("currencyType TRY olmalıdır".into());
    }
    let list = price_field(item, "listPrice");
    let sale = price_field(item, "salePrice");
    let (list, sale) = match (list, sale) {
        (Ok(Some(l)), Ok(Some(sp))) => {
            if l < sp {
                r.push(format!("listPrice ({l}) salePrice'tan ({sp}) küçük olamaz"));
            }
            if sp <= 0.0 {
                r.push("salePrice sıfırdan büyük olmalıdır".into());
            }
            (l, sp)
        }
        (l, sp) => {
            for (k, v) in [("listPrice", l), ("salePrice", sp)] {
                match v {
                    Err(e) => r.push(e),
                    Ok(None) => r.push(format!("{k} alanı zorunludur")),
                    Ok(Some(_)) => {}
                }
            }
            (0.0, 0.0)
        }
    };
    let vat = required_int(item, "vatRate", &mut r);
    if let Some(v) = vat {
        if ![0, 1, 10, 20].contains(&v) {
            r.push(format!("vatRate 0, 1, 10 veya 20 olmalıdır: {v}"));
        }
    }
    if let Err(e) = int_field(item, "cargoCompanyId") {
        r.push(e);
    }
    let images = images_field(item, &mut r);
    if !r.is_empty() {
        return Err(r);
    }
    let barcode = barcode.unwrap();
    let main_id = main_id.unwrap().to_string();
    let content_id = match s.main_ids.get(&main_id) {
        Some(c) => *c,
        None => {
            s.next_content_id += 1;
            let c = s.next_content_id;
            s.main_ids.insert(main_id.clone(), c);
            c
        }
    };
    s.contents
        .entry(content_id)
        .or_default()
        .push(barcode.clone());
    let product = ProductState {
        barcode: barcode.clone(),
        created: true,
        approved: s.auto_approve,
        content_id,
        title: title.unwrap().to_string(),
        description: description.unwrap().to_string(),
        product_main_id: main_id,
        stock_code: stock_code.unwrap().to_string(),
        brand_id: item["brandId"].as_i64().unwrap(),
        category_id: category_id.unwrap(),
        quantity: quantity.unwrap(),
        sale_price: sale,
        list_price: list,
        vat_rate: vat.unwrap(),
        images: images.unwrap(),
        attributes: item["attributes"].clone(),
    };
    s.products.insert(barcode.clone(), product);
    s.accepted.entry(barcode).or_default().create += 1;
    Ok(())
}

fn content_item(s: &mut TyState, item: &Value) -> Result<(), Vec<String>> {
    let mut r = Vec::new();
    let Some(content_id) = required_int(item, "contentId", &mut r) else {
        return Err(r);
    };
    let Some(barcodes) = s.contents.get(&content_id).cloned() else {
        return Err(vec![format!("contentId bulunamadı: {content_id}")]);
    };
    if barcodes.iter().any(|b| !s.products[b].approved) {
        return Err(vec![format!(
            "Ürün onaylı değil; content güncellenemez: {content_id}"
        )]);
    }
    for forbidden in ["barcode", "productMainId", "brandId", "categoryId"] {
        if item.get(forbidden).is_some() {
            r.push(format!("Onaylı üründe {forbidden} güncellenemez"));
        }
    }
    let title = item
        .get("title")
        .map(|_| str_field(item, "title", 100, &mut r).map(str::to_owned));
    let description = item
        .get("description")
        .map(|_| str_field(item, "description", 30_000, &mut r).map(str::to_owned));
    let images = item.get("images").map(|_| images_field(item, &mut r));
    let attributes = item.get("attributes");
    if let Some(attrs) = attributes {
        let cat = &s.categories[&s.products[&barcodes[0]].category_id];
        check_attributes(cat, Some(attrs), &mut r);
    }
    if title.is_none() && description.is_none() && images.is_none() && attributes.is_none() {
        r.push("Güncellenecek alan gönderilmedi".into());
    }
    if !r.is_empty() {
        return Err(r);
    }
    for b in &barcodes {
        let p = s.products.get_mut(b).unwrap();
        if let Some(Some(t)) = &title {
            p.title = t.clone();
        }
        if let Some(Some(d)) = &description {
            p.description = d.clone();
        }
        if let Some(Some(i)) = &images {
            p.images = i.clone();
        }
        if let Some(a) = attributes {
            p.attributes = a.clone();
        }
        s.accepted.entry(b.clone()).or_default().content += 1;
    }
    Ok(())
}

fn inventory_item(s: &mut TyState, item: &Value) -> Result<(), Vec<String>> {
    let mut r = Vec::new();
    let Some(barcode) = str_field(item, "barcode", 40, &mut r) else {
        return Err(r);
    };
    let Some(p) = s.products.get(barcode) else {
        return Err(vec![format!("Ürün bulunamadı: {barcode}")]);
    };
    if !p.approved {
        r.push(format!("Ürün onaylı değil: {barcode}"));
    }
    let quantity = int_field(item, "quantity").unwrap_or_else(|e| {
        r.push(e);
        None
    });
    if let Some(q) = quantity {
        if !(0..=MAX_QUANTITY).contains(&q) {
            r.push(format!(
                "quantity 0 ile {MAX_QUANTITY} arasında olmalıdır: {q}"
            ));
        }
    }
    let sale = price_field(item, "salePrice").unwrap_or_else(|e| {
        r.push(e);
        None
    });
    let list = price_field(item, "listPrice").unwrap_or_else(|e| {
        r.push(e);
        None
    });
    if quantity.is_none() && sale.is_none() && list.is_none() && r.is_empty() {
        r.push("quantity, salePrice veya listPrice alanlarından en az biri gönderilmelidir".into());
    }
    let eff_sale = sale.unwrap_or(p.sale_price);
    let eff_list = list.unwrap_or(p.list_price);
    if (sale.is_some() || list.is_some()) && eff_list < eff_sale {
        r.push(format!(
            "listPrice ({eff_list}) salePrice'tan ({eff_sale}) küçük olamaz"
        ));
    }
    if sale == Some(0.0) {
        r.push("salePrice sıfırdan büyük olmalıdır".into());
    }
    if !r.is_empty() {
        return Err(r);
    }
    let barcode = barcode.to_string();
    let p = s.products.get_mut(&barcode).unwrap();
    if let Some(q) = quantity {
        p.quantity = q;
    }
    p.sale_price = eff_sale;
    p.list_price = eff_list;
    let counts = s.accepted.entry(barcode).or_default();
    if quantity.is_some() {
        counts.stock += 1;
    }
    if sale.is_some() || list.is_some() {
        counts.price += 1;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Orders: getShipmentPackages (docs/marketplace-wire.md § Orders, T8)

/// `GET /integration/order/sellers/{sellerId}/orders` (getShipmentPackages).
pub const SHIPMENT_PACKAGES: &str = "GET /integration/order/sellers/{sellerId}/orders";
pub const ORDERS_DEFAULT_PAGE_SIZE: i64 = 50;
pub const ORDERS_MAX_PAGE_SIZE: i64 = 200;
/// How far back `startDate` may reach ("3 months"; the fake uses 90 days).
pub const ORDERS_MAX_LOOKBACK_MS: u64 = 90 * DAY_MS;
/// Longest `startDate`..`endDate` range ("two weeks").
pub const ORDERS_MAX_WINDOW_MS: u64 = 14 * DAY_MS;
/// What a query without dates covers ("maximum one week").
pub const ORDERS_DEFAULT_WINDOW_MS: u64 = 7 * DAY_MS;
pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 24 * HOUR_MS;
/// Package statuses as getShipmentPackages spells them.
pub const PACKAGE_STATUSES: &[&str] = &[
    "Awaiting",
    "Created",
    "Picking",
    "Invoiced",
    "Shipped",
    "AtCollectionPoint",
    "Delivered",
    "UnDelivered",
    "Returned",
    "Repack",
    "UnPacked",
    "Cancelled",
    "UnSupplied",
];

/// One order line to create.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSpec {
    /// `merchantSku` (= the product's `stockCode`).
    pub merchant_sku: String,
    pub barcode: String,
    pub product_name: String,
    pub quantity: i64,
    /// Unit price the customer pays (`price`).
    pub price: f64,
    /// Unit price before discounts (`amount`); `discount` is the difference.
    pub list_price: f64,
}

impl LineSpec {
    /// Barcode = merchantSku, no discount.
    pub fn new(merchant_sku: &str, quantity: i64, price: f64) -> Self {
        LineSpec {
            merchant_sku: merchant_sku.into(),
            barcode: merchant_sku.into(),
            product_name: format!("Test Ürün {merchant_sku}"),
            quantity,
            price,
            list_price: price,
        }
    }
}

/// A shipment package to create. Unset fields: a fresh order number,
/// status `Created`, `orderDate` and `lastModifiedDate` = the fake's clock.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PackageSpec {
    pub order_number: Option<String>,
    pub status: Option<String>,
    pub order_date_ms: Option<u64>,
    pub last_modified_ms: Option<u64>,
    pub lines: Vec<LineSpec>,
}

impl PackageSpec {
    pub fn new(lines: Vec<LineSpec>) -> Self {
        PackageSpec {
            lines,
            ..Default::default()
        }
    }

    /// One line.
    pub fn line(merchant_sku: &str, quantity: i64, price: f64) -> Self {
        Self::new(vec![LineSpec::new(merchant_sku, quantity, price)])
    }

    pub fn order_number(mut self, n: &str) -> Self {
        self.order_number = Some(n.into());
        self
    }

    pub fn status(mut self, s: &str) -> Self {
        self.status = Some(s.into());
        self
    }

    /// Both `orderDate` and (unless set separately) `lastModifiedDate`.
    pub fn at(mut self, ms: u64) -> Self {
        self.order_date_ms = Some(ms);
        self
    }

    pub fn last_modified(mut self, ms: u64) -> Self {
        self.last_modified_ms = Some(ms);
        self
    }
}

/// Which timestamp `startDate`/`endDate` select on (UNCONFIRMED for the real
/// API; default [`DateFilter::LastModified`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFilter {
    LastModified,
    OrderDate,
}

/// Something that happens to the package store when an order-list request
/// arrives (see [`TrendyolFake::on_next_page_request`]).
#[derive(Debug, Clone)]
pub enum PageHook {
    /// A new package appears (its timestamps default to the fake's clock at
    /// that moment).
    Insert(PackageSpec),
    /// A package changes status (and `lastModifiedDate`).
    UpdateStatus(i64, String),
}

/// One order-list request that reached the handler (past auth, rate limit
/// and faults), with its query as sent and what it was answered.
#[derive(Debug, Clone, PartialEq)]
pub struct TyOrderQuery {
    /// The raw query string.
    pub raw: String,
    pub page: Option<i64>,
    pub size: Option<i64>,
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub status: Option<String>,
    pub order_number: Option<String>,
    pub order_by_field: Option<String>,
    pub order_by_direction: Option<String>,
    /// HTTP status of the answer.
    pub http_status: u16,
    /// Package ids returned on this page, in order.
    pub returned: Vec<i64>,
    /// The fake's clock when the request was served.
    pub served_at_ms: u64,
}

impl TyOrderQuery {
    /// `endDate - startDate` when both were sent.
    pub fn window_ms(&self) -> Option<i64> {
        Some(self.end_date? - self.start_date?)
    }
}

#[derive(Debug, Clone)]
struct Package {
    id: i64,
    order_number: String,
    status: String,
    order_date_ms: u64,
    last_modified_ms: u64,
    lines: Vec<(i64, LineSpec)>,
    histories: Vec<(u64, String)>,
    customer_id: i64,
    /// A number given through updateTrackingNumber.
    seller_tracking: Option<String>,
    /// A link given through sendInvoiceLink.
    invoice_link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The next request for a page other than the first.
    NextPage,
    /// The n-th order-list request from now (1 = the next one).
    Nth(usize),
}

struct TyOrders {
    packages: Vec<Package>,
    next_package_id: i64,
    next_line_id: i64,
    next_order_number: u64,
    clock_offset_ms: i64,
    date_filter: DateFilter,
    max_window_ms: Option<u64>,
    max_lookback_ms: Option<u64>,
    hooks: Vec<(Trigger, PageHook)>,
    queries: Vec<TyOrderQuery>,
    tracking_statuses: Vec<String>,
    /// Accepted updateTrackingNumber calls: (package id, number).
    tracking_updates: Vec<(i64, String)>,
    /// Accepted updatePackage calls: (package id, status, invoice number).
    package_updates: Vec<(i64, String, Option<String>)>,
    /// Accepted UnSupplied calls: (package id, [(line id, quantity)], reason id).
    unsupplied: Vec<UnsuppliedCall>,
    /// Accepted sendInvoiceLink calls: (package id, link).
    invoice_links: Vec<(i64, String)>,
}

impl TyOrders {
    fn new() -> Self {
        TyOrders {
            packages: Vec::new(),
            next_package_id: 3_700_000_000,
            next_line_id: 5_600_000_000,
            next_order_number: 10_800_000_000,
            clock_offset_ms: 0,
            date_filter: DateFilter::LastModified,
            max_window_ms: Some(ORDERS_MAX_WINDOW_MS),
            max_lookback_ms: Some(ORDERS_MAX_LOOKBACK_MS),
            hooks: Vec::new(),
            queries: Vec::new(),
            tracking_statuses: TRACKING_STATUSES.iter().map(|s| s.to_string()).collect(),
            tracking_updates: Vec::new(),
            package_updates: Vec::new(),
            unsupplied: Vec::new(),
            invoice_links: Vec::new(),
        }
    }

    fn clock(&self) -> u64 {
        (now_ms() as i64 + self.clock_offset_ms).max(0) as u64
    }

    fn check_status(status: &str) -> String {
        PACKAGE_STATUSES
            .iter()
            .find(|s| s.eq_ignore_ascii_case(status))
            .unwrap_or_else(|| panic!("unknown Trendyol package status {status:?}"))
            .to_string()
    }

    fn insert(&mut self, spec: PackageSpec) -> i64 {
        assert!(!spec.lines.is_empty(), "a package needs at least one line");
        let now = self.clock();
        let order_date = spec.order_date_ms.unwrap_or(now);
        let modified = spec.last_modified_ms.unwrap_or(order_date);
        let status = Self::check_status(spec.status.as_deref().unwrap_or("Created"));
        let order_number = spec.order_number.unwrap_or_else(|| {
            self.next_order_number += 1;
            self.next_order_number.to_string()
        });
        self.next_package_id += 1;
        let id = self.next_package_id;
        let lines = spec
            .lines
            .into_iter()
            .map(|l| {
                self.next_line_id += 1;
                (self.next_line_id, l)
            })
            .collect();
        let mut histories = vec![(order_date, "Created".to_string())];
        if status != "Created" {
            histories.push((modified, status.clone()));
        }
        self.packages.push(Package {
            id,
            order_number,
            status,
            order_date_ms: order_date,
            last_modified_ms: modified,
            lines,
            histories,
            customer_id: 99_000_000 + id % 1_000_000,
            seller_tracking: None,
            invoice_link: None,
        });
        id
    }

    fn update(&mut self, id: i64, status: &str, at: Option<u64>) -> Option<i64> {
        let status = Self::check_status(status);
        let now = self.clock();
        let p = self.packages.iter_mut().find(|p| p.id == id)?;
        let at = at.unwrap_or_else(|| now.max(p.last_modified_ms + 1));
        p.status = status.clone();
        p.last_modified_ms = at;
        p.histories.push((at, status));
        Some(id)
    }

    fn get(&self, id: i64) -> Option<&Package> {
        self.packages.iter().find(|p| p.id == id)
    }

    fn run_hook(&mut self, hook: PageHook) {
        match hook {
            PageHook::Insert(spec) => {
                self.insert(spec);
            }
            PageHook::UpdateStatus(id, status) => {
                self.update(id, &status, None)
                    .unwrap_or_else(|| panic!("page hook: unknown package {id}"));
            }
        }
    }

    /// Fires the hooks due for a request for page `page`.
    fn fire_hooks(&mut self, page: i64) {
        let hooks = std::mem::take(&mut self.hooks);
        let mut kept = Vec::new();
        for (trigger, hook) in hooks {
            match trigger {
                Trigger::NextPage if page >= 1 => self.run_hook(hook),
                Trigger::Nth(1) => self.run_hook(hook),
                Trigger::Nth(n) => kept.push((Trigger::Nth(n - 1), hook)),
                t @ Trigger::NextPage => kept.push((t, hook)),
            }
        }
        self.hooks = kept;
    }
}

/// A shipment package in the getShipmentPackages / webhook shape.
fn package_json(p: &Package) -> Value {
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    let lines: Vec<Value> = p
        .lines
        .iter()
        .map(|(id, l)| {
            json!({
                "id": id,
                "quantity": l.quantity,
                "merchantSku": l.merchant_sku,
                "sku": l.barcode,
                "barcode": l.barcode,
                "productName": l.product_name,
                "productCode": 11_000_000 + id % 1_000_000,
                "productSize": "Tek Ebat",
                "productColor": "Standart",
                "productOrigin": "TR",
                "merchantId": TEST_SELLER_ID.parse::<i64>().unwrap_or(0),
                "amount": r2(l.list_price),
                "price": r2(l.price),
                "discount": r2(l.list_price - l.price),
                "tyDiscount": 0.0,
                "discountDetails": (0..l.quantity.max(0)).map(|_| json!({
                    "lineItemPrice": r2(l.price),
                    "lineItemDiscount": r2(l.list_price - l.price),
                    "lineItemTyDiscount": 0.0,
                })).collect::<Vec<_>>(),
                "currencyCode": "TRY",
                "vatBaseAmount": 20,
                "salesCampaignId": 0,
                "orderLineItemStatusName": p.status,
            })
        })
        .collect();
    let gross: f64 = p
        .lines
        .iter()
        .map(|(_, l)| l.list_price * l.quantity as f64)
        .sum();
    let total: f64 = p
        .lines
        .iter()
        .map(|(_, l)| l.price * l.quantity as f64)
        .sum();
    let address = |id: i64| {
        json!({
            "id": id,
            "firstName": "Test",
            "lastName": "Müşteri",
            "company": "",
            "address1": "Test Mah. Örnek Sok. No:1",
            "address2": "",
            "city": "İstanbul",
            "cityCode": 34,
            "district": "Şişli",
            "districtId": 54,
            "postalCode": "34000",
            "countryCode": "TR",
            // A buyer's phone: tests search logs for it (personal data).
            "phone": "05320000001",
            "fullName": "Test Müşteri",
            "fullAddress": "Test Mah. Örnek Sok. No:1 Şişli İstanbul",
        })
    };
    json!({
        "id": p.id,
        "orderNumber": p.order_number,
        "orderDate": p.order_date_ms,
        "originShipmentDate": p.order_date_ms,
        "lastModifiedDate": p.last_modified_ms,
        "status": p.status,
        "shipmentPackageStatus": p.status,
        "grossAmount": r2(gross),
        "totalDiscount": r2(gross - total),
        "totalTyDiscount": 0.0,
        "totalPrice": r2(total),
        "currencyCode": "TRY",
        "taxNumber": null,
        "customerId": p.customer_id,
        "customerFirstName": "Test",
        "customerLastName": "Müşteri",
        "customerEmail": format!("pf+{}@trendyolmail.com", p.customer_id),
        "identityNumber": "00000000000",
        "shipmentAddress": address(p.id * 2),
        "invoiceAddress": address(p.id * 2 - 1),
        "cargoTrackingNumber": 7_330_000_000_000i64 + p.id % 1_000_000_000,
        "cargoTrackingLink": format!("https://kargotakip.trendyol.com/?token=fake{}", p.id),
        "cargoSenderNumber": p.seller_tracking.clone().unwrap_or_else(|| format!("733{:09}", p.id % 1_000_000_000)),
        "cargoProviderName": "Trendyol Express Marketplace",
        // The promised delivery date: two days after the order (fake rule).
        "agreedDeliveryDate": p.order_date_ms + 2 * 86_400_000,
        // UNCONFIRMED that getShipmentPackages shows a link given by
        // sendInvoiceLink here (the field is CONFIRMED, T12).
        "invoiceLink": p.invoice_link,
        "lines": lines,
        "packageHistories": p.histories.iter().map(|(at, s)| json!({"createdDate": at, "status": s})).collect::<Vec<_>>(),
        "deliveryType": "normal",
        "deliveryAddressType": "Shipment",
        "timeSlotId": 0,
        "fastDelivery": false,
        "commercial": false,
        "micro": false,
        "giftBoxRequested": false,
        "3pByTrendyol": false,
        "containsDangerousProduct": false,
        "cargoDeci": 0,
        "isCod": false,
        "createdBy": "order-creation",
        "originPackageIds": null,
    })
}

impl TrendyolFake {
    /// The fake's clock (epoch ms): real time plus [`Self::set_clock_offset`].
    pub fn clock_ms(&self) -> u64 {
        self.with(|s| s.orders.clock())
    }

    /// Shifts the fake's clock by `offset_ms` (negative = the past). New
    /// packages and status changes without explicit timestamps, the default
    /// window and the 3-month lookback all use this clock.
    pub fn set_clock_offset(&self, offset_ms: i64) {
        self.with(|s| s.orders.clock_offset_ms = offset_ms);
    }

    /// Which timestamp `startDate`/`endDate` select on (default
    /// `LastModified`).
    pub fn set_date_filter(&self, filter: DateFilter) {
        self.with(|s| s.orders.date_filter = filter);
    }

    /// The longest accepted `startDate`..`endDate` range (default 14 days;
    /// `None`: unlimited).
    pub fn set_max_order_window(&self, max: Option<Duration>) {
        self.with(|s| s.orders.max_window_ms = max.map(|d| d.as_millis() as u64));
    }

    /// How far back `startDate` may reach (default 90 days; `None`: unlimited).
    pub fn set_max_order_lookback(&self, max: Option<Duration>) {
        self.with(|s| s.orders.max_lookback_ms = max.map(|d| d.as_millis() as u64));
    }

    /// Stores a shipment package; returns it as getShipmentPackages shows it.
    pub fn add_package(&self, spec: PackageSpec) -> Value {
        self.with(|s| {
            let id = s.orders.insert(spec);
            package_json(s.orders.get(id).unwrap())
        })
    }

    /// A one-package order from `(merchantSku, quantity, unit price)` lines.
    pub fn add_order(&self, lines: &[(&str, i64, f64)]) -> Value {
        self.add_package(PackageSpec::new(
            lines
                .iter()
                .map(|(sku, q, p)| LineSpec::new(sku, *q, *p))
                .collect(),
        ))
    }

    /// Moves a package to `status` (a [`PACKAGE_STATUSES`] name, any case)
    /// and bumps its `lastModifiedDate` to the fake's clock (strictly later
    /// than before). Panics for an unknown package.
    pub fn update_status(&self, package_id: i64, status: &str) -> Value {
        self.update_status_at_opt(package_id, status, None)
    }

    /// Same, with an explicit `lastModifiedDate`.
    pub fn update_status_at(&self, package_id: i64, status: &str, at_ms: u64) -> Value {
        self.update_status_at_opt(package_id, status, Some(at_ms))
    }

    fn update_status_at_opt(&self, package_id: i64, status: &str, at: Option<u64>) -> Value {
        self.with(|s| {
            s.orders
                .update(package_id, status, at)
                .unwrap_or_else(|| panic!("unknown Trendyol package {package_id}"));
            package_json(s.orders.get(package_id).unwrap())
        })
    }

    /// [`Self::update_status`] for every package of an order.
    pub fn update_order_status(&self, order_number: &str, status: &str) -> Vec<Value> {
        let ids: Vec<i64> = self.with(|s| {
            s.orders
                .packages
                .iter()
                .filter(|p| p.order_number == order_number)
                .map(|p| p.id)
                .collect()
        });
        assert!(!ids.is_empty(), "unknown Trendyol order {order_number}");
        ids.into_iter()
            .map(|id| self.update_status(id, status))
            .collect()
    }

    pub fn package(&self, package_id: i64) -> Option<Value> {
        self.with(|s| s.orders.get(package_id).map(package_json))
    }

    /// All packages, by id.
    pub fn packages(&self) -> Vec<Value> {
        self.with(|s| s.orders.packages.iter().map(package_json).collect())
    }

    pub fn package_count(&self) -> usize {
        self.with(|s| s.orders.packages.len())
    }

    /// The body Trendyol POSTs to a webhook for this package: the same
    /// JSON object getShipmentPackages returns in `content[]`.
    pub fn webhook_payload(&self, package_id: i64) -> Value {
        self.package(package_id)
            .unwrap_or_else(|| panic!("unknown Trendyol package {package_id}"))
    }

    /// [`Self::webhook_payload`] serialized.
    pub fn webhook_body(&self, package_id: i64) -> Vec<u8> {
        self.webhook_payload(package_id).to_string().into_bytes()
    }

    /// Runs `hook` when the next order-list request for a page other than
    /// the first (`page` ≥ 1) arrives, before that page is computed: orders
    /// arriving or changing between two page requests.
    pub fn on_next_page_request(&self, hook: PageHook) {
        self.with(|s| s.orders.hooks.push((Trigger::NextPage, hook)));
    }

    /// Runs `hook` when the `n`-th order-list request from now arrives
    /// (1 = the next one), before it is answered.
    pub fn on_order_list_request(&self, n: usize, hook: PageHook) {
        assert!(n >= 1);
        self.with(|s| s.orders.hooks.push((Trigger::Nth(n), hook)));
    }

    /// [`Self::on_next_page_request`] with an insert.
    pub fn insert_on_next_page_request(&self, spec: PackageSpec) {
        self.on_next_page_request(PageHook::Insert(spec));
    }

    /// Hooks not fired yet.
    pub fn pending_page_hooks(&self) -> usize {
        self.with(|s| s.orders.hooks.len())
    }

    /// Order-list requests that reached the handler, in arrival order.
    pub fn order_list_queries(&self) -> Vec<TyOrderQuery> {
        self.with(|s| s.orders.queries.clone())
    }

    /// Number of order-list requests that arrived (any outcome).
    pub fn order_list_request_count(&self) -> usize {
        self.request_count(SHIPMENT_PACKAGES)
    }
}

fn shipment_packages(s: &mut TyState, uri: &Uri) -> Response {
    let raw = uri.query().unwrap_or("").to_string();
    let text = |k: &str| query_param(uri, k).filter(|v| !v.trim().is_empty());
    let num = |k: &str| text(k).and_then(|v| v.trim().parse::<i64>().ok());
    let mut q = TyOrderQuery {
        raw,
        page: num("page"),
        size: num("size"),
        start_date: num("startDate"),
        end_date: num("endDate"),
        status: text("status"),
        order_number: text("orderNumber"),
        order_by_field: text("orderByField"),
        order_by_direction: text("orderByDirection"),
        http_status: 0,
        returned: vec![],
        served_at_ms: 0,
    };
    let (response, returned) = match list_packages(s, uri, &q) {
        Ok((body, ids)) => (ty_json(200, body), ids),
        Err(message) => (business_error(400, "order.query.invalid", &message), vec![]),
    };
    q.http_status = response.status().as_u16();
    q.returned = returned;
    q.served_at_ms = s.orders.clock();
    s.orders.queries.push(q);
    response
}

fn list_packages(
    s: &mut TyState,
    uri: &Uri,
    q: &TyOrderQuery,
) -> Result<(Value, Vec<i64>), String> {
    for k in ["page", "size", "startDate", "endDate"] {
        if let Some(v) = query_param(uri, k).filter(|v| !v.trim().is_empty()) {
            if v.trim().parse::<i64>().is_err() {
                return Err(format!(
                    "{k} must be a number (epoch milliseconds for dates): {v}"
                ));
            }
        }
    }
    let page = q.page.unwrap_or(0);
    if page < 0 {
        return Err(format!("page must be >= 0: {page}"));
    }
    let size = q.size.unwrap_or(ORDERS_DEFAULT_PAGE_SIZE);
    if !(1..=ORDERS_MAX_PAGE_SIZE).contains(&size) {
        return Err(format!(
            "size must be between 1 and {ORDERS_MAX_PAGE_SIZE}: {size}"
        ));
    }
    let by_order_date = match q.order_by_field.as_deref() {
        None | Some("PackageLastModifiedDate") => false,
        Some("CreatedDate") => true,
        Some(other) => return Err(format!("orderByField is invalid: {other}")),
    };
    let descending = match q.order_by_direction.as_deref() {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => return Err(format!("orderByDirection must be ASC or DESC: {other}")),
    };
    // Hooks fire after validation, before the page is computed.
    s.orders.fire_hooks(page);
    let o = &s.orders;
    let now = o.clock() as i64;
    let (start, end) = match (q.start_date, q.end_date) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, now),
        (None, Some(b)) => (b - ORDERS_DEFAULT_WINDOW_MS as i64, b),
        (None, None) => (now - ORDERS_DEFAULT_WINDOW_MS as i64, now),
    };
    if start > end {
        return Err(format!(
            "startDate ({start}) must not be after endDate ({end})"
        ));
    }
    if let Some(max) = o.max_window_ms {
        if q.start_date.is_some() && q.end_date.is_some() && (end - start) as u64 > max {
            return Err(format!(
                "startDate ile endDate arası en fazla {} gün olabilir",
                max / DAY_MS
            ));
        }
    }
    if let Some(max) = o.max_lookback_ms {
        if start < now - max as i64 {
            return Err(format!(
                "En fazla {} gün öncesine ait siparişler sorgulanabilir (startDate {start})",
                max / DAY_MS
            ));
        }
    }
    let statuses: Option<Vec<String>> = q.status.as_ref().map(|v| {
        v.split(',')
            .map(|x| x.trim().to_ascii_lowercase())
            .filter(|x| !x.is_empty())
            .collect()
    });
    let package_ids: Option<Vec<i64>> = query_param(uri, "shipmentPackageIds")
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let mut hits: Vec<&Package> = o
        .packages
        .iter()
        .filter(|p| {
            let t = match o.date_filter {
                DateFilter::LastModified => p.last_modified_ms,
                DateFilter::OrderDate => p.order_date_ms,
            } as i64;
            (start..=end).contains(&t)
                && statuses
                    .as_ref()
                    .is_none_or(|st| st.contains(&p.status.to_ascii_lowercase()))
                && q.order_number.as_ref().is_none_or(|n| *n == p.order_number)
                && package_ids.as_ref().is_none_or(|ids| ids.contains(&p.id))
        })
        .collect();
    hits.sort_by_key(|p| {
        let t = if by_order_date {
            p.order_date_ms
        } else {
            p.last_modified_ms
        };
        (t, p.id)
    });
    if descending {
        hits.reverse();
    }
    let total = hits.len();
    let size_u = size as usize;
    let content: Vec<&Package> = hits
        .into_iter()
        .skip(page as usize * size_u)
        .take(size_u)
        .collect();
    let ids = content.iter().map(|p| p.id).collect();
    Ok((
        json!({
            "page": page,
            "size": size,
            "totalPages": total.div_ceil(size_u),
            "totalElements": total,
            "content": content.into_iter().map(package_json).collect::<Vec<_>>(),
        }),
        ids,
    ))
}

// ---------------------------------------------------------------------------
// Orders: updateTrackingNumber (docs/marketplace-wire.md § Orders, T9)

/// `PUT …/shipment-packages/{packageId}/update-tracking-number`.
pub const UPDATE_TRACKING_NUMBER: &str =
    "PUT /integration/order/sellers/{sellerId}/shipment-packages/{packageId}/update-tracking-number";
/// The TR refusal for a package that cannot take a number (cancelled,
/// shipped, delivered, or given a number before).
pub const NOT_UPDATABLE_MESSAGE: &str = "Shipment Update Edilebilir Bir Durumda Değil.";
/// Statuses in which the fake takes a first number (v3: "the package status
/// should be notified as Picking"; Invoiced comes after Picking).
pub const TRACKING_STATUSES: &[&str] = &["Picking", "Invoiced"];

impl TrendyolFake {
    /// Statuses in which updateTrackingNumber is accepted (default
    /// [`TRACKING_STATUSES`]; e.g. add `Created` to model a lenient reading).
    pub fn set_tracking_statuses(&self, statuses: &[&str]) {
        let statuses = statuses.iter().map(|s| TyOrders::check_status(s)).collect();
        self.with(|s| s.orders.tracking_statuses = statuses);
    }

    /// Accepted updateTrackingNumber calls, in order: (package id, number).
    pub fn tracking_updates(&self) -> Vec<(i64, String)> {
        self.with(|s| s.orders.tracking_updates.clone())
    }

    /// The number a package was given through updateTrackingNumber.
    pub fn tracking_number(&self, package_id: i64) -> Option<String> {
        self.with(|s| s.orders.get(package_id)?.seller_tracking.clone())
    }

    /// updateTrackingNumber requests that arrived (any outcome).
    pub fn tracking_request_count(&self) -> usize {
        self.request_count(UPDATE_TRACKING_NUMBER)
    }
}

/// The index of package `pid`.
fn package_index(o: &TyOrders, pid: &str) -> Option<usize> {
    pid.parse::<i64>()
        .ok()
        .and_then(|id| o.packages.iter().position(|p| p.id == id))
}

/// Trendyol's answer for an unknown package (UNCONFIRMED envelope).
fn package_not_found(pid: &str) -> Response {
    business_error(
        404,
        "shipment.package.not.found",
        &format!("Shipment package bulunamadı: {pid}"),
    )
}

fn update_tracking_number(s: &mut TyState, pid: &str, body: &Bytes) -> Response {
    let number = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("trackingNumber")?.as_str().map(str::to_owned))
        .filter(|n| !n.trim().is_empty());
    let Some(number) = number else {
        return business_error(
            400,
            "tracking.number.required",
            "trackingNumber alanı zorunludur",
        );
    };
    let o = &mut s.orders;
    let Some(i) = package_index(o, pid) else {
        return package_not_found(pid);
    };
    let p = &mut o.packages[i];
    if p.seller_tracking.is_some() || !o.tracking_statuses.contains(&p.status) {
        return business_error(400, "shipment.not.updatable", NOT_UPDATABLE_MESSAGE);
    }
    p.seller_tracking = Some(number.clone());
    o.tracking_updates.push((p.id, number));
    (StatusCode::OK, "").into_response()
}

// ---------------------------------------------------------------------------
// Orders: updatePackage (docs/marketplace-wire.md T13)

/// `PUT …/shipment-packages/{packageId}` (Picking / Invoiced).
pub const UPDATE_PACKAGE: &str =
    "PUT /integration/order/sellers/{sellerId}/shipment-packages/{packageId}";
/// The fake's refusal of a status the package cannot take (UNCONFIRMED text).
pub const PACKAGE_STATUS_REFUSED: &str = "Paket statüsü güncellenemez.";

impl TrendyolFake {
    /// Accepted updatePackage calls, in order: (package id, status, invoice number).
    pub fn package_updates(&self) -> Vec<(i64, String, Option<String>)> {
        self.with(|s| s.orders.package_updates.clone())
    }

    /// updatePackage requests that arrived (any outcome).
    pub fn package_update_request_count(&self) -> usize {
        self.request_count(UPDATE_PACKAGE)
    }
}

/// Picking from Created; Invoiced from Created or Picking, with
/// `params.invoiceNumber`; lines, when sent, must be the package's.
/// Anything else: 400 with the business envelope (as a repeat of an
/// accepted call is: the package is no longer where it was).
fn update_package(s: &mut TyState, pid: &str, body: &Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return business_error(400, "request.body.invalid", "Geçersiz istek");
    };
    let status = v["status"].as_str().unwrap_or_default().to_string();
    let invoice = v["params"]["invoiceNumber"].as_str().map(str::to_owned);
    let o = &mut s.orders;
    let Some(i) = package_index(o, pid) else {
        return package_not_found(pid);
    };
    let p = &o.packages[i];
    let lines_ok = v["lines"].as_array().is_none_or(|lines| {
        lines.iter().all(|l| {
            l["lineId"]
                .as_i64()
                .is_some_and(|id| p.lines.iter().any(|(lid, _)| *lid == id))
        })
    });
    let allowed = match status.as_str() {
        "Picking" => p.status == "Created" && invoice.is_none(),
        "Invoiced" => {
            (p.status == "Created" || p.status == "Picking")
                && invoice.as_deref().is_some_and(|n| !n.is_empty())
        }
        _ => false,
    };
    if !lines_ok || !allowed {
        return business_error(
            400,
            "shipment.package.status.invalid",
            PACKAGE_STATUS_REFUSED,
        );
    }
    let id = p.id;
    o.update(id, &status, None);
    o.package_updates.push((id, status, invoice));
    (StatusCode::OK, "").into_response()
}

// ---------------------------------------------------------------------------
// Orders: UnSupplied and sendInvoiceLink (docs/marketplace-wire.md T13)

/// An accepted UnSupplied call: (package id, [(line id, quantity)], reason id).
pub type UnsuppliedCall = (i64, Vec<(i64, i64)>, i64);

/// `PUT …/shipment-packages/{packageId}/items/unsupplied`.
pub const UNSUPPLIED: &str =
    "PUT /integration/order/sellers/{sellerId}/shipment-packages/{packageId}/items/unsupplied";
/// `POST /integration/sellers/{sellerId}/seller-invoice-links`.
pub const SEND_INVOICE_LINK: &str = "POST /integration/sellers/{sellerId}/seller-invoice-links";
/// CONFIRMED reason ids (T13).
pub const UNSUPPLIED_REASON_IDS: &[i64] = &[500, 501, 502, 504, 505, 506];
/// Statuses in which the fake takes UnSupplied (UNCONFIRMED: Trendyol's
/// flow shows it after Picking / Invoiced, before shipping).
pub const UNSUPPLIED_STATUSES: &[&str] = &["Created", "Picking", "Invoiced"];
/// The fake's refusal texts (UNCONFIRMED wording).
pub const UNSUPPLIED_REFUSED: &str = "Paket tedarik edilemedi olarak güncellenemez.";
pub const INVOICE_LINK_EXISTS: &str = "Bu pakete ait fatura linki zaten mevcut.";
pub const INVOICE_LINK_USED: &str = "Bu fatura linki başka bir pakete gönderilmiş.";
pub const INVOICE_LINK_REFUSED: &str = "İptal edilen pakete fatura linki gönderilemez.";

impl TrendyolFake {
    /// Accepted UnSupplied calls: (package id, [(line id, quantity)], reason id).
    pub fn unsupplied_calls(&self) -> Vec<UnsuppliedCall> {
        self.with(|s| s.orders.unsupplied.clone())
    }

    /// UnSupplied requests that arrived (any outcome).
    pub fn unsupplied_request_count(&self) -> usize {
        self.request_count(UNSUPPLIED)
    }

    /// Accepted sendInvoiceLink calls: (package id, link).
    pub fn invoice_links(&self) -> Vec<(i64, String)> {
        self.with(|s| s.orders.invoice_links.clone())
    }

    /// sendInvoiceLink requests that arrived (any outcome).
    pub fn invoice_link_request_count(&self) -> usize {
        self.request_count(SEND_INVOICE_LINK)
    }

    /// The package ids of an order, in creation order.
    pub fn packages_of(&self, order_number: &str) -> Vec<i64> {
        self.with(|s| {
            s.orders
                .packages
                .iter()
                .filter(|p| p.order_number == order_number)
                .map(|p| p.id)
                .collect()
        })
    }
}

/// Lines the seller cannot supply. Checks: known reason id, lines of the
/// package with 1..=their quantity, a package in [`UNSUPPLIED_STATUSES`].
/// Effect (CONFIRMED: the package is cancelled, the rest gets a new
/// package id on the same order number; UNCONFIRMED: which lines each
/// shows): the package keeps the lines not supplied and becomes
/// `Cancelled`; the remaining lines (a partly unsupplied line's remainder
/// under a new line id) move to a new `Created` package.
fn unsupplied(s: &mut TyState, pid: &str, body: &Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return business_error(400, "request.body.invalid", "Geçersiz istek");
    };
    let reason = v["reasonId"].as_i64();
    if !reason.is_some_and(|r| UNSUPPLIED_REASON_IDS.contains(&r)) {
        return business_error(400, "reason.id.invalid", "Geçersiz reasonId");
    }
    let asked: Option<Vec<(i64, i64)>> = v["lines"].as_array().and_then(|lines| {
        lines
            .iter()
            .map(|l| Some((l["lineId"].as_i64()?, l["quantity"].as_i64()?)))
            .collect()
    });
    let Some(asked) = asked.filter(|a| !a.is_empty()) else {
        return business_error(400, "lines.invalid", "lines alanı zorunludur");
    };
    let o = &mut s.orders;
    let Some(index) = package_index(o, pid) else {
        return package_not_found(pid);
    };
    let p = &o.packages[index];
    let lines_ok = asked
        .iter()
        .all(|(id, q)| *q >= 1 && p.lines.iter().any(|(lid, l)| lid == id && *q <= l.quantity));
    if !lines_ok || !UNSUPPLIED_STATUSES.contains(&p.status.as_str()) {
        return business_error(
            400,
            "shipment.package.unsupplied.invalid",
            UNSUPPLIED_REFUSED,
        );
    }
    let mut kept = Vec::new();
    let mut rest = Vec::new();
    for (lid, l) in p.lines.clone() {
        match asked.iter().find(|(id, _)| *id == lid) {
            Some((_, q)) if *q == l.quantity => kept.push((lid, l)),
            Some((_, q)) => {
                let mut remainder = l.clone();
                remainder.quantity -= q;
                let mut gone = l;
                gone.quantity = *q;
                kept.push((lid, gone));
                o.next_line_id += 1;
                rest.push((o.next_line_id, remainder));
            }
            None => rest.push((lid, l)),
        }
    }
    let id = p.id;
    let (order_number, order_date) = (p.order_number.clone(), p.order_date_ms);
    o.packages[index].lines = kept;
    o.update(id, "Cancelled", None);
    if !rest.is_empty() {
        o.next_package_id += 1;
        let new_id = o.next_package_id;
        let now = o.clock();
        let customer_id = o.packages[index].customer_id;
        o.packages.push(Package {
            id: new_id,
            order_number,
            status: "Created".into(),
            order_date_ms: order_date,
            last_modified_ms: now,
            lines: rest,
            histories: vec![(now, "Created".into())],
            customer_id,
            seller_tracking: None,
            invoice_link: None,
        });
    }
    o.unsupplied.push((id, asked, reason.unwrap_or_default()));
    (StatusCode::OK, "").into_response()
}

/// sendInvoiceLink. CONFIRMED: 201 on success; 409 when the package has an
/// invoice already or the link was given to another package. UNCONFIRMED:
/// 404 for an unknown package, 400 for a cancelled one, the messages.
fn send_invoice_link(s: &mut TyState, body: &Bytes) -> Response {
    let v = serde_json::from_slice::<Value>(body).unwrap_or_default();
    let link = v["invoiceLink"]
        .as_str()
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
        .map(str::to_owned);
    let (Some(link), Some(pid)) = (link, v["shipmentPackageId"].as_i64()) else {
        return business_error(
            400,
            "request.body.invalid",
            "invoiceLink ve shipmentPackageId zorunludur",
        );
    };
    let o = &mut s.orders;
    if o.invoice_links
        .iter()
        .any(|(other, l)| *l == link && *other != pid)
    {
        return business_error(409, "invoice.link.used", INVOICE_LINK_USED);
    }
    let Some(p) = o.packages.iter_mut().find(|p| p.id == pid) else {
        return package_not_found(&pid.to_string());
    };
    if p.invoice_link.is_some() {
        return business_error(409, "invoice.link.exists", INVOICE_LINK_EXISTS);
    }
    if p.status == "Cancelled" || p.status == "UnSupplied" {
        return business_error(400, "shipment.package.cancelled", INVOICE_LINK_REFUSED);
    }
    p.invoice_link = Some(link.clone());
    o.invoice_links.push((pid, link));
    (StatusCode::CREATED, "").into_response()
}

// ---- calendar helpers (no date crate in this package) ----

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// (year, month, day) → days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch ms → (y, mo, d, h, mi, s, ms) in UTC + `offset_hours`.
pub(crate) fn civil_parts(ms: u64, offset_hours: i64) -> [i64; 7] {
    let t = ms as i64 + offset_hours * HOUR_MS as i64;
    let secs = t.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    [
        y,
        mo,
        d,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        t.rem_euclid(1000),
    ]
}

// ---------------------------------------------------------------------------
// Shared by the Hepsiburada fake: faults, rate limits, recording.

/// kuruş → the JSON number the marketplaces write (`219.99`, `-15.75`).
pub(crate) fn kurus_json(kurus: i64) -> Value {
    let text = format!(
        "{}{}.{:02}",
        if kurus < 0 { "-" } else { "" },
        kurus.abs() / 100,
        kurus.abs() % 100
    );
    serde_json::from_str(&text).expect("a decimal")
}

/// A fault for a request that reaches the fake. None of them but
/// `LostAnswer` processes the request: nothing is created, updated or
/// remembered (not even for the 15-minute rule).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The Trendyol fake processes the request, then answers this status
    /// (a 504 from a gateway whose upstream did the work: the answer is
    /// lost, not the effect). The Hepsiburada fake treats it as `Status`.
    LostAnswer(u16),
    /// Answered at once with this status (429, 500, 502, 503, …).
    Status(u16),
    /// Sleeps, then answers 504.
    Timeout(Duration),
    /// A 200 whose body is not JSON.
    Malformed,
}

/// Which endpoints faults may hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// Creates and updates (products, content, price, stock, imports).
    Write,
    /// Batch / upload / import status polls.
    Status,
    /// Categories, attributes, brands, product lookups.
    Reference,
    /// Order lists (Trendyol getShipmentPackages, Hepsiburada orders).
    Orders,
    /// Tracking-number pushes (Trendyol updateTrackingNumber, Hepsiburada
    /// intransit) and Hepsiburada's package read.
    Tracking,
    /// Finance reads (Trendyol's settlements).
    Finance,
}

/// What a successful batch item changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Create,
    Content,
    Price,
    Stock,
}

/// Per barcode / merchantSku: how many batch items with SUCCESS touched it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcceptedCounts {
    pub create: u32,
    pub content: u32,
    pub price: u32,
    pub stock: u32,
}

impl AcceptedCounts {
    pub fn get(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Create => self.create,
            Kind::Content => self.content,
            Kind::Price => self.price,
            Kind::Stock => self.stock,
        }
    }
}

/// One request as it arrived, with the status it was answered with.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The endpoint name (e.g. [`CREATE_PRODUCTS`]); `None` for unknown paths.
    pub endpoint: Option<&'static str>,
    pub user_agent: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub at: Instant,
    /// 0 while the request is still being answered.
    pub status: u16,
}

impl RecordedRequest {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query()?).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) enum Pass {
    Throttled,
    Fault(Fault),
    Open,
}

pub(crate) struct Gate {
    pub(crate) default_limit: Option<(usize, Duration)>,
    pub(crate) limits: HashMap<&'static str, (usize, Duration)>,
    windows: HashMap<&'static str, VecDeque<Instant>>,
    pub(crate) throttled: HashMap<&'static str, u64>,
    pub(crate) arrivals: HashMap<&'static str, Vec<Instant>>,
    pub(crate) faults: VecDeque<Fault>,
    random: Option<(f64, fastrand::Rng)>,
    pub(crate) random_menu: Vec<Fault>,
    fault_targets: HashSet<EndpointKind>,
    pub(crate) faults_injected: u64,
    pub(crate) requests: Vec<RecordedRequest>,
}

impl Gate {
    pub(crate) fn new(default_limit: Option<(usize, Duration)>) -> Self {
        Gate {
            default_limit,
            limits: HashMap::new(),
            windows: HashMap::new(),
            throttled: HashMap::new(),
            arrivals: HashMap::new(),
            faults: VecDeque::new(),
            random: None,
            random_menu: vec![
                Fault::Status(429),
                Fault::Status(500),
                Fault::Status(502),
                Fault::Status(503),
                Fault::Timeout(Duration::from_millis(200)),
                Fault::Malformed,
            ],
            fault_targets: [
                EndpointKind::Write,
                EndpointKind::Status,
                EndpointKind::Reference,
                EndpointKind::Orders,
                EndpointKind::Tracking,
                EndpointKind::Finance,
            ]
            .into_iter()
            .collect(),
            faults_injected: 0,
            requests: Vec::new(),
        }
    }

    pub(crate) fn set_failure_rate(&mut self, rate: f64, seed: u64) {
        self.random = (rate > 0.0).then(|| (rate.min(1.0), fastrand::Rng::with_seed(seed)));
    }

    pub(crate) fn set_faults_hit(&mut self, kind: EndpointKind, on: bool) {
        if on {
            self.fault_targets.insert(kind);
        } else {
            self.fault_targets.remove(&kind);
        }
    }

    /// Records the arrival; returns the index for [`Gate::set_status`].
    pub(crate) fn record(
        &mut self,
        method: &Method,
        uri: &Uri,
        endpoint: Option<&'static str>,
        headers: &HeaderMap,
        body: &Bytes,
        now: Instant,
    ) -> usize {
        if let Some(ep) = endpoint {
            self.arrivals.entry(ep).or_default().push(now);
        }
        self.requests.push(RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_owned),
            endpoint,
            user_agent: header(headers, "user-agent"),
            authorization: header(headers, "authorization"),
            content_type: header(headers, "content-type"),
            body: body.clone(),
            at: now,
            status: 0,
        });
        self.requests.len() - 1
    }

    pub(crate) fn set_status(&mut self, index: usize, status: u16) {
        if let Some(r) = self.requests.get_mut(index) {
            r.status = status;
        }
    }

    /// Rate limit (sliding window over admitted requests), then faults.
    pub(crate) fn pass(
        &mut self,
        endpoint: &'static str,
        kind: EndpointKind,
        now: Instant,
    ) -> Pass {
        if let Some((max, window)) = self.limits.get(endpoint).copied().or(self.default_limit) {
            let q = self.windows.entry(endpoint).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
            if q.len() >= max {
                *self.throttled.entry(endpoint).or_default() += 1;
                return Pass::Throttled;
            }
            q.push_back(now);
        }
        if !self.fault_targets.contains(&kind) {
            return Pass::Open;
        }
        let fault = self.faults.pop_front().or_else(|| {
            let (rate, rng) = self.random.as_mut()?;
            if rng.f64() < *rate && !self.random_menu.is_empty() {
                let i = rng.usize(..self.random_menu.len());
                Some(self.random_menu[i].clone())
            } else {
                None
            }
        });
        match fault {
            Some(f) => {
                self.faults_injected += 1;
                Pass::Fault(f)
            }
            None => Pass::Open,
        }
    }
}

/// Adds `X-RateLimit-*` headers (Hepsiburada style) to a 429.
pub(crate) fn with_rate_headers(
    mut response: Response,
    limit: usize,
    window: Duration,
) -> Response {
    let h = response.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit as u64));
    h.insert("x-ratelimit-remaining", HeaderValue::from(0u64));
    h.insert(
        "x-ratelimit-reset",
        HeaderValue::from(window.as_secs().max(1)),
    );
    response
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn decimals_and_barcodes() {
        let n = |s: &str| serde_json::from_str::<serde_json::Number>(s).unwrap();
        assert!(two_decimals(&n("199.99")));
        assert!(two_decimals(&n("200")));
        assert!(two_decimals(&n("0.5")));
        assert!(!two_decimals(&n("199.999")));
        assert!(!two_decimals(
            &serde_json::Number::from_f64(0.1 + 0.2).unwrap()
        ));
        assert!(barcode_ok("ABC-123_x.9"));
        assert!(barcode_ok("ŞĞÜ-1"));
        assert!(!barcode_ok("AB 12"));
        assert!(!barcode_ok(&"1".repeat(41)));
        assert!(!barcode_ok(""));
        assert_eq!(percent_decode("a%20b%C5%9E"), "a bŞ");
    }

    #[test]
    fn routes() {
        let r = route(
            &Method::POST,
            "/integration/product/sellers/123456/v2/products",
        )
        .unwrap();
        assert_eq!(r.0.endpoint(), CREATE_PRODUCTS);
        assert_eq!(r.1.as_deref(), Some("123456"));
        assert!(route(&Method::GET, "/integration/product/sellers/1/v2/products").is_none());
    }
}
