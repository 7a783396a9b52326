//! The one outbound HTTP layer for provider calls.
//!
//! Every call to Stripe (and later iyzico, Trendyol, Hepsiburada, Aras) goes
//! through [`HttpLayer::send`], which gives it:
//! - a per-attempt timeout and an overall budget that stays below the
//!   function's timeout;
//! - retries with exponential backoff and 50–100 % jitter, decided by the
//!   provider's own [`RetryRules`] (Stripe-Should-Retry, Retry-After, …);
//! - a token-bucket rate limit per provider endpoint;
//! - one EMF metric line and one log line per call, which never contain
//!   headers, bodies or URLs' query strings, so no secret reaches the logs;
//!   the metrics count each call by status class, and a 401/403 (unless the
//!   provider's 403 means throttling) as a failure and an auth failure
//!   (`telemetry::ProviderCallMetrics`). Metrics only: retries are unchanged.
//! - for URLs our users give us (outbound webhooks), an [`AddressPolicy`]
//!   applied in the connector's DNS step: a name that resolves to an
//!   internal address is refused, and the connection goes to exactly the
//!   addresses checked ([`HttpLayer::with_policy`]).
//!
//! TLS is rustls with ring and Mozilla's roots compiled in (no OpenSSL, no
//! read of the OS store at cold start). HTTP/1.1 only: providers' APIs are
//! request/response and h2 would only add code to the binary.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::HttpSettings;
use crate::telemetry::{self, ProviderCallMetrics};

/// Largest provider answer we read; anything bigger is treated as malformed.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// A request, fully built (auth headers included) by a provider client.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// Short name for metrics and logs, e.g. `create_payment_intent`.
    pub operation: &'static str,
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// True when repeating the request cannot repeat its effect (GET, or a
    /// POST carrying an idempotency key): only then are ambiguous failures
    /// (a timeout after the request was sent) retried.
    pub idempotent: bool,
}

#[derive(Debug, Clone)]
pub struct ProviderResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub attempts: u32,
}

impl ProviderResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why no usable response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("could not connect: {0}")]
    Connect(String),
    /// The connection failed after the request may have been sent (reset,
    /// closed keep-alive socket, truncated answer).
    #[error("connection failed: {0}")]
    Io(String),
    #[error("timed out")]
    Timeout,
    #[error("response larger than {MAX_RESPONSE_BYTES} bytes")]
    ResponseTooLarge,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The name resolved to an address the layer's [`AddressPolicy`]
    /// refuses: nothing was sent.
    #[error("{0}")]
    RefusedAddress(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error} (after {attempts} attempt(s))")]
pub struct CallFailed {
    pub error: TransportError,
    pub attempts: u32,
}

/// What one attempt produced, as seen by the retry rules.
#[derive(Debug)]
pub enum AttemptOutcome<'a> {
    Response {
        status: StatusCode,
        headers: &'a HeaderMap,
    },
    Failed(&'a TransportError),
}

