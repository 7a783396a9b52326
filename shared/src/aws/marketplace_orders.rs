//! Marketplace orders, their stock moves and the order-poll cursors in the
//! single table.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | marketplace order | `order` (JSON: packages, lines, outbox), `version`, `outbox` (count of unpublished events) |
//! | marketplace order's personal data | `personal` (JSON: buyer, addresses, tax and identity numbers), `erase_after_ms`; TTL `expires_at` |
//! | order-poll cursor | `position_ms` |
//!
//! Personal data (KVKK) is never in the order item: it is its own item,
//! written in the order's transaction, erased by TTL at `erase_after_ms`
//! (`domain::marketplace_order_details::erase_after_ms`), and read back only
//! while that time has not passed (TTL deletion lags by up to days). Data
//! already due when written is deleted instead.
//!
//! While its outbox holds events an order is also on a sparse GSI list
//! (`gsi1pk = MKTORDER#OUTBOX`), which order-poll sweeps: events whose
//! publish failed after the write go out even if nobody reports the order
//! again.
//!
//! An order change and its stock moves are one `TransactWriteItems`: the
//! order item conditional on its version, and one update per SKU on
//! `PRODUCT#<sku>` (`stock` is a number attribute there, see `aws::catalog`),
//! a decrement conditional on `stock >= :q`.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use crate::aws::catalog::{put_if, update_if};
use crate::aws::dynamo::{n, s, store_error, DynamoStore, Item};
use crate::aws::keys::{
    self, marketplace_order_list_pk, marketplace_order_list_sk, marketplace_order_pk,
    marketplace_personal_data_pk, order_cursor_pk, product_pk, CATALOG_PENDING_LIST,
    MARKETPLACE_ORDER_OUTBOX_LIST, MARKETPLACE_ORDER_PII_SK, MARKETPLACE_ORDER_SK,
};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::{
    MarketplaceOrder, OrderChange, PersonalWrite, Refusal, StockMove,
};
use crate::domain::marketplace_order_details::PersonalData;
use crate::domain::operations::{decode_cursor, encode_cursor};
use crate::error::{Error, Result};
use crate::intake::marketplace_orders::order_total;
use crate::money::{Currency, Money};
use crate::ports::{MarketplaceOrderList, MarketplaceOrderSummary, MarketplacePersonalDataReader};
use crate::ports::{MarketplaceOrderStore, OrderCursorStore, OrderSave, PollFeed};

/// DynamoDB allows 100 items per transaction: the order, its personal-data
/// item and 98 SKUs.
pub const MAX_SKUS_PER_ORDER: usize = 98;

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn order_json(order: &MarketplaceOrder) -> String {
    serde_json::to_string(order).expect("orders serialize")
}

fn order_put(
    store: &DynamoStore,
    order: &MarketplaceOrder,
    expected_version: Option<u64>,
    now: &str,
) -> Result<Put> {
    let version = expected_version.unwrap_or(0) + 1;
    let builder = Put::builder()
        .table_name(store.table())
        .item(
            "pk",
            s(marketplace_order_pk(order.marketplace, &order.order_number)),
        )
        .item("sk", s(MARKETPLACE_ORDER_SK))
        .item("entity", s("marketplace_order"))
        .item("marketplace", s(order.marketplace.as_str()))
        .item("order_number", s(&order.order_number))
        .item("order", s(order_json(order)))
        .item("outbox", n(order.outbox.len() as i64))
        .item("version", n(version as i64))
        .item("updated_at", s(now))
        // The list by marketplace and status (gsi2) and its columns.
        .item("order_status", s(order.status()))
        .item("first_seen_ms", n(order.first_seen_ms))
        .item(
            "gsi2pk",
            s(marketplace_order_list_pk(order.marketplace, order.status())),
        )
        .item(
            "gsi2sk",
            s(marketplace_order_list_sk(
                order.first_seen_ms,
                &order.order_number,
            )),
        );
    let builder = match order_total(order) {
        Some(total) => builder
            .item("total_minor", n(total.minor))
            .item("total_currency", s(total.currency.code())),
        None => builder,
    };
    let builder = if order.outbox.is_empty() {
        builder
    } else {
        builder
            .item("gsi1pk", s(MARKETPLACE_ORDER_OUTBOX_LIST))
            .item(
                "gsi1sk",
                s(marketplace_order_pk(order.marketplace, &order.order_number)),
            )
    };
    let builder = match expected_version {
        None => builder.condition_expression("attribute_not_exists(pk)"),
        Some(v) => builder
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(v as i64)),
    };
    builder
        .build()
        .map_err(|e| Error::Store(format!("order put: {e}")))
}

