//! The image import (API.md section 6, "Import from a help center"): what every provider's
//! article walk shares. Each provider module only knows its own listing and pagination (the
//! numbered pages of Intercom, Helpjuice and KnowledgeOwl are walked by `providers::numbered`);
//! it hands each article's HTML to a [`Session`], which does the rest:
//!
//! * **Extraction** ([`extract`]): the body is parsed by html5ever (through `scraper`), never
//!   scanned with patterns. Every `<img src>` of the HTML namespace, in document order; text
//!   that merely looks like a tag (comments, `<script>` strings, escaped `&lt;img&gt;`,
//!   `<template>` contents) is not an image; `<source srcset>` and `srcset` are not `src`.
//!   `alt` is `None` when absent and `Some("")` when empty; entities are decoded by the parser.
//! * **Resolution**: `src` is resolved with the `url` crate (WHATWG rules: root-relative,
//!   document-relative and protocol-relative URLs, surrounding spaces trimmed) against the help
//!   center's configured origin (`Target::origin`, the base URL with the subdomain filled in).
//!   Only `http` and `https` results are reported: `data:` URLs (any case) are skipped, and so
//!   is any other scheme (`javascript:`, `file:`, `cid:` … are not images one can import), an
//!   empty `src` and one that does not parse. Each resolved URL is reported once per article,
//!   with the `alt` of its first occurrence. Image URLs are returned, never fetched.
//! * **Position** ([`decode`] / [`Session::finish`]): the opaque bytes are a small JSON
//!   document, `{"v":1,"p":"<provider>","at":{…}}`, where `at` is the provider module's own
//!   struct: the provider-side page (cursor or number), the container indexes and ids
//!   (Help Scout collection, Freshdesk category and folder), the index of the article within
//!   the current provider page (`a`) and of the image within that article (`i`). A resume
//!   re-reads the current provider page only. Bytes that are not such a document, a version
//!   other than 1, another provider's position or unknown fields are a `provider_error`
//!   failure (the domain seals the position, so this only meets bugs and forgeries).
//! * **Budget**: one page call makes at most [`CALL_BUDGET`] provider calls. It stops early,
//!   with a `next` position, when the budget is spent, when the page is full, or when it has
//!   something to return (an image, or a position past what it was given) and one verify
//!   deadline has passed since it started. Each provider call has the verify deadline
//!   (`verify.timeout_ms`), and the whole page call is bounded by
//!   [`PAGE_DEADLINE_FACTOR`] verify deadlines (30 s by default) in `lib.rs`. Within one
//!   walk, progress is certain: every provider reaches an article within three calls of any
//!   position, so a page never ends empty and where it started.
//! * **Look-ahead**: once the page is full, the walk goes on *without provider calls* through
//!   what it already holds, so `next` is `None` when the end is in sight (the last provider
//!   page holds no further image) and otherwise points at the next image or at the next
//!   provider call. `next` is `None` only at the real end.
//! * **Failures**: every non-success status maps like a verification (`Target::status`): 401
//!   `invalid_credentials`, 403 `insufficient_permissions`, 404 `not_found`, 429
//!   `rate_limited` with the provider's own wait, else 60 s, 5xx `provider_error`; no answer
//!   is `timeout` or `unreachable`; a 200 whose body is not the expected JSON (or larger than
//!   [`LIST_BODY_LIMIT`]) is `provider_error`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use integrations_domain::{FailureReason, ImagePage, ImageRef, Provider, VerificationFailure};
use scraper::{ElementRef, Html};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::http::{Http, Request};
use crate::outcome::{StatusMessages, Target};

