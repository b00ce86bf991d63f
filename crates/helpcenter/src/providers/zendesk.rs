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

use async_trait::async_trait;
use integrations_domain::credentials::zendesk::ZendeskCredentials;
use integrations_domain::{Credentials, FailureReason, ImagePage, Provider, VerificationFailure};
use integrations_outbound::{ConfigError, ProvidersConfig, UrlTemplate};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    basic, scrubber, template, wrong_provider, ClientSettings, HelpCenterClient, SMALL_BODY,
};
use crate::http::{Answer, Http, Request};
use crate::images::{self, Id, Listed, Session, Slot};
use crate::outcome::{StatusMessages, Target};

const ARTICLES: &str = "/api/v2/help_center/articles.json";
/// Zendesk's largest `page[size]`.
const PAGE_SIZE: &str = "100";

pub(crate) struct Zendesk {
    base: UrlTemplate,
}

impl ClientSettings for Zendesk {
    const PROVIDER: Provider = Provider::Zendesk;
    const SETTINGS: &'static [&'static str] = &["base_url"];

    fn build(config: &ProvidersConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            base: template(config, Self::PROVIDER, "base_url", true)?,
        })
    }
}

impl Zendesk {
    /// The target and the `Authorization` value of `c`.
    fn connect(
        &self,
        c: &ZendeskCredentials,
    ) -> Result<(Target, SecretString), VerificationFailure> {
        let user = format!("{}/token", c.username.as_str());
        let target = Target::new(
            Self::PROVIDER,
            &self.base,
            Some(c.subdomain.as_str()),
            scrubber(&c.token, Some(&user)),
        )?;
        Ok((target, basic(&user, c.token.expose_secret())))
    }
}

#[async_trait]
impl HelpCenterClient for Zendesk {
    async fn verify(
        &self,
        http: &Http,
        credentials: &Credentials,
    ) -> Result<(), VerificationFailure> {
        let Credentials::Zendesk(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let (target, authorization) = self.connect(c)?;
        let request = Request {
            url: target.url("/api/v2/users/me.json"),
            authorization: Some(authorization),
            headers: Vec::new(),
            body_limit: SMALL_BODY,
        };
        let answer = target.send(http, &request).await?;
        interpret(&target, c.username.as_str(), &answer)
    }

    async fn images(
        &self,
        http: &Http,
        credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<ImagePage, VerificationFailure> {
        let Credentials::Zendesk(c) = credentials else {
            return Err(wrong_provider(Self::PROVIDER, credentials));
        };
        let mut at: At = images::decode(Self::PROVIDER, position)?.unwrap_or_default();
        let (target, authorization) = self.connect(c)?;
        let messages = import_messages(c.username.as_str());
        let mut s = Session::new(
            http,
            Self::PROVIDER,
            target,
            authorization,
            Vec::new(),
            messages,
            limit,
        )?;
        loop {
            if !s.may_call() {
                return s.finish(Some(&at));
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
                return s.finish(Some(&at));
            }
            if !page.meta.has_more || articles.is_empty() {
                return s.finish(None::<&At>);
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
struct At {
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

fn import_messages(email: &str) -> StatusMessages {
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

fn interpret(target: &Target, email: &str, answer: &Answer) -> Result<(), VerificationFailure> {
    target.expect_ok(answer, || StatusMessages {
        unauthorized: format!(
            "Zendesk did not accept the e-mail address \"{email}\" with this API token. Check the e-mail, that the token is active, and that token access is enabled in the Admin Center."
        ),
        forbidden: format!(
            "Zendesk accepted the API token for \"{email}\" but denied access to the current user; an agent or admin account is needed."
        ),
        not_found: String::new(),
        fixed_wait: None,
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
    match user.get("role").and_then(|r| r.as_str()) {
        Some("agent") | Some("admin") => Ok(()),
        Some(role) => Err(VerificationFailure::new(
            FailureReason::InsufficientPermissions,
            format!(
                "The Zendesk user \"{email}\" has the role \"{}\"; an agent or admin is needed.",
                target.quote(role)
            ),
        )),
        None => Err(target.unexpected_body(answer)),
    }
}
