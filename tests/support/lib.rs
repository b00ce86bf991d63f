//! Support for the end-to-end tests: start the real application (the same `Application` the
//! binary runs) on port 0 against SQLite or a fresh PostgreSQL database, talk HTTP to it, capture
//! every log line, and run local stand-ins for the providers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod mocks;
pub mod proxy;

use integrations_server::app::{access_service, open_store};
use integrations_server::{Application, Settings, StartError};
use integrations_store::testing::FreshPostgres;
use reqwest::Method;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tempfile::TempDir;

/// PostgreSQL server the tests create their databases on.
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

// ---------- provider credentials ----------

/// The credentials the help-center fakes (`integrations-provider-fakes`) accept for
/// `provider` with `secret` as its API token or key, as the API takes them.
pub fn helpcenter_credentials(
    provider: integrations_provider_fakes::Provider,
    secret: &str,
) -> Value {
    use integrations_provider_fakes::{Provider, KNOWLEDGEOWL_PROJECT, ZENDESK_EMAIL};
    match provider {
        Provider::Zendesk => {
            serde_json::json!({"username": ZENDESK_EMAIL, "token": secret, "subdomain": "acme"})
        }
        Provider::Intercom => serde_json::json!({"token": secret}),
        Provider::Helpscout => serde_json::json!({"apiKey": secret}),
        Provider::Helpjuice | Provider::Freshdesk => {
            serde_json::json!({"subdomain": "acme", "apiKey": secret})
        }
        Provider::Knowledgeowl => {
            serde_json::json!({"apiKey": secret, "projectId": KNOWLEDGEOWL_PROJECT})
        }
    }
}

// ---------- log capture ----------

/// What the process logged so far: one buffer in the text format, one in JSON.
type LogBuffer = Arc<Mutex<Vec<u8>>>;

static LOGS: OnceLock<(LogBuffer, LogBuffer)> = OnceLock::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line written so far by any app in this test process, TRACE and above, all crates,
/// through the server's own pipeline (caps and redaction), in the text format. Secrets are
/// unique per test, so a test checks its own secrets against all of it.
pub fn captured_logs() -> String {
    captured(|l| &l.0)
}

/// The same lines in the JSON format (`logging.format = "json"`), one object per line.
pub fn captured_json_logs() -> String {
    captured(|l| &l.1)
}

fn captured(
    pick: impl Fn(&(Arc<Mutex<Vec<u8>>>, Arc<Mutex<Vec<u8>>>)) -> &Arc<Mutex<Vec<u8>>>,
) -> String {
    let logs = LOGS
        .get()
        .map(|l| pick(l).lock().unwrap().clone())
        .unwrap_or_default();
    String::from_utf8_lossy(&logs).into_owned()
}

fn init_logs() {
    use integrations_server::settings::LogFormat;
    use integrations_server::telemetry::{env_filter, layer, Redacting};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    LOGS.get_or_init(|| {
        let text = Arc::new(Mutex::new(Vec::new()));
        let json = Arc::new(Mutex::new(Vec::new()));
        let (t, j) = (Capture(text.clone()), Capture(json.clone()));
        let _ = tracing_subscriber::registry()
            .with(env_filter("trace"))
            .with(layer(LogFormat::Text, Redacting(move || t.clone()), false))
            .with(layer(LogFormat::Json, Redacting(move || j.clone()), false))
            .try_init();
        (text, json)
    });
}

// ---------- the application ----------

