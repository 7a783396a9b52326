//! The `catalog` function: the platform's backend puts products into our
//! table (`PUT /catalog/products/{sku}`, or up to 1,000 at once with
//! `POST /catalog/products`; IAM-authenticated at API Gateway) and reads
//! them back with their marketplace sync status (`GET /catalog/products/{sku}`).
//! Storing a changed product puts it on product-sync's work list and, where
//! the stock-sync queue is configured (`STOCK_SYNC_QUEUE_URL`), asks
//! product-sync to plan it now (one message a call); an identical one
//! writes nothing.

use futures_util::stream::{self, StreamExt};
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::api::{body_bytes, error_response, json_response, parse_json, parse_json_up_to};
use crate::aws::dynamo::DynamoStore;
use crate::aws::sdk::AwsEnv;
use crate::aws::sqs::SqsQueue;
use crate::clock::now_rfc3339;
use crate::config::{self, ProcessEnv};
use crate::domain::marketplace::Marketplace;
use crate::domain::product::{
    validate_product, validate_sku, Product, ProductSubmission, SyncKind, MAX_BULK_PRODUCTS,
};
use crate::error::{Error, FieldError, Result};
use crate::ports::{NoTrigger, ProductStore, ProductWrite, StoredProduct, SyncTrigger};

/// A bulk call may carry 1,000 products with long descriptions; Lambda's
/// synchronous payload limit is 6 MB.
pub const MAX_BULK_BODY_BYTES: usize = 6 * 1024 * 1024;
/// Concurrent writes of one bulk call.
const WRITE_CONCURRENCY: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    products: Vec<Box<RawValue>>,
}

/// The outcome of one product of a PUT or bulk call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ItemOutcome {
    /// As sent (may be missing or invalid when the item is invalid).
    pub sku: Option<String>,
    /// `created`, `updated`, `unchanged`, `invalid` or `error` (not stored:
    /// retry it).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOutcome {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub invalid: usize,
    pub failed: usize,
    pub results: Vec<ItemOutcome>,
}

/// What a marketplace shows of one kind of a product's data.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindView {
    /// `synced` (acknowledged as it is now), `refused` (the marketplace or our
    /// category check refused it as it is now) or `pending`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    pub version: u64,
    pub updated_at: String,
    /// Per listed marketplace: content, price and stock.
    pub sync: std::collections::BTreeMap<
        &'static str,
        std::collections::BTreeMap<&'static str, KindView>,
    >,
}

impl From<&StoredProduct> for ProductView {
    fn from(stored: &StoredProduct) -> Self {
        let mut sync = std::collections::BTreeMap::new();
        for m in Marketplace::ALL {
            if !stored.product.listed_on(m) {
                continue;
            }
            let listing = stored.listing(m);
            let mut kinds = std::collections::BTreeMap::new();
            for k in SyncKind::ALL {
                let desired = stored.product.sync_hash(m, k);
                let state = listing.kind(k);
                let view = if desired == state.acked {
                    KindView {
                        state: "synced",
                        reasons: vec![],
                    }
                } else if desired == state.rejected {
                    let reasons = stored
                        .failures
                        .iter()
                        .find(|(fm, fk, _)| *fm == m && *fk == k)
                        .map(|(_, _, r)| r.clone())
                        .unwrap_or_default();
                    KindView {
                        state: "refused",
                        reasons,
                    }
                } else {
                    KindView {
                        state: "pending",
                        reasons: vec![],
                    }
                };
                kinds.insert(k.as_str(), view);
            }
            sync.insert(m.as_str(), kinds);
        }
        ProductView {
            product: stored.product.clone(),
            version: stored.version,
            updated_at: stored.updated_at.clone(),
            sync,
        }
    }
}

pub struct App<S, T = NoTrigger> {
    store: S,
    trigger: Option<T>,
}

