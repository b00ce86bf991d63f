//! SQLite: the bundled library through synchronous diesel. Connections (`sqlite_conn`): reads
//! on the calling thread's own connection, writes through one writer thread that commits them
//! in groups, each use case one closure (one transaction or savepoint, not one per statement).
//!
//! All writes of this process go through the one writer connection, so they never wait on
//! each other's locks inside SQLite (whose busy handler sleeps in steps of milliseconds);
//! writes of other processes (the CLI beside a serving instance) are absorbed by
//! `busy_timeout`. Every write group runs in `BEGIN IMMEDIATE`, so it takes the write lock
//! before reading. WAL journal, `synchronous = NORMAL` and foreign keys are set on each new
//! connection.

use crate::error::StoreError;
use crate::schema::sqlite::{accounts, api_keys, audit_events, integrations, vault_keys};
use crate::{PoolState, StoreOptions};
use diesel::{RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use integrations_domain::{CredentialVault, RewrapBatch};
use uuid::Uuid;

type Conn = SqliteConnection;
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

/// The rows of a page: stepped until `n` (the statement walks the index in order, so it
/// reads no further). Not `LIMIT ?`: SQLite (3.53, built with STAT4) treats a bound LIMIT as
/// an input of the plan and re-prepares the statement at every call, which cost a fifth of a
/// read (docs/performance.md).
macro_rules! page_rows {
    ($q:expr, $n:expr, $conn:expr) => {
        $q.load_iter::<_, diesel::connection::DefaultLoadingMode>($conn)
            .and_then(|rows| rows.take($n).collect::<Result<Vec<_>, _>>())
    };
}

crate::queries::queries!(;);

/// Where the database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    File(std::path::PathBuf),
    Memory,
}

pub(crate) use crate::sqlite_conn::Pool;
use crate::sqlite_conn::Pragmas;

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
    let pragmas = Pragmas {
        busy_timeout: options.sqlite_busy_timeout,
    };
    Ok(match location {
        Location::Memory => Pool::memory(pragmas, options.connect_timeout),
        Location::File(_) => {
            Pool::file(url, pragmas).map_err(|source| StoreError::CreateDirectory {
                path: std::path::PathBuf::from("(sqlite writer thread)"),
                source,
            })?
        }
    })
}

pub(crate) fn pool_state(pool: &Pool) -> PoolState {
    // Readers are per thread, opened on first use and kept: all open, none idle in a pool.
    let readers = pool.usage().readers;
    PoolState {
        connections: readers,
        idle: 0,
        max: readers,
    }
}

/// Runs the pending migrations on the writer connection.
pub(crate) async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let applied = pool
        .exclusive(|c| {
            c.run_pending_migrations(MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
                .map_err(|e| RepositoryError::other(e.to_string()))
        })
        .await
        .map_err(|e| match e {
            RepositoryError::Other(e) => StoreError::Migration(e),
            other => StoreError::Repository(other),
        })?;
    for version in applied {
        tracing::info!(%version, "applied SQLite migration");
    }
    Ok(())
}

pub(crate) async fn insert(
    pool: &Pool,
    record: &IntegrationRecord,
    event: &AuditEvent,
) -> Result<(), RepositoryError> {
    let (record, event) = (record.clone(), event.clone());
    pool.write(move |c| insert_on(c, &record, &event)).await
}

pub(crate) async fn insert_many(
    pool: &Pool,
    records: &[IntegrationRecord],
) -> Result<usize, RepositoryError> {
    let records = records.to_vec();
    pool.write(move |c| insert_many_on(c, &records)).await
}

pub(crate) async fn get(
    pool: &Pool,
    account: AccountId,
    id: IntegrationId,
) -> Result<IntegrationRecord, RepositoryError> {
    pool.read(move |c| get_on(c, account, id)).await
}

