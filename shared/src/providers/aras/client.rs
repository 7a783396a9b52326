//! The Aras Kargo client: SOAP 1.1 POSTs through the one HTTP layer, every
//! answer judged by its SOAP fault or its result code, never assumed.
//!
//! A SetOrder with an IntegrationCode Aras already has *updates* that order
//! (up to 20 sends; Aras's document, docs/aras-wire.md O18/O19): it is never
//! refused as a duplicate. So SetOrder is only ever sent for an order Aras
//! does not have: the client looks the IntegrationCode up first, and an
//! order Aras holds is returned as it is, never overwritten. The layer never
//! repeats SetOrder on its own; after an ambiguous failure (timeout, dropped
//! connection, 5xx without a SOAP fault, unreadable 200) the client looks
//! again and sends once more only if Aras still does not have the order (a
//! repeat of a SetOrder that did land carries the same content).

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method};

use crate::config::ArasSettings;
use crate::error::{Error, ProviderError, ProviderFailure};
use crate::providers::aras::order::{
    by_integration_code_envelope, read_cancel, read_order_lookup, read_set_order,
    set_order_envelope, ArasOrder, OrderLookup, ShipmentOrder,
};
use crate::providers::aras::query::{
    get_query_json_envelope, login_info, query_info, read_query_json, tracking, QueryFailure,
    QueryRecord, Tracking,
};
use crate::providers::aras::soap::{read_answer, SoapAnswer, XmlNode};
use crate::providers::aras::{wire, PROVIDER};
use crate::providers::http::{
    header_name, AttemptOutcome, Endpoint, HttpLayer, OutboundRequest, RetryRules,
    StandardRetryRules,
};

/// What registering a shipment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOrderOutcome {
    /// Aras accepted this SetOrder.
    Created {
        /// Aras's key for the order (`InvoiceKey`; name UNCONFIRMED).
        invoice_key: Option<String>,
        message: String,
    },
    /// Aras already had an order with this IntegrationCode (an earlier
    /// attempt whose answer was lost, or a repeated request): here it is,
    /// unchanged — no SetOrder was sent that could have updated it.
    AlreadyRegistered(ArasOrder),
}

/// What CancelDispatch came to; failures (bad credentials, Aras errors) are
/// `Err`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Code 0.
    Cancelled,
    /// Code 1: the order record was deleted.
    Deleted,
    /// Code -1: Aras has no order with this IntegrationCode.
    NotFound,
    /// Code 999: the shipment has left; it can no longer be cancelled (an
    /// HTTP handler answers 409).
    AlreadyDispatched,
}

/// A SOAP fault is a deliberate answer (HTTP 500, `text/xml`): repeating the
/// request gets the same fault. Anything else follows the standard rules.
#[derive(Debug, Default, Clone, Copy)]
pub struct SoapRetryRules;

impl RetryRules for SoapRetryRules {
    fn should_retry(&self, outcome: &AttemptOutcome<'_>, idempotent: bool) -> bool {
        if let AttemptOutcome::Response { status, headers } = outcome {
            let xml = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.contains("xml"));
            if status.as_u16() == 500 && xml {
                return false;
            }
        }
        StandardRetryRules.should_retry(outcome, idempotent)
    }
}

/// A failed exchange, and whether the request may have taken effect.
struct Failure {
    error: Error,
    ambiguous: bool,
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        f.error
    }
}

pub struct ArasClient {
    http: HttpLayer,
    order_endpoint: Endpoint,
    query_endpoint: Endpoint,
    settings: ArasSettings,
}

impl ArasClient {
    pub fn new(http: HttpLayer, settings: ArasSettings) -> Self {
        let order_endpoint =
            Endpoint::new(PROVIDER, SoapRetryRules).with_rate_limit(settings.requests_per_second);
        let query_endpoint =
            Endpoint::new(PROVIDER, SoapRetryRules).with_rate_limit(settings.requests_per_second);
        ArasClient {
            http,
            order_endpoint,
            query_endpoint,
            settings,
        }
    }

    pub fn settings(&self) -> &ArasSettings {
        &self.settings
    }

    /// Registers a shipment (SetOrder), validated first. Safe to call again
    /// with the same order: a repeat resolves to
    /// [`SetOrderOutcome::AlreadyRegistered`] without sending SetOrder, so
    /// an order Aras holds is never updated from here.
    pub async fn set_order(&self, order: &ShipmentOrder) -> Result<SetOrderOutcome, Error> {
        order.validate()?;
        if let OrderLookup::Found(existing) = self.lookup(&order.integration_code).await? {
            return Ok(SetOrderOutcome::AlreadyRegistered(existing));
        }
        let body = set_order_envelope(
            order,
            &self.settings.username,
            self.settings.password.expose(),
        );
        let mut looked_up = false;
        loop {
            let failure = match self.call_set_order(&body).await {
                Ok(created) => return Ok(created),
                Err(failure) => failure,
            };
            if !failure.ambiguous || looked_up {
                return Err(failure.error);
            }
            // The order may or may not have been created: ask before resending.
            looked_up = true;
            tracing::warn!(
                integration_code = %order.integration_code,
                error = %failure.error,
                "aras SetOrder outcome unknown; looking the order up before resending"
            );
            if let OrderLookup::Found(existing) = self.lookup(&order.integration_code).await? {
                return Ok(SetOrderOutcome::AlreadyRegistered(existing));
            }
        }
    }

