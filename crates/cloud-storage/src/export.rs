//! Export: [`ObjectStore`] for [`StorageVerifier`] (API.md section 6), on the same targets,
//! HTTP client and error mapping as verification.
//!
//! # A put
//! 1. The bucket check: the verification's `ListObjectsV2 max-keys=1`, which never creates a
//!    bucket (a PutObject would, on some servers). A positive answer is kept for
//!    [`BUCKET_TTL`] per endpoint, region setting, bucket and access key id; a negative one
//!    never is.
//! 2. For `presign`, the GET is signed (SigV4 query authentication, no request made) before
//!    the write, so a put that succeeded cannot fail afterwards.
//! 3. ONE PutObject whose body is the caller's stream, chunk by chunk ([`UploadBody`]):
//!    `Content-Length` is the declared length, the payload is not signed
//!    (`x-amz-content-sha256: UNSIGNED-PAYLOAD`, the SDK's `disable_payload_signing`: signing
//!    it would need the whole body first), no checksum (so no aws-chunked re-framing), no SDK
//!    retry (the body is read once). A body that fails or does not match its length aborts the
//!    request mid-body: S3 and R2 store an object only when its PutObject completes, so
//!    nothing is left (tests/export.rs shows it against s3s-fs, which writes a temporary file
//!    and renames it at the end).
//! 4. A provider that refuses the write at its headers may answer and reset the connection
//!    while the body is still going out; the answer is then lost (the SDK sends no
//!    `Expect: 100-continue`). Such a cut-off re-runs the bucket check uncached, so a bad
//!    key, secret or bucket still gets its precise reason ([`StorageVerifier::cut_off`]).
//!
//! The whole put (check, signing, write) has one deadline: `verify.timeout_ms` plus one second
//! per MiB of the declared length ([`put_deadline`]).

use crate::client::{call_error, delete, failure, Calls, RegionPlan, Target};
use crate::mapping::{map, CallError, Step};
use crate::verifier::StorageVerifier;
use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream as SdkByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use integrations_domain::transfer::{
    BodyError, ByteStream, DeletedObject, ObjectWrite, PresignedUrl, StoredObject,
};
use integrations_domain::{Credentials, FailureReason, ObjectStore, VerificationFailure};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tracing::{info, instrument};

/// How long a bucket that answered the bucket check is believed to exist (API.md: "it may
/// cache a positive answer for a minute").
pub const BUCKET_TTL: Duration = Duration::from_secs(60);

/// Entries the bucket cache holds at most; past that, expired entries go first, then the
/// oldest.
const BUCKET_CACHE_MAX: usize = 4096;

/// The longest validity SigV4 query authentication allows (7 days).
const MAX_PRESIGN: Duration = Duration::from_secs(604_800);

/// The deadline of a put of `length` bytes: `base` (`verify.timeout_ms`) plus 1 s per MiB.
pub fn put_deadline(base: Duration, length: u64) -> Duration {
    const MIB: u64 = 1 << 20;
    // The remainder's share of a second, < 1e9 nanoseconds (no overflow: < 2^20 · 1e9).
    let nanos = (length % MIB) * 1_000_000_000 / MIB;
    base.saturating_add(Duration::new(length / MIB, nanos as u32))
}

/// What identifies a bucket check: where it went, with which region setting, which bucket,
/// which key id. The secret is not part of it: a wrong secret still fails at the write.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct BucketKey {
    endpoint: String,
    bucket: String,
    access_key_id: String,
}

impl BucketKey {
    fn of(target: &Target) -> Self {
        let region = match &target.region {
            RegionPlan::Fixed(r) => r.as_str(),
            RegionPlan::Discover => "auto",
        };
        Self {
            endpoint: format!(
                "{}#{region}",
                target.endpoint_url.as_deref().unwrap_or("aws")
            ),
            bucket: target.bucket.clone(),
            access_key_id: target.credentials.access_key_id().to_owned(),
        }
    }
}

