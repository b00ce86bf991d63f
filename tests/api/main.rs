//! End-to-end tests: the real application on port 0, over HTTP, against SQLite and a fresh
//! PostgreSQL database. One test binary (modules below).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs an `async fn(Backend)` test once per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(integrations_e2e::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if integrations_store::testing::skip_postgres() {
                        return;
                    }
                    super::$name(integrations_e2e::Backend::Postgres).await
                }
            )*
        }
    };
}

mod crud;
mod errors;
mod hardening;
mod leaks;
mod lifecycle;
mod security;
mod trail;
mod transfer;
mod verify;
