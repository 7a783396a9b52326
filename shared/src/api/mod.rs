//! Request parsing and response building for the API Gateway functions, so
//! every handler reads JSON and answers errors the same way.

pub mod checkout_token;
pub mod idempotency;

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, FieldError, Result};

/// Larger JSON bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The raw body bytes (lambda_http has already undone `isBase64Encoded`).
pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Parses a JSON body; a type error names the field it is in
/// (`lines[1].unitPrice: invalid type: floating point …`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    parse_json_up_to(bytes, MAX_BODY_BYTES)
}

/// [`parse_json`] for bodies allowed to be larger (bulk calls; Lambda's own
/// limit for a synchronous payload is 6 MB).
pub fn parse_json_up_to<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T> {
    if bytes.len() > limit {
        return Err(Error::TooLarge { limit });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::validation("", "a JSON body is required"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        Error::Validation(vec![FieldError::new(field, e.into_inner().to_string())])
    })
}

pub fn json_response(status: u16, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).expect("response bodies serialize");
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .expect("static response parts are valid")
}

/// The JSON error answer; server-side failures are logged with their detail
/// (which the caller does not see).
pub fn error_response(err: &Error) -> Response<Body> {
    let status = err.http_status();
    if status >= 500 {
        tracing::error!(code = err.code(), error = %err, "request failed");
    } else {
        tracing::info!(code = err.code(), status, "request refused");
    }
    json_response(status, &err.to_json())
}

/// The method and path of an HTTP API (payload format 2.0) request that a
/// function taking raw JSON events received (`None`: not such a request).
pub fn http_api_route(input: &serde_json::Value) -> Option<(&str, &str)> {
    input.get("requestContext")?;
    let path = input.get("rawPath")?.as_str()?;
    let method = input
        .pointer("/requestContext/http/method")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    Some((method, path))
}

/// A JSON answer in the HTTP API's payload format 2.0, for functions taking
/// raw JSON events.
pub fn http_api_answer(status: u16, body: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
    })
}

/// When this invocation must be done (epoch ms): the Lambda deadline, or 30 s
/// from `now_ms` outside Lambda (tests).
pub fn deadline_ms(req: &Request, now_ms: i64) -> i64 {
    use lambda_http::RequestExt;
    req.lambda_context_ref()
        .map(|c| c.deadline as i64)
        .filter(|d| *d > now_ms)
        .unwrap_or(now_ms + 30_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        price: i64,
    }

    #[test]
    fn type_errors_name_their_field() {
        let err = parse_json::<Body>(br#"{"items":[{"price":1},{"price":1.5}]}"#).unwrap_err();
        let Error::Validation(fields) = err else {
            panic!()
        };
        assert_eq!(fields[0].field, "items[1].price");
    }

    #[test]
    fn empty_and_oversized_bodies_are_refused() {
        assert_eq!(parse_json::<Body>(b"  ").unwrap_err().http_status(), 400);
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_json::<Body>(&big).unwrap_err().http_status(), 413);
        assert_eq!(parse_json::<Body>(b"{").unwrap_err().http_status(), 400);
    }
}
