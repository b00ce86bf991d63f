//! Accounts, API keys and scopes (API.md section 7).
//!
//! A key is `ik_` followed by 43 base64url characters (256 random bits). Only its SHA-256
//! digest is stored, next to its public id (`keyId`, the first 8 characters after `ik_`). A
//! presented key is looked up by its id and its digest compared in constant time, so the
//! database never compares secrets and a timing difference says nothing about the key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::ids::AccountId;

/// The name of an account (`api-key create --account NAME`): 1 to 100 characters of
/// letters, digits, `.`, `_`, `-`, `@`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Create, read, list, update, delete, verify, events.
    Manage,
    /// Export and import (act on a provider with the stored credentials).
    Use,
    /// Read the stored credentials in clear.
    Reveal,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Manage, Scope::Use, Scope::Reveal];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Manage => "manage",
            Scope::Use => "use",
            Scope::Reveal => "reveal",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Manage => 1,
            Scope::Use => 2,
            Scope::Reveal => 4,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| format!("unknown scope {s:?}: expected manage, use or reveal"))
    }
}

/// A set of scopes. Shown and stored comma-separated in a fixed order (`manage,use`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// What a key gets unless told otherwise: `manage` and `use`.
    pub const DEFAULT: Scopes = Scopes(1 | 2);
    pub const ALL: Scopes = Scopes(1 | 2 | 4);

    pub fn of(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().fold(0, |acc, s| acc | s.bit()))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// `manage,use,reveal` (comma-separated, fixed order); refuses unknown names and an empty
    /// set.
    pub fn parse(list: &str) -> Result<Self, String> {
        let scopes = list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Scope>, String>>()?;
        let set = Self::of(scopes);
        if set.is_empty() {
            return Err("a key needs at least one scope".into());
        }
        Ok(set)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

/// The public id of a key: the first 8 characters after `ik_`. Shown by `api-key list`, in
/// events and in logs; knowing it does not help guess the key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub const LEN: usize = 8;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        // `ik_` is accepted in front of an id only when the rest is a whole id: an id is
        // random base64url and may itself begin with `ik_` (one key in 262,144), and such a
        // key must still parse, authenticate and be listed.
        let v = match v.strip_prefix(ApiKey::PREFIX) {
            Some(rest) if rest.len() == Self::LEN => rest,
            _ => v,
        };
        if v.len() != Self::LEN
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("a key id is 8 base64url characters (see `api-key list`)".into());
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plaintext API key. Exists only to be shown once and to be digested.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    pub const PREFIX: &'static str = "ik_";
    /// `ik_` + 43 base64url characters.
    pub const LEN: usize = 3 + 43;

    /// Builds a key from 32 random bytes drawn by the caller (from a CSPRNG).
    pub fn from_random_bytes(bytes: &[u8; 32]) -> Self {
        let mut text = String::with_capacity(Self::LEN);
        text.push_str(Self::PREFIX);
        URL_SAFE_NO_PAD.encode_string(bytes, &mut text);
        Self(SecretString::from(text))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn key_id(&self) -> KeyId {
        KeyId(self.expose()[Self::PREFIX.len()..Self::PREFIX.len() + KeyId::LEN].to_owned())
    }

    pub fn digest(&self) -> ApiKeyDigest {
        ApiKeyDigest::of(self.expose())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}…[REDACTED])", self.key_id())
    }
}

/// The key id of a presented bearer token, when it has the shape of one of our keys. Cheap
/// and allocation-free: the request path calls it first.
pub fn presented_key_id(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(ApiKey::PREFIX)?;
    if presented.len() != ApiKey::LEN
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    rest.get(..KeyId::LEN)
}

/// SHA-256 of an API key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
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

impl fmt::Debug for ApiKeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyDigest(..)")
    }
}

