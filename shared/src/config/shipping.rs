//! Aras Kargo access, and what the tracking poll tells the marketplaces.

use crate::config::{base_url, optional, Secret, Source};
use crate::domain::shipping::Tariff;
use crate::error::{Error, Result};

/// Test hosts (docs/aras-wire.md); production is one variable away:
/// `https://customerws.araskargo.com.tr/arascargoservice.asmx` and
/// `https://customerservices.araskargo.com.tr/ArasCargoCustomerIntegrationService/ArasCargoIntegrationService.svc`.
const TEST_ORDER_SERVICE_URL: &str =
    "https://customerservicestest.araskargo.com.tr/arascargoservice/arascargoservice.asmx";
const TEST_QUERY_SERVICE_URL: &str =
    "https://customerservicestest.araskargo.com.tr/ArasCargoIntegrationService.svc";

/// Aras access for one merchant account.
#[derive(Debug, Clone)]
pub struct ArasSettings {
    /// `ARAS_ORDER_SERVICE_URL`; default the test host.
    pub order_service_url: String,
    /// `ARAS_QUERY_SERVICE_URL`; default the test host.
    pub query_service_url: String,
    /// `ARAS_USERNAME` / `ARAS_PASSWORD`: the order-service account.
    pub username: String,
    pub password: Secret,
    /// `ARAS_QUERY_USERNAME` / `ARAS_QUERY_PASSWORD`: the query-service
    /// account (often a separate one); the order account when unset.
    pub query_username: String,
    pub query_password: Secret,
    /// `ARAS_CUSTOMER_CODE`, sent in the query service's LoginInfo.
    pub customer_code: String,
    /// `ARAS_REQUESTS_PER_SECOND` per service from one process (default 5;
    /// Aras publishes no limit).
    pub requests_per_second: u32,
}

impl ArasSettings {
    /// `None` when Aras is not configured (`ARAS_USERNAME`/`ARAS_PASSWORD`
    /// unset or `-`).
    pub fn from_env(env: &dyn Source) -> Result<Option<Self>> {
        let get = |name: &str| optional(env, name);
        let (Some(username), Some(password)) = (get("ARAS_USERNAME"), get("ARAS_PASSWORD")) else {
            return Ok(None);
        };
        let customer_code = get("ARAS_CUSTOMER_CODE").ok_or_else(|| {
            Error::Config("ARAS_CUSTOMER_CODE must be set when ARAS_USERNAME is".into())
        })?;
        let requests_per_second = match get("ARAS_REQUESTS_PER_SECOND") {
            None => 5,
            Some(v) => v.parse().map_err(|_| {
                Error::Config(format!("ARAS_REQUESTS_PER_SECOND={v:?} is not a number"))
            })?,
        };
        Ok(Some(ArasSettings {
            order_service_url: base_url(env, "ARAS_ORDER_SERVICE_URL", TEST_ORDER_SERVICE_URL)?,
            query_service_url: base_url(env, "ARAS_QUERY_SERVICE_URL", TEST_QUERY_SERVICE_URL)?,
            query_username: get("ARAS_QUERY_USERNAME").unwrap_or_else(|| username.clone()),
            query_password: Secret::new(
                get("ARAS_QUERY_PASSWORD").unwrap_or_else(|| password.clone()),
            ),
            username,
            password: Secret::new(password),
            customer_code,
            requests_per_second,
        }))
    }
}

/// Aras's public tracking page; `{trackingNumber}` is replaced.
/// UNCONFIRMED URL shape (Aras's site, not an API).
const DEFAULT_TRACKING_URL: &str =
    "https://kargotakip.araskargo.com.tr/mainpage.aspx?code={trackingNumber}";
/// Aras's customer line (444 25 52), shown to Hepsiburada buyers.
const DEFAULT_TRACKING_PHONE: &str = "4442552";

