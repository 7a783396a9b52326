//! The Stripe API client.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};
use serde::de::DeserializeOwned;

use crate::config::StripeSettings;
use crate::error::{Error, ProviderError, ProviderFailure};
use crate::providers::http::{
    header_name, sensitive_header, AttemptOutcome, CallFailed, Endpoint, HttpLayer,
    OutboundRequest, ProviderResponse, RetryRules, TransportError,
};
use crate::providers::stripe::wire::{
    ErrorBody, EventList, ListedPaymentIntent, PaymentIntent, PaymentIntentList, Refund, RefundList,
};

const PROVIDER: &str = "stripe";
const CLIENT_USER_AGENT: &str = concat!("ayaztrade-integrations/", env!("CARGO_PKG_VERSION"));

/// Stripe's retry policy (stripe-node `_shouldRetry`, docs/stripe-wire.md S34–S35):
/// obey `Stripe-Should-Retry` when present; otherwise retry connection
/// failures, 409 (a concurrent request with the same key) and 5xx. Every
/// POST carries an idempotency key, so a repeat can never charge twice.
///
/// One deliberate difference from stripe-node: a plain 429 is retried (with
/// backoff). Rate limiting runs before Stripe's idempotency layer, so nothing
/// was executed or stored, and Stripe's rate-limit guide asks for exactly this.
#[derive(Debug, Default, Clone, Copy)]
pub struct StripeRetryRules;

impl RetryRules for StripeRetryRules {
    fn should_retry(&self, outcome: &AttemptOutcome<'_>, idempotent: bool) -> bool {
        match outcome {
            AttemptOutcome::Failed(TransportError::Connect(_)) => true,
            // A stale keep-alive socket reset after a Lambda freeze lands here.
            AttemptOutcome::Failed(TransportError::Io(_) | TransportError::Timeout) => idempotent,
            AttemptOutcome::Failed(_) => false,
            AttemptOutcome::Response { status, headers } => {
                match headers
                    .get("stripe-should-retry")
                    .map(HeaderValue::as_bytes)
                {
                    Some(b"true") => true,
                    Some(b"false") => false,
                    _ => matches!(status.as_u16(), 409 | 429 | 500..=599),
                }
            }
        }
    }
}

/// Parameters of `POST /v1/payment_intents` that we set.
#[derive(Debug, Clone)]
pub struct CreatePaymentIntent {
    /// In Stripe's units for the currency (see `amount.rs`).
    pub amount: i64,
    /// Lowercase ISO code.
    pub currency: String,
    pub order_id: String,
    pub description: Option<String>,
}

impl CreatePaymentIntent {
    /// The form body, bracket keys as Stripe documents them.
    pub fn to_form(&self) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("amount", self.amount.to_string()),
            ("currency", self.currency.clone()),
            ("automatic_payment_methods[enabled]", "true".into()),
            ("metadata[order_id]", self.order_id.clone()),
        ];
        if let Some(d) = &self.description {
            pairs.push(("description", d.clone()));
        }
        form_encode(&pairs)
    }
}

/// `application/x-www-form-urlencoded`, leaving `[` `]` readable as
/// Stripe's own libraries do (both forms are accepted).
pub fn form_encode(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs)
        .expect("string pairs always encode")
        .replace("%5B", "[")
        .replace("%5D", "]")
}

pub struct StripeClient {
    http: HttpLayer,
    endpoint: Endpoint,
    settings: StripeSettings,
}

impl StripeClient {
    pub fn new(http: HttpLayer, settings: StripeSettings) -> Self {
        let endpoint = Endpoint::new(PROVIDER, StripeRetryRules)
            .with_request_id_header("request-id")
            .with_rate_limit(settings.rate_limit_per_second);
        StripeClient {
            http,
            endpoint,
            settings,
        }
    }

    pub async fn create_payment_intent(
        &self,
        params: &CreatePaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, Error> {
        let body = Bytes::from(params.to_form());
        let response = self
            .call(
                "create_payment_intent",
                Method::POST,
                "/v1/payment_intents",
                body,
                Some(idempotency_key),
            )
            .await?;
        parse(response)
    }

    /// Refunds `amount` (Stripe units) of a PaymentIntent. The key is derived
    /// from the caller's `requestId`, so a retry is the same refund at Stripe
    /// (replayed, never made twice) and another request is another refund.
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount: i64,
        order_id: &str,
        request_id: &str,
        idempotency_key: &str,
    ) -> Result<Refund, Error> {
        check_id(payment_intent)?;
        let body = Bytes::from(form_encode(&[
            ("payment_intent", payment_intent.to_string()),
            ("amount", amount.to_string()),
            ("reason", "requested_by_customer".into()),
            ("metadata[order_id]", order_id.to_string()),
            ("metadata[request_id]", request_id.to_string()),
        ]));
        let response = self
            .call(
                "create_refund",
                Method::POST,
                "/v1/refunds",
                body,
                Some(idempotency_key),
            )
            .await?;
        parse(response)
    }

