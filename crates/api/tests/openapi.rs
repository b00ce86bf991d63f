//! `GET /openapi.json` against the code and the contract:
//!
//! * what the server serves is byte-equal to the checked-in `docs/openapi.json` (regenerate with
//!   `UPDATE_OPENAPI=1 cargo test -p integrations-api --test openapi`), and it is OpenAPI 3.1;
//! * every route registered in `service()` (read from `src/lib.rs`) is documented, every
//!   documented path and method is answered by a real route, every other method is 405, and an
//!   unknown path is 404 (so neither list can drift silently);
//! * each operation documents exactly the statuses of the contract, with the scope the server
//!   enforces;
//! * real answers of the server (over the domain's in-memory doubles), for every operation and
//!   every provider, and for each error status, are documented and match their schema.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test as actix_test;
use integrations_api::limits::LimitSettings;
use integrations_domain::{FailureReason, Provider, Scope, Scopes, VerificationFailure};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use support::{doubles, doubles_with, respond, Doubles};

const REGENERATE: &str = "UPDATE_OPENAPI=1 cargo test -p integrations-api --test openapi";

// ---------------------------------------------------------------------------------------------
// Talking to the app.

struct Answer {
    status: StatusCode,
    headers: actix_web::http::header::HeaderMap,
    bytes: Vec<u8>,
    json: Value,
}

impl Answer {
    fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

async fn send(d: &Doubles, req: actix_test::TestRequest) -> Answer {
    let (status, headers, bytes) = respond(d, req).await;
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        bytes,
        json,
    }
}

fn request(method: Method, path: &str, key: Option<&str>) -> actix_test::TestRequest {
    let mut req = actix_test::TestRequest::default().method(method).uri(path);
    if let Some(k) = key {
        req = req.insert_header(("Authorization", format!("Bearer {k}")));
    }
    req
}

async fn call(
    d: &Doubles,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let req = request(method, path, key);
    let req = match body {
        Some(b) => req.set_json(b),
        None => req,
    };
    send(d, req).await
}

// ---------------------------------------------------------------------------------------------
// The document.

fn served_document() -> Value {
    serde_json::from_str(integrations_api::openapi::json()).unwrap()
}

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[actix_web::test]
async fn the_served_document_is_the_checked_in_copy() {
    let d = doubles();
    let res = call(&d, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(res.status, 200);
    assert!(res.content_type().starts_with("application/json"));
    let served = String::from_utf8(res.bytes.clone()).unwrap();
    let value: Value = serde_json::from_str(&served).unwrap();
    // What the server sends is already pretty-printed with sorted keys.
    assert_eq!(
        served,
        integrations_api::openapi::canonical(&value),
        "/openapi.json is not in its canonical form (pretty-printed, keys sorted)"
    );

    let path = checked_in_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, &served).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let Ok(stored) = std::fs::read_to_string(&path) else {
        panic!(
            "{} is missing; create it with `{REGENERATE}`",
            path.display()
        );
    };
    // The same document once both are pretty-printed alike (so a file edited by hand, or
    // reformatted by a tool, is caught too)…
    let stored_value: Value = serde_json::from_str(&stored).unwrap_or_else(|e| {
        panic!("docs/openapi.json is not JSON ({e}); regenerate it with `{REGENERATE}`")
    });
    assert!(
        stored_value == value,
        "docs/openapi.json is not the document the server serves; regenerate it with \
         `{REGENERATE}` and review the diff"
    );
    // …and byte for byte.
    if stored != served {
        let line = stored
            .lines()
            .zip(served.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| stored.lines().count().min(served.lines().count()));
        panic!(
            "docs/openapi.json differs from what the server serves (first difference at line {}):\n  \
             file:   {:?}\n  served: {:?}\nRegenerate it with `{REGENERATE}` and review the diff.",
            line + 1,
            stored.lines().nth(line).unwrap_or("<end of file>"),
            served.lines().nth(line).unwrap_or("<end of document>"),
        );
    }
}

