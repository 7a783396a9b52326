//! Logs and metrics.
//!
//! Logs: `tracing` → stdout, JSON when the function's logging config says so
//! (template.yaml does), each line inside the runtime's `Lambda runtime invoke`
//! span that carries the request id. Nothing secret is ever a field: no
//! headers, no bodies, no keys.
//!
//! Metrics: CloudWatch Embedded Metric Format, one JSON line on stdout per
//! provider call, webhook delivery, finished scheduled run and catalog batch
//! result; CloudWatch turns it into metrics without any API call. Namespace
//! `AyazTrade/Integrations`; README § Operating it lists every metric, its
//! dimensions and the alarm on it. A line carries only names from closed
//! sets (provider, operation, outcome…) and numbers: never a URL, header,
//! body, key, order or buyer.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

pub const METRICS_NAMESPACE: &str = "AyazTrade/Integrations";

/// Sets up logging once per cold start. The level comes from
/// `AWS_LAMBDA_LOG_LEVEL` (set by the template's `ApplicationLogLevel`) or
/// `RUST_LOG` (a plain level such as `debug`), default INFO. A minimal
/// subscriber on purpose: `EnvFilter` directives would link the regex engine.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| l.trim().parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO)
        // Never TRACE: at that level the Lambda runtime logs raw events
        // (credentials, buyers' names and addresses).
        .min(tracing::Level::DEBUG);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false);
    if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

/// What one call through the provider HTTP layer did.
#[derive(Debug, Clone)]
pub struct ProviderCallMetrics<'a> {
    pub provider: &'a str,
    pub operation: &'a str,
    /// Final HTTP status, or 0 when no response was received.
    pub status: u16,
    /// With status 0: the call ran out of time (rather than failing to
    /// connect or losing its connection).
    pub timed_out: bool,
    /// This provider answers 403 when a request goes over its rate limit
    /// (`Endpoint::with_forbidden_as_rate_limit`): its 403 is throttling,
    /// not a credentials problem.
    pub forbidden_is_rate_limit: bool,
    pub attempts: u32,
    pub latency: Duration,
    /// Time spent waiting for our own rate limiter.
    pub throttled: Duration,
}

impl ProviderCallMetrics<'_> {
    /// The `StatusClass` dimension: `2xx`, `3xx`, `4xx`, `5xx`, or, when no
    /// answer came, `timeout` or `network` (could not connect, connection lost).
    pub fn status_class(&self) -> &'static str {
        match self.status {
            0 if self.timed_out => "timeout",
            0 => "network",
            1..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        }
    }

    /// The provider refused our credentials: 401, or 403 from a provider
    /// whose 403 is not its rate limit. An expired or revoked key.
    pub fn auth_failed(&self) -> bool {
        self.status == 401 || (self.status == 403 && !self.forbidden_is_rate_limit)
    }

    /// The call did not do its work for a reason that is not the request's
    /// content: no answer, 5xx, throttled (429, or a throttling 403), or
    /// refused credentials. Other 4xx (validation, not found) are answers.
    pub fn failed(&self) -> bool {
        matches!(self.status, 0 | 401 | 403 | 429) || self.status >= 500
    }
}

fn unix_ms(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// A metric directive: its dimension sets, and its metrics as (name, unit).
type Directive<'a> = (serde_json::Value, &'a [(&'a str, &'a str)]);

