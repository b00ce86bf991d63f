//! `EnvelopeVault`: a fresh data key (DEK) per seal, wrapped by the active KEK.

use crate::blob::{self, AadFor, ParsedBlob, DEK_LEN, NONCE_LEN, PAYLOAD_OFFSET, WRAPPED_DEK_LEN};
use crate::keyring::{Kek, KeyRing};
use async_trait::async_trait;
use integrations_domain::{CredentialVault, SealContext, SealedSecrets, SecretFields, VaultError};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};
use serde::ser::{Serialize, Serializer};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// Envelope encryption of secret fields (see the crate documentation for the format).
pub struct EnvelopeVault {
    ring: KeyRing,
    rng: SystemRandom,
}

impl std::fmt::Debug for EnvelopeVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeVault")
            .field("ring", &self.ring)
            .finish()
    }
}

impl EnvelopeVault {
    pub fn new(ring: KeyRing) -> Self {
        Self {
            ring,
            rng: SystemRandom::new(),
        }
    }

    pub fn key_ring(&self) -> &KeyRing {
        &self.ring
    }

    /// Whether `sealed` is wrapped by a key other than the active one (a rewrap candidate).
    pub fn needs_rewrap(&self, sealed: &SealedSecrets) -> bool {
        sealed.kek_id != self.ring.active_id()
    }

