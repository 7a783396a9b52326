//! Hepsiburada's record-based accounting service ("Kayıt Bazlı Muhasebe
//! Servisi", docs/marketplace-wire.md H14):
//! `GET /transactions/merchantid/{merchantId}`. The real service lives on
//! its own host (`mpfinance-external`, UNCONFIRMED); the fake serves it on
//! its oms port (the paths do not overlap), so tests point
//! `HEPSIBURADA_FINANCE_BASE` there.
//!
//! Records are made by test controls — `settle_order` (a `Payment` and a
//! `Commission` record per line of a stored order, as Hepsiburada makes
//! them after delivery, the commission being the order list's),
//! `add_accounting_record` (any record: an order the store never had, a
//! wrong amount, a return).
//!
//! Checks (auth, User-Agent, merchant id, the rate limit and fault
//! injection — `EndpointKind::Finance` — are applied by the caller):
//! `Offset` and `Limit` required (CONFIRMED mandatory; the PascalCase
//! spelling UNCONFIRMED: a lower-case pair counts as missing → 400), `Limit`
//! 1–100 (CONFIRMED ≤ 100); one date range required unless `OrderNumber`,
//! `PackageNumber`, `Sku` or `InvoiceNumber` is given (CONFIRMED); a range
//! of at most one month (UNCONFIRMED); `TransactionTypes` optional,
//! comma-separated (CONFIRMED). Only `RecordDateStart/End` (`yyyy-MM-dd`,
//! Istanbul days, both inclusive: UNCONFIRMED) and `OrderNumber` select
//! here. The answer `{"totalCount", "offset", "limit", "items"}` and the
//! record fields are UNCONFIRMED (docs/marketplace-wire.md H14).

use axum::http::Uri;
use axum::response::Response;
use serde_json::{json, Value};

use super::{hb_json, iso_tr, oms_error, HbState, HepsiburadaFake, TR_OFFSET_HOURS};
use crate::trendyol_fake::{civil_parts, kurus_json as lira};

/// "Kayıt Bazlı Muhasebe Servisi".
pub const ACCOUNTING_TRANSACTIONS: &str = "GET /transactions/merchantid/{merchantId}";
pub const ACCOUNTING_MAX_LIMIT: i64 = 100;

/// One record to create. Amount in kuruş (its magnitude; commission and
/// return records are written negative, as the seller's debits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbAccountingSpec {
    /// `Payment`, `Return`, `Commission`, or any other type.
    pub transaction_type: String,
    pub order_number: String,
    pub merchant_sku: String,
    pub amount: i64,
    /// The record date; `None`: the fake's clock.
    pub at_ms: Option<u64>,
}

