//! Marketplace orders end to end: order-poll and the webhook function taking
//! orders in through one intake, against both marketplace fakes and the
//! local AWS stack, and the stock they move reaching the other marketplace
//! through the catalog sync.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use ayaztrade::domain::event::DetailType;
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::marketplace_order::LineStock;
use ayaztrade::ports::{MarketplaceOrderStore, OrderCursorStore, ProductStore};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::response_json;
use ayaztrade_tests::hepsiburada_fake::{HbLineSpec, HbOrderSpec, HbPageHook};
use ayaztrade_tests::trendyol_fake::{LineSpec, PackageSpec, PageHook};
use ayaztrade_tests::webhook_support::{
    basic_auth, function_url_request, MARKETPLACE_PASSWORD, MARKETPLACE_USER,
};
use serde_json::json;

const HOUR_MS: u64 = 3_600_000;

async fn stock(h: &CatalogHarness, sku: &str) -> i64 {
    h.catalog_store()
        .get_product(sku)
        .await
        .unwrap()
        .expect("product")
        .product
        .stock
}

/// Published events by detail type.
fn published(h: &CatalogHarness) -> BTreeMap<&'static str, Vec<serde_json::Value>> {
    let mut by_type: BTreeMap<&'static str, Vec<serde_json::Value>> = BTreeMap::new();
    for e in h.publisher.published.lock().unwrap().iter() {
        by_type
            .entry(e.detail_type.as_str())
            .or_default()
            .push(serde_json::to_value(e).unwrap());
    }
    by_type
}

fn count(h: &CatalogHarness, detail_type: DetailType) -> usize {
    h.publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type == detail_type)
        .count()
}

async fn deliver(h: &CatalogHarness, path: &str, method: &str, body: &[u8]) -> serde_json::Value {
    let auth = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
    let req = function_url_request(method, path, &[("authorization", &auth)], body, false);
    let (status, json) = response_json(h.webhook().handle(req).await.unwrap());
    assert_eq!(status, 200, "{json}");
    json
}

async fn stored_line_stock(
    h: &CatalogHarness,
    m: Marketplace,
    order_number: &str,
) -> Vec<LineStock> {
    let (order, _) = h
        .catalog_store()
        .load_marketplace_order(m, order_number)
        .await
        .unwrap()
        .expect("stored order");
    order.lines.values().map(|l| l.stock).collect()
}

#[tokio::test]
async fn the_last_unit_sold_on_trendyol_leaves_hepsiburada_once_whoever_reports_it() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("LAST-1", 1, 9_990)]).await;
    h.cycle().await;
    h.cycle().await;
    assert_eq!(h.hepsiburada.listing("LAST-1").unwrap().stock, Some(1));

    let package = h.trendyol.add_order(&[("LAST-1", 1, 99.90)]);
    let order_number = package["orderNumber"].as_str().unwrap().to_string();
    let poll = h.order_poll(&[]);
    let report = poll.run(i64::MAX).await;
    let ty = &report.marketplaces[0];
    assert_eq!((ty.created, ty.error.as_deref()), (1, None), "{report:?}");
    assert_eq!(stock(&h, "LAST-1").await, 0);

    // The webhook for the same package, and the next poll over an
    // overlapping window: both find nothing new.
    let body = h.trendyol.webhook_body(package["id"].as_i64().unwrap());
    let answer = deliver(&h, "/webhooks/trendyol", "POST", &body).await;
    assert_eq!(answer["outcome"], "unchanged", "{answer}");
    let again = poll.run(i64::MAX).await;
    assert_eq!(again.marketplaces[0].created, 0, "{again:?}");
    assert!(again.marketplaces[0].unchanged >= 1, "{again:?}");
    assert_eq!(stock(&h, "LAST-1").await, 0);
    assert_eq!(count(&h, DetailType::MarketplaceOrderCreated), 1);
    let events = published(&h);
    let stock_events = &events["marketplace.stock.updated"];
    assert_eq!(stock_events.len(), 1);
    assert_eq!(stock_events[0]["sku"], "LAST-1");
    assert_eq!(stock_events[0]["change"], -1);
    assert_eq!(
        events["marketplace.order.created"][0]["orderNumber"],
        order_number.as_str()
    );

    // One sync cycle later Hepsiburada shows none left.
    let sync = h.cycle().await;
    assert_eq!(sync.items.get("hepsiburada:stock"), Some(&1), "{sync:?}");
    assert_eq!(h.hepsiburada.listing("LAST-1").unwrap().stock, Some(0));
    assert_eq!(h.trendyol.product("BC-LAST-1").unwrap().quantity, 0);
}

