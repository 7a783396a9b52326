//! What Trendyol and Hepsiburada have in common on the wire: JSON over HTTP
//! Basic auth with a mandatory User-Agent (docs/marketplace-wire.md, the
//! Trendyol and Hepsiburada "common" sections), and the
//! same reading of their error answers. Each call names the [`Endpoint`] it
//! uses, so each endpoint keeps its own rate limit.

use base64::Engine;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};
use serde::de::DeserializeOwned;

use crate::config::Secret;
use crate::error::{Error, ProviderError, ProviderFailure};
use crate::providers::http::{sensitive_header, Endpoint, HttpLayer, OutboundRequest};

/// A JSON API behind HTTP Basic auth.
pub struct BasicJsonApi {
    http: HttpLayer,
    provider: &'static str,
    authorization: HeaderValue,
    user_agent: HeaderValue,
}

/// An answer with a 2xx status.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl BasicJsonApi {
    pub fn new(
        http: HttpLayer,
        provider: &'static str,
        username: &str,
        password: &Secret,
        user_agent: &str,
    ) -> Result<Self, Error> {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose()));
        let authorization = sensitive_header(&format!("Basic {token}")).map_err(|_| {
            Error::Config(format!("{provider} credentials are not valid header text"))
        })?;
        let user_agent = HeaderValue::from_str(user_agent).map_err(|_| {
            Error::Config(format!("{provider} User-Agent is not valid header text"))
        })?;
        Ok(BasicJsonApi {
            http,
            provider,
            authorization,
            user_agent,
        })
    }

    fn headers(&self, content_type: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
            headers.insert(CONTENT_TYPE, ct);
        }
        headers
    }

    /// A read, retried freely.
    pub async fn get(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        url: String,
    ) -> Result<Answer, Error> {
        self.send(
            endpoint,
            operation,
            Method::GET,
            url,
            None,
            Bytes::new(),
            true,
        )
        .await
    }

    /// A write of `body` with `content_type`. Batch submissions are not
    /// idempotent at the provider (each makes a new batch), so an ambiguous
    /// failure is not retried here: the queue redelivers, under the sync's
    /// own bookkeeping.
    pub async fn post(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        url: String,
        content_type: &str,
        body: Bytes,
    ) -> Result<Answer, Error> {
        self.send(
            endpoint,
            operation,
            Method::POST,
            url,
            Some(content_type),
            body,
            false,
        )
        .await
    }

    /// A read of something the marketplace may not know (a category, a
    /// barcode): a 4xx refusal is `None`, other failures are errors.
    pub async fn get_if_known(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        url: String,
    ) -> Result<Option<Answer>, Error> {
        match self.get(endpoint, operation, url).await {
            Ok(answer) => Ok(Some(answer)),
            Err(Error::Provider(p)) if p.failure == ProviderFailure::Rejected => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// An answer we could not read: the marketplace's fault, retried later.
    pub fn unreadable(&self, detail: &str) -> Error {
        self.error(
            ProviderFailure::Unavailable,
            None,
            format!("{} sent an unreadable answer: {detail}", self.provider),
        )
    }

    pub fn decode<T: DeserializeOwned>(&self, answer: &Answer) -> Result<T, Error> {
        serde_json::from_slice(&answer.body).map_err(|e| {
            self.error(
                ProviderFailure::Unavailable,
                None,
                format!(
                    "{} sent an unreadable answer (HTTP {}): {e}",
                    self.provider, answer.status
                ),
            )
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        method: Method,
        url: String,
        content_type: Option<&str>,
        body: Bytes,
        idempotent: bool,
    ) -> Result<Answer, Error> {
        let request = OutboundRequest {
            operation,
            method,
            url,
            headers: self.headers(content_type),
            body,
            idempotent,
        };
        let response = self.http.send(endpoint, request).await.map_err(|failed| {
            self.error(
                ProviderFailure::Unavailable,
                None,
                format!("{} could not be reached: {failed}", self.provider),
            )
        })?;
        let status = response.status.as_u16();
        if response.status.is_success() {
            return Ok(Answer {
                status,
                body: response.body,
            });
        }
        let failure = match status {
            // Over Hepsiburada's catalog limit (docs/marketplace-wire.md H8).
            403 if endpoint.forbidden_is_rate_limit() => ProviderFailure::RateLimited,
            401 | 403 => ProviderFailure::Unauthorized,
            429 => ProviderFailure::RateLimited,
            500..=599 => ProviderFailure::Unavailable,
            _ => ProviderFailure::Rejected,
        };
        let message = error_message(&response.body)
            .unwrap_or_else(|| format!("{} answered HTTP {status}", self.provider));
        tracing::warn!(provider = self.provider, operation, status, %message, "marketplace refused");
        Err(self.error(failure, Some(status.to_string()), message))
    }

    fn error(&self, failure: ProviderFailure, code: Option<String>, message: String) -> Error {
        Error::Provider(ProviderError {
            provider: self.provider,
            failure,
            provider_code: code,
            decline_code: None,
            message,
            request_id: None,
        })
    }
}

/// What a marketplace said to a tracking-number push (Trendyol
/// updateTrackingNumber, Hepsiburada intransit). Transport failures, 401/403,
/// 429 and 5xx are not here: they stay `Err` and are retried later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackingPush {
    /// The marketplace took the number.
    Accepted,
    /// The marketplace refused, but the package already carries this very
    /// number (checked by reading the package back): done.
    AlreadySet,
    /// A lasting refusal (package cancelled, delivered, carrying another
    /// number, unknown…): a person must look. The marketplace's words.
    Refused(String),
}

/// A 4xx answer other than 401, 403 and 429: the marketplace read the
/// request and said no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// The human-readable part of the body ([`error_message`]), or
    /// `HTTP <status>`.
    pub message: String,
}

impl BasicJsonApi {
    /// A JSON write (`PUT`/`POST`) whose refusals the caller classifies:
    /// `Ok(Ok(answer))` on 2xx, `Ok(Err(refusal))` on a 4xx refusal, `Err`
    /// for transport failures, 401/403, 429 and 5xx. `repeatable`: repeating
    /// the request cannot do harm, so ambiguous failures (timeout after
    /// sending, 5xx) are retried by the HTTP layer.
    pub async fn write_json(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        method: Method,
        url: String,
        body: Bytes,
        repeatable: bool,
    ) -> Result<Result<Answer, Refusal>, Error> {
        self.write_as(
            endpoint,
            operation,
            method,
            url,
            "application/json",
            body,
            repeatable,
        )
        .await
    }

    /// [`write_json`](Self::write_json) with another `content_type` (a
    /// `multipart/form-data` form, Trendyol's claim rejection T14).
    #[allow(clippy::too_many_arguments)]
    pub async fn write_as(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        method: Method,
        url: String,
        content_type: &str,
        body: Bytes,
        repeatable: bool,
    ) -> Result<Result<Answer, Refusal>, Error> {
        match self
            .send(
                endpoint,
                operation,
                method,
                url,
                Some(content_type),
                body,
                repeatable,
            )
            .await
        {
            Ok(answer) => Ok(Ok(answer)),
            Err(Error::Provider(p)) if p.failure == ProviderFailure::Rejected => Ok(Err(Refusal {
                status: p
                    .provider_code
                    .as_deref()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(400),
                message: p.message,
            })),
            Err(e) => Err(e),
        }
    }
}

/// The boundary of the forms we send (a value holding it is refused).
pub const FORM_BOUNDARY: &str = "ayaztrade-form-5f0c2e9a7b3d41c8";

/// A `multipart/form-data` body of text `fields` (name, value), in order,
/// with the fixed [`FORM_BOUNDARY`]: its `Content-Type` and its bytes. A
/// name or value holding the boundary (or a name with a quote or a line
/// break) cannot be framed: `Err` naming the field.
pub fn form_data(fields: &[(&str, &str)]) -> Result<(String, Bytes), String> {
    let mut body = String::new();
    for (name, value) in fields {
        if name.contains(FORM_BOUNDARY)
            || value.contains(FORM_BOUNDARY)
            || name.contains(['"', '\r', '\n'])
        {
            return Err((*name).to_string());
        }
        body.push_str("--");
        body.push_str(FORM_BOUNDARY);
        body.push_str("\r\nContent-Disposition: form-data; name=\"");
        body.push_str(name);
        body.push_str("\"\r\n\r\n");
        body.push_str(value);
        body.push_str("\r\n");
    }
    body.push_str("--");
    body.push_str(FORM_BOUNDARY);
    body.push_str("--\r\n");
    Ok((
        format!("multipart/form-data; boundary={FORM_BOUNDARY}"),
        Bytes::from(body),
    ))
}

/// A JSON array of items already encoded, joined without re-encoding them.
pub fn json_array(items: &[&serde_json::value::RawValue]) -> String {
    let mut body =
        String::with_capacity(items.iter().map(|i| i.get().len() + 1).sum::<usize>() + 2);
    body.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(item.get());
    }
    body.push(']');
    body
}

