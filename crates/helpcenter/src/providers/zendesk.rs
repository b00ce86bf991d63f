//! Zendesk: `GET /api/v2/users/me.json` with `Basic base64("{email}/token:{token}")`.
//!
//! `users/me` answers anonymous callers (and, per reports, wrong credentials) with **200 and
//! an anonymous user** (`id: null`), so success needs 200 JSON with a non-null `user.id` and
//! `user.role` agent or admin.

use async_trait::async_trait;
use integrations_domain::{Credentials, FailureReason, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::ExposeSecret;

use super::{basic, scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::outcome::{StatusMessages, Target};

pub(crate) struct Zendesk {
    base: UrlTemplate,
}

impl ClientSettings for Zendesk {
    const PROVIDER: Provider = Provider::Zendesk;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", true)?,
        })
    }
}

#[async_trait]
impl HelpCenterClient for Zendesk {
    async fn verify(&self, http: &Http, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Credentials::Zendesk(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let user = format!("{}/token", c.username.as_str());
        let target = Target::new(
            Self::PROVIDER,
            &self.base,
            Some(c.subdomain.as_str()),
            scrubber(&c.token, Some(&user)),
        )?;
        let request = Request {
            url: target.url("/api/v2/users/me.json"),
            authorization: Some(basic(&user, c.token.expose_secret())),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, c.username.as_str(), &answer)
    }
}

fn interpret(target: &Target, email: &str, answer: &Answer) -> Result<(), VerificationFailure> {
    target.expect_ok(answer, || StatusMessages {
        unauthorized: format!(
            "Zendesk did not accept the e-mail address \"{email}\" with this API token. Check the e-mail, that the token is active, and that token access is enabled in the Admin Center."
        ),
        forbidden: format!(
            "Zendesk accepted the API token for \"{email}\" but denied access to the current user; an agent or admin account is needed."
        ),
        not_found: String::new(),
        fixed_wait: None,
    })?;
    let Some(json) = answer.json() else {
        return Err(target.unexpected_body(answer));
    };
    let Some(user) = json.get("user").filter(|u| u.is_object()) else {
        return Err(target.unexpected_body(answer));
    };
    let id_present = user.get("id").is_some_and(|id| !id.is_null());
    if !id_present {
        return Err(VerificationFailure::new(
            FailureReason::InvalidCredentials,
            format!(
                "Zendesk did not accept the e-mail address \"{email}\" with this API token: it answered as an anonymous user. Check the e-mail, that the token is active, and that token access is enabled in the Admin Center."
            ),
        ));
    }
    match user.get("role").and_then(|r| r.as_str()) {
        Some("agent") | Some("admin") => Ok(()),
        Some(role) => Err(VerificationFailure::new(
            FailureReason::InsufficientPermissions,
            format!(
                "The Zendesk user \"{email}\" has the role \"{}\"; an agent or admin is needed.",
                target.quote(role)
            ),
        )),
        None => Err(target.unexpected_body(answer)),
    }
}
