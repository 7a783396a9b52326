//! Signed outbound events for ERP, CRM and accounting endpoints, by the
//! Standard Webhooks specification (docs/outbound-webhooks-wire.md): the
//! subscriptions, the signature, the retry schedule, the endpoint's health
//! and which addresses we refuse to call. Pure: no I/O, no clock.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::domain::event::DetailType;
use crate::error::{Error, Result};

/// The spec's prefix of a symmetric secret as shown to consumers (W3).
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a secret we generate (the spec: at least 24, W3).
pub const SECRET_BYTES: usize = 32;
/// How long a rotated-out secret still signs (issue 15: 24 h).
pub const PREVIOUS_SECRET_VALID_MS: i64 = 24 * 3600 * 1000;

/// The Standard Webhooks example schedule (W7): the delay before attempt
/// 2, 3, …, 10, counted from the previous attempt. It spans 75 h 35 min,
/// over three days.
pub const RETRY_SCHEDULE: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// A `Retry-After` longer than this is not waited for beyond it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Event types a subscription may name: every domain event, or `*`, or a
/// prefix ending in `.*` (`payment.*`).
pub fn known_event_type(name: &str) -> bool {
    DetailType::ALL.iter().any(|t| t.as_str() == name)
}

/// A secret as the consumer sees it (`whsec_<base64>`), decoded to the key bytes.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| Error::Internal("a signing secret is not base64".into()))
}

