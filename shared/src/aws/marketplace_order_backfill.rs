//! The `gsi2` backfill: marketplace orders stored before the list index
//! existed lack `gsi2pk` / `gsi2sk` (and the list columns) and are missing
//! from `GET /marketplace-orders/{marketplace}` lists. One page at a time it
//! scans for order items without `gsi2pk` and adds the keys, each with a
//! conditional update:
//!
//! - Idempotent: the condition `attribute_not_exists(gsi2pk) AND version =
//!   :v` never overwrites keys a newer write set (every order write sets
//!   them) and never writes a status older than the item's.
//! - Resumable: each page answers the cursor of the next (`next`); a run
//!   can stop anywhere and go on from it, or start over (done items no
//!   longer match the scan's filter).
//! - An item whose version moved under it (an outbox cleared meanwhile) is
//!   `skipped`: run again until a pass updates and skips nothing.
//!
//! Run by `make backfill-order-list` (tests/src/bin/backfill_order_list.rs)
//! with operator credentials (Scan and UpdateItem on the table).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::aws::catalog::update_if;
use crate::aws::dynamo::{n, s, store_error, DynamoStore};
use crate::aws::keys::{
    marketplace_order_list_pk, marketplace_order_list_sk, MARKETPLACE_ORDER_SK,
};
use crate::domain::marketplace_order::MarketplaceOrder;
use crate::domain::operations::{decode_cursor, encode_cursor};
use crate::error::{Error, Result};
use crate::intake::marketplace_orders::order_total;

/// What one page of the backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillPage {
    /// Items the page read (all kinds; the filter runs after the read).
    pub scanned: u32,
    /// Orders given their list keys.
    pub updated: u32,
    /// Orders changed meanwhile (run again).
    pub skipped: u32,
    /// Where the next page starts; `None` when the table was read to its end.
    pub next: Option<String>,
}

impl DynamoStore {
    /// One page (at most `limit` items read) of the backfill, from `after`
    /// (a previous page's `next`; `None`: from the start).
    pub async fn backfill_order_list_page(
        &self,
        after: Option<&str>,
        limit: i32,
    ) -> Result<BackfillPage> {
        let mut scan = self
            .client()
            .scan()
            .table_name(self.table())
            .filter_expression(
                "begins_with(pk, :prefix) AND sk = :sk AND attribute_not_exists(gsi2pk)",
            )
            .projection_expression("pk, sk, #order, version")
            .expression_attribute_names("#order", "order")
            .expression_attribute_values(":prefix", s("MKTORDER#"))
            .expression_attribute_values(":sk", s(MARKETPLACE_ORDER_SK))
            .limit(limit);
        if let Some(cursor) = after {
            let (pk, sk, _) = decode_cursor(cursor)?;
            scan = scan
                .exclusive_start_key("pk", s(pk))
                .exclusive_start_key("sk", s(sk));
        }
        let out = scan
            .send()
            .await
            .map_err(|e| store_error("scan for orders without list keys", e))?;
        let mut page = BackfillPage {
            scanned: out.scanned_count().max(0) as u32,
            ..Default::default()
        };
        for item in out.items() {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            let (Some(pk), Some(json), Some(version)) = (
                text("pk"),
                text("order"),
                item.get("version").and_then(|v| v.as_n().ok()).cloned(),
            ) else {
                return Err(Error::Store(
                    "a marketplace order item without order or version".into(),
                ));
            };
            let order: MarketplaceOrder = serde_json::from_str(&json)
                .map_err(|e| Error::Store(format!("unreadable marketplace order {pk}: {e}")))?;
            // The list's projected total too, as `order_put` writes it.
            let total = order_total(&order);
            let set = if total.is_some() {
                "SET gsi2pk = :g2pk, gsi2sk = :g2sk, order_status = :status, \
                 first_seen_ms = :first, total_minor = :tm, total_currency = :tc"
            } else {
                "SET gsi2pk = :g2pk, gsi2sk = :g2sk, order_status = :status, first_seen_ms = :first"
            };
            let request = self
                .client()
                .update_item()
                .table_name(self.table())
                .key("pk", s(&pk))
                .key("sk", s(MARKETPLACE_ORDER_SK))
                .update_expression(set)
                .condition_expression("attribute_not_exists(gsi2pk) AND version = :v")
                .expression_attribute_values(
                    ":g2pk",
                    s(marketplace_order_list_pk(order.marketplace, order.status())),
                )
                .expression_attribute_values(
                    ":g2sk",
                    s(marketplace_order_list_sk(
                        order.first_seen_ms,
                        &order.order_number,
                    )),
                )
                .expression_attribute_values(":status", s(order.status()))
                .expression_attribute_values(":first", n(order.first_seen_ms))
                .expression_attribute_values(":v", AttributeValue::N(version));
            let request = match total {
                Some(t) => request
                    .expression_attribute_values(":tm", n(t.minor))
                    .expression_attribute_values(":tc", s(t.currency.code())),
                None => request,
            };
            if update_if(request, "add order list keys").await? {
                page.updated += 1;
            } else {
                page.skipped += 1;
            }
        }
        page.next = match out.last_evaluated_key() {
            Some(key) => {
                let get = |name: &str| {
                    key.get(name)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .ok_or_else(|| Error::Store("scan position without its key".into()))
                };
                Some(encode_cursor(&get("pk")?, &get("sk")?, "backfill"))
            }
            None => None,
        };
        Ok(page)
    }
}
