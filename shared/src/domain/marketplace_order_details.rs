//! The whole marketplace order beyond what moves stock: money per line and
//! per package, cargo, the marketplace's own words, and the buyer's personal
//! data. Pure: the providers read these from the wire, the intake stores
//! them with the order (`domain::marketplace_order::apply_snapshot_with`).
//!
//! Two rules live here:
//! - **Totals are checked, not trusted.** [`check_totals`] adds the lines up
//!   against the package's own totals; what does not add up (or could not
//!   be read as exact money) is kept on the package as a problem and
//!   reported once as `integration.error`.
//! - **Personal data is kept apart and only for a while** (KVKK). The order
//!   item keeps non-personal facts; [`PersonalData`] is stored as its own
//!   item with a TTL from [`erase_after_ms`]: a configurable retention after
//!   the order is closed (delivered, returned, cancelled), and a backstop for
//!   orders we never hear the end of. Its `Debug` prints nothing personal,
//!   so it cannot reach a log by accident.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::money::{Currency, Money};

/// One order line as the marketplace describes it. Money is per unit unless
/// the name says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    pub quantity: u32,
    /// Unit price before discounts (Trendyol `amount`, Hepsiburada `unitPrice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
    /// Seller-funded discount per unit (Trendyol `discount`, Hepsiburada
    /// `merchantDiscount.unitPrice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_discount: Option<Money>,
    /// Marketplace-funded discount per unit (Trendyol `tyDiscount`,
    /// Hepsiburada `hbDiscount.unitPrice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_marketplace_discount: Option<Money>,
    /// What the buyer pays per unit (Trendyol `price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_sale_price: Option<Money>,
    /// What the buyer pays for the whole line, when the marketplace says
    /// (Hepsiburada `totalPrice`); otherwise sale price × quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_total: Option<Money>,
    /// VAT rate in percent, as the marketplace wrote it ("20", "10", "1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<String>,
    /// VAT included in the line total (Hepsiburada `vat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat: Option<Money>,
    /// The marketplace's commission on the line (Hepsiburada `commission`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_rate: Option<String>,
    /// Hepsiburada's package number, once the line is packed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_number: Option<String>,
}

impl LineFacts {
    /// What the buyer pays for the line: the marketplace's line total, or
    /// sale price × quantity.
    pub fn amount(&self) -> Option<Money> {
        self.line_total.or_else(|| {
            self.unit_sale_price
                .and_then(|p| p.checked_mul(i64::from(self.quantity)).ok())
        })
    }
}

/// A Trendyol shipment package (or a Hepsiburada order as a whole): its
/// totals and cargo, as last described.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageFacts {
    /// When the marketplace described it so (the snapshot's time): an older
    /// description never replaces a newer one.
    pub observed_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Before discounts (Trendyol `grossAmount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross: Option<Money>,
    /// Seller-funded discounts (Trendyol `totalDiscount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
    /// Marketplace-funded discounts (Trendyol `totalTyDiscount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_discount: Option<Money>,
    /// What the buyer pays (Trendyol `totalPrice`; for Hepsiburada the sum
    /// of its line totals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cargo_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_link: Option<String>,
    /// The date the marketplace promised the buyer (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreed_delivery_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_type: Option<String>,
    /// Money we could not read exactly, totals that do not add up: kept
    /// here, reported once, never silently trusted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// An address as the marketplace gives it (personal data).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Street, number, neighbourhood: the marketplace's full address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Hepsiburada `town` (ilçe); Trendyol gives `district` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Invoice addresses: vergi dairesi, vergi no, T.C. kimlik no.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_office: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_number: Option<String>,
}

/// The buyer's personal data of one order. Stored apart from the order,
/// erased after the retention; `Debug` shows only which parts are there.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonalData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_email: Option<String>,
    /// The marketplace's customer id (pseudonymous, but it identifies a
    /// person together with the order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_address: Option<Address>,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address(<personal data>)")
    }
}

impl fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PersonalData(<personal data>; shipping {}, invoice {})",
            self.shipping_address.is_some(),
            self.invoice_address.is_some()
        )
    }
}

