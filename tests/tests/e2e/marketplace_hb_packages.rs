//! Hepsiburada packaging of lines (issue 13 item 4; docs/marketplace-wire.md
//! H13) through `marketplace-orders`, against the Hepsiburada fake: one
//! package however often asked or whatever answer is lost (read back from
//! the package list), the package number on the order's lines, refused
//! with Hepsiburada's message, nothing sent for a bad request — counted on
//! what the fake executed; then the invoice link and the Aras tracking
//! push use that package number.

use ayaztrade_tests::aras_fake::{ArasFake, FakeStatus};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::{http_request, response_json};
use ayaztrade_tests::hepsiburada_fake::{EndpointKind, Fault};
use serde_json::{json, Value};

async fn call(h: &CatalogHarness, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let app = h.marketplace_orders(&[]);
    response_json(
        app.handle(http_request(method, path, body.as_ref()))
            .await
            .unwrap(),
    )
}

fn fields(answer: &Value) -> Vec<String> {
    answer["error"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn line_of(view: &Value, id: &str) -> Value {
    view["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lineId"] == id)
        .unwrap_or_else(|| panic!("line {id} in {view}"))
        .clone()
}

#[tokio::test]
async fn hepsiburada_lines_are_packed_once_whatever_answer_is_lost() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[
        product_json("PK-1", 5, 10_000),
        product_json("PK-2", 5, 10_000),
    ])
    .await;
    let order = h
        .hepsiburada
        .add_order_lines(&[("PK-1", 2, 100.0), ("PK-2", 1, 50.0)]);
    let number = order.order_number.clone();
    let (line_1, line_2) = (order.line_id("PK-1"), order.line_id("PK-2"));
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    assert_eq!((h.stock("PK-1").await, h.stock("PK-2").await), (3, 4));
    let path = format!("/marketplace-orders/hepsiburada/{number}/packages");

    // Bad bodies name each field; unknown order, Trendyol: 404. Nothing
    // reaches Hepsiburada.
    for (body, expected) in [
        (json!({}), vec!["lines"]),
        (
            json!({"lines": [{"lineId": "no-such-line", "quantity": 1},
                             {"lineId": line_1, "quantity": 3},
                             {"lineId": line_2, "quantity": 1, "note": "x"}],
                   "parcelQuantity": 0, "deci": -1}),
            vec![
                "lines[0].lineId",
                "lines[1].quantity",
                "lines[2].note",
                "parcelQuantity",
                "deci",
            ],
        ),
        // Whole lines only (part of a line: UNCONFIRMED at Hepsiburada).
        (
            json!({"lines": [{"lineId": line_1, "quantity": 1}]}),
            vec!["lines[0].quantity"],
        ),
    ] {
        let (status, answer) = call(&h, "POST", &path, Some(body.clone())).await;
        assert_eq!(
            (status, fields(&answer)),
            (
                400,
                expected.iter().map(|f| f.to_string()).collect::<Vec<_>>()
            ),
            "{body}: {answer}"
        );
    }
    let (status, answer) = call(
        &h,
        "POST",
        &path,
        Some(json!({"lines": [{"lineId": line_2, "quantity": 1}], "barcode": "1"})),
    )
    .await;
    assert_eq!(status, 400, "unknown field: {answer}");
    let good = json!({"lines": [{"lineId": line_1, "quantity": 2}, {"lineId": line_2, "quantity": 1}],
                      "parcelQuantity": 1, "deci": 2.5});
    for unknown in [
        "/marketplace-orders/hepsiburada/404404/packages".to_string(),
        format!("/marketplace-orders/trendyol/{number}/packages"),
    ] {
        let (status, answer) = call(&h, "POST", &unknown, Some(good.clone())).await;
        assert_eq!(status, 404, "{unknown}: {answer}");
    }
    assert_eq!(
        (
            h.hepsiburada.create_package_request_count(),
            h.hepsiburada.package_list_request_count()
        ),
        (0, 0),
        "nothing sent"
    );

    // Refused (the line cancelled at Hepsiburada meanwhile): 409 with
    // Hepsiburada's message, recorded, nothing changed.
    h.hepsiburada.update_line_status(&line_1, "Cancelled");
    let one = json!({"lines": [{"lineId": line_1, "quantity": 2}]});
    let (status, refused) = call(&h, "POST", &path, Some(one)).await;
    h.hepsiburada.update_line_status(&line_1, "Open");
    assert_eq!(status, 409, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("cannot be packed"), "{message}");
    assert!(message.contains("not packed"), "its state named: {message}");
    assert!(h.hepsiburada.created_packages().is_empty());
    assert_eq!(h.hepsiburada.create_package_request_count(), 1);

    // Made at Hepsiburada, the answer lost (504, never repeated blind):
    // read back from the package list — one package, its number answered.
    h.hepsiburada.set_faults_hit(EndpointKind::Orders, false);
    h.hepsiburada.set_faults_hit(EndpointKind::Tracking, false);
    h.hepsiburada.push_fault(Fault::LostAnswer(504));
    let (status, view) = call(&h, "POST", &path, Some(good.clone())).await;
    assert_eq!(status, 200, "{view}");
    let made = h.hepsiburada.created_packages();
    assert_eq!(made.len(), 1, "executed once");
    let package = made[0].clone();
    assert_eq!(h.hepsiburada.create_package_request_count(), 2);
    let mut items = h.hepsiburada.package_items(&package);
    items.sort();
    let mut expected = vec![(line_1.clone(), 2), (line_2.clone(), 1)];
    expected.sort();
    assert_eq!(items, expected);
    for id in [&line_1, &line_2] {
        let line = line_of(&view, id);
        assert_eq!(line["status"], "packaged", "{line}");
        assert_eq!(line["details"]["packageNumber"], package.as_str(), "{line}");
        assert_eq!(line["stock"], "taken", "{line}");
    }
    let last = view["sellerActions"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (&last["action"], &last["outcome"], &last["packageId"]),
        (&json!("package_lines"), &json!("done"), &json!(package)),
        "{view}"
    );
    assert_eq!(
        last["detail"],
        format!("{line_1}×2,{line_2}×1"),
        "the lines as asked"
    );

    // The same request again, and the same lines named the other way
    // round: read first (our record alone cannot know of an unpack in
    // Hepsiburada's panel), found there — nothing sent.
    let reads = h.hepsiburada.package_list_request_count();
    let (status, _) = call(&h, "POST", &path, Some(good.clone())).await;
    assert_eq!(status, 200);
    assert!(h.hepsiburada.package_list_request_count() > reads);
    let swapped =
        json!({"lines": [{"lineId": line_2, "quantity": 1}, {"lineId": line_1, "quantity": 2}]});
    let (status, view) = call(&h, "POST", &path, Some(swapped)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(h.hepsiburada.create_package_request_count(), 2);
    assert_eq!(h.hepsiburada.created_packages().len(), 1);
    let outcomes: Vec<(&str, &str)> = view["sellerActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["outcome"].as_str().unwrap(),
                a["packageId"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("refused", "-"),
            ("done", package.as_str()),
            ("already", package.as_str()),
            ("already", package.as_str())
        ]
    );
    assert_eq!(h.seller_action_events(&number).len(), 4);

    // Packing moves no stock, and the packed lines' absence from the
    // paid-order list is not read as anything by order-poll.
    poll.run(i64::MAX).await;
    assert_eq!((h.stock("PK-1").await, h.stock("PK-2").await), (3, 4));
    let (_, view) = call(
        &h,
        "GET",
        &format!("/marketplace-orders/hepsiburada/{number}"),
        None,
    )
    .await;
    assert_eq!(line_of(&view, &line_1)["status"], "packaged", "{view}");

    // A 5xx before Hepsiburada acted: read back, not there — the failure
    // stands (nothing recorded as made); the retry, throttled once (429,
    // repeated by the HTTP layer), makes the one package.
    let other = h.hepsiburada.add_order_lines(&[("PK-2", 1, 50.0)]);
    poll.run(i64::MAX).await;
    let other_line = other.items[0]["id"].as_str().unwrap().to_string();
    let other_path = format!(
        "/marketplace-orders/hepsiburada/{}/packages",
        other.order_number
    );
    let one = json!({"lines": [{"lineId": other_line, "quantity": 1}]});
    h.hepsiburada.push_fault(Fault::Status(500));
    let (status, failed) = call(&h, "POST", &other_path, Some(one.clone())).await;
    assert!(status >= 500, "{status}: {failed}");
    assert_eq!(h.hepsiburada.created_packages().len(), 1);
    h.hepsiburada.push_fault(Fault::Status(429));
    let (status, view) = call(&h, "POST", &other_path, Some(one)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(h.hepsiburada.created_packages().len(), 2, "one more, once");
    assert_eq!(h.hepsiburada.create_package_request_count(), 5);

    // The invoice link finds the package by the number on the lines.
    let link = "https://fatura.example.com/GIB2026000000009.pdf";
    let (status, answer) = call(
        &h,
        "POST",
        &format!("/marketplace-orders/hepsiburada/{number}/packages/{package}/invoice-link"),
        Some(json!({"invoiceLink": link, "invoiceNumber": "GIB2026000000009"})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        h.hepsiburada.invoice_links(),
        [(package.clone(), link.to_string())]
    );

    // Shipped with Aras: the tracking push moves that package in transit.
    let aras = ArasFake::start().await;
    let shipments = h.shipments(&aras, None);
    let body = json!({
        "orderId": format!("hb-{number}"),
        "marketplaceOrder": {"marketplace": "hepsiburada", "orderNumber": number, "packageId": package},
        "receiver": {"name": "Test Müşteri", "address": "Moda Cad. No:5", "city": "İstanbul",
                     "town": "Kadıköy", "district": "Moda", "phone": "05321234567"},
        "parcels": [{"weightKg": 1.5, "widthCm": 30, "heightCm": 20, "lengthCm": 10}]
    });
    let (status, shipment) = response_json(
        shipments
            .handle(http_request(
                "POST",
                "/shipping/aras/shipments",
                Some(&body),
            ))
            .await
            .unwrap(),
    );
    assert_eq!(status, 201, "{shipment}");
    let id = shipment["shipmentId"].as_str().unwrap();
    aras.advance(id, FakeStatus::AtOriginBranch);
    let report = h.shipment_tracking(&aras).poll_tracking().await.unwrap();
    assert_eq!(report.pushed, 1, "{report:?}");
    assert_eq!(
        h.hepsiburada.tracking_number(&package),
        Some(aras.shipment(id).unwrap().tracking_number)
    );
}
