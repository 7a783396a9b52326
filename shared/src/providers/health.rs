//! One cheap authenticated read per provider, through the clients the other
//! functions use (so the same credentials, hosts, User-Agent and HTTP layer):
//!
//! | provider | read | why this one |
//! |---|---|---|
//! | Stripe | `GET /v1/payment_intents?limit=1` | a payments key may always list intents (docs/stripe-wire.md S50) |
//! | iyzico | `GET /v2/reporting/payment/details?paymentId=1` | the only signed GET the client makes; what iyzico answers for an unknown id is UNCONFIRMED (docs/iyzico-wire.md I36) |
//! | Trendyol | order list, a one-minute window, `size=1` | the read order-poll makes (docs/marketplace-wire.md) |
//! | Hepsiburada | order lines, a one-minute window, `limit=1` | the read order-poll makes; the order host answers 401/403 for credentials (the catalog host's 403 means throttling, H8) |
//! | Aras | GetQueryJSON type 1 for a code no shipment has | the query shipment-tracking makes; a bad login comes back as text, read as `rejected` (docs/aras-wire.md Q4, UNCONFIRMED) |
//!
//! A provider without credentials here is `None`: nothing is called.

use crate::clock::now_ms;
use crate::config::{ArasSettings, IyzicoSettings, Source, StripeSettings};
use crate::domain::marketplace::Marketplace;
use crate::domain::operations::Provider;
use crate::error::{Error, ProviderFailure, Result};
use crate::providers::aras::{wire as aras_wire, ArasClient};
use crate::providers::http::HttpLayer;
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::marketplace::orders::{order_clients, OrderClient, OrderClients};
use crate::providers::stripe::StripeClient;

/// A payment id no payment has (iyzico ids are large numbers).
const IYZICO_PROBE_PAYMENT_ID: &str = "1";
/// An IntegrationCode no shipment has (ours start with `AYZ` and are 24 long).
const ARAS_PROBE_CODE: &str = "AYZHEALTHCHECK";
/// The health route's share of Trendyol's 50 order-list requests per 10 s
/// (order-poll takes 45, so together they stay within 50): checks are cached,
/// so this is a ceiling for one check's retries, not a rate.
const TRENDYOL_ORDER_REQUESTS_PER_10S: u32 = 5;
const MINUTE_MS: i64 = 60_000;

pub struct HealthProbes {
    stripe: Option<StripeClient>,
    iyzico: Option<IyzicoClient>,
    marketplaces: OrderClients,
    aras: Option<ArasClient>,
}

impl HealthProbes {
    /// Every provider configured in `env`, built as its own functions build it.
    pub fn from_env(env: &dyn Source, http: &HttpLayer) -> Result<Self> {
        // STRIPE_SECRET_KEY is required where Stripe is used; here "-" or
        // unset means this deployment does not use it.
        let stripe = match crate::config::optional(env, "STRIPE_SECRET_KEY") {
            Some(_) => Some(StripeClient::new(
                http.clone(),
                StripeSettings::from_env(env)?,
            )),
            None => None,
        };
        Ok(HealthProbes {
            stripe,
            iyzico: IyzicoSettings::from_env(env)?.map(|s| IyzicoClient::new(http.clone(), s)),
            marketplaces: order_clients(env, http, TRENDYOL_ORDER_REQUESTS_PER_10S)?,
            aras: ArasSettings::from_env(env)?.map(|s| ArasClient::new(http.clone(), s)),
        })
    }

    pub fn configured(&self, provider: Provider) -> bool {
        match provider {
            Provider::Stripe => self.stripe.is_some(),
            Provider::Iyzico => self.iyzico.is_some(),
            Provider::Trendyol => self
                .marketplaces
                .configured(Marketplace::Trendyol)
                .is_some(),
            Provider::Hepsiburada => self
                .marketplaces
                .configured(Marketplace::Hepsiburada)
                .is_some(),
            Provider::Aras => self.aras.is_some(),
        }
    }

    /// The provider's read: `None` when it is not configured here.
    pub async fn probe(&self, provider: Provider) -> Option<Result<()>> {
        Some(match provider {
            Provider::Stripe => self.stripe.as_ref()?.probe().await,
            Provider::Iyzico => {
                match self
                    .iyzico
                    .as_ref()?
                    .payment_details(IYZICO_PROBE_PAYMENT_ID)
                    .await
                {
                    Ok(_) => Ok(()),
                    // A refusal of the unknown id (not an authentication
                    // error) still proves the key was accepted
                    // (docs/iyzico-wire.md I36: the answer is UNCONFIRMED).
                    Err(Error::Provider(p)) if p.failure == ProviderFailure::Rejected => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Provider::Trendyol => self.marketplace(Marketplace::Trendyol)?.await,
            Provider::Hepsiburada => self.marketplace(Marketplace::Hepsiburada)?.await,
            Provider::Aras => self
                .aras
                .as_ref()?
                .get_query_json(
                    aras_wire::QUERY_CARGO_INFO,
                    &[(aras_wire::QUERY_KEY_INTEGRATION_CODE, ARAS_PROBE_CODE)],
                )
                .await
                .map(|_| ()),
        })
    }

    fn marketplace(
        &self,
        marketplace: Marketplace,
    ) -> Option<impl std::future::Future<Output = Result<()>> + '_> {
        let client = self.marketplaces.configured(marketplace)?;
        // The last whole minute: both lists take it, and it is nearly always empty.
        let end = now_ms() / MINUTE_MS * MINUTE_MS;
        let start = end - MINUTE_MS;
        Some(async move {
            match client {
                OrderClient::Trendyol(c) => c.list(start, end, 0, 1).await.map(|_| ()),
                OrderClient::Hepsiburada(c) => c.list(start, end, 0, 1).await.map(|_| ()),
            }
        })
    }
}
