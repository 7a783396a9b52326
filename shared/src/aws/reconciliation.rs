//! A day's reconciliation in the single table (port `ReconciliationStore`):
//! its report, one cursor per pass, its differences and healed facts, all
//! in the partition `RECON#<day>` so the report is one paged Query.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | report | `day`, `run_id`, `status` (`running`/`completed`), `started_at`, `completed_at` |
//! | pass | `run_id`, `after`, `done`, `listed`, `requests`, `version` |
//! | difference | `difference` (JSON text), `run_id`, `found_at`, `published` |
//! | healed fact | `fact` (JSON text), `healed_at` |
//! | listed order | `expires_at` (TTL: 7 days; only a run in progress needs it) |
//!
//! Every write is conditional where a repeat could double count: a pass
//! moves only from the version it was read at; a difference is written
//! once per day and published until marked so; a healed fact once per
//! event identity.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::aws::dynamo::conditional_failed;
use crate::aws::dynamo::{decode, n, s, store_error, DynamoStore, Item, OrderItem};
use crate::aws::keys::{self, reconciliation_pk};
use crate::domain::payment_ledger::PaymentLedger;
use crate::domain::reconciliation::{DayReport, Difference, HealedFact, ProviderCounts};
use crate::error::{Error, Result};
use crate::ports::{
    LedgerBatchReader, PassState, PaymentDayList, PaymentDayPage, ReconciliationStore,
};

impl LedgerBatchReader for DynamoStore {
    async fn load_ledgers(&self, order_ids: &[String]) -> Result<HashMap<String, PaymentLedger>> {
        let mut ids: Vec<&String> = order_ids.iter().collect();
        ids.sort();
        ids.dedup();
        let keys = ids
            .iter()
            .map(|id| (keys::order_pk(id), keys::ORDER_SK.to_string()))
            .collect();
        let mut ledgers = HashMap::with_capacity(ids.len());
        for item in self.batch_get(keys, "BatchGetItem ledgers").await? {
            let (ledger, _) = decode::<OrderItem>(item)?.into_ledger()?;
            ledgers.insert(ledger.order_id.clone(), ledger);
        }
        Ok(ledgers)
    }
}

