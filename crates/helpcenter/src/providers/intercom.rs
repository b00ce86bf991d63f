//! Intercom: `GET /me` with `Authorization: Bearer {token}` and `Intercom-Version: 2.11` on
//! the host of the workspace's region. Success: 200 JSON with `type: "admin"`.
//!
//! Import: `GET /articles?page={n}&per_page=250` (250 is the documented maximum); list items
//! carry `body` (HTML) and `url` (may be null). `pages.total_pages` tells whether more pages
//! follow (without it, a full page does); the next URL is built from the configured origin,
//! never taken from `pages.next`. A 429 says when to come back in `X-RateLimit-Reset` (a UNIX
//! time). The position holds the page number, the article and the image.

use async_trait::async_trait;
use integrations_domain::credentials::intercom::IntercomCredentials;
use integrations_domain::credentials::IntercomRegion;
use integrations_domain::{Credentials, FailureReason, ImagePage, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::images::{self, Id, Listed, Session, Slot};
use crate::outcome::{StatusMessages, Target};

pub(crate) const API_VERSION: &str = "2.11";
/// Intercom's largest `per_page`.
const PER_PAGE: u32 = 250;

pub(crate) struct Intercom {
    us: UrlTemplate,
    eu: UrlTemplate,
    au: UrlTemplate,
}

impl ClientSettings for Intercom {
    const PROVIDER: Provider = Provider::Intercom;
    const SETTINGS: &'static [&'static str] = &["base_url", "base_url_eu", "base_url_au"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            us: template(config, Self::PROVIDER, "base_url", false)?,
            eu: template(config, Self::PROVIDER, "base_url_eu", false)?,
            au: template(config, Self::PROVIDER, "base_url_au", false)?,
        })
    }
}

impl Intercom {
    pub(crate) fn base(&self, region: IntercomRegion) -> &UrlTemplate {
        match region {
            IntercomRegion::Us => &self.us,
            IntercomRegion::Eu => &self.eu,
            IntercomRegion::Au => &self.au,
        }
    }
}

impl Intercom {
    /// The target (the region's host) and the `Authorization` value of `c`.
    fn connect(
        &self,
        c: &IntercomCredentials,
    ) -> Result<(Target, SecretString), VerificationFailure> {
        let target = Target::new(
            Self::PROVIDER,
            self.base(c.region),
            None,
            scrubber(&c.token, None),
        )?;
        let authorization = SecretString::from(format!("Bearer {}", c.token.expose_secret()));
        Ok((target, authorization))
    }
}

#[async_trait]
impl HelpCenterClient for Intercom {
    async fn verify(
        &self,
        http: &Http,
        credentials: &Credentials,
    ) -> Result<(), VerificationFailure> {
        let Credentials::Intercom(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let (target, authorization) = self.connect(c)?;
        let request = Request {
            url: target.url("/me"),
            authorization: Some(authorization),
            headers: vec![("Intercom-Version", API_VERSION)],
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, c.region, &answer)
    }

    async fn images(
        &self,
        http: &Http,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure> {
        let Credentials::Intercom(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let mut at: At = images::decode(Self::PROVIDER, position)?.unwrap_or_default();
        let (target, authorization) = self.connect(c)?;
        let messages = import_messages(&target, c.region);
        let mut s = Session::new(
            http,
            Self::PROVIDER,
            target,
            authorization,
            vec![("Intercom-Version", API_VERSION)],
            messages,
            limit,
        )?;
        loop {
            if !s.may_call() {
                return s.finish(Some(&at));
            }
            let page_number = at.page.to_string();
            let per_page = PER_PAGE.to_string();
            let q = images::query(&[("page", &page_number), ("per_page", &per_page)]);
            let page: ListPage = s.get(&format!("/articles?{q}"), "article list").await?;
            let count = page.data.len();
            let articles: Vec<Listed> = page.data.into_iter().map(Article::listed).collect();
            if let Some(slot) = s.page(&articles, at.slot) {
                at.slot = slot;
                return s.finish(Some(&at));
            }
            let more = match page.pages.and_then(|p| p.total_pages) {
                Some(total) => at.page < total,
                None => count >= PER_PAGE as usize,
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
    data: Vec<Article>,
    #[serde(default)]
    pages: Option<Pages>,
}

#[derive(Deserialize)]
struct Pages {
    #[serde(default)]
    total_pages: Option<u32>,
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

fn import_messages(target: &Target, region: IntercomRegion) -> StatusMessages {
    let region = region.as_str().to_ascii_uppercase();
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

fn interpret(
    target: &Target,
    region: IntercomRegion,
    answer: &Answer,
) -> Result<(), VerificationFailure> {
    let region = region.as_str().to_ascii_uppercase();
    let host = &target.host;
    target.expect_ok(answer, || StatusMessages {
        unauthorized: format!(
            "Intercom did not accept the access token on the {region} region's host ({host}). Check the token, and that the workspace is hosted in the {region} region."
        ),
        forbidden: "Intercom accepted the access token but refused to identify its admin (the workspace may need an active subscription, or the app lacks permission).".to_owned(),
        not_found: format!(
            "Intercom found no admin for this access token on the {region} region's host ({host})."
        ),
        fixed_wait: None,
    })?;
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
