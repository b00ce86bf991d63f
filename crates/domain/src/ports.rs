//! Ports: the traits adapters implement. Each method documents the errors an adapter MUST
//! return, so the service can map them without knowing the adapter.
//!
//! Every port is object safe (`Arc<dyn IntegrationRepository>` works) and implemented for
//! `Arc<T>`, so embedders can pick static or dynamic dispatch.
//!
//! | port | what it keeps or does | adapters |
//! |---|---|---|
//! | [`IntegrationRepository`] | integrations; each change written with its audit event | store, `testing::InMemoryRepository` |
//! | [`AuditLog`] | events not tied to a stored change (verify, export, import, reveal); listing | store, in-memory |
//! | [`ApiKeyStore`] | accounts and API keys (digests only) | store, in-memory |
//! | [`KeyRegistry`] | master-key fingerprints, integrations per key, rewrap batches | store, in-memory |
//! | [`CredentialVault`] | sealing and opening secret fields, rewrapping data keys | vault, `testing::ReversibleVault` |
//! | [`ConnectionVerifier`] | checking credentials against their provider | cloud-storage, helpcenter, `testing::ScriptedVerifier` |
//! | [`ObjectStore`] | export: writing and deleting objects in a customer's bucket | cloud-storage, `testing::InMemoryObjects` |
//! | [`HelpCenterCatalogue`] | import: one page of the images of a help center's articles | helpcenter, `testing::ScriptedCatalogue` |
//! | [`Entropy`] | random bytes for API keys | vault, `testing::CountingEntropy` |

use crate::access::{AccountName, ApiKeyRecord, KeyId};
use crate::audit::{AuditEvent, EventQuery};
use crate::credentials::{Credentials, SecretFields};
use crate::ids::{AccountId, IntegrationId};
use crate::integration::{IntegrationRecord, IntegrationView, ListQuery, Listed, SealedSecrets};
use crate::page::Page;
use crate::provider::{Platform, Provider};
use crate::verification::{FailureReason, Verification, VerificationFailure};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the repositories.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// No such row for this account (also: the row belongs to another account).
    #[error("not found")]
    NotFound,
    /// A row with this id already exists, or a compare-and-set found another version.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached right now (the API answers 503 and the caller may retry).
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else (a bug, corrupt data). Never carries a secret.
    #[error("repository failure: {0}")]
    Other(#[source] BoxError),
}

impl RepositoryError {
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        RepositoryError::Unavailable(e.into())
    }

    pub fn other(e: impl Into<BoxError>) -> Self {
        RepositoryError::Other(e.into())
    }
}

