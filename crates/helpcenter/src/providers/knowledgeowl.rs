//! KnowledgeOwl: `GET /api/head/article.json?project_id={id}&limit=1` with Basic auth, the
//! API key as user and `x` as password. It proves the key and the knowledge base id at once.
//! Success: 200 JSON with `valid: true`. The filter goes in the query (a JSON body on a GET
//! is dropped by many proxies). The body can hold one article's HTML, so it is read up to
//! 1 MiB.

use async_trait::async_trait;
use integrations_domain::{Credentials, FailureReason, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::ExposeSecret;

use super::{basic, scrubber, template, wrong_provider, ClientSettings, HelpCenterClient};
use crate::http::{Answer, Http, Request};
use crate::outcome::{StatusMessages, Target};

const BODY_LIMIT: usize = 1024 * 1024;

pub(crate) struct Knowledgeowl {
    base: UrlTemplate,
}

impl ClientSettings for Knowledgeowl {
    const PROVIDER: Provider = Provider::Knowledgeowl;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", false)?,
        })
    }
}

/// The project id as it may go into a query unencoded (validated by the domain already;
/// checked again because it is put in a URL).
pub(crate) fn project_query_value(id: &str) -> Option<&str> {
    (!id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then_some(id)
}

#[async_trait]
impl HelpCenterClient for Knowledgeowl {
    async fn verify(&self, http: &Http, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Credentials::Knowledgeowl(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let Some(id) = project_query_value(c.project_id.as_str()) else {
            return Err(VerificationFailure::new(
                FailureReason::NotFound,
                "The KnowledgeOwl knowledge base id is not valid.",
            ));
        };
        let key = c.api_key.expose_secret();
        let target = Target::new(Self::PROVIDER, &self.base, None, scrubber(&c.api_key, Some(key)))?;
        let request = Request {
            url: target.url(&format!("/api/head/article.json?project_id={id}&limit=1")),
            authorization: Some(basic(key, "x")),
            headers: Vec::new(),
            body_limit: BODY_LIMIT,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, id, &answer)
    }
}

fn interpret(target: &Target, id: &str, answer: &Answer) -> Result<(), VerificationFailure> {
    target.expect_ok(answer, || StatusMessages {
        unauthorized: "KnowledgeOwl did not accept the API key. Use a key created under Account > API by a Full Admin.".to_owned(),
        forbidden: "KnowledgeOwl accepted the API key but it may not read articles (the key needs the GET permission).".to_owned(),
        not_found: format!("KnowledgeOwl found no knowledge base with the id \"{id}\" for this API key."),
        fixed_wait: None,
    })?;
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
