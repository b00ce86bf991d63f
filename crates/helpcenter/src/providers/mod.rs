//! One client per provider, behind one trait. A provider module holds only what is its own:
//! how its credentials become a host, an `Authorization` value and headers
//! ([`HelpCenter::connect`]), its probe (a read-only, zero-cost GET) and what a successful
//! answer must prove ([`HelpCenter::interpret`]), and its article listing and pagination for
//! the image import ([`HelpCenter::walk`]). The skeleton around them lives once, in
//! [`Client`]: picking the credentials' variant, building the target, sending the probe,
//! decoding the position and running the walk in a [`Session`]. The shared rules live in
//! [`crate::outcome`], [`crate::http`] and [`crate::images`] (extraction, resolution,
//! positions, the call budget); [`numbered`] holds the walk over numbered pages that three
//! providers share.
//!
//! The `clients!` list below is the registry: adding a help center is one module file, its
//! `mod` line and one entry in the list (a test checks every help-center provider of the domain's table has
//! a client, and that `config/default.toml` configures it).

use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use integrations_domain::{Credentials, FailureReason, ImagePage, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, Scrubber, UrlTemplate};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::http::{Answer, Http, Request};
use crate::images::{self, Session};
use crate::outcome::{StatusMessages, Target};

mod numbered;

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

/// What one help center adds to the shared [`Client`]. Implemented by a unit struct per
/// provider module; nothing here holds state (the base URL templates are the [`Client`]'s).
/// Its async functions are implemented as `async fn`; their futures must be `Send`.
pub(crate) trait HelpCenter: Send + Sync + 'static {
    /// Its row in the domain's provider table (set with `credentials!`, with `Creds`).
    const PROVIDER: Provider;
    /// The settings of `providers.<name>` it reads (`base_url`, `base_url_eu`, …), each a
    /// base URL template; [`Connection::setting`] picks the one a call goes to.
    const SETTINGS: &'static [&'static str] = &["base_url"];
    /// Whether the host is per account: the templates then hold `{subdomain}`, filled from
    /// [`Connection::subdomain`].
    const PER_ACCOUNT: bool;
    /// The probe's path (its query, if any, comes from [`HelpCenter::probe`]).
    const PROBE: &'static str;
    /// Most bytes of the probe's answer read (a larger body is unparseable).
    const PROBE_BODY_LIMIT: usize = SMALL_BODY;

    /// Its credentials: the payload of its variant of [`Credentials`].
    type Creds: Send + Sync;
    /// Where an import stands: the provider's part of the position (see [`crate::images`]).
    /// `Default` is the start of the help center.
    type At: Serialize + DeserializeOwned + Default + Send;

    /// Its variant's payload (`None`: credentials of another provider).
    fn creds(credentials: &Credentials) -> Option<&Self::Creds>;

    /// Where its calls go and what they carry.
    fn connect(c: &Self::Creds) -> Result<Connection<'_>, VerificationFailure>;

    /// The probe's path and query.
    fn probe(_c: &Self::Creds) -> String {
        Self::PROBE.to_owned()
    }

    /// Whether the probe's answer proves what the provider's success rule asks. A failed
    /// status is told with the import's messages ([`HelpCenter::import_messages`]) but for
    /// what the probe refused (403, and 404 where the probe's differs).
    fn interpret(
        c: &Self::Creds,
        target: &Target,
        answer: &Answer,
    ) -> Result<(), VerificationFailure>;

    /// A further check once the probe succeeded (Helpjuice's key-less control call); `probe`
    /// is the request that was sent.
    fn confirm(
        _http: &Http,
        _target: &Target,
        _probe: Request,
    ) -> impl Future<Output = Result<(), VerificationFailure>> + Send {
        async { Ok(()) }
    }

    /// The messages of the import's failed calls (401, 403, 404, the wait after a 429).
    fn import_messages(c: &Self::Creds, target: &Target) -> StatusMessages;

    /// Walks the article listing from `at`, offering each article to `s`. `Some`: where the
    /// next page call resumes (the page is full, or `s` may make no more calls); `None`: the
    /// help center has no more articles.
    fn walk(
        s: &mut Session<'_>,
        c: &Self::Creds,
        at: Self::At,
    ) -> impl Future<Output = Walked<Self::At>> + Send;
}

