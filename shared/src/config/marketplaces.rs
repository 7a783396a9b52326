//! Trendyol and Hepsiburada access, and the knobs of the catalog sync and
//! the order poll.

use crate::domain::marketplace_order_details::PersonalDataRetention;
use std::time::Duration;

use crate::config::{base_url, optional, parsed, required, Secret, Source};
use crate::domain::marketplace::Marketplace;
use crate::error::{Error, Result};

/// Trendyol seller API access (docs/marketplace-wire.md, "Trendyol — common to all endpoints").
#[derive(Debug, Clone)]
pub struct TrendyolSettings {
    /// `https://apigw.trendyol.com` (stage: `https://stageapigw.trendyol.com`).
    pub api_base: String,
    pub seller_id: String,
    pub api_key: String,
    pub api_secret: Secret,
    /// Mandatory; `{sellerId} - SelfIntegration` unless an integrator name is set.
    pub user_agent: String,
    /// Requests this process may make to one endpoint per 10 s. Trendyol
    /// allows 50 per endpoint across all our callers: divide it by the
    /// catalog worker's maximum concurrency (template.yaml).
    pub requests_per_10s: u32,
    /// The window Trendyol counts in (10 s); shorter only in tests and benchmarks.
    pub rate_window: Duration,
    /// `TRENDYOL_LISTING_TIER`: the seller's product listing limit, which
    /// sets the service-group limits (docs/marketplace-wire.md T10).
    pub listing_tier: TrendyolTier,
    /// `TRENDYOL_CATALOG_WORKERS`: processes sharing the group limits (the
    /// catalog worker's maximum concurrency, template.yaml); each takes its
    /// share.
    pub catalog_workers: u32,
    /// The window the group limits and the per-barcode price rule count in
    /// (a minute); shorter only in tests (`TRENDYOL_GROUP_WINDOW_MS`).
    pub group_window: Duration,
}

/// Trendyol's product listing tiers ("Ürün Listeleme Limiti"), with the
/// per-minute limits of each service group since 14 September 2026
/// (docs/marketplace-wire.md T10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendyolTier {
    Limit100k,
    Limit350k,
    Limit500k,
    Unlimited,
}

/// Per-minute limits of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendyolGroupLimits {
    /// "Product Integration Read".
    pub read: u32,
    /// "Product Integration Write": create, update, delete and other writes.
    pub write: u32,
    /// "Inventory & Price Write".
    pub inventory_price: u32,
}

impl TrendyolTier {
    pub fn parse(text: &str) -> Option<Self> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace(['.', '_', ','], "")
            .as_str()
        {
            "100000" => Some(TrendyolTier::Limit100k),
            "350000" => Some(TrendyolTier::Limit350k),
            "500000" => Some(TrendyolTier::Limit500k),
            "unlimited" | "limitless" => Some(TrendyolTier::Unlimited),
            _ => None,
        }
    }

    pub fn limits(self) -> TrendyolGroupLimits {
        let (read, write, inventory_price) = match self {
            TrendyolTier::Limit100k => (1000, 200, 350),
            TrendyolTier::Limit350k => (1250, 300, 500),
            TrendyolTier::Limit500k => (1500, 400, 1000),
            TrendyolTier::Unlimited => (2000, 500, 1500),
        };
        TrendyolGroupLimits {
            read,
            write,
            inventory_price,
        }
    }
}

impl TrendyolSettings {
    /// `None` when Trendyol is not configured for this deployment.
    pub fn from_env(env: &dyn Source) -> Result<Option<Self>> {
        let (Some(seller_id), Some(api_key), Some(api_secret)) = (
            optional(env, "TRENDYOL_SELLER_ID"),
            optional(env, "TRENDYOL_API_KEY"),
            optional(env, "TRENDYOL_API_SECRET"),
        ) else {
            return Ok(None);
        };
        if !seller_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Config("TRENDYOL_SELLER_ID must be digits".into()));
        }
        let user_agent = match env.get("TRENDYOL_INTEGRATOR_NAME") {
            None => format!("{seller_id} - SelfIntegration"),
            Some(name)
                if (1..=30).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                format!("{seller_id} - {name}")
            }
            Some(_) => {
                return Err(Error::Config(
                    "TRENDYOL_INTEGRATOR_NAME must be 1–30 letters or digits".into(),
                ))
            }
        };
        Ok(Some(TrendyolSettings {
            api_base: base_url(env, "TRENDYOL_API_BASE", "https://apigw.trendyol.com")?,
            seller_id,
            api_key,
            api_secret: Secret::new(api_secret),
            user_agent,
            requests_per_10s: parsed(env, "TRENDYOL_REQUESTS_PER_10S", 24)?,
            rate_window: Duration::from_millis(parsed(env, "TRENDYOL_RATE_WINDOW_MS", 10_000)?),
            listing_tier: match env.get("TRENDYOL_LISTING_TIER") {
                None => TrendyolTier::Limit100k,
                Some(v) => TrendyolTier::parse(&v).ok_or_else(|| {
                    Error::Config(format!(
                        "TRENDYOL_LISTING_TIER={v:?}: one of 100000, 350000, 500000, unlimited"
                    ))
                })?,
            },
            catalog_workers: parsed(env, "TRENDYOL_CATALOG_WORKERS", 2u32)?.max(1),
            group_window: Duration::from_millis(parsed(env, "TRENDYOL_GROUP_WINDOW_MS", 60_000)?),
        }))
    }
}

