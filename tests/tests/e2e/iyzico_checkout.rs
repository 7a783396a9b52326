//! `POST /payments/iyzico/checkout` against moto and the iyzico fake.

use ayaztrade::apps::payments::Iyzico;
use ayaztrade::config::{IyzicoSettings, Secret};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade::providers::iyzico::client::IyzicoClient;
use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::iyzico_fake::{IyzicoFake, API_KEY, SECRET_KEY};
use ayaztrade_tests::local_stack::{stack, unique_id, Stack};
use ayaztrade_tests::stripe_fake::StripeFake;
use serde_json::{json, Value};

async fn app(
    stack: &Stack,
    iyzico: &IyzicoFake,
    secret: &str,
) -> ayaztrade::apps::payments::App<ayaztrade::aws::dynamo::DynamoStore> {
    let stripe = StripeFake::start().await;
    let client = IyzicoClient::new(
        HttpLayer::new(fast_http_settings()),
        IyzicoSettings {
            api_base: iyzico.base_url.clone(),
            api_key: API_KEY.into(),
            secret_key: Secret::new(secret),
            callback_url: Some("https://shop.example.com.tr/odeme/iyzico/donus".into()),
            rate_limit_per_second: 100,
        },
    );
    payments_app(stack, &stripe).with_iyzico(Some(Iyzico {
        client,
        result_url: Some("https://shop.example.com.tr/odeme/sonuc".into()),
    }))
}

fn buyer() -> Value {
    json!({"name": "Ayşe", "surname": "Yılmaz", "identityNumber": "11111111111",
           "email": "ayse@example.com.tr", "gsmNumber": "+905551234567",
           "address": "Bağdat Caddesi No: 123, Kadıköy", "city": "İstanbul", "country": "Turkey"})
}

async fn start(
    app: &ayaztrade::apps::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
    body: Value,
) -> (u16, Value) {
    post_payments(app, "/payments/iyzico/checkout", &body).await
}

