//! iyzico's price strings. Its libraries send `parseFloat(x).toString()` with
//! ".0" appended when there is no dot ("1" → "1.0", "10.50" → "10.5"); more
//! than two decimals was reported to break the signature (error 1000). We
//! produce the same text from integer minor units, never through a float.

use crate::money::Money;

pub fn format_price(money: Money) -> String {
    let text = money.to_major_string();
    match text.split_once('.') {
        None => format!("{text}.0"),
        Some((whole, fraction)) => {
            let trimmed = fraction.trim_end_matches('0');
            if trimmed.is_empty() {
                format!("{whole}.0")
            } else {
                format!("{whole}.{trimmed}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn formats_like_the_official_libraries() {
        let try_ = |minor| format_price(Money::new(minor, Currency::TRY));
        assert_eq!(try_(100), "1.0");
        assert_eq!(try_(1050), "10.5");
        assert_eq!(try_(14990), "149.9");
        assert_eq!(try_(15000), "150.0");
        assert_eq!(try_(5), "0.05");
        assert_eq!(try_(86920), "869.2");
        assert_eq!(try_(0), "0.0");
    }
}
