//! API keys: authentication, creation, listing, revocation, and the first key.

use crate::access::{
    presented_key_id, AccountName, ApiKey, ApiKeyDigest, ApiKeyRecord, AuthError, KeyId, Principal,
    Scopes,
};
use crate::integration::now_millis;
use crate::ports::{ApiKeyStore, Entropy, NewApiKey, RepositoryError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

use super::ServiceError;

/// The account of the key `serve` creates on an empty database.
pub const DEFAULT_ACCOUNT: &str = "default";

/// How often a key id collision (48 bits) is retried with a new key before giving up.
const KEY_ATTEMPTS: usize = 4;
/// `last_used_at` is written at most this often per key and process.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Past this many cached keys the cache starts over (bounded memory whatever the traffic).
const CACHE_CAPACITY: usize = 10_000;

/// Why authentication did not succeed: a bad key (401) or the store (503/500).
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error(transparent)]
    Auth(AuthError),
    #[error(transparent)]
    Repository(RepositoryError),
}

struct Cached {
    fetched: Instant,
    record: ApiKeyRecord,
}

/// Authenticates API keys and manages them.
///
/// Lookups of a key id are cached for `cache_ttl` (a revoked key stops working on every
/// replica within that time); the presented key's digest is compared with the stored one in
/// constant time on every request, cached or not.
///
/// One lookup per key id at a time: when many requests with the same uncached key arrive at
/// once (a burst of verifications, or the moment a busy key's entry expires), the first asks
/// the store and the others wait for its answer, instead of each taking a database connection
/// (on PostgreSQL, a thousand at once made the pool open connections, whose server processes
/// took the CPU the burst needed). If that lookup fails, those waiting fail with it rather than
/// queueing one more lookup each behind a store that is not answering.
pub struct AccessService<K, E> {
    keys: K,
    entropy: E,
    cache_ttl: Duration,
    cache: Mutex<HashMap<KeyId, Cached>>,
    touched: Mutex<HashMap<KeyId, Instant>>,
    /// The lookups in flight, by key id; each gate holds when its last lookup failed.
    lookups: Mutex<HashMap<KeyId, Arc<Gate>>>,
}

type Gate = futures_util::lock::Mutex<Option<Instant>>;

impl<K: ApiKeyStore, E: Entropy> AccessService<K, E> {
    /// `cache_ttl` zero disables the cache.
    pub fn new(keys: K, entropy: E, cache_ttl: Duration) -> Self {
        Self {
            keys,
            entropy,
            cache_ttl,
            cache: Mutex::new(HashMap::new()),
            touched: Mutex::new(HashMap::new()),
            lookups: Mutex::new(HashMap::new()),
        }
    }

    /// The caller of a presented bearer key.
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Principal, AuthFailure> {
        let presented = presented
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(AuthFailure::Auth(AuthError::Missing))?;
        let key_id = presented_key_id(presented).ok_or(AuthFailure::Auth(AuthError::Invalid))?;
        let key_id = KeyId::parse(key_id).map_err(|_| AuthFailure::Auth(AuthError::Invalid))?;
        let digest = ApiKeyDigest::of(presented);
        let record = match self.cached(&key_id) {
            Some(r) => r,
            None => self.look_up(&key_id, &digest).await?,
        };
        // Constant time: the digests are compared in full whatever they hold.
        if !record.digest.ct_eq(&digest) || record.revoked_at.is_some() {
            return Err(AuthFailure::Auth(AuthError::Invalid));
        }
        self.touch(&record.key_id).await;
        Ok(Principal {
            account: record.account_id,
            key_id: record.key_id,
            scopes: record.scopes,
        })
    }

