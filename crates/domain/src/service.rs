//! The use cases behind every endpoint.

use crate::accounts::{ApiKeyDigest, AuthError};
use crate::credentials::{Credentials, CredentialsInput, SecretFields};
use crate::ids::{AccountId, IntegrationId};
use crate::integration::{
    now_millis, IntegrationRecord, IntegrationSummary, IntegrationView, ListQuery, Page,
};
use crate::label::Label;
use crate::ports::{
    AccountRepository, ConnectionVerifier, CredentialVault, IntegrationRepository, RepositoryError,
    SealContext, VaultError,
};
use crate::provider::{Platform, Provider};
use crate::validation::ValidationErrors;
use crate::verification::{Verification, VerificationFailure};
use secrecy::ExposeSecret;
use time::Duration;

/// Errors of the use cases; the API maps each to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 422: the request is invalid; every problem names its field.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// 404: no such integration for this account.
    #[error("integration not found")]
    NotFound,
    /// 422 on create/update with `verify=true`: the check ran and failed; nothing was stored.
    #[error("verification failed: {0}")]
    VerificationFailed(VerificationFailure),
    /// 501: no verifier is configured for this platform.
    #[error("verification of {0} credentials is not available")]
    VerificationUnavailable(Platform),
    /// 503: the database cannot be reached right now.
    #[error("the database is unavailable")]
    Unavailable(#[source] RepositoryError),
    /// 500: anything else. Never carries a secret.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
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

/// The body of a create or update, as sent (strings are checked here, structure by the API).
#[derive(Clone, Debug, Default)]
pub struct IntegrationInput {
    pub label: Option<String>,
    pub provider: Option<String>,
    pub platform: Option<String>,
    pub credentials: Option<CredentialsInput>,
}

/// A verification request.
#[derive(Clone, Debug)]
pub enum VerifyInput {
    /// `{integrationId}` (recorded in `lastVerification`), or `{integrationId, credentials}`
    /// whose fields override the stored ones (not recorded). `provider`/`platform`, when sent,
    /// must match the stored integration.
    Stored {
        id: IntegrationId,
        provider: Option<String>,
        platform: Option<String>,
        overrides: Option<CredentialsInput>,
    },
    /// `{platform, provider, credentials}` in plain text, validated as on create.
    Plain {
        provider: Option<String>,
        platform: Option<String>,
        credentials: Option<CredentialsInput>,
    },
}

/// Checks provider and platform strings; `None` (with errors recorded) when invalid.
fn provider_and_platform(
    provider: Option<&str>,
    platform: Option<&str>,
    errors: &mut ValidationErrors,
) -> Option<Provider> {
    let provider = match provider {
        None => {
            errors.add("provider", "is required");
            None
        }
        Some(p) => match p.parse::<Provider>() {
            Ok(p) => Some(p),
            Err(e) => {
                errors.add("provider", e.to_string());
                None
            }
        },
    };
    if let Some(raw) = platform {
        match raw.parse::<Platform>() {
            Err(e) => errors.add("platform", e.to_string()),
            Ok(platform) => {
                if let Some(p) = provider.filter(|p| p.platform() != platform) {
                    errors.add(
                        "platform",
                        format!("must be \"{}\" for provider {p}", p.platform()),
                    );
                }
            }
        }
    }
    provider
}

fn parse_label(label: Option<&str>, errors: &mut ValidationErrors) -> Option<Label> {
    match label.map(Label::parse) {
        None => {
            errors.add("label", "is required");
            None
        }
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
    }
}

fn parse_credentials(
    provider: Option<Provider>,
    input: Option<&CredentialsInput>,
    fallback: Option<&SecretFields>,
    errors: &mut ValidationErrors,
) -> Option<Credentials> {
    let Some(input) = input else {
        errors.add("credentials", "is required");
        return None;
    };
    match Credentials::parse(provider?, input, fallback) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.extend(e);
            None
        }
    }
}

fn same_secrets(a: &SecretFields, b: &SecretFields) -> bool {
    a.len() == b.len()
        && a.iter().all(|(name, value)| {
            b.get(name)
                .is_some_and(|other| other.expose_secret() == value.expose_secret())
        })
}

