//! The key ring: the key-encryption keys (KEKs) of the vault, one of them active.
//!
//! Text format (a file, or the environment value `vault.master_key`):
//!
//! ```text
//! # comments and blank lines are ignored
//! 1:<base64 of 32 bytes>
//! 2:<base64 of 32 bytes>
//! active:2
//! ```
//!
//! * Entries may also be separated by commas (handy in an environment variable):
//!   `1:<base64>,2:<base64>,active:1`.
//! * Without an `active:` entry the highest id is active.
//! * A single bare base64 key (no `<id>:`) means key id 1.
//!
//! Raw key bytes exist only transiently in [`Zeroizing`] buffers while a key is loaded: the ring
//! keeps the AES key (ready to use) and the key's fingerprint, nothing else. Neither `Debug` nor
//! any error shows key material; errors point at a line instead.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hkdf, hmac};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Length of every key-encryption key, in bytes.
pub const KEK_LEN: usize = 32;

/// The message HMAC-SHA256'd under each KEK to make its fingerprint.
pub const FINGERPRINT_CONTEXT: &[u8] = b"integrations-api/kek-fingerprint/v1";

/// HKDF salt and info deriving each KEK's token key.
const TOKEN_SALT: &[u8] = b"integrations-api/token-key";
const TOKEN_INFO: &[u8] = b"integrations-api/token-key/v1";

/// Standard base64 alphabet; padding optional on input (`=` is easy to lose in env files).
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Where in the key text a problem is: 1-based line, and the entry within the line when a line
/// holds several comma-separated entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    /// `Some(n)` (1-based) only when the line holds more than one entry.
    pub entry: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(entry) => write!(f, "line {}, entry {entry}", self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// Why a key ring cannot be loaded or created. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("key file {} not found", path.display())]
    NotFound { path: PathBuf },
    #[error("key file {} already exists; refusing to overwrite it", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("cannot access key file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {} is not UTF-8 text", path.display())]
    NotText { path: PathBuf },
    #[error("no key-encryption key found (expected `<id>:<base64 of 32 bytes>` entries)")]
    Empty,
    #[error("key text, {at}: expected `<id>:<base64 of 32 bytes>` or `active:<id>`")]
    Malformed { at: Location },
    #[error("key text, {at}: the key id must be a whole number from 1 to 4294967295")]
    BadId { at: Location },
    #[error("key text, {at}: the key is not valid base64")]
    BadBase64 { at: Location },
    #[error("key text, {at}: the key must decode to exactly 32 bytes")]
    WrongLength { at: Location },
    #[error("key text, {at}: key id {id} appears more than once")]
    DuplicateId { at: Location, id: u32 },
    #[error("key text, {at}: `active:` appears more than once")]
    DuplicateActive { at: Location },
    #[error("key text, {at}: a key without an id is only allowed as the sole entry")]
    BareKeyAmongOthers { at: Location },
    #[error("the active key id {id} is not among the keys")]
    ActiveMissing { id: u32 },
    #[error("the system random generator failed")]
    Random,
    #[error(
        "key file {} is readable by group or others (mode {mode:o}); restrict it with \
         `chmod 600 {}` (or set vault.allow_insecure_key_file = true)",
        path.display(),
        path.display()
    )]
    Exposed { path: PathBuf, mode: u32 },
}

/// One key-encryption key.
#[derive(Clone)]
pub(crate) struct Kek {
    /// AES-256-GCM key wrapping and unwrapping data keys.
    aead: LessSafeKey,
    /// AES-256-GCM key of small tokens (import cursors), derived from the KEK with HKDF so
    /// that no new secret has to be managed and no key serves two purposes.
    token: LessSafeKey,
    /// HMAC-SHA256 of [`FINGERPRINT_CONTEXT`] under the key bytes.
    fingerprint: [u8; 32],
}

impl Kek {
    /// The AES-256-GCM key that wraps and unwraps data keys.
    pub(crate) fn aead(&self) -> &LessSafeKey {
        &self.aead
    }

    /// The AES-256-GCM key of tokens.
    pub(crate) fn token(&self) -> &LessSafeKey {
        &self.token
    }