#[tokio::test]
async fn concurrent_orders_for_the_last_unit_exactly_one_wins() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("ONE-LEFT", 1, 5_000)]).await;
    let a = h.trendyol.add_order(&[("ONE-LEFT", 1, 50.0)]);
    let b = h.trendyol.add_order(&[("ONE-LEFT", 1, 50.0)]);
    let body_a = h.trendyol.webhook_body(a["id"].as_i64().unwrap());
    let body_b = h.trendyol.webhook_body(b["id"].as_i64().unwrap());
    let (ra, rb) = tokio::join!(
        deliver(&h, "/webhooks/trendyol", "POST", &body_a),
        deliver(&h, "/webhooks/trendyol", "POST", &body_b),
    );
    assert_eq!(
        (ra["outcome"].as_str(), rb["outcome"].as_str()),
        (Some("created"), Some("created"))
    );
    assert_eq!(stock(&h, "ONE-LEFT").await, 0, "never below zero");
    let mut lines = Vec::new();
    for p in [&a, &b] {
        lines.extend(
            stored_line_stock(
                &h,
                Marketplace::Trendyol,
                p["orderNumber"].as_str().unwrap(),
            )
            .await,
        );
    }
    lines.sort_by_key(|l| format!("{l:?}"));
    assert_eq!(lines, vec![LineStock::Oversold, LineStock::Taken]);
    let errors = published(&h)["integration.error"].clone();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["kind"], "oversell");

    // The poll sees both orders again and changes nothing.
    let report = h.order_poll(&[]).run(i64::MAX).await;
    assert_eq!(report.marketplaces[0].unchanged, 2, "{report:?}");
    assert_eq!(count(&h, DetailType::IntegrationError), 1);
}

#[tokio::test]
async fn cancellation_and_returns_give_stock_back_once() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[
        product_json("CAN-1", 5, 1_000),
        product_json("CAN-2", 5, 1_000),
    ])
    .await;
    let hb = h.hepsiburada.add_order_lines(&[("CAN-1", 2, 10.0)]);
    let ty = h.trendyol.add_order(&[("CAN-2", 3, 10.0)]);
    let poll = h.order_poll(&[]);
    let report = poll.run(i64::MAX).await;
    assert!(
        report
            .marketplaces
            .iter()
            .filter(|m| m.feed == "orders")
            .all(|m| m.created == 1),
        "{report:?}"
    );
    assert_eq!((stock(&h, "CAN-1").await, stock(&h, "CAN-2").await), (3, 2));

    // Hepsiburada tells us by webhook, twice (it retries).
    let body = serde_json::to_vec(&json!({"orderNumber": hb.order_number})).unwrap();
    let first = deliver(&h, "/webhooks/hepsiburada/orderCancel", "PUT", &body).await;
    assert_eq!(first["outcome"], "changed", "{first}");
    let second = deliver(&h, "/webhooks/hepsiburada/orderCancel", "PUT", &body).await;
    assert_eq!(second["duplicate"], true, "{second}");
    // A redelivery under another event identity reaches the intake, which
    // finds nothing new (cancelled is as far as it goes).
    let other =
        serde_json::to_vec(&json!({"orderNumber": hb.order_number, "eventId": "again"})).unwrap();
    let third = deliver(&h, "/webhooks/hepsiburada/orderCancel", "PUT", &other).await;
    assert_eq!(third["outcome"], "unchanged", "{third}");
    assert_eq!(stock(&h, "CAN-1").await, 5);

    // Trendyol's return is found by the poll (its webhook was lost). The
    // package status alone gives nothing back: the units come back through
    // the claim, once accepted with a reason that leaves them sellable.
    let package_id = ty["id"].as_i64().unwrap();
    h.trendyol.update_status(package_id, "Returned");
    let report = poll.run(i64::MAX).await;
    assert_eq!(report.marketplaces[0].changed, 1, "{report:?}");
    assert_eq!(stock(&h, "CAN-2").await, 2);
    let (claim, _) = h.trendyol.add_claim(package_id, &[(0, 3)], 401);
    h.trendyol.set_claim_item_status(&claim, &[], "Accepted");
    poll.run(i64::MAX).await;
    assert_eq!(stock(&h, "CAN-2").await, 5);
    poll.run(i64::MAX).await;
    assert_eq!(stock(&h, "CAN-2").await, 5, "given back once");
    let changes: Vec<i64> = published(&h)["marketplace.stock.updated"]
        .iter()
        .map(|e| e["change"].as_i64().unwrap())
        .collect();
    assert_eq!(changes.iter().sum::<i64>(), 0, "{changes:?}");
    assert_eq!(changes.len(), 4, "{changes:?}");
}

