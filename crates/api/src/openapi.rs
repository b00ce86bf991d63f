//! `GET /openapi.json`: the OpenAPI 3.1 description of every endpoint, generated from the code
//! with `utoipa`.
//!
//! * The handlers carry `#[utoipa::path(...)]` (method, path, parameters, bodies, every status
//!   they answer, the scope they need), the response bodies `#[derive(ToSchema)]`.
//! * What the code does not declare as Rust types is built here from the domain's own tables, so
//!   the document cannot drift from them: the providers and their credential fields
//!   (`Provider::ALL`, each provider's `FieldSpec`s and sample values), the platforms, the
//!   verification `reason` codes, the export content types, the audit actions and the scopes.
//!   The request bodies are read field by field by the handlers (no `Deserialize` type), so their
//!   schemas are written here too, one variant per provider.
//! * The error responses are built once ([`ToResponse`]) with examples produced by the real
//!   [`ApiError`] values, so a message changed in `error.rs` changes the document.
//!
//! `docs/openapi.json` is a checked-in copy; `tests/openapi.rs` keeps it byte-equal to what
//! the server serves (`UPDATE_OPENAPI=1 cargo test -p integrations-api --test openapi`
//! rewrites it).

use crate::dto::{OrderedFields, RevealedFields};
use crate::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use integrations_domain::credentials::{mask_key_id, FieldKind, FieldSpec, SECRET_MASK};
use integrations_domain::{
    Action, ContentType, FailureReason, Platform, Provider, Scope, ValidationErrors,
};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, KnownFormat, ObjectBuilder, OneOfBuilder,
    Ref, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

/// The name of the security scheme (`Authorization: Bearer <api key>`).
pub const BEARER: &str = "bearer";

/// The document, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(render);

/// The OpenAPI document as served: pretty-printed JSON with every object's keys sorted (whatever
/// the order of the structs or the features of `serde_json`), and one trailing newline.
pub fn json() -> &'static str {
    DOCUMENT.as_str()
}

/// The document as a value (tests, tools).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `value` as the document is written: pretty-printed, keys sorted, a trailing newline.
pub fn canonical(value: &Value) -> String {
    match serde_json::to_string_pretty(&Sorted(value)) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be serialised");
            String::from("{}\n")
        }
    }
}

fn render() -> String {
    match serde_json::to_value(document()) {
        Ok(mut value) => {
            camel_case_links(&mut value);
            canonical(&value)
        }
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be serialised");
            String::from("{}\n")
        }
    }
}

/// utoipa 5 writes the fields of a Link Object in snake case (`operation_id`); OpenAPI spells
/// them `operationId`, `operationRef`, `requestBody`. Renames them in every `links` map.
fn camel_case_links(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "links" {
                    for link in v.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                        if let Some(fields) = link.as_object_mut() {
                            for (from, to) in [
                                ("operation_id", "operationId"),
                                ("operation_ref", "operationRef"),
                                ("request_body", "requestBody"),
                            ] {
                                if let Some(x) = fields.remove(from) {
                                    fields.insert(to.to_owned(), x);
                                }
                            }
                        }
                    }
                } else {
                    camel_case_links(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(camel_case_links),
        _ => {}
    }
}

/// Serialises a JSON value with the keys of every object in sorted order.
struct Sorted<'a>(&'a Value);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let sorted: BTreeMap<&String, &Value> = map.iter().collect();
                let mut out = s.serialize_map(Some(sorted.len()))?;
                for (k, v) in sorted {
                    out.serialize_entry(k, &Sorted(v))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Sorted(item))?;
                }
                out.end()
            }
            other => other.serialize(s),
        }
    }
}

/// `GET /openapi.json`
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(json())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Integration API",
        description = INTRODUCTION,
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        crate::handlers::create,
        crate::handlers::update,
        crate::handlers::list,
        crate::handlers::get,
        crate::handlers::delete,
        crate::handlers::verify,
        crate::handlers::integration_events,
        crate::handlers::account_events,
        crate::handlers::put_object,
        crate::handlers::delete_object,
        crate::handlers::images,
        crate::handlers::reveal,
        crate::handlers::healthz,
        crate::handlers::readyz,
        metrics,
        openapi_document,
        crate::docs::page,
        crate::docs::asset,
    ),
    components(
        schemas(
            crate::error::ErrorBody,
            ProviderName,
            PlatformName,
            ReasonCode,
            ContentTypeName,
            ActionName,
            OutcomeName,
        ),
        responses(
            Unauthorized,
            Forbidden,
            NotFound,
            ValidationFailed,
            RateLimited,
            Internal,
            NotImplemented,
            Unavailable,
            ProviderFailed,
            ProviderUnavailable,
            ProviderTimeout,
        ),
    ),
    modifiers(&Security, &ProviderSchemas, &Headers, &RequestExamples),
    tags(
        (name = "integrations", description = "Create, read, list, update, delete and verify integrations (scope `manage`)."),
        (name = "export", description = "Write objects to a cloud integration's bucket (scope `use`)."),
        (name = "import", description = "List the images of a help-center integration's articles (scope `use`)."),
        (name = "credentials", description = "Read the credentials in clear (scope `reveal`)."),
        (name = "events", description = "The audit trail (scope `manage`)."),
        (name = "operations", description = "Health, readiness, metrics and this documentation (no API key)."),
    ),
)]
pub struct ApiDoc;

const INTRODUCTION: &str = "\
Keeps a customer's third-party credentials (cloud storage: `s3`, `r2`; help centers: `zendesk`, \
`intercom`, `helpscout`, `helpjuice`, `freshdesk`, `knowledgeowl`) encrypted at rest, checks \
that they work, and uses them to export screenshots to the bucket and import images from the \
help center, so that callers never handle the secrets.

