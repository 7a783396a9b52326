//! Products, sync plans and catalog caches in the single table.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | product | `product` (JSON text), `stock` (number: the figure marketplace orders move; it overrides the JSON's), `product_hash`, `version`; per marketplace and kind `acked_<m>_<k>`, `rejected_<m>_<k>`, `failure_<m>_<k>`; on the work list: `gsi1pk = CATALOG#PENDING`, `gsi1sk = <sku>` |
//! | plan (a batch until its result is recorded) | `status` planned/sent, `batch_id`, `lease_until`, `items` (JSON), TTL |
//! | sync lock | `until_ms` |
//! | sent body (Trendyol's 15-minute rule) | `sent_ms`, TTL |
//! | category rules | `rules` (JSON) or `known = false`, TTL |

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, PutRequest, ReturnValue, ReturnValuesOnConditionCheckFailure, WriteRequest,
};

use crate::aws::dynamo::{n, s, store_error, DynamoStore, Item};
use crate::aws::keys::{
    self, category_cache_pk, product_pk, sent_body_pk, CATALOG_LOCK_PK, CATALOG_PENDING_LIST,
    CATALOG_PLAN_PK,
};
use crate::domain::catalog_sync::{ListingState, Push};
use crate::domain::category::CategoryRules;
use crate::domain::marketplace::Marketplace;
use crate::domain::product::{Product, SyncKind};
use crate::error::{Error, Result};
use crate::ports::{
    CatalogSyncStore, Plan, PlanItem, PlanLease, ProductStore, ProductWrite, ResultOutcome,
    StoredProduct, SyncResult,
};

fn state_attr(prefix: &str, m: Marketplace, k: SyncKind) -> String {
    format!("{prefix}_{}_{}", m.as_str(), k.as_str())
}

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}
fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn is_condition_failure<R>(err: &SdkError<UpdateItemError, R>) -> bool {
    matches!(
        err.as_service_error(),
        Some(UpdateItemError::ConditionalCheckFailedException(_))
    )
}

/// Every page of a query.
pub(crate) async fn query_all(request: QueryFluentBuilder, what: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let out = request
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| store_error(what, e))?;
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(items),
        }
    }
}

/// Runs a conditional update; `false` when its condition did not hold.
pub(crate) async fn update_if(request: UpdateItemFluentBuilder, what: &str) -> Result<bool> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(store_error(what, e)),
    }
}

/// Runs a conditional put; `false` when its condition did not hold.
pub(crate) async fn put_if(request: PutItemFluentBuilder, what: &str) -> Result<bool> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(PutItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(store_error(what, e)),
    }
}

/// The product is kept as one JSON string, not a DynamoDB map: nothing ever
/// reads inside it server-side, and a string is cheaper to encode and decode
/// on both ends (a third of the local emulator's time for a 10,000-product sync).
fn decode_product(item: Item) -> Result<StoredProduct> {
    let mut product: Product = serde_json::from_str(
        get_s(&item, "product")
            .ok_or_else(|| Error::Store("product item without product".into()))?,
    )
    .map_err(|e| Error::Store(format!("unreadable product: {e}")))?;
    // Marketplace orders move the number attribute, not the JSON.
    if let Some(stock) = get_n(&item, "stock") {
        product.stock = stock;
    }
    let listing = |m| {
        let mut state = ListingState::default();
        for k in SyncKind::ALL {
            let ks = state.kind_mut(k);
            ks.acked = get_s(&item, &state_attr("acked", m, k)).map(str::to_owned);
            ks.rejected = get_s(&item, &state_attr("rejected", m, k)).map(str::to_owned);
        }
        state
    };
    let mut failures = Vec::new();
    for m in Marketplace::ALL {
        for k in SyncKind::ALL {
            if let Some(AttributeValue::L(reasons)) = item.get(&state_attr("failure", m, k)) {
                let reasons = reasons
                    .iter()
                    .filter_map(|r| r.as_s().ok().cloned())
                    .collect();
                failures.push((m, k, reasons));
            }
        }
    }
    Ok(StoredProduct {
        trendyol: listing(Marketplace::Trendyol),
        hepsiburada: listing(Marketplace::Hepsiburada),
        failures,
        trendyol_content_id: get_n(&item, "trendyol_content_id").map(|id| id as u64),
        trendyol_fixed: get_s(&item, "trendyol_fixed").map(str::to_owned),
        version: get_n(&item, "version").unwrap_or(0) as u64,
        updated_at: get_s(&item, "updated_at").unwrap_or_default().to_string(),
        product,
    })
}

impl DynamoStore {
    /// An UpdateItem on a product's item.
    fn update_product(&self, sku: &str) -> UpdateItemFluentBuilder {
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(product_pk(sku)))
            .key("sk", s(keys::PRODUCT_SK))
    }
}

