//! Key and access lifecycle through the `integrations` binary, as an operator runs it, on
//! SQLite and PostgreSQL: scoped API keys with labels, `api-key list` and `revoke`; the
//! master-key rotation runbook of `docs/operations.md` performed step by step while the
//! service serves; starts that are refused and change nothing; `config`; `--help`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use integrations_cloud_storage::testing::S3sFs;
use integrations_store::testing::FreshPostgres;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_integrations");

/// One deployment: a folder (the working directory, with `data/master.key`), a database and
/// the settings every command of it gets.
struct Deployment {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
    _pg: Option<FreshPostgres>,
    rt: tokio::runtime::Runtime,
}

#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

impl Deployment {
    fn new(db: Db, extra: &[(&str, &str)]) -> Deployment {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (url, pg) = match db {
            Db::Sqlite => (
                format!(
                    "sqlite://{}",
                    dir.path().join("data/integrations.db").display()
                ),
                None,
            ),
            Db::Postgres => {
                let pg = rt
                    .block_on(FreshPostgres::create(&FreshPostgres::admin_url_from_env()))
                    .unwrap();
                (pg.url().to_owned(), Some(pg))
            }
        };
        let mut vars = vec![
            (
                "INTEGRATIONS__SERVER__BIND".to_owned(),
                "127.0.0.1:0".to_owned(),
            ),
            ("INTEGRATIONS__SERVER__WORKERS".to_owned(), "2".to_owned()),
            ("INTEGRATIONS__DATABASE__URL".to_owned(), url),
            (
                "INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS".to_owned(),
                "true".to_owned(),
            ),
            // The tests fire many requests with one key.
            (
                "INTEGRATIONS__LIMITS__REQUESTS_PER_MINUTE".to_owned(),
                "0".to_owned(),
            ),
            (
                "INTEGRATIONS__LIMITS__OUTBOUND_PER_MINUTE".to_owned(),
                "0".to_owned(),
            ),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Deployment {
            dir,
            vars,
            _pg: pg,
            rt,
        }
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("data/master.key")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a command to its end.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Starts `serve` and waits until it listens.
    fn serve(&self) -> Server {
        let (mut child, port, _stderr) = support::spawn_serve(self.command(&["serve"]));
        let stdout = child.stdout.take().unwrap();
        let (out_tx, out_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stdout: out_rx,
        }
    }

    fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        key: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.rt.block_on(async {
            let mut req = reqwest::Client::new().request(method, url).bearer_auth(key);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        })
    }
}

struct Server {
    child: Child,
    base: String,
    stdout: Receiver<String>,
}

impl Server {
    /// The first API key, printed on an empty database.
    fn first_key(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(line) = self.stdout.recv_timeout(Duration::from_millis(100)) {
                if line.starts_with("ik_") {
                    return line;
                }
            }
        }
        panic!("no first key printed");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

fn skip_postgres() -> bool {
    integrations_store::testing::skip_postgres()
}

// ------------------------------------------------------------------ API keys

fn api_keys(db: Db) {
    let d = Deployment::new(db, &[("INTEGRATIONS__AUTH__CACHE_TTL_MS", "2000")]);
    let server = d.serve();
    let first = server.first_key();
    let manager = d.ok(&[
        "api-key",
        "create",
        "--account",
        "acme",
        "--label",
        "CI deploys",
    ]);
    let manager = manager.trim().to_owned();
    let worker = d
        .ok(&[
            "api-key",
            "create",
            "--account",
            "acme",
            "--scope",
            "use",
            "--scope",
            "reveal",
            "--label",
            // A label may begin with `-`: it is the value, not an option.
            "-export worker",
        ])
        .trim()
        .to_owned();
    assert!(manager.starts_with("ik_") && manager.len() == 46);

    // list: `keyId account scopes createdAt lastUsedAt label`, never the key.
    let listed = d.ok(&["api-key", "list", "--account", "acme"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    let fields: Vec<&str> = lines[0].splitn(6, ' ').collect();
    assert_eq!(fields[0], &manager[3..11]);
    assert_eq!(fields[1], "acme");
    assert_eq!(fields[2], "manage,use");
    assert!(fields[3].ends_with('Z'));
    assert_eq!(fields[4], "-", "never used yet");
    assert_eq!(fields[5], "CI deploys");
    assert!(
        lines[1].contains(" use,reveal ") && lines[1].ends_with(" -export worker"),
        "{listed}"
    );
    assert!(!listed.contains(&manager[11..]), "a key is never listed");
    let all = d.ok(&["api-key", "list"]);
    assert!(all.lines().any(|l| l.contains(" default ")), "{all}");

    // Scopes: the worker may not manage.
    let (status, body) = d.call(
        reqwest::Method::GET,
        &server.url("/integration"),
        &worker,
        None,
    );
    assert_eq!(status, 403);
    assert_eq!(
        body["message"],
        "This API key does not have the 'manage' scope."
    );
    let (status, _) = d.call(
        reqwest::Method::GET,
        &server.url("/integration"),
        &manager,
        None,
    );
    assert_eq!(status, 200);
    let (status, _) = d.call(
        reqwest::Method::GET,
        &server.url("/integration"),
        &first,
        None,
    );
    assert_eq!(status, 200);
    let used = d.ok(&["api-key", "list", "--account", "acme"]);
    assert!(
        !used.lines().next().unwrap().contains(" - "),
        "lastUsedAt recorded: {used}"
    );

    // Revoke: 401 from then on (this replica's cache expires within auth.cache_ttl_ms).
    let key_id = &manager[3..11];
    assert_eq!(
        d.ok(&["api-key", "revoke", key_id]).trim(),
        format!("revoked {key_id}")
    );
    let revoked_at = Instant::now();
    loop {
        let (status, _) = d.call(
            reqwest::Method::GET,
            &server.url("/integration"),
            &manager,
            None,
        );
        if status == 401 {
            break;
        }
        // A liveness bound far past auth.cache_ttl_ms (2 s here), not a timing target: the
        // delay itself is measured by the benchmark suite (scripts/bench).
        assert!(
            revoked_at.elapsed() < Duration::from_secs(60),
            "still accepted a minute after revoke"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("revocation took effect after {:?}", revoked_at.elapsed());
    let active = d.ok(&["api-key", "list", "--account", "acme"]);
    assert!(!active.contains(key_id), "{active}");
    let revoked = d.ok(&["api-key", "list", "--revoked"]);
    assert!(revoked.contains(key_id), "{revoked}");
    let out = d.run(&["api-key", "revoke", "nokey000"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no API key has the id"));
    // One key id in 64 begins with `-` (base64url): the CLI takes it as the id, not an option.
    let out = d.run(&["api-key", "revoke", "-nokey00"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no API key has the id -nokey00"),
        "{stderr}"
    );
    let out = d.run(&["api-key", "create", "--account", "acme", "--scope", "admin"]);
    assert!(!out.status.success());
    server.stop();
}

#[test]
fn sqlite_api_keys_have_scopes_labels_and_revocation() {
    api_keys(Db::Sqlite);
}

#[test]
fn postgres_api_keys_have_scopes_labels_and_revocation() {
    if skip_postgres() {
        return;
    }
    api_keys(Db::Postgres);
}

// ------------------------------------------------------------------ the rotation runbook

const S3_KEY: &str = "AKIAROTATIONTEST0001";
const S3_SECRET: &str = "rotation-secret-0000000000000000000000001";

/// `docs/operations.md`, "Rotating the master key", step by step.
fn rotation_runbook(db: Db) {
    let s3 = S3sFs::start(S3_KEY, S3_SECRET);
    s3.create_bucket("rotation");
    let endpoint = s3.endpoint();
    let d = Deployment::new(db, &[("INTEGRATIONS__PROVIDERS__S3__BASE_URL", &endpoint)]);

    // 0. A serving instance with integrations sealed under master key 1.
    let server = d.serve();
    let key = server.first_key();
    let mut ids = Vec::new();
    for i in 0..30 {
        let (status, body) = d.call(
            reqwest::Method::POST,
            &server.url("/integration"),
            &key,
            Some(
                json!({"label": format!("bucket {i}"), "provider": "s3", "credentials": {
                "bucket": "rotation", "accessKeyId": S3_KEY, "secretAccessKey": S3_SECRET,
                "region": "us-east-1"}}),
            ),
        );
        assert_eq!(status, 200, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let status = d.ok(&["keys", "status"]);
    assert!(
        status.contains("key 1: 30 integration(s); in the ring, active"),
        "{status}"
    );

    // 1. Generate a new key into the ring file: it becomes the active key.
    let generated = d.ok(&["keys", "generate", "--out", "data/master.key"]);
    assert!(generated.contains("added master key 2"), "{generated}");
    let ring = std::fs::read_to_string(d.key_file()).unwrap();
    assert!(
        ring.lines().any(|l| l.starts_with("1:")) && ring.contains("active:2"),
        "old key kept"
    );

    // 2. Restart the replicas with the new ring (new writes use key 2, old rows still open).
    server.stop();
    let server = d.serve();

    // 3. Rewrap while the service serves: reads and verifies keep succeeding meanwhile.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The rewrap starts once the traffic has made its first round, so that the two overlap
    // (30 rows rewrap faster than a fresh thread's first GET and verify: `calls` was 0 once).
    let (first_round, traffic_running) = std::sync::mpsc::channel();
    let traffic = {
        let stop = stop.clone();
        let (base, key, ids) = (server.base.clone(), key.clone(), ids.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            let client = reqwest::Client::new();
            let mut n = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let id = &ids[n % ids.len()];
                let (get, verify) = rt.block_on(async {
                    let get = client
                        .get(format!("{base}/integration/{id}"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16();
                    let verify: Value = client
                        .post(format!("{base}/integration/verify"))
                        .bearer_auth(&key)
                        .json(&json!({"integrationId": id}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    (get, verify)
                });
                assert_eq!(get, 200);
                assert_eq!(verify["isConnectionSuccessful"], true, "{verify}");
                if n == 0 {
                    let _ = first_round.send(());
                }
                n += 1;
            }
            n
        })
    };
    traffic_running
        .recv_timeout(Duration::from_secs(60))
        .expect("the first GET and verify answered");
    let rewrapped = d.ok(&["keys", "rewrap", "--batch", "7"]);
    assert!(
        rewrapped.contains("rewrapped 30 integration(s) under master key 2"),
        "{rewrapped}"
    );
    // Idempotent: nothing left to do.
    let again = d.ok(&["keys", "rewrap"]);
    assert!(again.contains("rewrapped 0 integration(s)"), "{again}");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let calls = traffic
        .join()
        .expect("reads and verifies succeed during the rewrap");
    assert!(calls > 0);

    // 4. Key 1 protects nothing any more: drop it from the ring.
    let status = d.ok(&["keys", "status"]);
    assert!(status.contains("key 1: 0 integration(s)"), "{status}");
    assert!(
        status.contains("key 2: 30 integration(s); in the ring, active"),
        "{status}"
    );
    server.stop();
    let ring = std::fs::read_to_string(d.key_file()).unwrap();
    let without_1: String = ring
        .lines()
        .filter(|l| !l.starts_with("1:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.key_file(), without_1).unwrap();

    // 5. Restart: every integration reads and verifies.
    let server = d.serve();
    for id in &ids {
        let (status, _) = d.call(
            reqwest::Method::GET,
            &server.url(&format!("/integration/{id}")),
            &key,
            None,
        );
        assert_eq!(status, 200);
        let (_, v) = d.call(
            reqwest::Method::POST,
            &server.url("/integration/verify"),
            &key,
            Some(json!({"integrationId": id})),
        );
        assert_eq!(v["isConnectionSuccessful"], true, "{v}");
    }
    let status = d.ok(&["keys", "status"]);
    assert!(
        status.contains("key 1: 0 integration(s); not in the ring"),
        "{status}"
    );
    server.stop();
}

#[test]
fn sqlite_rotation_runbook() {
    rotation_runbook(Db::Sqlite);
}

#[test]
fn postgres_rotation_runbook() {
    if skip_postgres() {
        return;
    }
    rotation_runbook(Db::Postgres);
}

// ------------------------------------------------------------------ refused starts

/// Every byte of the key file and the fingerprint rows, to compare before and after.
fn state(d: &Deployment) -> (Option<Vec<u8>>, String) {
    (std::fs::read(d.key_file()).ok(), d.ok(&["keys", "status"]))
}

fn refused_starts_change_nothing(db: Db) {
    let d = Deployment::new(db, &[]);
    let server = d.serve();
    let key = server.first_key();
    let (status, _) = d.call(
        reqwest::Method::POST,
        &server.url("/integration"),
        &key,
        Some(json!({"label": "x", "provider": "helpscout", "credentials": {"apiKey": "k-1"}})),
    );
    assert_eq!(status, 200);
    server.stop();

    // A ring without key 1, which an integration still uses: refused, naming key 1.
    let ring = std::fs::read_to_string(d.key_file()).unwrap();
    let backup = d.dir.path().join("master.key.orig");
    std::fs::write(&backup, &ring).unwrap();
    std::fs::remove_file(d.key_file()).unwrap();
    d.ok(&["keys", "generate", "--out", "data/master.key"]);
    let new_ring = std::fs::read_to_string(d.key_file()).unwrap();
    assert!(
        new_ring.contains("active:1"),
        "a fresh file starts at id 1: {new_ring}"
    );
    // Make it id 2 (another key than the database's key 1).
    let renumbered = new_ring
        .replace("\n1:", "\n2:")
        .replace("active:1", "active:2");
    std::fs::write(d.key_file(), &renumbered).unwrap();
    let before = state(&d);
    let out = d.run(&["serve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("master key 1"),
        "names the missing key: {stderr}"
    );
    assert_eq!(
        state(&d),
        before,
        "nothing written: no fingerprint of key 2, no file"
    );

    // A key file missing altogether (the database was encrypted before): refused, and no new
    // key file appears.
    std::fs::remove_file(d.key_file()).unwrap();
    let out = d.run(&["serve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not exist") && stderr.contains('1'),
        "{stderr}"
    );
    assert!(!d.key_file().exists(), "no stray key file");

    // The right key file, but readable by others: refused like ssh does.
    std::fs::write(d.key_file(), &ring).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d.key_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = d.run(&["serve"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    std::fs::set_permissions(d.key_file(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let server = d.serve();
    let (status, _) = d.call(
        reqwest::Method::GET,
        &server.url("/integration"),
        &key,
        None,
    );
    assert_eq!(status, 200, "the right key file starts");
    server.stop();
}

#[test]
fn sqlite_refused_starts_change_nothing() {
    refused_starts_change_nothing(Db::Sqlite);
}

#[test]
fn postgres_refused_starts_change_nothing() {
    if skip_postgres() {
        return;
    }
    refused_starts_change_nothing(Db::Postgres);
}

// ------------------------------------------------------------------ config and help

#[test]
fn config_prints_the_effective_settings_with_secrets_redacted() {
    let d = Deployment::new(
        Db::Sqlite,
        &[
            (
                "INTEGRATIONS__VAULT__MASTER_KEY",
                "1:c2VjcmV0LW1hc3Rlci1rZXktbWF0ZXJpYWwtMTIzNDU2Nzg=",
            ),
            ("INTEGRATIONS__VERIFY__TIMEOUT_MS", "4321"),
        ],
    );
    let mut cmd = d.command(&["config"]);
    cmd.env(
        "INTEGRATIONS__DATABASE__URL",
        "postgres://app:db-pass-s3cret@db/integrations?sslmode=require",
    );
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.contains("timeout_ms = 4321"), "{shown}");
    assert!(
        shown.contains("postgres://app:[redacted]@db/integrations?sslmode=require"),
        "{shown}"
    );
    assert!(shown.contains("master_key = \"[redacted]\""), "{shown}");
    assert!(
        !shown.contains("db-pass-s3cret") && !shown.contains("c2VjcmV0"),
        "{shown}"
    );
    assert!(shown.contains("[providers.zendesk]"), "{shown}");
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let d = Deployment::new(Db::Sqlite, &[]);
    for args in [
        vec!["serve"],
        vec!["migrate"],
        vec!["config"],
        vec!["api-key", "create"],
        vec!["api-key", "list"],
        vec!["api-key", "revoke"],
        vec!["keys", "generate"],
        vec!["keys", "rewrap"],
        vec!["keys", "status"],
    ] {
        let mut full = args.clone();
        full.push("--help");
        let out = d.run(&full);
        assert!(out.status.success(), "{args:?}");
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains("Example"),
            "{args:?} --help has no example:\n{help}"
        );
        assert!(
            help.contains(&format!("integrations {}", args.join(" "))),
            "{args:?}:\n{help}"
        );
    }
}
