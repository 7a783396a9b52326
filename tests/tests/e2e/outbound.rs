//! Outbound events (issue 15) against moto and a local receiver: domain
//! events published on the bus reach the outbound queue through the
//! template's rule, the deliveries function signs them by the Standard
//! Webhooks spec (verified by the official Python library, across a secret
//! rotation), retries through failures and timeouts with the clock moved
//! instead of waited, replays with the same webhook-id, never calls a
//! refused address, and disables an endpoint that only fails.

use std::time::Duration;

use ayaztrade::apps::deliveries;
use ayaztrade::domain::event::{DetailType, DomainEvent, EventDetail, IntegrationErrorDetail};
use ayaztrade::domain::outbound::{DeliveryState, Subscription};
use ayaztrade::ports::{
    Delivery, DeliveryStore, EventPublisher, SubscriptionStore, WakeUp, WakeUpQueue,
};
use ayaztrade_tests::local_stack::{fresh_stack, unique_id};
use ayaztrade_tests::outbound_support::*;
use serde_json::{json, Value};

const HOUR: Duration = Duration::from_secs(3600);

fn event(id: &str) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::IntegrationError,
        event_id: id.to_string(),
        occurred_at: "2026-12-02T10:00:00Z".into(),
        detail: EventDetail::IntegrationError(IntegrationErrorDetail {
            kind: "oversell".into(),
            provider: "trendyol".into(),
            order_id: None,
            provider_ref: Some("10654411111".into()),
            expected: None,
            received: None,
            message: "SKU TSHIRT-M: 2 wanted, 1 in stock".into(),
            action: Some("review".into()),
        }),
    }
}

