//! The storefront's proof that the shopper is at this order's checkout.
//!
//! The storefront routes (`POST /payments/stripe/intents`,
//! `POST /payments/iyzico/checkout`) take no IAM signature: anyone may call
//! them. The platform, which knows its shopper, issues a short-lived token per
//! order and the storefront sends it as `X-Checkout-Token`; without a valid
//! one for the order named in the body the answer is 401, before anything is
//! read. Format (README § Checkout tokens):
//!
//! `<orderId>.<expires, unix seconds>.<hex HMAC-SHA256(secret, "ayaztrade-checkout:v1:<orderId>:<expires>")>`

use crate::config::Secret;
use crate::providers::signing::{constant_time_eq, hmac_sha256};

pub const HEADER: &str = "x-checkout-token";

/// The longest lifetime accepted: a token valid for longer is refused, so a
/// leaked one is worth little.
pub const MAX_LIFETIME_SECS: i64 = 24 * 3600;

fn tag(secret: &Secret, order_id: &str, expires: i64) -> [u8; 32] {
    let message = format!("ayaztrade-checkout:v1:{order_id}:{expires}");
    hmac_sha256(secret.expose().as_bytes(), &[message.as_bytes()])
}

/// Makes a token (what the platform does; here for tests and tools).
pub fn mint(secret: &Secret, order_id: &str, expires: i64) -> String {
    format!(
        "{order_id}.{expires}.{}",
        hex::encode(tag(secret, order_id, expires))
    )
}

/// Why a token was refused (logged, never shown in detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Missing,
    Malformed,
    OtherOrder,
    Expired,
    TooLongLived,
    BadSignature,
}

/// Checks `token` for `order_id` at `now` (unix seconds), in constant time
/// for the signature.
pub fn verify(
    secret: &Secret,
    token: Option<&str>,
    order_id: &str,
    now: i64,
) -> Result<(), TokenRefusal> {
    let token = token.ok_or(TokenRefusal::Missing)?;
    let mut parts = token.rsplitn(3, '.');
    let (Some(tag), Some(expires), Some(for_order)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenRefusal::Malformed);
    };
    let expires: i64 = expires.parse().map_err(|_| TokenRefusal::Malformed)?;
    let given = hex::decode(tag).map_err(|_| TokenRefusal::Malformed)?;
    if for_order != order_id {
        return Err(TokenRefusal::OtherOrder);
    }
    if expires <= now {
        return Err(TokenRefusal::Expired);
    }
    if expires - now > MAX_LIFETIME_SECS {
        return Err(TokenRefusal::TooLongLived);
    }
    if constant_time_eq(&self::tag(secret, order_id, expires), &given) {
        Ok(())
    } else {
        Err(TokenRefusal::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000;

    #[test]
    fn a_minted_token_verifies_for_its_order_only_until_it_expires() {
        let secret = Secret::new("checkout-secret");
        let token = mint(&secret, "ord-1", NOW + 900);
        assert_eq!(verify(&secret, Some(&token), "ord-1", NOW), Ok(()));
        assert_eq!(
            verify(&secret, Some(&token), "ord-2", NOW),
            Err(TokenRefusal::OtherOrder)
        );
        assert_eq!(
            verify(&secret, Some(&token), "ord-1", NOW + 900),
            Err(TokenRefusal::Expired)
        );
        assert_eq!(
            verify(&Secret::new("other"), Some(&token), "ord-1", NOW),
            Err(TokenRefusal::BadSignature)
        );
        assert_eq!(
            verify(&secret, None, "ord-1", NOW),
            Err(TokenRefusal::Missing)
        );
    }

    #[test]
    fn forged_and_long_lived_tokens_are_refused() {
        let secret = Secret::new("checkout-secret");
        let long = mint(&secret, "ord-1", NOW + MAX_LIFETIME_SECS + 1);
        assert_eq!(
            verify(&secret, Some(&long), "ord-1", NOW),
            Err(TokenRefusal::TooLongLived)
        );
        let token = mint(&secret, "ord-1", NOW + 900);
        let later = token.replace(&format!(".{}.", NOW + 900), &format!(".{}.", NOW + 1800));
        assert_eq!(
            verify(&secret, Some(&later), "ord-1", NOW),
            Err(TokenRefusal::BadSignature)
        );
        for bad in ["", "x", "ord-1.abc.00", "ord-1.123.zz"] {
            assert_eq!(
                verify(&secret, Some(bad), "ord-1", NOW),
                Err(TokenRefusal::Malformed),
                "{bad:?}"
            );
        }
    }

    /// The README's Python example (`hmac.new(b"s3cret", …, hashlib.sha256)`)
    /// gives this very token.
    #[test]
    fn the_documented_example_matches() {
        assert_eq!(
            mint(&Secret::new("s3cret"), "ord-42", 1_796_000_900),
            "ord-42.1796000900.4b22b1ce1349aec12b00ec7a8d66e596fb10c0562dd0addf300a02a065e3214b"
        );
    }
}
