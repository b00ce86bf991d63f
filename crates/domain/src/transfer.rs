//! Putting the credentials to work (API.md section 6): exporting objects to a customer's
//! bucket and importing image references from a customer's help center. The service does the
//! work itself, so a caller never holds the secrets.
//!
//! * Export: [`ObjectKey`] and [`ContentType`] (with the magic-number check), the streamed
//!   body ([`ByteStream`]), what a store answers ([`StoredObject`]).
//! * Import: [`ImageRef`] and [`ImagePage`]; the provider-side position is opaque bytes the
//!   adapter defines, sealed into the client's cursor by the vault.

use bytes::Bytes;
use futures_core::Stream;
use std::fmt;
use std::pin::Pin;
use std::str::FromStr;
use time::OffsetDateTime;

/// An object key as the client sent it (`{key}` of the path, percent-decoded): 1 to 1024 bytes
/// of UTF-8, no control characters (C0, DEL, C1), no empty, `.` or `..` segment, no leading
/// `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > Self::MAX_BYTES {
            return Err("must be 1 to 1024 bytes of UTF-8".into());
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        if raw.starts_with('/') {
            return Err("must not start with \"/\"".into());
        }
        if raw
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..")
        {
            return Err("must not contain an empty, \".\" or \"..\" segment".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `prefix` + this key: where the object is written. `Err` when together they exceed
    /// [`ObjectKey::MAX_BYTES`].
    pub fn under(&self, prefix: Option<&str>) -> Result<String, String> {
        let full = format!("{}{}", prefix.unwrap_or(""), self.0);
        if full.len() > Self::MAX_BYTES {
            return Err(format!(
                "is too long once the integration's prefix is added ({} bytes; at most 1024)",
                full.len()
            ));
        }
        Ok(full)
    }
}

/// The content types an export accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentType {
    Png,
    Jpeg,
    Webp,
    Gif,
    Avif,
    Pdf,
}

impl ContentType {
    pub const ALL: [ContentType; 6] = [
        ContentType::Png,
        ContentType::Jpeg,
        ContentType::Webp,
        ContentType::Gif,
        ContentType::Avif,
        ContentType::Pdf,
    ];

    /// How many leading bytes [`ContentType::matches`] needs.
    pub const SNIFF_BYTES: usize = 16;

    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Png => "image/png",
            ContentType::Jpeg => "image/jpeg",
            ContentType::Webp => "image/webp",
            ContentType::Gif => "image/gif",
            ContentType::Avif => "image/avif",
            ContentType::Pdf => "application/pdf",
        }
    }

    /// Whether `head` (the first bytes of the body) starts with this type's magic number.
    pub fn matches(self, head: &[u8]) -> bool {
        match self {
            ContentType::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            ContentType::Jpeg => head.starts_with(&[0xff, 0xd8, 0xff]),
            ContentType::Gif => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
            ContentType::Webp => {
                head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP"
            }
            // ISO BMFF: a `ftyp` box whose major brand is AVIF (still or sequence).
            ContentType::Avif => {
                head.len() >= 12
                    && &head[4..8] == b"ftyp"
                    && matches!(&head[8..12], b"avif" | b"avis")
            }
            ContentType::Pdf => head.starts_with(b"%PDF-"),
        }
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ContentType {
    type Err = String;

    /// A `Content-Type` header value: the media type, case-insensitive, parameters ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let media = s
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        ContentType::ALL
            .into_iter()
            .find(|t| t.as_str() == media)
            .ok_or_else(|| {
                "must be one of image/png, image/jpeg, image/webp, image/gif, image/avif, application/pdf"
                    .to_owned()
            })
    }
}

/// Why the body of an export could not be read to its end (the client went away, or sent
/// more or less than it declared). Nothing is stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the request body could not be read: {0}")]
pub struct BodyError(pub String);

/// A body streamed from the client to the provider, chunk by chunk: never held whole.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>> + Send>>;

