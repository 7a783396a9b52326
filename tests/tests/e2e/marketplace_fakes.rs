//! The Trendyol and Hepsiburada fakes, driven over plain HTTP/1.1 (a raw
//! TcpStream client, so these tests depend on no production client code).

use std::time::{Duration, Instant};

use ayaztrade_tests::hepsiburada_fake::{self as hb, HepsiburadaFake};
use ayaztrade_tests::raw_http::{basic, hb_headers, send, Reply};
use ayaztrade_tests::trendyol_fake::{self as ty, EndpointKind, Fault, Kind, TrendyolFake};
use serde_json::{json, Value};

fn ty_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "authorization",
            basic(ty::TEST_API_KEY, ty::TEST_API_SECRET),
        ),
        ("user-agent", ty::TEST_USER_AGENT.to_string()),
        ("content-type", "application/json".to_string()),
    ]
}

async fn ty_post(fake: &TrendyolFake, path: &str, body: &Value) -> Reply {
    send(
        &fake.base_url,
        "POST",
        path,
        &ty_headers(),
        body.to_string().as_bytes(),
    )
    .await
}

async fn ty_get(fake: &TrendyolFake, path: &str) -> Reply {
    send(&fake.base_url, "GET", path, &ty_headers(), b"").await
}

fn create_path() -> String {
    format!(
        "/integration/product/sellers/{}/v2/products",
        ty::TEST_SELLER_ID
    )
}

fn inventory_path() -> String {
    format!(
        "/integration/inventory/sellers/{}/products/price-and-inventory",
        ty::TEST_SELLER_ID
    )
}

fn batch_path(id: &str) -> String {
    format!(
        "/integration/product/sellers/{}/products/batch-requests/{id}",
        ty::TEST_SELLER_ID
    )
}

fn ty_product(barcode: &str) -> Value {
    json!({
        "barcode": barcode, "title": format!("Tişört {barcode}"), "productMainId": format!("MAIN-{barcode}"),
        "brandId": ty::DEFAULT_BRAND_ID, "categoryId": ty::DEFAULT_CATEGORY_ID, "quantity": 10,
        "stockCode": format!("STK-{barcode}"), "dimensionalWeight": 2, "description": "Pamuklu tişört",
        "currencyType": "TRY", "listPrice": 249.99, "salePrice": 199.99, "vatRate": 20,
        "images": [{"url": "https://cdn.example.com/a.jpg"}],
        "attributes": [
            {"attributeId": ty::ATTR_COLOR, "attributeValue": "Kırmızı"},
            {"attributeId": ty::ATTR_SIZE, "attributeValueIds": [4603]},
        ],
    })
}

async fn ty_batch_id(reply: Reply) -> String {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["batchRequestId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn trendyol_checks_auth_user_agent_and_seller() {
    let fake = TrendyolFake::start().await;
    let path = "/integration/product/brands/by-name?name=AyazTrade";
    let ua = ("user-agent", ty::TEST_USER_AGENT.to_string());
    let no_auth = send(&fake.base_url, "GET", path, std::slice::from_ref(&ua), b"").await;
    assert_eq!(no_auth.status, 401);
    assert_eq!(
        no_auth.json()["exception"],
        "ClientApiAuthenticationException"
    );
    let wrong = send(
        &fake.base_url,
        "GET",
        path,
        &[ua, ("authorization", basic(ty::TEST_API_KEY, "nope"))],
        b"",
    )
    .await;
    assert_eq!(wrong.status, 401);
    let auth = (
        "authorization",
        basic(ty::TEST_API_KEY, ty::TEST_API_SECRET),
    );
    let no_ua = send(
        &fake.base_url,
        "GET",
        path,
        std::slice::from_ref(&auth),
        b"",
    )
    .await;
    assert_eq!(no_ua.status, 403);
    let other_seller = send(
        &fake.base_url,
        "GET",
        path,
        &[auth.clone(), ("user-agent", "999 - SelfIntegration".into())],
        b"",
    )
    .await;
    assert_eq!(other_seller.status, 403);
    let ok = ty_get(&fake, path).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.json(),
        json!([{"id": ty::DEFAULT_BRAND_ID, "name": "AyazTrade"}])
    );
    assert_eq!(
        ty_get(&fake, "/integration/product/brands/by-name?name=ayaztrade")
            .await
            .json(),
        json!([])
    );
    let foreign = ty_post(
        &fake,
        "/integration/product/sellers/42/v2/products",
        &json!({"items": [ty_product("B-1")]}),
    )
    .await;
    assert_eq!(foreign.status, 403);
    assert_eq!(fake.request_count(ty::BRAND_BY_NAME), 6);
    assert_eq!(fake.product_count(), 0);
}

