//! Loading a project's full data for report generation, and writing generated sections back.

use std::collections::HashMap;

use app::model::Rag;
use app::planning::{ProjectCalendar, LAST_DAY};
use app::sections::{EvmPoint, KeyMetrics};
use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::parse;
use super::reports::CURRENT;
use super::{Store, StoreError};
use crate::domain::project::{MilestoneData, ProjectData, RiskData, TaskData};
use crate::transfer::ProjectDocument;

fn date(row: &AnyRow, column: &str, table: &'static str) -> Result<NaiveDate, StoreError> {
    let text: String = row.try_get(column)?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
        table,
        detail: format!("{column} '{text}': {e}"),
    })
}

/// A task's constraint from its `constraint_kind` and `constraint_date` columns.
fn constraint(row: &AnyRow) -> Result<Option<crate::transfer::TaskConstraint>, StoreError> {
    let kind: Option<String> = row.try_get("constraint_kind")?;
    let Some(kind) = kind else {
        return Ok(None);
    };
    let kind = app::planning::ConstraintKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
        table: "tasks",
        detail: format!("constraint_kind '{kind}'"),
    })?;
    let date = optional_date(row, "constraint_date", "tasks")?;
    Ok(Some(crate::transfer::TaskConstraint {
        kind,
        date: date.map(|d| d.to_string()),
    }))
}

fn optional_date(
    row: &AnyRow,
    column: &str,
    table: &'static str,
) -> Result<Option<NaiveDate>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
            table,
            detail: format!("{column} '{t}': {e}"),
        })
    })
    .transpose()
}

/// A project row's calendar columns (`working_days`, `holidays`, `reporting_day`).
pub(crate) fn calendar_of(row: &AnyRow) -> Result<ProjectCalendar, StoreError> {
    let list = |column: &str| -> Result<Vec<String>, StoreError> {
        let text: String = row.try_get(column)?;
        Ok(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect())
    };
    let day: i64 = row.try_get("reporting_day")?;
    let calendar = ProjectCalendar {
        working_days: list("working_days")?,
        holidays: list("holidays")?,
        reporting_day: u8::try_from(day).unwrap_or(LAST_DAY),
    };
    if let Some((field, problem)) = calendar.problems().into_iter().next() {
        return Err(StoreError::Corrupt {
            table: "projects",
            detail: format!("{field}: {problem}"),
        });
    }
    Ok(calendar)
}

impl Store {
    /// A project's data as of the end of `period` (the progress record in force then, else the
    /// live tables), with the EVM history of its reports before `period`; `None` if no such project.
    pub async fn project_data(
        &self,
        project_id: i64,
        period: &str,
    ) -> Result<Option<ProjectData>, StoreError> {
        let Some(mut data) = self.project_plan(project_id).await? else {
            return Ok(None);
        };
        if let Some(day) = data.status_date(period) {
            if let Some((_, document)) = self.progress_as_of(project_id, day).await? {
                data = plan_from_document(data, document)?;
            }
        }
        data.history = self.evm_history(project_id, period).await?;
        Ok(Some(data))
    }

