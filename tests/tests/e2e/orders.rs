//! `PUT /orders/{orderId}` and `GET /orders/{orderId}` against moto.

use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::local_stack::{stack, unique_id};
use serde_json::json;

async fn put(order_id: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let resp = orders_app(stack().await)
        .handle(http_request(
            "PUT",
            &format!("/orders/{order_id}"),
            Some(body),
        ))
        .await
        .unwrap();
    response_json(resp)
}

#[tokio::test]
async fn given_a_new_order_when_put_then_totals_are_ours_and_it_reads_back() {
    let order_id = unique_id("ord");
    let (status, body) = put(&order_id, &demo_order_json()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["total"], 86920);
    assert_eq!(body["totalFormatted"], "869.20");
    assert_eq!(body["subtotal"], 86930);
    assert_eq!(body["paymentStatus"], "unpaid");
    assert_eq!(body["version"], 1);

    let resp = orders_app(stack().await)
        .handle(http_request("GET", &format!("/orders/{order_id}"), None))
        .await
        .unwrap();
    let (status, read) = response_json(resp);
    assert_eq!(status, 200);
    assert_eq!(read, body);
}

#[tokio::test]
async fn repeating_the_same_put_is_harmless() {
    let order_id = unique_id("ord");
    let (first, _) = put(&order_id, &demo_order_json()).await;
    let (second, body) = put(&order_id, &demo_order_json()).await;
    assert_eq!((first, second), (201, 200));
    assert_eq!(body["version"], 1, "nothing was rewritten");
}

#[tokio::test]
async fn a_changed_unpaid_order_is_updated_with_a_new_version() {
    let order_id = unique_id("ord");
    put(&order_id, &demo_order_json()).await;
    let mut changed = demo_order_json();
    changed["lines"][1]["quantity"] = json!(2);
    changed.as_object_mut().unwrap().remove("total");
    let (status, body) = put(&order_id, &changed).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["total"], 86920 + 18950);
}

#[tokio::test]
async fn a_paid_order_cannot_change_but_the_same_put_still_succeeds() {
    let stack = stack().await;
    let order_id = unique_id("ord");
    put(&order_id, &demo_order_json()).await;
    mark_paid(stack, &order_id).await;

    let mut changed = demo_order_json();
    changed["shipping"] = json!(0);
    changed.as_object_mut().unwrap().remove("total");
    let (status, body) = put(&order_id, &changed).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "order_already_paid");

    let (status, body) = put(&order_id, &demo_order_json()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["paymentStatus"], "paid");
    assert_eq!(body["shipping"], 4990, "the paid order is unchanged");
}

#[tokio::test]
async fn invalid_orders_get_per_field_messages_and_are_not_stored() {
    let order_id = unique_id("ord");
    let (status, body) = put(
        &order_id,
        &json!({"currency": "TRY", "customerRef": "c", "lines": [
            {"sku": "a", "name": "a", "quantity": 1, "unitPrice": 149.90}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["fields"][0]["field"], "lines[0].unitPrice");

    let (status, body) = put(
        &order_id,
        &json!({"currency": "TRX", "customerRef": "", "lines": [], "total": 5}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_fields(&body),
        ["currency", "customerRef", "lines", "total"]
    );

    let (status, _) = put("bad!id", &demo_order_json()).await;
    assert_eq!(status, 400);
    let resp = orders_app(stack().await)
        .handle(http_request("GET", &format!("/orders/{order_id}"), None))
        .await
        .unwrap();
    assert_eq!(response_json(resp).0, 404, "nothing was stored");
}
