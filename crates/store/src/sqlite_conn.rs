//! SQLite's connections: readers on the calling thread, one writer thread that commits in
//! groups. Why (measured in `docs/performance.md`): a hop to a blocking thread per query and
//! a pool's mutex cost more than the query itself (a point read is a few microseconds), and
//! a write transaction per request serialises every writer on one lock.
//!
//! * **Reads** run on the calling thread, on a connection that thread opened once and keeps
//!   (one per thread per database; no pool, no hop, prepared statements reused). In WAL mode a
//!   reader never waits for the writer, so the call is as short as the query: it runs on the
//!   async worker like any other short computation.
//! * **Writes** go to one thread that owns the only write connection. It takes every job
//!   waiting (up to [`GROUP_MAX`]) and runs them in one `BEGIN IMMEDIATE … COMMIT`, each in its
//!   own savepoint: a failing job is rolled back alone, and each caller hears its result only
//!   after the commit (group commit). Jobs still run one at a time, in arrival order.
//! * **Checkpoints** (copying the write-ahead log into the database file) run on a thread of
//!   their own every 250 ms, not inside the writer's commits: a commit then only appends to
//!   the log (`synchronous = NORMAL`: no fsync), and the writer never waits for the disk.
//! * **Restarting the log.** SQLite starts writing the log from its beginning again only when
//!   a checkpoint has copied all of it and no reader still reads it. Under writes that never
//!   pause, the checkpointer's copies never catch up with the writer (new frames arrive while
//!   it copies), and a checkpoint that waits for the writer to pause (`RESTART`) starves: the
//!   log grew without bound (5.7 GB in 40 s of creates across 100 accounts, each commit slower
//!   than the last as the file grew). So when the log passes [`WAL_FRAMES_RESTART`] frames,
//!   the checkpointer asks and the writer itself runs `RESTART` between two groups, when no
//!   write can be in progress; the log's file is then cut back to that size
//!   (`journal_size_limit`).
//! * `:memory:` keeps one connection for everything (each connection would be its own
//!   database), reached through the blocking pool.

use crate::error::TracingErrorSink;
use crate::queries::TxError;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection};
use diesel::{Connection, SqliteConnection};
use integrations_domain::RepositoryError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Weak};
use std::time::Duration;

type Conn = SqliteConnection;
type R2d2 = diesel::r2d2::Pool<ConnectionManager<SqliteConnection>>;

/// Most write jobs committed in one transaction.
pub(crate) const GROUP_MAX: usize = 256;

/// How much of the database file each connection maps into memory (1 GiB).
const MMAP_BYTES: u64 = 1 << 30;

/// The pragmas of every new connection.
#[derive(Debug, Clone)]
pub(crate) struct Pragmas {
    pub(crate) busy_timeout: Duration,
}

impl Pragmas {
    fn apply(&self, conn: &mut Conn) -> Result<(), diesel::result::Error> {
        // busy_timeout first: switching to WAL needs a lock another connection may hold.
        // mmap_size: a read takes the database file's pages straight from the OS page cache
        // through a shared mapping instead of copying each through `pread` into this
        // connection's own 2 MiB cache. With a million rows a GET by id lost 26 % against
        // 10,000 rows without it, 8 % with it (docs/performance.md). Address space only: the
        // pages are the OS's page cache, shared by every connection and reclaimable (they
        // show in RSS as file-backed). Writes still go through `write` (SQLite's default).
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA mmap_size = {MMAP_BYTES};",
            self.busy_timeout.as_millis()
        ))
    }

    fn open(&self, url: &str) -> Result<Conn, RepositoryError> {
        let mut conn = Conn::establish(url).map_err(|e| {
            tracing::warn!(error = %e, "cannot open the SQLite database");
            RepositoryError::unavailable(e)
        })?;
        self.apply(&mut conn)
            .map_err(RepositoryError::unavailable)?;
        Ok(conn)
    }
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A write job, type-erased: run inside the group's transaction, then told how the commit
/// went.
trait WriteJob: Send {
    /// Runs the job; `Err` rolls back its savepoint.
    fn run(&mut self, conn: &mut Conn) -> Result<(), TxError>;
    /// Sends the caller its result: its own, if the group committed; else the commit's error.
    fn finish(self: Box<Self>, committed: Result<(), RepositoryError>);
}

