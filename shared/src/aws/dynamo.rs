//! The single DynamoDB table: key layout (README.md § DynamoDB layout) and the
//! store ports implemented over it with serde_dynamo.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use crate::domain::order::Collected;
use crate::domain::order::{OrderDiscount, OrderLine};
use crate::domain::payment::RefundPlan;
use crate::domain::{Order, OrderContent, PaymentAttempt, PaymentStatus};
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::ports::{
    OrderReader, OrderWrite, OrderWriter, PaymentApplied, PaymentAttemptRecorder, PaymentChange,
    PaymentEventStore, RefundRecorder,
};

pub type Item = HashMap<String, AttributeValue>;

/// Key builders: the one place the key layout is spelled out.
pub mod keys {
    pub const ORDER_SK: &str = "ORDER";

    pub fn order_pk(order_id: &str) -> String {
        format!("ORDER#{order_id}")
    }
    pub fn payment_sk(provider: &str, provider_ref: &str) -> String {
        format!("PAYMENT#{provider}#{provider_ref}")
    }
    /// GSI1 partition key: a provider reference (payment intent id, marketplace
    /// order number, tracking code) that must lead back to our order.
    pub fn provider_ref_gsi_pk(provider: &str, provider_ref: &str) -> String {
        format!("REF#{provider}#{provider_ref}")
    }
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }
}

pub(crate) fn store_error<E, R>(operation: &str, err: SdkError<E, R>) -> Error
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    Error::Store(format!("{operation}: {}", DisplayErrorContext(&err)))
}

/// The order item as stored.
#[derive(Serialize, Deserialize)]
struct OrderItem {
    pk: String,
    sk: String,
    entity: String,
    order_id: String,
    currency: Currency,
    customer_ref: String,
    lines: Vec<OrderLine>,
    discounts: Vec<OrderDiscount>,
    shipping: i64,
    subtotal: i64,
    discount_total: i64,
    total: i64,
    payment_status: String,
    version: u64,
    content_hash: String,
    created_at: String,
    updated_at: String,
    // Maintained by payment events (webhooks, callback, refunds).
    #[serde(default)]
    payment_provider: Option<String>,
    #[serde(default)]
    payment_ref: Option<String>,
    #[serde(default)]
    paid_minor: Option<i64>,
    #[serde(default)]
    refunded_minor: Option<i64>,
}

impl OrderItem {
    fn into_order(self) -> Result<Order> {
        let payment_status = PaymentStatus::parse(&self.payment_status).ok_or_else(|| {
            Error::Store(format!(
                "order {} has unknown payment_status {:?}",
                self.order_id, self.payment_status
            ))
        })?;
        Ok(Order {
            id: self.order_id,
            content: OrderContent {
                currency: self.currency,
                customer_ref: self.customer_ref,
                lines: self.lines,
                discounts: self.discounts,
                shipping: self.shipping,
                subtotal: self.subtotal,
                discount_total: self.discount_total,
                total: self.total,
            },
            payment_status,
            version: self.version,
            collected: Collected {
                provider: self.payment_provider,
                provider_ref: self.payment_ref,
                paid_minor: self.paid_minor,
                refunded_minor: self.refunded_minor.unwrap_or(0),
            },
        })
    }
}

/// A payment attempt item: under its order's partition, and in GSI1 by the
/// provider's reference so webhooks can find the order.
#[derive(Serialize, Deserialize)]
struct PaymentAttemptItem {
    pk: String,
    sk: String,
    entity: String,
    order_id: String,
    provider: String,
    provider_ref: String,
    amount_minor: i64,
    currency: Currency,
    provider_status: String,
    idempotency_key: String,
    created_at: String,
    gsi1pk: String,
    gsi1sk: String,
}

fn decode<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Store(format!("unreadable item: {e}")))
}

fn encode<T: Serialize>(value: &T) -> AttributeValue {
    serde_dynamo::to_attribute_value(value).expect("plain data serializes to DynamoDB")
}

