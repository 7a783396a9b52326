//! `POST /payments/iyzico/checkout` against moto and the iyzico fake.

use ayaztrade::config::{IyzicoSettings, Secret};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade::providers::iyzico::client::IyzicoClient;
use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::iyzico_fake::{IyzicoFake, API_KEY, SECRET_KEY};
use ayaztrade_tests::local_stack::{stack, Stack};
use ayaztrade_tests::stripe_fake::StripeFake;
use serde_json::{json, Value};

async fn app(
    stack: &Stack,
    iyzico: &IyzicoFake,
    secret: &str,
) -> ayaztrade::payments::App<ayaztrade::aws::dynamo::DynamoStore> {
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
    payments_app(stack, &stripe).with_iyzico(Some(client))
}

fn buyer() -> Value {
    json!({"name": "Ayşe", "surname": "Yılmaz", "identityNumber": "11111111111",
           "email": "ayse@example.com.tr", "gsmNumber": "+905551234567",
           "address": "Bağdat Caddesi No: 123, Kadıköy", "city": "İstanbul", "country": "Turkey"})
}

async fn start(
    app: &ayaztrade::payments::App<ayaztrade::aws::dynamo::DynamoStore>,
    body: Value,
) -> (u16, Value) {
    response_json(
        app.handle(http_request(
            "POST",
            "/payments/iyzico/checkout",
            Some(&body),
        ))
        .await
        .unwrap(),
    )
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
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["buyer.identityNumber", "buyer.gsmNumber"]);

    let (status, _) = start(
        &app(stack, &iyzico, SECRET_KEY).await,
        json!({"orderId": order_id, "buyer": buyer(), "cardNumber": "4111"}),
    )
    .await;
    assert_eq!(status, 400, "card data is refused outright");
    assert!(iyzico.requests().is_empty());
}
