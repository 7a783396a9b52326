//! Aras Kargo shipping end to end: the shipment API and the tracking poll
//! against the Aras fake (SOAP), the marketplace fakes (tracking numbers
//! pushed back) and the local AWS stack.

use std::sync::atomic::Ordering;

use ayaztrade::domain::event::DetailType;
use ayaztrade::ports::ShipmentStore;
use ayaztrade_tests::aras_fake::{ArasFake, FakeStatus, Fault};
use ayaztrade_tests::catalog_support::CatalogHarness;
use ayaztrade_tests::fixtures::{http_request, response_json};
use serde_json::{json, Value};

const TARIFF: &str = r#"{"currency": "TRY", "bands": [
    {"upToDesi": 5, "prices": {"sameCity": "90.00", "near": "110.00", "short": "120.00", "middle": "130.00", "long": "150.00"}},
    {"upToDesi": 20, "prices": {"sameCity": "140.00", "near": "160.00", "short": "175.00", "middle": "190.00", "long": "220.00"}}],
    "extraPerDesi": {"sameCity": "5.00", "near": "6.00", "short": "6.50", "middle": "7.00", "long": "8.00"}}"#;

fn shipment_body(order_id: &str) -> Value {
    json!({
        "orderId": order_id,
        "receiver": {
            "name": "Ayşe <Yılmaz> & Co",
            "address": "Moda Cad. No:5 D:3",
            "city": "İstanbul", "town": "Kadıköy", "district": "Moda",
            "phone": "05321234567"
        },
        "parcels": [
            {"weightKg": 1.5, "widthCm": 30, "heightCm": 20, "lengthCm": 10},
            {"weightKg": "0.4", "widthCm": 60, "heightCm": 40, "lengthCm": 50.5}
        ]
    })
}

fn count(h: &CatalogHarness, t: DetailType) -> usize {
    h.publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type == t)
        .count()
}

async fn call(
    app: &ayaztrade::apps::shipment::App<
        ayaztrade::aws::dynamo::DynamoStore,
        ayaztrade_tests::webhook_support::RecordingPublisher,
    >,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    response_json(app.handle(http_request(method, path, body)).await.unwrap())
}

#[tokio::test]
async fn a_retried_create_makes_one_shipment_with_desi_per_piece() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let body = shipment_body("ord-ship-1");
    let (status, first) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 201, "{first}");
    let id = first["shipmentId"].as_str().unwrap().to_string();
    assert_eq!(first["aras"]["integrationCode"], id.as_str());
    // 30×20×10 / 3000 = 2.00 desi vs 1.5 kg; 60×40×50.5 / 3000 = 40.40 desi vs 0.4 kg.
    assert_eq!(first["measure"]["desi"], "42.40", "{first}");
    assert_eq!(first["measure"]["chargeBasis"], "42.40", "{first}");
    assert_eq!(first["measure"]["pieces"], 2);
    assert_eq!(first["aras"]["barcodes"].as_array().unwrap().len(), 2);

    let (status, again) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(
        (status, &again["shipmentId"]),
        (200, &first["shipmentId"]),
        "{again}"
    );
    assert_eq!(aras.created_count(), 1);
    assert_eq!(aras.requests("SetOrder"), 1, "answered from our record");
    assert_eq!(count(&h, DetailType::ShipmentCreated), 1);
    let stored = aras.shipment(&id).expect("at Aras");
    assert_eq!(stored.fields["ReceiverName"], "Ayşe <Yılmaz> & Co");
    assert_eq!(stored.pieces.len(), 2);

    // Another reference is another shipment of the same order.
    let mut second = body.clone();
    second["reference"] = "2".into();
    let (status, other) = call(&app, "POST", "/shipping/aras/shipments", Some(&second)).await;
    assert_eq!(status, 201, "{other}");
    assert_ne!(other["shipmentId"], first["shipmentId"]);
}

