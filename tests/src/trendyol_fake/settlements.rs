//! Trendyol's current-account statement on the fake: the settlements
//! service (docs/marketplace-wire.md T15). Records are made by test
//! controls — `settle_package` (a sale record per line of a stored package,
//! as Trendyol makes them after delivery), `add_settlement` (any record,
//! e.g. for an order the store never had, a wrong amount, a return).
//!
//! Checks (auth, User-Agent, seller id, the per-endpoint limit and fault
//! injection are applied by the caller, `EndpointKind::Finance`):
//! `transactionType` or `transactionTypes` (comma-separated; wins when both
//! are sent) is required — without it Trendyol answers a bare 500
//! (UNCONFIRMED: a third-party client's note); an unknown type → 400;
//! `startDate` and `endDate` numeric and required, at most 15 days apart →
//! 400; `page` ≥ 0; `size` 500 or 1000 (default 500), else 400 "Size değeri
//! 500 ya da 1000 olmalı" (UNCONFIRMED text). Records dated in
//! `[startDate, endDate]`, oldest first.

use axum::http::Uri;
use axum::response::Response;
use serde_json::{json, Value};

use super::{
    business_error, kurus_json as lira, query_param, ty_error, ty_json, TrendyolFake, TyState,
    DAY_MS,
};

/// getSettlements.
pub const SETTLEMENTS: &str = "GET /integration/finance/che/sellers/{sellerId}/settlements";
pub const SETTLEMENTS_MAX_WINDOW_MS: i64 = 15 * DAY_MS as i64;
/// The types the service takes (T15).
pub const SETTLEMENT_TYPES: &[&str] = &[
    "Sale",
    "Return",
    "Discount",
    "DiscountCancel",
    "Coupon",
    "CouponCancel",
    "ProvisionPositive",
    "ProvisionNegative",
    "SellerRevenuePositive",
    "SellerRevenueNegative",
    "CommissionPositive",
    "CommissionNegative",
    "SellerRevenuePositiveCancel",
    "SellerRevenueNegativeCancel",
    "CommissionPositiveCancel",
    "CommissionNegativeCancel",
];

/// One record to create. Amounts in kuruş.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementSpec {
    /// One of [`SETTLEMENT_TYPES`].
    pub transaction_type: String,
    pub order_number: String,
    pub barcode: String,
    pub shipment_package_id: Option<i64>,
    /// The sale's credit, or the return's debt.
    pub amount: i64,
    /// Percent, e.g. 15.
    pub commission_rate: i64,
    /// `transactionDate`; `None`: the fake's clock.
    pub at_ms: Option<u64>,
}

impl SettlementSpec {
    pub fn sale(order_number: &str, barcode: &str, amount: i64) -> Self {
        SettlementSpec {
            transaction_type: "Sale".into(),
            order_number: order_number.into(),
            barcode: barcode.into(),
            shipment_package_id: None,
            amount,
            commission_rate: 15,
            at_ms: None,
        }
    }

    pub fn returned(order_number: &str, barcode: &str, amount: i64) -> Self {
        SettlementSpec {
            transaction_type: "Return".into(),
            ..Self::sale(order_number, barcode, amount)
        }
    }

    pub fn package(mut self, id: i64) -> Self {
        self.shipment_package_id = Some(id);
        self
    }
}

#[derive(Debug, Clone)]
struct Record {
    id: u64,
    at_ms: u64,
    spec: SettlementSpec,
}

/// One settlements request that reached the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementQuery {
    pub raw: String,
    pub http_status: u16,
    pub types: Vec<String>,
    pub page: i64,
    pub size: i64,
    /// Record ids returned.
    pub returned: Vec<String>,
}

#[derive(Default)]
pub(super) struct TySettlements {
    records: Vec<Record>,
    next: u64,
    queries: Vec<SettlementQuery>,
    /// Requests answered 200 so far.
    served: usize,
    /// An outage planned after that many answers: (after, requests left).
    outage: Option<(usize, usize)>,
}

fn record_json(r: &Record) -> Value {
    let s = &r.spec;
    let commission = (s.amount * s.commission_rate + 50) / 100;
    let (word, debt, credit) = match s.transaction_type.as_str() {
        "Sale" => ("Satış", 0, s.amount),
        "Return" => ("İade", s.amount, 0),
        other @ ("Discount" | "Coupon" | "ProvisionNegative") => (other, s.amount, 0),
        other => (other, 0, s.amount),
    };
    json!({
        "id": r.id.to_string(),
        "transactionDate": r.at_ms,
        "barcode": s.barcode,
        "transactionType": word,
        "receiptId": 48_000_000 + r.id,
        "description": word,
        "debt": lira(debt),
        "credit": lira(credit),
        "paymentPeriod": 28,
        "commissionRate": s.commission_rate,
        "commissionAmount": lira(commission),
        "commissionInvoiceSerialNumber": null,
        "sellerRevenue": lira(s.amount - commission),
        "orderNumber": s.order_number,
        "shipmentPackageId": s.shipment_package_id,
        "paymentOrderId": null,
        "paymentDate": null,
        "sellerId": super::TEST_SELLER_ID.parse::<i64>().unwrap(),
        "storeId": null,
        "storeName": null,
        "storeAddress": null,
        "country": "Türkiye",
    })
}

