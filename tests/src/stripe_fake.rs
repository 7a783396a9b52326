//! A local Stripe that speaks the real wire format of the endpoints we use:
//! form-encoded bodies, Bearer or Basic secret-key auth, `Stripe-Version`,
//! `Idempotency-Key` semantics (replay with `Idempotent-Replayed: true`,
//! `idempotency_error` on changed parameters), `request-id` headers and
//! Stripe's error envelope. Faults can be queued to hit the next requests.
//!
//! Modelled after docs.stripe.com/api and /error-low-level; see
//! docs/stripe-wire.md. Parts that are approximations: the minimum
//! amount check (50 minor units for every currency, S10) and the id formats (S7).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

pub const TEST_SECRET_KEY: &str = "sk_test_51AyazFakeKey0123456789";

/// A fault for the next request that reaches the fake.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answered before Stripe's idempotency layer (a load balancer 503, a
    /// 429): nothing is executed or stored, a retry can succeed.
    Edge {
        status: u16,
        should_retry: Option<bool>,
    },
    /// Answered after execution began: stored under the idempotency key and
    /// replayed to every retry with that key, as Stripe does with a 500.
    Stored { status: u16, body: Value },
    /// Sleeps before answering normally (to trip client timeouts).
    Delay(Duration),
    /// A 200 whose body is not JSON.
    Malformed,
}

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub stripe_version: Option<String>,
    pub content_type: Option<String>,
    pub authorized: bool,
    /// Decoded form pairs, in order.
    pub form: Vec<(String, String)>,
}

impl RecordedRequest {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct StoredResponse {
    params: Vec<(String, String)>,
    status: u16,
    body: Value,
}

#[derive(Default)]
struct FakeState {
    intents: HashMap<String, Value>,
    idempotency: HashMap<String, StoredResponse>,
    faults: VecDeque<Fault>,
    requests: Vec<RecordedRequest>,
    /// Idempotency keys of requests being executed right now.
    in_flight: std::collections::HashSet<String>,
    /// Refunds by id: (payment intent, amount).
    refunds: HashMap<String, (String, i64)>,
    /// Each refund's full object, in creation order (for the list).
    refund_objects: Vec<Value>,
    /// Intent ids in creation order (lists are newest first).
    intent_order: Vec<String>,
    /// Events in creation order (`GET /v1/events`, newest first).
    events: Vec<Value>,
    /// List reads to fail: (path, how many more reads of it pass first).
    fail_reads: Vec<(String, usize)>,
}

impl FakeState {
    /// Refunded so far of an intent's charge.
    fn refunded(&self, pi: &str) -> i64 {
        self.refunds
            .values()
            .filter(|(p, _)| p == pi)
            .map(|(_, a)| a)
            .sum()
    }

    /// The intent's charge as Stripe shows it (`latest_charge`, expanded).
    fn charge(&self, intent: &Value) -> Value {
        let pi = intent["id"].as_str().unwrap_or_default();
        if intent["status"] != "succeeded" {
            return Value::Null;
        }
        let refunded = self.refunded(pi);
        let amount = intent["amount_received"]
            .as_i64()
            .or_else(|| intent["amount"].as_i64())
            .unwrap_or_default();
        json!({"id": format!("ch_{}", pi.trim_start_matches("pi_")), "object": "charge",
               "amount": amount, "amount_captured": amount, "amount_refunded": refunded,
               "currency": intent["currency"], "payment_intent": pi,
               "refunded": refunded >= amount, "metadata": intent["metadata"], "status": "succeeded"})
    }