#[tokio::test]
async fn a_lost_answer_from_aras_does_not_make_a_second_shipment() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    aras.push_fault_for(
        "SetOrder",
        Fault::AfterProcessing(Box::new(Fault::Status(502))),
    );
    let (status, created) = call(
        &app,
        "POST",
        "/shipping/aras/shipments",
        Some(&shipment_body("ord-ship-2")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(aras.created_count(), 1);
}

#[tokio::test]
async fn aras_refusals_and_faults_are_clear_errors_and_recorded_as_failed() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let mut bad = shipment_body("ord-ship-3");
    bad["parcels"][0]["weightKg"] = json!(-1);
    bad["parcels"][1]["widthCm"] = json!(1.25);
    let (status, answer) = call(&app, "POST", "/shipping/aras/shipments", Some(&bad)).await;
    assert_eq!(status, 400, "{answer}");
    let text = answer.to_string();
    assert!(
        text.contains("parcels[0].weightKg") && text.contains("parcels[1].widthCm"),
        "{text}"
    );
    assert_eq!(aras.requests("SetOrder"), 0);

    aras.push_fault_for(
        "SetOrder",
        Fault::SoapFault {
            code: "soap:Server".into(),
            message: "Sunucu hatası".into(),
        },
    );
    let body = shipment_body("ord-ship-3");
    let (status, answer) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert!(status >= 500, "{status} {answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Sunucu"),
        "{answer}"
    );
    let id = ayaztrade::domain::shipment::shipment_id("ord-ship-3", "1");
    let (record, _) = h
        .catalog_store()
        .get_shipment(&id)
        .await
        .unwrap()
        .expect("recorded");
    assert!(
        matches!(
            record.state,
            ayaztrade::domain::shipment::ShipmentState::Failed { .. }
        ),
        "{record:?}"
    );
    assert_eq!(count(&h, DetailType::ShipmentCreated), 0);

    // The retry goes through and replaces the failed record.
    let (status, answer) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(aras.created_count(), 1);
}

#[tokio::test]
async fn cancel_before_dispatch_works_and_after_dispatch_is_a_409() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let (_, a) = call(
        &app,
        "POST",
        "/shipping/aras/shipments",
        Some(&shipment_body("ord-c-1")),
    )
    .await;
    let (_, b) = call(
        &app,
        "POST",
        "/shipping/aras/shipments",
        Some(&shipment_body("ord-c-2")),
    )
    .await;
    let (a, b) = (
        a["shipmentId"].as_str().unwrap(),
        b["shipmentId"].as_str().unwrap(),
    );

    let (status, cancelled) = call(
        &app,
        "DELETE",
        &format!("/shipping/aras/shipments/{a}"),
        None,
    )
    .await;
    assert_eq!(
        (status, cancelled["state"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    assert_eq!(count(&h, DetailType::ShipmentStatusChanged), 1);

    aras.dispatch(b);
    let (status, refused) = call(
        &app,
        "DELETE",
        &format!("/shipping/aras/shipments/{b}"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "already_dispatched");
    let (status, _) = call(&app, "DELETE", "/shipping/aras/shipments/AYZNOSUCH", None).await;
    assert_eq!(status, 404);

    // A repeated DELETE answers the same and repeats the event id.
    let (status, again) = call(
        &app,
        "DELETE",
        &format!("/shipping/aras/shipments/{a}"),
        None,
    )
    .await;
    assert_eq!(
        (status, again["state"].as_str()),
        (200, Some("cancelled")),
        "{again}"
    );
    let ids: Vec<String> = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type == DetailType::ShipmentStatusChanged)
        .map(|e| e.event_id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    assert_eq!(
        aras.requests("CancelDispatch"),
        2,
        "the repeat did not call Aras"
    );
}

#[tokio::test]
async fn cash_on_delivery_reaches_aras_and_unknown_codes_are_404() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let mut body = shipment_body("ord-cod-1");
    body["cod"] = json!({"amount": {"minor": 12_345, "currency": "TRY"}});
    let (status, s) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(
        s["cashOnDelivery"],
        json!({"minor": 12_345, "currency": "TRY"})
    );
    let stored = aras.shipment(s["shipmentId"].as_str().unwrap()).unwrap();
    assert_eq!(stored.fields["IsCod"], "1", "{:?}", stored.fields);
    assert_eq!(stored.fields["CodAmount"], "123.45", "{:?}", stored.fields);

    body["cod"] = json!({"amount": {"minor": 100, "currency": "EUR"}});
    body["reference"] = "2".into();
    let (status, answer) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 400, "{answer}");

    let (status, _) = call(&app, "GET", "/shipping/aras/tracking/AYZUNKNOWN1", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tracking_is_normalized_and_rates_come_from_the_contract_tariff() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, Some(TARIFF));
    let (_, s) = call(
        &app,
        "POST",
        "/shipping/aras/shipments",
        Some(&shipment_body("ord-t-1")),
    )
    .await;
    let id = s["shipmentId"].as_str().unwrap();
    aras.advance(id, FakeStatus::OnTheWay);
    aras.advance(id, FakeStatus::OutForDelivery);
    let (status, t) = call(&app, "GET", &format!("/shipping/aras/tracking/{id}"), None).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["status"], "outForDelivery", "{t}");
    assert!(t["trackingNumber"].is_string(), "{t}");
    assert_eq!(t["events"].as_array().unwrap().len(), 2, "{t}");

    // 2.00 desi → band ≤ 5 (110.00); 40.40 → above 20: 160.00 + 21 started desi × 6.00.
    let rates = json!({"region": "near", "parcels": shipment_body("x")["parcels"]});
    let (status, quote) = call(&app, "POST", "/shipping/aras/rates", Some(&rates)).await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(
        quote["price"],
        json!({"minor": 11_000 + 16_000 + 21 * 600, "currency": "TRY"})
    );
    let (status, _) = call(
        &app,
        "POST",
        "/shipping/aras/rates",
        Some(&json!({"region": "moon", "parcels": rates["parcels"]})),
    )
    .await;
    assert_eq!(status, 400);
    let no_tariff = h.shipments(&aras, None);
    let (status, answer) = call(&no_tariff, "POST", "/shipping/aras/rates", Some(&rates)).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (422, &json!("no_tariff")),
        "{answer}"
    );
}

