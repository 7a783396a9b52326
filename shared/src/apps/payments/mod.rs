//! The `payments` function: starts a payment for a stored order.
//!
//! `POST /payments/stripe/intents` with `{"orderId": "…"}`, and iyzico's
//! hosted checkout (`POST /payments/iyzico/checkout`, and the shopper's
//! return to `POST /payments/iyzico/callback`). The amount and currency come
//! from the order in DynamoDB, never from the storefront.

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::checkout_token;
use crate::api::idempotency::{IdempotencyStore, Once};
use crate::api::{body_bytes, deadline_ms, error_response, json_response, parse_json};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::config::{self, HttpSettings, IyzicoSettings, ProcessEnv, StripeSettings};
use crate::config::{Secret, Source};
use crate::domain::order::validate_order_id;
use crate::domain::payment::{HostedForm, MAX_ATTEMPTS};
use crate::domain::refund::{RefundOperation, RefundRecord};
use crate::domain::{Order, PaymentAttempt};
use crate::error::{Error, Result};
use crate::intake::payment_notices::{delivery_claim, AutoRefund, DeliveryApplier};
use crate::intake::refunds::{Gateway, Refunds};
use crate::money::Money;
use crate::ports::{OrderReader, PaymentAttemptRecorder, PaymentLedgerStore, RefundRequestStore};
use crate::providers::http::HttpLayer;
use crate::providers::iyzico::checkout::{
    checkout_request, checkout_result_delivery, verify_checkout_result_signature, CheckoutStarted,
    IyzicoCheckoutRequest,
};
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::stripe::{
    to_stripe_amount, CreatePaymentIntent, PaymentIntent, StripeClient,
};
use sha2::{Digest, Sha256};

const STRIPE: &str = "stripe";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIntentRequest {
    pub order_id: String,
}

/// The answer to the storefront. `amount` is in the currency's ISO minor
/// units (kuruş), whatever unit Stripe itself uses for the currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentCreated {
    pub client_secret: String,
    pub payment_intent_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    /// False when an open intent recorded earlier was handed out again.
    #[serde(skip)]
    pub created: bool,
}

pub struct App<S> {
    store: S,
    stripe: StripeClient,
    /// The bus for the payment events this function publishes (refunds, the
    /// iyzico callback).
    publisher: Option<EventBridgePublisher>,
    /// Present when iyzico is configured for this deployment.
    iyzico: Option<Iyzico>,
    /// `CHECKOUT_TOKEN_SECRET`: verifies the storefront's checkout tokens.
    checkout_secret: Option<Secret>,
    /// `AUTO_REFUND_UNWANTED_PAYMENTS`: the callback gives back payments the
    /// order must not keep (default off).
    auto_refund: bool,
}

/// What the iyzico routes need: the API client and the storefront page to
/// send the shopper to after the hosted checkout.
pub struct Iyzico {
    pub client: IyzicoClient,
    /// `IYZICO_RESULT_URL`; without it the callback answers JSON.
    pub result_url: Option<String>,
}

/// The body of a refund or cancel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundRequest {
    pub order_id: String,
    /// Minor units; everything that remains when absent (refunds only).
    #[serde(default)]
    pub amount: Option<i64>,
    /// Required: the caller's id for this refund (1–64 of A–Z a–z 0–9 - _).
    /// A retry with the same id is the same refund, answered with the first
    /// answer; the same id with other parameters is refused (422).
    #[serde(default)]
    pub request_id: Option<String>,
}

impl App<DynamoStore> {
    /// Builds clients once per cold start.
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let table = config::table_name(&env)?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        let stripe = StripeClient::new(http.clone(), StripeSettings::from_env(&env)?);
        let aws = AwsEnv::from_env()?;
        let store = DynamoStore::new(aws.dynamodb(), table);
        let iyzico = IyzicoSettings::from_env(&env)?.map(|settings| Iyzico {
            client: IyzicoClient::new(http.clone(), settings),
            result_url: config::optional(&env, "IYZICO_RESULT_URL"),
        });
        let publisher = env
            .get("EVENT_BUS_NAME")
            .map(|bus| EventBridgePublisher::new(aws.eventbridge(), bus));
        let checkout_secret = config::optional(&env, "CHECKOUT_TOKEN_SECRET").map(Secret::new);
        Ok(App::new(store, stripe)
            .with_iyzico(iyzico)
            .with_publisher(publisher)
            .with_checkout_secret(checkout_secret)
            .with_auto_refund(config::auto_refund_unwanted_payments(&env)?))
    }
}

