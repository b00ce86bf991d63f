//! `IntegrationRepository` and `AccountRepository` on diesel + diesel-async, for PostgreSQL
//! and the embedded SQLite default. One [`Store`] type; the URL picks the backend.
//!
//! # Layout
//! * [`Store`], [`StoreOptions`] (this file): connecting, migrating, the repository traits
//!   (dispatch to the backend), vault key fingerprints and rotation helpers.
//! * `schema`: diesel tables per backend (same column names, different SQL types).
//! * `queries`: the queries both backends share, written once as a macro expanded in each
//!   backend module.
//! * `pg`, `sqlite`: pool setup, embedded migrations (`migrations/postgres`,
//!   `migrations/sqlite`) and the first-key transaction of each backend.
//! * `codec`: domain value ⇄ column value conversions (JSON public fields, millisecond
//!   timestamps, `kek_id`).
//! * [`error`]: [`StoreError`], [`FingerprintError`], and how diesel and pool errors become
//!   `RepositoryError`s (`Unavailable` for connection trouble, `Conflict` for unique
//!   violations, `NotFound` for missing rows, `Other` otherwise).
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
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{FingerprintError, StoreError};

use async_trait::async_trait;
use integrations_domain::{
    AccountId, AccountName, AccountRepository, ApiKeyDigest, IntegrationId, IntegrationRecord,
    IntegrationRepository, ListQuery, Page, RepositoryError, SealedSecrets, Verification,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// Pool settings.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// How long a call waits for a pooled connection (including connecting) before failing
    /// with `Unavailable`. Short, so that a down database answers 503 quickly instead of
    /// hanging requests.
    pub connect_timeout: Duration,
    /// Most connections kept open (SQLite `:memory:` always uses one).
    pub max_connections: u32,
    /// How long a SQLite write waits for another writer's lock before failing.
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

/// Which database a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Postgres,
    Sqlite(sqlite::Location),
}

/// `sqlite://PATH` (relative, or absolute as `sqlite:///abs/path.db`), `sqlite:PATH`,
/// `sqlite::memory:`, `postgres://…`, `postgresql://…`.
fn parse_url(url: &str) -> Result<Target, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres);
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(Target::Sqlite(sqlite::Location::Memory));
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(StoreError::InvalidUrl("the SQLite URL names no file"));
        }
        if path.contains('?') {
            return Err(StoreError::InvalidUrl(
                "SQLite URLs take no query parameters",
            ));
        }
        return Ok(Target::Sqlite(sqlite::Location::File(path.into())));
    }
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| s.len() <= 20 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '+'))
        .unwrap_or("")
        .to_owned();
    Err(StoreError::UnsupportedUrl { scheme })
}

#[derive(Clone)]
enum Backend {
    Postgres(pg::Pool),
    Sqlite(sqlite::Pool),
}

