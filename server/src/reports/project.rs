//! A project's page (`PortfolioService::project`): its card from the cached portfolio, so the two
//! pages agree, with its plan's tasks and milestones and its members, read from the store.

use app::access::Access;
use app::error::AppError;
use app::project::{PlanTask, ProjectOverview};
use app::services::PortfolioService;

use super::sections::milestone_rows;
use super::StorePortfolio;
use crate::domain::project::ProjectData;
use crate::monitor::timed_query;

impl StorePortfolio {
    /// The project with this code, if it exists and the caller reaches it (`None` otherwise: the
    /// same answer either way).
    pub(super) async fn overview(
        &self,
        who: &Access,
        code: &str,
    ) -> Result<Option<ProjectOverview>, AppError> {
        let id = timed_query(&self.monitor, "project_id", self.store.project_id(code)).await?;
        let Some(id) = id.filter(|&id| who.reaches(id)) else {
            return Ok(None);
        };
        let Some(summary) = self
            .portfolio(who)
            .await?
            .projects
            .into_iter()
            .find(|p| p.id == id)
        else {
            return Ok(None);
        };
        let plan = timed_query(&self.monitor, "project_plan", self.store.project_plan(id)).await?;
        let Some(plan) = plan else {
            return Ok(None);
        };
        let members = timed_query(
            &self.monitor,
            "project_members",
            self.store.project_members(id),
        )
        .await?;
        Ok(Some(ProjectOverview {
            summary,
            tasks: plan_tasks(&plan),
            milestones: milestone_rows(&plan),
            members,
            may_edit: who.may_edit(id),
            calendar: plan.calendar.clone(),
        }))
    }
}

fn plan_tasks(plan: &ProjectData) -> Vec<PlanTask> {
    plan.tasks
        .iter()
        .map(|t| PlanTask {
            wbs: t.wbs.clone(),
            name: t.name.clone(),
            owner: t.owner.clone(),
            planned_start: t.planned_start.to_string(),
            planned_finish: t.planned_finish.to_string(),
            budgeted_cost: t.budgeted_cost,
            actual_cost: t.actual_cost,
            percent_complete: t.percent_complete,
            constraint: t.constraint.as_ref().map(|c| c.describe()),
            estimated_by_rule: t.estimated_by_rule,
        })
        .collect()
}
