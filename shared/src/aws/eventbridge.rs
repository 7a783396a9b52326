//! Domain events onto the EventBridge bus: PutEvents in chunks of 10 (the
//! API's limit), and an entry that was not accepted is an error, so the
//! caller fails and the provider redelivers (consumers dedupe on `eventId`).

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::aws::dynamo::store_error;
use crate::domain::event::{DomainEvent, EVENT_SOURCE};
use crate::error::{Error, Result};
use crate::ports::EventPublisher;

pub const MAX_ENTRIES_PER_CALL: usize = 10;

#[derive(Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        EventBridgePublisher {
            client,
            bus_name: bus_name.into(),
        }
    }
}

impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<()> {
        for chunk in events.chunks(MAX_ENTRIES_PER_CALL) {
            let entries = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(EVENT_SOURCE)
                        .detail_type(e.detail_type.as_str())
                        .detail(serde_json::to_string(e).expect("events serialize"))
                        .build()
                })
                .collect::<Vec<_>>();
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| store_error("PutEvents", e))?;
            if out.failed_entry_count() > 0 {
                let reasons: Vec<String> = out
                    .entries()
                    .iter()
                    .filter_map(|e| {
                        e.error_code()
                            .map(|c| format!("{c}: {}", e.error_message().unwrap_or("")))
                    })
                    .collect();
                return Err(Error::Store(format!(
                    "EventBridge rejected {} of {} events: {}",
                    out.failed_entry_count(),
                    chunk.len(),
                    reasons.join("; ")
                )));
            }
        }
        Ok(())
    }
}
