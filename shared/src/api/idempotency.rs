//! Exactly-once processing of side effects that a retry could repeat, as a
//! small core with a pluggable store (the idea of Powertools' idempotency
//! utility; the DynamoDB store is in `aws::idempotency`).
//!
//! A record is claimed with one conditional write. It can be claimed when it
//! does not exist, when it expired, or when a previous claimant died midway
//! (its in-progress expiry, taken from the Lambda deadline, has passed). On
//! success it becomes COMPLETED and later deliveries are answered from it;
//! on error it is deleted so the provider's retry can run it again.

use std::future::Future;

use crate::error::Result;

/// The claim condition, spelled out once (the DynamoDB store uses it verbatim
/// and a test pins it).
pub const CLAIM_CONDITION: &str = "attribute_not_exists(pk) OR expires_at < :now \
     OR (#status = :in_progress AND in_progress_expiry < :now_ms)";

/// What the record also says about the delivery, so it doubles as the audit
/// entry (one write instead of two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditInfo {
    pub provider: String,
    pub event_type: String,
    pub event_id: String,
    /// RFC 3339.
    pub received_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// e.g. `webhook:stripe`.
    pub scope: String,
    pub key: String,
    /// SHA-256 of the payload, to notice a reused key with other content.
    pub payload_hash: String,
    pub now_ms: i64,
    /// When a claimant that has not finished is presumed dead: the Lambda
    /// deadline of the invocation that claims.
    pub in_progress_until_ms: i64,
    /// Unix seconds; also the record's TTL.
    pub expires_at: i64,
    pub audit: AuditInfo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimResult {
    Claimed,
    /// Already done; `outcome` is what the first run recorded.
    Completed {
        outcome: String,
    },
    /// Another invocation is working on it right now.
    InProgress,
}

pub trait IdempotencyStore: Send + Sync {
    fn claim(&self, claim: &Claim) -> impl Future<Output = Result<ClaimResult>> + Send;
    fn complete(
        &self,
        claim: &Claim,
        outcome: &str,
        latency_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Deletes an in-progress record after a failure, so a retry can run.
    fn release(&self, claim: &Claim) -> impl Future<Output = Result<()>> + Send;
    /// Notes a duplicate delivery on the record (audit only; best effort).
    fn note_duplicate(&self, claim: &Claim) -> impl Future<Output = Result<()>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    Ran(T),
    Duplicate { outcome: String },
    InProgress,
}

/// How a finished piece of work leaves its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done for good: later deliveries are duplicates answered with this outcome.
    Complete(String),
    /// Nothing could be done yet (e.g. the order is not known yet): the claim
    /// is released so a later delivery of the same event can still apply it.
    Release,
}