/// What Hepsiburada's in-transit notice carries besides the number.
#[derive(Debug, Clone)]
pub struct TrackingPushSettings {
    /// `ARAS_TRACKING_URL`, with `{trackingNumber}` replaced.
    pub tracking_url: String,
    /// `ARAS_TRACKING_PHONE`.
    pub tracking_phone: String,
    /// `HEPSIBURADA_ESTIMATED_DELIVERY_DAYS` after shipping (default 3).
    pub delivery_days: i64,
}

impl Default for TrackingPushSettings {
    fn default() -> Self {
        TrackingPushSettings {
            tracking_url: DEFAULT_TRACKING_URL.into(),
            tracking_phone: DEFAULT_TRACKING_PHONE.into(),
            delivery_days: 3,
        }
    }
}

impl TrackingPushSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let mut settings = TrackingPushSettings::default();
        if let Some(url) = optional(env, "ARAS_TRACKING_URL") {
            if !url.contains("{trackingNumber}") {
                return Err(Error::Config(
                    "ARAS_TRACKING_URL must contain {trackingNumber}".into(),
                ));
            }
            settings.tracking_url = url;
        }
        if let Some(phone) = optional(env, "ARAS_TRACKING_PHONE") {
            settings.tracking_phone = phone;
        }
        if let Some(days) = optional(env, "HEPSIBURADA_ESTIMATED_DELIVERY_DAYS") {
            settings.delivery_days = days.parse().map_err(|_| {
                Error::Config(format!(
                    "HEPSIBURADA_ESTIMATED_DELIVERY_DAYS={days:?} is not a number"
                ))
            })?;
        }
        Ok(settings)
    }
}

/// `ARAS_TARIFF_JSON`: the merchant's contract price list (see
/// `domain::shipping::Tariff`); unset or `-` = no rates.
pub fn aras_tariff(env: &dyn Source) -> Result<Option<Tariff>> {
    match optional(env, "ARAS_TARIFF_JSON") {
        None => Ok(None),
        Some(json) => Tariff::from_json(&json)
            .map(Some)
            .map_err(|e| Error::Config(format!("ARAS_TARIFF_JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

    #[test]
    fn settings_default_to_test_hosts_and_never_print_passwords() {
        let s = ArasSettings::from_env(&env(&[
            ("ARAS_USERNAME", "u"),
            ("ARAS_PASSWORD", "order-secret"),
            ("ARAS_QUERY_PASSWORD", "query-secret"),
            ("ARAS_CUSTOMER_CODE", "1234567"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(s.order_service_url, TEST_ORDER_SERVICE_URL);
        assert_eq!(s.query_service_url, TEST_QUERY_SERVICE_URL);
        assert_eq!(s.query_username, "u");
        assert_eq!(s.query_password.expose(), "query-secret");
        let printed = format!("{s:?}");
        assert!(!printed.contains("order-secret") && !printed.contains("query-secret"));
    }

    #[test]
    fn settings_are_optional_but_checked() {
        assert!(ArasSettings::from_env(&env(&[])).unwrap().is_none());
        assert!(
            ArasSettings::from_env(&env(&[("ARAS_USERNAME", "-"), ("ARAS_PASSWORD", "-")]))
                .unwrap()
                .is_none()
        );
        let base = [("ARAS_USERNAME", "u"), ("ARAS_PASSWORD", "p")];
        assert!(
            ArasSettings::from_env(&env(&base)).is_err(),
            "customer code required"
        );
        let with = |k: &'static str, v: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push(("ARAS_CUSTOMER_CODE", "1"));
            pairs.push((k, v));
            ArasSettings::from_env(&env(&pairs))
        };
        assert!(with("ARAS_ORDER_SERVICE_URL", "http://aras.example.com/x.asmx").is_err());
        assert!(with("ARAS_ORDER_SERVICE_URL", "http://127.0.0.1:9/x.asmx").is_ok());
        assert!(with("ARAS_REQUESTS_PER_SECOND", "many").is_err());
    }
}
