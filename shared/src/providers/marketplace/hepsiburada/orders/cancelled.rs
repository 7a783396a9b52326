//! Hepsiburada's cancelled-line list on the OMS host
//! (docs/marketplace-wire.md H15): `GET /orders/merchantid/{merchantId}/
//! cancelled`, one item per cancelled order line, `begindate`/`enddate`
//! select by the cancel date, `offset`/`limit` page it (at most and by
//! default 50). order-poll reads it so a lost `orderCancel` webhook cannot
//! keep stock taken: each page becomes order snapshots taken in through the
//! same intake as the webhook.
//!
//! UNCONFIRMED (kept in this file): that `lineItemId` is the `id` of the
//! paid-order list (the line we stored), the `cancelDate` format (read like
//! the order list's dates: ISO 8601), and that a window wider than 24 h is
//! cut like the order list's (we never send one).

use bytes::Bytes;
use http::Method;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{parse_items, HepsiburadaOrders};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::{LineSnapshot, OrderSnapshot};
use crate::error::Error;
use crate::providers::marketplace::http::{Refusal, Unreadable};

/// Largest (and default) page of the cancelled list.
pub const MAX_CANCELLED_LIMIT: u32 = 50;
/// The status word our snapshots carry for a cancelled line.
pub const CANCELLED: &str = "Cancelled";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelledItem {
    line_item_id: String,
    order_number: String,
    #[serde(default)]
    merchant_sku: Option<String>,
    quantity: u32,
    #[serde(default)]
    cancel_date: Option<String>,
    #[serde(default)]
    cancel_reason_code: Option<String>,
    #[serde(default)]
    cancelled_by: Option<String>,
}

/// One cancelled order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelledLine {
    pub order_number: String,
    pub line_id: String,
    pub sku: Option<String>,
    pub quantity: u32,
    pub cancelled_ms: Option<i64>,
    /// Hepsiburada's reason code and who cancelled (the buyer, HB, the
    /// merchant): logged, never personal data.
    pub reason_code: Option<String>,
    pub cancelled_by: Option<String>,
}

#[derive(Debug)]
pub struct CancelledPage {
    /// Cancelled lines in the whole window.
    pub total_count: u64,
    pub lines: Vec<CancelledLine>,
    pub unreadable: Vec<Unreadable>,
}

fn parse_cancelled(raw: &[u8]) -> Result<CancelledLine, serde_json::Error> {
    let item: CancelledItem = serde_json::from_slice(raw)?;
    Ok(CancelledLine {
        cancelled_ms: item.cancel_date.as_deref().and_then(|d| {
            OffsetDateTime::parse(d, &time::format_description::well_known::Iso8601::DEFAULT)
                .ok()
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        }),
        order_number: item.order_number,
        line_id: item.line_item_id,
        sku: item.merchant_sku.filter(|s| !s.trim().is_empty()),
        quantity: item.quantity,
        reason_code: item.cancel_reason_code,
        cancelled_by: item.cancelled_by,
    })
}

/// Cancelled lines grouped into one snapshot per order (first-seen order),
/// each line `Cancelled`: the intake gives back the stock a line took, once,
/// whether the webhook or this list told it first. The snapshot names its
/// lines, so a partial cancel leaves the order's other lines alone
/// (`domain::marketplace_order`).
pub fn cancelled_snapshots(lines: Vec<CancelledLine>, seen_ms: i64) -> Vec<OrderSnapshot> {
    let mut out: Vec<OrderSnapshot> = Vec::new();
    for l in lines {
        let at = l.cancelled_ms.unwrap_or(seen_ms);
        let i = match out.iter().position(|s| s.order_number == l.order_number) {
            Some(i) => i,
            None => {
                out.push(OrderSnapshot {
                    marketplace: Marketplace::Hepsiburada,
                    order_number: l.order_number.clone(),
                    package_id: None,
                    marketplace_status: CANCELLED.into(),
                    lines: Vec::new(),
                    occurred_ms: at,
                    details: None,
                });
                out.len() - 1
            }
        };
        let snap = &mut out[i];
        snap.occurred_ms = snap.occurred_ms.max(at);
        snap.lines.push(LineSnapshot {
            line_id: l.line_id,
            sku: l.sku,
            quantity: l.quantity,
            marketplace_status: Some(CANCELLED.into()),
        });
    }
    out
}

