//! TLS to PostgreSQL against the local cluster and its self-signed certificate (Debian's
//! `ssl-cert-snakeoil`, issued for `localhost`): `require` encrypts, `verify-full` checks the
//! chain against `sslrootcert` and the host name, a wrong root or a wrong name is refused.
//! Skipped, saying why, when the server does not offer TLS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use diesel::sql_types::Bool;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use integrations_domain::IntegrationRepository;
use integrations_store::testing::FreshPostgres;
use integrations_store::{Store, StoreOptions};

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Encrypted {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

async fn setting(conn: &mut AsyncPgConnection, name: &str) -> String {
    diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
        .get_result::<Setting>(conn)
        .await
        .unwrap()
        .value
}

/// `url` with `host` and extra query parameters.
fn with(url: &str, host: &str, params: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = base.replacen("127.0.0.1", host, 1);
    let joined = [query, params]
        .into_iter()
        .filter(|q| !q.is_empty())
        .collect::<Vec<_>>()
        .join("&");
    format!("{base}?{joined}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_every_sslmode() {
    if integrations_store::testing::skip_postgres() {
        return;
    }
    let admin = FreshPostgres::admin_url_from_env();
    let mut conn = AsyncPgConnection::establish(&admin).await.unwrap();
    if setting(&mut conn, "ssl").await != "on" {
        eprintln!("SKIPPED: the PostgreSQL server at TEST_DATABASE_URL has ssl = off");
        return;
    }
    let cert = setting(&mut conn, "ssl_cert_file").await;
    let cert = if cert.starts_with('/') {
        std::path::PathBuf::from(cert)
    } else {
        std::path::PathBuf::from(setting(&mut conn, "data_directory").await).join(cert)
    };
    if std::fs::read(&cert).is_err() {
        eprintln!(
            "SKIPPED: the server's certificate {} cannot be read here",
            cert.display()
        );
        return;
    }
    conn.batch_execute("SELECT 1").await.unwrap();
    let db = FreshPostgres::create(&admin).await.unwrap();
    let root = format!("sslrootcert={}", cert.display());

    let encrypted = |url: String| async move {
        let store = Store::connect(&url, StoreOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| e.to_string())?;
        store.ping().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(store)
    };

    // require: encrypted, certificate not checked; the server sees the store's sessions
    // encrypted (the pool keeps them open).
    let store = encrypted(with(db.url(), "127.0.0.1", "sslmode=require"))
        .await
        .expect("sslmode=require connects");
    let seen: Encrypted = diesel::sql_query(format!(
        "SELECT bool_and(s.ssl) AS ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.datname = '{}'",
        db.name()
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(seen.ssl, "every session of the store is encrypted");
    drop(store);
    // verify-full: the chain against the server's own (self-signed) certificate, the name
    // `localhost` is in it.
    encrypted(with(
        db.url(),
        "localhost",
        &format!("sslmode=verify-full&{root}"),
    ))
    .await
    .expect("sslmode=verify-full connects to localhost");
    // verify-ca: the chain only, so an IP address that is not in the certificate is fine...
    encrypted(with(
        db.url(),
        "127.0.0.1",
        &format!("sslmode=verify-ca&{root}"),
    ))
    .await
    .expect("sslmode=verify-ca ignores the host name");
    // ...but verify-full refuses it.
    let err = encrypted(with(
        db.url(),
        "127.0.0.1",
        &format!("sslmode=verify-full&{root}"),
    ))
    .await
    .expect_err("the host name is checked");
    assert!(
        err.contains("unavailable") || err.contains("certificate") || err.contains("connect"),
        "{err}"
    );
    // A root that did not sign the server's certificate (a public CA of the system) is
    // refused.
    let public = "/etc/ssl/certs/ca-certificates.crt";
    if std::path::Path::new(public).exists() {
        assert!(encrypted(with(
            db.url(),
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={public}")
        ))
        .await
        .is_err());
    } else {
        eprintln!("{public} is missing: the wrong-root case was not checked");
    }

    db.drop_database().await.unwrap();
}
