//! Zendesk: `GET /api/v2/users/me.json` with `Basic base64("{email}/token:{token}")`.
//!
//! `users/me` answers anonymous callers (and, per reports, wrong credentials) with **200 and
//! an anonymous user** (`id: null`), so success needs 200 JSON with a non-null `user.id` and
//! `user.role` agent or admin.
//!
//! Import: `GET /api/v2/help_center/articles.json` with cursor pagination, `page[size]=100`
//! (the maximum) and `page[after]={meta.after_cursor}`; `meta.has_more: false` ends the
//! listing (the last page still carries an `after_cursor`), and `links.next` is never followed.
//! Body `body`, public address `html_url`. The position holds the cursor of the current page
//! (`None`: the first), the article and the image.

use integrations_domain::credentials::zendesk::ZendeskCredentials;
use integrations_domain::{FailureReason, VerificationFailure};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{Connection, HelpCenter, Walked};
use crate::http::Answer;
use crate::images::{self, Id, Listed, Session, Slot};
use crate::outcome::{StatusMessages, Target};

const ARTICLES: &str = "/api/v2/help_center/articles.json";
/// Zendesk's largest `page[size]`.
const PAGE_SIZE: &str = "100";

pub(crate) struct Zendesk;

impl HelpCenter for Zendesk {
    credentials!(Zendesk, ZendeskCredentials);
    const PER_ACCOUNT: bool = true;
    const PROBE: &'static str = "/api/v2/users/me.json";
    type At = At;

    fn connect(c: &ZendeskCredentials) -> Result<Connection<'_>, VerificationFailure> {
        let user = format!("{}/token", c.username.as_str());
        Ok(Connection::basic(&c.token, &user, c.token.expose_secret())
            .account(c.subdomain.as_str()))
    }

    fn interpret(
        c: &ZendeskCredentials,
        target: &Target,
        answer: &Answer,
    ) -> Result<(), VerificationFailure> {
        let email = c.username.as_str();
        target.expect_ok(answer, || StatusMessages {
            forbidden: format!(
                "Zendesk accepted the API token for \"{email}\" but denied access to the current user; an agent or admin account is needed."
            ),
            ..Self::import_messages(c, target)
        })?;
        let Some(json) = answer.json() else {
            return Err(target.unexpected_body(answer));
        };
        let Some(user) = json.get("user").filter(|u| u.is_object()) else {
            return Err(target.unexpected_body(answer));
        };
        let id_present = user.get("id").is_some_and(|id| !id.is_null());
        if !id_present {
            return Err(VerificationFailure::new(
                FailureReason::InvalidCredentials,
                format!(
                    "Zendesk did not accept the e-mail address \"{email}\" with this API token: it answered as an anonymous user. Check the e-mail, that the token is active, and that token access is enabled in the Admin Center."
                ),
            ));
        }
        let role = user.get("role").and_then(|r| r.as_str());
        target.expect_one_of(answer, role, &["agent", "admin"], |role| {
            format!("The Zendesk user \"{email}\" has the role \"{role}\"; an agent or admin is needed.")
        })
    }

    fn import_messages(c: &ZendeskCredentials, _: &Target) -> StatusMessages {
        let email = c.username.as_str();
        StatusMessages {
            unauthorized: format!(
                "Zendesk did not accept the e-mail address \"{email}\" with this API token. Check the e-mail, that the token is active, and that token access is enabled in the Admin Center."
            ),
            forbidden: format!(
                "Zendesk accepted the API token for \"{email}\" but refused to list the Help Center articles."
            ),
            not_found: String::new(),
            fixed_wait: None,
        }
    }

    async fn walk(s: &mut Session<'_>, _: &ZendeskCredentials, mut at: At) -> Walked<At> {
        loop {
            if !s.may_call() {
                return Ok(Some(at));
            }
            let mut q = vec![("page[size]", PAGE_SIZE)];
            if let Some(after) = &at.after {
                q.push(("page[after]", after));
            }
            let page: ListPage = s
                .get(&format!("{ARTICLES}?{}", images::query(&q)), "article list")
                .await?;
            let articles: Vec<Listed> = page.articles.into_iter().map(Article::listed).collect();
            if let Some(slot) = s.page(&articles, at.slot) {
                at.slot = slot;
                return Ok(Some(at));
            }
            if !page.meta.has_more || articles.is_empty() {
                return Ok(None);
            }
            let next = images::cursor(s.target(), page.meta.after_cursor)?;
            if at.after.as_deref() == Some(next.as_str()) {
                return Err(VerificationFailure::new(
                    FailureReason::ProviderError,
                    "Zendesk gave the same cursor for the next page of articles as for this one.",
                ));
            }
            at = At {
                after: Some(next),
                slot: Slot::default(),
            };
            s.moved();
        }
    }
}

/// Where an import stands: the `page[after]` of the current page (`None`: the first page),
/// and the article and image on it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct At {
    after: Option<String>,
    slot: Slot,
}

#[derive(Deserialize)]
struct ListPage {
    articles: Vec<Article>,
    meta: Meta,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    after_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Article {
    id: Id,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

impl Article {
    fn listed(self) -> Listed {
        Listed {
            id: self.id.into_string(),
            title: self.title.unwrap_or_default(),
            url: self.html_url,
            html: self.body,
        }
    }
}
