//! Test support (feature `testing`): a fresh PostgreSQL database per test run.
//!
//! ```no_run
//! # async fn demo() -> Result<(), integrations_store::testing::FreshPostgresError> {
//! use integrations_store::testing::FreshPostgres;
//! let db = FreshPostgres::create(&FreshPostgres::admin_url_from_env()).await?;
//! let store = integrations_store::Store::connect(db.url(), Default::default()).await.unwrap();
//! store.migrate().await.unwrap();
//! // ... test ...
//! db.drop_database().await?; // or let it drop (also on panic)
//! # Ok(())
//! # }
//! ```

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

/// Where the tests find PostgreSQL unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// True when `INTEGRATIONS_SKIP_POSTGRES` is set (not `0`): the machine has no PostgreSQL and
/// `scripts/test` said so once; each PostgreSQL test then returns at once, printing why.
pub fn skip_postgres() -> bool {
    let skip = std::env::var_os("INTEGRATIONS_SKIP_POSTGRES").is_some_and(|v| v != "0");
    if skip {
        eprintln!("INTEGRATIONS_SKIP_POSTGRES is set: skipping a PostgreSQL test");
    }
    skip
}

/// Errors of [`FreshPostgres`].
#[derive(Debug, thiserror::Error)]
pub enum FreshPostgresError {
    #[error("cannot connect to the PostgreSQL admin database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("cannot create or drop the test database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the admin URL is not a postgres:// or postgresql:// URL")]
    InvalidUrl,
}

/// A database `it_<random>` created through an admin URL, dropped by
/// [`FreshPostgres::drop_database`] or, failing that, when the value is dropped (also while a
/// failing test unwinds). Concurrent runs never share a database.
#[derive(Debug)]
pub struct FreshPostgres {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl FreshPostgres {
    /// `TEST_DATABASE_URL`, or [`DEFAULT_ADMIN_URL`].
    pub fn admin_url_from_env() -> String {
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
    }

    /// Creates a new, empty database on the server of `admin_url` (whose user must be allowed
    /// to create databases).
    pub async fn create(admin_url: &str) -> Result<FreshPostgres, FreshPostgresError> {
        let name = format!("it_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(admin_url, &name).ok_or(FreshPostgresError::InvalidUrl)?;
        let mut conn = AsyncPgConnection::establish(admin_url).await?;
        // `name` is ours: `it_` and hex digits, nothing to quote.
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        tracing::debug!(database = %name, "created test database");
        Ok(FreshPostgres {
            admin_url: admin_url.to_owned(),
            name,
            url,
            dropped: false,
        })
    }

    /// The URL of the new database (same server and credentials as the admin URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name, `it_` followed by 32 hex digits.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, closing connections still open on it.
    pub async fn drop_database(mut self) -> Result<(), FreshPostgresError> {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), FreshPostgresError> {
    let mut conn = AsyncPgConnection::establish(admin_url).await?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    tracing::debug!(database = %name, "dropped test database");
    Ok(())
}

impl Drop for FreshPostgres {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop cannot await, and may run inside a runtime: use a thread with its own.
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(drop_database(&admin_url, &name))
                .map_err(|e| e.to_string())
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(database = %self.name, error = %e, "could not drop test database")
            }
            Err(_) => tracing::warn!(database = %self.name, "dropping the test database panicked"),
        }
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> Option<String> {
    let scheme_end = if url.starts_with("postgres://") {
        "postgres://".len()
    } else if url.starts_with("postgresql://") {
        "postgresql://".len()
    } else {
        return None;
    };
    let (base, query) = match url.find('?') {
        Some(q) => url.split_at(q),
        None => (url, ""),
    };
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    Some(format!("{}/{name}{query}", &base[..authority_end]))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "it_1").as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/it_1")
        );
        assert_eq!(
            with_database("postgresql://u:p@h?sslmode=disable", "it_1").as_deref(),
            Some("postgresql://u:p@h/it_1?sslmode=disable")
        );
        assert_eq!(
            with_database("postgres://h/db?x=1", "it_2").as_deref(),
            Some("postgres://h/it_2?x=1")
        );
        assert_eq!(with_database("mysql://h/db", "x"), None);
    }
}