/// Hepsiburada merchant API access (docs/marketplace-wire.md, "Hepsiburada — common").
#[derive(Debug, Clone)]
pub struct HepsiburadaSettings {
    /// `https://listing-external.hepsiburada.com` (test: `-sit`).
    pub listing_base: String,
    /// `https://mpop.hepsiburada.com` (test: `-sit`).
    pub catalog_base: String,
    /// `https://oms-external.hepsiburada.com` (test: `-sit`): orders.
    pub oms_base: String,
    /// `https://mpfinance-external.hepsiburada.com` (test: `-sit`): the
    /// record-based accounting service reconcile reads (host UNCONFIRMED:
    /// docs/marketplace-wire.md H14).
    pub finance_base: String,
    /// A GUID; also the Basic-auth username with a service key.
    pub merchant_id: String,
    pub service_key: Secret,
    /// Hepsiburada wants the integrator username here, bare.
    pub user_agent: String,
    /// Requests this process may make to one endpoint per second (the
    /// listing service's limits are not published).
    pub requests_per_second: u32,
    /// Requests this process may make to the catalog host (mpop) per second,
    /// all endpoints together: Hepsiburada allows 100 per second and answers
    /// 403 above it (docs/marketplace-wire.md H8); with two catalog workers
    /// each takes 45.
    pub catalog_requests_per_second: u32,
}

impl HepsiburadaSettings {
    /// `None` when Hepsiburada is not configured for this deployment.
    pub fn from_env(env: &dyn Source) -> Result<Option<Self>> {
        let (Some(merchant_id), Some(service_key)) = (
            optional(env, "HEPSIBURADA_MERCHANT_ID"),
            optional(env, "HEPSIBURADA_SERVICE_KEY"),
        ) else {
            return Ok(None);
        };
        if !merchant_id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-')
        {
            return Err(Error::Config(
                "HEPSIBURADA_MERCHANT_ID must be a GUID".into(),
            ));
        }
        Ok(Some(HepsiburadaSettings {
            listing_base: base_url(
                env,
                "HEPSIBURADA_LISTING_BASE",
                "https://listing-external-sit.hepsiburada.com",
            )?,
            catalog_base: base_url(
                env,
                "HEPSIBURADA_CATALOG_BASE",
                "https://mpop-sit.hepsiburada.com",
            )?,
            oms_base: base_url(
                env,
                "HEPSIBURADA_OMS_BASE",
                "https://oms-external-sit.hepsiburada.com",
            )?,
            finance_base: base_url(
                env,
                "HEPSIBURADA_FINANCE_BASE",
                "https://mpfinance-external-sit.hepsiburada.com",
            )?,
            merchant_id,
            service_key: Secret::new(service_key),
            user_agent: required(env, "HEPSIBURADA_USER_AGENT")?,
            requests_per_second: parsed(env, "HEPSIBURADA_REQUESTS_PER_SECOND", 10)?,
            catalog_requests_per_second: parsed(
                env,
                "HEPSIBURADA_CATALOG_REQUESTS_PER_SECOND",
                45,
            )?,
        }))
    }
}

