//! The blocking HTTP client shared by all provider clients: one `ureq::Agent` (one connection
//! pool) with the SSRF guard as its resolver, no proxy, no redirects, connect and total
//! deadlines, bounded bodies, and one retry after a connection reset.

use std::io;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use ureq::http::HeaderValue;
use ureq::unversioned::transport::DefaultConnector;

use crate::guard::{BlockedAddress, GuardedResolver, UnknownHost};

/// The connect deadline never exceeds this (and never the total deadline).
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Do not start the retry after a reset with less time than this left.
const MIN_TIME_FOR_RETRY: Duration = Duration::from_millis(100);

/// One GET a provider client wants to make.
pub(crate) struct Probe {
    /// Full URL: a validated base URL plus a fixed, documented path (and query).
    pub(crate) url: String,
    /// The `Authorization` header value; `None` sends no header.
    pub(crate) authorization: Option<SecretString>,
    /// Other, non-secret headers.
    pub(crate) headers: Vec<(&'static str, &'static str)>,
    /// Most bytes of body read.
    pub(crate) body_limit: u64,
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

/// The shared blocking client.
pub(crate) struct HttpClient {
    agent: ureq::Agent,
    timeout: Duration,
}

impl HttpClient {
    pub(crate) fn new(timeout: Duration, allow_private_networks: bool) -> Self {
        let config = ureq::Agent::config_builder()
            // Status codes are answers we map ourselves, not errors.
            .http_status_as_error(false)
            // A redirect is returned as is and never followed (no hop to another host).
            .max_redirects(0)
            // Never through a proxy from the environment: the guard must see the real target.
            .proxy(None)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(MAX_CONNECT_TIMEOUT)))
            .user_agent("integrations-helpcenter/0.1")
            // Hundreds of calls may be in flight: keep per-connection buffers small.
            .max_response_header_size(32 * 1024)
            .input_buffer_size(64 * 1024)
            .output_buffer_size(8 * 1024)
            .max_idle_connections(64)
            .max_idle_connections_per_host(16)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            DefaultConnector::new(),
            GuardedResolver::new(allow_private_networks),
        );
        Self { agent, timeout }
    }

    /// The total deadline of one verification.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `probe` (blocking). Retries once, within the same deadline, when the connection
    /// was reset before an answer came (a GET is idempotent); never after an answer.
    pub(crate) fn get(&self, probe: &Probe) -> Result<Answer, TransportError> {
        let started = Instant::now();
        match self.get_once(probe, self.timeout) {
            Err(TransportError::Reset) => {
                let left = self.timeout.saturating_sub(started.elapsed());
                if left < MIN_TIME_FOR_RETRY {
                    return Err(TransportError::Reset);
                }
                tracing::debug!("connection reset before an answer; retrying once");
                self.get_once(probe, left)
            }
            other => other,
        }
    }

    fn get_once(&self, probe: &Probe, deadline: Duration) -> Result<Answer, TransportError> {
        let mut request = self
            .agent
            .get(&probe.url)
            .config()
            .timeout_global(Some(deadline))
            .timeout_connect(Some(deadline.min(MAX_CONNECT_TIMEOUT)))
            .build()
            .header("Accept", "application/json");
        for (name, value) in &probe.headers {
            request = request.header(*name, *value);
        }
        if let Some(secret) = &probe.authorization {
            let mut value = HeaderValue::from_str(secret.expose_secret()).map_err(|_| {
                TransportError::Protocol("credential not usable in a header".into())
            })?;
            value.set_sensitive(true);
            request = request.header("Authorization", value);
        }
        let mut response = request.call().map_err(classify)?;
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
        let body = match response
            .body_mut()
            .with_config()
            .limit(probe.body_limit)
            .read_to_vec()
        {
            Ok(b) => Some(b),
            Err(ureq::Error::BodyExceedsLimit(_)) => None,
            Err(e) => return Err(classify(e)),
        };
        Ok(Answer {
            status,
            retry_after,
            ratelimit_reset,
            location,
            content_type,
            body,
        })
    }
}

fn classify(e: ureq::Error) -> TransportError {
    match e {
        ureq::Error::Timeout(_) => TransportError::Timeout,
        ureq::Error::HostNotFound => TransportError::UnknownHost,
        ureq::Error::Other(inner) => {
            if inner.is::<BlockedAddress>() {
                TransportError::Blocked
            } else if inner.is::<UnknownHost>() {
                TransportError::UnknownHost
            } else {
                TransportError::Network(inner.to_string())
            }
        }
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::ConnectionRefused => TransportError::Refused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportError::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => TransportError::Reset,
            _ => TransportError::Network(io.to_string()),
        },
        ureq::Error::Tls(m) => TransportError::Tls(m.to_owned()),
        ureq::Error::Rustls(r) => TransportError::Tls(r.to_string()),
        ureq::Error::Protocol(p) => TransportError::Protocol(p.to_string()),
        ureq::Error::LargeResponseHeader(..) => {
            TransportError::Protocol("the answer's headers are too large".into())
        }
        other => TransportError::Network(other.to_string()),
    }
}
