//! Using the stored credentials (API.md section 6): export to a bucket, delete an exported
//! object, import the images of a help center, and reveal the credentials to a worker that
//! must hold them. Each opens the secrets only for the call, records an audit event, and never
//! returns a secret except through `reveal` (scope `reveal`).

use super::ServiceError;
use crate::access::Scope;
use crate::audit::{Action, Actor};
use crate::credentials::Credentials;
use crate::ids::IntegrationId;
use crate::integration::IntegrationRecord;
use crate::ports::{
    AuditLog, CredentialVault, HelpCenterCatalogue, IntegrationRepository, ObjectStore, SealContext,
};
use crate::provider::{Platform, Provider};
use crate::transfer::{
    BodyError, ByteStream, ContentType, DeletedObject, ImageRef, ObjectKey, ObjectWrite,
    StoredObject,
};
use crate::validation::ValidationErrors;
use crate::verification::VerificationFailure;
use bytes::Bytes;
use futures_util::StreamExt;
use secrecy::SecretString;
use std::time::Duration;

/// The longest a presigned URL may live (S3's own limit, seven days).
pub const MAX_PRESIGN: Duration = Duration::from_secs(604_800);

/// An export request, as parsed by the API.
pub struct ExportRequest {
    pub id: IntegrationId,
    pub key: ObjectKey,
    pub content_type: ContentType,
    /// The declared length (`Content-Length`).
    pub length: u64,
    pub body: ByteStream,
    pub presign: Option<Duration>,
}

/// One page of an import and the cursor of the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPage {
    pub items: Vec<ImageRef>,
    /// Sealed, bound to the account and the integration; `None` at the end.
    pub next_cursor: Option<String>,
}

