//! Scheduled tracking of open Aras shipments, and tracking numbers to the
//! marketplaces — see `ayaztrade::apps::shipment_tracking`.

use lambda_http::lambda_runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::shipment_tracking::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| app.handle(event))).await
}