**Authentication.** `Authorization: Bearer <api key>` on every endpoint except `/healthz`, \
`/readyz`, `/metrics`, `/openapi.json` and `/docs`. A missing or unknown key is **401**; a key \
without the scope an endpoint needs is **403** (scopes: `manage`, `use`, `reveal`; each operation \
names its scope). An integration of another account is answered exactly as one that does not \
exist (**404**).

**Conventions.** JSON bodies with camelCase fields; ids are UUIDs; time stamps are RFC 3339 \
UTC with milliseconds (`2024-02-26T16:24:18.676Z`). Success is **200** (create included). Any \
validation problem (malformed JSON, wrong types, missing or unknown fields, bad values, body too \
large, malformed id, unknown query parameter) is **422** with `errors: [{field, message}]`. \
Every error body is `{message, errors?, reason?, requestId?}`; a **500** carries only the \
`requestId`, which the server log also names. Every response carries `X-Request-Id` (echoed \
when the client sent a sane one).

**Rate limits.** Per API key, a token bucket over every authenticated request and a stricter \
one over the requests that call a provider (verify, export, import). Every response to an \
authenticated request carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and \
`X-RateLimit-Reset`; over a limit is **429** with `Retry-After` (seconds).

**Providers.** Endpoints that call a provider answer its failure with a stable `reason` \
(`invalid_credentials`, `insufficient_permissions`, `not_found`, `rate_limited`, `timeout`, \
`unreachable`, `provider_error`): a verification that ran and failed is **200** with \
`isConnectionSuccessful: false`; an export or import is **502**, **503** (`rate_limited`, with \
`Retry-After`) or **504** (`timeout`).";

// ---------------------------------------------------------------------------------------------
// Operation descriptions (the handlers' `#[utoipa::path]` refer to them).

pub const CREATE: &str = "\
Stores a new integration: a `label` (1–255 characters after trimming), a `provider`, its \
`platform` (inferred when omitted; `s3` and `r2` are `cloud`, the six others `helpcenter`) and \
the provider's `credentials`, which must have exactly the provider's fields (see the \
`<Provider>Credentials` schemas). The secrets are encrypted; they are never returned.

With `?verify=true` the credentials are checked first; a failed check is a **422** carrying the \
verification `message` and `reason`, and nothing is stored.";

pub const UPDATE: &str = "\
Replaces the label, provider, platform and credentials of the integration `id`. When the \
provider is unchanged, a secret field (`secretAccessKey`, `token`, `apiKey`) or key id \
(`accessKeyId`) left out of `credentials` keeps its stored value, so a client can rename or \
change a bucket without re-sending secrets; when the provider changes, every required field must \
be sent. A secret or key id equal to its read-back mask (`********`, `****MPLE`) is refused \
(**422**). `updatedAt` changes on every successful update; `createdAt` never does. \
`?verify=true` checks the resulting credentials first, as on create.";

pub const GET: &str = "\
The integration with its credentials masked: non-secret fields as stored, secrets as \
`********`, key ids as `****` and their last four characters. `lastVerification` is `null` \
until a verify by `integrationId` has run, then the latest result.";

pub const LIST: &str = "\
The account's integrations, newest first, optionally filtered by `platform` and `provider`, \
`limit` per page (1–100, default 20). `nextCursor` is `null` on the last page; pass it as \
`cursor` for the next one. An integration whose stored data cannot be read is listed as \
`{id, createdAt, unreadable: true, message}` so that it can be replaced or deleted.";

pub const DELETE: &str = "Deletes the integration and its encrypted credentials. Its audit \
events stay readable.";

pub const VERIFY: &str = "\
Checks that credentials work, with one of three bodies:

* `{integrationId}`: the stored credentials; the result is recorded as the integration's \
`lastVerification`;
* `{integrationId, credentials}`: the stored credentials with the given fields laid over them \
(to test an edited form; omitted secrets come from the vault); not recorded;
* `{provider, platform?, credentials}`: credentials in plain text, validated as on create; not \
recorded.

A check that ran and failed is **200** with `isConnectionSuccessful: false`, a `message` naming \
the cause and a stable `reason`; success is exactly `{isConnectionSuccessful: true, message}`. \
For cloud storage a check proves that the key and secret are valid, the bucket exists, its \
objects can be listed and an object can be written and deleted; for a help center, that the \
credentials authenticate as an agent or admin of that account. Each check has a deadline \
(`verify.timeout_ms`): past it the answer is `reason: timeout`.";

pub const INTEGRATION_EVENTS: &str = "\
The audit trail of one integration, newest first (also after the integration was deleted). \
`limit` 1–100 (default 20), `cursor` from the previous page's `nextCursor`.";

pub const ACCOUNT_EVENTS: &str = "\
The audit trail of the whole account, newest first: every create, update, delete, verify, \
export, import and reveal, whatever its outcome (a verify of plain-text credentials has \
`integrationId: null`). Never a secret, never a credential value.";

pub const PUT_OBJECT: &str = "\
Writes the raw request body to `{prefix}{key}` in the bucket of the cloud integration `id`, in \
one atomic write, with the declared `Content-Type` (one of `image/png`, `image/jpeg`, \
`image/webp`, `image/gif`, `image/avif`, `application/pdf`; the bytes must match it). The body \
must have a `Content-Length` of at most `export.max_object_bytes` (25 MiB by default). `key` \
is the rest of the path (it may contain `/`): 1–1024 bytes of UTF-8 once percent-decoded, no \
control characters, no empty, `.` or `..` segment, no leading `/`. `?presign=SECONDS` \
(1–604800) adds a presigned GET URL valid that long.

The bucket is never created: a missing bucket is **502** `not_found`. A help-center \
integration is **422** (`field: id`).";

