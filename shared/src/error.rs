//! The one error type. Its mapping to an HTTP status and a stable JSON `code`
//! lives here and nowhere else, so every function answers errors the same way.

use serde::Serialize;
use serde_json::json;

/// A problem with one field of a request, reported back to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `lines[2].unitPrice`; empty for the whole body.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// How a payment or marketplace provider refused or failed a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFailure {
    /// The provider declined on business grounds (card declined, insufficient funds).
    Declined,
    /// The provider rejected the request as invalid (bad parameter, amount too small).
    Rejected,
    /// The provider reported a conflict (idempotency key reused with other parameters).
    Conflict,
    /// Our credentials were refused: a configuration problem on our side.
    Unauthorized,
    /// The provider kept rate limiting us after our retries.
    RateLimited,
    /// 5xx, timeouts, connection failures or unreadable answers, after our retries.
    Unavailable,
}

/// Details of a provider failure safe to show to our caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub provider: &'static str,
    pub failure: ProviderFailure,
    /// The provider's own error code (Stripe `code`, iyzico `errorCode`).
    pub provider_code: Option<String>,
    /// Stripe's `decline_code` for card declines.
    pub decline_code: Option<String>,
    pub message: String,
    /// The provider's request id (Stripe `request-id`), for support tickets.
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    #[error("no route for {method} {path}")]
    NoRoute { method: String, path: String },
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{} failed ({:?}): {}", .0.provider, .0.failure, .0.message)]
    Provider(ProviderError),
    #[error("storage error: {0}")]
    Store(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn http_status(&self) -> u16 {
        match self {
            Error::Validation(_) => 400,
            Error::NotFound { .. } | Error::NoRoute { .. } => 404,
            Error::TooLarge { .. } => 413,
            Error::Unauthorized { .. } => 401,
            Error::Conflict { .. } => 409,
            Error::Unprocessable { .. } => 422,
            Error::Provider(p) => match p.failure {
                ProviderFailure::Declined => 402,
                ProviderFailure::Rejected => 422,
                ProviderFailure::Conflict => 409,
                // Our credentials or their outage: not the caller's fault.
                ProviderFailure::Unauthorized | ProviderFailure::Unavailable => 502,
                ProviderFailure::RateLimited => 503,
            },
            Error::Store(_) => 503,
            Error::Config(_) | Error::Internal(_) => 500,
        }
    }

    /// The stable, documented error code of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) => "invalid_request",
            Error::NotFound { .. } => "not_found",
            Error::NoRoute { .. } => "no_route",
            Error::TooLarge { .. } => "payload_too_large",
            Error::Conflict { code, .. }
            | Error::Unprocessable { code, .. }
            | Error::Unauthorized { code, .. } => code,
            Error::Provider(p) => match p.failure {
                ProviderFailure::Declined => "payment_declined",
                ProviderFailure::Rejected => "provider_rejected",
                ProviderFailure::Conflict => "provider_conflict",
                ProviderFailure::Unauthorized => "provider_auth_failed",
                ProviderFailure::RateLimited => "provider_rate_limited",
                ProviderFailure::Unavailable => "provider_unavailable",
            },
            Error::Store(_) => "store_unavailable",
            Error::Config(_) | Error::Internal(_) => "internal_error",
        }
    }

    /// The JSON error body. Internal details (storage and configuration errors)
    /// are logged, not returned.
    pub fn to_json(&self) -> serde_json::Value {
        let message = match self {
            Error::Store(_) => "storage is temporarily unavailable, retry later".to_string(),
            Error::Config(_) | Error::Internal(_) => "internal error".to_string(),
            Error::Validation(_) => "the request is invalid; see fields".to_string(),
            Error::Provider(p) => p.message.clone(),
            other => other.to_string(),
        };
        let mut error = json!({ "code": self.code(), "message": message });
        match self {
            Error::Validation(fields) => error["fields"] = json!(fields),
            Error::Provider(p) => {
                error["provider"] = json!(p.provider);
                if let Some(code) = &p.provider_code {
                    error["providerCode"] = json!(code);
                }
                if let Some(code) = &p.decline_code {
                    error["declineCode"] = json!(code);
                }
                if let Some(id) = &p.request_id {
                    error["providerRequestId"] = json!(id);
                }
            }
            _ => {}
        }
        json!({ "error": error })
    }
}

impl From<crate::money::MoneyError> for Error {
    fn from(e: crate::money::MoneyError) -> Self {
        Error::Unprocessable {
            code: "invalid_amount",
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_list_fields() {
        let e = Error::Validation(vec![FieldError::new("lines[0].quantity", "must be ≥ 1")]);
        assert_eq!(e.http_status(), 400);
        let body = e.to_json();
        assert_eq!(body["error"]["code"], "invalid_request");
        assert_eq!(body["error"]["fields"][0]["field"], "lines[0].quantity");
    }

    #[test]
    fn internal_details_are_not_returned() {
        let e = Error::Store("ConditionalCheckFailed on table prod-orders".into());
        assert_eq!(e.http_status(), 503);
        assert!(!e.to_json().to_string().contains("prod-orders"));
    }

    #[test]
    fn provider_failures_map_to_distinct_statuses() {
        let p = |failure| {
            Error::Provider(ProviderError {
                provider: "stripe",
                failure,
                provider_code: Some("card_declined".into()),
                decline_code: Some("insufficient_funds".into()),
                message: "Your card has insufficient funds.".into(),
                request_id: Some("req_123".into()),
            })
        };
        assert_eq!(p(ProviderFailure::Declined).http_status(), 402);
        assert_eq!(p(ProviderFailure::Rejected).http_status(), 422);
        assert_eq!(p(ProviderFailure::Unavailable).http_status(), 502);
        let body = p(ProviderFailure::Declined).to_json();
        assert_eq!(body["error"]["providerCode"], "card_declined");
        assert_eq!(body["error"]["declineCode"], "insufficient_funds");
        assert_eq!(body["error"]["providerRequestId"], "req_123");
    }
}