pub(super) fn settlements_list(s: &mut TyState, uri: &Uri) -> Response {
    let raw = uri.query().unwrap_or("").to_string();
    let types: Vec<String> = query_param(uri, "transactionTypes")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| query_param(uri, "transactionType").filter(|v| !v.trim().is_empty()))
        .map(|v| v.split(',').map(|t| t.trim().to_string()).collect())
        .unwrap_or_default();
    let mut query = SettlementQuery {
        raw,
        http_status: 200,
        types: types.clone(),
        page: 0,
        size: 0,
        returned: Vec::new(),
    };
    // Refusals as (status, key, message): 5xx in Trendyol's system
    // envelope, the rest as business errors.
    let answer = (|| -> Result<Value, (u16, &'static str, String)> {
        if let Some((after, left)) = s.settlements.outage {
            if s.settlements.served >= after && left > 0 {
                s.settlements.outage = Some((after, left - 1));
                return Err((503, "service.unavailable", "service.unavailable".into()));
            }
        }
        if types.is_empty() {
            return Err((500, "generic.exception", "generic.exception".into()));
        }
        if let Some(t) = types
            .iter()
            .find(|t| !SETTLEMENT_TYPES.contains(&t.as_str()))
        {
            return Err((
                400,
                "transactionType.invalid",
                format!("Geçersiz transactionType: {t}"),
            ));
        }
        let num = |k: &str, default: Option<i64>| -> Result<i64, (u16, &'static str, String)> {
            match query_param(uri, k).filter(|v| !v.trim().is_empty()) {
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| (400, "invalid.parameter", format!("{k} sayı olmalı: {v}"))),
                None => {
                    default.ok_or_else(|| (400, "invalid.parameter", format!("{k} zorunludur")))
                }
            }
        };
        let start = num("startDate", None)?;
        let end = num("endDate", None)?;
        let page = num("page", Some(0))?;
        let size = num("size", Some(500))?;
        if end < start || end - start > SETTLEMENTS_MAX_WINDOW_MS {
            return Err((
                400,
                "date.range.invalid",
                "Başlangıç ve bitiş tarihi arasındaki süre 15 günden uzun olamaz".into(),
            ));
        }
        if page < 0 {
            return Err((
                400,
                "invalid.parameter",
                "page 0 veya daha büyük olmalı".into(),
            ));
        }
        if size != 500 && size != 1000 {
            return Err((
                400,
                "invalid.parameter",
                "Size değeri 500 ya da 1000 olmalı".into(),
            ));
        }
        let mut matching: Vec<&Record> = s
            .settlements
            .records
            .iter()
            .filter(|r| {
                types.contains(&r.spec.transaction_type)
                    && (start..=end).contains(&(r.at_ms as i64))
            })
            .collect();
        matching.sort_by_key(|r| (r.at_ms, r.id));
        let total = matching.len() as i64;
        let content: Vec<Value> = matching
            .iter()
            .skip((page * size) as usize)
            .take(size as usize)
            .map(|r| record_json(r))
            .collect();
        Ok(json!({
            "page": page, "size": size,
            "totalPages": (total + size - 1) / size,
            "totalElements": total,
            "content": content,
        }))
    })();
    let response = match answer {
        Ok(body) => {
            query.page = body["page"].as_i64().unwrap_or(0);
            query.size = body["size"].as_i64().unwrap_or(0);
            query.returned = body["content"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .map(|r| r["id"].as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            s.settlements.served += 1;
            ty_json(200, body)
        }
        Err((status, key, message)) if status >= 500 => {
            ty_error(status, "TrendyolSystemException", key, &message)
        }
        Err((status, key, message)) => business_error(status, key, &message),
    };
    query.http_status = response.status().as_u16();
    s.settlements.queries.push(query);
    response
}

impl TrendyolFake {
    /// Adds one record; its id.
    pub fn add_settlement(&self, spec: SettlementSpec) -> String {
        self.with(|s| {
            let at_ms = spec.at_ms.unwrap_or_else(|| s.orders.clock());
            s.settlements.next += 1;
            let id = 725_041_340 + s.settlements.next;
            s.settlements.records.push(Record { id, at_ms, spec });
            id.to_string()
        })
    }

    /// A sale record for each line of a stored package (its price × quantity,
    /// commission at `commission_rate` %), as Trendyol makes them once the
    /// package is delivered; their ids.
    pub fn settle_package(&self, package_id: i64, commission_rate: i64) -> Vec<String> {
        let (order_number, lines) = self.with(|s| {
            let p = s
                .orders
                .packages
                .iter()
                .find(|p| p.id == package_id)
                .unwrap_or_else(|| panic!("unknown Trendyol package {package_id}"));
            let lines: Vec<(String, i64)> = p
                .lines
                .iter()
                .map(|(_, l)| {
                    (
                        l.barcode.clone(),
                        (l.price * 100.0).round() as i64 * l.quantity,
                    )
                })
                .collect();
            (p.order_number.clone(), lines)
        });
        lines
            .into_iter()
            .map(|(barcode, amount)| {
                self.add_settlement(SettlementSpec {
                    commission_rate,
                    ..SettlementSpec::sale(&order_number, &barcode, amount).package(package_id)
                })
            })
            .collect()
    }

    /// After `served` more 200 answers, the next `count` settlements
    /// requests are answered 503 (an outage between two pages).
    pub fn fail_settlement_reads_after(&self, served: usize, count: usize) {
        self.with(|s| {
            let after = s.settlements.served + served;
            s.settlements.outage = Some((after, count));
        });
    }

    /// The settlements requests that reached the handler.
    pub fn settlement_queries(&self) -> Vec<SettlementQuery> {
        self.with(|s| s.settlements.queries.clone())
    }

    /// Every settlements request that arrived (faults and 429s included).
    pub fn settlement_request_count(&self) -> usize {
        self.request_count(SETTLEMENTS)
    }
}
