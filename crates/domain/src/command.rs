//! Parse, then act: request input turned into typed commands.
//!
//! The API hands over what the client sent ([`IntegrationInput`], [`VerifyInput`]): strings
//! where the body had strings, the `credentials` object as a [`CredentialsInput`]. Each parser
//! here reports every problem at once, each with its JSON path, and yields a command whose
//! fields are already valid; the use cases take only commands.

use crate::credentials::{Credentials, CredentialsInput, SealedDefaults, SecretFields};
use crate::ids::IntegrationId;
use crate::label::Label;
use crate::provider::{Platform, Provider};
use crate::validation::ValidationErrors;

/// The body of a create or update, as sent.
#[derive(Clone, Debug, Default)]
pub struct IntegrationInput {
    pub label: Option<String>,
    pub provider: Option<String>,
    pub platform: Option<String>,
    pub credentials: Option<CredentialsInput>,
}

/// `POST /integration`: a valid label and complete, valid credentials.
#[derive(Clone, Debug)]
pub struct NewIntegration {
    pub label: Label,
    pub credentials: Credentials,
}

impl NewIntegration {
    pub fn parse(input: &IntegrationInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let label = parse_label(input.label.as_deref(), &mut errors);
        let provider = parse_provider(
            input.provider.as_deref(),
            input.platform.as_deref(),
            &mut errors,
        );
        let credentials = match (
            provider,
            required_credentials(&input.credentials, &mut errors),
        ) {
            (Some(p), Some(c)) => Credentials::parse(p, c, SealedDefaults::None)
                .map_err(|e| errors.extend(e))
                .ok(),
            _ => None,
        };
        match (label, credentials) {
            (Some(label), Some(credentials)) if errors.is_empty() => {
                Ok(Self { label, credentials })
            }
            _ => Err(errors),
        }
    }
}

/// `PUT /integration`: label, provider and a credentials input whose every given field is
/// valid. Omitted sealed fields are filled from the stored integration by
/// [`IntegrationChange::credentials`] when the provider is unchanged.
#[derive(Clone, Debug)]
pub struct IntegrationChange {
    pub id: IntegrationId,
    pub label: Label,
    pub provider: Provider,
    credentials: CredentialsInput,
}

impl IntegrationChange {
    pub fn parse(id: IntegrationId, input: &IntegrationInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let label = parse_label(input.label.as_deref(), &mut errors);
        let provider = parse_provider(
            input.provider.as_deref(),
            input.platform.as_deref(),
            &mut errors,
        );
        let credentials = required_credentials(&input.credentials, &mut errors).cloned();
        if let (Some(p), Some(c)) = (provider, &credentials) {
            errors.extend(Credentials::problems(p, c));
        }
        match (label, provider, credentials) {
            (Some(label), Some(provider), Some(credentials)) if errors.is_empty() => Ok(Self {
                id,
                label,
                provider,
                credentials,
            }),
            _ => Err(errors),
        }
    }

    /// The complete credentials: omitted sealed fields come from `stored` (the opened secrets
    /// of the integration when its provider is unchanged, else `None`).
    pub fn credentials(
        &self,
        stored: Option<&SecretFields>,
    ) -> Result<Credentials, ValidationErrors> {
        let defaults = match stored {
            Some(s) => SealedDefaults::Stored(s),
            None => SealedDefaults::None,
        };
        Credentials::parse(self.provider, &self.credentials, defaults)
    }

    /// Whether the client sent a value for every sealed field (a full replacement, which
    /// needs nothing from the stored secrets).
    pub fn replaces_every_secret(&self) -> bool {
        self.provider
            .fields()
            .iter()
            .filter(|s| s.kind.is_sealed())
            .all(|s| {
                matches!(
                    self.credentials.get(s.name),
                    Some(crate::credentials::InputValue::Text(_))
                )
            })
    }
}

/// The body of `POST /integration/verify`, as sent.
#[derive(Clone, Debug, Default)]
pub struct VerifyInput {
    /// `Some(Err(()))` when `integrationId` was sent but is not a UUID.
    pub integration_id: Option<Result<IntegrationId, ()>>,
    pub provider: Option<String>,
    pub platform: Option<String>,
    pub credentials: Option<CredentialsInput>,
}

/// What to check.
#[derive(Clone, Debug)]
pub enum VerifyRequest {
    /// `{integrationId}` (recorded in `lastVerification`), or `{integrationId, credentials}`
    /// whose fields override the stored ones (not recorded). `provider`/`platform`, when sent,
    /// must match the stored integration.
    Stored {
        id: IntegrationId,
        expect_provider: Option<Provider>,
        expect_platform: Option<Platform>,
        overrides: Option<CredentialsInput>,
    },
    /// `{platform, provider, credentials}`, validated as on create.
    Plain(Credentials),
}