pub const DELETE_OBJECT: &str = "\
Deletes `{prefix}{key}` from the bucket of the cloud integration `id` (also answered 200 when \
the object did not exist, as S3 does).";

pub const IMAGES: &str = "\
Lists the images (`<img src>`) of the help center's articles, in the order of the provider's \
own article listing: each with its article's id, title and public URL (`null` when the \
provider gives none) and its `alt` text (`null` when absent). Relative URLs are resolved \
against the help center's origin; `data:` URLs are skipped. `limit` 1–100 (default 50); a page \
may hold fewer items, and `nextCursor` is `null` only at the end. The cursor is bound to its \
integration (another one's is **422**, `field: cursor`). A cloud integration is **422** \
(`field: id`).";

pub const REVEAL: &str = "\
The credentials in clear, for workers that must hold them: exactly `{id, provider, platform, \
credentials}`, with `Cache-Control: no-store`. Only keys created with the `reveal` scope may \
call it; every call is recorded in the audit trail.";

// ---------------------------------------------------------------------------------------------
// Named schemas built from the domain's tables.

/// Declares a marker type whose schema is built by `$schema` under the name `$name`.
macro_rules! named_schema {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $schema:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn names(description: String, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    string()
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// A bullet list of `name`: text.
fn bullets<T: Copy>(items: &[T], line: impl Fn(T) -> String) -> String {
    items
        .iter()
        .map(|i| format!("* {}", line(*i)))
        .collect::<Vec<_>>()
        .join("\n")
}

named_schema!(
    /// `provider`: the names of the provider table.
    ProviderName,
    "Provider",
    names(
        format!(
            "The provider of an integration:\n\n{}",
            bullets(Provider::ALL, |p| format!(
                "`{}`: {} ({})",
                p.as_str(),
                p.display_name(),
                p.platform().as_str()
            ))
        ),
        Provider::ALL.iter().map(|p| p.as_str()),
    )
);

named_schema!(
    /// `platform`.
    PlatformName,
    "Platform",
    names(
        format!(
            "Where an integration belongs:\n\n{}",
            bullets(&Platform::ALL, |p| format!(
                "`{}`: {}",
                p.as_str(),
                Provider::of(p)
                    .map(|p| format!("`{}`", p.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        ),
        Platform::ALL.iter().map(|p| p.as_str()),
    )
);

/// What each reason code means (the codes themselves come from `FailureReason::ALL`).
fn reason_meaning(r: FailureReason) -> &'static str {
    match r {
        FailureReason::InvalidCredentials => "the provider refused the key, token or secret",
        FailureReason::InsufficientPermissions => {
            "the credentials authenticate but may not do what is needed"
        }
        FailureReason::NotFound => "the bucket, account or help center does not exist",
        FailureReason::RateLimited => "the provider rate limited the call",
        FailureReason::Timeout => "the provider did not answer before the deadline",
        FailureReason::Unreachable => "the provider could not be reached (DNS, connection, TLS)",
        FailureReason::ProviderError => "the provider answered with an error of its own",
    }
}

named_schema!(
    /// `reason`: why a check or a provider call failed.
    ReasonCode,
    "Reason",
    names(
        format!(
            "Why a verification or a provider call failed (stable codes):\n\n{}",
            bullets(&FailureReason::ALL, |r| format!(
                "`{}`: {}",
                r.as_str(),
                reason_meaning(r)
            ))
        ),
        FailureReason::ALL.iter().map(|r| r.as_str()),
    )
);

named_schema!(
    /// The content types an export accepts.
    ContentTypeName,
    "ContentType",
    names(
        "The content types an export accepts (the bytes must match).".to_owned(),
        ContentType::ALL.iter().map(|c| c.as_str()),
    )
);

named_schema!(
    /// `action` of an audit event.
    ActionName,
    "Action",
    names(
        "What an audit event records.".to_owned(),
        Action::ALL.iter().map(|a| a.as_str()),
    )
);

named_schema!(
    /// `outcome` of an audit event.
    OutcomeName,
    "Outcome",
    names(
        "How the recorded action ended.".to_owned(),
        ["success", "failure"]
    )
);

named_schema!(
    /// A raw request body (an export's file).
    Binary,
    "Binary",
    string()
        .format(Some(SchemaFormat::Custom("binary".to_owned())))
        .description(Some("The raw bytes of the file."))
        .into()
);

named_schema!(
    /// `GET /healthz`.
    Health,
    "Health",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("status", string().enum_values(Some(["ok"])))
        .required("status")
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .into()
);

named_schema!(
    /// `GET /readyz`.
    Readiness,
    "Readiness",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("status", string().enum_values(Some(["ready"])))
        .required("status")
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .into()
);

named_schema!(
    /// `GET /openapi.json`.
    OpenApiDocument,
    "OpenApiDocument",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("This document (OpenAPI 3.1)."))
        .into()
);

// ---------------------------------------------------------------------------------------------
// Credentials, per provider, from each provider's field table.

/// The forms a provider's credentials take in the API.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Sent on create and plain-text verify; also what a reveal returns.
    Input,
    /// Sent on update: omitted sealed fields keep their stored values.
    Update,
    /// Read back: secrets masked, key ids shortened.
    Masked,
}

/// `s3` → `S3`, `knowledgeowl` → `Knowledgeowl`.
fn pascal(p: Provider) -> String {
    let mut chars = p.as_str().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn credentials_name(p: Provider, form: Form) -> String {
    let base = pascal(p);
    match form {
        Form::Input => format!("{base}Credentials"),
        Form::Update => format!("{base}CredentialsUpdate"),
        Form::Masked => format!("{base}MaskedCredentials"),
    }
}

fn is_required(spec: &FieldSpec, form: Form) -> bool {
    match form {
        Form::Input | Form::Masked => spec.required,
        Form::Update => spec.required && spec.kind == FieldKind::Public,
    }
}

/// The sample credentials of `p` in the given form (masked as a read shows them).
fn sample(p: Provider, form: Form) -> Value {
    let mut out = serde_json::Map::new();
    for spec in p.fields() {
        let Some((_, value)) = p.sample().iter().find(|(name, _)| *name == spec.name) else {
            continue;
        };
        let shown = match (form, spec.kind) {
            (Form::Masked, FieldKind::Secret) => SECRET_MASK.to_owned(),
            (Form::Masked, FieldKind::KeyId) => mask_key_id(value),
            _ => (*value).to_owned(),
        };
        out.insert(spec.name.to_owned(), Value::String(shown));
    }
    Value::Object(out)
}

fn credentials_schema(p: Provider, form: Form) -> RefOr<Schema> {
    let what = match form {
        Form::Input => "as sent on create and on a plain-text verify, and as a reveal returns them",
        Form::Update => {
            "as sent on update: a secret or key id left out (or `null`) keeps its stored value while the provider is unchanged"
        }
        Form::Masked => "as read back: secrets masked, key ids shortened to their last four characters",
    };
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(format!("{} credentials", p.display_name())))
        .description(Some(format!(
            "The credentials of provider `{}` ({}), {what}.{}",
            p.as_str(),
            p.display_name(),
            match form {
                Form::Masked => "",
                Form::Input | Form::Update =>
                    " Exactly these fields: another one is refused (422).",
            }
        )))
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .examples([sample(p, form)]);
    for spec in p.fields() {
        let required = is_required(spec, form);
        let kind = match spec.kind {
            FieldKind::Public => "",
            FieldKind::KeyId => {
                " Sealed (encrypted at rest); read back as `****` and its last four characters."
            }
            FieldKind::Secret => " Secret: encrypted at rest, read back as `********`.",
        };
        let mut field = if required || form == Form::Masked {
            string()
        } else {
            // The API takes `null` for an optional field as "not sent".
            nullable_string()
        };
        field = field.description(Some(format!("{}{kind}", spec.about)));
        if form == Form::Masked {
            field = match spec.kind {
                FieldKind::Secret => field.enum_values(Some([SECRET_MASK])),
                FieldKind::KeyId => field.pattern(Some("^\\*\\*\\*\\*")),
                FieldKind::Public => field,
            };
        }
        object = object.property(spec.name, field);
        if required {
            object = object.required(spec.name);
        }
    }
    object.into()
}

fn push_credentials(out: &mut Vec<(String, RefOr<Schema>)>, form: Form) {
    for &p in Provider::ALL {
        out.push((credentials_name(p, form), credentials_schema(p, form)));
    }
}

fn any_of_providers(form: Form, description: &str) -> RefOr<Schema> {
    let mut any = AnyOfBuilder::new().description(Some(description));
    for &p in Provider::ALL {
        any = any.item(reference(&credentials_name(p, form)));
    }
    any.into()
}

impl PartialSchema for OrderedFields {
    fn schema() -> RefOr<Schema> {
        any_of_providers(
            Form::Masked,
            "The integration's credentials as read back, in its provider's field order: the \
             `<Provider>MaskedCredentials` schema of its `provider`.",
        )
    }
}

impl ToSchema for OrderedFields {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("MaskedCredentials")
    }

    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        push_credentials(out, Form::Masked);
    }
}

impl PartialSchema for RevealedFields {
    fn schema() -> RefOr<Schema> {
        any_of_providers(
            Form::Input,
            "The integration's credentials in clear, in its provider's field order: the \
             `<Provider>Credentials` schema of its `provider`.",
        )
    }
}

impl ToSchema for RevealedFields {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RevealedCredentials")
    }

    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        push_credentials(out, Form::Input);
    }
}

