//! The HTTP client shared by all provider clients: one `reqwest` client (one connection
//! pool, async: hundreds of calls in flight cost no threads) whose resolver is the SSRF guard,
//! no proxy, no redirects, connect and total deadlines, bounded bodies, and one retry after a
//! connection reset.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use integrations_outbound::{Egress, EgressError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};

/// The connect deadline never exceeds this (and never the total deadline).
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Do not start the retry after a reset with less time than this left.
const MIN_TIME_FOR_RETRY: Duration = Duration::from_millis(100);

/// One GET a provider client wants to make.
pub(crate) struct Request {
    /// Full URL: a validated base URL plus a fixed, documented path (and query).
    pub(crate) url: String,
    /// The `Authorization` header value; `None` sends no header.
    pub(crate) authorization: Option<SecretString>,
    /// Other, non-secret headers.
    pub(crate) headers: Vec<(&'static str, &'static str)>,
    /// Most bytes of body read.
    pub(crate) body_limit: usize,
}

/// What the provider answered: status, the few headers we use, and a bounded body.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) ratelimit_reset: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) content_type: Option<String>,
    /// `None` when the body was larger than the limit.
    pub(crate) body: Option<Vec<u8>>,
}

impl Answer {
    /// The body as JSON, when it is complete and valid JSON.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(self.body.as_deref()?).ok()
    }

    /// Whether the answer looks like a web page rather than an API answer.
    pub(crate) fn is_html(&self) -> bool {
        let ct = self.content_type.as_deref().unwrap_or_default();
        if ct.to_ascii_lowercase().contains("html") {
            return true;
        }
        self.body.as_deref().is_some_and(|b| {
            let start = String::from_utf8_lossy(&b[..b.len().min(512)]).to_ascii_lowercase();
            let t = start.trim_start();
            t.starts_with("<!doctype html") || t.starts_with("<html")
        })
    }
}

/// Why no answer came back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    #[error("no answer within the deadline")]
    Timeout,
    #[error("the host name could not be resolved")]
    UnknownHost,
    #[error("the address is not on the public internet")]
    Blocked,
    #[error("the connection was refused")]
    Refused,
    #[error("the connection was reset")]
    Reset,
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("invalid HTTP answer: {0}")]
    Protocol(String),
    #[error("network error: {0}")]
    Network(String),
}

/// The SSRF guard as reqwest's resolver: names resolve only to allowed addresses.
struct GuardedResolver {
    egress: Egress,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.egress;
        Box::pin(async move {
            let ips = egress.resolve(name.as_str()).await?;
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The shared client.
pub(crate) struct Http {
    client: reqwest::Client,
    egress: Egress,
    timeout: Duration,
}

impl Http {
    pub(crate) fn new(timeout: Duration, egress: Egress) -> Result<Self, reqwest::Error> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let client = reqwest::Client::builder()
            // A redirect is returned as is and never followed (no hop to another host).
            .redirect(reqwest::redirect::Policy::none())
            // Never through a proxy from the environment: the guard must see the real target.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { egress }))
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(timeout)
            .user_agent(concat!(
                "integrations-helpcenter/",
                env!("CARGO_PKG_VERSION")
            ))
            .default_headers(headers)
            .pool_max_idle_per_host(16)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            egress,
            timeout,
        })
    }

    /// The total deadline of one verification.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `request`. Retries once, within the same deadline, when the connection was reset
    /// before an answer came or the answer was `408 Request Timeout` (a GET is idempotent);
    /// never after any other answer.
    ///
    /// Why 408: a server sends it on a connection that stayed idle before its first request
    /// (the pool can hold one that lost a connect race) and closes it; RFC 9110 §15.5.9 lets
    /// the client repeat the request on a new connection. Seen in the suite as a rare 502.
    pub(crate) async fn get(&self, request: &Request) -> Result<Answer, TransportError> {
        // HTTP clients skip the resolver for address literals: check those here (after the
        // URL parser normalised numeric forms such as `2130706433`).
        self.egress.check_url(&request.url).map_err(|e| match e {
            EgressError::Blocked { .. } => TransportError::Blocked,
            EgressError::UnknownHost { .. } => TransportError::UnknownHost,
            EgressError::InvalidUrl => TransportError::Protocol("invalid URL".into()),
        })?;
        let started = Instant::now();
        let first = self.get_once(request, self.timeout).await;
        let retry = match &first {
            Err(TransportError::Reset) => "connection reset before an answer",
            Ok(answer) if answer.status == 408 => "408 Request Timeout",
            _ => return first,
        };
        let left = self.timeout.saturating_sub(started.elapsed());
        if left < MIN_TIME_FOR_RETRY {
            return first;
        }
        tracing::debug!("{retry}; retrying once");
        self.get_once(request, left).await
    }

    async fn get_once(
        &self,
        request: &Request,
        deadline: Duration,
    ) -> Result<Answer, TransportError> {
        let mut builder = self.client.get(&request.url).timeout(deadline);
        for (name, value) in &request.headers {
            builder = builder.header(*name, *value);
        }
        if let Some(secret) = &request.authorization {
            let mut value = HeaderValue::from_str(secret.expose_secret()).map_err(|_| {
                TransportError::Protocol("credential not usable in a header".into())
            })?;
            // Never printed by the HTTP stack's own debug output.
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        let mut response = builder.send().await.map_err(classify)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().chars().take(256).collect::<String>())
        };
        let status = response.status().as_u16();
        let retry_after = header("retry-after");
        let ratelimit_reset = header("x-ratelimit-reset");
        let location = header("location");
        let content_type = header("content-type");
        let mut body = Vec::new();
        let mut complete = true;
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > request.body_limit {
                complete = false;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            retry_after,
            ratelimit_reset,
            location,
            content_type,
            body: complete.then_some(body),
        })
    }
}

/// Maps a reqwest error by what its source chain holds.
fn classify(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut root = e.to_string();
    while let Some(s) = source {
        if let Some(egress) = s.downcast_ref::<EgressError>() {
            return match egress {
                EgressError::Blocked { .. } => TransportError::Blocked,
                EgressError::UnknownHost { .. } => TransportError::UnknownHost,
                EgressError::InvalidUrl => TransportError::Protocol("invalid URL".into()),
            };
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind;
            match io.kind() {
                ErrorKind::ConnectionRefused => return TransportError::Refused,
                ErrorKind::TimedOut => return TransportError::Timeout,
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof => return TransportError::Reset,
                _ => {}
            }
        }
        root = s.to_string();
        source = s.source();
    }
    let lower = root.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        TransportError::Tls(root)
    } else if e.is_connect() {
        TransportError::Network(root)
    } else if lower.contains("connection closed")
        || lower.contains("incomplete message")
        || lower.contains("reset")
    {
        TransportError::Reset
    } else if e.is_decode() || e.is_body() {
        TransportError::Protocol(root)
    } else {
        TransportError::Network(root)
    }
}
