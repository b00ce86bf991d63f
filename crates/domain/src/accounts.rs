//! Accounts and API keys. Keys are shown once; only their SHA-256 digest is stored, and
//! digests are compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The name of an account (`api-key create --account NAME`): 1 to 100 characters of
/// letters, digits, `.`, `_`, `-`, `@`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountName(String);

impl AccountName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if v.is_empty()
            || v.chars().count() > 100
            || !v
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(
                "account name must be 1 to 100 letters, digits, '.', '_', '-' or '@'".into(),
            );
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plaintext API key: `ik_` followed by 256 random bits, base64url. Exists only to be
/// shown once and to be digested.
pub struct ApiKey(SecretString);

impl ApiKey {
    pub const PREFIX: &'static str = "ik_";

    /// Builds a key from 32 random bytes drawn by the caller (from a CSPRNG).
    pub fn from_random_bytes(bytes: &[u8; 32]) -> Self {
        Self(SecretString::from(format!(
            "{}{}",
            Self::PREFIX,
            URL_SAFE_NO_PAD.encode(bytes)
        )))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn digest(&self) -> ApiKeyDigest {
        ApiKeyDigest::of(self.0.expose_secret())
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

/// SHA-256 of an API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApiKeyDigest([u8; 32]);

impl ApiKeyDigest {
    pub fn of(presented: &str) -> Self {
        Self(Sha256::digest(presented.as_bytes()).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &ApiKeyDigest) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// Why a request is not authenticated (both answer 401, the message says which).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Missing API key: send `Authorization: Bearer <api key>`.")]
    Missing,
    #[error("Invalid API key.")]
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_digest_and_compare() {
        let a = ApiKey::from_random_bytes(&[7; 32]);
        assert!(a.expose().starts_with("ik_"));
        assert!(a.expose().len() > 40);
        assert!(a.digest().ct_eq(&ApiKeyDigest::of(a.expose())));
        assert!(!a.digest().ct_eq(&ApiKeyDigest::of("ik_other")));
        assert!(!format!("{a:?}").contains(&a.expose()[3..]));
    }

    #[test]
    fn account_names() {
        assert!(AccountName::parse("acme-corp").is_ok());
        assert!(AccountName::parse("").is_err());
        assert!(AccountName::parse("a b").is_err());
    }
}
