//! AWS SDK clients, configured once per cold start, cheaply.
//!
//! The SDK's usual setup, `aws_config::load_from_env()` with default
//! features, builds the whole default credential chain (profile files, SSO,
//! web identity through STS, ECS, IMDS), an aws-lc HTTPS client that trusts
//! the ~140 roots of the OS store, and links all of that into every binary
//! (+4 MB). On Lambda none of it is needed: the role's credentials and the
//! region are environment variables, and every AWS endpoint chains to one of
//! the five Amazon Trust Services roots. So we read exactly those variables
//! and the standard `AWS_ENDPOINT_URL` (unset in AWS; how local runs reach
//! moto) and hand them to the service's own config builder, with a rustls/ring
//! client that trusts only those roots. BENCHMARKS.md has the numbers.
//!
//! Running a function on a laptop against real AWS with a named profile:
//! export the profile's credentials first
//! (`eval "$(aws configure export-credentials --format env)"`).

use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_types::SdkConfig;

use crate::config::{ProcessEnv, Source};
use crate::error::{Error, Result};

const AWS_ROOTS_PEM: &[u8] = include_bytes!("../../certs/aws-roots.pem");

/// What every AWS client of a function shares: one `SdkConfig`, from which
/// each service's config is derived the SDK's own way.
#[derive(Clone, Debug)]
pub struct AwsEnv {
    sdk: SdkConfig,
}

impl AwsEnv {
    pub fn from_env() -> Result<Self> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(env: &dyn Source) -> Result<Self> {
        let region = env
            .get("AWS_REGION")
            .or_else(|| env.get("AWS_DEFAULT_REGION"))
            .ok_or_else(|| Error::Config("AWS_REGION is not set".into()))?;
        let (Some(key), Some(secret)) = (
            env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SECRET_ACCESS_KEY"),
        ) else {
            return Err(Error::Config(
                "AWS credentials are not in the environment (Lambda always sets them; \
                 locally: eval \"$(aws configure export-credentials --format env)\")"
                    .into(),
            ));
        };
        let credentials = Credentials::new(
            key,
            secret,
            env.get("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let tls_context = TlsContext::builder()
            .with_trust_store(TrustStore::empty().with_pem_certificate(AWS_ROOTS_PEM))
            .build()
            .expect("static TLS context is valid");
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls_context)
            .build_https();
        // DynamoDB answers in milliseconds: a 5 s attempt is a dead
        // connection. A local emulator under a 10,000-product test can take
        // longer, and abandoning its attempts only makes it redo the work:
        // tests raise these (tools/test.sh).
        let ms = |name: &str, default: u64| -> Result<Duration> {
            match env.get(name) {
                None => Ok(Duration::from_millis(default)),
                Some(v) => v.parse().map(Duration::from_millis).map_err(|_| {
                    Error::Config(format!("{name}={v:?} is not a number of milliseconds"))
                }),
            }
        };
        let attempt_timeout = ms("AWS_SDK_ATTEMPT_TIMEOUT_MS", 5_000)?;
        let operation_timeout = ms("AWS_SDK_OPERATION_TIMEOUT_MS", 15_000)?;
        let mut sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(http_client)
            .retry_config(RetryConfig::standard())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(attempt_timeout)
                    .operation_timeout(operation_timeout)
                    .build(),
            );
        if let Some(url) = env.get("AWS_ENDPOINT_URL") {
            sdk = sdk.endpoint_url(url);
        }
        Ok(AwsEnv { sdk: sdk.build() })
    }

    /// The shared HTTPS client, for clients of other services built elsewhere.
    pub fn http_client(&self) -> SharedHttpClient {
        self.sdk.http_client().expect("set in from_source")
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(self.dynamodb_config().build())
    }

    /// The DynamoDB config, open for additions (tests attach interceptors).
    pub fn dynamodb_config(&self) -> aws_sdk_dynamodb::config::Builder {
        aws_sdk_dynamodb::config::Builder::from(&self.sdk)
    }

    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::from_conf(self.eventbridge_config().build())
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::from_conf(self.sqs_config().build())
    }

    /// The SQS config, open for additions (tests attach interceptors).
    pub fn sqs_config(&self) -> aws_sdk_sqs::config::Builder {
        aws_sdk_sqs::config::Builder::from(&self.sdk)
    }

    pub fn eventbridge_config(&self) -> aws_sdk_eventbridge::config::Builder {
        aws_sdk_eventbridge::config::Builder::from(&self.sdk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_region_and_credentials_and_reads_the_endpoint() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(AwsEnv::from_source(&env(&[("AWS_REGION", "eu-central-1")])).is_err());
        assert!(AwsEnv::from_source(&env(&[
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b")
        ]))
        .is_err());
        let aws = AwsEnv::from_source(&env(&[
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .unwrap();
        assert_eq!(aws.sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(
            !format!("{aws:?}").contains("secret\""),
            "credentials are redacted in Debug"
        );
        let client = aws.dynamodb();
        assert_eq!(client.config().region().unwrap().as_ref(), "eu-central-1");
    }
}
