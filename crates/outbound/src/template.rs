//! Base-URL templates (API.md section 5): `scheme://host[:port][/path]`, where the host may
//! hold one placeholder (`{subdomain}`, `{accountId}`) that is only ever filled with
//! validated DNS labels, so user input can never pick another host.

use crate::config::ConfigError;
use std::fmt;

/// A parsed `providers.<name>.base_url` (or similar) value.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    scheme: &'static str,
    /// Host with the placeholder still in it (lowercase). IPv6 literals keep their brackets.
    host: String,
    port: Option<u16>,
    /// Path prefix without a trailing slash (usually empty).
    path: String,
    /// The placeholder this template may hold (`{subdomain}`), if any.
    placeholder: Option<&'static str>,
}

impl fmt::Debug for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UrlTemplate({})", self.render(None))
    }
}

/// A value that cannot be put in a host name (never happens for validated input).
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a valid host label")]
pub struct BadLabel;

impl UrlTemplate {
    /// Parses and checks a template. `placeholder` is the only placeholder the host may hold
    /// (`None`: none at all). `setting` names the setting in errors (`zendesk.base_url`).
    pub fn parse(
        setting: &str,
        raw: &str,
        placeholder: Option<&'static str>,
    ) -> Result<Self, ConfigError> {
        let bad = |problem: &str| ConfigError::InvalidBaseUrl {
            setting: setting.to_owned(),
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
        // Placeholders are written in camelCase in the contract (`{accountId}`); compare
        // case-insensitively and keep our own spelling.
        let (host, count) = match placeholder {
            Some(p) => {
                let lower = p.to_ascii_lowercase();
                let n = host.matches(&lower).count();
                (host.replace(&lower, p), n)
            }
            None => (host, 0),
        };
        if count > 1 {
            return Err(bad("the placeholder may appear only once"));
        }
        let sample = match placeholder {
            Some(p) => host.replace(p, "x"),
            None => host.clone(),
        };
        if sample.contains(['{', '}']) {
            return Err(bad(match placeholder {
                Some(_) => "the host holds an unknown placeholder",
                None => "this provider's host takes no placeholder",
            }));
        }
        let host_ok = if sample.starts_with('[') {
            sample
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .is_some_and(|s| s.parse::<std::net::Ipv6Addr>().is_ok())
                && count == 0
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
            placeholder: placeholder.filter(|_| count == 1),
        };
        // Final check: what we will send must be a URL the HTTP stack accepts, with the host
        // written here. WHATWG reads a host ending in a number as an IPv4 address ("2" is
        // 0.0.0.2, "0x7f.1" is 127.0.0.1), so such a host, or a placeholder that a numeric
        // label would turn into one, is refused.
        for sample in ["x", "0"] {
            let url = url::Url::parse(&parsed.render(Some(sample)))
                .map_err(|_| bad("not a valid URL"))?;
            let expected = parsed.host(Some(sample));
            if !expected.starts_with('[') && url.host_str() != Some(expected.as_str()) {
                return Err(bad(
                    "the host must be a DNS name or an IP address written in full",
                ));
            }
        }
        Ok(parsed)
    }

    /// Whether the host holds the placeholder.
    pub fn has_placeholder(&self) -> bool {
        self.placeholder.is_some()
    }

    /// The origin and path prefix with the placeholder filled by `label`, a single DNS label
    /// checked again here (`^[a-z0-9][a-z0-9-]*$`, at most 63 characters) so that nothing
    /// else can reach the host. A template without the placeholder ignores `label`.
    pub fn fill(&self, label: Option<&str>) -> Result<String, BadLabel> {
        match label {
            Some(l) => self.fill_labels(&[l]),
            None => self.fill_labels(&[]),
        }
    }

    /// Like [`UrlTemplate::fill`] with several labels joined by dots (an R2 account and its
    /// jurisdiction: `acct.eu`).
    pub fn fill_labels(&self, labels: &[&str]) -> Result<String, BadLabel> {
        if self.placeholder.is_none() {
            return Ok(self.render(None));
        }
        if labels.is_empty() || !labels.iter().all(|l| is_dns_label(l)) {
            return Err(BadLabel);
        }
        Ok(self.render(Some(&labels.join("."))))
    }

    /// The host (without port) with `value` filled in, for messages and logs.
    pub fn host(&self, value: Option<&str>) -> String {
        match self.placeholder {
            Some(p) => self.host.replace(p, value.unwrap_or("?")),
            None => self.host.clone(),
        }
    }

    fn render(&self, value: Option<&str>) -> String {
        let host = match (self.placeholder, value) {
            (Some(p), Some(v)) => self.host.replace(p, v),
            _ => self.host.clone(),
        };
        match self.port {
            Some(port) => format!("{}://{host}:{port}{}", self.scheme, self.path),
            None => format!("{}://{host}{}", self.scheme, self.path),
        }
    }
}

/// `^[a-z0-9][a-z0-9-]*$`, at most 63 characters.
pub fn is_dns_label(label: &str) -> bool {
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

    const SUB: Option<&str> = Some("{subdomain}");

    #[test]
    fn fills_the_placeholder_into_the_host_only() {
        let b = UrlTemplate::parse("zendesk.base_url", "https://{subdomain}.zendesk.com", SUB)
            .expect("valid");
        assert_eq!(
            b.fill(Some("acme")).as_deref(),
            Ok("https://acme.zendesk.com")
        );
        assert_eq!(b.host(Some("acme")), "acme.zendesk.com");
        for bad in [
            "evil.com/",
            "127.0.0.1",
            "a@b",
            "a:80",
            "a/b",
            "-a",
            "",
            "A",
            "x?y",
            "x#",
            "a..b",
        ] {
            assert_eq!(b.fill(Some(bad)), Err(BadLabel), "{bad}");
        }
        assert_eq!(b.fill(None), Err(BadLabel));
        let r2 = UrlTemplate::parse(
            "r2.base_url",
            "https://{accountId}.r2.cloudflarestorage.com",
            Some("{accountId}"),
        )
        .expect("valid");
        assert_eq!(
            r2.fill_labels(&["023e105f4ecef8ad9ca31a8372d0c353", "eu"])
                .as_deref(),
            Ok("https://023e105f4ecef8ad9ca31a8372d0c353.eu.r2.cloudflarestorage.com")
        );
    }

    #[test]
    fn keeps_port_and_path_prefix() {
        let b = UrlTemplate::parse("x", "http://127.0.0.1:8080/zd/", None).expect("valid");
        assert_eq!(b.fill(None).as_deref(), Ok("http://127.0.0.1:8080/zd"));
        let b = UrlTemplate::parse("x", "http://[::1]:9000", None).expect("valid");
        assert_eq!(b.fill(None).as_deref(), Ok("http://[::1]:9000"));
        let b = UrlTemplate::parse("x", "HTTPS://API.Intercom.io", None).expect("valid");
        assert_eq!(b.fill(None).as_deref(), Ok("https://api.intercom.io"));
        // A template without its placeholder is used as is (tests point it at one server).
        let b = UrlTemplate::parse("x", "http://127.0.0.1:9", SUB).expect("valid");
        assert_eq!(b.fill(Some("acme")).as_deref(), Ok("http://127.0.0.1:9"));
    }

    #[test]
    fn refuses_bad_templates() {
        for (raw, p) in [
            ("ftp://example.com", SUB),
            ("example.com", SUB),
            ("https://", SUB),
            ("https://user@example.com", SUB),
            ("https://example.com?x=1", SUB),
            ("https://example.com/#x", SUB),
            ("https://example.com/../x", SUB),
            ("https://example.com:0", SUB),
            ("https://example.com:99999", SUB),
            ("https://example.com:", SUB),
            ("https://{subdomain}.{subdomain}.example.com", SUB),
            ("https://{subdomain}.example.com", None),
            ("https://example.com/{subdomain}", SUB),
            ("https://{other}.example.com", SUB),
            ("https://exa mple.com", SUB),
            ("https://-bad.com", SUB),
            // Read as IPv4 addresses by the URL parser (found by fuzzing: "https://2" was
            // accepted with host "2" but sent to 0.0.0.2), or turned into one by a numeric
            // label ("2130706433" is 127.0.0.1).
            ("https://2", None),
            ("http://0x7f.1", None),
            ("http://127.1:8080", None),
            ("http://127.0.0.01", None),
            ("https://{subdomain}", SUB),
            ("https://a.{subdomain}", SUB),
        ] {
            assert!(UrlTemplate::parse("x", raw, p).is_err(), "{raw}");
        }
        let e = UrlTemplate::parse("zendesk.base_url", "ftp://x", SUB).expect_err("invalid");
        assert!(
            e.to_string().starts_with("providers.zendesk.base_url"),
            "{e}"
        );
    }
}
