//! Helpjuice: `GET /api/v3/settings/account` with the raw API key in `Authorization` (no
//! scheme). Success: 200 JSON object, and the same call **without** a key must not succeed:
//! with "Require token for API?" off Helpjuice may answer anyone, and then a wrong key would
//! pass. 429 carries no header; Helpjuice says to wait one minute.

use std::time::Duration;

use integrations_domain::{FailureReason, VerificationFailure};
use secrecy::SecretString;

use super::{copy_secret, origin, send, SMALL_BODY};
use crate::config::BaseUrl;
use crate::http::{Answer, HttpClient, Probe};
use crate::outcome::{StatusMessages, Target};

const NAME: &str = "Helpjuice";
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
const PATH: &str = "/api/v3/settings/account";

pub(crate) struct HelpjuiceClient {
    pub(crate) base: BaseUrl,
}

impl HelpjuiceClient {
    pub(crate) fn verify(
        &self,
        http: &HttpClient,
        api_key: &SecretString,
        subdomain: &str,
    ) -> Result<(), VerificationFailure> {
        let url = origin(&self.base, NAME, Some(subdomain))? + PATH;
        let target = Target {
            provider: NAME,
            host: self.base.host(Some(subdomain)),
            subdomain: Some(subdomain.to_owned()),
            secret: copy_secret(api_key),
        };
        let probe = Probe {
            url: url.clone(),
            authorization: Some(copy_secret(api_key)),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = send(http, &target, &probe)?;
        interpret(&target, &answer)?;

        // Control call without any key: it must be refused, or the key proved nothing.
        let control = Probe {
            url,
            authorization: None,
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let anonymous = send(http, &target, &control)?;
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
    if answer.status != 200 {
        return Err(target.status(
            answer,
            StatusMessages {
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
            },
        ));
    }
    match answer.json() {
        Some(json) if json.is_object() => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