/// The personal-data item's part of an order's transaction (`None`:
/// nothing to write). Last in the transaction, so the cancellation reasons
/// of the order and the stock moves keep their places.
fn personal_write(
    store: &DynamoStore,
    change: &OrderChange,
    now_ms: i64,
) -> Result<Option<TransactWriteItem>> {
    let order = &change.order;
    let Some(record) = &order.personal else {
        return Ok(None);
    };
    let key_pk = s(marketplace_personal_data_pk(
        order.marketplace,
        &order.order_number,
    ));
    let due = record.erase_after_ms <= now_ms;
    let expires_at = n(record.erase_after_ms.div_euclid(1000) + 1);
    let item = match (&change.personal, due) {
        (PersonalWrite::Unchanged, _) => return Ok(None),
        // Due already: erase, whatever the change brought.
        (_, true) => TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(store.table())
                    .key("pk", key_pk)
                    .key("sk", s(MARKETPLACE_ORDER_PII_SK))
                    .build()
                    .map_err(|e| Error::Store(format!("personal data delete: {e}")))?,
            )
            .build(),
        (PersonalWrite::Put(data), false) => TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(store.table())
                    .item("pk", key_pk)
                    .item("sk", s(MARKETPLACE_ORDER_PII_SK))
                    .item("entity", s("marketplace_order_personal_data"))
                    .item(
                        "personal",
                        s(serde_json::to_string(data).expect("personal data serializes")),
                    )
                    .item("erase_after_ms", n(record.erase_after_ms))
                    .item("expires_at", expires_at)
                    .build()
                    .map_err(|e| Error::Store(format!("personal data put: {e}")))?,
            )
            .build(),
        (PersonalWrite::Reschedule, false) => TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(store.table())
                    .key("pk", key_pk)
                    .key("sk", s(MARKETPLACE_ORDER_PII_SK))
                    .update_expression("SET erase_after_ms = :at, expires_at = :ttl")
                    .expression_attribute_values(":at", n(record.erase_after_ms))
                    .expression_attribute_values(":ttl", expires_at)
                    .build()
                    .map_err(|e| Error::Store(format!("personal data update: {e}")))?,
            )
            .build(),
    };
    Ok(Some(item))
}

/// One stock move in the order's transaction: the product's `stock`
/// changed, a decrement only while enough is there (the old item returned
/// when it is not, to tell how much was).
fn stock_update(store: &DynamoStore, m: &StockMove, now: &str) -> Result<TransactWriteItem> {
    let update = Update::builder()
        .table_name(store.table())
        .key("pk", s(product_pk(&m.sku)))
        .key("sk", s(keys::PRODUCT_SK))
        // The version bump keeps a running sync from settling the
        // product on its old stock; the GSI key puts it back on the
        // catalog's work list.
        .update_expression(
            "SET stock = stock + :change, version = version + :one, \
             gsi1pk = :pending, gsi1sk = :sku, updated_at = :now",
        )
        .condition_expression(if m.change < 0 {
            "stock >= :need"
        } else {
            "attribute_exists(stock)"
        })
        .expression_attribute_values(":change", n(m.change))
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":pending", s(CATALOG_PENDING_LIST))
        .expression_attribute_values(":sku", s(&m.sku))
        .expression_attribute_values(":now", s(now))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    let update = if m.change < 0 {
        update.expression_attribute_values(":need", n(-m.change))
    } else {
        update
    };
    Ok(TransactWriteItem::builder()
        .update(
            update
                .build()
                .map_err(|e| Error::Store(format!("stock update: {e}")))?,
        )
        .build())
}