/// `label` of a create or update body.
fn label_schema() -> ObjectBuilder {
    string()
        .min_length(Some(1))
        .description(Some(
            "A name for people: 1–255 characters after trimming, no control characters.",
        ))
        .examples(["Dennis S3 Storage Credentials"])
}

/// `platform` where it is optional (`null` = not sent).
fn platform_of(p: Provider) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some([Value::from(p.platform().as_str()), Value::Null]))
        .description(Some(format!(
            "`{}` (inferred when omitted).",
            p.platform().as_str()
        )))
}

fn provider_is(p: Provider) -> ObjectBuilder {
    string().enum_values(Some([p.as_str()]))
}

fn closed_object() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
}

fn uuid_string() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// One variant per provider of a create (`with_id`: update) body.
fn write_body(with_id: bool) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new().description(Some(if with_id {
        "The integration `id` and its new label, provider, platform and credentials: one \
         variant per provider."
    } else {
        "A label, a provider, its platform and the provider's credentials: one variant per \
         provider."
    }));
    for &p in Provider::ALL {
        let form = if with_id { Form::Update } else { Form::Input };
        let mut variant = closed_object().title(Some(p.as_str()));
        if with_id {
            variant = variant
                .property(
                    "id",
                    uuid_string().description(Some("The integration to update.")),
                )
                .required("id");
        }
        variant = variant
            .property("label", label_schema())
            .required("label")
            .property("provider", provider_is(p))
            .required("provider")
            .property("platform", platform_of(p))
            .property("credentials", reference(&credentials_name(p, form)))
            .required("credentials");
        one_of = one_of.item(variant);
    }
    one_of.into()
}

named_schema!(
    /// The body of `POST /integration`.
    CreateIntegration,
    "CreateIntegration",
    write_body(false)
);

named_schema!(
    /// The body of `PUT /integration`.
    UpdateIntegration,
    "UpdateIntegration",
    write_body(true)
);