/// The use cases. Generic over its ports; `Arc<dyn Port>` works for each of them.
pub struct IntegrationService<R, V, C> {
    repository: R,
    vault: V,
    verifier: C,
}

impl<R, V, C> IntegrationService<R, V, C>
where
    R: IntegrationRepository,
    V: CredentialVault,
    C: ConnectionVerifier,
{
    pub fn new(repository: R, vault: V, verifier: C) -> Self {
        Self {
            repository,
            vault,
            verifier,
        }
    }

    pub fn repository(&self) -> &R {
        &self.repository
    }

    /// Creates an integration. With `verify`, the credentials are checked first and a failed
    /// check stores nothing.
    pub async fn create(
        &self,
        account: AccountId,
        input: IntegrationInput,
        verify: bool,
    ) -> Result<IntegrationSummary, ServiceError> {
        let mut errors = ValidationErrors::new();
        let label = parse_label(input.label.as_deref(), &mut errors);
        let provider = provider_and_platform(
            input.provider.as_deref(),
            input.platform.as_deref(),
            &mut errors,
        );
        let credentials =
            parse_credentials(provider, input.credentials.as_ref(), None, &mut errors);
        let (Some(label), Some(credentials), true) = (label, credentials, errors.is_empty()) else {
            return Err(ServiceError::Validation(errors));
        };
        if verify {
            self.check(&credentials).await?;
        }
        let id = IntegrationId::new();
        let context = SealContext {
            account_id: account,
            integration_id: id,
            provider: credentials.provider(),
        };
        let sealed = self
            .vault
            .seal(&context, &credentials.secret_fields())
            .await?;
        let now = now_millis();
        let record = IntegrationRecord {
            id,
            account_id: account,
            label,
            provider: credentials.provider(),
            public_fields: credentials.public_fields(),
            sealed,
            created_at: now,
            updated_at: now,
            last_verification: None,
        };
        self.repository.insert(&record).await?;
        tracing::info!(integration_id = %id, provider = %record.provider, "integration created");
        Ok(IntegrationSummary {
            id,
            created_at: now,
            updated_at: now,
        })
    }

    /// Replaces an integration. When the provider is unchanged, sealed fields left out keep
    /// their stored values; masked values sent back are refused. `lastVerification` is kept
    /// only when provider and credentials are unchanged.
    pub async fn update(
        &self,
        account: AccountId,
        id: IntegrationId,
        input: IntegrationInput,
        verify: bool,
    ) -> Result<IntegrationSummary, ServiceError> {
        let existing = self.repository.get(account, id).await?;
        let mut errors = ValidationErrors::new();
        let label = parse_label(input.label.as_deref(), &mut errors);
        let provider = provider_and_platform(
            input.provider.as_deref(),
            input.platform.as_deref(),
            &mut errors,
        );
        let stored = if provider == Some(existing.provider) {
            Some(self.open(&existing).await?)
        } else {
            None
        };
        let credentials = parse_credentials(
            provider,
            input.credentials.as_ref(),
            stored.as_ref(),
            &mut errors,
        );
        let (Some(label), Some(credentials), true) = (label, credentials, errors.is_empty()) else {
            return Err(ServiceError::Validation(errors));
        };
        if verify {
            self.check(&credentials).await?;
        }
        let secret_fields = credentials.secret_fields();
        let public_fields = credentials.public_fields();
        let unchanged = stored
            .as_ref()
            .is_some_and(|s| same_secrets(s, &secret_fields))
            && public_fields == existing.public_fields;
        let context = SealContext {
            account_id: account,
            integration_id: id,
            provider: credentials.provider(),
        };
        let sealed = self.vault.seal(&context, &secret_fields).await?;
        // `updatedAt` changes on every successful update, even within one millisecond.
        let updated_at = now_millis().max(existing.updated_at + Duration::milliseconds(1));
        let record = IntegrationRecord {
            id,
            account_id: account,
            label,
            provider: credentials.provider(),
            public_fields,
            sealed,
            created_at: existing.created_at,
            updated_at,
            last_verification: if unchanged {
                existing.last_verification
            } else {
                None
            },
        };
        self.repository.update(&record).await?;
        tracing::info!(integration_id = %id, provider = %record.provider, "integration updated");
        Ok(IntegrationSummary {
            id,
            created_at: record.created_at,
            updated_at,
        })
    }

    /// One integration, credentials masked (no decryption needed).
    pub async fn get(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<IntegrationView, ServiceError> {
        let record = self.repository.get(account, id).await?;
        Ok(IntegrationView::from(&record))
    }

    /// One page of the account's integrations.
    pub async fn list(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<IntegrationView>, ServiceError> {
        let page = self.repository.list(account, query).await?;
        Ok(Page {
            items: page.items.iter().map(IntegrationView::from).collect(),
            next: page.next,
        })
    }

    pub async fn delete(&self, account: AccountId, id: IntegrationId) -> Result<(), ServiceError> {
        self.repository.delete(account, id).await?;
        tracing::info!(integration_id = %id, "integration deleted");
        Ok(())
    }

    /// Runs a connection check. A check that ran and failed is `Ok` with `successful: false`.
    /// Only a check of a stored integration without overrides is recorded.
    pub async fn verify(
        &self,
        account: AccountId,
        input: VerifyInput,
    ) -> Result<Verification, ServiceError> {
        match input {
            VerifyInput::Plain {
                provider,
                platform,
                credentials,
            } => {
                let mut errors = ValidationErrors::new();
                let provider =
                    provider_and_platform(provider.as_deref(), platform.as_deref(), &mut errors);
                let credentials =
                    parse_credentials(provider, credentials.as_ref(), None, &mut errors);
                let (Some(credentials), true) = (credentials, errors.is_empty()) else {
                    return Err(ServiceError::Validation(errors));
                };
                self.run_check(&credentials).await
            }
            VerifyInput::Stored {
                id,
                provider,
                platform,
                overrides,
            } => {
                let record = self.repository.get(account, id).await?;
                let mut errors = ValidationErrors::new();
                if let Some(p) = provider.as_deref() {
                    if p != record.provider.as_str() {
                        errors.add(
                            "provider",
                            format!(
                                "must be \"{}\", the provider of this integration",
                                record.provider
                            ),
                        );
                    }
                }
                if let Some(p) = platform.as_deref() {
                    if p != record.platform().as_str() {
                        errors.add(
                            "platform",
                            format!(
                                "must be \"{}\", the platform of this integration",
                                record.platform()
                            ),
                        );
                    }
                }
                if !errors.is_empty() {
                    return Err(ServiceError::Validation(errors));
                }
                let sealed = self.open(&record).await?;
                let stored_input =
                    Credentials::stored_input(record.provider, &record.public_fields, &sealed);
                let recorded = overrides.is_none();
                let input = match overrides {
                    Some(o) => o.over(stored_input),
                    None => stored_input,
                };
                let credentials = Credentials::parse(record.provider, &input, None)?;
                let verification = self.run_check(&credentials).await?;
                if recorded {
                    self.repository
                        .record_verification(account, id, &verification)
                        .await?;
                }
                Ok(verification)
            }
        }
    }

    async fn open(&self, record: &IntegrationRecord) -> Result<SecretFields, ServiceError> {
        let context = SealContext {
            account_id: record.account_id,
            integration_id: record.id,
            provider: record.provider,
        };
        Ok(self.vault.open(&context, &record.sealed).await?)
    }

    async fn run_check(&self, credentials: &Credentials) -> Result<Verification, ServiceError> {
        let platform = credentials.platform();
        if !self.verifier.supports(platform) {
            return Err(ServiceError::VerificationUnavailable(platform));
        }
        let outcome = self.verifier.verify(credentials).await;
        let at = now_millis();
        Ok(match outcome {
            Ok(()) => Verification {
                at,
                successful: true,
                message: platform.success_message().to_owned(),
                reason: None,
            },
            Err(failure) => {
                tracing::info!(provider = %credentials.provider(), reason = %failure.reason, "verification failed");
                Verification {
                    at,
                    successful: false,
                    message: failure.message,
                    reason: Some(failure.reason),
                }
            }
        })
    }

    /// `verify=true` on create/update: a failed check is an error, nothing is stored.
    async fn check(&self, credentials: &Credentials) -> Result<(), ServiceError> {
        let v = self.run_check(credentials).await?;
        match v.reason {
            None if v.successful => Ok(()),
            reason => Err(ServiceError::VerificationFailed(VerificationFailure {
                reason: reason.unwrap_or(crate::verification::FailureReason::ProviderError),
                message: v.message,
            })),
        }
    }
}

/// Authenticates API keys.
pub struct AuthService<A> {
    accounts: A,
}

impl<A: AccountRepository> AuthService<A> {
    pub fn new(accounts: A) -> Self {
        Self { accounts }
    }

    /// The account of a presented bearer key.
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<AccountId, AuthFailure> {
        let presented = presented
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(AuthFailure::Auth(AuthError::Missing))?;
        if presented.len() > 512 {
            return Err(AuthFailure::Auth(AuthError::Invalid));
        }
        let digest = ApiKeyDigest::of(presented);
        self.accounts
            .find_account_by_key(&digest)
            .await
            .map_err(AuthFailure::Repository)?
            .ok_or(AuthFailure::Auth(AuthError::Invalid))
    }
}

/// Why authentication did not succeed: a bad key (401) or the store (503/500).
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error(transparent)]
    Auth(AuthError),
    #[error(transparent)]
    Repository(RepositoryError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::InputValue;
    use crate::testing::{InMemoryRepository, ReversibleVault, ScriptedVerifier};
    use crate::verification::FailureReason;
    use std::sync::Arc;

    type Svc = IntegrationService<Arc<InMemoryRepository>, ReversibleVault, Arc<ScriptedVerifier>>;

    fn service() -> (Svc, Arc<InMemoryRepository>, Arc<ScriptedVerifier>) {
        let repo = Arc::new(InMemoryRepository::new());
        let verifier = Arc::new(ScriptedVerifier::new());
        (
            IntegrationService::new(repo.clone(), ReversibleVault, verifier.clone()),
            repo,
            verifier,
        )
    }

    fn zendesk(token: &str) -> IntegrationInput {
        IntegrationInput {
            label: Some("Help".into()),
            provider: Some("zendesk".into()),
            platform: None,
            credentials: Some(
                CredentialsInput::new()
                    .with("username", "a@example.org")
                    .with("token", token)
                    .with("subdomain", "acme"),
            ),
        }
    }

    fn fields(e: ServiceError) -> Vec<String> {
        match e {
            ServiceError::Validation(v) => v.errors().iter().map(|e| e.field.clone()).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn platform_must_agree_with_provider_even_when_all_else_is_valid() {
        let (svc, repo, _) = service();
        let account = AccountId::new();
        let mut input = zendesk("t");
        input.platform = Some("cloud".into());
        let err = svc.create(account, input, false).await.unwrap_err();
        assert_eq!(fields(err), vec!["platform"]);
        let page = repo.list(account, &ListQuery::default()).await.unwrap();
        assert!(page.items.is_empty(), "nothing stored");
    }

    #[tokio::test]
    async fn every_missing_field_is_reported_at_once() {
        let (svc, _, _) = service();
        let err = svc
            .create(AccountId::new(), IntegrationInput::default(), false)
            .await
            .unwrap_err();
        assert_eq!(fields(err), vec!["label", "provider", "credentials"]);
    }

    #[tokio::test]
    async fn update_keeps_secrets_and_verification_only_while_credentials_are_unchanged() {
        let (svc, repo, _) = service();
        let account = AccountId::new();
        let created = svc.create(account, zendesk("t1"), false).await.unwrap();
        let v = svc
            .verify(
                account,
                VerifyInput::Stored {
                    id: created.id,
                    provider: None,
                    platform: None,
                    overrides: None,
                },
            )
            .await
            .unwrap();
        assert!(v.successful);
        assert_eq!(
            v.message,
            "The helpcenter credentials has been successfully validated"
        );

        // Rename without the token: kept, and so is lastVerification.
        let mut rename = zendesk("unused");
        rename.label = Some("Renamed".into());
        if let Some(c) = rename.credentials.as_mut() {
            c.remove("token");
        }
        let s = svc
            .update(account, created.id, rename, false)
            .await
            .unwrap();
        assert!(s.updated_at > created.updated_at);
        assert_eq!(s.created_at, created.created_at);
        let record = repo.get(account, created.id).await.unwrap();
        assert!(record.last_verification.is_some());
        let secrets = svc.open(&record).await.unwrap();
        assert_eq!(secrets.get("token").unwrap().expose_secret(), "t1");

        // New token: lastVerification cleared.
        svc.update(account, created.id, zendesk("t2"), false)
            .await
            .unwrap();
        let record = repo.get(account, created.id).await.unwrap();
        assert!(record.last_verification.is_none());
    }

    #[tokio::test]
    async fn verify_records_only_a_check_of_the_stored_integration() {
        let (svc, repo, verifier) = service();
        let account = AccountId::new();
        let created = svc.create(account, zendesk("t1"), false).await.unwrap();
        verifier.answer(Some(VerificationFailure::new(
            FailureReason::InvalidCredentials,
            "The e-mail or API token was not accepted.",
        )));
        let overrides = CredentialsInput::new().with("subdomain", "other");
        let v = svc
            .verify(
                account,
                VerifyInput::Stored {
                    id: created.id,
                    provider: Some("zendesk".into()),
                    platform: None,
                    overrides: Some(overrides),
                },
            )
            .await
            .unwrap();
        assert!(!v.successful);
        assert_eq!(v.reason, Some(FailureReason::InvalidCredentials));
        let calls = verifier.calls();
        assert_eq!(calls.last().unwrap().1.get("subdomain"), Some("other"));
        assert!(repo
            .get(account, created.id)
            .await
            .unwrap()
            .last_verification
            .is_none());

        let err = svc
            .verify(
                account,
                VerifyInput::Stored {
                    id: created.id,
                    provider: Some("freshdesk".into()),
                    platform: None,
                    overrides: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(fields(err), vec!["provider"]);
        let other = svc
            .verify(
                AccountId::new(),
                VerifyInput::Stored {
                    id: created.id,
                    provider: None,
                    platform: None,
                    overrides: None,
                },
            )
            .await;
        assert!(matches!(other, Err(ServiceError::NotFound)));
    }

    #[tokio::test]
    async fn verify_on_write_refuses_failing_credentials_and_stores_nothing() {
        let (svc, repo, verifier) = service();
        let account = AccountId::new();
        verifier.answer(Some(VerificationFailure::new(
            FailureReason::NotFound,
            "No Zendesk account is called acme.",
        )));
        let err = svc.create(account, zendesk("t"), true).await.unwrap_err();
        assert!(
            matches!(err, ServiceError::VerificationFailed(f) if f.reason == FailureReason::NotFound)
        );
        assert!(repo
            .list(account, &ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty());
    }

    #[tokio::test]
    async fn masked_secrets_and_wrong_types_are_refused() {
        let (svc, _, _) = service();
        let account = AccountId::new();
        let created = svc.create(account, zendesk("t"), false).await.unwrap();
        let err = svc
            .update(account, created.id, zendesk("********"), false)
            .await
            .unwrap_err();
        assert_eq!(fields(err), vec!["credentials.token"]);
        let mut input = zendesk("t");
        if let Some(c) = input.credentials.as_mut() {
            c.insert("token", InputValue::Number);
        }
        let err = svc.create(account, input, false).await.unwrap_err();
        assert_eq!(fields(err), vec!["credentials.token"]);
    }

    #[tokio::test]
    async fn a_platform_without_verifier_is_unavailable() {
        let repo = Arc::new(InMemoryRepository::new());
        let svc = IntegrationService::new(
            repo,
            ReversibleVault,
            crate::ports::PlatformVerifiers::new(),
        );
        let err = svc
            .verify(
                AccountId::new(),
                VerifyInput::Plain {
                    provider: Some("helpscout".into()),
                    platform: None,
                    credentials: Some(CredentialsInput::new().with("apiKey", "k")),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            ServiceError::VerificationUnavailable(Platform::Helpcenter)
        ));
    }

    #[tokio::test]
    async fn the_database_being_down_is_unavailable() {
        let (svc, repo, _) = service();
        repo.set_available(false);
        let err = svc
            .get(AccountId::new(), IntegrationId::new())
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Unavailable(_)));
    }
}