    /// A new key for account `name` (created when missing). The key is returned once and
    /// only its digest is stored.
    pub async fn create_key(
        &self,
        account: &AccountName,
        scopes: Scopes,
        label: Option<String>,
    ) -> Result<(ApiKey, ApiKeyRecord), ServiceError> {
        let account_id = self.keys.ensure_account(account).await?;
        for _ in 0..KEY_ATTEMPTS {
            let (key, new) = self.draw(scopes, label.clone())?;
            match self.keys.insert_api_key(account_id, &new).await {
                Ok(()) => {
                    tracing::info!(key_id = %new.key_id, %account, scopes = %scopes, "API key created");
                    let record = ApiKeyRecord {
                        key_id: new.key_id,
                        account_id,
                        account_name: account.clone(),
                        digest: new.digest,
                        scopes,
                        label: new.label,
                        created_at: new.created_at,
                        last_used_at: None,
                        revoked_at: None,
                    };
                    return Ok((key, record));
                }
                Err(RepositoryError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::internal("could not draw an unused key id"))
    }

    /// On a database without any key: a first key for account [`DEFAULT_ACCOUNT`] with the
    /// default scopes, created exactly once even when replicas start together.
    pub async fn bootstrap(&self) -> Result<Option<ApiKey>, ServiceError> {
        let name = AccountName::parse(DEFAULT_ACCOUNT).map_err(ServiceError::internal)?;
        let (key, new) = self.draw(Scopes::DEFAULT, Some("created by the first start".into()))?;
        let created = self.keys.insert_first_api_key(&name, &new).await?;
        if created.is_some() {
            tracing::info!(key_id = %new.key_id, "created the first API key");
        }
        Ok(created.map(|_| key))
    }

    pub async fn list(
        &self,
        account: Option<&AccountName>,
    ) -> Result<Vec<ApiKeyRecord>, ServiceError> {
        Ok(self.keys.list_api_keys(account).await?)
    }

    /// Revokes a key: it answers 401 from now on (on other replicas within the cache TTL).
    pub async fn revoke(&self, key_id: &KeyId) -> Result<(), ServiceError> {
        self.keys.revoke_api_key(key_id, now_millis()).await?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(key_id);
        }
        tracing::info!(%key_id, "API key revoked");
        Ok(())
    }

    fn draw(
        &self,
        scopes: Scopes,
        label: Option<String>,
    ) -> Result<(ApiKey, NewApiKey), ServiceError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        self.entropy
            .fill(&mut bytes[..])
            .map_err(|e| ServiceError::Internal(Box::new(e)))?;
        let key = ApiKey::from_random_bytes(&bytes);
        let new = NewApiKey {
            key_id: key.key_id(),
            digest: key.digest(),
            scopes,
            label,
            created_at: now_millis(),
        };
        Ok((key, new))
    }

    /// The key's record from the store, one lookup per key id at a time (see the type's doc).
    async fn look_up(
        &self,
        key_id: &KeyId,
        digest: &ApiKeyDigest,
    ) -> Result<ApiKeyRecord, AuthFailure> {
        if self.cache_ttl.is_zero() {
            return self.fetch(key_id, digest).await;
        }
        let arrived = Instant::now();
        let gate = InFlight::join(&self.lookups, key_id);
        let mut failed_at = gate.gate.lock().await;
        if let Some(record) = self.cached(key_id) {
            return Ok(record);
        }
        if failed_at.is_some_and(|at| at >= arrived) {
            return Err(AuthFailure::Repository(RepositoryError::unavailable(
                "the key lookup this request waited for failed",
            )));
        }
        let outcome = self.fetch(key_id, digest).await;
        if let Err(AuthFailure::Repository(_)) = &outcome {
            *failed_at = Some(Instant::now());
        }
        outcome
    }

    /// The key's record from the store (cached when found).
    async fn fetch(
        &self,
        key_id: &KeyId,
        digest: &ApiKeyDigest,
    ) -> Result<ApiKeyRecord, AuthFailure> {
        let found = self
            .keys
            .find_api_key(key_id, digest)
            .await
            .map_err(AuthFailure::Repository)?;
        let record = found.ok_or(AuthFailure::Auth(AuthError::Invalid))?;
        self.remember(&record);
        Ok(record)
    }