fn verify_body() -> RefOr<Schema> {
    let stored = closed_object()
        .title(Some("stored integration"))
        .description(Some(
            "Verify a stored integration. With `credentials`, the given fields are laid over \
             the stored ones (omitted secrets come from the vault) and the result is not \
             recorded. `provider` and `platform`, when sent, must be the integration's.",
        ))
        .property("integrationId", uuid_string())
        .required("integrationId")
        .property(
            "provider",
            OneOfBuilder::new()
                .item(reference("Provider"))
                .item(ObjectBuilder::new().schema_type(Type::Null)),
        )
        .property(
            "platform",
            OneOfBuilder::new()
                .item(reference("Platform"))
                .item(ObjectBuilder::new().schema_type(Type::Null)),
        )
        .property(
            "credentials",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
                .description(Some(
                    "Fields of the integration's provider that override the stored ones.",
                ))
                .additional_properties(Some(nullable_string())),
        );
    let mut one_of = OneOfBuilder::new()
        .description(Some(
            "`{integrationId}`, `{integrationId, credentials}`, or credentials in plain text \
             (one variant per provider).",
        ))
        .item(stored);
    for &p in Provider::ALL {
        one_of = one_of.item(
            closed_object()
                .title(Some(format!("{} in plain text", p.as_str())))
                .property("provider", provider_is(p))
                .required("provider")
                .property("platform", platform_of(p))
                .property("credentials", reference(&credentials_name(p, Form::Input)))
                .required("credentials")
                .property(
                    "integrationId",
                    ObjectBuilder::new()
                        .schema_type(Type::Null)
                        .description(Some("`null` counts as not sent.")),
                ),
        );
    }
    one_of.into()
}

named_schema!(
    /// The body of `POST /integration/verify`.
    VerifyIntegration,
    "VerifyIntegration",
    verify_body()
);

/// Registers the schemas built from the provider table (the request bodies name them by
/// reference) and the credentials forms of each provider.
struct ProviderSchemas;

impl Modify for ProviderSchemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut schemas = Vec::new();
        push_credentials(&mut schemas, Form::Input);
        push_credentials(&mut schemas, Form::Update);
        push_credentials(&mut schemas, Form::Masked);
        schemas.push((
            CreateIntegration::name().into_owned(),
            CreateIntegration::schema(),
        ));
        schemas.push((
            UpdateIntegration::name().into_owned(),
            UpdateIntegration::schema(),
        ));
        schemas.push((
            VerifyIntegration::name().into_owned(),
            VerifyIntegration::schema(),
        ));
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in schemas {
            components.schemas.insert(name, schema);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters.

/// `{id}` of the paths of one integration.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct IntegrationPath {
    /// The integration's id (a UUID; a malformed one is 422, `field: id`).
    #[param(format = Uuid, example = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d")]
    id: String,
}

/// `{id}` and `{key}` of an export.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ObjectPath {
    /// The cloud integration's id.
    #[param(format = Uuid, example = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d")]
    id: String,
    /// The object key below the integration's `prefix`: the rest of the path, which may contain
    /// `/` (1–1024 bytes of UTF-8 once percent-decoded; no control characters; no empty, `.` or
    /// `..` segment; no leading `/`).
    #[param(min_length = 1, example = "2024/a.png")]
    key: String,
}

/// `?verify=` of a create or update.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct VerifyQuery {
    /// `true` (also `1` or an empty value): check the credentials first and store nothing if the
    /// check fails (422). `false` or `0` (the default): do not check.
    #[param(value_type = String, pattern = "^(true|false|1|0|)$", required = false)]
    verify: Option<String>,
}

/// The query of `GET /integration`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// Only integrations of this platform.
    #[param(value_type = PlatformName, required = false)]
    platform: Option<String>,
    /// Only integrations of this provider (must agree with `platform` when both are sent).
    #[param(value_type = ProviderName, required = false)]
    provider: Option<String>,
    /// Items per page: 1–100 (default 20).
    #[param(value_type = u32, minimum = 1, maximum = 100, required = false)]
    limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    #[param(value_type = String, required = false)]
    cursor: Option<String>,
}

/// `limit` and `cursor` of an events page.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EventsQuery {
    /// Events per page: 1–100 (default 20).
    #[param(value_type = u32, minimum = 1, maximum = 100, required = false)]
    limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    #[param(value_type = String, required = false)]
    cursor: Option<String>,
}

/// `limit` and `cursor` of an images page.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ImagesQuery {
    /// Images per page: 1–100 (default 50). A page may hold fewer.
    #[param(value_type = u32, minimum = 1, maximum = 100, required = false)]
    limit: Option<u32>,
    /// The `nextCursor` of the previous page (bound to this integration).
    #[param(value_type = String, required = false)]
    cursor: Option<String>,
}

/// `?presign=` of an export.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PresignQuery {
    /// Also return `presignedUrl`, a presigned GET valid this many seconds (1–604800), and
    /// `expiresAt`.
    #[param(value_type = u64, minimum = 1, maximum = 604800, required = false)]
    presign: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Error responses, with examples from the real `ApiError` values.

/// The body an `ApiError` answers with.
fn example_of(error: ApiError) -> Value {
    let body = error.error_response().into_body();
    match body.try_into_bytes() {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

fn header(schema: ObjectBuilder, description: &str) -> Header {
    HeaderBuilder::new()
        .schema(schema)
        .description(Some(description))
        .build()
}

fn integer() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
}

fn request_id_header() -> Header {
    header(
        string(),
        "The request's id: the client's `X-Request-Id` when it sent a sane one (1–128 of \
         `[A-Za-z0-9._:-]`), else a generated UUID. The server log names it.",
    )
}

fn rate_limit_headers() -> [(&'static str, Header); 3] {
    [
        (
            "X-RateLimit-Limit",
            header(
                integer(),
                "Requests per minute of this API key (`limits.requests_per_minute`).",
            ),
        ),
        (
            "X-RateLimit-Remaining",
            header(integer(), "Requests left after this one."),
        ),
        (
            "X-RateLimit-Reset",
            header(integer(), "Seconds until the full quota is back."),
        ),
    ]
}

fn retry_after_header(description: &str) -> Header {
    header(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1)),
        description,
    )
}

