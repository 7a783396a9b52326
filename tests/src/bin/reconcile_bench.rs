//! Reconciliation measurements for BENCHMARKS.md; `bench/reconcile.sh` runs
//! it (it starts moto and builds this).
//!
//! A day of N Stripe payments (default 10,000), each for an order of ours
//! that the webhook already marked paid, plus `--lost` payments whose
//! webhook never came (their orders unpaid). One reconcile run of the day,
//! then a second one. Reports provider requests (against the page count),
//! DynamoDB calls, wall time, the process's peak memory during each run
//! (VmHWM after resetting it), and checks that every lost payment was healed
//! and nothing else reported.
//!
//!     reconcile-bench [--payments N] [--lost M]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use ayaztrade::apps::reconcile::App;
use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::aws::eventbridge::EventBridgePublisher;
use ayaztrade::aws::sdk::AwsEnv;
use ayaztrade::config::ReconcileSettings;
use ayaztrade::domain::reconciliation::{previous_istanbul_day, RequestedDetail};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade::providers::stripe::StripeClient;
use ayaztrade_tests::fixtures::{demo_order_json, fast_http_settings, put_order, stripe_settings};
use ayaztrade_tests::local_stack::fresh_stack;
use ayaztrade_tests::stripe_fake::StripeFake;
use ayaztrade_tests::webhook_support::{CallCounter, RecordingPublisher};
use futures::stream::{self, StreamExt};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// Peak resident memory of this process since the last reset, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak (Linux: `5` to clear_refs), so VmHWM measures what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main]
async fn main() {
    let n = arg("--payments", 10_000) as usize;
    let lost = arg("--lost", 50) as usize;
    let stack = fresh_stack().await;
    let stripe = StripeFake::start().await;

    // One order through the orders function, as the template for the rest
    // (so the items are exactly what the code writes), copied N + lost times.
    let template_id = "bench-template";
    put_order(&stack, template_id, demo_order_json()).await;
    let template = stack
        .dynamo
        .get_item()
        .table_name(&stack.table_name)
        .key("pk", AttributeValue::S(format!("ORDER#{template_id}")))
        .key("sk", AttributeValue::S("ORDER".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let total: i64 = template["total"].as_n().unwrap().parse().unwrap();
    let orders: Vec<(String, i64)> = (0..n + lost)
        .map(|i| (format!("bench-{i:06}"), total))
        .collect();
    let seeded = Instant::now();
    let payments = stripe.seed_succeeded(&orders);
    let items: Vec<HashMap<String, AttributeValue>> = orders
        .iter()
        .zip(&payments)
        .enumerate()
        .map(|(i, ((order_id, _), (pi, evt)))| {
            let mut item = template.clone();
            item.insert("pk".into(), AttributeValue::S(format!("ORDER#{order_id}")));
            item.insert("order_id".into(), AttributeValue::S(order_id.clone()));
            if i < n {
                // Delivered: the webhook marked it paid with its event id.
                let s = |v: &str| AttributeValue::S(v.to_string());
                item.insert("payment_status".into(), s("paid"));
                item.insert("payment_provider".into(), s("stripe"));
                item.insert("payment_ref".into(), s(pi));
                item.insert("paid_minor".into(), AttributeValue::N(total.to_string()));
                item.insert("refunded_minor".into(), AttributeValue::N("0".into()));
                item.insert(
                    "payment_event_ids".into(),
                    AttributeValue::Ss(vec![format!("stripe:{evt}")]),
                );
                item.insert("payment_version".into(), AttributeValue::N("1".into()));
            }
            item
        })
        .collect();
    let batches: Vec<Vec<HashMap<String, AttributeValue>>> =
        items.chunks(25).map(|c| c.to_vec()).collect();
    stream::iter(batches)
        .for_each_concurrent(4, |batch| {
            let stack = &stack;
            async move {
                let mut writes: Vec<WriteRequest> = batch
                    .into_iter()
                    .map(|item| {
                        WriteRequest::builder()
                            .put_request(
                                PutRequest::builder().set_item(Some(item)).build().unwrap(),
                            )
                            .build()
                    })
                    .collect();
                while !writes.is_empty() {
                    let out = stack
                        .dynamo
                        .batch_write_item()
                        .request_items(&stack.table_name, writes)
                        .send()
                        .await
                        .expect("batch write");
                    writes = out
                        .unprocessed_items
                        .and_then(|mut u| u.remove(&stack.table_name))
                        .unwrap_or_default();
                }
            }
        })
        .await;
    eprintln!(
        "seeded {} orders and payments in {:?}",
        n + lost,
        seeded.elapsed()
    );

    let aws = AwsEnv::from_env().unwrap();
    let calls = CallCounter::default();
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws.dynamodb_config().interceptor(calls.clone()).build(),
    );
    let publisher = RecordingPublisher::new(EventBridgePublisher::new(
        aws.eventbridge(),
        stack.event_bus_name.clone(),
    ));
    let app = App::new(
        DynamoStore::new(dynamo, stack.table_name.clone()),
        publisher.clone(),
        Some(StripeClient::new(
            HttpLayer::new(fast_http_settings()),
            stripe_settings(&stripe),
        )),
        None,
        ReconcileSettings {
            stop_margin: Duration::from_secs(60),
            max_continuations: 48,
            concurrency: 8,
            stripe_page_size: 100,

            // The defaults for the rest (marketplace pages and limits).
            ..ReconcileSettings::from_env(&|_: &str| None).expect("default settings")
        },
    );
    let day = previous_istanbul_day(ayaztrade::clock::now_ms() + 86_400_000);
    let pages = (n + lost).div_ceil(100);
    println!("reconcile-bench: {n} paid payments + {lost} with the webhook lost, one Istanbul day, Stripe pages of 100");
    for (label, run_id) in [("first run", "bench-1"), ("second run", "bench-2")] {
        let before_events = stripe.count("GET", "/v1/events");
        let before_intents = stripe.count("GET", "/v1/payment_intents");
        calls.reset();
        publisher.published.lock().unwrap().clear();
        reset_peak_rss();
        let rss_before = peak_rss_kib();
        let started = Instant::now();
        let answer = app
            .run(
                &RequestedDetail {
                    day: day.clone(),
                    run_id: run_id.into(),
                    continuation: 0,
                },
                ayaztrade::clock::now_ms() + 3_600_000,
            )
            .await
            .expect("run");
        let elapsed = started.elapsed();
        let report = answer.report.unwrap();
        let events = stripe.count("GET", "/v1/events") - before_events;
        let intents = stripe.count("GET", "/v1/payment_intents") - before_intents;
        let dynamo_calls: usize = calls.snapshot().values().sum();
        println!(
            "{label}: {} in {:.1} s; Stripe requests: events {events}, intents {intents} (pages: {pages} each); \
             DynamoDB calls {dynamo_calls} ({:?}); healed {} (day), differences {} (day); \
             peak RSS during the run {} MiB (before: {} MiB)",
            answer.outcome,
            elapsed.as_secs_f64(),
            calls.snapshot(),
            report.healed.len(),
            report.differences.len(),
            peak_rss_kib() / 1024,
            rss_before / 1024,
        );
        assert_eq!(report.healed.len(), lost, "every lost payment healed");
        assert!(report.differences.is_empty(), "{:?}", report.differences);
    }
}
