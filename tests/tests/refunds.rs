//! `POST /payments/stripe/refunds`: against moto and the Stripe fake, for an
//! order paid through the real path (intent, then the signed webhook).

use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::local_stack::stack;
use ayaztrade_tests::stripe_fake::StripeFake;
use ayaztrade_tests::webhook_support::*;
use serde_json::{json, Value};

async fn refund(
    app: &ayaztrade::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
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
    let (status, body) = refund(&app, json!({"orderId": order_id})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("order_not_paid"))
    );

    // Pay: the intent succeeds at Stripe and its webhook arrives.
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
    let pi = created["paymentIntentId"].as_str().unwrap();
    fake.set_intent_status(pi, "succeeded");
    let h = webhook_harness(stack);
    let paid = stripe_succeeded(&evt_id(), pi, &order_id, 86920);
    let req = function_url_request(
        "POST",
        "/webhooks/stripe",
        &[(
            "stripe-signature",
            &stripe_signature(&paid, STRIPE_SECRET, now_unix()),
        )],
        &paid,
        false,
    );
    assert_eq!(
        response_json(h.app.handle(req).await.unwrap()).1["outcome"],
        "applied"
    );

    let (status, body) = refund(&app, json!({"orderId": order_id, "amount": 20000})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["refundedTotal"].as_i64(), body["remaining"].as_i64()),
        (Some(20000), Some(66920))
    );
    assert_eq!(body["paymentStatus"], "partially_refunded");

    let (status, body) = refund(&app, json!({"orderId": order_id, "amount": 66921})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("refund_exceeds_remaining")),
        "{body}"
    );

    let (status, body) = refund(&app, json!({"orderId": order_id})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["amount"].as_i64(), body["paymentStatus"].as_str()),
        (Some(66920), Some("refunded"))
    );
    assert_eq!(fake.refund_count(), 2);

    // Stripe's charge.refunded webhook for the same cumulative total changes nothing.
    let webhook = stripe_refunded(&evt_id(), pi, 86920, 86920);
    let req = function_url_request(
        "POST",
        "/webhooks/stripe",
        &[(
            "stripe-signature",
            &stripe_signature(&webhook, STRIPE_SECRET, now_unix()),
        )],
        &webhook,
        false,
    );
    assert_eq!(
        response_json(h.app.handle(req).await.unwrap()).1["outcome"],
        "stale"
    );

    let (status, body) = refund(&app, json!({"orderId": order_id})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("nothing_to_refund"))
    );
    let (status, _) = refund(&app, json!({"orderId": order_id, "amount": -5})).await;
    assert_eq!(status, 400);
}
