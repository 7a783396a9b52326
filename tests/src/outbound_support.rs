//! Outbound-event test support: a local receiver that answers as scripted
//! (success, an error status, or no answer at all), the official Python
//! `standardwebhooks` library as the independent verifier, and a harness
//! that plays the deliveries function's SQS event source on the outbound
//! queue with an injected clock.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use ayaztrade::apps::{deliveries, subscriptions};
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::aws::eventbridge::EventBridgePublisher;
use ayaztrade::aws::sdk::AwsEnv;
use ayaztrade::aws::sqs::SqsQueue;
use ayaztrade::config::OutboundSettings;
use ayaztrade::domain::outbound::Subscription;
use ayaztrade::ports::{Delivery, DeliveryStore, SubscriptionStore, WakeUp, WakeUpQueue};
use serde_json::{json, Value};

use crate::catalog_support::sqs_event;
use crate::local_stack::{workspace_root, Stack};
use crate::webhook_support::{CallCounter, RecordingPublisher};

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Holds the request longer than the sender waits, then answers 200.
    Hang(Duration),
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

#[derive(Default)]
struct ReceiverState {
    script: Mutex<VecDeque<Answer>>,
    received: Mutex<Vec<Received>>,
}

/// An endpoint on 127.0.0.1: answers from its script, then 204.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub addr: SocketAddr,
    state: Arc<ReceiverState>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let app = Router::new().fallback(receive).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hooks/erp"),
            addr,
            state,
        }
    }

    pub fn script(&self, answers: &[Answer]) {
        self.state
            .script
            .lock()
            .unwrap()
            .extend(answers.iter().copied());
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    state.received.lock().unwrap().push(Received {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body,
    });
    let answer = state.script.lock().unwrap().pop_front();
    match answer {
        None => StatusCode::NO_CONTENT,
        Some(Answer::Status(code)) => StatusCode::from_u16(code).unwrap(),
        Some(Answer::Hang(d)) => {
            tokio::time::sleep(d).await;
            StatusCode::OK
        }
    }
}

/// Verifies `received` with the official Python library
/// (`standardwebhooks.Webhook(secret).verify`); `Err` carries its message.
pub fn verify_with_official_library(secret: &str, received: &Received) -> Result<(), String> {
    let python = std::env::var("AYAZ_PYTHON")
        .map(Into::into)
        .unwrap_or_else(|_| workspace_root().join(".venv/bin/python"));
    let mut child = Command::new(python)
        .arg(workspace_root().join("tools/verify_standard_webhook.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run tools/verify_standard_webhook.py");
    let input = json!({"secret": secret, "headers": received.headers, "body": received.body});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success(), "verify_standard_webhook.py crashed");
    if text == "ok" {
        Ok(())
    } else {
        Err(text)
    }
}

/// The real SQS adapter, with every delay taken out (the tests move the
/// clock instead of waiting minutes); the delays asked for are kept.
#[derive(Clone)]
pub struct UndelayedQueue {
    inner: SqsQueue,
    pub delays: Arc<Mutex<Vec<u32>>>,
    /// Sends to fail (a SendMessageBatch error) before working again.
    pub fail_next: Arc<std::sync::atomic::AtomicUsize>,
}

impl WakeUpQueue for UndelayedQueue {
    async fn send_wake_ups(&self, wake_ups: &[WakeUp], delay_secs: u32) -> ayaztrade::Result<()> {
        if self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(ayaztrade::Error::Store(
                "injected SendMessageBatch failure".into(),
            ));
        }
        self.delays.lock().unwrap().push(delay_secs);
        self.inner.send_wake_ups(wake_ups, 0).await
    }
}

pub type Deliveries = deliveries::App<DynamoStore, UndelayedQueue, RecordingPublisher>;
pub type Subscriptions = subscriptions::App<DynamoStore, UndelayedQueue>;

pub struct OutboundHarness {
    pub deliveries: Deliveries,
    pub subscriptions: Subscriptions,
    pub publisher: RecordingPublisher,
    /// Publishes domain events on the stack's bus (the rule queues them).
    pub bus: EventBridgePublisher,
    pub queue: UndelayedQueue,
    pub calls: CallCounter,
    pub clock: Arc<AtomicI64>,
    store: DynamoStore,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

pub fn settings(stack: &Stack, allow_loopback: bool, disable_after_hours: u64) -> OutboundSettings {
    let queue = stack.outbound_queue_url.clone();
    let env = move |name: &str| -> Option<String> {
        match name {
            "OUTBOUND_QUEUE_URL" => Some(queue.clone()),
            "OUTBOUND_ALLOW_LOOPBACK" => Some(allow_loopback.to_string()),
            "OUTBOUND_TIMEOUT_MS" => Some("1000".into()),
            "OUTBOUND_DISABLE_AFTER_HOURS" => Some(disable_after_hours.to_string()),
            _ => None,
        }
    };
    OutboundSettings::from_env(&env).unwrap()
}

impl OutboundHarness {
    /// Both apps on `stack`, their AWS calls counted, the clock at real now.
    pub fn new(stack: &Stack, allow_loopback: bool) -> OutboundHarness {
        Self::with_disable_after(stack, allow_loopback, 120)
    }

