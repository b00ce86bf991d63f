//! The SSRF guard and the template rules.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is a failed test

mod support;

use std::time::Duration;

use integrations_domain::credentials::SealedDefaults;
use integrations_domain::credentials::Subdomain;
use integrations_domain::{
    ConnectionVerifier, Credentials, CredentialsInput, FailureReason, Provider,
};
use integrations_helpcenter::{ConfigError, HelpcenterVerifier, ProvidersConfig};
use support::{Reply, Server};

fn zendesk() -> Credentials {
    let input = CredentialsInput::new()
        .with("username", "agent@acme.test")
        .with("token", "good-secret-1234")
        .with("subdomain", "acme");
    Credentials::parse(Provider::Zendesk, &input, SealedDefaults::None).expect("valid")
}

const TIMEOUT: Duration = Duration::from_secs(5);

fn defaults_with(provider: &str, setting: &str, value: &str) -> ProvidersConfig {
    support::default_providers().with(provider, setting, value)
}

fn guarded(template: &str) -> HelpcenterVerifier {
    HelpcenterVerifier::new(TIMEOUT, &defaults_with("zendesk", "base_url", template))
        .expect("config")
}

fn ok_server() -> Server {
    Server::start(|_| Reply::json(200, r#"{"user":{"id":1,"role":"admin"}}"#))
}

#[tokio::test]
async fn loopback_literal_is_refused_with_the_guard_on() {
    let server = ok_server();
    let f = guarded(&server.url())
        .verify(&zendesk())
        .await
        .expect_err("refused");
    assert_eq!(f.reason, FailureReason::Unreachable, "{f}");
    assert!(f.message.contains("not allowed"), "{f}");
    assert_eq!(server.connections(), 0, "no connection may be made");
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused() {
    // `localhost` resolves to 127.0.0.1 (and maybe ::1): checked after resolution.
    let server = ok_server();
    let template = format!("http://localhost:{}", server.port());
    let f = guarded(&template)
        .verify(&zendesk())
        .await
        .expect_err("refused");
    assert_eq!(f.reason, FailureReason::Unreachable, "{f}");
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn ipv4_mapped_ipv6_and_metadata_literals_are_refused() {
    for template in [
        "http://[::ffff:127.0.0.1]:9",
        "http://169.254.169.254",
        "http://[::1]:9",
        "http://10.0.0.1:9",
        "http://100.64.0.1:9",
    ] {
        let f = guarded(template)
            .verify(&zendesk())
            .await
            .expect_err("refused");
        assert_eq!(f.reason, FailureReason::Unreachable, "{template}: {f}");
        assert!(f.message.contains("not allowed"), "{template}: {f}");
    }
}

#[tokio::test]
async fn the_same_server_is_reachable_when_private_networks_are_allowed() {
    let server = ok_server();
    let mut config = defaults_with("zendesk", "base_url", &server.url());
    config.allow_private_networks = true;
    let v = HelpcenterVerifier::new(TIMEOUT, &config).expect("config");
    assert_eq!(v.verify(&zendesk()).await, Ok(()));
}

#[test]
fn hostile_subdomains_never_reach_a_template() {
    // The domain refuses them (422) before any adapter sees them.
    for raw in [
        "evil.com/",
        "evil.com",
        "127.0.0.1",
        "acme.zendesk.com@evil.com",
        "x:80",
        "-acme",
    ] {
        assert!(Subdomain::parse(raw, "zendesk.com").is_err(), "{raw}");
    }
}

#[test]
fn bad_templates_are_refused_at_startup() {
    for bad in [
        "ftp://x.zendesk.com",
        "https://{subdomain}.zendesk.com/?q=1",
        "https://user@{subdomain}.zendesk.com",
        "https://x.zendesk.com/{subdomain}",
        "zendesk.com",
    ] {
        let r = HelpcenterVerifier::new(TIMEOUT, &defaults_with("zendesk", "base_url", bad));
        assert!(
            matches!(
                &r,
                Err(ConfigError::InvalidBaseUrl { setting, .. }) if setting == "zendesk.base_url"
            ),
            "{bad}: {r:?}"
        );
    }
    let r = HelpcenterVerifier::new(
        TIMEOUT,
        &defaults_with("intercom", "base_url", "https://{subdomain}.intercom.io"),
    );
    assert!(r.is_err(), "Intercom has no subdomain");
    let r = HelpcenterVerifier::new(Duration::ZERO, &support::default_providers());
    assert!(matches!(r, Err(ConfigError::ZeroTimeout)));
    // config/default.toml configures every client.
    assert!(HelpcenterVerifier::new(TIMEOUT, &support::default_providers()).is_ok());
    // A provider left out of the configuration is named.
    let mut missing = support::default_providers();
    missing.providers.remove("knowledgeowl");
    let r = HelpcenterVerifier::new(TIMEOUT, &missing);
    assert!(
        matches!(&r, Err(ConfigError::Missing { provider, setting: "base_url" }) if provider == "knowledgeowl"),
        "{r:?}"
    );
}