struct Job<T, F> {
    work: Option<F>,
    result: Option<Result<T, RepositoryError>>,
    reply: tokio::sync::oneshot::Sender<Result<T, RepositoryError>>,
}

impl<T, F> WriteJob for Job<T, F>
where
    T: Send,
    F: FnOnce(&mut Conn) -> Result<T, RepositoryError> + Send,
{
    fn run(&mut self, conn: &mut Conn) -> Result<(), TxError> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(Ok(value)) => {
                self.result = Some(Ok(value));
                Ok(())
            }
            Ok(Err(e)) => {
                self.result = Some(Err(e));
                Err(TxError::Repo(RepositoryError::other("rolled back")))
            }
            Err(_) => {
                tracing::error!("a database write panicked; it was rolled back");
                self.result = Some(Err(RepositoryError::other("a database write failed")));
                Err(TxError::Repo(RepositoryError::other("rolled back")))
            }
        }
    }

    fn finish(self: Box<Self>, committed: Result<(), RepositoryError>) {
        let outcome = match (committed, self.result) {
            (_, Some(Err(own))) => Err(own),
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Err(e), _) => Err(e),
            (Ok(()), None) => Err(RepositoryError::other("a database write did not run")),
        };
        // The caller may have gone (its request was cancelled): nothing to tell.
        let _ = self.reply.send(outcome);
    }
}

type Queue = mpsc::Sender<Box<dyn WriteJob>>;

/// How the checkpointer asks the writer to restart the write-ahead log.
struct WalControl {
    /// The log's length (in frames) past which it is restarted.
    frames_restart: i64,
    /// Set by the checkpointer, taken by the writer.
    restart_wanted: AtomicBool,
    /// Restarts done (for tests).
    restarts: AtomicU64,
}

impl WalControl {
    fn new(frames_restart: i64) -> Arc<WalControl> {
        Arc::new(WalControl {
            frames_restart,
            restart_wanted: AtomicBool::new(false),
            restarts: AtomicU64::new(0),
        })
    }

    /// On the writer's connection, between groups: copies what is left of the log and
    /// waits for readers still in it (busy_timeout), so the next commit writes from the
    /// log's start.
    fn restart_if_wanted(&self, c: &mut Conn) {
        if !self.restart_wanted.swap(false, Ordering::AcqRel) {
            return;
        }
        match diesel::RunQueryDsl::get_result::<CheckpointResult>(
            diesel::sql_query("PRAGMA wal_checkpoint(RESTART)"),
            c,
        ) {
            Ok(r) if r.busy == 0 => {
                self.restarts.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(frames = r.log, "the write-ahead log restarts");
            }
            // A reader held on past busy_timeout; the checkpointer asks again.
            Ok(r) => tracing::debug!(
                frames = r.log,
                left = r.log - r.checkpointed,
                "the write-ahead log could not restart yet"
            ),
            Err(e) => tracing::warn!(error = %e, "a SQLite checkpoint failed"),
        }
    }
}

/// The writer thread: opens its connection, then commits whatever is queued, group by group,
/// until every sender is gone.
fn writer_loop(
    url: String,
    pragmas: Pragmas,
    jobs: mpsc::Receiver<Box<dyn WriteJob>>,
    wal: Arc<WalControl>,
) {
    let mut conn: Option<Conn> = None;
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            // The writer never checkpoints inside a commit (that copies pages into the
            // database file and fsyncs it): the checkpointer thread does, beside it, and the
            // writer only restarts the log between groups when asked (see the module's doc).
            match pragmas.open(&url).and_then(|mut c| {
                c.batch_execute(&format!(
                    "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {};",
                    wal.frames_restart.saturating_mul(PAGE_BYTES)
                ))
                .map_err(RepositoryError::unavailable)?;
                Ok(c)
            }) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    for job in group {
                        job.finish(Err(same(&e)));
                    }
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        wal.restart_if_wanted(c);
        let committed = c
            .immediate_transaction::<_, TxError, _>(|c| {
                for job in group.iter_mut() {
                    // A savepoint per job: its failure undoes only its own statements.
                    let _ = c.transaction::<_, TxError, _>(|c| job.run(c));
                }
                Ok(())
            })
            .map_err(RepositoryError::from);
        if let Err(e) = &committed {
            tracing::warn!(error = %e, jobs = group.len(), "a group of database writes failed to commit");
        }
        for job in group {
            job.finish(committed.as_ref().map(|_| ()).map_err(same));
        }
    }
}

