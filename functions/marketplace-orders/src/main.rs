//! `GET /marketplace-orders/{marketplace}[/{orderNumber}]` — see
//! `ayaztrade::apps::marketplace_orders`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::marketplace_orders::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| app.handle(req))).await
}
