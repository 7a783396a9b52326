//! `GET /integrations/health[/{provider}]`, `GET /integrations/webhooks`,
//! `POST /integrations/{marketplace}/sync` — see `ayaztrade::apps::operations`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::operations::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| app.handle(req))).await
}
