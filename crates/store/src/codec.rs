//! Conversions between domain values and column values shared by both backends.

use integrations_domain::integration::truncate_to_millis;
use integrations_domain::{
    AccountId, Action, ApiKeyDigest, FailureReason, IntegrationId, KeyId, Outcome, Provider,
    PublicFields, RepositoryError, Scopes, SealContext, SealedSecrets, VaultError, Verification,
    VerificationFailure,
};
use std::collections::BTreeMap;
use std::net::IpAddr;
use time::OffsetDateTime;

/// `kek_id` is a `u32`; both backends keep it in a 64-bit integer column with a range check.
pub(crate) fn kek_to_db(kek_id: u32) -> i64 {
    i64::from(kek_id)
}

pub(crate) fn kek_from_db(kek_id: i64) -> Result<u32, RepositoryError> {
    u32::try_from(kek_id)
        .map_err(|_| RepositoryError::other(format!("stored kek_id {kek_id} is out of range")))
}

/// Milliseconds since the Unix epoch, rounding down (what the API shows).
pub(crate) fn to_millis(t: OffsetDateTime) -> i64 {
    let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
    // `OffsetDateTime` spans at most ±9999 years (about ±3.2e14 ms), far inside i64.
    i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX })
}

pub(crate) fn from_millis(millis: i64) -> Result<OffsetDateTime, RepositoryError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| RepositoryError::other(format!("stored timestamp {millis} is out of range")))
}

/// A timestamp as stored on PostgreSQL: UTC, truncated to milliseconds.
pub(crate) fn to_utc_millis(t: OffsetDateTime) -> OffsetDateTime {
    truncate_to_millis(t.to_offset(time::UtcOffset::UTC))
}

pub(crate) fn public_fields_to_json(fields: &PublicFields) -> Result<String, RepositoryError> {
    let map: BTreeMap<&str, &str> = fields.iter().collect();
    serde_json::to_string(&map).map_err(RepositoryError::other)
}

pub(crate) fn public_fields_from_json(json: &str) -> Result<PublicFields, RepositoryError> {
    let map: BTreeMap<String, String> = serde_json::from_str(json)
        .map_err(|e| RepositoryError::other(format!("stored public fields are not valid: {e}")))?;
    Ok(map.into_iter().collect())
}

pub(crate) fn provider_from_db(provider: &str) -> Result<Provider, RepositoryError> {
    provider
        .parse()
        .map_err(|_| RepositoryError::other(format!("stored provider {provider:?} is unknown")))
}

/// The four `last_verification_*` columns of a verification (all `None` without one).
pub(crate) struct VerificationColumns<T> {
    pub at: Option<T>,
    pub successful: Option<bool>,
    pub message: Option<String>,
    pub reason: Option<String>,
}

impl<T> VerificationColumns<T> {
    pub(crate) fn of(v: Option<&Verification>, time: impl FnOnce(OffsetDateTime) -> T) -> Self {
        match v {
            None => Self {
                at: None,
                successful: None,
                message: None,
                reason: None,
            },
            Some(v) => Self {
                at: Some(time(v.at)),
                successful: Some(v.is_successful()),
                message: Some(v.message().to_owned()),
                reason: v.reason().map(|r| r.as_str().to_owned()),
            },
        }
    }

    pub(crate) fn into_verification(
        self,
        time: impl FnOnce(T) -> Result<OffsetDateTime, RepositoryError>,
    ) -> Result<Option<Verification>, RepositoryError> {
        match (self.at, self.successful, self.message) {
            (None, None, None) => Ok(None),
            (Some(at), Some(true), Some(message)) => Ok(Some(Verification {
                at: time(at)?,
                outcome: Outcome::Connected { message },
            })),
            (Some(at), Some(false), Some(message)) => {
                // A failure stored without a reason (never written by this version) reads as
                // a provider error rather than failing the whole read.
                let reason = match self.reason {
                    None => FailureReason::ProviderError,
                    Some(r) => reason_from_db(&r)?,
                };
                Ok(Some(Verification::failed(
                    time(at)?,
                    VerificationFailure::new(reason, message),
                )))
            }
            _ => Err(RepositoryError::other(
                "stored last verification is incomplete",
            )),
        }
    }
}