#[tokio::test]
async fn trendyol_enforces_the_item_limit() {
    let fake = TrendyolFake::start().await;
    let items: Vec<Value> = (0..1001).map(|i| ty_product(&format!("LIM-{i}"))).collect();
    let too_many = ty_post(&fake, &create_path(), &json!({ "items": items })).await;
    assert_eq!(too_many.status, 400);
    assert_eq!(too_many.json()["exception"], "ClientApiBusinessException");
    let empty = ty_post(&fake, &create_path(), &json!({"items": []})).await;
    assert_eq!(empty.status, 400);
    assert_eq!(fake.product_count(), 0);
    let id =
        ty_batch_id(ty_post(&fake, &create_path(), &json!({ "items": items[..1000] })).await).await;
    let result = ty_get(&fake, &batch_path(&id)).await.json();
    assert_eq!(result["itemCount"], 1000);
    assert_eq!(result["failedItemCount"], 0);
    assert_eq!(fake.product_count(), 1000);
}

#[tokio::test]
async fn trendyol_batch_lifecycle() {
    let fake = TrendyolFake::start().await;
    fake.set_polls_to_complete(2);
    // Category data as a client would read it.
    let attrs = ty_get(
        &fake,
        &format!(
            "/integration/product/categories/{}/attributes",
            ty::DEFAULT_CATEGORY_ID
        ),
    )
    .await
    .json();
    assert_eq!(attrs["categoryAttributes"].as_array().unwrap().len(), 3);
    assert!(attrs["categoryAttributes"][0]
        .get("attributeValues")
        .is_none());
    let values = ty_get(
        &fake,
        &format!(
            "/integration/product/categories/{}/attributes/{}/values",
            ty::DEFAULT_CATEGORY_ID,
            ty::ATTR_SIZE
        ),
    )
    .await
    .json();
    assert_eq!(
        values["content"][1],
        json!({"attributeValueId": 4603, "attributeValueName": "M"})
    );
    assert_eq!(
        ty_get(&fake, "/integration/product/categories/1/attributes")
            .await
            .status,
        404
    );
    assert_eq!(
        ty_get(
            &fake,
            &format!(
                "/integration/product/categories/{}/attributes",
                ty::PARENT_CATEGORY_ID
            )
        )
        .await
        .status,
        400
    );

    let mut bad = ty_product("BAD-1");
    bad["vatRate"] = json!(18);
    bad["salePrice"] = json!(300.5);
    bad["attributes"] = json!([{"attributeId": ty::ATTR_SIZE, "attributeValueId": 4603}]);
    let mut float_bug = ty_product("BAD-2");
    float_bug["listPrice"] = json!(0.1 + 0.2);
    let body = json!({"items": [ty_product("OK-1"), bad, float_bug, ty_product("OK-1")]});
    let id = ty_batch_id(ty_post(&fake, &create_path(), &body).await).await;
    let first = ty_get(&fake, &batch_path(&id)).await.json();
    assert_eq!(first["status"], "IN_PROGRESS");
    assert_eq!(first["items"], json!([]));
    let done = ty_get(&fake, &batch_path(&id)).await.json();
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["batchRequestType"], "ProductV2OnBoarding");
    assert_eq!(done["itemCount"], 4);
    assert_eq!(done["failedItemCount"], 3);
    let items = done["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], "SUCCESS");
    assert_eq!(items[0]["requestItem"]["barcode"], "OK-1");
    let reasons = items[1]["failureReasons"].to_string();
    assert!(
        reasons.contains("vatRate") && reasons.contains("listPrice") && reasons.contains("v1"),
        "{reasons}"
    );
    assert!(items[2]["failureReasons"].to_string().contains("ondalık"));
    assert!(items[3]["failureReasons"].to_string().contains("daha önce"));
    assert_eq!(fake.accepted("OK-1").create, 1);
    assert!(fake.product("BAD-1").is_none());

    // Content update goes by contentId, found through the product lookup.
    let info = ty_get(
        &fake,
        &format!(
            "/integration/product/sellers/{}/product/OK-1",
            ty::TEST_SELLER_ID
        ),
    )
    .await
    .json();
    assert_eq!(info["approved"], true);
    let content_id = info["contentId"].as_i64().unwrap();
    fake.set_polls_to_complete(1);
    let content = json!({"items": [{"contentId": content_id, "title": "Yeni başlık"}, {"contentId": 1, "title": "x"}]});
    let id = ty_batch_id(
        ty_post(
            &fake,
            &format!(
                "/integration/product/sellers/{}/products/content-bulk-update",
                ty::TEST_SELLER_ID
            ),
            &content,
        )
        .await,
    )
    .await;
    let done = ty_get(&fake, &batch_path(&id)).await.json();
    assert_eq!(done["items"][0]["status"], "SUCCESS");
    assert_eq!(done["items"][1]["status"], "FAILED");
    assert_eq!(fake.product("OK-1").unwrap().title, "Yeni başlık");
    assert_eq!(fake.accepted_count("OK-1", Kind::Content), 1);

    // Price and stock; the result has no top-level status.
    let inv = json!({"items": [
        {"barcode": "OK-1", "quantity": 7, "salePrice": 149.9, "listPrice": 199.9},
        {"barcode": "OK-1", "quantity": 20001},
        {"barcode": "NEVER", "quantity": 1},
        {"barcode": "OK-1", "salePrice": 500.0},
    ]});
    let id = ty_batch_id(ty_post(&fake, &inventory_path(), &inv).await).await;
    let done = ty_get(&fake, &batch_path(&id)).await.json();
    assert!(done.get("status").is_none());
    let statuses: Vec<&str> = done["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["SUCCESS", "FAILED", "FAILED", "FAILED"]);
    let p = fake.product("OK-1").unwrap();
    assert_eq!((p.quantity, p.sale_price, p.list_price), (7, 149.9, 199.9));
    assert_eq!(fake.accepted("OK-1").price, 1);
    assert_eq!(fake.accepted("OK-1").stock, 1);
    assert!(fake.accepted_more_than_once(Kind::Create).is_empty());
    assert_eq!(ty_get(&fake, &batch_path("nope")).await.status, 404);
}

#[tokio::test]
async fn trendyol_rejects_an_identical_price_body_within_the_window() {
    let fake = TrendyolFake::start().await;
    ty_batch_id(
        ty_post(
            &fake,
            &create_path(),
            &json!({"items": [ty_product("DUP-1")]}),
        )
        .await,
    )
    .await;
    fake.set_duplicate_window(Duration::from_millis(300));
    let body = json!({"items": [{"barcode": "DUP-1", "quantity": 3}]});
    ty_batch_id(ty_post(&fake, &inventory_path(), &body).await).await;
    let again = ty_post(&fake, &inventory_path(), &body).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json()["errors"][0]["message"],
        ty::DUPLICATE_BODY_MESSAGE
    );
    // Different bytes (same meaning) are a different body.
    let spaced = br#"{"items": [{"barcode": "DUP-1", "quantity": 3}] }"#;
    let r = send(
        &fake.base_url,
        "POST",
        &inventory_path(),
        &ty_headers(),
        spaced,
    )
    .await;
    assert_eq!(r.status, 200);
    tokio::time::sleep(Duration::from_millis(350)).await;
    ty_batch_id(ty_post(&fake, &inventory_path(), &body).await).await;
    assert_eq!(fake.accepted_count("DUP-1", Kind::Stock), 3);
}

