//! The cloud-storage adapter for platform `cloud` (Amazon S3 and Cloudflare R2) through the
//! official `aws-sdk-s3` (see `docs/decisions/0004-s3-client.md`): `ConnectionVerifier`
//! (verification) and `ObjectStore` (export: streamed put, delete, presigned GET), both on
//! [`StorageVerifier`].
//! Every request goes through the shared egress guard (`providers.allow_private_networks`):
//! the SDK's resolver keeps only public addresses and literal endpoints are checked first.
//!
//! # What a check proves
//! 1. `ListObjectsV2` with `max-keys=1`: the key id and secret are valid, the bucket exists,
//!    its objects can be listed (`s3:ListBucket`). For S3 with `region: "auto"` the first
//!    request is signed for us-east-1; a `301` (`x-amz-bucket-region`) or
//!    `AuthorizationHeaderMalformed` (`<Region>`) answer names the bucket's region and the
//!    check continues there.
//! 2. `PutObject` of a zero-byte marker under [`MARKER_PREFIX`] (`s3:PutObject`, what export
//!    needs).
//! 3. `DeleteObject` of that marker (`s3:DeleteObject`). A marker that may exist after a
//!    failed or timed-out check is removed in the background; one that cannot be removed is
//!    named in the message.
//!
//! Never ListBuckets, HeadBucket or CreateBucket: bucket-scoped R2 tokens cannot use them,
//! and a check must not create a missing bucket.
//!
//! # What an export does
//! The same bucket check (step 1, a positive answer cached for a minute), then ONE PutObject
//! that streams the caller's body to the provider (never held whole, never retried, aborted
//! mid-body when the body fails, so nothing is stored), or one DeleteObject. See `export`.
//!
//! # Layout
//! * [`config`]: the settings read from `[providers]` (`s3.base_url`, `r2.base_url`) and
//!   their validation.
//! * `verifier`: [`StorageVerifier`], the shared HTTP client (hyper + rustls with ring), the
//!   check's three steps and the deadline over all of them.
//! * `client`: what verification and export share: credentials → target (endpoint, region,
//!   egress guard), one S3 client per call sequence, the bucket check with region discovery.
//! * `export`: `ObjectStore`: the bucket cache, the streamed body, object URLs, presigning
//!   and the deadline of a put.
//! * `mapping`: from an SDK error to a [`integrations_domain::FailureReason`] and a message
//!   that never contains a secret (unit tests with recorded AWS and R2 answers).
//! * `testing` (feature `testing`): `testing::S3sFs`, a real SigV4-checking S3 server
//!   (s3s-fs) for end-to-end tests, started on a free port and killed on drop.

mod client;
pub mod config;
mod export;
mod mapping;
#[cfg(feature = "testing")]
pub mod testing;
mod verifier;

pub use config::SETTINGS;
pub use export::{put_deadline, BUCKET_TTL};
pub use integrations_outbound::{ConfigError, ProvidersConfig};
pub use verifier::{StorageVerifier, MARKER_PREFIX};
