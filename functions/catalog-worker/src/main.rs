//! Catalog queue consumer: sends batches, reads their results — see
//! `ayaztrade::apps::catalog_worker`.

use lambda_http::lambda_runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::catalog_worker::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| app.handle(event))).await
}
