//! Marketplace-order measurements for BENCHMARKS.md; `bench/orders.sh` runs
//! it (it starts moto and builds this optimized).
//!
//! 1. Import: N new orders (default 10,000) on each marketplace, one line
//!    each (no merchant SKU, see below), all inside one poll window; one order-poll run
//!    takes them in. Counts list requests per marketplace (targets ⌈N/200⌉
//!    and ⌈N/100⌉), orders stored (a table scan) against distinct order
//!    numbers, events published, and the run's time.
//! 2. Lost webhooks: orders appear at the fakes at random moments while
//!    order-poll runs on a short schedule (every `--period-ms`); no webhook
//!    is delivered. Measures, per order, the time from its appearance at the
//!    fake to its `marketplace.order.created` event on the bus.
//!
//!     orders-bench [--orders N] [--period-ms P] [--late-orders M]

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use ayaztrade::domain::event::{DetailType, EventDetail};
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::ports::OrderCursorStore;
use ayaztrade_tests::catalog_support::CatalogHarness;
use ayaztrade_tests::hepsiburada_fake::HbOrderSpec;
use ayaztrade_tests::trendyol_fake::PackageSpec;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// Marketplace order items in the table, by order number.
async fn stored_orders(h: &CatalogHarness) -> Vec<String> {
    let mut numbers = Vec::new();
    let mut start = None;
    loop {
        let out = h
            .stack
            .dynamo
            .scan()
            .table_name(&h.stack.table_name)
            .filter_expression("entity = :e")
            .expression_attribute_values(":e", AttributeValue::S("marketplace_order".into()))
            .projection_expression("order_number, marketplace")
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in out.items() {
            let m = item["marketplace"].as_s().unwrap();
            numbers.push(format!("{m}:{}", item["order_number"].as_s().unwrap()));
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return numbers,
        }
    }
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

#[tokio::main]
async fn main() {
    let orders = arg("--orders", 10_000);
    let period_ms = arg("--period-ms", 3_000);
    let late_orders = arg("--late-orders", 40);
    let h = CatalogHarness::start(1, &[]).await;

    // 1. Import.
    let now = h.trendyol.clock_ms();
    let store = h.catalog_store();
    for m in Marketplace::ALL {
        store
            .move_order_cursor(
                m,
                ayaztrade::ports::PollFeed::Orders,
                None,
                (now - 3_600_000) as i64,
            )
            .await
            .expect("cursor");
    }
    let mut hb_orders = Vec::new();
    for i in 0..orders {
        let at = now - 3_000_000 + i * 100;
        // Lines without a merchant SKU (untracked): the import's requests
        // and order writes are what is measured here. Stock-moving orders
        // are one TransactWriteItems each, and moto deep-copies the whole
        // table per transaction, which makes a 10,000-order run quadratic
        // in moto alone; stock moves are covered by
        // tests/tests/e2e/marketplace_orders.rs.
        let sku = "";
        h.trendyol
            .add_package(PackageSpec::line(sku, 1, 100.0).at(at).last_modified(at));
        hb_orders.push(
            h.hepsiburada
                .add_order(HbOrderSpec::line(sku, 1, 100.0).at(at))
                .order_number,
        );
    }
    let poll = h.order_poll(&[]);
    let started = Instant::now();
    let report = poll.run(i64::MAX).await;
    let elapsed = started.elapsed();
    let stored = stored_orders(&h).await;
    let distinct: HashSet<&String> = stored.iter().collect();
    let created_events = h
        .publisher
        .published
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.detail_type == DetailType::MarketplaceOrderCreated)
        .count();
    println!("# order-poll import: {orders} new orders per marketplace");
    println!(
        "requests: trendyol {} (target {}), hepsiburada {} (target {})",
        h.trendyol.order_list_request_count(),
        ceil_div(orders, 200),
        h.hepsiburada.order_list_request_count(),
        ceil_div(orders, 100)
    );
    println!(
        "stored orders: {} items, {} distinct, duplicates {}",
        stored.len(),
        distinct.len(),
        stored.len() - distinct.len()
    );
    println!("created events: {created_events} (expected {})", 2 * orders);
    for m in &report.marketplaces {
        println!(
            "{}: created {} changed {} unchanged {} rereads {} unreadable {} error {:?}",
            m.marketplace, m.created, m.changed, m.unchanged, m.rereads, m.unreadable, m.error
        );
    }
    println!(
        "run: {:.1} s ({:.2} ms per order, moto-bound)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / (2 * orders) as f64
    );

    // 2. Lost webhooks: order-poll on a short schedule, orders arriving at
    // random moments, no webhook delivered. The merchant has packed the
    // imported Hepsiburada orders (they leave the open list), so the runs
    // are the steady state, not a re-read of the import.
    for number in &hb_orders {
        h.hepsiburada.update_status(number, "Packaged");
    }
    h.publisher.published.lock().unwrap().clear();
    let period = Duration::from_millis(period_ms);
    let arrivals: Vec<u64> = {
        let mut a: Vec<u64> = (0..late_orders)
            .map(|_| fastrand::u64(0..period_ms * 10))
            .collect();
        a.sort_unstable();
        a
    };
    let appeared: std::sync::Arc<std::sync::Mutex<HashMap<String, Instant>>> = Default::default();
    let t0 = Instant::now();
    let producer = {
        let appeared = appeared.clone();
        let (trendyol, hepsiburada) = (h.trendyol.clone(), h.hepsiburada.clone());
        tokio::spawn(async move {
            for (i, at) in arrivals.into_iter().enumerate() {
                tokio::time::sleep_until((t0 + Duration::from_millis(at)).into()).await;
                let number = if i % 2 == 0 {
                    trendyol.add_order(&[("", 1, 100.0)])["orderNumber"]
                        .as_str()
                        .unwrap()
                        .to_string()
                } else {
                    hepsiburada.add_order_lines(&[("", 1, 100.0)]).order_number
                };
                appeared.lock().unwrap().insert(number, Instant::now());
            }
        })
    };
    let mut runs = Vec::new();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut seen = HashSet::new();
    loop {
        let tick = Instant::now();
        let r = poll.run(i64::MAX).await;
        runs.push(tick.elapsed());
        assert!(r.marketplaces.iter().all(|m| m.error.is_none()), "{r:?}");
        let published = h.publisher.published.lock().unwrap().clone();
        let now = Instant::now();
        for e in published {
            if let (DetailType::MarketplaceOrderCreated, EventDetail::MarketplaceOrder(d)) =
                (e.detail_type, &e.detail)
            {
                if seen.insert(d.order_number.clone()) {
                    if let Some(at) = appeared.lock().unwrap().get(&d.order_number) {
                        // Published during this run: at most `now`.
                        latencies.push(now.saturating_duration_since(*at));
                    }
                }
            }
        }
        if producer.is_finished() && seen.len() as u64 >= late_orders {
            break;
        }
        tokio::time::sleep(period.saturating_sub(tick.elapsed())).await;
    }
    latencies.sort();
    let max_run = runs.iter().max().copied().unwrap_or_default();
    println!("# lost webhooks: {late_orders} orders, order-poll every {period_ms} ms");
    println!(
        "order → event: p50 {} ms, max {} ms; bound = period + 2 × longest run = {} ms; {} of {} seen",
        latencies[latencies.len() / 2].as_millis(),
        latencies.last().unwrap().as_millis(),
        (period + 2 * max_run).as_millis(),
        latencies.len(),
        late_orders
    );
    println!(
        "poll runs: {}, longest {} ms (a run with no new order: {} ms)",
        runs.len(),
        max_run.as_millis(),
        runs.iter().min().unwrap().as_millis()
    );
}
