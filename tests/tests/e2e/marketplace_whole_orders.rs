//! The whole marketplace order (issue 13): taken in by poll and by webhook,
//! once, with exact money, cargo and the buyer; the buyer's personal data
//! kept apart, erased a retention after the order closed, and never
//! written to a log.

use ayaztrade::clock::now_ms;
use ayaztrade::domain::event::DetailType;
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::marketplace_order::MarketplaceOrder;
use ayaztrade::money::{Currency, Money};
use ayaztrade::ports::MarketplaceOrderStore;
use ayaztrade_tests::aras_fake::{ArasFake, FakeStatus};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::{http_request, response_json, CapturedLogs};
use ayaztrade_tests::hepsiburada_fake::{HbLineSpec, HbOrderSpec};
use ayaztrade_tests::trendyol_fake::{EndpointKind, Fault, LineSpec, PackageSpec};
use ayaztrade_tests::webhook_support::{
    basic_auth, function_url_request, MARKETPLACE_PASSWORD, MARKETPLACE_USER,
};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;
const RETENTION: &[(&str, &str)] = &[("MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS", "7")];
/// marketplace-orders: its Trendyol budget (5 per window) spaced over 1 s,
/// not 10 (the fake's own limit is 50 per 10 s).
const ACTIONS: &[(&str, &str)] = &[
    ("MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS", "7"),
    ("TRENDYOL_RATE_WINDOW_MS", "1000"),
];

fn try_(minor: i64) -> Option<Money> {
    Some(Money::new(minor, Currency::TRY))
}

async fn deliver(h: &CatalogHarness, path: &str, method: &str, body: &[u8]) -> serde_json::Value {
    let auth = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
    let req = function_url_request(method, path, &[("authorization", &auth)], body, false);
    let (status, json) = response_json(h.webhook_with(RETENTION).handle(req).await.unwrap());
    assert_eq!(status, 200, "{json}");
    json
}

async fn stored(h: &CatalogHarness, m: Marketplace, number: &str) -> MarketplaceOrder {
    h.catalog_store()
        .load_marketplace_order(m, number)
        .await
        .unwrap()
        .expect("stored order")
        .0
}

/// `GET` on the marketplace-orders function.
async fn read(h: &CatalogHarness, path: &str) -> (u16, serde_json::Value) {
    let app = h.marketplace_orders(ACTIONS);
    response_json(app.handle(http_request("GET", path, None)).await.unwrap())
}

fn types(events: &[(String, serde_json::Value)]) -> Vec<&str> {
    let mut t: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    t.sort();
    t
}

fn created_events(h: &CatalogHarness, number: &str) -> Vec<serde_json::Value> {
    h.publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type == DetailType::MarketplaceOrderCreated)
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|v| v["orderNumber"] == number)
        .collect()
}

