//! The catalog sync as it runs deployed, in one process: the catalog API,
//! product-sync and catalog-worker apps on a stack of their own (the sync
//! reads every pending product and plan in its table), both marketplace
//! fakes, and a driver that plays Lambda's SQS event source: it receives
//! up to 10 messages, invokes the worker, deletes what succeeded and lets
//! the failures come back after a visibility timeout (and reach the DLQ
//! after the template's maxReceiveCount).

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use ayaztrade::apps::catalog;
use ayaztrade::apps::catalog_worker;
use ayaztrade::apps::order_poll;
use ayaztrade::apps::product_sync;
use ayaztrade::apps::shipment;
use ayaztrade::apps::shipment_tracking;
use ayaztrade::apps::webhook;
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::aws::eventbridge::EventBridgePublisher;
use ayaztrade::aws::sqs::SqsQueue;
use ayaztrade::config::{CatalogSettings, HttpSettings, OrderPollSettings};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade::providers::marketplace::catalog::catalog_clients;
use serde_json::{json, Value};

use crate::fixtures::fast_http_settings;
use crate::hepsiburada_fake::{self, HepsiburadaFake};
use crate::local_stack::{fresh_stack, Stack};
use crate::trendyol_fake::{self, TrendyolFake};
use crate::webhook_support::RecordingPublisher;

pub type Worker = catalog_worker::App<DynamoStore, SqsQueue, RecordingPublisher>;

pub struct CatalogHarness {
    pub stack: Stack,
    pub trendyol: TrendyolFake,
    pub hepsiburada: HepsiburadaFake,
    /// Nudges the stock-sync queue on a change, as deployed.
    pub catalog: catalog::App<DynamoStore, SqsQueue>,
    pub sync: product_sync::App<DynamoStore, SqsQueue>,
    pub workers: Vec<Worker>,
    pub publisher: RecordingPublisher,
    pub sqs: aws_sdk_sqs::Client,
    env: HashMap<String, String>,
}

