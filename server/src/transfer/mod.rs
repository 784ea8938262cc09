//! Import and export of a project's planning data: one JSON document (schema `pmr.project/v1`,
//! documented in `docs/project-data.md`) and the task list as CSV.
//!
//! Parsing is strict and reports every problem at once, each with the place at fault
//! (`tasks[3].most_likely_days`, `row 5 (wbs 1.4), field percent_complete`) and what is wrong, so a
//! user can fix a file in one pass. Validation covers what the store's constraints would refuse and
//! more: unknown or duplicate task references, dependency cycles, impossible estimates, bounds on
//! sizes. Nothing is written unless the whole document is valid.

pub mod csv;
pub mod files;
pub mod mspdi;
pub mod schedule;
mod validate;
pub mod xer;

use app::planning::ProjectCalendar;
pub use app::planning::{ConstraintKind, TaskConstraint};
use serde::{Deserialize, Serialize};

pub use validate::{validate, ValidProject};

/// The schema identifier written into and required from every JSON document.
pub const SCHEMA: &str = "pmr.project/v1";
/// Limits on what one import may contain.
pub const MAX_TASKS: usize = 50_000;
pub const MAX_MILESTONES: usize = 500;
pub const MAX_RISKS: usize = 1_000;
pub const MAX_TEXT: usize = app::import::MAX_FIELD_CHARS;

/// A whole project as exchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectDocument {
    pub schema: String,
    pub project: ProjectHeader,
    #[serde(default)]
    pub tasks: Vec<TaskRecord>,
    #[serde(default)]
    pub milestones: Vec<MilestoneRecord>,
    #[serde(default)]
    pub risks: Vec<RiskRecord>,
}

/// Declared status per dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    pub overall: String,
    pub scope: String,
    pub schedule: String,
    pub cost: String,
    pub resources: String,
}

/// The project itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectHeader {
    pub code: String,
    pub name: String,
    pub manager: String,
    pub currency: String,
    pub budget_at_completion: f64,
    pub start_date: String,
    pub target_finish: String,
    pub declared: Declared,
    #[serde(default)]
    pub status_justification: String,
    /// Working days, holidays and reporting day; absent: Monday to Friday, no holidays, the
    /// month's last day (and, replacing a project, the calendar it has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<ProjectCalendar>,
}

/// A task; `predecessors` name other tasks by WBS code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRecord {
    pub wbs: String,
    pub name: String,
    #[serde(default)]
    pub owner: String,
    pub optimistic_days: f64,
    pub most_likely_days: f64,
    pub pessimistic_days: f64,
    pub planned_start: String,
    pub planned_finish: String,
    pub budgeted_cost: f64,
    #[serde(default)]
    pub actual_cost: f64,
    #[serde(default)]
    pub percent_complete: f64,
    #[serde(default)]
    pub actual_start: Option<String>,
    #[serde(default)]
    pub actual_finish: Option<String>,
    /// Working days still needed, as estimated at the status date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_days: Option<f64>,
    #[serde(default)]
    pub predecessors: Vec<String>,
    /// Whether the optimistic and pessimistic durations were derived from the planned one by an
    /// import's estimate rule (a scheduler's file without three-point estimates), not estimated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated_by_rule: bool,
    /// The date constraint the scheduling tool had on the task, kept as data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<TaskConstraint>,
}

/// A milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRecord {
    pub name: String,
    pub baseline_date: String,
    pub forecast_date: String,
    #[serde(default)]
    pub actual_date: Option<String>,
}

/// A risk; `affected_tasks` name tasks by WBS code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskRecord {
    pub title: String,
    pub probability: f64,
    pub cost_impact: f64,
    pub schedule_impact_days: f64,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub mitigation: String,
    pub status: String,
    #[serde(default)]
    pub affected_tasks: Vec<String>,
}

pub use app::import::Problem;

/// Parses a JSON document; syntax and shape errors come back as one problem with line and column.
pub fn parse_json(text: &str) -> Result<ProjectDocument, Vec<Problem>> {
    serde_json::from_str(text).map_err(|e| {
        vec![Problem {
            location: format!("line {}, column {}", e.line(), e.column()),
            message: e.to_string(),
        }]
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod schedule_tests;
