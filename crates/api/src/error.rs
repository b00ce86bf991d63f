//! API errors and their bodies (API.md section 2): one mapping from the domain's
//! `ServiceError` to a status and a body.

use crate::request_id;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use integrations_domain::service::AuthFailure;
use integrations_domain::{
    AuthError, FieldError, RepositoryError, Scope, ServiceError, ValidationErrors,
};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// Seconds a client should wait before retrying a 503 of the database.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// The error body: `{message, errors?, reason?, requestId?}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong, for people (never a secret, never internals).
    pub message: String,
    /// Only on 422: each problem with its field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<FieldErrorBody>)]
    pub errors: Option<Vec<FieldErrorBody>>,
    /// On a provider's failure (502, 503, 504) and on a failed `?verify=true` (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::ReasonCode)]
    pub reason: Option<&'static str>,
    /// Only on 500: the request's id, also in the server log.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub request_id: Option<String>,
}

/// One problem of a 422: the field (JSON path, query parameter or `body`) and what is wrong.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorBody {
    /// A JSON path (`credentials.bucket`), a query parameter, `body`, `id`, `key` or
    /// `contentType`.
    #[schema(example = "credentials.bucket")]
    pub field: String,
    #[schema(example = "is required")]
    pub message: String,
}

impl From<&FieldError> for FieldErrorBody {
    fn from(e: &FieldError) -> Self {
        Self {
            field: e.field.clone(),
            message: e.message.clone(),
        }
    }
}

/// Everything a handler can answer besides success.
#[derive(Debug)]
pub enum ApiError {
    /// 401.
    Unauthorized(&'static str),
    /// 403: the key lacks a scope.
    Forbidden(Scope),
    /// 404.
    NotFound(&'static str),
    /// 405.
    MethodNotAllowed,
    /// 422 with field errors.
    Validation(ValidationErrors),
    /// 422: `verify=true` and the check failed; nothing stored.
    VerificationFailed {
        reason: &'static str,
        message: String,
    },
    /// 501.
    NotImplemented(String),
    /// 429 with `Retry-After`: over a rate limit.
    RateLimited {
        retry_after_secs: u64,
        message: &'static str,
    },
    /// 502/503/504 `{message, reason}`: a provider call of an export or import failed
    /// (503 with `Retry-After` for the provider's rate limit, 504 for its deadline).
    Provider {
        status: u16,
        reason: &'static str,
        message: String,
        retry_after_secs: Option<u32>,
    },
    /// 503 with `Retry-After`: the database.
    Unavailable,
    /// 500; the request id is in the body and in the server log.
    Internal,
}

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationErrors::single(field, message))
    }

    /// Logs the cause (never a secret: domain and adapter errors carry none; the request
    /// span names the request id) and answers 500.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(request_id = request_id::current().unwrap_or_default(), error = %chain, "unhandled error");
        ApiError::Internal
    }

    fn body(&self) -> ErrorBody {
        let plain = |message: String| ErrorBody {
            message,
            errors: None,
            reason: None,
            request_id: None,
        };
        match self {
            ApiError::Unauthorized(m) | ApiError::NotFound(m) => plain((*m).to_owned()),
            ApiError::Forbidden(scope) => {
                plain(integrations_domain::access::Forbidden(*scope).to_string())
            }
            ApiError::MethodNotAllowed => plain("Method not allowed.".to_owned()),
            ApiError::Validation(v) => {
                let mut errors: Vec<FieldErrorBody> =
                    v.errors().iter().map(FieldErrorBody::from).collect();
                if v.omitted() > 0 {
                    errors.push(FieldErrorBody {
                        field: "body".to_owned(),
                        message: format!(
                            "{} more problem(s) not listed; fix the ones above first",
                            v.omitted()
                        ),
                    });
                }
                ErrorBody {
                    message: "The request is invalid.".to_owned(),
                    errors: Some(errors),
                    reason: None,
                    request_id: None,
                }
            }
            ApiError::VerificationFailed { reason, message } => ErrorBody {
                message: message.clone(),
                errors: Some(vec![FieldErrorBody {
                    field: "credentials".to_owned(),
                    message: message.clone(),
                }]),
                reason: Some(reason),
                request_id: None,
            },
            ApiError::NotImplemented(m) => plain(m.clone()),
            ApiError::RateLimited { message, .. } => plain((*message).to_owned()),
            ApiError::Provider {
                reason, message, ..
            } => ErrorBody {
                message: message.clone(),
                errors: None,
                reason: Some(reason),
                request_id: None,
            },
            ApiError::Unavailable => plain(
                "The service is temporarily unavailable (database unreachable). Retry shortly."
                    .to_owned(),
            ),
            ApiError::Internal => ErrorBody {
                message: "Internal server error.".to_owned(),
                errors: None,
                reason: None,
                request_id: request_id::current(),
            },
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Validation(v) => ApiError::Validation(v),
            ServiceError::NotFound => ApiError::NotFound("Integration not found."),
            ServiceError::Forbidden(scope) => ApiError::Forbidden(scope),
            ServiceError::VerificationFailed(f) => ApiError::VerificationFailed {
                reason: f.reason.as_str(),
                message: f.message,
            },
            ServiceError::VerificationUnavailable(p) => ApiError::NotImplemented(format!(
                "Verification of {p} credentials is not available on this server."
            )),
            ServiceError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::Unavailable
            }
            ServiceError::Provider(f) => {
                let status = integrations_domain::service::provider_status(&f);
                ApiError::Provider {
                    status,
                    reason: f.reason.as_str(),
                    retry_after_secs: (status == 503).then(|| f.retry_after_secs.unwrap_or(60)),
                    message: f.message,
                }
            }
            ServiceError::Internal(cause) => ApiError::internal(cause.as_ref()),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Validation(e)
    }
}

impl From<AuthFailure> for ApiError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Auth(AuthError::Missing) => {
                ApiError::Unauthorized("Missing API key: send `Authorization: Bearer <api key>`.")
            }
            AuthFailure::Auth(AuthError::Invalid) => ApiError::Unauthorized("Invalid API key."),
            AuthFailure::Repository(r @ RepositoryError::Unavailable(_)) => {
                ServiceError::Unavailable(r).into()
            }
            AuthFailure::Repository(other) => ServiceError::Internal(Box::new(other)).into(),
        }
    }
}

impl From<crate::limits::Refusal> for ApiError {
    fn from(r: crate::limits::Refusal) -> Self {
        use crate::limits::Refusal;
        match r {
            Refusal::Requests {
                retry_after_secs, ..
            } => ApiError::RateLimited {
                retry_after_secs,
                message: "Too many requests for this API key; retry after the time in Retry-After.",
            },
            Refusal::Outbound { retry_after_secs } => ApiError::RateLimited {
                retry_after_secs,
                message: "Too many provider calls (verify, export, import) for this API key; retry after the time in Retry-After.",
            },
            Refusal::Concurrency => ApiError::RateLimited {
                retry_after_secs: 1,
                message: "Too many provider calls in flight for this account; retry shortly.",
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body().message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Validation(_) | ApiError::VerificationFailed { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Provider { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unavailable => {
                res.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
            }
            ApiError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::RateLimited {
                retry_after_secs, ..
            } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Provider {
                retry_after_secs: Some(secs),
                ..
            } => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            _ => {}
        }
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        res.json(self.body())
    }
}
