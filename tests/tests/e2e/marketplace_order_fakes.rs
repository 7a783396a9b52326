//! The ORDER endpoints of the Trendyol and Hepsiburada fakes
//! (docs/marketplace-wire.md § Orders), driven over plain HTTP/1.1 with a raw
//! TcpStream client so these tests depend on no production client code —
//! except the tracking-number tests at the end (T9 / H7), which drive the
//! real clients (`TrendyolOrders::update_tracking_number`,
//! `HepsiburadaOrders::send_tracking_number`) against the fakes, and the
//! issue-17 tests of Hepsiburada's catalog client (403 throttling, ten
//! images and the video, upload status words).

use std::collections::HashSet;
use std::time::Duration;

use ayaztrade_tests::hepsiburada_fake::{
    self as hb, HbOrderSpec, HbPageHook, HepsiburadaFake, LIMIT_OFFSET_REQUIRED, ORDER_LIST,
};
use ayaztrade_tests::raw_http::{basic, hb_headers, send, Reply};
use ayaztrade_tests::trendyol_fake::{
    self as ty, DateFilter, Fault, PackageSpec, PageHook, TrendyolFake, DAY_MS, HOUR_MS,
    SHIPMENT_PACKAGES,
};
use serde_json::Value;

fn enc(v: &str) -> String {
    v.replace(' ', "%20").replace(':', "%3A")
}

// ---------------------------------------------------------------- Trendyol

fn ty_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "authorization",
            basic(ty::TEST_API_KEY, ty::TEST_API_SECRET),
        ),
        ("user-agent", ty::TEST_USER_AGENT.to_string()),
    ]
}

fn ty_path(query: &str) -> String {
    format!(
        "/integration/order/sellers/{}/orders?{query}",
        ty::TEST_SELLER_ID
    )
}

async fn ty_orders(fake: &TrendyolFake, query: &str) -> Reply {
    send(&fake.base_url, "GET", &ty_path(query), &ty_headers(), b"").await
}

