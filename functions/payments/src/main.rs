//! `POST /payments/stripe/intents` — see `ayaztrade::apps::payments`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ayaztrade::telemetry::init();
    // Clients are built once here and reused by every warm invocation.
    let app = ayaztrade::apps::payments::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| app.handle(req))).await
}
