//! The webhook function's secrets: which providers it takes webhooks from,
//! and how each one authenticates.

use crate::config::{optional, Secret, Source};
use crate::domain::marketplace::{Marketplace, Marketplaces};
use crate::domain::marketplace_order_details::PersonalDataRetention;
use crate::error::{Error, Result};

/// Stripe's default tolerance for the signed timestamp (its libraries use 300 s).
const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Which providers are enabled, with their secrets. A provider without
/// secrets is answered 404, as if it did not exist.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// Every active endpoint secret (`whsec_…`); two during a rotation.
    pub stripe_secrets: Vec<Secret>,
    pub stripe_tolerance_secs: i64,
    pub iyzico_secret_key: Option<Secret>,
    pub marketplaces: Marketplaces<Option<InboundCredentials>>,
    /// How long marketplace buyers' personal data is kept.
    pub personal_data_retention: PersonalDataRetention,
}

impl WebhookSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let stripe_secrets = optional(env, "STRIPE_WEBHOOK_SECRETS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
                    .collect()
            })
            .unwrap_or_default();
        let tolerance = match env.get("STRIPE_WEBHOOK_TOLERANCE_SECS") {
            None => DEFAULT_TOLERANCE_SECS,
            Some(v) => v.parse().map_err(|_| {
                Error::Config(format!(
                    "STRIPE_WEBHOOK_TOLERANCE_SECS={v:?} is not a number"
                ))
            })?,
        };
        Ok(WebhookSettings {
            stripe_secrets,
            stripe_tolerance_secs: tolerance,
            iyzico_secret_key: optional(env, "IYZICO_SECRET_KEY").map(Secret::new),
            marketplaces: inbound_credentials(env),
            personal_data_retention: super::marketplaces::personal_data_retention(env)?,
        })
    }
}

/// How a marketplace presents the credentials we registered with it.
#[derive(Debug, Clone)]
pub enum InboundCredentials {
    Basic { username: String, password: Secret },
    ApiKey(Secret),
}

/// The credentials each marketplace's webhooks must carry; `None` where this
/// deployment takes no webhooks from it (answered 404).
fn inbound_credentials(env: &dyn Source) -> Marketplaces<Option<InboundCredentials>> {
    let basic = |prefix: &str| match (
        optional(env, &format!("{prefix}_USERNAME")),
        optional(env, &format!("{prefix}_PASSWORD")),
    ) {
        (Some(username), Some(password)) => Some(InboundCredentials::Basic {
            username,
            password: Secret::new(password),
        }),
        _ => None,
    };
    Marketplaces::build(|m| match m {
        // Trendyol's webhook model offers basic auth or an API key.
        Marketplace::Trendyol => basic("TRENDYOL_WEBHOOK").or_else(|| {
            optional(env, "TRENDYOL_WEBHOOK_API_KEY")
                .map(|k| InboundCredentials::ApiKey(Secret::new(k)))
        }),
        Marketplace::Hepsiburada => basic("HEPSIBURADA_WEBHOOK"),
    })
}
