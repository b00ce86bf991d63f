//! Amazon S3: `bucket`, `accessKeyId`, `secretAccessKey`, optional `region` (default `auto`:
//! find the bucket's region), `accountId` (accepted, unused) and `prefix` (folder for
//! exports).

use super::fields::{plain_text, AccessKeyId, BucketName, ObjectPrefix, S3Region};
use super::{CredentialReader, FieldSpec, ProviderCredentials, PublicFields, SecretFields};
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct S3Credentials {
    pub bucket: BucketName,
    pub access_key_id: AccessKeyId,
    pub secret_access_key: SecretString,
    pub region: S3Region,
    /// Accepted for compatibility with the original API; unused.
    pub account_id: Option<String>,
    /// Where exports are written in the bucket.
    pub prefix: Option<ObjectPrefix>,
}

impl ProviderCredentials for S3Credentials {
    const FIELDS: &'static [FieldSpec] = &[
        FieldSpec::public("bucket", true, "The bucket name."),
        FieldSpec::key_id(
            "accessKeyId",
            "The AWS access key id (shown as its last four characters).",
        ),
        FieldSpec::secret(
            "secretAccessKey",
            "The AWS secret access key (never shown).",
        ),
        FieldSpec::public(
            "region",
            false,
            "The bucket's region, or \"auto\" (default) to find it.",
        ),
        FieldSpec::public("accountId", false, "Accepted for compatibility; unused."),
        FieldSpec::public(
            "prefix",
            false,
            "Folder for exports, such as \"screenshots/\".",
        ),
    ];

    const SAMPLE: &'static [(&'static str, &'static str)] = &[
        ("bucket", "examplebucket"),
        ("accessKeyId", "AKIAIOSFODNN7EXAMPLE"),
        (
            "secretAccessKey",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("region", "auto"),
    ];

    fn read(r: &mut CredentialReader<'_>) -> Option<Self> {
        let bucket = r.field("bucket", BucketName::s3);
        let access_key_id = r.field("accessKeyId", AccessKeyId::s3);
        let secret_access_key = r.secret("secretAccessKey");
        let region = r.optional("region", S3Region::parse);
        let account_id = r.optional("accountId", |v| plain_text(v, 255));
        let prefix = r.optional("prefix", ObjectPrefix::parse);
        Some(Self {
            bucket: bucket?,
            access_key_id: access_key_id?,
            secret_access_key: secret_access_key?,
            region: region?.unwrap_or(S3Region::Auto),
            account_id: account_id?,
            prefix: prefix?,
        })
    }

    fn public_fields(&self, p: &mut PublicFields) {
        p.insert("bucket", self.bucket.as_str());
        p.insert("accessKeyId", self.access_key_id.masked());
        p.insert("region", self.region.as_str());
        if let Some(a) = &self.account_id {
            p.insert("accountId", a.as_str());
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