    /// Records an event as Stripe would (and returns it, for a test to
    /// deliver as a webhook, or not).
    fn emit(&mut self, kind: &str, object: Value) -> Value {
        let event = json!({
            "id": format!("evt_fake{:016x}", fastrand::u64(..)), "object": "event",
            "api_version": "2025-04-30.basil", "created": now_secs(), "livemode": false,
            "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
            "type": kind, "data": {"object": object}
        });
        self.events.push(event.clone());
        event
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A running fake; dropped with the test's runtime.
#[derive(Clone)]
pub struct StripeFake {
    pub base_url: String,
    state: Arc<Mutex<FakeState>>,
}

impl StripeFake {
    /// Starts the fake on an ephemeral loopback port.
    pub async fn start() -> StripeFake {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(addr: SocketAddr) -> StripeFake {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = Router::new()
            .route("/v1/payment_intents", post(create_intent).get(list_intents))
            .route("/v1/payment_intents/{id}", get(retrieve_intent))
            .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
            .route("/v1/refunds", post(create_refund).get(list_refunds))
            .route("/v1/events", get(list_events))
            .fallback(not_found)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind Stripe fake");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("Stripe fake serves");
        });
        StripeFake { base_url, state }
    }

    pub fn push_fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Number of distinct PaymentIntents created.
    pub fn intent_count(&self) -> usize {
        self.state.lock().unwrap().intents.len()
    }

    pub fn intent(&self, id: &str) -> Option<Value> {
        self.state.lock().unwrap().intents.get(id).cloned()
    }

    /// Number of distinct refunds made.
    pub fn refund_count(&self) -> usize {
        self.state.lock().unwrap().refunds.len()
    }

    /// The shopper pays an intent: `succeeded` with `amount_received`
    /// (`None`: the amount asked); returns the `payment_intent.succeeded`
    /// event Stripe records (deliver it, or drop it).
    pub fn succeed_intent(&self, id: &str, amount_received: Option<i64>) -> Vec<u8> {
        let mut state = self.state.lock().unwrap();
        let intent = state.intents.get_mut(id).expect("known intent");
        let received = amount_received.unwrap_or_else(|| intent["amount"].as_i64().unwrap());
        intent["status"] = json!("succeeded");
        intent["amount_received"] = json!(received);
        let object = intent.clone();
        let event = state.emit("payment_intent.succeeded", object);
        serde_json::to_vec(&event).unwrap()
    }

    /// A refund made by a person in Stripe's dashboard: no request of ours,
    /// only the `charge.refunded` event (returned; usually never delivered).
    pub fn refund_in_dashboard(&self, pi: &str, amount: i64) -> Vec<u8> {
        let mut state = self.state.lock().unwrap();
        let intent = state.intents.get(pi).cloned().expect("known intent");
        assert_eq!(
            intent["status"], "succeeded",
            "only a paid intent is refundable"
        );
        let id = format!("re_fake{:016x}", fastrand::u64(..));
        state.refunds.insert(id.clone(), (pi.to_string(), amount));
        let refund = json!({"id": id, "object": "refund", "amount": amount, "currency": intent["currency"],
                            "payment_intent": pi, "status": "succeeded", "reason": "requested_by_customer",
                            "metadata": {}});
        state.refund_objects.push(refund);
        let charge = state.charge(&intent);
        let event = state.emit("charge.refunded", charge);
        serde_json::to_vec(&event).unwrap()
    }

    /// Succeeded intents for `(order id, amount)`, made without requests,
    /// each with its `payment_intent.succeeded` event (tests and
    /// benchmarks): `(intent id, event id)` in order.
    pub fn seed_succeeded(&self, orders: &[(String, i64)]) -> Vec<(String, String)> {
        let mut state = self.state.lock().unwrap();
        let mut ids = Vec::with_capacity(orders.len());
        for (order_id, amount) in orders {
            let id = format!("pi_fake{:016x}", fastrand::u64(..));
            let intent = json!({"id": id, "object": "payment_intent", "amount": amount,
                "amount_received": amount, "currency": "try", "status": "succeeded",
                "metadata": {"order_id": order_id}, "livemode": false, "created": now_secs()});
            state.intent_order.push(id.clone());
            state.intents.insert(id.clone(), intent.clone());
            let event = state.emit("payment_intent.succeeded", intent);
            ids.push((id, event["id"].as_str().unwrap().to_string()));
        }
        ids
    }

    /// The `nth` (from 1) next read of the list at `path` fails with a 503
    /// and `Stripe-Should-Retry: false` (an outage between two pages).
    pub fn fail_list_read(&self, path: &str, nth: usize) {
        assert!(nth >= 1);
        self.state
            .lock()
            .unwrap()
            .fail_reads
            .push((path.to_string(), nth - 1));
    }

    /// Requests that reached the fake with this method and path (no query).
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Moves an intent to another status, as the shopper or Stripe would
    /// (`succeeded`, `canceled`, …).
    pub fn set_intent_status(&self, id: &str, status: &str) {
        let mut state = self.state.lock().unwrap();
        let intent = state.intents.get_mut(id).expect("known intent");
        intent["status"] = json!(status);
    }
}

fn request_id() -> String {
    format!("req_{}", fastrand::u64(..))
}

fn stripe_json(status: u16, body: Value, extra: &[(&'static str, &'static str)]) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert("request-id", HeaderValue::from_str(&request_id()).unwrap());
    for (k, v) in extra {
        headers.insert(*k, HeaderValue::from_static(v));
    }
    response
}

fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> Response {
    let mut err = json!({"type": kind, "message": message});
    if let Some(c) = code {
        err["code"] = json!(c);
    }
    if let Some(p) = param {
        err["param"] = json!(p);
    }
    stripe_json(status, json!({ "error": err }), &[])
}

/// Bearer `sk_…`, or HTTP Basic with the key as username and no password.
fn authorized(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if let Some(token) = value.strip_prefix("Bearer ") {
        return token == TEST_SECRET_KEY;
    }
    if let Some(b64) = value.strip_prefix("Basic ") {
        use base64::Engine;
        return base64::engine::general_purpose::STANDARD
            .decode(b64)
            .is_ok_and(|d| d == format!("{TEST_SECRET_KEY}:").as_bytes());
    }
    false
}

fn record(
    state: &Mutex<FakeState>,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
) {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state.lock().unwrap().requests.push(RecordedRequest {
        method: method.into(),
        path: path.into(),
        idempotency_key: h("idempotency-key"),
        stripe_version: h("stripe-version"),
        content_type: h("content-type"),
        authorized: authorized(headers),
        form,
    });
}

/// What the front door decided for a request.
enum Door {
    Unauthorized,
    /// A queued fault for this request.
    Fault(Fault),
    Open,
}

/// Auth first (as Stripe: a 401 is never stored), then queued faults.
fn front_door(state: &Mutex<FakeState>, headers: &HeaderMap) -> Door {
    if !authorized(headers) {
        return Door::Unauthorized;
    }
    match state.lock().unwrap().faults.pop_front() {
        Some(f) => Door::Fault(f),
        None => Door::Open,
    }
}

fn unauthorized() -> Response {
    error(
        401,
        "invalid_request_error",
        None,
        "Invalid API Key provided: sk_test_****",
        None,
    )
}

fn edge_fault(status: u16, should_retry: Option<bool>) -> Response {
    let body = json!({"error": {"type": "api_error", "message": "Fake edge failure"}});
    let mut response = stripe_json(status, body, &[]);
    if let Some(retry) = should_retry {
        response.headers_mut().insert(
            "stripe-should-retry",
            HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
    }
    response
}

async fn create_intent(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    record(
        &state,
        "POST",
        "/v1/payment_intents",
        &headers,
        form.clone(),
    );
    let fault = match front_door(&state, &headers) {
        Door::Unauthorized => return unauthorized(),
        // Edge faults happen before the idempotency layer: nothing is stored.
        Door::Fault(Fault::Edge {
            status,
            should_retry,
        }) => return edge_fault(status, should_retry),
        Door::Fault(Fault::Malformed) => return (StatusCode::OK, "{\"id\": \"pi_").into_response(),
        Door::Fault(f) => Some(f),
        Door::Open => None,
    };
    if headers.get("content-type").and_then(|v| v.to_str().ok())
        != Some("application/x-www-form-urlencoded")
    {
        return error(
            400,
            "invalid_request_error",
            None,
            "Invalid request: expected form encoding",
            None,
        );
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(key) = &key {
        if key.len() > 255 {
            return error(
                400,
                "invalid_request_error",
                None,
                "Idempotency key too long",
                None,
            );
        }
        let mut guard = state.lock().unwrap();
        if let Some(stored) = guard.idempotency.get(key).cloned() {
            drop(guard);
            return replay(stored, &form);
        }
        if !guard.in_flight.insert(key.clone()) {
            return error(
                409,
                "idempotency_error",
                None,
                "There is currently another in-progress request using this Idempotent Key. Please try again later.",
                None,
            );
        }
    }
    // Like Stripe, finish executing even if the client hangs up meanwhile.
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        let outcome = execute(&task_state, fault, &form).await;
        let mut guard = task_state.lock().unwrap();
        if let Some(key) = &key {
            guard.in_flight.remove(key);
        }
        match outcome {
            Ok((status, body)) => {
                if let Some(key) = key {
                    let stored = StoredResponse {
                        params: form,
                        status,
                        body: body.clone(),
                    };
                    guard.idempotency.insert(key, stored);
                }
                stripe_json(status, body, &[])
            }
            // Failed validation before execution: not stored, as at Stripe.
            Err(response) => *response,
        }
    });
    task.await.expect("fake handler task")
}

/// The answer to a repeated idempotency key.
fn replay(stored: StoredResponse, form: &[(String, String)]) -> Response {
    if stored.params != form {
        return error(
            400,
            "idempotency_error",
            None,
            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            None,
        );
    }
    let mut response = stripe_json(
        stored.status,
        stored.body,
        &[("idempotent-replayed", "true")],
    );
    if stored.status >= 500 {
        response
            .headers_mut()
            .insert("stripe-should-retry", HeaderValue::from_static("false"));
    }
    response
}

/// Runs the create, after an optional delay or with a stored failure.
async fn execute(
    state: &Mutex<FakeState>,
    fault: Option<Fault>,
    form: &[(String, String)],
) -> Result<(u16, Value), Box<Response>> {
    match fault {
        Some(Fault::Stored { status, body }) => return Ok((status, body)),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let intent = new_intent(form)?;
    let id = intent["id"].as_str().unwrap().to_string();
    let mut guard = state.lock().unwrap();
    guard.intent_order.push(id.clone());
    guard.intents.insert(id, intent.clone());
    Ok((200, intent))
}

fn reject(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> Box<Response> {
    Box::new(error(status, kind, code, message, param))
}

/// Validates the parameters the way Stripe does for the fields we send.
fn new_intent(form: &[(String, String)]) -> Result<Value, Box<Response>> {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let amount = match get("amount").map(|a| a.parse::<i64>()) {
        None => {
            return Err(reject(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                "Missing required param: amount.",
                Some("amount"),
            ))
        }
        Some(Err(_)) => {
            return Err(reject(
                400,
                "invalid_request_error",
                Some("parameter_invalid_integer"),
                "Invalid integer: amount",
                Some("amount"),
            ))
        }
        Some(Ok(a)) => a,
    };
    let Some(currency) = get("currency") else {
        return Err(reject(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            "Missing required param: currency.",
            Some("currency"),
        ));
    };
    if currency.len() != 3 || currency.to_lowercase() != currency {
        return Err(reject(
            400,
            "invalid_request_error",
            Some("parameter_invalid_string"),
            "Invalid currency",
            Some("currency"),
        ));
    }
    if amount < 50 {
        return Err(reject(
            400,
            "invalid_request_error",
            Some("amount_too_small"),
            "Amount must be at least 50 cents",
            Some("amount"),
        ));
    }
    if amount > 99_999_999 {
        return Err(reject(
            400,
            "invalid_request_error",
            Some("amount_too_large"),
            "Amount must be no more than 999,999.99",
            Some("amount"),
        ));
    }
    let mut metadata = serde_json::Map::new();
    for (k, v) in form {
        if let Some(name) = k
            .strip_prefix("metadata[")
            .and_then(|r| r.strip_suffix(']'))
        {
            metadata.insert(name.to_string(), json!(v));
        }
    }
    let id = format!("pi_fake{:016x}", fastrand::u64(..));
    let secret = format!("{id}_secret_{:016x}", fastrand::u64(..));
    Ok(json!({
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "status": "requires_payment_method",
        "client_secret": secret,
        "automatic_payment_methods": {"enabled": get("automatic_payment_methods[enabled]").as_deref() == Some("true")},
        "description": get("description"),
        "metadata": metadata,
        "livemode": false,
        "created": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
    }))
}

/// What a read answers instead, if anything: no auth, or the queued fault
/// (a delay only delays).
async fn read_door(state: &Mutex<FakeState>, headers: &HeaderMap) -> Option<Response> {
    match front_door(state, headers) {
        Door::Unauthorized => Some(unauthorized()),
        Door::Fault(Fault::Edge {
            status,
            should_retry,
        }) => Some(edge_fault(status, should_retry)),
        Door::Fault(Fault::Malformed) => Some((StatusCode::OK, "<html>").into_response()),
        Door::Fault(Fault::Stored { status, body }) => Some(stripe_json(status, body, &[])),
        Door::Fault(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Door::Open => None,
    }
}

/// Whether this read of the list at `path` is the one to fail.
fn read_fails(state: &Mutex<FakeState>, path: &str) -> bool {
    let mut guard = state.lock().unwrap();
    let Some(i) = guard.fail_reads.iter().position(|(p, _)| p == path) else {
        return false;
    };
    if guard.fail_reads[i].1 == 0 {
        guard.fail_reads.remove(i);
        return true;
    }
    guard.fail_reads[i].1 -= 1;
    false
}

/// The query pairs as sent (repeated keys such as `types[]` kept).
fn query_pairs(raw: Option<String>) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default()
}

fn query_one<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `limit` (1–100, default 10) or Stripe's error.
fn list_limit(pairs: &[(String, String)]) -> Result<usize, Box<Response>> {
    match query_one(pairs, "limit").map(|l| l.parse::<usize>()) {
        None => Ok(10),
        Some(Ok(n)) if (1..=100).contains(&n) => Ok(n),
        Some(_) => Err(reject(
            400,
            "invalid_request_error",
            Some("parameter_invalid_integer"),
            "limit must be an integer between 1 and 100",
            Some("limit"),
        )),
    }
}

/// Whether `created` (unix s) is inside `created[gte|gt|lte|lt]` of the query.
fn created_matches(pairs: &[(String, String)], created: i64) -> bool {
    let bound = |k: &str| query_one(pairs, k).and_then(|v| v.parse::<i64>().ok());
    bound("created[gte]").is_none_or(|b| created >= b)
        && bound("created[gt]").is_none_or(|b| created > b)
        && bound("created[lte]").is_none_or(|b| created <= b)
        && bound("created[lt]").is_none_or(|b| created < b)
}

/// From `all` (newest first): after `starting_after`, at most `limit`;
/// the page and `has_more`. Lazy, so a large list costs one pass per page.
fn page_of<'a>(
    all: impl Iterator<Item = &'a Value>,
    pairs: &[(String, String)],
    limit: usize,
) -> (Vec<&'a Value>, bool) {
    let mut rest: Box<dyn Iterator<Item = &'a Value>> = Box::new(all);
    if let Some(after) = query_one(pairs, "starting_after") {
        let after = json!(after);
        rest = Box::new(rest.skip_while(move |o| o["id"] != after).skip(1));
    }
    let mut page: Vec<&Value> = rest.take(limit + 1).collect();
    let has_more = page.len() > limit;
    page.truncate(limit);
    (page, has_more)
}

/// `GET /v1/payment_intents?created[gte]=…&created[lt]=…&limit=…&starting_after=…`
/// with `expand[]=data.latest_charge`: the list envelope, newest first
/// (docs/stripe-wire.md S50, S52–S53; the health check's and
/// reconciliation's read).
async fn list_intents(
    State(state): State<Arc<Mutex<FakeState>>>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Response {
    record(&state, "GET", "/v1/payment_intents", &headers, vec![]);
    if read_fails(&state, "/v1/payment_intents") {
        return edge_fault(503, Some(false));
    }
    if let Some(refused) = read_door(&state, &headers).await {
        return refused;
    }
    let pairs = query_pairs(raw);
    let limit = match list_limit(&pairs) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let expand_charge = pairs
        .iter()
        .any(|(k, v)| k == "expand[]" && v == "data.latest_charge");
    let guard = state.lock().unwrap();
    let all = guard
        .intent_order
        .iter()
        .rev()
        .filter_map(|id| guard.intents.get(id))
        .filter(|i| created_matches(&pairs, i["created"].as_i64().unwrap_or_default()));
    let (page, has_more) = page_of(all, &pairs, limit);
    let data: Vec<Value> = page
        .into_iter()
        .map(|i| {
            let mut i = i.clone();
            let charge = guard.charge(&i);
            i["latest_charge"] = if expand_charge || charge.is_null() {
                charge
            } else {
                charge["id"].clone()
            };
            i
        })
        .collect();
    stripe_json(
        200,
        json!({"object": "list", "url": "/v1/payment_intents", "has_more": has_more, "data": data}),
        &[],
    )
}

/// `GET /v1/events?types[]=…&created[gte]=…&created[lt]=…&limit=…&starting_after=…`:
/// newest first, as Stripe lists (docs/stripe-wire.md S51).
async fn list_events(
    State(state): State<Arc<Mutex<FakeState>>>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Response {
    record(&state, "GET", "/v1/events", &headers, vec![]);
    if read_fails(&state, "/v1/events") {
        return edge_fault(503, Some(false));
    }
    if let Some(refused) = read_door(&state, &headers).await {
        return refused;
    }
    let pairs = query_pairs(raw);
    let limit = match list_limit(&pairs) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let types: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "types[]" || k == "type")
        .map(|(_, v)| v.as_str())
        .collect();
    if types.len() > 20 {
        return error(
            400,
            "invalid_request_error",
            None,
            "types may name at most 20 event types",
            Some("types"),
        );
    }
    let guard = state.lock().unwrap();
    let all = guard
        .events
        .iter()
        .rev()
        .filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == *t))
        .filter(|e| created_matches(&pairs, e["created"].as_i64().unwrap_or_default()));
    let (data, has_more) = page_of(all, &pairs, limit);
    stripe_json(
        200,
        json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": data}),
        &[],
    )
}

async fn retrieve_intent(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    record(
        &state,
        "GET",
        &format!("/v1/payment_intents/{id}"),
        &headers,
        vec![],
    );
    match front_door(&state, &headers) {
        Door::Unauthorized => return unauthorized(),
        Door::Fault(Fault::Edge {
            status,
            should_retry,
        }) => return edge_fault(status, should_retry),
        Door::Fault(Fault::Malformed) => return (StatusCode::OK, "<html>").into_response(),
        Door::Fault(Fault::Stored { status, body }) => return stripe_json(status, body, &[]),
        Door::Fault(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Door::Open => {}
    }
    // `expand[]=latest_charge`: the charge object instead of its id, as on
    // the list (docs/stripe-wire.md S56).
    let expand_charge = query_pairs(raw)
        .iter()
        .any(|(k, v)| k == "expand[]" && v == "latest_charge");
    let guard = state.lock().unwrap();
    let intent = guard.intents.get(&id).cloned().map(|mut i| {
        let charge = guard.charge(&i);
        i["latest_charge"] = if expand_charge || charge.is_null() {
            charge
        } else {
            charge["id"].clone()
        };
        i
    });
    drop(guard);
    match intent {
        Some(intent) => stripe_json(200, intent, &[]),
        None => error(
            404,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payment_intent: '{id}'"),
            Some("intent"),
        ),
    }
}

/// `POST /v1/payment_intents/{id}/cancel`: only intents that are not yet
/// paid can be canceled (Stripe's `payment_intent_unexpected_state` otherwise).
async fn cancel_intent(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    record(
        &state,
        "POST",
        &format!("/v1/payment_intents/{id}/cancel"),
        &headers,
        form,
    );
    if let Door::Unauthorized = front_door(&state, &headers) {
        return unauthorized();
    }
    let mut guard = state.lock().unwrap();
    let Some(intent) = guard.intents.get_mut(&id) else {
        return error(
            404,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payment_intent: '{id}'"),
            Some("intent"),
        );
    };
    let status = intent["status"].as_str().unwrap_or_default().to_string();
    match status.as_str() {
        "requires_payment_method"
        | "requires_confirmation"
        | "requires_action"
        | "requires_capture" => {
            intent["status"] = json!("canceled");
            intent["cancellation_reason"] = json!("abandoned");
            stripe_json(200, intent.clone(), &[])
        }
        "canceled" => stripe_json(200, intent.clone(), &[]),
        _ => error(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            &format!("You cannot cancel this PaymentIntent because it has a status of {status}."),
            None,
        ),
    }
}

/// `POST /v1/refunds`: only succeeded intents, never more than remains,
/// replayed by idempotency key like every POST. Queued faults: `Edge` before
/// anything runs; `Delay` runs and stores the refund, then answers too late
/// (the answer is lost to a client that timed out); `Stored` stores a failure.
async fn create_refund(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    record(&state, "POST", "/v1/refunds", &headers, form.clone());
    let delay = match front_door(&state, &headers) {
        Door::Unauthorized => return unauthorized(),
        Door::Fault(Fault::Edge {
            status,
            should_retry,
        }) => return edge_fault(status, should_retry),
        Door::Fault(Fault::Malformed) => return (StatusCode::OK, "<html>").into_response(),
        Door::Fault(Fault::Delay(d)) => Some(d),
        Door::Fault(Fault::Stored { status, body }) => {
            if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
                let stored = StoredResponse {
                    params: form,
                    status,
                    body: body.clone(),
                };
                state
                    .lock()
                    .unwrap()
                    .idempotency
                    .insert(key.to_string(), stored);
            }
            return stripe_json(status, body, &[]);
        }
        Door::Open => None,
    };
    let answer = refund_now(&state, &headers, form);
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    answer
}

/// Executes (or replays) a refund; the answer as Stripe gives it.
fn refund_now(
    state: &Mutex<FakeState>,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
) -> Response {
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut guard = state.lock().unwrap();
    if let Some(stored) = key.as_ref().and_then(|k| guard.idempotency.get(k)).cloned() {
        return replay(stored, &form);
    }
    let Some(pi) = get("payment_intent") else {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            "Missing required param: payment_intent.",
            Some("payment_intent"),
        );
    };
    let Some(intent) = guard.intents.get(&pi).cloned() else {
        return error(
            404,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payment_intent: '{pi}'"),
            Some("payment_intent"),
        );
    };
    if intent["status"] != "succeeded" {
        return error(
            400,
            "invalid_request_error",
            Some("charge_not_refundable"),
            "This PaymentIntent has no successful charge to refund.",
            None,
        );
    }
    let refunded: i64 = guard
        .refunds
        .values()
        .filter(|(p, _)| *p == pi)
        .map(|(_, a)| a)
        .sum();
    let remaining = intent["amount"].as_i64().unwrap_or_default() - refunded;
    let amount = get("amount")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(remaining);
    if amount <= 0 || amount > remaining {
        return error(400, "invalid_request_error", Some("amount_too_large"), &format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"), Some("amount"));
    }
    let id = format!("re_fake{:016x}", fastrand::u64(..));
    guard.refunds.insert(id.clone(), (pi.clone(), amount));
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_string(), Value::String(v.clone())))
        })
        .collect();
    let answer = json!({"id": id, "object": "refund", "amount": amount, "currency": intent["currency"],
                        "payment_intent": pi, "status": "succeeded", "reason": get("reason"),
                        "metadata": metadata});
    guard.refund_objects.push(answer.clone());
    let charge = guard.charge(&intent);
    guard.emit("charge.refunded", charge);
    if let Some(k) = key {
        let stored = StoredResponse {
            params: form,
            status: 200,
            body: answer.clone(),
        };
        guard.idempotency.insert(k, stored);
    }
    stripe_json(200, answer, &[])
}

/// `GET /v1/refunds?payment_intent=…&limit=…&starting_after=…`: newest
/// first, as Stripe lists.
async fn list_refunds(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    record(&state, "GET", "/v1/refunds", &headers, Vec::new());
    // Reads take no queued faults: those are for the refunds themselves.
    if !authorized(&headers) {
        return unauthorized();
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let guard = state.lock().unwrap();
    let mut all: Vec<&Value> = guard
        .refund_objects
        .iter()
        .rev()
        .filter(|r| {
            query
                .get("payment_intent")
                .is_none_or(|pi| r["payment_intent"] == json!(pi))
        })
        .collect();
    if let Some(after) = query.get("starting_after") {
        if let Some(i) = all.iter().position(|r| r["id"] == json!(after)) {
            all.drain(..=i);
        }
    }
    let has_more = all.len() > limit;
    all.truncate(limit);
    stripe_json(
        200,
        json!({"object": "list", "url": "/v1/refunds", "has_more": has_more, "data": all}),
        &[],
    )
}

async fn not_found() -> Response {
    error(
        404,
        "invalid_request_error",
        None,
        "Unrecognized request URL.",
        None,
    )
}
