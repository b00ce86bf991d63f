//! Help Scout **Docs** API: `GET /v1/sites` with Basic auth, the Docs API key as user and
//! `X` as password. Success: 200 JSON with a `sites` page. (A Mailbox API OAuth token is a
//! different credential and is refused here.)

use integrations_domain::VerificationFailure;
use secrecy::{ExposeSecret, SecretString};

use super::{basic, copy_secret, origin, send, SMALL_BODY};
use crate::config::BaseUrl;
use crate::http::{Answer, HttpClient, Probe};
use crate::outcome::{StatusMessages, Target};

const NAME: &str = "Help Scout";

pub(crate) struct HelpscoutClient {
    pub(crate) base: BaseUrl,
}

impl HelpscoutClient {
    pub(crate) fn verify(
        &self,
        http: &HttpClient,
        api_key: &SecretString,
    ) -> Result<(), VerificationFailure> {
        let url = origin(&self.base, NAME, None)? + "/v1/sites";
        let target = Target {
            provider: NAME,
            host: self.base.host(None),
            subdomain: None,
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
    if answer.status != 200 {
        return Err(target.status(
            answer,
            StatusMessages {
                unauthorized: "Help Scout did not accept the Docs API key. Use the Docs API key from Your Profile > Authentication > API Keys (a Mailbox API token does not work here).".to_owned(),
                forbidden: "Help Scout accepted the Docs API key but its owner may not read Docs sites (the permission \"Docs: Create new, edit settings & Collections\" is needed).".to_owned(),
                not_found: "Help Scout found no Docs sites for this API key (is Docs enabled on the account?).".to_owned(),
                fixed_wait: None,
            },
        ));
    }
    match answer.json() {
        Some(json) if json.get("sites").is_some_and(|s| s.is_object()) => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
