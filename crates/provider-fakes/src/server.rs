//! The HTTP side: one handler routes every request to its provider, after logging it and
//! applying any pending fault.

use crate::data::{rfc3339, Article, Data};
use crate::{FakeConfig, Fault, Provider, RateLimitStyle, SeenRequest};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) struct Shared {
    pub config: FakeConfig,
    pub data: Data,
    pub origin: String,
    pub state: Mutex<State>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written in a way that
        // matters to a test double: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub requests: Vec<SeenRequest>,
    pub rules: Vec<Rule>,
    pub correlation: u64,
}

pub(crate) enum Target {
    Provider(Provider),
    Path {
        prefix: String,
        /// Query parameters that must be present; `None` = any value.
        params: Vec<(String, Option<String>)>,
    },
}

pub(crate) struct Rule {
    pub target: Target,
    pub skip: usize,
    pub remaining: usize,
    pub fault: Fault,
}

type Query = Vec<(String, String)>;

pub(crate) fn parse_query(qs: &str) -> Query {
    web::Query::<Query>::from_query(qs)
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

fn get<'a>(q: &'a Query, key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `Ok(None)` when absent, `Err(())` when present but not a whole number.
fn int(q: &Query, key: &str) -> Result<Option<usize>, ()> {
    match get(q, key) {
        None => Ok(None),
        Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| ()),
    }
}

/// Which provider a path belongs to.
pub(crate) fn provider_of(path: &str) -> Option<Provider> {
    if path == "/api/v2/users/me.json"
        || path == "/api/v2/users.json"
        || path.starts_with("/api/v2/help_center/")
    {
        Some(Provider::Zendesk)
    } else if path == "/me" || path == "/articles" || path.starts_with("/articles/") {
        Some(Provider::Intercom)
    } else if path.starts_with("/v1/") {
        Some(Provider::Helpscout)
    } else if path.starts_with("/api/v3/") {
        Some(Provider::Helpjuice)
    } else if path.starts_with("/api/v2/agents/")
        || path.starts_with("/api/v2/solutions/")
        || path.starts_with("/api/v2/settings/")
    {
        Some(Provider::Freshdesk)
    } else if path.starts_with("/api/head/") {
        Some(Provider::Knowledgeowl)
    } else {
        None
    }
}

/// The path and query as logged: `api_key` (Helpjuice) and `_authbykey` (KnowledgeOwl) values
/// are replaced, so no secret is ever stored.
fn redacted_path_and_query(req: &HttpRequest) -> String {
    let path = req.path();
    let qs = req.query_string();
    if qs.is_empty() {
        return path.to_owned();
    }
    let q: Vec<String> = qs
        .split('&')
        .map(|part| {
            let key = part.split('=').next().unwrap_or("");
            if key.eq_ignore_ascii_case("api_key") || key.eq_ignore_ascii_case("_authbykey") {
                format!("{key}=REDACTED")
            } else {
                part.to_owned()
            }
        })
        .collect();
    format!("{path}?{}", q.join("&"))
}

fn take_fault(state: &mut State, provider: Provider, path: &str, q: &Query) -> Option<Fault> {
    let mut fired = None;
    for rule in state.rules.iter_mut() {
        if rule.remaining == 0 {
            continue;
        }
        let matches = match &rule.target {
            Target::Provider(p) => *p == provider,
            Target::Path { prefix, params } => {
                path.starts_with(prefix.as_str())
                    && params.iter().all(|(k, v)| match v {
                        None => q.iter().any(|(qk, _)| qk == k),
                        Some(v) => q.iter().any(|(qk, qv)| qk == k && qv == v),
                    })
            }
        };
        if !matches {
            continue;
        }
        if rule.skip > 0 {
            rule.skip -= 1;
            continue;
        }
        rule.remaining -= 1;
        fired = Some(rule.fault);
        break;
    }
    state.rules.retain(|r| r.remaining > 0);
    fired
}

pub(crate) async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    sh: web::Data<Shared>,
) -> HttpResponse {
    let path = req.path().to_owned();
    let q = parse_query(req.query_string());
    let provider = provider_of(&path);
    let fault = {
        let mut st = sh.lock();
        st.requests.push(SeenRequest {
            method: req.method().as_str().to_owned(),
            path_and_query: redacted_path_and_query(&req),
            authorization_present: req.headers().contains_key("authorization"),
            provider,
        });
        provider.and_then(|p| take_fault(&mut st, p, &path, &q))
    };
    let Some(provider) = provider else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no fake provider endpoint at this path\n");
    };
    let mut resp = match fault {
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(f) => Some(fault_response(provider, f)),
        None => None,
    }
    .unwrap_or_else(|| {
        if req.method() != actix_web::http::Method::GET {
            return error(provider, 405, "Method not allowed by this fake");
        }
        let ctx = Ctx {
            sh: &sh,
            req: &req,
            q: &q,
            path: &path,
            body: &body,
        };
        match provider {
            Provider::Zendesk => zendesk(&ctx),
            Provider::Intercom => intercom(&ctx),
            Provider::Helpscout => helpscout(&ctx),
            Provider::Helpjuice => helpjuice(&ctx),
            Provider::Freshdesk => freshdesk(&ctx),
            Provider::Knowledgeowl => knowledgeowl(&ctx),
        }
    });
    if provider == Provider::Helpscout {
        let id = {
            let mut st = sh.lock();
            st.correlation += 1;
            st.correlation
        };
        if let Ok(v) = format!("fake-{id:08}").parse() {
            resp.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("correlation-id"),
                v,
            );
        }
    }
    resp
}

