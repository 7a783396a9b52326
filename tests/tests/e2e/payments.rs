//! `POST /payments/stripe/intents` end to end: the handler in-process, the
//! real DynamoDB API (moto) and the local Stripe fake.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::local_stack::{stack, unique_id, Stack};
use ayaztrade_tests::stripe_fake::{Fault, StripeFake};
use serde_json::json;

async fn create_intent(
    app: &ayaztrade::apps::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
    order_id: &str,
) -> (u16, serde_json::Value) {
    post_payments(
        app,
        "/payments/stripe/intents",
        &json!({ "orderId": order_id }),
    )
    .await
}

async fn attempt_items(
    stack: &Stack,
    order_id: &str,
) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    stack
        .dynamo
        .query()
        .table_name(&stack.table_name)
        .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("ORDER#{order_id}")))
        .expression_attribute_values(":p", AttributeValue::S("PAYMENT#".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

/// GIVEN a stored demo order (869.20 TRY) and a fresh Stripe fake.
async fn given_a_demo_order() -> (&'static Stack, StripeFake, String) {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let order_id = unique_id("ord");
    put_order(stack, &order_id, demo_order_json()).await;
    (stack, fake, order_id)
}

#[tokio::test]
async fn given_a_stored_order_when_the_storefront_asks_then_stripe_gets_the_stored_amount() {
    let (stack, fake, order_id) = given_a_demo_order().await;

    let (status, body) = create_intent(&payments_app(stack, &fake), &order_id).await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["amount"], 86920);
    assert_eq!(body["currency"], "TRY");
    assert!(body["clientSecret"].as_str().unwrap().contains("_secret_"));
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert!(r.authorized, "secret key sent as Bearer");
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.stripe_version.as_deref(), Some("2025-04-30.basil"));
    assert_eq!(r.field("amount"), Some("86920"));
    assert_eq!(r.field("currency"), Some("try"));
    assert_eq!(r.field("automatic_payment_methods[enabled]"), Some("true"));
    assert_eq!(r.field("metadata[order_id]"), Some(order_id.as_str()));
    assert_eq!(
        r.idempotency_key.as_deref(),
        Some(format!("ayaztrade:pi:{order_id}:TRY:86920").as_str())
    );
    // The attempt is recorded on the order and indexed by the intent id.
    let items = attempt_items(stack, &order_id).await;
    assert_eq!(items.len(), 1);
    let pi = body["paymentIntentId"].as_str().unwrap();
    assert_eq!(
        items[0]["gsi1pk"].as_s().unwrap(),
        &format!("REF#stripe#{pi}")
    );
    assert_eq!(items[0]["amount_minor"].as_n().unwrap(), "86920");
    assert!(
        !items.iter().any(|i| i
            .values()
            .any(|v| v.as_s().is_ok_and(|s| s.contains("_secret_")))),
        "the client secret is not stored"
    );
}

#[tokio::test]
async fn the_storefront_cannot_choose_the_amount() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    let resp = payments_app(stack, &fake)
        .handle(http_request(
            "POST",
            "/payments/stripe/intents",
            Some(&json!({"orderId": order_id, "amount": 1})),
        ))
        .await
        .unwrap();
    let (status, body) = response_json(resp);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(fake.requests().len(), 0);
}

#[tokio::test]
async fn a_double_click_yields_the_same_payment_intent() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    let app = payments_app(stack, &fake);

    // Two concurrent clicks, then a late third one.
    let (a, b) = tokio::join!(
        create_intent(&app, &order_id),
        create_intent(&app, &order_id)
    );
    let (_, c) = create_intent(&app, &order_id).await;

    assert_eq!(a.1["paymentIntentId"], b.1["paymentIntentId"]);
    assert_eq!(a.1["paymentIntentId"], c["paymentIntentId"]);
    assert_eq!(a.1["clientSecret"], c["clientSecret"]);
    assert_eq!(fake.intent_count(), 1);
    assert_eq!(attempt_items(stack, &order_id).await.len(), 1);
}

