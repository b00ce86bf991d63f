//! The sealed-blob decoder: `EnvelopeVault::open_secrets` and `rewrap` on arbitrary bytes
//! and on mutations of real blobs, with a fixed key ring and context.
//!
//! * Never panics.
//! * Arbitrary bytes never open, and never rewrap (that would need a forged wrap).
//! * A real blob opens (to the sealed fields) only when neither its bytes, its `kek_id`
//!   column nor the context changed.
//! * `rewrap` authenticates the data key's wrap (header, context) but never decrypts the
//!   payload: a changed payload may rewrap, but the result never opens. Whatever rewraps
//!   opens to the sealed fields or not at all, and keeps the payload bytes.
#![no_main]

use arbitrary::Arbitrary;
use integrations_domain::{
    AccountId, ExposeSecret, IntegrationId, Provider, SealContext, SealedSecrets, SecretFields,
    SecretString,
};
use integrations_vault::{EnvelopeVault, KeyRing};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// Offset of the payload in a blob of format 1 (header 6, length 2, wrapped key 60).
const PAYLOAD_OFFSET: usize = 68;

struct Fixture {
    /// Keys 1 and 2, 2 active.
    vault: EnvelopeVault,
    context: SealContext,
    fields: SecretFields,
    /// Sealed by a ring holding only key 1 (a rewrap candidate), and by `vault` (key 2).
    blobs: [SealedSecrets; 2],
}

fn key(byte: u8) -> Zeroizing<[u8; 32]> {
    Zeroizing::new([byte; 32])
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ring = KeyRing::from_keys([(1, key(1)), (2, key(2))], Some(2)).expect("ring");
        let old = EnvelopeVault::new(KeyRing::from_keys([(1, key(1))], None).expect("ring"));
        let vault = EnvelopeVault::new(ring);
        let context = SealContext {
            account_id: AccountId::from_uuid(uuid::Uuid::from_u128(0x1111)),
            integration_id: IntegrationId::from_uuid(uuid::Uuid::from_u128(0x2222)),
            provider: Provider::Zendesk,
        };
        let mut fields = SecretFields::new();
        fields.insert("token", SecretString::from("zd-token-0123456789"));
        fields.insert("apiKey", SecretString::from("ünïcode ✓"));
        let blobs = [
            old.seal_secrets(&context, &fields).expect("seal"),
            vault.seal_secrets(&context, &fields).expect("seal"),
        ];
        Fixture {
            vault,
            context,
            fields,
            blobs,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Any bytes, any `kek_id` column.
    Raw { kek_id: u32, blob: &'a [u8] },
    /// A real blob, changed.
    Mutated {
        which: bool,
        flips: Vec<(u16, u8)>,
        truncate: Option<u16>,
        append: Vec<u8>,
        kek_id: Option<u32>,
        context: ContextChange,
    },
}

#[derive(Arbitrary, Debug)]
enum ContextChange {
    None,
    Account(u128),
    Integration(u128),
    Provider(u8),
}

fn same(a: &SecretFields, b: &SecretFields) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && va.expose_secret() == vb.expose_secret())
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let (sealed, context, original) = match input {
        Input::Raw { kek_id, blob } => (
            SealedSecrets {
                kek_id,
                blob: blob.to_vec(),
            },
            f.context,
            None,
        ),
        Input::Mutated {
            which,
            flips,
            truncate,
            append,
            kek_id,
            context,
        } => {
            let original = &f.blobs[usize::from(which)];
            let mut s = original.clone();
            for (pos, xor) in flips {
                if !s.blob.is_empty() {
                    let i = usize::from(pos) % s.blob.len();
                    s.blob[i] ^= xor;
                }
            }
            if let Some(n) = truncate {
                s.blob.truncate(usize::from(n));
            }
            s.blob.extend_from_slice(&append);
            if let Some(id) = kek_id {
                s.kek_id = id;
            }
            let mut c = f.context;
            match context {
                ContextChange::None => {}
                ContextChange::Account(u) => {
                    c.account_id = AccountId::from_uuid(uuid::Uuid::from_u128(u))
                }
                ContextChange::Integration(u) => {
                    c.integration_id = IntegrationId::from_uuid(uuid::Uuid::from_u128(u))
                }
                ContextChange::Provider(i) => {
                    c.provider = Provider::ALL[usize::from(i) % Provider::ALL.len()]
                }
            }
            (s, c, Some(original))
        }
    };
    let unchanged = original.is_some_and(|o| *o == sealed) && context == f.context;

    match f.vault.open_secrets(&context, &sealed) {
        Ok(opened) => {
            assert!(unchanged, "a blob that was not sealed like this opened");
            assert!(same(&opened, &f.fields), "opened to other data");
        }
        Err(_) => assert!(!unchanged, "a real blob did not open"),
    }

    match f.vault.rewrap(&context, &sealed) {
        Ok(rewrapped) => {
            let original = original.expect("arbitrary bytes rewrapped (forged wrap)");
            assert_eq!(
                rewrapped.kek_id, 2,
                "rewrapped to another key than the active one"
            );
            assert_eq!(
                rewrapped.blob.get(PAYLOAD_OFFSET..),
                sealed.blob.get(PAYLOAD_OFFSET..),
                "rewrap touched the payload"
            );
            // Only the payload (never decrypted by a rewrap) may differ from the original.
            assert_eq!(
                sealed.blob.get(..PAYLOAD_OFFSET),
                original.blob.get(..PAYLOAD_OFFSET),
                "a changed header or wrapped key rewrapped"
            );
            assert_eq!(
                sealed.kek_id, original.kek_id,
                "a changed kek_id column rewrapped"
            );
            assert_eq!(context, f.context, "rewrapped for another context");
            match f.vault.open_secrets(&context, &rewrapped) {
                Ok(opened) => {
                    assert!(unchanged, "a changed payload opened after a rewrap");
                    assert!(same(&opened, &f.fields), "opened to other data");
                }
                Err(_) => assert!(!unchanged, "a rewrapped real blob did not open"),
            }
        }
        Err(_) => assert!(!unchanged, "a real blob did not rewrap"),
    }
});