    pub fn with_disable_after(stack: &Stack, allow_loopback: bool, hours: u64) -> OutboundHarness {
        let aws = AwsEnv::from_env().unwrap();
        let calls = CallCounter::default();
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws.dynamodb_config().interceptor(calls.clone()).build(),
        );
        let events = aws_sdk_eventbridge::Client::from_conf(
            aws.eventbridge_config().interceptor(calls.clone()).build(),
        );
        let sqs_counted =
            aws_sdk_sqs::Client::from_conf(aws.sqs_config().interceptor(calls.clone()).build());
        let queue = UndelayedQueue {
            inner: SqsQueue::new(sqs_counted, stack.outbound_queue_url.clone()),
            delays: Arc::default(),
            fail_next: Arc::default(),
        };
        let publisher = RecordingPublisher::new(EventBridgePublisher::new(
            events,
            stack.event_bus_name.clone(),
        ));
        let clock = Arc::new(AtomicI64::new(ayaztrade::clock::now_ms()));
        let read = clock.clone();
        let clock_fn: deliveries::Clock = Arc::new(move || read.load(Ordering::SeqCst));
        let store = DynamoStore::new(dynamo, stack.table_name.clone());
        OutboundHarness {
            deliveries: deliveries::App::new(
                store.clone(),
                queue.clone(),
                publisher.clone(),
                settings(stack, allow_loopback, hours),
            )
            .with_clock(clock_fn.clone()),
            subscriptions: subscriptions::App::new(
                store.clone(),
                queue.clone(),
                settings(stack, allow_loopback, hours),
            )
            .with_clock(clock_fn),
            publisher,
            bus: EventBridgePublisher::new(aws.eventbridge(), stack.event_bus_name.clone()),
            queue,
            calls,
            clock,
            store,
            sqs: aws.sqs(),
            queue_url: stack.outbound_queue_url.clone(),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn store(&self) -> &DynamoStore {
        &self.store
    }

    pub async fn subscription(&self, id: &str) -> Subscription {
        self.store
            .subscription(id)
            .await
            .unwrap()
            .expect("the subscription")
    }

    pub async fn maybe_delivery(&self, subscription_id: &str, event_id: &str) -> Option<Delivery> {
        self.store
            .delivery(subscription_id, event_id)
            .await
            .unwrap()
    }

    pub async fn delivery(&self, subscription_id: &str, event_id: &str) -> Delivery {
        self.maybe_delivery(subscription_id, event_id)
            .await
            .expect("the delivery")
    }

    /// One call to the subscriptions function: its status and JSON.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        answer(
            self.subscriptions
                .handle(api_request(method, path, body))
                .await
                .unwrap(),
        )
    }

    pub fn advance(&self, by: Duration) {
        self.clock
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    /// Plays the event source once: everything on the outbound queue (waiting
    /// up to `wait` for the first message) as one batch through the
    /// function's entry point, then deletes what succeeded. Returns how many
    /// messages went in and the answer.
    pub async fn run_queue(&self, wait: Duration) -> (usize, SqsBatchResponse) {
        let messages = self.receive(wait).await;
        if messages.is_empty() {
            return (0, SqsBatchResponse::default());
        }
        let response = self.deliveries.process(sqs_event(&messages)).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for m in &messages {
            if failed.contains(m.message_id.as_ref().unwrap()) {
                // Its visibility timeout passes at once (the clock is ours).
                self.sqs
                    .change_message_visibility()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("release");
            } else {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .send()
                    .await
                    .expect("delete");
            }
        }
        (messages.len(), response)
    }

    /// The messages on the outbound queue, handed to nobody.
    pub async fn receive(&self, wait: Duration) -> Vec<aws_sdk_sqs::types::Message> {
        let mut messages = Vec::new();
        let mut wait_secs = wait.as_secs() as i32;
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait_secs)
                .visibility_timeout(30)
                .send()
                .await
                .expect("receive outbound")
                .messages
                .unwrap_or_default();
            if got.is_empty() {
                break;
            }
            messages.extend(got);
            wait_secs = 0;
        }
        messages
    }
}

/// A request to the subscriptions function.
pub fn api_request(method: &str, path: &str, body: Option<Value>) -> lambda_http::Request {
    let body = match body {
        Some(v) => lambda_http::Body::Text(v.to_string()),
        None => lambda_http::Body::Empty,
    };
    http::Request::builder()
        .method(method)
        .uri(format!("https://api.example.com{path}"))
        .header("content-type", "application/json")
        .body(body)
        .unwrap()
}

/// The status and JSON of an answer.
pub fn answer(response: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}
