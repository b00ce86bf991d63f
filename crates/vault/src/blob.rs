//! The sealed blob format and the additional authenticated data (AAD).
//!
//! ```text
//! offset  size  field
//! 0       1     version          = 1
//! 1       1     alg              = 1 (AES-256-GCM for both the DEK wrap and the payload)
//! 2       4     kek_id           big-endian u32
//! 6       2     wrapped_dek_len  big-endian u16, = 60 for alg 1
//! 8       60    wrapped_dek      nonce (12) ‖ ciphertext of the DEK (32) ‖ tag (16)
//! 68      ≥28   payload          nonce (12) ‖ ciphertext of the secret JSON ‖ tag (16)
//! ```

use integrations_domain::{SealContext, VaultError};

pub(crate) const VERSION: u8 = 1;
pub(crate) const ALG_AES_256_GCM: u8 = 1;
pub(crate) const NONCE_LEN: usize = ring::aead::NONCE_LEN;
pub(crate) const TAG_LEN: usize = 16;
pub(crate) const DEK_LEN: usize = 32;
/// version, alg, kek_id.
pub(crate) const HEADER_LEN: usize = 6;
/// Header and `wrapped_dek_len`.
pub(crate) const PREFIX_LEN: usize = HEADER_LEN + 2;
pub(crate) const WRAPPED_DEK_LEN: usize = NONCE_LEN + DEK_LEN + TAG_LEN;
pub(crate) const PAYLOAD_OFFSET: usize = PREFIX_LEN + WRAPPED_DEK_LEN;
const MIN_PAYLOAD_LEN: usize = NONCE_LEN + TAG_LEN;

/// What the AAD is for. The DEK wrap binds the full header (with `kek_id`); the payload binds
/// version and algorithm only, so a rewrap (new `kek_id`) leaves the payload valid untouched.
/// The payload stays bound to its KEK through its DEK, which only the wrap yields.
#[derive(Clone, Copy)]
pub(crate) enum AadFor {
    Wrap,
    Payload,
}

/// A structurally valid blob, borrowed; nothing decrypted yet.
pub(crate) struct ParsedBlob<'a> {
    pub(crate) header: [u8; HEADER_LEN],
    pub(crate) kek_id: u32,
    pub(crate) wrapped_dek: &'a [u8],
    /// nonce ‖ ciphertext ‖ tag.
    pub(crate) payload: &'a [u8],
}

pub(crate) fn header(kek_id: u32) -> [u8; HEADER_LEN] {
    let id = kek_id.to_be_bytes();
    [VERSION, ALG_AES_256_GCM, id[0], id[1], id[2], id[3]]
}

/// Checks version, algorithm and lengths. Any problem is `UnsupportedFormat`.
pub(crate) fn parse(blob: &[u8]) -> Result<ParsedBlob<'_>, VaultError> {
    let bad = || VaultError::UnsupportedFormat;
    match blob.first() {
        Some(&VERSION) => {}
        _ => return Err(bad()),
    }
    match blob.get(1) {
        Some(&ALG_AES_256_GCM) => {}
        _ => return Err(bad()),
    }
    let header: [u8; HEADER_LEN] = blob
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(bad)?;
    let kek_id = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
    let wrapped_len = blob
        .get(HEADER_LEN..PREFIX_LEN)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(bad)?;
    if usize::from(wrapped_len) != WRAPPED_DEK_LEN {
        return Err(bad());
    }
    let wrapped_dek = blob.get(PREFIX_LEN..PAYLOAD_OFFSET).ok_or_else(bad)?;
    let payload = blob.get(PAYLOAD_OFFSET..).ok_or_else(bad)?;
    if payload.len() < MIN_PAYLOAD_LEN {
        return Err(bad());
    }
    Ok(ParsedBlob {
        header,
        kek_id,
        wrapped_dek,
        payload,
    })
}

/// The AAD: header bytes ‖ account id (16) ‖ integration id (16) ‖ provider name length (u16
/// big-endian) ‖ provider name. Every part has a fixed or stated length, so no two contexts
/// encode to the same bytes.
pub(crate) fn aad(header: &[u8; HEADER_LEN], context: &SealContext, purpose: AadFor) -> Vec<u8> {
    let header: &[u8] = match purpose {
        AadFor::Wrap => &header[..],
        AadFor::Payload => &header[..2],
    };
    let provider = context.provider.as_str().as_bytes();
    let provider_len = u16::try_from(provider.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(header.len() + 16 + 16 + 2 + provider.len());
    out.extend_from_slice(header);
    out.extend_from_slice(context.account_id.as_uuid().as_bytes());
    out.extend_from_slice(context.integration_id.as_uuid().as_bytes());
    out.extend_from_slice(&provider_len.to_be_bytes());
    out.extend_from_slice(provider);
    out
}
