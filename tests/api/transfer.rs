//! API.md section 6 through the REST API on both backends: export to S3 and R2 (a real
//! SigV4-checking S3 server, s3s-fs), import from the six help centers (their local fakes,
//! whose `expected_images()` is the truth), the reveal endpoint and the scopes.

use integrations_cloud_storage::testing::S3sFs;
use integrations_domain::{Scope, Scopes};
use integrations_e2e::{helpcenter_credentials, Backend, TestApp};
use integrations_provider_fakes as fakes;
use integrations_provider_fakes::{
    Datasets, FakeConfig, FakeHelpCenters, Fault, RateLimitStyle, GOOD_SECRET,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

on_both_backends!(
    export_to_s3_and_r2,
    import_from_the_six_help_centers,
    reveal_and_scopes
);

const S3_KEY: &str = "AKIAEXPORTTESTKEY001";
const S3_SECRET: &str = "export-secret-key-00000000000000000000001";
const R2_KEY: &str = "fedcba9876543210fedcba9876543210";
const R2_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn r2_secret() -> String {
    "cd".repeat(32)
}

/// A PNG: the 8-byte signature, then filler.
fn png(len: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend((0..len.saturating_sub(8)).map(|i| (i % 251) as u8));
    b
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..len.saturating_sub(4)).map(|i| (i % 13) as u8));
    b
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.push(p.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The object files of a bucket (s3s-fs keeps its metadata and temporary files beside them).
fn objects(bucket: &Path) -> Vec<String> {
    files(bucket)
        .into_iter()
        .filter(|f| !f.contains(".internal.") && !f.starts_with(".s3s"))
        .collect()
}

/// A PUT written by hand on a TCP socket, so the path reaches the server exactly as written;
/// returns the status line.
async fn raw_put(app: &TestApp, path: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.api_key,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn export_to_s3_and_r2(backend: Backend) {
    let s3 = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket = s3.create_bucket("exports");
    let r2 = S3sFs::start(R2_KEY, &r2_secret());
    let r2_bucket = r2.create_bucket("r2-exports");
    let app = TestApp::spawn_with(
        backend,
        &[
            ("PROVIDERS__S3__BASE_URL", &s3.endpoint()),
            ("PROVIDERS__R2__BASE_URL", &r2.endpoint()),
            ("EXPORT__MAX_OBJECT_BYTES", "200000"),
        ],
    )
    .await;
    let s3_creds = json!({"bucket": "exports", "accessKeyId": S3_KEY,
                          "secretAccessKey": S3_SECRET, "region": "us-east-1",
                          "prefix": "shots/"});
    let s3_id = app
        .create(&json!({"label": "S3", "provider": "s3", "credentials": s3_creds}))
        .await;
    let r2_id = app
        .create(&json!({"label": "R2", "provider": "r2", "credentials": {
            "bucket": "r2-exports", "accessKeyId": R2_KEY, "secretAccessKey": r2_secret(),
            "accountId": R2_ACCOUNT}}))
        .await;

    // PNG to S3, under the prefix, presigned.
    let body = png(150_000);
    let res = app
        .put_bytes(
            &format!("/integration/{s3_id}/objects/2024/03/a%20b.png?presign=300"),
            "image/png",
            &body,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["bucket"], "exports");
    assert_eq!(res.body["key"], "shots/2024/03/a b.png");
    assert_eq!(res.body["size"], body.len());
    assert_eq!(res.body["contentType"], "image/png");
    assert!(res.body["etag"].as_str().unwrap().starts_with('"'));
    assert_eq!(
        res.body["url"],
        format!("{}/exports/shots/2024/03/a%20b.png", s3.endpoint())
    );
    assert!(res.body["expiresAt"].is_string(), "{}", res.text);
    assert_eq!(
        std::fs::read(bucket.join("shots/2024/03/a b.png")).unwrap(),
        body
    );
    let presigned = res.body["presignedUrl"].as_str().unwrap();
    let fetched = reqwest::get(presigned).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "image/png");
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), body);
    // Presigned GETs are signed for that object only.
    let other = presigned.replace("a%20b.png", "other.png");
    assert_eq!(reqwest::get(&other).await.unwrap().status(), 403);

    // JPEG to R2 (no prefix): the account endpoint is the configured base URL here.
    let body = jpeg(4_000);
    let res = app
        .put_bytes(
            &format!("/integration/{r2_id}/objects/b.jpg?presign=60"),
            "image/jpeg",
            &body,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["key"], "b.jpg");
    assert_eq!(
        res.body["url"],
        format!("{}/r2-exports/b.jpg", r2.endpoint())
    );
    let fetched = reqwest::get(res.body["presignedUrl"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.headers()["content-type"], "image/jpeg");
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), body);
    assert_eq!(std::fs::read(r2_bucket.join("b.jpg")).unwrap(), body);

    // Refused before anything is written: each names its field.
    let before = objects(&bucket);
    for (path, content_type, bytes, field) in [
        ("x.txt", "text/plain", b"hello".to_vec(), "contentType"),
        ("x.png", "image/png", jpeg(100), "body"),
        ("x.png", "image/png", png(200_001), "body"),
        ("x.png", "image/png", Vec::new(), "body"),
        ("a/..%2Fx.png", "image/png", png(100), "key"),
        ("%2Fx.png", "image/png", png(100), "key"),
        ("a//x.png", "image/png", png(100), "key"),
        ("a/%00.png", "image/png", png(100), "key"),
    ] {
        let res = app
            .put_bytes(
                &format!("/integration/{s3_id}/objects/{path}"),
                content_type,
                &bytes,
            )
            .await;
        assert_eq!(res.status, 422, "{path} {content_type}: {}", res.text);
        let fields: Vec<&str> = res.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, [field], "{path}: {}", res.text);
    }
    // A literal `..` segment, which HTTP clients normalise away, sent as is.
    let status = raw_put(
        &app,
        &format!("/integration/{s3_id}/objects/a/../x.png"),
        &png(100),
    )
    .await;
    assert!(status.contains(" 422 "), "{status}");
    let res = app
        .put_bytes(
            &format!("/integration/{s3_id}/objects/p.png?presign=0"),
            "image/png",
            &png(100),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "presign");
    assert_eq!(objects(&bucket), before, "a refused upload writes nothing");

    // Provider failures: 502 with the verify reasons; a missing bucket is not created.
    let mut wrong = s3_creds.clone();
    wrong["secretAccessKey"] = json!("not-the-secret-key-000000000000000000000");
    let wrong_id = app
        .create(&json!({"label": "Wrong", "provider": "s3", "credentials": wrong}))
        .await;
    let res = app
        .put_bytes(
            &format!("/integration/{wrong_id}/objects/w.png"),
            "image/png",
            &png(100),
        )
        .await;
    assert_eq!(res.status, 502, "{}", res.text);
    assert_eq!(res.body["reason"], "invalid_credentials", "{}", res.text);
    let mut missing = s3_creds.clone();
    missing["bucket"] = json!("no-such-bucket");
    let missing_id = app
        .create(&json!({"label": "Missing", "provider": "s3", "credentials": missing}))
        .await;
    let res = app
        .put_bytes(
            &format!("/integration/{missing_id}/objects/m.png"),
            "image/png",
            &png(100),
        )
        .await;
    assert_eq!(res.status, 502, "{}", res.text);
    assert_eq!(res.body["reason"], "not_found", "{}", res.text);
    assert!(!s3.data_dir().join("no-such-bucket").exists());
    assert_eq!(objects(&bucket), before);

    // Delete: the object goes; deleting it again is still a success (as S3 does).
    for _ in 0..2 {
        let res = app
            .delete(&format!("/integration/{s3_id}/objects/2024/03/a%20b.png"))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(
            res.body,
            json!({"bucket": "exports", "key": "shots/2024/03/a b.png",
                   "message": "The object has been successfully deleted."})
        );
    }
    assert!(!bucket.join("shots/2024/03/a b.png").exists());

    // Export needs a cloud integration.
    let zendesk_id = app
        .create(
            &json!({"label": "ZD", "provider": "zendesk", "credentials": {
            "username": "a@example.org", "token": "t0k", "subdomain": "acme"}}),
        )
        .await;
    let res = app
        .put_bytes(
            &format!("/integration/{zendesk_id}/objects/z.png"),
            "image/png",
            &png(100),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "id");

    // The audit trail has each export and delete, with outcome.
    let events = app.get(&format!("/integration/{s3_id}/events")).await;
    let actions: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["deleted_object", "deleted_object", "exported", "created"],
        "{}",
        events.text
    );
    let failed = app.get(&format!("/integration/{wrong_id}/events")).await;
    assert_eq!(failed.body["items"][0]["action"], "exported");
    assert_eq!(failed.body["items"][0]["outcome"], "failure");
    assert_eq!(failed.body["items"][0]["reason"], "invalid_credentials");
    app.stop().await;
}

