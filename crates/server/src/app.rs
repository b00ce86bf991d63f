//! Wiring: settings → adapters → domain services → HTTP server. No provider, no policy and no
//! use case lives here: the domain decides, the adapters act, this file connects them.

use crate::settings::Settings;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer};
use integrations_api::limits::{LimitSettings, Limits};
use integrations_api::metrics::{Metrics, PoolProbe, PoolUsage};
use integrations_api::{Api, ApiConfig, DynAccess, DynIntegrations, DynTransfer};
use integrations_cloud_storage::StorageVerifier;
use integrations_domain::service::{database_is_fresh, KeyPolicyError};
use integrations_domain::{
    AccessService, ApiKey, ApiKeyStore, ConnectionVerifier, CredentialVault, Entropy,
    HelpCenterCatalogue, IntegrationService, IntegrationStore, KeyRegistry, KeyService, Meter,
    ObjectStore, Platform, PlatformVerifiers, ServiceError, TransferService,
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

/// The provider adapters, each reading its own `providers.*` settings: one object per
/// outside system, serving verification and its use (export or import).
struct Adapters {
    cloud: Arc<StorageVerifier>,
    helpcenter: Arc<HelpcenterVerifier>,
}

impl Adapters {
    fn new(settings: &Settings) -> Result<Self, StartError> {
        let timeout = Duration::from_millis(settings.verify.timeout_ms);
        Ok(Self {
            cloud: Arc::new(StorageVerifier::new(timeout, &settings.providers)?),
            helpcenter: Arc::new(HelpcenterVerifier::new(timeout, &settings.providers)?),
        })
    }

    fn verifiers(&self) -> PlatformVerifiers {
        PlatformVerifiers::new()
            .with(Platform::Cloud, self.cloud.clone())
            .with(Platform::Helpcenter, self.helpcenter.clone())
    }
}

/// The HTTP layer's settings.
fn api_config(settings: &Settings) -> ApiConfig {
    ApiConfig {
        trusted_proxies: settings.server.trusted_proxies.clone(),
        body_timeout: Duration::from_millis(settings.server.client_request_timeout_ms),
        ..ApiConfig::default()
    }
}

/// Reads the store's pool usage at each scrape of `/metrics`.
fn pool_probe(store: Arc<Store>) -> PoolProbe {
    Arc::new(move || {
        let state = store.pool_state();
        PoolUsage {
            connections: state.connections,
            idle: state.idle,
            max: state.max,
        }
    })
}

/// Drops the rate-limit state of keys idle for a while, once a minute (bounded memory).
fn forget_idle_limits(limits: Arc<Limits>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.forget_idle();
        }
    });
}

/// Connections the kernel completes and queues for `accept` before it starts dropping new
/// ones (the kernel caps it at `net.core.somaxconn`, 4096 by default).
///
/// Why not std's `TcpListener::bind`: it listens with a backlog of 128. A burst of more new
/// connections than that (1,000 clients verifying at once, a load balancer reconnecting after
/// a deploy) overflows the queue, the kernel drops the extra SYNs and those clients only retry
/// after their 1 s retransmission timeout: the bench's verify burst took 2.1 s instead of 1.2.
pub const LISTEN_BACKLOG: i32 = 4096;

/// Binds `bind` (`host:port`, the first address it resolves to that binds) and listens with
/// [`LISTEN_BACKLOG`].
pub fn listen(bind: &str) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs;
    let mut last = None;
    for addr in bind.to_socket_addrs()? {
        let attempt = (|| {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
            // As std does on Unix: a restarted server rebinds while old connections linger.
            #[cfg(unix)]
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            socket.listen(LISTEN_BACKLOG)?;
            Ok::<TcpListener, std::io::Error>(socket.into())
        })();
        match attempt {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{bind} resolves to no address"),
        )
    }))
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
        let adapters = Adapters::new(settings)?;
        let metrics = Arc::new(Metrics::new(Some(pool_probe(store.clone()))));
        let integrations: Arc<DynIntegrations> = Arc::new(
            IntegrationService::new(
                store.clone() as Arc<dyn IntegrationStore>,
                vault.clone() as Arc<dyn CredentialVault>,
                Arc::new(adapters.verifiers()) as Arc<dyn ConnectionVerifier>,
            )
            .with_meter(metrics.clone() as Arc<dyn Meter>),
        );
        let transfer: Arc<DynTransfer> = Arc::new(
            TransferService::new(
                store.clone() as Arc<dyn IntegrationStore>,
                vault as Arc<dyn CredentialVault>,
                adapters.cloud.clone() as Arc<dyn ObjectStore>,
                adapters.helpcenter.clone() as Arc<dyn HelpCenterCatalogue>,
                settings.export.max_object_bytes,
            )
            .with_meter(metrics.clone() as Arc<dyn Meter>),
        );
        let limits = Arc::new(Limits::new(LimitSettings {
            requests_per_minute: settings.limits.requests_per_minute,
            outbound_per_minute: settings.limits.outbound_per_minute,
            outbound_concurrency_per_account: settings.limits.outbound_concurrency_per_account,
        }));
        forget_idle_limits(limits.clone());
        let config = api_config(settings);
        let listener = listen(&settings.server.bind)?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new().service(integrations_api::service(Api {
                integrations: integrations.clone(),
                transfer: transfer.clone(),
                access: access.clone(),
                limits: limits.clone(),
                metrics: metrics.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Nobody accepts here, so the kernel completes a connection only while the accept queue
    /// has room: with std's backlog of 128 the 130th connect hangs until its deadline.
    #[test]
    fn the_listener_queues_a_burst_of_connections() -> std::io::Result<()> {
        let listener = listen("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let mut held = Vec::new();
        for i in 0..600 {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                Ok(stream) => held.push(stream),
                Err(e) => panic!("connection {i} was not queued ({e}): the backlog is too small"),
            }
        }
        assert_eq!(held.len(), 600);
        Ok(())
    }

    #[test]
    fn an_unresolvable_bind_address_is_an_error() {
        assert!(listen("no-such-host.invalid:8080").is_err());
        assert!(listen("not an address").is_err());
    }
}
