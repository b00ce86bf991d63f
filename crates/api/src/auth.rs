//! `Authorization: Bearer <api key>` → the caller, as the `Actor` every use case receives
//! (principal, request id, client address).

use crate::error::ApiError;
use crate::limits::Quotas;
use crate::request_id::RequestId;
use crate::Api;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use integrations_domain::{Actor, Scope};
use std::future::Future;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::pin::Pin;
use tokio::sync::OwnedSemaphorePermit;

/// The scope an endpoint needs (API.md section 7), named in its extractor's type
/// (`Caller<Manage>`, `Outbound<Use>`): checked right after authentication, so a key without
/// it gets 403 before its body is read or a provider call is counted.
pub trait Needs {
    const SCOPE: Scope;
}

/// `manage`: create, read, list, update, delete, verify, events.
pub struct Manage;
/// `use`: export and import.
pub struct Use;
/// `reveal`: the secrets in clear.
pub struct Reveal;

impl Needs for Manage {
    const SCOPE: Scope = Scope::Manage;
}
impl Needs for Use {
    const SCOPE: Scope = Scope::Use;
}
impl Needs for Reveal {
    const SCOPE: Scope = Scope::Reveal;
}

/// The authenticated caller of a request, within its key's request limit, holding scope `S`.
pub struct Caller<S: Needs>(pub Actor, pub PhantomData<S>);

/// The caller of an endpoint that calls a provider (verify, export, import): also within its
/// key's outbound limit, holding one of its account's in-flight slots until the handler ends.
pub struct Outbound<S: Needs> {
    pub actor: Actor,
    _slot: Option<OwnedSemaphorePermit>,
    _scope: PhantomData<S>,
}

impl<S: Needs + 'static> FromRequest for Outbound<S> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::<S>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let Caller(actor, _) = caller.await?;
            let Some(api) = req.app_data::<web::Data<Api>>() else {
                return Err(ApiError::internal(&std::io::Error::other(
                    "the API state is not registered",
                )));
            };
            let slot = api
                .limits
                .outbound(&actor.principal.key_id, actor.principal.account)
                .map_err(ApiError::from)?;
            Ok(Outbound {
                actor,
                _slot: slot,
                _scope: PhantomData,
            })
        })
    }
}

/// Adds `X-RateLimit-*` to every response of an authenticated request (errors included).
pub async fn rate_limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let quotas = res.request().extensions().get::<Quotas>().copied();
    if let Some(q) = quotas {
        let headers = res.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", q.limit.to_string()),
            ("x-ratelimit-remaining", q.remaining.to_string()),
            ("x-ratelimit-reset", q.reset_secs.to_string()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
    }
    Ok(res)
}

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

impl<S: Needs + 'static> FromRequest for Caller<S> {
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
            match api.limits.request(&principal.key_id) {
                Ok(Some(quotas)) => {
                    req.extensions_mut().insert(quotas);
                }
                Ok(None) => {}
                Err(refusal) => {
                    if let crate::limits::Refusal::Requests { quotas, .. } = refusal {
                        req.extensions_mut().insert(quotas);
                    }
                    return Err(refusal.into());
                }
            }
            principal
                .require(S::SCOPE)
                .map_err(|f| ApiError::Forbidden(f.0))?;
            let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
            Ok(Caller(
                Actor {
                    principal,
                    request_id,
                    client_ip: client_ip(&req, &api.config.trusted_proxies),
                },
                PhantomData,
            ))
        })
    }
}
