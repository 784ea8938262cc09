//! Plans saved by scheduling tools (Microsoft Project's MSPDI XML in [`super::mspdi`], Primavera
//! P6's XER in [`super::xer`]), read into one neutral form, [`Schedule`], and turned here into a
//! `pmr.project/v1` document that the ordinary validation and import then take.
//!
//! What a scheduler's plan has and PMR's does not is said, never dropped in silence: each such thing
//! is a warning with its place (`task UID 12, field ConstraintType`, `task A1000, field pred_type`).
//! The conversion:
//!
//! - **Summary tasks become WBS levels**: every task's WBS code is its outline position (`1.2.3`),
//!   and a summary's own figures are its children's; summaries are counted, not imported as tasks.
//! - **Milestones** (zero-duration tasks flagged as such) become the plan's milestones: the baseline
//!   finish is the baseline date, the current finish the forecast, an actual finish the actual date.
//! - **Dependencies**: finish-to-start links are kept. PMR's plan has finish-to-start links without
//!   lag only, so a start-to-start, finish-to-finish or start-to-finish link is kept as
//!   finish-to-start (the simulation's finish is then a cautious one) and a lag is left out, each
//!   with a warning. A link through a milestone joins the tasks on both sides; a link on a summary
//!   task is left out with a warning. A link naming a task that is not in the file is an error.
//! - **Estimates**: three-point estimates from the file when it has them (MSPDI extended attributes,
//!   P6 user fields, named for optimistic/most likely/pessimistic durations); otherwise the
//!   [`EstimateRule`]: the planned duration is the most likely, and the optimistic and pessimistic
//!   durations are fixed fractions of it (level-of-effort tasks: all three equal). The import's
//!   result says which rule was used and for how many tasks.
//! - **Progress** as the progress grid takes it: a task with an actual finish is 100 % complete; a
//!   started task's remaining duration is its estimate of days left.

use std::collections::{HashMap, HashSet};

pub use app::import::{EstimateRule, ScheduleSummary};
use app::planning::{ConstraintKind, ProjectCalendar, TaskConstraint};
use chrono::NaiveDate;

use super::{
    Declared, MilestoneRecord, Problem, ProjectDocument, ProjectHeader, TaskRecord, MAX_TEXT,
    SCHEMA,
};

/// Most tasks (summaries and milestones included) one scheduler file may hold.
pub const MAX_SCHEDULE_TASKS: usize = 60_000;
/// Most links one scheduler file may hold.
pub const MAX_SCHEDULE_LINKS: usize = 240_000;
/// Most predecessors one task may have once links are joined through milestones.
pub const MAX_PREDECESSORS: usize = 1_000;
/// Warnings listed one by one; past this many, one more says how many were left out.
pub const MAX_WARNINGS: usize = 200;
/// The longest duration read, in days (the product's bound on an estimate).
const MAX_DAYS: f64 = 10_000.0;

/// How a dependency is drawn between two tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    FinishToStart,
    StartToStart,
    FinishToFinish,
    StartToFinish,
}

impl LinkKind {
    pub fn label(self) -> &'static str {
        match self {
            LinkKind::FinishToStart => "finish-to-start",
            LinkKind::StartToStart => "start-to-start",
            LinkKind::FinishToFinish => "finish-to-finish",
            LinkKind::StartToFinish => "start-to-finish",
        }
    }
}

/// A task as a scheduler file has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceTask {
    /// Where it is, for messages: `task UID 12`, `task A1000`.
    pub place: String,
    /// What links name it by (MSPDI's UID, P6's task_id).
    pub key: String,
    pub name: String,
    /// Its outline position, `1.2.3` (unique in the file).
    pub wbs: String,
    pub summary: bool,
    pub milestone: bool,
    pub level_of_effort: bool,
    /// The planned (baseline) duration in working days.
    pub duration_days: f64,
    /// Working days left, for a started task.
    pub remaining_days: Option<f64>,
    /// Baseline dates (the current ones when the file has no baseline).
    pub planned_start: Option<NaiveDate>,
    pub planned_finish: Option<NaiveDate>,
    /// The current schedule's dates.
    pub start: Option<NaiveDate>,
    pub finish: Option<NaiveDate>,
    pub actual_start: Option<NaiveDate>,
    pub actual_finish: Option<NaiveDate>,
    pub percent_complete: f64,
    pub budgeted_cost: f64,
    pub actual_cost: f64,
    /// Three-point estimates from the file, in working days.
    pub optimistic_days: Option<f64>,
    pub most_likely_days: Option<f64>,
    pub pessimistic_days: Option<f64>,
    pub owner: String,
    /// The tool's date constraint on the task, if any (as soon as possible is none).
    pub constraint: Option<TaskConstraint>,
}

