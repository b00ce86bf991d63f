//! Faults fire the configured number of times, with each provider's own signal; the request log
//! records every call without any secret.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{get, json};
use integrations_provider_fakes::{
    Datasets, FakeConfig, FakeHelpCenters, Fault, Provider, RateLimitStyle, GOOD_SECRET,
};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn list_path(p: Provider) -> &'static str {
    match p {
        Provider::Zendesk => "/api/v2/help_center/articles.json?page[size]=5",
        Provider::Intercom => "/articles?per_page=5",
        Provider::Helpscout => "/v1/collections",
        Provider::Helpjuice => "/api/v3/articles?limit=5",
        Provider::Freshdesk => "/api/v2/solutions/categories",
        Provider::Knowledgeowl => "/api/head/article.json?limit=5",
    }
}

async fn status_of(fake: &FakeHelpCenters, p: Provider) -> u16 {
    get(fake, p, list_path(p))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn status_faults_fire_exactly_n_times_per_provider() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    for p in Provider::ALL {
        fake.set_fault(p, Fault::Status(503), 2);
        // Another provider is not affected.
        let other = Provider::ALL[(Provider::ALL.iter().position(|x| *x == p).unwrap() + 1) % 6];
        assert_eq!(status_of(&fake, other).await, 200, "{other}");
        assert_eq!(fake.pending_faults(), 2);
        assert_eq!(status_of(&fake, p).await, 503, "{p}");
        assert_eq!(status_of(&fake, p).await, 503, "{p}");
        assert_eq!(status_of(&fake, p).await, 200, "{p}");
        assert_eq!(fake.pending_faults(), 0);
    }
    // 401 and 403 carry the provider's bodies.
    fake.set_fault(Provider::Intercom, Fault::Status(401), 1);
    let resp = get(&fake, Provider::Intercom, "/me").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(json(resp).await["errors"][0]["code"], "unauthorized");
    fake.set_fault(Provider::Freshdesk, Fault::Status(401), 1);
    let resp = get(&fake, Provider::Freshdesk, "/api/v2/agents/me")
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["code"], "invalid_credentials");
    fake.set_fault(Provider::Zendesk, Fault::Status(403), 1);
    let resp = get(&fake, Provider::Zendesk, "/api/v2/users/me.json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(json(resp).await["error"], "Forbidden");
    // clear_faults drops pending ones.
    fake.set_fault(Provider::Helpjuice, Fault::Status(500), 5);
    fake.clear_faults();
    assert_eq!(status_of(&fake, Provider::Helpjuice).await, 200);
    fake.stop().await;
}

#[tokio::test]
async fn rate_limits_use_each_providers_signal() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };

    // Zendesk: Retry-After seconds, text/plain body of 50 bytes.
    fake.set_fault(
        Provider::Zendesk,
        Fault::RateLimited(RateLimitStyle::native(Provider::Zendesk, 7)),
        1,
    );
    let resp = get(&fake, Provider::Zendesk, list_path(Provider::Zendesk))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let body = resp.text().await.unwrap();
    assert_eq!(body, "Number of allowed API requests per minute exceeded");
    assert_eq!(body.len(), 50);

    // Freshdesk: Retry-After seconds, JSON.
    fake.set_fault(
        Provider::Freshdesk,
        Fault::RateLimited(RateLimitStyle::native(Provider::Freshdesk, 30)),
        1,
    );
    let resp = get(&fake, Provider::Freshdesk, list_path(Provider::Freshdesk))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["retry-after"], "30");

    // An HTTP-date Retry-After.
    fake.set_fault(
        Provider::Zendesk,
        Fault::RateLimited(RateLimitStyle::RetryAfterHttpDate(120)),
        1,
    );
    let resp = get(&fake, Provider::Zendesk, list_path(Provider::Zendesk))
        .send()
        .await
        .unwrap();
    let at = httpdate::parse_http_date(resp.headers()["retry-after"].to_str().unwrap()).unwrap();
    let wait = at.duration_since(SystemTime::now()).unwrap().as_secs();
    assert!((115..=120).contains(&wait), "{wait}");

    // Intercom: X-RateLimit-Reset unix time, no Retry-After.
    fake.set_fault(
        Provider::Intercom,
        Fault::RateLimited(RateLimitStyle::native(Provider::Intercom, 10)),
        1,
    );
    let resp = get(&fake, Provider::Intercom, "/me").send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    let reset: u64 = resp.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset >= now() + 8 && reset <= now() + 10, "{reset}");
    assert_eq!(json(resp).await["errors"][0]["code"], "rate_limit_exceeded");

    // Help Scout: X-RateLimit-Reset in seconds.
    fake.set_fault(
        Provider::Helpscout,
        Fault::RateLimited(RateLimitStyle::native(Provider::Helpscout, 42)),
        1,
    );
    let resp = get(&fake, Provider::Helpscout, "/v1/sites")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-ratelimit-reset"], "42");
    assert!(resp.headers().get("retry-after").is_none());

    // Helpjuice: no header, the documented body.
    fake.set_fault(
        Provider::Helpjuice,
        Fault::RateLimited(RateLimitStyle::native(Provider::Helpjuice, 60)),
        1,
    );
    let resp = get(&fake, Provider::Helpjuice, "/api/v3/articles")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    assert!(resp.headers().get("x-ratelimit-reset").is_none());
    assert_eq!(
        json(resp).await,
        serde_json::json!({"message": "You have fired too many requests, please wait one minute."})
    );
    fake.stop().await;
}