pub(crate) async fn update(
    pool: &Pool,
    record: &IntegrationRecord,
    expected: OffsetDateTime,
    event: &AuditEvent,
) -> Result<(), RepositoryError> {
    let (record, event) = (record.clone(), event.clone());
    pool.write(move |c| update_on(c, &record, expected, &event))
        .await
}

pub(crate) async fn delete(
    pool: &Pool,
    account: AccountId,
    id: IntegrationId,
    event: &AuditEvent,
) -> Result<(), RepositoryError> {
    let event = event.clone();
    pool.write(move |c| delete_on(c, account, id, &event)).await
}

pub(crate) async fn list(
    pool: &Pool,
    account: AccountId,
    query: &ListQuery,
) -> Result<Page<Listed<IntegrationView>>, RepositoryError> {
    let query = *query;
    pool.read(move |c| list_on(c, account, &query)).await
}

pub(crate) async fn record_verification(
    pool: &Pool,
    account: AccountId,
    id: IntegrationId,
    version: OffsetDateTime,
    verification: &Verification,
    event: &AuditEvent,
) -> Result<bool, RepositoryError> {
    let (verification, event) = (verification.clone(), event.clone());
    pool.write(move |c| record_verification_on(c, account, id, version, &verification, &event))
        .await
}

pub(crate) async fn ping(pool: &Pool) -> Result<(), RepositoryError> {
    pool.read(ping_on).await
}

pub(crate) async fn append(pool: &Pool, event: &AuditEvent) -> Result<(), RepositoryError> {
    let event = event.clone();
    pool.write(move |c| insert_event_on(c, &event)).await
}

pub(crate) async fn events(
    pool: &Pool,
    account: AccountId,
    query: &EventQuery,
) -> Result<Page<AuditEvent>, RepositoryError> {
    let query = *query;
    pool.read(move |c| events_on(c, account, &query)).await
}

pub(crate) async fn ensure_account(
    pool: &Pool,
    name: &AccountName,
) -> Result<AccountId, RepositoryError> {
    let name = name.clone();
    pool.write(move |c| ensure_account_on(c, &name)).await
}

pub(crate) async fn insert_api_key(
    pool: &Pool,
    account: AccountId,
    key: &NewApiKey,
) -> Result<(), RepositoryError> {
    let key = key.clone();
    pool.write(move |c| insert_api_key_on(c, account, &key))
        .await
}

pub(crate) async fn insert_first_api_key(
    pool: &Pool,
    name: &AccountName,
    key: &NewApiKey,
) -> Result<Option<AccountId>, RepositoryError> {
    let (name, key) = (name.clone(), key.clone());
    // BEGIN IMMEDIATE takes the write lock before reading, so two processes on the same file
    // cannot both see "no key yet".
    pool.write(move |c| {
        if any_api_key_on(c)? {
            return Ok(None);
        }
        let account = ensure_account_on(c, &name)?;
        insert_api_key_on(c, account, &key)?;
        Ok(Some(account))
    })
    .await
}

pub(crate) async fn find_api_key(
    pool: &Pool,
    key_id: &KeyId,
    digest: &ApiKeyDigest,
) -> Result<Option<ApiKeyRecord>, RepositoryError> {
    let (key_id, digest) = (key_id.clone(), *digest);
    // Usually a read; the one-time claim of a legacy key writes, so use the reader first.
    let found = {
        let key_id = key_id.clone();
        pool.read(move |c| {
            let row: Option<ApiKeyRow> = api_keys::table
                .inner_join(accounts::table)
                .filter(api_keys::key_id.eq(key_id.as_str()))
                .select(API_KEY_COLUMNS)
                .get_result(c)
                .optional()
                .map_err(db_error)?;
            row.map(ApiKeyRow::into_record).transpose()
        })
        .await?
    };
    if found.is_some() {
        return Ok(found);
    }
    pool.write(move |c| find_api_key_on(c, &key_id, &digest))
        .await
}

