//! Each provider accepts exactly its one configured secret, and refuses anything else the way
//! the real one does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{auth, basic, client, get, json};
use integrations_provider_fakes::{
    FakeConfig, FakeHelpCenters, Provider, GOOD_SECRET, KNOWLEDGEOWL_PROJECT, ZENDESK_EMAIL,
};
use serde_json::json;

/// The cheapest verify call of each provider (`providers.md` section 0).
fn verify_path(p: Provider) -> String {
    match p {
        Provider::Zendesk => "/api/v2/users/me.json".into(),
        Provider::Intercom => "/me".into(),
        Provider::Helpscout => "/v1/sites".into(),
        Provider::Helpjuice => "/api/v3/settings/account".into(),
        Provider::Freshdesk => "/api/v2/agents/me".into(),
        Provider::Knowledgeowl => {
            format!("/api/head/article.json?project_id={KNOWLEDGEOWL_PROJECT}&limit=1")
        }
    }
}

#[tokio::test]
async fn good_secret_is_accepted_by_every_provider() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    for p in Provider::ALL {
        let resp = get(&fake, p, &verify_path(p)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{p}");
        let v = json(resp).await;
        match p {
            Provider::Zendesk => {
                assert!(v["user"]["id"].is_u64());
                assert_eq!(v["user"]["role"], "admin");
            }
            Provider::Intercom => assert_eq!(v["type"], "admin"),
            Provider::Helpscout => assert_eq!(v["sites"]["count"], 1),
            Provider::Helpjuice => assert_eq!(v["subdomain"], "fake"),
            Provider::Freshdesk => assert!(v["id"].is_u64()),
            Provider::Knowledgeowl => {
                assert_eq!(v["valid"], true);
                assert_eq!(v["data"].as_array().unwrap().len(), 1);
            }
        }
    }
    fake.stop().await;
}

#[tokio::test]
async fn wrong_and_missing_credentials_are_refused_as_documented() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    let c = client();
    for p in Provider::ALL {
        let url = format!("{}{}", fake.base_url, verify_path(p));
        for authz in [Some(auth(p, "wrong-secret")), None] {
            let mut rb = c.get(&url).header("Intercom-Version", "2.11");
            if let Some(a) = &authz {
                rb = rb.header("Authorization", a);
            }
            let resp = rb.send().await.unwrap();
            let status = resp.status().as_u16();
            let www = resp
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            let v = json(resp).await;
            match p {
                // users/me is allowed for anonymous users: 200 with an anonymous user.
                Provider::Zendesk => {
                    assert_eq!(status, 200);
                    assert!(v["user"]["id"].is_null());
                    assert_eq!(v["user"]["role"], "end-user");
                    assert_eq!(www, None);
                }
                Provider::Intercom => {
                    assert_eq!(status, 401);
                    assert_eq!(
                        v["errors"],
                        json!([{"code": "unauthorized", "message": "Access Token Invalid"}])
                    );
                    assert_eq!(v["type"], "error.list");
                }
                Provider::Freshdesk => {
                    assert_eq!(status, 401);
                    assert_eq!(v["code"], "invalid_credentials");
                    assert_eq!(
                        v["message"],
                        "You have to be logged in to perform this action."
                    );
                }
                Provider::Helpscout | Provider::Helpjuice => assert_eq!(status, 401, "{p}"),
                Provider::Knowledgeowl => {
                    assert_eq!(status, 401);
                    assert_eq!(v["valid"], false);
                }
            }
        }
    }
    // Other Zendesk endpoints: 401 with the documented body and header.
    for authz in [
        auth(Provider::Zendesk, "wrong"),
        // The common mistake: `email:token` without `/token`.
        basic(ZENDESK_EMAIL, GOOD_SECRET),
    ] {
        let resp = c
            .get(format!(
                "{}/api/v2/help_center/articles.json",
                fake.base_url
            ))
            .header("Authorization", authz.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Basic realm=\"Web Password\""
        );
        assert_eq!(
            json(resp).await,
            json!({"error": "Couldn't authenticate you"})
        );
        let resp = c
            .get(format!("{}/api/v2/users/me.json", fake.base_url))
            .header("Authorization", authz.as_str())
            .send()
            .await
            .unwrap();
        assert!(json(resp).await["user"]["id"].is_null());
    }
    // A Freshdesk-style key on Zendesk is not Zendesk's auth either.
    let resp = c
        .get(format!("{}/api/v2/users/me.json", fake.base_url))
        .header("Authorization", format!("Bearer {GOOD_SECRET}"))
        .send()
        .await
        .unwrap();
    assert!(json(resp).await["user"]["id"].is_null());
    fake.stop().await;
}

