//! One function per endpoint: read the request into the domain's input, let the domain parse
//! it into a command, call the use case, shape the answer. Errors convert with `?`.

use crate::auth::{Caller, Manage, Outbound, Reveal, Use};
use crate::body::{self, Body};
use crate::dto::{
    DeleteResponse, DeletedObjectBody, EventBody, ImageBody, IntegrationBody, ListItem, ObjectBody,
    PageBody, RevealBody, RevealedFields, VerificationBody, WriteResponse,
};
use crate::error::ApiError;
use crate::openapi as doc;
use crate::Api;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use integrations_domain::integration::LIST_CURSOR;
use integrations_domain::service::ExportRequest;
use integrations_domain::{
    ContentType, EventQuery, IntegrationChange, IntegrationId, IntegrationInput, ListParams,
    ListQuery, NewIntegration, ObjectKey, PageLimit, Position, ValidationErrors, VerifyInput,
    VerifyRequest,
};

pub const CREATED: &str = "The Integration credentials have been successfully created.";
pub const UPDATED: &str = "The Integration credentials have been successfully updated.";
pub const DELETED: &str = "The Integration has been successfully deleted.";
pub const OBJECT_DELETED: &str = "The object has been successfully deleted.";

/// Images per import page when `limit` is not given.
const IMAGES_DEFAULT: u32 = 50;

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

/// The `?verify=` flag and the body of a create or update.
async fn write_request(
    req: &HttpRequest,
    api: &Api,
    payload: web::Payload,
) -> Result<(bool, body::Fields), ApiError> {
    let query = body::query_pairs(req.query_string(), &["verify"])?;
    let verify = body::verify_flag(&query)?;
    let fields = body::read_object(req, payload, api.config.body_timeout).await?;
    Ok((verify, fields))
}

/// A create body into its command (every problem at once).
pub(crate) fn new_integration(fields: body::Fields) -> Result<NewIntegration, ApiError> {
    let mut body = Body::new(fields, &["label", "provider", "platform", "credentials"]);
    let input = integration_input(&mut body);
    merged(body, NewIntegration::parse(&input))
}

/// An update body into its command.
pub(crate) fn integration_change(fields: body::Fields) -> Result<IntegrationChange, ApiError> {
    let mut body = Body::new(
        fields,
        &["id", "label", "provider", "platform", "credentials"],
    );
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
    merged(body, parsed)
}

