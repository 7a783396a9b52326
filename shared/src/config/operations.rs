//! The operations function's own knobs.

use std::time::Duration;

use crate::config::{parsed, Source};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct OperationsSettings {
    /// `HEALTH_CACHE_SECS`: how long a provider's health check is answered
    /// from the table before the provider is asked again (≥ 60 s, so the
    /// route can never spend the providers' rate limits).
    pub health_cache: Duration,
}

impl OperationsSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let secs: u64 = parsed(env, "HEALTH_CACHE_SECS", 60)?;
        if secs < 60 {
            return Err(Error::Config(
                "HEALTH_CACHE_SECS must be at least 60".into(),
            ));
        }
        Ok(OperationsSettings {
            health_cache: Duration::from_secs(secs),
        })
    }
}
