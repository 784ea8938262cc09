//! The monthly cycle's writes (`PlanningService`, implemented by [`StorePortfolio`]): the progress
//! grid (`progress.rs`: the sheet, and a save merged with what others saved), report templates
//! (`templates.rs`), starting a month's report and creating a project (here). Every write is checked with the import's rules and drops what
//! it made stale from the cache, here and on every instance.

mod progress;
mod templates;

use app::access::Access;
use app::account::PrincipalKind;
use app::error::AppError;
use app::model::{period_label, Role};
use app::planning::{
    check_new_project, check_period, CreatedProject, NewProject, PlanFormat, ReportStart,
    StartedReport, TemplateChoice,
};
use app::progress::{ProgressSave, ProgressSaved, ProgressSheet};
use app::services::PlanningService;
use app::templates::{TemplateInfo, TemplateSave};
use async_trait::async_trait;

use super::{project_changed, StorePortfolio};
use crate::monitor::{timed_query, Metric};
use crate::storage::StoreError;
use crate::transfer::{
    csv, parse_json, validate, Declared, Problem, ProjectDocument, ProjectHeader, SCHEMA,
};

/// Most problems one answer lists (the rest are counted).
const MAX_LISTED_PROBLEMS: usize = 20;

/// Problems as one message: each with its place, at most [`MAX_LISTED_PROBLEMS`].
pub(crate) fn problems_message(intro: &str, problems: &[String]) -> String {
    let mut text = format!(
        "{intro} {}",
        problems
            .iter()
            .take(MAX_LISTED_PROBLEMS)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    );
    if problems.len() > MAX_LISTED_PROBLEMS {
        text.push_str(&format!(
            "; and {} more",
            problems.len() - MAX_LISTED_PROBLEMS
        ));
    }
    text.push('.');
    text
}

fn no_project(code: &str) -> AppError {
    AppError::NotFound(format!("There is no project with code {code}."))
}

impl StorePortfolio {
    /// The id of the project with `code` if the caller reaches it, else the same 404 as for none.
    pub(super) async fn reachable_project(
        &self,
        who: &Access,
        code: &str,
    ) -> Result<i64, AppError> {
        let id = timed_query(&self.monitor, "project_id", self.store.project_id(code)).await?;
        id.filter(|&id| who.reaches(id))
            .ok_or_else(|| no_project(code))
    }

    /// As [`Self::reachable_project`], for a caller who must be able to edit it.
    pub(super) async fn editable_project(
        &self,
        who: &Access,
        code: &str,
        action: &str,
    ) -> Result<i64, AppError> {
        let id = self.reachable_project(who, code).await?;
        if !who.may_edit(id) {
            return Err(AppError::Forbidden(format!(
                "{action} needs the editor role."
            )));
        }
        Ok(id)
    }

    /// Whether the caller may create a project now: an admin, or an editor whose account an admin
    /// allowed to (read from the store, so taking the right back holds at once). Tokens may not.
    pub(super) async fn may_create_projects(&self, who: &Access) -> Result<bool, AppError> {
        if who.has_role(Role::Admin) {
            return Ok(true);
        }
        match who.principal().kind {
            PrincipalKind::User(id) if who.has_role(Role::Editor) => {
                let read = self.store.may_create_projects(id);
                Ok(timed_query(&self.monitor, "may_create_projects", read).await?)
            }
            _ => Ok(false),
        }
    }

    /// `Forbidden` unless the caller may create a project; the account to make a member of what it
    /// creates (`None` for admins, who reach every project).
    async fn require_creator(&self, who: &Access) -> Result<Option<i64>, AppError> {
        if !self.may_create_projects(who).await? {
            return Err(AppError::Forbidden(
                "Creating a project needs an admin, or an editor an admin has allowed to.".into(),
            ));
        }
        Ok(match who.principal().kind {
            PrincipalKind::User(id) if !who.has_role(Role::Admin) => Some(id),
            _ => None,
        })
    }

    /// Drops the project's cached copies everywhere; the write is done, so a failure is logged.
    pub(super) async fn changed(&self, project_id: i64) {
        if let Err(e) = project_changed(&self.store, &self.cache, project_id).await {
            tracing::warn!(project = project_id, error = %e, "changed, but cannot invalidate the cache");
        }
    }
}

#[async_trait]
impl PlanningService for StorePortfolio {
    async fn progress_sheet(&self, who: &Access, code: &str) -> Result<ProgressSheet, AppError> {
        let id = self
            .editable_project(who, code, "Recording progress")
            .await?;
        self.sheet(id, code).await
    }

    async fn save_progress(
        &self,
        who: &Access,
        save: ProgressSave,
    ) -> Result<ProgressSaved, AppError> {
        let id = self
            .editable_project(who, &save.code, "Recording progress")
            .await?;
        let saved = self.save(who, id, save).await?;
        self.changed(id).await;
        Ok(saved)
    }

    async fn templates(&self, who: &Access) -> Result<Vec<TemplateChoice>, AppError> {
        who.require(Role::Viewer)?;
        let templates = self.cached_templates().await?;
        Ok(templates
            .into_iter()
            .map(|t| TemplateChoice {
                id: t.id,
                name: t.name,
                sections: t.sections.into_iter().map(|s| s.title).collect(),
            })
            .collect())
    }

    async fn project_codes(&self, who: &Access) -> Result<Vec<String>, AppError> {
        self.require_creator(who).await?;
        if !who.has_role(Role::Admin) {
            // An editor learns of codes in use only by trying one: listing them would tell of
            // projects out of their reach.
            return Ok(Vec::new());
        }
        // The codes alone (one light query), not the portfolio with its figures.
        let read = self.store.project_refs();
        let refs = timed_query(&self.monitor, "project_refs", read).await?;
        Ok(refs.into_iter().map(|p| p.code).collect())
    }

