//! Returns, claims and cancellations the marketplaces report, end to end
//! against moto and the fakes: Hepsiburada's cancelled lines polled (a lost
//! `orderCancel` webhook cannot keep stock taken), stock given back once
//! whichever report comes first, and the other marketplace seeing it.

use std::collections::BTreeMap;

use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::marketplace_order::LineStock;
use ayaztrade::ports::{MarketplaceOrderStore, OrderCursorStore, PollFeed, ProductStore};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::response_json;
use ayaztrade_tests::hepsiburada_fake::Fault;
use ayaztrade_tests::webhook_support::{
    basic_auth, function_url_request, MARKETPLACE_PASSWORD, MARKETPLACE_USER,
};
use serde_json::json;

async fn stock(h: &CatalogHarness, sku: &str) -> i64 {
    h.catalog_store()
        .get_product(sku)
        .await
        .unwrap()
        .expect("product")
        .product
        .stock
}

/// Published events of one order: `(detail-type, status or change)`.
fn events_of(h: &CatalogHarness, order_number: &str) -> Vec<(String, serde_json::Value)> {
    h.publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|e| (e.detail_type.as_str(), serde_json::to_value(e).unwrap()))
        .filter(|(_, e)| e["orderNumber"] == order_number)
        .map(|(t, e)| {
            let what = if e["change"].is_null() {
                e["status"].clone()
            } else {
                e["change"].clone()
            };
            (t.to_string(), what)
        })
        .collect()
}

async fn deliver(h: &CatalogHarness, path: &str, body: &[u8]) -> serde_json::Value {
    let auth = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
    let req = function_url_request("PUT", path, &[("authorization", &auth)], body, false);
    let (status, json) = response_json(h.webhook().handle(req).await.unwrap());
    assert_eq!(status, 200, "{json}");
    json
}

async fn line_stock(h: &CatalogHarness, order_number: &str) -> BTreeMap<String, LineStock> {
    let (order, _) = h
        .catalog_store()
        .load_marketplace_order(Marketplace::Hepsiburada, order_number)
        .await
        .unwrap()
        .expect("stored order");
    order
        .lines
        .iter()
        .map(|(id, l)| (id.clone(), l.stock))
        .collect()
}

fn cancelled_feed(
    report: &ayaztrade::apps::order_poll::PollReport,
) -> &ayaztrade::apps::order_poll::MarketplaceReport {
    report
        .marketplaces
        .iter()
        .find(|m| m.marketplace == "hepsiburada" && m.feed == "cancelled")
        .expect("the cancelled feed was polled")
}

