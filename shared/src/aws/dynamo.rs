//! The single DynamoDB table: orders and payment attempts (the store ports
//! implemented over it with serde_dynamo), and what every adapter shares.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | order | `currency`, `customer_ref`, `lines`, `discounts`, `shipping`, `subtotal`, `discount_total`, `total` (minor units), `payment_status` (`unpaid`/`paid`/`partially_refunded`/`refunded`), `version`, `content_hash`, `created_at`, `updated_at`; the payment side: `aws::payments` |
//! | payment attempt | `amount_minor`, `currency`, `provider_status`, `idempotency_key`, `created_at`, `hosted_form` (iyzico) |

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use crate::aws::keys;
use crate::domain::order::Collected;
use crate::domain::order::{OrderDiscount, OrderLine};
use crate::domain::payment_ledger::PaymentLedger;
use crate::domain::reconciliation::istanbul_day;
use crate::domain::{Order, OrderContent, PaymentAttempt, PaymentStatus};
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::ports::{LedgerVersion, OrderReader, OrderWrite, OrderWriter, PaymentAttemptRecorder};

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
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

    /// The items of `keys` (pk, sk) that exist, strongly consistent, in
    /// BatchGetItem requests of 100 keys; unprocessed keys (throttling) are
    /// asked for again with a growing pause, up to 8 rounds per request.
    /// The one BatchGetItem loop: the catalog's product reads and
    /// reconciliation's ledger reads both use it.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<(String, String)>,
        what: &str,
    ) -> Result<Vec<Item>> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        const MAX_KEYS: usize = 100;
        const MAX_ROUNDS: u32 = 8;
        let mut items = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_KEYS) {
            let chunk: Vec<Item> = chunk
                .iter()
                .map(|(pk, sk)| {
                    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
                })
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| Error::Internal(e.to_string()))?,
            );
            let mut rounds = 0;
            while let Some(keys) = request.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| store_error(what, e))?;
                if let Some(found) = out.responses.and_then(|mut r| r.remove(&self.table)) {
                    items.extend(found);
                }
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
                if request.is_some() {
                    rounds += 1;
                    if rounds > MAX_ROUNDS {
                        return Err(Error::Store(format!("{what}: keys stayed unprocessed")));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50 << rounds.min(5))).await;
                }
            }
        }
        Ok(items)
    }

    /// Writes `writes` in BatchWriteItem requests of 25; unprocessed items
    /// (throttling) are sent again with a growing pause, up to 8 rounds.
    /// The one BatchWriteItem loop: catalog plans and reconciliation's
    /// listed orders use it.
    pub(crate) async fn batch_write(
        &self,
        mut writes: Vec<aws_sdk_dynamodb::types::WriteRequest>,
        what: &str,
    ) -> Result<()> {
        const MAX_ITEMS: usize = 25;
        const MAX_ROUNDS: u32 = 8;
        let mut rounds = 0;
        while !writes.is_empty() {
            let rest = writes.split_off(writes.len().min(MAX_ITEMS));
            let chunk = std::mem::replace(&mut writes, rest);
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, chunk)
                .send()
                .await
                .map_err(|e| store_error(what, e))?;
            if let Some(again) = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
            {
                if !again.is_empty() {
                    rounds += 1;
                    if rounds > MAX_ROUNDS {
                        return Err(Error::Store(format!("{what}: items stayed unprocessed")));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50 << rounds.min(5))).await;
                    writes.extend(again);
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn store_error<E, R>(operation: &str, err: SdkError<E, R>) -> Error
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    Error::Store(format!("{operation}: {}", DisplayErrorContext(&err)))
}

/// A conditional write refused because its condition did not hold.
pub(crate) fn conditional_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// A conditional write's outcome: `true` written, `false` its condition
/// did not hold; any other failure is a store error naming `operation`.
pub(crate) fn applied<T, E, R>(
    result: std::result::Result<T, SdkError<E, R>>,
    operation: &str,
) -> Result<bool>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if conditional_failed(&e) => Ok(false),
        Err(e) => Err(store_error(operation, e)),
    }
}

