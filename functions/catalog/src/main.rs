//! `PUT /catalog/products/{sku}`, `POST /catalog/products` (bulk),
//! `GET /catalog/products/{sku}` — see `ayaztrade::apps::catalog`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ayaztrade::telemetry::init();
    let app = ayaztrade::apps::catalog::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| app.handle(req))).await
}
