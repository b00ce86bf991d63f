//! The async facade: `ConnectionVerifier` for `Platform::Helpcenter`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use integrations_domain::credentials::{Email, IntercomRegion, ProjectId, Subdomain};
use integrations_domain::{
    ConnectionVerifier, Credentials, FailureReason, Platform, VerificationFailure,
};
use secrecy::SecretString;

use crate::clients::copy_secret;
use crate::clients::freshdesk::FreshdeskClient;
use crate::clients::helpjuice::HelpjuiceClient;
use crate::clients::helpscout::HelpscoutClient;
use crate::clients::intercom::IntercomClient;
use crate::clients::knowledgeowl::KnowledgeowlClient;
use crate::clients::zendesk::ZendeskClient;
use crate::config::{BaseUrl, ConfigError, HelpcenterConfig};
use crate::http::HttpClient;
use crate::outcome::human;

/// Added to the deadline for the outer guard: ureq's own deadline fires first; the guard only
/// catches a call stuck where ureq's timers do not reach.
const OUTER_MARGIN: Duration = Duration::from_millis(500);

/// Verifies help-center credentials (Zendesk, Intercom, Help Scout, Helpjuice, Freshdesk,
/// KnowledgeOwl). Cheap to clone; all clones share one connection pool.
#[derive(Clone)]
pub struct HelpcenterVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    timeout: Duration,
    zendesk: ZendeskClient,
    intercom: IntercomClient,
    helpscout: HelpscoutClient,
    helpjuice: HelpjuiceClient,
    freshdesk: FreshdeskClient,
    knowledgeowl: KnowledgeowlClient,
}

impl std::fmt::Debug for HelpcenterVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelpcenterVerifier")
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl HelpcenterVerifier {
    /// Checks the templates and builds the shared HTTP client.
    pub fn new(config: HelpcenterConfig) -> Result<Self, ConfigError> {
        if config.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let inner = Inner {
            http: HttpClient::new(config.timeout, config.allow_private_networks),
            timeout: config.timeout,
            zendesk: ZendeskClient {
                base: BaseUrl::parse("zendesk.base_url", &config.zendesk_base_url, true)?,
            },
            intercom: IntercomClient {
                us: BaseUrl::parse("intercom.base_url", &config.intercom_base_url, false)?,
                eu: BaseUrl::parse("intercom.base_url_eu", &config.intercom_base_url_eu, false)?,
                au: BaseUrl::parse("intercom.base_url_au", &config.intercom_base_url_au, false)?,
            },
            helpscout: HelpscoutClient {
                base: BaseUrl::parse("helpscout.base_url", &config.helpscout_base_url, false)?,
            },
            helpjuice: HelpjuiceClient {
                base: BaseUrl::parse("helpjuice.base_url", &config.helpjuice_base_url, true)?,
            },
            freshdesk: FreshdeskClient {
                base: BaseUrl::parse("freshdesk.base_url", &config.freshdesk_base_url, true)?,
            },
            knowledgeowl: KnowledgeowlClient {
                base: BaseUrl::parse(
                    "knowledgeowl.base_url",
                    &config.knowledgeowl_base_url,
                    false,
                )?,
            },
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }
}

/// An owned copy of the credentials, moved to the blocking thread.
enum Job {
    Zendesk {
        email: Email,
        token: SecretString,
        subdomain: Subdomain,
    },
    Intercom {
        token: SecretString,
        region: IntercomRegion,
    },
    Helpscout {
        api_key: SecretString,
    },
    Helpjuice {
        api_key: SecretString,
        subdomain: Subdomain,
    },
    Freshdesk {
        api_key: SecretString,
        subdomain: Subdomain,
    },
    Knowledgeowl {
        api_key: SecretString,
        project: ProjectId,
    },
}

impl Job {
    fn of(credentials: &Credentials) -> Option<Job> {
        Some(match credentials {
            Credentials::Zendesk(c) => Job::Zendesk {
                email: c.username.clone(),
                token: copy_secret(&c.token),
                subdomain: c.subdomain.clone(),
            },
            Credentials::Intercom(c) => Job::Intercom {
                token: copy_secret(&c.token),
                region: c.region,
            },
            Credentials::Helpscout(c) => Job::Helpscout {
                api_key: copy_secret(&c.api_key),
            },
            Credentials::Helpjuice(c) => Job::Helpjuice {
                api_key: copy_secret(&c.api_key),
                subdomain: c.subdomain.clone(),
            },
            Credentials::Freshdesk(c) => Job::Freshdesk {
                api_key: copy_secret(&c.api_key),
                subdomain: c.subdomain.clone(),
            },
            Credentials::Knowledgeowl(c) => Job::Knowledgeowl {
                api_key: copy_secret(&c.api_key),
                project: c.project_id.clone(),
            },
            Credentials::S3(_) | Credentials::R2(_) => return None,
        })
    }
}

impl Inner {
    /// Blocking: runs on the blocking pool.
    fn run(&self, job: Job) -> Result<(), VerificationFailure> {
        let http = &self.http;
        match job {
            Job::Zendesk {
                email,
                token,
                subdomain,
            } => self
                .zendesk
                .verify(http, &email, &token, subdomain.as_str()),
            Job::Intercom { token, region } => self.intercom.verify(http, &token, region),
            Job::Helpscout { api_key } => self.helpscout.verify(http, &api_key),
            Job::Helpjuice { api_key, subdomain } => {
                self.helpjuice.verify(http, &api_key, subdomain.as_str())
            }
            Job::Freshdesk { api_key, subdomain } => {
                self.freshdesk.verify(http, &api_key, subdomain.as_str())
            }
            Job::Knowledgeowl { api_key, project } => {
                self.knowledgeowl.verify(http, &api_key, &project)
            }
        }
    }
}

#[async_trait]
impl ConnectionVerifier for HelpcenterVerifier {
    #[tracing::instrument(skip_all, fields(provider = %credentials.provider()))]
    async fn verify(&self, credentials: &Credentials) -> Result<(), VerificationFailure> {
        let Some(job) = Job::of(credentials) else {
            return Err(VerificationFailure::new(
                FailureReason::ProviderError,
                format!(
                    "{} credentials cannot be verified by the help-center verifier.",
                    credentials.provider()
                ),
            ));
        };
        let inner = Arc::clone(&self.inner);
        let timeout = self.inner.timeout;
        // ureq blocks: run it on the blocking pool, never on an async worker.
        let task = tokio::task::spawn_blocking(move || inner.run(job));
        match tokio::time::timeout(timeout + OUTER_MARGIN, task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(join_error)) => {
                tracing::error!(error = %join_error, "verification task failed");
                Err(VerificationFailure::new(
                    FailureReason::ProviderError,
                    "The verification could not be completed because of an internal error.",
                ))
            }
            Err(_) => {
                tracing::warn!("verification exceeded its deadline");
                Err(VerificationFailure::new(
                    FailureReason::Timeout,
                    format!(
                        "{} did not answer within {}.",
                        credentials.provider(),
                        human(timeout)
                    ),
                ))
            }
        }
    }

    fn supports(&self, platform: Platform) -> bool {
        matches!(platform, Platform::Helpcenter)
    }
}
