//! Helpjuice: `GET /api/v3/settings/account` with the raw API key in `Authorization` (no
//! scheme). Success: 200 JSON object, and the same call **without** a key must not succeed:
//! with "Require token for API?" off Helpjuice may answer anyone, and then a wrong key would
//! pass. 429 carries no header; Helpjuice says to wait one minute.
//!
//! Import: `GET /api/v3/articles?page={n}&limit=100`; the HTML is `answer.body`, where
//! `answer` is an object or an array of them (both are seen; the first with a body is used),
//! the public address `url` when present. `meta.total_pages` tells whether more pages follow
//! (without it, a full page does). The position holds the page number, the article and the
//! image.
//!
//! The page size is 100, not the maximum of 1000, on purpose: every article comes with its
//! body twice (`body`, `processed_body`) plus a text copy, a resumed call re-reads its current
//! page, and one import page (at most 100 images) rarely consumes more than a few dozen
//! articles. At 1000 a page of ordinary articles is tens of MiB, read again on every call
//! (and over [`crate::images::LIST_BODY_LIMIT`] it could not be imported at all), for at most
//! a quarter fewer provider calls. Measured against the local fake: 106 ms per import call
//! at 1000, 16 ms at 100 (debug build, limit 1).

use std::time::Duration;

use async_trait::async_trait;
use integrations_domain::credentials::helpjuice::HelpjuiceCredentials;
use integrations_domain::{Credentials, FailureReason, ImagePage, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::{scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::images::{self, Id, Listed, Session, Slot};
use crate::outcome::{StatusMessages, Target};

pub(crate) const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
const PATH: &str = "/api/v3/settings/account";
/// Articles per page (the maximum is 1000: see the module docs for why not).
const LIMIT: u32 = 100;

pub(crate) struct Helpjuice {
    base: UrlTemplate,
}

impl ClientSettings for Helpjuice {
    const PROVIDER: Provider = Provider::Helpjuice;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", true)?,
        })
    }
}

#[async_trait]
impl HelpCenterClient for Helpjuice {
    async fn verify(&self, http: &Http, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Credentials::Helpjuice(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let target = self.target(c)?;
        let request = Request {
            url: target.url(PATH),
            authorization: Some(c.api_key.clone()),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, &answer)?;

        // Control call without any key: it must be refused, or the key proved nothing.
        let control = Request {
            authorization: None,
            ..request
        };
        let anonymous = target.send(http, &control).await?;
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

    async fn images(
        &self,
        http: &Http,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure> {
        let Credentials::Helpjuice(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let mut at: At = images::decode(Self::PROVIDER, position)?.unwrap_or_default();
        let target = self.target(c)?;
        let messages = import_messages(&target);
        let mut s = Session::new(
            http,
            Self::PROVIDER,
            target,
            c.api_key.clone(),
            Vec::new(),
            messages,
            limit,
        )?;
        loop {
            if !s.may_call() {
                return s.finish(Some(&at));
            }
            let page_number = at.page.to_string();
            let per_page = LIMIT.to_string();
            let q = images::query(&[("page", &page_number), ("limit", &per_page)]);
            let page: ListPage = s
                .get(&format!("/api/v3/articles?{q}"), "article list")
                .await?;
            let count = page.articles.len();
            let articles: Vec<Listed> = page.articles.into_iter().map(Article::listed).collect();
            if let Some(slot) = s.page(&articles, at.slot) {
                at.slot = slot;
                return s.finish(Some(&at));
            }
            let more = match page.meta.and_then(|m| m.total_pages) {
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

impl Helpjuice {
    fn target(&self, c: &HelpjuiceCredentials) -> Result<Target, VerificationFailure> {
        Target::new(
            Self::PROVIDER,
            &self.base,
            Some(c.subdomain.as_str()),
            scrubber(&c.api_key, None),
        )
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
    articles: Vec<Article>,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    total_pages: Option<u32>,
}

#[derive(Deserialize)]
struct Article {
    id: Id,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    answer: Option<AnswerField>,
}

/// `answer` is an object in some accounts and an array of them in others (providers.md).
#[derive(Deserialize)]
#[serde(untagged)]
enum AnswerField {
    One(ArticleAnswer),
    Many(Vec<ArticleAnswer>),
    /// Anything else: no body.
    Other(IgnoredAny),
}

#[derive(Deserialize)]
struct ArticleAnswer {
    #[serde(default)]
    body: Option<String>,
}

impl Article {
    fn listed(self) -> Listed {
        let html = match self.answer {
            Some(AnswerField::One(a)) => a.body,
            Some(AnswerField::Many(all)) => all.into_iter().find_map(|a| a.body),
            Some(AnswerField::Other(_)) | None => None,
        };
        Listed {
            id: self.id.into_string(),
            title: self.name.unwrap_or_default(),
            url: self.url,
            html,
        }
    }
}

fn import_messages(target: &Target) -> StatusMessages {
    StatusMessages {
        unauthorized: format!(
            "Helpjuice did not accept the API key for {}. Use the key from Settings > API Credentials.",
            target.host
        ),
        forbidden: format!(
            "Helpjuice refused the API key for {} (it may be invalid, or not allowed to read articles).",
            target.host
        ),
        not_found: String::new(),
        fixed_wait: Some(RATE_LIMIT_WAIT),
    }
}


fn interpret(target: &Target, answer: &Answer) -> Result<(), VerificationFailure> {
    target.expect_ok(answer, || StatusMessages {
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
    })?;
    match answer.json() {
        Some(json) if json.is_object() => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
