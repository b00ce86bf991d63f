//! Wiring: settings → adapters → service → HTTP server.

use crate::settings::Settings;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use integrations_api::{configure, request_id, ApiState};
use integrations_domain::ports::PlatformVerifiers;
use integrations_domain::{AccountName, Platform};
use integrations_helpcenter::{HelpcenterConfig, HelpcenterVerifier};
use integrations_storage_verifier::{StorageVerifier, StorageVerifierConfig};
use integrations_store::{Store, StoreOptions};
use integrations_vault::{EnvelopeVault, KeyRing};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("master key: {0}")]
    KeyRing(#[from] integrations_vault::KeyRingError),
    #[error("database: {0}")]
    Store(#[from] integrations_store::StoreError),
    #[error("database: {0}")]
    Repository(#[from] integrations_domain::RepositoryError),
    #[error("the configured master key does not match this database: {0} (refusing to start; configure the key this database was encrypted with)")]
    Fingerprint(#[from] integrations_store::FingerprintError),
    #[error("help-center verifier: {0}")]
    Helpcenter(#[from] integrations_helpcenter::ConfigError),
    #[error("cloud storage verifier: {0}")]
    Storage(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not generate an API key: {0}")]
    Vault(#[from] integrations_domain::VaultError),
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

/// The key ring: `vault.master_key`, else `vault.master_key_file`, else a new file.
pub fn load_key_ring(settings: &Settings) -> Result<KeyRing, StartError> {
    if let Some(inline) = &settings.vault.master_key {
        return Ok(KeyRing::from_text(inline)?);
    }
    let path = &settings.vault.master_key_file;
    if path.exists() {
        return Ok(KeyRing::load_file(path)?);
    }
    let ring = KeyRing::generate_file(path)?;
    tracing::warn!(
        path = %path.display(),
        "no master key was configured: generated a new one. Back this file up; without it the stored credentials cannot be read"
    );
    Ok(ring)
}

/// A new API key for account `name`, printed by the caller.
pub async fn create_api_key(
    store: &Store,
    name: &str,
) -> Result<integrations_domain::ApiKey, StartError> {
    use integrations_domain::AccountRepository;
    let name = AccountName::parse(name)
        .map_err(|e| StartError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
    let key = integrations_vault::generate_api_key()?;
    let account = store.ensure_account(&name).await?;
    store.add_api_key(account, &key.digest()).await?;
    Ok(key)
}

fn verifiers(settings: &Settings) -> Result<PlatformVerifiers, StartError> {
    let timeout = Duration::from_millis(settings.verify.timeout_ms);
    let p = &settings.providers;
    let storage = StorageVerifier::new(StorageVerifierConfig {
        timeout,
        s3_base_url: Some(p.s3.base_url.trim().to_owned()).filter(|u| !u.is_empty()),
        r2_base_url: p.r2.base_url.clone(),
    })
    .map_err(|e| StartError::Storage(e.to_string()))?;
    let helpcenter = HelpcenterVerifier::new(HelpcenterConfig {
        timeout,
        allow_private_networks: p.allow_private_networks,
        zendesk_base_url: p.zendesk.base_url.clone(),
        intercom_base_url: p.intercom.base_url.clone(),
        intercom_base_url_eu: p.intercom.base_url_eu.clone(),
        intercom_base_url_au: p.intercom.base_url_au.clone(),
        helpscout_base_url: p.helpscout.base_url.clone(),
        helpjuice_base_url: p.helpjuice.base_url.clone(),
        freshdesk_base_url: p.freshdesk.base_url.clone(),
        knowledgeowl_base_url: p.knowledgeowl.base_url.clone(),
    })?;
    Ok(PlatformVerifiers::new()
        .with(Platform::Cloud, Arc::new(storage))
        .with(Platform::Helpcenter, Arc::new(helpcenter)))
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    /// The API key created on an empty database (shown once by `serve`).
    pub first_api_key: Option<integrations_domain::ApiKey>,
}

impl Application {
    /// Everything `serve` does before accepting requests: key ring, database, migrations,
    /// master-key fingerprint check, first API key, verifiers, binding the listener.
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        let key_ring = load_key_ring(settings)?;
        let store = open_store(settings).await?;
        store
            .check_key_fingerprints(&key_ring.fingerprints())
            .await?;
        let first_api_key = {
            use integrations_domain::AccountRepository;
            let key = integrations_vault::generate_api_key()?;
            let name = AccountName::parse("default").map_err(|e| {
                StartError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
            })?;
            store
                .create_first_api_key(&name, &key.digest())
                .await?
                .map(|_| key)
        };
        let store = Arc::new(store);
        let state = ApiState::new(
            store.clone(),
            store,
            Arc::new(EnvelopeVault::new(key_ring)),
            Arc::new(verifiers(settings)?),
        );
        let listener = TcpListener::bind(&settings.server.bind)?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(request_id::middleware))
                .configure(configure(state.clone()))
        })
        .listen(listener)?
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
