//! Platforms and providers, declared once.
//!
//! [`providers!`] below is the one table of providers: a row names the variant, its JSON
//! name, its platform, its display name and its credentials type (a module of
//! [`crate::credentials`]). Everything that used to be a hand-written `match` over providers
//! (`Provider::as_str`, `platform`, the [`Credentials`] enum and its dispatch) is generated from
//! it, so a new provider is one row here plus one credentials module, and the compiler points
//! at anything else that must learn about it.

use crate::credentials::{CredentialReader, FieldSpec, ProviderCredentials};
use crate::credentials::{PublicFields, SecretFields};
use std::fmt;
use std::str::FromStr;

/// Where an integration belongs: cloud storage (export) or a help center (import).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownName {
                expected: "cloud, helpcenter",
            })
    }
}

/// Generates `Provider`, `Credentials` and their dispatch from the table below.
macro_rules! providers {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $name:literal, $platform:ident, $display:literal, $module:ident::$creds:ident;
    )*) => {
        /// The supported providers (API.md section 4).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Provider {
            $($(#[$doc])* $variant,)*
        }

        impl Provider {
            /// Every provider, in table order.
            pub const ALL: &'static [Provider] = &[$(Provider::$variant),*];

            /// The names, for "must be one of" messages.
            const NAMES: &'static str = concat!($($name, ", "),*);

            /// The name used in JSON, configuration and storage.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Provider::$variant => $name,)*
                }
            }

            /// The platform a provider belongs to.
            pub fn platform(self) -> Platform {
                match self {
                    $(Provider::$variant => Platform::$platform,)*
                }
            }

            /// How the provider calls itself, for messages ("Help Scout").
            pub fn display_name(self) -> &'static str {
                match self {
                    $(Provider::$variant => $display,)*
                }
            }

            /// The credential fields of this provider, in the order they are shown.
            pub fn fields(self) -> &'static [FieldSpec] {
                match self {
                    $(Provider::$variant => <crate::credentials::$module::$creds as ProviderCredentials>::FIELDS,)*
                }
            }

            /// Valid example credentials (documentation and tests).
            pub fn sample(self) -> &'static [(&'static str, &'static str)] {
                match self {
                    $(Provider::$variant => <crate::credentials::$module::$creds as ProviderCredentials>::SAMPLE,)*
                }
            }
        }

        /// Validated credentials of one provider. `Debug` never shows a secret; `Clone` copies
        /// secrets into new zeroizing buffers.
        #[derive(Clone, Debug)]
        pub enum Credentials {
            $($variant(crate::credentials::$module::$creds),)*
        }

        impl Credentials {
            pub fn provider(&self) -> Provider {
                match self {
                    $(Credentials::$variant(_) => Provider::$variant,)*
                }
            }

            /// Runs the parser of `provider` over the reader's input.
            pub(crate) fn read(provider: Provider, reader: &mut CredentialReader<'_>) -> Option<Credentials> {
                match provider {
                    $(Provider::$variant => {
                        <crate::credentials::$module::$creds as ProviderCredentials>::read(reader)
                            .map(Credentials::$variant)
                    })*
                }
            }

            /// The fields stored in clear (key ids in masked form).
            pub fn public_fields(&self) -> PublicFields {
                let mut out = PublicFields::new();
                match self {
                    $(Credentials::$variant(c) => c.public_fields(&mut out),)*
                }
                out
            }

            /// The fields the vault seals: secrets and key ids.
            pub fn secret_fields(&self) -> SecretFields {
                let mut out = SecretFields::new();
                match self {
                    $(Credentials::$variant(c) => c.secret_fields(&mut out),)*
                }
                out
            }
        }
    };
}

providers! {
    /// Amazon S3 (export).
    S3 => "s3", Cloud, "Amazon S3", s3::S3Credentials;
    /// Cloudflare R2 (export).
    R2 => "r2", Cloud, "Cloudflare R2", r2::R2Credentials;
    /// Zendesk Guide (import).
    Zendesk => "zendesk", Helpcenter, "Zendesk", zendesk::ZendeskCredentials;
    /// Intercom articles (import).
    Intercom => "intercom", Helpcenter, "Intercom", intercom::IntercomCredentials;
    /// Help Scout Docs (import).
    Helpscout => "helpscout", Helpcenter, "Help Scout", helpscout::HelpscoutCredentials;
    /// Helpjuice (import).
    Helpjuice => "helpjuice", Helpcenter, "Helpjuice", helpjuice::HelpjuiceCredentials;
    /// Freshdesk Solutions (import).
    Freshdesk => "freshdesk", Helpcenter, "Freshdesk", freshdesk::FreshdeskCredentials;
    /// KnowledgeOwl (import).
    Knowledgeowl => "knowledgeowl", Helpcenter, "KnowledgeOwl", knowledgeowl::KnowledgeowlCredentials;
}

impl Provider {
    /// The providers of one platform, in table order.
    pub fn of(platform: Platform) -> impl Iterator<Item = Provider> {
        Provider::ALL
            .iter()
            .copied()
            .filter(move |p| p.platform() == platform)
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
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownName {
                expected: Self::NAMES.trim_end_matches([',', ' ']),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_platforms_agree() {
        for &p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
        }
        assert_eq!(Provider::R2.platform(), Platform::Cloud);
        assert_eq!(Provider::Knowledgeowl.platform(), Platform::Helpcenter);
        assert!("S3".parse::<Provider>().is_err());
        assert!("storage".parse::<Platform>().is_err());
        assert_eq!(
            "x".parse::<Provider>().unwrap_err().expected,
            "s3, r2, zendesk, intercom, helpscout, helpjuice, freshdesk, knowledgeowl"
        );
        assert_eq!(Provider::of(Platform::Cloud).count(), 2);
        assert_eq!(Provider::of(Platform::Helpcenter).count(), 6);
    }
}
