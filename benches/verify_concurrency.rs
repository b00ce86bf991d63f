//! Load check for issue 4: 256 help-center verifications in flight against a provider that
//! answers after 3 s must all succeed in under 8 s in total, while `/healthz` keeps answering in
//! under 100 ms.
//!
//! Runs the real application (SQLite in a temp dir) with Zendesk pointed at a local stand-in that
//! waits 3 s before answering, fires the verifications at once over HTTP, and polls `/healthz`
//! every 20 ms meanwhile. Prints the figures; exits non-zero when a target is missed.
//!
//! `cargo bench -p integrations-e2e --bench verify_concurrency` (optionally `-- <in-flight> <delay-ms>`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use actix_web::{web, App, HttpResponse, HttpServer};
use integrations_e2e::mocks::ZENDESK_EMAIL;
use integrations_e2e::{Backend, TestApp};
use serde_json::json;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn slow_zendesk(delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new().route(
            "/api/v2/users/me.json",
            web::get().to(move || async move {
                tokio::time::sleep(delay).await;
                HttpResponse::Ok().json(json!({"user": {"id": 1, "role": "agent",
                                               "email": ZENDESK_EMAIL}}))
            }),
        )
    })
    .workers(1)
    .max_connections(100_000)
    .backlog(4096)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; take only numeric arguments.
    let nums: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let in_flight = nums.first().copied().unwrap_or(256) as usize;
    let delay = Duration::from_millis(nums.get(1).copied().unwrap_or(3000));

    let provider = slow_zendesk(delay);
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("PROVIDERS__ZENDESK__BASE_URL", &provider),
            ("VERIFY__TIMEOUT_MS", "10000"),
        ],
    )
    .await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let body = json!({"provider": "zendesk", "platform": "helpcenter", "credentials": {
        "username": ZENDESK_EMAIL, "token": "load-test-token", "subdomain": "acme"}});

    // Health probe every 20 ms while the load runs.
    let done = Arc::new(AtomicBool::new(false));
    let probe = {
        let done = done.clone();
        let url = format!("{}/healthz", app.address);
        let client = reqwest::Client::new();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let t = Instant::now();
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                samples.push((t.elapsed(), ok));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            samples
        })
    };

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(in_flight);
    for _ in 0..in_flight {
        let client = client.clone();
        let url = format!("{}/integration/verify", app.address);
        let key = app.api_key.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let res = client.post(url).bearer_auth(key).json(&body).send().await;
            match res {
                Ok(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .map(|v| v["isConnectionSuccessful"] == true)
                    .unwrap_or(false),
                Err(_) => false,
            }
        }));
    }
    let mut succeeded = 0;
    for t in tasks {
        if t.await.unwrap_or(false) {
            succeeded += 1;
        }
    }
    let total = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let mut samples = probe.await.unwrap();
    samples.sort_by_key(|(d, _)| *d);
    let failed_probes = samples.iter().filter(|(_, ok)| !ok).count();
    let max = samples.last().map(|(d, _)| *d).unwrap_or_default();
    let p99 = samples
        .get(samples.len().saturating_mul(99) / 100)
        .map(|(d, _)| *d)
        .unwrap_or_default();

    println!("verifications in flight: {in_flight}, provider delay: {delay:?}");
    println!(
        "succeeded: {succeeded}/{in_flight}, total: {:.2} s",
        total.as_secs_f64()
    );
    println!(
        "/healthz during the load: {} probes, {} failed, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        failed_probes,
        p99.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    );
    app.stop().await;
    let ok = succeeded == in_flight
        && total < Duration::from_secs(8)
        && failed_probes == 0
        && max < Duration::from_millis(100);
    println!(
        "targets (all succeed, < 8 s, healthz < 100 ms): {}",
        if ok { "met" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
}