impl<S> App<S>
where
    S: OrderReader
        + PaymentAttemptRecorder
        + IdempotencyStore
        + PaymentLedgerStore
        + RefundRequestStore
        + crate::ports::MarketplaceOrderStore,
{
    pub fn new(store: S, stripe: StripeClient) -> Self {
        App {
            store,
            stripe,
            publisher: None,
            iyzico: None,
            checkout_secret: None,
            auto_refund: false,
        }
    }

    pub fn with_auto_refund(mut self, on: bool) -> Self {
        self.auto_refund = on;
        self
    }

    pub fn with_checkout_secret(mut self, secret: Option<Secret>) -> Self {
        self.checkout_secret = secret;
        self
    }

    /// The storefront routes answer only the shopper at this order's
    /// checkout: a valid `X-Checkout-Token` for the order, checked before
    /// anything is read (401 otherwise).
    fn check_checkout_token(&self, req: &Request, order_id: &str) -> Result<()> {
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        let secret = self.checkout_secret.as_ref().ok_or_else(|| {
            Error::Config(
                "CHECKOUT_TOKEN_SECRET is not set (template parameter CheckoutSecretName)".into(),
            )
        })?;
        let token = req
            .headers()
            .get(checkout_token::HEADER)
            .and_then(|v| v.to_str().ok());
        let now = now_ms() / 1000;
        checkout_token::verify(secret, token, order_id, now).map_err(|why| {
            tracing::info!(refusal = ?why, "checkout token refused");
            Error::Unauthorized {
                code: "checkout_token_invalid",
                message: "a valid X-Checkout-Token for this order is required".into(),
            }
        })
    }

    pub fn with_publisher(mut self, publisher: Option<EventBridgePublisher>) -> Self {
        self.publisher = publisher;
        self
    }

    fn publisher(&self) -> Result<&EventBridgePublisher> {
        self.publisher
            .as_ref()
            .ok_or_else(|| Error::Config("EVENT_BUS_NAME is not set".into()))
    }

    pub fn with_iyzico(mut self, iyzico: Option<Iyzico>) -> Self {
        self.iyzico = iyzico;
        self
    }

    /// The Lambda entry point: never fails, every error is a JSON answer.
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let result = match (req.method(), req.uri().path()) {
            (&Method::POST, "/payments/stripe/intents") => {
                match parse_json::<CreateIntentRequest>(body_bytes(&req)) {
                    Ok(body) => match self.check_checkout_token(&req, &body.order_id) {
                        Ok(()) => self
                            .create_stripe_intent(&body.order_id)
                            .await
                            .map(|c| json_response(if c.created { 201 } else { 200 }, &c)),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
            (&Method::POST, "/payments/stripe/refunds") => {
                self.refund(&req, "stripe", RefundOperation::Refund).await
            }
            (&Method::POST, "/payments/iyzico/refunds") => {
                self.refund(&req, "iyzico", RefundOperation::Refund).await
            }
            (&Method::POST, "/payments/iyzico/cancel") => {
                self.refund(&req, "iyzico", RefundOperation::Cancel).await
            }
            (&Method::POST, "/payments/iyzico/callback") => {
                return Ok(self
                    .iyzico_callback(&req)
                    .await
                    .unwrap_or_else(|e| error_response(&e)));
            }
            (&Method::POST, "/payments/iyzico/checkout") => {
                let ip = source_ip(&req);
                match parse_json::<IyzicoCheckoutRequest>(body_bytes(&req)) {
                    Ok(body) => match self.check_checkout_token(&req, &body.order_id) {
                        Ok(()) => self
                            .start_iyzico_checkout(&body, ip.as_deref())
                            .await
                            .map(|c| json_response(201, &c)),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
            (method, path) => Err(Error::NoRoute {
                method: method.to_string(),
                path: path.to_string(),
            }),
        };
        Ok(result.unwrap_or_else(|e| error_response(&e)))
    }

    /// Creates (or hands out again) the Stripe PaymentIntent for an order.
    pub async fn create_stripe_intent(&self, order_id: &str) -> Result<IntentCreated> {
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        let (order, attempts) = self.load_order(order_id).await?;
        ensure_payable(&order)?;
        let money = order.content.total_money();
        let amount = to_stripe_amount(money)?;
        let currency = money.currency.code().to_ascii_lowercase();

        // Look at every earlier Stripe attempt of this order first: one that
        // succeeded means the order is paid (its webhook is on the way); an
        // open one for this amount is handed out again rather than creating a
        // second payable intent; an open one for another amount (the total
        // changed since) is canceled so the shopper cannot pay the old total.
        let mut earlier: Vec<&PaymentAttempt> = attempts
            .iter()
            .filter(|a| a.provider == STRIPE && a.provider_status != "canceled")
            .collect();
        earlier.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        let mut reusable: Option<(PaymentIntent, &PaymentAttempt)> = None;
        for attempt in earlier {
            let intent = self
                .stripe
                .retrieve_payment_intent(&attempt.provider_ref)
                .await?;
            if intent.status == "succeeded" || intent.status == "requires_capture" {
                return Err(already_paid(order_id));
            }
            let same_amount = attempt.amount == money;
            if intent.is_open() && same_amount && reusable.is_none() {
                reusable = Some((intent, attempt));
                continue;
            }
            if intent.is_open() {
                if intent.status == "processing" {
                    return Err(Error::Conflict {
                        code: "payment_in_progress",
                        message: format!("a payment of order {order_id} is being processed"),
                    });
                }
                let canceled = self.stripe.cancel_payment_intent(&intent.id).await?;
                self.record(
                    order_id,
                    attempt.amount,
                    &canceled,
                    &attempt.idempotency_key,
                    &attempt.created_at,
                )
                .await?;
            } else if intent.status != attempt.provider_status {
                self.record(
                    order_id,
                    attempt.amount,
                    &intent,
                    &attempt.idempotency_key,
                    &attempt.created_at,
                )
                .await?;
            }
        }
        if let Some((intent, attempt)) = reusable {
            self.record(
                order_id,
                money,
                &intent,
                &attempt.idempotency_key,
                &attempt.created_at,
            )
            .await?;
            return answer(intent, money, false);
        }
        ensure_attempts_left(order_id, &attempts)?;
        let closed = attempts
            .iter()
            .filter(|a| a.provider == STRIPE && a.amount == money)
            .count();

        let key = idempotency_key(order_id, money, amount, closed);
        let params = CreatePaymentIntent {
            amount,
            currency: currency.clone(),
            order_id: order_id.to_string(),
            description: Some(format!("AyazTrade order {order_id}")),
        };
        let intent = self.stripe.create_payment_intent(&params, &key).await?;
        if intent.amount != amount || intent.currency != currency {
            // Only possible if Stripe replayed an older request under this key.
            return Err(Error::Internal(format!(
                "Stripe returned intent {} for {} {} but we asked for {amount} {currency}",
                intent.id, intent.amount, intent.currency
            )));
        }
        self.record(order_id, money, &intent, &key, &now_rfc3339())
            .await?;
        answer(intent, money, true)
    }

    /// Starts iyzico's hosted checkout for a stored order. The basket is built
    /// in kuruş so that it sums exactly to the price (iyzico error 5062 cannot
    /// happen); the token is recorded so the notification for it can be
    /// tied back to this order.
    pub async fn start_iyzico_checkout(
        &self,
        req: &IyzicoCheckoutRequest,
        shopper_ip: Option<&str>,
    ) -> Result<CheckoutStarted> {
        let iyzico = &self.iyzico()?.client;
        validate_order_id(&req.order_id).map_err(|e| Error::Validation(vec![e]))?;
        let (order, attempts) = self.load_order(&req.order_id).await?;
        ensure_payable(&order)?;
        let callback_url = iyzico.settings().callback_url.as_deref().ok_or_else(|| {
            Error::Config(
                "IYZICO_CALLBACK_URL is not set (template parameter IyzicoCallbackUrl)".into(),
            )
        })?;
        let request = checkout_request(&order, req, shopper_ip, callback_url)?;
        let request_hash = hex::encode(Sha256::digest(
            serde_json::to_vec(&request).expect("request bodies serialize"),
        ));
        let money = order.content.total_money();
        // The same order and shopper details, and the form still open: the
        // same form again (no new token, no new attempt).
        let now = now_ms();
        if let Some(form) = attempts
            .iter()
            .filter(|a| a.provider == "iyzico" && a.provider_status == "checkout_initialized")
            .filter(|a| a.amount == money)
            .find_map(|a| {
                a.hosted_form
                    .as_ref()
                    .filter(|f| f.request_hash == request_hash && f.expires_at_ms > now + 60_000)
                    .map(|f| (a, f))
            })
        {
            let (attempt, form) = form;
            return Ok(CheckoutStarted {
                token: attempt.provider_ref.clone(),
                payment_page_url: form.payment_page_url.clone(),
                checkout_form_content: form.checkout_form_content.clone(),
                amount: money.minor,
                currency: money.currency.code().to_string(),
            });
        }
        ensure_attempts_left(&order.id, &attempts)?;
        let started = iyzico.initialize_checkout_form(&request).await?;
        // iyzico's tokenExpireTime is in seconds; 30 minutes when absent.
        let lifetime_ms = started.token_expire_time.unwrap_or(1_800).clamp(0, 86_400) * 1000;
        self.store
            .record_attempt(&PaymentAttempt {
                order_id: order.id.clone(),
                provider: "iyzico".into(),
                provider_ref: started.token.clone(),
                amount: money,
                provider_status: "checkout_initialized".into(),
                idempotency_key: String::new(),
                created_at: now_rfc3339(),
                hosted_form: Some(HostedForm {
                    request_hash,
                    payment_page_url: started.payment_page_url.clone(),
                    checkout_form_content: started.checkout_form_content.clone(),
                    expires_at_ms: now + lifetime_ms,
                }),
            })
            .await?;
        Ok(CheckoutStarted {
            token: started.token,
            payment_page_url: started.payment_page_url,
            checkout_form_content: started.checkout_form_content,
            amount: money.minor,
            currency: money.currency.code().to_string(),
        })
    }

    /// `POST /payments/{stripe,iyzico}/refunds` and `/payments/iyzico/cancel`:
    /// validated, then run by the one refund protocol (`refunds`), which
    /// answers the first answer to every repeat of a `requestId`.
    async fn refund(
        &self,
        req: &Request,
        provider: &'static str,
        operation: RefundOperation,
    ) -> Result<Response<Body>> {
        let body: RefundRequest = parse_json(body_bytes(req))?;
        validate_order_id(&body.order_id).map_err(|e| Error::Validation(vec![e]))?;
        let request_id = body.request_id.as_deref().unwrap_or_default();
        validate_order_id(request_id).map_err(|_| {
            Error::validation(
                "requestId",
                "is required: 1–64 characters of A–Z, a–z, 0–9, '-' or '_' naming this refund; \
                 send the same one when you retry",
            )
        })?;
        let amount = match operation {
            RefundOperation::Cancel if body.amount.is_some() => {
                return Err(Error::validation(
                    "amount",
                    "a cancel is always of the whole payment",
                ))
            }
            _ => body.amount,
        };
        if amount.is_some_and(|a| a <= 0) {
            return Err(Error::validation("amount", "must be positive"));
        }
        let gateway = match provider {
            "stripe" => Gateway::Stripe(&self.stripe),
            _ => Gateway::Iyzico {
                client: &self.iyzico()?.client,
                ip: source_ip(req).unwrap_or_else(|| "127.0.0.1".into()),
            },
        };
        let refunds = Refunds {
            store: &self.store,
            publisher: self.publisher()?,
            gateway,
        };
        let record = RefundRecord::new(request_id, &body.order_id, provider, operation, amount);
        let now = now_ms();
        let (status, body) = refunds
            .run(record, amount, now, deadline_ms(req, now))
            .await?;
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::Text(body))
            .map_err(|e| Error::Internal(e.to_string()))
    }

    /// The order and its attempts, or 404.
    async fn load_order(&self, order_id: &str) -> Result<(Order, Vec<PaymentAttempt>)> {
        self.store
            .order_with_attempts(order_id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "order",
                id: order_id.to_string(),
            })
    }

    fn iyzico(&self) -> Result<&Iyzico> {
        self.iyzico.as_ref().ok_or_else(|| Error::NoRoute {
            method: "POST".into(),
            path: "/payments/iyzico/… (iyzico is not configured)".into(),
        })
    }

    /// The shopper's browser comes back from iyzico's page with the token.
    /// The token proves nothing by itself: we ask iyzico for the result,
    /// verify its signature, and apply it through the same exactly-once path
    /// as the iyzico webhook (same identity: payment id + status), so
    /// whichever of the two arrives first applies it. Then we redirect.
    async fn iyzico_callback(&self, req: &Request) -> Result<Response<Body>> {
        let iyzico = self.iyzico()?;
        #[derive(Deserialize)]
        struct Callback {
            token: String,
        }
        let form: Callback = serde_urlencoded::from_bytes(body_bytes(req))
            .map_err(|_| Error::validation("token", "a form field `token` is required"))?;
        let token = form.token;
        if token.is_empty()
            || token.len() > 64
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::validation("token", "not an iyzico checkout token"));
        }
        // The order comes from our record of the token, never from iyzico's
        // echo; it is sent as the conversationId iyzico echoes and signs.
        let order_id = self
            .store
            .attempt_for_ref("iyzico", &token)
            .await?
            .map(|a| a.order_id)
            .ok_or_else(|| Error::NotFound {
                what: "iyzico checkout",
                id: token.clone(),
            })?;
        let result = iyzico
            .client
            .retrieve_checkout_form(&token, &order_id)
            .await?;
        if !verify_checkout_result_signature(&result, &iyzico.client.settings().secret_key) {
            tracing::error!("iyzico checkout result signature does not verify");
            return Err(Error::Provider(crate::error::ProviderError {
                provider: "iyzico",
                failure: crate::error::ProviderFailure::Unavailable,
                provider_code: None,
                decline_code: None,
                message: "iyzico's answer could not be verified".into(),
                request_id: None,
            }));
        }
        let delivery = checkout_result_delivery(&result, &token, &order_id)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let now = now_ms();
        let claim = delivery_claim(&delivery, token.as_bytes(), now, deadline_ms(req, now));
        let auto_refund = self.auto_refund.then_some(AutoRefund {
            stripe: Some(&self.stripe),
            iyzico: Some(&iyzico.client),
        });
        let outcome = match DeliveryApplier::new(&self.store, self.publisher()?)
            .with_auto_refund(auto_refund)
            .process(&delivery, &claim)
            .await?
        {
            Once::Ran(outcome) => outcome.to_string(),
            Once::Duplicate { outcome } => outcome,
            Once::InProgress => "in_progress".to_string(),
        };
        let shopper_result = match (result.payment_status.as_deref(), outcome.as_str()) {
            // `stale` and `duplicate_payment`: the order is paid (by this payment,
            // or by another one the merchant is told to refund).
            (Some("SUCCESS"), "applied" | "stale" | "duplicate_payment" | "in_progress") => {
                "success"
            }
            (Some("FAILURE"), _) => "failure",
            _ => "pending",
        };
        tracing::info!(
            order_id,
            outcome,
            shopper_result,
            "iyzico checkout callback"
        );
        Ok(match &iyzico.result_url {
            Some(url) => {
                let query = serde_urlencoded::to_string([
                    ("orderId", order_id.as_str()),
                    ("result", shopper_result),
                ])
                .map_err(|e| Error::Internal(e.to_string()))?;
                let separator = if url.contains('?') { '&' } else { '?' };
                Response::builder()
                    .status(303)
                    .header("location", format!("{url}{separator}{query}"))
                    .body(Body::Empty)
                    .map_err(|_| {
                        Error::Config(format!("IYZICO_RESULT_URL={url:?} is not a valid URL"))
                    })?
            }
            None => json_response(
                200,
                &json!({"orderId": order_id, "result": shopper_result, "outcome": outcome}),
            ),
        })
    }

    async fn record(
        &self,
        order_id: &str,
        money: Money,
        intent: &PaymentIntent,
        key: &str,
        created_at: &str,
    ) -> Result<()> {
        self.store
            .record_attempt(&PaymentAttempt {
                order_id: order_id.to_string(),
                provider: STRIPE.to_string(),
                provider_ref: intent.id.clone(),
                amount: money,
                provider_status: intent.status.clone(),
                idempotency_key: key.to_string(),
                created_at: created_at.to_string(),
                hosted_form: None,
            })
            .await
    }
}

fn source_ip(req: &Request) -> Option<String> {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone(),
        _ => None,
    }
}

