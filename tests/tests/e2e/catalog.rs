//! The catalog: products in through the API, out to Trendyol and
//! Hepsiburada through product-sync and catalog-worker, against both
//! marketplace fakes and the local AWS stack.

use std::time::Duration;

use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::product::SyncKind;
use ayaztrade::ports::{CatalogSyncStore, ProductStore};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::{http_request, response_json};
use ayaztrade_tests::hepsiburada_fake;
use ayaztrade_tests::trendyol_fake::{self, Kind};
use serde_json::json;

fn skus(n: usize, prefix: &str) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:05}")).collect()
}

#[tokio::test]
async fn given_new_products_when_synced_then_both_marketplaces_acknowledge_each_once() {
    let h = CatalogHarness::start(2, &[]).await;
    let skus = skus(30, "NEW");
    let products: Vec<_> = skus.iter().map(|s| product_json(s, 7, 19_990)).collect();
    h.put_products(&products).await;

    let report = h.cycle().await;
    assert_eq!(report.pending_products, 30);
    assert_eq!(report.batches.get("trendyol:create"), Some(&1));
    assert_eq!(report.batches.get("hepsiburada:create"), Some(&1));

    for sku in &skus {
        let barcode = format!("BC-{sku}");
        assert_eq!(
            h.trendyol.accepted_count(&barcode, Kind::Create),
            1,
            "{sku}"
        );
        assert_eq!(h.hepsiburada.accepted_count(sku, Kind::Create), 1, "{sku}");
        let on_trendyol = h.trendyol.product(&barcode).expect("on Trendyol");
        assert_eq!(on_trendyol.quantity, 7);
    }
    let stored = h
        .catalog_store()
        .get_product(&skus[0])
        .await
        .unwrap()
        .unwrap();
    for m in Marketplace::ALL {
        for k in SyncKind::ALL {
            assert_eq!(
                stored.listing(m).kind(k).acked,
                stored.product.sync_hash(m, k),
                "{m:?} {k:?}"
            );
        }
    }

    // The next cycle finds nothing to send and takes them off the work list.
    let again = h.cycle().await;
    assert!(again.batches.is_empty(), "{again:?}");
    assert_eq!(again.settled, 30);
    assert!(h
        .catalog_store()
        .pending_products()
        .await
        .unwrap()
        .is_empty());
    assert_eq!(h.sync.run().await.unwrap().pending_products, 0);
    // A check redelivered while the first was still running (the driver's
    // visibility timeout is 1 s; a loaded machine can exceed it) publishes
    // again with the same event id: consumers dedupe on it.
    let events: std::collections::BTreeSet<String> = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e.detail_type.as_str(), e.event_id))
        .collect();
    assert_eq!(
        events.len(),
        2,
        "one catalog.sync.completed per batch: {events:?}"
    );
}

