//! Logs go to stderr (stdout is kept for what a command prints: the first API key, a new key).
//!
//! Secrets must be unloggable whatever the filter says, in two layers:
//! 1. **Caps**: the targets of the HTTP and database stacks that can print wire data (headers,
//!    bodies, statement parameters, SigV4 canonical requests) are capped at INFO whatever the
//!    configured filter (`RUST_LOG=trace` included). The cap is a per-layer filter on every
//!    output layer, applied after the configured `EnvFilter`: a span directive such as
//!    `[request]=trace`, which an `EnvFilter` lets override its own target directives, cannot
//!    lift it.
//! 2. **A redacting writer**: every formatted line passes through [`redact`] before it is
//!    written, which removes the shapes a credential has on the wire (`Authorization` values,
//!    `Basic`/`Bearer` tokens, API keys, AWS key ids and signatures, `password=`/`secret=`
//!    pairs), so a line a cap missed still carries no secret.

use crate::settings::{LogFormat, LoggingSettings};
use std::io::{IsTerminal, Write};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Targets whose DEBUG/TRACE output can include credential material: the AWS SDK (access key
/// ids, canonical requests), the HTTP stacks (request and header dumps), the PostgreSQL driver
/// (statement parameters), TLS. Capped at INFO whatever the configured filter says.
const CAPPED_AT_INFO: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_http",
    "aws_smithy_types",
    "aws_sdk_s3",
    "aws_sigv4",
    "aws_credential_types",
    "aws_runtime",
    "hyper",
    "hyper_util",
    "hyper_rustls",
    "h2",
    "reqwest",
    "rustls",
    "tokio_postgres",
    "postgres_protocol",
    "actix_http",
    "actix_server",
    "actix_web",
    "ureq",
    "ureq_proto",
];

/// The filter of `directives` (EnvFilter syntax; `info` when they do not parse). The caps are
/// not here but on each output layer ([`layer`]): a directive added to an `EnvFilter` would
/// also raise a target the operator set lower (`warn` would log their INFO lines), and a
/// span directive could lift it.
pub fn env_filter(directives: &str) -> EnvFilter {
    EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the global subscriber writing to stderr. `RUST_LOG`, when set, wins over
/// `logging.filter`. Also routes panics to the log (with the request id of the request that
/// panicked).
pub fn init(settings: &LoggingSettings) {
    let directives = std::env::var("RUST_LOG")
        .ok()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| settings.filter.clone());
    let ansi = std::io::stderr().is_terminal() && settings.format == LogFormat::Text;
    if try_init(
        settings.format,
        &directives,
        Redacting(std::io::stderr),
        ansi,
    )
    .is_err()
    {
        eprintln!("a tracing subscriber was already installed");
    }
    install_panic_hook();
}

/// Installs a global subscriber of `format` writing through the redacting writer.
pub fn try_init<W>(
    format: LogFormat,
    directives: &str,
    writer: Redacting<W>,
    ansi: bool,
) -> Result<(), tracing_subscriber::util::TryInitError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(env_filter(directives))
        .with(layer(format, writer, ansi))
        .try_init()
}

/// The per-layer cap: the credential-bearing targets at INFO, everything else as the
/// configured filter says.
fn caps() -> tracing_subscriber::filter::Targets {
    tracing_subscriber::filter::Targets::new()
        .with_default(tracing::level_filters::LevelFilter::TRACE)
        .with_targets(
            CAPPED_AT_INFO
                .iter()
                .map(|t| (*t, tracing::level_filters::LevelFilter::INFO)),
        )
}

/// The formatting layer of `format` (the server's one; the end-to-end tests stack both).
pub fn layer<S, W>(
    format: LogFormat,
    writer: Redacting<W>,
    ansi: bool,
) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::Layer;
    match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            // Every line inside a request carries the list of its spans, the outermost being
            // `request` with the request id (an adapter's own span sits below it).
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(writer)
            .with_filter(caps())
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(writer)
            .with_filter(caps())
            .boxed(),
    }
}