/// The same error again, for each job of a group (the errors' sources are not `Clone`).
fn same(e: &RepositoryError) -> RepositoryError {
    match e {
        RepositoryError::NotFound => RepositoryError::NotFound,
        RepositoryError::Conflict(s) => RepositoryError::Conflict(s.clone()),
        RepositoryError::Unavailable(source) => RepositoryError::unavailable(source.to_string()),
        RepositoryError::Other(source) => RepositoryError::other(source.to_string()),
    }
}

/// How often the checkpointer copies the write-ahead log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Past this many frames in the log (4 KiB pages: 256 MiB), the writer restarts it (see the
/// module's doc), so the log cannot grow without bound under a write load that never pauses.
const WAL_FRAMES_RESTART: i64 = 65_536;
/// Before asking for a restart, the checkpointer copies until at most this many frames are
/// left for the writer to copy (4 MiB), in at most [`CATCH_UP_ROUNDS`] back-to-back rounds.
const RESTART_LEFT_FRAMES: i64 = 1_024;
const CATCH_UP_ROUNDS: u32 = 8;
/// SQLite's default page size, which these databases keep: the bytes of one log frame's page.
const PAGE_BYTES: i64 = 4096;

#[derive(diesel::QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    checkpointed: i32,
}

/// The checkpointer thread: every [`CHECKPOINT_EVERY`], a PASSIVE checkpoint on its own
/// connection (it copies what no reader still needs and waits for nobody); when the log has
/// grown past its bound, it asks the writer to restart it. Ends when the pool is gone.
fn checkpointer_loop(url: String, pragmas: Pragmas, alive: Weak<()>, wal: Arc<WalControl>) {
    let mut conn: Option<Conn> = None;
    // Checkpoints run back to back while catching up before a restart (see below).
    let mut catching_up = 0;
    while alive.strong_count() > 0 {
        if catching_up == 0 {
            std::thread::sleep(CHECKPOINT_EVERY);
        }
        if conn.is_none() {
            conn = pragmas.open(&url).ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        match diesel::RunQueryDsl::get_result::<CheckpointResult>(
            diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)"),
            c,
        ) {
            Ok(r) if i64::from(r.log) > wal.frames_restart => {
                // The writer's restart stalls every write while it copies what is left and
                // syncs the file: first copy all but the last few frames here, beside the
                // writer (a few rounds at most), so that stall stays short.
                let left = i64::from(r.log) - i64::from(r.checkpointed);
                if left > RESTART_LEFT_FRAMES && catching_up < CATCH_UP_ROUNDS {
                    catching_up += 1;
                } else {
                    catching_up = 0;
                    wal.restart_wanted.store(true, Ordering::Release);
                }
            }
            Ok(_) => catching_up = 0,
            Err(e) => {
                catching_up = 0;
                tracing::warn!(error = %e, "a SQLite checkpoint failed");
                conn = None;
            }
        }
    }
}

static POOL_IDS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's reader connection of each open database, by pool id. An entry whose
    /// pool is gone is closed at this thread's next read.
    static READERS: RefCell<HashMap<u64, (Weak<()>, Reader)>> = RefCell::new(HashMap::new());
}

/// A database file's connections.
struct FileConnections {
    id: u64,
    url: String,
    pragmas: Pragmas,
    writer: Queue,
    /// Dropped with the last clone of the pool; reader entries hold it weakly.
    alive: Arc<()>,
    readers_open: Arc<AtomicU32>,
}

#[derive(Clone)]
enum Mode {
    File(Arc<FileConnections>),
    Memory(R2d2),
}

/// The connections of one SQLite database.
#[derive(Clone)]
pub(crate) struct Pool {
    mode: Mode,
}

/// Usage for metrics.
pub(crate) struct Usage {
    pub(crate) readers: u32,
}

impl Pool {
    pub(crate) fn file(url: String, pragmas: Pragmas) -> Result<Pool, std::io::Error> {
        Self::file_with(url, pragmas, WAL_FRAMES_RESTART).map(|(pool, _)| pool)
    }

