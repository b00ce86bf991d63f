//! `CredentialVault` by envelope encryption (AES-256-GCM with `ring`).
//!
//! # Layout
//! * [`keyring`]: [`KeyRing`], the key-encryption keys (KEKs): parsing the key file or the
//!   `vault.master_key` value, generating a key file (mode 0600), fingerprints.
//! * `blob` (private): the self-describing blob and the additional authenticated data.
//! * `envelope` (private): [`EnvelopeVault`], the [`CredentialVault`] implementation, and
//!   [`EnvelopeVault::rewrap`] for key rotation.
//! * [`generate_api_key`]: a new random API key.
//!
//! # Scheme
//! Every seal draws a fresh 256-bit data key (DEK) and a random 96-bit nonce, encrypts the
//! secret fields (a JSON object) with AES-256-GCM, and wraps the DEK with the active KEK (also
//! AES-256-GCM, its own random nonce). The blob is, big-endian:
//!
//! ```text
//! version u8 (=1) | alg u8 (=1) | kek_id u32 | wrapped_dek_len u16 (=60)
//! | wrapped_dek (nonce ‖ ct ‖ tag) | payload (nonce ‖ ct ‖ tag)
//! ```
//!
//! Both encryptions authenticate the account id, the integration id and the provider name, so a
//! blob copied to another row does not open. The DEK wrap also authenticates the full header
//! (version, alg, kek_id); the payload authenticates version and alg, which lets a rewrap move
//! a blob to a new KEK without touching (or decrypting) the payload. See
//! `docs/decisions/0002-envelope-encryption.md`.
//!
//! [`CredentialVault`]: integrations_domain::CredentialVault

mod blob;
mod envelope;
pub mod keyring;

pub use envelope::EnvelopeVault;
pub use keyring::{KeyFileOrigin, KeyRing, KeyRingError, Location, FINGERPRINT_CONTEXT, KEK_LEN};

use integrations_domain::{ApiKey, VaultError};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// A new API key from 256 bits of system randomness.
pub fn generate_api_key() -> Result<ApiKey, VaultError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(&mut bytes[..])
        .map_err(|_| VaultError::Seal("the system random number generator failed".into()))?;
    Ok(ApiKey::from_random_bytes(&bytes))
}
