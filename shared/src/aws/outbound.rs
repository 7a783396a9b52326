//! Outbound subscriptions and deliveries in the one table (keys:
//! `aws::keys::SUBSCRIPTIONS_PK`, `aws::keys::delivery_pk`), and the
//! wake-ups on the outbound queue.
//!
//! | item | attributes |
//! |---|---|
//! | subscription | `url`, `event_types` (list), `description`, `active`, `rate_limit`, `secret`, `previous_secret` + `previous_until` (epoch ms), `failing_since` (epoch ms), `disabled_reason`, `created_at`, `updated_at` |
//! | delivery | `event_type`, `body` (the exact bytes sent), `state` (`pending`/`sending`/`delivered`/`failed`), `attempts`, `series_start`, `next_attempt_ms`, `lease_until_ms`, `created_ms`, `log` (list of JSON attempt lines), `expires_at` (TTL) |
//!
//! Secrets live in the subscription item only: the table is encrypted at
//! rest, IAM lets only the subscriptions and deliveries functions read
//! `SUBSCRIPTION` items, and nothing logs or answers them after creation
//! or rotation (README § Outbound events).

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::aws::dynamo::{applied, n, s, store_error, DynamoStore, Item};
use crate::aws::keys::{delivery_pk, SUBSCRIPTIONS_PK};
use crate::aws::sqs::{SqsQueue, MAX_DELAY_SECS};
use crate::config::Secret;
use crate::domain::outbound::{AttemptLog, DeliveryState, Subscription};
use crate::error::{Error, Result};
use crate::ports::{Delivery, DeliveryPage, DeliveryStore, SubscriptionStore, WakeUp, WakeUpQueue};

fn get_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn subscription_item(sub: &Subscription) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(SUBSCRIPTIONS_PK));
    item.insert("sk".into(), s(&sub.id));
    item.insert("entity".into(), s("subscription"));
    item.insert("url".into(), s(&sub.url));
    item.insert(
        "event_types".into(),
        AttributeValue::L(sub.event_types.iter().map(s).collect()),
    );
    item.insert("description".into(), s(&sub.description));
    item.insert("active".into(), AttributeValue::Bool(sub.active));
    item.insert("rate_limit".into(), n(sub.rate_limit_per_second as i64));
    item.insert("secret".into(), s(sub.secret.expose()));
    if let Some((previous, until)) = &sub.previous_secret {
        item.insert("previous_secret".into(), s(previous.expose()));
        item.insert("previous_until".into(), n(*until));
    }
    if let Some(since) = sub.failing_since_ms {
        item.insert("failing_since".into(), n(since));
    }
    if let Some(reason) = &sub.disabled_reason {
        item.insert("disabled_reason".into(), s(reason));
    }
    item.insert("created_at".into(), s(&sub.created_at));
    item.insert("updated_at".into(), s(&sub.updated_at));
    item
}

fn read_subscription(item: &Item) -> Result<Subscription> {
    let bad = || Error::Store("an outbound subscription item is incomplete".into());
    Ok(Subscription {
        id: get_s(item, "sk").ok_or_else(bad)?,
        url: get_s(item, "url").ok_or_else(bad)?,
        event_types: item
            .get("event_types")
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
            .unwrap_or_default(),
        description: get_s(item, "description").unwrap_or_default(),
        active: item
            .get("active")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        rate_limit_per_second: get_n(item, "rate_limit").unwrap_or(10).clamp(1, 1000) as u32,
        secret: Secret::new(get_s(item, "secret").ok_or_else(bad)?),
        previous_secret: get_s(item, "previous_secret")
            .zip(get_n(item, "previous_until"))
            .map(|(secret, until)| (Secret::new(secret), until)),
        failing_since_ms: get_n(item, "failing_since"),
        disabled_reason: get_s(item, "disabled_reason"),
        created_at: get_s(item, "created_at").unwrap_or_default(),
        updated_at: get_s(item, "updated_at").unwrap_or_default(),
    })
}

fn state_word(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "pending",
        DeliveryState::Sending => "sending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Failed => "failed",
    }
}

fn parse_state(word: &str) -> Option<DeliveryState> {
    Some(match word {
        "pending" => DeliveryState::Pending,
        "sending" => DeliveryState::Sending,
        "delivered" => DeliveryState::Delivered,
        "failed" => DeliveryState::Failed,
        _ => return None,
    })
}

fn log_line(entry: &AttemptLog) -> AttributeValue {
    s(serde_json::to_string(entry).expect("log lines serialize"))
}

