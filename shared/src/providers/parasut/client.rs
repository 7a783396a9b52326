//! The Paraşüt client: OAuth2 password grant with a cached, refreshed token,
//! JSON:API calls through the one HTTP layer (docs/parasut-wire.md).
//!
//! The access token is kept in memory for the warm Lambda, refreshed with
//! the refresh token a minute before it expires (P4, P5), and once more on a
//! 401 (P7); it is a [`Secret`] and never logged. Creates (contact, sales
//! invoice, e-document) are never repeated by the HTTP layer on an unclear
//! outcome: they come back as [`Failure::ambiguous`] and the caller asks
//! Paraşüt before sending again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method};
use serde_json::Value;

use crate::config::{ParasutSettings, Secret};
use crate::domain::invoice::{Buyer, TaxId};
use crate::error::{Error, ProviderError, ProviderFailure};
use crate::providers::http::{
    CallFailed, Endpoint, HttpLayer, OutboundRequest, ProviderResponse, StandardRetryRules,
    TransportError,
};
use crate::providers::parasut::wire::{
    self, contact_body, error_titles, id_of, read_job, read_sales_invoice, InvoiceNumber,
    JobStatus, SalesInvoiceView, TokenAnswer, MEDIA_TYPE, OOB_REDIRECT_URI,
};
use crate::providers::parasut::PROVIDER;

/// A failed call, and whether it may have taken effect at Paraşüt.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub ambiguous: bool,
    /// Paraşüt's HTTP status, when it answered.
    pub status: Option<u16>,
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        f.error
    }
}

/// Which e-document legalizes an invoice (P22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    EArchive,
    EInvoice,
}

impl DocumentKind {
    /// The JSON:API type and path segment.
    pub fn resource(self) -> &'static str {
        match self {
            DocumentKind::EArchive => "e_archives",
            DocumentKind::EInvoice => "e_invoices",
        }
    }

    pub fn from_resource(resource: &str) -> Option<Self> {
        match resource {
            "e_archives" => Some(DocumentKind::EArchive),
            "e_invoices" => Some(DocumentKind::EInvoice),
            _ => None,
        }
    }
}

struct Token {
    access: Secret,
    refresh: Option<Secret>,
    valid_until: Instant,
}

pub struct ParasutClient {
    http: HttpLayer,
    endpoint: Endpoint,
    settings: ParasutSettings,
    token: Mutex<Option<Token>>,
}

fn provider_error(failure: ProviderFailure, message: String) -> Error {
    Error::Provider(ProviderError {
        provider: PROVIDER,
        failure,
        provider_code: None,
        decline_code: None,
        message,
        request_id: None,
    })
}

fn transport_failure(failed: CallFailed) -> Failure {
    let ambiguous = !matches!(failed.error, TransportError::Connect(_));
    Failure {
        error: provider_error(
            ProviderFailure::Unavailable,
            format!("Paraşüt unreachable: {failed}"),
        ),
        ambiguous,
        status: None,
    }
}

/// A non-2xx answer as a failure; `idempotent` calls are never ambiguous
/// (repeating them changes nothing).
fn status_failure(response: &ProviderResponse, idempotent: bool) -> Failure {
    let status = response.status.as_u16();
    let titles = error_titles(&response.body);
    let (failure, ambiguous) = match status {
        401 | 403 => (ProviderFailure::Unauthorized, false),
        429 => (ProviderFailure::RateLimited, false),
        400 | 404 | 422 => (ProviderFailure::Rejected, false),
        _ if status >= 500 => (ProviderFailure::Unavailable, !idempotent),
        _ => (ProviderFailure::Unavailable, !idempotent),
    };
    Failure {
        error: provider_error(failure, format!("Paraşüt answered {status}: {titles}")),
        ambiguous,
        status: Some(status),
    }
}

