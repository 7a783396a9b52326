//! Building apps and requests the way the functions do, for tests.

use std::time::Duration;

use ayaztrade::apps::orders;
use ayaztrade::apps::payments;
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::config::{HttpSettings, Secret, StripeSettings, DEFAULT_STRIPE_API_VERSION};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade::providers::stripe::StripeClient;

use crate::local_stack::{workspace_root, Stack};
use crate::stripe_fake::{StripeFake, TEST_SECRET_KEY};

/// Short timeouts and backoffs so fault tests run in milliseconds.
pub fn fast_http_settings() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_millis(500),
        attempt_timeout: Duration::from_millis(800),
        total_timeout: Duration::from_secs(5),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    }
}

pub fn stripe_settings(fake: &StripeFake) -> StripeSettings {
    stripe_settings_at(&fake.base_url)
}

pub fn stripe_settings_at(base_url: &str) -> StripeSettings {
    StripeSettings {
        api_base: base_url.to_string(),
        secret_key: Secret::new(TEST_SECRET_KEY),
        api_version: DEFAULT_STRIPE_API_VERSION.to_string(),
        rate_limit_per_second: 1000,
    }
}

pub fn store(stack: &Stack) -> DynamoStore {
    DynamoStore::new(stack.dynamo.clone(), stack.table_name.clone())
}

pub fn payments_app(stack: &Stack, fake: &StripeFake) -> payments::App<DynamoStore> {
    payments_app_with(stack, fake, fast_http_settings())
}

pub fn payments_app_with(
    stack: &Stack,
    fake: &StripeFake,
    http: HttpSettings,
) -> payments::App<DynamoStore> {
    payments_app_for(stack, stripe_settings(fake), http)
}

pub fn payments_app_for(
    stack: &Stack,
    stripe: StripeSettings,
    http: HttpSettings,
) -> payments::App<DynamoStore> {
    let stripe = StripeClient::new(HttpLayer::new(http), stripe);
    let events = ayaztrade::aws::sdk::AwsEnv::from_env()
        .unwrap()
        .eventbridge();
    payments::App::new(store(stack), stripe)
        .with_publisher(Some(
            ayaztrade::aws::eventbridge::EventBridgePublisher::new(
                events,
                stack.event_bus_name.clone(),
            ),
        ))
        .with_checkout_secret(Some(Secret::new(TEST_CHECKOUT_SECRET)))
}

/// The secret the test payments app verifies checkout tokens with.
pub const TEST_CHECKOUT_SECRET: &str = "test-checkout-token-secret";

/// A checkout token for `order_id`, valid for 15 minutes, as the platform
/// would issue it.
pub fn checkout_token(order_id: &str) -> String {
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 900;
    ayaztrade::api::checkout_token::mint(&Secret::new(TEST_CHECKOUT_SECRET), order_id, expires)
}

pub fn orders_app(stack: &Stack) -> orders::App<DynamoStore> {
    orders::App::new(store(stack))
}

