//! Stripe: the PaymentIntent for an order (`POST /payments/stripe/intents`).

use serde::{Deserialize, Serialize};

use super::{already_paid, ensure_attempts_left, ensure_payable, App, PaymentsStore};
use crate::clock::now_rfc3339;
use crate::domain::order::validate_order_id;
use crate::domain::PaymentAttempt;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::providers::stripe::{to_stripe_amount, CreatePaymentIntent, PaymentIntent};

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

impl<S: PaymentsStore> App<S> {
    /// Creates (or hands out again) the Stripe PaymentIntent for an order.
    pub async fn create_stripe_intent(&self, order_id: &str) -> Result<IntentCreated> {
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        let (order, attempts) = self.load_order(order_id).await?;
        ensure_payable(&order)?;
        let money = order.content.total_money();
        let amount = to_stripe_amount(money)?;
        let currency = money.currency.code().to_ascii_lowercase();

        if let Some((intent, attempt)) = self
            .settle_earlier_intents(order_id, money, &attempts)
            .await?
        {
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

    /// Looks at every earlier Stripe attempt of the order and answers the
    /// open intent for `money` to hand out again, if any.
    async fn settle_earlier_intents<'a>(
        &self,
        order_id: &str,
        money: Money,
        attempts: &'a [PaymentAttempt],
    ) -> Result<Option<(PaymentIntent, &'a PaymentAttempt)>> {
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
        let mut reusable: Option<(PaymentIntent, &'a PaymentAttempt)> = None;
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
        Ok(reusable)
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
