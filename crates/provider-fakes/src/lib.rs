#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Local stand-ins ("fakes") of the six help-center providers' documented APIs, for end-to-end
//! tests of verification and of the image import.
//!
//! One actix server, started on `127.0.0.1:0` inside the current tokio runtime, answers all six
//! providers on their own paths (they do not collide):
//!
//! | provider | auth accepted (exactly one secret) | verify | article listing |
//! |---|---|---|---|
//! | Zendesk | `Basic base64("{email}/token:{token}")` | `GET /api/v2/users/me.json` (200 + anonymous user otherwise), `GET /api/v2/users.json` | `GET /api/v2/help_center[/{locale}]/articles.json`: cursor (`page[size]` ≤ 100, `page[after]`, `page[before]`) or, without `page[size]`, offset (`page`, `per_page`) pagination; `GET /api/v2/help_center[/{locale}]/articles/{id}.json` |
//! | Intercom | `Bearer {token}` (+ `Intercom-Version`, see [`FakeConfig::intercom_require_version`]) | `GET /me` | `GET /articles?page=&per_page=` (≤ 250), `GET /articles/{id}` |
//! | Help Scout (Docs) | Basic, user = API key, any password | `GET /v1/sites` | `GET /v1/collections`, `GET /v1/collections/{id}/articles?page=&pageSize=` (≤ 100), `GET /v1/articles/{id}` |
//! | Helpjuice | `Authorization: {key}` (raw) or `?api_key=` | `GET /api/v3/settings/account`, `GET /api/v3/categories` | `GET /api/v3/articles?page=&limit=` (≤ 1000), `GET /api/v3/articles/{id}` |
//! | Freshdesk | Basic, user = API key, any password | `GET /api/v2/agents/me`, `GET /api/v2/settings/helpdesk` | `GET /api/v2/solutions/categories` → `…/categories/{id}/folders` → `GET /api/v2/solutions/folders/{id}/articles?page=&per_page=` (≤ 100), `GET /api/v2/solutions/articles/{id}` |
//! | KnowledgeOwl | Basic, user = API key, any password | `GET /api/head/article.json?project_id=&limit=1` | `GET /api/head/article.json?project_id=&page=&limit=` (filters also read from a JSON body on the GET), `GET /api/head/article/{id}.json` |
//!
//! Shapes that `providers.md` marks UNCONFIRMED, and what this fake picked:
//!
//! * Zendesk: the anonymous user of `users/me` is `{"id":null,"name":"Anonymous user",
//!   "email":"invalid@example.com","role":"end-user",…}`; a request without any `Authorization`
//!   header to another endpoint is treated like wrong credentials (401), although the real
//!   Help Center would serve public content to anonymous callers; an invalid `page[size]` (0,
//!   not a number, > 100) or cursor is `400 {"errors":[{"code":"InvalidPaginationParameter",
//!   "title":…,"detail":…}]}` (the shape Zendesk uses for `InvalidPaginationDepth`); the last
//!   page of a cursor listing still carries `meta.after_cursor` and `links.next` (an empty page
//!   follows) — `meta.has_more: false` is the stop signal; 403 is `{"error":"Forbidden",
//!   "description":…}`; articles are listed by `position` ascending (Zendesk's default
//!   `sort_by`), and their ids are not in that order. Offset pagination (no `page[size]`)
//!   answers `count`, `next_page`, `page_count`…, caps `per_page` at 100 silently, and refuses
//!   `page` > 100 with `400 InvalidPaginationDepth`.
//! * Intercom: without an `Intercom-Version` header the API uses the app's version, so the
//!   default `per_page` is 15 for versions up to `2.11` (and without the header) and 25 for later
//!   versions; `pages.next` is the URL of the next page and is absent on the last page; an
//!   invalid `per_page` (0, > 250) is `400 error.list` with code `parameter_invalid`; every
//!   fifth article has `"url": null`.
//! * Help Scout: errors are `{"code": <status>, "error": "<message>"}` (bad key → 401); an
//!   empty collection answers `pages: 1` with no items; `pageSize` 0 or > 100 → 400;
//!   collections are one page (of up to 50).
//! * Helpjuice: a bad or missing key (when "Require token for API?" is on) is
//!   `401 {"error":"Invalid API key"}`; with [`FakeConfig::helpjuice_require_token`] off, every
//!   request is answered, whatever its key (the pessimistic reading of the UNCONFIRMED
//!   behaviour: a wrong key "verifies"); `limit` 0 or > 1000 → `400 {"error":…}`; one article
//!   is `{"article":{…}}`; articles carry `url`; `answer` is an object for most articles and an
//!   array of one object for every third (k % 3 == 1).
//! * Freshdesk: `per_page` > 100 → `400 {"description":"Validation failed","errors":[{"field":
//!   "per_page","message":…,"code":"invalid_value"}]}`; default `per_page` 30; a `Link: <…>;
//!   rel="next"` header when a next page exists; an empty folder answers 204 (any page), a page
//!   past the end of a non-empty folder `200 []`; 403 is `{"code":"access_denied",…}`; the
//!   inline image URL shapes are invented (`/helpdesk/attachments/{id}`, an S3 URL).
//! * KnowledgeOwl: a wrong `project_id` answers **200** `{"valid":false,"message":…}` (so a
//!   client must check `valid`, not only the status); without `project_id` every article of
//!   the account is listed; a bad key is `401 {"valid":false,"message":"Invalid API key"}`;
//!   `limit` defaults to 100 and has no maximum; its own rate-limit signal is UNCONFIRMED, the
//!   fake uses `Retry-After: <seconds>`.
//! * 429 bodies: Zendesk `text/plain` "Number of allowed API requests per minute exceeded"
//!   (50 bytes); Intercom `error.list` `rate_limit_exceeded`; Helpjuice `{"message":"You have
//!   fired too many requests, please wait one minute."}`; Help Scout, Freshdesk, KnowledgeOwl a
//!   plausible JSON body (UNCONFIRMED).
//!
//! Articles carry HTML built from hand-written templates (see the `content` module) whose
//! expected images are written next to them: [`FakeHelpCenters::expected_images`] is the truth an
//! importer is checked against.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod content;
mod data;
mod server;

