//! The demo portfolio written into an empty store on first start: four projects (on track, at risk,
//! troubled while declared green, slightly behind) with 60 to 210 tasks each, dependencies, budgets,
//! progress, milestones with their forecast history, risks, and six monthly reports each.
//!
//! Each month's report is generated (earned value, Monte Carlo, insights, every section) from the
//! plan's state at the end of that month, so the reports differ month by month the way real ones do and
//! the charts show a real history; the live task data is the state at the end of the latest month.
//!
//! Dates are relative to the day of seeding, so the demo always shows the last six months. Everything
//! else is deterministic. The whole portfolio is written in one transaction: a crash mid-seed leaves an
//! empty store that the next start seeds again.

pub mod args;
mod catalogue;
mod plan;

use app::model::{ReportStatus, TemplateSection};
use app::planning::ProjectCalendar;
use chrono::{Datelike, Duration, Months, NaiveDate};
use sqlx::AnyConnection;

use crate::domain::project::{MilestoneData, ProjectData, RiskData, TaskData};
use crate::insights::rules::RulesEngine;
use crate::reports::generate::{generate, GenerationParams};
use crate::storage::project_data::write_generated;
use crate::storage::projects::{
    insert_dependency, insert_milestone, insert_milestone_forecast, insert_portfolio,
    insert_project, insert_risk, insert_task, NewMilestone, NewProject, NewRisk, NewTask,
};
use crate::storage::records::insert_record;
use crate::storage::reports::{
    insert_report, insert_section, insert_template, NewReport, NewSection,
};
use crate::storage::transfer::document_of;
use crate::storage::{Store, StoreError};
pub use catalogue::standard_template;
use catalogue::{Profile, PROFILES};
use plan::{plan, working_days_between, PlannedTask, Rng};

/// Monthly reports per demo project.
const REPORT_MONTHS: u32 = 6;

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("generating a demo report: {0}")]
    Generation(#[from] crate::reports::generate::GenerationError),
}

/// What seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The store already had projects; nothing was written.
    AlreadyPresent,
    /// The demo portfolio was written.
    Seeded {
        projects: usize,
        tasks: usize,
        reports: usize,
    },
}

/// Writes the demo portfolio if the store has no project yet. `today` anchors the dates.
pub async fn seed_if_empty(
    store: &Store,
    today: NaiveDate,
    params: GenerationParams,
) -> Result<SeedOutcome, SeedError> {
    seed_copies_if_empty(store, today, params, 1).await
}

/// Most copies of the demo projects one store can be seeded with.
pub const MAX_COPIES: u32 = 50;

/// As [`seed_if_empty`], with `copies` (1 to [`MAX_COPIES`]) of each demo project: copy `n` above
/// the first has the code `CDW-n` and the name `… (copy n)`, and a plan of its own. Load tests use
/// it for as many report sessions as they need (`PMR_SEED_COPIES`).
pub async fn seed_copies_if_empty(
    store: &Store,
    today: NaiveDate,
    params: GenerationParams,
    copies: u32,
) -> Result<SeedOutcome, SeedError> {
    let copies = copies.clamp(1, MAX_COPIES);
    if store.project_count().await? > 0 {
        return Ok(SeedOutcome::AlreadyPresent);
    }
    let mut tx = store.begin().await?;
    let portfolio_id = insert_portfolio(&mut tx, "Northwind Infrastructure & Operations").await?;
    let template = standard_template();
    let template_id = insert_template(&mut tx, "Standard monthly report", &template).await?;
    let this_month = first_of_month(today);
    let (mut tasks, mut reports) = (0, 0);
    for copy in 1..=copies {
        for (i, profile) in PROFILES.iter().enumerate() {
            let (code, name) = if copy == 1 {
                (profile.code.to_string(), profile.name.to_string())
            } else {
                (
                    format!("{}-{copy}", profile.code),
                    format!("{} (copy {copy})", profile.name),
                )
            };
            let ctx = ProjectContext {
                portfolio_id,
                template_id,
                template: &template,
                this_month,
                params,
                seed: 0x5EED_0000 + i as u64 + 0x100 * u64::from(copy - 1),
                code,
                name,
            };
            let (t, r) = seed_project(&mut tx, profile, &ctx).await?;
            tasks += t;
            reports += r;
        }
    }
    match tx.commit().await {
        Ok(()) => Ok(SeedOutcome::Seeded {
            projects: PROFILES.len() * copies as usize,
            tasks,
            reports,
        }),
        // Another instance seeded the same empty database at the same moment.
        Err(e) => match StoreError::from(e) {
            StoreError::Conflict(_) => Ok(SeedOutcome::AlreadyPresent),
            other => Err(other.into()),
        },
    }
}

