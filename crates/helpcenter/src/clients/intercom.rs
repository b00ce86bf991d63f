//! Intercom: `GET /me` with `Authorization: Bearer {token}` and `Intercom-Version: 2.11` on
//! the host of the workspace's region. Success: 200 JSON with `type: "admin"`.

use integrations_domain::credentials::IntercomRegion;
use integrations_domain::{FailureReason, VerificationFailure};
use secrecy::{ExposeSecret, SecretString};

use super::{copy_secret, origin, send, SMALL_BODY};
use crate::config::BaseUrl;
use crate::http::{Answer, HttpClient, Probe};
use crate::outcome::{StatusMessages, Target};

const NAME: &str = "Intercom";
const API_VERSION: &str = "2.11";

pub(crate) struct IntercomClient {
    pub(crate) us: BaseUrl,
    pub(crate) eu: BaseUrl,
    pub(crate) au: BaseUrl,
}

impl IntercomClient {
    pub(crate) fn verify(
        &self,
        http: &HttpClient,
        token: &SecretString,
        region: IntercomRegion,
    ) -> Result<(), VerificationFailure> {
        let base = match region {
            IntercomRegion::Us => &self.us,
            IntercomRegion::Eu => &self.eu,
            IntercomRegion::Au => &self.au,
        };
        let url = origin(base, NAME, None)? + "/me";
        let target = Target {
            provider: NAME,
            host: base.host(None),
            subdomain: None,
            secret: copy_secret(token),
        };
        let probe = Probe {
            url,
            authorization: Some(SecretString::from(format!(
                "Bearer {}",
                token.expose_secret()
            ))),
            headers: vec![("Intercom-Version", API_VERSION)],
            body_limit: SMALL_BODY,
        };
        let answer = send(http, &target, &probe)?;
        interpret(&target, region, &answer)
    }
}

fn interpret(
    target: &Target,
    region: IntercomRegion,
    answer: &Answer,
) -> Result<(), VerificationFailure> {
    let region = region.as_str().to_ascii_uppercase();
    let host = &target.host;
    if answer.status != 200 {
        return Err(target.status(
            answer,
            StatusMessages {
                unauthorized: format!(
                    "Intercom did not accept the access token on the {region} region's host ({host}). Check the token, and that the workspace is hosted in the {region} region."
                ),
                forbidden: "Intercom accepted the access token but refused to identify its admin (the workspace may need an active subscription, or the app lacks permission).".to_owned(),
                not_found: format!(
                    "Intercom found no admin for this access token on the {region} region's host ({host})."
                ),
                fixed_wait: None,
            },
        ));
    }
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