/// One EMF document: the directives, all in our namespace, and the values
/// of their dimensions and metrics.
fn emf(
    now: SystemTime,
    directives: &[Directive<'_>],
    values: serde_json::Value,
) -> serde_json::Value {
    let directives: Vec<serde_json::Value> = directives
        .iter()
        .map(|(dimensions, metrics)| {
            let metrics: Vec<serde_json::Value> = metrics
                .iter()
                .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
                .collect();
            json!({"Namespace": METRICS_NAMESPACE, "Dimensions": dimensions, "Metrics": metrics})
        })
        .collect();
    let mut doc = json!({"_aws": {"Timestamp": unix_ms(now), "CloudWatchMetrics": directives}});
    if let (Some(doc), serde_json::Value::Object(values)) = (doc.as_object_mut(), values) {
        doc.extend(values);
    }
    doc
}

/// The EMF document for a provider call (separate from printing, for tests).
///
/// Two metric directives share the one line: latency, attempts, failures,
/// auth failures and limiter wait by provider (and operation); the call
/// count by provider, operation and status class (`ProviderCalls`, the
/// guide's `integration_requests_total`).
pub fn provider_call_emf(m: &ProviderCallMetrics<'_>, now: SystemTime) -> serde_json::Value {
    emf(
        now,
        &[
            (
                json!([["Provider", "Operation"], ["Provider"]]),
                &[
                    ("ProviderCallLatency", "Milliseconds"),
                    ("ProviderCallAttempts", "Count"),
                    ("ProviderCallFailures", "Count"),
                    ("ProviderAuthFailures", "Count"),
                    ("ProviderThrottleWait", "Milliseconds"),
                ],
            ),
            (
                json!([
                    ["Provider", "Operation", "StatusClass"],
                    ["Provider", "StatusClass"]
                ]),
                &[("ProviderCalls", "Count")],
            ),
        ],
        json!({
            "Provider": m.provider,
            "Operation": m.operation,
            "StatusClass": m.status_class(),
            "StatusCode": m.status,
            "ProviderCalls": 1,
            "ProviderCallLatency": m.latency.as_secs_f64() * 1000.0,
            "ProviderCallAttempts": m.attempts,
            "ProviderCallFailures": u32::from(m.failed()),
            "ProviderAuthFailures": u32::from(m.auth_failed()),
            "ProviderThrottleWait": m.throttled.as_secs_f64() * 1000.0,
        }),
    )
}

/// The EMF document counting one rejected webhook delivery (every rejection
/// is counted; only a sample is audited in the table).
pub fn webhook_rejected_emf(provider: &str, reason: &str, now: SystemTime) -> serde_json::Value {
    emf(
        now,
        &[(
            json!([["Provider", "Reason"], ["Provider"]]),
            &[("WebhookRejected", "Count")],
        )],
        json!({
            "Provider": provider,
            "Reason": reason,
            "WebhookRejected": 1,
        }),
    )
}

/// What became of one webhook delivery, the `Outcome` dimension. A closed
/// set, so a flood of odd requests cannot mint metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Authenticated, understood and recorded (whatever it did to the order).
    Accepted,
    /// An event already received (or being processed right now).
    Duplicate,
    /// Older than what the order already shows: recorded, changed nothing.
    Stale,
    /// Refused: authentication, size, method, or a payload we cannot read.
    Rejected,
    /// Our failure (5xx): the provider delivers it again.
    Failed,
}

impl WebhookOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Accepted => "accepted",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Stale => "stale",
            WebhookOutcome::Rejected => "rejected",
            WebhookOutcome::Failed => "failed",
        }
    }
}

/// The EMF document for one webhook delivery from a known provider:
/// `WebhookDeliveries` (1) and `WebhookLatency` by provider and outcome.
pub fn webhook_delivery_emf(
    provider: &str,
    outcome: WebhookOutcome,
    latency: Duration,
    now: SystemTime,
) -> serde_json::Value {
    emf(
        now,
        &[(
            json!([["Provider", "Outcome"], ["Provider"]]),
            &[
                ("WebhookDeliveries", "Count"),
                ("WebhookLatency", "Milliseconds"),
            ],
        )],
        json!({
            "Provider": provider,
            "Outcome": outcome.as_str(),
            "WebhookDeliveries": 1,
            "WebhookLatency": latency.as_secs_f64() * 1000.0,
        }),
    )
}

/// The EMF document saying a scheduled function finished a run
/// (`Heartbeat`, dimension `Function`): its alarm fires when none is seen
/// for twice the schedule's period.
pub fn heartbeat_emf(function: &str, now: SystemTime) -> serde_json::Value {
    emf(
        now,
        &[(json!([["Function"]]), &[("Heartbeat", "Count")])],
        json!({
            "Function": function,
            "Heartbeat": 1,
        }),
    )
}

