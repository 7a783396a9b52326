//! Reconciliation end to end: a day of payments through the Stripe and
//! iyzico fakes and the webhook function, with notices lost, refunds made in
//! the providers' dashboards and one amount collected wrong; then the
//! reconcile function against moto. What must hold: every lost fact healed
//! through the webhook's own path (a late webhook is then a duplicate),
//! every real difference reported exactly once, no false difference, and a
//! second run that changes nothing. Plus a run cut by an outage between two
//! pages that resumes from its cursor without reading a page twice.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use ayaztrade::apps::reconcile::{App, RunAnswer};
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::aws::eventbridge::EventBridgePublisher;
use ayaztrade::aws::sdk::AwsEnv;
use ayaztrade::config::{IyzicoSettings, ReconcileSettings, Secret};
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::reconciliation::{previous_istanbul_day, DifferenceKind, RequestedDetail};
use ayaztrade::ports::{MarketplaceOrderStore, ProductStore};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade::providers::iyzico::client::IyzicoClient;
use ayaztrade::providers::stripe::{CreatePaymentIntent, StripeClient};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::iyzico_fake::{self, IyzicoFake};
use ayaztrade_tests::local_stack::{unique_id, Stack};
use ayaztrade_tests::stripe_fake::StripeFake;
use ayaztrade_tests::webhook_support::*;
use futures::stream::{self, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const TOTAL: i64 = 86_920; // the demo order's total, kuruş

fn hmac_hex(key: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// A Stripe delivery signed with the endpoint secret (the scheme itself is
/// checked against Stripe's own library in webhooks.rs; here speed matters).
async fn deliver_stripe(h: &WebhookHarness, body: &[u8]) -> Value {
    let t = now_unix();
    let sig = hmac_hex(STRIPE_SECRET, &[t.to_string().as_bytes(), b".", body]);
    let req = function_url_request(
        "POST",
        "/webhooks/stripe",
        &[("stripe-signature", &format!("t={t},v1={sig}"))],
        body,
        false,
    );
    let (status, answer) = response_json(h.app.handle(req).await.unwrap());
    assert_eq!(status, 200, "{answer}");
    answer
}

/// iyzico's merchant notification for a direct payment, V3-signed.
async fn deliver_iyzico(h: &WebhookHarness, order_id: &str, payment_id: &str) -> Value {
    let body = serde_json::to_vec(&json!({
        "paymentConversationId": order_id, "merchantId": 3398,
        "paymentId": payment_id.parse::<i64>().unwrap(), "status": "SUCCESS",
        "iyziReferenceCode": unique_id("ref"), "iyziEventType": "API_AUTH",
        "iyziEventTime": now_unix() * 1000
    }))
    .unwrap();
    let signed = format!("API_AUTH{payment_id}{order_id}SUCCESS");
    let sig = hmac_hex(
        IYZICO_SECRET,
        &[IYZICO_SECRET.as_bytes(), signed.as_bytes()],
    );
    let req = function_url_request(
        "POST",
        "/webhooks/iyzico",
        &[("x-iyz-signature-v3", &sig)],
        &body,
        false,
    );
    let (status, answer) = response_json(h.app.handle(req).await.unwrap());
    assert_eq!(status, 200, "{answer}");
    answer
}

fn reconcile_app(
    stack: &Stack,
    stripe: &StripeFake,
    iyzico: Option<&IyzicoFake>,
    stripe_page_size: u32,
) -> (App<DynamoStore, RecordingPublisher>, RecordingPublisher) {
    let aws = AwsEnv::from_env().unwrap();
    let publisher = RecordingPublisher::new(EventBridgePublisher::new(
        aws.eventbridge(),
        stack.event_bus_name.clone(),
    ));
    let http = HttpLayer::new(fast_http_settings());
    let iyzico = iyzico.map(|fake| {
        IyzicoClient::new(
            http.clone(),
            IyzicoSettings {
                api_base: fake.base_url.clone(),
                api_key: iyzico_fake::API_KEY.into(),
                secret_key: Secret::new(iyzico_fake::SECRET_KEY),
                callback_url: None,
                rate_limit_per_second: 1000,
            },
        )
    });
    let app = App::new(
        store(stack),
        publisher.clone(),
        Some(StripeClient::new(http, stripe_settings(stripe))),
        iyzico,
        ReconcileSettings {
            stop_margin: Duration::ZERO,
            max_continuations: 3,
            concurrency: 8,
            stripe_page_size,

            // The defaults for the rest (marketplace pages and limits).
            ..ReconcileSettings::from_env(&|_: &str| None).expect("default settings")
        },
    );
    (app, publisher)
}

/// Today in Istanbul: the fakes date everything now.
pub(crate) fn today() -> String {
    previous_istanbul_day(ayaztrade::clock::now_ms() + 86_400_000)
}

pub(crate) fn run(day: &str, run_id: &str) -> RequestedDetail {
    RequestedDetail {
        day: day.into(),
        run_id: run_id.into(),
        continuation: 0,
    }
}

pub(crate) fn far_deadline() -> i64 {
    ayaztrade::clock::now_ms() + 600_000
}

/// `payment_status` and `refunded_minor` of an order.
async fn ledger(stack: &Stack, order_id: &str) -> (String, i64) {
    let item = stack
        .dynamo
        .get_item()
        .table_name(&stack.table_name)
        .key("pk", AttributeValue::S(format!("ORDER#{order_id}")))
        .key("sk", AttributeValue::S("ORDER".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let refunded = item
        .get("refunded_minor")
        .and_then(|v| v.as_n().ok())
        .map_or(0, |n| n.parse().unwrap());
    (item["payment_status"].as_s().unwrap().clone(), refunded)
}

pub(crate) fn published(p: &RecordingPublisher) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for e in p.published.lock().unwrap().iter() {
        *counts.entry(e.detail_type.as_str()).or_default() += 1;
    }
    counts
}

async fn orders(stack: &Stack, n: usize) -> Vec<String> {
    stream::iter(0..n)
        .map(|_| given_an_order(stack, demo_order_json()))
        .buffered(8)
        .collect()
        .await
}

#[tokio::test]
async fn a_day_with_lost_webhooks_and_dashboard_refunds_is_healed_and_differences_reported_once() {
    let stack = &ayaztrade_tests::local_stack::fresh_stack().await;
    let stripe = StripeFake::start().await;
    let iyzico = IyzicoFake::start().await;
    iyzico.set_report_page_size(4);
    let h = webhook_harness(stack);
    let client = StripeClient::new(
        HttpLayer::new(fast_http_settings()),
        stripe_settings(&stripe),
    );
    let day = today();
    let setup = std::time::Instant::now();

    // GIVEN a day of Stripe traffic: 60 paid orders, 5 % of the webhooks
    // lost, refunds made in the dashboard (one of a lost payment), and one
    // payment collected for another amount than its order's.
    const STRIPE_ORDERS: usize = 60;
    let stripe_orders = orders(stack, STRIPE_ORDERS).await;
    eprintln!("reconcile: orders {:?}", setup.elapsed());
    let mut intents = Vec::new();
    let mut lost = Vec::new();
    let mut delivered = Vec::new();
    for (i, order_id) in stripe_orders.iter().enumerate() {
        let pi = client
            .create_payment_intent(
                &CreatePaymentIntent {
                    amount: TOTAL,
                    currency: "try".into(),
                    order_id: order_id.clone(),
                    description: None,
                },
                &format!("ayaztrade:pi:{order_id}"),
            )
            .await
            .unwrap();
        let wrong_amount = i == 7;
        let event = stripe.succeed_intent(&pi.id, wrong_amount.then_some(TOTAL - 6_920));
        if i % 20 == 3 {
            lost.push((i, event)); // never delivered
        } else {
            delivered.push(event);
        }
        intents.push(pi.id);
    }
    eprintln!("reconcile: intents {:?}", setup.elapsed());
    stream::iter(&delivered)
        .for_each_concurrent(8, |event| async { drop(deliver_stripe(&h, event).await) })
        .await;
    for i in [11, 12, 13, 23] {
        stripe.refund_in_dashboard(&intents[i], 10_000);
    }
    // … and of iyzico: 10 paid orders, one notice lost, one panel refund.
    const IYZICO_ORDERS: usize = 10;
    let iyzico_orders = orders(stack, IYZICO_ORDERS).await;
    let mut payments = Vec::new();
    for (i, order_id) in iyzico_orders.iter().enumerate() {
        let pid = iyzico.seed_paid(order_id, TOTAL);
        record_attempt_for(stack, "iyzico", order_id, &pid).await;
        if i != 5 {
            deliver_iyzico(&h, order_id, &pid).await;
        }
        payments.push(pid);
    }
    iyzico.refund_in_panel(&payments[9], 5_000);
    assert_eq!(ledger(stack, &stripe_orders[3]).await, ("unpaid".into(), 0));
    assert_eq!(ledger(stack, &iyzico_orders[5]).await, ("unpaid".into(), 0));

    eprintln!("reconcile: setup {:?}", setup.elapsed());
    // WHEN the day is reconciled
    let (app, publisher) = reconcile_app(stack, &stripe, Some(&iyzico), 20);
    let started = std::time::Instant::now();
    let answer: RunAnswer = app.run(&run(&day, "run-1"), far_deadline()).await.unwrap();
    let first_run = started.elapsed();
    assert_eq!(answer.outcome, "completed");
    let report = answer.report.unwrap();

    // THEN every lost fact is healed…
    for (i, order_id) in stripe_orders.iter().enumerate() {
        let expected = match i {
            7 => ("unpaid", 0),
            11 | 12 | 13 | 23 => ("partially_refunded", 10_000),
            _ => ("paid", 0),
        };
        let (status, refunded) = ledger(stack, order_id).await;
        assert_eq!((status.as_str(), refunded), expected, "stripe order {i}");
    }
    for (i, order_id) in iyzico_orders.iter().enumerate() {
        let expected = if i == 9 {
            ("partially_refunded", 5_000)
        } else {
            ("paid", 0)
        };
        let (status, refunded) = ledger(stack, order_id).await;
        assert_eq!((status.as_str(), refunded), expected, "iyzico order {i}");
    }
    let healed: BTreeMap<(String, String), usize> =
        report.healed.iter().fold(BTreeMap::new(), |mut m, f| {
            *m.entry((f.provider.clone(), f.fact.clone())).or_default() += 1;
            m
        });
    assert_eq!(
        healed,
        BTreeMap::from([
            (("iyzico".into(), "payment_success".into()), 1),
            (("iyzico".into(), "refund".into()), 1),
            (("stripe".into(), "payment_success".into()), 3),
            (("stripe".into(), "refund".into()), 4),
        ])
    );
    // … every real difference is reported once, and nothing else.
    assert_eq!(report.differences.len(), 1, "{:#?}", report.differences);
    let d = &report.differences[0];
    assert_eq!(
        (d.kind, d.provider_ref.as_str()),
        (DifferenceKind::AmountDiffers, intents[7].as_str())
    );
    assert_eq!(d.provider_side.amount.unwrap().minor, TOTAL - 6_920);
    assert_eq!(d.our_side.as_ref().unwrap().amount.unwrap().minor, TOTAL);
    let events = published(&publisher);
    assert_eq!(events.get("reconciliation.mismatch"), Some(&1));
    assert_eq!(events.get("reconciliation.completed"), Some(&1));
    // Healing published what the lost webhooks would have.
    assert_eq!(events.get("payment.completed"), Some(&4));
    assert_eq!(events.get("payment.refunded"), Some(&5));
    // Provider requests: the page count. Stripe: 64 events (4 pages of
    // 20), 60 intents (3 pages); iyzico: 11 rows (3 pages of 4) and one
    // details read for the payment refunded that day.
    let stripe_reads = |path| stripe.count("GET", path);
    assert_eq!(stripe_reads("/v1/events"), 4);
    assert_eq!(stripe_reads("/v1/payment_intents"), 3);
    assert_eq!(iyzico.transaction_reads(), 3);
    assert_eq!(iyzico.report_reads(), 1);
    let counts: BTreeMap<_, _> = report
        .providers
        .iter()
        .map(|p| (p.provider.as_str(), (p.listed, p.requests, p.done)))
        .collect();
    assert_eq!(counts["stripe"], (60, 7, true));
    assert_eq!(counts["iyzico"], (11, 4, true));

    // A lost webhook arriving late is a duplicate: nothing moves again.
    let before = h.publisher.published.lock().unwrap().len();
    let answer = deliver_stripe(&h, &lost[0].1).await;
    assert_eq!(answer["duplicate"], true, "{answer}");
    let answer = deliver_iyzico(&h, &iyzico_orders[5], &payments[5]).await;
    assert_eq!(answer["duplicate"], true, "{answer}");
    assert_eq!(h.publisher.published.lock().unwrap().len(), before);

    // A second run of the day finds nothing new and changes nothing.
    publisher.published.lock().unwrap().clear();
    let started = std::time::Instant::now();
    let again = app.run(&run(&day, "run-2"), far_deadline()).await.unwrap();
    let second_run = started.elapsed();
    let again = again.report.unwrap();
    assert_eq!(again.differences, report.differences);
    assert_eq!(again.healed.len(), report.healed.len());
    assert_eq!(
        published(&publisher),
        BTreeMap::from([("reconciliation.completed", 1)])
    );
    for i in [3, 23] {
        let expected = if i == 23 { 10_000 } else { 0 };
        assert_eq!(
            ledger(stack, &stripe_orders[i]).await.1,
            expected,
            "stripe order {i}"
        );
    }
    eprintln!("reconcile: first run {first_run:?}, second run {second_run:?} (60 Stripe + 10 iyzico payments)");
}

#[tokio::test]
async fn a_run_cut_between_two_pages_resumes_from_its_cursor_and_reports_each_difference_once() {
    let stack = &ayaztrade_tests::local_stack::fresh_stack().await;
    let stripe = StripeFake::start().await;
    let day = today();
    // 30 payments collected for orders we do not have: 30 differences.
    let orphans: Vec<(String, i64)> = (0..30).map(|i| (format!("gone-{i}"), TOTAL)).collect();
    stripe.seed_succeeded(&orphans);
    let (app, publisher) = reconcile_app(stack, &stripe, None, 10);

    // Out of time before the first page: the run asks for its continuation.
    let cut = app
        .run(&run(&day, "run-a"), ayaztrade::clock::now_ms())
        .await
        .unwrap();
    assert_eq!(cut.outcome, "continued");
    assert_eq!(
        published(&publisher),
        BTreeMap::from([("reconciliation.requested", 1)])
    );
    assert_eq!(stripe.count("GET", "/v1/events"), 0);

    // An outage on the second page of intents fails the invocation…
    stripe.fail_list_read("/v1/payment_intents", 2);
    let failed = app.run(&run(&day, "run-a"), far_deadline()).await;
    assert!(failed.is_err());
    // … and the next one goes on from the stored cursor.
    let done = app.run(&run(&day, "run-a"), far_deadline()).await.unwrap();
    assert_eq!(done.outcome, "completed");
    let report = done.report.unwrap();
    assert_eq!(report.differences.len(), 30);
    assert!(report
        .differences
        .iter()
        .all(|d| d.kind == DifferenceKind::MissingHere));
    // Each page (3 of 10) read once; the failed read once more.
    assert_eq!(stripe.count("GET", "/v1/events"), 3);
    assert_eq!(stripe.count("GET", "/v1/payment_intents"), 4);
    let events = published(&publisher);
    assert_eq!(events.get("reconciliation.mismatch"), Some(&30));
    assert_eq!(events.get("reconciliation.completed"), Some(&1));

    // A rerun of the day reports none of them again.
    publisher.published.lock().unwrap().clear();
    app.run(&run(&day, "run-b"), far_deadline()).await.unwrap();
    assert_eq!(
        published(&publisher),
        BTreeMap::from([("reconciliation.completed", 1)])
    );

    // The IAM route: the day's report, a run requested, a bad day refused.
    let (status, body) = route(&app, "GET", &format!("/integrations/reconciliation/{day}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["runId"], "run-b");
    assert_eq!(body["differences"].as_array().unwrap().len(), 30);
    assert_eq!(body["differences"][0]["kind"], "missing_here");
    let (status, body) = route(&app, "POST", &format!("/integrations/reconciliation/{day}")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["event"], "reconciliation.requested");
    assert_eq!(
        published(&publisher).get("reconciliation.requested"),
        Some(&1)
    );
    let (status, _) = route(&app, "GET", "/integrations/reconciliation/2026-02-30").await;
    assert_eq!(status, 400);
    let (status, _) = route(&app, "GET", "/integrations/reconciliation/2001-01-01").await;
    assert_eq!(status, 404);
}

/// An HTTP API (payload 2.0) request to the function, as API Gateway sends it.
async fn route(
    app: &App<DynamoStore, RecordingPublisher>,
    method: &str,
    path: &str,
) -> (u16, Value) {
    let event = ayaztrade_tests::fixtures::http_api_event(
        method,
        "/integrations/reconciliation/{day}",
        path,
        json!({"day": path.rsplit('/').next().unwrap()}),
        None,
    );
    let answer = app
        .handle(lambda_http::lambda_runtime::LambdaEvent::new(
            event,
            lambda_http::lambda_runtime::Context::default(),
        ))
        .await
        .unwrap();
    ayaztrade_tests::fixtures::http_api_answer(&answer)
}

// ---- marketplace orders ----------------------------------------------------------

/// A marketplace webhook, Basic-authenticated, through the webhook function.
pub(crate) async fn deliver_marketplace(h: &CatalogHarness, path: &str, body: &[u8]) -> Value {
    let auth = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
    let req = function_url_request("POST", path, &[("authorization", &auth)], body, false);
    let (status, answer) = response_json(h.webhook().handle(req).await.unwrap());
    assert_eq!(status, 200, "{answer}");
    answer
}

pub(crate) async fn product_stock(h: &CatalogHarness, sku: &str) -> i64 {
    h.catalog_store()
        .get_product(sku)
        .await
        .unwrap()
        .expect("product")
        .product
        .stock
}

pub(crate) fn published_by(h: &CatalogHarness) -> BTreeMap<&'static str, usize> {
    published(&h.publisher)
}

#[tokio::test]
async fn a_day_of_marketplace_orders_heals_lost_orders_and_reports_each_difference_once() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[
        product_json("REC-T", 10, 5_000),
        product_json("REC-H", 10, 3_000),
    ])
    .await;
    let day = today();

    // GIVEN a day of Trendyol packages, each delivered by webhook, except:
    // #2 never delivered (nor polled), #3 moved to Picking without its
    // webhook, #4 stored with another price than Trendyol lists, and one
    // order of ours Trendyol does not know.
    let packages: Vec<Value> = (0..5)
        .map(|_| h.trendyol.add_order(&[("REC-T", 1, 50.0)]))
        .collect();
    let id = |i: usize| packages[i]["id"].as_i64().unwrap();
    let number = |i: usize| packages[i]["orderNumber"].as_str().unwrap().to_string();
    for i in [0, 1, 3] {
        let answer =
            deliver_marketplace(&h, "/webhooks/trendyol", &h.trendyol.webhook_body(id(i))).await;
        assert_eq!(answer["outcome"], "created", "{answer}");
    }
    let mut tampered = h.trendyol.webhook_payload(id(4));
    for field in ["grossAmount", "totalPrice"] {
        tampered[field] = json!(45.0);
    }
    for field in ["amount", "price"] {
        tampered["lines"][0][field] = json!(45.0);
    }
    tampered["lines"][0]["discountDetails"][0]["lineItemPrice"] = json!(45.0);
    deliver_marketplace(&h, "/webhooks/trendyol", tampered.to_string().as_bytes()).await;
    let mut ghost = h.trendyol.webhook_payload(id(0));
    ghost["id"] = json!(987_654_321);
    ghost["orderNumber"] = json!("GHOST-1");
    ghost["lines"][0]["id"] = json!(987_654_322);
    deliver_marketplace(&h, "/webhooks/trendyol", ghost.to_string().as_bytes()).await;
    h.trendyol.update_status(id(3), "Picking");
    // … and of Hepsiburada: two orders polled, a third never seen.
    for _ in 0..2 {
        h.hepsiburada.add_order_lines(&[("REC-H", 1, 30.0)]);
    }
    let poll = h
        .order_poll(&[])
        .run_only(Some(Marketplace::Hepsiburada), i64::MAX)
        .await;
    assert_eq!(poll.marketplaces[0].created, 2, "{poll:?}");
    let hb_lost = h.hepsiburada.add_order_lines(&[("REC-H", 1, 30.0)]);
    assert_eq!(product_stock(&h, "REC-T").await, 5); // #0, #1, #3, #4, ghost
    assert_eq!(product_stock(&h, "REC-H").await, 8);
    let ty_reads = h.trendyol.order_list_request_count();
    let hb_reads = h.hepsiburada.order_list_request_count();
    h.publisher.published.lock().unwrap().clear();

    // WHEN the day is reconciled (pages of 2: Trendyol's 5 packages in 3
    // pages, Hepsiburada's 3 lines in 2)
    let app = h.reconcile(&[
        ("RECONCILE_TRENDYOL_PAGE_SIZE", "2"),
        ("RECONCILE_HEPSIBURADA_PAGE_SIZE", "2"),
        ("RECONCILE_STOP_BEFORE_DEADLINE_SECS", "0"),
    ]);
    let answer = app.run(&run(&day, "run-1"), far_deadline()).await.unwrap();
    assert_eq!(answer.outcome, "completed");
    let report = answer.report.unwrap();

    // THEN the lost order and the lost status change are taken in once…
    let healed: BTreeMap<(String, String, String), usize> =
        report.healed.iter().fold(BTreeMap::new(), |mut m, f| {
            *m.entry((f.provider.clone(), f.provider_ref.clone(), f.fact.clone()))
                .or_default() += 1;
            m
        });
    assert_eq!(
        healed,
        BTreeMap::from([
            (
                (
                    "hepsiburada".into(),
                    hb_lost.order_number.clone(),
                    "marketplace_order".into()
                ),
                1
            ),
            (
                ("trendyol".into(), number(2), "marketplace_order".into()),
                1
            ),
            (
                (
                    "trendyol".into(),
                    number(3),
                    "marketplace_order_status".into()
                ),
                1
            ),
        ])
    );
    assert_eq!(
        product_stock(&h, "REC-T").await,
        4,
        "stock moved once for #2"
    );
    assert_eq!(product_stock(&h, "REC-H").await, 7);
    let (order3, _) = h
        .catalog_store()
        .load_marketplace_order(Marketplace::Trendyol, &number(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order3.status(), "picking");
    // … each real difference is reported once, and nothing else.
    let kinds: BTreeMap<(String, String), DifferenceKind> = report
        .differences
        .iter()
        .map(|d| ((d.provider.clone(), d.provider_ref.clone()), d.kind))
        .collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            (
                ("trendyol".into(), number(4)),
                DifferenceKind::AmountDiffers
            ),
            (
                ("trendyol".into(), "GHOST-1".into()),
                DifferenceKind::MissingAtProvider
            ),
        ]),
        "{:#?}",
        report.differences
    );
    let amount = report
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::AmountDiffers)
        .unwrap();
    assert_eq!(amount.provider_side.amount.unwrap().minor, 5_000);
    assert_eq!(
        amount.our_side.as_ref().unwrap().amount.unwrap().minor,
        4_500
    );
    let events = published_by(&h);
    assert_eq!(events.get("reconciliation.mismatch"), Some(&2));
    assert_eq!(events.get("reconciliation.completed"), Some(&1));
    assert_eq!(events.get("marketplace.order.created"), Some(&2));
    assert_eq!(events.get("marketplace.order.status_changed"), Some(&1));
    // Provider requests: the page count, plus one direct read for the one
    // order of ours Trendyol did not list.
    assert_eq!(h.trendyol.order_list_request_count() - ty_reads, 3 + 1);
    assert_eq!(h.hepsiburada.order_list_request_count() - hb_reads, 2);
    let counts: BTreeMap<_, _> = report
        .providers
        .iter()
        .map(|p| {
            (
                p.provider.as_str(),
                (p.listed, p.requests, p.healed, p.differences),
            )
        })
        .collect();
    // Trendyol's requests: 4 for the orders, 2 for the (empty) sale and
    // return records of the settlements pass.
    assert_eq!(counts["trendyol"], (5, 6, 2, 2));
    // Hepsiburada's: 2 order pages, 1 (empty) accounting page.
    assert_eq!(counts["hepsiburada"], (3, 3, 1, 0));

    // The lost webhooks arriving late change nothing.
    for i in [2, 3] {
        let answer =
            deliver_marketplace(&h, "/webhooks/trendyol", &h.trendyol.webhook_body(id(i))).await;
        assert_eq!(answer["outcome"], "unchanged", "{answer}");
    }
    assert_eq!(product_stock(&h, "REC-T").await, 4);

    // A second run of the day finds nothing new and changes nothing.
    h.publisher.published.lock().unwrap().clear();
    let again = app.run(&run(&day, "run-2"), far_deadline()).await.unwrap();
    let again = again.report.unwrap();
    assert_eq!(again.differences, report.differences);
    assert_eq!(again.healed, report.healed);
    assert_eq!(
        published_by(&h),
        BTreeMap::from([("reconciliation.completed", 1)])
    );
    assert_eq!(product_stock(&h, "REC-T").await, 4);
    assert_eq!(product_stock(&h, "REC-H").await, 7);
}

