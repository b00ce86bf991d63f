//! Configuration of the adapter and the base-URL templates (API.md section 5).

use std::fmt;
use std::time::Duration;

/// The placeholder a template may carry in its host, filled with the validated subdomain.
const SUBDOMAIN: &str = "{subdomain}";

/// Settings of [`crate::HelpcenterVerifier`]. `Default` gives the providers' real origins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelpcenterConfig {
    /// Total deadline of one verification (`verify.timeout_ms`). The connect deadline is
    /// derived from it (at most 5 s).
    pub timeout: Duration,
    /// Allow base URLs that resolve to loopback, private, link-local, CGNAT or metadata
    /// addresses (`providers.allow_private_networks`; tests only).
    pub allow_private_networks: bool,
    /// `providers.zendesk.base_url`, e.g. `https://{subdomain}.zendesk.com`.
    pub zendesk_base_url: String,
    /// `providers.intercom.base_url` (US region).
    pub intercom_base_url: String,
    /// `providers.intercom.base_url_eu`.
    pub intercom_base_url_eu: String,
    /// `providers.intercom.base_url_au`.
    pub intercom_base_url_au: String,
    /// `providers.helpscout.base_url` (the Docs API).
    pub helpscout_base_url: String,
    /// `providers.helpjuice.base_url`, e.g. `https://{subdomain}.helpjuice.com`.
    pub helpjuice_base_url: String,
    /// `providers.freshdesk.base_url`, e.g. `https://{subdomain}.freshdesk.com`.
    pub freshdesk_base_url: String,
    /// `providers.knowledgeowl.base_url`.
    pub knowledgeowl_base_url: String,
}

impl Default for HelpcenterConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            allow_private_networks: false,
            zendesk_base_url: "https://{subdomain}.zendesk.com".to_owned(),
            intercom_base_url: "https://api.intercom.io".to_owned(),
            intercom_base_url_eu: "https://api.eu.intercom.io".to_owned(),
            intercom_base_url_au: "https://api.au.intercom.io".to_owned(),
            helpscout_base_url: "https://docsapi.helpscout.net".to_owned(),
            helpjuice_base_url: "https://{subdomain}.helpjuice.com".to_owned(),
            freshdesk_base_url: "https://{subdomain}.freshdesk.com".to_owned(),
            knowledgeowl_base_url: "https://app.knowledgeowl.com".to_owned(),
        }
    }
}

/// A configuration the verifier refuses to start with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A `providers.<name>.base_url` template is not an http(s) origin we accept.
    #[error("providers.{setting}: invalid base URL {url:?}: {problem}")]
    InvalidBaseUrl {
        setting: &'static str,
        url: String,
        problem: String,
    },
    /// `verify.timeout_ms` must be positive.
    #[error("verify.timeout_ms must be greater than zero")]
    ZeroTimeout,
}

/// A parsed base-URL template: `scheme://host[:port][/path]`, where the host may contain
/// `{subdomain}` once (only for providers that have a subdomain).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    scheme: &'static str,
    /// Host with the placeholder still in it (lowercase). IPv6 literals keep their brackets.
    host: String,
    port: Option<u16>,
    /// Path prefix without a trailing slash (usually empty).
    path: String,
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.render(SUBDOMAIN))
    }
}

/// A subdomain that cannot be put in a host name (never happens for validated input).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a valid subdomain")]
pub(crate) struct BadSubdomain;

impl BaseUrl {
    /// Parses and checks a template. `may_have_subdomain` is false for providers without a
    /// subdomain (their template must not contain the placeholder).
    pub(crate) fn parse(
        setting: &'static str,
        raw: &str,
        may_have_subdomain: bool,
    ) -> Result<Self, ConfigError> {
        let bad = |problem: &str| ConfigError::InvalidBaseUrl {
            setting,
            url: raw.to_owned(),
            problem: problem.to_owned(),
        };
        let v = raw.trim();
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces or control characters"));
        }
        if v.contains(['?', '#', '@', '\\']) {
            return Err(bad("must not contain a query, a fragment or user info"));
        }
        let (scheme, rest) = v
            .split_once("://")
            .ok_or_else(|| bad("must start with http:// or https://"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "https" => "https",
            "http" => "http",
            _ => return Err(bad("the scheme must be http or https")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let path = path.trim_end_matches('/');
        if !path.is_empty() {
            let segments_ok = path[1..].split('/').all(|s| {
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
            });
            if !segments_ok {
                return Err(bad(
                    "the path may only hold plain segments (letters, digits, - _ . ~)",
                ));
            }
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("bad host or port"))?;
        let host = host.to_ascii_lowercase();
        let placeholders = host.matches(SUBDOMAIN).count();
        if placeholders > 1 {
            return Err(bad("{subdomain} may appear only once"));
        }
        if placeholders == 1 && !may_have_subdomain {
            return Err(bad("this provider has no subdomain; remove {subdomain}"));
        }
        let sample = host.replace(SUBDOMAIN, "x");
        let host_ok = if sample.starts_with('[') {
            sample
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .is_some_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok())
                && placeholders == 0
        } else {
            !sample.is_empty()
                && sample.len() <= 253
                && sample.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                })
        };
        if !host_ok {
            return Err(bad("the host must be a DNS name or an IP address"));
        }
        let parsed = Self {
            scheme,
            host,
            port,
            path: path.to_owned(),
        };
        // Final check: what we will send must be a URI the HTTP stack accepts.
        parsed
            .render("x")
            .parse::<ureq::http::Uri>()
            .map_err(|_| bad("not a valid URL"))?;
        Ok(parsed)
    }

    /// Whether the host holds `{subdomain}`.
    pub(crate) fn has_subdomain(&self) -> bool {
        self.host.contains(SUBDOMAIN)
    }

    /// The origin and path prefix with `subdomain` put in the host. The subdomain is checked
    /// again here (`^[a-z0-9][a-z0-9-]*$`, at most 63 characters) so that nothing but a
    /// single DNS label can ever reach the host.
    pub(crate) fn fill(&self, subdomain: Option<&str>) -> Result<String, BadSubdomain> {
        if !self.has_subdomain() {
            return Ok(self.render(""));
        }
        let label = subdomain.ok_or(BadSubdomain)?;
        if !is_dns_label(label) {
            return Err(BadSubdomain);
        }
        Ok(self.render(label))
    }

    /// The host (without port) for `subdomain`, for messages and logs.
    pub(crate) fn host(&self, subdomain: Option<&str>) -> String {
        self.host.replace(SUBDOMAIN, subdomain.unwrap_or("?"))
    }

    fn render(&self, subdomain: &str) -> String {
        let host = self.host.replace(SUBDOMAIN, subdomain);
        match self.port {
            Some(port) => format!("{}://{host}:{port}{}", self.scheme, self.path),
            None => format!("{}://{host}{}", self.scheme, self.path),
        }
    }
}

