//! The integration use cases behind every `/integration` endpoint.

use super::ServiceError;
use crate::access::Scope;
use crate::audit::{Action, Actor, AuditEvent, EventQuery};
use crate::command::{IntegrationChange, NewIntegration, VerifyRequest};
use crate::credentials::{Credentials, SealedDefaults, SecretFields};
use crate::ids::IntegrationId;
use crate::integration::{
    next_update_time, now_millis, IntegrationRecord, IntegrationSummary, IntegrationView,
    ListQuery, Listed,
};
use crate::page::Page;
use crate::ports::{
    AuditLog, ConnectionVerifier, CredentialVault, IntegrationRepository, RepositoryError,
    SealContext,
};
use crate::verification::{Verification, VerificationFailure};

/// How often an update is retried when another update won the compare-and-set.
const UPDATE_ATTEMPTS: usize = 3;

/// The use cases. Generic over its ports; `Arc<dyn Port>` works for each of them. The
/// repository is also the audit log: a change and its event are written in one transaction.
pub struct IntegrationService<R, V, C> {
    repository: R,
    vault: V,
    verifier: C,
    meter: std::sync::Arc<dyn crate::ports::Meter>,
}

fn outcome(v: &Verification) -> Result<(), crate::verification::FailureReason> {
    match v.reason() {
        None => Ok(()),
        Some(r) => Err(r),
    }
}