/// The catalog sync's own knobs (product-sync and catalog-worker).
#[derive(Debug, Clone)]
pub struct CatalogSettings {
    pub queue_url: String,
    /// A plan older than this is presumed lost (its message in the DLQ, or
    /// its result never read) and its products are planned again.
    pub plan_stale_after: Duration,
    /// A sent plan whose result was never recorded (its checks ended in the
    /// DLQ) is planned again after this: longer than a whole check chain.
    pub sent_plan_stale_after: Duration,
    /// First wait before reading a batch result; doubles per check, ≤ 900 s.
    pub check_delay: Duration,
    /// Checks of one batch before its message is given up (to the DLQ).
    pub max_checks: u32,
    /// A failed job is retried after this, doubling per receive (≤ 15 min),
    /// rather than after the queue's 30-minute visibility timeout.
    pub retry_delay: Duration,
    pub category_cache_ttl: Duration,
    /// Trendyol refuses an identical price/stock body within 15 minutes.
    pub duplicate_body_window: Duration,
    /// Trendyol content-id lookups one sync may make (50 per 10 s allowed).
    pub max_lookups_per_run: usize,
}

impl CatalogSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let secs = |name, default| parsed(env, name, default).map(Duration::from_secs);
        Ok(CatalogSettings {
            queue_url: required(env, "CATALOG_QUEUE_URL")?,
            plan_stale_after: secs("CATALOG_PLAN_STALE_SECS", 2 * 3600)?,
            sent_plan_stale_after: secs("CATALOG_SENT_PLAN_STALE_SECS", 8 * 3600)?,
            check_delay: secs("CATALOG_CHECK_DELAY_SECS", 30)?,
            max_checks: parsed(env, "CATALOG_MAX_CHECKS", 12)?,
            retry_delay: secs("CATALOG_RETRY_DELAY_SECS", 30)?,
            category_cache_ttl: secs("CATEGORY_CACHE_TTL_SECS", 7 * 24 * 3600)?,
            duplicate_body_window: secs("TRENDYOL_DUPLICATE_WINDOW_SECS", 900)?,
            max_lookups_per_run: parsed(env, "CATALOG_MAX_LOOKUPS_PER_RUN", 300)?,
        })
    }
}

/// order-poll's knobs.
#[derive(Debug, Clone)]
pub struct OrderPollSettings {
    /// How far before the cursor each run starts again (clock skew between
    /// us and the marketplace, late writes).
    pub overlap: Duration,
    /// Where a first run starts (no cursor yet).
    pub first_lookback: Duration,
    /// Trendyol window per request series (≤ 14 days; a day keeps each
    /// window well under Trendyol's 10,000-record paging horizon).
    pub trendyol_window: Duration,
    /// Hepsiburada window (≤ 24 h: a wider one is silently cut to 24 h).
    pub hepsiburada_window: Duration,
    /// Hepsiburada lists lines by order date and a line can show up late
    /// (paid after its order date): each run re-reads at least this much.
    pub hepsiburada_rescan: Duration,
    pub trendyol_page_size: u32,
    pub hepsiburada_page_size: u32,
    /// order-poll's share of Trendyol's 50 requests per 10 s on the order
    /// endpoint (order-poll has reserved concurrency 1). The rest is for the
    /// other readers of that endpoint, which can run at the same time:
    /// reconcile 5, marketplace-orders 5, operations' health check 5,
    /// accounting 2 (its invoice link's package reads) — 33 + 17 = 50.
    pub trendyol_requests_per_10s: u32,
    /// A new window is not started with less time than this left.
    pub window_margin: Duration,
    /// A run stops starting windows after this, whatever the Lambda timeout.
    pub max_run: Duration,
    /// How long buyers' personal data is kept.
    pub personal_data_retention: PersonalDataRetention,
    /// Which accepted claim items go back to stock.
    pub claim_policy: crate::domain::marketplace_claim::ClaimPolicy,
}

