//! The `create-payment-intent` function: starts a payment for a stored order.
//!
//! `POST /payments/stripe/intents` with `{"orderId": "…"}`, and iyzico's
//! hosted checkout (`POST /payments/iyzico/checkout`, and the shopper's
//! return to `POST /payments/iyzico/callback`). The amount and currency come
//! from the order in DynamoDB, never from the storefront.

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::config::Source;
use crate::config::{self, HttpSettings, IyzicoSettings, ProcessEnv, StripeSettings};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, PaymentDetail};
use crate::domain::order::validate_order_id;
use crate::domain::payment::{plan_refund, RefundPlan};
use crate::domain::{Order, PaymentAttempt};
use crate::error::{Error, Result};
use crate::http_api::{
    body_bytes, deadline_ms, error_response, json_response, now_rfc3339, parse_json,
};
use crate::idempotency::{now_ms, AuditInfo, Claim, IdempotencyStore, Once};
use crate::idempotency::{run_once, Disposition};
use crate::money::Money;
use crate::payment_events::{delivery_claim, DeliveryApplier};
use crate::ports::{
    EventPublisher, OrderReader, PaymentAttemptRecorder, PaymentEventStore, RefundRecorder,
};
use crate::providers::http::HttpLayer;
use crate::providers::iyzico::checkout::{
    checkout_request, checkout_result_delivery, verify_checkout_result_signature, CheckoutStarted,
    IyzicoCheckoutRequest,
};
use crate::providers::iyzico::client::IyzicoClient;
use crate::providers::iyzico::price::format_price;
use crate::providers::iyzico::wire::{CancelRequest, RefundRequest as IyzicoRefundRequest};
use crate::providers::stripe::{
    to_stripe_amount, CreatePaymentIntent, PaymentIntent, StripeClient,
};

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
}

/// What the iyzico routes need: the API client and the storefront page to
/// send the shopper to after the hosted checkout.
pub struct Iyzico {
    pub client: IyzicoClient,
    /// `IYZICO_RESULT_URL`; without it the callback answers JSON.
    pub result_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundRequest {
    pub order_id: String,
    /// Minor units; everything that remains when absent.
    #[serde(default)]
    pub amount: Option<i64>,
    /// The caller's id for this refund (1–64 of A–Z a–z 0–9 - _). Send it to
    /// make your own retries safe: the same id is the same refund at Stripe
    /// and is counted once.
    #[serde(default)]
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequestBody {
    pub order_id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundMade {
    pub refund_id: String,
    pub order_id: String,
    pub amount: i64,
    pub refunded_total: i64,
    pub remaining: i64,
    pub currency: String,
    pub payment_status: String,
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
            result_url: env.get("IYZICO_RESULT_URL").filter(|v| v != "-"),
        });
        let publisher = env
            .get("EVENT_BUS_NAME")
            .map(|bus| EventBridgePublisher::new(aws.eventbridge(), bus));
        Ok(App::new(store, stripe)
            .with_iyzico(iyzico)
            .with_publisher(publisher))
    }
}

