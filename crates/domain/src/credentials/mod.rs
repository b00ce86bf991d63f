//! Credentials: raw input, the typed credentials of each provider, and how they are split for
//! storage.
//!
//! * One module per provider (`s3`, `r2`, `zendesk`, …) holds its credentials struct, its
//!   field specs and its parser, by implementing [`ProviderCredentials`]. The provider table in
//!   [`crate::provider`] ties them into the [`Credentials`] enum.
//! * Public fields (bucket, region, accountId, subdomain, username, projectId, jurisdiction,
//!   prefix) are stored in clear so reads need no decryption.
//! * Sealed fields (the secrets `secretAccessKey`, `token`, `apiKey`, and the key id
//!   `accessKeyId`) are encrypted by the vault. The key id's masked form (`****MPLE`) is kept
//!   among the public fields as a hint for reads.

pub mod fields;
mod input;

pub mod freshdesk;
pub mod helpjuice;
pub mod helpscout;
pub mod intercom;
pub mod knowledgeowl;
pub mod r2;
pub mod s3;
pub mod zendesk;

pub use crate::provider::Credentials;
pub use fields::{
    mask_key_id, AccessKeyId, BucketName, Email, IntercomRegion, ObjectPrefix, ProjectId,
    R2AccountId, R2Jurisdiction, S3Region, Subdomain, SECRET_MASK,
};
pub use input::{CredentialsInput, InputValue};

use crate::provider::Provider;
use crate::validation::ValidationErrors;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;

/// How a field is kept and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Stored in clear, returned as stored.
    Public,
    /// Stored sealed; returned as `****` + last four characters.
    KeyId,
    /// Stored sealed; never returned (a fixed mask).
    Secret,
}

impl FieldKind {
    pub fn is_sealed(self) -> bool {
        !matches!(self, FieldKind::Public)
    }
}

/// One credential field of a provider (API.md section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// One line for documentation (OpenAPI, error messages).
    pub about: &'static str,
}

impl FieldSpec {
    pub const fn public(name: &'static str, required: bool, about: &'static str) -> Self {
        Self {
            name,
            kind: FieldKind::Public,
            required,
            about,
        }
    }

    pub const fn key_id(name: &'static str, about: &'static str) -> Self {
        Self {
            name,
            kind: FieldKind::KeyId,
            required: true,
            about,
        }
    }

    pub const fn secret(name: &'static str, about: &'static str) -> Self {
        Self {
            name,
            kind: FieldKind::Secret,
            required: true,
            about,
        }
    }
}

/// What each provider's credentials module implements. The provider table in
/// [`crate::provider`] dispatches to it.
pub trait ProviderCredentials: Sized + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The fields in the order they are shown; sealed fields are those of kind `KeyId` or
    /// `Secret`.
    const FIELDS: &'static [FieldSpec];

    /// Valid example values of the fields (documentation examples and tests; secrets are
    /// obviously fake).
    const SAMPLE: &'static [(&'static str, &'static str)];

    /// Reads every field through `reader` (which records each problem with its path) and
    /// builds the credentials when all are valid. Returning `None` without a recorded problem
    /// is a bug, caught by [`Credentials::parse`].
    fn read(reader: &mut CredentialReader<'_>) -> Option<Self>;

    /// Adds the fields stored in clear (key ids masked).
    fn public_fields(&self, out: &mut PublicFields);

    /// Adds the fields the vault seals.
    fn secret_fields(&self, out: &mut SecretFields);
}

/// Longest secret accepted (tokens, keys), in bytes.
pub const MAX_SECRET: usize = 4096;

/// Fields stored in clear, by JSON name. Key ids appear here only in masked form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicFields(BTreeMap<String, String>);

