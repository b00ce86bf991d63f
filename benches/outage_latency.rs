//! Figure for issue 2: with the database unreachable, how long until the API answers 503
//! (target: within one second), and how long until it serves again once the database is back.
//!
//! Runs the real application on PostgreSQL behind a local TCP proxy with the default
//! configuration (500 ms pool checkout, 5 s query timeout), then (1) cuts the proxy (connections
//! closed, port refusing) and (2) freezes it (connections open, nothing forwarded: a partition),
//! timing requests in each state.
//!
//! `cargo bench -p integrations-e2e --bench outage_latency`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use integrations_e2e::proxy::Proxy;
use integrations_e2e::{admin_database_url, Backend, TestApp};
use integrations_store::testing::FreshPostgres;
use serde_json::json;
use std::time::{Duration, Instant};

async fn timed(app: &TestApp, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let res = app.get(path).await;
    (res.status, started.elapsed())
}

async fn sample(app: &TestApp, paths: &[String], rounds: usize) -> Vec<(u16, Duration)> {
    let mut out = Vec::new();
    for _ in 0..rounds {
        for p in paths {
            out.push(timed(app, p).await);
        }
    }
    out
}

fn report(what: &str, samples: &[(u16, Duration)]) -> Duration {
    let mut times: Vec<Duration> = samples.iter().map(|(_, d)| *d).collect();
    times.sort();
    let statuses: std::collections::BTreeSet<u16> = samples.iter().map(|(s, _)| *s).collect();
    let max = times.last().copied().unwrap_or_default();
    println!(
        "{what}: {} requests, statuses {statuses:?}, median {:.0} ms, max {:.0} ms",
        samples.len(),
        times[times.len() / 2].as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    );
    max
}

async fn until_ok(app: &TestApp, path: &str) -> Duration {
    let started = Instant::now();
    while app.get(path).await.status != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never recovered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let pg = FreshPostgres::create(&admin_database_url()).await.unwrap();
    let url = url::Url::parse(pg.url()).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
        .parse()
        .unwrap();
    let mut proxy = Proxy::start(target).await;
    let mut proxied = url.clone();
    proxied.set_port(Some(proxy.port)).unwrap();
    let app = TestApp::spawn_with(Backend::Sqlite, &[("DATABASE__URL", proxied.as_str())]).await;
    let id = app
        .create(&json!({"label": "x", "provider": "helpscout", "credentials": {"apiKey": "k"}}))
        .await;
    let paths = vec![
        "/integration".to_owned(),
        format!("/integration/{id}"),
        "/readyz".to_owned(),
    ];
    report("database up", &sample(&app, &paths, 10).await);

    proxy.cut().await;
    let cut = report("database cut (refusing)", &sample(&app, &paths, 10).await);
    proxy.restore().await;
    let back = until_ok(&app, &format!("/integration/{id}")).await;
    println!(
        "served again {:.0} ms after the database came back",
        back.as_secs_f64() * 1000.0
    );

    proxy.freeze();
    let frozen = report(
        "database frozen (partition)",
        &sample(&app, &paths, 3).await,
    );
    proxy.thaw();
    let back = until_ok(&app, &format!("/integration/{id}")).await;
    println!(
        "served again {:.0} ms after the partition ended",
        back.as_secs_f64() * 1000.0
    );

    app.stop().await;
    drop(pg);
    println!(
        "target (503 within 1 s when unreachable): {}; partition answered within {:.1} s",
        if cut < Duration::from_secs(1) {
            "met"
        } else {
            "MISSED"
        },
        frozen.as_secs_f64()
    );
}
