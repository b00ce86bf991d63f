//! Response bodies (camelCase, as in the seed).

use integrations_domain::{AuditEvent, IntegrationSummary, IntegrationView, Listed, Verification};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use utoipa::ToSchema;

const RFC3339_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// RFC 3339, UTC, milliseconds: `2024-02-26T16:24:18.676Z`. Written digit by digit for the
/// years 0–9999 (a list page formats dozens of these; `time`'s generic formatter showed in
/// its profile), through `time`'s formatter otherwise.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t
            .format(RFC3339_MILLIS)
            .unwrap_or_else(|_| t.unix_timestamp().to_string());
    }
    let mut out = String::with_capacity(24);
    push_digits(&mut out, year.unsigned_abs(), 4);
    for (sep, n, digits) in [
        ('-', u32::from(u8::from(t.month())), 2),
        ('-', u32::from(t.day()), 2),
        ('T', u32::from(t.hour()), 2),
        (':', u32::from(t.minute()), 2),
        (':', u32::from(t.second()), 2),
        ('.', u32::from(t.millisecond()), 3),
    ] {
        out.push(sep);
        push_digits(&mut out, n, digits);
    }
    out.push('Z');
    out
}

/// `n` in `digits` decimal digits, zero-padded.
fn push_digits(out: &mut String, n: u32, digits: u32) {
    for d in (0..digits).rev() {
        out.push(char::from(b'0' + ((n / 10u32.pow(d)) % 10) as u8));
    }
}

/// The answer of a create or an update.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteResponse {
    /// The integration's id.
    #[schema(format = Uuid, example = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d")]
    pub id: String,
    /// When it was created (RFC 3339, UTC, milliseconds).
    #[schema(format = DateTime, example = "2024-02-26T16:24:18.676Z")]
    pub created_at: String,
    /// When it was last updated.
    #[schema(format = DateTime, example = "2024-02-26T16:24:44.528Z")]
    pub updated_at: String,
    /// `The Integration credentials have been successfully created.` or `… updated.`, word
    /// for word.
    #[schema(example = "The Integration credentials have been successfully updated.")]
    pub message: &'static str,
}

impl WriteResponse {
    pub fn new(s: &IntegrationSummary, message: &'static str) -> Self {
        Self {
            id: s.id.to_string(),
            created_at: timestamp(s.created_at),
            updated_at: timestamp(s.updated_at),
            message,
        }
    }
}

/// The answer of a delete.
#[derive(Serialize, ToSchema)]
pub struct DeleteResponse {
    /// The deleted integration's id.
    #[schema(format = Uuid, example = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d")]
    pub id: String,
    /// `The Integration has been successfully deleted.`
    #[schema(example = "The Integration has been successfully deleted.")]
    pub message: &'static str,
}

/// `{isConnectionSuccessful, message, reason?}` (also `at` inside `lastVerification`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VerificationResult)]
pub struct VerificationBody {
    /// When the check ran: only inside `lastVerification`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime, example = "2024-02-26T16:25:02.120Z")]
    pub at: Option<String>,
    /// Whether the credentials work.
    pub is_connection_successful: bool,
    /// On success the platform's message, word for word (`The connection was successful`,
    /// `The helpcenter credentials has been successfully validated`); on failure the cause,
    /// never a secret.
    #[schema(example = "The connection was successful")]
    pub message: String,
    /// Why the check failed (absent on success).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::ReasonCode)]
    pub reason: Option<&'static str>,
}

impl VerificationBody {
    pub fn new(v: &Verification, with_time: bool) -> Self {
        Self {
            at: with_time.then(|| timestamp(v.at)),
            is_connection_successful: v.is_successful(),
            message: v.message().to_owned(),
            reason: v.reason().map(|r| r.as_str()),
        }
    }
}