/// What the vault needs to rewrap a stored row. A row whose columns cannot be read is
/// reported as `UnsupportedFormat` (left as it is; the sweep goes on).
pub(crate) fn rewrap_input(
    account: uuid::Uuid,
    id: IntegrationId,
    provider: &str,
    kek_id: i64,
    blob: Vec<u8>,
) -> Result<(SealContext, SealedSecrets), VaultError> {
    let provider = provider_from_db(provider).map_err(|_| VaultError::UnsupportedFormat)?;
    let kek_id = kek_from_db(kek_id).map_err(|_| VaultError::UnsupportedFormat)?;
    Ok((
        SealContext {
            account_id: AccountId::from_uuid(account),
            integration_id: id,
            provider,
        },
        SealedSecrets { kek_id, blob },
    ))
}

pub(crate) fn reason_from_db(r: &str) -> Result<FailureReason, RepositoryError> {
    r.parse::<FailureReason>()
        .map_err(|_| RepositoryError::other(format!("stored failure reason {r:?} is unknown")))
}

pub(crate) fn action_from_db(a: &str) -> Result<Action, RepositoryError> {
    a.parse::<Action>()
        .map_err(|_| RepositoryError::other(format!("stored action {a:?} is unknown")))
}

pub(crate) fn scopes_from_db(s: &str) -> Result<Scopes, RepositoryError> {
    Scopes::parse(s).map_err(|_| RepositoryError::other(format!("stored scopes {s:?} are invalid")))
}

pub(crate) fn key_id_from_db(k: &str) -> Result<KeyId, RepositoryError> {
    KeyId::parse(k).map_err(|_| RepositoryError::other(format!("stored key id {k:?} is invalid")))
}

pub(crate) fn ip_from_db(ip: Option<String>) -> Result<Option<IpAddr>, RepositoryError> {
    ip.map(|ip| {
        ip.parse::<IpAddr>()
            .map_err(|_| RepositoryError::other(format!("stored client address {ip:?} is invalid")))
    })
    .transpose()
}

pub(crate) fn digest_from_db(d: &[u8]) -> Result<ApiKeyDigest, RepositoryError> {
    let bytes: [u8; 32] = d
        .try_into()
        .map_err(|_| RepositoryError::other("stored key digest is not 32 bytes"))?;
    Ok(ApiKeyDigest::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn millis_round_trip_and_round_down() {
        for t in [
            datetime!(2024-02-26 16:24:18.676 UTC),
            datetime!(1969-12-31 23:59:59.999 UTC),
            datetime!(1970-01-01 0:00 UTC),
        ] {
            assert_eq!(from_millis(to_millis(t)).unwrap(), t);
        }
        assert_eq!(
            to_millis(datetime!(1969-12-31 23:59:59.9995 UTC)),
            to_millis(datetime!(1969-12-31 23:59:59.999 UTC))
        );
        assert_eq!(
            to_utc_millis(datetime!(2024-02-26 18:24:18.676999 +2)),
            datetime!(2024-02-26 16:24:18.676 UTC)
        );
    }

    #[test]
    fn kek_ids_cover_u32() {
        assert_eq!(kek_from_db(kek_to_db(u32::MAX)).unwrap(), u32::MAX);
        assert!(kek_from_db(-1).is_err());
    }

    #[test]
    fn public_fields_round_trip() {
        let mut f = PublicFields::new();
        f.insert("bucket", "b\"x");
        f.insert("region", "eu-west-1");
        let json = public_fields_to_json(&f).unwrap();
        assert_eq!(public_fields_from_json(&json).unwrap(), f);
        assert!(public_fields_from_json("[1]").is_err());
    }

    #[test]
    fn incomplete_verification_is_refused() {
        let cols = VerificationColumns::<i64> {
            at: Some(1),
            successful: None,
            message: None,
            reason: None,
        };
        assert!(cols.into_verification(from_millis).is_err());
    }
}
