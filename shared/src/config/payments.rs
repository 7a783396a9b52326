//! Payment gateways: Stripe and iyzico access, and what the payment paths
//! do with payments the order must not keep.

use crate::config::{base_url, optional, parsed, required, Secret, Source};
use crate::error::{Error, Result};

/// Stripe API access.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    /// `https://api.stripe.com` in production; the local fake in `make dev`.
    pub api_base: String,
    pub secret_key: Secret,
    /// Pinned `Stripe-Version`; create the webhook endpoint with the same version.
    pub api_version: String,
    /// Requests per second allowed to Stripe from one function instance.
    pub rate_limit_per_second: u32,
}

/// The Stripe API version this code was written and tested against.
pub const DEFAULT_STRIPE_API_VERSION: &str = "2025-04-30.basil";

impl StripeSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let secret_key = required(env, "STRIPE_SECRET_KEY")?;
        if !(secret_key.starts_with("sk_") || secret_key.starts_with("rk_")) {
            // Say what is wrong without echoing the value.
            return Err(Error::Config(
                "STRIPE_SECRET_KEY must be a Stripe secret (sk_…) or restricted (rk_…) key".into(),
            ));
        }
        Ok(StripeSettings {
            api_base: base_url(env, "STRIPE_API_BASE", "https://api.stripe.com")?,
            secret_key: Secret::new(secret_key),
            api_version: env
                .get("STRIPE_API_VERSION")
                .unwrap_or_else(|| DEFAULT_STRIPE_API_VERSION.to_string()),
            rate_limit_per_second: parsed(env, "STRIPE_RATE_LIMIT_PER_SECOND", 25)?,
        })
    }
}

/// iyzico API access.
#[derive(Debug, Clone)]
pub struct IyzicoSettings {
    /// `https://sandbox-api.iyzipay.com` unless set; production is
    /// `https://api.iyzipay.com`.
    pub api_base: String,
    pub api_key: String,
    pub secret_key: Secret,
    /// Where iyzico's hosted checkout posts the shopper back (our callback);
    /// `None` until configured, and checkouts are refused meanwhile.
    pub callback_url: Option<String>,
    pub rate_limit_per_second: u32,
}

impl IyzicoSettings {
    /// `None` when iyzico is not configured for this deployment.
    pub fn from_env(env: &dyn Source) -> Result<Option<Self>> {
        let (Some(api_key), Some(secret_key)) =
            (env.get("IYZICO_API_KEY"), env.get("IYZICO_SECRET_KEY"))
        else {
            return Ok(None);
        };
        if api_key == "-" || secret_key == "-" {
            return Ok(None);
        }
        Ok(Some(IyzicoSettings {
            api_base: base_url(env, "IYZICO_API_BASE", "https://sandbox-api.iyzipay.com")?,
            api_key,
            secret_key: Secret::new(secret_key),
            callback_url: optional(env, "IYZICO_CALLBACK_URL"),
            rate_limit_per_second: parsed(env, "IYZICO_RATE_LIMIT_PER_SECOND", 25)?,
        }))
    }
}

/// `AUTO_REFUND_UNWANTED_PAYMENTS` (`true`/`false`, default false): give back
/// automatically a payment collected for another amount than the order's,
/// or a second payment of a paid order. Off, they are only published with
/// `action: refund_required` for a person.
pub fn auto_refund_unwanted_payments(env: &dyn Source) -> Result<bool> {
    match env.get("AUTO_REFUND_UNWANTED_PAYMENTS").as_deref() {
        None | Some("" | "-" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::Config(format!(
            "AUTO_REFUND_UNWANTED_PAYMENTS={other:?}: expected true or false"
        ))),
    }
}
