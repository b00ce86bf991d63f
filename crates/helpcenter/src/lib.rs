//! The help-center adapter: checks that Zendesk, Intercom, Help Scout, Helpjuice, Freshdesk
//! and KnowledgeOwl credentials authenticate as a real agent or admin of the account.
//!
//! # Layout
//! * `providers`: one client per provider behind the `HelpCenterClient` trait, and the
//!   registry (`clients!`) keyed by provider. Adding a help center is one module there.
//! * `http`: the shared async HTTP client (reqwest): the SSRF guard as its resolver, no proxy,
//!   no redirects, connect and total deadlines, bounded bodies, one retry after a reset.
//! * `outcome`: the rules every provider shares to turn an answer (or none) into a
//!   `VerificationFailure` with a `reason` and a message that never holds a secret.
//! * [`HelpcenterVerifier`] (this file): the `ConnectionVerifier` that picks the client of
//!   the credentials' provider and holds the whole check to the deadline.
//!
//! Configuration comes straight from the `[providers]` section ([`ProvidersConfig`]): each
//! client reads its own `providers.<name>.*` settings, so the server knows no provider.
//!
//! Deliberately absent: following redirects, proxies, retries after any HTTP answer, and any
//! URL not built from a configured template. See `docs/decisions/0005-helpcenter-clients.md`.

mod http;
mod outcome;
mod providers;

pub use integrations_outbound::{ConfigError, ProvidersConfig};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integrations_domain::{
    ConnectionVerifier, Credentials, FailureReason, Platform, Provider, VerificationFailure,
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
}

/// Added to the deadline for the outer guard: the client's own deadline fires first; the
/// guard only catches a call stuck where its timers do not reach.
const OUTER_MARGIN: Duration = Duration::from_millis(500);

#[async_trait]
impl ConnectionVerifier for HelpcenterVerifier {
    #[tracing::instrument(skip_all, fields(provider = %credentials.provider()))]
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Some(client) = self.inner.clients.get(&credentials.provider()) else {
            return Err(VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "{} credentials cannot be verified by the help-center verifier.",
                    credentials.provider()
                ),
            ));
        };
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