/// A provider's rules for when a failed attempt may be repeated.
pub trait RetryRules: Send + Sync {
    fn should_retry(&self, outcome: &AttemptOutcome<'_>, idempotent: bool) -> bool;
}

/// Rules for providers that say nothing special: connection failures are
/// always retried (nothing reached the provider), and so is 429 (refused
/// before any work); timeouts, dropped connections and 5xx only when the
/// request is idempotent, since the provider may have acted before failing.
#[derive(Debug, Default, Clone, Copy)]
pub struct StandardRetryRules;

impl RetryRules for StandardRetryRules {
    fn should_retry(&self, outcome: &AttemptOutcome<'_>, idempotent: bool) -> bool {
        match outcome {
            AttemptOutcome::Failed(TransportError::Connect(_)) => true,
            AttemptOutcome::Failed(TransportError::Timeout | TransportError::Io(_)) => idempotent,
            AttemptOutcome::Failed(_) => false,
            AttemptOutcome::Response { status, .. } => match status.as_u16() {
                429 => true,
                500 | 502..=504 => idempotent,
                _ => false,
            },
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let at = SystemTime::from(date);
    Some(at.duration_since(now).unwrap_or_default())
}

/// Whether waiting `delay` from now still ends before `deadline`. A provider's
/// `Retry-After` is input: a huge one must mean "not in this call", never an
/// `Instant` overflow (a panic).
pub fn fits_before(deadline: Instant, delay: Duration) -> bool {
    delay < deadline.saturating_duration_since(Instant::now())
}

/// Backoff before retry number `retry` (1-based): `initial · 2^(retry−1)`
/// capped at `max`, jittered to 50–100 %, never below `initial`
/// (the policy of Stripe's own client libraries).
pub fn backoff(retry: u32, initial: Duration, max: Duration, jitter: f64) -> Duration {
    let exp = initial.saturating_mul(1u32 << (retry.saturating_sub(1)).min(16));
    let capped = exp.min(max);
    let jittered = capped.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    jittered.max(initial)
}

/// A rate limit several endpoints share (a provider's service group:
/// Trendyol's "Product Integration Write", Hepsiburada's catalog host).
#[derive(Clone)]
pub struct RateGroup(Arc<DefaultDirectRateLimiter>);

impl RateGroup {
    /// `max` requests per `window`, spaced evenly with no burst; `None` when
    /// `max` is 0 (no limit).
    pub fn spaced(max: u32, window: Duration) -> Option<Self> {
        (max > 0)
            .then(|| Quota::with_period(window / max))
            .flatten()
            .map(|quota| RateGroup(Arc::new(RateLimiter::direct(quota))))
    }
}

/// Shortest wait before repeating a request a provider refused with 403 for
/// going over its limit (Hepsiburada blocks the IP after 5 s of excess).
pub const FORBIDDEN_THROTTLE_BACKOFF: Duration = Duration::from_secs(1);

/// One provider endpoint (or group of endpoints sharing a limit).
pub struct Endpoint {
    pub provider: &'static str,
    /// Response header carrying the provider's request id, logged per call.
    pub request_id_header: Option<&'static str>,
    rules: Box<dyn RetryRules>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    groups: Vec<RateGroup>,
    forbidden_is_rate_limit: bool,
}

impl Endpoint {
    pub fn new(provider: &'static str, rules: impl RetryRules + 'static) -> Self {
        Endpoint {
            provider,
            request_id_header: None,
            rules: Box::new(rules),
            limiter: None,
            groups: Vec::new(),
            forbidden_is_rate_limit: false,
        }
    }

    /// Also waits for `group`'s limit before each attempt.
    pub fn in_group(mut self, group: Option<&RateGroup>) -> Self {
        self.groups.extend(group.cloned());
        self
    }

    /// This provider answers 403 when a request goes over its rate limit
    /// (Hepsiburada's catalog, docs/marketplace-wire.md H8): a 403 is
    /// retried like a 429, at least [`FORBIDDEN_THROTTLE_BACKOFF`] apart,
    /// and a lasting one is reported as throttling, not as credentials.
    pub fn with_forbidden_as_rate_limit(mut self) -> Self {
        self.forbidden_is_rate_limit = true;
        self
    }

    pub fn forbidden_is_rate_limit(&self) -> bool {
        self.forbidden_is_rate_limit
    }

    pub fn with_request_id_header(mut self, header: &'static str) -> Self {
        self.request_id_header = Some(header);
        self
    }

    /// Allows at most `per_second` requests per second from this process
    /// (bursts up to the same number).
    pub fn with_rate_limit(mut self, per_second: u32) -> Self {
        self.limiter = NonZeroU32::new(per_second)
            .map(|n| Arc::new(RateLimiter::direct(Quota::per_second(n))));
        self
    }

    /// Spaces requests evenly, `max` per `window`, with no burst: a provider
    /// that counts requests in a sliding window (Trendyol: 50 per 10 s per
    /// endpoint) never sees more than `max` in any window, whereas a bucket
    /// that starts full could put `max` at the end of one window and `max`
    /// more at the start of the next.
    pub fn with_spaced_limit(mut self, max: u32, window: Duration) -> Self {
        self.limiter = RateGroup::spaced(max, window).map(|g| g.0);
        self
    }
}

type HyperClient = Client<HttpsConnector<HttpConnector<AddressResolver>>, Full<Bytes>>;

/// Which resolved addresses a connection may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Provider APIs we configure ourselves: whatever the name resolves to.
    Any,
    /// Endpoints our users name (outbound webhooks): a name resolving to any
    /// address `domain::outbound::refused_address` refuses is not connected
    /// to at all; `allow_loopback` is the local-development flag.
    PublicOnly { allow_loopback: bool },
}

/// The DNS step of the connector. The connector connects to exactly the
/// addresses this returns, so an address checked here is the address used:
/// no second resolution a rebinding name could answer differently.
/// (An IP literal skips resolution: callers check those before sending,
/// `domain::outbound::validate_endpoint_url`.)
#[derive(Clone)]
pub struct AddressResolver {
    system: hyper_util::client::legacy::connect::dns::GaiResolver,
    policy: AddressPolicy,
}

/// A name resolving to an address the policy refuses.
#[derive(Debug)]
pub struct RefusedAddress(pub String);

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused address: {}", self.0)
    }
}