#[tokio::test]
async fn a_trendyol_order_is_kept_whole_once_and_its_buyer_forgotten_after_delivery() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[product_json("WHOLE-T", 5, 12_490)]).await;
    let (logs, _guard) = CapturedLogs::start_debug();
    let mut line = LineSpec::new("WHOLE-T", 2, 114.90);
    line.list_price = 124.90;
    let package = h.trendyol.add_package(PackageSpec::new(vec![line]));
    let number = package["orderNumber"].as_str().unwrap().to_string();
    let package_id = package["id"].as_i64().unwrap();

    let poll = h.order_poll(RETENTION);
    let report = poll.run(i64::MAX).await;
    assert_eq!(report.marketplaces[0].created, 1, "{report:?}");
    let again = deliver(
        &h,
        "/webhooks/trendyol",
        "POST",
        &h.trendyol.webhook_body(package_id),
    )
    .await;
    assert_eq!(again["outcome"], "unchanged", "{again}");

    let order = stored(&h, Marketplace::Trendyol, &number).await;
    let facts = &order.packages[&package_id.to_string()];
    assert_eq!(facts.total, try_(22_980), "2 × 114.90");
    assert_eq!(facts.gross, try_(24_980), "2 × 124.90");
    assert_eq!(facts.discount, try_(2_000));
    assert_eq!(
        facts.cargo_provider.as_deref(),
        Some("Trendyol Express Marketplace")
    );
    assert_eq!(
        facts.agreed_delivery_ms,
        package["orderDate"].as_i64().map(|d| d + 2 * DAY_MS)
    );
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    let line = order.line_facts.values().next().unwrap();
    assert_eq!(
        (line.unit_price, line.unit_sale_price, line.unit_discount),
        (try_(12_490), try_(11_490), try_(1_000))
    );
    assert_eq!(line.vat_rate.as_deref(), Some("20"));
    let created = created_events(&h, &number);
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0]["total"],
        json!({"minor": 22_980, "currency": "TRY"})
    );
    assert_eq!(created[0]["lines"][0]["amount"]["minor"], 22_980);

    // The read API: buyer, address and lines with exact money.
    let (status, view) = read(&h, &format!("/marketplace-orders/trendyol/{number}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "created");
    assert_eq!(view["total"], json!({"minor": 22_980, "currency": "TRY"}));
    assert_eq!(view["buyer"]["buyerName"], "Test Müşteri");
    assert_eq!(view["buyer"]["shippingAddress"]["phone"], "05320000001");
    assert!(view["buyer"]["shippingAddress"]["address"]
        .as_str()
        .unwrap()
        .contains("Örnek Sok"));
    let line = &view["lines"][0];
    assert_eq!(
        (line["sku"].as_str(), line["quantity"].as_u64()),
        (Some("WHOLE-T"), Some(2))
    );
    assert_eq!(
        line["details"]["unitSalePrice"],
        json!({"minor": 11_490, "currency": "TRY"})
    );
    assert_eq!(view["packages"][0]["details"]["gross"]["minor"], 24_980);
    for unknown in [
        "/marketplace-orders/trendyol/NOPE-1",
        "/marketplace-orders/amazon/1",
    ] {
        assert_eq!(read(&h, unknown).await.0, 404, "{unknown}");
    }
    let (status, page) = read(&h, "/marketplace-orders/trendyol?status=created").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["orders"][0]["orderNumber"], number.as_str());
    assert_eq!(page["orders"][0]["total"]["minor"], 22_980);
    let (status, bad) = read(&h, "/marketplace-orders/trendyol?status=Created&limit=0").await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(
        bad["error"]["fields"].as_array().map(Vec::len),
        Some(2),
        "{bad}"
    );
    // The platform's queue got the order once, with its lines and total.
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    assert_eq!(
        types(&events),
        ["marketplace.order.created", "marketplace.stock.updated"],
        "{events:?}"
    );
    assert_eq!(
        events
            .iter()
            .find(|(t, _)| t == "marketplace.order.created")
            .unwrap()
            .1["total"]["minor"],
        22_980
    );

    // The buyer: readable now, apart from the order, with a TTL.
    let store = h.catalog_store();
    let buyer = store
        .load_marketplace_personal_data(Marketplace::Trendyol, &number, now_ms())
        .await
        .unwrap()
        .expect("personal data");
    assert_eq!(buyer.buyer_name.as_deref(), Some("Test Müşteri"));
    let shipping = buyer.shipping_address.as_ref().unwrap();
    assert_eq!(shipping.phone.as_deref(), Some("05320000001"));
    let open_until = order.personal.as_ref().unwrap().erase_after_ms;
    assert_eq!(open_until, order.first_seen_ms + 97 * DAY_MS);
    let json = serde_json::to_string(&order).unwrap();
    assert!(
        !json.contains("Müşteri") && !json.contains("0532"),
        "{json}"
    );

    // Picking, then Invoiced, told to Trendyol; each once, whatever repeats.
    let action = |body: serde_json::Value| {
        let path = format!("/marketplace-orders/trendyol/{number}/packages/{package_id}/status");
        let app = h.marketplace_orders(ACTIONS);
        async move {
            response_json(
                app.handle(http_request("POST", &path, Some(&body)))
                    .await
                    .unwrap(),
            )
        }
    };
    let (status, bad) = action(json!({"status": "invoiced"})).await;
    assert_eq!(
        (status, bad["error"]["fields"][0]["field"].as_str()),
        (400, Some("invoiceNumber")),
        "{bad}"
    );
    assert_eq!(h.trendyol.package_update_request_count(), 0, "nothing sent");
    // Trendyol does it but the answer is lost (504): the HTTP layer
    // retries, Trendyol refuses the repeat, the package read back says
    // Picking: done, once.
    h.trendyol.set_faults_hit(EndpointKind::Orders, false);
    h.trendyol.push_fault(Fault::LostAnswer(504));
    let (status, view) = action(json!({"status": "picking"})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["packages"][0]["status"], "picking");
    assert_eq!(
        h.trendyol.package_update_request_count(),
        2,
        "sent, lost, repeated"
    );
    h.trendyol.set_faults_hit(EndpointKind::Orders, true);
    assert_eq!(
        action(json!({"status": "picking"})).await.0,
        200,
        "a repeat is done already"
    );
    let (status, view) =
        action(json!({"status": "invoiced", "invoiceNumber": "GIB2026000000001"})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["packages"][0]["status"], "invoiced");
    let (status, refused) = action(json!({"status": "picking"})).await;
    assert_eq!(
        status, 200,
        "picking is behind invoiced: nothing to do {refused}"
    );
    assert_eq!(
        h.trendyol.package_updates(),
        [
            (package_id, "Picking".to_string(), None),
            (
                package_id,
                "Invoiced".to_string(),
                Some("GIB2026000000001".to_string())
            )
        ],
        "each status sent once"
    );
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let statuses: Vec<&str> = events
        .iter()
        .filter(|(t, _)| t == "marketplace.order.status_changed")
        .map(|(_, d)| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["picking", "invoiced"], "{events:?}");
    // Each recorded action reaches the platform's queue too.
    let actions: Vec<(&str, &str)> = events
        .iter()
        .filter(|(t, _)| t == "marketplace.order.seller_action")
        .map(|(_, d)| {
            (
                d["action"].as_str().unwrap(),
                d["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("package_status:Picking", "done"),
            ("package_status:Picking", "already"),
            ("package_status:Invoiced", "done"),
            ("package_status:Picking", "already")
        ],
        "{events:?}"
    );

    let (_, view) = read(&h, &format!("/marketplace-orders/trendyol/{number}")).await;
    let outcomes: Vec<&str> = view["sellerActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["done", "already", "done", "already"], "{view}");

    // A package Trendyol keeps from picking (still Awaiting its payment
    // check): 409 with Trendyol's message, recorded on that order.
    let awaiting = h
        .trendyol
        .add_package(PackageSpec::line("WHOLE-T", 1, 10.0).status("Awaiting"));
    assert_eq!(poll.run(i64::MAX).await.marketplaces[0].created, 1);
    let (waiting_number, waiting_id) = (
        awaiting["orderNumber"].as_str().unwrap().to_string(),
        awaiting["id"].as_i64().unwrap(),
    );
    let app = h.marketplace_orders(ACTIONS);
    let (status, refused) = response_json(
        app.handle(http_request(
            "POST",
            &format!("/marketplace-orders/trendyol/{waiting_number}/packages/{waiting_id}/status"),
            Some(&json!({"status": "picking"})),
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "marketplace_refused");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("güncellenemez") && message.contains("Awaiting"),
        "{message}"
    );
    let (_, view) = read(
        &h,
        &format!("/marketplace-orders/trendyol/{waiting_number}"),
    )
    .await;
    assert_eq!(view["sellerActions"][0]["outcome"], "refused", "{view}");
    assert!(view["sellerActions"][0]["message"]
        .as_str()
        .unwrap()
        .contains("güncellenemez"));
    assert_eq!(view["status"], "awaiting", "nothing changed");

    // Delivered: erased 7 days later.
    h.trendyol.update_status(package_id, "Delivered");
    let report = poll.run(i64::MAX).await;
    assert_eq!(report.marketplaces[0].changed, 1, "{report:?}");
    let order = stored(&h, Marketplace::Trendyol, &number).await;
    let erase_at = order.personal.as_ref().unwrap().erase_after_ms;
    assert_eq!(
        erase_at,
        order.units[&package_id.to_string()].changed_ms + 7 * DAY_MS
    );
    assert_eq!(
        h.personal_data_ttl(Marketplace::Trendyol, &number).await,
        Some(erase_at / 1000 + 1)
    );
    let (_, page) = read(&h, "/marketplace-orders/trendyol?status=delivered").await;
    assert_eq!(page["orders"][0]["orderNumber"], number.as_str(), "{page}");
    let (_, page) = read(&h, "/marketplace-orders/trendyol?status=created").await;
    assert_eq!(page["orders"], json!([]), "moved to delivered");
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    assert_eq!(
        types(&events),
        ["marketplace.order.status_changed"],
        "{events:?}"
    );
    assert_eq!(events[0].1["status"], "delivered");
    for (at, kept) in [(erase_at - 1, true), (erase_at, false)] {
        let read = store
            .load_marketplace_personal_data(Marketplace::Trendyol, &number, at)
            .await
            .unwrap();
        assert_eq!(read.is_some(), kept, "at {at}");
    }
    logs.assert_free_of(&["Test Müşteri", "Örnek Sok", "05320000001", "trendyolmail"]);
}

#[tokio::test]
async fn a_hepsiburada_order_is_kept_whole_once_and_its_buyer_forgotten_after_delivery() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[product_json("WHOLE-H", 5, 3_333)]).await;
    let (logs, _guard) = CapturedLogs::start_debug();
    let hb = h
        .hepsiburada
        .add_order(HbOrderSpec::new(vec![HbLineSpec::new("WHOLE-H", 3, 33.33)]));
    let poll = h.order_poll(RETENTION);
    let report = poll.run(i64::MAX).await;
    let hb_report = &report.marketplaces[1];
    assert_eq!(hb_report.created, 1, "{report:?}");
    let body = serde_json::to_vec(&json!({"orderNumber": hb.order_number})).unwrap();
    let again = deliver(&h, "/webhooks/hepsiburada/createOrder", "PUT", &body).await;
    assert_eq!(again["outcome"], "unchanged", "{again}");

    let order = stored(&h, Marketplace::Hepsiburada, &hb.order_number).await;
    let line = order.line_facts.values().next().unwrap();
    assert_eq!(line.unit_sale_price, try_(3_333));
    assert_eq!(
        line.line_total,
        try_(9_999),
        "3 × 33.33, no float on the way"
    );
    assert_eq!(line.commission, try_(1_500));
    assert_eq!(line.vat_rate.as_deref(), Some("20"));
    assert_eq!(
        order.packages[""].cargo_provider.as_deref(),
        Some("Hepsijet")
    );
    assert!(order.packages[""].problems.is_empty());
    assert_eq!(
        created_events(&h, &hb.order_number)[0]["total"]["minor"],
        9_999
    );
    let store = h.catalog_store();
    let buyer = store
        .load_marketplace_personal_data(Marketplace::Hepsiburada, &hb.order_number, now_ms())
        .await
        .unwrap()
        .expect("personal data");
    let invoice = buyer.invoice_address.as_ref().unwrap();
    assert_eq!(invoice.identity_number.as_deref(), Some("11111111111"));
    assert_eq!(
        buyer.shipping_address.as_ref().unwrap().phone.as_deref(),
        Some("05000000000")
    );
    let (status, view) = read(
        &h,
        &format!("/marketplace-orders/hepsiburada/{}", hb.order_number),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["buyer"]["invoiceAddress"]["identityNumber"],
        "11111111111"
    );
    assert_eq!(view["lines"][0]["details"]["lineTotal"]["minor"], 9_999);
    assert_eq!(view["lines"][0]["details"]["commission"]["minor"], 1_500);
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &hb.order_number)
        .await;
    assert_eq!(
        types(&events),
        ["marketplace.order.created", "marketplace.stock.updated"],
        "{events:?}"
    );

    // Shipped from the order: receiver, address and contents from the
    // stored order, the tracking number back to Hepsiburada.
    let aras = ArasFake::start().await;
    let package = h.hepsiburada.add_package(&hb.order_number);
    let ship = json!({
        "marketplaceOrder": {"marketplace": "hepsiburada", "orderNumber": hb.order_number, "packageId": package},
        "parcels": [{"weightKg": 1.2, "widthCm": 30, "heightCm": 20, "lengthCm": 10}]
    });
    let shipments = h.shipments(&aras, None);
    let (status, created) = response_json(
        shipments
            .handle(http_request(
                "POST",
                "/shipping/aras/shipments",
                Some(&ship),
            ))
            .await
            .unwrap(),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["shipmentId"].as_str().unwrap().to_string();
    let sent = aras.shipment(&id).unwrap().fields;
    for (field, value) in [
        ("ReceiverName", "Test Müşteri"),
        ("ReceiverAddress", "Test Mah. Örnek Sok. No:1"),
        ("ReceiverCityName", "İstanbul"),
        ("ReceiverTownName", "Kadıköy"),
        ("ReceiverDistrictName", "Moda"),
        ("ReceiverPhone1", "05000000000"),
        ("Description", "3 × Test Ürün WHOLE-H"),
    ] {
        assert_eq!(
            sent.get(field).map(String::as_str),
            Some(value),
            "{field}: {sent:?}"
        );
    }
    aras.advance(&id, FakeStatus::AtOriginBranch);
    let report = h.shipment_tracking(&aras).poll_tracking().await.unwrap();
    assert_eq!(report.pushed, 1, "{report:?}");
    assert_eq!(
        h.hepsiburada.tracking_number(&package),
        Some(aras.shipment(&id).unwrap().tracking_number)
    );
    let shipped = h
        .platform_events(&h.stack.shipment_events_queue_url, &hb.order_number)
        .await;
    assert_eq!(
        types(&shipped),
        ["shipment.created", "shipment.status_changed"],
        "{shipped:?}"
    );

    // Delivered (Hepsiburada says so by webhook): erased 7 days later.
    let delivered = deliver(&h, "/webhooks/hepsiburada/deliver", "PUT", &body).await;
    assert_eq!(delivered["outcome"], "changed", "{delivered}");
    let order = stored(&h, Marketplace::Hepsiburada, &hb.order_number).await;
    let erase_at = order.personal.as_ref().unwrap().erase_after_ms;
    let left = erase_at - now_ms();
    assert!(left > 6 * DAY_MS && left <= 7 * DAY_MS, "{left}");
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &hb.order_number)
        .await;
    assert_eq!(
        types(&events),
        ["marketplace.order.status_changed"],
        "{events:?}"
    );
    assert!(store
        .load_marketplace_personal_data(Marketplace::Hepsiburada, &hb.order_number, erase_at)
        .await
        .unwrap()
        .is_none());
    logs.assert_free_of(&["Test Müşteri", "Örnek Sok", "05000000000", "test.musteri@"]);
}