struct ProjectContext<'a> {
    portfolio_id: i64,
    template_id: i64,
    template: &'a [TemplateSection],
    this_month: NaiveDate,
    params: GenerationParams,
    /// Seed of the project's plan generator.
    seed: u64,
    /// The project's code and name (the profile's, or a copy's).
    code: String,
    name: String,
}

/// Seeds one project; returns its task and report counts.
async fn seed_project(
    conn: &mut AnyConnection,
    profile: &Profile,
    ctx: &ProjectContext<'_>,
) -> Result<(usize, usize), SeedError> {
    let start = months_before(ctx.this_month, profile.started_months_ago);
    let status_date = ctx.this_month - Duration::days(1);
    let planned = plan(profile, start, status_date, &mut Rng::new(ctx.seed));
    let bac: f64 = planned.iter().map(|t| t.budget).sum();
    let planned_finish = planned.iter().map(|t| t.finish).max().unwrap_or(start);
    let buffer = working_days_between(start, planned_finish) as f64 * profile.schedule_buffer;
    let finish = plan::add_working_days(planned_finish, buffer.round() as i64);
    let project_id = insert_project(conn, &new_project(profile, ctx, bac, start, finish)).await?;
    let ids = seed_tasks(conn, project_id, &planned).await?;
    let milestones = milestone_plans(profile, &planned, start, ctx.this_month);
    seed_milestones(conn, project_id, &milestones, &planned).await?;
    let risks = risk_data(
        profile,
        bac,
        planned.len(),
        &mut Rng::new(ctx.seed ^ 0xFACE),
    );
    for risk in &risks {
        let affected: Vec<i64> = risk.affected.iter().map(|&i| ids[i]).collect();
        let new = NewRisk {
            project_id,
            title: risk.title.clone(),
            probability: risk.probability,
            cost_impact: risk.cost_impact,
            schedule_impact_days: risk.schedule_impact_days,
            owner: risk.owner.clone(),
            mitigation: risk.mitigation.clone(),
            status: risk.status.clone(),
        };
        insert_risk(conn, &new, &affected).await?;
    }
    let base = ProjectData {
        id: project_id,
        code: ctx.code.clone(),
        name: ctx.name.clone(),
        manager: profile.manager.into(),
        currency: profile.currency.into(),
        bac,
        start,
        target_finish: finish,
        declared: profile.declared,
        justification: profile.justification.into(),
        calendar: ProjectCalendar::default(),
        tasks: Vec::new(),
        milestones: Vec::new(),
        risks,
        history: Vec::new(),
    };
    let reports = seed_reports(conn, profile, ctx, base, &milestones).await?;
    Ok((planned.len(), reports))
}

/// The demo risks, each affecting one or two tasks.
fn risk_data(profile: &Profile, bac: f64, tasks: usize, rng: &mut Rng) -> Vec<RiskData> {
    profile
        .risks
        .iter()
        .map(|spec| {
            let affected: std::collections::BTreeSet<usize> =
                (0..2).map(|_| rng.index(tasks)).collect();
            RiskData {
                title: spec.title.into(),
                probability: spec.probability,
                cost_impact: (bac * spec.cost_share).round(),
                schedule_impact_days: spec.schedule_days,
                owner: spec.owner.into(),
                mitigation: spec.mitigation.into(),
                status: if spec.probability >= 0.4 {
                    "mitigating"
                } else {
                    "open"
                }
                .into(),
                affected: affected.into_iter().collect(),
            }
        })
        .collect()
}

fn new_project(
    profile: &Profile,
    ctx: &ProjectContext<'_>,
    bac: f64,
    start: NaiveDate,
    finish: NaiveDate,
) -> NewProject {
    NewProject {
        portfolio_id: ctx.portfolio_id,
        code: ctx.code.clone(),
        name: ctx.name.clone(),
        manager: profile.manager.into(),
        currency: profile.currency.into(),
        budget_at_completion: bac,
        start_date: start.to_string(),
        target_finish: finish.to_string(),
        declared: profile.declared,
        status_justification: profile.justification.into(),
        calendar: ProjectCalendar::default(),
    }
}

