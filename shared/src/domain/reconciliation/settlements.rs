//! A marketplace's settlement records (Trendyol's current-account
//! statement, docs/marketplace-wire.md T15; Hepsiburada's record-based
//! accounting, H14) against our stored orders, without I/O: what a sale,
//! return or commission record says about one line of one order, what
//! differs, and the commission to keep on the line.
//!
//! A record names the order and the product (Trendyol: the barcode;
//! Hepsiburada: our merchant SKU), not our line id: it is matched with the
//! order's lines of that product. A sale's amount is compared with what the
//! buyer pays for those lines (`LineFacts::amount`). A Trendyol sale's
//! commission is kept on the line; a Hepsiburada commission record is
//! compared with the commission stored on the line (its order list's), and
//! kept when none is stored. Commission is written only when exactly one
//! line carries the product (several: which line it belongs to is not said).

use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::MarketplaceOrder;
use crate::domain::marketplace_order_details::LineFacts;
use crate::money::Money;

use super::{Difference, DifferenceKind, Side};

/// What a settlement record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementKind {
    /// Money for a delivered line (Trendyol `Sale`).
    Sale,
    /// Money given back for a returned line (Trendyol `Return`).
    Return,
    /// The marketplace's commission on a line, as its own record
    /// (Hepsiburada `Commission`).
    Commission,
}

impl SettlementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementKind::Sale => "sale",
            SettlementKind::Return => "return",
            SettlementKind::Commission => "commission",
        }
    }
}

/// One settlement record as the marketplace lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRecord {
    pub marketplace: Marketplace,
    /// The marketplace's record id (for the log and the report message).
    pub record_id: String,
    pub kind: SettlementKind,
    pub order_number: String,
    pub barcode: Option<String>,
    /// Our merchant SKU, where the record names the product so (and no
    /// barcode).
    pub sku: Option<String>,
    /// The shipment package, when the record names it: what a lost order
    /// is read back by.
    pub package_id: Option<String>,
    /// The sale's (credit), return's (debt) or commission record's amount,
    /// exact (its magnitude).
    pub amount: Money,
    /// The marketplace's commission on the record (its magnitude).
    pub commission: Option<Money>,
    /// The commission rate in percent, as the marketplace wrote it.
    pub commission_rate: Option<String>,
}

/// The commission to keep on one line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionWrite {
    pub line_id: String,
    pub commission: Money,
    pub rate: Option<String>,
}

/// What comparing one record with our order found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettlementCheck {
    /// We do not hold the order: read it back and take it in.
    pub take_in: bool,
    pub difference: Option<Difference>,
    /// The commission to store (absent when already stored).
    pub commission: Option<CommissionWrite>,
}

/// The lines of `order` with the record's product (its barcode, else its
/// SKU), by line id. A sale or commission is about lines still sold: a
/// line cancelled or not supplied (its units back in stock, perhaps split
/// into a package that never shipped) is left out; a return may be about
/// any of them.
fn lines_of<'o>(
    order: &'o MarketplaceOrder,
    record: &SettlementRecord,
) -> Vec<(&'o String, &'o LineFacts)> {
    order
        .line_facts
        .iter()
        .filter(|(id, _)| {
            record.kind == SettlementKind::Return
                || !order
                    .lines
                    .get(*id)
                    .is_some_and(|l| matches!(l.status.as_str(), "cancelled" | "unsupplied"))
        })
        .filter(|(id, l)| match (&record.barcode, &record.sku) {
            (Some(barcode), _) => l.barcode.as_ref() == Some(barcode),
            (None, Some(sku)) => order
                .lines
                .get(*id)
                .is_some_and(|state| state.sku.as_ref() == Some(sku)),
            (None, None) => false,
        })
        .collect()
}