#[tokio::test]
async fn a_three_day_outage_is_caught_up_window_by_window() {
    let h = CatalogHarness::start(1, &[]).await;
    let store = h.catalog_store();
    let now = h.trendyol.clock_ms();
    let outage_start = now - 72 * HOUR_MS;
    for m in Marketplace::ALL {
        assert!(store
            .move_order_cursor(
                m,
                ayaztrade::ports::PollFeed::Orders,
                None,
                outage_start as i64
            )
            .await
            .unwrap());
    }
    for hours_ago in [71, 50, 26, 1] {
        let at = now - hours_ago * HOUR_MS;
        h.trendyol
            .add_package(PackageSpec::line("OUT-1", 1, 10.0).at(at).last_modified(at));
        h.hepsiburada
            .add_order(HbOrderSpec::line("OUT-1", 1, 10.0).at(at));
    }
    let report = h.order_poll(&[]).run(i64::MAX).await;
    for m in report.marketplaces.iter().filter(|m| m.feed == "orders") {
        assert_eq!((m.created, m.error.as_deref()), (4, None), "{m:?}");
        assert!(m.caught_up && m.windows >= 4, "{m:?}");
        assert!(m.cursor_ms.unwrap() >= now as i64 - 60_000, "{m:?}");
    }
    for q in h.hepsiburada.order_list_queries() {
        assert!(!q.truncated, "a window Hepsiburada would cut: {q:?}");
        assert!(
            q.end_ms.unwrap() - q.begin_ms.unwrap() <= 24 * HOUR_MS,
            "{q:?}"
        );
    }
    for q in h.trendyol.order_list_queries() {
        assert_eq!(q.http_status, 200, "{q:?}");
        assert!(q.end_date.unwrap() - q.start_date.unwrap() <= 14 * 24 * HOUR_MS as i64);
    }
}

#[tokio::test]
async fn orders_changing_between_pages_are_not_skipped() {
    let h = CatalogHarness::start(1, &[]).await;
    let now = h.trendyol.clock_ms();
    let (mut ty_ids, mut hb_orders) = (Vec::new(), Vec::new());
    for i in 0..12 {
        let at = now - 3_600_000 + i * 1_000;
        let p = h.trendyol.add_package(
            PackageSpec::new(vec![LineSpec::new("PG-1", 1, 5.0)])
                .at(at)
                .last_modified(at),
        );
        ty_ids.push(p["id"].as_i64().unwrap());
        hb_orders.push(
            h.hepsiburada
                .add_order(HbOrderSpec::new(vec![HbLineSpec::new("PG-1", 1, 5.0)]).at(at))
                .order_number,
        );
    }
    // Trendyol, between pages: a package of the first page changes status
    // (it leaves the window, everything after it shifts left) and a new
    // order arrives (after the window's end: the next run's).
    h.trendyol
        .on_next_page_request(PageHook::UpdateStatus(ty_ids[1], "Picking".into()));
    h.trendyol
        .insert_on_next_page_request(PackageSpec::line("PG-1", 1, 5.0).order_number("TY-LATE"));
    // Hepsiburada: a first-page line is packed (it leaves the open list),
    // and later a line paid late but dated inside the window shows up.
    h.hepsiburada.on_next_page_request(HbPageHook::UpdateStatus(
        hb_orders[1].clone(),
        "Packaged".into(),
    ));
    h.hepsiburada.on_order_list_request(
        4,
        HbPageHook::Insert(
            HbOrderSpec::line("PG-1", 1, 5.0)
                .order_number("HB-LATE")
                .at(now - 1_800_000),
        ),
    );
    let poll = h.order_poll(&[
        ("TRENDYOL_ORDER_PAGE_SIZE", "5"),
        ("HEPSIBURADA_ORDER_PAGE_SIZE", "5"),
    ]);
    let report = poll.run(i64::MAX).await;
    let (ty, hb) = (&report.marketplaces[0], &report.marketplaces[1]);
    assert_eq!((ty.created, ty.error.as_deref()), (12, None), "{ty:?}");
    assert_eq!((hb.created, hb.error.as_deref()), (13, None), "{hb:?}");
    assert!(ty.rereads >= 1 && hb.rereads >= 1, "{report:?}");

    let report = poll.run(i64::MAX).await;
    let ty = &report.marketplaces[0];
    assert_eq!((ty.created, ty.changed), (1, 1), "{ty:?}");
    assert_eq!(count(&h, DetailType::MarketplaceOrderCreated), 26);
}