    /// The refunds of a PaymentIntent (`GET /v1/refunds?payment_intent=…`,
    /// newest first, 100 a page): how a refund whose answer was lost is
    /// found again by our `metadata[request_id]`, even after Stripe pruned
    /// its idempotency key (≥ 24 h).
    pub async fn list_refunds(&self, payment_intent: &str) -> Result<Vec<Refund>, Error> {
        check_id(payment_intent)?;
        let mut refunds = Vec::new();
        let mut starting_after: Option<String> = None;
        loop {
            let path = after(
                format!("/v1/refunds?payment_intent={payment_intent}&limit=100"),
                starting_after.as_deref(),
            )?;
            let response = self
                .call("list_refunds", Method::GET, &path, Bytes::new(), None)
                .await?;
            let page: RefundList = parse(response)?;
            starting_after = page.data.last().map(|r| r.id.clone());
            let more = page.has_more && starting_after.is_some();
            refunds.extend(page.data);
            if !more {
                return Ok(refunds);
            }
        }
    }

    /// Cancels an intent the shopper must no longer pay (its order's total
    /// changed). Keyed by the intent id, so a retry is harmless.
    pub async fn cancel_payment_intent(&self, id: &str) -> Result<PaymentIntent, Error> {
        check_id(id)?;
        let body = Bytes::from(form_encode(&[("cancellation_reason", "abandoned".into())]));
        let key = format!("ayaztrade:pi-cancel:{id}");
        let path = format!("/v1/payment_intents/{id}/cancel");
        let response = self
            .call(
                "cancel_payment_intent",
                Method::POST,
                &path,
                body,
                Some(&key),
            )
            .await?;
        parse(response)
    }

    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, Error> {
        check_id(id)?;
        let path = format!("/v1/payment_intents/{id}");
        let response = self
            .call(
                "retrieve_payment_intent",
                Method::GET,
                &path,
                Bytes::new(),
                None,
            )
            .await?;
        parse(response)
    }

