//! Hepsiburada's claims (returns) end to end against moto and the fake
//! (docs/marketplace-wire.md H16): found by order-poll's claims feed, kept
//! on their order once, their events on the platform's queue once each,
//! stock back once for units accepted as sellable; accepted and rejected
//! through marketplace-orders with the exactly-once protocol; shown in the
//! order's GET view without the buyer.

use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::ports::{MarketplaceOrderStore, OrderCursorStore, PollFeed};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::{http_request, response_json};
use ayaztrade_tests::hepsiburada_fake::{
    EndpointKind, Fault, CLAIM_CUSTOMER_NAME, CLAIM_EXPLANATION, CLAIM_STATUS_LIST,
};
use serde_json::json;

use super::marketplace_claims::{deliver, feed_of, stock};
use super::marketplace_order_loop::of_type;

fn hb_claims_feed(
    report: &ayaztrade::apps::order_poll::PollReport,
) -> &ayaztrade::apps::order_poll::MarketplaceReport {
    feed_of(report, "hepsiburada", "claims")
}

/// An order of `lines` polled in (its stock taken); its number.
async fn polled_order(h: &CatalogHarness, lines: &[(&str, i64, f64)]) -> String {
    let order = h.hepsiburada.add_order_lines(lines);
    let report = h.order_poll(&[]).run(i64::MAX).await;
    assert!(
        report.marketplaces.iter().all(|m| m.error.is_none()),
        "{report:?}"
    );
    order.order_number
}

