//! Helpjuice: `GET /api/v3/settings/account` with the raw API key in `Authorization` (no
//! scheme). Success: 200 JSON object, and the same call **without** a key must not succeed:
//! with "Require token for API?" off Helpjuice may answer anyone, and then a wrong key would
//! pass. 429 carries no header; Helpjuice says to wait one minute.

use std::time::Duration;

use async_trait::async_trait;
use integrations_domain::{Credentials, FailureReason, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};

use super::{scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::outcome::{StatusMessages, Target};

pub(crate) const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
const PATH: &str = "/api/v3/settings/account";

pub(crate) struct Helpjuice {
    base: UrlTemplate,
}

impl ClientSettings for Helpjuice {
    const PROVIDER: Provider = Provider::Helpjuice;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", true)?,
        })
    }
}

#[async_trait]
impl HelpCenterClient for Helpjuice {
    async fn verify(&self, http: &Http, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Credentials::Helpjuice(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let target = Target::new(
            Self::PROVIDER,
            &self.base,
            Some(c.subdomain.as_str()),
            scrubber(&c.api_key, None),
        )?;
        let request = Request {
            url: target.url(PATH),
            authorization: Some(c.api_key.clone()),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, &answer)?;

        // Control call without any key: it must be refused, or the key proved nothing.
        let control = Request {
            authorization: None,
            ..request
        };
        let anonymous = target.send(http, &control).await?;
        if (200..300).contains(&anonymous.status) {
            return Err(VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "Helpjuice ({}) answers API calls without any key, so this key cannot be verified. Enable \"Require token for API?\" in Settings > API Credentials.",
                    target.host
                ),
            ));
        }
        Ok(())
    }
}

fn interpret(target: &Target, answer: &Answer) -> Result<(), VerificationFailure> {
    target.expect_ok(answer, || StatusMessages {
        unauthorized: format!(
            "Helpjuice did not accept the API key for {}. Use the key from Settings > API Credentials.",
            target.host
        ),
        forbidden: format!(
            "Helpjuice refused the API key for {} (it may be invalid, or not allowed to read the account settings).",
            target.host
        ),
        not_found: String::new(),
        fixed_wait: Some(RATE_LIMIT_WAIT),
    })?;
    match answer.json() {
        Some(json) if json.is_object() => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
