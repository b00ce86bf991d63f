//! Layered configuration: built-in defaults (`config/default.toml` compiled in), then
//! `config/default.toml`, then `config/$INTEGRATIONS_ENV.toml`, then `INTEGRATIONS__…`
//! environment variables (double underscore between levels).

use secrecy::SecretString;
use serde::Deserialize;
use std::path::{Path, PathBuf};

const BUILT_IN: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub vault: VaultSettings,
    pub verify: VerifySettings,
    pub providers: ProvidersSettings,
    pub log: LogSettings,
}

#[derive(Debug, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    pub workers: usize,
    pub shutdown_timeout_s: u64,
}

/// `Debug` shows only the scheme of the URL (it may carry a password).
#[derive(Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub connect_timeout_ms: u64,
    pub query_timeout_ms: u64,
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.url.split(':').next().unwrap_or_default();
        f.debug_struct("DatabaseSettings")
            .field("url", &format_args!("{scheme}://…"))
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("query_timeout_ms", &self.query_timeout_ms)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
pub struct VaultSettings {
    pub master_key_file: PathBuf,
    /// Never shown by `Debug`.
    pub master_key: Option<SecretString>,
}

#[derive(Debug, Deserialize)]
pub struct VerifySettings {
    pub timeout_ms: u64,
}

#[derive(Debug, Deserialize)]
pub struct BaseUrl {
    pub base_url: String,
}

#[derive(Debug, Deserialize)]
pub struct IntercomUrls {
    pub base_url: String,
    pub base_url_eu: String,
    pub base_url_au: String,
}

#[derive(Debug, Deserialize)]
pub struct ProvidersSettings {
    pub allow_private_networks: bool,
    pub s3: BaseUrl,
    pub r2: BaseUrl,
    pub zendesk: BaseUrl,
    pub intercom: IntercomUrls,
    pub helpscout: BaseUrl,
    pub helpjuice: BaseUrl,
    pub freshdesk: BaseUrl,
    pub knowledgeowl: BaseUrl,
}

#[derive(Debug, Deserialize)]
pub struct LogSettings {
    pub format: String,
    pub filter: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("configuration: INTEGRATIONS_ENV={env} but {path} does not exist")]
    MissingEnvFile { env: String, path: String },
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
            .source(Some(vars.into_iter().collect()));
        Ok(builder.add_source(env_source).build()?.try_deserialize()?)
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
            s.providers.zendesk.base_url,
            "https://{subdomain}.zendesk.com"
        );
        assert_eq!(
            s.providers.intercom.base_url_eu,
            "https://api.eu.intercom.io"
        );
        assert_eq!(s.providers.s3.base_url, "");
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
            ]),
        )
        .unwrap();
        assert_eq!(s.server.bind, "0.0.0.0:9000");
        assert_eq!(s.database.url, "postgres://app:pw-s3cret@db/prod");
        assert_eq!(s.verify.timeout_ms, 2500);
        assert!(s.providers.allow_private_networks);
        assert_eq!(s.providers.zendesk.base_url, "http://127.0.0.1:1");
        assert_eq!(
            s.vault
                .master_key
                .as_ref()
                .map(|k| k.expose_secret().to_owned()),
            Some("1:abc".to_owned())
        );
        assert!(!format!("{s:?}").contains("1:abc"));
        assert!(!format!("{s:?}").contains("pw-s3cret"));
    }

    #[test]
    fn a_named_environment_without_its_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Settings::load_with(dir.path(), vars(&[("INTEGRATIONS_ENV", "staging")]));
        assert!(matches!(err, Err(SettingsError::MissingEnvFile { .. })));
    }
}
