//! Recording a month's progress: the progress grid's wire types, the checks every cell gets as it is
//! typed (the browser) and again when it is saved (the server, before the import's validation of the
//! whole plan), and the three-way merge that lets two people save the same grid at once.
//!
//! Progress is kept per status date and never overwritten: each save is a new numbered version of
//! the plan. A save carries, for each changed row, what the row said when the grid was loaded (`was`)
//! and what it says now (`now`); a field someone else changed meanwhile is kept when this save did not
//! touch it, and a field both changed differently is a conflict the second saver is shown.

use serde::{Deserialize, Serialize};

use crate::calendar::Date;

pub mod grid;

/// Largest number accepted for a cost (as the import).
pub const MAX_COST: f64 = 1e12;
/// Longest duration accepted, in working days (as the import's estimates).
pub const MAX_DAYS: f64 = 10_000.0;
/// Most rows of each kind one save may carry (as many as the grid shows tasks).
pub const MAX_EDITS: usize = 5_000;
/// Largest plan the progress grid takes (a row of inputs per task). A larger plan (a scheduler's
/// file of up to 50,000 tasks) records its progress by importing the file again, or a CSV.
pub const MAX_GRID_TASKS: usize = 5_000;
/// Longest owner or response text (as the import).
pub const MAX_TEXT: usize = 500;

/// A task's progress fields, as the grid edits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// 0–100.
    pub percent_complete: f64,
    /// `YYYY-MM-DD`.
    pub actual_start: Option<String>,
    pub actual_finish: Option<String>,
    pub actual_cost: f64,
    /// Working days the task still needs, as its owner estimates them; `None`: the plan's
    /// estimate for the share left to do. The Monte Carlo simulation centres the task on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_days: Option<f64>,
}

/// A task row of the grid: what identifies it (read-only) and its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressTask {
    pub wbs: String,
    pub name: String,
    pub planned_start: String,
    pub planned_finish: String,
    pub budgeted_cost: f64,
    pub progress: TaskProgress,
}

/// A milestone's dates, as the grid edits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneProgress {
    pub forecast_date: String,
    pub actual_date: Option<String>,
}

/// A milestone row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressMilestone {
    pub name: String,
    pub baseline_date: String,
    pub progress: MilestoneProgress,
}

/// A risk's assessment, as the grid edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskAssessment {
    /// 0–1.
    pub probability: f64,
    pub cost_impact: f64,
    pub schedule_impact_days: f64,
    pub owner: String,
    /// The response (mitigation) planned or under way.
    pub mitigation: String,
    /// `open`, `mitigating` or `closed`.
    pub status: String,
}

/// A risk row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressRisk {
    pub title: String,
    pub assessment: RiskAssessment,
}

/// One recorded version of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedProgress {
    pub version: i64,
    /// `YYYY-MM-DD`.
    pub status_date: String,
    pub recorded_by: String,
    /// RFC 3339.
    pub recorded_at: String,
}

/// What the progress page loads: the plan's rows as last recorded, and the versions recorded so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressSheet {
    pub code: String,
    pub name: String,
    pub currency: String,
    /// The version the rows are from; a save names it as its base.
    pub version: i64,
    /// The status date the page proposes: the end of the month before today's.
    pub suggested_status_date: String,
    /// The project's start: no status date before it.
    pub project_start: String,
    /// Newest first (at most [`MAX_LISTED_RECORDS`]).
    pub records: Vec<RecordedProgress>,
    pub tasks: Vec<ProgressTask>,
    pub milestones: Vec<ProgressMilestone>,
    pub risks: Vec<ProgressRisk>,
}

/// Most recorded versions a sheet lists.
pub const MAX_LISTED_RECORDS: usize = 60;

/// One changed row: its key (a task's WBS, a milestone's name, a risk's title), what it said when
/// the grid was loaded and what it says now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit<T> {
    pub key: String,
    pub was: T,
    pub now: T,
}

