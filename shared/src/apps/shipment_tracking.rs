//! The `shipment-tracking` function (EventBridge schedule): the tracking
//! poll reads every open Aras shipment's status, publishes
//! `shipment.status_changed` when it moves forward, and tells the
//! marketplace the tracking number once Aras has assigned one. Shipments are
//! created by the `shipment` function (`apps::shipment`).

use serde::Serialize;
use serde_json::Value;

use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::config::ArasSettings;
use crate::config::{self, HttpSettings, ProcessEnv};
use crate::domain::event::DetailType;
use crate::domain::shipment::{shipment_event, tracking_change, ShipmentRecord, TrackingPushState};
use crate::error::{Error, ProviderFailure, Result};
use crate::ports::{EventPublisher, ShipmentStore};
use crate::providers::aras::{self, ArasClient};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::tracking::{refusal_event, Pushed, TrackingPushers};

/// What one tracking poll did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingReport {
    pub open: u32,
    pub changed: u32,
    pub unchanged: u32,
    pub pushed: u32,
    pub push_refused: u32,
    pub failed: u32,
    /// Not reached before the deadline; the next run goes on.
    pub left: u32,
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    aras: Option<ArasClient>,
    pushers: TrackingPushers,
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        let bus = config::event_bus_name(&env)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), bus),
            ArasSettings::from_env(&env)?.map(|s| ArasClient::new(http.clone(), s)),
            TrackingPushers::from_env(&env, &http)?,
        ))
    }
}

impl<S, P> App<S, P>
where
    S: ShipmentStore,
    P: EventPublisher,
{
    pub fn new(store: S, publisher: P, aras: Option<ArasClient>, pushers: TrackingPushers) -> Self {
        App {
            store,
            publisher,
            aras,
            pushers,
        }
    }

    /// The handler: any event (schedule or on demand) runs one tracking
    /// poll.
    pub async fn handle(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<Value>,
    ) -> Result<TrackingReport, lambda_http::Error> {
        // Stop a minute before the deadline. One not in the future is none:
        // a local invoke gives 0, or (cargo lambda watch) the constant 600000.
        let deadline = match i64::try_from(event.context.deadline) {
            Ok(d) if d > now_ms() => d - 60_000,
            _ => i64::MAX,
        };
        let report = self.poll_tracking_until(deadline).await.map_err(|e| {
            tracing::error!(error = %e, "tracking poll failed");
            e
        })?;
        tracing::info!(
            open = report.open,
            changed = report.changed,
            pushed = report.pushed,
            "tracking poll"
        );
        crate::telemetry::emit_heartbeat("shipment-tracking");
        Ok(report)
    }

    /// The tracking poll: every open shipment, one at a time (Aras allows
    /// few requests per second).
    pub async fn poll_tracking(&self) -> Result<TrackingReport> {
        self.poll_tracking_until(i64::MAX).await
    }

    /// The poll, starting no shipment after `deadline_ms`; the ones left
    /// wait for the next run (oldest change first, so none is starved).
    pub async fn poll_tracking_until(&self, deadline_ms: i64) -> Result<TrackingReport> {
        let mut report = TrackingReport::default();
        let aras = aras::configured(self.aras.as_ref())?;
        let mut open = self.store.open_shipments().await?;
        open.sort_by(|a, b| a.0.updated_at.cmp(&b.0.updated_at));
        report.open = open.len() as u32;
        for (i, (record, version)) in open.into_iter().enumerate() {
            if now_ms() > deadline_ms {
                report.left = report.open - i as u32;
                break;
            }
            if let Err(e) = self.track_one(aras, record, version, &mut report).await {
                report.failed += 1;
                tracing::warn!(error = %e, "tracking a shipment failed; the next poll tries again");
            }
        }
        if report.failed > 0 && report.failed == report.open {
            return Err(Error::Provider(crate::error::ProviderError {
                provider: "aras",
                failure: ProviderFailure::Unavailable,
                provider_code: None,
                decline_code: None,
                message: format!("tracking failed for all {} open shipments", report.open),
                request_id: None,
            }));
        }
        Ok(report)
    }

    async fn track_one(
        &self,
        aras: &ArasClient,
        mut record: ShipmentRecord,
        mut version: u64,
        report: &mut TrackingReport,
    ) -> Result<()> {
        if !record.announced {
            // Its create could not publish: do it now (same event id).
            self.publisher
                .publish(&[shipment_event(
                    DetailType::ShipmentCreated,
                    &record,
                    None,
                    now_rfc3339(),
                )])
                .await?;
            record.announced = true;
            record.updated_at = now_rfc3339();
            if !self.store.update_shipment(&record, version).await? {
                return Ok(());
            }
            version += 1;
        }
        if record.tracking.is_final() {
            // Only its tracking number is still to be told.
            report.unchanged += 1;
            return self.push_tracking_number(record, version, report).await;
        }
        let t = aras.tracking(&record.shipment_id).await?;
        let change = tracking_change(&record, &t.status, t.tracking_number.as_deref());
        if change.is_empty() {
            report.unchanged += 1;
        } else {
            let previous = record.tracking.clone();
            if let Some(n) = change.tracking_number {
                record.tracking_number = Some(n);
            }
            if let Some(status) = change.status {
                record.tracking = status;
                record.status_changes += 1;
                // Published before the write: a failure after it publishes
                // again next poll, with the same event id.
                self.publisher
                    .publish(&[shipment_event(
                        DetailType::ShipmentStatusChanged,
                        &record,
                        Some(&previous),
                        now_rfc3339(),
                    )])
                    .await?;
                report.changed += 1;
            }
            record.updated_at = now_rfc3339();
            if !self.store.update_shipment(&record, version).await? {
                return Ok(());
            }
            version += 1;
        }
        self.push_tracking_number(record, version, report).await
    }

    /// Tells the marketplace the tracking number once: a lease on the record
    /// keeps two polls from pushing together; a push that fails leaves it
    /// pending for the next poll.
    async fn push_tracking_number(
        &self,
        mut record: ShipmentRecord,
        version: u64,
        report: &mut TrackingReport,
    ) -> Result<()> {
        let now = now_ms();
        let Some((package, number)) = record.push_due(now) else {
            return Ok(());
        };
        let (package, number) = (package.clone(), number.to_string());
        record.push = TrackingPushState::Pending {
            claimed_until_ms: now + 120_000,
        };
        if !self.store.update_shipment(&record, version).await? {
            return Ok(());
        }
        let version = version + 1;
        let outcome = self.pushers.push(&record, &package, &number).await;
        let refused = match outcome {
            Ok(Pushed::Done) => {
                report.pushed += 1;
                record.push = TrackingPushState::Done {
                    tracking_number: number.clone(),
                };
                None
            }
            Ok(Pushed::Refused(reason)) => Some(reason),
            // A package number or tracking number the marketplace can never
            // take: a person must look.
            Err(Error::Validation(problems)) => Some(
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Err(e) => {
                tracing::warn!(shipment_id = %record.shipment_id, error = %e, "tracking number push failed; retried next poll");
                record.push = TrackingPushState::Pending {
                    claimed_until_ms: 0,
                };
                None
            }
        };
        if let Some(reason) = refused {
            report.push_refused += 1;
            self.publisher
                .publish(&[refusal_event(
                    &record.shipment_id,
                    &package,
                    &number,
                    &reason,
                )])
                .await?;
            record.push = TrackingPushState::Refused { reason };
        }
        record.updated_at = now_rfc3339();
        self.store
            .update_shipment(&record, version)
            .await
            .map(|_| ())
    }
}