#[tokio::test]
async fn a_hepsiburada_claim_is_stored_once_its_events_reach_the_platform_once_and_sellable_units_come_back_once(
) {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[
        product_json("HBC-1", 5, 1_000),
        product_json("HBC-2", 5, 1_000),
    ])
    .await;
    let number = polled_order(&h, &[("HBC-1", 3, 10.0), ("HBC-2", 1, 10.0)]).await;
    assert_eq!((stock(&h, "HBC-1").await, stock(&h, "HBC-2").await), (2, 4));
    h.platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let poll = h.order_poll(&[]);

    // Two units of HBC-1 back because they were found cheaper (sellable),
    // the HBC-2 because it is broken (not sellable).
    let sellable = h.hepsiburada.add_claim(&number, 0, 2, "FoundCheaper");
    let broken = h
        .hepsiburada
        .add_claim(&number, 1, 1, "ProductIsBrokenOrDamaged");
    // The claim lists fail (3 tries each for the order list read first,
    // then the first status list): nothing is stored, the cursor stays;
    // the next run takes both in.
    let cursor = h
        .catalog_store()
        .order_cursor(Marketplace::Hepsiburada, PollFeed::Claims)
        .await
        .unwrap();
    for _ in 0..6 {
        h.hepsiburada.push_fault(Fault::Status(503));
    }
    let failed = poll
        .run_only(Some(Marketplace::Hepsiburada), i64::MAX)
        .await;
    assert!(hb_claims_feed(&failed).error.is_some(), "{failed:?}");
    assert_eq!(
        h.catalog_store()
            .order_cursor(Marketplace::Hepsiburada, PollFeed::Claims)
            .await
            .unwrap(),
        cursor
    );

    let report = poll.run(i64::MAX).await;
    let feed = hb_claims_feed(&report);
    assert_eq!(
        (feed.error.as_deref(), feed.created),
        (None, 2),
        "{report:?}"
    );
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let created = of_type(&events, "marketplace.claim.created");
    assert_eq!(created.len(), 2, "{events:?}");
    assert!(created.iter().all(|d| d["items"][0]["status"] == "created"
        && d["items"][0]["restock"] == "pending"
        && d["marketplace"] == "hepsiburada"));
    let text = serde_json::to_string(&events).unwrap();
    assert!(
        !text.contains(CLAIM_CUSTOMER_NAME) && !text.contains(CLAIM_EXPLANATION),
        "no buyer in events"
    );

    // Hepsiburada waits for the seller, then accepts both (its side).
    for c in [&sellable, &broken] {
        h.hepsiburada.set_claim_status(c, "AwaitingAction");
    }
    let report = poll.run(i64::MAX).await;
    assert_eq!(hb_claims_feed(&report).changed, 2, "{report:?}");
    for c in [&sellable, &broken] {
        h.hepsiburada.set_claim_status(c, "Accepted");
    }
    let report = poll.run(i64::MAX).await;
    assert_eq!(hb_claims_feed(&report).changed, 2, "{report:?}");
    assert_eq!((stock(&h, "HBC-1").await, stock(&h, "HBC-2").await), (4, 4));
    // A second poll, a refund and a redelivered claim webhook move nothing
    // more (claim webhooks are not taken in: the poll finds every claim).
    let again = poll.run(i64::MAX).await;
    assert_eq!(
        (
            hb_claims_feed(&again).created,
            hb_claims_feed(&again).changed
        ),
        (0, 0),
        "{again:?}"
    );
    h.hepsiburada.set_claim_status(&sellable, "Refunded");
    let refunded = poll.run(i64::MAX).await;
    assert_eq!(hb_claims_feed(&refunded).changed, 1, "{refunded:?}");
    let body = serde_json::to_vec(&json!({
        "claimNumber": sellable, "type": "Return", "quantity": 2, "status": "Accepted",
        "customerName": CLAIM_CUSTOMER_NAME, "orderNumber": number,
        "line": {"lineItemId": "x", "merchantSku": "HBC-1"}
    }))
    .unwrap();
    for _ in 0..2 {
        let told = deliver(&h, "/webhooks/hepsiburada/claims/awaitingaction", &body).await;
        assert_eq!(told["outcome"], "ignored", "{told}");
    }
    assert_eq!((stock(&h, "HBC-1").await, stock(&h, "HBC-2").await), (4, 4));

    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let changed = of_type(&events, "marketplace.claim.status_changed");
    assert_eq!(changed.len(), 5, "{events:?}");
    let restock: Vec<(&str, &str, &str)> = changed
        .iter()
        .map(|d| {
            let i = &d["items"][0];
            (
                i["sku"].as_str().unwrap(),
                i["status"].as_str().unwrap(),
                i["restock"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        restock.contains(&("HBC-1", "accepted", "returned")),
        "{restock:?}"
    );
    assert!(
        restock.contains(&("HBC-2", "accepted", "not_sellable")),
        "{restock:?}"
    );
    assert!(
        restock.contains(&("HBC-1", "refunded", "returned")),
        "{restock:?}"
    );
    let stock_events = of_type(&events, "marketplace.stock.updated");
    assert_eq!(stock_events.len(), 1, "{events:?}");
    assert_eq!(
        (
            stock_events[0]["sku"].as_str(),
            stock_events[0]["change"].as_i64()
        ),
        (Some("HBC-1"), Some(2))
    );
    assert!(!serde_json::to_string(&events)
        .unwrap()
        .contains(CLAIM_CUSTOMER_NAME));

    // Every status list was asked with the required limit, ≤ 100.
    let queries: Vec<_> = h
        .hepsiburada
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(CLAIM_STATUS_LIST))
        .collect();
    assert!(!queries.is_empty());
    for q in &queries {
        let query = q.query.as_deref().unwrap_or("");
        assert!(query.contains("limit=") && q.status != 400, "{q:?}");
    }

    // The GET view shows both claims, their units back, no buyer.
    let app = h.marketplace_orders(&[]);
    let (status, view) = response_json(
        app.handle(http_request(
            "GET",
            &format!("/marketplace-orders/hepsiburada/{number}"),
            None,
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 200, "{view}");
    let claims = view["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2, "{view}");
    let item = |id: &str| {
        claims
            .iter()
            .find(|c| c["claimId"] == id)
            .map(|c| c["items"][0].clone())
            .unwrap()
    };
    let s = item(&sellable);
    assert_eq!(
        (
            s["status"].as_str(),
            s["reasonCode"].as_str(),
            s["quantity"].as_u64(),
            s["restock"].as_str()
        ),
        (
            Some("refunded"),
            Some("FoundCheaper"),
            Some(2),
            Some("returned")
        )
    );
    assert_eq!(item(&broken)["restock"], "not_sellable");
    let claims_text = serde_json::to_string(&view["claims"]).unwrap();
    assert!(
        !claims_text.contains(CLAIM_CUSTOMER_NAME)
            && !claims_text.contains(CLAIM_EXPLANATION)
            && !claims_text.contains("b5b0f469"),
        "{claims_text}"
    );
}

#[tokio::test]
async fn accepting_a_hepsiburada_claim_after_a_lost_answer_executes_once_and_refuses_what_hepsiburada_forbids(
) {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("HBC-3", 5, 1_000)]).await;
    let number = polled_order(&h, &[("HBC-3", 2, 10.0)]).await;
    let claim = h
        .hepsiburada
        .add_claim(&number, 0, 1, "IncompatiblyProduct");
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    assert_eq!(stock(&h, "HBC-3").await, 3);
    h.platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let app = h.marketplace_orders(&[]);
    let post = |path: String, body: serde_json::Value| {
        let app = &app;
        async move {
            response_json(
                app.handle(http_request("POST", &path, Some(&body)))
                    .await
                    .unwrap(),
            )
        }
    };
    let approve = format!("/marketplace-orders/hepsiburada/{number}/claims/{claim}/approve");

    // Bad input, unknown claim or order: 400/404, nothing sent.
    let (status, bad) = post(approve.clone(), json!({"items": ["nope"]})).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["fields"][0]["field"], "items[0]", "{bad}");
    let unknown = format!("/marketplace-orders/hepsiburada/{number}/claims/999/approve");
    assert_eq!(post(unknown, json!({})).await.0, 404);
    let no_order = format!("/marketplace-orders/hepsiburada/1/claims/{claim}/approve");
    assert_eq!(post(no_order, json!({})).await.0, 404);
    // Still a new request at Hepsiburada: 409 with its status, nothing sent.
    let (status, refused) = post(approve.clone(), json!({})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is NewRequest"),
        "{refused}"
    );
    assert!(h.hepsiburada.claim_accepts().is_empty());

    // Hepsiburada accepts, the answer is lost (504); the HTTP layer sends
    // again, is refused, the claim read back is Accepted: done, once.
    h.hepsiburada.set_claim_status(&claim, "AwaitingAction");
    // Faults for the decision only, not the reads around it.
    h.hepsiburada.set_faults_hit(EndpointKind::Orders, false);
    h.hepsiburada.push_fault(Fault::LostAnswer(504));
    let (status, view) = post(approve.clone(), json!({})).await;
    h.hepsiburada.set_faults_hit(EndpointKind::Orders, true);
    assert_eq!(status, 200, "{view}");
    assert_eq!(h.hepsiburada.claim_accepts(), std::slice::from_ref(&claim));
    assert_eq!(stock(&h, "HBC-3").await, 4);
    let actions = view["sellerActions"].as_array().unwrap();
    assert_eq!(actions.last().unwrap()["outcome"], "done", "{view}");
    assert_eq!(
        view["claims"][0]["items"][0]["restock"], "returned",
        "{view}"
    );
    // A repeat answers the same; a rejection now is refused: nothing sent.
    let (status, again) = post(approve.clone(), json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["sellerActions"].as_array().unwrap().last().unwrap()["outcome"],
        "already"
    );
    let reject = format!("/marketplace-orders/hepsiburada/{number}/claims/{claim}/reject");
    let (status, _) = post(
        reject,
        json!({"reasonCode": "WrongProduct", "description": "yanlış"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(h.hepsiburada.claim_accepts().len(), 1);
    assert!(h.hepsiburada.claim_rejects().is_empty());
    poll.run(i64::MAX).await;
    assert_eq!(
        stock(&h, "HBC-3").await,
        4,
        "the poll after it moves nothing"
    );
    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let accepted: Vec<_> = of_type(&events, "marketplace.claim.status_changed")
        .into_iter()
        .filter(|d| d["items"][0]["status"] == "accepted")
        .collect();
    assert_eq!(accepted.len(), 1, "{events:?}");
    assert_eq!(of_type(&events, "marketplace.stock.updated").len(), 1);
}

#[tokio::test]
async fn rejecting_a_hepsiburada_claim_sends_its_reason_once_gives_nothing_back_and_never_records_the_description(
) {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[product_json("HBC-4", 5, 1_000)]).await;
    let number = polled_order(&h, &[("HBC-4", 2, 10.0)]).await;
    let claim = h.hepsiburada.add_claim(&number, 0, 2, "FoundCheaper");
    h.hepsiburada.set_claim_status(&claim, "AwaitingAction");
    let poll = h.order_poll(&[]);
    poll.run(i64::MAX).await;
    h.platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let app = h.marketplace_orders(&[]);
    let reject = format!("/marketplace-orders/hepsiburada/{number}/claims/{claim}/reject");
    let post = |body: serde_json::Value| {
        let (app, path) = (&app, &reject);
        async move {
            response_json(
                app.handle(http_request("POST", path, Some(&body)))
                    .await
                    .unwrap(),
            )
        }
    };
    const SECRET_NOTE: &str = "Kutu açılmış, etiket yok — gizli not";

    // Each bad field named; nothing sent.
    let (status, bad) = post(json!({"reasonId": 3, "description": ""})).await;
    assert_eq!(status, 400, "{bad}");
    let fields: Vec<&str> = bad["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["reasonId", "reasonCode", "description"], "{bad}");
    assert!(h.hepsiburada.claim_rejects().is_empty());

    // A 503 first (retried by the HTTP layer), then a lost answer after
    // acting: one rejection executed, read back as done.
    h.hepsiburada.set_faults_hit(EndpointKind::Orders, false);
    h.hepsiburada.push_fault(Fault::Status(503));
    h.hepsiburada.push_fault(Fault::LostAnswer(502));
    let (status, view) =
        post(json!({"reasonCode": "ProductHasBeenUsed", "description": SECRET_NOTE})).await;
    h.hepsiburada.set_faults_hit(EndpointKind::Orders, true);
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        h.hepsiburada.claim_rejects(),
        [(claim.clone(), "ProductHasBeenUsed".to_string())]
    );
    assert_eq!(h.hepsiburada.claim_reject_statements(), [SECRET_NOTE]);
    assert_eq!(
        stock(&h, "HBC-4").await,
        3,
        "a rejected claim gives nothing back"
    );
    let item = &view["claims"][0]["items"][0];
    assert_eq!(
        (item["status"].as_str(), item["restock"].as_str()),
        (Some("rejected"), Some("pending"))
    );
    // The repeat answers the first answer.
    let (status, again) =
        post(json!({"reasonCode": "ProductHasBeenUsed", "description": SECRET_NOTE})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(h.hepsiburada.claim_rejects().len(), 1);

    // Hepsiburada decides the dispute for the buyer later: the poll takes
    // it in and the sellable units come back then, once.
    h.hepsiburada.set_claim_status(&claim, "InDispute");
    poll.run(i64::MAX).await;
    h.hepsiburada.set_claim_status(&claim, "Accepted");
    poll.run(i64::MAX).await;
    poll.run(i64::MAX).await;
    assert_eq!(stock(&h, "HBC-4").await, 5);

    let events = h
        .platform_events(&h.stack.marketplace_events_queue_url, &number)
        .await;
    let (order, _) = h
        .catalog_store()
        .load_marketplace_order(Marketplace::Hepsiburada, &number)
        .await
        .unwrap()
        .unwrap();
    let stored = serde_json::to_string(&order.seller_actions).unwrap()
        + &serde_json::to_string(&order.claims).unwrap();
    assert!(
        !stored.contains("gizli"),
        "the description is never recorded"
    );
    assert!(!serde_json::to_string(&events).unwrap().contains("gizli"));
    assert!(!serde_json::to_string(&again).unwrap().contains("gizli"));
}