/// A verify body into its request.
pub(crate) fn verify_request(fields: body::Fields) -> Result<VerifyRequest, ApiError> {
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
    merged(body, VerifyRequest::parse(&input))
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
#[utoipa::path(
    post,
    path = "/integration",
    tag = "integrations",
    operation_id = "createIntegration",
    summary = "Create an integration",
    description = doc::CREATE,
    params(doc::VerifyQuery),
    request_body = doc::CreateIntegration,
    responses(
        (status = 200, description = "Created (200, as in the original API).", body = WriteResponse,
            links(
                ("GetIntegration" = (operation_id = "getIntegration", parameters(("id" = "$response.body#/id")))),
                ("DeleteIntegration" = (operation_id = "deleteIntegration", parameters(("id" = "$response.body#/id")))),
                ("IntegrationEvents" = (operation_id = "listIntegrationEvents", parameters(("id" = "$response.body#/id")))),
                ("RevealCredentials" = (operation_id = "revealCredentials", parameters(("id" = "$response.body#/id")))),
                ("ListImages" = (operation_id = "listImages", parameters(("id" = "$response.body#/id")))),
                ("PutObject" = (operation_id = "putObject", parameters(("id" = "$response.body#/id")))),
                ("DeleteObject" = (operation_id = "deleteObject", parameters(("id" = "$response.body#/id")))),
            ),
            example = json!({"id": "55f5c789-1b87-4b82-91e5-3c3ad8b9393d", "createdAt": "2024-02-26T16:24:18.676Z",
                "updatedAt": "2024-02-26T16:24:18.676Z", "message": CREATED})),
        (status = 422, response = doc::ValidationFailed),
        (status = 501, response = doc::NotImplemented),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn create(
    req: HttpRequest,
    Caller(actor, _): Caller<Manage>,
    api: web::Data<Api>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (verify, fields) = write_request(&req, &api, payload).await?;
    let command = new_integration(fields)?;
    let summary = api.integrations.create(&actor, command, verify).await?;
    Ok(ok_json(&WriteResponse::new(&summary, CREATED)))
}

/// `PUT /integration`
#[utoipa::path(
    put,
    path = "/integration",
    tag = "integrations",
    operation_id = "updateIntegration",
    summary = "Update an integration",
    description = doc::UPDATE,
    params(doc::VerifyQuery),
    request_body = doc::UpdateIntegration,
    responses(
        (status = 200, description = "Updated.", body = WriteResponse,
            example = json!({"id": "55f5c789-1b87-4b82-91e5-3c3ad8b9393d", "createdAt": "2024-02-26T16:24:18.676Z",
                "updatedAt": "2024-02-26T16:24:44.528Z", "message": UPDATED})),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        (status = 501, response = doc::NotImplemented),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn update(
    req: HttpRequest,
    Caller(actor, _): Caller<Manage>,
    api: web::Data<Api>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (verify, fields) = write_request(&req, &api, payload).await?;
    let change = integration_change(fields)?;
    let summary = api.integrations.update(&actor, change, verify).await?;
    Ok(ok_json(&WriteResponse::new(&summary, UPDATED)))
}

/// `GET /integration/{id}`
#[utoipa::path(
    get,
    path = "/integration/{id}",
    tag = "integrations",
    operation_id = "getIntegration",
    summary = "Read an integration",
    description = doc::GET,
    params(doc::IntegrationPath),
    responses(
        (status = 200, description = "The integration, credentials masked.", body = IntegrationBody),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn get(
    req: HttpRequest,
    Caller(actor, _): Caller<Manage>,
    api: web::Data<Api>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let id = path_id(&path)?;
    let view = api.integrations.get(&actor, id).await?;
    Ok(ok_json(&IntegrationBody::from(view)))
}

/// `GET /integration`
#[utoipa::path(
    get,
    path = "/integration",
    tag = "integrations",
    operation_id = "listIntegrations",
    summary = "List integrations",
    description = doc::LIST,
    params(doc::ListQuery),
    responses(
        (status = 200, description = "One page of integrations.", body = PageBody<ListItem>),
        (status = 422, response = doc::ValidationFailed),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn list(
    req: HttpRequest,
    Caller(actor, _): Caller<Manage>,
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
#[utoipa::path(
    delete,
    path = "/integration/{id}",
    tag = "integrations",
    operation_id = "deleteIntegration",
    summary = "Delete an integration",
    description = doc::DELETE,
    params(doc::IntegrationPath),
    responses(
        (status = 200, description = "Deleted.", body = DeleteResponse),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn delete(
    req: HttpRequest,
    Caller(actor, _): Caller<Manage>,
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
#[utoipa::path(
    post,
    path = "/integration/verify",
    tag = "integrations",
    operation_id = "verifyIntegration",
    summary = "Verify credentials",
    description = doc::VERIFY,
    request_body = doc::VerifyIntegration,
    responses(
        (status = 200, description = "The check ran: it succeeded, or it failed with a `reason`.",
            body = VerificationBody, examples(
                ("seed: cloud, success" = (value = json!({"isConnectionSuccessful": true, "message": "The connection was successful"}))),
                ("seed: cloud, failure" = (value = json!({"isConnectionSuccessful": false, "message": "The specified bucket does not exist.", "reason": "not_found"}))),
                ("seed: help center, success" = (value = json!({"isConnectionSuccessful": true, "message": "The helpcenter credentials has been successfully validated"}))),
            )),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        (status = 501, response = doc::NotImplemented),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn verify(
    req: HttpRequest,
    Outbound { actor, .. }: Outbound<Manage>,
    api: web::Data<Api>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let fields = body::read_object(&req, payload, api.config.body_timeout).await?;
    let request = verify_request(fields)?;
    let verification = api.integrations.verify(&actor, request).await?;
    Ok(ok_json(&VerificationBody::new(&verification, false)))
}

/// `{key}` of `/integration/{id}/objects/{key}`: the rest of the raw path, percent-decoded,
/// as an object key (422 naming `key`).
fn object_key(req: &HttpRequest) -> Result<ObjectKey, ValidationErrors> {
    let path = req.uri().path();
    let raw = path
        .find("/objects/")
        .map(|i| &path[i + "/objects/".len()..])
        .unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ValidationErrors::single("key", "must be UTF-8 once percent-decoded"))?;
    ObjectKey::parse(&decoded).map_err(|m| ValidationErrors::single("key", m))
}

/// `PUT /integration/{id}/objects/{key}`: the raw body, streamed to the customer's bucket.
#[utoipa::path(
    put,
    path = "/integration/{id}/objects/{key}",
    tag = "export",
    operation_id = "putObject",
    summary = "Export a file to the bucket",
    description = doc::PUT_OBJECT,
    params(doc::ObjectPath, doc::PresignQuery),
    request_body(description = "The file, as raw bytes, with its `Content-Type` and `Content-Length`.",
        content(
            (doc::Binary = "image/png"),
            (doc::Binary = "image/jpeg"),
            (doc::Binary = "image/webp"),
            (doc::Binary = "image/gif"),
            (doc::Binary = "image/avif"),
            (doc::Binary = "application/pdf"),
        )),
    responses(
        (status = 200, description = "Written.", body = ObjectBody),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        doc::Refusals,
        doc::ProviderFailures,
    ),
    security(("bearer" = ["use"])),
)]
pub async fn put_object(
    req: HttpRequest,
    Outbound { actor, .. }: Outbound<Use>,
    api: web::Data<Api>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    let q = body::query_pairs(req.query_string(), &["presign"])?;
    let presign = q
        .get("presign")
        .and_then(|p| match p.trim().parse::<u64>() {
            Ok(secs) if (1..=604_800).contains(&secs) => Some(std::time::Duration::from_secs(secs)),
            _ => {
                errors.add(
                    "presign",
                    "must be a whole number of seconds from 1 to 604800",
                );
                None
            }
        });
    let id = path_id(&path.0).map_err(|e| match e {
        ApiError::Validation(v) => v,
        _ => ValidationErrors::single("id", "must be a UUID"),
    });
    let id = match id {
        Ok(id) => Some(id),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let key = object_key(&req).map_err(|e| errors.extend(e)).ok();
    let content_type = match req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => {
            errors.add("contentType", "is required: send the file's Content-Type");
            None
        }
        Some(v) => v
            .parse::<ContentType>()
            .map_err(|m| errors.add("contentType", m))
            .ok(),
    };
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if length.is_none() {
        errors.add("body", "must be sent with a Content-Length");
    }
    let (Some(id), Some(key), Some(content_type), Some(length), true) =
        (id, key, content_type, length, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };
    if length > api.transfer.max_object_bytes() {
        // Refused before a byte of the body is read.
        return Err(ApiError::validation(
            "body",
            format!("must be at most {} bytes", api.transfer.max_object_bytes()),
        ));
    }
    let body = crate::stream::pump(payload, api.config.body_timeout);
    let stored = api
        .transfer
        .export(
            &actor,
            ExportRequest {
                id,
                key,
                content_type,
                length,
                body,
                presign,
            },
        )
        .await?;
    Ok(ok_json(&ObjectBody::from(stored)))
}

/// `DELETE /integration/{id}/objects/{key}`
#[utoipa::path(
    delete,
    path = "/integration/{id}/objects/{key}",
    tag = "export",
    operation_id = "deleteObject",
    summary = "Delete an exported file",
    description = doc::DELETE_OBJECT,
    params(doc::ObjectPath),
    responses(
        (status = 200, description = "Deleted (or there was nothing to delete).", body = DeletedObjectBody),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        doc::Refusals,
        doc::ProviderFailures,
    ),
    security(("bearer" = ["use"])),
)]
pub async fn delete_object(
    req: HttpRequest,
    Outbound { actor, .. }: Outbound<Use>,
    api: web::Data<Api>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let id = path_id(&path.0)?;
    let key = object_key(&req)?;
    let deleted = api.transfer.delete_object(&actor, id, key).await?;
    Ok(ok_json(&DeletedObjectBody {
        bucket: deleted.bucket,
        key: deleted.key,
        message: OBJECT_DELETED,
    }))
}

/// `GET /integration/{id}/images?limit&cursor`
#[utoipa::path(
    get,
    path = "/integration/{id}/images",
    tag = "import",
    operation_id = "listImages",
    summary = "List the help center's images",
    description = doc::IMAGES,
    params(doc::IntegrationPath, doc::ImagesQuery),
    responses(
        (status = 200, description = "One page of images.", body = PageBody<ImageBody>),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        doc::Refusals,
        doc::ProviderFailures,
    ),
    security(("bearer" = ["use"])),
)]
pub async fn images(
    req: HttpRequest,
    Outbound { actor, .. }: Outbound<Use>,
    api: web::Data<Api>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let q = body::query_pairs(req.query_string(), &["limit", "cursor"])?;
    let mut errors = ValidationErrors::new();
    let default = PageLimit::new(IMAGES_DEFAULT).unwrap_or_default();
    let limit = PageLimit::parse(q.get("limit").map(String::as_str), default, &mut errors);
    let id = path_id(&path);
    if let Err(ApiError::Validation(v)) = &id {
        errors.extend(v.clone());
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let page = api
        .transfer
        .images(
            &actor,
            id?,
            limit.get(),
            q.get("cursor").map(String::as_str),
        )
        .await?;
    Ok(ok_json(&PageBody {
        items: page.items.into_iter().map(ImageBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `GET /integration/{id}/credentials`: the credentials in clear (scope `reveal`).
#[utoipa::path(
    get,
    path = "/integration/{id}/credentials",
    tag = "credentials",
    operation_id = "revealCredentials",
    summary = "Read the credentials in clear",
    description = doc::REVEAL,
    params(doc::IntegrationPath),
    responses(
        (status = 200, description = "The credentials in clear.", body = RevealBody,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["reveal"])),
)]
pub async fn reveal(
    req: HttpRequest,
    Caller(actor, _): Caller<Reveal>,
    api: web::Data<Api>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    body::query_pairs(req.query_string(), &[])?;
    let id = path_id(&path)?;
    let revealed = api.transfer.reveal(&actor, id).await?;
    Ok(ok_json(&RevealBody {
        id: revealed.id.to_string(),
        provider: revealed.provider.as_str(),
        platform: revealed.provider.platform().as_str(),
        credentials: RevealedFields(revealed.fields),
    }))
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
#[utoipa::path(
    get,
    path = "/events",
    tag = "events",
    operation_id = "listAccountEvents",
    summary = "The account's audit trail",
    description = doc::ACCOUNT_EVENTS,
    params(doc::EventsQuery),
    responses(
        (status = 200, description = "One page of events, newest first.", body = PageBody<EventBody>),
        (status = 422, response = doc::ValidationFailed),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn account_events(
    req: HttpRequest,
    Caller(actor, _): Caller<Manage>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let query = event_query(&req)?;
    events_page(&api, &actor, query).await
}

/// `GET /integration/{id}/events`: one integration's trail (also after it was deleted).
#[utoipa::path(
    get,
    path = "/integration/{id}/events",
    tag = "events",
    operation_id = "listIntegrationEvents",
    summary = "An integration's audit trail",
    description = doc::INTEGRATION_EVENTS,
    params(doc::IntegrationPath, doc::EventsQuery),
    responses(
        (status = 200, description = "One page of events, newest first.", body = PageBody<EventBody>),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::ValidationFailed),
        (status = 503, response = doc::Unavailable),
        doc::Refusals,
    ),
    security(("bearer" = ["manage"])),
)]
pub async fn integration_events(
    req: HttpRequest,
    Caller(actor, _): Caller<Manage>,
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
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    summary = "Liveness",
    description = "The process answers (whatever the state of the database). No API key.",
    responses(
        (status = 200, description = "Alive.", body = doc::Health, example = json!({"status": "ok"})),
    ),
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    summary = "Readiness",
    description = "The database answers in time. No API key.",
    responses(
        (status = 200, description = "Ready.", body = doc::Readiness, example = json!({"status": "ready"})),
        (status = 503, response = doc::Unavailable),
    ),
)]
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

/// A known path with another method: 405 with the `Allow` header (RFC 9110) naming the
/// methods the path has.
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut response = actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed);
    response.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_static(allow),
    );
    response
}