/// `^[a-z0-9][a-z0-9-]*$`, at most 63 characters.
pub(crate) fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let host = &authority[..=end];
        let rest = &authority[end + 1..];
        return match rest.strip_prefix(':') {
            Some(p) => Some((host, Some(parse_port(p)?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, p)) => Some((host, Some(parse_port(p)?))),
        None => Some((authority, None)),
    }
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|port| *port != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_templates_are_valid() {
        let c = HelpcenterConfig::default();
        for (t, sub) in [
            (&c.zendesk_base_url, true),
            (&c.intercom_base_url, false),
            (&c.intercom_base_url_eu, false),
            (&c.intercom_base_url_au, false),
            (&c.helpscout_base_url, false),
            (&c.helpjuice_base_url, true),
            (&c.freshdesk_base_url, true),
            (&c.knowledgeowl_base_url, false),
        ] {
            let parsed = BaseUrl::parse("x", t, sub);
            assert!(parsed.is_ok(), "{t}: {parsed:?}");
        }
    }

    #[test]
    fn fills_the_subdomain_into_the_host_only() {
        let b = BaseUrl::parse("zendesk.base_url", "https://{subdomain}.zendesk.com", true)
            .expect("valid");
        assert_eq!(
            b.fill(Some("acme")).as_deref(),
            Ok("https://acme.zendesk.com")
        );
        assert_eq!(b.host(Some("acme")), "acme.zendesk.com");
        for bad in [
            "evil.com/",
            "evil.com",
            "127.0.0.1",
            "a@b",
            "a:80",
            "a/b",
            "-a",
            "",
            "A",
            "x?y",
            "x#",
        ] {
            assert_eq!(b.fill(Some(bad)), Err(BadSubdomain), "{bad}");
        }
        assert_eq!(b.fill(None), Err(BadSubdomain));
    }

    #[test]
    fn keeps_port_and_path_prefix() {
        let b = BaseUrl::parse("x", "http://127.0.0.1:8080/zd/", false).expect("valid");
        assert_eq!(b.fill(None).as_deref(), Ok("http://127.0.0.1:8080/zd"));
        let b = BaseUrl::parse("x", "http://[::1]:9000", false).expect("valid");
        assert_eq!(b.fill(None).as_deref(), Ok("http://[::1]:9000"));
        let b = BaseUrl::parse("x", "HTTPS://API.Intercom.io", false).expect("valid");
        assert_eq!(b.fill(None).as_deref(), Ok("https://api.intercom.io"));
    }

    #[test]
    fn refuses_bad_templates() {
        for (raw, sub) in [
            ("ftp://example.com", true),
            ("example.com", true),
            ("https://", true),
            ("https://user@example.com", true),
            ("https://example.com?x=1", true),
            ("https://example.com/#x", true),
            ("https://example.com/../x", true),
            ("https://example.com:0", true),
            ("https://example.com:99999", true),
            ("https://example.com:", true),
            ("https://{subdomain}.{subdomain}.example.com", true),
            ("https://{subdomain}.example.com", false),
            ("https://example.com/{subdomain}", true),
            ("https://{other}.example.com", true),
            ("https://exa mple.com", true),
            ("https://-bad.com", true),
        ] {
            assert!(BaseUrl::parse("x", raw, sub).is_err(), "{raw}");
        }
    }

    #[test]
    fn error_names_the_setting() {
        let e = BaseUrl::parse("zendesk.base_url", "ftp://x", true).expect_err("invalid");
        assert!(
            e.to_string().starts_with("providers.zendesk.base_url"),
            "{e}"
        );
    }
}
