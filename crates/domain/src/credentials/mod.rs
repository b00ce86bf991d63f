//! Credentials: raw input, the typed credentials of each provider, and how they are split for
//! storage.
//!
//! * Public fields (bucket, region, accountId, subdomain, username, projectId, jurisdiction)
//!   are stored in clear so reads need no decryption.
//! * Sealed fields (the secrets `secretAccessKey`, `token`, `apiKey`, and the key id
//!   `accessKeyId`) are encrypted by the vault. The key id's masked form (`****MPLE`) is kept
//!   among the public fields as a hint for reads.

pub mod fields;
mod input;

pub use fields::{
    mask_key_id, AccessKeyId, BucketName, Email, IntercomRegion, ProjectId, R2AccountId,
    R2Jurisdiction, S3Region, Subdomain, SECRET_MASK,
};
pub use input::{CredentialsInput, InputValue};

use crate::provider::{Platform, Provider};
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
}

const fn public(name: &'static str, required: bool) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::Public,
        required,
    }
}
const fn key_id(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::KeyId,
        required: true,
    }
}
const fn secret(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::Secret,
        required: true,
    }
}

/// The credential fields of a provider, in the order they are shown.
pub fn field_specs(provider: Provider) -> &'static [FieldSpec] {
    const S3: &[FieldSpec] = &[
        public("bucket", true),
        key_id("accessKeyId"),
        secret("secretAccessKey"),
        public("region", false),
        public("accountId", false),
    ];
    const R2: &[FieldSpec] = &[
        public("bucket", true),
        key_id("accessKeyId"),
        secret("secretAccessKey"),
        public("accountId", true),
        public("region", false),
        public("jurisdiction", false),
    ];
    const ZENDESK: &[FieldSpec] = &[
        public("username", true),
        secret("token"),
        public("subdomain", true),
    ];
    const INTERCOM: &[FieldSpec] = &[secret("token"), public("region", false)];
    const HELPSCOUT: &[FieldSpec] = &[secret("apiKey")];
    const HELPJUICE: &[FieldSpec] = &[public("subdomain", true), secret("apiKey")];
    const FRESHDESK: &[FieldSpec] = &[public("subdomain", true), secret("apiKey")];
    const KNOWLEDGEOWL: &[FieldSpec] = &[secret("apiKey"), public("projectId", true)];
    match provider {
        Provider::S3 => S3,
        Provider::R2 => R2,
        Provider::Zendesk => ZENDESK,
        Provider::Intercom => INTERCOM,
        Provider::Helpscout => HELPSCOUT,
        Provider::Helpjuice => HELPJUICE,
        Provider::Freshdesk => FRESHDESK,
        Provider::Knowledgeowl => KNOWLEDGEOWL,
    }
}

/// Longest secret accepted (tokens, keys), in bytes.
const MAX_SECRET: usize = 4096;

#[derive(Debug)]
pub struct S3Credentials {
    pub bucket: BucketName,
    pub access_key_id: AccessKeyId,
    pub secret_access_key: SecretString,
    pub region: S3Region,
    /// Accepted for compatibility with the original API; unused.
    pub account_id: Option<String>,
}

#[derive(Debug)]
pub struct R2Credentials {
    pub bucket: BucketName,
    pub access_key_id: AccessKeyId,
    pub secret_access_key: SecretString,
    pub account_id: R2AccountId,
    pub jurisdiction: Option<R2Jurisdiction>,
}

#[derive(Debug)]
pub struct ZendeskCredentials {
    pub username: Email,
    pub token: SecretString,
    pub subdomain: Subdomain,
}

#[derive(Debug)]
pub struct IntercomCredentials {
    pub token: SecretString,
    pub region: IntercomRegion,
}

#[derive(Debug)]
pub struct HelpscoutCredentials {
    pub api_key: SecretString,
}

#[derive(Debug)]
pub struct HelpjuiceCredentials {
    pub subdomain: Subdomain,
    pub api_key: SecretString,
}

#[derive(Debug)]
pub struct FreshdeskCredentials {
    pub subdomain: Subdomain,
    pub api_key: SecretString,
}