/// The record a difference is about, as it names it (`line`, part of its
/// identity): the barcode or SKU, `/commission` added for a commission
/// record, then `@` and the marketplace's record id — two returns of one
/// line on one day are two differences, and a rerun finds the same ones.
fn record_ref(record: &SettlementRecord) -> String {
    let product = record
        .barcode
        .clone()
        .or_else(|| record.sku.clone())
        .unwrap_or_default();
    let kind = match record.kind {
        SettlementKind::Commission => "/commission",
        _ => "",
    };
    format!("{product}{kind}@{}", record.record_id)
}

/// The commission stored on these lines (`None`: a line without one, or
/// mixed currencies).
fn lines_commission(lines: &[(&String, &LineFacts)]) -> Option<Money> {
    sum(lines.iter().map(|(_, l)| l.commission))
}

/// What the buyer pays for these lines (`None`: a line without an amount,
/// or mixed currencies).
fn lines_amount(lines: &[(&String, &LineFacts)]) -> Option<Money> {
    sum(lines.iter().map(|(_, l)| l.amount()))
}

/// A line's price before discounts (unit price × quantity).
fn before_discounts(l: &LineFacts) -> Option<Money> {
    l.unit_price
        .and_then(|p| p.checked_mul(i64::from(l.quantity)).ok())
}

/// Whether a sale's amount is what these lines sold for. Which figure a
/// sale record carries is UNCONFIRMED (T15): what the buyer paid, or the
/// price before the seller's discounts (debited as their own Discount and
/// Coupon records, which we do not read). Either agrees; so does one line
/// of several of the product (a record per line, each package settled on
/// its own day). Anything else is a real difference.
fn sale_agrees(lines: &[(&String, &LineFacts)], amount: Money) -> bool {
    let all = [
        lines_amount(lines),
        sum(lines.iter().map(|(_, l)| before_discounts(l))),
    ];
    all.into_iter()
        .chain(
            lines
                .iter()
                .flat_map(|(_, l)| [l.amount(), before_discounts(l)]),
        )
        .any(|a| a == Some(amount))
}

/// The sum of amounts; `None` when one is missing or currencies mix.
pub(super) fn sum(amounts: impl Iterator<Item = Option<Money>>) -> Option<Money> {
    let mut total: Option<Money> = None;
    for a in amounts {
        let a = a?;
        total = Some(match total {
            None => a,
            Some(t) => t.checked_add(a).ok()?,
        });
    }
    total
}

fn settlement_difference(
    record: &SettlementRecord,
    stored: Option<&MarketplaceOrder>,
    ours: Option<Money>,
    kind: DifferenceKind,
    message: String,
) -> Difference {
    Difference {
        kind,
        provider: record.marketplace.as_str().to_string(),
        provider_ref: record.order_number.clone(),
        order_id: None,
        line: Some(record_ref(record)),
        provider_side: Side {
            status: format!("settlement_{}", record.kind.as_str()),
            amount: (record.kind != SettlementKind::Return).then_some(record.amount),
            refunded: (record.kind == SettlementKind::Return).then_some(record.amount),
            paid_by: None,
        },
        our_side: stored.map(|o| Side {
            status: o.status().to_string(),
            amount: ours,
            refunded: None,
            paid_by: None,
        }),
        action: kind.action().to_string(),
        message,
    }
}

