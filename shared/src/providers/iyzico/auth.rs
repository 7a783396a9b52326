//! iyzico's `IYZWSv2` request authentication (docs/iyzico-wire.md I13, I4).
//!
//! signature = hex HMAC-SHA256(secretKey, randomKey + uriPath + body), where
//! uriPath is the request path without host and query, and body is the exact
//! JSON text sent (serialize once, sign those bytes, send those bytes: a
//! re-serialized body with other key order or number formatting is iyzico's
//! error 1000 "Geçersiz imza");
//! header = "IYZWSv2 " + base64("apiKey:" + apiKey + "&randomKey:" + randomKey + "&signature:" + signature).

use crate::providers::signing::hmac_sha256_hex;
use base64::Engine;

use crate::config::Secret;

/// The `Authorization` header value for one request.
pub fn iyzws_v2_authorization(
    api_key: &str,
    secret_key: &Secret,
    random_key: &str,
    uri: &str,
    body: &[u8],
) -> String {
    let path = uri.split('?').next().unwrap_or(uri);
    let signature = hmac_sha256_hex(
        secret_key.expose().as_bytes(),
        &[random_key.as_bytes(), path.as_bytes(), body],
    );
    let auth = format!("apiKey:{api_key}&randomKey:{random_key}&signature:{signature}");
    format!(
        "IYZWSv2 {}",
        base64::engine::general_purpose::STANDARD.encode(auth)
    )
}

/// A fresh random key (`x-iyzi-rnd`): milliseconds plus random digits, as
/// iyzico's own libraries make it.
pub fn random_key() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("{ms}{:08}", fastrand::u32(..100_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_decodes_to_the_documented_shape() {
        let header = iyzws_v2_authorization(
            "sandbox-api-key",
            &Secret::new("sandbox-secret"),
            "123456789",
            "/payment/auth?x=1",
            br#"{"locale":"tr"}"#,
        );
        let b64 = header.strip_prefix("IYZWSv2 ").unwrap();
        let decoded = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        let (head, signature) = decoded.rsplit_once("&signature:").unwrap();
        assert_eq!(head, "apiKey:sandbox-api-key&randomKey:123456789");
        assert_eq!(signature.len(), 64);
        // The query string is not signed.
        assert_eq!(
            header,
            iyzws_v2_authorization(
                "sandbox-api-key",
                &Secret::new("sandbox-secret"),
                "123456789",
                "/payment/auth",
                br#"{"locale":"tr"}"#
            )
        );
    }
}