    fn from_bytes(bytes: &Zeroizing<[u8; KEK_LEN]>) -> Result<Self, KeyRingError> {
        // `UnboundKey::new` only fails for a wrong key length, which the type rules out.
        let unbound =
            UnboundKey::new(&AES_256_GCM, &bytes[..]).map_err(|_| KeyRingError::WrongLength {
                at: Location {
                    line: 0,
                    entry: None,
                },
            })?;
        let mac_key = hmac::Key::new(hmac::HMAC_SHA256, &bytes[..]);
        let tag = hmac::sign(&mac_key, FINGERPRINT_CONTEXT);
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(tag.as_ref());
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, TOKEN_SALT).extract(&bytes[..]);
        let token = prk
            .expand(&[TOKEN_INFO], &AES_256_GCM)
            .map(UnboundKey::from)
            .map_err(|_| KeyRingError::Random)?;
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            token: LessSafeKey::new(token),
            fingerprint,
        })
    }
}

/// The key-encryption keys: one active (wraps new data keys), the others decrypt-only.
#[derive(Clone)]
pub struct KeyRing {
    keys: BTreeMap<u32, Kek>,
    active: u32,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Whether [`KeyRing::load_or_generate_file`] found the key file or created it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFileOrigin {
    Loaded,
    Generated,
}

impl KeyRing {
    /// Parses the text format (see the module documentation).
    pub fn from_text(text: &SecretString) -> Result<KeyRing, KeyRingError> {
        parse(text.expose_secret())
    }

    /// A ring holding these keys, `active` (default: the highest id) encrypting.
    pub fn from_keys(
        keys: impl IntoIterator<Item = (u32, Zeroizing<[u8; KEK_LEN]>)>,
        active: Option<u32>,
    ) -> Result<KeyRing, KeyRingError> {
        let mut map = BTreeMap::new();
        for (i, (id, bytes)) in keys.into_iter().enumerate() {
            let at = Location {
                line: i + 1,
                entry: None,
            };
            if id == 0 {
                return Err(KeyRingError::BadId { at });
            }
            if map.insert(id, Kek::from_bytes(&bytes)?).is_some() {
                return Err(KeyRingError::DuplicateId { at, id });
            }
        }
        Self::assemble(map, active)
    }

    /// A ring with one new random key, id 1, held in memory only (tests, ephemeral use).
    pub fn generate() -> Result<KeyRing, KeyRingError> {
        let bytes = random_key()?;
        Self::from_keys([(1, bytes)], None)
    }

    /// Reads a key file. A file readable by group or others is refused (as ssh refuses such
    /// a private key) unless `allow_exposed`, in which case it is only logged.
    pub fn load_file(path: impl AsRef<Path>, allow_exposed: bool) -> Result<KeyRing, KeyRingError> {
        let path = path.as_ref();
        let io_err = |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::NotFound {
                KeyRingError::NotFound {
                    path: path.to_owned(),
                }
            } else {
                KeyRingError::Io {
                    path: path.to_owned(),
                    source,
                }
            }
        };
        let mut file = std::fs::File::open(path).map_err(io_err)?;
        let metadata = file.metadata().map_err(io_err)?;
        check_exposure(path, &metadata, allow_exposed)?;
        // Sized up front so the buffer holding the keys is never reallocated (and so never
        // leaves an unzeroized copy behind).
        let capacity = usize::try_from(metadata.len())
            .unwrap_or(0)
            .saturating_add(1);
        let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
        file.read_to_end(&mut buf).map_err(io_err)?;
        let text = std::str::from_utf8(&buf).map_err(|_| KeyRingError::NotText {
            path: path.to_owned(),
        })?;
        let ring = parse(text)?;
        tracing::info!(path = %path.display(), active = ring.active, keys = ring.keys.len(), "loaded key-encryption keys");
        Ok(ring)
    }

