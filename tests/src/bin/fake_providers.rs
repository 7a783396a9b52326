//! Serves the provider fakes on fixed loopback ports for `make dev`, so the
//! functions run offline with no credentials.
//!
//!     fake-providers [--stripe-port 12111] [--iyzico-port 12112]

use ayaztrade_tests::iyzico_fake::IyzicoFake;
use ayaztrade_tests::stripe_fake::{StripeFake, TEST_SECRET_KEY};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut stripe_port: u16 = 12111;
    let mut iyzico_port: u16 = 12112;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stripe-port" => {
                stripe_port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("--stripe-port takes a port number")
            }
            "--iyzico-port" => {
                iyzico_port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("--iyzico-port takes a port number")
            }
            other => {
                eprintln!("unknown argument {other:?}; usage: fake-providers [--stripe-port N] [--iyzico-port N]");
                std::process::exit(2);
            }
        }
    }
    let stripe = StripeFake::start_on(([127, 0, 0, 1], stripe_port).into()).await;
    println!(
        "stripe fake: {} (secret key {TEST_SECRET_KEY})",
        stripe.base_url
    );
    let iyzico = IyzicoFake::start_on(([127, 0, 0, 1], iyzico_port).into()).await;
    println!("iyzico fake: {}", iyzico.base_url);
    tokio::signal::ctrl_c().await.ok();
}
