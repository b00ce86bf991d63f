//! The stored integration, its masked view, and list queries.

use crate::credentials::{Credentials, PublicFields};
use crate::ids::{AccountId, IntegrationId};
use crate::label::Label;
use crate::provider::{Platform, Provider};
use crate::verification::Verification;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use time::OffsetDateTime;

/// Secret fields as the vault sealed them: an opaque, self-describing blob and the id of the
/// key-encryption key that wrapped its data key (kept in its own column for rotation sweeps).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecrets {
    pub kek_id: u32,
    pub blob: Vec<u8>,
}

impl std::fmt::Debug for SealedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecrets")
            .field("kek_id", &self.kek_id)
            .field("blob_len", &self.blob.len())
            .finish()
    }
}

/// One integration as stored. Secrets only in `sealed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationRecord {
    pub id: IntegrationId,
    pub account_id: AccountId,
    pub label: Label,
    pub provider: Provider,
    pub public_fields: PublicFields,
    pub sealed: SealedSecrets,
    /// Millisecond precision (what the API shows and every store keeps exactly).
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_verification: Option<Verification>,
}

impl IntegrationRecord {
    pub fn platform(&self) -> Platform {
        self.provider.platform()
    }

    pub fn position(&self) -> ListPosition {
        ListPosition {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// What create and update answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationSummary {
    pub id: IntegrationId,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An integration as read back: credentials masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationView {
    pub id: IntegrationId,
    pub label: String,
    pub provider: Provider,
    pub platform: Platform,
    /// Field name and shown value, in the provider's field order.
    pub credentials: Vec<(&'static str, String)>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub last_verification: Option<Verification>,
}

impl From<&IntegrationRecord> for IntegrationView {
    fn from(r: &IntegrationRecord) -> Self {
        Self {
            id: r.id,
            label: r.label.as_str().to_owned(),
            provider: r.provider,
            platform: r.platform(),
            credentials: Credentials::masked_view(r.provider, &r.public_fields),
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_verification: r.last_verification.clone(),
        }
    }
}

/// Page size: 1 to 100, default 20.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: PageLimit = PageLimit(20);
    pub const MAX: u32 = 100;

    pub fn new(n: u32) -> Option<Self> {
        (1..=Self::MAX).contains(&n).then_some(Self(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where a page ends, in list order (`created_at`, then `id`, ascending).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListPosition {
    pub created_at: OffsetDateTime,
    pub id: IntegrationId,
}

impl ListPosition {
    const PREFIX: &'static str = "v1.";

    /// The opaque cursor a client sends back for the next page.
    pub fn to_cursor(&self) -> String {
        let millis = self.created_at.unix_timestamp_nanos() / 1_000_000;
        URL_SAFE_NO_PAD.encode(format!("{}{millis}.{}", Self::PREFIX, self.id))
    }

    /// `None` for anything that is not a cursor this service issued.
    pub fn from_cursor(cursor: &str) -> Option<Self> {
        if cursor.len() > 128 {
            return None;
        }
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let rest = raw.strip_prefix(Self::PREFIX)?;
        let (millis, id) = rest.split_once('.')?;
        let millis: i128 = millis.parse().ok()?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).ok()?;
        Some(Self {
            created_at,
            id: id.parse().ok()?,
        })
    }
}

/// A list request of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub platform: Option<Platform>,
    pub provider: Option<Provider>,
    pub limit: PageLimit,
    /// Only items strictly after this position.
    pub after: Option<ListPosition>,
}

/// One page of a list, and where the next one starts (if there is more).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<ListPosition>,
}

/// Now, truncated to milliseconds (the precision of the API and of every store).
pub fn now_millis() -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc())
}

pub fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let pos = ListPosition {
            created_at: truncate_to_millis(OffsetDateTime::now_utc()),
            id: IntegrationId::new(),
        };
        assert_eq!(ListPosition::from_cursor(&pos.to_cursor()), Some(pos));
        for bad in ["", "abc", "djEuMTIz", &"A".repeat(500)] {
            assert_eq!(ListPosition::from_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn page_limits() {
        assert!(PageLimit::new(0).is_none());
        assert!(PageLimit::new(101).is_none());
        assert_eq!(PageLimit::new(100).map(PageLimit::get), Some(100));
    }
}