impl OrderWriter for DynamoStore {
    async fn put_unless_collected(
        &self,
        order_id: &str,
        content: &OrderContent,
        now: &str,
    ) -> Result<OrderWrite> {
        let hash = content.content_hash();
        let unpaid = PaymentStatus::Unpaid.as_str();
        // Every attribute goes through a placeholder: several of our names
        // (total, lines, …) may collide with DynamoDB's reserved words.
        let set: Vec<(&str, AttributeValue)> = vec![
            ("entity", encode(&"order")),
            ("order_id", encode(&order_id)),
            ("currency", encode(&content.currency)),
            ("customer_ref", encode(&content.customer_ref)),
            ("lines", encode(&content.lines)),
            ("discounts", encode(&content.discounts)),
            ("shipping", encode(&content.shipping)),
            ("subtotal", encode(&content.subtotal)),
            ("discount_total", encode(&content.discount_total)),
            ("total", encode(&content.total)),
            ("content_hash", encode(&hash)),
            ("updated_at", encode(&now)),
        ];
        let mut assignments: Vec<String> = Vec::new();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(keys::order_pk(order_id)))
            .key("sk", AttributeValue::S(keys::ORDER_SK.into()));
        for (i, (name, value)) in set.into_iter().enumerate() {
            assignments.push(format!("#a{i} = :v{i}"));
            request = request
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        assignments.push("#created = if_not_exists(#created, :now)".into());
        assignments.push("#status = if_not_exists(#status, :unpaid)".into());
        assignments.push("#version = if_not_exists(#version, :zero) + :one".into());
        let result = request
            .update_expression(format!("SET {}", assignments.join(", ")))
            .condition_expression(
                "attribute_not_exists(pk) OR (#status = :unpaid AND #hash <> :hash)",
            )
            .expression_attribute_names("#created", "created_at")
            .expression_attribute_names("#status", "payment_status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#hash", "content_hash")
            .expression_attribute_values(":now", encode(&now))
            .expression_attribute_values(":unpaid", encode(&unpaid))
            .expression_attribute_values(":zero", encode(&0))
            .expression_attribute_values(":one", encode(&1))
            .expression_attribute_values(":hash", encode(&hash))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out
                    .attributes
                    .ok_or_else(|| Error::Store("UpdateItem returned no attributes".into()))?;
                Ok(OrderWrite::Written(
                    decode::<OrderItem>(item)?.into_order()?,
                ))
            }
            Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let existing = match failed.item() {
                        Some(item) => item.clone(),
                        // Not every DynamoDB implementation returns the old item.
                        None => self
                            .get_item(&keys::order_pk(order_id), keys::ORDER_SK)
                            .await?
                            .ok_or_else(|| Error::Store("order vanished during update".into()))?,
                    };
                    Ok(OrderWrite::Kept(
                        decode::<OrderItem>(existing)?.into_order()?,
                    ))
                }
                _ => Err(store_error("UpdateItem", SdkError::ServiceError(ctx))),
            },
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }
}

impl DynamoStore {
    pub(crate) async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        Ok(out.item)
    }
}

impl OrderReader for DynamoStore {
    async fn order_with_attempts(
        &self,
        order_id: &str,
    ) -> Result<Option<(Order, Vec<PaymentAttempt>)>> {
        // One partition holds the order and its attempts: one paginated Query.
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(keys::order_pk(order_id)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut order = None;
        let mut attempts = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| store_error("Query", e))?;
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            match sk.as_deref() {
                Some(keys::ORDER_SK) => order = Some(decode::<OrderItem>(item)?.into_order()?),
                Some(sk) if sk.starts_with("PAYMENT#") => {
                    let a: PaymentAttemptItem = decode(item)?;
                    attempts.push(PaymentAttempt {
                        order_id: a.order_id,
                        provider: a.provider,
                        provider_ref: a.provider_ref,
                        amount: Money::new(a.amount_minor, a.currency),
                        provider_status: a.provider_status,
                        idempotency_key: a.idempotency_key,
                        created_at: a.created_at,
                    });
                }
                _ => {} // other item kinds of the same order (later: shipments)
            }
        }
        Ok(order.map(|o| (o, attempts)))
    }
}

impl PaymentAttemptRecorder for DynamoStore {
    async fn record_attempt(&self, attempt: &PaymentAttempt) -> Result<()> {
        let item = PaymentAttemptItem {
            pk: keys::order_pk(&attempt.order_id),
            sk: keys::payment_sk(&attempt.provider, &attempt.provider_ref),
            entity: "payment_attempt".into(),
            order_id: attempt.order_id.clone(),
            provider: attempt.provider.clone(),
            provider_ref: attempt.provider_ref.clone(),
            amount_minor: attempt.amount.minor,
            currency: attempt.amount.currency,
            provider_status: attempt.provider_status.clone(),
            idempotency_key: attempt.idempotency_key.clone(),
            created_at: attempt.created_at.clone(),
            gsi1pk: keys::provider_ref_gsi_pk(&attempt.provider, &attempt.provider_ref),
            gsi1sk: keys::order_pk(&attempt.order_id),
        };
        let item: Item = serde_dynamo::to_item(item).expect("attempt item serializes");
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| store_error("PutItem", e))?;
        Ok(())
    }
}

