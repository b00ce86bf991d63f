//! The HTTP layer over the domain's in-memory doubles, with `actix_web::test`: no database,
//! no network, milliseconds per test. The end-to-end suite (`tests/` at the workspace root)
//! runs the same endpoints against the real adapters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use actix_web::http::{Method, StatusCode};
use actix_web::{test, App};
use integrations_api::{service, Api, ApiConfig, DynAccess, DynIntegrations};
use integrations_domain::testing::{
    CountingEntropy, InMemoryRepository, ReversibleVault, ScriptedVerifier,
};
use integrations_domain::{
    AccessService, AccountName, FailureReason, IntegrationService, Scope, Scopes,
    VerificationFailure,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

struct Doubles {
    access: Arc<DynAccess>,
    integrations: Arc<DynIntegrations>,
    verifier: Arc<ScriptedVerifier>,
    repo: Arc<InMemoryRepository>,
}

fn doubles() -> Doubles {
    let repo = Arc::new(InMemoryRepository::new());
    let verifier = Arc::new(ScriptedVerifier::new());
    Doubles {
        access: Arc::new(AccessService::new(
            repo.clone(),
            Arc::new(CountingEntropy::default()),
            Duration::ZERO,
        )),
        integrations: Arc::new(IntegrationService::new(
            repo.clone(),
            Arc::new(ReversibleVault::default()),
            verifier.clone(),
        )),
        verifier,
        repo,
    }
}

impl Doubles {
    fn api(&self) -> Api {
        Api {
            integrations: self.integrations.clone(),
            access: self.access.clone(),
            config: ApiConfig::default(),
        }
    }

    async fn key(&self, account: &str, scopes: Scopes) -> String {
        let (key, _) = self
            .access
            .create_key(&AccountName::parse(account).unwrap(), scopes, None)
            .await
            .unwrap();
        key.expose().to_owned()
    }
}

/// Sends one request to a fresh app over `d` and returns status, headers and JSON body.
async fn call(
    d: &Doubles,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
    let app = test::init_service(App::new().service(service(d.api()))).await;
    let mut req = test::TestRequest::default().method(method).uri(path);
    if let Some(k) = key {
        req = req.insert_header(("Authorization", format!("Bearer {k}")));
    }
    if let Some(b) = body {
        req = req.set_json(b);
    }
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await;
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, json)
}

fn zendesk() -> Value {
    json!({"label": "Help", "provider": "zendesk", "credentials": {
        "username": "agent@example.org", "token": "tok-secret-1", "subdomain": "acme"}})
}