impl MarketplaceOrderStore for DynamoStore {
    async fn load_marketplace_order(
        &self,
        marketplace: Marketplace,
        order_number: &str,
    ) -> Result<Option<(MarketplaceOrder, u64)>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(marketplace_order_pk(marketplace, order_number)))
            .key("sk", s(MARKETPLACE_ORDER_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get marketplace order", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let json = item
            .get("order")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| Error::Store("marketplace order item without order".into()))?;
        let order: MarketplaceOrder = serde_json::from_str(json)
            .map_err(|e| Error::Store(format!("unreadable marketplace order: {e}")))?;
        Ok(Some((order, number(&item, "version").unwrap_or(0) as u64)))
    }

    async fn save_marketplace_order(
        &self,
        change: &OrderChange,
        expected_version: Option<u64>,
        now: &str,
    ) -> Result<OrderSave> {
        if change.moves.len() > MAX_SKUS_PER_ORDER {
            return Err(Error::Validation(vec![crate::error::FieldError::new(
                "lines",
                format!(
                    "an order moving stock of more than {MAX_SKUS_PER_ORDER} SKUs cannot be taken in atomically"
                ),
            )]));
        }
        let personal = personal_write(self, change, crate::clock::now_ms())?;
        if change.moves.is_empty() && personal.is_none() {
            return self
                .save_order_alone(&change.order, expected_version, now)
                .await;
        }
        let mut items = vec![TransactWriteItem::builder()
            .put(order_put(self, &change.order, expected_version, now)?)
            .build()];
        for m in &change.moves {
            items.push(stock_update(self, m, now)?);
        }
        items.extend(personal);
        match self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(OrderSave::Saved {
                version: expected_version.unwrap_or(0) + 1,
            }),
            Err(e) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(c)) =
                    e.as_service_error()
                {
                    if let Some(save) = self
                        .cancelled_save(change, c.cancellation_reasons())
                        .await?
                    {
                        return Ok(save);
                    }
                }
                Err(store_error("save marketplace order", e))
            }
        }
    }

    async fn orders_with_outbox(&self, limit: i32) -> Result<Vec<(Marketplace, String)>> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :list")
            .expression_attribute_values(":list", s(MARKETPLACE_ORDER_OUTBOX_LIST))
            .limit(limit)
            .send()
            .await
            .map_err(|e| store_error("query order outboxes", e))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                let m = Marketplace::parse(item.get("marketplace")?.as_s().ok()?)?;
                Some((m, item.get("order_number")?.as_s().ok()?.clone()))
            })
            .collect())
    }

    async fn clear_order_outbox(&self, order: &MarketplaceOrder, version: u64) -> Result<()> {
        let mut cleared = order.clone();
        cleared.outbox.clear();
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(
                "pk",
                s(marketplace_order_pk(order.marketplace, &order.order_number)),
            )
            .key("sk", s(MARKETPLACE_ORDER_SK))
            .update_expression(
                "SET #order = :order, outbox = :zero, version = version + :one REMOVE gsi1pk, gsi1sk",
            )
            .condition_expression("version = :v")
            .expression_attribute_names("#order", "order")
            .expression_attribute_values(":order", s(order_json(&cleared)))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":v", n(version as i64));
        update_if(request, "clear order outbox").await.map(|_| ())
    }
}

impl MarketplaceOrderList for DynamoStore {
    async fn marketplace_order_page(
        &self,
        marketplace: Marketplace,
        status: &str,
        from_ms: i64,
        to_ms: i64,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<(Vec<MarketplaceOrderSummary>, Option<String>)> {
        let gsi2pk = marketplace_order_list_pk(marketplace, status);
        // `~` sorts after every order number character we store.
        let mut request = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :p AND gsi2sk BETWEEN :from AND :to")
            .expression_attribute_values(":p", s(&gsi2pk))
            .expression_attribute_values(":from", s(marketplace_order_list_sk(from_ms, "")))
            .expression_attribute_values(":to", s(marketplace_order_list_sk(to_ms, "~")))
            .limit(limit);
        if let Some(cursor) = cursor {
            let (pk, sk, gsi2sk) = decode_cursor(cursor)?;
            if !pk.starts_with(&marketplace_order_pk(marketplace, "")) {
                return Err(Error::validation("cursor", "not a cursor of this list"));
            }
            request = request
                .exclusive_start_key("pk", s(pk))
                .exclusive_start_key("sk", s(sk))
                .exclusive_start_key("gsi2pk", s(&gsi2pk))
                .exclusive_start_key("gsi2sk", s(gsi2sk));
        }
        let out = request
            .send()
            .await
            .map_err(|e| store_error("query marketplace orders", e))?;
        let text = |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let orders = out
            .items()
            .iter()
            .filter_map(|item| {
                let total = match (number(item, "total_minor"), text(item, "total_currency")) {
                    (Some(minor), Some(code)) => {
                        Currency::parse(&code).ok().map(|c| Money::new(minor, c))
                    }
                    _ => None,
                };
                Some(MarketplaceOrderSummary {
                    order_number: text(item, "order_number")?,
                    status: text(item, "order_status")?,
                    first_seen_ms: number(item, "first_seen_ms")?,
                    updated_at: text(item, "updated_at"),
                    total,
                })
            })
            .collect();
        let next = out.last_evaluated_key().and_then(|key| {
            let get = |name: &str| key.get(name).and_then(|v| v.as_s().ok());
            Some(encode_cursor(get("pk")?, get("sk")?, get("gsi2sk")?))
        });
        Ok((orders, next))
    }
}

impl MarketplacePersonalDataReader for DynamoStore {
    async fn marketplace_personal_data(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        now_ms: i64,
    ) -> Result<Option<PersonalData>> {
        self.load_marketplace_personal_data(marketplace, order_number, now_ms)
            .await
    }
}

impl DynamoStore {
    /// The buyer's personal data of an order, while it is kept (`None`:
    /// never given, or due for erasure at `now_ms` — TTL deletes lag).
    pub async fn load_marketplace_personal_data(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        now_ms: i64,
    ) -> Result<Option<PersonalData>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(
                "pk",
                s(marketplace_personal_data_pk(marketplace, order_number)),
            )
            .key("sk", s(MARKETPLACE_ORDER_PII_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get marketplace order personal data", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        if number(&item, "erase_after_ms").is_none_or(|at| at <= now_ms) {
            return Ok(None);
        }
        let Some(json) = item.get("personal").and_then(|v| v.as_s().ok()) else {
            return Ok(None);
        };
        serde_json::from_str(json)
            .map(Some)
            .map_err(|_| Error::Store("unreadable marketplace order personal data".into()))
    }