impl std::error::Error for RefusedAddress {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for AddressResolver {
    type Response = std::vec::IntoIter<std::net::SocketAddr>;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        tower_service::Service::<hyper_util::client::legacy::connect::dns::Name>::poll_ready(
            &mut self.system,
            cx,
        )
        .map_err(Into::into)
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        let policy = self.policy;
        let lookup = tower_service::Service::call(&mut self.system, name);
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = lookup.await?.collect();
            if let AddressPolicy::PublicOnly { allow_loopback } = policy {
                // One refused address refuses the name: a name that mixes
                // public and internal answers is not one we trust.
                if let Some((addr, why)) = addrs.iter().find_map(|a| {
                    crate::domain::outbound::refused_address(a.ip(), allow_loopback)
                        .map(|why| (a, why))
                }) {
                    return Err(
                        Box::new(RefusedAddress(format!("{} ({why})", addr.ip()))) as BoxError
                    );
                }
            }
            Ok(addrs.into_iter())
        })
    }
}

/// The shared client: one connection pool per process, built in `main`.
#[derive(Clone)]
pub struct HttpLayer {
    client: HyperClient,
    settings: HttpSettings,
    /// The answer is judged by its status alone: the body is not read (a
    /// slow or large body cannot turn a 2xx into a failure).
    status_only: bool,
}

impl HttpLayer {
    pub fn new(settings: HttpSettings) -> Self {
        Self::with_policy(settings, AddressPolicy::Any)
    }

    /// A layer for URLs our users give us (outbound webhooks): see
    /// [`AddressPolicy::PublicOnly`].
    pub fn with_policy(settings: HttpSettings, policy: AddressPolicy) -> Self {
        let resolver = AddressResolver {
            system: hyper_util::client::legacy::connect::dns::GaiResolver::new(),
            policy,
        };
        let mut http = HttpConnector::new_with_resolver(resolver);
        http.set_connect_timeout(Some(settings.connect_timeout));
        http.set_nodelay(true);
        http.enforce_http(false);
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            // Plain http is only ever configured for loopback fakes (config.rs).
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            // Lambda freezes the process between invocations; providers close
            // idle sockets meanwhile. Drop ours early rather than reuse a dead one.
            .pool_idle_timeout(Duration::from_secs(20))
            .pool_timer(TokioTimer::new())
            .build(https);
        HttpLayer {
            client,
            settings,
            status_only: false,
        }
    }

    /// Answers carry status and headers only; the body is dropped unread
    /// (outbound webhooks: the spec judges by status).
    pub fn status_only(mut self) -> Self {
        self.status_only = true;
        self
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends `request`, retrying as the endpoint's rules allow. Returns the
    /// last response received (whatever its status), or why none came.
    pub async fn send(
        &self,
        endpoint: &Endpoint,
        request: OutboundRequest,
    ) -> Result<ProviderResponse, CallFailed> {
        let started = Instant::now();
        let deadline = started + self.settings.total_timeout;
        let mut throttled = Duration::ZERO;
        let mut attempts = 0;
        let result = loop {
            throttled += wait_for_turn(endpoint).await;
            attempts += 1;
            let outcome = self.attempt_before(&request, deadline).await;
            let view = match &outcome {
                Ok(response) => AttemptOutcome::Response {
                    status: response.status,
                    headers: &response.headers,
                },
                Err(error) => AttemptOutcome::Failed(error),
            };
            let forbidden_throttle = endpoint.forbidden_is_rate_limit
                && matches!(&view, AttemptOutcome::Response { status, .. } if status.as_u16() == 403);
            let retry = attempts < self.settings.max_attempts
                && (forbidden_throttle || endpoint.rules.should_retry(&view, request.idempotent));
            if !retry {
                break outcome;
            }
            let delay = self.retry_delay(attempts, &outcome, forbidden_throttle);
            if !fits_before(deadline, delay) {
                // Waiting would overrun our budget: report what we have.
                break outcome;
            }
            tracing::warn!(
                provider = endpoint.provider,
                operation = request.operation,
                attempt = attempts,
                outcome = %describe(&view),
                delay_ms = delay.as_millis() as u64,
                "provider call failed, retrying"
            );
            tokio::time::sleep(delay).await;
        };
        report_call(endpoint, &request, &result, attempts, started, throttled);
        match result {
            Ok(mut response) => {
                response.attempts = attempts;
                Ok(response)
            }
            Err(error) => Err(CallFailed { error, attempts }),
        }
    }

    /// One attempt, given the attempt timeout or what is left before
    /// `deadline`, whichever is shorter.
    async fn attempt_before(
        &self,
        request: &OutboundRequest,
        deadline: Instant,
    ) -> Result<ProviderResponse, TransportError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let attempt_timeout = self.settings.attempt_timeout.min(remaining);
        match tokio::time::timeout(attempt_timeout, self.attempt(request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout),
        }
    }

