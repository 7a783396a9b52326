//! Building the AWS SDK configuration once per cold start, cheaply.
//!
//! `aws_config::load_from_env()` with default features costs several
//! milliseconds of init: it builds the whole default credential chain (profile,
//! web identity, ECS and IMDS providers) and an aws-lc HTTPS client that trusts
//! the ~140 roots of the OS store. On Lambda none of that is needed: the
//! credentials and region are environment variables, and every AWS endpoint
//! chains to one of the five Amazon Trust Services roots. So we give the
//! loader exactly that, and keep everything else standard — in particular
//! `AWS_ENDPOINT_URL` is still resolved by the SDK itself (how local runs reach
//! moto), with no code path of our own. BENCHMARKS.md has the numbers.

use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};

const AWS_ROOTS_PEM: &[u8] = include_bytes!("../../certs/aws-roots.pem");

/// The SDK configuration every function shares. Clients built from it are
/// created once in `main` and reused by warm invocations.
pub async fn load() -> SdkConfig {
    let tls_context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(AWS_ROOTS_PEM))
        .build()
        .expect("static TLS context is valid");
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context)
        .build_https();

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(15))
                .build(),
        );
    // Lambda always sets AWS_REGION; naming it skips the region chain (which
    // would otherwise fall through to the profile files and IMDS).
    if let Ok(region) = std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
    {
        loader = loader.region(Region::new(region));
    }
    // Lambda puts the role's credentials in the environment. Elsewhere (a
    // developer's profile, SSO) the SDK's default chain is used as usual.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}