/// The human-readable part of a marketplace error body. Trendyol answers
/// `{"errors":[{"key":…,"message":…}]}` or `{"exception":…,"message":…}`,
/// Hepsiburada `{"message":…}`, `{"errors":[…]}` or a JSON string; anything else is not
/// echoed (it may be an HTML error page).
pub fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let pick = |v: &serde_json::Value| {
        ["message", "errorMessage", "description", "key", "exception"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|m| m.as_str()).map(str::to_owned))
    };
    let from_list = value
        .get("errors")
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e.as_str().map(str::to_owned).or_else(|| pick(e)))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|m| !m.is_empty());
    // Hepsiburada's merchant cancel answers 400 with a bare JSON string
    // (docs/marketplace-wire.md H13).
    let bare = value.as_str().map(str::to_owned);
    let text = from_list.or_else(|| pick(&value)).or(bare)?;
    Some(text.chars().take(500).collect())
}

/// A list entry a marketplace sent that we could not read: skipped (one odd
/// entry must not stop every other order) and reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// SHA-256 of the entry's bytes (hex, 16 characters): the same entry
    /// seen again has the same digest.
    pub digest: String,
    pub error: String,
}

impl Unreadable {
    pub fn new(raw: &[u8], error: impl std::fmt::Display) -> Self {
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(raw));
        Unreadable {
            digest: digest[..16].to_string(),
            error: without_quoted_values(&error.to_string()),
        }
    }
}

