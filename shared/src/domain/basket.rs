//! Splitting an order into gateway basket items that sum exactly to the
//! amount charged (iyzico rejects a basket whose items do not add up to
//! `price` with error 5062). Order-level discounts are spread over the lines
//! in proportion to their totals by the largest-remainder method, in integer
//! minor units, so there is no rounding drift; shipping is an item of its own.

use crate::domain::order::OrderContent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketItem {
    /// Stable within the order: the line's SKU, or `SHIPPING`.
    pub id: String,
    pub name: String,
    /// Minor units, always > 0.
    pub price: i64,
    pub physical: bool,
}

pub const SHIPPING_ITEM_ID: &str = "SHIPPING";

/// Basket items for an order; their prices sum to `order.total`. Lines whose
/// share of the discounts takes them to zero are left out (gateways refuse
/// zero-priced items); the sum is unaffected.
pub fn basket_items(order: &OrderContent) -> Vec<BasketItem> {
    let totals: Vec<i64> = order.lines.iter().map(|l| l.total.max(0)).collect();
    let shares = spread(order.discount_total, &totals);
    let mut items: Vec<BasketItem> = order
        .lines
        .iter()
        .zip(totals.iter().zip(shares))
        .map(|(line, (total, share))| BasketItem {
            id: line.sku.clone(),
            name: line.name.clone(),
            price: total - share,
            physical: true,
        })
        .collect();
    if order.shipping > 0 {
        items.push(BasketItem {
            id: SHIPPING_ITEM_ID.into(),
            name: "Kargo".into(),
            price: order.shipping,
            physical: false,
        });
    }
    items.retain(|i| i.price > 0);
    items
}

/// Splits `amount` over `weights` proportionally; the parts sum to `amount`
/// exactly and each is at most its weight when `amount ≤ Σ weights`.
pub fn spread(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if amount == 0 || total == 0 {
        return vec![0; weights.len()];
    }
    let amount = i128::from(amount);
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = amount * i128::from(*w);
        parts.push(exact / total);
        remainders.push((exact % total, i));
    }
    let mut left = amount - parts.iter().sum::<i128>();
    // Largest remainders first; ties go to the earlier line.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts.into_iter().map(|p| p as i64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{validate_submission, OrderSubmission};
    use proptest::prelude::*;

    fn order(lines: &[(i64, i64, i64)], discounts: &[i64], shipping: i64) -> Option<OrderContent> {
        let json = serde_json::json!({
            "currency": "TRY", "customerRef": "c",
            "lines": lines.iter().enumerate().map(|(i, (q, p, d))| serde_json::json!({
                "sku": format!("SKU-{i}"), "name": "x", "quantity": q, "unitPrice": p, "discount": d
            })).collect::<Vec<_>>(),
            "discounts": discounts.iter().map(|a| serde_json::json!({"amount": a})).collect::<Vec<_>>(),
            "shipping": shipping
        });
        let sub: OrderSubmission = serde_json::from_value(json).unwrap();
        validate_submission(&sub).ok()
    }

    #[test]
    fn a_discount_that_does_not_divide_evenly_still_sums_exactly() {
        let o = order(&[(1, 1000, 0), (1, 1000, 0), (1, 1000, 0)], &[100], 2990).unwrap();
        let items = basket_items(&o);
        assert_eq!(items.iter().map(|i| i.price).sum::<i64>(), o.total);
        assert_eq!(
            items.iter().map(|i| i.price).collect::<Vec<_>>(),
            vec![966, 967, 967, 2990]
        );
    }

    #[test]
    fn spread_is_proportional_and_exact() {
        assert_eq!(spread(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(spread(0, &[5, 5]), vec![0, 0]);
        assert_eq!(spread(7, &[0, 0]), vec![0, 0]);
        assert_eq!(spread(100, &[100]), vec![100]);
    }

    proptest! {
        #[test]
        fn basket_items_always_sum_to_the_total_and_are_positive(
            lines in prop::collection::vec((1i64..20, 0i64..500_000, 0i64..1000), 1..15),
            discount_parts in prop::collection::vec(1i64..100_000, 0..4),
            shipping in 0i64..10_000,
        ) {
            // Keep line discounts within their line and order discounts within the subtotal.
            let lines: Vec<(i64, i64, i64)> = lines.into_iter().map(|(q, p, d)| (q, p, d.min(q * p))).collect();
            let subtotal: i64 = lines.iter().map(|(q, p, d)| q * p - d).sum();
            let mut discounts = Vec::new();
            let mut left = subtotal;
            for d in discount_parts {
                if d <= left { discounts.push(d); left -= d; }
            }
            let o = order(&lines, &discounts, shipping).expect("valid order");
            let items = basket_items(&o);
            prop_assert_eq!(items.iter().map(|i| i.price).sum::<i64>(), o.total);
            prop_assert!(items.iter().all(|i| i.price > 0));
        }

        #[test]
        fn spread_parts_sum_and_stay_within_weights(
            weights in prop::collection::vec(0i64..1_000_000, 1..20),
            pick in any::<u64>(),
        ) {
            let total: i64 = weights.iter().sum();
            let amount = (pick % (total as u64 + 1)) as i64;
            let parts = spread(amount, &weights);
            prop_assert_eq!(parts.iter().sum::<i64>(), if total == 0 { 0 } else { amount });
            for (p, w) in parts.iter().zip(&weights) {
                prop_assert!(*p >= 0 && p <= w);
            }
        }
    }
}
