//! Which database a URL names.

use crate::error::StoreError;
use crate::sqlite;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Postgres,
    Sqlite(sqlite::Location),
}

/// `sqlite://PATH` (relative, or absolute as `sqlite:///abs/path.db`), `sqlite:PATH`,
/// `sqlite::memory:`, `postgres://…`, `postgresql://…`.
pub(crate) fn parse_url(url: &str) -> Result<Target, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres);
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(Target::Sqlite(sqlite::Location::Memory));
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(StoreError::InvalidUrl("the SQLite URL names no file"));
        }
        if path.contains('?') {
            return Err(StoreError::InvalidUrl(
                "SQLite URLs take no query parameters",
            ));
        }
        return Ok(Target::Sqlite(sqlite::Location::File(path.into())));
    }
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| s.len() <= 20 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '+'))
        .unwrap_or("")
        .to_owned();
    Err(StoreError::UnsupportedUrl { scheme })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(parse_url("postgres://u:p@h/db").unwrap(), Target::Postgres);
        assert_eq!(parse_url("postgresql://h/db").unwrap(), Target::Postgres);
        assert_eq!(
            parse_url("sqlite://data/app.db").unwrap(),
            Target::Sqlite(sqlite::Location::File(PathBuf::from("data/app.db")))
        );
        assert_eq!(
            parse_url("sqlite:///var/lib/app.db").unwrap(),
            Target::Sqlite(sqlite::Location::File(PathBuf::from("/var/lib/app.db")))
        );
        assert_eq!(
            parse_url("sqlite::memory:").unwrap(),
            Target::Sqlite(sqlite::Location::Memory)
        );
        assert!(matches!(
            parse_url("sqlite://"),
            Err(StoreError::InvalidUrl(_))
        ));
        match parse_url("mysql://root:hunter2@db/x") {
            Err(e @ StoreError::UnsupportedUrl { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("\"mysql\""), "{msg}");
                assert!(!msg.contains("hunter2"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_url("data.db"),
            Err(StoreError::UnsupportedUrl { .. })
        ));
    }
}
