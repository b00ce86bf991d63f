//! The small parsers of untrusted text, each with its invariants:
//!
//! * `Subdomain::parse` (each provider domain): the result is one DNS label, parsing it again
//!   gives it back, and a host with a dot must be `<label>.<domain>` exactly.
//! * `UrlTemplate::parse` + `fill`: a filled URL parses (WHATWG) to the template's host with
//!   the label in the placeholder's place: the label never changes the host's suffix.
//! * `Position::from_cursor`: what parses round-trips through `to_cursor`.
//! * `ObjectKey::parse`: what parses is kept as sent and obeys the key rules.
//! * `ListQuery::parse`: a parsed query has a limit of 1 to 100 and a consistent
//!   platform/provider pair.
//! * `CredentialVault::open_token` (on an `EnvelopeVault`): arbitrary text never opens; a real
//!   token opens only unchanged and in its own context.
//! * `Scrubber::scrub`: the output never contains the secret (nor its base64 or
//!   percent-encoded forms), for any secret the domain accepts (no whitespace or control
//!   characters).
#![no_main]

use arbitrary::Arbitrary;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use integrations_domain::credentials::Subdomain;
use integrations_domain::{CredentialVault, ListParams, ListQuery, ObjectKey, Position};
use integrations_outbound::scrub::REDACTED;
use integrations_outbound::template::is_dns_label;
use integrations_outbound::{Scrubber, UrlTemplate};
use integrations_vault::{EnvelopeVault, KeyRing};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use zeroize::Zeroizing;

const DOMAINS: [&str; 3] = ["zendesk.com", "freshdesk.com", "helpjuice.com"];
const PLACEHOLDERS: [Option<&str>; 3] = [None, Some("{subdomain}"), Some("{accountId}")];

#[derive(Arbitrary, Debug)]
enum Input {
    Subdomain(String),
    Template {
        raw: String,
        placeholder: u8,
        labels: Vec<String>,
    },
    Cursor {
        events: bool,
        cursor: String,
    },
    ObjectKey {
        key: String,
        prefix: Option<String>,
    },
    List {
        platform: Option<String>,
        provider: Option<String>,
        limit: Option<String>,
        cursor: Option<String>,
    },
    Token {
        context: Vec<u8>,
        token: String,
    },
    RealToken {
        plaintext: Vec<u8>,
        other_context: Option<Vec<u8>>,
        flips: Vec<(u16, u8)>,
    },
    Scrub {
        secret: String,
        before: String,
        after: String,
        form: u8,
    },
}

fn vault() -> &'static EnvelopeVault {
    static VAULT: OnceLock<EnvelopeVault> = OnceLock::new();
    VAULT.get_or_init(|| {
        let ring = KeyRing::from_keys(
            [
                (1, Zeroizing::new([7u8; 32])),
                (3, Zeroizing::new([9u8; 32])),
            ],
            Some(3),
        )
        .expect("ring");
        EnvelopeVault::new(ring)
    })
}

fn subdomain(raw: &str) {
    for domain in DOMAINS {
        let Ok(s) = Subdomain::parse(raw, domain) else {
            continue;
        };
        let label = s.as_str();
        assert!(
            is_dns_label(label),
            "{raw:?} → {label:?} is not one DNS label"
        );
        assert_eq!(
            Subdomain::parse(label, domain).as_ref(),
            Ok(&s),
            "not idempotent"
        );
        // The host as the parser sees it: after the scheme, before any path.
        let v = raw.trim().to_ascii_lowercase();
        let rest = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"))
            .unwrap_or(&v);
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.contains('.') {
            assert_eq!(host, format!("{label}.{domain}"), "{raw:?}: a foreign host");
        } else {
            assert_eq!(host, label);
        }
    }
}

fn template(raw: &str, placeholder: u8, labels: &[String]) {
    let placeholder = PLACEHOLDERS[usize::from(placeholder) % PLACEHOLDERS.len()];
    let Ok(t) = UrlTemplate::parse("fuzz.base_url", raw, placeholder) else {
        return;
    };
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let Ok(filled) = t.fill_labels(&labels) else {
        assert!(
            t.has_placeholder() && (labels.is_empty() || !labels.iter().all(|l| is_dns_label(l))),
            "{raw:?} refused the labels {labels:?}"
        );
        return;
    };
    let url = url::Url::parse(&filled).unwrap_or_else(|e| panic!("{filled:?}: {e}"));
    assert!(url.username().is_empty() && url.password().is_none());
    assert!(url.query().is_none() && url.fragment().is_none());
    let host = url.host_str().unwrap_or_default();
    if t.has_placeholder() {
        // The template's host around the placeholder; the labels go in between.
        let marked = t.host(Some("\u{1}"));
        let (before, after) = marked.split_once('\u{1}').expect("placeholder in the host");
        assert_eq!(
            host,
            format!("{before}{}{after}", labels.join(".")),
            "{raw:?} filled with {labels:?}"
        );
        assert!(host.ends_with(after) && host.starts_with(before));
    } else if !host.starts_with('[') {
        assert_eq!(host, t.host(None), "{raw:?}");
    }
}

