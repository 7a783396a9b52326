//! The webhook function end to end: function URL events in-process, moto's
//! DynamoDB and EventBridge (with the template's rule into an SQS queue), and
//! signatures made independently (Stripe's own Python library; iyzico's
//! algorithm in Python's hmac).

use aws_sdk_dynamodb::types::AttributeValue;
use ayaztrade::domain::event::DetailType;
use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::local_stack::{unique_id, Stack};
use ayaztrade_tests::webhook_support::*;
use serde_json::{json, Value};

async fn deliver_stripe(h: &WebhookHarness, body: &[u8], header: &str) -> (u16, Value) {
    let req = function_url_request(
        "POST",
        "/webhooks/stripe",
        &[("stripe-signature", header)],
        body,
        false,
    );
    response_json(h.app.handle(req).await.unwrap())
}

fn published_types(h: &WebhookHarness) -> Vec<&'static str> {
    let published = h.publisher.published.lock().unwrap();
    published.iter().map(|e| e.detail_type.as_str()).collect()
}

async fn payment_status(stack: &Stack, order_id: &str) -> String {
    let item = stack
        .dynamo
        .get_item()
        .table_name(&stack.table_name)
        .key("pk", AttributeValue::S(format!("ORDER#{order_id}")))
        .key("sk", AttributeValue::S("ORDER".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    item["payment_status"].as_s().unwrap().clone()
}

/// The audited rejections of a provider, over its 16 audit partitions.
async fn rejected_audits(stack: &Stack, provider: &str) -> Vec<String> {
    let mut outcomes = Vec::new();
    for shard in 0..16 {
        let items = stack
            .dynamo
            .query()
            .table_name(&stack.table_name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(format!("WEBHOOK#{provider}#{shard}")),
            )
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        outcomes.extend(
            items
                .into_iter()
                .map(|i| i["outcome"].as_s().unwrap().clone()),
        );
    }
    outcomes
}

/// This module's own stack: it reads the payment-events queue and counts
/// audit items, which the other modules' payments would crowd.
async fn stack() -> &'static Stack {
    static STACK: tokio::sync::OnceCell<Stack> = tokio::sync::OnceCell::const_new();
    STACK
        .get_or_init(ayaztrade_tests::local_stack::fresh_stack)
        .await
}

/// The `payment.*` events the template's rule delivered to its queue for this order.
async fn queued_payment_events(stack: &Stack, order_id: &str) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("eu-central-1"))
            .endpoint_url(&stack.endpoint)
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "local", "local", None, None, "test",
            ))
            .http_client(
                ayaztrade::aws::sdk::AwsEnv::from_env()
                    .unwrap()
                    .http_client(),
            )
            .build(),
    );
    let mut found = Vec::new();
    for _ in 0..5 {
        let out = sqs
            .receive_message()
            .queue_url(&stack.payment_events_queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let v: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            if v["detail"]["orderId"] == order_id
                && !found.iter().any(|f: &Value| f["id"] == v["id"])
            {
                found.push(v);
            }
        }
    }
    found
}

