//! From an answer (or its absence) to a `VerificationFailure`: the rules shared by all
//! providers. Provider clients only add what is specific to them (what success looks like,
//! which credential a 401 refers to).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use integrations_domain::{FailureReason, Provider, VerificationFailure};
use integrations_outbound::{Scrubber, UrlTemplate};

use crate::http::{Answer, Http, Request, TransportError};

/// The wait passed on when a provider rate limits without saying how long (API.md section 6).
pub(crate) const DEFAULT_RETRY_AFTER: u64 = 60;

/// Longest piece of a provider's own error text quoted in a message.
const MAX_QUOTED: usize = 200;
/// A `X-RateLimit-Reset` above this is a UNIX time (Intercom), below it a number of seconds
/// (Help Scout).
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// Who we talk to, for requests and messages. Holds every form of the request's secrets only
/// to scrub them from quoted text.
pub(crate) struct Target {
    /// Display name: "Zendesk".
    pub(crate) provider: &'static str,
    /// Host name the call goes to (no port).
    pub(crate) host: String,
    /// The base URL with the subdomain filled in: documented paths are appended to it, and
    /// relative URLs found in content are resolved against it.
    pub(crate) origin: String,
    /// Set for providers whose host is per account: unknown hosts then mean "no such account".
    pub(crate) subdomain: Option<String>,
    /// Removes the request's secrets from any provider text we quote.
    pub(crate) scrubber: Scrubber,
}

/// The messages of the statuses whose meaning depends on the provider.
#[derive(Clone)]
pub(crate) struct StatusMessages {
    /// 401: which credential was refused.
    pub(crate) unauthorized: String,
    /// 403: what is missing.
    pub(crate) forbidden: String,
    /// 404 for providers without a per-account host.
    pub(crate) not_found: String,
    /// The documented wait after a 429 when no header says it (Helpjuice: one minute).
    pub(crate) fixed_wait: Option<Duration>,
}

fn failure(reason: FailureReason, message: impl Into<String>) -> VerificationFailure {
    VerificationFailure::new(reason, message)
}

impl Target {
    /// The target of `provider` on `base`, with `subdomain` filled in (a failure only for a
    /// subdomain that is not a DNS label, which validated credentials never hold).
    pub(crate) fn new(
        provider: Provider,
        base: &UrlTemplate,
        subdomain: Option<&str>,
        scrubber: Scrubber,
    ) -> Result<Self, VerificationFailure> {
        let origin = base.fill(subdomain).map_err(|_| {
            VerificationFailure::new(
                FailureReason::NotFound,
                format!(
                    "\"{}\" is not a valid {} subdomain.",
                    subdomain.unwrap_or_default(),
                    provider.display_name()
                ),
            )
        })?;
        Ok(Self {
            provider: provider.display_name(),
            host: base.host(subdomain),
            origin,
            subdomain: subdomain.map(str::to_owned),
            scrubber,
        })
    }

    /// `origin` + a documented path (and query).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Sends `request`, turning a missing answer into a failure. Logs the outcome, never a
    /// header or a body.
    pub(crate) async fn send(
        &self,
        http: &Http,
        request: &Request,
    ) -> Result<Answer, VerificationFailure> {
        let answer = http.get(request).await.map_err(|e| {
            tracing::info!(provider = self.provider, host = %self.host, error = %e, "no answer");
            self.transport(e, http.timeout())
        })?;
        tracing::debug!(provider = self.provider, host = %self.host, status = answer.status, "answered");
        Ok(answer)
    }

    /// `Ok` for the provider's success status (200), the shared mapping otherwise.
    pub(crate) fn expect_ok(
        &self,
        answer: &Answer,
        messages: impl FnOnce() -> StatusMessages,
    ) -> Result<(), VerificationFailure> {
        if answer.status == 200 {
            Ok(())
        } else {
            Err(self.status(answer, messages()))
        }
    }

