//! Logs go to stderr (stdout is kept for what a command prints: the first API key, a new key).

use crate::settings::{LogFormat, LoggingSettings};
use std::io::IsTerminal;
use tracing_subscriber::filter::Directive;
use tracing_subscriber::EnvFilter;

/// Targets whose DEBUG/TRACE output can include credential material (the AWS SDK prints the
/// access key id of its `Credentials` and SigV4 canonical requests). They are capped at INFO
/// whatever the configured filter says, so no setting can put a key id in the log.
const CAPPED_AT_INFO: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_s3",
    "aws_sigv4",
    "aws_credential_types",
];

/// The filter of `directives` (EnvFilter syntax) with the credential-bearing targets capped.
pub fn env_filter(directives: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in CAPPED_AT_INFO {
        if let Ok(d) = format!("{target}=info").parse::<Directive>() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `logging.filter`.
pub fn init(settings: &LoggingSettings) {
    let directives = std::env::var("RUST_LOG")
        .ok()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| settings.filter.clone());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter(&directives))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let result = match settings.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if result.is_err() {
        eprintln!("a tracing subscriber was already installed");
    }
}
