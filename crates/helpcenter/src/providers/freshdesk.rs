//! Freshdesk: `GET /api/v2/agents/me` with Basic auth, the API key as user and `X` as
//! password. Success: 200 JSON with a non-null agent `id`.
//!
//! Import: `GET /api/v2/solutions/categories` → `GET /api/v2/solutions/categories/{id}/folders`
//! → `GET /api/v2/solutions/folders/{id}/articles?per_page=100&page={n}` (100 is the maximum);
//! the HTML is `description`, and the API gives no public address. A folder's listing ends
//! with a short page; 204 is an empty folder. The category and folder lists are one answer
//! each (not paginated). Sub-folders are not walked (not in the documented traversal). The
//! position holds the category index and id, the folder index and id (a resume goes straight
//! to that folder), the articles page, and the article and image.

use async_trait::async_trait;
use integrations_domain::credentials::freshdesk::FreshdeskCredentials;
use integrations_domain::{Credentials, ImagePage, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{basic, scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY};
use crate::http::{Answer, Http, Request};
use crate::images::{self, Id, Listed, Session, Slot};
use crate::outcome::{StatusMessages, Target};

/// Freshdesk's largest `per_page`.
const PER_PAGE: u32 = 100;

pub(crate) struct Freshdesk {
    base: UrlTemplate,
}

impl ClientSettings for Freshdesk {
    const PROVIDER: Provider = Provider::Freshdesk;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", true)?,
        })
    }
}

impl Freshdesk {
    /// The target and the `Authorization` value of `c`.
    fn connect(
        &self,
        c: &FreshdeskCredentials,
    ) -> Result<(Target, SecretString), VerificationFailure> {
        let key = c.api_key.expose_secret();
        let target = Target::new(
            Self::PROVIDER,
            &self.base,
            Some(c.subdomain.as_str()),
            scrubber(&c.api_key, Some(key)),
        )?;
        Ok((target, basic(key, "X")))
    }
}