pub(crate) async fn list_api_keys(
    pool: &Pool,
    account: Option<&AccountName>,
) -> Result<Vec<ApiKeyRecord>, RepositoryError> {
    let account = account.cloned();
    pool.read(move |c| list_api_keys_on(c, account.as_ref()))
        .await
}

pub(crate) async fn revoke_api_key(
    pool: &Pool,
    key_id: &KeyId,
    at: OffsetDateTime,
) -> Result<(), RepositoryError> {
    let key_id = key_id.clone();
    pool.write(move |c| revoke_api_key_on(c, &key_id, at)).await
}

pub(crate) async fn touch_api_key(
    pool: &Pool,
    key_id: &KeyId,
    at: OffsetDateTime,
) -> Result<(), RepositoryError> {
    let key_id = key_id.clone();
    pool.write(move |c| touch_api_key_on(c, &key_id, at)).await
}

pub(crate) async fn fingerprints(pool: &Pool) -> Result<BTreeMap<u32, [u8; 32]>, RepositoryError> {
    pool.read(fingerprints_on).await
}

pub(crate) async fn remember_fingerprints(
    pool: &Pool,
    fingerprints: &[(u32, [u8; 32])],
) -> Result<(), RepositoryError> {
    let fingerprints = fingerprints.to_vec();
    pool.write(move |c| remember_fingerprints_on(c, &fingerprints))
        .await
}

pub(crate) async fn sealed_per_key(pool: &Pool) -> Result<BTreeMap<u32, u64>, RepositoryError> {
    pool.read(sealed_per_key_on).await
}

/// One batch of the sweep: read the next rows not under `active`, rewrap their data keys
/// (outside any transaction), then write them back in one short write transaction, each only
/// if its blob is still the one that was read (compare-and-set: a concurrent update or sweep
/// wins, and the row is left to it).
pub(crate) async fn rewrap_batch(
    pool: &Pool,
    active: u32,
    after: Option<IntegrationId>,
    limit: u32,
    vault: &dyn CredentialVault,
) -> Result<RewrapBatch, RepositoryError> {
    let rows: Vec<IntegrationRow> = pool
        .read(move |c| {
            let mut q = integrations::table
                .filter(integrations::kek_id.ne(kek_to_db(active)))
                .into_boxed::<Db>();
            if let Some(after) = after {
                q = q.filter(integrations::id.gt(id_to_db(after.as_uuid())));
            }
            q.order(integrations::id.asc())
                .limit(i64::from(limit))
                .select(IntegrationRow::as_select())
                .load(c)
                .map_err(db_error)
        })
        .await?;
    let mut batch = RewrapBatch {
        claimed: rows.len() as u64,
        ..RewrapBatch::default()
    };
    let mut writes: Vec<(String, Vec<u8>, i64, Vec<u8>)> = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(uuid) = id_from_db(row.shown.id.clone()) else {
            continue;
        };
        let id = IntegrationId::from_uuid(uuid);
        batch.last = Some(id);
        let account = match id_from_db(row.account_id.clone()) {
            Ok(a) => a,
            Err(_) => {
                batch
                    .failed
                    .push((id, integrations_domain::VaultError::UnsupportedFormat));
                continue;
            }
        };
        let old_blob = row.sealed.clone();
        let (context, sealed) = match crate::codec::rewrap_input(
            account,
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
            Ok(new) => writes.push((row.shown.id, old_blob, kek_to_db(new.kek_id), new.blob)),
            Err(e) => batch.failed.push((id, e)),
        }
    }
    if !writes.is_empty() {
        batch.rewrapped = pool
            .write(move |c| {
                let mut done = 0u64;
                for (id, old, kek, blob) in &writes {
                    done += diesel::update(
                        integrations::table
                            .filter(integrations::id.eq(id))
                            .filter(integrations::sealed.eq(old)),
                    )
                    .set((integrations::kek_id.eq(kek), integrations::sealed.eq(blob)))
                    .execute(c)
                    .map_err(db_error)? as u64;
                }
                Ok(done)
            })
            .await?;
    }
    Ok(batch)
}
