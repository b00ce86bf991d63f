//! `GET /docs` in a real headless Chromium, driven over WebDriver (chromedriver): the API runs
//! on a real port (over the in-memory doubles), the page loads from it alone (no CDN: every
//! request of the page goes to the server), Swagger UI renders the operations from
//! `/openapi.json` (the verify endpoint among them) without a console error, and a screenshot
//! is saved to `target/screenshots/docs.png`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; override with `CHROMIUM` and `CHROMEDRIVER`). Without them the test
//! is skipped with a message, unless `INTEGRATIONS_REQUIRE_BROWSER=1` (CI), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use actix_web::{App, HttpServer};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use integrations_api::service;
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the page may take to render (a cold Chromium on a busy 2-core machine).
const RENDER_TIMEOUT: Duration = Duration::from_secs(60);

fn program(env: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    path.is_file().then_some(path)
}

/// Kills chromedriver (and with it the browser it started) when the test ends, however it ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_chromedriver(binary: &Path) -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let driver = Driver(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (driver, port)
}

/// `POST /session/{id}/se/log {"type": "browser"}`: the browser's console messages and page
/// errors since the last call (chromedriver's log endpoint; needs `goog:loggingPrefs`).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

async fn browser_log(client: &Client) -> Vec<Value> {
    match client.issue_cmd(BrowserLog).await.unwrap() {
        Value::Array(entries) => entries,
        other => panic!("unexpected log answer: {other}"),
    }
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

#[actix_web::test]
async fn the_docs_page_renders_every_operation_without_errors() {
    let required = std::env::var_os("INTEGRATIONS_REQUIRE_BROWSER").is_some_and(|v| v == "1");
    let (Some(chromium), Some(chromedriver)) = (
        program("CHROMIUM", "/usr/bin/chromium"),
        program("CHROMEDRIVER", "/usr/bin/chromedriver"),
    ) else {
        let message =
            "chromium or chromedriver is missing (apt-get install chromium chromium-driver)";
        if required {
            panic!("INTEGRATIONS_REQUIRE_BROWSER=1 but {message}");
        }
        eprintln!("skipped: {message}");
        return;
    };

    // The API on a real port.
    let doubles = Arc::new(support::doubles());
    let state = doubles.clone();
    let server = HttpServer::new(move || App::new().service(service(state.api())))
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
    let addr: SocketAddr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let origin = format!("http://{addr}");

    let (_driver, port) = start_chromedriver(&chromedriver);
    let profile = tempfile::tempdir().unwrap();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--window-size=1280,1600",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
        "goog:loggingPrefs": {"browser": "ALL"},
    });
    let capabilities = match capabilities {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session through chromedriver: {e}"));

    let outcome = check_page(&client, &origin).await;
    let _ = client.close().await;
    handle.stop(true).await;
    if let Err(problem) = outcome {
        panic!("{problem}");
    }
}

async fn check_page(client: &Client, origin: &str) -> Result<(), String> {
    client
        .goto(&format!("{origin}/docs"))
        .await
        .map_err(|e| format!("cannot load /docs: {e}"))?;

    // Swagger UI has fetched /openapi.json and rendered the operations.
    let verify = client
        .wait()
        .at_most(RENDER_TIMEOUT)
        .for_element(Locator::Css("#operations-integrations-verifyIntegration"))
        .await
        .map_err(|e| format!("the verify operation was not rendered: {e}"))?;
    let title = client
        .wait()
        .at_most(RENDER_TIMEOUT)
        .for_element(Locator::Css(".information-container .title"))
        .await
        .map_err(|e| format!("no title: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    if !title.contains("Integration API") {
        return Err(format!("unexpected title: {title:?}"));
    }
    let paths = client
        .execute(
            "return Array.from(document.querySelectorAll('.opblock-summary-path'))\
             .map(e => e.getAttribute('data-path'))",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    let paths: Vec<String> = paths
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    if !paths.iter().any(|p| p == "/integration/verify") {
        return Err(format!("/integration/verify is not listed: {paths:?}"));
    }
    // Every operation of the document is on the page.
    let doc: Value =
        serde_json::from_str(integrations_api::openapi::json()).map_err(|e| e.to_string())?;
    let operations: usize = doc["paths"]
        .as_object()
        .map(|p| {
            p.values()
                .map(|item| item.as_object().map_or(0, |m| m.len()))
                .sum()
        })
        .unwrap_or(0);
    let shown = client
        .find_all(Locator::Css(".opblock"))
        .await
        .map_err(|e| e.to_string())?
        .len();
    if shown != operations {
        return Err(format!(
            "{shown} operations shown, the document has {operations}"
        ));
    }

    // Open the verify operation: its description and the seed's examples are there.
    verify
        .find(Locator::Css(".opblock-summary-control"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| format!("cannot open the verify operation: {e}"))?;
    let body = client
        .wait()
        .at_most(RENDER_TIMEOUT)
        .for_element(Locator::Css(
            "#operations-integrations-verifyIntegration .opblock-description-wrapper",
        ))
        .await
        .map_err(|e| format!("the verify operation did not open: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    if !body.contains("integrationId") {
        return Err(format!("the verify description is not shown: {body:?}"));
    }

    // Nothing was fetched from anywhere but this server.
    let resources = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    let resources: Vec<String> = resources
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    if !resources.iter().any(|r| r.ends_with("/openapi.json")) {
        return Err(format!("/openapi.json was not fetched: {resources:?}"));
    }
    if let Some(foreign) = resources.iter().find(|r| !r.starts_with(origin)) {
        return Err(format!("the page fetched {foreign} (not from {origin})"));
    }

    // No console error, no uncaught exception, no failed request. A probe error logged last
    // shows that the log is really read (an empty answer would prove nothing).
    const PROBE: &str = "docs-page-test-probe";
    client
        .execute(&format!("console.error('{PROBE}')"), vec![])
        .await
        .map_err(|e| e.to_string())?;
    let log = browser_log(client).await;
    if !log
        .iter()
        .any(|e| e["message"].as_str().is_some_and(|m| m.contains(PROBE)))
    {
        return Err(format!("the browser log does not show the probe: {log:#?}"));
    }
    let errors: Vec<&Value> = log
        .iter()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .filter(|e| !e["message"].as_str().is_some_and(|m| m.contains(PROBE)))
        .collect();
    if !errors.is_empty() {
        return Err(format!("the browser logged errors: {errors:#?}"));
    }

    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let dir = dir.canonicalize().map_err(|e| e.to_string())?;
    let png = client.screenshot().await.map_err(|e| e.to_string())?;
    let path = dir.join("docs.png");
    std::fs::write(&path, &png).map_err(|e| e.to_string())?;
    let verify_png = verify.screenshot().await.map_err(|e| e.to_string())?;
    let verify_path = dir.join("docs-verify.png");
    std::fs::write(&verify_path, &verify_png).map_err(|e| e.to_string())?;
    if png.len() < 10_000 || !png.starts_with(b"\x89PNG") {
        return Err(format!(
            "the screenshot is not a picture of a page ({} bytes)",
            png.len()
        ));
    }
    println!("screenshot: {}", path.display());
    println!("screenshot: {}", verify_path.display());
    Ok(())
}