/// A create body for `provider` with the secret the fakes accept.
fn helpcenter(provider: fakes::Provider) -> Value {
    json!({"label": provider.as_str(), "provider": provider.as_str(),
           "credentials": helpcenter_credentials(provider, GOOD_SECRET)})
}

/// Several provider pages for each (the adapters ask for 100 a page, Intercom 250; Help Scout
/// lists collections 50 a page and reads articles one by one).
fn datasets() -> Datasets {
    Datasets {
        zendesk: 130,
        intercom: 260,
        helpscout: vec![55, 0, 3],
        helpjuice: 130,
        freshdesk: vec![vec![101, 0], vec![3]],
        knowledgeowl: 130,
    }
}

async fn import_from_the_six_help_centers(backend: Backend) {
    let fake = FakeHelpCenters::start(FakeConfig {
        datasets: datasets(),
        ..FakeConfig::default()
    });
    let overrides = fake.overrides();
    let overrides: Vec<(&str, &str)> = overrides
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let app = TestApp::spawn_with(backend, &overrides).await;
    let mut ids = Vec::new();
    for provider in fakes::Provider::ALL {
        let id = app.create(&helpcenter(provider)).await;
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut calls = 0;
        loop {
            let path = match &cursor {
                None => format!("/integration/{id}/images?limit=100"),
                Some(c) => format!("/integration/{id}/images?limit=100&cursor={c}"),
            };
            let res = app.get(&path).await;
            assert_eq!(res.status, 200, "{provider:?}: {}", res.text);
            calls += 1;
            let items = res.body["items"].as_array().unwrap();
            assert!(items.len() <= 100);
            seen.extend(items.iter().cloned());
            match res.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(calls < 500, "{provider:?}: the walk does not end");
        }
        let expected: Vec<Value> = fake
            .expected_images(provider)
            .into_iter()
            .map(|e| {
                json!({"articleId": e.article_id, "articleTitle": e.article_title,
                       "articleUrl": e.article_url, "imageUrl": e.image_url, "alt": e.alt})
            })
            .collect();
        assert!(
            expected.len() > 100,
            "{provider:?}: a dataset of several pages"
        );
        assert_eq!(seen.len(), expected.len(), "{provider:?}");
        assert_eq!(seen, expected, "{provider:?}");
        assert!(calls > 1, "{provider:?}: several pages");
        ids.push((provider, id));
    }

    // Cursors are tamper-proof and bound to their integration.
    let (_, zendesk) = &ids[0];
    let (_, intercom) = &ids[1];
    let first = app
        .get(&format!("/integration/{zendesk}/images?limit=5"))
        .await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let mut forged = cursor.clone().into_bytes();
    let mid = forged.len() / 2;
    forged[mid] = if forged[mid] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for (id, c) in [
        (zendesk, forged.as_str()),
        (intercom, cursor.as_str()),
        (zendesk, "not-a-cursor"),
    ] {
        let res = app
            .get(&format!("/integration/{id}/images?cursor={c}"))
            .await;
        assert_eq!(res.status, 422, "{}", res.text);
        assert_eq!(res.body["errors"][0]["field"], "cursor", "{}", res.text);
    }
    let res = app
        .get(&format!("/integration/{zendesk}/images?limit=0"))
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["errors"][0]["field"], "limit");

    // The provider's rate limit: 503 with its wait; then the same cursor resumes.
    for (provider, id) in &ids {
        fake.set_fault(
            *provider,
            Fault::RateLimited(RateLimitStyle::native(*provider, 7)),
            1,
        );
        let res = app.get(&format!("/integration/{id}/images?limit=5")).await;
        assert_eq!(res.status, 503, "{provider:?}: {}", res.text);
        assert_eq!(res.body["reason"], "rate_limited");
        let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
        let expected = if *provider == fakes::Provider::Helpjuice {
            60
        } else {
            7
        };
        assert!(
            (expected - 1..=expected).contains(&wait),
            "{provider:?}: Retry-After {wait}"
        );
        fake.clear_faults();
    }
    // Bad credentials are 502 invalid_credentials; a server error 502 provider_error.
    fake.set_fault(fakes::Provider::Freshdesk, Fault::Status(500), 1);
    let (_, freshdesk) = &ids[4];
    let res = app.get(&format!("/integration/{freshdesk}/images")).await;
    assert_eq!(res.status, 502, "{}", res.text);
    assert_eq!(res.body["reason"], "provider_error");
    fake.clear_faults();

    // Import needs a help-center integration.
    let cloud = app
        .create(&json!({"label": "S3", "provider": "s3", "credentials": {
            "bucket": "some-bucket", "accessKeyId": S3_KEY, "secretAccessKey": S3_SECRET,
            "region": "us-east-1"}}))
        .await;
    let res = app.get(&format!("/integration/{cloud}/images")).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["errors"][0]["field"], "id");

    // Image URLs are returned, never fetched: only article endpoints were called.
    assert!(fake
        .requests()
        .iter()
        .all(|r| r.provider.is_some() && !r.path_and_query.contains("/images/")));
    app.stop().await;
    fake.stop().await;
}

