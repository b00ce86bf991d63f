//! What verification and export share: from credentials to a [`Target`] (endpoint, region
//! plan, SDK credentials; the egress guard applied to literal endpoints), one S3 client per
//! call sequence on the shared HTTP client, the bucket check (`ListObjectsV2 max-keys=1`,
//! with region discovery for S3 `region: "auto"`), and the logging of a failed SDK call.

use crate::mapping::{map, CallError, Context, Mapped, Service, Step};
use crate::verifier::StorageVerifier;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    StalledStreamProtectionConfig,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use integrations_domain::credentials::r2::R2Credentials;
use integrations_domain::credentials::s3::S3Credentials;
use integrations_domain::credentials::{R2Jurisdiction, S3Region};
use integrations_domain::{Credentials, FailureReason, VerificationFailure};
use integrations_outbound::Egress;
use secrecy::ExposeSecret;
use std::time::Duration;
use tracing::{debug, info};

/// The region AWS requests are first signed for when the bucket's region is to be found.
const DISCOVERY_REGION: &str = "us-east-1";

/// Attempts per replayable S3 call (1 + 2 retries). The standard retry mode retries only
/// transient failures (5xx, throttling, I/O, timeouts), never other 4xx answers. A streamed
/// upload is never retried (its body cannot be replayed): see [`Calls::Upload`].
const MAX_ATTEMPTS: u32 = 3;

/// The egress guard as the SDK's resolver: names resolve only to allowed addresses.
#[derive(Clone, Debug)]
pub(crate) struct GuardedDns {
    pub(crate) egress: Egress,
}

impl ResolveDns for GuardedDns {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        let egress = self.egress;
        DnsFuture::new(async move { egress.resolve(name).await.map_err(ResolveDnsError::new) })
    }
}

/// What a check or an export talks to, derived from the credentials and the configuration.
pub(crate) struct Target {
    pub(crate) service: Service,
    pub(crate) bucket: String,
    /// `****` + last four characters of the access key id, for messages.
    pub(crate) key_hint: String,
    /// Holds the secret from here on (the SDK's own redacting type).
    pub(crate) credentials: aws_sdk_s3::config::Credentials,
    /// `None`: AWS's regional endpoints, virtual-hosted; `Some`: path-style requests to this
    /// origin (a configured `s3.base_url`, or the R2 account endpoint).
    pub(crate) endpoint_url: Option<String>,
    pub(crate) region: RegionPlan,
    pub(crate) jurisdiction: Option<R2Jurisdiction>,
}

pub(crate) enum RegionPlan {
    Fixed(String),
    /// `region: "auto"` on S3: sign for us-east-1, learn the bucket's region from the answer.
    Discover,
}

impl Target {
    pub(crate) fn initial_region(&self) -> &str {
        match &self.region {
            RegionPlan::Fixed(r) => r,
            RegionPlan::Discover => DISCOVERY_REGION,
        }
    }

    pub(crate) fn discovers_region(&self) -> bool {
        matches!(self.region, RegionPlan::Discover)
    }

    /// Where requests go, for messages.
    pub(crate) fn endpoint(&self, region: &str) -> String {
        match &self.endpoint_url {
            Some(url) => url.clone(),
            None => format!("s3.{region}.amazonaws.com"),
        }
    }

    pub(crate) fn context<'a>(
        &'a self,
        region: &'a str,
        key: &'a str,
        timeout: Duration,
    ) -> Context<'a> {
        Context {
            service: self.service,
            bucket: &self.bucket,
            key_hint: &self.key_hint,
            endpoint: self.endpoint(region),
            region,
            jurisdiction: self.jurisdiction,
            timeout,
            key,
        }
    }
}

/// How a client's calls behave.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Calls {
    /// Replayable calls (list, marker write, deletes): standard retries, each operation
    /// bounded by `timeout`.
    Replayable { timeout: Duration },
    /// One streamed PutObject: no retry (the body is read once), no stalled-stream
    /// protection and no SDK operation timeout (the caller's deadline covers the whole put),
    /// only the connect timeout.
    Upload { connect_timeout: Duration },
}