/// The EMF document for one marketplace batch result the catalog worker
/// recorded: items acknowledged and refused, by marketplace and push kind.
pub fn catalog_batch_emf(
    marketplace: &str,
    push: &str,
    acknowledged: usize,
    refused: usize,
    now: SystemTime,
) -> serde_json::Value {
    emf(
        now,
        &[(
            json!([["Marketplace", "Push"], ["Marketplace"]]),
            &[
                ("CatalogItemsAcknowledged", "Count"),
                ("CatalogItemsRefused", "Count"),
            ],
        )],
        json!({
            "Marketplace": marketplace,
            "Push": push,
            "CatalogItemsAcknowledged": acknowledged,
            "CatalogItemsRefused": refused,
        }),
    )
}

/// What happened to an outbound delivery attempt, the `Outcome` dimension
/// of `OutboundDeliveries`: `delivered`, `failed` (will retry), `exhausted`
/// (schedule over: alarm), `refused_address`. `OutboundEndpointsDisabled`
/// counts endpoints we stopped calling (alarm).
pub fn outbound_emf(metric: &'static str, outcome: &str, now: SystemTime) -> serde_json::Value {
    emf(
        now,
        &[(json!([["Outcome"], []]), &[(metric, "Count")])],
        json!({
            "Outcome": outcome,
            metric: 1,
        }),
    )
}

pub fn emit_outbound(metric: &'static str, outcome: &str) {
    emit(outbound_emf(metric, outcome, SystemTime::now()));
}