/// The credentials in clear, for `GET /integration/{id}/credentials`.
pub struct Revealed {
    pub id: IntegrationId,
    pub provider: Provider,
    pub fields: Vec<(&'static str, SecretString)>,
}

/// Export, import and reveal.
pub struct TransferService<R, V, O, H> {
    repository: R,
    vault: V,
    objects: O,
    catalogue: H,
    max_object_bytes: u64,
    meter: std::sync::Arc<dyn crate::ports::Meter>,
}

fn reason_of<T>(r: &Result<T, ServiceError>) -> Result<(), crate::verification::FailureReason> {
    match r {
        Err(ServiceError::Provider(f)) => Err(f.reason),
        _ => Ok(()),
    }
}

impl<R, V, O, H> TransferService<R, V, O, H>
where
    R: IntegrationRepository + AuditLog,
    V: CredentialVault,
    O: ObjectStore,
    H: HelpCenterCatalogue,
{
    /// `max_object_bytes`: the largest object an export accepts (`export.max_object_bytes`).
    pub fn new(repository: R, vault: V, objects: O, catalogue: H, max_object_bytes: u64) -> Self {
        Self {
            repository,
            vault,
            objects,
            catalogue,
            max_object_bytes,
            meter: std::sync::Arc::new(crate::ports::NoMeter),
        }
    }

    /// Reports every export, object delete and import to `meter`.
    pub fn with_meter(mut self, meter: std::sync::Arc<dyn crate::ports::Meter>) -> Self {
        self.meter = meter;
        self
    }

    pub fn max_object_bytes(&self) -> u64 {
        self.max_object_bytes
    }

    /// Writes an object to the integration's bucket (under its `prefix`), after checking the
    /// declared type against the body's first bytes. Nothing is written on any refusal.
    pub async fn export(
        &self,
        actor: &Actor,
        request: ExportRequest,
    ) -> Result<StoredObject, ServiceError> {
        actor.principal.require(Scope::Use)?;
        let ExportRequest {
            id,
            key,
            content_type,
            length,
            body,
            presign,
        } = request;
        let mut errors = ValidationErrors::new();
        if length > self.max_object_bytes {
            errors.add(
                "body",
                format!("must be at most {} bytes", self.max_object_bytes),
            );
        }
        if length == 0 {
            errors.add("body", "must not be empty");
        }
        if presign.is_some_and(|d| d.is_zero() || d > MAX_PRESIGN) {
            errors.add("presign", "must be a number of seconds from 1 to 604800");
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let record = self.cloud(actor, id).await?;
        let credentials = self.credentials(&record).await?;
        let full_key = key
            .under(prefix(&credentials))
            .map_err(|m| ValidationErrors::single("key", m))?;
        let body = sniffed(body, content_type, length).await?;
        let started = std::time::Instant::now();
        let result = self
            .objects
            .put(
                &credentials,
                ObjectWrite {
                    key: full_key,
                    content_type,
                    length,
                    body,
                    presign,
                },
            )
            .await
            .map_err(ServiceError::Provider);
        self.meter.provider_call(
            Action::Exported,
            record.provider,
            reason_of(&result),
            started.elapsed(),
        );
        self.record(actor, Action::Exported, id, reason_of(&result))
            .await;
        result
    }

    /// Deletes an object from the integration's bucket (also when it did not exist).
    pub async fn delete_object(
        &self,
        actor: &Actor,
        id: IntegrationId,
        key: ObjectKey,
    ) -> Result<DeletedObject, ServiceError> {
        actor.principal.require(Scope::Use)?;
        let record = self.cloud(actor, id).await?;
        let credentials = self.credentials(&record).await?;
        let full_key = key
            .under(prefix(&credentials))
            .map_err(|m| ValidationErrors::single("key", m))?;
        let started = std::time::Instant::now();
        let result = self
            .objects
            .delete(&credentials, &full_key)
            .await
            .map_err(ServiceError::Provider);
        self.meter.provider_call(
            Action::DeletedObject,
            record.provider,
            reason_of(&result),
            started.elapsed(),
        );
        self.record(actor, Action::DeletedObject, id, reason_of(&result))
            .await;
        result
    }

    /// One page of the images of the integration's help center. `cursor` is a `next_cursor`
    /// of an earlier page of the same integration; anything else is a 422 naming `cursor`.
    pub async fn images(
        &self,
        actor: &Actor,
        id: IntegrationId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ImportPage, ServiceError> {
        actor.principal.require(Scope::Use)?;
        let record = self.get(actor, id).await?;
        if record.platform() != Platform::Helpcenter {
            return Err(ValidationErrors::single(
                "id",
                "import needs a help-center integration; this one is cloud storage",
            )
            .into());
        }
        let context = cursor_context(&record);
        let position = match cursor {
            None => None,
            Some(c) => Some(self.vault.open_token(&context, c).map_err(|_| {
                ValidationErrors::single(
                    "cursor",
                    "is not a cursor returned by this API for this integration",
                )
            })?),
        };
        let credentials = self.credentials(&record).await?;
        let started = std::time::Instant::now();
        let result = self
            .catalogue
            .images(&credentials, position.as_deref(), limit)
            .await
            .map_err(ServiceError::Provider);
        self.meter.provider_call(
            Action::Imported,
            record.provider,
            reason_of(&result),
            started.elapsed(),
        );
        self.record(actor, Action::Imported, id, reason_of(&result))
            .await;
        let page = result?;
        let next_cursor = page
            .next
            .map(|p| self.vault.seal_token(&context, &p))
            .transpose()?;
        Ok(ImportPage {
            items: page.items,
            next_cursor,
        })
    }

    /// The stored credentials in clear (scope `reveal`), recorded in the audit trail.
    pub async fn reveal(&self, actor: &Actor, id: IntegrationId) -> Result<Revealed, ServiceError> {
        actor.principal.require(Scope::Reveal)?;
        let record = self.get(actor, id).await?;
        let credentials = self.credentials(&record).await;
        self.record(
            actor,
            Action::Revealed,
            id,
            credentials
                .as_ref()
                .map(|_| ())
                .map_err(|_| crate::verification::FailureReason::ProviderError),
        )
        .await;
        let credentials = credentials?;
        tracing::info!(integration_id = %id, key_id = %actor.principal.key_id, "credentials revealed");
        Ok(Revealed {
            id,
            provider: record.provider,
            fields: credentials.revealed(),
        })
    }

    async fn get(
        &self,
        actor: &Actor,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, ServiceError> {
        Ok(self.repository.get(actor.account(), id).await?)
    }

    async fn cloud(
        &self,
        actor: &Actor,
        id: IntegrationId,
    ) -> Result<IntegrationRecord, ServiceError> {
        let record = self.get(actor, id).await?;
        if record.platform() != Platform::Cloud {
            return Err(ValidationErrors::single(
                "id",
                "export needs a cloud integration; this one is a help center",
            )
            .into());
        }
        Ok(record)
    }

    async fn credentials(&self, record: &IntegrationRecord) -> Result<Credentials, ServiceError> {
        let sealed = self
            .vault
            .open(&SealContext::of(record), &record.sealed)
            .await?;
        Credentials::from_stored(record.provider, &record.public_fields, &sealed)
            .map_err(|e| ServiceError::internal(format!("stored credentials no longer parse: {e}")))
    }

    /// An action that reached a provider: recorded whatever its outcome (best effort).
    async fn record(
        &self,
        actor: &Actor,
        action: Action,
        id: IntegrationId,
        outcome: Result<(), crate::verification::FailureReason>,
    ) {
        let event = actor.event(action, Some(id), outcome);
        if let Err(e) = self.repository.append(&event).await {
            tracing::error!(error = %e, %action, "could not record an audit event");
        }
    }
}

fn prefix(credentials: &Credentials) -> Option<&str> {
    match credentials {
        Credentials::S3(c) => c.prefix.as_ref().map(|p| p.as_str()),
        Credentials::R2(c) => c.prefix.as_ref().map(|p| p.as_str()),
        _ => None,
    }
}

/// What an import cursor is bound to: the account and the integration.
fn cursor_context(record: &IntegrationRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    out.extend_from_slice(b"import|");
    out.extend_from_slice(record.account_id.as_uuid().as_bytes());
    out.extend_from_slice(record.id.as_uuid().as_bytes());
    out
}

/// Reads the first bytes of `body` (as few chunks as it takes), checks them against the
/// declared type (422 naming `body` when they do not match), and gives back a stream that
/// yields everything, those bytes first, and refuses to yield more than `length` bytes.
async fn sniffed(
    mut body: ByteStream,
    content_type: ContentType,
    length: u64,
) -> Result<ByteStream, ServiceError> {
    let need = (ContentType::SNIFF_BYTES as u64).min(length) as usize;
    let mut head: Vec<Bytes> = Vec::new();
    let mut seen = 0usize;
    while seen < need {
        match body.next().await {
            Some(Ok(chunk)) => {
                seen += chunk.len();
                head.push(chunk);
            }
            Some(Err(e)) => {
                return Err(ValidationErrors::single("body", e.to_string()).into());
            }
            None => break,
        }
    }
    let mut first = Vec::with_capacity(seen.min(ContentType::SNIFF_BYTES));
    for chunk in &head {
        let take = (ContentType::SNIFF_BYTES - first.len()).min(chunk.len());
        first.extend_from_slice(&chunk[..take]);
        if first.len() == ContentType::SNIFF_BYTES {
            break;
        }
    }
    if !content_type.matches(&first) {
        return Err(ValidationErrors::single(
            "body",
            format!("is not {content_type}: its first bytes do not match the declared type"),
        )
        .into());
    }
    let replay = futures_util::stream::iter(head.into_iter().map(Ok));
    let mut sent = 0u64;
    let bounded = replay.chain(body).map(move |chunk| {
        let chunk = chunk?;
        sent += chunk.len() as u64;
        if sent > length {
            return Err(BodyError(format!(
                "the body is longer than its declared length of {length} bytes"
            )));
        }
        Ok(chunk)
    });
    Ok(Box::pin(bounded))
}

/// The status an API gives a provider failure: 503 for the provider's rate limit, 504 for its
/// deadline, 502 for the rest.
pub fn provider_status(f: &VerificationFailure) -> u16 {
    match f.reason {
        crate::verification::FailureReason::RateLimited => 503,
        crate::verification::FailureReason::Timeout => 504,
        _ => 502,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{KeyId, Principal, Scopes};
    use crate::audit::EventQuery;
    use crate::command::{IntegrationInput, NewIntegration};
    use crate::credentials::sample_input;
    use crate::ids::AccountId;
    use crate::service::IntegrationService;
    use crate::testing::{
        InMemoryObjects, InMemoryRepository, ReversibleVault, ScriptedCatalogue, ScriptedVerifier,
    };
    use crate::verification::FailureReason;
    use secrecy::ExposeSecret;
    use std::sync::Arc;

    type Svc = TransferService<
        Arc<InMemoryRepository>,
        Arc<ReversibleVault>,
        Arc<InMemoryObjects>,
        Arc<ScriptedCatalogue>,
    >;

    struct World {
        svc: Svc,
        integrations:
            IntegrationService<Arc<InMemoryRepository>, Arc<ReversibleVault>, ScriptedVerifier>,
        objects: Arc<InMemoryObjects>,
        catalogue: Arc<ScriptedCatalogue>,
        actor: Actor,
    }

    fn world(scopes: Scopes) -> World {
        let repo = Arc::new(InMemoryRepository::new());
        let vault = Arc::new(ReversibleVault::default());
        let objects = Arc::new(InMemoryObjects::new());
        let catalogue = Arc::new(ScriptedCatalogue::new());
        World {
            svc: TransferService::new(
                repo.clone(),
                vault.clone(),
                objects.clone(),
                catalogue.clone(),
                1024,
            ),
            integrations: IntegrationService::new(repo, vault, ScriptedVerifier::new()),
            objects,
            catalogue,
            actor: Actor::new(Principal {
                account: AccountId::new(),
                key_id: KeyId::parse("transfer").unwrap(),
                scopes,
            }),
        }
    }

    async fn create(w: &World, provider: Provider, extra: &[(&str, &str)]) -> IntegrationId {
        let mut creds = sample_input(provider);
        for (k, v) in extra {
            creds = creds.with(k, v);
        }
        let input = IntegrationInput {
            label: Some("x".into()),
            provider: Some(provider.as_str().into()),
            platform: None,
            credentials: Some(creds),
        };
        let mut admin = w.actor.clone();
        admin.principal.scopes = Scopes::ALL;
        w.integrations
            .create(&admin, NewIntegration::parse(&input).unwrap(), false)
            .await
            .unwrap()
            .id
    }

    fn body(parts: &[&[u8]]) -> (ByteStream, u64) {
        let len = parts.iter().map(|p| p.len() as u64).sum();
        let chunks: Vec<Result<Bytes, BodyError>> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        (Box::pin(futures_util::stream::iter(chunks)), len)
    }

    fn export(id: IntegrationId, key: &str, ct: ContentType, parts: &[&[u8]]) -> ExportRequest {
        let (body, length) = body(parts);
        ExportRequest {
            id,
            key: ObjectKey::parse(key).unwrap(),
            content_type: ct,
            length,
            body,
            presign: None,
        }
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn fields(e: ServiceError) -> Vec<String> {
        match e {
            ServiceError::Validation(v) => v.errors().iter().map(|e| e.field.clone()).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn export_writes_under_the_prefix_after_the_magic_check() {
        let w = world(Scopes::DEFAULT);
        let id = create(&w, Provider::S3, &[("prefix", "shots/")]).await;
        // The magic number split over two chunks.
        let stored = w
            .svc
            .export(
                &w.actor,
                export(
                    id,
                    "2024/a.png",
                    ContentType::Png,
                    &[&PNG[..3], &PNG[3..], b"rest"],
                ),
            )
            .await
            .unwrap();
        assert_eq!(stored.key, "shots/2024/a.png");
        assert_eq!(
            w.objects.get("examplebucket", "shots/2024/a.png").unwrap(),
            [PNG, b"rest"].concat()
        );
        let err = w
            .svc
            .export(&w.actor, export(id, "b.png", ContentType::Jpeg, &[PNG]))
            .await
            .unwrap_err();
        assert_eq!(fields(err), vec!["body"]);
        assert!(
            w.objects.get("examplebucket", "shots/b.png").is_none(),
            "nothing written"
        );
        let big = vec![0u8; 2000];
        let err = w
            .svc
            .export(
                &w.actor,
                export(id, "c.png", ContentType::Png, &[PNG, &big]),
            )
            .await
            .unwrap_err();
        assert_eq!(fields(err), vec!["body"]);
        let events = w
            .integrations
            .events(
                &{
                    let mut a = w.actor.clone();
                    a.principal.scopes = Scopes::ALL;
                    a
                },
                &EventQuery::default(),
            )
            .await
            .unwrap();
        assert_eq!(events.items[0].action, Action::Exported);
    }

    #[tokio::test]
    async fn export_needs_a_cloud_integration_and_the_use_scope() {
        let w = world(Scopes::DEFAULT);
        let id = create(&w, Provider::Zendesk, &[]).await;
        let err = w
            .svc
            .export(&w.actor, export(id, "a.png", ContentType::Png, &[PNG]))
            .await
            .unwrap_err();
        assert_eq!(fields(err), vec!["id"]);
        let manage_only = world(Scopes::of([Scope::Manage]));
        let id = create(&manage_only, Provider::S3, &[]).await;
        assert!(matches!(
            manage_only
                .svc
                .export(
                    &manage_only.actor,
                    export(id, "a.png", ContentType::Png, &[PNG])
                )
                .await,
            Err(ServiceError::Forbidden(Scope::Use))
        ));
    }

    #[tokio::test]
    async fn provider_failures_are_events_and_errors() {
        let w = world(Scopes::DEFAULT);
        let id = create(&w, Provider::R2, &[]).await;
        w.objects.fail_with(Some(VerificationFailure::new(
            FailureReason::NotFound,
            "The specified bucket does not exist.",
        )));
        let err = w
            .svc
            .export(&w.actor, export(id, "a.png", ContentType::Png, &[PNG]))
            .await
            .unwrap_err();
        let ServiceError::Provider(f) = err else {
            panic!("a provider failure")
        };
        assert_eq!(provider_status(&f), 502);
    }

    #[tokio::test]
    async fn import_pages_carry_sealed_cursors_bound_to_the_integration() {
        let w = world(Scopes::DEFAULT);
        let id = create(&w, Provider::Zendesk, &[]).await;
        let other = create(&w, Provider::Zendesk, &[]).await;
        w.catalogue.script(5);
        let first = w.svc.images(&w.actor, id, 2, None).await.unwrap();
        assert_eq!(first.items.len(), 2);
        let cursor = first.next_cursor.unwrap();
        let second = w.svc.images(&w.actor, id, 2, Some(&cursor)).await.unwrap();
        assert_eq!(second.items[0].image_url, "https://acme.example/2.png");
        // Another integration's cursor, or a forged one: 422 naming the cursor.
        for bad in [cursor.as_str(), "forged"] {
            let err = w
                .svc
                .images(&w.actor, other, 2, Some(bad))
                .await
                .unwrap_err();
            assert_eq!(fields(err), vec!["cursor"], "{bad}");
        }
        let cloud = create(&w, Provider::S3, &[]).await;
        assert_eq!(
            fields(w.svc.images(&w.actor, cloud, 2, None).await.unwrap_err()),
            vec!["id"]
        );
    }

    #[tokio::test]
    async fn reveal_needs_its_scope() {
        let w = world(Scopes::DEFAULT);
        let id = create(&w, Provider::Zendesk, &[]).await;
        assert!(matches!(
            w.svc.reveal(&w.actor, id).await,
            Err(ServiceError::Forbidden(Scope::Reveal))
        ));
        let mut revealer = w.actor.clone();
        revealer.principal.scopes = Scopes::of([Scope::Reveal]);
        let r = w.svc.reveal(&revealer, id).await.unwrap();
        let token = r.fields.iter().find(|(k, _)| *k == "token").unwrap();
        assert_eq!(token.1.expose_secret(), "tok-zendesk");
    }
}
