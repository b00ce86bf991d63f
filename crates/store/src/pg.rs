//! PostgreSQL: `AsyncPgConnection` (tokio-postgres, no libpq) in a bb8 pool. Every change and
//! its audit event are written in one transaction; the rewrap sweep locks only the rows it
//! claims (`FOR UPDATE`, one short transaction per batch), so it runs beside serving replicas
//! and other sweeps.

use crate::error::{pool_error, StoreError, TracingErrorSink};
use crate::schema::pg::{accounts, api_keys, audit_events, integrations, vault_keys};
use crate::{PoolState, StoreOptions};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use integrations_domain::{CredentialVault, RewrapBatch};
use uuid::Uuid;

pub(crate) type Conn = AsyncPgConnection;
pub(crate) type Pool = diesel_async::pooled_connection::bb8::Pool<Conn>;
type Db = diesel::pg::Pg;
type DbId = Uuid;
type DbTime = OffsetDateTime;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serialises the first-key bootstrap across replicas (`pg_advisory_xact_lock`).
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

/// The rows of a page: PostgreSQL sends a whole result, so the bound goes to the server.
macro_rules! page_rows {
    ($q:expr, $n:expr, $conn:expr) => {
        $q.limit(i64::try_from($n).unwrap_or(i64::MAX))
            .load($conn)
            .await
    };
}

crate::queries::queries!(async; .await);

pub(crate) fn build_pool(url: &str, options: &StoreOptions) -> Result<Pool, StoreError> {
    let (url, tls) = crate::tls::split(url)?;
    let rustls = match tls.mode {
        crate::tls::SslMode::Disable => None,
        _ => Some(crate::tls::client_config(&tls).map_err(StoreError::Tls)?),
    };
    let mode = tls.mode;
    let mut config = ManagerConfig::<Conn>::default();
    config.custom_setup = Box::new(move |url| {
        let rustls = rustls.clone();
        Box::pin(establish(url.to_owned(), mode, rustls))
    });
    // On checkout, a connection whose socket the server closed (restart, failover, a cut
    // proxy) is replaced instead of failing the request, so the pool recovers by itself. Not
    // a `SELECT 1` per checkout (`Verified`): that doubled the round trips of every request
    // (docs/performance.md); a connection that breaks mid-query fails that one call (503) and
    // is discarded.
    config.recycling_method = diesel_async::pooled_connection::RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<Conn>::new_with_config(url, config);
    Ok(Pool::builder()
        .max_size(options.max_connections)
        .connection_timeout(options.connect_timeout)
        .idle_timeout(Some(std::time::Duration::from_secs(600)))
        .error_sink(Box::new(TracingErrorSink))
        // Lazy: connecting never fails here; the first use (or `migrate`) reports an
        // unreachable server as `Unavailable`.
        .build_unchecked(manager))
}

/// One connection, with TLS as `sslmode` asks.
async fn establish(
    url: String,
    mode: crate::tls::SslMode,
    rustls: Option<rustls::ClientConfig>,
) -> diesel::ConnectionResult<Conn> {
    use diesel::ConnectionError;
    use tokio_postgres::config::SslMode as DriverMode;
    let bad = |e: tokio_postgres::Error| ConnectionError::BadConnection(e.to_string());
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| ConnectionError::InvalidConnectionUrl(e.to_string()))?;
    match rustls {
        None => {
            let (client, conn) = config
                .ssl_mode(DriverMode::Disable)
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(bad)?;
            AsyncPgConnection::try_from_client_and_connection(client, conn).await
        }
        Some(rustls) => {
            let driver_mode = match mode {
                crate::tls::SslMode::Prefer => DriverMode::Prefer,
                _ => DriverMode::Require,
            };
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(rustls);
            let (client, conn) = config
                .ssl_mode(driver_mode)
                .connect(tls)
                .await
                .map_err(bad)?;
            AsyncPgConnection::try_from_client_and_connection(client, conn).await
        }
    }
}

pub(crate) fn pool_state(pool: &Pool, max: u32) -> PoolState {
    let state = pool.state();
    PoolState {
        connections: state.connections,
        idle: state.idle_connections,
        max,
    }
}

/// Takes a connection from the pool: `Unavailable` when none comes within the checkout
/// timeout.
async fn checkout(
    pool: &Pool,
) -> Result<diesel_async::pooled_connection::bb8::PooledConnection<'_, Conn>, RepositoryError> {
    pool.get().await.map_err(pool_error)
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

/// Runs `f` on a pooled connection (one statement or several without a transaction).
macro_rules! on_conn {
    ($pool:expr, |$c:ident| $body:expr) => {{
        let mut conn = checkout($pool).await?;
        let $c: &mut Conn = &mut conn;
        $body
    }};
}

/// Runs `f` in a transaction on a pooled connection.
macro_rules! in_tx {
    ($pool:expr, |$c:ident| $body:expr) => {{
        let mut conn = checkout($pool).await?;
        conn.transaction::<_, TxError, _>(async |$c| Ok($body?))
            .await
            .map_err(RepositoryError::from)
    }};
}