/// What an export writes.
pub struct ObjectWrite {
    /// The full key in the bucket (the integration's prefix included).
    pub key: String,
    pub content_type: ContentType,
    /// The exact number of bytes `body` yields.
    pub length: u64,
    pub body: ByteStream,
    /// `Some(d)`: also sign a GET of the object valid for `d`.
    pub presign: Option<std::time::Duration>,
}

impl fmt::Debug for ObjectWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectWrite")
            .field("key", &self.key)
            .field("content_type", &self.content_type)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// A signed GET of an object. The URL is a bearer credential until it expires (and carries
/// the access key id), so `Debug` shows only its path and expiry.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    pub url: String,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for PresignedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.url.split('?').next().unwrap_or_default();
        f.debug_struct("PresignedUrl")
            .field("url", &format_args!("{path}?[signature redacted]"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What the store answers after a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub content_type: ContentType,
    /// The entity tag as the provider sent it (quoted).
    pub etag: String,
    /// The object's address on the provider (not necessarily public).
    pub url: String,
    pub presigned: Option<PresignedUrl>,
}

/// What the store answers after a delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedObject {
    pub bucket: String,
    pub key: String,
}

/// One image used in a help-center article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub article_id: String,
    pub article_title: String,
    /// The article's public address, when the provider's API gives one.
    pub article_url: Option<String>,
    /// Absolute: relative URLs are resolved against the help center's origin.
    pub image_url: String,
    /// `None` when the image has no `alt` attribute.
    pub alt: Option<String>,
}

/// One page of images and where the next page starts on the provider's side (`None` at the
/// end). The position is the adapter's own encoding; the domain only seals and opens it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImagePage {
    pub items: Vec<ImageRef>,
    pub next: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_url_is_not_shown_by_debug() {
        let url = PresignedUrl {
            url: "https://b.s3.amazonaws.com/k.png?X-Amz-Credential=AKIAEXAMPLE%2F20261129&X-Amz-Signature=abc123".into(),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let shown = format!("{url:?}");
        assert!(
            shown.contains("https://b.s3.amazonaws.com/k.png"),
            "{shown}"
        );
        assert!(!shown.contains("AKIAEXAMPLE"), "{shown}");
        assert!(!shown.contains("abc123"), "{shown}");
    }

    #[test]
    fn object_keys() {
        for ok in ["a.png", "2024/03/a b.png", "é/ü.pdf", &"x".repeat(1024)] {
            assert!(ObjectKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/a.png",
            "a//b.png",
            "a/./b",
            "a/../b",
            "..",
            "a/",
            "a\u{0}b",
            "a\u{7f}b",
            "a\u{85}b",
            &"x".repeat(1025),
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad:?}");
        }
        let k = ObjectKey::parse("a.png").unwrap();
        assert_eq!(k.under(Some("shots/")).unwrap(), "shots/a.png");
        assert!(k.under(Some(&"p".repeat(1020))).is_err());
    }

    #[test]
    fn content_types_and_magic_numbers() {
        assert_eq!("IMAGE/PNG; charset=x".parse(), Ok(ContentType::Png));
        assert!("text/plain".parse::<ContentType>().is_err());
        assert!(ContentType::Png.matches(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(!ContentType::Png.matches(b"GIF89a"));
        assert!(ContentType::Jpeg.matches(&[0xff, 0xd8, 0xff, 0xe0]));
        assert!(ContentType::Gif.matches(b"GIF87a..."));
        assert!(ContentType::Webp.matches(b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(!ContentType::Webp.matches(b"RIFF\x10\0\0\0WAVEfmt "));
        assert!(ContentType::Avif.matches(b"\0\0\0\x1cftypavif\0\0\0\0"));
        assert!(ContentType::Pdf.matches(b"%PDF-1.7"));
        assert!(!ContentType::Pdf.matches(b""));
    }
}
