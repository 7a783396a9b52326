//! The `payments` function: payments and refunds of the platform's orders.
//!
//! - Stripe (`stripe.rs`): `POST /payments/stripe/intents` with
//!   `{"orderId": "…"}`, and `POST /payments/stripe/refunds`.
//! - iyzico (`iyzico.rs`): the hosted checkout (`POST /payments/iyzico/checkout`),
//!   the shopper's return (`POST /payments/iyzico/callback`),
//!   `POST /payments/iyzico/refunds` and `/payments/iyzico/cancel`.
//!
//! The amount and currency always come from the order in DynamoDB, never
//! from the storefront. Refunds and cancels run the one refund protocol
//! (`intake::refunds`).

pub mod iyzico;
pub mod stripe;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use crate::api::checkout_token;
use crate::api::idempotency::IdempotencyStore;
use crate::api::{body_bytes, deadline_ms, error_response, json_response, parse_json};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::config::{self, HttpSettings, IyzicoSettings, ProcessEnv, StripeSettings};
use crate::config::{Secret, Source};
use crate::domain::order::validate_order_id;
use crate::domain::payment::MAX_ATTEMPTS;
use crate::domain::refund::{RefundOperation, RefundRecord};
use crate::domain::{Order, PaymentAttempt};
use crate::error::{Error, Result};
use crate::intake::refunds::{Gateway, Refunds};
use crate::ports::{
    MarketplaceOrderStore, OrderReader, PaymentAttemptRecorder, PaymentLedgerStore,
    RefundRequestStore,
};
use crate::providers::http::HttpLayer;
use crate::providers::iyzico::checkout::IyzicoCheckoutRequest;
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::stripe::StripeClient;

use self::stripe::CreateIntentRequest;

/// Everything the payments app reads and writes (DynamoDB in production).
pub trait PaymentsStore:
    OrderReader
    + PaymentAttemptRecorder
    + IdempotencyStore
    + PaymentLedgerStore
    + RefundRequestStore
    + MarketplaceOrderStore
{
}

impl<S> PaymentsStore for S where
    S: OrderReader
        + PaymentAttemptRecorder
        + IdempotencyStore
        + PaymentLedgerStore
        + RefundRequestStore
        + MarketplaceOrderStore
{
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

impl<S: PaymentsStore> App<S> {
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
