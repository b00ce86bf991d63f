//! The `integrations` binary as a user runs it: `migrate`, `api-key create`, `serve` (first key
//! printed once, master key file generated, refusal of another key, graceful SIGTERM).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_integrations");

/// A command in `dir` with built-in defaults only (no config files there) plus `vars`.
fn integrations(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .env("INTEGRATIONS__SERVER__BIND", "127.0.0.1:0")
        .stdin(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// Starts `serve` and waits for its "listening" log line; returns the child and its port.
fn serve(dir: &Path, vars: &[(&str, &str)]) -> (Child, u16, std::sync::mpsc::Receiver<String>) {
    support::spawn_serve(integrations(dir, &["serve"], vars))
}

fn stdout_of(child: &mut Child) -> String {
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn migrate_and_api_key_create() {
    let dir = tempfile::tempdir().unwrap();
    let out = integrations(dir.path(), &["migrate"], &[])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(dir.path().join("data/integrations.db").exists());

    let out = integrations(dir.path(), &["api-key", "create", "--account", "acme"], &[])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout:?}");
    assert!(lines[0].starts_with("ik_") && lines[0].len() > 40);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(lines[0]), "the key must not be logged");

    let out = integrations(
        dir.path(),
        &["api-key", "create", "--account", "bad name"],
        &[],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn serve_creates_the_key_file_prints_the_first_key_once_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    // A provider that never answers: a verification stays in flight until its deadline.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let vars = [
        (
            "INTEGRATIONS__PROVIDERS__ZENDESK__BASE_URL",
            silent_url.as_str(),
        ),
        ("INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS", "true"),
        ("INTEGRATIONS__VERIFY__TIMEOUT_MS", "2000"),
    ];
    let (mut child, port, logs) = serve(dir.path(), &vars);

    let key_file = dir.path().join("data/master.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.mode() & 0o777, 0o600);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    // Read the printed key while the server runs (stdout stays open): read until a line with ik_.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let key = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no key printed: {printed}"
        );
        printed.push_str(&line);
        if let Some(k) = line.trim().strip_prefix("ik_") {
            break format!("ik_{k}");
        }
    };
    let in_flight = rt.spawn({
        let base = base.clone();
        let key = key.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/integration/verify"))
                .bearer_auth(key)
                .json(&serde_json::json!({"provider": "zendesk", "credentials": {
                    "username": "a@example.org", "token": "t", "subdomain": "acme"}}))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    terminate(&child);
    let answer = rt.block_on(in_flight).unwrap();
    assert_eq!(answer["isConnectionSuccessful"], false, "{answer}");
    assert_eq!(
        answer["reason"], "timeout",
        "the in-flight request finished: {answer}"
    );
    let status = wait_exit(&mut child);
    assert!(status.success(), "{status}");
    let rest: Vec<String> = logs.try_iter().collect();
    assert!(
        !rest.iter().any(|l| l.contains(&key)),
        "the key must never be logged"
    );

    // Second start: same key file, nothing printed, the first key still works.
    let (mut child, port, _logs) = serve(dir.path(), &vars);
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/integration"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    terminate(&child);
    assert!(wait_exit(&mut child).success());
    assert_eq!(
        stdout_of(&mut child),
        "",
        "the first key is printed only once"
    );

    // Another master key: refused at start, with a message that says why.
    let other = "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let out = integrations(
        dir.path(),
        &["serve"],
        &[("INTEGRATIONS__VAULT__MASTER_KEY", other)],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key"), "{stderr}");
    assert!(!stderr.contains("AAAAAAAAAAAA"), "{stderr}");
}
