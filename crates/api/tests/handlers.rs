//! The HTTP layer over the domain's in-memory doubles, with `actix_web::test`: no database,
//! no network, milliseconds per test. The end-to-end suite (`tests/` at the workspace root)
//! runs the same endpoints against the real adapters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::{test, App};
use integrations_api::limits::LimitSettings;
use integrations_api::service;
use integrations_domain::{FailureReason, Scope, Scopes, VerificationFailure};
use serde_json::{json, Value};
use support::{doubles, doubles_with, respond, Doubles};

/// Sends one request to a fresh app over `d` and returns status, headers and JSON body.
async fn call(
    d: &Doubles,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
    let req = test::TestRequest::default();
    let req = match body {
        Some(b) => req.set_json(b),
        None => req,
    };
    send(d, method, path, key, req).await
}

async fn send(
    d: &Doubles,
    method: Method,
    path: &str,
    key: Option<&str>,
    req: test::TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
    let mut req = req.method(method).uri(path);
    if let Some(k) = key {
        req = req.insert_header(("Authorization", format!("Bearer {k}")));
    }
    let (status, headers, bytes) = respond(d, req).await;
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

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR0123";

fn s3() -> Value {
    json!({"label": "Shots", "provider": "s3", "credentials": {
        "bucket": "examplebucket", "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "prefix": "shots/"}})
}

#[actix_web::test]
async fn export_and_delete_objects() {
    let d = doubles();
    let key = d.key("acme", Scopes::DEFAULT).await;
    let (_, _, created) = call(&d, Method::POST, "/integration", Some(&key), Some(s3())).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let put = |ct: &'static str, bytes: &'static [u8]| {
        test::TestRequest::default()
            .insert_header(("Content-Type", ct))
            .set_payload(bytes)
    };
    let path = format!("/integration/{id}/objects/2024/%C3%A9t%C3%A9.png");
    let (status, _, res) = send(&d, Method::PUT, &path, Some(&key), put("image/png", PNG)).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["key"], "shots/2024/été.png");
    assert_eq!(res["size"], PNG.len());
    assert_eq!(res["contentType"], "image/png");
    assert_eq!(
        d.objects
            .get("examplebucket", "shots/2024/été.png")
            .unwrap(),
        PNG
    );

    // Wrong type, wrong bytes, bad key: 422 naming the field, nothing written.
    for (path, ct, bytes, field) in [
        (
            format!("/integration/{id}/objects/a.txt"),
            "text/plain",
            PNG,
            "contentType",
        ),
        (
            format!("/integration/{id}/objects/b.jpg"),
            "image/jpeg",
            PNG,
            "body",
        ),
        (
            format!("/integration/{id}/objects/a/../b.png"),
            "image/png",
            PNG,
            "key",
        ),
        (
            format!("/integration/{id}/objects/c%00.png"),
            "image/png",
            PNG,
            "key",
        ),
    ] {
        let (status, _, res) = send(&d, Method::PUT, &path, Some(&key), put(ct, bytes)).await;
        assert_eq!(status, 422, "{path}: {res}");
        assert_eq!(res["errors"][0]["field"], field, "{path}: {res}");
    }
    let big: &'static [u8] = Box::leak(vec![0u8; 2000].into_boxed_slice());
    let (status, _, res) = send(
        &d,
        Method::PUT,
        &format!("/integration/{id}/objects/big.png"),
        Some(&key),
        put("image/png", big),
    )
    .await;
    assert_eq!(status, 422, "{res}");
    assert_eq!(res["errors"][0]["field"], "body");
    assert!(d.objects.get("examplebucket", "shots/big.png").is_none());

    // Provider failures keep their reason: 502, or 503 with Retry-After when rate limited.
    d.objects.fail_with(Some(
        VerificationFailure::new(FailureReason::RateLimited, "S3 is slowing down requests.")
            .with_retry_after(7),
    ));
    let (status, headers, res) = send(
        &d,
        Method::PUT,
        &format!("/integration/{id}/objects/x.png"),
        Some(&key),
        put("image/png", PNG),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(headers.get("retry-after").unwrap(), "7");
    assert_eq!(res["reason"], "rate_limited");
    d.objects.fail_with(Some(VerificationFailure::new(
        FailureReason::NotFound,
        "The specified bucket does not exist.",
    )));
    let (status, _, res) = send(
        &d,
        Method::PUT,
        &format!("/integration/{id}/objects/x.png"),
        Some(&key),
        put("image/png", PNG),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(
        res,
        json!({"message": "The specified bucket does not exist.", "reason": "not_found"})
    );
    d.objects.fail_with(None);

    let (status, _, res) = call(&d, Method::DELETE, &path, Some(&key), None).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["message"], "The object has been successfully deleted.");
    assert!(d
        .objects
        .get("examplebucket", "shots/2024/été.png")
        .is_none());

    // A help-center integration cannot export.
    let (_, _, zd) = call(
        &d,
        Method::POST,
        "/integration",
        Some(&key),
        Some(zendesk()),
    )
    .await;
    let (status, _, res) = send(
        &d,
        Method::PUT,
        &format!("/integration/{}/objects/a.png", zd["id"].as_str().unwrap()),
        Some(&key),
        put("image/png", PNG),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(res["errors"][0]["field"], "id");
}

#[actix_web::test]
async fn import_pages_and_forged_cursors() {
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
    d.catalogue.script(3);
    let (status, _, page) = call(
        &d,
        Method::GET,
        &format!("/integration/{id}/images?limit=2"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["imageUrl"], "https://acme.example/0.png");
    assert_eq!(page["items"][0]["alt"], Value::Null);
    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let (_, _, last) = call(
        &d,
        Method::GET,
        &format!("/integration/{id}/images?cursor={cursor}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_eq!(last["nextCursor"], Value::Null);
    let (status, _, res) = call(
        &d,
        Method::GET,
        &format!("/integration/{id}/images?cursor=forged"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(res["errors"][0]["field"], "cursor");
}

#[actix_web::test]
async fn reveal_is_for_reveal_keys_only_and_never_cached() {
    let d = doubles();
    let manager = d.key("acme", Scopes::DEFAULT).await;
    let (_, _, created) = call(
        &d,
        Method::POST,
        "/integration",
        Some(&manager),
        Some(zendesk()),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/integration/{id}/credentials");
    let (status, _, res) = call(&d, Method::GET, &path, Some(&manager), None).await;
    assert_eq!(status, 403);
    assert_eq!(
        res["message"],
        "This API key does not have the 'reveal' scope."
    );
    let worker = d.key("acme", Scopes::of([Scope::Reveal])).await;
    let (status, headers, res) = call(&d, Method::GET, &path, Some(&worker), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(
        res,
        json!({"id": id, "provider": "zendesk", "platform": "helpcenter", "credentials": {
            "username": "agent@example.org", "token": "tok-secret-1", "subdomain": "acme"}})
    );
}

#[actix_web::test]
async fn rate_limits_answer_429_with_headers() {
    let d = doubles_with(LimitSettings {
        requests_per_minute: 3,
        outbound_per_minute: 1,
        outbound_concurrency_per_account: 8,
    });
    let key = d.key("acme", Scopes::DEFAULT).await;
    let (status, headers, _) = call(&d, Method::GET, "/integration", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("x-ratelimit-limit").unwrap(), "3");
    assert_eq!(headers.get("x-ratelimit-remaining").unwrap(), "2");
    assert!(headers.contains_key("x-ratelimit-reset"));
    // The outbound limit (1 a minute) is stricter: the second verify is refused.
    let verify = json!({"provider": "helpscout", "credentials": {"apiKey": "k"}});
    let (status, _, _) = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(verify.clone()),
    )
    .await;
    assert_eq!(status, 200);
    let (status, headers, res) = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(verify),
    )
    .await;
    assert_eq!(status, 429, "{res}");
    assert!(headers.get("retry-after").is_some());
    assert_eq!(headers.get("x-ratelimit-remaining").unwrap(), "0");
    let (status, headers, _) = call(&d, Method::GET, "/integration", Some(&key), None).await;
    assert_eq!(status, 429);
    assert!(
        headers
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // Unauthenticated answers carry no rate-limit headers.
    let (status, headers, _) = call(&d, Method::GET, "/integration", None, None).await;
    assert_eq!(status, 401);
    assert!(!headers.contains_key("x-ratelimit-limit"));
}

#[actix_web::test]
async fn a_panicking_handler_answers_500_with_the_request_id() {
    let d = doubles();
    let key = d.key("acme", Scopes::DEFAULT).await;
    d.verifier.before_answer(|| panic!("a bug in an adapter"));
    let verify = json!({"provider": "helpscout", "credentials": {"apiKey": "k"}});
    let req = test::TestRequest::default()
        .insert_header(("X-Request-Id", "panic-test-1"))
        .set_json(verify);
    let (status, headers, res) =
        send(&d, Method::POST, "/integration/verify", Some(&key), req).await;
    assert_eq!(status, 500);
    assert_eq!(
        res,
        json!({"message": "Internal server error.", "requestId": "panic-test-1"})
    );
    assert_eq!(headers.get("x-request-id").unwrap(), "panic-test-1");
    // The worker is still there.
    let (status, _, _) = call(&d, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_provider_calls_by_reason() {
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
    let id = created["id"].as_str().unwrap();
    for _ in 0..3 {
        call(
            &d,
            Method::GET,
            &format!("/integration/{id}"),
            Some(&key),
            None,
        )
        .await;
    }
    call(&d, Method::GET, "/integration/not-a-uuid", Some(&key), None).await;
    d.verifier.answer(Some(VerificationFailure::new(
        FailureReason::Timeout,
        "slow",
    )));
    call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(json!({"integrationId": id})),
    )
    .await;
    let app = test::init_service(App::new().service(service(d.api()))).await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("openmetrics"));
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("no line {needle} in\n{text}"))
            .to_owned()
    };
    assert!(line("integrations_http_requests_total{method=\"GET\",route=\"/integration/{id}\",status=\"200\"}").ends_with(" 3"));
    assert!(line("integrations_http_requests_total{method=\"GET\",route=\"/integration/{id}\",status=\"422\"}").ends_with(" 1"));
    assert!(line(
        "integrations_http_requests_total{method=\"POST\",route=\"/integration\",status=\"200\"}"
    )
    .ends_with(" 1"));
    assert!(line("integrations_provider_calls_total{action=\"verified\",provider=\"zendesk\",outcome=\"timeout\"}").ends_with(" 1"));
    assert!(text.contains("integrations_http_request_duration_seconds_bucket"));
    assert!(text.contains("integrations_build_info{version="));
    assert!(!text.contains(id), "no account data in the metrics");
}

/// A known path with another method is 405 and says which methods it has (RFC 9110).
#[actix_web::test]
async fn method_not_allowed_names_the_allowed_methods() {
    let d = doubles();
    let key = d.key("acme", Scopes::DEFAULT).await;
    for (method, path, allow) in [
        (Method::DELETE, "/integration", "GET, POST, PUT"),
        (
            Method::PUT,
            "/integration/00000000-0000-0000-0000-000000000000",
            "GET, DELETE",
        ),
        (Method::POST, "/healthz", "GET"),
        (Method::GET, "/integration/verify", "POST"),
        (
            Method::GET,
            "/integration/00000000-0000-0000-0000-000000000000/objects/a.png",
            "PUT, DELETE",
        ),
    ] {
        let (status, headers, body) = call(&d, method.clone(), path, Some(&key), None).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(headers.get("allow").unwrap(), allow, "{method} {path}");
        assert_eq!(body["message"], "Method not allowed.");
    }
}

/// The scope is checked before anything else about the request: a key without it gets 403
/// whatever its body or path holds, and spends none of its outbound quota.
#[actix_web::test]
async fn the_scope_is_checked_before_the_body() {
    let d = doubles_with(LimitSettings {
        requests_per_minute: 0,
        outbound_per_minute: 1,
        outbound_concurrency_per_account: 0,
    });
    let use_only = d.key("acme", Scopes::of([Scope::Use])).await;
    let manage_only = d.key("acme", Scopes::of([Scope::Manage])).await;
    for (method, path, body, key, scope) in [
        (
            Method::POST,
            "/integration",
            Some(json!({})),
            &use_only,
            "manage",
        ),
        (
            Method::POST,
            "/integration",
            Some(json!("not an object")),
            &use_only,
            "manage",
        ),
        (
            Method::GET,
            "/integration/not-a-uuid",
            None,
            &use_only,
            "manage",
        ),
        (
            Method::POST,
            "/integration/verify",
            Some(json!({})),
            &use_only,
            "manage",
        ),
        (
            Method::GET,
            "/integration/not-a-uuid/images?limit=0",
            None,
            &manage_only,
            "use",
        ),
        (
            Method::GET,
            "/integration/not-a-uuid/credentials",
            None,
            &manage_only,
            "reveal",
        ),
    ] {
        let (status, _, res) = call(&d, method.clone(), path, Some(key), body).await;
        assert_eq!(status, 403, "{method} {path}: {res}");
        assert_eq!(
            res["message"],
            format!("This API key does not have the '{scope}' scope."),
            "{method} {path}"
        );
    }
    // The refused calls spent nothing: the one outbound call a minute is still there.
    let (status, _, res) = call(
        &d,
        Method::GET,
        "/integration/not-a-uuid/images",
        Some(&use_only),
        None,
    )
    .await;
    assert_eq!(status, 422, "{res}");
}
