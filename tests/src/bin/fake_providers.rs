//! Serves the provider fakes on fixed loopback ports for `make dev`, so the
//! functions run offline with no credentials.
//!
//!     fake-providers [--stripe-port 12111] [--iyzico-port 12112]
//!                    [--trendyol-port 12113]
//!                    [--hepsiburada-listing-port 12114] [--hepsiburada-mpop-port 12115]
//!                    [--hepsiburada-oms-port 12116] [--aras-port 12117]

use ayaztrade_tests::aras_fake::{self, ArasFake};
use ayaztrade_tests::hepsiburada_fake::{self, HepsiburadaFake};
use ayaztrade_tests::iyzico_fake::IyzicoFake;
use ayaztrade_tests::stripe_fake::{StripeFake, TEST_SECRET_KEY};
use ayaztrade_tests::trendyol_fake::{self, TrendyolFake};

const USAGE: &str =
    "usage: fake-providers [--stripe-port N] [--iyzico-port N] [--trendyol-port N] \
                     [--hepsiburada-listing-port N] [--hepsiburada-mpop-port N] \
                     [--hepsiburada-oms-port N] [--aras-port N]";

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
    while let Some(arg) = args.next() {
        let port = match arg.as_str() {
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
    tokio::signal::ctrl_c().await.ok();
}
