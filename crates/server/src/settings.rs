//! Layered configuration (API.md section 5): built-in defaults (`config/default.toml`
//! compiled in), then `config/default.toml`, then `config/$INTEGRATIONS_ENV.toml`, then
//! `INTEGRATIONS__…` environment variables (double underscore between levels).
//!
//! The `[providers]` section is not interpreted here: it deserialises straight into the
//! adapters' [`ProvidersConfig`] (a map keyed by provider), so this crate holds no
//! per-provider code.

use integrations_outbound::ProvidersConfig;
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub(crate) const BUILT_IN: &str = include_str!("../../../config/default.toml");

/// What every secret setting shows in `integrations config` and in `Debug`.
pub const REDACTED: &str = "[redacted]";

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub vault: VaultSettings,
    pub verify: VerifySettings,
    pub providers: ProvidersConfig,
    pub limits: LimitsSettings,
    pub export: ExportSettings,
    pub auth: AuthSettings,
    pub logging: LoggingSettings,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub bind: String,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_s: u64,
    /// Peers whose `X-Forwarded-For` is believed (the audit trail's `clientIp`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Longest wait for a client's request head (and for a body to arrive), in ms.
    pub client_request_timeout_ms: u64,
    /// Most connections open at once per worker.
    pub max_connections: usize,
}

/// `Debug` and `config` show the URL without its password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub connect_timeout_ms: u64,
    pub query_timeout_ms: u64,
    pub max_connections: u32,
}

impl DatabaseSettings {
    /// The URL with any password replaced by `[redacted]`.
    pub fn redacted_url(&self) -> String {
        redact_url_password(&self.url)
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &self.redacted_url())
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("query_timeout_ms", &self.query_timeout_ms)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Serialize for DatabaseSettings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            url: String,
            connect_timeout_ms: &'a u64,
            query_timeout_ms: &'a u64,
            max_connections: &'a u32,
        }
        Shown {
            url: self.redacted_url(),
            connect_timeout_ms: &self.connect_timeout_ms,
            query_timeout_ms: &self.query_timeout_ms,
            max_connections: &self.max_connections,
        }
        .serialize(s)
    }
}

/// `scheme://user:password@host/…` → `scheme://user:[redacted]@host/…`; also a `password=`
/// query parameter.
pub fn redact_url_password(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, REDACTED);
            }
        }
    }
    if let Some(q) = out.find("password=") {
        let start = q + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |i| start + i);
        out.replace_range(start..end, REDACTED);
    }
    out
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSettings {
    pub master_key_file: PathBuf,
    /// Never shown by `Debug` or `config`.
    #[serde(serialize_with = "redacted_option")]
    pub master_key: Option<SecretString>,
    /// Start even when the key file is readable by group or others (refused by default, as
    /// ssh does with a private key).
    pub allow_insecure_key_file: bool,
}

