//! The `events/` fixtures of the catalog functions (written by
//! tools/gen_events.py from `sam local generate-event`) are what the Lambda
//! runtime would hand each function: they deserialize into the event types
//! the functions take and do what `make dev`'s instructions say they do.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use ayaztrade::apps::catalog;
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::domain::catalog_sync::{CatalogJob, Push};
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::product::SyncKind;
use ayaztrade::ports::{MarketplaceOrderStore, ProductStore};
use ayaztrade_tests::catalog_support::CatalogHarness;
use ayaztrade_tests::fixtures::{lambda_event, response_json};
use ayaztrade_tests::local_stack::{stack, workspace_root};
use ayaztrade_tests::trendyol_fake;
use serde_json::{json, Value};

fn read_event(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join(format!("events/{name}.json")))
        .unwrap_or_else(|e| panic!("events/{name}.json: {e}"))
}

fn demo_products() -> Vec<Value> {
    let body: Value = serde_json::from_str(&read_event("demo-products")).unwrap();
    body["products"].as_array().expect("products").clone()
}

fn demo_skus() -> Vec<String> {
    demo_products()
        .iter()
        .map(|p| p["sku"].as_str().expect("sku").to_string())
        .collect()
}

fn worker_event() -> SqsEvent {
    serde_json::from_str(&read_event("catalog-worker-sqs")).expect("an SQS event")
}

#[test]
fn the_worker_event_is_an_sqs_event_carrying_a_catalog_job() {
    let event = worker_event();
    assert_eq!(event.records.len(), 1);
    let record = &event.records[0];
    assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
    assert!(record.message_id.is_some());
    let job: CatalogJob =
        serde_json::from_str(record.body.as_deref().expect("a body")).expect("a catalog job");
    let CatalogJob::Check {
        plan_id,
        marketplace,
        push,
        batch_id,
        attempt,
    } = job
    else {
        panic!("a check job: {job:?}")
    };
    assert_eq!(
        (
            plan_id.as_str(),
            marketplace,
            push,
            batch_id.as_str(),
            attempt
        ),
        (
            "demo-plan",
            Marketplace::Trendyol,
            Push::Stock,
            "demo-batch",
            1
        )
    );
}

#[test]
fn the_schedule_events_are_eventbridge_scheduled_events() {
    for name in [
        "product-sync-schedule",
        "order-poll-schedule",
        "shipment-tracking-schedule",
    ] {
        let text = read_event(name);
        let event: EventBridgeEvent = serde_json::from_str(&text).expect("an EventBridge event");
        assert_eq!(event.detail_type, "Scheduled Event");
        assert_eq!(event.source, "aws.events");
        // product-sync and order-poll take any JSON (`LambdaEvent<serde_json::Value>`).
        let _: Value = serde_json::from_str(&text).unwrap();
    }
}

#[tokio::test]
async fn the_order_poll_event_runs_one_poll() {
    let h = CatalogHarness::start(1, &[]).await;
    let package = h.trendyol.add_order(&[("EVT-1", 1, 10.0)]);
    let event: Value = serde_json::from_str(&read_event("order-poll-schedule")).unwrap();
    let report = h
        .order_poll(&[])
        .handle(lambda_http::lambda_runtime::LambdaEvent::new(
            event,
            lambda_http::lambda_runtime::Context::default(),
        ))
        .await
        .expect("a poll");
    let ty = &report.marketplaces[0];
    assert_eq!(
        (ty.marketplace.as_str(), ty.created),
        ("trendyol", 1),
        "{report:?}"
    );
    assert!(h
        .catalog_store()
        .load_marketplace_order(
            Marketplace::Trendyol,
            package["orderNumber"].as_str().unwrap()
        )
        .await
        .unwrap()
        .is_some());
}

/// The context `cargo lambda watch` (1.9) hands every function: its
/// `Lambda-Runtime-Deadline-Ms` is the constant 600000, an epoch time in
/// 1970, not a deadline.
fn cargo_lambda_context() -> lambda_http::lambda_runtime::Context {
    let mut context = lambda_http::lambda_runtime::Context::default();
    context.deadline = 600_000;
    context
}

#[tokio::test]
async fn the_order_poll_event_polls_under_cargo_lambda_watch() {
    let h = CatalogHarness::start(1, &[]).await;
    h.trendyol.add_order(&[("EVT-CL-1", 1, 10.0)]);
    let event: Value = serde_json::from_str(&read_event("order-poll-schedule")).unwrap();
    let report = h
        .order_poll(&[])
        .handle(lambda_http::lambda_runtime::LambdaEvent::new(
            event,
            cargo_lambda_context(),
        ))
        .await
        .expect("a poll");
    let ty = &report.marketplaces[0];
    assert_eq!(
        (ty.windows, ty.created, ty.caught_up),
        (1, 1, true),
        "not \"out of time\": {report:?}"
    );
}