/// Compares one settlement record with our order of its number (`None`: we
/// do not hold it).
///
/// - no order: take it in (the caller reads the package back; what it
///   cannot take in is [`settlement_missing_here`]);
/// - no line of the record's barcode: `missing_here`;
/// - a sale for another amount than the buyer pays for those lines:
///   `amount_differs` (the commission is not kept: it belongs to an amount
///   we do not agree with);
/// - a return for lines with no claim and no return or cancellation of ours:
///   `refund_differs`;
/// - a sale that agrees: its commission is kept on the line, unless already.
pub fn check_settlement(
    record: &SettlementRecord,
    stored: Option<&MarketplaceOrder>,
) -> SettlementCheck {
    let Some(order) = stored else {
        return SettlementCheck {
            take_in: true,
            ..Default::default()
        };
    };
    let lines = lines_of(order, record);
    if lines.is_empty() {
        return SettlementCheck {
            difference: Some(settlement_difference(
                record,
                stored,
                None,
                DifferenceKind::MissingHere,
                format!(
                    "settlement record {}: the marketplace settled a product of this order we hold no line of",
                    record.record_id
                ),
            )),
            ..Default::default()
        };
    }
    let ours = lines_amount(&lines);
    match record.kind {
        SettlementKind::Sale => {
            if !sale_agrees(&lines, record.amount) {
                return SettlementCheck {
                    difference: Some(settlement_difference(
                        record,
                        stored,
                        ours,
                        DifferenceKind::AmountDiffers,
                        format!(
                            "settlement record {}: the marketplace settled another amount than the buyer pays for these lines here",
                            record.record_id
                        ),
                    )),
                    ..Default::default()
                };
            }
            let commission = match (&record.commission, lines.as_slice()) {
                (Some(c), [(line_id, facts)])
                    if facts.commission != Some(*c)
                        || (record.commission_rate.is_some()
                            && facts.commission_rate != record.commission_rate) =>
                {
                    Some(CommissionWrite {
                        line_id: (*line_id).clone(),
                        commission: *c,
                        rate: record
                            .commission_rate
                            .clone()
                            .or_else(|| facts.commission_rate.clone()),
                    })
                }
                _ => None,
            };
            SettlementCheck {
                commission,
                ..Default::default()
            }
        }
        SettlementKind::Commission => match (lines_commission(&lines), lines.as_slice()) {
            (Some(ours), _) if ours == record.amount => SettlementCheck::default(),
            (Some(ours), _) => SettlementCheck {
                difference: Some(settlement_difference(
                    record,
                    Some(order),
                    Some(ours),
                    DifferenceKind::AmountDiffers,
                    format!(
                        "settlement record {}: the marketplace charged another commission than the one stored on these lines",
                        record.record_id
                    ),
                )),
                ..Default::default()
            },
            // None stored yet (an order taken in from a source without
            // commission): kept, as a Trendyol sale's.
            (None, [(line_id, facts)]) => SettlementCheck {
                commission: Some(CommissionWrite {
                    line_id: (*line_id).clone(),
                    commission: record.amount,
                    rate: facts.commission_rate.clone(),
                }),
                ..Default::default()
            },
            (None, _) => SettlementCheck::default(),
        },
        SettlementKind::Return => {
            let ids: Vec<&String> = lines.iter().map(|(id, _)| *id).collect();
            let claimed = order.claims.values().any(|c| {
                c.items
                    .values()
                    .any(|i| i.order_line_id.as_ref().is_some_and(|l| ids.contains(&l)))
            });
            let given_back = ids.iter().any(|id| {
                order.lines.get(*id).is_some_and(|l| {
                    matches!(l.status.as_str(), "returned" | "cancelled" | "unsupplied")
                })
            });
            if claimed || given_back {
                return SettlementCheck::default();
            }
            SettlementCheck {
                difference: Some(settlement_difference(
                    record,
                    stored,
                    ours,
                    DifferenceKind::RefundDiffers,
                    format!(
                        "settlement record {}: the marketplace settled a return for lines we hold no claim, return or cancellation of",
                        record.record_id
                    ),
                )),
                ..Default::default()
            }
        }
    }
}

/// A record of an order we do not hold, and could not take in by reading
/// its package back.
pub fn settlement_missing_here(record: &SettlementRecord) -> Difference {
    settlement_difference(
        record,
        None,
        None,
        DifferenceKind::MissingHere,
        format!(
            "settlement record {}: the marketplace settled an order we do not hold (and could not read back)",
            record.record_id
        ),
    )
}

