//! Portfolios, projects and their planning data: tasks with dependencies, milestones with their
//! forecast history, risks with the tasks they affect. Writes take a connection (usually a
//! transaction's) so that a whole import or seed lands at once; reads take the [`Store`].

use app::model::{Portfolio, ProjectSummary, Rag, ReportLink, Trend};
use app::planning::ProjectCalendar;
use app::sections::SectionContent;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::Row;

use super::parse;
use super::reports::CURRENT;
use super::{Store, StoreError};

/// A project to insert.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub portfolio_id: i64,
    pub code: String,
    pub name: String,
    pub manager: String,
    pub currency: String,
    pub budget_at_completion: f64,
    pub start_date: String,
    pub target_finish: String,
    /// Declared status per dimension: overall, scope, schedule, cost, resources.
    pub declared: [Rag; 5],
    pub status_justification: String,
    pub calendar: ProjectCalendar,
}

/// A task to insert. Durations are in working days; money in the project's currency.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub project_id: i64,
    pub wbs: String,
    pub name: String,
    pub owner: String,
    pub optimistic_days: f64,
    pub most_likely_days: f64,
    pub pessimistic_days: f64,
    pub planned_start: String,
    pub planned_finish: String,
    pub budgeted_cost: f64,
    pub actual_cost: f64,
    pub percent_complete: f64,
    pub actual_start: Option<String>,
    pub actual_finish: Option<String>,
    pub remaining_days: Option<f64>,
    pub estimated_by_rule: bool,
    pub constraint: Option<crate::transfer::TaskConstraint>,
}

/// A milestone to insert.
#[derive(Debug, Clone)]
pub struct NewMilestone {
    pub project_id: i64,
    pub name: String,
    pub baseline_date: String,
    pub forecast_date: String,
    pub actual_date: Option<String>,
}

/// A risk to insert.
#[derive(Debug, Clone)]
pub struct NewRisk {
    pub project_id: i64,
    pub title: String,
    pub probability: f64,
    pub cost_impact: f64,
    pub schedule_impact_days: f64,
    pub owner: String,
    pub mitigation: String,
    /// `open`, `mitigating` or `closed`.
    pub status: String,
}

/// Row counts of a project's planning data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectCounts {
    pub tasks: i64,
    pub dependencies: i64,
    pub milestones: i64,
    pub risks: i64,
    pub reports: i64,
}

/// Inserts a portfolio and returns its id.
pub async fn insert_portfolio(conn: &mut AnyConnection, name: &str) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar("INSERT INTO portfolios (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(conn)
        .await?;
    Ok(id)
}

/// Inserts a project and returns its id.
pub async fn insert_project(conn: &mut AnyConnection, p: &NewProject) -> Result<i64, StoreError> {
    let [overall, scope, schedule, cost, resources] = p.declared.map(Rag::as_str);
    let id = sqlx::query_scalar(
        "INSERT INTO projects (portfolio_id, code, name, manager, currency, budget_at_completion,
            start_date, target_finish, declared_overall, declared_scope, declared_schedule,
            declared_cost, declared_resources, status_justification, updated_at, working_days,
            holidays, reporting_day)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         RETURNING id",
    )
    .bind(p.portfolio_id)
    .bind(&p.code)
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
    .bind(p.calendar.working_days.join(","))
    .bind(p.calendar.holidays.join(","))
    .bind(i64::from(p.calendar.reporting_day))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The columns a task is written with, and how many.
const TASK_COLUMNS: &str = "project_id, wbs, name, owner, optimistic_days, most_likely_days,
    pessimistic_days, planned_start, planned_finish, budgeted_cost, actual_cost, percent_complete,
    actual_start, actual_finish, remaining_days, estimated_by_rule, constraint_kind, constraint_date";
const TASK_WIDTH: usize = 18;

/// Binds a task's [`TASK_COLUMNS`], in order.
fn bind_task<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    t: &'q NewTask,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(t.project_id)
        .bind(&t.wbs)
        .bind(&t.name)
        .bind(&t.owner)
        .bind(t.optimistic_days)
        .bind(t.most_likely_days)
        .bind(t.pessimistic_days)
        .bind(&t.planned_start)
        .bind(&t.planned_finish)
        .bind(t.budgeted_cost)
        .bind(t.actual_cost)
        .bind(t.percent_complete)
        .bind(t.actual_start.as_deref())
        .bind(t.actual_finish.as_deref())
        .bind(t.remaining_days)
        .bind(i64::from(t.estimated_by_rule))
        .bind(t.constraint.as_ref().map(|c| c.kind.as_str()))
        .bind(t.constraint.as_ref().and_then(|c| c.date.clone()))
}

/// Inserts a task and returns its id.
pub async fn insert_task(conn: &mut AnyConnection, t: &NewTask) -> Result<i64, StoreError> {
    let sql = format!(
        "INSERT INTO tasks ({TASK_COLUMNS}) VALUES {} RETURNING id",
        placeholders(1, TASK_WIDTH)
    );
    let row = bind_task(sqlx::query(&sql), t).fetch_one(conn).await?;
    Ok(row.try_get("id")?)
}