/// The error body schema, with `required` fields beyond `message`.
fn error_schema(required: &[&str]) -> RefOr<Schema> {
    if required.is_empty() {
        return reference("ErrorBody");
    }
    let mut extra = ObjectBuilder::new().schema_type(Type::Object);
    for r in required {
        extra = extra.required(*r);
    }
    AllOfBuilder::new()
        .item(reference("ErrorBody"))
        .item(extra)
        .into()
}

struct ErrorResponse<'a> {
    description: &'a str,
    required: &'a [&'a str],
    examples: Vec<(&'a str, Value)>,
    /// Answered to an authenticated request: `X-RateLimit-*` may be present.
    authenticated: bool,
    retry_after: Option<&'a str>,
    extra_headers: Vec<(&'a str, Header)>,
}

impl ErrorResponse<'_> {
    fn build(self) -> RefOr<Response> {
        let mut content = ContentBuilder::new().schema(Some(error_schema(self.required)));
        if self.examples.len() == 1 {
            content = content.example(self.examples.into_iter().next().map(|(_, v)| v));
        } else {
            content = content.examples_from_iter(self.examples.into_iter().map(|(name, value)| {
                (
                    name,
                    ExampleBuilder::new()
                        .summary(name)
                        .value(Some(value))
                        .build(),
                )
            }));
        }
        let mut response = ResponseBuilder::new()
            .description(self.description)
            .content("application/json", content.build())
            .header("X-Request-Id", request_id_header());
        if self.authenticated {
            for (name, h) in rate_limit_headers() {
                response = response.header(name, h);
            }
        }
        if let Some(retry) = self.retry_after {
            response = response.header("Retry-After", retry_after_header(retry));
        }
        for (name, h) in self.extra_headers {
            response = response.header(name, h);
        }
        response.build().into()
    }
}

fn plain<'a>(description: &'a str, examples: Vec<(&'a str, Value)>) -> ErrorResponse<'a> {
    ErrorResponse {
        description,
        required: &[],
        examples,
        authenticated: true,
        retry_after: None,
        extra_headers: Vec::new(),
    }
}

/// Declares a reusable response `$name` built by `$build`.
macro_rules! named_response {
    ($(#[$doc:meta])* $ty:ident, $build:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl<'r> ToResponse<'r> for $ty {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($ty), $build)
            }
        }
    };
}

/// Declares a group of the reusable responses (`IntoResponses`), so an operation lists the
/// answers it shares with others once: `responses((status = 200, …), doc::Refusals)`.
macro_rules! response_group {
    ($(#[$doc:meta])* $ty:ident { $($status:literal => $name:ident),* $(,)? }) => {
        $(#[$doc])*
        pub struct $ty;

        impl utoipa::IntoResponses for $ty {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$((
                    $status.to_owned(),
                    RefOr::Ref(utoipa::openapi::Ref::from_response_name(stringify!($name))),
                )),*])
            }
        }
    };
}

response_group!(
    /// What any authenticated operation may answer besides its own: 401, 403, 429, 500.
    Refusals {
        "401" => Unauthorized,
        "403" => Forbidden,
        "429" => RateLimited,
        "500" => Internal,
    }
);

response_group!(
    /// How an operation that calls a provider fails: 502, 503, 504.
    ProviderFailures {
        "502" => ProviderFailed,
        "503" => ProviderUnavailable,
        "504" => ProviderTimeout,
    }
);

named_response!(
    /// 401.
    Unauthorized,
    ErrorResponse {
        authenticated: false,
        extra_headers: vec![(
            "WWW-Authenticate",
            header(string().enum_values(Some(["Bearer"])), "`Bearer`."),
        )],
        ..plain(
            "No API key, or an unknown or revoked one (`Authorization: Bearer <api key>`).",
            vec![
                ("missing key", example_of(ApiError::from(integrations_domain::service::AuthFailure::Auth(integrations_domain::AuthError::Missing)))),
                ("unknown key", example_of(ApiError::from(integrations_domain::service::AuthFailure::Auth(integrations_domain::AuthError::Invalid)))),
            ],
        )
    }
    .build()
);

named_response!(
    /// 403.
    Forbidden,
    plain(
        "The API key lacks the scope this operation needs (named in the message).",
        Scope::ALL
            .iter()
            .map(|s| (s.as_str(), example_of(ApiError::Forbidden(*s))))
            .collect(),
    )
    .build()
);

named_response!(
    /// 404.
    NotFound,
    plain(
        "No such integration in this account (an integration of another account is answered \
         the same way), or no such path.",
        vec![("unknown id", example_of(ApiError::NotFound("Integration not found.")))],
    )
    .build()
);

named_response!(
    /// 422.
    ValidationFailed,
    ErrorResponse {
        required: &["errors"],
        ..plain(
            "The request is invalid: malformed JSON, wrong types, missing or unknown fields, bad \
             values, a body too large, a malformed id or an unknown query parameter; `errors` \
             names each field (a JSON path such as `credentials.bucket`, a query parameter, \
             `body`, `id`, `key` or `contentType`). With `?verify=true`, a failed check is also \
             a 422: its `message` and `reason` are the verification's, its error names \
             `credentials`.",
            vec![
                (
                    "invalid field",
                    example_of(ApiError::Validation(ValidationErrors::single(
                        "credentials.bucket",
                        "is required",
                    ))),
                ),
                (
                    "failed check (?verify=true)",
                    example_of(ApiError::VerificationFailed {
                        reason: FailureReason::NotFound.as_str(),
                        message: "The specified bucket does not exist.".to_owned(),
                    }),
                ),
            ],
        )
    }
    .build()
);

