//! The Integration API's domain: what an integration is, how its credentials are validated,
//! the ports adapters implement, and the use cases. It performs no I/O: no async runtime, no
//! database, no HTTP, no JSON.
//!
//! # Layout
//! * [`provider`]: `Platform`, and the one table of providers that generates `Provider` and
//!   the `Credentials` enum.
//! * [`credentials`]: raw input, one module per provider (struct, field specs, parser),
//!   shared field rules, masking, and the split into public (stored in clear) and sealed
//!   (encrypted) fields.
//! * [`command`]: parse, then act: request input into typed commands (`NewIntegration`,
//!   `IntegrationChange`, `VerifyRequest`).
//! * [`integration`]: the stored record, the masked view, list queries.
//! * [`verification`]: the outcome of a check (`Connected` or `Failed` with a stable reason).
//! * [`access`]: accounts, API keys (digests only), scopes, the caller (`Principal`).
//! * [`audit`]: audit events and the `Actor` every use case receives.
//! * [`page`]: page limits and keyset cursors.
//! * [`transfer`]: export (object keys, content types and their magic numbers, streamed
//!   bodies) and import (image references, pages).
//! * [`label`], [`ids`], [`validation`]: small value types and field-level errors.
//! * [`ports`]: `IntegrationRepository`, `AuditLog`, `ApiKeyStore`, `KeyRegistry`,
//!   `CredentialVault`, `ConnectionVerifier`, `Entropy`, with the errors each adapter must
//!   return.
//! * [`service`]: the use cases: `IntegrationService`, `AccessService`, `KeyService`.
//! * `testing` (feature `testing`): in-memory adapters and the storage contract suite.
//!
//! # Embedding
//! Another Rust service can use this crate without HTTP: implement (or reuse) the ports and
//! call the services. `examples/embed.rs` wires in-memory adapters and runs create → get →
//! verify → delete. Everything an adapter author needs is re-exported here, including
//! [`async_trait`] and the secret types ([`SecretString`], [`ExposeSecret`]).

pub mod access;
pub mod audit;
pub mod command;
pub mod credentials;
pub mod ids;
pub mod integration;
pub mod label;
pub mod page;
pub mod ports;
pub mod provider;
pub mod service;
pub mod transfer;
pub mod validation;
pub mod verification;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use async_trait::async_trait;
pub use secrecy::{ExposeSecret, SecretString};

pub use access::{
    AccountName, ApiKey, ApiKeyDigest, ApiKeyRecord, AuthError, KeyId, Principal, Scope, Scopes,
};
pub use audit::{Action, Actor, AuditEvent, EventQuery};
pub use command::{
    IntegrationChange, IntegrationInput, NewIntegration, VerifyInput, VerifyRequest,
};
pub use credentials::{Credentials, CredentialsInput, InputValue, PublicFields, SecretFields};
pub use ids::{AccountId, IntegrationId};
pub use integration::{
    IntegrationRecord, IntegrationSummary, IntegrationView, ListParams, ListQuery, Listed,
    SealedSecrets, UnreadableRow,
};
pub use label::Label;
pub use page::{Page, PageLimit, Position};
pub use ports::{
    ApiKeyStore, AuditLog, ConnectionVerifier, CredentialVault, Entropy, EntropyError,
    HelpCenterCatalogue, IntegrationRepository, IntegrationStore, KeyRegistry, Meter, NewApiKey,
    NoMeter, ObjectStore, PlatformVerifiers, RepositoryError, RewrapBatch, SealContext, VaultError,
};
pub use provider::{Platform, Provider};
pub use service::{AccessService, IntegrationService, KeyService, ServiceError, TransferService};
pub use transfer::{
    BodyError, ByteStream, ContentType, DeletedObject, ImagePage, ImageRef, ObjectKey, ObjectWrite,
    PresignedUrl, StoredObject,
};
pub use validation::{FieldError, ValidationErrors};
pub use verification::{FailureReason, Outcome, Verification, VerificationFailure};
