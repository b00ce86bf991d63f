//! The repository contract: what every `IntegrationRepository` + `AccountRepository` adapter
//! must do. Adapters run [`run_all`] in their tests (in-memory here, SQLite and PostgreSQL in
//! the store crate); each check uses fresh account ids, so one database can hold many runs.
//!
//! Failures panic with a message (these are test helpers).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::accounts::{AccountName, ApiKey, ApiKeyDigest};
use crate::credentials::{Credentials, CredentialsInput};
use crate::ids::{AccountId, IntegrationId};
use crate::integration::{
    now_millis, IntegrationRecord, ListPosition, ListQuery, PageLimit, SealedSecrets,
};
use crate::label::Label;
use crate::ports::{AccountRepository, IntegrationRepository, RepositoryError};
use crate::provider::{Platform, Provider};
use crate::verification::{FailureReason, Verification};
use time::Duration;

/// A record of `provider` for `account`, created `offset_ms` after a fixed base time.
pub fn sample_record(account: AccountId, provider: Provider, offset_ms: i64) -> IntegrationRecord {
    let input = match provider {
        Provider::S3 => CredentialsInput::new()
            .with("bucket", "examplebucket")
            .with("accessKeyId", "AKIAIOSFODNN7EXAMPLE")
            .with("secretAccessKey", "secret"),
        Provider::R2 => CredentialsInput::new()
            .with("bucket", "examplebucket")
            .with("accessKeyId", "0123456789abcdef0123456789abcdef")
            .with("secretAccessKey", &"ab".repeat(32))
            .with("accountId", "023e105f4ecef8ad9ca31a8372d0c353")
            .with("jurisdiction", "eu"),
        Provider::Zendesk => CredentialsInput::new()
            .with("username", "agent@example.org")
            .with("token", "tok")
            .with("subdomain", "acme"),
        Provider::Intercom => CredentialsInput::new().with("token", "tok"),
        Provider::Helpscout => CredentialsInput::new().with("apiKey", "k"),
        Provider::Helpjuice | Provider::Freshdesk => CredentialsInput::new()
            .with("apiKey", "k")
            .with("subdomain", "acme"),
        Provider::Knowledgeowl => CredentialsInput::new()
            .with("apiKey", "k")
            .with("projectId", "5f1e2d3c4b5a69788796a5b4"),
    };
    let credentials = Credentials::parse(provider, &input, None).unwrap();
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

/// Runs every check that does not need an empty database.
pub async fn run_all<R: IntegrationRepository + AccountRepository>(repo: &R) {
    insert_then_get_round_trips(repo).await;
    accounts_are_isolated(repo).await;
    duplicate_id_is_a_conflict(repo).await;
    update_replaces_but_keeps_created_at(repo).await;
    delete_removes(repo).await;
    verification_is_recorded(repo).await;
    list_pages_in_order_with_filters(repo).await;
    api_keys_resolve_to_accounts(repo).await;
    ping_answers(repo).await;
}

pub async fn insert_then_get_round_trips<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    for (i, provider) in Provider::ALL.into_iter().enumerate() {
        let record = sample_record(account, provider, i as i64);
        repo.insert(&record).await.unwrap();
        let back = repo.get(account, record.id).await.unwrap();
        assert_eq!(back, record, "{provider} record must round-trip exactly");
    }
}

pub async fn accounts_are_isolated<R: IntegrationRepository>(repo: &R) {
    let (a, b) = (AccountId::new(), AccountId::new());
    let record = sample_record(a, Provider::S3, 0);
    repo.insert(&record).await.unwrap();
    assert!(matches!(
        repo.get(b, record.id).await,
        Err(RepositoryError::NotFound)
    ));
    let mut foreign = record.clone();
    foreign.account_id = b;
    foreign.label = Label::parse("hijacked").unwrap();
    assert!(matches!(
        repo.update(&foreign).await,
        Err(RepositoryError::NotFound)
    ));
    assert!(matches!(
        repo.delete(b, record.id).await,
        Err(RepositoryError::NotFound)
    ));
    let v = Verification {
        at: now_millis(),
        successful: true,
        message: "ok".into(),
        reason: None,
    };
    assert!(matches!(
        repo.record_verification(b, record.id, &v).await,
        Err(RepositoryError::NotFound)
    ));
    let page = repo.list(b, &ListQuery::default()).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(repo.get(a, record.id).await.unwrap(), record);
    assert!(matches!(
        repo.get(a, IntegrationId::new()).await,
        Err(RepositoryError::NotFound)
    ));
}

pub async fn duplicate_id_is_a_conflict<R: IntegrationRepository>(repo: &R) {
    let record = sample_record(AccountId::new(), Provider::Zendesk, 0);
    repo.insert(&record).await.unwrap();
    assert!(matches!(
        repo.insert(&record).await,
        Err(RepositoryError::Conflict(_))
    ));
}

