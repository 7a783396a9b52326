//! The `operations` function (HTTP API, IAM-authenticated): what an operator
//! needs without the AWS console.
//!
//! - `GET /integrations/health`, `GET /integrations/health/{provider}`: each
//!   configured provider checked by a cheap authenticated read
//!   (`providers::health`), answered `healthy | unhealthy | unconfigured`
//!   with latency, time checked and an error code. A check is kept in the
//!   table (`CACHE#health#<provider>`) for `HEALTH_CACHE_SECS` (≥ 60 s) and
//!   answered from there by every instance, so the route cannot spend the
//!   providers' rate limits.
//! - `GET /integrations/webhooks?provider=…&day=YYYY-MM-DD[&cursor=…][&limit=…]`:
//!   that day's webhook deliveries and how each ended (the audit
//!   `aws::idempotency` writes), a page at a time.
//! - `POST /integrations/{marketplace}/sync` `{"kind":"catalog"|"orders","skus":[…]}`:
//!   puts the SKUs back on the catalog work list, then publishes
//!   `sync.requested` (docs/events.md); template rules hand it to
//!   product-sync (catalog) or order-poll (orders). Answers 202 with what it
//!   queued.

use std::time::Instant;

use futures_util::future::join_all;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::api::{body_bytes, error_response, json_response, parse_json};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::{now_ms, now_rfc3339};
use crate::config::{self, HttpSettings, OperationsSettings, ProcessEnv, Source};
use crate::domain::event::{DetailType, DomainEvent, EventDetail};
use crate::domain::operations::{
    is_fresh, judge, validate_day, validate_sync, HealthCheck, HealthStatus, Provider, SyncBody,
    SyncKind, SyncRequest, SyncRequestedDetail, AUDITED_PROVIDERS,
};
use crate::error::{Error, Result};
use crate::ports::{CatalogWorkList, EventPublisher, HealthCache, WebhookAuditReader};
use crate::providers::health::HealthProbes;
use crate::providers::http::HttpLayer;

/// Audit entries per page, unless the caller asks for fewer.
const AUDIT_PAGE: i32 = 100;

/// `GET /integrations/health`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    /// `unhealthy` if any configured provider is; else `healthy`
    /// (`unconfigured` when nothing is configured).
    pub status: HealthStatus,
    pub providers: Vec<HealthCheck>,
}

/// `POST /integrations/{marketplace}/sync` → 202.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncQueued {
    pub request_id: String,
    /// `sync.requested`, routed to product-sync (catalog) or order-poll (orders).
    pub event: &'static str,
    pub marketplace: &'static str,
    pub kind: SyncKind,
    /// SKUs put back on the catalog work list for the plan.
    pub skus: Vec<String>,
    /// SKUs named that are not in the catalog (nothing done for them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_skus: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditAnswer {
    pub provider: String,
    pub day: String,
    pub deliveries: Vec<crate::ports::AuditEntry>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    provider: String,
    day: String,
    cursor: Option<String>,
    limit: Option<i32>,
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    probes: HealthProbes,
    settings: OperationsSettings,
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), config::event_bus_name(&env)?),
            HealthProbes::from_env(&env, &http)?,
            OperationsSettings::from_env(&env)?,
        ))
    }
}

