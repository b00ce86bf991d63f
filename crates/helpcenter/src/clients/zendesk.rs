//! Zendesk: `GET /api/v2/users/me.json` with `Basic base64("{email}/token:{token}")`.
//!
//! `users/me` answers anonymous callers (and, per reports, wrong credentials) with **200 and
//! an anonymous user** (`id: null`), so success needs 200 JSON with a non-null `user.id` and
//! `user.role` agent or admin.

use integrations_domain::credentials::Email;
use integrations_domain::{FailureReason, VerificationFailure};
use secrecy::{ExposeSecret, SecretString};

use super::{basic, copy_secret, origin, send, SMALL_BODY};
use crate::config::BaseUrl;
use crate::http::{Answer, HttpClient, Probe};
use crate::outcome::{StatusMessages, Target};

const NAME: &str = "Zendesk";

pub(crate) struct ZendeskClient {
    pub(crate) base: BaseUrl,
}

impl ZendeskClient {
    pub(crate) fn verify(
        &self,
        http: &HttpClient,
        email: &Email,
        token: &SecretString,
        subdomain: &str,
    ) -> Result<(), VerificationFailure> {
        let url = origin(&self.base, NAME, Some(subdomain))? + "/api/v2/users/me.json";
        let target = Target {
            provider: NAME,
            host: self.base.host(Some(subdomain)),
            subdomain: Some(subdomain.to_owned()),
            secret: copy_secret(token),
        };
        let user = format!("{}/token", email.as_str());
        let probe = Probe {
            url,
            authorization: Some(basic(&user, token.expose_secret())),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = send(http, &target, &probe)?;
        interpret(&target, email, &answer)
    }
}

fn interpret(target: &Target, email: &Email, answer: &Answer) -> Result<(), VerificationFailure> {
    let email = email.as_str();
    if answer.status != 200 {
        return Err(target.status(
            answer,
            StatusMessages {
                unauthorized: format!(
                    "Zendesk did not accept the e-mail address \"{email}\" with this API token. Check the e-mail, that the token is active, and that token access is enabled in the Admin Center."
                ),
                forbidden: format!(
                    "Zendesk accepted the API token for \"{email}\" but denied access to the current user; an agent or admin account is needed."
                ),
                not_found: String::new(),
                fixed_wait: None,
            },
        ));
    }
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