/// A key as stored: never the key itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub key_id: KeyId,
    pub account_id: AccountId,
    pub account_name: AccountName,
    pub digest: ApiKeyDigest,
    pub scopes: Scopes,
    /// Free text from `--label`, at most 200 characters.
    pub label: Option<String>,
    pub created_at: OffsetDateTime,
    /// Updated at most once a minute per key (it may lag).
    pub last_used_at: Option<OffsetDateTime>,
    /// Set by `api-key revoke`; a revoked key answers 401.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A label of a key: trimmed, 1 to 200 characters, no control characters.
pub fn parse_key_label(raw: &str) -> Result<String, String> {
    let v = raw.trim();
    if v.is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control) {
        return Err("a key label is 1 to 200 characters without control characters".into());
    }
    Ok(v.to_owned())
}

/// Who is calling: the account and key of an authenticated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub account: AccountId,
    pub key_id: KeyId,
    pub scopes: Scopes,
}

impl Principal {
    /// `Err` naming the missing scope (403).
    pub fn require(&self, scope: Scope) -> Result<(), Forbidden> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(Forbidden(scope))
        }
    }
}

/// A key without the scope an endpoint needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("This API key does not have the '{0}' scope.")]
pub struct Forbidden(pub Scope);

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
        assert_eq!(a.expose().len(), ApiKey::LEN);
        assert!(a.digest().ct_eq(&ApiKeyDigest::of(a.expose())));
        assert!(!a.digest().ct_eq(&ApiKeyDigest::of("ik_other")));
        assert!(!format!("{a:?}").contains(&a.expose()[12..]));
        assert_eq!(a.key_id().as_str(), &a.expose()[3..11]);
        assert_eq!(presented_key_id(a.expose()), Some(a.key_id().as_str()));
        assert_eq!(presented_key_id("ik_short"), None);
        assert_eq!(presented_key_id(&a.expose().replace("ik_", "xx_")), None);
        assert_eq!(KeyId::parse(a.key_id().as_str()), Ok(a.key_id()));
        assert!(KeyId::parse("abc").is_err());
        assert_eq!(KeyId::parse("ik_abcdefgh").unwrap().as_str(), "abcdefgh");
    }

    /// A key whose random id begins with `ik_` (it happened in CI: `ik_ik_a9q8k…`).
    #[test]
    fn an_id_that_begins_with_the_key_prefix_is_still_an_id() {
        let mut bytes = [7u8; 32];
        // base64url of 0x8a 0x4f 0xfe is "ik_-": the id begins with `ik_`.
        bytes[..3].copy_from_slice(&[0x8a, 0x4f, 0xfe]);
        let key = ApiKey::from_random_bytes(&bytes);
        assert!(key.expose().starts_with("ik_ik_"), "{}", key.expose());
        let id = key.key_id();
        assert!(id.as_str().starts_with("ik_"));
        assert_eq!(KeyId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(presented_key_id(key.expose()), Some(id.as_str()));
        assert_eq!(KeyId::parse(&format!("ik_{id}")), Ok(id));
    }

    #[test]
    fn scopes() {
        assert_eq!(Scopes::DEFAULT.to_string(), "manage,use");
        assert_eq!(
            Scopes::parse("reveal,manage").unwrap().to_string(),
            "manage,reveal"
        );
        assert!(Scopes::parse("").is_err());
        assert!(Scopes::parse("admin").is_err());
        let p = Principal {
            account: AccountId::new(),
            key_id: KeyId::parse("abcdefgh").unwrap(),
            scopes: Scopes::DEFAULT,
        };
        assert!(p.require(Scope::Use).is_ok());
        assert_eq!(
            p.require(Scope::Reveal).unwrap_err().to_string(),
            "This API key does not have the 'reveal' scope."
        );
    }

    #[test]
    fn account_names() {
        assert!(AccountName::parse("acme-corp").is_ok());
        assert!(AccountName::parse("").is_err());
        assert!(AccountName::parse("a b").is_err());
    }
}
