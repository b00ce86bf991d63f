//! One client per provider, behind one trait. Each knows its probe (a read-only, zero-cost
//! GET), its auth scheme and what a successful answer must prove, and its article listing and
//! pagination for the image import; the shared rules live in [`crate::outcome`],
//! [`crate::http`] and [`crate::images`] (extraction, resolution, positions, the call budget).
//!
//! The [`clients!`] list below is the registry: adding a help center is one module here and
//! one entry in the list (a test checks every help-center provider of the domain's table has
//! a client, and that `config/default.toml` configures it).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use integrations_domain::{Credentials, FailureReason, ImagePage, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, Scrubber, UrlTemplate};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::http::Http;

/// Bodies of small JSON answers (current user, settings) are read up to this size.
pub(crate) const SMALL_BODY: usize = 64 * 1024;

/// What every help-center client does.
#[async_trait]
pub(crate) trait HelpCenterClient: Send + Sync + 'static {
    /// Proves the credentials authenticate as an agent or admin of the account.
    async fn verify(
        &self,
        http: &Http,
        credentials: &Credentials,
    ) -> Result<(), VerificationFailure>;

    /// One page of the images of the help center's articles, from `position` (`None`: the
    /// start), at most `limit` (1–100). Walks the provider's own listing; the rest is
    /// [`crate::images::Session`]'s.
    async fn images(
        &self,
        http: &Http,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure>;
}

/// How a client is built from the `[providers]` settings.
pub(crate) trait ClientSettings: Sized {
    const PROVIDER: Provider;
    /// The settings of `providers.<name>` it reads (`base_url`, `base_url_eu`, …).
    const SETTINGS: &'static [&'static str];
    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError>;
}

/// Declares the client modules and builds the registry from them.
macro_rules! clients {
    ($($module:ident :: $client:ident),* $(,)?) => {
        $(mod $module;)*

        /// One client per help-center provider, keyed by provider.
        pub(crate) fn build_all(
            config: &ProvidersConfig,
        ) -> Result<BTreeMap<Provider, Arc<dyn HelpCenterClient>>, ConfigError> {
            let mut registry: BTreeMap<Provider, Arc<dyn HelpCenterClient>> = BTreeMap::new();
            $(
                registry.insert(
                    <$module::$client as ClientSettings>::PROVIDER,
                    Arc::new($module::$client::build(config)?),
                );
            )*
            Ok(registry)
        }

        /// Every `(provider, setting)` the clients read.
        pub(crate) fn settings() -> Vec<(Provider, &'static str)> {
            let mut out = Vec::new();
            $(
                for s in <$module::$client as ClientSettings>::SETTINGS {
                    out.push((<$module::$client as ClientSettings>::PROVIDER, *s));
                }
            )*
            out
        }
    };
}

clients! {
    zendesk::Zendesk,
    intercom::Intercom,
    helpscout::Helpscout,
    helpjuice::Helpjuice,
    freshdesk::Freshdesk,
    knowledgeowl::Knowledgeowl,
}

/// `providers.<provider>.<setting>` parsed as a template, with `{subdomain}` allowed when the
/// provider's host is per account.
pub(crate) fn template(
    config: &ProvidersConfig,
    provider: Provider,
    setting: &'static str,
    per_account: bool,
) -> Result<UrlTemplate, ConfigError> {
    let raw = config.setting(provider.as_str(), setting)?;
    UrlTemplate::parse(
        &format!("{}.{setting}", provider.as_str()),
        raw,
        per_account.then_some("{subdomain}"),
    )
}

/// The failure for credentials of another provider (a wiring bug, never user input).
pub(crate) fn wrong_provider(expected: Provider, credentials: &Credentials) -> VerificationFailure {
    VerificationFailure::new(
        FailureReason::ProviderError,
        format!(
            "{} credentials cannot be checked by the {} client.",
            credentials.provider(),
            expected.display_name()
        ),
    )
}

/// `Basic base64(user:password)`, built without leaving the plaintext in unzeroized memory.
pub(crate) fn basic(user: &str, password: &str) -> SecretString {
    let mut plain = Zeroizing::new(String::with_capacity(user.len() + password.len() + 1));
    plain.push_str(user);
    plain.push(':');
    plain.push_str(password);
    let mut header = Zeroizing::new(String::with_capacity(6 + plain.len() * 4 / 3 + 4));
    header.push_str("Basic ");
    STANDARD.encode_string(plain.as_bytes(), &mut header);
    SecretString::from(header.as_str())
}

/// Every form of `secret` (and of the `user:secret` pair sent as Basic auth, if any).
pub(crate) fn scrubber(secret: &SecretString, basic_user: Option<&str>) -> Scrubber {
    let s = Scrubber::new().secret(secret.expose_secret());
    match basic_user {
        Some(user) => s.form(&format!("{user}:{}", secret.expose_secret())),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header() {
        // RFC 7617's example.
        assert_eq!(
            basic("Aladdin", "open sesame").expose_secret(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn every_help_center_provider_has_exactly_one_client() {
        let mut with_client: Vec<Provider> = settings().into_iter().map(|(p, _)| p).collect();
        with_client.dedup();
        let expected: Vec<Provider> =
            Provider::of(integrations_domain::Platform::Helpcenter).collect();
        assert_eq!(with_client, expected);
    }
}