pub use content::TEMPLATE_COUNT;

/// The one secret every provider accepts in [`FakeConfig::default`].
pub const GOOD_SECRET: &str = "good-secret-123";
/// The Zendesk agent's e-mail in [`FakeConfig::default`].
pub const ZENDESK_EMAIL: &str = "agent@example.com";
/// The KnowledgeOwl knowledge base (project) id in [`FakeConfig::default`].
pub const KNOWLEDGEOWL_PROJECT: &str = "5a1b2c3d4e5f60718293a4b5";

/// The six help-center providers (this crate's own enum; it does not depend on the domain crate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Zendesk,
    Intercom,
    Helpscout,
    Helpjuice,
    Freshdesk,
    Knowledgeowl,
}

impl Provider {
    pub const ALL: [Provider; 6] = [
        Provider::Zendesk,
        Provider::Intercom,
        Provider::Helpscout,
        Provider::Helpjuice,
        Provider::Freshdesk,
        Provider::Knowledgeowl,
    ];

    /// `zendesk`, `intercom`, `helpscout`, `helpjuice`, `freshdesk`, `knowledgeowl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Zendesk => "zendesk",
            Provider::Intercom => "intercom",
            Provider::Helpscout => "helpscout",
            Provider::Helpjuice => "helpjuice",
            Provider::Freshdesk => "freshdesk",
            Provider::Knowledgeowl => "knowledgeowl",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many articles each provider holds. Article `k` (0-based, in listing order) uses body
/// template `k % TEMPLATE_COUNT`, so a dataset of at least [`TEMPLATE_COUNT`] articles covers
/// every template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datasets {
    pub zendesk: usize,
    pub intercom: usize,
    /// Articles per collection, in collection order (several collections; `0` = an empty one).
    pub helpscout: Vec<usize>,
    pub helpjuice: usize,
    /// Per category, articles per folder (`vec![]` = a category without folders, `0` = an empty
    /// folder).
    pub freshdesk: Vec<Vec<usize>>,
    pub knowledgeowl: usize,
}

impl Default for Datasets {
    /// Small: 12 Zendesk, 9 Intercom, Help Scout 4 + 0 + 4 in three collections, 8 Helpjuice,
    /// Freshdesk `[[3, 0], [2, 4], []]` (9 articles, one empty folder, one category without
    /// folders), 8 KnowledgeOwl.
    fn default() -> Self {
        Datasets {
            zendesk: 12,
            intercom: 9,
            helpscout: vec![4, 0, 4],
            helpjuice: 8,
            freshdesk: vec![vec![3, 0], vec![2, 4], vec![]],
            knowledgeowl: 8,
        }
    }
}