#[tokio::test]
async fn a_checkout_is_started_with_a_basket_that_sums_to_the_price() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    // Three equal lines and a discount that does not divide evenly by three.
    let order_id = given_an_order(
        stack,
        json!({"currency": "TRY", "customerRef": "cust-7", "lines": [
        {"sku": "A", "name": "Kalem", "quantity": 1, "unitPrice": 1000},
        {"sku": "B", "name": "Defter", "quantity": 1, "unitPrice": 1000},
        {"sku": "C", "name": "Silgi", "quantity": 1, "unitPrice": 1000}],
        "discounts": [{"amount": 100}], "shipping": 2990}),
    )
    .await;

    let (status, body) = start(
        &app(stack, &iyzico, SECRET_KEY).await,
        json!({"orderId": order_id, "buyer": buyer()}),
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(body["amount"], 5890);
    assert!(body["paymentPageUrl"]
        .as_str()
        .unwrap()
        .contains(body["token"].as_str().unwrap()));
    let sent = &iyzico.requests()[0];
    assert_eq!(sent["price"], "58.9");
    assert_eq!(sent["paidPrice"], "58.9");
    assert_eq!(sent["conversationId"], order_id.as_str());
    // The request context's sourceIp, as the events/ fixture carries it.
    assert_eq!(sent["buyer"]["ip"], "192.168.0.1/32");
    let prices: Vec<&str> = sent["basketItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["price"].as_str().unwrap())
        .collect();
    assert_eq!(prices, ["9.66", "9.67", "9.67", "29.9"]);
}

#[tokio::test]
async fn bad_credentials_and_bad_buyers_are_clear_errors() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let order_id = given_an_order(stack, demo_order_json()).await;

    let (status, body) = start(
        &app(stack, &iyzico, "wrong-secret").await,
        json!({"orderId": order_id, "buyer": buyer()}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("provider_auth_failed")),
        "{body}"
    );
    assert_eq!(body["error"]["providerCode"], "1000");

    let mut bad = buyer();
    bad["identityNumber"] = json!("123");
    bad["gsmNumber"] = json!("");
    let (status, body) = start(
        &app(stack, &iyzico, SECRET_KEY).await,
        json!({"orderId": order_id, "buyer": bad}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_fields(&body),
        ["buyer.identityNumber", "buyer.gsmNumber"]
    );

    let (status, _) = start(
        &app(stack, &iyzico, SECRET_KEY).await,
        json!({"orderId": order_id, "buyer": buyer(), "cardNumber": "4111"}),
    )
    .await;
    assert_eq!(status, 400, "card data is refused outright");
    assert!(iyzico.requests().is_empty());
}

/// The shopper's browser posting iyzico's form back to us.
fn callback_request(token: &str) -> lambda_http::Request {
    let text = std::fs::read_to_string(
        ayaztrade_tests::local_stack::workspace_root().join("events/create-stripe-intent.json"),
    )
    .unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["rawPath"] = json!("/payments/iyzico/callback");
    event["requestContext"]["http"]["path"] = json!("/payments/iyzico/callback");
    event["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
    event["body"] = json!(format!("token={token}"));
    event["isBase64Encoded"] = json!(false);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn order_status(stack: &Stack, order_id: &str) -> Value {
    let resp = orders_app(stack)
        .handle(http_request("GET", &format!("/orders/{order_id}"), None))
        .await
        .unwrap();
    response_json(resp).1["paymentStatus"].clone()
}

#[tokio::test]
async fn the_callback_verifies_with_iyzico_marks_paid_redirects_and_the_webhook_is_then_a_duplicate(
) {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let order_id = given_an_order(stack, demo_order_json()).await;
    let (_, started) = start(&app, json!({"orderId": order_id, "buyer": buyer()})).await;
    let token = started["token"].as_str().unwrap().to_string();

    // Before the shopper finished, the callback changes nothing.
    let resp = app.handle(callback_request(&token)).await.unwrap();
    assert_eq!(resp.status(), 303);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with(&format!("?orderId={order_id}&result=pending")));
    assert_eq!(order_status(stack, &order_id).await, "unpaid");

    let payment_id = iyzico.finish_checkout(&token, "SUCCESS");
    let resp = app.handle(callback_request(&token)).await.unwrap();
    assert_eq!(resp.status(), 303);
    // iyzico echoes the retrieve request's conversationId (its official
    // samples set it on the retrieve, iyzipay-node samples/IyzipaySamples.js):
    // we send the order id our record of the token names.
    let retrieves = iyzico.retrieve_requests();
    assert!(!retrieves.is_empty());
    assert!(retrieves
        .iter()
        .all(|r| r["conversationId"] == json!(order_id) && r["token"] == json!(token)));
    assert_eq!(
        resp.headers()["location"],
        format!("https://shop.example.com.tr/odeme/sonuc?orderId={order_id}&result=success")
            .as_str()
    );
    assert_eq!(order_status(stack, &order_id).await, "paid");

    // iyzico's notification for the same payment arrives afterwards: same identity.
    let h = ayaztrade_tests::webhook_support::webhook_harness(stack);
    let notice = serde_json::to_vec(&json!({
        "paymentConversationId": order_id, "merchantId": 3398, "token": token,
        "iyziPaymentId": payment_id.parse::<u64>().unwrap(), "status": "SUCCESS",
        "iyziReferenceCode": "ref-1", "iyziEventType": "CHECKOUT_FORM_AUTH", "iyziEventTime": 1795700000000i64
    }))
    .unwrap();
    let sig = ayaztrade_tests::webhook_support::iyzico_signature(
        &notice,
        ayaztrade_tests::webhook_support::IYZICO_SECRET,
    );
    let req = ayaztrade_tests::webhook_support::function_url_request(
        "POST",
        "/webhooks/iyzico",
        &[("x-iyz-signature-v3", &sig)],
        &notice,
        false,
    );
    let (status, resp) = response_json(h.app.handle(req).await.unwrap());
    assert_eq!(
        (status, resp["duplicate"].as_bool()),
        (200, Some(true)),
        "{resp}"
    );
    assert!(h.publisher.published.lock().unwrap().is_empty());
}

/// GIVEN a demo order whose shopper finished iyzico's checkout successfully.
async fn given_a_finished_checkout(
    stack: &Stack,
    iyzico: &IyzicoFake,
    app: &ayaztrade::apps::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
) -> (String, String) {
    let order_id = given_an_order(stack, demo_order_json()).await;
    let (_, started) = start(app, json!({"orderId": order_id, "buyer": buyer()})).await;
    let token = started["token"].as_str().unwrap().to_string();
    iyzico.finish_checkout(&token, "SUCCESS");
    (order_id, token)
}

#[tokio::test]
async fn an_unverifiable_result_changes_nothing() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let (order_id, token) = given_a_finished_checkout(stack, &iyzico, &app).await;
    let token = token.as_str();
    iyzico.corrupt_signatures();

    let (status, body) = response_json(app.handle(callback_request(token)).await.unwrap());

    assert_eq!(status, 502, "{body}");
    assert_eq!(order_status(stack, &order_id).await, "unpaid");
    let (status, _) = response_json(app.handle(callback_request("not a token!")).await.unwrap());
    assert_eq!(status, 400);
}

#[tokio::test]
async fn iyzico_refunds_are_exact_and_a_repeated_request_refunds_once() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let (order_id, token) = given_a_finished_checkout(stack, &iyzico, &app).await;
    assert_eq!(
        app.handle(callback_request(&token)).await.unwrap().status(),
        303
    );

    let refund = |body: Value| {
        let app = &app;
        async move { post_payments(app, "/payments/iyzico/refunds", &body).await }
    };
    let first = unique_id("iy");
    let (status, body) =
        refund(json!({"orderId": order_id, "amount": 20050, "requestId": first})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["remaining"], 86920 - 20050);
    // A retry answers the first answer, without calling iyzico again.
    let (again_status, again) =
        refund(json!({"orderId": order_id, "amount": 20050, "requestId": first})).await;
    assert_eq!((again_status, &again), (201, &body));
    assert_eq!(iyzico.refunded_total(), 20050, "refunded once at iyzico");
    // The same requestId with another amount moves nothing.
    let (status, body) =
        refund(json!({"orderId": order_id, "amount": 100, "requestId": first})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{body}"
    );
    // Without a requestId: refused before anything is read.
    let (status, body) = refund(json!({"orderId": order_id, "amount": 100})).await;
    assert_eq!(
        (status, body["error"]["fields"][0]["field"].as_str()),
        (400, Some("requestId"))
    );

    let (status, body) =
        refund(json!({"orderId": order_id, "amount": 66871, "requestId": unique_id("iy")})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("refund_exceeds_remaining"))
    );
    let (status, body) = refund(json!({"orderId": order_id, "requestId": unique_id("iy")})).await;
    assert_eq!(
        (status, body["paymentStatus"].as_str()),
        (201, Some("refunded")),
        "{body}"
    );
    assert_eq!(iyzico.refunded_total(), 86920);
    assert_eq!(order_status(stack, &order_id).await, "refunded");
    let conversation_ids: Vec<Value> = iyzico
        .requests()
        .iter()
        .filter(|r| r.get("price").is_some() && r.get("paymentId").is_some())
        .map(|r| r["conversationId"].clone())
        .collect();
    assert_eq!(
        conversation_ids[0],
        json!(first),
        "the refund names its request"
    );
}