#[tokio::test]
async fn html_and_delay_faults() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    fake.set_fault(Provider::Freshdesk, Fault::Html(404), 1);
    let resp = get(&fake, Provider::Freshdesk, "/api/v2/agents/me")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(resp.text().await.unwrap().starts_with("<!DOCTYPE html>"));

    fake.set_fault(Provider::Zendesk, Fault::Html(200), 1);
    let resp = get(&fake, Provider::Zendesk, "/api/v2/users/me.json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(serde_json::from_str::<serde_json::Value>(&resp.text().await.unwrap()).is_err());

    fake.set_fault(
        Provider::Intercom,
        Fault::Delay(Duration::from_millis(400)),
        1,
    );
    let t = Instant::now();
    let resp = get(&fake, Provider::Intercom, "/me").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(400));
    // A client deadline shorter than the delay times out.
    fake.set_fault(
        Provider::Intercom,
        Fault::Delay(Duration::from_millis(1_500)),
        1,
    );
    let err = get(&fake, Provider::Intercom, "/me")
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    // The delay is only for the faulted request.
    let t = Instant::now();
    assert_eq!(
        get(&fake, Provider::Intercom, "/me")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(t.elapsed() < Duration::from_millis(400));
    fake.stop().await;
}

#[tokio::test]
async fn faults_on_a_path_or_after_some_requests_hit_page_two() {
    let fake = FakeHelpCenters::start(FakeConfig {
        datasets: Datasets {
            intercom: 30,
            zendesk: 30,
            ..Datasets::default()
        },
        ..FakeConfig::default()
    });
    // Intercom page 2 only, whatever the parameter order.
    fake.set_fault_on_path("/articles?page=2", Fault::Status(500), 1);
    let p = Provider::Intercom;
    assert_eq!(
        get(&fake, p, "/articles?page=1&per_page=10")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get(&fake, p, "/articles?per_page=10")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get(&fake, p, "/articles?per_page=10&page=3")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get(&fake, p, "/articles?per_page=10&page=2")
            .send()
            .await
            .unwrap()
            .status(),
        500
    );
    assert_eq!(
        get(&fake, p, "/articles?per_page=10&page=2")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Zendesk: every request with a page[after] (i.e. not the first page).
    fake.set_fault_on_path(
        "/api/v2/help_center/articles.json?page[after]",
        Fault::RateLimited(RateLimitStyle::RetryAfterSeconds(3)),
        1,
    );
    let z = Provider::Zendesk;
    let first = json(
        get(&fake, z, "/api/v2/help_center/articles.json?page[size]=10")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let next = first["links"]["next"].as_str().unwrap();
    assert_eq!(get(&fake, z, next).send().await.unwrap().status(), 429);
    assert_eq!(get(&fake, z, next).send().await.unwrap().status(), 200);

    // set_fault_after: the first request passes, the next two fail.
    fake.set_fault_after(Provider::Helpjuice, 1, Fault::Status(503), 2);
    let h = Provider::Helpjuice;
    let codes = [
        get(&fake, h, "/api/v3/articles?page=1")
            .send()
            .await
            .unwrap()
            .status(),
        get(&fake, h, "/api/v3/articles?page=2")
            .send()
            .await
            .unwrap()
            .status(),
        get(&fake, h, "/api/v3/articles?page=2")
            .send()
            .await
            .unwrap()
            .status(),
        get(&fake, h, "/api/v3/articles?page=2")
            .send()
            .await
            .unwrap()
            .status(),
    ];
    assert_eq!(codes.map(|s| s.as_u16()), [200, 503, 503, 200]);
    fake.stop().await;
}

#[tokio::test]
async fn request_log_records_calls_without_secrets() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    get(&fake, Provider::Intercom, "/articles?page=1&per_page=5")
        .send()
        .await
        .unwrap();
    fake.set_fault(Provider::Zendesk, Fault::Status(500), 1);
    get(
        &fake,
        Provider::Zendesk,
        "/api/v2/help_center/articles.json?page[size]=5",
    )
    .send()
    .await
    .unwrap();
    common::client()
        .get(format!(
            "{}/api/v3/articles?api_key={GOOD_SECRET}&page=1",
            fake.base_url
        ))
        .send()
        .await
        .unwrap();
    common::client()
        .get(format!("{}/elsewhere", fake.base_url))
        .send()
        .await
        .unwrap();

    let log = fake.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path_and_query, "/articles?page=1&per_page=5");
    assert!(log[0].authorization_present);
    assert_eq!(log[0].provider, Some(Provider::Intercom));
    assert_eq!(
        log[1].provider,
        Some(Provider::Zendesk),
        "faulted requests are logged"
    );
    assert_eq!(
        log[2].path_and_query,
        "/api/v3/articles?api_key=REDACTED&page=1"
    );
    assert!(!log[2].authorization_present);
    assert_eq!(log[3].provider, None);
    let dump = format!("{log:?}");
    assert!(!dump.contains(GOOD_SECRET));
    assert!(!dump.contains("Basic"));
    assert!(!dump.contains("Bearer"));

    assert_eq!(fake.requests_to(Provider::Intercom).len(), 1);
    fake.clear_requests();
    assert!(fake.requests().is_empty());
    get(
        &fake,
        Provider::Knowledgeowl,
        "/api/head/article.json?limit=1",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(fake.requests().len(), 1);
    fake.stop().await;
}
