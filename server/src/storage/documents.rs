//! Collaborative documents (schema v4): each report's snapshot and update log, the narratives and
//! fields written back into the report, and revisions. Document bytes are stored as base64 text, the
//! same on both backends.

use app::editing::{Revision, RevisionContent};
use sqlx::Row;

use super::{Store, StoreError};

/// What a document reader needs to catch up from `after`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DocLog {
    /// The snapshot, when it holds updates newer than `after`: its data and the last update folded
    /// into it.
    pub snapshot: Option<(String, i64)>,
    /// Updates after `after` (or after the snapshot), in order: sequence number and data.
    pub updates: Vec<(i64, String)>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// The document's state newer than update `after` (0: everything).
    pub async fn doc_since(&self, report_id: i64, after: i64) -> Result<DocLog, StoreError> {
        let snapshot =
            sqlx::query("SELECT snapshot, last_seq FROM report_doc_snapshots WHERE report_id = $1")
                .bind(report_id)
                .fetch_optional(self.pool())
                .await?;
        let mut log = DocLog::default();
        let mut from = after;
        if let Some(row) = snapshot {
            let last_seq: i64 = row.try_get("last_seq")?;
            if last_seq > after || after == 0 {
                log.snapshot = Some((row.try_get("snapshot")?, last_seq));
                from = from.max(last_seq);
            }
        }
        let rows = sqlx::query(
            "SELECT id, update_data FROM report_doc_updates
             WHERE report_id = $1 AND id > $2 ORDER BY id",
        )
        .bind(report_id)
        .bind(from)
        .fetch_all(self.pool())
        .await?;
        for row in rows {
            log.updates
                .push((row.try_get("id")?, row.try_get("update_data")?));
        }
        Ok(log)
    }

    /// Whether the report has a document yet.
    pub async fn doc_exists(&self, report_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS one FROM report_doc_snapshots WHERE report_id = $1")
            .bind(report_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    /// Stores the first snapshot of a document, unless one exists (another instance was first).
    pub async fn seed_doc(&self, report_id: i64, snapshot: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO report_doc_snapshots (report_id, snapshot, last_seq, updated_at)
             VALUES ($1, $2, 0, $3) ON CONFLICT (report_id) DO NOTHING",
        )
        .bind(report_id)
        .bind(snapshot)
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Appends an update to the document's log; answers its sequence number.
    pub async fn append_doc_update(
        &self,
        report_id: i64,
        data: &str,
        author: &str,
    ) -> Result<i64, StoreError> {
        // In an explicit transaction: the caller acknowledges the edit once this returns, so the
        // commit must have succeeded. Alone, `INSERT … RETURNING` read with `fetch_one` hands back
        // the row after the first step and SQLite commits only when the statement is reset, whose
        // error sqlx drops: on a full disk every later edit was acknowledged and then rolled back
        // (found by `tests/process_faults.rs`).
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO report_doc_updates (report_id, update_data, author, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(report_id)
        .bind(data)
        .bind(author)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let id = row.try_get("id")?;
        tx.commit().await?;
        Ok(id)
    }

    /// Folds the updates up to `last_seq` into `snapshot` and deletes them. A snapshot that already
    /// covers more (another instance compacted later) is kept.
    pub async fn compact_doc(
        &self,
        report_id: i64,
        snapshot: &str,
        last_seq: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO report_doc_snapshots (report_id, snapshot, last_seq, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (report_id) DO UPDATE SET snapshot = excluded.snapshot,
                 last_seq = excluded.last_seq, updated_at = excluded.updated_at
             WHERE report_doc_snapshots.last_seq < excluded.last_seq",
        )
        .bind(report_id)
        .bind(snapshot)
        .bind(last_seq)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM report_doc_updates WHERE report_id = $1 AND id <= $2")
            .bind(report_id)
            .bind(last_seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Updates in a document's log (for tests and figures).
    pub async fn doc_update_count(&self, report_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM report_doc_updates WHERE report_id = $1")
            .bind(report_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Writes the document's narratives and the executive summary's content into the report's
    /// sections, bumping the version of each section that changed; answers whether any did.
    pub async fn write_document(
        &self,
        report_id: i64,
        narratives: &[(String, String)],
        summary: Option<(&str, String)>,
    ) -> Result<bool, StoreError> {
        let stamp = now();
        let mut changed = false;
        let mut tx = self.begin().await?;
        for (key, text) in narratives {
            let done = sqlx::query(
                "UPDATE report_sections SET narrative = $1, version = version + 1, updated_at = $2
                 WHERE report_id = $3 AND section_key = $4 AND narrative <> $1",
            )
            .bind(text)
            .bind(&stamp)
            .bind(report_id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
            changed |= done.rows_affected() > 0;
        }
        if let Some((key, content)) = summary {
            let done = sqlx::query(
                "UPDATE report_sections SET content = $1, version = version + 1, updated_at = $2
                 WHERE report_id = $3 AND section_key = $4 AND content <> $1",
            )
            .bind(&content)
            .bind(&stamp)
            .bind(report_id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
            changed |= done.rows_affected() > 0;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Saves a named revision; answers it with its number (one more than the last).
    pub async fn create_revision(
        &self,
        report_id: i64,
        name: &str,
        author: &str,
        snapshot: &str,
        content: &RevisionContent,
    ) -> Result<Revision, StoreError> {
        let content = serde_json::to_string(content).map_err(|e| StoreError::Corrupt {
            table: "report_revisions",
            detail: e.to_string(),
        })?;
        let created_at = now();
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT COALESCE(MAX(number), 0) AS n FROM report_revisions WHERE report_id = $1",
        )
        .bind(report_id)
        .fetch_one(&mut *tx)
        .await?;
        let number: i64 = row.try_get::<i64, _>("n")? + 1;
        sqlx::query(
            "INSERT INTO report_revisions (report_id, number, name, author, created_at, snapshot, content)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(report_id)
        .bind(number)
        .bind(name)
        .bind(author)
        .bind(&created_at)
        .bind(snapshot)
        .bind(&content)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Revision {
            number,
            name: name.to_string(),
            author: author.to_string(),
            created_at,
        })
    }

    /// A report's revisions, newest first.
    pub async fn revisions(&self, report_id: i64) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(
            "SELECT number, name, author, created_at FROM report_revisions
             WHERE report_id = $1 ORDER BY number DESC",
        )
        .bind(report_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Revision {
                    number: r.try_get("number")?,
                    name: r.try_get("name")?,
                    author: r.try_get("author")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// One revision with its content.
    pub async fn revision(
        &self,
        report_id: i64,
        number: i64,
    ) -> Result<Option<(Revision, RevisionContent)>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT number, name, author, created_at, content FROM report_revisions
             WHERE report_id = $1 AND number = $2",
        )
        .bind(report_id)
        .bind(number)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let content: String = r.try_get("content")?;
        let content = serde_json::from_str(&content).map_err(|e| StoreError::Corrupt {
            table: "report_revisions",
            detail: format!("revision {number} of report {report_id}: {e}"),
        })?;
        Ok(Some((
            Revision {
                number: r.try_get("number")?,
                name: r.try_get("name")?,
                author: r.try_get("author")?,
                created_at: r.try_get("created_at")?,
            },
            content,
        )))
    }
}