/// The demo order of `events/demo-order.json` (total 869.20 TRY).
pub fn demo_order_json() -> serde_json::Value {
    let text = std::fs::read_to_string(workspace_root().join("events/demo-order.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An `events/<name>.json` fixture as the `lambda_http` request the runtime
/// would hand to the function.
pub fn lambda_event(name: &str) -> lambda_http::Request {
    let text = std::fs::read_to_string(workspace_root().join(format!("events/{name}.json")))
        .unwrap_or_else(|e| panic!("events/{name}.json: {e}"));
    lambda_http::request::from_str(&text).expect("a valid HTTP API event")
}

/// An API Gateway HTTP API request with a JSON body, built from the
/// `create-stripe-intent` fixture so it carries a realistic request context.
pub fn http_request(
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> lambda_http::Request {
    let text =
        std::fs::read_to_string(workspace_root().join("events/create-stripe-intent.json")).unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&text).unwrap();
    event["rawPath"] = path.into();
    event["routeKey"] = format!("{method} {path}").into();
    event["requestContext"]["http"]["method"] = method.into();
    event["requestContext"]["http"]["path"] = path.into();
    // The storefront routes carry the shopper's checkout token.
    let storefront = ["/payments/stripe/intents", "/payments/iyzico/checkout"].contains(&path);
    if let (true, Some(order_id)) = (storefront, body.and_then(|b| b["orderId"].as_str())) {
        event["headers"][ayaztrade::api::checkout_token::HEADER] = checkout_token(order_id).into();
    }
    match body {
        Some(b) => {
            event["body"] = b.to_string().into();
            event["isBase64Encoded"] = false.into();
        }
        None => {
            event.as_object_mut().unwrap().remove("body");
            event["isBase64Encoded"] = false.into();
        }
    }
    lambda_http::request::from_str(&event.to_string()).expect("a valid HTTP API event")
}

/// PUTs an order through the orders function, as the platform would.
pub async fn put_order(stack: &Stack, order_id: &str, order: serde_json::Value) {
    let resp = orders_app(stack)
        .handle(http_request(
            "PUT",
            &format!("/orders/{order_id}"),
            Some(&order),
        ))
        .await
        .unwrap();
    let (status, body) = response_json(resp);
    assert!(status == 201 || status == 200, "{status} {body}");
}

/// GIVEN a stored order with a fresh id.
pub async fn given_an_order(stack: &Stack, order: serde_json::Value) -> String {
    let order_id = crate::local_stack::unique_id("ord");
    put_order(stack, &order_id, order).await;
    order_id
}

/// Sets an order's payment status directly in the table, as a later
/// webhook would.
pub async fn mark_paid(stack: &Stack, order_id: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table_name)
        .key("pk", AttributeValue::S(format!("ORDER#{order_id}")))
        .key("sk", AttributeValue::S("ORDER".into()))
        .update_expression("SET payment_status = :paid")
        .expression_attribute_values(":paid", AttributeValue::S("paid".into()))
        .send()
        .await
        .expect("order marked paid");
}

/// POSTs a JSON body to the payments function: status and JSON answer.
pub async fn post_payments(
    app: &payments::App<DynamoStore>,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    response_json(
        app.handle(http_request("POST", path, Some(body)))
            .await
            .unwrap(),
    )
}

/// The `field`s of a 400 answer's per-field errors, in order.
pub fn error_fields(body: &serde_json::Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Status and parsed JSON body of a function response.
pub fn response_json(resp: lambda_http::Response<lambda_http::Body>) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let body = match resp.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap(),
        lambda_http::Body::Binary(b) => serde_json::from_slice(b).unwrap(),
        _ => serde_json::Value::Null,
    };
    (status, body)
}

/// Records a payment attempt for `order_id` under `provider_ref`, for the
/// demo order's total (869.20 TRY), as starting a checkout would.
pub async fn record_attempt_for(stack: &Stack, provider: &str, order_id: &str, provider_ref: &str) {
    use ayaztrade::domain::PaymentAttempt;
    use ayaztrade::money::{Currency, Money};
    use ayaztrade::ports::PaymentAttemptRecorder;
    store(stack)
        .record_attempt(&PaymentAttempt {
            order_id: order_id.into(),
            provider: provider.into(),
            provider_ref: provider_ref.into(),
            amount: Money::new(86920, Currency::TRY),
            provider_status: "succeeded".into(),
            idempotency_key: "k".into(),
            created_at: "2026-11-26T00:00:00Z".into(),
            hosted_form: None,
        })
        .await
        .unwrap();
}

/// A writer that keeps everything logged during a test (the JSON lines a
/// deployment writes), to search it for what must never be logged.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Captures everything logged on this thread up to `level` (the test's
    /// runtime, in-process fakes included) until the guard drops.
    pub fn start(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Every log line at DEBUG (the most `telemetry::init` ever allows in
    /// a deployment), to search the whole of a marketplace order's life for
    /// its buyer's data.
    pub fn start_debug() -> (Self, tracing::subscriber::DefaultGuard) {
        Self::start(tracing::Level::DEBUG)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Panics when any of `personal` was logged; also that something was
    /// captured at all (a provider call), so an empty capture cannot pass.
    pub fn assert_free_of(&self, personal: &[&str]) {
        let text = self.text();
        assert!(text.contains("provider call"), "logs were captured: {text}");
        for p in personal {
            assert!(!text.contains(p), "{p:?} reached the logs:\n{text}");
        }
    }
}

/// An HTTP API (payload 2.0) request as API Gateway hands it to a function
/// that takes raw JSON events (reconcile, accounting): `route` is the
/// template's path (`/x/{id}`), `path` the one called.
pub fn http_api_event(
    method: &str,
    route: &str,
    path: &str,
    path_parameters: serde_json::Value,
    body: Option<&serde_json::Value>,
) -> serde_json::Value {
    let mut event = serde_json::json!({
        "version": "2.0", "routeKey": format!("{method} {route}"),
        "rawPath": path, "rawQueryString": "", "headers": {},
        "requestContext": {"http": {"method": method, "path": path}, "routeKey": "x", "stage": "$default"},
        "pathParameters": path_parameters, "isBase64Encoded": false
    });
    if let Some(b) = body {
        event["body"] = b.to_string().into();
    }
    event
}

/// The status and JSON body of a payload-2.0 answer.
pub fn http_api_answer(answer: &serde_json::Value) -> (u16, serde_json::Value) {
    let body = serde_json::from_str(answer["body"].as_str().expect("a body")).expect("JSON");
    (
        answer["statusCode"].as_u64().expect("a status") as u16,
        body,
    )
}