#[tokio::test]
async fn the_catalog_api_stores_valid_products_and_names_each_bad_field() {
    let h = CatalogHarness::start(1, &[]).await;
    let put = |sku: &str, body: serde_json::Value| {
        h.catalog.handle(http_request(
            "PUT",
            &format!("/catalog/products/{sku}"),
            Some(&body),
        ))
    };
    let mut p = product_json("API-1", 3, 10_000);
    p.as_object_mut().unwrap().remove("sku");
    let (status, body) = response_json(put("API-1", p.clone()).await.unwrap());
    assert_eq!((status, body["status"].as_str()), (201, Some("created")));
    let (status, body) = response_json(put("API-1", p.clone()).await.unwrap());
    assert_eq!((status, body["status"].as_str()), (200, Some("unchanged")));
    p["stock"] = json!(2);
    let (_, body) = response_json(put("API-1", p.clone()).await.unwrap());
    assert_eq!(body["status"], "updated");
    assert_eq!(body["version"], 2);

    let mut bad = p.clone();
    bad["vatRate"] = json!(18);
    bad["price"] = json!({"minor": 10.5, "currency": "TRY"});
    let (status, body) = response_json(put("API-2", bad).await.unwrap());
    assert_eq!(status, 400);
    assert_eq!(
        ayaztrade_tests::fixtures::error_fields(&body),
        vec!["price.minor"]
    );

    // Bulk: valid ones are stored, each invalid one says why.
    let mut wrong_vat = product_json("API-4", 1, 500);
    wrong_vat["vatRate"] = json!(18);
    let mut no_sku = product_json("API-5", 1, 500);
    no_sku.as_object_mut().unwrap().remove("sku");
    let bulk = json!({"products": [
        product_json("API-3", 1, 500), wrong_vat, no_sku, product_json("API-3", 2, 500)
    ]});
    let (status, body) = response_json(
        h.catalog
            .handle(http_request("POST", "/catalog/products", Some(&bulk)))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(
        (body["created"].as_u64(), body["invalid"].as_u64()),
        (Some(1), Some(3))
    );
    let fields: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["errors"].as_array().cloned().unwrap_or_default())
        .map(|e| e["field"].as_str().unwrap().to_string())
        .map(|f| Box::leak(f.into_boxed_str()) as &str)
        .collect();
    assert_eq!(
        fields,
        vec!["products[1].vatRate", "products[2].sku", "products[3].sku"]
    );

    let too_many = json!({"products": vec![product_json("X", 1, 500); 1001]});
    let (status, _) = response_json(
        h.catalog
            .handle(http_request("POST", "/catalog/products", Some(&too_many)))
            .await
            .unwrap(),
    );
    assert_eq!(status, 400);

    let (status, body) = response_json(
        h.catalog
            .handle(http_request("GET", "/catalog/products/API-1", None))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(body["stock"], 2);
    assert_eq!(body["sync"]["trendyol"]["content"]["state"], "pending");
    let (status, _) = response_json(
        h.catalog
            .handle(http_request("GET", "/catalog/products/NOPE", None))
            .await
            .unwrap(),
    );
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_stock_change_reaches_both_marketplaces_without_resending_content_or_price() {
    let h = CatalogHarness::start(1, &[]).await;
    let products: Vec<_> = skus(5, "STK")
        .iter()
        .map(|s| product_json(s, 10, 9_990))
        .collect();
    h.put_products(&products).await;
    h.cycle().await;
    h.cycle().await;
    let before = h.trendyol.requests().len();

    let mut sold = product_json("STK-00002", 9, 9_990);
    sold.as_object_mut().unwrap().remove("sku");
    h.catalog
        .handle(http_request(
            "PUT",
            "/catalog/products/STK-00002",
            Some(&sold),
        ))
        .await
        .unwrap();
    let report = h.cycle().await;
    assert_eq!(report.items.get("trendyol:stock"), Some(&1), "{report:?}");
    assert_eq!(
        report.items.get("hepsiburada:stock"),
        Some(&1),
        "{report:?}"
    );
    assert_eq!(report.items.len(), 2, "{report:?}");

    let sent: Vec<_> = h.trendyol.requests()[before..]
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.json().unwrap())
        .collect();
    assert_eq!(
        sent,
        vec![json!({"items": [{"barcode": "BC-STK-00002", "quantity": 9}]})]
    );
    assert_eq!(h.trendyol.product("BC-STK-00002").unwrap().quantity, 9);
    assert_eq!(h.hepsiburada.listing("STK-00002").unwrap().stock, Some(9));
    assert_eq!(h.trendyol.accepted_count("BC-STK-00002", Kind::Stock), 1);
    assert_eq!(h.trendyol.accepted_count("BC-STK-00002", Kind::Content), 0);
    assert_eq!(h.trendyol.accepted_count("BC-STK-00002", Kind::Price), 0);
    assert_eq!(h.hepsiburada.accepted_count("STK-00002", Kind::Content), 0);
    assert_eq!(h.trendyol.accepted_count("BC-STK-00001", Kind::Stock), 0);
}

#[tokio::test]
async fn a_product_breaking_its_category_rules_is_refused_before_sending() {
    let h = CatalogHarness::start(1, &[]).await;
    let mut broken = product_json("CAT-1", 1, 1_000);
    // Beden (293) is required in the default Trendyol category.
    broken["trendyol"]["attributes"] =
        json!([{"attributeId": trendyol_fake::ATTR_COLOR, "customAttributeValue": "Mavi"}]);
    h.put_products(&[broken.clone(), product_json("CAT-2", 1, 1_000)])
        .await;
    let report = h.cycle().await;
    assert_eq!(report.refused, 1, "{report:?}");
    assert!(h.trendyol.product("BC-CAT-1").is_none());
    assert!(h.trendyol.product("BC-CAT-2").is_some());
    assert!(
        h.hepsiburada.listing("CAT-1").is_some(),
        "Hepsiburada's rules are met"
    );

    let (_, view) = response_json(
        h.catalog
            .handle(http_request("GET", "/catalog/products/CAT-1", None))
            .await
            .unwrap(),
    );
    assert_eq!(view["sync"]["trendyol"]["content"]["state"], "refused");
    let reason = view["sync"]["trendyol"]["content"]["reasons"][0]
        .as_str()
        .unwrap();
    assert!(reason.contains("required attribute 293"), "{reason}");
    assert_eq!(view["sync"]["hepsiburada"]["content"]["state"], "synced");

    // Refused as it is: not retried (and the product settles) until it changes.
    let again = h.cycle().await;
    assert!(again.batches.is_empty(), "{again:?}");
    let fixed = product_json("CAT-1", 1, 1_000);
    h.put_products(&[fixed]).await;
    h.cycle().await;
    assert_eq!(h.trendyol.accepted_count("BC-CAT-1", Kind::Create), 1);
}

#[tokio::test]
async fn a_content_change_updates_trendyol_by_content_id_and_reimports_on_hepsiburada() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("TTL-1", 1, 1_000)]).await;
    h.cycle().await;
    let mut renamed = product_json("TTL-1", 1, 1_000);
    renamed["title"] = json!("Yeni başlık");
    h.put_products(&[renamed]).await;
    let report = h.cycle().await;
    assert_eq!(report.items.get("trendyol:content"), Some(&1), "{report:?}");
    assert_eq!(
        report.items.get("hepsiburada:content"),
        Some(&1),
        "{report:?}"
    );
    assert_eq!(h.trendyol.product("BC-TTL-1").unwrap().title, "Yeni başlık");
    assert_eq!(h.trendyol.accepted_count("BC-TTL-1", Kind::Content), 1);
    assert_eq!(h.hepsiburada.accepted_count("TTL-1", Kind::Content), 1);
    // The content id was looked up once and kept.
    let stored = h
        .catalog_store()
        .get_product("TTL-1")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.trendyol_content_id.is_some());
    assert_eq!(h.trendyol.request_count(trendyol_fake::PRODUCT_INFO), 1);
}

