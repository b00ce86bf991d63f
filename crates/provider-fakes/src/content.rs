//! Article bodies and their hand-written truth.
//!
//! Every article body comes from one of [`TEMPLATE_COUNT`] templates. Each template writes its
//! HTML **and, next to it, by hand**, the list of images a careful importer must report for it:
//! the resolved URL of every real `<img src>`, in document order, each URL once (the first
//! occurrence wins, with its `alt`), `data:` URLs left out. Nothing here parses HTML: the
//! expectation is an independent oracle, not a re-reading of the generated markup.
//!
//! What the templates exercise (all valid HTML, deterministic):
//!
//! * several images per article; root-relative (`/files/…`, `/hc/article_attachments/…`),
//!   document-relative (`images/…`, `../assets/…`), protocol-relative (`//cdn.example.com/…`)
//!   and absolute URLs;
//! * the same image twice in one article, also spelled differently (`images/d.png`,
//!   `/images/d.png`, `{origin}/images/d.png` resolve to one URL): reported once;
//! * `data:` URLs (also upper-case `DATA:`): skipped;
//! * upper-case `<IMG SRC=…>`, unquoted and single-quoted attributes, spaces around `=` and
//!   around the URL inside the quotes, `&amp;` in `src`, `&amp;`/`&#32;` in `alt`, XHTML-style
//!   `<img … />`;
//! * `<img>` inside `<picture>` (the `<source srcset>` and the `srcset` of the `<img>` are not
//!   `src`, so they are not reported);
//! * an `<img>` inside an HTML comment, inside a `<script>` string, and as escaped text
//!   (`&lt;img …&gt;`): none of them is an image;
//! * an `<img>` without `src` (skipped); an `<a href>` to a picture (not an image);
//! * `alt` missing (→ `None`), `alt=""` (→ `Some("")`: the attribute is present, and empty)
//!   and `alt="Dashboard"`;
//! * articles without any image; unicode titles and alt texts.
//!
//! Relative URLs resolve against the fake's origin (`http://127.0.0.1:PORT`, whose path is `/`),
//! exactly as WHATWG URL parsing does (`../assets/x.png` → `{origin}/assets/x.png`,
//! `//cdn.example.com/z.png` → `http://cdn.example.com/z.png`).

use crate::Provider;

/// How many body templates there are; article number `k` (0-based, in listing order) of every
/// provider uses template `k % TEMPLATE_COUNT`.
pub const TEMPLATE_COUNT: usize = 8;

/// Titles, rotated over the articles (index `(3k) % len`), with the article number appended.
const TITLES: [&str; 8] = [
    "Getting started",
    "Café ☕ — démarrage rapide",
    "日本語のガイド",
    "Ünïcödé & <markup> \"quotes\"",
    "Launch 🚀 checklist",
    "Réglages avancés",
    "Привет, мир",
    "Troubleshooting sign-in",
];

/// The title of article `k` (0-based) of a provider.
pub(crate) fn title(k: usize) -> String {
    format!("{} #{}", TITLES[(3 * k) % TITLES.len()], k + 1)
}

/// One image the oracle expects: resolved URL and alt.
pub(crate) type Expected = (String, Option<String>);

/// One provider-specific image: how the HTML spells it, and what it resolves to.
struct Native {
    src: String,
    resolved: String,
}