    /// Nothing to move: one conditional PutItem (a transaction costs twice
    /// the write capacity).
    async fn save_order_alone(
        &self,
        order: &MarketplaceOrder,
        expected_version: Option<u64>,
        now: &str,
    ) -> Result<OrderSave> {
        let put = order_put(self, order, expected_version, now)?;
        let request = self
            .client()
            .put_item()
            .table_name(put.table_name())
            .set_item(Some(put.item().clone()))
            .set_condition_expression(put.condition_expression().map(str::to_owned))
            .set_expression_attribute_values(put.expression_attribute_values().cloned());
        Ok(if put_if(request, "save marketplace order").await? {
            OrderSave::Saved {
                version: expected_version.unwrap_or(0) + 1,
            }
        } else {
            OrderSave::Conflict
        })
    }

    /// What a cancelled order transaction means, read from its reasons (the
    /// order item first, then one per stock move): the order changed
    /// (conflict), a product refused its move, or a concurrent transaction
    /// (conflict). `None`: none of these; the caller returns the error.
    async fn cancelled_save(
        &self,
        change: &OrderChange,
        reasons: &[CancellationReason],
    ) -> Result<Option<OrderSave>> {
        let failed = |i: usize| {
            reasons
                .get(i)
                .and_then(|r| r.code())
                .is_some_and(|code| code == "ConditionalCheckFailed")
        };
        if failed(0) {
            return Ok(Some(OrderSave::Conflict));
        }
        for (i, m) in change.moves.iter().enumerate() {
            if !failed(i + 1) {
                continue;
            }
            let item = reasons[i + 1].item();
            let refusal = match item.map(|item| (number(item, "stock"), item)) {
                Some((Some(available), _)) => Refusal::Short { available },
                // A product stored before stock became its own
                // attribute: give it one from its JSON, then
                // the caller decides again.
                Some((None, item)) if item.contains_key("product") => {
                    self.init_stock(&m.sku, item).await?;
                    return Ok(Some(OrderSave::Conflict));
                }
                _ => Refusal::Unknown,
            };
            return Ok(Some(OrderSave::Refused {
                sku: m.sku.clone(),
                refusal,
            }));
        }
        // Cancelled for another reason (a concurrent transaction
        // on the same items): try again from a fresh read.
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return Ok(Some(OrderSave::Conflict));
        }
        Ok(None)
    }

    /// Sets `stock` from the product's JSON where the attribute is missing.
    async fn init_stock(&self, sku: &str, item: &Item) -> Result<()> {
        let stock = item
            .get("product")
            .and_then(|v| v.as_s().ok())
            .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
            .and_then(|p| p.get("stock").and_then(serde_json::Value::as_i64))
            .ok_or_else(|| Error::Store(format!("product {sku} has no readable stock")))?;
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(product_pk(sku)))
            .key("sk", s(keys::PRODUCT_SK))
            .update_expression("SET stock = :stock")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(stock)")
            .expression_attribute_values(":stock", n(stock));
        update_if(request, "initialise product stock")
            .await
            .map(|_| ())
    }
}

impl OrderCursorStore for DynamoStore {
    async fn order_cursor(&self, marketplace: Marketplace, feed: PollFeed) -> Result<Option<i64>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(order_cursor_pk(marketplace, feed)))
            .key("sk", s(keys::CURSOR_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get order cursor", e))?;
        Ok(out.item.and_then(|item| number(&item, "position_ms")))
    }

    async fn move_order_cursor(
        &self,
        marketplace: Marketplace,
        feed: PollFeed,
        from: Option<i64>,
        to: i64,
    ) -> Result<bool> {
        let request = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(order_cursor_pk(marketplace, feed)))
            .item("sk", s(keys::CURSOR_SK))
            .item("entity", s("order_cursor"))
            .item("position_ms", n(to))
            .item(
                "position",
                s(crate::domain::delivery::unix_ms_to_rfc3339(to).unwrap_or_default()),
            );
        let request = match from {
            None => request.condition_expression("attribute_not_exists(pk)"),
            Some(from) => request
                .condition_expression("position_ms = :from")
                .expression_attribute_values(":from", n(from)),
        };
        put_if(request, "move order cursor").await
    }
}