impl PaymentDayList for DynamoStore {
    async fn payments_of_day(
        &self,
        provider: &str,
        day: &str,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<PaymentDayPage> {
        let gsi2pk = keys::payment_day_gsi2_pk(provider, day);
        let mut request = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :p")
            .expression_attribute_values(":p", s(&gsi2pk))
            .limit(limit);
        if let Some(cursor) = cursor {
            // `[pk, sk, gsi2sk]` of the last item read, as JSON text.
            let [pk, sk, gsi2sk]: [String; 3] = serde_json::from_str(cursor)
                .map_err(|_| Error::Store(format!("bad payment day cursor {cursor:?}")))?;
            request = request
                .exclusive_start_key("pk", s(pk))
                .exclusive_start_key("sk", s(sk))
                .exclusive_start_key("gsi2pk", s(&gsi2pk))
                .exclusive_start_key("gsi2sk", s(gsi2sk));
        }
        let out = request
            .send()
            .await
            .map_err(|e| store_error("Query payments of the day", e))?;
        // The table's keys are always projected: the order from `pk`, the
        // reference from `sk` (`PAYMENT#<provider>#<ref>`).
        let prefix = keys::payment_sk(provider, "");
        let payments = out
            .items()
            .iter()
            .filter_map(|item| {
                let order_id = text(item, "pk")?
                    .strip_prefix(&keys::order_pk(""))?
                    .to_string();
                let provider_ref = text(item, "sk")?.strip_prefix(&prefix)?.to_string();
                Some((order_id, provider_ref))
            })
            .collect();
        let next = match out.last_evaluated_key() {
            Some(key) => {
                let get = |name: &str| key.get(name).and_then(|v| v.as_s().ok()).cloned();
                match (get("pk"), get("sk"), get("gsi2sk")) {
                    (Some(pk), Some(sk), Some(g)) => Some(json(&[pk, sk, g])?),
                    _ => None,
                }
            }
            None => None,
        };
        Ok((payments, next))
    }
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn flag(item: &Item, name: &str) -> bool {
    item.get(name)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

/// Marks of listed orders outlive their run by days: a run that keeps
/// continuing still finds them.
const LISTED_TTL_SECS: i64 = 7 * 86_400;

/// Which provider a pass belongs to (`stripe-events` → `stripe`).
fn pass_provider(pass: &str) -> &str {
    pass.split('-').next().unwrap_or(pass)
}

impl ReconciliationStore for DynamoStore {
    async fn start_run(&self, day: &str, run_id: &str, now: &str) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(reconciliation_pk(day)))
            .key("sk", s(keys::RECON_REPORT_SK))
            .update_expression(
                "SET entity = :entity, #day = :day, run_id = :run, #status = :running, started_at = :now \
                 REMOVE completed_at",
            )
            .condition_expression("attribute_not_exists(run_id) OR run_id <> :run")
            .expression_attribute_names("#day", "day")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":entity", s("reconciliation_report"))
            .expression_attribute_values(":day", s(day))
            .expression_attribute_values(":run", s(run_id))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // This run already: an invocation going on with it.
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn load_pass(&self, day: &str, run_id: &str, pass: &str) -> Result<PassState> {
        let Some(item) = self
            .get_item(&reconciliation_pk(day), &keys::reconciliation_pass_sk(pass))
            .await?
        else {
            return Ok(PassState::default());
        };
        if text(&item, "run_id").as_deref() != Some(run_id) {
            return Ok(PassState::default());
        }
        Ok(PassState {
            after: text(&item, "after"),
            done: flag(&item, "done"),
            listed: number(&item, "listed"),
            requests: number(&item, "requests"),
            version: number(&item, "version"),
        })
    }

    async fn save_pass(
        &self,
        day: &str,
        run_id: &str,
        pass: &str,
        from: &PassState,
        to: &PassState,
    ) -> Result<bool> {
        let mut request = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(reconciliation_pk(day)))
            .item("sk", s(keys::reconciliation_pass_sk(pass)))
            .item("entity", s("reconciliation_pass"))
            .item("run_id", s(run_id))
            .item("done", AttributeValue::Bool(to.done))
            .item("listed", n(to.listed as i64))
            .item("requests", n(to.requests as i64))
            .item("version", n(from.version as i64 + 1))
            .expression_attribute_values(":run", s(run_id));
        if let Some(after) = &to.after {
            request = request.item("after", s(after));
        }
        request = if from.version == 0 {
            request.condition_expression("attribute_not_exists(pk) OR run_id <> :run")
        } else {
            request
                .condition_expression("run_id = :run AND version = :v")
                .expression_attribute_values(":v", n(from.version as i64))
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(store_error("PutItem", e)),
        }
    }

