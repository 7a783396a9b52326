//! Credentials that providers present to us (Trendyol and Hepsiburada
//! webhooks), checked in constant time.

use base64::Engine;

use crate::config::{InboundCredentials, Secret};
use crate::providers::marketplace::trendyol::webhook::API_KEY_HEADER;
use crate::providers::signing::constant_time_eq;

/// `Authorization: Basic base64(username:password)`.
pub fn verify_basic_auth(header: Option<&str>, username: &str, password: &Secret) -> bool {
    let Some(value) = header else { return false };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{username}:{}", password.expose());
    constant_time_eq(&decoded, expected.as_bytes())
}

/// A shared API key header (Trendyol `x-api-key`).
pub fn verify_api_key(header: Option<&str>, key: &Secret) -> bool {
    header.is_some_and(|value| constant_time_eq(value.as_bytes(), key.expose().as_bytes()))
}

impl InboundCredentials {
    /// Checks the request's headers, in constant time.
    pub fn verify<'h>(&self, header: &dyn Fn(&str) -> Option<&'h str>) -> bool {
        match self {
            InboundCredentials::Basic { username, password } => {
                verify_basic_auth(header("authorization"), username, password)
            }
            InboundCredentials::ApiKey(key) => verify_api_key(header(API_KEY_HEADER), key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_must_match_exactly() {
        let pass = Secret::new("s3cret");
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("hook:s3cret")
        );
        assert!(verify_basic_auth(Some(&good), "hook", &pass));
        let wrong = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("hook:s3cret2")
        );
        assert!(!verify_basic_auth(Some(&wrong), "hook", &pass));
        assert!(!verify_basic_auth(Some("Bearer x"), "hook", &pass));
        assert!(!verify_basic_auth(Some("Basic !!!"), "hook", &pass));
        assert!(!verify_basic_auth(None, "hook", &pass));
    }

    #[test]
    fn api_keys_compare_whole() {
        let key = Secret::new("k-123");
        assert!(verify_api_key(Some("k-123"), &key));
        assert!(!verify_api_key(Some("k-12"), &key));
        assert!(!verify_api_key(Some("k-1234"), &key));
        assert!(!verify_api_key(None, &key));
    }
}