#[derive(Debug)]
pub struct KnowledgeowlCredentials {
    pub api_key: SecretString,
    pub project_id: ProjectId,
}

/// Validated credentials of one provider. `Debug` never shows a secret.
#[derive(Debug)]
pub enum Credentials {
    S3(S3Credentials),
    R2(R2Credentials),
    Zendesk(ZendeskCredentials),
    Intercom(IntercomCredentials),
    Helpscout(HelpscoutCredentials),
    Helpjuice(HelpjuiceCredentials),
    Freshdesk(FreshdeskCredentials),
    Knowledgeowl(KnowledgeowlCredentials),
}

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
#[derive(Default)]
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
}

impl Clone for SecretFields {
    fn clone(&self) -> Self {
        Self(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), SecretString::from(v.expose_secret())))
                .collect(),
        )
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

/// Reads fields of one input, collecting every problem.
struct Reader<'a> {
    provider: Provider,
    input: &'a CredentialsInput,
    /// Sealed values to use where the input leaves a sealed field out (update rule).
    fallback: Option<&'a SecretFields>,
    errors: ValidationErrors,
}

fn path(name: &str) -> String {
    format!("credentials.{name}")
}

impl<'a> Reader<'a> {
    fn spec(&self, name: &str) -> Option<&'static FieldSpec> {
        field_specs(self.provider).iter().find(|s| s.name == name)
    }

    /// The raw text of a field, or `None` (with an error recorded when it was required).
    fn raw(&mut self, name: &'static str) -> Option<SecretString> {
        let Some(spec) = self.spec(name) else {
            self.errors
                .add(path(name), "is not a field of this provider");
            return None;
        };
        match self.input.get(name) {
            Some(InputValue::Text(s)) => {
                let value = s.expose_secret();
                if spec.kind.is_sealed() && fields::looks_masked(value) {
                    self.errors.add(
                        path(name),
                        "is the masked value shown on read; send the real value, or leave the field out to keep the stored one",
                    );
                    return None;
                }
                Some(SecretString::from(value))
            }
            None | Some(InputValue::Null) => {
                if let Some(stored) = self
                    .fallback
                    .filter(|_| spec.kind.is_sealed())
                    .and_then(|f| f.get(name))
                {
                    return Some(SecretString::from(stored.expose_secret()));
                }
                if spec.required {
                    self.errors.add(path(name), "is required");
                }
                None
            }
            Some(other) => {
                self.errors.add(
                    path(name),
                    format!("must be a string, not {}", other.kind()),
                );
                None
            }
        }
    }

    /// A field validated by `check` (which sees the exposed text).
    fn field<T>(
        &mut self,
        name: &'static str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.raw(name)?;
        match check(raw.expose_secret()) {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.add(path(name), message);
                None
            }
        }
    }

    fn secret(
        &mut self,
        name: &'static str,
        check: impl FnOnce(&SecretString) -> Result<SecretString, String>,
    ) -> Option<SecretString> {
        let raw = self.raw(name)?;
        match check(&raw) {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.add(path(name), message);
                None
            }
        }
    }

    fn plain_secret(&mut self, name: &'static str) -> Option<SecretString> {
        self.secret(name, |s| fields::secret(s, MAX_SECRET))
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, ValidationErrors> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
    }
}

