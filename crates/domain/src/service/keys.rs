//! The master-key policy and rotation (API.md section 9).
//!
//! * At start, [`KeyService::check_ring`] compares the configured key ring with what the
//!   database remembers, read-only: a key id whose fingerprint differs (a wrong key), or a
//!   remembered key that integrations still use but the ring lacks, refuses the start and
//!   changes nothing. Only then does [`KeyService::remember_ring`] store the new fingerprints.
//! * [`KeyService::status`] counts integrations per key; [`KeyService::rewrap`] moves every
//!   data key under the active key in short batches, resumable and idempotent.

use crate::ids::IntegrationId;
use crate::ports::{CredentialVault, KeyRegistry, RepositoryError, VaultError};
use std::collections::BTreeMap;

/// Why a key ring may not be used with this database.
#[derive(Debug, thiserror::Error)]
pub enum KeyPolicyError {
    /// The database remembers another fingerprint for this key id.
    #[error(
        "the configured master key {kek_id} does not match the key this database was encrypted \
         with under that id (refusing to start; configure the key this database was encrypted with)"
    )]
    Mismatch { kek_id: u32 },
    /// Integrations are still sealed under a key the ring does not hold.
    #[error(
        "{integrations} integration(s) in this database are encrypted with master key {kek_id}, \
         which the key ring does not hold: add that key back (it may stay decrypt-only) or run \
         `integrations keys rewrap` with it before removing it"
    )]
    MissingKey { kek_id: u32, integrations: u64 },
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// One line of `keys status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyStatus {
    pub kek_id: u32,
    /// Integrations sealed under this key.
    pub integrations: u64,
    pub in_ring: bool,
    pub active: bool,
    /// Whether the database remembers a fingerprint of this key.
    pub known: bool,
}

/// Progress of a rewrap sweep, after each batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewrapProgress {
    pub rewrapped: u64,
    pub failed: u64,
    /// Integrations not under the active key when the sweep started.
    pub total: u64,
}

/// The end of a rewrap sweep.
#[derive(Debug, Default)]
pub struct RewrapReport {
    pub rewrapped: u64,
    /// Integrations that could not be rewrapped (the key is missing from the ring, or the blob
    /// is damaged), with why; they are left as they were.
    pub failed: Vec<(IntegrationId, VaultError)>,
}

/// Master-key bookkeeping over a [`KeyRegistry`].
pub struct KeyService<K, V> {
    registry: K,
    vault: V,
}

impl<K: KeyRegistry, V: CredentialVault> KeyService<K, V> {
    pub fn new(registry: K, vault: V) -> Self {
        Self { registry, vault }
    }

    /// Read-only: the ring may be used with this database. Changes nothing.
    pub async fn check_ring(&self, ring: &[(u32, [u8; 32])]) -> Result<(), KeyPolicyError> {
        check_ring(&self.registry, ring).await
    }

    /// Remembers the fingerprints of keys not seen before (after [`Self::check_ring`]).
    pub async fn remember_ring(&self, ring: &[(u32, [u8; 32])]) -> Result<(), KeyPolicyError> {
        self.registry.remember_fingerprints(ring).await?;
        Ok(())
    }

