//! The reconcile function's own knobs.

use std::time::Duration;

use crate::config::{parsed, Source};
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
        Ok(ReconcileSettings {
            stripe_page_size,
            stop_margin: Duration::from_secs(margin),
            max_continuations: parsed(env, "RECONCILE_MAX_CONTINUATIONS", 48)?,
            concurrency,
        })
    }
}
