//! Rate limits (API.md section 8): per API key, a GCRA token bucket (`governor`) over every
//! authenticated request (`limits.requests_per_minute`) and a stricter one over the requests
//! that call a provider (`limits.outbound_per_minute`); per account, a cap on provider calls in
//! flight at once (`limits.outbound_concurrency_per_account`), so that one account cannot take
//! the whole verification capacity. All of them are per replica.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use integrations_domain::{AccountId, KeyId};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

type Keyed =
    RateLimiter<KeyId, DefaultKeyedStateStore<KeyId>, DefaultClock, StateInformationMiddleware>;

/// The limits of [`crate::ApiConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    /// Per key, all endpoints; 0 = none.
    pub requests_per_minute: u32,
    /// Per key, endpoints that call a provider; 0 = none.
    pub outbound_per_minute: u32,
    /// Per account, provider calls in flight; 0 = none.
    pub outbound_concurrency_per_account: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            requests_per_minute: 600,
            outbound_per_minute: 60,
            outbound_concurrency_per_account: 32,
        }
    }
}

/// The state of the request limit after a request: the `X-RateLimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the full quota is back.
    pub reset_secs: u64,
}

/// Why a request is refused: over a limit, retry after so many seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Requests {
        retry_after_secs: u64,
        quotas: Quotas,
    },
    Outbound {
        retry_after_secs: u64,
    },
    Concurrency,
}

/// The limiters of one replica.
pub struct Limits {
    settings: LimitSettings,
    requests: Option<Keyed>,
    outbound: Option<Keyed>,
    in_flight: Mutex<HashMap<AccountId, Arc<Semaphore>>>,
}

fn limiter(per_minute: u32) -> Option<Keyed> {
    NonZeroU32::new(per_minute).map(|n| {
        RateLimiter::keyed(Quota::per_minute(n)).with_middleware::<StateInformationMiddleware>()
    })
}

/// Seconds to wait, rounded up, at least one.
fn secs(d: std::time::Duration) -> u64 {
    (d.as_millis().div_ceil(1000) as u64).max(1)
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            settings,
            requests: limiter(settings.requests_per_minute),
            outbound: limiter(settings.outbound_per_minute),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `key`. `Ok(None)` when there is no request limit.
    pub fn request(&self, key: &KeyId) -> Result<Option<Quotas>, Refusal> {
        let Some(limiter) = &self.requests else {
            return Ok(None);
        };
        let limit = self.settings.requests_per_minute;
        // Time to earn one request back.
        let per_request = 60.0 / f64::from(limit);
        match limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let missing = limit.saturating_sub(remaining);
                Ok(Some(Quotas {
                    limit,
                    remaining,
                    reset_secs: (f64::from(missing) * per_request).ceil() as u64,
                }))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Refusal::Requests {
                    retry_after_secs: secs(wait),
                    quotas: Quotas {
                        limit,
                        remaining: 0,
                        reset_secs: (f64::from(limit) * per_request).ceil() as u64,
                    },
                })
            }
        }
    }

    /// Counts one provider call of `key` and takes a slot of `account`'s provider calls in
    /// flight, held until the permit is dropped.
    pub fn outbound(
        &self,
        key: &KeyId,
        account: AccountId,
    ) -> Result<Option<OwnedSemaphorePermit>, Refusal> {
        if let Some(limiter) = &self.outbound {
            if let Err(not_until) = limiter.check_key(key) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Err(Refusal::Outbound {
                    retry_after_secs: secs(wait),
                });
            }
        }
        let cap = self.settings.outbound_concurrency_per_account as usize;
        if cap == 0 {
            return Ok(None);
        }
        let semaphore = {
            let Ok(mut map) = self.in_flight.lock() else {
                return Ok(None);
            };
            // Forget accounts with nothing in flight, so the map stays as small as the
            // accounts that are busy right now.
            if map.len() > 10_000 {
                map.retain(|_, s| s.available_permits() < cap);
            }
            map.entry(account)
                .or_insert_with(|| Arc::new(Semaphore::new(cap)))
                .clone()
        };
        semaphore
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| Refusal::Concurrency)
    }

    /// Drops the state of keys idle for a while (called periodically).
    pub fn forget_idle(&self) {
        for limiter in [&self.requests, &self.outbound].into_iter().flatten() {
            limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> KeyId {
        KeyId::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_key_gets_its_quota_then_a_wait() {
        let limits = Limits::new(LimitSettings {
            requests_per_minute: 3,
            outbound_per_minute: 1,
            outbound_concurrency_per_account: 1,
        });
        let a = key("aaaaaaaa");
        let q = limits.request(&a).unwrap().unwrap();
        assert_eq!((q.limit, q.remaining), (3, 2));
        assert!(q.reset_secs >= 20);
        limits.request(&a).unwrap();
        assert_eq!(limits.request(&a).unwrap().unwrap().remaining, 0);
        match limits.request(&a) {
            Err(Refusal::Requests {
                retry_after_secs, ..
            }) => {
                assert!((1..=20).contains(&retry_after_secs))
            }
            other => panic!("{other:?}"),
        }
        // Another key has its own bucket.
        assert!(limits.request(&key("bbbbbbbb")).is_ok());

        let account = AccountId::new();
        let permit = limits.outbound(&a, account).unwrap();
        assert!(permit.is_some());
        assert!(matches!(
            limits.outbound(&key("cccccccc"), account),
            Err(Refusal::Concurrency)
        ));
        drop(permit);
        assert!(matches!(
            limits.outbound(&a, account),
            Err(Refusal::Outbound { .. })
        ));
    }

    #[test]
    fn zero_means_no_limit() {
        let limits = Limits::new(LimitSettings {
            requests_per_minute: 0,
            outbound_per_minute: 0,
            outbound_concurrency_per_account: 0,
        });
        for _ in 0..1000 {
            assert_eq!(limits.request(&key("aaaaaaaa")), Ok(None));
            assert!(limits.outbound(&key("aaaaaaaa"), AccountId::new()).is_ok());
        }
    }
}