#[test]
fn it_is_openapi_3_1_with_the_crate_version_and_no_build_dependent_data() {
    let doc = served_document();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["info"]["title"], "Integration API");
    // Deterministic: two renderings are identical, and no path of this machine leaks in.
    assert_eq!(
        serde_json::to_string(&integrations_api::openapi::document()).unwrap(),
        serde_json::to_string(&integrations_api::openapi::document()).unwrap()
    );
    assert!(!integrations_api::openapi::json().contains(env!("CARGO_MANIFEST_DIR")));
}

#[test]
fn links_name_their_operation_as_openapi_spells_it() {
    let doc = served_document();
    let links = doc["paths"]["/integration"]["post"]["responses"]["200"]["links"]
        .as_object()
        .unwrap();
    assert!(links.len() >= 5, "{links:?}");
    let ids: BTreeSet<String> = operations_of(&doc).into_iter().map(|(id, ..)| id).collect();
    for (name, link) in links {
        let target = link["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {link}"));
        assert!(ids.contains(target), "{name} points at {target}");
        assert!(link.get("operation_id").is_none(), "{name}: {link}");
        assert_eq!(link["parameters"]["id"], "$response.body#/id", "{name}");
    }
}

/// `(METHOD, path)` of every operation of the document.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The path templates of `service()`, read from its source: every `resource("…")`, with
/// actix's `{name:regex}` written as OpenAPI's `{name}`.
fn routes_of_service() -> BTreeSet<String> {
    let source =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
            .unwrap();
    let body = &source[source.find("pub fn service(").unwrap()..];
    let mut out = BTreeSet::new();
    let mut rest = body;
    while let Some(i) = rest.find("resource(\"") {
        rest = &rest[i + "resource(\"".len()..];
        let end = rest.find('"').unwrap();
        let mut template = String::new();
        let mut skipping = false;
        for c in rest[..end].chars() {
            match c {
                ':' if template.contains('{') && !template.ends_with('}') => skipping = true,
                '}' => {
                    skipping = false;
                    template.push(c);
                }
                _ if skipping => {}
                _ => template.push(c),
            }
        }
        out.insert(template);
        rest = &rest[end..];
    }
    out
}

#[test]
fn every_route_of_the_service_is_documented_and_nothing_else() {
    let routes = routes_of_service();
    assert!(routes.len() >= 14, "{routes:?}");
    assert!(
        routes.contains("/integration/{id}/objects/{key}"),
        "{routes:?}"
    );
    let doc = served_document();
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        routes, documented,
        "the routes of service() (src/lib.rs) and the paths of the OpenAPI document differ"
    );
}

/// A concrete path for a template: an id that exists in no account, a plausible key, a real
/// asset of the documentation page.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", "0e5c9c9a-2d4e-4f59-9a4b-3f8a3c2d1e0f")
        .replace("{key}", "2024/a.png")
        .replace("{file}", "swagger-ui.css")
}

#[actix_web::test]
async fn every_documented_operation_is_routed_and_other_methods_are_405() {
    let d = doubles();
    let key = d.key("acme", Scopes::ALL).await;
    let doc = served_document();
    let operations = documented_operations(&doc);
    assert!(operations.len() >= 18, "{operations:?}");
    for (method, template) in &operations {
        let path = concrete(template);
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = send(
            &d,
            request(method.clone(), &path, Some(&key))
                .insert_header(("Content-Type", "image/png"))
                .set_payload("{}"),
        )
        .await;
        assert!(
            !(res.status == 404 && res.json["message"] == "Not found."),
            "{method} {template} is documented but no route answers it"
        );
        assert_ne!(res.status, 405, "{method} {template} answers 405");
    }
    let paths: BTreeSet<&String> = operations.iter().map(|(_, p)| p).collect();
    for template in paths {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if operations.contains(&(method.to_owned(), template.clone())) {
                continue;
            }
            let res = call(
                &d,
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete(template),
                Some(&key),
                None,
            )
            .await;
            assert_eq!(
                res.status, 405,
                "{method} {template} is not documented but answers {}",
                res.status
            );
        }
    }
    // The sentinel the checks above rely on.
    let res = call(&d, Method::GET, "/no/such/route", Some(&key), None).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json["message"], "Not found.");
}