async fn subscribe(h: &OutboundHarness, url: &str, types: &[&str]) -> (String, String) {
    let (status, body) = h
        .api(
            "POST",
            "/subscriptions",
            Some(json!({"url": url, "eventTypes": types, "description": "ERP"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["subscription"]["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn signatures_verify_with_the_official_library_across_a_rotation() {
    let stack = fresh_stack().await;
    let h = OutboundHarness::new(&stack, true);
    let receiver = Receiver::start().await;
    let (id, first_secret) = subscribe(&h, &receiver.url, &["integration.*"]).await;
    assert!(first_secret.starts_with("whsec_"));
    let (status, shown) = h.api("GET", &format!("/subscriptions/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(
        !shown.to_string().contains(&first_secret[6..]),
        "a read never shows the secret"
    );

    let first = unique_id("errors:oversell");
    h.bus.publish(&[event(&first)]).await.unwrap();
    h.calls.reset();
    h.run_queue(Duration::from_secs(5)).await;
    // The cost of an event delivered at once (BENCHMARKS.md): the batch's
    // one Query, then per endpoint one PutItem and two UpdateItem (the
    // result; failing_since cleared if the table has one).
    let calls = h.calls.snapshot();
    eprintln!("AWS calls, 1 event × 1 endpoint delivered: {calls:?}");
    assert_eq!(
        calls,
        [("PutItem", 1), ("Query", 1), ("UpdateItem", 2)]
            .map(|(k, v)| (k.to_string(), v))
            .into()
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("webhook-id"),
        first,
        "webhook-id is our eventId"
    );
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "integration.error");
    assert_eq!(body["data"]["eventId"], first);
    assert_eq!(body["data"]["kind"], "oversell");
    verify_with_official_library(&first_secret, &got[0]).unwrap();
    assert!(
        verify_with_official_library("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &got[0]).is_err()
    );

    let (status, rotated) = h
        .api("POST", &format!("/subscriptions/{id}/secret"), None)
        .await;
    assert_eq!(status, 200, "{rotated}");
    let second_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(second_secret, first_secret);
    let second = unique_id("errors:oversell");
    h.bus.publish(&[event(&second)]).await.unwrap();
    h.run_queue(Duration::from_secs(5)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].header("webhook-signature").split(' ').count(), 2);
    // During the 24 hours a receiver holding either secret accepts it.
    verify_with_official_library(&first_secret, &got[1]).unwrap();
    verify_with_official_library(&second_secret, &got[1]).unwrap();

    // After them, only the new secret signs.
    h.advance(25 * HOUR);
    let sub = h.subscription(&id).await;
    assert_eq!(sub.signing_keys(h.now()).unwrap().len(), 1);
}

#[tokio::test]
async fn failures_and_timeouts_are_retried_until_delivered_and_replays_keep_the_id() {
    let stack = fresh_stack().await;
    let h = OutboundHarness::new(&stack, true);
    let receiver = Receiver::start().await;
    let other = Receiver::start().await;
    let (id, _) = subscribe(&h, &receiver.url, &["*"]).await;
    let (other_id, _) = subscribe(&h, &other.url, &["payment.*"]).await;
    receiver.script(&[Answer::Status(503), Answer::Hang(Duration::from_secs(3))]);

    let ids = [unique_id("errors:a"), unique_id("errors:b")];
    h.bus
        .publish(&[event(&ids[0]), event(&ids[1])])
        .await
        .unwrap();
    h.calls.reset();
    // Fault: the first wake-up cannot be queued (its event message fails
    // and comes back, and queues it then).
    h.queue
        .fail_next
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let (n, response) = h.run_queue(Duration::from_secs(5)).await;
    assert_eq!(n, 2);
    assert_eq!(response.batch_item_failures.len(), 1);
    // One failed (503), one timed out: both wait for attempt 2.
    assert_eq!(receiver.received().len(), 2);
    assert!(
        other.received().is_empty(),
        "payment.* does not want integration.error"
    );
    let first_round = h.calls.snapshot();
    eprintln!("AWS calls, 2 events × 1 endpoint, both failing: {first_round:?}");

    // The wake-up and the returning event arrive early (the clock has not
    // moved): a wake-up each goes on, nothing goes out.
    let (n, response) = h.run_queue(Duration::from_secs(2)).await;
    assert_eq!(n, 2);
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(receiver.received().len(), 2);
    let (n, _) = h.run_queue(Duration::from_secs(2)).await;
    assert_eq!(n, 2, "exactly one wake-up per delivery");
    assert_eq!(receiver.received().len(), 2);

    // Five seconds later (the schedule's second step) both are delivered.
    h.advance(Duration::from_secs(6));
    h.calls.reset();
    h.run_queue(Duration::from_secs(2)).await;
    eprintln!(
        "AWS calls, 2 wake-ups delivered on retry: {:?}",
        h.calls.snapshot()
    );
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    for event_id in &ids {
        assert_eq!(
            got.iter()
                .filter(|r| r.header("webhook-id") == event_id)
                .count(),
            2
        );
        let d = h.delivery(&id, event_id).await;
        assert_eq!(d.state, DeliveryState::Delivered);
        assert_eq!(d.attempts, 2);
        assert_eq!(d.log.len(), 2);
        assert_eq!(d.log[1].status, Some(204));
    }
    let statuses: Vec<Option<u16>> =
        futures::future::join_all(ids.iter().map(|e| h.delivery(&id, e)))
            .await
            .iter()
            .map(|d| d.log[0].status)
            .collect();
    assert!(statuses.contains(&Some(503)));
    assert!(
        statuses.contains(&None),
        "the timed-out attempt has no status"
    );

    // Redelivered by SQS (the same event again): nothing is sent twice.
    h.bus.publish(&[event(&ids[0])]).await.unwrap();
    h.run_queue(Duration::from_secs(5)).await;
    assert_eq!(receiver.received().len(), 4);

    // The log route, then a replay of one delivery and of a time range.
    let now = h.now();
    let range = format!(
        "from={}&to={}",
        rfc3339(now - 3_600_000),
        rfc3339(now + 3_600_000)
    );
    let (status, log) = h
        .api(
            "GET",
            &format!("/subscriptions/{id}/deliveries?{range}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    assert_eq!(log["deliveries"].as_array().unwrap().len(), 2);
    assert!(log.to_string().contains("\"latencyMs\""));
    let (status, replayed) = h
        .api(
            "POST",
            &format!("/subscriptions/{id}/replay"),
            Some(json!({"eventId": ids[1]})),
        )
        .await;
    assert_eq!(status, 202, "{replayed}");
    h.run_queue(Duration::from_secs(2)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 5);
    assert_eq!(
        got[4].header("webhook-id"),
        ids[1],
        "a replay carries the same webhook-id"
    );
    let first_send = got
        .iter()
        .find(|r| r.header("webhook-id") == ids[1])
        .unwrap();
    assert_eq!(got[4].body, first_send.body, "the same bytes");
    let (status, replayed) = h
        .api(
            "POST",
            &format!("/subscriptions/{id}/replay"),
            Some(json!({"from": rfc3339(now - 3_600_000), "to": rfc3339(now + 3_600_000)})),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(replayed["replayed"].as_array().unwrap().len(), 2);
    h.run_queue(Duration::from_secs(2)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 7);
    let mut replay_ids: Vec<&str> = got[5..].iter().map(|r| r.header("webhook-id")).collect();
    replay_ids.sort();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(replay_ids, want);
    assert!(other.received().is_empty());

    // Update, then delete, the other subscription.
    let (status, updated) = h
        .api(
            "PUT",
            &format!("/subscriptions/{other_id}"),
            Some(json!({"url": other.url, "eventTypes": ["*"], "rateLimitPerSecond": 5})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["rateLimitPerSecond"], 5);
    assert_eq!(updated["eventTypes"], json!(["*"]));
    let (status, _) = h.api("GET", "/subscriptions", None).await;
    assert_eq!(status, 200);
    let path = format!("/subscriptions/{other_id}");
    assert_eq!(h.api("DELETE", &path, None).await.0, 200);
    assert_eq!(h.api("GET", &path, None).await.0, 404);
    assert_eq!(h.api("DELETE", &path, None).await.0, 404);
}

#[tokio::test]
async fn refused_addresses_get_nothing_and_an_endpoint_failing_for_days_is_disabled() {
    let stack = fresh_stack().await;
    // As deployed: no loopback.
    let h = OutboundHarness::new(&stack, false);
    let receiver = Receiver::start().await;

    // The routes refuse internal addresses outright.
    for url in [
        receiver.url.clone(),
        format!("https://127.0.0.1:{}/hook", receiver.addr.port()),
        "https://169.254.169.254/latest/meta-data".into(),
        "https://[fd00:ec2::254]/".into(),
        "https://10.0.0.7/hook".into(),
    ] {
        let (status, body) = h
            .api(
                "POST",
                "/subscriptions",
                Some(json!({"url": url, "eventTypes": ["*"]})),
            )
            .await;
        assert_eq!(status, 400, "{url}: {body}");
    }
    // A subscription whose name came to point inside (stored as if it had
    // passed the check when created): never called.
    let inside = stored_subscription(
        &h,
        &format!("https://localhost:{}/hook", receiver.addr.port()),
    )
    .await;
    let metadata = stored_subscription(&h, "https://169.254.169.254/latest/meta-data").await;
    let e = unique_id("errors:ssrf");
    h.bus.publish(&[event(&e)]).await.unwrap();
    h.run_queue(Duration::from_secs(5)).await;
    assert!(
        receiver.received().is_empty(),
        "nothing reached a refused address"
    );
    for sub in [&inside, &metadata] {
        let d = h.delivery(sub, &e).await;
        assert_eq!(d.log[0].error.as_deref(), Some("refused_address"));
        assert_eq!(d.state, DeliveryState::Pending);
    }

    // Five days of nothing but failures: the next failure disables it.
    h.advance(121 * HOUR);
    let e2 = unique_id("errors:ssrf");
    h.bus.publish(&[event(&e2)]).await.unwrap();
    h.run_queue(Duration::from_secs(5)).await;
    let disabled: Vec<_> = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type == DetailType::SubscriptionDisabled)
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    // Two endpoints, one event each: a wake-up and a new event failing in
    // the same batch may both publish it, under the same eventId.
    let mut ids: Vec<&str> = disabled
        .iter()
        .map(|d| d["eventId"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "{disabled:?}");
    assert!(disabled.iter().all(|d| d["reason"] == "failing"));
    let sub = h.subscription(&inside).await;
    assert!(!sub.active);
    assert_eq!(sub.disabled_reason.as_deref(), Some("failing"));

    // A disabled endpoint is not called: the new event is held for a
    // replay (pending, no attempt).
    let e3 = unique_id("errors:ssrf");
    h.bus.publish(&[event(&e3)]).await.unwrap();
    h.run_queue(Duration::from_secs(5)).await;
    let held = h.delivery(&inside, &e3).await;
    assert_eq!((held.state, held.attempts), (DeliveryState::Pending, 0));
    assert!(held.log.is_empty());
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn events_for_an_endpoint_we_disabled_are_held_and_replayed_and_disabling_goes_by_the_table()
{
    let stack = fresh_stack().await;
    let h = OutboundHarness::new(&stack, true);
    let receiver = Receiver::start().await;
    let (id, _) = subscribe(&h, &receiver.url, &["integration.error"]).await;
    let (paused, _) = subscribe(&h, &receiver.url, &["integration.error"]).await;
    let now = h.now();
    assert!(h
        .store()
        .disable_subscription(&id, "failing", &rfc3339(now), None)
        .await
        .unwrap());
    // The merchant's own pause: events are dropped for it (README).
    let (status, body) = h
        .api(
            "PUT",
            &format!("/subscriptions/{paused}"),
            Some(
                json!({"url": receiver.url, "eventTypes": ["integration.error"], "active": false}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let e = unique_id("errors:held");
    h.bus.publish(&[event(&e)]).await.unwrap();
    h.run_queue(Duration::from_secs(3)).await;
    assert!(receiver.received().is_empty());
    let held = h.delivery(&id, &e).await;
    assert_eq!((held.state, held.attempts), (DeliveryState::Pending, 0));
    assert!(h.maybe_delivery(&paused, &e).await.is_none());

    // PUT it active, then replay the range: sent, same webhook-id.
    let (status, body) = h
        .api(
            "PUT",
            &format!("/subscriptions/{id}"),
            Some(json!({"url": receiver.url, "eventTypes": ["integration.error"], "active": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, replayed) = h
        .api(
            "POST",
            &format!("/subscriptions/{id}/replay"),
            Some(json!({"from": rfc3339(now - 3_600_000), "to": rfc3339(now + 3_600_000)})),
        )
        .await;
    assert_eq!(status, 202, "{replayed}");
    assert_eq!(replayed["replayed"], json!([e]));
    h.run_queue(Duration::from_secs(2)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-id"), e);
    let d = h.delivery(&id, &e).await;
    assert_eq!((d.state, d.attempts), (DeliveryState::Delivered, 1));

    // The disable decision and the routes go by the table, not by what a
    // batch or a route read before.
    // (On the same stack, after the last queue run: these endpoints are
    // never called.)
    let store = h.store();
    let id = stored_subscription(&h, "https://example.com/hook").await;
    let window = 120 * 3_600_000;
    let now = h.now();
    let at = rfc3339(now);
    // A batch that read "failing for 121 h" while a success cleared it:
    // not disabled.
    assert!(!store
        .disable_subscription(&id, "failing", &at, Some(now - window))
        .await
        .unwrap());
    // Failing again, but only since just now: not disabled either.
    store.mark_failing(&id, now - 1000).await.unwrap();
    assert!(!store
        .disable_subscription(&id, "failing", &at, Some(now - window))
        .await
        .unwrap());
    assert!(h.subscription(&id).await.active);

    // A PUT or rotation that read the item before mark/clear cannot write
    // a stale failing_since back.
    let read = h.subscription(&id).await;
    store.clear_failing(&id, &rfc3339(now + 1)).await.unwrap();
    assert_eq!(h.subscription(&id).await.failing_since_ms, None);
    let stale = Subscription {
        description: "stale".into(),
        ..read.clone()
    };
    assert!(!store
        .replace_subscription(&stale, &read.updated_at)
        .await
        .unwrap());
    assert_eq!(h.subscription(&id).await.failing_since_ms, None);

    // Failing for the whole window as the table stands: disabled; 410
    // disables whatever failing_since says.
    store.mark_failing(&id, now - window - 1).await.unwrap();
    assert!(store
        .disable_subscription(&id, "failing", &at, Some(now - window))
        .await
        .unwrap());
    let gone = stored_subscription(&h, "https://example.com/gone").await;
    assert!(store
        .disable_subscription(&gone, "gone", &at, None)
        .await
        .unwrap());
}

#[tokio::test]
async fn failed_and_crashed_deliveries_are_finished_by_a_replay_and_by_lease_expiry() {
    let stack = fresh_stack().await;
    // A long disable window, so the schedule (75 h) runs out first.
    let h = OutboundHarness::with_disable_after(&stack, true, 1000);
    let receiver = Receiver::start().await;
    let (id, _) = subscribe(&h, &receiver.url, &["integration.error"]).await;
    receiver.script(&[Answer::Status(500); 10]);
    let e = unique_id("errors:down");
    h.bus.publish(&[event(&e)]).await.unwrap();
    h.run_queue(Duration::from_secs(5)).await;
    for _ in 0..9 {
        // Each step of the schedule is at most 24 h (+10 %).
        h.advance(27 * HOUR);
        h.run_queue(Duration::from_secs(2)).await;
    }
    let d = h.delivery(&id, &e).await;
    assert_eq!(d.state, DeliveryState::Failed);
    assert_eq!(d.attempts, 10);
    assert_eq!(d.log.len(), 10);
    assert!(d.log.iter().all(|l| l.status == Some(500)));
    assert_eq!(receiver.received().len(), 10);
    assert!(receiver
        .received()
        .iter()
        .all(|r| r.header("webhook-id") == e));
    h.advance(27 * HOUR);
    let (n, _) = h.run_queue(Duration::from_secs(1)).await;
    assert_eq!(n, 0, "no wake-up is left after the last attempt");

    // The receiver works again: a replay delivers it, same id.
    let (status, _) = h
        .api(
            "POST",
            &format!("/subscriptions/{id}/replay"),
            Some(json!({"eventId": e})),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(
        expires_at(&stack, &id, &e).await,
        h.now() / 1000 + 30 * 86_400,
        "a replay keeps the delivery OUTBOUND_LOG_DAYS again"
    );
    h.run_queue(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 11);
    assert_eq!(receiver.received()[10].header("webhook-id"), e);
    assert_eq!(h.delivery(&id, &e).await.state, DeliveryState::Delivered);

    // A crash mid-attempt leaves a delivery `sending` under a lease: a
    // wake-up while the lease holds sends nothing; once it has run out,
    // the attempt is taken over and the event delivered.
    let crashed = unique_id("errors:crash");
    let now = h.now();
    let stuck = Delivery {
        subscription_id: id.clone(),
        event_id: crashed.clone(),
        event_type: "integration.error".into(),
        body: r#"{"type":"integration.error","timestamp":"2026-12-02T10:00:00Z","data":{}}"#.into(),
        state: DeliveryState::Sending,
        attempts: 1,
        series_start: 0,
        next_attempt_ms: now,
        lease_until_ms: now + deliveries::LEASE_MS,
        created_ms: now,
        log: Vec::new(),
    };
    assert!(h
        .store()
        .create_delivery(&stuck, now / 1000 + 86_400)
        .await
        .unwrap());
    let wake = WakeUp {
        subscription_id: id.clone(),
        event_id: crashed.clone(),
        not_before_ms: now,
    };
    h.queue
        .send_wake_ups(std::slice::from_ref(&wake), 0)
        .await
        .unwrap();
    h.run_queue(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.received().len(),
        11,
        "the lease holds: nothing sent"
    );
    assert_eq!(
        h.queue.delays.lock().unwrap().last(),
        Some(&((deliveries::LEASE_MS / 1000) as u32)),
        "a wake-up is queued for when the lease runs out"
    );
    h.advance(Duration::from_millis(deliveries::LEASE_MS as u64 + 1));
    h.queue.send_wake_ups(&[wake], 0).await.unwrap();
    h.run_queue(Duration::from_secs(2)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 12);
    assert_eq!(got[11].header("webhook-id"), crashed);
    let d = h.delivery(&id, &crashed).await;
    assert_eq!((d.state, d.attempts), (DeliveryState::Delivered, 2));
}

/// A subscription written straight to the table (past the route's checks).
async fn stored_subscription(h: &OutboundHarness, url: &str) -> String {
    let id = unique_id("sub");
    let now = rfc3339(h.now());
    let sub = Subscription {
        id: id.clone(),
        url: url.into(),
        event_types: vec!["*".into()],
        description: String::new(),
        active: true,
        rate_limit_per_second: 10,
        secret: ayaztrade::domain::outbound::encode_secret(&[9u8; 32]),
        previous_secret: None,
        failing_since_ms: None,
        disabled_reason: None,
        created_at: now.clone(),
        updated_at: now,
    };
    assert!(h.store().create_subscription(&sub).await.unwrap());
    id
}

fn rfc3339(ms: i64) -> String {
    ayaztrade::clock::rfc3339_of_ms(ms)
}

/// The delivery's TTL as stored (epoch seconds).
async fn expires_at(stack: &ayaztrade_tests::local_stack::Stack, sub: &str, event_id: &str) -> i64 {
    let item = stack
        .dynamo
        .get_item()
        .table_name(&stack.table_name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("DELIVERY#{sub}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(event_id.into()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item["expires_at"].as_n().unwrap().parse().unwrap()
}
