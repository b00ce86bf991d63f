//! The vault through its public API: round trips, tampering, row binding, rotation.

// Test helpers (outside `#[test]` functions) unwrap too.
#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use integrations_domain::Entropy;
use integrations_domain::{
    AccountId, CredentialVault, IntegrationId, Provider, SealContext, SealedSecrets, SecretFields,
    VaultError,
};
use integrations_vault::{EnvelopeVault, KeyRing, SystemEntropy};
use secrecy::{ExposeSecret, SecretString};

/// Offset of the payload: header (6) + wrapped_dek_len (2) + wrapped DEK (60).
const PAYLOAD_OFFSET: usize = 68;

fn key_text(entries: &[(u32, u8)], active: Option<u32>) -> SecretString {
    let mut text = String::new();
    for (id, byte) in entries {
        text.push_str(&format!("{id}:{}\n", STANDARD.encode([*byte; 32])));
    }
    if let Some(a) = active {
        text.push_str(&format!("active:{a}\n"));
    }
    SecretString::from(text)
}

fn vault(entries: &[(u32, u8)], active: Option<u32>) -> EnvelopeVault {
    EnvelopeVault::new(KeyRing::from_text(&key_text(entries, active)).unwrap())
}

fn context(provider: Provider) -> SealContext {
    SealContext {
        account_id: AccountId::new(),
        integration_id: IntegrationId::new(),
        provider,
    }
}

fn fields(pairs: &[(&str, &str)]) -> SecretFields {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), SecretString::from(*v)))
        .collect()
}

fn plain(fields: &SecretFields) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_owned(), v.expose_secret().to_owned()))
        .collect()
}

