//! Intercom: `token` (access token), optional `region` (`us` default, `eu`, `au`).

use super::fields::IntercomRegion;
use super::{CredentialReader, FieldSpec, ProviderCredentials, PublicFields, SecretFields};
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct IntercomCredentials {
    pub token: SecretString,
    pub region: IntercomRegion,
}

impl ProviderCredentials for IntercomCredentials {
    const FIELDS: &'static [FieldSpec] = &[
        FieldSpec::secret("token", "An Intercom access token."),
        FieldSpec::public("region", false, "\"us\" (default), \"eu\" or \"au\"."),
    ];

    const SAMPLE: &'static [(&'static str, &'static str)] = &[("token", "tok-intercom")];

    fn read(r: &mut CredentialReader<'_>) -> Option<Self> {
        let token = r.secret("token");
        let region = r.optional("region", IntercomRegion::parse);
        Some(Self {
            token: token?,
            region: region?.unwrap_or_default(),
        })
    }

    fn public_fields(&self, p: &mut PublicFields) {
        p.insert("region", self.region.as_str());
    }

    fn secret_fields(&self, s: &mut SecretFields) {
        s.insert("token", self.token.clone());
    }
}
