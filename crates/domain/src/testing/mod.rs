//! Test doubles and the repository contract suite (feature `testing`).
//!
//! * [`InMemoryRepository`]: `IntegrationRepository` + `AccountRepository` in a mutex.
//! * [`ReversibleVault`]: a `CredentialVault` that binds blobs to their context but does NOT
//!   encrypt; for tests of other layers only.
//! * [`ScriptedVerifier`]: a `ConnectionVerifier` answering what the test told it to.
//! * [`contract`]: the behaviour every repository adapter must show, run against each one.

pub mod contract;

use crate::accounts::{AccountName, ApiKeyDigest};
use crate::credentials::{Credentials, SecretFields};
use crate::ids::{AccountId, IntegrationId};
use crate::integration::{IntegrationRecord, ListQuery, Page, SealedSecrets};
use crate::ports::{
    AccountRepository, ConnectionVerifier, CredentialVault, IntegrationRepository, RepositoryError,
    SealContext, VaultError,
};
use crate::verification::{Verification, VerificationFailure};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct State {
    integrations: BTreeMap<IntegrationId, IntegrationRecord>,
    accounts: HashMap<String, AccountId>,
    keys: Vec<(ApiKeyDigest, AccountId)>,
}

/// An in-memory repository. `set_available(false)` makes every call fail with `Unavailable`.
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
    async fn insert(&self, record: &IntegrationRecord) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        if s.integrations.contains_key(&record.id) {
            return Err(RepositoryError::Conflict(format!(
                "integration {} exists",
                record.id
            )));
        }
        s.integrations.insert(record.id, record.clone());
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

    async fn update(&self, record: &IntegrationRecord) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        let row = s
            .integrations
            .get_mut(&record.id)
            .filter(|r| r.account_id == record.account_id)
            .ok_or(RepositoryError::NotFound)?;
        let created_at = row.created_at;
        *row = record.clone();
        row.created_at = created_at;
        Ok(())
    }

    async fn delete(&self, account: AccountId, id: IntegrationId) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        match s.integrations.get(&id) {
            Some(r) if r.account_id == account => {
                s.integrations.remove(&id);
                Ok(())
            }
            _ => Err(RepositoryError::NotFound),
        }
    }

    async fn list(
        &self,
        account: AccountId,
        query: &ListQuery,
    ) -> Result<Page<IntegrationRecord>, RepositoryError> {
        let s = self.state()?;
        let mut rows: Vec<&IntegrationRecord> = s
            .integrations
            .values()
            .filter(|r| r.account_id == account)
            .filter(|r| query.provider.is_none_or(|p| r.provider == p))
            .filter(|r| query.platform.is_none_or(|p| r.platform() == p))
            .filter(|r| {
                query
                    .after
                    .is_none_or(|a| (r.created_at, r.id) > (a.created_at, a.id))
            })
            .collect();
        rows.sort_by_key(|r| (r.created_at, r.id));
        let limit = query.limit.get() as usize;
        let more = rows.len() > limit;
        let items: Vec<IntegrationRecord> = rows.into_iter().take(limit).cloned().collect();
        let next = if more {
            items.last().map(IntegrationRecord::position)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn record_verification(
        &self,
        account: AccountId,
        id: IntegrationId,
        verification: &Verification,
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        let row = s
            .integrations
            .get_mut(&id)
            .filter(|r| r.account_id == account)
            .ok_or(RepositoryError::NotFound)?;
        row.last_verification = Some(verification.clone());
        Ok(())
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.state().map(|_| ())
    }
}

#[async_trait]
impl AccountRepository for InMemoryRepository {
    async fn ensure_account(&self, name: &AccountName) -> Result<AccountId, RepositoryError> {
        let mut s = self.state()?;
        Ok(*s
            .accounts
            .entry(name.as_str().to_owned())
            .or_insert_with(AccountId::new))
    }

    async fn add_api_key(
        &self,
        account: AccountId,
        digest: &ApiKeyDigest,
    ) -> Result<(), RepositoryError> {
        let mut s = self.state()?;
        if !s.accounts.values().any(|a| *a == account) {
            return Err(RepositoryError::NotFound);
        }
        s.keys.push((*digest, account));
        Ok(())
    }

    async fn find_account_by_key(
        &self,
        digest: &ApiKeyDigest,
    ) -> Result<Option<AccountId>, RepositoryError> {
        Ok(self
            .state()?
            .keys
            .iter()
            .find(|(d, _)| d.ct_eq(digest))
            .map(|(_, a)| *a))
    }

    async fn create_first_api_key(
        &self,
        name: &AccountName,
        digest: &ApiKeyDigest,
    ) -> Result<Option<AccountId>, RepositoryError> {
        let mut s = self.state()?;
        if !s.keys.is_empty() {
            return Ok(None);
        }
        let account = *s
            .accounts
            .entry(name.as_str().to_owned())
            .or_insert_with(AccountId::new);
        s.keys.push((*digest, account));
        Ok(Some(account))
    }
}

/// A vault for tests of other layers: it binds each blob to its context (a blob moved to
/// another row does not open) but does NOT encrypt. Never use it outside tests.
#[derive(Default)]
pub struct ReversibleVault;

impl ReversibleVault {
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
            kek_id: 1,
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
}

/// A verifier that answers a scripted outcome and remembers what it was asked (provider and
/// public fields only).
#[derive(Default)]
pub struct ScriptedVerifier {
    outcome: Mutex<Option<VerificationFailure>>,
    calls: Mutex<Vec<(crate::provider::Provider, crate::credentials::PublicFields)>>,
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

    pub fn calls(&self) -> Vec<(crate::provider::Provider, crate::credentials::PublicFields)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl ConnectionVerifier for ScriptedVerifier {
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        if let Ok(mut c) = self.calls.lock() {
            c.push((credentials.provider(), credentials.public_fields()));
        }
        match self.outcome.lock().ok().and_then(|o| o.clone()) {
            None => Ok(()),
            Some(f) => Err(f),
        }
    }
}