    /// Creates a key file holding one new random key `1:<base64>`, with mode 0600 (parent
    /// directories 0700), and returns its ring. Refuses to overwrite an existing file.
    pub fn generate_file(path: impl AsRef<Path>) -> Result<KeyRing, KeyRingError> {
        let path = path.as_ref();
        let io_err = |source: std::io::Error| KeyRingError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(parent).map_err(io_err)?;
        }
        let bytes = random_key()?;
        let mut text = Zeroizing::new(String::with_capacity(256));
        text.push_str(
            "# Integration API key-encryption keys. Keep this file secret and backed up:\n\
             # without it no stored credential can be opened.\n\
             # Format: `<id>:<base64 of 32 bytes>` per line, optional `active:<id>`.\n1:",
        );
        STANDARD.encode_string(&bytes[..], &mut text);
        text.push('\n');

        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                KeyRingError::AlreadyExists {
                    path: path.to_owned(),
                }
            } else {
                io_err(source)
            }
        })?;
        file.write_all(text.as_bytes()).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        tracing::info!(path = %path.display(), "generated a new key-encryption key file");
        Self::from_keys([(1, bytes)], None)
    }

    /// Loads the key file, or creates it when it does not exist yet (first start).
    pub fn load_or_generate_file(
        path: impl AsRef<Path>,
    ) -> Result<(KeyRing, KeyFileOrigin), KeyRingError> {
        let path = path.as_ref();
        match Self::load_file(path, false) {
            Err(KeyRingError::NotFound { .. }) => match Self::generate_file(path) {
                Ok(ring) => Ok((ring, KeyFileOrigin::Generated)),
                // Another process created it in between: use theirs.
                Err(KeyRingError::AlreadyExists { .. }) => {
                    Self::load_file(path, false).map(|r| (r, KeyFileOrigin::Loaded))
                }
                Err(e) => Err(e),
            },
            other => other.map(|r| (r, KeyFileOrigin::Loaded)),
        }
    }

    /// The id of the key wrapping new data keys.
    pub fn active_id(&self) -> u32 {
        self.active
    }

    /// All key ids, ascending.
    pub fn ids(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    pub fn contains(&self, id: u32) -> bool {
        self.keys.contains_key(&id)
    }

    /// HMAC-SHA256 of [`FINGERPRINT_CONTEXT`] under each key, by ascending id. Stored by the
    /// server so that a wrong key is refused at start.
    pub fn fingerprints(&self) -> Vec<(u32, [u8; 32])> {
        self.keys
            .iter()
            .map(|(id, k)| (*id, k.fingerprint))
            .collect()
    }

    /// The fingerprint of one key.
    pub fn fingerprint(&self, id: u32) -> Option<[u8; 32]> {
        self.keys.get(&id).map(|k| k.fingerprint)
    }

    /// The key with this id, if the ring holds it.
    pub(crate) fn get(&self, id: u32) -> Option<&Kek> {
        self.keys.get(&id)
    }

    /// The active key and its id (always `Some` for a ring built by this module).
    pub(crate) fn active(&self) -> Option<(u32, &Kek)> {
        self.keys.get(&self.active).map(|k| (self.active, k))
    }

    fn assemble(keys: BTreeMap<u32, Kek>, active: Option<u32>) -> Result<KeyRing, KeyRingError> {
        let highest = keys
            .keys()
            .next_back()
            .copied()
            .ok_or(KeyRingError::Empty)?;
        let active = active.unwrap_or(highest);
        if !keys.contains_key(&active) {
            return Err(KeyRingError::ActiveMissing { id: active });
        }
        Ok(KeyRing { keys, active })
    }
}

fn random_key() -> Result<Zeroizing<[u8; KEK_LEN]>, KeyRingError> {
    let mut bytes = Zeroizing::new([0u8; KEK_LEN]);
    SystemRandom::new()
        .fill(&mut bytes[..])
        .map_err(|_| KeyRingError::Random)?;
    Ok(bytes)
}

fn decode_key(text: &str, at: Location) -> Result<Zeroizing<[u8; KEK_LEN]>, KeyRingError> {
    // Room for more than one key so that a too-long key is reported as a wrong length.
    let mut buf = Zeroizing::new([0u8; 2 * KEK_LEN]);
    let len = KEY_BASE64
        .decode_slice(text.trim(), &mut buf[..])
        .map_err(|e| match e {
            base64::DecodeSliceError::OutputSliceTooSmall => KeyRingError::WrongLength { at },
            base64::DecodeSliceError::DecodeError(_) => KeyRingError::BadBase64 { at },
        })?;
    if len != KEK_LEN {
        return Err(KeyRingError::WrongLength { at });
    }
    let mut key = Zeroizing::new([0u8; KEK_LEN]);
    key.copy_from_slice(&buf[..KEK_LEN]);
    Ok(key)
}

fn parse_id(text: &str, at: Location) -> Result<u32, KeyRingError> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(KeyRingError::BadId { at });
    }
    match text.parse::<u32>() {
        Ok(0) | Err(_) => Err(KeyRingError::BadId { at }),
        Ok(id) => Ok(id),
    }
}

