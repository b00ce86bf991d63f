//! KnowledgeOwl: `apiKey` and `projectId` (the knowledge base id).

use super::fields::ProjectId;
use super::{CredentialReader, FieldSpec, ProviderCredentials, PublicFields, SecretFields};
use secrecy::SecretString;

#[derive(Clone, Debug)]
pub struct KnowledgeowlCredentials {
    pub api_key: SecretString,
    pub project_id: ProjectId,
}

impl ProviderCredentials for KnowledgeowlCredentials {
    const FIELDS: &'static [FieldSpec] = &[
        FieldSpec::secret("apiKey", "A KnowledgeOwl API key."),
        FieldSpec::public("projectId", true, "The knowledge base (project) id."),
    ];

    const SAMPLE: &'static [(&'static str, &'static str)] = &[
        ("apiKey", "key-knowledgeowl"),
        ("projectId", "5f1e2d3c4b5a69788796a5b4"),
    ];

    fn read(r: &mut CredentialReader<'_>) -> Option<Self> {
        let api_key = r.secret("apiKey");
        let project_id = r.field("projectId", ProjectId::parse);
        Some(Self {
            api_key: api_key?,
            project_id: project_id?,
        })
    }

    fn public_fields(&self, p: &mut PublicFields) {
        p.insert("projectId", self.project_id.as_str());
    }

    fn secret_fields(&self, s: &mut SecretFields) {
        s.insert("apiKey", self.api_key.clone());
    }
}