/// `whsec_` + base64 of `bytes` (which must come from a CSPRNG).
pub fn encode_secret(bytes: &[u8]) -> Secret {
    Secret::new(format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// The body we send: the spec's recommended shape (W1) around the domain
/// event's `detail` exactly as docs/events.md documents it.
pub fn webhook_body(event_type: &str, occurred_at: &str, detail: &serde_json::Value) -> String {
    serde_json::json!({ "type": event_type, "timestamp": occurred_at, "data": detail }).to_string()
}

/// A subscription as stored (secrets included; never serialized to an answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub active: bool,
    /// Requests per second to this endpoint from one function instance.
    pub rate_limit_per_second: u32,
    pub secret: Secret,
    /// The secret before the last rotation, and until when (epoch ms) it signs too.
    pub previous_secret: Option<(Secret, i64)>,
    /// First failure since the last success (epoch ms).
    pub failing_since_ms: Option<i64>,
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Subscription {
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && self.matches(event_type)
    }

    /// Disabled by us (failing or gone), not by the merchant: events it
    /// matches are kept, held, for a replay after re-enabling.
    pub fn holds(&self, event_type: &str) -> bool {
        !self.active && self.disabled_reason.is_some() && self.matches(event_type)
    }

    /// Its event types name this one (active or not).
    pub fn matches(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| {
            t == "*"
                || t == event_type
                || t.strip_suffix('*')
                    .is_some_and(|prefix| prefix.ends_with('.') && event_type.starts_with(prefix))
        })
    }

    /// The keys that sign now: the current secret, and the previous one
    /// while its 24 hours last.
    pub fn signing_keys(&self, now_ms: i64) -> Result<Vec<Vec<u8>>> {
        let mut keys = vec![decode_secret(self.secret.expose())?];
        if let Some((previous, until)) = &self.previous_secret {
            if now_ms < *until {
                keys.push(decode_secret(previous.expose())?);
            }
        }
        Ok(keys)
    }

    /// What the routes answer: no secret.
    pub fn view(&self) -> SubscriptionView {
        SubscriptionView {
            id: self.id.clone(),
            url: self.url.clone(),
            event_types: self.event_types.clone(),
            description: self.description.clone(),
            active: self.active,
            rate_limit_per_second: self.rate_limit_per_second,
            previous_secret_valid_until_ms: self.previous_secret.as_ref().map(|(_, until)| *until),
            failing_since_ms: self.failing_since_ms,
            disabled_reason: self.disabled_reason.clone(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub active: bool,
    pub rate_limit_per_second: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /subscriptions` and `PUT /subscriptions/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionInput {
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_true")]
    pub active: bool,
    pub rate_limit_per_second: Option<u32>,
}

fn default_true() -> bool {
    true
}

pub const DEFAULT_RATE_LIMIT: u32 = 10;
pub const MAX_RATE_LIMIT: u32 = 100;

impl SubscriptionInput {
    /// Checks everything a caller can get wrong; `allow_loopback` is the
    /// local-development flag (`OUTBOUND_ALLOW_LOOPBACK`).
    pub fn validate(&self, allow_loopback: bool) -> Result<()> {
        validate_endpoint_url(&self.url, allow_loopback)?;
        if self.event_types.is_empty() || self.event_types.len() > 50 {
            return Err(Error::validation("eventTypes", "1 to 50 event types"));
        }
        for t in &self.event_types {
            let prefix_ok = t.strip_suffix(".*").is_some_and(|p| {
                DetailType::ALL
                    .iter()
                    .any(|d| d.as_str().starts_with(&format!("{p}.")))
            });
            if !(t == "*" || known_event_type(t) || prefix_ok) {
                return Err(Error::validation(
                    "eventTypes",
                    format!(
                        "unknown event type {:?} (see docs/events.md)",
                        t.chars().take(60).collect::<String>()
                    ),
                ));
            }
        }
        if self.description.chars().count() > 500 {
            return Err(Error::validation("description", "at most 500 characters"));
        }
        if let Some(r) = self.rate_limit_per_second {
            if !(1..=MAX_RATE_LIMIT).contains(&r) {
                return Err(Error::validation(
                    "rateLimitPerSecond",
                    format!("1–{MAX_RATE_LIMIT}"),
                ));
            }
        }
        Ok(())
    }
}

/// An endpoint URL: https (plain http only to loopback with the
/// local-development flag), no credentials in it, and a host that is not
/// an address we refuse. A name is checked again, resolved, at each
/// connection (`providers::http` pins the checked address).
pub fn validate_endpoint_url(url: &str, allow_loopback: bool) -> Result<()> {
    let bad = |why: &str| Err(Error::validation("url", why.to_string()));
    if url.len() > 2048 {
        return bad("at most 2048 characters");
    }
    let Ok(uri) = url.parse::<http::Uri>() else {
        return bad("not a URL");
    };
    let Some(authority) = uri.authority() else {
        return bad("not an absolute URL");
    };
    if authority.as_str().contains('@') {
        return bad("credentials in the URL are not allowed");
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let ip = host.parse::<IpAddr>().ok();
    let loopback_host =
        host.eq_ignore_ascii_case("localhost") || ip.is_some_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if allow_loopback && loopback_host => {}
        _ => return bad("must be https://"),
    }
    if host.eq_ignore_ascii_case("localhost") && !allow_loopback {
        return bad("refused address");
    }
    if let Some(ip) = ip {
        if let Some(why) = refused_address(ip, allow_loopback) {
            return Err(Error::validation("url", format!("refused address ({why})")));
        }
    }
    Ok(())
}

/// Why an address must not be called, or `None` when it may. Loopback is
/// allowed only by the local-development flag; nothing else ever is.
pub fn refused_address(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4, allow_loopback),
        IpAddr::V6(v6) => refused_v6(v6, allow_loopback),
    }
}

fn refused_v4(ip: Ipv4Addr, allow_loopback: bool) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return (!allow_loopback).then_some("loopback");
    }
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        return Some("metadata");
    }
    if ip.is_link_local() {
        return Some("link-local");
    }
    if ip.is_private() {
        return Some("private");
    }
    if a == 100 && (64..128).contains(&b) {
        return Some("shared address space (CGNAT)");
    }
    if ip.is_unspecified() || a == 0 {
        return Some("this network");
    }
    if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        return Some("broadcast, multicast or reserved");
    }
    if (a == 192 && b == 0 && c == 0) || (a == 198 && (b == 18 || b == 19)) {
        return Some("special purpose");
    }
    if ip.is_documentation() {
        return Some("documentation");
    }
    None
}

