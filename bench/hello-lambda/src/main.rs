//! The smallest useful `lambda_http` function, built with our release profile.
//! BENCHMARKS.md measures our functions' init time against this floor.
use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