    fn cached(&self, key_id: &KeyId) -> Option<ApiKeyRecord> {
        if self.cache_ttl.is_zero() {
            return None;
        }
        let cache = self.cache.lock().ok()?;
        cache
            .get(key_id)
            .filter(|c| c.fetched.elapsed() < self.cache_ttl)
            .map(|c| c.record.clone())
    }

    fn remember(&self, record: &ApiKeyRecord) {
        if self.cache_ttl.is_zero() {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(
                record.key_id.clone(),
                Cached {
                    fetched: Instant::now(),
                    record: record.clone(),
                },
            );
        }
    }

    /// Records that a key was used, at most once a minute per key (best effort).
    async fn touch(&self, key_id: &KeyId) {
        let due = match self.touched.lock() {
            Ok(mut touched) => {
                let due = touched
                    .get(key_id)
                    .is_none_or(|at| at.elapsed() >= TOUCH_EVERY);
                if due {
                    if touched.len() >= CACHE_CAPACITY {
                        touched.clear();
                    }
                    touched.insert(key_id.clone(), Instant::now());
                }
                due
            }
            Err(_) => false,
        };
        if due {
            if let Err(e) = self.keys.touch_api_key(key_id, now_millis()).await {
                tracing::warn!(%key_id, error = %e, "could not record the key's last use");
            }
        }
    }
}

/// A request's place at a key id's gate; the last to leave removes the gate, so the map only
/// holds the lookups in flight (also when a request is dropped while it waits).
struct InFlight<'a> {
    lookups: &'a Mutex<HashMap<KeyId, Arc<Gate>>>,
    key_id: &'a KeyId,
    gate: Arc<Gate>,
}