#[tokio::test]
async fn an_identical_price_and_stock_body_is_never_resent_within_the_window() {
    // A short window stands in for Trendyol's 15 minutes, on both sides.
    let h = CatalogHarness::start(1, &[("TRENDYOL_DUPLICATE_WINDOW_SECS", "3")]).await;
    h.trendyol.set_duplicate_window(Duration::from_secs(3));
    h.put_products(&[product_json("DUP-1", 5, 1_000)]).await;
    h.cycle().await;
    let started = std::time::Instant::now();
    for stock in [4, 5, 4] {
        h.put_products(&[product_json("DUP-1", stock, 1_000)]).await;
        h.cycle().await;
    }
    let refused: Vec<_> = h
        .trendyol
        .requests()
        .into_iter()
        .filter(|r| r.status == 400)
        .collect();
    assert!(
        refused.is_empty(),
        "Trendyol refused a repeated body: {refused:?}"
    );
    assert_eq!(h.trendyol.product("BC-DUP-1").unwrap().quantity, 4);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the repeat waited for the window"
    );
    let stored = h
        .catalog_store()
        .get_product("DUP-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.trendyol.stock.acked,
        stored
            .product
            .sync_hash(Marketplace::Trendyol, SyncKind::Stock)
    );
}

#[tokio::test]
async fn a_redelivered_send_job_submits_its_batch_once() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("RED-1", 1, 1_000)]).await;
    h.sync.run().await.unwrap();
    let received = h
        .sqs
        .receive_message()
        .queue_url(&h.stack.catalog_queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let messages = received.messages.unwrap_or_default();
    assert_eq!(messages.len(), 2, "one create per marketplace");
    for _ in 0..3 {
        for m in &messages {
            let job = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
            h.workers[0].run(job).await.unwrap();
        }
    }
    h.drain(Duration::from_secs(1), 50).await;
    assert_eq!(h.trendyol.request_count(trendyol_fake::CREATE_PRODUCTS), 1);
    assert_eq!(
        h.hepsiburada
            .request_count(hepsiburada_fake::PRODUCT_IMPORT),
        1
    );
    assert_eq!(h.trendyol.accepted_count("BC-RED-1", Kind::Create), 1);
}