    /// A project's header and planning data (tasks, milestones, risks) without report history.
    pub async fn project_plan(&self, project_id: i64) -> Result<Option<ProjectData>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, code, name, manager, currency, budget_at_completion, start_date, target_finish,
                declared_overall, declared_scope, declared_schedule, declared_cost, declared_resources,
                status_justification, working_days, holidays, reporting_day
             FROM projects WHERE id = $1",
        )
        .bind(project_id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let declared: [Rag; 5] = [
            parse(&row, "declared_overall", "projects")?,
            parse(&row, "declared_scope", "projects")?,
            parse(&row, "declared_schedule", "projects")?,
            parse(&row, "declared_cost", "projects")?,
            parse(&row, "declared_resources", "projects")?,
        ];
        let (tasks, index) = self.tasks_of(project_id).await?;
        Ok(Some(ProjectData {
            id: project_id,
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            manager: row.try_get("manager")?,
            currency: row.try_get("currency")?,
            bac: row.try_get("budget_at_completion")?,
            start: date(&row, "start_date", "projects")?,
            target_finish: date(&row, "target_finish", "projects")?,
            declared,
            justification: row.try_get("status_justification")?,
            calendar: calendar_of(&row)?,
            milestones: self.milestones_of(project_id).await?,
            risks: self.risks_of(project_id, &index).await?,
            history: Vec::new(),
            tasks,
        }))
    }

    async fn tasks_of(
        &self,
        project_id: i64,
    ) -> Result<(Vec<TaskData>, HashMap<i64, usize>), StoreError> {
        let rows = sqlx::query(
            "SELECT id, wbs, name, owner, optimistic_days, most_likely_days, pessimistic_days,
                planned_start, planned_finish, budgeted_cost, actual_cost, percent_complete,
                actual_start, actual_finish, remaining_days, estimated_by_rule, constraint_kind,
                constraint_date
             FROM tasks WHERE project_id = $1 ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        let mut index = HashMap::with_capacity(rows.len());
        let mut tasks = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            index.insert(row.try_get::<i64, _>("id")?, i);
            tasks.push(TaskData {
                wbs: row.try_get("wbs")?,
                name: row.try_get("name")?,
                owner: row.try_get("owner")?,
                optimistic: row.try_get("optimistic_days")?,
                most_likely: row.try_get("most_likely_days")?,
                pessimistic: row.try_get("pessimistic_days")?,
                planned_start: date(row, "planned_start", "tasks")?,
                planned_finish: date(row, "planned_finish", "tasks")?,
                budgeted_cost: row.try_get("budgeted_cost")?,
                actual_cost: row.try_get("actual_cost")?,
                percent_complete: row.try_get("percent_complete")?,
                actual_start: optional_date(row, "actual_start", "tasks")?,
                actual_finish: optional_date(row, "actual_finish", "tasks")?,
                remaining_days: row.try_get("remaining_days")?,
                estimated_by_rule: row.try_get::<i64, _>("estimated_by_rule")? != 0,
                constraint: constraint(row)?,
                predecessors: Vec::new(),
            });
        }
        let deps = sqlx::query(
            "SELECT d.task_id, d.predecessor_id FROM task_dependencies d
             JOIN tasks t ON t.id = d.task_id WHERE t.project_id = $1 ORDER BY d.task_id, d.predecessor_id",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        for row in &deps {
            let (task, pred): (i64, i64) =
                (row.try_get("task_id")?, row.try_get("predecessor_id")?);
            if let (Some(&t), Some(&p)) = (index.get(&task), index.get(&pred)) {
                tasks[t].predecessors.push(p);
            }
        }
        Ok((tasks, index))
    }

    async fn milestones_of(&self, project_id: i64) -> Result<Vec<MilestoneData>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, baseline_date, forecast_date, actual_date FROM milestones
             WHERE project_id = $1 ORDER BY baseline_date, id",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        let history = sqlx::query(
            "SELECT f.milestone_id, f.period, f.forecast_date FROM milestone_forecasts f
             JOIN milestones m ON m.id = f.milestone_id WHERE m.project_id = $1 ORDER BY f.period",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        let mut milestones = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let mut past = Vec::new();
            for h in history
                .iter()
                .filter(|h| h.try_get::<i64, _>("milestone_id").is_ok_and(|m| m == id))
            {
                past.push((
                    h.try_get("period")?,
                    date(h, "forecast_date", "milestone_forecasts")?,
                ));
            }
            milestones.push(MilestoneData {
                name: row.try_get("name")?,
                baseline: date(row, "baseline_date", "milestones")?,
                forecast: date(row, "forecast_date", "milestones")?,
                actual: optional_date(row, "actual_date", "milestones")?,
                history: past,
            });
        }
        Ok(milestones)
    }

    async fn risks_of(
        &self,
        project_id: i64,
        index: &HashMap<i64, usize>,
    ) -> Result<Vec<RiskData>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, probability, cost_impact, schedule_impact_days, owner, mitigation, status
             FROM risks WHERE project_id = $1 ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        let links = sqlx::query(
            "SELECT rt.risk_id, rt.task_id FROM risk_tasks rt JOIN risks r ON r.id = rt.risk_id
             WHERE r.project_id = $1 ORDER BY rt.risk_id, rt.task_id",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?;
        let mut risks = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let mut affected = Vec::new();
            for link in &links {
                if link.try_get::<i64, _>("risk_id")? == id {
                    if let Some(&i) = index.get(&link.try_get::<i64, _>("task_id")?) {
                        affected.push(i);
                    }
                }
            }
            risks.push(RiskData {
                title: row.try_get("title")?,
                probability: row.try_get("probability")?,
                cost_impact: row.try_get("cost_impact")?,
                schedule_impact_days: row.try_get("schedule_impact_days")?,
                owner: row.try_get("owner")?,
                mitigation: row.try_get("mitigation")?,
                status: row.try_get("status")?,
                affected,
            });
        }
        Ok(risks)
    }

    /// The stored content (JSON) of one section of a report; `None` if there is no such section.
    pub async fn section_content(
        &self,
        report_id: i64,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT content FROM report_sections WHERE report_id = $1 AND section_key = $2",
        )
        .bind(report_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?)
    }

    /// EVM figures recorded in the key-metrics sections of the project's reports before `period`.
    pub async fn evm_history(
        &self,
        project_id: i64,
        period: &str,
    ) -> Result<Vec<EvmPoint>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT r.period, s.content FROM reports r
             JOIN report_sections s ON s.report_id = r.id AND s.section_type = 'key_metrics'
             WHERE r.project_id = $1 AND r.period < $2 AND {CURRENT} ORDER BY r.period"
        ))
        .bind(project_id)
        .bind(period)
        .fetch_all(self.pool())
        .await?;
        let mut points = Vec::new();
        for row in &rows {
            let content: String = row.try_get("content")?;
            // Sections generated before key metrics existed hold `{}`: they simply have no point.
            if let Ok(metrics) = serde_json::from_str::<KeyMetrics>(&content) {
                points.push(EvmPoint {
                    period: row.try_get("period")?,
                    pv: metrics.ev.pv,
                    ev: metrics.ev.ev,
                    ac: metrics.ev.ac,
                });
            }
        }
        Ok(points)
    }
}

