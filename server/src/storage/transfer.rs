//! Import and export of a project's planning data (see `crate::transfer`) against the store.

use app::model::Rag;
use sqlx::{AnyConnection, Row};

use super::projects::{
    insert_dependencies, insert_milestone, insert_portfolio, insert_risk, insert_tasks,
    NewMilestone, NewRisk, NewTask,
};
use super::{Store, StoreError};
use crate::domain::project::ProjectData;
use crate::transfer::{
    Declared, MilestoneRecord, ProjectDocument, ProjectHeader, RiskRecord, TaskRecord,
    ValidProject, SCHEMA,
};

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportOutcome {
    pub project_id: i64,
    pub code: String,
    /// Whether the project was new (otherwise its planning data was replaced).
    pub created: bool,
    pub tasks: usize,
    pub milestones: usize,
    pub risks: usize,
}

impl Store {
    /// The id of the project with this code.
    pub async fn project_id(&self, code: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM projects WHERE code = $1")
                .bind(code)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// The project with this code as an exchange document; `None` if there is none.
    pub async fn export_project(&self, code: &str) -> Result<Option<ProjectDocument>, StoreError> {
        let Some(id) = self.project_id(code).await? else {
            return Ok(None);
        };
        let Some(data) = self.project_plan(id).await? else {
            return Ok(None);
        };
        Ok(Some(document_of(&data)))
    }

    /// Writes a validated project in one transaction: a new project, or a replacement of an existing
    /// project's header, tasks, dependencies and risks. Milestones are matched by name so their
    /// forecast history survives; milestones absent from the import are removed. Reports are kept
    /// (their content is a frozen snapshot); the project's data version is bumped.
    pub async fn import_project(&self, valid: &ValidProject) -> Result<ImportOutcome, StoreError> {
        let today = chrono::Utc::now().date_naive();
        self.import_project_by(valid, "import", today).await
    }

    /// Creates or replaces a project from a validated document, and records it as the project's
    /// progress as of `status_date` (by `recorded_by`), in one transaction.
    pub async fn import_project_by(
        &self,
        valid: &ValidProject,
        recorded_by: &str,
        status_date: chrono::NaiveDate,
    ) -> Result<ImportOutcome, StoreError> {
        self.write_project(valid, recorded_by, status_date, false)
            .await
    }

    /// As [`Self::import_project_by`], for a project that must be new: `Conflict` if the code
    /// was taken meanwhile (nothing is written).
    pub async fn create_project_by(
        &self,
        valid: &ValidProject,
        recorded_by: &str,
        status_date: chrono::NaiveDate,
    ) -> Result<ImportOutcome, StoreError> {
        self.write_project(valid, recorded_by, status_date, true)
            .await
    }

    async fn write_project(
        &self,
        valid: &ValidProject,
        recorded_by: &str,
        status_date: chrono::NaiveDate,
        only_new: bool,
    ) -> Result<ImportOutcome, StoreError> {
        let doc = &valid.document;
        let mut tx = self.begin().await?;
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM projects WHERE code = $1")
            .bind(&doc.project.code)
            .fetch_optional(&mut *tx)
            .await?;
        let project_id = match existing {
            Some(_) if only_new => {
                return Err(StoreError::Conflict(format!(
                    "a project with code {} exists already",
                    doc.project.code
                )))
            }
            Some(id) => {
                update_header(&mut tx, id, valid).await?;
                id
            }
            None => insert_header(&mut tx, valid).await?,
        };
        replace_plan(&mut tx, project_id, valid).await?;
        let version: i64 = sqlx::query_scalar("SELECT data_version FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_one(&mut *tx)
            .await?;
        let now = chrono::Utc::now();
        super::records::insert_record(
            &mut tx,
            project_id,
            version,
            &status_date.to_string(),
            &valid.document,
            recorded_by,
            &now.to_rfc3339(),
        )
        .await?;
        tx.commit().await?;
        Ok(ImportOutcome {
            project_id,
            code: doc.project.code.clone(),
            created: existing.is_none(),
            tasks: doc.tasks.len(),
            milestones: doc.milestones.len(),
            risks: doc.risks.len(),
        })
    }
}

/// Replaces a project's tasks, dependencies and risks with the document's, and merges its milestones
/// by name (so their forecast history stays), inside the caller's transaction.
pub(crate) async fn replace_plan(
    tx: &mut AnyConnection,
    project_id: i64,
    valid: &ValidProject,
) -> Result<(), StoreError> {
    let doc = &valid.document;
    sqlx::query("DELETE FROM risks WHERE project_id = $1")
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM tasks WHERE project_id = $1")
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    let new_tasks: Vec<NewTask> = doc.tasks.iter().map(|t| new_task(project_id, t)).collect();
    let ids = insert_tasks(&mut *tx, project_id, &new_tasks).await?;
    let links: Vec<(i64, i64)> = valid
        .predecessors
        .iter()
        .enumerate()
        .flat_map(|(i, preds)| preds.iter().map(move |&p| (i, p)))
        .map(|(i, p)| (ids[i], ids[p]))
        .collect();
    insert_dependencies(&mut *tx, &links).await?;
    merge_milestones(&mut *tx, project_id, &doc.milestones).await?;
    for (r, affected) in doc.risks.iter().zip(&valid.affected) {
        let task_ids: Vec<i64> = affected
            .iter()
            .map(|&i| ids[i])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        insert_risk(&mut *tx, &new_risk(project_id, r), &task_ids).await?;
    }
    Ok(())
}

async fn update_header(
    conn: &mut AnyConnection,
    id: i64,
    valid: &ValidProject,
) -> Result<(), StoreError> {
    let p = &valid.document.project;
    let [overall, scope, schedule, cost, resources] = valid.declared.map(Rag::as_str);
    sqlx::query(
        "UPDATE projects SET name = $1, manager = $2, currency = $3, budget_at_completion = $4,
            start_date = $5, target_finish = $6, declared_overall = $7, declared_scope = $8,
            declared_schedule = $9, declared_cost = $10, declared_resources = $11,
            status_justification = $12, data_version = data_version + 1, updated_at = $13
         WHERE id = $14",
    )
    .bind(&p.name)
    .bind(&p.manager)
    .bind(&p.currency)
    .bind(p.budget_at_completion)
    .bind(&p.start_date)
    .bind(&p.target_finish)
    .bind(overall)
    .bind(scope)
    .bind(schedule)
    .bind(cost)
    .bind(resources)
    .bind(&p.status_justification)
    .bind(chrono::Utc::now().to_rfc3339())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    // A document without a calendar keeps the project's.
    if let Some(calendar) = &p.calendar {
        let calendar = calendar.clone().tidy();
        sqlx::query(
            "UPDATE projects SET working_days = $1, holidays = $2, reporting_day = $3 WHERE id = $4",
        )
        .bind(calendar.working_days.join(","))
        .bind(calendar.holidays.join(","))
        .bind(i64::from(calendar.reporting_day))
        .bind(id)
        .execute(conn)
        .await?;
    }
    Ok(())
}

async fn insert_header(conn: &mut AnyConnection, valid: &ValidProject) -> Result<i64, StoreError> {
    let portfolio: Option<i64> =
        sqlx::query_scalar("SELECT id FROM portfolios ORDER BY id LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let portfolio_id = match portfolio {
        Some(id) => id,
        None => insert_portfolio(conn, "Portfolio").await?,
    };
    let p = &valid.document.project;
    let project = super::projects::NewProject {
        portfolio_id,
        code: p.code.clone(),
        name: p.name.clone(),
        manager: p.manager.clone(),
        currency: p.currency.clone(),
        budget_at_completion: p.budget_at_completion,
        start_date: p.start_date.clone(),
        target_finish: p.target_finish.clone(),
        declared: valid.declared,
        status_justification: p.status_justification.clone(),
        calendar: p.calendar.clone().unwrap_or_default().tidy(),
    };
    super::projects::insert_project(conn, &project).await
}

async fn merge_milestones(
    conn: &mut AnyConnection,
    project_id: i64,
    milestones: &[MilestoneRecord],
) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT id, name FROM milestones WHERE project_id = $1")
        .bind(project_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut existing: Vec<(i64, String)> = Vec::with_capacity(rows.len());
    for row in &rows {
        existing.push((row.try_get("id")?, row.try_get("name")?));
    }
    for (id, name) in &existing {
        if !milestones.iter().any(|m| &m.name == name) {
            sqlx::query("DELETE FROM milestones WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
    }
    for m in milestones {
        match existing.iter().find(|(_, name)| name == &m.name) {
            Some((id, _)) => {
                sqlx::query("UPDATE milestones SET baseline_date = $1, forecast_date = $2, actual_date = $3 WHERE id = $4")
                    .bind(&m.baseline_date)
                    .bind(&m.forecast_date)
                    .bind(m.actual_date.as_deref())
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {
                let new = NewMilestone {
                    project_id,
                    name: m.name.clone(),
                    baseline_date: m.baseline_date.clone(),
                    forecast_date: m.forecast_date.clone(),
                    actual_date: m.actual_date.clone(),
                };
                insert_milestone(conn, &new).await?;
            }
        }
    }
    Ok(())
}

fn new_task(project_id: i64, t: &TaskRecord) -> NewTask {
    NewTask {
        project_id,
        wbs: t.wbs.clone(),
        name: t.name.clone(),
        owner: t.owner.clone(),
        optimistic_days: t.optimistic_days,
        most_likely_days: t.most_likely_days,
        pessimistic_days: t.pessimistic_days,
        planned_start: t.planned_start.clone(),
        planned_finish: t.planned_finish.clone(),
        budgeted_cost: t.budgeted_cost,
        actual_cost: t.actual_cost,
        percent_complete: t.percent_complete,
        actual_start: t.actual_start.clone(),
        actual_finish: t.actual_finish.clone(),
        remaining_days: t.remaining_days,
        estimated_by_rule: t.estimated_by_rule,
        constraint: t.constraint.clone(),
    }
}

fn new_risk(project_id: i64, r: &RiskRecord) -> NewRisk {
    NewRisk {
        project_id,
        title: r.title.clone(),
        probability: r.probability,
        cost_impact: r.cost_impact,
        schedule_impact_days: r.schedule_impact_days,
        owner: r.owner.clone(),
        mitigation: r.mitigation.clone(),
        status: r.status.clone(),
    }
}

/// A project's data as an exchange document (its plan and progress; no report history).
pub fn document_of(data: &ProjectData) -> ProjectDocument {
    let wbs = |i: &usize| {
        data.tasks
            .get(*i)
            .map(|t| t.wbs.clone())
            .unwrap_or_default()
    };
    let [overall, scope, schedule, cost, resources] =
        data.declared.map(|r: Rag| r.as_str().to_string());
    ProjectDocument {
        schema: SCHEMA.into(),
        project: ProjectHeader {
            code: data.code.clone(),
            name: data.name.clone(),
            manager: data.manager.clone(),
            currency: data.currency.clone(),
            budget_at_completion: data.bac,
            start_date: data.start.to_string(),
            target_finish: data.target_finish.to_string(),
            declared: Declared {
                overall,
                scope,
                schedule,
                cost,
                resources,
            },
            status_justification: data.justification.clone(),
            calendar: Some(data.calendar.clone()),
        },
        tasks: data
            .tasks
            .iter()
            .map(|t| TaskRecord {
                wbs: t.wbs.clone(),
                name: t.name.clone(),
                owner: t.owner.clone(),
                optimistic_days: t.optimistic,
                most_likely_days: t.most_likely,
                pessimistic_days: t.pessimistic,
                planned_start: t.planned_start.to_string(),
                planned_finish: t.planned_finish.to_string(),
                budgeted_cost: t.budgeted_cost,
                actual_cost: t.actual_cost,
                percent_complete: t.percent_complete,
                actual_start: t.actual_start.map(|d| d.to_string()),
                actual_finish: t.actual_finish.map(|d| d.to_string()),
                remaining_days: t.remaining_days,
                estimated_by_rule: t.estimated_by_rule,
                constraint: t.constraint.clone(),
                predecessors: t.predecessors.iter().map(wbs).collect(),
            })
            .collect(),
        milestones: data
            .milestones
            .iter()
            .map(|m| MilestoneRecord {
                name: m.name.clone(),
                baseline_date: m.baseline.to_string(),
                forecast_date: m.forecast.to_string(),
                actual_date: m.actual.map(|d| d.to_string()),
            })
            .collect(),
        risks: data
            .risks
            .iter()
            .map(|r| RiskRecord {
                title: r.title.clone(),
                probability: r.probability,
                cost_impact: r.cost_impact,
                schedule_impact_days: r.schedule_impact_days,
                owner: r.owner.clone(),
                mitigation: r.mitigation.clone(),
                status: r.status.clone(),
                affected_tasks: r.affected.iter().map(wbs).collect(),
            })
            .collect(),
    }
}
