//! `POST /integration/verify` in its three forms, `?verify=true`, and `lastVerification`,
//! against a real S3-compatible server (s3s-fs) and a local Zendesk stand-in.

use integrations_cloud_storage::testing::S3sFs;
use integrations_e2e::mocks::{silent_server, MockZendesk, ZENDESK_EMAIL};
use integrations_e2e::{Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    helpcenter_verify_in_all_three_forms,
    cloud_verify_in_all_three_forms
);

/// Every help-center provider through the REST API: the right credentials give the contract's
/// exact message, a wrong secret gives `invalid_credentials` (and never echoes it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_six_help_centers_verify_through_the_api() {
    use integrations_provider_fakes::{FakeConfig, FakeHelpCenters, Provider, GOOD_SECRET};
    let fake = FakeHelpCenters::start(FakeConfig::default());
    let overrides = fake.overrides();
    let overrides: Vec<(&str, &str)> = overrides
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let app = TestApp::spawn_with(Backend::Sqlite, &overrides).await;
    for provider in Provider::ALL {
        let mut credentials = integrations_e2e::helpcenter_credentials(provider, GOOD_SECRET);
        // The forms a user pastes: a region, a help center's URL instead of its subdomain.
        match provider {
            Provider::Intercom => credentials["region"] = json!("eu"),
            Provider::Helpjuice => {
                credentials["subdomain"] = json!("https://acme.helpjuice.com/en_US")
            }
            Provider::Freshdesk => credentials["subdomain"] = json!("acme.freshdesk.com"),
            _ => {}
        }
        let secret_field = if provider == Provider::Zendesk || provider == Provider::Intercom {
            "token"
        } else {
            "apiKey"
        };
        let body = json!({"platform": "helpcenter", "provider": provider.as_str(),
                          "credentials": credentials});
        let res = app.post("/integration/verify", &body).await;
        assert_eq!(
            res.body,
            json!({"isConnectionSuccessful": true,
                   "message": "The helpcenter credentials has been successfully validated"}),
            "{provider:?}: {}",
            res.text
        );
        let mut wrong = body.clone();
        wrong["credentials"][secret_field] = json!("wrong-secret-456");
        let res = app.post("/integration/verify", &wrong).await;
        assert_eq!(
            res.body["isConnectionSuccessful"], false,
            "{provider:?}: {}",
            res.text
        );
        assert_eq!(
            res.body["reason"], "invalid_credentials",
            "{provider:?}: {}",
            res.text
        );
        assert!(!res.text.contains("wrong-secret-456"), "{provider:?}");
    }
    app.stop().await;
    fake.stop().await;
}

const S3_KEY: &str = "AKIAE2ETESTKEY000001";
const S3_SECRET: &str = "e2e-secret-key-0000000000000000000000001";
const R2_KEY: &str = "0123456789abcdef0123456789abcdef";
const R2_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn r2_secret() -> String {
    "ab".repeat(32)
}

fn zendesk(token: &str) -> Value {
    json!({"label": "ZD", "provider": "zendesk", "platform": "helpcenter", "credentials": {
        "username": ZENDESK_EMAIL, "token": token, "subdomain": "https://acme.zendesk.com"}})
}

async fn helpcenter_verify_in_all_three_forms(backend: Backend) {
    let zd = MockZendesk::start("good-token");
    let app = TestApp::spawn_with(backend, &[("PROVIDERS__ZENDESK__BASE_URL", &zd.base_url)]).await;

    // Plain credentials.
    let mut plain = zendesk("good-token");
    plain.as_object_mut().unwrap().remove("label");
    let res = app.post("/integration/verify", &plain).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.body,
        json!({"isConnectionSuccessful": true,
               "message": "The helpcenter credentials has been successfully validated"})
    );
    plain["credentials"]["token"] = json!("bad-token");
    let res = app.post("/integration/verify", &plain).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["isConnectionSuccessful"], false);
    assert_eq!(res.body["reason"], "invalid_credentials");
    assert!(!res.text.contains("bad-token"));

    // ?verify=true refuses failing credentials and stores nothing.
    let res = app
        .post("/integration?verify=true", &zendesk("bad-token"))
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["reason"], "invalid_credentials");
    assert!(res.body["message"].as_str().unwrap().len() > 10);
    assert_eq!(app.get("/integration").await.body["items"], json!([]));
    let res = app
        .post("/integration?verify=true", &zendesk("good-token"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_owned();

    // By id: recorded.
    let res = app
        .post("/integration/verify", &json!({"integrationId": id}))
        .await;
    assert_eq!(res.body["isConnectionSuccessful"], true, "{}", res.text);
    let got = app.get(&format!("/integration/{id}")).await;
    let last = &got.body["lastVerification"];
    assert_eq!(last["isConnectionSuccessful"], true);
    assert_eq!(
        last["message"],
        "The helpcenter credentials has been successfully validated"
    );
    assert!(last["at"].as_str().unwrap().ends_with('Z'));

    // By id with overrides: the stored secret is used where omitted, nothing is recorded.
    let res = app
        .post(
            "/integration/verify",
            &json!({"integrationId": id, "credentials": {"token": "bad-token"}}),
        )
        .await;
    assert_eq!(res.body["isConnectionSuccessful"], false);
    let res = app
        .post(
            "/integration/verify",
            &json!({"integrationId": id, "credentials": {"subdomain": "acme"}}),
        )
        .await;
    assert_eq!(res.body["isConnectionSuccessful"], true, "{}", res.text);
    let again = app.get(&format!("/integration/{id}")).await;
    assert_eq!(again.body["lastVerification"], got.body["lastVerification"]);

    // PUT ?verify=true with a bad token: refused, stored token kept.
    let mut put = zendesk("bad-token");
    put["id"] = json!(id);
    assert_eq!(app.put("/integration?verify=true", &put).await.status, 422);
    let res = app
        .post("/integration/verify", &json!({"integrationId": id}))
        .await;
    assert_eq!(res.body["isConnectionSuccessful"], true);
    app.stop().await;
    zd.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_is_a_timeout() {
    let (url, _server) = silent_server().await;
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("PROVIDERS__ZENDESK__BASE_URL", &url),
            ("VERIFY__TIMEOUT_MS", "1000"),
        ],
    )
    .await;
    let mut plain = zendesk("any");
    plain.as_object_mut().unwrap().remove("label");
    let res = app.post("/integration/verify", &plain).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["isConnectionSuccessful"], false);
    assert_eq!(res.body["reason"], "timeout");
    app.stop().await;
}

