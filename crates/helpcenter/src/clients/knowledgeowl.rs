//! KnowledgeOwl: `GET /api/head/article.json?project_id={id}&limit=1` with Basic auth, the
//! API key as user and `x` as password. It proves the key and the knowledge base id at once.
//! Success: 200 JSON with `valid: true`. The filter goes in the query (a JSON body on a GET
//! is dropped by many proxies). The body can hold one article's HTML, so it is read up to
//! 1 MiB.

use integrations_domain::credentials::ProjectId;
use integrations_domain::{FailureReason, VerificationFailure};
use secrecy::{ExposeSecret, SecretString};

use super::{basic, copy_secret, origin, send};
use crate::config::BaseUrl;
use crate::http::{Answer, HttpClient, Probe};
use crate::outcome::{StatusMessages, Target};

const NAME: &str = "KnowledgeOwl";
const BODY_LIMIT: u64 = 1024 * 1024;

pub(crate) struct KnowledgeowlClient {
    pub(crate) base: BaseUrl,
}

impl KnowledgeowlClient {
    pub(crate) fn verify(
        &self,
        http: &HttpClient,
        api_key: &SecretString,
        project: &ProjectId,
    ) -> Result<(), VerificationFailure> {
        let id = project.as_str();
        // Validated by the domain; checked again because it goes into the query unencoded.
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(VerificationFailure::new(
                FailureReason::NotFound,
                "The KnowledgeOwl knowledge base id is not valid.",
            ));
        }
        let url = origin(&self.base, NAME, None)?
            + &format!("/api/head/article.json?project_id={id}&limit=1");
        let target = Target {
            provider: NAME,
            host: self.base.host(None),
            subdomain: None,
            secret: copy_secret(api_key),
        };
        let probe = Probe {
            url,
            authorization: Some(basic(api_key.expose_secret(), "x")),
            headers: Vec::new(),
            body_limit: BODY_LIMIT,
        };
        let answer = send(http, &target, &probe)?;
        interpret(&target, id, &answer)
    }
}

fn interpret(target: &Target, id: &str, answer: &Answer) -> Result<(), VerificationFailure> {
    if answer.status != 200 {
        return Err(target.status(
            answer,
            StatusMessages {
                unauthorized: "KnowledgeOwl did not accept the API key. Use a key created under Account > API by a Full Admin.".to_owned(),
                forbidden: "KnowledgeOwl accepted the API key but it may not read articles (the key needs the GET permission).".to_owned(),
                not_found: format!("KnowledgeOwl found no knowledge base with the id \"{id}\" for this API key."),
                fixed_wait: None,
            },
        ));
    }
    let Some(json) = answer.json() else {
        return Err(target.unexpected_body(answer));
    };
    match json.get("valid").and_then(|v| v.as_bool()) {
        Some(true) => Ok(()),
        Some(false) => {
            let said = target
                .provider_text(answer)
                .map(|t| format!(" KnowledgeOwl said: \"{t}\""))
                .unwrap_or_default();
            Err(VerificationFailure::new(
                FailureReason::NotFound,
                format!("KnowledgeOwl did not accept the knowledge base id \"{id}\" for this API key.{said}"),
            ))
        }
        None => Err(target.unexpected_body(answer)),
    }
}