/// Where integrations are kept. Every change is written together with its audit event, in
/// one transaction: an adapter MUST store both or neither.
#[async_trait]
pub trait IntegrationRepository: Send + Sync + 'static {
    /// Stores a new integration and its `created` event. `Conflict` when its id exists.
    async fn insert(
        &self,
        record: &IntegrationRecord,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError>;

    /// The integration `id` of `account`. `NotFound` (never a database error) when there is
    /// none or it belongs to another account.
    async fn get(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, RepositoryError>;

    /// Replaces label, provider, public fields, sealed secrets, `updated_at` and
    /// `last_verification` of the row matching `record.account_id` and `record.id`, only if
    /// its `updated_at` still equals `expected_updated_at` (compare-and-set); `created_at` is
    /// never changed. Writes `event` in the same transaction. `NotFound` when there is no such
    /// row, `Conflict` when it was changed meanwhile.
    async fn update(
        &self,
        record: &IntegrationRecord,
        expected_updated_at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError>;

    /// Deletes one integration and writes its `deleted` event. `NotFound` when there is no
    /// such row for this account (and then no event is written).
    async fn delete(
        &self,
        account: AccountId,
        id: IntegrationId,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError>;

    /// One page of `account`'s integrations in (`created_at`, `id`) ascending order, after
    /// `query.after`, filtered by platform and provider. A row that cannot be read is listed
    /// as [`Listed::Unreadable`] (never an error for the whole page). `next` is the position
    /// of the last item when more items follow, else `None`.
    ///
    /// Items are what a list shows, the masked view: the sealed secrets are not read (a list
    /// never holds them, and a page moves less data; [`Credentials::masked_view`] builds the
    /// credentials from the public fields).
    async fn list(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<Listed<IntegrationView>>, RepositoryError>;

    /// Records the latest verification of an integration, only if its `updated_at` still
    /// equals `checked_version` (the version whose credentials were checked), and writes
    /// `event` in the same transaction whatever the outcome. `Ok(true)` when recorded,
    /// `Ok(false)` when the integration changed or disappeared meanwhile.
    async fn record_verification(
        &self,
        account: AccountId,
        id: IntegrationId,
        checked_version: OffsetDateTime,
        verification: &Verification,
        event: &AuditEvent,
    ) -> Result<bool, RepositoryError>;

    /// Succeeds when the store answers (readiness). `Unavailable` otherwise.
    async fn ping(&self) -> Result<(), RepositoryError>;
}

/// The audit trail: events that record no stored change (verify, export, import, reveal)
/// are appended here; every event is listed from here.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends one event.
    async fn append(&self, event: &AuditEvent) -> Result<(), RepositoryError>;

    /// One page of `account`'s events, newest first (`at`, then `id`, descending), optionally
    /// of one integration, before `query.before`.
    async fn events(
        &self,
        account: AccountId,
        query: &EventQuery,
    ) -> Result<Page<AuditEvent>, RepositoryError>;
}

/// A store of integrations and their audit trail, as one object (`Arc<dyn IntegrationStore>`
/// for dynamic dispatch: a trait object can name only one trait).
pub trait IntegrationStore: IntegrationRepository + AuditLog {}

impl<T: IntegrationRepository + AuditLog + ?Sized> IntegrationStore for T {}

/// A key to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiKey {
    pub key_id: KeyId,
    pub digest: crate::access::ApiKeyDigest,
    pub scopes: crate::access::Scopes,
    pub label: Option<String>,
    pub created_at: OffsetDateTime,
}

/// Accounts and their API keys (digests only).
#[async_trait]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// The id of the account called `name`, created when missing.
    async fn ensure_account(&self, name: &AccountName) -> Result<AccountId, RepositoryError>;

    /// Adds a key to an account. `NotFound` for an unknown account, `Conflict` when a key with
    /// the same key id exists (the caller draws a new key).
    async fn insert_api_key(
        &self,
        account: AccountId,
        key: &NewApiKey,
    ) -> Result<(), RepositoryError>;

    /// Atomically: when no API key exists at all, creates account `name` (if needed) with this
    /// key and returns its id; otherwise changes nothing and returns `None`. Safe when several
    /// replicas start at once on an empty database.
    async fn insert_first_api_key(
        &self,
        name: &AccountName,
        key: &NewApiKey,
    ) -> Result<Option<AccountId>, RepositoryError>;

    /// The key with this id (revoked or not), if any; the caller compares digests. A key
    /// stored before key ids existed (none recorded) is found by `digest` once and given
    /// `key_id` from then on.
    async fn find_api_key(
        &self,
        key_id: &KeyId,
        digest: &crate::access::ApiKeyDigest,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError>;

    /// Every key, or those of one account, oldest first.
    async fn list_api_keys(
        &self,
        account: Option<&AccountName>,
    ) -> Result<Vec<ApiKeyRecord>, RepositoryError>;

    /// Marks a key revoked (idempotent: a revoked key keeps its first revocation time).
    /// `NotFound` for an unknown key id.
    async fn revoke_api_key(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
    ) -> Result<(), RepositoryError>;

    /// Sets `last_used_at` (callers throttle this to about once a minute per key).
    async fn touch_api_key(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
    ) -> Result<(), RepositoryError>;
}

/// What one rewrap batch did.
#[derive(Debug, Default)]
pub struct RewrapBatch {
    /// Rows examined (claimed) in this batch.
    pub claimed: u64,
    /// Rows now sealed under the active key.
    pub rewrapped: u64,
    /// Rows that could not be rewrapped (unknown key, corrupt blob), left as they were.
    pub failed: Vec<(IntegrationId, VaultError)>,
    /// The last id of the batch: the next batch starts after it. `None` when nothing was left.
    pub last: Option<IntegrationId>,
}

/// Master-key bookkeeping: the fingerprints of the key-encryption keys this database was
/// encrypted with, and the rotation sweep.
#[async_trait]
pub trait KeyRegistry: Send + Sync + 'static {
    /// The stored fingerprint of each key id this database has seen.
    async fn fingerprints(&self) -> Result<BTreeMap<u32, [u8; 32]>, RepositoryError>;

    /// Stores the fingerprints of key ids not seen yet (insert-if-absent, safe when replicas
    /// start together). Never changes a stored fingerprint.
    async fn remember_fingerprints(
        &self,
        fingerprints: &[(u32, [u8; 32])],
    ) -> Result<(), RepositoryError>;

    /// How many integrations each key-encryption key seals (keys sealing none are absent).
    async fn sealed_per_key(&self) -> Result<BTreeMap<u32, u64>, RepositoryError>;

    /// Claims up to `limit` integrations (of any account) whose `kek_id` is not `active`,
    /// in id order after `after`, rewraps their data keys with `vault` and writes them back,
    /// in one short transaction that locks only the claimed rows. A row another transaction
    /// is changing is waited for, never passed over (a sweep moves on by id: a skipped row
    /// would stay under the old key); one that another sweep rewrapped meanwhile is left out.
    /// `updated_at` is untouched: the credentials did not change.
    async fn rewrap_batch(
        &self,
        active: u32,
        after: Option<IntegrationId>,
        limit: u32,
        vault: &dyn CredentialVault,
    ) -> Result<RewrapBatch, RepositoryError>;
}

/// What a sealed blob is bound to: it opens only for the same account, integration and
/// provider it was sealed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealContext {
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub provider: Provider,
}

