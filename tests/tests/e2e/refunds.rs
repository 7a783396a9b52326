//! `POST /payments/stripe/refunds`: against moto and the Stripe fake, for an
//! order paid through the real path (intent, then the signed webhook).

use std::time::Duration;

use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::local_stack::{stack, unique_id, Stack};
use ayaztrade_tests::stripe_fake::{Fault, StripeFake};
use ayaztrade_tests::webhook_support::*;
use serde_json::{json, Value};

async fn refund(
    app: &ayaztrade::apps::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
    body: Value,
) -> (u16, Value) {
    post_payments(app, "/payments/stripe/refunds", &body).await
}

#[tokio::test]
async fn partial_then_full_refunds_never_exceed_what_was_paid() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);
    let order_id = given_an_order(stack, demo_order_json()).await;
    // Not paid yet: nothing to refund.
    let (status, body) = refund(
        &app,
        json!({"orderId": order_id, "requestId": unique_id("r")}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("order_not_paid"))
    );

    // Pay: the intent succeeds at Stripe and its webhook arrives.
    let pi = pay(stack, &fake, &app, &order_id).await;
    let pi = pi.as_str();
    let h = webhook_harness(stack);

    let (status, body) = refund(
        &app,
        json!({"orderId": order_id, "amount": 20000, "requestId": unique_id("r")}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["refundedTotal"].as_i64(), body["remaining"].as_i64()),
        (Some(20000), Some(66920))
    );
    assert_eq!(body["paymentStatus"], "partially_refunded");

    let (status, body) = refund(
        &app,
        json!({"orderId": order_id, "amount": 66921, "requestId": unique_id("r")}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("refund_exceeds_remaining")),
        "{body}"
    );

    let (status, body) = refund(
        &app,
        json!({"orderId": order_id, "requestId": unique_id("r")}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["amount"].as_i64(), body["paymentStatus"].as_str()),
        (Some(66920), Some("refunded"))
    );
    assert_eq!(fake.refund_count(), 2);

    // Stripe's charge.refunded webhook for the same cumulative total changes nothing.
    let webhook = stripe_refunded(&evt_id(), pi, 86920, 86920);
    let req = signed_stripe_request(&webhook);
    assert_eq!(
        response_json(h.app.handle(req).await.unwrap()).1["outcome"],
        "stale"
    );

    let (status, body) = refund(
        &app,
        json!({"orderId": order_id, "requestId": unique_id("r")}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("nothing_to_refund"))
    );
    let (status, _) = refund(
        &app,
        json!({"orderId": order_id, "amount": -5, "requestId": unique_id("r")}),
    )
    .await;
    assert_eq!(status, 400);
}

/// GIVEN an order paid through Stripe (intent, then its signed webhook).
async fn given_a_paid_order(
    stack: &'static Stack,
    fake: &StripeFake,
    app: &ayaztrade::apps::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
) -> (String, String) {
    let order_id = given_an_order(stack, demo_order_json()).await;
    let pi = pay(stack, fake, app, &order_id).await;
    (order_id, pi)
}

/// The order's intent succeeds at Stripe and its webhook is applied; the intent id.
async fn pay(
    stack: &'static Stack,
    fake: &StripeFake,
    app: &ayaztrade::apps::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
    order_id: &str,
) -> String {
    let created = response_json(
        app.handle(http_request(
            "POST",
            "/payments/stripe/intents",
            Some(&json!({"orderId": order_id})),
        ))
        .await
        .unwrap(),
    )
    .1;
    let pi = created["paymentIntentId"].as_str().unwrap().to_string();
    fake.set_intent_status(&pi, "succeeded");
    let paid = stripe_succeeded(&evt_id(), &pi, order_id, 86920);
    let req = signed_stripe_request(&paid);
    let (_, resp) = response_json(webhook_harness(stack).app.handle(req).await.unwrap());
    assert_eq!(resp["outcome"], "applied", "{resp}");
    pi
}