impl Credentials {
    /// Validates the `credentials` object of a request for `provider`.
    ///
    /// Unknown fields, missing required fields, values that are not strings, values in a bad
    /// format and masked values sent back are all refused, each with its field path. Where a
    /// sealed field is left out and `fallback` holds it (an update that keeps the stored
    /// secret), the stored value is used.
    pub fn parse(
        provider: Provider,
        input: &CredentialsInput,
        fallback: Option<&SecretFields>,
    ) -> Result<Credentials, ValidationErrors> {
        let specs = field_specs(provider);
        let mut r = Reader {
            provider,
            input,
            fallback,
            errors: ValidationErrors::new(),
        };
        for name in input.names() {
            if !specs.iter().any(|s| s.name == name) {
                let allowed: Vec<&str> = specs.iter().map(|s| s.name).collect();
                r.errors.add(
                    path(name),
                    format!(
                        "is not a field of provider {provider}; expected: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        match provider {
            Provider::S3 => {
                let bucket = r.field("bucket", BucketName::s3);
                let access_key_id = r.field("accessKeyId", AccessKeyId::s3);
                let secret_access_key = r.plain_secret("secretAccessKey");
                let region = match input.get("region") {
                    None | Some(InputValue::Null) => Some(S3Region::Auto),
                    _ => r.field("region", S3Region::parse),
                };
                let account_id = match input.get("accountId") {
                    None | Some(InputValue::Null) => Some(None),
                    _ => r.field("accountId", |v| fields::plain_text(v, 255).map(Some)),
                };
                let built = (|| {
                    Some(Credentials::S3(S3Credentials {
                        bucket: bucket?,
                        access_key_id: access_key_id?,
                        secret_access_key: secret_access_key?,
                        region: region?,
                        account_id: account_id?,
                    }))
                })();
                r.finish(built)
            }
            Provider::R2 => {
                let bucket = r.field("bucket", BucketName::r2);
                let access_key_id = r.field("accessKeyId", AccessKeyId::r2);
                let secret_access_key = r.secret("secretAccessKey", fields::r2_secret);
                let account_id = r.field("accountId", R2AccountId::parse);
                let region_ok = match input.get("region") {
                    None | Some(InputValue::Null) => Some(()),
                    _ => r.field("region", |v| {
                        if v.trim().eq_ignore_ascii_case("auto") {
                            Ok(())
                        } else {
                            Err("must be \"auto\" for R2 (R2 has no other region; use jurisdiction for eu or fedramp)".to_owned())
                        }
                    }),
                };
                let jurisdiction = match input.get("jurisdiction") {
                    None | Some(InputValue::Null) => Some(None),
                    _ => r.field("jurisdiction", |v| R2Jurisdiction::parse(v).map(Some)),
                };
                let built = (|| {
                    region_ok?;
                    Some(Credentials::R2(R2Credentials {
                        bucket: bucket?,
                        access_key_id: access_key_id?,
                        secret_access_key: secret_access_key?,
                        account_id: account_id?,
                        jurisdiction: jurisdiction?,
                    }))
                })();
                r.finish(built)
            }
            Provider::Zendesk => {
                let username = r.field("username", Email::parse);
                let token = r.plain_secret("token");
                let subdomain = r.field("subdomain", |v| Subdomain::parse(v, "zendesk.com"));
                let built = (|| {
                    Some(Credentials::Zendesk(ZendeskCredentials {
                        username: username?,
                        token: token?,
                        subdomain: subdomain?,
                    }))
                })();
                r.finish(built)
            }
            Provider::Intercom => {
                let token = r.plain_secret("token");
                let region = match input.get("region") {
                    None | Some(InputValue::Null) => Some(IntercomRegion::Us),
                    _ => r.field("region", IntercomRegion::parse),
                };
                let built = (|| {
                    Some(Credentials::Intercom(IntercomCredentials {
                        token: token?,
                        region: region?,
                    }))
                })();
                r.finish(built)
            }
            Provider::Helpscout => {
                let api_key = r.plain_secret("apiKey");
                let built =
                    api_key.map(|api_key| Credentials::Helpscout(HelpscoutCredentials { api_key }));
                r.finish(built)
            }
            Provider::Helpjuice => {
                let subdomain = r.field("subdomain", |v| Subdomain::parse(v, "helpjuice.com"));
                let api_key = r.plain_secret("apiKey");
                let built = (|| {
                    Some(Credentials::Helpjuice(HelpjuiceCredentials {
                        subdomain: subdomain?,
                        api_key: api_key?,
                    }))
                })();
                r.finish(built)
            }
            Provider::Freshdesk => {
                let subdomain = r.field("subdomain", |v| Subdomain::parse(v, "freshdesk.com"));
                let api_key = r.plain_secret("apiKey");
                let built = (|| {
                    Some(Credentials::Freshdesk(FreshdeskCredentials {
                        subdomain: subdomain?,
                        api_key: api_key?,
                    }))
                })();
                r.finish(built)
            }
            Provider::Knowledgeowl => {
                let api_key = r.plain_secret("apiKey");
                let project_id = r.field("projectId", ProjectId::parse);
                let built = (|| {
                    Some(Credentials::Knowledgeowl(KnowledgeowlCredentials {
                        api_key: api_key?,
                        project_id: project_id?,
                    }))
                })();
                r.finish(built)
            }
        }
    }

    pub fn provider(&self) -> Provider {
        match self {
            Credentials::S3(_) => Provider::S3,
            Credentials::R2(_) => Provider::R2,
            Credentials::Zendesk(_) => Provider::Zendesk,
            Credentials::Intercom(_) => Provider::Intercom,
            Credentials::Helpscout(_) => Provider::Helpscout,
            Credentials::Helpjuice(_) => Provider::Helpjuice,
            Credentials::Freshdesk(_) => Provider::Freshdesk,
            Credentials::Knowledgeowl(_) => Provider::Knowledgeowl,
        }
    }

    pub fn platform(&self) -> Platform {
        self.provider().platform()
    }

    /// The fields stored in clear (key ids in masked form).
    pub fn public_fields(&self) -> PublicFields {
        let mut p = PublicFields::new();
        match self {
            Credentials::S3(c) => {
                p.insert("bucket", c.bucket.as_str());
                p.insert("accessKeyId", c.access_key_id.masked());
                p.insert("region", c.region.as_str());
                if let Some(a) = &c.account_id {
                    p.insert("accountId", a.as_str());
                }
            }
            Credentials::R2(c) => {
                p.insert("bucket", c.bucket.as_str());
                p.insert("accessKeyId", c.access_key_id.masked());
                p.insert("accountId", c.account_id.as_str());
                p.insert("region", "auto");
                if let Some(j) = c.jurisdiction {
                    p.insert("jurisdiction", j.as_str());
                }
            }
            Credentials::Zendesk(c) => {
                p.insert("username", c.username.as_str());
                p.insert("subdomain", c.subdomain.as_str());
            }
            Credentials::Intercom(c) => p.insert("region", c.region.as_str()),
            Credentials::Helpscout(_) => {}
            Credentials::Helpjuice(c) => p.insert("subdomain", c.subdomain.as_str()),
            Credentials::Freshdesk(c) => p.insert("subdomain", c.subdomain.as_str()),
            Credentials::Knowledgeowl(c) => p.insert("projectId", c.project_id.as_str()),
        }
        p
    }

    /// The fields the vault seals: secrets and key ids.
    pub fn secret_fields(&self) -> SecretFields {
        let copy = |s: &SecretString| SecretString::from(s.expose_secret());
        let mut f = SecretFields::new();
        match self {
            Credentials::S3(c) => {
                f.insert("accessKeyId", SecretString::from(c.access_key_id.as_str()));
                f.insert("secretAccessKey", copy(&c.secret_access_key));
            }
            Credentials::R2(c) => {
                f.insert("accessKeyId", SecretString::from(c.access_key_id.as_str()));
                f.insert("secretAccessKey", copy(&c.secret_access_key));
            }
            Credentials::Zendesk(c) => f.insert("token", copy(&c.token)),
            Credentials::Intercom(c) => f.insert("token", copy(&c.token)),
            Credentials::Helpscout(c) => f.insert("apiKey", copy(&c.api_key)),
            Credentials::Helpjuice(c) => f.insert("apiKey", copy(&c.api_key)),
            Credentials::Freshdesk(c) => f.insert("apiKey", copy(&c.api_key)),
            Credentials::Knowledgeowl(c) => f.insert("apiKey", copy(&c.api_key)),
        }
        f
    }

    /// The stored form turned back into an input (public fields without key-id hints, plus
    /// the opened sealed fields), e.g. to lay a client's overrides over it.
    pub fn stored_input(
        provider: Provider,
        public: &PublicFields,
        sealed: &SecretFields,
    ) -> CredentialsInput {
        let mut input = CredentialsInput::new();
        for spec in field_specs(provider) {
            let value = if spec.kind.is_sealed() {
                sealed
                    .get(spec.name)
                    .map(|s| InputValue::Text(SecretString::from(s.expose_secret())))
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
            None,
        )
    }

    /// The credentials as read back: public fields as stored, key ids as `****` + last four,
    /// secrets as a fixed mask. In the provider's field order.
    pub fn masked_view(provider: Provider, public: &PublicFields) -> Vec<(&'static str, String)> {
        field_specs(provider)
            .iter()
            .filter_map(|spec| match spec.kind {
                FieldKind::Secret => Some((spec.name, SECRET_MASK.to_owned())),
                FieldKind::Public | FieldKind::KeyId => {
                    public.get(spec.name).map(|v| (spec.name, v.to_owned()))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_input() -> CredentialsInput {
        CredentialsInput::new()
            .with("bucket", "examplebucket")
            .with("accessKeyId", "AKIAIOSFODNN7EXAMPLE")
            .with(
                "secretAccessKey",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )
    }

    fn fields_of(err: &ValidationErrors) -> Vec<&str> {
        err.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn s3_defaults_region_to_auto_and_splits_fields() {
        let c = Credentials::parse(Provider::S3, &s3_input(), None).unwrap();
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
        let err = Credentials::parse(Provider::R2, &input, None).unwrap_err();
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
    fn masked_values_are_refused_and_fallback_fills_omitted_secrets() {
        let input = s3_input().with("secretAccessKey", SECRET_MASK);
        let err = Credentials::parse(Provider::S3, &input, None).unwrap_err();
        assert_eq!(fields_of(&err), vec!["credentials.secretAccessKey"]);
        let input = s3_input().with("accessKeyId", "****MPLE");
        let err = Credentials::parse(Provider::S3, &input, None).unwrap_err();
        assert_eq!(fields_of(&err), vec!["credentials.accessKeyId"]);

        let stored = Credentials::parse(Provider::S3, &s3_input(), None)
            .unwrap()
            .secret_fields();
        let mut partial = s3_input().with("bucket", "other-bucket");
        partial.remove("secretAccessKey");
        partial.remove("accessKeyId");
        let c = Credentials::parse(Provider::S3, &partial, Some(&stored)).unwrap();
        let Credentials::S3(c) = c else { panic!() };
        assert_eq!(c.bucket.as_str(), "other-bucket");
        assert_eq!(
            c.secret_access_key.expose_secret(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        // Without a fallback the same input misses both sealed fields.
        let err = Credentials::parse(Provider::S3, &partial, None).unwrap_err();
        assert_eq!(err.errors().len(), 2);
    }

    #[test]
    fn helpcenter_subdomains_are_normalised() {
        let input = CredentialsInput::new()
            .with("username", "hello@example.org")
            .with("token", "xxx")
            .with("subdomain", "https://example.zendesk.com");
        let c = Credentials::parse(Provider::Zendesk, &input, None).unwrap();
        assert_eq!(c.public_fields().get("subdomain"), Some("example"));
        let bad = input.with("subdomain", "https://evil.com");
        let err = Credentials::parse(Provider::Zendesk, &bad, None).unwrap_err();
        assert_eq!(fields_of(&err), vec!["credentials.subdomain"]);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::parse(Provider::S3, &s3_input(), None).unwrap();
        let shown = format!("{c:?} {:?} {:?}", c.secret_fields(), s3_input());
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "{shown}");
    }

    #[test]
    fn every_provider_has_its_contract_fields() {
        let names = |p| {
            field_specs(p)
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(names(Provider::Intercom), "token,region");
        assert_eq!(names(Provider::Knowledgeowl), "apiKey,projectId");
        for p in Provider::ALL {
            assert!(field_specs(p).iter().any(|s| s.kind == FieldKind::Secret));
        }
    }
}
