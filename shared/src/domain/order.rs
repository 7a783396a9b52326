//! Orders as the AyazTrade platform hands them to us, and the rules that turn a
//! submitted order into a stored one. Totals are always computed here from the
//! lines; a total sent by the platform is only checked against ours.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::payment::PaymentStatus;
use crate::error::FieldError;
use crate::money::{Currency, Money};

pub const MAX_LINES: usize = 500;
pub const MAX_QUANTITY: i64 = 10_000;

/// The body of `PUT /orders/{orderId}`. Amounts are integers in minor units.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderSubmission {
    pub currency: String,
    pub customer_ref: String,
    pub lines: Vec<LineSubmission>,
    #[serde(default)]
    pub discounts: Vec<DiscountSubmission>,
    #[serde(default)]
    pub shipping: i64,
    /// Optional: if sent, it must equal the total we compute.
    #[serde(default)]
    pub total: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineSubmission {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    /// Discount on this line as a whole (not per unit).
    #[serde(default)]
    pub discount: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscountSubmission {
    #[serde(default)]
    pub code: Option<String>,
    pub amount: i64,
}

/// A validated order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub discount: i64,
    /// quantity × unit price − discount.
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDiscount {
    pub code: Option<String>,
    pub amount: i64,
}

/// The order content we store: validated, with totals computed by us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderContent {
    pub currency: Currency,
    pub customer_ref: String,
    pub lines: Vec<OrderLine>,
    pub discounts: Vec<OrderDiscount>,
    pub shipping: i64,
    /// Σ line totals.
    pub subtotal: i64,
    /// Σ order-level discounts.
    pub discount_total: i64,
    /// subtotal − discount_total + shipping: the amount to charge.
    pub total: i64,
}

impl OrderContent {
    pub fn total_money(&self) -> Money {
        Money::new(self.total, self.currency)
    }

    /// A digest of the content, so a repeated identical PUT is recognised
    /// without comparing field by field.
    pub fn content_hash(&self) -> String {
        let canonical = serde_json::to_vec(self).expect("order content serializes");
        hex::encode(Sha256::digest(canonical))
    }
}

/// An order as stored, with its payment state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub content: OrderContent,
    pub payment_status: PaymentStatus,
    pub version: u64,
    pub collected: Collected,
}

/// What the payment events recorded about the money collected for an order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// `stripe` / `iyzico`: whoever collected it.
    pub provider: Option<String>,
    /// That gateway's payment id (PaymentIntent, iyzico paymentId).
    pub provider_ref: Option<String>,
    /// Minor units collected.
    pub paid_minor: Option<i64>,
    /// When that payment succeeded (RFC 3339), as its notice said.
    pub paid_at: Option<String>,
    /// Minor units refunded so far.
    pub refunded_minor: i64,
}

/// Order ids appear in keys, metadata and idempotency keys: keep them plain.
pub fn validate_order_id(id: &str) -> Result<(), FieldError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "orderId",
            "must be 1–64 characters of A–Z, a–z, 0–9, '-' or '_', starting with a letter or digit",
        ))
    }
}

fn check_text(errors: &mut Vec<FieldError>, field: String, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

/// Validates a submission and computes its totals. Every problem is reported,
/// each with the path of its field, so the platform can fix them in one go.
pub fn validate_submission(sub: &OrderSubmission) -> Result<OrderContent, Vec<FieldError>> {
    let mut errors = Vec::new();
    let currency = match Currency::parse(&sub.currency) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(FieldError::new("currency", e.to_string()));
            None
        }
    };
    check_text(&mut errors, "customerRef".into(), &sub.customer_ref, 128);
    if sub.lines.is_empty() {
        errors.push(FieldError::new("lines", "an order needs at least one line"));
    }
    if sub.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    let (lines, subtotal) = validate_lines(&sub.lines, &mut errors);
    let (discounts, discount_total) = validate_discounts(&sub.discounts, &mut errors);
    if discount_total > subtotal {
        errors.push(FieldError::new(
            "discounts",
            "order discounts exceed the line subtotal",
        ));
    }
    if sub.shipping < 0 {
        errors.push(FieldError::new("shipping", "must not be negative"));
    }
    let total = subtotal
        .checked_sub(discount_total)
        .and_then(|t| t.checked_add(sub.shipping));
    let Some(total) = total else {
        errors.push(overflow("shipping"));
        return Err(errors);
    };
    if let Some(claimed) = sub.total {
        if claimed != total {
            errors.push(FieldError::new(
                "total",
                format!("does not match the computed total {total} (lines − discounts + shipping)"),
            ));
        }
    }
    match (currency, errors.is_empty()) {
        (Some(currency), true) => Ok(OrderContent {
            currency,
            customer_ref: sub.customer_ref.trim().to_string(),
            lines,
            discounts,
            shipping: sub.shipping,
            subtotal,
            discount_total,
            total,
        }),
        _ => Err(errors),
    }
}

fn overflow(field: &str) -> FieldError {
    FieldError::new(field, "amount is too large")
}

