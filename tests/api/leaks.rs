//! Nothing secret reaches the log at TRACE (the capture of this test binary logs every target at
//! TRACE through the server's own pipeline: the caps and the redacting writer), in the text and
//! the JSON format, for every provider: the six help centers (verify, a failed verify, an import
//! page) and S3/R2 (verify, a failed verify, export with a presigned URL, delete). Every secret
//! is unique to this test and checked in each form a client or provider could write it: as is,
//! base64 (the Basic headers), and any 16-character piece.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use integrations_cloud_storage::testing::S3sFs;
use integrations_domain::Scopes;
use integrations_e2e::{
    captured_json_logs, captured_logs, helpcenter_credentials, Backend, TestApp,
};
use integrations_provider_fakes as fakes;
use integrations_provider_fakes::{FakeConfig, FakeHelpCenters, ZENDESK_EMAIL};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(nothing_secret_reaches_the_log_at_trace);

fn unique(tag: &str) -> String {
    format!("{tag}{}", uuid::Uuid::new_v4().simple())
}

/// Every form of `secret` that must not appear: as is, in base64 (also inside a Basic value),
/// and its 16-character pieces (a partial echo).
fn forms(secret: &str, basic_with: &[String]) -> Vec<String> {
    let mut out = vec![
        secret.to_owned(),
        STANDARD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    out.extend(basic_with.iter().map(|pair| STANDARD.encode(pair)));
    let chars: Vec<char> = secret.chars().collect();
    out.extend(chars.windows(16).step_by(8).map(|w| w.iter().collect()));
    out
}

async fn nothing_secret_reaches_the_log_at_trace(backend: Backend) {
    // One good and one wrong secret per help center.
    let good: Vec<(fakes::Provider, String)> = fakes::Provider::ALL
        .iter()
        .map(|p| (*p, unique(&format!("{}Good", p.as_str()))))
        .collect();
    let secret_of = |p: fakes::Provider| good.iter().find(|(q, _)| *q == p).unwrap().1.clone();
    let fake = FakeHelpCenters::start(FakeConfig {
        zendesk_token: secret_of(fakes::Provider::Zendesk),
        intercom_token: secret_of(fakes::Provider::Intercom),
        helpscout_api_key: secret_of(fakes::Provider::Helpscout),
        helpjuice_api_key: secret_of(fakes::Provider::Helpjuice),
        freshdesk_api_key: secret_of(fakes::Provider::Freshdesk),
        knowledgeowl_api_key: secret_of(fakes::Provider::Knowledgeowl),
        ..FakeConfig::default()
    });
    let s3_key = format!("AKIA{}", unique("")[..16].to_uppercase());
    let s3_secret = unique("S3Secret");
    let r2_key = unique("")[..32].to_owned();
    let r2_secret = format!(
        "{}{}",
        unique("")[..32].to_owned(),
        unique("")[..32].to_owned()
    );
    let s3 = S3sFs::start(&s3_key, &s3_secret);
    s3.create_bucket("leak-bucket");
    let r2 = S3sFs::start(&r2_key, &r2_secret);
    r2.create_bucket("leak-bucket");

    let mut overrides = fake.overrides();
    overrides.push(("PROVIDERS__S3__BASE_URL".into(), s3.endpoint()));
    overrides.push(("PROVIDERS__R2__BASE_URL".into(), r2.endpoint()));
    let overrides: Vec<(&str, &str)> = overrides
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let app = TestApp::spawn_with(backend, &overrides).await;
    let reveal = app.api_key_with("default", Scopes::ALL).await;

    let mut forbidden: Vec<String> = Vec::new();
    for (provider, secret) in &good {
        let wrong = unique(&format!("{}Wrong", provider.as_str()));
        let basic = vec![
            format!("{ZENDESK_EMAIL}/token:{secret}"),
            format!("{secret}:X"),
            format!("{secret}:"),
            format!("{ZENDESK_EMAIL}/token:{wrong}"),
            format!("{wrong}:X"),
        ];
        forbidden.extend(forms(secret, &basic));
        forbidden.extend(forms(&wrong, &[]));

        let res = app
            .post(
                "/integration?verify=true",
                &json!({"label": "L", "provider": provider.as_str(),
                        "credentials": helpcenter_credentials(*provider, secret)}),
            )
            .await;
        assert_eq!(res.status, 200, "{provider:?}: {}", res.text);
        let id = res.body["id"].as_str().unwrap().to_owned();
        let res = app
            .post("/integration/verify", &json!({"integrationId": id}))
            .await;
        assert_eq!(res.body["isConnectionSuccessful"], true, "{}", res.text);
        let res = app
            .post(
                "/integration/verify",
                &json!({"provider": provider.as_str(),
                        "credentials": helpcenter_credentials(*provider, &wrong)}),
            )
            .await;
        assert_eq!(res.body["isConnectionSuccessful"], false, "{}", res.text);
        let res = app.get(&format!("/integration/{id}/images?limit=5")).await;
        assert_eq!(res.status, 200, "{provider:?}: {}", res.text);
        let res = app
            .send(
                Method::GET,
                &format!("/integration/{id}/credentials"),
                Some(&reveal),
                None,
            )
            .await;
        assert!(
            res.text.contains(secret.as_str()),
            "reveal shows the secret"
        );
    }

    for (provider, key, secret, endpoint) in [
        ("s3", &s3_key, &s3_secret, s3.endpoint()),
        ("r2", &r2_key, &r2_secret, r2.endpoint()),
    ] {
        let hex = || uuid::Uuid::new_v4().simple().to_string();
        let (wrong, unknown_key) = if provider == "r2" {
            (format!("{}{}", hex(), hex()), hex())
        } else {
            (
                unique("WrongSecret"),
                format!("AKIA{}", hex()[..16].to_uppercase()),
            )
        };
        forbidden.extend(forms(key, &[]));
        forbidden.extend(forms(secret, &[]));
        forbidden.extend(forms(&wrong, &[]));
        let mut creds = json!({"bucket": "leak-bucket", "accessKeyId": key,
                               "secretAccessKey": secret});
        if provider == "r2" {
            creds["accountId"] = json!("023e105f4ecef8ad9ca31a8372d0c353");
        } else {
            creds["region"] = json!("us-east-1");
        }
        let res = app
            .post(
                "/integration?verify=true",
                &json!({"label": "L", "provider": provider, "credentials": creds}),
            )
            .await;
        assert_eq!(res.status, 200, "{provider} via {endpoint}: {}", res.text);
        let id = res.body["id"].as_str().unwrap().to_owned();
        let res = app
            .put_bytes(
                &format!("/integration/{id}/objects/a.png?presign=60"),
                "image/png",
                b"\x89PNG\r\n\x1a\nleak-test",
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        let presigned = res.body["presignedUrl"].as_str().unwrap().to_owned();
        let signature = presigned.split("X-Amz-Signature=").nth(1).unwrap();
        forbidden.push(signature.to_owned());
        let res = app
            .delete(&format!("/integration/{id}/objects/a.png"))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        let mut bad = creds.clone();
        bad["secretAccessKey"] = json!(wrong);
        let res = app
            .post(
                "/integration/verify",
                &json!({"provider": provider, "credentials": bad}),
            )
            .await;
        assert_eq!(res.body["reason"], "invalid_credentials", "{}", res.text);
        // An unknown key id too: S3 answers with it in its error body.
        forbidden.extend(forms(&unknown_key, &[]));
        let mut unknown = creds.clone();
        unknown["accessKeyId"] = json!(unknown_key);
        let res = app
            .post(
                "/integration/verify",
                &json!({"provider": provider, "credentials": unknown}),
            )
            .await;
        assert_eq!(res.body["isConnectionSuccessful"], false, "{}", res.text);
    }
    forbidden.extend(forms(&app.api_key, &[]));
    forbidden.extend(forms(&reveal, &[]));

    // One request followed through the JSON log by its id.
    let request_id = unique("rid-");
    let res = app
        .client
        .post(format!("{}/integration/verify", app.address))
        .bearer_auth(&app.api_key)
        .header("x-request-id", &request_id)
        .json(&json!({"provider": "intercom",
                      "credentials": helpcenter_credentials(fakes::Provider::Intercom, &secret_of(fakes::Provider::Intercom))}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await;
    fake.stop().await;

    let text = captured_logs();
    let json_logs = captured_json_logs();
    assert!(
        text.lines().any(|l| l.contains(" TRACE ")),
        "the capture runs at TRACE"
    );
    for (name, logs) in [("text", &text), ("json", &json_logs)] {
        for form in &forbidden {
            let hits: Vec<&str> = logs
                .lines()
                .filter(|l| l.contains(form.as_str()))
                .take(2)
                .collect();
            assert!(hits.is_empty(), "the {name} log holds {form}: {hits:#?}");
        }
    }
    let lines: Vec<Value> = json_logs
        .lines()
        .filter(|l| l.contains(&request_id))
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(
        lines.iter().any(|l| l["target"]
            .as_str()
            .unwrap_or("")
            .starts_with("integrations_helpcenter")),
        "the adapter's lines carry the request id: {lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "request finished"),
        "{lines:#?}"
    );
    for l in &lines {
        assert_eq!(l["spans"][0]["name"], "request", "{l}");
        assert_eq!(l["spans"][0]["request_id"], request_id.as_str(), "{l}");
    }
}
