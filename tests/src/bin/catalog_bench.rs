//! Catalog sync measurements for BENCHMARKS.md; `bench/catalog.sh` runs it
//! (it starts moto and builds this in release mode).
//!
//! 1. Requests: N products listed on both marketplaces (default 10,000),
//!    10 % of them get a new price and a new stock; one product-sync and the
//!    worker drain. Counts provider requests per endpoint and times the sync.
//! 2. Rate: Trendyol's limit of 50 requests per 10 s per endpoint, two
//!    workers (two Lambda instances) each allowed 24 per 10 s; M single-item
//!    stock batches. Measures the achieved request rate at the fake and its
//!    429s.
//!
//!     catalog-bench [--products N] [--rate-requests M]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use ayaztrade::domain::catalog_sync::{CatalogJob, Push};
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::product::{validate_product, Product, SyncKind};
use ayaztrade::ports::{CatalogSyncStore, JobQueue, Plan, PlanItem};
use ayaztrade::providers::marketplace::{hepsiburada, trendyol};
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::hepsiburada_fake::{self, PRICE_UPLOAD, STOCK_UPLOAD};
use ayaztrade_tests::trendyol_fake::{BATCH_RESULT, CREATE_PRODUCTS, PRICE_AND_INVENTORY};
use serde_json::{json, Value};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

fn product(i: usize) -> Product {
    let sku = format!("B-{i:05}");
    let mut json = product_json(&sku, 10, 10_000);
    json.as_object_mut().unwrap().remove("sku");
    validate_product(&sku, serde_json::from_value(json).unwrap()).unwrap()
}

/// Puts products in the table as a past sync left them (acknowledged on
/// both marketplaces, off the work list) and in both fakes.
async fn seed(h: &CatalogHarness, products: &[Product]) {
    let mut writes: Vec<WriteRequest> = Vec::new();
    let s = |v: String| AttributeValue::S(v);
    for p in products {
        let mut item: HashMap<String, AttributeValue> = HashMap::new();
        item.insert("pk".into(), s(format!("PRODUCT#{}", p.sku)));
        item.insert("sk".into(), s("PRODUCT".into()));
        item.insert("entity".into(), s("product".into()));
        item.insert("sku".into(), s(p.sku.clone()));
        item.insert("product".into(), s(serde_json::to_string(p).unwrap()));
        item.insert("product_hash".into(), s(p.content_hash()));
        item.insert("version".into(), AttributeValue::N("1".into()));
        item.insert("updated_at".into(), s("2026-11-26T00:00:00Z".into()));
        for m in Marketplace::ALL {
            for k in SyncKind::ALL {
                item.insert(
                    format!("acked_{}_{}", m.as_str(), k.as_str()),
                    s(p.sync_hash(m, k).unwrap()),
                );
            }
        }
        writes.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build(),
        );
    }
    for chunk in writes.chunks(25) {
        h.stack
            .dynamo
            .batch_write_item()
            .request_items(&h.stack.table_name, chunk.to_vec())
            .send()
            .await
            .expect("seed products");
    }
    let parse = |raw: Box<serde_json::value::RawValue>| -> Value {
        serde_json::from_str(raw.get()).unwrap()
    };
    let ty: Vec<Value> = products
        .iter()
        .map(|p| parse(trendyol::catalog::wire_item(p, Push::Create, None).unwrap()))
        .collect();
    let hb: Vec<Value> = products
        .iter()
        .map(|p| {
            parse(
                hepsiburada::catalog::wire_item(
                    p,
                    Push::Create,
                    hepsiburada_fake::TEST_MERCHANT_ID,
                )
                .unwrap(),
            )
        })
        .collect();
    h.trendyol.preload(&ty);
    h.hepsiburada.preload(&hb);
}

async fn requests_scenario(n: usize) {
    let h = CatalogHarness::start(2, &[("TRENDYOL_REQUESTS_PER_10S", "24")]).await;
    let products: Vec<Product> = (0..n).map(product).collect();
    let started = Instant::now();
    seed(&h, &products).await;
    eprintln!("seeded {n} products in {:?}", started.elapsed());

    let changed: Vec<Value> = products
        .iter()
        .step_by(10)
        .map(|p| {
            let mut j = serde_json::to_value(p).unwrap();
            j["price"]["minor"] = json!(p.price.minor - 100);
            j["stock"] = json!(p.stock - 1);
            j
        })
        .collect();
    h.put_products(&changed).await;
    let before_ty = h.trendyol.requests().len();
    let before_hb = h.hepsiburada.requests().len();

    let report = h.sync.run().await.expect("sync");
    let drained = Instant::now();
    h.drain(Duration::from_secs(2), 500).await;
    let drain_time = drained.elapsed();

    let count = |reqs: Vec<ayaztrade_tests::trendyol_fake::RecordedRequest>, from: usize| {
        let mut by: std::collections::BTreeMap<String, usize> = Default::default();
        for r in &reqs[from..] {
            *by.entry(r.endpoint.unwrap_or("other").to_string())
                .or_default() += 1;
        }
        by
    };
    let ty = count(h.trendyol.requests(), before_ty);
    let hb = count(h.hepsiburada.requests(), before_hb);
    println!(
        "## requests: {n} products, {} changed (price and stock)",
        changed.len()
    );
    println!("sync report: {}", serde_json::to_string(&report).unwrap());
    println!("drain: {drain_time:?}");
    println!("trendyol requests by endpoint: {ty:?}");
    println!("hepsiburada requests by endpoint: {hb:?}");
    let submits_ty = ty.get(PRICE_AND_INVENTORY).copied().unwrap_or(0)
        + ty.get(CREATE_PRODUCTS).copied().unwrap_or(0);
    let submits_hb =
        hb.get(PRICE_UPLOAD).copied().unwrap_or(0) + hb.get(STOCK_UPLOAD).copied().unwrap_or(0);
    let target = 2 * changed.len().div_ceil(1000);
    println!(
        "submits: trendyol {submits_ty}, hepsiburada {submits_hb} (target {target} each: ⌈{}/1000⌉ × 2 kinds); a per-product loop would make {} each",
        changed.len(),
        2 * changed.len()
    );
    let reads = |by: &std::collections::BTreeMap<String, usize>| -> usize {
        by.iter()
            .filter(|(k, _)| k.starts_with("GET"))
            .map(|(_, v)| v)
            .sum()
    };
    println!(
        "result checks: trendyol {} (all {BATCH_RESULT}), hepsiburada {}",
        reads(&ty),
        reads(&hb)
    );
    let stored = h.catalog_store();
    let sample = stored.pending_products().await.unwrap().len();
    println!("products still pending after the drain (settle on the next sync): {sample}");
}