#[tokio::test]
async fn a_same_day_cancel_is_a_full_refund_made_once() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let (order_id, token) = given_a_finished_checkout(stack, &iyzico, &app).await;
    assert_eq!(
        app.handle(callback_request(&token)).await.unwrap().status(),
        303
    );

    let cancel = json!({"orderId": order_id, "requestId": unique_id("cancel")});
    let (status, body) = post_payments(&app, "/payments/iyzico/cancel", &cancel).await;
    assert_eq!(status, 201, "{body}");
    let repeat = post_payments(&app, "/payments/iyzico/cancel", &cancel).await;
    assert_eq!(
        repeat,
        (status, body.clone()),
        "a repeat answers the first answer"
    );
    assert_eq!(
        (body["refundedTotal"].as_i64(), body["remaining"].as_i64()),
        (Some(86920), Some(0))
    );
    assert_eq!(order_status(stack, &order_id).await, "refunded");

    let (status, body) = post_payments(
        &app,
        "/payments/iyzico/cancel",
        &json!({"orderId": order_id, "requestId": unique_id("cancel")}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("nothing_to_refund")),
        "{body}"
    );
    assert_eq!(
        iyzico.refunded_total(),
        0,
        "a cancel is not a refund at iyzico"
    );
}

#[tokio::test]
async fn a_lost_refund_answer_is_read_back_from_iyzico_not_sent_again() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let (order_id, token) = given_a_finished_checkout(stack, &iyzico, &app).await;
    assert_eq!(
        app.handle(callback_request(&token)).await.unwrap().status(),
        303
    );
    let body = json!({"orderId": order_id, "amount": 10000, "requestId": unique_id("iy")});
    // iyzico refunds, but its answer never reaches us.
    iyzico.lose_next_answers(1);
    let (status, first) = post_payments(&app, "/payments/iyzico/refunds", &body).await;
    assert_eq!(status, 502, "{first}");
    assert_eq!(iyzico.refunded_total(), 10000);
    assert_eq!(order_status(stack, &order_id).await, "paid");
    // Another refund of the order waits for this one to be settled.
    let other = json!({"orderId": order_id, "amount": 100, "requestId": unique_id("iy")});
    let (status, busy) = post_payments(&app, "/payments/iyzico/refunds", &other).await;
    assert_eq!(
        (status, busy["error"]["code"].as_str()),
        (409, Some("refund_in_progress")),
        "{busy}"
    );
    // The retry asks iyzico's reporting, finds the refund, and records it.
    let (status, done) = post_payments(&app, "/payments/iyzico/refunds", &body).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["refundedTotal"], 10000);
    assert_eq!(iyzico.refunded_total(), 10000, "refunded once at iyzico");
    assert_eq!(order_status(stack, &order_id).await, "partially_refunded");
    // Now the other refund goes through.
    let (status, _) = post_payments(&app, "/payments/iyzico/refunds", &other).await;
    assert_eq!(status, 201);
    assert_eq!(iyzico.refunded_total(), 10100);
}

