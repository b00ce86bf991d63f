//! Reading a JSON request body.
//!
//! The body is read into a zeroized buffer (it holds secrets in clear), refused past
//! [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES), and parsed into [`Json`] values whose strings are
//! `SecretString`s from the start, so no plaintext copy outlives the request. Structure errors
//! (not an object, unknown or duplicate fields, wrong types) become 422 errors naming the field.

use crate::error::ApiError;
use crate::MAX_BODY_BYTES;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use integrations_domain::{CredentialsInput, InputValue, ValidationErrors};
use secrecy::{ExposeSecret, SecretString};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use zeroize::Zeroizing;

/// A JSON value with secret strings and without array contents (never needed).
pub enum Json {
    Text(SecretString),
    Null,
    Bool,
    Number,
    Array,
    Object(Fields),
}

/// An object's fields; duplicate names are recorded to be refused.
#[derive(Default)]
pub struct Fields {
    map: BTreeMap<String, Json>,
    duplicates: Vec<String>,
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Text(_) => "a string",
            Json::Null => "null",
            Json::Bool => "a boolean",
            Json::Number => "a number",
            Json::Array => "an array",
            Json::Object(_) => "an object",
        }
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
        Ok(Json::Bool)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
        Ok(Json::Number)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
        Ok(Json::Number)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
        Ok(Json::Number)
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Text(SecretString::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Text(SecretString::from(v)))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Json::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<String>()? {
            let value: Json = map.next_value()?;
            if fields.map.insert(key.clone(), value).is_some() {
                fields.duplicates.push(key);
            }
        }
        Ok(Json::Object(fields))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// Reads and parses the body of a request that must be a JSON object.
pub async fn read_object(
    req: &HttpRequest,
    mut payload: web::Payload,
    idle: std::time::Duration,
) -> Result<Fields, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::validation(
            "body",
            "must be JSON, sent with `Content-Type: application/json`",
        ));
    }
    let too_large = || {
        ApiError::validation(
            "body",
            format!("must be at most {} KiB", MAX_BODY_BYTES / 1024),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    // Sized once, to the declared length (or the limit): the buffer never grows, so no copy
    // of the secrets it holds is left behind in freed memory.
    let mut buf = Zeroizing::new(Vec::with_capacity(declared.unwrap_or(MAX_BODY_BYTES)));
    loop {
        // A client that stalls is cut off: no connection is held by a half-sent body.
        let next = tokio::time::timeout(idle, payload.next())
            .await
            .map_err(|_| {
                ApiError::validation(
                    "body",
                    format!("did not arrive in time (no data for {} s)", idle.as_secs()),
                )
            })?;
        let Some(chunk) = next else { break };
        let chunk =
            chunk.map_err(|_| ApiError::validation("body", "could not be read completely"))?;
        if buf.len() + chunk.len() > buf.capacity() {
            if buf.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            // More than declared (a lying Content-Length): move to a new, zeroizing buffer
            // sized to the limit, wiping the old one.
            let mut bigger = Zeroizing::new(Vec::with_capacity(MAX_BODY_BYTES));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk);
    }
    parse_object(&buf)
}

/// Parses a body that must be a JSON object (no size or type check: `read_object` did them).
pub fn parse_object(buf: &[u8]) -> Result<Fields, ApiError> {
    if buf.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            "body",
            "must be a JSON object, not empty",
        ));
    }
    match serde_json::from_slice::<Json>(buf) {
        Ok(Json::Object(fields)) => Ok(fields),
        Ok(other) => Err(ApiError::validation(
            "body",
            format!("must be a JSON object, not {}", other.kind()),
        )),
        Err(e) => Err(ApiError::validation(
            "body",
            // serde_json's message names the position, never the content.
            format!("is not valid JSON: {}", syntax_message(&e)),
        )),
    }
}

