//! The key-ring text parser (`KeyRing::from_text`): never panics, and an error's `Display` and
//! `Debug` never contain a 20-character run of the input (no key material echoed).
//!
//! Runs of the input that are also fixed text of some error message (digits ignored, so
//! that line numbers and ids do not matter) are not counted as echoes.
#![no_main]

use integrations_vault::keyring::{KeyRingError, Location};
use integrations_vault::KeyRing;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use std::sync::OnceLock;

const WINDOW: usize = 20;

fn digits_to_zero(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}

/// Every message `from_text` can give, with digits zeroed.
fn fixed_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut out = String::new();
        for at in [
            Location {
                line: 1,
                entry: None,
            },
            Location {
                line: 1,
                entry: Some(1),
            },
        ] {
            for e in [
                KeyRingError::Empty,
                KeyRingError::Malformed { at },
                KeyRingError::BadId { at },
                KeyRingError::BadBase64 { at },
                KeyRingError::WrongLength { at },
                KeyRingError::DuplicateId { at, id: 1 },
                KeyRingError::DuplicateActive { at },
                KeyRingError::BareKeyAmongOthers { at },
                KeyRingError::ActiveMissing { id: 1 },
                KeyRingError::Random,
            ] {
                out.push_str(&format!("{e}\n{e:?}\n"));
            }
        }
        digits_to_zero(&out)
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Err(e) = KeyRing::from_text(&SecretString::from(text.as_ref())) else {
        return;
    };
    let shown = format!("{e}\n{e:?}");
    let chars: Vec<char> = text.chars().collect();
    for window in chars.windows(WINDOW) {
        let run: String = window.iter().collect();
        if shown.contains(&run) {
            assert!(
                fixed_text().contains(&digits_to_zero(&run)),
                "the error echoes the input {run:?}: {shown}"
            );
        }
    }
});