/// What a walk ends with: where the next page call resumes (`None`: the end), or a failure.
pub(crate) type Walked<At> = Result<Option<At>, VerificationFailure>;

/// `PROVIDER`, `Creds` and `creds()` of a [`HelpCenter`], from its row of the domain's
/// provider table: the variant (of `Provider` and `Credentials` alike) and its payload type.
/// Declared before the provider modules (`clients!`), so in scope in all of them.
macro_rules! credentials {
    ($variant:ident, $creds:ty) => {
        const PROVIDER: integrations_domain::Provider = integrations_domain::Provider::$variant;
        type Creds = $creds;

        fn creds(credentials: &integrations_domain::Credentials) -> Option<&$creds> {
            match credentials {
                integrations_domain::Credentials::$variant(c) => Some(c),
                _ => None,
            }
        }
    };
}

/// Non-secret headers sent with every call of a provider.
pub(crate) type Headers = Vec<(&'static str, &'static str)>;

/// What a provider's calls carry, from its credentials ([`HelpCenter::connect`]).
pub(crate) struct Connection<'c> {
    /// Which of the provider's `SETTINGS` holds the host (`base_url` unless it says otherwise).
    setting: &'static str,
    /// The account's subdomain, for providers whose host is per account.
    subdomain: Option<&'c str>,
    /// Every form of the secrets sent, removed from any provider text quoted.
    scrubber: Scrubber,
    /// The `Authorization` value.
    authorization: SecretString,
    /// Other, non-secret headers, sent on every call (probe and import).
    headers: Headers,
}

impl<'c> Connection<'c> {
    /// To `base_url`, with `authorization` and no other header.
    pub(crate) fn new(scrubber: Scrubber, authorization: SecretString) -> Self {
        Self {
            setting: "base_url",
            subdomain: None,
            scrubber,
            authorization,
            headers: Vec::new(),
        }
    }

    /// Basic auth of `user` and `password`, where `secret` is whichever of them is the secret:
    /// the scrubber gets it and the `user:secret` pair.
    pub(crate) fn basic(secret: &SecretString, user: &str, password: &str) -> Self {
        Self::new(
            scrubber(secret, Some((user, password))),
            basic(user, password),
        )
    }

    /// To the host of the account `subdomain`.
    pub(crate) fn account(self, subdomain: &'c str) -> Self {
        Self {
            subdomain: Some(subdomain),
            ..self
        }
    }

    /// To the host of `setting` (one of the provider's `SETTINGS`).
    pub(crate) fn setting(self, setting: &'static str) -> Self {
        Self { setting, ..self }
    }

    /// With one more header.
    pub(crate) fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// The client of help center `P`: its base URL templates, and the skeleton of `verify` and
/// `images` every provider shares.
pub(crate) struct Client<P> {
    /// `(setting, template)` for each of `P::SETTINGS`.
    bases: Vec<(&'static str, UrlTemplate)>,
    provider: PhantomData<fn() -> P>,
}

impl<P: HelpCenter> Client<P> {
    /// Reads `providers.<name>.<setting>` for each of `P::SETTINGS` (the first bad one fails).
    pub(crate) fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        let bases = P::SETTINGS
            .iter()
            .map(|s| Ok((*s, template(config, P::PROVIDER, s, P::PER_ACCOUNT)?)))
            .collect::<Result<_, ConfigError>>()?;
        Ok(Self {
            bases,
            provider: PhantomData,
        })
    }

    /// `c` of this provider, or the failure for credentials of another one.
    fn creds<'c>(&self, credentials: &'c Credentials) -> Result<&'c P::Creds, VerificationFailure> {
        P::creds(credentials).ok_or_else(|| wrong_provider(P::PROVIDER, credentials))
    }

    /// The target, the `Authorization` value and the headers of `c`.
    fn open(&self, c: &P::Creds) -> Result<(Target, SecretString, Headers), VerificationFailure> {
        let connection = P::connect(c)?;
        let Some((_, base)) = self.bases.iter().find(|(s, _)| *s == connection.setting) else {
            // A provider naming a setting it did not declare: a bug, never user input.
            return Err(VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "The {} client has no {} setting.",
                    P::PROVIDER.display_name(),
                    connection.setting
                ),
            ));
        };
        let target = Target::new(P::PROVIDER, base, connection.subdomain, connection.scrubber)?;
        Ok((target, connection.authorization, connection.headers))
    }
}

