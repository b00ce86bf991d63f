//! Pages and keyset positions shared by every list (integrations, events).

use crate::validation::ValidationErrors;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use time::OffsetDateTime;
use uuid::Uuid;

/// Page size: 1 to 100, default 20.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: PageLimit = PageLimit(20);
    pub const MAX: u32 = 100;

    pub fn new(n: u32) -> Option<Self> {
        (1..=Self::MAX).contains(&n).then_some(Self(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// `limit` as sent (`None`: `default`), with a 422 naming the parameter.
    pub fn parse(raw: Option<&str>, default: PageLimit, errors: &mut ValidationErrors) -> Self {
        match raw {
            None => default,
            Some(raw) => raw
                .trim()
                .parse::<u32>()
                .ok()
                .and_then(PageLimit::new)
                .unwrap_or_else(|| {
                    errors.add("limit", "must be a whole number from 1 to 100");
                    default
                }),
        }
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where a page ends in a keyset order over (`time`, `id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub at: OffsetDateTime,
    pub id: Uuid,
}

impl Position {
    /// The opaque cursor a client sends back; `kind` tells lists apart (`v1` integrations,
    /// `e1` events) so a cursor of one list is refused by another.
    pub fn to_cursor(&self, kind: &str) -> String {
        let millis = self.at.unix_timestamp_nanos().div_euclid(1_000_000);
        URL_SAFE_NO_PAD.encode(format!("{kind}.{millis}.{}", self.id.hyphenated()))
    }

    /// `None` for anything that is not a cursor of this kind (all arithmetic checked: no input
    /// can overflow).
    pub fn from_cursor(kind: &str, cursor: &str) -> Option<Self> {
        if cursor.len() > 128 {
            return None;
        }
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let rest = raw.strip_prefix(kind)?.strip_prefix('.')?;
        let (millis, id) = rest.split_once('.')?;
        if millis.is_empty() || millis.len() > 20 {
            return None;
        }
        let millis: i64 = millis.parse().ok()?;
        let nanos = i128::from(millis).checked_mul(1_000_000)?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
        Some(Self {
            at,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// One page of a list, and where the next one starts (if there is more).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integration::truncate_to_millis;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let pos = Position {
            at: truncate_to_millis(OffsetDateTime::now_utc()),
            id: Uuid::new_v4(),
        };
        assert_eq!(Position::from_cursor("v1", &pos.to_cursor("v1")), Some(pos));
        assert_eq!(Position::from_cursor("e1", &pos.to_cursor("v1")), None);
        for bad in ["", "abc", "djEuMTIz", &"A".repeat(500)] {
            assert_eq!(Position::from_cursor("v1", bad), None, "{bad}");
        }
        for raw in [
            format!("v1.{}.{}", i64::MAX, Uuid::new_v4()),
            format!("v1.-99999999999999999.{}", Uuid::new_v4()),
            format!("v1.99999999999999999999999.{}", Uuid::new_v4()),
            format!("v1..{}", Uuid::new_v4()),
        ] {
            assert_eq!(
                Position::from_cursor("v1", &URL_SAFE_NO_PAD.encode(raw)),
                None
            );
        }
    }

    #[test]
    fn page_limits() {
        assert!(PageLimit::new(0).is_none());
        assert!(PageLimit::new(101).is_none());
        assert_eq!(PageLimit::new(100).map(PageLimit::get), Some(100));
        let mut errors = ValidationErrors::new();
        assert_eq!(
            PageLimit::parse(Some("x"), PageLimit::DEFAULT, &mut errors),
            PageLimit::DEFAULT
        );
        assert_eq!(errors.errors().len(), 1);
    }
}
