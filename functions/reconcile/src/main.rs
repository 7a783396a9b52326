//! Daily (and on-demand) reconciliation of payments against the providers'
//! own lists — see `ayaztrade::apps::reconcile`.

use lambda_http::lambda_runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::reconcile::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| app.handle(event))).await
}
