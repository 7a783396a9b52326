//! Reading the marketplaces' decimal JSON amounts (`"price": 10.5`,
//! `{"amount": 99.9, "currency": "TRY"}`) as exact [`Money`]: the literal
//! digits are kept (serde_json's `RawValue`), never passed through `f64`, and
//! parsed by `Money::parse_major`. An amount that is not exact in the
//! currency's minor unit (`33.333`) is not rounded: it becomes a problem on
//! the order (`PackageFacts::problems`).

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::money::{Currency, Money};

/// A JSON number (or a numeric string) as its literal text; `null` and a
/// missing field are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decimal(pub Option<String>);

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get().trim();
        if text == "null" {
            return Ok(Decimal(None));
        }
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            return Ok(Decimal((!inner.is_empty()).then(|| inner.to_string())));
        }
        if text.starts_with('{') || text.starts_with('[') || text == "true" || text == "false" {
            // The value is not echoed: it may be anything the buyer typed.
            return Err(serde::de::Error::custom("expected a decimal number"));
        }
        Ok(Decimal(Some(text.to_string())))
    }
}

impl Decimal {
    /// The text with trailing fractional zeros removed ("10.500" → "10.5",
    /// "20.0" → "20"): the same value, fewer digits to check.
    pub fn normalized(&self) -> Option<String> {
        let t = self.0.as_deref()?;
        Some(match t.split_once('.') {
            Some((w, f)) => {
                let f = f.trim_end_matches('0');
                if f.is_empty() {
                    w.to_string()
                } else {
                    format!("{w}.{f}")
                }
            }
            None => t.to_string(),
        })
    }
}

/// `{"amount": …, "currency": "TRY"}` (Hepsiburada).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AmountWire {
    #[serde(default)]
    pub amount: Decimal,
    #[serde(default)]
    pub currency: Option<String>,
}

/// Reads amounts of one package, collecting what cannot be read exactly.
pub struct MoneyReader {
    pub currency: Option<Currency>,
    pub problems: Vec<String>,
}

impl MoneyReader {
    /// `currency_code`: the package's currency (`None`/unknown: every
    /// amount without its own currency is a problem).
    pub fn new(currency_code: Option<&str>) -> Self {
        let mut problems = Vec::new();
        let currency = match currency_code {
            Some(code) => match Currency::parse(code) {
                Ok(c) => Some(c),
                Err(_) => {
                    problems.push(format!("unknown currency {code:?}"));
                    None
                }
            },
            None => None,
        };
        MoneyReader { currency, problems }
    }

    /// `what` names the field in a problem ("line 55 price").
    pub fn money(&mut self, what: &str, d: &Decimal) -> Option<Money> {
        let text = d.normalized()?;
        let Some(currency) = self.currency else {
            self.problems
                .push(format!("{what}: no currency to read {text} in"));
            return None;
        };
        match Money::parse_major(&text, currency) {
            Ok(m) => Some(m),
            Err(e) => {
                self.problems.push(format!("{what}: {e}"));
                None
            }
        }
    }

    /// An amount carrying its own currency.
    pub fn amount(&mut self, what: &str, a: &AmountWire) -> Option<Money> {
        let text = a.amount.normalized()?;
        let currency = match a.currency.as_deref().map(Currency::parse) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                self.problems.push(format!("{what}: {e}"));
                return None;
            }
            None => match self.currency {
                Some(c) => c,
                None => {
                    self.problems
                        .push(format!("{what}: no currency to read {text} in"));
                    return None;
                }
            },
        };
        if self.currency.is_none() {
            self.currency = Some(currency);
        }
        match Money::parse_major(&text, currency) {
            Ok(m) => Some(m),
            Err(e) => {
                self.problems.push(format!("{what}: {e}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct W {
        #[serde(default)]
        a: Decimal,
        #[serde(default)]
        b: AmountWire,
    }

    #[test]
    fn decimals_are_read_from_their_digits_not_through_floats() {
        let w: W = serde_json::from_str(
            r#"{"a": 0.30000000000000004, "b": {"amount": 1234567890123.45, "currency": "try"}}"#,
        )
        .unwrap();
        let mut r = MoneyReader::new(Some("TRY"));
        assert_eq!(r.money("a", &w.a), None, "not exact in kuruş: not rounded");
        assert!(
            r.problems[0].starts_with("a: invalid amount"),
            "{:?}",
            r.problems
        );
        assert_eq!(
            r.amount("b", &w.b),
            Some(Money::new(123_456_789_012_345, Currency::TRY))
        );
        let w: W = serde_json::from_str(r#"{"a": "10.500", "b": {"amount": null}}"#).unwrap();
        assert_eq!(r.money("a", &w.a), Some(Money::new(1050, Currency::TRY)));
        assert_eq!(r.amount("b", &w.b), None);
        let w: W = serde_json::from_str(r#"{"a": 20.0}"#).unwrap();
        assert_eq!(r.money("a", &w.a), Some(Money::new(2000, Currency::TRY)));
        assert!(serde_json::from_str::<W>(r#"{"a": [1]}"#).is_err());
        let mut none = MoneyReader::new(None);
        assert_eq!(none.money("x", &Decimal(Some("1".into()))), None);
        assert_eq!(none.problems.len(), 1);
    }
}