impl StorageVerifier {
    /// The target of `credentials` (S3 or R2), with a literal endpoint checked by the egress
    /// guard. `use_` says what the caller does, for the message about other providers.
    pub(crate) fn target(
        &self,
        credentials: &Credentials,
        use_: &str,
    ) -> Result<Target, VerificationFailure> {
        let target = match credentials {
            Credentials::S3(c) => self.s3_target(c),
            Credentials::R2(c) => self.r2_target(c)?,
            _ => {
                return Err(VerificationFailure::new(
                    FailureReason::ProviderError,
                    format!(
                        "The cloud storage adapter cannot {use_} {} credentials.",
                        credentials.provider()
                    ),
                ))
            }
        };
        // The SDK's resolver guards names; an address literal (or a numeric host such as
        // `2130706433`) never reaches a resolver, so it is judged here.
        if let Some(url) = &target.endpoint_url {
            if let Err(e) = self.endpoints().egress.check_url(url) {
                return Err(VerificationFailure::new(
                    FailureReason::Unreachable,
                    format!(
                        "Connecting to {url} is not allowed: {e} (it resolves to a private, local or reserved network address)."
                    ),
                ));
            }
        }
        Ok(target)
    }

    fn s3_target(&self, c: &S3Credentials) -> Target {
        let region = match &c.region {
            S3Region::Auto => RegionPlan::Discover,
            S3Region::Named(r) => RegionPlan::Fixed(r.clone()),
        };
        Target {
            service: Service::S3,
            bucket: c.bucket.as_str().to_owned(),
            key_hint: c.access_key_id.masked(),
            credentials: aws_sdk_s3::config::Credentials::new(
                c.access_key_id.as_str(),
                c.secret_access_key.expose_secret(),
                None,
                None,
                "integration",
            ),
            endpoint_url: self.endpoints().s3_base_url.clone(),
            region,
            jurisdiction: None,
        }
    }

    fn r2_target(&self, c: &R2Credentials) -> Result<Target, VerificationFailure> {
        let endpoint = self
            .endpoints()
            .r2_endpoint(&c.account_id, c.jurisdiction)
            .ok_or_else(|| {
                VerificationFailure::new(
                    FailureReason::NotFound,
                    "The R2 account id cannot be used in an endpoint host.",
                )
            })?;
        Ok(Target {
            service: Service::R2,
            bucket: c.bucket.as_str().to_owned(),
            key_hint: c.access_key_id.masked(),
            credentials: aws_sdk_s3::config::Credentials::new(
                c.access_key_id.as_str(),
                c.secret_access_key.expose_secret(),
                None,
                None,
                "integration",
            ),
            endpoint_url: Some(endpoint),
            region: RegionPlan::Fixed("auto".to_owned()),
            jurisdiction: c.jurisdiction,
        })
    }