#[tokio::test]
async fn stripe_signature_cases() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let now = now_unix();
    let body = stripe_event(&evt_id(), "customer.created", json!({"id": "cus_1"}));
    let valid = stripe_signature(&body, STRIPE_SECRET, now);

    // Valid, and several v1 of which one matches (a secret being rolled).
    assert_eq!(deliver_stripe(&h, &body, &valid).await.0, 200);
    let other = stripe_signature(&body, "whsec_someone_else", now);
    let v1_wrong = other.split_once(",v1=").unwrap().1;
    let several = format!("{valid},v1={v1_wrong},v0={v1_wrong}");
    let body2 = stripe_event(&evt_id(), "customer.created", json!({}));
    let several2 = stripe_signature(&body2, STRIPE_SECRET, now) + &format!(",v1={v1_wrong}");
    assert_eq!(
        deliver_stripe(&h, &body2, &several2).await.0,
        200,
        "{several}"
    );
    // Signed with the previous secret, still active during rotation.
    let body3 = stripe_event(&evt_id(), "customer.created", json!({}));
    assert_eq!(
        deliver_stripe(
            &h,
            &body3,
            &stripe_signature(&body3, STRIPE_OLD_SECRET, now)
        )
        .await
        .0,
        200
    );

    // Other tests audit malformed payloads in parallel: count auth rejections only.
    let auth_rejections = |audits: Vec<String>| {
        audits
            .into_iter()
            .filter(|o| o.starts_with("rejected:") && o != "rejected:malformed")
            .count()
    };
    let before = auth_rejections(rejected_audits(stack, "stripe").await);
    let started = std::time::Instant::now();
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let cases: Vec<(&str, Vec<u8>, String, u16)> = vec![
        ("tampered body", tampered, valid.clone(), 401),
        (
            "wrong secret",
            body.clone(),
            stripe_signature(&body, "whsec_wrong", now),
            401,
        ),
        (
            "stale",
            body.clone(),
            stripe_signature(&body, STRIPE_SECRET, now - 400),
            401,
        ),
        (
            "future",
            body.clone(),
            stripe_signature(&body, STRIPE_SECRET, now + 400),
            401,
        ),
        ("v0 only", body.clone(), valid.replace("v1=", "v0="), 400),
        ("malformed header", body.clone(), "garbage".into(), 400),
    ];
    for (name, b, header, status) in &cases {
        let (got, resp) = deliver_stripe(&h, b, header).await;
        assert_eq!(got, *status, "{name}: {resp}");
    }
    // Missing header.
    let req = function_url_request("POST", "/webhooks/stripe", &[], &body, false);
    assert_eq!(response_json(h.app.handle(req).await.unwrap()).0, 401);

    // A flood of unauthenticated deliveries: each is refused, but the table
    // sees at most one audit a second from this container.
    for _ in 0..40 {
        let (got, _) = deliver_stripe(&h, &body, &stripe_signature(&body, "whsec_x", now)).await;
        assert_eq!(got, 401);
    }
    let audits = auth_rejections(rejected_audits(stack, "stripe").await);
    let seconds = started.elapsed().as_secs() as usize;
    assert!(
        audits - before <= seconds + 1,
        "{} audits for {} rejections in {seconds} s",
        audits - before,
        cases.len() + 41
    );
    assert!(
        h.publisher.published.lock().unwrap().is_empty(),
        "nothing published"
    );
}

#[tokio::test]
async fn a_base64_function_url_body_verifies_over_the_decoded_bytes() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let body = stripe_event(
        &evt_id(),
        "customer.created",
        json!({"name": "Çağrı Öztürk"}),
    );
    let header = stripe_signature(&body, STRIPE_SECRET, now_unix());
    let req = function_url_request(
        "POST",
        "/webhooks/stripe",
        &[("stripe-signature", &header)],
        &body,
        true,
    );
    let (status, resp) = response_json(h.app.handle(req).await.unwrap());
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["outcome"], "ignored");
}

#[tokio::test]
async fn a_payment_success_marks_the_order_paid_and_publishes_once() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let event_id = evt_id();
    let body = stripe_succeeded(&event_id, "pi_test_1", &order_id, 86920);
    let header = stripe_signature(&body, STRIPE_SECRET, now_unix());

    h.calls.reset();
    let (status, resp) = deliver_stripe(&h, &body, &header).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["outcome"], "applied");
    let calls = h.calls.snapshot();
    println!("AWS calls for one accepted Stripe payment_intent.succeeded: {calls:?}");
    let writes: usize = ["PutItem", "UpdateItem", "DeleteItem"]
        .iter()
        .map(|op| calls.get(*op).copied().unwrap_or(0))
        .sum();
    assert!(
        writes <= 3,
        "DynamoDB writes per accepted delivery: {calls:?}"
    );
    assert_eq!(calls.get("PutEvents"), Some(&1), "{calls:?}");

    assert_eq!(payment_status(stack, &order_id).await, "paid");
    let (status, resp) = deliver_stripe(&h, &body, &header).await;
    assert_eq!((status, resp["duplicate"].as_bool()), (200, Some(true)));

    let events = queued_payment_events(stack, &order_id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["source"], "ayaztrade.integrations");
    assert_eq!(e["detail-type"], "payment.completed");
    assert_eq!(e["detail"]["eventId"], format!("stripe:{event_id}"));
    assert_eq!(
        e["detail"]["amount"],
        json!({"minor": 86920, "currency": "TRY"})
    );
    assert_eq!(e["detail"]["paymentStatus"], "paid");
    assert_eq!(e["detail"]["providerRef"], "pi_test_1");
}