named_response!(
    /// 429.
    RateLimited,
    ErrorResponse {
        retry_after: Some("Seconds to wait before retrying."),
        ..plain(
            "Over this API key's request limit, its limit of provider calls (verify, export, \
             import), or its account's provider calls in flight.",
            vec![(
                "too many requests",
                example_of(ApiError::from(crate::limits::Refusal::Outbound {
                    retry_after_secs: 7,
                })),
            )],
        )
    }
    .build()
);

named_response!(
    /// 500.
    Internal,
    ErrorResponse {
        required: &["requestId"],
        ..plain(
            "An unhandled error. The body names only the request id, which the server log also \
             names.",
            vec![(
                "internal error",
                json!({"message": "Internal server error.", "requestId": "8d3c9a0e-56c1-4a8b-9f3e-2f1d7c6b5a49"}),
            )],
        )
    }
    .build()
);

named_response!(
    /// 501.
    NotImplemented,
    plain(
        "This server cannot check credentials of that provider.",
        vec![(
            "not available",
            example_of(ApiError::NotImplemented(
                "Verification of zendesk credentials is not available on this server.".to_owned(),
            )),
        )],
    )
    .build()
);

const DB_RETRY: &str = "Seconds to wait before retrying.";

named_response!(
    /// 503 of the database.
    Unavailable,
    ErrorResponse {
        retry_after: Some(DB_RETRY),
        ..plain(
            "The database is unreachable; retry after `Retry-After` seconds.",
            vec![("database unreachable", example_of(ApiError::Unavailable))],
        )
    }
    .build()
);

fn provider_error(status: u16, reason: FailureReason, message: &str) -> Value {
    example_of(ApiError::Provider {
        status,
        reason: reason.as_str(),
        message: message.to_owned(),
        retry_after_secs: (status == 503).then_some(60),
    })
}

named_response!(
    /// 502.
    ProviderFailed,
    ErrorResponse {
        required: &["reason"],
        ..plain(
            "The provider refused or failed the call; `reason` says why (a missing bucket is \
             `not_found`, a bad key `invalid_credentials`, a denied operation \
             `insufficient_permissions`).",
            vec![
                (
                    "missing bucket",
                    provider_error(502, FailureReason::NotFound, "The specified bucket does not exist."),
                ),
                (
                    "bad key",
                    provider_error(
                        502,
                        FailureReason::InvalidCredentials,
                        "The AWS access key id does not exist.",
                    ),
                ),
            ],
        )
    }
    .build()
);

named_response!(
    /// 503 of a provider's rate limit (or of the database).
    ProviderUnavailable,
    ErrorResponse {
        retry_after: Some(
            "Seconds to wait: the provider's own wait (1–3600, 60 when it gave none), or the \
             database's.",
        ),
        ..plain(
            "The provider rate limited the call (`reason: rate_limited`), or the database is \
             unreachable (no `reason`).",
            vec![
                (
                    "provider rate limit",
                    provider_error(
                        503,
                        FailureReason::RateLimited,
                        "The provider rate limited the request; retry after the time in Retry-After.",
                    ),
                ),
                ("database unreachable", example_of(ApiError::Unavailable)),
            ],
        )
    }
    .build()
);

named_response!(
    /// 504.
    ProviderTimeout,
    ErrorResponse {
        required: &["reason"],
        ..plain(
            "The provider did not answer before the deadline (`verify.timeout_ms`, plus 1 s per \
             MiB sent by an export).",
            vec![(
                "deadline",
                provider_error(
                    504,
                    FailureReason::Timeout,
                    "The provider did not answer within 10 seconds.",
                ),
            )],
        )
    }
    .build()
);

// ---------------------------------------------------------------------------------------------
// Endpoints that have no handler of their own in `handlers` (documentation only).

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    summary = "Metrics",
    description = "Prometheus metrics in the OpenMetrics text format: requests by route \
                   template, method and status; latency histograms; provider calls by provider, \
                   action and outcome (`success` or the reason code); database pool usage; build \
                   information. Nothing about any account. No API key.",
    responses(
        (status = 200, description = "The metrics.", body = String,
            content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
    ),
)]
#[allow(dead_code)]
fn metrics() {}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    summary = "This OpenAPI document",
    description = "The OpenAPI 3.1 description of the API, generated from the code. No API key.",
    responses(
        (status = 200, description = "The document.", body = OpenApiDocument),
    ),
)]
#[allow(dead_code)]
fn openapi_document() {}

// ---------------------------------------------------------------------------------------------
// Security, headers and request examples.

/// The Bearer scheme, its scopes, and each operation's scope named in its description.
struct Security;

fn scope_use(s: Scope) -> &'static str {
    match s {
        Scope::Manage => "create, read, list, update, delete and verify integrations; read events",
        Scope::Use => "export objects and import images",
        Scope::Reveal => "read credentials in clear (no key has it unless created with it)",
    }
}

/// The scopes an operation's security requirement names.
fn scopes_of(op: &Operation) -> Vec<String> {
    let mut out = Vec::new();
    for requirement in op.security.iter().flatten() {
        if let Ok(Value::Object(map)) = serde_json::to_value(requirement) {
            for scopes in map.values() {
                if let Value::Array(list) = scopes {
                    out.extend(list.iter().filter_map(|s| s.as_str().map(str::to_owned)));
                }
            }
        }
    }
    out
}

