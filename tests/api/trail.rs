//! The audit trail and the rate limits through the REST API (API.md section 8), on both
//! backends.

use integrations_e2e::mocks::MockZendesk;
use integrations_e2e::{Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    every_action_is_an_event_readable_after_delete,
    events_are_paged_newest_first_and_scoped_to_the_account,
    rate_limits_answer_429_with_their_headers
);

fn helpscout(key: &str) -> Value {
    json!({"label": "HS", "provider": "helpscout", "credentials": {"apiKey": key}})
}

async fn every_action_is_an_event_readable_after_delete(backend: Backend) {
    let zd = MockZendesk::start("right-token");
    let app = TestApp::spawn_with(backend, &[("PROVIDERS__ZENDESK__BASE_URL", &zd.base_url)]).await;
    let created = app
        .create(&json!({"label": "ZD", "provider": "zendesk", "credentials": {
            "username": integrations_e2e::mocks::ZENDESK_EMAIL, "token": "right-token", "subdomain": "acme"}}))
        .await;
    let res = app
        .put(
            "/integration",
            &json!({"id": created, "label": "Renamed", "provider": "zendesk", "credentials": {
                "username": integrations_e2e::mocks::ZENDESK_EMAIL, "subdomain": "acme"}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app
        .post("/integration/verify", &json!({"integrationId": created}))
        .await;
    assert_eq!(res.body["isConnectionSuccessful"], true, "{}", res.text);
    // A failed plain verify: an account event without integration, with its reason.
    let res = app
        .post(
            "/integration/verify",
            &json!({"provider": "zendesk", "credentials": {
                "username": integrations_e2e::mocks::ZENDESK_EMAIL, "token": "wrong-token", "subdomain": "acme"}}),
        )
        .await;
    assert_eq!(res.body["reason"], "invalid_credentials");
    // Refused before acting: not an event.
    let res = app.post("/integration", &json!({"label": ""})).await;
    assert_eq!(res.status, 422);
    let res = app
        .send(
            Method::DELETE,
            &format!("/integration/{created}"),
            Some(&app.api_key),
            None,
        )
        .await;
    assert_eq!(res.status, 200);

    let res = app.get(&format!("/integration/{created}/events")).await;
    assert_eq!(res.status, 200, "readable after delete: {}", res.text);
    let items = res.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["deleted", "verified", "updated", "created"]);
    let key_id = &app.api_key[3..11];
    for e in items {
        assert_eq!(e["integrationId"], json!(created));
        assert_eq!(e["outcome"], "success");
        assert_eq!(e["reason"], Value::Null);
        assert_eq!(e["keyId"], key_id);
        assert_eq!(e["clientIp"], "127.0.0.1");
        assert!(e["requestId"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            e.as_object().unwrap().len(),
            9,
            "exactly the fields of the contract: {e}"
        );
    }
    let all = app.get("/events").await;
    let account: Vec<&Value> = all.body["items"].as_array().unwrap().iter().collect();
    assert_eq!(account.len(), 5, "{}", all.text);
    let plain = account
        .iter()
        .find(|e| e["integrationId"].is_null())
        .expect("the plain verify is an account event");
    assert_eq!(plain["outcome"], "failure");
    assert_eq!(plain["reason"], "invalid_credentials");
    // Never a credential in the trail.
    assert!(!all.text.contains("right-token") && !all.text.contains("wrong-token"));
    app.stop().await;
    zd.stop().await;
}

async fn events_are_paged_newest_first_and_scoped_to_the_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.create(&helpscout("k-1")).await;
    for i in 0..4 {
        let res = app
            .put(
                "/integration",
                &json!({"id": id, "label": format!("v{i}"), "provider": "helpscout", "credentials": {}}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    let mut seen = Vec::new();
    let mut path = format!("/integration/{id}/events?limit=2");
    loop {
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|e| e["at"].as_str().unwrap().to_owned()));
        match page.body["nextCursor"].as_str() {
            Some(c) => path = format!("/integration/{id}/events?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "one created and four updated");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    // Another account: 404 for the integration's events, nothing in its own trail.
    let other = app.api_key_for("other").await;
    let res = app
        .send(
            Method::GET,
            &format!("/integration/{id}/events"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(res.status, 404);
    let res = app.send(Method::GET, "/events", Some(&other), None).await;
    assert_eq!(res.body["items"], json!([]));
    // A cursor of another list is refused.
    let list_cursor = {
        app.create(&helpscout("k-2")).await;
        let l = app.get("/integration?limit=1").await;
        l.body["nextCursor"].as_str().unwrap().to_owned()
    };
    let res = app.get(&format!("/events?cursor={list_cursor}")).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["errors"][0]["field"], "cursor");
    app.stop().await;
}

async fn rate_limits_answer_429_with_their_headers(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("LIMITS__REQUESTS_PER_MINUTE", "5"),
            ("LIMITS__OUTBOUND_PER_MINUTE", "2"),
        ],
    )
    .await;
    let res = app.get("/integration").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-ratelimit-limit"), Some("5"));
    assert_eq!(res.header("x-ratelimit-remaining"), Some("4"));
    let reset: u64 = res.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    let verify = json!({"provider": "helpscout", "credentials": {"apiKey": "k"}});
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(app.post("/integration/verify", &verify).await);
    }
    assert_eq!(
        statuses[2].status, 429,
        "the outbound limit (2 a minute) is stricter"
    );
    let retry: u64 = statuses[2].header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert!(statuses[2].body["message"]
        .as_str()
        .unwrap()
        .contains("provider calls"));
    // The request limit: one left, then 429 on any endpoint, with the headers.
    let res = app.get("/integration").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-ratelimit-remaining"), Some("0"));
    let res = app.get("/integration").await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").is_some());
    assert_eq!(res.header("x-ratelimit-limit"), Some("5"));
    // Another key has its own bucket; health needs no key and has no limit.
    let other = app.api_key_for("other").await;
    let res = app
        .send(Method::GET, "/integration", Some(&other), None)
        .await;
    assert_eq!(res.status, 200);
    for _ in 0..10 {
        assert_eq!(
            app.send(Method::GET, "/healthz", None, None).await.status,
            200
        );
    }
    app.stop().await;
}
