//! The egress policy shared by every adapter that calls a provider (help centers, cloud
//! storage): one place decides where a request may go and what may be said about it.
//!
//! # Layout
//! * [`ip`]: which addresses are public.
//! * [`guard`]: [`Egress`], the SSRF guard: resolves names and keeps only public addresses
//!   (unless `providers.allow_private_networks`), and refuses URLs whose host is an address
//!   literal outside the policy (including numeric forms such as `2130706433`).
//! * [`template`]: [`UrlTemplate`], `providers.<name>.base_url` values whose host may hold one
//!   placeholder (`{subdomain}`, `{accountId}`) filled only with validated DNS labels.
//! * [`config`]: [`ProvidersConfig`], the `[providers]` section as a map keyed by provider, so
//!   the server holds no per-provider code.
//! * [`scrub`]: [`Scrubber`], removing every form of the request's secrets from provider text
//!   before it is quoted in a message.
//!
//! Adapters still never import each other; this crate imports no adapter and no HTTP client.

pub mod config;
pub mod guard;
pub mod ip;
pub mod scrub;
pub mod template;

pub use config::{ConfigError, ProvidersConfig};
pub use guard::{Egress, EgressError};
pub use ip::is_public;
pub use scrub::Scrubber;
pub use template::UrlTemplate;