/// Tasks per multi-row `INSERT` (18 values each). Binding a value costs time in proportion to the
/// statement's values (SQLite finds a `$n` parameter by its name), so statements of a few hundred
/// values are fastest: 50,000 tasks in 500-task statements took 10.8 s, in 32-task ones well under
/// a second.
const TASKS_PER_INSERT: usize = 32;
/// Dependencies per multi-row `INSERT` (2 values each).
const LINKS_PER_INSERT: usize = 256;

/// `($1, $2, …), (…)`: `rows` groups of `width` numbered placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 6);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for k in 0..width {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * width + k + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// Inserts a project's whole task list (the project has no tasks yet) in a few statements, and
/// returns the tasks' ids in order. A plan of 50,000 tasks is a hundred statements, not 50,000 round
/// trips.
pub async fn insert_tasks(
    conn: &mut AnyConnection,
    project_id: i64,
    tasks: &[NewTask],
) -> Result<Vec<i64>, StoreError> {
    for chunk in tasks.chunks(TASKS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES {}",
            placeholders(chunk.len(), TASK_WIDTH)
        );
        let mut query = sqlx::query(&sql);
        for t in chunk {
            query = bind_task(query, t);
        }
        query.execute(&mut *conn).await?;
    }
    // The ids by WBS code (unique within a project): the order a multi-row insert numbers its rows
    // in is not promised.
    let rows = sqlx::query("SELECT id, wbs FROM tasks WHERE project_id = $1")
        .bind(project_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut ids = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        ids.insert(
            row.try_get::<String, _>("wbs")?,
            row.try_get::<i64, _>("id")?,
        );
    }
    tasks
        .iter()
        .map(|t| {
            ids.get(&t.wbs).copied().ok_or_else(|| StoreError::Corrupt {
                table: "tasks",
                detail: format!("task {} was inserted but is not found", t.wbs),
            })
        })
        .collect()
}

