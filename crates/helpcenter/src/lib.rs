//! `ConnectionVerifier` for the `helpcenter` platform: checks that help-center credentials
//! authenticate as a real agent or admin of the account, with one blocking `ureq` client per
//! provider run on tokio's blocking pool.
//!
//! # Layout
//! * [`config`]: [`HelpcenterConfig`] (deadline, private-network switch, the
//!   `providers.<name>.base_url` templates) and [`ConfigError`]; the template parser that
//!   fills `{subdomain}` only with a single validated DNS label.
//! * `guard`: the SSRF guard, a ureq `Resolver` that drops loopback, private, link-local,
//!   CGNAT, metadata and reserved addresses after DNS resolution (IPv4-mapped IPv6 included).
//! * `http`: the one shared `ureq::Agent` (connection pool): no proxy, no redirects, connect and
//!   total deadlines, bounded bodies, one retry after a connection reset.
//! * `outcome`: the rules every provider shares to turn an answer (or none) into a
//!   `VerificationFailure` with a `reason` and a message that never holds a secret.
//! * `clients`: one client per provider (`zendesk`, `intercom`, `helpscout`, `helpjuice`,
//!   `freshdesk`, `knowledgeowl`): its probe, auth header and what success must prove.
//! * `verifier`: [`HelpcenterVerifier`], the async `ConnectionVerifier` that runs a client in
//!   `spawn_blocking` under an outer `tokio::time::timeout`.
//!
//! Deliberately absent: following redirects, proxies, retries after any HTTP answer, and any
//! URL not built from a configured template.
//!
//! See `docs/decisions/0005-helpcenter-clients.md` for the reasoning and the mapping table.

mod clients;
pub mod config;
mod guard;
mod http;
mod outcome;
mod verifier;

pub use config::{ConfigError, HelpcenterConfig};
pub use verifier::HelpcenterVerifier;
