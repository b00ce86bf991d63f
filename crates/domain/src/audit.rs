//! The audit trail (API.md section 8): who did what to which integration, and how it ended.
//! Events never hold a secret or a credential value.

use crate::access::{KeyId, Principal};
use crate::ids::{AccountId, IntegrationId};
use crate::page::{PageLimit, Position};
use crate::verification::FailureReason;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Created,
    Updated,
    Deleted,
    Verified,
    Exported,
    DeletedObject,
    Imported,
    Revealed,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Created,
        Action::Updated,
        Action::Deleted,
        Action::Verified,
        Action::Exported,
        Action::DeletedObject,
        Action::Imported,
        Action::Revealed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
            Action::Verified => "verified",
            Action::Exported => "exported",
            Action::DeletedObject => "deleted_object",
            Action::Imported => "imported",
            Action::Revealed => "revealed",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown action {s:?}"))
    }
}

/// Who acted, with what request: the context every use case receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    /// `X-Request-Id` of the HTTP request (none for embedders that have no request).
    pub request_id: Option<String>,
    /// The TCP peer, or the first `X-Forwarded-For` address behind a trusted proxy.
    pub client_ip: Option<IpAddr>,
}

impl Actor {
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            request_id: None,
            client_ip: None,
        }
    }

    pub fn account(&self) -> AccountId {
        self.principal.account
    }

    /// An event of this actor, now.
    pub fn event(
        &self,
        action: Action,
        integration: Option<IntegrationId>,
        outcome: Result<(), FailureReason>,
    ) -> AuditEvent {
        AuditEvent {
            // Time-ordered, monotonic within the process: events of one millisecond still
            // list in the order they happened.
            id: Uuid::now_v7(),
            account_id: self.principal.account,
            at: crate::integration::now_millis(),
            action,
            integration_id: integration,
            reason: outcome.err(),
            key_id: Some(self.principal.key_id.clone()),
            request_id: self.request_id.clone(),
            client_ip: self.client_ip,
        }
    }
}

/// One recorded action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub account_id: AccountId,
    pub at: OffsetDateTime,
    pub action: Action,
    /// `None` for account events (a verify of credentials in plain text).
    pub integration_id: Option<IntegrationId>,
    /// `None` on success; the failure's reason code otherwise.
    pub reason: Option<FailureReason>,
    pub key_id: Option<KeyId>,
    pub request_id: Option<String>,
    pub client_ip: Option<IpAddr>,
}

impl AuditEvent {
    pub fn is_success(&self) -> bool {
        self.reason.is_none()
    }

    pub fn position(&self) -> Position {
        Position {
            at: self.at,
            id: self.id,
        }
    }
}

/// A page request over events, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EventQuery {
    /// Only the events of this integration.
    pub integration: Option<IntegrationId>,
    pub limit: PageLimit,
    /// Only events strictly older than this position.
    pub before: Option<Position>,
}