/// Records dependencies `(task_id, predecessor_id)` in a few statements.
pub async fn insert_dependencies(
    conn: &mut AnyConnection,
    links: &[(i64, i64)],
) -> Result<(), StoreError> {
    for chunk in links.chunks(LINKS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO task_dependencies (task_id, predecessor_id) VALUES {}",
            placeholders(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for &(task, predecessor) in chunk {
            query = query.bind(task).bind(predecessor);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records that `task_id` cannot start before `predecessor_id` finishes.
pub async fn insert_dependency(
    conn: &mut AnyConnection,
    task_id: i64,
    predecessor_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO task_dependencies (task_id, predecessor_id) VALUES ($1, $2)")
        .bind(task_id)
        .bind(predecessor_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts a milestone and returns its id.
pub async fn insert_milestone(
    conn: &mut AnyConnection,
    m: &NewMilestone,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO milestones (project_id, name, baseline_date, forecast_date, actual_date)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(m.project_id)
    .bind(&m.name)
    .bind(&m.baseline_date)
    .bind(&m.forecast_date)
    .bind(m.actual_date.as_deref())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Records a milestone's forecast as it stood in the report of `period` (`YYYY-MM`).
pub async fn insert_milestone_forecast(
    conn: &mut AnyConnection,
    milestone_id: i64,
    period: &str,
    forecast_date: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO milestone_forecasts (milestone_id, period, forecast_date) VALUES ($1, $2, $3)",
    )
    .bind(milestone_id)
    .bind(period)
    .bind(forecast_date)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a risk with the tasks it affects and returns its id.
pub async fn insert_risk(
    conn: &mut AnyConnection,
    r: &NewRisk,
    affected_tasks: &[i64],
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO risks (project_id, title, probability, cost_impact, schedule_impact_days,
            owner, mitigation, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(r.project_id)
    .bind(&r.title)
    .bind(r.probability)
    .bind(r.cost_impact)
    .bind(r.schedule_impact_days)
    .bind(&r.owner)
    .bind(&r.mitigation)
    .bind(&r.status)
    .fetch_one(&mut *conn)
    .await?;
    for task_id in affected_tasks {
        sqlx::query("INSERT INTO risk_tasks (risk_id, task_id) VALUES ($1, $2)")
            .bind(id)
            .bind(task_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

impl Store {
    /// Number of projects in the store; zero means a fresh database.
    pub async fn project_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM projects")
            .fetch_one(self.pool())
            .await?)
    }

    /// Counts of a project's tasks, dependencies, milestones, risks and reports.
    pub async fn project_counts(&self, project_id: i64) -> Result<ProjectCounts, StoreError> {
        let row = sqlx::query(
            "SELECT
                (SELECT COUNT(*) FROM tasks WHERE project_id = $1) AS tasks,
                (SELECT COUNT(*) FROM task_dependencies d JOIN tasks t ON t.id = d.task_id
                    WHERE t.project_id = $1) AS dependencies,
                (SELECT COUNT(*) FROM milestones WHERE project_id = $1) AS milestones,
                (SELECT COUNT(*) FROM risks WHERE project_id = $1) AS risks,
                (SELECT COUNT(*) FROM reports WHERE project_id = $1) AS reports",
        )
        .bind(project_id)
        .fetch_one(self.pool())
        .await?;
        Ok(ProjectCounts {
            tasks: row.try_get("tasks")?,
            dependencies: row.try_get("dependencies")?,
            milestones: row.try_get("milestones")?,
            risks: row.try_get("risks")?,
            reports: row.try_get("reports")?,
        })
    }

    /// The portfolio: every project by name, each with its reports newest first.
    pub async fn portfolio(&self) -> Result<Portfolio, StoreError> {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM portfolios ORDER BY id LIMIT 1")
                .fetch_optional(self.pool())
                .await?;
        let rows = sqlx::query(
            "SELECT id, code, name, manager, currency, budget_at_completion, start_date,
                target_finish, declared_overall, status_justification
             FROM projects ORDER BY name, id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut projects = rows
            .iter()
            .map(project_summary)
            .collect::<Result<Vec<_>, _>>()?;
        let reports = sqlx::query(&format!(
            "SELECT r.id, r.project_id, r.period, r.status, r.revision FROM reports r
             WHERE {CURRENT} ORDER BY r.project_id, r.period DESC"
        ))
        .fetch_all(self.pool())
        .await?;
        for row in &reports {
            let project_id: i64 = row.try_get("project_id")?;
            let link = ReportLink {
                id: row.try_get("id")?,
                period: row.try_get("period")?,
                status: parse(row, "status", "reports")?,
                revision: row.try_get("revision")?,
            };
            if let Some(p) = projects.iter_mut().find(|p| p.id == project_id) {
                p.reports.push(link);
            }
        }
        self.add_performance(&mut projects).await?;
        Ok(Portfolio {
            name: name.unwrap_or_else(|| "Portfolio".into()),
            projects,
            // The caller's right, set by the service.
            may_create_projects: false,
        })
    }

    /// Each project's computed status, performance index and trend from the key metrics of its
    /// latest two reports.
    async fn add_performance(&self, projects: &mut [ProjectSummary]) -> Result<(), StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT r.project_id, s.content FROM report_sections s
             JOIN reports r ON r.id = s.report_id
             WHERE s.section_type = 'key_metrics' AND {CURRENT}
             ORDER BY r.project_id, r.period DESC"
        ))
        .fetch_all(self.pool())
        .await?;
        let mut seen: Vec<(i64, Vec<Option<f64>>)> = Vec::new();
        for row in &rows {
            let project_id: i64 = row.try_get("project_id")?;
            let entry = match seen.iter().position(|(id, _)| *id == project_id) {
                Some(i) => &mut seen[i],
                None => {
                    seen.push((project_id, Vec::new()));
                    let last = seen.len() - 1;
                    &mut seen[last]
                }
            };
            if entry.1.len() >= 2 {
                continue;
            }
            let content: String = row.try_get("content")?;
            let metrics = match SectionContent::parse("key_metrics", &content) {
                Ok(SectionContent::KeyMetrics(m)) => Some(m),
                Ok(_) => None,
                Err(e) => {
                    return Err(StoreError::Corrupt {
                        table: "report_sections",
                        detail: format!("key metrics of project {project_id}: {e}"),
                    })
                }
            };
            let index = metrics.as_ref().and_then(|m| match (m.ev.cpi, m.es.spi_t) {
                (Some(c), Some(s)) => Some(c.min(s)),
                (c, s) => c.or(s),
            });
            if entry.1.is_empty() {
                if let Some(p) = projects.iter_mut().find(|p| p.id == project_id) {
                    p.computed_overall = metrics
                        .as_ref()
                        .and_then(|m| m.checks.first())
                        .and_then(|c| c.computed);
                    p.performance = index;
                }
            }
            entry.1.push(index);
        }
        for (project_id, indices) in seen {
            if let Some(p) = projects.iter_mut().find(|p| p.id == project_id) {
                p.trend = Trend::between(
                    indices.get(1).copied().flatten(),
                    indices.first().copied().flatten(),
                );
            }
        }
        Ok(())
    }
}

fn project_summary(row: &AnyRow) -> Result<ProjectSummary, StoreError> {
    Ok(ProjectSummary {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        manager: row.try_get("manager")?,
        currency: row.try_get("currency")?,
        budget: row.try_get("budget_at_completion")?,
        start_date: row.try_get("start_date")?,
        target_finish: row.try_get("target_finish")?,
        declared_overall: parse(row, "declared_overall", "projects")?,
        status_justification: row.try_get("status_justification")?,
        computed_overall: None,
        performance: None,
        trend: Trend::Unknown,
        reports: Vec::new(),
    })
}
