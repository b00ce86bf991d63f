//! Helpjuice: `subdomain` (bare name or the URL copied from the browser) and `apiKey`.

use super::fields::Subdomain;
use super::{CredentialReader, FieldSpec, ProviderCredentials, PublicFields, SecretFields};
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct HelpjuiceCredentials {
    pub subdomain: Subdomain,
    pub api_key: SecretString,
}

impl ProviderCredentials for HelpjuiceCredentials {
    const FIELDS: &'static [FieldSpec] = &[
        FieldSpec::public(
            "subdomain",
            true,
            "\"acme\" or \"https://acme.helpjuice.com\".",
        ),
        FieldSpec::secret("apiKey", "A Helpjuice API key."),
    ];

    const SAMPLE: &'static [(&'static str, &'static str)] =
        &[("subdomain", "acme"), ("apiKey", "key-helpjuice")];

    fn read(r: &mut CredentialReader<'_>) -> Option<Self> {
        let subdomain = r.field("subdomain", |v| Subdomain::parse(v, "helpjuice.com"));
        let api_key = r.secret("apiKey");
        Some(Self {
            subdomain: subdomain?,
            api_key: api_key?,
        })
    }

    fn public_fields(&self, p: &mut PublicFields) {
        p.insert("subdomain", self.subdomain.as_str());
    }

    fn secret_fields(&self, s: &mut SecretFields) {
        s.insert("apiKey", self.api_key.clone());
    }
}
