//! Test doubles and the repository contract suite (feature `testing`).
//!
//! * [`InMemoryRepository`]: every storage port (`IntegrationRepository`, `AuditLog`,
//!   `ApiKeyStore`, `KeyRegistry`) in a mutex.
//! * [`ReversibleVault`]: a `CredentialVault` that binds blobs to their context but does NOT
//!   encrypt; for tests of other layers only.
//! * [`ScriptedVerifier`]: a `ConnectionVerifier` answering what the test told it to.
//! * [`CountingEntropy`]: deterministic "random" bytes.
//! * [`InMemoryObjects`]: an `ObjectStore` keeping objects in memory.
//! * [`ScriptedCatalogue`]: a `HelpCenterCatalogue` listing N scripted images.
//! * [`contract`]: the behaviour every storage adapter must show, run against each one.

pub mod contract;

pub use contract::{sample_event, sample_record};

use crate::access::{AccountName, ApiKeyRecord, KeyId};
use crate::audit::{AuditEvent, EventQuery};
use crate::credentials::{Credentials, SecretFields};
use crate::ids::{AccountId, IntegrationId};
use crate::integration::{IntegrationRecord, IntegrationView, ListQuery, Listed, SealedSecrets};
use crate::page::Page;
use crate::ports::{
    ApiKeyStore, AuditLog, ConnectionVerifier, CredentialVault, Entropy, EntropyError,
    IntegrationRepository, KeyRegistry, NewApiKey, RepositoryError, RewrapBatch, SealContext,
    VaultError,
};
use crate::verification::{Verification, VerificationFailure};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use time::OffsetDateTime;

#[derive(Default)]
struct State {
    integrations: BTreeMap<IntegrationId, IntegrationRecord>,
    events: Vec<AuditEvent>,
    accounts: HashMap<String, AccountId>,
    keys: Vec<ApiKeyRecord>,
    fingerprints: BTreeMap<u32, [u8; 32]>,
}

/// An in-memory store of everything. `set_available(false)` makes every call fail with
/// `Unavailable`.
#[derive(Default)]
pub struct InMemoryRepository {
    state: Mutex<State>,
    down: AtomicBool,
}

impl InMemoryRepository {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_available(&self, available: bool) {
        self.down.store(!available, Ordering::SeqCst);
    }

    /// Simulates another writer changing an integration (its version moves on).
    pub fn bump_updated_at(&self, account: AccountId, id: IntegrationId) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(r) = s
                .integrations
                .get_mut(&id)
                .filter(|r| r.account_id == account)
            {
                r.updated_at += time::Duration::milliseconds(1);
            }
        }
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, RepositoryError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(RepositoryError::unavailable("in-memory repository is down"));
        }
        self.state
            .lock()
            .map_err(|_| RepositoryError::other("in-memory repository lock poisoned"))
    }
}

#[async_trait]
impl IntegrationRepository for InMemoryRepository {
    async fn insert(
        &self,
        record: &IntegrationRecord,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        if s.integrations.contains_key(&record.id) {
            return Err(RepositoryError::Conflict(format!(
                "integration {} exists",
                record.id
            )));
        }
        s.integrations.insert(record.id, record.clone());
        s.events.push(event.clone());
        Ok(())
    }

