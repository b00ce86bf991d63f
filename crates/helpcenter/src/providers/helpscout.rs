//! Help Scout **Docs** API: `GET /v1/sites` with Basic auth, the Docs API key as user and
//! `X` as password. Success: 200 JSON with a `sites` page. (A Mailbox API OAuth token is a
//! different credential and is refused here.)

use async_trait::async_trait;
use integrations_domain::{Credentials, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::ExposeSecret;

use super::{basic, scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::outcome::{StatusMessages, Target};

pub(crate) struct Helpscout {
    base: UrlTemplate,
}

impl ClientSettings for Helpscout {
    const PROVIDER: Provider = Provider::Helpscout;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", false)?,
        })
    }
}

#[async_trait]
impl HelpCenterClient for Helpscout {
    async fn verify(&self, http: &Http, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Credentials::Helpscout(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let key = c.api_key.expose_secret();
        let target = Target::new(Self::PROVIDER, &self.base, None, scrubber(&c.api_key, Some(key)))?;
        let request = Request {
            url: target.url("/v1/sites"),
            authorization: Some(basic(key, "X")),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, &answer)
    }
}

fn interpret(target: &Target, answer: &Answer) -> Result<(), VerificationFailure> {
    target.expect_ok(answer, || StatusMessages {
        unauthorized: "Help Scout did not accept the Docs API key. Use the Docs API key from Your Profile > Authentication > API Keys (a Mailbox API token does not work here).".to_owned(),
        forbidden: "Help Scout accepted the Docs API key but its owner may not read Docs sites (the permission \"Docs: Create new, edit settings & Collections\" is needed).".to_owned(),
        not_found: "Help Scout found no Docs sites for this API key (is Docs enabled on the account?).".to_owned(),
        fixed_wait: None,
    })?;
    match answer.json() {
        Some(json) if json.get("sites").is_some_and(|s| s.is_object()) => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
