//! Building iyzico's hosted-checkout request from a stored order and the
//! shopper details the storefront sends. Pure: no I/O.

use crate::providers::signing::{constant_time_eq, hmac_sha256_hex};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::domain::basket::basket_items;
use crate::domain::delivery::{Delivery, Effect, MalformedPayload, OrderRef, PaymentNotice};
use crate::domain::{Order, PaymentEventKind};
use crate::error::{Error, FieldError, Result};
use crate::money::Currency;
use crate::money::Money;
use crate::providers::iyzico::price::format_price;
use crate::providers::iyzico::webhook::payment_event_identity;
use crate::providers::iyzico::wire::CheckoutFormResult;
use crate::providers::iyzico::wire::{Address, BasketItem, Buyer, CheckoutFormInitialize};

/// Currencies iyzico takes (docs/iyzico-wire.md I19).
pub const CURRENCIES: &[&str] = &["TRY", "EUR", "USD", "GBP", "CHF", "NOK", "RUB", "IRR"];

/// The body of `POST /payments/iyzico/checkout`. No card data ever passes
/// through us: the shopper types it into iyzico's page.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IyzicoCheckoutRequest {
    pub order_id: String,
    pub buyer: BuyerInput,
    #[serde(default)]
    pub shipping_address: Option<AddressInput>,
    #[serde(default)]
    pub billing_address: Option<AddressInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuyerInput {
    pub name: String,
    pub surname: String,
    /// T.C. kimlik no (11 digits); iyzico's sandbox accepts 11111111111.
    pub identity_number: String,
    pub email: String,
    #[serde(default)]
    pub gsm_number: Option<String>,
    pub address: String,
    pub city: String,
    pub country: String,
    #[serde(default)]
    pub zip_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressInput {
    pub contact_name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    #[serde(default)]
    pub zip_code: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutStarted {
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_page_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_form_content: Option<String>,
    /// ISO minor units.
    pub amount: i64,
    pub currency: String,
}

fn required(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    }
}

fn address_of(a: &AddressInput) -> Address {
    Address {
        contact_name: a.contact_name.clone(),
        city: a.city.clone(),
        country: a.country.clone(),
        address: a.address.clone(),
        zip_code: a.zip_code.clone(),
    }
}

/// The initialize request for `order`; per-field 400s for bad shopper data.
pub fn checkout_request(
    order: &Order,
    req: &IyzicoCheckoutRequest,
    shopper_ip: Option<&str>,
    callback_url: &str,
) -> Result<CheckoutFormInitialize> {
    let content = &order.content;
    let currency = content.currency.code();
    if !CURRENCIES.contains(&currency) {
        return Err(Error::Unprocessable {
            code: "currency_not_supported",
            message: format!("iyzico does not take {currency}"),
        });
    }
    if content.total <= 0 {
        return Err(Error::Unprocessable {
            code: "nothing_to_pay",
            message: format!("order {} has nothing to pay", order.id),
        });
    }
    let b = &req.buyer;
    let mut errors = Vec::new();
    required(&mut errors, "buyer.name", &b.name);
    required(&mut errors, "buyer.surname", &b.surname);
    required(&mut errors, "buyer.address", &b.address);
    required(&mut errors, "buyer.city", &b.city);
    required(&mut errors, "buyer.country", &b.country);
    if !(b.identity_number.len() == 11 && b.identity_number.bytes().all(|c| c.is_ascii_digit())) {
        errors.push(FieldError::new("buyer.identityNumber", "must be 11 digits"));
    }
    if !b.email.contains('@') {
        errors.push(FieldError::new("buyer.email", "must be an e-mail address"));
    }
    if b.gsm_number.as_deref().is_some_and(|g| g.trim().is_empty()) {
        // An empty gsmNumber is a known cause of iyzico's signature error 1000.
        errors.push(FieldError::new(
            "buyer.gsmNumber",
            "omit it rather than sending it empty",
        ));
    }
    let Some(ip) = shopper_ip else {
        return Err(Error::validation("", "the shopper's IP address is unknown"));
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let own = AddressInput {
        contact_name: format!("{} {}", b.name, b.surname),
        address: b.address.clone(),
        city: b.city.clone(),
        country: b.country.clone(),
        zip_code: b.zip_code.clone(),
    };
    let price = format_price(content.total_money());
    let basket = basket_items(content)
        .into_iter()
        .map(|item| BasketItem {
            id: item.id,
            name: item.name,
            category1: "Genel".into(),
            item_type: if item.physical { "PHYSICAL" } else { "VIRTUAL" },
            price: format_price(Money::new(item.price, content.currency)),
        })
        .collect();
    Ok(CheckoutFormInitialize {
        locale: "tr",
        conversation_id: order.id.clone(),
        price: price.clone(),
        paid_price: price,
        currency: currency.to_string(),
        basket_id: order.id.clone(),
        payment_group: "PRODUCT",
        callback_url: callback_url.to_string(),
        enabled_installments: vec![1, 2, 3, 6, 9],
        buyer: Buyer {
            id: content.customer_ref.clone(),
            name: b.name.clone(),
            surname: b.surname.clone(),
            identity_number: b.identity_number.clone(),
            email: b.email.clone(),
            gsm_number: b.gsm_number.clone(),
            registration_address: b.address.clone(),
            city: b.city.clone(),
            country: b.country.clone(),
            zip_code: b.zip_code.clone(),
            ip: ip.to_string(),
        },
        shipping_address: address_of(req.shipping_address.as_ref().unwrap_or(&own)),
        billing_address: address_of(req.billing_address.as_ref().unwrap_or(&own)),
        basket_items: basket,
    })
}

/// A number as iyzico's libraries print it for signatures: its text, with a
/// trailing ".0" dropped (`strip_zero` in iyzipay-python).
fn signature_number(n: &serde_json::Number) -> String {
    let text = n.to_string();
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// Verifies the `signature` of a checkout-form result: lowercase hex
/// HMAC-SHA256(secretKey, paymentStatus:paymentId:currency:basketId:
/// conversationId:paidPrice:price:token).
///
/// UNCONFIRMED: the field list is iyzico's official PHP sample for the
/// pay-with-iyzico result (the same hosted-form family); iyzico's docs list
/// none for the checkout form itself. Kept here alone so it is easy to fix.
pub fn verify_checkout_result_signature(result: &CheckoutFormResult, secret_key: &Secret) -> bool {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number =
        |v: &Option<serde_json::Number>| v.as_ref().map(signature_number).unwrap_or_default();
    let fields = [
        text(&result.payment_status),
        text(&result.payment_id),
        text(&result.currency),
        text(&result.basket_id),
        text(&result.conversation_id),
        number(&result.paid_price),
        number(&result.price),
        text(&result.token),
    ];
    let expected = hmac_sha256_hex(
        secret_key.expose().as_bytes(),
        &[fields.join(":").as_bytes()],
    );
    result.signature.as_deref().is_some_and(|sig| {
        constant_time_eq(expected.as_bytes(), sig.to_ascii_lowercase().as_bytes())
    })
}

/// A verified checkout result → the same `Delivery` the iyzico webhook makes
/// for that payment (identity payment id + status), tied to `order_id`, the
/// order our record of the token names (not iyzico's echo of it).
pub fn checkout_result_delivery(
    result: &CheckoutFormResult,
    token: &str,
    order_id: &str,
) -> Result<Delivery, MalformedPayload> {
    let malformed = |what: &str| MalformedPayload::new("iyzico", what);
    let status = result
        .payment_status
        .clone()
        .ok_or_else(|| malformed("result without paymentStatus"))?;
    let order_id = order_id.to_string();
    let kind = match status.as_str() {
        "SUCCESS" => PaymentEventKind::Succeeded,
        "FAILURE" => PaymentEventKind::Failed {
            code: None,
            message: None,
        },
        other => {
            return Ok(Delivery {
                provider: "iyzico",
                event_id: format!("checkout:{token}:{other}"),
                event_type: format!("CHECKOUT_FORM_RESULT:{other}"),
                occurred_at: crate::clock::now_rfc3339(),
                effect: Effect::Ignored,
            })
        }
    };
    // A failed checkout may carry no payment id: the token identifies it.
    let payment_ref = result
        .payment_id
        .clone()
        .unwrap_or_else(|| token.to_string());
    let amount = match (&result.price, &result.currency) {
        (Some(price), Some(currency)) => {
            let currency = Currency::parse(currency).map_err(|e| malformed(&e.to_string()))?;
            // Shortest round-trip text of a two-decimal price is exact.
            Some(
                Money::parse_major(&price.to_string(), currency)
                    .map_err(|e| malformed(&e.to_string()))?,
            )
        }
        _ => None,
    };
    Ok(Delivery {
        provider: "iyzico",
        event_id: payment_event_identity(&payment_ref, &status),
        event_type: format!("CHECKOUT_FORM_RESULT:{status}"),
        occurred_at: crate::clock::now_rfc3339(),
        effect: Effect::Payment(PaymentNotice {
            order: OrderRef::Claimed {
                order_id,
                proof_ref: token.to_string(),
            },
            provider_ref: payment_ref,
            kind,
            amount,
        }),
    })
}