impl<S> App<S>
where
    S: OrderReader
        + PaymentAttemptRecorder
        + IdempotencyStore
        + PaymentEventStore
        + RefundRecorder
        + crate::ports::MarketplaceOrderStore,
{
    pub fn new(store: S, stripe: StripeClient) -> Self {
        App {
            store,
            stripe,
            publisher: None,
            iyzico: None,
        }
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
                    Ok(body) => self
                        .create_stripe_intent(&body.order_id)
                        .await
                        .map(|c| json_response(if c.created { 201 } else { 200 }, &c)),
                    Err(e) => Err(e),
                }
            }
            (&Method::POST, "/payments/stripe/refunds") => {
                match parse_json::<RefundRequest>(body_bytes(&req)) {
                    Ok(body) => self
                        .refund_stripe(&body.order_id, body.amount, body.request_id.as_deref())
                        .await
                        .map(|r| json_response(201, &r)),
                    Err(e) => Err(e),
                }
            }
            (&Method::POST, "/payments/iyzico/refunds") => {
                let ip = source_ip(&req);
                match parse_json::<RefundRequest>(body_bytes(&req)) {
                    Ok(body) => self
                        .refund_iyzico(&req, &body, ip.as_deref())
                        .await
                        .map(|(status, r)| json_response(status, &r)),
                    Err(e) => Err(e),
                }
            }
            (&Method::POST, "/payments/iyzico/cancel") => {
                let ip = source_ip(&req);
                match parse_json::<CancelRequestBody>(body_bytes(&req)) {
                    Ok(body) => self
                        .cancel_iyzico(&body.order_id, ip.as_deref())
                        .await
                        .map(|r| json_response(201, &r)),
                    Err(e) => Err(e),
                }
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
                    Ok(body) => self
                        .start_iyzico_checkout(&body, ip.as_deref())
                        .await
                        .map(|c| json_response(201, &c)),
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
        let (order, _) = self.load_order(&req.order_id).await?;
        ensure_payable(&order)?;
        let callback_url = iyzico.settings().callback_url.as_deref().ok_or_else(|| {
            Error::Config(
                "IYZICO_CALLBACK_URL is not set (template parameter IyzicoCallbackUrl)".into(),
            )
        })?;
        let request = checkout_request(&order, req, shopper_ip, callback_url)?;
        let started = iyzico.initialize_checkout_form(&request).await?;
        let money = order.content.total_money();
        self.store
            .record_attempt(&PaymentAttempt {
                order_id: order.id.clone(),
                provider: "iyzico".into(),
                provider_ref: started.token.clone(),
                amount: money,
                provider_status: "checkout_initialized".into(),
                idempotency_key: String::new(),
                created_at: now_rfc3339(),
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

    /// Refunds (part of) a Stripe-paid order. Never more than what remains
    /// refundable by our record. The Stripe key is the caller's `requestId`,
    /// or else derived from the order's refunded total before this refund
    /// (concurrent duplicates are then one refund; a retry after success is
    /// a new one, so callers that retry should send a `requestId`). A refund
    /// id already on the order is never counted twice. The later `charge.refunded`
    /// webhook carries the same cumulative total and changes nothing.
    pub async fn refund_stripe(
        &self,
        order_id: &str,
        amount: Option<i64>,
        request_id: Option<&str>,
    ) -> Result<RefundMade> {
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        if let Some(id) = request_id {
            validate_order_id(id).map_err(|_| {
                Error::validation(
                    "requestId",
                    "must be 1–64 characters of A–Z, a–z, 0–9, '-' or '_'",
                )
            })?;
        }
        self.publisher()?;
        let (order, _) = self.load_order(order_id).await?;
        let plan = plan_refund(&order, STRIPE, amount)?;
        let currency = order.content.currency;
        let stripe_amount = to_stripe_amount(Money::new(plan.amount, currency))?;
        let key = format!(
            "ayaztrade:refund:{order_id}:{}:{}",
            plan.before, plan.amount
        );
        let refund = self
            .stripe
            .create_refund(&plan.provider_ref, stripe_amount, order_id, &key)
            .await?;
        if refund.status == "failed" || refund.status == "canceled" {
            return Err(Error::Unprocessable {
                code: "refund_failed",
                message: format!("Stripe refund {} is {}", refund.id, refund.status),
            });
        }
        self.record_refund(&order, &plan, STRIPE, refund.id).await
    }

    /// Refunds part or all of an iyzico payment (`/v2/payment/refund`).
    /// iyzico has no idempotency keys, so the refund runs under our own
    /// idempotency record (keyed by `requestId`, else by the refunded total
    /// before it and the amount): a repeated request answers from the record
    /// (200) instead of refunding twice.
    pub async fn refund_iyzico(
        &self,
        req: &Request,
        body: &RefundRequest,
        ip: Option<&str>,
    ) -> Result<(u16, RefundMade)> {
        let order_id = body.order_id.as_str();
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        if let Some(id) = &body.request_id {
            validate_order_id(id).map_err(|_| {
                Error::validation(
                    "requestId",
                    "must be 1–64 characters of A–Z, a–z, 0–9, '-' or '_'",
                )
            })?;
        }
        let iyzico = &self.iyzico()?.client;
        self.publisher()?;
        let (order, _) = self.load_order(order_id).await?;
        let plan = plan_refund(&order, "iyzico", body.amount)?;
        let currency = order.content.currency;
        let key = match &body.request_id {
            Some(id) => format!("{order_id}:req:{id}"),
            None => format!("{order_id}:{}:{}", plan.before, plan.amount),
        };
        let now = now_ms();
        let claim = Claim {
            scope: "refund:iyzico".into(),
            key: key.clone(),
            payload_hash: format!("{}:{}", plan.amount, currency),
            now_ms: now,
            in_progress_until_ms: deadline_ms(req, now),
            expires_at: now / 1000 + crate::aws::idempotency::AUDIT_RETENTION_SECS,
            audit: AuditInfo {
                provider: "iyzico".into(),
                event_type: "refund".into(),
                event_id: key.clone(),
                received_at: now_rfc3339(),
            },
        };
        let once = run_once(&self.store, &claim, || async {
            let request = IyzicoRefundRequest {
                locale: "tr",
                conversation_id: order_id.to_string(),
                payment_id: plan.provider_ref.clone(),
                price: format_price(Money::new(plan.amount, currency)),
                currency: currency.code().to_string(),
                ip: ip.unwrap_or("127.0.0.1").to_string(),
            };
            iyzico.refund_payment(&request).await?;
            let made = self
                .record_refund(&order, &plan, "iyzico", format!("refund-{key}"))
                .await?;
            Ok((made, Disposition::Complete("refunded".into())))
        })
        .await?;
        match once {
            Once::Ran(made) => Ok((201, made)),
            Once::Duplicate { .. } => {
                let (now, _) = self.load_order(order_id).await?;
                let refunded = now.collected.refunded_minor;
                Ok((
                    200,
                    RefundMade {
                        refund_id: format!("refund-{key}"),
                        order_id: order_id.to_string(),
                        amount: body.amount.unwrap_or(plan.amount),
                        refunded_total: refunded,
                        remaining: now.collected.paid_minor.unwrap_or_default() - refunded,
                        currency: currency.code().to_string(),
                        payment_status: now.payment_status.as_str().into(),
                    },
                ))
            }
            Once::InProgress => Err(Error::Conflict {
                code: "in_progress",
                message: format!("a refund of order {order_id} with this request is in progress"),
            }),
        }
    }

    /// Cancels a same-day iyzico payment as a whole (`/payment/cancel`):
    /// recorded as a full refund. Refused once part of it was refunded.
    pub async fn cancel_iyzico(&self, order_id: &str, ip: Option<&str>) -> Result<RefundMade> {
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        let iyzico = &self.iyzico()?.client;
        let (order, _) = self.load_order(order_id).await?;
        let plan = plan_refund(&order, "iyzico", None)?;
        if plan.before > 0 {
            return Err(Error::Conflict {
                code: "partially_refunded",
                message: format!(
                    "order {order_id} was partly refunded; refund the rest instead of cancelling"
                ),
            });
        }
        let request = CancelRequest {
            locale: "tr",
            conversation_id: order_id.to_string(),
            payment_id: plan.provider_ref.clone(),
            ip: ip.unwrap_or("127.0.0.1").to_string(),
            reason: "other",
        };
        iyzico.cancel_payment(&request).await?;
        let id = format!("cancel-{}", plan.provider_ref);
        self.record_refund(&order, &plan, "iyzico", id).await
    }

    /// Counts a refund the gateway made (once per refund id) and publishes
    /// `payment.refunded` with the cumulative refunded amount.
    async fn record_refund(
        &self,
        order: &Order,
        plan: &RefundPlan,
        provider: &str,
        refund_id: String,
    ) -> Result<RefundMade> {
        let currency = order.content.currency;
        let event_id = format!("{provider}:{refund_id}");
        let (refunded_total, status) = if self
            .store
            .record_refund(&order.id, plan, &event_id, &now_rfc3339())
            .await?
        {
            self.publisher()?
                .publish(&[DomainEvent {
                    detail_type: DetailType::PaymentRefunded,
                    event_id,
                    occurred_at: now_rfc3339(),
                    detail: EventDetail::Payment(PaymentDetail {
                        order_id: order.id.clone(),
                        provider: provider.into(),
                        provider_ref: plan.provider_ref.clone(),
                        amount: Some(Money::new(plan.after, currency)),
                        payment_status: plan.to.as_str().into(),
                        failure_code: None,
                        failure_message: None,
                        dispute_reason: None,
                    }),
                }])
                .await?;
            (plan.after, plan.to)
        } else {
            // A replay of a refund we already counted, or another refund (or
            // its webhook) moved the total first: report what the order says.
            tracing::warn!(order_id = %order.id, refund_id, "refund not recorded again; reporting the order's totals");
            let (now, _) = self.load_order(&order.id).await?;
            (now.collected.refunded_minor, now.payment_status)
        };
        Ok(RefundMade {
            refund_id,
            order_id: order.id.clone(),
            amount: plan.amount,
            refunded_total,
            remaining: order.collected.paid_minor.unwrap_or_default() - refunded_total,
            currency: currency.code().to_string(),
            payment_status: status.as_str().into(),
        })
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
        let result = iyzico.client.retrieve_checkout_form(&token).await?;
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
        let delivery = checkout_result_delivery(&result, &token)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let now = now_ms();
        let claim = delivery_claim(&delivery, token.as_bytes(), now, deadline_ms(req, now));
        let outcome = match DeliveryApplier::new(&self.store, self.publisher()?)
            .process(&delivery, &claim)
            .await?
        {
            Once::Ran(outcome) => outcome.to_string(),
            Once::Duplicate { outcome } => outcome,
            Once::InProgress => "in_progress".to_string(),
        };
        let order_id = result.conversation_id.clone().unwrap_or_default();
        let shopper_result = match (result.payment_status.as_deref(), outcome.as_str()) {
            (Some("SUCCESS"), "applied" | "stale" | "in_progress") => "success",
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