/// A create: the integration and its audit event in one transaction.
pub(crate) async fn insert(
    pool: &Pool,
    record: &IntegrationRecord,
    event: &AuditEvent,
) -> Result<(), RepositoryError> {
    in_tx!(pool, |c| insert_pipelined_on(c, record, event).await)
}

/// A create's two inserts (the integration and its audit event) pipelined: sent together,
/// one round trip instead of two. PostgreSQL still runs them in order; if the first fails,
/// the second fails too (the transaction is aborted), the caller's transaction rolls back
/// whole, and the first error is the one reported.
async fn insert_pipelined_on(
    c: &mut Conn,
    record: &IntegrationRecord,
    event: &AuditEvent,
) -> Result<(), RepositoryError> {
    let row = new_integration(record)?;
    let event_row = EventRow::of(event);
    let c: &Conn = c;
    let (integration, audit) = futures_util::future::join(
        diesel::insert_into(integrations::table)
            .values(&row)
            .execute(&mut &*c),
        diesel::insert_into(audit_events::table)
            .values(&event_row)
            .execute(&mut &*c),
    )
    .await;
    integration.map_err(|e| insert_error(e, record))?;
    audit.map_err(db_error)?;
    Ok(())
}

pub(crate) async fn insert_many(
    pool: &Pool,
    records: &[IntegrationRecord],
) -> Result<usize, RepositoryError> {
    in_tx!(pool, |c| insert_many_on(c, records).await)
}

pub(crate) async fn get(
    pool: &Pool,
    account: AccountId,
    id: IntegrationId,
) -> Result<IntegrationRecord, RepositoryError> {
    on_conn!(pool, |c| get_on(c, account, id).await)
}

pub(crate) async fn update(
    pool: &Pool,
    record: &IntegrationRecord,
    expected: OffsetDateTime,
    event: &AuditEvent,
) -> Result<(), RepositoryError> {
    in_tx!(pool, |c| update_on(c, record, expected, event).await)
}

pub(crate) async fn delete(
    pool: &Pool,
    account: AccountId,
    id: IntegrationId,
    event: &AuditEvent,
) -> Result<(), RepositoryError> {
    in_tx!(pool, |c| delete_on(c, account, id, event).await)
}

pub(crate) async fn list(
    pool: &Pool,
    account: AccountId,
    query: &ListQuery,
) -> Result<Page<Listed<IntegrationView>>, RepositoryError> {
    on_conn!(pool, |c| list_on(c, account, query).await)
}

pub(crate) async fn record_verification(
    pool: &Pool,
    account: AccountId,
    id: IntegrationId,
    version: OffsetDateTime,
    verification: &Verification,
    event: &AuditEvent,
) -> Result<bool, RepositoryError> {
    in_tx!(pool, |c| record_verification_on(
        c,
        account,
        id,
        version,
        verification,
        event
    )
    .await)
}

pub(crate) async fn ping(pool: &Pool) -> Result<(), RepositoryError> {
    on_conn!(pool, |c| ping_on(c).await)
}

pub(crate) async fn append(pool: &Pool, event: &AuditEvent) -> Result<(), RepositoryError> {
    on_conn!(pool, |c| insert_event_on(c, event).await)
}

pub(crate) async fn events(
    pool: &Pool,
    account: AccountId,
    query: &EventQuery,
) -> Result<Page<AuditEvent>, RepositoryError> {
    on_conn!(pool, |c| events_on(c, account, query).await)
}

pub(crate) async fn ensure_account(
    pool: &Pool,
    name: &AccountName,
) -> Result<AccountId, RepositoryError> {
    on_conn!(pool, |c| ensure_account_on(c, name).await)
}

pub(crate) async fn insert_api_key(
    pool: &Pool,
    account: AccountId,
    key: &NewApiKey,
) -> Result<(), RepositoryError> {
    on_conn!(pool, |c| insert_api_key_on(c, account, key).await)
}

pub(crate) async fn insert_first_api_key(
    pool: &Pool,
    name: &AccountName,
    key: &NewApiKey,
) -> Result<Option<AccountId>, RepositoryError> {
    in_tx!(pool, |c| {
        // Held until commit or rollback: replicas on an empty database take turns.
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(FIRST_KEY_LOCK)
            .execute(&mut *c)
            .await
            .map_err(db_error)?;
        first_key_on(c, name, key).await
    })
}

async fn first_key_on(
    c: &mut Conn,
    name: &AccountName,
    key: &NewApiKey,
) -> Result<Option<AccountId>, RepositoryError> {
    if any_api_key_on(c).await? {
        return Ok(None);
    }
    let account = ensure_account_on(c, name).await?;
    insert_api_key_on(c, account, key).await?;
    Ok(Some(account))
}

pub(crate) async fn find_api_key(
    pool: &Pool,
    key_id: &KeyId,
    digest: &ApiKeyDigest,
) -> Result<Option<ApiKeyRecord>, RepositoryError> {
    on_conn!(pool, |c| find_api_key_on(c, key_id, digest).await)
}