impl OrderPollSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let secs = |name, default| parsed(env, name, default).map(Duration::from_secs);
        let settings = OrderPollSettings {
            overlap: secs("ORDER_POLL_OVERLAP_SECS", 600)?,
            first_lookback: secs("ORDER_POLL_FIRST_LOOKBACK_SECS", 24 * 3600)?,
            trendyol_window: secs("TRENDYOL_ORDER_WINDOW_SECS", 24 * 3600)?,
            hepsiburada_window: secs("HEPSIBURADA_ORDER_WINDOW_SECS", 24 * 3600)?,
            hepsiburada_rescan: secs("HEPSIBURADA_ORDER_RESCAN_SECS", 3600)?,
            trendyol_page_size: parsed(env, "TRENDYOL_ORDER_PAGE_SIZE", 200)?,
            hepsiburada_page_size: parsed(env, "HEPSIBURADA_ORDER_PAGE_SIZE", 100)?,
            trendyol_requests_per_10s: parsed(env, "TRENDYOL_ORDER_REQUESTS_PER_10S", 33)?,
            window_margin: secs("ORDER_POLL_WINDOW_MARGIN_SECS", 60)?,
            max_run: secs("ORDER_POLL_MAX_RUN_SECS", 600)?,
            personal_data_retention: personal_data_retention(env)?,
            claim_policy: claim_policy(env)?,
        };
        if !window_is_valid(Marketplace::Trendyol, settings.trendyol_window) {
            return Err(Error::Config(
                "TRENDYOL_ORDER_WINDOW_SECS must be between 60 and 1209600 (14 days)".into(),
            ));
        }
        if !window_is_valid(Marketplace::Hepsiburada, settings.hepsiburada_window)
            || !settings.hepsiburada_window.as_secs().is_multiple_of(60)
        {
            return Err(Error::Config(
                "HEPSIBURADA_ORDER_WINDOW_SECS must be whole minutes between 60 and 86400: Hepsiburada cuts wider windows to 24 h without saying so".into(),
            ));
        }
        if settings.overlap < Duration::from_secs(60) {
            // Hepsiburada windows end on the next whole minute.
            return Err(Error::Config(
                "ORDER_POLL_OVERLAP_SECS must be at least 60".into(),
            ));
        }
        if !(1..=200).contains(&settings.trendyol_page_size)
            || !(1..=100).contains(&settings.hepsiburada_page_size)
            || !(1..=50).contains(&settings.trendyol_requests_per_10s)
        {
            return Err(Error::Config(
                "order page sizes are 1–200 (Trendyol) and 1–100 (Hepsiburada); Trendyol requests per 10 s 1–50".into(),
            ));
        }
        Ok(settings)
    }
}

/// Customer return reasons whose units are sellable again by default.
/// Trendyol: changed mind (401), size too small / too big (501, 551), did
/// not like the model / the product (251, 2042), ordered the wrong product
/// (701); defective, wrong or damaged items (301, 351, 851, …) are not.
/// Hepsiburada (H16): found it cheaper, not arrived when needed, size /
/// dimensions did not fit; broken, damaged, missing, wrong, expired or poor
/// quality are not.
pub const DEFAULT_SELLABLE_CLAIM_REASONS: &str = "trendyol:251,trendyol:401,trendyol:501,\
trendyol:551,trendyol:701,trendyol:2042,hepsiburada:FoundCheaper,\
hepsiburada:NotArrivedWhenNeeded,hepsiburada:IncompatiblyProduct";

/// `MARKETPLACE_CLAIM_SELLABLE_REASONS`: comma-separated marketplace reason
/// codes whose accepted claim items go back to stock, each bare (every
/// marketplace, as before Hepsiburada's claims) or prefixed with its
/// marketplace (`hepsiburada:FoundCheaper`); `none` = never.
pub fn claim_policy(env: &dyn Source) -> Result<crate::domain::marketplace_claim::ClaimPolicy> {
    let raw = optional(env, "MARKETPLACE_CLAIM_SELLABLE_REASONS")
        .unwrap_or_else(|| DEFAULT_SELLABLE_CLAIM_REASONS.to_string());
    crate::domain::marketplace_claim::ClaimPolicy::parse(&raw).map_err(|entry| {
        Error::Config(format!(
            "MARKETPLACE_CLAIM_SELLABLE_REASONS: {entry:?} is not a reason code (comma-separated codes, each optionally marketplace:code, or none)"
        ))
    })
}

/// Whether an order-list window fits the marketplace's limits.
fn window_is_valid(marketplace: Marketplace, window: Duration) -> bool {
    let ms = window.as_millis() as i64;
    ms >= 60_000 && ms <= marketplace.max_order_window_ms()
}

/// `MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS` (default 30, 1–3650): how long
/// a marketplace buyer's name, addresses, phone, e-mail and tax/identity
/// numbers are kept after the order closed (delivered, returned,
/// cancelled). An order we never hear the end of is treated as closed 90
/// days after we first saw it. Read by order-poll and the webhook, which
/// both store orders.
pub fn personal_data_retention(env: &dyn Source) -> Result<PersonalDataRetention> {
    let days: u32 = parsed(env, "MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS", 30)?;
    if !(1..=3650).contains(&days) {
        return Err(Error::Config(
            "MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS must be between 1 and 3650".into(),
        ));
    }
    Ok(PersonalDataRetention::days(days, 90))
}