#[tokio::test]
async fn a_lost_cancel_answer_is_read_back_too() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let (order_id, token) = given_a_finished_checkout(stack, &iyzico, &app).await;
    app.handle(callback_request(&token)).await.unwrap();
    let cancel = json!({"orderId": order_id, "requestId": unique_id("cancel")});
    iyzico.lose_next_answers(1);
    let (status, _) = post_payments(&app, "/payments/iyzico/cancel", &cancel).await;
    assert_eq!(status, 502);
    let (status, body) = post_payments(&app, "/payments/iyzico/cancel", &cancel).await;
    assert_eq!(
        (status, body["paymentStatus"].as_str()),
        (201, Some("refunded")),
        "{body}"
    );
    // Only one cancel reached iyzico: a second would have been refused (5093).
    let cancels = iyzico
        .requests()
        .iter()
        .filter(|r| r.get("reason").is_some())
        .count();
    assert_eq!(cancels, 1);
}

/// GIVEN a shopper who paid an older, cheaper hosted-checkout form after the
/// platform changed the unpaid order, and closed the tab: iyzico's signed
/// notice for that payment (which carries no amount).
async fn an_old_form_paid(
    stack: &Stack,
    iyzico: &IyzicoFake,
) -> (String, String, lambda_http::Request) {
    let app = app(stack, iyzico, SECRET_KEY).await;
    let order_id = given_an_order(stack, demo_order_json()).await;
    let (_, started) = start(&app, json!({"orderId": order_id, "buyer": buyer()})).await;
    let old_token = started["token"].as_str().unwrap().to_string();
    // The platform adds a line: the total grows.
    let mut bigger = demo_order_json();
    bigger.as_object_mut().unwrap().remove("total");
    bigger["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"sku": "EXTRA", "name": "Extra", "quantity": 1, "unitPrice": 150000}));
    put_order(stack, &order_id, bigger).await;
    let payment_id = iyzico.finish_checkout(&old_token, "SUCCESS");
    let notice = serde_json::to_vec(&json!({
        "paymentConversationId": order_id, "merchantId": 3398, "token": old_token,
        "iyziPaymentId": payment_id.parse::<u64>().unwrap(), "status": "SUCCESS",
        "iyziReferenceCode": unique_id("ref"), "iyziEventType": "CHECKOUT_FORM_AUTH",
        "iyziEventTime": 1795700000000i64
    }))
    .unwrap();
    let sig = ayaztrade_tests::webhook_support::iyzico_signature(
        &notice,
        ayaztrade_tests::webhook_support::IYZICO_SECRET,
    );
    let req = ayaztrade_tests::webhook_support::function_url_request(
        "POST",
        "/webhooks/iyzico",
        &[("x-iyz-signature-v3", &sig)],
        &notice,
        false,
    );
    (order_id, payment_id, req)
}

/// The old, cheaper form's payment must not mark the order paid.
#[tokio::test]
async fn an_old_cheaper_form_paid_after_the_order_changed_does_not_mark_it_paid() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let (order_id, payment_id, req) = an_old_form_paid(stack, &iyzico).await;
    let h = ayaztrade_tests::webhook_support::webhook_harness(stack);
    let (status, resp) = response_json(h.app.handle(req).await.unwrap());
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("amount_mismatch")),
        "{resp}"
    );
    assert_eq!(order_status(stack, &order_id).await, "unpaid");
    let published = h.publisher.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    let error = serde_json::to_value(&published[0]).unwrap();
    assert_eq!(published[0].detail_type.as_str(), "integration.error");
    assert_eq!(error["action"], "refund_required");
    assert_eq!(error["received"]["minor"], 86920);
    assert_eq!(error["providerRef"], json!(payment_id));
    assert_eq!(iyzico.refunded_total(), 0, "the setting is off by default");
}