/// Panics are logged as errors (with the request id when they happen inside a request) instead
/// of the default hook's bare stderr line.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        tracing::error!(
            request_id = integrations_api::request_id::current().unwrap_or_default(),
            %location,
            panic = %redact(&message),
            "a task panicked"
        );
    }));
}

/// A `MakeWriter` whose writers redact every line before writing it.
#[derive(Clone, Debug)]
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

/// Redacts what it is given, then writes it (the formatter writes one event per call).
pub struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

const MASK: &str = "[redacted]";

/// Removes the wire shapes of credentials from a log line. Cheap on ordinary lines: each rule
/// first looks for its marker and does nothing when it is absent.
pub fn redact(line: &str) -> String {
    let mut out = line.to_owned();
    // `Authorization: …`, `authorization=…` up to the end of the value.
    for marker in [
        "authorization",
        "x-amz-security-token",
        "x-api-key",
        "cookie",
    ] {
        out = mask_after_marker(&out, marker, |c| c == '\n' || c == '"' || c == ',');
    }
    // Tokens after a scheme or a key name.
    for marker in [
        "basic ",
        "bearer ",
        "token=",
        "\"token\":",
        "\"apikey\":",
        "\"secretaccesskey\":",
        "password=",
        "password:",
        "secret=",
        "secret_access_key",
        "secretaccesskey",
        "x-amz-signature=",
        "signature=",
        "api_key=",
        "apikey=",
    ] {
        out = mask_after_marker(&out, marker, |c| {
            c.is_whitespace() || matches!(c, '"' | ',' | '&' | ';' | '}' | ')')
        });
    }
    out = mask_words(&out, |w| {
        // Our API keys: ik_ + 43 base64url characters.
        (w.starts_with("ik_") && w.len() >= 46)
            // AWS access key ids (long-term and temporary).
            || ((w.starts_with("AKIA") || w.starts_with("ASIA"))
                && w.len() == 20
                && w.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    });
    out
}

/// Masks the value following each case-insensitive occurrence of `marker` (skipping `:`, `=`
/// and spaces right after it) up to the first character for which `end` holds.
fn mask_after_marker(line: &str, marker: &str, end: impl Fn(char) -> bool) -> String {
    let lower = line.to_ascii_lowercase();
    if !lower.contains(marker) {
        return line.to_owned();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find(marker) {
        let start = search + found + marker.len();
        // Skip separators between the marker and its value.
        let value_start = line[start..]
            .char_indices()
            .find(|(_, c)| !matches!(c, ':' | '=' | ' ' | '"' | '\\'))
            .map_or(line.len(), |(i, _)| start + i);
        let value_end = line[value_start..]
            .char_indices()
            .find(|(_, c)| end(*c))
            .map_or(line.len(), |(i, _)| value_start + i);
        if value_end > value_start {
            out.push_str(&line[rest..value_start]);
            out.push_str(MASK);
            rest = value_end;
        }
        search = value_end.max(start);
        if search >= line.len() {
            break;
        }
    }
    out.push_str(&line[rest..]);
    out
}

/// Masks every word (a run of `[A-Za-z0-9_-]`) for which `secret` holds.
fn mask_words(line: &str, secret: impl Fn(&str) -> bool) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(line.len());
    let mut word_start: Option<usize> = None;
    for (i, c) in line.char_indices() {
        match (is_word(c), word_start) {
            (true, None) => word_start = Some(i),
            (false, Some(s)) => {
                let w = &line[s..i];
                out.push_str(if secret(w) { MASK } else { w });
                out.push(c);
                word_start = None;
            }
            (false, None) => out.push(c),
            (true, Some(_)) => {}
        }
    }
    if let Some(s) = word_start {
        let w = &line[s..];
        out.push_str(if secret(w) { MASK } else { w });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes_of_credentials_are_redacted() {
        let key = format!("ik_{}", "A".repeat(43));
        for (line, secret) in [
            (
                "authorization: Basic YWdlbnRAeC5jb20vdG9rZW46czNjcmV0",
                "YWdlbnRAeC5jb20vdG9rZW46czNjcmV0",
            ),
            (
                "headers={\"Authorization\": \"Bearer tok-123456\"}",
                "tok-123456",
            ),
            ("Authorization=raw-helpjuice-key-9", "raw-helpjuice-key-9"),
            (
                "credentials AKIAIOSFODNN7EXAMPLE used",
                "AKIAIOSFODNN7EXAMPLE",
            ),
            ("X-Amz-Signature=deadbeefcafe&x", "deadbeefcafe"),
            ("url=postgres://u:pw@h/db?password=hunter2x", "hunter2x"),
            (&format!("key {key} presented"), &key[..]),
            ("secret_access_key: wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI"),
        ] {
            let out = redact(line);
            assert!(!out.contains(secret), "{line} -> {out}");
            assert!(out.contains(MASK), "{line} -> {out}");
        }
        let plain = "request finished status=200 elapsed_ms=3 path=/integration";
        assert_eq!(redact(plain), plain);
    }

    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What each format writes for wire-level events of capped targets (which carry no
    /// credential shape the redactor knows, so only the cap can stop them) under filters
    /// that try to lift the cap: a target directive and a span directive.
    #[test]
    fn no_filter_lifts_the_cap_on_wire_targets() {
        use tracing_subscriber::layer::SubscriberExt;
        for directives in [
            "trace",
            "aws_sigv4=trace,ureq_proto=trace,hyper=trace",
            "[request]=trace",
            "info,[request]=trace,aws_sdk_s3=trace",
        ] {
            for format in [LogFormat::Text, LogFormat::Json] {
                let buffer = Buffer::default();
                let b = buffer.clone();
                let subscriber = tracing_subscriber::registry()
                    .with(env_filter(directives))
                    .with(layer(format, Redacting(move || b.clone()), false));
                tracing::subscriber::with_default(subscriber, || {
                    let span = tracing::info_span!("request", request_id = "r-1");
                    let _entered = span.enter();
                    tracing::trace!(target: "aws_sigv4", "canonical request: wire-dump-1");
                    tracing::debug!(target: "ureq_proto", "wire-dump-2");
                    tracing::trace!(target: "hyper::proto", "wire-dump-3");
                    tracing::trace!(target: "aws_sdk_s3::operation", "wire-dump-4");
                    tracing::info!(target: "aws_sdk_s3", "visible-info");
                    tracing::trace!(target: "integrations_api", "visible-own-trace");
                });
                let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
                assert!(
                    !out.contains("wire-dump"),
                    "{directives} ({format:?}):\n{out}"
                );
                // What the filter asks for below the caps still shows.
                if directives.contains("aws_sdk_s3") || directives == "trace" {
                    assert!(out.contains("visible-info"), "{directives}:\n{out}");
                }
                if directives.contains("trace") && !directives.contains("hyper") {
                    assert!(out.contains("visible-own-trace"), "{directives}:\n{out}");
                }
            }
        }
    }

    /// The caps only ever lower a level: `warn` keeps the capped targets' INFO lines out.
    #[test]
    fn caps_do_not_raise_a_lower_filter() {
        use tracing_subscriber::layer::SubscriberExt;
        let buffer = Buffer::default();
        let b = buffer.clone();
        let subscriber = tracing_subscriber::registry()
            .with(env_filter("warn"))
            .with(layer(LogFormat::Text, Redacting(move || b.clone()), false));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "actix_server", "starting workers");
            tracing::warn!(target: "actix_server", "visible-warning");
        });
        let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(!out.contains("starting workers"), "{out}");
        assert!(out.contains("visible-warning"), "{out}");
    }
}