    async fn template_list(&self, who: &Access) -> Result<Vec<TemplateInfo>, AppError> {
        StorePortfolio::template_list(self, who).await
    }

    async fn save_template(
        &self,
        who: &Access,
        save: TemplateSave,
    ) -> Result<TemplateInfo, AppError> {
        self.store_template(who, save).await
    }

    async fn start_report(
        &self,
        who: &Access,
        start: ReportStart,
    ) -> Result<StartedReport, AppError> {
        let id = self
            .editable_project(who, &start.code, "Starting a report")
            .await?;
        let plan = timed_query(&self.monitor, "project_plan", self.store.project_plan(id))
            .await?
            .ok_or_else(|| no_project(&start.code))?;
        let today = chrono::Utc::now().date_naive().to_string();
        check_period(&start.period, &plan.start.to_string(), &today)
            .map_err(AppError::BadRequest)?;
        let templates = self.cached_templates().await?;
        let template = templates
            .into_iter()
            .find(|t| t.id == start.template_id)
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "There is no template with id {}.",
                    start.template_id
                ))
            })?;
        self.spend(who.principal())?;
        let title = format!("{}: monthly report", plan.name);
        let create = self
            .store
            .create_draft(id, &start.period, &template, &title);
        let report_id = match timed_query(&self.monitor, "create_draft", create).await {
            Ok(report_id) => report_id,
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::Conflict(format!(
                    "{} has a report already: open it from the project page.",
                    period_label(&start.period)
                )))
            }
            Err(e) => return Err(e.into()),
        };
        let timings = match self.generate_into(report_id).await {
            Ok(timings) => timings,
            Err(e) => {
                // Nothing half-made stays behind: the empty draft goes with the failure.
                if let Err(discard) = self.store.discard_draft(report_id).await {
                    tracing::error!(report = report_id, error = %discard, "cannot discard a draft whose generation failed");
                }
                return Err(AppError::from(e));
            }
        };
        self.monitor
            .record_metric(Metric::ReportGenerationTime, timings.total_ms);
        self.changed(id).await;
        tracing::info!(report = report_id, code = %start.code, period = %start.period, by = %who.name(), "started report");
        Ok(StartedReport {
            report_id,
            period: start.period,
        })
    }

    async fn create_project(
        &self,
        who: &Access,
        project: NewProject,
    ) -> Result<CreatedProject, AppError> {
        let creator = self.require_creator(who).await?;
        let problems = check_new_project(&project);
        if !problems.is_empty() {
            return Err(AppError::BadRequest(problems.join(" ")));
        }
        let existing = timed_query(
            &self.monitor,
            "project_id",
            self.store.project_id(&project.code),
        )
        .await?;
        if existing.is_some() {
            return Err(AppError::Conflict(format!(
                "A project with code {} exists already.",
                project.code
            )));
        }
        let document = new_document(&project).map_err(|problems| {
            AppError::BadRequest(problems_message(
                "The plan has problems:",
                &problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ))
        })?;
        let valid = validate(document).map_err(|problems| {
            AppError::BadRequest(problems_message(
                "The plan has problems:",
                &problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ))
        })?;
        let today = chrono::Utc::now().date_naive();
        let import = self
            .store
            .create_project_by(&valid, &who.principal().display_name, today);
        let outcome = match timed_query(&self.monitor, "import_project", import).await {
            Ok(outcome) => outcome,
            // Created by someone else between the check and the write.
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::Conflict(format!(
                    "A project with code {} exists already.",
                    project.code
                )))
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(user_id) = creator {
            // An editor who made a project works on it: a member from now on.
            let join = self.store.add_member(outcome.project_id, user_id);
            timed_query(&self.monitor, "add_member", join).await?;
            self.rights.memberships_changed(user_id).await;
        }
        self.changed(outcome.project_id).await;
        tracing::info!(code = %outcome.code, tasks = outcome.tasks, by = %who.name(), "created project");
        Ok(CreatedProject {
            code: outcome.code,
            tasks: outcome.tasks,
            milestones: outcome.milestones,
            risks: outcome.risks,
        })
    }
}

/// The exchange document of a new project: the form's header (declared status green until the
/// first report says otherwise), the plan's tasks, milestones and risks from the file.
fn new_document(project: &NewProject) -> Result<ProjectDocument, Vec<Problem>> {
    let (tasks, milestones, risks) = match project.format {
        PlanFormat::Json => {
            let file = parse_json(&project.plan)?;
            (file.tasks, file.milestones, file.risks)
        }
        PlanFormat::Csv => (csv::read_tasks(&project.plan)?, Vec::new(), Vec::new()),
    };
    let budget = project
        .budget_at_completion
        .unwrap_or_else(|| tasks.iter().map(|t| t.budgeted_cost).sum());
    let green = || "green".to_string();
    Ok(ProjectDocument {
        schema: SCHEMA.into(),
        project: ProjectHeader {
            code: project.code.clone(),
            name: project.name.trim().to_string(),
            manager: project.manager.trim().to_string(),
            currency: project.currency.clone(),
            budget_at_completion: budget,
            start_date: project.start_date.clone(),
            target_finish: project.target_finish.clone(),
            declared: Declared {
                overall: green(),
                scope: green(),
                schedule: green(),
                cost: green(),
                resources: green(),
            },
            status_justification: String::new(),
            calendar: Some(project.calendar.clone().tidy()),
        },
        tasks,
        milestones,
        risks,
    })
}