    /// Integrations per key id, for every key the ring holds, the database remembers or an
    /// integration uses.
    pub async fn status(&self, ring_ids: &[u32]) -> Result<Vec<KeyStatus>, RepositoryError> {
        let counts = self.registry.sealed_per_key().await?;
        let known = self.registry.fingerprints().await?;
        let active = self.vault.active_key_id();
        let mut ids: Vec<u32> = counts
            .keys()
            .chain(known.keys())
            .chain(ring_ids.iter())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids
            .into_iter()
            .map(|kek_id| KeyStatus {
                kek_id,
                integrations: counts.get(&kek_id).copied().unwrap_or(0),
                in_ring: ring_ids.contains(&kek_id),
                active: kek_id == active,
                known: known.contains_key(&kek_id),
            })
            .collect())
    }

    /// Re-wraps every data key not under the active key, `batch` rows per transaction, calling
    /// `progress` after each batch. Interrupting it is safe; running it again continues.
    pub async fn rewrap(
        &self,
        batch: u32,
        mut progress: impl FnMut(RewrapProgress),
    ) -> Result<RewrapReport, RepositoryError> {
        let active = self.vault.active_key_id();
        let total: u64 = self
            .registry
            .sealed_per_key()
            .await?
            .iter()
            .filter(|(id, _)| **id != active)
            .map(|(_, n)| *n)
            .sum();
        let mut report = RewrapReport::default();
        let mut after = None;
        let batch = batch.max(1);
        loop {
            let done = self
                .registry
                .rewrap_batch(active, after, batch, &self.vault)
                .await?;
            report.rewrapped += done.rewrapped;
            report.failed.extend(done.failed);
            progress(RewrapProgress {
                rewrapped: report.rewrapped,
                failed: report.failed.len() as u64,
                total,
            });
            match done.last {
                Some(last) if done.claimed > 0 => after = Some(last),
                _ => break,
            }
        }
        Ok(report)
    }
}

/// Whether this database has never seen a master key (no fingerprint, no integration): the
/// only case in which a new key file may be generated.
pub async fn database_is_fresh<K: KeyRegistry + ?Sized>(
    registry: &K,
) -> Result<bool, RepositoryError> {
    Ok(registry.fingerprints().await?.is_empty() && registry.sealed_per_key().await?.is_empty())
}

async fn check_ring<K: KeyRegistry>(
    registry: &K,
    ring: &[(u32, [u8; 32])],
) -> Result<(), KeyPolicyError> {
    let stored = registry.fingerprints().await?;
    for (kek_id, fingerprint) in ring {
        if stored.get(kek_id).is_some_and(|s| s != fingerprint) {
            return Err(KeyPolicyError::Mismatch { kek_id: *kek_id });
        }
    }
    let in_use: BTreeMap<u32, u64> = registry.sealed_per_key().await?;
    for (kek_id, integrations) in in_use {
        if integrations > 0 && !ring.iter().any(|(k, _)| *k == kek_id) {
            return Err(KeyPolicyError::MissingKey {
                kek_id,
                integrations,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AccountId;
    use crate::ports::IntegrationRepository;
    use crate::provider::Provider;
    use crate::testing::{sample_record, InMemoryRepository, ReversibleVault};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_refused_ring_changes_nothing() {
        let repo = Arc::new(InMemoryRepository::new());
        let svc = KeyService::new(repo.clone(), ReversibleVault::with_active(2));
        assert!(database_is_fresh(&repo).await.unwrap());
        svc.remember_ring(&[(1, [1; 32])]).await.unwrap();
        assert!(!database_is_fresh(&repo).await.unwrap());
        let mut record = sample_record(AccountId::new(), Provider::S3, 0);
        record.sealed.kek_id = 1;
        repo.insert(&record, &crate::testing::sample_event(&record))
            .await
            .unwrap();
        // A different key under id 1.
        assert!(matches!(
            svc.check_ring(&[(1, [9; 32])]).await,
            Err(KeyPolicyError::Mismatch { kek_id: 1 })
        ));
        // Key 1 dropped while an integration uses it.
        assert!(matches!(
            svc.check_ring(&[(2, [2; 32])]).await,
            Err(KeyPolicyError::MissingKey {
                kek_id: 1,
                integrations: 1
            })
        ));
        assert_eq!(
            repo.fingerprints().await.unwrap().len(),
            1,
            "nothing was written"
        );
        svc.check_ring(&[(1, [1; 32]), (2, [2; 32])]).await.unwrap();
        svc.remember_ring(&[(1, [1; 32]), (2, [2; 32])])
            .await
            .unwrap();
        let status = svc.status(&[1, 2]).await.unwrap();
        assert_eq!(status[0].integrations, 1);
        assert!(status[1].active);
    }
}