async fn reveal_and_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let creds =
        json!({"username": "agent@example.org", "token": "reveal-me-123", "subdomain": "acme"});
    let id = app
        .create(&json!({"label": "ZD", "provider": "zendesk", "credentials": creds}))
        .await;
    let path = format!("/integration/{id}/credentials");

    // The default key (manage + use) may not reveal.
    let res = app.get(&path).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert!(res.body["message"].as_str().unwrap().contains("reveal"));
    assert!(!res.text.contains("reveal-me-123"));

    let reveal = app
        .api_key_with("default", Scopes::of([Scope::Reveal]))
        .await;
    let res = app.send(Method::GET, &path, Some(&reveal), None).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(
        res.body,
        json!({"id": id, "provider": "zendesk", "platform": "helpcenter", "credentials": creds})
    );
    // Another account's reveal key sees nothing.
    let foreign = app
        .api_key_with("other", Scopes::of([Scope::Reveal, Scope::Manage]))
        .await;
    let res = app.send(Method::GET, &path, Some(&foreign), None).await;
    assert_eq!(res.status, 404, "{}", res.text);

    // A reveal-only key cannot manage or use.
    let res = app
        .send(
            Method::GET,
            &format!("/integration/{id}"),
            Some(&reveal),
            None,
        )
        .await;
    assert_eq!(res.status, 403);
    let res = app
        .send(
            Method::GET,
            &format!("/integration/{id}/images"),
            Some(&reveal),
            None,
        )
        .await;
    assert_eq!(res.status, 403);
    // A manage-only key cannot use: export and import are 403 (nothing is called).
    let manage = app
        .api_key_with("default", Scopes::of([Scope::Manage]))
        .await;
    let res = app
        .send_bytes(
            Method::PUT,
            &format!("/integration/{id}/objects/a.png"),
            &manage,
            "image/png",
            png(100),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let res = app
        .send(
            Method::GET,
            &format!("/integration/{id}/images"),
            Some(&manage),
            None,
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(
        res.body["message"],
        "This API key does not have the 'use' scope."
    );
    // A use-only key cannot read, change or verify the integration (verify is `manage`).
    let use_only = app.api_key_with("default", Scopes::of([Scope::Use])).await;
    let res = app
        .send(
            Method::GET,
            &format!("/integration/{id}"),
            Some(&use_only),
            None,
        )
        .await;
    assert_eq!(res.status, 403);
    let res = app
        .send(
            Method::POST,
            "/integration/verify",
            Some(&use_only),
            Some(&json!({"integrationId": id})),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(
        res.body["message"],
        "This API key does not have the 'manage' scope."
    );

    // The reveal is in the audit trail (with its key id), the secret is not.
    let events = app.get(&format!("/integration/{id}/events")).await;
    let revealed: Vec<&Value> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "revealed")
        .collect();
    assert_eq!(revealed.len(), 1, "{}", events.text);
    assert_eq!(
        revealed[0]["keyId"].as_str().unwrap(),
        &reveal[3..11],
        "{}",
        events.text
    );
    assert!(!events.text.contains("reveal-me-123"));
    app.stop().await;
}