/// Environment of the catalog functions pointed at the fakes; `overrides`
/// win (e.g. `TRENDYOL_DUPLICATE_WINDOW_SECS`).
pub fn catalog_env(
    stack: &Stack,
    trendyol: &TrendyolFake,
    hepsiburada: &HepsiburadaFake,
    overrides: &[(&str, &str)],
) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("TABLE_NAME", stack.table_name.as_str()),
        ("CATALOG_QUEUE_URL", stack.catalog_queue_url.as_str()),
        ("CATALOG_CHECK_DELAY_SECS", "0"),
        ("CATALOG_RETRY_DELAY_SECS", "1"),
        ("TRENDYOL_API_BASE", trendyol.base_url.as_str()),
        ("TRENDYOL_SELLER_ID", trendyol_fake::TEST_SELLER_ID),
        ("TRENDYOL_API_KEY", trendyol_fake::TEST_API_KEY),
        ("TRENDYOL_API_SECRET", trendyol_fake::TEST_API_SECRET),
        (
            "HEPSIBURADA_MERCHANT_ID",
            hepsiburada_fake::TEST_MERCHANT_ID,
        ),
        (
            "HEPSIBURADA_SERVICE_KEY",
            hepsiburada_fake::TEST_SERVICE_KEY,
        ),
        (
            "HEPSIBURADA_USER_AGENT",
            hepsiburada_fake::TEST_INTEGRATOR_USERNAME,
        ),
        (
            "HEPSIBURADA_LISTING_BASE",
            hepsiburada.listing_base_url.as_str(),
        ),
        (
            "HEPSIBURADA_CATALOG_BASE",
            hepsiburada.mpop_base_url.as_str(),
        ),
        ("HEPSIBURADA_OMS_BASE", hepsiburada.oms_base_url.as_str()),
        // The fake serves the accounting service on its oms port.
        (
            "HEPSIBURADA_FINANCE_BASE",
            hepsiburada.oms_base_url.as_str(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

impl CatalogHarness {
    pub async fn start(workers: usize, overrides: &[(&str, &str)]) -> CatalogHarness {
        Self::start_with(workers, overrides, fast_http_settings()).await
    }

    pub async fn start_with(
        workers: usize,
        overrides: &[(&str, &str)],
        http: HttpSettings,
    ) -> CatalogHarness {
        // Worker and sync logs in the test output (shown when a test fails).
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_max_level(tracing::Level::INFO)
            .try_init();
        let stack = fresh_stack().await;
        let trendyol = TrendyolFake::start().await;
        let hepsiburada = HepsiburadaFake::start().await;
        let env = catalog_env(&stack, &trendyol, &hepsiburada, overrides);
        let aws = ayaztrade::aws::sdk::AwsEnv::from_env().expect("AWS settings");
        let store = DynamoStore::new(stack.dynamo.clone(), stack.table_name.clone());
        let publisher = RecordingPublisher::new(EventBridgePublisher::new(
            aws.eventbridge(),
            stack.event_bus_name.clone(),
        ));
        let source = |name: &str| env.get(name).cloned();
        let settings = CatalogSettings::from_env(&source).expect("catalog settings");
        let queue = SqsQueue::new(aws.sqs(), stack.catalog_queue_url.clone());
        // Each worker is one Lambda instance: its own HTTP layer and rate limiter.
        let workers = (0..workers)
            .map(|_| {
                let http = HttpLayer::new(http.clone());
                catalog_worker::App::new(
                    store.clone(),
                    queue.clone(),
                    publisher.clone(),
                    catalog_clients(&source, &http).expect("marketplaces"),
                    settings.clone(),
                )
            })
            .collect();
        let sync_http = HttpLayer::new(http.clone());
        let stock_queue = SqsQueue::new(aws.sqs(), stack.stock_sync_queue_url.clone());
        let sync = product_sync::App::new(
            store.clone(),
            queue,
            catalog_clients(&source, &sync_http).expect("marketplaces"),
            settings,
        )
        .with_stock_queue(Some(stock_queue.clone()));
        CatalogHarness {
            catalog: catalog::App::new(store).with_trigger(stock_queue),
            sync,
            workers,
            publisher,
            sqs: aws.sqs(),
            trendyol,
            hepsiburada,
            env,
            stack,
        }
    }

    /// The table as the apps see it.
    pub fn catalog_store(&self) -> DynamoStore {
        DynamoStore::new(self.stack.dynamo.clone(), self.stack.table_name.clone())
    }

    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// Stores products through the bulk API, 1,000 per call; panics unless
    /// every one was stored.
    /// The `marketplace.order.seller_action` events published for one
    /// order, as JSON.
    pub fn seller_action_events(&self, order_number: &str) -> Vec<Value> {
        self.publisher
            .published
            .lock()
            .unwrap()
            .iter()
            .filter(|e| {
                e.detail_type == ayaztrade::domain::event::DetailType::MarketplaceOrderSellerAction
            })
            .map(|e| serde_json::to_value(e).unwrap())
            .filter(|v| v["orderNumber"] == order_number)
            .collect()
    }

    /// A product's stock as stored now.
    pub async fn stock(&self, sku: &str) -> i64 {
        use ayaztrade::ports::ProductStore;
        self.catalog_store()
            .get_product(sku)
            .await
            .unwrap()
            .expect("product")
            .product
            .stock
    }

    pub async fn put_products(&self, products: &[Value]) {
        for chunk in products.chunks(1000) {
            let body = json!({ "products": chunk }).to_string();
            let outcome = self
                .catalog
                .put_bulk(body.as_bytes())
                .await
                .expect("bulk upsert");
            assert_eq!(
                outcome.invalid + outcome.failed,
                0,
                "bulk upsert refused items: {:?}",
                outcome.results.iter().find(|r| !r.errors.is_empty())
            );
        }
    }

    /// Plays Lambda's event source until the queue stays empty: every
    /// worker (one Lambda instance each) polls on its own, takes up to 10
    /// messages, processes them and deletes what succeeded; failed messages
    /// return after `visibility`. Gives up after `max_polls` polls per
    /// worker. Returns the number of worker invocations.
    pub async fn drain(&self, visibility: Duration, max_polls: usize) -> usize {
        self.drain_until(visibility, max_polls, || false).await
    }

    /// [`drain`](Self::drain), stopping early once `done()` holds.
    pub async fn drain_until(
        &self,
        visibility: Duration,
        max_polls: usize,
        done: impl Fn() -> bool,
    ) -> usize {
        let done = &done;
        let loops = self.workers.iter().map(|worker| async move {
            let mut invocations = 0;
            let mut idle = 0;
            let mut next = self.receive(visibility).await;
            for _ in 0..max_polls {
                if done() {
                    break;
                }
                let current = std::mem::take(&mut next);
                if current.is_empty() {
                    if self.queue_is_empty().await {
                        idle += 1;
                        if idle >= 2 {
                            break;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    next = self.receive(visibility).await;
                    continue;
                }
                invocations += 1;
                idle = 0;
                // Like Lambda's pollers, fetch the next batch while the
                // function works on this one.
                let ((), upcoming) = futures::join!(self.invoke(worker, &current), async {
                    if done() {
                        Vec::new()
                    } else {
                        self.receive(visibility).await
                    }
                });
                next = upcoming;
            }
            invocations
        });
        futures::future::join_all(loops).await.into_iter().sum()
    }

    async fn receive(&self, visibility: Duration) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs
            .receive_message()
            .queue_url(&self.stack.catalog_queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility.as_secs().max(1) as i32)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default()
    }

    /// One invocation of `worker` with `messages`, then the event source's
    /// delete of the ones not reported as failed.
    async fn invoke(&self, worker: &Worker, messages: &[aws_sdk_sqs::types::Message]) {
        let response = worker.process(sqs_event(messages)).await;
        self.delete_succeeded(&self.stack.catalog_queue_url, messages, response)
            .await;
    }

    /// Plays product-sync's SQS event source on the stock-sync queue once:
    /// waits up to `wait` for messages, hands all it got (up to 10 a
    /// receive, as many receives as return some) to product-sync as one
    /// batch, through the function's own entry point, and deletes what
    /// succeeded. Returns the messages handed over and the answer.
    pub async fn stock_sync(&self, wait: Duration) -> (usize, SqsBatchResponse) {
        let mut messages = Vec::new();
        let mut wait_secs = wait.as_secs().max(1) as i32;
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.stack.stock_sync_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait_secs)
                .visibility_timeout(30)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive stock-sync")
                .messages
                .unwrap_or_default();
            if got.is_empty() {
                break;
            }
            messages.extend(got);
            wait_secs = 0;
        }
        if messages.is_empty() {
            return (0, SqsBatchResponse::default());
        }
        let event = serde_json::to_value(sqs_event(&messages)).expect("SQS event");
        let answer = self
            .sync
            .handle_any(lambda_http::lambda_runtime::LambdaEvent::new(
                event,
                lambda_http::lambda_runtime::Context::default(),
            ))
            .await
            .expect("product-sync");
        let response: SqsBatchResponse = serde_json::from_value(answer).expect("a batch response");
        self.delete_succeeded(
            &self.stack.stock_sync_queue_url,
            &messages,
            response.clone(),
        )
        .await;
        (messages.len(), response)
    }

    /// The event source's delete of the messages not reported as failed.
    async fn delete_succeeded(
        &self,
        queue_url: &str,
        messages: &[aws_sdk_sqs::types::Message],
        response: SqsBatchResponse,
    ) {
        let failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        // Lambda's event source deletes the successes in one batch call.
        let done: Vec<_> = messages
            .iter()
            .filter(|m| !failed.contains(m.message_id.as_ref().unwrap()))
            .enumerate()
            .map(|(i, m)| {
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .build()
                    .unwrap()
            })
            .collect();
        for done in done.chunks(10).filter(|d| !d.is_empty()) {
            self.sqs
                .delete_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(done.to_vec()))
                .send()
                .await
                .expect("delete");
        }
    }

    async fn queue_is_empty(&self) -> bool {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.stack.catalog_queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .expect("queue attributes");
        let map = attrs.attributes.unwrap_or_default();
        let count = |k| map.get(&k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        use aws_sdk_sqs::types::QueueAttributeName as A;
        count(A::ApproximateNumberOfMessages) == 0
            && count(A::ApproximateNumberOfMessagesNotVisible) == 0
            && count(A::ApproximateNumberOfMessagesDelayed) == 0
    }

    /// Messages in the catalog DLQ (bodies).
    pub async fn dlq_bodies(&self) -> Vec<String> {
        let mut bodies = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.stack.catalog_dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .send()
                .await
                .expect("receive DLQ");
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            bodies.extend(messages.into_iter().filter_map(|m| m.body));
        }
    }

    /// order-poll on this stack and these fakes (its own HTTP layer, as a
    /// Lambda instance of its own); `overrides` win over the harness's env.
    pub fn order_poll(
        &self,
        overrides: &[(&str, &str)],
    ) -> order_poll::App<DynamoStore, RecordingPublisher> {
        let mut env = self.env.clone();
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let source = |name: &str| env.get(name).cloned();
        let settings = OrderPollSettings::from_env(&source).expect("order-poll settings");
        let http = HttpLayer::new(fast_http_settings());
        order_poll::App::new(
            self.catalog_store(),
            self.publisher.clone(),
            ayaztrade::providers::marketplace::orders::order_clients(
                &source,
                &http,
                settings.trendyol_requests_per_10s,
            )
            .expect("order clients"),
            settings,
        )
    }

    /// The reconcile function on this stack and the marketplace fakes (no
    /// payment provider), publishing through the harness's publisher;
    /// `overrides` win over the harness's env.
    pub fn reconcile(
        &self,
        overrides: &[(&str, &str)],
    ) -> ayaztrade::apps::reconcile::App<DynamoStore, RecordingPublisher> {
        let mut env = self.env.clone();
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let source = |name: &str| env.get(name).cloned();
        let settings =
            ayaztrade::config::ReconcileSettings::from_env(&source).expect("reconcile settings");
        let http = HttpLayer::new(fast_http_settings());
        let clients = ayaztrade::providers::marketplace::orders::order_clients(
            &source,
            &http,
            settings.trendyol_requests_per_10s,
        )
        .expect("order clients");
        ayaztrade::apps::reconcile::App::new(
            self.catalog_store(),
            self.publisher.clone(),
            None,
            None,
            settings,
        )
        .with_marketplaces(clients)
    }

    /// The webhook function on this stack, publishing through the harness's
    /// publisher (credentials: `webhook_support::MARKETPLACE_USER`/`_PASSWORD`).
    pub fn webhook(&self) -> webhook::App<DynamoStore, RecordingPublisher> {
        webhook::App::new(
            self.catalog_store(),
            self.publisher.clone(),
            crate::webhook_support::webhook_settings(),
        )
    }

    /// The marketplace-orders function on this stack and the fakes.
    pub fn marketplace_orders(
        &self,
        overrides: &[(&str, &str)],
    ) -> ayaztrade::apps::marketplace_orders::App<DynamoStore, RecordingPublisher> {
        let mut env = self.env.clone();
        for (k, v) in overrides {
            env.insert(k.to_string(), v.to_string());
        }
        let source = |name: &str| env.get(name).cloned();
        ayaztrade::apps::marketplace_orders::App::from_source(
            self.catalog_store(),
            self.publisher.clone(),
            &source,
            &HttpLayer::new(fast_http_settings()),
        )
        .expect("marketplace-orders app")
    }

    /// The webhook function with these settings over the usual test ones
    /// (e.g. `MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS`).
    pub fn webhook_with(
        &self,
        overrides: &[(&str, &str)],
    ) -> webhook::App<DynamoStore, RecordingPublisher> {
        let mut settings = crate::webhook_support::webhook_settings();
        let env: HashMap<String, String> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let source = |name: &str| env.get(name).cloned();
        settings.personal_data_retention =
            ayaztrade::config::personal_data_retention(&source).expect("retention");
        webhook::App::new(self.catalog_store(), self.publisher.clone(), settings)
    }

    /// The shipment HTTP app on this stack, Aras at `aras`; `tariff` =
    /// `ARAS_TARIFF_JSON`.
    pub fn shipments(
        &self,
        aras: &crate::aras_fake::ArasFake,
        tariff: Option<&str>,
    ) -> shipment::App<DynamoStore, RecordingPublisher> {
        let env = self.aras_env(aras, tariff);
        let source = |name: &str| env.get(name).cloned();
        let http = HttpLayer::new(fast_http_settings());
        shipment::App::new(
            self.catalog_store(),
            self.publisher.clone(),
            aras_client(&source, &http),
            ayaztrade::config::aras_tariff(&source).expect("tariff"),
        )
    }

    /// The tracking poll (shipment-tracking) on this stack, Aras at `aras`,
    /// the marketplaces at the harness's fakes.
    pub fn shipment_tracking(
        &self,
        aras: &crate::aras_fake::ArasFake,
    ) -> shipment_tracking::App<DynamoStore, RecordingPublisher> {
        let env = self.aras_env(aras, None);
        let source = |name: &str| env.get(name).cloned();
        let http = HttpLayer::new(fast_http_settings());
        shipment_tracking::App::new(
            self.catalog_store(),
            self.publisher.clone(),
            aras_client(&source, &http),
            ayaztrade::providers::marketplace::tracking::TrackingPushers::from_env(&source, &http)
                .expect("pushers"),
        )
    }

    /// The harness's env with Aras's at `aras` (`tariff` = `ARAS_TARIFF_JSON`).
    fn aras_env(
        &self,
        aras: &crate::aras_fake::ArasFake,
        tariff: Option<&str>,
    ) -> HashMap<String, String> {
        use crate::aras_fake as fake;
        let mut env = self.env.clone();
        for (k, v) in [
            ("ARAS_USERNAME", fake::USERNAME.to_string()),
            ("ARAS_PASSWORD", fake::PASSWORD.to_string()),
            ("ARAS_QUERY_USERNAME", fake::QUERY_USERNAME.to_string()),
            ("ARAS_QUERY_PASSWORD", fake::QUERY_PASSWORD.to_string()),
            ("ARAS_CUSTOMER_CODE", fake::CUSTOMER_CODE.to_string()),
            ("ARAS_ORDER_SERVICE_URL", aras.order_service_url()),
            ("ARAS_QUERY_SERVICE_URL", aras.query_service_url()),
            ("ARAS_TARIFF_JSON", tariff.unwrap_or("-").to_string()),
        ] {
            env.insert(k.to_string(), v);
        }
        env
    }

    /// The accounting function on this stack, Paraşüt at `parasut`, the
    /// marketplaces at the harness's fakes; `overrides` win (e.g.
    /// `INVOICE_LINK_TEMPLATE`).
    pub fn accounting(
        &self,
        parasut: &crate::parasut_fake::ParasutFake,
        overrides: &[(&str, &str)],
    ) -> ayaztrade::apps::accounting::App<DynamoStore, RecordingPublisher> {
        let extra = self
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(
                overrides
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            )
            .collect();
        let env = crate::parasut_fake::accounting_env(parasut, extra);
        ayaztrade::apps::accounting::App::from_source(
            self.catalog_store(),
            self.publisher.clone(),
            &env,
            &HttpLayer::new(fast_http_settings()),
        )
        .expect("accounting app")
    }

    /// What reached a platform queue (`queue_url`) for one marketplace
    /// order since the last call: `(detail-type, detail)` in arrival order.
    /// Only this order's messages are taken off the queue; others are
    /// handed back at once for whoever reads them.
    pub async fn platform_events(
        &self,
        queue_url: &str,
        order_number: &str,
    ) -> Vec<(String, Value)> {
        self.queued_where(queue_url, |detail| detail["orderNumber"] == order_number)
            .await
    }

    /// What reached `queue_url` whose detail `matches`, since the last
    /// call: `(detail-type, detail)`, taken off the queue; the rest is
    /// handed back at once.
    pub async fn queued_where(
        &self,
        queue_url: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Vec<(String, Value)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            let messages = received.messages.unwrap_or_default();
            if messages
                .iter()
                .all(|m| !seen.insert(m.message_id().unwrap_or_default().to_string()))
            {
                return out;
            }
            for m in messages {
                let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                let handle = m.receipt_handle().unwrap();
                if matches(&body["detail"]) {
                    out.push((
                        body["detail-type"].as_str().unwrap().to_string(),
                        body["detail"].clone(),
                    ));
                    self.sqs
                        .delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .unwrap();
                } else {
                    self.sqs
                        .change_message_visibility()
                        .queue_url(queue_url)
                        .receipt_handle(handle)
                        .visibility_timeout(0)
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
    }

    /// The DynamoDB TTL (`expires_at`, seconds) of an order's personal-data
    /// item, as stored: the proof DynamoDB erases it (moto never does).
    pub async fn personal_data_ttl(
        &self,
        marketplace: ayaztrade::domain::marketplace::Marketplace,
        order_number: &str,
    ) -> Option<i64> {
        let out = self
            .stack
            .dynamo
            .get_item()
            .table_name(&self.stack.table_name)
            .set_key(Some(personal_data_key(marketplace, order_number)))
            .send()
            .await
            .unwrap();
        out.item?.get("expires_at")?.as_n().ok()?.parse().ok()
    }

    /// Deletes an order's personal-data item as DynamoDB's TTL would.
    pub async fn erase_personal_data(
        &self,
        marketplace: ayaztrade::domain::marketplace::Marketplace,
        order_number: &str,
    ) {
        self.stack
            .dynamo
            .delete_item()
            .table_name(&self.stack.table_name)
            .set_key(Some(personal_data_key(marketplace, order_number)))
            .send()
            .await
            .unwrap();
    }

    /// One full cycle: sync, then drain the queue.
    pub async fn cycle(&self) -> product_sync::SyncReport {
        let report = self.sync.run().await.expect("product sync");
        self.drain(Duration::from_secs(1), 400).await;
        report
    }
}

/// Received messages as Lambda's SQS event source hands them over.
/// The event Lambda's SQS event source would hand over for `messages`.
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut r = SqsMessage::default();
            r.message_id = m.message_id.clone();
            r.receipt_handle = m.receipt_handle.clone();
            r.body = m.body.clone();
            r.event_source = Some("aws:sqs".into());
            r.attributes = m
                .attributes
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect();
            r
        })
        .collect();
    event
}

