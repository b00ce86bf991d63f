//! The `integrations` binary's library: configuration, wiring and commands. The only crate
//! that knows every other crate.
//!
//! # Layout
//! * [`settings`]: layered configuration (API.md section 5).
//! * [`app`]: builds the adapters from settings, checks the master key against the database,
//!   creates the first API key, and runs the HTTP server (`Application`).
//! * [`telemetry`]: the tracing subscriber.
//! * `main.rs`: the CLI (`serve`, `migrate`, `api-key create`).

pub mod app;
pub mod settings;
pub mod telemetry;

pub use app::{Application, StartError};
pub use settings::Settings;
