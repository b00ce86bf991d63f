//! The SSRF guard. Checks run after DNS resolution on every address a client would connect
//! to, so a public name that resolves to `127.0.0.1` (or to `::ffff:10.0.0.1`) is refused as
//! well as a literal private IP; HTTP clients skip their resolver for address literals, so
//! those are checked on the URL itself, after the URL parser normalised them (`2130706433`,
//! `0x7f.1` and `127.1` are all `127.0.0.1`).

use crate::ip::is_public;
use std::net::IpAddr;

/// Why a request may not go where it was meant to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// Every address of the host is outside the public internet.
    #[error("{host} resolves only to non-public addresses")]
    Blocked { host: String },
    /// The name does not resolve.
    #[error("{host} could not be resolved")]
    UnknownHost { host: String },
    /// Not an http(s) URL with a host.
    #[error("not an http(s) URL with a host")]
    InvalidUrl,
}

/// The egress policy: which addresses outbound calls may reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Egress {
    allow_private_networks: bool,
}

impl Egress {
    /// `allow_private_networks` (`providers.allow_private_networks`, tests only) lets calls
    /// reach loopback and private addresses.
    pub fn new(allow_private_networks: bool) -> Self {
        Self {
            allow_private_networks,
        }
    }

    pub fn allows_private_networks(&self) -> bool {
        self.allow_private_networks
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private_networks || is_public(ip)
    }

    /// Resolves `host` and keeps only the addresses the policy allows.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, EgressError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.check_ip(host, ip).map(|ip| vec![ip]);
        }
        let resolved: Vec<IpAddr> = match tokio::net::lookup_host((host, 0)).await {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            Err(_) => {
                return Err(EgressError::UnknownHost {
                    host: host.to_owned(),
                })
            }
        };
        if resolved.is_empty() {
            return Err(EgressError::UnknownHost {
                host: host.to_owned(),
            });
        }
        let kept: Vec<IpAddr> = resolved
            .into_iter()
            .filter(|ip| {
                let ok = self.allows(*ip);
                if !ok {
                    tracing::warn!(%host, %ip, "refused a non-public address");
                }
                ok
            })
            .collect();
        if kept.is_empty() {
            return Err(EgressError::Blocked {
                host: host.to_owned(),
            });
        }
        Ok(kept)
    }

    /// Parses `url` (WHATWG rules, which normalise numeric hosts) and refuses it when its host
    /// is an address the policy does not allow. Names are left to [`Egress::resolve`].
    pub fn check_url(&self, url: &str) -> Result<url::Url, EgressError> {
        let parsed = url::Url::parse(url).map_err(|_| EgressError::InvalidUrl)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(EgressError::InvalidUrl);
        }
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) => {
                self.check_ip(&ip.to_string(), IpAddr::V4(ip))?;
            }
            Some(url::Host::Ipv6(ip)) => {
                self.check_ip(&ip.to_string(), IpAddr::V6(ip))?;
            }
            Some(url::Host::Domain(_)) => {}
            None => return Err(EgressError::InvalidUrl),
        }
        Ok(parsed)
    }

    fn check_ip(&self, host: &str, ip: IpAddr) -> Result<IpAddr, EgressError> {
        if self.allows(ip) {
            Ok(ip)
        } else {
            tracing::warn!(%host, %ip, "refused a non-public address");
            Err(EgressError::Blocked {
                host: host.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_literal_hosts_are_judged_after_normalisation() {
        let guard = Egress::new(false);
        for url in [
            "http://127.0.0.1:9000",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://[::1]:80/",
            "http://[::ffff:169.254.169.254]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1",
        ] {
            assert!(
                matches!(guard.check_url(url), Err(EgressError::Blocked { .. })),
                "{url}"
            );
        }
        assert!(guard
            .check_url("https://s3.us-east-1.amazonaws.com")
            .is_ok());
        assert!(guard.check_url("https://8.8.8.8").is_ok());
        assert!(Egress::new(true).check_url("http://2130706433/").is_ok());
        assert_eq!(guard.check_url("ftp://x"), Err(EgressError::InvalidUrl));
    }

    #[tokio::test]
    async fn names_are_judged_after_resolution() {
        let guard = Egress::new(false);
        assert!(matches!(
            guard.resolve("localhost").await,
            Err(EgressError::Blocked { .. })
        ));
        assert!(matches!(
            guard.resolve("127.0.0.1").await,
            Err(EgressError::Blocked { .. })
        ));
        assert!(matches!(
            guard.resolve("no-such-host.invalid").await,
            Err(EgressError::UnknownHost { .. })
        ));
        assert!(!Egress::new(true)
            .resolve("localhost")
            .await
            .unwrap_or_default()
            .is_empty());
    }
}