impl<'a> InFlight<'a> {
    fn join(lookups: &'a Mutex<HashMap<KeyId, Arc<Gate>>>, key_id: &'a KeyId) -> Self {
        let gate = match lookups.lock() {
            Ok(mut map) => map.entry(key_id.clone()).or_default().clone(),
            // A poisoned map: a gate of its own (no sharing, no harm).
            Err(_) => Arc::default(),
        };
        Self {
            lookups,
            key_id,
            gate,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.lookups.lock() {
            // Clones are only taken under this lock: two means the map's and this one.
            let last = Arc::strong_count(&self.gate) <= 2;
            if last
                && map
                    .get(self.key_id)
                    .is_some_and(|g| Arc::ptr_eq(g, &self.gate))
            {
                map.remove(self.key_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Scope;
    use crate::testing::{CountingEntropy, InMemoryRepository};
    use std::sync::Arc;

    fn service(
        ttl: Duration,
    ) -> (
        AccessService<Arc<InMemoryRepository>, CountingEntropy>,
        Arc<InMemoryRepository>,
    ) {
        let repo = Arc::new(InMemoryRepository::new());
        (
            AccessService::new(repo.clone(), CountingEntropy::default(), ttl),
            repo,
        )
    }

    #[tokio::test]
    async fn keys_authenticate_with_their_scopes_until_revoked() {
        let (svc, _) = service(Duration::ZERO);
        let acme = AccountName::parse("acme").unwrap();
        let (key, record) = svc
            .create_key(&acme, Scopes::of([Scope::Use]), Some("worker".into()))
            .await
            .unwrap();
        let p = svc.authenticate(Some(key.expose())).await.unwrap();
        assert_eq!(p.account, record.account_id);
        assert_eq!(p.scopes, Scopes::of([Scope::Use]));
        assert!(matches!(
            svc.authenticate(None).await,
            Err(AuthFailure::Auth(AuthError::Missing))
        ));
        // Same key id, other secret: refused by the digest comparison.
        let forged = format!("{}{}", &key.expose()[..11], "A".repeat(35));
        assert!(matches!(
            svc.authenticate(Some(&forged)).await,
            Err(AuthFailure::Auth(AuthError::Invalid))
        ));
        svc.revoke(&record.key_id).await.unwrap();
        assert!(matches!(
            svc.authenticate(Some(key.expose())).await,
            Err(AuthFailure::Auth(AuthError::Invalid))
        ));
        let listed = svc.list(Some(&acme)).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].revoked_at.is_some());
        assert!(listed[0].last_used_at.is_some());
    }

    /// Random bytes whose key id begins with `ik_` (base64url of 8a 4f fe is `ik_-`).
    struct KeyIdLikeThePrefix;

    impl Entropy for KeyIdLikeThePrefix {
        fn fill(&self, dest: &mut [u8]) -> Result<(), crate::ports::EntropyError> {
            dest.fill(7);
            dest[..3].copy_from_slice(&[0x8a, 0x4f, 0xfe]);
            Ok(())
        }
    }

    /// It happened in CI (`ik_ik_a9q8k…`): such a key could neither authenticate nor be
    /// listed, its stored id read back as invalid.
    #[tokio::test]
    async fn a_key_whose_id_begins_with_the_prefix_works_like_any_other() {
        let repo = Arc::new(InMemoryRepository::new());
        let svc = AccessService::new(repo, KeyIdLikeThePrefix, Duration::ZERO);
        let acme = AccountName::parse("acme").unwrap();
        let (key, record) = svc.create_key(&acme, Scopes::DEFAULT, None).await.unwrap();
        assert!(
            record.key_id.as_str().starts_with("ik_"),
            "{}",
            record.key_id
        );
        let p = svc.authenticate(Some(key.expose())).await.unwrap();
        assert_eq!(p.key_id, record.key_id);
        let typed = KeyId::parse(record.key_id.as_str()).unwrap();
        svc.revoke(&typed).await.unwrap();
        assert!(matches!(
            svc.authenticate(Some(key.expose())).await,
            Err(AuthFailure::Auth(AuthError::Invalid))
        ));
    }

    #[tokio::test]
    async fn a_cached_key_is_revoked_elsewhere_within_the_ttl() {
        let (svc, repo) = service(Duration::from_millis(200));
        let (key, record) = svc
            .create_key(&AccountName::parse("acme").unwrap(), Scopes::DEFAULT, None)
            .await
            .unwrap();
        svc.authenticate(Some(key.expose())).await.unwrap();
        // Another replica revokes it: this one's cache still answers for up to the TTL...
        repo.revoke_api_key(&record.key_id, now_millis())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        // ...and not after it.
        assert!(svc.authenticate(Some(key.expose())).await.is_err());
    }

    /// A key store whose lookups take 20 ms and are counted; `failing` makes them fail.
    struct SlowLookups {
        inner: Arc<InMemoryRepository>,
        finds: std::sync::atomic::AtomicUsize,
        failing: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl ApiKeyStore for SlowLookups {
        async fn ensure_account(
            &self,
            n: &AccountName,
        ) -> Result<crate::AccountId, RepositoryError> {
            self.inner.ensure_account(n).await
        }
        async fn insert_api_key(
            &self,
            a: crate::AccountId,
            k: &NewApiKey,
        ) -> Result<(), RepositoryError> {
            self.inner.insert_api_key(a, k).await
        }
        async fn insert_first_api_key(
            &self,
            n: &AccountName,
            k: &NewApiKey,
        ) -> Result<Option<crate::AccountId>, RepositoryError> {
            self.inner.insert_first_api_key(n, k).await
        }
        async fn find_api_key(
            &self,
            k: &KeyId,
            d: &ApiKeyDigest,
        ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
            use std::sync::atomic::Ordering::SeqCst;
            self.finds.fetch_add(1, SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.failing.load(SeqCst) {
                return Err(RepositoryError::unavailable("the database is down"));
            }
            self.inner.find_api_key(k, d).await
        }
        async fn list_api_keys(
            &self,
            a: Option<&AccountName>,
        ) -> Result<Vec<ApiKeyRecord>, RepositoryError> {
            self.inner.list_api_keys(a).await
        }
        async fn revoke_api_key(
            &self,
            k: &KeyId,
            at: time::OffsetDateTime,
        ) -> Result<(), RepositoryError> {
            self.inner.revoke_api_key(k, at).await
        }
        async fn touch_api_key(
            &self,
            k: &KeyId,
            at: time::OffsetDateTime,
        ) -> Result<(), RepositoryError> {
            self.inner.touch_api_key(k, at).await
        }
    }

    fn slow_service(
        ttl: Duration,
    ) -> (
        AccessService<Arc<SlowLookups>, CountingEntropy>,
        Arc<SlowLookups>,
    ) {
        let store = Arc::new(SlowLookups {
            inner: Arc::new(InMemoryRepository::new()),
            finds: Default::default(),
            failing: Default::default(),
        });
        (
            AccessService::new(store.clone(), CountingEntropy::default(), ttl),
            store,
        )
    }

    #[tokio::test]
    async fn requests_with_the_same_uncached_key_share_one_lookup() {
        use std::sync::atomic::Ordering::SeqCst;
        let (svc, store) = slow_service(Duration::from_secs(60));
        let (key, _) = svc
            .create_key(&AccountName::parse("acme").unwrap(), Scopes::DEFAULT, None)
            .await
            .unwrap();
        let (other, _) = svc
            .create_key(&AccountName::parse("other").unwrap(), Scopes::DEFAULT, None)
            .await
            .unwrap();
        let burst = (0..50).map(|i| {
            let presented = if i % 10 == 0 {
                other.expose()
            } else {
                key.expose()
            };
            svc.authenticate(Some(presented))
        });
        let answers = futures_util::future::join_all(burst).await;
        assert!(answers.iter().all(Result::is_ok));
        // One lookup per key id, not one per request.
        assert_eq!(store.finds.load(SeqCst), 2);
        assert!(
            svc.lookups.lock().unwrap().is_empty(),
            "no gate is left behind"
        );

        // A wrong secret under a cached key id is still refused (digest compared every time).
        let forged = format!("{}{}", &key.expose()[..11], "A".repeat(35));
        assert!(matches!(
            svc.authenticate(Some(&forged)).await,
            Err(AuthFailure::Auth(AuthError::Invalid))
        ));
    }

    #[tokio::test]
    async fn those_waiting_for_a_failed_lookup_fail_with_it() {
        use std::sync::atomic::Ordering::SeqCst;
        let (svc, store) = slow_service(Duration::from_secs(60));
        let (key, _) = svc
            .create_key(&AccountName::parse("acme").unwrap(), Scopes::DEFAULT, None)
            .await
            .unwrap();
        store.failing.store(true, SeqCst);
        let answers =
            futures_util::future::join_all((0..20).map(|_| svc.authenticate(Some(key.expose()))))
                .await;
        assert!(answers.iter().all(|a| matches!(
            a,
            Err(AuthFailure::Repository(RepositoryError::Unavailable(_)))
        )));
        // One lookup failed; the other nineteen did not queue one more each behind it.
        assert_eq!(store.finds.load(SeqCst), 1);
        // A request arriving after the failure asks the store again.
        store.failing.store(false, SeqCst);
        svc.authenticate(Some(key.expose())).await.unwrap();
        assert_eq!(store.finds.load(SeqCst), 2);
        assert!(svc.lookups.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_first_key_is_created_once() {
        let (svc, _) = service(Duration::ZERO);
        let first = svc.bootstrap().await.unwrap().expect("first key");
        assert!(svc.bootstrap().await.unwrap().is_none());
        let p = svc.authenticate(Some(first.expose())).await.unwrap();
        assert_eq!(p.scopes, Scopes::DEFAULT);
    }
}