fn read_delivery(item: &Item) -> Result<Delivery> {
    let bad = || Error::Store("an outbound delivery item is incomplete".into());
    let pk = get_s(item, "pk").ok_or_else(bad)?;
    Ok(Delivery {
        subscription_id: pk.strip_prefix("DELIVERY#").ok_or_else(bad)?.to_string(),
        event_id: get_s(item, "sk").ok_or_else(bad)?,
        event_type: get_s(item, "event_type").unwrap_or_default(),
        body: get_s(item, "body").ok_or_else(bad)?,
        state: get_s(item, "state")
            .and_then(|w| parse_state(&w))
            .ok_or_else(bad)?,
        attempts: get_n(item, "attempts").unwrap_or(0) as u32,
        series_start: get_n(item, "series_start").unwrap_or(0) as u32,
        next_attempt_ms: get_n(item, "next_attempt_ms").unwrap_or(0),
        lease_until_ms: get_n(item, "lease_until_ms").unwrap_or(0),
        created_ms: get_n(item, "created_ms").unwrap_or(0),
        log: item
            .get("log")
            .and_then(|v| v.as_l().ok())
            .map(|l| {
                l.iter()
                    .filter_map(|v| v.as_s().ok())
                    .filter_map(|t| serde_json::from_str(t).ok())
                    .collect()
            })
            .unwrap_or_default(),
    })
}

impl SubscriptionStore for DynamoStore {
    async fn create_subscription(&self, sub: &Subscription) -> Result<bool> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(subscription_item(sub)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        applied(result, "put subscription")
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>> {
        self.get_item(SUBSCRIPTIONS_PK, id)
            .await?
            .map(|item| read_subscription(&item))
            .transpose()
    }

    async fn subscriptions(&self) -> Result<Vec<Subscription>> {
        let mut subs = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(SUBSCRIPTIONS_PK))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error("query subscriptions", e))?;
            for item in out.items() {
                subs.push(read_subscription(item)?);
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(subs)
    }

    async fn replace_subscription(
        &self,
        sub: &Subscription,
        expected_updated_at: &str,
    ) -> Result<bool> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(subscription_item(sub)))
            .condition_expression("attribute_exists(pk) AND updated_at = :seen")
            .expression_attribute_values(":seen", s(expected_updated_at))
            .send()
            .await;
        applied(result, "replace subscription")
    }

    async fn delete_subscription(&self, id: &str) -> Result<bool> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("pk", s(SUBSCRIPTIONS_PK))
            .key("sk", s(id))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        applied(result, "delete subscription")
    }

    async fn mark_failing(&self, id: &str, since_ms: i64) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(SUBSCRIPTIONS_PK))
            .key("sk", s(id))
            .update_expression("SET failing_since = :since, updated_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(failing_since)")
            .expression_attribute_values(":since", n(since_ms))
            .expression_attribute_values(":now", s(crate::clock::rfc3339_of_ms(since_ms)))
            .send()
            .await;
        // Refused = already so: nothing to do.
        applied(result, "mark subscription failing").map(|_| ())
    }

    async fn clear_failing(&self, id: &str, now: &str) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(SUBSCRIPTIONS_PK))
            .key("sk", s(id))
            .update_expression("SET updated_at = :now REMOVE failing_since")
            .condition_expression("attribute_exists(failing_since)")
            .expression_attribute_values(":now", s(now))
            .send()
            .await;
        // Refused = already so: nothing to do.
        applied(result, "clear subscription failing").map(|_| ())
    }

    async fn disable_subscription(
        &self,
        id: &str,
        reason: &str,
        now: &str,
        failing_since_at_most: Option<i64>,
    ) -> Result<bool> {
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(SUBSCRIPTIONS_PK))
            .key("sk", s(id))
            .update_expression("SET active = :off, disabled_reason = :why, updated_at = :now")
            .expression_attribute_values(":off", AttributeValue::Bool(false))
            .expression_attribute_values(":on", AttributeValue::Bool(true))
            .expression_attribute_values(":why", s(reason))
            .expression_attribute_values(":now", s(now));
        update = match failing_since_at_most {
            Some(cut) => update
                .condition_expression("active = :on AND failing_since <= :cut")
                .expression_attribute_values(":cut", n(cut)),
            None => update.condition_expression("active = :on"),
        };
        let result = update.send().await;
        applied(result, "disable subscription")
    }
}

