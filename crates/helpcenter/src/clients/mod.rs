//! One blocking client per provider. Each knows its probe (a read-only, zero-cost GET), its
//! auth scheme and what a successful answer must prove; the shared rules live in
//! [`crate::outcome`].

pub(crate) mod freshdesk;
pub(crate) mod helpjuice;
pub(crate) mod helpscout;
pub(crate) mod intercom;
pub(crate) mod knowledgeowl;
pub(crate) mod zendesk;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use integrations_domain::{FailureReason, VerificationFailure};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::config::BaseUrl;
use crate::http::{Answer, HttpClient, Probe};
use crate::outcome::Target;

/// Bodies of small JSON answers (current user, settings) are read up to this size.
pub(crate) const SMALL_BODY: u64 = 64 * 1024;

/// `Basic base64(user:password)`, built without leaving the plaintext in unzeroized memory.
pub(crate) fn basic(user: &str, password: &str) -> SecretString {
    let mut plain = Zeroizing::new(String::with_capacity(user.len() + password.len() + 1));
    plain.push_str(user);
    plain.push(':');
    plain.push_str(password);
    let mut header = String::with_capacity(6 + plain.len() * 4 / 3 + 4);
    header.push_str("Basic ");
    STANDARD.encode_string(plain.as_bytes(), &mut header);
    SecretString::from(header)
}

/// A copy of a secret (secrecy's `SecretString` is deliberately not `Clone`).
pub(crate) fn copy_secret(s: &SecretString) -> SecretString {
    SecretString::from(s.expose_secret())
}

/// The base URL for `subdomain`, or a failure (only reachable with unvalidated input).
pub(crate) fn origin(
    base: &BaseUrl,
    provider: &'static str,
    subdomain: Option<&str>,
) -> Result<String, VerificationFailure> {
    base.fill(subdomain).map_err(|_| {
        VerificationFailure::new(
            FailureReason::NotFound,
            format!(
                "\"{}\" is not a valid {provider} subdomain.",
                subdomain.unwrap_or_default()
            ),
        )
    })
}

/// Sends the probe and turns a missing answer into a failure.
pub(crate) fn send(
    http: &HttpClient,
    target: &Target,
    probe: &Probe,
) -> Result<Answer, VerificationFailure> {
    let answer = http.get(probe).map_err(|e| {
        tracing::info!(provider = target.provider, host = %target.host, error = %e, "no answer");
        target.transport(e, http.timeout())
    })?;
    tracing::debug!(provider = target.provider, host = %target.host, status = answer.status, "answered");
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header() {
        // RFC 7617's example.
        assert_eq!(
            basic("Aladdin", "open sesame").expose_secret(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
