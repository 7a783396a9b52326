//! The operations function against moto and the provider fakes: health
//! checks (statuses, error codes, the shared cache counted at the fakes),
//! the webhook audit read, and sync requests carried through to product-sync
//! and order-poll as the EventBridge rule would deliver them.

use std::collections::HashMap;
use std::time::Duration;

use ayaztrade::apps::operations;
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::aws::eventbridge::EventBridgePublisher;
use ayaztrade::domain::event::{DomainEvent, EVENT_SOURCE};
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::ports::CatalogSyncStore;
use ayaztrade::providers::http::HttpLayer;
use ayaztrade_tests::aras_fake::{self, ArasFake};
use ayaztrade_tests::catalog_support::{catalog_env, product_json, CatalogHarness};
use ayaztrade_tests::fixtures::*;
use ayaztrade_tests::hepsiburada_fake::HepsiburadaFake;
use ayaztrade_tests::iyzico_fake::{self, IyzicoFake};
use ayaztrade_tests::local_stack::{fresh_stack, stack, unique_id, Stack};
use ayaztrade_tests::stripe_fake::{self, StripeFake};
use ayaztrade_tests::trendyol_fake::TrendyolFake;
use ayaztrade_tests::webhook_support::*;
use serde_json::{json, Value};

/// Every provider's fake, on one fresh stack (the health cache is one item
/// per provider: tests must not share it).
struct Providers {
    stack: Stack,
    stripe: StripeFake,
    iyzico: IyzicoFake,
    trendyol: TrendyolFake,
    hepsiburada: HepsiburadaFake,
    aras: ArasFake,
}

impl Providers {
    async fn start() -> Providers {
        Providers {
            stack: fresh_stack().await,
            stripe: StripeFake::start().await,
            iyzico: IyzicoFake::start().await,
            trendyol: TrendyolFake::start().await,
            hepsiburada: HepsiburadaFake::start().await,
            aras: ArasFake::start().await,
        }
    }

    /// The operations function's environment, pointed at the fakes.
    fn env(&self) -> HashMap<String, String> {
        let mut env = catalog_env(&self.stack, &self.trendyol, &self.hepsiburada, &[]);
        for (k, v) in [
            ("EVENT_BUS_NAME", self.stack.event_bus_name.clone()),
            ("STRIPE_SECRET_KEY", stripe_fake::TEST_SECRET_KEY.into()),
            ("STRIPE_API_BASE", self.stripe.base_url.clone()),
            ("IYZICO_API_KEY", iyzico_fake::API_KEY.into()),
            ("IYZICO_SECRET_KEY", iyzico_fake::SECRET_KEY.into()),
            ("IYZICO_API_BASE", self.iyzico.base_url.clone()),
            ("ARAS_USERNAME", aras_fake::USERNAME.into()),
            ("ARAS_PASSWORD", aras_fake::PASSWORD.into()),
            ("ARAS_QUERY_USERNAME", aras_fake::QUERY_USERNAME.into()),
            ("ARAS_QUERY_PASSWORD", aras_fake::QUERY_PASSWORD.into()),
            ("ARAS_CUSTOMER_CODE", aras_fake::CUSTOMER_CODE.into()),
            ("ARAS_ORDER_SERVICE_URL", self.aras.order_service_url()),
            ("ARAS_QUERY_SERVICE_URL", self.aras.query_service_url()),
        ] {
            env.insert(k.to_string(), v);
        }
        env
    }

    /// One instance of the function (its own HTTP layer, as a container).
    fn app(&self, overrides: &[(&str, &str)]) -> operations::App<DynamoStore, RecordingPublisher> {
        let mut env = self.env();
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        operations_app(&self.stack, &env)
    }

    /// Requests each fake has received so far.
    fn calls(&self) -> [usize; 5] {
        [
            self.stripe.requests().len(),
            self.iyzico.report_reads(),
            self.trendyol.requests().len(),
            self.hepsiburada.requests().len(),
            self.aras.requests(aras_fake::GET_QUERY_JSON) as usize,
        ]
    }
}

fn operations_app(
    stack: &Stack,
    env: &HashMap<String, String>,
) -> operations::App<DynamoStore, RecordingPublisher> {
    let source = |name: &str| env.get(name).cloned();
    let aws = ayaztrade::aws::sdk::AwsEnv::from_env().unwrap();
    let publisher = RecordingPublisher::new(EventBridgePublisher::new(
        aws.eventbridge(),
        stack.event_bus_name.clone(),
    ));
    let store = DynamoStore::new(stack.dynamo.clone(), stack.table_name.clone());
    let http = HttpLayer::new(fast_http_settings());
    operations::App::from_source(store, publisher, &source, &http).expect("operations app")
}

