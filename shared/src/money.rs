//! Money as integer minor units with an explicit ISO 4217 currency.
//!
//! There is no floating point anywhere in here: amounts are `i64` counts of the
//! currency's minor unit (kuruş for TRY, cents for USD, fils for KWD, yen for JPY)
//! and decimal strings are parsed and printed digit by digit. Provider-specific
//! unit rules (Stripe's zero-decimal list, iyzico's price strings) live with the
//! provider, not here: this module knows only ISO 4217.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency code we know the exponent of.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// ISO 4217 currencies whose minor unit is not 1/100 of the major unit.
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const EXPONENT_4: &[&str] = &["CLF", "UYW"];

/// Active ISO 4217 currencies with a two-digit minor unit (the common case).
const EXPONENT_2: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY",
    "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD",
    "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW",
    "ZWG",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?} (expected an ISO 4217 code such as TRY)")]
    UnknownCurrency(String),
    #[error("invalid amount {0:?}: expected digits with at most {1} decimal places")]
    InvalidAmount(String, u32),
    #[error("amount overflows the supported range")]
    Overflow,
    #[error("currency mismatch: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
}

impl Currency {
    pub const TRY: Currency = Currency(*b"TRY");
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses an ISO 4217 code, case-insensitively (`"try"` and `"TRY"` both work).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.to_ascii_uppercase();
        let known = [EXPONENT_0, EXPONENT_2, EXPONENT_3, EXPONENT_4]
            .iter()
            .any(|table| table.contains(&upper.as_str()));
        if !known {
            return Err(MoneyError::UnknownCurrency(code.to_string()));
        }
        let bytes = upper.as_bytes();
        Ok(Currency([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn code(&self) -> &str {
        // Constructed only from ASCII table entries.
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }

    /// Number of decimal places of the minor unit (ISO 4217 "E").
    pub fn exponent(&self) -> u32 {
        let code = self.code();
        if EXPONENT_0.contains(&code) {
            0
        } else if EXPONENT_3.contains(&code) {
            3
        } else if EXPONENT_4.contains(&code) {
            4
        } else {
            2
        }
    }

    /// Minor units per major unit: 100 for TRY, 1 for JPY, 1000 for KWD.
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: a signed count of minor units in one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal string in major units ("149.90" TRY → 14990 kuruş).
    /// Fewer decimals than the exponent are padded ("149.9" → 14990); more are
    /// rejected rather than rounded: silently dropping a kuruş is a money bug.
    pub fn parse_major(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let exponent = currency.exponent();
        let invalid = || MoneyError::InvalidAmount(text.to_string(), exponent);
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(fraction)
            || (digits.contains('.') && fraction.is_empty())
            || fraction.len() > exponent as usize
        {
            return Err(invalid());
        }
        let mut minor: i64 = 0;
        let padded = format!("{fraction:0<width$}", width = exponent as usize);
        for b in whole.bytes().chain(padded.bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        Ok(Money {
            minor: if negative { -minor } else { minor },
            currency,
        })
    }

    /// Formats in major units with exactly `exponent` decimals ("149.90").
    pub fn to_major_string(&self) -> String {
        let exponent = self.currency.exponent() as usize;
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs().to_string();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let padded = format!("{abs:0>width$}", width = exponent + 1);
        let (whole, fraction) = padded.split_at(padded.len() - exponent);
        format!("{sign}{whole}.{fraction}")
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_currencies() -> Vec<Currency> {
        [EXPONENT_0, EXPONENT_2, EXPONENT_3, EXPONENT_4]
            .iter()
            .flat_map(|t| t.iter())
            .map(|c| Currency::parse(c).unwrap())
            .collect()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        let exp = |c: &str| Currency::parse(c).unwrap().exponent();
        assert_eq!(exp("TRY"), 2);
        assert_eq!(exp("EUR"), 2);
        assert_eq!(exp("USD"), 2);
        assert_eq!(exp("JPY"), 0);
        assert_eq!(exp("KRW"), 0);
        assert_eq!(exp("KWD"), 3);
        assert_eq!(exp("BHD"), 3);
        assert_eq!(exp("CLF"), 4);
    }

    #[test]
    fn currency_codes_are_case_insensitive_and_validated() {
        assert_eq!(Currency::parse("try").unwrap(), Currency::TRY);
        assert!(matches!(
            Currency::parse("XYZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(Currency::parse("TR").is_err());
        assert!(Currency::parse("TRYY").is_err());
    }

    #[test]
    fn parses_and_formats_major_units_exactly() {
        let m = Money::parse_major("149.90", Currency::TRY).unwrap();
        assert_eq!(m.minor, 14990);
        assert_eq!(m.to_major_string(), "149.90");
        assert_eq!(
            Money::parse_major("149.9", Currency::TRY).unwrap().minor,
            14990
        );
        assert_eq!(Money::parse_major("0.05", Currency::TRY).unwrap().minor, 5);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse_major("1500", jpy).unwrap().minor, 1500);
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::new(5124, kwd).to_major_string(), "5.124");
        assert_eq!(Money::new(-5, Currency::TRY).to_major_string(), "-0.05");
    }

    #[test]
    fn rejects_amounts_that_would_need_rounding_or_are_malformed() {
        for bad in [
            "149.999", "1.", ".5", "", "-", "1e3", "12,50", "1.2.3", " 1",
        ] {
            assert!(Money::parse_major(bad, Currency::TRY).is_err(), "{bad:?}");
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert!(Money::parse_major("10.5", jpy).is_err());
        assert_eq!(
            Money::parse_major("99999999999999999999", Currency::TRY),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let a = Money::new(100, Currency::TRY);
        let b = Money::new(100, Currency::USD);
        assert!(matches!(
            a.checked_add(b),
            Err(MoneyError::CurrencyMismatch(_, _))
        ));
        assert_eq!(
            Money::new(i64::MAX, Currency::TRY).checked_add(Money::new(1, Currency::TRY)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(a.checked_mul(3).unwrap().minor, 300);
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(minor in -1_000_000_000_000i64..1_000_000_000_000i64,
                                         index in 0usize..1000) {
            let currencies = all_currencies();
            let currency = currencies[index % currencies.len()];
            let money = Money::new(minor, currency);
            let text = money.to_major_string();
            prop_assert_eq!(Money::parse_major(&text, currency).unwrap(), money);
            // Exactly `exponent` decimals are always printed.
            let decimals = text.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
            prop_assert_eq!(decimals as u32, currency.exponent());
        }

        #[test]
        fn parse_scales_by_the_exponent(whole in 0i64..1_000_000_000, index in 0usize..1000) {
            let currencies = all_currencies();
            let currency = currencies[index % currencies.len()];
            let parsed = Money::parse_major(&whole.to_string(), currency).unwrap();
            prop_assert_eq!(parsed.minor, whole * currency.minor_per_major());
        }
    }
}