impl HepsiburadaOrders {
    /// Cancels line `line_id` (not yet packed) as the merchant, with
    /// `reason_id` (docs/marketplace-wire.md H13: `POST /lineitems/
    /// merchantid/{id}/id/{lineId}/cancelbymerchant` `{"reasonId"}`; 200, or
    /// 400 with a string body). `Ok(Err)`: refused — read back with
    /// [`Self::cancelled_line`]. Repeatable: a repeat for a cancelled line
    /// is refused, then read back as done.
    pub async fn cancel_line(
        &self,
        line_id: &str,
        reason_id: u32,
    ) -> Result<Result<(), Refusal>, Error> {
        check_line_id(line_id)?;
        let url = format!(
            "{}/lineitems/merchantid/{}/id/{line_id}/cancelbymerchant",
            self.oms_base, self.merchant_id
        );
        let body = Bytes::from(serde_json::json!({ "reasonId": reason_id }).to_string());
        Ok(self
            .api
            .write_json(
                &self.tracking,
                "hepsiburada_cancel_line",
                Method::POST,
                url,
                body,
                true,
            )
            .await?
            .map(|_| ()))
    }

    /// Line `line_id` if Hepsiburada lists it as cancelled in the 24 hours
    /// before `now_ms` (the cancelled list's widest window).
    pub async fn cancelled_line(
        &self,
        line_id: &str,
        now_ms: i64,
    ) -> Result<Option<CancelledLine>, Error> {
        const MINUTE: i64 = 60_000;
        let end = (now_ms / MINUTE + 1) * MINUTE;
        let begin = end - Marketplace::Hepsiburada.max_order_window_ms();
        let mut offset = 0u64;
        loop {
            let page = self
                .list_cancelled(begin, end, offset, MAX_CANCELLED_LIMIT)
                .await?;
            let n = page.lines.len() as u64;
            if let Some(line) = page.lines.into_iter().find(|l| l.line_id == line_id) {
                return Ok(Some(line));
            }
            offset += n;
            if n == 0 || offset >= page.total_count {
                return Ok(None);
            }
        }
    }

    /// Lines cancelled in `[begin_ms, end_ms)`, both whole minutes, at most
    /// 24 h apart.
    pub async fn list_cancelled(
        &self,
        begin_ms: i64,
        end_ms: i64,
        offset: u64,
        limit: u32,
    ) -> Result<CancelledPage, Error> {
        let (total_count, items) = self
            .window_page(
                "/cancelled",
                "hepsiburada_cancelled_lines",
                (begin_ms, end_ms),
                offset,
                limit.min(MAX_CANCELLED_LIMIT),
            )
            .await?;
        let (lines, unreadable) = parse_items(items, parse_cancelled);
        Ok(CancelledPage {
            total_count,
            lines,
            unreadable,
        })
    }
}

/// A Hepsiburada id that goes into a path (a line id — a GUID in
/// practice —, a claim number): letters, digits, dashes, at most 64;
/// anything else is refused as `field` before a path is built.
pub(super) fn check_path_id(value: &str, field: &str, what: &str) -> Result<(), Error> {
    if value.is_empty()
        || value.len() > 64
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Error::validation(
            field,
            format!("{what} (letters, digits, dashes)"),
        ));
    }
    Ok(())
}

pub(super) fn check_line_id(line_id: &str) -> Result<(), Error> {
    check_path_id(line_id, "lineId", "a Hepsiburada line id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelled_lines_group_into_line_listing_snapshots() {
        let raw = br#"{"lineItemId":"L1","orderNumber":"4001","merchantSku":"SKU-1","quantity":2,
            "cancelDate":"2024-05-11T13:20:30.123+03:00","cancelReasonCode":"CustomerRequest",
            "cancelledBy":"Customer","merchantId":"m","sku":"HBC1"}"#;
        let a = parse_cancelled(raw).unwrap();
        assert_eq!(a.cancelled_ms, Some(1_715_422_830_123));
        let mut b = a.clone();
        b.line_id = "L2".into();
        b.sku = None;
        let snaps = cancelled_snapshots(vec![a, b], 0);
        assert_eq!(snaps.len(), 1);
        let s = &snaps[0];
        assert_eq!(s.marketplace_status, CANCELLED);
        assert_eq!(s.package_id, None);
        assert_eq!(s.occurred_ms, 1_715_422_830_123);
        assert_eq!(s.lines.len(), 2);
        assert!(s
            .lines
            .iter()
            .all(|l| l.marketplace_status.as_deref() == Some(CANCELLED)));
        assert_eq!(s.lines[1].sku, None);
        assert!(parse_cancelled(br#"{"orderNumber":"4001","quantity":1}"#).is_err());
    }
}
