//! The `webhook` function: the one door through which providers tell us that
//! something happened. Served by a Lambda function URL with auth NONE, so the
//! checks here are the only guard.
//!
//! For each delivery, in this order:
//! 1. route (`/webhooks/{stripe|iyzico|trendyol|hepsiburada/<event>}`; unknown → 404);
//! 2. size (over 1 MiB → 413);
//! 3. authenticate over the raw received bytes (failure → 401/400, a
//!    "rejected" audit entry without the payload, nothing else);
//! 4. normalize (malformed → 400, audited);
//! 5. claim the provider's event identity (idempotency record, which is also
//!    the audit entry); a duplicate is answered from the record;
//! 6. apply: move the order's payment state forward (never back) and publish
//!    the domain event; a failure releases the claim and answers 5xx so the
//!    provider redelivers.
//!
//! AWS calls for an accepted payment event: 3 DynamoDB writes (claim, order,
//! complete) and 1 PutEvents.
//!
//! Every delivery to a configured provider's path is counted, with its
//! latency, by outcome (`WebhookDeliveries`: accepted, duplicate, stale,
//! rejected, failed); rejections also by reason (`WebhookRejected`).

use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use crate::api::idempotency::{IdempotencyStore, Once};
use crate::api::{body_bytes, deadline_ms, json_response, MAX_BODY_BYTES};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::config::WebhookSettings;
use crate::config::{self, HttpSettings, IyzicoSettings, ProcessEnv, Source, StripeSettings};
use crate::domain::delivery::{Delivery, MalformedPayload};
use crate::domain::marketplace::Marketplace;
use crate::error::Result;
use crate::intake::payment_notices::{delivery_claim, AutoRefund, DeliveryApplier};
use crate::ports::{
    AuditRejected, EventPublisher, MarketplaceOrderStore, OrderReader, PaymentLedgerStore,
    RefundRequestStore, RejectedDelivery,
};
use crate::providers::http::HttpLayer;
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::iyzico::webhook::{
    normalize_iyzico_notification, verify_iyzico_signature, IyzicoAuthError, SIGNATURE_HEADER,
};
use crate::providers::marketplace::hepsiburada::webhook::normalize_hepsiburada_event;
use crate::providers::marketplace::trendyol::webhook::normalize_trendyol_package;
use crate::providers::stripe::webhook::{normalize_stripe_event, verify_stripe_signature};
use crate::providers::stripe::StripeClient;
use crate::telemetry::WebhookOutcome;

/// A refused delivery: status, our reason code, and what to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rejection {
    status: u16,
    reason: &'static str,
}

const fn reject(status: u16, reason: &'static str) -> Rejection {
    Rejection { status, reason }
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    settings: WebhookSettings,
    /// Present when `AUTO_REFUND_UNWANTED_PAYMENTS=true`: the gateways that
    /// give back payments an order must not keep.
    auto_refund: Option<AutoRefundClients>,
}

/// The gateway clients the webhook function refunds unwanted payments with.
pub struct AutoRefundClients {
    pub stripe: Option<StripeClient>,
    pub iyzico: Option<IyzicoClient>,
}

impl AutoRefundClients {
    /// `None` unless `AUTO_REFUND_UNWANTED_PAYMENTS` is `true` (default off).
    pub fn from_env(env: &dyn Source) -> Result<Option<Self>> {
        if !config::auto_refund_unwanted_payments(env)? {
            return Ok(None);
        }
        let http = HttpLayer::new(HttpSettings::from_env(env)?);
        Ok(Some(AutoRefundClients {
            stripe: Some(StripeClient::new(
                http.clone(),
                StripeSettings::from_env(env)?,
            )),
            iyzico: IyzicoSettings::from_env(env)?.map(|s| IyzicoClient::new(http, s)),
        }))
    }
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let bus = config::event_bus_name(&env)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), bus),
            WebhookSettings::from_env(&env)?,
        )
        .with_auto_refund(AutoRefundClients::from_env(&env)?))
    }
}

