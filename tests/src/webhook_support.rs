//! Webhook test support: independent signers, provider payloads, function
//! URL events, a recording publisher and an AWS call counter.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::Intercept;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use ayaztrade::apps::webhook::App;
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::aws::eventbridge::EventBridgePublisher;
use ayaztrade::aws::sdk::AwsEnv;
use ayaztrade::config::WebhookSettings;
use ayaztrade::domain::event::DomainEvent;
use ayaztrade::ports::EventPublisher;
use base64::Engine;
use serde_json::{json, Value};

use crate::local_stack::{workspace_root, Stack};

fn python() -> std::path::PathBuf {
    std::env::var("AYAZ_PYTHON")
        .map(Into::into)
        .unwrap_or_else(|_| workspace_root().join(".venv/bin/python"))
}

fn run_signer(args: &[&str], body: &[u8]) -> String {
    let mut child = Command::new(python())
        .arg(workspace_root().join("tools/sign_webhook.py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run tools/sign_webhook.py");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "sign_webhook.py failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `Stripe-Signature` made by Stripe's official Python library.
pub fn stripe_signature(body: &[u8], secret: &str, timestamp: i64) -> String {
    run_signer(
        &[
            "stripe",
            "--secret",
            secret,
            "--timestamp",
            &timestamp.to_string(),
        ],
        body,
    )
}

/// `X-IYZ-SIGNATURE-V3` by an independent Python implementation of iyzico's algorithm.
pub fn iyzico_signature(body: &[u8], secret: &str) -> String {
    run_signer(&["iyzico", "--secret", secret], body)
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The ~4 KiB `payment_intent.succeeded` fixture, filled in.
pub fn stripe_succeeded(event_id: &str, pi_id: &str, order_id: &str, amount: i64) -> Vec<u8> {
    std::fs::read_to_string(
        workspace_root().join("tests/fixtures/stripe/payment_intent.succeeded.json"),
    )
    .unwrap()
    .replace("{{EVENT_ID}}", event_id)
    .replace("{{PI_ID}}", pi_id)
    .replace("{{ORDER_ID}}", order_id)
    .replace("{{AMOUNT}}", &amount.to_string())
    .replace("{{CREATED}}", &now_unix().to_string())
    .into_bytes()
}

pub fn stripe_event(event_id: &str, kind: &str, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": event_id, "object": "event", "api_version": "2025-04-30.basil",
        "created": now_unix(), "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind, "data": {"object": object}
    }))
    .unwrap()
}

pub fn stripe_payment_failed(event_id: &str, pi_id: &str, order_id: &str, amount: i64) -> Vec<u8> {
    stripe_event(
        event_id,
        "payment_intent.payment_failed",
        json!({
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": "try", "status": "requires_payment_method", "metadata": {"order_id": order_id},
            "last_payment_error": {"type": "card_error", "code": "card_declined",
                "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}
        }),
    )
}

pub fn stripe_refunded(event_id: &str, pi_id: &str, amount: i64, refunded: i64) -> Vec<u8> {
    stripe_event(
        event_id,
        "charge.refunded",
        json!({
            "id": format!("ch_{event_id}"), "object": "charge", "amount": amount,
            "amount_refunded": refunded, "currency": "try", "payment_intent": pi_id,
            "refunded": refunded == amount, "metadata": {}
        }),
    )
}

/// A Lambda function URL event (payload format 2.0) for the webhook function.
pub fn function_url_request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64: bool,
) -> lambda_http::Request {
    let mut header_map = serde_json::Map::new();
    header_map.insert("content-type".into(), json!("application/json"));
    for (k, v) in headers {
        header_map.insert(k.to_ascii_lowercase(), json!(v));
    }
    let body_field = if base64 {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8(body.to_vec()).expect("text body")
    };
    let event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": header_map,
        "requestContext": {
            "accountId": "anonymous", "apiId": "abcdefghij", "domainName": "abcdefghij.lambda-url.eu-central-1.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "54.187.174.169", "userAgent": "Stripe/1.0"},
            "requestId": "req-1", "routeKey": "$default", "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 1795700000000u64
        },
        "body": body_field, "isBase64Encoded": base64
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid function URL event")
}