#[tokio::test]
async fn a_hepsiburada_order_we_hold_that_hepsiburada_does_not_know_is_missing_at_provider_once() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[product_json("REC-HM", 10, 3_000)]).await;
    let day = today();
    // GIVEN three Hepsiburada orders of ours polled in today: two packed
    // since (so the day's list, which shows lines waiting to be packed,
    // no longer shows them) and one Hepsiburada does not know (as if a
    // forged or misrouted notice had brought it).
    let numbers: Vec<String> = (0..3)
        .map(|_| {
            h.hepsiburada
                .add_order_lines(&[("REC-HM", 1, 30.0)])
                .order_number
        })
        .collect();
    let poll = h
        .order_poll(&[])
        .run_only(Some(Marketplace::Hepsiburada), i64::MAX)
        .await;
    assert_eq!(poll.marketplaces[0].created, 3, "{poll:?}");
    for n in &numbers[..2] {
        h.hepsiburada.update_status(n, "Packaged");
    }
    h.hepsiburada.forget_order(&numbers[2]);
    h.publisher.published.lock().unwrap().clear();

    // WHEN the day is reconciled, twice
    let app = h.reconcile(&[("RECONCILE_STOP_BEFORE_DEADLINE_SECS", "0")]);
    let report = app
        .run(&run(&day, "run-1"), far_deadline())
        .await
        .unwrap()
        .report
        .unwrap();

    // THEN each order the list did not show is asked for once, and only
    // the unknown one is a difference.
    assert_eq!(h.hepsiburada.order_detail_request_count(), 3);
    let hb: Vec<_> = report
        .differences
        .iter()
        .filter(|d| d.provider == "hepsiburada")
        .collect();
    assert_eq!(hb.len(), 1, "{:#?}", report.differences);
    assert_eq!(
        (hb[0].kind, hb[0].provider_ref.as_str()),
        (DifferenceKind::MissingAtProvider, numbers[2].as_str())
    );
    assert_eq!(
        hb[0].our_side.as_ref().unwrap().amount.unwrap().minor,
        3_000
    );
    assert_eq!(published_by(&h).get("reconciliation.mismatch"), Some(&1));
    h.publisher.published.lock().unwrap().clear();
    let again = app
        .run(&run(&day, "run-2"), far_deadline())
        .await
        .unwrap()
        .report
        .unwrap();
    assert_eq!(again.differences, report.differences);
    assert_eq!(
        published_by(&h),
        BTreeMap::from([("reconciliation.completed", 1)])
    );
}