/// The repositories on a database. Cheap to clone (the pool is shared).
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
        let backend = match parse_url(url)? {
            Target::Postgres => Backend::Postgres(pg::build_pool(url, &options)),
            Target::Sqlite(location) => {
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

    /// Checks the configured key-encryption keys against the fingerprints this database
    /// remembers: a differing fingerprint is a `Mismatch` (wrong master key); an unknown one
    /// is remembered. A remembered key that is not configured while integrations still use
    /// it is a `MissingKey`.
    pub async fn check_key_fingerprints(
        &self,
        fingerprints: &[(u32, [u8; 32])],
    ) -> Result<(), FingerprintError> {
        let stored = dispatch!(self.store_fingerprints(fingerprints))?;
        for (kek_id, fingerprint) in fingerprints {
            if stored
                .get(kek_id)
                .is_some_and(|s| s.as_slice() != fingerprint.as_slice())
            {
                return Err(FingerprintError::Mismatch { kek_id: *kek_id });
            }
        }
        let unconfigured: Vec<u32> = stored
            .keys()
            .copied()
            .filter(|id| !fingerprints.iter().any(|(k, _)| k == id))
            .collect();
        if !unconfigured.is_empty() {
            let per_kek = self.integrations_per_kek().await?;
            if let Some(kek_id) = unconfigured
                .into_iter()
                .find(|id| per_kek.get(id).is_some_and(|n| *n > 0))
            {
                return Err(FingerprintError::MissingKey { kek_id });
            }
        }
        Ok(())
    }

    /// How many integrations each key-encryption key seals (keys sealing none are absent).
    pub async fn integrations_per_kek(&self) -> Result<BTreeMap<u32, u64>, RepositoryError> {
        dispatch!(self.integrations_per_kek())
    }

    /// A batch of a rotation sweep: up to `limit` integrations of any account sealed under
    /// `kek_id`, in id order, after `after` (the last id of the previous batch).
    pub async fn integrations_sealed_with(
        &self,
        kek_id: u32,
        after: Option<IntegrationId>,
        limit: u32,
    ) -> Result<Vec<IntegrationRecord>, RepositoryError> {
        dispatch!(self.sealed_with(kek_id, after, limit))
    }

    /// Replaces the sealed secrets of one integration if they still equal `expected`
    /// (compare-and-set; `updated_at` is untouched since the credentials did not change).
    /// `false` when the row is gone or was changed meanwhile.
    pub async fn replace_sealed(
        &self,
        account: AccountId,
        id: IntegrationId,
        expected: &SealedSecrets,
        sealed: &SealedSecrets,
    ) -> Result<bool, RepositoryError> {
        dispatch!(self.replace_sealed(account, id, expected, sealed))
    }
}

#[async_trait]
impl IntegrationRepository for Store {
    async fn insert(&self, record: &IntegrationRecord) -> Result<(), RepositoryError> {
        dispatch!(self.insert(record))
    }

    async fn get(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, RepositoryError> {
        dispatch!(self.get(account, id))
    }

    async fn update(&self, record: &IntegrationRecord) -> Result<(), RepositoryError> {
        dispatch!(self.update(record))
    }

    async fn delete(&self, account: AccountId, id: IntegrationId) -> Result<(), RepositoryError> {
        dispatch!(self.delete(account, id))
    }

    async fn list(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<IntegrationRecord>, RepositoryError> {
        dispatch!(self.list(account, query))
    }

    async fn record_verification(
        &self,
        account: AccountId,
        id: IntegrationId,
        verification: &Verification,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.record_verification(account, id, verification))
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        dispatch!(self.ping())
    }
}

#[async_trait]
impl AccountRepository for Store {
    async fn ensure_account(&self, name: &AccountName) -> Result<AccountId, RepositoryError> {
        dispatch!(self.ensure_account(name))
    }

    async fn add_api_key(
        &self,
        account: AccountId,
        digest: &ApiKeyDigest,
    ) -> Result<(), RepositoryError> {
        dispatch!(self.add_api_key(account, digest))
    }

    async fn find_account_by_key(
        &self,
        digest: &ApiKeyDigest,
    ) -> Result<Option<AccountId>, RepositoryError> {
        dispatch!(self.find_account_by_key(digest))
    }

    async fn create_first_api_key(
        &self,
        name: &AccountName,
        digest: &ApiKeyDigest,
    ) -> Result<Option<AccountId>, RepositoryError> {
        dispatch!(self.create_first_api_key(name, digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(parse_url("postgres://u:p@h/db").unwrap(), Target::Postgres);
        assert_eq!(parse_url("postgresql://h/db").unwrap(), Target::Postgres);
        assert_eq!(
            parse_url("sqlite://data/app.db").unwrap(),
            Target::Sqlite(sqlite::Location::File(PathBuf::from("data/app.db")))
        );
        assert_eq!(
            parse_url("sqlite:///var/lib/app.db").unwrap(),
            Target::Sqlite(sqlite::Location::File(PathBuf::from("/var/lib/app.db")))
        );
        assert_eq!(
            parse_url("sqlite::memory:").unwrap(),
            Target::Sqlite(sqlite::Location::Memory)
        );
        assert!(matches!(
            parse_url("sqlite://"),
            Err(StoreError::InvalidUrl(_))
        ));
        match parse_url("mysql://root:hunter2@db/x") {
            Err(e @ StoreError::UnsupportedUrl { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("\"mysql\""), "{msg}");
                assert!(!msg.contains("hunter2"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_url("data.db"),
            Err(StoreError::UnsupportedUrl { .. })
        ));
    }
}