/// Masked credentials in the provider's field order.
pub struct OrderedFields(Vec<(&'static str, String)>);

impl Serialize for OrderedFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// An integration as read back, its credentials masked.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Integration)]
pub struct IntegrationBody {
    #[schema(format = Uuid, example = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d")]
    pub id: String,
    #[schema(example = "Dennis S3 Storage Credentials")]
    pub label: String,
    #[schema(value_type = crate::openapi::ProviderName)]
    pub provider: &'static str,
    #[schema(value_type = crate::openapi::PlatformName)]
    pub platform: &'static str,
    pub credentials: OrderedFields,
    #[schema(format = DateTime, example = "2024-02-26T16:24:18.676Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-02-26T16:24:44.528Z")]
    pub updated_at: String,
    /// The latest verify by `integrationId`; `null` until one has run.
    #[schema(required = true)]
    pub last_verification: Option<VerificationBody>,
}

impl From<IntegrationView> for IntegrationBody {
    fn from(v: IntegrationView) -> Self {
        Self {
            id: v.id.to_string(),
            label: v.label,
            provider: v.provider.as_str(),
            platform: v.platform.as_str(),
            credentials: OrderedFields(v.credentials),
            created_at: timestamp(v.created_at),
            updated_at: timestamp(v.updated_at),
            last_verification: v
                .last_verification
                .as_ref()
                .map(|l| VerificationBody::new(l, true)),
        }
    }
}

/// An item of a list page: the integration, or a marker for a row that cannot be read.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = IntegrationListItem)]
pub enum ListItem {
    Readable(IntegrationBody),
    Unreadable(UnreadableBody),
}

/// A stored integration whose data cannot be read (listed so that it can be found and
/// deleted or replaced; the rest of the page is unaffected).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UnreadableIntegration)]
pub struct UnreadableBody {
    #[schema(format = Uuid, example = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d")]
    pub id: String,
    #[schema(format = DateTime, example = "2024-02-26T16:24:18.676Z")]
    pub created_at: String,
    /// Always `true`.
    pub unreadable: bool,
    /// What to do about it.
    pub message: &'static str,
}

impl From<Listed<IntegrationView>> for ListItem {
    fn from(item: Listed<IntegrationView>) -> Self {
        match item {
            Listed::Readable(v) => ListItem::Readable(IntegrationBody::from(v)),
            Listed::Unreadable(u) => ListItem::Unreadable(UnreadableBody {
                id: u.id.to_string(),
                created_at: timestamp(u.created_at),
                unreadable: true,
                message: "This integration's stored data cannot be read. Replace it with PUT (sending every credential field) or delete it.",
            }),
        }
    }
}

/// `{items, nextCursor}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageBody<T> {
    pub items: Vec<T>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// One audit event (API.md section 8).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Event)]
pub struct EventBody {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = DateTime, example = "2024-02-26T16:24:18.676Z")]
    pub at: String,
    #[schema(value_type = crate::openapi::ActionName)]
    pub action: &'static str,
    /// `null` for a verify of plain-text credentials.
    #[schema(required = true, format = Uuid)]
    pub integration_id: Option<String>,
    #[schema(value_type = crate::openapi::OutcomeName)]
    pub outcome: &'static str,
    /// The reason code of a failure that reached a provider, else `null`.
    #[schema(required = true, value_type = Option<crate::openapi::ReasonCode>)]
    pub reason: Option<&'static str>,
    /// The public id of the API key that acted (8 characters).
    #[schema(required = true, example = "Jd8s0aQk")]
    pub key_id: Option<String>,
    /// The request's `X-Request-Id`.
    #[schema(required = true)]
    pub request_id: Option<String>,
    /// The client's address (the TCP peer, or `X-Forwarded-For` behind a trusted proxy).
    #[schema(required = true, example = "203.0.113.7")]
    pub client_ip: Option<String>,
}

impl From<AuditEvent> for EventBody {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.hyphenated().to_string(),
            at: timestamp(e.at),
            action: e.action.as_str(),
            integration_id: e.integration_id.map(|i| i.to_string()),
            outcome: if e.is_success() { "success" } else { "failure" },
            reason: e.reason.map(|r| r.as_str()),
            key_id: e.key_id.map(|k| k.as_str().to_owned()),
            request_id: e.request_id,
            client_ip: e.client_ip.map(|ip| ip.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = time::macros::datetime!(2024-02-26 16:24:18.676 UTC);
        assert_eq!(timestamp(t), "2024-02-26T16:24:18.676Z");
        let t = time::macros::datetime!(2024-02-26 17:24:18 +01:00);
        assert_eq!(timestamp(t), "2024-02-26T16:24:18.000Z");
        // The hand-written path agrees with `time`'s formatter, across the range it covers.
        let mut t = time::macros::datetime!(0000-01-01 00:00:00.000 UTC);
        let end = time::macros::datetime!(9999-12-31 23:59:59.999 UTC);
        let step = time::Duration::milliseconds(7_919_861_237_011);
        while t <= end {
            assert_eq!(timestamp(t), t.format(RFC3339_MILLIS).unwrap(), "{t}");
            match t.checked_add(step) {
                Some(next) => t = next,
                None => break,
            }
        }
        assert_eq!(timestamp(end), "9999-12-31T23:59:59.999Z");
        let before = time::macros::datetime!(-0001-12-31 23:59:59 UTC);
        assert_eq!(timestamp(before), before.format(RFC3339_MILLIS).unwrap());
    }
}