/// Most provider calls one page call makes.
pub const CALL_BUDGET: u32 = 10;
/// The whole page call is bounded by this many verify deadlines (3 × 10 s by default).
pub const PAGE_DEADLINE_FACTOR: u32 = 3;
/// Largest listing page read (Helpjuice pages hold up to 1000 articles with two copies of
/// each body). Larger is a `provider_error`.
pub(crate) const LIST_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Most images one page holds (API.md section 6: `limit` 1–100); other limits are clamped.
pub(crate) const MAX_LIMIT: u32 = 100;
/// Longest position accepted.
const MAX_POSITION_BYTES: usize = 4096;
/// The position format's version.
const POSITION_VERSION: u8 = 1;
/// Longest provider id put in a URL path, and longest cursor kept in a position.
const MAX_ID_CHARS: usize = 128;
const MAX_CURSOR_CHARS: usize = 2048;

/// One article as a provider listed (or fetched) it.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    pub(crate) id: String,
    pub(crate) title: String,
    /// The article's public address, when the provider's API gives one.
    pub(crate) url: Option<String>,
    /// The HTML body (`None`: no body, so no image).
    pub(crate) html: Option<String>,
}

/// Where a walk is within one provider page: article `a`, image `i` of that article.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Slot {
    pub(crate) a: u32,
    pub(crate) i: u32,
}

/// An article id (number or string in the providers' JSON) as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Id {
    Number(serde_json::Number),
    Text(String),
}

impl Id {
    pub(crate) fn into_string(self) -> String {
        match self {
            Id::Number(n) => n.to_string(),
            Id::Text(s) => s,
        }
    }
}

/// One image found in an article body: the resolved URL and its `alt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) url: String,
    pub(crate) alt: Option<String>,
}

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Every `<img src>` of `html`, in document order, resolved against `base`, `http(s)` only,
/// each URL once (first occurrence wins).
pub(crate) fn extract(html: &str, base: &Url) -> Vec<Found> {
    let doc = Html::parse_fragment(html);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for node in doc.tree.root().descendants() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let e = el.value();
        if e.name() != "img" || &*e.name.ns != HTML_NS {
            continue;
        }
        // `<template>` contents are inert: never shown, so not an image of the article.
        if node.ancestors().any(|a| {
            a.value()
                .as_element()
                .is_some_and(|p| p.name() == "template")
        }) {
            continue;
        }
        let Some(src) = e.attr("src") else {
            continue;
        };
        let Some(url) = resolve(src, base) else {
            continue;
        };
        if seen.insert(url.clone()) {
            out.push(Found {
                url,
                alt: e.attr("alt").map(str::to_owned),
            });
        }
    }
    out
}

/// `src` resolved against `base`; `None` for an empty `src`, one that does not parse, and any
/// scheme but `http`/`https` (`data:` included).
fn resolve(src: &str, base: &Url) -> Option<String> {
    // An empty (or all-space) `src` names no image (HTML: it would be the page itself).
    if src
        .trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control())
        .is_empty()
    {
        return None;
    }
    let url = base.join(src).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.into())
}

/// The position document (see the module docs).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<T> {
    v: u8,
    p: String,
    at: T,
}

fn bad_position(provider: Provider) -> VerificationFailure {
    VerificationFailure::new(
        FailureReason::ProviderError,
        format!(
            "The import position was not produced by this {} import; start again without a cursor.",
            provider.display_name()
        ),
    )
}

/// The provider position inside `position` (`None`: start at the beginning).
pub(crate) fn decode<T: DeserializeOwned>(
    provider: Provider,
    position: Option<&[u8]>,
) -> Result<Option<T>, VerificationFailure> {
    let Some(bytes) = position else {
        return Ok(None);
    };
    if bytes.len() > MAX_POSITION_BYTES {
        return Err(bad_position(provider));
    }
    let envelope: Envelope<T> =
        serde_json::from_slice(bytes).map_err(|_| bad_position(provider))?;
    if envelope.v != POSITION_VERSION || envelope.p != provider.as_str() {
        return Err(bad_position(provider));
    }
    Ok(Some(envelope.at))
}