struct Ctx<'a> {
    sh: &'a Shared,
    req: &'a HttpRequest,
    q: &'a Query,
    path: &'a str,
    body: &'a [u8],
}

impl Ctx<'_> {
    fn origin(&self) -> &str {
        &self.sh.origin
    }

    fn authorization(&self) -> Option<&str> {
        self.req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
    }

    /// `(user, password)` of a Basic header.
    fn basic(&self) -> Option<(String, String)> {
        let h = self.authorization()?;
        let (scheme, rest) = h.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
        let (u, p) = decoded.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    }

    /// Basic auth whose user is `key`, any password (Help Scout, Freshdesk, KnowledgeOwl).
    fn basic_user_is(&self, key: &str) -> bool {
        matches!(self.basic(), Some((u, _)) if u == key)
    }

    fn bearer(&self) -> Option<&str> {
        let h = self.authorization()?;
        let (scheme, rest) = h.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(rest)
    }

    /// The path segments after `prefix` (which must match).
    fn rest(&self, prefix: &str) -> Option<Vec<&str>> {
        let rest = self.path.strip_prefix(prefix)?;
        Some(if rest.is_empty() {
            vec![]
        } else {
            rest.split('/').collect()
        })
    }
}

fn status(code: u16) -> HttpResponseBuilder {
    HttpResponse::build(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
}

fn ok(v: Value) -> HttpResponse {
    HttpResponse::Ok().json(v)
}

fn reason(code: u16) -> &'static str {
    StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The provider's own error answer for `code`.
fn error(provider: Provider, code: u16, detail: &str) -> HttpResponse {
    match provider {
        Provider::Zendesk => match code {
            401 => status(401)
                .insert_header(("WWW-Authenticate", "Basic realm=\"Web Password\""))
                .json(json!({"error": "Couldn't authenticate you"})),
            403 => status(403).json(json!({"error": "Forbidden", "description":
                "You do not have access to this page. Please contact the account owner of this help desk for further help."})),
            404 => status(404).json(json!({"error": "RecordNotFound", "description": "Not found"})),
            400 => status(400).json(json!({"errors": [{"code": "InvalidPaginationParameter",
                "title": "Invalid pagination parameter", "detail": detail}]})),
            _ => status(code).json(json!({"error": reason(code), "description": detail})),
        },
        Provider::Intercom => {
            let (c, m) = match code {
                400 => ("parameter_invalid", detail),
                401 => ("unauthorized", "Access Token Invalid"),
                403 => ("api_plan_restricted", "Active subscription needed."),
                404 => ("not_found", "Resource Not Found"),
                _ if code >= 500 => ("server_error", "Server Error"),
                _ => ("error", detail),
            };
            status(code).json(json!({"type": "error.list", "request_id": "000fake0req0id",
                "errors": [{"code": c, "message": m}]}))
        }
        Provider::Helpscout => status(code).json(json!({"code": code, "error": match code {
            401 => "Invalid API key",
            _ => detail,
        }})),
        Provider::Helpjuice => status(code).json(json!({"error": match code {
            401 => "Invalid API key",
            _ => detail,
        }})),
        Provider::Freshdesk => match code {
            401 => status(401).json(json!({"code": "invalid_credentials",
                "message": "You have to be logged in to perform this action."})),
            403 => status(403).json(json!({"code": "access_denied",
                "message": "You are not authorized to perform this action."})),
            404 => status(404).json(json!({"code": "not_found", "message": detail})),
            _ => status(code).json(json!({"code": reason(code).to_lowercase().replace(' ', "_"),
                "message": detail})),
        },
        Provider::Knowledgeowl => status(code).json(json!({"valid": false, "message": match code {
            401 => "Invalid API key",
            _ => detail,
        }})),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn fault_response(provider: Provider, fault: Fault) -> HttpResponse {
    match fault {
        Fault::Status(code) => error(provider, code, "Fault injected by the fake"),
        Fault::Html(code) => status(code).content_type("text/html; charset=utf-8").body(
            "<!DOCTYPE html>\n<html><head><title>Help Center Closed</title></head>\
             <body><h1>Oops, this help center no longer exists</h1>\
             <p>We could not find what you're looking for.</p></body></html>\n",
        ),
        Fault::RateLimited(style) => {
            let mut b = status(429);
            match style {
                RateLimitStyle::RetryAfterSeconds(s) => {
                    b.insert_header(("Retry-After", s.to_string()));
                }
                RateLimitStyle::RetryAfterHttpDate(s) => {
                    let at = SystemTime::now() + Duration::from_secs(s);
                    b.insert_header(("Retry-After", httpdate::fmt_http_date(at)));
                }
                RateLimitStyle::ResetUnixTime(s) => {
                    b.insert_header(("X-RateLimit-Limit", "167"));
                    b.insert_header(("X-RateLimit-Remaining", "0"));
                    b.insert_header(("X-RateLimit-Reset", (unix_now() + s).to_string()));
                }
                RateLimitStyle::ResetSeconds(s) => {
                    b.insert_header(("X-RateLimit-Limit", "2000"));
                    b.insert_header(("X-RateLimit-Remaining", "0"));
                    b.insert_header(("X-RateLimit-Reset", s.to_string()));
                }
                RateLimitStyle::NoHeader => {}
            }
            match provider {
                Provider::Zendesk => {
                    b.insert_header(("X-Rate-Limit", "700"));
                    b.insert_header(("X-Rate-Limit-Remaining", "0"));
                    b.content_type("text/plain")
                        .body("Number of allowed API requests per minute exceeded")
                }
                Provider::Intercom => b.json(json!({"type": "error.list",
                    "request_id": "000fake0req0id", "errors": [{"code": "rate_limit_exceeded",
                    "message": "Exceeded rate limit of 167 in 10_seconds"}]})),
                Provider::Helpscout => b.json(json!({"code": 429, "error": "Too Many Requests"})),
                Provider::Helpjuice => b.json(json!({"message":
                    "You have fired too many requests, please wait one minute."})),
                Provider::Freshdesk => b.json(json!({"code": "rate_limit_exceeded",
                    "message": "You have exceeded the limit of requests per minute"})),
                Provider::Knowledgeowl => b.json(json!({"valid": false,
                    "message": "Rate limit exceeded"})),
            }
        }
        // Handled by the caller (a late normal answer).
        Fault::Delay(_) => error(provider, 500, "unreachable"),
    }
}

fn ceil_div(n: usize, d: usize) -> usize {
    n.div_ceil(d.max(1))
}

/// `items[start..start+len]`, clamped.
fn window<T>(items: &[T], start: usize, len: usize) -> &[T] {
    let s = start.min(items.len());
    let e = start.saturating_add(len).min(items.len());
    &items[s..e]
}

// ---------------------------------------------------------------------------------------------
// Zendesk

fn zendesk(c: &Ctx) -> HttpResponse {
    let cfg = &c.sh.config;
    let authed = c.basic().is_some_and(|(u, p)| {
        u == format!("{}/token", cfg.zendesk_email) && p == cfg.zendesk_token
    });
    if c.path == "/api/v2/users/me.json" {
        return if authed {
            ok(json!({"user": zendesk_agent(c)}))
        } else {
            ok(
                json!({"user": {"id": null, "url": null, "name": "Anonymous user",
                "email": "invalid@example.com", "role": "end-user", "active": false,
                "verified": false, "locale": "en-US", "time_zone": "UTC",
                "authenticity_token": "fake-authenticity-token"}}),
            )
        };
    }
    if !authed {
        return error(Provider::Zendesk, 401, "");
    }
    if c.path == "/api/v2/users.json" {
        return ok(json!({"users": [zendesk_agent(c)], "next_page": null,
            "previous_page": null, "count": 1}));
    }
    let Some(rest) = c.rest("/api/v2/help_center/") else {
        return error(Provider::Zendesk, 404, "");
    };
    // Optional locale segment.
    let rest: Vec<&str> = match rest.first() {
        Some(first) if !first.starts_with("articles") => rest[1..].to_vec(),
        _ => rest,
    };
    match rest.as_slice() {
        ["articles.json"] => zendesk_list(c),
        ["articles", id] => {
            let id = id.strip_suffix(".json").unwrap_or(id);
            match c.sh.data.zendesk.iter().find(|a| a.id == id) {
                Some(a) => ok(json!({"article": zendesk_article(c, a)})),
                None => error(Provider::Zendesk, 404, ""),
            }
        }
        _ => error(Provider::Zendesk, 404, ""),
    }
}

fn zendesk_agent(c: &Ctx) -> Value {
    json!({"id": 1_900_000_001_u64, "url": format!("{}/api/v2/users/1900000001.json", c.origin()),
        "name": "Fake Agent", "email": c.sh.config.zendesk_email, "role": c.sh.config.zendesk_role,
        "active": true, "verified": true, "locale": "en-US", "time_zone": "UTC"})
}

fn zendesk_article(c: &Ctx, a: &Article) -> Value {
    json!({
        "id": a.id_json,
        "url": format!("{}/api/v2/help_center/en-us/articles/{}.json", c.origin(), a.id),
        "html_url": a.public_url,
        "author_id": 1_900_000_001_u64,
        "comments_disabled": false,
        "draft": false,
        "promoted": false,
        "position": a.k,
        "vote_sum": 0,
        "vote_count": 0,
        "section_id": 360_000_100_001_u64,
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
        "edited_at": rfc3339(a.updated_at),
        "name": a.title,
        "title": a.title,
        "source_locale": "en-us",
        "locale": "en-us",
        "outdated": false,
        "outdated_locales": [],
        "permission_group_id": 1,
        "user_segment_id": null,
        "label_names": [],
        "content_tag_ids": [],
        "body": a.html,
    })
}

fn zendesk_cursor(i: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("fake-zendesk-cursor:{i}"))
}

fn zendesk_decode_cursor(s: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    raw.strip_prefix("fake-zendesk-cursor:")?.parse().ok()
}

fn zendesk_list(c: &Ctx) -> HttpResponse {
    let all = &c.sh.data.zendesk;
    let base = format!("{}{}", c.origin(), c.path);
    let bad = |detail: &str| error(Provider::Zendesk, 400, detail);
    // Without `page[size]`, Zendesk uses offset pagination (even if `page[after]` is given).
    if get(c.q, "page[size]").is_some() {
        let size = match int(c.q, "page[size]") {
            Ok(Some(s)) if (1..=100).contains(&s) => s,
            _ => return bad("page[size] must be an integer from 1 to 100"),
        };
        let (start, end) = if let Some(after) = get(c.q, "page[after]") {
            let Some(i) = zendesk_decode_cursor(after).filter(|i| *i <= all.len()) else {
                return bad("page[after] is not a valid cursor");
            };
            (i, (i + size).min(all.len()))
        } else if let Some(before) = get(c.q, "page[before]") {
            let Some(i) = zendesk_decode_cursor(before).filter(|i| *i <= all.len()) else {
                return bad("page[before] is not a valid cursor");
            };
            (i.saturating_sub(size), i)
        } else {
            (0, size.min(all.len()))
        };
        let page = &all[start..end];
        let backwards = get(c.q, "page[before]").is_some() && get(c.q, "page[after]").is_none();
        let has_more = if backwards {
            start > 0
        } else {
            end < all.len()
        };
        let (after, before) = if page.is_empty() {
            (Value::Null, Value::Null)
        } else {
            (zendesk_cursor(end).into(), zendesk_cursor(start).into())
        };
        let next = after
            .as_str()
            .map(|a| format!("{base}?page[size]={size}&page[after]={a}"));
        let prev = before
            .as_str()
            .map(|b| format!("{base}?page[size]={size}&page[before]={b}"));
        return ok(json!({
            "articles": page.iter().map(|a| zendesk_article(c, a)).collect::<Vec<_>>(),
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {"next": next, "prev": prev},
        }));
    }
    let (page, per_page) = match (int(c.q, "page"), int(c.q, "per_page")) {
        (Ok(p), Ok(pp)) => (p.unwrap_or(1).max(1), pp.unwrap_or(30).clamp(1, 100)),
        _ => return bad("page and per_page must be integers"),
    };
    if page > 100 {
        return status(400).json(json!({"errors": [{"code": "InvalidPaginationDepth",
            "title": "Pagination requests using Offset Pagination are limited to page 100 or up to 10000 records (page * per_page)",
            "detail": "Use cursor pagination (page[size]) to list further."}]}));
    }
    let items = window(all, (page - 1) * per_page, per_page);
    let page_count = ceil_div(all.len(), per_page);
    let next = (page < page_count).then(|| format!("{base}?page={}&per_page={per_page}", page + 1));
    let previous = (page > 1).then(|| format!("{base}?page={}&per_page={per_page}", page - 1));
    ok(json!({
        "articles": items.iter().map(|a| zendesk_article(c, a)).collect::<Vec<_>>(),
        "count": all.len(),
        "next_page": next,
        "page": page,
        "page_count": page_count,
        "per_page": per_page,
        "previous_page": previous,
        "sort_by": "position",
        "sort_order": "asc",
    }))
}

// ---------------------------------------------------------------------------------------------
// Intercom

/// `(major, minor)` of an `Intercom-Version`; `Preview` is newest.
fn intercom_version(c: &Ctx) -> Option<(u32, u32)> {
    let v = c
        .req
        .headers()
        .get("intercom-version")?
        .to_str()
        .ok()?
        .trim();
    if v.eq_ignore_ascii_case("preview") || v.eq_ignore_ascii_case("unstable") {
        return Some((u32::MAX, 0));
    }
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn intercom(c: &Ctx) -> HttpResponse {
    let cfg = &c.sh.config;
    if c.bearer() != Some(cfg.intercom_token.as_str()) {
        return error(Provider::Intercom, 401, "");
    }
    let version_header = c.req.headers().contains_key("intercom-version");
    if cfg.intercom_require_version && !version_header {
        return status(400).json(json!({"type": "error.list", "request_id": "000fake0req0id",
            "errors": [{"code": "intercom_version_missing",
            "message": "This fake requires the Intercom-Version header"}]}));
    }
    match c.path {
        "/me" => ok(json!({
            "type": "admin", "id": "991267", "email": "admin@example.com", "name": "Fake Admin",
            "email_verified": true,
            "app": {"type": "app", "id_code": "fakeapp1", "name": "Fake Workspace",
                "created_at": 1_609_459_200, "secure": false, "identity_verification": false,
                "timezone": "Europe/Paris", "region": "US"},
            "avatar": {"type": "avatar", "image_url": null},
            "has_inbox_seat": true,
        })),
        "/articles" => intercom_list(c),
        _ => {
            let id = c.path.trim_start_matches("/articles/");
            match c.sh.data.intercom.iter().find(|a| a.id == id) {
                Some(a) => ok(intercom_article(a)),
                None => error(Provider::Intercom, 404, ""),
            }
        }
    }
}

fn intercom_article(a: &Article) -> Value {
    json!({
        "type": "article",
        "id": a.id_json,
        "workspace_id": "fakeapp1",
        "title": a.title,
        "description": format!("About: {}", a.title),
        "body": a.html,
        "author_id": 991_267,
        "state": "published",
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "url": a.public_url,
        "parent_id": 145,
        "parent_ids": [145],
        "parent_type": "collection",
        "default_locale": "en",
        "statistics": {"type": "article_statistics", "views": 0, "conversions": 0,
            "reactions": 0, "happy_reaction_percentage": 0, "neutral_reaction_percentage": 0,
            "sad_reaction_percentage": 0},
    })
}

fn intercom_list(c: &Ctx) -> HttpResponse {
    let all = &c.sh.data.intercom;
    let default_per_page = match intercom_version(c) {
        Some(v) if v > (2, 11) => 25,
        _ => 15,
    };
    let bad = |m: &str| error(Provider::Intercom, 400, m);
    let page = match int(c.q, "page") {
        Ok(None) => 1,
        Ok(Some(p)) if p >= 1 => p,
        _ => return bad("page must be a positive integer"),
    };
    let per_page = match int(c.q, "per_page") {
        Ok(None) => default_per_page,
        Ok(Some(p)) if (1..=250).contains(&p) => p,
        _ => return bad("per_page must be between 1 and 250"),
    };
    let total_pages = ceil_div(all.len(), per_page);
    let items = window(all, (page - 1) * per_page, per_page);
    let mut pages = json!({"type": "pages", "page": page, "per_page": per_page,
        "total_pages": total_pages});
    if page < total_pages {
        pages["next"] = json!(format!(
            "{}/articles?page={}&per_page={per_page}",
            c.origin(),
            page + 1
        ));
    }
    ok(json!({
        "type": "list",
        "pages": pages,
        "total_count": all.len(),
        "data": items.iter().map(intercom_article).collect::<Vec<_>>(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Help Scout (Docs API v1)

const HELPSCOUT_SITE: &str = "5c0e8f5e2c7d3a2ea8d6e2b1";

fn helpscout(c: &Ctx) -> HttpResponse {
    if !c.basic_user_is(&c.sh.config.helpscout_api_key) {
        return error(Provider::Helpscout, 401, "");
    }
    let data = &c.sh.data;
    let Some(rest) = c.rest("/v1/") else {
        return error(Provider::Helpscout, 404, "Not found");
    };
    match rest.as_slice() {
        ["sites"] => ok(
            json!({"sites": {"page": 1, "pages": 1, "count": 1, "items": [{
            "id": HELPSCOUT_SITE, "status": "active", "subDomain": "fake", "cname": null,
            "hasPublicSite": true, "companyName": "Fake Co", "title": "Fake Docs",
            "createdAt": rfc3339(1_609_459_200), "updatedAt": rfc3339(1_609_459_200)}]}}),
        ),
        ["collections"] => {
            let page = match int(c.q, "page") {
                Ok(p) => p.unwrap_or(1).max(1),
                Err(()) => return error(Provider::Helpscout, 400, "Invalid page"),
            };
            let items = window(&data.helpscout, (page - 1) * 50, 50);
            ok(json!({"collections": {
                "page": page,
                "pages": ceil_div(data.helpscout.len(), 50).max(1),
                "count": data.helpscout.len(),
                "items": items.iter().map(|col| json!({
                    "id": col.id, "siteId": HELPSCOUT_SITE, "number": col.number,
                    "slug": format!("collection-{}", col.number), "visibility": "public",
                    "order": col.number, "name": col.name, "description": null,
                    "publicUrl": format!("https://fake.helpscoutdocs.com/collection/{}-collection-{}", col.number, col.number),
                    "articleCount": col.articles.len(),
                    "publishedArticleCount": col.articles.len(),
                    "createdBy": 1, "updatedBy": 1,
                    "createdAt": rfc3339(1_609_459_200), "updatedAt": rfc3339(1_609_459_200),
                })).collect::<Vec<_>>(),
            }}))
        }
        ["collections", id, "articles"] => {
            let Some(col) = data.helpscout.iter().find(|col| col.id == *id) else {
                return error(Provider::Helpscout, 404, "Collection not found");
            };
            let page = match int(c.q, "page") {
                Ok(None) => 1,
                Ok(Some(p)) if p >= 1 => p,
                _ => return error(Provider::Helpscout, 400, "Invalid page"),
            };
            let size = match int(c.q, "pageSize") {
                Ok(None) => 50,
                Ok(Some(s)) if (1..=100).contains(&s) => s,
                _ => {
                    return error(
                        Provider::Helpscout,
                        400,
                        "pageSize must be between 1 and 100",
                    )
                }
            };
            let items = window(&col.articles, (page - 1) * size, size);
            ok(json!({"articles": {
                "page": page,
                "pages": ceil_div(col.articles.len(), size).max(1),
                "count": col.articles.len(),
                "items": items.iter().map(|a| helpscout_ref(a, &col.id)).collect::<Vec<_>>(),
            }}))
        }
        ["articles", id] => {
            let found = data
                .helpscout
                .iter()
                .find_map(|col| col.articles.iter().find(|a| a.id == *id).map(|a| (col, a)));
            match found {
                Some((col, a)) => {
                    let mut v = helpscout_ref(a, &col.id);
                    v["text"] = json!(a.html);
                    v["slug"] = json!(format!("article-{}", a.k + 1));
                    v["categories"] = json!([]);
                    v["related"] = json!([]);
                    v["keywords"] = json!([]);
                    ok(json!({"article": v}))
                }
                None => error(Provider::Helpscout, 404, "Article not found"),
            }
        }
        _ => error(Provider::Helpscout, 404, "Not found"),
    }
}

fn helpscout_ref(a: &Article, collection: &str) -> Value {
    json!({
        "id": a.id_json, "number": a.k + 1, "collectionId": collection, "status": "published",
        "hasDraft": false, "name": a.title, "publicUrl": a.public_url, "popularity": 0.0,
        "viewCount": 0, "createdBy": 1, "updatedBy": 1,
        "createdAt": rfc3339(a.created_at), "updatedAt": rfc3339(a.updated_at),
        "lastPublishedAt": rfc3339(a.updated_at),
    })
}

// ---------------------------------------------------------------------------------------------
// Helpjuice

fn helpjuice(c: &Ctx) -> HttpResponse {
    let cfg = &c.sh.config;
    let key = cfg.helpjuice_api_key.as_str();
    let authed = c.authorization() == Some(key) || get(c.q, "api_key") == Some(key);
    if cfg.helpjuice_require_token && !authed {
        return error(Provider::Helpjuice, 401, "");
    }
    let all = &c.sh.data.helpjuice;
    let Some(rest) = c.rest("/api/v3/") else {
        return error(Provider::Helpjuice, 404, "Not found");
    };
    match rest.as_slice() {
        ["settings", "account"] => ok(json!({
            "name": "Fake Account", "subdomain": "fake", "internal_kb": false,
            "expire_password_after_days": null, "contact_us_email": "support@example.com",
            "created_at": rfc3339(1_609_459_200)})),
        ["categories"] => ok(json!({
            "meta": {"current": 1, "limit": 25, "total_pages": 1, "total_count": 1},
            "categories": [{"id": 5, "name": "General", "codename": "5-general",
                "accessibility": 0, "description": "", "url": format!("{}/en_US/general", c.origin())}]})),
        ["articles"] => {
            let page = match int(c.q, "page") {
                Ok(None) => 1,
                Ok(Some(p)) if p >= 1 => p,
                _ => return error(Provider::Helpjuice, 400, "page must be a positive integer"),
            };
            let limit = match int(c.q, "limit") {
                Ok(None) => 25,
                Ok(Some(l)) if (1..=1000).contains(&l) => l,
                _ => return error(Provider::Helpjuice, 400, "limit must be between 1 and 1000"),
            };
            let items = window(all, (page - 1) * limit, limit);
            ok(json!({
                "meta": {"current": page, "limit": limit,
                    "total_pages": ceil_div(all.len(), limit), "total_count": all.len()},
                "articles": items.iter().map(helpjuice_article).collect::<Vec<_>>(),
            }))
        }
        ["articles", id] => match all.iter().find(|a| a.id == *id) {
            Some(a) => ok(json!({"article": helpjuice_article(a)})),
            None => error(Provider::Helpjuice, 404, "Not found"),
        },
        _ => error(Provider::Helpjuice, 404, "Not found"),
    }
}

fn helpjuice_article(a: &Article) -> Value {
    let answer = json!({
        "id": 800_000 + a.k,
        "body": a.html,
        "body_txt": format!("{} (text version)", a.title),
        "processed_body": a.html,
        "format": "html",
        "updated_at": rfc3339(a.updated_at),
    });
    json!({
        "id": a.id_json,
        "name": a.title,
        "views": 0,
        "accessibility": 0,
        "description": format!("About: {}", a.title),
        "codename": format!("article-{}", a.k + 1),
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
        "published": true,
        "url": a.public_url,
        // Both shapes exist (providers.md): an array of one object for every third article.
        "answer": if a.k % 3 == 1 { json!([answer]) } else { answer },
    })
}

// ---------------------------------------------------------------------------------------------
// Freshdesk

fn freshdesk(c: &Ctx) -> HttpResponse {
    if !c.basic_user_is(&c.sh.config.freshdesk_api_key) {
        return error(Provider::Freshdesk, 401, "");
    }
    let data = &c.sh.data;
    let not_found = || {
        error(
            Provider::Freshdesk,
            404,
            "The requested resource was not found",
        )
    };
    let Some(rest) = c.rest("/api/v2/") else {
        return not_found();
    };
    match rest.as_slice() {
        ["agents", "me"] => ok(json!({
            "id": 5_000_777_001_u64, "available": true, "occasional": false, "signature": null,
            "ticket_scope": 1, "type": "support_agent",
            "created_at": rfc3339(1_609_459_200), "updated_at": rfc3339(1_609_459_200),
            "contact": {"active": true, "email": "agent@example.com", "name": "Fake Agent",
                "job_title": null, "language": "en", "time_zone": "UTC"}})),
        ["settings", "helpdesk"] => ok(json!({"primary_language": "en",
            "supported_languages": [], "portal_languages": []})),
        ["solutions", "categories"] => ok(json!(data
            .freshdesk
            .iter()
            .map(
                |cat| json!({"id": cat.id, "name": cat.name, "description": null,
                "visible_in_portals": [5_000_000_001_u64],
                "created_at": rfc3339(1_609_459_200), "updated_at": rfc3339(1_609_459_200)})
            )
            .collect::<Vec<_>>())),
        ["solutions", "categories", id, "folders"] => {
            match data.freshdesk.iter().find(|cat| cat.id.to_string() == *id) {
                Some(cat) => ok(json!(cat
                    .folders
                    .iter()
                    .map(|f| json!({"id": f.id, "name": f.name, "description": null,
                        "visibility": 1, "articles_count": f.articles.len(),
                        "created_at": rfc3339(1_609_459_200), "updated_at": rfc3339(1_609_459_200)}))
                    .collect::<Vec<_>>())),
                None => not_found(),
            }
        }
        ["solutions", "folders", id, "articles"] => {
            let found = data.freshdesk.iter().find_map(|cat| {
                cat.folders
                    .iter()
                    .find(|f| f.id.to_string() == *id)
                    .map(|f| (cat, f))
            });
            let Some((cat, folder)) = found else {
                return not_found();
            };
            let page = match int(c.q, "page") {
                Ok(None) => 1,
                Ok(Some(p)) if p >= 1 => p,
                _ => return freshdesk_invalid("page", "It should be a Positive Integer"),
            };
            let per_page = match int(c.q, "per_page") {
                Ok(None) => 30,
                Ok(Some(p)) if (1..=100).contains(&p) => p,
                _ => {
                    return freshdesk_invalid(
                        "per_page",
                        "It should be a Positive Integer less than or equal to 100",
                    )
                }
            };
            if folder.articles.is_empty() {
                return HttpResponse::NoContent().finish();
            }
            let items = window(&folder.articles, (page - 1) * per_page, per_page);
            let mut b = HttpResponse::Ok();
            if page * per_page < folder.articles.len() {
                b.insert_header((
                    "Link",
                    format!(
                        "<{}/api/v2/solutions/folders/{}/articles?page={}&per_page={per_page}>; rel=\"next\"",
                        c.origin(),
                        folder.id,
                        page + 1
                    ),
                ));
            }
            b.json(json!(items
                .iter()
                .map(|a| freshdesk_article(a, cat.id, folder.id))
                .collect::<Vec<_>>()))
        }
        ["solutions", "articles", id] => {
            let found = data.freshdesk.iter().find_map(|cat| {
                cat.folders.iter().find_map(|f| {
                    f.articles
                        .iter()
                        .find(|a| a.id == *id)
                        .map(|a| freshdesk_article(a, cat.id, f.id))
                })
            });
            match found {
                Some(v) => ok(v),
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn freshdesk_invalid(field: &str, message: &str) -> HttpResponse {
    status(400).json(
        json!({"description": "Validation failed", "errors": [{"field": field,
        "message": message, "code": "invalid_value"}]}),
    )
}

fn freshdesk_article(a: &Article, category: u64, folder: u64) -> Value {
    json!({
        "id": a.id_json, "type": 1, "category_id": category, "folder_id": folder,
        "title": a.title, "description": a.html,
        "description_text": format!("{} (text version)", a.title),
        "status": 2, "agent_id": 5_000_777_001_u64, "hits": 0, "thumbs_up": 0, "thumbs_down": 0,
        "feedback_count": 0, "seo_data": {}, "tags": [], "attachments": [], "cloud_files": [],
        "created_at": rfc3339(a.created_at), "updated_at": rfc3339(a.updated_at),
    })
}

// ---------------------------------------------------------------------------------------------
// KnowledgeOwl

fn knowledgeowl(c: &Ctx) -> HttpResponse {
    let cfg = &c.sh.config;
    if !c.basic_user_is(&cfg.knowledgeowl_api_key) {
        return error(Provider::Knowledgeowl, 401, "");
    }
    let all = &c.sh.data.knowledgeowl;
    // Filters: a JSON body on the GET (as the public exporter sends them), then the query string
    // (which wins).
    let body: Value = if c.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(c.body) {
            Ok(v) => v,
            Err(_) => return error(Provider::Knowledgeowl, 400, "The request body is not JSON"),
        }
    };
    let filter = |key: &str| -> Option<String> {
        get(c.q, key)
            .map(str::to_owned)
            .or_else(|| match body.get(key) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
    };
    let number = |key: &str, default: usize| -> Result<usize, String> {
        match filter(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("{key} must be a positive integer")),
        }
    };
    if let Some(project) = filter("project_id") {
        if project != cfg.knowledgeowl_project {
            return ok(json!({"valid": false,
                "message": "The project_id is not a knowledge base of this account."}));
        }
    }
    match c.path {
        "/api/head/article.json" => {
            let (page, limit) = match (number("page", 1), number("limit", 100)) {
                (Ok(p), Ok(l)) => (p, l),
                (Err(m), _) | (_, Err(m)) => return error(Provider::Knowledgeowl, 400, &m),
            };
            let items = window(all, (page - 1).saturating_mul(limit), limit);
            ok(json!({
                "valid": true,
                "page_stats": {"current_page": page, "total_pages": ceil_div(all.len(), limit),
                    "total_records": all.len()},
                "data": items.iter().map(|a| knowledgeowl_article(c, a)).collect::<Vec<_>>(),
            }))
        }
        p => {
            let id = p
                .strip_prefix("/api/head/article/")
                .and_then(|r| r.strip_suffix(".json"));
            match id.and_then(|id| all.iter().find(|a| a.id == id)) {
                Some(a) => ok(json!({"valid": true, "data": knowledgeowl_article(c, a)})),
                None => error(Provider::Knowledgeowl, 404, "Object not found"),
            }
        }
    }
}

fn knowledgeowl_article(c: &Ctx, a: &Article) -> Value {
    json!({
        "id": a.id_json,
        "project_id": c.sh.config.knowledgeowl_project,
        "name": a.title,
        "type": "article",
        "status": "published",
        "visibility": "public",
        "url_hash": format!("article-{}", a.k + 1),
        "date_created": a.created_at,
        "date_modified": a.updated_at,
        "current_version": {"en": {"title": a.title, "text": a.html, "version": 1,
            "date_modified": a.updated_at}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_has_its_provider() {
        for (path, p) in [
            ("/api/v2/users/me.json", Provider::Zendesk),
            ("/api/v2/help_center/articles.json", Provider::Zendesk),
            ("/api/v2/help_center/en-us/articles.json", Provider::Zendesk),
            ("/me", Provider::Intercom),
            ("/articles", Provider::Intercom),
            ("/articles/123", Provider::Intercom),
            ("/v1/sites", Provider::Helpscout),
            ("/v1/collections/abc/articles", Provider::Helpscout),
            ("/api/v3/settings/account", Provider::Helpjuice),
            ("/api/v3/articles", Provider::Helpjuice),
            ("/api/v2/agents/me", Provider::Freshdesk),
            ("/api/v2/solutions/folders/1/articles", Provider::Freshdesk),
            ("/api/head/article.json", Provider::Knowledgeowl),
        ] {
            assert_eq!(provider_of(path), Some(p), "{path}");
        }
        assert_eq!(provider_of("/"), None);
        assert_eq!(provider_of("/api/v2/tickets.json"), None);
    }

    #[test]
    fn zendesk_cursors_round_trip() {
        for i in [0, 1, 99, 130, 10_000] {
            assert_eq!(zendesk_decode_cursor(&zendesk_cursor(i)), Some(i));
        }
        assert_eq!(zendesk_decode_cursor("not-a-cursor"), None);
    }
}