impl PublicFields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl FromIterator<(String, String)> for PublicFields {
    fn from_iter<T: IntoIterator<Item = (String, String)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Sealed fields (secrets and key ids), by JSON name. Zeroized when dropped; `Debug` shows
/// names only.
#[derive(Clone, Default)]
pub struct SecretFields(BTreeMap<String, SecretString>);

impl SecretFields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: SecretString) {
        self.0.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Same names and same values (an update that changes no secret).
    pub fn same_as(&self, other: &SecretFields) -> bool {
        self.len() == other.len()
            && self.iter().all(|(name, value)| {
                other
                    .get(name)
                    .is_some_and(|o| o.expose_secret() == value.expose_secret())
            })
    }
}

impl std::fmt::Debug for SecretFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl FromIterator<(String, SecretString)> for SecretFields {
    fn from_iter<T: IntoIterator<Item = (String, SecretString)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Where omitted sealed fields come from while parsing.
#[derive(Clone, Copy)]
pub enum SealedDefaults<'a> {
    /// Nowhere: a missing required field is an error (create, plain verify).
    None,
    /// The stored values (an update that keeps the provider): an omitted sealed field keeps
    /// its stored value.
    Stored(&'a SecretFields),
    /// Not known yet: omitted sealed fields are not reported (an update checked before the
    /// stored integration is read; the result is only used for its errors).
    Deferred,
}

/// Reads the fields of one `credentials` input for a provider, collecting every problem with
/// its JSON path (`credentials.bucket`). Provider modules use it in
/// [`ProviderCredentials::read`].
pub struct CredentialReader<'a> {
    provider: Provider,
    input: &'a CredentialsInput,
    defaults: SealedDefaults<'a>,
    errors: ValidationErrors,
}

fn path(name: &str) -> String {
    format!("credentials.{name}")
}

impl<'a> CredentialReader<'a> {
    fn spec(&self, name: &str) -> Option<&'static FieldSpec> {
        self.provider.fields().iter().find(|s| s.name == name)
    }

    /// The text of a field; `Ok(None)` when absent or `null` (after the sealed default);
    /// `Err(())` when a problem was recorded.
    fn raw(&mut self, name: &'static str) -> Result<Option<SecretString>, ()> {
        let Some(spec) = self.spec(name) else {
            // A provider module reading a field it did not declare: a bug, reported loudly.
            self.errors
                .add(path(name), "is not a declared field of this provider");
            return Err(());
        };
        match self.input.get(name) {
            Some(InputValue::Text(s)) => {
                if spec.kind.is_sealed() && fields::looks_masked(s.expose_secret()) {
                    self.errors.add(
                        path(name),
                        "is the masked value shown on read; send the real value, or leave the field out to keep the stored one",
                    );
                    return Err(());
                }
                Ok(Some(s.clone()))
            }
            None | Some(InputValue::Null) => match self.defaults {
                SealedDefaults::Stored(stored) if spec.kind.is_sealed() => {
                    Ok(stored.get(name).cloned())
                }
                _ => Ok(None),
            },
            Some(other) => {
                self.errors.add(
                    path(name),
                    format!("must be a string, not {}", other.kind()),
                );
                Err(())
            }
        }
    }

    fn missing(&mut self, name: &'static str) {
        let deferred = matches!(self.defaults, SealedDefaults::Deferred)
            && self.spec(name).is_some_and(|s| s.kind.is_sealed());
        if !deferred {
            self.errors.add(path(name), "is required");
        }
    }

    fn check<T>(
        &mut self,
        name: &'static str,
        raw: SecretString,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match check(raw.expose_secret()) {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.add(path(name), message);
                None
            }
        }
    }

    /// A required field validated by `check` (which sees the text; its message must not
    /// repeat the value when the field may hold a secret).
    pub fn field<T>(
        &mut self,
        name: &'static str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.raw(name) {
            Ok(Some(raw)) => self.check(name, raw, check),
            Ok(None) => {
                self.missing(name);
                None
            }
            Err(()) => None,
        }
    }

    /// An optional field: `Some(None)` when absent or `null`, `None` when invalid.
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.raw(name) {
            Ok(Some(raw)) => self.check(name, raw, check).map(Some),
            Ok(None) => Some(None),
            Err(()) => None,
        }
    }

    /// A required secret (token, API key): trimmed, no inner whitespace or control
    /// characters, at most [`MAX_SECRET`] bytes.
    pub fn secret(&mut self, name: &'static str) -> Option<SecretString> {
        self.secret_with(name, |s| fields::secret(s, MAX_SECRET))
    }

    /// A required secret with its own rule.
    pub fn secret_with(
        &mut self,
        name: &'static str,
        check: impl FnOnce(&SecretString) -> Result<SecretString, String>,
    ) -> Option<SecretString> {
        match self.raw(name) {
            Ok(Some(raw)) => match check(&raw) {
                Ok(v) => Some(v),
                Err(message) => {
                    self.errors.add(path(name), message);
                    None
                }
            },
            Ok(None) => {
                self.missing(name);
                None
            }
            Err(()) => None,
        }
    }
}