impl PersonalData {
    pub fn is_empty(&self) -> bool {
        *self == PersonalData::default()
    }

    /// A digest of the data, kept on the order so a snapshot that repeats
    /// the same data writes nothing. Not reversible to the data in practice
    /// (SHA-256 over the whole record), and it leaves with the order's
    /// non-personal facts only.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).expect("personal data serializes");
        let digest = Sha256::digest(&json);
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What a snapshot says beyond status and stock (absent: a webhook or a
/// report that names only the status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotDetails {
    pub package: PackageFacts,
    /// By the marketplace's line id.
    pub lines: BTreeMap<String, LineFacts>,
    pub personal: Option<PersonalData>,
}

/// Where the order's personal data stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonalRecord {
    /// [`PersonalData::fingerprint`] of what is stored.
    pub fingerprint: String,
    /// When it is erased (epoch ms); the item's TTL.
    pub erase_after_ms: i64,
    /// When the stored data was described (an older description never
    /// replaces it).
    pub observed_ms: i64,
}

/// How long personal data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalDataRetention {
    /// After the order is closed (every package delivered, returned or
    /// cancelled): returns, invoices and disputes need it that long.
    pub after_close_ms: i64,
    /// An order we never hear the end of is treated as closed this long
    /// after we first saw it.
    pub open_backstop_ms: i64,
}

const DAY_MS: i64 = 86_400_000;

impl Default for PersonalDataRetention {
    fn default() -> Self {
        PersonalDataRetention {
            after_close_ms: 30 * DAY_MS,
            open_backstop_ms: 90 * DAY_MS,
        }
    }
}

impl PersonalDataRetention {
    pub fn days(after_close_days: u32, open_backstop_days: u32) -> Self {
        PersonalDataRetention {
            after_close_ms: i64::from(after_close_days) * DAY_MS,
            open_backstop_ms: i64::from(open_backstop_days) * DAY_MS,
        }
    }
}

/// When an order's personal data is erased: `closed_ms` (when its last
/// package closed, if all have) plus the retention, else the backstop.
pub fn erase_after_ms(
    retention: PersonalDataRetention,
    first_seen_ms: i64,
    closed_ms: Option<i64>,
) -> i64 {
    match closed_ms {
        Some(at) => at.saturating_add(retention.after_close_ms),
        None => first_seen_ms
            .saturating_add(retention.open_backstop_ms)
            .saturating_add(retention.after_close_ms),
    }
}

fn same_currency(a: Money, b: Money, what: &str, problems: &mut Vec<String>) -> bool {
    if a.currency == b.currency {
        true
    } else {
        problems.push(format!(
            "{what}: currency {} differs from {}",
            b.currency, a.currency
        ));
        false
    }
}

