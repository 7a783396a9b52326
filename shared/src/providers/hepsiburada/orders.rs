//! Hepsiburada's paid-order list on the OMS host (providers.md §4.5,
//! docs/marketplace-wire.md H6): one item per order *line* waiting to be
//! packed, `offset`/`limit` mandatory (≤ 100), `begindate`/`enddate` windows of
//! at most 24 hours (a wider one is silently cut to 24 h — we never send one).
//!
//! UNCONFIRMED (kept in this file): the dates' time zone (read and written
//! as Turkey time, UTC+03:00), the item date format (ISO 8601), and the
//! status word of listed lines (`Open`).

use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};

use crate::config::HepsiburadaSettings;
use crate::domain::marketplace_order::{LineSnapshot, OrderSnapshot};
use crate::domain::product::Marketplace;
use crate::error::Error;
use crate::providers::http::{Endpoint, HttpLayer, StandardRetryRules};
use crate::providers::marketplace_http::{BasicJsonApi, Unreadable};

const PROVIDER: &str = "hepsiburada";
pub const MAX_LIMIT: u32 = 100;
/// The widest window Hepsiburada honours.
pub const MAX_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// `yyyy-MM-dd HH:mm` in Turkey time; minutes, so callers align windows to
/// whole minutes.
pub fn hb_date(ms: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .to_offset(UtcOffset::from_hms(3, 0, 0).ok()?);
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    id: String,
    order_number: String,
    #[serde(default)]
    order_date: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(rename = "merchantSKU", alias = "merchantSku", default)]
    merchant_sku: Option<String>,
    quantity: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageWire {
    total_count: u64,
    #[serde(default)]
    items: Vec<Box<serde_json::value::RawValue>>,
}

/// One page of order lines.
#[derive(Debug)]
pub struct LinePage {
    /// Lines in the whole window (not orders).
    pub total_count: u64,
    pub lines: Vec<OrderLine>,
    pub unreadable: Vec<Unreadable>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub order_number: String,
    pub order_ms: Option<i64>,
    pub line: LineSnapshot,
}

fn parse_line(raw: &[u8]) -> Result<OrderLine, serde_json::Error> {
    let item: Item = serde_json::from_slice(raw)?;
    Ok(OrderLine {
        order_ms: item.order_date.as_deref().and_then(|d| {
            OffsetDateTime::parse(d, &time::format_description::well_known::Iso8601::DEFAULT)
                .ok()
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        }),
        order_number: item.order_number,
        line: LineSnapshot {
            line_id: item.id,
            sku: item.merchant_sku.filter(|s| !s.is_empty()),
            quantity: item.quantity,
            marketplace_status: item.status,
        },
    })
}

/// Lines grouped into one snapshot per order, in first-seen order. Listed
/// lines are paid and waiting to be packed: the order's status is `Open`.
pub fn snapshots(lines: Vec<OrderLine>, seen_ms: i64) -> Vec<OrderSnapshot> {
    let mut out: Vec<OrderSnapshot> = Vec::new();
    for l in lines {
        match out.iter_mut().find(|s| s.order_number == l.order_number) {
            Some(s) => s.lines.push(l.line),
            None => out.push(OrderSnapshot {
                marketplace: Marketplace::Hepsiburada,
                order_number: l.order_number,
                package_id: None,
                marketplace_status: "Open".into(),
                lines: vec![l.line],
                occurred_ms: l.order_ms.unwrap_or(seen_ms),
            }),
        }
    }
    out
}

pub struct HepsiburadaOrders {
    api: BasicJsonApi,
    oms_base: String,
    merchant_id: String,
    list: Endpoint,
}

impl HepsiburadaOrders {
    pub fn new(http: HttpLayer, settings: &HepsiburadaSettings) -> Result<Self, Error> {
        Ok(HepsiburadaOrders {
            api: BasicJsonApi::new(
                http,
                PROVIDER,
                &settings.merchant_id,
                &settings.service_key,
                &settings.user_agent,
            )?,
            oms_base: settings.oms_base.clone(),
            merchant_id: settings.merchant_id.clone(),
            // 1,000 requests per second allowed on order services; a poll
            // never comes near it, the limit only guards a runaway loop.
            list: Endpoint::new(PROVIDER, StandardRetryRules).with_rate_limit(100),
        })
    }

    /// Lines added in `[begin_ms, end_ms)`, both whole minutes, at most 24 h apart.
    pub async fn list(
        &self,
        begin_ms: i64,
        end_ms: i64,
        offset: u64,
        limit: u32,
    ) -> Result<LinePage, Error> {
        if end_ms - begin_ms > MAX_WINDOW_MS {
            return Err(Error::Config(format!(
                "a Hepsiburada order window of {} ms is wider than 24 h (it would be cut silently)",
                end_ms - begin_ms
            )));
        }
        let (Some(begin), Some(end)) = (hb_date(begin_ms), hb_date(end_ms)) else {
            return Err(Error::Config(
                "order window outside representable dates".into(),
            ));
        };
        let url = format!(
            "{}/orders/merchantid/{}?offset={offset}&limit={}&begindate={}&enddate={}",
            self.oms_base,
            self.merchant_id,
            limit.min(MAX_LIMIT),
            begin.replace(' ', "%20"),
            end.replace(' ', "%20"),
        );
        let answer = self
            .api
            .get(&self.list, "hepsiburada_order_lines", url)
            .await?;
        let wire: PageWire = self.api.decode(&answer)?;
        let mut lines = Vec::with_capacity(wire.items.len());
        let mut unreadable = Vec::new();
        for raw in wire.items {
            match parse_line(raw.get().as_bytes()) {
                Ok(l) => lines.push(l),
                Err(e) => unreadable.push(Unreadable::new(raw.get().as_bytes(), e)),
            }
        }
        Ok(LinePage {
            total_count: wire.total_count,
            lines,
            unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_turkey_time_minutes() {
        // 2026-11-26T13:33:20Z = 16:33 in Istanbul.
        assert_eq!(
            hb_date(1_795_700_000_000).as_deref(),
            Some("2026-11-26 16:33")
        );
    }

    #[test]
    fn lines_group_into_orders() {
        let a = br#"{"id": "l1", "orderNumber": "O1", "merchantSKU": "A", "quantity": 2,
            "status": "Open", "orderDate": "2026-11-26T16:33:20.000+03:00"}"#;
        let b = br#"{"id": "l2", "orderNumber": "O2", "merchantSKU": "B", "quantity": 1}"#;
        let c = br#"{"id": "l3", "orderNumber": "O1", "merchantSKU": "", "quantity": 1}"#;
        let lines = [&a[..], &b[..], &c[..]]
            .iter()
            .map(|r| parse_line(r).unwrap())
            .collect();
        let s = snapshots(lines, 5);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].lines.len(), 2);
        assert_eq!(s[0].occurred_ms, 1_795_700_000_000);
        assert_eq!(s[0].lines[1].sku, None);
        assert_eq!(s[1].occurred_ms, 5);
        assert!(parse_line(br#"{"id": "x", "orderNumber": "1", "quantity": "two"}"#).is_err());
    }
}
