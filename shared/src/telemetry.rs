//! Logs and metrics.
//!
//! Logs: `tracing` → stdout, JSON when the function's logging config says so
//! (template.yaml does), each line inside the runtime's `Lambda runtime invoke`
//! span that carries the request id. Nothing secret is ever a field: no
//! headers, no bodies, no keys.
//!
//! Metrics: CloudWatch Embedded Metric Format, one JSON line on stdout per
//! provider call; CloudWatch turns it into metrics without any API call.

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
    pub attempts: u32,
    pub latency: Duration,
    /// Time spent waiting for our own rate limiter.
    pub throttled: Duration,
}

/// The EMF document for a provider call (separate from printing, for tests).
pub fn provider_call_emf(m: &ProviderCallMetrics<'_>, now: SystemTime) -> serde_json::Value {
    let timestamp = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let failed = m.status == 0 || m.status >= 500 || m.status == 429;
    json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["Provider", "Operation"], ["Provider"]],
                "Metrics": [
                    {"Name": "ProviderCallLatency", "Unit": "Milliseconds"},
                    {"Name": "ProviderCallAttempts", "Unit": "Count"},
                    {"Name": "ProviderCallFailures", "Unit": "Count"},
                    {"Name": "ProviderThrottleWait", "Unit": "Milliseconds"}
                ]
            }]
        },
        "Provider": m.provider,
        "Operation": m.operation,
        "StatusCode": m.status,
        "ProviderCallLatency": m.latency.as_secs_f64() * 1000.0,
        "ProviderCallAttempts": m.attempts,
        "ProviderCallFailures": u32::from(failed),
        "ProviderThrottleWait": m.throttled.as_secs_f64() * 1000.0,
    })
}

/// The EMF document counting one rejected webhook delivery (every rejection
/// is counted; only a sample is audited in the table).
pub fn webhook_rejected_emf(provider: &str, reason: &str, now: SystemTime) -> serde_json::Value {
    let timestamp = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["Provider", "Reason"], ["Provider"]],
                "Metrics": [{"Name": "WebhookRejected", "Unit": "Count"}]
            }]
        },
        "Provider": provider,
        "Reason": reason,
        "WebhookRejected": 1,
    })
}

pub fn emit_webhook_rejected(provider: &str, reason: &str) {
    let line = webhook_rejected_emf(provider, reason, SystemTime::now()).to_string();
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

pub fn emit_provider_call(m: &ProviderCallMetrics<'_>) {
    let line = provider_call_emf(m, SystemTime::now()).to_string();
    // One write per line so concurrent invocations' lines never interleave.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_rejection_is_a_counted_metric() {
        let doc = webhook_rejected_emf("stripe", "rejected:bad_signature", UNIX_EPOCH);
        assert_eq!(doc["WebhookRejected"], 1);
        assert_eq!(doc["Reason"], "rejected:bad_signature");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "WebhookRejected"
        );
    }

    #[test]
    fn emf_document_declares_its_metrics() {
        let doc = provider_call_emf(
            &ProviderCallMetrics {
                provider: "stripe",
                operation: "create_payment_intent",
                status: 503,
                attempts: 3,
                latency: Duration::from_millis(1500),
                throttled: Duration::ZERO,
            },
            UNIX_EPOCH + Duration::from_secs(1),
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1000);
        assert_eq!(doc["Provider"], "stripe");
        assert_eq!(doc["ProviderCallFailures"], 1);
        assert_eq!(doc["ProviderCallLatency"], 1500.0);
        let declared: Vec<&str> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in declared {
            assert!(doc.get(name).is_some(), "{name} declared but missing");
        }
    }
}