impl SealContext {
    pub fn of(record: &IntegrationRecord) -> Self {
        Self {
            account_id: record.account_id,
            integration_id: record.id,
            provider: record.provider,
        }
    }
}

/// Errors of the vault. None carries plaintext or key material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The blob names a key-encryption key this vault does not hold.
    #[error("sealed data names an unknown key-encryption key ({kek_id})")]
    UnknownKey { kek_id: u32 },
    /// Unknown blob version or algorithm, or a truncated blob.
    #[error("sealed data has an unsupported or malformed format")]
    UnsupportedFormat,
    /// Authentication failed: tampered data, wrong key, or a blob bound to another row.
    #[error("sealed data failed authentication")]
    Integrity,
    /// Sealing failed (randomness or encryption).
    #[error("sealing failed: {0}")]
    Seal(String),
}

/// Seals and opens the secret fields of an integration.
#[async_trait]
pub trait CredentialVault: Send + Sync + 'static {
    /// Seals with a fresh data key under the active key-encryption key.
    async fn seal(
        &self,
        context: &SealContext,
        fields: &SecretFields,
    ) -> Result<SealedSecrets, VaultError>;

    /// Opens a blob sealed for the same context. `UnknownKey`, `UnsupportedFormat` or
    /// `Integrity` when it cannot be opened; never returns partial data.
    async fn open(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SecretFields, VaultError>;

    /// Re-wraps the data key of `sealed` under the active key without decrypting the
    /// payload; a blob already under the active key comes back unchanged. Errors as `open`.
    async fn rewrap(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SealedSecrets, VaultError>;

    /// The id of the key new seals use.
    fn active_key_id(&self) -> u32;

    /// Seals a small token (an import cursor) bound to `context`, as URL-safe text: opaque and
    /// tamper-proof to its holder.
    fn seal_token(&self, context: &[u8], plaintext: &[u8]) -> Result<String, VaultError>;

    /// Opens a token sealed for the same `context`. `Integrity` (or `UnsupportedFormat`) for
    /// anything else: forged, altered, or bound to another context.
    fn open_token(&self, context: &[u8], token: &str) -> Result<Vec<u8>, VaultError>;
}

/// Checks that credentials work against their provider.
#[async_trait]
pub trait ConnectionVerifier: Send + Sync + 'static {
    /// `Ok(())` when the check proves what the contract asks (cloud: list, write and delete;
    /// help center: an authenticated agent or admin); otherwise the cause and a message for
    /// the user, never containing a secret. MUST finish within the adapter's deadline, giving
    /// `FailureReason::Timeout` when the provider does not answer in time.
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure>;

    /// Whether this verifier can check credentials of `platform` at all (the API answers 501
    /// for a platform no verifier is wired for).
    fn supports(&self, platform: Platform) -> bool {
        let _ = platform;
        true
    }
}

/// Export: objects in a customer's bucket (platform `cloud`).
///
/// Every failure is a [`VerificationFailure`] with the causes and reasons of a verification
/// (`not_found` for a missing bucket, `invalid_credentials`, `insufficient_permissions`,
/// `rate_limited` with the provider's wait, `timeout`, `unreachable`, `provider_error`), and a
/// message that never holds a secret. A body that breaks off is `provider_error` carrying the
/// body's message; in every failure case nothing is left behind.
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Writes `object` at `object.key` in the bucket of `credentials`, atomically: a write
    /// that fails (provider failure, deadline, a body that breaks off) leaves no new object
    /// and an earlier object at that key whole. One case cannot be told apart: a deadline
    /// that passes after the whole body was sent, when the provider may have stored it; the
    /// failure's message says so (repeat the upload), and the adapter deletes nothing (that
    /// could remove an earlier object). MUST NOT create a missing bucket. The body is
    /// streamed, never held whole.
    async fn put(
        &self,
        credentials: &Credentials,
        object: crate::transfer::ObjectWrite,
    ) -> Result<crate::transfer::StoredObject, VerificationFailure>;

    /// Deletes the object at `key` (also when it did not exist, as S3 does).
    async fn delete(
        &self,
        credentials: &Credentials,
        key: &str,
    ) -> Result<crate::transfer::DeletedObject, VerificationFailure>;
}

