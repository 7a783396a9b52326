//! Paraşüt access (accounting: sales invoices, e-Arşiv / e-Fatura).
//! Unset `PARASUT_COMPANY_ID` (or `-`) = accounting off.

use std::time::Duration;

use crate::config::{base_url, optional, Secret, Source};
use crate::domain::marketplace_invoice::CargoCompanies;
use crate::error::{Error, Result};

const DEFAULT_BASE_URL: &str = "https://api.parasut.com";

#[derive(Debug, Clone)]
pub struct ParasutSettings {
    /// `PARASUT_BASE_URL`: token at `<base>/oauth/token`, API at
    /// `<base>/v4/<company>` (docs/parasut-wire.md P1, P3).
    pub base_url: String,
    /// `PARASUT_COMPANY_ID`: the firm's number in Paraşüt (digits).
    pub company_id: String,
    /// `PARASUT_CLIENT_ID` / `PARASUT_CLIENT_SECRET`: the OAuth application.
    pub client_id: String,
    pub client_secret: Secret,
    /// `PARASUT_USERNAME` (the user's e-mail) / `PARASUT_PASSWORD`.
    pub username: String,
    pub password: Secret,
    /// `PARASUT_INVOICE_SERIES` (default `AYZ`): the `invoice_series` of our
    /// sales invoices; with the sequence number we allocate, the identity we
    /// find an invoice by after a lost answer (P20).
    pub invoice_series: String,
    /// `PARASUT_REQUESTS_PER_10S` from one process (default 10, P8).
    pub requests_per_10s: u32,
    /// `PARASUT_JOB_POLL_MS` (default 2000) between looks at an e-document
    /// job or a PDF not ready yet, `PARASUT_JOB_MAX_POLLS` (default 8) per
    /// call; what is still running is taken up by the next attempt.
    pub job_poll_interval: Duration,
    pub job_max_polls: u32,
}

impl ParasutSettings {
    /// `None` when accounting is off (`PARASUT_COMPANY_ID` unset or `-`).
    pub fn from_env(env: &dyn Source) -> Result<Option<Self>> {
        let get = |name: &str| optional(env, name);
        let Some(company_id) = get("PARASUT_COMPANY_ID") else {
            return Ok(None);
        };
        if !company_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Config(
                "PARASUT_COMPANY_ID must be the firm's number (digits)".into(),
            ));
        }
        let need = |name: &str| {
            get(name).ok_or_else(|| {
                Error::Config(format!("{name} must be set when PARASUT_COMPANY_ID is"))
            })
        };
        let number = |name: &str, default: u64| -> Result<u64> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| Error::Config(format!("{name}={v:?} is not a number"))),
            }
        };
        let invoice_series = get("PARASUT_INVOICE_SERIES").unwrap_or_else(|| "AYZ".into());
        if invoice_series.is_empty()
            || invoice_series.len() > 16
            || !invoice_series.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::Config(
                "PARASUT_INVOICE_SERIES: 1–16 letters or digits".into(),
            ));
        }
        Ok(Some(ParasutSettings {
            base_url: base_url(env, "PARASUT_BASE_URL", DEFAULT_BASE_URL)?,
            company_id,
            client_id: need("PARASUT_CLIENT_ID")?,
            client_secret: Secret::new(need("PARASUT_CLIENT_SECRET")?),
            username: need("PARASUT_USERNAME")?,
            password: Secret::new(need("PARASUT_PASSWORD")?),
            invoice_series,
            requests_per_10s: number("PARASUT_REQUESTS_PER_10S", 10)? as u32,
            job_poll_interval: Duration::from_millis(number("PARASUT_JOB_POLL_MS", 2000)?),
            job_max_polls: number("PARASUT_JOB_MAX_POLLS", 8)?.max(1) as u32,
        }))
    }
}

/// Storefront invoices (README § Accounting).
#[derive(Debug, Clone)]
pub struct StorefrontInvoiceSettings {
    /// `STOREFRONT_URL` (https): the site storefront sales are made on, the
    /// e-Arşiv's `internet_sale.url` (docs/parasut-wire.md P24). Required
    /// when accounting is on.
    pub store_url: Option<String>,
    /// `STOREFRONT_PERSONAL_DATA_RETENTION_DAYS` (default 30, 1–3650): how
    /// long a storefront buyer's invoice data (name, e-mail, phone, address,
    /// identity or tax number) is kept after it arrived.
    pub personal_data_retention_ms: i64,
}

impl StorefrontInvoiceSettings {
    pub fn from_env(env: &dyn Source) -> Result<Self> {
        let store_url = optional(env, "STOREFRONT_URL");
        if let Some(url) = &store_url {
            let host = url.strip_prefix("https://").unwrap_or_default();
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(Error::Config(
                    "STOREFRONT_URL must be the store's https:// address".into(),
                ));
            }
        }
        let days: i64 = match optional(env, "STOREFRONT_PERSONAL_DATA_RETENTION_DAYS") {
            None => 30,
            Some(v) => v.parse().map_err(|_| {
                Error::Config(format!(
                    "STOREFRONT_PERSONAL_DATA_RETENTION_DAYS={v:?} is not a number"
                ))
            })?,
        };
        if !(1..=3650).contains(&days) {
            return Err(Error::Config(
                "STOREFRONT_PERSONAL_DATA_RETENTION_DAYS must be between 1 and 3650".into(),
            ));
        }
        Ok(StorefrontInvoiceSettings {
            store_url,
            personal_data_retention_ms: days * 24 * 3_600_000,
        })
    }
}