/// A dependency as a scheduler file has it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceLink {
    /// Where it is, for messages.
    pub place: String,
    pub predecessor: String,
    pub successor: String,
    pub kind: LinkKind,
    pub lag_days: f64,
}

/// A plan read from a scheduler file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    /// `Microsoft Project XML` or `Primavera P6 XER`.
    pub format: &'static str,
    pub name: String,
    pub manager: String,
    pub currency: Option<String>,
    pub start: Option<NaiveDate>,
    pub finish: Option<NaiveDate>,
    /// Working weekdays and holidays (reporting day: the month's last).
    pub calendar: Option<ProjectCalendar>,
    pub tasks: Vec<SourceTask>,
    pub links: Vec<SourceLink>,
    /// What the reader could not represent, with its place.
    pub warnings: Vec<Problem>,
}

impl Schedule {
    /// Notes something the product does not represent.
    pub fn warn(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Problem {
            location: location.into(),
            message: message.into(),
        });
    }

    /// A task's constraint as the file has it (`label` its name there, for messages), kept when
    /// PMR knows the kind and, for a dated kind, the date; else `None`, with a warning at `place`.
    pub fn constraint(
        &mut self,
        place: &str,
        kind: Option<ConstraintKind>,
        label: &str,
        date: Option<NaiveDate>,
    ) -> Option<TaskConstraint> {
        let Some(kind) = kind else {
            self.warn(
                place,
                format!("its constraint '{label}' is not one PMR knows; not kept"),
            );
            return None;
        };
        match (kind.dated(), date) {
            (true, None) => {
                self.warn(
                    place,
                    format!("its constraint '{}' has no date; not kept", kind.label()),
                );
                None
            }
            (true, Some(d)) => Some(TaskConstraint {
                kind,
                date: Some(iso(d)),
            }),
            (false, _) => Some(TaskConstraint { kind, date: None }),
        }
    }
}

/// What the project keeps when a scheduler file replaces its plan (a new project: `None`).
#[derive(Debug, Clone)]
pub struct Keep {
    pub header: ProjectHeader,
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Cuts text to the product's bound, with a warning when it had to.
fn bounded(text: &str, place: &str, field: &str, warnings: &mut Vec<Problem>) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_TEXT {
        return text.to_string();
    }
    warnings.push(Problem {
        location: format!("{place}, field {field}"),
        message: format!("is longer than {MAX_TEXT} characters; the rest is left out"),
    });
    text.chars().take(MAX_TEXT).collect()
}

fn round(days: f64) -> f64 {
    (days * 1000.0).round() / 1000.0
}

