//! Response bodies (camelCase, as in the seed).

use integrations_domain::{AuditEvent, IntegrationSummary, IntegrationView, Listed, Verification};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const RFC3339_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// RFC 3339, UTC, milliseconds: `2024-02-26T16:24:18.676Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(RFC3339_MILLIS)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteResponse {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
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

#[derive(Serialize)]
pub struct DeleteResponse {
    pub id: String,
    pub message: &'static str,
}

/// `{isConnectionSuccessful, message, reason?}` (also `at` inside `lastVerification`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub is_connection_successful: bool,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationBody {
    pub id: String,
    pub label: String,
    pub provider: &'static str,
    pub platform: &'static str,
    pub credentials: OrderedFields,
    pub created_at: String,
    pub updated_at: String,
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
#[derive(Serialize)]
#[serde(untagged)]
pub enum ListItem {
    Readable(IntegrationBody),
    Unreadable(UnreadableBody),
}

/// A stored integration whose data cannot be read (listed so that it can be found and
/// deleted or replaced; the rest of the page is unaffected).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadableBody {
    pub id: String,
    pub created_at: String,
    pub unreadable: bool,
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
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// One audit event (API.md section 8).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
    pub id: String,
    pub at: String,
    pub action: &'static str,
    pub integration_id: Option<String>,
    pub outcome: &'static str,
    pub reason: Option<&'static str>,
    pub key_id: Option<String>,
    pub request_id: Option<String>,
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
    }
}