fn ids(page: &Value) -> Vec<i64> {
    page["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

/// Five packages modified an hour apart, oldest first; returns their ids.
fn five_packages(fake: &TrendyolFake) -> (u64, Vec<i64>) {
    let now = fake.clock_ms();
    let ids = (0..5u64)
        .map(|i| {
            let at = now - (5 - i) * HOUR_MS;
            fake.add_package(PackageSpec::line(&format!("SKU-{i}"), 1, 100.0).at(at))["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    (now, ids)
}

#[tokio::test]
async fn trendyol_pages_in_last_modified_order() {
    let fake = TrendyolFake::start().await;
    let (now, created) = five_packages(&fake);
    let window = format!(
        "startDate={}&endDate={}&orderByField=PackageLastModifiedDate",
        now - DAY_MS,
        now
    );

    let mut seen = Vec::new();
    for page in 0..3 {
        let r = ty_orders(
            &fake,
            &format!("{window}&orderByDirection=ASC&page={page}&size=2"),
        )
        .await;
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_eq!(body["page"], page);
        assert_eq!(body["size"], 2);
        assert_eq!(body["totalElements"], 5);
        assert_eq!(body["totalPages"], 3);
        seen.extend(ids(&body));
    }
    assert_eq!(seen, created, "ASC = oldest lastModifiedDate first");

    let desc = ty_orders(&fake, &format!("{window}&orderByDirection=DESC&size=200")).await;
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(ids(&desc.json()), reversed);
    let default = ty_orders(&fake, &format!("{window}&size=200")).await;
    assert_eq!(ids(&default.json()), reversed, "default direction is DESC");
    // Default page size 50.
    let d = ty_orders(&fake, &window).await.json();
    assert_eq!(d["size"], 50);

    // The real package shape.
    let p = &desc.json()["content"][0];
    for key in [
        "id",
        "orderNumber",
        "orderDate",
        "lastModifiedDate",
        "status",
        "shipmentPackageStatus",
        "totalPrice",
        "currencyCode",
        "cargoTrackingNumber",
        "cargoProviderName",
        "customerId",
        "packageHistories",
    ] {
        assert!(!p[key].is_null(), "{key} missing in {p}");
    }
    let line = &p["lines"][0];
    assert_eq!(line["merchantSku"], "SKU-4");
    assert_eq!(line["quantity"], 1);
    assert_eq!(line["price"], 100.0);
    assert!(line["id"].is_i64() && line["barcode"].is_string());
    assert_eq!(p["status"], "Created");

    let queries = fake.order_list_queries();
    assert_eq!(queries.len(), 6);
    assert_eq!(fake.order_list_request_count(), 6);
    assert_eq!(queries[0].size, Some(2));
    assert_eq!(queries[0].window_ms(), Some(DAY_MS as i64));
    assert_eq!(queries[0].returned, created[..2]);
    assert!(queries.iter().all(|q| q.http_status == 200));
}

#[tokio::test]
async fn trendyol_page_size_limit_and_bad_queries() {
    let fake = TrendyolFake::start().await;
    five_packages(&fake);
    let now = fake.clock_ms();
    let w = format!("startDate={}&endDate={now}", now - DAY_MS);
    assert_eq!(ty_orders(&fake, &format!("{w}&size=200")).await.status, 200);
    let r = ty_orders(&fake, &format!("{w}&size=201")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["exception"], "ClientApiBusinessException");
    assert_eq!(ty_orders(&fake, &format!("{w}&size=0")).await.status, 400);
    assert_eq!(ty_orders(&fake, &format!("{w}&page=-1")).await.status, 400);
    assert_eq!(
        ty_orders(&fake, &format!("{w}&orderByField=Whatever"))
            .await
            .status,
        400
    );
    assert_eq!(
        ty_orders(&fake, &format!("startDate=2024-01-01&endDate={now}"))
            .await
            .status,
        400,
        "dates are epoch milliseconds"
    );
    let sizes: Vec<Option<i64>> = fake.order_list_queries().iter().map(|q| q.size).collect();
    assert_eq!(sizes[..3], [Some(200), Some(201), Some(0)]);
    assert!(fake
        .order_list_queries()
        .iter()
        .filter(|q| q.size.unwrap_or(50) > 200)
        .all(|q| q.http_status == 400));
}

#[tokio::test]
async fn trendyol_lookback_window_and_a_three_day_outage() {
    let fake = TrendyolFake::start().await;
    let now = fake.clock_ms();
    // Too old, too wide.
    let old = ty_orders(
        &fake,
        &format!(
            "startDate={}&endDate={}",
            now - 91 * DAY_MS,
            now - 90 * DAY_MS + HOUR_MS
        ),
    )
    .await;
    assert_eq!(old.status, 400);
    let wide = ty_orders(
        &fake,
        &format!("startDate={}&endDate={now}", now - 15 * DAY_MS),
    )
    .await;
    assert_eq!(wide.status, 400);
    let ok = ty_orders(
        &fake,
        &format!("startDate={}&endDate={now}", now - 14 * DAY_MS),
    )
    .await;
    assert_eq!(ok.status, 200);

    // Orders arrive during a 3-day outage (the fake's clock runs in the past).
    let mut expected = HashSet::new();
    for day in (1..=3u64).rev() {
        fake.set_clock_offset(-((day * DAY_MS) as i64));
        for i in 0..3 {
            let p = fake.add_order(&[(&format!("SKU-{day}-{i}"), 1, 10.0)]);
            expected.insert(p["id"].as_i64().unwrap());
        }
    }
    fake.set_clock_offset(0);
    // Catch up window by window (one day each), paging with size 2.
    let start = now - 4 * DAY_MS;
    let mut seen = HashSet::new();
    for w in 0..4 {
        let (a, b) = (start + w * DAY_MS, start + (w + 1) * DAY_MS - 1);
        for page in 0.. {
            let body = ty_orders(
                &fake,
                &format!("startDate={a}&endDate={b}&orderByDirection=ASC&page={page}&size=2"),
            )
            .await
            .json();
            seen.extend(ids(&body));
            if page + 1 >= body["totalPages"].as_i64().unwrap() {
                break;
            }
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn trendyol_status_update_bumps_last_modified() {
    let fake = TrendyolFake::start().await;
    let now = fake.clock_ms();
    let p = fake.add_package(PackageSpec::line("SKU-1", 2, 50.0).at(now - 10 * DAY_MS));
    let id = p["id"].as_i64().unwrap();
    let recent = format!("startDate={}&endDate={}", now - DAY_MS, now + DAY_MS);
    assert!(ids(&ty_orders(&fake, &recent).await.json()).is_empty());

    let updated = fake.update_status(id, "Shipped");
    assert_eq!(updated["status"], "Shipped");
    assert_eq!(updated["lines"][0]["orderLineItemStatusName"], "Shipped");
    assert!(updated["lastModifiedDate"].as_u64().unwrap() >= now);
    assert_eq!(updated["packageHistories"].as_array().unwrap().len(), 2);
    assert_eq!(ids(&ty_orders(&fake, &recent).await.json()), [id]);
    let shipped = ty_orders(&fake, &format!("{recent}&status=Created,Cancelled")).await;
    assert!(ids(&shipped.json()).is_empty(), "status filter");

    // If Trendyol filtered by orderDate, the update would not show up.
    fake.set_date_filter(DateFilter::OrderDate);
    assert!(ids(&ty_orders(&fake, &recent).await.json()).is_empty());
}

#[tokio::test]
async fn trendyol_webhook_payload_is_the_polled_package() {
    let fake = TrendyolFake::start().await;
    let p = fake.add_order(&[("SKU-A", 1, 19.99), ("SKU-B", 3, 5.5)]);
    let id = p["id"].as_i64().unwrap();
    let now = fake.clock_ms();
    let polled = ty_orders(
        &fake,
        &format!(
            "startDate={}&endDate={}&orderNumber={}",
            now - HOUR_MS,
            now,
            p["orderNumber"].as_str().unwrap()
        ),
    )
    .await
    .json();
    assert_eq!(polled["content"][0], fake.webhook_payload(id));
    assert_eq!(polled["content"][0], p);
    assert_eq!(p["totalPrice"], 36.49);
    let body: Value = serde_json::from_slice(&fake.webhook_body(id)).unwrap();
    assert_eq!(body, p);
}

#[tokio::test]
async fn trendyol_auth_failures_rate_limit_and_faults() {
    let fake = TrendyolFake::start().await;
    let now = fake.clock_ms();
    let q = format!("startDate={}&endDate={now}", now - HOUR_MS);
    let wrong = send(
        &fake.base_url,
        "GET",
        &ty_path(&q),
        &[
            ("authorization", basic(ty::TEST_API_KEY, "nope")),
            ("user-agent", ty::TEST_USER_AGENT.into()),
        ],
        b"",
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json()["exception"],
        "ClientApiAuthenticationException"
    );
    let no_ua = send(
        &fake.base_url,
        "GET",
        &ty_path(&q),
        &[(
            "authorization",
            basic(ty::TEST_API_KEY, ty::TEST_API_SECRET),
        )],
        b"",
    )
    .await;
    assert_eq!(no_ua.status, 403);
    let other_seller = send(
        &fake.base_url,
        "GET",
        &format!("/integration/order/sellers/999/orders?{q}"),
        &ty_headers(),
        b"",
    )
    .await;
    assert_eq!(other_seller.status, 403);
    assert!(fake.order_list_queries().is_empty());
    assert_eq!(fake.request_count(SHIPMENT_PACKAGES), 3);

    // A fault does not serve the page and does not fire page hooks.
    fake.insert_on_next_page_request(PackageSpec::line("LATE", 1, 1.0));
    fake.push_fault(Fault::Status(500));
    let r = ty_orders(&fake, &format!("{q}&page=1")).await;
    assert_eq!(r.status, 500);
    assert_eq!(fake.pending_page_hooks(), 1);
    assert_eq!(fake.package_count(), 0);

    // The faulted request counts toward the window (it reached the gate).
    fake.set_endpoint_rate_limit(SHIPMENT_PACKAGES, 3, Duration::from_secs(10));
    assert_eq!(ty_orders(&fake, &q).await.status, 200);
    assert_eq!(ty_orders(&fake, &q).await.status, 200);
    let limited = ty_orders(&fake, &q).await;
    assert_eq!(limited.status, 429);
    assert_eq!(fake.throttled_count_for(SHIPMENT_PACKAGES), 1);
}

#[tokio::test]
async fn trendyol_inserts_and_updates_between_pages() {
    let fake = TrendyolFake::start().await;
    let (now, created) = five_packages(&fake);
    let w = format!(
        "startDate={}&endDate={}&orderByDirection=ASC&size=2",
        now - DAY_MS,
        now + DAY_MS
    );
    // A new package arrives while a client pages ASC: it lands on the last
    // page, nothing shifts, nothing is skipped.
    fake.insert_on_next_page_request(PackageSpec::line("NEW", 1, 1.0));
    let mut seen = Vec::new();
    for page in 0..3 {
        seen.extend(ids(&ty_orders(&fake, &format!("{w}&page={page}"))
            .await
            .json()));
    }
    assert_eq!(fake.pending_page_hooks(), 0);
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[..5], created[..]);

    // A status change between pages moves a package to the end: the items
    // after it shift left and naive offset paging skips one.
    let first = created[0];
    fake.on_next_page_request(PageHook::UpdateStatus(first, "Picking".into()));
    let mut seen = Vec::new();
    for page in 0..3 {
        seen.extend(ids(&ty_orders(&fake, &format!("{w}&page={page}"))
            .await
            .json()));
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), 5, "one of six packages was skipped: {seen:?}");
    assert!(!unique.contains(&created[2]));
    let q = fake.order_list_queries();
    assert_eq!(q[4].returned[0], created[3], "page 1 after the shift");
}

// ------------------------------------------------------------- Hepsiburada

async fn hb_orders(fake: &HepsiburadaFake, query: &str) -> Reply {
    let path = format!("/orders/merchantid/{}?{query}", hb::TEST_MERCHANT_ID);
    send(&fake.oms_base_url, "GET", &path, &hb_headers(), b"").await
}

fn hb_window(begin: u64, end: u64) -> String {
    format!(
        "begindate={}&enddate={}",
        enc(&hb::hb_date(begin)),
        enc(&hb::hb_date(end))
    )
}

fn numbers(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["orderNumber"].as_str().unwrap().to_string())
        .collect()
}

/// A minute boundary a few days back.
fn base_minute(fake: &HepsiburadaFake) -> u64 {
    let now = fake.clock_ms();
    now - now % 60_000 - 5 * DAY_MS
}

#[test]
fn hepsiburada_dates_are_turkey_time() {
    assert_eq!(
        hb::parse_hb_date("2024-05-21 00:00"),
        Some(1_716_238_800_000)
    );
    assert_eq!(hb::hb_date(1_716_238_800_000), "2024-05-21 00:00");
    assert_eq!(hb::parse_hb_date("2024-05-21"), Some(1_716_238_800_000));
    for bad in [
        "2024-02-30 00:00",
        "2024-5-21 00:00",
        "21.05.2024 10:00",
        "2024-05-21T10:00",
    ] {
        assert_eq!(hb::parse_hb_date(bad), None, "{bad}");
    }
}

#[tokio::test]
async fn hepsiburada_limit_and_offset_are_mandatory() {
    let fake = HepsiburadaFake::start().await;
    fake.add_order_lines(&[("SKU-1", 1, 10.0)]);
    for q in ["", "limit=10", "offset=0", "begindate=2024-05-21%2000%3A00"] {
        let r = hb_orders(&fake, q).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["message"], LIMIT_OFFSET_REQUIRED);
    }
    let ok = hb_orders(&fake, "offset=0&limit=100").await;
    assert_eq!(ok.status, 200);
    let body = ok.json();
    assert_eq!(body["totalCount"], 1);
    assert_eq!(body["limit"], 100);
    assert_eq!(body["offset"], 0);
    assert_eq!(body["pageCount"], 1);
    let item = &body["items"][0];
    for key in [
        "id",
        "orderId",
        "orderNumber",
        "orderDate",
        "status",
        "merchantSKU",
        "sku",
        "quantity",
        "unitPrice",
        "totalPrice",
        "customerName",
        "shippingAddress",
    ] {
        assert!(!item[key].is_null(), "{key} missing in {item}");
    }
    assert_eq!(item["merchantSKU"], "SKU-1");
    assert_eq!(item["totalPrice"]["amount"], 10.0);
    assert_eq!(item["status"], hb::OPEN_STATUS);
    let q = fake.order_list_queries();
    assert_eq!(q.len(), 5);
    assert_eq!((q[4].offset, q[4].limit), (Some(0), Some(100)));
}

#[tokio::test]
async fn hepsiburada_silently_truncates_windows_over_24_hours() {
    let fake = HepsiburadaFake::start().await;
    let b = base_minute(&fake);
    let early = fake.add_order(HbOrderSpec::line("A", 1, 1.0).at(b + HOUR_MS));
    let late_in = fake.add_order(HbOrderSpec::line("B", 1, 1.0).at(b + 23 * HOUR_MS));
    let after = fake.add_order(HbOrderSpec::line("C", 1, 1.0).at(b + 30 * HOUR_MS));
    // At exactly begindate + 24 h: outside [begin, end).
    let edge = fake.add_order(HbOrderSpec::line("D", 1, 1.0).at(b + 24 * HOUR_MS));

    let wide = hb_orders(
        &fake,
        &format!("offset=0&limit=100&{}", hb_window(b, b + 48 * HOUR_MS)),
    )
    .await;
    assert_eq!(wide.status, 200, "no error: the cut is silent");
    assert_eq!(
        numbers(&wide.json()),
        [early.order_number.clone(), late_in.order_number.clone()]
    );
    let q = fake.order_list_queries().pop().unwrap();
    assert!(q.truncated);
    assert_eq!(q.window_ms(), Some(48 * HOUR_MS));
    assert_eq!(q.effective_end_ms, Some(b + 24 * HOUR_MS));

    let second = hb_orders(
        &fake,
        &format!(
            "offset=0&limit=100&{}",
            hb_window(b + 24 * HOUR_MS, b + 48 * HOUR_MS)
        ),
    )
    .await;
    assert_eq!(
        numbers(&second.json()),
        [edge.order_number.clone(), after.order_number.clone()]
    );
    let q = fake.order_list_queries().pop().unwrap();
    assert!(!q.truncated);
    assert!(fake
        .order_list_queries()
        .iter()
        .filter(|q| !q.truncated)
        .all(|q| q.window_ms().is_none_or(|w| w <= hb::ORDERS_MAX_WINDOW_MS)));

    // An ISO date is not refused: 200 with an empty page (issue 17,
    // docs/marketplace-wire.md H10), so the client must never send one.
    let iso = hb_orders(&fake, "offset=0&limit=10&begindate=2024-05-21T10:00:00").await;
    assert_eq!(iso.status, 200);
    assert_eq!(iso.json()["totalCount"], 0);
}

#[tokio::test]
async fn hepsiburada_pages_by_offset_and_clamps_limit() {
    let fake = HepsiburadaFake::start().await;
    let b = base_minute(&fake);
    let mut expected = Vec::new();
    for i in 0..250u64 {
        let o = fake.add_order(HbOrderSpec::line(&format!("SKU-{i}"), 1, 1.0).at(b + i * 60_000));
        expected.push(o.order_number);
    }
    let w = hb_window(b, b + 24 * HOUR_MS);
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let body = hb_orders(&fake, &format!("offset={offset}&limit=100&{w}"))
            .await
            .json();
        assert_eq!(body["totalCount"], 250);
        assert_eq!(body["pageCount"], 3);
        seen.extend(numbers(&body));
        offset += 100;
        if offset >= 250 {
            break;
        }
    }
    assert_eq!(seen, expected, "orderDate order, nothing lost");

    // limit > 100 is served as 100 (no error): stepping by the requested
    // limit would skip 50 lines.
    let body = hb_orders(&fake, &format!("offset=0&limit=150&{w}"))
        .await
        .json();
    assert_eq!(body["items"].as_array().unwrap().len(), 100);
    assert_eq!(body["limit"], 100);
    let q = fake.order_list_queries().pop().unwrap();
    assert_eq!(q.limit, Some(150), "the query as sent is recorded");
    assert_eq!(fake.order_list_request_count(), 4);
}

#[tokio::test]
async fn hepsiburada_auth_hosts_and_rate_limit() {
    let fake = HepsiburadaFake::start().await;
    let path = format!(
        "/orders/merchantid/{}?offset=0&limit=10",
        hb::TEST_MERCHANT_ID
    );
    let wrong_key = send(
        &fake.oms_base_url,
        "GET",
        &path,
        &[
            ("authorization", basic(hb::TEST_MERCHANT_ID, "WrongKey1234")),
            ("user-agent", hb::TEST_INTEGRATOR_USERNAME.into()),
        ],
        b"",
    )
    .await;
    assert_eq!(wrong_key.status, 401);
    let wrong_ua = send(
        &fake.oms_base_url,
        "GET",
        &path,
        &[
            (
                "authorization",
                basic(hb::TEST_MERCHANT_ID, hb::TEST_SERVICE_KEY),
            ),
            (
                "user-agent",
                format!("{} - AyazTrade", hb::TEST_MERCHANT_ID),
            ),
        ],
        b"",
    )
    .await;
    // 401, not 403 (issue 17; docs/marketplace-wire.md H10).
    assert_eq!(wrong_ua.status, 401);
    let other_merchant = send(
        &fake.oms_base_url,
        "GET",
        "/orders/merchantid/00000000-0000-0000-0000-000000000000?offset=0&limit=10",
        &hb_headers(),
        b"",
    )
    .await;
    assert_eq!(other_merchant.status, 403);
    // Orders live on the oms host only.
    let on_listing = send(&fake.listing_base_url, "GET", &path, &hb_headers(), b"").await;
    assert_eq!(on_listing.status, 404);
    assert!(fake.order_list_queries().is_empty());
    // Path casing used by HB's own examples is served on the oms host, but
    // query names are case-sensitive: the order list reads `offset`
    // (`Offset` is the `/packages` list's), issue 17 / H10.
    for (query, status) in [("offset=0&limit=10", 200), ("Offset=0&limit=10", 400)] {
        let cased = format!("/orders/merchantId/{}?{query}", hb::TEST_MERCHANT_ID);
        let reply = send(&fake.oms_base_url, "GET", &cased, &hb_headers(), b"").await;
        assert_eq!(reply.status, status, "{query}");
    }

    // Let the requests above leave the rate window.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fake.set_endpoint_rate_limit(ORDER_LIST, 2, Duration::from_secs(1));
    assert_eq!(hb_orders(&fake, "offset=0&limit=10").await.status, 200);
    assert_eq!(hb_orders(&fake, "offset=0&limit=10").await.status, 200);
    let r = hb_orders(&fake, "offset=0&limit=10").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(r.header("x-ratelimit-reset"), Some("1"));
    assert_eq!(fake.throttled_count_for(ORDER_LIST), 1);
}

#[tokio::test]
async fn hepsiburada_changes_between_pages_shift_offsets() {
    let fake = HepsiburadaFake::start().await;
    let b = base_minute(&fake);
    let created: Vec<String> = (0..4u64)
        .map(|i| {
            fake.add_order(HbOrderSpec::line(&format!("S{i}"), 1, 1.0).at(b + (i + 1) * HOUR_MS))
                .order_number
        })
        .collect();
    let w = hb_window(b, b + 24 * HOUR_MS);
    let page = |offset: u32| {
        let fake = fake.clone();
        let w = w.clone();
        async move {
            numbers(
                &hb_orders(&fake, &format!("offset={offset}&limit=2&{w}"))
                    .await
                    .json(),
            )
        }
    };

    // A late order dated at the start of the window appears between pages:
    // page 2 repeats a line and the new order is not seen in this pass.
    fake.insert_on_next_page_request(HbOrderSpec::line("LATE", 1, 1.0).at(b + 1));
    let mut seen = page(0).await;
    seen.extend(page(2).await);
    assert_eq!(
        seen,
        [&created[0], &created[1], &created[1], &created[2]].map(String::clone)
    );
    assert_eq!(fake.pending_page_hooks(), 0);

    // An order packed between pages leaves the list: the next page skips one.
    let first_two = page(0).await;
    fake.on_next_page_request(HbPageHook::UpdateStatus(
        first_two[0].clone(),
        "Packaged".into(),
    ));
    let next = page(2).await;
    assert_eq!(
        first_two[0],
        fake.order_items(&first_two[0])[0]["orderNumber"]
    );
    assert_eq!(
        next,
        [created[2].clone(), created[3].clone()],
        "{} was skipped",
        created[1]
    );
    assert_eq!(fake.order_items(&first_two[0])[0]["status"], "Packaged");
}

// ------------------------------------------------- tracking numbers (T9, H7)

use ayaztrade::config::{HepsiburadaSettings, Secret, TrendyolSettings, TrendyolTier};
use ayaztrade::error::{Error, ProviderFailure};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade::providers::marketplace::hepsiburada::orders::{HepsiburadaOrders, InTransit};
use ayaztrade::providers::marketplace::http::TrackingPush;
use ayaztrade::providers::marketplace::trendyol::orders::TrendyolOrders;
use ayaztrade_tests::fixtures::fast_http_settings;
use ayaztrade_tests::trendyol_fake::UPDATE_TRACKING_NUMBER;

fn ty_settings(fake: &TrendyolFake, secret: &str, user_agent: &str) -> TrendyolSettings {
    TrendyolSettings {
        api_base: fake.base_url.clone(),
        seller_id: ty::TEST_SELLER_ID.into(),
        api_key: ty::TEST_API_KEY.into(),
        api_secret: Secret::new(secret),
        user_agent: user_agent.into(),
        requests_per_10s: 50,
        rate_window: Duration::from_millis(100),
        listing_tier: TrendyolTier::Unlimited,
        catalog_workers: 1,
        group_window: Duration::from_secs(60),
    }
}

fn ty_client(fake: &TrendyolFake, secret: &str, user_agent: &str) -> TrendyolOrders {
    let settings = ty_settings(fake, secret, user_agent);
    TrendyolOrders::new(HttpLayer::new(fast_http_settings()), &settings, 50).unwrap()
}

fn ty_tracking_client(fake: &TrendyolFake) -> TrendyolOrders {
    ty_client(fake, ty::TEST_API_SECRET, ty::TEST_USER_AGENT)
}

fn package_in(fake: &TrendyolFake, status: &str) -> (i64, String) {
    let id = fake.add_package(PackageSpec::line("SKU-T", 1, 50.0).status(status))["id"]
        .as_i64()
        .unwrap();
    (id, id.to_string())
}

fn failure<T: std::fmt::Debug>(r: Result<T, Error>) -> ProviderFailure {
    match r {
        Err(Error::Provider(p)) => p.failure,
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[tokio::test]
async fn trendyol_tracking_number_is_accepted_then_already_set() {
    let fake = TrendyolFake::start().await;
    let client = ty_tracking_client(&fake);
    let (id, pid) = package_in(&fake, "Picking");

    let r = client.update_tracking_number(&pid, "ARS0012345678").await;
    assert_eq!(r.unwrap(), TrackingPush::Accepted);
    assert_eq!(fake.tracking_number(id).as_deref(), Some("ARS0012345678"));
    let sent: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Some(UPDATE_TRACKING_NUMBER))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "PUT");
    assert_eq!(
        sent[0].path,
        format!(
            "/integration/order/sellers/{}/shipment-packages/{id}/update-tracking-number",
            ty::TEST_SELLER_ID
        )
    );
    assert_eq!(
        sent[0].json().unwrap(),
        serde_json::json!({"trackingNumber": "ARS0012345678"})
    );
    assert_eq!(sent[0].content_type.as_deref(), Some("application/json"));
    // The polled package now shows the number.
    assert_eq!(
        fake.package(id).unwrap()["cargoSenderNumber"],
        "ARS0012345678"
    );

    // The same number again: Trendyol refuses, the read-back says done.
    let again = client.update_tracking_number(&pid, "ARS0012345678").await;
    assert_eq!(again.unwrap(), TrackingPush::AlreadySet);
    assert_eq!(fake.tracking_request_count(), 2);
    assert_eq!(
        fake.tracking_updates(),
        vec![(id, "ARS0012345678".to_string())]
    );

    // Invoiced packages take a number too.
    let (id2, pid2) = package_in(&fake, "Invoiced");
    assert_eq!(
        client.update_tracking_number(&pid2, "ARS2").await.unwrap(),
        TrackingPush::Accepted
    );
    assert_eq!(fake.tracking_number(id2).as_deref(), Some("ARS2"));
}

#[tokio::test]
async fn trendyol_tracking_number_refusals_need_a_person() {
    let fake = TrendyolFake::start().await;
    let client = ty_tracking_client(&fake);

    let (delivered, pid) = package_in(&fake, "Delivered");
    match client.update_tracking_number(&pid, "ARS1").await.unwrap() {
        TrackingPush::Refused(m) => {
            assert!(m.contains(ty::NOT_UPDATABLE_MESSAGE), "{m}");
            assert!(m.contains("Delivered"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.tracking_number(delivered), None);

    // Another number on a package that already has one.
    let (_, pid) = package_in(&fake, "Picking");
    assert_eq!(
        client.update_tracking_number(&pid, "ARS-A").await.unwrap(),
        TrackingPush::Accepted
    );
    assert!(matches!(
        client.update_tracking_number(&pid, "ARS-B").await.unwrap(),
        TrackingPush::Refused(m) if m.contains("Picking")
    ));

    // Created: not yet Picking (the v3 rule the fake applies by default)…
    let (created, pid) = package_in(&fake, "Created");
    assert!(matches!(
        client.update_tracking_number(&pid, "ARS-C").await.unwrap(),
        TrackingPush::Refused(m) if m.contains("Created")
    ));
    // …unless the fake is told to read the TR page leniently.
    fake.set_tracking_statuses(&["Created", "Picking", "Invoiced"]);
    assert_eq!(
        client.update_tracking_number(&pid, "ARS-C").await.unwrap(),
        TrackingPush::Accepted
    );
    assert_eq!(fake.tracking_number(created).as_deref(), Some("ARS-C"));

    // An unknown package.
    assert!(matches!(
        client.update_tracking_number("3799999999", "ARS-D").await.unwrap(),
        TrackingPush::Refused(m) if m.contains("not found")
    ));
    // Bad input never leaves the process.
    let before = fake.tracking_request_count();
    assert!(matches!(
        client.update_tracking_number("12/../3", "ARS").await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        client.update_tracking_number(&pid, "AR S").await,
        Err(Error::Validation(_))
    ));
    assert_eq!(fake.tracking_request_count(), before);
}

#[tokio::test]
async fn trendyol_tracking_number_retries_5xx_and_reports_lasting_failures() {
    let fake = TrendyolFake::start().await;
    let client = ty_tracking_client(&fake);
    let (id, pid) = package_in(&fake, "Picking");

    // One 500, then success: retried inside the call, applied once.
    fake.push_fault(Fault::Status(500));
    assert_eq!(
        client.update_tracking_number(&pid, "ARS9").await.unwrap(),
        TrackingPush::Accepted
    );
    assert_eq!(fake.tracking_request_count(), 2);
    assert_eq!(fake.tracking_updates(), vec![(id, "ARS9".to_string())]);

    // Faults on every attempt: an error to retry later, nothing applied.
    let (id2, pid2) = package_in(&fake, "Picking");
    for _ in 0..3 {
        fake.push_fault(Fault::Status(503));
    }
    assert_eq!(
        failure(client.update_tracking_number(&pid2, "ARS10").await),
        ProviderFailure::Unavailable
    );
    assert_eq!(fake.tracking_number(id2), None);
    for _ in 0..3 {
        fake.push_fault(Fault::Status(429));
    }
    assert_eq!(
        failure(client.update_tracking_number(&pid2, "ARS10").await),
        ProviderFailure::RateLimited
    );
    // The later call goes through.
    assert_eq!(
        client.update_tracking_number(&pid2, "ARS10").await.unwrap(),
        TrackingPush::Accepted
    );
}

#[tokio::test]
async fn trendyol_tracking_number_auth_failures_are_errors() {
    let fake = TrendyolFake::start().await;
    let (id, pid) = package_in(&fake, "Picking");
    let wrong_secret = ty_client(&fake, "nope", ty::TEST_USER_AGENT);
    assert_eq!(
        failure(wrong_secret.update_tracking_number(&pid, "ARS1").await),
        ProviderFailure::Unauthorized
    );
    let wrong_ua = ty_client(&fake, ty::TEST_API_SECRET, "999 - SelfIntegration");
    assert_eq!(
        failure(wrong_ua.update_tracking_number(&pid, "ARS1").await),
        ProviderFailure::Unauthorized
    );
    assert_eq!(fake.tracking_number(id), None);
    assert_eq!(
        fake.tracking_request_count(),
        2,
        "auth failures are not retried"
    );
}

fn hb_settings(fake: &HepsiburadaFake, key: &str, catalog_rps: u32) -> HepsiburadaSettings {
    HepsiburadaSettings {
        listing_base: fake.listing_base_url.clone(),
        catalog_base: fake.mpop_base_url.clone(),
        oms_base: fake.oms_base_url.clone(),
        finance_base: fake.oms_base_url.clone(),
        merchant_id: hb::TEST_MERCHANT_ID.into(),
        service_key: Secret::new(key),
        user_agent: hb::TEST_INTEGRATOR_USERNAME.into(),
        requests_per_second: 100,
        catalog_requests_per_second: catalog_rps,
    }
}

fn hb_client(fake: &HepsiburadaFake, key: &str) -> HepsiburadaOrders {
    let settings = hb_settings(fake, key, 100);
    HepsiburadaOrders::new(HttpLayer::new(fast_http_settings()), &settings).unwrap()
}

fn aras_shipment(fake: &HepsiburadaFake, number: &str) -> InTransit {
    let now = fake.clock_ms() as i64;
    InTransit {
        shipped_ms: now,
        estimated_arrival_ms: now + 2 * DAY_MS as i64,
        tracking_url: format!("https://kargotakip.araskargo.com.tr/mainpage.aspx?code={number}"),
        tracking_phone_number: "4442552".into(),
        deci: 2.0,
    }
}

fn hb_package(fake: &HepsiburadaFake) -> String {
    let order = fake.add_order_lines(&[("SKU-H", 1, 80.0)]);
    fake.add_package(&order.order_number)
}

#[tokio::test]
async fn hepsiburada_intransit_is_accepted_then_already_set() {
    let fake = HepsiburadaFake::start().await;
    let client = hb_client(&fake, hb::TEST_SERVICE_KEY);
    let package = hb_package(&fake);
    let shipment = aras_shipment(&fake, "ARS77");

    let r = client
        .send_tracking_number(&package, "ARS77", &shipment)
        .await;
    assert_eq!(r.unwrap(), TrackingPush::Accepted);
    assert_eq!(fake.tracking_number(&package).as_deref(), Some("ARS77"));
    assert_eq!(
        fake.package(&package).unwrap()["status"],
        hb::INTRANSIT_STATUS
    );
    let body = fake.intransit_body(&package).unwrap();
    for field in hb::INTRANSIT_REQUIRED {
        assert!(body.get(*field).is_some(), "{field} missing in {body}");
    }
    assert_eq!(body["tax"], 0);
    assert_eq!(body["cost"], 0);
    assert_eq!(body["trackingUrl"], shipment.tracking_url);
    let sent = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Some(hb::PACKAGE_INTRANSIT))
        .unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.path,
        format!(
            "/packages/merchantid/{}/packagenumber/{package}/intransit",
            hb::TEST_MERCHANT_ID
        )
    );
    assert_eq!(
        sent.user_agent.as_deref(),
        Some(hb::TEST_INTEGRATOR_USERNAME)
    );

    let again = client
        .send_tracking_number(&package, "ARS77", &shipment)
        .await;
    assert_eq!(again.unwrap(), TrackingPush::AlreadySet);
    assert_eq!(fake.intransit_request_count(), 2);
    assert_eq!(
        fake.tracking_updates(),
        vec![(package, "ARS77".to_string())]
    );
}

#[tokio::test]
async fn hepsiburada_intransit_refusals_need_a_person() {
    let fake = HepsiburadaFake::start().await;
    let client = hb_client(&fake, hb::TEST_SERVICE_KEY);

    let delivered = hb_package(&fake);
    fake.set_package_status(&delivered, "Delivered");
    match client
        .send_tracking_number(&delivered, "ARS1", &aras_shipment(&fake, "ARS1"))
        .await
        .unwrap()
    {
        TrackingPush::Refused(m) => assert!(m.contains("Delivered"), "{m}"),
        other => panic!("{other:?}"),
    }

    // Another number on a package already in transit.
    let package = hb_package(&fake);
    let s = aras_shipment(&fake, "ARS2");
    assert_eq!(
        client
            .send_tracking_number(&package, "ARS2", &s)
            .await
            .unwrap(),
        TrackingPush::Accepted
    );
    assert!(matches!(
        client.send_tracking_number(&package, "ARS3", &s).await.unwrap(),
        TrackingPush::Refused(m) if m.contains("InTransit")
    ));

    // A package Hepsiburada's own carrier ships.
    let order = fake.add_order_lines(&[("SKU-J", 1, 10.0)]);
    let hx = fake.add_package_with_carrier(&order.order_number, "Hepsijet");
    let s = aras_shipment(&fake, "ARS4");
    assert!(matches!(
        client.send_tracking_number(&hx, "ARS4", &s).await.unwrap(),
        TrackingPush::Refused(m) if m.contains("merchant account")
    ));

    // A shipping date older than 7 days.
    let package = hb_package(&fake);
    let mut old = aras_shipment(&fake, "ARS5");
    old.shipped_ms -= 8 * DAY_MS as i64;
    assert!(matches!(
        client.send_tracking_number(&package, "ARS5", &old).await.unwrap(),
        TrackingPush::Refused(m) if m.contains("7 gün")
    ));
    assert_eq!(fake.tracking_number(&package), None);

    // A shipping date before the packaging date.
    let early = aras_shipment(&fake, "ARS7");
    fake.set_clock_offset(60_000);
    let package = hb_package(&fake);
    assert!(matches!(
        client.send_tracking_number(&package, "ARS7", &early).await.unwrap(),
        TrackingPush::Refused(m) if m.contains("packaging")
    ));

    // An unknown package.
    assert!(matches!(
        client.send_tracking_number("9999999999", "ARS6", &s).await.unwrap(),
        TrackingPush::Refused(m) if m.contains("not found")
    ));
}

#[tokio::test]
async fn hepsiburada_intransit_retries_5xx_and_auth_failures_are_errors() {
    let fake = HepsiburadaFake::start().await;
    let client = hb_client(&fake, hb::TEST_SERVICE_KEY);
    let package = hb_package(&fake);
    let s = aras_shipment(&fake, "ARS8");

    fake.push_fault(Fault::Status(502));
    assert_eq!(
        client
            .send_tracking_number(&package, "ARS8", &s)
            .await
            .unwrap(),
        TrackingPush::Accepted
    );
    assert_eq!(fake.intransit_request_count(), 2);
    assert_eq!(fake.tracking_updates().len(), 1);

    let other = hb_package(&fake);
    for _ in 0..3 {
        fake.push_fault(Fault::Status(500));
    }
    assert_eq!(
        failure(client.send_tracking_number(&other, "ARS9", &s).await),
        ProviderFailure::Unavailable
    );
    assert_eq!(fake.tracking_number(&other), None);

    let wrong = hb_client(&fake, "WrongKey1234");
    assert_eq!(
        failure(wrong.send_tracking_number(&other, "ARS9", &s).await),
        ProviderFailure::Unauthorized
    );
    assert_eq!(fake.tracking_number(&other), None);
}

// ------------------------------------------------------------------
// Issue 17: the Hepsiburada catalog client against the corrected fake.

use ayaztrade::domain::catalog_sync::Push;
use ayaztrade::domain::product::{validate_product, Product, ProductSubmission};
use ayaztrade::ports::BatchOutcome;
use ayaztrade::providers::marketplace::hepsiburada::catalog::{
    wire_item as hb_wire_item, HepsiburadaCatalog,
};
use ayaztrade::providers::marketplace::trendyol::catalog::TrendyolCatalog;

fn hb_catalog(fake: &HepsiburadaFake, key: &str, catalog_rps: u32) -> HepsiburadaCatalog {
    let settings = hb_settings(fake, key, catalog_rps);
    HepsiburadaCatalog::new(HttpLayer::new(fast_http_settings()), &settings).unwrap()
}

/// Item 6. January 2026 changelog: "1 saniye içerisinde 100 … Limit değerini
/// aşan istekler için 403 hatası alınacaktır." A 403 from the catalog host is
/// throttling: retried (at least 1 s apart) and, if it lasts, reported as
/// `RateLimited`; only 401 is a credential failure.
#[tokio::test]
async fn hepsiburada_catalog_403_is_throttling_not_credentials() {
    let fake = HepsiburadaFake::start().await;
    fake.set_catalog_rate_limit(Some((1, Duration::from_secs(1))));
    // No limit of our own, so the fake's 403 is what paces us.
    let client = hb_catalog(&fake, hb::TEST_SERVICE_KEY, 0);
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(
        client.category_rules(hb::DEFAULT_CATEGORY_ID as u64),
        client.category_rules(hb::DEFAULT_CATEGORY_ID as u64)
    );
    assert!(a.unwrap().is_some() && b.unwrap().is_some());
    assert!(fake.catalog_throttled_count() >= 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried ≥ 1 s later"
    );
    // A 403 that lasts is throttling, not "credentials refused".
    fake.set_catalog_rate_limit(Some((0, Duration::from_secs(1))));
    assert_eq!(
        failure(client.category_rules(hb::DEFAULT_CATEGORY_ID as u64).await),
        ProviderFailure::RateLimited
    );
    // Wrong credentials are 401: a credential failure.
    fake.set_catalog_rate_limit(None);
    let wrong = hb_catalog(&fake, "WrongKey1234", 0);
    assert_eq!(
        failure(wrong.category_rules(hb::DEFAULT_CATEGORY_ID as u64).await),
        ProviderFailure::Unauthorized
    );
    // Our own limit keeps us under the host's: no 403 at all.
    let fake = HepsiburadaFake::start().await;
    fake.set_catalog_rate_limit(Some((5, Duration::from_secs(1))));
    let paced = hb_catalog(&fake, hb::TEST_SERVICE_KEY, 4);
    for _ in 0..6 {
        paced
            .category_rules(hb::DEFAULT_CATEGORY_ID as u64)
            .await
            .unwrap();
    }
    assert_eq!(fake.catalog_throttled_count(), 0);
}

fn hb_product(sku: &str, images: usize) -> Product {
    let sub: ProductSubmission = serde_json::from_value(serde_json::json!({
        "barcode": format!("BC-{sku}"),
        "title": "Pamuklu tişört",
        "description": "Yumuşak pamuk",
        "price": {"minor": 13_050, "currency": "TRY"},
        "listPrice": {"minor": 15_000, "currency": "TRY"},
        "stock": 13,
        "vatRate": 20,
        "brand": "AyazTrade",
        "images": (1..=images).map(|i| format!("https://cdn.example.com/{sku}/{i}.jpg")).collect::<Vec<_>>(),
        "hepsiburada": {"categoryId": hb::DEFAULT_CATEGORY_ID, "merchantSku": sku, "warrantyMonths": 24,
            "attributes": {"kg": "1", (hb::ATTR_COLOR): "Mavi"},
            "videoUrl": format!("https://cdn.example.com/{sku}/tanitim.mp4")}
    }))
    .unwrap();
    validate_product(sku, sub).unwrap()
}

/// Item 8. June 2025 changelog: "ürün başına 10 görsele yükseltilmiştir …
/// image1 ile image10 arasında tanımlanan alanları kullanarak"; the import
/// also takes `Video1`.
#[tokio::test]
async fn hepsiburada_import_carries_ten_images_and_the_video() {
    let fake = HepsiburadaFake::start().await;
    let client = hb_catalog(&fake, hb::TEST_SERVICE_KEY, 45);
    let product = hb_product("HB-IMG-1", 10);
    let item = hb_wire_item(&product, Push::Create, hb::TEST_MERCHANT_ID).unwrap();
    let tracking = client.submit(Push::Create, &[&*item]).await.unwrap();
    let outcome = client
        .batch_result(Push::Create, &tracking, &[])
        .await
        .unwrap();
    assert!(matches!(outcome, BatchOutcome::Done { .. }), "{outcome:?}");
    let listing = fake.listing("HB-IMG-1").expect("imported");
    for i in 1..=10 {
        assert_eq!(
            listing.attributes[format!("Image{i}")],
            format!("https://cdn.example.com/HB-IMG-1/{i}.jpg")
        );
    }
    assert_eq!(
        listing.attributes["Video1"],
        "https://cdn.example.com/HB-IMG-1/tanitim.mp4"
    );
}

/// Item 9. Third-party clients disagree on the upload status words' case
/// (`PROCESSING`/`COMPLETED` vs `Processing`/`Done`/`Failed`): either is
/// read, and a word neither uses is an error that names it — not
/// "still processing" for ever.
#[tokio::test]
async fn hepsiburada_upload_status_words_in_any_case_unknown_reported() {
    let fake = HepsiburadaFake::start().await;
    fake.set_polls_to_complete(2);
    let client = hb_catalog(&fake, hb::TEST_SERVICE_KEY, 45);
    let product = hb_product("HB-WORD-1", 1);
    let create = hb_wire_item(&product, Push::Create, hb::TEST_MERCHANT_ID).unwrap();
    client.submit(Push::Create, &[&*create]).await.unwrap();
    let price = hb_wire_item(&product, Push::Price, hb::TEST_MERCHANT_ID).unwrap();
    let sent = vec!["HB-WORD-1".to_string()];
    fake.set_upload_status_words(hb::TITLE_CASE_WORDS);
    let id = client.submit(Push::Price, &[&*price]).await.unwrap();
    assert_eq!(
        client.batch_result(Push::Price, &id, &sent).await.unwrap(),
        BatchOutcome::Pending,
        "Processing"
    );
    assert!(
        matches!(
            client.batch_result(Push::Price, &id, &sent).await.unwrap(),
            BatchOutcome::Done {
                others_ok: true,
                ..
            }
        ),
        "Done"
    );
    fake.set_upload_status_words(["Queued", "Queued", "Queued", "Queued"]);
    let id = client.submit(Push::Price, &[&*price]).await.unwrap();
    let err = client
        .batch_result(Push::Price, &id, &sent)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"Queued\""), "{err}");
}

// ------------------------------------------------------------------
// Issue 17 item 7: Trendyol's service-group limits and the per-barcode
// price rule, with the real catalog client against the corrected fake.

fn ty_catalog(
    fake: &TrendyolFake,
    tier: TrendyolTier,
    workers: u32,
    group_window: Duration,
) -> TrendyolCatalog {
    let settings = TrendyolSettings {
        listing_tier: tier,
        catalog_workers: workers,
        group_window,
        ..ty_settings(fake, ty::TEST_API_SECRET, ty::TEST_USER_AGENT)
    };
    TrendyolCatalog::new(HttpLayer::new(fast_http_settings()), &settings).unwrap()
}

use serde_json::value::RawValue;

fn raw_item(json: String) -> Box<RawValue> {
    RawValue::from_string(json).unwrap()
}

/// Trendyol, service limits effective 14 September 2026: "Rate limits are
/// applied commonly across the following service groups, not on a
/// per-endpoint basis … after 50 Product Transfers + 100 Product Updates + 50
/// Product Deletions, no new requests for this group can be sent within the
/// same minute." Creates and content updates share one budget.
#[tokio::test]
async fn trendyol_creates_and_updates_share_the_write_group_limit() {
    let fake = TrendyolFake::start().await;
    // The fake: 12 writes per second in all (a scaled-down minute). The
    // client: the lowest tier's 200 per window over 20 workers = 10.
    fake.set_group_limits(&[(ty::ServiceGroup::Write, 12)], Duration::from_secs(1));
    let client = ty_catalog(&fake, TrendyolTier::Limit100k, 20, Duration::from_secs(1));
    let create = raw_item(r#"{"barcode":"GRP-1"}"#.into());
    let content = raw_item(r#"{"contentId":1}"#.into());
    let (create, content): (&[&RawValue], &[&RawValue]) = (&[&*create], &[&*content]);
    let sends = (0..12).flat_map(|_| {
        [
            client.submit(Push::Create, create),
            client.submit(Push::Content, content),
        ]
    });
    let results = futures::future::join_all(sends).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.group_throttled(ty::ServiceGroup::Write), 0);
}

/// Trendyol, same page: "There is a barcode-based limit of 30 req/min for
/// price update". The 31st price update of a barcode within the minute is
/// held back by the client (RateLimited, sent later), never sent.
#[tokio::test]
async fn trendyol_price_updates_are_held_to_thirty_per_barcode_per_minute() {
    let fake = TrendyolFake::start().await;
    let client = ty_catalog(&fake, TrendyolTier::Unlimited, 1, Duration::from_secs(60));
    for n in 0..30 {
        let item = raw_item(format!(
            r#"{{"barcode":"PRC-1","salePrice":{}.5,"listPrice":200}}"#,
            100 + n
        ));
        client.submit(Push::Price, &[&*item]).await.unwrap();
    }
    let item = raw_item(r#"{"barcode":"PRC-1","salePrice":199.5,"listPrice":200}"#.into());
    assert_eq!(
        failure(client.submit(Push::Price, &[&*item]).await),
        ProviderFailure::RateLimited
    );
    // Stock alone is no price update; another barcode is not held back.
    let stock = raw_item(r#"{"barcode":"PRC-1","quantity":3}"#.into());
    client.submit(Push::Stock, &[&*stock]).await.unwrap();
    let other = raw_item(r#"{"barcode":"PRC-2","salePrice":10,"listPrice":10}"#.into());
    client.submit(Push::Price, &[&*other]).await.unwrap();
    assert_eq!(fake.price_rule_refusals(), 0, "the fake never saw a 31st");
    assert_eq!(
        fake.request_count(ty::PRICE_AND_INVENTORY),
        32,
        "30 + stock + other barcode"
    );
}

// ------------------------------------ Hepsiburada packaging (H13, issue 13)

use ayaztrade::providers::marketplace::hepsiburada::orders::packages::PackLine;

/// The package create and list as the fake serves them (the checks
/// docs/marketplace-wire.md H13 names), and the client's read-back paging
/// through the list ten at a time with `Offset`.
#[tokio::test]
async fn hepsiburada_packaging_is_checked_and_read_back_page_by_page() {
    let fake = HepsiburadaFake::start().await;
    let list = |query: &str| {
        let fake = fake.clone();
        let path = format!("/packages/merchantid/{}?{query}", hb::TEST_MERCHANT_ID);
        async move { send(&fake.oms_base_url, "GET", &path, &hb_headers(), b"").await }
    };
    let create_path = format!("/packages/merchantid/{}", hb::TEST_MERCHANT_ID);
    let create = |body: Value| {
        let (fake, path) = (fake.clone(), create_path.clone());
        async move {
            send(
                &fake.oms_base_url,
                "POST",
                &path,
                &hb_headers(),
                body.to_string().as_bytes(),
            )
            .await
        }
    };
    // Twelve packed orders, then one open order of two lines.
    let mut packed = Vec::new();
    for i in 0..12 {
        let order = fake.add_order_lines(&[(&format!("PKG-{i}"), 1, 10.0)]);
        fake.add_package(&order.order_number);
        packed.push(order.line_id(&format!("PKG-{i}")));
    }
    let open = fake.add_order_lines(&[("PKG-A", 2, 10.0), ("PKG-B", 1, 10.0)]);
    let (a, b) = (open.line_id("PKG-A"), open.line_id("PKG-B"));

    // Credentials and User-Agent as every oms call.
    let path = format!("/packages/merchantid/{}?limit=10", hb::TEST_MERCHANT_ID);
    let wrong_ua = vec![
        (
            "authorization",
            basic(hb::TEST_MERCHANT_ID, hb::TEST_SERVICE_KEY),
        ),
        ("user-agent", "someone-else".to_string()),
    ];
    let reply = send(&fake.oms_base_url, "GET", &path, &wrong_ua, b"").await;
    assert_eq!(reply.status, 401);
    let reply = send(&fake.oms_base_url, "GET", &path, &[], b"").await;
    assert_eq!(reply.status, 401);

    // limit: below 1 refused, above 10 served as 10; `Offset` with a
    // capital O (a lower-case one is not read); timespan in hours back.
    assert_eq!(list("limit=0").await.status, 400);
    let page = list("limit=50").await;
    assert_eq!(page.json().as_array().unwrap().len(), 10, "at most 10");
    let second = list("limit=10&Offset=10").await.json();
    assert_eq!(second.as_array().unwrap().len(), 2);
    assert_eq!(second[1]["items"][0]["lineItemId"], packed[11].as_str());
    assert_eq!(second[1]["items"][0]["quantity"], 1);
    let lower = list("limit=10&offset=10").await.json();
    assert_eq!(lower.as_array().unwrap().len(), 10, "offset is not Offset");
    fake.set_clock_offset(2 * HOUR_MS as i64);
    assert!(list("timespan=1")
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        list("timespan=3&Offset=10")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    fake.set_clock_offset(0);

    // The create: a body naming lines, every line known, open, whole and
    // of one order; refusals are JSON strings.
    for (body, status) in [
        (serde_json::json!({}), 400),
        (
            serde_json::json!({"lineItemRequests": [{"id": a, "quantity": 0}]}),
            400,
        ),
        (
            serde_json::json!({"lineItemRequests": [{"id": "no-such-line", "quantity": 1}]}),
            404,
        ),
        (
            serde_json::json!({"lineItemRequests": [{"id": packed[0], "quantity": 1}]}),
            400,
        ),
        (
            serde_json::json!({"lineItemRequests": [{"id": a, "quantity": 1}]}),
            400,
        ),
        (
            serde_json::json!({"lineItemRequests": [{"id": a, "quantity": 2}, {"id": packed[1], "quantity": 1}]}),
            400,
        ),
    ] {
        let reply = create(body.clone()).await;
        assert_eq!(reply.status, status, "{body}");
        assert!(reply.json().is_string(), "{body}: {}", reply.json());
    }
    assert!(fake.created_packages().is_empty(), "nothing made");
    let reply = create(serde_json::json!({
        "lineItemRequests": [{"id": a, "quantity": 2}, {"id": b, "quantity": 1}],
        "parcelQuantity": 1, "deci": 2.5
    }))
    .await;
    assert_eq!(reply.status, 201);
    let made = reply.json();
    let number = made["packageNumber"].as_str().unwrap().to_string();
    assert!(made["barcode"].is_string(), "{made}");
    assert_eq!(fake.created_packages(), std::slice::from_ref(&number));
    // Packed lines leave the paid-order list.
    let open_lines = hb_orders(&fake, "offset=0&limit=100").await.json();
    assert!(
        !open_lines["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == a.as_str() || i["id"] == b.as_str()),
        "{open_lines}"
    );

    // The client finds the package on the list's second page, by exactly
    // its lines; other lines or quantities find nothing.
    let client = hb_client(&fake, hb::TEST_SERVICE_KEY);
    let line = |id: &str, quantity| PackLine {
        line_id: id.into(),
        quantity,
    };
    let found = client
        .package_holding(&[line(&b, 1), line(&a, 2)])
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.package_number, number);
    let reads = fake.package_list_request_count();
    assert_eq!(client.package_holding(&[line(&a, 2)]).await.unwrap(), None);
    assert_eq!(
        fake.package_list_request_count() - reads,
        2,
        "13 packages: two pages of ten"
    );
    fake.set_package_status(&number, "Unpacked");
    assert_eq!(
        client
            .package_holding(&[line(&a, 2), line(&b, 1)])
            .await
            .unwrap(),
        None,
        "an unpacked package holds nothing"
    );
}
