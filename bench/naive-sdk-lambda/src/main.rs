//! Baseline: the SDK set up the way its README shows, plus the same first
//! DynamoDB call our payments function makes for an unknown order.
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("TABLE_NAME")?;
    lambda_http::run(service_fn(|_req: Request| {
        let client = client.clone();
        let table = table.clone();
        async move {
            let out = client
                .query()
                .table_name(table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S("ORDER#bench-missing".into()))
                .send()
                .await?;
            let status = if out.count() == 0 { 404 } else { 200 };
            Ok::<_, Error>(Response::builder().status(status).body(Body::from("{}"))?)
        }
    }))
    .await
}
