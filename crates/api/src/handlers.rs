//! One function per endpoint.

use crate::auth::{self, Caller};
use crate::body::{self, Body};
use crate::dto::{DeleteResponse, IntegrationBody, ListBody, VerificationBody, WriteResponse};
use crate::error::ApiError;
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use integrations_domain::service::{IntegrationInput, VerifyInput};
use integrations_domain::{IntegrationId, ListPosition, ListQuery, PageLimit, Platform, Provider};

pub const CREATED: &str = "The Integration credentials have been successfully created.";
pub const UPDATED: &str = "The Integration credentials have been successfully updated.";
pub const DELETED: &str = "The Integration has been successfully deleted.";

fn ok_json<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

fn path_id(raw: &str) -> Result<IntegrationId, ApiError> {
    raw.trim()
        .parse::<IntegrationId>()
        .map_err(|_| ApiError::validation("id", "must be a UUID"))
}

fn integration_input(body: &mut Body) -> IntegrationInput {
    IntegrationInput {
        label: body.text("label"),
        provider: body.text("provider"),
        platform: body.text("platform"),
        credentials: body.credentials("credentials"),
    }
}

/// The `?verify=` flag and the body of a create or update.
async fn write_request(
    req: &HttpRequest,
    payload: web::Payload,
    allowed: &[&str],
) -> Result<(bool, Body), ApiError> {
    let query = body::query_pairs(req.query_string(), &["verify"])?;
    let verify = body::verify_flag(&query)?;
    let fields = body::read_object(req, payload).await?;
    Ok((verify, Body::new(fields, allowed)))
}

/// `POST /integration`
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<ApiState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (verify, mut body) = write_request(
        &req,
        payload,
        &["label", "provider", "platform", "credentials"],
    )
    .await?;
    let input = integration_input(&mut body);
    body.finish()?;
    let summary = state
        .service
        .create(caller.account, input, verify)
        .await
        .map_err(|e| ApiError::from_service(e, &caller.request_id))?;
    Ok(ok_json(&WriteResponse::new(&summary, CREATED)))
}

/// `PUT /integration`
pub async fn update(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<ApiState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (verify, mut body) = write_request(
        &req,
        payload,
        &["id", "label", "provider", "platform", "credentials"],
    )
    .await?;
    let id = body.uuid("id");
    if id.is_none() && !body.has("id") {
        body.errors.add("id", "is required");
    }
    let input = integration_input(&mut body);
    body.finish()?;
    let Some(id) = id else {
        return Err(ApiError::validation("id", "is required"));
    };
    let summary = state
        .service
        .update(caller.account, IntegrationId::from_uuid(id), input, verify)
        .await
        .map_err(|e| ApiError::from_service(e, &caller.request_id))?;
    Ok(ok_json(&WriteResponse::new(&summary, UPDATED)))
}

/// `GET /integration/{id}`
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<ApiState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let id = path_id(&path)?;
    let view = state
        .service
        .get(caller.account, id)
        .await
        .map_err(|e| ApiError::from_service(e, &caller.request_id))?;
    Ok(ok_json(&IntegrationBody::from(view)))
}

/// `GET /integration`
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let q = body::query_pairs(
        req.query_string(),
        &["platform", "provider", "limit", "cursor"],
    )?;
    let mut errors = integrations_domain::ValidationErrors::new();
    let platform = q.get("platform").and_then(|p| {
        p.parse::<Platform>()
            .map_err(|e| errors.add("platform", e.to_string()))
            .ok()
    });
    let provider = q.get("provider").and_then(|p| {
        p.parse::<Provider>()
            .map_err(|e| errors.add("provider", e.to_string()))
            .ok()
    });
    let limit = match q.get("limit") {
        None => PageLimit::DEFAULT,
        Some(raw) => match raw.parse::<u32>().ok().and_then(PageLimit::new) {
            Some(l) => l,
            None => {
                errors.add("limit", "must be a whole number from 1 to 100");
                PageLimit::DEFAULT
            }
        },
    };
    let after = q.get("cursor").and_then(|c| {
        let pos = ListPosition::from_cursor(c);
        if pos.is_none() {
            errors.add("cursor", "is not a cursor returned by this API");
        }
        pos
    });
    if let (Some(platform), Some(provider)) = (platform, provider) {
        if provider.platform() != platform {
            errors.add(
                "platform",
                format!(
                    "must be \"{}\" for provider {provider}",
                    provider.platform()
                ),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let query = ListQuery {
        platform,
        provider,
        limit,
        after,
    };
    let page = state
        .service
        .list(caller.account, &query)
        .await
        .map_err(|e| ApiError::from_service(e, &caller.request_id))?;
    Ok(ok_json(&ListBody {
        items: page.items.into_iter().map(IntegrationBody::from).collect(),
        next_cursor: page.next.map(|p| p.to_cursor()),
    }))
}

/// `DELETE /integration/{id}`
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<ApiState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let id = path_id(&path)?;
    state
        .service
        .delete(caller.account, id)
        .await
        .map_err(|e| ApiError::from_service(e, &caller.request_id))?;
    Ok(ok_json(&DeleteResponse {
        id: id.to_string(),
        message: DELETED,
    }))
}

/// `POST /integration/verify`
pub async fn verify(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<ApiState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let fields = body::read_object(&req, payload).await?;
    let mut body = Body::new(
        fields,
        &["integrationId", "platform", "provider", "credentials"],
    );
    let by_id = body.has("integrationId");
    let id = body.uuid("integrationId");
    let provider = body.text("provider");
    let platform = body.text("platform");
    let credentials = body.credentials("credentials");
    body.finish()?;
    let input = match (by_id, id) {
        (true, Some(id)) => VerifyInput::Stored {
            id: IntegrationId::from_uuid(id),
            provider,
            platform,
            overrides: credentials,
        },
        (true, None) => return Err(ApiError::validation("integrationId", "must be a UUID")),
        (false, _) => VerifyInput::Plain {
            provider,
            platform,
            credentials,
        },
    };
    let verification = state
        .service
        .verify(caller.account, input)
        .await
        .map_err(|e| ApiError::from_service(e, &caller.request_id))?;
    Ok(ok_json(&VerificationBody::new(&verification, false)))
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let ping = tokio::time::timeout(state.readiness_timeout, state.repository.ping()).await;
    match ping {
        Ok(Ok(())) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({"status": "ready"}))),
        Ok(Err(e)) => {
            tracing::warn!(request_id = %auth::request_id(&req), error = %e, "not ready");
            Err(ApiError::Unavailable)
        }
        Err(_) => {
            tracing::warn!(request_id = %auth::request_id(&req), "not ready: database did not answer in time");
            Err(ApiError::Unavailable)
        }
    }
}

/// Any unknown path.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("Not found."))
}

/// A known path with another method.
pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
