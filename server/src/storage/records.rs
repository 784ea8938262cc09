//! Writing a row of `progress_records` (one numbered version of a project's whole plan), shared by
//! progress saves (`progress.rs`) and imports (`transfer.rs`), inside their transaction.

use sqlx::AnyConnection;

use super::StoreError;
use crate::transfer::ProjectDocument;

/// Writes a record (inside the caller's transaction).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_record(
    conn: &mut AnyConnection,
    project_id: i64,
    version: i64,
    status_date: &str,
    document: &ProjectDocument,
    recorded_by: &str,
    recorded_at: &str,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(document).map_err(|e| StoreError::Invalid(e.to_string()))?;
    sqlx::query(
        "INSERT INTO progress_records (project_id, version, status_date, document, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(project_id)
    .bind(version)
    .bind(status_date)
    .bind(json)
    .bind(recorded_by)
    .bind(recorded_at)
    .execute(conn)
    .await?;
    Ok(())
}
