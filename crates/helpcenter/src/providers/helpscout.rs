//! Help Scout **Docs** API: `GET /v1/sites` with Basic auth, the Docs API key as user and
//! `X` as password. Success: 200 JSON with a `sites` page. (A Mailbox API OAuth token is a
//! different credential and is refused here.)
//!
//! Import: `GET /v1/collections?page={n}` → for each collection
//! `GET /v1/collections/{id}/articles?page={n}&pageSize=100` (the maximum; article refs carry
//! no body) → for each article `GET /v1/articles/{id}` (`text` holds the HTML, `publicUrl`
//! the public address). Each envelope's `page`/`pages` drive the pagination. Every article
//! costs one call, so a page holds the images of at most a few articles (the call budget).
//! A 429 says when to come back in `X-RateLimit-Reset` (seconds). The position holds the
//! collections page and index and the collection's id (a resume goes straight to that
//! collection), its articles page, and the article and image.

use integrations_domain::credentials::helpscout::HelpscoutCredentials;
use integrations_domain::VerificationFailure;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{Connection, HelpCenter, Walked};
use crate::http::Answer;
use crate::images::{self, Id, Listed, Session};
use crate::outcome::{StatusMessages, Target};

/// Help Scout's largest `pageSize`.
const PAGE_SIZE: &str = "100";

pub(crate) struct Helpscout;

impl HelpCenter for Helpscout {
    credentials!(Helpscout, HelpscoutCredentials);
    const PER_ACCOUNT: bool = false;
    const PROBE: &'static str = "/v1/sites";
    type At = At;

    fn connect(c: &HelpscoutCredentials) -> Result<Connection<'_>, VerificationFailure> {
        let key = c.api_key.expose_secret();
        Ok(Connection::basic(&c.api_key, key, "X"))
    }

    fn interpret(
        c: &HelpscoutCredentials,
        target: &Target,
        answer: &Answer,
    ) -> Result<(), VerificationFailure> {
        target.expect_ok(answer, || StatusMessages {
            forbidden: "Help Scout accepted the Docs API key but its owner may not read Docs sites (the permission \"Docs: Create new, edit settings & Collections\" is needed).".to_owned(),
            not_found: "Help Scout found no Docs sites for this API key (is Docs enabled on the account?).".to_owned(),
            ..Self::import_messages(c, target)
        })?;
        match answer.json() {
            Some(json) if json.get("sites").is_some_and(|s| s.is_object()) => Ok(()),
            _ => Err(target.unexpected_body(answer)),
        }
    }

    fn import_messages(_: &HelpscoutCredentials, _: &Target) -> StatusMessages {
        StatusMessages {
            unauthorized: "Help Scout did not accept the Docs API key. Use the Docs API key from Your Profile > Authentication > API Keys (a Mailbox API token does not work here).".to_owned(),
            forbidden: "Help Scout accepted the Docs API key but its owner may not read the Docs collections and articles.".to_owned(),
            not_found: "Help Scout found no such Docs collection or article for this API key (it may have been deleted during the import).".to_owned(),
            fixed_wait: None,
        }
    }

    async fn walk(s: &mut Session<'_>, _: &HelpscoutCredentials, mut at: At) -> Walked<At> {
        // The collections page read during this call, if any: (page number, ids, pages).
        let mut collections: Option<(u32, Vec<String>, u32)> = None;
        loop {
            // Which collection: the one of the position, else the next one of the listing.
            let collection = match &at.collection {
                Some(id) => id.clone(),
                None => {
                    let listed = match &collections {
                        Some(list) if list.0 == at.cp => list,
                        _ => {
                            if !s.may_call() {
                                return Ok(Some(at));
                            }
                            let q = images::query(&[("page", &at.cp.to_string())]);
                            let page: CollectionsPage = s
                                .get(&format!("/v1/collections?{q}"), "collection list")
                                .await?;
                            let ids = page
                                .collections
                                .items
                                .into_iter()
                                .map(|c| c.id.into_string())
                                .collect();
                            collections.insert((at.cp, ids, page.collections.pages))
                        }
                    };
                    match listed.1.get(at.c as usize) {
                        Some(id) => {
                            at.collection = Some(id.clone());
                            at.ap = 1;
                            at.a = 0;
                            at.i = 0;
                            id.clone()
                        }
                        None if at.cp < listed.2 && !listed.1.is_empty() => {
                            at.cp = at.cp.saturating_add(1);
                            at.c = 0;
                            s.moved();
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
            };
            let collection = images::path_segment(s.target(), &collection)?.to_owned();

            // Its articles page.
            if !s.may_call() {
                return Ok(Some(at));
            }
            let q = images::query(&[("page", &at.ap.to_string()), ("pageSize", PAGE_SIZE)]);
            let page: ArticlesPage = s
                .get(
                    &format!("/v1/collections/{collection}/articles?{q}"),
                    "article list",
                )
                .await?;
            let pages = page.articles.pages;
            let refs = page.articles.items;
            let count = refs.len();
            let (start, start_image) = (at.a as usize, at.i);
            for (a, r) in refs.into_iter().enumerate().skip(start) {
                at.a = u32::try_from(a).unwrap_or(u32::MAX);
                at.i = if a == start { start_image } else { 0 };
                if !s.may_call() {
                    return Ok(Some(at));
                }
                let id = r.id.into_string();
                let path = format!("/v1/articles/{}", images::path_segment(s.target(), &id)?);
                let one: ArticlePage = s.get(&path, "article").await?;
                let article = Listed {
                    id,
                    title: one.article.name.or(r.name).unwrap_or_default(),
                    url: one.article.public_url.or(r.public_url),
                    html: one.article.text,
                };
                if let Some(i) = s.article(&article, at.i) {
                    at.i = i;
                    return Ok(Some(at));
                }
            }
            if at.ap < pages && count > 0 {
                at.ap = at.ap.saturating_add(1);
            } else {
                // The collection is done: on to the next one.
                at.collection = None;
                at.c = at.c.saturating_add(1);
                at.ap = 1;
            }
            at.a = 0;
            at.i = 0;
            s.moved();
        }
    }
}

/// Where an import stands.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct At {
    /// The collections page (from 1) and the collection's index on it.
    cp: u32,
    c: u32,
    /// The collection being walked (`None`: take collection `c` of page `cp`).
    collection: Option<String>,
    /// Its articles page (from 1), the article on it and the image in the article.
    ap: u32,
    a: u32,
    i: u32,
}

impl Default for At {
    fn default() -> Self {
        Self {
            cp: 1,
            c: 0,
            collection: None,
            ap: 1,
            a: 0,
            i: 0,
        }
    }
}

#[derive(Deserialize)]
struct CollectionsPage {
    collections: Envelope<Collection>,
}

#[derive(Deserialize)]
struct ArticlesPage {
    articles: Envelope<ArticleRef>,
}

/// Help Scout's page envelope.
#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default = "one")]
    pages: u32,
    items: Vec<T>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
struct Collection {
    id: Id,
}

#[derive(Deserialize)]
struct ArticleRef {
    id: Id,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "publicUrl")]
    public_url: Option<String>,
}

#[derive(Deserialize)]
struct ArticlePage {
    article: Article,
}

#[derive(Deserialize)]
struct Article {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "publicUrl")]
    public_url: Option<String>,
    #[serde(default)]
    text: Option<String>,
}