fn syntax_message(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "unexpected end of input",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "invalid data",
        serde_json::error::Category::Io => "read error",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// Typed access to the fields of a body, collecting every problem.
pub struct Body {
    fields: Fields,
    pub errors: ValidationErrors,
}

impl Body {
    /// Refuses duplicate fields and any field not in `allowed`.
    pub fn new(fields: Fields, allowed: &[&str]) -> Self {
        let mut errors = ValidationErrors::new();
        for d in &fields.duplicates {
            errors.add(d.clone(), "appears more than once");
        }
        for name in fields.map.keys() {
            if !allowed.contains(&name.as_str()) {
                errors.add(
                    name.clone(),
                    format!(
                        "is not a field of this request; expected: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Self { fields, errors }
    }

    pub fn has(&self, name: &str) -> bool {
        matches!(self.fields.map.get(name), Some(v) if !matches!(v, Json::Null))
    }

    /// A string field (not secret); `null` counts as absent.
    pub fn text(&mut self, name: &str) -> Option<String> {
        match self.fields.map.get(name) {
            None | Some(Json::Null) => None,
            Some(Json::Text(s)) => Some(s.expose_secret().to_owned()),
            Some(other) => {
                let kind = other.kind();
                self.errors
                    .add(name, format!("must be a string, not {kind}"));
                None
            }
        }
    }

    /// A UUID field.
    pub fn uuid(&mut self, name: &str) -> Option<uuid::Uuid> {
        let raw = self.text(name)?;
        match uuid::Uuid::parse_str(raw.trim()) {
            Ok(u) => Some(u),
            Err(_) => {
                self.errors.add(name, "must be a UUID");
                None
            }
        }
    }

    /// A UUID field whose problem the domain reports itself (no error recorded here).
    pub fn uuid_quiet(&mut self, name: &str) -> Result<uuid::Uuid, ()> {
        match self.fields.map.get(name) {
            Some(Json::Text(s)) => uuid::Uuid::parse_str(s.expose_secret().trim()).map_err(|_| ()),
            _ => Err(()),
        }
    }

    /// The `credentials` object, its strings kept secret.
    pub fn credentials(&mut self, name: &str) -> Option<CredentialsInput> {
        match self.fields.map.remove(name) {
            None | Some(Json::Null) => None,
            Some(Json::Object(inner)) => {
                for d in &inner.duplicates {
                    self.errors
                        .add(format!("{name}.{d}"), "appears more than once");
                }
                Some(
                    inner
                        .map
                        .into_iter()
                        .map(|(k, v)| {
                            let value = match v {
                                Json::Text(s) => InputValue::Text(s),
                                Json::Null => InputValue::Null,
                                Json::Bool => InputValue::Bool,
                                Json::Number => InputValue::Number,
                                Json::Array => InputValue::Array,
                                Json::Object(_) => InputValue::Object,
                            };
                            (k, value)
                        })
                        .collect(),
                )
            }
            Some(other) => {
                let kind = other.kind();
                self.errors
                    .add(name, format!("must be an object, not {kind}"));
                None
            }
        }
    }
}

/// Parses a query string into pairs, refusing names not in `allowed` and repeated names.
pub fn query_pairs(query: &str, allowed: &[&str]) -> Result<BTreeMap<String, String>, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|_| ApiError::validation("query", "is not a valid query string"))?
        .into_inner();
    let mut errors = ValidationErrors::new();
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if !allowed.contains(&k.as_str()) {
            errors.add(
                k.clone(),
                format!(
                    "is not a query parameter of this request; expected: {}",
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                ),
            );
        } else if out.insert(k.clone(), v).is_some() {
            errors.add(k, "appears more than once");
        }
    }
    errors.into_result(out).map_err(ApiError::Validation)
}

/// `verify=true|false` (also `1|0`), absent = false.
pub fn verify_flag(query: &BTreeMap<String, String>) -> Result<bool, ApiError> {
    match query.get("verify").map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(_) => Err(ApiError::validation("verify", "must be true or false")),
    }
}
