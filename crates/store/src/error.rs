//! Errors of this crate and the mapping of diesel and pool errors to [`RepositoryError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use integrations_domain::RepositoryError;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of [`crate::Store::connect`] and [`crate::Store::migrate`]. None of them shows the
/// database URL (it may hold a password).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error(
        "unsupported database URL (scheme {scheme:?}): expected sqlite://PATH, sqlite::memory:, \
         postgres://… or postgresql://…"
    )]
    UnsupportedUrl { scheme: String },
    /// The URL has a supported scheme but cannot be used.
    #[error("invalid database URL: {0}")]
    InvalidUrl(&'static str),
    /// The TLS settings of the URL cannot be used (an unreadable `sslrootcert`, …).
    #[error("database TLS: {0}")]
    Tls(String),
    /// The directory of the SQLite file could not be created.
    #[error("cannot create the directory {path} for the SQLite database: {source}")]
    CreateDirectory {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migration(#[source] BoxError),
    /// The database could not be reached, or a query failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Maps a query error. `NotFound` for a missing row, `Conflict` for a unique violation,
/// `Unavailable` for a lost connection or a SQLite lock held past `busy_timeout`, `Other`
/// otherwise.
pub(crate) fn db_error(e: DieselError) -> RepositoryError {
    match e {
        DieselError::NotFound => RepositoryError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepositoryError::Conflict(info.message().to_owned())
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => {
            tracing::warn!(error = %e, "lost the database connection");
            RepositoryError::unavailable(e)
        }
        // SQLite's lock contention outlasting busy_timeout: transient, the client may retry.
        DieselError::DatabaseError(_, ref info)
            if info.message().contains("database is locked")
                || info.message().contains("database is busy") =>
        {
            tracing::warn!(error = %e, "the database stayed locked past busy_timeout");
            RepositoryError::unavailable(e)
        }
        other => {
            tracing::error!(error = %other, "database query failed");
            RepositoryError::other(other)
        }
    }
}

/// Maps a pool checkout error: the database cannot be reached (or every connection is busy
/// for longer than the checkout timeout).
pub(crate) fn pool_error<E>(e: bb8::RunError<E>) -> RepositoryError
where
    E: std::error::Error + Send + Sync + 'static,
{
    tracing::warn!(error = %e, "no database connection available");
    RepositoryError::unavailable(e)
}

/// Logs connection errors of the pool (establishing or validating a connection).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TracingErrorSink;

impl<E: std::error::Error + 'static> diesel::r2d2::HandleError<E> for TracingErrorSink {
    fn handle_error(&self, error: E) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

impl<E: std::fmt::Display + 'static> bb8::ErrorSink<E> for TracingErrorSink {
    fn sink(&self, error: E) {
        tracing::warn!(error = %error, "database connection failed");
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<E>> {
        Box::new(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn query_errors_map_to_repository_errors() {
        assert!(matches!(
            db_error(DieselError::NotFound),
            RepositoryError::NotFound
        ));
        assert!(matches!(
            db_error(db(DatabaseErrorKind::UniqueViolation, "duplicate key")),
            RepositoryError::Conflict(_)
        ));
        assert!(matches!(
            db_error(db(DatabaseErrorKind::ClosedConnection, "gone")),
            RepositoryError::Unavailable(_)
        ));
        assert!(matches!(
            db_error(db(DatabaseErrorKind::Unknown, "database is locked")),
            RepositoryError::Unavailable(_)
        ));
        assert!(matches!(
            db_error(db(DatabaseErrorKind::Unknown, "syntax error")),
            RepositoryError::Other(_)
        ));
    }
}
