//! Progress per status date (schema v8): each save of a project's progress, and each import, is a
//! new record holding the whole plan as a `pmr.project/v1` document, numbered by the project's
//! `data_version`. Records are never changed. The live tables (what the project page and the exports
//! show) follow the record with the latest status date; a report reads the record in force at its
//! own status date ([`Store::progress_as_of`]).

use chrono::NaiveDate;
use sqlx::{AnyConnection, Row};

use super::records::insert_record;
use super::{Store, StoreError};
use crate::transfer::{ProjectDocument, ValidProject};

/// A record's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressRecord {
    pub version: i64,
    pub status_date: NaiveDate,
    pub recorded_by: String,
    /// RFC 3339.
    pub recorded_at: String,
}

fn record(row: &sqlx::any::AnyRow) -> Result<ProgressRecord, StoreError> {
    let text: String = row.try_get("status_date")?;
    let status_date =
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
            table: "progress_records",
            detail: format!("status_date '{text}': {e}"),
        })?;
    Ok(ProgressRecord {
        version: row.try_get("version")?,
        status_date,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

fn document(row: &sqlx::any::AnyRow) -> Result<ProjectDocument, StoreError> {
    let text: String = row.try_get("document")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        table: "progress_records",
        detail: format!("document: {e}"),
    })
}

impl Store {
    /// The project's records, latest status date first (then latest version), at most `limit`.
    pub async fn progress_records(
        &self,
        project_id: i64,
        limit: usize,
    ) -> Result<Vec<ProgressRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, status_date, recorded_by, recorded_at FROM progress_records
             WHERE project_id = $1 ORDER BY status_date DESC, version DESC LIMIT $2",
        )
        .bind(project_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// The record in force on `day` (the latest status date on or before it, then the latest
    /// version) with its document; `None` when nothing was recorded by then.
    pub async fn progress_as_of(
        &self,
        project_id: i64,
        day: NaiveDate,
    ) -> Result<Option<(ProgressRecord, ProjectDocument)>, StoreError> {
        let row = sqlx::query(
            "SELECT version, status_date, recorded_by, recorded_at, document FROM progress_records
             WHERE project_id = $1 AND status_date <= $2
             ORDER BY status_date DESC, version DESC LIMIT 1",
        )
        .bind(project_id)
        .bind(day.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((record(&r)?, document(&r)?))).transpose()
    }

    /// The project's data version (bumped by every import and progress record); `None` if no such
    /// project.
    pub async fn data_version(&self, project_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT data_version FROM projects WHERE id = $1")
                .bind(project_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Records the plan as of `status_date`, if the project is still at `expected` (else
    /// [`StoreError::Stale`], and nothing is written). The live tables take it when no record has a
    /// later status date. Returns the new version.
    pub async fn record_progress(
        &self,
        project_id: i64,
        status_date: NaiveDate,
        valid: &ValidProject,
        recorded_by: &str,
        expected: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let now = chrono::Utc::now().to_rfc3339();
        let bumped = sqlx::query(
            "UPDATE projects SET data_version = data_version + 1, updated_at = $1
             WHERE id = $2 AND data_version = $3",
        )
        .bind(&now)
        .bind(project_id)
        .bind(expected)
        .execute(&mut *tx)
        .await?;
        if bumped.rows_affected() == 0 {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT data_version FROM projects WHERE id = $1")
                    .bind(project_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match found {
                Some(found) => StoreError::Stale {
                    project: project_id,
                    expected,
                    found,
                },
                None => StoreError::InvalidReference(format!("no project has id {project_id}")),
            });
        }
        let version = expected + 1;
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT MAX(status_date) FROM progress_records WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_one(&mut *tx)
        .await?;
        let day = status_date.to_string();
        if latest.is_none_or(|l| l <= day) {
            super::transfer::replace_plan(&mut tx, project_id, valid).await?;
            let period = day[..7].to_string();
            upsert_forecasts(&mut tx, project_id, &period, valid).await?;
        }
        insert_record(
            &mut tx,
            project_id,
            version,
            &day,
            &valid.document,
            recorded_by,
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }
}

/// Each milestone's forecast for the status date's month, so the milestone history shows it.
async fn upsert_forecasts(
    conn: &mut AnyConnection,
    project_id: i64,
    period: &str,
    valid: &ValidProject,
) -> Result<(), StoreError> {
    for m in &valid.document.milestones {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM milestones WHERE project_id = $1 AND name = $2")
                .bind(project_id)
                .bind(&m.name)
                .fetch_optional(&mut *conn)
                .await?;
        let Some(id) = id else { continue };
        sqlx::query(
            "INSERT INTO milestone_forecasts (milestone_id, period, forecast_date) VALUES ($1, $2, $3)
             ON CONFLICT (milestone_id, period) DO UPDATE SET forecast_date = excluded.forecast_date",
        )
        .bind(id)
        .bind(period)
        .bind(&m.forecast_date)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
