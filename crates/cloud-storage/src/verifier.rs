//! The check itself: list at most one object, write a zero-byte marker, delete it.

use crate::config::Endpoints;
use crate::mapping::{map, CallError, Context, Mapped, Service, Step};
use async_trait::async_trait;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    SharedHttpClient,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider as TlsProvider};
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use integrations_domain::credentials::r2::R2Credentials;
use integrations_domain::credentials::s3::S3Credentials;
use integrations_domain::credentials::{R2Jurisdiction, S3Region};
use integrations_domain::{
    ConnectionVerifier, Credentials, FailureReason, Platform, VerificationFailure,
};
use integrations_outbound::{ConfigError, Egress, ProvidersConfig};
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{debug, info, instrument, warn};

/// Where marker objects are written. Fixed, so an operator can recognise (and a lifecycle
/// rule can expire) anything a check could not remove.
pub const MARKER_PREFIX: &str = ".integration-verify/";

/// The region AWS requests are first signed for when the bucket's region is to be found.
const DISCOVERY_REGION: &str = "us-east-1";

/// Attempts per S3 call (1 + 2 retries). The standard retry mode retries only transient
/// failures (5xx, throttling, I/O, timeouts), never other 4xx answers.
const MAX_ATTEMPTS: u32 = 3;

/// Verifies S3 and R2 credentials (platform `cloud`).
///
/// One HTTP client (hyper + rustls with ring) is built here and shared by every check; each
/// check builds its own lightweight S3 client on top of it, bound to the check's credentials,
/// region and endpoint.
#[derive(Clone)]
pub struct StorageVerifier {
    endpoints: Endpoints,
    http_client: SharedHttpClient,
}

impl std::fmt::Debug for StorageVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageVerifier")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl StorageVerifier {
    /// Validates the `[providers]` settings it reads (`s3.base_url`, `r2.base_url`) and builds
    /// the shared HTTP client, whose resolver is the egress guard. `timeout` is the deadline
    /// of one whole check (`verify.timeout_ms`).
    pub fn new(timeout: Duration, providers: &ProvidersConfig) -> Result<Self, ConfigError> {
        let endpoints = Endpoints::from_config(timeout, providers)?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(TlsProvider::Rustls(CryptoMode::Ring))
            .build_with_resolver(GuardedDns {
                egress: endpoints.egress,
            });
        Ok(Self {
            endpoints,
            http_client,
        })
    }

    /// The deadline of one check.
    pub fn timeout(&self) -> Duration {
        self.endpoints.timeout
    }

    fn target(&self, credentials: &Credentials) -> Result<Target, VerificationFailure> {
        let target = match credentials {
            Credentials::S3(c) => self.s3_target(c),
            Credentials::R2(c) => self.r2_target(c)?,
            _ => {
                return Err(VerificationFailure::new(
                    FailureReason::ProviderError,
                    format!(
                        "The cloud storage verifier cannot check {} credentials.",
                        credentials.provider()
                    ),
                ))
            }
        };
        // The SDK's resolver guards names; an address literal (or a numeric host such as
        // `2130706433`) never reaches a resolver, so it is judged here.
        if let Some(url) = &target.endpoint_url {
            if let Err(e) = self.endpoints.egress.check_url(url) {
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
                "integration-verify",
            ),
            endpoint_url: self.endpoints.s3_base_url.clone(),
            region,
            jurisdiction: None,
        }
    }

    fn r2_target(&self, c: &R2Credentials) -> Result<Target, VerificationFailure> {
        let endpoint = self
            .endpoints
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
                "integration-verify",
            ),
            endpoint_url: Some(endpoint),
            region: RegionPlan::Fixed("auto".to_owned()),
            jurisdiction: c.jurisdiction,
        })
    }

    /// An S3 client for one check, in one region.
    fn client(&self, target: &Target, region: &str) -> Client {
        let timeout = self.endpoints.timeout;
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(self.http_client.clone())
            .credentials_provider(target.credentials.clone())
            .region(Region::new(region.to_owned()))
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
            )
            // R2 (and other S3-compatible services) reject the CRC checksum headers the SDK
            // sends by default since 2025; S3 itself requires them only for a few operations.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(url) = &target.endpoint_url {
            builder = builder.endpoint_url(url).force_path_style(true);
        }
        Client::from_conf(builder.build())
    }

    #[instrument(skip_all, fields(service = target.service.name(), bucket = %target.bucket))]
    async fn check(
        &self,
        target: &Target,
        marker_key: &str,
        pending: &PendingMarker,
    ) -> Result<(), VerificationFailure> {
        let mut region = target.initial_region().to_owned();
        let mut client = self.client(target, &region);

        // 1. List at most one object: key, secret, bucket and read permission.
        let mut discovered = false;
        loop {
            let Err(error) = list(&client, &target.bucket).await else {
                break;
            };
            match map(Step::List, &error, &target.context(&region, marker_key, self.endpoints.timeout)) {
                Mapped::Failure(f) => return Err(f),
                Mapped::WrongRegion(actual) if target.discovers_region() && !discovered => {
                    info!(region = %actual, "bucket region discovered");
                    discovered = true;
                    region = actual;
                    client = self.client(target, &region);
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
        let cx = target.context(&region, marker_key, self.endpoints.timeout);

        // 2. Write the zero-byte marker: the write export needs.
        pending.set(Marker {
            client: client.clone(),
            bucket: target.bucket.clone(),
            key: marker_key.to_owned(),
        });
        if let Err(error) = put(&client, &target.bucket, marker_key).await {
            // A refused write left nothing; after a timeout or a 5xx the marker may exist,
            // so it stays pending and is removed in the background.
            if !error.is_ambiguous() {
                pending.clear();
            }
            return Err(failure(map(Step::Put, &error, &cx)));
        }

        // 3. Delete it again: proves delete, leaves nothing behind.
        if let Err(error) = delete(&client, &target.bucket, marker_key).await {
            if !error.is_ambiguous() {
                pending.clear();
            }
            return Err(failure(map(Step::Delete, &error, &cx)));
        }
        pending.clear();
        Ok(())
    }
}

#[async_trait]
impl ConnectionVerifier for StorageVerifier {
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let target = self.target(credentials)?;
        let marker_key = format!("{MARKER_PREFIX}{}", uuid::Uuid::new_v4());
        let pending = PendingMarker::default();
        let timeout = self.endpoints.timeout;
        let result =
            match tokio::time::timeout(timeout, self.check(&target, &marker_key, &pending)).await {
                Ok(result) => result,
                Err(_) => Err(VerificationFailure::new(
                    FailureReason::Timeout,
                    format!(
                        "{} did not complete the check within {} ms.",
                        target.service.name(),
                        timeout.as_millis()
                    ),
                )),
            };
        if let Some(marker) = pending.take() {
            spawn_cleanup(marker, timeout);
        }
        match &result {
            Ok(()) => info!(service = target.service.name(), "storage check succeeded"),
            Err(f) => info!(
                service = target.service.name(),
                reason = %f.reason,
                "storage check failed"
            ),
        }
        result
    }

    fn supports(&self, platform: Platform) -> bool {
        platform == Platform::Cloud
    }
}

/// The egress guard as the SDK's resolver: names resolve only to allowed addresses.
#[derive(Clone, Debug)]
struct GuardedDns {
    egress: Egress,
}

impl ResolveDns for GuardedDns {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        let egress = self.egress;
        DnsFuture::new(async move { egress.resolve(name).await.map_err(ResolveDnsError::new) })
    }
}

