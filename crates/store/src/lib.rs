//! The storage adapter: every storage port of the domain (`IntegrationRepository`,
//! `AuditLog`, `ApiKeyStore`, `KeyRegistry`) on diesel, for PostgreSQL and the embedded
//! SQLite default. One [`Store`] type; the URL picks the backend.
//!
//! # Layout
//! * [`Store`], [`StoreOptions`] (this file): connecting, migrating, pool state, and the port
//!   implementations, each a dispatch to the backend module.
//! * `url`: which backend a database URL names.
//! * `queries`: the queries both backends share, written once as a macro expanded in each
//!   backend module (async on PostgreSQL, synchronous on SQLite).
//! * `pg`: diesel-async + bb8, transactions around each change and its event, advisory locks
//!   (migrations, first key), the rewrap sweep claiming its batches with `FOR UPDATE`.
//! * `tls`: `sslmode` (`disable` … `verify-full`) and `sslrootcert` for PostgreSQL, on rustls
//!   with ring.
//! * `sqlite`: synchronous diesel on the blocking pool, reader pool + one writer, `BEGIN
//!   IMMEDIATE` for every write, the rewrap sweep with compare-and-set.
//! * `schema`: diesel tables per backend (same column names, different SQL types).
//! * `codec`: domain value ⇄ column value conversions.
//! * [`error`]: [`StoreError`] and how diesel and pool errors become `RepositoryError`s
//!   (`Unavailable` for connection trouble, `Conflict` for unique violations, `NotFound` for
//!   missing rows, `Other` otherwise).
//! * [`testing`] (feature `testing`): [`testing::FreshPostgres`], a throw-away database per
//!   test run.
//!
//! Design notes: `docs/decisions/0003-storage.md`.

mod codec;
pub mod error;
mod pg;
mod queries;
mod schema;
mod sqlite;
mod sqlite_conn;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod url;

pub use error::StoreError;

use async_trait::async_trait;
use integrations_domain::{
    AccountId, AccountName, ApiKeyDigest, ApiKeyRecord, ApiKeyStore, AuditEvent, AuditLog,
    CredentialVault, EventQuery, IntegrationId, IntegrationRecord, IntegrationRepository,
    IntegrationView, KeyId, KeyRegistry, ListQuery, Listed, NewApiKey, Page, RepositoryError,
    RewrapBatch, Verification,
};
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;

/// Pool settings.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// How long a call waits for a pooled connection (including connecting) before failing
    /// with `Unavailable`. Short, so that a down database answers 503 quickly instead of
    /// hanging requests.
    pub connect_timeout: Duration,
    /// Most connections kept open (SQLite: readers; writes use one more connection;
    /// `:memory:` always uses one).
    pub max_connections: u32,
    /// How long a SQLite write waits for another process's lock before failing.
    pub sqlite_busy_timeout: Duration,
    /// How long `migrate` waits to connect (it does not use the pool's checkout timeout).
    pub migrate_connect_timeout: Duration,
    /// Longest a PostgreSQL call may take once it has a connection; past it the call fails
    /// with `Unavailable` (503) instead of hanging on a server that stopped answering.
    pub query_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_millis(500),
            max_connections: 10,
            sqlite_busy_timeout: Duration::from_secs(5),
            migrate_connect_timeout: Duration::from_secs(10),
            query_timeout: Duration::from_secs(5),
        }
    }
}

/// How full the connection pool is (for metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open.
    pub connections: u32,
    /// Of those, idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

#[derive(Clone)]
enum Backend {
    Postgres(pg::Pool),
    Sqlite(sqlite::Pool),
}

/// The storage ports on a database. Cheap to clone (the pools are shared).
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    options: StoreOptions,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .finish_non_exhaustive()
    }
}

/// Calls the function of the same name in the backend module with the pool first.
macro_rules! dispatch {
    ($self:ident . $f:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            // A server that accepted the connection but stopped answering (a network
            // partition without a reset) must not hold requests forever.
            Backend::Postgres(pool) => {
                match tokio::time::timeout($self.options.query_timeout, pg::$f(pool, $($arg),*)).await {
                    Ok(result) => result,
                    Err(_) => Err(RepositoryError::unavailable(
                        "PostgreSQL did not answer within the query timeout",
                    )),
                }
            }
            Backend::Sqlite(pool) => sqlite::$f(pool, $($arg),*).await,
        }
    };
}

