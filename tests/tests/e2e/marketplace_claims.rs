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

pub(super) async fn stock(h: &CatalogHarness, sku: &str) -> i64 {
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

pub(super) async fn deliver(h: &CatalogHarness, path: &str, body: &[u8]) -> serde_json::Value {
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

/// One marketplace's feed in a poll's report.
pub(super) fn feed_of<'a>(
    report: &'a ayaztrade::apps::order_poll::PollReport,
    marketplace: &str,
    feed: &str,
) -> &'a ayaztrade::apps::order_poll::MarketplaceReport {
    report
        .marketplaces
        .iter()
        .find(|m| m.marketplace == marketplace && m.feed == feed)
        .unwrap_or_else(|| panic!("{marketplace}'s {feed} feed was polled: {report:?}"))
}

fn cancelled_feed(
    report: &ayaztrade::apps::order_poll::PollReport,
) -> &ayaztrade::apps::order_poll::MarketplaceReport {
    feed_of(report, "hepsiburada", "cancelled")
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
    // (read first), the claims feed and the cancelled feed all fail.
    for _ in 0..9 {
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

fn claims_feed(
    report: &ayaztrade::apps::order_poll::PollReport,
) -> &ayaztrade::apps::order_poll::MarketplaceReport {
    feed_of(report, "trendyol", "claims")
}

#[tokio::test]
async fn a_trendyol_claim_accepted_as_sellable_gives_its_unit_back_once_and_each_step_reaches_the_platform(
) {
    use ayaztrade_tests::trendyol_fake::Kind;

    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[
        product_json("CLM-1", 5, 1_000),
        product_json("CLM-2", 5, 1_000),
    ])
    .await;
    h.cycle().await;
    h.cycle().await;
    let package = h
        .trendyol
        .add_order(&[("CLM-1", 2, 10.0), ("CLM-2", 1, 10.0)]);
    let (package_id, number) = (
        package["id"].as_i64().unwrap(),
        package["orderNumber"].as_str().unwrap().to_string(),
    );
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    assert_eq!((stock(&h, "CLM-1").await, stock(&h, "CLM-2").await), (3, 4));
    h.trendyol.update_status(package_id, "Delivered");
    h.trendyol.update_status(package_id, "Returned");
    poll.run(i64::MAX).await;
    h.cycle().await;
    h.platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let hb_pushes = h.hepsiburada.accepted_count("CLM-1", Kind::Stock);

    // The buyer returns one CLM-1 (changed mind: sellable) and the CLM-2
    // (defective: not sellable).
    let (sellable_claim, _) = h.trendyol.add_claim(package_id, &[(0, 1)], 401);
    let (defective_claim, _) = h.trendyol.add_claim(package_id, &[(1, 1)], 301);
    let report = poll.run(i64::MAX).await;
    let feed = claims_feed(&report);
    assert_eq!(
        (feed.created, feed.error.as_deref()),
        (2, None),
        "{report:?}"
    );
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let created: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(t, _)| t == "marketplace.claim.created")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(created.len(), 2, "{events:?}");
    assert!(created
        .iter()
        .all(|d| d["items"][0]["status"] == "created" && d["items"][0]["restock"] == "pending"));
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains("05000000000"),
        "no buyer note"
    );

    // Trendyol accepts both; the next poll and one more find the change once.
    h.trendyol
        .set_claim_item_status(&sellable_claim, &[], "Accepted");
    h.trendyol
        .set_claim_item_status(&defective_claim, &[], "Accepted");
    let report = poll.run(i64::MAX).await;
    assert_eq!(claims_feed(&report).changed, 2, "{report:?}");
    let again = poll.run(i64::MAX).await;
    assert_eq!(
        (claims_feed(&again).changed, claims_feed(&again).created),
        (0, 0),
        "{again:?}"
    );
    assert_eq!((stock(&h, "CLM-1").await, stock(&h, "CLM-2").await), (4, 4));
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let changed: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(t, _)| t == "marketplace.claim.status_changed")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(changed.len(), 2, "{events:?}");
    let restock: Vec<(&str, &str)> = changed
        .iter()
        .map(|d| {
            (
                d["items"][0]["sku"].as_str().unwrap(),
                d["items"][0]["restock"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(restock.contains(&("CLM-1", "returned")), "{restock:?}");
    assert!(restock.contains(&("CLM-2", "not_sellable")), "{restock:?}");
    assert!(changed
        .iter()
        .all(|d| d["items"][0]["status"] == "accepted"
            && d["items"][0]["previousStatus"] == "created"));
    let stock_events: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(t, _)| t == "marketplace.stock.updated")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(stock_events.len(), 1, "{events:?}");
    assert_eq!(
        (
            stock_events[0]["sku"].as_str(),
            stock_events[0]["change"].as_i64()
        ),
        (Some("CLM-1"), Some(1))
    );

    // The other marketplace sees the unit once.
    h.cycle().await;
    assert_eq!(h.hepsiburada.listing("CLM-1").unwrap().stock, Some(4));
    assert_eq!(
        h.hepsiburada.accepted_count("CLM-1", Kind::Stock),
        hb_pushes + 1
    );
    h.cycle().await;
    assert_eq!(
        h.hepsiburada.accepted_count("CLM-1", Kind::Stock),
        hb_pushes + 1
    );
}

#[tokio::test]
async fn a_claim_of_an_order_we_do_not_hold_is_reported_once_and_a_failed_page_moves_nothing() {
    use ayaztrade_tests::trendyol_fake::{Fault, PackageSpec};

    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("CLM-3", 5, 1_000)]).await;
    // A package older than anything we poll: its order was never taken in.
    let old = h.trendyol.clock_ms() - 40 * 24 * 3_600_000;
    let package = h.trendyol.add_package(
        PackageSpec::line("CLM-3", 1, 10.0)
            .at(old)
            .last_modified(old),
    );
    let (claim, _) = h
        .trendyol
        .add_claim(package["id"].as_i64().unwrap(), &[(0, 1)], 401);
    let poll = h.order_poll(&[]);

    // The claim list fails (3 tries): the cursor stays, nothing is reported.
    let cursor = h
        .catalog_store()
        .order_cursor(Marketplace::Trendyol, PollFeed::Claims)
        .await
        .unwrap();
    h.trendyol
        .set_faults_hit(ayaztrade_tests::trendyol_fake::EndpointKind::Orders, true);
    for _ in 0..6 {
        h.trendyol.push_fault(Fault::Status(503));
    }
    let failed = poll.run_only(Some(Marketplace::Trendyol), i64::MAX).await;
    assert!(claims_feed(&failed).error.is_some(), "{failed:?}");
    assert_eq!(
        h.catalog_store()
            .order_cursor(Marketplace::Trendyol, PollFeed::Claims)
            .await
            .unwrap(),
        cursor
    );

    for _ in 0..2 {
        let report = poll.run(i64::MAX).await;
        assert_eq!(claims_feed(&report).not_taken, 1, "{report:?}");
    }
    let errors: Vec<String> = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type.as_str() == "integration.error")
        .map(|e| e.event_id.clone())
        .collect();
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|id| *id == format!("trendyol:claim:{claim}:unknown_order")),
        "{errors:?}"
    );
    assert_eq!(stock(&h, "CLM-3").await, 5);
}