impl Credentials {
    /// Validates the `credentials` object of a request for `provider`.
    ///
    /// Unknown fields, missing required fields, values that are not strings, values in a bad
    /// format and masked values sent back are all refused, each with its field path. Omitted
    /// sealed fields are taken from `defaults` (see [`SealedDefaults`]).
    pub fn parse(
        provider: Provider,
        input: &CredentialsInput,
        defaults: SealedDefaults<'_>,
    ) -> Result<Credentials, ValidationErrors> {
        let specs = provider.fields();
        let mut reader = CredentialReader {
            provider,
            input,
            defaults,
            errors: ValidationErrors::new(),
        };
        for name in input.names() {
            if !specs.iter().any(|s| s.name == name) {
                let allowed: Vec<&str> = specs.iter().map(|s| s.name).collect();
                reader.errors.add(
                    path(name),
                    format!(
                        "is not a field of provider {provider}; expected: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        let built = Credentials::read(provider, &mut reader);
        match built {
            Some(c) if reader.errors.is_empty() => Ok(c),
            Some(_) => Err(reader.errors),
            None if reader.errors.is_empty() && !matches!(defaults, SealedDefaults::Deferred) => {
                Err(ValidationErrors::single(
                    "credentials",
                    "could not be read (no field named the problem)",
                ))
            }
            None => Err(reader.errors),
        }
    }

    /// Every problem of `input` that does not depend on stored values (an update checked
    /// before the stored integration is read). Omitted sealed fields are not reported.
    pub fn problems(provider: Provider, input: &CredentialsInput) -> ValidationErrors {
        match Credentials::parse(provider, input, SealedDefaults::Deferred) {
            Ok(_) => ValidationErrors::new(),
            Err(e) => e,
        }
    }

    pub fn platform(&self) -> crate::provider::Platform {
        self.provider().platform()
    }

    /// The stored form turned back into an input (public fields without key-id hints, plus
    /// the opened sealed fields), e.g. to lay a client's overrides over it.
    pub fn stored_input(
        provider: Provider,
        public: &PublicFields,
        sealed: &SecretFields,
    ) -> CredentialsInput {
        let mut input = CredentialsInput::new();
        for spec in provider.fields() {
            let value = if spec.kind.is_sealed() {
                sealed.get(spec.name).cloned().map(InputValue::Text)
            } else {
                public.get(spec.name).map(InputValue::text)
            };
            if let Some(v) = value {
                input.insert(spec.name, v);
            }
        }
        input
    }

    /// Rebuilds credentials from their stored form.
    pub fn from_stored(
        provider: Provider,
        public: &PublicFields,
        sealed: &SecretFields,
    ) -> Result<Credentials, ValidationErrors> {
        Credentials::parse(
            provider,
            &Credentials::stored_input(provider, public, sealed),
            SealedDefaults::None,
        )
    }

    /// The credentials as read back: public fields as stored, key ids as `****` + last four,
    /// secrets as a fixed mask. In the provider's field order.
    pub fn masked_view(provider: Provider, public: &PublicFields) -> Vec<(&'static str, String)> {
        provider
            .fields()
            .iter()
            .filter_map(|spec| match spec.kind {
                FieldKind::Secret => Some((spec.name, SECRET_MASK.to_owned())),
                FieldKind::Public | FieldKind::KeyId => {
                    public.get(spec.name).map(|v| (spec.name, v.to_owned()))
                }
            })
            .collect()
    }

    /// The credentials in clear, in the provider's field order (reveal): public fields as
    /// stored, sealed fields opened. Only for callers holding the `reveal` scope.
    pub fn revealed(&self) -> Vec<(&'static str, SecretString)> {
        let public = self.public_fields();
        let sealed = self.secret_fields();
        self.provider()
            .fields()
            .iter()
            .filter_map(|spec| {
                if spec.kind.is_sealed() {
                    sealed.get(spec.name).cloned().map(|v| (spec.name, v))
                } else {
                    public
                        .get(spec.name)
                        .map(|v| (spec.name, SecretString::from(v)))
                }
            })
            .collect()
    }
}

/// Sample credentials of a provider, valid by its rules (its module's `SAMPLE`).
pub fn sample_input(provider: Provider) -> CredentialsInput {
    provider
        .sample()
        .iter()
        .fold(CredentialsInput::new(), |input, (k, v)| input.with(k, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(err: &ValidationErrors) -> Vec<&str> {
        err.errors().iter().map(|e| e.field.as_str()).collect()
    }

    fn parse(
        provider: Provider,
        input: &CredentialsInput,
    ) -> Result<Credentials, ValidationErrors> {
        Credentials::parse(provider, input, SealedDefaults::None)
    }

    #[test]
    fn s3_defaults_region_to_auto_and_splits_fields() {
        let c = parse(Provider::S3, &sample_input(Provider::S3)).unwrap();
        let public = c.public_fields();
        assert_eq!(public.get("region"), Some("auto"));
        assert_eq!(public.get("accessKeyId"), Some("****MPLE"));
        assert_eq!(public.get("secretAccessKey"), None);
        let sealed = c.secret_fields();
        assert_eq!(
            sealed
                .get("accessKeyId")
                .map(|s| s.expose_secret().to_owned()),
            Some("AKIAIOSFODNN7EXAMPLE".to_owned())
        );
        let back = Credentials::from_stored(Provider::S3, &public, &sealed).unwrap();
        assert_eq!(back.public_fields(), public);
        let view = Credentials::masked_view(Provider::S3, &public);
        assert_eq!(
            view,
            vec![
                ("bucket", "examplebucket".to_owned()),
                ("accessKeyId", "****MPLE".to_owned()),
                ("secretAccessKey", SECRET_MASK.to_owned()),
                ("region", "auto".to_owned()),
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut input = CredentialsInput::new()
            .with("bucket", "Bad_Bucket")
            .with("accessKeyId", "0123456789abcdef0123456789abcdef")
            .with("accountId", "zzz")
            .with("extra", "x");
        input.insert("secretAccessKey", InputValue::Number);
        let err = parse(Provider::R2, &input).unwrap_err();
        let mut fields = fields_of(&err);
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "credentials.accountId",
                "credentials.bucket",
                "credentials.extra",
                "credentials.secretAccessKey"
            ]
        );
    }

    #[test]
    fn masked_values_are_refused_and_stored_values_fill_omitted_secrets() {
        let input = sample_input(Provider::S3).with("secretAccessKey", SECRET_MASK);
        let err = parse(Provider::S3, &input).unwrap_err();
        assert_eq!(fields_of(&err), vec!["credentials.secretAccessKey"]);
        let input = sample_input(Provider::S3).with("accessKeyId", "****MPLE");
        let err = parse(Provider::S3, &input).unwrap_err();
        assert_eq!(fields_of(&err), vec!["credentials.accessKeyId"]);

        let stored = parse(Provider::S3, &sample_input(Provider::S3))
            .unwrap()
            .secret_fields();
        let mut partial = sample_input(Provider::S3).with("bucket", "other-bucket");
        partial.remove("secretAccessKey");
        partial.remove("accessKeyId");
        let c =
            Credentials::parse(Provider::S3, &partial, SealedDefaults::Stored(&stored)).unwrap();
        let Credentials::S3(c) = c else {
            panic!("an S3 input parses to S3 credentials")
        };
        assert_eq!(c.bucket.as_str(), "other-bucket");
        assert_eq!(
            c.secret_access_key.expose_secret(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        // Without stored values the same input misses both sealed fields...
        let err = parse(Provider::S3, &partial).unwrap_err();
        assert_eq!(err.errors().len(), 2);
        // ...and a deferred check reports nothing about them.
        assert!(Credentials::problems(Provider::S3, &partial).is_empty());
        let bad = partial.with("bucket", "B");
        assert_eq!(
            fields_of(&Credentials::problems(Provider::S3, &bad)),
            vec!["credentials.bucket"]
        );
    }

    #[test]
    fn helpcenter_subdomains_are_normalised() {
        let input = CredentialsInput::new()
            .with("username", "hello@example.org")
            .with("token", "xxx")
            .with("subdomain", "https://example.zendesk.com");
        let c = parse(Provider::Zendesk, &input).unwrap();
        assert_eq!(c.public_fields().get("subdomain"), Some("example"));
        let bad = input.with("subdomain", "https://evil.com");
        let err = parse(Provider::Zendesk, &bad).unwrap_err();
        assert_eq!(fields_of(&err), vec!["credentials.subdomain"]);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = parse(Provider::S3, &sample_input(Provider::S3)).unwrap();
        let shown = format!(
            "{c:?} {:?} {:?}",
            c.secret_fields(),
            sample_input(Provider::S3)
        );
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "{shown}");
    }

    /// The field specs and the parsers agree, for every provider: the sample parses and
    /// round-trips through its stored form; leaving out a required field is an error naming
    /// it; leaving out an optional one is not; sealed fields are exactly what the vault seals.
    #[test]
    fn every_provider_parser_agrees_with_its_field_specs() {
        for &provider in Provider::ALL {
            let sample = sample_input(provider);
            let c = parse(provider, &sample).unwrap_or_else(|e| panic!("{provider}: {e}"));
            assert_eq!(c.provider(), provider);
            let back = Credentials::from_stored(provider, &c.public_fields(), &c.secret_fields())
                .unwrap_or_else(|e| panic!("{provider}: {e}"));
            assert_eq!(back.public_fields(), c.public_fields(), "{provider}");
            assert!(
                back.secret_fields().same_as(&c.secret_fields()),
                "{provider}"
            );
            let sealed: Vec<&str> = provider
                .fields()
                .iter()
                .filter(|s| s.kind.is_sealed())
                .map(|s| s.name)
                .collect();
            let secret_fields = c.secret_fields();
            let sealed_by_vault: Vec<&str> = secret_fields.iter().map(|(k, _)| k).collect();
            let mut sorted = sealed.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, sealed_by_vault, "{provider}");
            assert!(
                provider
                    .fields()
                    .iter()
                    .any(|s| s.kind == FieldKind::Secret),
                "{provider} has a secret"
            );
            for spec in provider.fields() {
                let mut without = sample.clone();
                if without.remove(spec.name).is_none() {
                    continue;
                }
                let result = parse(provider, &without);
                if spec.required {
                    let err = result.expect_err(spec.name);
                    assert_eq!(
                        fields_of(&err),
                        vec![format!("credentials.{}", spec.name).as_str()],
                        "{provider}"
                    );
                } else {
                    assert!(result.is_ok(), "{provider}.{} is optional", spec.name);
                }
            }
        }
    }

    #[test]
    fn revealed_lists_every_stored_field_in_clear() {
        let c = parse(Provider::Zendesk, &sample_input(Provider::Zendesk)).unwrap();
        let shown: Vec<(&str, String)> = c
            .revealed()
            .into_iter()
            .map(|(k, v)| (k, v.expose_secret().to_owned()))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("username", "agent@example.org".to_owned()),
                ("token", "tok-zendesk".to_owned()),
                ("subdomain", "acme".to_owned()),
            ]
        );
    }
}
