//! Stripe webhook signatures (docs/stripe-wire.md S37–S41).
//!
//! `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`. The signed
//! payload is `"{t}.{raw body}"`, the signature lowercase hex of
//! HMAC-SHA256 keyed with the endpoint secret (`whsec_…`, used as UTF-8 bytes).
//! Any `v1` may match (Stripe sends several while a secret is rolled); every
//! other scheme, `v0` included, is ignored so it cannot be used to downgrade.

use crate::providers::signing::{constant_time_eq, hmac_sha256};
use std::collections::HashMap;

use serde::Deserialize;

use crate::config::Secret;
use crate::domain::delivery::{
    unix_to_rfc3339, Delivery, Effect, MalformedPayload, OrderRef, PaymentNotice,
};
use crate::domain::PaymentEventKind;
use crate::providers::stripe::amount::from_stripe_amount;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("no v1 signature in Stripe-Signature header")]
    NoV1,
    #[error("timestamp outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

impl SignatureError {
    /// A malformed header is a 400; everything else a 401.
    pub fn is_malformed(&self) -> bool {
        matches!(self, SignatureError::Malformed | SignatureError::NoV1)
    }
}

/// The parts of a `Stripe-Signature` header we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    /// Decoded `v1` signatures (32 bytes each; others are dropped).
    pub v1: Vec<Vec<u8>>,
}

/// Parses the header: split on `,`, each item on its first `=`.
pub fn parse_signature_header(header: &str) -> Result<SignatureHeader, SignatureError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => {
                let t: i64 = value.parse().map_err(|_| SignatureError::Malformed)?;
                timestamp = Some(t);
            }
            "v1" => {
                if let Ok(sig) = hex::decode(value) {
                    if sig.len() == 32 {
                        v1.push(sig);
                    }
                }
            }
            _ => {} // v0 and unknown schemes: ignored on purpose
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if v1.is_empty() {
        return Err(SignatureError::NoV1);
    }
    Ok(SignatureHeader { timestamp, v1 })
}

/// Verifies a delivery against every active endpoint secret (more than one
/// during a rotation), over the exact received bytes, in constant time.
/// Timestamps older than `tolerance` or further than `tolerance` in the future
/// are refused (Stripe's library only checks the past; a future timestamp
/// beyond the window can only come from a forged or replayed header).
pub fn verify_stripe_signature(
    header: Option<&str>,
    raw_body: &[u8],
    secrets: &[Secret],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<SignatureHeader, SignatureError> {
    let parsed = parse_signature_header(header.ok_or(SignatureError::Missing)?)?;
    if now_unix.abs_diff(parsed.timestamp) > tolerance_secs.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let timestamp = parsed.timestamp.to_string();
    for secret in secrets {
        let expected = hmac_sha256(
            secret.expose().as_bytes(),
            &[timestamp.as_bytes(), b".", raw_body],
        );
        // Compare against every candidate without an early exit, so timing
        // says nothing about which one (if any) matched.
        let mut matched = false;
        for candidate in &parsed.v1 {
            matched |= constant_time_eq(&expected, candidate);
        }
        if matched {
            return Ok(parsed);
        }
    }
    Err(SignatureError::Mismatch)
}

/// The parts of a Stripe event we read (docs.stripe.com/api/events/object).
/// `data.object` is kept as raw JSON and only decoded into the one shape its
/// `type` calls for: no allocation for the parts we skip.
#[derive(Debug, Deserialize)]
struct Event<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    #[serde(borrow)]
    data: EventData<'a>,
}

#[derive(Debug, Deserialize)]
struct EventData<'a> {
    #[serde(borrow)]
    object: &'a serde_json::value::RawValue,
}

#[derive(Debug, Deserialize)]
struct PaymentIntentObject {
    id: String,
    amount: i64,
    #[serde(default)]
    amount_received: i64,
    currency: String,
    #[serde(default)]
    metadata: HashMap<String, String>,
    last_payment_error: Option<LastPaymentError>,
}

