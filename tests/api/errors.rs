//! Every error status: 401, 404, 405, 422 (each kind of bad input), 500, 503.

use integrations_e2e::proxy::Proxy;
use integrations_e2e::{captured_logs, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

on_both_backends!(
    unauthenticated_requests_are_401,
    unknown_ids_and_paths_are_404,
    bad_bodies_are_422_naming_the_field,
    bad_queries_and_ids_are_422,
    nothing_is_stored_on_422,
);

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn r2_body() -> Value {
    json!({"label": "R2", "provider": "r2", "platform": "cloud", "credentials": {
        "bucket": "examplebucket",
        "accessKeyId": "0123456789abcdef0123456789abcdef",
        "secretAccessKey": "ab".repeat(32),
        "accountId": "023e105f4ecef8ad9ca31a8372d0c353"}})
}

async fn unauthenticated_requests_are_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (method, path) in [
        (Method::GET, "/integration"),
        (Method::POST, "/integration"),
        (Method::PUT, "/integration"),
        (
            Method::GET,
            "/integration/55f5c789-1b87-4b82-91e5-3c3ad8b9393d",
        ),
        (
            Method::DELETE,
            "/integration/55f5c789-1b87-4b82-91e5-3c3ad8b9393d",
        ),
        (Method::POST, "/integration/verify"),
    ] {
        let res = app.send(method.clone(), path, None, Some(&r2_body())).await;
        assert_eq!(res.status, 401, "{method} {path}");
        assert!(res.body["message"].as_str().unwrap().contains("API key"));
        assert_eq!(res.header("www-authenticate"), Some("Bearer"));
        let res = app
            .send(method.clone(), path, Some("ik_wrong"), Some(&r2_body()))
            .await;
        assert_eq!(res.status, 401, "{method} {path}");
        assert_eq!(res.body["message"], "Invalid API key.");
    }
    let res = app
        .client
        .get(format!("{}/integration", app.address))
        .header("Authorization", format!("Basic {}", app.api_key))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    app.stop().await;
}

async fn unknown_ids_and_paths_are_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let unknown = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d";
    let res = app.get(&format!("/integration/{unknown}")).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body, json!({"message": "Integration not found."}));
    assert_eq!(
        app.delete(&format!("/integration/{unknown}")).await.status,
        404
    );
    let mut put = r2_body();
    put["id"] = json!(unknown);
    assert_eq!(app.put("/integration", &put).await.status, 404);
    let res = app
        .post("/integration/verify", &json!({"integrationId": unknown}))
        .await;
    assert_eq!(res.status, 404);
    let res = app.get("/nope").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.body["message"], "Not found.");
    let res = app
        .send(
            Method::PATCH,
            "/integration",
            Some(&app.api_key.clone()),
            None,
        )
        .await;
    assert_eq!(res.status, 405);
    app.stop().await;
}