#[tokio::test]
async fn the_same_request_id_is_one_refund_at_stripe_and_answers_the_first_answer() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);
    let (order_id, _) = given_a_paid_order(stack, &fake, &app).await;
    let body = json!({"orderId": order_id, "amount": 5000, "requestId": unique_id("r")});

    let first = refund(&app, body.clone()).await;
    let second = refund(&app, body.clone()).await;

    assert_eq!(first.0, 201, "{}", first.1);
    assert_eq!(second, first, "a repeat answers the first answer");
    assert_eq!(fake.refund_count(), 1, "Stripe executed one refund");
    let keys: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds")
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 1, "the repeat never reached Stripe");
    assert_eq!(
        keys[0].as_deref(),
        Some(format!("ayaztrade:refund:{}", body["requestId"].as_str().unwrap()).as_str())
    );
    // The same id with another amount is refused and moves nothing.
    let mut other = body.clone();
    other["amount"] = json!(6000);
    let (status, resp) = refund(&app, other).await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(fake.refund_count(), 1);
    // Without a requestId: 400, before anything is read.
    let (status, _) = refund(&app, json!({"orderId": order_id, "amount": 1})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_lost_answer_is_resolved_by_replaying_the_same_key_never_a_second_refund() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);
    let (order_id, _) = given_a_paid_order(stack, &fake, &app).await;
    let body = json!({"orderId": order_id, "amount": 5000, "requestId": unique_id("r")});
    // Stripe executes each try but answers after our 800 ms attempt timeout,
    // on every one of the three attempts of this call.
    for _ in 0..3 {
        fake.push_fault(Fault::Delay(Duration::from_millis(1_500)));
    }
    let (status, lost) = refund(&app, body.clone()).await;
    assert!(status >= 500, "{lost}");
    assert_eq!(fake.refund_count(), 1, "executed once, replayed after");
    assert_eq!(
        payment_state(stack, &order_id).await,
        ("paid".to_string(), 0),
        "nothing recorded without Stripe's answer"
    );
    // A different refund of the order must wait: the first is unresolved.
    let (status, busy) = refund(
        &app,
        json!({"orderId": order_id, "amount": 100, "requestId": unique_id("r")}),
    )
    .await;
    assert_eq!(
        (status, busy["error"]["code"].as_str()),
        (409, Some("refund_in_progress")),
        "{busy}"
    );

    // The caller retries: the same key, Stripe replays what it did.
    let (status, done) = refund(&app, body.clone()).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(fake.refund_count(), 1, "still one refund at Stripe");
    assert_eq!(
        payment_state(stack, &order_id).await,
        ("partially_refunded".to_string(), 5000)
    );
    assert_eq!(refund(&app, body).await, (201, done));
}

#[tokio::test]
async fn two_concurrent_refunds_of_one_order_never_both_pass_the_remaining_check() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);
    let (order_id, _) = given_a_paid_order(stack, &fake, &app).await;
    // The first is slow at Stripe (but within our timeout).
    fake.push_fault(Fault::Delay(Duration::from_millis(400)));
    let a = json!({"orderId": order_id, "amount": 80000, "requestId": unique_id("r")});
    let b = json!({"orderId": order_id, "amount": 60000, "requestId": unique_id("r")});
    let (ra, rb) = tokio::join!(refund(&app, a), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        refund(&app, b.clone()).await
    });
    assert_eq!(ra.0, 201, "{}", ra.1);
    assert_eq!(
        (rb.0, rb.1["error"]["code"].as_str()),
        (409, Some("refund_in_progress")),
        "{}",
        rb.1
    );
    assert_eq!(fake.refund_count(), 1);
    // Retried once the first is done, it is judged against what remains.
    let (status, body) = refund(&app, b).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("refund_exceeds_remaining")),
        "{body}"
    );
    assert_eq!(fake.refund_count(), 1);
}

/// Stripe's `charge.refunded` for a payment that did not pay the order (a
/// duplicate being given back) and a refund arriving before its success.
#[tokio::test]
async fn refund_notices_bind_to_the_payment_that_paid_the_order() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);
    let h = webhook_harness(stack);
    let deliver = |body: Vec<u8>| {
        let req = signed_stripe_request(&body);
        let app = &h.app;
        async move { response_json(app.handle(req).await.unwrap()).1 }
    };
    let (order_id, pi) = given_a_paid_order(stack, &fake, &app).await;
    // A second, duplicate payment of the same order is loud...
    let dup = stripe_succeeded(&evt_id(), "pi_duplicate0001", &order_id, 86920);
    assert_eq!(deliver(dup).await["outcome"], "duplicate_payment");
    let published = h.publisher.published.lock().unwrap().clone();
    let types: Vec<_> = published.iter().map(|e| e.detail_type.as_str()).collect();
    assert_eq!(types, ["payment.duplicate", "integration.error"]);
    // ...and its refund does not touch the order.
    record_attempt_for(stack, "stripe", &order_id, "pi_duplicate0001").await;
    let refunded_dup = stripe_refunded(&evt_id(), "pi_duplicate0001", 86920, 86920);
    assert_eq!(deliver(refunded_dup).await["outcome"], "other_payment");
    assert_eq!(
        payment_state(stack, &order_id).await,
        ("paid".to_string(), 0)
    );
    // The real payment's refund does.
    let refunded = stripe_refunded(&evt_id(), &pi, 86920, 1000);
    assert_eq!(deliver(refunded).await["outcome"], "applied");
    assert_eq!(
        payment_state(stack, &order_id).await,
        ("partially_refunded".to_string(), 1000)
    );

    // A refund delivered before its success: held, then applied after it.
    let order_id = given_an_order(stack, demo_order_json()).await;
    let early = stripe_refunded(&evt_id(), "pi_early00000001", 86920, 2000);
    record_attempt_for(stack, "stripe", &order_id, "pi_early00000001").await;
    assert_eq!(deliver(early).await["outcome"], "held");
    assert_eq!(
        payment_state(stack, &order_id).await,
        ("unpaid".to_string(), 0)
    );
    h.publisher.published.lock().unwrap().clear();
    let success = stripe_succeeded(&evt_id(), "pi_early00000001", &order_id, 86920);
    assert_eq!(deliver(success).await["outcome"], "applied");
    assert_eq!(
        payment_state(stack, &order_id).await,
        ("partially_refunded".to_string(), 2000)
    );
    let types: Vec<_> = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.detail_type.as_str())
        .collect();
    assert_eq!(types, ["payment.completed", "payment.refunded"]);
}

