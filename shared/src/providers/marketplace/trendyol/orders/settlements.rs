//! Trendyol's current-account statement, sale and return records —
//! docs/marketplace-wire.md T15:
//! `GET /integration/finance/che/sellers/{sellerId}/settlements?transactionType&startDate&endDate&page&size`
//! (CONFIRMED [TY-FIN]: one `transactionType` per request, epoch-ms dates
//! at most 15 days apart, `page` from 0, `size` 500 or 1000), answered as a
//! page `{page, size, totalPages, totalElements, content: [...]}` whose
//! records carry `id`, `transactionDate`, `barcode`, `transactionType`,
//! `debt`, `credit`, `commissionRate`, `commissionAmount`, `sellerRevenue`,
//! `orderNumber`, `paymentOrderId` (CONFIRMED: the sample of [TY-FIN v3.0]
//! and [LONCA finance.ts], "verified against the spec").
//!
//! UNCONFIRMED (kept in this file): that a `Sale` record's `credit` is what
//! the buyer pays for the record's line (price after discounts) and a
//! `Return` record's `debt` what is given back; that one record covers one
//! order line (order number + barcode); that amounts are in Turkish lira
//! for the Turkish storefront (the records carry no currency; the docs say
//! Romania's are in RON); that `commissionAmount` may come signed (its
//! magnitude is kept); `shipmentPackageId` on a record (read when present,
//! from a third-party model only). Trendyol publishes no rate limit for
//! the finance service: it is read at this function's order-list pace.

use serde::Deserialize;

use super::{id_text, opt_text, PageWire, TrendyolOrders};
use crate::domain::marketplace::Marketplace;
use crate::domain::reconciliation::settlements::{SettlementKind, SettlementRecord};
use crate::error::Error;
use crate::money::{Currency, Money};
use crate::providers::marketplace::http::Unreadable;
use crate::providers::marketplace::wire_money::Decimal;

/// The page sizes Trendyol accepts on the finance service (T15).
pub const SETTLEMENT_PAGE_SIZES: [u32; 2] = [500, 1000];
/// Longest window one request may span (T15: 15 days).
pub const SETTLEMENT_MAX_WINDOW_MS: i64 = 15 * 86_400_000;

/// The `transactionType` that lists these records; `None` for commission,
/// which Trendyol carries on the sale record, not as a record of its own.
pub fn transaction_type(kind: SettlementKind) -> Option<&'static str> {
    match kind {
        SettlementKind::Sale => Some("Sale"),
        SettlementKind::Return => Some("Return"),
        SettlementKind::Commission => None,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordWire {
    #[serde(deserialize_with = "id_text")]
    id: String,
    #[serde(default, deserialize_with = "opt_text")]
    order_number: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    barcode: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    shipment_package_id: Option<String>,
    #[serde(default)]
    debt: Decimal,
    #[serde(default)]
    credit: Decimal,
    #[serde(default)]
    commission_amount: Decimal,
    #[serde(default)]
    commission_rate: Decimal,
}

/// One page of a type's records.
#[derive(Debug)]
pub struct SettlementPage {
    pub total_elements: u64,
    pub total_pages: u64,
    /// Records on the page (read or not).
    pub listed: usize,
    pub records: Vec<SettlementRecord>,
    pub unreadable: Vec<Unreadable>,
}

fn exact_amount(d: &Decimal, field: &str) -> Result<Option<Money>, String> {
    let Some(text) = d.0.as_deref() else {
        return Ok(None);
    };
    Money::parse_major(text, Currency::TRY)
        .map(|m| Some(Money::new(m.minor.abs(), m.currency)))
        .map_err(|e| format!("{field}: {e}"))
}

/// A record of type `kind` as the domain compares it.
fn parse_record(raw: &[u8], kind: SettlementKind) -> Result<SettlementRecord, String> {
    let w: RecordWire = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
    let order_number = w
        .order_number
        .ok_or_else(|| "a record without an orderNumber".to_string())?;
    // A sale credits the seller; a return debits it.
    let (field, value) = match kind {
        SettlementKind::Sale => ("credit", &w.credit),
        SettlementKind::Return | SettlementKind::Commission => ("debt", &w.debt),
    };
    let amount = exact_amount(value, field)?.ok_or_else(|| format!("a record without {field}"))?;
    Ok(SettlementRecord {
        marketplace: Marketplace::Trendyol,
        record_id: w.id,
        kind,
        order_number,
        barcode: w.barcode,
        sku: None,
        package_id: w
            .shipment_package_id
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit())),
        amount,
        commission: exact_amount(&w.commission_amount, "commissionAmount")?,
        commission_rate: w.commission_rate.normalized(),
    })
}

