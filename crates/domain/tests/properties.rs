//! Properties of the domain's normalisers (proptest): subdomains, e-mail addresses, bucket
//! names, key ids, labels, object keys and prefixes, cursors, and the error list's cap.

// Strategies and helpers (outside `#[test]` functions) unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use integrations_domain::credentials::{AccessKeyId, BucketName, Email, ObjectPrefix, Subdomain};
use integrations_domain::{Label, ObjectKey, Position, ValidationErrors};
use proptest::prelude::*;
use time::OffsetDateTime;

/// The domains `Subdomain::parse` is called with (Zendesk, Freshdesk, Helpjuice).
const DOMAINS: [&str; 3] = ["zendesk.com", "freshdesk.com", "helpjuice.com"];

fn domain() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&DOMAINS[..])
}

/// A label `Subdomain::parse` accepts: `[a-z0-9][a-z0-9-]*`, at most 63.
fn label() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,62}"
}

/// Upper-cases the characters selected by `mask` (bit i: character i mod 64).
fn mixed_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // No regression files written into the source tree (CI runs in a fresh clone).
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // ---- Subdomain ----

    #[test]
    fn a_subdomain_is_one_label_and_parsing_it_again_gives_it_back(
        raw in any::<String>(),
        d in domain(),
    ) {
        if let Ok(s) = Subdomain::parse(&raw, d) {
            prop_assert!(is_label(s.as_str()), "{:?} → {:?}", raw, s.as_str());
            prop_assert_eq!(Subdomain::parse(s.as_str(), d), Ok(s.clone()));
            let full = format!("https://{}.{d}/", s.as_str());
            prop_assert_eq!(Subdomain::parse(&full, d), Ok(s));
        }
    }

    #[test]
    fn the_browser_url_gives_its_subdomain(
        x in label(),
        d in domain(),
        scheme in prop::sample::select(&["https://", "http://", ""][..]),
        tail in prop::option::of("[/?#][\\PC]{0,40}"),
        case in any::<u64>(),
        pad in "[ \t\n]{0,2}",
    ) {
        let raw = format!(
            "{pad}{}{pad}",
            mixed_case(&format!("{scheme}{x}.{d}{}", tail.unwrap_or_default()), case)
        );
        prop_assert_eq!(Subdomain::parse(&raw, d).map(|s| s.as_str().to_owned()), Ok(x));
    }

    #[test]
    fn a_foreign_host_is_never_accepted(
        x in label(),
        d in domain(),
        other in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){1,3}",
        trick in 0..6usize,
        path in "(/[\\PC]{0,20})?",
    ) {
        let host = match trick {
            0 => other.clone(),
            1 => format!("{x}.{d}.{other}"),
            2 => format!("{x}.{d}@{other}"),
            3 => format!("{other}@{x}.{d}"),
            4 => format!("{x}.{d}:8443"),
            _ => format!("{x}.{other}.{d}"),
        };
        // A host that really is `<label>.<d>` is the provider's (`other` may be one).
        prop_assume!(!(trick == 0 && other.strip_suffix(&format!(".{d}")).is_some_and(is_label)));
        for scheme in ["https://", "http://", ""] {
            let raw = format!("{scheme}{host}{path}");
            let parsed = Subdomain::parse(&raw, d);
            prop_assert!(parsed.is_err(), "{:?} accepted as {:?}", raw, parsed);
        }
    }

    // ---- Email ----

    #[test]
    fn an_email_is_trimmed_and_keeps_its_shape(raw in any::<String>()) {
        if let Ok(e) = Email::parse(&raw) {
            let v = e.as_str();
            prop_assert_eq!(v, raw.trim());
            prop_assert!(v.len() <= 254);
            let (local, domain) = v.rsplit_once('@').unwrap();
            prop_assert!(!local.is_empty() && local.len() <= 64 && !local.contains('@'));
            prop_assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
            prop_assert!(!v.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert_eq!(Email::parse(v), Ok(e.clone()));
        }
    }

    #[test]
    fn plain_addresses_are_accepted(
        local in "[a-zA-Z0-9._%+-]{1,64}",
        host in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,2}\\.[a-z]{2,10}",
        pad in "[ \t]{0,2}",
    ) {
        let raw = format!("{pad}{local}@{host}{pad}");
        prop_assert_eq!(Email::parse(&raw).map(|e| e.as_str().to_owned()), Ok(format!("{local}@{host}")));
    }

    // ---- Bucket names and key ids ----

    #[test]
    fn bucket_names_are_trimmed_and_within_the_rules(raw in any::<String>()) {
        for (parsed, dots) in [(BucketName::s3(&raw), true), (BucketName::r2(&raw), false)] {
            if let Ok(b) = parsed {
                let v = b.as_str();
                prop_assert_eq!(v, raw.trim());
                prop_assert!((3..=63).contains(&v.len()));
                prop_assert!(v.chars().all(|c| c.is_ascii_lowercase()
                    || c.is_ascii_digit() || c == '-' || (dots && c == '.')));
            }
        }
    }

    #[test]
    fn valid_bucket_names_are_accepted_as_they_are(
        name in "[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
    ) {
        prop_assert_eq!(BucketName::s3(&name).map(|b| b.as_str().to_owned()), Ok(name.clone()));
        prop_assert_eq!(BucketName::r2(&name).map(|b| b.as_str().to_owned()), Ok(name.clone()));
        prop_assert!(BucketName::r2(&name.to_ascii_uppercase()).is_err()
            || name == name.to_ascii_uppercase());
    }

    #[test]
    fn r2_key_ids_are_lowercased(hex in "[0-9a-fA-F]{32}", pad in "[ \t]{0,2}") {
        let id = AccessKeyId::r2(&format!("{pad}{hex}{pad}")).unwrap();
        prop_assert_eq!(id.as_str(), hex.to_ascii_lowercase());
        let again = AccessKeyId::r2(id.as_str()).unwrap();
        prop_assert_eq!(again.as_str(), id.as_str());
        prop_assert_eq!(id.masked(), format!("****{}", &hex.to_ascii_lowercase()[28..]));
    }

    #[test]
    fn r2_key_ids_of_another_length_or_alphabet_are_refused(raw in any::<String>()) {
        let t = raw.trim();
        let valid = t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit());
        prop_assert_eq!(AccessKeyId::r2(&raw).is_ok(), valid);
    }

    // ---- Label ----

    #[test]
    fn a_label_is_trimmed_and_1_to_255_characters(raw in any::<String>()) {
        let t = raw.trim();
        let n = t.chars().count();
        let expected = (1..=255).contains(&n) && !t.chars().any(char::is_control);
        match Label::parse(&raw) {
            Ok(l) => {
                prop_assert!(expected);
                prop_assert_eq!(l.as_str(), t);
                prop_assert_eq!(Label::parse(l.as_str()), Ok(l.clone()));
            }
            Err(e) => {
                prop_assert!(!expected, "{:?} refused: {}", raw, e);
                prop_assert_eq!(e.field, "label");
            }
        }
    }

    #[test]
    fn long_labels_are_refused_at_256_characters(c in "[^\\s\\p{C}]", n in 250..260usize) {
        let raw = c.repeat(n);
        prop_assert_eq!(Label::parse(&raw).is_ok(), n <= 255);
    }

    // ---- Object keys and prefixes ----

    #[test]
    fn object_keys_follow_the_rules_exactly(raw in prop_oneof![
        any::<String>(),
        "[a-z./\\x00\\x7F\\x{85}é]{0,12}",
    ]) {
        let expected = !raw.is_empty()
            && raw.len() <= ObjectKey::MAX_BYTES
            && !raw.chars().any(char::is_control)
            && !raw.starts_with('/')
            && raw.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
        match ObjectKey::parse(&raw) {
            Ok(k) => {
                prop_assert!(expected, "{:?}", raw);
                prop_assert_eq!(k.as_str(), raw.as_str());
            }
            Err(_) => prop_assert!(!expected, "{:?} refused", raw),
        }
    }

    #[test]
    fn an_object_key_under_a_prefix_is_at_most_1024_bytes(
        key in "[a-z]{1,8}(/[a-z]{1,8}){0,3}",
        prefix in prop::option::of("[a-z/]{0,1030}"),
    ) {
        let k = ObjectKey::parse(&key).unwrap();
        let full = format!("{}{key}", prefix.clone().unwrap_or_default());
        match k.under(prefix.as_deref()) {
            Ok(v) => prop_assert_eq!(v, full),
            Err(_) => prop_assert!(full.len() > ObjectKey::MAX_BYTES),
        }
    }

    #[test]
    fn object_prefixes_are_trimmed_and_follow_the_rules(raw in prop_oneof![
        any::<String>(),
        " ?[a-z./\\x00\\x{85}]{0,12} ?",
    ]) {
        let v = raw.trim();
        let segments: Vec<&str> = v.split('/').collect();
        let expected = !v.is_empty()
            && v.len() <= ObjectPrefix::MAX_BYTES
            && !v.starts_with('/')
            && !v.chars().any(char::is_control)
            && segments.iter().enumerate().all(|(i, s)| {
                *s != "." && *s != ".." && (!s.is_empty() || i == segments.len() - 1)
            });
        match ObjectPrefix::parse(&raw) {
            Ok(p) => {
                prop_assert!(expected, "{:?}", raw);
                prop_assert_eq!(p.as_str(), v);
                prop_assert_eq!(ObjectPrefix::parse(p.as_str()), Ok(p.clone()));
            }
            Err(_) => prop_assert!(!expected, "{:?} refused", raw),
        }
    }

    // ---- Cursors ----

    #[test]
    fn positions_round_trip_through_their_cursor(
        // The range `time` represents: years -9999 to 9999.
        millis in -377_705_116_800_000i64..=253_402_300_799_999,
        id in any::<u128>(),
        kind in prop::sample::select(&["v1", "e1"][..]),
    ) {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).unwrap();
        let pos = Position { at, id: uuid::Uuid::from_u128(id) };
        let cursor = pos.to_cursor(kind);
        prop_assert!(cursor.len() <= 128);
        prop_assert_eq!(Position::from_cursor(kind, &cursor), Some(pos));
        let other = if kind == "v1" { "e1" } else { "v1" };
        prop_assert_eq!(Position::from_cursor(other, &cursor), None);
    }

    #[test]
    fn any_parsed_cursor_round_trips(cursor in prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{0,120}",
    ]) {
        if let Some(pos) = Position::from_cursor("v1", &cursor) {
            prop_assert_eq!(Position::from_cursor("v1", &pos.to_cursor("v1")), Some(pos));
        }
    }

    // ---- The error list ----

    #[test]
    fn the_error_list_keeps_at_most_max_and_counts_the_rest(
        first in 0..120usize,
        second in 0..120usize,
        extra_omitted in 0..3usize,
    ) {
        let mut a = ValidationErrors::new();
        for i in 0..first {
            a.add(format!("a{i}"), "bad");
        }
        prop_assert_eq!(a.errors().len(), first.min(ValidationErrors::MAX));
        prop_assert_eq!(a.omitted(), first.saturating_sub(ValidationErrors::MAX));
        let mut b = ValidationErrors::new();
        for i in 0..second + extra_omitted * ValidationErrors::MAX {
            b.add(format!("b{i}"), "bad");
        }
        let total = first + second + extra_omitted * ValidationErrors::MAX;
        a.extend(b);
        prop_assert_eq!(a.errors().len(), total.min(ValidationErrors::MAX));
        prop_assert_eq!(a.errors().len() + a.omitted(), total);
        prop_assert_eq!(a.is_empty(), total == 0);
        // The first problems found are the ones kept, in order.
        if let Some(e) = a.errors().first() {
            prop_assert_eq!(&e.field, if first > 0 { "a0" } else { "b0" });
        }
    }
}