async fn get(app: &operations::App<DynamoStore, RecordingPublisher>, path: &str) -> (u16, Value) {
    response_json(app.handle(http_request("GET", path, None)).await.unwrap())
}

/// `GET /integrations/health`, as `provider → check`.
async fn health(app: &operations::App<DynamoStore, RecordingPublisher>) -> HashMap<String, Value> {
    let (status, body) = get(app, "/integrations/health").await;
    assert_eq!(status, 200, "{body}");
    body["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["provider"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

const ALL: [&str; 5] = ["stripe", "iyzico", "trendyol", "hepsiburada", "aras"];

#[tokio::test]
async fn every_provider_answering_is_healthy_and_a_second_call_asks_none_of_them() {
    let p = Providers::start().await;
    let app = p.app(&[]);
    let before = p.calls();
    let (status, body) = get(&app, "/integrations/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "healthy", "{body}");
    let checks = health(&app).await;
    for name in ALL {
        let c = &checks[name];
        assert_eq!(c["status"], "healthy", "{name}: {c}");
        assert!(c["latencyMs"].as_u64().is_some(), "{c}");
        assert!(c["checkedAt"].as_str().unwrap().starts_with("20"), "{c}");
        assert!(c.get("error").is_none(), "{c}");
        assert_eq!(c["cached"], true, "the second call is the cache's: {c}");
    }
    let after_first = p.calls();
    for i in 0..5 {
        assert!(
            after_first[i] > before[i],
            "{} was asked: {after_first:?}",
            ALL[i]
        );
    }
    // Another instance (another container) inside the window: the table answers.
    let other = p.app(&[]);
    let (_, one) = get(&other, "/integrations/health/trendyol").await;
    assert_eq!(
        (one["status"].clone(), one["cached"].clone()),
        (json!("healthy"), json!(true))
    );
    health(&other).await;
    assert_eq!(
        p.calls(),
        after_first,
        "no provider call inside the cache window"
    );
}

#[tokio::test]
async fn refused_credentials_are_unhealthy_auth_failed_and_never_shown() {
    let p = Providers::start().await;
    let wrong = [
        ("STRIPE_SECRET_KEY", "sk_test_wrongwrongwrong"),
        ("IYZICO_SECRET_KEY", "wrong-iyzico-secret"),
        ("TRENDYOL_API_SECRET", "wrong-trendyol-secret"),
        ("HEPSIBURADA_SERVICE_KEY", "wrong-hb-key"),
        ("ARAS_QUERY_PASSWORD", "wrong-aras-password"),
    ];
    let app = p.app(&wrong);
    let (_, body) = get(&app, "/integrations/health").await;
    assert_eq!(body["status"], "unhealthy", "{body}");
    let checks = health(&app).await;
    for name in ["stripe", "iyzico", "trendyol", "hepsiburada"] {
        assert_eq!(
            checks[name]["status"], "unhealthy",
            "{name}: {}",
            checks[name]
        );
        assert_eq!(
            checks[name]["error"], "auth_failed",
            "{name}: {}",
            checks[name]
        );
    }
    // Aras answers a bad login to GetQueryJSON with text, not a code we can
    // tell from other refusals (docs/aras-wire.md Q4): unhealthy, `rejected`.
    assert_eq!(checks["aras"]["status"], "unhealthy", "{}", checks["aras"]);
    assert_eq!(checks["aras"]["error"], "rejected", "{}", checks["aras"]);
    let text = body.to_string();
    for (_, secret) in wrong {
        assert!(!text.contains(secret), "a secret in the answer: {text}");
    }
    for leak in ["Invalid API Key", "Geçersiz imza", "<", "Unauthorized"] {
        assert!(
            !text.contains(leak),
            "provider text in the answer ({leak}): {text}"
        );
    }
}

#[tokio::test]
async fn five_hundreds_and_timeouts_are_unhealthy_unavailable() {
    use ayaztrade_tests::trendyol_fake::Fault as MarketFault;
    let p = Providers::start().await;
    // As many faults as the HTTP layer makes attempts (fast settings: 3).
    for _ in 0..3 {
        p.stripe.push_fault(stripe_fake::Fault::Edge {
            status: 503,
            should_retry: None,
        });
        p.trendyol.push_fault(MarketFault::Status(500));
        p.hepsiburada
            .push_fault(MarketFault::Timeout(Duration::from_secs(2)));
        p.aras
            .push_fault(aras_fake::Fault::Hang(Duration::from_secs(2)));
    }
    // iyzico's fake takes no faults: a host that refuses connections.
    let app = p.app(&[("IYZICO_API_BASE", "http://127.0.0.1:9")]);
    let checks = health(&app).await;
    for name in ALL {
        assert_eq!(
            (
                checks[name]["status"].as_str(),
                checks[name]["error"].as_str()
            ),
            (Some("unhealthy"), Some("unavailable")),
            "{name}: {}",
            checks[name]
        );
    }
}

#[tokio::test]
async fn an_unconfigured_provider_is_said_so_and_not_called() {
    let p = Providers::start().await;
    let app = p.app(&[
        ("ARAS_USERNAME", "-"),
        ("IYZICO_API_KEY", "-"),
        ("STRIPE_SECRET_KEY", "-"),
    ]);
    let before = p.calls();
    let checks = health(&app).await;
    for name in ["stripe", "iyzico", "aras"] {
        assert_eq!(checks[name]["status"], "unconfigured", "{}", checks[name]);
        assert!(checks[name].get("latencyMs").is_none());
    }
    assert_eq!(checks["trendyol"]["status"], "healthy");
    let after = p.calls();
    assert_eq!(
        (after[0], after[1], after[4]),
        (before[0], before[1], before[4])
    );
    let (status, body) = get(&app, "/integrations/health/n11").await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn the_audit_read_lists_what_the_webhook_wrote_page_by_page() {
    let stack = stack().await;
    let h = webhook_harness(stack);
    let order_id = given_an_order(stack, demo_order_json()).await;
    let event_id = evt_id();
    let pi = format!("pi_{}", unique_id("x").replace('-', ""));
    let body = stripe_succeeded(&event_id, &pi, &order_id, 86920);
    for _ in 0..2 {
        let (status, resp) =
            response_json(h.app.handle(signed_stripe_request(&body)).await.unwrap());
        assert_eq!(status, 200, "{resp}");
    }
    let env: HashMap<String, String> = [
        ("TABLE_NAME", stack.table_name.clone()),
        ("EVENT_BUS_NAME", stack.event_bus_name.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let app = operations_app(stack, &env);
    let day = &ayaztrade::clock::now_rfc3339()[..10];
    // One entry a page, following the cursor (other tests audit Stripe too).
    let mut cursor: Option<String> = None;
    let mut found = None;
    let mut pages = 0;
    loop {
        let mut path = format!("/integrations/webhooks?provider=stripe&day={day}&limit=1");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = get(&app, &path).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let deliveries = page["deliveries"].as_array().unwrap();
        assert!(deliveries.len() <= 1);
        if let Some(d) = deliveries
            .iter()
            .find(|d| d["eventId"] == event_id.as_str())
        {
            found = Some(d.clone());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10_000);
    }
    let entry = found.expect("our delivery is in the audit");
    assert_eq!(entry["kind"], "accepted", "{entry}");
    assert_eq!(entry["outcome"], "applied", "{entry}");
    assert_eq!(entry["eventType"], "payment_intent.succeeded", "{entry}");
    assert_eq!(entry["duplicates"], 1, "the redelivery is counted: {entry}");
    assert!(entry.get("sourceIp").is_none() && !entry.to_string().contains(&order_id));

    let (status, bad) = get(
        &app,
        "/integrations/webhooks?provider=stripe&day=2026-13-01",
    )
    .await;
    assert_eq!(
        (status, bad["error"]["fields"][0]["field"].as_str()),
        (400, Some("day"))
    );
    let (status, _) = get(
        &app,
        &format!("/integrations/webhooks?provider=aras&day={day}"),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = get(
        &app,
        &format!("/integrations/webhooks?provider=stripe&day={day}&cursor=zz"),
    )
    .await;
    assert_eq!(status, 400);
}

/// The event as the template's rule hands it to the target function.
fn as_delivered(event: &DomainEvent) -> Value {
    json!({
        "version": "0",
        "id": unique_id("evb"),
        "detail-type": event.detail_type.as_str(),
        "source": EVENT_SOURCE,
        "account": "123456789012",
        "time": "2026-12-02T10:00:00Z",
        "region": "eu-central-1",
        "resources": [],
        "detail": serde_json::to_value(event).unwrap(),
    })
}

fn invoke(payload: Value) -> lambda_http::lambda_runtime::LambdaEvent<Value> {
    lambda_http::lambda_runtime::LambdaEvent::new(
        payload,
        lambda_http::lambda_runtime::Context::default(),
    )
}

#[tokio::test]
async fn a_catalog_sync_request_marks_the_skus_and_the_plan_it_starts_sends_nothing_twice() {
    let h = CatalogHarness::start(1, &[]).await;
    h.put_products(&[
        product_json("OPS-1", 5, 10_000),
        product_json("OPS-2", 3, 20_000),
    ])
    .await;
    h.cycle().await;
    h.cycle().await;
    let store = h.catalog_store();
    assert!(
        store.pending_products().await.unwrap().is_empty(),
        "settled"
    );
    let sent_before = h.trendyol.requests().len();

    let mut env = catalog_env(&h.stack, &h.trendyol, &h.hepsiburada, &[]);
    env.insert("EVENT_BUS_NAME".into(), h.stack.event_bus_name.clone());
    let app = operations_app(&h.stack, &env);
    let request = json!({"kind": "catalog", "skus": ["OPS-1", "NOT-THERE", "OPS-1"]});
    for _ in 0..2 {
        let (status, body) = response_json(
            app.handle(http_request(
                "POST",
                "/integrations/trendyol/sync",
                Some(&request),
            ))
            .await
            .unwrap(),
        );
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["event"], "sync.requested");
        assert_eq!(body["skus"], json!(["OPS-1"]));
        assert_eq!(body["unknownSkus"], json!(["NOT-THERE"]));
    }
    let pending: Vec<String> = store
        .pending_products()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.product.sku)
        .collect();
    assert_eq!(pending, vec!["OPS-1".to_string()]);

    // Both requests' events reach product-sync, one after the other.
    let published: Vec<DomainEvent> = std::mem::take(&mut *appublished(&app));
    assert_eq!(published.len(), 2);
    for event in &published {
        assert_eq!(event.detail_type.as_str(), "sync.requested");
        let report = h.sync.handle(invoke(as_delivered(event))).await.unwrap();
        assert_eq!(
            report.requested_by.as_deref(),
            serde_json::to_value(event).unwrap()["requestId"].as_str()
        );
        assert!(
            report.batches.is_empty(),
            "acknowledged pushes are not planned again: {report:?}"
        );
    }
    h.drain(Duration::from_secs(1), 50).await;
    assert_eq!(
        h.trendyol.requests().len(),
        sent_before,
        "nothing was sent again"
    );
    assert!(
        store.pending_products().await.unwrap().is_empty(),
        "OPS-1 settled again"
    );

    let (status, body) = response_json(
        app.handle(http_request(
            "POST",
            "/integrations/n11/sync",
            Some(&json!({"kind": "orders"})),
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 404, "{body}");
}

/// What the operations app's publisher recorded.
fn appublished(
    app: &operations::App<DynamoStore, RecordingPublisher>,
) -> std::sync::MutexGuard<'_, Vec<DomainEvent>> {
    app.publisher().published.lock().unwrap()
}

#[tokio::test]
async fn an_orders_sync_request_polls_that_marketplace_only() {
    let h = CatalogHarness::start(1, &[]).await;
    let package = h.trendyol.add_order(&[("OPS-ORD-1", 1, 10.0)]);
    let mut env = catalog_env(&h.stack, &h.trendyol, &h.hepsiburada, &[]);
    env.insert("EVENT_BUS_NAME".into(), h.stack.event_bus_name.clone());
    let app = operations_app(&h.stack, &env);
    let (status, body) = response_json(
        app.handle(http_request(
            "POST",
            "/integrations/trendyol/sync",
            Some(&json!({"kind": "orders"})),
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["kind"], "orders");
    let event = appublished(&app).pop().expect("published");
    let hb_before = h.hepsiburada.requests().len();
    let report = h
        .order_poll(&[])
        .handle(invoke(as_delivered(&event)))
        .await
        .expect("a poll");
    // One entry per feed (Trendyol: orders and claims), all Trendyol's.
    let mut polled: Vec<&str> = report
        .marketplaces
        .iter()
        .map(|m| m.marketplace.as_str())
        .collect();
    polled.dedup();
    assert_eq!(polled, vec!["trendyol"], "{report:?}");
    assert_eq!(report.marketplaces[0].created, 1, "{report:?}");
    assert_eq!(
        h.hepsiburada.requests().len(),
        hb_before,
        "Hepsiburada was not polled"
    );
    use ayaztrade::ports::MarketplaceOrderStore;
    assert!(h
        .catalog_store()
        .load_marketplace_order(
            Marketplace::Trendyol,
            package["orderNumber"].as_str().unwrap()
        )
        .await
        .unwrap()
        .is_some());
    let (status, body) = response_json(
        app.handle(http_request(
            "POST",
            "/integrations/trendyol/sync",
            Some(&json!({"kind": "orders", "skus": ["A"]})),
        ))
        .await
        .unwrap(),
    );
    assert_eq!(status, 400, "{body}");
}