#[tokio::test]
async fn an_event_lost_on_the_way_to_the_bus_goes_out_on_the_next_pass() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("OB-1", 3, 1_000)]).await;
    let package = h.trendyol.add_order(&[("OB-1", 1, 10.0)]);
    let store = h.catalog_store();
    let cursor_before = store
        .order_cursor(Marketplace::Trendyol, ayaztrade::ports::PollFeed::Orders)
        .await
        .unwrap();
    h.publisher.fail_next.store(1, Ordering::SeqCst);
    let report = h.order_poll(&[]).run(i64::MAX).await;
    assert!(report.marketplaces[0].error.is_some(), "{report:?}");
    assert_eq!(
        store
            .order_cursor(Marketplace::Trendyol, ayaztrade::ports::PollFeed::Orders)
            .await
            .unwrap(),
        cursor_before,
        "the window is read again"
    );
    assert_eq!(stock(&h, "OB-1").await, 2, "stored with its stock move");
    assert_eq!(count(&h, DetailType::MarketplaceOrderCreated), 0);

    let report = h.order_poll(&[]).run(i64::MAX).await;
    assert_eq!(report.marketplaces[0].error, None, "{report:?}");
    assert_eq!(count(&h, DetailType::MarketplaceOrderCreated), 1);
    assert_eq!(count(&h, DetailType::MarketplaceStockUpdated), 1);
    assert_eq!(stock(&h, "OB-1").await, 2);
    let (order, _) = store
        .load_marketplace_order(
            Marketplace::Trendyol,
            package["orderNumber"].as_str().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(order.outbox.is_empty());
}

#[tokio::test]
async fn a_webhook_whose_event_could_not_be_published_is_swept_by_the_poll() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("SW-1", 2, 1_000)]).await;
    let package = h.trendyol.add_order(&[("SW-1", 1, 10.0)]);
    let body = h.trendyol.webhook_body(package["id"].as_i64().unwrap());
    h.publisher.fail_next.store(1, Ordering::SeqCst);
    let auth = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
    let req = function_url_request(
        "POST",
        "/webhooks/trendyol",
        &[("authorization", &auth)],
        &body,
        false,
    );
    let (status, answer) = response_json(h.webhook().handle(req).await.unwrap());
    assert!(status >= 500, "{status} {answer}");
    assert_eq!(stock(&h, "SW-1").await, 1, "stored with its stock move");
    assert_eq!(count(&h, DetailType::MarketplaceOrderCreated), 0);

    // Trendyol gives up on the webhook; the next poll publishes what the
    // order's outbox holds, before it even lists orders.
    let report = h.order_poll(&[]).run(i64::MAX).await;
    assert_eq!(report.outboxes_flushed, 1, "{report:?}");
    assert_eq!(report.marketplaces[0].unchanged, 1, "{report:?}");
    assert_eq!(count(&h, DetailType::MarketplaceOrderCreated), 1);
    assert_eq!(count(&h, DetailType::MarketplaceStockUpdated), 1);
    let again = h.order_poll(&[]).run(i64::MAX).await;
    assert_eq!(again.outboxes_flushed, 0, "{again:?}");
}

#[tokio::test]
async fn a_product_stored_before_stock_had_its_own_attribute_still_moves() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("OLD-1", 4, 1_000)]).await;
    h.stack
        .dynamo
        .update_item()
        .table_name(&h.stack.table_name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("PRODUCT#OLD-1".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("PRODUCT".into()),
        )
        .update_expression("REMOVE stock")
        .send()
        .await
        .unwrap();
    h.trendyol.add_order(&[("OLD-1", 3, 10.0)]);
    let report = h.order_poll(&[]).run(i64::MAX).await;
    assert_eq!(report.marketplaces[0].created, 1, "{report:?}");
    assert_eq!(stock(&h, "OLD-1").await, 1);
    assert_eq!(count(&h, DetailType::IntegrationError), 0);
}

