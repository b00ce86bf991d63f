//! Helpers shared by the tests: a reqwest client and each provider's good credentials.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use integrations_provider_fakes::{FakeHelpCenters, Provider, GOOD_SECRET, ZENDESK_EMAIL};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

pub fn client() -> Client {
    Client::builder().build().unwrap()
}

pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// The `Authorization` value each provider accepts with `secret`.
pub fn auth(provider: Provider, secret: &str) -> String {
    match provider {
        Provider::Zendesk => basic(&format!("{ZENDESK_EMAIL}/token"), secret),
        Provider::Intercom => format!("Bearer {secret}"),
        Provider::Helpscout | Provider::Freshdesk => basic(secret, "X"),
        Provider::Helpjuice => secret.to_owned(),
        Provider::Knowledgeowl => basic(secret, "x"),
    }
}

/// A GET with the provider's good credentials (and `Intercom-Version` for Intercom).
pub fn get(fake: &FakeHelpCenters, provider: Provider, path_or_url: &str) -> RequestBuilder {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_owned()
    } else {
        format!("{}{path_or_url}", fake.base_url)
    };
    let mut rb = client()
        .get(url)
        .header("Authorization", auth(provider, GOOD_SECRET));
    if provider == Provider::Intercom {
        rb = rb.header("Intercom-Version", "2.11");
    }
    rb
}

pub async fn json(resp: Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"))
}

/// `id` of a JSON article as a string (numbers and strings alike).
pub fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
