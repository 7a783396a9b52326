//! Stripe webhook signatures (providers.md §1.6).
//!
//! `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`. The signed
//! payload is `"{t}.{raw body}"`, the signature lowercase hex of
//! HMAC-SHA256 keyed with the endpoint secret (`whsec_…`, used as UTF-8 bytes).
//! Any `v1` may match (Stripe sends several while a secret is rolled); every
//! other scheme, `v0` included, is ignored so it cannot be used to downgrade.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// Stripe's default tolerance for the signed timestamp.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

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
    if (now_unix - parsed.timestamp).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let timestamp = parsed.timestamp.to_string();
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(raw_body);
        let expected = mac.finalize().into_bytes();
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

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    const NOW: i64 = 1_795_700_000;

    #[test]
    fn parses_several_v1_and_ignores_v0() {
        let h = parse_signature_header(&format!("t=12,v1={},v0={},v1={}", "a".repeat(64), "b".repeat(64), "c".repeat(64))).unwrap();
        assert_eq!(h.timestamp, 12);
        assert_eq!(h.v1.len(), 2);
        assert_eq!(parse_signature_header("v1=00"), Err(SignatureError::Malformed));
        assert_eq!(parse_signature_header(&format!("t=1,v0={}", "a".repeat(64))), Err(SignatureError::NoV1));
        assert_eq!(parse_signature_header("t=abc,v1=00"), Err(SignatureError::Malformed));
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
    fn the_window_is_symmetric() {
        let body = b"{}";
        let secrets = [Secret::new("whsec_a")];
        for (t, ok) in [(NOW - 300, true), (NOW - 301, false), (NOW + 300, true), (NOW + 301, false)] {
            let header = format!("t={t},v1={}", sign("whsec_a", t, body));
            assert_eq!(verify_stripe_signature(Some(&header), body, &secrets, NOW, 300).is_ok(), ok, "t={t}");
        }
    }
}