impl App<DynamoStore, SqsQueue> {
    pub async fn from_env() -> Result<Self> {
        let table = config::table_name(&ProcessEnv)?;
        let aws = AwsEnv::from_env()?;
        let app = App::new(DynamoStore::new(aws.dynamodb(), table));
        Ok(
            match config::optional(&ProcessEnv, "STOCK_SYNC_QUEUE_URL") {
                Some(url) => app.with_trigger(SqsQueue::new(aws.sqs(), url)),
                None => App {
                    store: app.store,
                    trigger: None,
                },
            },
        )
    }
}

fn status_of(write: &ProductWrite) -> (&'static str, Option<u64>) {
    match write {
        ProductWrite::Created { version } => ("created", Some(*version)),
        ProductWrite::Updated { version } => ("updated", Some(*version)),
        ProductWrite::Unchanged => ("unchanged", None),
    }
}

/// Parses one product of a bulk call; field paths are prefixed with its index.
fn parse_bulk_item(
    index: usize,
    raw: &RawValue,
) -> std::result::Result<Product, (Option<String>, Vec<FieldError>)> {
    let prefix = |field: &str| {
        if field.is_empty() {
            format!("products[{index}]")
        } else {
            format!("products[{index}].{field}")
        }
    };
    let sub: ProductSubmission = match parse_json(raw.get().as_bytes()) {
        Ok(sub) => sub,
        Err(Error::Validation(fields)) => {
            let sku = serde_json::from_str::<serde_json::Value>(raw.get())
                .ok()
                .and_then(|v| v.get("sku").and_then(|s| s.as_str()).map(str::to_owned));
            return Err((
                sku,
                fields
                    .into_iter()
                    .map(|f| FieldError::new(prefix(&f.field), f.message))
                    .collect(),
            ));
        }
        Err(other) => return Err((None, vec![FieldError::new(prefix(""), other.to_string())])),
    };
    let Some(sku) = sub.sku.clone() else {
        return Err((
            None,
            vec![FieldError::new(
                prefix("sku"),
                "is required in a bulk upsert",
            )],
        ));
    };
    validate_product(&sku, sub).map_err(|errors| {
        (
            Some(sku.clone()),
            errors
                .into_iter()
                .map(|f| FieldError::new(prefix(&f.field), f.message))
                .collect(),
        )
    })
}

impl<S: ProductStore> App<S> {
    pub fn new(store: S) -> Self {
        App {
            store,
            trigger: None,
        }
    }
}

impl<S: ProductStore, T: SyncTrigger> App<S, T> {
    /// Changed products are planned at once through `trigger`.
    pub fn with_trigger<U: SyncTrigger>(self, trigger: U) -> App<S, U> {
        App {
            store: self.store,
            trigger: Some(trigger),
        }
    }

    /// Asks product-sync to plan the changed products now. A failure costs
    /// only time: they are on the work list, and the scheduled plan sends them.
    async fn request_sync(&self, changed: &[String]) {
        let (Some(trigger), false) = (&self.trigger, changed.is_empty()) else {
            return;
        };
        if let Err(e) = trigger.request_sync("catalog", changed, 0, 0).await {
            tracing::warn!(error = %e, products = changed.len(), "could not ask for a sync now; the next scheduled one sends them");
        }
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let path = req.uri().path().trim_end_matches('/').to_string();
        let result = match (
            req.method(),
            path.as_str(),
            path.strip_prefix("/catalog/products/"),
        ) {
            (&Method::PUT, _, Some(sku)) => self.put_one(sku, body_bytes(&req)).await,
            (&Method::GET, _, Some(sku)) => self.get_one(sku).await,
            (&Method::POST, "/catalog/products", None) => self
                .put_bulk(body_bytes(&req))
                .await
                .map(|outcome| json_response(200, &outcome)),
            (method, _, _) => Err(Error::NoRoute {
                method: method.to_string(),
                path,
            }),
        };
        Ok(result.unwrap_or_else(|e| error_response(&e)))
    }