    /// Seals `fields` for `context` (what [`CredentialVault::seal`] does, synchronously).
    pub fn seal_secrets(
        &self,
        context: &SealContext,
        fields: &SecretFields,
    ) -> Result<SealedSecrets, VaultError> {
        let (kek_id, kek) = self
            .ring
            .active()
            .ok_or_else(|| VaultError::Seal("the key ring has no active key".into()))?;
        let mut dek = Zeroizing::new([0u8; DEK_LEN]);
        self.fill_random(&mut dek[..])?;
        let plaintext = encode_fields(fields)?;
        let header = blob::header(kek_id);

        let mut payload_nonce = [0u8; NONCE_LEN];
        self.fill_random(&mut payload_nonce)?;
        // The blob holds plaintext until it is sealed in place: zeroed if anything fails.
        let mut out = Zeroizing::new(Vec::with_capacity(
            PAYLOAD_OFFSET + NONCE_LEN + plaintext.len() + blob::TAG_LEN,
        ));
        out.extend_from_slice(&header);
        self.push_wrapped_dek(&mut out, kek, &header, context, &dek)?;
        out.extend_from_slice(&payload_nonce);
        let start = out.len();
        out.extend_from_slice(&plaintext);
        let dek_key = aead_key(&dek)?;
        let tag = dek_key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(payload_nonce),
                Aad::from(blob::aad(&header, context, AadFor::Payload)),
                &mut out[start..],
            )
            .map_err(|_| VaultError::Seal("encrypting the secret fields failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(SealedSecrets {
            kek_id,
            blob: std::mem::take(&mut *out),
        })
    }

    /// Opens a blob sealed for `context` (what [`CredentialVault::open`] does, synchronously).
    pub fn open_secrets(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SecretFields, VaultError> {
        let (parsed, kek) = self.parse_checked(sealed)?;
        let dek = unwrap_dek(kek, &parsed, context)?;
        let (nonce, ciphertext) = parsed.payload.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Integrity)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plaintext = aead_key(&dek)?
            .open_in_place(
                nonce,
                Aad::from(blob::aad(&parsed.header, context, AadFor::Payload)),
                &mut buffer[..],
            )
            .map_err(|_| VaultError::Integrity)?;
        decode_fields(plaintext)
    }

    /// Re-wraps the data key of `sealed` with the active KEK, leaving the payload bytes
    /// untouched (the payload is never decrypted). Idempotent: a blob already on the active
    /// KEK is checked and returned unchanged. Errors as for `open`.
    pub fn rewrap(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SealedSecrets, VaultError> {
        let (parsed, old_kek) = self.parse_checked(sealed)?;
        let dek = unwrap_dek(old_kek, &parsed, context)?;
        let (active_id, active_kek) = self
            .ring
            .active()
            .ok_or_else(|| VaultError::Seal("the key ring has no active key".into()))?;
        if parsed.kek_id == active_id {
            return Ok(sealed.clone());
        }
        let header = blob::header(active_id);
        let mut out = Zeroizing::new(Vec::with_capacity(sealed.blob.len()));
        out.extend_from_slice(&header);
        self.push_wrapped_dek(&mut out, active_kek, &header, context, &dek)?;
        out.extend_from_slice(parsed.payload);
        tracing::debug!(
            from = parsed.kek_id,
            to = active_id,
            "re-wrapped a data key"
        );
        Ok(SealedSecrets {
            kek_id: active_id,
            blob: std::mem::take(&mut *out),
        })
    }

    /// Parses the blob and finds its KEK, before any decryption.
    fn parse_checked<'a>(
        &self,
        sealed: &'a SealedSecrets,
    ) -> Result<(ParsedBlob<'a>, &Kek), VaultError> {
        let parsed = blob::parse(&sealed.blob)?;
        let kek = self.ring.get(parsed.kek_id).ok_or(VaultError::UnknownKey {
            kek_id: parsed.kek_id,
        })?;
        if parsed.kek_id != sealed.kek_id {
            // The stored column disagrees with the blob: one of them was altered.
            return Err(VaultError::Integrity);
        }
        Ok((parsed, kek))
    }

    /// Appends `wrapped_dek_len ‖ nonce ‖ AES-GCM(kek, dek) ‖ tag`.
    fn push_wrapped_dek(
        &self,
        out: &mut Vec<u8>,
        kek: &Kek,
        header: &[u8; blob::HEADER_LEN],
        context: &SealContext,
        dek: &[u8; DEK_LEN],
    ) -> Result<(), VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.fill_random(&mut nonce)?;
        let len = u16::try_from(WRAPPED_DEK_LEN)
            .map_err(|_| VaultError::Seal("wrapped key length overflow".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(dek);
        let tag = kek
            .aead()
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(blob::aad(header, context, AadFor::Wrap)),
                &mut out[start..],
            )
            .map_err(|_| VaultError::Seal("wrapping the data key failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    fn fill_random(&self, dest: &mut [u8]) -> Result<(), VaultError> {
        self.rng
            .fill(dest)
            .map_err(|_| VaultError::Seal("the system random number generator failed".into()))
    }
}

#[async_trait]
impl CredentialVault for EnvelopeVault {
    async fn seal(
        &self,
        context: &SealContext,
        fields: &SecretFields,
    ) -> Result<SealedSecrets, VaultError> {
        self.seal_secrets(context, fields)
    }

    async fn open(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SecretFields, VaultError> {
        self.open_secrets(context, sealed)
    }

    async fn rewrap(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SealedSecrets, VaultError> {
        EnvelopeVault::rewrap(self, context, sealed)
    }

    fn active_key_id(&self) -> u32 {
        self.ring.active_id()
    }

    fn seal_token(&self, context: &[u8], plaintext: &[u8]) -> Result<String, VaultError> {
        crate::token::seal(&self.ring, &self.rng, context, plaintext)
    }

    fn open_token(&self, context: &[u8], token: &str) -> Result<Vec<u8>, VaultError> {
        crate::token::open(&self.ring, context, token)
    }
}

fn aead_key(bytes: &[u8; DEK_LEN]) -> Result<LessSafeKey, VaultError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Seal("cannot build an AES-256-GCM key".into()))
}

/// Authenticates and decrypts the wrapped DEK. `Integrity` on any failure.
fn unwrap_dek(
    kek: &Kek,
    parsed: &ParsedBlob<'_>,
    context: &SealContext,
) -> Result<Zeroizing<[u8; DEK_LEN]>, VaultError> {
    let (nonce, wrapped) = parsed.wrapped_dek.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Integrity)?;
    let mut buffer = Zeroizing::new([0u8; DEK_LEN + blob::TAG_LEN]);
    if wrapped.len() != buffer.len() {
        return Err(VaultError::UnsupportedFormat);
    }
    buffer.copy_from_slice(wrapped);
    let dek = kek
        .aead()
        .open_in_place(
            nonce,
            Aad::from(blob::aad(&parsed.header, context, AadFor::Wrap)),
            &mut buffer[..],
        )
        .map_err(|_| VaultError::Integrity)?;
    let mut out = Zeroizing::new([0u8; DEK_LEN]);
    if dek.len() != DEK_LEN {
        return Err(VaultError::Integrity);
    }
    out.copy_from_slice(dek);
    Ok(out)
}

/// Serializes the fields as a JSON object (name → string) into a zeroed-on-drop buffer.
fn encode_fields(fields: &SecretFields) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    struct Plain<'a>(&'a SecretFields);
    impl Serialize for Plain<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(k, v)| (k, v.expose_secret())))
        }
    }
    // Worst case JSON escaping is 6 bytes per input byte (`\u00XX`), plus quotes and
    // separators: reserving that up front means the buffer never reallocates, so no copy of
    // the plaintext is freed without being zeroed.
    let capacity = 2 + fields
        .iter()
        .map(|(k, v)| 6 * (k.len() + v.expose_secret().len()) + 6)
        .sum::<usize>();
    let mut buffer = Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer(&mut *buffer, &Plain(fields))
        .map_err(|_| VaultError::Seal("cannot encode the secret fields".into()))?;
    Ok(buffer)
}

/// Parses the decrypted JSON object. Authentic but unparsable data is `UnsupportedFormat`;
/// the parser's message is dropped (it could quote the plaintext).
fn decode_fields(plaintext: &[u8]) -> Result<SecretFields, VaultError> {
    let map: BTreeMap<String, SecretString> =
        serde_json::from_slice(plaintext).map_err(|_| VaultError::UnsupportedFormat)?;
    Ok(map.into_iter().collect())
}
