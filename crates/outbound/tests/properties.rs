//! Properties of the egress helpers (proptest): the scrubber removes every form of a secret
//! from text that embeds it, and `is_public` agrees with the standard library's
//! classification of addresses.

// Strategies and helpers (outside `#[test]` functions) unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use integrations_outbound::scrub::REDACTED;
use integrations_outbound::{is_public, Scrubber};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Secrets as the domain accepts them: no whitespace or control characters.
fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9_./+=-]{1,64}",
        1 => "[^\\s\\p{C}]{1,40}",
    ]
}

/// Text around the secret: anything, words, or punctuation that glues onto it.
fn surrounding() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z ]{0,20}",
        "(token|key|Basic |Bearer |=|:|\"|')?",
    ]
}

fn forms(secret: &str) -> Vec<String> {
    vec![
        secret.to_owned(),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ]
}

/// IPv4 ranges that are not public beyond those the standard library names (IANA special
/// purpose registry): "this network", CGNAT, protocol assignments, 6to4 relay,
/// benchmarking, reserved.
fn special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || (a == 100 && (64..=127).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn std_non_public_v4(ip: Ipv4Addr) -> bool {
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
}

fn std_non_public_v6(ip: Ipv6Addr) -> bool {
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
}

/// Addresses spread over the whole space and concentrated around the special ranges.
fn v4() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        any::<u32>().prop_map(Ipv4Addr::from),
        (
            prop::sample::select(
                &[0u8, 10, 100, 127, 169, 172, 192, 198, 203, 224, 239, 240, 255][..]
            ),
            any::<[u8; 3]>()
        )
            .prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // No regression files written into the source tree (CI runs in a fresh clone).
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_form_of_a_secret_is_scrubbed(
        secret in secret(),
        before in surrounding(),
        after in surrounding(),
        which in 0..6usize,
    ) {
        let secret = secret.trim().to_owned();
        prop_assume!(!secret.is_empty());
        let shown = forms(&secret).swap_remove(which);
        // The mask's own character: `:*` would show again in `:****`.
        prop_assume!(!shown.contains('*'));
        let text = format!("{before}{shown}{after}");
        let out = Scrubber::new().secret(&secret).scrub(&text);
        prop_assert!(!out.contains(&shown), "{:?} survived in {:?}", shown, out);
        prop_assert!(out.contains(REDACTED));
    }

    #[test]
    fn text_without_a_secret_is_left_alone(
        secret in "[A-Za-z0-9]{12,40}",
        text in "[a-z ,.:!?]{0,80}",
    ) {
        // Lowercase letters and punctuation cannot share 6 characters with an all-digit
        // secret, nor with its encodings unless they do; only check clean text.
        let s = Scrubber::new().secret(&secret);
        let echoes = forms(&secret).iter().any(|f| {
            text.as_bytes().windows(6).any(|w| f.as_bytes().windows(6).any(|x| x == w))
                || text.contains(f.as_str())
        });
        prop_assume!(!echoes);
        prop_assert_eq!(s.scrub(&text), text);
    }

    #[test]
    fn is_public_agrees_with_std_for_ipv4(ip in v4()) {
        let expected = !(std_non_public_v4(ip) || special_v4(ip));
        prop_assert_eq!(is_public(IpAddr::V4(ip)), expected, "{}", ip);
    }

    #[test]
    fn an_ipv4_address_is_judged_the_same_inside_ipv6(ip in v4()) {
        let public = is_public(IpAddr::V4(ip));
        prop_assert_eq!(is_public(IpAddr::V6(ip.to_ipv6_mapped())), public, "{}", ip);
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed it too.
        let [a, b, c, d] = ip.octets();
        let nat64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
        prop_assert_eq!(is_public(IpAddr::V6(nat64)), public, "{}", nat64);
        let six_to_four = Ipv6Addr::new(0x2002, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]), 0, 0, 0, 0, 1);
        prop_assert_eq!(is_public(IpAddr::V6(six_to_four)), public, "{}", six_to_four);
    }

    #[test]
    fn ipv6_addresses_std_calls_non_public_are_refused(
        segments in prop_oneof![
            any::<[u16; 8]>(),
            (prop::sample::select(&[0u16, 0xfc00, 0xfd00, 0xfe80, 0xfebf, 0xff00, 0xff02][..]), any::<[u16; 7]>())
                .prop_map(|(first, rest)| {
                    let mut s = [first; 8];
                    s[1..].copy_from_slice(&rest);
                    s
                }),
            Just([0, 0, 0, 0, 0, 0, 0, 1]),
        ]
    ) {
        let ip = Ipv6Addr::from(segments);
        if std_non_public_v6(ip) {
            prop_assert!(!is_public(IpAddr::V6(ip)), "{}", ip);
        }
        if is_public(IpAddr::V6(ip)) {
            prop_assert!(!std_non_public_v6(ip), "{}", ip);
        }
    }
}
