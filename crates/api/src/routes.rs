//! Mounting the endpoints.

use crate::handlers;
use crate::state::ApiState;
use actix_web::web;

/// Mounts every endpoint with its state. Use inside `App::new().configure(..)`, wrapped in
/// `actix_web::middleware::from_fn(request_id::middleware)`.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .service(
                web::resource("/integration/verify")
                    .route(web::post().to(handlers::verify))
                    .default_service(web::to(handlers::method_not_allowed)),
            )
            .service(
                web::resource("/integration")
                    .route(web::post().to(handlers::create))
                    .route(web::put().to(handlers::update))
                    .route(web::get().to(handlers::list))
                    .default_service(web::to(handlers::method_not_allowed)),
            )
            .service(
                web::resource("/integration/{id}")
                    .route(web::get().to(handlers::get))
                    .route(web::delete().to(handlers::delete))
                    .default_service(web::to(handlers::method_not_allowed)),
            )
            .service(
                web::resource("/healthz")
                    .route(web::get().to(handlers::healthz))
                    .default_service(web::to(handlers::method_not_allowed)),
            )
            .service(
                web::resource("/readyz")
                    .route(web::get().to(handlers::readyz))
                    .default_service(web::to(handlers::method_not_allowed)),
            )
            .default_service(web::to(handlers::not_found));
    }
}
