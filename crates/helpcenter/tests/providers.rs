//! Each provider against a local server that follows its documented behaviour.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is a failed test

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use integrations_domain::credentials::SealedDefaults;
use integrations_domain::{
    ConnectionVerifier, Credentials, CredentialsInput, FailureReason, Platform, Provider,
    VerificationFailure,
};
use integrations_helpcenter::HelpcenterVerifier;
use support::{Reply, Seen, Server};

const GOOD: &str = "good-secret-1234";
const WRONG: &str = "wrong-secret-9876";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// All templates point at `url`; private networks allowed (the server is on loopback).
fn config(url: &str, timeout: Duration) -> (Duration, integrations_helpcenter::ProvidersConfig) {
    (timeout, support::providers_at(url))
}

fn build(
    (timeout, providers): (Duration, integrations_helpcenter::ProvidersConfig),
) -> HelpcenterVerifier {
    HelpcenterVerifier::new(timeout, &providers).expect("config")
}

fn verifier(server: &Server) -> HelpcenterVerifier {
    build(config(&server.url(), Duration::from_secs(5)))
}

fn creds(provider: Provider, fields: &[(&str, &str)]) -> Credentials {
    let input = fields
        .iter()
        .fold(CredentialsInput::new(), |i, (k, v)| i.with(k, v));
    Credentials::parse(provider, &input, SealedDefaults::None).expect("valid credentials")
}

/// What one provider looks like: its probe, its auth, and its documented answers.
struct Case {
    provider: Provider,
    /// Path and query the probe must use.
    target: &'static str,
    /// The credentials, with the secret given.
    fields: fn(&str) -> Vec<(&'static str, String)>,
    /// The Authorization header the good secret must produce.
    auth: fn(&str) -> String,
    ok: Reply,
    unauthorized: Reply,
    forbidden: Reply,
    rate_limited: Reply,
    /// The wait the rate-limit message must mention.
    wait_text: &'static str,
    /// The provider's answer for an unknown account, if it has accounts in the host.
    unknown_account: Option<Reply>,
}

impl Case {
    fn credentials(&self, secret: &str) -> Credentials {
        let fields = (self.fields)(secret);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        creds(self.provider, &pairs)
    }

