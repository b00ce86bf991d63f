//! The reads that must stay index lookups as the tables grow (docs/performance.md, growth run),
//! checked on SQLite's planner after the real migrations. The statements have the shapes the
//! store's queries send (`crates/store/src/queries.rs`), with their parameters unbound.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use integrations_store::{Store, StoreOptions};

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

async fn migrated() -> (tempfile::TempDir, SqliteConnection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plans.db");
    let store = Store::connect(
        &format!("sqlite://{}", path.display()),
        StoreOptions::default(),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    drop(store);
    let conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    (dir, conn)
}

fn plan(conn: &mut SqliteConnection, sql: &str) -> String {
    diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load::<PlanLine>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.detail)
        .collect::<Vec<_>>()
        .join("; ")
}

/// An integration's events: through the index led by the integration (not a walk of every
/// event of the account), in order (no sort step).
#[tokio::test]
async fn an_integrations_events_are_read_through_its_own_index() {
    let (_dir, mut conn) = migrated().await;
    let plan = plan(
        &mut conn,
        "SELECT * FROM audit_events WHERE account_id = ? AND integration_id = ? \
         AND at <= ? AND (at < ? OR id < ?) ORDER BY at DESC, id DESC",
    );
    assert!(
        plan.contains("audit_events_integration_idx (integration_id=? AND account_id=?"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

/// An account's events and an account's integrations: keyset reads on their account indexes.
#[tokio::test]
async fn account_pages_are_keyset_reads() {
    let (_dir, mut conn) = migrated().await;
    let events = plan(
        &mut conn,
        "SELECT * FROM audit_events WHERE account_id = ? AND at <= ? AND (at < ? OR id < ?) \
         ORDER BY at DESC, id DESC",
    );
    assert!(
        events.contains("audit_events_account_idx (account_id=? AND at<?)"),
        "{events}"
    );
    assert!(!events.contains("TEMP B-TREE"), "{events}");
    let list = plan(
        &mut conn,
        "SELECT * FROM integrations WHERE account_id = ? AND created_at >= ? \
         AND (created_at > ? OR id > ?) ORDER BY created_at ASC, id ASC",
    );
    assert!(list.contains("account_id=? AND created_at>?"), "{list}");
    assert!(!list.contains("TEMP B-TREE"), "{list}");
}
