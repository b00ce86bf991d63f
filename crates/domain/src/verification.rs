//! The result of a connection check.

use crate::provider::Platform;
use std::fmt;
use std::str::FromStr;
use time::OffsetDateTime;

/// Why a check failed: a small, stable set that clients may branch on (`reason` in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureReason {
    InvalidCredentials,
    InsufficientPermissions,
    NotFound,
    RateLimited,
    Timeout,
    Unreachable,
    ProviderError,
}

impl FailureReason {
    pub const ALL: [FailureReason; 7] = [
        FailureReason::InvalidCredentials,
        FailureReason::InsufficientPermissions,
        FailureReason::NotFound,
        FailureReason::RateLimited,
        FailureReason::Timeout,
        FailureReason::Unreachable,
        FailureReason::ProviderError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::InvalidCredentials => "invalid_credentials",
            FailureReason::InsufficientPermissions => "insufficient_permissions",
            FailureReason::NotFound => "not_found",
            FailureReason::RateLimited => "rate_limited",
            FailureReason::Timeout => "timeout",
            FailureReason::Unreachable => "unreachable",
            FailureReason::ProviderError => "provider_error",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the reason codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a failure reason")]
pub struct UnknownReason;

impl FromStr for FailureReason {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(UnknownReason)
    }
}

/// A check (or a provider call) that ran and failed. `message` is written for the user,
/// names the cause precisely and never contains a secret. `retry_after_secs` is the wait the
/// provider asked for when it rate limited us (1–3600, API.md section 6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationFailure {
    pub reason: FailureReason,
    pub message: String,
    pub retry_after_secs: Option<u32>,
}

impl VerificationFailure {
    pub fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// The same failure carrying the provider's requested wait, clamped to 1–3600 seconds.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.clamp(1, 3600) as u32);
        self
    }
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl std::error::Error for VerificationFailure {}

/// How a check ended: it cannot be "successful with a failure reason".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The credentials work; `message` is the contract's success message of the platform.
    Connected { message: String },
    /// The check ran and failed.
    Failed(VerificationFailure),
}

/// The outcome of one check, as recorded in `lastVerification` and returned by verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub at: OffsetDateTime,
    pub outcome: Outcome,
}

impl Verification {
    pub fn connected(at: OffsetDateTime, platform: Platform) -> Self {
        Self {
            at,
            outcome: Outcome::Connected {
                message: platform.success_message().to_owned(),
            },
        }
    }

    pub fn failed(at: OffsetDateTime, failure: VerificationFailure) -> Self {
        Self {
            at,
            outcome: Outcome::Failed(failure),
        }
    }

    pub fn is_successful(&self) -> bool {
        matches!(self.outcome, Outcome::Connected { .. })
    }

    pub fn message(&self) -> &str {
        match &self.outcome {
            Outcome::Connected { message } => message,
            Outcome::Failed(f) => &f.message,
        }
    }

    /// `None` on success.
    pub fn reason(&self) -> Option<FailureReason> {
        match &self.outcome {
            Outcome::Connected { .. } => None,
            Outcome::Failed(f) => Some(f.reason),
        }
    }
}