fn redacted_option<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some(REDACTED),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySettings {
    pub timeout_ms: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSettings {
    /// Per API key, every endpoint (0 = no limit).
    pub requests_per_minute: u32,
    /// Per API key, endpoints that call a provider (0 = no limit).
    pub outbound_per_minute: u32,
    /// Per account, provider calls in flight at once (0 = no limit).
    pub outbound_concurrency_per_account: u32,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSettings {
    pub max_object_bytes: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// How long a key lookup is cached; a revoked key stops working on every replica within
    /// this time (at most 5000).
    pub cache_ttl_ms: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSettings {
    /// `text` or `json` (one JSON object per line).
    pub format: LogFormat,
    /// tracing-subscriber's EnvFilter syntax; `RUST_LOG` wins.
    pub filter: String,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("configuration: INTEGRATIONS_ENV={env} but {path} does not exist")]
    MissingEnvFile { env: String, path: String },
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads the layers from `config_dir` (usually `./config`) and the process environment.
    pub fn load(config_dir: &Path) -> Result<Self, SettingsError> {
        Self::load_with(config_dir, std::env::vars())
    }

    /// Like [`Settings::load`] with explicit environment variables (tests).
    pub fn load_with(
        config_dir: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let vars: std::collections::HashMap<String, String> = vars.into_iter().collect();
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(BUILT_IN, config::FileFormat::Toml))
            .add_source(config::File::from(config_dir.join("default.toml")).required(false));
        if let Some(env) = vars.get("INTEGRATIONS_ENV").filter(|e| !e.is_empty()) {
            let path = config_dir.join(format!("{env}.toml"));
            if !path.exists() {
                return Err(SettingsError::MissingEnvFile {
                    env: env.clone(),
                    path: path.display().to_string(),
                });
            }
            builder = builder.add_source(config::File::from(path));
        }
        let env_source = config::Environment::with_prefix("INTEGRATIONS")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("server.trusted_proxies")
            .source(Some(vars.into_iter().collect()));
        let settings: Settings = builder.add_source(env_source).build()?.try_deserialize()?;
        settings.check()?;
        Ok(settings)
    }

    /// What deserialising cannot say: names and ranges.
    fn check(&self) -> Result<(), SettingsError> {
        let known: Vec<&str> = integrations_domain::Provider::ALL
            .iter()
            .map(|p| p.as_str())
            .collect();
        if let Some(unknown) = self.providers.unknown_providers(&known).first() {
            return Err(SettingsError::Invalid(format!(
                "providers.{unknown} is not a provider (known: {})",
                known.join(", ")
            )));
        }
        if self.auth.cache_ttl_ms > 5_000 {
            return Err(SettingsError::Invalid(
                "auth.cache_ttl_ms must be at most 5000: a revoked key must stop working within 5 seconds".into(),
            ));
        }
        if self.verify.timeout_ms == 0 {
            return Err(SettingsError::Invalid(
                "verify.timeout_ms must be greater than zero".into(),
            ));
        }
        Ok(())
    }

    /// The effective configuration as TOML, every secret redacted (`integrations config`).
    pub fn to_redacted_toml(&self) -> Result<String, SettingsError> {
        toml::to_string(self).map_err(|e| SettingsError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load_with(dir.path(), vars(&[])).unwrap();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.database.url, "sqlite://data/integrations.db");
        assert_eq!(s.vault.master_key_file, PathBuf::from("data/master.key"));
        assert!(s.vault.master_key.is_none());
        assert_eq!(s.verify.timeout_ms, 10_000);
        assert!(!s.providers.allow_private_networks);
        assert_eq!(
            s.providers.setting("zendesk", "base_url").unwrap(),
            "https://{subdomain}.zendesk.com"
        );
        assert_eq!(
            s.providers.setting("intercom", "base_url_eu").unwrap(),
            "https://api.eu.intercom.io"
        );
        assert_eq!(s.providers.setting("s3", "base_url").unwrap(), "");
        assert_eq!(s.limits.requests_per_minute, 600);
        assert_eq!(s.limits.outbound_per_minute, 60);
        assert_eq!(s.export.max_object_bytes, 26_214_400);
        assert_eq!(s.logging.format, LogFormat::Text);
        assert!(s.server.trusted_proxies.is_empty());
    }

    /// `config/default.toml` configures every provider of the domain's table (a provider left
    /// out of it is caught here).
    #[test]
    fn every_provider_is_configured() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load_with(dir.path(), vars(&[])).unwrap();
        for p in integrations_domain::Provider::ALL {
            assert!(
                s.providers.setting(p.as_str(), "base_url").is_ok(),
                "config/default.toml has no [providers.{p}] base_url"
            );
        }
    }

    #[test]
    fn files_then_environment_override() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("default.toml"),
            "[server]\nbind = \"0.0.0.0:9000\"\n[verify]\ntimeout_ms = 5000\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("production.toml"),
            "[database]\nurl = \"postgres://db/prod\"\n",
        )
        .unwrap();
        let s = Settings::load_with(
            dir.path(),
            vars(&[
                ("INTEGRATIONS_ENV", "production"),
                ("INTEGRATIONS__VERIFY__TIMEOUT_MS", "2500"),
                ("INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS", "true"),
                ("INTEGRATIONS__VAULT__MASTER_KEY", "1:abc"),
                (
                    "INTEGRATIONS__PROVIDERS__ZENDESK__BASE_URL",
                    "http://127.0.0.1:1",
                ),
                (
                    "INTEGRATIONS__DATABASE__URL",
                    "postgres://app:pw-s3cret@db/prod",
                ),
                ("INTEGRATIONS__SERVER__TRUSTED_PROXIES", "10.0.0.1,10.0.0.2"),
                ("INTEGRATIONS__LOGGING__FORMAT", "json"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.bind, "0.0.0.0:9000");
        assert_eq!(s.database.url, "postgres://app:pw-s3cret@db/prod");
        assert_eq!(s.verify.timeout_ms, 2500);
        assert!(s.providers.allow_private_networks);
        assert_eq!(
            s.providers.setting("zendesk", "base_url").unwrap(),
            "http://127.0.0.1:1"
        );
        assert_eq!(s.server.trusted_proxies.len(), 2);
        assert_eq!(s.logging.format, LogFormat::Json);
        assert_eq!(
            s.vault
                .master_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
            Some("1:abc".to_owned())
        );
        let shown = format!("{s:?}\n{}", s.to_redacted_toml().unwrap());
        assert!(!shown.contains("1:abc"), "{shown}");
        assert!(!shown.contains("pw-s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://app:[redacted]@db/prod"),
            "{shown}"
        );
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            ("INTEGRATIONS__PROVIDERS__ZENDEKS__BASE_URL", "https://x"),
            ("INTEGRATIONS__AUTH__CACHE_TTL_MS", "60000"),
            ("INTEGRATIONS__LOGGING__FORMAT", "xml"),
            ("INTEGRATIONS__VERIFY__TIMEOUT_MS", "0"),
        ] {
            assert!(
                Settings::load_with(dir.path(), vars(&[bad])).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://u:secret@h:5432/db?sslmode=require"),
            "postgres://u:[redacted]@h:5432/db?sslmode=require"
        );
        assert_eq!(
            redact_url_password("postgres://h/db?user=u&password=secret&x=1"),
            "postgres://h/db?user=u&password=[redacted]&x=1"
        );
        assert_eq!(
            redact_url_password("sqlite://data/x.db"),
            "sqlite://data/x.db"
        );
    }

    #[test]
    fn a_named_environment_without_its_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Settings::load_with(dir.path(), vars(&[("INTEGRATIONS_ENV", "staging")]));
        assert!(matches!(err, Err(SettingsError::MissingEnvFile { .. })));
    }
}
