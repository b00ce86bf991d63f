//! The `integrations` binary's library: configuration, wiring and commands. The only crate
//! that knows every other crate.
//!
//! # Layout
//! * [`settings`]: layered configuration (API.md section 5).
//! * [`app`]: builds the adapters from settings, hands them to the domain's services (the
//!   master-key check, the first API key) and the services to the HTTP scope
//!   (`Application`).
//! * [`telemetry`]: the tracing subscriber.
//! * `main.rs`: the CLI (`serve`, `migrate`, `api-key create|list|revoke`,
//!   `keys generate|rewrap|status`, `config`).

pub mod app;
pub mod settings;
pub mod telemetry;

pub use app::{Application, StartError};
pub use settings::Settings;
