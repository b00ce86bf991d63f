//! `CredentialVault` by envelope encryption (AES-256-GCM with `ring`).
//!
//! # Layout
//! * [`keyring`]: [`KeyRing`], the key-encryption keys (KEKs): parsing the key file or the
//!   `vault.master_key` value, generating a key file (mode 0600), fingerprints.
//! * `blob` (private): the self-describing blob and the additional authenticated data.
//! * `envelope` (private): [`EnvelopeVault`], the [`CredentialVault`] implementation, and
//!   [`EnvelopeVault::rewrap`] for key rotation.
//! * `token` (private): small sealed tokens (import cursors) under a key derived by HKDF
//!   from each KEK.
//! * [`SystemEntropy`]: the `Entropy` port on the operating system's CSPRNG (API keys).
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
mod token;

pub use envelope::EnvelopeVault;
pub use keyring::{KeyFileOrigin, KeyRing, KeyRingError, Location, FINGERPRINT_CONTEXT, KEK_LEN};

use integrations_domain::{Entropy, EntropyError};
use ring::rand::{SecureRandom, SystemRandom};

/// The operating system's CSPRNG (through `ring`), for API keys.
#[derive(Clone, Debug)]
pub struct SystemEntropy {
    rng: SystemRandom,
}

impl SystemEntropy {
    pub fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
        }
    }
}

impl Default for SystemEntropy {
    fn default() -> Self {
        Self::new()
    }
}

impl Entropy for SystemEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        self.rng.fill(dest).map_err(|_| EntropyError)
    }
}