#[tokio::test]
async fn twenty_concurrent_deliveries_publish_exactly_one_event() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let body = stripe_succeeded(&evt_id(), "pi_test_2", &order_id, 86920);
    let header = stripe_signature(&body, STRIPE_SECRET, now_unix());

    let deliveries = (0..20).map(|_| deliver_stripe(&h, &body, &header));
    let results = futures::future::join_all(deliveries).await;

    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(
        results
            .iter()
            .filter(|(_, r)| r["outcome"] == "applied" && r.get("duplicate").is_none())
            .count(),
        1,
        "{results:?}"
    );
    assert_eq!(h.publisher.published.lock().unwrap().len(), 1);
    assert_eq!(queued_payment_events(stack, &order_id).await.len(), 1);
}

#[tokio::test]
async fn a_late_failure_after_success_leaves_the_order_paid() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let ok = stripe_succeeded(&evt_id(), "pi_test_3", &order_id, 86920);
    let failed = stripe_payment_failed(&evt_id(), "pi_test_3", &order_id, 86920);

    assert_eq!(
        deliver_stripe(&h, &ok, &stripe_signature(&ok, STRIPE_SECRET, now_unix()))
            .await
            .1["outcome"],
        "applied"
    );
    let (status, resp) = deliver_stripe(
        &h,
        &failed,
        &stripe_signature(&failed, STRIPE_SECRET, now_unix()),
    )
    .await;

    assert_eq!(status, 200);
    assert_eq!(resp["outcome"], "stale");
    assert_eq!(payment_status(stack, &order_id).await, "paid");
    let published = h.publisher.published.lock().unwrap();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].detail_type, DetailType::PaymentCompleted);
}

#[tokio::test]
async fn a_failure_before_success_is_published_and_refunds_only_grow() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let pi = format!("pi_{}", unique_id("x").replace('-', ""));
    // Record the attempt so charge events (which carry only the intent id) find the order.
    let sign = |b: &[u8]| stripe_signature(b, STRIPE_SECRET, now_unix());
    let failed = stripe_payment_failed(&evt_id(), &pi, &order_id, 86920);
    assert_eq!(
        deliver_stripe(&h, &failed, &sign(&failed)).await.1["outcome"],
        "applied"
    );
    assert_eq!(payment_status(stack, &order_id).await, "unpaid");

    let ok = stripe_succeeded(&evt_id(), &pi, &order_id, 86920);
    assert_eq!(
        deliver_stripe(&h, &ok, &sign(&ok)).await.1["outcome"],
        "applied"
    );
    record_attempt(stack, &order_id, &pi).await;

    let partial = stripe_refunded(&evt_id(), &pi, 86920, 10000);
    let full = stripe_refunded(&evt_id(), &pi, 86920, 86920);
    assert_eq!(
        deliver_stripe(&h, &full, &sign(&full)).await.1["outcome"],
        "applied"
    );
    assert_eq!(payment_status(stack, &order_id).await, "refunded");
    // The partial refund arrives late: it must not lower the refunded state.
    assert_eq!(
        deliver_stripe(&h, &partial, &sign(&partial)).await.1["outcome"],
        "stale"
    );
    assert_eq!(payment_status(stack, &order_id).await, "refunded");

    let types = published_types(&h);
    assert_eq!(
        types,
        ["payment.failed", "payment.completed", "payment.refunded"]
    );
}

async fn record_attempt(stack: &Stack, order_id: &str, pi: &str) {
    record_attempt_for(stack, "stripe", order_id, pi).await
}