#[tokio::test]
async fn approving_a_claim_is_idempotent_resolves_a_lost_answer_by_reading_back_and_refuses_what_trendyol_forbids(
) {
    use ayaztrade_tests::fixtures::http_request;
    use ayaztrade_tests::trendyol_fake::{EndpointKind, Fault};

    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("CLM-4", 5, 1_000)]).await;
    let package = h.trendyol.add_order(&[("CLM-4", 3, 10.0)]);
    let (package_id, number) = (
        package["id"].as_i64().unwrap(),
        package["orderNumber"].as_str().unwrap().to_string(),
    );
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    h.trendyol.update_status(package_id, "Delivered");
    let (claim, items) = h.trendyol.add_claim(package_id, &[(0, 2)], 401);
    h.trendyol
        .set_claim_item_status(&claim, &items[1..], "WaitingInAction");
    poll.run(i64::MAX).await;
    assert_eq!(stock(&h, "CLM-4").await, 2);
    // Claim actions have their own budget: 5 per (here) second, spaced.
    let app = h.marketplace_orders(&[("TRENDYOL_GROUP_WINDOW_MS", "1000")]);
    let approve = |claim_id: String, body: serde_json::Value| {
        let path = format!("/marketplace-orders/trendyol/{number}/claims/{claim_id}/approve");
        let app = &app;
        async move {
            response_json(
                app.handle(http_request("POST", &path, Some(&body)))
                    .await
                    .unwrap(),
            )
        }
    };

    // Bad input changes nothing and sends nothing.
    let (status, bad) = approve(claim.clone(), json!({"items": ["nope", items[1]], "x": 1})).await;
    assert_eq!(status, 400, "{bad}");
    let (status, bad) = approve(claim.clone(), json!({"items": ["nope", items[1], "other"]})).await;
    assert_eq!(status, 400, "{bad}");
    let fields: Vec<&str> = bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["items[0]", "items[2]"], "{bad}");
    assert_eq!(approve("no-such-claim".into(), json!({})).await.0, 404);
    let (status, _) = response_json(
        app.handle(http_request(
            "POST",
            &format!("/marketplace-orders/trendyol/999/claims/{claim}/approve"),
            Some(&json!({})),
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 404);
    // Item 0 is still `Created` at Trendyol: 409 with that, nothing sent.
    let (status, refused) = approve(claim.clone(), json!({"items": [items[0]]})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is Created"),
        "{refused}"
    );
    assert!(h.trendyol.claim_approvals().is_empty());

    // Trendyol approves but the answer is lost (504): the HTTP layer sends
    // again, Trendyol refuses the repeat, the claim read back says Accepted:
    // done, executed once; one unit back to stock, once.
    h.trendyol.set_faults_hit(EndpointKind::Orders, false);
    h.trendyol.push_fault(Fault::LostAnswer(504));
    let (status, view) = approve(claim.clone(), json!({"items": [items[1]]})).await;
    assert_eq!(status, 200, "{view}");
    h.trendyol.set_faults_hit(EndpointKind::Orders, true);
    assert_eq!(
        h.trendyol.claim_approvals(),
        [(claim.clone(), vec![items[1].clone()])]
    );
    // The approval and its repeat, at least a fifth of the window apart.
    let sent = h
        .trendyol
        .arrivals(ayaztrade_tests::trendyol_fake::APPROVE_CLAIM);
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].duration_since(sent[0]) >= std::time::Duration::from_millis(190),
        "{sent:?}"
    );
    assert_eq!(stock(&h, "CLM-4").await, 3);
    let actions = view["sellerActions"].as_array().unwrap();
    assert_eq!(actions.last().unwrap()["outcome"], "done", "{view}");
    // A repeat answers the same: nothing sent, nothing moved.
    let (status, again) = approve(claim.clone(), json!({"items": [items[1]]})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["sellerActions"].as_array().unwrap().last().unwrap()["outcome"],
        "already"
    );
    assert_eq!(h.trendyol.claim_approvals().len(), 1);
    poll.run(i64::MAX).await;
    assert_eq!(
        stock(&h, "CLM-4").await,
        3,
        "the poll after the approval moves nothing"
    );
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let changed: Vec<&serde_json::Value> = events
        .iter()
        .filter(|(t, _)| t == "marketplace.claim.status_changed")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(
        changed
            .iter()
            .filter(|d| d["items"][0]["status"] == "accepted")
            .count(),
        1,
        "{events:?}"
    );
    let refusals: Vec<&serde_json::Value> = again["sellerActions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["outcome"] == "refused")
        .collect();
    assert_eq!(refusals.len(), 1, "the 409 is recorded with its message");
    assert!(refusals[0]["message"]
        .as_str()
        .unwrap()
        .contains("WaitingInAction"));
}

