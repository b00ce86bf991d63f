//! Small sealed tokens (import cursors): opaque and tamper-proof to whoever holds them.
//!
//! ```text
//! base64url( version u8 (=1) | kek_id u32 | nonce (12) | AES-256-GCM(token key, plaintext) ‖ tag )
//! ```
//!
//! The token key of each KEK is derived from it with HKDF-SHA256, so no new secret is
//! managed; a token sealed before a rotation opens as long as its KEK stays in the ring. The
//! AAD binds the token to its context (account and integration) and to the header.

use crate::keyring::KeyRing;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use integrations_domain::VaultError;
use ring::aead::{Aad, Nonce, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4;
/// Longest token accepted (a cursor is small; anything longer is not ours).
const MAX_TOKEN_LEN: usize = 4096;

fn aad(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + header.len() + context.len());
    out.extend_from_slice(b"integrations-api/token/v1");
    out.extend_from_slice(header);
    out.extend_from_slice(context);
    out
}

pub(crate) fn seal(
    ring: &KeyRing,
    rng: &SystemRandom,
    context: &[u8],
    plaintext: &[u8],
) -> Result<String, VaultError> {
    let (kek_id, kek) = ring
        .active()
        .ok_or_else(|| VaultError::Seal("the key ring has no active key".into()))?;
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)
        .map_err(|_| VaultError::Seal("the system random number generator failed".into()))?;
    let mut header = [0u8; HEADER_LEN];
    header[0] = VERSION;
    header[1..].copy_from_slice(&kek_id.to_be_bytes());
    let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + 16);
    out.extend_from_slice(&header);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = kek
        .token()
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(&header, context)),
            &mut out[start..],
        )
        .map_err(|_| VaultError::Seal("sealing the token failed".into()))?;
    out.extend_from_slice(tag.as_ref());
    Ok(URL_SAFE_NO_PAD.encode(out))
}

pub(crate) fn open(ring: &KeyRing, context: &[u8], token: &str) -> Result<Vec<u8>, VaultError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VaultError::UnsupportedFormat);
    }
    let raw = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| VaultError::UnsupportedFormat)?;
    if raw.len() < HEADER_LEN + NONCE_LEN + 16 || raw[0] != VERSION {
        return Err(VaultError::UnsupportedFormat);
    }
    let (header, rest) = raw.split_at(HEADER_LEN);
    let kek_id = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let kek = ring.get(kek_id).ok_or(VaultError::UnknownKey { kek_id })?;
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Integrity)?;
    let mut buffer = sealed.to_vec();
    let plaintext = kek
        .token()
        .open_in_place(nonce, Aad::from(aad(header, context)), &mut buffer)
        .map_err(|_| VaultError::Integrity)?;
    Ok(plaintext.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_anything_else() {
        let ring = KeyRing::generate().unwrap();
        let rng = SystemRandom::new();
        let t = seal(&ring, &rng, b"acct|integration", b"{\"page\":2}").unwrap();
        assert_eq!(
            open(&ring, b"acct|integration", &t).unwrap(),
            b"{\"page\":2}"
        );
        assert!(!t.contains("page"), "opaque");
        // Another context, another ring, a changed byte, garbage: all refused.
        assert!(matches!(
            open(&ring, b"acct|other", &t),
            Err(VaultError::Integrity)
        ));
        assert!(open(&KeyRing::generate().unwrap(), b"acct|integration", &t).is_err());
        let mut raw = URL_SAFE_NO_PAD.decode(&t).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(open(&ring, b"acct|integration", &URL_SAFE_NO_PAD.encode(raw)).is_err());
        for bad in ["", "abc", "!!!", &"A".repeat(5000)] {
            assert!(open(&ring, b"acct|integration", bad).is_err(), "{bad}");
        }
    }
}
