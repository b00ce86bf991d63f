//! Validated field values. Each constructor returns the normalised value or a message for the
//! user (without the value when the value may be secret).

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// The fixed mask shown instead of a secret.
pub const SECRET_MASK: &str = "********";

/// What a key id (`accessKeyId`) looks like on read: `****` and its last four characters.
pub fn mask_key_id(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

/// True for a value that is (or looks like) one of our masks: a client that PUTs back what it
/// read must not overwrite the real value with it.
pub fn looks_masked(value: &str) -> bool {
    value.starts_with("****")
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A bucket name (S3 or R2 rules).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketName(String);

impl BucketName {
    /// Amazon S3 general-purpose bucket naming rules.
    pub fn s3(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        let msg = "must be a valid S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit";
        if !(3..=63).contains(&v.len())
            || !v.chars().all(|c| is_lower_alnum(c) || c == '.' || c == '-')
            || !v.starts_with(is_lower_alnum)
            || !v.ends_with(is_lower_alnum)
        {
            return Err(msg.into());
        }
        if v.contains("..") || v.contains(".-") || v.contains("-.") {
            return Err(
                "must be a valid S3 bucket name: no two adjacent dots, and no dot next to a hyphen"
                    .into(),
            );
        }
        if v.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err("must be a valid S3 bucket name, not an IP address".into());
        }
        Ok(Self(v.to_owned()))
    }

    /// Cloudflare R2 naming rules: 3 to 63 lowercase letters, digits and hyphens.
    pub fn r2(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if !(3..=63).contains(&v.len())
            || !v.chars().all(|c| is_lower_alnum(c) || c == '-')
            || !v.starts_with(is_lower_alnum)
            || !v.ends_with(is_lower_alnum)
        {
            return Err("must be a valid R2 bucket name: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit".into());
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An access key id. Not a secret, but stored sealed and shown only as `****` + last four.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// AWS-style key ids (also S3-compatible servers): 3 to 128 of `A-Z a-z 0-9 . _ -`.
    pub fn s3(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if !(3..=128).contains(&v.len())
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(
                "must be an access key id: 3 to 128 letters, digits, dots, underscores or hyphens"
                    .into(),
            );
        }
        Ok(Self(v.to_owned()))
    }

    /// R2 key ids are the API token id: 32 hexadecimal characters.
    pub fn r2(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if v.len() != 32 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("must be an R2 access key id: 32 hexadecimal characters".into());
        }
        Ok(Self(v.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask_key_id(&self.0)
    }
}

impl fmt::Debug for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKeyId({})", self.masked())
    }
}

/// Checks a secret (token, API key, secret access key): not empty, no whitespace or control
/// characters inside, at most `max` bytes. Leading and trailing whitespace (a common copy and
/// paste accident) is removed.
pub fn secret(raw: &SecretString, max: usize) -> Result<SecretString, String> {
    let v = raw.expose_secret().trim();
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.len() > max {
        return Err(format!("must be at most {max} characters long"));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    Ok(SecretString::from(v))
}

/// An R2 secret access key: the SHA-256 of the token value, 64 hexadecimal characters.
pub fn r2_secret(raw: &SecretString) -> Result<SecretString, String> {
    let v = raw.expose_secret().trim();
    if v.len() != 64 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("must be an R2 secret access key: 64 hexadecimal characters".into());
    }
    Ok(SecretString::from(v))
}

/// The region of an S3 bucket: `auto` (discover it) or a region name such as `eu-west-1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum S3Region {
    Auto,
    Named(String),
}

impl S3Region {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim().to_ascii_lowercase();
        if v == "auto" {
            return Ok(S3Region::Auto);
        }
        let ok = (4..=32).contains(&v.len())
            && v.chars().all(|c| is_lower_alnum(c) || c == '-')
            && v.starts_with(|c: char| c.is_ascii_lowercase())
            && v.ends_with(|c: char| c.is_ascii_digit())
            && v.contains('-');
        if ok {
            Ok(S3Region::Named(v))
        } else {
            Err("must be \"auto\" or an AWS region name such as \"eu-west-1\"".into())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            S3Region::Auto => "auto",
            S3Region::Named(n) => n,
        }
    }
}

