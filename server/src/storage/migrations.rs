//! Schema migrations, applied in order at start-up and recorded in `schema_migrations`.
//!
//! Each migration is one SQL text shared by both backends (or, where SQLite cannot alter what
//! PostgreSQL can, a text of its own that rebuilds the table, run with foreign keys off and checked
//! before it commits); `{{ID}}` is replaced by the backend's auto-increment primary key. A migration
//! runs in one transaction with its bookkeeping row, so it lands whole or not at all. On PostgreSQL an advisory lock serialises instances that start
//! together; SQLite is single-instance by nature.

use sqlx::AnyConnection;
use sqlx::{AnyPool, Connection};

use super::{Backend, StoreError};

/// One schema change.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// SQLite's text where it must differ (a table rebuilt where PostgreSQL alters it).
    sqlite: Option<&'static str>,
}

impl Migration {
    const fn new(version: i64, name: &'static str, sql: &'static str) -> Self {
        Migration {
            version,
            name,
            sql,
            sqlite: None,
        }
    }

    fn sql_for(&self, backend: Backend) -> &'static str {
        match (backend, self.sqlite) {
            (Backend::Sqlite, Some(sql)) => sql,
            _ => self.sql,
        }
    }

    /// Whether SQLite runs it with foreign keys off: a table rebuild drops the old table, which
    /// with foreign keys on would delete every row that refers to it.
    fn rebuilds_on_sqlite(&self) -> bool {
        self.sqlite.is_some()
    }
}

const MIGRATIONS: &[Migration] = &[
    Migration::new(1, "initial schema", include_str!("schema_v1.sql")),
    Migration::new(
        2,
        "accounts: members, sessions, API tokens",
        include_str!("schema_v2.sql"),
    ),
    Migration::new(
        3,
        "API token projects and last use",
        include_str!("schema_v3.sql"),
    ),
    Migration::new(
        4,
        "collaborative documents and revisions",
        include_str!("schema_v4.sql"),
    ),
    Migration::new(
        5,
        "document log numbered per report",
        include_str!("schema_v5.sql"),
    ),
    Migration::new(
        6,
        "API token expiry and scope",
        include_str!("schema_v6.sql"),
    ),
    Migration::new(7, "who published a report", include_str!("schema_v7.sql")),
    Migration::new(8, "progress per status date", include_str!("schema_v8.sql")),
    Migration::new(
        9,
        "editors allowed to create projects",
        include_str!("schema_v9.sql"),
    ),
    Migration::new(
        10,
        "project calendars and remaining durations",
        include_str!("schema_v10.sql"),
    ),
    Migration {
        sqlite: Some(include_str!("schema_v11_sqlite.sql")),
        ..Migration::new(
            11,
            "corrections of published reports",
            include_str!("schema_v11.sql"),
        )
    },
    Migration::new(
        12,
        "estimates by rule and constraints of imported tasks",
        include_str!("schema_v12.sql"),
    ),
];

/// The schema version after every migration has run.
pub const SCHEMA_VERSION: i64 = 12;

/// Arbitrary but fixed key of the PostgreSQL advisory lock held while migrating.
const MIGRATION_LOCK_KEY: i64 = 0x504d_525f_4d49_4752; // "PMR_MIGR"

/// Applies every migration newer than the database's version.
pub(super) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_pending(&mut conn, backend).await;
    if backend == Backend::Postgres {
        // Released even when a migration failed; the session ending would release it anyway.
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_pending(conn: &mut AnyConnection, backend: Backend) -> Result<(), StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    for migration in MIGRATIONS {
        apply(conn, backend, migration)
            .await
            .map_err(|source| StoreError::Migration {
                version: migration.version,
                name: migration.name,
                source: Box::new(source),
            })?;
    }
    Ok(())
}

