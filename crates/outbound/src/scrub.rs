//! Removing secrets from text a provider sent back before any of it is quoted to a user,
//! stored in `lastVerification` or logged.
//!
//! A provider may echo a secret in many forms: as sent, base64-encoded (an `Authorization:
//! Basic` value), percent-encoded, or cut short ("token abc123… is invalid"). The scrubber
//! knows every form of every secret of the request and removes any run of token characters
//! that is, contains, or overlaps one of them by [`MIN_OVERLAP`] characters or more.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

/// The shortest shared run that counts as a (partial) echo of a secret.
pub const MIN_OVERLAP: usize = 6;
/// What replaces a scrubbed run.
pub const REDACTED: &str = "****";

/// The secrets of one request, in every form they may come back in.
#[derive(Clone, Default)]
pub struct Scrubber {
    forms: Vec<SecretString>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} forms)", self.forms.len())
    }
}

impl Scrubber {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret: as is, base64 (standard and URL-safe, padded or not) and
    /// percent-encoded.
    pub fn secret(mut self, secret: &str) -> Self {
        let secret = secret.trim();
        if secret.is_empty() {
            return self;
        }
        self.push(secret.to_owned());
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            self.push(engine.encode(secret.as_bytes()));
        }
        self.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
        self
    }

    /// Adds one more exact form (a whole header value, `user:secret` before encoding).
    pub fn form(mut self, form: &str) -> Self {
        if !form.is_empty() {
            self.push(form.to_owned());
            self.push(STANDARD.encode(form.as_bytes()));
        }
        self
    }

    fn push(&mut self, form: String) {
        if !self.forms.iter().any(|f| f.expose_secret() == form) {
            self.forms.push(SecretString::from(form));
        }
    }

    /// `text` with every run of token characters that echoes a secret replaced by `****`.
    pub fn scrub(&self, text: &str) -> String {
        if self.forms.is_empty() {
            return text.to_owned();
        }
        // A form holding other characters (`ab:cd`, `user:secret`) spans several runs, each
        // perhaps too short to count: its exact occurrences are removed first, longest first.
        let mut glued: Vec<&str> = self
            .forms
            .iter()
            .map(|f| f.expose_secret())
            .filter(|f| !f.chars().all(is_token_char))
            .collect();
        glued.sort_by_key(|f| std::cmp::Reverse(f.len()));
        let mut text = std::borrow::Cow::Borrowed(text);
        for form in glued {
            if text.contains(form) {
                text = std::borrow::Cow::Owned(text.replace(form, REDACTED));
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut run = String::new();
        for c in text.chars() {
            if is_token_char(c) {
                run.push(c);
            } else {
                self.flush(&mut run, &mut out);
                out.push(c);
            }
        }
        self.flush(&mut run, &mut out);
        out
    }

    fn flush(&self, run: &mut String, out: &mut String) {
        if run.is_empty() {
            return;
        }
        if self.echoes(run) {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    }

    fn echoes(&self, run: &str) -> bool {
        self.forms.iter().any(|form| {
            let form = form.expose_secret();
            if form.len() < MIN_OVERLAP || run.len() < MIN_OVERLAP {
                // Short secrets: only an exact occurrence counts.
                return run.contains(form);
            }
            form.contains(run) || run.contains(form) || shares_window(run, form)
        })
    }
}

/// Characters a secret is usually made of (letters, digits and base64/url punctuation).
fn is_token_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            '+' | '/' | '=' | '_' | '-' | '.' | '~' | '%' | '$' | '!' | '*'
        )
}

/// Whether `a` and `b` share a substring of at least [`MIN_OVERLAP`] bytes.
fn shares_window(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.windows(MIN_OVERLAP)
        .any(|w| b.windows(MIN_OVERLAP).any(|x| x == w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_secret_is_removed() {
        let secret = "zd-Token-1234567890abcdef";
        let s = Scrubber::new()
            .secret(secret)
            .form(&format!("agent@example.com/token:{secret}"));
        let basic = STANDARD.encode(format!("agent@example.com/token:{secret}"));
        for text in [
            format!("bad token {secret}"),
            format!("token={}", STANDARD.encode(secret)),
            format!("Authorization: Basic {basic}"),
            "token zd-Token-12345… is invalid".to_owned(),
            "the key ends in 7890abcdef".to_owned(),
            format!(
                "url-encoded {}",
                url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()
            ),
        ] {
            let out = s.scrub(&text);
            assert!(out.contains(REDACTED), "{text} -> {out}");
            assert!(!out.contains("1234567890"), "{text} -> {out}");
            assert!(!out.contains("7890abcdef"), "{text} -> {out}");
            assert!(!out.contains(&basic), "{text} -> {out}");
        }
        assert_eq!(
            s.scrub("Couldn't authenticate you"),
            "Couldn't authenticate you"
        );
    }

    #[test]
    fn secrets_with_other_characters_are_removed() {
        // Found by the property tests: "&" or "abc:defgh" (runs shorter than MIN_OVERLAP on
        // each side of a non-token character) came through untouched.
        for secret in ["&", "abc:defgh", "p@ss#w0rd", "ab\"cd"] {
            let s = Scrubber::new().secret(secret);
            let out = s.scrub(&format!("invalid key '{secret}' given"));
            assert_eq!(out, "invalid key '****' given", "{secret}");
        }
        let s = Scrubber::new()
            .secret("abc:defgh")
            .form("agent@example.com:abc:defgh");
        assert!(!s
            .scrub("no agent@example.com:abc:defgh here")
            .contains("abc:defgh"));
    }

    #[test]
    fn short_secrets_are_removed_only_when_whole() {
        let s = Scrubber::new().secret("abc");
        assert_eq!(s.scrub("abc abcd xabc"), "**** **** ****");
        assert_eq!(s.scrub("nothing here"), "nothing here");
    }
}