/// A risk a save adds to the plan: its title, its assessment and the tasks (WBS codes) it threatens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRisk {
    pub title: String,
    pub assessment: RiskAssessment,
    #[serde(default)]
    pub affected_tasks: Vec<String>,
}

/// Most tasks a new risk may name.
pub const MAX_AFFECTED: usize = 200;

/// A save of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressSave {
    pub code: String,
    /// `YYYY-MM-DD`: the day the progress is true of.
    pub status_date: String,
    /// The version the grid was loaded from.
    pub base_version: i64,
    #[serde(default)]
    pub tasks: Vec<Edit<TaskProgress>>,
    #[serde(default)]
    pub milestones: Vec<Edit<MilestoneProgress>>,
    #[serde(default)]
    pub risks: Vec<Edit<RiskAssessment>>,
    /// Milestones this save adds (with their baseline).
    #[serde(default)]
    pub added_milestones: Vec<ProgressMilestone>,
    /// Risks this save adds.
    #[serde(default)]
    pub added_risks: Vec<NewRisk>,
    /// Names of milestones this save takes out of the plan (a name no longer there is ignored).
    #[serde(default)]
    pub removed_milestones: Vec<String>,
    /// Titles of risks this save takes out of the plan (closing a risk keeps it: status `closed`).
    #[serde(default)]
    pub removed_risks: Vec<String>,
}

impl ProgressSave {
    /// How many rows the save changes, adds or removes.
    pub fn size(&self) -> usize {
        self.tasks.len()
            + self.milestones.len()
            + self.risks.len()
            + self.added_milestones.len()
            + self.added_risks.len()
            + self.removed_milestones.len()
            + self.removed_risks.len()
    }
}

fn name_problem(field: &'static str, text: &str) -> Option<CellProblem> {
    if text.trim().is_empty() {
        Some(CellProblem {
            field,
            message: "must not be empty".into(),
        })
    } else if text.chars().count() > MAX_TEXT {
        Some(CellProblem {
            field,
            message: format!("is longer than {MAX_TEXT} characters"),
        })
    } else {
        None
    }
}

/// Checks a milestone to add: its name, its baseline and its dates.
pub fn check_new_milestone(m: &ProgressMilestone) -> Vec<CellProblem> {
    let mut problems: Vec<CellProblem> = name_problem("name", &m.name).into_iter().collect();
    if let Err(problem) = date("baseline_date", &m.baseline_date) {
        problems.push(problem);
    }
    problems.extend(check_milestone_progress(&m.progress));
    problems
}

/// Checks a risk to add: its title, its assessment and the WBS codes it names.
pub fn check_new_risk(r: &NewRisk) -> Vec<CellProblem> {
    let mut problems: Vec<CellProblem> = name_problem("title", &r.title).into_iter().collect();
    problems.extend(check_risk_assessment(&r.assessment));
    if r.affected_tasks.len() > MAX_AFFECTED {
        problems.push(CellProblem {
            field: "affected_tasks",
            message: format!(
                "at most {MAX_AFFECTED} tasks, not {}",
                r.affected_tasks.len()
            ),
        });
    } else if let Some(bad) = r
        .affected_tasks
        .iter()
        .find(|w| w.trim().is_empty() || w.len() > 32)
    {
        problems.push(CellProblem {
            field: "affected_tasks",
            message: format!("'{bad}' is not a WBS code"),
        });
    }
    problems
}

/// What a save did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressSaved {
    pub version: i64,
    pub status_date: String,
    /// Someone else saved since the grid was loaded; their changes are kept beside this save's.
    pub merged_with_others: bool,
}

/// A cell that fails a check: which field and why (the import's words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellProblem {
    pub field: &'static str,
    pub message: String,
}

fn range(field: &'static str, value: f64, min: f64, max: f64) -> Option<CellProblem> {
    (!value.is_finite() || value < min || value > max).then(|| CellProblem {
        field,
        message: format!("must be between {min} and {max}, not {value}"),
    })
}