    /// `Ok` when `value`, the field of a success answer that says who the caller is (a role, a
    /// kind of user), is one of `allowed`; `insufficient_permissions` with `refused(value)`
    /// (quoted) when it is another; an unexpected body when it is missing.
    pub(crate) fn expect_one_of(
        &self,
        answer: &Answer,
        value: Option<&str>,
        allowed: &[&str],
        refused: impl FnOnce(String) -> String,
    ) -> Result<(), VerificationFailure> {
        match value {
            Some(v) if allowed.contains(&v) => Ok(()),
            Some(other) => Err(failure(
                FailureReason::InsufficientPermissions,
                refused(self.quote(other)),
            )),
            None => Err(self.unexpected_body(answer)),
        }
    }

    /// No account behind this subdomain.
    pub(crate) fn unknown_account(&self) -> VerificationFailure {
        match &self.subdomain {
            Some(sub) => failure(
                FailureReason::NotFound,
                format!(
                    "No {} account was found for the subdomain \"{sub}\" ({}).",
                    self.provider, self.host
                ),
            ),
            None => failure(
                FailureReason::ProviderError,
                format!(
                    "{} ({}) answered with a web page instead of its API.",
                    self.provider, self.host
                ),
            ),
        }
    }

    /// A success status whose body is not the expected JSON.
    pub(crate) fn unexpected_body(&self, answer: &Answer) -> VerificationFailure {
        if answer.body.is_none() {
            return failure(
                FailureReason::ProviderError,
                format!(
                    "{} answered HTTP {} with a body larger than expected for this request.",
                    self.provider, answer.status
                ),
            );
        }
        if self.subdomain.is_some() && (answer.is_html() || answer.json().is_none()) {
            return self.unknown_account();
        }
        failure(
            FailureReason::ProviderError,
            format!(
                "{} answered HTTP {} with a body that is not the expected JSON.",
                self.provider, answer.status
            ),
        )
    }

    /// No answer at all.
    pub(crate) fn transport(
        &self,
        error: TransportError,
        deadline: Duration,
    ) -> VerificationFailure {
        let p = self.provider;
        let host = &self.host;
        match error {
            TransportError::Timeout => failure(
                FailureReason::Timeout,
                format!("{p} ({host}) did not answer within {}.", human(deadline)),
            ),
            TransportError::UnknownHost => match &self.subdomain {
                Some(sub) => failure(
                    FailureReason::NotFound,
                    format!("No {p} account was found for the subdomain \"{sub}\": {host} does not exist."),
                ),
                None => failure(
                    FailureReason::Unreachable,
                    format!("The {p} host {host} could not be resolved."),
                ),
            },
            TransportError::Blocked => failure(
                FailureReason::Unreachable,
                format!("Connecting to {host} is not allowed: it resolves to a private, local or reserved network address."),
            ),
            TransportError::Refused => failure(
                FailureReason::Unreachable,
                format!("{p} ({host}) refused the connection."),
            ),
            TransportError::Reset => failure(
                FailureReason::Unreachable,
                format!("The connection to {p} ({host}) was reset before it answered, also on a retry."),
            ),
            TransportError::Tls(detail) => failure(
                FailureReason::Unreachable,
                format!("A secure connection to {p} ({host}) could not be established: {}.", self.quote(&detail)),
            ),
            TransportError::Network(detail) => failure(
                FailureReason::Unreachable,
                format!("{p} ({host}) could not be reached: {}.", self.quote(&detail)),
            ),
            TransportError::Protocol(detail) => failure(
                FailureReason::ProviderError,
                format!("{p} ({host}) sent an invalid HTTP answer: {}.", self.quote(&detail)),
            ),
        }
    }