pub(crate) async fn list_api_keys(
    pool: &Pool,
    account: Option<&AccountName>,
) -> Result<Vec<ApiKeyRecord>, RepositoryError> {
    on_conn!(pool, |c| list_api_keys_on(c, account).await)
}

pub(crate) async fn revoke_api_key(
    pool: &Pool,
    key_id: &KeyId,
    at: OffsetDateTime,
) -> Result<(), RepositoryError> {
    on_conn!(pool, |c| revoke_api_key_on(c, key_id, at).await)
}

pub(crate) async fn touch_api_key(
    pool: &Pool,
    key_id: &KeyId,
    at: OffsetDateTime,
) -> Result<(), RepositoryError> {
    on_conn!(pool, |c| touch_api_key_on(c, key_id, at).await)
}

pub(crate) async fn fingerprints(pool: &Pool) -> Result<BTreeMap<u32, [u8; 32]>, RepositoryError> {
    on_conn!(pool, |c| fingerprints_on(c).await)
}

pub(crate) async fn remember_fingerprints(
    pool: &Pool,
    fingerprints: &[(u32, [u8; 32])],
) -> Result<(), RepositoryError> {
    on_conn!(pool, |c| remember_fingerprints_on(c, fingerprints).await)
}

pub(crate) async fn sealed_per_key(pool: &Pool) -> Result<BTreeMap<u32, u64>, RepositoryError> {
    on_conn!(pool, |c| sealed_per_key_on(c).await)
}

/// One batch of the sweep in one transaction: claim rows not under `active`, rewrap their data
/// keys, write them back in one statement.
///
/// A row another transaction holds is waited for, not skipped (`FOR UPDATE`, not `SKIP
/// LOCKED`): the sweep moves on by id, so a skipped row would stay under the old key while the
/// sweep reported success (CI met it: a verify's write held one row of 30). Those holds are a
/// single change and its event, milliseconds. A row that another sweep rewrapped meanwhile no
/// longer matches once its lock is released and is left out, so concurrent sweeps share the
/// rows without deadlock (both lock in id order).
pub(crate) async fn rewrap_batch(
    pool: &Pool,
    active: u32,
    after: Option<IntegrationId>,
    limit: u32,
    vault: &dyn CredentialVault,
) -> Result<RewrapBatch, RepositoryError> {
    in_tx!(pool, |c| {
        // Not boxed (a boxed query cannot lock); the nil id sorts before every v4 id.
        let after = after.map_or(Uuid::nil(), |a| *a.as_uuid());
        let rows: Vec<IntegrationRow> = integrations::table
            .filter(integrations::kek_id.ne(kek_to_db(active)))
            .filter(integrations::id.gt(after))
            .order(integrations::id.asc())
            .limit(i64::from(limit))
            .select(IntegrationRow::as_select())
            .for_update()
            .load(&mut *c)
            .await
            .map_err(db_error)?;
        rewrap_rows(c, active, rows, vault).await
    })
}

async fn rewrap_rows(
    c: &mut Conn,
    active: u32,
    rows: Vec<IntegrationRow>,
    vault: &dyn CredentialVault,
) -> Result<RewrapBatch, RepositoryError> {
    let mut batch = RewrapBatch {
        claimed: rows.len() as u64,
        last: rows.last().map(|r| IntegrationId::from_uuid(r.shown.id)),
        ..RewrapBatch::default()
    };
    let mut ids = Vec::with_capacity(rows.len());
    let mut blobs = Vec::with_capacity(rows.len());
    for row in rows {
        let id = IntegrationId::from_uuid(row.shown.id);
        let (context, sealed) = match crate::codec::rewrap_input(
            row.account_id,
            id,
            &row.shown.provider,
            row.kek_id,
            row.sealed,
        ) {
            Ok(x) => x,
            Err(e) => {
                batch.failed.push((id, e));
                continue;
            }
        };
        match vault.rewrap(&context, &sealed).await {
            Ok(new) if new.kek_id == active => {
                ids.push(*id.as_uuid());
                blobs.push(new.blob);
            }
            Ok(_) => batch.failed.push((
                id,
                integrations_domain::VaultError::Seal("the vault's active key changed".into()),
            )),
            Err(e) => batch.failed.push((id, e)),
        }
    }
    if !ids.is_empty() {
        use diesel::sql_types::{Array, BigInt, Binary};
        let updated = diesel::sql_query(
            "UPDATE integrations AS i SET kek_id = $1, sealed = u.sealed \
             FROM unnest($2::uuid[], $3::bytea[]) AS u(id, sealed) WHERE i.id = u.id",
        )
        .bind::<BigInt, _>(kek_to_db(active))
        .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
        .bind::<Array<Binary>, _>(blobs)
        .execute(&mut *c)
        .await
        .map_err(db_error)?;
        batch.rewrapped = updated as u64;
    }
    Ok(batch)
}
