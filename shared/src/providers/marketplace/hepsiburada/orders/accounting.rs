//! Hepsiburada's record-based accounting service ("Kayıt Bazlı Muhasebe
//! Servisi", docs/marketplace-wire.md H14): the day's sale (`Payment`),
//! return (`Return`) and commission (`Commission`) records, read by
//! reconcile's `hepsiburada-accounting` pass.
//!
//! CONFIRMED [HB-FIN]: records exist after delivery; `transactionTypes`
//! (comma-separated, optional: all types), one of four date ranges
//! (`recordDateStart/End` used here) unless an order, package, SKU or
//! invoice number is given, `offset`/`limit` mandatory with `limit` ≤ 100.
//!
//! UNCONFIRMED (kept in this file): the host `mpfinance-external` and the
//! path `/transactions/merchantid/{merchantId}` (third-party clients; the
//! portal names the service, not the host); the parameter spelling
//! `Offset`/`Limit`/`TransactionTypes`/`RecordDateStart`/`RecordDateEnd`
//! (PascalCase, as a third-party SDK says the service requires for paging);
//! the date format `yyyy-MM-dd` with an inclusive end; the answer
//! `{"totalCount": n, "items": [...]}`; a record's `transactionType`
//! (alias `type`), `transactionId` (alias `id`), `orderNumber`,
//! `merchantSku`, `amount` (its magnitude is kept) and `currency`; that
//! `Payment` is the buyer's payment for the record's line and one record
//! covers one line. A record without an order number or a merchant SKU
//! cannot be matched and is skipped as unreadable (logged, counted).

use serde::Deserialize;

use super::{HepsiburadaOrders, PageWire, MAX_LIMIT};
use crate::domain::marketplace::Marketplace;
use crate::domain::reconciliation::settlements::{SettlementKind, SettlementRecord};
use crate::error::Error;
use crate::money::{Currency, Money};
use crate::providers::marketplace::http::Unreadable;
use crate::providers::marketplace::wire_money::Decimal;

/// The record types reconcile compares (one request lists them all).
pub const ACCOUNTING_TYPES: &str = "Payment,Return,Commission";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordWire {
    #[serde(default, alias = "id")]
    transaction_id: Option<serde_json::Value>,
    #[serde(default, alias = "type")]
    transaction_type: Option<String>,
    #[serde(default)]
    order_number: Option<String>,
    #[serde(default, rename = "merchantSku", alias = "merchantSKU")]
    merchant_sku: Option<String>,
    #[serde(default)]
    amount: Decimal,
    #[serde(default)]
    currency: Option<String>,
}

/// One page of the day's records.
#[derive(Debug)]
pub struct AccountingPage {
    pub total_count: u64,
    /// Records on the page (read or not, of a compared type or not).
    pub listed: usize,
    pub records: Vec<SettlementRecord>,
    pub unreadable: Vec<Unreadable>,
}

/// A record as the domain compares it; `Ok(None)` for a type not compared.
fn parse_record(raw: &[u8]) -> Result<Option<SettlementRecord>, String> {
    let w: RecordWire = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
    let kind = match w.transaction_type.as_deref() {
        Some("Payment") => SettlementKind::Sale,
        Some("Return") => SettlementKind::Return,
        Some("Commission") => SettlementKind::Commission,
        _ => return Ok(None),
    };
    let order_number = w
        .order_number
        .filter(|n| !n.is_empty())
        .ok_or("a record without an orderNumber")?;
    let sku = w
        .merchant_sku
        .filter(|s| !s.is_empty())
        .ok_or("a record without a merchantSku")?;
    let currency = Currency::parse(w.currency.as_deref().unwrap_or("TRY"))
        .map_err(|e| format!("currency: {e}"))?;
    let text = w.amount.0.as_deref().ok_or("a record without an amount")?;
    let amount = Money::parse_major(text, currency).map_err(|e| format!("amount: {e}"))?;
    let record_id = match w.transaction_id {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    Ok(Some(SettlementRecord {
        marketplace: Marketplace::Hepsiburada,
        record_id,
        kind,
        order_number,
        barcode: None,
        sku: Some(sku),
        package_id: None,
        amount: Money::new(amount.minor.abs(), amount.currency),
        commission: None,
        commission_rate: None,
    }))
}

impl HepsiburadaOrders {
    /// Records of [`ACCOUNTING_TYPES`] recorded on `day` (`yyyy-MM-dd`),
    /// from `offset`, at most `limit` (≤ 100).
    pub async fn accounting_page(
        &self,
        day: &str,
        offset: u64,
        limit: u32,
    ) -> Result<AccountingPage, Error> {
        crate::domain::operations::validate_day(day)?;
        let url = format!(
            "{}/transactions/merchantid/{}?Offset={offset}&Limit={}&TransactionTypes={ACCOUNTING_TYPES}\
             &RecordDateStart={day}&RecordDateEnd={day}",
            self.finance_base,
            self.merchant_id,
            limit.min(MAX_LIMIT)
        );
        let answer = self
            .api
            .get(&self.list, "hepsiburada_accounting", url)
            .await?;
        let wire: PageWire = self.api.decode(&answer)?;
        let listed = wire.items.len();
        let mut records = Vec::with_capacity(listed);
        let mut unreadable = Vec::new();
        for raw in wire.items {
            match parse_record(raw.get().as_bytes()) {
                Ok(Some(r)) => records.push(r),
                Ok(None) => {}
                Err(e) => unreadable.push(Unreadable::new(raw.get().as_bytes(), e)),
            }
        }
        Ok(AccountingPage {
            total_count: wire.total_count,
            listed,
            records,
            unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMISSION: &str = r#"{"transactionId":"TRX-1","transactionType":"Commission",
        "orderNumber":"4100000001","packageNumber":"PKG-1","merchantSku":"SKU-1",
        "amount":-15.75,"currency":"TRY","transactionDate":"2026-12-01T11:00:00+03:00"}"#;

    #[test]
    fn a_commission_record_reads_as_exact_money_by_sku() {
        let r = parse_record(COMMISSION.as_bytes()).unwrap().unwrap();
        assert_eq!(r.kind, SettlementKind::Commission);
        assert_eq!(r.sku.as_deref(), Some("SKU-1"));
        assert_eq!(r.barcode, None);
        assert_eq!(r.amount, Money::new(1_575, Currency::TRY));
        assert_eq!(r.record_id, "TRX-1");
    }

    #[test]
    fn other_types_are_skipped_and_unmatchable_records_unreadable() {
        let other = COMMISSION.replace("\"Commission\"", "\"CargoMargin\"");
        assert_eq!(parse_record(other.as_bytes()).unwrap(), None);
        let sale = COMMISSION
            .replace("\"transactionType\":\"Commission\"", "\"type\":\"Payment\"")
            .replace("-15.75", "105.00");
        let r = parse_record(sale.as_bytes()).unwrap().unwrap();
        assert_eq!(
            (r.kind, r.amount),
            (SettlementKind::Sale, Money::new(10_500, Currency::TRY))
        );
        let no_sku = COMMISSION.replace("\"merchantSku\":\"SKU-1\",", "");
        assert!(parse_record(no_sku.as_bytes()).is_err());
        let inexact = COMMISSION.replace("-15.75", "15.755");
        assert!(parse_record(inexact.as_bytes()).is_err());
    }
}