impl crate::ports::CatalogWorkList for DynamoStore {
    /// Only an existing product: a sync request never creates one.
    async fn mark_pending(&self, sku: &str) -> Result<bool> {
        let request = self
            .update_product(sku)
            .update_expression("SET gsi1pk = :pending, gsi1sk = :sku")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":pending", s(CATALOG_PENDING_LIST))
            .expression_attribute_values(":sku", s(sku));
        update_if(request, "mark product pending").await
    }
}

impl ProductStore for DynamoStore {
    async fn put_product(&self, product: &Product, now: &str) -> Result<ProductWrite> {
        let hash = product.content_hash();
        let result = self.update_product(&product.sku)
            .update_expression(
                "SET #product = :product, stock = :stock, #hash = :hash, #version = if_not_exists(#version, :zero) + :one, \
                 #updated = :now, #entity = :entity, #sku = :sku, gsi1pk = :pending, gsi1sk = :sku",
            )
            .condition_expression("attribute_not_exists(#hash) OR #hash <> :hash")
            .expression_attribute_names("#product", "product")
            .expression_attribute_names("#hash", "product_hash")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#entity", "entity")
            .expression_attribute_names("#sku", "sku")
            .expression_attribute_values(
                ":product",
                s(serde_json::to_string(product).expect("products serialize")),
            )
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":stock", n(product.stock))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":entity", s("product"))
            .expression_attribute_values(":sku", s(&product.sku))
            .expression_attribute_values(":pending", s(CATALOG_PENDING_LIST))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let version = out
                    .attributes()
                    .and_then(|a| get_n(a, "version"))
                    .unwrap_or(1) as u64;
                Ok(if version == 1 {
                    ProductWrite::Created { version }
                } else {
                    ProductWrite::Updated { version }
                })
            }
            Err(e) if is_condition_failure(&e) => Ok(ProductWrite::Unchanged),
            Err(e) => Err(store_error("put product", e)),
        }
    }

    async fn get_product(&self, sku: &str) -> Result<Option<StoredProduct>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(product_pk(sku)))
            .key("sk", s(keys::PRODUCT_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get product", e))?;
        out.item.map(decode_product).transpose()
    }
}

fn plan_from_item(item: &Item) -> Result<Plan> {
    let bad = |what: &str| Error::Store(format!("plan item lacks {what}"));
    let marketplace = get_s(item, "marketplace")
        .and_then(Marketplace::parse)
        .ok_or_else(|| bad("marketplace"))?;
    let push: Push = serde_json::from_value(serde_json::Value::String(
        get_s(item, "push").ok_or_else(|| bad("push"))?.to_string(),
    ))
    .map_err(|_| bad("push"))?;
    let items: Vec<PlanItem> =
        serde_json::from_str(get_s(item, "items").ok_or_else(|| bad("items"))?)
            .map_err(|_| bad("items"))?;
    Ok(Plan {
        plan_id: get_s(item, "sk").ok_or_else(|| bad("sk"))?.to_string(),
        marketplace,
        push,
        items,
        created_ms: get_n(item, "created_ms").unwrap_or(0),
        batch_id: get_s(item, "batch_id").map(str::to_owned),
    })
}