    async fn call_set_order(&self, body: &str) -> Result<SetOrderOutcome, Failure> {
        let response = self
            .exchange(
                &self.order_endpoint,
                "aras_set_order",
                &self.settings.order_service_url,
                &wire::order_soap_action(wire::SET_ORDER),
                body.to_string(),
                false,
            )
            .await?;
        let info = read_set_order(&response).map_err(|e| unreadable(&e, true))?;
        if wire::set_order_succeeded(&info.result_code) {
            return Ok(SetOrderOutcome::Created {
                invoice_key: info.invoice_key,
                message: info.result_message,
            });
        }
        // A refusal (bad credentials → Unauthorized, anything else →
        // Rejected with Aras's code and words): nothing was registered.
        Err(Failure {
            error: refused(&info.result_code, &info.result_message),
            ambiguous: false,
        })
    }

    /// The order Aras holds under `integration_code`, if any.
    pub async fn get_order_with_integration_code(
        &self,
        integration_code: &str,
    ) -> Result<Option<ArasOrder>, Error> {
        match self.lookup(integration_code).await? {
            OrderLookup::Found(order) => Ok(Some(order)),
            OrderLookup::NotFound => Ok(None),
            OrderLookup::Refused { code, message } => Err(refused(&code, &message)),
        }
    }

    async fn lookup(&self, integration_code: &str) -> Result<OrderLookup, Error> {
        let body = by_integration_code_envelope(
            wire::GET_ORDER_WITH_INTEGRATION_CODE,
            integration_code,
            &self.settings.username,
            self.settings.password.expose(),
        );
        let response = self
            .exchange(
                &self.order_endpoint,
                "aras_get_order",
                &self.settings.order_service_url,
                &wire::order_soap_action(wire::GET_ORDER_WITH_INTEGRATION_CODE),
                body,
                true,
            )
            .await?;
        match read_order_lookup(&response).map_err(|e| unreadable(&e, false))? {
            OrderLookup::Refused { code, message } => Err(refused(&code, &message)),
            other => Ok(other),
        }
    }

    /// Cancels a shipment that has not left yet (CancelDispatch). Not
    /// repeated on an ambiguous failure: a repeat of a cancel that worked
    /// would answer "not found".
    pub async fn cancel_dispatch(&self, integration_code: &str) -> Result<CancelOutcome, Error> {
        let body = by_integration_code_envelope(
            wire::CANCEL_DISPATCH,
            integration_code,
            &self.settings.username,
            self.settings.password.expose(),
        );
        let response = self
            .exchange(
                &self.order_endpoint,
                "aras_cancel_dispatch",
                &self.settings.order_service_url,
                &wire::order_soap_action(wire::CANCEL_DISPATCH),
                body,
                false,
            )
            .await?;
        let (code, message) = read_cancel(&response).map_err(|e| unreadable(&e, true))?;
        match wire::cancel_code(&code) {
            wire::CancelCode::Cancelled => Ok(CancelOutcome::Cancelled),
            wire::CancelCode::Deleted => Ok(CancelOutcome::Deleted),
            wire::CancelCode::NotFound => Ok(CancelOutcome::NotFound),
            wire::CancelCode::AlreadyDispatched => Ok(CancelOutcome::AlreadyDispatched),
            wire::CancelCode::BadCredentials => Err(provider_error(
                ProviderFailure::Unauthorized,
                Some(code),
                "Aras refused our credentials".into(),
            )),
            wire::CancelCode::Other => Err(refused(&code, &message)),
        }
    }

    /// GetQueryJSON with the query-service account: the records under
    /// `QueryResult`. `fields` are `(name, value)` pairs of `QueryInfo`.
    pub async fn get_query_json(
        &self,
        query_type: u32,
        fields: &[(&str, &str)],
    ) -> Result<Vec<QueryRecord>, Error> {
        let login = login_info(
            &self.settings.query_username,
            self.settings.query_password.expose(),
            &self.settings.customer_code,
        );
        let query = query_info(query_type, fields).map_err(Error::Internal)?;
        let response = self
            .exchange(
                &self.query_endpoint,
                "aras_get_query_json",
                &self.settings.query_service_url,
                wire::QUERY_SOAP_ACTION,
                get_query_json_envelope(&login, &query),
                true,
            )
            .await?;
        read_query_json(&response).map_err(|failure| match failure {
            QueryFailure::Refused(text) => {
                provider_error(ProviderFailure::Rejected, None, format!("Aras: {text}"))
            }
            QueryFailure::Unreadable(detail) => unreadable(&detail, false).error,
        })
    }

