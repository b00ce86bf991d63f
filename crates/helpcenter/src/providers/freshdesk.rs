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

use integrations_domain::credentials::freshdesk::FreshdeskCredentials;
use integrations_domain::VerificationFailure;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{Connection, HelpCenter, Walked};
use crate::http::Answer;
use crate::images::{self, Id, Listed, Session, Slot};
use crate::outcome::{StatusMessages, Target};

/// Freshdesk's largest `per_page`.
const PER_PAGE: u32 = 100;

pub(crate) struct Freshdesk;

impl HelpCenter for Freshdesk {
    credentials!(Freshdesk, FreshdeskCredentials);
    const PER_ACCOUNT: bool = true;
    const PROBE: &'static str = "/api/v2/agents/me";
    type At = At;

    fn connect(c: &FreshdeskCredentials) -> Result<Connection<'_>, VerificationFailure> {
        let key = c.api_key.expose_secret();
        Ok(Connection::basic(&c.api_key, key, "X").account(c.subdomain.as_str()))
    }

    fn interpret(
        c: &FreshdeskCredentials,
        target: &Target,
        answer: &Answer,
    ) -> Result<(), VerificationFailure> {
        target.expect_ok(answer, || StatusMessages {
            forbidden: "Freshdesk accepted the API key but denied access to the current agent (the agent may lack permission, API access may not be enabled on the plan, or the account is locked after failed logins).".to_owned(),
            ..Self::import_messages(c, target)
        })?;
        match answer.json() {
            Some(json) if json.get("id").is_some_and(|id| !id.is_null()) => Ok(()),
            _ => Err(target.unexpected_body(answer)),
        }
    }

    fn import_messages(_: &FreshdeskCredentials, target: &Target) -> StatusMessages {
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

    async fn walk(s: &mut Session<'_>, _: &FreshdeskCredentials, mut at: At) -> Walked<At> {
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
                                return Ok(Some(at));
                            }
                            let all: Option<Vec<Container>> = s
                                .get_or_no_content("/api/v2/solutions/categories", "category list")
                                .await?;
                            categories.insert(ids(all))
                        }
                    };
                    let Some(id) = list.get(at.c as usize) else {
                        return Ok(None);
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
                                return Ok(Some(at));
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
                return Ok(Some(at));
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
                return Ok(Some(at));
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
pub(crate) struct At {
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
