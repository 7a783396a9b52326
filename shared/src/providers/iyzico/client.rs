//! The iyzico API client: JSON POSTs authenticated with IYZWSv2, signed over
//! the exact bytes sent; answers judged by the envelope's `status`.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::IyzicoSettings;
use crate::error::{Error, ProviderError, ProviderFailure};
use crate::providers::http::{
    header_name, sensitive_header, Endpoint, HttpLayer, OutboundRequest, StandardRetryRules,
};
use crate::providers::iyzico::auth::{iyzws_v2_authorization, random_key};
use crate::providers::iyzico::wire::{
    CancelRequest, Cancelled, CheckoutFormInitialize, CheckoutFormInitialized, CheckoutFormResult,
    CheckoutFormRetrieve, Envelope, PaymentDetailsReport, RefundRequest, Refunded,
    TransactionReport,
};

const PROVIDER: &str = "iyzico";
const CLIENT_VERSION: &str = concat!("ayaztrade-integrations-", env!("CARGO_PKG_VERSION"));
pub const CHECKOUT_FORM_INITIALIZE: &str = "/payment/iyzipos/checkoutform/initialize/auth/ecom";
pub const CHECKOUT_FORM_RETRIEVE: &str = "/payment/iyzipos/checkoutform/auth/ecom/detail";
pub const CANCEL: &str = "/payment/cancel";
pub const REFUND_V2: &str = "/v2/payment/refund";
/// Reporting: one payment with its refunds and cancels (docs/iyzico-wire.md).
pub const PAYMENT_DETAILS_REPORT: &str = "/v2/reporting/payment/details";
/// Reporting: a day's transactions, a page at a time (docs/iyzico-wire.md I37).
pub const TRANSACTIONS_REPORT: &str = "/v2/reporting/payment/transactions";

pub struct IyzicoClient {
    http: HttpLayer,
    endpoint: Endpoint,
    settings: IyzicoSettings,
}

impl IyzicoClient {
    pub fn new(http: HttpLayer, settings: IyzicoSettings) -> Self {
        let endpoint = Endpoint::new(PROVIDER, StandardRetryRules)
            .with_rate_limit(settings.rate_limit_per_second);
        IyzicoClient {
            http,
            endpoint,
            settings,
        }
    }

    pub fn settings(&self) -> &IyzicoSettings {
        &self.settings
    }

    /// Starts a hosted checkout. Repeating it only makes another token (no
    /// money moves until the shopper pays), so it may be retried.
    pub async fn initialize_checkout_form(
        &self,
        request: &CheckoutFormInitialize,
    ) -> Result<CheckoutFormInitialized, Error> {
        self.post(
            "checkout_form_initialize",
            CHECKOUT_FORM_INITIALIZE,
            request,
            true,
        )
        .await
    }

    /// The outcome of a hosted checkout, by its token (a read: retried freely).
    /// `conversation_id` is our order id: iyzico echoes the *request's*
    /// conversationId in its answer and in the answer's signature, as its
    /// official samples show (they set it on the retrieve request too).
    pub async fn retrieve_checkout_form(
        &self,
        token: &str,
        conversation_id: &str,
    ) -> Result<CheckoutFormResult, Error> {
        let request = CheckoutFormRetrieve {
            locale: "tr",
            conversation_id: conversation_id.to_string(),
            token: token.to_string(),
        };
        self.post(
            "checkout_form_retrieve",
            CHECKOUT_FORM_RETRIEVE,
            &request,
            true,
        )
        .await
    }

    /// Cancels a payment (same day, before settlement). Not retried on an
    /// ambiguous failure: iyzico has no idempotency keys, and a repeated
    /// cancel is refused by iyzico anyway.
    pub async fn cancel_payment(&self, request: &CancelRequest) -> Result<Cancelled, Error> {
        self.post("cancel_payment", CANCEL, request, false).await
    }

    /// Refunds part or all of a payment (`/v2/payment/refund`). Not retried
    /// on an ambiguous failure: iyzico has no idempotency keys, so callers
    /// guard repeats with their own idempotency record.
    pub async fn refund_payment(&self, request: &RefundRequest) -> Result<Refunded, Error> {
        self.post("refund_payment", REFUND_V2, request, false).await
    }

