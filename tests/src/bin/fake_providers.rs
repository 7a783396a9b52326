//! Serves the provider fakes on fixed loopback ports for `make dev`, so the
//! functions run offline with no credentials.
//!
//!     fake-providers [--stripe-port 12111] [--iyzico-port 12112]
//!                    [--trendyol-port 12113]
//!                    [--hepsiburada-listing-port 12114] [--hepsiburada-mpop-port 12115]
//!                    [--hepsiburada-oms-port 12116] [--aras-port 12117]
//!                    [--demo-orders events/demo-products.json]
//!
//! `--demo-orders` seeds the marketplace order lists with orders for the
//! products of that file (the catalog demo's), dated now, so that the first
//! order-poll after the catalog demo takes them in and moves their stock:
//! a Trendyol package with 2 × the first product, and a Hepsiburada order
//! with 1 × the first and 1 × the second.

use ayaztrade_tests::aras_fake::{self, ArasFake};
use ayaztrade_tests::hepsiburada_fake::{self, HbLineSpec, HbOrderSpec, HepsiburadaFake};
use ayaztrade_tests::iyzico_fake::IyzicoFake;
use ayaztrade_tests::stripe_fake::{StripeFake, TEST_SECRET_KEY};
use ayaztrade_tests::trendyol_fake::{self, LineSpec, PackageSpec, TrendyolFake};
use serde_json::Value;

const USAGE: &str =
    "usage: fake-providers [--stripe-port N] [--iyzico-port N] [--trendyol-port N] \
                     [--hepsiburada-listing-port N] [--hepsiburada-mpop-port N] \
                     [--hepsiburada-oms-port N] [--aras-port N] [--demo-orders PRODUCTS.json]";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut stripe_port: u16 = 12111;
    let mut iyzico_port: u16 = 12112;
    let mut trendyol_port: u16 = 12113;
    let mut hb_listing_port: u16 = 12114;
    let mut hb_mpop_port: u16 = 12115;
    let mut hb_oms_port: u16 = 12116;
    let mut aras_port: u16 = 12117;
    let mut demo_products: Option<Vec<DemoProduct>> = None;
    while let Some(arg) = args.next() {
        let port = match arg.as_str() {
            "--demo-orders" => {
                let path = args.next().unwrap_or_else(|| {
                    eprintln!("{arg} takes a file; {USAGE}");
                    std::process::exit(2);
                });
                demo_products = Some(read_demo_products(&path).unwrap_or_else(|e| {
                    eprintln!("--demo-orders {path}: {e}");
                    std::process::exit(2);
                }));
                continue;
            }
            "--stripe-port" => &mut stripe_port,
            "--iyzico-port" => &mut iyzico_port,
            "--trendyol-port" => &mut trendyol_port,
            "--hepsiburada-listing-port" => &mut hb_listing_port,
            "--hepsiburada-mpop-port" => &mut hb_mpop_port,
            "--hepsiburada-oms-port" => &mut hb_oms_port,
            "--aras-port" => &mut aras_port,
            other => {
                eprintln!("unknown argument {other:?}; {USAGE}");
                std::process::exit(2);
            }
        };
        *port = args.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| {
            eprintln!("{arg} takes a port number; {USAGE}");
            std::process::exit(2);
        });
    }
    let local = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));

    let stripe = StripeFake::start_on(local(stripe_port)).await;
    println!(
        "stripe fake: {} (secret key {TEST_SECRET_KEY})",
        stripe.base_url
    );
    let iyzico = IyzicoFake::start_on(local(iyzico_port)).await;
    println!("iyzico fake: {}", iyzico.base_url);
    let trendyol = TrendyolFake::start_on(local(trendyol_port)).await;
    println!(
        "trendyol fake: {} (seller id {}, api key {}, api secret {})",
        trendyol.base_url,
        trendyol_fake::TEST_SELLER_ID,
        trendyol_fake::TEST_API_KEY,
        trendyol_fake::TEST_API_SECRET
    );
    let hepsiburada = HepsiburadaFake::start_on_hosts(
        local(hb_listing_port),
        local(hb_mpop_port),
        local(hb_oms_port),
    )
    .await;
    println!(
        "hepsiburada fake: listing {}, mpop {}, oms {} (merchant id {}, service key {}, user agent {})",
        hepsiburada.listing_base_url,
        hepsiburada.mpop_base_url,
        hepsiburada.oms_base_url,
        hepsiburada_fake::TEST_MERCHANT_ID,
        hepsiburada_fake::TEST_SERVICE_KEY,
        hepsiburada_fake::TEST_INTEGRATOR_USERNAME
    );
    let aras = ArasFake::start_on(local(aras_port)).await;
    println!(
        "aras fake: order service {}, query service {} (username {}, password {}, \
         query username {}, query password {}, customer code {})",
        aras.order_service_url(),
        aras.query_service_url(),
        aras_fake::USERNAME,
        aras_fake::PASSWORD,
        aras_fake::QUERY_USERNAME,
        aras_fake::QUERY_PASSWORD,
        aras_fake::CUSTOMER_CODE
    );
    if let Some(products) = demo_products {
        seed_demo_orders(&trendyol, &hepsiburada, &products);
    }
    tokio::signal::ctrl_c().await.ok();
}