    async fn record_difference(
        &self,
        day: &str,
        run_id: &str,
        difference: &Difference,
        now: &str,
    ) -> Result<bool> {
        let sk = keys::reconciliation_diff_sk(&difference.key());
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(reconciliation_pk(day)))
            .item("sk", s(&sk))
            .item("entity", s("reconciliation_difference"))
            .item("difference", s(json(difference)?))
            .item("run_id", s(run_id))
            .item("found_at", s(now))
            .item("published", AttributeValue::Bool(false))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => {
                // Found before: still to publish only if that publish failed.
                let item = self.get_item(&reconciliation_pk(day), &sk).await?;
                Ok(item.is_some_and(|i| !flag(&i, "published")))
            }
            Err(e) => Err(store_error("PutItem", e)),
        }
    }

    async fn mark_difference_published(&self, day: &str, difference_key: &str) -> Result<()> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(reconciliation_pk(day)))
            .key("sk", s(keys::reconciliation_diff_sk(difference_key)))
            .update_expression("SET published = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| store_error("UpdateItem", e))?;
        Ok(())
    }

    async fn record_healed(&self, day: &str, fact: &HealedFact, now: &str) -> Result<()> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(reconciliation_pk(day)))
            .item(
                "sk",
                s(keys::reconciliation_healed_sk(
                    &fact.provider,
                    &fact.event_id,
                )),
            )
            .item("entity", s("reconciliation_healed"))
            .item("fact", s(json(fact)?))
            .item("healed_at", s(now))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(store_error("PutItem", e)),
        }
    }

    async fn complete_run(&self, day: &str, run_id: &str, now: &str) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(reconciliation_pk(day)))
            .key("sk", s(keys::RECON_REPORT_SK))
            .update_expression("SET #status = :completed, completed_at = :now")
            .condition_expression("run_id = :run AND #status = :running")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":completed", s("completed"))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":run", s(run_id))
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    async fn day_report(&self, day: &str) -> Result<Option<DayReport>> {
        let pk = reconciliation_pk(day);
        let mut report: Option<DayReport> = None;
        let mut passes: Vec<(String, Item)> = Vec::new();
        let mut differences = Vec::new();
        let mut healed = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error("Query", e))?;
            for item in out.items.unwrap_or_default() {
                let sk = text(&item, "sk").unwrap_or_default();
                if sk == keys::RECON_REPORT_SK {
                    report = Some(DayReport {
                        day: day.to_string(),
                        status: text(&item, "status").unwrap_or_default(),
                        run_id: text(&item, "run_id").unwrap_or_default(),
                        started_at: text(&item, "started_at").unwrap_or_default(),
                        completed_at: text(&item, "completed_at"),
                        ..Default::default()
                    });
                } else if let Some(pass) = sk.strip_prefix(keys::RECON_PASS_SK_PREFIX) {
                    passes.push((pass.to_string(), item));
                } else if sk.starts_with(keys::RECON_DIFF_SK_PREFIX) {
                    let text = text(&item, "difference").unwrap_or_default();
                    let d: Difference = serde_json::from_str(&text)
                        .map_err(|e| Error::Store(format!("unreadable difference: {e}")))?;
                    differences.push(d);
                } else if sk.starts_with(keys::RECON_HEALED_SK_PREFIX) {
                    let text = text(&item, "fact").unwrap_or_default();
                    let f: HealedFact = serde_json::from_str(&text)
                        .map_err(|e| Error::Store(format!("unreadable healed fact: {e}")))?;
                    healed.push(f);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        let Some(mut report) = report else {
            return Ok(None);
        };
        // Per provider: this run's passes (listed, requests, done) and the
        // day's differences and healed facts.
        let mut providers: Vec<ProviderCounts> = Vec::new();
        for (pass, item) in &passes {
            if text(item, "run_id").as_deref() != Some(report.run_id.as_str()) {
                continue;
            }
            let provider = pass_provider(pass).to_string();
            let i = match providers.iter().position(|p| p.provider == provider) {
                Some(i) => i,
                None => {
                    providers.push(ProviderCounts {
                        provider: provider.clone(),
                        done: true,
                        ..Default::default()
                    });
                    providers.len() - 1
                }
            };
            let counts = &mut providers[i];
            // The listing passes count what the provider listed; the
            // events pass only finds lost notices, the pass over our own
            // orders lists ours.
            if !pass.ends_with("-events") && !pass.ends_with("-ours") {
                counts.listed += number(item, "listed");
            }
            counts.requests += number(item, "requests");
            counts.done &= flag(item, "done");
        }
        for counts in &mut providers {
            counts.differences = differences
                .iter()
                .filter(|d| d.provider == counts.provider)
                .count() as u64;
            counts.healed = healed
                .iter()
                .filter(|h| h.provider == counts.provider)
                .count() as u64;
        }
        report.providers = providers;
        report.differences = differences;
        report.healed = healed;
        Ok(Some(report))
    }

    async fn mark_listed(
        &self,
        day: &str,
        run_id: &str,
        provider: &str,
        refs: &[String],
    ) -> Result<()> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let pk = keys::reconciliation_listed_pk(day, provider, run_id);
        let expires_at = crate::clock::now_ms() / 1000 + LISTED_TTL_SECS;
        let mut refs: Vec<&String> = refs.iter().collect();
        refs.sort();
        refs.dedup();
        let mut writes: Vec<WriteRequest> = Vec::with_capacity(refs.len());
        for r in refs {
            let item: Item = HashMap::from([
                ("pk".to_string(), s(&pk)),
                ("sk".to_string(), s(r)),
                ("entity".to_string(), s("reconciliation_listed")),
                ("expires_at".to_string(), n(expires_at)),
            ]);
            writes.push(
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item))
                            .build()
                            .map_err(|e| Error::Internal(e.to_string()))?,
                    )
                    .build(),
            );
        }
        self.batch_write(writes, "BatchWriteItem listed orders")
            .await
    }

    async fn listed_of(
        &self,
        day: &str,
        run_id: &str,
        provider: &str,
        refs: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let pk = keys::reconciliation_listed_pk(day, provider, run_id);
        let mut ids: Vec<&String> = refs.iter().collect();
        ids.sort();
        ids.dedup();
        let keys = ids.iter().map(|r| (pk.clone(), r.to_string())).collect();
        Ok(self
            .batch_get(keys, "BatchGetItem listed orders")
            .await?
            .iter()
            .filter_map(|item| text(item, "sk"))
            .collect())
    }
}