#[tokio::test]
async fn a_changed_total_gets_a_new_intent_and_a_canceled_one_is_replaced() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    let app = payments_app(stack, &fake);
    let (_, first) = create_intent(&app, &order_id).await;

    let mut changed = demo_order_json();
    changed["shipping"] = json!(0);
    changed["total"] = json!(86920 - 4990);
    put_order(stack, &order_id, changed).await;
    let (status, second) = create_intent(&app, &order_id).await;
    assert_eq!(status, 201);
    assert_ne!(first["paymentIntentId"], second["paymentIntentId"]);
    assert_eq!(second["amount"], 86920 - 4990);
    let old = fake
        .intent(first["paymentIntentId"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        old["status"], "canceled",
        "the old total can no longer be paid"
    );

    fake.set_intent_status(second["paymentIntentId"].as_str().unwrap(), "canceled");
    let (status, third) = create_intent(&app, &order_id).await;
    assert_eq!(status, 201, "{third}");
    assert_ne!(third["paymentIntentId"], second["paymentIntentId"]);
    let last_key = fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(
        last_key.idempotency_key.unwrap(),
        format!("ayaztrade:pi:{order_id}:TRY:81930:1")
    );
}

#[tokio::test]
async fn an_intent_that_succeeded_before_its_webhook_arrived_means_paid() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    let app = payments_app(stack, &fake);
    let (_, first) = create_intent(&app, &order_id).await;
    fake.set_intent_status(first["paymentIntentId"].as_str().unwrap(), "succeeded");

    let (status, body) = create_intent(&app, &order_id).await;

    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "order_already_paid");
    assert_eq!(fake.intent_count(), 1);
}

#[tokio::test]
async fn unknown_paid_and_malformed_requests_are_refused_with_json_errors() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);

    let (status, body) = create_intent(&app, &unique_id("missing")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    let order_id = unique_id("ord");
    put_order(stack, &order_id, demo_order_json()).await;
    mark_paid(stack, &order_id).await;
    let (status, body) = create_intent(&app, &order_id).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("order_already_paid"))
    );

    for bad in [
        json!({}),
        json!({"orderId": 42}),
        json!({"orderId": "../etc"}),
        json!([1]),
    ] {
        let resp = app
            .handle(http_request("POST", "/payments/stripe/intents", Some(&bad)))
            .await
            .unwrap();
        let (status, body) = response_json(resp);
        assert_eq!(status, 400, "{bad} → {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }
    let resp = app
        .handle(http_request("GET", "/payments/stripe/intents", None))
        .await
        .unwrap();
    assert_eq!(response_json(resp).0, 404);
    assert_eq!(
        fake.requests().len(),
        0,
        "Stripe is never called for refused requests"
    );
}

#[tokio::test]
async fn amounts_stripe_cannot_express_are_refused_before_calling_stripe() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let order_id = unique_id("ord");
    put_order(
        stack,
        &order_id,
        json!({"currency": "KWD", "customerRef": "c", "lines": [
            {"sku": "a", "name": "a", "quantity": 1, "unitPrice": 5124}]}),
    )
    .await;
    let (status, body) = create_intent(&payments_app(stack, &fake), &order_id).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "amount_not_representable");
    assert_eq!(fake.requests().len(), 0);
}

#[tokio::test]
async fn stripe_errors_come_back_as_json_with_stripe_codes() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    let app = payments_app(stack, &fake);

    // Validation error from Stripe (below its minimum amount).
    let small = unique_id("ord");
    put_order(
        stack,
        &small,
        json!({"currency": "TRY", "customerRef": "c", "lines": [
        {"sku": "a", "name": "a", "quantity": 1, "unitPrice": 10}]}),
    )
    .await;
    let (status, body) = create_intent(&app, &small).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "provider_rejected");
    assert_eq!(body["error"]["providerCode"], "amount_too_small");
    assert!(body["error"]["providerRequestId"]
        .as_str()
        .unwrap()
        .starts_with("req_"));

    // A card error, stored by Stripe's idempotency layer.
    let order_id = unique_id("ord");
    put_order(stack, &order_id, demo_order_json()).await;
    fake.push_fault(Fault::Stored {
        status: 402,
        body: json!({"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "generic_decline", "message": "Your card was declined."}}),
    });
    let (status, body) = create_intent(&app, &order_id).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["code"], "payment_declined");
    assert_eq!(body["error"]["providerCode"], "card_declined");
    assert_eq!(body["error"]["declineCode"], "generic_decline");
    assert_eq!(body["error"]["message"], "Your card was declined.");
    assert!(attempt_items(stack, &order_id).await.is_empty());
}