#[tokio::test]
async fn a_publish_failure_releases_the_claim_and_the_retry_completes() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let body = stripe_succeeded(&evt_id(), "pi_test_4", &order_id, 86920);
    let header = stripe_signature(&body, STRIPE_SECRET, now_unix());
    h.publisher
        .fail_next
        .store(1, std::sync::atomic::Ordering::SeqCst);

    let (status, _) = deliver_stripe(&h, &body, &header).await;
    assert_eq!(status, 503, "the provider must retry");
    let (status, resp) = deliver_stripe(&h, &body, &header).await;
    assert_eq!((status, resp["outcome"].as_str()), (200, Some("applied")));
    assert_eq!(payment_status(stack, &order_id).await, "paid");
    assert_eq!(h.publisher.published.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn unhandled_malformed_oversized_and_unknown_deliveries() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let body = stripe_event(&evt_id(), "invoice.paid", json!({"id": "in_1"}));
    let (status, resp) = deliver_stripe(
        &h,
        &body,
        &stripe_signature(&body, STRIPE_SECRET, now_unix()),
    )
    .await;
    assert_eq!((status, resp["outcome"].as_str()), (200, Some("ignored")));

    let garbage = b"{\"id\": \"evt_1\", \"type\": 5}".to_vec();
    let before = rejected_audits(stack, "stripe").await.len();
    let (status, resp) = deliver_stripe(
        &h,
        &garbage,
        &stripe_signature(&garbage, STRIPE_SECRET, now_unix()),
    )
    .await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(resp["error"]["code"], "malformed_payload");
    assert_eq!(rejected_audits(stack, "stripe").await.len(), before + 1);

    let big = vec![b' '; 1024 * 1024 + 1];
    let req = function_url_request(
        "POST",
        "/webhooks/stripe",
        &[("stripe-signature", "t=1,v1=00")],
        &big,
        true,
    );
    assert_eq!(response_json(h.app.handle(req).await.unwrap()).0, 413);
    let req = function_url_request("POST", "/webhooks/paypal", &[], b"{}", false);
    assert_eq!(response_json(h.app.handle(req).await.unwrap()).0, 404);
    let req = function_url_request("GET", "/webhooks/stripe", &[], b"", false);
    assert_eq!(response_json(h.app.handle(req).await.unwrap()).0, 405);
}

#[tokio::test]
async fn iyzico_v3_signatures_for_direct_and_hosted_checkout() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let direct = serde_json::to_vec(&json!({
        "paymentConversationId": order_id, "merchantId": 3398, "paymentId": 22416034,
        "status": "SUCCESS", "iyziReferenceCode": unique_id("ref"), "iyziEventType": "API_AUTH",
        "iyziEventTime": 1795700000000i64
    }))
    .unwrap();
    let deliver = |body: Vec<u8>, sig: String| {
        let req = function_url_request(
            "POST",
            "/webhooks/iyzico",
            &[("x-iyz-signature-v3", &sig)],
            &body,
            false,
        );
        async { response_json(h.app.handle(req).await.unwrap()) }
    };
    let (status, resp) = deliver(direct.clone(), "0".repeat(64)).await;
    assert_eq!(status, 401, "{resp}");
    // A correctly signed notice for a payment we never recorded moves nothing
    // (iyzico's unseparated V3 fields cannot bind the order id on their own).
    let (status, resp) = deliver(direct.clone(), iyzico_signature(&direct, IYZICO_SECRET)).await;
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("unknown_order")),
        "{resp}"
    );
    assert_eq!(payment_status(stack, &order_id).await, "unpaid");
    record_attempt_for(stack, "iyzico", &order_id, "22416034").await;
    record_attempt_for(stack, "iyzico", &order_id, "d2b6a5c4-1111-2222").await;
    // iyzico redelivers (with a fresh, unsigned reference code): the first
    // delivery left no record, so now that the payment is ours it applies.
    let retry = String::from_utf8(direct.clone())
        .unwrap()
        .replace("\"iyziReferenceCode\":\"", "\"iyziReferenceCode\":\"x");
    let (status, resp) = deliver(
        retry.clone().into_bytes(),
        iyzico_signature(retry.as_bytes(), IYZICO_SECRET),
    )
    .await;
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("applied")),
        "{resp}"
    );
    assert_eq!(payment_status(stack, &order_id).await, "paid");
    // Another notice for the same payment and status (another event type, a
    // new reference code) is the same event: payment id + status, both signed.
    let again = serde_json::to_vec(&json!({
        "paymentConversationId": order_id, "merchantId": 3398, "paymentId": 22416034,
        "status": "SUCCESS", "iyziReferenceCode": unique_id("ref"), "iyziEventType": "THREE_DS_AUTH",
        "iyziEventTime": 1795700000000i64
    }))
    .unwrap();
    let (_, resp) = deliver(again.clone(), iyzico_signature(&again, IYZICO_SECRET)).await;
    assert_eq!(resp["duplicate"], true, "{resp}");

    let hosted = serde_json::to_vec(&json!({
        "paymentConversationId": order_id, "merchantId": 3398, "token": "d2b6a5c4-1111-2222",
        "iyziPaymentId": 22416035, "status": "SUCCESS", "iyziReferenceCode": unique_id("ref"),
        "iyziEventType": "CHECKOUT_FORM_AUTH", "iyziEventTime": 1795700000000i64
    }))
    .unwrap();
    let (status, resp) = deliver(hosted.clone(), iyzico_signature(&hosted, IYZICO_SECRET)).await;
    // Another payment (22416035) for an order 22416034 already paid: money
    // collected twice is never silent.
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("duplicate_payment")),
        "already paid: {resp}"
    );
}