impl DeliveryStore for DynamoStore {
    async fn create_delivery(&self, d: &Delivery, expires_at: i64) -> Result<bool> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(delivery_pk(&d.subscription_id)))
            .item("sk", s(&d.event_id))
            .item("entity", s("delivery"))
            .item("event_type", s(&d.event_type))
            .item("body", s(&d.body))
            .item("state", s(state_word(d.state)))
            .item("attempts", n(d.attempts as i64))
            .item("series_start", n(d.series_start as i64))
            .item("next_attempt_ms", n(d.next_attempt_ms))
            .item("lease_until_ms", n(d.lease_until_ms))
            .item("created_ms", n(d.created_ms))
            .item(
                "log",
                AttributeValue::L(d.log.iter().map(log_line).collect()),
            )
            .item("expires_at", n(expires_at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        applied(result, "put delivery")
    }

    async fn delivery(&self, subscription_id: &str, event_id: &str) -> Result<Option<Delivery>> {
        self.get_item(&delivery_pk(subscription_id), event_id)
            .await?
            .map(|item| read_delivery(&item))
            .transpose()
    }

    async fn claim_attempt(&self, seen: &Delivery, lease_until_ms: i64) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(delivery_pk(&seen.subscription_id)))
            .key("sk", s(&seen.event_id))
            .update_expression("SET #state = :sending, attempts = :next, lease_until_ms = :lease")
            .condition_expression(
                "attempts = :seen AND #state = :seen_state AND lease_until_ms = :seen_lease",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s(state_word(DeliveryState::Sending)))
            .expression_attribute_values(":next", n(seen.attempts as i64 + 1))
            .expression_attribute_values(":lease", n(lease_until_ms))
            .expression_attribute_values(":seen", n(seen.attempts as i64))
            .expression_attribute_values(":seen_state", s(state_word(seen.state)))
            .expression_attribute_values(":seen_lease", n(seen.lease_until_ms))
            .send()
            .await;
        applied(result, "claim delivery attempt")
    }

    async fn record_attempt(
        &self,
        d: &Delivery,
        state: DeliveryState,
        next_attempt_ms: i64,
        entry: &AttemptLog,
    ) -> Result<()> {
        // Only the attempt we claimed records (attempts still ours); a late
        // answer after a lease expired and another attempt began is dropped.
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(delivery_pk(&d.subscription_id)))
            .key("sk", s(&d.event_id))
            .update_expression(
                "SET #state = :state, next_attempt_ms = :next, lease_until_ms = :zero, \
                 #log = list_append(if_not_exists(#log, :empty), :entry)",
            )
            .condition_expression("attempts = :attempts AND #state = :sending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#log", "log")
            .expression_attribute_values(":state", s(state_word(state)))
            .expression_attribute_values(":next", n(next_attempt_ms))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":entry", AttributeValue::L(vec![log_line(entry)]))
            .expression_attribute_values(":attempts", n(d.attempts as i64))
            .expression_attribute_values(":sending", s(state_word(DeliveryState::Sending)))
            .send()
            .await;
        match applied(result, "record delivery attempt") {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::warn!(
                    subscription = %d.subscription_id,
                    attempt = d.attempts,
                    "a delivery attempt finished after another took over; its result is not recorded"
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn deliveries(
        &self,
        subscription_id: &str,
        from_ms: i64,
        to_ms: i64,
        cursor: Option<&str>,
        limit: i32,
    ) -> Result<DeliveryPage> {
        let mut query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .filter_expression("created_ms BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(delivery_pk(subscription_id)))
            .expression_attribute_values(":from", n(from_ms))
            .expression_attribute_values(":to", n(to_ms))
            .limit(limit);
        if let Some(cursor) = cursor {
            let sk = hex::decode(cursor)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| Error::validation("cursor", "not a cursor this route gave out"))?;
            query = query
                .exclusive_start_key("pk", s(delivery_pk(subscription_id)))
                .exclusive_start_key("sk", s(sk));
        }
        let out = query
            .send()
            .await
            .map_err(|e| store_error("query deliveries", e))?;
        let deliveries = out
            .items()
            .iter()
            .map(read_delivery)
            .collect::<Result<Vec<_>>>()?;
        let next = out
            .last_evaluated_key()
            .and_then(|k| k.get("sk"))
            .and_then(|v| v.as_s().ok())
            .map(hex::encode);
        Ok(DeliveryPage { deliveries, next })
    }

    async fn restart_delivery(
        &self,
        subscription_id: &str,
        event_id: &str,
        now_ms: i64,
        expires_at: i64,
    ) -> Result<bool> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(delivery_pk(subscription_id)))
            .key("sk", s(event_id))
            .update_expression(
                "SET #state = :pending, next_attempt_ms = :now, series_start = attempts, lease_until_ms = :zero, expires_at = :expires",
            )
            .condition_expression("attribute_exists(pk) AND (#state <> :sending OR lease_until_ms < :now)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s(state_word(DeliveryState::Pending)))
            .expression_attribute_values(":sending", s(state_word(DeliveryState::Sending)))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":expires", n(expires_at))
            .send()
            .await;
        applied(result, "restart delivery")
    }
}

impl WakeUpQueue for SqsQueue {
    async fn send_wake_ups(&self, wake_ups: &[WakeUp], delay_secs: u32) -> Result<()> {
        for chunk in wake_ups.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(serde_json::json!({ "wakeUp": w }).to_string())
                        .delay_seconds(delay_secs.min(MAX_DELAY_SECS) as i32)
                        .build()
                        .expect("id and body are set")
                })
                .collect::<Vec<_>>();
            let out = self
                .client()
                .send_message_batch()
                .queue_url(self.url())
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| store_error("send delivery wake-ups", e))?;
            if !out.failed.is_empty() {
                return Err(Error::Store(format!(
                    "SQS refused {} delivery wake-up(s)",
                    out.failed.len()
                )));
            }
        }
        Ok(())
    }
}
