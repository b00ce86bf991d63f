//! Properties of the envelope vault (proptest): seal/open round trips for any secret fields,
//! refusal of any changed byte or associated-data field, and rewraps that keep the payload.

// Strategies and helpers (outside `#[test]` functions) unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use integrations_domain::{
    AccountId, IntegrationId, Provider, SealContext, SealedSecrets, SecretFields,
};
use integrations_vault::{EnvelopeVault, KeyRing};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// Offset of the payload: header (6) + wrapped_dek_len (2) + wrapped DEK (60).
const PAYLOAD_OFFSET: usize = 68;

fn ring(keys: &[(u32, [u8; 32])], active: Option<u32>) -> KeyRing {
    KeyRing::from_keys(keys.iter().map(|(id, k)| (*id, Zeroizing::new(*k))), active)
        .expect("valid ring")
}

fn context(account: u128, integration: u128, provider: usize) -> SealContext {
    SealContext {
        account_id: AccountId::from_uuid(uuid::Uuid::from_u128(account)),
        integration_id: IntegrationId::from_uuid(uuid::Uuid::from_u128(integration)),
        provider: Provider::ALL[provider % Provider::ALL.len()],
    }
}

fn to_fields(map: &BTreeMap<String, String>) -> SecretFields {
    map.iter()
        .map(|(k, v)| (k.clone(), SecretString::from(v.as_str())))
        .collect()
}

fn plain(fields: &SecretFields) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|(k, v)| (k.to_owned(), v.expose_secret().to_owned()))
        .collect()
}

/// Field names (known ones and any text) to values of any Unicode text, empty to long.
fn secret_fields() -> impl Strategy<Value = BTreeMap<String, String>> {
    let name = prop_oneof![
        Just("token".to_owned()),
        Just("apiKey".to_owned()),
        Just("secretAccessKey".to_owned()),
        Just("accessKeyId".to_owned()),
        any::<String>(),
    ];
    let value = prop_oneof![
        4 => any::<String>(),
        1 => "\\PC{0,5000}",
        1 => vec(any::<char>(), 0..64).prop_map(|c| c.into_iter().collect()),
    ];
    btree_map(name, value, 0..6)
}

fn key() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

/// A context: account, integration, provider index.
fn any_context() -> impl Strategy<Value = SealContext> {
    (any::<u128>(), any::<u128>(), 0..Provider::ALL.len()).prop_map(|(a, i, p)| context(a, i, p))
}