impl TrendyolOrders {
    /// Records of type `kind` dated in `[start_ms, end_ms]` (at most 15
    /// days apart), page `page` of `size` (500 or 1000).
    pub async fn settlements_page(
        &self,
        kind: SettlementKind,
        start_ms: i64,
        end_ms: i64,
        page: u32,
        size: u32,
    ) -> Result<SettlementPage, Error> {
        if end_ms - start_ms > SETTLEMENT_MAX_WINDOW_MS || end_ms < start_ms {
            return Err(Error::validation(
                "endDate",
                "at most 15 days after startDate",
            ));
        }
        let Some(transaction_type) = transaction_type(kind) else {
            return Err(Error::validation("transactionType", "Sale or Return"));
        };
        if !SETTLEMENT_PAGE_SIZES.contains(&size) {
            return Err(Error::validation("size", "500 or 1000"));
        }
        let url = format!(
            "{}/integration/finance/che/sellers/{}/settlements?transactionType={transaction_type}\
             &startDate={start_ms}&endDate={end_ms}&page={page}&size={size}",
            self.base, self.seller_id,
        );
        let answer = self
            .api
            .get(&self.list, "trendyol_settlements", url)
            .await?;
        let wire: PageWire = self.api.decode(&answer)?;
        let listed = wire.content.len();
        let mut records = Vec::with_capacity(listed);
        let mut unreadable = Vec::new();
        for raw in wire.content {
            match parse_record(raw.get().as_bytes(), kind) {
                Ok(r) => records.push(r),
                Err(e) => unreadable.push(Unreadable::new(raw.get().as_bytes(), e)),
            }
        }
        Ok(SettlementPage {
            total_elements: wire.total_elements,
            total_pages: wire.total_pages,
            listed,
            records,
            unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published sample's shape (T15), with its order fields.
    const SALE: &str = r#"{"id":"725041340","transactionDate":1613397671561,"barcode":"8681385952874",
        "transactionType":"Satış","receiptId":48376618,"description":"Satış","debt":0,"credit":219.99,
        "paymentPeriod":28,"commissionRate":21.0,"commissionAmount":46.20,"commissionInvoiceSerialNumber":null,
        "sellerRevenue":173.79,"orderNumber":"10656546543","paymentOrderId":null,"paymentDate":null,
        "sellerId":123456,"storeId":null,"storeName":null,"storeAddress":null,"country":"Türkiye"}"#;

    #[test]
    fn a_sale_record_reads_as_exact_money() {
        let r = parse_record(SALE.as_bytes(), SettlementKind::Sale).unwrap();
        assert_eq!(r.order_number, "10656546543");
        assert_eq!(r.barcode.as_deref(), Some("8681385952874"));
        assert_eq!(r.amount, Money::new(21_999, Currency::TRY));
        assert_eq!(r.commission, Some(Money::new(4_620, Currency::TRY)));
        assert_eq!(r.commission_rate.as_deref(), Some("21"));
        assert_eq!(r.package_id, None);
    }

    #[test]
    fn a_return_reads_its_debt_and_a_signed_commission_as_its_magnitude() {
        let raw = SALE
            .replace(r#""debt":0,"credit":219.99"#, r#""debt":219.99,"credit":0"#)
            .replace("46.20", "-46.20")
            .replace(
                r#""country""#,
                r#""shipmentPackageId":3700000001,"country""#,
            );
        let r = parse_record(raw.as_bytes(), SettlementKind::Return).unwrap();
        assert_eq!(r.amount, Money::new(21_999, Currency::TRY));
        assert_eq!(r.commission, Some(Money::new(4_620, Currency::TRY)));
        assert_eq!(r.package_id.as_deref(), Some("3700000001"));
    }

    #[test]
    fn an_inexact_amount_or_no_order_is_unreadable() {
        let raw = SALE.replace("219.99", "219.999");
        assert!(parse_record(raw.as_bytes(), SettlementKind::Sale).is_err());
        let raw = SALE.replace(r#""orderNumber":"10656546543""#, r#""orderNumber":null"#);
        assert!(parse_record(raw.as_bytes(), SettlementKind::Sale).is_err());
    }
}