impl<S, P> App<S, P>
where
    S: IdempotencyStore
        + PaymentLedgerStore
        + AuditRejected
        + MarketplaceOrderStore
        + RefundRequestStore
        + OrderReader,
    P: EventPublisher,
{
    pub fn new(store: S, publisher: P, settings: WebhookSettings) -> Self {
        App {
            store,
            publisher,
            settings,
            auto_refund: None,
        }
    }

    pub fn with_auto_refund(mut self, clients: Option<AutoRefundClients>) -> Self {
        self.auto_refund = clients;
        self
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let started = std::time::Instant::now();
        let (provider, event_name) = match self.route(&req) {
            Ok(route) => route,
            // Not counted: odd paths must not create metrics.
            Err(refused) => return Ok(*refused),
        };
        let (outcome, response) = self.receive(&req, provider, event_name).await;
        crate::telemetry::emit_webhook_delivery(provider, outcome, started.elapsed());
        Ok(response)
    }

    /// One delivery to a configured provider, and what became of it (the
    /// `WebhookDeliveries` metric's `Outcome`).
    async fn receive(
        &self,
        req: &Request,
        provider: &'static str,
        event_name: &str,
    ) -> (WebhookOutcome, Response<Body>) {
        let received_ms = now_ms();
        let deadline_ms = deadline_ms(req, received_ms);
        let method_ok = req.method() == Method::POST
            || (provider == "hepsiburada" && req.method() == Method::PUT);
        if !method_ok {
            let refused = error(405, "method_not_allowed", "webhooks are POSTed");
            return (WebhookOutcome::Rejected, refused);
        }
        let body = body_bytes(req);
        if body.len() > MAX_BODY_BYTES {
            let refused = error(
                413,
                "payload_too_large",
                "webhook bodies are limited to 1 MiB",
            );
            return (WebhookOutcome::Rejected, refused);
        }
        let received = Received {
            provider,
            received_at: crate::domain::delivery::unix_ms_to_rfc3339(received_ms)
                .unwrap_or_else(crate::clock::now_rfc3339),
            source_ip: req
                .request_context_ref()
                .and_then(source_ip_of)
                .map(str::to_owned),
            received_ms,
        };
        let delivery = match self.authenticated(&received, event_name, req, body).await {
            Ok(delivery) => delivery,
            Err(refused) => return (WebhookOutcome::Rejected, refused),
        };

        let claim = delivery_claim(&delivery, body, received_ms, deadline_ms);
        let auto_refund = self.auto_refund.as_ref().map(|c| AutoRefund {
            stripe: c.stripe.as_ref(),
            iyzico: c.iyzico.as_ref(),
        });
        let result = DeliveryApplier::new(&self.store, &self.publisher)
            .with_auto_refund(auto_refund)
            .with_personal_data_retention(self.settings.personal_data_retention)
            .process(&delivery, &claim)
            .await;
        if matches!(result, Ok(Once::Ran("unknown_order"))) {
            self.audit(&received, "unknown_order").await;
        }
        answer(provider, &delivery, result)
    }

    /// The provider and event name of `/webhooks/{provider}[/{event}]`, or
    /// the answer to a path or provider we do not serve.
    fn route<'r>(&self, req: &'r Request) -> Result<(&'static str, &'r str), Box<Response<Body>>> {
        let Some(route) = req.uri().path().strip_prefix("/webhooks/") else {
            return Err(Box::new(error(404, "no_route", "unknown path")));
        };
        let (provider, event_name) = route.split_once('/').unwrap_or((route, ""));
        let Some(provider) = self.enabled_provider(provider) else {
            return Err(Box::new(error(
                404,
                "unknown_provider",
                "no such webhook provider",
            )));
        };
        Ok((provider, event_name))
    }

    /// The delivery, authenticated and normalized; else the (audited)
    /// answer to a rejected or malformed one.
    async fn authenticated(
        &self,
        received: &Received<'_>,
        event_name: &str,
        req: &Request,
        body: &[u8],
    ) -> Result<Delivery, Response<Body>> {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        match self.authenticate(
            received.provider,
            event_name,
            &header,
            body,
            received.received_ms,
        ) {
            Ok(Ok(delivery)) => Ok(delivery),
            Ok(Err(malformed)) => {
                self.audit(received, "rejected:malformed").await;
                Err(error(400, "malformed_payload", &malformed.to_string()))
            }
            Err(rejection) => {
                self.audit(received, &format!("rejected:{}", rejection.reason))
                    .await;
                let message = if rejection.status == 400 {
                    "malformed authentication header"
                } else {
                    "authentication failed"
                };
                Err(error(rejection.status, rejection.reason, message))
            }
        }
    }

    fn enabled_provider(&self, name: &str) -> Option<&'static str> {
        let s = &self.settings;
        match name {
            "stripe" if !s.stripe_secrets.is_empty() => Some("stripe"),
            "iyzico" if s.iyzico_secret_key.is_some() => Some("iyzico"),
            _ => Marketplace::parse(name)
                .filter(|m| s.marketplaces.configured(*m).is_some())
                .map(Marketplace::as_str),
        }
    }

    /// Checks the provider's credentials over the raw bytes, then normalizes.
    /// The outer error is an authentication failure; the inner one a payload
    /// that authenticated but cannot be understood.
    fn authenticate<'h>(
        &self,
        provider: &str,
        event_name: &str,
        header: &dyn Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now_ms: i64,
    ) -> Result<Result<Delivery, MalformedPayload>, Rejection> {
        let s = &self.settings;
        match provider {
            "stripe" => {
                verify_stripe_signature(
                    header("stripe-signature"),
                    body,
                    &s.stripe_secrets,
                    now_ms / 1000,
                    s.stripe_tolerance_secs,
                )
                .map_err(|e| {
                    tracing::info!(reason = %e, "Stripe signature rejected");
                    if e.is_malformed() {
                        reject(400, "malformed_signature")
                    } else {
                        reject(401, "bad_signature")
                    }
                })?;
                Ok(normalize_stripe_event(body))
            }
            "iyzico" => {
                let Some(key) = s.iyzico_secret_key.as_ref() else {
                    return Err(reject(404, "unknown_provider"));
                };
                match verify_iyzico_signature(header(SIGNATURE_HEADER), body, key) {
                    Ok(n) => Ok(normalize_iyzico_notification(n)),
                    Err(IyzicoAuthError::Missing | IyzicoAuthError::Mismatch) => {
                        Err(reject(401, "bad_signature"))
                    }
                    // Unparseable and unsigned: we cannot tell it is iyzico.
                    Err(IyzicoAuthError::Malformed(_)) => {
                        Err(reject(400, "malformed_unauthenticated"))
                    }
                }
            }
            _ => {
                let Some((marketplace, creds)) = Marketplace::parse(provider)
                    .and_then(|m| Some((m, s.marketplaces.configured(m)?)))
                else {
                    return Err(reject(404, "unknown_provider"));
                };
                if !creds.verify(header) {
                    return Err(reject(401, "bad_credentials"));
                }
                Ok(match marketplace {
                    Marketplace::Trendyol => normalize_trendyol_package(body),
                    Marketplace::Hepsiburada => normalize_hepsiburada_event(event_name, body),
                })
            }
        }
    }

    async fn audit(&self, received: &Received<'_>, outcome: &str) {
        let (provider, now_ms) = (received.provider, received.received_ms);
        let entry = RejectedDelivery {
            provider,
            received_at: &received.received_at,
            outcome,
            source_ip: received.source_ip.as_deref(),
            now_unix: now_ms / 1000,
        };
        // Unauthenticated input must not become a write per request: every
        // rejection is counted (a metric), but this container audits at most
        // one a second, so a flood cannot heat the partitions that
        // legitimate claims write to.
        // (A malformed payload passed authentication: always audited.)
        if outcome.starts_with("rejected:") && outcome != "rejected:malformed" {
            crate::telemetry::emit_webhook_rejected(provider, outcome);
            if !audit_sample_due(now_ms) {
                return;
            }
        }
        if let Err(e) = self.store.audit_rejected(&entry).await {
            tracing::error!(error = %e, "could not audit a rejected webhook");
        }
    }
}