/// One EMF line on stdout; one write per line so concurrent invocations'
/// lines never interleave.
fn emit(doc: serde_json::Value) {
    let line = doc.to_string();
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

pub fn emit_webhook_rejected(provider: &str, reason: &str) {
    emit(webhook_rejected_emf(provider, reason, SystemTime::now()));
}

pub fn emit_webhook_delivery(provider: &str, outcome: WebhookOutcome, latency: Duration) {
    emit(webhook_delivery_emf(
        provider,
        outcome,
        latency,
        SystemTime::now(),
    ));
}

pub fn emit_provider_call(m: &ProviderCallMetrics<'_>) {
    emit(provider_call_emf(m, SystemTime::now()));
}

pub fn emit_heartbeat(function: &str) {
    emit(heartbeat_emf(function, SystemTime::now()));
}

pub fn emit_catalog_batch(marketplace: &str, push: &str, acknowledged: usize, refused: usize) {
    emit(catalog_batch_emf(
        marketplace,
        push,
        acknowledged,
        refused,
        SystemTime::now(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every EMF document: each directive's metrics and dimensions are
    /// top-level members, metrics are numbers, dimensions are strings, and
    /// nothing else is in the line but `_aws` and `extra` (small, no secrets).
    fn assert_emf_shape(doc: &serde_json::Value, extra: &[&str]) {
        let object = doc.as_object().expect("an object");
        assert!(doc["_aws"]["Timestamp"].is_u64());
        let directives = doc["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        let mut allowed: Vec<&str> = vec!["_aws"];
        allowed.extend_from_slice(extra);
        for directive in directives {
            assert_eq!(directive["Namespace"], METRICS_NAMESPACE);
            for set in directive["Dimensions"].as_array().unwrap() {
                let set = set.as_array().unwrap();
                assert!(!set.is_empty() && set.len() <= 30);
                for dim in set {
                    let dim = dim.as_str().unwrap();
                    assert!(
                        doc[dim].is_string(),
                        "dimension {dim} missing or not a string"
                    );
                    allowed.push(dim);
                }
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                let name = metric["Name"].as_str().unwrap();
                assert!(metric["Unit"].is_string());
                assert!(doc[name].is_number(), "{name} declared but missing");
                allowed.push(name);
            }
        }
        for key in object.keys() {
            assert!(allowed.contains(&key.as_str()), "unexpected member {key}");
        }
        assert!(doc.to_string().len() < 1024, "EMF lines stay small");
    }

    fn call(status: u16) -> ProviderCallMetrics<'static> {
        ProviderCallMetrics {
            provider: "stripe",
            operation: "create_payment_intent",
            status,
            timed_out: false,
            forbidden_is_rate_limit: false,
            attempts: 3,
            latency: Duration::from_millis(1500),
            throttled: Duration::ZERO,
        }
    }

    #[test]
    fn a_webhook_rejection_is_a_counted_metric() {
        let doc = webhook_rejected_emf("stripe", "rejected:bad_signature", UNIX_EPOCH);
        assert_eq!(doc["WebhookRejected"], 1);
        assert_eq!(doc["Reason"], "rejected:bad_signature");
        assert_emf_shape(&doc, &[]);
    }

    #[test]
    fn emf_document_declares_its_metrics() {
        let doc = provider_call_emf(&call(503), UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(doc["_aws"]["Timestamp"], 1000);
        assert_eq!(doc["Provider"], "stripe");
        assert_eq!(doc["StatusClass"], "5xx");
        assert_eq!(doc["ProviderCalls"], 1);
        assert_eq!(doc["ProviderCallFailures"], 1);
        assert_eq!(doc["ProviderAuthFailures"], 0);
        assert_eq!(doc["ProviderCallLatency"], 1500.0);
        assert_emf_shape(&doc, &["StatusCode"]);
        let calls = &doc["_aws"]["CloudWatchMetrics"][1];
        assert_eq!(calls["Metrics"][0]["Name"], "ProviderCalls");
        assert_eq!(
            calls["Dimensions"][0],
            json!(["Provider", "Operation", "StatusClass"])
        );
    }

    #[test]
    fn status_classes_and_failures() {
        let cases = [
            // status, timed out, 403 is throttling → class, failed, auth
            (200, false, false, "2xx", false, false),
            (201, false, false, "2xx", false, false),
            (302, false, false, "3xx", false, false),
            (400, false, false, "4xx", false, false),
            (404, false, false, "4xx", false, false),
            (401, false, false, "4xx", true, true),
            (403, false, false, "4xx", true, true),
            (403, false, true, "4xx", true, false),
            (429, false, false, "4xx", true, false),
            (500, false, false, "5xx", true, false),
            (503, false, false, "5xx", true, false),
            (0, true, false, "timeout", true, false),
            (0, false, false, "network", true, false),
        ];
        for (status, timed_out, forbidden_is_rate_limit, class, failed, auth) in cases {
            let m = ProviderCallMetrics {
                timed_out,
                forbidden_is_rate_limit,
                ..call(status)
            };
            assert_eq!(m.status_class(), class, "{status}");
            assert_eq!(m.failed(), failed, "{status} failed");
            assert_eq!(m.auth_failed(), auth, "{status} auth");
            let doc = provider_call_emf(&m, UNIX_EPOCH);
            assert_eq!(doc["ProviderAuthFailures"], u32::from(auth));
            assert_eq!(doc["ProviderCallFailures"], u32::from(failed));
        }
    }

    #[test]
    fn a_webhook_delivery_is_counted_by_provider_and_outcome() {
        for outcome in [
            WebhookOutcome::Accepted,
            WebhookOutcome::Duplicate,
            WebhookOutcome::Stale,
            WebhookOutcome::Rejected,
            WebhookOutcome::Failed,
        ] {
            let doc =
                webhook_delivery_emf("trendyol", outcome, Duration::from_millis(42), UNIX_EPOCH);
            assert_eq!(doc["Outcome"], outcome.as_str());
            assert_eq!(doc["WebhookDeliveries"], 1);
            assert_eq!(doc["WebhookLatency"], 42.0);
            assert_emf_shape(&doc, &[]);
        }
    }

    #[test]
    fn a_heartbeat_names_its_function() {
        let doc = heartbeat_emf("order-poll", UNIX_EPOCH);
        assert_eq!(doc["Function"], "order-poll");
        assert_eq!(doc["Heartbeat"], 1);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"]])
        );
        assert_emf_shape(&doc, &[]);
    }

    #[test]
    fn catalog_refusals_are_counted_by_marketplace() {
        let doc = catalog_batch_emf("trendyol", "stock", 98, 2, UNIX_EPOCH);
        assert_eq!(doc["CatalogItemsRefused"], 2);
        assert_eq!(doc["CatalogItemsAcknowledged"], 98);
        assert_eq!(doc["Marketplace"], "trendyol");
        assert_emf_shape(&doc, &[]);
    }
}