/// Import: the images of a help center's articles (platform `helpcenter`).
#[async_trait]
pub trait HelpCenterCatalogue: Send + Sync + 'static {
    /// One page of images from `position` (`None`: the start), in the provider's article
    /// order and each article's document order, each URL once per article. Returns at least
    /// one image unless the catalogue is exhausted (then `next` is `None`) or the call or time budget
    /// of one page ran out (then `next` is where to resume), at most `limit`; `next` lets the
    /// following call resume without re-reading earlier provider pages. A position this
    /// adapter did not produce is a `provider_error` failure (never a panic). Failures as for
    /// [`ObjectStore`].
    async fn images(
        &self,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<crate::transfer::ImagePage, VerificationFailure>;
}

/// Where the use cases report provider calls (verify, export, import) for metrics. The
/// default [`NoMeter`] reports nothing.
pub trait Meter: Send + Sync + 'static {
    /// One call of `action` on `provider` ended with `outcome` after `elapsed`.
    fn provider_call(
        &self,
        action: crate::audit::Action,
        provider: Provider,
        outcome: Result<(), FailureReason>,
        elapsed: std::time::Duration,
    );
}

/// A [`Meter`] that reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMeter;

impl Meter for NoMeter {
    fn provider_call(
        &self,
        _: crate::audit::Action,
        _: Provider,
        _: Result<(), FailureReason>,
        _: std::time::Duration,
    ) {
    }
}

/// The system's random numbers failed (never expected on a healthy machine).
#[derive(Debug, thiserror::Error)]
#[error("the random number generator failed")]
pub struct EntropyError;

/// Cryptographically secure random bytes.
pub trait Entropy: Send + Sync + 'static {
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError>;
}

