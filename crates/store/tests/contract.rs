//! The repository contract and the store's own behaviour, on SQLite (temp files) and on
//! PostgreSQL (a fresh `it_<random>` database per test at `TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Set `INTEGRATIONS_SKIP_POSTGRES=1` to skip the
//! PostgreSQL tests on a machine without a server; otherwise they fail when it is missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use integrations_domain::testing::contract::{
    first_api_key_is_created_once, run_all, run_key_registry, sample_event, sample_record,
};
use integrations_domain::{
    AccountId, AccountName, ApiKey, ApiKeyStore, IntegrationRepository, IntegrationView,
    KeyRegistry, ListQuery, Listed, NewApiKey, PageLimit, Provider, RepositoryError, Scopes,
};
use integrations_store::testing::FreshPostgres;
use integrations_store::{Store, StoreError, StoreOptions};
use std::future::Future;
use std::time::{Duration, Instant};

fn skip_postgres() -> bool {
    integrations_store::testing::skip_postgres()
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
    let (fresh, _) = sqlite_store(&dir, "registry.db").await;
    run_key_registry(&fresh).await;
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
    with_postgres(|store, _| async move { run_key_registry(&store).await }).await;
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
            let key = ApiKey::from_random_bytes(&[i + 1; 32]);
            let new = NewApiKey {
                key_id: key.key_id(),
                digest: key.digest(),
                scopes: Scopes::DEFAULT,
                label: None,
                created_at: time::OffsetDateTime::now_utc(),
            };
            store
                .insert_first_api_key(&name, &new)
                .await
                .map(|won| won.map(|a| (a, key)))
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
    let (account, key) = winners.remove(0);
    assert_eq!(
        store
            .find_api_key(&key.key_id(), &key.digest())
            .await
            .unwrap()
            .map(|k| k.account_id),
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

// ---------------------------------------------------------------- keys stored before key ids

/// A key stored before the key-id migration (no key id, only its digest) still
/// authenticates: it is found by digest once and given its key id.
async fn legacy_keys_get_their_key_id(store: &Store, url: &str, insert_legacy: &str) {
    let name = AccountName::parse("legacy").unwrap();
    let account = store.ensure_account(&name).await.unwrap();
    let key = ApiKey::from_random_bytes(&[42; 32]);
    let hex: String = key
        .digest()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    raw_sql(
        url,
        &insert_legacy
            .replace("$DIGEST", &hex)
            .replace("$ACCOUNT", &account.to_string()),
    )
    .await;
    assert!(
        store.list_api_keys(Some(&name)).await.unwrap().is_empty(),
        "not listed without a key id"
    );
    let found = store
        .find_api_key(&key.key_id(), &key.digest())
        .await
        .unwrap()
        .expect("found by digest");
    assert_eq!(found.key_id, key.key_id());
    assert_eq!(found.account_id, account);
    assert_eq!(found.scopes, Scopes::DEFAULT);
    // From now on by its id, and listed.
    assert_eq!(store.list_api_keys(Some(&name)).await.unwrap().len(), 1);
    let other = ApiKey::from_random_bytes(&[43; 32]);
    assert_eq!(
        store
            .find_api_key(&other.key_id(), &other.digest())
            .await
            .unwrap(),
        None
    );
}

/// Runs `sql` on a second connection of the same database (only tests write rows by hand).
async fn raw_sql(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
        let mut c = AsyncPgConnection::establish(url).await.unwrap();
        c.batch_execute(sql).await.unwrap();
    } else {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let path = url.trim_start_matches("sqlite://");
        let mut c = diesel::SqliteConnection::establish(path).unwrap();
        c.batch_execute(sql).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_legacy_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = sqlite_store(&dir, "legacy.db").await;
    legacy_keys_get_their_key_id(
        &store,
        &url,
        "INSERT INTO api_keys (digest, account_id, created_at) VALUES (X'$DIGEST', '$ACCOUNT', 0)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_legacy_keys() {
    if skip_postgres() {
        return;
    }
    with_postgres(|store, url| async move {
        legacy_keys_get_their_key_id(
            &store,
            &url,
            "INSERT INTO api_keys (digest, account_id, created_at) VALUES ('\\x$DIGEST', '$ACCOUNT', now())",
        )
        .await
    })
    .await;
}

// ---------------------------------------------------------------- bulk load

/// `insert_many` stores every record exactly (across the per-statement row limit), in
/// list order, and refuses a batch holding an existing id without keeping any of it.
async fn bulk_load(store: &Store) {
    let account = AccountId::new();
    let providers = Provider::ALL;
    let records: Vec<_> = (0..1_234)
        .map(|i| sample_record(account, providers[i % providers.len()], i as i64))
        .collect();
    assert_eq!(store.insert_many(&records).await.unwrap(), records.len());
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = ListQuery {
            platform: None,
            provider: None,
            limit: PageLimit::new(PageLimit::MAX).unwrap(),
            after,
        };
        let page = store.list(account, &query).await.unwrap();
        for item in page.items {
            match item {
                Listed::Readable(r) => seen.push(r),
                Listed::Unreadable(u) => panic!("unreadable row {}", u.id),
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let views: Vec<_> = records.iter().map(IntegrationView::from).collect();
    assert_eq!(seen, views);
    // Exactly, sealed secrets included.
    for r in &records {
        assert_eq!(&store.get(account, r.id).await.unwrap(), r);
    }

    let mut again = vec![sample_record(account, Provider::S3, 5_000)];
    again.push(records[7].clone());
    store.insert_many(&again).await.unwrap_err();
    assert!(
        matches!(
            store.get(account, again[0].id).await,
            Err(RepositoryError::NotFound)
        ),
        "a refused batch keeps nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bulk_load() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sqlite_store(&dir, "bulk.db").await;
    bulk_load(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulk_load() {
    if skip_postgres() {
        return;
    }
    with_postgres(|store, _| async move { bulk_load(&store).await }).await;
}

// ---------------------------------------------------------------- durability and errors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = sqlite_store(&dir, "durable.db").await;
    let record = sample_record(AccountId::new(), Provider::R2, 0);
    store.insert(&record, &sample_event(&record)).await.unwrap();
    let name = AccountName::parse("acme").unwrap();
    let account = store.ensure_account(&name).await.unwrap();
    store.remember_fingerprints(&[(1, [9; 32])]).await.unwrap();
    drop(store);

    let reopened = Store::connect(&url, StoreOptions::default()).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(
        reopened.get(record.account_id, record.id).await.unwrap(),
        record
    );
    assert_eq!(reopened.ensure_account(&name).await.unwrap(), account);
    assert_eq!(
        reopened.fingerprints().await.unwrap().get(&1),
        Some(&[9; 32])
    );
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
        store
            .find_api_key(
                &integrations_domain::KeyId::parse("abcdefgh").unwrap(),
                &integrations_domain::ApiKeyDigest::of("ik_x")
            )
            .await,
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
    store.insert(&record, &sample_event(&record)).await.unwrap();
    proxy.abort();
    drop(store);
    db.drop_database().await.unwrap();
}

// ---------------------------------------------------------------- rewrap beside traffic

/// A row another transaction holds (a verify or an update being written) is waited for, not
/// passed over: one sweep leaves no row under the old key. CI met the skip: `keys rewrap`
/// beside a serving replica rewrapped 29 of 30 rows and reported success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rewrap_waits_for_a_row_another_transaction_holds() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    use integrations_domain::testing::ReversibleVault;
    use integrations_domain::{CredentialVault, SealContext};
    if skip_postgres() {
        return;
    }
    with_postgres(|store, url| async move {
        let old = ReversibleVault::with_active(1);
        let mut records = Vec::new();
        for i in 0..5 {
            let mut r = sample_record(AccountId::new(), Provider::Zendesk, i);
            let secrets = integrations_domain::Credentials::parse(
                Provider::Zendesk,
                &integrations_domain::credentials::sample_input(Provider::Zendesk),
                integrations_domain::credentials::SealedDefaults::None,
            )
            .unwrap()
            .secret_fields();
            r.sealed = old.seal(&SealContext::of(&r), &secrets).await.unwrap();
            store.insert(&r, &sample_event(&r)).await.unwrap();
            records.push(r);
        }
        // Another connection holds the middle row, as a verify's write does while it commits.
        let mut holder = AsyncPgConnection::establish(&url).await.unwrap();
        holder
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM integrations WHERE id = '{}' FOR UPDATE",
                records[2].id
            ))
            .await
            .unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            holder.batch_execute("COMMIT").await.unwrap();
        });

        let new = ReversibleVault::with_active(2);
        let (mut after, mut rewrapped) = (None, 0);
        loop {
            let batch = store.rewrap_batch(2, after, 2, &new).await.unwrap();
            assert!(batch.failed.is_empty(), "{:?}", batch.failed);
            rewrapped += batch.rewrapped;
            match batch.last {
                Some(last) if batch.claimed > 0 => after = Some(last),
                _ => break,
            }
        }
        release.await.unwrap();
        assert_eq!(rewrapped, 5, "no row passed over");
        let counts = store.sealed_per_key().await.unwrap();
        assert_eq!(counts.get(&1), None, "{counts:?}");
        assert_eq!(counts.get(&2), Some(&5));
    })
    .await;
}
