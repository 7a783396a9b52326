//! Marketplace orders, their stock moves and the order-poll cursors in the
//! single table.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | marketplace order | `MKTORDER#<marketplace>#<order number>` | `MKTORDER` | `order` (JSON: packages, lines, outbox), `version`, `outbox` (count of unpublished events) |
//! | order-poll cursor | `CURSOR#<marketplace>#orders` | `CURSOR` | `position_ms` |
//!
//! An order change and its stock moves are one `TransactWriteItems`: the
//! order item conditional on its version, and one update per SKU on
//! `PRODUCT#<sku>` (`stock` is a number attribute there, see `aws::catalog`),
//! a decrement conditional on `stock >= :q`.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use crate::aws::catalog::{product_pk, PENDING};
use crate::aws::dynamo::{store_error, DynamoStore, Item};
use crate::domain::marketplace_order::{MarketplaceOrder, OrderChange, Refusal};
use crate::domain::product::Marketplace;
use crate::error::{Error, Result};
use crate::ports::{MarketplaceOrderStore, OrderCursorStore, OrderSave};

const ORDER_SK: &str = "MKTORDER";
/// DynamoDB allows 100 items per transaction: the order and 99 SKUs.
pub const MAX_SKUS_PER_ORDER: usize = 99;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn marketplace_order_pk(marketplace: Marketplace, order_number: &str) -> String {
    format!("MKTORDER#{}#{order_number}", marketplace.as_str())
}

fn cursor_pk(marketplace: Marketplace) -> String {
    format!("CURSOR#{}#orders", marketplace.as_str())
}

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
        .item("sk", s(ORDER_SK))
        .item("entity", s("marketplace_order"))
        .item("marketplace", s(order.marketplace.as_str()))
        .item("order_number", s(&order.order_number))
        .item("order", s(order_json(order)))
        .item("outbox", n(order.outbox.len() as i64))
        .item("version", n(version as i64))
        .item("updated_at", s(now));
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
            .key("sk", s(ORDER_SK))
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
        let mut items = vec![TransactWriteItem::builder()
            .put(order_put(self, &change.order, expected_version, now)?)
            .build()];
        for m in &change.moves {
            let update = Update::builder()
                .table_name(self.table())
                .key("pk", s(product_pk(&m.sku)))
                .key("sk", s("PRODUCT"))
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
                .expression_attribute_values(":pending", s(PENDING))
                .expression_attribute_values(":sku", s(&m.sku))
                .expression_attribute_values(":now", s(now))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            let update = if m.change < 0 {
                update.expression_attribute_values(":need", n(-m.change))
            } else {
                update
            };
            items.push(
                TransactWriteItem::builder()
                    .update(
                        update
                            .build()
                            .map_err(|e| Error::Store(format!("stock update: {e}")))?,
                    )
                    .build(),
            );
        }
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
                    let reasons = c.cancellation_reasons();
                    let failed = |i: usize| {
                        reasons
                            .get(i)
                            .and_then(|r| r.code())
                            .is_some_and(|code| code == "ConditionalCheckFailed")
                    };
                    if failed(0) {
                        return Ok(OrderSave::Conflict);
                    }
                    for (i, m) in change.moves.iter().enumerate() {
                        if failed(i + 1) {
                            let has_stock = reasons[i + 1]
                                .item()
                                .is_some_and(|item| item.contains_key("stock"));
                            return Ok(OrderSave::Refused {
                                sku: m.sku.clone(),
                                refusal: if has_stock {
                                    Refusal::Short
                                } else {
                                    Refusal::Unknown
                                },
                            });
                        }
                    }
                    // Cancelled for another reason (a concurrent transaction
                    // on the same items): try again from a fresh read.
                    if reasons
                        .iter()
                        .any(|r| r.code() == Some("TransactionConflict"))
                    {
                        return Ok(OrderSave::Conflict);
                    }
                }
                Err(store_error("save marketplace order", e))
            }
        }
    }

    async fn clear_order_outbox(&self, order: &MarketplaceOrder, version: u64) -> Result<()> {
        let mut cleared = order.clone();
        cleared.outbox.clear();
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(
                "pk",
                s(marketplace_order_pk(order.marketplace, &order.order_number)),
            )
            .key("sk", s(ORDER_SK))
            .update_expression("SET #order = :order, outbox = :zero, version = version + :one")
            .condition_expression("version = :v")
            .expression_attribute_names("#order", "order")
            .expression_attribute_values(":order", s(order_json(&cleared)))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":v", n(version as i64))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(store_error("clear order outbox", e)),
        }
    }
}

impl OrderCursorStore for DynamoStore {
    async fn order_cursor(&self, marketplace: Marketplace) -> Result<Option<i64>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(cursor_pk(marketplace)))
            .key("sk", s("CURSOR"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get order cursor", e))?;
        Ok(out.item.and_then(|item| number(&item, "position_ms")))
    }

    async fn move_order_cursor(
        &self,
        marketplace: Marketplace,
        from: Option<i64>,
        to: i64,
    ) -> Result<bool> {
        let request = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(cursor_pk(marketplace)))
            .item("sk", s("CURSOR"))
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
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error("move order cursor", e)),
        }
    }
}