/// A delivery as it arrived: what an audit entry records of it.
struct Received<'a> {
    provider: &'a str,
    received_at: String,
    source_ip: Option<String>,
    received_ms: i64,
}

/// The answer to a delivery claimed and applied: 200 with its outcome (a
/// duplicate's from its record), 409 while another delivery of the event
/// is being processed, or the error's status.
fn answer(
    provider: &str,
    delivery: &Delivery,
    result: Result<Once<&str>>,
) -> (WebhookOutcome, Response<Body>) {
    use WebhookOutcome::{Accepted, Duplicate, Failed, Rejected, Stale};
    match result {
        Ok(Once::Ran(outcome)) => {
            tracing::info!(provider, event_id = %delivery.event_id, event_type = %delivery.event_type, outcome, "webhook processed");
            (
                if outcome == "stale" { Stale } else { Accepted },
                json_response(200, &json!({"received": true, "outcome": outcome})),
            )
        }
        Ok(Once::Duplicate { outcome }) => {
            tracing::info!(provider, event_id = %delivery.event_id, outcome = %outcome, "duplicate webhook");
            (
                Duplicate,
                json_response(
                    200,
                    &json!({"received": true, "duplicate": true, "outcome": outcome}),
                ),
            )
        }
        // The provider retries later; by then the first delivery is done.
        Ok(Once::InProgress) => (
            Duplicate,
            error(409, "in_progress", "this event is being processed"),
        ),
        // 5xx: ours to fix, the provider redelivers; 4xx: refused.
        Err(e) if e.http_status() >= 500 => (Failed, crate::api::error_response(&e)),
        Err(e) => (Rejected, crate::api::error_response(&e)),
    }
}

/// At most one rejected-delivery audit per second per container.
fn audit_sample_due(now_ms: i64) -> bool {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST_SECOND: AtomicI64 = AtomicI64::new(i64::MIN);
    let second = now_ms.div_euclid(1000);
    LAST_SECOND.swap(second, Ordering::Relaxed) != second
}

fn source_ip_of(ctx: &lambda_http::request::RequestContext) -> Option<&str> {
    match ctx {
        lambda_http::request::RequestContext::ApiGatewayV2(c) => c.http.source_ip.as_deref(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

#[cfg(test)]
mod sampling_tests {
    #[test]
    fn one_rejection_audit_a_second() {
        let base = 1_795_700_000_000i64;
        assert!(super::audit_sample_due(base));
        assert!(!super::audit_sample_due(base + 10));
        assert!(!super::audit_sample_due(base + 999));
        assert!(super::audit_sample_due(base + 1_000));
    }
}