    async fn get(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, RepositoryError> {
        self.state()?
            .integrations
            .get(&id)
            .filter(|r| r.account_id == account)
            .cloned()
            .ok_or(RepositoryError::NotFound)
    }

    async fn update(
        &self,
        record: &IntegrationRecord,
        expected_updated_at: OffsetDateTime,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        let row = s
            .integrations
            .get_mut(&record.id)
            .filter(|r| r.account_id == record.account_id)
            .ok_or(RepositoryError::NotFound)?;
        if row.updated_at != expected_updated_at {
            return Err(RepositoryError::Conflict(
                "the integration was changed meanwhile".into(),
            ));
        }
        let created_at = row.created_at;
        *row = record.clone();
        row.created_at = created_at;
        s.events.push(event.clone());
        Ok(())
    }

    async fn delete(
        &self,
        account: AccountId,
        id: IntegrationId,
        event: &AuditEvent,
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        match s.integrations.get(&id) {
            Some(r) if r.account_id == account => {
                s.integrations.remove(&id);
                s.events.push(event.clone());
                Ok(())
            }
            _ => Err(RepositoryError::NotFound),
        }
    }

    async fn list(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<Listed<IntegrationView>>, RepositoryError> {
        let s = self.state()?;
        let mut rows: Vec<&IntegrationRecord> = s
            .integrations
            .values()
            .filter(|r| r.account_id == account)
            .filter(|r| query.provider.is_none_or(|p| r.provider == p))
            .filter(|r| query.platform.is_none_or(|p| r.platform() == p))
            .filter(|r| query.after.is_none_or(|a| r.position() > a))
            .collect();
        rows.sort_by_key(|r| r.position());
        let limit = query.limit.get() as usize;
        let more = rows.len() > limit;
        let items: Vec<Listed<IntegrationView>> = rows
            .into_iter()
            .take(limit)
            .map(|r| Listed::Readable(IntegrationView::from(r)))
            .collect();
        let next = if more {
            items.last().map(Listed::position)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn record_verification(
        &self,
        account: AccountId,
        id: IntegrationId,
        checked_version: OffsetDateTime,
        verification: &Verification,
        event: &AuditEvent,
    ) -> Result<bool, RepositoryError> {
        let mut s = self.state()?;
        let recorded = match s
            .integrations
            .get_mut(&id)
            .filter(|r| r.account_id == account && r.updated_at == checked_version)
        {
            Some(row) => {
                row.last_verification = Some(verification.clone());
                true
            }
            None => false,
        };
        s.events.push(event.clone());
        Ok(recorded)
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.state().map(|_| ())
    }
}

#[async_trait]
impl AuditLog for InMemoryRepository {
    async fn append(&self, event: &AuditEvent) -> Result<(), RepositoryError> {
        self.state()?.events.push(event.clone());
        Ok(())
    }

    async fn events(
        &self,
        account: AccountId,
        query: &EventQuery,
    ) -> Result<Page<AuditEvent>, RepositoryError> {
        let s = self.state()?;
        let mut rows: Vec<&AuditEvent> = s
            .events
            .iter()
            .filter(|e| e.account_id == account)
            .filter(|e| {
                query
                    .integration
                    .is_none_or(|i| e.integration_id == Some(i))
            })
            .filter(|e| query.before.is_none_or(|b| e.position() < b))
            .collect();
        rows.sort_by_key(|e| std::cmp::Reverse(e.position()));
        let limit = query.limit.get() as usize;
        let more = rows.len() > limit;
        let items: Vec<AuditEvent> = rows.into_iter().take(limit).cloned().collect();
        let next = if more {
            items.last().map(AuditEvent::position)
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

impl State {
    fn account_name(&self, id: AccountId) -> Option<AccountName> {
        self.accounts
            .iter()
            .find(|(_, a)| **a == id)
            .and_then(|(n, _)| AccountName::parse(n).ok())
    }

    fn add_key(&mut self, account: AccountId, key: &NewApiKey) -> Result<(), RepositoryError> {
        let name = self
            .account_name(account)
            .ok_or(RepositoryError::NotFound)?;
        if self.keys.iter().any(|k| k.key_id == key.key_id) {
            return Err(RepositoryError::Conflict("key id exists".into()));
        }
        self.keys.push(ApiKeyRecord {
            key_id: key.key_id.clone(),
            account_id: account,
            account_name: name,
            digest: key.digest,
            scopes: key.scopes,
            label: key.label.clone(),
            created_at: key.created_at,
            last_used_at: None,
            revoked_at: None,
        });
        Ok(())
    }
}

#[async_trait]
impl ApiKeyStore for InMemoryRepository {
    async fn ensure_account(&self, name: &AccountName) -> Result<AccountId, RepositoryError> {
        let mut s = self.state()?;
        Ok(*s
            .accounts
            .entry(name.as_str().to_owned())
            .or_insert_with(AccountId::new))
    }

    async fn insert_api_key(
        &self,
        account: AccountId,
        key: &NewApiKey,
    ) -> Result<(), RepositoryError> {
        self.state()?.add_key(account, key)
    }

    async fn insert_first_api_key(
        &self,
        name: &AccountName,
        key: &NewApiKey,
    ) -> Result<Option<AccountId>, RepositoryError> {
        let mut s = self.state()?;
        if !s.keys.is_empty() {
            return Ok(None);
        }
        let account = *s
            .accounts
            .entry(name.as_str().to_owned())
            .or_insert_with(AccountId::new);
        s.add_key(account, key)?;
        Ok(Some(account))
    }

    async fn find_api_key(
        &self,
        key_id: &KeyId,
        _digest: &crate::access::ApiKeyDigest,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
        Ok(self
            .state()?
            .keys
            .iter()
            .find(|k| &k.key_id == key_id)
            .cloned())
    }

    async fn list_api_keys(
        &self,
        account: Option<&AccountName>,
    ) -> Result<Vec<ApiKeyRecord>, RepositoryError> {
        Ok(self
            .state()?
            .keys
            .iter()
            .filter(|k| account.is_none_or(|a| &k.account_name == a))
            .cloned()
            .collect())
    }

    async fn revoke_api_key(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        let key = s
            .keys
            .iter_mut()
            .find(|k| &k.key_id == key_id)
            .ok_or(RepositoryError::NotFound)?;
        key.revoked_at.get_or_insert(at);
        Ok(())
    }

    async fn touch_api_key(
        &self,
        key_id: &KeyId,
        at: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        if let Some(key) = s.keys.iter_mut().find(|k| &k.key_id == key_id) {
            key.last_used_at = Some(at);
        }
        Ok(())
    }
}

#[async_trait]
impl KeyRegistry for InMemoryRepository {
    async fn fingerprints(&self) -> Result<BTreeMap<u32, [u8; 32]>, RepositoryError> {
        Ok(self.state()?.fingerprints.clone())
    }

    async fn remember_fingerprints(
        &self,
        fingerprints: &[(u32, [u8; 32])],
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        for (id, fp) in fingerprints {
            s.fingerprints.entry(*id).or_insert(*fp);
        }
        Ok(())
    }

    async fn sealed_per_key(&self) -> Result<BTreeMap<u32, u64>, RepositoryError> {
        let mut out = BTreeMap::new();
        for r in self.state()?.integrations.values() {
            *out.entry(r.sealed.kek_id).or_insert(0) += 1;
        }
        Ok(out)
    }

    async fn rewrap_batch(
        &self,
        active: u32,
        after: Option<IntegrationId>,
        limit: u32,
        vault: &dyn CredentialVault,
    ) -> Result<RewrapBatch, RepositoryError> {
        let claimed: Vec<IntegrationRecord> = self
            .state()?
            .integrations
            .values()
            .filter(|r| r.sealed.kek_id != active && after.is_none_or(|a| r.id > a))
            .take(limit as usize)
            .cloned()
            .collect();
        let mut batch = RewrapBatch {
            claimed: claimed.len() as u64,
            last: claimed.last().map(|r| r.id),
            ..RewrapBatch::default()
        };
        for record in claimed {
            match vault
                .rewrap(&SealContext::of(&record), &record.sealed)
                .await
            {
                Ok(sealed) => {
                    let mut s = self.state()?;
                    if let Some(row) = s
                        .integrations
                        .get_mut(&record.id)
                        .filter(|r| r.sealed == record.sealed)
                    {
                        row.sealed = sealed;
                        batch.rewrapped += 1;
                    }
                }
                Err(e) => batch.failed.push((record.id, e)),
            }
        }
        Ok(batch)
    }
}

/// A vault for tests of other layers: it binds each blob to its context (a blob moved to
/// another row does not open) but does NOT encrypt. Never use it outside tests.
pub struct ReversibleVault {
    active: u32,
}

impl Default for ReversibleVault {
    fn default() -> Self {
        Self { active: 1 }
    }
}

impl ReversibleVault {
    /// A vault whose active key id is `active` (blobs of any id open).
    pub fn with_active(active: u32) -> Self {
        Self { active }
    }

    fn header(context: &SealContext) -> String {
        format!(
            "{}|{}|{}\n",
            context.account_id, context.integration_id, context.provider
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

#[async_trait]
impl CredentialVault for ReversibleVault {
    async fn seal(
        &self,
        context: &SealContext,
        fields: &SecretFields,
    ) -> Result<SealedSecrets, VaultError> {
        let mut out = Self::header(context);
        for (name, value) in fields.iter() {
            out.push_str(&format!(
                "{name}={}\n",
                hex(value.expose_secret().as_bytes())
            ));
        }
        Ok(SealedSecrets {
            kek_id: self.active,
            blob: out.into_bytes(),
        })
    }

    async fn open(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SecretFields, VaultError> {
        let text = std::str::from_utf8(&sealed.blob).map_err(|_| VaultError::UnsupportedFormat)?;
        let body = text
            .strip_prefix(&Self::header(context))
            .ok_or(VaultError::Integrity)?;
        body.lines()
            .map(|line| {
                let (name, value) = line.split_once('=').ok_or(VaultError::UnsupportedFormat)?;
                let bytes = unhex(value).ok_or(VaultError::UnsupportedFormat)?;
                let value = String::from_utf8(bytes).map_err(|_| VaultError::UnsupportedFormat)?;
                Ok((name.to_owned(), SecretString::from(value)))
            })
            .collect()
    }

    async fn rewrap(
        &self,
        context: &SealContext,
        sealed: &SealedSecrets,
    ) -> Result<SealedSecrets, VaultError> {
        // Checks the binding like a real rewrap; the "payload" is kept as is.
        self.open(context, sealed).await?;
        Ok(SealedSecrets {
            kek_id: self.active,
            blob: sealed.blob.clone(),
        })
    }

    fn active_key_id(&self) -> u32 {
        self.active
    }

    fn seal_token(&self, context: &[u8], plaintext: &[u8]) -> Result<String, VaultError> {
        // Not encrypted: the context and the plaintext in hex, checked on open.
        Ok(format!("t.{}.{}", hex(context), hex(plaintext)))
    }

    fn open_token(&self, context: &[u8], token: &str) -> Result<Vec<u8>, VaultError> {
        let rest = token
            .strip_prefix("t.")
            .ok_or(VaultError::UnsupportedFormat)?;
        let (ctx, plain) = rest.split_once('.').ok_or(VaultError::UnsupportedFormat)?;
        if unhex(ctx).as_deref() != Some(context) {
            return Err(VaultError::Integrity);
        }
        unhex(plain).ok_or(VaultError::UnsupportedFormat)
    }
}

type Hook = Box<dyn Fn() + Send + Sync>;

/// A verifier that answers a scripted outcome and remembers what it was asked.
#[derive(Default)]
pub struct ScriptedVerifier {
    outcome: Mutex<Option<VerificationFailure>>,
    calls: Mutex<Vec<Credentials>>,
    hook: Mutex<Option<Hook>>,
}

impl ScriptedVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// `None`: succeed; `Some(failure)`: fail with it.
    pub fn answer(&self, failure: Option<VerificationFailure>) {
        if let Ok(mut o) = self.outcome.lock() {
            *o = failure;
        }
    }

    /// Runs `hook` while each check is "at the provider" (to interleave other actions).
    pub fn before_answer(&self, hook: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut h) = self.hook.lock() {
            *h = Some(Box::new(hook));
        }
    }

    /// Provider and public fields of every check so far.
    pub fn calls(&self) -> Vec<(crate::provider::Provider, crate::credentials::PublicFields)> {
        self.calls
            .lock()
            .map(|c| {
                c.iter()
                    .map(|c| (c.provider(), c.public_fields()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A sealed field of the last check, in clear (to assert which secret was used).
    pub fn last_secret(&self, name: &str) -> Option<String> {
        let calls = self.calls.lock().ok()?;
        let last = calls.last()?;
        last.secret_fields()
            .get(name)
            .map(|s| s.expose_secret().to_owned())
    }
}

#[async_trait]
impl ConnectionVerifier for ScriptedVerifier {
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        if let Ok(mut c) = self.calls.lock() {
            c.push(credentials.clone());
        }
        if let Ok(h) = self.hook.lock() {
            if let Some(h) = h.as_ref() {
                h();
            }
        }
        match self.outcome.lock().ok().and_then(|o| o.clone()) {
            None => Ok(()),
            Some(f) => Err(f),
        }
    }
}

/// Deterministic bytes that never repeat within a process (a counter): tests only.
#[derive(Default)]
pub struct CountingEntropy {
    next: AtomicU64,
}

impl Entropy for CountingEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), EntropyError> {
        // Spread the counter over the whole buffer so every 8-character key id differs.
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let seed = *uuid::Uuid::new_v4().as_bytes();
        for (i, b) in dest.iter_mut().enumerate() {
            *b = seed[i % 16] ^ (n.rotate_left((i % 8) as u32 * 8) as u8);
        }
        Ok(())
    }
}

/// An object store in memory: `bucket → key → bytes`, or a scripted failure.
#[derive(Default)]
pub struct InMemoryObjects {
    objects: Mutex<BTreeMap<(String, String), Vec<u8>>>,
    failure: Mutex<Option<VerificationFailure>>,
}

impl InMemoryObjects {
    pub fn new() -> Self {
        Self::default()
    }

    /// `Some`: every call fails with it.
    pub fn fail_with(&self, failure: Option<VerificationFailure>) {
        if let Ok(mut f) = self.failure.lock() {
            *f = failure;
        }
    }

    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.objects
            .lock()
            .ok()?
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
    }

    fn failure(&self) -> Option<VerificationFailure> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }
}

fn bucket_of(credentials: &Credentials) -> String {
    credentials
        .public_fields()
        .get("bucket")
        .unwrap_or_default()
        .to_owned()
}

#[async_trait]
impl crate::ports::ObjectStore for InMemoryObjects {
    async fn put(
        &self,
        credentials: &Credentials,
        object: crate::transfer::ObjectWrite,
    ) -> Result<crate::transfer::StoredObject, VerificationFailure> {
        use futures_util::StreamExt;
        if let Some(f) = self.failure() {
            return Err(f);
        }
        let mut body = object.body;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                VerificationFailure::new(
                    crate::verification::FailureReason::ProviderError,
                    e.to_string(),
                )
            })?;
            bytes.extend_from_slice(&chunk);
        }
        let bucket = bucket_of(credentials);
        let size = bytes.len() as u64;
        if let Ok(mut objects) = self.objects.lock() {
            objects.insert((bucket.clone(), object.key.clone()), bytes);
        }
        Ok(crate::transfer::StoredObject {
            url: format!("memory://{bucket}/{}", object.key),
            bucket,
            key: object.key,
            size,
            content_type: object.content_type,
            etag: format!("\"{size}\""),
            presigned: None,
        })
    }

    async fn delete(
        &self,
        credentials: &Credentials,
        key: &str,
    ) -> Result<crate::transfer::DeletedObject, VerificationFailure> {
        if let Some(f) = self.failure() {
            return Err(f);
        }
        let bucket = bucket_of(credentials);
        if let Ok(mut objects) = self.objects.lock() {
            objects.remove(&(bucket.clone(), key.to_owned()));
        }
        Ok(crate::transfer::DeletedObject {
            bucket,
            key: key.to_owned(),
        })
    }
}

/// A catalogue of `n` images `https://acme.example/{i}.png`, one per article; its position is
/// the next index as decimal text.
#[derive(Default)]
pub struct ScriptedCatalogue {
    count: std::sync::atomic::AtomicUsize,
}

impl ScriptedCatalogue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn script(&self, images: usize) {
        self.count.store(images, Ordering::SeqCst);
    }
}

#[async_trait]
impl crate::ports::HelpCenterCatalogue for ScriptedCatalogue {
    async fn images(
        &self,
        _credentials: &Credentials,
        position: Option<&[u8]>,
        limit: u32,
    ) -> Result<crate::transfer::ImagePage, VerificationFailure> {
        let start = match position {
            None => 0,
            Some(p) => std::str::from_utf8(p)
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| {
                    VerificationFailure::new(
                        crate::verification::FailureReason::ProviderError,
                        "not a position of this catalogue",
                    )
                })?,
        };
        let count = self.count.load(Ordering::SeqCst);
        let end = (start + limit as usize).min(count);
        let items = (start..end)
            .map(|i| crate::transfer::ImageRef {
                article_id: i.to_string(),
                article_title: format!("Article {i}"),
                article_url: None,
                image_url: format!("https://acme.example/{i}.png"),
                alt: None,
            })
            .collect();
        Ok(crate::transfer::ImagePage {
            items,
            next: (end < count).then(|| end.to_string().into_bytes()),
        })
    }
}
