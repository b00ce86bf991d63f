//! Test support (feature `testing`): a real S3-compatible server that checks SigV4
//! signatures, [s3s-fs](https://crates.io/crates/s3s-fs), started on a free local port.
//!
//! Install it once with
//! `cargo install s3s-fs@0.14.1 --locked --features binary --root <workspace>/.tools`.
//! The binary is found via `$S3S_FS_BIN`, else `<workspace>/.tools/bin/s3s-fs`, else `s3s-fs`
//! on `PATH`. Without it the tests fail (they are never skipped silently).
//!
//! Quirks of s3s-fs: an unknown access key answers `NotSignedUp`; PutObject into a missing
//! bucket creates it; a bucket is a folder under [`S3sFs::data_dir`].

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "install it with `cargo install s3s-fs@0.14.1 --locked --features binary --root <workspace root>/.tools`, or set S3S_FS_BIN to its path";

/// How long the server may take to accept connections after start.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// A running s3s-fs; the process is killed when this is dropped.
pub struct S3sFs {
    child: Child,
    addr: SocketAddr,
    data_dir: tempfile::TempDir,
}

impl S3sFs {
    /// Starts s3s-fs on a free port of 127.0.0.1 with one key pair, serving an empty temporary
    /// directory, and waits until it accepts connections. Panics (failing the test) when the
    /// binary is missing or the server does not come up.
    pub fn start(access_key: &str, secret_key: &str) -> S3sFs {
        let binary = find_binary();
        let data_dir = tempfile::tempdir()
            .unwrap_or_else(|e| panic!("cannot create a data directory for s3s-fs: {e}"));
        let port = free_port();
        let child = Command::new(&binary)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            .arg("--access-key")
            .arg(access_key)
            .arg("--secret-key")
            .arg(secret_key)
            .arg(data_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL_HINT}", binary.display()));
        let mut server = S3sFs {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            data_dir,
        };
        server.wait_until_ready();
        server
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The served directory: a bucket is a folder in it.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Creates a bucket (a folder) and returns its path.
    pub fn create_bucket(&self, name: &str) -> PathBuf {
        let path = self.data_dir().join(name);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create bucket folder {}: {e}", path.display()));
        path
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("s3s-fs exited before accepting connections: {status}");
            }
            if started.elapsed() > STARTUP_LIMIT {
                panic!(
                    "s3s-fs did not accept connections on {} within {STARTUP_LIMIT:?}",
                    self.addr
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("S3S_FS_BIN") {
        let path = PathBuf::from(path);
        if path.is_file() {
            return path;
        }
        panic!(
            "S3S_FS_BIN points to {}, which is not a file; {INSTALL_HINT}",
            path.display()
        );
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tools = workspace.join(".tools/bin/s3s-fs");
    if tools.is_file() {
        return tools;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("s3s-fs");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "s3s-fs not found (looked at $S3S_FS_BIN, {}, and PATH); {INSTALL_HINT}",
        tools.display()
    );
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot find a free port: {e}"))
}
