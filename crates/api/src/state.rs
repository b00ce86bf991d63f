//! What the handlers share.

use integrations_domain::service::AuthService;
use integrations_domain::{
    AccountRepository, ConnectionVerifier, CredentialVault, IntegrationRepository,
    IntegrationService,
};
use std::sync::Arc;
use std::time::Duration;

/// The service with dynamically dispatched ports (adapters chosen at start from configuration).
pub type DynService = IntegrationService<
    Arc<dyn IntegrationRepository>,
    Arc<dyn CredentialVault>,
    Arc<dyn ConnectionVerifier>,
>;

/// Shared by every handler.
#[derive(Clone)]
pub struct ApiState {
    pub service: Arc<DynService>,
    pub auth: Arc<AuthService<Arc<dyn AccountRepository>>>,
    /// Used by `/readyz`.
    pub repository: Arc<dyn IntegrationRepository>,
    /// How long `/readyz` waits for the database.
    pub readiness_timeout: Duration,
}

impl ApiState {
    pub fn new(
        repository: Arc<dyn IntegrationRepository>,
        accounts: Arc<dyn AccountRepository>,
        vault: Arc<dyn CredentialVault>,
        verifier: Arc<dyn ConnectionVerifier>,
    ) -> Self {
        Self {
            service: Arc::new(IntegrationService::new(repository.clone(), vault, verifier)),
            auth: Arc::new(AuthService::new(accounts)),
            repository,
            readiness_timeout: Duration::from_millis(900),
        }
    }
}