    /// How long to wait before attempt `attempts + 1`: the backoff, or
    /// longer when the provider asked (`Retry-After`) or throttled with a 403.
    fn retry_delay(
        &self,
        attempts: u32,
        outcome: &Result<ProviderResponse, TransportError>,
        forbidden_throttle: bool,
    ) -> Duration {
        let hinted = match outcome {
            Ok(response) => retry_after(&response.headers, SystemTime::now()),
            Err(_) => None,
        };
        backoff(
            attempts,
            self.settings.initial_backoff,
            self.settings.max_backoff,
            fastrand::f64(),
        )
        .max(hinted.unwrap_or_default())
        .max(if forbidden_throttle {
            FORBIDDEN_THROTTLE_BACKOFF
        } else {
            Duration::ZERO
        })
    }

    async fn attempt(&self, request: &OutboundRequest) -> Result<ProviderResponse, TransportError> {
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(Full::new(request.body.clone()))
            .map_err(|e| TransportError::InvalidRequest(e.to_string()))?;
        let response = self.client.request(http_request).await.map_err(|e| {
            if let Some(refused) = find_refused(&e) {
                TransportError::RefusedAddress(refused)
            } else if e.is_connect() {
                TransportError::Connect(error_chain(&e))
            } else {
                TransportError::Io(error_chain(&e))
            }
        })?;
        let (parts, body) = response.into_parts();
        if self.status_only {
            drop(body);
            return Ok(ProviderResponse {
                status: parts.status,
                headers: parts.headers,
                body: Bytes::new(),
                attempts: 1,
            });
        }
        let body = Limited::new(body, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    TransportError::ResponseTooLarge
                } else {
                    TransportError::Io(e.to_string())
                }
            })?
            .to_bytes();
        Ok(ProviderResponse {
            status: parts.status,
            headers: parts.headers,
            body,
            attempts: 1,
        })
    }
}

/// Waits for the endpoint's own rate limit and every group it is in;
/// returns how long that took.
async fn wait_for_turn(endpoint: &Endpoint) -> Duration {
    let wait = Instant::now();
    if let Some(limiter) = &endpoint.limiter {
        limiter.until_ready().await;
    }
    for group in &endpoint.groups {
        group.0.until_ready().await;
    }
    wait.elapsed()
}

/// One provider call's metrics and log line, whatever its result.
fn report_call(
    endpoint: &Endpoint,
    request: &OutboundRequest,
    result: &Result<ProviderResponse, TransportError>,
    attempts: u32,
    started: Instant,
    throttled: Duration,
) {
    let status = result.as_ref().map(|r| r.status.as_u16()).unwrap_or(0);
    let request_id = result.as_ref().ok().and_then(|r| {
        endpoint
            .request_id_header
            .and_then(|h| r.headers.get(h))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    telemetry::emit_provider_call(&ProviderCallMetrics {
        provider: endpoint.provider,
        operation: request.operation,
        status,
        timed_out: matches!(result, Err(TransportError::Timeout)),
        forbidden_is_rate_limit: endpoint.forbidden_is_rate_limit,
        attempts,
        latency: started.elapsed(),
        throttled,
    });
    tracing::info!(
        provider = endpoint.provider,
        operation = request.operation,
        status,
        attempts,
        latency_ms = started.elapsed().as_millis() as u64,
        provider_request_id = request_id.as_deref().unwrap_or(""),
        "provider call"
    );
}

fn describe(outcome: &AttemptOutcome<'_>) -> String {
    match outcome {
        AttemptOutcome::Response { status, .. } => format!("HTTP {}", status.as_u16()),
        AttemptOutcome::Failed(e) => e.to_string(),
    }
}

fn find_refused(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<RefusedAddress>() {
            return Some(refused.to_string());
        }
        source = s.source();
    }
    None
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A header value that `Debug` never prints and HTTP/2 would never index.
pub fn sensitive_header(value: &str) -> Result<HeaderValue, TransportError> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| TransportError::InvalidRequest("header value is not valid".into()))?;
    v.set_sensitive(true);
    Ok(v)
}

