//! Request bodies → typed commands, through the handlers' exact path
//! (`integrations_api::parsing`): never panics, and an error never echoes a secret.
//!
//! The input is either raw bytes or a body built with `arbitrary` (known field names, known
//! providers, credentials fields of every provider), so that the secret values are known.
//! Either way the body is read back as JSON to find the string values of sealed
//! `credentials` fields (tokens, API keys, secret access keys, key ids); none of them (8+
//! bytes, as sent or trimmed) may appear in the error's JSON or `Debug` unless it also
//! appears in the error of the same body with every such value replaced by "x" (fixed
//! text or an echoed field name, not the secret).
#![no_main]

use actix_web::body::MessageBody;
use actix_web::ResponseError;
use arbitrary::Arbitrary;
use integrations_api::error::ApiError;
use integrations_api::parsing::{create_body, update_body, verify_body};
use integrations_domain::Provider;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    Raw(&'a [u8]),
    Built(Body),
}

#[derive(Arbitrary, Debug)]
struct Body {
    fields: Vec<(Name, Scalar)>,
    provider: Option<Pick>,
    credentials: Option<Credentials>,
}

#[derive(Arbitrary, Debug)]
enum Credentials {
    Object(Vec<(CredName, Scalar)>),
    Other(Scalar),
}

/// A top-level field: one the handlers know, or any name.
#[derive(Arbitrary, Debug)]
enum Name {
    Id,
    IntegrationId,
    Label,
    Platform,
    Provider,
    Other(String),
}

/// A credentials field: one some provider declares (by index into every provider's fields),
/// or any name.
#[derive(Arbitrary, Debug)]
enum CredName {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Pick {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Scalar {
    Text(String),
    Uuid([u8; 16]),
    Null,
    Bool(bool),
    Number(i64),
    Array(Vec<String>),
    Object,
}

fn all_fields() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Provider::ALL
        .iter()
        .flat_map(|p| p.fields().iter().map(|f| f.name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Names of the fields some provider seals.
fn sealed_fields() -> Vec<&'static str> {
    Provider::ALL
        .iter()
        .flat_map(|p| p.fields().iter())
        .filter(|f| f.kind.is_sealed())
        .map(|f| f.name)
        .collect()
}

fn scalar(s: &Scalar) -> Value {
    match s {
        Scalar::Text(t) => Value::String(t.clone()),
        Scalar::Uuid(b) => Value::String(uuid::Uuid::from_bytes(*b).to_string()),
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(*b),
        Scalar::Number(n) => Value::from(*n),
        Scalar::Array(items) => Value::Array(items.iter().cloned().map(Value::String).collect()),
        Scalar::Object => Value::Object(Map::new()),
    }
}

fn build(body: &Body) -> Vec<u8> {
    let mut map = Map::new();
    for (name, value) in &body.fields {
        let name = match name {
            Name::Id => "id",
            Name::IntegrationId => "integrationId",
            Name::Label => "label",
            Name::Platform => "platform",
            Name::Provider => "provider",
            Name::Other(n) => n.as_str(),
        };
        map.insert(name.to_owned(), scalar(value));
    }
    if let Some(p) = &body.provider {
        let name = match p {
            Pick::Known(i) => Provider::ALL[usize::from(*i) % Provider::ALL.len()]
                .as_str()
                .to_owned(),
            Pick::Other(s) => s.clone(),
        };
        map.insert("provider".into(), Value::String(name));
    }
    match &body.credentials {
        None => {}
        Some(Credentials::Other(v)) => {
            map.insert("credentials".into(), scalar(v));
        }
        Some(Credentials::Object(fields)) => {
            let known = all_fields();
            let mut inner = Map::new();
            for (name, value) in fields {
                let name = match name {
                    CredName::Known(i) => known[usize::from(*i) % known.len()].to_owned(),
                    CredName::Other(s) => s.clone(),
                };
                inner.insert(name, scalar(value));
            }
            map.insert("credentials".into(), Value::Object(inner));
        }
    }
    serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
}

/// The string values of sealed credentials fields, and the same body with each replaced by
/// "x" (`None` when the body holds none or is not a JSON object).
fn secrets_of(bytes: &[u8]) -> Option<(Vec<String>, Vec<u8>)> {
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    let sealed = sealed_fields();
    let creds = value.get_mut("credentials")?.as_object_mut()?;
    let mut secrets = Vec::new();
    for (name, v) in creds.iter_mut() {
        if let (true, Value::String(s)) = (sealed.contains(&name.as_str()), &*v) {
            for form in [s.as_str(), s.trim()] {
                if form.len() >= 8 {
                    secrets.push(form.to_owned());
                }
            }
            *v = Value::String("x".into());
        }
    }
    if secrets.is_empty() {
        return None;
    }
    Some((secrets, serde_json::to_vec(&value).ok()?))
}

/// Everything an error shows: the response body (JSON text and its decoded strings) and
/// `Debug`.
fn shown(e: &ApiError) -> String {
    let body = e
        .error_response()
        .into_body()
        .try_into_bytes()
        .unwrap_or_default();
    let mut out = String::from_utf8_lossy(&body).into_owned();
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        collect_strings(&v, &mut out);
    }
    out.push('\n');
    out.push_str(&format!("{e:?}\n{e}"));
    out
}

fn collect_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push('\n');
            out.push_str(s);
        }
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

type Parser = fn(&[u8]) -> Option<ApiError>;

const PARSERS: [(&str, Parser); 3] = [
    ("create", |b| create_body(b).err()),
    ("update", |b| update_body(b).err()),
    ("verify", |b| verify_body(b).err()),
];

fuzz_target!(|input: Input| {
    let bytes = match &input {
        Input::Raw(b) => b.to_vec(),
        Input::Built(body) => build(body),
    };
    let secrets = secrets_of(&bytes);
    for (name, parse) in PARSERS {
        let Some(error) = parse(&bytes) else { continue };
        let Some((secrets, baseline_body)) = &secrets else {
            // Still render it: the error path must not panic either.
            let _ = shown(&error);
            continue;
        };
        let text = shown(&error);
        let baseline = parse(baseline_body).map(|e| shown(&e)).unwrap_or_default();
        for secret in secrets {
            assert!(
                !text.contains(secret.as_str()) || baseline.contains(secret.as_str()),
                "{name}: the error echoes the secret {secret:?}: {text}"
            );
        }
    }
});
