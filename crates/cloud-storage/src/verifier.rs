//! The check itself: list at most one object, write a zero-byte marker, delete it.

use crate::client::{call_error, delete, failure, GuardedDns, Target};
use crate::config::Endpoints;
use crate::export::BucketCache;
use crate::mapping::{map, CallError, Step};
use async_trait::async_trait;
use aws_sdk_s3::config::SharedHttpClient;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider as TlsProvider};
use integrations_domain::{
    ConnectionVerifier, Credentials, FailureReason, Platform, VerificationFailure,
};
use integrations_outbound::{ConfigError, ProvidersConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{info, instrument, warn};

/// Where marker objects are written. Fixed, so an operator can recognise (and a lifecycle
/// rule can expire) anything a check could not remove.
pub const MARKER_PREFIX: &str = ".integration-verify/";

/// Verifies S3 and R2 credentials (platform `cloud`, [`ConnectionVerifier`]) and exports
/// objects to their bucket ([`integrations_domain::ObjectStore`], in `export`).
///
/// One HTTP client (hyper + rustls with ring) is built here and shared by every check and
/// export; each builds its own lightweight S3 client on top of it, bound to its credentials,
/// region and endpoint. Clones share the HTTP client and the bucket cache.
#[derive(Clone)]
pub struct StorageVerifier {
    endpoints: Endpoints,
    http_client: SharedHttpClient,
    /// Buckets that answered the export's bucket check lately (positive answers only).
    buckets: BucketCache,
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
            buckets: BucketCache::default(),
        })
    }

    /// The deadline of one check.
    pub fn timeout(&self) -> Duration {
        self.endpoints.timeout
    }

    pub(crate) fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub(crate) fn http_client(&self) -> &SharedHttpClient {
        &self.http_client
    }

    pub(crate) fn buckets(&self) -> &BucketCache {
        &self.buckets
    }

    #[instrument(skip_all, fields(service = target.service.name(), bucket = %target.bucket))]
    async fn check(
        &self,
        target: &Target,
        marker_key: &str,
        pending: &PendingMarker,
    ) -> Result<(), VerificationFailure> {
        // 1. List at most one object: key, secret, bucket and read (the region found).
        let timeout = self.endpoints.timeout;
        let (region, client) = self.locate(target, marker_key, timeout).await?;
        let cx = target.context(&region, marker_key, timeout);

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
            return Err(failure(map(Step::PutMarker, &error, &cx)));
        }

        // 3. Delete it again: proves delete, leaves nothing behind.
        if let Err(error) = delete(&client, &target.bucket, marker_key).await {
            if !error.is_ambiguous() {
                pending.clear();
            }
            return Err(failure(map(Step::DeleteMarker, &error, &cx)));
        }
        pending.clear();
        Ok(())
    }
}

#[async_trait]
impl ConnectionVerifier for StorageVerifier {
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let target = self.target(credentials, "check")?;
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
