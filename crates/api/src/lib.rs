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
//! * `auth`: the `Bearer` API key extractor, giving the `Actor` of the use cases.

mod auth;
mod body;
mod dto;
pub mod error;
mod handlers;
pub mod request_id;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, Scope};
use integrations_domain::{
    AccessService, ApiKeyStore, ConnectionVerifier, CredentialVault, Entropy, IntegrationService,
    IntegrationStore,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Largest request body accepted (bigger bodies are refused with 422, nothing is read further).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The integration use cases with dynamically dispatched ports (adapters chosen at start).
pub type DynIntegrations = IntegrationService<
    Arc<dyn IntegrationStore>,
    Arc<dyn CredentialVault>,
    Arc<dyn ConnectionVerifier>,
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
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            readiness_timeout: Duration::from_millis(900),
            trusted_proxies: Vec::new(),
        }
    }
}

/// What the handlers share.
pub struct Api {
    pub integrations: Arc<DynIntegrations>,
    pub access: Arc<DynAccess>,
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
    let resource =
        |path: &str| web::resource(path).default_service(web::to(handlers::method_not_allowed));
    web::scope("")
        .app_data(web::Data::new(api))
        .wrap(from_fn(request_id::middleware))
        .service(resource("/integration/verify").route(web::post().to(handlers::verify)))
        .service(
            resource("/integration")
                .route(web::post().to(handlers::create))
                .route(web::put().to(handlers::update))
                .route(web::get().to(handlers::list)),
        )
        .service(
            resource("/integration/{id}/events").route(web::get().to(handlers::integration_events)),
        )
        .service(
            resource("/integration/{id}")
                .route(web::get().to(handlers::get))
                .route(web::delete().to(handlers::delete)),
        )
        .service(resource("/events").route(web::get().to(handlers::account_events)))
        .service(resource("/healthz").route(web::get().to(handlers::healthz)))
        .service(resource("/readyz").route(web::get().to(handlers::readyz)))
        .default_service(web::to(handlers::not_found))
}