    /// A server that authenticates like the provider: the good secret gets `ok`, anything
    /// else `unauthorized`; other paths 404.
    fn server(&self) -> Server {
        let target = self.target;
        let good = (self.auth)(GOOD);
        let ok = self.ok.clone();
        let unauthorized = self.unauthorized.clone();
        Server::start(move |seen: &Seen| {
            if seen.method != "GET" || seen.target != target {
                return Reply::json(404, r#"{"error":"InvalidEndpoint"}"#);
            }
            if seen.header("authorization") == Some(good.as_str()) {
                ok.clone()
            } else {
                unauthorized.clone()
            }
        })
    }
}

fn cases() -> Vec<Case> {
    let reset_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 120;
    vec![
        Case {
            provider: Provider::Zendesk,
            target: "/api/v2/users/me.json",
            fields: |s| {
                vec![
                    ("username", "agent@acme.test".into()),
                    ("token", s.into()),
                    ("subdomain", "acme".into()),
                ]
            },
            auth: |s| basic("agent@acme.test/token", s),
            ok: Reply::json(200, r#"{"user":{"id":35436,"name":"Agent","email":"agent@acme.test","role":"admin"}}"#),
            unauthorized: Reply::json(401, r#"{"error":"Couldn't authenticate you"}"#)
                .header("WWW-Authenticate", "Basic realm=\"Web Password\""),
            forbidden: Reply::json(403, r#"{"error":{"title":"Forbidden","message":"You do not have access to this page."}}"#),
            rate_limited: Reply::text(429, "Number of allowed API requests per minute exceeded")
                .header("Retry-After", "42"),
            wait_text: "42 seconds",
            unknown_account: Some(Reply::html(404, "<!DOCTYPE html><html><body>Help Center Closed</body></html>")),
        },
        Case {
            provider: Provider::Intercom,
            target: "/me",
            fields: |s| vec![("token", s.into())],
            auth: |s| format!("Bearer {s}"),
            ok: Reply::json(200, r#"{"type":"admin","id":"991267","email":"admin@acme.test","email_verified":true,"app":{"id_code":"abc","name":"Acme","region":"US"}}"#),
            unauthorized: Reply::json(401, r#"{"type":"error.list","request_id":"r1","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}"#),
            forbidden: Reply::json(403, r#"{"type":"error.list","request_id":"r2","errors":[{"code":"api_plan_restricted","message":"Active subscription needed."}]}"#),
            rate_limited: Reply::json(429, r#"{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit of 167 in 10_seconds"}]}"#)
                .header("X-RateLimit-Limit", "167")
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", &reset_at.to_string()),
            wait_text: "retry in ",
            unknown_account: None,
        },
        Case {
            provider: Provider::Helpscout,
            target: "/v1/sites",
            fields: |s| vec![("apiKey", s.into())],
            auth: |s| basic(s, "X"),
            ok: Reply::json(200, r#"{"sites":{"page":1,"pages":1,"count":1,"items":[{"id":"5214","subDomain":"acme","title":"Acme Docs"}]}}"#),
            unauthorized: Reply::json(401, r#"{"status":401,"message":"Unauthorized"}"#),
            forbidden: Reply::json(403, r#"{"status":403,"message":"Forbidden"}"#),
            rate_limited: Reply::json(429, r#"{"status":429,"message":"Too Many Requests"}"#)
                .header("X-RateLimit-Limit", "2000")
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", "17"),
            wait_text: "17 seconds",
            unknown_account: None,
        },
        Case {
            provider: Provider::Helpjuice,
            target: "/api/v3/settings/account",
            fields: |s| vec![("subdomain", "acme".into()), ("apiKey", s.into())],
            auth: |s| s.to_owned(),
            ok: Reply::json(200, r#"{"name":"Acme","subdomain":"acme"}"#),
            unauthorized: Reply::json(401, r#"{"error":"Invalid API key"}"#),
            forbidden: Reply::json(403, r#"{"error":"Forbidden"}"#),
            rate_limited: Reply::json(429, r#"{"message": "You have fired too many requests, please wait one minute."}"#),
            wait_text: "1 minute",
            unknown_account: Some(Reply::html(404, "<html><body>We could not find what you're looking for.</body></html>")),
        },
        Case {
            provider: Provider::Freshdesk,
            target: "/api/v2/agents/me",
            fields: |s| vec![("subdomain", "acme".into()), ("apiKey", s.into())],
            auth: |s| basic(s, "X"),
            ok: Reply::json(200, r#"{"id":43000123,"available":true,"occasional":false,"contact":{"email":"agent@acme.test","name":"Agent"}}"#),
            unauthorized: Reply::json(401, r#"{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}"#),
            forbidden: Reply::json(403, r#"{"code":"access_denied","message":"You are not authorized to perform this action."}"#),
            rate_limited: Reply::json(429, r#"{"message":"Too many requests"}"#).header("Retry-After", "60"),
            wait_text: "1 minute",
            unknown_account: Some(Reply::html(200, "<html><body>We couldn't find acme.freshdesk.com Maybe this is still fresh!</body></html>")),
        },
        Case {
            provider: Provider::Knowledgeowl,
            target: "/api/head/article.json?project_id=kb_123&limit=1",
            fields: |s| vec![("apiKey", s.into()), ("projectId", "kb_123".into())],
            auth: |s| basic(s, "x"),
            ok: Reply::json(200, r#"{"valid":true,"page_stats":{"current_page":1,"total_pages":1,"total_records":1},"data":[{"id":"a1","name":"Hello","current_version":{"en":{"text":"<p>Hi</p>"}}}]}"#),
            unauthorized: Reply::json(401, r#"{"valid":false,"message":"Invalid API key"}"#),
            forbidden: Reply::json(403, r#"{"valid":false,"message":"This API key does not have GET permission"}"#),
            rate_limited: Reply::json(429, r#"{"valid":false,"message":"Too many requests"}"#),
            wait_text: "retry later",
            unknown_account: None,
        },
    ]
}

fn fails(r: Result<(), VerificationFailure>) -> VerificationFailure {
    match r {
        Ok(()) => panic!("verification succeeded but should have failed"),
        Err(f) => f,
    }
}

fn assert_no_secret(f: &VerificationFailure) {
    assert!(
        !f.message.contains(GOOD),
        "secret in message: {}",
        f.message
    );
    assert!(
        !f.message.contains(WRONG),
        "secret in message: {}",
        f.message
    );
}

#[tokio::test]
async fn valid_credentials_succeed_and_send_the_documented_request() {
    for case in cases() {
        let server = case.server();
        let result = verifier(&server).verify(&case.credentials(GOOD)).await;
        assert_eq!(result, Ok(()), "{:?}", case.provider);
        let seen = server.seen();
        assert_eq!(
            seen.len(),
            if case.provider == Provider::Helpjuice {
                2
            } else {
                1
            }
        );
        assert_eq!(seen[0].target, case.target);
        assert_eq!(
            seen[0].header("authorization"),
            Some((case.auth)(GOOD).as_str())
        );
        if case.provider == Provider::Intercom {
            assert_eq!(seen[0].header("intercom-version"), Some("2.11"));
        }
    }
}

#[tokio::test]
async fn wrong_secret_is_invalid_credentials() {
    for case in cases() {
        let server = case.server();
        let f = fails(verifier(&server).verify(&case.credentials(WRONG)).await);
        assert_eq!(
            f.reason,
            FailureReason::InvalidCredentials,
            "{:?}: {f}",
            case.provider
        );
        assert_no_secret(&f);
        let names_credential = ["API token", "access token", "API key"]
            .iter()
            .any(|w| f.message.contains(w));
        assert!(names_credential, "{:?}: {f}", case.provider);
    }
}

/// Serves `reply` to every request.
fn always(reply: Reply) -> Server {
    Server::start(move |_| reply.clone())
}

#[tokio::test]
async fn forbidden_is_insufficient_permissions() {
    for case in cases() {
        let server = always(case.forbidden.clone());
        let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
        assert_eq!(
            f.reason,
            FailureReason::InsufficientPermissions,
            "{:?}: {f}",
            case.provider
        );
        assert_no_secret(&f);
    }
}

#[tokio::test]
async fn rate_limited_says_how_long_to_wait() {
    for case in cases() {
        let server = always(case.rate_limited.clone());
        let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
        assert_eq!(
            f.reason,
            FailureReason::RateLimited,
            "{:?}: {f}",
            case.provider
        );
        assert!(
            f.message.contains(case.wait_text),
            "{:?}: {f}",
            case.provider
        );
        // Never retried.
        assert_eq!(server.seen().len(), 1, "{:?}", case.provider);
    }
}

#[tokio::test]
async fn intercom_wait_comes_from_the_reset_time() {
    let case = cases().remove(1);
    assert_eq!(case.provider, Provider::Intercom);
    let server = always(case.rate_limited.clone());
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    // Reset is 120 s ahead: the message says about two minutes (allow clock drift).
    assert!(
        ["2 minutes", "119 seconds", "118 seconds"]
            .iter()
            .any(|w| f.message.contains(w)),
        "{f}"
    );
}

#[tokio::test]
async fn server_errors_are_provider_errors() {
    for case in cases() {
        let server = always(Reply::html(503, "<html>Service Unavailable</html>"));
        let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
        assert_eq!(
            f.reason,
            FailureReason::ProviderError,
            "{:?}: {f}",
            case.provider
        );
        assert!(f.message.contains("503"), "{f}");
        assert_eq!(server.seen().len(), 1, "5xx is not retried");
    }
}

#[tokio::test]
async fn unknown_accounts_are_not_found_naming_the_subdomain() {
    for case in cases() {
        let Some(reply) = case.unknown_account.clone() else {
            continue;
        };
        let server = always(reply);
        let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
        assert_eq!(
            f.reason,
            FailureReason::NotFound,
            "{:?}: {f}",
            case.provider
        );
        assert!(f.message.contains("\"acme\""), "{:?}: {f}", case.provider);
    }
}

#[tokio::test]
async fn unresolvable_subdomain_is_not_found() {
    // `.invalid` never resolves (RFC 6761).
    let (t, c) = config("http://127.0.0.1:9", Duration::from_secs(5));
    let c = c
        .with("zendesk", "base_url", "http://{subdomain}.invalid")
        .with("freshdesk", "base_url", "http://{subdomain}.invalid")
        .with("helpjuice", "base_url", "http://{subdomain}.invalid");
    let v = build((t, c));
    for case in cases() {
        if case.unknown_account.is_none() {
            continue;
        }
        let f = fails(v.verify(&case.credentials(GOOD)).await);
        assert_eq!(
            f.reason,
            FailureReason::NotFound,
            "{:?}: {f}",
            case.provider
        );
        assert!(f.message.contains("acme.invalid"), "{f}");
    }
}

#[tokio::test]
async fn slow_providers_time_out() {
    for case in cases() {
        let server = always(case.ok.clone().delayed(Duration::from_secs(5)));
        let v = build(config(&server.url(), Duration::from_millis(300)));
        let started = Instant::now();
        let f = fails(v.verify(&case.credentials(GOOD)).await);
        assert_eq!(f.reason, FailureReason::Timeout, "{:?}: {f}", case.provider);
        assert!(f.message.contains("300 ms"), "{f}");
        // Generous upper bound: the deadline is enforced, not the server's 5 s.
        assert!(started.elapsed() < Duration::from_secs(4));
    }
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let v = build(config(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(5),
    ));
    for case in cases() {
        let f = fails(v.verify(&case.credentials(GOOD)).await);
        assert_eq!(
            f.reason,
            FailureReason::Unreachable,
            "{:?}: {f}",
            case.provider
        );
    }
}

#[tokio::test]
async fn one_retry_after_a_connection_reset() {
    let case = cases().remove(0);
    let ok = case.ok.clone();
    let server = Server::start_with_resets(1, move |_| ok.clone());
    let result = verifier(&server).verify(&case.credentials(GOOD)).await;
    assert_eq!(result, Ok(()));
    assert_eq!(server.connections(), 2);

    // Resets every time: one retry only, then unreachable.
    let ok = case.ok.clone();
    let server = Server::start_with_resets(usize::MAX, move |_| ok.clone());
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::Unreachable, "{f}");
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn one_retry_after_a_408() {
    let case = cases().remove(0);
    let ok = case.ok.clone();
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let server = Server::start(move |_| {
        if answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::html(408, "")
        } else {
            ok.clone()
        }
    });
    let result = verifier(&server).verify(&case.credentials(GOOD)).await;
    assert_eq!(result, Ok(()));
    assert_eq!(server.seen().len(), 2);

    // 408 every time: one retry only, then the 408 is the answer.
    let server = always(Reply::html(408, ""));
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::ProviderError, "{f}");
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = always(cases().remove(0).ok.clone());
    let redirect = always(Reply::html(302, "").header(
        "Location",
        &format!("{}/api/v2/users/me.json", target.url()),
    ));
    let case = cases().remove(2); // Help Scout: no subdomain
    let f = fails(verifier(&redirect).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::ProviderError, "{f}");
    assert!(target.seen().is_empty(), "the redirect was followed");

    // For a per-account host, a redirect elsewhere means the account does not exist.
    let redirect = always(Reply::html(301, "").header(
        "Location",
        "https://www.zendesk.com/app/help-center-closed/",
    ));
    let f = fails(
        verifier(&redirect)
            .verify(&cases().remove(0).credentials(GOOD))
            .await,
    );
    assert_eq!(f.reason, FailureReason::NotFound, "{f}");
    assert!(f.message.contains("\"acme\""), "{f}");
}

// ---- provider specifics -------------------------------------------------------------------

fn zendesk_with(reply: Reply) -> (Server, Credentials) {
    let case = cases().remove(0);
    (always(reply), case.credentials(GOOD))
}

#[tokio::test]
async fn zendesk_anonymous_200_is_a_failure() {
    let (server, c) = zendesk_with(Reply::json(
        200,
        r#"{"user":{"id":null,"url":null,"name":"Anonymous user","email":"invalid@example.com","role":"end-user","authenticity_token":"abc"}}"#,
    ));
    let f = fails(verifier(&server).verify(&c).await);
    assert_eq!(f.reason, FailureReason::InvalidCredentials, "{f}");
    assert!(f.message.contains("agent@acme.test"), "{f}");
    assert!(f.message.contains("anonymous"), "{f}");
    assert_no_secret(&f);
}

#[tokio::test]
async fn zendesk_end_user_is_insufficient_permissions() {
    let (server, c) = zendesk_with(Reply::json(
        200,
        r#"{"user":{"id":42,"name":"Customer","role":"end-user"}}"#,
    ));
    let f = fails(verifier(&server).verify(&c).await);
    assert_eq!(f.reason, FailureReason::InsufficientPermissions, "{f}");
    assert!(f.message.contains("end-user"), "{f}");
}

#[tokio::test]
async fn zendesk_agent_succeeds_and_odd_json_fails() {
    let (server, c) = zendesk_with(Reply::json(200, r#"{"user":{"id":7,"role":"agent"}}"#));
    assert_eq!(verifier(&server).verify(&c).await, Ok(()));
    let (server, c) = zendesk_with(Reply::json(200, r#"{"users":[]}"#));
    assert!(verifier(&server).verify(&c).await.is_err());
    let (server, c) = zendesk_with(Reply::html(200, "<html>Help Center Closed</html>"));
    let f = fails(verifier(&server).verify(&c).await);
    assert_eq!(f.reason, FailureReason::NotFound, "{f}");
}

#[tokio::test]
async fn intercom_uses_the_regional_host() {
    let case = cases().remove(1);
    let us = case.server();
    let eu = case.server();
    let au = case.server();
    let (t, c) = config(&us.url(), Duration::from_secs(5));
    let c = c
        .with("intercom", "base_url_eu", &eu.url())
        .with("intercom", "base_url_au", &au.url());
    let v = build((t, c));
    let creds = creds(Provider::Intercom, &[("token", GOOD), ("region", "eu")]);
    assert_eq!(v.verify(&creds).await, Ok(()));
    assert_eq!(
        (us.seen().len(), eu.seen().len(), au.seen().len()),
        (0, 1, 0)
    );
    let creds = creds_region("au");
    assert_eq!(v.verify(&creds).await, Ok(()));
    assert_eq!(au.seen().len(), 1);

    // Not an admin.
    let server = always(Reply::json(200, r#"{"type":"contact","id":"1"}"#));
    let f = fails(verifier(&server).verify(&creds_region("us")).await);
    assert_eq!(f.reason, FailureReason::InsufficientPermissions, "{f}");
}

fn creds_region(region: &str) -> Credentials {
    creds(Provider::Intercom, &[("token", GOOD), ("region", region)])
}

#[tokio::test]
async fn intercom_wrong_token_message_names_the_region() {
    let case = cases().remove(1);
    let server = case.server();
    let f = fails(
        verifier(&server)
            .verify(&creds(
                Provider::Intercom,
                &[("token", WRONG), ("region", "eu")],
            ))
            .await,
    );
    assert_eq!(f.reason, FailureReason::InvalidCredentials);
    assert!(f.message.contains("EU"), "{f}");
}

#[tokio::test]
async fn helpjuice_that_answers_without_a_key_is_refused() {
    let case = cases().remove(3);
    assert_eq!(case.provider, Provider::Helpjuice);
    let server = always(case.ok.clone());
    let f = fails(verifier(&server).verify(&case.credentials(WRONG)).await);
    assert_eq!(f.reason, FailureReason::ProviderError, "{f}");
    assert!(f.message.contains("Require token for API"), "{f}");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("authorization"), None);
}

#[tokio::test]
async fn knowledgeowl_valid_false_or_garbage_fails() {
    let case = cases().remove(5);
    assert_eq!(case.provider, Provider::Knowledgeowl);
    let server = always(Reply::json(
        200,
        r#"{"valid":false,"message":"Invalid project_id"}"#,
    ));
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::NotFound, "{f}");
    assert!(f.message.contains("kb_123"), "{f}");
    assert!(f.message.contains("Invalid project_id"), "{f}");

    let server = always(Reply::text(200, "not json"));
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::ProviderError, "{f}");

    let server = always(Reply::json(404, r#"{"valid":false,"message":"Not found"}"#));
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::NotFound, "{f}");
    assert!(f.message.contains("kb_123"), "{f}");
}

#[tokio::test]
async fn a_secret_echoed_by_the_provider_is_scrubbed() {
    let case = cases().remove(4); // Freshdesk
    let server = always(Reply::json(
        403,
        &format!(r#"{{"code":"access_denied","message":"key {GOOD} may not do this"}}"#),
    ));
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::InsufficientPermissions);
    assert_no_secret(&f);
    assert!(f.message.contains("****"), "{f}");
}

#[tokio::test]
async fn oversized_bodies_are_not_read_whole() {
    let case = cases().remove(2); // Help Scout, 64 KiB limit
    let huge = format!(r#"{{"sites":{{"items":["{}"]}}}}"#, "a".repeat(200 * 1024));
    let server = always(Reply::json(200, &huge));
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::ProviderError, "{f}");
    assert!(f.message.contains("larger"), "{f}");

    // Also for a subdomain provider: too large is not "unknown account".
    let case = cases().remove(4); // Freshdesk
    let huge = format!(r#"{{"id":1,"x":"{}"}}"#, "a".repeat(200 * 1024));
    let server = always(Reply::json(200, &huge));
    let f = fails(verifier(&server).verify(&case.credentials(GOOD)).await);
    assert_eq!(f.reason, FailureReason::ProviderError, "{f}");
}

#[tokio::test]
async fn supports_only_helpcenter_and_refuses_cloud_credentials() {
    let server = always(Reply::json(200, "{}"));
    let v = verifier(&server);
    assert!(v.supports(Platform::Helpcenter));
    assert!(!v.supports(Platform::Cloud));
    let s3 = creds(
        Provider::S3,
        &[
            ("bucket", "my-bucket"),
            ("accessKeyId", "AKIAIOSFODNN7EXAMPLE"),
            ("secretAccessKey", "x"),
        ],
    );
    let f = fails(v.verify(&s3).await);
    assert_eq!(f.reason, FailureReason::ProviderError);
    assert!(server.seen().is_empty());
}