async fn bad_bodies_are_422_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = app.api_key.clone();
    let raw = |body: &'static str, content_type: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/integration", app.address);
        let key = key.clone();
        async move {
            let res = client
                .post(url)
                .bearer_auth(key)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            TestApp::read(res).await
        }
    };
    for (body, ct) in [
        ("{\"label\": ", "application/json"),
        ("not json", "application/json"),
        ("", "application/json"),
        ("[1,2]", "application/json"),
        ("{\"label\":\"x\"}", "text/plain"),
        ("{\"label\":\"x\"}", "application/x-www-form-urlencoded"),
    ] {
        let res = raw(body, ct).await;
        assert_eq!(res.status, 422, "{body:?} {ct}: {}", res.text);
        assert_eq!(fields(&res.body), vec!["body"], "{body:?} {ct}");
        assert_eq!(res.body["message"], "The request is invalid.");
    }
    // Duplicate keys are refused, not silently resolved.
    let res = raw(
        r#"{"label":"a","label":"b","provider":"helpscout","credentials":{"apiKey":"k","apiKey":"j"}}"#,
        "application/json",
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.text);
    let mut got = fields(&res.body);
    got.sort();
    assert_eq!(got, vec!["credentials.apiKey", "label"]);

    // Over 64 KiB.
    let mut big = r2_body();
    big["label"] = json!("x".repeat(70 * 1024));
    let res = app.post("/integration", &big).await;
    assert_eq!(res.status, 422);
    assert_eq!(fields(&res.body), vec!["body"]);

    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["label", "provider", "credentials"]),
        (
            json!({"label": 5, "provider": "r2", "credentials": r2_body()["credentials"]}),
            vec!["label"],
        ),
        (
            json!({"label": "  ", "provider": "r2", "credentials": r2_body()["credentials"]}),
            vec!["label"],
        ),
        (
            json!({"label": "x", "provider": "dropbox", "credentials": {}}),
            vec!["provider"],
        ),
        (
            json!({"label": "x", "provider": "r2", "platform": "helpcenter",
                   "credentials": r2_body()["credentials"]}),
            vec!["platform"],
        ),
        (
            json!({"label": "x", "provider": "r2", "credentials": "secret"}),
            vec!["credentials"],
        ),
        (
            json!({"label": "x", "provider": "r2", "credentials": r2_body()["credentials"],
                   "extra": 1}),
            vec!["extra"],
        ),
    ];
    for (body, expected) in cases {
        let res = app.post("/integration", &body).await;
        assert_eq!(res.status, 422, "{body}: {}", res.text);
        let mut got = fields(&res.body);
        got.sort();
        let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(got, expected, "{body}");
    }

    // Credential fields: missing, unknown, wrong type, bad format.
    let mut c = r2_body();
    c["credentials"]["accountId"] = json!("zzz");
    c["credentials"]["bucket"] = json!(12);
    c["credentials"]["colour"] = json!("blue");
    c["credentials"]
        .as_object_mut()
        .unwrap()
        .remove("secretAccessKey");
    let res = app.post("/integration", &c).await;
    assert_eq!(res.status, 422);
    let mut got = fields(&res.body);
    got.sort();
    assert_eq!(
        got,
        vec![
            "credentials.accountId",
            "credentials.bucket",
            "credentials.colour",
            "credentials.secretAccessKey"
        ]
    );
    let msg = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "credentials.accountId")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("32 hexadecimal"), "{msg}");

    // SSRF: a subdomain URL on another host is refused.
    let res = app
        .post(
            "/integration",
            &json!({"label": "x", "provider": "zendesk", "credentials": {
                "username": "a@b.co", "token": "t", "subdomain": "https://evil.com/"}}),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(fields(&res.body), vec!["credentials.subdomain"]);
    app.stop().await;
}

async fn bad_queries_and_ids_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/integration/not-a-uuid",
        "/integration?limit=0",
        "/integration?limit=101",
        "/integration?limit=abc",
        "/integration?cursor=garbage",
        "/integration?provider=dropbox",
        "/integration?platform=storage",
        "/integration?platform=cloud&provider=zendesk",
        "/integration?colour=blue",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, 422, "{path}: {}", res.text);
        assert!(!fields(&res.body).is_empty(), "{path}");
    }
    assert_eq!(app.delete("/integration/123").await.status, 422);
    let mut put = r2_body();
    put["id"] = json!("123");
    let res = app.put("/integration", &put).await;
    assert_eq!(res.status, 422);
    assert_eq!(fields(&res.body), vec!["id"]);
    let res = app.put("/integration", &r2_body()).await;
    assert_eq!(res.status, 422);
    assert_eq!(fields(&res.body), vec!["id"]);
    let res = app
        .post("/integration/verify", &json!({"integrationId": "nope"}))
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(fields(&res.body), vec!["integrationId"]);
    let res = app.post("/integration?verify=maybe", &r2_body()).await;
    assert_eq!(res.status, 422);
    assert_eq!(fields(&res.body), vec!["verify"]);
    app.stop().await;
}

