//! `Authorization: Bearer <api key>` → the caller's account.

use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::ApiState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use integrations_domain::AccountId;
use std::future::Future;
use std::pin::Pin;
use zeroize::Zeroizing;

/// The authenticated account of a request.
pub struct Caller {
    pub account: AccountId,
    pub request_id: String,
}

pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = request_id(req);
        let state = req.app_data::<web::Data<ApiState>>().cloned();
        // The key is copied out of the header only to be digested, and wiped after.
        let presented: Option<Zeroizing<String>> = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, key) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| Zeroizing::new(key.trim().to_owned()))
            });
        let has_header = req.headers().contains_key(header::AUTHORIZATION);
        Box::pin(async move {
            let Some(state) = state else {
                return Err(ApiError::internal(
                    &request_id,
                    &std::io::Error::other("ApiState is not registered"),
                ));
            };
            if has_header && presented.is_none() {
                return Err(ApiError::Unauthorized(
                    "Invalid Authorization header: use `Authorization: Bearer <api key>`.",
                ));
            }
            let account = state
                .auth
                .authenticate(presented.as_ref().map(|k| k.as_str()))
                .await
                .map_err(|e| ApiError::from_auth(e, &request_id))?;
            Ok(Caller {
                account,
                request_id,
            })
        })
    }
}