#[tokio::test]
async fn trendyol_rate_limits_per_endpoint() {
    let fake = TrendyolFake::start().await;
    fake.set_rate_limit(5, Duration::from_millis(500));
    let path = "/integration/product/brands/by-name?name=AyazTrade";
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(ty_get(&fake, path).await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert_eq!(fake.throttled_count(), 2);
    assert_eq!(fake.throttled_count_for(ty::BRAND_BY_NAME), 2);
    // Another endpoint has its own window.
    assert_eq!(
        ty_get(
            &fake,
            &format!(
                "/integration/product/categories/{}/attributes",
                ty::DEFAULT_CATEGORY_ID
            )
        )
        .await
        .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(ty_get(&fake, path).await.status, 200);
    let arrivals = fake.arrivals(ty::BRAND_BY_NAME);
    assert_eq!(arrivals.len(), 8);
    assert!(arrivals.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn trendyol_faults_never_process() {
    let fake = TrendyolFake::start().await;
    let body = json!({"items": [ty_product("F-1")]});
    fake.push_fault(Fault::Status(503));
    fake.push_fault(Fault::Malformed);
    fake.push_fault(Fault::Timeout(Duration::from_millis(50)));
    fake.push_fault(Fault::Status(429));
    assert_eq!(ty_post(&fake, &create_path(), &body).await.status, 503);
    let malformed = ty_post(&fake, &create_path(), &body).await;
    assert_eq!(malformed.status, 200);
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());
    let started = Instant::now();
    assert_eq!(ty_post(&fake, &create_path(), &body).await.status, 504);
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(ty_post(&fake, &create_path(), &body).await.status, 429);
    assert_eq!(fake.product_count(), 0);
    assert_eq!(fake.batch_count(), 0);
    let id = ty_batch_id(ty_post(&fake, &create_path(), &body).await).await;
    assert_eq!(fake.accepted("F-1").create, 1);
    assert_eq!(fake.faults_injected(), 4);

    // Random mode, kept away from the status polls.
    fake.set_faults_hit(EndpointKind::Status, false);
    fake.set_failure_rate(1.0, 7);
    assert_ne!(
        ty_post(
            &fake,
            &create_path(),
            &json!({"items": [ty_product("F-2")]})
        )
        .await
        .status,
        200
    );
    assert_eq!(ty_get(&fake, &batch_path(&id)).await.status, 200);
    fake.set_failure_rate(0.0, 0);
    assert!(fake.product("F-2").is_none());
    let recorded = fake.requests();
    assert_eq!(recorded.len(), 7);
    assert_eq!(recorded[0].status, 503);
    assert_eq!(recorded[0].endpoint, Some(ty::CREATE_PRODUCTS));
    assert_eq!(recorded[0].user_agent.as_deref(), Some(ty::TEST_USER_AGENT));
}

#[tokio::test]
async fn trendyol_handles_ten_thousand_products() {
    let fake = TrendyolFake::start().await;
    let started = Instant::now();
    for chunk in 0..10 {
        let items: Vec<Value> = (0..1000)
            .map(|i| ty_product(&format!("BULK-{chunk}-{i}")))
            .collect();
        ty_batch_id(ty_post(&fake, &create_path(), &json!({ "items": items })).await).await;
        let inv: Vec<Value> = (0..1000)
            .map(|i| json!({"barcode": format!("BULK-{chunk}-{i}"), "quantity": i}))
            .collect();
        ty_batch_id(ty_post(&fake, &inventory_path(), &json!({ "items": inv })).await).await;
    }
    assert_eq!(fake.product_count(), 10_000);
    assert_eq!(fake.product("BULK-9-999").unwrap().quantity, 999);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

// ------------------------------------------------------------- Hepsiburada

fn hb_product(sku: &str) -> Value {
    json!({"categoryId": hb::DEFAULT_CATEGORY_ID, "merchant": hb::TEST_MERCHANT_ID, "attributes": {
        "merchantSku": sku, "VaryantGroupID": "GRP-1", "Barcode": format!("BC-{sku}"), "UrunAdi": "Tişört",
        "UrunAciklamasi": "Pamuklu tişört", "Marka": "AyazTrade", "GarantiSuresi": 24, "kg": "1",
        "tax_vat_rate": "20", "price": "130,50", "stock": "13", "Image1": "https://cdn.example.com/a.jpg",
        hb::ATTR_COLOR: "Mavi",
    }})
}

async fn hb_import(fake: &HepsiburadaFake, products: &Value) -> Reply {
    let boundary = "----fakeboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"integrator.json\"\r\nContent-Type: application/json\r\n\r\n{products}\r\n--{boundary}--\r\n"
    )
    .into_bytes();
    body.shrink_to_fit();
    let mut headers = hb_headers();
    headers.push((
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    ));
    send(
        &fake.mpop_base_url,
        "POST",
        "/product/api/products/import?version=1",
        &headers,
        &body,
    )
    .await
}

async fn hb_listing(fake: &HepsiburadaFake, method: &str, path: &str, body: &Value) -> Reply {
    let mut headers = hb_headers();
    headers.push(("content-type", "application/json".into()));
    let bytes = if method == "GET" {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    send(&fake.listing_base_url, method, path, &headers, &bytes).await
}

#[tokio::test]
async fn hepsiburada_checks_auth_user_agent_and_hosts() {
    let fake = HepsiburadaFake::start().await;
    let path = format!(
        "/product/api/categories/{}/attributes",
        hb::DEFAULT_CATEGORY_ID
    );
    let ua = ("user-agent", hb::TEST_INTEGRATOR_USERNAME.to_string());
    assert_eq!(
        send(&fake.mpop_base_url, "GET", &path, &[ua], b"")
            .await
            .status,
        401
    );
    let auth = (
        "authorization",
        basic(hb::TEST_MERCHANT_ID, hb::TEST_SERVICE_KEY),
    );
    let prefixed = (
        "user-agent",
        format!("{} - ayaztrade_dev", hb::TEST_MERCHANT_ID),
    );
    // A wrong User-Agent is 401, like wrong credentials (issue 17 reads
    // Hepsiburada's OpenAPI documents so; docs/marketplace-wire.md H10).
    assert_eq!(
        send(
            &fake.mpop_base_url,
            "GET",
            &path,
            &[auth.clone(), prefixed],
            b""
        )
        .await
        .status,
        401
    );
    let ok = send(&fake.mpop_base_url, "GET", &path, &hb_headers(), b"").await;
    assert_eq!(ok.status, 200);
    let data = &ok.json()["data"];
    assert!(data["baseAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == "UrunAdi" && a["mandatory"] == true));
    assert_eq!(data["variantAttributes"][0]["type"], "enum");
    assert_eq!(
        send(
            &fake.mpop_base_url,
            "GET",
            "/product/api/categories/1/attributes",
            &hb_headers(),
            b""
        )
        .await
        .status,
        404
    );
    // Catalog paths are not served on the listing host.
    assert_eq!(
        send(&fake.listing_base_url, "GET", &path, &hb_headers(), b"")
            .await
            .status,
        404
    );
    let other = "/listings/merchantid/00000000-0000-0000-0000-000000000000/stock-uploads";
    assert_eq!(
        hb_listing(&fake, "POST", other, &json!([])).await.status,
        403
    );
}

#[tokio::test]
async fn hepsiburada_import_then_price_and_stock() {
    let fake = HepsiburadaFake::start().await;
    fake.set_polls_to_complete(2);
    let mut missing = hb_product("SKU-2");
    missing["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("Marka");
    let reply = hb_import(&fake, &json!([hb_product("SKU-1"), missing])).await;
    assert_eq!(reply.status, 200);
    let tracking = reply.json()["data"]["trackingId"]
        .as_str()
        .unwrap()
        .to_string();
    let status_path = format!("/product/api/products/status/{tracking}?page=0&size=100");
    let first = send(&fake.mpop_base_url, "GET", &status_path, &hb_headers(), b"")
        .await
        .json();
    assert_eq!(first["data"][0]["importStatus"], "PROCESSING");
    let done = send(&fake.mpop_base_url, "GET", &status_path, &hb_headers(), b"")
        .await
        .json();
    assert_eq!(done["data"][0]["importStatus"], "SUCCESS");
    assert_eq!(done["data"][1]["importStatus"], "FAILED");
    assert_eq!(
        done["data"][1]["validationResults"][0]["attributeName"],
        "Marka"
    );
    assert_eq!(fake.listing("SKU-1").unwrap().price, Some(130.5));
    assert!(fake.listing("SKU-2").is_none());
    // A raw JSON body is not the import format.
    let mut headers = hb_headers();
    headers.push(("content-type", "application/json".into()));
    let raw = send(
        &fake.mpop_base_url,
        "POST",
        "/product/api/products/import",
        &headers,
        json!([hb_product("SKU-3")]).to_string().as_bytes(),
    )
    .await;
    assert_eq!(raw.status, 400);

    fake.set_polls_to_complete(1);
    fake.set_price_bounds(10.0, 1000.0);
    let prices = format!(
        "/listings/merchantid/{}/price-uploads",
        hb::TEST_MERCHANT_ID
    );
    let body = json!([
        {"merchantSku": "SKU-1", "price": 149.9},
        {"merchantSku": "SKU-1", "price": "149,90"},
        {"merchantSku": "NOPE", "price": 10.0},
        {"merchantSku": "SKU-1", "price": 5000.0},
    ]);
    let id = hb_listing(&fake, "POST", &prices, &body).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let result = hb_listing(&fake, "GET", &format!("{prices}/id/{id}"), &Value::Null)
        .await
        .json();
    assert_eq!(result["status"], "COMPLETED_WITH_ERRORS");
    assert_eq!(result["total"], 4);
    let failed: Vec<i64> = result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["elementNo"].as_i64().unwrap())
        .collect();
    assert_eq!(failed, [1, 2]);
    assert_eq!(result["priceValidations"][0]["type"], "MaxPrice");
    assert_eq!(fake.listing("SKU-1").unwrap().price, Some(149.9));
    assert_eq!(fake.accepted("SKU-1").price, 1);

    let stock = format!(
        "/listings/merchantid/{}/stock-uploads",
        hb::TEST_MERCHANT_ID
    );
    let id = hb_listing(
        &fake,
        "POST",
        &stock,
        &json!([{"merchantSku": "SKU-1", "availableStock": 4}]),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let result = hb_listing(&fake, "GET", &format!("{stock}/id/{id}"), &Value::Null)
        .await
        .json();
    assert_eq!(result["status"], "COMPLETED");
    assert!(result.get("priceValidations").is_none());
    assert_eq!(fake.listing("SKU-1").unwrap().stock, Some(4));
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({"merchantSku": "SKU-1", "availableStock": 1}))
        .collect();
    assert_eq!(
        hb_listing(&fake, "POST", &stock, &Value::Array(too_many))
            .await
            .status,
        400
    );

    // Re-import is an update, not a second create.
    hb_import(&fake, &json!([hb_product("SKU-1")])).await;
    assert_eq!(fake.accepted("SKU-1").create, 1);
    assert_eq!(fake.accepted("SKU-1").content, 1);
}

#[tokio::test]
async fn hepsiburada_rate_limit_and_faults() {
    let fake = HepsiburadaFake::start().await;
    fake.set_endpoint_rate_limit(hb::STOCK_UPLOAD, 2, Duration::from_secs(5));
    let stock = format!(
        "/listings/merchantid/{}/stock-uploads",
        hb::TEST_MERCHANT_ID
    );
    let body = json!([{"merchantSku": "X", "availableStock": 1}]);
    assert_eq!(hb_listing(&fake, "POST", &stock, &body).await.status, 200);
    assert_eq!(hb_listing(&fake, "POST", &stock, &body).await.status, 200);
    let limited = hb_listing(&fake, "POST", &stock, &body).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(fake.throttled_count(), 1);

    fake.push_fault(Fault::Status(500));
    assert_eq!(
        hb_import(&fake, &json!([hb_product("F-1")])).await.status,
        500
    );
    assert!(fake.listing("F-1").is_none());
    assert_eq!(
        hb_import(&fake, &json!([hb_product("F-1")])).await.status,
        200
    );
    assert_eq!(fake.accepted_count("F-1", Kind::Create), 1);
    assert_eq!(fake.request_count(hb::PRODUCT_IMPORT), 2);
}

/// Issue 17 item 10 (the fake as strict as Hepsiburada): the package read
/// answers one object; query names are case-sensitive (the changelog's order
/// list example reads `?offset=0&limit=100`); the listing host serves only
/// `/merchantid/`; an ISO date on the order list gets 200 with an empty page.
#[tokio::test]
async fn hepsiburada_fake_is_as_strict_as_hepsiburada() {
    let fake = HepsiburadaFake::start().await;
    let order = fake.add_order_lines(&[("SKU-P", 1, 10.0)]);
    let package = fake.add_package(&order.order_number);
    let read = send(
        &fake.oms_base_url,
        "GET",
        &format!(
            "/packages/merchantid/{}/packagenumber/{package}",
            hb::TEST_MERCHANT_ID
        ),
        &hb_headers(),
        b"",
    )
    .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["packageNumber"], package.as_str(), "one object");
    let list = |query: &str| format!("/orders/merchantid/{}?{query}", hb::TEST_MERCHANT_ID);
    let capital = send(
        &fake.oms_base_url,
        "GET",
        &list("Offset=0&limit=100"),
        &hb_headers(),
        b"",
    )
    .await;
    assert_eq!(capital.status, 400, "Offset is not offset");
    assert!(String::from_utf8_lossy(&capital.body).contains(hb::LIMIT_OFFSET_REQUIRED));
    let iso = send(
        &fake.oms_base_url,
        "GET",
        &list("offset=0&limit=100&begindate=2026-11-20T00:00:00Z&enddate=2026-11-20T23:59:00Z"),
        &hb_headers(),
        b"",
    )
    .await;
    assert_eq!(iso.status, 200);
    assert_eq!(iso.json()["items"], json!([]), "an empty page, not a 400");
    let camel = format!(
        "/listings/merchantId/{}/stock-uploads",
        hb::TEST_MERCHANT_ID
    );
    assert_eq!(
        hb_listing(&fake, "POST", &camel, &json!([])).await.status,
        404
    );
}

/// Issue 17 items 6, 8, 9 on the fake itself (quoted where the client tests
/// are, tests/tests/marketplace_order_fakes.rs): the catalog host's 100 per
/// second answered with 403, `Image10` and `Video1` accepted and `Image11`
/// refused, upload status words as configured.
#[tokio::test]
async fn hepsiburada_fake_catalog_limit_images_and_words() {
    let fake = HepsiburadaFake::start().await;
    fake.set_catalog_rate_limit(Some((2, Duration::from_secs(10))));
    let path = format!(
        "/product/api/categories/{}/attributes",
        hb::DEFAULT_CATEGORY_ID
    );
    let mut statuses = vec![];
    for _ in 0..3 {
        statuses.push(
            send(&fake.mpop_base_url, "GET", &path, &hb_headers(), b"")
                .await
                .status,
        );
    }
    assert_eq!(statuses, [200, 200, 403]);
    assert_eq!(fake.catalog_throttled_count(), 1);
    fake.set_catalog_rate_limit(None);

    let mut ten = hb_product("SKU-TEN");
    ten["attributes"]["Image10"] = "https://cdn.example.com/10.jpg".into();
    ten["attributes"]["Video1"] = "https://cdn.example.com/v.mp4".into();
    let mut eleven = hb_product("SKU-ELEVEN");
    eleven["attributes"]["Image11"] = "https://cdn.example.com/11.jpg".into();
    let reply = hb_import(&fake, &json!([ten, eleven])).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        fake.listing("SKU-TEN").unwrap().attributes["Video1"],
        "https://cdn.example.com/v.mp4"
    );
    assert!(fake.listing("SKU-ELEVEN").is_none(), "Image11 refused");

    fake.set_upload_status_words(hb::TITLE_CASE_WORDS);
    let upload = hb_listing(
        &fake,
        "POST",
        &format!(
            "/listings/merchantid/{}/stock-uploads",
            hb::TEST_MERCHANT_ID
        ),
        &json!([{"merchantSku": "SKU-TEN", "availableStock": 3}]),
    )
    .await;
    let id = upload.json()["id"].as_str().unwrap().to_string();
    let status = hb_listing(
        &fake,
        "GET",
        &format!(
            "/listings/merchantid/{}/stock-uploads/id/{id}",
            hb::TEST_MERCHANT_ID
        ),
        &json!(null),
    )
    .await;
    assert_eq!(status.json()["status"], "Done");
}

/// Issue 17 item 11: the CONFIRMED / UNCONFIRMED counts at the top of the
/// wire docs this change keeps are the document's own marks.
#[test]
fn wire_doc_counts_are_current() {
    for doc in [
        "aras-wire.md",
        "marketplace-wire.md",
        "iyzico-wire.md",
        "outbound-webhooks-wire.md",
        "parasut-wire.md",
        "stripe-wire.md",
    ] {
        let path = format!("{}/../docs/{doc}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let (header, body): (Vec<&str>, Vec<&str>) =
            text.lines().partition(|l| l.starts_with("**Counts**"));
        assert_eq!(header.len(), 1, "{doc}: one counts line");
        let body = body.join("\n");
        let unconfirmed = body.matches("UNCONFIRMED").count();
        let confirmed = body.matches("CONFIRMED").count() - unconfirmed;
        let expected = format!("{confirmed} CONFIRMED, {unconfirmed} UNCONFIRMED.");
        assert!(
            header[0].ends_with(&expected),
            "{doc}: the counts line should end with {expected:?}: {}",
            header[0]
        );
    }
}