/// The statuses each operation answers, by the contract (API.md sections 2, 3, 6–8, 10).
fn contract_statuses() -> BTreeMap<&'static str, Vec<u16>> {
    let authed = [401, 403, 422, 429, 500];
    let with = |extra: &[u16]| {
        let mut all: Vec<u16> = [200].iter().chain(&authed).chain(extra).copied().collect();
        all.sort_unstable();
        all
    };
    BTreeMap::from([
        ("createIntegration", with(&[501, 503])),
        ("updateIntegration", with(&[404, 501, 503])),
        ("getIntegration", with(&[404, 503])),
        ("listIntegrations", with(&[503])),
        ("deleteIntegration", with(&[404, 503])),
        ("verifyIntegration", with(&[404, 501, 503])),
        ("listIntegrationEvents", with(&[404, 503])),
        ("listAccountEvents", with(&[503])),
        ("putObject", with(&[404, 502, 503, 504])),
        ("deleteObject", with(&[404, 502, 503, 504])),
        ("listImages", with(&[404, 502, 503, 504])),
        ("revealCredentials", with(&[404, 503])),
        ("healthz", vec![200]),
        ("readyz", vec![200, 503]),
        ("metrics", vec![200]),
        ("openapi", vec![200]),
        ("docs", vec![200]),
        ("docsAsset", vec![200, 404]),
    ])
}

/// The scope each operation needs (API.md section 7).
fn contract_scopes() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("createIntegration", "manage"),
        ("updateIntegration", "manage"),
        ("getIntegration", "manage"),
        ("listIntegrations", "manage"),
        ("deleteIntegration", "manage"),
        ("verifyIntegration", "manage"),
        ("listIntegrationEvents", "manage"),
        ("listAccountEvents", "manage"),
        ("putObject", "use"),
        ("deleteObject", "use"),
        ("listImages", "use"),
        ("revealCredentials", "reveal"),
    ])
}

/// Every operation: `(operationId, METHOD, path, operation)`.
fn operations_of(doc: &Value) -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for (method, path) in documented_operations(doc) {
        let op = doc["paths"][&path][method.to_lowercase()].clone();
        let id = op["operationId"].as_str().unwrap().to_owned();
        out.push((id, method, path, op));
    }
    out
}

/// Follows `$ref`s (local ones only).
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        v = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    v
}

fn all_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                }
                all_refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| all_refs(i, out)),
        _ => {}
    }
}