impl<S, P> App<S, P>
where
    S: HealthCache + WebhookAuditReader + CatalogWorkList,
    P: EventPublisher,
{
    pub fn new(store: S, publisher: P, probes: HealthProbes, settings: OperationsSettings) -> Self {
        App {
            store,
            publisher,
            probes,
            settings,
        }
    }

    /// The event publisher (tests read what was published).
    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// Built from settings (tests: a map; Lambda: `from_env`).
    pub fn from_source(store: S, publisher: P, env: &dyn Source, http: &HttpLayer) -> Result<Self> {
        Ok(App::new(
            store,
            publisher,
            HealthProbes::from_env(env, http)?,
            OperationsSettings::from_env(env)?,
        ))
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let path = req.uri().path().trim_end_matches('/').to_string();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let result = match (req.method(), segments.as_slice()) {
            (&Method::GET, ["integrations", "health"]) => {
                self.health_all().await.map(|r| json_response(200, &r))
            }
            (&Method::GET, ["integrations", "health", provider]) => {
                match Provider::parse(provider) {
                    Some(p) => self.health(p).await.map(|c| json_response(200, &c)),
                    None => Err(Error::NotFound {
                        what: "provider",
                        id: provider.chars().take(40).collect(),
                    }),
                }
            }
            (&Method::GET, ["integrations", "webhooks"]) => self
                .audit(req.uri().query().unwrap_or(""))
                .await
                .map(|a| json_response(200, &a)),
            (&Method::POST, ["integrations", marketplace, "sync"]) => {
                match parse_json::<SyncBody>(body_bytes(&req))
                    .and_then(|body| validate_sync(marketplace, body))
                {
                    Ok(request) => self.sync(request).await.map(|q| json_response(202, &q)),
                    Err(e) => Err(e),
                }
            }
            (method, _) => Err(Error::NoRoute {
                method: method.to_string(),
                path,
            }),
        };
        Ok(result.unwrap_or_else(|e| error_response(&e)))
    }

    pub async fn health_all(&self) -> Result<HealthReport> {
        let checks = join_all(Provider::ALL.into_iter().map(|p| self.health(p))).await;
        let providers = checks.into_iter().collect::<Result<Vec<_>>>()?;
        let status = if providers
            .iter()
            .any(|c| c.status == HealthStatus::Unhealthy)
        {
            HealthStatus::Unhealthy
        } else if providers.iter().any(|c| c.status == HealthStatus::Healthy) {
            HealthStatus::Healthy
        } else {
            HealthStatus::Unconfigured
        };
        Ok(HealthReport { status, providers })
    }

    /// One provider: from the table while fresh, else asked (and stored).
    /// A table that cannot be read fails the request rather than ask the
    /// provider uncached.
    pub async fn health(&self, provider: Provider) -> Result<HealthCheck> {
        if !self.probes.configured(provider) {
            return Ok(HealthCheck {
                provider: provider.as_str(),
                status: HealthStatus::Unconfigured,
                latency_ms: None,
                checked_at: now_rfc3339(),
                checked_ms: now_ms(),
                error: None,
                provider_code: None,
                cached: false,
            });
        }
        let ttl_ms = self.settings.health_cache.as_millis() as i64;
        if let Some(cached) = self.store.cached_health(provider).await? {
            if is_fresh(cached.checked_ms, now_ms(), ttl_ms) {
                return Ok(cached);
            }
        }
        let started = Instant::now();
        let outcome = self.probes.probe(provider).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let (status, error, provider_code) = judge(outcome.as_ref());
        let checked_ms = now_ms();
        let check = HealthCheck {
            provider: provider.as_str(),
            status,
            latency_ms: Some(latency_ms),
            checked_at: now_rfc3339(),
            checked_ms,
            error,
            provider_code,
            cached: false,
        };
        // The error's own text stays in the log (the clients never put a
        // secret or a body in it); the answer carries the code only.
        if let Some(Err(e)) = &outcome {
            tracing::warn!(provider = provider.as_str(), error = %e, "provider health check failed");
        }
        let expires_at = checked_ms / 1000 + 2 * (ttl_ms / 1000);
        if let Err(e) = self.store.cache_health(&check, expires_at).await {
            tracing::warn!(error = %e, "could not cache a health check");
        }
        Ok(check)
    }

    pub async fn audit(&self, query: &str) -> Result<AuditAnswer> {
        let q: AuditQuery = serde_urlencoded::from_str(query)
            .map_err(|e| Error::validation("query", e.to_string()))?;
        if !AUDITED_PROVIDERS.contains(&q.provider.as_str()) {
            return Err(Error::validation(
                "provider",
                format!("one of {}", AUDITED_PROVIDERS.join(", ")),
            ));
        }
        validate_day(&q.day)?;
        let limit = q.limit.unwrap_or(AUDIT_PAGE);
        if !(1..=AUDIT_PAGE).contains(&limit) {
            return Err(Error::validation("limit", format!("1–{AUDIT_PAGE}")));
        }
        let page = self
            .store
            .audit_page(&q.provider, &q.day, q.cursor.as_deref(), limit)
            .await?;
        Ok(AuditAnswer {
            provider: q.provider,
            day: q.day,
            deliveries: page.entries,
            next_cursor: page.next,
        })
    }

    /// SKUs first (so the plan the event starts includes them), then the event.
    pub async fn sync(&self, request: SyncRequest) -> Result<SyncQueued> {
        let mut skus = Vec::new();
        let mut unknown_skus = Vec::new();
        for sku in &request.skus {
            if self.store.mark_pending(sku).await? {
                skus.push(sku.clone());
            } else {
                unknown_skus.push(sku.clone());
            }
        }
        let request_id = format!("sync-{}-{:016x}", now_ms(), fastrand::u64(..));
        let detail = SyncRequestedDetail {
            request_id: request_id.clone(),
            marketplace: request.marketplace,
            kind: request.kind,
            skus: skus.clone(),
        };
        self.publisher
            .publish(&[DomainEvent {
                detail_type: DetailType::SyncRequested,
                event_id: format!("operations:{request_id}"),
                occurred_at: now_rfc3339(),
                detail: EventDetail::SyncRequested(detail),
            }])
            .await?;
        tracing::info!(
            %request_id,
            marketplace = request.marketplace.as_str(),
            kind = ?request.kind,
            skus = skus.len(),
            "sync requested"
        );
        Ok(SyncQueued {
            request_id,
            event: DetailType::SyncRequested.as_str(),
            marketplace: request.marketplace.as_str(),
            kind: request.kind,
            skus,
            unknown_skus,
        })
    }
}
