//! Wiring: settings → adapters → domain services → HTTP server. No provider, no policy and no
//! use case lives here: the domain decides, the adapters act, this file connects them.

use crate::settings::Settings;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer};
use integrations_api::{Api, ApiConfig, DynAccess, DynIntegrations};
use integrations_cloud_storage::StorageVerifier;
use integrations_domain::service::{database_is_fresh, KeyPolicyError};
use integrations_domain::{
    AccessService, ApiKey, ApiKeyStore, ConnectionVerifier, CredentialVault, Entropy,
    IntegrationService, IntegrationStore, KeyRegistry, KeyService, Platform, PlatformVerifiers,
    ServiceError,
};
use integrations_helpcenter::HelpcenterVerifier;
use integrations_store::{Store, StoreOptions};
use integrations_vault::{EnvelopeVault, KeyRing, KeyRingError, SystemEntropy};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// Why the service (or a command) could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("master key: {0}")]
    KeyRing(#[from] KeyRingError),
    #[error(
        "master key: the key file {path} does not exist, but this database was encrypted with \
         master key id(s) {known}; restore that file (or set vault.master_key) instead of \
         starting with a new key"
    )]
    KeyFileMissing { path: String, known: String },
    #[error("database: {0}")]
    Store(#[from] integrations_store::StoreError),
    #[error("database: {0}")]
    Repository(#[from] integrations_domain::RepositoryError),
    #[error("master key: {0}")]
    KeyPolicy(#[from] KeyPolicyError),
    #[error("provider settings: {0}")]
    Providers(#[from] integrations_outbound::ConfigError),
    #[error("{0}")]
    Service(#[from] ServiceError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the database of the settings and applies pending migrations.
pub async fn open_store(settings: &Settings) -> Result<Store, StartError> {
    let options = StoreOptions {
        connect_timeout: Duration::from_millis(settings.database.connect_timeout_ms),
        max_connections: settings.database.max_connections,
        query_timeout: Duration::from_millis(settings.database.query_timeout_ms),
        ..StoreOptions::default()
    };
    let store = Store::connect(&settings.database.url, options).await?;
    store.migrate().await?;
    Ok(store)
}

/// The key ring: `vault.master_key`, else `vault.master_key_file`. A missing file is
/// generated only for a database that never saw a master key; otherwise starting with a new
/// key would make every stored credential unreadable, so it is refused, naming the key ids the
/// database knows. Nothing is written on any refusal.
pub async fn load_key_ring(settings: &Settings, store: &Store) -> Result<KeyRing, StartError> {
    load_key_ring_with(settings, store, true).await
}

/// Like [`load_key_ring`]; `generate_if_fresh: false` never writes a key file (the `keys`
/// commands).
pub async fn load_key_ring_with(
    settings: &Settings,
    store: &Store,
    generate_if_fresh: bool,
) -> Result<KeyRing, StartError> {
    if let Some(inline) = &settings.vault.master_key {
        return Ok(KeyRing::from_text(inline)?);
    }
    let path = &settings.vault.master_key_file;
    match KeyRing::load_file(path, settings.vault.allow_insecure_key_file) {
        Err(e @ KeyRingError::NotFound { .. }) if !generate_if_fresh => Err(e.into()),
        Err(KeyRingError::NotFound { .. }) => {
            if !database_is_fresh(store).await? {
                let known: Vec<String> = store
                    .fingerprints()
                    .await?
                    .keys()
                    .chain(store.sealed_per_key().await?.keys())
                    .map(u32::to_string)
                    .collect();
                return Err(StartError::KeyFileMissing {
                    path: path.display().to_string(),
                    known: known.join(", "),
                });
            }
            let (ring, _) = KeyRing::load_or_generate_file(path)?;
            tracing::warn!(
                path = %path.display(),
                "no master key was configured: generated a new one. Back this file up; without it the stored credentials cannot be read"
            );
            Ok(ring)
        }
        other => Ok(other?),
    }
}

/// The vault of `ring`, checked against the database (read-only; a refusal changes nothing),
/// then remembered.
pub async fn checked_vault(
    store: &Arc<Store>,
    ring: KeyRing,
) -> Result<Arc<EnvelopeVault>, StartError> {
    let fingerprints = ring.fingerprints();
    let vault = Arc::new(EnvelopeVault::new(ring));
    let keys = KeyService::new(store.clone(), vault.clone());
    keys.check_ring(&fingerprints).await?;
    keys.remember_ring(&fingerprints).await?;
    Ok(vault)
}

/// The API-key use cases on `store`.
pub fn access_service(settings: &Settings, store: Arc<Store>) -> DynAccess {
    AccessService::new(
        store as Arc<dyn ApiKeyStore>,
        Arc::new(SystemEntropy::new()) as Arc<dyn Entropy>,
        Duration::from_millis(settings.auth.cache_ttl_ms),
    )
}

/// Every verifier, each reading its own `providers.*` settings.
fn verifiers(settings: &Settings) -> Result<PlatformVerifiers, StartError> {
    let timeout = Duration::from_millis(settings.verify.timeout_ms);
    Ok(PlatformVerifiers::new()
        .with(
            Platform::Cloud,
            Arc::new(StorageVerifier::new(timeout, &settings.providers)?),
        )
        .with(
            Platform::Helpcenter,
            Arc::new(HelpcenterVerifier::new(timeout, &settings.providers)?),
        ))
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    /// The API key created on an empty database (shown once by `serve`).
    pub first_api_key: Option<ApiKey>,
}

impl Application {
    /// Everything `serve` does before accepting requests: database and migrations, key ring
    /// and the master-key check, first API key, verifiers, binding the listener.
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        let store = Arc::new(open_store(settings).await?);
        let ring = load_key_ring(settings, &store).await?;
        let vault = checked_vault(&store, ring).await?;
        let access = Arc::new(access_service(settings, store.clone()));
        let first_api_key = access.bootstrap().await?;
        let integrations: Arc<DynIntegrations> = Arc::new(IntegrationService::new(
            store.clone() as Arc<dyn IntegrationStore>,
            vault as Arc<dyn CredentialVault>,
            Arc::new(verifiers(settings)?) as Arc<dyn ConnectionVerifier>,
        ));
        let config = ApiConfig {
            trusted_proxies: settings.server.trusted_proxies.clone(),
            ..ApiConfig::default()
        };
        let listener = TcpListener::bind(&settings.server.bind)?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new().service(integrations_api::service(Api {
                integrations: integrations.clone(),
                access: access.clone(),
                config: config.clone(),
            }))
        })
        .listen(listener)?
        .client_request_timeout(Duration::from_millis(
            settings.server.client_request_timeout_ms,
        ))
        .max_connections(settings.server.max_connections)
        .shutdown_timeout(settings.server.shutdown_timeout_s);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        tracing::info!(bind = %settings.server.bind, port, "listening");
        Ok(Self {
            port,
            server: server.run(),
            first_api_key,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (gracefully: in-flight requests finish).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Runs until SIGTERM/SIGINT (or `handle().stop(..)`); in-flight requests finish first.
    pub async fn run_until_stopped(self) -> Result<(), std::io::Error> {
        self.server.await
    }
}