#[tokio::test]
async fn rejecting_a_claim_with_a_reason_sends_it_once_gives_no_stock_back_and_refuses_what_trendyol_forbids(
) {
    use ayaztrade_tests::fixtures::http_request;
    use ayaztrade_tests::trendyol_fake::{EndpointKind, Fault, Rejection};

    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("CLM-5", 5, 1_000)]).await;
    let package = h.trendyol.add_order(&[("CLM-5", 3, 10.0)]);
    let (package_id, number) = (
        package["id"].as_i64().unwrap(),
        package["orderNumber"].as_str().unwrap().to_string(),
    );
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    h.trendyol.update_status(package_id, "Delivered");
    let (claim, items) = h.trendyol.add_claim(package_id, &[(0, 2)], 401);
    h.trendyol
        .set_claim_item_status(&claim, &items[1..], "WaitingInAction");
    poll.run(i64::MAX).await;
    assert_eq!(stock(&h, "CLM-5").await, 2);
    h.platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    // Claim actions have their own budget: 5 per (here) second, spaced.
    let app = h.marketplace_orders(&[("TRENDYOL_GROUP_WINDOW_MS", "1000")]);
    let reject_at = |marketplace: &str, order: &str, claim_id: &str, body: serde_json::Value| {
        let path = format!("/marketplace-orders/{marketplace}/{order}/claims/{claim_id}/reject");
        let app = &app;
        async move {
            response_json(
                app.handle(http_request("POST", &path, Some(&body)))
                    .await
                    .unwrap(),
            )
        }
    };
    let reject = |body: serde_json::Value| reject_at("trendyol", &number, &claim, body);
    let fields = |bad: &serde_json::Value| -> Vec<String> {
        bad["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_string())
            .collect()
    };

    // Bad input changes nothing and sends nothing; each bad field named.
    let (status, bad) = reject(json!({"reasonId": 0, "description": " "})).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(fields(&bad), ["reasonId", "description"], "{bad}");
    let (status, bad) = reject(json!({"reasonId": "7", "description": "x".repeat(501)})).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(fields(&bad), ["reasonId", "description"], "{bad}");
    let (status, bad) =
        reject(json!({"reasonId": 51, "description": "x", "items": ["nope"]})).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(fields(&bad), ["items[0]"], "{bad}");
    let (status, bad) = reject(json!({"reasonId": 51, "description": "x", "why": 1})).await;
    assert_eq!(status, 400, "{bad}");
    // A reason id Trendyol does not list (its claim-issue-reasons, read by
    // this instance): 400 naming it, before anything is sent.
    let (status, bad) = reject(json!({"reasonId": 7, "description": "x"})).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(fields(&bad), ["reasonId"], "{bad}");
    let good = json!({"reasonId": 51, "description": "Ürün kullanılmış", "items": [items[1]]});
    assert_eq!(
        reject_at("trendyol", &number, "no-such-claim", good.clone())
            .await
            .0,
        404
    );
    assert_eq!(
        reject_at("trendyol", "999", &claim, good.clone()).await.0,
        404
    );
    // Hepsiburada rejects with a reason word, not a Trendyol reason id.
    let (status, other) = reject_at("hepsiburada", &number, &claim, good.clone()).await;
    assert_eq!(status, 400, "{other}");
    assert_eq!(other["error"]["fields"][0]["field"], "reasonId", "{other}");
    // Item 0 is still `Created` at Trendyol: 409 naming it, nothing sent.
    let (status, refused) = reject(json!({"reasonId": 51, "description": "x"})).await;
    assert_eq!(status, 409, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{} is Created", items[0])),
        "{refused}"
    );
    assert!(!message.contains(&items[1]), "{refused}");
    assert!(h.trendyol.claim_rejections().is_empty());

    // Trendyol rejects but the answer is lost (504): the HTTP layer sends
    // again, Trendyol refuses the repeat, the claim read back says
    // Rejected: done, executed once, no stock back.
    h.trendyol.set_faults_hit(EndpointKind::Orders, false);
    h.trendyol.push_fault(Fault::LostAnswer(504));
    let (status, view) = reject(good.clone()).await;
    assert_eq!(status, 200, "{view}");
    h.trendyol.set_faults_hit(EndpointKind::Orders, true);
    assert_eq!(
        h.trendyol.claim_rejections(),
        [Rejection {
            claim_id: claim.clone(),
            items: vec![items[1].clone()],
            reason_id: 51,
            description: "Ürün kullanılmış".into(),
        }]
    );
    assert_eq!(
        h.trendyol.claim(&claim).unwrap()["items"][0]["claimItems"][1]["claimItemStatus"]["name"],
        "Rejected"
    );
    assert_eq!(stock(&h, "CLM-5").await, 2);
    let last = view["sellerActions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["outcome"], "done", "{view}");
    assert_eq!(last["action"], format!("claim_reject:{claim}"), "{view}");
    assert!(!view.to_string().contains("kullanılmış"), "{view}");
    // A repeat answers the same: nothing sent, nothing moved.
    let (status, again) = reject(good.clone()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["sellerActions"].as_array().unwrap().last().unwrap()["outcome"],
        "already"
    );
    assert_eq!(h.trendyol.claim_rejections().len(), 1);
    // The reasons were read once for all these requests; the platform's
    // menu is the same list, from the same read.
    assert_eq!(h.trendyol.claim_issue_reason_reads(), 1);
    let (status, menu) = response_json(
        app.handle(http_request(
            "GET",
            "/marketplace-orders/trendyol/claim-issue-reasons",
            None,
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 200, "{menu}");
    assert!(
        menu["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == 51 && r["name"] == "İade gelen ürün kullanılmış"),
        "{menu}"
    );
    assert_eq!(h.trendyol.claim_issue_reason_reads(), 1);
    let (status, _) = response_json(
        app.handle(http_request(
            "GET",
            "/marketplace-orders/hepsiburada/claim-issue-reasons",
            None,
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 404);
    poll.run(i64::MAX).await;
    assert_eq!(
        stock(&h, "CLM-5").await,
        2,
        "a rejected item gives no stock"
    );
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let rejected = events
        .iter()
        .filter(|(t, d)| {
            t == "marketplace.claim.status_changed"
                && d["items"]
                    .as_array()
                    .is_some_and(|i| i.iter().any(|i| i["status"] == "rejected"))
        })
        .count();
    assert_eq!(rejected, 1, "{events:?}");
    assert!(
        events
            .iter()
            .any(|(t, d)| t == "marketplace.order.seller_action"
                && d["action"] == format!("claim_reject:{claim}")
                && d["outcome"] == "done"),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|(t, _)| t == "marketplace.stock.updated"),
        "{events:?}"
    );
    assert!(
        !format!("{events:?}").contains("kullanılmış"),
        "the description is not published"
    );
}