fn cursor(events: bool, cursor: &str) {
    let kind = if events { "e1" } else { "v1" };
    if let Some(p) = Position::from_cursor(kind, cursor) {
        let again = p.to_cursor(kind);
        assert_eq!(Position::from_cursor(kind, &again), Some(p), "{cursor:?}");
        let other = if events { "v1" } else { "e1" };
        assert_eq!(Position::from_cursor(other, cursor), None);
    }
}

fn object_key(key: &str, prefix: Option<&str>) {
    let Ok(k) = ObjectKey::parse(key) else { return };
    assert_eq!(k.as_str(), key);
    assert!((1..=ObjectKey::MAX_BYTES).contains(&key.len()));
    assert!(!key.starts_with('/') && !key.chars().any(char::is_control));
    assert!(key
        .split('/')
        .all(|s| !s.is_empty() && s != "." && s != ".."));
    if let Ok(full) = k.under(prefix) {
        assert!(full.len() <= ObjectKey::MAX_BYTES && full.ends_with(key));
    }
}

fn list(params: ListParams<'_>) {
    let Ok(q) = ListQuery::parse(params) else {
        return;
    };
    assert!((1..=100).contains(&q.limit.get()));
    if let (Some(platform), Some(provider)) = (q.platform, q.provider) {
        assert_eq!(provider.platform(), platform);
    }
    assert_eq!(q.after.is_some(), params.cursor.is_some());
}

fn real_token(plaintext: &[u8], other_context: Option<&[u8]>, flips: &[(u16, u8)]) {
    let v = vault();
    let context = b"account|integration".as_slice();
    let token = v.seal_token(context, plaintext).expect("seal a token");
    let mut bytes = token.clone().into_bytes();
    for (pos, xor) in flips {
        let i = usize::from(*pos) % bytes.len();
        bytes[i] ^= xor;
    }
    let Ok(changed) = String::from_utf8(bytes) else {
        return;
    };
    let ctx = other_context.unwrap_or(context);
    match v.open_token(ctx, &changed) {
        Ok(opened) => {
            assert!(changed == token && ctx == context, "a changed token opened");
            assert_eq!(opened, plaintext);
        }
        Err(_) => assert!(
            changed != token || ctx != context,
            "a real token did not open"
        ),
    }
}

fn scrub(secret: &str, before: &str, after: &str, form: u8) {
    let secret = secret.trim();
    // Secrets as the domain accepts them: no whitespace or control characters.
    if secret.is_empty() || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return;
    }
    let shown = match form % 4 {
        0 => secret.to_owned(),
        1 => STANDARD.encode(secret),
        2 => URL_SAFE_NO_PAD.encode(secret),
        _ => url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    };
    if shown.contains(REDACTED.chars().next().unwrap_or('*')) {
        // The mask's own character: `:*` would show again in `:****`.
        return;
    }
    let text = format!("{before}{shown}{after}");
    let out = Scrubber::new().secret(secret).scrub(&text);
    assert!(
        !out.contains(&shown),
        "{secret:?} ({shown:?}) survived in {out:?}"
    );
}

fuzz_target!(|input: Input| {
    match input {
        Input::Subdomain(raw) => subdomain(&raw),
        Input::Template {
            raw,
            placeholder,
            labels,
        } => template(&raw, placeholder, &labels),
        Input::Cursor { events, cursor: c } => cursor(events, &c),
        Input::ObjectKey { key, prefix } => object_key(&key, prefix.as_deref()),
        Input::List {
            platform,
            provider,
            limit,
            cursor,
        } => list(ListParams {
            platform: platform.as_deref(),
            provider: provider.as_deref(),
            limit: limit.as_deref(),
            cursor: cursor.as_deref(),
        }),
        Input::Token { context, token } => {
            assert!(
                vault().open_token(&context, &token).is_err(),
                "arbitrary text opened as a token"
            );
        }
        Input::RealToken {
            plaintext,
            other_context,
            flips,
        } => real_token(&plaintext, other_context.as_deref(), &flips),
        Input::Scrub {
            secret,
            before,
            after,
            form,
        } => scrub(&secret, &before, &after, form),
    }
});