impl HbAccountingSpec {
    pub fn new(
        transaction_type: &str,
        order_number: &str,
        merchant_sku: &str,
        amount: i64,
    ) -> Self {
        HbAccountingSpec {
            transaction_type: transaction_type.into(),
            order_number: order_number.into(),
            merchant_sku: merchant_sku.into(),
            amount,
            at_ms: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Record {
    id: u64,
    at_ms: u64,
    spec: HbAccountingSpec,
}

#[derive(Default)]
pub(super) struct HbAccounting {
    records: Vec<Record>,
    next: u64,
    /// (raw query, HTTP status) of each request that reached the handler.
    queries: Vec<(String, u16)>,
    /// Requests answered 200 so far.
    served: usize,
    /// An outage planned after that many answers: (after, requests left).
    outage: Option<(usize, usize)>,
}

/// `yyyy-MM-dd` of an instant in Istanbul.
fn tr_day(ms: u64) -> String {
    let [y, mo, d, ..] = civil_parts(ms, TR_OFFSET_HOURS);
    format!("{y:04}-{mo:02}-{d:02}")
}

fn record_json(r: &Record) -> Value {
    let debit = matches!(r.spec.transaction_type.as_str(), "Commission" | "Return");
    json!({
        "transactionId": format!("TRX-{}", r.id),
        "transactionType": r.spec.transaction_type,
        "orderNumber": r.spec.order_number,
        "packageNumber": null,
        "merchantSku": r.spec.merchant_sku,
        "amount": lira(if debit { -r.spec.amount } else { r.spec.amount }),
        "currency": "TRY",
        "transactionDate": iso_tr(r.at_ms),
        "recordDate": iso_tr(r.at_ms),
        "status": "WillBePaid",
    })
}

pub(super) fn transactions(s: &mut HbState, uri: &Uri) -> Response {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let text = |k: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    // Refusals as (status, message), answered in the oms envelope.
    let answer = (|| -> Result<Value, (u16, String)> {
        if let Some((after, left)) = s.accounting.outage {
            if s.accounting.served >= after && left > 0 {
                s.accounting.outage = Some((after, left - 1));
                return Err((503, "Service Unavailable".into()));
            }
        }
        let number = |k: &str| -> Result<i64, (u16, String)> {
            text(k)
                .ok_or_else(|| (400, format!("{k} is required")))?
                .parse::<i64>()
                .map_err(|_| (400, format!("{k} must be a number")))
        };
        let (offset, limit) = (number("Offset")?, number("Limit")?);
        if offset < 0 || !(1..=ACCOUNTING_MAX_LIMIT).contains(&limit) {
            return Err((400, "Limit en fazla 100 olabilir".into()));
        }
        let identified = ["OrderNumber", "PackageNumber", "Sku", "InvoiceNumber"]
            .iter()
            .any(|k| text(k).is_some());
        let ranges = ["Record", "Due", "Order", "Payment"]
            .map(|r| (text(&format!("{r}DateStart")), text(&format!("{r}DateEnd"))));
        if !identified && !ranges.iter().any(|(a, b)| a.is_some() && b.is_some()) {
            return Err((
                400,
                "4 tarih aralığı parametresinden biri girilmek zorundadır".into(),
            ));
        }
        let day = |d: &str| -> Result<i64, (u16, String)> {
            let bad = || (400, format!("invalid date {d}"));
            let parts: Vec<i64> = d
                .split('-')
                .map(|p| p.parse::<i64>().map_err(|_| bad()))
                .collect::<Result<_, _>>()?;
            match parts.as_slice() {
                [y, m, dd] if (1..=12).contains(m) && (1..=31).contains(dd) => {
                    Ok(y * 372 + (m - 1) * 31 + dd)
                }
                _ => Err(bad()),
            }
        };
        for (a, b) in ranges.iter() {
            if let (Some(a), Some(b)) = (a, b) {
                let (from, to) = (day(a)?, day(b)?);
                if to < from || to - from > 31 {
                    return Err((400, "tarih aralığı en fazla 1 ay olabilir".into()));
                }
            }
        }
        let types: Option<Vec<String>> =
            text("TransactionTypes").map(|t| t.split(',').map(|x| x.trim().to_string()).collect());
        let (record_from, record_to) = ranges[0].clone();
        let order_number = text("OrderNumber");
        let mut matching: Vec<&Record> = s
            .accounting
            .records
            .iter()
            .filter(|r| {
                types
                    .as_ref()
                    .is_none_or(|t| t.contains(&r.spec.transaction_type))
                    && order_number
                        .as_ref()
                        .is_none_or(|n| *n == r.spec.order_number)
                    && match (&record_from, &record_to) {
                        (Some(a), Some(b)) => {
                            let d = tr_day(r.at_ms);
                            *a <= d && d <= *b
                        }
                        _ => true,
                    }
            })
            .collect();
        matching.sort_by_key(|r| r.id);
        let items: Vec<Value> = matching
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|r| record_json(r))
            .collect();
        Ok(json!({
            "totalCount": matching.len(), "offset": offset, "limit": limit, "items": items,
        }))
    })();
    let response = match answer {
        Ok(body) => {
            s.accounting.served += 1;
            hb_json(200, body)
        }
        Err((status, message)) => oms_error(status, &message),
    };
    let status = response.status().as_u16();
    s.accounting
        .queries
        .push((uri.query().unwrap_or("").to_string(), status));
    response
}

impl HepsiburadaFake {
    /// Adds one record; its id.
    pub fn add_accounting_record(&self, spec: HbAccountingSpec) -> String {
        self.with(|s| {
            let at_ms = spec.at_ms.unwrap_or_else(|| s.orders.clock());
            s.accounting.next += 1;
            let id = s.accounting.next;
            s.accounting.records.push(Record { id, at_ms, spec });
            format!("TRX-{id}")
        })
    }

    /// A `Payment` (the line's total) and a `Commission` (15 %, the order
    /// list's) record for each line of stored order `order_number`, as
    /// Hepsiburada makes them once it is delivered.
    pub fn settle_order(&self, order_number: &str) {
        let lines: Vec<(String, i64)> = self.with(|s| {
            s.orders
                .lines
                .iter()
                .filter(|l| l.order_number == order_number)
                .map(|l| {
                    let total = l.spec.unit_price * l.spec.quantity as f64;
                    (l.spec.merchant_sku.clone(), (total * 100.0).round() as i64)
                })
                .collect()
        });
        assert!(
            !lines.is_empty(),
            "unknown Hepsiburada order {order_number}"
        );
        for (sku, total) in lines {
            let commission = (total as f64 * 0.15).round() as i64;
            self.add_accounting_record(HbAccountingSpec::new("Payment", order_number, &sku, total));
            self.add_accounting_record(HbAccountingSpec::new(
                "Commission",
                order_number,
                &sku,
                commission,
            ));
        }
    }

    /// After `served` more 200 answers, the next `count` accounting
    /// requests are answered 503 (an outage between two pages).
    pub fn fail_accounting_reads_after(&self, served: usize, count: usize) {
        self.with(|s| {
            let after = s.accounting.served + served;
            s.accounting.outage = Some((after, count));
        });
    }

    /// (raw query, HTTP status) of each accounting request that reached
    /// the handler.
    pub fn accounting_queries(&self) -> Vec<(String, u16)> {
        self.with(|s| s.accounting.queries.clone())
    }

    /// Every accounting request that arrived (faults and 429s included).
    pub fn accounting_request_count(&self) -> usize {
        self.request_count(ACCOUNTING_TRANSACTIONS)
    }
}
