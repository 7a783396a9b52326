//! `/subscriptions` (outbound-event endpoints, their secrets, delivery log
//! and replays) — see `ayaztrade::apps::subscriptions`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::subscriptions::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| app.handle(req))).await
}