async fn apply(
    conn: &mut AnyConnection,
    backend: Backend,
    migration: &Migration,
) -> Result<(), StoreError> {
    let keys_off = backend == Backend::Sqlite && migration.rebuilds_on_sqlite();
    if keys_off {
        // Outside the transaction: SQLite ignores this pragma inside one.
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_in_transaction(conn, backend, migration, keys_off).await;
    if keys_off {
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_in_transaction(
    conn: &mut AnyConnection,
    backend: Backend,
    migration: &Migration,
    check_keys: bool,
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations WHERE version = $1")
        .bind(migration.version)
        .fetch_one(&mut *tx)
        .await?;
    if done > 0 {
        return Ok(());
    }
    for statement in statements(migration.sql_for(backend), backend) {
        sqlx::query(&statement).execute(&mut *tx).await?;
    }
    if check_keys {
        // With the keys off nothing checked them: every reference must still hold.
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *tx)
            .await?;
        if !broken.is_empty() {
            return Err(StoreError::Invalid(format!(
                "{} rows refer to rows that do not exist after the migration",
                broken.len()
            )));
        }
    }
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
        .bind(migration.version)
        .bind(migration.name)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(
        version = migration.version,
        name = migration.name,
        "applied migration"
    );
    Ok(())
}

/// The statements of a migration text for one backend: comments dropped, split at the `;` that ends
/// a line, `{{ID}}` expanded. The schema never puts `;` inside a string, which keeps this simple.
fn statements(sql: &str, backend: Backend) -> Vec<String> {
    let id = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY",
        Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    let without_comments: String = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(";\n")
        .map(|s| s.trim().trim_end_matches(';').replace("{{ID}}", id))
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_end_at_schema_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "migration {} out of order", m.name);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn statements_expand_ids_per_backend() {
        let sql = "-- comment\nCREATE TABLE a (id {{ID}});\nCREATE TABLE b (x TEXT);\n";
        assert_eq!(
            statements(sql, Backend::Sqlite),
            vec![
                "CREATE TABLE a (id INTEGER PRIMARY KEY)",
                "CREATE TABLE b (x TEXT)"
            ]
        );
        assert!(statements(sql, Backend::Postgres)[0].contains("GENERATED BY DEFAULT AS IDENTITY"));
    }

    #[test]
    fn the_initial_schema_has_every_table() {
        let all = statements(MIGRATIONS[0].sql, Backend::Sqlite).join("\n");
        for table in [
            "users",
            "projects",
            "tasks",
            "task_dependencies",
            "milestones",
            "milestone_forecasts",
            "risks",
            "risk_tasks",
            "report_templates",
            "reports",
            "report_sections",
            "section_revisions",
        ] {
            assert!(
                all.contains(&format!("CREATE TABLE {table} (")),
                "missing table {table}"
            );
        }
    }

    /// A SQLite store in a temporary folder, with no migration applied yet.
    async fn sqlite_store() -> (tempfile::TempDir, super::super::Store) {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let store = super::super::Store::connect(&url).await.expect("connect");
        (dir, store)
    }

    /// Applies the first `n` migrations, as a database made by an older release has them.
    async fn apply_first(conn: &mut AnyConnection, n: usize) {
        sqlx::query("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
            .execute(&mut *conn)
            .await
            .expect("bookkeeping");
        for m in &MIGRATIONS[..n] {
            apply(conn, Backend::Sqlite, m).await.expect("old");
        }
    }

    /// Migration 5 renumbers a document log written under the old numbering: rows whose row id had
    /// been reused at or below the snapshot (never loaded, never folded) come after it, in order.
    #[tokio::test]
    async fn migration_5_renumbers_the_document_log_after_the_snapshot() {
        let (_dir, store) = sqlite_store().await;
        let mut conn = store.pool().acquire().await.expect("conn");
        apply_first(&mut conn, 4).await;
        // Rows only: the reports they belong to are beside the point here.
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await
            .expect("pragma");
        for (report, last_seq) in [(7, 5), (8, 3)] {
            sqlx::query("INSERT INTO report_doc_snapshots (report_id, snapshot, last_seq, updated_at) VALUES ($1, 's', $2, 't')")
                .bind(report)
                .bind(last_seq)
                .execute(&mut *conn)
                .await
                .expect("snapshot");
        }
        for (id, data) in [(1, "one"), (2, "two"), (9, "nine")] {
            sqlx::query("INSERT INTO report_doc_updates (id, report_id, update_data, author, created_at) VALUES ($1, 7, $2, 'a', 't')")
                .bind(id)
                .bind(data)
                .execute(&mut *conn)
                .await
                .expect("update");
        }
        apply(&mut conn, Backend::Sqlite, &MIGRATIONS[4])
            .await
            .expect("migration 5");
        drop(conn);
        let log = store.doc_since(7, 5).await.expect("log");
        assert_eq!(
            log.updates,
            vec![(6, "one".into()), (7, "two".into()), (8, "nine".into())]
        );
        assert_eq!(store.doc_head(7).await.expect("head"), 8);
        assert_eq!(
            store.doc_head(8).await.expect("head"),
            3,
            "no log: the snapshot's"
        );
    }

    /// Migration 11 rebuilds `reports` on SQLite: every report, section and document row stays,
    /// the tables that refer to reports follow the new table (a deleted report still takes its
    /// sections with it), and foreign keys are on again afterwards.
    #[tokio::test]
    async fn migration_11_rebuilds_reports_and_keeps_what_refers_to_them() {
        let (_dir, store) = sqlite_store().await;
        let mut conn = store.pool().acquire().await.expect("conn");
        apply_first(&mut conn, 10).await;
        for sql in [
            "INSERT INTO portfolios (id, name) VALUES (1, 'P')",
            "INSERT INTO projects (id, portfolio_id, code, name, manager, currency, budget_at_completion,
                start_date, target_finish, declared_overall, declared_scope, declared_schedule,
                declared_cost, declared_resources, updated_at)
             VALUES (1, 1, 'HBR', 'H', 'M', 'EUR', 1, '2026-01-01', '2026-12-31', 'green', 'green',
                'green', 'green', 'green', 't')",
            "INSERT INTO report_templates (id, name, sections) VALUES (1, 'T', '[]')",
            "INSERT INTO reports (id, project_id, period, template_id, status, title, created_at,
                updated_at, finalized_at, published_by)
             VALUES (7, 1, '2026-02', 1, 'final', 'Feb', 't', 't', 't', 'Ana'),
                    (8, 1, '2026-03', 1, 'draft', 'Mar', 't', 't', NULL, NULL)",
            "INSERT INTO report_sections (report_id, position, section_key, section_type, title,
                priority, narrative, updated_at)
             VALUES (7, 0, 'summary', 'executive_summary', 'S', 'high', 'kept', 't'),
                    (8, 0, 'summary', 'executive_summary', 'S', 'high', 'draft', 't')",
            "INSERT INTO report_doc_updates (report_id, update_data, author, created_at)
             VALUES (8, 'dTE=', 'ana', 't')",
        ] {
            sqlx::query(sql).execute(&mut *conn).await.expect(sql);
        }
        apply(&mut conn, Backend::Sqlite, &MIGRATIONS[10])
            .await
            .expect("migration 11");
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let reports = count("SELECT COUNT(*) FROM reports WHERE revision = 1 AND corrects IS NULL")
            .fetch_one(&mut *conn)
            .await
            .expect("reports");
        assert_eq!(reports, 2);
        let kept: String = sqlx::query_scalar(
            "SELECT s.narrative FROM report_sections s JOIN reports r ON r.id = s.report_id
             WHERE r.id = 7 AND r.published_by = 'Ana'",
        )
        .fetch_one(&mut *conn)
        .await
        .expect("section");
        assert_eq!(kept, "kept");
        assert_eq!(
            count("SELECT COUNT(*) FROM report_doc_updates")
                .fetch_one(&mut *conn)
                .await
                .expect("updates"),
            1
        );
        // The keys are on and point at the new table.
        sqlx::query("DELETE FROM reports WHERE id = 8")
            .execute(&mut *conn)
            .await
            .expect("delete");
        assert_eq!(
            count("SELECT COUNT(*) FROM report_sections WHERE report_id = 8")
                .fetch_one(&mut *conn)
                .await
                .expect("sections"),
            0,
            "the deleted report took its sections"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM report_doc_updates")
                .fetch_one(&mut *conn)
                .await
                .expect("updates"),
            0
        );
        let dangling = sqlx::query(
            "INSERT INTO report_sections (report_id, position, section_key, section_type, title,
                priority, updated_at) VALUES (999, 0, 'x', 'x', 'x', 'low', 't')",
        )
        .execute(&mut *conn)
        .await;
        assert!(dangling.is_err(), "foreign keys are enforced again");
        // A second month's revision is allowed now; the same revision twice is not.
        sqlx::query(
            "INSERT INTO reports (project_id, period, template_id, status, title, created_at,
                updated_at, revision, corrects) VALUES (1, '2026-02', 1, 'draft', 'Feb', 't', 't', 2, 7)",
        )
        .execute(&mut *conn)
        .await
        .expect("revision 2");
        let twice = sqlx::query(
            "INSERT INTO reports (project_id, period, template_id, status, title, created_at,
                updated_at, revision) VALUES (1, '2026-02', 1, 'draft', 'Feb', 't', 't', 2)",
        )
        .execute(&mut *conn)
        .await;
        assert!(twice.is_err());
    }
}