async fn rate_scenario(m: usize) {
    // Checks wait until the sends are done, so only sends are measured.
    let h = CatalogHarness::start(
        2,
        &[
            ("TRENDYOL_REQUESTS_PER_10S", "24"),
            ("CATALOG_CHECK_DELAY_SECS", "900"),
        ],
    )
    .await;
    let products: Vec<Product> = (0..m).map(|i| product(100_000 + i)).collect();
    seed(&h, &products).await;
    let store = h.catalog_store();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut plans = Vec::new();
    let mut jobs = Vec::new();
    for (i, p) in products.iter().enumerate() {
        let plan_id = format!("rate-{i}");
        let hashes = vec![(
            SyncKind::Stock,
            p.sync_hash(Marketplace::Trendyol, SyncKind::Stock).unwrap(),
        )];
        plans.push(Plan {
            plan_id: plan_id.clone(),
            marketplace: Marketplace::Trendyol,
            push: Push::Stock,
            items: vec![PlanItem {
                sku: p.sku.clone(),
                key: p.barcode.clone(),
                hashes,
                fixed: None,
            }],
            created_ms: now,
            batch_id: None,
        });
        jobs.push(CatalogJob::Send {
            plan_id,
            marketplace: Marketplace::Trendyol,
            push: Push::Stock,
        });
    }
    store.put_plans(&plans, now / 1000 + 3600).await.unwrap();
    let queue =
        ayaztrade::aws::sqs::SqsQueue::new(h.sqs.clone(), h.stack.catalog_queue_url.clone());
    queue.send_jobs(&jobs, 0).await.unwrap();

    let started = Instant::now();
    let fake = h.trendyol.clone();
    h.drain_until(Duration::from_secs(30), 10_000, || {
        fake.request_count(PRICE_AND_INVENTORY) >= m
    })
    .await;
    let elapsed = started.elapsed();
    let arrivals = h.trendyol.arrivals(PRICE_AND_INVENTORY);
    let span = arrivals
        .last()
        .unwrap()
        .duration_since(arrivals[0])
        .as_secs_f64();
    let rate = (arrivals.len() - 1) as f64 / span;
    let allowed = 50.0 / 10.0;
    // Requests in each whole 10 s window from the first one (Trendyol's
    // unit), and the busiest 10 s window anywhere (must stay ≤ 50).
    let window = Duration::from_secs(10);
    let whole_windows = (span / 10.0).floor() as u32;
    let per_window: Vec<usize> = (0..whole_windows)
        .map(|w| {
            let from = arrivals[0] + window * w;
            arrivals
                .iter()
                .filter(|a| **a >= from && **a < from + window)
                .count()
        })
        .collect();
    let busiest = arrivals
        .iter()
        .map(|start| {
            arrivals
                .iter()
                .filter(|a| **a >= *start && **a < *start + window)
                .count()
        })
        .max()
        .unwrap_or(0);
    println!("## rate: {m} single-item stock batches, 2 workers × 24 per 10 s, Trendyol allows 50 per 10 s per endpoint");
    println!(
        "sent {} in {:.1} s (drain {:?}): {:.2} requests/s = {:.1} % of the allowed {allowed} /s; 429s: {}",
        arrivals.len(),
        span,
        elapsed,
        rate,
        100.0 * rate / allowed,
        h.trendyol.throttled_count()
    );
    let steady = per_window.iter().sum::<usize>() as f64 / (10.0 * per_window.len().max(1) as f64);
    println!(
        "requests per whole 10 s window: {per_window:?} = {:.1} % of the allowed 50 on average; busiest 10 s window anywhere: {busiest}",
        100.0 * steady / allowed
    );
}

#[tokio::main]
async fn main() {
    let n = arg("--products", 10_000);
    let m = arg("--rate-requests", 300);
    requests_scenario(n).await;
    if m > 0 {
        rate_scenario(m).await;
    }
}