/// Where an app keeps its state across restarts.
struct Storage {
    dir: TempDir,
    database_url: String,
    pg: Option<FreshPostgres>,
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The first API key, printed by `serve` on an empty database.
    pub api_key: String,
    pub client: reqwest::Client,
    storage: Arc<Storage>,
    overrides: Vec<(String, String)>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[]).await
    }

    /// `overrides` are settings as `INTEGRATIONS__…` variables (`("VERIFY__TIMEOUT_MS", "2000")`).
    pub async fn spawn_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
        init_logs();
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("integrations.db").display()),
                None,
            ),
            Backend::Postgres => {
                let pg = FreshPostgres::create(&admin_database_url()).await.unwrap();
                (pg.url().to_owned(), Some(pg))
            }
        };
        let storage = Arc::new(Storage {
            dir,
            database_url,
            pg,
        });
        let overrides = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::start(storage, overrides, None).await.unwrap()
    }

    fn settings(storage: &Storage, overrides: &[(String, String)]) -> Settings {
        let mut vars = vec![
            ("SERVER__BIND".to_owned(), "127.0.0.1:0".to_owned()),
            ("SERVER__WORKERS".to_owned(), "2".to_owned()),
            ("SERVER__SHUTDOWN_TIMEOUT_S".to_owned(), "5".to_owned()),
            ("DATABASE__URL".to_owned(), storage.database_url.clone()),
            (
                "VAULT__MASTER_KEY_FILE".to_owned(),
                storage.dir.path().join("master.key").display().to_string(),
            ),
            ("VERIFY__TIMEOUT_MS".to_owned(), "3000".to_owned()),
            (
                "PROVIDERS__ALLOW_PRIVATE_NETWORKS".to_owned(),
                "true".to_owned(),
            ),
        ];
        vars.extend(overrides.iter().cloned());
        let vars = vars
            .into_iter()
            .map(|(k, v)| (format!("INTEGRATIONS__{k}"), v));
        // A folder without files: the built-in defaults, then the variables.
        Settings::load_with(&storage.dir.path().join("no-config"), vars).unwrap()
    }

    async fn start(
        storage: Arc<Storage>,
        overrides: Vec<(String, String)>,
        api_key: Option<String>,
    ) -> Result<TestApp, StartError> {
        let settings = Self::settings(&storage, &overrides);
        let app = Application::build(&settings).await?;
        let port = app.port();
        let api_key = match (&app.first_api_key, api_key) {
            (Some(k), None) => k.expose().to_owned(),
            (None, Some(k)) => k,
            (Some(_), Some(_)) => panic!("a restarted app must not create a first key again"),
            (None, None) => panic!("a new database must get a first API key"),
        };
        let handle = app.handle();
        let task = tokio::spawn(app.run_until_stopped());
        Ok(TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            api_key,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
            storage,
            overrides,
            handle,
            task,
        })
    }

    /// Stops gracefully and starts again on the same database and key file.
    pub async fn restart(self) -> TestApp {
        self.restart_with(&[]).await.unwrap()
    }

    pub async fn restart_with(self, extra: &[(&str, &str)]) -> Result<TestApp, StartError> {
        let storage = self.storage.clone();
        let mut overrides = self.overrides.clone();
        overrides.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let key = self.api_key.clone();
        self.stop().await;
        Self::start(storage, overrides, Some(key)).await
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }

    pub fn data_dir(&self) -> &Path {
        self.storage.dir.path()
    }

    pub fn sqlite_file(&self) -> Option<PathBuf> {
        self.storage
            .database_url
            .strip_prefix("sqlite://")
            .map(PathBuf::from)
    }

    pub fn database_url(&self) -> &str {
        &self.storage.database_url
    }

    pub fn is_postgres(&self) -> bool {
        self.storage.pg.is_some()
    }

    /// A new API key of another account, as `integrations api-key create` makes it.
    pub async fn api_key_for(&self, account: &str) -> String {
        self.api_key_with(account, integrations_domain::Scopes::DEFAULT)
            .await
    }

    /// A new API key of `account` with these scopes.
    pub async fn api_key_with(&self, account: &str, scopes: integrations_domain::Scopes) -> String {
        let settings = Self::settings(&self.storage, &self.overrides);
        let store = std::sync::Arc::new(open_store(&settings).await.unwrap());
        let (key, _) = access_service(&settings, store)
            .create_key(
                &integrations_domain::AccountName::parse(account).unwrap(),
                scopes,
                None,
            )
            .await
            .unwrap();
        key.expose().to_owned()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        Self::read(res).await
    }

    /// Sends raw bytes with this `Content-Type` (an export's upload).
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let res = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        Self::read(res).await
    }

    /// `PUT path` with the raw bytes (the app's own key).
    pub async fn put_bytes(&self, path: &str, content_type: &str, bytes: &[u8]) -> Response {
        self.send_bytes(
            Method::PUT,
            path,
            &self.api_key.clone(),
            content_type,
            bytes.to_vec(),
        )
        .await
    }

    pub async fn read(res: reqwest::Response) -> Response {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, Some(&self.api_key.clone()), None)
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(&self.api_key.clone()), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PUT, path, Some(&self.api_key.clone()), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, Some(&self.api_key.clone()), None)
            .await
    }

    /// Creates an integration and returns its id.
    pub async fn create(&self, body: &Value) -> String {
        let res = self.post("/integration", body).await;
        assert_eq!(res.status, 200, "create failed: {}", res.text);
        res.body["id"].as_str().unwrap().to_owned()
    }
}
