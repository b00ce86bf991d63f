//! The benchmark suite of issue 12, run by `scripts/bench` (which builds the release binary,
//! installs `wrk` and checks `pgbench` first).
//!
//! For each backend (SQLite, then PostgreSQL) it seeds the rows straight through the store in
//! batches (sealed with the real vault, across 100 accounts, one API key each), starts the real
//! release server as a child process, and drives each endpoint with `wrk` (32 connections by
//! default). The ceilings come from the same run: `GET /healthz` (HTTP, for SQLite) and
//! `pgbench -S` / `pgbench -N` at the same concurrency (PostgreSQL). Then `--rows` may name
//! larger sizes: the table grows in place and GET by id and a list page deep in the keyset are
//! measured again (the growth run). Last, `--verifies` concurrent verifications against a local
//! provider that answers after 1 s, with `/healthz` probed meanwhile. The server's RSS is read
//! from `/proc` at each step.
//!
//! Prints one Markdown table (also written to `target/bench/latest.md`).
//!
//! `--rounds N` repeats the ceilings and the endpoint runs N times, interleaved (ceilings, then
//! each endpoint, then again), and reports each line's median with the range of its ratios: on
//! a shared machine a ceiling measured a minute earlier can be 20 % off.
//!
//! `cargo bench -p integrations-e2e --bench suite -- [--rows 10000[,1000000]] [--duration 8]
//!  [--connections 32] [--backends sqlite,postgres] [--verifies 1000] [--only get,list,deep,post]
//!  [--rounds 1]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use actix_web::{web, App, HttpResponse, HttpServer};
use integrations_cloud_storage::testing::S3sFs;
use integrations_domain::credentials::sample_input;
use integrations_domain::credentials::SealedDefaults;
use integrations_domain::integration::now_millis;
use integrations_domain::{
    AccountName, CredentialVault, Credentials, IntegrationId, IntegrationRecord, Label, Position,
    Provider, Scopes, SealContext,
};
use integrations_server::app::{access_service, checked_vault, load_key_ring, open_store};
use integrations_server::Settings;
use integrations_store::testing::FreshPostgres;
use integrations_store::Store;
use serde_json::json;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 100;
/// Rows sealed and inserted per store call while seeding.
const SEED_BATCH: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

struct Args {
    rows: Vec<usize>,
    duration: u64,
    connections: u32,
    threads: u32,
    backends: Vec<Backend>,
    verifies: usize,
    /// Only these runs (`get`, `list`, `deep`, `post`); all when empty (profiling one path).
    only: Vec<String>,
    /// Concurrent 25 MiB exports through the server, against the same uploads made directly
    /// (SQLite run only; 0 = skip).
    uploads: usize,
    /// Time a master-key rotation (`--no-rewrap` skips it).
    rewrap: bool,
    /// Rounds of ceilings + endpoint runs; each line reports the median.
    rounds: usize,
}

impl Args {
    fn runs(&self, kind: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == kind)
    }
}

