//! The outbound-event functions' knobs (subscriptions and deliveries).

use std::time::Duration;

use crate::config::{parsed, required, Source};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// `OUTBOUND_QUEUE_URL`: the queue of domain events and delivery
    /// wake-ups (retries, replays) the deliveries function consumes.
    pub queue_url: String,
    /// `OUTBOUND_ALLOW_LOOPBACK`: local development and tests only — lets a
    /// subscription name `http://127.0.0.1:…` (a local receiver). Never set
    /// in a deployed stack (template.yaml does not pass it).
    pub allow_loopback: bool,
    /// `OUTBOUND_DISABLE_AFTER_HOURS`: an endpoint that only failed for this
    /// long is disabled (default 120 h, five days).
    pub disable_after: Duration,
    /// `OUTBOUND_TIMEOUT_MS`: one request to an endpoint (the spec
    /// recommends 15–30 s; default 15 s).
    pub request_timeout: Duration,
    /// `OUTBOUND_LOG_DAYS`: how long a delivery and its log are kept (TTL).
    pub log_days: u32,
}

impl OutboundSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let hours: u64 = parsed(env, "OUTBOUND_DISABLE_AFTER_HOURS", 120)?;
        let timeout_ms: u64 = parsed(env, "OUTBOUND_TIMEOUT_MS", 15_000)?;
        let log_days: u32 = parsed(env, "OUTBOUND_LOG_DAYS", 30)?;
        if hours == 0 || !(1_000..=30_000).contains(&timeout_ms) || !(5..=365).contains(&log_days) {
            return Err(Error::Config(
                "OUTBOUND_DISABLE_AFTER_HOURS ≥ 1, OUTBOUND_TIMEOUT_MS 1000–30000, OUTBOUND_LOG_DAYS 5–365"
                    .into(),
            ));
        }
        Ok(OutboundSettings {
            queue_url: required(env, "OUTBOUND_QUEUE_URL")?,
            allow_loopback: parsed(env, "OUTBOUND_ALLOW_LOOPBACK", false)?,
            disable_after: Duration::from_secs(hours * 3600),
            request_timeout: Duration::from_millis(timeout_ms),
            log_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

    #[test]
    fn defaults_and_limits() {
        let s = OutboundSettings::from_env(&env(&[("OUTBOUND_QUEUE_URL", "q")])).unwrap();
        assert!(!s.allow_loopback);
        assert_eq!(s.disable_after, Duration::from_secs(5 * 86_400));
        assert_eq!(s.request_timeout, Duration::from_secs(15));
        assert!(OutboundSettings::from_env(&env(&[])).is_err());
        assert!(OutboundSettings::from_env(&env(&[
            ("OUTBOUND_QUEUE_URL", "q"),
            ("OUTBOUND_TIMEOUT_MS", "60000")
        ]))
        .is_err());
    }
}
