//! One function per endpoint: read the request into the domain's input, let the domain parse
//! it into a command, call the use case, shape the answer. Errors convert with `?`.

use crate::auth::Caller;
use crate::body::{self, Body};
use crate::dto::{
    DeleteResponse, EventBody, IntegrationBody, ListItem, PageBody, VerificationBody, WriteResponse,
};
use crate::error::ApiError;
use crate::Api;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use integrations_domain::integration::LIST_CURSOR;
use integrations_domain::{
    EventQuery, IntegrationChange, IntegrationId, IntegrationInput, ListParams, ListQuery,
    NewIntegration, PageLimit, Position, ValidationErrors, VerifyInput, VerifyRequest,
};

pub const CREATED: &str = "The Integration credentials have been successfully created.";
pub const UPDATED: &str = "The Integration credentials have been successfully updated.";
pub const DELETED: &str = "The Integration has been successfully deleted.";

/// The cursor kind of event lists.
const EVENTS_CURSOR: &str = "e1";

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

/// The `?verify=` flag and the body of a create or update, structure checked.
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

/// Structure errors of the body and the domain's errors, together (a field the body already
/// reported, such as a number where a string belongs, is not reported again as missing).
fn merged<T>(body: Body, parsed: Result<T, ValidationErrors>) -> Result<T, ApiError> {
    let mut errors = body.errors;
    match parsed {
        Ok(v) if errors.is_empty() => Ok(v),
        Ok(_) => Err(ApiError::Validation(errors)),
        Err(e) => {
            let reported: Vec<String> = errors.errors().iter().map(|e| e.field.clone()).collect();
            for problem in e.errors() {
                if !reported.contains(&problem.field) {
                    errors.push(problem.clone());
                }
            }
            Err(ApiError::Validation(errors))
        }
    }
}

/// `POST /integration`
pub async fn create(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (verify, mut body) = write_request(
        &req,
        payload,
        &["label", "provider", "platform", "credentials"],
    )
    .await?;
    let input = integration_input(&mut body);
    let command = merged(body, NewIntegration::parse(&input))?;
    let summary = api.integrations.create(&actor, command, verify).await?;
    Ok(ok_json(&WriteResponse::new(&summary, CREATED)))
}

/// `PUT /integration`
pub async fn update(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
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
    let parsed = match id {
        Some(id) => IntegrationChange::parse(IntegrationId::from_uuid(id), &input),
        // The id's own problem is recorded already; still report every other one.
        None => IntegrationChange::parse(IntegrationId::new(), &input),
    };
    let change = merged(body, parsed)?;
    let summary = api.integrations.update(&actor, change, verify).await?;
    Ok(ok_json(&WriteResponse::new(&summary, UPDATED)))
}

/// `GET /integration/{id}`
pub async fn get(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let id = path_id(&path)?;
    let view = api.integrations.get(&actor, id).await?;
    Ok(ok_json(&IntegrationBody::from(view)))
}

/// `GET /integration`
pub async fn list(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let q = body::query_pairs(
        req.query_string(),
        &["platform", "provider", "limit", "cursor"],
    )?;
    let query = ListQuery::parse(ListParams {
        platform: q.get("platform").map(String::as_str),
        provider: q.get("provider").map(String::as_str),
        limit: q.get("limit").map(String::as_str),
        cursor: q.get("cursor").map(String::as_str),
    })?;
    let page = api.integrations.list(&actor, &query).await?;
    Ok(ok_json(&PageBody {
        items: page.items.into_iter().map(ListItem::from).collect(),
        next_cursor: page.next.map(|p| p.to_cursor(LIST_CURSOR)),
    }))
}

/// `DELETE /integration/{id}`
pub async fn delete(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let id = path_id(&path)?;
    api.integrations.delete(&actor, id).await?;
    Ok(ok_json(&DeleteResponse {
        id: id.to_string(),
        message: DELETED,
    }))
}

/// `POST /integration/verify`
pub async fn verify(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let fields = body::read_object(&req, payload).await?;
    let mut body = Body::new(
        fields,
        &["integrationId", "platform", "provider", "credentials"],
    );
    let integration_id = if body.has("integrationId") {
        Some(
            body.uuid_quiet("integrationId")
                .map(IntegrationId::from_uuid),
        )
    } else {
        None
    };
    let input = VerifyInput {
        integration_id,
        provider: body.text("provider"),
        platform: body.text("platform"),
        credentials: body.credentials("credentials"),
    };
    let request = merged(body, VerifyRequest::parse(&input))?;
    let verification = api.integrations.verify(&actor, request).await?;
    Ok(ok_json(&VerificationBody::new(&verification, false)))
}

/// The events page of a request: `limit` (1–100, default 20) and `cursor`.
fn event_query(req: &HttpRequest) -> Result<EventQuery, ApiError> {
    let q = body::query_pairs(req.query_string(), &["limit", "cursor"])?;
    let mut errors = ValidationErrors::new();
    let limit = PageLimit::parse(
        q.get("limit").map(String::as_str),
        PageLimit::DEFAULT,
        &mut errors,
    );
    let before = q.get("cursor").and_then(|c| {
        let pos = Position::from_cursor(EVENTS_CURSOR, c);
        if pos.is_none() {
            errors.add("cursor", "is not a cursor returned by this API");
        }
        pos
    });
    errors
        .into_result(EventQuery {
            integration: None,
            limit,
            before,
        })
        .map_err(ApiError::Validation)
}

async fn events_page(
    api: &Api,
    actor: &integrations_domain::Actor,
    query: EventQuery,
) -> Result<HttpResponse, ApiError> {
    let page = api.integrations.events(actor, &query).await?;
    Ok(ok_json(&PageBody {
        items: page.items.into_iter().map(EventBody::from).collect(),
        next_cursor: page.next.map(|p| p.to_cursor(EVENTS_CURSOR)),
    }))
}

/// `GET /events`: the account's audit trail, newest first.
pub async fn account_events(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let query = event_query(&req)?;
    events_page(&api, &actor, query).await
}

/// `GET /integration/{id}/events`: one integration's trail (also after it was deleted).
pub async fn integration_events(
    req: HttpRequest,
    Caller(actor): Caller,
    api: web::Data<Api>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&path)?;
    let query = EventQuery {
        integration: Some(id),
        ..event_query(&req)?
    };
    events_page(&api, &actor, query).await
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let ping = tokio::time::timeout(
        api.config.readiness_timeout,
        api.integrations.repository().ping(),
    )
    .await;
    match ping {
        Ok(Ok(())) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({"status": "ready"}))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            Err(ApiError::Unavailable)
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
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