/// What the fake accepts and holds.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    pub zendesk_email: String,
    pub zendesk_token: String,
    /// The role `users/me` reports for the right credentials (`admin`, `agent`, `end-user`…).
    pub zendesk_role: String,
    pub intercom_token: String,
    /// Refuse (400 `error.list`, code `intercom_version_missing`) an authenticated request
    /// without an `Intercom-Version` header. The real API treats the header as optional (it then
    /// uses the app's version); this is on by default so tests see that the client sends it.
    pub intercom_require_version: bool,
    pub helpscout_api_key: String,
    pub helpjuice_api_key: String,
    /// Helpjuice's "Require token for API?": on, a request without the key (or with a wrong one)
    /// is 401; off, every request is answered whatever its key.
    pub helpjuice_require_token: bool,
    pub freshdesk_api_key: String,
    pub knowledgeowl_api_key: String,
    pub knowledgeowl_project: String,
    pub datasets: Datasets,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            zendesk_email: ZENDESK_EMAIL.to_owned(),
            zendesk_token: GOOD_SECRET.to_owned(),
            zendesk_role: "admin".to_owned(),
            intercom_token: GOOD_SECRET.to_owned(),
            intercom_require_version: true,
            helpscout_api_key: GOOD_SECRET.to_owned(),
            helpjuice_api_key: GOOD_SECRET.to_owned(),
            helpjuice_require_token: true,
            freshdesk_api_key: GOOD_SECRET.to_owned(),
            knowledgeowl_api_key: GOOD_SECRET.to_owned(),
            knowledgeowl_project: KNOWLEDGEOWL_PROJECT.to_owned(),
            datasets: Datasets::default(),
        }
    }
}

/// One image an importer must report (API.md section 6, "Import from a help center").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExpectedImage {
    pub article_id: String,
    pub article_title: String,
    pub article_url: Option<String>,
    pub image_url: String,
    pub alt: Option<String>,
}

/// How a rate-limited answer (429) says when to come back. The body is always the provider's
/// own 429 body; the style only chooses the headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitStyle {
    /// `Retry-After: <seconds>` (Zendesk, Freshdesk; KnowledgeOwl here).
    RetryAfterSeconds(u64),
    /// `Retry-After: <HTTP-date>`, that many seconds from now.
    RetryAfterHttpDate(u64),
    /// `X-RateLimit-Reset: <unix time now + seconds>`, no `Retry-After` (Intercom).
    ResetUnixTime(u64),
    /// `X-RateLimit-Reset: <seconds>` until the window resets (Help Scout).
    ResetSeconds(u64),
    /// No header at all (Helpjuice: "please wait one minute" in the body).
    NoHeader,
}

impl RateLimitStyle {
    /// The provider's own documented signal, asking to wait `secs` (Helpjuice: no header).
    pub fn native(provider: Provider, secs: u64) -> RateLimitStyle {
        match provider {
            Provider::Zendesk | Provider::Freshdesk | Provider::Knowledgeowl => {
                RateLimitStyle::RetryAfterSeconds(secs)
            }
            Provider::Intercom => RateLimitStyle::ResetUnixTime(secs),
            Provider::Helpscout => RateLimitStyle::ResetSeconds(secs),
            Provider::Helpjuice => RateLimitStyle::NoHeader,
        }
    }
}

/// What a faulted request gets instead of its normal answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// This status with the provider's own error body for it (401/403 as for bad credentials or
    /// missing permission, 500/503 a server error).
    Status(u16),
    /// 429 with the provider's body and the style's headers.
    RateLimited(RateLimitStyle),
    /// The normal answer, this much later (deadline tests).
    Delay(Duration),
    /// A web page (`text/html`) with this status instead of JSON.
    Html(u16),
}

/// One request the fake received. The `Authorization` value is never kept, and an `api_key`
/// query parameter is replaced by `REDACTED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub path_and_query: String,
    pub authorization_present: bool,
    /// The provider whose path this is (`None` for a path of no provider).
    pub provider: Option<Provider>,
}

/// The running fake. Cheap to query from tests; stop it with [`FakeHelpCenters::stop`].
pub struct FakeHelpCenters {
    /// `http://127.0.0.1:PORT`: the base URL of every provider.
    pub base_url: String,
    handle: ServerHandle,
    shared: Arc<server::Shared>,
}

