//! `PUT /orders/{orderId}`, `GET /orders/{orderId}` — see `ayaztrade::apps::orders`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::orders::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| app.handle(req))).await
}