/// Inserts the tasks and their dependencies; returns the new ids, index for index.
async fn seed_tasks(
    conn: &mut AnyConnection,
    project_id: i64,
    planned: &[PlannedTask],
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(planned.len());
    for t in planned {
        let task = NewTask {
            project_id,
            wbs: t.wbs.clone(),
            name: t.name.clone(),
            owner: t.owner.clone(),
            optimistic_days: t.optimistic,
            most_likely_days: t.most_likely,
            pessimistic_days: t.pessimistic,
            planned_start: t.start.to_string(),
            planned_finish: t.finish.to_string(),
            budgeted_cost: t.budget,
            actual_cost: t.actual_cost,
            percent_complete: t.percent_complete,
            actual_start: t.actual_start.map(|d| d.to_string()),
            actual_finish: t.actual_finish.map(|d| d.to_string()),
            remaining_days: None,
            estimated_by_rule: false,
            constraint: None,
        };
        ids.push(insert_task(conn, &task).await?);
    }
    for (i, t) in planned.iter().enumerate() {
        for &p in &t.predecessors {
            insert_dependency(conn, ids[i], ids[p]).await?;
        }
    }
    Ok(ids)
}

/// A milestone of the demo plan with its forecast in each report month and at the latest status.
struct MilestonePlan {
    name: String,
    baseline: NaiveDate,
    /// `(period, forecast)` for each report month, oldest first.
    forecasts: Vec<(String, NaiveDate)>,
    /// Completion date, if the phase finished, and the phase's task indexes.
    phase: usize,
}

/// One milestone per phase, at the phase's planned end. The forecast slips in proportion to the
/// project's schedule efficiency and to how much of the way to the milestone has been travelled, so
/// the recorded history shows the slip growing month by month, as it does in troubled projects.
fn milestone_plans(
    profile: &Profile,
    planned: &[PlannedTask],
    start: NaiveDate,
    this_month: NaiveDate,
) -> Vec<MilestonePlan> {
    let months = report_months(this_month);
    profile
        .phases
        .iter()
        .enumerate()
        .filter_map(|(phase, (name, _))| {
            let baseline = planned
                .iter()
                .filter(|t| t.phase == phase)
                .map(|t| t.finish)
                .max()?;
            let span = working_days_between(start, baseline).max(1) as f64;
            let slip_at = |status: NaiveDate| {
                let travelled = (working_days_between(start, status) as f64 / span).clamp(0.0, 1.0);
                let full_slip = span * (1.0 / profile.schedule_efficiency - 1.0);
                plan::add_working_days(baseline, (full_slip * travelled).round() as i64)
            };
            let forecasts = months
                .iter()
                .map(|&m| (period_of(m), slip_at(month_end(m))))
                .collect();
            Some(MilestonePlan {
                name: format!("{name} complete"),
                baseline,
                forecasts,
                phase,
            })
        })
        .collect()
}

/// The milestones as they stood at the end of report month `k` of the plan snapshot `tasks`.
fn milestones_at(plans: &[MilestonePlan], k: usize, tasks: &[PlannedTask]) -> Vec<MilestoneData> {
    plans
        .iter()
        .map(|m| {
            let phase: Vec<&PlannedTask> = tasks.iter().filter(|t| t.phase == m.phase).collect();
            let done = phase.iter().all(|t| t.actual_finish.is_some());
            let actual = phase
                .iter()
                .filter_map(|t| t.actual_finish)
                .max()
                .filter(|_| done);
            let forecast = m.forecasts.get(k).map_or(m.baseline, |(_, d)| *d);
            MilestoneData {
                name: m.name.clone(),
                baseline: m.baseline,
                forecast: actual.unwrap_or(forecast),
                actual,
                history: m.forecasts.iter().take(k + 1).cloned().collect(),
            }
        })
        .collect()
}