/// One generated section, as it is written into a report.
#[derive(Debug, Clone)]
pub struct GeneratedSection {
    pub key: String,
    pub section_type: String,
    /// Structured content (JSON).
    pub content: String,
    /// Editable narrative text (empty for sections without one).
    pub narrative: String,
}

/// Writes generated content into a report's sections (matched by key), bumping each version.
pub async fn write_generated(
    conn: &mut AnyConnection,
    report_id: i64,
    sections: &[GeneratedSection],
) -> Result<(), StoreError> {
    let now = chrono::Utc::now().to_rfc3339();
    for s in sections {
        sqlx::query(
            "UPDATE report_sections SET content = $1, narrative = $2, version = version + 1, updated_at = $3
             WHERE report_id = $4 AND section_key = $5",
        )
        .bind(&s.content)
        .bind(&s.narrative)
        .bind(&now)
        .bind(report_id)
        .bind(&s.key)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The plan a progress record holds, in place of the live one (`live` lends the project's id and
/// each milestone's forecast history, by name).
pub fn plan_from_document(
    live: ProjectData,
    document: ProjectDocument,
) -> Result<ProjectData, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        table: "progress_records",
        detail,
    };
    let valid = crate::transfer::validate(document).map_err(|problems| {
        corrupt(
            problems
                .first()
                .map_or_else(String::new, ToString::to_string),
        )
    })?;
    let day = |text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| corrupt(format!("'{text}': {e}")))
    };
    let optional = |text: &Option<String>| text.as_deref().map(day).transpose();
    let d = &valid.document;
    let p = &d.project;
    let mut tasks = Vec::with_capacity(d.tasks.len());
    for (t, predecessors) in d.tasks.iter().zip(&valid.predecessors) {
        tasks.push(TaskData {
            wbs: t.wbs.clone(),
            name: t.name.clone(),
            owner: t.owner.clone(),
            optimistic: t.optimistic_days,
            most_likely: t.most_likely_days,
            pessimistic: t.pessimistic_days,
            planned_start: day(&t.planned_start)?,
            planned_finish: day(&t.planned_finish)?,
            budgeted_cost: t.budgeted_cost,
            actual_cost: t.actual_cost,
            percent_complete: t.percent_complete,
            actual_start: optional(&t.actual_start)?,
            actual_finish: optional(&t.actual_finish)?,
            remaining_days: t.remaining_days,
            estimated_by_rule: t.estimated_by_rule,
            constraint: t.constraint.clone(),
            predecessors: predecessors.clone(),
        });
    }
    let mut milestones = Vec::with_capacity(d.milestones.len());
    for m in &d.milestones {
        let history = live
            .milestones
            .iter()
            .find(|l| l.name == m.name)
            .map(|l| l.history.clone())
            .unwrap_or_default();
        milestones.push(MilestoneData {
            name: m.name.clone(),
            baseline: day(&m.baseline_date)?,
            forecast: day(&m.forecast_date)?,
            actual: optional(&m.actual_date)?,
            history,
        });
    }
    let risks = d
        .risks
        .iter()
        .zip(&valid.affected)
        .map(|(r, affected)| RiskData {
            title: r.title.clone(),
            probability: r.probability,
            cost_impact: r.cost_impact,
            schedule_impact_days: r.schedule_impact_days,
            owner: r.owner.clone(),
            mitigation: r.mitigation.clone(),
            status: r.status.clone(),
            affected: affected.clone(),
        })
        .collect();
    Ok(ProjectData {
        id: live.id,
        code: p.code.clone(),
        name: p.name.clone(),
        manager: p.manager.clone(),
        currency: p.currency.clone(),
        bac: p.budget_at_completion,
        start: day(&p.start_date)?,
        target_finish: day(&p.target_finish)?,
        declared: valid.declared,
        justification: p.status_justification.clone(),
        // Records made before projects had calendars carry none: the project's own is meant.
        calendar: p.calendar.clone().unwrap_or(live.calendar),
        tasks,
        milestones,
        risks,
        history: Vec::new(),
    })
}
