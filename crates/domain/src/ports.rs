//! Ports: the traits adapters implement. Each method documents the errors an adapter MUST
//! return, so the service can map them without knowing the adapter.
//!
//! Every port is object safe (`Arc<dyn IntegrationRepository>` works) and implemented for
//! `Arc<T>`, so embedders can pick static or dynamic dispatch.

use crate::accounts::{AccountName, ApiKeyDigest};
use crate::credentials::{Credentials, SecretFields};
use crate::ids::{AccountId, IntegrationId};
use crate::integration::{IntegrationRecord, ListQuery, Page, SealedSecrets};
use crate::provider::{Platform, Provider};
use crate::verification::{FailureReason, Verification, VerificationFailure};
use async_trait::async_trait;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the repositories.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// No such row for this account (also: the row belongs to another account).
    #[error("not found")]
    NotFound,
    /// A row with this id already exists.
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

/// Where integrations are kept.
#[async_trait]
pub trait IntegrationRepository: Send + Sync + 'static {
    /// Stores a new integration. `Conflict` when its id exists already.
    async fn insert(&self, record: &IntegrationRecord) -> Result<(), RepositoryError>;

    /// The integration `id` of `account`. `NotFound` (never a database error) when there is
    /// none or it belongs to another account.
    async fn get(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, RepositoryError>;

    /// Replaces label, provider, public fields, sealed secrets, `updated_at` and
    /// `last_verification` of the row matching `record.account_id` and `record.id`;
    /// `created_at` is never changed. `NotFound` when there is no such row.
    async fn update(&self, record: &IntegrationRecord) -> Result<(), RepositoryError>;

    /// Deletes one integration. `NotFound` when there is no such row for this account.
    async fn delete(&self, account: AccountId, id: IntegrationId) -> Result<(), RepositoryError>;

    /// One page of `account`'s integrations in (`created_at`, `id`) ascending order, after
    /// `query.after`, filtered by platform and provider. `next` is the position of the last
    /// item when more items follow, else `None`.
    async fn list(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<IntegrationRecord>, RepositoryError>;

    /// Records the latest verification of an integration. `NotFound` as for `get`.
    async fn record_verification(
        &self,
        account: AccountId,
        id: IntegrationId,
        verification: &Verification,
    ) -> Result<(), RepositoryError>;

    /// Succeeds when the store answers (readiness). `Unavailable` otherwise.
    async fn ping(&self) -> Result<(), RepositoryError>;
}

/// Accounts and their API keys (digests only).
#[async_trait]
pub trait AccountRepository: Send + Sync + 'static {
    /// The id of the account called `name`, created when missing.
    async fn ensure_account(&self, name: &AccountName) -> Result<AccountId, RepositoryError>;

    /// Adds an API key (its digest) to an account. `NotFound` for an unknown account.
    async fn add_api_key(
        &self,
        account: AccountId,
        digest: &ApiKeyDigest,
    ) -> Result<(), RepositoryError>;

    /// The account owning the key with this digest, if any.
    async fn find_account_by_key(
        &self,
        digest: &ApiKeyDigest,
    ) -> Result<Option<AccountId>, RepositoryError>;

    /// Atomically: when no API key exists at all, creates account `name` (if needed) with this
    /// key and returns its id; otherwise changes nothing and returns `None`. Safe when several
    /// replicas start at once on an empty database.
    async fn create_first_api_key(
        &self,
        name: &AccountName,
        digest: &ApiKeyDigest,
    ) -> Result<Option<AccountId>, RepositoryError>;
}

/// What a sealed blob is bound to: it opens only for the same account, integration and
/// provider it was sealed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealContext {
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub provider: Provider,
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

macro_rules! arc_impls {
    () => {
        #[async_trait]
        impl<T: IntegrationRepository + ?Sized> IntegrationRepository for Arc<T> {
            async fn insert(&self, r: &IntegrationRecord) -> Result<(), RepositoryError> {
                (**self).insert(r).await
            }
            async fn get(
                &self,
                a: AccountId,
                id: IntegrationId,
            ) -> Result<IntegrationRecord, RepositoryError> {
                (**self).get(a, id).await
            }
            async fn update(&self, r: &IntegrationRecord) -> Result<(), RepositoryError> {
                (**self).update(r).await
            }
            async fn delete(&self, a: AccountId, id: IntegrationId) -> Result<(), RepositoryError> {
                (**self).delete(a, id).await
            }
            async fn list(
                &self,
                a: AccountId,
                q: &ListQuery,
            ) -> Result<Page<IntegrationRecord>, RepositoryError> {
                (**self).list(a, q).await
            }
            async fn record_verification(
                &self,
                a: AccountId,
                id: IntegrationId,
                v: &Verification,
            ) -> Result<(), RepositoryError> {
                (**self).record_verification(a, id, v).await
            }
            async fn ping(&self) -> Result<(), RepositoryError> {
                (**self).ping().await
            }
        }

        #[async_trait]
        impl<T: AccountRepository + ?Sized> AccountRepository for Arc<T> {
            async fn ensure_account(&self, n: &AccountName) -> Result<AccountId, RepositoryError> {
                (**self).ensure_account(n).await
            }
            async fn add_api_key(
                &self,
                a: AccountId,
                d: &ApiKeyDigest,
            ) -> Result<(), RepositoryError> {
                (**self).add_api_key(a, d).await
            }
            async fn find_account_by_key(
                &self,
                d: &ApiKeyDigest,
            ) -> Result<Option<AccountId>, RepositoryError> {
                (**self).find_account_by_key(d).await
            }
            async fn create_first_api_key(
                &self,
                n: &AccountName,
                d: &ApiKeyDigest,
            ) -> Result<Option<AccountId>, RepositoryError> {
                (**self).create_first_api_key(n, d).await
            }
        }

        #[async_trait]
        impl<T: CredentialVault + ?Sized> CredentialVault for Arc<T> {
            async fn seal(
                &self,
                c: &SealContext,
                f: &SecretFields,
            ) -> Result<SealedSecrets, VaultError> {
                (**self).seal(c, f).await
            }
            async fn open(
                &self,
                c: &SealContext,
                s: &SealedSecrets,
            ) -> Result<SecretFields, VaultError> {
                (**self).open(c, s).await
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
    };
}
arc_impls!();

/// Sends each check to the verifier of its platform. A platform without a verifier answers
/// with a `provider_error` failure saying verification is not available.
#[derive(Default)]
pub struct PlatformVerifiers {
    cloud: Option<Arc<dyn ConnectionVerifier>>,
    helpcenter: Option<Arc<dyn ConnectionVerifier>>,
}

impl PlatformVerifiers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, platform: Platform, verifier: Arc<dyn ConnectionVerifier>) -> Self {
        match platform {
            Platform::Cloud => self.cloud = Some(verifier),
            Platform::Helpcenter => self.helpcenter = Some(verifier),
        }
        self
    }
}

#[async_trait]
impl ConnectionVerifier for PlatformVerifiers {
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let verifier = match credentials.platform() {
            Platform::Cloud => &self.cloud,
            Platform::Helpcenter => &self.helpcenter,
        };
        match verifier {
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
        match platform {
            Platform::Cloud => self.cloud.is_some(),
            Platform::Helpcenter => self.helpcenter.is_some(),
        }
    }
}
