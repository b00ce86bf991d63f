//! `X-Request-Id` on every response: echoed when the client sent a sane one, generated
//! otherwise. Each request runs in a tracing span carrying the id (so every log line of the
//! request names it) and in a task-local scope (so an error body can name it without the id
//! being threaded through every handler). Its outcome is logged: method, route template,
//! status, latency; never headers or bodies.

use crate::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the current request (in the request extensions and the task-local scope).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(|id| id.0.clone()).ok()
}

fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The middleware (use with `actix_web::middleware::from_fn`). A handler that panics is
/// answered with a 500 carrying the request id (the panic hook logged it with the same id),
/// instead of a dropped connection.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let handled = CURRENT
        .scope(
            RequestId(id.clone()),
            AssertUnwindSafe(next.call(req).instrument(span.clone())).catch_unwind(),
        )
        .await;
    let mut res = match handled {
        Ok(result) => result?,
        Err(_) => {
            // The request itself went down with the handler: answer with a response built
            // here (its body names the request id), carried by an error actix sends as is.
            let mut response = CURRENT
                .scope(RequestId(id.clone()), async {
                    span.in_scope(|| {
                        tracing::error!("the request's handler panicked; answered 500")
                    });
                    ApiError::Internal.error_response()
                })
                .await;
            if let Ok(value) = HeaderValue::from_str(&id) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(HEADER), value);
            }
            return Err(actix_web::error::InternalError::from_response(
                "handler panicked",
                response,
            )
            .into());
        }
    };
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request finished"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}
