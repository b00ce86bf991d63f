//! The storage contract: what every adapter of the storage ports must do. Adapters run these
//! checks in their own tests (in-memory here, SQLite and PostgreSQL in the store crate); an
//! embedder checks a store of its own the same way:
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_store_meets_the_contract() {
//!     let store = MyStore::connect(..).await;
//!     // A store that only keeps integrations (and their events):
//!     integrations_domain::testing::contract::run_integrations(&store).await;
//!     // ...plus API keys, if it keeps them:
//!     integrations_domain::testing::contract::run_api_keys(&store).await;
//!     // ...and, on an empty database, the master-key registry:
//!     integrations_domain::testing::contract::run_key_registry(&MyStore::empty().await).await;
//! }
//! ```
//!
//! Each check uses fresh account ids, so one database can hold many runs (except where a
//! function says it needs an empty database). Failures panic with a message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::access::{AccountName, ApiKey, KeyId, Scope, Scopes};
use crate::audit::{Action, AuditEvent, EventQuery};
use crate::credentials::{sample_input, Credentials, SealedDefaults};
use crate::ids::{AccountId, IntegrationId};
use crate::integration::{
    now_millis, IntegrationRecord, IntegrationView, ListQuery, Listed, SealedSecrets,
};
use crate::label::Label;
use crate::page::{PageLimit, Position};
use crate::ports::CredentialVault;
use crate::ports::{
    ApiKeyStore, AuditLog, IntegrationRepository, KeyRegistry, NewApiKey, RepositoryError,
    SealContext,
};
use crate::provider::{Platform, Provider};
use crate::testing::ReversibleVault;
use crate::verification::{FailureReason, Verification, VerificationFailure};
use time::Duration;

/// A record of `provider` for `account`, created `offset_ms` after a fixed base time.
pub fn sample_record(account: AccountId, provider: Provider, offset_ms: i64) -> IntegrationRecord {
    let credentials =
        Credentials::parse(provider, &sample_input(provider), SealedDefaults::None).unwrap();
    let base = time::macros::datetime!(2024-02-26 16:24:18.676 UTC);
    let at = base + Duration::milliseconds(offset_ms);
    IntegrationRecord {
        id: IntegrationId::new(),
        account_id: account,
        label: Label::parse(&format!("{provider} integration")).unwrap(),
        provider,
        public_fields: credentials.public_fields(),
        sealed: SealedSecrets {
            kek_id: 7,
            blob: vec![1, 0, 255, 42, 0, 13],
        },
        created_at: at,
        updated_at: at,
        last_verification: None,
    }
}

/// A `created` event of `record`, at its creation time.
pub fn sample_event(record: &IntegrationRecord) -> AuditEvent {
    event(
        record.account_id,
        Some(record.id),
        Action::Created,
        record.created_at,
    )
}

fn event(
    account: AccountId,
    integration: Option<IntegrationId>,
    action: Action,
    at: time::OffsetDateTime,
) -> AuditEvent {
    AuditEvent {
        id: uuid::Uuid::now_v7(),
        account_id: account,
        at,
        action,
        integration_id: integration,
        reason: None,
        key_id: Some(KeyId::parse("contract").unwrap()),
        request_id: Some("req-contract".into()),
        client_ip: Some("192.0.2.7".parse().unwrap()),
    }
}

fn failed(message: &str) -> Verification {
    Verification::failed(
        now_millis(),
        VerificationFailure::new(FailureReason::NotFound, message),
    )
}

/// Every check of [`run_integrations`] and [`run_api_keys`].
pub async fn run_all<R>(repo: &R)
where
    R: IntegrationRepository + AuditLog + ApiKeyStore,
{
    run_integrations(repo).await;
    run_api_keys(repo).await;
}

/// The checks of `IntegrationRepository` + `AuditLog` (a store that keeps only
/// integrations and their events).
pub async fn run_integrations<R: IntegrationRepository + AuditLog>(repo: &R) {
    insert_then_get_round_trips(repo).await;
    accounts_are_isolated(repo).await;
    duplicate_id_is_a_conflict(repo).await;
    update_replaces_but_keeps_created_at(repo).await;
    update_is_compare_and_set(repo).await;
    delete_removes(repo).await;
    verification_is_recorded_only_on_the_checked_version(repo).await;
    list_pages_in_order_with_filters(repo).await;
    events_are_listed_newest_first_and_outlive_deletion(repo).await;
    ping_answers(repo).await;
}

/// The checks of `ApiKeyStore` that do not need an empty database.
pub async fn run_api_keys<R: ApiKeyStore>(repo: &R) {
    api_keys_are_found_by_key_id(repo).await;
    api_keys_are_listed_and_revoked(repo).await;
}

pub async fn insert_then_get_round_trips<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    for (i, &provider) in Provider::ALL.iter().enumerate() {
        let record = sample_record(account, provider, i as i64);
        repo.insert(&record, &sample_event(&record)).await.unwrap();
        let back = repo.get(account, record.id).await.unwrap();
        assert_eq!(back, record, "{provider} record must round-trip exactly");
    }
}

