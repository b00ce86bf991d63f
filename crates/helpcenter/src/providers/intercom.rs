//! Intercom: `GET /me` with `Authorization: Bearer {token}` and `Intercom-Version: 2.11` on
//! the host of the workspace's region. Success: 200 JSON with `type: "admin"`.

use async_trait::async_trait;
use integrations_domain::credentials::IntercomRegion;
use integrations_domain::{Credentials, FailureReason, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::{ExposeSecret, SecretString};

use super::{scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::outcome::{StatusMessages, Target};

pub(crate) const API_VERSION: &str = "2.11";

pub(crate) struct Intercom {
    us: UrlTemplate,
    eu: UrlTemplate,
    au: UrlTemplate,
}

impl ClientSettings for Intercom {
    const PROVIDER: Provider = Provider::Intercom;
    const SETTINGS: &'static [&'static str] = &["base_url", "base_url_eu", "base_url_au"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            us: template(config, Self::PROVIDER, "base_url", false)?,
            eu: template(config, Self::PROVIDER, "base_url_eu", false)?,
            au: template(config, Self::PROVIDER, "base_url_au", false)?,
        })
    }
}

impl Intercom {
    pub(crate) fn base(&self, region: IntercomRegion) -> &UrlTemplate {
        match region {
            IntercomRegion::Us => &self.us,
            IntercomRegion::Eu => &self.eu,
            IntercomRegion::Au => &self.au,
        }
    }
}

#[async_trait]
impl HelpCenterClient for Intercom {
    async fn verify(&self, http: &Http, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Credentials::Intercom(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let target = Target::new(Self::PROVIDER, self.base(c.region), None, scrubber(&c.token, None))?;
        let request = Request {
            url: target.url("/me"),
            authorization: Some(SecretString::from(format!("Bearer {}", c.token.expose_secret()))),
            headers: vec![("Intercom-Version", API_VERSION)],
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, c.region, &answer)
    }
}

fn interpret(
    target: &Target,
    region: IntercomRegion,
    answer: &Answer,
) -> Result<(), VerificationFailure> {
    let region = region.as_str().to_ascii_uppercase();
    let host = &target.host;
    target.expect_ok(answer, || StatusMessages {
        unauthorized: format!(
            "Intercom did not accept the access token on the {region} region's host ({host}). Check the token, and that the workspace is hosted in the {region} region."
        ),
        forbidden: "Intercom accepted the access token but refused to identify its admin (the workspace may need an active subscription, or the app lacks permission).".to_owned(),
        not_found: format!(
            "Intercom found no admin for this access token on the {region} region's host ({host})."
        ),
        fixed_wait: None,
    })?;
    let Some(json) = answer.json() else {
        return Err(target.unexpected_body(answer));
    };
    match json.get("type").and_then(|t| t.as_str()) {
        Some("admin") => Ok(()),
        Some(other) => Err(VerificationFailure::new(
            FailureReason::InsufficientPermissions,
            format!(
                "The Intercom access token does not identify an admin (Intercom answered with type \"{}\").",
                target.quote(other)
            ),
        )),
        None => Err(target.unexpected_body(answer)),
    }
}