#[tokio::test]
async fn the_tracking_poll_publishes_changes_and_tells_trendyol_the_number_once() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let tracking = h.shipment_tracking(&aras);
    let package = h.trendyol.add_order(&[("TRK-1", 1, 10.0)]);
    let package_id = package["id"].as_i64().unwrap();
    let order_number = package["orderNumber"].as_str().unwrap().to_string();
    h.order_poll(&[]).run(i64::MAX).await;
    h.trendyol.update_status(package_id, "Picking");

    let mut body = shipment_body("ord-trk-1");
    body["marketplaceOrder"] = json!({
        "marketplace": "trendyol", "orderNumber": order_number, "packageId": package_id.to_string()
    });
    let (status, s) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 201, "{s}");
    let id = s["shipmentId"].as_str().unwrap().to_string();

    // Not handed over yet: nothing to tell.
    let report = tracking.poll_tracking().await.unwrap();
    assert_eq!((report.open, report.pushed), (1, 0), "{report:?}");
    assert_eq!(h.trendyol.tracking_request_count(), 0);

    aras.advance(&id, FakeStatus::OnTheWay);
    let report = tracking.poll_tracking().await.unwrap();
    assert_eq!((report.changed, report.pushed), (1, 1), "{report:?}");
    let number = aras.shipment(&id).unwrap().tracking_number;
    assert_eq!(h.trendyol.tracking_number(package_id), Some(number));

    let report = tracking.poll_tracking().await.unwrap();
    assert_eq!((report.changed, report.pushed), (0, 0), "{report:?}");
    assert_eq!(h.trendyol.tracking_request_count(), 1, "pushed once");

    // A publish failure: the change is published again by the next poll.
    aras.advance(&id, FakeStatus::Delivered);
    h.publisher.fail_next.store(1, Ordering::SeqCst);
    // Every open shipment failed: the invocation fails (counted in CloudWatch).
    assert!(tracking.poll_tracking().await.is_err());
    let report = tracking.poll_tracking().await.unwrap();
    assert_eq!(report.changed, 1, "{report:?}");
    let report = tracking.poll_tracking().await.unwrap();
    assert_eq!(report.open, 0, "delivered is final: {report:?}");
    let statuses: Vec<String> = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type == DetailType::ShipmentStatusChanged)
        .map(|e| {
            serde_json::to_value(e).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(statuses, ["inTransit", "delivered"]);
}

#[tokio::test]
async fn a_hepsiburada_package_gets_its_tracking_number_and_unknown_orders_are_refused() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let tracking = h.shipment_tracking(&aras);
    let order = h.hepsiburada.add_order_lines(&[("TRK-2", 1, 10.0)]);
    h.order_poll(&[]).run(i64::MAX).await;
    let package = h.hepsiburada.add_package(&order.order_number);

    let mut body = shipment_body("ord-trk-2");
    body["marketplaceOrder"] = json!({
        "marketplace": "hepsiburada", "orderNumber": "HB-UNKNOWN", "packageId": package
    });
    let (status, _) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 404);
    assert_eq!(aras.requests("SetOrder"), 0);

    body["marketplaceOrder"]["orderNumber"] = order.order_number.clone().into();
    let (status, s) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 201, "{s}");
    let id = s["shipmentId"].as_str().unwrap();
    aras.advance(id, FakeStatus::AtOriginBranch);
    let report = tracking.poll_tracking().await.unwrap();
    assert_eq!(report.pushed, 1, "{report:?}");
    let number = aras.shipment(id).unwrap().tracking_number;
    assert_eq!(h.hepsiburada.tracking_number(&package), Some(number));
    let sent = h.hepsiburada.intransit_body(&package).unwrap();
    assert!(
        sent["trackingUrl"].as_str().unwrap().contains("araskargo"),
        "{sent}"
    );
}