pub async fn accounts_are_isolated<R: IntegrationRepository>(repo: &R) {
    let (a, b) = (AccountId::new(), AccountId::new());
    let record = sample_record(a, Provider::S3, 0);
    repo.insert(&record, &sample_event(&record)).await.unwrap();
    assert!(matches!(
        repo.get(b, record.id).await,
        Err(RepositoryError::NotFound)
    ));
    let mut foreign = record.clone();
    foreign.account_id = b;
    foreign.label = Label::parse("hijacked").unwrap();
    let e = event(b, Some(record.id), Action::Updated, now_millis());
    assert!(matches!(
        repo.update(&foreign, record.updated_at, &e).await,
        Err(RepositoryError::NotFound)
    ));
    assert!(matches!(
        repo.delete(b, record.id, &e).await,
        Err(RepositoryError::NotFound)
    ));
    assert!(!repo
        .record_verification(b, record.id, record.updated_at, &failed("x"), &e)
        .await
        .unwrap());
    let page = repo.list(b, &ListQuery::default()).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(repo.get(a, record.id).await.unwrap(), record);
    assert!(matches!(
        repo.get(a, IntegrationId::new()).await,
        Err(RepositoryError::NotFound)
    ));
}

/// A create whose id is taken is a conflict, and its audit event is not written (the event
/// and the row are one transaction, also where a backend sends both inserts at once).
pub async fn duplicate_id_is_a_conflict<R: IntegrationRepository + AuditLog>(repo: &R) {
    let record = sample_record(AccountId::new(), Provider::Zendesk, 0);
    let first = sample_event(&record);
    repo.insert(&record, &first).await.unwrap();
    let refused = sample_event(&record);
    assert_ne!(first.id, refused.id);
    assert!(matches!(
        repo.insert(&record, &refused).await,
        Err(RepositoryError::Conflict(_))
    ));
    let events = repo
        .events(record.account_id, &EventQuery::default())
        .await
        .unwrap();
    let ids: Vec<_> = events.items.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![first.id], "no event for a refused create");
}

pub async fn update_replaces_but_keeps_created_at<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::S3, 0);
    repo.insert(&record, &sample_event(&record)).await.unwrap();
    let mut changed = sample_record(account, Provider::Helpjuice, 5_000);
    changed.id = record.id;
    changed.created_at = record.created_at + Duration::days(1);
    changed.sealed = SealedSecrets {
        kek_id: 8,
        blob: vec![9; 100],
    };
    changed.last_verification = Some(Verification::failed(
        record.created_at,
        VerificationFailure::new(
            FailureReason::NotFound,
            "The specified bucket does not exist.",
        ),
    ));
    let e = event(account, Some(record.id), Action::Updated, now_millis());
    repo.update(&changed, record.updated_at, &e).await.unwrap();
    let back = repo.get(account, record.id).await.unwrap();
    assert_eq!(
        back.created_at, record.created_at,
        "created_at never changes"
    );
    let mut expected = changed.clone();
    expected.created_at = record.created_at;
    assert_eq!(back, expected);
    let missing = sample_record(account, Provider::S3, 0);
    assert!(matches!(
        repo.update(&missing, missing.updated_at, &e).await,
        Err(RepositoryError::NotFound)
    ));
}