fn refused_v6(ip: Ipv6Addr, allow_loopback: bool) -> Option<&'static str> {
    if ip.is_loopback() {
        return (!allow_loopback).then_some("loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4, allow_loopback);
    }
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("metadata");
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if (s[0] & 0xfe00) == 0xfc00 {
        return Some("unique local");
    }
    if (s[0] & 0xffc0) == 0xfe80 {
        return Some("link-local");
    }
    if (s[0] & 0xff00) == 0xff00 {
        return Some("multicast");
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return refused_v4(v4, false);
    }
    if s[0] == 0x2001 && s[1] == 0xdb8 {
        return Some("documentation");
    }
    // Forms that embed or tunnel to an IPv4 address, and deprecated
    // site-local: refused whole (no public endpoint needs them).
    if s[0..6] == [0, 0, 0, 0, 0, 0] {
        return Some("IPv4-compatible");
    }
    if s[0] == 0x2002 {
        return Some("6to4");
    }
    if s[0] == 0x2001 && s[1] == 0 {
        return Some("Teredo");
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        return Some("local-use NAT64");
    }
    if (s[0] & 0xffc0) == 0xfec0 {
        return Some("site-local");
    }
    None
}

/// Where one delivery (one event to one endpoint) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt (`next_attempt_ms`).
    Pending,
    /// An attempt is under way until `lease_until_ms`.
    Sending,
    Delivered,
    /// The schedule ran out; a replay starts it again.
    Failed,
}

/// One attempt, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptLog {
    pub at_ms: i64,
    /// The endpoint's HTTP status; absent when no answer came.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// `timeout`, `connect`, `refused_address`, `io`, `redirect` … when it failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    Delivered,
    /// Try again later, no sooner than `retry_after` if the endpoint said so.
    Failed {
        retry_after: Option<Duration>,
    },
    /// 410 Gone: the endpoint wants no more (W8): disable it.
    Gone,
}

/// The spec's success and failure rules (W8): 2xx only is success; a
/// redirect is a failure (never followed).
pub fn judge_status(status: u16, retry_after: Option<Duration>) -> AttemptResult {
    match status {
        200..=299 => AttemptResult::Delivered,
        410 => AttemptResult::Gone,
        _ => AttemptResult::Failed { retry_after },
    }
}

/// When the next attempt is due after a failed one, or `None` when the
/// schedule is exhausted. `attempts_in_series` counts the attempts since
/// the delivery started or was last replayed (the failed one included);
/// `jitter` in 0..1 spreads the delay by ±10 % so a recovered endpoint is
/// not hit by every waiting delivery at once.
pub fn next_attempt_ms(
    now_ms: i64,
    attempts_in_series: u32,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Option<i64> {
    let delay = RETRY_SCHEDULE.get(attempts_in_series.checked_sub(1)? as usize)?;
    let jittered = delay.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0));
    let wait = jittered.max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER));
    Some(now_ms + wait.as_millis() as i64)
}

/// What a failed attempt means for its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointHealth {
    /// First failure since a success: remember since when.
    StartsFailing,
    /// Failing, but not for the whole window yet.
    StillFailing,
    /// Only failures for the whole window (or a 410): disable it.
    Disable,
}

