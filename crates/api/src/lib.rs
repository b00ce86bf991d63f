//! The HTTP adapter: actix-web routes, JSON shapes, authentication and the mapping of domain
//! errors to status codes. The only crate that knows HTTP and JSON; it decides nothing the
//! domain decides (validation, scopes, the master-key policy): handlers read the request,
//! call a use case and shape the answer.
//!
//! # Layout
//! * [`Api`] and [`service`] (this file): the state handlers share and the one scope that
//!   mounts every endpoint with its middleware. The binary builds the services and hands them
//!   over: `App::new().service(integrations_api::service(api))`.
//! * `handlers`: one function per endpoint.
//! * `body`: reading a JSON body (size limit, content type, zeroized buffer) into fields.
//! * `dto`: response bodies.
//! * [`error`]: `ApiError`, the one mapping from `ServiceError`, and the error body
//!   `{message, errors, reason, requestId}`.
//! * [`request_id`]: the `X-Request-Id` middleware, its tracing span and task-local id.
//! * `auth`: the `Bearer` API key extractors (`Caller`, and `Outbound` for endpoints that call
//!   a provider), giving the `Actor` of the use cases; the `X-RateLimit-*` headers.
//! * [`limits`]: per-key rate limits (GCRA) and per-account provider calls in flight.
//! * [`metrics`]: `/metrics`, the request recorder, and the domain's `Meter` for provider calls.
//! * [`openapi`]: `/openapi.json`, the OpenAPI 3.1 document generated from the code (the
//!   handlers' `#[utoipa::path]`, the DTOs' `ToSchema`, the domain's provider table).
//! * `docs`: `/docs`, Swagger UI over it, from assets embedded in the binary.
//! * `stream`: an export body from actix's payload to the domain's `ByteStream`.

mod auth;
mod body;
mod docs;
mod dto;
pub mod error;
mod handlers;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod request_id;
mod stream;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, Scope};
use integrations_domain::{
    AccessService, ApiKeyStore, ConnectionVerifier, CredentialVault, Entropy, HelpCenterCatalogue,
    IntegrationService, IntegrationStore, ObjectStore, TransferService,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The exact parsing path of the handlers, from body bytes to a command, for fuzzing and
/// property tests (`fuzz/`). Not part of the API of this crate.
#[doc(hidden)]
pub mod parsing {
    use crate::error::ApiError;
    use integrations_domain::{IntegrationChange, NewIntegration, VerifyRequest};

    pub fn create_body(bytes: &[u8]) -> Result<NewIntegration, ApiError> {
        crate::handlers::new_integration(crate::body::parse_object(bytes)?)
    }

    pub fn update_body(bytes: &[u8]) -> Result<IntegrationChange, ApiError> {
        crate::handlers::integration_change(crate::body::parse_object(bytes)?)
    }

    pub fn verify_body(bytes: &[u8]) -> Result<VerifyRequest, ApiError> {
        crate::handlers::verify_request(crate::body::parse_object(bytes)?)
    }
}

/// Largest request body accepted (bigger bodies are refused with 422, nothing is read further).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The integration use cases with dynamically dispatched ports (adapters chosen at start).
pub type DynIntegrations = IntegrationService<
    Arc<dyn IntegrationStore>,
    Arc<dyn CredentialVault>,
    Arc<dyn ConnectionVerifier>,
>;

/// Export, import and reveal with dynamically dispatched ports.
pub type DynTransfer = TransferService<
    Arc<dyn IntegrationStore>,
    Arc<dyn CredentialVault>,
    Arc<dyn ObjectStore>,
    Arc<dyn HelpCenterCatalogue>,
>;

/// The API-key use cases with dynamically dispatched ports.
pub type DynAccess = AccessService<Arc<dyn ApiKeyStore>, Arc<dyn Entropy>>;

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// How long `/readyz` waits for the database.
    pub readiness_timeout: Duration,
    /// Peers whose `X-Forwarded-For` is believed (the audit trail's `clientIp`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Longest pause between two chunks of a request body before the client is cut off.
    pub body_timeout: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            readiness_timeout: Duration::from_millis(900),
            trusted_proxies: Vec::new(),
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// What the handlers share.
pub struct Api {
    pub integrations: Arc<DynIntegrations>,
    pub transfer: Arc<DynTransfer>,
    pub access: Arc<DynAccess>,
    /// Shared by every worker of a replica.
    pub limits: Arc<limits::Limits>,
    /// Shared by every worker of a replica (also the services' `Meter`).
    pub metrics: Arc<metrics::Metrics>,
    pub config: ApiConfig,
}

/// Every endpoint of the contract with its middleware, as one scope.
pub fn service(
    api: Api,
) -> Scope<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // `allow`: the methods of the path, for the `Allow` header of a 405.
    // Each resource also carries its template for the metrics (`RouteTemplate`): asking the
    // router again (`match_pattern`) would run its regular expressions a second time.
    let resource = |path: &'static str, allow: &'static str| {
        web::resource(path)
            .app_data(metrics::RouteTemplate(path))
            .default_service(web::to(move || async move {
                handlers::method_not_allowed(allow)
            }))
    };
    // actix tries resources in this order, and a path with a `{…}` segment is a regular
    // expression: the static paths first (a plain comparison), then the integration's own
    // path (the busiest), then its sub-resources.
    web::scope("")
        .app_data(web::Data::new(api))
        .wrap(from_fn(auth::rate_limit_headers))
        .wrap(from_fn(metrics::record))
        .wrap(from_fn(request_id::middleware))
        .service(resource("/integration/verify", "POST").route(web::post().to(handlers::verify)))
        .service(
            resource("/integration", "GET, POST, PUT")
                .route(web::post().to(handlers::create))
                .route(web::put().to(handlers::update))
                .route(web::get().to(handlers::list)),
        )
        .service(resource("/events", "GET").route(web::get().to(handlers::account_events)))
        .service(resource("/healthz", "GET").route(web::get().to(handlers::healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(handlers::readyz)))
        .service(resource("/metrics", "GET").route(web::get().to(metrics::scrape)))
        .service(resource("/openapi.json", "GET").route(web::get().to(openapi::serve)))
        .service(resource("/docs", "GET").route(web::get().to(docs::page)))
        .service(
            resource("/integration/{id}", "GET, DELETE")
                .route(web::get().to(handlers::get))
                .route(web::delete().to(handlers::delete)),
        )
        .service(
            resource("/integration/{id}/events", "GET")
                .route(web::get().to(handlers::integration_events)),
        )
        .service(resource("/integration/{id}/images", "GET").route(web::get().to(handlers::images)))
        .service(
            resource("/integration/{id}/credentials", "GET").route(web::get().to(handlers::reveal)),
        )
        .service(
            resource("/integration/{id}/objects/{key:.+}", "PUT, DELETE")
                .route(web::put().to(handlers::put_object))
                .route(web::delete().to(handlers::delete_object)),
        )
        .service(resource("/docs/{file}", "GET").route(web::get().to(docs::asset)))
        .default_service(web::to(handlers::not_found))
}
