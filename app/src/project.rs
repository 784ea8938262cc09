//! A project as its page shows it: the plan at a glance (the WBS as a tree with progress bars, the
//! next milestones, the latest computed status beside the declared one), its reports by month and its
//! members. Wire types and the plain, tested functions that shape them for the page; no I/O.

use serde::{Deserialize, Serialize};

use crate::model::{ProjectSummary, Role};
use crate::sections::MilestoneRow;

/// Everything the project page shows. `summary` is the portfolio's card of the project (status,
/// budget, reports newest first), so the two pages always agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectOverview {
    pub summary: ProjectSummary,
    /// The plan's work tasks, in the order the plan lists them.
    pub tasks: Vec<PlanTask>,
    /// The milestones as a report's milestone table has them (with their slip).
    pub milestones: Vec<MilestoneRow>,
    pub members: Vec<ProjectMember>,
    /// Whether the caller may record progress and start reports here (an editor of the project).
    pub may_edit: bool,
    /// Working days, holidays and the reporting day.
    #[serde(default)]
    pub calendar: crate::planning::ProjectCalendar,
}

/// A work task of the plan, with its progress as last recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanTask {
    /// Dotted WBS code, e.g. `2.4`: its leading parts are the levels it sits under.
    pub wbs: String,
    pub name: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub planned_start: String,
    pub planned_finish: String,
    pub budgeted_cost: f64,
    pub actual_cost: f64,
    /// 0–100.
    pub percent_complete: f64,
    /// The scheduling tool's date constraint, in words ("Finish no later than 2026-03-01").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// Whether an import's rule derived its optimistic and pessimistic durations.
    #[serde(default)]
    pub estimated_by_rule: bool,
}

/// Someone who can reach the project, with the role their account has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectMember {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

pub use crate::planning::check_project_code;

/// One row of the WBS tree: a level that groups tasks (`task: None`), or a task.
#[derive(Debug, Clone, PartialEq)]
pub struct WbsRow {
    pub wbs: String,
    /// The task's name; `None` for a grouping level.
    pub task: Option<String>,
    /// 0 for the top level.
    pub depth: usize,
    /// Budget-weighted completion of everything under the row (0–100); for a task, its own.
    pub percent: f64,
    pub budget: f64,
    /// How many tasks the row stands for (1 for a task).
    pub tasks: usize,
    /// A task's date constraint, in words.
    pub constraint: Option<String>,
}

/// The plan as a tree: each WBS level that has tasks under it, then those tasks, in WBS order
/// (numerically: `1.10` after `1.9`). A level's completion is its tasks' completion weighted by
/// their budgets (by count when none has a budget), which is what earned value calls percent
/// complete.
pub fn wbs_tree(tasks: &[PlanTask]) -> Vec<WbsRow> {
    let mut ordered: Vec<&PlanTask> = tasks.iter().collect();
    ordered.sort_by_cached_key(|t| wbs_key(&t.wbs));
    let mut rows = Vec::with_capacity(ordered.len() * 2);
    let mut open: Vec<String> = Vec::new();
    for task in &ordered {
        let parts: Vec<&str> = task.wbs.split('.').collect();
        let depth = parts.len().saturating_sub(1);
        for level in 0..depth {
            let prefix = parts[..=level].join(".");
            if open.get(level) == Some(&prefix) {
                continue;
            }
            open.truncate(level);
            open.push(prefix.clone());
            rows.push(group_row(&prefix, level, &ordered));
        }
        open.truncate(depth);
        rows.push(WbsRow {
            wbs: task.wbs.clone(),
            task: Some(task.name.clone()),
            depth,
            percent: task.percent_complete.clamp(0.0, 100.0),
            budget: task.budgeted_cost,
            tasks: 1,
            constraint: task.constraint.clone(),
        });
    }
    rows
}

/// The grouping row of `prefix`: every task whose WBS starts with `prefix.`.
fn group_row(prefix: &str, depth: usize, tasks: &[&PlanTask]) -> WbsRow {
    let under: Vec<&&PlanTask> = tasks
        .iter()
        .filter(|t| {
            t.wbs
                .strip_prefix(prefix)
                .is_some_and(|r| r.starts_with('.'))
        })
        .collect();
    let budget: f64 = under.iter().map(|t| t.budgeted_cost.max(0.0)).sum();
    let percent = if budget > 0.0 {
        under
            .iter()
            .map(|t| t.budgeted_cost.max(0.0) * t.percent_complete.clamp(0.0, 100.0))
            .sum::<f64>()
            / budget
    } else if under.is_empty() {
        0.0
    } else {
        under
            .iter()
            .map(|t| t.percent_complete.clamp(0.0, 100.0))
            .sum::<f64>()
            / under.len() as f64
    };
    WbsRow {
        wbs: prefix.to_string(),
        task: None,
        depth,
        percent,
        budget,
        tasks: under.len(),
        constraint: None,
    }
}

