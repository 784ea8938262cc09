//! Collaborative documents (schema v4; the log numbered per report since v5): each report's snapshot
//! and update log, the narratives and fields written back into the report, and revisions. Document
//! bytes are stored as base64 text, the same on both backends. Folding and merging are the caller's
//! (`collab::docs`): this module only guarantees the numbering and the atomic swap.

use app::editing::{Revision, RevisionContent};
use sqlx::Row;

use super::{Store, StoreError};

/// Named revisions a report keeps at most (each is a copy of its whole document).
pub const MAX_REVISIONS: i64 = 200;

/// A document's state as the store holds it, read in one statement (so a fold committed meanwhile
/// can never leave a gap between the snapshot and the updates).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DocLog {
    /// The last update folded into the snapshot (0: none; the seed is the snapshot itself).
    pub folded: i64,
    /// The snapshot's data, when the reader asked from before it (see [`Store::doc_since`]).
    pub snapshot: Option<String>,
    /// Updates after the reader's position (or after the snapshot, if it is included), in order:
    /// sequence number and data. Sequence numbers have no gaps: each is one more than the last.
    pub updates: Vec<(i64, String)>,
}

impl DocLog {
    /// The last update this log brings its reader to (`after` when it brings nothing).
    pub fn head(&self, after: i64) -> i64 {
        self.updates
            .last()
            .map_or_else(|| after.max(self.folded), |(seq, _)| *seq)
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// The document's state newer than update `after`; `after` below 0 (a reader with nothing yet)
    /// gets the snapshot and every update. A reader whose position the snapshot has passed (a fold
    /// since its last read) gets the snapshot again, with the updates after it: applying an update
    /// twice is harmless. Empty when the report has no document yet.
    pub async fn doc_since(&self, report_id: i64, after: i64) -> Result<DocLog, StoreError> {
        let rows = sqlx::query(
            "SELECT CAST(1 AS BIGINT) AS part, last_seq AS seq,
                    CASE WHEN last_seq > $2 OR $2 < 0 THEN snapshot ELSE NULL END AS data
               FROM report_doc_snapshots WHERE report_id = $1
             UNION ALL
             SELECT CAST(2 AS BIGINT) AS part, seq, update_data AS data
               FROM report_doc_updates WHERE report_id = $1 AND seq > $2
             ORDER BY part, seq",
        )
        .bind(report_id)
        .bind(after)
        .fetch_all(self.pool())
        .await?;
        let mut log = DocLog::default();
        for row in rows {
            let part: i64 = row.try_get("part")?;
            let seq: i64 = row.try_get("seq")?;
            if part == 1 {
                log.folded = seq;
                log.snapshot = row.try_get("data")?;
            } else {
                // The fold that made the snapshot deleted what it holds, in the same transaction.
                log.updates.push((seq, row.try_get("data")?));
            }
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

    /// Appends an update to the document's log; answers its sequence number, one more than the
    /// last. The document must exist ([`Store::seed_doc`]).
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
        // (found by `tests/integration/process_faults.rs`). The number comes from the snapshot row, locked
        // until the commit, so numbers are committed in the order they are handed out.
        // A published report takes no more edits, whichever instance asks: the report's row is
        // locked first (publishing updates it too), so an edit commits before the publication or
        // is refused after it.
        let mut tx = self.begin().await?;
        super::lock_draft(&mut tx, report_id).await?;
        let head = sqlx::query(
            "UPDATE report_doc_snapshots SET head_seq = head_seq + 1 WHERE report_id = $1
             RETURNING head_seq",
        )
        .bind(report_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            table: "report_doc_snapshots",
            detail: format!("report {report_id} has no document to append to"),
        })?;
        let seq: i64 = head.try_get("head_seq")?;
        sqlx::query(
            "INSERT INTO report_doc_updates (report_id, seq, update_data, author, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(report_id)
        .bind(seq)
        .bind(data)
        .bind(author)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Replaces the snapshot that folded the updates up to `from` by `snapshot`, which folds those
    /// up to `to`, and deletes the updates it now holds. Answers false, changing nothing, when the
    /// snapshot is no longer the one at `from` (another instance folded first).
    pub async fn fold_doc(
        &self,
        report_id: i64,
        snapshot: &str,
        from: i64,
        to: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE report_doc_snapshots SET snapshot = $1, last_seq = $2, updated_at = $3
             WHERE report_id = $4 AND last_seq = $5 AND head_seq >= $2",
        )
        .bind(snapshot)
        .bind(to)
        .bind(now())
        .bind(report_id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM report_doc_updates WHERE report_id = $1 AND seq <= $2")
            .bind(report_id)
            .bind(to)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The last update number handed out for the report's document (0: none).
    pub async fn doc_head(&self, report_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT head_seq FROM report_doc_snapshots WHERE report_id = $1")
            .bind(report_id)
            .fetch_optional(self.pool())
            .await?;
        row.map_or(Ok(0), |r| Ok(r.try_get("head_seq")?))
    }

    /// Updates in a document's log (for tests and figures).
    pub async fn doc_update_count(&self, report_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM report_doc_updates WHERE report_id = $1")
            .bind(report_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Writes the document's narratives and the executive summary's content, as they stand once
    /// the updates up to `seq` are applied, into the report's sections, bumping the version of each
    /// section that changed; answers whether any did. Texts from an earlier `seq` than the last
    /// written are not written (an instance that was behind would put older words back).
    pub async fn write_document(
        &self,
        report_id: i64,
        seq: i64,
        narratives: &[(String, String)],
        summary: Option<(&str, String)>,
    ) -> Result<bool, StoreError> {
        let stamp = now();
        let mut changed = false;
        let mut tx = self.begin().await?;
        let newer = sqlx::query(
            "UPDATE report_doc_snapshots SET written_seq = $2
             WHERE report_id = $1 AND written_seq <= $2",
        )
        .bind(report_id)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        if newer.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
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

    /// Saves a named revision of a draft; answers it with its number (one more than the last), or
    /// `None` when the report already holds [`MAX_REVISIONS`]. A final report is refused
    /// ([`StoreError::Final`]).
    pub async fn create_revision(
        &self,
        report_id: i64,
        name: &str,
        author: &str,
        snapshot: &str,
        content: &RevisionContent,
    ) -> Result<Option<Revision>, StoreError> {
        let content = serde_json::to_string(content).map_err(|e| StoreError::Corrupt {
            table: "report_revisions",
            detail: e.to_string(),
        })?;
        let created_at = now();
        let mut tx = self.begin().await?;
        // Only a draft takes revisions, ordered with publishing as edits are.
        super::lock_draft(&mut tx, report_id).await?;
        let row = sqlx::query(
            "SELECT COALESCE(MAX(number), 0) AS n FROM report_revisions WHERE report_id = $1",
        )
        .bind(report_id)
        .fetch_one(&mut *tx)
        .await?;
        let number: i64 = row.try_get::<i64, _>("n")? + 1;
        if number > MAX_REVISIONS {
            tx.rollback().await?;
            return Ok(None);
        }
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
        Ok(Some(Revision {
            number,
            name: name.to_string(),
            author: author.to_string(),
            created_at,
        }))
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
