//! The Integration API's domain: what an integration is, how its credentials are validated,
//! the ports adapters implement, and the use cases.
//!
//! # Layout
//! * [`ids`]: `IntegrationId`, `AccountId`.
//! * [`provider`]: `Platform` and the eight `Provider`s.
//! * [`label`]: the validated `Label`.
//! * [`credentials`]: raw input, the typed credentials of each provider, masking, and the split
//!   into public (stored in clear) and sealed (encrypted) fields.
//! * [`validation`]: field-level validation errors carrying the JSON path (`credentials.bucket`).
//! * [`verification`]: the result of a connection check and its stable `reason`.
//! * [`integration`]: the stored record, the masked view, list queries and cursors.
//! * [`accounts`]: API keys (digests only) and the authentication use case.
//! * [`ports`]: `IntegrationRepository`, `AccountRepository`, `CredentialVault`,
//!   `ConnectionVerifier`, with the errors each adapter must return.
//! * [`service`]: `IntegrationService`, the use cases behind every endpoint.
//! * `testing` (feature `testing`): in-memory adapters and the repository contract suite.
//!
//! This crate performs no I/O: no async runtime, no database, no HTTP, no JSON.

pub mod accounts;
pub mod credentials;
pub mod ids;
pub mod integration;
pub mod label;
pub mod ports;
pub mod provider;
pub mod service;
pub mod validation;
pub mod verification;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use accounts::{AccountName, ApiKey, ApiKeyDigest, AuthError};
pub use credentials::{Credentials, CredentialsInput, InputValue, PublicFields, SecretFields};
pub use ids::{AccountId, IntegrationId};
pub use integration::{
    IntegrationRecord, IntegrationSummary, IntegrationView, ListPosition, ListQuery, Page,
    PageLimit, SealedSecrets,
};
pub use label::Label;
pub use ports::{
    AccountRepository, ConnectionVerifier, CredentialVault, IntegrationRepository, RepositoryError,
    SealContext, VaultError,
};
pub use provider::{Platform, Provider};
pub use service::{IntegrationService, ServiceError};
pub use validation::{FieldError, ValidationErrors};
pub use verification::{FailureReason, Verification, VerificationFailure};