/// What a demo order line needs of a demo product.
struct DemoProduct {
    sku: String,
    barcode: String,
    title: String,
    /// Unit price paid and list price, TRY.
    price: f64,
    list_price: f64,
}

/// The `products` of a catalog bulk body (events/demo-products.json); at
/// least two.
fn read_demo_products(path: &str) -> Result<Vec<DemoProduct>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let body: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let products = body["products"].as_array().ok_or("no \"products\" array")?;
    let tl = |v: &Value| v["minor"].as_i64().map(|m| m as f64 / 100.0);
    let products: Vec<DemoProduct> = products
        .iter()
        .map(|p| {
            let text = |k: &str| p[k].as_str().map(str::to_owned);
            let price = tl(&p["price"]).ok_or("a product without price.minor")?;
            Ok(DemoProduct {
                sku: text("sku").ok_or("a product without sku")?,
                barcode: text("barcode").ok_or("a product without barcode")?,
                title: text("title").ok_or("a product without title")?,
                price,
                list_price: tl(&p["listPrice"]).unwrap_or(price),
            })
        })
        .collect::<Result<_, &str>>()?;
    if products.len() < 2 {
        return Err("the demo orders need two products".into());
    }
    Ok(products)
}

fn seed_demo_orders(trendyol: &TrendyolFake, hepsiburada: &HepsiburadaFake, p: &[DemoProduct]) {
    let line = |d: &DemoProduct, quantity: i64| LineSpec {
        merchant_sku: d.sku.clone(),
        barcode: d.barcode.clone(),
        product_name: d.title.clone(),
        quantity,
        price: d.price,
        list_price: d.list_price,
    };
    let package = trendyol.add_package(PackageSpec::new(vec![line(&p[0], 2)]));
    println!(
        "trendyol demo order {} (package {}, status {}): 2 × {}",
        package["orderNumber"].as_str().unwrap_or("?"),
        package["id"],
        package["status"].as_str().unwrap_or("?"),
        p[0].sku
    );
    let hb_line = |d: &DemoProduct| HbLineSpec {
        name: d.title.clone(),
        ..HbLineSpec::new(&d.sku, 1, d.price)
    };
    let order = hepsiburada.add_order(HbOrderSpec::new(vec![hb_line(&p[0]), hb_line(&p[1])]));
    println!(
        "hepsiburada demo order {} ({} lines): 1 × {}, 1 × {}",
        order.order_number,
        order.items.len(),
        p[0].sku,
        p[1].sku
    );
}