/// The key of an order's personal-data item (`MKTPII#…` / `PII`).
fn personal_data_key(
    marketplace: ayaztrade::domain::marketplace::Marketplace,
    order_number: &str,
) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    use ayaztrade::aws::keys::{marketplace_personal_data_pk, MARKETPLACE_ORDER_PII_SK};
    HashMap::from([
        (
            "pk".to_string(),
            AttributeValue::S(marketplace_personal_data_pk(marketplace, order_number)),
        ),
        (
            "sk".to_string(),
            AttributeValue::S(MARKETPLACE_ORDER_PII_SK.into()),
        ),
    ])
}

/// The Aras client the env at `source` configures.
fn aras_client(
    source: &dyn ayaztrade::config::Source,
    http: &HttpLayer,
) -> Option<ayaztrade::providers::aras::ArasClient> {
    ayaztrade::config::ArasSettings::from_env(source)
        .expect("Aras settings")
        .map(|s| ayaztrade::providers::aras::ArasClient::new(http.clone(), s))
}

/// A product every default category of both fakes accepts.
pub fn product_json(sku: &str, stock: i64, price_minor: i64) -> Value {
    json!({
        "sku": sku,
        "barcode": format!("BC-{sku}"),
        "title": format!("Tişört {sku}"),
        "description": "Pamuklu, yumuşak dokulu tişört",
        "price": {"minor": price_minor, "currency": "TRY"},
        "listPrice": {"minor": price_minor + 5_000, "currency": "TRY"},
        "stock": stock,
        "vatRate": 20,
        "brand": trendyol_fake::DEFAULT_BRAND_NAME,
        "images": [format!("https://cdn.example.com/{sku}.jpg")],
        "trendyol": {
            "categoryId": trendyol_fake::DEFAULT_CATEGORY_ID,
            "brandId": trendyol_fake::DEFAULT_BRAND_ID,
            "cargoCompanyId": 10,
            "dimensionalWeight": 2,
            "attributes": [
                {"attributeId": trendyol_fake::ATTR_COLOR, "customAttributeValue": "Mavi"},
                {"attributeId": trendyol_fake::ATTR_SIZE, "attributeValueId": 4603}
            ]
        },
        "hepsiburada": {
            "categoryId": hepsiburada_fake::DEFAULT_CATEGORY_ID,
            "merchantSku": sku,
            "warrantyMonths": 24,
            "attributes": {"kg": "1", hepsiburada_fake::ATTR_COLOR: "Mavi"}
        }
    })
}
