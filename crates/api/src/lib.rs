//! The HTTP adapter: actix-web routes, JSON shapes, authentication and the mapping of domain
//! errors to status codes. The only crate that knows HTTP and JSON.
//!
//! # Layout
//! * [`state`]: `ApiState`, what the handlers need (the service, authentication, readiness).
//! * [`routes`]: `configure`, which mounts every endpoint of API.md section 3.
//! * `handlers`: one function per endpoint.
//! * `body`: reading a JSON body (size limit, content type, zeroized buffer) into fields.
//! * `dto`: response bodies.
//! * [`error`]: `ApiError` and the error body `{message, errors, requestId}`.
//! * [`request_id`]: the `X-Request-Id` middleware and its tracing span.
//! * `auth`: the `Bearer` API key extractor.

mod auth;
mod body;
mod dto;
pub mod error;
mod handlers;
pub mod request_id;
pub mod routes;
pub mod state;

pub use routes::configure;
pub use state::{ApiState, DynService};

/// Largest request body accepted (bigger bodies are refused with 422, nothing is read further).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
