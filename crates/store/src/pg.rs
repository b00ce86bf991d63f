//! PostgreSQL: `AsyncPgConnection` (tokio-postgres, no libpq) in a bb8 pool.

use crate::error::{StoreError, TracingErrorSink};
use crate::schema::pg::{accounts, api_keys, integrations, vault_keys};
use crate::StoreOptions;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) type Conn = AsyncPgConnection;
pub(crate) type Pool = diesel_async::pooled_connection::bb8::Pool<Conn>;
type Db = diesel::pg::Pg;
type DbId = Uuid;
type DbTime = OffsetDateTime;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serialises `create_first_api_key` across replicas (`pg_advisory_xact_lock`).
const FIRST_KEY_LOCK: i64 = 0x696e_7465_6731; // "integ1"
/// Serialises migrations across replicas (`pg_advisory_lock`).
const MIGRATION_LOCK: i64 = 0x696e_7465_6732; // "integ2"

fn id_to_db(id: &Uuid) -> DbId {
    *id
}

fn id_from_db(id: DbId) -> Result<Uuid, RepositoryError> {
    Ok(id)
}

fn time_to_db(t: OffsetDateTime) -> DbTime {
    crate::codec::to_utc_millis(t)
}

fn time_from_db(t: DbTime) -> Result<OffsetDateTime, RepositoryError> {
    Ok(t)
}

crate::queries::queries!();

pub(crate) fn build_pool(url: &str, options: &StoreOptions) -> Pool {
    let mut config = ManagerConfig::<Conn>::default();
    // A `SELECT 1` on checkout: a connection the server dropped (restart, failover) is
    // replaced instead of failing the request, so the pool recovers by itself.
    config.recycling_method = diesel_async::pooled_connection::RecyclingMethod::Verified;
    let manager = AsyncDieselConnectionManager::<Conn>::new_with_config(url, config);
    Pool::builder()
        .max_size(options.max_connections)
        .connection_timeout(options.connect_timeout)
        .idle_timeout(Some(std::time::Duration::from_secs(600)))
        .error_sink(Box::new(TracingErrorSink))
        // Lazy: connecting never fails here; the first use (or `migrate`) reports an
        // unreachable server as `Unavailable`.
        .build_unchecked(manager)
}

pub(crate) async fn migrate(
    pool: &Pool,
    connect_timeout: std::time::Duration,
) -> Result<(), StoreError> {
    let conn = tokio::time::timeout(connect_timeout, pool.dedicated_connection())
        .await
        .map_err(|_| RepositoryError::unavailable("timed out connecting to PostgreSQL to migrate"))?
        .map_err(RepositoryError::unavailable)?;
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<Conn>::from(conn);
        run_migrations_locked(&mut conn)
    })
    .await
    .map_err(|e| StoreError::Migration(Box::new(e)))?
}

/// Runs the pending migrations holding a session advisory lock, so that replicas starting
/// together apply them once.
fn run_migrations_locked(conn: &mut AsyncConnectionWrapper<Conn>) -> Result<(), StoreError> {
    let lock = diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK);
    diesel::RunQueryDsl::execute(lock, conn).map_err(crate::error::db_error)?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| {
            for version in applied {
                tracing::info!(%version, "applied PostgreSQL migration");
            }
        })
        .map_err(StoreError::Migration);
    // Also released when the connection closes, which follows right away.
    let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK);
    if let Err(e) = diesel::RunQueryDsl::execute(unlock, conn) {
        tracing::warn!(error = %e, "could not release the migration lock");
    }
    result
}

pub(crate) async fn create_first_api_key(
    pool: &Pool,
    name: &AccountName,
    digest: &ApiKeyDigest,
) -> Result<Option<AccountId>, RepositoryError> {
    let mut conn = checkout(pool).await?;
    conn.transaction::<_, DieselError, _>(async |c| {
        // Held until commit or rollback: replicas on an empty database take turns.
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(FIRST_KEY_LOCK)
            .execute(&mut *c)
            .await?;
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