/// What one check talks to, derived from the credentials and the configuration.
struct Target {
    service: Service,
    bucket: String,
    /// `****` + last four characters of the access key id, for messages.
    key_hint: String,
    /// Holds the secret from here on (the SDK's own redacting type).
    credentials: aws_sdk_s3::config::Credentials,
    /// `None`: AWS's regional endpoints; `Some`: path-style requests to this origin.
    endpoint_url: Option<String>,
    region: RegionPlan,
    jurisdiction: Option<R2Jurisdiction>,
}

enum RegionPlan {
    Fixed(String),
    /// `region: "auto"` on S3: sign for us-east-1, learn the bucket's region from the answer.
    Discover,
}

impl Target {
    fn initial_region(&self) -> &str {
        match &self.region {
            RegionPlan::Fixed(r) => r,
            RegionPlan::Discover => DISCOVERY_REGION,
        }
    }

    fn discovers_region(&self) -> bool {
        matches!(self.region, RegionPlan::Discover)
    }

    fn endpoint(&self, region: &str) -> String {
        match &self.endpoint_url {
            Some(url) => url.clone(),
            None => format!("s3.{region}.amazonaws.com"),
        }
    }

    fn context<'a>(
        &'a self,
        region: &'a str,
        marker_key: &'a str,
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
            marker_key,
        }
    }
}

fn failure(mapped: Mapped) -> VerificationFailure {
    match mapped {
        Mapped::Failure(f) => f,
        // Only listing can meet a region redirect; the write goes to the listed region.
        Mapped::WrongRegion(region) => VerificationFailure::new(
            FailureReason::ProviderError,
            format!("The storage service redirected the request to region '{region}'."),
        ),
    }
}

/// A marker object that may exist and must be removed.
struct Marker {
    client: Client,
    bucket: String,
    key: String,
}

/// The marker of a running check, shared with `verify` so that a check cut off by the
/// deadline still removes what it may have written.
#[derive(Default)]
struct PendingMarker(Arc<Mutex<Option<Marker>>>);

impl PendingMarker {
    fn set(&self, marker: Marker) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(marker);
    }

    fn clear(&self) {
        self.take();
    }

    fn take(&self) -> Option<Marker> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Removes a marker that a failed or timed-out check may have left, without holding up the
/// answer. Bounded by the same deadline as a check.
fn spawn_cleanup(marker: Marker, timeout: Duration) {
    tokio::spawn(async move {
        let outcome =
            tokio::time::timeout(timeout, delete(&marker.client, &marker.bucket, &marker.key))
                .await;
        match outcome {
            Ok(Ok(())) => {
                info!(bucket = %marker.bucket, key = %marker.key, "marker object removed after a failed check")
            }
            Ok(Err(error)) => {
                warn!(bucket = %marker.bucket, key = %marker.key, ?error, "could not remove the marker object")
            }
            Err(_) => {
                warn!(bucket = %marker.bucket, key = %marker.key, "removing the marker object timed out")
            }
        }
    });
}

/// Logs a failed SDK call (without credentials: the SDK's error context carries none) and maps
/// it to its cause.
fn call_error<E>(operation: &str, e: &SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    debug!(error = %DisplayErrorContext(e), "{operation} failed");
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

async fn put(client: &Client, bucket: &str, key: &str) -> Result<(), CallError> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_length(0)
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .map_err(|e| call_error("PutObject", &e))?;
    Ok(())
}

async fn delete(client: &Client, bucket: &str, key: &str) -> Result<(), CallError> {
    client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| call_error("DeleteObject", &e))?;
    Ok(())
}