/// The order item as stored.
#[derive(Serialize, Deserialize)]
pub(crate) struct OrderItem {
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
    paid_at: Option<String>,
    #[serde(default)]
    refunded_minor: Option<i64>,
    /// Ids of the payment events applied (a string set).
    #[serde(default)]
    payment_event_ids: Option<Vec<String>>,
    /// Refunds reported before their payment's success (JSON text).
    #[serde(default)]
    early_refunds: Option<String>,
    /// Bumped by every payment-ledger write (optimistic concurrency).
    #[serde(default)]
    payment_version: Option<u64>,
    /// The one refund in flight (its request id), and until when a claimant
    /// that has not sent it yet may hold it (ms; `i64::MAX` once sent).
    #[serde(default)]
    refund_lock: Option<String>,
}

impl OrderItem {
    /// The payment side of the order, and the versions a write must match.
    pub(crate) fn into_ledger(self) -> Result<(PaymentLedger, LedgerVersion)> {
        let version = LedgerVersion {
            content: self.version,
            payment: self.payment_version.unwrap_or(0),
        };
        let applied = self.payment_event_ids.clone().unwrap_or_default();
        let early_refunds = match &self.early_refunds {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| Error::Store(format!("unreadable early_refunds: {e}")))?,
            None => Default::default(),
        };
        let order = self.into_order()?;
        Ok((
            PaymentLedger {
                order_id: order.id,
                total: order.content.total_money(),
                status: order.payment_status,
                provider: order.collected.provider,
                provider_ref: order.collected.provider_ref,
                paid_minor: order.collected.paid_minor,
                paid_at: order.collected.paid_at,
                refunded_minor: order.collected.refunded_minor,
                applied: applied.into_iter().collect(),
                early_refunds,
            },
            version,
        ))
    }

    pub(crate) fn into_order(self) -> Result<Order> {
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
                paid_at: self.paid_at,
                refunded_minor: self.refunded_minor.unwrap_or(0),
            },
        })
    }
}

/// A payment attempt item: under its order's partition, and in GSI1 by the
/// provider's reference so webhooks can find the order.
#[derive(Serialize, Deserialize)]
pub(crate) struct PaymentAttemptItem {
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
    /// The provider's attempts of one Istanbul day (reconciliation asks the
    /// provider about ours it did not list); absent on attempts written
    /// before this key existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    /// iyzico's hosted form (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hosted_form: Option<String>,
}

impl PaymentAttemptItem {
    pub(crate) fn into_attempt(self) -> PaymentAttempt {
        PaymentAttempt {
            order_id: self.order_id,
            provider: self.provider,
            provider_ref: self.provider_ref,
            amount: Money::new(self.amount_minor, self.currency),
            provider_status: self.provider_status,
            idempotency_key: self.idempotency_key,
            created_at: self.created_at,
            // An unreadable form is merely not reused.
            hosted_form: self
                .hosted_form
                .and_then(|text| serde_json::from_str(&text).ok()),
        }
    }
}

pub(crate) fn decode<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|e| Error::Store(format!("unreadable item: {e}")))
}

/// A record kept as one JSON string attribute (`attribute`) next to its
/// `version` number (0 when absent): shipments, invoices.
pub(crate) fn decode_versioned_json<T: for<'de> Deserialize<'de>>(
    item: &Item,
    attribute: &str,
) -> Result<(T, u64)> {
    let json = item
        .get(attribute)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| Error::Store(format!("{attribute} item without {attribute}")))?;
    let record = serde_json::from_str(json)
        .map_err(|e| Error::Store(format!("unreadable {attribute}: {e}")))?;
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok((record, version))
}

pub(crate) fn encode<T: Serialize>(value: &T) -> AttributeValue {
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
                Some(sk) if sk.starts_with(keys::PAYMENT_SK_PREFIX) => {
                    attempts.push(decode::<PaymentAttemptItem>(item)?.into_attempt());
                }
                _ => {} // other item kinds of the same order (later: shipments)
            }
        }
        Ok(order.map(|o| (o, attempts)))
    }
}

impl PaymentAttemptRecorder for DynamoStore {
    async fn record_attempt(&self, attempt: &PaymentAttempt) -> Result<()> {
        let created_ms = time::OffsetDateTime::parse(
            &attempt.created_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64);
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
            gsi2pk: created_ms
                .map(|ms| keys::payment_day_gsi2_pk(&attempt.provider, &istanbul_day(ms))),
            gsi2sk: created_ms.map(|ms| keys::payment_day_gsi2_sk(ms, &attempt.provider_ref)),
            hosted_form: attempt
                .hosted_form
                .as_ref()
                .map(|f| serde_json::to_string(f).expect("plain data serializes")),
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

/// The GSI that maps provider references to orders.
pub const GSI1: &str = "gsi1";
