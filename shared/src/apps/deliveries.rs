//! The `deliveries` function (SQS): our domain events, signed by the
//! Standard Webhooks specification, to every subscribed endpoint, at least
//! once, retried over three days (docs/outbound-webhooks-wire.md).
//!
//! The outbound queue carries two kinds of message:
//! - a domain event, as the template rule `OutboundEventsRule` hands it over
//!   (the EventBridge envelope): fanned out to each active subscription
//!   that wants its type. Each (endpoint, event) pair gets one delivery
//!   item, created by a conditional put already claimed for the first
//!   attempt, so a redelivered event never starts a second delivery. A
//!   subscription we disabled (`disabled_reason` set) gets the item too,
//!   held: pending, no attempt, no wake-up, until a replay starts it. One
//!   the merchant set inactive gets nothing: the event is dropped for it;
//! - a wake-up `{"wakeUp": {subscriptionId, eventId, notBeforeMs}}` we send
//!   ourselves after a failed attempt (and for replays). SQS delays a
//!   message at most 15 minutes, so a wake-up that arrives early is sent
//!   again with the rest of the delay (no table read); one that is due reads
//!   the delivery and claims the next attempt conditionally on the state it
//!   read, so two wake-ups for the same delivery never both send.
//!
//! An attempt claimed and never recorded (a crash) leaves the delivery
//! `sending` with a lease; the message that claimed it is redelivered by
//! SQS after the visibility timeout (longer than the lease) and claims it
//! again. A delivery's schedule (`domain::outbound::RETRY_SCHEDULE`) ends
//! after ten attempts over 75 h: it is then `failed` (metric and alarm) and a
//! replay starts it again. An endpoint that has only failed for
//! `OUTBOUND_DISABLE_AFTER_HOURS`, or that answered 410, is disabled and
//! `subscription.disabled` is published.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use futures_util::{stream, StreamExt};
use serde::Deserialize;

use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::aws::sqs::{SqsQueue, MAX_DELAY_SECS};
use crate::clock::{now_ms, rfc3339_of_ms};
use crate::config::{self, OutboundSettings, ProcessEnv};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, SubscriptionDisabledDetail};
use crate::domain::outbound::{
    after_failure, judge_status, next_attempt_ms, webhook_body, AttemptLog, AttemptResult,
    DeliveryState, EndpointHealth, Subscription,
};
use crate::error::{Error, Result};
use crate::ports::{
    Delivery, DeliveryStore, EventPublisher, SubscriptionStore, WakeUp, WakeUpQueue,
};
use crate::providers::outbound::EndpointSender;
use crate::telemetry;

/// Messages of one batch handled side by side (each endpoint's own rate
/// limiter spaces its requests).
const MESSAGES_IN_PARALLEL: usize = 10;

/// How long a claimed attempt is ours: longer than one request with its
/// rate-limit wait, shorter than the queue's visibility timeout (template).
pub const LEASE_MS: i64 = 120_000;

/// The clock: epoch milliseconds (tests move it by days).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

#[derive(Deserialize)]
#[serde(untagged)]
enum Message {
    WakeUp {
        #[serde(rename = "wakeUp")]
        wake_up: WakeUp,
    },
    Event {
        #[serde(rename = "detail-type")]
        detail_type: String,
        detail: serde_json::Value,
    },
}

pub struct App<S, Q, P> {
    store: S,
    queue: Q,
    publisher: P,
    sender: EndpointSender,
    settings: OutboundSettings,
    clock: Clock,
}

impl App<DynamoStore, SqsQueue, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let settings = OutboundSettings::from_env(&env)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            SqsQueue::new(aws.sqs(), settings.queue_url.clone()),
            EventBridgePublisher::new(aws.eventbridge(), config::event_bus_name(&env)?),
            settings,
        ))
    }
}

