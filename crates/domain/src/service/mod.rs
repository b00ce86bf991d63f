//! The use cases.
//!
//! * [`IntegrationService`] (`integrations.rs`): create, update, read, list, delete, verify,
//!   events: every endpoint that acts on integrations.
//! * [`AccessService`] (`access.rs`): authenticating API keys (with a short-lived cache that
//!   revocation outlives by at most its TTL), creating, listing and revoking keys, and the
//!   first key of an empty database.
//! * [`KeyService`] (`keys.rs`): the master-key policy (fingerprints checked before anything
//!   is written), `keys status` and the rewrap sweep.
//! * [`TransferService`] (`transfer.rs`): export to a bucket, import from a help center, and
//!   reveal, each through a port (`ObjectStore`, `HelpCenterCatalogue`).

mod access;
mod integrations;
mod keys;
mod transfer;

pub use access::{AccessService, AuthFailure, DEFAULT_ACCOUNT};
pub use integrations::IntegrationService;
pub use keys::{
    database_is_fresh, KeyPolicyError, KeyService, KeyStatus, RewrapProgress, RewrapReport,
};
pub use transfer::{
    provider_status, ExportRequest, ImportPage, Revealed, TransferService, MAX_PRESIGN,
};

use crate::access::{Forbidden, Scope};
use crate::ports::{RepositoryError, VaultError};
use crate::provider::Platform;
use crate::validation::ValidationErrors;
use crate::verification::VerificationFailure;

/// Errors of the use cases; the API maps each to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 422: the request is invalid; every problem names its field.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// 404: no such integration for this account.
    #[error("integration not found")]
    NotFound,
    /// 403: the key lacks the scope this use case needs.
    #[error("{0}")]
    Forbidden(Scope),
    /// 422 on create/update with `verify=true`: the check ran and failed; nothing was stored.
    #[error("verification failed: {0}")]
    VerificationFailed(VerificationFailure),
    /// 501: no verifier is configured for this platform.
    #[error("verification of {0} credentials is not available")]
    VerificationUnavailable(Platform),
    /// 502/503/504: a provider call of an export or import failed (`reason` as in verify;
    /// 503 with `Retry-After` for the provider's rate limit, 504 for its deadline).
    #[error("the provider failed: {0}")]
    Provider(VerificationFailure),
    /// 503: the database cannot be reached right now.
    #[error("the database is unavailable")]
    Unavailable(#[source] RepositoryError),
    /// 500: anything else. Never carries a secret.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    pub fn internal(message: impl Into<String>) -> Self {
        ServiceError::Internal(message.into().into())
    }
}

impl From<RepositoryError> for ServiceError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::NotFound => ServiceError::NotFound,
            RepositoryError::Unavailable(_) => ServiceError::Unavailable(e),
            other => ServiceError::Internal(Box::new(other)),
        }
    }
}

impl From<VaultError> for ServiceError {
    fn from(e: VaultError) -> Self {
        ServiceError::Internal(Box::new(e))
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(e: ValidationErrors) -> Self {
        ServiceError::Validation(e)
    }
}

impl From<Forbidden> for ServiceError {
    fn from(e: Forbidden) -> Self {
        ServiceError::Forbidden(e.0)
    }
}