#[derive(Debug, Deserialize)]
struct LastPaymentError {
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChargeObject {
    payment_intent: Option<String>,
    amount_refunded: i64,
    currency: String,
    refunded: bool,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct DisputeObject {
    payment_intent: Option<String>,
    amount: i64,
    currency: String,
    reason: Option<String>,
}

fn malformed(detail: impl std::fmt::Display) -> MalformedPayload {
    MalformedPayload::new("stripe", detail)
}

fn order_ref(metadata: &HashMap<String, String>, payment_intent: String) -> OrderRef {
    match metadata.get("order_id") {
        Some(id) if !id.is_empty() => OrderRef::Id(id.clone()),
        _ => OrderRef::ProviderRef(payment_intent),
    }
}

/// Normalizes a verified Stripe event. Types we do not act on are
/// `Effect::Ignored`; a payload that is not a Stripe event is an error.
pub fn normalize_stripe_event(raw_body: &[u8]) -> Result<Delivery, MalformedPayload> {
    let event: Event = serde_json::from_slice(raw_body).map_err(malformed)?;
    let object = event.data.object.get();
    let effect = match event.kind.as_str() {
        "payment_intent.succeeded" | "payment_intent.payment_failed" => {
            let pi: PaymentIntentObject = serde_json::from_str(object).map_err(malformed)?;
            let succeeded = event.kind == "payment_intent.succeeded";
            let collected = if succeeded && pi.amount_received > 0 {
                pi.amount_received
            } else {
                pi.amount
            };
            let amount = from_stripe_amount(collected, &pi.currency).map_err(malformed)?;
            let kind = if succeeded {
                PaymentEventKind::Succeeded
            } else {
                let error = pi.last_payment_error.as_ref();
                PaymentEventKind::Failed {
                    code: error.and_then(|e| e.decline_code.clone().or_else(|| e.code.clone())),
                    message: error.and_then(|e| e.message.clone()),
                }
            };
            Effect::Payment(PaymentNotice {
                order: order_ref(&pi.metadata, pi.id.clone()),
                provider_ref: pi.id,
                kind,
                amount: Some(amount),
            })
        }
        "charge.refunded" => {
            let charge: ChargeObject = serde_json::from_str(object).map_err(malformed)?;
            let pi = charge
                .payment_intent
                .ok_or_else(|| malformed("charge without payment_intent"))?;
            let refunded =
                from_stripe_amount(charge.amount_refunded, &charge.currency).map_err(malformed)?;
            Effect::Payment(PaymentNotice {
                order: order_ref(&charge.metadata, pi.clone()),
                provider_ref: pi,
                kind: PaymentEventKind::Refunded {
                    refunded_total: refunded.minor,
                    full: charge.refunded,
                },
                amount: Some(refunded),
            })
        }
        "charge.dispute.created" => {
            let dispute: DisputeObject = serde_json::from_str(object).map_err(malformed)?;
            let pi = dispute
                .payment_intent
                .ok_or_else(|| malformed("dispute without payment_intent"))?;
            let amount =
                from_stripe_amount(dispute.amount, &dispute.currency).map_err(malformed)?;
            Effect::Payment(PaymentNotice {
                order: OrderRef::ProviderRef(pi.clone()),
                provider_ref: pi,
                kind: PaymentEventKind::Disputed {
                    reason: dispute.reason,
                },
                amount: Some(amount),
            })
        }
        _ => Effect::Ignored,
    };
    if !event.id.starts_with("evt_") {
        return Err(malformed("event id is not evt_…"));
    }
    Ok(Delivery {
        provider: "stripe",
        event_id: event.id,
        event_type: event.kind,
        occurred_at: unix_to_rfc3339(event.created)
            .ok_or_else(|| malformed("created is out of range"))?,
        effect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    // An independent signer: not the helper the verifier uses.
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    const NOW: i64 = 1_795_700_000;

    #[test]
    fn parses_several_v1_and_ignores_v0() {
        let h = parse_signature_header(&format!(
            "t=12,v1={},v0={},v1={}",
            "a".repeat(64),
            "b".repeat(64),
            "c".repeat(64)
        ))
        .unwrap();
        assert_eq!(h.timestamp, 12);
        assert_eq!(h.v1.len(), 2);
        assert_eq!(
            parse_signature_header("v1=00"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            parse_signature_header(&format!("t=1,v0={}", "a".repeat(64))),
            Err(SignatureError::NoV1)
        );
        assert_eq!(
            parse_signature_header("t=abc,v1=00"),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn a_v0_only_header_cannot_downgrade() {
        let body = b"{}";
        let sig = sign("whsec_a", NOW, body);
        let header = format!("t={NOW},v0={sig}");
        let r = verify_stripe_signature(Some(&header), body, &[Secret::new("whsec_a")], NOW, 300);
        assert_eq!(r, Err(SignatureError::NoV1));
    }

    #[test]
    fn an_unwritable_created_time_is_malformed_not_a_panic() {
        let body = br#"{"id":"evt_1","type":"customer.created","created":-100000000000,"data":{"object":{}}}"#;
        assert!(normalize_stripe_event(body).is_err());
    }

    #[test]
    fn the_window_is_symmetric() {
        let body = b"{}";
        let secrets = [Secret::new("whsec_a")];
        for (t, ok) in [
            (NOW - 300, true),
            (NOW - 301, false),
            (NOW + 300, true),
            (NOW + 301, false),
        ] {
            let header = format!("t={t},v1={}", sign("whsec_a", t, body));
            assert_eq!(
                verify_stripe_signature(Some(&header), body, &secrets, NOW, 300).is_ok(),
                ok,
                "t={t}"
            );
        }
    }
}
