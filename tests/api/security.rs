//! Secrets never leave: not in responses, not in the log, not in the database file. Accounts
//! never see each other's integrations.

use integrations_e2e::{captured_logs, Backend, TestApp};
use reqwest::Method;
use serde_json::json;

on_both_backends!(accounts_are_isolated, request_ids_are_echoed_or_generated);

/// Unique per run so that the shared log capture proves something about this test.
fn unique_secret(tag: &str) -> String {
    format!("{tag}{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_responses_logs_or_the_database_file() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let s3_secret = unique_secret("S3SECRET");
    let key_id = format!("AKIA{}", &unique_secret("")[..16].to_uppercase());
    let zd_token = unique_secret("ZDTOKEN");
    let hs_key = unique_secret("HSKEY");
    let mut responses = String::new();

    let s3 = app
        .create(&json!({"label": "S3", "provider": "s3", "credentials": {
            "bucket": "examplebucket", "accessKeyId": key_id, "secretAccessKey": s3_secret}}))
        .await;
    let zd = app
        .create(
            &json!({"label": "ZD", "provider": "zendesk", "credentials": {
            "username": "a@example.org", "token": zd_token, "subdomain": "acme"}}),
        )
        .await;
    let hs_res = app
        .post(
            "/integration",
            &json!({"label": "HS", "provider": "helpscout", "credentials": {"apiKey": hs_key}}),
        )
        .await;
    responses.push_str(&hs_res.text);
    for path in [
        format!("/integration/{s3}"),
        format!("/integration/{zd}"),
        "/integration".to_owned(),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status, 200);
        responses.push_str(&res.text);
    }
    // Update (keeping secrets), a failing validation that echoes nothing, verify of each form.
    let res = app
        .put(
            "/integration",
            &json!({"id": s3, "label": "S3 renamed", "provider": "s3",
                    "credentials": {"bucket": "otherbucket"}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    responses.push_str(&res.text);
    let res = app
        .post(
            "/integration",
            &json!({"label": "bad", "provider": "s3", "credentials": {
                "bucket": "BAD", "accessKeyId": key_id, "secretAccessKey": format!("{s3_secret} x")}}),
        )
        .await;
    assert_eq!(res.status, 422);
    responses.push_str(&res.text);
    for body in [
        json!({"integrationId": zd}),
        json!({"integrationId": zd, "credentials": {"subdomain": "other"}}),
        json!({"provider": "zendesk", "credentials": {
            "username": "a@example.org", "token": zd_token, "subdomain": "acme"}}),
    ] {
        let res = app.post("/integration/verify", &body).await;
        responses.push_str(&res.text);
    }

    let logs = captured_logs();
    let file = app.sqlite_file().unwrap();
    // The database file and its write-ahead log, while the app runs (they go with its temp dir).
    let mut bytes = std::fs::read(&file).unwrap();
    for suffix in ["-wal", "-shm"] {
        if let Ok(more) = std::fs::read(format!("{}{suffix}", file.display())) {
            bytes.extend(more);
        }
    }
    assert!(bytes.len() > 4096, "the database was read");
    app.stop().await;
    let db = String::from_utf8_lossy(&bytes);
    for secret in [&s3_secret, &zd_token, &hs_key, &key_id] {
        assert!(
            !responses.contains(secret.as_str()),
            "a response leaked {secret}"
        );
        assert!(!logs.contains(secret.as_str()), "the log leaked {secret}");
        assert!(
            !db.contains(secret.as_str()),
            "the database file holds {secret} in clear"
        );
    }
    assert!(logs.contains("request finished"), "logs were captured");
}

async fn accounts_are_isolated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.api_key_for("other-account").await;
    let id = app
        .create(&json!({"label": "Mine", "provider": "helpscout",
                        "credentials": {"apiKey": "k-123"}}))
        .await;
    let path = format!("/integration/{id}");
    let res = app.send(Method::GET, &path, Some(&other), None).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body["message"], "Integration not found.");
    let res = app
        .send(
            Method::PUT,
            "/integration",
            Some(&other),
            Some(
                &json!({"id": id, "label": "Stolen", "provider": "helpscout",
                         "credentials": {"apiKey": "k-456"}}),
            ),
        )
        .await;
    assert_eq!(res.status, 404);
    let res = app
        .send(
            Method::POST,
            "/integration/verify",
            Some(&other),
            Some(&json!({"integrationId": id})),
        )
        .await;
    assert_eq!(res.status, 404);
    let res = app.send(Method::DELETE, &path, Some(&other), None).await;
    assert_eq!(res.status, 404);
    let res = app
        .send(Method::GET, "/integration", Some(&other), None)
        .await;
    assert_eq!(res.body["items"], json!([]));
    // Untouched for its owner.
    let mine = app.get(&path).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["label"], "Mine");
    app.stop().await;
}

async fn request_ids_are_echoed_or_generated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .client
        .get(format!("{}/integration", app.address))
        .bearer_auth(&app.api_key)
        .header("x-request-id", "client-chosen-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers().get("x-request-id").unwrap(),
        "client-chosen-42"
    );
    for path in ["/healthz", "/integration", "/nope"] {
        let res = app.send(Method::GET, path, None, None).await;
        let id = res.header("x-request-id").unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{path}: {id}");
    }
    app.stop().await;
}
