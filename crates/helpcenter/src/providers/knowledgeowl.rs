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

use integrations_domain::credentials::knowledgeowl::KnowledgeowlCredentials;
use integrations_domain::{FailureReason, VerificationFailure};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::numbered::{self, At, NumberedPages, Page, PageCount};
use super::{Connection, HelpCenter, Walked};
use crate::http::Answer;
use crate::images::{self, Id, Listed, Session};
use crate::outcome::{StatusMessages, Target};

/// The project id when it is a plain identifier, as it may go into a query unencoded
/// (validated by the domain already; checked again because it is put in every URL).
pub(crate) fn project_query_value(id: &str) -> Option<&str> {
    (!id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then_some(id)
}

pub(crate) struct Knowledgeowl;

impl HelpCenter for Knowledgeowl {
    credentials!(Knowledgeowl, KnowledgeowlCredentials);
    const PER_ACCOUNT: bool = false;
    const PROBE: &'static str = "/api/head/article.json";
    /// The probe's answer holds one article's HTML.
    const PROBE_BODY_LIMIT: usize = 1024 * 1024;
    type At = At;

    /// Refuses a project id that is not a plain identifier (it goes into every URL).
    fn connect(c: &KnowledgeowlCredentials) -> Result<Connection<'_>, VerificationFailure> {
        if project_query_value(c.project_id.as_str()).is_none() {
            return Err(VerificationFailure::new(
                FailureReason::NotFound,
                "The KnowledgeOwl knowledge base id is not valid.",
            ));
        }
        let key = c.api_key.expose_secret();
        Ok(Connection::basic(&c.api_key, key, "x"))
    }

    /// One article of the knowledge base (`connect` checked the id).
    fn probe(c: &KnowledgeowlCredentials) -> String {
        let q = images::query(&[("project_id", c.project_id.as_str()), ("limit", "1")]);
        format!("{}?{q}", Self::PROBE)
    }

    fn interpret(
        c: &KnowledgeowlCredentials,
        target: &Target,
        answer: &Answer,
    ) -> Result<(), VerificationFailure> {
        let id = c.project_id.as_str();
        // The probe lists articles too: the import's messages fit it word for word.
        target.expect_ok(answer, || Self::import_messages(c, target))?;
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

    fn import_messages(c: &KnowledgeowlCredentials, _: &Target) -> StatusMessages {
        let project = c.project_id.as_str();
        StatusMessages {
            unauthorized: "KnowledgeOwl did not accept the API key. Use a key created under Account > API by a Full Admin.".to_owned(),
            forbidden: "KnowledgeOwl accepted the API key but it may not read articles (the key needs the GET permission).".to_owned(),
            not_found: format!("KnowledgeOwl found no knowledge base with the id \"{project}\" for this API key."),
            fixed_wait: None,
        }
    }

    async fn walk(s: &mut Session<'_>, c: &KnowledgeowlCredentials, at: At) -> Walked<At> {
        numbered::walk::<Self>(s, c, at).await
    }
}

impl NumberedPages for Knowledgeowl {
    const ARTICLES: &'static str = Self::PROBE;
    /// Articles per page (no maximum is documented).
    const PER_PAGE: (&'static str, u32) = ("limit", 100);
    type List = ListPage;

    fn filter(c: &KnowledgeowlCredentials) -> Option<(&'static str, &str)> {
        Some(("project_id", c.project_id.as_str()))
    }

    /// `valid: false` (a wrong knowledge base id, answered with 200) fails the page.
    fn page(
        c: &KnowledgeowlCredentials,
        target: &Target,
        list: ListPage,
    ) -> Result<Page, VerificationFailure> {
        if list.valid == Some(false) {
            let said = list
                .message
                .map(|m| format!(" KnowledgeOwl said: \"{}\"", target.quote(&m)))
                .unwrap_or_default();
            return Err(VerificationFailure::new(
                FailureReason::NotFound,
                format!(
                    "KnowledgeOwl did not accept the knowledge base id \"{}\" for this API key.{said}",
                    c.project_id.as_str()
                ),
            ));
        }
        Ok(Page {
            articles: list
                .data
                .unwrap_or_default()
                .into_iter()
                .map(Article::listed)
                .collect(),
            total_pages: list.page_stats.and_then(|p| p.total_pages),
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct ListPage {
    #[serde(default)]
    valid: Option<bool>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    page_stats: Option<PageCount>,
    #[serde(default)]
    data: Option<Vec<Article>>,
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
        let text =
            |v: &serde_json::Value| v.get("text").and_then(|t| t.as_str()).map(str::to_owned);
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
