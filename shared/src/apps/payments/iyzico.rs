//! iyzico: the hosted checkout (`POST /payments/iyzico/checkout`) and the
//! shopper's return from it (`POST /payments/iyzico/callback`).

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{ensure_attempts_left, ensure_payable, App, Iyzico, PaymentsStore};
use crate::api::idempotency::Once;
use crate::api::{body_bytes, deadline_ms, json_response};
use crate::clock::{now_ms, now_rfc3339};
use crate::domain::order::validate_order_id;
use crate::domain::payment::HostedForm;
use crate::domain::PaymentAttempt;
use crate::error::{Error, Result};
use crate::intake::payment_notices::{delivery_claim, AutoRefund, DeliveryApplier};
use crate::providers::iyzico::checkout::{
    checkout_request, checkout_result_delivery, verify_checkout_result_signature, CheckoutStarted,
    IyzicoCheckoutRequest,
};
use crate::providers::iyzico::wire::CheckoutFormResult;

impl<S: PaymentsStore> App<S> {
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

    /// The shopper's browser comes back from iyzico's page with the token.
    /// The token proves nothing by itself: we ask iyzico for the result,
    /// verify its signature, and apply it through the same exactly-once path
    /// as the iyzico webhook (same identity: payment id + status), so
    /// whichever of the two arrives first applies it. Then we redirect.
    pub(super) async fn iyzico_callback(&self, req: &Request) -> Result<Response<Body>> {
        let iyzico = self.iyzico()?;
        let token = callback_token(req)?;
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
        let result = verified_result(iyzico, &token, &order_id).await?;
        let outcome = self
            .apply_checkout_result(iyzico, req, &result, &token, &order_id)
            .await?;
        let shopper_result = shopper_result(result.payment_status.as_deref(), &outcome);
        tracing::info!(
            order_id,
            outcome,
            shopper_result,
            "iyzico checkout callback"
        );
        shopper_answer(iyzico, &order_id, shopper_result, &outcome)
    }

    /// Applies the checkout result through the exactly-once path the
    /// webhook uses; the outcome (a duplicate's from its record,
    /// `in_progress` while the webhook applies it).
    async fn apply_checkout_result(
        &self,
        iyzico: &Iyzico,
        req: &Request,
        result: &CheckoutFormResult,
        token: &str,
        order_id: &str,
    ) -> Result<String> {
        let delivery = checkout_result_delivery(result, token, order_id)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let now = now_ms();
        let claim = delivery_claim(&delivery, token.as_bytes(), now, deadline_ms(req, now));
        let auto_refund = self.auto_refund.then_some(AutoRefund {
            stripe: Some(&self.stripe),
            iyzico: Some(&iyzico.client),
        });
        Ok(
            match DeliveryApplier::new(&self.store, self.publisher()?)
                .with_auto_refund(auto_refund)
                .process(&delivery, &claim)
                .await?
            {
                Once::Ran(outcome) => outcome.to_string(),
                Once::Duplicate { outcome } => outcome,
                Once::InProgress => "in_progress".to_string(),
            },
        )
    }
}

/// The checkout token the shopper's browser posts back (form field `token`).
fn callback_token(req: &Request) -> Result<String> {
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
    Ok(token)
}

/// iyzico's result for the token, asked of iyzico and its signature verified.
async fn verified_result(
    iyzico: &Iyzico,
    token: &str,
    order_id: &str,
) -> Result<CheckoutFormResult> {
    let result = iyzico
        .client
        .retrieve_checkout_form(token, order_id)
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
    Ok(result)
}

/// What the shopper is told: success, failure, or pending.
fn shopper_result(payment_status: Option<&str>, outcome: &str) -> &'static str {
    match (payment_status, outcome) {
        // `stale` and `duplicate_payment`: the order is paid (by this payment,
        // or by another one the merchant is told to refund).
        (Some("SUCCESS"), "applied" | "stale" | "duplicate_payment" | "in_progress") => "success",
        (Some("FAILURE"), _) => "failure",
        _ => "pending",
    }
}

/// A redirect to `IYZICO_RESULT_URL` with the order and its result; JSON
/// without one.
fn shopper_answer(
    iyzico: &Iyzico,
    order_id: &str,
    shopper_result: &str,
    outcome: &str,
) -> Result<Response<Body>> {
    Ok(match &iyzico.result_url {
        Some(url) => {
            let query =
                serde_urlencoded::to_string([("orderId", order_id), ("result", shopper_result)])
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
