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

use integrations_domain::credentials::helpjuice::HelpjuiceCredentials;
use integrations_domain::{FailureReason, VerificationFailure};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::numbered::{self, At, NumberedPages, Page, PageCount};
use super::{scrubber, Connection, HelpCenter, Walked};
use crate::http::{Answer, Http, Request};
use crate::images::{Id, Listed, Session};
use crate::outcome::{StatusMessages, Target};

pub(crate) const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

pub(crate) struct Helpjuice;

impl HelpCenter for Helpjuice {
    credentials!(Helpjuice, HelpjuiceCredentials);
    const PER_ACCOUNT: bool = true;
    const PROBE: &'static str = "/api/v3/settings/account";
    type At = At;

    /// The account's host and the raw key as `Authorization` (no scheme).
    fn connect(c: &HelpjuiceCredentials) -> Result<Connection<'_>, VerificationFailure> {
        Ok(
            Connection::new(scrubber(&c.api_key, None), c.api_key.clone())
                .account(c.subdomain.as_str()),
        )
    }

    fn interpret(
        c: &HelpjuiceCredentials,
        target: &Target,
        answer: &Answer,
    ) -> Result<(), VerificationFailure> {
        target.expect_ok(answer, || StatusMessages {
            forbidden: format!(
                "Helpjuice refused the API key for {} (it may be invalid, or not allowed to read the account settings).",
                target.host
            ),
            ..Self::import_messages(c, target)
        })?;
        match answer.json() {
            Some(json) if json.is_object() => Ok(()),
            _ => Err(target.unexpected_body(answer)),
        }
    }

    /// The probe again without any key: it must be refused, or the key proved nothing.
    async fn confirm(
        http: &Http,
        target: &Target,
        probe: Request,
    ) -> Result<(), VerificationFailure> {
        let control = Request {
            authorization: None,
            ..probe
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

    fn import_messages(_: &HelpjuiceCredentials, target: &Target) -> StatusMessages {
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

    async fn walk(s: &mut Session<'_>, c: &HelpjuiceCredentials, at: At) -> Walked<At> {
        numbered::walk::<Self>(s, c, at).await
    }
}

impl NumberedPages for Helpjuice {
    const ARTICLES: &'static str = "/api/v3/articles";
    /// Articles per page (the maximum is 1000: see the module docs for why not).
    const PER_PAGE: (&'static str, u32) = ("limit", 100);
    type List = ListPage;

    fn page(
        _: &HelpjuiceCredentials,
        _: &Target,
        list: ListPage,
    ) -> Result<Page, VerificationFailure> {
        Ok(Page {
            articles: list.articles.into_iter().map(Article::listed).collect(),
            total_pages: list.meta.and_then(|m| m.total_pages),
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct ListPage {
    articles: Vec<Article>,
    #[serde(default)]
    meta: Option<PageCount>,
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