impl<S, Q, P> App<S, Q, P>
where
    S: SubscriptionStore + DeliveryStore,
    Q: WakeUpQueue,
    P: EventPublisher,
{
    pub fn new(store: S, queue: Q, publisher: P, settings: OutboundSettings) -> Self {
        App {
            store,
            queue,
            publisher,
            sender: EndpointSender::new(&settings),
            settings,
            clock: Arc::new(now_ms),
        }
    }

    /// Tests: another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    pub async fn handle(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<SqsEvent>,
    ) -> std::result::Result<SqsBatchResponse, lambda_http::Error> {
        Ok(self.process(event.payload).await)
    }

    /// One Query reads every subscription for the whole batch; each message
    /// then succeeds or fails on its own.
    pub async fn process(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        let subs = match self.store.subscriptions().await {
            Ok(subs) => subs,
            Err(e) => {
                tracing::error!(error = %e, "cannot read subscriptions; the batch is retried");
                response.batch_item_failures = event.records.iter().map(failure).collect();
                return response;
            }
        };
        let subs = &subs;
        let failures: Vec<Option<BatchItemFailure>> = stream::iter(event.records)
            .map(|record| async move {
                match self.process_record(subs, &record).await {
                    Ok(()) => None,
                    Err(e) => {
                        tracing::warn!(message_id = record.message_id.as_deref().unwrap_or(""), error = %e, "outbound message failed; SQS will redeliver it");
                        Some(failure(&record))
                    }
                }
            })
            .buffer_unordered(MESSAGES_IN_PARALLEL)
            .collect()
            .await;
        response.batch_item_failures = failures.into_iter().flatten().collect();
        response
    }

    async fn process_record(&self, subs: &[Subscription], record: &SqsMessage) -> Result<()> {
        let body = record
            .body
            .as_deref()
            .ok_or_else(|| Error::Internal("outbound message without a body".into()))?;
        // An unreadable message fails every time and ends in the DLQ (alarm).
        let message: Message = serde_json::from_str(body)
            .map_err(|e| Error::Internal(format!("unreadable outbound message: {e}")))?;
        match message {
            Message::WakeUp { wake_up } => self.wake_up(subs, wake_up).await,
            Message::Event {
                detail_type,
                detail,
            } => self.fan_out(subs, &detail_type, &detail).await,
        }
    }

    /// A domain event to every subscription that wants it.
    pub async fn fan_out(
        &self,
        subs: &[Subscription],
        event_type: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let (Some(event_id), Some(occurred_at)) = (
            detail.get("eventId").and_then(|v| v.as_str()),
            detail.get("occurredAt").and_then(|v| v.as_str()),
        ) else {
            return Err(Error::Internal(format!(
                "a {event_type} event without eventId or occurredAt"
            )));
        };
        let body = webhook_body(event_type, occurred_at, detail);
        let results = join_all(
            subs.iter()
                .filter(|s| s.wants(event_type))
                .map(|sub| self.start(sub, event_id, event_type, &body)),
        )
        .await;
        let held = join_all(
            subs.iter()
                .filter(|s| s.holds(event_type))
                .map(|sub| self.hold(sub, event_id, event_type, &body)),
        )
        .await;
        results.into_iter().chain(held).collect()
    }

    /// An event for a subscription we disabled (failing, gone): kept as a
    /// pending delivery with no attempt and no wake-up, so that a replay
    /// after re-enabling sends it (same webhook-id). A redelivered event
    /// finds it there and leaves it.
    async fn hold(
        &self,
        sub: &Subscription,
        event_id: &str,
        event_type: &str,
        body: &str,
    ) -> Result<()> {
        let now = self.now();
        let delivery = Delivery {
            subscription_id: sub.id.clone(),
            event_id: event_id.to_string(),
            event_type: event_type.to_string(),
            body: body.to_string(),
            state: DeliveryState::Pending,
            attempts: 0,
            series_start: 0,
            next_attempt_ms: now,
            lease_until_ms: 0,
            created_ms: now,
            log: Vec::new(),
        };
        let expires_at = now / 1000 + i64::from(self.settings.log_days) * 86_400;
        if self.store.create_delivery(&delivery, expires_at).await? {
            tracing::info!(subscription = %sub.id, event_id, "event held for a disabled subscription");
        }
        Ok(())
    }

    async fn start(
        &self,
        sub: &Subscription,
        event_id: &str,
        event_type: &str,
        body: &str,
    ) -> Result<()> {
        let now = self.now();
        let delivery = Delivery {
            subscription_id: sub.id.clone(),
            event_id: event_id.to_string(),
            event_type: event_type.to_string(),
            body: body.to_string(),
            state: DeliveryState::Sending,
            attempts: 1,
            series_start: 0,
            next_attempt_ms: now,
            lease_until_ms: now + LEASE_MS,
            created_ms: now,
            log: Vec::new(),
        };
        let expires_at = now / 1000 + i64::from(self.settings.log_days) * 86_400;
        if self.store.create_delivery(&delivery, expires_at).await? {
            self.attempt(sub, delivery).await
        } else {
            // Seen before (a redelivered event): carry on where it stands.
            self.resume(sub, event_id).await
        }
    }

    async fn wake_up(&self, subs: &[Subscription], wake: WakeUp) -> Result<()> {
        let now = self.now();
        if wake.not_before_ms > now {
            return self.queue_wake_up(wake).await;
        }
        match subs.iter().find(|s| s.id == wake.subscription_id) {
            Some(sub) => self.resume(sub, &wake.event_id).await,
            None => {
                tracing::info!(subscription = %wake.subscription_id, "wake-up for a deleted subscription dropped");
                Ok(())
            }
        }
    }

    async fn queue_wake_up(&self, wake: WakeUp) -> Result<()> {
        let wait_ms = (wake.not_before_ms - self.now()).max(0);
        let delay = ((wait_ms + 999) / 1000).min(i64::from(MAX_DELAY_SECS)) as u32;
        self.queue.send_wake_ups(&[wake], delay).await
    }

    /// Looks at a delivery again: sends its next attempt if it is due and
    /// nobody else has claimed it.
    async fn resume(&self, sub: &Subscription, event_id: &str) -> Result<()> {
        if !sub.active {
            // Paused with its endpoint, its wake-up chain ends here; a
            // replay after re-enabling starts it again.
            tracing::info!(subscription = %sub.id, "delivery left as it is: its subscription is disabled");
            return Ok(());
        }
        let now = self.now();
        let Some(delivery) = self.store.delivery(&sub.id, event_id).await? else {
            tracing::info!(subscription = %sub.id, "wake-up for a delivery no longer kept dropped");
            return Ok(());
        };
        match delivery.state {
            DeliveryState::Delivered | DeliveryState::Failed => return Ok(()),
            DeliveryState::Pending if delivery.next_attempt_ms > now => {
                return self
                    .queue_wake_up(WakeUp {
                        subscription_id: sub.id.clone(),
                        event_id: event_id.to_string(),
                        not_before_ms: delivery.next_attempt_ms,
                    })
                    .await;
            }
            DeliveryState::Sending if delivery.lease_until_ms > now => {
                // Another claim holds it. Should that claimer have crashed
                // with its own message gone, nothing else would wake it:
                // look again when the lease runs out.
                return self
                    .queue_wake_up(WakeUp {
                        subscription_id: sub.id.clone(),
                        event_id: event_id.to_string(),
                        not_before_ms: delivery.lease_until_ms,
                    })
                    .await;
            }
            _ => {}
        }
        if !self.store.claim_attempt(&delivery, now + LEASE_MS).await? {
            return Ok(());
        }
        let claimed = Delivery {
            attempts: delivery.attempts + 1,
            state: DeliveryState::Sending,
            lease_until_ms: now + LEASE_MS,
            ..delivery
        };
        self.attempt(sub, claimed).await
    }

    /// One claimed attempt: send, record, then schedule the next one or
    /// judge the endpoint.
    async fn attempt(&self, sub: &Subscription, delivery: Delivery) -> Result<()> {
        let now = self.now();
        let keys = sub.signing_keys(now)?;
        let outcome = self
            .sender
            .send(sub, &delivery.event_id, &delivery.body, now / 1000, &keys)
            .await;
        let result = match outcome.status {
            Some(status) => judge_status(status, outcome.retry_after),
            None => AttemptResult::Failed { retry_after: None },
        };
        let entry = AttemptLog {
            at_ms: now,
            status: outcome.status,
            latency_ms: outcome.latency_ms,
            error: outcome.error.map(str::to_string),
        };
        tracing::info!(
            subscription = %sub.id,
            event_id = %delivery.event_id,
            attempt = delivery.attempts,
            status = outcome.status.unwrap_or(0),
            error = outcome.error.unwrap_or(""),
            latency_ms = outcome.latency_ms,
            "outbound delivery attempt"
        );
        if result == AttemptResult::Delivered {
            self.store
                .record_attempt(&delivery, DeliveryState::Delivered, 0, &entry)
                .await?;
            telemetry::emit_outbound("OutboundDeliveries", "delivered");
            // Whatever the batch's list said: it may have been marked since.
            self.store
                .clear_failing(&sub.id, &rfc3339_of_ms(now))
                .await?;
            return Ok(());
        }
        let gone = result == AttemptResult::Gone;
        let retry_after = match result {
            AttemptResult::Failed { retry_after } => retry_after,
            _ => None,
        };
        let next = (!gone)
            .then(|| {
                next_attempt_ms(
                    now,
                    delivery.attempts.saturating_sub(delivery.series_start),
                    retry_after,
                    fastrand::f64(),
                )
            })
            .flatten();
        let state = if next.is_some() {
            DeliveryState::Pending
        } else {
            DeliveryState::Failed
        };
        self.store
            .record_attempt(&delivery, state, next.unwrap_or(0), &entry)
            .await?;
        match next {
            Some(at) => {
                telemetry::emit_outbound("OutboundDeliveries", outcome.error.unwrap_or("failed"));
                self.queue_wake_up(WakeUp {
                    subscription_id: sub.id.clone(),
                    event_id: delivery.event_id.clone(),
                    not_before_ms: at,
                })
                .await?;
            }
            None if gone => {
                // Not the schedule running out: the endpoint said 410 and is
                // disabled below (its own alarm), so not `exhausted`.
                telemetry::emit_outbound("OutboundDeliveries", "gone");
                tracing::warn!(subscription = %sub.id, event_id = %delivery.event_id, "endpoint answered 410 Gone; delivery failed, endpoint disabled");
            }
            None => {
                telemetry::emit_outbound("OutboundDeliveries", "exhausted");
                tracing::error!(subscription = %sub.id, event_id = %delivery.event_id, attempts = delivery.attempts, "outbound delivery failed for good; replay it once the endpoint works");
            }
        }
        self.judge_endpoint(sub, now, gone, outcome.status).await
    }

    async fn judge_endpoint(
        &self,
        sub: &Subscription,
        now: i64,
        gone: bool,
        status: Option<u16>,
    ) -> Result<()> {
        let window = self.settings.disable_after.as_millis() as i64;
        match after_failure(sub.failing_since_ms, now, window, gone) {
            EndpointHealth::StartsFailing => self.store.mark_failing(&sub.id, now).await,
            EndpointHealth::StillFailing => Ok(()),
            EndpointHealth::Disable => {
                let reason = if gone { "gone" } else { "failing" };
                // Conditional on the table as it stands now, not on the
                // batch's list: a success or a re-enabling meanwhile wins.
                let cut = (!gone).then_some(now - window);
                if !self
                    .store
                    .disable_subscription(&sub.id, reason, &rfc3339_of_ms(now), cut)
                    .await?
                {
                    return Ok(());
                }
                telemetry::emit_outbound("OutboundEndpointsDisabled", reason);
                tracing::error!(subscription = %sub.id, reason, "outbound endpoint disabled");
                // Only once the write took. A failed publish is logged (the
                // metric above already raised the alarm) and not retried.
                let published = self
                    .publisher
                    .publish(&[DomainEvent {
                        detail_type: DetailType::SubscriptionDisabled,
                        // Stable per version of the subscription (a re-enabled one
                        // that fails again is a new event); no `.` in it (wire W6).
                        event_id: format!(
                            "subscriptions:{}:disabled:{}",
                            sub.id,
                            sub.updated_at
                                .chars()
                                .filter(char::is_ascii_alphanumeric)
                                .collect::<String>()
                        ),
                        occurred_at: rfc3339_of_ms(now),
                        detail: EventDetail::SubscriptionDisabled(SubscriptionDisabledDetail {
                            subscription_id: sub.id.clone(),
                            host: sub
                                .url
                                .parse::<http::Uri>()
                                .ok()
                                .and_then(|u| u.host().map(str::to_string))
                                .unwrap_or_default(),
                            reason: reason.to_string(),
                            failing_since: sub.failing_since_ms.map(rfc3339_of_ms),
                            last_status: status,
                        }),
                    }])
                    .await;
                if let Err(e) = published {
                    tracing::error!(subscription = %sub.id, error = %e, "subscription.disabled not published; the alarm outbound-endpoint-disabled still fires");
                }
                Ok(())
            }
        }
    }
}

fn failure(record: &SqsMessage) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = record.message_id.clone().unwrap_or_default();
    failure
}
