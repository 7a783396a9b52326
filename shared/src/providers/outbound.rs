//! Sends one signed outbound event to one subscriber endpoint (Standard
//! Webhooks, docs/outbound-webhooks-wire.md) through the one HTTP layer,
//! built with [`AddressPolicy::PublicOnly`] so a name resolving to an
//! internal address is never connected to. One attempt per call: the retry
//! schedule is the deliveries function's (days, not seconds), so the layer
//! itself never repeats a request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use crate::config::{HttpSettings, OutboundSettings};
use crate::domain::outbound::{validate_endpoint_url, Subscription};
use crate::providers::http::{
    header_name, retry_after, AddressPolicy, AttemptOutcome, Endpoint, HttpLayer, OutboundRequest,
    RetryRules, TransportError,
};
use crate::providers::signing::standard_webhooks_signature;

/// The layer never repeats a webhook: the delivery schedule does.
struct NoRetries;

impl RetryRules for NoRetries {
    fn should_retry(&self, _: &AttemptOutcome<'_>, _: bool) -> bool {
        false
    }
}

/// What one attempt came to, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    pub latency_ms: u64,
    /// `refused_address`, `timeout`, `connect`, `io`, … when no answer came.
    pub error: Option<&'static str>,
}

pub struct EndpointSender {
    http: HttpLayer,
    allow_loopback: bool,
    /// One rate limiter per subscription (and its limit), kept while warm.
    endpoints: Mutex<HashMap<String, (u32, Arc<Endpoint>)>>,
}

impl EndpointSender {
    pub fn new(settings: &OutboundSettings) -> Self {
        let http = HttpLayer::with_policy(
            HttpSettings {
                connect_timeout: Duration::from_secs(5).min(settings.request_timeout),
                attempt_timeout: settings.request_timeout,
                // Room for the endpoint's rate limit to space a batch out.
                total_timeout: settings.request_timeout * 2,
                max_attempts: 1,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(100),
            },
            AddressPolicy::PublicOnly {
                allow_loopback: settings.allow_loopback,
            },
        )
        // Judged by status alone: a 2xx with a slow or huge body is delivered.
        .status_only();
        EndpointSender {
            http,
            allow_loopback: settings.allow_loopback,
            endpoints: Mutex::new(HashMap::new()),
        }
    }

    fn endpoint(&self, sub: &Subscription) -> Arc<Endpoint> {
        let mut endpoints = self.endpoints.lock().expect("endpoint map lock");
        match endpoints.get(&sub.id) {
            Some((limit, endpoint)) if *limit == sub.rate_limit_per_second => endpoint.clone(),
            _ => {
                let endpoint = Arc::new(
                    Endpoint::new("outbound_webhook", NoRetries)
                        .with_rate_limit(sub.rate_limit_per_second),
                );
                endpoints.insert(
                    sub.id.clone(),
                    (sub.rate_limit_per_second, endpoint.clone()),
                );
                endpoint
            }
        }
    }