    /// An S3 client for `target` in `region` on the shared HTTP client (and so behind the
    /// egress guard). Cheap: no connection is made here.
    pub(crate) fn client(&self, target: &Target, region: &str, calls: Calls) -> Client {
        let builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(self.http_client().clone())
            .credentials_provider(target.credentials.clone())
            .region(Region::new(region.to_owned()))
            // R2 (and other S3-compatible services) reject the CRC checksum headers the SDK
            // sends by default since 2025; S3 itself requires them only for a few operations.
            // Without a checksum a PutObject is also never aws-chunked: the body goes out as
            // it comes.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        let mut builder = match calls {
            Calls::Replayable { timeout } => builder
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(timeout / 2)
                        .operation_timeout(timeout)
                        .build(),
                )
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(MAX_ATTEMPTS)
                        .with_initial_backoff(Duration::from_millis(100))
                        .with_max_backoff(Duration::from_secs(1)),
                ),
            Calls::Upload { connect_timeout } => builder
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(connect_timeout)
                        .build(),
                )
                .retry_config(RetryConfig::disabled())
                .stalled_stream_protection(StalledStreamProtectionConfig::disabled()),
        };
        if let Some(url) = &target.endpoint_url {
            builder = builder.endpoint_url(url).force_path_style(true);
        }
        Client::from_conf(builder.build())
    }

    /// The bucket check: `ListObjectsV2 max-keys=1` (key, secret, bucket, `s3:ListBucket`),
    /// never creating anything. For S3 with `region: "auto"` a redirect to the bucket's region
    /// is followed once. Returns the region the bucket answered in and a client for it.
    /// `key` is only for messages (the marker or the object).
    pub(crate) async fn locate(
        &self,
        target: &Target,
        key: &str,
        timeout: Duration,
    ) -> Result<(String, Client), VerificationFailure> {
        let calls = Calls::Replayable {
            timeout: self.endpoints().timeout,
        };
        let mut region = target.initial_region().to_owned();
        let mut client = self.client(target, &region, calls);
        let mut discovered = false;
        loop {
            let Err(error) = list(&client, &target.bucket).await else {
                return Ok((region, client));
            };
            match map(Step::List, &error, &target.context(&region, key, timeout)) {
                Mapped::Failure(f) => return Err(f),
                Mapped::WrongRegion(actual) if target.discovers_region() && !discovered => {
                    info!(region = %actual, "bucket region discovered");
                    discovered = true;
                    region = actual;
                    client = self.client(target, &region, calls);
                }
                Mapped::WrongRegion(actual) if discovered => {
                    return Err(VerificationFailure::new(
                        FailureReason::NotFound,
                        format!(
                            "{} named region '{region}' for bucket '{}', then region '{actual}': set region to the bucket's region.",
                            target.service.name(),
                            target.bucket,
                        ),
                    ))
                }
                Mapped::WrongRegion(actual) => {
                    return Err(VerificationFailure::new(
                        FailureReason::NotFound,
                        format!(
                            "Bucket '{}' is not in region '{region}': {} expects region '{actual}'. Set region to \"{actual}\" or \"auto\".",
                            target.bucket,
                            target.service.name(),
                        ),
                    ))
                }
            }
        }
    }
}

/// A mapped failure of a call after the bucket check (which alone can meet a region
/// redirect: later calls go to the region it found).
pub(crate) fn failure(mapped: Mapped) -> VerificationFailure {
    match mapped {
        Mapped::Failure(f) => f,
        Mapped::WrongRegion(region) => VerificationFailure::new(
            FailureReason::ProviderError,
            format!("The storage service redirected the request to region '{region}'."),
        ),
    }
}

/// Logs a failed SDK call and maps it to its cause. Only the error code, the HTTP status and
/// the kind of failure are logged: an S3 error body echoes the access key id
/// (`<AWSAccessKeyId>` of `SignatureDoesNotMatch`), and the SDK's error context may carry the
/// raw body, so neither is ever formatted into a log line.
pub(crate) fn call_error<E>(operation: &str, e: &SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let kind = match e {
        SdkError::ConstructionFailure(_) => "construction",
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "dispatch",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ServiceError(_) => "service",
        _ => "other",
    };
    let status = e.raw_response().map(|r| r.status().as_u16());
    debug!(kind, code = e.code(), status, "{operation} failed");
    CallError::from_sdk(e)
}

async fn list(client: &Client, bucket: &str) -> Result<(), CallError> {
    client
        .list_objects_v2()
        .bucket(bucket)
        .max_keys(1)
        .send()
        .await
        .map_err(|e| call_error("ListObjectsV2", &e))?;
    Ok(())
}

/// DeleteObject (idempotent: S3 answers 204 for a key that does not exist).
pub(crate) async fn delete(client: &Client, bucket: &str, key: &str) -> Result<(), CallError> {
    client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| call_error("DeleteObject", &e))?;
    Ok(())
}
