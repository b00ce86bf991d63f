//! SQLite: the bundled library behind diesel-async's `SyncConnectionWrapper` (every query
//! runs on the blocking pool), in a bb8 pool. WAL journal, `busy_timeout` and foreign keys
//! are set on each new connection.

use crate::error::{StoreError, TracingErrorSink};
use crate::schema::sqlite::{accounts, api_keys, integrations, vault_keys};
use crate::StoreOptions;
use diesel::{ConnectionError, ConnectionResult, SqliteConnection};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) type Conn = SyncConnectionWrapper<SqliteConnection>;
pub(crate) type Pool = diesel_async::pooled_connection::bb8::Pool<Conn>;
type Db = diesel::sqlite::Sqlite;
/// Lowercase hyphenated UUID: text order equals byte order.
type DbId = String;
/// Milliseconds since the Unix epoch.
type DbTime = i64;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

fn id_to_db(id: &Uuid) -> DbId {
    id.hyphenated().to_string()
}

fn id_from_db(id: DbId) -> Result<Uuid, RepositoryError> {
    Uuid::parse_str(&id)
        .map_err(|_| RepositoryError::other(format!("stored id {id:?} is not a UUID")))
}

fn time_to_db(t: OffsetDateTime) -> DbTime {
    crate::codec::to_millis(t)
}

fn time_from_db(t: DbTime) -> Result<OffsetDateTime, RepositoryError> {
    crate::codec::from_millis(t)
}

crate::queries::queries!();

/// Where the database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    File(std::path::PathBuf),
    Memory,
}

type SetupFuture<'a> = Pin<Box<dyn Future<Output = ConnectionResult<Conn>> + Send + 'a>>;

fn establish(url: &str, busy_timeout: Duration) -> SetupFuture<'_> {
    Box::pin(async move {
        let mut conn = Conn::establish(url).await?;
        // busy_timeout first: switching to WAL needs a lock another connection may hold.
        let pragmas = format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            busy_timeout.as_millis()
        );
        conn.batch_execute(&pragmas)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    })
}

pub(crate) async fn build_pool(
    location: &Location,
    options: &StoreOptions,
) -> Result<Pool, StoreError> {
    let url = match location {
        Location::Memory => ":memory:".to_owned(),
        Location::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(dir).await.map_err(|source| {
                    StoreError::CreateDirectory {
                        path: dir.to_owned(),
                        source,
                    }
                })?;
            }
            path.to_str()
                .ok_or(StoreError::InvalidUrl("the SQLite path is not valid UTF-8"))?
                .to_owned()
        }
    };
    let busy_timeout = options.sqlite_busy_timeout;
    let mut config = ManagerConfig::<Conn>::default();
    // A local file does not drop connections: no test query on checkout.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| establish(url, busy_timeout));
    let manager = AsyncDieselConnectionManager::<Conn>::new_with_config(url, config);
    let builder = Pool::builder()
        .connection_timeout(options.connect_timeout)
        .error_sink(Box::new(TracingErrorSink));
    let builder = match location {
        // Each connection to `:memory:` is its own database: keep exactly one, forever.
        Location::Memory => builder.max_size(1).idle_timeout(None).max_lifetime(None),
        Location::File(_) => builder.max_size(options.max_connections),
    };
    Ok(builder.build_unchecked(manager))
}

/// Runs the pending migrations on a pooled connection (for `:memory:` the only one).
pub(crate) async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let mut conn = checkout(pool).await?;
    let applied = conn
        .spawn_blocking(|c: &mut SqliteConnection| {
            Ok(c.run_pending_migrations(MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>()))
        })
        .await
        .map_err(db_error)?
        .map_err(StoreError::Migration)?;
    for version in applied {
        tracing::info!(%version, "applied SQLite migration");
    }
    Ok(())
}

pub(crate) async fn create_first_api_key(
    pool: &Pool,
    name: &AccountName,
    digest: &ApiKeyDigest,
) -> Result<Option<AccountId>, RepositoryError> {
    let mut conn = checkout(pool).await?;
    // BEGIN IMMEDIATE takes the write lock before reading, so two processes on the same
    // file cannot both see "no key yet".
    conn.immediate_transaction::<_, DieselError, _>(async |c| {
        let any_key: bool = diesel::select(diesel::dsl::exists(
            api_keys::table.select(api_keys::digest),
        ))
        .get_result(&mut *c)
        .await?;
        if any_key {
            return Ok(None);
        }
        let account = ensure_account_on(c, name).await?;
        add_api_key_on(c, account, digest).await?;
        Ok(Some(account))
    })
    .await
    .map_err(db_error)
}