pub fn header_name(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_never_drops_below_initial() {
        let i = Duration::from_millis(500);
        let m = Duration::from_secs(5);
        assert_eq!(backoff(1, i, m, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(2, i, m, 1.0), Duration::from_millis(1000));
        assert_eq!(backoff(3, i, m, 1.0), Duration::from_millis(2000));
        assert_eq!(backoff(10, i, m, 1.0), m);
        assert_eq!(backoff(3, i, m, 0.0), Duration::from_millis(1000));
        assert_eq!(backoff(1, i, m, 0.0), i, "jitter never goes below initial");
        assert_eq!(backoff(60, i, m, 0.5), m.mul_f64(0.75));
    }

    #[test]
    fn a_huge_retry_after_is_not_waited_for_and_does_not_panic() {
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("18446744073709551615"),
        );
        let hinted = retry_after(&h, SystemTime::now()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        assert!(!fits_before(deadline, hinted));
        assert!(!fits_before(deadline, Duration::MAX));
        assert!(fits_before(deadline, Duration::from_millis(10)));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_secs(7))
        );
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        let now =
            SystemTime::from(time::OffsetDateTime::from_unix_timestamp(1_445_412_470).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn standard_rules_retry_only_what_is_safe() {
        let rules = StandardRetryRules;
        let h = HeaderMap::new();
        let resp = |code| AttemptOutcome::Response {
            status: StatusCode::from_u16(code).unwrap(),
            headers: &h,
        };
        assert!(rules.should_retry(&resp(429), false));
        assert!(!rules.should_retry(&resp(503), false));
        assert!(rules.should_retry(&resp(503), true));
        assert!(!rules.should_retry(&resp(500), false));
        assert!(rules.should_retry(&resp(500), true));
        assert!(!rules.should_retry(&resp(400), true));
        let timeout = TransportError::Timeout;
        assert!(!rules.should_retry(&AttemptOutcome::Failed(&timeout), false));
        assert!(rules.should_retry(&AttemptOutcome::Failed(&timeout), true));
        let refused = TransportError::Connect("refused".into());
        assert!(rules.should_retry(&AttemptOutcome::Failed(&refused), false));
    }

    /// A name resolving to loopback, with a listener behind it: the guarded
    /// layer refuses after resolution and never connects; the open layer
    /// (and the local-development flag) reach it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn public_only_refuses_a_name_resolving_inside_and_never_connects() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            // Counts connections and closes them: reaching it is the point.
            while let Ok((_socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let settings = HttpSettings {
            connect_timeout: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(3),
            max_attempts: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        };
        let request = || OutboundRequest {
            operation: "deliver",
            method: Method::POST,
            url: format!("http://localhost:{port}/hook"),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            idempotent: true,
        };
        let endpoint = Endpoint::new("test", StandardRetryRules);
        let guarded = HttpLayer::with_policy(
            settings.clone(),
            AddressPolicy::PublicOnly {
                allow_loopback: false,
            },
        );
        let refused = guarded.send(&endpoint, request()).await.unwrap_err();
        assert!(
            matches!(refused.error, TransportError::RefusedAddress(_)),
            "{refused:?}"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 0, "never connected");
        let local = HttpLayer::with_policy(
            settings.clone(),
            AddressPolicy::PublicOnly {
                allow_loopback: true,
            },
        );
        let reached = local.send(&endpoint, request()).await;
        assert!(!matches!(
            reached,
            Err(CallFailed {
                error: TransportError::RefusedAddress(_),
                ..
            })
        ));
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        let _ = HttpLayer::new(settings).send(&endpoint, request()).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn sensitive_headers_do_not_debug_print() {
        let v = sensitive_header("Bearer sk_live_123").unwrap();
        assert!(!format!("{v:?}").contains("sk_live_123"));
    }
}