impl VerifyRequest {
    pub fn parse(input: &VerifyInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match input.integration_id {
            Some(id) => {
                let expect_provider = input.provider.as_deref().and_then(|p| {
                    p.parse::<Provider>()
                        .map_err(|e| errors.add("provider", e.to_string()))
                        .ok()
                });
                let expect_platform = input.platform.as_deref().and_then(|p| {
                    p.parse::<Platform>()
                        .map_err(|e| errors.add("platform", e.to_string()))
                        .ok()
                });
                let id = id
                    .map_err(|()| errors.add("integrationId", "must be a UUID"))
                    .ok();
                match id {
                    Some(id) if errors.is_empty() => Ok(VerifyRequest::Stored {
                        id,
                        expect_provider,
                        expect_platform,
                        overrides: input.credentials.clone(),
                    }),
                    _ => Err(errors),
                }
            }
            None => {
                let provider = parse_provider(
                    input.provider.as_deref(),
                    input.platform.as_deref(),
                    &mut errors,
                );
                let credentials = match (
                    provider,
                    required_credentials(&input.credentials, &mut errors),
                ) {
                    (Some(p), Some(c)) => Credentials::parse(p, c, SealedDefaults::None)
                        .map_err(|e| errors.extend(e))
                        .ok(),
                    _ => None,
                };
                match credentials {
                    Some(c) if errors.is_empty() => Ok(VerifyRequest::Plain(c)),
                    _ => Err(errors),
                }
            }
        }
    }
}

fn parse_label(label: Option<&str>, errors: &mut ValidationErrors) -> Option<Label> {
    match label.map(Label::parse) {
        None => {
            errors.add("label", "is required");
            None
        }
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
    }
}

/// The provider, checked against the platform when one is sent (the platform is inferred
/// when omitted).
fn parse_provider(
    provider: Option<&str>,
    platform: Option<&str>,
    errors: &mut ValidationErrors,
) -> Option<Provider> {
    let provider = match provider {
        None => {
            errors.add("provider", "is required");
            None
        }
        Some(p) => p
            .parse::<Provider>()
            .map_err(|e| errors.add("provider", e.to_string()))
            .ok(),
    };
    if let Some(raw) = platform {
        match raw.parse::<Platform>() {
            Err(e) => errors.add("platform", e.to_string()),
            Ok(platform) => {
                if let Some(p) = provider.filter(|p| p.platform() != platform) {
                    errors.add(
                        "platform",
                        format!("must be \"{}\" for provider {p}", p.platform()),
                    );
                }
            }
        }
    }
    provider
}

fn required_credentials<'a>(
    credentials: &'a Option<CredentialsInput>,
    errors: &mut ValidationErrors,
) -> Option<&'a CredentialsInput> {
    if credentials.is_none() {
        errors.add("credentials", "is required");
    }
    credentials.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{sample_input, InputValue};

    fn fields(e: &ValidationErrors) -> Vec<&str> {
        e.errors().iter().map(|e| e.field.as_str()).collect()
    }

    fn zendesk() -> IntegrationInput {
        IntegrationInput {
            label: Some("Help".into()),
            provider: Some("zendesk".into()),
            platform: None,
            credentials: Some(sample_input(Provider::Zendesk)),
        }
    }

    #[test]
    fn new_integrations_collect_every_problem() {
        assert!(NewIntegration::parse(&zendesk()).is_ok());
        let mut bad = zendesk();
        bad.label = Some(" ".into());
        bad.platform = Some("cloud".into());
        if let Some(c) = bad.credentials.as_mut() {
            c.insert("token", InputValue::Number);
        }
        let err = NewIntegration::parse(&bad).unwrap_err();
        assert_eq!(fields(&err), vec!["label", "platform", "credentials.token"]);
        let err = NewIntegration::parse(&IntegrationInput::default()).unwrap_err();
        assert_eq!(fields(&err), vec!["label", "provider", "credentials"]);
    }

    #[test]
    fn changes_check_given_fields_now_and_fill_secrets_later() {
        let mut input = zendesk();
        if let Some(c) = input.credentials.as_mut() {
            c.remove("token");
        }
        let change = IntegrationChange::parse(IntegrationId::new(), &input).unwrap();
        assert!(!change.replaces_every_secret());
        assert_eq!(
            fields(&change.credentials(None).unwrap_err()),
            vec!["credentials.token"]
        );
        let stored = Credentials::parse(
            Provider::Zendesk,
            &sample_input(Provider::Zendesk),
            SealedDefaults::None,
        )
        .unwrap()
        .secret_fields();
        assert!(change.credentials(Some(&stored)).is_ok());

        let mut bad = input.clone();
        if let Some(c) = bad.credentials.as_mut() {
            c.insert("subdomain", InputValue::text("https://evil.com"));
        }
        let err = IntegrationChange::parse(IntegrationId::new(), &bad).unwrap_err();
        assert_eq!(fields(&err), vec!["credentials.subdomain"]);
    }

    #[test]
    fn verify_requests() {
        let plain = VerifyInput {
            provider: Some("zendesk".into()),
            credentials: Some(sample_input(Provider::Zendesk)),
            ..VerifyInput::default()
        };
        assert!(matches!(
            VerifyRequest::parse(&plain),
            Ok(VerifyRequest::Plain(_))
        ));
        let stored = VerifyInput {
            integration_id: Some(Ok(IntegrationId::new())),
            provider: Some("nope".into()),
            ..VerifyInput::default()
        };
        assert_eq!(
            fields(&VerifyRequest::parse(&stored).unwrap_err()),
            vec!["provider"]
        );
        let bad_id = VerifyInput {
            integration_id: Some(Err(())),
            ..VerifyInput::default()
        };
        assert_eq!(
            fields(&VerifyRequest::parse(&bad_id).unwrap_err()),
            vec!["integrationId"]
        );
    }
}
