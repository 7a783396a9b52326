//! Seller actions back to Trendyol and Hepsiburada (issue 13 item 4): lines not supplied
//! and the invoice link, through `marketplace-orders`, against the Trendyol
//! fake — each once however often asked or whatever answer is lost,
//! recorded on the order, refused with Trendyol's reason, nothing sent for
//! a bad request.

use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::{http_request, response_json};
use ayaztrade_tests::trendyol_fake::{
    EndpointKind, Fault, LineSpec, PackageSpec, INVOICE_LINK_EXISTS, UNSUPPLIED_REFUSED,
};
use ayaztrade_tests::webhook_support::{
    basic_auth, function_url_request, MARKETPLACE_PASSWORD, MARKETPLACE_USER,
};
use serde_json::{json, Value};

/// marketplace-orders: its Trendyol budget spaced over 1 s, not 10.
const ACTIONS: &[(&str, &str)] = &[("TRENDYOL_RATE_WINDOW_MS", "1000")];

async fn call(h: &CatalogHarness, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let app = h.marketplace_orders(ACTIONS);
    response_json(
        app.handle(http_request(method, path, body.as_ref()))
            .await
            .unwrap(),
    )
}

fn outcomes(view: &Value) -> Vec<(String, String)> {
    view["sellerActions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|a| {
                    (
                        a["action"].as_str().unwrap().to_string(),
                        a["outcome"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn lines_not_supplied_are_told_once_and_give_their_stock_back_once() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[
        product_json("ACT-A", 5, 10_000),
        product_json("ACT-B", 5, 10_000),
    ])
    .await;
    let package = h.trendyol.add_package(PackageSpec::new(vec![
        LineSpec::new("ACT-A", 2, 100.0),
        LineSpec::new("ACT-B", 1, 100.0),
    ]));
    let number = package["orderNumber"].as_str().unwrap().to_string();
    let package_id = package["id"].as_i64().unwrap();
    let line_b = package["lines"][1]["id"].as_i64().unwrap();
    let poll = h.order_poll(&[]);
    assert_eq!(poll.run(i64::MAX).await.marketplaces[0].created, 1);
    assert_eq!((h.stock("ACT-A").await, h.stock("ACT-B").await), (3, 4));
    let path = format!("/marketplace-orders/trendyol/{number}/packages/{package_id}/unsupplied");
    let good = json!({"lines": [{"lineId": line_b, "quantity": 1}], "reasonId": 500});

    // Unknown order, unknown package, bad body: nothing sent.
    for unknown in [
        format!("/marketplace-orders/trendyol/404404/packages/{package_id}/unsupplied"),
        format!("/marketplace-orders/trendyol/{number}/packages/1/unsupplied"),
    ] {
        assert_eq!(call(&h, "POST", &unknown, Some(good.clone())).await.0, 404);
    }
    let (status, bad) = call(
        &h,
        "POST",
        &path,
        Some(
            json!({"lines": [{"lineId": 1, "quantity": 1}, {"lineId": line_b, "quantity": 2}],
            "reasonId": 503}),
        ),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    let fields: Vec<&str> = bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["lines[0].lineId", "lines[1].quantity", "reasonId"],
        "{bad}"
    );
    assert_eq!(h.trendyol.unsupplied_request_count(), 0, "nothing sent");

    // Trendyol does it but the answer is lost: the HTTP layer repeats,
    // Trendyol refuses the repeat (the package is cancelled), the package
    // read back shows it done: once.
    h.trendyol.set_faults_hit(EndpointKind::Orders, false);
    h.trendyol.push_fault(Fault::LostAnswer(504));
    let (status, view) = call(&h, "POST", &path, Some(good.clone())).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        h.trendyol.unsupplied_request_count(),
        2,
        "sent, lost, repeated"
    );
    let pkg = view["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["packageId"].as_str().and_then(|s| s.parse::<i64>().ok()) == Some(package_id))
        .unwrap()
        .clone();
    assert_eq!(pkg["status"], "cancelled", "{view}");
    assert_eq!(h.stock("ACT-B").await, 5, "B's unit came back");
    assert_eq!(h.stock("ACT-A").await, 3, "A still taken");

    // A repeat answers the first answer: nothing sent, nothing moved.
    let (status, _) = call(&h, "POST", &path, Some(good.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(h.trendyol.unsupplied_request_count(), 2);
    assert_eq!(
        h.trendyol.unsupplied_calls(),
        [(package_id, vec![(line_b, 1)], 500)],
        "told once"
    );
    // The poll sees the cancelled package and A's new one: no stock moves.
    poll.run(i64::MAX).await;
    assert_eq!((h.stock("ACT-A").await, h.stock("ACT-B").await), (3, 5));
    let packages = h.trendyol.packages_of(&number);
    assert_eq!(packages.len(), 2, "the rest has a new package");
    let rest_id = packages[1];

    // Trendyol's state forbids it (shipped): 409 with its reason, recorded,
    // nothing changed.
    h.trendyol.update_status(rest_id, "Shipped");
    poll.run(i64::MAX).await;
    let line_a = package["lines"][0]["id"].as_i64().unwrap();
    let (status, refused) = call(
        &h,
        "POST",
        &format!("/marketplace-orders/trendyol/{number}/packages/{rest_id}/unsupplied"),
        Some(json!({"lines": [{"lineId": line_a, "quantity": 2}], "reasonId": 501})),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "marketplace_refused");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(UNSUPPLIED_REFUSED) && message.contains("Shipped"),
        "{message}"
    );
    assert_eq!(h.stock("ACT-A").await, 3, "nothing moved");
    let (_, view) = call(
        &h,
        "GET",
        &format!("/marketplace-orders/trendyol/{number}"),
        None,
    )
    .await;
    assert_eq!(
        outcomes(&view),
        [
            ("unsupplied:500".to_string(), "done".to_string()),
            ("unsupplied:500".to_string(), "already".to_string()),
            ("unsupplied:501".to_string(), "refused".to_string()),
        ],
        "{view}"
    );
    assert!(view["sellerActions"][2]["message"]
        .as_str()
        .unwrap()
        .contains(UNSUPPLIED_REFUSED));
    let events = h.seller_action_events(&number);
    let seen: Vec<&str> = events
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(seen, ["done", "already", "refused"], "{events:?}");
}

#[tokio::test]
async fn an_invoice_link_reaches_trendyol_once_whatever_is_lost() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[product_json("ACT-L", 5, 10_000)]).await;
    let package = h.trendyol.add_package(PackageSpec::line("ACT-L", 1, 100.0));
    let number = package["orderNumber"].as_str().unwrap().to_string();
    let package_id = package["id"].as_i64().unwrap();
    let poll = h.order_poll(&[]);
    assert_eq!(poll.run(i64::MAX).await.marketplaces[0].created, 1);
    let path = format!("/marketplace-orders/trendyol/{number}/packages/{package_id}/invoice-link");
    let link = "https://fatura.example.com/GIB2026000000001.pdf";

    let (status, bad) = call(
        &h,
        "POST",
        &path,
        Some(json!({"invoiceLink": "http://fatura.example.com/x.pdf"})),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["fields"][0]["field"].as_str()),
        (400, Some("invoiceLink")),
        "{bad}"
    );
    let (status, bad) = call(&h, "POST", &path, Some(json!({"link": link}))).await;
    assert_eq!(status, 400, "{bad}");
    let (status, _) = call(
        &h,
        "POST",
        &format!("/marketplace-orders/trendyol/404404/packages/{package_id}/invoice-link"),
        Some(json!({ "invoiceLink": link })),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(h.trendyol.invoice_link_request_count(), 0, "nothing sent");

    // 429, then the link arrives but its answer is lost, then the repeat
    // meets Trendyol's 409: read back, the package carries our link — done.
    h.trendyol.set_faults_hit(EndpointKind::Orders, false);
    h.trendyol.push_fault(Fault::Status(429));
    h.trendyol.push_fault(Fault::LostAnswer(504));
    let (status, view) = call(&h, "POST", &path, Some(json!({ "invoiceLink": link }))).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(h.trendyol.invoice_link_request_count(), 3);
    assert_eq!(h.trendyol.invoice_links(), [(package_id, link.to_string())]);
    assert_eq!(view["packages"][0]["status"], "created", "no status change");

    // A repeat: Trendyol has it — nothing sent.
    let (status, _) = call(&h, "POST", &path, Some(json!({ "invoiceLink": link }))).await;
    assert_eq!(status, 200);
    assert_eq!(h.trendyol.invoice_link_request_count(), 3);

    // Another link for the same package: Trendyol's 409 and its reason.
    let (status, refused) = call(
        &h,
        "POST",
        &path,
        Some(json!({"invoiceLink": "https://fatura.example.com/other.pdf"})),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains(INVOICE_LINK_EXISTS),
        "{refused}"
    );
    assert_eq!(h.trendyol.invoice_links().len(), 1, "nothing changed");
    let (_, view) = call(
        &h,
        "GET",
        &format!("/marketplace-orders/trendyol/{number}"),
        None,
    )
    .await;
    let got: Vec<String> = outcomes(&view).into_iter().map(|(_, o)| o).collect();
    assert_eq!(got, ["done", "already", "refused"], "{view}");
    assert_eq!(view["sellerActions"][0]["detail"], link);
    assert_eq!(h.seller_action_events(&number).len(), 3);

    // Hepsiburada's package status: not built, said so.
    let (status, body) = call(
        &h,
        "POST",
        "/marketplace-orders/hepsiburada/1/packages/1/status",
        Some(json!({ "status": "picking" })),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not built"));
}

/// Issue 15 at Hepsiburada (docs/marketplace-wire.md H13): the invoice link
/// of a package number, once however often asked or whatever answer is
/// lost (read back from the missing-invoice list), refused with
/// Hepsiburada's message, nothing sent for a bad request — counted on
/// what the Hepsiburada fake executed.
#[tokio::test]
async fn an_invoice_link_reaches_hepsiburada_once_whatever_is_lost() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[product_json("ACT-HB", 5, 10_000)]).await;
    let order = h.hepsiburada.add_order_lines(&[("ACT-HB", 1, 100.0)]);
    let number = order.order_number.clone();
    let poll = h.order_poll(&[]);
    let report = poll.run(i64::MAX).await;
    assert!(
        report
            .marketplaces
            .iter()
            .any(|m| m.marketplace == "hepsiburada" && m.feed == "orders" && m.created == 1),
        "{report:?}"
    );
    // Packed at Hepsiburada: the package number is not on our order; the
    // missing-invoice list names it for this order.
    let package = h.hepsiburada.add_package(&number);
    let path = format!("/marketplace-orders/hepsiburada/{number}/packages/{package}/invoice-link");
    let link = "https://fatura.example.com/GIB2026000000001.pdf";
    let good = json!({"invoiceLink": link, "invoiceNumber": "GIB2026000000001"});

    // Bad body: every bad field named; unknown order or package: 404.
    let (status, bad) = call(
        &h,
        "POST",
        &path,
        Some(json!({"invoiceLink": "http://x", "invoiceNumber": "A/1"})),
    )
    .await;
    let fields: Vec<_> = bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        (status, fields),
        (400, vec!["invoiceLink", "invoiceNumber"]),
        "{bad}"
    );
    let (status, bad) = call(&h, "POST", &path, Some(json!({ "invoiceLink": link }))).await;
    assert_eq!(
        (status, bad["error"]["fields"][0]["field"].as_str()),
        (400, Some("invoiceNumber")),
        "{bad}"
    );
    for unknown in [
        format!("/marketplace-orders/hepsiburada/404404/packages/{package}/invoice-link"),
        format!("/marketplace-orders/hepsiburada/{number}/packages/999999/invoice-link"),
    ] {
        let (status, body) = call(&h, "POST", &unknown, Some(good.clone())).await;
        assert_eq!(status, 404, "{unknown}: {body}");
    }
    assert_eq!(h.hepsiburada.invoice_request_count(), 0, "nothing sent");

    // Refused: 409 with Hepsiburada's message, recorded, nothing changed.
    let reason = "Fatura tarihi paket tarihinden once olamaz";
    h.hepsiburada.refuse_next_invoice(reason);
    let (status, refused) = call(&h, "POST", &path, Some(good.clone())).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains(reason),
        "{refused}"
    );
    assert_eq!(h.hepsiburada.invoice_request_count(), 1);
    assert!(h.hepsiburada.invoice_links().is_empty(), "nothing changed");

    // The link arrives, its answer is lost; the HTTP layer's repeat is
    // refused (an invoice is there), read back: not missing — done.
    h.hepsiburada.set_faults_hit(EndpointKind::Orders, false);
    h.hepsiburada.set_faults_hit(EndpointKind::Tracking, false);
    h.hepsiburada.push_fault(Fault::LostAnswer(504));
    let (status, view) = call(&h, "POST", &path, Some(good.clone())).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        h.hepsiburada.invoice_request_count(),
        3,
        "refused, lost, repeated"
    );
    assert_eq!(
        h.hepsiburada.invoice_links(),
        [(package.clone(), link.to_string())],
        "executed once"
    );
    let body = h.hepsiburada.invoice_body(&package).unwrap();
    assert_eq!(
        (&body["serialNumber"], &body["rowNumber"]),
        (&json!("GIB"), &json!("2026000000001"))
    );

    // A repeat: Hepsiburada has an invoice — nothing sent.
    let (status, _) = call(&h, "POST", &path, Some(good.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(h.hepsiburada.invoice_request_count(), 3);

    let (_, view) = call(
        &h,
        "GET",
        &format!("/marketplace-orders/hepsiburada/{number}"),
        None,
    )
    .await;
    let got: Vec<String> = outcomes(&view).into_iter().map(|(_, o)| o).collect();
    assert_eq!(got, ["refused", "done", "already"], "{view}");
    assert_eq!(view["sellerActions"][1]["packageId"], package.as_str());
    assert!(view["sellerActions"][0]["message"]
        .as_str()
        .unwrap()
        .contains(reason));
    assert_eq!(h.seller_action_events(&number).len(), 3);
}

/// Issue 13 at Hepsiburada (docs/marketplace-wire.md H13): the merchant
/// cancel of a line not yet packed — once however often asked or whatever
/// answer is lost (read back from the cancelled list), its stock back once
/// however the cancel is learned, refused with Hepsiburada's message for a
/// packed line, nothing sent for a bad request; counted on what the
/// Hepsiburada fake executed.
#[tokio::test]
async fn a_hepsiburada_line_is_cancelled_once_and_its_stock_comes_back_once() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[
        product_json("ACT-C1", 5, 10_000),
        product_json("ACT-C2", 5, 10_000),
    ])
    .await;
    let order = h
        .hepsiburada
        .add_order_lines(&[("ACT-C1", 2, 100.0), ("ACT-C2", 1, 100.0)]);
    let number = order.order_number.clone();
    let (line_1, line_2) = (order.line_id("ACT-C1"), order.line_id("ACT-C2"));
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    assert_eq!((h.stock("ACT-C1").await, h.stock("ACT-C2").await), (3, 4));
    let path = |l: &str| format!("/marketplace-orders/hepsiburada/{number}/lines/{l}/cancel");
    let good = json!({"reasonId": 7});

    // Bad body, unknown order or line, Trendyol: nothing sent.
    for bad in [json!({}), json!({"reasonId": 0}), json!({"reasonId": "x"})] {
        let (status, body) = call(&h, "POST", &path(&line_1), Some(bad.clone())).await;
        assert_eq!(
            (status, body["error"]["fields"][0]["field"].as_str()),
            (400, Some("reasonId")),
            "{bad}: {body}"
        );
    }
    for unknown in [
        format!("/marketplace-orders/hepsiburada/404404/lines/{line_1}/cancel"),
        path("no-such-line"),
        format!("/marketplace-orders/trendyol/{number}/lines/{line_1}/cancel"),
    ] {
        let (status, body) = call(&h, "POST", &unknown, Some(good.clone())).await;
        assert_eq!(status, 404, "{unknown}: {body}");
    }
    assert_eq!(h.hepsiburada.cancel_request_count(), 0, "nothing sent");

    // A packed line: Hepsiburada's 400 stands — 409 with its message,
    // recorded, nothing changed.
    h.hepsiburada.update_line_status(&line_2, "Packaged");
    let (status, refused) = call(&h, "POST", &path(&line_2), Some(good.clone())).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be cancelled by the merchant"),
        "{refused}"
    );
    assert!(h.hepsiburada.merchant_cancels().is_empty());
    assert_eq!(h.stock("ACT-C2").await, 4);

    // The cancel is done, its answer lost; the HTTP layer's repeat is
    // refused (cancelled already), read back from the cancelled list: done,
    // taken in — the stock comes back once.
    h.hepsiburada.set_faults_hit(EndpointKind::Orders, false);
    h.hepsiburada.set_faults_hit(EndpointKind::Tracking, false);
    h.hepsiburada.push_fault(Fault::LostAnswer(504));
    let (status, view) = call(&h, "POST", &path(&line_1), Some(good.clone())).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        h.hepsiburada.merchant_cancels(),
        [(line_1.clone(), 7)],
        "executed once"
    );
    assert_eq!(
        h.hepsiburada.cancel_request_count(),
        3,
        "refused, lost, repeated"
    );
    assert_eq!(h.stock("ACT-C1").await, 5);
    let status_of = |view: &Value, id: &str| {
        view["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["lineId"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&view, &line_1), "cancelled", "{view}");
    assert_eq!(status_of(&view, &line_2), "created", "{view}");

    // Asked again, then the cancelled-list poll: nothing sent, no stock moves.
    let (status, _) = call(&h, "POST", &path(&line_1), Some(good.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(h.hepsiburada.cancel_request_count(), 3);
    let report = poll.run(i64::MAX).await;
    let cancelled = report
        .marketplaces
        .iter()
        .find(|m| m.marketplace == "hepsiburada" && m.feed == "cancelled")
        .expect("the cancelled feed was polled");
    assert_eq!(cancelled.changed, 0, "{report:?}");
    assert_eq!((h.stock("ACT-C1").await, h.stock("ACT-C2").await), (5, 4));

    // Hepsiburada's orderCancel webhook for the whole order later: the
    // cancelled line gives nothing again; only the other line comes back.
    let auth = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
    let body = serde_json::to_vec(&json!({"orderNumber": number})).unwrap();
    let (status, told) = response_json(
        h.webhook()
            .handle(function_url_request(
                "PUT",
                "/webhooks/hepsiburada/orderCancel",
                &[("authorization", &auth)],
                &body,
                false,
            ))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200, "{told}");
    assert_eq!((h.stock("ACT-C1").await, h.stock("ACT-C2").await), (5, 5));

    let (_, view) = call(
        &h,
        "GET",
        &format!("/marketplace-orders/hepsiburada/{number}"),
        None,
    )
    .await;
    let got: Vec<(String, String)> = outcomes(&view);
    assert_eq!(
        got,
        [
            ("cancel_line:7".to_string(), "refused".to_string()),
            ("cancel_line:7".to_string(), "done".to_string()),
            ("cancel_line:7".to_string(), "already".to_string()),
        ],
        "{view}"
    );
    assert_eq!(h.seller_action_events(&number).len(), 3);
}
