//! Outbound queue consumer: signed domain events to subscribed endpoints,
//! retries and replays — see `ayaztrade::apps::deliveries`.

use lambda_http::lambda_runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::deliveries::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| app.handle(event))).await
}
