//! Running `integrations serve` as a child process, shared by `tests/cli.rs` and
//! `tests/lifecycle.rs`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// Spawns `serve` (`cmd`) with stdout and stderr piped and waits up to 60 s for the log line
/// naming its port. Stdout stays with the child; stderr lines keep arriving on the receiver
/// (read by a thread, so the pipe never fills even when the receiver is dropped).
pub fn spawn_serve(mut cmd: Command) -> (Child, u16, Receiver<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(port) = line
                .split("port=")
                .nth(1)
                .and_then(|p| p.split_whitespace().next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                return (child, port, rx);
            }
            seen.push(line);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve exited early ({status}): {seen:?}");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("serve did not start: {seen:?}");
}