/// Products in the fault test: 10,000 by default (the size);
/// `CATALOG_FAULT_PRODUCTS=1000` for a quicker local run.
fn fault_test_size() -> usize {
    std::env::var("CATALOG_FAULT_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[tokio::test]
async fn ten_thousand_products_through_assorted_faults_are_acknowledged_once_each() {
    use ayaztrade_tests::trendyol_fake::Fault;
    let n = fault_test_size();
    // One worker keeps the order of requests, and so the seeded faults,
    // the same on every run.
    let h = CatalogHarness::start(1, &[("CATALOG_MAX_CHECKS", "50")]).await;
    let skus = skus(n, "FLT");
    let products: Vec<_> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| product_json(s, (i % 50) as i64, 1_000 + i as i64))
        .collect();
    let started = std::time::Instant::now();
    h.put_products(&products).await;
    eprintln!("stored {n} products in {:?}", started.elapsed());

    // 20 % of all provider calls fail: 429s, 5xx, timeouts (the fake sleeps
    // past our attempt timeout) and malformed 200s. None is processed.
    let menu = vec![
        Fault::Status(429),
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Timeout(Duration::from_millis(1_200)),
        Fault::Malformed,
    ];
    h.trendyol.set_random_faults(menu.clone());
    h.hepsiburada.set_random_faults(menu);
    h.trendyol.set_failure_rate(0.2, 7);
    h.hepsiburada.set_failure_rate(0.2, 11);
    // With 1,000 products per batch there are few calls: make sure every
    // kind of fault happens at least once, whatever the draw.
    for fake_faults in [
        Fault::Status(503),
        Fault::Timeout(Duration::from_millis(1_200)),
        Fault::Malformed,
        Fault::Status(429),
    ] {
        h.trendyol.push_fault(fake_faults.clone());
        h.hepsiburada.push_fault(fake_faults);
    }
    // And one message nobody can process.
    h.sqs
        .send_message()
        .queue_url(&h.stack.catalog_queue_url)
        .message_body("{\"send\": \"not a job\"}")
        .send()
        .await
        .unwrap();

    let mut cycles = 0;
    loop {
        cycles += 1;
        let started = std::time::Instant::now();
        let report = h.cycle().await;
        eprintln!("cycle {cycles} ({:?}): {report:?}", started.elapsed());
        if report.pending_products == 0 {
            break;
        }
        assert!(
            cycles < 8,
            "still not settled after {cycles} cycles: {report:?}"
        );
    }
    assert!(h.trendyol.faults_injected() > 0 && h.hepsiburada.faults_injected() > 0);

    for kind in [Kind::Create, Kind::Content, Kind::Price, Kind::Stock] {
        assert!(
            h.trendyol.accepted_more_than_once(kind).is_empty(),
            "{kind:?}"
        );
        assert!(
            h.hepsiburada.accepted_more_than_once(kind).is_empty(),
            "{kind:?}"
        );
    }
    for (i, sku) in skus.iter().enumerate() {
        let barcode = format!("BC-{sku}");
        assert_eq!(
            h.trendyol.accepted_count(&barcode, Kind::Create),
            1,
            "{sku}"
        );
        assert_eq!(h.hepsiburada.accepted_count(sku, Kind::Create), 1, "{sku}");
        assert_eq!(
            h.trendyol.product(&barcode).unwrap().quantity,
            (i % 50) as i64
        );
    }
    let dlq = h.dlq_bodies().await;
    assert_eq!(
        dlq,
        vec!["{\"send\": \"not a job\"}".to_string()],
        "only the unprocessable message"
    );
}

#[tokio::test]
async fn a_field_trendyol_fixes_at_creation_is_refused_with_its_reason_not_acknowledged() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("VAT-1", 4, 2_000)]).await;
    h.cycle().await;
    let mut new_vat = product_json("VAT-1", 4, 2_000);
    new_vat["vatRate"] = json!(10);
    h.put_products(&[new_vat]).await;
    let report = h.cycle().await;
    assert_eq!(report.refused, 1, "{report:?}");
    assert_eq!(
        report.items.get("hepsiburada:content"),
        Some(&1),
        "{report:?}"
    );
    assert!(!report.items.contains_key("trendyol:content"), "{report:?}");
    assert_eq!(h.trendyol.product("BC-VAT-1").unwrap().vat_rate, 20);
    assert_eq!(h.hepsiburada.listing("VAT-1").unwrap().vat_rate, 10);
    let (_, view) = response_json(
        h.catalog
            .handle(http_request("GET", "/catalog/products/VAT-1", None))
            .await
            .unwrap(),
    );
    let trendyol = &view["sync"]["trendyol"]["content"];
    assert_eq!(trendyol["state"], "refused");
    assert!(
        trendyol["reasons"][0].as_str().unwrap().contains("VAT"),
        "{trendyol}"
    );
    assert_eq!(view["sync"]["hepsiburada"]["content"]["state"], "synced");
}

