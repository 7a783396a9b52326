//! Reconciliation of Trendyol's settlement records (docs/marketplace-wire.md
//! T15) end to end: packages taken in by webhook, Trendyol's sale and
//! return records of the day on the fake, then the reconcile function
//! against moto. What must hold: a sale that agrees leaves its commission
//! on the order's line (once: a rerun writes nothing), every real
//! difference is reported exactly once, an order only the settlements know
//! is read back and taken in once, no false difference on clean data, and a
//! run cut between two pages resumes without reading a page twice, 429 and
//! 5xx retried.

use std::collections::BTreeMap;

use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::reconciliation::DifferenceKind;
use ayaztrade::money::{Currency, Money};
use ayaztrade::ports::MarketplaceOrderStore;
use ayaztrade_tests::catalog_support::{product_json, CatalogHarness};
use ayaztrade_tests::hepsiburada_fake::HbAccountingSpec;
use ayaztrade_tests::trendyol_fake::{
    EndpointKind, Fault, PackageSpec, SettlementSpec, DAY_MS, SHIPMENT_PACKAGES,
};
use serde_json::Value;

use super::reconcile::{
    deliver_marketplace, far_deadline, product_stock, published_by, run, today,
};

fn try_(minor: i64) -> Money {
    Money::new(minor, Currency::TRY)
}

/// Commission and rate kept on each line of our Trendyol order `number`.
/// The product a settlement difference names (`line` without its
/// `@<recordId>`); the record id is asserted apart.
fn product(d: &ayaztrade::domain::reconciliation::Difference) -> Option<String> {
    let line = d.line.as_deref()?;
    let (product, record) = line.split_once('@').expect("line = <product>@<recordId>");
    assert!(!record.is_empty(), "{line}");
    Some(product.to_string())
}

async fn commissions(h: &CatalogHarness, number: &str) -> Vec<(Option<Money>, Option<String>)> {
    let (order, _) = h
        .catalog_store()
        .load_marketplace_order(Marketplace::Trendyol, number)
        .await
        .unwrap()
        .expect("order");
    order
        .line_facts
        .values()
        .map(|l| (l.commission, l.commission_rate.clone()))
        .collect()
}

async fn version(h: &CatalogHarness, number: &str) -> u64 {
    h.catalog_store()
        .load_marketplace_order(Marketplace::Trendyol, number)
        .await
        .unwrap()
        .expect("order")
        .1
}

/// A package taken in by its webhook.
async fn delivered(h: &CatalogHarness, package: &Value) {
    let id = package["id"].as_i64().unwrap();
    let answer = deliver_marketplace(h, "/webhooks/trendyol", &h.trendyol.webhook_body(id)).await;
    assert_eq!(answer["outcome"], "created", "{answer}");
}

/// Faults only on the finance services, of both fakes (the order passes
/// read untouched).
fn faults_on_finance_only(h: &CatalogHarness) {
    for kind in [
        EndpointKind::Write,
        EndpointKind::Status,
        EndpointKind::Reference,
        EndpointKind::Orders,
        EndpointKind::Tracking,
    ] {
        h.trendyol.set_faults_hit(kind, false);
        h.hepsiburada.set_faults_hit(kind, false);
    }
}

