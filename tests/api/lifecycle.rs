//! Restarts: data survives; a different master key is refused at start.

use integrations_e2e::{Backend, TestApp};
use serde_json::json;

on_both_backends!(
    restart_keeps_data,
    a_different_master_key_is_refused_at_start
);

async fn restart_keeps_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app
        .create(
            &json!({"label": "Persisted", "provider": "freshdesk", "credentials": {
            "subdomain": "acme", "apiKey": "fd-key"}}),
        )
        .await;
    let before = app.get(&format!("/integration/{id}")).await.body;
    let app = app.restart().await;
    let after = app.get(&format!("/integration/{id}")).await;
    assert_eq!(
        after.status, 200,
        "the first API key still works after a restart"
    );
    assert_eq!(after.body, before);
    // The sealed secret still opens after the restart (same key file): a PUT keeping it works.
    let res = app
        .put(
            "/integration",
            &json!({"id": id, "label": "Renamed", "provider": "freshdesk",
                    "credentials": {"subdomain": "acme"}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.stop().await;
}

async fn a_different_master_key_is_refused_at_start(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(&json!({"label": "x", "provider": "helpscout", "credentials": {"apiKey": "k"}}))
        .await;
    let other_key = "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let err = app
        .restart_with(&[("VAULT__MASTER_KEY", other_key)])
        .await
        .err()
        .expect("a different master key must be refused at start");
    let message = err.to_string();
    assert!(message.contains("master key"), "{message}");
    assert!(!message.contains("AAAAAAAA"), "{message}");
}