    /// Any status other than the provider's success status.
    pub(crate) fn status(&self, answer: &Answer, m: StatusMessages) -> VerificationFailure {
        let p = self.provider;
        let said = self
            .provider_text(answer)
            .map(|t| format!(" {p} said: \"{t}\""))
            .unwrap_or_default();
        match answer.status {
            401 => failure(FailureReason::InvalidCredentials, m.unauthorized),
            403 => failure(
                FailureReason::InsufficientPermissions,
                format!("{}{said}", m.forbidden),
            ),
            404 | 410 => {
                if self.subdomain.is_some() {
                    self.unknown_account()
                } else {
                    failure(FailureReason::NotFound, format!("{}{said}", m.not_found))
                }
            }
            429 => {
                let wait = rate_limit_wait(answer, SystemTime::now()).or(m.fixed_wait);
                let when = match wait {
                    Some(d) => format!("retry in {}", human(d)),
                    None => "retry later".to_owned(),
                };
                failure(
                    FailureReason::RateLimited,
                    format!("{p} is rate limiting requests for this account; {when}."),
                )
                .with_retry_after(wait.map_or(DEFAULT_RETRY_AFTER, |d| d.as_secs()))
            }
            300..=399 => {
                let elsewhere = answer.location.as_deref().is_some_and(|l| {
                    location_host(l).is_some_and(|h| !h.eq_ignore_ascii_case(&self.host))
                });
                if elsewhere && self.subdomain.is_some() {
                    self.unknown_account()
                } else {
                    failure(
                        FailureReason::ProviderError,
                        format!("{p} ({}) answered with a redirect (HTTP {}) instead of its API; redirects are not followed.", self.host, answer.status),
                    )
                }
            }
            500..=599 => failure(
                FailureReason::ProviderError,
                format!(
                    "{p} answered with a server error (HTTP {}); try again later.",
                    answer.status
                ),
            ),
            status => failure(
                FailureReason::ProviderError,
                format!("{p} answered with an unexpected HTTP {status}.{said}"),
            ),
        }
    }

    /// The provider's own error text from a JSON body, cleaned for quoting.
    pub(crate) fn provider_text(&self, answer: &Answer) -> Option<String> {
        let json = answer.json()?;
        let text = error_text(&json)?;
        let quoted = self.quote(&text);
        (!quoted.is_empty()).then_some(quoted)
    }

    /// Printable, single-line, bounded, and without any form of the request's secrets.
    pub(crate) fn quote(&self, text: &str) -> String {
        let scrubbed = self.scrubber.scrub(text);
        let mut out = String::new();
        for word in scrubbed.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().filter(|c| !c.is_control() && *c != '"'));
        }
        if out.chars().count() > MAX_QUOTED {
            out = out.chars().take(MAX_QUOTED).collect::<String>() + "…";
        }
        out
    }
}

/// The error text of the usual JSON error shapes: `{"error": "..."}`,
/// `{"error": {"message": "..."}}`, `{"errors": [{"message": "..."}]}`, `{"message": "..."}`,
/// `{"description": "..."}`.
fn error_text(json: &serde_json::Value) -> Option<String> {
    let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let first_error = json
        .get("errors")
        .and_then(|e| e.as_array())
        .and_then(|a| a.first());
    s(first_error.and_then(|e| e.get("message")))
        .or_else(|| s(json.get("error").and_then(|e| e.get("message"))))
        .or_else(|| s(json.get("message")))
        .or_else(|| s(json.get("error")))
        .or_else(|| s(json.get("description")))
        .or_else(|| s(json.get("error_description")))
        .filter(|t| !t.trim().is_empty())
}

/// The wait a 429 asks for: `Retry-After` (seconds or an HTTP date), else `X-RateLimit-Reset` (a UNIX time or
/// a number of seconds). At least one second.
pub(crate) fn rate_limit_wait(answer: &Answer, now: SystemTime) -> Option<Duration> {
    let number = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(secs) = number(&answer.retry_after) {
        return Some(Duration::from_secs(secs.max(1)));
    }
    // `Retry-After` may also be an HTTP date.
    if let Some(at) = answer
        .retry_after
        .as_deref()
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
    {
        let wait = at.duration_since(now).unwrap_or_default();
        return Some(wait.max(Duration::from_secs(1)));
    }
    let reset = number(&answer.ratelimit_reset)?;
    if reset >= EPOCH_THRESHOLD {
        let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
    }
    Some(Duration::from_secs(reset.max(1)))
}