/// Buckets that answered the bucket check in the last [`BUCKET_TTL`], with the region they
/// answered in. Shared by the clones of a [`StorageVerifier`].
#[derive(Clone, Default)]
pub(crate) struct BucketCache(Arc<Mutex<HashMap<BucketKey, (Instant, String)>>>);

impl BucketCache {
    fn get(&self, key: &BucketKey) -> Option<String> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(key) {
            Some((at, region)) if at.elapsed() < BUCKET_TTL => Some(region.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    fn insert(&self, key: BucketKey, region: String) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= BUCKET_CACHE_MAX {
            map.retain(|_, (at, _)| at.elapsed() < BUCKET_TTL);
        }
        if map.len() >= BUCKET_CACHE_MAX {
            let oldest = map
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        map.insert(key, (Instant::now(), region));
    }

    fn forget(&self, key: &BucketKey) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

/// How far a body got, seen from outside the SDK (which owns the body while it sends it).
#[derive(Default)]
struct BodyProbe {
    /// Bytes handed to the HTTP client.
    sent: AtomicU64,
    /// Why the body stopped early, if it did.
    failed: Mutex<Option<BodyError>>,
}

impl BodyProbe {
    fn fail(&self, error: BodyError) -> BodyError {
        *self.failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
        error
    }

    fn failure(&self) -> Option<BodyError> {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

/// The caller's byte stream as an http-body 1.x body for the SDK: passes each chunk on as it
/// comes (nothing is buffered here), reports an exact size hint, and turns a stream error or
/// a length that differs from the declared one into a body error, which aborts the request
/// before it completes.
struct UploadBody {
    /// The SDK wants a `Sync` body; the stream is only `Send`. The mutex is never locked:
    /// `poll_frame` has `&mut self` and uses `get_mut`.
    stream: Mutex<ByteStream>,
    declared: u64,
    remaining: u64,
    done: bool,
    probe: Arc<BodyProbe>,
}

impl UploadBody {
    fn new(stream: ByteStream, declared: u64, probe: Arc<BodyProbe>) -> Self {
        Self {
            stream: Mutex::new(stream),
            declared,
            remaining: declared,
            done: false,
            probe,
        }
    }

    fn fail(&mut self, error: BodyError) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.done = true;
        Poll::Ready(Some(Err(self.probe.fail(error))))
    }
}

impl Body for UploadBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let stream = this
                .stream
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            let next = match stream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(next) => next,
            };
            match next {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => {
                    let len = chunk.len() as u64;
                    if len > this.remaining {
                        let declared = this.declared;
                        return this.fail(BodyError(format!(
                            "the body is longer than the declared {declared} bytes"
                        )));
                    }
                    this.remaining -= len;
                    this.probe.sent.fetch_add(len, Ordering::Relaxed);
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                Some(Err(error)) => return this.fail(error),
                None if this.remaining > 0 => {
                    let (declared, got) = (this.declared, this.declared - this.remaining);
                    return this.fail(BodyError(format!(
                        "the body ended after {got} of the declared {declared} bytes"
                    )));
                }
                None => {
                    this.done = true;
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// One key segment as it appears in a URL path: RFC 3986 unreserved characters stay, every
/// other byte (UTF-8 included) is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The object's address as the provider serves it: virtual-hosted on AWS
/// (`https://{bucket}.s3.{region}.amazonaws.com/{key}`), path-style below a configured origin
/// (`{base_url}/{bucket}/{key}`; for R2 the account endpoint, jurisdiction included). The key
/// is percent-encoded segment by segment; its `/` stay.
pub(crate) fn object_url(
    endpoint_url: Option<&str>,
    bucket: &str,
    region: &str,
    key: &str,
) -> String {
    let key = key
        .split('/')
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/");
    match endpoint_url {
        Some(base) => format!("{}/{bucket}/{key}", base.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

impl StorageVerifier {
    /// The bucket check of an export, answered from the cache when a positive answer is fresh.
    /// Returns the bucket's region and the cache key (to forget the bucket when a later call
    /// says it is gone).
    async fn bucket_checked(
        &self,
        target: &Target,
        key: &str,
    ) -> Result<(String, BucketKey), VerificationFailure> {
        let cache_key = BucketKey::of(target);
        if let Some(region) = self.buckets().get(&cache_key) {
            return Ok((region, cache_key));
        }
        let (region, _) = self.locate(target, key, self.endpoints().timeout).await?;
        self.buckets().insert(cache_key.clone(), region.clone());
        Ok((region, cache_key))
    }

    #[instrument(skip_all, fields(service = target.service.name(), bucket = %target.bucket, key = %object.key, size = object.length))]
    async fn upload(
        &self,
        target: &Target,
        object: ObjectWrite,
        deadline: Duration,
        probe: Arc<BodyProbe>,
    ) -> Result<StoredObject, VerificationFailure> {
        let ObjectWrite {
            key,
            content_type,
            length,
            body,
            presign,
        } = object;
        let presigning = presign.map(presigning_config).transpose()?;
        let (region, cache_key) = self.bucket_checked(target, &key).await?;
        let cx = target.context(&region, &key, deadline);
        let client = self.client(
            target,
            &region,
            Calls::Upload {
                connect_timeout: self.endpoints().timeout / 2,
            },
        );

        let presigned = match presigning {
            Some((config, valid)) => Some(presign_get(&client, target, &key, config, valid).await?),
            None => None,
        };

        let content_length = i64::try_from(length).map_err(|_| {
            VerificationFailure::new(
                FailureReason::ProviderError,
                format!("An object of {length} bytes cannot be written."),
            )
        })?;
        let body = SdkByteStream::from_body_1_x(UploadBody::new(body, length, probe.clone()));
        let sent = client
            .put_object()
            .bucket(&target.bucket)
            .key(&key)
            .content_type(content_type.as_str())
            .content_length(content_length)
            .body(body)
            .customize()
            .disable_payload_signing()
            .send()
            .await;
        let output = match sent {
            Ok(output) => output,
            Err(e) => {
                let error = call_error("PutObject", &e);
                if let Some(body_error) = probe.failure() {
                    return Err(VerificationFailure::new(
                        FailureReason::ProviderError,
                        format!(
                            "The upload of '{key}' to bucket '{}' was cancelled, {body_error}; nothing was stored.",
                            target.bucket
                        ),
                    ));
                }
                if probe.sent() > 0
                    && matches!(
                        error,
                        CallError::Unreachable { .. } | CallError::Other { .. }
                    )
                {
                    return Err(self.cut_off(target, &key, &cache_key, &error).await);
                }
                let f = failure(map(Step::PutObject, &error, &cx));
                if f.reason == FailureReason::NotFound {
                    self.buckets().forget(&cache_key);
                }
                return Err(f);
            }
        };
        Ok(StoredObject {
            url: object_url(
                target.endpoint_url.as_deref(),
                &target.bucket,
                &region,
                &key,
            ),
            bucket: target.bucket.clone(),
            key,
            size: length,
            content_type,
            etag: output.e_tag().unwrap_or_default().to_owned(),
            presigned,
        })
    }

    /// A PutObject whose connection broke while the body was being sent. A provider that
    /// refuses a request at its headers (bad signature, unknown key, missing bucket, no
    /// `s3:PutObject`) may answer and close at once; the answer is then lost to the reset
    /// (HTTP/1.1 without `Expect: 100-continue`, which the SDK does not send). So the bucket
    /// check runs again, uncached: it names a bad key, secret or bucket precisely. When it
    /// passes, the write itself was refused or the network failed: both are said.
    async fn cut_off(
        &self,
        target: &Target,
        key: &str,
        cache_key: &BucketKey,
        error: &CallError,
    ) -> VerificationFailure {
        self.buckets().forget(cache_key);
        if let Err(f) = self.bucket_checked(target, key).await {
            return f;
        }
        let detail = match error {
            CallError::Unreachable { detail } | CallError::Other { detail } => detail.as_str(),
            _ => "connection lost",
        };
        let service = target.service.name();
        VerificationFailure::new(
            FailureReason::Unreachable,
            format!(
                "{service} closed the connection while '{key}' was being sent ({detail}); nothing was stored. The access key id {} can list bucket '{}', so either {service} refused the write (the key needs the s3:PutObject permission on the bucket) or the connection failed: try again.",
                target.key_hint, target.bucket
            ),
        )
    }

    #[instrument(skip_all, fields(service = target.service.name(), bucket = %target.bucket, key = %key))]
    async fn remove(
        &self,
        target: &Target,
        key: &str,
    ) -> Result<DeletedObject, VerificationFailure> {
        let timeout = self.endpoints().timeout;
        let (region, cache_key) = self.bucket_checked(target, key).await?;
        let client = self.client(target, &region, Calls::Replayable { timeout });
        if let Err(error) = delete(&client, &target.bucket, key).await {
            let f = failure(map(
                Step::DeleteObject,
                &error,
                &target.context(&region, key, timeout),
            ));
            if f.reason == FailureReason::NotFound {
                self.buckets().forget(&cache_key);
            }
            return Err(f);
        }
        Ok(DeletedObject {
            bucket: target.bucket.clone(),
            key: key.to_owned(),
        })
    }
}

/// The signing settings of a presigned GET valid `valid` (1 s to 7 days).
fn presigning_config(valid: Duration) -> Result<(PresigningConfig, Duration), VerificationFailure> {
    let refused = || {
        VerificationFailure::new(
            FailureReason::ProviderError,
            format!(
                "A presigned URL can be valid 1 to {} seconds, not {} seconds.",
                MAX_PRESIGN.as_secs(),
                valid.as_secs()
            ),
        )
    };
    if valid < Duration::from_secs(1) || valid > MAX_PRESIGN {
        return Err(refused());
    }
    let config = PresigningConfig::expires_in(valid).map_err(|_| refused())?;
    Ok((config, valid))
}

/// A SigV4-presigned GET of the object (no request is made).
async fn presign_get(
    client: &Client,
    target: &Target,
    key: &str,
    config: PresigningConfig,
    valid: Duration,
) -> Result<PresignedUrl, VerificationFailure> {
    let expires_at = OffsetDateTime::now_utc() + valid;
    let request = client
        .get_object()
        .bucket(&target.bucket)
        .key(key)
        .presigned(config)
        .await
        .map_err(|_| {
            VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "A GET of '{key}' in bucket '{}' could not be signed.",
                    target.bucket
                ),
            )
        })?;
    Ok(PresignedUrl {
        url: request.uri().to_owned(),
        expires_at,
    })
}

#[async_trait]
impl ObjectStore for StorageVerifier {
    async fn put(
        &self,
        credentials: &Credentials,
        object: ObjectWrite,
    ) -> Result<StoredObject, VerificationFailure> {
        let target = self.target(credentials, "export to")?;
        let (key, length) = (object.key.clone(), object.length);
        let deadline = put_deadline(self.endpoints().timeout, length);
        let probe = Arc::new(BodyProbe::default());
        let upload = self.upload(&target, object, deadline, probe.clone());
        let result = match tokio::time::timeout(deadline, upload).await {
            Ok(result) => result,
            // Dropping the upload closed its connection mid-request: unless every byte had
            // gone out, the provider cannot have stored the object.
            Err(_) => {
                let sent = probe.sent();
                let stored = if sent == length {
                    " Every byte had been sent: the object may have been stored; repeat the upload to be sure."
                } else {
                    " Nothing was stored."
                };
                Err(VerificationFailure::new(
                    FailureReason::Timeout,
                    format!(
                        "{} did not complete the upload of '{key}' to bucket '{}' within {} ms ({sent} of {length} bytes sent).{stored}",
                        target.service.name(),
                        target.bucket,
                        deadline.as_millis(),
                    ),
                ))
            }
        };
        match &result {
            Ok(stored) => info!(
                service = target.service.name(),
                bucket = %target.bucket,
                key = %stored.key,
                size = stored.size,
                "object exported"
            ),
            Err(f) => info!(
                service = target.service.name(),
                bucket = %target.bucket,
                key = %key,
                reason = %f.reason,
                "export failed"
            ),
        }
        result
    }

    async fn delete(
        &self,
        credentials: &Credentials,
        key: &str,
    ) -> Result<DeletedObject, VerificationFailure> {
        let target = self.target(credentials, "delete objects with")?;
        let timeout = self.endpoints().timeout;
        let result = match tokio::time::timeout(timeout, self.remove(&target, key)).await {
            Ok(result) => result,
            Err(_) => Err(VerificationFailure::new(
                FailureReason::Timeout,
                format!(
                    "{} did not complete the deletion of '{key}' in bucket '{}' within {} ms.",
                    target.service.name(),
                    target.bucket,
                    timeout.as_millis()
                ),
            )),
        };
        match &result {
            Ok(_) => {
                info!(service = target.service.name(), bucket = %target.bucket, key = %key, "object deleted")
            }
            Err(f) => {
                info!(service = target.service.name(), bucket = %target.bucket, key = %key, reason = %f.reason, "object deletion failed")
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use integrations_domain::credentials::SealedDefaults;
    use integrations_domain::{CredentialsInput, Provider};
    use integrations_outbound::ProvidersConfig;

    const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

    fn verifier(s3_base_url: &str) -> StorageVerifier {
        let config = ProvidersConfig::default()
            .with("s3", "base_url", s3_base_url)
            .with(
                "r2",
                "base_url",
                "https://{accountId}.r2.cloudflarestorage.com",
            );
        StorageVerifier::new(Duration::from_secs(10), &config).unwrap()
    }

    fn s3(region: &str) -> Credentials {
        let input = CredentialsInput::new()
            .with("bucket", "shots")
            .with("accessKeyId", "AKIAIOSFODNN7EXAMPLE")
            .with(
                "secretAccessKey",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )
            .with("region", region);
        Credentials::parse(Provider::S3, &input, SealedDefaults::None).unwrap()
    }

    fn r2(jurisdiction: Option<&str>) -> Credentials {
        let mut input = CredentialsInput::new()
            .with("bucket", "shots")
            .with("accessKeyId", "0123456789abcdef0123456789abcdef")
            .with(
                "secretAccessKey",
                "3f5c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7",
            )
            .with("accountId", ACCOUNT);
        if let Some(j) = jurisdiction {
            input = input.with("jurisdiction", j);
        }
        Credentials::parse(Provider::R2, &input, SealedDefaults::None).unwrap()
    }

    /// The url of `key` for `credentials`, as a put in `region` would answer it.
    fn url_of(v: &StorageVerifier, credentials: &Credentials, region: &str, key: &str) -> String {
        let target = v.target(credentials, "export to").unwrap();
        object_url(target.endpoint_url.as_deref(), &target.bucket, region, key)
    }

    #[test]
    fn aws_urls_are_virtual_hosted_in_the_bucket_region() {
        let v = verifier("");
        assert_eq!(
            url_of(&v, &s3("eu-west-1"), "eu-west-1", "screenshots/2024/a.png"),
            "https://shots.s3.eu-west-1.amazonaws.com/screenshots/2024/a.png"
        );
        // `auto`: the region the bucket check discovered.
        assert_eq!(
            url_of(&v, &s3("auto"), "ap-southeast-2", "a.png"),
            "https://shots.s3.ap-southeast-2.amazonaws.com/a.png"
        );
    }

    #[test]
    fn r2_urls_use_the_account_endpoint_with_the_jurisdiction() {
        let v = verifier("");
        assert_eq!(
            url_of(&v, &r2(None), "auto", "a.png"),
            format!("https://{ACCOUNT}.r2.cloudflarestorage.com/shots/a.png")
        );
        assert_eq!(
            url_of(&v, &r2(Some("eu")), "auto", "x/a.png"),
            format!("https://{ACCOUNT}.eu.r2.cloudflarestorage.com/shots/x/a.png")
        );
        assert_eq!(
            url_of(&v, &r2(Some("fedramp")), "auto", "a.png"),
            format!("https://{ACCOUNT}.fedramp.r2.cloudflarestorage.com/shots/a.png")
        );
    }

    #[test]
    fn a_configured_s3_base_url_is_path_style() {
        let v = verifier("https://minio.example.com:9000/");
        assert_eq!(
            url_of(&v, &s3("us-east-1"), "us-east-1", "a/b.png"),
            "https://minio.example.com:9000/shots/a/b.png"
        );
    }

    #[test]
    fn keys_are_percent_encoded_per_segment() {
        assert_eq!(
            object_url(None, "b", "us-east-1", "dossier été/a b+c%?#&=.png"),
            "https://b.s3.us-east-1.amazonaws.com/dossier%20%C3%A9t%C3%A9/a%20b%2Bc%25%3F%23%26%3D.png"
        );
        assert_eq!(
            object_url(Some("http://127.0.0.1:9000"), "b", "auto", "日本/~a-b_c.d"),
            "http://127.0.0.1:9000/b/%E6%97%A5%E6%9C%AC/~a-b_c.d"
        );
    }

    #[test]
    fn the_deadline_grows_one_second_per_mib() {
        let base = Duration::from_millis(10_000);
        assert_eq!(put_deadline(base, 0), base);
        assert_eq!(put_deadline(base, 1 << 20), Duration::from_secs(11));
        assert_eq!(put_deadline(base, 25 << 20), Duration::from_secs(35));
        assert_eq!(put_deadline(base, 512 << 10), Duration::from_millis(10_500));
        assert!(put_deadline(base, u64::MAX) > Duration::from_secs(1 << 43));
    }

    #[test]
    fn presign_validity_is_1_s_to_7_days() {
        assert!(presigning_config(Duration::from_secs(1)).is_ok());
        assert!(presigning_config(MAX_PRESIGN).is_ok());
        assert!(presigning_config(Duration::ZERO).is_err());
        assert!(presigning_config(MAX_PRESIGN + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn the_bucket_cache_keeps_positive_answers_per_key_id() {
        let v = verifier("");
        let a = BucketKey::of(&v.target(&s3("auto"), "x").unwrap());
        let b = BucketKey::of(&v.target(&r2(None), "x").unwrap());
        let c = BucketKey::of(&v.target(&s3("eu-west-1"), "x").unwrap());
        assert_ne!(a, b);
        assert_ne!(a, c, "an explicit region is another check than auto");
        let cache = BucketCache::default();
        assert_eq!(cache.get(&a), None);
        cache.insert(a.clone(), "eu-west-1".into());
        assert_eq!(cache.get(&a).as_deref(), Some("eu-west-1"));
        assert_eq!(cache.get(&b), None);
        cache.forget(&a);
        assert_eq!(cache.get(&a), None);
        // An expired entry is not used.
        cache
            .0
            .lock()
            .unwrap()
            .insert(a.clone(), (Instant::now() - BUCKET_TTL, "eu-west-1".into()));
        assert_eq!(cache.get(&a), None);
    }

    #[test]
    fn the_bucket_cache_is_bounded() {
        let cache = BucketCache::default();
        for i in 0..BUCKET_CACHE_MAX + 10 {
            cache.insert(
                BucketKey {
                    endpoint: "aws#auto".into(),
                    bucket: format!("b{i}"),
                    access_key_id: "AKIA".into(),
                },
                "us-east-1".into(),
            );
        }
        assert_eq!(cache.0.lock().unwrap().len(), BUCKET_CACHE_MAX);
    }
}
