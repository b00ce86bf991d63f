//! The repository contract and the store's own behaviour, on SQLite (temp files) and on
//! PostgreSQL (a fresh `it_<random>` database per test at `TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Set `INTEGRATIONS_SKIP_POSTGRES=1` to skip the
//! PostgreSQL tests on a machine without a server; otherwise they fail when it is missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use integrations_domain::testing::contract::{
    first_api_key_is_created_once, run_all, sample_record,
};
use integrations_domain::{
    AccountId, AccountName, AccountRepository, ApiKeyDigest, IntegrationRepository, Provider,
    RepositoryError, SealedSecrets,
};
use integrations_store::testing::FreshPostgres;
use integrations_store::{FingerprintError, Store, StoreError, StoreOptions};
use std::future::Future;
use std::time::{Duration, Instant};

fn skip_postgres() -> bool {
    let skip = std::env::var_os("INTEGRATIONS_SKIP_POSTGRES").is_some_and(|v| v != "0");
    if skip {
        eprintln!("INTEGRATIONS_SKIP_POSTGRES is set: skipping a PostgreSQL test");
    }
    skip
}

/// Runs `test` against a migrated store on a fresh PostgreSQL database, dropping the
/// database afterwards (on panic through `FreshPostgres`'s `Drop`).
async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = FreshPostgres::create(&FreshPostgres::admin_url_from_env())
        .await
        .expect("PostgreSQL at TEST_DATABASE_URL (or set INTEGRATIONS_SKIP_POSTGRES=1)");
    let store = Store::connect(db.url(), StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(store.backend_name(), "postgres");
    store.migrate().await.unwrap();
    test(store, db.url().to_owned()).await;
    db.drop_database().await.unwrap();
}

async fn sqlite_store(dir: &tempfile::TempDir, file: &str) -> (Store, String) {
    let url = format!("sqlite://{}/{file}", dir.path().display());
    let store = Store::connect(&url, StoreOptions::default()).await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    store.migrate().await.unwrap();
    (store, url)
}

