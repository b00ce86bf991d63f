//! The stored integration, its masked view, and list queries.

use crate::credentials::{Credentials, PublicFields};
use crate::ids::{AccountId, IntegrationId};
use crate::label::Label;
use crate::page::{PageLimit, Position};
use crate::provider::{Platform, Provider};
use crate::validation::ValidationErrors;
use crate::verification::Verification;
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
    /// Also the record's version: it changes on every update (strictly increasing), so a
    /// result computed from an older version can be refused (compare-and-set).
    pub updated_at: OffsetDateTime,
    pub last_verification: Option<Verification>,
}

impl IntegrationRecord {
    pub fn platform(&self) -> Platform {
        self.provider.platform()
    }

    pub fn position(&self) -> Position {
        Position {
            at: self.created_at,
            id: *self.id.as_uuid(),
        }
    }
}

/// A row a list found but could not read (corrupt data): listed, marked, never fatal for the
/// rest of the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreadableRow {
    pub id: IntegrationId,
    pub created_at: OffsetDateTime,
    /// What is wrong, for the log (never shown to clients, never a secret).
    pub problem: String,
}

/// One item of a list page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed<T> {
    Readable(T),
    Unreadable(UnreadableRow),
}

impl Listed<IntegrationView> {
    pub fn position(&self) -> Position {
        match self {
            Listed::Readable(v) => v.position(),
            Listed::Unreadable(u) => Position {
                at: u.created_at,
                id: *u.id.as_uuid(),
            },
        }
    }

    pub fn id(&self) -> IntegrationId {
        match self {
            Listed::Readable(r) => r.id,
            Listed::Unreadable(u) => u.id,
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

impl IntegrationView {
    /// The view of an integration's shown parts, its credentials masked from the public
    /// fields: the one place a view is built, from a record or from a store's list row (which
    /// does not read the sealed secrets).
    pub fn masked(
        id: IntegrationId,
        label: Label,
        provider: Provider,
        public_fields: &PublicFields,
        created_at: OffsetDateTime,
        updated_at: OffsetDateTime,
        last_verification: Option<Verification>,
    ) -> Self {
        Self {
            id,
            label: label.into_string(),
            provider,
            platform: provider.platform(),
            credentials: Credentials::masked_view(provider, public_fields),
            created_at,
            updated_at,
            last_verification,
        }
    }

    pub fn position(&self) -> Position {
        Position {
            at: self.created_at,
            id: *self.id.as_uuid(),
        }
    }
}

impl From<&IntegrationRecord> for IntegrationView {
    fn from(r: &IntegrationRecord) -> Self {
        Self::masked(
            r.id,
            r.label.clone(),
            r.provider,
            &r.public_fields,
            r.created_at,
            r.updated_at,
            r.last_verification.clone(),
        )
    }
}

/// The cursor kind of integration lists.
pub const LIST_CURSOR: &str = "v1";

/// A list request of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub platform: Option<Platform>,
    pub provider: Option<Provider>,
    pub limit: PageLimit,
    /// Only items strictly after this position (`created_at`, `id` ascending).
    pub after: Option<Position>,
}

/// The query parameters of a list request, as sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListParams<'a> {
    pub platform: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub cursor: Option<&'a str>,
}

impl ListQuery {
    /// Parses the parameters, reporting every problem with the parameter's name.
    pub fn parse(params: ListParams<'_>) -> Result<ListQuery, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let platform = params.platform.and_then(|p| {
            p.parse::<Platform>()
                .map_err(|e| errors.add("platform", e.to_string()))
                .ok()
        });
        let provider = params.provider.and_then(|p| {
            p.parse::<Provider>()
                .map_err(|e| errors.add("provider", e.to_string()))
                .ok()
        });
        let limit = PageLimit::parse(params.limit, PageLimit::DEFAULT, &mut errors);
        let after = params.cursor.and_then(|c| {
            let pos = Position::from_cursor(LIST_CURSOR, c);
            if pos.is_none() {
                errors.add("cursor", "is not a cursor returned by this API");
            }
            pos
        });
        if let (Some(platform), Some(provider)) = (platform, provider) {
            if provider.platform() != platform {
                errors.add(
                    "platform",
                    format!(
                        "must be \"{}\" for provider {provider}",
                        provider.platform()
                    ),
                );
            }
        }
        errors.into_result(ListQuery {
            platform,
            provider,
            limit,
            after,
        })
    }
}

/// Now, truncated to milliseconds (the precision of the API and of every store).
pub fn now_millis() -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc())
}

/// The `updatedAt` of a change: now, but strictly after `previous` (so it changes on every
/// update, even within one millisecond). `None` only at the very end of the time range.
pub fn next_update_time(previous: OffsetDateTime) -> Option<OffsetDateTime> {
    let after = previous.checked_add(time::Duration::milliseconds(1))?;
    Some(now_millis().max(after))
}

pub fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_parse_with_every_problem_named() {
        let q = ListQuery::parse(ListParams {
            platform: Some("cloud"),
            provider: Some("s3"),
            limit: Some("5"),
            cursor: None,
        })
        .unwrap();
        assert_eq!(q.limit.get(), 5);
        assert_eq!(q.provider, Some(Provider::S3));
        let err = ListQuery::parse(ListParams {
            platform: Some("cloud"),
            provider: Some("zendesk"),
            limit: Some("0"),
            cursor: Some("nope"),
        })
        .unwrap_err();
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["limit", "cursor", "platform"]);
    }

    #[test]
    fn the_update_time_never_overflows() {
        let end = time::PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(next_update_time(end), None);
        let t = truncate_to_millis(OffsetDateTime::now_utc());
        assert!(next_update_time(t).is_some_and(|n| n > t));
    }
}