/// Publishes to the real (moto) bus and remembers what it published; can be
/// told to fail the next calls, as an EventBridge outage would.
#[derive(Clone)]
pub struct RecordingPublisher {
    inner: EventBridgePublisher,
    pub published: Arc<Mutex<Vec<DomainEvent>>>,
    pub fail_next: Arc<AtomicUsize>,
}

impl RecordingPublisher {
    pub fn new(inner: EventBridgePublisher) -> Self {
        RecordingPublisher {
            inner,
            published: Arc::default(),
            fail_next: Arc::default(),
        }
    }

    /// What was published of one detail type, in order.
    pub fn of_type(&self, t: ayaztrade::domain::event::DetailType) -> Vec<DomainEvent> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.detail_type == t)
            .cloned()
            .collect()
    }
}

impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> ayaztrade::Result<()> {
        if self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(ayaztrade::Error::Store("injected PutEvents failure".into()));
        }
        self.inner.publish(events).await?;
        self.published.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// Counts AWS operations by name (one per execution, retries not counted).
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl CallCounter {
    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.lock().unwrap().clone()
    }
    pub fn reset(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }
    // Once per execution, after the operation's metadata is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        *self.0.lock().unwrap().entry(name).or_default() += 1;
        Ok(())
    }
}

pub struct WebhookHarness {
    pub app: App<DynamoStore, RecordingPublisher>,
    pub publisher: RecordingPublisher,
    pub calls: CallCounter,
}

pub const STRIPE_SECRET: &str = "whsec_test_current0123456789";
pub const STRIPE_OLD_SECRET: &str = "whsec_test_previous987654321";
pub const IYZICO_SECRET: &str = "sandbox-iyzico-secret-key-0123";
pub const MARKETPLACE_USER: &str = "ayaztrade-hook";
pub const MARKETPLACE_PASSWORD: &str = "hook-password-123";

pub fn webhook_settings() -> WebhookSettings {
    let env = |name: &str| -> Option<String> {
        match name {
            "STRIPE_WEBHOOK_SECRETS" => Some(format!("{STRIPE_SECRET},{STRIPE_OLD_SECRET}")),
            "IYZICO_SECRET_KEY" => Some(IYZICO_SECRET.into()),
            "TRENDYOL_WEBHOOK_USERNAME" | "HEPSIBURADA_WEBHOOK_USERNAME" => {
                Some(MARKETPLACE_USER.into())
            }
            "TRENDYOL_WEBHOOK_PASSWORD" | "HEPSIBURADA_WEBHOOK_PASSWORD" => {
                Some(MARKETPLACE_PASSWORD.into())
            }
            _ => None,
        }
    };
    WebhookSettings::from_env(&env).unwrap()
}

pub fn webhook_harness(stack: &Stack) -> WebhookHarness {
    let aws = AwsEnv::from_env().unwrap();
    let calls = CallCounter::default();
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws.dynamodb_config().interceptor(calls.clone()).build(),
    );
    let events = aws_sdk_eventbridge::Client::from_conf(
        aws.eventbridge_config().interceptor(calls.clone()).build(),
    );
    let publisher = RecordingPublisher {
        inner: EventBridgePublisher::new(events, stack.event_bus_name.clone()),
        published: Arc::default(),
        fail_next: Arc::default(),
    };
    let app = App::new(
        DynamoStore::new(dynamo, stack.table_name.clone()),
        publisher.clone(),
        webhook_settings(),
    );
    WebhookHarness {
        app,
        publisher,
        calls,
    }
}

pub fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A fresh Stripe event id.
pub fn evt_id() -> String {
    format!("evt_{:016x}", fastrand::u64(..))
}

/// A Stripe delivery to the webhook function URL, signed now with the
/// current endpoint secret.
pub fn signed_stripe_request(body: &[u8]) -> lambda_http::Request {
    function_url_request(
        "POST",
        "/webhooks/stripe",
        &[(
            "stripe-signature",
            &stripe_signature(body, STRIPE_SECRET, now_unix()),
        )],
        body,
        false,
    )
}