fn date(field: &'static str, value: &str) -> Result<Date, CellProblem> {
    Date::parse_iso(value).ok_or_else(|| CellProblem {
        field,
        message: format!("must be a date as YYYY-MM-DD, not '{value}'"),
    })
}

/// Checks a task's progress: the import's rules (ranges, dates) and the order of its dates; with a
/// status date, no actual date after it.
pub fn check_task_progress(p: &TaskProgress, status_date: Option<&str>) -> Vec<CellProblem> {
    let mut problems = Vec::new();
    problems.extend(range("percent_complete", p.percent_complete, 0.0, 100.0));
    problems.extend(range("actual_cost", p.actual_cost, 0.0, MAX_COST));
    let start = p.actual_start.as_deref().map(|d| date("actual_start", d));
    let finish = p.actual_finish.as_deref().map(|d| date("actual_finish", d));
    for parsed in [&start, &finish].into_iter().flatten() {
        if let Err(problem) = parsed {
            problems.push(problem.clone());
        }
    }
    match (&start, &finish) {
        (Some(Ok(s)), Some(Ok(f))) if f < s => problems.push(CellProblem {
            field: "actual_finish",
            message: format!("is before actual_start {}", s.iso()),
        }),
        (None, Some(_)) => problems.push(CellProblem {
            field: "actual_start",
            message: "must be given when actual_finish is".into(),
        }),
        _ => {}
    }
    if let Some(days) = p.remaining_days {
        problems.extend(range("remaining_days", days, 0.0, MAX_DAYS));
        if days > 0.0 && (p.percent_complete >= 100.0 || finish.is_some()) {
            problems.push(CellProblem {
                field: "remaining_days",
                message: "must be empty or 0 for a finished task".into(),
            });
        }
    }
    if let Some(Ok(f)) = &finish {
        if p.percent_complete < 100.0 {
            problems.push(CellProblem {
                field: "percent_complete",
                message: format!("must be 100 for a task finished on {}", f.iso()),
            });
        }
    }
    if let Some(Ok(day)) = status_date.map(|d| date("status_date", d)) {
        for (field, value) in [("actual_start", &start), ("actual_finish", &finish)] {
            if let Some(Ok(d)) = value {
                if *d > day {
                    problems.push(CellProblem {
                        field,
                        message: format!("is after the status date {}", day.iso()),
                    });
                }
            }
        }
    }
    problems
}

/// Checks a milestone's dates.
pub fn check_milestone_progress(p: &MilestoneProgress) -> Vec<CellProblem> {
    let mut problems = Vec::new();
    if let Err(problem) = date("forecast_date", &p.forecast_date) {
        problems.push(problem);
    }
    if let Some(Err(problem)) = p.actual_date.as_deref().map(|d| date("actual_date", d)) {
        problems.push(problem);
    }
    problems
}

/// Checks a risk's assessment (the import's rules).
pub fn check_risk_assessment(r: &RiskAssessment) -> Vec<CellProblem> {
    let mut problems = Vec::new();
    problems.extend(range("probability", r.probability, 0.0, 1.0));
    problems.extend(range("cost_impact", r.cost_impact, 0.0, MAX_COST));
    problems.extend(range(
        "schedule_impact_days",
        r.schedule_impact_days,
        0.0,
        10_000.0,
    ));
    for (field, text) in [("owner", &r.owner), ("mitigation", &r.mitigation)] {
        if text.chars().count() > MAX_TEXT {
            problems.push(CellProblem {
                field,
                message: format!("is longer than {MAX_TEXT} characters"),
            });
        }
    }
    if !matches!(r.status.as_str(), "open" | "mitigating" | "closed") {
        problems.push(CellProblem {
            field: "status",
            message: format!("must be open, mitigating or closed, not '{}'", r.status),
        });
    }
    problems
}

/// Checks a status date: a real date, not before the project's start.
pub fn check_status_date(status_date: &str, project_start: &str) -> Result<(), String> {
    let day = Date::parse_iso(status_date).ok_or_else(|| {
        format!("The status date must be a date as YYYY-MM-DD, not '{status_date}'.")
    })?;
    match Date::parse_iso(project_start) {
        Some(start) if day < start => Err(format!(
            "The status date {} is before the project's start ({}).",
            day.readable(),
            start.readable()
        )),
        _ => Ok(()),
    }
}