impl ParasutClient {
    pub fn new(http: HttpLayer, settings: ParasutSettings) -> Self {
        let endpoint = Endpoint::new(PROVIDER, StandardRetryRules)
            .with_spaced_limit(settings.requests_per_10s, Duration::from_secs(10));
        ParasutClient {
            http,
            endpoint,
            settings,
            token: Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &ParasutSettings {
        &self.settings
    }

    fn api_url(&self, path: &str) -> String {
        format!(
            "{}/v4/{}/{path}",
            self.settings.base_url, self.settings.company_id
        )
    }

    /// A valid access token: the cached one, a refreshed one, or a new one.
    async fn access_token(&self) -> Result<Secret, Error> {
        let refresh = {
            let cached = self.token.lock().expect("token lock");
            match cached.as_ref() {
                Some(t) if Instant::now() < t.valid_until => return Ok(t.access.clone()),
                Some(t) => t.refresh.clone(),
                None => None,
            }
        };
        if let Some(refresh) = refresh {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", self.settings.client_id.as_str()),
                ("client_secret", self.settings.client_secret.expose()),
                ("refresh_token", refresh.expose()),
            ];
            match self.grant(&form).await {
                Ok(token) => return Ok(token),
                // A refused refresh token: fall back to the password grant.
                Err(e) => tracing::warn!(error = %e, "parasut refresh grant failed"),
            }
        }
        let form = [
            ("grant_type", "password"),
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.client_secret.expose()),
            ("username", self.settings.username.as_str()),
            ("password", self.settings.password.expose()),
            ("redirect_uri", OOB_REDIRECT_URI),
        ];
        self.grant(&form).await
    }

