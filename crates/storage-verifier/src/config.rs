//! Configuration of the verifier: the deadline of one check and where requests go.

use integrations_domain::credentials::{R2AccountId, R2Jurisdiction};
use std::time::Duration;

/// The placeholder of the R2 endpoint template.
pub const ACCOUNT_ID_PLACEHOLDER: &str = "{accountId}";

/// Cloudflare's R2 endpoint (`providers.r2.base_url` default).
pub const DEFAULT_R2_BASE_URL: &str = "https://{accountId}.r2.cloudflarestorage.com";

/// The deadline of one check when nothing is configured (`verify.timeout_ms` default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of [`crate::StorageVerifier`], taken from the server configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageVerifierConfig {
    /// Deadline of one whole check (`verify.timeout_ms`): discovery, list, write and delete
    /// together. A check still running then fails with `reason: "timeout"`.
    pub timeout: Duration,
    /// `providers.s3.base_url`. `None` (or empty) = AWS's regional endpoints, virtual-hosted
    /// requests; `Some(origin)` = path-style requests to that origin (MinIO, s3s-fs, tests).
    pub s3_base_url: Option<String>,
    /// `providers.r2.base_url`: a template such as
    /// `https://{accountId}.r2.cloudflarestorage.com`. With a jurisdiction, `{accountId}`
    /// becomes `{accountId}.{jurisdiction}`; a template without the placeholder is used as is.
    pub r2_base_url: String,
}

impl Default for StorageVerifierConfig {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            s3_base_url: None,
            r2_base_url: DEFAULT_R2_BASE_URL.to_owned(),
        }
    }
}

/// A configuration the verifier refuses at start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("verify timeout must be greater than zero")]
    ZeroTimeout,
    #[error(
        "{setting} must be an http:// or https:// origin without query or fragment, got {value:?}"
    )]
    InvalidUrl {
        setting: &'static str,
        value: String,
    },
}

/// The configuration after validation: trimmed origins, no empty strings.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    pub(crate) s3_base_url: Option<String>,
    pub(crate) r2_template: String,
}

impl StorageVerifierConfig {
    pub(crate) fn validate(&self) -> Result<Endpoints, ConfigError> {
        if self.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let s3_base_url = match self.s3_base_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(checked_origin("providers.s3.base_url", url)?),
        };
        let r2_template = checked_origin("providers.r2.base_url", self.r2_base_url.trim())?;
        Ok(Endpoints {
            s3_base_url,
            r2_template,
        })
    }
}

fn checked_origin(setting: &'static str, url: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::InvalidUrl {
        setting,
        value: url.to_owned(),
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty()
        || rest.contains(['?', '#', '@'])
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The R2 endpoint for an account (and jurisdiction) from the template.
pub(crate) fn r2_endpoint(
    template: &str,
    account: &R2AccountId,
    jurisdiction: Option<R2Jurisdiction>,
) -> String {
    let host_part = match jurisdiction {
        Some(j) => format!("{}.{}", account.as_str(), j.as_str()),
        None => account.as_str().to_owned(),
    };
    template.replace(ACCOUNT_ID_PLACEHOLDER, &host_part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> R2AccountId {
        R2AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").unwrap()
    }

    #[test]
    fn r2_endpoint_from_template() {
        assert_eq!(
            r2_endpoint(DEFAULT_R2_BASE_URL, &account(), None),
            "https://023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com"
        );
        assert_eq!(
            r2_endpoint(DEFAULT_R2_BASE_URL, &account(), Some(R2Jurisdiction::Eu)),
            "https://023e105f4ecef8ad9ca31a8372d0c353.eu.r2.cloudflarestorage.com"
        );
        assert_eq!(
            r2_endpoint(
                DEFAULT_R2_BASE_URL,
                &account(),
                Some(R2Jurisdiction::Fedramp)
            ),
            "https://023e105f4ecef8ad9ca31a8372d0c353.fedramp.r2.cloudflarestorage.com"
        );
        assert_eq!(
            r2_endpoint(
                "http://127.0.0.1:9000",
                &account(),
                Some(R2Jurisdiction::Eu)
            ),
            "http://127.0.0.1:9000"
        );
    }

    #[test]
    fn validation() {
        let ok = StorageVerifierConfig {
            s3_base_url: Some(" http://127.0.0.1:9000/ ".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.s3_base_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(ok.r2_template, DEFAULT_R2_BASE_URL);

        let empty = StorageVerifierConfig {
            s3_base_url: Some("  ".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(empty.s3_base_url, None);

        let zero = StorageVerifierConfig {
            timeout: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(zero.validate().err(), Some(ConfigError::ZeroTimeout));

        for bad in [
            "ftp://x",
            "127.0.0.1:9000",
            "https://",
            "https://a?b=c",
            "http://u@h",
        ] {
            let config = StorageVerifierConfig {
                s3_base_url: Some(bad.into()),
                ..Default::default()
            };
            assert!(
                matches!(config.validate(), Err(ConfigError::InvalidUrl { .. })),
                "{bad}"
            );
        }
        let config = StorageVerifierConfig {
            r2_base_url: "r2.example".into(),
            ..Default::default()
        };
        assert!(config.validate().is_err());
    }
}