/// A parse error without the values it quotes: serde quotes the offending
/// string (`invalid type: string "Ayşe Yılmaz", expected u32`), and an
/// order entry's strings are a buyer's name, address and phone, which must
/// not reach a log. Field names (in backticks) stay.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_framed_field_by_field_with_the_fixed_boundary() {
        let (ct, body) = form_data(&[("a", "1"), ("description", "Kırık geldi\r\nx")]).unwrap();
        assert_eq!(ct, format!("multipart/form-data; boundary={FORM_BOUNDARY}"));
        let expected = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nKırık geldi\r\nx\r\n\
             --{b}--\r\n",
            b = FORM_BOUNDARY
        );
        assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
        assert_eq!(
            form_data(&[("a", "1"), ("d", &format!("x--{FORM_BOUNDARY}"))]),
            Err("d".to_string())
        );
        assert_eq!(form_data(&[("a\"b", "1")]), Err("a\"b".to_string()));
    }

    #[test]
    fn unreadable_entries_keep_no_quoted_values() {
        let e = serde_json::from_str::<u32>(r#""Ayşe Yılmaz""#).unwrap_err();
        let u = Unreadable::new(b"x", e);
        assert!(!u.error.contains("Ayşe"), "{}", u.error);
        assert!(u.error.contains("invalid type"), "{}", u.error);
    }

    #[test]
    fn error_messages_are_read_from_either_marketplace_shape() {
        assert_eq!(
            error_message(br#"{"errors":[{"key":"x","message":"15 dakika boyunca"}]}"#).as_deref(),
            Some("15 dakika boyunca")
        );
        assert_eq!(
            error_message(br#"{"exception":"ClientApiAuthenticationException"}"#).as_deref(),
            Some("ClientApiAuthenticationException")
        );
        assert_eq!(
            error_message(br#""Line cannot be cancelled""#).as_deref(),
            Some("Line cannot be cancelled")
        );
        assert_eq!(error_message(b"<html>bad gateway</html>"), None);
    }
}