/// Turns a schedule into a document for `code`; `name` (when given) replaces the file's.
pub fn to_document(
    mut schedule: Schedule,
    code: &str,
    name: Option<&str>,
    keep: Option<Keep>,
    manager: &str,
    rule: EstimateRule,
) -> Result<(ProjectDocument, ScheduleSummary), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut warnings = std::mem::take(&mut schedule.warnings);
    if schedule.tasks.len() > MAX_SCHEDULE_TASKS {
        return Err(vec![Problem {
            location: "document".into(),
            message: format!(
                "has {} tasks; at most {MAX_SCHEDULE_TASKS} are read",
                schedule.tasks.len()
            ),
        }]);
    }
    if schedule.links.len() > MAX_SCHEDULE_LINKS {
        return Err(vec![Problem {
            location: "document".into(),
            message: format!(
                "has {} dependencies; at most {MAX_SCHEDULE_LINKS} are read",
                schedule.links.len()
            ),
        }]);
    }
    let by_key: HashMap<&str, usize> = schedule
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.key.as_str(), i))
        .collect();

    // Durations and estimates.
    let mut estimated_in_file = 0;
    let mut estimated_by_rule = 0;
    let mut records: Vec<Option<TaskRecord>> = Vec::with_capacity(schedule.tasks.len());
    let mut milestones = Vec::new();
    let mut summaries = 0;
    for t in &schedule.tasks {
        for (field, value) in [
            ("duration", Some(t.duration_days)),
            ("remaining duration", t.remaining_days),
            ("optimistic duration", t.optimistic_days),
            ("most likely duration", t.most_likely_days),
            ("pessimistic duration", t.pessimistic_days),
        ] {
            if let Some(v) = value {
                if !v.is_finite() || v < 0.0 {
                    problems.push(Problem {
                        location: format!("{}, field {field}", t.place),
                        message: format!("must not be negative, not {v} days"),
                    });
                } else if v > MAX_DAYS {
                    problems.push(Problem {
                        location: format!("{}, field {field}", t.place),
                        message: format!("is longer than {MAX_DAYS} working days ({v})"),
                    });
                }
            }
        }
        for (field, value) in [
            ("cost", t.budgeted_cost),
            ("actual cost", t.actual_cost),
            ("percent complete", t.percent_complete),
        ] {
            if !value.is_finite() || value < 0.0 {
                problems.push(Problem {
                    location: format!("{}, field {field}", t.place),
                    message: format!("must not be negative, not {value}"),
                });
            }
        }
        if t.summary || t.milestone {
            if let Some(c) = &t.constraint {
                warnings.push(Problem {
                    location: format!("{}, field constraint", t.place),
                    message: format!(
                        "'{}' is on a {}, which PMR's plan holds without constraints; not kept",
                        c.describe(),
                        if t.summary {
                            "summary task"
                        } else {
                            "milestone"
                        }
                    ),
                });
            }
        }
        if t.summary {
            summaries += 1;
            records.push(None);
            continue;
        }
        let planned_start = t.planned_start.or(t.start);
        let planned_finish = t.planned_finish.or(t.finish).or(planned_start);
        if t.milestone {
            let Some(baseline) = planned_finish.or(t.finish) else {
                problems.push(Problem {
                    location: format!("{}, field finish", t.place),
                    message: "a milestone needs a date".into(),
                });
                records.push(None);
                continue;
            };
            milestones.push(MilestoneRecord {
                name: bounded(&t.name, &t.place, "name", &mut warnings),
                baseline_date: iso(baseline),
                forecast_date: iso(t.finish.unwrap_or(baseline)),
                actual_date: t
                    .actual_finish
                    .or(if t.percent_complete >= 100.0 {
                        t.finish
                    } else {
                        None
                    })
                    .map(iso),
            });
            records.push(None);
            continue;
        }
        let (Some(start), Some(finish)) = (planned_start, planned_finish) else {
            problems.push(Problem {
                location: format!("{}, field start", t.place),
                message: "a task needs planned start and finish dates".into(),
            });
            records.push(None);
            continue;
        };
        let ml = t.duration_days.max(0.0);
        let (o, m, p, by_rule) = match (t.optimistic_days, t.most_likely_days, t.pessimistic_days) {
            (Some(o), m, Some(p)) if o <= m.unwrap_or(ml) && m.unwrap_or(ml) <= p => {
                estimated_in_file += 1;
                (o, m.unwrap_or(ml), p, false)
            }
            (o, m, p) => {
                if o.is_some() || m.is_some() || p.is_some() {
                    warnings.push(Problem {
                        location: t.place.clone(),
                        message: format!(
                            "its three-point estimates ({} / {} / {} days) are incomplete or out of order; the estimate rule is used",
                            o.map_or("–".into(), |v| v.to_string()),
                            m.map_or("–".into(), |v| v.to_string()),
                            p.map_or("–".into(), |v| v.to_string())
                        ),
                    });
                }
                estimated_by_rule += 1;
                if t.level_of_effort {
                    (ml, ml, ml, true)
                } else {
                    (ml * rule.optimistic, ml, ml * rule.pessimistic, true)
                }
            }
        };
        // Progress as the grid takes it.
        let mut percent = t.percent_complete.clamp(0.0, 100.0);
        let mut actual_start = t.actual_start;
        let actual_finish = t.actual_finish;
        if actual_finish.is_some() && percent < 100.0 {
            warnings.push(Problem {
                location: format!("{}, field percent complete", t.place),
                message: format!("was {percent} % on a finished task; read as 100 %"),
            });
            percent = 100.0;
        }
        if actual_start.is_none() && (percent > 0.0 || actual_finish.is_some()) {
            actual_start = actual_finish.or(t.start).or(planned_start);
            warnings.push(Problem {
                location: format!("{}, field actual start", t.place),
                message: "is missing on a started task; its start date is taken".into(),
            });
        }
        if let (Some(s), Some(f)) = (actual_start, actual_finish) {
            if f < s {
                problems.push(Problem {
                    location: format!("{}, field actual finish", t.place),
                    message: format!("is before the actual start {}", iso(s)),
                });
            }
        }
        let remaining = if percent >= 100.0 || actual_start.is_none() {
            None
        } else {
            t.remaining_days.map(round)
        };
        records.push(Some(TaskRecord {
            wbs: t.wbs.clone(),
            name: bounded(&t.name, &t.place, "name", &mut warnings),
            owner: bounded(&t.owner, &t.place, "owner", &mut warnings),
            optimistic_days: round(o),
            most_likely_days: round(m),
            pessimistic_days: round(p),
            planned_start: iso(start),
            planned_finish: iso(finish.max(start)),
            budgeted_cost: t.budgeted_cost.max(0.0),
            actual_cost: t.actual_cost.max(0.0),
            percent_complete: (percent * 100.0).round() / 100.0,
            actual_start: actual_start.map(iso),
            actual_finish: actual_finish.map(iso),
            remaining_days: remaining,
            predecessors: Vec::new(),
            estimated_by_rule: by_rule,
            constraint: t.constraint.clone(),
        }));
    }

    // Dependencies: resolved to indexes, joined through milestones.
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); schedule.tasks.len()];
    let mut edges: HashSet<(usize, usize)> = HashSet::with_capacity(schedule.links.len());
    for link in &schedule.links {
        let (Some(&from), Some(&to)) = (
            by_key.get(link.predecessor.as_str()),
            by_key.get(link.successor.as_str()),
        ) else {
            let missing = if by_key.contains_key(link.predecessor.as_str()) {
                &link.successor
            } else {
                &link.predecessor
            };
            problems.push(Problem {
                location: link.place.clone(),
                message: format!("names task {missing}, which is not in the file"),
            });
            continue;
        };
        if from == to {
            problems.push(Problem {
                location: link.place.clone(),
                message: "a task cannot depend on itself".into(),
            });
            continue;
        }
        let (p, s) = (&schedule.tasks[from], &schedule.tasks[to]);
        if p.summary || s.summary {
            warnings.push(Problem {
                location: link.place.clone(),
                message: format!(
                    "links summary task{} ({}); PMR's dependencies join tasks, so it is left out",
                    if p.summary && s.summary { "s" } else { "" },
                    if p.summary { &p.name } else { &s.name }
                ),
            });
            continue;
        }
        if link.kind != LinkKind::FinishToStart {
            warnings.push(Problem {
                location: link.place.clone(),
                message: format!(
                    "is {}; PMR keeps it as finish-to-start (a cautious finish)",
                    link.kind.label()
                ),
            });
        }
        if link.lag_days != 0.0 {
            warnings.push(Problem {
                location: link.place.clone(),
                message: format!(
                    "has a lag of {} working day{}, which PMR's plan does not hold; left out",
                    round(link.lag_days),
                    if round(link.lag_days) == 1.0 { "" } else { "s" }
                ),
            });
        }
        if edges.insert((from, to)) {
            preds[to].push(from);
        }
    }
    // A task's predecessors are tasks; a milestone in between stands for its own predecessors,
    // worked out once per milestone (depth first, in the order they depend on each other) and
    // bounded: a file whose links would join into more than MAX_PREDECESSORS for one task, or more
    // than MAX_SCHEDULE_LINKS in all, is refused rather than expanded.
    let n = schedule.tasks.len();
    let is_milestone = |i: usize| records[i].is_none() && schedule.tasks[i].milestone;
    let mut resolved: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut state = vec![0u8; n]; // 0 not seen, 1 on the current path, 2 done
    let mut joined = 0usize;
    let mut join_problem: Option<Problem> = None;
    let union_of = |node: usize, resolved: &[Vec<usize>], joined: &mut usize| {
        let mut set: Vec<usize> = Vec::new();
        for &p in &preds[node] {
            if records[p].is_some() {
                set.push(p);
            } else if is_milestone(p) {
                set.extend_from_slice(&resolved[p]);
            }
        }
        set.sort_unstable();
        set.dedup();
        *joined += set.len();
        if set.len() > MAX_PREDECESSORS || *joined > MAX_SCHEDULE_LINKS {
            Err(Problem {
                location: schedule.tasks[node].place.clone(),
                message: format!(
                    "joining its links through milestones gives it {} predecessors ({} in the plan so far); at most {MAX_PREDECESSORS} a task and {MAX_SCHEDULE_LINKS} in all are taken",
                    set.len(),
                    joined
                ),
            })
        } else {
            Ok(set)
        }
    };
    'milestones: for m in 0..n {
        if !is_milestone(m) || state[m] != 0 {
            continue;
        }
        let mut stack = vec![(m, false)];
        while let Some((node, finished)) = stack.pop() {
            if finished {
                match union_of(node, &resolved, &mut joined) {
                    Ok(set) => resolved[node] = set,
                    Err(p) => {
                        join_problem = Some(p);
                        break 'milestones;
                    }
                }
                state[node] = 2;
                continue;
            }
            match state[node] {
                2 => continue,
                1 => {
                    join_problem = Some(Problem {
                        location: schedule.tasks[node].place.clone(),
                        message: format!(
                            "dependencies form a cycle through milestone '{}'",
                            schedule.tasks[node].name
                        ),
                    });
                    break 'milestones;
                }
                _ => {}
            }
            state[node] = 1;
            stack.push((node, true));
            for &p in &preds[node] {
                if is_milestone(p) && state[p] != 2 {
                    stack.push((p, false));
                }
            }
        }
    }
    let mut dependencies = 0;
    if let Some(p) = join_problem {
        problems.push(p);
    } else {
        let mut joined_tasks: Vec<(usize, Vec<usize>)> = Vec::new();
        let with_records: Vec<usize> = (0..n).filter(|&i| records[i].is_some()).collect();
        for i in with_records {
            match union_of(i, &resolved, &mut joined) {
                Ok(found) => joined_tasks.push((i, found)),
                Err(p) => {
                    problems.push(p);
                    break;
                }
            }
        }
        for (i, found) in joined_tasks {
            dependencies += found.len();
            if let Some(record) = records[i].as_mut() {
                record.predecessors = found
                    .into_iter()
                    .map(|p| schedule.tasks[p].wbs.clone())
                    .collect();
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let tasks: Vec<TaskRecord> = records.into_iter().flatten().collect();
    let min_start = tasks.iter().map(|t| t.planned_start.clone()).min();
    let max_finish = tasks.iter().map(|t| t.planned_finish.clone()).max();
    let budget: f64 = tasks.iter().map(|t| t.budgeted_cost).sum();
    // The name given, else (replacing a project) the project's own, else the file's.
    let file_name = bounded(&schedule.name, "project", "name", &mut warnings);
    let name = name
        .map(str::to_string)
        .filter(|n| !n.trim().is_empty())
        .or_else(|| keep.as_ref().map(|k| k.header.name.clone()))
        .unwrap_or(file_name);
    let start = schedule
        .start
        .map(iso)
        .or(min_start)
        .unwrap_or_else(|| iso(chrono::Utc::now().date_naive()));
    let finish = schedule
        .finish
        .map(iso)
        .or(max_finish)
        .unwrap_or_else(|| start.clone());
    let calendar = schedule.calendar.clone().map(|mut c| {
        if let Some(k) = &keep {
            if let Some(kept) = &k.header.calendar {
                c.reporting_day = kept.reporting_day;
            }
        }
        c
    });
    let header = match keep {
        Some(Keep { header }) => ProjectHeader {
            code: code.to_string(),
            name,
            budget_at_completion: budget,
            start_date: start.clone(),
            target_finish: finish.clone().max(start),
            calendar: calendar.or(header.calendar),
            currency: schedule.currency.clone().unwrap_or(header.currency),
            ..header
        },
        None => ProjectHeader {
            code: code.to_string(),
            name,
            manager: if schedule.manager.trim().is_empty() {
                manager.to_string()
            } else {
                bounded(&schedule.manager, "project", "manager", &mut warnings)
            },
            currency: schedule.currency.clone().unwrap_or_else(|| {
                warnings.push(Problem {
                    location: "project".into(),
                    message: "the file names no currency; EUR is assumed".into(),
                });
                "EUR".into()
            }),
            budget_at_completion: budget,
            target_finish: finish.max(start.clone()),
            start_date: start,
            declared: Declared {
                overall: "green".into(),
                scope: "green".into(),
                schedule: "green".into(),
                cost: "green".into(),
                resources: "green".into(),
            },
            status_justification: String::new(),
            calendar,
        },
    };
    let constrained = tasks.iter().filter(|t| t.constraint.is_some()).count();
    if constrained > 0 {
        warnings.push(Problem {
            location: "constraints".into(),
            message: format!(
                "{constrained} task{} date constraint{} kept as data (shown on the project page and exported); PMR's risk analysis does not enforce {}",
                if constrained == 1 { "'s" } else { "s'" },
                if constrained == 1 { " is" } else { "s are" },
                if constrained == 1 { "it" } else { "them" },
            ),
        });
    }
    let more_warnings = warnings.len().saturating_sub(MAX_WARNINGS);
    warnings.truncate(MAX_WARNINGS);
    let summary = ScheduleSummary {
        format: schedule.format.to_string(),
        read: schedule.tasks.len(),
        tasks: tasks.len(),
        milestones: milestones.len(),
        summaries,
        dependencies,
        estimated_in_file,
        estimated_by_rule,
        rule,
        warnings,
        more_warnings,
    };
    Ok((
        ProjectDocument {
            schema: SCHEMA.into(),
            project: header,
            tasks,
            milestones,
            risks: Vec::new(),
        },
        summary,
    ))
}

/// Outline positions from outline levels in file order: level 1 tasks are `1`, `2`, …; a level 2
/// task under `2` is `2.1`, and so on. A level that jumps more than one deeper is read as one deeper
/// (with a warning).
pub fn outline_codes(levels: &[(u32, String)], warnings: &mut Vec<Problem>) -> Vec<String> {
    let mut counters: Vec<u32> = Vec::new();
    levels
        .iter()
        .map(|(level, place)| {
            let mut level = (*level).max(1) as usize;
            if level > counters.len() + 1 {
                warnings.push(Problem {
                    location: place.clone(),
                    message: format!(
                        "is at outline level {level} under a level {} task; read as level {}",
                        counters.len(),
                        counters.len() + 1
                    ),
                });
                level = counters.len() + 1;
            }
            counters.truncate(level);
            if counters.len() < level {
                counters.push(0);
            }
            counters[level - 1] += 1;
            counters
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

/// A scheduler's file has no risks: replacing a project's plan keeps the project's risks. A risk's
/// affected tasks are found again by name (WBS codes change with the outline); a task no longer in
/// the plan is taken off the risk, with a warning.
pub fn keep_risks(doc: &mut ProjectDocument, old: ProjectDocument, summary: &mut ScheduleSummary) {
    let old_names: HashMap<&str, &str> = old
        .tasks
        .iter()
        .map(|t| (t.wbs.as_str(), t.name.as_str()))
        .collect();
    let mut new_wbs: HashMap<&str, &str> = HashMap::new();
    for t in &doc.tasks {
        new_wbs.entry(t.name.as_str()).or_insert(t.wbs.as_str());
    }
    let mut risks = Vec::with_capacity(old.risks.len());
    for mut risk in old.risks.clone() {
        let mut affected = Vec::new();
        for wbs in &risk.affected_tasks {
            let name = old_names.get(wbs.as_str()).copied().unwrap_or("");
            match new_wbs.get(name) {
                Some(w) => affected.push(w.to_string()),
                None => summary.warnings.push(Problem {
                    location: format!("risk '{}'", risk.title),
                    message: format!(
                        "named task {wbs} ('{name}'), which the new plan does not have; it is taken off the risk"
                    ),
                }),
            }
        }
        affected.sort();
        affected.dedup();
        risk.affected_tasks = affected;
        risks.push(risk);
    }
    summary.more_warnings += summary.warnings.len().saturating_sub(MAX_WARNINGS);
    summary.warnings.truncate(MAX_WARNINGS);
    doc.risks = risks;
}
