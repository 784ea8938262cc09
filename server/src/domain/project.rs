//! A project's data as reports are computed from it: plain structs with dates parsed and
//! dependencies as indexes. Loaded from the store (`storage::project_data`) for live reports, or
//! built by the demo seed for the months it back-fills; read by the generator and the insights.

use app::model::Rag;
use app::planning::ProjectCalendar;
use app::sections::EvmPoint;
use chrono::NaiveDate;

/// Everything a monthly report is computed from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectData {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub manager: String,
    pub currency: String,
    /// Budget at completion.
    pub bac: f64,
    pub start: NaiveDate,
    pub target_finish: NaiveDate,
    /// Declared status: overall, scope, schedule, cost, resources.
    pub declared: [Rag; 5],
    pub justification: String,
    /// Working days, holidays and the reporting day.
    pub calendar: ProjectCalendar,
    pub tasks: Vec<TaskData>,
    pub milestones: Vec<MilestoneData>,
    pub risks: Vec<RiskData>,
    /// EVM figures of earlier reports, oldest first.
    pub history: Vec<EvmPoint>,
}

impl ProjectData {
    /// The project's working time.
    pub fn working_time(&self) -> crate::domain::calendar::Calendar {
        crate::domain::calendar::Calendar::of(&self.calendar)
    }

    /// The status date of a month's report (`YYYY-MM`) under the project's calendar.
    pub fn status_date(&self, period: &str) -> Option<NaiveDate> {
        crate::domain::calendar::status_date(&self.calendar, period)
    }
}

/// A task with its estimates, plan and progress.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskData {
    pub wbs: String,
    pub name: String,
    pub owner: String,
    pub optimistic: f64,
    pub most_likely: f64,
    pub pessimistic: f64,
    pub planned_start: NaiveDate,
    pub planned_finish: NaiveDate,
    pub budgeted_cost: f64,
    pub actual_cost: f64,
    pub percent_complete: f64,
    pub actual_start: Option<NaiveDate>,
    pub actual_finish: Option<NaiveDate>,
    /// Working days still needed, as the task's owner estimates them (started, unfinished tasks).
    pub remaining_days: Option<f64>,
    /// Whether an import's rule derived the optimistic and pessimistic durations.
    pub estimated_by_rule: bool,
    /// The scheduling tool's date constraint, kept as data (not enforced).
    pub constraint: Option<crate::transfer::TaskConstraint>,
    /// Indexes into the project's task list.
    pub predecessors: Vec<usize>,
}

/// A milestone and the forecasts earlier reports gave for it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MilestoneData {
    pub name: String,
    pub baseline: NaiveDate,
    pub forecast: NaiveDate,
    pub actual: Option<NaiveDate>,
    /// `(period, forecast)`, oldest first.
    pub history: Vec<(String, NaiveDate)>,
}

/// A risk and the tasks it affects.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RiskData {
    pub title: String,
    pub probability: f64,
    pub cost_impact: f64,
    pub schedule_impact_days: f64,
    pub owner: String,
    pub mitigation: String,
    pub status: String,
    /// Indexes into the project's task list.
    pub affected: Vec<usize>,
}