impl CatalogSyncStore for DynamoStore {
    async fn pending_products(&self) -> Result<Vec<StoredProduct>> {
        let request = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(CATALOG_PENDING_LIST));
        query_all(request, "query pending products")
            .await?
            .into_iter()
            .map(decode_product)
            .collect()
    }

    /// A product changed since `version` stays on the list for the next sync.
    async fn settle_product(&self, sku: &str, version: u64) -> Result<()> {
        let request = self
            .update_product(sku)
            .update_expression("REMOVE gsi1pk, gsi1sk")
            .condition_expression("#version = :v")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":v", n(version as i64));
        update_if(request, "settle product").await.map(|_| ())
    }

    async fn record_result(&self, result: &SyncResult<'_>) -> Result<()> {
        let m = result.marketplace;
        let mut sets = vec!["gsi1pk = :pending".to_string(), "gsi1sk = :sku".to_string()];
        let mut removes = Vec::new();
        // Exists, and no kind holds a result of a later plan.
        let mut conditions = vec!["attribute_exists(pk)".to_string()];
        let mut request = self
            .update_product(result.sku)
            .expression_attribute_values(":pending", s(CATALOG_PENDING_LIST))
            .expression_attribute_values(":sku", s(result.sku))
            .expression_attribute_values(":seq", n(result.planned_ms));
        for (i, (kind, hash)) in result.hashes.iter().enumerate() {
            let (acked, rejected, failure, seq) = (
                state_attr("acked", m, *kind),
                state_attr("rejected", m, *kind),
                state_attr("failure", m, *kind),
                state_attr("seq", m, *kind),
            );
            conditions.push(format!("(attribute_not_exists({seq}) OR {seq} <= :seq)"));
            sets.push(format!("{seq} = :seq"));
            request = request.expression_attribute_values(format!(":h{i}"), s(hash));
            match &result.outcome {
                ResultOutcome::Acknowledged => {
                    sets.push(format!("{acked} = :h{i}"));
                    removes.push(rejected);
                    removes.push(failure);
                }
                ResultOutcome::Refused { lasting, .. } => {
                    if *lasting {
                        sets.push(format!("{rejected} = :h{i}"));
                    }
                    sets.push(format!("{failure} = :reasons"));
                }
            }
        }
        if let ResultOutcome::Refused { reasons, .. } = &result.outcome {
            let list = reasons.iter().take(20).map(|r| s(r.clone())).collect();
            request = request.expression_attribute_values(":reasons", AttributeValue::L(list));
        }
        if let (Some(fixed), ResultOutcome::Acknowledged) = (result.fixed, &result.outcome) {
            sets.push("trendyol_fixed = :fixed".into());
            request = request.expression_attribute_values(":fixed", s(fixed));
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        // A product that is gone has nothing to record on; a later plan's
        // result already recorded wins.
        update_if(
            request
                .update_expression(expression)
                .condition_expression(conditions.join(" AND ")),
            "record sync result",
        )
        .await
        .map(|_| ())
    }

    async fn set_trendyol_content_id(&self, sku: &str, content_id: u64) -> Result<()> {
        let request = self
            .update_product(sku)
            .update_expression("SET trendyol_content_id = :id")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":id", n(content_id as i64));
        update_if(request, "store Trendyol content id")
            .await
            .map(|_| ())
    }

    async fn open_plans(&self) -> Result<Vec<Plan>> {
        let request = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s(CATALOG_PLAN_PK))
            .consistent_read(true);
        Ok(query_all(request, "query plans")
            .await?
            .iter()
            .filter_map(|item| {
                plan_from_item(item)
                    .map_err(|e| tracing::warn!(error = %e, "skipping an unreadable plan"))
                    .ok()
            })
            .collect())
    }

    async fn put_plans(&self, plans: &[Plan], expires_at: i64) -> Result<()> {
        let writes: Vec<WriteRequest> = plans
            .iter()
            .map(|plan| {
                let mut item: Item = HashMap::new();
                item.insert("pk".into(), s(CATALOG_PLAN_PK));
                item.insert("sk".into(), s(&plan.plan_id));
                item.insert("entity".into(), s("catalog_plan"));
                item.insert("marketplace".into(), s(plan.marketplace.as_str()));
                item.insert("push".into(), s(plan.push.as_str()));
                item.insert("status".into(), s("planned"));
                item.insert(
                    "items".into(),
                    s(serde_json::to_string(&plan.items).expect("plan items serialize")),
                );
                item.insert("created_ms".into(), n(plan.created_ms));
                item.insert("expires_at".into(), n(expires_at));
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item))
                            .build()
                            .expect("item is set"),
                    )
                    .build()
            })
            .collect();
        self.batch_write(writes, "write plans").await
    }

    async fn get_plan(&self, plan_id: &str) -> Result<Option<Plan>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(CATALOG_PLAN_PK))
            .key("sk", s(plan_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get plan", e))?;
        out.item.as_ref().map(plan_from_item).transpose()
    }

    async fn lease_plan(
        &self,
        plan_id: &str,
        now_ms: i64,
        until_ms: i64,
        stale_ms: i64,
    ) -> Result<PlanLease> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(CATALOG_PLAN_PK))
            .key("sk", s(plan_id))
            .update_expression("SET lease_until = :until")
            .condition_expression(
                "attribute_exists(pk) AND #status = :planned AND created_ms >= :stale \
                 AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":stale", n(stale_ms))
            .expression_attribute_values(":until", n(until_ms))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":planned", s("planned"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out
                    .attributes
                    .ok_or_else(|| Error::Store("lease returned no plan".into()))?;
                Ok(PlanLease::Acquired(plan_from_item(&item)?))
            }
            Err(e) if is_condition_failure(&e) => {
                let old = match e.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item.clone(),
                    _ => None,
                };
                Ok(match old {
                    None => PlanLease::Gone,
                    Some(item) => match (get_s(&item, "status"), get_s(&item, "batch_id")) {
                        (Some("sent"), Some(batch)) => PlanLease::Sent {
                            batch_id: batch.to_string(),
                        },
                        // Planned again since: this one must never go out.
                        _ if get_n(&item, "created_ms").unwrap_or(0) < stale_ms => {
                            self.delete_plan(plan_id).await?;
                            PlanLease::Gone
                        }
                        _ => PlanLease::Held,
                    },
                })
            }
            Err(e) => Err(store_error("lease plan", e)),
        }
    }

    async fn release_plan(&self, plan_id: &str) -> Result<()> {
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(CATALOG_PLAN_PK))
            .key("sk", s(plan_id))
            .update_expression("REMOVE lease_until")
            .condition_expression("attribute_exists(pk)");
        update_if(request, "release plan").await.map(|_| ())
    }

    async fn mark_plan_sent(
        &self,
        plan_id: &str,
        batch_id: &str,
        items: &[PlanItem],
    ) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(CATALOG_PLAN_PK))
            .key("sk", s(plan_id))
            .update_expression(
                "SET #status = :sent, batch_id = :batch, #items = :items REMOVE lease_until",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#items", "items")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":batch", s(batch_id))
            .expression_attribute_values(
                ":items",
                s(serde_json::to_string(items).expect("plan items serialize")),
            )
            .send()
            .await
            .map_err(|e| store_error("mark plan sent", e))?;
        Ok(())
    }

    async fn get_products(&self, skus: &[String]) -> Result<Vec<StoredProduct>> {
        let keys = skus
            .iter()
            .map(|sku| (product_pk(sku), keys::PRODUCT_SK.to_string()))
            .collect();
        self.batch_get(keys, "get products")
            .await?
            .into_iter()
            .map(decode_product)
            .collect()
    }

    async fn delete_plan(&self, plan_id: &str) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(CATALOG_PLAN_PK))
            .key("sk", s(plan_id))
            .send()
            .await
            .map_err(|e| store_error("delete plan", e))?;
        Ok(())
    }

    async fn lock_sync(&self, now_ms: i64, until_ms: i64) -> Result<bool> {
        let request = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(CATALOG_LOCK_PK))
            .item("sk", s(keys::LOCK_SK))
            .item("until_ms", n(until_ms))
            .condition_expression("attribute_not_exists(pk) OR until_ms < :now")
            .expression_attribute_values(":now", n(now_ms));
        put_if(request, "lock sync").await
    }

    async fn unlock_sync(&self) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(CATALOG_LOCK_PK))
            .key("sk", s(keys::LOCK_SK))
            .send()
            .await
            .map_err(|e| store_error("unlock sync", e))?;
        Ok(())
    }

    async fn claim_body(
        &self,
        scope: &str,
        digest: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<bool> {
        let request = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(sent_body_pk(scope, digest)))
            .item("sk", s(keys::BODY_SK))
            .item("sent_ms", n(now_ms))
            .item("expires_at", n((now_ms + window_ms) / 1000 + 60))
            .condition_expression("attribute_not_exists(pk) OR sent_ms < :cutoff")
            .expression_attribute_values(":cutoff", n(now_ms - window_ms));
        put_if(request, "claim body").await
    }

    async fn forget_body(&self, scope: &str, digest: &str) -> Result<()> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(sent_body_pk(scope, digest)))
            .key("sk", s(keys::BODY_SK))
            .send()
            .await
            .map_err(|e| store_error("forget body", e))?;
        Ok(())
    }

    async fn cached_category(
        &self,
        marketplace: Marketplace,
        category_id: u64,
        now: i64,
    ) -> Result<Option<Option<CategoryRules>>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(category_cache_pk(marketplace, category_id)))
            .key("sk", s(keys::CACHE_SK))
            .send()
            .await
            .map_err(|e| store_error("get cached category", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        // TTL deletion lags by up to days: expiry is checked here too.
        if get_n(&item, "expires_at").unwrap_or(0) < now {
            return Ok(None);
        }
        match get_s(&item, "rules") {
            None => Ok(Some(None)),
            Some(json) => serde_json::from_str(json)
                .map(|rules| Some(Some(rules)))
                .or(Ok(None)),
        }
    }

    async fn cache_category(
        &self,
        marketplace: Marketplace,
        category_id: u64,
        rules: Option<&CategoryRules>,
        expires_at: i64,
    ) -> Result<()> {
        let mut request = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(category_cache_pk(marketplace, category_id)))
            .item("sk", s(keys::CACHE_SK))
            .item("expires_at", n(expires_at));
        if let Some(rules) = rules {
            request = request.item(
                "rules",
                s(serde_json::to_string(rules).expect("rules serialize")),
            );
        }
        request
            .send()
            .await
            .map_err(|e| store_error("cache category", e))?;
        Ok(())
    }
}