#[tokio::test]
async fn provider_specific_auth_details() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    let c = client();
    let base = &fake.base_url;

    // Intercom: the right token without Intercom-Version is refused (configurable), with any
    // version it is accepted.
    let resp = c
        .get(format!("{base}/me"))
        .bearer_auth(GOOD_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        json(resp).await["errors"][0]["code"],
        "intercom_version_missing"
    );
    for version in ["2.11", "2.14", "Preview"] {
        let resp = c
            .get(format!("{base}/me"))
            .bearer_auth(GOOD_SECRET)
            .header("Intercom-Version", version)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{version}");
    }
    // Basic instead of Bearer is refused.
    let resp = c
        .get(format!("{base}/me"))
        .header("Authorization", basic(GOOD_SECRET, ""))
        .header("Intercom-Version", "2.11")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Helpjuice: raw key only; `Bearer key` is not the key. `?api_key=` works too.
    let resp = c
        .get(format!("{base}/api/v3/settings/account"))
        .header("Authorization", format!("Bearer {GOOD_SECRET}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = c
        .get(format!(
            "{base}/api/v3/settings/account?api_key={GOOD_SECRET}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Help Scout, Freshdesk, KnowledgeOwl: the key is the user, the password is a dummy.
    for (p, path) in [
        (Provider::Helpscout, "/v1/sites".to_owned()),
        (Provider::Freshdesk, "/api/v2/agents/me".to_owned()),
        (
            Provider::Knowledgeowl,
            format!("/api/head/article.json?project_id={KNOWLEDGEOWL_PROJECT}&limit=1"),
        ),
    ] {
        for password in ["X", "x", "anything"] {
            let resp = c
                .get(format!("{base}{path}"))
                .header("Authorization", basic(GOOD_SECRET, password))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{p} {password}");
        }
        // Key as the password instead of the user: refused.
        let resp = c
            .get(format!("{base}{path}"))
            .header("Authorization", basic("X", GOOD_SECRET))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{p}");
    }

    // KnowledgeOwl: the right key with a wrong project is not a valid answer.
    let resp = get(
        &fake,
        Provider::Knowledgeowl,
        "/api/head/article.json?project_id=000000000000000000000000&limit=1",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let v = json(resp).await;
    assert_eq!(v["valid"], false);
    assert!(v["message"].is_string());
    assert!(v.get("data").is_none());
    fake.stop().await;
}

#[tokio::test]
async fn helpjuice_require_token_is_switchable() {
    let on = FakeHelpCenters::start(FakeConfig::default());
    let off = FakeHelpCenters::start(FakeConfig {
        helpjuice_require_token: false,
        ..FakeConfig::default()
    });
    let c = client();
    let no_header = |base: &str| c.get(format!("{base}/api/v3/settings/account")).send();
    assert_eq!(no_header(&on.base_url).await.unwrap().status(), 401);
    assert_eq!(no_header(&off.base_url).await.unwrap().status(), 200);
    // Off: even a wrong key is answered (the risk providers.md describes).
    let resp = c
        .get(format!("{}/api/v3/articles", off.base_url))
        .header("Authorization", "wrong-key")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    on.stop().await;
    off.stop().await;
}

#[tokio::test]
async fn configured_secrets_and_role_are_used() {
    let fake = FakeHelpCenters::start(FakeConfig {
        zendesk_email: "someone@example.org".into(),
        zendesk_token: "zdtoken".into(),
        zendesk_role: "end-user".into(),
        intercom_token: "ictoken".into(),
        intercom_require_version: false,
        ..FakeConfig::default()
    });
    let c = client();
    let resp = c
        .get(format!("{}/api/v2/users/me.json", fake.base_url))
        .header(
            "Authorization",
            basic("someone@example.org/token", "zdtoken"),
        )
        .send()
        .await
        .unwrap();
    let v = json(resp).await;
    assert!(v["user"]["id"].is_u64());
    assert_eq!(v["user"]["role"], "end-user");
    assert_eq!(v["user"]["email"], "someone@example.org");
    // The default secret is no longer Zendesk's.
    let resp = get(&fake, Provider::Zendesk, "/api/v2/users/me.json")
        .send()
        .await
        .unwrap();
    assert!(json(resp).await["user"]["id"].is_null());
    // Intercom without version header accepted when not required.
    let resp = c
        .get(format!("{}/me", fake.base_url))
        .bearer_auth("ictoken")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    fake.stop().await;
}

#[tokio::test]
async fn overrides_point_every_provider_here() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    let o = fake.overrides();
    let keys: Vec<&str> = o.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "PROVIDERS__ZENDESK__BASE_URL",
            "PROVIDERS__INTERCOM__BASE_URL",
            "PROVIDERS__INTERCOM__BASE_URL_EU",
            "PROVIDERS__INTERCOM__BASE_URL_AU",
            "PROVIDERS__HELPSCOUT__BASE_URL",
            "PROVIDERS__HELPJUICE__BASE_URL",
            "PROVIDERS__FRESHDESK__BASE_URL",
            "PROVIDERS__KNOWLEDGEOWL__BASE_URL",
        ]
    );
    assert!(o.iter().all(|(_, v)| v == &fake.base_url));
    assert!(fake.base_url.starts_with("http://127.0.0.1:"));
    assert_eq!(
        Provider::ALL.map(Provider::as_str),
        [
            "zendesk",
            "intercom",
            "helpscout",
            "helpjuice",
            "freshdesk",
            "knowledgeowl"
        ]
    );
    // A path of no provider.
    let resp = client()
        .get(format!("{}/nothing/here", fake.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    fake.stop().await;
}