pub async fn update_is_compare_and_set<R: IntegrationRepository + AuditLog>(repo: &R) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::Intercom, 0);
    repo.insert(&record, &sample_event(&record)).await.unwrap();
    let mut first = record.clone();
    first.label = Label::parse("first").unwrap();
    first.updated_at = record.updated_at + Duration::milliseconds(1);
    let e1 = event(account, Some(record.id), Action::Updated, now_millis());
    repo.update(&first, record.updated_at, &e1).await.unwrap();
    // A second writer that read the same version loses, and its event is not written.
    let mut second = record.clone();
    second.label = Label::parse("second").unwrap();
    second.updated_at = record.updated_at + Duration::milliseconds(2);
    let e2 = event(account, Some(record.id), Action::Updated, now_millis());
    assert!(matches!(
        repo.update(&second, record.updated_at, &e2).await,
        Err(RepositoryError::Conflict(_))
    ));
    assert_eq!(
        repo.get(account, record.id).await.unwrap().label.as_str(),
        "first"
    );
    let events = repo
        .events(
            account,
            &EventQuery {
                integration: Some(record.id),
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(events.items.iter().any(|e| e.id == e1.id));
    assert!(
        !events.items.iter().any(|e| e.id == e2.id),
        "no event for a refused change"
    );
}

pub async fn delete_removes<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::Intercom, 0);
    repo.insert(&record, &sample_event(&record)).await.unwrap();
    let e = event(account, Some(record.id), Action::Deleted, now_millis());
    repo.delete(account, record.id, &e).await.unwrap();
    assert!(matches!(
        repo.get(account, record.id).await,
        Err(RepositoryError::NotFound)
    ));
    assert!(matches!(
        repo.delete(account, record.id, &e).await,
        Err(RepositoryError::NotFound)
    ));
}

pub async fn verification_is_recorded_only_on_the_checked_version<
    R: IntegrationRepository + AuditLog,