/// The images each provider's own editor typically produces (`providers.md`: Zendesk
/// `/hc/article_attachments/{id}/…` with or without a locale, Intercom signed CDN URLs with
/// `&amp;` between the query parameters, Help Scout CloudFront assets, Helpjuice
/// `static.helpjuice.com`, Freshdesk attachment URLs (shape UNCONFIRMED), KnowledgeOwl
/// root-relative `/files/…`). `which` is 1 or 2.
fn native(provider: Provider, origin: &str, n: usize, which: u8) -> Native {
    let (src, resolved) = match (provider, which) {
        (Provider::Zendesk, 1) => {
            let path = format!("/hc/article_attachments/{}/screen.png", 200_100_000 + n);
            (path.clone(), format!("{origin}{path}"))
        }
        (Provider::Zendesk, _) => {
            let path = format!("/hc/en-us/article_attachments/{}/detail.png", 200_200_000 + n);
            (path.clone(), format!("{origin}{path}"))
        }
        (Provider::Intercom, 1) => (
            format!(
                "https://downloads.intercomcdn.com/i/o/{}/a1b2c3/screen.png?expires=1893456000&amp;signature=5f{n}e",
                900_000 + n
            ),
            format!(
                "https://downloads.intercomcdn.com/i/o/{}/a1b2c3/screen.png?expires=1893456000&signature=5f{n}e",
                900_000 + n
            ),
        ),
        (Provider::Intercom, _) => {
            let url = format!("https://downloads.intercomcdn.com/i/o/{}/d4e5f6/detail.png", 950_000 + n);
            (url.clone(), url)
        }
        (Provider::Helpscout, 1) => {
            let url = format!(
                "https://d33v4339jhl8k0.cloudfront.net/docs/assets/5c0e8f5e2c7d3a2ea8d6e2b1/images/{:024x}/file-screen-{n}.png",
                0x6600_0000_u64 + n as u64
            );
            (url.clone(), url)
        }
        (Provider::Helpscout, _) => {
            let url = format!(
                "https://d33v4339jhl8k0.cloudfront.net/docs/assets/5c0e8f5e2c7d3a2ea8d6e2b1/images/{:024x}/file-detail-{n}.png",
                0x6700_0000_u64 + n as u64
            );
            (url.clone(), url)
        }
        (Provider::Helpjuice, 1) => {
            let url = format!(
                "https://static.helpjuice.com/helpjuice_production/uploads/upload/image/4821/{}/screen.png",
                3_000_000 + n
            );
            (url.clone(), url)
        }
        (Provider::Helpjuice, _) => {
            let path = format!("/uploads/images/{}/detail.png", 3_100_000 + n);
            (path.clone(), format!("{origin}{path}"))
        }
        (Provider::Freshdesk, 1) => {
            let path = format!("/helpdesk/attachments/{}", 5_000_400_000_u64 + n as u64);
            (path.clone(), format!("{origin}{path}"))
        }
        (Provider::Freshdesk, _) => {
            let url = format!(
                "https://s3.amazonaws.com/cdn.freshdesk.com/data/helpdesk/attachments/production/{}/original/detail.png?1700000000",
                5_000_500_000_u64 + n as u64
            );
            (url.clone(), url)
        }
        (Provider::Knowledgeowl, 1) => {
            let path = format!("/files/{:024x}-screen.png", 0x7700_0000_u64 + n as u64);
            (path.clone(), format!("{origin}{path}"))
        }
        (Provider::Knowledgeowl, _) => {
            let url = format!(
                "https://dyzz9obi78pm5.cloudfront.net/app/image/id/{:024x}/n/detail.png",
                0x7800_0000_u64 + n as u64
            );
            (url.clone(), url)
        }
    };
    Native { src, resolved }
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// The body of article `k` (0-based listing index) of `provider`, served from `origin`, and the
/// images a careful importer must report for it (hand-written, see the module docs).
pub(crate) fn article_body(
    provider: Provider,
    origin: &str,
    k: usize,
    title: &str,
) -> (String, Vec<Expected>) {
    // `n` makes the URLs of different articles differ (1-based).
    let n = k + 1;
    let o = origin;
    // The scheme a protocol-relative URL takes: the origin's.
    let scheme = origin.split("://").next().unwrap_or("http");
    let n1 = native(provider, origin, n, 1);
    let n2 = native(provider, origin, n, 2);
    let h = escape_text(title);
    match k % TEMPLATE_COUNT {
        // Everyday article: several kinds of URL, alt missing / empty / set, one image twice.
        0 => (
            format!(
                r#"<h1>{h}</h1>
<p>Open the dashboard to begin.</p>
<p><img src="{s1}" alt="Dashboard"></p>
<p><img src="/files/{n}/step-1.png"></p>
<p><img src="images/step-2-{n}.png" alt=""></p>
<p><img src="//cdn.example.com/z/{n}.png" alt="Protocol relative"></p>
<p><img src="https://cdn.example.com/shared/logo.png" alt="Logo"></p>
<p>As shown above: <img src="{s1}" alt="Dashboard"></p>
"#,
                s1 = n1.src
            ),
            vec![
                (n1.resolved, some("Dashboard")),
                (format!("{o}/files/{n}/step-1.png"), None),
                (format!("{o}/images/step-2-{n}.png"), some("")),
                (
                    format!("{scheme}://cdn.example.com/z/{n}.png"),
                    some("Protocol relative"),
                ),
                (
                    "https://cdn.example.com/shared/logo.png".to_owned(),
                    some("Logo"),
                ),
            ],
        ),
        // Odd but valid markup.
        1 => (
            format!(
                r#"<P>Odd but valid markup.</P>
<IMG SRC=/files/{n}/upper.png ALT=Upper>
<img alt='Single quoted' src='images/single-{n}.png'>
<img src = "  /files/{n}/spaced.png  " alt = "Spaced">
<img src="https://cdn.example.com/q.png?a=1&amp;b={n}" alt="Tom &amp; Jerry">
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" alt="Inline pixel">
<img alt="No source here">
<img class=wide src=/files/{n}/upper.png alt="Same image again">
"#
            ),
            vec![
                (format!("{o}/files/{n}/upper.png"), some("Upper")),
                (format!("{o}/images/single-{n}.png"), some("Single quoted")),
                (format!("{o}/files/{n}/spaced.png"), some("Spaced")),
                (
                    format!("https://cdn.example.com/q.png?a=1&b={n}"),
                    some("Tom & Jerry"),
                ),
            ],
        ),
        // Containers and things that only look like images.
        2 => (
            format!(
                r#"<h2>Pictures, comments and scripts</h2>
<picture>
  <source srcset="/files/{n}/hero.webp" type="image/webp">
  <img src="/files/{n}/hero.png" srcset="/files/{n}/hero-2x.png 2x" alt="Hero">
</picture>
<!-- <img src="/files/{n}/commented-out.png" alt="Commented out"> -->
<script>var tpl = '<img src="/files/{n}/in-script.png">';</script>
<p>Type &lt;img src="/files/{n}/escaped.png"&gt; to embed a picture.</p>
<p><img src="../assets/{n}/up.png" alt="Dot dot"></p>
<figure><img src="{s2}" alt="Café ☕ écran"><figcaption>Légende</figcaption></figure>
"#,
                s2 = n2.src
            ),
            vec![
                (format!("{o}/files/{n}/hero.png"), some("Hero")),
                (format!("{o}/assets/{n}/up.png"), some("Dot dot")),
                (n2.resolved, some("Café ☕ écran")),
            ],
        ),
        // No image at all (a link to a picture is not an image).
        3 => (
            format!(
                r#"<p>This article has no pictures at all.</p>
<ul><li>First, sign in.</li><li>Then open <a href="/files/{n}/guide.png">the guide</a>.</li></ul>
"#
            ),
            vec![],
        ),
        // One picture spelled three ways, an upper-case DATA: URL, an empty alt.
        4 => (
            format!(
                r#"<p>One picture, three spellings.</p>
<img src="images/dup-{n}.png" alt="First spelling">
<img src="/images/dup-{n}.png">
<img src="{o}/images/dup-{n}.png" alt="Third spelling">
<img src="DATA:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" alt="Inline gif">
<img src="{s1}" alt="">
"#,
                s1 = n1.src
            ),
            vec![
                (format!("{o}/images/dup-{n}.png"), some("First spelling")),
                (n1.resolved, some("")),
            ],
        ),
        // A gallery: many images, XHTML-style tags, a character reference in an unquoted alt.
        5 => (
            format!(
                r#"<p>Step by step:</p>
<table><tr>
<td><img src="/files/{n}/gallery-1.png" alt="Step 1" /></td>
<td><img src="/files/{n}/gallery-2.png" alt="Step 2"/></td>
<td><img src="/files/{n}/gallery-3.png" alt="Step 3"></td>
</tr></table>
<ol><li><img src="{s2}" alt="Étape 4 — 完了"></li><li><img src=images/gallery-{n}-5.png alt=Step&#32;5></li></ol>
<p><img src="https://cdn.example.com/shared/logo.png" alt="Logo"></p>
"#,
                s2 = n2.src
            ),
            vec![
                (format!("{o}/files/{n}/gallery-1.png"), some("Step 1")),
                (format!("{o}/files/{n}/gallery-2.png"), some("Step 2")),
                (format!("{o}/files/{n}/gallery-3.png"), some("Step 3")),
                (n2.resolved, some("Étape 4 — 完了")),
                (format!("{o}/images/gallery-{n}-5.png"), some("Step 5")),
                (
                    "https://cdn.example.com/shared/logo.png".to_owned(),
                    some("Logo"),
                ),
            ],
        ),
        // Nested markup, a unicode alt, an unquoted src at the very end.
        6 => (
            format!(
                r#"<div class="note"><div><span><img src="{s1}" alt="日本語の説明"></span></div></div>
<p>Links are not images: <a href="/files/{n}/download.png">download</a>.</p>
<img src=/files/{n}/last.png>"#,
                s1 = n1.src
            ),
            vec![
                (n1.resolved, some("日本語の説明")),
                (format!("{o}/files/{n}/last.png"), None),
            ],
        ),
        // Text only, with markup shown as text.
        _ => (
            format!(
                r#"<h2>{h}</h2>
<p>Nothing to see here &amp; nothing to import.</p>
<pre>&lt;img src="x-{n}.png"&gt;</pre>
"#
            ),
            vec![],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const O: &str = "http://127.0.0.1:4321";

    fn urls(v: &[Expected]) -> Vec<&str> {
        v.iter().map(|(u, _)| u.as_str()).collect()
    }

    /// Cross-checks two articles by hand: the literal answers below were read off the HTML by a
    /// person, not computed.
    #[test]
    fn zendesk_first_article_by_hand() {
        let (html, exp) = article_body(Provider::Zendesk, O, 0, "Getting started #1");
        assert!(html.contains(
            r#"<img src="/hc/article_attachments/200100001/screen.png" alt="Dashboard">"#
        ));
        assert_eq!(
            exp,
            vec![
                (
                    "http://127.0.0.1:4321/hc/article_attachments/200100001/screen.png".to_owned(),
                    Some("Dashboard".to_owned())
                ),
                ("http://127.0.0.1:4321/files/1/step-1.png".to_owned(), None),
                (
                    "http://127.0.0.1:4321/images/step-2-1.png".to_owned(),
                    Some(String::new())
                ),
                (
                    "http://cdn.example.com/z/1.png".to_owned(),
                    Some("Protocol relative".to_owned())
                ),
                (
                    "https://cdn.example.com/shared/logo.png".to_owned(),
                    Some("Logo".to_owned())
                ),
            ]
        );
        // The duplicate is really in the HTML twice, and reported once.
        assert_eq!(
            html.matches("/hc/article_attachments/200100001/screen.png")
                .count(),
            2
        );
    }

    #[test]
    fn intercom_odd_markup_article_by_hand() {
        let (html, exp) = article_body(Provider::Intercom, O, 1, "t");
        assert!(html.contains("<IMG SRC=/files/2/upper.png ALT=Upper>"));
        assert!(html.contains("src=\"data:image/png;base64,"));
        assert_eq!(
            urls(&exp),
            vec![
                "http://127.0.0.1:4321/files/2/upper.png",
                "http://127.0.0.1:4321/images/single-2.png",
                "http://127.0.0.1:4321/files/2/spaced.png",
                "https://cdn.example.com/q.png?a=1&b=2",
            ]
        );
        assert_eq!(exp[0].1.as_deref(), Some("Upper"));
        assert_eq!(exp[3].1.as_deref(), Some("Tom & Jerry"));
    }

    #[test]
    fn containers_and_duplicates_by_hand() {
        let (_, exp) = article_body(Provider::Knowledgeowl, O, 2, "t");
        assert_eq!(
            urls(&exp),
            vec![
                "http://127.0.0.1:4321/files/3/hero.png",
                "http://127.0.0.1:4321/assets/3/up.png",
                "https://dyzz9obi78pm5.cloudfront.net/app/image/id/000000000000000078000003/n/detail.png",
            ]
        );
        let (html, exp) = article_body(Provider::Intercom, O, 4, "t");
        assert!(html.contains("&amp;signature=5f5e"));
        assert_eq!(
            urls(&exp),
            vec![
                "http://127.0.0.1:4321/images/dup-5.png",
                "https://downloads.intercomcdn.com/i/o/900005/a1b2c3/screen.png?expires=1893456000&signature=5f5e",
            ]
        );
        assert_eq!(exp[1].1.as_deref(), Some(""));
        let (_, none) = article_body(Provider::Freshdesk, O, 3, "t");
        assert!(none.is_empty());
        let (html, none) = article_body(Provider::Freshdesk, O, 7, "A & <b>");
        assert!(none.is_empty());
        assert!(html.contains("<h2>A &amp; &lt;b&gt;</h2>"));
    }

    #[test]
    fn templates_repeat_and_titles_are_unicode() {
        assert_eq!(title(0), "Getting started #1");
        assert_eq!(title(1), "Ünïcödé & <markup> \"quotes\" #2");
        assert!(title(2).starts_with("Привет"));
        let (_, a) = article_body(Provider::Helpscout, O, 0, "x");
        let (_, b) = article_body(Provider::Helpscout, O, TEMPLATE_COUNT, "x");
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b, "article numbers make the URLs differ");
    }
}