/// The order with the commission kept on its line; `None` when it already
/// holds exactly that (a rerun writes nothing) or no longer has the line.
pub fn with_commission(
    order: &MarketplaceOrder,
    write: &CommissionWrite,
) -> Option<MarketplaceOrder> {
    let facts = order.line_facts.get(&write.line_id)?;
    if facts.commission == Some(write.commission) && facts.commission_rate == write.rate {
        return None;
    }
    let mut order = order.clone();
    let facts = order.line_facts.get_mut(&write.line_id)?;
    facts.commission = Some(write.commission);
    facts.commission_rate = write.rate.clone();
    Some(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::marketplace_order::{apply_snapshot, LineSnapshot, OrderSnapshot};
    use crate::domain::marketplace_order_details::SnapshotDetails;
    use crate::money::Currency;

    fn try_(minor: i64) -> Money {
        Money::new(minor, Currency::TRY)
    }

    fn order(status: &str, lines: &[(&str, &str, u32, i64)]) -> MarketplaceOrder {
        apply_snapshot(None, &snapshot(status, lines, 1_000)).order
    }

    fn snapshot(status: &str, lines: &[(&str, &str, u32, i64)], at: i64) -> OrderSnapshot {
        let facts = lines
            .iter()
            .map(|(id, barcode, qty, unit)| {
                (
                    id.to_string(),
                    LineFacts {
                        barcode: Some(barcode.to_string()),
                        quantity: *qty,
                        unit_sale_price: Some(try_(*unit)),
                        ..Default::default()
                    },
                )
            })
            .collect();
        OrderSnapshot {
            marketplace: Marketplace::Trendyol,
            order_number: "TY-9".into(),
            package_id: Some("P9".into()),
            marketplace_status: status.into(),
            lines: lines
                .iter()
                .map(|(id, barcode, qty, _)| LineSnapshot {
                    line_id: id.to_string(),
                    sku: Some(barcode.to_string()),
                    quantity: *qty,
                    marketplace_status: None,
                })
                .collect(),
            occurred_ms: at,
            details: Some(Box::new(SnapshotDetails {
                package: Default::default(),
                lines: facts,
                personal: None,
            })),
        }
    }

    fn record(
        kind: SettlementKind,
        barcode: &str,
        amount: i64,
        commission: Option<i64>,
    ) -> SettlementRecord {
        SettlementRecord {
            marketplace: Marketplace::Trendyol,
            record_id: "725041340".into(),
            kind,
            order_number: "TY-9".into(),
            barcode: Some(barcode.into()),
            sku: None,
            package_id: Some("P9".into()),
            amount: try_(amount),
            commission: commission.map(try_),
            commission_rate: commission.map(|_| "15".to_string()),
        }
    }

    #[test]
    fn a_sale_that_agrees_keeps_its_commission_once() {
        let ours = order(
            "Delivered",
            &[("L1", "B1", 2, 5_000), ("L2", "B2", 1, 1_999)],
        );
        let check = check_settlement(
            &record(SettlementKind::Sale, "B1", 10_000, Some(1_500)),
            Some(&ours),
        );
        assert_eq!(check.difference, None);
        let write = check.commission.expect("a commission to keep");
        assert_eq!(write.line_id, "L1");
        let stored = with_commission(&ours, &write).expect("written");
        assert_eq!(stored.line_facts["L1"].commission, Some(try_(1_500)));
        assert_eq!(
            stored.line_facts["L1"].commission_rate.as_deref(),
            Some("15")
        );
        // A rerun finds it stored: nothing to write, nothing different.
        assert_eq!(
            check_settlement(
                &record(SettlementKind::Sale, "B1", 10_000, Some(1_500)),
                Some(&stored)
            ),
            SettlementCheck::default()
        );
        assert_eq!(with_commission(&stored, &write), None);
        // The package described again (a later webhook, the poll) does not
        // carry the commission, and does not drop it.
        let lines = [("L1", "B1", 2, 5_000), ("L2", "B2", 1, 1_999)];
        let later = apply_snapshot(Some(&stored), &snapshot("Delivered", &lines, 2_000)).order;
        assert_eq!(later.line_facts["L1"].commission, Some(try_(1_500)));
        assert_eq!(
            later.line_facts["L1"].commission_rate.as_deref(),
            Some("15")
        );
    }

    #[test]
    fn another_amount_or_an_unknown_product_is_a_difference_and_keeps_nothing() {
        let ours = order("Delivered", &[("L1", "B1", 2, 5_000)]);
        let check = check_settlement(
            &record(SettlementKind::Sale, "B1", 9_000, Some(1_350)),
            Some(&ours),
        );
        assert_eq!(check.commission, None);
        let d = check.difference.unwrap();
        assert_eq!(d.kind, DifferenceKind::AmountDiffers);
        assert_eq!(d.key(), "trendyol#TY-9#B1@725041340#amount_differs");
        assert_eq!(d.provider_side.amount, Some(try_(9_000)));
        assert_eq!(d.our_side.unwrap().amount, Some(try_(10_000)));
        let d = check_settlement(
            &record(SettlementKind::Sale, "B7", 10_000, None),
            Some(&ours),
        )
        .difference
        .unwrap();
        assert_eq!(d.kind, DifferenceKind::MissingHere);
        // Exact minor units: one kuruş is a difference.
        assert!(check_settlement(
            &record(SettlementKind::Sale, "B1", 10_001, None),
            Some(&ours)
        )
        .difference
        .is_some());
    }

    #[test]
    fn an_order_we_lack_is_taken_in_and_else_missing_here() {
        let check = check_settlement(&record(SettlementKind::Sale, "B1", 10_000, None), None);
        assert!(check.take_in);
        let d = settlement_missing_here(&record(SettlementKind::Sale, "B1", 10_000, None));
        assert_eq!(d.kind, DifferenceKind::MissingHere);
        assert_eq!(d.our_side, None);
    }

    #[test]
    fn a_return_needs_a_claim_or_a_return_of_ours() {
        let ours = order("Delivered", &[("L1", "B1", 1, 5_000)]);
        let d = check_settlement(
            &record(SettlementKind::Return, "B1", 5_000, None),
            Some(&ours),
        )
        .difference
        .unwrap();
        assert_eq!(d.kind, DifferenceKind::RefundDiffers);
        assert_eq!(d.provider_side.refunded, Some(try_(5_000)));
        let returned = order("Returned", &[("L1", "B1", 1, 5_000)]);
        assert_eq!(
            check_settlement(
                &record(SettlementKind::Return, "B1", 5_000, None),
                Some(&returned)
            ),
            SettlementCheck::default()
        );
        let mut claimed = ours.clone();
        claimed.claims.insert(
            "c1".into(),
            crate::domain::marketplace_claim::Claim {
                claimed_ms: 1,
                changed_ms: 1,
                items: [(
                    "i1".to_string(),
                    crate::domain::marketplace_claim::ClaimItem {
                        order_line_id: Some("L1".into()),
                        sku: None,
                        reason_code: None,
                        reason: None,
                        status: "created".into(),
                        marketplace_status: "Created".into(),
                        rank: 1,
                        restock: crate::domain::marketplace_claim::Restock::Pending,
                        quantity: 1,
                    },
                )]
                .into(),
            },
        );
        assert_eq!(
            check_settlement(
                &record(SettlementKind::Return, "B1", 5_000, None),
                Some(&claimed)
            ),
            SettlementCheck::default()
        );
    }

    #[test]
    fn a_commission_record_is_compared_by_sku_with_the_stored_commission() {
        let mut ours = order("Delivered", &[("L1", "SKU-1", 2, 5_000)]);
        let commission = |amount: i64| SettlementRecord {
            kind: SettlementKind::Commission,
            barcode: None,
            sku: Some("SKU-1".into()),
            commission: None,
            commission_rate: None,
            ..record(SettlementKind::Sale, "-", amount, None)
        };
        // None stored: kept on the line.
        let write = check_settlement(&commission(1_500), Some(&ours))
            .commission
            .expect("kept");
        assert_eq!(
            (write.line_id.as_str(), write.commission),
            ("L1", try_(1_500))
        );
        ours = with_commission(&ours, &write).unwrap();
        assert_eq!(
            check_settlement(&commission(1_500), Some(&ours)),
            SettlementCheck::default()
        );
        let d = check_settlement(&commission(1_400), Some(&ours))
            .difference
            .unwrap();
        assert_eq!(d.kind, DifferenceKind::AmountDiffers);
        assert_eq!(
            d.key(),
            "trendyol#TY-9#SKU-1/commission@725041340#amount_differs"
        );
        assert_eq!(d.our_side.unwrap().amount, Some(try_(1_500)));
        // A sale record by SKU is matched the same way.
        let sale = SettlementRecord {
            barcode: None,
            sku: Some("SKU-1".into()),
            ..record(SettlementKind::Sale, "-", 10_000, None)
        };
        assert_eq!(
            check_settlement(&sale, Some(&ours)),
            SettlementCheck::default()
        );
    }

    #[test]
    fn two_lines_of_one_barcode_are_compared_together_and_keep_no_commission() {
        let ours = order(
            "Delivered",
            &[("L1", "B1", 1, 5_000), ("L2", "B1", 1, 5_000)],
        );
        let check = check_settlement(
            &record(SettlementKind::Sale, "B1", 10_000, Some(1_500)),
            Some(&ours),
        );
        assert_eq!(check, SettlementCheck::default());
    }

    #[test]
    fn a_discounted_line_agrees_before_or_after_its_discount_and_nothing_else() {
        let mut ours = order("Delivered", &[("L1", "B1", 2, 5_000)]);
        ours.line_facts.get_mut("L1").unwrap().unit_price = Some(try_(6_000));
        for agrees in [10_000, 12_000] {
            let check = check_settlement(
                &record(SettlementKind::Sale, "B1", agrees, None),
                Some(&ours),
            );
            assert_eq!(check.difference, None, "{agrees}");
        }
        let d = check_settlement(
            &record(SettlementKind::Sale, "B1", 11_000, None),
            Some(&ours),
        )
        .difference
        .unwrap();
        assert_eq!(d.kind, DifferenceKind::AmountDiffers);
    }

    #[test]
    fn a_cancelled_line_is_not_what_a_sale_settles_and_one_line_of_several_agrees() {
        let mut ours = order(
            "Delivered",
            &[
                ("L1", "B1", 1, 5_000),
                ("L2", "B1", 1, 5_000),
                ("L3", "B1", 1, 5_000),
            ],
        );
        // L3 not supplied: the sale is of L1 and L2 (together, or one a day).
        ours.lines.get_mut("L3").unwrap().status = "unsupplied".into();
        for amount in [10_000, 5_000] {
            let check = check_settlement(
                &record(SettlementKind::Sale, "B1", amount, None),
                Some(&ours),
            );
            assert_eq!(check.difference, None, "{amount}");
        }
        assert!(check_settlement(
            &record(SettlementKind::Sale, "B1", 15_000, None),
            Some(&ours)
        )
        .difference
        .is_some());
    }

    #[test]
    fn two_returns_of_one_line_on_one_day_are_two_differences() {
        let ours = order("Delivered", &[("L1", "B1", 2, 5_000)]);
        let mut second = record(SettlementKind::Return, "B1", 5_000, None);
        second.record_id = "725041341".into();
        let keys: Vec<String> = [record(SettlementKind::Return, "B1", 5_000, None), second]
            .iter()
            .map(|r| check_settlement(r, Some(&ours)).difference.unwrap().key())
            .collect();
        assert_eq!(
            keys,
            [
                "trendyol#TY-9#B1@725041340#refund_differs",
                "trendyol#TY-9#B1@725041341#refund_differs"
            ]
        );
    }
}
