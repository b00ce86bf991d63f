//! Every endpoint's success path.

use integrations_e2e::{Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    create_read_update_delete,
    update_keeps_omitted_secrets_and_refuses_masks,
    list_filters_and_pages_with_cursor,
    health_and_readiness,
);

fn s3_body(label: &str) -> Value {
    json!({
        "label": label,
        "provider": "s3",
        "platform": "cloud",
        "credentials": {
            "bucket": "examplebucket",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "accountId": "zzz",
            "region": "auto"
        }
    })
}

fn is_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[19] == b'.'
}

async fn create_read_update_delete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .post("/integration", &s3_body("Dennis S3 Storage Credentials"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["message"],
        "The Integration credentials have been successfully created."
    );
    let id = res.body["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert!(is_timestamp(&res.body["createdAt"]));
    assert_eq!(res.body["createdAt"], res.body["updatedAt"]);
    let created_at = res.body["createdAt"].clone();

    let got = app.get(&format!("/integration/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["id"], id.as_str());
    assert_eq!(got.body["label"], "Dennis S3 Storage Credentials");
    assert_eq!(got.body["provider"], "s3");
    assert_eq!(got.body["platform"], "cloud");
    assert_eq!(
        got.body["credentials"],
        json!({"bucket": "examplebucket", "accessKeyId": "****MPLE",
               "secretAccessKey": "********", "region": "auto", "accountId": "zzz"})
    );
    assert_eq!(got.body["createdAt"], created_at);
    assert_eq!(got.body["lastVerification"], Value::Null);

    // Platform inferred when omitted; helpcenter subdomain normalised.
    let zd = app
        .create(
            &json!({"label": "Help", "provider": "zendesk", "credentials": {
            "username": "hello@example.org", "token": "zd-token-123",
            "subdomain": "https://example.zendesk.com"}}),
        )
        .await;
    let got = app.get(&format!("/integration/{zd}")).await;
    assert_eq!(got.body["platform"], "helpcenter");
    assert_eq!(
        got.body["credentials"],
        json!({"username": "hello@example.org", "token": "********", "subdomain": "example"})
    );

    let mut update = s3_body("Renamed");
    update["id"] = json!(id);
    update["credentials"]["bucket"] = json!("other-bucket");
    let res = app.put("/integration", &update).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body["message"],
        "The Integration credentials have been successfully updated."
    );
    assert_eq!(res.body["createdAt"], created_at);
    assert_ne!(res.body["updatedAt"], created_at);
    let updated_at = res.body["updatedAt"].clone();
    // updatedAt changes on every successful PUT, even immediately.
    let res = app.put("/integration", &update).await;
    assert_eq!(res.status, 200);
    assert!(res.body["updatedAt"].as_str() > updated_at.as_str());
    let got = app.get(&format!("/integration/{id}")).await;
    assert_eq!(got.body["label"], "Renamed");
    assert_eq!(got.body["credentials"]["bucket"], "other-bucket");
    assert_eq!(got.body["createdAt"], created_at);

    let res = app.delete(&format!("/integration/{id}")).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.body,
        json!({"id": id, "message": "The Integration has been successfully deleted."})
    );
    assert_eq!(app.get(&format!("/integration/{id}")).await.status, 404);
    assert_eq!(app.delete(&format!("/integration/{id}")).await.status, 404);
    app.stop().await;
}

async fn update_keeps_omitted_secrets_and_refuses_masks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create(&s3_body("Keep")).await;
    let read = app.get(&format!("/integration/{id}")).await.body;

    // PUT back exactly what was read: the masks must not overwrite the real values.
    let mut back = json!({"id": id, "label": read["label"], "provider": "s3",
                          "platform": "cloud", "credentials": read["credentials"]});
    let res = app.put("/integration", &back).await;
    assert_eq!(res.status, 422, "{}", res.text);
    let fields: Vec<&str> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"credentials.secretAccessKey"),
        "{fields:?}"
    );
    assert!(fields.contains(&"credentials.accessKeyId"), "{fields:?}");

    // Leave the sealed fields out: they keep their stored values.
    back["credentials"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k == "bucket" || k == "region");
    back["label"] = json!("Renamed without secrets");
    let res = app.put("/integration", &back).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let got = app.get(&format!("/integration/{id}")).await;
    assert_eq!(got.body["credentials"]["accessKeyId"], "****MPLE");
    assert_eq!(got.body["label"], "Renamed without secrets");

    // Changing the provider needs every field of the new one.
    let res = app
        .put(
            "/integration",
            &json!({"id": id, "label": "x", "provider": "helpscout", "credentials": {}}),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["errors"][0]["field"], "credentials.apiKey");
    app.stop().await;
}

async fn list_filters_and_pages_with_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.create(&s3_body(&format!("s3 {i}"))).await);
    }
    let hs = app
        .create(
            &json!({"label": "HS", "provider": "helpscout", "platform": "helpcenter",
                        "credentials": {"apiKey": "hs-key-1"}}),
        )
        .await;

    let all = app.get("/integration").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 6);
    assert_eq!(all.body["nextCursor"], Value::Null);
    assert_eq!(
        all.body["items"][0]["credentials"]["secretAccessKey"],
        "********"
    );

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/integration?provider=s3&limit=2&cursor={c}"),
            None => "/integration?provider=s3&limit=2".to_owned(),
        };
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every s3 integration once, in creation order");

    let help = app.get("/integration?platform=helpcenter").await;
    let items = help.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], hs.as_str());
    app.stop().await;
}

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.send(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(res.status, 200);
    let res = app.send(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "ready");
    app.stop().await;
}