#[async_trait]
impl HelpCenterClient for Freshdesk {
    async fn verify(
        &self,
        http: &Http,
        credentials: &Credentials,
    ) -> Result<(), VerificationFailure> {
        let Credentials::Freshdesk(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let (target, authorization) = self.connect(c)?;
        let request = Request {
            url: target.url("/api/v2/agents/me"),
            authorization: Some(authorization),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, &answer)
    }

    async fn images(
        &self,
        http: &Http,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure> {
        let Credentials::Freshdesk(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let mut at: At = images::decode(Self::PROVIDER, position)?.unwrap_or_default();
        let (target, authorization) = self.connect(c)?;
        let messages = import_messages(&target);
        let mut s = Session::new(
            http,
            Self::PROVIDER,
            target,
            authorization,
            Vec::new(),
            messages,
            limit,
        )?;
        // The lists read during this call: the categories, and one category's folders.
        let mut categories: Option<Vec<String>> = None;
        let mut folders: Option<(String, Vec<String>)> = None;
        loop {
            // Which category: the one of the position, else category `c` of the list.
            let category = match &at.category {
                Some(id) => id.clone(),
                None => {
                    let list = match &categories {
                        Some(list) => list,
                        None => {
                            if !s.may_call() {
                                return s.finish(Some(&at));
                            }
                            let all: Option<Vec<Container>> = s
                                .get_or_no_content("/api/v2/solutions/categories", "category list")
                                .await?;
                            categories.insert(ids(all))
                        }
                    };
                    let Some(id) = list.get(at.c as usize) else {
                        return s.finish(None::<&At>);
                    };
                    at.category = Some(id.clone());
                    at.f = 0;
                    at.folder = None;
                    id.clone()
                }
            };
            let category = images::path_segment(s.target(), &category)?.to_owned();

            // Which folder: the one of the position, else folder `f` of the category.
            let folder = match &at.folder {
                Some(id) => id.clone(),
                None => {
                    let list = match &folders {
                        Some((of, list)) if *of == category => list,
                        _ => {
                            if !s.may_call() {
                                return s.finish(Some(&at));
                            }
                            let all: Option<Vec<Container>> = s
                                .get_or_no_content(
                                    &format!("/api/v2/solutions/categories/{category}/folders"),
                                    "folder list",
                                )
                                .await?;
                            &folders.insert((category.clone(), ids(all))).1
                        }
                    };
                    match list.get(at.f as usize) {
                        Some(id) => {
                            at.folder = Some(id.clone());
                            at.page = 1;
                            at.slot = Slot::default();
                            id.clone()
                        }
                        None => {
                            // The category is done: on to the next one.
                            at.category = None;
                            at.c = at.c.saturating_add(1);
                            s.moved();
                            continue;
                        }
                    }
                }
            };
            let folder = images::path_segment(s.target(), &folder)?.to_owned();

            // Its articles page.
            if !s.may_call() {
                return s.finish(Some(&at));
            }
            let page_number = at.page.to_string();
            let per_page = PER_PAGE.to_string();
            let q = images::query(&[("per_page", &per_page), ("page", &page_number)]);
            let page: Option<Vec<Article>> = s
                .get_or_no_content(
                    &format!("/api/v2/solutions/folders/{folder}/articles?{q}"),
                    "article list",
                )
                .await?;
            let page = page.unwrap_or_default();
            let count = page.len();
            let articles: Vec<Listed> = page.into_iter().map(Article::listed).collect();
            if let Some(slot) = s.page(&articles, at.slot) {
                at.slot = slot;
                return s.finish(Some(&at));
            }
            if count < PER_PAGE as usize {
                // A short page ends the folder: on to the next one.
                at.folder = None;
                at.f = at.f.saturating_add(1);
            } else {
                at.page = at.page.saturating_add(1);
            }
            at.slot = Slot::default();
            s.moved();
        }
    }
}

/// The ids of a category or folder list (`None`: 204, empty).
fn ids(list: Option<Vec<Container>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .map(|c| c.id.into_string())
        .collect()
}

/// Where an import stands.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct At {
    /// The category's index in the list and its id (`None`: take category `c` of the list).
    c: u32,
    category: Option<String>,
    /// The folder's index in the category and its id (`None`: take folder `f`).
    f: u32,
    folder: Option<String>,
    /// The folder's articles page (from 1), and the article and image on it.
    page: u32,
    slot: Slot,
}

impl Default for At {
    fn default() -> Self {
        Self {
            c: 0,
            category: None,
            f: 0,
            folder: None,
            page: 1,
            slot: Slot::default(),
        }
    }
}

/// A category or a folder.
#[derive(Deserialize)]
struct Container {
    id: Id,
}

#[derive(Deserialize)]
struct Article {
    id: Id,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

impl Article {
    fn listed(self) -> Listed {
        Listed {
            id: self.id.into_string(),
            title: self.title.unwrap_or_default(),
            url: None,
            html: self.description,
        }
    }
}

fn import_messages(target: &Target) -> StatusMessages {
    let host = &target.host;
    StatusMessages {
        unauthorized: format!(
            "Freshdesk did not accept the API key for {host}. Use the key from Profile settings > View API key of an agent of this helpdesk."
        ),
        forbidden: "Freshdesk accepted the API key but refused to list the knowledge base (the agent may lack permission to view solutions, or the feature is not enabled).".to_owned(),
        not_found: String::new(),
        fixed_wait: None,
    }
}

fn interpret(target: &Target, answer: &Answer) -> Result<(), VerificationFailure> {
    let host = &target.host;
    target.expect_ok(answer, || StatusMessages {
        unauthorized: format!(
            "Freshdesk did not accept the API key for {host}. Use the key from Profile settings > View API key of an agent of this helpdesk."
        ),
        forbidden: "Freshdesk accepted the API key but denied access to the current agent (the agent may lack permission, API access may not be enabled on the plan, or the account is locked after failed logins).".to_owned(),
        not_found: String::new(),
        fixed_wait: None,
    })?;
    match answer.json() {
        Some(json) if json.get("id").is_some_and(|id| !id.is_null()) => Ok(()),
        _ => Err(target.unexpected_body(answer)),
    }
}