#[test]
fn every_operation_documents_the_statuses_and_scope_of_the_contract() {
    let doc = served_document();
    let mut refs = Vec::new();
    all_refs(&doc, &mut refs);
    for r in &refs {
        assert!(
            doc.pointer(r.trim_start_matches('#')).is_some(),
            "dangling $ref {r}"
        );
    }
    let statuses = contract_statuses();
    let scopes = contract_scopes();
    let operations = operations_of(&doc);
    let ids: BTreeSet<&str> = operations.iter().map(|(id, ..)| id.as_str()).collect();
    assert_eq!(ids, statuses.keys().copied().collect(), "operation ids");
    for (id, method, path, op) in &operations {
        let documented: Vec<u16> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            documented,
            statuses[id.as_str()],
            "{method} {path} ({id}): documented statuses"
        );
        for (status, response) in op["responses"].as_object().unwrap() {
            let response = resolve(&doc, response);
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{id} {status}: no description"
            );
            assert!(
                response["headers"].get("X-Request-Id").is_some(),
                "{id} {status}: X-Request-Id is not documented"
            );
            if status == "429" || (status == "503" && op.get("security").is_some()) {
                assert!(
                    response["headers"].get("Retry-After").is_some(),
                    "{id} {status}: Retry-After is not documented"
                );
            }
        }
        assert!(op["summary"].as_str().is_some(), "{id}: no summary");
        assert!(
            op["tags"].as_array().is_some_and(|t| t.len() == 1),
            "{id}: tags"
        );
        match scopes.get(id.as_str()) {
            Some(scope) => {
                assert_eq!(
                    op["security"],
                    json!([{"bearer": [scope]}]),
                    "{id}: security requirement"
                );
                assert!(
                    op["description"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("**Scope:** `{scope}`")),
                    "{id}: the description does not name the scope"
                );
                let ok = resolve(&doc, &op["responses"]["200"]);
                for h in [
                    "X-RateLimit-Limit",
                    "X-RateLimit-Remaining",
                    "X-RateLimit-Reset",
                ] {
                    assert!(ok["headers"].get(h).is_some(), "{id}: {h}");
                }
            }
            None => assert!(op.get("security").is_none(), "{id} needs no API key"),
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ik_<43 base64url characters>",
            "description": doc["components"]["securitySchemes"]["bearer"]["description"],
        })
    );
    // The enums come from the domain's tables.
    let names = |schema: &str| -> Vec<String> {
        doc["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names("Reason"),
        FailureReason::ALL.map(|r| r.as_str().to_owned()).to_vec()
    );
    assert_eq!(
        names("Provider"),
        Provider::ALL
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect::<Vec<_>>()
    );
    // The credentials schemas come from each provider's field table.
    for &p in Provider::ALL {
        let base = {
            let mut c = p.as_str().chars();
            let first = c.next().unwrap().to_uppercase().to_string();
            first + c.as_str()
        };
        let input = &doc["components"]["schemas"][format!("{base}Credentials")];
        let fields: Vec<&str> = p.fields().iter().map(|f| f.name).collect();
        let properties: BTreeSet<&str> = input["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(properties, fields.iter().copied().collect(), "{p}");
        assert_eq!(input["additionalProperties"], false, "{p}");
        let required: Vec<&str> = p
            .fields()
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        assert_eq!(input["required"], json!(required), "{p}");
    }
}

/// A request of `operation_id` that is valid apart from the scope (the body is read before the
/// use case checks the scope).
fn valid_request(
    operation_id: &str,
    method: &str,
    path: &str,
    key: &str,
) -> actix_test::TestRequest {
    let req = request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        &concrete(path),
        Some(key),
    );
    match operation_id {
        "createIntegration" => req.set_json(sample_body(Provider::Helpscout)),
        "updateIntegration" => req.set_json({
            let mut body = sample_body(Provider::Helpscout);
            body["id"] = json!("0e5c9c9a-2d4e-4f59-9a4b-3f8a3c2d1e0f");
            body
        }),
        "verifyIntegration" => {
            req.set_json(json!({"provider": "helpscout", "credentials": {"apiKey": "k"}}))
        }
        "putObject" => req
            .insert_header(("Content-Type", "image/png"))
            .set_payload(PNG),
        _ => req,
    }
}

#[actix_web::test]
async fn each_scope_is_the_one_the_server_enforces() {
    let d = doubles();
    let doc = served_document();
    for (id, method, path, _) in operations_of(&doc) {
        let Some(scope) = contract_scopes().get(id.as_str()).copied() else {
            continue;
        };
        let scope = Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == scope)
            .unwrap();
        let without = d
            .key(
                "acme",
                Scopes::of(Scope::ALL.into_iter().filter(|s| *s != scope)),
            )
            .await;
        let res = send(&d, valid_request(&id, &method, &path, &without)).await;
        assert_eq!(
            res.status,
            403,
            "{id} without `{}`: {}",
            scope.as_str(),
            res.json
        );
        assert_eq!(
            res.json["message"],
            format!("This API key does not have the '{}' scope.", scope.as_str()),
            "{id}"
        );
        let with = d.key("acme", Scopes::of([scope])).await;
        let res = send(&d, valid_request(&id, &method, &path, &with)).await;
        assert_ne!(res.status, 403, "{id} with `{}`", scope.as_str());
    }
}