/// The submitted lines with their totals, and their subtotal; each problem
/// goes to `errors` (a line whose gross overflows is left out).
fn validate_lines(
    submitted: &[LineSubmission],
    errors: &mut Vec<FieldError>,
) -> (Vec<OrderLine>, i64) {
    let mut lines = Vec::with_capacity(submitted.len());
    let mut subtotal: i64 = 0;
    for (i, line) in submitted.iter().enumerate() {
        let at = |name: &str| format!("lines[{i}].{name}");
        check_text(errors, at("sku"), &line.sku, 64);
        check_text(errors, at("name"), &line.name, 255);
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            errors.push(FieldError::new(
                at("quantity"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        if line.unit_price < 0 {
            errors.push(FieldError::new(at("unitPrice"), "must not be negative"));
        }
        if line.discount < 0 {
            errors.push(FieldError::new(at("discount"), "must not be negative"));
        }
        let Some(gross) = line.quantity.checked_mul(line.unit_price) else {
            errors.push(overflow(&at("unitPrice")));
            continue;
        };
        if line.discount > gross.max(0) {
            errors.push(FieldError::new(
                at("discount"),
                "must not exceed quantity × unitPrice",
            ));
        }
        let total = gross - line.discount.max(0);
        match subtotal.checked_add(total) {
            Some(s) => subtotal = s,
            None => errors.push(overflow(&at("unitPrice"))),
        }
        lines.push(OrderLine {
            sku: line.sku.trim().to_string(),
            name: line.name.trim().to_string(),
            quantity: line.quantity,
            unit_price: line.unit_price,
            discount: line.discount,
            total,
        });
    }
    (lines, subtotal)
}

/// The order-level discounts and their total; each problem goes to `errors`.
fn validate_discounts(
    submitted: &[DiscountSubmission],
    errors: &mut Vec<FieldError>,
) -> (Vec<OrderDiscount>, i64) {
    let mut discount_total: i64 = 0;
    let mut discounts = Vec::with_capacity(submitted.len());
    for (i, d) in submitted.iter().enumerate() {
        if d.amount <= 0 {
            errors.push(FieldError::new(
                format!("discounts[{i}].amount"),
                "must be positive",
            ));
        }
        match discount_total.checked_add(d.amount.max(0)) {
            Some(t) => discount_total = t,
            None => errors.push(overflow(&format!("discounts[{i}].amount"))),
        }
        discounts.push(OrderDiscount {
            code: d.code.clone(),
            amount: d.amount,
        });
    }
    (discounts, discount_total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(json: serde_json::Value) -> OrderSubmission {
        serde_json::from_value(json).unwrap()
    }

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "currency": "TRY",
            "customerRef": "cust-42",
            "lines": [
                {"sku": "TSHIRT-M", "name": "T-shirt", "quantity": 2, "unitPrice": 14990, "discount": 990},
                {"sku": "MUG", "name": "Mug", "quantity": 1, "unitPrice": 7500}
            ],
            "discounts": [{"code": "WELCOME", "amount": 2000}],
            "shipping": 2990
        })
    }

    #[test]
    fn given_a_valid_order_when_validated_then_totals_are_computed() {
        let content = validate_submission(&submission(sample())).unwrap();
        assert_eq!(content.lines[0].total, 2 * 14990 - 990);
        assert_eq!(content.subtotal, 28990 + 7500);
        assert_eq!(content.total, 28990 + 7500 - 2000 + 2990);
        assert_eq!(content.total_money().to_major_string(), "374.80");
    }

    #[test]
    fn given_a_wrong_claimed_total_then_it_is_rejected() {
        let mut json = sample();
        json["total"] = serde_json::json!(100);
        let errors = validate_submission(&submission(json)).unwrap_err();
        assert_eq!(errors[0].field, "total");
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let json = serde_json::json!({
            "currency": "XXQ",
            "customerRef": " ",
            "lines": [{"sku": "", "name": "x", "quantity": 0, "unitPrice": -1, "discount": 5}],
            "discounts": [{"amount": 0}],
            "shipping": -3
        });
        let fields: Vec<String> = validate_submission(&submission(json))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        for expected in [
            "currency",
            "customerRef",
            "lines[0].sku",
            "lines[0].quantity",
            "lines[0].unitPrice",
            "lines[0].discount",
            "discounts[0].amount",
            "shipping",
        ] {
            assert!(
                fields.contains(&expected.to_string()),
                "{expected} missing in {fields:?}"
            );
        }
    }

    #[test]
    fn overflowing_amounts_are_errors_not_wraparounds() {
        let json = serde_json::json!({
            "currency": "TRY", "customerRef": "c",
            "lines": [{"sku": "a", "name": "a", "quantity": 10000, "unitPrice": i64::MAX / 2}]
        });
        assert!(validate_submission(&submission(json)).is_err());
    }

    #[test]
    fn content_hash_is_stable_and_sensitive() {
        let a = validate_submission(&submission(sample())).unwrap();
        let b = validate_submission(&submission(sample())).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        let mut json = sample();
        json["shipping"] = serde_json::json!(0);
        let c = validate_submission(&submission(json)).unwrap();
        assert_ne!(a.content_hash(), c.content_hash());
    }

    #[test]
    fn order_ids_are_plain() {
        assert!(validate_order_id("ord_2026-11-26_0001").is_ok());
        for bad in ["", "-lead", "has space", "ünicode", "a/b", &"x".repeat(65)] {
            assert!(validate_order_id(bad).is_err(), "{bad:?}");
        }
    }
}