#[tokio::test]
async fn a_barcode_already_listed_on_trendyol_is_adopted_and_updated_not_left_refused() {
    let h = CatalogHarness::start(1, &[]).await;
    // Listed on Trendyol before (by hand, or a create whose answer we lost).
    let mut earlier = product_json("ADO-1", 3, 2_000);
    earlier["title"] = json!("Eski başlık");
    let sku = "ADO-1";
    let product = {
        let mut j = earlier.clone();
        j.as_object_mut().unwrap().remove("sku");
        ayaztrade::domain::product::validate_product(sku, serde_json::from_value(j).unwrap())
            .unwrap()
    };
    let item = ayaztrade::providers::marketplace::trendyol::catalog::wire_item(
        &product,
        ayaztrade::domain::catalog_sync::Push::Create,
        None,
    )
    .unwrap();
    h.trendyol
        .preload(&[serde_json::from_str(item.get()).unwrap()]);

    h.put_products(&[product_json("ADO-1", 8, 2_500)]).await;
    for _ in 0..3 {
        h.cycle().await;
    }
    let on_trendyol = h.trendyol.product("BC-ADO-1").unwrap();
    assert_eq!(on_trendyol.quantity, 8);
    assert_eq!(on_trendyol.title, "Tişört ADO-1");
    assert_eq!(on_trendyol.sale_price, 25.0);
    let (_, view) = response_json(
        h.catalog
            .handle(http_request("GET", "/catalog/products/ADO-1", None))
            .await
            .unwrap(),
    );
    for kind in ["content", "price", "stock"] {
        assert_eq!(
            view["sync"]["trendyol"][kind]["state"], "synced",
            "{kind}: {view}"
        );
    }
}

#[tokio::test]
async fn a_result_of_an_older_plan_never_overwrites_a_newer_one() {
    use ayaztrade::ports::{ResultOutcome, SyncResult};
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("ORD-1", 1, 1_000)]).await;
    let store = h.catalog_store();
    let record = |hash: &'static str, planned_ms: i64| {
        let store = store.clone();
        async move {
            let hashes = vec![(SyncKind::Price, hash.to_string())];
            store
                .record_result(&SyncResult {
                    sku: "ORD-1",
                    marketplace: Marketplace::Trendyol,
                    hashes: &hashes,
                    fixed: None,
                    outcome: ResultOutcome::Acknowledged,
                    planned_ms,
                })
                .await
                .unwrap()
        }
    };
    record("newer", 2_000).await;
    record("older", 1_000).await;
    let stored = store.get_product("ORD-1").await.unwrap().unwrap();
    assert_eq!(stored.trendyol.price.acked.as_deref(), Some("newer"));
}

