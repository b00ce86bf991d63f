//! Embedding the domain in another Rust service, without HTTP: wire adapters into the
//! services and call the use cases. Here the adapters are the in-memory doubles of the
//! `testing` feature; a real service swaps in the `integrations-store`,
//! `integrations-vault` and verifier crates (or its own implementations of the ports, checked
//! with `integrations_domain::testing::contract`).
//!
//! `cargo run -p integrations-domain --example embed --features testing`

use integrations_domain::testing::{
    CountingEntropy, InMemoryRepository, ReversibleVault, ScriptedVerifier,
};
use integrations_domain::{
    AccessService, AccountName, Actor, CredentialsInput, IntegrationInput, IntegrationService,
    NewIntegration, Scopes, VerifyRequest,
};
use std::sync::Arc;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(InMemoryRepository::new());
    let access = AccessService::new(
        store.clone(),
        CountingEntropy::default(),
        Duration::from_secs(2),
    );
    let integrations = IntegrationService::new(
        store.clone(),
        ReversibleVault::default(),
        Arc::new(ScriptedVerifier::new()),
    );

    // A key for an account, and the caller it authenticates as.
    let (key, _) = access
        .create_key(
            &AccountName::parse("acme")?,
            Scopes::DEFAULT,
            Some("embedded".into()),
        )
        .await?;
    let actor = Actor::new(access.authenticate(Some(key.expose())).await?);

    // Create: parse the input into a typed command first (every problem at once).
    let input = IntegrationInput {
        label: Some("Support center".into()),
        provider: Some("zendesk".into()),
        platform: None,
        credentials: Some(
            CredentialsInput::new()
                .with("username", "agent@example.org")
                .with("token", "zendesk-api-token")
                .with("subdomain", "https://acme.zendesk.com"),
        ),
    };
    let created = integrations
        .create(&actor, NewIntegration::parse(&input)?, false)
        .await?;
    println!("created {}", created.id);

    // Get: credentials come back masked.
    let view = integrations.get(&actor, created.id).await?;
    println!("read back {:?}", view.credentials);

    // Verify the stored credentials (recorded as lastVerification).
    let verification = integrations
        .verify(
            &actor,
            VerifyRequest::Stored {
                id: created.id,
                expect_provider: None,
                expect_platform: None,
                overrides: None,
            },
        )
        .await?;
    println!("verified: {}", verification.message());

    // Delete.
    integrations.delete(&actor, created.id).await?;
    println!("deleted");
    Ok(())
}

#[cfg(test)]
#[test]
fn the_example_runs() {
    let result = main();
    assert!(result.is_ok(), "{result:?}");
}
