//! Zendesk: `username` (the agent's e-mail), `token` (API token), `subdomain` (bare name or
//! the URL copied from the browser).

use super::fields::{Email, Subdomain};
use super::{CredentialReader, FieldSpec, ProviderCredentials, PublicFields, SecretFields};
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct ZendeskCredentials {
    pub username: Email,
    pub token: SecretString,
    pub subdomain: Subdomain,
}

impl ProviderCredentials for ZendeskCredentials {
    const FIELDS: &'static [FieldSpec] = &[
        FieldSpec::public("username", true, "The agent's e-mail address."),
        FieldSpec::secret("token", "A Zendesk API token."),
        FieldSpec::public(
            "subdomain",
            true,
            "\"acme\" or \"https://acme.zendesk.com\".",
        ),
    ];

    const SAMPLE: &'static [(&'static str, &'static str)] = &[
        ("username", "agent@example.org"),
        ("token", "tok-zendesk"),
        ("subdomain", "acme"),
    ];

    fn read(r: &mut CredentialReader<'_>) -> Option<Self> {
        let username = r.field("username", Email::parse);
        let token = r.secret("token");
        let subdomain = r.field("subdomain", |v| Subdomain::parse(v, "zendesk.com"));
        Some(Self {
            username: username?,
            token: token?,
            subdomain: subdomain?,
        })
    }

    fn public_fields(&self, p: &mut PublicFields) {
        p.insert("username", self.username.as_str());
        p.insert("subdomain", self.subdomain.as_str());
    }

    fn secret_fields(&self, s: &mut SecretFields) {
        s.insert("token", self.token.clone());
    }
}