/// Adds the lines up against the package: each line's total against its
/// unit sale price × quantity, the lines against the package's total and
/// gross. Returns what does not add up (empty: all consistent, or nothing
/// to compare).
pub fn check_totals(package: &PackageFacts, lines: &BTreeMap<String, LineFacts>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut total: Option<Money> = None;
    let mut total_complete = true;
    let mut gross: Option<Money> = None;
    let mut gross_complete = true;
    for (id, line) in lines {
        let qty = i64::from(line.quantity);
        if let (Some(sale), Some(line_total)) = (line.unit_sale_price, line.line_total) {
            if same_currency(sale, line_total, &format!("line {id}"), &mut problems) {
                if let Ok(expected) = sale.checked_mul(qty) {
                    if expected != line_total {
                        problems.push(format!(
                            "line {id}: total {line_total} is not {qty} × {sale} = {expected}"
                        ));
                    }
                }
            }
        }
        match line.amount() {
            Some(a) => {
                total = Some(match total {
                    None => a,
                    Some(t) => match t.checked_add(a) {
                        Ok(s) => s,
                        Err(_) => {
                            problems.push(format!("line {id}: currency {} differs", a.currency));
                            total_complete = false;
                            t
                        }
                    },
                })
            }
            None => total_complete = false,
        }
        match line.unit_price.and_then(|p| p.checked_mul(qty).ok()) {
            Some(g) => gross = Some(gross.map_or(Ok(g), |s| s.checked_add(g)).unwrap_or(g)),
            None => gross_complete = false,
        }
    }
    if let (Some(declared), Some(sum), true) = (package.total, total, total_complete) {
        if same_currency(declared, sum, "lines", &mut problems) && declared != sum {
            problems.push(format!(
                "package total {declared} is not the lines' sum {sum}"
            ));
        }
    }
    if let (Some(declared), Some(sum), true) = (package.gross, gross, gross_complete) {
        if same_currency(declared, sum, "lines (gross)", &mut problems) && declared != sum {
            problems.push(format!(
                "package gross {declared} is not the lines' sum before discounts {sum}"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn try_(minor: i64) -> Money {
        Money::new(minor, Currency::TRY)
    }

    fn line(qty: u32, unit: i64, sale: i64) -> LineFacts {
        LineFacts {
            quantity: qty,
            unit_price: Some(try_(unit)),
            unit_discount: Some(try_(unit - sale)),
            unit_sale_price: Some(try_(sale)),
            ..Default::default()
        }
    }

    #[test]
    fn totals_that_add_up_have_no_problems() {
        let lines = BTreeMap::from([
            ("1".into(), line(2, 1050, 999)),
            ("2".into(), line(1, 1, 1)),
        ]);
        let package = PackageFacts {
            gross: Some(try_(2101)),
            total: Some(try_(1999)),
            ..Default::default()
        };
        assert_eq!(check_totals(&package, &lines), Vec::<String>::new());
    }

    #[test]
    fn a_total_that_does_not_add_up_is_a_problem_naming_both_amounts() {
        let mut lines = BTreeMap::from([("1".into(), line(2, 1050, 999))]);
        let package = PackageFacts {
            gross: Some(try_(2100)),
            total: Some(try_(1997)),
            ..Default::default()
        };
        let problems = check_totals(&package, &lines);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("19.97 TRY") && problems[0].contains("19.98 TRY"));
        lines.get_mut("1").unwrap().line_total = Some(try_(1999));
        let problems = check_totals(&PackageFacts::default(), &lines);
        assert!(
            problems[0].starts_with("line 1: total 19.99 TRY"),
            "{problems:?}"
        );
        lines.get_mut("1").unwrap().line_total =
            Some(Money::new(1998, Currency::parse("EUR").unwrap()));
        assert!(check_totals(&PackageFacts::default(), &lines)[0].contains("currency"));
    }

    #[test]
    fn a_line_without_money_leaves_the_sum_unchecked() {
        let lines = BTreeMap::from([
            ("1".into(), line(1, 100, 100)),
            (
                "2".into(),
                LineFacts {
                    quantity: 1,
                    ..Default::default()
                },
            ),
        ]);
        let package = PackageFacts {
            total: Some(try_(5)),
            ..Default::default()
        };
        assert!(check_totals(&package, &lines).is_empty());
    }

    #[test]
    fn personal_data_never_shows_in_debug_output() {
        let p = PersonalData {
            buyer_name: Some("Ayşe Yılmaz".into()),
            buyer_email: Some("ayse@example.com".into()),
            customer_id: Some("42".into()),
            shipping_address: Some(Address {
                phone: Some("05321234567".into()),
                address: Some("Moda Cad. 5".into()),
                ..Default::default()
            }),
            invoice_address: None,
        };
        let shown = format!("{p:?} {:?}", p.shipping_address);
        for secret in ["Ayşe", "ayse@", "0532", "Moda"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(p.fingerprint().len(), 32);
        assert_ne!(p.fingerprint(), PersonalData::default().fingerprint());
    }

    #[test]
    fn personal_data_is_erased_a_retention_after_closing_or_after_the_backstop() {
        let r = PersonalDataRetention::days(30, 90);
        assert_eq!(erase_after_ms(r, 0, Some(5 * DAY_MS)), 35 * DAY_MS);
        assert_eq!(erase_after_ms(r, DAY_MS, None), 121 * DAY_MS);
    }
}