    /// Current status and movement history of a shipment by IntegrationCode
    /// (QueryTypes 1 and 9; see [`wire`] for what is UNCONFIRMED).
    pub async fn tracking(&self, integration_code: &str) -> Result<Tracking, Error> {
        let key = [(wire::QUERY_KEY_INTEGRATION_CODE, integration_code)];
        let cargo = self.get_query_json(wire::QUERY_CARGO_INFO, &key).await?;
        let movements = self.get_query_json(wire::QUERY_MOVEMENTS, &key).await?;
        Ok(tracking(&cargo, &movements))
    }

    /// One SOAP exchange: the response element of the answer's body, or a
    /// typed failure.
    async fn exchange(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        url: &str,
        soap_action: &str,
        body: String,
        idempotent: bool,
    ) -> Result<XmlNode, Failure> {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        );
        let action = HeaderValue::from_str(soap_action).map_err(|_| Failure {
            error: Error::Internal(format!("bad SOAPAction {soap_action:?}")),
            ambiguous: false,
        })?;
        headers.insert(header_name("soapaction"), action);
        let request = OutboundRequest {
            operation,
            method: Method::POST,
            url: url.to_string(),
            headers,
            body: Bytes::from(body),
            idempotent,
        };
        let response = self
            .http
            .send(endpoint, request)
            .await
            .map_err(|failed| Failure {
                ambiguous: !matches!(
                    failed.error,
                    crate::providers::http::TransportError::Connect(_)
                        | crate::providers::http::TransportError::InvalidRequest(_)
                ),
                error: provider_error(
                    ProviderFailure::Unavailable,
                    None,
                    format!("Aras could not be reached: {failed}"),
                ),
            })?;
        let status = response.status.as_u16();
        let answer = match read_answer(&response.body) {
            Ok(SoapAnswer::Fault { code, message }) => {
                tracing::warn!(operation, status, faultcode = %code, %message, "aras SOAP fault");
                // soap:Client is our request's fault; soap:Server is theirs.
                let failure = if code.ends_with("Client") || code.ends_with("Sender") {
                    ProviderFailure::Rejected
                } else {
                    ProviderFailure::Unavailable
                };
                return Err(Failure {
                    error: provider_error(
                        failure,
                        Some(code),
                        format!("Aras SOAP fault: {message}"),
                    ),
                    ambiguous: false,
                });
            }
            Ok(SoapAnswer::Response(node)) => Ok(node),
            Err(detail) => Err(detail),
        };
        if !response.status.is_success() {
            let failure = match status {
                401 | 403 => ProviderFailure::Unauthorized,
                429 => ProviderFailure::RateLimited,
                500..=599 => ProviderFailure::Unavailable,
                _ => ProviderFailure::Rejected,
            };
            tracing::warn!(operation, status, "aras answered an HTTP error");
            return Err(Failure {
                error: provider_error(
                    failure,
                    Some(status.to_string()),
                    format!("Aras answered HTTP {status}"),
                ),
                ambiguous: status >= 500,
            });
        }
        answer.map_err(|detail| unreadable(&detail, true))
    }
}

fn provider_error(failure: ProviderFailure, code: Option<String>, message: String) -> Error {
    Error::Provider(ProviderError {
        provider: PROVIDER,
        failure,
        provider_code: code,
        decline_code: None,
        message,
        request_id: None,
    })
}

/// A non-success result code with Aras's message.
fn refused(code: &str, message: &str) -> Error {
    let failure = if wire::credentials_refused(code) {
        ProviderFailure::Unauthorized
    } else {
        ProviderFailure::Rejected
    };
    let message = if message.is_empty() {
        format!("Aras refused the request (ResultCode {code})")
    } else {
        format!("Aras refused the request (ResultCode {code}): {message}")
    };
    provider_error(failure, Some(code.to_string()), message)
}

/// An answer we could not read. After a write it is ambiguous: Aras may have
/// acted before answering badly.
fn unreadable(detail: &str, after_write: bool) -> Failure {
    Failure {
        error: provider_error(
            ProviderFailure::Unavailable,
            None,
            format!("Aras sent an unreadable answer: {detail}"),
        ),
        ambiguous: after_write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_codes_are_authentication_failures_other_codes_rejections() {
        // Aras's document: SetOrder "1000/1002 | Kullanıcı Adı ve Şifre
        // yanlış / Entegrasyon bilgi hatası."; "935 | IntegrationCode …".
        let failure = |code: &str| match refused(code, "x") {
            Error::Provider(p) => p.failure,
            other => panic!("{other:?}"),
        };
        assert_eq!(failure("1000"), ProviderFailure::Unauthorized);
        assert_eq!(failure("1002"), ProviderFailure::Unauthorized);
        assert_eq!(failure("935"), ProviderFailure::Rejected);
        assert_eq!(failure("70026"), ProviderFailure::Rejected);
    }
}