>(
    repo: &R,
) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::R2, 0);
    repo.insert(&record, &sample_event(&record)).await.unwrap();
    for v in [
        failed("The specified bucket does not exist."),
        Verification::connected(now_millis() + Duration::milliseconds(3), Platform::Cloud),
    ] {
        let e = event(account, Some(record.id), Action::Verified, now_millis());
        assert!(repo
            .record_verification(account, record.id, record.updated_at, &v, &e)
            .await
            .unwrap());
        let back = repo.get(account, record.id).await.unwrap();
        assert_eq!(back.last_verification, Some(v));
        assert_eq!(back.updated_at, record.updated_at);
    }
    // A check of an older version is not recorded, but its event is.
    let stale = failed("stale");
    let e = event(account, Some(record.id), Action::Verified, now_millis());
    let older = record.updated_at - Duration::milliseconds(1);
    assert!(!repo
        .record_verification(account, record.id, older, &stale, &e)
        .await
        .unwrap());
    let back = repo.get(account, record.id).await.unwrap();
    assert_ne!(back.last_verification, Some(stale));
    let events = repo
        .events(
            account,
            &EventQuery {
                integration: Some(record.id),
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(events.items.iter().any(|x| x.id == e.id));
}

pub async fn list_pages_in_order_with_filters<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    let mut all = Vec::new();
    // 7 records; two share a creation time so the id breaks the tie.
    for (i, provider) in [
        Provider::S3,
        Provider::Zendesk,
        Provider::R2,
        Provider::Freshdesk,
        Provider::S3,
        Provider::Helpscout,
        Provider::S3,
    ]
    .into_iter()
    .enumerate()
    {
        let offset = if i == 4 { 3 } else { i as i64 };
        let mut r = sample_record(account, provider, offset);
        // Two with a last verification, which the listed view carries.
        r.last_verification = match i {
            1 => Some(failed("No Zendesk account is called acme.")),
            2 => Some(Verification::connected(now_millis(), provider.platform())),
            _ => None,
        };
        repo.insert(&r, &sample_event(&r)).await.unwrap();
        all.push(r);
    }
    all.sort_by_key(IntegrationRecord::position);

    let mut seen = Vec::new();
    let mut after: Option<Position> = None;
    loop {
        let q = ListQuery {
            limit: PageLimit::new(3).unwrap(),
            after,
            ..ListQuery::default()
        };
        let page = repo.list(account, &q).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(Listed::id));
        match page.next {
            Some(n) => {
                assert_eq!(Some(n), page.items.last().map(Listed::position));
                after = Some(n);
            }
            None => break,
        }
    }
    let expected: Vec<_> = all.iter().map(|r| r.id).collect();
    assert_eq!(seen, expected, "pages cover every item once, in order");

    let list = |query: ListQuery| async move { repo.list(account, &query).await.unwrap() };
    let exact = list(ListQuery {
        limit: PageLimit::new(7).unwrap(),
        ..ListQuery::default()
    })
    .await;
    assert_eq!(exact.items.len(), 7);
    assert_eq!(exact.next, None, "no next cursor when nothing follows");
    // Each item is its record's masked view, exactly (verification included).
    let views: Vec<_> = all
        .iter()
        .map(|r| Listed::Readable(IntegrationView::from(r)))
        .collect();
    assert_eq!(exact.items, views);

    let readable = |page: crate::page::Page<Listed<IntegrationView>>| -> Vec<IntegrationView> {
        page.items
            .into_iter()
            .map(|l| match l {
                Listed::Readable(r) => r,
                Listed::Unreadable(u) => panic!("row {} unreadable: {}", u.id, u.problem),
            })
            .collect()
    };
    let s3 = readable(
        list(ListQuery {
            provider: Some(Provider::S3),
            ..ListQuery::default()
        })
        .await,
    );
    assert_eq!(s3.len(), 3);
    assert!(s3.iter().all(|r| r.provider == Provider::S3));

    let help = readable(
        list(ListQuery {
            platform: Some(Platform::Helpcenter),
            ..ListQuery::default()
        })
        .await,
    );
    assert_eq!(help.len(), 3);
    assert!(help.iter().all(|r| r.platform == Platform::Helpcenter));

    let none = list(ListQuery {
        platform: Some(Platform::Cloud),
        provider: Some(Provider::Zendesk),
        ..ListQuery::default()
    })
    .await;
    assert!(none.items.is_empty());
}

pub async fn events_are_listed_newest_first_and_outlive_deletion<
    R: IntegrationRepository + AuditLog,
>(
    repo: &R,
) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::Helpscout, 0);
    let created = sample_event(&record);
    repo.insert(&record, &created).await.unwrap();
    let mut verified = event(
        account,
        Some(record.id),
        Action::Verified,
        record.created_at + Duration::milliseconds(10),
    );
    verified.reason = Some(FailureReason::InvalidCredentials);
    verified.client_ip = Some("2001:db8::1".parse().unwrap());
    verified.request_id = None;
    repo.append(&verified).await.unwrap();
    let plain = event(
        account,
        None,
        Action::Verified,
        record.created_at + Duration::milliseconds(20),
    );
    repo.append(&plain).await.unwrap();
    let deleted = event(
        account,
        Some(record.id),
        Action::Deleted,
        record.created_at + Duration::milliseconds(30),
    );
    repo.delete(account, record.id, &deleted).await.unwrap();
    // Another account's events never show.
    let other = sample_record(AccountId::new(), Provider::Helpscout, 0);
    repo.insert(&other, &sample_event(&other)).await.unwrap();

    let all = repo.events(account, &EventQuery::default()).await.unwrap();
    assert_eq!(
        all.items,
        vec![
            deleted.clone(),
            plain.clone(),
            verified.clone(),
            created.clone()
        ],
        "newest first, every field round-trips"
    );
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = repo
            .events(
                account,
                &EventQuery {
                    integration: Some(record.id),
                    limit: PageLimit::new(2).unwrap(),
                    before,
                },
            )
            .await
            .unwrap();
        pages.extend(page.items.iter().map(|e| e.id));
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, vec![deleted.id, verified.id, created.id]);
}

