//! Stripe's units for `amount`, which differ from ISO 4217 for a few
//! currencies (docs/stripe-wire.md S27–S31). Amounts Stripe cannot express exactly are
//! refused, never rounded: the shopper must pay what the order says.

use crate::error::Error;
use crate::money::{Currency, Money};

/// Charged in whole units by Stripe (`amount` is the major amount).
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// In thousandths, but the last digit must be 0.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];
/// Stripe's largest `amount`: eight digits.
pub const MAX_AMOUNT: i64 = 99_999_999;

/// Decimal places of Stripe's `amount` for this currency, if Stripe takes it.
fn stripe_exponent(currency: Currency) -> Option<u32> {
    let code = currency.code();
    if ZERO_DECIMAL.contains(&code) {
        Some(0)
    } else if code == "ISK" {
        // Zero-decimal, but sent with two decimals for backwards compatibility.
        Some(2)
    } else if THREE_DECIMAL.contains(&code) {
        Some(3)
    } else if currency.exponent() == 2 {
        Some(2)
    } else {
        None
    }
}

fn unsupported(code: &'static str, message: String) -> Error {
    Error::Unprocessable { code, message }
}

/// Our money → Stripe's `amount` integer.
pub fn to_stripe_amount(money: Money) -> Result<i64, Error> {
    let currency = money.currency;
    let stripe_exp = stripe_exponent(currency).ok_or_else(|| {
        unsupported(
            "currency_not_supported",
            format!("Stripe does not take {currency} in this integration"),
        )
    })?;
    if money.minor <= 0 {
        return Err(unsupported(
            "nothing_to_pay",
            format!("the amount to pay must be positive, got {money}"),
        ));
    }
    let iso_exp = currency.exponent();
    let amount = if stripe_exp >= iso_exp {
        money
            .minor
            .checked_mul(10_i64.pow(stripe_exp - iso_exp))
            .ok_or_else(|| unsupported("amount_too_large", format!("{money} is too large")))?
    } else {
        let divisor = 10_i64.pow(iso_exp - stripe_exp);
        if money.minor % divisor != 0 {
            return Err(unsupported(
                "amount_not_representable",
                format!("Stripe charges {currency} in whole units; {money} has a fraction"),
            ));
        }
        money.minor / divisor
    };
    if stripe_exp == 3 && amount % 10 != 0 {
        return Err(unsupported(
            "amount_not_representable",
            format!("Stripe needs {currency} amounts in multiples of 0.010; {money} is not"),
        ));
    }
    if amount > MAX_AMOUNT {
        return Err(unsupported(
            "amount_too_large",
            format!("{money} exceeds Stripe's eight-digit amount limit"),
        ));
    }
    Ok(amount)
}

/// Stripe's `amount` and `currency` (any case) → our money.
pub fn from_stripe_amount(amount: i64, currency: &str) -> Result<Money, Error> {
    let currency = Currency::parse(currency)?;
    let stripe_exp = stripe_exponent(currency).ok_or_else(|| {
        unsupported(
            "currency_not_supported",
            format!("unexpected Stripe currency {currency}"),
        )
    })?;
    let iso_exp = currency.exponent();
    let minor = if stripe_exp >= iso_exp {
        let divisor = 10_i64.pow(stripe_exp - iso_exp);
        if amount % divisor != 0 {
            // ISK comes as hundredths that must be whole krónur: never truncate.
            return Err(unsupported(
                "amount_not_representable",
                format!("Stripe amount {amount} {currency} is not a whole number of minor units"),
            ));
        }
        amount / divisor
    } else {
        amount
            .checked_mul(10_i64.pow(iso_exp - stripe_exp))
            .ok_or_else(|| unsupported("amount_too_large", "Stripe amount overflows".into()))?
    };
    Ok(Money::new(minor, currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::parse(code).unwrap())
    }

    #[test]
    fn two_decimal_currencies_pass_minor_units_through() {
        assert_eq!(to_stripe_amount(money(14990, "TRY")).unwrap(), 14990);
        assert_eq!(to_stripe_amount(money(1000, "USD")).unwrap(), 1000);
        assert_eq!(to_stripe_amount(money(1999, "EUR")).unwrap(), 1999);
    }

    #[test]
    fn zero_decimal_currencies_send_whole_units() {
        assert_eq!(to_stripe_amount(money(1500, "JPY")).unwrap(), 1500);
        assert_eq!(to_stripe_amount(money(50000, "KRW")).unwrap(), 50000);
        // MGA has two ISO decimals but Stripe charges whole ariary.
        assert_eq!(to_stripe_amount(money(120000, "MGA")).unwrap(), 1200);
        assert!(to_stripe_amount(money(120050, "MGA")).is_err());
    }

    #[test]
    fn three_decimal_currencies_need_a_final_zero() {
        assert_eq!(to_stripe_amount(money(5120, "KWD")).unwrap(), 5120);
        assert_eq!(to_stripe_amount(money(10000, "BHD")).unwrap(), 10000);
        let err = to_stripe_amount(money(5124, "KWD")).unwrap_err();
        assert_eq!(err.code(), "amount_not_representable");
    }

    #[test]
    fn isk_is_sent_with_two_decimals() {
        assert_eq!(to_stripe_amount(money(500, "ISK")).unwrap(), 50000);
    }

    #[test]
    fn stripe_amounts_that_are_not_whole_minor_units_are_refused() {
        assert_eq!(from_stripe_amount(50000, "isk").unwrap(), money(500, "ISK"));
        assert!(from_stripe_amount(50050, "isk").is_err());
    }

    #[test]
    fn refuses_what_stripe_cannot_take() {
        assert_eq!(
            to_stripe_amount(money(0, "TRY")).unwrap_err().code(),
            "nothing_to_pay"
        );
        assert_eq!(
            to_stripe_amount(money(-5, "TRY")).unwrap_err().code(),
            "nothing_to_pay"
        );
        assert_eq!(
            to_stripe_amount(money(100_000_000, "TRY"))
                .unwrap_err()
                .code(),
            "amount_too_large"
        );
        assert_eq!(
            to_stripe_amount(money(1000, "CLF")).unwrap_err().code(),
            "currency_not_supported"
        );
    }

    proptest! {
        #[test]
        fn accepted_amounts_round_trip(minor in 1i64..MAX_AMOUNT,
                                       code in prop::sample::select(vec![
                                           "TRY", "USD", "EUR", "JPY", "KRW", "KWD", "BHD", "ISK", "MGA", "HUF"])) {
            let m = money(minor, code);
            if let Ok(amount) = to_stripe_amount(m) {
                prop_assert!((1..=MAX_AMOUNT).contains(&amount));
                prop_assert_eq!(from_stripe_amount(amount, &code.to_lowercase()).unwrap(), m);
            }
        }
    }
}
