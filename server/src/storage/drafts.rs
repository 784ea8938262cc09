//! Starting a month's report: a new draft with one empty section per template entry (generation
//! fills them; the report keeps these sections whatever becomes of the template), and discarding a
//! draft whose generation failed.

use app::model::ReportStatus;

use super::reports::{insert_report, insert_section, NewReport, NewSection};
use super::templates::Template;
use super::{Store, StoreError};

impl Store {
    /// Creates a draft report for `period` from `template`, with its sections empty; a report for
    /// that month already is a [`StoreError::Conflict`].
    pub async fn create_draft(
        &self,
        project_id: i64,
        period: &str,
        template: &Template,
        title: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM reports WHERE project_id = $1 AND period = $2 LIMIT 1",
        )
        .bind(project_id)
        .bind(period)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "the project has a report for {period} already"
            )));
        }
        let report = NewReport {
            project_id,
            period: period.to_string(),
            template_id: template.id,
            status: ReportStatus::Draft,
            title: title.to_string(),
        };
        let report_id = insert_report(&mut tx, &report).await?;
        for (position, section) in template.sections.iter().enumerate() {
            let section = NewSection {
                report_id,
                position: position as i64,
                template: section.clone(),
                content: "{}".into(),
                narrative: String::new(),
            };
            insert_section(&mut tx, &section).await?;
        }
        tx.commit().await?;
        Ok(report_id)
    }

    /// Deletes a draft that was never generated (its generation failed); a final report is never
    /// deleted.
    pub async fn discard_draft(&self, report_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM reports WHERE id = $1 AND status = 'draft'")
            .bind(report_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