impl FakeHelpCenters {
    /// Binds `127.0.0.1:0` and spawns the server onto the current tokio runtime (call it from
    /// inside one, e.g. a `#[tokio::test]`).
    pub fn start(config: FakeConfig) -> FakeHelpCenters {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let base_url = format!("http://127.0.0.1:{port}");
        let data = data::Data::generate(&base_url, &config.datasets);
        let shared = Arc::new(server::Shared {
            config,
            data,
            origin: base_url.clone(),
            state: Mutex::new(server::State::default()),
        });
        let app_data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_data.clone())
                .default_service(web::to(server::handle))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeHelpCenters {
            base_url,
            handle,
            shared,
        }
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &FakeConfig {
        &self.shared.config
    }

    /// The settings that point every help-center provider at this server, as
    /// environment-variable-style pairs without the `INTEGRATIONS__` prefix.
    pub fn overrides(&self) -> Vec<(String, String)> {
        [
            "PROVIDERS__ZENDESK__BASE_URL",
            "PROVIDERS__INTERCOM__BASE_URL",
            "PROVIDERS__INTERCOM__BASE_URL_EU",
            "PROVIDERS__INTERCOM__BASE_URL_AU",
            "PROVIDERS__HELPSCOUT__BASE_URL",
            "PROVIDERS__HELPJUICE__BASE_URL",
            "PROVIDERS__FRESHDESK__BASE_URL",
            "PROVIDERS__KNOWLEDGEOWL__BASE_URL",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), self.base_url.clone()))
        .collect()
    }

    /// The images an importer must report for `provider`: articles in the provider's listing
    /// order, each article's images in document order, each URL once per article (the first
    /// occurrence, with its alt), relative URLs resolved against [`Self::base_url`], `data:`
    /// URLs left out. Computed from the hand-written description of each body template, not by
    /// parsing the HTML.
    pub fn expected_images(&self, provider: Provider) -> Vec<ExpectedImage> {
        self.shared
            .data
            .articles(provider)
            .into_iter()
            .flat_map(|a| {
                a.expected.iter().map(move |(url, alt)| ExpectedImage {
                    article_id: a.id.clone(),
                    article_title: a.title.clone(),
                    article_url: a.public_url.clone(),
                    image_url: url.clone(),
                    alt: alt.clone(),
                })
            })
            .collect()
    }

    /// The ids of `provider`'s articles, in listing order.
    pub fn article_ids(&self, provider: Provider) -> Vec<String> {
        self.shared
            .data
            .articles(provider)
            .into_iter()
            .map(|a| a.id.clone())
            .collect()
    }

    /// The next `times` requests to `provider`'s endpoints get `fault` instead of their answer.
    pub fn set_fault(&self, provider: Provider, fault: Fault, times: usize) {
        self.set_fault_after(provider, 0, fault, times);
    }

    /// Lets the next `skip` requests to `provider` through, then faults the `times` after them
    /// (e.g. `skip = 1` makes the second page fail).
    pub fn set_fault_after(&self, provider: Provider, skip: usize, fault: Fault, times: usize) {
        self.push_rule(server::Target::Provider(provider), skip, fault, times);
    }

    /// Faults the next `times` requests whose path starts with the part of `prefix` before any
    /// `?`, and whose query holds every `key=value` (or bare `key`: present with any value) of
    /// the part after it, in any order and percent-decoded. E.g. `"/articles?page=2"`, or
    /// `"/api/v2/help_center/articles.json?page[after]"` for every page after the first.
    pub fn set_fault_on_path(&self, prefix: &str, fault: Fault, times: usize) {
        let (path, query) = prefix.split_once('?').unwrap_or((prefix, ""));
        let params = query
            .split('&')
            .filter(|part| !part.is_empty())
            .filter_map(|part| {
                let (k, v) = server::parse_query(part).into_iter().next()?;
                Some((k, part.contains('=').then_some(v)))
            })
            .collect();
        self.push_rule(
            server::Target::Path {
                prefix: path.to_owned(),
                params,
            },
            0,
            fault,
            times,
        );
    }

    fn push_rule(&self, target: server::Target, skip: usize, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        self.shared.lock().rules.push(server::Rule {
            target,
            skip,
            remaining: times,
            fault,
        });
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.shared.lock().rules.clear();
    }

    /// How many faulted answers are still pending, over all rules.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().rules.iter().map(|r| r.remaining).sum()
    }

    /// Every request received so far, oldest first (faulted ones included).
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests to one provider's endpoints.
    pub fn requests_to(&self, provider: Provider) -> Vec<SeenRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.provider == Some(provider))
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Stops the server (in-flight requests are dropped).
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
