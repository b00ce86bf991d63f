//! The `[providers]` section: `allow_private_networks` and one table of URL settings per
//! provider (`[providers.zendesk] base_url = …`), deserialised as a map keyed by provider name
//! so that the server passes it through without knowing any provider.

use crate::guard::Egress;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[providers]` of the configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ProvidersConfig {
    /// Allow base URLs that resolve to loopback, private, link-local, CGNAT or metadata
    /// addresses (tests only). Applies to every outbound call.
    #[serde(default)]
    pub allow_private_networks: bool,
    /// `providers.<name>.<setting>`, e.g. `providers.intercom.base_url_eu`.
    #[serde(flatten)]
    pub providers: BTreeMap<String, BTreeMap<String, String>>,
}

/// A missing or invalid provider setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("providers.{provider}.{setting} is not configured")]
    Missing {
        provider: String,
        setting: &'static str,
    },
    #[error("providers.{setting}: invalid base URL {url:?}: {problem}")]
    InvalidBaseUrl {
        setting: String,
        url: String,
        problem: String,
    },
    #[error("verify.timeout_ms must be greater than zero")]
    ZeroTimeout,
}

impl ProvidersConfig {
    /// The egress policy of these settings.
    pub fn egress(&self) -> Egress {
        Egress::new(self.allow_private_networks)
    }

    /// `providers.<provider>.<setting>`.
    pub fn setting(&self, provider: &str, setting: &'static str) -> Result<&str, ConfigError> {
        self.providers
            .get(provider)
            .and_then(|p| p.get(setting))
            .map(String::as_str)
            .ok_or_else(|| ConfigError::Missing {
                provider: provider.to_owned(),
                setting,
            })
    }

    /// Provider names in the settings that `known` does not list (typos in configuration).
    pub fn unknown_providers<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        self.providers
            .keys()
            .map(String::as_str)
            .filter(|name| !known.contains(name))
            .collect()
    }

    /// A copy with `provider.setting` set (tests and embedders).
    pub fn with(mut self, provider: &str, setting: &str, value: &str) -> Self {
        self.providers
            .entry(provider.to_owned())
            .or_default()
            .insert(setting.to_owned(), value.to_owned());
        self
    }
}