/// Every operation of the document, mutably.
fn operations(openapi: &mut utoipa::openapi::OpenApi) -> Vec<&mut Operation> {
    let mut out = Vec::new();
    for item in openapi.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            out.push(op);
        }
    }
    out
}

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let description = format!(
            "`Authorization: Bearer <api key>`. A key is `ik_` followed by 43 base64url \
             characters (`integrations api-key create`). Each key has scopes; each operation \
             names the one it needs:\n\n{}",
            bullets(&Scope::ALL, |s| format!(
                "`{}`: {}",
                s.as_str(),
                scope_use(s)
            ))
        );
        let components = openapi.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            BEARER.to_owned(),
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ik_<43 base64url characters>")
                    .description(Some(description))
                    .build(),
            ),
        );
        for op in operations(openapi) {
            let scopes = scopes_of(op);
            if scopes.is_empty() {
                continue;
            }
            let line = format!(
                "**Scope:** {}.",
                scopes
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            op.description = Some(match op.description.take() {
                Some(d) => format!("{d}\n\n{line}"),
                None => line,
            });
        }
    }
}

/// `X-Request-Id` on every response, `X-RateLimit-*` on those of authenticated operations (the
/// reusable error responses declare their own).
struct Headers;

impl Modify for Headers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for op in operations(openapi) {
            let authenticated = !scopes_of(op).is_empty();
            for response in op.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                response
                    .headers
                    .insert("X-Request-Id".to_owned(), request_id_header());
                if authenticated {
                    for (name, h) in rate_limit_headers() {
                        response.headers.insert(name.to_owned(), h);
                    }
                }
            }
        }
    }
}

/// The request-body examples: the seed's, and valid ones built from each provider's sample
/// credentials.
struct RequestExamples;

fn label_of(p: Provider) -> String {
    format!("{} credentials", p.display_name())
}

fn named_examples(
    examples: Vec<(String, Value)>,
) -> BTreeMap<String, RefOr<utoipa::openapi::example::Example>> {
    examples
        .into_iter()
        .map(|(name, value)| {
            (
                name.clone(),
                RefOr::T(
                    ExampleBuilder::new()
                        .summary(name)
                        .value(Some(value))
                        .build(),
                ),
            )
        })
        .collect()
}

/// Examples of the operation `operation_id`'s JSON request body.
fn request_examples(operation_id: &str) -> Vec<(String, Value)> {
    let seed_id = "55f5c789-1b87-4b82-91e5-3c3ad8b9393d";
    match operation_id {
        "createIntegration" => Provider::ALL
            .iter()
            .map(|&p| {
                (
                    p.as_str().to_owned(),
                    json!({
                        "label": label_of(p),
                        "provider": p.as_str(),
                        "platform": p.platform().as_str(),
                        "credentials": sample(p, Form::Input),
                    }),
                )
            })
            .collect(),
        "updateIntegration" => vec![
            (
                "seed: update an S3 integration".to_owned(),
                json!({
                    "id": seed_id,
                    "label": "Dennis S3 Storage Credentials",
                    "provider": "s3",
                    "platform": "cloud",
                    "credentials": {
                        "bucket": "examplebucket",
                        "accessKeyId": "xxx",
                        "secretAccessKey": "yyy",
                        "accountId": "zzz",
                        "region": "auto"
                    }
                }),
            ),
            (
                "rename, keep the secrets".to_owned(),
                json!({
                    "id": seed_id,
                    "label": "Dennis S3 Storage Credentials",
                    "provider": "s3",
                    "credentials": {"bucket": "examplebucket", "region": "auto"}
                }),
            ),
        ],
        "verifyIntegration" => vec![
            (
                "seed 1: a stored integration".to_owned(),
                json!({"integrationId": "5c2a93ed-e56a-448a-bcdf-464b2473f005"}),
            ),
            (
                "seed 2: storage credentials in plain text".to_owned(),
                json!({
                    "platform": "cloud",
                    "provider": "r2",
                    "credentials": {
                        "bucket": "examplebucket",
                        "accessKeyId": "xxx",
                        "secretAccessKey": "yyy",
                        "accountId": "zzz",
                        "region": "auto"
                    }
                }),
            ),
            (
                "seed 3: help-center credentials in plain text".to_owned(),
                json!({
                    "provider": "zendesk",
                    "platform": "helpcenter",
                    "credentials": {
                        "username": "hello@example.org",
                        "token": "xxx",
                        "subdomain": "https://example.zendesk.com"
                    }
                }),
            ),
            (
                "an edited form of a stored integration".to_owned(),
                json!({
                    "integrationId": "5c2a93ed-e56a-448a-bcdf-464b2473f005",
                    "credentials": {"bucket": "otherbucket"}
                }),
            ),
        ],
        _ => Vec::new(),
    }
}

impl Modify for RequestExamples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for op in operations(openapi) {
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            let examples = request_examples(&id);
            if examples.is_empty() {
                continue;
            }
            if let Some(content) = op
                .request_body
                .as_mut()
                .and_then(|b| b.content.get_mut("application/json"))
            {
                content.examples = named_examples(examples);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_its_three_credential_forms() {
        let doc = document();
        let schemas = doc.components.map(|c| c.schemas).unwrap_or_default();
        for &p in Provider::ALL {
            for form in [Form::Input, Form::Update, Form::Masked] {
                assert!(
                    schemas.contains_key(&credentials_name(p, form)),
                    "{}",
                    credentials_name(p, form)
                );
            }
        }
    }

    #[test]
    fn error_examples_come_from_the_real_errors() {
        let body = example_of(ApiError::Forbidden(Scope::Use));
        assert_eq!(
            body,
            json!({"message": "This API key does not have the 'use' scope."})
        );
    }
}