fn location_host(location: &str) -> Option<&str> {
    let rest = location
        .strip_prefix("https://")
        .or_else(|| location.strip_prefix("http://"))
        .or_else(|| location.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.starts_with('[') {
        return host_port
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['));
    }
    host_port.split(':').next()
}

/// "10 seconds", "1 second", "1 minute", "250 ms".
pub(crate) fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if d < Duration::from_secs(1) {
        return format!("{} ms", d.as_millis());
    }
    if secs.is_multiple_of(60) && secs >= 60 {
        let m = secs / 60;
        return if m == 1 {
            "1 minute".to_owned()
        } else {
            format!("{m} minutes")
        };
    }
    if secs == 1 {
        "1 second".to_owned()
    } else {
        format!("{secs} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16) -> Answer {
        Answer {
            status,
            retry_after: None,
            ratelimit_reset: None,
            location: None,
            content_type: None,
            body: Some(Vec::new()),
        }
    }

    fn target(subdomain: Option<&str>) -> Target {
        Target {
            provider: "Zendesk",
            host: "acme.zendesk.com".into(),
            origin: "https://acme.zendesk.com".into(),
            subdomain: subdomain.map(str::to_owned),
            scrubber: Scrubber::new().secret("s3cr3t-token"),
        }
    }

    fn msgs() -> StatusMessages {
        StatusMessages {
            unauthorized: "bad".into(),
            forbidden: "no".into(),
            not_found: "gone".into(),
            fixed_wait: None,
        }
    }

    #[test]
    fn waits_from_headers() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut a = answer(429);
        assert_eq!(rate_limit_wait(&a, now), None);
        a.ratelimit_reset = Some("1700000042".into());
        assert_eq!(rate_limit_wait(&a, now), Some(Duration::from_secs(42)));
        a.ratelimit_reset = Some("17".into());
        assert_eq!(rate_limit_wait(&a, now), Some(Duration::from_secs(17)));
        a.retry_after = Some("30".into());
        assert_eq!(rate_limit_wait(&a, now), Some(Duration::from_secs(30)));
        a.retry_after = Some("0".into());
        assert_eq!(rate_limit_wait(&a, now), Some(Duration::from_secs(1)));
        // An HTTP date 90 s after `now` (1700000000 = Tue, 14 Nov 2023 22:13:20 GMT).
        a.retry_after = Some("Tue, 14 Nov 2023 22:14:50 GMT".into());
        assert_eq!(rate_limit_wait(&a, now), Some(Duration::from_secs(90)));
        a.retry_after = Some("Tue, 14 Nov 2023 22:00:00 GMT".into());
        assert_eq!(rate_limit_wait(&a, now), Some(Duration::from_secs(1)));
    }

    #[test]
    fn quotes_are_scrubbed_and_bounded() {
        let t = target(None);
        assert_eq!(t.quote("bad token s3cr3t-token\n\"x\""), "bad token **** x");
        assert!(t.quote(&"a".repeat(1000)).chars().count() <= MAX_QUOTED + 1);
    }

    #[test]
    fn redirect_to_another_host_means_unknown_account() {
        let mut a = answer(302);
        a.location = Some("https://www.zendesk.com/help-center-closed/".into());
        let f = target(Some("acme")).status(&a, msgs());
        assert_eq!(f.reason, FailureReason::NotFound);
        assert!(f.message.contains("\"acme\""), "{}", f.message);
        a.location = Some("https://acme.zendesk.com/other".into());
        let f = target(Some("acme")).status(&a, msgs());
        assert_eq!(f.reason, FailureReason::ProviderError);
    }

    #[test]
    fn error_texts() {
        let j = |s: &str| serde_json::from_str::<serde_json::Value>(s).expect("json");
        assert_eq!(
            error_text(&j(r#"{"type":"error.list","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}"#)).as_deref(),
            Some("Access Token Invalid")
        );
        assert_eq!(
            error_text(&j(r#"{"error":"Couldn't authenticate you"}"#)).as_deref(),
            Some("Couldn't authenticate you")
        );
        assert_eq!(
            error_text(&j(
                r#"{"error":{"title":"Forbidden","message":"You do not have access"}}"#
            ))
            .as_deref(),
            Some("You do not have access")
        );
        assert_eq!(error_text(&j(r#"{"ok":true}"#)), None);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(250)), "250 ms");
        assert_eq!(human(Duration::from_secs(1)), "1 second");
        assert_eq!(human(Duration::from_secs(10)), "10 seconds");
        assert_eq!(human(Duration::from_secs(60)), "1 minute");
        assert_eq!(human(Duration::from_secs(90)), "90 seconds");
    }
}