fn parse_args() -> Args {
    let mut args = Args {
        rows: vec![10_000],
        duration: 8,
        connections: 32,
        threads: 2,
        backends: vec![Backend::Sqlite, Backend::Postgres],
        verifies: 1_000,
        only: Vec::new(),
        uploads: 16,
        rewrap: true,
        rounds: 1,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut it = raw.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
                .clone()
        };
        match flag.as_str() {
            "--rows" => {
                args.rows = value()
                    .split(',')
                    .map(|n| n.replace('_', "").parse().expect("--rows: numbers"))
                    .collect();
                args.rows.sort_unstable();
            }
            "--duration" => args.duration = value().parse().expect("--duration: seconds"),
            "--connections" => args.connections = value().parse().expect("--connections"),
            "--threads" => args.threads = value().parse().expect("--threads"),
            "--verifies" => args.verifies = value().parse().expect("--verifies"),
            "--only" => args.only = value().split(',').map(str::to_owned).collect(),
            "--uploads" => args.uploads = value().parse().expect("--uploads"),
            "--no-rewrap" => args.rewrap = false,
            "--rounds" => {
                args.rounds = value().parse().expect("--rounds: a number");
                assert!(args.rounds > 0, "--rounds: at least 1");
            }
            "--backends" => {
                args.backends = value()
                    .split(',')
                    .map(|b| match b {
                        "sqlite" => Backend::Sqlite,
                        "postgres" => Backend::Postgres,
                        other => panic!("--backends: unknown backend {other}"),
                    })
                    .collect()
            }
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

/// One line of the table.
struct Line {
    backend: &'static str,
    what: String,
    rows: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The ceiling's name and (median) rate.
    ceiling: Option<(&'static str, f64)>,
    /// The median of the ratios to each round's own ceiling, and with several rounds their
    /// lowest and highest.
    ratio: Option<(f64, Option<(f64, f64)>)>,
    errors: u64,
    rss_mib: f64,
}

/// One run of one line in one round.
struct Sample {
    r: WrkResult,
    ceiling: Option<(&'static str, f64)>,
    rss_mib: f64,
}

/// The median of `xs` (the mean of the middle two for an even count).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

impl Line {
    /// The line of `samples` (one per round): medians, errors summed, the ratio's range.
    fn of(backend: &'static str, what: &str, rows: usize, samples: &[Sample]) -> Line {
        let ratios: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.ceiling.map(|(_, c)| s.r.rps / c))
            .collect();
        let ceiling = samples.first().and_then(|s| s.ceiling).map(|(name, _)| {
            (
                name,
                median(
                    samples
                        .iter()
                        .filter_map(|s| s.ceiling.map(|c| c.1))
                        .collect(),
                ),
            )
        });
        Line {
            backend,
            what: what.to_owned(),
            rows,
            rps: median(samples.iter().map(|s| s.r.rps).collect()),
            p50_ms: median(samples.iter().map(|s| s.r.p50_ms).collect()),
            p99_ms: median(samples.iter().map(|s| s.r.p99_ms).collect()),
            ceiling,
            ratio: (!ratios.is_empty()).then(|| {
                let range = (ratios.len() > 1).then(|| {
                    (
                        ratios.iter().copied().fold(f64::INFINITY, f64::min),
                        ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    )
                });
                (median(ratios.clone()), range)
            }),
            errors: samples.iter().map(|s| s.r.errors).sum(),
            rss_mib: samples.iter().map(|s| s.rss_mib).fold(0.0, f64::max),
        }
    }
}

/// What wrk printed, parsed.
struct WrkResult {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rss_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// A wrk duration (`812.00us`, `1.23ms`, `2.01s`) in milliseconds.
fn wrk_ms(text: &str) -> f64 {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * factor
}

fn parse_wrk(out: &str) -> WrkResult {
    let mut result = WrkResult {
        rps: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
    };
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => result.rps = n.parse().unwrap_or(f64::NAN),
            ["50%", t] => result.p50_ms = wrk_ms(t),
            ["99%", t] => result.p99_ms = wrk_ms(t),
            ["Non-2xx", "or", "3xx", "responses:", n] => result.errors += n.parse().unwrap_or(0),
            ["Socket", "errors:", ..] => {
                result.errors += words
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    result
}

/// The wrk scripts: each picks its target at random from a file of `key id` lines.
const LUA_COMMON: &str = r#"
local targets = {}
for line in io.lines(os.getenv("BENCH_TARGETS")) do
  local key, id = line:match("(%S+) (%S+)")
  targets[#targets + 1] = { key = key, id = id }
end
math.randomseed(os.time())
local function pick() return targets[math.random(#targets)] end
"#;

fn lua_for(kind: &str) -> String {
    let request = match kind {
        "get" => {
            r#"request = function()
  local t = pick()
  return wrk.format("GET", "/integration/" .. t.id, { ["Authorization"] = "Bearer " .. t.key })
end"#
        }
        "list" => {
            r#"request = function()
  local t = pick()
  return wrk.format("GET", "/integration?limit=20", { ["Authorization"] = "Bearer " .. t.key })
end"#
        }
        "deep" => {
            r#"request = function()
  local t = pick()
  return wrk.format("GET", "/integration?limit=20&cursor=" .. t.id, { ["Authorization"] = "Bearer " .. t.key })
end"#
        }
        "post" => {
            r#"local n = 0
request = function()
  local t = pick()
  n = n + 1
  local body = '{"label":"bench ' .. n .. '","provider":"zendesk","platform":"helpcenter",' ..
    '"credentials":{"username":"agent@example.org","token":"bench-token-' .. n .. '","subdomain":"acme"}}'
  return wrk.format("POST", "/integration", { ["Authorization"] = "Bearer " .. t.key,
    ["Content-Type"] = "application/json" }, body)
end"#
        }
        _ => "",
    };
    format!("{LUA_COMMON}\n{request}\n")
}

struct Wrk<'a> {
    args: &'a Args,
    dir: &'a Path,
    base: String,
}

impl Wrk<'_> {
    fn run(&self, path: &str, kind: Option<&str>, targets: Option<&Path>) -> WrkResult {
        let mut cmd = Command::new("wrk");
        cmd.arg(format!("-t{}", self.args.threads))
            .arg(format!("-c{}", self.args.connections))
            .arg(format!("-d{}s", self.args.duration))
            .arg("--latency")
            .arg("--timeout")
            .arg("10s");
        if let Some(kind) = kind {
            let script = self.dir.join(format!("{kind}.lua"));
            std::fs::write(&script, lua_for(kind)).unwrap();
            cmd.arg("-s").arg(script);
        }
        if let Some(targets) = targets {
            cmd.env("BENCH_TARGETS", targets);
        }
        cmd.arg(format!("{}{path}", self.base));
        let out = cmd.output().expect("wrk (scripts/bench installs it)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            panic!(
                "wrk failed: {}\n{text}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        parse_wrk(&text)
    }
}

/// `pgbench -S` and `-N` at the suite's concurrency, on a database of their own.
fn pgbench_ceilings(args: &Args, admin_url: &str) -> (f64, f64) {
    let db = "integrations_pgbench";
    let url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL");
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port().unwrap_or(5432).to_string();
    let user = if url.username().is_empty() {
        "postgres".to_owned()
    } else {
        url.username().to_owned()
    };
    let base = |cmd: &str| {
        let mut c = Command::new(cmd);
        c.args(["-h", &host, "-p", &port, "-U", &user]);
        c
    };
    let _ = base("dropdb").args(["--if-exists", db]).status();
    let created = base("createdb").arg(db).status().expect("createdb");
    assert!(created.success(), "createdb {db}");
    let init = base("pgbench")
        .args(["-i", "-q", "-s", "10", db])
        .output()
        .expect("pgbench (PostgreSQL's client tools)");
    assert!(init.status.success(), "pgbench -i");
    let run = |mode: &str| {
        let out = base("pgbench")
            .args([
                mode,
                "-c",
                &args.connections.to_string(),
                "-j",
                &args.threads.to_string(),
                "-T",
                &args.duration.to_string(),
                db,
            ])
            .output()
            .expect("pgbench");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find(|l| l.starts_with("tps = "))
            .and_then(|l| l.split_whitespace().nth(2))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("pgbench {mode}: {text}"))
    };
    let select = run("-S");
    let write = run("-N");
    let _ = base("dropdb").args(["--if-exists", db]).status();
    (select, write)
}

/// A Zendesk stand-in answering `users/me` after `delay`.
fn slow_zendesk(delay: Duration) -> String {
    // Listening with the server's backlog (4,096): actix's `.backlog()` only applies to the
    // sockets it binds itself, and std's bind listens with 128, so the burst's 1,000
    // connections to this provider overflowed it and the dropped ones retried after the
    // kernel's 1 s SYN timeout (a first burst measured 2.07 s instead of 1.2).
    let listener = integrations_server::app::listen("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new().route(
            "/api/v2/users/me.json",
            web::get().to(move || async move {
                tokio::time::sleep(delay).await;
                HttpResponse::Ok().json(json!({"user": {"id": 1, "role": "agent",
                                               "email": "agent@example.org"}}))
            }),
        )
    })
    .workers(1)
    .max_connections(100_000)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

/// The server's environment: limits off (the suite measures capacity, not the limiter), logs
/// at warn, the slow provider for Zendesk.
fn server_env(
    database_url: &str,
    dir: &Path,
    port: u16,
    zendesk: &str,
    s3: &str,
) -> Vec<(String, String)> {
    [
        ("INTEGRATIONS__SERVER__BIND", format!("127.0.0.1:{port}")),
        ("INTEGRATIONS__DATABASE__URL", database_url.to_owned()),
        (
            "INTEGRATIONS__VAULT__MASTER_KEY_FILE",
            dir.join("master.key").display().to_string(),
        ),
        ("INTEGRATIONS__LIMITS__REQUESTS_PER_MINUTE", "0".into()),
        ("INTEGRATIONS__LIMITS__OUTBOUND_PER_MINUTE", "0".into()),
        (
            "INTEGRATIONS__LIMITS__OUTBOUND_CONCURRENCY_PER_ACCOUNT",
            "0".into(),
        ),
        ("INTEGRATIONS__LOGGING__FILTER", "warn".into()),
        // As many database connections as load connections (and as pgbench's clients).
        ("INTEGRATIONS__DATABASE__MAX_CONNECTIONS", "32".into()),
        (
            "INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS",
            "true".into(),
        ),
        (
            "INTEGRATIONS__PROVIDERS__ZENDESK__BASE_URL",
            zendesk.to_owned(),
        ),
        ("INTEGRATIONS__PROVIDERS__S3__BASE_URL", s3.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The seeded data the load scripts need.
struct Seeded {
    /// One API key per account.
    keys: Vec<String>,
    account_ids: Vec<integrations_domain::AccountId>,
    /// Ids per account, in creation order.
    ids: Vec<Vec<(IntegrationId, time::OffsetDateTime)>>,
    rows: usize,
}

/// The store and vault the rows are sealed and inserted with.
async fn seeding_store(settings: &Settings) -> (Arc<Store>, Arc<dyn CredentialVault>) {
    let store = Arc::new(open_store(settings).await.unwrap());
    let ring = load_key_ring(settings, &store).await.unwrap();
    let vault: Arc<dyn CredentialVault> = checked_vault(&store, ring).await.unwrap();
    (store, vault)
}

async fn seed_keys(settings: &Settings, store: Arc<Store>) -> Seeded {
    let access = access_service(settings, store);
    let mut keys = Vec::new();
    let mut account_ids = Vec::new();
    for a in 0..ACCOUNTS {
        let name = AccountName::parse(&format!("bench-{a:03}")).unwrap();
        let (key, record) = access
            .create_key(&name, Scopes::DEFAULT, Some("bench".into()))
            .await
            .unwrap();
        keys.push(key.expose().to_owned());
        account_ids.push(record.account_id);
    }
    Seeded {
        keys,
        account_ids,
        ids: vec![Vec::new(); ACCOUNTS],
        rows: 0,
    }
}

/// Adds rows until the table holds `target` (round-robin over the accounts, providers cycling,
/// creation times 1 ms apart and in the past).
async fn seed_rows(
    store: &Store,
    vault: &Arc<dyn CredentialVault>,
    seeded: &mut Seeded,
    target: usize,
) {
    let started = Instant::now();
    let base = now_millis() - time::Duration::days(30);
    let credentials: Vec<Credentials> = Provider::ALL
        .iter()
        .map(|p| Credentials::parse(*p, &sample_input(*p), SealedDefaults::None).unwrap())
        .collect();
    let from = seeded.rows;
    while seeded.rows < target {
        let n = SEED_BATCH.min(target - seeded.rows);
        let mut batch = Vec::with_capacity(n);
        for i in seeded.rows..seeded.rows + n {
            let account = i % ACCOUNTS;
            let creds = &credentials[i % credentials.len()];
            let id = IntegrationId::new();
            let context = SealContext {
                account_id: seeded.account_ids[account],
                integration_id: id,
                provider: creds.provider(),
            };
            let sealed = vault.seal(&context, &creds.secret_fields()).await.unwrap();
            let at = base + time::Duration::milliseconds(i as i64);
            batch.push(IntegrationRecord {
                id,
                account_id: seeded.account_ids[account],
                label: Label::parse(&format!("seeded {i}")).unwrap(),
                provider: creds.provider(),
                public_fields: creds.public_fields(),
                sealed,
                created_at: at,
                updated_at: at,
                last_verification: None,
            });
            seeded.ids[account].push((id, at));
        }
        store.insert_many(&batch).await.unwrap();
        seeded.rows += n;
    }
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {} rows in {took:.1} s ({:.0} rows/s)",
        target - from,
        (target - from) as f64 / took.max(1e-9)
    );
}

/// `key id` lines for GET by id: 2,000 random rows.
fn write_get_targets(seeded: &Seeded, path: &Path) {
    let mut out = String::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..2_000 {
        // xorshift: reproducible spread without a dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let account = (state % ACCOUNTS as u64) as usize;
        let ids = &seeded.ids[account];
        let (id, _) = ids[(state >> 8) as usize % ids.len()];
        writeln!(out, "{} {}", seeded.keys[account], id).unwrap();
    }
    std::fs::write(path, out).unwrap();
}

/// `key cursor` lines: each account's cursor at the middle of its keyset.
fn write_deep_targets(seeded: &Seeded, path: &Path) {
    let mut out = String::new();
    for (account, ids) in seeded.ids.iter().enumerate() {
        let (id, at) = ids[ids.len() / 2];
        let cursor = Position {
            at,
            id: *id.as_uuid(),
        }
        .to_cursor("v1");
        writeln!(out, "{} {cursor}", seeded.keys[account]).unwrap();
    }
    std::fs::write(path, out).unwrap();
}

fn write_key_targets(seeded: &Seeded, path: &Path) {
    let out: String = seeded.keys.iter().map(|k| format!("{k} -\n")).collect();
    std::fs::write(path, out).unwrap();
}

struct Running {
    child: Child,
    base: String,
}

impl Running {
    async fn start(env: &[(String, String)], port: u16) -> Running {
        let bin = server_bin();
        let child = Command::new(&bin)
            .arg("serve")
            .current_dir(workspace_root())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            // The allocator's own options (e.g. MIMALLOC_ALLOW_THP=0), to compare settings.
            .envs(std::env::vars().filter(|(k, _)| k.starts_with("MIMALLOC_")))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (scripts/bench builds it)", bin.display()));
        let running = Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/readyz", running.base)).send().await {
                if r.status().is_success() {
                    return running;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        running.stop();
        panic!("the server did not become ready");
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A panicking suite does not leave its server running.
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What one verify burst measured.
struct Burst {
    n: usize,
    ok: usize,
    secs: f64,
    probes: usize,
    failed: usize,
    /// `/healthz` p99 during the burst, ms.
    p99: f64,
    /// The slowest probe (ms) and when it was sent (ms after the burst began).
    worst: (f64, f64),
    peak: Peak,
}

impl Burst {
    fn describe(&self) -> String {
        let Burst {
            n,
            ok,
            secs,
            probes,
            failed,
            p99,
            worst: (slowest, sent),
            peak,
        } = self;
        format!(
            "{ok}/{n} verifications succeeded in {secs:.2} s (target < 2 s); /healthz meanwhile: \
             {probes} probes, {failed} failed, p99 {p99:.1} ms (target < 50 ms), slowest \
             {slowest:.1} ms sent {sent:.0} ms in; server RSS peak {peak} (target < 200 MiB)"
        )
    }
}

/// One line for the bursts of a backend: each burst's figures, and with several their medians.
fn bursts_note(bursts: &[Burst]) -> String {
    match bursts {
        [one] => one.describe(),
        _ => {
            let each: Vec<String> = bursts
                .iter()
                .enumerate()
                .map(|(i, b)| format!("burst {}: {}", i + 1, b.describe()))
                .collect();
            format!(
                "{} bursts, medians: {:.2} s (target < 2 s), /healthz p99 {:.1} ms (target < 50 ms); \
                 highest RSS peak {}\n  {}",
                bursts.len(),
                median(bursts.iter().map(|b| b.secs).collect()),
                median(bursts.iter().map(|b| b.p99).collect()),
                bursts
                    .iter()
                    .map(|b| b.peak)
                    .fold(Peak::default(), Peak::max),
                each.join("\n  ")
            )
        }
    }
}

/// `--verifies` verifications at once against a provider answering after 1 s.
async fn verify_burst(base: &str, key: &str, n: usize, pid: u32) -> Burst {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let body = json!({"provider": "zendesk", "platform": "helpcenter", "credentials": {
        "username": "agent@example.org", "token": "load-test-token", "subdomain": "acme"}});
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(std::sync::Mutex::new(Peak::default()));
    let probe = health_probe(base, done.clone(), peak.clone(), pid);
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, body) = (client.clone(), body.clone());
            let url = format!("{base}/integration/verify");
            let key = key.to_owned();
            tokio::spawn(async move {
                match client.post(url).bearer_auth(key).json(&body).send().await {
                    Ok(r) => r
                        .json::<serde_json::Value>()
                        .await
                        .is_ok_and(|v| v["isConnectionSuccessful"] == true),
                    Err(_) => false,
                }
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap_or(false) {
            ok += 1;
        }
    }
    let total = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let mut probes = probe.join().unwrap();
    probes.sort_by_key(|(_, took, _)| *took);
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let failed = probes.iter().filter(|(_, _, ok)| !ok).count();
    let p99 = probes
        .get(probes.len().saturating_mul(99) / 100)
        .map_or(0.0, |(_, took, _)| ms(took));
    // The slowest probe and when it was sent: at the burst's start (its requests arriving) or
    // about 1 s in (the provider's answers and their audit events).
    let worst = probes
        .last()
        .map_or((0.0, 0.0), |(at, took, _)| (ms(took), ms(at)));
    let peak = peak.lock().map_or(Peak::default(), |p| *p);
    Burst {
        n,
        ok,
        secs: total.as_secs_f64(),
        probes: probes.len(),
        failed,
        p99,
        worst,
        peak,
    }
}

/// Probes `GET /healthz` every 10 ms until `done`, from a thread of its own over a blocking
/// keep-alive socket, sampling the server's RSS after each probe. Each sample is (when it
/// started, since the probe began; how long the answer took; whether it was a 200). A thread of
/// its own because the bench's runtime is busy sending the burst and reading its answers: a
/// probe task there would time its own wait for a worker, not the server.
fn health_probe(
    base: &str,
    done: Arc<AtomicBool>,
    peak: Arc<std::sync::Mutex<Peak>>,
    pid: u32,
) -> std::thread::JoinHandle<Vec<(Duration, Duration, bool)>> {
    let addr = base.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        let began = Instant::now();
        let mut samples = Vec::new();
        let mut stream: Option<BufReader<TcpStream>> = None;
        while !done.load(Ordering::SeqCst) {
            let t = Instant::now();
            let ok = probe_once(&addr, &mut stream);
            if !ok {
                stream = None;
            }
            samples.push((t - began, t.elapsed(), ok));
            if let Ok(mut p) = peak.lock() {
                p.sample(pid);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        samples
    })
}

/// One `GET /healthz` over the kept-alive connection (opened when there is none): true for a
/// complete 200 answer.
fn probe_once(addr: &str, stream: &mut Option<BufReader<TcpStream>>) -> bool {
    let reader = match stream {
        Some(reader) => reader,
        None => {
            let Ok(s) = TcpStream::connect(addr) else {
                return false;
            };
            let _ = s.set_nodelay(true);
            let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
            stream.insert(BufReader::new(s))
        }
    };
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    if reader.get_mut().write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut status = String::new();
    if reader.read_line(&mut status).is_err() {
        return false;
    }
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).is_ok() && status.starts_with("HTTP/1.1 200")
}

const UPLOAD_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const UPLOAD_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const UPLOAD_MIB: usize = 25;

/// Polls a process's RSS every 10 ms until `done`; the highest value seen, in MiB.
/// The highest RSS seen, and the highest anonymous part of it (the heap and stacks; the rest
/// is file-backed: the binary and, on SQLite, the database file its connections map, which
/// are pages of the OS page cache, shared and reclaimable).
#[derive(Clone, Copy, Default)]
struct Peak {
    rss: f64,
    anon: f64,
}

impl Peak {
    fn sample(&mut self, pid: u32) {
        self.rss = self.rss.max(rss_mib(pid, "VmRSS:"));
        self.anon = self.anon.max(rss_mib(pid, "RssAnon:"));
    }

    fn max(self, other: Peak) -> Peak {
        Peak {
            rss: self.rss.max(other.rss),
            anon: self.anon.max(other.anon),
        }
    }
}

impl std::fmt::Display for Peak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} MiB ({:.0} MiB anonymous)", self.rss, self.anon)
    }
}

fn watch_rss(pid: u32, done: Arc<AtomicBool>) -> tokio::task::JoinHandle<Peak> {
    tokio::spawn(async move {
        let mut peak = Peak::default();
        while !done.load(Ordering::SeqCst) {
            peak.sample(pid);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        peak
    })
}

/// `n` concurrent 25 MiB PNG exports through the server (PUT /integration/{id}/objects/…),
/// then the same uploads straight to the same S3 server with aws-sdk-s3, twice each
/// alternating; throughput of each and the server's peak RSS during its uploads.
async fn upload_burst(base: &str, key: &str, s3: &S3sFs, n: usize, pid: u32) -> String {
    s3.create_bucket("bench-exports");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let created = client
        .post(format!("{base}/integration"))
        .bearer_auth(key)
        .json(
            &json!({"label": "bench export", "provider": "s3", "credentials": {
            "bucket": "bench-exports", "accessKeyId": UPLOAD_KEY,
            "secretAccessKey": UPLOAD_SECRET, "region": "us-east-1"}}),
        )
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let id = created["id"]
        .as_str()
        .expect("an S3 integration")
        .to_owned();
    let mut body = b"\x89PNG\r\n\x1a\n".to_vec();
    body.resize(UPLOAD_MIB * 1024 * 1024, 7);
    let body = bytes::Bytes::from(body);
    let direct = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            // The same HTTP client the service's adapter is built on (rustls, ring).
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                UPLOAD_KEY,
                UPLOAD_SECRET,
                None,
                None,
                "bench",
            ))
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(s3.endpoint())
            .force_path_style(true)
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .build(),
    );
    let total_mib = (n * UPLOAD_MIB) as f64;
    let mut through_server = Vec::new();
    let mut straight = Vec::new();
    let mut peak = Peak::default();
    let mut failures = 0;
    for round in 0..3 {
        // Round 0 warms both paths up (connections, the bucket check's cache); not counted.
        let done = Arc::new(AtomicBool::new(false));
        let watcher = watch_rss(pid, done.clone());
        let started = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (client, body) = (client.clone(), body.clone());
                let url = format!("{base}/integration/{id}/objects/round{round}/{i}.png");
                let key = key.to_owned();
                tokio::spawn(async move {
                    match client
                        .put(url)
                        .bearer_auth(key)
                        .header("content-type", "image/png")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => true,
                        Ok(r) => {
                            let status = r.status();
                            eprintln!(
                                "export failed: {status} {}",
                                r.text().await.unwrap_or_default()
                            );
                            false
                        }
                        Err(e) => {
                            eprintln!("export failed: {e}");
                            false
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            if !t.await.unwrap_or(false) {
                failures += 1;
            }
        }
        let server_secs = started.elapsed().as_secs_f64();
        done.store(true, Ordering::SeqCst);
        let round_peak = watcher.await.unwrap_or_default();
        let started = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (direct, body) = (direct.clone(), body.clone());
                tokio::spawn(async move {
                    direct
                        .put_object()
                        .bucket("bench-exports")
                        .key(format!("direct/round{round}/{i}.png"))
                        .content_type("image/png")
                        .body(aws_sdk_s3::primitives::ByteStream::from(body))
                        .send()
                        .await
                        .map_err(|e| {
                            eprintln!(
                                "direct upload failed: {}",
                                aws_sdk_s3::error::DisplayErrorContext(&e)
                            )
                        })
                        .is_ok()
                })
            })
            .collect();
        for t in tasks {
            if !t.await.unwrap_or(false) {
                failures += 1;
            }
        }
        let direct_secs = started.elapsed().as_secs_f64();
        if round > 0 {
            through_server.push(total_mib / server_secs);
            straight.push(total_mib / direct_secs);
            peak = peak.max(round_peak);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (a, b) = (mean(&through_server), mean(&straight));
    format!(
        "{n} concurrent {UPLOAD_MIB} MiB exports: {a:.0} MiB/s through the server vs {b:.0} MiB/s \
         straight to the same S3 server with aws-sdk-s3 = {:.2}× (target ≥ 0.7×); server RSS \
         peak {peak} during its uploads (target < 200 MiB); {failures} failed uploads \
         (2 measured rounds each, after a warm-up round)",
        a / b
    )
}

/// Runs an `integrations` command with exactly `env` (and `PATH`); it must succeed.
fn run_cli(env: &[(String, String)], args: &[&str]) -> std::process::Output {
    let out = Command::new(server_bin())
        .args(args)
        .current_dir(workspace_root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("the integrations binary");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// How long a revoked key keeps working on the serving instance: `api-key create`, one use
/// (now in the instance's lookup cache), `api-key revoke` from another process (as from
/// another replica), then a request every 10 ms until 401.
async fn revocation_delay(base: &str, env: &[(String, String)]) -> String {
    let cli = |args: &[&str]| {
        String::from_utf8_lossy(&run_cli(env, args).stdout)
            .trim()
            .to_owned()
    };
    let key = cli(&["api-key", "create", "--account", "bench-revoke"]);
    let client = reqwest::Client::new();
    let status = |key: String| {
        let client = client.clone();
        let url = format!("{base}/integration");
        async move {
            client
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        }
    };
    assert_eq!(status(key.clone()).await, 200);
    cli(&["api-key", "revoke", &key[3..11]]);
    let revoked = Instant::now();
    while status(key.clone()).await != 401 {
        assert!(
            revoked.elapsed() < Duration::from_secs(60),
            "the revoked key still works"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    format!(
        "a key revoked by the CLI answered 401 after {:.2} s (auth.cache_ttl_ms = 2000; target ≤ 5 s)",
        revoked.elapsed().as_secs_f64()
    )
}

fn server_bin() -> PathBuf {
    std::env::var("BENCH_SERVER_BIN").map_or_else(
        |_| workspace_root().join("target/release/integrations"),
        PathBuf::from,
    )
}

/// Master-key rotation as an operator runs it beside the serving instance: `keys generate
/// --out` adds key 2 to the ring file, then `keys rewrap --batch 1000` re-wraps every row;
/// the rows per second of the second command (its whole run, process start included).
fn rewrap_run(env: &[(String, String)]) -> String {
    let key_file = env
        .iter()
        .find(|(k, _)| k == "INTEGRATIONS__VAULT__MASTER_KEY_FILE")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let run = |args: &[&str]| {
        let out = run_cli(env, args);
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    run(&["keys", "generate", "--out", &key_file]);
    let started = Instant::now();
    let said = run(&["keys", "rewrap", "--batch", "1000"]);
    let secs = started.elapsed().as_secs_f64();
    let rows: f64 = said
        .split_whitespace()
        .skip_while(|w| *w != "rewrapped")
        .nth(1)
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or(f64::NAN);
    format!(
        "keys rewrap --batch 1000 beside the serving instance: {rows:.0} rows in {secs:.2} s = \
         {:.0} rows/s (target on PostgreSQL ≥ 20,000 rows/s)",
        rows / secs
    )
}

struct Suite {
    args: Args,
    lines: Vec<Line>,
    notes: Vec<String>,
    pgbench: Option<(f64, f64)>,
}

impl Suite {
    async fn run_backend(&mut self, backend: Backend) {
        let dir = tempfile::tempdir().unwrap();
        let fresh = match backend {
            Backend::Postgres => Some(
                FreshPostgres::create(&FreshPostgres::admin_url_from_env())
                    .await
                    .expect("PostgreSQL at TEST_DATABASE_URL"),
            ),
            Backend::Sqlite => None,
        };
        let database_url = match &fresh {
            Some(db) => db.url().to_owned(),
            None => format!("sqlite://{}/bench.db", dir.path().display()),
        };
        let port = free_port();
        let zendesk = slow_zendesk(Duration::from_secs(1));
        let s3 = (backend == Backend::Sqlite && self.args.uploads > 0)
            .then(|| S3sFs::start(UPLOAD_KEY, UPLOAD_SECRET));
        let env = server_env(
            &database_url,
            dir.path(),
            port,
            &zendesk,
            &s3.as_ref().map(S3sFs::endpoint).unwrap_or_default(),
        );
        let settings =
            Settings::load_with(&workspace_root().join("config"), env.clone()).expect("settings");

        // Seed through the store (the server is not running yet), then close it: a second
        // process holding the SQLite file open (its readers' locks in the shared WAL index,
        // its own checkpointer) would slow the server's writes, as no deployment does.
        let (store, vault) = seeding_store(&settings).await;
        let mut seeded = seed_keys(&settings, store.clone()).await;
        let first = self.args.rows[0];
        seed_rows(&store, &vault, &mut seeded, first).await;
        drop((store, vault));

        let server = Running::start(&env, port).await;
        let pid = server.pid();
        let mut idle = Peak::default();
        idle.sample(pid);
        self.notes.push(format!(
            "{}: server RSS {idle} idle after start with {first} rows",
            backend.name()
        ));
        let wrk = Wrk {
            args: &self.args,
            dir: dir.path(),
            base: server.base.clone(),
        };
        let get_targets = dir.path().join("get.txt");
        let deep_targets = dir.path().join("deep.txt");
        let key_targets = dir.path().join("keys.txt");
        write_get_targets(&seeded, &get_targets);
        write_deep_targets(&seeded, &deep_targets);
        write_key_targets(&seeded, &key_targets);

        let runs = [
            ("get", "GET /integration/{id}", &get_targets),
            ("list", "GET /integration?limit=20", &key_targets),
            (
                "deep",
                "GET /integration?limit=20&cursor=(middle)",
                &deep_targets,
            ),
            ("post", "POST /integration", &key_targets),
        ];
        // Each round: the ceilings, then every endpoint, each ratio taken to its own round's
        // ceiling. The samples of each line, in table order (`/healthz` first).
        let mut samples: Vec<(&str, &str, Vec<Sample>)> =
            std::iter::once(("healthz", "GET /healthz"))
                .chain(runs.iter().map(|(kind, what, _)| (*kind, *what)))
                .filter(|(kind, _)| *kind == "healthz" || self.args.runs(kind))
                .map(|(kind, what)| (kind, what, Vec::new()))
                .collect();
        let mut pgbench_rounds = Vec::new();
        for round in 1..=self.args.rounds {
            if self.args.rounds > 1 {
                eprintln!("{}: round {round} of {}", backend.name(), self.args.rounds);
            }
            let pgbench = (backend == Backend::Postgres)
                .then(|| pgbench_ceilings(&self.args, &FreshPostgres::admin_url_from_env()));
            pgbench_rounds.extend(pgbench);
            let healthz = wrk.run("/healthz", None, None);
            let healthz_rps = healthz.rps;
            let mut healthz = Some(healthz);
            for (kind, _, line) in &mut samples {
                let (r, ceiling) = match *kind {
                    "healthz" => match healthz.take() {
                        Some(h) => (h, None),
                        None => continue,
                    },
                    kind => {
                        let targets = runs.iter().find(|r| r.0 == kind).map(|r| r.2);
                        let ceiling = match pgbench {
                            None => ("/healthz", healthz_rps),
                            Some((_, n)) if kind == "post" => ("pgbench -N", n),
                            Some((s, _)) => ("pgbench -S", s),
                        };
                        (
                            wrk.run("", Some(kind), targets.map(|t| t.as_path())),
                            Some(ceiling),
                        )
                    }
                };
                line.push(Sample {
                    r,
                    ceiling,
                    rss_mib: rss_mib(pid, "VmRSS:"),
                });
            }
        }
        if !pgbench_rounds.is_empty() {
            self.pgbench = Some((
                median(pgbench_rounds.iter().map(|p| p.0).collect()),
                median(pgbench_rounds.iter().map(|p| p.1).collect()),
            ));
        }
        for (_, what, line) in &samples {
            self.lines.push(Line::of(backend.name(), what, first, line));
        }
        if backend == Backend::Sqlite {
            // Bounded by the writer's restarts (crates/store/src/sqlite_conn.rs), not by the
            // number of writes.
            let wal = std::fs::metadata(dir.path().join("bench.db-wal")).map_or(0, |m| m.len());
            self.notes.push(format!(
                "SQLite: write-ahead log file after the runs: {:.0} MiB",
                wal as f64 / 1048576.0
            ));
        }
        // The ceilings of the growth run: the rounds' medians.
        let ceiling_of = |kind: &str| -> Option<(&'static str, f64)> {
            samples
                .iter()
                .find(|(k, _, _)| *k == kind)
                .and_then(|(_, _, line)| Line::of("", "", 0, line).ceiling)
        };
        for &rows in &self.args.rows[1..] {
            let (store, vault) = seeding_store(&settings).await;
            seed_rows(&store, &vault, &mut seeded, rows).await;
            drop((store, vault));
            write_get_targets(&seeded, &get_targets);
            write_deep_targets(&seeded, &deep_targets);
            // The growth run: the two reads that must not slow down as the table grows.
            for (kind, what, targets) in [runs[0], runs[2]] {
                if self.args.runs(kind) {
                    let r = wrk.run("", Some(kind), Some(targets));
                    let sample = Sample {
                        r,
                        ceiling: ceiling_of(kind),
                        rss_mib: rss_mib(pid, "VmRSS:"),
                    };
                    self.lines
                        .push(Line::of(backend.name(), what, rows, &[sample]));
                }
            }
        }

        if let Some(s3) = &s3 {
            let note =
                upload_burst(&server.base, &seeded.keys[0], s3, self.args.uploads, pid).await;
            self.notes.push(format!("{}: {note}", backend.name()));
        }
        if self.args.verifies > 0 {
            // One burst per round, like every other line; each starts after the key's cached
            // record has expired (auth.cache_ttl_ms = 2 s), as the first one does.
            let mut bursts = Vec::new();
            for round in 0..self.args.rounds {
                if round > 0 {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                let key = &seeded.keys[0];
                bursts.push(verify_burst(&server.base, key, self.args.verifies, pid).await);
            }
            self.notes
                .push(format!("{}: {}", backend.name(), bursts_note(&bursts)));
        }
        // Last: the rotation rewrites every row (the database is busy for a while after).
        let note = revocation_delay(&server.base, &env).await;
        self.notes.push(format!("{}: {note}", backend.name()));
        if self.args.rewrap {
            let note = rewrap_run(&env);
            self.notes.push(format!("{}: {note}", backend.name()));
        }
        self.notes.push(format!(
            "{}: server peak RSS (VmHWM) {:.0} MiB over the whole run",
            backend.name(),
            rss_mib(pid, "VmHWM:")
        ));
        server.stop();
        if let Some(db) = fresh {
            db.drop_database().await.unwrap();
        }
    }

    fn table(&self) -> String {
        let mut out = String::new();
        writeln!(
            out,
            "| backend | request | rows | req/s | p50 ms | p99 ms | ratio to ceiling | errors | server RSS MiB |"
        )
        .unwrap();
        writeln!(out, "|---|---|---:|---:|---:|---:|---|---:|---:|").unwrap();
        for l in &self.lines {
            let ratio = match (l.ceiling, l.ratio) {
                (Some((name, c)), Some((r, None))) => format!("{r:.2} × {name} ({c:.0})"),
                (Some((name, c)), Some((r, Some((lo, hi))))) => {
                    format!("{r:.2} × {name} ({c:.0}); rounds {lo:.2}–{hi:.2}")
                }
                _ => "(ceiling)".to_owned(),
            };
            writeln!(
                out,
                "| {} | `{}` | {} | {:.0} | {:.2} | {:.2} | {ratio} | {} | {:.0} |",
                l.backend, l.what, l.rows, l.rps, l.p50_ms, l.p99_ms, l.errors, l.rss_mib
            )
            .unwrap();
        }
        if let Some((s, n)) = self.pgbench {
            writeln!(
                out,
                "\nPostgreSQL ceilings in the same run: `pgbench -S` {s:.0} tps, `pgbench -N` {n:.0} tps \
                 (-c {} -j {} -T {}, scale 10{})",
                self.args.connections,
                self.args.threads,
                self.args.duration,
                if self.args.rounds > 1 { ", medians of the rounds" } else { "" }
            )
            .unwrap();
        }
        for n in &self.notes {
            writeln!(out, "\n{n}").unwrap();
        }
        out
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {mem:.0} GiB")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    eprintln!("machine: {}", machine());
    let mut suite = Suite {
        args,
        lines: Vec::new(),
        notes: Vec::new(),
        pgbench: None,
    };
    for backend in suite.args.backends.clone() {
        eprintln!("== {}", backend.name());
        suite.run_backend(backend).await;
    }
    let table = format!(
        "Machine: {}. wrk -t{} -c{} -d{}s, release build, loopback{}.\n\n{}",
        machine(),
        suite.args.threads,
        suite.args.connections,
        suite.args.duration,
        match suite.args.rounds {
            1 => String::new(),
            n => format!("; {n} rounds, each line the median"),
        },
        suite.table()
    );
    println!("{table}");
    let out = workspace_root().join("target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("latest.md"), &table).unwrap();
}