/// `PARASUT_CARGO_COMPANIES`: the cargo companies whose title and VKN a
/// marketplace order's e-Arşiv names in its `shipment` block
/// (docs/parasut-wire.md P36), as `Name=VKN[=Title]` entries separated by
/// `;`, e.g. `Aras Kargo=1234567890;Yurtiçi Kargo=9876543210`; the name is
/// matched case-insensitively against the order's cargo provider name.
/// Unset or `-`: none (no marketplace e-Arşiv carries the block). A VKN
/// that is not 10 digits stops the function at start.
pub fn cargo_companies(env: &dyn Source) -> Result<CargoCompanies> {
    match optional(env, "PARASUT_CARGO_COMPANIES") {
        None => Ok(CargoCompanies::default()),
        Some(text) => CargoCompanies::parse(&text)
            .map_err(|why| Error::Config(format!("PARASUT_CARGO_COMPANIES: {why}"))),
    }
}

/// `INVOICE_LINK_TEMPLATE`: where the platform keeps each invoice's PDF for
/// good, e.g. `https://fatura.example.com/{invoiceNumber}.pdf`
/// (`{invoiceNumber}` is replaced by the legal number). `None` (unset or
/// `-`): no invoice link goes to the marketplaces. Paraşüt's own PDF link
/// lives one hour and must not reach the buyer (docs/parasut-wire.md P31),
/// while Trendyol mails the link to the buyer and wants it to work for
/// eight years (docs/marketplace-wire.md T13): so only this durable link is
/// ever sent.
pub fn invoice_link_template(env: &dyn Source) -> Result<Option<String>> {
    let Some(template) = optional(env, "INVOICE_LINK_TEMPLATE") else {
        return Ok(None);
    };
    if !template.starts_with("https://") || !template.contains("{invoiceNumber}") {
        return Err(Error::Config(
            "INVOICE_LINK_TEMPLATE must be an https:// URL containing {invoiceNumber}".into(),
        ));
    }
    Ok(Some(template))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("PARASUT_COMPANY_ID", "115"),
        ("PARASUT_CLIENT_ID", "cid"),
        ("PARASUT_CLIENT_SECRET", "csecret"),
        ("PARASUT_USERNAME", "muhasebe@example.com"),
        ("PARASUT_PASSWORD", "pw-123"),
    ];

    #[test]
    fn unset_or_dash_is_off_and_a_company_needs_every_credential() {
        assert!(ParasutSettings::from_env(&env(&[])).unwrap().is_none());
        assert!(
            ParasutSettings::from_env(&env(&[("PARASUT_COMPANY_ID", "-")]))
                .unwrap()
                .is_none()
        );
        assert!(ParasutSettings::from_env(&env(&FULL[..4])).is_err());
        let s = ParasutSettings::from_env(&env(FULL)).unwrap().unwrap();
        assert_eq!(s.base_url, "https://api.parasut.com");
        assert_eq!(s.invoice_series, "AYZ");
        assert_eq!(s.requests_per_10s, 10);
        let printed = format!("{s:?}");
        assert!(!printed.contains("csecret") && !printed.contains("pw-123"));
        let mut bad = FULL.to_vec();
        bad.push(("PARASUT_BASE_URL", "http://api.parasut.com"));
        assert!(ParasutSettings::from_env(&env(&bad)).is_err());
    }

    #[test]
    fn the_store_url_is_https_and_the_retention_bounded() {
        let s = StorefrontInvoiceSettings::from_env(&env(&[])).unwrap();
        assert_eq!(
            (s.store_url, s.personal_data_retention_ms),
            (None, 30 * 86_400_000)
        );
        let ok = env(&[
            ("STOREFRONT_URL", "https://shop.example"),
            ("STOREFRONT_PERSONAL_DATA_RETENTION_DAYS", "7"),
        ]);
        let s = StorefrontInvoiceSettings::from_env(&ok).unwrap();
        assert_eq!(s.store_url.as_deref(), Some("https://shop.example"));
        assert_eq!(s.personal_data_retention_ms, 7 * 86_400_000);
        for bad in [
            ("STOREFRONT_URL", "http://shop.example"),
            ("STOREFRONT_PERSONAL_DATA_RETENTION_DAYS", "0"),
        ] {
            assert!(StorefrontInvoiceSettings::from_env(&env(&[bad])).is_err());
        }
    }

    #[test]
    fn cargo_companies_are_optional_and_checked_at_start() {
        assert!(cargo_companies(&env(&[])).unwrap().is_empty());
        assert!(cargo_companies(&env(&[("PARASUT_CARGO_COMPANIES", "-")]))
            .unwrap()
            .is_empty());
        let c = cargo_companies(&env(&[(
            "PARASUT_CARGO_COMPANIES",
            "Aras Kargo=1234567890;Yurtiçi Kargo=9876543210",
        )]))
        .unwrap();
        assert_eq!(c.find("aras kargo").unwrap().vkn, "1234567890");
        let err = cargo_companies(&env(&[("PARASUT_CARGO_COMPANIES", "Aras Kargo=12345")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PARASUT_CARGO_COMPANIES") && err.contains("10 digits"));
    }
}