pub async fn ping_answers<R: IntegrationRepository>(repo: &R) {
    repo.ping().await.unwrap();
}

fn new_key(scopes: Scopes, label: Option<&str>) -> (ApiKey, NewApiKey) {
    let mut bytes = [0u8; 32];
    // Random (v4) UUIDs as the randomness: integration ids begin with their creation time.
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let key = ApiKey::from_random_bytes(&bytes);
    let new = NewApiKey {
        key_id: key.key_id(),
        digest: key.digest(),
        scopes,
        label: label.map(str::to_owned),
        created_at: now_millis(),
    };
    (key, new)
}

pub async fn api_keys_are_found_by_key_id<R: ApiKeyStore>(repo: &R) {
    let name = AccountName::parse(&format!("acct-{}", IntegrationId::new())).unwrap();
    let a = repo.ensure_account(&name).await.unwrap();
    assert_eq!(repo.ensure_account(&name).await.unwrap(), a, "idempotent");
    let (key, new) = new_key(Scopes::of([Scope::Use, Scope::Reveal]), Some("worker 1"));
    repo.insert_api_key(a, &new).await.unwrap();
    let found = repo
        .find_api_key(&key.key_id(), &key.digest())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.account_id, a);
    assert_eq!(found.account_name, name);
    assert!(found.digest.ct_eq(&key.digest()));
    assert_eq!(found.scopes, Scopes::of([Scope::Use, Scope::Reveal]));
    assert_eq!(found.label.as_deref(), Some("worker 1"));
    assert_eq!(found.created_at, new.created_at);
    assert_eq!(found.last_used_at, None);
    assert_eq!(found.revoked_at, None);
    assert!(matches!(
        repo.insert_api_key(a, &new).await,
        Err(RepositoryError::Conflict(_))
    ));
    let (_, other) = new_key(Scopes::DEFAULT, None);
    assert!(matches!(
        repo.insert_api_key(AccountId::new(), &other).await,
        Err(RepositoryError::NotFound)
    ));
    assert_eq!(
        repo.find_api_key(&other.key_id, &other.digest)
            .await
            .unwrap(),
        None
    );
}

pub async fn api_keys_are_listed_and_revoked<R: ApiKeyStore>(repo: &R) {
    let name = AccountName::parse(&format!("acct-{}", IntegrationId::new())).unwrap();
    let a = repo.ensure_account(&name).await.unwrap();
    let (k1, n1) = new_key(Scopes::DEFAULT, None);
    let (_, mut n2) = new_key(Scopes::ALL, Some("ops"));
    n2.created_at = n1.created_at + Duration::milliseconds(1);
    repo.insert_api_key(a, &n1).await.unwrap();
    repo.insert_api_key(a, &n2).await.unwrap();
    let listed = repo.list_api_keys(Some(&name)).await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.key_id.clone()).collect::<Vec<_>>(),
        vec![n1.key_id.clone(), n2.key_id.clone()]
    );
    assert!(repo.list_api_keys(None).await.unwrap().len() >= 2);
    let used = now_millis();
    repo.touch_api_key(&k1.key_id(), used).await.unwrap();
    let revoked = used + Duration::seconds(1);
    repo.revoke_api_key(&k1.key_id(), revoked).await.unwrap();
    repo.revoke_api_key(&k1.key_id(), revoked + Duration::seconds(5))
        .await
        .unwrap();
    let found = repo
        .find_api_key(&k1.key_id(), &k1.digest())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.last_used_at, Some(used));
    assert_eq!(
        found.revoked_at,
        Some(revoked),
        "the first revocation time is kept"
    );
    assert!(matches!(
        repo.revoke_api_key(&KeyId::parse("nokey000").unwrap(), revoked)
            .await,
        Err(RepositoryError::NotFound)
    ));
}