fn s3_fields() -> SecretFields {
    fields(&[
        ("accessKeyId", "AKIAIOSFODNN7EXAMPLE"),
        (
            "secretAccessKey",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    ])
}

#[tokio::test]
async fn round_trips_the_fields_of_several_providers() {
    let v = vault(&[(1, 0x11)], None);
    let cases = [
        (Provider::S3, s3_fields()),
        (
            Provider::R2,
            fields(&[
                ("accessKeyId", "0123456789abcdef0123456789abcdef"),
                ("secretAccessKey", "s3cr3t\"with\\quotes\nand ünïcødé"),
            ]),
        ),
        (Provider::Zendesk, fields(&[("token", "zd-token-123")])),
        (Provider::Intercom, fields(&[("token", "dG9rOmFiYw==")])),
        (Provider::Helpscout, fields(&[("apiKey", "hs-key")])),
        (Provider::Knowledgeowl, fields(&[("apiKey", "")])),
    ];
    for (provider, f) in cases {
        let ctx = context(provider);
        let sealed = v.seal(&ctx, &f).await.unwrap();
        assert_eq!(sealed.kek_id, 1);
        let opened = v.open(&ctx, &sealed).await.unwrap();
        assert_eq!(plain(&opened), plain(&f), "{provider}");
        // The plaintext does not appear in the blob.
        for (_, value) in plain(&f) {
            if value.len() > 3 {
                assert!(
                    !sealed
                        .blob
                        .windows(value.len())
                        .any(|w| w == value.as_bytes()),
                    "{provider}: plaintext visible in the blob"
                );
            }
        }
    }
}

#[test]
fn the_blob_has_the_documented_layout() {
    let v = vault(&[(1, 0x11), (7, 0x77)], None);
    let f = s3_fields();
    let sealed = v.seal_secrets(&context(Provider::S3), &f).unwrap();
    assert_eq!(sealed.kek_id, 7);
    let b = &sealed.blob;
    assert_eq!(b[0], 1, "version");
    assert_eq!(b[1], 1, "alg");
    assert_eq!(&b[2..6], &7u32.to_be_bytes(), "kek id");
    assert_eq!(&b[6..8], &60u16.to_be_bytes(), "wrapped dek length");
    let json_len = serde_json::to_vec(&serde_json::json!({
        "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }))
    .unwrap()
    .len();
    assert_eq!(b.len(), PAYLOAD_OFFSET + 12 + json_len + 16);
}

#[test]
fn a_flipped_bit_anywhere_is_refused() {
    let v = vault(&[(1, 0x11)], None);
    let ctx = context(Provider::S3);
    let sealed = v.seal_secrets(&ctx, &s3_fields()).unwrap();
    for i in 0..sealed.blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut blob = sealed.blob.clone();
            blob[i] ^= bit;
            let tampered = SealedSecrets {
                kek_id: sealed.kek_id,
                blob,
            };
            let err = v.open_secrets(&ctx, &tampered).unwrap_err();
            let expected_kind = match i {
                0 | 1 | 6 | 7 => matches!(err, VaultError::UnsupportedFormat),
                2..=5 => matches!(err, VaultError::UnknownKey { .. }),
                _ => matches!(err, VaultError::Integrity),
            };
            assert!(expected_kind, "byte {i}: {err:?}");
            // Rewrap never decrypts the payload, so it only notices tampering before it; a
            // tampered payload still does not open after a rewrap.
            match v.rewrap(&ctx, &tampered) {
                Err(_) => assert!(i < PAYLOAD_OFFSET, "rewrap refused payload byte {i}"),
                Ok(moved) => {
                    assert!(i >= PAYLOAD_OFFSET, "rewrap accepted header byte {i}");
                    assert!(matches!(
                        v.open_secrets(&ctx, &moved),
                        Err(VaultError::Integrity)
                    ));
                }
            }
        }
    }
}

#[test]
fn truncated_or_extended_blobs_are_refused() {
    let v = vault(&[(1, 0x11)], None);
    let ctx = context(Provider::Zendesk);
    let sealed = v.seal_secrets(&ctx, &fields(&[("token", "t")])).unwrap();
    for len in 0..sealed.blob.len() {
        let cut = SealedSecrets {
            kek_id: 1,
            blob: sealed.blob[..len].to_vec(),
        };
        let err = v.open_secrets(&ctx, &cut).unwrap_err();
        if len < PAYLOAD_OFFSET + 28 {
            assert!(
                matches!(err, VaultError::UnsupportedFormat),
                "{len}: {err:?}"
            );
        } else {
            assert!(matches!(err, VaultError::Integrity), "{len}: {err:?}");
        }
    }
    let mut longer = sealed.clone();
    longer.blob.push(0);
    assert!(matches!(
        v.open_secrets(&ctx, &longer),
        Err(VaultError::Integrity)
    ));
}

#[test]
fn a_blob_moved_to_another_row_does_not_open() {
    let v = vault(&[(1, 0x11)], None);
    let ctx = context(Provider::S3);
    let sealed = v.seal_secrets(&ctx, &s3_fields()).unwrap();
    let others = [
        SealContext {
            integration_id: IntegrationId::new(),
            ..ctx
        },
        SealContext {
            account_id: AccountId::new(),
            ..ctx
        },
        SealContext {
            provider: Provider::R2,
            ..ctx
        },
    ];
    for other in others {
        assert!(
            matches!(v.open_secrets(&other, &sealed), Err(VaultError::Integrity)),
            "{other:?}"
        );
        assert!(matches!(
            v.rewrap(&other, &sealed),
            Err(VaultError::Integrity)
        ));
    }
    // Still opens where it belongs.
    assert!(v.open_secrets(&ctx, &sealed).is_ok());
}

#[test]
fn unknown_version_algorithm_and_key_are_refused_before_decryption() {
    let v = vault(&[(1, 0x11)], None);
    let ctx = context(Provider::S3);
    let sealed = v.seal_secrets(&ctx, &s3_fields()).unwrap();

    let mut version = sealed.clone();
    version.blob[0] = 2;
    assert!(matches!(
        v.open_secrets(&ctx, &version),
        Err(VaultError::UnsupportedFormat)
    ));
    let mut alg = sealed.clone();
    alg.blob[1] = 2;
    assert!(matches!(
        v.open_secrets(&ctx, &alg),
        Err(VaultError::UnsupportedFormat)
    ));

    let other = vault(&[(2, 0x11)], None);
    assert!(matches!(
        other.open_secrets(&ctx, &sealed),
        Err(VaultError::UnknownKey { kek_id: 1 })
    ));
    assert!(matches!(
        other.rewrap(&ctx, &sealed),
        Err(VaultError::UnknownKey { kek_id: 1 })
    ));
}

#[test]
fn a_kek_id_column_that_disagrees_with_the_blob_is_refused() {
    let v = vault(&[(1, 0x11), (2, 0x22)], None);
    let ctx = context(Provider::S3);
    let mut sealed = v.seal_secrets(&ctx, &s3_fields()).unwrap();
    sealed.kek_id = 1;
    assert!(matches!(
        v.open_secrets(&ctx, &sealed),
        Err(VaultError::Integrity)
    ));
}

#[test]
fn a_different_key_with_the_same_id_is_refused() {
    let ctx = context(Provider::Helpjuice);
    let sealed = vault(&[(1, 0x11)], None)
        .seal_secrets(&ctx, &fields(&[("apiKey", "k")]))
        .unwrap();
    assert!(matches!(
        vault(&[(1, 0x12)], None).open_secrets(&ctx, &sealed),
        Err(VaultError::Integrity)
    ));
}

#[test]
fn two_seals_of_the_same_fields_differ() {
    let v = vault(&[(1, 0x11)], None);
    let ctx = context(Provider::S3);
    let a = v.seal_secrets(&ctx, &s3_fields()).unwrap();
    let b = v.seal_secrets(&ctx, &s3_fields()).unwrap();
    assert_eq!(a.blob.len(), b.blob.len());
    assert_ne!(
        &a.blob[8..PAYLOAD_OFFSET],
        &b.blob[8..PAYLOAD_OFFSET],
        "wrapped DEK"
    );
    assert_ne!(
        &a.blob[PAYLOAD_OFFSET..],
        &b.blob[PAYLOAD_OFFSET..],
        "payload"
    );
    assert_ne!(
        &a.blob[PAYLOAD_OFFSET..PAYLOAD_OFFSET + 12],
        &b.blob[PAYLOAD_OFFSET..PAYLOAD_OFFSET + 12],
        "payload nonce"
    );
}

#[test]
fn older_keys_still_open_after_rotation_and_new_seals_use_the_active_key() {
    let old = vault(&[(1, 0x11)], None);
    let rotated = vault(&[(1, 0x11), (2, 0x22)], None);
    let ctx = context(Provider::Freshdesk);
    let f = fields(&[("apiKey", "fd-key")]);

    let before = old.seal_secrets(&ctx, &f).unwrap();
    assert_eq!(before.kek_id, 1);
    assert_eq!(
        plain(&rotated.open_secrets(&ctx, &before).unwrap()),
        plain(&f)
    );

    let after = rotated.seal_secrets(&ctx, &f).unwrap();
    assert_eq!(after.kek_id, 2);
    assert_eq!(&after.blob[2..6], &2u32.to_be_bytes());
    assert!(matches!(
        old.open_secrets(&ctx, &after),
        Err(VaultError::UnknownKey { kek_id: 2 })
    ));

    // An explicit `active` line picks the older key again.
    let pinned = vault(&[(1, 0x11), (2, 0x22)], Some(1));
    assert_eq!(pinned.seal_secrets(&ctx, &f).unwrap().kek_id, 1);
}

#[test]
fn rewrap_moves_to_the_active_key_and_leaves_the_payload_untouched() {
    let old = vault(&[(1, 0x11)], None);
    let rotated = vault(&[(1, 0x11), (2, 0x22)], None);
    let ctx = context(Provider::S3);
    let f = s3_fields();
    let sealed = old.seal_secrets(&ctx, &f).unwrap();
    assert!(rotated.needs_rewrap(&sealed));

    let moved = rotated.rewrap(&ctx, &sealed).unwrap();
    assert_eq!(moved.kek_id, 2);
    assert!(!rotated.needs_rewrap(&moved));
    assert_eq!(&moved.blob[2..6], &2u32.to_be_bytes());
    assert_eq!(
        &moved.blob[PAYLOAD_OFFSET..],
        &sealed.blob[PAYLOAD_OFFSET..]
    );
    assert_ne!(
        &moved.blob[8..PAYLOAD_OFFSET],
        &sealed.blob[8..PAYLOAD_OFFSET]
    );

    // Opens without the old key at all.
    let only_new = vault(&[(2, 0x22)], None);
    assert_eq!(
        plain(&only_new.open_secrets(&ctx, &moved).unwrap()),
        plain(&f)
    );

    // Idempotent on the active key.
    assert_eq!(rotated.rewrap(&ctx, &moved).unwrap(), moved);
}

#[tokio::test]
async fn the_vault_works_behind_the_port() {
    let v: std::sync::Arc<dyn CredentialVault> = std::sync::Arc::new(vault(&[(3, 0x33)], None));
    let ctx = context(Provider::Intercom);
    let f = fields(&[("token", "ic-token")]);
    let sealed = v.seal(&ctx, &f).await.unwrap();
    assert_eq!(sealed.kek_id, 3);
    assert_eq!(plain(&v.open(&ctx, &sealed).await.unwrap()), plain(&f));
}

#[test]
fn debug_output_shows_no_key_material() {
    let text = key_text(&[(1, 0xab), (2, 0xcd)], None);
    let ring = KeyRing::from_text(&text).unwrap();
    let v = EnvelopeVault::new(ring.clone());
    for shown in [format!("{ring:?}"), format!("{v:?}"), format!("{v:#?}")] {
        assert!(shown.contains("active: 2"), "{shown}");
        assert!(!shown.contains("171"), "{shown}"); // 0xab
        assert!(!shown.contains("205"), "{shown}"); // 0xcd
        assert!(!shown.to_lowercase().contains("abab"), "{shown}");
        assert!(
            !shown.contains(&STANDARD.encode([0xab; 32])[..8]),
            "{shown}"
        );
    }
}

#[test]
fn system_entropy_is_random() {
    let entropy = SystemEntropy::new();
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    entropy.fill(&mut a).unwrap();
    entropy.fill(&mut b).unwrap();
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
}

#[test]
fn fingerprints_have_a_stable_known_answer() {
    // HMAC-SHA256(key = 0x42 × 32, "integrations-api/kek-fingerprint/v1"), computed
    // independently (Python's hmac module). Stored fingerprints depend on it never changing.
    const EXPECTED: &str = "d38c5922e50dbb353e1927c24de7393ee87791d0143b5fa0f2b4c3e621159c4d";
    let ring = KeyRing::from_text(&key_text(&[(4, 0x42), (5, 0x43)], Some(4))).unwrap();
    assert_eq!(ring.active_id(), 4);
    let prints = ring.fingerprints();
    assert_eq!(prints.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [4, 5]);
    let hex: String = prints[0].1.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, EXPECTED);
    assert_ne!(prints[0].1, prints[1].1);
}
