//! Typed settings, read once at init from the environment. The variable names
//! are set in template.yaml and listed in README.md; nothing else reads `std::env`
//! (the AWS SDK's own AWS_* variables excepted).

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

mod accounting;
mod marketplaces;
mod operations;
mod outbound;
mod payments;
mod reconcile;
mod shipping;
mod webhooks;

pub use accounting::{
    cargo_companies, invoice_link_template, ParasutSettings, StorefrontInvoiceSettings,
};
pub use marketplaces::{
    claim_policy, personal_data_retention, CatalogSettings, HepsiburadaSettings, OrderPollSettings,
    TrendyolGroupLimits, TrendyolSettings, TrendyolTier,
};
pub use operations::OperationsSettings;
pub use outbound::OutboundSettings;
pub use payments::{
    auto_refund_unwanted_payments, IyzicoSettings, StripeSettings, DEFAULT_STRIPE_API_VERSION,
};
pub use reconcile::ReconcileSettings;
pub use shipping::{aras_tariff, ArasSettings, TrackingPushSettings};
pub use webhooks::{InboundCredentials, WebhookSettings};

/// A secret value: its `Debug`/`Display` never print it, so it cannot leak
/// through a `{:?}` in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The only way to read the value; grep for `expose` to audit its uses.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where settings come from: the process environment in Lambda, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The EventBridge bus the function publishes on (set by template.yaml).
pub fn event_bus_name(env: &dyn Source) -> Result<String> {
    required(env, "EVENT_BUS_NAME")
}

fn required(env: &dyn Source, name: &str) -> Result<String> {
    env.get(name)
        .ok_or_else(|| Error::Config(format!("environment variable {name} is not set")))
}

fn parsed<T: std::str::FromStr>(env: &dyn Source, name: &str, default: T) -> Result<T> {
    match env.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| Error::Config(format!("{name}={v:?} is not a valid value"))),
    }
}

/// A provider base URL must be HTTPS, except on loopback (local fakes).
pub(crate) fn base_url(env: &dyn Source, name: &str, default: &str) -> Result<String> {
    let url = env.get(name).unwrap_or_else(|| default.to_string());
    let url = url.trim_end_matches('/').to_string();
    let uri: http::Uri = url
        .parse()
        .map_err(|_| Error::Config(format!("{name}={url:?} is not a URL")))?;
    let host = uri.host().unwrap_or_default();
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1");
    match uri.scheme_str() {
        Some("https") => Ok(url),
        Some("http") if loopback => Ok(url),
        _ => Err(Error::Config(format!(
            "{name}={url:?} must be an https:// URL (plain http only on loopback)"
        ))),
    }
}

/// An optional setting: `None` when unset, empty or `-`. The template sets
/// `-` for what a merchant does not use (CloudFormation parameters and
/// Secrets Manager keys cannot be empty); this is the one place that rule is
/// written.
pub fn optional(env: &dyn Source, name: &str) -> Option<String> {
    env.get(name).filter(|v| v != "-" && !v.trim().is_empty())
}

/// The DynamoDB single table.
pub fn table_name(env: &dyn Source) -> Result<String> {
    required(env, "TABLE_NAME")
}

/// Timeouts and retries of the outbound provider HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    /// One attempt, from sending to the last body byte.
    pub attempt_timeout: Duration,
    /// All attempts and backoff sleeps together; keep it below the function timeout.
    pub total_timeout: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl HttpSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let ms = |name, default| parsed(env, name, default).map(Duration::from_millis);
        let settings = HttpSettings {
            connect_timeout: ms("HTTP_CONNECT_TIMEOUT_MS", 3_000)?,
            attempt_timeout: ms("HTTP_ATTEMPT_TIMEOUT_MS", 10_000)?,
            total_timeout: ms("HTTP_TOTAL_TIMEOUT_MS", 20_000)?,
            max_attempts: parsed(env, "HTTP_MAX_ATTEMPTS", 3)?,
            initial_backoff: ms("HTTP_INITIAL_BACKOFF_MS", 500)?,
            max_backoff: ms("HTTP_MAX_BACKOFF_MS", 5_000)?,
        };
        if settings.max_attempts == 0 {
            return Err(Error::Config("HTTP_MAX_ATTEMPTS must be at least 1".into()));
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Settings from `pairs` (the config tests' environment).
    pub(crate) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("sk_live_abc");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let settings =
            StripeSettings::from_env(&env(&[("STRIPE_SECRET_KEY", "sk_live_abc")])).unwrap();
        assert!(!format!("{settings:?}").contains("sk_live_abc"));
        assert_eq!(settings.api_base, "https://api.stripe.com");
        assert_eq!(settings.api_version, DEFAULT_STRIPE_API_VERSION);
    }

    #[test]
    fn rejects_plain_http_except_loopback_and_bad_keys() {
        let with_base = |base| {
            StripeSettings::from_env(&env(&[
                ("STRIPE_SECRET_KEY", "sk_test_x"),
                ("STRIPE_API_BASE", base),
            ]))
        };
        assert!(with_base("http://127.0.0.1:8111/").is_ok());
        assert_eq!(
            with_base("http://127.0.0.1:8111/").unwrap().api_base,
            "http://127.0.0.1:8111"
        );
        assert!(with_base("http://stripe.example.com").is_err());
        let err = StripeSettings::from_env(&env(&[("STRIPE_SECRET_KEY", "pk_live_oops")]))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pk_live_oops"), "{err}");
    }

    #[test]
    fn http_settings_have_defaults_and_validate() {
        let s = HttpSettings::from_env(&env(&[])).unwrap();
        assert_eq!(s.max_attempts, 3);
        assert!(HttpSettings::from_env(&env(&[("HTTP_MAX_ATTEMPTS", "0")])).is_err());
        assert!(HttpSettings::from_env(&env(&[("HTTP_ATTEMPT_TIMEOUT_MS", "ten")])).is_err());
    }
}