fn parse(text: &str) -> Result<KeyRing, KeyRingError> {
    // Entries with where they are; comment lines dropped.
    let mut entries: Vec<(Location, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = trimmed
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let several = parts.len() > 1;
        for (j, part) in parts.into_iter().enumerate() {
            let at = Location {
                line: i + 1,
                entry: several.then_some(j + 1),
            };
            entries.push((at, part));
        }
    }

    let single = entries.len() == 1;
    let mut keys = BTreeMap::new();
    let mut active: Option<u32> = None;
    for (at, entry) in entries {
        match entry.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("active") => {
                if active.is_some() {
                    return Err(KeyRingError::DuplicateActive { at });
                }
                active = Some(parse_id(value, at)?);
            }
            Some((id, value)) => {
                let id = parse_id(id, at)?;
                let key = decode_key(value, at)?;
                if keys.insert(id, Kek::from_bytes(&key)?).is_some() {
                    return Err(KeyRingError::DuplicateId { at, id });
                }
            }
            None if single => {
                let key = decode_key(entry, at)?;
                keys.insert(1, Kek::from_bytes(&key)?);
            }
            None => {
                // A bare key among other entries; or garbage. Both are refused; only the
                // first looks like base64.
                return Err(if KEY_BASE64.decode(entry).map(Zeroizing::new).is_ok() {
                    KeyRingError::BareKeyAmongOthers { at }
                } else {
                    KeyRingError::Malformed { at }
                });
            }
        }
    }
    KeyRing::assemble(keys, active)
}

#[cfg(unix)]
fn check_exposure(
    path: &Path,
    metadata: &std::fs::Metadata,
    allow_exposed: bool,
) -> Result<(), KeyRingError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if !allow_exposed {
        return Err(KeyRingError::Exposed {
            path: path.to_owned(),
            mode,
        });
    }
    tracing::warn!(
        path = %path.display(),
        mode = format!("{mode:o}"),
        "the key file is readable by group or others (allowed by vault.allow_insecure_key_file); restrict it with `chmod 600`"
    );
    Ok(())
}

#[cfg(not(unix))]
fn check_exposure(_: &Path, _: &std::fs::Metadata, _: bool) -> Result<(), KeyRingError> {
    Ok(())
}