fn encode<T: Serialize>(provider: Provider, at: &T) -> Result<Vec<u8>, VerificationFailure> {
    serde_json::to_vec(&Envelope {
        v: POSITION_VERSION,
        p: provider.as_str().to_owned(),
        at,
    })
    .map_err(|_| {
        VerificationFailure::new(
            FailureReason::ProviderError,
            format!(
                "The {} import position could not be written.",
                provider.display_name()
            ),
        )
    })
}

/// A provider id as one URL path segment: `[A-Za-z0-9_-]`, 1 to 128 characters. Anything
/// else (from the provider or from a position) is refused rather than put in a URL.
pub(crate) fn path_segment<'a>(
    target: &Target,
    id: &'a str,
) -> Result<&'a str, VerificationFailure> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(VerificationFailure::new(
            FailureReason::ProviderError,
            format!(
                "{} listed an item whose id \"{}\" is not a plain identifier.",
                target.provider,
                target.quote(&id.chars().take(40).collect::<String>())
            ),
        ))
    }
}

/// A query string (`a=1&b=x`), each key and value form-encoded.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A pagination cursor the provider gave, checked before it is kept in a position.
pub(crate) fn cursor(target: &Target, raw: Option<String>) -> Result<String, VerificationFailure> {
    match raw {
        Some(c) if !c.is_empty() && c.len() <= MAX_CURSOR_CHARS => Ok(c),
        _ => Err(VerificationFailure::new(
            FailureReason::ProviderError,
            format!(
                "{} said more articles follow but gave no usable cursor to them.",
                target.provider
            ),
        )),
    }
}

/// One page call: the provider connection, the budget, and the images found so far.
pub(crate) struct Session<'a> {
    http: &'a Http,
    provider: Provider,
    target: Target,
    authorization: SecretString,
    headers: Vec<(&'static str, &'static str)>,
    messages: StatusMessages,
    /// `target.origin`, parsed: relative image URLs resolve against it.
    base: Url,
    limit: usize,
    items: Vec<ImageRef>,
    calls: u32,
    /// Set once the walk is past the position it was given.
    moved: bool,
    started: Instant,
}