impl<R, V, C> IntegrationService<R, V, C>
where
    R: IntegrationRepository + AuditLog,
    V: CredentialVault,
    C: ConnectionVerifier,
{
    pub fn new(repository: R, vault: V, verifier: C) -> Self {
        Self {
            repository,
            vault,
            verifier,
            meter: std::sync::Arc::new(crate::ports::NoMeter),
        }
    }

    /// Reports every verification to `meter`.
    pub fn with_meter(mut self, meter: std::sync::Arc<dyn crate::ports::Meter>) -> Self {
        self.meter = meter;
        self
    }

    pub fn repository(&self) -> &R {
        &self.repository
    }

    /// Creates an integration. With `verify`, the credentials are checked first and a failed
    /// check stores nothing (the attempt is recorded as a failed `created` event).
    pub async fn create(
        &self,
        actor: &Actor,
        command: NewIntegration,
        verify: bool,
    ) -> Result<IntegrationSummary, ServiceError> {
        actor.principal.require(Scope::Manage)?;
        let NewIntegration { label, credentials } = command;
        if verify {
            if let Err(e) = self.check(&credentials).await {
                self.refused_after_check(actor, Action::Created, None, &e)
                    .await;
                return Err(e);
            }
        }
        let id = IntegrationId::new();
        let account = actor.account();
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
        let event = actor.event(Action::Created, Some(id), Ok(()));
        self.repository.insert(&record, &event).await?;
        tracing::info!(integration_id = %id, provider = %record.provider, "integration created");
        Ok(IntegrationSummary {
            id,
            created_at: now,
            updated_at: now,
        })
    }

    /// Replaces an integration. When the provider is unchanged, sealed fields left out keep
    /// their stored values; masked values sent back are refused. `lastVerification` is kept
    /// only when provider and credentials are unchanged. A replacement that sends every
    /// secret never needs the stored blob (so a blob that can no longer be opened is simply
    /// replaced). Concurrent updates are serialised by compare-and-set on `updatedAt`.
    pub async fn update(
        &self,
        actor: &Actor,
        change: IntegrationChange,
        verify: bool,
    ) -> Result<IntegrationSummary, ServiceError> {
        actor.principal.require(Scope::Manage)?;
        let account = actor.account();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let existing = self.repository.get(account, change.id).await?;
            let same_provider = change.provider == existing.provider;
            let stored = if !same_provider {
                None
            } else if change.replaces_every_secret() {
                // Only to tell whether anything changed; a blob that cannot be opened is
                // replaced, not an error.
                self.open(&existing).await.ok()
            } else {
                Some(self.open(&existing).await?)
            };
            let credentials = change.credentials(stored.as_ref())?;
            if verify {
                if let Err(e) = self.check(&credentials).await {
                    self.refused_after_check(actor, Action::Updated, Some(change.id), &e)
                        .await;
                    return Err(e);
                }
            }
            let secret_fields = credentials.secret_fields();
            let public_fields = credentials.public_fields();
            let unchanged = stored.as_ref().is_some_and(|s| s.same_as(&secret_fields))
                && public_fields == existing.public_fields;
            let context = SealContext {
                account_id: account,
                integration_id: change.id,
                provider: credentials.provider(),
            };
            let sealed = self.vault.seal(&context, &secret_fields).await?;
            let updated_at = next_update_time(existing.updated_at).ok_or_else(|| {
                ServiceError::internal("the stored updatedAt is at the end of time")
            })?;
            let record = IntegrationRecord {
                id: change.id,
                account_id: account,
                label: change.label.clone(),
                provider: credentials.provider(),
                public_fields,
                sealed,
                created_at: existing.created_at,
                updated_at,
                last_verification: if unchanged {
                    existing.last_verification.clone()
                } else {
                    None
                },
            };
            let event = actor.event(Action::Updated, Some(change.id), Ok(()));
            match self
                .repository
                .update(&record, existing.updated_at, &event)
                .await
            {
                Ok(()) => {
                    tracing::info!(integration_id = %change.id, provider = %record.provider, "integration updated");
                    return Ok(IntegrationSummary {
                        id: change.id,
                        created_at: record.created_at,
                        updated_at,
                    });
                }
                Err(RepositoryError::Conflict(_)) if attempt < UPDATE_ATTEMPTS => {
                    tracing::debug!(integration_id = %change.id, "concurrent update; retrying");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// One integration, credentials masked (no decryption needed).
    pub async fn get(
        &self,
        actor: &Actor,
        id: IntegrationId,
    ) -> Result<IntegrationView, ServiceError> {
        actor.principal.require(Scope::Manage)?;
        let record = self.repository.get(actor.account(), id).await?;
        Ok(IntegrationView::from(&record))
    }

    /// One page of the account's integrations; rows that cannot be read are marked.
    pub async fn list(
        &self,
        actor: &Actor,
        query: &ListQuery,
    ) -> Result<Page<Listed<IntegrationView>>, ServiceError> {
        actor.principal.require(Scope::Manage)?;
        let page = self.repository.list(actor.account(), query).await?;
        for item in &page.items {
            if let Listed::Unreadable(u) = item {
                tracing::error!(integration_id = %u.id, problem = %u.problem, "a stored integration cannot be read");
            }
        }
        Ok(page)
    }

    pub async fn delete(&self, actor: &Actor, id: IntegrationId) -> Result<(), ServiceError> {
        actor.principal.require(Scope::Manage)?;
        let event = actor.event(Action::Deleted, Some(id), Ok(()));
        self.repository.delete(actor.account(), id, &event).await?;
        tracing::info!(integration_id = %id, "integration deleted");
        Ok(())
    }

    /// Runs a connection check. A check that ran and failed is `Ok` with a failed outcome.
    /// Only a check of a stored integration without overrides is recorded in
    /// `lastVerification`, and only if the integration was not changed while it ran.
    pub async fn verify(
        &self,
        actor: &Actor,
        request: VerifyRequest,
    ) -> Result<Verification, ServiceError> {
        actor.principal.require(Scope::Manage)?;
        match request {
            VerifyRequest::Plain(credentials) => {
                let verification = self.run_check(&credentials).await?;
                self.append(&actor.event(Action::Verified, None, outcome(&verification)))
                    .await;
                Ok(verification)
            }
            VerifyRequest::Stored {
                id,
                expect_provider,
                expect_platform,
                overrides,
            } => {
                let record = self.repository.get(actor.account(), id).await?;
                let mut errors = crate::validation::ValidationErrors::new();
                if expect_provider.is_some_and(|p| p != record.provider) {
                    errors.add(
                        "provider",
                        format!(
                            "must be \"{}\", the provider of this integration",
                            record.provider
                        ),
                    );
                }
                if expect_platform.is_some_and(|p| p != record.platform()) {
                    errors.add(
                        "platform",
                        format!(
                            "must be \"{}\", the platform of this integration",
                            record.platform()
                        ),
                    );
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
                let credentials =
                    Credentials::parse(record.provider, &input, SealedDefaults::None)?;
                let verification = self.run_check(&credentials).await?;
                let event = actor.event(Action::Verified, Some(id), outcome(&verification));
                if recorded {
                    let stored = self
                        .repository
                        .record_verification(
                            actor.account(),
                            id,
                            record.updated_at,
                            &verification,
                            &event,
                        )
                        .await?;
                    if !stored {
                        tracing::info!(integration_id = %id, "the integration changed during the check; its result was not recorded");
                    }
                } else {
                    self.append(&event).await;
                }
                Ok(verification)
            }
        }
    }

    /// One page of events, newest first: of the account, or of one integration (still
    /// readable after it was deleted). An integration this account never had is `NotFound`.
    pub async fn events(
        &self,
        actor: &Actor,
        query: &EventQuery,
    ) -> Result<Page<AuditEvent>, ServiceError> {
        actor.principal.require(Scope::Manage)?;
        let page = self.repository.events(actor.account(), query).await?;
        if let Some(id) = query.integration {
            if page.items.is_empty() && query.before.is_none() {
                // No event at all: known only if it exists (created before events were kept).
                self.repository.get(actor.account(), id).await?;
            }
        }
        Ok(page)
    }

    async fn open(&self, record: &IntegrationRecord) -> Result<SecretFields, ServiceError> {
        Ok(self
            .vault
            .open(&SealContext::of(record), &record.sealed)
            .await?)
    }

    /// Appends an event that records no stored change. A failure to record is logged, never
    /// turned into a failure of an action that already happened at the provider.
    async fn append(&self, event: &AuditEvent) {
        if let Err(e) = self.repository.append(event).await {
            tracing::error!(error = %e, action = %event.action, "could not record an audit event");
        }
    }

    /// Records a create or update refused because its `verify=true` check failed (the check
    /// reached the provider, so it is an event).
    async fn refused_after_check(
        &self,
        actor: &Actor,
        action: Action,
        id: Option<IntegrationId>,
        error: &ServiceError,
    ) {
        if let ServiceError::VerificationFailed(f) = error {
            self.append(&actor.event(action, id, Err(f.reason))).await;
        }
    }

    async fn run_check(&self, credentials: &Credentials) -> Result<Verification, ServiceError> {
        let platform = credentials.platform();
        if !self.verifier.supports(platform) {
            return Err(ServiceError::VerificationUnavailable(platform));
        }
        let started = std::time::Instant::now();
        let outcome = self.verifier.verify(credentials).await;
        self.meter.provider_call(
            Action::Verified,
            credentials.provider(),
            outcome.as_ref().map(|_| ()).map_err(|f| f.reason),
            started.elapsed(),
        );
        let at = now_millis();
        Ok(match outcome {
            Ok(()) => Verification::connected(at, platform),
            Err(failure) => {
                tracing::info!(provider = %credentials.provider(), reason = %failure.reason, "verification failed");
                Verification::failed(at, failure)
            }
        })
    }

    /// `verify=true` on create/update: a failed check is an error, nothing is stored.
    async fn check(&self, credentials: &Credentials) -> Result<(), ServiceError> {
        let v = self.run_check(credentials).await?;
        match v.outcome {
            crate::verification::Outcome::Connected { .. } => Ok(()),
            crate::verification::Outcome::Failed(f) => {
                Err(ServiceError::VerificationFailed(VerificationFailure {
                    retry_after_secs: None,
                    ..f
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{KeyId, Principal, Scopes};
    use crate::command::IntegrationInput;
    use crate::credentials::{sample_input, CredentialsInput, InputValue};
    use crate::ids::AccountId;
    use crate::provider::{Platform, Provider};
    use crate::testing::{InMemoryRepository, ReversibleVault, ScriptedVerifier};
    use crate::verification::FailureReason;
    use std::sync::Arc;

    type Svc = IntegrationService<Arc<InMemoryRepository>, ReversibleVault, Arc<ScriptedVerifier>>;

    fn service() -> (Svc, Arc<InMemoryRepository>, Arc<ScriptedVerifier>) {
        let repo = Arc::new(InMemoryRepository::new());
        let verifier = Arc::new(ScriptedVerifier::new());
        (
            IntegrationService::new(repo.clone(), ReversibleVault::default(), verifier.clone()),
            repo,
            verifier,
        )
    }

    fn actor() -> Actor {
        Actor::new(Principal {
            account: AccountId::new(),
            key_id: KeyId::parse("testkey1").unwrap(),
            scopes: Scopes::DEFAULT,
        })
    }

    fn zendesk(token: &str) -> IntegrationInput {
        IntegrationInput {
            label: Some("Help".into()),
            provider: Some("zendesk".into()),
            platform: None,
            credentials: Some(sample_input(Provider::Zendesk).with("token", token)),
        }
    }

    fn new(input: &IntegrationInput) -> NewIntegration {
        NewIntegration::parse(input).unwrap()
    }

    fn change(id: IntegrationId, input: &IntegrationInput) -> IntegrationChange {
        IntegrationChange::parse(id, input).unwrap()
    }

    fn fields(e: ServiceError) -> Vec<String> {
        match e {
            ServiceError::Validation(v) => v.errors().iter().map(|e| e.field.clone()).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn create_then_read_masks_secrets_and_records_an_event() {
        let (svc, _, _) = service();
        let a = actor();
        let created = svc.create(&a, new(&zendesk("t")), false).await.unwrap();
        let view = svc.get(&a, created.id).await.unwrap();
        assert_eq!(view.provider, Provider::Zendesk);
        assert!(view
            .credentials
            .iter()
            .any(|(k, v)| *k == "token" && v == crate::credentials::SECRET_MASK));
        let events = svc.events(&a, &EventQuery::default()).await.unwrap();
        assert_eq!(events.items.len(), 1);
        assert_eq!(events.items[0].action, Action::Created);
        assert_eq!(events.items[0].integration_id, Some(created.id));
    }

    #[tokio::test]
    async fn update_keeps_omitted_secrets_and_bumps_updated_at() {
        let (svc, _, verifier) = service();
        let a = actor();
        let created = svc
            .create(&a, new(&zendesk("secret-1")), false)
            .await
            .unwrap();
        let mut rename = zendesk("x");
        rename.label = Some("Renamed".into());
        if let Some(c) = rename.credentials.as_mut() {
            c.remove("token");
        }
        let updated = svc
            .update(&a, change(created.id, &rename), false)
            .await
            .unwrap();
        assert!(updated.updated_at > created.updated_at);
        assert_eq!(updated.created_at, created.created_at);
        svc.verify(
            &a,
            VerifyRequest::Stored {
                id: created.id,
                expect_provider: None,
                expect_platform: None,
                overrides: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(verifier.calls().len(), 1);
        assert_eq!(verifier.last_secret("token").as_deref(), Some("secret-1"));
    }

    #[tokio::test]
    async fn another_accounts_integration_is_not_found() {
        let (svc, _, _) = service();
        let created = svc
            .create(&actor(), new(&zendesk("t")), false)
            .await
            .unwrap();
        let other = actor();
        assert!(matches!(
            svc.get(&other, created.id).await,
            Err(ServiceError::NotFound)
        ));
        assert!(matches!(
            svc.delete(&other, created.id).await,
            Err(ServiceError::NotFound)
        ));
        let verify = VerifyRequest::Stored {
            id: created.id,
            expect_provider: None,
            expect_platform: None,
            overrides: None,
        };
        assert!(matches!(
            svc.verify(&other, verify).await,
            Err(ServiceError::NotFound)
        ));
        assert!(matches!(
            svc.events(
                &other,
                &EventQuery {
                    integration: Some(created.id),
                    ..EventQuery::default()
                }
            )
            .await,
            Err(ServiceError::NotFound)
        ));
    }

    #[tokio::test]
    async fn verify_on_write_refuses_failing_credentials_and_stores_nothing() {
        let (svc, repo, verifier) = service();
        let a = actor();
        verifier.answer(Some(VerificationFailure::new(
            FailureReason::NotFound,
            "No Zendesk account is called acme.",
        )));
        let err = svc.create(&a, new(&zendesk("t")), true).await.unwrap_err();
        assert!(
            matches!(err, ServiceError::VerificationFailed(f) if f.reason == FailureReason::NotFound)
        );
        assert!(repo
            .list(a.account(), &ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty());
        let events = svc.events(&a, &EventQuery::default()).await.unwrap();
        assert_eq!(events.items[0].reason, Some(FailureReason::NotFound));
    }

    #[tokio::test]
    async fn masked_secrets_and_wrong_types_are_refused() {
        let (svc, _, _) = service();
        let a = actor();
        let created = svc.create(&a, new(&zendesk("t")), false).await.unwrap();
        let err = IntegrationChange::parse(created.id, &zendesk("********")).unwrap_err();
        assert_eq!(fields(err.into()), vec!["credentials.token"]);
        let mut input = zendesk("t");
        if let Some(c) = input.credentials.as_mut() {
            c.insert("token", InputValue::Number);
        }
        let err = NewIntegration::parse(&input).unwrap_err();
        assert_eq!(fields(err.into()), vec!["credentials.token"]);
    }

    #[tokio::test]
    async fn a_stale_check_is_not_recorded_on_new_credentials() {
        let (svc, repo, verifier) = service();
        let a = actor();
        let created = svc.create(&a, new(&zendesk("old")), false).await.unwrap();
        // The check of the old credentials finishes after a PUT replaced them.
        verifier.before_answer({
            let svc_repo = repo.clone();
            let account = a.account();
            let id = created.id;
            move || {
                svc_repo.bump_updated_at(account, id);
            }
        });
        svc.verify(
            &a,
            VerifyRequest::Stored {
                id: created.id,
                expect_provider: None,
                expect_platform: None,
                overrides: None,
            },
        )
        .await
        .unwrap();
        let view = svc.get(&a, created.id).await.unwrap();
        assert_eq!(view.last_verification, None);
        // The verify still happened: it is an event.
        let events = svc.events(&a, &EventQuery::default()).await.unwrap();
        assert_eq!(events.items[0].action, Action::Verified);
    }

    #[tokio::test]
    async fn scopes_are_enforced_by_the_use_cases() {
        let (svc, _, _) = service();
        let mut a = actor();
        a.principal.scopes = Scopes::of([Scope::Use]);
        assert!(matches!(
            svc.create(&a, new(&zendesk("t")), false).await,
            Err(ServiceError::Forbidden(Scope::Manage))
        ));
    }

    #[tokio::test]
    async fn a_platform_without_verifier_is_unavailable() {
        let repo = Arc::new(InMemoryRepository::new());
        let svc = IntegrationService::new(
            repo,
            ReversibleVault::default(),
            crate::ports::PlatformVerifiers::new(),
        );
        let request = VerifyRequest::parse(&crate::command::VerifyInput {
            provider: Some("helpscout".into()),
            credentials: Some(CredentialsInput::new().with("apiKey", "k")),
            ..Default::default()
        })
        .unwrap();
        let err = svc.verify(&actor(), request).await.unwrap_err();
        assert!(matches!(
            err,
            ServiceError::VerificationUnavailable(Platform::Helpcenter)
        ));
    }

    #[tokio::test]
    async fn the_database_being_down_is_unavailable() {
        let (svc, repo, _) = service();
        repo.set_available(false);
        let err = svc.get(&actor(), IntegrationId::new()).await.unwrap_err();
        assert!(matches!(err, ServiceError::Unavailable(_)));
    }
}