    async fn put_one(&self, sku: &str, body: &[u8]) -> Result<Response<Body>> {
        let sub: ProductSubmission = parse_json(body)?;
        let product = validate_product(sku, sub).map_err(Error::Validation)?;
        let write = self.store.put_product(&product, &now_rfc3339()).await?;
        if !matches!(write, ProductWrite::Unchanged) {
            self.request_sync(std::slice::from_ref(&product.sku)).await;
        }
        let (status, version) = status_of(&write);
        let code = if status == "created" { 201 } else { 200 };
        Ok(json_response(
            code,
            &ItemOutcome {
                sku: Some(product.sku),
                status,
                version,
                errors: vec![],
            },
        ))
    }

    async fn get_one(&self, sku: &str) -> Result<Response<Body>> {
        validate_sku(sku, "sku").map_err(|e| Error::Validation(vec![e]))?;
        let stored = self
            .store
            .get_product(sku)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "product",
                id: sku.to_string(),
            })?;
        Ok(json_response(200, &ProductView::from(&stored)))
    }

    /// Stores every valid product of the call; invalid ones get their errors,
    /// and a product that could not be stored gets `error` (retry it).
    pub async fn put_bulk(&self, body: &[u8]) -> Result<BulkOutcome> {
        let request: BulkRequest = parse_json_up_to(body, MAX_BULK_BODY_BYTES)?;
        if request.products.len() > MAX_BULK_PRODUCTS {
            return Err(Error::validation(
                "products",
                format!("at most {MAX_BULK_PRODUCTS} products per call"),
            ));
        }
        let parsed: Vec<_> = request
            .products
            .iter()
            .enumerate()
            .map(|(i, raw)| parse_bulk_item(i, raw))
            .collect();
        // The same SKU twice in one call would race with itself: refuse the repeats.
        let mut seen = std::collections::HashSet::new();
        let now = now_rfc3339();
        let results: Vec<ItemOutcome> = stream::iter(parsed.into_iter().enumerate())
            .map(|(i, item)| {
                let duplicate = matches!(&item, Ok(p) if !seen.insert(p.sku.clone()));
                let now = now.as_str();
                async move {
                    match item {
                        Err((sku, errors)) => ItemOutcome {
                            sku,
                            status: "invalid",
                            version: None,
                            errors,
                        },
                        Ok(product) if duplicate => ItemOutcome {
                            sku: Some(product.sku),
                            status: "invalid",
                            version: None,
                            errors: vec![FieldError::new(
                                format!("products[{i}].sku"),
                                "appears more than once in this call",
                            )],
                        },
                        Ok(product) => match self.store.put_product(&product, now).await {
                            Ok(write) => {
                                let (status, version) = status_of(&write);
                                ItemOutcome {
                                    sku: Some(product.sku),
                                    status,
                                    version,
                                    errors: vec![],
                                }
                            }
                            Err(e) => {
                                tracing::error!(error = %e, sku = %product.sku, "could not store a product");
                                ItemOutcome {
                                    sku: Some(product.sku),
                                    status: "error",
                                    version: None,
                                    errors: vec![FieldError::new(
                                        format!("products[{i}]"),
                                        "could not be stored now; retry it",
                                    )],
                                }
                            }
                        },
                    }
                }
            })
            .buffered(WRITE_CONCURRENCY)
            .collect()
            .await;
        let changed: Vec<String> = results
            .iter()
            .filter(|r| matches!(r.status, "created" | "updated"))
            .filter_map(|r| r.sku.clone())
            .collect();
        self.request_sync(&changed).await;
        let count = |s: &str| results.iter().filter(|r| r.status == s).count();
        Ok(BulkOutcome {
            created: count("created"),
            updated: count("updated"),
            unchanged: count("unchanged"),
            invalid: count("invalid"),
            failed: count("error"),
            results,
        })
    }
}