#[tokio::test]
async fn a_lost_hepsiburada_cancel_webhook_is_found_by_the_poll_and_stock_comes_back_once() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("HBX-1", 5, 1_000)]).await;
    h.cycle().await;
    h.cycle().await;
    let order = h.hepsiburada.add_order_lines(&[("HBX-1", 2, 10.0)]);
    let number = order.order_number.clone();
    let poll = h.order_poll(&[]);
    let report = poll.run(i64::MAX).await;
    assert!(
        report.marketplaces.iter().all(|m| m.error.is_none()),
        "{report:?}"
    );
    assert_eq!(stock(&h, "HBX-1").await, 3);
    h.cycle().await;
    assert_eq!(h.trendyol.product("BC-HBX-1").unwrap().quantity, 3);

    // Hepsiburada cancels; its webhook never arrives. The first poll after
    // it fails on the cancelled list (a 503 each try): nothing moves, the
    // cursor stays.
    let cursor = h
        .catalog_store()
        .order_cursor(Marketplace::Hepsiburada, PollFeed::Cancelled)
        .await
        .unwrap();
    h.hepsiburada.cancel_order(&number);
    let before = h.hepsiburada.cancelled_list_request_count();
    // Three tries per call (the HTTP layer's retries): the orders feed
    // (read first) and the cancelled feed both fail.
    for _ in 0..6 {
        h.hepsiburada.push_fault(Fault::Status(503));
    }
    let failed = poll
        .run_only(Some(Marketplace::Hepsiburada), i64::MAX)
        .await;
    assert!(cancelled_feed(&failed).error.is_some(), "{failed:?}");
    assert_eq!(stock(&h, "HBX-1").await, 3);
    assert_eq!(
        h.catalog_store()
            .order_cursor(Marketplace::Hepsiburada, PollFeed::Cancelled)
            .await
            .unwrap(),
        cursor
    );

    let report = poll.run(i64::MAX).await;
    let feed = cancelled_feed(&report);
    assert_eq!(
        (feed.changed, feed.error.as_deref()),
        (1, None),
        "{report:?}"
    );
    assert!(h.hepsiburada.cancelled_list_request_count() > before);
    assert_eq!(stock(&h, "HBX-1").await, 5);
    assert!(line_stock(&h, &number)
        .await
        .values()
        .all(|s| *s == LineStock::NotTaken));

    // The next poll and the late webhook find nothing new.
    let again = poll.run(i64::MAX).await;
    assert_eq!(cancelled_feed(&again).changed, 0, "{again:?}");
    assert!(cancelled_feed(&again).unchanged >= 1, "{again:?}");
    let body = serde_json::to_vec(&json!({"orderNumber": number})).unwrap();
    let late = deliver(&h, "/webhooks/hepsiburada/orderCancel", &body).await;
    assert_eq!(late["outcome"], "unchanged", "{late}");
    assert_eq!(stock(&h, "HBX-1").await, 5);
    assert_eq!(
        events_of(&h, &number),
        vec![
            ("marketplace.order.created".into(), json!("created")),
            ("marketplace.stock.updated".into(), json!(-2)),
            (
                "marketplace.order.status_changed".into(),
                json!("cancelled")
            ),
            ("marketplace.stock.updated".into(), json!(2)),
        ]
    );

    // The other marketplace sees the units again.
    h.cycle().await;
    assert_eq!(h.trendyol.product("BC-HBX-1").unwrap().quantity, 5);
}

#[tokio::test]
async fn a_cancel_told_by_webhook_first_is_not_given_back_again_by_the_poll() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[
        product_json("HBX-2", 5, 1_000),
        product_json("HBX-3", 5, 1_000),
    ])
    .await;
    let first = h.hepsiburada.add_order_lines(&[("HBX-2", 1, 10.0)]);
    let partial = h
        .hepsiburada
        .add_order_lines(&[("HBX-2", 1, 10.0), ("HBX-3", 2, 10.0)]);
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    assert_eq!((stock(&h, "HBX-2").await, stock(&h, "HBX-3").await), (3, 3));

    // Webhook first, then the list shows the same cancel.
    let body = serde_json::to_vec(&json!({"orderNumber": first.order_number})).unwrap();
    let told = deliver(&h, "/webhooks/hepsiburada/orderCancel", &body).await;
    assert_eq!(told["outcome"], "changed", "{told}");
    h.hepsiburada.cancel_order(&first.order_number);
    // One line of the other order cancelled: only that line comes back.
    let line = partial.items[1]["id"].as_str().unwrap().to_string();
    h.hepsiburada.update_line_status(&line, "Cancelled");
    let report = poll.run(i64::MAX).await;
    let feed = cancelled_feed(&report);
    assert_eq!((feed.unchanged, feed.changed), (1, 1), "{report:?}");
    assert_eq!((stock(&h, "HBX-2").await, stock(&h, "HBX-3").await), (4, 5));
    let lines = line_stock(&h, &partial.order_number).await;
    assert_eq!(lines[&line], LineStock::NotTaken);
    assert_eq!(
        lines.values().filter(|s| **s == LineStock::Taken).count(),
        1
    );
    let (order, _) = h
        .catalog_store()
        .load_marketplace_order(Marketplace::Hepsiburada, &partial.order_number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        order.status(),
        "created",
        "a partial cancel leaves the order open"
    );
    for q in h.hepsiburada.cancelled_list_queries() {
        assert_eq!(q.http_status, 200, "{q:?}");
        assert!(!q.truncated && q.limit.unwrap() <= 50, "{q:?}");
    }
}