#[tokio::test]
async fn a_day_of_trendyol_settlements_keeps_commission_and_reports_each_difference_once() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[
        product_json("SET-A", 20, 10_000),
        product_json("SET-B", 20, 2_550),
    ])
    .await;
    let day = today();

    // GIVEN packages of ours, each taken in by its webhook: three clean, one
    // Trendyol settles for another amount, one it settles a return of
    // without any claim or return of ours…
    let clean = [
        h.trendyol.add_order(&[("SET-A", 1, 100.0)]),
        h.trendyol.add_order(&[("SET-A", 2, 40.0)]),
        h.trendyol
            .add_order(&[("SET-B", 1, 25.5), ("SET-A", 1, 100.0)]),
    ];
    let wrong = h.trendyol.add_order(&[("SET-A", 1, 50.0)]);
    let returned = h.trendyol.add_order(&[("SET-A", 1, 100.0)]);
    for p in clean.iter().chain([&wrong, &returned]) {
        delivered(&h, p).await;
    }
    // … one package of three days ago whose notice never reached us (the
    // day's order list does not show it: only its settlement does)…
    let lost = h
        .trendyol
        .add_package(PackageSpec::line("SET-B", 1, 25.5).at(h.trendyol.clock_ms() - 3 * DAY_MS));
    let number = |p: &Value| p["orderNumber"].as_str().unwrap().to_string();
    let id = |p: &Value| p["id"].as_i64().unwrap();
    // … and Trendyol's records of the day.
    for (p, rate) in clean.iter().zip([15, 20, 10]) {
        h.trendyol.settle_package(id(p), rate);
    }
    h.trendyol.settle_package(id(&lost), 15);
    h.trendyol
        .add_settlement(SettlementSpec::sale(&number(&wrong), "SET-A", 4_000));
    h.trendyol.add_settlement(SettlementSpec::returned(
        &number(&returned),
        "SET-A",
        10_000,
    ));
    h.trendyol
        .add_settlement(SettlementSpec::sale("GHOST-9", "SET-A", 5_000));
    assert_eq!(product_stock(&h, "SET-B").await, 19);
    h.publisher.published.lock().unwrap().clear();
    let package_reads = h.trendyol.request_count(SHIPMENT_PACKAGES);

    // WHEN the day is reconciled
    let app = h.reconcile(&[
        ("RECONCILE_STOP_BEFORE_DEADLINE_SECS", "0"),
        // Retries spaced by a fifth of a second, not two (the test's time).
        ("RECONCILE_TRENDYOL_REQUESTS_PER_10S", "50"),
    ]);
    let answer = app.run(&run(&day, "run-1"), far_deadline()).await.unwrap();
    assert_eq!(answer.outcome, "completed");
    let report = answer.report.unwrap();

    // THEN every real difference is reported once, per order and product…
    let kinds: BTreeMap<(String, Option<String>), DifferenceKind> = report
        .differences
        .iter()
        .map(|d| ((d.provider_ref.clone(), product(d)), d.kind))
        .collect();
    let set_a = Some("SET-A".to_string());
    assert_eq!(
        kinds,
        BTreeMap::from([
            (
                (number(&wrong), set_a.clone()),
                DifferenceKind::AmountDiffers
            ),
            (
                (number(&returned), set_a.clone()),
                DifferenceKind::RefundDiffers
            ),
            (
                ("GHOST-9".to_string(), set_a.clone()),
                DifferenceKind::MissingHere
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
    assert_eq!(amount.provider_side.amount, Some(try_(4_000)));
    assert_eq!(amount.our_side.as_ref().unwrap().amount, Some(try_(5_000)));
    // … the order only the settlements knew is read back by its package and
    // taken in once (stock moved once)…
    assert_eq!(report.healed.len(), 1, "{:#?}", report.healed);
    assert_eq!(
        (
            report.healed[0].provider_ref.clone(),
            report.healed[0].fact.as_str()
        ),
        (number(&lost), "marketplace_order")
    );
    assert_eq!(product_stock(&h, "SET-B").await, 18);
    // … and each clean sale left Trendyol's commission on its line.
    assert_eq!(
        commissions(&h, &number(&clean[0])).await,
        vec![(Some(try_(1_500)), Some("15".into()))]
    );
    assert_eq!(
        commissions(&h, &number(&clean[1])).await,
        vec![(Some(try_(1_600)), Some("20".into()))]
    );
    let mut two_lines = commissions(&h, &number(&clean[2])).await;
    two_lines.sort_by_key(|(c, _)| c.map(|c| c.minor));
    assert_eq!(
        two_lines,
        vec![
            (Some(try_(255)), Some("10".into())),
            (Some(try_(1_000)), Some("10".into()))
        ]
    );
    assert_eq!(
        commissions(&h, &number(&lost)).await,
        vec![(Some(try_(383)), Some("15".into()))]
    );
    // No commission where the amount disagrees.
    assert_eq!(commissions(&h, &number(&wrong)).await, vec![(None, None)]);
    let events = published_by(&h);
    assert_eq!(events.get("reconciliation.mismatch"), Some(&3));
    assert_eq!(events.get("marketplace.order.created"), Some(&1));
    // Provider requests ≈ pages: one sale page, one return page, and one
    // package read back.
    assert_eq!(h.trendyol.settlement_request_count(), 2);
    assert_eq!(
        h.trendyol.request_count(SHIPMENT_PACKAGES) - package_reads,
        1 + 1
    );
    let queries = h.trendyol.settlement_queries();
    assert!(queries
        .iter()
        .all(|q| q.http_status == 200 && q.size == 500));
    assert_eq!(
        queries
            .iter()
            .map(|q| q.types.join(","))
            .collect::<Vec<_>>(),
        ["Sale", "Return"]
    );

    // The package described again by a later webhook (it carries no
    // commission) keeps its commission.
    h.trendyol.update_status(id(&clean[0]), "Delivered");
    let answer = deliver_marketplace(
        &h,
        "/webhooks/trendyol",
        &h.trendyol.webhook_body(id(&clean[0])),
    )
    .await;
    assert_eq!(answer["outcome"], "changed", "{answer}");
    assert_eq!(
        commissions(&h, &number(&clean[0])).await,
        vec![(Some(try_(1_500)), Some("15".into()))]
    );

    // A second run of the day finds nothing new and writes nothing.
    let versions = [
        version(&h, &number(&clean[0])).await,
        version(&h, &number(&lost)).await,
    ];
    h.publisher.published.lock().unwrap().clear();
    let again = app.run(&run(&day, "run-2"), far_deadline()).await.unwrap();
    let again = again.report.unwrap();
    assert_eq!(again.differences, report.differences);
    assert_eq!(again.healed, report.healed);
    assert_eq!(
        published_by(&h),
        BTreeMap::from([("reconciliation.completed", 1)])
    );
    assert_eq!(
        [
            version(&h, &number(&clean[0])).await,
            version(&h, &number(&lost)).await
        ],
        versions
    );
    assert_eq!(product_stock(&h, "SET-B").await, 18);
}

#[tokio::test]
async fn a_settlement_run_cut_between_two_pages_resumes_and_rides_out_429_and_5xx() {
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[product_json("SET-C", 20, 10_000)]).await;
    let day = today();
    let package = h.trendyol.add_order(&[("SET-C", 1, 100.0)]);
    delivered(&h, &package).await;
    h.trendyol
        .settle_package(package["id"].as_i64().unwrap(), 15);
    h.trendyol
        .add_settlement(SettlementSpec::returned("GHOST-R", "SET-C", 10_000));
    faults_on_finance_only(&h);
    h.publisher.published.lock().unwrap().clear();
    let app = h.reconcile(&[
        ("RECONCILE_STOP_BEFORE_DEADLINE_SECS", "0"),
        // Retries spaced by a fifth of a second, not two (the test's time).
        ("RECONCILE_TRENDYOL_REQUESTS_PER_10S", "50"),
    ]);

    // GIVEN a 429 and a 503 on the sale page (retried), then an outage on
    // the return page that outlasts the retries
    h.trendyol.push_fault(Fault::Status(429));
    h.trendyol.push_fault(Fault::Status(503));
    h.trendyol.fail_settlement_reads_after(1, 3);
    let failed = app.run(&run(&day, "run-a"), far_deadline()).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(h.trendyol.settlement_request_count(), 3 + 3);

    // WHEN the next invocation goes on with the run
    let done = app.run(&run(&day, "run-a"), far_deadline()).await.unwrap();
    assert_eq!(done.outcome, "completed");
    let report = done.report.unwrap();

    // THEN the sale page was not read again: only the return page, once.
    assert_eq!(h.trendyol.settlement_request_count(), 3 + 3 + 1);
    let answered: Vec<String> = h
        .trendyol
        .settlement_queries()
        .iter()
        .filter(|q| q.http_status == 200)
        .map(|q| q.types.join(","))
        .collect();
    assert_eq!(answered, ["Sale", "Return"]);
    assert_eq!(report.differences.len(), 1, "{:#?}", report.differences);
    assert_eq!(
        (
            report.differences[0].kind,
            report.differences[0].provider_ref.as_str()
        ),
        (DifferenceKind::MissingHere, "GHOST-R")
    );
    assert_eq!(
        commissions(&h, package["orderNumber"].as_str().unwrap()).await,
        vec![(Some(try_(1_500)), Some("15".into()))]
    );
    assert_eq!(published_by(&h).get("reconciliation.mismatch"), Some(&1));
}

/// Commission kept on each line of our Hepsiburada order `number`.
async fn hb_commissions(h: &CatalogHarness, number: &str) -> Vec<Option<Money>> {
    let (order, _) = h
        .catalog_store()
        .load_marketplace_order(Marketplace::Hepsiburada, number)
        .await
        .unwrap()
        .expect("order");
    order.line_facts.values().map(|l| l.commission).collect()
}

#[tokio::test]
async fn a_day_of_hepsiburada_accounting_reports_each_difference_once_and_resumes_after_an_outage()
{
    let h = CatalogHarness::start(0, &[]).await;
    h.put_products(&[product_json("HBS-A", 20, 3_000)]).await;
    let day = today();
    // GIVEN three Hepsiburada orders polled in (their lines carry the order
    // list's commission, 15 %)…
    let orders: Vec<String> = (0..3)
        .map(|_| {
            h.hepsiburada
                .add_order_lines(&[("HBS-A", 1, 30.0)])
                .order_number
        })
        .collect();
    let poll = h
        .order_poll(&[])
        .run_only(Some(Marketplace::Hepsiburada), i64::MAX)
        .await;
    assert_eq!(poll.marketplaces[0].created, 3, "{poll:?}");
    assert_eq!(hb_commissions(&h, &orders[0]).await, vec![Some(try_(450))]);
    // … and Hepsiburada's records of the day: one order settled as we have
    // it, one charged another commission, one paid another amount, a
    // return with no claim of ours, and a payment for an order we never saw.
    h.hepsiburada.settle_order(&orders[0]);
    let spec = |t: &str, order: &str, amount: i64| HbAccountingSpec::new(t, order, "HBS-A", amount);
    h.hepsiburada
        .add_accounting_record(spec("Payment", &orders[1], 3_000));
    h.hepsiburada
        .add_accounting_record(spec("Commission", &orders[1], 400));
    h.hepsiburada
        .add_accounting_record(spec("Payment", &orders[2], 2_500));
    h.hepsiburada
        .add_accounting_record(spec("Return", &orders[0], 3_000));
    h.hepsiburada
        .add_accounting_record(spec("Payment", "HB-GHOST-1", 3_000));
    // A record of a type not compared is listed, and changes nothing.
    h.hepsiburada
        .add_accounting_record(spec("CargoMargin", &orders[0], 100));
    faults_on_finance_only(&h);
    h.publisher.published.lock().unwrap().clear();
    let app = h.reconcile(&[
        ("RECONCILE_STOP_BEFORE_DEADLINE_SECS", "0"),
        ("RECONCILE_HEPSIBURADA_PAGE_SIZE", "2"),
    ]);

    // WHEN the day is reconciled in pages of 2 — the first page after a
    // 429 and a 503, an outage on the third that outlasts the retries —
    // and the next invocation goes on with the run
    h.hepsiburada.push_fault(Fault::Status(429));
    h.hepsiburada.push_fault(Fault::Status(503));
    h.hepsiburada.fail_accounting_reads_after(2, 3);
    let failed = app.run(&run(&day, "run-1"), far_deadline()).await;
    assert!(failed.is_err(), "{failed:?}");
    let done = app.run(&run(&day, "run-1"), far_deadline()).await.unwrap();
    assert_eq!(done.outcome, "completed");
    let report = done.report.unwrap();

    // THEN each real difference is reported once…
    let kinds: BTreeMap<(String, Option<String>), DifferenceKind> = report
        .differences
        .iter()
        .map(|d| ((d.provider_ref.clone(), product(d)), d.kind))
        .collect();
    let line = |l: &str| Some(l.to_string());
    assert_eq!(
        kinds,
        BTreeMap::from([
            (
                (orders[0].clone(), line("HBS-A")),
                DifferenceKind::RefundDiffers
            ),
            (
                (orders[1].clone(), line("HBS-A/commission")),
                DifferenceKind::AmountDiffers
            ),
            (
                (orders[2].clone(), line("HBS-A")),
                DifferenceKind::AmountDiffers
            ),
            (
                ("HB-GHOST-1".to_string(), line("HBS-A")),
                DifferenceKind::MissingHere
            ),
        ]),
        "{:#?}",
        report.differences
    );
    let commission = report
        .differences
        .iter()
        .find(|d| product(d).as_deref() == Some("HBS-A/commission"))
        .unwrap();
    assert_eq!(commission.provider_side.amount, Some(try_(400)));
    assert_eq!(
        commission.our_side.as_ref().unwrap().amount,
        Some(try_(450))
    );
    assert_eq!(published_by(&h).get("reconciliation.mismatch"), Some(&4));
    // … the stored commission is left as it is…
    assert_eq!(hb_commissions(&h, &orders[1]).await, vec![Some(try_(450))]);
    // … and the records were read page by page (8 records: 4 pages), each
    // page once but for the retried ones: 2 + 3 failed attempts.
    let answered = h
        .hepsiburada
        .accounting_queries()
        .iter()
        .filter(|(_, status)| *status == 200)
        .count();
    assert_eq!(answered, 4);
    assert_eq!(h.hepsiburada.accounting_request_count(), 4 + 2 + 3);
    assert!(h
        .hepsiburada
        .accounting_queries()
        .iter()
        .all(|(q, _)| q.contains("Offset=")
            && q.contains("Limit=2")
            && q.contains(&format!("RecordDateStart={day}"))));

    // A second run of the day finds nothing new.
    h.publisher.published.lock().unwrap().clear();
    let again = app.run(&run(&day, "run-2"), far_deadline()).await.unwrap();
    assert_eq!(again.report.unwrap().differences, report.differences);
    assert_eq!(
        published_by(&h),
        BTreeMap::from([("reconciliation.completed", 1)])
    );
}
