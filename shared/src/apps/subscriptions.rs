//! The `subscriptions` function (HTTP API, IAM-authenticated): the endpoints
//! of ERP, CRM and accounting systems that take our domain events, signed by
//! the Standard Webhooks specification (README § Outbound events).
//!
//! - `POST /subscriptions` → 201 with the subscription and its signing
//!   secret (`whsec_…`), shown this once;
//! - `GET /subscriptions`, `GET|PUT|DELETE /subscriptions/{id}` (no secret);
//! - `POST /subscriptions/{id}/secret` → a new secret, shown once; the old
//!   one keeps signing (a second signature) for 24 hours;
//! - `GET /subscriptions/{id}/deliveries?from=…&to=…[&cursor=…][&limit=…]`:
//!   each delivery with its attempts (time, status, latency, error);
//! - `POST /subscriptions/{id}/replay` `{"eventId": …}` or `{"from": …, "to": …}`:
//!   sends those deliveries again from the start of the schedule, with the
//!   same `webhook-id`.

use std::sync::Arc;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::api::{body_bytes, error_response, json_response, parse_json};
use crate::apps::deliveries::Clock;
use crate::aws::dynamo::DynamoStore;
use crate::aws::sdk::AwsEnv;
use crate::aws::sqs::SqsQueue;
use crate::clock::{now_ms, rfc3339_of_ms as rfc3339};
use crate::config::{self, OutboundSettings, ProcessEnv};
use crate::domain::outbound::{
    encode_secret, Subscription, SubscriptionInput, SubscriptionView, DEFAULT_RATE_LIMIT,
    PREVIOUS_SECRET_VALID_MS, SECRET_BYTES,
};
use crate::error::{Error, Result};
use crate::ports::{Delivery, DeliveryStore, SubscriptionStore, WakeUp, WakeUpQueue};

/// Deliveries per page of the log, unless the caller asks for fewer.
const LOG_PAGE: i32 = 100;
/// Deliveries one replay call restarts at most (the answer's cursor continues).
const REPLAY_MAX: usize = 500;

/// `POST /subscriptions` → 201, and `POST /subscriptions/{id}/secret` → 200.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WithSecret {
    pub subscription: SubscriptionView,
    /// `whsec_<base64>`: shown here only; store it where the receiver can verify with it.
    pub secret: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryLog {
    pub subscription_id: String,
    pub deliveries: Vec<Delivery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replayed {
    /// Event ids sent again (the `webhook-id` they carry).
    pub replayed: Vec<String>,
    /// Event ids with an attempt under way right now (not restarted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub busy: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The body of `POST /subscriptions/{id}/replay`: `eventId`, or `from` and
/// `to` (RFC 3339, when the deliveries were created) and the `cursor` a
/// previous answer gave.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayBody {
    pub event_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    from: String,
    to: String,
    cursor: Option<String>,
    limit: Option<i32>,
}

/// Restarts whose wake-ups go out together (one SQS batch).
const WAKE_UP_GROUP: usize = 10;

pub struct App<S, Q> {
    store: S,
    queue: Q,
    settings: OutboundSettings,
    clock: Clock,
}

impl App<DynamoStore, SqsQueue> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let settings = OutboundSettings::from_env(&env)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            SqsQueue::new(aws.sqs(), settings.queue_url.clone()),
            settings,
        ))
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("no randomness for a signing secret".into()))?;
    Ok(bytes)
}

fn parse_time(field: &str, value: &str) -> Result<i64> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| Error::validation(field, "an RFC 3339 time, e.g. 2026-12-01T00:00:00Z"))
}