    /// [`Pool::file`] with the log restarted past `wal_frames_restart` frames.
    fn file_with(
        url: String,
        pragmas: Pragmas,
        wal_frames_restart: i64,
    ) -> Result<(Pool, Arc<WalControl>), std::io::Error> {
        let (writer, jobs) = mpsc::channel();
        let wal = WalControl::new(wal_frames_restart);
        let (thread_url, thread_pragmas, thread_wal) = (url.clone(), pragmas.clone(), wal.clone());
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(thread_url, thread_pragmas, jobs, thread_wal))?;
        let alive = Arc::new(());
        let (checkpoint_url, checkpoint_pragmas, token, checkpoint_wal) = (
            url.clone(),
            pragmas.clone(),
            Arc::downgrade(&alive),
            wal.clone(),
        );
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                checkpointer_loop(checkpoint_url, checkpoint_pragmas, token, checkpoint_wal)
            })?;
        let pool = Pool {
            mode: Mode::File(Arc::new(FileConnections {
                id: POOL_IDS.fetch_add(1, Ordering::Relaxed),
                url,
                pragmas,
                writer,
                alive,
                readers_open: Arc::new(AtomicU32::new(0)),
            })),
        };
        Ok((pool, wal))
    }

    pub(crate) fn memory(pragmas: Pragmas, connect_timeout: Duration) -> Pool {
        let one = R2d2::builder()
            .max_size(1)
            .min_idle(Some(0))
            .idle_timeout(None)
            .max_lifetime(None)
            .connection_timeout(connect_timeout)
            .error_handler(Box::new(TracingErrorSink))
            .connection_customizer(Box::new(pragmas))
            .build_unchecked(ConnectionManager::new(":memory:"));
        Pool {
            mode: Mode::Memory(one),
        }
    }

    pub(crate) fn usage(&self) -> Usage {
        match &self.mode {
            Mode::File(f) => Usage {
                readers: f.readers_open.load(Ordering::Relaxed),
            },
            Mode::Memory(p) => Usage {
                readers: p.state().connections,
            },
        }
    }

    /// Runs `f` on this thread's reader connection (opened on first use).
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, RepositoryError> + Send + 'static,
    ) -> Result<T, RepositoryError> {
        match &self.mode {
            Mode::Memory(pool) => on_blocking_pool(pool.clone(), f).await,
            Mode::File(files) => READERS.with(|readers| {
                let mut readers = readers
                    .try_borrow_mut()
                    .map_err(|_| RepositoryError::other("a nested SQLite read"))?;
                // Close the connections of databases that are gone.
                readers.retain(|_, (alive, _)| alive.strong_count() > 0);
                let conn = match readers.entry(files.id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let conn = files.pragmas.open(&files.url)?;
                        files.readers_open.fetch_add(1, Ordering::Relaxed);
                        let reader = Reader {
                            conn,
                            count: files.readers_open.clone(),
                        };
                        e.insert((Arc::downgrade(&files.alive), reader))
                    }
                };
                f(&mut conn.1.conn)
            }),
        }
    }

    /// Runs `f` in the writer's next group (its own savepoint inside `BEGIN IMMEDIATE …
    /// COMMIT`); the result comes after the commit.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, RepositoryError> + Send + 'static,
    ) -> Result<T, RepositoryError> {
        match &self.mode {
            Mode::Memory(pool) => {
                on_blocking_pool(pool.clone(), move |c| {
                    c.immediate_transaction::<_, TxError, _>(|c| Ok(f(c)?))
                        .map_err(RepositoryError::from)
                })
                .await
            }
            Mode::File(files) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let job = Job {
                    work: Some(f),
                    result: None,
                    reply,
                };
                files
                    .writer
                    .send(Box::new(job))
                    .map_err(|_| RepositoryError::other("the SQLite writer has stopped"))?;
                answer
                    .await
                    .map_err(|_| RepositoryError::other("the SQLite writer has stopped"))?
            }
        }
    }

    /// Runs `f` on the writer thread outside any transaction (migrations manage their own).
    pub(crate) async fn exclusive<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, RepositoryError> + Send + 'static,
    ) -> Result<T, RepositoryError> {
        match &self.mode {
            Mode::Memory(pool) => on_blocking_pool(pool.clone(), f).await,
            Mode::File(files) => {
                // A dedicated connection: the writer's sits inside group transactions.
                let (url, pragmas) = (files.url.clone(), files.pragmas.clone());
                tokio::task::spawn_blocking(move || {
                    let mut conn = pragmas.open(&url)?;
                    f(&mut conn)
                })
                .await
                .map_err(|e| RepositoryError::other(format!("a database task failed: {e}")))?
            }
        }
    }
}