impl<'a> Session<'a> {
    pub(crate) fn new(
        http: &'a Http,
        provider: Provider,
        target: Target,
        authorization: SecretString,
        headers: Vec<(&'static str, &'static str)>,
        messages: StatusMessages,
        limit: u32,
    ) -> Result<Self, VerificationFailure> {
        let base = Url::parse(&target.origin).map_err(|_| {
            VerificationFailure::new(
                FailureReason::ProviderError,
                format!("The {} base URL is not a valid URL.", target.provider),
            )
        })?;
        let limit = limit.clamp(1, MAX_LIMIT) as usize;
        Ok(Self {
            http,
            provider,
            target,
            authorization,
            headers,
            messages,
            base,
            limit,
            items: Vec::with_capacity(limit),
            calls: 0,
            moved: false,
            started: Instant::now(),
        })
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    fn full(&self) -> bool {
        self.items.len() >= self.limit
    }

    /// Whether the walk may make another provider call (module docs, "Budget").
    pub(crate) fn may_call(&self) -> bool {
        if self.full() || self.calls >= CALL_BUDGET {
            return false;
        }
        let has_something = self.moved || !self.items.is_empty();
        !(has_something && self.started.elapsed() >= self.soft_deadline())
    }

    fn soft_deadline(&self) -> Duration {
        self.http.timeout()
    }

    /// Records that the walk moved past the position it was given (a page or container done).
    pub(crate) fn moved(&mut self) {
        self.moved = true;
    }

    /// `GET origin + path_and_query`; the body as `T` (200), `None` for 204 when
    /// `no_content_ok` (Freshdesk's empty folder). Anything else is a failure.
    async fn fetch<T: DeserializeOwned>(
        &mut self,
        path_and_query: &str,
        what: &str,
        no_content_ok: bool,
    ) -> Result<Option<T>, VerificationFailure> {
        self.calls += 1;
        let request = Request {
            url: self.target.url(path_and_query),
            authorization: Some(self.authorization.clone()),
            headers: self.headers.clone(),
            body_limit: LIST_BODY_LIMIT,
        };
        let answer = self.target.send(self.http, &request).await?;
        match answer.status {
            200 => {}
            204 if no_content_ok => return Ok(None),
            _ => return Err(self.target.status(&answer, self.messages.clone())),
        }
        let Some(body) = answer.body.as_deref() else {
            return Err(VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "{} answered the {what} request with more than {} MiB.",
                    self.target.provider,
                    LIST_BODY_LIMIT / (1024 * 1024)
                ),
            ));
        };
        serde_json::from_slice(body).map(Some).map_err(|e| {
            // serde's message may quote the provider's text: scrubbed and bounded.
            let error = self.target.quote(&e.to_string());
            tracing::info!(provider = self.target.provider, what, %error, "unexpected body");
            VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "{} answered the {what} request with HTTP 200 but a body that is not the expected JSON.",
                    self.target.provider
                ),
            )
        })
    }

    /// One provider call whose 200 body is `T`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &mut self,
        path_and_query: &str,
        what: &str,
    ) -> Result<T, VerificationFailure> {
        match self.fetch(path_and_query, what, false).await? {
            Some(t) => Ok(t),
            None => Err(VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "{} answered the {what} request without a body.",
                    self.target.provider
                ),
            )),
        }
    }

    /// One provider call whose 200 body is `T`, or 204 (`None`).
    pub(crate) async fn get_or_no_content<T: DeserializeOwned>(
        &mut self,
        path_and_query: &str,
        what: &str,
    ) -> Result<Option<T>, VerificationFailure> {
        self.fetch(path_and_query, what, true).await
    }

    /// Offers the images of `article` from its image `skip` on. `Some(i)`: the page is full
    /// and image `i` of this article is the next to report (resume there). `None`: the article
    /// holds nothing more.
    pub(crate) fn article(&mut self, article: &Listed, skip: u32) -> Option<u32> {
        let Some(html) = article.html.as_deref() else {
            self.moved = true;
            return None;
        };
        let found = extract(html, &self.base);
        for (i, image) in found.into_iter().enumerate().skip(skip as usize) {
            if self.full() {
                return Some(u32::try_from(i).unwrap_or(u32::MAX));
            }
            self.items.push(ImageRef {
                article_id: article.id.clone(),
                article_title: article.title.clone(),
                article_url: article.url.clone(),
                image_url: image.url,
                alt: image.alt,
            });
        }
        self.moved = true;
        None
    }

    /// Offers a listing page's articles from `from`. `Some(slot)`: the page is full and
    /// `slot` is the next image to report on this provider page. `None`: the provider page
    /// holds nothing more.
    pub(crate) fn page(&mut self, articles: &[Listed], from: Slot) -> Option<Slot> {
        let start = from.a as usize;
        for (a, article) in articles.iter().enumerate().skip(start) {
            let skip = if a == start { from.i } else { 0 };
            if let Some(i) = self.article(article, skip) {
                return Some(Slot {
                    a: u32::try_from(a).unwrap_or(u32::MAX),
                    i,
                });
            }
        }
        None
    }

    /// The page: what was found, and `next` (`None`: the end of the help center).
    pub(crate) fn finish<T: Serialize>(
        self,
        next: Option<&T>,
    ) -> Result<ImagePage, VerificationFailure> {
        let next = next.map(|at| encode(self.provider, at)).transpose()?;
        tracing::debug!(
            provider = self.target.provider,
            calls = self.calls,
            images = self.items.len(),
            end = next.is_none(),
            "import page"
        );
        Ok(ImagePage {
            items: self.items,
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://acme.example.com";

    fn urls(html: &str) -> Vec<(String, Option<String>)> {
        let base = Url::parse(ORIGIN).expect("base");
        extract(html, &base)
            .into_iter()
            .map(|f| (f.url, f.alt))
            .collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn plain_images_in_document_order_with_alt() {
        let got = urls(
            r#"<p><img src="/a.png" alt="A"></p><div><span><img src="https://cdn.example.org/b.png"></span></div><img src="c.png" alt="">"#,
        );
        assert_eq!(
            got,
            vec![
                ("https://acme.example.com/a.png".into(), s("A")),
                ("https://cdn.example.org/b.png".into(), None),
                ("https://acme.example.com/c.png".into(), s("")),
            ]
        );
    }

    #[test]
    fn upper_case_tags_and_unquoted_or_single_quoted_attributes() {
        let got = urls(
            "<IMG SRC=/up.png ALT=Upper><img alt='Single quoted' src='images/s.png'><Img Src = \"  /sp.png  \" Alt = \"Spaced\"/>",
        );
        assert_eq!(
            got,
            vec![
                ("https://acme.example.com/up.png".into(), s("Upper")),
                (
                    "https://acme.example.com/images/s.png".into(),
                    s("Single quoted")
                ),
                ("https://acme.example.com/sp.png".into(), s("Spaced")),
            ]
        );
    }

    #[test]
    fn entities_are_decoded_in_src_and_alt() {
        let got = urls(
            r#"<img src="https://cdn.example.org/q.png?a=1&amp;b=2" alt="Tom &amp; Jerry"><img src=x.png alt=Step&#32;5>"#,
        );
        assert_eq!(
            got,
            vec![
                (
                    "https://cdn.example.org/q.png?a=1&b=2".into(),
                    s("Tom & Jerry")
                ),
                ("https://acme.example.com/x.png".into(), s("Step 5")),
            ]
        );
    }

    #[test]
    fn comments_scripts_escaped_text_and_templates_are_not_images() {
        let got = urls(
            r#"<!-- <img src="/commented.png"> -->
<script>var t = '<img src="/in-script.png">';</script>
<style>/* <img src="/in-style.png"> */</style>
<p>Type &lt;img src="/escaped.png"&gt; to embed.</p>
<pre>&lt;img src="/pre.png"&gt;</pre>
<textarea><img src="/in-textarea.png"></textarea>
<template><img src="/in-template.png"></template>
<img src="/real.png">"#,
        );
        assert_eq!(
            got,
            vec![("https://acme.example.com/real.png".into(), None)]
        );
    }

    #[test]
    fn picture_source_and_srcset_are_not_src() {
        let got = urls(
            r#"<picture><source srcset="/hero.webp" type="image/webp"><img src="/hero.png" srcset="/hero-2x.png 2x" alt="Hero"></picture>"#,
        );
        assert_eq!(
            got,
            vec![("https://acme.example.com/hero.png".into(), s("Hero"))]
        );
    }

    #[test]
    fn images_without_src_or_with_empty_src_are_skipped() {
        let got = urls(
            r#"<img alt="No source"><img src="" alt="Empty"><img src="   "><img data-src="/lazy.png"><a href="/pic.png">pic</a>"#,
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn data_urls_in_any_case_and_other_schemes_are_skipped() {
        let got = urls(
            r#"<img src="data:image/png;base64,iVBORw0KGgo="><img src="DATA:image/gif;base64,R0lGOD"><img src=" Data:image/gif;base64,R0"><img src="javascript:alert(1)"><img src="file:///etc/passwd"><img src="cid:part1"><img src="/ok.png">"#,
        );
        assert_eq!(got, vec![("https://acme.example.com/ok.png".into(), None)]);
    }

    #[test]
    fn relative_forms_resolve_against_the_origin() {
        let got = urls(
            r#"<img src="../assets/up.png"><img src="//cdn.example.org/z.png"><img src="./dot/x.png"><img src="?q=1"><img src="http://other.example.net:8080/p.png">"#,
        );
        assert_eq!(
            got.into_iter().map(|(u, _)| u).collect::<Vec<_>>(),
            vec![
                "https://acme.example.com/assets/up.png",
                "https://cdn.example.org/z.png",
                "https://acme.example.com/dot/x.png",
                "https://acme.example.com/?q=1",
                "http://other.example.net:8080/p.png",
            ]
        );
    }

    #[test]
    fn duplicates_are_reported_once_with_the_first_alt() {
        let got = urls(
            r#"<img src="images/d.png" alt="First"><img src="/images/d.png"><img src="https://ACME.example.com:443/images/d.png" alt="Third"><img src="/other.png" alt="x"><img src="/other.png" alt="y">"#,
        );
        assert_eq!(
            got,
            vec![
                ("https://acme.example.com/images/d.png".into(), s("First")),
                ("https://acme.example.com/other.png".into(), s("x")),
            ]
        );
    }

    #[test]
    fn broken_markup_and_odd_urls_never_panic() {
        for html in [
            "",
            "<img",
            "<img src=",
            "<img src='unterminated",
            "<<<>>><img src=\"http://[::1\">",
            "<img src=\"http://exa mple.com/a.png\">",
            "<svg><img src=\"/breaks-out.png\"></svg>",
            "<table><img src=\"/foster.png\"></table>",
            &"<div>".repeat(5000),
        ] {
            let _ = urls(html);
        }
        // `<img>` breaks out of foreign content and is foster-parented out of tables: both
        // are real images.
        assert_eq!(urls("<svg><img src=\"/b.png\"></svg>").len(), 1);
        assert_eq!(urls("<table><img src=\"/f.png\"></table>").len(), 1);
    }

    #[test]
    fn a_base_with_a_port_and_plain_http() {
        let base = Url::parse("http://127.0.0.1:4321").expect("base");
        let got = extract(
            r#"<img src="images/a.png"><img src="//cdn.example.com/z.png">"#,
            &base,
        );
        assert_eq!(got[0].url, "http://127.0.0.1:4321/images/a.png");
        assert_eq!(got[1].url, "http://cdn.example.com/z.png");
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct At {
        page: u32,
        a: u32,
        i: u32,
    }

    #[test]
    fn positions_round_trip_and_refuse_anything_else() {
        let at = At {
            page: 3,
            a: 7,
            i: 1,
        };
        let bytes = encode(Provider::Intercom, &at).expect("encode");
        assert_eq!(
            decode::<At>(Provider::Intercom, Some(&bytes)).expect("decode"),
            Some(at)
        );
        assert_eq!(decode::<At>(Provider::Intercom, None).expect("start"), None);
        // Another provider's, garbage, an unknown version or field, too long.
        for bad in [
            encode(
                Provider::Helpjuice,
                &At {
                    page: 1,
                    a: 0,
                    i: 0,
                },
            )
            .expect("encode"),
            b"\xff\x00garbage".to_vec(),
            Vec::new(),
            br#"{"v":2,"p":"intercom","at":{"page":1,"a":0,"i":0}}"#.to_vec(),
            br#"{"v":1,"p":"intercom","at":{"page":1,"a":0,"i":0,"x":1}}"#.to_vec(),
            br#"{"v":1,"p":"intercom","at":{"page":-1,"a":0,"i":0}}"#.to_vec(),
            br#"{"v":1,"p":"intercom","at":{"page":1,"a":0}}"#.to_vec(),
            vec![b' '; MAX_POSITION_BYTES + 1],
        ] {
            let err = decode::<At>(Provider::Intercom, Some(&bad)).expect_err("refused");
            assert_eq!(err.reason, FailureReason::ProviderError);
            assert!(err.message.contains("Intercom"), "{}", err.message);
        }
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            query(&[("page[size]", "100"), ("page[after]", "a b&c=d")]),
            "page%5Bsize%5D=100&page%5Bafter%5D=a+b%26c%3Dd"
        );
    }
}