/// The order's payment status and refunded total, as stored.
async fn payment_state(stack: &Stack, order_id: &str) -> (String, i64) {
    let item = stack
        .dynamo
        .get_item()
        .table_name(&stack.table_name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ORDER#{order_id}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("ORDER".into()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let status = item["payment_status"].as_s().unwrap().clone();
    let refunded = item
        .get("refunded_minor")
        .and_then(|v| v.as_n().ok())
        .map(|n| n.parse().unwrap())
        .unwrap_or(0);
    (status, refunded)
}

/// With `AUTO_REFUND_UNWANTED_PAYMENTS` on, a second payment of a paid order
/// is given back at Stripe, exactly once, even when Stripe's answer is lost.
#[tokio::test]
async fn a_duplicate_payment_is_refunded_automatically_once() {
    use ayaztrade::apps::webhook::AutoRefundClients;
    use ayaztrade::providers::http::HttpLayer;
    use ayaztrade::providers::stripe::StripeClient;
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);
    let (order_id, _) = given_a_paid_order(stack, &fake, &app).await;
    // A second intent collected for the same order (another tab).
    let (_, second_pi) = given_a_paid_order(stack, &fake, &app).await;
    let h = webhook_harness(stack);
    let webhooks = h.app.with_auto_refund(Some(AutoRefundClients {
        stripe: Some(StripeClient::new(
            HttpLayer::new(fast_http_settings()),
            stripe_settings(&fake),
        )),
        iyzico: None,
    }));
    let refunds_before = fake.refund_count();
    let deliver = |body: Vec<u8>| {
        let req = signed_stripe_request(&body);
        let app = &webhooks;
        async move { response_json(app.handle(req).await.unwrap()) }
    };
    // Stripe refunds, but each answer comes after our timeout: the delivery
    // fails, and Stripe redelivers it.
    for _ in 0..3 {
        fake.push_fault(Fault::Delay(Duration::from_millis(1_500)));
    }
    let duplicate = stripe_succeeded(&evt_id(), &second_pi, &order_id, 86920);
    let (status, _) = deliver(duplicate.clone()).await;
    assert!(
        status >= 500,
        "the delivery fails while the refund is unclear"
    );
    assert_eq!(fake.refund_count(), refunds_before + 1);
    let (status, resp) = deliver(duplicate.clone()).await;
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("duplicate_payment")),
        "{resp}"
    );
    // Another notice of the same payment: the refund is not made again.
    let again = stripe_succeeded(&evt_id(), &second_pi, &order_id, 86920);
    assert_eq!(deliver(again).await.1["outcome"], "duplicate_payment");
    assert_eq!(
        fake.refund_count(),
        refunds_before + 1,
        "one refund at Stripe"
    );
    let refunds: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds")
        .filter(|r| r.field("payment_intent") == Some(second_pi.as_str()))
        .map(|r| r.idempotency_key.unwrap())
        .collect();
    assert!(refunds
        .iter()
        .all(|k| k == &format!("ayaztrade:refund:auto-stripe-{second_pi}")));
    let published = h.publisher.published.lock().unwrap().clone();
    let refunded: Vec<_> = published
        .iter()
        .filter(|e| e.detail_type.as_str() == "payment.refunded")
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["providerRef"], json!(second_pi));
    assert_eq!(
        refunded[0]["paymentStatus"], "paid",
        "the order keeps its payment"
    );
    assert_eq!(
        payment_state(stack, &order_id).await,
        ("paid".to_string(), 0)
    );
}

/// The payments function may write every key the refund protocol writes
/// (IAM `dynamodb:LeadingKeys`), and the webhook function those of the
/// automatic refunds: a missing prefix is an AccessDenied on the first
/// real refund, which moto does not check.
#[test]
fn the_template_lets_refunds_write_their_keys() {
    let template = std::fs::read_to_string(
        ayaztrade_tests::local_stack::workspace_root().join("template.yaml"),
    )
    .unwrap();
    for (function, prefixes) in [
        ("PaymentsFunction:", ["ORDER#*", "IDEMP#*", "REFUND#*"]),
        ("WebhookFunction:", ["ORDER#*", "IDEMP#*", "REFUND#*"]),
    ] {
        let start = template.find(&format!("\n  {function}")).unwrap();
        let rest = &template[start + 3..];
        let end = rest.find("\n  # ----").unwrap_or(rest.len());
        let end = rest[..end]
            .find("\n  ")
            .and_then(|_| {
                rest.match_indices("\n  ")
                    .map(|(i, _)| i)
                    .find(|&i| rest[i + 3..].starts_with(|c: char| c.is_ascii_uppercase()))
            })
            .unwrap_or(end);
        let section = &rest[..end];
        for prefix in prefixes {
            assert!(
                section
                    .lines()
                    .any(|l| l.contains("LeadingKeys") && l.contains(&format!("\"{prefix}\""))),
                "{function} may not write {prefix}"
            );
        }
    }
}