#[tokio::test]
async fn the_tracking_event_tracks_under_cargo_lambda_watch() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ayaztrade_tests::aras_fake::ArasFake::start().await;
    let app = h.shipments(&aras, None);
    let tracking = h.shipment_tracking(&aras);
    let body = json!({
        "orderId": "ord-cl-track-1",
        "receiver": {"name": "Ayşe Yılmaz", "address": "Moda Cad. No:5", "city": "İstanbul",
                     "town": "Kadıköy", "phone": "05321234567"},
        "parcels": [{"weightKg": 1.5, "widthCm": 30, "heightCm": 20, "lengthCm": 10}]
    });
    let (status, s) = response_json(
        app.handle(ayaztrade_tests::fixtures::http_request(
            "POST",
            "/shipping/aras/shipments",
            Some(&body),
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 201, "{s}");
    let event: Value = serde_json::from_str(&read_event("shipment-tracking-schedule")).unwrap();
    let report = tracking
        .handle(lambda_http::lambda_runtime::LambdaEvent::new(
            event,
            cargo_lambda_context(),
        ))
        .await
        .expect("a tracking poll");
    // Other tests' shipments may be open in the shared table too.
    assert!(report.open >= 1 && report.left == 0, "{report:?}");
}

#[tokio::test]
async fn the_catalog_events_store_the_demo_products_and_read_one_back() {
    let stack = stack().await;
    let app = catalog::App::new(DynamoStore::new(
        stack.dynamo.clone(),
        stack.table_name.clone(),
    ));
    let skus = demo_skus();
    assert_eq!(skus.len(), 3);

    let (status, body) = response_json(app.handle(lambda_event("put-products")).await.unwrap());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["created"].as_u64(),
            body["invalid"].as_u64(),
            body["failed"].as_u64()
        ),
        (Some(3), Some(0), Some(0)),
        "{body}"
    );
    let store = DynamoStore::new(stack.dynamo.clone(), stack.table_name.clone());
    for sku in &skus {
        let stored = store.get_product(sku).await.unwrap();
        assert!(stored.is_some(), "{sku} stored");
    }

    // get-product.json and put-product.json name one of the demo products;
    // put-product.json's body is that product, so nothing changes.
    let (status, body) = response_json(app.handle(lambda_event("get-product")).await.unwrap());
    assert_eq!(status, 200, "{body}");
    assert!(skus.contains(&body["sku"].as_str().unwrap_or_default().to_string()));
    let (status, body) = response_json(app.handle(lambda_event("put-product")).await.unwrap());
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("unchanged")),
        "{body}"
    );
}

#[tokio::test]
async fn the_demo_products_sync_to_both_marketplace_fakes() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&demo_products()).await;
    let report = h.cycle().await;
    assert_eq!(
        (report.pending_products, report.refused),
        (3, 0),
        "{report:?}"
    );
    let store = h.catalog_store();
    for sku in demo_skus() {
        assert!(
            h.trendyol.product(&format!("BC-{sku}")).is_some(),
            "{sku} on Trendyol"
        );
        let stored = store.get_product(&sku).await.unwrap().unwrap();
        for m in Marketplace::ALL {
            for k in SyncKind::ALL {
                assert_eq!(
                    stored.listing(m).kind(k).acked,
                    stored.product.sync_hash(m, k),
                    "{sku} {m:?} {k:?} acknowledged"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_check_of_a_batch_trendyol_does_not_know_is_reported_as_a_batch_item_failure() {
    use ayaztrade::domain::catalog_sync::Push;
    use ayaztrade::ports::{CatalogSyncStore, Plan};
    let h = CatalogHarness::start(1, &[]).await;
    // The plan the event's check names, as a sync would have left it.
    let plan = Plan {
        plan_id: "demo-plan".into(),
        marketplace: Marketplace::Trendyol,
        push: Push::Stock,
        items: vec![],
        created_ms: 1,
        batch_id: Some("demo-batch".into()),
    };
    h.catalog_store()
        .put_plans(&[plan], i64::MAX / 2)
        .await
        .unwrap();
    let event = worker_event();
    let message_id = event.records[0].message_id.clone().unwrap();
    let response = h.workers[0].process(event).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec![message_id.as_str()]);
    // It failed on Trendyol's 404 for the unknown batch, not before asking.
    assert!(h.trendyol.request_count(trendyol_fake::BATCH_RESULT) >= 1);
}

#[tokio::test]
async fn a_check_whose_plan_is_gone_was_recorded_already_and_succeeds() {
    let h = CatalogHarness::start(1, &[]).await;
    let response = h.workers[0].process(worker_event()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(h.trendyol.request_count(trendyol_fake::BATCH_RESULT), 0);
}

#[tokio::test]
async fn the_shipment_events_create_track_quote_and_cancel_the_demo_shipment() {
    let h = CatalogHarness::start(1, &[]).await;
    let aras = ayaztrade_tests::aras_fake::ArasFake::start().await;
    let tariff = r#"{"bands": [{"upToDesi": 10, "prices": {"near": "110.00"}}]}"#;
    let app = h.shipments(&aras, Some(tariff));
    let (status, created) =
        response_json(app.handle(lambda_event("create-shipment")).await.unwrap());
    assert_eq!(status, 201, "{created}");
    // The events name the shipment the demo create makes.
    let tracking: Value = serde_json::from_str(&read_event("get-tracking")).unwrap();
    assert_eq!(
        tracking["pathParameters"]["code"], created["shipmentId"],
        "regenerate events (tools/gen_events.py) after changing the shipment id"
    );
    let (status, t) = response_json(app.handle(lambda_event("get-tracking")).await.unwrap());
    assert_eq!(
        (status, t["status"].as_str()),
        (200, Some("created")),
        "{t}"
    );
    let (status, q) = response_json(app.handle(lambda_event("shipment-rates")).await.unwrap());
    assert_eq!((status, &q["price"]["minor"]), (200, &json!(11_000)), "{q}");
    let (status, c) = response_json(app.handle(lambda_event("cancel-shipment")).await.unwrap());
    assert_eq!(
        (status, c["state"].as_str()),
        (200, Some("cancelled")),
        "{c}"
    );
}