#[async_trait]
impl<P: HelpCenter> HelpCenterClient for Client<P> {
    async fn verify(
        &self,
        http: &Http,
        credentials: &Credentials,
    ) -> Result<(), VerificationFailure> {
        let c = self.creds(credentials)?;
        let (target, authorization, headers) = self.open(c)?;
        let request = Request {
            url: target.url(&P::probe(c)),
            authorization: Some(authorization),
            headers,
            body_limit: P::PROBE_BODY_LIMIT,
        };
        let answer = target.send(http, &request).await?;
        P::interpret(c, &target, &answer)?;
        P::confirm(http, &target, request).await
    }

    async fn images(
        &self,
        http: &Http,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure> {
        let c = self.creds(credentials)?;
        // The position is checked before the credentials are put to use.
        let at: P::At = images::decode(P::PROVIDER, position)?.unwrap_or_default();
        let (target, authorization, headers) = self.open(c)?;
        let messages = P::import_messages(c, &target);
        let mut s = Session::new(
            http,
            P::PROVIDER,
            target,
            authorization,
            headers,
            messages,
            limit,
        )?;
        let next = P::walk(&mut s, c, at).await?;
        s.finish(next.as_ref())
    }
}

/// Declares the client modules and builds the registry from them.
macro_rules! clients {
    ($($module:ident :: $client:ident),* $(,)?) => {
        /// One client per help-center provider, keyed by provider.
        pub(crate) fn build_all(
            config: &ProvidersConfig,
        ) -> Result<BTreeMap<Provider, Arc<dyn HelpCenterClient>>, ConfigError> {
            let mut registry: BTreeMap<Provider, Arc<dyn HelpCenterClient>> = BTreeMap::new();
            $(
                registry.insert(
                    <$module::$client as HelpCenter>::PROVIDER,
                    Arc::new(Client::<$module::$client>::build(config)?),
                );
            )*
            Ok(registry)
        }

        /// Every `(provider, setting)` the clients read.
        pub(crate) fn settings() -> Vec<(Provider, &'static str)> {
            let mut out = Vec::new();
            $(
                for s in <$module::$client as HelpCenter>::SETTINGS {
                    out.push((<$module::$client as HelpCenter>::PROVIDER, *s));
                }
            )*
            out
        }
    };
}

// The provider modules, after the macros they use (`credentials!`); declared here rather than
// inside `clients!` so that rustfmt formats them.
mod freshdesk;
mod helpjuice;
mod helpscout;
mod intercom;
mod knowledgeowl;
mod zendesk;

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

/// Every form of `secret`, and of the `user:password` pair exactly as sent in a Basic header
/// (for Help Scout, Freshdesk and KnowledgeOwl the password is a placeholder `X`, so the pair
/// is not `secret:secret`).
pub(crate) fn scrubber(secret: &SecretString, basic: Option<(&str, &str)>) -> Scrubber {
    let s = Scrubber::new().secret(secret.expose_secret());
    match basic {
        Some((user, password)) => {
            let mut pair = Zeroizing::new(String::with_capacity(user.len() + password.len() + 1));
            pair.push_str(user);
            pair.push(':');
            pair.push_str(password);
            s.form(&pair)
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Basic pair as sent (`key:X`) is one of the scrubbed forms: a provider that quotes
    /// the header's base64 back has it removed whole. (The partial-echo rule of the scrubber
    /// caught it too when the form registered was `key:key`; this makes it exact.)
    #[test]
    fn the_basic_pair_as_sent_is_scrubbed() {
        let key = SecretString::from("hs-key-0123456789abcdef");
        let scrubber = scrubber(&key, Some(("hs-key-0123456789abcdef", "X")));
        let header = basic("hs-key-0123456789abcdef", "X");
        let encoded = header
            .expose_secret()
            .trim_start_matches("Basic ")
            .to_owned();
        let quoted = format!("invalid authorization header {encoded} for this site");
        assert_eq!(
            scrubber.scrub(&quoted),
            "invalid authorization header **** for this site"
        );
    }

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
