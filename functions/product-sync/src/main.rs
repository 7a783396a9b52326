//! Catalog sync planning: scheduled, on demand, and on stock changes — see `ayaztrade::apps::product_sync`.

use lambda_http::lambda_runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::product_sync::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| app.handle_any(event))).await
}