/// Issue 17 item 5. Aras's integration document: "935 | Bir siparişe ait
/// bilgiler en fazla 20 kez gönderilebilir." — a SetOrder with an
/// IntegrationCode Aras holds *updates* that order. So one shipment per
/// IntegrationCode must hold by our own record: a create with other content
/// for a created shipment is refused (409) and nothing reaches Aras; a
/// create while another is registering the same shipment is refused too;
/// an expired claim can be taken over.
#[tokio::test]
async fn one_shipment_per_integration_code_holds_by_our_record() {
    use ayaztrade::domain::shipment::ShipmentState;
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let body = shipment_body("ord-ship-17");
    let mut other = body.clone();
    other["receiver"]["address"] = "Başka Sok. No:9".into();

    // Two creates at once: the first claims the shipment (its SetOrder is
    // slow and its answer lost), the second is told to come back.
    aras.push_fault_for(
        "SetOrder",
        Fault::AfterProcessing(Box::new(Fault::Hang(std::time::Duration::from_secs(2)))),
    );
    let (first, second) = tokio::join!(
        call(&app, "POST", "/shipping/aras/shipments", Some(&body)),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            call(&app, "POST", "/shipping/aras/shipments", Some(&other)).await
        }
    );
    assert_eq!(first.0, 201, "{}", first.1);
    assert_eq!(second.0, 409, "{}", second.1);
    assert_eq!(
        second.1["error"]["code"], "shipment_in_progress",
        "{}",
        second.1
    );
    let id = first.1["shipmentId"].as_str().unwrap().to_string();
    assert_eq!(aras.requests("SetOrder"), 1);

    // Other content for the created shipment: refused, Aras untouched.
    let (status, answer) = call(&app, "POST", "/shipping/aras/shipments", Some(&other)).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "shipment_differs", "{answer}");
    let held = aras.shipment(&id).unwrap();
    assert_eq!((held.sends, aras.requests("SetOrder")), (1, 1));
    assert_eq!(held.fields["ReceiverAddress"], "Moda Cad. No:5 D:3");
    // The same content: answered from the record.
    let (status, _) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 200);

    // A claim whose holder died is taken over; Aras already has the order,
    // so it is recorded from Aras's copy and not sent again.
    let store = h.catalog_store();
    let (mut record, version) = store.get_shipment(&id).await.unwrap().unwrap();
    record.state = ShipmentState::Registering { until_ms: 1 };
    assert!(store.update_shipment(&record, version).await.unwrap());
    let (status, answer) = call(&app, "POST", "/shipping/aras/shipments", Some(&body)).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(aras.requests("SetOrder"), 1);
    assert_eq!(aras.shipment(&id).unwrap().sends, 1);
}

/// Issue 17 item 2. Aras's document: "TradingWaybillNumber | String(16) |
/// Sevk İrsaliye No. | Evet". The merchant's dispatch note number when
/// given, else our 16-character short id.
#[tokio::test]
async fn the_waybill_number_is_the_merchants_or_our_short_id() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let (status, s) = call(
        &app,
        "POST",
        "/shipping/aras/shipments",
        Some(&shipment_body("ord-wb-1")),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let id = s["shipmentId"].as_str().unwrap();
    assert_eq!(
        aras.shipment(id).unwrap().fields["TradingWaybillNumber"],
        id[..16]
    );
    let mut given = shipment_body("ord-wb-2");
    given["waybillNumber"] = "ABC2026000000123".into();
    let (status, s) = call(&app, "POST", "/shipping/aras/shipments", Some(&given)).await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(
        aras.shipment(s["shipmentId"].as_str().unwrap())
            .unwrap()
            .fields["TradingWaybillNumber"],
        "ABC2026000000123"
    );
    given["waybillNumber"] = "ABC20260000001234".into();
    given["reference"] = "2".into();
    let (status, s) = call(&app, "POST", "/shipping/aras/shipments", Some(&given)).await;
    assert_eq!(status, 400, "{s}");
    assert!(s.to_string().contains("waybillNumber"), "{s}");
}
