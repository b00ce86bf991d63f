//! The result of a connection check.

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

impl FromStr for FailureReason {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// A check that ran and failed. `message` is written for the user, names the cause precisely
/// and never contains a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationFailure {
    pub reason: FailureReason,
    pub message: String,
}

impl VerificationFailure {
    pub fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl std::error::Error for VerificationFailure {}

/// The outcome of one check, as recorded in `lastVerification` and returned by verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub at: OffsetDateTime,
    pub successful: bool,
    pub message: String,
    /// `None` on success.
    pub reason: Option<FailureReason>,
}
