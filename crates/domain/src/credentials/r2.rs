//! Cloudflare R2: `bucket`, `accessKeyId` (the token id, 32 hex), `secretAccessKey` (SHA-256
//! of the token, 64 hex), `accountId` (32 hex); optional `region` (only `auto`),
//! `jurisdiction` (`eu`, `fedramp`) and `prefix`.

use super::fields::{
    r2_secret, AccessKeyId, BucketName, ObjectPrefix, R2AccountId, R2Jurisdiction,
};
use super::{CredentialReader, FieldSpec, ProviderCredentials, PublicFields, SecretFields};
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct R2Credentials {
    pub bucket: BucketName,
    pub access_key_id: AccessKeyId,
    pub secret_access_key: SecretString,
    pub account_id: R2AccountId,
    pub jurisdiction: Option<R2Jurisdiction>,
    /// Where exports are written in the bucket.
    pub prefix: Option<ObjectPrefix>,
}

fn only_auto(v: &str) -> Result<(), String> {
    if v.trim().eq_ignore_ascii_case("auto") {
        Ok(())
    } else {
        Err(
            "must be \"auto\" for R2 (R2 has no other region; use jurisdiction for eu or fedramp)"
                .into(),
        )
    }
}

impl ProviderCredentials for R2Credentials {
    const FIELDS: &'static [FieldSpec] = &[
        FieldSpec::public("bucket", true, "The bucket name."),
        FieldSpec::key_id(
            "accessKeyId",
            "The R2 access key id: 32 hexadecimal characters.",
        ),
        FieldSpec::secret(
            "secretAccessKey",
            "The R2 secret access key: 64 hexadecimal characters.",
        ),
        FieldSpec::public(
            "accountId",
            true,
            "The Cloudflare account id: 32 hexadecimal characters.",
        ),
        FieldSpec::public("region", false, "Only \"auto\"."),
        FieldSpec::public(
            "jurisdiction",
            false,
            "\"eu\" or \"fedramp\" for a jurisdictional bucket.",
        ),
        FieldSpec::public(
            "prefix",
            false,
            "Folder for exports, such as \"screenshots/\".",
        ),
    ];

    const SAMPLE: &'static [(&'static str, &'static str)] = &[
        ("bucket", "examplebucket"),
        ("accessKeyId", "0123456789abcdef0123456789abcdef"),
        (
            "secretAccessKey",
            "abababababababababababababababababababababababababababababababab",
        ),
        ("accountId", "023e105f4ecef8ad9ca31a8372d0c353"),
        ("jurisdiction", "eu"),
    ];

    fn read(r: &mut CredentialReader<'_>) -> Option<Self> {
        let bucket = r.field("bucket", BucketName::r2);
        let access_key_id = r.field("accessKeyId", AccessKeyId::r2);
        let secret_access_key = r.secret_with("secretAccessKey", r2_secret);
        let account_id = r.field("accountId", R2AccountId::parse);
        let region = r.optional("region", only_auto);
        let jurisdiction = r.optional("jurisdiction", R2Jurisdiction::parse);
        let prefix = r.optional("prefix", ObjectPrefix::parse);
        region?;
        Some(Self {
            bucket: bucket?,
            access_key_id: access_key_id?,
            secret_access_key: secret_access_key?,
            account_id: account_id?,
            jurisdiction: jurisdiction?,
            prefix: prefix?,
        })
    }

    fn public_fields(&self, p: &mut PublicFields) {
        p.insert("bucket", self.bucket.as_str());
        p.insert("accessKeyId", self.access_key_id.masked());
        p.insert("accountId", self.account_id.as_str());
        p.insert("region", "auto");
        if let Some(j) = self.jurisdiction {
            p.insert("jurisdiction", j.as_str());
        }
        if let Some(prefix) = &self.prefix {
            p.insert("prefix", prefix.as_str());
        }
    }

    fn secret_fields(&self, s: &mut SecretFields) {
        s.insert(
            "accessKeyId",
            SecretString::from(self.access_key_id.as_str()),
        );
        s.insert("secretAccessKey", self.secret_access_key.clone());
    }
}