/// Needs a store without any API key.
pub async fn first_api_key_is_created_once<R: ApiKeyStore>(repo: &R) {
    let name = AccountName::parse("default").unwrap();
    let (k1, n1) = new_key(Scopes::DEFAULT, None);
    let (k2, n2) = new_key(Scopes::DEFAULT, None);
    let a = repo
        .insert_first_api_key(&name, &n1)
        .await
        .unwrap()
        .expect("first key is created");
    assert_eq!(repo.insert_first_api_key(&name, &n2).await.unwrap(), None);
    assert_eq!(
        repo.find_api_key(&k1.key_id(), &k1.digest())
            .await
            .unwrap()
            .map(|k| k.account_id),
        Some(a)
    );
    assert_eq!(
        repo.find_api_key(&k2.key_id(), &k2.digest()).await.unwrap(),
        None
    );
}

/// The checks of `KeyRegistry`. Needs a store without integrations or fingerprints (the
/// counts and the sweep cover every account).
pub async fn run_key_registry<R: IntegrationRepository + KeyRegistry>(repo: &R) {
    assert!(repo.fingerprints().await.unwrap().is_empty());
    repo.remember_fingerprints(&[(1, [1; 32]), (2, [2; 32])])
        .await
        .unwrap();
    repo.remember_fingerprints(&[(1, [9; 32]), (3, [3; 32])])
        .await
        .unwrap();
    let fps = repo.fingerprints().await.unwrap();
    assert_eq!(
        fps.get(&1),
        Some(&[1; 32]),
        "a stored fingerprint never changes"
    );
    assert_eq!(fps.len(), 3);

    // Five integrations under key 1 sealed by the test vault, one with a blob bound to
    // another row (it cannot be rewrapped), one already under key 2.
    let old = ReversibleVault::with_active(1);
    let mut ids = Vec::new();
    for i in 0..6 {
        let account = AccountId::new();
        let mut record = sample_record(account, Provider::Zendesk, i);
        let secrets = Credentials::parse(
            Provider::Zendesk,
            &sample_input(Provider::Zendesk),
            SealedDefaults::None,
        )
        .unwrap()
        .secret_fields();
        let context = if i == 3 {
            SealContext {
                account_id: AccountId::new(),
                ..SealContext::of(&record)
            }
        } else {
            SealContext::of(&record)
        };
        record.sealed = old.seal(&context, &secrets).await.unwrap();
        if i == 5 {
            record.sealed.kek_id = 2;
        }
        repo.insert(&record, &sample_event(&record)).await.unwrap();
        ids.push(record);
    }
    let counts = repo.sealed_per_key().await.unwrap();
    assert_eq!(counts.get(&1), Some(&5));
    assert_eq!(counts.get(&2), Some(&1));

    let new = ReversibleVault::with_active(2);
    let mut after = None;
    let mut rewrapped = 0;
    let mut failed = Vec::new();
    loop {
        let batch = repo.rewrap_batch(2, after, 2, &new).await.unwrap();
        assert!(batch.claimed <= 2);
        rewrapped += batch.rewrapped;
        failed.extend(batch.failed.into_iter().map(|(id, _)| id));
        match batch.last {
            Some(last) if batch.claimed > 0 => after = Some(last),
            _ => break,
        }
    }
    assert_eq!(rewrapped, 4);
    assert_eq!(failed, vec![ids[3].id]);
    let counts = repo.sealed_per_key().await.unwrap();
    assert_eq!(counts.get(&1), Some(&1));
    assert_eq!(counts.get(&2), Some(&5));
    for record in &ids {
        let back = repo.get(record.account_id, record.id).await.unwrap();
        assert_eq!(
            back.updated_at, record.updated_at,
            "rewrap changes no credential"
        );
        if record.id != ids[3].id {
            new.open(&SealContext::of(&back), &back.sealed)
                .await
                .unwrap();
        }
    }
    // Idempotent: nothing left to do but the broken row.
    let again = repo.rewrap_batch(2, None, 10, &new).await.unwrap();
    assert_eq!(again.rewrapped, 0);
    assert_eq!(again.failed.len(), 1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::InMemoryRepository;

    #[tokio::test]
    async fn in_memory_repository_meets_the_contract() {
        let repo = InMemoryRepository::new();
        run_all(&repo).await;
        first_api_key_is_created_once(&InMemoryRepository::new()).await;
        run_key_registry(&InMemoryRepository::new()).await;
    }
}
