//! Configuration of the adapter, straight from the `[providers]` section: the deadline of one
//! check and where requests go (`providers.s3.base_url`, `providers.r2.base_url`).

use integrations_domain::credentials::{R2AccountId, R2Jurisdiction};
use integrations_domain::Provider;
use integrations_outbound::{ConfigError, Egress, ProvidersConfig, UrlTemplate};
use std::time::Duration;

/// The placeholder of the R2 endpoint template.
pub const ACCOUNT_ID_PLACEHOLDER: &str = "{accountId}";

/// The settings this adapter reads from `[providers]`.
pub const SETTINGS: &[(Provider, &str)] = &[(Provider::S3, "base_url"), (Provider::R2, "base_url")];

/// The configuration after validation.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    /// `None`: AWS's regional endpoints, virtual-hosted; `Some`: path-style requests there.
    pub(crate) s3_base_url: Option<String>,
    pub(crate) r2: UrlTemplate,
    pub(crate) egress: Egress,
    /// Deadline of one whole check (`verify.timeout_ms`): discovery, list, write and delete
    /// together.
    pub(crate) timeout: Duration,
}

impl Endpoints {
    pub(crate) fn from_config(
        timeout: Duration,
        providers: &ProvidersConfig,
    ) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let s3 = providers.setting(Provider::S3.as_str(), "base_url")?.trim();
        let s3_base_url = if s3.is_empty() {
            None
        } else {
            Some(
                UrlTemplate::parse("s3.base_url", s3, None)?
                    .fill(None)
                    .map_err(|_| ConfigError::InvalidBaseUrl {
                        setting: "s3.base_url".into(),
                        url: s3.to_owned(),
                        problem: "not a valid URL".into(),
                    })?,
            )
        };
        let r2 = UrlTemplate::parse(
            "r2.base_url",
            providers.setting(Provider::R2.as_str(), "base_url")?,
            Some(ACCOUNT_ID_PLACEHOLDER),
        )?;
        Ok(Self {
            s3_base_url,
            r2,
            egress: providers.egress(),
            timeout,
        })
    }

    /// The R2 endpoint of an account (and jurisdiction): `{accountId}` becomes
    /// `{accountId}.{jurisdiction}` with one. A template without the placeholder is used as
    /// is.
    pub(crate) fn r2_endpoint(
        &self,
        account: &R2AccountId,
        jurisdiction: Option<R2Jurisdiction>,
    ) -> Option<String> {
        let labels: Vec<&str> = std::iter::once(account.as_str())
            .chain(jurisdiction.map(R2Jurisdiction::as_str))
            .collect();
        self.r2.fill_labels(&labels).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> R2AccountId {
        R2AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").unwrap()
    }

    fn config(s3: &str, r2: &str) -> ProvidersConfig {
        ProvidersConfig::default()
            .with("s3", "base_url", s3)
            .with("r2", "base_url", r2)
    }

    #[test]
    fn r2_endpoint_from_template() {
        let e = Endpoints::from_config(
            Duration::from_secs(1),
            &config("", "https://{accountId}.r2.cloudflarestorage.com"),
        )
        .unwrap();
        assert_eq!(e.s3_base_url, None);
        assert_eq!(
            e.r2_endpoint(&account(), None).as_deref(),
            Some("https://023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com")
        );
        assert_eq!(
            e.r2_endpoint(&account(), Some(R2Jurisdiction::Eu))
                .as_deref(),
            Some("https://023e105f4ecef8ad9ca31a8372d0c353.eu.r2.cloudflarestorage.com")
        );
        assert_eq!(
            e.r2_endpoint(&account(), Some(R2Jurisdiction::Fedramp))
                .as_deref(),
            Some("https://023e105f4ecef8ad9ca31a8372d0c353.fedramp.r2.cloudflarestorage.com")
        );
        let local = Endpoints::from_config(
            Duration::from_secs(1),
            &config(" http://127.0.0.1:9000/ ", "http://127.0.0.1:9000"),
        )
        .unwrap();
        assert_eq!(local.s3_base_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(
            local
                .r2_endpoint(&account(), Some(R2Jurisdiction::Eu))
                .as_deref(),
            Some("http://127.0.0.1:9000")
        );
    }

    #[test]
    fn validation() {
        let ok = config("", "https://{accountId}.r2.cloudflarestorage.com");
        assert_eq!(
            Endpoints::from_config(Duration::ZERO, &ok).err(),
            Some(ConfigError::ZeroTimeout)
        );
        for bad in [
            "ftp://x",
            "127.0.0.1:9000",
            "https://",
            "https://a?b=c",
            "http://u@h",
        ] {
            let c = config(bad, "https://{accountId}.r2.cloudflarestorage.com");
            assert!(
                matches!(
                    Endpoints::from_config(Duration::from_secs(1), &c),
                    Err(ConfigError::InvalidBaseUrl { .. })
                ),
                "{bad}"
            );
        }
        assert!(Endpoints::from_config(Duration::from_secs(1), &config("", "r2.example")).is_err());
        assert!(matches!(
            Endpoints::from_config(Duration::from_secs(1), &ProvidersConfig::default()),
            Err(ConfigError::Missing { .. })
        ));
    }
}