/// A thread's reader connection, counted while open (for metrics).
struct Reader {
    conn: Conn,
    count: Arc<AtomicU32>,
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn on_blocking_pool<T: Send + 'static>(
    pool: R2d2,
    f: impl FnOnce(&mut Conn) -> Result<T, RepositoryError> + Send + 'static,
) -> Result<T, RepositoryError> {
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| {
            tracing::warn!(error = %e, "no database connection available");
            RepositoryError::unavailable(e)
        })?;
        f(&mut conn)
    })
    .await
    .map_err(|e| RepositoryError::other(format!("a database task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use diesel::sql_types::{BigInt, Integer};
    use diesel::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(c: &mut Conn, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(c)
            .map(|r| r.n)
            .unwrap()
    }

    /// Jobs queued behind a slow one commit together; a failing job (or a panicking one) is
    /// rolled back alone and its caller hears its own error; the others' rows are there, and
    /// a reader on another thread sees them once their callers have heard back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_commits_together_and_fails_job_by_job() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("g.db").display().to_string();
        let pool = Pool::file(
            url,
            Pragmas {
                busy_timeout: Duration::from_secs(5),
            },
        )
        .unwrap();
        pool.write(|c| {
            c.batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
                .map_err(RepositoryError::other)
        })
        .await
        .unwrap();
        // Holds the writer while the others queue up.
        let slow = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.write(|c| {
                    std::thread::sleep(Duration::from_millis(200));
                    diesel::sql_query("INSERT INTO t (n) VALUES (-1)")
                        .execute(c)
                        .map_err(RepositoryError::other)
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let jobs: Vec<_> = (0..60)
            .map(|i: i32| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.write(move |c| {
                        diesel::sql_query("INSERT INTO t (n) VALUES (?)")
                            .bind::<Integer, _>(i)
                            .execute(c)
                            .map_err(RepositoryError::other)?;
                        match i % 10 {
                            3 => Err(RepositoryError::Conflict(format!("job {i}"))),
                            7 => panic!("job {i} panics"),
                            _ => Ok(i),
                        }
                    })
                    .await
                })
            })
            .collect();
        slow.await.unwrap().unwrap();
        for (i, job) in jobs.into_iter().enumerate() {
            let result = job.await.unwrap();
            match i % 10 {
                3 => assert!(
                    matches!(&result, Err(RepositoryError::Conflict(m)) if m == &format!("job {i}")),
                    "{i}: {result:?}"
                ),
                7 => assert!(matches!(result, Err(RepositoryError::Other(_))), "{i}"),
                _ => assert_eq!(result.unwrap(), i as i32),
            }
        }
        let rows = pool
            .read(|c| Ok(count(c, "SELECT count(*) AS n FROM t")))
            .await
            .unwrap();
        assert_eq!(rows, 1 + 60 - 12, "the failed jobs' rows were rolled back");
        let failed = pool
            .read(|c| {
                Ok(count(
                    c,
                    "SELECT count(*) AS n FROM t WHERE n % 10 IN (3, 7)",
                ))
            })
            .await
            .unwrap();
        assert_eq!(failed, 0);
    }

    /// Readers and the writer map the database file (reads without a copy per page).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_map_the_database_file() {
        #[derive(diesel::QueryableByName)]
        struct Size {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            mmap_size: i64,
        }
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::file(
            dir.path().join("m.db").display().to_string(),
            Pragmas {
                busy_timeout: Duration::from_secs(5),
            },
        )
        .unwrap();
        let query = |c: &mut Conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("PRAGMA mmap_size")
                .get_result::<Size>(c)
                .map(|s| s.mmap_size)
                .map_err(RepositoryError::other)
        };
        assert_eq!(pool.read(query).await.unwrap(), MMAP_BYTES as i64);
        assert_eq!(pool.write(query).await.unwrap(), MMAP_BYTES as i64);
    }

    /// The bundled SQLite is built in multi-thread mode (`.cargo/config.toml`): no mutex
    /// around each call of a connection, which Rust's `Send`-but-not-`Sync` connections
    /// make unnecessary.
    #[test]
    fn connections_run_in_multi_thread_mode() {
        #[derive(diesel::QueryableByName)]
        struct Opt {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut c = Conn::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<Opt>(&mut c)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(
            options.iter().any(|o| o == "THREADSAFE=2"),
            "compiled with {options:?}"
        );
    }

    /// Under writes that never pause, the log is still restarted (by the writer, between
    /// two groups, when the checkpointer asks), and no write is lost meanwhile. Before, the
    /// checkpointer's own RESTART starved behind the writer and the log only grew.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_restarts_under_writes_that_never_pause() {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap();
        let (pool, wal) = Pool::file_with(
            dir.path().join("w.db").display().to_string(),
            Pragmas {
                busy_timeout: Duration::from_secs(5),
            },
            64,
        )
        .unwrap();
        pool.write(|c| {
            c.batch_execute("CREATE TABLE t (b BLOB NOT NULL)")
                .map_err(RepositoryError::other)
        })
        .await
        .unwrap();
        // Eight callers, each sending its next row as soon as the last one is committed, so
        // the writer always has a group waiting; and a reader reading all along.
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (pool, stop) = (pool.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut written = 0i64;
                    while !stop.load(Ordering::Relaxed) {
                        pool.write(|c| {
                            diesel::sql_query("INSERT INTO t (b) VALUES (randomblob(200))")
                                .execute(c)
                                .map_err(RepositoryError::other)
                        })
                        .await
                        .unwrap();
                        written += 1;
                    }
                    written
                })
            })
            .collect();
        let reader = {
            let (pool, stop) = (pool.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    pool.read(|c| Ok(count(c, "SELECT count(*) AS n FROM t")))
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                }
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while wal.restarts.load(Ordering::Relaxed) < 3 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::Relaxed);
        let mut written = 0;
        for w in writers {
            written += w.await.unwrap();
        }
        reader.await.unwrap();
        let restarts = wal.restarts.load(Ordering::Relaxed);
        assert!(restarts >= 3, "{restarts} restarts in 60 s of writes");
        let stored = pool
            .read(|c| Ok(count(c, "SELECT count(*) AS n FROM t")))
            .await
            .unwrap();
        assert_eq!(stored, written);
    }

    /// The writer never checkpoints, the checkpointer does: rows written reach the database
    /// file itself (not only the write-ahead log) shortly after.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_moves_the_log_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let pool = Pool::file(
            path.display().to_string(),
            Pragmas {
                busy_timeout: Duration::from_secs(5),
            },
        )
        .unwrap();
        pool.write(|c| {
            c.batch_execute("CREATE TABLE t (v BLOB NOT NULL)")
                .map_err(RepositoryError::other)
        })
        .await
        .unwrap();
        for _ in 0..50 {
            pool.write(|c| {
                c.batch_execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
                     INSERT INTO t (v) SELECT randomblob(200) FROM n",
                )
                .map_err(RepositoryError::other)
            })
            .await
            .unwrap();
        }
        // 5,000 rows × 200 bytes: about 1 MiB of pages, first in the log.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if size > 900_000 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {size} bytes: nothing was checkpointed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A pool's reader connections close when the pool is gone (at the thread's next read).
    #[tokio::test(flavor = "current_thread")]
    async fn readers_of_a_dropped_pool_are_closed() {
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str| {
            Pool::file(
                dir.path().join(name).display().to_string(),
                Pragmas {
                    busy_timeout: Duration::from_secs(5),
                },
            )
            .unwrap()
        };
        let first = open("a.db");
        first.read(|_| Ok(())).await.unwrap();
        assert_eq!(first.usage().readers, 1);
        let counter = match &first.mode {
            Mode::File(f) => f.readers_open.clone(),
            Mode::Memory(_) => unreachable!(),
        };
        drop(first);
        let second = open("b.db");
        second.read(|_| Ok(())).await.unwrap();
        assert_eq!(
            counter.load(Ordering::Relaxed),
            0,
            "a.db's reader was closed"
        );
        assert_eq!(second.usage().readers, 1);
    }
}