// ---------------------------------------------------------------------------------------------
// Real answers against the document.

/// A small JSON Schema check (the keywords the document uses): `$ref`, `allOf`, `anyOf`,
/// `oneOf`, `type`, `enum`, `required`, `properties`, `additionalProperties`, `items`,
/// `minimum`, `maximum`, `minLength`.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(doc, s, value, at, errors);
        }
    }
    for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
            let passing = options
                .iter()
                .filter(|s| {
                    let mut e = Vec::new();
                    validate(doc, s, value, at, &mut e);
                    e.is_empty()
                })
                .count();
            if passing == 0 || (exactly_one && passing > 1) {
                errors.push(format!(
                    "{at}: {passing} of the {keyword} schemas match {value}"
                ));
            }
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let matches = types.iter().any(|t| match *t {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => false,
        });
        if !matches {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if n < min {
            errors.push(format!("{at}: {n} < {min}"));
        }
    }
    if let (Some(max), Some(n)) = (
        schema.get("maximum").and_then(Value::as_f64),
        value.as_f64(),
    ) {
        if n > max {
            errors.push(format!("{at}: {n} > {max}"));
        }
    }
    if let (Some(min), Some(s)) = (
        schema.get("minLength").and_then(Value::as_u64),
        value.as_str(),
    ) {
        if (s.chars().count() as u64) < min {
            errors.push(format!("{at}: shorter than {min}"));
        }
    }
    if let Some(object) = value.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or_default();
            if !object.contains_key(r) {
                errors.push(format!("{at}: `{r}` is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (k, v) in object {
            match properties.and_then(|p| p.get(k)) {
                Some(s) => validate(doc, s, v, &format!("{at}.{k}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{at}: `{k}` is not a documented property"))
                    }
                    Some(s @ Value::Object(_)) => validate(doc, s, v, &format!("{at}.{k}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            validate(doc, items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

/// Checks one real answer of `operation_id` against the document: its status is documented,
/// its content type too, its JSON body matches the schema, its documented headers are there
/// when the server always sends them. Returns the answer's JSON.
fn conforms(doc: &Value, operation_id: &str, res: &Answer) -> Value {
    let (_, method, path, op) = operations_of(doc)
        .into_iter()
        .find(|(id, ..)| id == operation_id)
        .unwrap_or_else(|| panic!("no operation {operation_id}"));
    let status = res.status.as_u16().to_string();
    let Some(response) = op["responses"].get(&status) else {
        panic!(
            "{method} {path} answered {status}, which is not documented: {}",
            String::from_utf8_lossy(&res.bytes)
        );
    };
    let response = resolve(doc, response);
    assert!(
        res.headers.contains_key("x-request-id"),
        "{operation_id} {status}: no X-Request-Id"
    );
    let content_type = res.content_type();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let content = response["content"].as_object().cloned().unwrap_or_default();
    let documented = content
        .iter()
        .find(|(k, _)| k.split(';').next().unwrap_or_default().trim() == media);
    let Some((_, content)) = documented else {
        panic!(
            "{operation_id} {status}: content type {content_type:?} is not documented ({:?})",
            content.keys()
        );
    };
    if media == "application/json" {
        let mut errors = Vec::new();
        validate(doc, &content["schema"], &res.json, "body", &mut errors);
        assert!(
            errors.is_empty(),
            "{operation_id} {status}: the body does not match its schema:\n{}\n{}",
            errors.join("\n"),
            res.json
        );
    }
    for (name, _) in response["headers"].as_object().cloned().unwrap_or_default() {
        let always = name == "X-Request-Id"
            || (name == "Retry-After" && (status == "429" || status == "503"))
            || (name.starts_with("X-RateLimit-") && res.headers.contains_key("x-ratelimit-limit"));
        if always {
            assert!(
                res.headers.contains_key(name.to_lowercase().as_str()),
                "{operation_id} {status}: {name} is documented but missing"
            );
        }
    }
    res.json.clone()
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR0123";

fn sample_body(p: Provider) -> Value {
    let credentials: serde_json::Map<String, Value> = p
        .sample()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    json!({"label": format!("{} sample", p.display_name()), "provider": p.as_str(), "credentials": credentials})
}

#[actix_web::test]
async fn real_answers_of_every_operation_match_the_document() {
    let d = doubles();
    let doc = served_document();
    let key = d.key("acme", Scopes::DEFAULT).await;
    let revealer = d.key("acme", Scopes::of([Scope::Reveal])).await;

    // Every provider: create, read (masked), reveal (clear), list.
    let mut ids = BTreeMap::new();
    for &p in Provider::ALL {
        let res = call(
            &d,
            Method::POST,
            "/integration",
            Some(&key),
            Some(sample_body(p)),
        )
        .await;
        assert_eq!(res.status, 200, "{p}: {}", res.json);
        let id = conforms(&doc, "createIntegration", &res)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = call(
            &d,
            Method::GET,
            &format!("/integration/{id}"),
            Some(&key),
            None,
        )
        .await;
        let body = conforms(&doc, "getIntegration", &res);
        assert_eq!(body["provider"], p.as_str());
        let res = call(
            &d,
            Method::GET,
            &format!("/integration/{id}/credentials"),
            Some(&revealer),
            None,
        )
        .await;
        assert_eq!(res.status, 200);
        conforms(&doc, "revealCredentials", &res);
        ids.insert(p, id);
    }
    let res = call(&d, Method::GET, "/integration?limit=3", Some(&key), None).await;
    assert!(conforms(&doc, "listIntegrations", &res)["nextCursor"].is_string());
    let res = call(
        &d,
        Method::GET,
        "/integration?provider=r2",
        Some(&key),
        None,
    )
    .await;
    assert!(conforms(&doc, "listIntegrations", &res)["nextCursor"].is_null());

    // Update keeping the secrets; verify by id (recorded), by plain credentials, failing.
    let s3 = ids[&Provider::S3].clone();
    let rename = json!({"id": s3, "label": "Renamed", "provider": "s3",
        "credentials": {"bucket": "examplebucket", "prefix": "shots/"}});
    let res = call(&d, Method::PUT, "/integration", Some(&key), Some(rename)).await;
    assert_eq!(res.status, 200, "{}", res.json);
    conforms(&doc, "updateIntegration", &res);
    let res = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(json!({"integrationId": s3})),
    )
    .await;
    assert_eq!(
        conforms(&doc, "verifyIntegration", &res)["isConnectionSuccessful"],
        true
    );
    let res = call(
        &d,
        Method::GET,
        &format!("/integration/{s3}"),
        Some(&key),
        None,
    )
    .await;
    assert!(conforms(&doc, "getIntegration", &res)["lastVerification"]["at"].is_string());
    d.verifier.answer(Some(VerificationFailure::new(
        FailureReason::NotFound,
        "The specified bucket does not exist.",
    )));
    let res = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(json!({"provider": "zendesk", "credentials": {
            "username": "agent@example.org", "token": "t", "subdomain": "acme"}})),
    )
    .await;
    assert_eq!(
        conforms(&doc, "verifyIntegration", &res)["reason"],
        "not_found"
    );
    let res = call(
        &d,
        Method::POST,
        "/integration?verify=true",
        Some(&key),
        Some(sample_body(Provider::Helpscout)),
    )
    .await;
    assert_eq!(res.status, 422);
    assert_eq!(
        conforms(&doc, "createIntegration", &res)["reason"],
        "not_found"
    );
    d.verifier.answer(None);

    // Export and import.
    let put = |path: &str, ct: &str| {
        request(Method::PUT, path, Some(&key))
            .insert_header(("Content-Type", ct))
            .set_payload(PNG)
    };
    let res = send(
        &d,
        put(
            &format!("/integration/{s3}/objects/2024/a.png?presign=60"),
            "image/png",
        ),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.json);
    assert_eq!(conforms(&doc, "putObject", &res)["key"], "shots/2024/a.png");
    let res = send(
        &d,
        put(&format!("/integration/{s3}/objects/b.png"), "text/plain"),
    )
    .await;
    assert_eq!(res.status, 422);
    conforms(&doc, "putObject", &res);
    for (failure, status) in [
        (FailureReason::NotFound, 502),
        (FailureReason::RateLimited, 503),
        (FailureReason::Timeout, 504),
    ] {
        d.objects.fail_with(Some(VerificationFailure::new(
            failure,
            "The provider failed.",
        )));
        let res = send(
            &d,
            put(&format!("/integration/{s3}/objects/c.png"), "image/png"),
        )
        .await;
        assert_eq!(res.status, status, "{}", res.json);
        conforms(&doc, "putObject", &res);
        let res = call(
            &d,
            Method::DELETE,
            &format!("/integration/{s3}/objects/c.png"),
            Some(&key),
            None,
        )
        .await;
        assert_eq!(res.status, status, "{}", res.json);
        conforms(&doc, "deleteObject", &res);
    }
    d.objects.fail_with(None);
    let res = call(
        &d,
        Method::DELETE,
        &format!("/integration/{s3}/objects/2024/a.png"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(res.status, 200);
    conforms(&doc, "deleteObject", &res);
    let zendesk = ids[&Provider::Zendesk].clone();
    d.catalogue.script(3);
    let res = call(
        &d,
        Method::GET,
        &format!("/integration/{zendesk}/images?limit=2"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(
        conforms(&doc, "listImages", &res)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let res = call(
        &d,
        Method::GET,
        &format!("/integration/{s3}/images"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(res.status, 422);
    conforms(&doc, "listImages", &res);

    // Events, delete, the 404 after it.
    let res = call(&d, Method::GET, "/events?limit=5", Some(&key), None).await;
    assert_eq!(
        conforms(&doc, "listAccountEvents", &res)["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let res = call(
        &d,
        Method::GET,
        &format!("/integration/{s3}/events"),
        Some(&key),
        None,
    )
    .await;
    conforms(&doc, "listIntegrationEvents", &res);
    let res = call(
        &d,
        Method::DELETE,
        &format!("/integration/{s3}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(res.status, 200);
    conforms(&doc, "deleteIntegration", &res);
    for (id, method, path) in [
        ("getIntegration", Method::GET, format!("/integration/{s3}")),
        (
            "deleteIntegration",
            Method::DELETE,
            format!("/integration/{s3}"),
        ),
        (
            "revealCredentials",
            Method::GET,
            format!("/integration/{s3}/credentials"),
        ),
        (
            "listImages",
            Method::GET,
            format!("/integration/{s3}/images"),
        ),
    ] {
        let who = if id == "revealCredentials" {
            &revealer
        } else {
            &key
        };
        let res = call(&d, method, &path, Some(who), None).await;
        assert_eq!(res.status, 404, "{id}");
        conforms(&doc, id, &res);
    }
    let res = call(
        &d,
        Method::PUT,
        "/integration",
        Some(&key),
        Some({
            let mut b = sample_body(Provider::S3);
            b["id"] = json!(s3);
            b
        }),
    )
    .await;
    assert_eq!(res.status, 404);
    conforms(&doc, "updateIntegration", &res);

    // Unauthenticated, malformed, forbidden.
    for (id, method, path) in [
        ("listIntegrations", Method::GET, "/integration".to_owned()),
        (
            "getIntegration",
            Method::GET,
            "/integration/not-a-uuid".to_owned(),
        ),
        (
            "listAccountEvents",
            Method::GET,
            "/events?limit=0".to_owned(),
        ),
        (
            "listIntegrationEvents",
            Method::GET,
            "/integration/x/events".to_owned(),
        ),
    ] {
        let res = call(&d, method.clone(), &path, None, None).await;
        assert_eq!(res.status, 401, "{id}");
        conforms(&doc, id, &res);
        let res = call(&d, method, &path, Some(&key), None).await;
        if id != "listIntegrations" {
            assert_eq!(res.status, 422, "{id}: {}", res.json);
        }
        conforms(&doc, id, &res);
    }
    let res = call(
        &d,
        Method::POST,
        "/integration",
        Some(&key),
        Some(json!({"label": 1})),
    )
    .await;
    assert_eq!(res.status, 422);
    conforms(&doc, "createIntegration", &res);
    let res = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(json!({})),
    )
    .await;
    assert_eq!(res.status, 422);
    conforms(&doc, "verifyIntegration", &res);
    let res = call(
        &d,
        Method::GET,
        &format!("/integration/{zendesk}/credentials"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(res.status, 403);
    conforms(&doc, "revealCredentials", &res);

    // A bug in an adapter: 500 with the request id.
    d.verifier.before_answer(|| panic!("a bug in an adapter"));
    let res = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(json!({"provider": "helpscout", "credentials": {"apiKey": "k"}})),
    )
    .await;
    assert_eq!(res.status, 500);
    conforms(&doc, "verifyIntegration", &res);
}

#[actix_web::test]
async fn operations_answers_match_the_document() {
    let d = doubles();
    let doc = served_document();
    for (id, path) in [
        ("healthz", "/healthz"),
        ("readyz", "/readyz"),
        ("metrics", "/metrics"),
        ("openapi", "/openapi.json"),
        ("docs", "/docs"),
    ] {
        let res = call(&d, Method::GET, path, None, None).await;
        assert_eq!(res.status, 200, "{path}");
        conforms(&doc, id, &res);
    }
    for file in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "favicon-32x32.png",
    ] {
        let res = call(&d, Method::GET, &format!("/docs/{file}"), None, None).await;
        assert_eq!(res.status, 200, "{file}");
        assert!(res.bytes.len() > 100, "{file}");
        conforms(&doc, "docsAsset", &res);
    }
    let res = call(&d, Method::GET, "/docs/../Cargo.toml", None, None).await;
    assert_eq!(res.status, 404);
    let res = call(&d, Method::GET, "/docs/index.html", None, None).await;
    assert_eq!(res.status, 404);
    conforms(&doc, "docsAsset", &res);

    // The database goes away: readiness and every authenticated operation answer 503.
    let key = d.key("acme", Scopes::DEFAULT).await;
    d.repo.set_available(false);
    let res = call(&d, Method::GET, "/readyz", None, None).await;
    assert_eq!(res.status, 503);
    conforms(&doc, "readyz", &res);
    let res = call(&d, Method::GET, "/integration", Some(&key), None).await;
    assert_eq!(res.status, 503);
    conforms(&doc, "listIntegrations", &res);
}

#[actix_web::test]
async fn rate_limited_answers_match_the_document() {
    let d = doubles_with(LimitSettings {
        requests_per_minute: 2,
        outbound_per_minute: 1,
        outbound_concurrency_per_account: 8,
    });
    let doc = served_document();
    let key = d.key("acme", Scopes::DEFAULT).await;
    let verify = json!({"provider": "helpscout", "credentials": {"apiKey": "k"}});
    let res = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(verify.clone()),
    )
    .await;
    assert_eq!(res.status, 200);
    conforms(&doc, "verifyIntegration", &res);
    let res = call(
        &d,
        Method::POST,
        "/integration/verify",
        Some(&key),
        Some(verify),
    )
    .await;
    assert_eq!(res.status, 429);
    conforms(&doc, "verifyIntegration", &res);
    let res = call(&d, Method::GET, "/events", Some(&key), None).await;
    assert_eq!(res.status, 429);
    conforms(&doc, "listAccountEvents", &res);
}