// ---------------------------------------------------------------- the contract

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet: connect creates it.
    let (store, _) = sqlite_store(&dir, "nested/dir/integrations.db").await;
    store.migrate().await.expect("migrations are idempotent");
    first_api_key_is_created_once(&store).await;
    run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_meets_the_contract() {
    let store = Store::connect("sqlite::memory:", StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    first_api_key_is_created_once(&store).await;
    run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_meets_the_contract() {
    if skip_postgres() {
        return;
    }
    with_postgres(|store, _| async move {
        store.migrate().await.expect("migrations are idempotent");
        first_api_key_is_created_once(&store).await;
        run_all(&store).await;
    })
    .await;
}

// ---------------------------------------------------------------- first key across replicas

/// Several stores (replicas) race to create the first key: exactly one wins.
async fn first_key_race(url: &str) {
    let name = AccountName::parse("default").unwrap();
    let mut tasks = Vec::new();
    for i in 0..6u8 {
        let store = Store::connect(url, StoreOptions::default()).await.unwrap();
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            let digest = ApiKeyDigest::from_bytes([i + 1; 32]);
            store
                .create_first_api_key(&name, &digest)
                .await
                .map(|won| won.map(|a| (a, digest)))
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        if let Some(w) = t.await.unwrap().unwrap() {
            winners.push(w);
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one replica creates the first key"
    );
    let store = Store::connect(url, StoreOptions::default()).await.unwrap();
    let (account, digest) = winners[0];
    assert_eq!(
        store.find_account_by_key(&digest).await.unwrap(),
        Some(account)
    );
    assert_eq!(store.ensure_account(&name).await.unwrap(), account);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_first_key_is_created_once_across_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, url) = sqlite_store(&dir, "race.db").await;
    first_key_race(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_first_key_is_created_once_across_replicas() {
    if skip_postgres() {
        return;
    }
    with_postgres(|_store, url| async move { first_key_race(&url).await }).await;
}

// ---------------------------------------------------------------- vault key fingerprints

async fn fingerprints_behave(store: &Store) {
    let (k1, k2) = ([1u8; 32], [2u8; 32]);
    // Unknown: remembered. Same again: fine.
    store.check_key_fingerprints(&[(100, k1)]).await.unwrap();
    store.check_key_fingerprints(&[(100, k1)]).await.unwrap();
    // Another key under the same id: refused.
    let err = store
        .check_key_fingerprints(&[(100, k2)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, FingerprintError::Mismatch { kek_id: 100 }),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains("does not match the key this database was encrypted with"));
    // A new key is added next to the old one.
    store
        .check_key_fingerprints(&[(100, k1), (101, k2)])
        .await
        .unwrap();
    // The old key may leave the configuration while nothing uses it...
    store.check_key_fingerprints(&[(101, k2)]).await.unwrap();
    // ...but not while an integration is still sealed under it.
    let mut record = sample_record(AccountId::new(), Provider::S3, 0);
    record.sealed = SealedSecrets {
        kek_id: 100,
        blob: vec![1, 2, 3],
    };
    store.insert(&record).await.unwrap();
    let err = store
        .check_key_fingerprints(&[(101, k2)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, FingerprintError::MissingKey { kek_id: 100 }),
        "{err:?}"
    );
    store
        .check_key_fingerprints(&[(100, k1), (101, k2)])
        .await
        .unwrap();
    // A mismatch is found even when listed after a good key.
    assert!(matches!(
        store.check_key_fingerprints(&[(101, k2), (100, k2)]).await,
        Err(FingerprintError::Mismatch { kek_id: 100 })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sqlite_store(&dir, "keys.db").await;
    fingerprints_behave(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_fingerprints() {
    if skip_postgres() {
        return;
    }
    with_postgres(|store, _| async move { fingerprints_behave(&store).await }).await;
}

// ---------------------------------------------------------------- rotation helpers

async fn rotation_helpers_work(store: &Store) {
    let account = AccountId::new();
    let mut ids = Vec::new();
    for (i, kek_id) in [1u32, 1, 2, 1, u32::MAX].into_iter().enumerate() {
        let mut r = sample_record(account, Provider::Zendesk, i as i64);
        r.sealed = SealedSecrets {
            kek_id,
            blob: vec![kek_id as u8; 4],
        };
        store.insert(&r).await.unwrap();
        ids.push((r.id, kek_id));
    }
    let per_kek = store.integrations_per_kek().await.unwrap();
    assert_eq!(per_kek.get(&1), Some(&3));
    assert_eq!(per_kek.get(&2), Some(&1));
    assert_eq!(per_kek.get(&u32::MAX), Some(&1));

    // Sweep kek 1 in batches of two.
    let mut swept = Vec::new();
    let mut after = None;
    loop {
        let batch = store.integrations_sealed_with(1, after, 2).await.unwrap();
        if batch.is_empty() {
            break;
        }
        after = batch.last().map(|r| r.id);
        for r in batch {
            assert_eq!(r.sealed.kek_id, 1);
            let new = SealedSecrets {
                kek_id: 3,
                blob: vec![3; 8],
            };
            assert!(store
                .replace_sealed(r.account_id, r.id, &r.sealed, &new)
                .await
                .unwrap());
            // Compare-and-set: the old value no longer matches.
            assert!(!store
                .replace_sealed(r.account_id, r.id, &r.sealed, &new)
                .await
                .unwrap());
            let back = store.get(r.account_id, r.id).await.unwrap();
            assert_eq!(back.sealed, new);
            assert_eq!(back.updated_at, r.updated_at);
            swept.push(r.id);
        }
    }
    let mut expected: Vec<_> = ids
        .iter()
        .filter(|(_, k)| *k == 1)
        .map(|(id, _)| *id)
        .collect();
    expected.sort();
    assert_eq!(swept, expected, "each row once, in id order");
    let per_kek = store.integrations_per_kek().await.unwrap();
    assert_eq!(per_kek.get(&1), None);
    assert_eq!(per_kek.get(&3), Some(&3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rotation_helpers() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sqlite_store(&dir, "rotation.db").await;
    rotation_helpers_work(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rotation_helpers() {
    if skip_postgres() {
        return;
    }
    with_postgres(|store, _| async move { rotation_helpers_work(&store).await }).await;
}

// ---------------------------------------------------------------- durability and errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = sqlite_store(&dir, "durable.db").await;
    let record = sample_record(AccountId::new(), Provider::R2, 0);
    store.insert(&record).await.unwrap();
    let name = AccountName::parse("acme").unwrap();
    let account = store.ensure_account(&name).await.unwrap();
    store.check_key_fingerprints(&[(1, [9; 32])]).await.unwrap();
    drop(store);

    let reopened = Store::connect(&url, StoreOptions::default()).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(
        reopened.get(record.account_id, record.id).await.unwrap(),
        record
    );
    assert_eq!(reopened.ensure_account(&name).await.unwrap(), account);
    assert!(matches!(
        reopened.check_key_fingerprints(&[(1, [8; 32])]).await,
        Err(FingerprintError::Mismatch { kek_id: 1 })
    ));
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    for url in ["mysql://localhost/db", "integrations.db", "", "sqlite://"] {
        let err = Store::connect(url, StoreOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::UnsupportedUrl { .. } | StoreError::InvalidUrl(_)
            ),
            "{url}: {err:?}"
        );
    }
}

/// A local port with nothing listening on it.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn fast_options() -> StoreOptions {
    StoreOptions {
        connect_timeout: Duration::from_millis(300),
        migrate_connect_timeout: Duration::from_secs(2),
        ..StoreOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_is_unavailable_quickly() {
    let url = format!("postgres://postgres@127.0.0.1:{}/nothing", dead_port());
    let store = Store::connect(&url, fast_options()).await.unwrap();
    let started = Instant::now();
    assert!(matches!(
        store.ping().await,
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(
        store
            .get(AccountId::new(), integrations_domain::IntegrationId::new())
            .await,
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(
        store.find_account_by_key(&ApiKeyDigest::of("ik_x")).await,
        Err(RepositoryError::Unavailable(_))
    ));
    // Generous bound: three calls of a 300 ms checkout timeout, on a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(
        store.migrate().await,
        Err(StoreError::Repository(RepositoryError::Unavailable(_)))
    ));
}

/// Forwards every connection accepted on 127.0.0.1:`port` to `target` until aborted
/// (aborting also closes the forwarded connections).
async fn start_proxy(port: u16, target: std::net::SocketAddr) -> tokio::task::AbortHandle {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            connections.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
    .abort_handle()
}

/// The PostgreSQL server of the admin URL, as host:port.
fn postgres_addr(admin_url: &str) -> std::net::SocketAddr {
    use std::net::ToSocketAddrs;
    let rest = admin_url.split_once("://").unwrap().1;
    let authority = rest.split(['/', '?']).next().unwrap();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    host_port.to_socket_addrs().unwrap().next().unwrap()
}

/// Down (nothing listening), up (a proxy to the real server), down again, up again: the
/// same store follows without being rebuilt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_recovers_when_the_server_comes_back() {
    if skip_postgres() {
        return;
    }
    let admin = FreshPostgres::admin_url_from_env();
    let target = postgres_addr(&admin);
    let db = FreshPostgres::create(&admin).await.unwrap();
    let port = dead_port();
    let proxied_url = {
        let (scheme, rest) = db.url().split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let user = authority
            .rsplit_once('@')
            .map(|(u, _)| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}127.0.0.1:{port}/{path}")
    };
    let store = Store::connect(&proxied_url, fast_options()).await.unwrap();

    assert!(matches!(
        store.ping().await,
        Err(RepositoryError::Unavailable(_))
    ));

    let wait_until_ok = |store: Store| async move {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match store.ping().await {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("still failing: {e:?}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    };

    let proxy = start_proxy(port, target).await;
    wait_until_ok(store.clone()).await;
    store.migrate().await.unwrap();

    proxy.abort();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match store.ping().await {
            Err(RepositoryError::Unavailable(_)) => break,
            Ok(()) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    let proxy = start_proxy(port, target).await;
    wait_until_ok(store.clone()).await;
    let record = sample_record(AccountId::new(), Provider::S3, 0);
    store.insert(&record).await.unwrap();
    proxy.abort();
    drop(store);
    db.drop_database().await.unwrap();
}
