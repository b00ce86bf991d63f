//! The help-center adapter: checks that Zendesk, Intercom, Help Scout, Helpjuice, Freshdesk
//! and KnowledgeOwl credentials authenticate as a real agent or admin of the account, and
//! lists the images used in the help center's articles (the import, API.md section 6).
//!
//! # Layout
//! * `providers`: one client per provider behind the `HelpCenterClient` trait (`verify` and
//!   `images`), and the registry (`clients!`) keyed by provider. Adding a help center is one
//!   module there. Each provider module implements `HelpCenter`: its credentials' host and
//!   headers, its probe and what success must prove, and its article listing walk; the
//!   skeleton around them (`Client`) and the numbered-pages walk three of them share
//!   (`providers::numbered`) live once.
//! * `images`: what every import walk shares: HTML extraction (html5ever), URL resolution,
//!   the position encoding, the call budget ([`CALL_BUDGET`]) and the mapping of answers.
//! * `http`: the shared async HTTP client (reqwest): the SSRF guard as its resolver, no proxy,
//!   no redirects, connect and total deadlines, bounded bodies, one retry after a reset.
//! * `outcome`: the rules every provider shares to turn an answer (or none) into a
//!   `VerificationFailure` with a `reason` and a message that never holds a secret.
//! * [`HelpcenterVerifier`] (this file): the `ConnectionVerifier` and the
//!   `HelpCenterCatalogue` that pick the client of the credentials' provider and hold the whole
//!   check to the deadline (a page of images to [`PAGE_DEADLINE_FACTOR`] deadlines).
//!
//! Configuration comes straight from the `[providers]` section ([`ProvidersConfig`]): each
//! client reads its own `providers.<name>.*` settings, so the server knows no provider.
//!
//! Deliberately absent: following redirects, proxies, retries after any HTTP answer, and any
//! URL not built from a configured template. See `docs/decisions/0005-helpcenter-clients.md`.

mod http;
mod images;
mod outcome;
mod providers;

pub use images::{CALL_BUDGET, PAGE_DEADLINE_FACTOR};
pub use integrations_outbound::{ConfigError, ProvidersConfig};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integrations_domain::{
    ConnectionVerifier, Credentials, FailureReason, HelpCenterCatalogue, ImagePage, Platform,
    Provider, VerificationFailure,
};

use crate::http::Http;
use crate::outcome::human;
use crate::providers::HelpCenterClient;

/// Verifies help-center credentials. Cheap to clone; all clones share one connection pool.
#[derive(Clone)]
pub struct HelpcenterVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    timeout: Duration,
    clients: BTreeMap<Provider, Arc<dyn HelpCenterClient>>,
}

impl std::fmt::Debug for HelpcenterVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelpcenterVerifier")
            .field("timeout", &self.inner.timeout)
            .field("providers", &self.inner.clients.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl HelpcenterVerifier {
    /// Checks every help-center provider's settings in `providers` and builds the shared
    /// HTTP client. `timeout` is the deadline of one whole check (`verify.timeout_ms`).
    pub fn new(timeout: Duration, providers: &ProvidersConfig) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let http =
            Http::new(timeout, providers.egress()).map_err(|e| ConfigError::InvalidBaseUrl {
                setting: "(http client)".into(),
                url: String::new(),
                problem: e.to_string(),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                timeout,
                clients: providers::build_all(providers)?,
            }),
        })
    }

    /// Every `(provider, setting)` this adapter reads from `[providers]` (e.g. to point all of
    /// them at a test server).
    pub fn settings() -> Vec<(Provider, &'static str)> {
        providers::settings()
    }

    /// Every setting of [`HelpcenterVerifier::settings`] at `base_url`, with private networks
    /// allowed: **for tests and local fakes only** (one server standing in for all six
    /// providers, e.g. `integrations-provider-fakes`).
    pub fn providers_at(base_url: &str) -> ProvidersConfig {
        let mut config = ProvidersConfig {
            allow_private_networks: true,
            ..ProvidersConfig::default()
        };
        for (provider, setting) in Self::settings() {
            config = config.with(provider.as_str(), setting, base_url);
        }
        config
    }

    /// A verifier and catalogue whose six providers all live at `base_url` (see
    /// [`HelpcenterVerifier::providers_at`]): **for tests and local fakes only**.
    pub fn pointed_at(base_url: &str, timeout: Duration) -> Result<Self, ConfigError> {
        Self::new(timeout, &Self::providers_at(base_url))
    }

    fn client(
        &self,
        credentials: &Credentials,
        what: &str,
    ) -> Result<&Arc<dyn HelpCenterClient>, VerificationFailure> {
        self.inner
            .clients
            .get(&credentials.provider())
            .ok_or_else(|| {
                VerificationFailure::new(
                    FailureReason::ProviderError,
                    format!(
                        "{} credentials cannot be {what} by the help-center adapter.",
                        credentials.provider()
                    ),
                )
            })
    }
}

/// Added to the deadline for the outer guard: the client's own deadline fires first; the
/// guard only catches a call stuck where its timers do not reach.
const OUTER_MARGIN: Duration = Duration::from_millis(500);

#[async_trait]
impl ConnectionVerifier for HelpcenterVerifier {
    #[tracing::instrument(skip_all, fields(provider = %credentials.provider()))]
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let client = self.client(credentials, "verified")?;
        let timeout = self.inner.timeout;
        match tokio::time::timeout(
            timeout + OUTER_MARGIN,
            client.verify(&self.inner.http, credentials),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!("verification exceeded its deadline");
                Err(VerificationFailure::new(
                    FailureReason::Timeout,
                    format!(
                        "{} did not answer within {}.",
                        credentials.provider().display_name(),
                        human(timeout)
                    ),
                ))
            }
        }
    }

    fn supports(&self, platform: Platform) -> bool {
        matches!(platform, Platform::Helpcenter)
    }
}

#[async_trait]
impl HelpCenterCatalogue for HelpcenterVerifier {
    /// One page of images. Each provider call has the verify deadline; the whole page call
    /// has [`PAGE_DEADLINE_FACTOR`] of them (it normally returns well before: see the
    /// `images` module on when a page stops early).
    #[tracing::instrument(skip_all, fields(provider = %credentials.provider(), limit = limit))]
    async fn images(
        &self,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure> {
        let client = self.client(credentials, "imported")?;
        let deadline = self.inner.timeout * PAGE_DEADLINE_FACTOR;
        match tokio::time::timeout(
            deadline + OUTER_MARGIN,
            client.images(&self.inner.http, credentials, position, limit),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!("an import page exceeded its deadline");
                Err(VerificationFailure::new(
                    FailureReason::Timeout,
                    format!(
                        "{} did not answer the article listing within {}.",
                        credentials.provider().display_name(),
                        human(deadline)
                    ),
                ))
            }
        }
    }
}
