//! Intercom: `GET /me` with `Authorization: Bearer {token}` and `Intercom-Version: 2.11` on
//! the host of the workspace's region. Success: 200 JSON with `type: "admin"`.
//!
//! Import: `GET /articles?page={n}&per_page=250` (250 is the documented maximum); list items
//! carry `body` (HTML) and `url` (may be null). `pages.total_pages` tells whether more pages
//! follow (without it, a full page does); the next URL is built from the configured origin,
//! never taken from `pages.next`. A 429 says when to come back in `X-RateLimit-Reset` (a UNIX
//! time). The position holds the page number, the article and the image.

use integrations_domain::credentials::intercom::IntercomCredentials;
use integrations_domain::credentials::IntercomRegion;
use integrations_domain::VerificationFailure;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::numbered::{self, At, NumberedPages, Page, PageCount};
use super::{scrubber, Connection, HelpCenter, Walked};
use crate::http::Answer;
use crate::images::{Id, Listed, Session};
use crate::outcome::{StatusMessages, Target};

pub(crate) const API_VERSION: &str = "2.11";

pub(crate) struct Intercom;

impl HelpCenter for Intercom {
    credentials!(Intercom, IntercomCredentials);
    const SETTINGS: &'static [&'static str] = &["base_url", "base_url_eu", "base_url_au"];
    const PER_ACCOUNT: bool = false;
    const PROBE: &'static str = "/me";
    type At = At;

    /// The region's host, `Bearer {token}`, and the API version on every call.
    fn connect(c: &IntercomCredentials) -> Result<Connection<'_>, VerificationFailure> {
        let setting = match c.region {
            IntercomRegion::Us => "base_url",
            IntercomRegion::Eu => "base_url_eu",
            IntercomRegion::Au => "base_url_au",
        };
        let authorization = SecretString::from(format!("Bearer {}", c.token.expose_secret()));
        Ok(Connection::new(scrubber(&c.token, None), authorization)
            .setting(setting)
            .header("Intercom-Version", API_VERSION))
    }

    fn interpret(
        c: &IntercomCredentials,
        target: &Target,
        answer: &Answer,
    ) -> Result<(), VerificationFailure> {
        let region = c.region.as_str().to_ascii_uppercase();
        let host = &target.host;
        target.expect_ok(answer, || StatusMessages {
            forbidden: "Intercom accepted the access token but refused to identify its admin (the workspace may need an active subscription, or the app lacks permission).".to_owned(),
            not_found: format!(
                "Intercom found no admin for this access token on the {region} region's host ({host})."
            ),
            ..Self::import_messages(c, target)
        })?;
        let Some(json) = answer.json() else {
            return Err(target.unexpected_body(answer));
        };
        let kind = json.get("type").and_then(|t| t.as_str());
        target.expect_one_of(answer, kind, &["admin"], |kind| {
            format!("The Intercom access token does not identify an admin (Intercom answered with type \"{kind}\").")
        })
    }

    fn import_messages(c: &IntercomCredentials, target: &Target) -> StatusMessages {
        let region = c.region.as_str().to_ascii_uppercase();
        let host = &target.host;
        StatusMessages {
            unauthorized: format!(
                "Intercom did not accept the access token on the {region} region's host ({host}). Check the token, and that the workspace is hosted in the {region} region."
            ),
            forbidden: "Intercom accepted the access token but refused to list the articles (the app may lack the read_articles scope, or the workspace an active subscription).".to_owned(),
            not_found: format!("Intercom found no articles for this access token on the {region} region's host ({host})."),
            fixed_wait: None,
        }
    }

    async fn walk(s: &mut Session<'_>, c: &IntercomCredentials, at: At) -> Walked<At> {
        numbered::walk::<Self>(s, c, at).await
    }
}

impl NumberedPages for Intercom {
    const ARTICLES: &'static str = "/articles";
    /// Intercom's largest `per_page`.
    const PER_PAGE: (&'static str, u32) = ("per_page", 250);
    type List = ListPage;

    fn page(
        _: &IntercomCredentials,
        _: &Target,
        list: ListPage,
    ) -> Result<Page, VerificationFailure> {
        Ok(Page {
            articles: list.data.into_iter().map(Article::listed).collect(),
            total_pages: list.pages.and_then(|p| p.total_pages),
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct ListPage {
    data: Vec<Article>,
    #[serde(default)]
    pages: Option<PageCount>,
}

#[derive(Deserialize)]
struct Article {
    id: Id,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

impl Article {
    fn listed(self) -> Listed {
        Listed {
            id: self.id.into_string(),
            title: self.title.unwrap_or_default(),
            url: self.url,
            html: self.body,
        }
    }
}