    /// A PaymentIntent as the list shows it, its latest charge expanded
    /// (`GET /v1/payment_intents/{id}?expand[]=latest_charge`, S56); `None`
    /// when Stripe does not know it (`resource_missing`, S57).
    /// Reconciliation asks this of a payment of ours the day's list missed.
    pub async fn retrieve_listed_payment_intent(
        &self,
        id: &str,
    ) -> Result<Option<ListedPaymentIntent>, Error> {
        check_id(id)?;
        let path = format!("/v1/payment_intents/{id}?expand[]=latest_charge");
        let response = self
            .call(
                "retrieve_payment_intent",
                Method::GET,
                &path,
                Bytes::new(),
                None,
            )
            .await?;
        match parse(response) {
            Ok(pi) => Ok(Some(pi)),
            Err(Error::Provider(p)) if p.provider_code.as_deref() == Some("resource_missing") => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// One page (`limit` 1–100) of the events of `types` created in
    /// `[from, to)` (unix seconds), newest first, after the event `starting_after`
    /// (`GET /v1/events`, docs/stripe-wire.md S51). Stripe keeps events for
    /// 30 days: how reconciliation finds notices whose webhook never came,
    /// with the identity (`evt_…`) the webhook would have carried.
    pub async fn list_events_page(
        &self,
        types: &[&str],
        from: i64,
        to: i64,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<EventList, Error> {
        let limit = limit.clamp(1, 100);
        let mut path = format!("/v1/events?created[gte]={from}&created[lt]={to}&limit={limit}");
        for t in types {
            path.push_str(&format!("&types[]={t}"));
        }
        let path = after(path, starting_after)?;
        let response = self
            .call("list_events", Method::GET, &path, Bytes::new(), None)
            .await?;
        parse(response)
    }

    /// One page (`limit` 1–100) of the PaymentIntents created in `[from, to)`
    /// (unix seconds), newest first, each with its latest charge
    /// expanded for the refunded amount (`GET /v1/payment_intents`,
    /// docs/stripe-wire.md S52–S53).
    pub async fn list_payment_intents_page(
        &self,
        from: i64,
        to: i64,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<PaymentIntentList, Error> {
        let limit = limit.clamp(1, 100);
        let path = after(
            format!(
                "/v1/payment_intents?created[gte]={from}&created[lt]={to}&limit={limit}&expand[]=data.latest_charge"
            ),
            starting_after,
        )?;
        let response = self
            .call(
                "list_payment_intents",
                Method::GET,
                &path,
                Bytes::new(),
                None,
            )
            .await?;
        parse(response)
    }

    /// The cheapest authenticated read a payments key is sure to be allowed:
    /// one PaymentIntent of the list (`GET /v1/payment_intents?limit=1`,
    /// docs/stripe-wire.md S50). A restricted key made for this integration
    /// may lack Balance read, so `/v1/balance` could fail where payments work.
    pub async fn probe(&self) -> Result<(), Error> {
        #[derive(serde::Deserialize)]
        struct List {
            #[allow(dead_code)]
            object: String,
        }
        let response = self
            .call(
                "list_payment_intents",
                Method::GET,
                "/v1/payment_intents?limit=1",
                Bytes::new(),
                None,
            )
            .await?;
        parse::<List>(response).map(|_| ())
    }

    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: Bytes,
        idempotency_key: Option<&str>,
    ) -> Result<ProviderResponse, Error> {
        let mut headers = HeaderMap::new();
        let auth = format!("Bearer {}", self.settings.secret_key.expose());
        headers.insert(AUTHORIZATION, sensitive_header(&auth).map_err(internal)?);
        headers.insert(
            header_name("stripe-version"),
            HeaderValue::from_str(&self.settings.api_version)
                .map_err(|_| Error::Config("STRIPE_API_VERSION is not a valid header".into()))?,
        );
        headers.insert(USER_AGENT, HeaderValue::from_static(CLIENT_USER_AGENT));
        if let Some(key) = idempotency_key {
            headers.insert(
                header_name("idempotency-key"),
                HeaderValue::from_str(key).map_err(|_| internal("bad idempotency key"))?,
            );
        }
        if method == Method::POST {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        let request = OutboundRequest {
            operation,
            idempotent: method == Method::GET || idempotency_key.is_some(),
            method,
            url: format!("{}{}", self.settings.api_base, path),
            headers,
            body,
        };
        self.http
            .send(&self.endpoint, request)
            .await
            .map_err(unavailable)
    }
}

/// A list path going on after the object `starting_after` (docs/stripe-wire.md S18).
fn after(mut path: String, starting_after: Option<&str>) -> Result<String, Error> {
    if let Some(id) = starting_after {
        check_id(id)?;
        path.push_str(&format!("&starting_after={id}"));
    }
    Ok(path)
}

/// Ids come from our own records, but they go into a URL path: keep them plain.
fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Internal(format!("not a Stripe object id: {id:?}")));
    }
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

fn unavailable(failed: CallFailed) -> Error {
    Error::Provider(ProviderError {
        provider: PROVIDER,
        failure: ProviderFailure::Unavailable,
        provider_code: None,
        decline_code: None,
        message: format!("Stripe could not be reached: {failed}"),
        request_id: None,
    })
}

/// Maps a Stripe answer to our result: the object on 2xx, else a
/// `ProviderError` classified from Stripe's error `type` and status.
fn parse<T: DeserializeOwned>(response: ProviderResponse) -> Result<T, Error> {
    let request_id = response.header("request-id").map(str::to_owned);
    let status = response.status.as_u16();
    if response.status.is_success() {
        return serde_json::from_slice(&response.body).map_err(|e| {
            Error::Provider(ProviderError {
                provider: PROVIDER,
                failure: ProviderFailure::Unavailable,
                provider_code: None,
                decline_code: None,
                message: format!("Stripe sent an unreadable answer: {e}"),
                request_id: request_id.clone(),
            })
        });
    }
    let detail = serde_json::from_slice::<ErrorBody>(&response.body)
        .ok()
        .map(|b| b.error);
    let kind = detail.as_ref().map(|d| d.kind.as_str()).unwrap_or("");
    let failure = match (status, kind) {
        (401 | 403, _) => ProviderFailure::Unauthorized,
        (429, _) => ProviderFailure::RateLimited,
        (500..=599, _) | (_, "api_error") => ProviderFailure::Unavailable,
        (_, "card_error") | (402, _) => ProviderFailure::Declined,
        (_, "idempotency_error") | (409, _) => ProviderFailure::Conflict,
        (400..=499, _) => ProviderFailure::Rejected,
        _ => ProviderFailure::Unavailable,
    };
    let message = match (&failure, detail.as_ref().and_then(|d| d.message.clone())) {
        (ProviderFailure::Unauthorized, _) => {
            "Stripe refused our API key; check STRIPE_SECRET_KEY".to_string()
        }
        (_, Some(m)) => m,
        (_, None) => format!("Stripe answered HTTP {status}"),
    };
    if failure == ProviderFailure::Unauthorized || failure == ProviderFailure::Unavailable {
        tracing::error!(
            status,
            request_id = request_id.as_deref().unwrap_or(""),
            "Stripe call failed"
        );
    }
    Err(Error::Provider(ProviderError {
        provider: PROVIDER,
        failure,
        provider_code: detail.as_ref().and_then(|d| d.code.clone()),
        decline_code: detail.as_ref().and_then(|d| d.decline_code.clone()),
        message,
        request_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn response(
        status: u16,
        body: &str,
        headers: &[(&'static str, &'static str)],
    ) -> ProviderResponse {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_static(v));
        }
        ProviderResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: Bytes::from(body.to_string()),
            attempts: 1,
        }
    }

    #[test]
    fn form_body_uses_stripe_bracket_keys() {
        let form = CreatePaymentIntent {
            amount: 14990,
            currency: "try".into(),
            order_id: "ord-1".into(),
            description: Some("Order ord-1 & co".into()),
        }
        .to_form();
        assert_eq!(
            form,
            "amount=14990&currency=try&automatic_payment_methods[enabled]=true\
             &metadata[order_id]=ord-1&description=Order+ord-1+%26+co"
        );
    }

    #[test]
    fn should_retry_header_wins_over_status() {
        let rules = StripeRetryRules;
        let mut h = HeaderMap::new();
        let at = |status: u16, h: &HeaderMap| {
            rules.should_retry(
                &AttemptOutcome::Response {
                    status: StatusCode::from_u16(status).unwrap(),
                    headers: h,
                },
                true,
            )
        };
        assert!(at(500, &h));
        assert!(at(409, &h));
        assert!(at(429, &h));
        assert!(!at(400, &h));
        assert!(!at(402, &h));
        h.insert("stripe-should-retry", HeaderValue::from_static("false"));
        assert!(!at(500, &h));
        h.insert("stripe-should-retry", HeaderValue::from_static("true"));
        assert!(at(400, &h));
    }

    #[test]
    fn card_errors_become_declines_with_stripe_codes() {
        let body = r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}"#;
        let err =
            parse::<PaymentIntent>(response(402, body, &[("request-id", "req_1")])).unwrap_err();
        let Error::Provider(p) = err else {
            panic!("{err:?}")
        };
        assert_eq!(p.failure, ProviderFailure::Declined);
        assert_eq!(p.provider_code.as_deref(), Some("card_declined"));
        assert_eq!(p.decline_code.as_deref(), Some("insufficient_funds"));
        assert_eq!(p.request_id.as_deref(), Some("req_1"));
    }

    #[test]
    fn statuses_and_types_classify() {
        let cases = [
            (
                400,
                r#"{"error":{"type":"invalid_request_error","code":"amount_too_small","message":"m"}}"#,
                ProviderFailure::Rejected,
            ),
            (
                400,
                r#"{"error":{"type":"idempotency_error","message":"m"}}"#,
                ProviderFailure::Conflict,
            ),
            (
                401,
                r#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****1234"}}"#,
                ProviderFailure::Unauthorized,
            ),
            (
                429,
                r#"{"error":{"type":"invalid_request_error","code":"rate_limit"}}"#,
                ProviderFailure::RateLimited,
            ),
            (503, "<html>oops</html>", ProviderFailure::Unavailable),
        ];
        for (status, body, expected) in cases {
            let Err(Error::Provider(p)) = parse::<PaymentIntent>(response(status, body, &[]))
            else {
                panic!("{status}")
            };
            assert_eq!(p.failure, expected, "{status} {body}");
            // Stripe echoes part of a bad key in its message: we never pass it on.
            assert!(!p.message.contains("sk_test"), "{}", p.message);
        }
    }

    #[test]
    fn malformed_success_bodies_are_provider_failures() {
        let err = parse::<PaymentIntent>(response(200, "{not json", &[])).unwrap_err();
        assert_eq!(err.code(), "provider_unavailable");
    }
}