/// A context that differs from `c` in exactly one field.
fn other_context(c: SealContext) -> impl Strategy<Value = SealContext> {
    let account = *c.account_id.as_uuid();
    let integration = *c.integration_id.as_uuid();
    let provider = c.provider;
    prop_oneof![
        any::<u128>()
            .prop_filter("another account", move |a| uuid::Uuid::from_u128(*a)
                != account)
            .prop_map(move |a| SealContext {
                account_id: AccountId::from_uuid(uuid::Uuid::from_u128(a)),
                ..c
            }),
        any::<u128>()
            .prop_filter("another integration", move |i| {
                uuid::Uuid::from_u128(*i) != integration
            })
            .prop_map(move |i| SealContext {
                integration_id: IntegrationId::from_uuid(uuid::Uuid::from_u128(i)),
                ..c
            }),
        (0..Provider::ALL.len())
            .prop_filter("another provider", move |p| Provider::ALL[*p] != provider)
            .prop_map(move |p| SealContext {
                provider: Provider::ALL[p],
                ..c
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        // No regression files written into the source tree (CI runs in a fresh clone).
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn seal_then_open_gives_the_fields_back(
        fields in secret_fields(),
        k in key(),
        c in any_context(),
    ) {
        let vault = EnvelopeVault::new(ring(&[(1, k)], None));
        let sealed = vault.seal_secrets(&c, &to_fields(&fields)).unwrap();
        prop_assert_eq!(sealed.kek_id, 1);
        let opened = vault.open_secrets(&c, &sealed).unwrap();
        prop_assert_eq!(plain(&opened), fields);
    }

    #[test]
    fn any_changed_byte_is_refused(
        fields in secret_fields(),
        k in key(),
        c in any_context(),
        at in any::<prop::sample::Index>(),
        xor in 1..=255u8,
    ) {
        let vault = EnvelopeVault::new(ring(&[(1, k)], None));
        let mut sealed = vault.seal_secrets(&c, &to_fields(&fields)).unwrap();
        let i = at.index(sealed.blob.len());
        sealed.blob[i] ^= xor;
        prop_assert!(vault.open_secrets(&c, &sealed).is_err(), "byte {} changed", i);
        // A rewrap authenticates the header and the wrapped key; it never decrypts the
        // payload, so a changed payload may move to the new key, but it still never opens.
        let rotated = EnvelopeVault::new(ring(&[(1, k), (2, [2; 32])], Some(2)));
        if let Ok(moved) = rotated.rewrap(&c, &sealed) {
            prop_assert!(i >= PAYLOAD_OFFSET, "byte {} changed and rewrapped", i);
            prop_assert!(rotated.open_secrets(&c, &moved).is_err());
        }
    }

    #[test]
    fn a_shorter_or_longer_blob_is_refused(
        fields in secret_fields(),
        c in any_context(),
        cut in any::<prop::sample::Index>(),
        extra in vec(any::<u8>(), 1..32),
    ) {
        let vault = EnvelopeVault::new(ring(&[(1, [7; 32])], None));
        let sealed = vault.seal_secrets(&c, &to_fields(&fields)).unwrap();
        let mut short = sealed.clone();
        short.blob.truncate(cut.index(sealed.blob.len()));
        prop_assert!(vault.open_secrets(&c, &short).is_err());
        let mut long = sealed;
        long.blob.extend_from_slice(&extra);
        prop_assert!(vault.open_secrets(&c, &long).is_err());
    }

    #[test]
    fn any_changed_associated_data_is_refused(
        (c, other) in any_context().prop_flat_map(|c| (Just(c), other_context(c))),
        fields in secret_fields(),
    ) {
        // Seal under key 1, rewrap candidates too: both the wrap and the payload bind the row.
        let vault = EnvelopeVault::new(ring(&[(1, [1; 32]), (2, [2; 32])], Some(1)));
        let sealed = vault.seal_secrets(&c, &to_fields(&fields)).unwrap();
        prop_assert!(vault.open_secrets(&other, &sealed).is_err());
        let rotated = EnvelopeVault::new(ring(&[(1, [1; 32]), (2, [2; 32])], Some(2)));
        prop_assert!(rotated.rewrap(&other, &sealed).is_err());
        prop_assert!(rotated.open_secrets(&other, &sealed).is_err());
    }

    #[test]
    fn a_changed_kek_id_column_is_refused(
        fields in secret_fields(),
        c in any_context(),
        column in any::<u32>().prop_filter("another id", |id| *id != 1),
    ) {
        let vault = EnvelopeVault::new(ring(&[(1, [1; 32]), (2, [2; 32])], Some(1)));
        let sealed = vault.seal_secrets(&c, &to_fields(&fields)).unwrap();
        let moved = SealedSecrets { kek_id: column, blob: sealed.blob.clone() };
        prop_assert!(vault.open_secrets(&c, &moved).is_err());
        prop_assert!(vault.rewrap(&c, &moved).is_err());
    }

    #[test]
    fn rewrap_keeps_the_fields_and_the_payload_bytes(
        fields in secret_fields(),
        old in key(),
        new in key(),
        c in any_context(),
    ) {
        let before = EnvelopeVault::new(ring(&[(1, old)], None));
        let after = EnvelopeVault::new(ring(&[(1, old), (2, new)], Some(2)));
        let sealed = before.seal_secrets(&c, &to_fields(&fields)).unwrap();
        prop_assert!(after.needs_rewrap(&sealed));
        let rewrapped = after.rewrap(&c, &sealed).unwrap();
        prop_assert_eq!(rewrapped.kek_id, 2);
        prop_assert_eq!(&rewrapped.blob[PAYLOAD_OFFSET..], &sealed.blob[PAYLOAD_OFFSET..]);
        prop_assert_eq!(plain(&after.open_secrets(&c, &rewrapped).unwrap()), fields.clone());
        // Idempotent once on the active key; the old blob still opens (key 1 kept).
        prop_assert!(after.rewrap(&c, &rewrapped).unwrap() == rewrapped);
        prop_assert_eq!(plain(&after.open_secrets(&c, &sealed).unwrap()), fields);
        // A ring without the new key cannot open the rewrapped blob.
        prop_assert!(before.open_secrets(&c, &rewrapped).is_err());
    }
}
