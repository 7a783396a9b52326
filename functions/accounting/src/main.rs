//! Invoices for delivered marketplace orders (accounting queue consumer) —
//! see `ayaztrade::apps::accounting`.

use lambda_http::lambda_runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::accounting::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| app.handle(event))).await
}