pub fn after_failure(
    failing_since_ms: Option<i64>,
    now_ms: i64,
    window_ms: i64,
    gone: bool,
) -> EndpointHealth {
    if gone {
        return EndpointHealth::Disable;
    }
    match failing_since_ms {
        None => EndpointHealth::StartsFailing,
        Some(since) if now_ms - since >= window_ms => EndpointHealth::Disable,
        Some(_) => EndpointHealth::StillFailing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(types: &[&str]) -> Subscription {
        Subscription {
            id: "sub_1".into(),
            url: "https://erp.example.com/hook".into(),
            event_types: types.iter().map(|s| s.to_string()).collect(),
            description: String::new(),
            active: true,
            rate_limit_per_second: 10,
            secret: Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            previous_secret: None,
            failing_since_ms: None,
            disabled_reason: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn both_secrets_sign_during_a_rotation_and_only_the_new_after() {
        let mut s = sub(&["*"]);
        s.previous_secret = Some((encode_secret(&[7u8; 32]), 1_000));
        assert_eq!(s.signing_keys(999).unwrap().len(), 2);
        assert_eq!(s.signing_keys(1_000).unwrap().len(), 1);
        let h = crate::providers::signing::standard_webhooks_signature(
            &s.signing_keys(0).unwrap(),
            "a",
            1,
            b"{}",
        );
        assert_eq!(h.split(' ').count(), 2);
        assert!(h.split(' ').all(|p| p.starts_with("v1,")));
    }

    #[test]
    fn generated_secrets_have_the_prefix_and_decode_back() {
        let s = encode_secret(&[1u8; SECRET_BYTES]);
        assert!(s.expose().starts_with("whsec_"));
        assert_eq!(decode_secret(s.expose()).unwrap(), vec![1u8; SECRET_BYTES]);
    }

    #[test]
    fn matches_types_exactly_by_prefix_or_all_and_only_while_active() {
        let s = sub(&["payment.*", "shipment.created"]);
        assert!(s.wants("payment.completed"));
        assert!(s.wants("shipment.created"));
        assert!(!s.wants("shipment.status_changed"));
        assert!(!s.wants("paymentx.completed"));
        assert!(sub(&["*"]).wants("integration.error"));
        let mut off = sub(&["*"]);
        off.active = false;
        assert!(!off.wants("payment.completed"));
    }

    #[test]
    fn input_validation_names_the_field() {
        let input = |url: &str, types: &[&str]| SubscriptionInput {
            url: url.into(),
            event_types: types.iter().map(|s| s.to_string()).collect(),
            description: String::new(),
            active: true,
            rate_limit_per_second: None,
        };
        assert!(input("https://erp.example.com/h", &["payment.*"])
            .validate(false)
            .is_ok());
        assert!(input("https://erp.example.com/h", &["payment.paid"])
            .validate(false)
            .is_err());
        assert!(input("https://erp.example.com/h", &["nothing.*"])
            .validate(false)
            .is_err());
        assert!(input("https://erp.example.com/h", &[])
            .validate(false)
            .is_err());
        assert!(input("http://erp.example.com/h", &["*"])
            .validate(false)
            .is_err());
        assert!(input("http://127.0.0.1:9/h", &["*"])
            .validate(false)
            .is_err());
        assert!(input("http://127.0.0.1:9/h", &["*"]).validate(true).is_ok());
        assert!(input("http://erp.example.com/h", &["*"])
            .validate(true)
            .is_err());
        assert!(input("https://u:p@erp.example.com/h", &["*"])
            .validate(false)
            .is_err());
        assert!(input("https://169.254.169.254/latest", &["*"])
            .validate(true)
            .is_err());
        assert!(input("https://[fd00:ec2::254]/", &["*"])
            .validate(true)
            .is_err());
        assert!(input("https://10.0.0.1/", &["*"]).validate(false).is_err());
        assert!(input("https://localhost/", &["*"]).validate(false).is_err());
    }

    #[test]
    fn refuses_internal_addresses() {
        let refused = |s: &str| refused_address(s.parse().unwrap(), false);
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "192.0.0.1",
        ] {
            assert!(refused(ip).is_some(), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "100.128.0.1",
            "8.8.8.8",
            "2606:4700::1111",
            "172.32.0.1",
        ] {
            assert_eq!(refused(ip), None, "{ip} is public");
        }
        assert_eq!(refused_address("127.0.0.1".parse().unwrap(), true), None);
        assert_eq!(refused_address("::1".parse().unwrap(), true), None);
        assert!(refused_address("10.0.0.1".parse().unwrap(), true).is_some());
    }

    #[test]
    fn refuses_ipv6_forms_that_embed_or_tunnel_to_ipv4() {
        for (ip, why) in [
            ("::a9fe:a9fe", "IPv4-compatible"),
            ("::7f00:1", "IPv4-compatible"),
            ("2002:a9fe:a9fe::1", "6to4"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("64:ff9b:1::a9fe:a9fe", "local-use NAT64"),
            ("fec0::1", "site-local"),
            ("feff::1", "site-local"),
        ] {
            assert_eq!(
                refused_address(ip.parse().unwrap(), false),
                Some(why),
                "{ip}"
            );
        }
        // Neighbours stay public.
        for ip in ["2001:4860::8888", "2003::1", "64:ff9b:2::1"] {
            assert_eq!(refused_address(ip.parse().unwrap(), false), None, "{ip}");
        }
    }

    #[test]
    fn the_schedule_spans_over_three_days_then_stops() {
        let total: Duration = RETRY_SCHEDULE.iter().sum();
        assert!(total > Duration::from_secs(3 * 24 * 3600), "{total:?}");
        assert_eq!(next_attempt_ms(0, 1, None, 0.5), Some(5_000));
        assert_eq!(next_attempt_ms(0, 2, None, 0.5), Some(300_000));
        assert_eq!(next_attempt_ms(0, 9, None, 0.5), Some(24 * 3600 * 1000));
        assert_eq!(
            next_attempt_ms(0, 10, None, 0.5),
            None,
            "ten attempts, then failed"
        );
        assert_eq!(next_attempt_ms(0, 0, None, 0.5), None);
        assert_eq!(next_attempt_ms(0, 1, None, 0.0), Some(4_500));
        assert_eq!(next_attempt_ms(0, 1, None, 1.0), Some(5_500));
        assert_eq!(
            next_attempt_ms(0, 1, Some(Duration::from_secs(60)), 0.5),
            Some(60_000),
            "Retry-After is honoured"
        );
        assert_eq!(
            next_attempt_ms(0, 1, Some(Duration::from_secs(10 * 86_400)), 0.5),
            Some(86_400_000),
            "but not beyond a day"
        );
    }

    #[test]
    fn statuses_follow_the_spec() {
        assert_eq!(judge_status(204, None), AttemptResult::Delivered);
        assert_eq!(
            judge_status(301, None),
            AttemptResult::Failed { retry_after: None }
        );
        assert_eq!(judge_status(410, None), AttemptResult::Gone);
        assert_eq!(
            judge_status(500, None),
            AttemptResult::Failed { retry_after: None }
        );
    }

    #[test]
    fn an_endpoint_is_disabled_after_the_whole_window_of_failures() {
        let day = 86_400_000;
        assert_eq!(
            after_failure(None, 10, 5 * day, false),
            EndpointHealth::StartsFailing
        );
        assert_eq!(
            after_failure(Some(0), 5 * day - 1, 5 * day, false),
            EndpointHealth::StillFailing
        );
        assert_eq!(
            after_failure(Some(0), 5 * day, 5 * day, false),
            EndpointHealth::Disable
        );
        assert_eq!(
            after_failure(None, 0, 5 * day, true),
            EndpointHealth::Disable
        );
    }

    #[test]
    fn the_body_wraps_the_documented_detail() {
        let body = webhook_body(
            "payment.completed",
            "2026-11-26T10:00:00Z",
            &serde_json::json!({"eventId": "stripe:evt_1", "orderId": "o-1"}),
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["type"], "payment.completed");
        assert_eq!(v["timestamp"], "2026-11-26T10:00:00Z");
        assert_eq!(v["data"]["eventId"], "stripe:evt_1");
    }
}