#[async_trait]
impl<T: IntegrationRepository + ?Sized> IntegrationRepository for Arc<T> {
    async fn insert(&self, r: &IntegrationRecord, e: &AuditEvent) -> Result<(), RepositoryError> {
        (**self).insert(r, e).await
    }
    async fn get(
        &self,
        a: AccountId,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, RepositoryError> {
        (**self).get(a, id).await
    }
    async fn update(
        &self,
        r: &IntegrationRecord,
        expected: OffsetDateTime,
        e: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        (**self).update(r, expected, e).await
    }
    async fn delete(
        &self,
        a: AccountId,
        id: IntegrationId,
        e: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        (**self).delete(a, id, e).await
    }
    async fn list(
        &self,
        a: AccountId,
        q: &ListQuery,
    ) -> Result<Page<Listed<IntegrationView>>, RepositoryError> {
        (**self).list(a, q).await
    }
    async fn record_verification(
        &self,
        a: AccountId,
        id: IntegrationId,
        version: OffsetDateTime,
        v: &Verification,
        e: &AuditEvent,
    ) -> Result<bool, RepositoryError> {
        (**self).record_verification(a, id, version, v, e).await
    }
    async fn ping(&self) -> Result<(), RepositoryError> {
        (**self).ping().await
    }
}

#[async_trait]
impl<T: AuditLog + ?Sized> AuditLog for Arc<T> {
    async fn append(&self, e: &AuditEvent) -> Result<(), RepositoryError> {
        (**self).append(e).await
    }
    async fn events(
        &self,
        a: AccountId,
        q: &EventQuery,
    ) -> Result<Page<AuditEvent>, RepositoryError> {
        (**self).events(a, q).await
    }
}

#[async_trait]
impl<T: ApiKeyStore + ?Sized> ApiKeyStore for Arc<T> {
    async fn ensure_account(&self, n: &AccountName) -> Result<AccountId, RepositoryError> {
        (**self).ensure_account(n).await
    }
    async fn insert_api_key(&self, a: AccountId, k: &NewApiKey) -> Result<(), RepositoryError> {
        (**self).insert_api_key(a, k).await
    }
    async fn insert_first_api_key(
        &self,
        n: &AccountName,
        k: &NewApiKey,
    ) -> Result<Option<AccountId>, RepositoryError> {
        (**self).insert_first_api_key(n, k).await
    }
    async fn find_api_key(
        &self,
        k: &KeyId,
        d: &crate::access::ApiKeyDigest,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
        (**self).find_api_key(k, d).await
    }
    async fn list_api_keys(
        &self,
        a: Option<&AccountName>,
    ) -> Result<Vec<ApiKeyRecord>, RepositoryError> {
        (**self).list_api_keys(a).await
    }
    async fn revoke_api_key(&self, k: &KeyId, at: OffsetDateTime) -> Result<(), RepositoryError> {
        (**self).revoke_api_key(k, at).await
    }
    async fn touch_api_key(&self, k: &KeyId, at: OffsetDateTime) -> Result<(), RepositoryError> {
        (**self).touch_api_key(k, at).await
    }
}

#[async_trait]
impl<T: KeyRegistry + ?Sized> KeyRegistry for Arc<T> {
    async fn fingerprints(&self) -> Result<BTreeMap<u32, [u8; 32]>, RepositoryError> {
        (**self).fingerprints().await
    }
    async fn remember_fingerprints(&self, f: &[(u32, [u8; 32])]) -> Result<(), RepositoryError> {
        (**self).remember_fingerprints(f).await
    }
    async fn sealed_per_key(&self) -> Result<BTreeMap<u32, u64>, RepositoryError> {
        (**self).sealed_per_key().await
    }
    async fn rewrap_batch(
        &self,
        active: u32,
        after: Option<IntegrationId>,
        limit: u32,
        vault: &dyn CredentialVault,
    ) -> Result<RewrapBatch, RepositoryError> {
        (**self).rewrap_batch(active, after, limit, vault).await
    }
}

#[async_trait]
impl<T: CredentialVault + ?Sized> CredentialVault for Arc<T> {
    async fn seal(&self, c: &SealContext, f: &SecretFields) -> Result<SealedSecrets, VaultError> {
        (**self).seal(c, f).await
    }
    async fn open(&self, c: &SealContext, s: &SealedSecrets) -> Result<SecretFields, VaultError> {
        (**self).open(c, s).await
    }
    async fn rewrap(
        &self,
        c: &SealContext,
        s: &SealedSecrets,
    ) -> Result<SealedSecrets, VaultError> {
        (**self).rewrap(c, s).await
    }
    fn active_key_id(&self) -> u32 {
        (**self).active_key_id()
    }
    fn seal_token(&self, c: &[u8], p: &[u8]) -> Result<String, VaultError> {
        (**self).seal_token(c, p)
    }
    fn open_token(&self, c: &[u8], t: &str) -> Result<Vec<u8>, VaultError> {
        (**self).open_token(c, t)
    }
}

#[async_trait]
impl<T: ConnectionVerifier + ?Sized> ConnectionVerifier for Arc<T> {
    async fn verify(&self, c: &Credentials) -> Result<(), VerificationFailure> {
        (**self).verify(c).await
    }
    fn supports(&self, p: Platform) -> bool {
        (**self).supports(p)
    }
}

#[async_trait]
impl<T: ObjectStore + ?Sized> ObjectStore for Arc<T> {
    async fn put(
        &self,
        c: &Credentials,
        o: crate::transfer::ObjectWrite,
    ) -> Result<crate::transfer::StoredObject, VerificationFailure> {
        (**self).put(c, o).await
    }
    async fn delete(
        &self,
        c: &Credentials,
        k: &str,
    ) -> Result<crate::transfer::DeletedObject, VerificationFailure> {
        (**self).delete(c, k).await
    }
}

#[async_trait]
impl<T: HelpCenterCatalogue + ?Sized> HelpCenterCatalogue for Arc<T> {
    async fn images(
        &self,
        c: &Credentials,
        p: Option<&[u8]>,
        l: u32,
    ) -> Result<crate::transfer::ImagePage, VerificationFailure> {
        (**self).images(c, p, l).await
    }
}

impl<T: Entropy + ?Sized> Entropy for Arc<T> {
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        (**self).fill(dest)
    }
}

/// Sends each check to the verifier of its platform. A platform without a verifier answers
/// with a `provider_error` failure saying verification is not available.
#[derive(Default)]
pub struct PlatformVerifiers {
    by_platform: BTreeMap<Platform, Arc<dyn ConnectionVerifier>>,
}

impl PlatformVerifiers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, platform: Platform, verifier: Arc<dyn ConnectionVerifier>) -> Self {
        self.by_platform.insert(platform, verifier);
        self
    }
}

#[async_trait]
impl ConnectionVerifier for PlatformVerifiers {
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        match self.by_platform.get(&credentials.platform()) {
            Some(v) => v.verify(credentials).await,
            None => Err(VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "Verification of {} credentials is not available on this server.",
                    credentials.provider()
                ),
            )),
        }
    }

    fn supports(&self, platform: Platform) -> bool {
        self.by_platform.contains_key(&platform)
    }
}