/// Issue 14 item 5, the proof: a Trendyol sale of the last unit reaches
/// Hepsiburada within seconds through the real path — the webhook's intake
/// publishes `marketplace.stock.updated`, the template's rule puts it on the
/// stock-sync queue, product-sync plans it from that SQS batch, one
/// catalog-worker pass sends it — with nothing refused for duplication and
/// nothing sent twice. The sale → push time is printed (BENCHMARKS.md).
#[tokio::test]
async fn a_trendyol_sale_of_the_last_unit_zeroes_hepsiburada_within_seconds() {
    use ayaztrade_tests::trendyol_fake::Kind;
    use std::time::{Duration, Instant};

    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("FAST-1", 1, 9_990)]).await;
    h.cycle().await;
    h.cycle().await;
    assert_eq!(h.hepsiburada.listing("FAST-1").unwrap().stock, Some(1));
    // The catalog API's own nudge for the setup: its plan finds nothing left.
    let (nudges, answer) = h.stock_sync(Duration::from_secs(1)).await;
    assert_eq!(nudges, 1, "the catalog call asked for a sync");
    assert!(answer.batch_item_failures.is_empty());
    let hb_stock_before = h.hepsiburada.accepted_count("FAST-1", Kind::Stock);
    let ty_stock_before = h.trendyol.accepted_count("BC-FAST-1", Kind::Stock);
    let ty_requests_before = h.trendyol.requests().len();

    let package = h.trendyol.add_order(&[("FAST-1", 1, 99.90)]);
    let body = h.trendyol.webhook_body(package["id"].as_i64().unwrap());
    let sold = Instant::now();
    let answer = deliver(&h, "/webhooks/trendyol", "POST", &body).await;
    assert_eq!(answer["outcome"], "created", "{answer}");
    let (messages, response) = h.stock_sync(Duration::from_secs(5)).await;
    assert_eq!(messages, 1, "the rule delivered marketplace.stock.updated");
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let zero = || {
        h.hepsiburada
            .listing("FAST-1")
            .is_some_and(|l| l.stock == Some(0))
    };
    let invocations = h.drain_until(Duration::from_secs(1), 50, zero).await;
    let latency = sold.elapsed();
    assert!(zero(), "Hepsiburada still shows stock");
    println!(
        "BENCH stock: Trendyol sale → Hepsiburada stock 0 in {} ms ({invocations} worker invocation(s))",
        latency.as_millis()
    );
    assert!(latency < Duration::from_secs(10), "{latency:?}");

    // The result checks, then a scheduled plan: nothing more goes out.
    h.drain(Duration::from_secs(1), 50).await;
    let report = h.cycle().await;
    assert!(report.batches.is_empty(), "{report:?}");
    assert_eq!(
        h.hepsiburada.accepted_count("FAST-1", Kind::Stock),
        hb_stock_before + 1,
        "Hepsiburada got the stock once"
    );
    assert_eq!(
        h.trendyol.accepted_count("BC-FAST-1", Kind::Stock),
        ty_stock_before + 1,
        "Trendyol got our figure once"
    );
    assert_eq!(h.trendyol.product("BC-FAST-1").unwrap().quantity, 0);
    let refused: Vec<_> = h.trendyol.requests()[ty_requests_before..]
        .iter()
        .filter(|r| r.status >= 400)
        .cloned()
        .collect();
    assert!(refused.is_empty(), "Trendyol refused: {refused:?}");
}

/// A stock change made while another sync holds the lock is not lost: its
/// message comes back (seconds later, not after the queue's 15-minute
/// visibility timeout) and is planned once the lock is free.
#[tokio::test]
async fn a_stock_change_during_a_running_plan_is_planned_right_after_it() {
    use ayaztrade::ports::CatalogSyncStore;
    use std::time::Duration;

    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("LOCK-1", 3, 1_000)]).await;
    h.cycle().await;
    h.cycle().await;
    h.stock_sync(Duration::from_secs(1)).await;

    let now = ayaztrade::clock::now_ms();
    let store = h.catalog_store();
    assert!(
        store.lock_sync(now, now + 60_000).await.unwrap(),
        "lock taken"
    );
    h.put_products(&[product_json("LOCK-1", 2, 1_000)]).await;
    let (messages, response) = h.stock_sync(Duration::from_secs(5)).await;
    assert_eq!(messages, 1);
    assert_eq!(response.batch_item_failures.len(), 1, "held: comes back");
    store.unlock_sync().await.unwrap();

    // Back after 5 s (the first retry), planned, sent.
    let (again, response) = h.stock_sync(Duration::from_secs(10)).await;
    assert_eq!(again, 1, "the message came back");
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    h.drain(Duration::from_secs(1), 50).await;
    assert_eq!(h.hepsiburada.listing("LOCK-1").unwrap().stock, Some(2));
    assert_eq!(h.trendyol.product("BC-LOCK-1").unwrap().quantity, 2);
}