/// Stock in seconds (issue 14 item 5), a change arriving while the previous
/// stock push is still awaiting its result: one batch per kind at a time
/// keeps results in order, so the plan holds it — and queues a follow-up
/// nudge for after the result check, instead of leaving it to the next
/// scheduled run. Each figure goes out once; nothing is refused.
#[tokio::test]
async fn a_stock_change_while_the_last_push_awaits_its_result_follows_it_within_seconds() {
    let h = CatalogHarness::start(1, &[("CATALOG_CHECK_DELAY_SECS", "2")]).await;
    h.put_products(&[product_json("FOL-1", 2, 1_000)]).await;
    h.cycle().await;
    h.cycle().await;
    h.stock_sync(Duration::from_secs(1)).await;
    let hb_before = h.hepsiburada.accepted_count("FOL-1", Kind::Stock);
    let ty_before = h.trendyol.accepted_count("BC-FOL-1", Kind::Stock);

    // First change: planned from its nudge, sent; its check is 2 s away.
    h.put_products(&[product_json("FOL-1", 1, 1_000)]).await;
    let (n, answer) = h.stock_sync(Duration::from_secs(5)).await;
    assert_eq!((n, answer.batch_item_failures.len()), (1, 0));
    let sent_one = || {
        h.hepsiburada.listing("FOL-1").unwrap().stock == Some(1)
            && h.trendyol.product("BC-FOL-1").unwrap().quantity == 1
    };
    h.drain_until(Duration::from_secs(1), 50, sent_one).await;
    assert!(sent_one());

    // Second change while both pushes are in flight: held, followed up.
    let changed = std::time::Instant::now();
    h.put_products(&[product_json("FOL-1", 0, 1_000)]).await;
    let (n, _) = h.stock_sync(Duration::from_secs(5)).await;
    assert_eq!(n, 1);
    // The checks come in; then the follow-up (5 s) plans the new figure.
    h.drain(Duration::from_secs(1), 50).await;
    let (follow_ups, answer) = h.stock_sync(Duration::from_secs(15)).await;
    assert_eq!(follow_ups, 1, "the held change was followed up");
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    h.drain(Duration::from_secs(1), 50).await;
    assert_eq!(h.hepsiburada.listing("FOL-1").unwrap().stock, Some(0));
    assert_eq!(h.trendyol.product("BC-FOL-1").unwrap().quantity, 0);
    println!(
        "BENCH stock: a change held by an in-flight push went out {} ms after it was made",
        changed.elapsed().as_millis()
    );
    assert_eq!(
        h.hepsiburada.accepted_count("FOL-1", Kind::Stock),
        hb_before + 2
    );
    assert_eq!(
        h.trendyol.accepted_count("BC-FOL-1", Kind::Stock),
        ty_before + 2
    );
    let refused: Vec<_> = h
        .trendyol
        .requests()
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    let report = h.cycle().await;
    assert!(report.batches.is_empty(), "{report:?}");
}

/// Stock in seconds and Trendyol's 15-minute rule: a sale and its
/// cancellation inside the window bring the stock back to a figure Trendyol
/// was sent moments ago. The fast path plans it at once; Hepsiburada gets it
/// at once; the Trendyol body waits out the window in the worker's
/// repeated-body guard instead of being sent and refused.
#[tokio::test]
async fn a_stock_change_back_within_trendyols_window_waits_for_it_and_is_never_refused() {
    let h = CatalogHarness::start(1, &[("TRENDYOL_DUPLICATE_WINDOW_SECS", "4")]).await;
    h.trendyol.set_duplicate_window(Duration::from_secs(4));
    h.put_products(&[product_json("BACK-1", 5, 1_000)]).await;
    h.cycle().await;
    h.cycle().await;
    h.stock_sync(Duration::from_secs(1)).await;
    // 5 → 4 → 5 → 4 through the fast path, each planned at once.
    for stock in [4, 5, 4] {
        h.put_products(&[product_json("BACK-1", stock, 1_000)])
            .await;
        let (n, answer) = h.stock_sync(Duration::from_secs(5)).await;
        assert_eq!((n, answer.batch_item_failures.len()), (1, 0));
        let planned = std::time::Instant::now();
        let on_hb = || h.hepsiburada.listing("BACK-1").unwrap().stock == Some(stock);
        h.drain_until(Duration::from_secs(1), 30, on_hb).await;
        assert!(on_hb(), "Hepsiburada has {stock} at once");
        assert!(planned.elapsed() < Duration::from_secs(3));
        // Results in, and (the last time) Trendyol's repeat sent after its window.
        h.drain(Duration::from_secs(1), 200).await;
    }
    assert_eq!(h.trendyol.product("BC-BACK-1").unwrap().quantity, 4);
    let refused: Vec<_> = h
        .trendyol
        .requests()
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect();
    assert!(refused.is_empty(), "Trendyol refused: {refused:?}");
}
