//! `Authorization: Bearer <api key>` → the caller, as the `Actor` every use case receives
//! (principal, request id, client address).

use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::Api;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use integrations_domain::Actor;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

/// The authenticated caller of a request.
pub struct Caller(pub Actor);

/// The client's address: the TCP peer, or the first `X-Forwarded-For` address when the peer
/// is a trusted proxy (`server.trusted_proxies`).
pub fn client_ip(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok());
    forwarded.or(Some(peer))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(api) = req.app_data::<web::Data<Api>>().cloned() else {
                return Err(ApiError::internal(&std::io::Error::other(
                    "the API state is not registered",
                )));
            };
            // The key is read where it lies in the request (no copy), digested and compared.
            let presented = match req.headers().get(header::AUTHORIZATION) {
                None => None,
                Some(value) => {
                    let key = value
                        .to_str()
                        .ok()
                        .and_then(|v| v.trim().split_once(' '))
                        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                        .map(|(_, key)| key.trim());
                    match key {
                        Some(k) => Some(k),
                        None => return Err(ApiError::Unauthorized(
                            "Invalid Authorization header: use `Authorization: Bearer <api key>`.",
                        )),
                    }
                }
            };
            let principal = api.access.authenticate(presented).await?;
            let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
            Ok(Caller(Actor {
                principal,
                request_id,
                client_ip: client_ip(&req, &api.config.trusted_proxies),
            }))
        })
    }
}
