//! iyzico merchant notifications (docs/iyzico-wire.md I29–I35).
//!
//! `X-IYZ-SIGNATURE-V3` is lowercase hex HMAC-SHA256 keyed with the merchant's
//! secret key over a concatenation of payload fields, without separators:
//! - direct/API payments: `secretKey + iyziEventType + paymentId + paymentConversationId + status`
//! - hosted checkout (payload has `token`): `secretKey + iyziEventType + iyziPaymentId + token + paymentConversationId + status`
//!
//! The signature covers fields, not bytes, so the body must be parsed to
//! verify it; nothing is stored or acted on before the check passes.
//!
//! Two weaknesses of the scheme, and what we do about them:
//! - No timestamp and no `iyziReferenceCode` are signed, so a replay can
//!   carry a fresh reference code. Our event identity is therefore made of
//!   signed fields (payment id + status; a digest of all signed fields for
//!   progress notices): a replay dedupes whatever else it changes.
//! - Fields are concatenated without separators, so characters can move
//!   between `paymentId` and `paymentConversationId` under the same
//!   signature. Payment ids must be digits, and the order a notice names is
//!   acted on only if our own record of that payment id points to it
//!   (`OrderRef::Claimed`).

use serde::Deserialize;
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::delivery::{
    unix_ms_to_rfc3339, Delivery, Effect, MalformedPayload, OrderRef, PaymentNotice,
};
use crate::domain::PaymentEventKind;
use crate::providers::signing::{constant_time_eq, hmac_sha256_hex};
use sha2::Digest;

pub const SIGNATURE_HEADER: &str = "x-iyz-signature-v3";

/// A notification as iyzico posts it. Ids are accepted as JSON strings or
/// numbers (samples show both).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(default, deserialize_with = "string_or_number")]
    pub payment_conversation_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub payment_id: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub iyzi_payment_id: Option<String>,
    pub token: Option<String>,
    pub status: String,
    #[serde(deserialize_with = "required_string_or_number")]
    pub iyzi_reference_code: String,
    pub iyzi_event_type: String,
    pub iyzi_event_time: Option<i64>,
}

pub(crate) fn string_or_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn required_string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    string_or_number(d)?.ok_or_else(|| serde::de::Error::custom("expected a string or number"))
}

impl Notification {
    /// The exact string iyzico signs (after the secret key).
    pub fn signed_fields(&self) -> String {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        match &self.token {
            Some(token) => format!(
                "{}{}{}{}{}",
                self.iyzi_event_type,
                s(&self.iyzi_payment_id),
                token,
                s(&self.payment_conversation_id),
                self.status
            ),
            None => format!(
                "{}{}{}{}",
                self.iyzi_event_type,
                s(&self.payment_id),
                s(&self.payment_conversation_id),
                self.status
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IyzicoAuthError {
    #[error("missing X-IYZ-SIGNATURE-V3 header")]
    Missing,
    #[error("signature does not match")]
    Mismatch,
    #[error(transparent)]
    Malformed(#[from] MalformedPayload),
}

/// Parses the body and verifies its V3 signature. Returns the notification
/// only if the signature matches.
pub fn verify_iyzico_signature(
    header: Option<&str>,
    raw_body: &[u8],
    secret_key: &Secret,
) -> Result<Notification, IyzicoAuthError> {
    let header = header.ok_or(IyzicoAuthError::Missing)?;
    let notification: Notification =
        serde_json::from_slice(raw_body).map_err(|e| MalformedPayload::new("iyzico", e))?;
    let expected = hmac_sha256_hex(
        secret_key.expose().as_bytes(),
        &[
            secret_key.expose().as_bytes(),
            notification.signed_fields().as_bytes(),
        ],
    );
    if constant_time_eq(
        expected.as_bytes(),
        header.trim().to_ascii_lowercase().as_bytes(),
    ) {
        Ok(notification)
    } else {
        Err(IyzicoAuthError::Mismatch)
    }
}

/// The identity of "payment P reached status S", shared by the webhook and
/// the hosted-checkout callback, so whichever arrives first applies it and the
/// other is a duplicate. Both fields are signed in either channel.
pub fn payment_event_identity(payment_id: &str, status: &str) -> String {
    format!("{payment_id}:{status}")
}

/// SUCCESS and FAILURE move payments; progress notices (INIT_THREEDS, …) are
/// acknowledged and ignored. `paymentConversationId` is our order id.
pub fn normalize_iyzico_notification(n: Notification) -> Result<Delivery, MalformedPayload> {
    let payment_ref = n
        .payment_id
        .clone()
        .or_else(|| n.iyzi_payment_id.clone())
        .unwrap_or_default();
    let digits = |v: &Option<String>| {
        v.as_deref()
            .is_none_or(|s| s.bytes().all(|b| b.is_ascii_digit()))
    };
    if !digits(&n.payment_id) || !digits(&n.iyzi_payment_id) {
        return Err(MalformedPayload::new(
            "iyzico",
            "payment ids must be numeric",
        ));
    }
    let event_id = if !payment_ref.is_empty() && (n.status == "SUCCESS" || n.status == "FAILURE") {
        payment_event_identity(&payment_ref, &n.status)
    } else {
        format!(
            "v3:{}",
            &hex::encode(Sha256::digest(n.signed_fields().as_bytes()))[..40]
        )
    };
    let kind = match n.status.as_str() {
        "SUCCESS" => Some(PaymentEventKind::Succeeded),
        "FAILURE" => Some(PaymentEventKind::Failed {
            code: None,
            message: None,
        }),
        _ => None,
    };
    let effect = match (kind, &n.payment_conversation_id) {
        (Some(kind), Some(order_id)) if !order_id.is_empty() && !payment_ref.is_empty() => {
            Effect::Payment(PaymentNotice {
                order: OrderRef::Claimed {
                    order_id: order_id.clone(),
                    // Hosted checkout: the token we got at initialization; direct
                    // payments: the payment id we got from the payment call.
                    proof_ref: n.token.clone().unwrap_or_else(|| payment_ref.clone()),
                },
                provider_ref: payment_ref,
                kind,
                amount: None,
            })
        }
        (Some(_), _) => {
            return Err(MalformedPayload::new(
                "iyzico",
                "payment notice without paymentConversationId",
            ))
        }
        (None, _) => Effect::Ignored,
    };
    Ok(Delivery {
        provider: "iyzico",
        event_id,
        event_type: format!(
            "{}:{}:{}",
            n.iyzi_event_type, n.status, n.iyzi_reference_code
        ),
        occurred_at: unix_ms_to_rfc3339(n.iyzi_event_time.unwrap_or_default())
            .ok_or_else(|| MalformedPayload::new("iyzico", "iyziEventTime is out of range"))?,
        effect,
    })
}