impl<S, Q> App<S, Q>
where
    S: SubscriptionStore + DeliveryStore,
    Q: WakeUpQueue,
{
    pub fn new(store: S, queue: Q, settings: OutboundSettings) -> Self {
        App {
            store,
            queue,
            settings,
            clock: Arc::new(now_ms),
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    pub async fn handle(
        &self,
        req: Request,
    ) -> std::result::Result<Response<Body>, lambda_http::Error> {
        let path = req.uri().path().trim_end_matches('/').to_string();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let result = match (req.method(), segments.as_slice()) {
            (&Method::POST, ["subscriptions"]) => match parse_json(body_bytes(&req)) {
                Ok(input) => self.create(input).await.map(|c| json_response(201, &c)),
                Err(e) => Err(e),
            },
            (&Method::GET, ["subscriptions"]) => self
                .list()
                .await
                .map(|l| json_response(200, &serde_json::json!({ "subscriptions": l }))),
            (&Method::GET, ["subscriptions", id]) => {
                self.get(id).await.map(|s| json_response(200, &s.view()))
            }
            (&Method::PUT, ["subscriptions", id]) => match parse_json(body_bytes(&req)) {
                Ok(input) => self.update(id, input).await.map(|v| json_response(200, &v)),
                Err(e) => Err(e),
            },
            (&Method::DELETE, ["subscriptions", id]) => self
                .delete(id)
                .await
                .map(|()| json_response(200, &serde_json::json!({ "deleted": id }))),
            (&Method::POST, ["subscriptions", id, "secret"]) => {
                self.rotate(id).await.map(|c| json_response(200, &c))
            }
            (&Method::GET, ["subscriptions", id, "deliveries"]) => self
                .log(id, req.uri().query().unwrap_or(""))
                .await
                .map(|l| json_response(200, &l)),
            (&Method::POST, ["subscriptions", id, "replay"]) => {
                match parse_json(body_bytes(&req)) {
                    Ok(body) => self.replay(id, body).await.map(|r| json_response(202, &r)),
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

    pub async fn create(&self, input: SubscriptionInput) -> Result<WithSecret> {
        input.validate(self.settings.allow_loopback)?;
        let now = rfc3339(self.now());
        let secret = encode_secret(&random_bytes::<SECRET_BYTES>()?);
        let sub = Subscription {
            id: format!("sub_{}", hex::encode(random_bytes::<12>()?)),
            url: input.url,
            event_types: input.event_types,
            description: input.description,
            active: input.active,
            rate_limit_per_second: input.rate_limit_per_second.unwrap_or(DEFAULT_RATE_LIMIT),
            secret,
            previous_secret: None,
            failing_since_ms: None,
            disabled_reason: None,
            created_at: now.clone(),
            updated_at: now,
        };
        if !self.store.create_subscription(&sub).await? {
            return Err(Error::Internal("a random subscription id was taken".into()));
        }
        tracing::info!(subscription = %sub.id, "outbound subscription created");
        Ok(WithSecret {
            subscription: sub.view(),
            secret: sub.secret.expose().to_string(),
        })
    }

    pub async fn list(&self) -> Result<Vec<SubscriptionView>> {
        Ok(self
            .store
            .subscriptions()
            .await?
            .iter()
            .map(Subscription::view)
            .collect())
    }

    async fn get(&self, id: &str) -> Result<Subscription> {
        self.store
            .subscription(id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "subscription",
                id: id.chars().take(40).collect(),
            })
    }

    pub async fn update(&self, id: &str, input: SubscriptionInput) -> Result<SubscriptionView> {
        input.validate(self.settings.allow_loopback)?;
        let old = self.get(id).await?;
        let reenabled = input.active && !old.active;
        let sub = Subscription {
            url: input.url,
            event_types: input.event_types,
            description: input.description,
            active: input.active,
            rate_limit_per_second: input
                .rate_limit_per_second
                .unwrap_or(old.rate_limit_per_second),
            failing_since_ms: if reenabled {
                None
            } else {
                old.failing_since_ms
            },
            disabled_reason: if input.active {
                None
            } else {
                old.disabled_reason.clone()
            },
            updated_at: rfc3339(self.now()),
            ..old.clone()
        };
        self.replace(&sub, &old.updated_at).await?;
        Ok(sub.view())
    }

    async fn replace(&self, sub: &Subscription, seen: &str) -> Result<()> {
        if self.store.replace_subscription(sub, seen).await? {
            Ok(())
        } else {
            Err(Error::Conflict {
                code: "subscription_changed",
                message:
                    "the subscription changed meanwhile (or was deleted); read it and try again"
                        .into(),
            })
        }
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        if self.store.delete_subscription(id).await? {
            tracing::info!(subscription = %id, "outbound subscription deleted");
            Ok(())
        } else {
            Err(Error::NotFound {
                what: "subscription",
                id: id.chars().take(40).collect(),
            })
        }
    }

    /// A new secret; the current one becomes the previous one and keeps
    /// signing for 24 hours (a rotation within those 24 hours drops the
    /// oldest: two signatures at most).
    pub async fn rotate(&self, id: &str) -> Result<WithSecret> {
        let old = self.get(id).await?;
        let now = self.now();
        let sub = Subscription {
            secret: encode_secret(&random_bytes::<SECRET_BYTES>()?),
            previous_secret: Some((old.secret.clone(), now + PREVIOUS_SECRET_VALID_MS)),
            updated_at: rfc3339(now),
            ..old.clone()
        };
        self.replace(&sub, &old.updated_at).await?;
        tracing::info!(subscription = %id, "outbound signing secret rotated");
        Ok(WithSecret {
            subscription: sub.view(),
            secret: sub.secret.expose().to_string(),
        })
    }

    pub async fn log(&self, id: &str, query: &str) -> Result<DeliveryLog> {
        let q: LogQuery = serde_urlencoded::from_str(query)
            .map_err(|e| Error::validation("query", e.to_string()))?;
        let limit = q.limit.unwrap_or(LOG_PAGE);
        if !(1..=LOG_PAGE).contains(&limit) {
            return Err(Error::validation("limit", format!("1–{LOG_PAGE}")));
        }
        self.get(id).await?;
        let page = self
            .store
            .deliveries(
                id,
                parse_time("from", &q.from)?,
                parse_time("to", &q.to)?,
                q.cursor.as_deref(),
                limit,
            )
            .await?;
        Ok(DeliveryLog {
            subscription_id: id.to_string(),
            deliveries: page.deliveries,
            next_cursor: page.next,
        })
    }

    pub async fn replay(&self, id: &str, body: ReplayBody) -> Result<Replayed> {
        let sub = self.get(id).await?;
        if !sub.active {
            return Err(Error::Conflict {
                code: "subscription_disabled",
                message: "enable the subscription (PUT with active: true) before replaying".into(),
            });
        }
        let now = self.now();
        let by_id = body.event_id.is_some();
        let mut candidates = Vec::new();
        let mut next_cursor = None;
        match (body.event_id, body.from, body.to) {
            (Some(event_id), None, None) => candidates.push(event_id),
            (None, Some(from), Some(to)) => {
                let (from, to) = (parse_time("from", &from)?, parse_time("to", &to)?);
                let mut cursor = body.cursor;
                loop {
                    let page = self
                        .store
                        .deliveries(id, from, to, cursor.as_deref(), LOG_PAGE)
                        .await?;
                    candidates.extend(page.deliveries.into_iter().map(|d| d.event_id));
                    cursor = page.next;
                    if cursor.is_none() || candidates.len() >= REPLAY_MAX {
                        next_cursor = cursor;
                        break;
                    }
                }
            }
            _ => {
                return Err(Error::validation(
                    "",
                    "either eventId, or from and to (RFC 3339)",
                ))
            }
        }
        let expires_at = now / 1000 + i64::from(self.settings.log_days) * 86_400;
        let mut replayed = Vec::new();
        let mut busy = Vec::new();
        // Wake-ups go out after each group of restarts (and before an error
        // is returned): a restarted delivery is never left without one.
        for chunk in candidates.chunks(WAKE_UP_GROUP) {
            let woken = replayed.len();
            let mut failed = None;
            for event_id in chunk {
                match self.restart(id, event_id, now, expires_at, by_id).await {
                    Ok(Some(true)) => replayed.push(event_id.clone()),
                    Ok(Some(false)) => busy.push(event_id.clone()),
                    Ok(None) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let wake_ups: Vec<WakeUp> = replayed[woken..]
                .iter()
                .map(|event_id| WakeUp {
                    subscription_id: id.to_string(),
                    event_id: event_id.clone(),
                    not_before_ms: now,
                })
                .collect();
            if !wake_ups.is_empty() {
                self.queue.send_wake_ups(&wake_ups, 0).await?;
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
        tracing::info!(subscription = %id, replayed = replayed.len(), "outbound deliveries replayed");
        Ok(Replayed {
            replayed,
            busy,
            next_cursor,
        })
    }

    /// One delivery restarted (`Some(true)`), busy (`Some(false)`) or not
    /// kept (`None`; an error when it was named by `eventId`).
    async fn restart(
        &self,
        id: &str,
        event_id: &str,
        now: i64,
        expires_at: i64,
        by_id: bool,
    ) -> Result<Option<bool>> {
        if self
            .store
            .restart_delivery(id, event_id, now, expires_at)
            .await?
        {
            Ok(Some(true))
        } else if self.store.delivery(id, event_id).await?.is_some() {
            Ok(Some(false))
        } else if by_id {
            // Named by eventId and not kept (never delivered here, or expired).
            Err(Error::NotFound {
                what: "delivery",
                id: event_id.chars().take(80).collect(),
            })
        } else {
            Ok(None)
        }
    }
}