async fn nothing_is_stored_on_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create(&r2_body()).await;
    let before = app.get(&format!("/integration/{id}")).await.body;
    let mut bad = r2_body();
    bad["id"] = json!(id);
    bad["label"] = json!("changed");
    bad["credentials"]["accountId"] = json!("nothex");
    assert_eq!(app.put("/integration", &bad).await.status, 422);
    assert_eq!(app.get(&format!("/integration/{id}")).await.body, before);
    let mut bad = r2_body();
    bad["credentials"]["bucket"] = json!("Not_A_Bucket");
    assert_eq!(app.post("/integration", &bad).await.status, 422);
    let list = app.get("/integration").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

/// A stored blob that no longer opens (here: tampered in the database file) is a 500 that says
/// nothing internal and carries a request id that is also in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_are_500_with_a_logged_request_id() {
    use diesel::{Connection, RunQueryDsl};
    let app = TestApp::spawn(Backend::Sqlite).await;
    let id = app.create(&r2_body()).await;
    let path = app.sqlite_file().unwrap();
    let mut conn = diesel::SqliteConnection::establish(&path.display().to_string()).unwrap();
    let changed = diesel::sql_query("UPDATE integrations SET sealed = X'0101000000010000'")
        .execute(&mut conn)
        .unwrap();
    assert_eq!(changed, 1);
    let res = app
        .post("/integration/verify", &json!({"integrationId": id}))
        .await;
    assert_eq!(res.status, 500, "{}", res.text);
    let request_id = res.body["requestId"].as_str().unwrap().to_owned();
    assert_eq!(res.header("x-request-id"), Some(request_id.as_str()));
    assert_eq!(res.body["message"], "Internal server error.");
    assert_eq!(res.body.as_object().unwrap().len(), 2, "{}", res.text);
    let logs = captured_logs();
    assert!(
        logs.lines()
            .any(|l| l.contains(&request_id) && l.contains("unhandled error")),
        "the request id must be in the server log"
    );
    app.stop().await;
}

/// With the database gone the API answers 503 with `Retry-After` within a second, and
/// recovers by itself when the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_is_503_and_recovers() {
    if integrations_store::testing::skip_postgres() {
        return;
    }
    let pg =
        integrations_store::testing::FreshPostgres::create(&integrations_e2e::admin_database_url())
            .await
            .unwrap();
    let url = url::Url::parse(pg.url()).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
        .parse()
        .unwrap();
    let mut proxy = Proxy::start(target).await;
    let mut proxied = url.clone();
    proxied.set_port(Some(proxy.port)).unwrap();
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("DATABASE__URL", proxied.as_str()),
            ("DATABASE__QUERY_TIMEOUT_MS", "1000"),
        ],
    )
    .await;
    let id = app.create(&r2_body()).await;

    // A partition: connections stay open, nothing comes back. The query timeout answers.
    proxy.freeze();
    let started = Instant::now();
    let res = app.get(&format!("/integration/{id}")).await;
    assert_eq!(res.status, 503, "{}", res.text);
    assert_eq!(res.header("retry-after"), Some("1"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a frozen database must not hang requests"
    );
    proxy.thaw();
    let mut back = false;
    for _ in 0..50 {
        if app.get(&format!("/integration/{id}")).await.status == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(back, "recovers after the partition");

    // Gone: connections closed, port refusing.
    proxy.cut().await;
    for path in [
        "/integration".to_owned(),
        format!("/integration/{id}"),
        "/readyz".to_owned(),
    ] {
        let started = Instant::now();
        let res = app.get(&path).await;
        let elapsed = started.elapsed();
        assert_eq!(res.status, 503, "{path}: {}", res.text);
        assert_eq!(res.header("retry-after"), Some("1"));
        assert!(res.body["message"]
            .as_str()
            .unwrap()
            .contains("unavailable"));
        // Generous bound (the pool gives up after 500 ms): a hang would take the 30 s client
        // timeout.
        assert!(elapsed < Duration::from_secs(5), "{path} took {elapsed:?}");
    }
    let res = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(res.status, 200, "liveness does not depend on the database");

    proxy.restore().await;
    let mut recovered = false;
    for _ in 0..50 {
        if app.get(&format!("/integration/{id}")).await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the service must recover by itself");
    assert_eq!(app.get("/readyz").await.status, 200);
    app.stop().await;
    drop(pg);
}
