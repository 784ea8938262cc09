//! What changed since last month (`PortfolioService::report_changes`): a report's stored sections
//! beside those of the previous month's report of the same project, compared by
//! `app::changes::compare`. Both reports are read through the cache, as a reader would.

use app::access::Access;
use app::changes::{compare, MonthChanges, Snapshot};
use app::error::AppError;
use app::model::ReportOutline;
use app::services::PortfolioService;

use super::StorePortfolio;

impl StorePortfolio {
    /// The changes of `report_id` since the report before it; `None` for a project's first report.
    pub(super) async fn changes(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<Option<MonthChanges>, AppError> {
        let Some(outline) = self.reachable_outline(who, report_id).await? else {
            return Err(Access::report_not_found(report_id));
        };
        let Some(previous_id) = outline.previous_report_id else {
            return Ok(None);
        };
        let Some(previous) = self.reachable_outline(who, previous_id).await? else {
            return Ok(None);
        };
        let before = self.snapshot(who, &previous).await?;
        let now = self.snapshot(who, &outline).await?;
        Ok(Some(compare(previous_id, &previous.period, &before, &now)))
    }

    /// The sections of a report the comparison reads.
    async fn snapshot(&self, who: &Access, outline: &ReportOutline) -> Result<Snapshot, AppError> {
        let mut snapshot = Snapshot::default();
        for section in &outline.sections {
            if !matches!(
                section.section_type.as_str(),
                "executive_summary" | "key_metrics" | "monte_carlo" | "milestones" | "risks"
            ) {
                continue;
            }
            let Some(read) = self.report_section(who, outline.id, &section.key).await? else {
                continue;
            };
            let content = &read.content;
            match content.kind() {
                "executive_summary" => snapshot.summary = content.decode().ok(),
                "key_metrics" => snapshot.metrics = content.decode().ok(),
                "monte_carlo" => snapshot.monte_carlo = content.decode().ok(),
                "milestones" => snapshot.milestones = content.decode().ok(),
                "risks" => snapshot.risks = content.decode().ok(),
                _ => {}
            }
        }
        Ok(snapshot)
    }
}
