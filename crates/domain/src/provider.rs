//! Platforms and providers.

use std::fmt;
use std::str::FromStr;

/// Where an integration belongs: cloud storage (export) or a help center (import).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    Cloud,
    Helpcenter,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Cloud, Platform::Helpcenter];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Cloud => "cloud",
            Platform::Helpcenter => "helpcenter",
        }
    }

    /// The contract's success message of a verification on this platform (word for word).
    pub fn success_message(self) -> &'static str {
        match self {
            Platform::Cloud => "The connection was successful",
            Platform::Helpcenter => "The helpcenter credentials has been successfully validated",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown platform or provider name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {expected}")]
pub struct UnknownName {
    pub expected: &'static str,
}

impl FromStr for Platform {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cloud" => Ok(Platform::Cloud),
            "helpcenter" => Ok(Platform::Helpcenter),
            _ => Err(UnknownName {
                expected: "cloud, helpcenter",
            }),
        }
    }
}

/// The eight supported providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    S3,
    R2,
    Zendesk,
    Intercom,
    Helpscout,
    Helpjuice,
    Freshdesk,
    Knowledgeowl,
}

impl Provider {
    pub const ALL: [Provider; 8] = [
        Provider::S3,
        Provider::R2,
        Provider::Zendesk,
        Provider::Intercom,
        Provider::Helpscout,
        Provider::Helpjuice,
        Provider::Freshdesk,
        Provider::Knowledgeowl,
    ];

    const NAMES: &'static str =
        "s3, r2, zendesk, intercom, helpscout, helpjuice, freshdesk, knowledgeowl";

    /// The name used in JSON, configuration and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::S3 => "s3",
            Provider::R2 => "r2",
            Provider::Zendesk => "zendesk",
            Provider::Intercom => "intercom",
            Provider::Helpscout => "helpscout",
            Provider::Helpjuice => "helpjuice",
            Provider::Freshdesk => "freshdesk",
            Provider::Knowledgeowl => "knowledgeowl",
        }
    }

    /// The platform a provider belongs to.
    pub fn platform(self) -> Platform {
        match self {
            Provider::S3 | Provider::R2 => Platform::Cloud,
            _ => Platform::Helpcenter,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownName {
                expected: Self::NAMES,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_platforms_agree() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
        }
        assert_eq!(Provider::R2.platform(), Platform::Cloud);
        assert_eq!(Provider::Knowledgeowl.platform(), Platform::Helpcenter);
        assert!("S3".parse::<Provider>().is_err());
        assert!("storage".parse::<Platform>().is_err());
    }
}