    /// What iyzico's reporting says was refunded and cancelled of a payment
    /// (`GET /v2/reporting/payment/details?paymentId=…`): how an unclear
    /// refund or cancel is resolved before anything is sent again.
    pub async fn payment_details(&self, payment_id: &str) -> Result<PaymentDetailsReport, Error> {
        if payment_id.is_empty() || !payment_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Internal(format!(
                "not an iyzico payment id: {payment_id:?}"
            )));
        }
        let query = format!("?paymentId={payment_id}&locale=tr");
        self.send(
            "payment_details_report",
            Method::GET,
            PAYMENT_DETAILS_REPORT,
            &query,
            Bytes::new(),
            true,
        )
        .await
    }

    /// One page (from 1) of the transactions of `day` (`YYYY-MM-DD`):
    /// payments, cancels and refunds, as iyzico's daily report lists them.
    pub async fn transactions_page(
        &self,
        day: &str,
        page: u32,
    ) -> Result<TransactionReport, Error> {
        if day.len() != 10 || !day.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return Err(Error::Internal(format!("not a day: {day:?}")));
        }
        let query = format!("?transactionDate={day}&page={page}");
        self.send(
            "transactions_report",
            Method::GET,
            TRANSACTIONS_REPORT,
            &query,
            Bytes::new(),
            true,
        )
        .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        body: &B,
        idempotent: bool,
    ) -> Result<T, Error> {
        // Serialize once; sign and send these very bytes.
        let bytes = Bytes::from(serde_json::to_vec(body).expect("request bodies serialize"));
        self.send(operation, Method::POST, path, "", bytes, idempotent)
            .await
    }

    /// Signs (IYZWSv2 over the path without its query, and the exact body
    /// bytes: nothing for a GET, as iyzipay-java does) and sends.
    async fn send<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        query: &str,
        bytes: Bytes,
        idempotent: bool,
    ) -> Result<T, Error> {
        let rnd = random_key();
        let auth = iyzws_v2_authorization(
            &self.settings.api_key,
            &self.settings.secret_key,
            &rnd,
            path,
            &bytes,
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            sensitive_header(&auth).map_err(|e| Error::Internal(e.to_string()))?,
        );
        headers.insert(
            header_name("x-iyzi-rnd"),
            HeaderValue::from_str(&rnd).expect("digits are a valid header"),
        );
        headers.insert(
            header_name("x-iyzi-client-version"),
            HeaderValue::from_static(CLIENT_VERSION),
        );
        if method == Method::POST {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let request = OutboundRequest {
            operation,
            method,
            url: format!("{}{}{}", self.settings.api_base, path, query),
            headers,
            body: bytes,
            idempotent,
        };
        let response = self
            .http
            .send(&self.endpoint, request)
            .await
            .map_err(|failed| {
                provider_error(
                    ProviderFailure::Unavailable,
                    None,
                    format!("iyzico could not be reached: {failed}"),
                )
            })?;
        let status = response.status.as_u16();
        let envelope: Envelope = serde_json::from_slice(&response.body).map_err(|e| {
            provider_error(
                ProviderFailure::Unavailable,
                None,
                format!("iyzico sent an unreadable answer (HTTP {status}): {e}"),
            )
        })?;
        if envelope.status == "success" {
            return serde_json::from_slice(&response.body).map_err(|e| {
                provider_error(
                    ProviderFailure::Unavailable,
                    None,
                    format!("iyzico answer lacks fields: {e}"),
                )
            });
        }
        let code = envelope.error_code.clone();
        let failure = match (status, code.as_deref()) {
            // 1000: invalid signature — our keys or our signing, not the shopper.
            (_, Some("1000")) | (401 | 403, _) => ProviderFailure::Unauthorized,
            (429, _) => ProviderFailure::RateLimited,
            (500..=599, _) => ProviderFailure::Unavailable,
            _ => ProviderFailure::Rejected,
        };
        tracing::warn!(
            status,
            error_code = code.as_deref().unwrap_or(""),
            error_group = envelope.error_group.as_deref().unwrap_or(""),
            "iyzico refused"
        );
        Err(provider_error(
            failure,
            code,
            envelope
                .error_message
                .unwrap_or_else(|| format!("iyzico answered HTTP {status}")),
        ))
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