/// A payment attempt of ours with `provider` for `order_id`, created now
/// (so on today's by-day list of our payments).
async fn attempt_today(stack: &Stack, provider: &str, order_id: &str, provider_ref: &str) {
    use ayaztrade::domain::PaymentAttempt;
    use ayaztrade::money::{Currency, Money};
    use ayaztrade::ports::PaymentAttemptRecorder;
    store(stack)
        .record_attempt(&PaymentAttempt {
            order_id: order_id.into(),
            provider: provider.into(),
            provider_ref: provider_ref.into(),
            amount: Money::new(TOTAL, Currency::TRY),
            provider_status: "requires_payment_method".into(),
            idempotency_key: format!("ayaztrade:pi:{order_id}"),
            created_at: ayaztrade::clock::now_rfc3339(),
            hosted_form: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_payment_we_hold_that_stripe_does_not_know_is_missing_at_provider_once() {
    let stack = &ayaztrade_tests::local_stack::fresh_stack().await;
    let stripe = StripeFake::start().await;
    let h = webhook_harness(stack);
    let client = StripeClient::new(
        HttpLayer::new(fast_http_settings()),
        stripe_settings(&stripe),
    );
    let day = today();
    let ids = orders(stack, 3).await;
    // GIVEN a payment Stripe lists (paid by its webhook), one a notice
    // claims that Stripe has never seen (paid here all the same), and an
    // attempt that collected nothing.
    let pi = client
        .create_payment_intent(
            &CreatePaymentIntent {
                amount: TOTAL,
                currency: "try".into(),
                order_id: ids[0].clone(),
                description: None,
            },
            &format!("ayaztrade:pi:{}", ids[0]),
        )
        .await
        .unwrap();
    attempt_today(stack, "stripe", &ids[0], &pi.id).await;
    deliver_stripe(&h, &stripe.succeed_intent(&pi.id, None)).await;
    let ghost = format!("pi_ghost{}", fastrand::u64(..));
    attempt_today(stack, "stripe", &ids[1], &ghost).await;
    let now = now_unix();
    let forged = json!({
        "id": format!("evt_ghost{}", fastrand::u64(..)), "object": "event",
        "api_version": "2025-04-30.basil", "created": now, "livemode": false,
        "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": ghost, "object": "payment_intent", "amount": TOTAL,
            "amount_received": TOTAL, "currency": "try", "status": "succeeded",
            "metadata": {"order_id": ids[1]}, "livemode": false, "created": now}}
    });
    deliver_stripe(&h, forged.to_string().as_bytes()).await;
    assert_eq!(ledger(stack, &ids[1]).await.0, "paid");
    attempt_today(stack, "stripe", &ids[2], "pi_neverpaid1").await;

    // WHEN the day is reconciled, twice
    let (app, publisher) = reconcile_app(stack, &stripe, None, 20);
    let report = app
        .run(&run(&day, "run-1"), far_deadline())
        .await
        .unwrap()
        .report
        .unwrap();

    // THEN only the payment Stripe does not know is a difference, found by
    // asking Stripe for it once; the others cost no request.
    assert_eq!(report.differences.len(), 1, "{:#?}", report.differences);
    let d = &report.differences[0];
    assert_eq!(
        (d.kind, d.provider_ref.as_str(), d.order_id.as_deref()),
        (
            DifferenceKind::MissingAtProvider,
            ghost.as_str(),
            Some(ids[1].as_str())
        )
    );
    assert_eq!(d.our_side.as_ref().unwrap().amount.unwrap().minor, TOTAL);
    assert_eq!(
        stripe.count("GET", &format!("/v1/payment_intents/{ghost}")),
        1
    );
    assert_eq!(
        stripe.count("GET", &format!("/v1/payment_intents/{}", pi.id)),
        0
    );
    assert_eq!(stripe.count("GET", "/v1/payment_intents/pi_neverpaid1"), 0);
    assert_eq!(
        published(&publisher),
        BTreeMap::from([
            ("reconciliation.completed", 1),
            ("reconciliation.mismatch", 1)
        ])
    );
    publisher.published.lock().unwrap().clear();
    let again = app
        .run(&run(&day, "run-2"), far_deadline())
        .await
        .unwrap()
        .report
        .unwrap();
    assert_eq!(again.differences, report.differences);
    assert_eq!(
        published(&publisher),
        BTreeMap::from([("reconciliation.completed", 1)])
    );
}

#[tokio::test]
async fn a_payment_we_hold_that_iyzico_does_not_know_is_missing_at_provider_once() {
    let stack = &ayaztrade_tests::local_stack::fresh_stack().await;
    let stripe = StripeFake::start().await;
    let iyzico = IyzicoFake::start().await;
    let h = webhook_harness(stack);
    let day = today();
    let ids = orders(stack, 2).await;
    // GIVEN a payment iyzico lists (paid by its notice) and one a signed
    // notice claims that iyzico has never made (paid here all the same).
    let pid = iyzico.seed_paid(&ids[0], TOTAL);
    attempt_today(stack, "iyzico", &ids[0], &pid).await;
    deliver_iyzico(&h, &ids[0], &pid).await;
    let ghost = format!("{}", 90_000_000 + fastrand::u32(..1_000_000));
    attempt_today(stack, "iyzico", &ids[1], &ghost).await;
    deliver_iyzico(&h, &ids[1], &ghost).await;
    assert_eq!(ledger(stack, &ids[1]).await.0, "paid");
    let details_reads = iyzico.report_reads();

    // WHEN the day is reconciled, twice
    let (app, publisher) = reconcile_app(stack, &stripe, Some(&iyzico), 20);
    let report = app
        .run(&run(&day, "run-1"), far_deadline())
        .await
        .unwrap()
        .report
        .unwrap();

    // THEN only the payment iyzico does not know is a difference, found by
    // asking iyzico's reporting details for it once (the listed one costs
    // no request beyond the daily report).
    let iyzico_differences: Vec<_> = report
        .differences
        .iter()
        .filter(|d| d.provider == "iyzico")
        .collect();
    assert_eq!(iyzico_differences.len(), 1, "{:#?}", report.differences);
    let d = iyzico_differences[0];
    assert_eq!(
        (d.kind, d.provider_ref.as_str(), d.order_id.as_deref()),
        (
            DifferenceKind::MissingAtProvider,
            ghost.as_str(),
            Some(ids[1].as_str())
        )
    );
    assert_eq!(d.our_side.as_ref().unwrap().amount.unwrap().minor, TOTAL);
    // One details read: the ghost's.
    assert_eq!(iyzico.report_reads() - details_reads, 1);
    assert_eq!(
        published(&publisher).get("reconciliation.mismatch"),
        Some(&1)
    );
    publisher.published.lock().unwrap().clear();
    let again = app
        .run(&run(&day, "run-2"), far_deadline())
        .await
        .unwrap()
        .report
        .unwrap();
    assert_eq!(again.differences, report.differences);
    assert_eq!(
        published(&publisher),
        BTreeMap::from([("reconciliation.completed", 1)])
    );
}
