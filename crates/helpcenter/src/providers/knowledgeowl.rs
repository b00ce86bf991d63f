//! KnowledgeOwl: `GET /api/head/article.json?project_id={id}&limit=1` with Basic auth, the
//! API key as user and `x` as password. It proves the key and the knowledge base id at once.
//! Success: 200 JSON with `valid: true`. The filter goes in the query (a JSON body on a GET
//! is dropped by many proxies). The body can hold one article's HTML, so it is read up to
//! 1 MiB.
//!
//! Import: `GET /api/head/article.json?project_id={id}&page={n}&limit=100` (no maximum is
//! documented; 100 is the exporter's and the API's default). The HTML is
//! `current_version.{lang}.text`: `en` when present, else the first language (in name order)
//! that has a text. `page_stats.total_pages` tells whether more pages follow; `valid: false`
//! (a wrong knowledge base id, answered with 200) is `not_found`. The API gives no public
//! address. The position holds the page number, the article and the image.

use async_trait::async_trait;
use integrations_domain::credentials::knowledgeowl::KnowledgeowlCredentials;
use integrations_domain::{Credentials, FailureReason, ImagePage, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{basic, scrubber, template, wrong_provider, ClientSettings, HelpCenterClient};
use crate::http::{Answer, Http, Request};
use crate::images::{self, Id, Listed, Session, Slot};
use crate::outcome::{StatusMessages, Target};

const BODY_LIMIT: usize = 1024 * 1024;
/// Articles per page (no maximum is documented).
const LIMIT: u32 = 100;

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

impl Knowledgeowl {
    /// The project id, the target and the `Authorization` value of `c`.
    fn connect<'c>(
        &self,
        c: &'c KnowledgeowlCredentials,
    ) -> Result<(&'c str, Target, SecretString), VerificationFailure> {
        let Some(id) = project_query_value(c.project_id.as_str()) else {
            return Err(VerificationFailure::new(
                FailureReason::NotFound,
                "The KnowledgeOwl knowledge base id is not valid.",
            ));
        };
        let key = c.api_key.expose_secret();
        let target = Target::new(
            Self::PROVIDER,
            &self.base,
            None,
            scrubber(&c.api_key, Some(key)),
        )?;
        Ok((id, target, basic(key, "x")))
    }
}

#[async_trait]
impl HelpCenterClient for Knowledgeowl {
    async fn verify(
        &self,
        http: &Http,
        credentials: &Credentials,
    ) -> Result<(), VerificationFailure> {
        let Credentials::Knowledgeowl(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let (id, target, authorization) = self.connect(c)?;
        let request = Request {
            url: target.url(&format!("/api/head/article.json?project_id={id}&limit=1")),
            authorization: Some(authorization),
            headers: Vec::new(),
            body_limit: BODY_LIMIT,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, id, &answer)
    }

    async fn images(
        &self,
        http: &Http,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure> {
        let Credentials::Knowledgeowl(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let mut at: At = images::decode(Self::PROVIDER, position)?.unwrap_or_default();
        let (project, target, authorization) = self.connect(c)?;
        let mut s = Session::new(
            http,
            Self::PROVIDER,
            target,
            authorization,
            Vec::new(),
            import_messages(project),
            limit,
        )?;
        loop {
            if !s.may_call() {
                return s.finish(Some(&at));
            }
            let page_number = at.page.to_string();
            let per_page = LIMIT.to_string();
            let q = images::query(&[
                ("project_id", project),
                ("page", &page_number),
                ("limit", &per_page),
            ]);
            let page: ListPage = s
                .get(&format!("/api/head/article.json?{q}"), "article list")
                .await?;
            if page.valid == Some(false) {
                let said = page
                    .message
                    .map(|m| format!(" KnowledgeOwl said: \"{}\"", s.target().quote(&m)))
                    .unwrap_or_default();
                return Err(VerificationFailure::new(
                    FailureReason::NotFound,
                    format!("KnowledgeOwl did not accept the knowledge base id \"{project}\" for this API key.{said}"),
                ));
            }
            let data = page.data.unwrap_or_default();
            let count = data.len();
            let articles: Vec<Listed> = data.into_iter().map(Article::listed).collect();
            if let Some(slot) = s.page(&articles, at.slot) {
                at.slot = slot;
                return s.finish(Some(&at));
            }
            let more = match page.page_stats.and_then(|p| p.total_pages) {
                Some(total) => at.page < total,
                None => count >= LIMIT as usize,
            };
            if !more || count == 0 {
                return s.finish(None::<&At>);
            }
            at = At {
                page: at.page.saturating_add(1),
                slot: Slot::default(),
            };
            s.moved();
        }
    }
}

/// Where an import stands: the page number (from 1), and the article and image on it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct At {
    page: u32,
    slot: Slot,
}

impl Default for At {
    fn default() -> Self {
        Self {
            page: 1,
            slot: Slot::default(),
        }
    }
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    valid: Option<bool>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    page_stats: Option<PageStats>,
    #[serde(default)]
    data: Option<Vec<Article>>,
}

#[derive(Deserialize)]
struct PageStats {
    #[serde(default)]
    total_pages: Option<u32>,
}

#[derive(Deserialize)]
struct Article {
    id: Id,
    #[serde(default)]
    name: Option<String>,
    /// `{lang: {title, text, …}}`; kept loose: one odd language must not fail the page.
    #[serde(default)]
    current_version: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Article {
    fn listed(self) -> Listed {
        let versions = self.current_version.unwrap_or_default();
        let text = |v: &serde_json::Value| v.get("text").and_then(|t| t.as_str()).map(str::to_owned);
        let html = versions
            .get("en")
            .and_then(text)
            .or_else(|| versions.values().find_map(text));
        let title = self.name.or_else(|| {
            versions
                .get("en")
                .or_else(|| versions.values().next())
                .and_then(|v| v.get("title"))
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        });
        Listed {
            id: self.id.into_string(),
            title: title.unwrap_or_default(),
            url: None,
            html,
        }
    }
}

fn import_messages(project: &str) -> StatusMessages {
    StatusMessages {
        unauthorized: "KnowledgeOwl did not accept the API key. Use a key created under Account > API by a Full Admin.".to_owned(),
        forbidden: "KnowledgeOwl accepted the API key but it may not read articles (the key needs the GET permission).".to_owned(),
        not_found: format!("KnowledgeOwl found no knowledge base with the id \"{project}\" for this API key."),
        fixed_wait: None,
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
