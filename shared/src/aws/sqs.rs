//! The catalog queue: jobs sent with SendMessageBatch (≤ 10 entries and
//! ≤ 256 KiB per call), and the partial batch response of a consumer.

use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;

use crate::aws::dynamo::store_error;
use crate::domain::catalog_sync::CatalogJob;
use crate::error::{Error, Result};
use crate::ports::{JobQueue, SyncTrigger};

/// SQS's limit for one message and for one SendMessageBatch call.
pub const MAX_SQS_BYTES: usize = 256 * 1024;
/// SQS's longest DelaySeconds.
pub const MAX_DELAY_SECS: u32 = 900;

/// Backoff for a message handled again (a failed job, a plan that found the
/// lock held): `base · 2^(receives − 1)`, at most SQS's 15 minutes.
pub fn retry_delay(base: Duration, receives: u32) -> u32 {
    (base.as_secs() as u32)
        .saturating_mul(1 << receives.saturating_sub(1).min(10))
        .min(MAX_DELAY_SECS)
}

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

/// Groups encoded messages into SendMessageBatch calls: ≤ 10 and ≤ 256 KiB each.
pub fn group_for_batches(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, size) in sizes.iter().enumerate() {
        if i > start && (i - start == 10 || bytes + size > MAX_SQS_BYTES) {
            groups.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        groups.push(start..sizes.len());
    }
    groups
}

impl JobQueue for SqsQueue {
    async fn send_jobs(&self, jobs: &[CatalogJob], delay_secs: u32) -> Result<()> {
        let bodies: Vec<String> = jobs
            .iter()
            .map(|job| serde_json::to_string(job).expect("jobs serialize"))
            .collect();
        if let Some(too_big) = bodies.iter().find(|b| b.len() > MAX_SQS_BYTES) {
            return Err(Error::Internal(format!(
                "a catalog job of {} bytes exceeds SQS's limit",
                too_big.len()
            )));
        }
        let sizes: Vec<usize> = bodies.iter().map(String::len).collect();
        for group in group_for_batches(&sizes) {
            let mut pending: Vec<SendMessageBatchRequestEntry> = group
                .clone()
                .map(|i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&bodies[i])
                        .delay_seconds(delay_secs.min(MAX_DELAY_SECS) as i32)
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            // Entries that fail are retried a few times (throttling, internal
            // errors); whatever still fails is an error for the caller.
            for attempt in 0..4 {
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| store_error("send catalog jobs", e))?;
                let failed: Vec<String> = out.failed.iter().map(|f| f.id.clone()).collect();
                if failed.is_empty() {
                    break;
                }
                if attempt == 3 {
                    return Err(Error::Store(format!(
                        "SQS refused {} catalog job(s): {}",
                        failed.len(),
                        out.failed
                            .first()
                            .and_then(|f| f.message.clone())
                            .unwrap_or_default()
                    )));
                }
                pending.retain(|e| failed.contains(&e.id));
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            }
        }
        Ok(())
    }

    async fn retry_later(&self, receipt_handle: &str, delay_secs: u32) -> Result<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay_secs as i32)
            .send()
            .await
            .map_err(|e| store_error("delay a failed catalog job", e))?;
        Ok(())
    }
}

/// The most SKUs a stock-sync message names (they are only for the logs).
pub const MAX_TRIGGER_SKUS: usize = 100;

/// The body of a stock-sync message sent by our own code (the rule's
/// messages are `marketplace.stock.updated` events as EventBridge delivers them).
pub fn trigger_body(source: &str, skus: &[String], attempt: u32) -> String {
    let skus = &skus[..skus.len().min(MAX_TRIGGER_SKUS)];
    serde_json::json!({ "source": source, "skus": skus, "attempt": attempt }).to_string()
}

impl SyncTrigger for SqsQueue {
    async fn request_sync(
        &self,
        source: &str,
        skus: &[String],
        attempt: u32,
        delay_secs: u32,
    ) -> Result<()> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(trigger_body(source, skus, attempt))
            .delay_seconds(delay_secs.min(MAX_DELAY_SECS) as i32)
            .send()
            .await
            .map_err(|e| store_error("ask for a stock sync", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_jobs_back_off_exponentially_up_to_fifteen_minutes() {
        let base = Duration::from_secs(30);
        assert_eq!(retry_delay(base, 1), 30);
        assert_eq!(retry_delay(base, 2), 60);
        assert_eq!(retry_delay(base, 4), 240);
        assert_eq!(retry_delay(base, 9), 900);
        assert_eq!(retry_delay(Duration::ZERO, 3), 0);
    }

    #[test]
    fn batches_hold_ten_messages_and_256_kib_at_most() {
        assert_eq!(group_for_batches(&[1; 25]), vec![0..10, 10..20, 20..25]);
        let big = 100 * 1024;
        assert_eq!(group_for_batches(&[big, big, big, 1]), vec![0..2, 2..4]);
        assert!(group_for_batches(&[]).is_empty());
    }

    #[test]
    fn a_trigger_names_at_most_a_hundred_skus() {
        let skus: Vec<String> = (0..150).map(|i| format!("S{i}")).collect();
        let body: serde_json::Value =
            serde_json::from_str(&trigger_body("catalog", &skus, 0)).unwrap();
        assert_eq!(body["source"], "catalog");
        assert_eq!(body["skus"].as_array().unwrap().len(), MAX_TRIGGER_SKUS);
    }
}
