//! Aras Kargo shipments, tracking, rates, cancel (HTTP API) — see `ayaztrade::apps::shipment`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::shipment::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| app.handle(req))).await
}