#[tokio::test]
async fn transient_stripe_failures_are_retried_with_the_same_key() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    fake.push_fault(Fault::Edge {
        status: 503,
        should_retry: None,
    });
    fake.push_fault(Fault::Edge {
        status: 429,
        should_retry: None,
    });

    let (status, body) = create_intent(&payments_app(stack, &fake), &order_id).await;

    assert_eq!(status, 201, "{body}");
    let keys: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.windows(2).all(|w| w[0] == w[1]),
        "same key on every retry: {keys:?}"
    );
    assert_eq!(fake.intent_count(), 1);
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried_and_does_not_duplicate_the_intent() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    // The first attempt executes at Stripe but answers after our timeout;
    // the retry (same key) waits out Stripe's in-flight 409 and gets the replay.
    fake.push_fault(Fault::Delay(Duration::from_millis(700)));
    let settings = ayaztrade::config::HttpSettings {
        attempt_timeout: Duration::from_millis(500),
        initial_backoff: Duration::from_millis(150),
        max_backoff: Duration::from_millis(400),
        max_attempts: 5,
        ..fast_http_settings()
    };
    let app = payments_app_with(stack, &fake, settings);

    let (status, body) = create_intent(&app, &order_id).await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(
        fake.intent_count(),
        1,
        "the retry replayed the first intent"
    );
    assert!(fake.requests().len() >= 2);
}

#[tokio::test]
async fn should_retry_false_stops_retries_and_leaves_no_state() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    fake.push_fault(Fault::Edge {
        status: 500,
        should_retry: Some(false),
    });

    let (status, body) = create_intent(&payments_app(stack, &fake), &order_id).await;

    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "provider_unavailable");
    assert_eq!(fake.requests().len(), 1);
    assert!(
        attempt_items(stack, &order_id).await.is_empty(),
        "no half-written state"
    );
}

#[tokio::test]
async fn a_stored_500_is_indeterminate_and_answers_502_without_state() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    fake.push_fault(Fault::Stored {
        status: 500,
        body: json!({"error": {"type": "api_error", "message": "An unknown error occurred"}}),
    });

    let (status, body) = create_intent(&payments_app(stack, &fake), &order_id).await;

    assert_eq!(status, 502, "{body}");
    // First try, then one replay (which carries Stripe-Should-Retry: false).
    assert_eq!(fake.requests().len(), 2);
    assert!(attempt_items(stack, &order_id).await.is_empty());
}

#[tokio::test]
async fn malformed_and_unreachable_stripe_answer_502() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    fake.push_fault(Fault::Malformed);
    let (status, body) = create_intent(&payments_app(stack, &fake), &order_id).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("provider_unavailable"))
    );

    // Nothing listens on this port: connection refused on every attempt.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = stripe_settings_at(&format!("http://{}", closed.local_addr().unwrap()));
    drop(closed);
    let app = payments_app_for(stack, dead, fast_http_settings());
    let (status, body) = create_intent(&app, &order_id).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("provider_unavailable"))
    );
    assert!(attempt_items(stack, &order_id).await.is_empty());
}