    /// POSTs `body` to the subscription's URL, signed with `keys` at
    /// `timestamp` (seconds) under `webhook-id = msg_id`.
    pub async fn send(
        &self,
        sub: &Subscription,
        msg_id: &str,
        body: &str,
        timestamp: i64,
        keys: &[Vec<u8>],
    ) -> SendOutcome {
        let started = Instant::now();
        let failed = |error: &'static str| SendOutcome {
            status: None,
            retry_after: None,
            latency_ms: started.elapsed().as_millis() as u64,
            error: Some(error),
        };
        // Checked again at each send: an IP literal never reaches the resolver.
        if validate_endpoint_url(&sub.url, self.allow_loopback).is_err() {
            return failed("refused_address");
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static("AyazTrade-Webhooks/1"),
        );
        let Ok(id) = HeaderValue::from_str(msg_id) else {
            return failed("invalid_id");
        };
        headers.insert(header_name("webhook-id"), id);
        headers.insert(
            header_name("webhook-timestamp"),
            HeaderValue::from(timestamp),
        );
        let signature = standard_webhooks_signature(keys, msg_id, timestamp, body.as_bytes());
        let Ok(mut signature) = HeaderValue::from_str(&signature) else {
            return failed("invalid_signature");
        };
        signature.set_sensitive(true);
        headers.insert(header_name("webhook-signature"), signature);
        let request = OutboundRequest {
            operation: "deliver",
            method: Method::POST,
            url: sub.url.clone(),
            headers,
            body: Bytes::copy_from_slice(body.as_bytes()),
            idempotent: true,
        };
        let endpoint = self.endpoint(sub);
        match self.http.send(&endpoint, request).await {
            Ok(response) => SendOutcome {
                status: Some(response.status.as_u16()),
                retry_after: retry_after(&response.headers, SystemTime::now()),
                latency_ms: started.elapsed().as_millis() as u64,
                error: None,
            },
            Err(failed_call) => failed(match failed_call.error {
                TransportError::RefusedAddress(_) => "refused_address",
                TransportError::Timeout => "timeout",
                TransportError::Connect(_) => "connect",
                TransportError::Io(_) => "io",
                TransportError::ResponseTooLarge => "response_too_large",
                TransportError::InvalidRequest(_) => "invalid_request",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn sub(id: &str, url: &str, per_second: u32) -> Subscription {
        Subscription {
            id: id.into(),
            url: url.into(),
            event_types: vec!["*".into()],
            description: String::new(),
            active: true,
            rate_limit_per_second: per_second,
            secret: Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            previous_secret: None,
            failing_since_ms: None,
            disabled_reason: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    /// A 2xx whose body is huge and never finishes is still a 2xx: the
    /// status alone is judged (the body is not read).
    #[tokio::test]
    async fn a_2xx_with_a_slow_huge_body_counts_as_delivered() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65_536];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\nstart")
                        .await;
                    tokio::time::sleep(Duration::from_secs(10)).await;
                });
            }
        });
        let env = |name: &str| match name {
            "OUTBOUND_QUEUE_URL" => Some("q".to_string()),
            "OUTBOUND_ALLOW_LOOPBACK" => Some("true".to_string()),
            "OUTBOUND_TIMEOUT_MS" => Some("1000".to_string()),
            _ => None,
        };
        let sender = EndpointSender::new(&OutboundSettings::from_env(&env).unwrap());
        let outcome = sender
            .send(&sub("sub_c", &url, 5), "e", "{}", 1, &[vec![1u8; 32]])
            .await;
        assert_eq!(outcome.status, Some(200), "{:?}", outcome.error);
        assert_eq!(outcome.error, None);
    }

    /// Each endpoint has its own limit: 5 per second with a burst of 5
    /// spaces a sixth and seventh request 200 ms apart, and another
    /// endpoint's requests do not wait behind them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn each_endpoint_has_its_own_rate_limit() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        // Accepts and closes: the limiter acts before each attempt, answered or not.
        tokio::spawn(async move { while listener.accept().await.is_ok() {} });
        let env = |name: &str| match name {
            "OUTBOUND_QUEUE_URL" => Some("q".to_string()),
            "OUTBOUND_ALLOW_LOOPBACK" => Some("true".to_string()),
            "OUTBOUND_TIMEOUT_MS" => Some("1000".to_string()),
            _ => None,
        };
        let sender = EndpointSender::new(&OutboundSettings::from_env(&env).unwrap());
        let keys = vec![vec![1u8; 32]];
        let slow = sub("sub_a", &url, 5);
        let started = Instant::now();
        for _ in 0..7 {
            sender.send(&slow, "e", "{}", 1, &keys).await;
        }
        let limited = started.elapsed();
        assert!(limited >= Duration::from_millis(350), "{limited:?}");
        let other = sub("sub_b", &url, 5);
        let started = Instant::now();
        for _ in 0..5 {
            sender.send(&other, "e", "{}", 1, &keys).await;
        }
        assert!(
            started.elapsed() < Duration::from_millis(350),
            "{:?}",
            started.elapsed()
        );
    }
}