#[actix_web::test]
async fn create_read_list_update_delete() {
    let d = doubles();
    let key = d.key("acme", Scopes::DEFAULT).await;
    let (status, headers, body) = call(
        &d,
        Method::POST,
        "/integration",
        Some(&key),
        Some(zendesk()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["message"],
        "The Integration credentials have been successfully created."
    );
    assert!(headers.contains_key("x-request-id"));
    let id = body["id"].as_str().unwrap().to_owned();

    let (status, _, body) = call(
        &d,
        Method::GET,
        &format!("/integration/{id}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["credentials"]["token"], "********");
    assert_eq!(body["credentials"]["subdomain"], "acme");
    assert_eq!(body["lastVerification"], Value::Null);

    let (status, _, body) = call(&d, Method::GET, "/integration?limit=1", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["nextCursor"], Value::Null);

    let mut put = zendesk();
    put["id"] = json!(id);
    put["label"] = json!("Renamed");
    put["credentials"].as_object_mut().unwrap().remove("token");
    let (status, _, body) = call(&d, Method::PUT, "/integration", Some(&key), Some(put)).await;
    assert_eq!(status, 200, "{body}");

    let (status, _, body) = call(
        &d,
        Method::DELETE,
        &format!("/integration/{id}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"id": id, "message": "The Integration has been successfully deleted."})
    );

    // The trail outlives the integration, newest first.
    let (status, _, body) = call(
        &d,
        Method::GET,
        &format!("/integration/{id}/events"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["deleted", "updated", "created"]);
    assert_eq!(body["items"][0]["outcome"], "success");
    assert_eq!(body["items"][0]["keyId"].as_str(), Some(&key[3..11]));
}

#[actix_web::test]
async fn authentication_and_scopes() {
    let d = doubles();
    let (status, headers, body) = call(&d, Method::GET, "/integration", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Missing API key"));
    let (status, _, body) = call(&d, Method::GET, "/integration", Some("ik_nope"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Invalid API key.");

    let use_only = d.key("acme", Scopes::of([Scope::Use])).await;
    let (status, _, body) = call(&d, Method::GET, "/integration", Some(&use_only), None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"message": "This API key does not have the 'manage' scope."})
    );
}

#[actix_web::test]
async fn validation_names_every_field_and_stores_nothing() {
    let d = doubles();
    let key = d.key("acme", Scopes::DEFAULT).await;
    let body = json!({"label": "", "provider": "r2", "platform": "helpcenter", "extra": 1,
        "credentials": {"bucket": "B", "accessKeyId": 5}});
    let (status, _, res) = call(&d, Method::POST, "/integration", Some(&key), Some(body)).await;
    assert_eq!(status, 422);
    let mut fields: Vec<&str> = res["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec![
            "credentials.accessKeyId",
            "credentials.accountId",
            "credentials.bucket",
            "credentials.secretAccessKey",
            "extra",
            "label",
            "platform"
        ]
    );
    let (_, _, list) = call(&d, Method::GET, "/integration", Some(&key), None).await;
    assert_eq!(list["items"], json!([]));
    let (status, _, res) = call(
        &d,
        Method::GET,
        "/integration?limit=0&x=1",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 422, "{res}");
    let (status, _, res) = call(&d, Method::GET, "/integration/not-a-uuid", Some(&key), None).await;
    assert_eq!(status, 422);
    assert_eq!(res["errors"][0]["field"], "id");
}

#[actix_web::test]
async fn thousands_of_unknown_fields_get_a_short_answer() {
    let d = doubles();
    let key = d.key("acme", Scopes::DEFAULT).await;
    let mut body = serde_json::Map::new();
    for i in 0..6000 {
        body.insert(format!("f{i}"), json!(1));
    }
    let (status, _, res) = call(
        &d,
        Method::POST,
        "/integration",
        Some(&key),
        Some(Value::Object(body)),
    )
    .await;
    assert_eq!(status, 422);
    let errors = res["errors"].as_array().unwrap();
    assert!(errors.len() <= 51, "{}", errors.len());
    assert!(errors.last().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("more problem"));
    assert!(res.to_string().len() < 8_000);
}

#[actix_web::test]
async fn verify_records_and_reports_reasons() {
    let d = doubles();
    let key = d.key("acme", Scopes::DEFAULT).await;
    let (_, _, created) = call(
        &d,
        Method::POST,
        "/integration",
        Some(&key),
        Some(zendesk()),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    d.verifier.answer(Some(VerificationFailure::new(
        FailureReason::InvalidCredentials,
        "Zendesk did not accept the token.",
    )));
    let (status, _, res) = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(json!({"integrationId": id})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        res,
        json!({"isConnectionSuccessful": false, "message": "Zendesk did not accept the token.",
               "reason": "invalid_credentials"})
    );
    let (_, _, view) = call(
        &d,
        Method::GET,
        &format!("/integration/{id}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(view["lastVerification"]["reason"], "invalid_credentials");
    let (_, _, events) = call(&d, Method::GET, "/events", Some(&key), None).await;
    assert_eq!(events["items"][0]["action"], "verified");
    assert_eq!(events["items"][0]["outcome"], "failure");
    assert_eq!(events["items"][0]["reason"], "invalid_credentials");

    // ?verify=true refuses failing credentials with 422 and stores nothing new.
    let (status, _, res) = call(
        &d,
        Method::POST,
        "/integration?verify=true",
        Some(&key),
        Some(zendesk()),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(res["reason"], "invalid_credentials");
}

#[actix_web::test]
async fn another_account_sees_404_and_events_too() {
    let d = doubles();
    let a = d.key("a", Scopes::DEFAULT).await;
    let b = d.key("b", Scopes::DEFAULT).await;
    let (_, _, created) = call(&d, Method::POST, "/integration", Some(&a), Some(zendesk())).await;
    let id = created["id"].as_str().unwrap();
    for path in [
        format!("/integration/{id}"),
        format!("/integration/{id}/events"),
    ] {
        let (status, _, res) = call(&d, Method::GET, &path, Some(&b), None).await;
        assert_eq!(status, 404, "{path}: {res}");
    }
    let (status, _, _) = call(&d, Method::GET, "/nope", Some(&b), None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(&d, Method::PATCH, "/integration", Some(&b), None).await;
    assert_eq!(status, 405);
}

#[actix_web::test]
async fn health_and_an_unavailable_database() {
    let d = doubles();
    let (status, _, _) = call(&d, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200);
    let (status, _, _) = call(&d, Method::GET, "/readyz", None, None).await;
    assert_eq!(status, 200);
    let key = d.key("acme", Scopes::DEFAULT).await;
    d.repo.set_available(false);
    let (status, headers, _) = call(&d, Method::GET, "/readyz", None, None).await;
    assert_eq!(status, 503);
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    let (status, _, _) = call(&d, Method::GET, "/integration", Some(&key), None).await;
    assert_eq!(status, 503);
}