/// Runs `work` at most once per claim key (until it completes). `work`
/// returns its value and what to do with the record.
pub async fn run_once<S, F, Fut, T>(store: &S, claim: &Claim, work: F) -> Result<Once<T>>
where
    S: IdempotencyStore,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(T, Disposition)>>,
{
    match store.claim(claim).await? {
        ClaimResult::Completed { outcome } => {
            if let Err(e) = store.note_duplicate(claim).await {
                tracing::warn!(error = %e, "could not note a duplicate delivery");
            }
            Ok(Once::Duplicate { outcome })
        }
        ClaimResult::InProgress => Ok(Once::InProgress),
        ClaimResult::Claimed => match work().await {
            Ok((value, Disposition::Release)) => {
                if let Err(e) = store.release(claim).await {
                    tracing::error!(error = %e, key = %claim.key, "could not release an idempotency record");
                }
                Ok(Once::Ran(value))
            }
            Ok((value, Disposition::Complete(outcome))) => {
                let latency = crate::clock::now_ms() - claim.now_ms;
                // The work is done: failing the delivery now would only make
                // the provider redeliver it. The record then stays in progress
                // until its deadline and a redelivery after that re-applies,
                // which the work tolerates (same event ids, forward-only state).
                if let Err(e) = store.complete(claim, &outcome, latency).await {
                    tracing::error!(error = %e, key = %claim.key, "could not complete an idempotency record");
                }
                Ok(Once::Ran(value))
            }
            Err(e) => {
                if let Err(release) = store.release(claim).await {
                    // The record will expire at in_progress_until_ms anyway.
                    tracing::error!(error = %release, "could not release an idempotency record");
                }
                Err(e)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::sync::Mutex;

    type Record = (String, i64, Option<String>);

    /// An in-memory store with the same claim rule, for the core's logic.
    #[derive(Default)]
    struct MemoryStore {
        /// key → (status, in-progress expiry, outcome)
        records: Mutex<std::collections::HashMap<String, Record>>,
        log: Mutex<Vec<String>>,
    }

    impl IdempotencyStore for MemoryStore {
        async fn claim(&self, c: &Claim) -> Result<ClaimResult> {
            let mut records = self.records.lock().unwrap();
            match records.get(&c.key) {
                Some((status, _, outcome)) if status == "COMPLETED" => Ok(ClaimResult::Completed {
                    outcome: outcome.clone().unwrap(),
                }),
                Some((_, until_ms, _)) if *until_ms >= c.now_ms => Ok(ClaimResult::InProgress),
                _ => {
                    records.insert(
                        c.key.clone(),
                        ("INPROGRESS".into(), c.in_progress_until_ms, None),
                    );
                    Ok(ClaimResult::Claimed)
                }
            }
        }
        async fn complete(&self, c: &Claim, outcome: &str, _latency: i64) -> Result<()> {
            self.records
                .lock()
                .unwrap()
                .insert(c.key.clone(), ("COMPLETED".into(), 0, Some(outcome.into())));
            Ok(())
        }
        async fn release(&self, c: &Claim) -> Result<()> {
            self.records.lock().unwrap().remove(&c.key);
            self.log.lock().unwrap().push("release".into());
            Ok(())
        }
        async fn note_duplicate(&self, _c: &Claim) -> Result<()> {
            self.log.lock().unwrap().push("duplicate".into());
            Ok(())
        }
    }

    fn claim(now_ms: i64) -> Claim {
        Claim {
            scope: "webhook:stripe".into(),
            key: "evt_1".into(),
            payload_hash: "h".into(),
            now_ms,
            in_progress_until_ms: now_ms + 1000,
            expires_at: now_ms / 1000 + 3600,
            audit: AuditInfo {
                provider: "stripe".into(),
                event_type: "payment_intent.succeeded".into(),
                event_id: "evt_1".into(),
                received_at: "2026-11-26T00:00:00Z".into(),
            },
        }
    }

    #[tokio::test]
    async fn runs_once_then_answers_from_the_record() {
        let store = MemoryStore::default();
        let first = run_once(&store, &claim(0), || async {
            Ok((1, Disposition::Complete("applied".into())))
        })
        .await;
        assert_eq!(first.unwrap(), Once::Ran(1));
        let second = run_once(&store, &claim(10), || async {
            Ok((2, Disposition::Complete("applied".into())))
        })
        .await;
        assert_eq!(
            second.unwrap(),
            Once::Duplicate {
                outcome: "applied".into()
            }
        );
        assert_eq!(*store.log.lock().unwrap(), ["duplicate"]);
    }

    #[tokio::test]
    async fn a_failure_releases_the_claim_so_a_retry_runs() {
        let store = MemoryStore::default();
        let failed: Result<Once<i32>> = run_once(&store, &claim(0), || async {
            Err(Error::Store("boom".into()))
        })
        .await;
        assert!(failed.is_err());
        let retry = run_once(&store, &claim(5), || async {
            Ok((3, Disposition::Complete("applied".into())))
        })
        .await;
        assert_eq!(retry.unwrap(), Once::Ran(3));
    }

    #[tokio::test]
    async fn released_work_runs_again_on_the_next_delivery() {
        let store = MemoryStore::default();
        let first = run_once(&store, &claim(0), || async {
            Ok((1, Disposition::Release))
        })
        .await;
        assert_eq!(first.unwrap(), Once::Ran(1));
        let again = run_once(&store, &claim(5), || async {
            Ok((2, Disposition::Complete("applied".into())))
        })
        .await;
        assert_eq!(again.unwrap(), Once::Ran(2));
    }

    #[tokio::test]
    async fn a_dead_claimant_is_taken_over_after_its_deadline() {
        let store = MemoryStore::default();
        store.claim(&claim(0)).await.unwrap();
        assert_eq!(
            store.claim(&claim(500)).await.unwrap(),
            ClaimResult::InProgress
        );
        assert_eq!(
            store.claim(&claim(1001)).await.unwrap(),
            ClaimResult::Claimed
        );
    }

    #[test]
    fn the_claim_condition_is_the_documented_one() {
        assert_eq!(
            CLAIM_CONDITION,
            "attribute_not_exists(pk) OR expires_at < :now OR (#status = :in_progress AND in_progress_expiry < :now_ms)"
        );
    }
}
