//! Help Scout Docs: `apiKey` (the Docs API key; a Mailbox API token is a different credential).

use super::{CredentialReader, FieldSpec, ProviderCredentials, PublicFields, SecretFields};
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct HelpscoutCredentials {
    pub api_key: SecretString,
}

impl ProviderCredentials for HelpscoutCredentials {
    const FIELDS: &'static [FieldSpec] =
        &[FieldSpec::secret("apiKey", "A Help Scout Docs API key.")];

    const SAMPLE: &'static [(&'static str, &'static str)] = &[("apiKey", "key-helpscout")];

    fn read(r: &mut CredentialReader<'_>) -> Option<Self> {
        Some(Self {
            api_key: r.secret("apiKey")?,
        })
    }

    fn public_fields(&self, _: &mut PublicFields) {}

    fn secret_fields(&self, s: &mut SecretFields) {
        s.insert("apiKey", self.api_key.clone());
    }
}
