//! Freshdesk: `GET /api/v2/agents/me` with Basic auth, the API key as user and `X` as
//! password. Success: 200 JSON with a non-null agent `id`.

use async_trait::async_trait;
use integrations_domain::{Credentials, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::ExposeSecret;

use super::{basic, scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::outcome::{StatusMessages, Target};

pub(crate) struct Freshdesk {
    base: UrlTemplate,
}

impl ClientSettings for Freshdesk {
    const PROVIDER: Provider = Provider::Freshdesk;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", true)?,
        })
    }
}

#[async_trait]
impl HelpCenterClient for Freshdesk {
    async fn verify(&self, http: &Http, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Credentials::Freshdesk(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let key = c.api_key.expose_secret();
        let target = Target::new(
            Self::PROVIDER,
            &self.base,
            Some(c.subdomain.as_str()),
            scrubber(&c.api_key, Some(key)),
        )?;
        let request = Request {
            url: target.url("/api/v2/agents/me"),
            authorization: Some(basic(key, "X")),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, &answer)
    }
}

fn interpret(target: &Target, answer: &Answer) -> Result<(), VerificationFailure> {
    let host = &target.host;
    target.expect_ok(answer, || StatusMessages {
        unauthorized: format!(
            "Freshdesk did not accept the API key for {host}. Use the key from Profile settings > View API key of an agent of this helpdesk."
        ),
        forbidden: "Freshdesk accepted the API key but denied access to the current agent (the agent may lack permission, API access may not be enabled on the plan, or the account is locked after failed logins).".to_owned(),
        not_found: String::new(),
        fixed_wait: None,
    })?;
    match answer.json() {
        Some(json) if json.get("id").is_some_and(|id| !id.is_null()) => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
