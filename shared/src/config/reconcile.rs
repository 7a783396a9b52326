//! The reconcile function's own knobs.

use std::time::Duration;

use crate::config::{parsed, personal_data_retention, Source};
use crate::domain::marketplace_order_details::PersonalDataRetention;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    /// `RECONCILE_STOP_BEFORE_DEADLINE_SECS`: no new page is started closer
    /// than this to the invocation's deadline; the run goes on in the next
    /// invocation from its stored cursors.
    pub stop_margin: Duration,
    /// `RECONCILE_MAX_CONTINUATIONS`: invocations one run may chain before
    /// it stops and fails loudly (a run that keeps running out of time).
    pub max_continuations: u32,
    /// `RECONCILE_CONCURRENCY`: entries of one page checked side by side.
    pub concurrency: usize,
    /// `RECONCILE_STRIPE_PAGE_SIZE` (1–100, default 100, Stripe's maximum):
    /// objects per Stripe list page. Smaller only to exercise paging.
    pub stripe_page_size: u32,
    /// `RECONCILE_TRENDYOL_PAGE_SIZE` (1–200, default 200, Trendyol's
    /// maximum): packages per order-list page.
    pub trendyol_page_size: u32,
    /// `RECONCILE_TRENDYOL_REQUESTS_PER_10S` (default 5): this function's
    /// share of Trendyol's 50 requests per 10 s on the order endpoint;
    /// order-poll keeps 33 (`TRENDYOL_ORDER_REQUESTS_PER_10S`).
    pub trendyol_requests_per_10s: u32,
    /// `RECONCILE_HEPSIBURADA_PAGE_SIZE` (1–100, default 100, Hepsiburada's
    /// maximum): lines per order-list page.
    pub hepsiburada_page_size: u32,
    /// `MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS`, as every function that
    /// takes marketplace orders in.
    pub personal_data_retention: PersonalDataRetention,
}

impl ReconcileSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let margin: u64 = parsed(env, "RECONCILE_STOP_BEFORE_DEADLINE_SECS", 60)?;
        let concurrency: usize = parsed(env, "RECONCILE_CONCURRENCY", 8)?;
        if concurrency == 0 || concurrency > 64 {
            return Err(Error::Config(
                "RECONCILE_CONCURRENCY must be between 1 and 64".into(),
            ));
        }
        let stripe_page_size: u32 = parsed(env, "RECONCILE_STRIPE_PAGE_SIZE", 100)?;
        if !(1..=100).contains(&stripe_page_size) {
            return Err(Error::Config(
                "RECONCILE_STRIPE_PAGE_SIZE must be between 1 and 100".into(),
            ));
        }
        let trendyol_page_size: u32 = parsed(env, "RECONCILE_TRENDYOL_PAGE_SIZE", 200)?;
        let hepsiburada_page_size: u32 = parsed(env, "RECONCILE_HEPSIBURADA_PAGE_SIZE", 100)?;
        let trendyol_requests_per_10s: u32 = parsed(env, "RECONCILE_TRENDYOL_REQUESTS_PER_10S", 5)?;
        if !(1..=200).contains(&trendyol_page_size)
            || !(1..=100).contains(&hepsiburada_page_size)
            || !(1..=50).contains(&trendyol_requests_per_10s)
        {
            return Err(Error::Config(
                "RECONCILE_TRENDYOL_PAGE_SIZE must be 1–200, RECONCILE_HEPSIBURADA_PAGE_SIZE 1–100, RECONCILE_TRENDYOL_REQUESTS_PER_10S 1–50".into(),
            ));
        }
        Ok(ReconcileSettings {
            stripe_page_size,
            trendyol_page_size,
            trendyol_requests_per_10s,
            hepsiburada_page_size,
            personal_data_retention: personal_data_retention(env)?,
            stop_margin: Duration::from_secs(margin),
            max_continuations: parsed(env, "RECONCILE_MAX_CONTINUATIONS", 48)?,
            concurrency,
        })
    }
}