impl KeyRing {
    /// Adds a new random key to the ring file `path` (created with mode 0600 when absent) and
    /// makes it the active one, keeping the older keys and the comments. The file is replaced
    /// atomically (a temporary file in the same directory, synced, then renamed). Returns the
    /// new key's id: one more than the highest id in the file.
    pub fn add_key_to_file(path: impl AsRef<Path>) -> Result<u32, KeyRingError> {
        let path = path.as_ref();
        let io_err = |source: std::io::Error| KeyRingError::Io {
            path: path.to_owned(),
            source,
        };
        let existing: Zeroizing<String> = match std::fs::read(path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                Zeroizing::new(
                    std::str::from_utf8(&bytes)
                        .map_err(|_| KeyRingError::NotText {
                            path: path.to_owned(),
                        })?
                        .to_owned(),
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Zeroizing::new(String::new()),
            Err(e) => return Err(io_err(e)),
        };
        let next = if existing.trim().is_empty() {
            1
        } else {
            let ring = parse(&existing)?;
            ring.ids()
                .last()
                .copied()
                .unwrap_or(0)
                .checked_add(1)
                .ok_or(KeyRingError::BadId {
                    at: Location {
                        line: 0,
                        entry: None,
                    },
                })?
        };
        let bytes = random_key()?;
        let mut text = Zeroizing::new(String::with_capacity(existing.len() + 128));
        if existing.trim().is_empty() {
            text.push_str(
                "# Integration API key-encryption keys. Keep this file secret and backed up:\n\
                 # without it no stored credential can be opened.\n\
                 # Format: `<id>:<base64 of 32 bytes>` per line, optional `active:<id>`.\n",
            );
        }
        for line in existing.lines() {
            // The old `active:` line goes; the new key becomes active.
            if line.trim().to_ascii_lowercase().starts_with("active:") {
                continue;
            }
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!("{next}:"));
        STANDARD.encode_string(&bytes[..], &mut text);
        text.push_str(&format!("\nactive:{next}\n"));
        // Refuse to write what we could not read back.
        parse(&text)?;

        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io_err)?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("keys"),
            std::process::id()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io_err)?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(e));
        }
        tracing::info!(path = %path.display(), key_id = next, "added a key-encryption key and made it active");
        Ok(next)
    }

    /// A new random key as one line of the text format, `<id>:<base64>` (for
    /// `keys generate` without a file).
    pub fn generate_line(id: u32) -> Result<Zeroizing<String>, KeyRingError> {
        let bytes = random_key()?;
        let mut line = Zeroizing::new(format!("{id}:"));
        STANDARD.encode_string(&bytes[..], &mut line);
        Ok(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[test]
    fn parses_files_with_comments_and_active() {
        let text = format!(
            "# keys\n\n1:{}\n  2 : {}  \n# old one above\nactive:1\n",
            b64(&[1; 32]),
            b64(&[2; 32])
        );
        let ring = KeyRing::from_text(&secret(&text)).unwrap();
        assert_eq!(ring.active_id(), 1);
        assert_eq!(ring.ids(), vec![1, 2]);
    }

    #[test]
    fn highest_id_is_active_by_default_and_commas_separate_entries() {
        let text = format!("7:{}, 3:{}", b64(&[7; 32]), b64(&[3; 32]));
        let ring = KeyRing::from_text(&secret(&text)).unwrap();
        assert_eq!(ring.active_id(), 7);
        assert_eq!(ring.ids(), vec![3, 7]);
        let text = format!("7:{},3:{},active:3", b64(&[7; 32]), b64(&[3; 32]));
        assert_eq!(KeyRing::from_text(&secret(&text)).unwrap().active_id(), 3);
    }

    #[test]
    fn a_bare_key_is_id_one_and_padding_is_optional() {
        let ring = KeyRing::from_text(&secret(&format!("  {}\n", b64(&[9; 32])))).unwrap();
        assert_eq!(ring.ids(), vec![1]);
        assert_eq!(ring.active_id(), 1);
        let unpadded = b64(&[9; 32]).trim_end_matches('=').to_owned();
        let again = KeyRing::from_text(&secret(&unpadded)).unwrap();
        assert_eq!(again.fingerprints(), ring.fingerprints());
    }

    #[test]
    fn bad_inputs_are_refused_with_a_reason_and_without_the_key() {
        let key = b64(&[0xAB; 32]);
        let short = b64(&[0xCD; 31]);
        let long = b64(&[0xEF; 33]);
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "no key"),
            ("# only a comment\n\n".into(), "no key"),
            (format!("1:{short}"), "exactly 32 bytes"),
            (format!("1:{long}"), "exactly 32 bytes"),
            (format!("1:{key}!"), "not valid base64"),
            (format!("x:{key}"), "key id"),
            (format!("0:{key}"), "key id"),
            (format!("-1:{key}"), "key id"),
            (format!("99999999999:{key}"), "key id"),
            (
                format!("1:{key}\n1:{key}"),
                "key id 1 appears more than once",
            ),
            (format!("1:{key}\nactive:2"), "active key id 2"),
            (format!("1:{key}\nactive:1\nactive:1"), "more than once"),
            (format!("1:{key}\nactive:one"), "key id"),
            (format!("1:{key}\n{key}"), "without an id"),
            (format!("1:{key}\nnot a key at all"), "expected"),
        ];
        for (text, expected) in cases {
            let err = KeyRing::from_text(&secret(&text)).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(expected), "{text:?}: {shown}");
            for k in [&key, &short, &long] {
                assert!(!shown.contains(k.as_str()), "{shown}");
                assert!(!shown.contains(&k[..16]), "{shown}");
            }
        }
    }

    #[test]
    fn errors_name_the_line() {
        let text = format!("# header\n1:{}\n2:nope", b64(&[1; 32]));
        let err = KeyRing::from_text(&secret(&text)).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        let text = format!("1:{},2:nope", b64(&[1; 32]));
        let err = KeyRing::from_text(&secret(&text)).unwrap_err();
        assert!(err.to_string().contains("line 1, entry 2"), "{err}");
    }

    #[test]
    fn fingerprints_are_hmacs_of_the_constant() {
        let text = format!("1:{}\n2:{}", b64(&[1; 32]), b64(&[2; 32]));
        let ring = KeyRing::from_text(&secret(&text)).unwrap();
        let expected = |k: [u8; 32]| {
            let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &k), FINGERPRINT_CONTEXT);
            <[u8; 32]>::try_from(tag.as_ref()).unwrap()
        };
        assert_eq!(
            ring.fingerprints(),
            vec![(1, expected([1; 32])), (2, expected([2; 32]))]
        );
        assert_ne!(ring.fingerprint(1), ring.fingerprint(2));
        assert_eq!(ring.fingerprint(3), None);
    }

    #[test]
    fn debug_shows_ids_only() {
        let bytes = [0x5A; 32];
        let text = format!("4:{}", b64(&bytes));
        let ring = KeyRing::from_text(&secret(&text)).unwrap();
        let shown = format!("{ring:?} {ring:#?}");
        assert!(shown.contains("active: 4"), "{shown}");
        assert!(!shown.contains(&b64(&bytes)[..8]), "{shown}");
        assert!(!shown.contains("90, 90"), "{shown}"); // 0x5A as decimal bytes
        assert!(!shown.to_lowercase().contains("5a5a"), "{shown}");
        let fp: String = ring.fingerprint(4).unwrap()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!shown.contains(&fp), "{shown}");
    }

    #[cfg(unix)]
    #[test]
    fn generate_file_creates_mode_0600_and_refuses_to_overwrite() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/master.key");
        let ring = KeyRing::generate_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(ring.ids(), vec![1]);

        let before = std::fs::read(&path).unwrap();
        let err = KeyRing::generate_file(&path).unwrap_err();
        assert!(matches!(err, KeyRingError::AlreadyExists { .. }), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), before);

        let loaded = KeyRing::load_file(&path, false).unwrap();
        assert_eq!(loaded.fingerprints(), ring.fingerprints());
        let text = String::from_utf8(before).unwrap();
        assert!(text.lines().any(|l| l.starts_with("1:")), "{text}");
    }

    #[test]
    fn generated_keys_differ() {
        let dir = tempfile::tempdir().unwrap();
        let a = KeyRing::generate_file(dir.path().join("a.key")).unwrap();
        let b = KeyRing::generate_file(dir.path().join("b.key")).unwrap();
        assert_ne!(a.fingerprints(), b.fingerprints());
        assert_ne!(
            KeyRing::generate().unwrap().fingerprints(),
            KeyRing::generate().unwrap().fingerprints()
        );
    }

    #[test]
    fn load_file_reports_a_missing_file_and_load_or_generate_creates_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/master.key");
        let err = KeyRing::load_file(&path, false).unwrap_err();
        assert!(matches!(err, KeyRingError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("not found"), "{err}");

        let (first, origin) = KeyRing::load_or_generate_file(&path).unwrap();
        assert_eq!(origin, KeyFileOrigin::Generated);
        let (second, origin) = KeyRing::load_or_generate_file(&path).unwrap();
        assert_eq!(origin, KeyFileOrigin::Loaded);
        assert_eq!(first.fingerprints(), second.fingerprints());
    }

    #[test]
    fn load_file_errors_do_not_show_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.key");
        let short = b64(&[0x11; 20]);
        std::fs::write(&path, format!("1:{short}\n")).unwrap();
        let err = KeyRing::load_file(&path, true).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("32 bytes"), "{shown}");
        assert!(!shown.contains(&short[..10]), "{shown}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused_unless_allowed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        KeyRing::generate_file(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeyRing::load_file(&path, false).unwrap_err();
        assert!(
            matches!(err, KeyRingError::Exposed { mode: 0o644, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(KeyRing::load_file(&path, true).is_ok());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(KeyRing::load_file(&path, false).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_added_to_a_file_as_the_active_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ring.key");
        assert_eq!(KeyRing::add_key_to_file(&path).unwrap(), 1);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let first = KeyRing::load_file(&path, false).unwrap();
        assert_eq!(KeyRing::add_key_to_file(&path).unwrap(), 2);
        let ring = KeyRing::load_file(&path, false).unwrap();
        assert_eq!((ring.active_id(), ring.ids()), (2, vec![1, 2]));
        assert_eq!(
            ring.fingerprint(1),
            first.fingerprint(1),
            "the old key is kept"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().filter(|l| l.starts_with("active:")).count(),
            1,
            "{text}"
        );
        assert!(text.starts_with("# Integration API"), "comments are kept");
        // A damaged file is not touched.
        std::fs::write(&path, "1:not-base64\n").unwrap();
        assert!(KeyRing::add_key_to_file(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1:not-base64\n");
    }

    #[test]
    fn from_keys_checks_ids() {
        let k = |b| Zeroizing::new([b; 32]);
        let ring = KeyRing::from_keys([(1, k(1)), (5, k(5))], Some(1)).unwrap();
        assert_eq!((ring.active_id(), ring.ids()), (1, vec![1, 5]));
        assert!(matches!(
            KeyRing::from_keys([(1, k(1)), (1, k(2))], None),
            Err(KeyRingError::DuplicateId { id: 1, .. })
        ));
        assert!(matches!(
            KeyRing::from_keys([(1, k(1))], Some(2)),
            Err(KeyRingError::ActiveMissing { id: 2 })
        ));
        assert!(matches!(
            KeyRing::from_keys([], None),
            Err(KeyRingError::Empty)
        ));
    }
}