#[tokio::test]
async fn marketplace_order_pushes_with_registered_credentials() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let package = serde_json::to_vec(&json!({
        "id": 3330111, "orderNumber": unique_id("ty"), "status": "Created",
        "lastModifiedDate": 1795700000000i64,
        "lines": [{"id": 1, "quantity": 1, "merchantSku": "MUG-IZNIK"}]
    }))
    .unwrap();
    let good = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
    let bad = basic_auth(MARKETPLACE_USER, "nope");
    let req = |auth: &str, path: &str, method: &str, body: &[u8]| {
        function_url_request(method, path, &[("authorization", auth)], body, false)
    };

    assert_eq!(
        response_json(
            h.app
                .handle(req(&bad, "/webhooks/trendyol", "POST", &package))
                .await
                .unwrap()
        )
        .0,
        401
    );
    let (status, resp) = response_json(
        h.app
            .handle(req(&good, "/webhooks/trendyol", "POST", &package))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("created")),
        "{resp}"
    );
    let (_, again) = response_json(
        h.app
            .handle(req(&good, "/webhooks/trendyol", "POST", &package))
            .await
            .unwrap(),
    );
    assert_eq!(again["duplicate"], true);

    let hb = serde_json::to_vec(&json!({"orderNumber": unique_id("hb"), "packageNumber": "P-1"}))
        .unwrap();
    let (_, resp) = response_json(
        h.app
            .handle(req(&good, "/webhooks/hepsiburada/createOrder", "PUT", &hb))
            .await
            .unwrap(),
    );
    assert_eq!(resp["outcome"], "created", "{resp}");
    let (status, resp) = response_json(
        h.app
            .handle(req(&good, "/webhooks/hepsiburada/orderCancel", "PUT", &hb))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("changed")),
        "{resp}"
    );

    let published = h.publisher.published.lock().unwrap();
    let types: Vec<&str> = published.iter().map(|e| e.detail_type.as_str()).collect();
    assert_eq!(
        types,
        [
            // The package's line names a SKU we do not sell: untracked, no
            // stock event. The Hepsiburada order, known only by its notices
            // (they name no lines), is announced once the poll reads its lines.
            "marketplace.order.created",
        ]
    );
}

#[tokio::test]
async fn a_different_amount_does_not_mark_the_order_paid() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let body = stripe_succeeded(&evt_id(), "pi_test_5", &order_id, 100);
    let (status, resp) = deliver_stripe(
        &h,
        &body,
        &stripe_signature(&body, STRIPE_SECRET, now_unix()),
    )
    .await;
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("amount_mismatch")),
        "{resp}"
    );
    assert_eq!(payment_status(stack, &order_id).await, "unpaid");
    let published = h.publisher.published.lock().unwrap();
    assert_eq!(published[0].detail_type, DetailType::IntegrationError);
    let detail = serde_json::to_value(&published[0]).unwrap();
    assert_eq!(
        detail["expected"],
        json!({"minor": 86920, "currency": "TRY"})
    );
    assert_eq!(detail["received"], json!({"minor": 100, "currency": "TRY"}));
}

#[tokio::test]
async fn an_applied_event_whose_publish_failed_is_published_on_redelivery_even_after_later_events()
{
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let pi = format!("pi_{}", unique_id("y").replace('-', ""));
    record_attempt(stack, &order_id, &pi).await;
    let sign = |b: &[u8]| stripe_signature(b, STRIPE_SECRET, now_unix());
    let paid = stripe_succeeded(&evt_id(), &pi, &order_id, 86920);
    let refund = stripe_refunded(&evt_id(), &pi, 86920, 86920);

    h.publisher
        .fail_next
        .store(1, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(deliver_stripe(&h, &paid, &sign(&paid)).await.0, 503);
    assert_eq!(
        deliver_stripe(&h, &refund, &sign(&refund)).await.1["outcome"],
        "applied"
    );
    // Stripe redelivers the first event: the order stays refunded, and the
    // missing payment.completed goes out after all.
    let (status, resp) = deliver_stripe(&h, &paid, &sign(&paid)).await;
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("applied")),
        "{resp}"
    );
    assert_eq!(payment_status(stack, &order_id).await, "refunded");
    let types = published_types(&h);
    assert_eq!(types, ["payment.refunded", "payment.completed"]);
}
