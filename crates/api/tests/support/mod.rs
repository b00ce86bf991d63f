//! The API over the domain's in-memory doubles (as `tests/handlers.rs` builds it), shared by
//! `tests/openapi.rs` and `tests/docs_page.rs`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use integrations_api::limits::{LimitSettings, Limits};
use integrations_api::metrics::Metrics;
use integrations_api::{Api, ApiConfig, DynAccess, DynIntegrations, DynTransfer};
use integrations_domain::testing::{
    CountingEntropy, InMemoryObjects, InMemoryRepository, ReversibleVault, ScriptedCatalogue,
    ScriptedVerifier,
};
use integrations_domain::{
    AccessService, AccountName, ConnectionVerifier, CredentialVault, HelpCenterCatalogue,
    IntegrationService, IntegrationStore, ObjectStore, Scopes, TransferService,
};
use std::sync::Arc;
use std::time::Duration;

/// Largest export the doubles accept (small, so that "too large" is cheap to provoke).
pub const MAX_OBJECT_BYTES: u64 = 1024;

pub struct Doubles {
    pub access: Arc<DynAccess>,
    pub integrations: Arc<DynIntegrations>,
    pub transfer: Arc<DynTransfer>,
    pub verifier: Arc<ScriptedVerifier>,
    pub objects: Arc<InMemoryObjects>,
    pub catalogue: Arc<ScriptedCatalogue>,
    pub repo: Arc<InMemoryRepository>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
}

/// No rate limits.
pub fn unlimited() -> LimitSettings {
    LimitSettings {
        requests_per_minute: 0,
        outbound_per_minute: 0,
        outbound_concurrency_per_account: 0,
    }
}

/// Sends `req` to a fresh app over `d` as the server's dispatcher does (an error from the
/// service becomes its response): status, headers and body bytes.
pub async fn respond(
    d: &Doubles,
    req: actix_web::test::TestRequest,
) -> (
    actix_web::http::StatusCode,
    actix_web::http::header::HeaderMap,
    Vec<u8>,
) {
    use actix_web::{test, App};
    let app = test::init_service(App::new().service(integrations_api::service(d.api()))).await;
    match test::try_call_service(&app, req.to_request()).await {
        Ok(res) => {
            let status = res.status();
            let headers = res.headers().clone();
            (status, headers, test::read_body(res).await.to_vec())
        }
        Err(e) => {
            let res = e.error_response();
            let status = res.status();
            let headers = res.headers().clone();
            let body = actix_web::body::to_bytes(res.into_body())
                .await
                .unwrap_or_default();
            (status, headers, body.to_vec())
        }
    }
}

pub fn doubles() -> Doubles {
    doubles_with(unlimited())
}

pub fn doubles_with(limits: LimitSettings) -> Doubles {
    let repo = Arc::new(InMemoryRepository::new());
    let verifier = Arc::new(ScriptedVerifier::new());
    let vault = Arc::new(ReversibleVault::default());
    let objects = Arc::new(InMemoryObjects::new());
    let catalogue = Arc::new(ScriptedCatalogue::new());
    let metrics = Arc::new(Metrics::new(None));
    Doubles {
        transfer: Arc::new(
            TransferService::new(
                repo.clone() as Arc<dyn IntegrationStore>,
                vault.clone() as Arc<dyn CredentialVault>,
                objects.clone() as Arc<dyn ObjectStore>,
                catalogue.clone() as Arc<dyn HelpCenterCatalogue>,
                MAX_OBJECT_BYTES,
            )
            .with_meter(metrics.clone()),
        ),
        metrics: metrics.clone(),
        objects,
        catalogue,
        limits: Arc::new(Limits::new(limits)),
        access: Arc::new(AccessService::new(
            repo.clone(),
            Arc::new(CountingEntropy::default()),
            Duration::ZERO,
        )),
        integrations: Arc::new(
            IntegrationService::new(
                repo.clone() as Arc<dyn IntegrationStore>,
                vault as Arc<dyn CredentialVault>,
                verifier.clone() as Arc<dyn ConnectionVerifier>,
            )
            .with_meter(metrics.clone()),
        ),
        verifier,
        repo,
    }
}

impl Doubles {
    pub fn api(&self) -> Api {
        Api {
            integrations: self.integrations.clone(),
            transfer: self.transfer.clone(),
            access: self.access.clone(),
            limits: self.limits.clone(),
            metrics: self.metrics.clone(),
            config: ApiConfig::default(),
        }
    }

    /// A new API key of `account` with `scopes`.
    pub async fn key(&self, account: &str, scopes: Scopes) -> String {
        let (key, _) = self
            .access
            .create_key(&AccountName::parse(account).unwrap(), scopes, None)
            .await
            .unwrap();
        key.expose().to_owned()
    }
}