/// With `AUTO_REFUND_UNWANTED_PAYMENTS` on, that payment is given back in
/// full at iyzico, once, and the order stays unpaid.
#[tokio::test]
async fn with_the_setting_on_the_old_forms_payment_is_refunded_automatically() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let (order_id, payment_id, req) = an_old_form_paid(stack, &iyzico).await;
    let h = ayaztrade_tests::webhook_support::webhook_harness(stack);
    let client = IyzicoClient::new(
        HttpLayer::new(fast_http_settings()),
        IyzicoSettings {
            api_base: iyzico.base_url.clone(),
            api_key: API_KEY.into(),
            secret_key: Secret::new(SECRET_KEY),
            callback_url: None,
            rate_limit_per_second: 100,
        },
    );
    let webhooks = h
        .app
        .with_auto_refund(Some(ayaztrade::apps::webhook::AutoRefundClients {
            stripe: None,
            iyzico: Some(client),
        }));
    let (status, resp) = response_json(webhooks.handle(req).await.unwrap());
    assert_eq!(
        (status, resp["outcome"].as_str()),
        (200, Some("amount_mismatch")),
        "{resp}"
    );
    assert_eq!(
        iyzico.refunded_total(),
        86920,
        "the whole payment went back"
    );
    assert_eq!(order_status(stack, &order_id).await, "unpaid");
    let refund = iyzico
        .requests()
        .into_iter()
        .find(|r| r.get("paymentId") == Some(&json!(payment_id)))
        .unwrap();
    assert_eq!(
        refund["conversationId"],
        json!(format!("auto-iyzico-{payment_id}"))
    );
    let types: Vec<_> = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.detail_type.as_str())
        .collect();
    assert_eq!(types, ["integration.error", "payment.refunded"]);
}

#[tokio::test]
async fn an_unchanged_order_and_shopper_get_the_open_form_again() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let order_id = given_an_order(stack, demo_order_json()).await;
    let body = json!({"orderId": order_id, "buyer": buyer()});
    let (status, first) = start(&app, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = start(&app, body.clone()).await;
    assert_eq!((status, &again), (201, &first), "the same open form");
    let initializations = |f: &IyzicoFake| {
        f.requests()
            .iter()
            .filter(|r| r.get("basketItems").is_some())
            .count()
    };
    assert_eq!(initializations(&iyzico), 1);
    // Other shopper details: a new form.
    let mut moved = body.clone();
    moved["buyer"]["city"] = json!("Ankara");
    let (status, other) = start(&app, moved).await;
    assert_eq!(status, 201);
    assert_ne!(other["token"], first["token"]);
    assert_eq!(initializations(&iyzico), 2);
}

/// iyzico failed before acting, and our retry comes at once: its report
/// shows no refund, but it may lag one still being processed, so nothing
/// is sent again until the request is old enough (docs/iyzico-wire.md).
#[tokio::test]
async fn a_refund_not_shown_yet_is_not_sent_again_at_once() {
    let stack = stack().await;
    let iyzico = IyzicoFake::start().await;
    let app = app(stack, &iyzico, SECRET_KEY).await;
    let (order_id, token) = given_a_finished_checkout(stack, &iyzico, &app).await;
    app.handle(callback_request(&token)).await.unwrap();
    let body = json!({"orderId": order_id, "amount": 5000, "requestId": unique_id("iy")});
    iyzico.fail_next_before_acting(1);
    let (status, _) = post_payments(&app, "/payments/iyzico/refunds", &body).await;
    assert_eq!(status, 502);
    let (status, pending) = post_payments(&app, "/payments/iyzico/refunds", &body).await;
    assert_eq!(
        (status, pending["error"]["code"].as_str()),
        (409, Some("refund_outcome_pending")),
        "{pending}"
    );
    let refunds = iyzico
        .requests()
        .iter()
        .filter(|r| r.get("price").is_some() && r.get("paymentId").is_some())
        .count();
    assert_eq!(refunds, 1, "sent once");
    assert_eq!(iyzico.refunded_total(), 0);
    assert_eq!(order_status(stack, &order_id).await, "paid");
}