/// A WBS code's sort key: numeric parts compare as numbers, others as text after them.
fn wbs_key(wbs: &str) -> Vec<(u64, String)> {
    wbs.split('.')
        .map(|p| match p.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (u64::MAX, p.to_string()),
        })
        .collect()
}

/// The milestones still to come (no actual date), soonest forecast first, at most `n`.
pub fn next_milestones(milestones: &[MilestoneRow], n: usize) -> Vec<MilestoneRow> {
    let mut open: Vec<MilestoneRow> = milestones
        .iter()
        .filter(|m| m.actual.is_none())
        .cloned()
        .collect();
    open.sort_by(|a, b| a.forecast.cmp(&b.forecast).then(a.name.cmp(&b.name)));
    open.truncate(n);
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(wbs: &str, budget: f64, percent: f64) -> PlanTask {
        PlanTask {
            wbs: wbs.into(),
            name: format!("Task {wbs}"),
            owner: "A. Owner".into(),
            planned_start: "2026-01-05".into(),
            planned_finish: "2026-02-05".into(),
            budgeted_cost: budget,
            actual_cost: 0.0,
            percent_complete: percent,
            constraint: None,
            estimated_by_rule: false,
        }
    }

    fn shape(rows: &[WbsRow]) -> Vec<(String, bool, usize, usize)> {
        rows.iter()
            .map(|r| (r.wbs.clone(), r.task.is_some(), r.depth, r.tasks))
            .collect()
    }

    #[test]
    fn levels_come_before_their_tasks_in_numeric_order() {
        let tasks = [
            task("2.1", 10.0, 0.0),
            task("1.10", 10.0, 0.0),
            task("1.9", 10.0, 0.0),
            task("1.2.1", 10.0, 0.0),
        ];
        let rows = wbs_tree(&tasks);
        assert_eq!(
            shape(&rows),
            vec![
                ("1".into(), false, 0, 3),
                ("1.2".into(), false, 1, 1),
                ("1.2.1".into(), true, 2, 1),
                ("1.9".into(), true, 1, 1),
                ("1.10".into(), true, 1, 1),
                ("2".into(), false, 0, 1),
                ("2.1".into(), true, 1, 1),
            ]
        );
    }

    #[test]
    fn a_level_is_complete_in_proportion_to_its_budget() {
        let tasks = [task("1.1", 300.0, 100.0), task("1.2", 100.0, 0.0)];
        let rows = wbs_tree(&tasks);
        assert_eq!(rows[0].percent, 75.0);
        assert_eq!(rows[0].budget, 400.0);
    }

    #[test]
    fn without_budgets_each_task_counts_the_same() {
        let tasks = [task("1.1", 0.0, 100.0), task("1.2", 0.0, 0.0)];
        assert_eq!(wbs_tree(&tasks)[0].percent, 50.0);
    }

    #[test]
    fn a_prefix_is_not_a_parent_of_a_longer_number() {
        // "1" groups "1.1" but not "10.1".
        let tasks = [task("1.1", 10.0, 100.0), task("10.1", 10.0, 0.0)];
        let rows = wbs_tree(&tasks);
        assert_eq!(rows[0].wbs, "1");
        assert_eq!(rows[0].tasks, 1);
        assert_eq!(rows[0].percent, 100.0);
    }

    #[test]
    fn top_level_tasks_stand_alone() {
        let rows = wbs_tree(&[task("3", 10.0, 40.0)]);
        assert_eq!(shape(&rows), vec![("3".into(), true, 0, 1)]);
        assert_eq!(rows[0].percent, 40.0);
    }

    #[test]
    fn project_codes_are_short_and_plain() {
        assert!(check_project_code("CDW").is_ok());
        assert!(check_project_code("ERP-2027_b").is_ok());
        assert!(check_project_code("").is_err());
        assert!(check_project_code("../etc").is_err());
        assert!(check_project_code(&"A".repeat(17)).is_err());
    }

    #[test]
    fn next_milestones_are_open_and_soonest_first() {
        let m = |name: &str, forecast: &str, actual: Option<&str>| MilestoneRow {
            name: name.into(),
            baseline: forecast.into(),
            forecast: forecast.into(),
            actual: actual.map(Into::into),
            slip_days: 0,
        };
        let all = [
            m("Go-live", "2027-03-01", None),
            m("Design", "2026-02-01", Some("2026-02-03")),
            m("Pilot", "2026-11-15", None),
            m("Cutover", "2027-02-01", None),
        ];
        let next = next_milestones(&all, 2);
        let names: Vec<&str> = next.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Pilot", "Cutover"]);
    }
}