pub async fn update_replaces_but_keeps_created_at<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::S3, 0);
    repo.insert(&record).await.unwrap();
    let mut changed = sample_record(account, Provider::Helpjuice, 5_000);
    changed.id = record.id;
    changed.created_at = record.created_at + Duration::days(1);
    changed.sealed = SealedSecrets {
        kek_id: 8,
        blob: vec![9; 100],
    };
    changed.last_verification = Some(Verification {
        at: record.created_at,
        successful: false,
        message: "The specified bucket does not exist.".into(),
        reason: Some(FailureReason::NotFound),
    });
    repo.update(&changed).await.unwrap();
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
        repo.update(&missing).await,
        Err(RepositoryError::NotFound)
    ));
}

pub async fn delete_removes<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::Intercom, 0);
    repo.insert(&record).await.unwrap();
    repo.delete(account, record.id).await.unwrap();
    assert!(matches!(
        repo.get(account, record.id).await,
        Err(RepositoryError::NotFound)
    ));
    assert!(matches!(
        repo.delete(account, record.id).await,
        Err(RepositoryError::NotFound)
    ));
}

pub async fn verification_is_recorded<R: IntegrationRepository>(repo: &R) {
    let account = AccountId::new();
    let record = sample_record(account, Provider::R2, 0);
    repo.insert(&record).await.unwrap();
    for v in [
        Verification {
            at: now_millis(),
            successful: false,
            message: "The specified bucket does not exist.".into(),
            reason: Some(FailureReason::NotFound),
        },
        Verification {
            at: now_millis() + Duration::milliseconds(3),
            successful: true,
            message: Platform::Cloud.success_message().into(),
            reason: None,
        },
    ] {
        repo.record_verification(account, record.id, &v)
            .await
            .unwrap();
        let back = repo.get(account, record.id).await.unwrap();
        assert_eq!(back.last_verification, Some(v));
        assert_eq!(back.updated_at, record.updated_at);
    }
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
        let r = sample_record(account, provider, offset);
        repo.insert(&r).await.unwrap();
        all.push(r);
    }
    all.sort_by_key(|r| (r.created_at, r.id));

    let mut seen = Vec::new();
    let mut after: Option<ListPosition> = None;
    loop {
        let q = ListQuery {
            limit: PageLimit::new(3).unwrap(),
            after,
            ..ListQuery::default()
        };
        let page = repo.list(account, &q).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(n) => {
                assert_eq!(Some(n), page.items.last().map(IntegrationRecord::position));
                after = Some(n);
            }
            None => break,
        }
    }
    let expected: Vec<_> = all.iter().map(|r| r.id).collect();
    assert_eq!(seen, expected, "pages cover every item once, in order");

    let exact = repo
        .list(
            account,
            &ListQuery {
                limit: PageLimit::new(7).unwrap(),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 7);
    assert_eq!(exact.next, None, "no next cursor when nothing follows");

    let s3 = repo
        .list(
            account,
            &ListQuery {
                provider: Some(Provider::S3),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(s3.items.len(), 3);
    assert!(s3.items.iter().all(|r| r.provider == Provider::S3));

    let help = repo
        .list(
            account,
            &ListQuery {
                platform: Some(Platform::Helpcenter),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(help.items.len(), 3);
    assert!(help
        .items
        .iter()
        .all(|r| r.platform() == Platform::Helpcenter));

    let none = repo
        .list(
            account,
            &ListQuery {
                platform: Some(Platform::Cloud),
                provider: Some(Provider::Zendesk),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

pub async fn api_keys_resolve_to_accounts<R: AccountRepository>(repo: &R) {
    let name = AccountName::parse(&format!("acct-{}", IntegrationId::new())).unwrap();
    let a = repo.ensure_account(&name).await.unwrap();
    assert_eq!(repo.ensure_account(&name).await.unwrap(), a, "idempotent");
    let key = ApiKey::from_random_bytes(&rand_bytes());
    repo.add_api_key(a, &key.digest()).await.unwrap();
    assert_eq!(
        repo.find_account_by_key(&key.digest()).await.unwrap(),
        Some(a)
    );
    let other = ApiKeyDigest::of("ik_not-a-key");
    assert_eq!(repo.find_account_by_key(&other).await.unwrap(), None);
    assert!(matches!(
        repo.add_api_key(AccountId::new(), &other).await,
        Err(RepositoryError::NotFound)
    ));
}

/// Needs a repository without any API key.
pub async fn first_api_key_is_created_once<R: AccountRepository>(repo: &R) {
    let name = AccountName::parse("default").unwrap();
    let k1 = ApiKey::from_random_bytes(&rand_bytes());
    let k2 = ApiKey::from_random_bytes(&rand_bytes());
    let a = repo
        .create_first_api_key(&name, &k1.digest())
        .await
        .unwrap()
        .expect("first key is created");
    assert_eq!(
        repo.create_first_api_key(&name, &k2.digest())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repo.find_account_by_key(&k1.digest()).await.unwrap(),
        Some(a)
    );
    assert_eq!(repo.find_account_by_key(&k2.digest()).await.unwrap(), None);
}

pub async fn ping_answers<R: IntegrationRepository>(repo: &R) {
    repo.ping().await.unwrap();
}

fn rand_bytes() -> [u8; 32] {
    let id = IntegrationId::new();
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(id.as_uuid().as_bytes());
    out[16..].copy_from_slice(IntegrationId::new().as_uuid().as_bytes());
    out
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
    }
}