fn ensure_payable(order: &Order) -> Result<()> {
    if order.payment_status.is_collected() {
        return Err(already_paid(&order.id));
    }
    Ok(())
}

fn ensure_attempts_left(order_id: &str, attempts: &[PaymentAttempt]) -> Result<()> {
    if attempts.len() >= MAX_ATTEMPTS {
        return Err(Error::Conflict {
            code: "too_many_attempts",
            message: format!(
                "order {order_id} has {} payment attempts already; no more are started",
                attempts.len()
            ),
        });
    }
    Ok(())
}

fn already_paid(order_id: &str) -> Error {
    Error::Conflict {
        code: "order_already_paid",
        message: format!("order {order_id} is already paid"),
    }
}

/// The Stripe `Idempotency-Key`: derived from what is being paid, so a retry
/// or a double click within Stripe's 24 h key window yields the same intent,
/// and a changed total yields a new one. `generation` counts earlier intents
/// for the same amount that were canceled, so a fresh one can be made.
pub fn idempotency_key(
    order_id: &str,
    money: Money,
    stripe_amount: i64,
    generation: usize,
) -> String {
    let base = format!("ayaztrade:pi:{order_id}:{}:{stripe_amount}", money.currency);
    if generation == 0 {
        base
    } else {
        format!("{base}:{generation}")
    }
}

fn answer(intent: PaymentIntent, money: Money, created: bool) -> Result<IntentCreated> {
    let client_secret = intent
        .client_secret
        .ok_or_else(|| Error::Internal(format!("intent {} has no client_secret", intent.id)))?;
    Ok(IntentCreated {
        client_secret,
        payment_intent_id: intent.id,
        amount: money.minor,
        currency: money.currency.code().to_string(),
        status: intent.status,
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn idempotency_key_depends_on_order_amount_and_currency() {
        let m = Money::new(14990, Currency::TRY);
        let k = idempotency_key("ord-1", m, 14990, 0);
        assert_eq!(k, "ayaztrade:pi:ord-1:TRY:14990");
        assert_ne!(
            k,
            idempotency_key("ord-1", Money::new(14991, Currency::TRY), 14991, 0)
        );
        assert_ne!(k, idempotency_key("ord-2", m, 14990, 0));
        assert_ne!(k, idempotency_key("ord-1", m, 14990, 1));
        // Stripe's limit is 255 characters; order ids are at most 64.
        assert!(idempotency_key(&"x".repeat(64), m, 99_999_999, 99).len() <= 255);
    }
}