impl Store {
    /// Opens a pool on `url` (`sqlite://relative/path.db`, `sqlite:///abs/path.db`,
    /// `sqlite::memory:`, `postgres://…`, `postgresql://…`). Creates the directory of a SQLite
    /// file but opens no connection yet: an unreachable server shows up as `Unavailable` on
    /// first use, so call [`Store::migrate`] (or `ping`) at start.
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let backend = match url::parse_url(url)? {
            url::Target::Postgres => Backend::Postgres(pg::build_pool(url, &options)?),
            url::Target::Sqlite(location) => {
                Backend::Sqlite(sqlite::build_pool(&location, &options).await?)
            }
        };
        let store = Store { backend, options };
        tracing::info!(backend = store.backend_name(), "database pool ready");
        Ok(store)
    }

    /// `"postgres"` or `"sqlite"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    /// Applies pending migrations (idempotent; on PostgreSQL serialised across replicas).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => {
                pg::migrate(pool, self.options.migrate_connect_timeout).await
            }
            Backend::Sqlite(pool) => sqlite::migrate(pool).await,
        }
    }

    /// How full the pool is.
    /// Bulk load: inserts `records` in one transaction, many rows per statement, and records
    /// no audit event. For seeding benchmarks and loading data moved from another system;
    /// the API never calls it (every change it makes is audited).
    pub async fn insert_many(
        &self,
        records: &[IntegrationRecord],
    ) -> Result<usize, RepositoryError> {
        dispatch!(self.insert_many(records))
    }

    pub fn pool_state(&self) -> PoolState {
        match &self.backend {
            Backend::Postgres(pool) => pg::pool_state(pool, self.options.max_connections),
            Backend::Sqlite(pool) => sqlite::pool_state(pool),
        }
    }
}

#[async_trait]
impl IntegrationRepository for Store {
    async fn insert(
        &self,
        record: &IntegrationRecord,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.insert(record, event))
    }

    async fn get(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, RepositoryError> {
        dispatch!(self.get(account, id))
    }

    async fn update(
        &self,
        record: &IntegrationRecord,
        expected_updated_at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.update(record, expected_updated_at, event))
    }

    async fn delete(
        &self,
        account: AccountId,
        id: IntegrationId,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.delete(account, id, event))
    }

    async fn list(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<Listed<IntegrationView>>, RepositoryError> {
        dispatch!(self.list(account, query))
    }

    async fn record_verification(
        &self,
        account: AccountId,
        id: IntegrationId,
        checked_version: OffsetDateTime,
        verification: &Verification,
        event: &AuditEvent,
    ) -> Result<bool, RepositoryError> {
        dispatch!(self.record_verification(account, id, checked_version, verification, event))
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        dispatch!(self.ping())
    }
}

#[async_trait]
impl AuditLog for Store {
    async fn append(&self, event: &AuditEvent) -> Result<(), RepositoryError> {
        dispatch!(self.append(event))
    }

    async fn events(
        &self,
        account: AccountId,
        query: &EventQuery,
    ) -> Result<Page<AuditEvent>, RepositoryError> {
        dispatch!(self.events(account, query))
    }
}

#[async_trait]
impl ApiKeyStore for Store {
    async fn ensure_account(&self, name: &AccountName) -> Result<AccountId, RepositoryError> {
        dispatch!(self.ensure_account(name))
    }

    async fn insert_api_key(
        &self,
        account: AccountId,
        key: &NewApiKey,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.insert_api_key(account, key))
    }

    async fn insert_first_api_key(
        &self,
        name: &AccountName,
        key: &NewApiKey,
    ) -> Result<Option<AccountId>, RepositoryError> {
        dispatch!(self.insert_first_api_key(name, key))
    }

    async fn find_api_key(
        &self,
        key_id: &KeyId,
        digest: &ApiKeyDigest,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
        dispatch!(self.find_api_key(key_id, digest))
    }

    async fn list_api_keys(
        &self,
        account: Option<&AccountName>,
    ) -> Result<Vec<ApiKeyRecord>, RepositoryError> {
        dispatch!(self.list_api_keys(account))
    }

    async fn revoke_api_key(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.revoke_api_key(key_id, at))
    }

    async fn touch_api_key(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.touch_api_key(key_id, at))
    }
}

#[async_trait]
impl KeyRegistry for Store {
    async fn fingerprints(&self) -> Result<BTreeMap<u32, [u8; 32]>, RepositoryError> {
        dispatch!(self.fingerprints())
    }

    async fn remember_fingerprints(
        &self,
        fingerprints: &[(u32, [u8; 32])],
    ) -> Result<(), RepositoryError> {
        dispatch!(self.remember_fingerprints(fingerprints))
    }

    async fn sealed_per_key(&self) -> Result<BTreeMap<u32, u64>, RepositoryError> {
        dispatch!(self.sealed_per_key())
    }

    async fn rewrap_batch(
        &self,
        active: u32,
        after: Option<IntegrationId>,
        limit: u32,
        vault: &dyn CredentialVault,
    ) -> Result<RewrapBatch, RepositoryError> {
        dispatch!(self.rewrap_batch(active, after, limit, vault))
    }
}