/// Writes the milestones as of the latest month, with every month's forecast.
async fn seed_milestones(
    conn: &mut AnyConnection,
    project_id: i64,
    plans: &[MilestonePlan],
    tasks: &[PlannedTask],
) -> Result<(), StoreError> {
    // As of the latest month: a milestone whose phase is finished carries its actual date.
    let latest = plans
        .first()
        .map_or(0, |m| m.forecasts.len().saturating_sub(1));
    for (m, now) in plans.iter().zip(milestones_at(plans, latest, tasks)) {
        let milestone = NewMilestone {
            project_id,
            name: m.name.clone(),
            baseline_date: m.baseline.to_string(),
            forecast_date: now.forecast.to_string(),
            actual_date: now.actual.map(|d| d.to_string()),
        };
        let id = insert_milestone(conn, &milestone).await?;
        for (period, forecast) in &m.forecasts {
            insert_milestone_forecast(conn, id, period, &forecast.to_string()).await?;
        }
    }
    Ok(())
}

/// Six monthly reports from the standard template, each generated from the plan as it stood at the
/// end of its month: the latest is a draft, earlier ones are final.
async fn seed_reports(
    conn: &mut AnyConnection,
    profile: &Profile,
    ctx: &ProjectContext<'_>,
    mut data: ProjectData,
    milestones: &[MilestonePlan],
) -> Result<usize, SeedError> {
    let months = report_months(ctx.this_month);
    for (k, month) in months.iter().enumerate() {
        let status_date = month_end(*month);
        let snapshot = plan(profile, data.start, status_date, &mut Rng::new(ctx.seed));
        data.tasks = task_data(&snapshot);
        data.milestones = milestones_at(milestones, k, &snapshot);
        let period = period_of(*month);
        let generated = generate(
            &data,
            &period,
            status_date,
            ctx.template,
            ctx.params,
            &RulesEngine,
        )
        .await?;
        let report = NewReport {
            project_id: data.id,
            period: period.clone(),
            template_id: ctx.template_id,
            status: if k + 1 == months.len() {
                ReportStatus::Draft
            } else {
                ReportStatus::Final
            },
            title: format!("{}: monthly report", ctx.name),
        };
        let report_id = insert_report(conn, &report).await?;
        for (position, template) in ctx.template.iter().enumerate() {
            let section = NewSection {
                report_id,
                position: position as i64,
                template: template.clone(),
                content: "{}".into(),
                narrative: String::new(),
            };
            insert_section(conn, &section).await?;
        }
        write_generated(conn, report_id, &generated.sections).await?;
        // The month's progress, as a PM would have recorded it at its end.
        insert_record(
            conn,
            data.id,
            k as i64 + 1,
            &status_date.to_string(),
            &document_of(&data),
            "demo seed",
            &chrono::Utc::now().to_rfc3339(),
        )
        .await?;
        data.history.push(generated.evm_point);
    }
    sqlx::query("UPDATE projects SET data_version = $1 WHERE id = $2")
        .bind(months.len() as i64)
        .bind(data.id)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from)?;
    Ok(months.len())
}

fn task_data(planned: &[PlannedTask]) -> Vec<TaskData> {
    planned
        .iter()
        .map(|t| TaskData {
            wbs: t.wbs.clone(),
            name: t.name.clone(),
            owner: t.owner.clone(),
            optimistic: t.optimistic,
            most_likely: t.most_likely,
            pessimistic: t.pessimistic,
            planned_start: t.start,
            planned_finish: t.finish,
            budgeted_cost: t.budget,
            actual_cost: t.actual_cost,
            percent_complete: t.percent_complete,
            actual_start: t.actual_start,
            actual_finish: t.actual_finish,
            remaining_days: None,
            estimated_by_rule: false,
            constraint: None,
            predecessors: t.predecessors.clone(),
        })
        .collect()
}

/// The last day of the month starting at `month`.
fn month_end(month: NaiveDate) -> NaiveDate {
    first_of_month(month + Months::new(1)) - Duration::days(1)
}

/// The first days of the [`REPORT_MONTHS`] months before `this_month`, oldest first.
fn report_months(this_month: NaiveDate) -> Vec<NaiveDate> {
    (1..=REPORT_MONTHS)
        .rev()
        .map(|n| months_before(this_month, n))
        .collect()
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn months_before(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months)).unwrap_or(date)
}

fn period_of(month: NaiveDate) -> String {
    format!("{:04}-{:02}", month.year(), month.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_report_months_end_last_month() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        let months: Vec<String> = report_months(first_of_month(today))
            .into_iter()
            .map(period_of)
            .collect();
        assert_eq!(
            months,
            ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
        );
    }

    #[test]
    fn months_before_crosses_years() {
        let jan = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        assert_eq!(period_of(months_before(jan, 2)), "2025-11");
    }
}