/// Reads a number typed into a cell: blanks are zero; `1,234.5`, `45 %` and `45%` are accepted.
pub fn parse_number(text: &str) -> Option<f64> {
    let cleaned: String = text
        .trim()
        .trim_end_matches('%')
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '\u{a0}'))
        .collect();
    if cleaned.is_empty() {
        return Some(0.0);
    }
    cleaned.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Reads a date typed into a cell: blank is none.
pub fn parse_optional_date(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Splits text pasted from a spreadsheet into rows of cells (tab-separated, one row per line; a
/// trailing empty line is dropped). Bounded: at most `max_rows` rows of 16 cells.
pub fn parse_paste(text: &str, max_rows: usize) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = text
        .split('\n')
        .map(|line| line.trim_end_matches('\r'))
        .take(max_rows)
        .map(|line| line.split('\t').take(16).map(str::to_string).collect())
        .collect();
    while rows
        .last()
        .is_some_and(|r| r.iter().all(|c| c.trim().is_empty()))
    {
        rows.pop();
    }
    rows
}

/// Two people changed the same field of the same row differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeConflict {
    /// `task 1.4 percent_complete`.
    pub place: String,
    pub yours: String,
    pub theirs: String,
}

/// A value the merge can compare and show.
pub trait FieldValue: PartialEq + Clone {
    fn shown(&self) -> String;
}

impl FieldValue for f64 {
    fn shown(&self) -> String {
        format!("{self}")
    }
}

impl FieldValue for Option<f64> {
    fn shown(&self) -> String {
        self.map_or_else(|| "(empty)".into(), |v| format!("{v}"))
    }
}

impl FieldValue for String {
    fn shown(&self) -> String {
        self.clone()
    }
}

impl FieldValue for Option<String> {
    fn shown(&self) -> String {
        self.clone().unwrap_or_else(|| "(empty)".into())
    }
}

/// Merges one field: this save's change applies when the stored value is still what the grid
/// loaded (or already equals the change); a field this save did not change keeps the stored value.
fn merge_field<T: FieldValue>(
    place: &str,
    name: &str,
    was: &T,
    now: &T,
    stored: &mut T,
    conflicts: &mut Vec<MergeConflict>,
) {
    if was == now {
        return;
    }
    if stored == was || stored == now {
        *stored = now.clone();
    } else {
        conflicts.push(MergeConflict {
            place: format!("{place} {name}"),
            yours: now.shown(),
            theirs: stored.shown(),
        });
    }
}

/// A row type the merge knows field by field: `edit` applied to `stored` (the row as saved now),
/// field by field; conflicts are added to `conflicts`.
pub trait Mergeable {
    fn merge_into(
        edit: &Edit<Self>,
        place: &str,
        stored: &mut Self,
        conflicts: &mut Vec<MergeConflict>,
    ) where
        Self: Sized;
}

macro_rules! mergeable {
    ($ty:ty, $($field:ident),+) => {
        impl Mergeable for $ty {
            fn merge_into(
                edit: &Edit<Self>,
                place: &str,
                stored: &mut Self,
                conflicts: &mut Vec<MergeConflict>,
            ) {
                $(merge_field(
                    place,
                    stringify!($field),
                    &edit.was.$field,
                    &edit.now.$field,
                    &mut stored.$field,
                    conflicts,
                );)+
            }
        }
    };
}

mergeable!(
    TaskProgress,
    percent_complete,
    actual_start,
    actual_finish,
    actual_cost,
    remaining_days
);
mergeable!(MilestoneProgress, forecast_date, actual_date);
mergeable!(
    RiskAssessment,
    probability,
    cost_impact,
    schedule_impact_days,
    owner,
    mitigation,
    status
);

#[cfg(test)]
mod tests;