async fn cloud_verify_in_all_three_forms(backend: Backend) {
    let s3 = S3sFs::start(S3_KEY, S3_SECRET);
    std::fs::create_dir(s3.data_dir().join("exports")).unwrap();
    let r2 = S3sFs::start(R2_KEY, &r2_secret());
    std::fs::create_dir(r2.data_dir().join("r2-exports")).unwrap();
    let app = TestApp::spawn_with(
        backend,
        &[
            ("PROVIDERS__S3__BASE_URL", &s3.endpoint()),
            ("PROVIDERS__R2__BASE_URL", &r2.endpoint()),
        ],
    )
    .await;

    let s3_creds = json!({"bucket": "exports", "accessKeyId": S3_KEY,
                          "secretAccessKey": S3_SECRET, "region": "auto"});
    let res = app
        .post(
            "/integration/verify",
            &json!({"platform": "cloud", "provider": "s3", "credentials": s3_creds}),
        )
        .await;
    assert_eq!(
        res.body,
        json!({"isConnectionSuccessful": true, "message": "The connection was successful"}),
        "{}",
        res.text
    );
    let r2_creds = json!({"bucket": "r2-exports", "accessKeyId": R2_KEY,
                          "secretAccessKey": r2_secret(), "accountId": R2_ACCOUNT});
    let res = app
        .post(
            "/integration/verify",
            &json!({"provider": "r2", "credentials": r2_creds}),
        )
        .await;
    assert_eq!(res.body["isConnectionSuccessful"], true, "{}", res.text);

    // By id, then with an override naming a missing bucket (not recorded, not created).
    let id = app
        .create(&json!({"label": "S3", "provider": "s3", "credentials": s3_creds}))
        .await;
    let res = app
        .post("/integration/verify", &json!({"integrationId": id}))
        .await;
    assert_eq!(res.body["isConnectionSuccessful"], true, "{}", res.text);
    let res = app
        .post(
            "/integration/verify",
            &json!({"integrationId": id, "credentials": {"bucket": "missing-bucket"}}),
        )
        .await;
    assert_eq!(
        res.body,
        json!({"isConnectionSuccessful": false, "reason": "not_found",
               "message": "The specified bucket does not exist."})
    );
    assert!(!s3.data_dir().join("missing-bucket").exists());
    let got = app.get(&format!("/integration/{id}")).await;
    assert_eq!(got.body["lastVerification"]["isConnectionSuccessful"], true);

    // ?verify=true with a wrong secret: 422 carrying the check's message, nothing stored.
    let mut wrong = s3_creds.clone();
    wrong["secretAccessKey"] = json!("not-the-secret-key-000000000000000000000");
    let res = app
        .post(
            "/integration?verify=true",
            &json!({"label": "Bad", "provider": "s3", "credentials": wrong}),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["reason"], "invalid_credentials");
    assert!(res.body["message"]
        .as_str()
        .unwrap()
        .contains("secret access key"));
    assert_eq!(
        app.get("/integration").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Nothing left behind in the bucket.
    let leftovers: Vec<_> = walk(&s3.data_dir().join("exports"));
    assert!(leftovers.is_empty(), "marker objects remain: {leftovers:?}");
    app.stop().await;
    let logs = integrations_e2e::captured_logs();
    for secret in [S3_SECRET, S3_KEY, R2_KEY, r2_secret().as_str()] {
        let lines: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains(secret))
            .take(3)
            .collect();
        assert!(lines.is_empty(), "the log holds {secret}: {lines:#?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
