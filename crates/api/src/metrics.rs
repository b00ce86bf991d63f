//! `/metrics` (API.md section 10), in the OpenMetrics text format that Prometheus scrapes:
//! requests by route template, method and status; latency histograms by route; provider calls
//! (verify, export, import) by provider, action and reason, with their latency; the database
//! pool's connections; build information. Nothing about any account.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use integrations_domain::{Action, FailureReason, Meter, Provider};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The path template of the resource that answered (set on each resource by `service()`).
#[derive(Clone, Copy, Debug)]
pub struct RouteTemplate(pub &'static str);

/// How full the database pool is, read at each scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolUsage {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// Reads the pool's usage (the server wires the store's).
pub type PoolProbe = Arc<dyn Fn() -> PoolUsage + Send + Sync>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    action: &'static str,
    provider: &'static str,
    /// `success` or a reason code.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallKindLabels {
    action: &'static str,
    provider: &'static str,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;
type CallLatency = Family<CallKindLabels, Histogram, fn() -> Histogram>;

fn latency_buckets() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The metrics of one replica.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Latency,
    calls: Family<CallLabels, Counter>,
    call_latency: CallLatency,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    pool: Option<PoolProbe>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new(pool: Option<PoolProbe>) -> Self {
        let mut registry = Registry::with_prefix("integrations");
        let requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        let latency: Latency = Family::new_with_constructor(latency_buckets);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            latency.clone(),
        );
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "provider_calls",
            "Provider calls (verified, exported, deleted_object, imported) by provider and outcome (success or the reason code)",
            calls.clone(),
        );
        let call_latency: CallLatency = Family::new_with_constructor(latency_buckets);
        registry.register(
            "provider_call_duration_seconds",
            "Provider call latency by action and provider",
            call_latency.clone(),
        );
        let pool_connections = Gauge::default();
        let pool_idle = Gauge::default();
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Database connections open and idle",
            pool_idle.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Database connections the pool opens at most",
            pool_max.clone(),
        );
        registry.register(
            "build",
            "Build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Self {
            registry,
            requests,
            latency,
            calls,
            call_latency,
            pool_connections,
            pool_idle,
            pool_max,
            pool,
        }
    }

    fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The text of a scrape.
    pub fn render(&self) -> String {
        if let Some(probe) = &self.pool {
            let usage = probe();
            self.pool_connections.set(i64::from(usage.connections));
            self.pool_idle.set(i64::from(usage.idle));
            self.pool_max.set(i64::from(usage.max));
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("could not encode the metrics");
        }
        out
    }
}

impl Meter for Metrics {
    fn provider_call(
        &self,
        action: Action,
        provider: Provider,
        outcome: Result<(), FailureReason>,
        elapsed: Duration,
    ) {
        self.calls
            .get_or_create(&CallLabels {
                action: action.as_str(),
                provider: provider.as_str(),
                outcome: match outcome {
                    Ok(()) => "success",
                    Err(r) => r.as_str(),
                },
            })
            .inc();
        self.call_latency
            .get_or_create(&CallKindLabels {
                action: action.as_str(),
                provider: provider.as_str(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// Counts every answered request by its route template (never the raw path: ids would make
/// the label set unbounded).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req
        .app_data::<web::Data<crate::Api>>()
        .map(|api| api.metrics.clone());
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = res
            .request()
            .app_data::<RouteTemplate>()
            .map_or("(unmatched)", |r| r.0);
        metrics.request(&method, route, res.status().as_u16(), started.elapsed());
    }
    Ok(res)
}

/// `GET /metrics`
pub async fn scrape(api: web::Data<crate::Api>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(api.metrics.render())
}