impl PaymentEventStore for DynamoStore {
    async fn apply_payment_change(&self, c: &PaymentChange) -> Result<PaymentApplied> {
        let allowed = PaymentStatus::predecessors(c.to);
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(keys::order_pk(&c.order_id)))
            .key("sk", AttributeValue::S(keys::ORDER_SK.into()))
            .expression_attribute_names("#status", "payment_status")
            .expression_attribute_values(":to", encode(&c.to.as_str()))
            .expression_attribute_values(":eids", AttributeValue::Ss(vec![c.event_id.clone()]))
            .expression_attribute_values(":now", encode(&c.now))
            .expression_attribute_values(":provider", encode(&c.provider))
            .expression_attribute_values(":ref", encode(&c.provider_ref))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut set = vec![
            "#status = :to",
            "payment_updated_at = :now",
            "payment_provider = :provider",
            "payment_ref = :ref",
        ];
        let placeholders: Vec<String> = (0..allowed.len()).map(|i| format!(":from{i}")).collect();
        for (placeholder, status) in placeholders.iter().zip(&allowed) {
            request = request.expression_attribute_values(placeholder, encode(&status.as_str()));
        }
        let mut forward = format!("#status IN ({})", placeholders.join(", "));
        if let Some(paid) = c.paid_minor {
            set.push("paid_minor = :paid");
            request = request.expression_attribute_values(":paid", encode(&paid));
        }
        if let Some(collected) = c.collected {
            forward.push_str(" AND #total = :collected AND #currency = :currency");
            request = request
                .expression_attribute_names("#total", "total")
                .expression_attribute_names("#currency", "currency")
                .expression_attribute_values(":collected", encode(&collected.minor))
                .expression_attribute_values(":currency", encode(&collected.currency));
        }
        if let Some(refunded) = c.refunded_minor {
            set.push("refunded_minor = :refunded");
            forward.push_str(
                " AND (attribute_not_exists(refunded_minor) OR refunded_minor < :refunded)",
            );
            request = request.expression_attribute_values(":refunded", encode(&refunded));
        }
        // The applied event ids are kept as a set, so a redelivery of an
        // event that was applied (but whose publish failed) is recognised even
        // after later events moved the order on.
        let result = request
            .update_expression(format!(
                "SET {} ADD payment_event_ids :eids",
                set.join(", ")
            ))
            .condition_expression(format!("attribute_exists(pk) AND ({forward})"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(PaymentApplied::Changed),
            Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    let existing = match failed.item() {
                        Some(item) => Some(item.clone()),
                        None => {
                            self.get_item(&keys::order_pk(&c.order_id), keys::ORDER_SK)
                                .await?
                        }
                    };
                    match existing {
                        None => Ok(PaymentApplied::OrderMissing),
                        Some(item) => why_not_applied(&item, c, &allowed),
                    }
                }
                _ => Err(store_error("UpdateItem", SdkError::ServiceError(ctx))),
            },
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn order_for_provider_ref(
        &self,
        provider: &str,
        provider_ref: &str,
    ) -> Result<Option<String>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :ref")
            .expression_attribute_values(
                ":ref",
                AttributeValue::S(keys::provider_ref_gsi_pk(provider, provider_ref)),
            )
            .limit(1)
            .send()
            .await
            .map_err(|e| store_error("Query", e))?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|item| item.get("order_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn payment_status(&self, order_id: &str) -> Result<Option<PaymentStatus>> {
        match self
            .get_item(&keys::order_pk(order_id), keys::ORDER_SK)
            .await?
        {
            Some(item) => Ok(Some(status_of(&item)?)),
            None => Ok(None),
        }
    }
}

impl RefundRecorder for DynamoStore {
    async fn record_refund(
        &self,
        order_id: &str,
        plan: &RefundPlan,
        event_id: &str,
        now: &str,
    ) -> Result<bool> {
        // The refunded total must still be what we planned from, and this
        // refund (a replay by the same request id) must not be counted yet.
        let total = if plan.before == 0 {
            "(attribute_not_exists(refunded_minor) OR refunded_minor = :before)"
        } else {
            "refunded_minor = :before"
        };
        let condition =
            format!("{total} AND (attribute_not_exists(payment_event_ids) OR NOT contains(payment_event_ids, :eid))");
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(keys::order_pk(order_id)))
            .key("sk", AttributeValue::S(keys::ORDER_SK.into()))
            .update_expression(
                "SET refunded_minor = :after, payment_status = :to, payment_updated_at = :now ADD payment_event_ids :eids",
            )
            .condition_expression(condition)
            .expression_attribute_values(":before", encode(&plan.before))
            .expression_attribute_values(":after", encode(&plan.after))
            .expression_attribute_values(":to", encode(&plan.to.as_str()))
            .expression_attribute_values(":now", encode(&now))
            .expression_attribute_values(":eids", AttributeValue::Ss(vec![event_id.to_string()]))
            .expression_attribute_values(":eid", encode(&event_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }
}

/// The GSI that maps provider references to orders.
pub const GSI1: &str = "gsi1";

/// Reads a refused payment change's reason off the order as it was.
fn why_not_applied(
    item: &Item,
    c: &PaymentChange,
    allowed: &[PaymentStatus],
) -> Result<PaymentApplied> {
    let applied_before = item
        .get("payment_event_ids")
        .and_then(|v| v.as_ss().ok())
        .is_some_and(|ids| ids.contains(&c.event_id));
    if applied_before {
        return Ok(PaymentApplied::AlreadyApplied);
    }
    let current = status_of(item)?;
    if let (Some(collected), true) = (c.collected, allowed.contains(&current)) {
        let order: OrderItem = decode(item.clone())?;
        let order_total = Money::new(order.total, order.currency);
        if order_total != collected {
            return Ok(PaymentApplied::AmountMismatch { order_total });
        }
    }
    Ok(PaymentApplied::Stale { current })
}

fn status_of(item: &Item) -> Result<PaymentStatus> {
    item.get("payment_status")
        .and_then(|v| v.as_s().ok())
        .and_then(|s| PaymentStatus::parse(s))
        .ok_or_else(|| Error::Store("order item without a valid payment_status".into()))
}