#[tokio::test]
async fn the_lambda_event_fixture_drives_the_function() {
    let stack = stack().await;
    let fake = StripeFake::start().await;
    // events/create-stripe-intent.json pays demo-order-1 (base64 body, as sam generates it).
    let resp = orders_app(stack)
        .handle(lambda_event("put-order"))
        .await
        .unwrap();
    assert!(matches!(response_json(resp).0, 200 | 201));

    // The generated event carries no checkout token: 401, then with one, 201.
    let (status, _) = response_json(
        payments_app(stack, &fake)
            .handle(lambda_event("create-stripe-intent"))
            .await
            .unwrap(),
    );
    assert_eq!(status, 401);
    let mut event = lambda_event("create-stripe-intent");
    event.headers_mut().insert(
        "x-checkout-token",
        checkout_token("demo-order-1").parse().unwrap(),
    );
    let resp = payments_app(stack, &fake).handle(event).await.unwrap();

    assert_eq!(resp.headers()["content-type"], "application/json");
    let (status, body) = response_json(resp);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["amount"], 86920);
    assert_eq!(
        fake.requests()[0].field("metadata[order_id]"),
        Some("demo-order-1")
    );
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let (logs, _guard) = CapturedLogs::start(tracing::Level::TRACE);

    let (stack, fake, order_id) = given_a_demo_order().await;
    fake.push_fault(Fault::Edge {
        status: 503,
        should_retry: None,
    });
    let (status, body) = create_intent(&payments_app(stack, &fake), &order_id).await;
    assert_eq!(status, 201);
    // And an auth failure, whose Stripe message echoes part of the key.
    let wrong_key = ayaztrade::config::StripeSettings {
        secret_key: ayaztrade::config::Secret::new("sk_test_WRONGKEYWRONGKEY"),
        ..stripe_settings(&fake)
    };
    let denied = payments_app_for(stack, wrong_key, fast_http_settings());
    assert_eq!(create_intent(&denied, &order_id).await.0, 502);

    let text = logs.text();
    assert!(
        text.contains("provider call"),
        "the calls were logged: {text}"
    );
    let client_secret = body["clientSecret"].as_str().unwrap();
    for secret in [
        ayaztrade_tests::stripe_fake::TEST_SECRET_KEY,
        "sk_test_WRONGKEYWRONGKEY",
        client_secret,
        "Bearer",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the logs:\n{text}"
        );
    }
}

/// The storefront routes answer only a shopper holding the platform's
/// checkout token for that order: 401 before anything is read.
#[tokio::test]
async fn storefront_routes_need_the_orders_checkout_token() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    let app = payments_app(stack, &fake);
    let other = given_an_order(stack, demo_order_json()).await;
    let body = json!({"orderId": order_id});
    let with = |token: Option<String>| {
        let mut req = http_request("POST", "/payments/stripe/intents", Some(&body));
        req.headers_mut().remove("x-checkout-token");
        if let Some(t) = token {
            req.headers_mut()
                .insert("x-checkout-token", t.parse().unwrap());
        }
        req
    };
    let expired = ayaztrade::api::checkout_token::mint(
        &ayaztrade::config::Secret::new(TEST_CHECKOUT_SECRET),
        &order_id,
        1_000,
    );
    let forged = ayaztrade::api::checkout_token::mint(
        &ayaztrade::config::Secret::new("not-the-secret"),
        &order_id,
        4_000_000_000,
    );
    for token in [
        None,
        Some(checkout_token(&other)),
        Some(expired),
        Some(forged),
    ] {
        let (status, resp) = response_json(app.handle(with(token.clone())).await.unwrap());
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (401, Some("checkout_token_invalid")),
            "{token:?}"
        );
    }
    assert!(fake.requests().is_empty(), "nothing reached Stripe");
    assert!(attempt_items(stack, &order_id).await.is_empty());
    let (status, _) = response_json(
        app.handle(with(Some(checkout_token(&order_id))))
            .await
            .unwrap(),
    );
    assert_eq!(status, 201);
}

#[tokio::test]
async fn an_order_keeps_a_bounded_number_of_attempts() {
    let (stack, fake, order_id) = given_a_demo_order().await;
    let app = payments_app(stack, &fake);
    // Each canceled intent is replaced by a new one: until the bound.
    let mut last = 0;
    for i in 0..ayaztrade::domain::payment::MAX_ATTEMPTS + 1 {
        let (status, body) = create_intent(&app, &order_id).await;
        last = status;
        if status != 201 {
            assert_eq!(
                (i, body["error"]["code"].as_str()),
                (
                    ayaztrade::domain::payment::MAX_ATTEMPTS,
                    Some("too_many_attempts")
                ),
                "{body}"
            );
            break;
        }
        fake.set_intent_status(body["paymentIntentId"].as_str().unwrap(), "canceled");
    }
    assert_eq!(last, 409);
    assert_eq!(
        attempt_items(stack, &order_id).await.len(),
        ayaztrade::domain::payment::MAX_ATTEMPTS
    );
}