/// `PUT /integration/{id}/objects/{key}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StoredObject)]
pub struct ObjectBody {
    #[schema(example = "examplebucket")]
    pub bucket: String,
    /// The full key in the bucket: the integration's `prefix` and the path's `{key}`.
    #[schema(example = "screenshots/2024/a.png")]
    pub key: String,
    /// Bytes written.
    #[schema(example = 48213)]
    pub size: u64,
    #[schema(value_type = crate::openapi::ContentTypeName)]
    pub content_type: &'static str,
    /// The provider's ETag, quotes included.
    #[schema(example = "\"9b2cf535f27731c974343645a3985328\"")]
    pub etag: String,
    /// The object's address on the provider (not necessarily public).
    #[schema(example = "https://examplebucket.s3.eu-west-1.amazonaws.com/screenshots/2024/a.png")]
    pub url: String,
    /// With `?presign=`: a SigV4-presigned GET URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub presigned_url: Option<String>,
    /// With `?presign=`: when `presignedUrl` expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Option<String>,
}

impl From<integrations_domain::StoredObject> for ObjectBody {
    fn from(o: integrations_domain::StoredObject) -> Self {
        let (presigned_url, expires_at) = match o.presigned {
            Some(p) => (Some(p.url), Some(timestamp(p.expires_at))),
            None => (None, None),
        };
        Self {
            bucket: o.bucket,
            key: o.key,
            size: o.size,
            content_type: o.content_type.as_str(),
            etag: o.etag,
            url: o.url,
            presigned_url,
            expires_at,
        }
    }
}

/// `DELETE /integration/{id}/objects/{key}`.
#[derive(Serialize, ToSchema)]
#[schema(as = DeletedObject)]
pub struct DeletedObjectBody {
    #[schema(example = "examplebucket")]
    pub bucket: String,
    #[schema(example = "screenshots/2024/a.png")]
    pub key: String,
    /// `The object has been successfully deleted.`
    #[schema(example = "The object has been successfully deleted.")]
    pub message: &'static str,
}

/// One image of `GET /integration/{id}/images`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Image)]
pub struct ImageBody {
    #[schema(example = "360001")]
    pub article_id: String,
    #[schema(example = "Getting started")]
    pub article_title: String,
    /// The article's public address when the provider's API gives one.
    #[schema(
        required = true,
        example = "https://acme.zendesk.com/hc/en-us/articles/360001"
    )]
    pub article_url: Option<String>,
    /// The image's absolute URL (returned, never fetched).
    #[schema(example = "https://acme.zendesk.com/hc/article_attachments/200109629/screen.png")]
    pub image_url: String,
    /// The image's `alt` text, `null` when it has none.
    #[schema(required = true, example = "Dashboard")]
    pub alt: Option<String>,
}

impl From<integrations_domain::ImageRef> for ImageBody {
    fn from(i: integrations_domain::ImageRef) -> Self {
        Self {
            article_id: i.article_id,
            article_title: i.article_title,
            article_url: i.article_url,
            image_url: i.image_url,
            alt: i.alt,
        }
    }
}

/// `GET /integration/{id}/credentials`: exactly these four fields, credentials in clear.
#[derive(Serialize, ToSchema)]
#[schema(as = RevealedIntegration)]
pub struct RevealBody {
    #[schema(format = Uuid, example = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d")]
    pub id: String,
    #[schema(value_type = crate::openapi::ProviderName)]
    pub provider: &'static str,
    #[schema(value_type = crate::openapi::PlatformName)]
    pub platform: &'static str,
    pub credentials: RevealedFields,
}

/// The only place a secret is serialised: the reveal answer.
pub struct RevealedFields(pub Vec<(&'static str, secrecy::SecretString)>);

impl Serialize for RevealedFields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use secrecy::ExposeSecret;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v.expose_secret())?;
        }
        map.end()
    }
}