    async fn grant(&self, form: &[(&str, &str)]) -> Result<Secret, Error> {
        let body = serde_urlencoded::to_string(form)
            .map_err(|e| Error::Internal(format!("token form: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let request = OutboundRequest {
            operation: "parasut_token",
            method: Method::POST,
            url: format!("{}/oauth/token", self.settings.base_url),
            headers,
            body: Bytes::from(body),
            idempotent: true,
        };
        let response = self
            .http
            .send(&self.endpoint, request)
            .await
            .map_err(|f| transport_failure(f).error)?;
        if !response.status.is_success() {
            let status = response.status.as_u16();
            let failure = match status {
                400 | 401 | 403 => ProviderFailure::Unauthorized,
                429 => ProviderFailure::RateLimited,
                _ => ProviderFailure::Unavailable,
            };
            return Err(provider_error(
                failure,
                format!("Paraşüt token endpoint answered {status}"),
            ));
        }
        let answer: TokenAnswer = serde_json::from_slice(&response.body).map_err(|_| {
            provider_error(
                ProviderFailure::Unavailable,
                "unreadable Paraşüt token answer".into(),
            )
        })?;
        // Refresh a minute early (half the lifetime for short-lived tokens).
        let margin = Duration::from_secs(60).min(Duration::from_millis(answer.expires_in * 500));
        let token = Token {
            access: Secret::new(answer.access_token),
            refresh: answer.refresh_token.map(Secret::new),
            valid_until: Instant::now() + Duration::from_secs(answer.expires_in) - margin,
        };
        let access = token.access.clone();
        *self.token.lock().expect("token lock") = Some(token);
        Ok(access)
    }

    fn forget_token(&self) {
        if let Some(t) = self.token.lock().expect("token lock").as_mut() {
            t.valid_until = Instant::now();
        }
    }

    /// One API call with the bearer token; a 401 refreshes it and repeats
    /// the call once. Answers the status and the JSON body (`Null` if none).
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<(u16, Value), Failure> {
        let mut refreshed = false;
        loop {
            let token = self.access_token().await.map_err(|error| Failure {
                error,
                ambiguous: false,
                status: None,
            })?;
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static(MEDIA_TYPE));
            let bearer =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    Failure {
                        error: provider_error(
                            ProviderFailure::Unauthorized,
                            "Paraşüt issued an access token that is not a header value".into(),
                        ),
                        ambiguous: false,
                        status: None,
                    }
                })?;
            headers.insert(AUTHORIZATION, bearer);
            let bytes = match body {
                Some(b) => {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
                    Bytes::from(serde_json::to_vec(b).expect("JSON serializes"))
                }
                None => Bytes::new(),
            };
            let request = OutboundRequest {
                operation,
                method: method.clone(),
                url: self.api_url(path),
                headers,
                body: bytes,
                idempotent,
            };
            let response = self
                .http
                .send(&self.endpoint, request)
                .await
                .map_err(transport_failure)?;
            let status = response.status.as_u16();
            if status == 401 && !refreshed {
                refreshed = true;
                self.forget_token();
                continue;
            }
            if !response.status.is_success() {
                return Err(status_failure(&response, idempotent));
            }
            if response.body.is_empty() {
                return Ok((status, Value::Null));
            }
            let json = serde_json::from_slice(&response.body).map_err(|_| Failure {
                error: provider_error(
                    ProviderFailure::Unavailable,
                    format!("unreadable Paraşüt answer to {operation}"),
                ),
                ambiguous: !idempotent,
                status: Some(status),
            })?;
            return Ok((status, json));
        }
    }

    /// Our customer contact for `buyer`, by tax number or else e-mail,
    /// compared exactly (P11, P12).
    pub async fn find_contact(&self, buyer: &Buyer) -> Result<Option<String>, Error> {
        let (filter, wanted, field) = match (&buyer.tax_number, &buyer.email) {
            (Some(t), _) => ("tax_number", t.as_str(), "tax_number"),
            (None, Some(e)) => ("email", e.as_str(), "email"),
            (None, None) => return Ok(None),
        };
        let query = serde_urlencoded::to_string([
            (format!("filter[{filter}]"), wanted),
            ("filter[account_type]".into(), "customer"),
            ("page[size]".into(), "25"),
        ])
        .expect("query encodes");
        let (_, doc) = self
            .call(
                "parasut_list_contacts",
                Method::GET,
                &format!("contacts?{query}"),
                None,
                true,
            )
            .await?;
        Ok(doc["data"].as_array().and_then(|contacts| {
            contacts.iter().find_map(|c| {
                let value = c["attributes"][field].as_str()?;
                let same = if field == "email" {
                    value.eq_ignore_ascii_case(wanted)
                } else {
                    value == wanted
                };
                same.then(|| id_of(c)).flatten()
            })
        }))
    }

    /// Finds the buyer's contact or creates it; a create whose answer was
    /// lost is looked for again before anything else.
    pub async fn find_or_create_contact(&self, buyer: &Buyer) -> Result<String, Error> {
        if let Some(id) = self.find_contact(buyer).await? {
            return Ok(id);
        }
        let tax_id = buyer
            .tax_id()
            .map_err(|e| Error::validation("buyer.taxNumber", e.to_string()))?;
        let body = contact_body(buyer, tax_id.as_ref());
        match self
            .call(
                "parasut_create_contact",
                Method::POST,
                "contacts",
                Some(&body),
                false,
            )
            .await
        {
            Ok((_, doc)) => id_of(&doc["data"]).ok_or_else(|| {
                provider_error(
                    ProviderFailure::Unavailable,
                    "Paraşüt's contact answer has no id".into(),
                )
            }),
            Err(failure) if failure.ambiguous => {
                match self.find_contact(buyer).await? {
                    Some(id) => Ok(id),
                    // Not there yet: the caller retries later (and finds it
                    // then, or creates it).
                    None => Err(failure.error),
                }
            }
            Err(failure) => Err(failure.error),
        }
    }

    /// Our sales invoice by series and sequence number (P20), if Paraşüt
    /// has it.
    pub async fn find_sales_invoice(
        &self,
        number: &InvoiceNumber,
    ) -> Result<Option<SalesInvoiceView>, Error> {
        let sequence = number.sequence.to_string();
        let query = serde_urlencoded::to_string([
            ("filter[invoice_series]", number.series.as_str()),
            ("filter[invoice_id]", sequence.as_str()),
            ("filter[item_type]", "invoice"),
        ])
        .expect("query encodes");
        let (_, doc) = self
            .call(
                "parasut_list_sales_invoices",
                Method::GET,
                &format!("sales_invoices?{query}"),
                None,
                true,
            )
            .await?;
        let Some(found) = doc["data"].as_array().and_then(|list| {
            list.iter()
                .find(|inv| {
                    let a = &inv["attributes"];
                    a["invoice_series"].as_str() == Some(number.series.as_str())
                        && a["invoice_id"].as_i64() == Some(number.sequence)
                })
                .cloned()
        }) else {
            return Ok(None);
        };
        Ok(read_sales_invoice(&serde_json::json!({ "data": found })))
    }

    pub async fn create_sales_invoice(&self, body: &Value) -> Result<SalesInvoiceView, Failure> {
        let (_, doc) = self
            .call(
                "parasut_create_sales_invoice",
                Method::POST,
                "sales_invoices",
                Some(body),
                false,
            )
            .await?;
        read_sales_invoice(&doc).ok_or_else(|| Failure {
            error: provider_error(
                ProviderFailure::Unavailable,
                "Paraşüt's sales invoice answer has no id".into(),
            ),
            ambiguous: true,
            status: None,
        })
    }

    /// The sales invoice with its active e-document (P27).
    pub async fn show_sales_invoice(&self, id: &str) -> Result<SalesInvoiceView, Error> {
        let (_, doc) = self
            .call(
                "parasut_show_sales_invoice",
                Method::GET,
                &format!("sales_invoices/{id}?include=active_e_document"),
                None,
                true,
            )
            .await?;
        read_sales_invoice(&doc).ok_or_else(|| {
            provider_error(
                ProviderFailure::Unavailable,
                "unreadable Paraşüt sales invoice".into(),
            )
        })
    }

    /// e-Fatura or e-Arşiv for this buyer (P22, P23), with the inbox
    /// address for an e-Fatura.
    pub async fn document_kind(
        &self,
        tax_id: Option<&TaxId>,
    ) -> Result<(DocumentKind, Option<String>), Error> {
        let Some(TaxId::Vkn(vkn)) = tax_id else {
            return Ok((DocumentKind::EArchive, None));
        };
        let (_, doc) = self
            .call(
                "parasut_e_invoice_inboxes",
                Method::GET,
                &format!("e_invoice_inboxes?filter%5Bvkn%5D={vkn}"),
                None,
                true,
            )
            .await?;
        let inbox = doc["data"].as_array().and_then(|inboxes| {
            inboxes
                .iter()
                .find_map(|i| i["attributes"]["e_invoice_address"].as_str())
        });
        Ok(match inbox {
            Some(address) => (DocumentKind::EInvoice, Some(address.to_string())),
            None => (DocumentKind::EArchive, None),
        })
    }

    /// Starts the e-document; answers the trackable job's id (P24, P25).
    pub async fn create_e_document(
        &self,
        kind: DocumentKind,
        body: &Value,
    ) -> Result<String, Failure> {
        let (_, doc) = self
            .call(
                "parasut_create_e_document",
                Method::POST,
                kind.resource(),
                Some(body),
                false,
            )
            .await?;
        id_of(&doc["data"]).ok_or_else(|| Failure {
            error: provider_error(
                ProviderFailure::Unavailable,
                "Paraşüt's e-document answer has no job id".into(),
            ),
            ambiguous: true,
            status: None,
        })
    }

    /// A trackable job's status; `None` when Paraşüt no longer knows the job
    /// (ids live 15 minutes, P26).
    pub async fn job(&self, job_id: &str) -> Result<Option<JobStatus>, Error> {
        match self
            .call(
                "parasut_trackable_job",
                Method::GET,
                &format!("trackable_jobs/{job_id}"),
                None,
                true,
            )
            .await
        {
            Ok((_, doc)) => read_job(&doc).map(|(_, s)| Some(s)).ok_or_else(|| {
                provider_error(
                    ProviderFailure::Unavailable,
                    "unreadable Paraşüt trackable job".into(),
                )
            }),
            Err(f) if f.status == Some(404) => Ok(None),
            Err(f) => Err(f.error),
        }
    }

    /// The PDF's temporary URL and its expiry, or `None` while Paraşüt
    /// answers 204 (not made yet, P30).
    pub async fn pdf_url(
        &self,
        kind: DocumentKind,
        document_id: &str,
    ) -> Result<Option<(String, Option<String>)>, Error> {
        let (status, doc) = self
            .call(
                "parasut_e_document_pdf",
                Method::GET,
                &format!("{}/{document_id}/pdf", kind.resource()),
                None,
                true,
            )
            .await?;
        if status == 204 {
            return Ok(None);
        }
        let attributes = &doc["data"]["attributes"];
        match attributes["url"].as_str() {
            Some(url) if !url.is_empty() => Ok(Some((
                url.to_string(),
                attributes["expires_at"].as_str().map(String::from),
            ))),
            _ => Ok(None),
        }
    }
}

/// The wire module's re-export for callers building bodies.
pub use wire::{e_archive_body, e_invoice_body, sales_invoice_body};