/// A Cloudflare account id: 32 hexadecimal characters (stored lowercase).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct R2AccountId(String);

impl R2AccountId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if v.len() != 32 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("must be a Cloudflare account id: 32 hexadecimal characters".into());
        }
        Ok(Self(v.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An R2 jurisdiction (buckets in one are reachable only through its endpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum R2Jurisdiction {
    Eu,
    Fedramp,
}

impl R2Jurisdiction {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "eu" => Ok(R2Jurisdiction::Eu),
            "fedramp" => Ok(R2Jurisdiction::Fedramp),
            _ => Err(
                "must be \"eu\" or \"fedramp\" (leave it out for the default jurisdiction)".into(),
            ),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            R2Jurisdiction::Eu => "eu",
            R2Jurisdiction::Fedramp => "fedramp",
        }
    }
}

/// An e-mail address (the Zendesk agent's login).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        let msg = "must be an e-mail address such as agent@example.com";
        if v.len() > 254 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(msg.into());
        }
        let Some((local, domain)) = v.rsplit_once('@') else {
            return Err(msg.into());
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(msg.into());
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A help-center subdomain, normalised to its bare label (`acme`).
///
/// Accepts `acme` or the URL the user copies from the browser
/// (`https://acme.zendesk.com/hc/en-us`); refuses any other host, a port or user info, so that
/// credentials are only ever sent to the provider's own domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subdomain(String);

impl Subdomain {
    pub fn parse(raw: &str, provider_domain: &str) -> Result<Self, String> {
        let refuse = || {
            format!(
                "must be your subdomain (\"acme\") or its URL (\"https://acme.{provider_domain}\"); other hosts are not allowed"
            )
        };
        let v = raw.trim().to_ascii_lowercase();
        let rest = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"))
            .unwrap_or(&v);
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || host.contains(['@', ':', '\\']) {
            return Err(refuse());
        }
        let label = if let Some(prefix) = host.strip_suffix(&format!(".{provider_domain}")) {
            prefix
        } else if host.contains('.') {
            return Err(refuse());
        } else {
            host
        };
        let valid = !label.is_empty()
            && label.len() <= 63
            && label.starts_with(is_lower_alnum)
            && label.chars().all(|c| is_lower_alnum(c) || c == '-');
        if !valid {
            return Err(format!(
                "{} (letters, digits and hyphens, starting with a letter or digit)",
                refuse()
            ));
        }
        Ok(Self(label.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Intercom region of a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IntercomRegion {
    #[default]
    Us,
    Eu,
    Au,
}

impl IntercomRegion {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "us" => Ok(IntercomRegion::Us),
            "eu" => Ok(IntercomRegion::Eu),
            "au" => Ok(IntercomRegion::Au),
            _ => Err("must be \"us\", \"eu\" or \"au\"".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IntercomRegion::Us => "us",
            IntercomRegion::Eu => "eu",
            IntercomRegion::Au => "au",
        }
    }
}

/// A KnowledgeOwl knowledge base (project) id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectId(String);

impl ProjectId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if v.is_empty()
            || v.len() > 64
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("must be a KnowledgeOwl knowledge base id: 1 to 64 letters, digits, hyphens or underscores".into());
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `c` is a control character: C0, DEL or C1 (API.md section 6, object keys).
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// The folder under which exports are written (`prefix` of `s3` and `r2`), such as
/// `screenshots/`: at most 512 bytes of UTF-8, no control characters, no leading `/`, and no
/// `.` or `..` segment (an empty segment only at the end, after a closing `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPrefix(String);

impl ObjectPrefix {
    pub const MAX_BYTES: usize = 512;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        let msg = "must be a folder such as \"screenshots/\": at most 512 bytes, no leading \"/\", no control characters, no empty, \".\" or \"..\" segment";
        if v.is_empty()
            || v.len() > Self::MAX_BYTES
            || v.starts_with('/')
            || v.chars().any(is_control)
        {
            return Err(msg.into());
        }
        let segments: Vec<&str> = v.split('/').collect();
        let last = segments.len() - 1;
        let bad_segment = segments
            .iter()
            .enumerate()
            .any(|(i, s)| *s == "." || *s == ".." || (s.is_empty() && i != last));
        if bad_segment {
            return Err(msg.into());
        }
        Ok(Self(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Any non-secret free text (the S3 `accountId`, accepted and unused).
pub fn plain_text(raw: &str, max: usize) -> Result<String, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(format!(
            "must be at most {max} characters, without control characters"
        ));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_accepts_bare_name_and_provider_urls() {
        for raw in [
            "acme",
            "ACME",
            " acme ",
            "acme.zendesk.com",
            "https://acme.zendesk.com",
            "https://acme.zendesk.com/",
            "http://acme.zendesk.com/hc/en-us?x=1",
        ] {
            assert_eq!(
                Subdomain::parse(raw, "zendesk.com").map(|s| s.0),
                Ok("acme".to_owned()),
                "{raw}"
            );
        }
    }

    #[test]
    fn subdomain_refuses_other_hosts() {
        for raw in [
            "evil.com",
            "evil.com/",
            "https://evil.com",
            "https://acme.zendesk.com.evil.com",
            "https://acme.zendesk.com@evil.com",
            "https://acme.zendesk.com:8443",
            "https://a.b.zendesk.com",
            "127.0.0.1",
            "https://acme.freshdesk.com",
            "-acme",
            "",
            "ac_me",
            "https://",
        ] {
            assert!(Subdomain::parse(raw, "zendesk.com").is_err(), "{raw}");
        }
    }

    #[test]
    fn buckets() {
        assert!(BucketName::s3("my.bucket-1").is_ok());
        assert!(BucketName::s3("ab").is_err());
        assert!(BucketName::s3("Upper").is_err());
        assert!(BucketName::s3("a..b").is_err());
        assert!(BucketName::s3("192.168.1.1").is_err());
        assert!(BucketName::r2("my-bucket").is_ok());
        assert!(BucketName::r2("my.bucket").is_err());
    }

    #[test]
    fn ids_and_regions() {
        assert!(R2AccountId::parse("023e105f4ecef8ad9ca31a8372d0c353").is_ok());
        assert!(R2AccountId::parse("023e105f4ecef8ad9ca31a8372d0c35").is_err());
        assert!(R2AccountId::parse("zzz").is_err());
        assert_eq!(S3Region::parse("AUTO"), Ok(S3Region::Auto));
        assert_eq!(
            S3Region::parse("us-gov-west-1"),
            Ok(S3Region::Named("us-gov-west-1".into()))
        );
        assert!(S3Region::parse("moon").is_err());
        assert_eq!(mask_key_id("AKIAIOSFODNN7EXAMPLE"), "****MPLE");
        assert_eq!(mask_key_id("ab"), "****ab");
        assert!(Email::parse("a@b.co").is_ok());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a b@c.d").is_err());
    }

    #[test]
    fn prefixes() {
        for ok in ["screenshots/", "a/b/", "shots-", "a.b/c"] {
            assert!(ObjectPrefix::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/abs/",
            "a//b/",
            "./x",
            "a/../b",
            "a\u{7f}",
            "a\u{85}b",
            &"x".repeat(513),
        ] {
            assert!(ObjectPrefix::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_trimmed_and_checked_without_echo() {
        let s = secret(&SecretString::from(" abc \n"), 10).map(|s| s.expose_secret().to_owned());
        assert_eq!(s, Ok("abc".to_owned()));
        let err = secret(&SecretString::from("hunter2 x"), 100)
            .err()
            .unwrap_or_default();
        assert!(!err.contains("hunter2"));
    }
}
