//! Freshdesk: `GET /api/v2/agents/me` with Basic auth, the API key as user and `X` as
//! password. Success: 200 JSON with a non-null agent `id`.

use integrations_domain::VerificationFailure;
use secrecy::{ExposeSecret, SecretString};

use super::{basic, copy_secret, origin, send, SMALL_BODY};
use crate::config::BaseUrl;
use crate::http::{Answer, HttpClient, Probe};
use crate::outcome::{StatusMessages, Target};

const NAME: &str = "Freshdesk";

pub(crate) struct FreshdeskClient {
    pub(crate) base: BaseUrl,
}

impl FreshdeskClient {
    pub(crate) fn verify(
        &self,
        http: &HttpClient,
        api_key: &SecretString,
        subdomain: &str,
    ) -> Result<(), VerificationFailure> {
        let url = origin(&self.base, NAME, Some(subdomain))? + "/api/v2/agents/me";
        let target = Target {
            provider: NAME,
            host: self.base.host(Some(subdomain)),
            subdomain: Some(subdomain.to_owned()),
            secret: copy_secret(api_key),
        };
        let probe = Probe {
            url,
            authorization: Some(basic(api_key.expose_secret(), "X")),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = send(http, &target, &probe)?;
        interpret(&target, &answer)
    }
}

fn interpret(target: &Target, answer: &Answer) -> Result<(), VerificationFailure> {
    let host = &target.host;
    if answer.status != 200 {
        return Err(target.status(
            answer,
            StatusMessages {
                unauthorized: format!(
                    "Freshdesk did not accept the API key for {host}. Use the key from Profile settings > View API key of an agent of this helpdesk."
                ),
                forbidden: "Freshdesk accepted the API key but denied access to the current agent (the agent may lack permission, API access may not be enabled on the plan, or the account is locked after failed logins).".to_owned(),
                not_found: String::new(),
                fixed_wait: None,
            },
        ));
    }
    match answer.json() {
        Some(json) if json.get("id").is_some_and(|id| !id.is_null()) => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
