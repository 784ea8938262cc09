//! Validation of an imported document into typed, cross-checked data ready for the store.

use std::collections::HashMap;

use app::model::Rag;
use chrono::NaiveDate;

use super::{
    Problem, ProjectDocument, TaskRecord, MAX_MILESTONES, MAX_RISKS, MAX_TASKS, MAX_TEXT, SCHEMA,
};

/// A document that passed every check: dates parsed, statuses typed, references resolved to indexes.
#[derive(Debug, Clone)]
pub struct ValidProject {
    pub document: ProjectDocument,
    pub declared: [Rag; 5],
    /// Predecessor indexes of each task.
    pub predecessors: Vec<Vec<usize>>,
    /// Affected task indexes of each risk.
    pub affected: Vec<Vec<usize>>,
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            location: location.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, at: &str, value: &str, required: bool) {
        if required && value.trim().is_empty() {
            self.fail(at, "must not be empty");
        } else if value.chars().count() > MAX_TEXT {
            self.fail(at, format!("is longer than {MAX_TEXT} characters"));
        }
    }

    fn number(&mut self, at: &str, value: f64, min: f64, max: f64) {
        if !value.is_finite() || value < min || value > max {
            self.fail(at, format!("must be between {min} and {max}, not {value}"));
        }
    }

    fn date(&mut self, at: &str, value: &str) -> Option<NaiveDate> {
        let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
        if parsed.is_none() {
            self.fail(at, format!("must be a date as YYYY-MM-DD, not '{value}'"));
        }
        parsed
    }

    fn rag(&mut self, at: &str, value: &str) -> Rag {
        value.parse().unwrap_or_else(|_| {
            self.fail(at, format!("must be green, amber or red, not '{value}'"));
            Rag::Green
        })
    }
}

/// Checks a parsed document; returns every problem found, or the validated project.
pub fn validate(document: ProjectDocument) -> Result<ValidProject, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    if document.schema != SCHEMA {
        c.fail(
            "schema",
            format!("must be '{SCHEMA}', not '{}'", document.schema),
        );
    }
    let declared = header(&mut c, &document);
    for (at, count, max) in [
        ("tasks", document.tasks.len(), MAX_TASKS),
        ("milestones", document.milestones.len(), MAX_MILESTONES),
        ("risks", document.risks.len(), MAX_RISKS),
    ] {
        if count > max {
            c.fail(
                at,
                format!("has {count} entries; at most {max} are accepted"),
            );
        }
    }
    let index = task_index(&mut c, &document.tasks);
    for (i, task) in document.tasks.iter().enumerate() {
        check_task(&mut c, &format!("tasks[{i}]"), task);
    }
    let predecessors = resolve_predecessors(&mut c, &document.tasks, &index);
    if c.problems.is_empty() {
        if let Some(cycle) = find_cycle(&document.tasks, &predecessors) {
            c.fail("tasks", format!("dependencies form a cycle: {cycle}"));
        }
    }
    for (i, m) in document.milestones.iter().enumerate() {
        let at = format!("milestones[{i}]");
        c.text(&format!("{at}.name"), &m.name, true);
        c.date(&format!("{at}.baseline_date"), &m.baseline_date);
        c.date(&format!("{at}.forecast_date"), &m.forecast_date);
        if let Some(d) = &m.actual_date {
            c.date(&format!("{at}.actual_date"), d);
        }
    }
    let affected = resolve_risks(&mut c, &document, &index);
    if c.problems.is_empty() {
        Ok(ValidProject {
            document,
            declared,
            predecessors,
            affected,
        })
    } else {
        Err(c.problems)
    }
}

fn header(c: &mut Checker, document: &ProjectDocument) -> [Rag; 5] {
    let p = &document.project;
    let code_ok = !p.code.is_empty()
        && p.code.len() <= 16
        && p.code
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !code_ok {
        c.fail("project.code", "must be 1–16 letters, digits, '-' or '_'");
    }
    c.text("project.name", &p.name, true);
    c.text("project.manager", &p.manager, true);
    c.text(
        "project.status_justification",
        &p.status_justification,
        false,
    );
    if !(p.currency.len() == 3 && p.currency.chars().all(|ch| ch.is_ascii_uppercase())) {
        c.fail(
            "project.currency",
            format!(
                "must be a three-letter ISO code such as EUR, not '{}'",
                p.currency
            ),
        );
    }
    c.number(
        "project.budget_at_completion",
        p.budget_at_completion,
        0.0,
        1e13,
    );
    let start = c.date("project.start_date", &p.start_date);
    let finish = c.date("project.target_finish", &p.target_finish);
    if let (Some(s), Some(f)) = (start, finish) {
        if f < s {
            c.fail(
                "project.target_finish",
                format!("is before the start date {s}"),
            );
        }
    }
    if let Some(calendar) = &p.calendar {
        for (field, problem) in calendar.problems() {
            c.fail(format!("project.calendar.{field}"), problem);
        }
    }
    let d = &p.declared;
    [
        c.rag("project.declared.overall", &d.overall),
        c.rag("project.declared.scope", &d.scope),
        c.rag("project.declared.schedule", &d.schedule),
        c.rag("project.declared.cost", &d.cost),
        c.rag("project.declared.resources", &d.resources),
    ]
}

fn task_index(c: &mut Checker, tasks: &[TaskRecord]) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(tasks.len());
    for (i, t) in tasks.iter().enumerate() {
        if let Some(first) = index.insert(t.wbs.clone(), i) {
            c.fail(
                format!("tasks[{i}].wbs"),
                format!("'{}' is already used by tasks[{first}]", t.wbs),
            );
        }
    }
    index
}

/// Field checks of one task; `at` names it (`tasks[3]` or `row 5 (wbs 1.4)`).
pub(super) fn check_task_fields(c_problems: &mut Vec<Problem>, at: &str, t: &TaskRecord) {
    let mut c = Checker {
        problems: std::mem::take(c_problems),
    };
    check_task(&mut c, at, t);
    *c_problems = c.problems;
}

fn check_task(c: &mut Checker, at: &str, t: &TaskRecord) {
    let field = |f: &str| {
        if at.starts_with("row") {
            format!("{at}, field {f}")
        } else {
            format!("{at}.{f}")
        }
    };
    if t.wbs.trim().is_empty() || t.wbs.len() > 32 {
        c.fail(field("wbs"), "must be 1–32 characters");
    }
    c.text(&field("name"), &t.name, true);
    c.text(&field("owner"), &t.owner, false);
    c.number(&field("optimistic_days"), t.optimistic_days, 0.0, 10_000.0);
    c.number(
        &field("most_likely_days"),
        t.most_likely_days,
        0.0,
        10_000.0,
    );
    c.number(
        &field("pessimistic_days"),
        t.pessimistic_days,
        0.0,
        10_000.0,
    );
    if t.optimistic_days > t.most_likely_days {
        c.fail(
            field("most_likely_days"),
            format!(
                "must be at least optimistic_days ({} < {})",
                t.most_likely_days, t.optimistic_days
            ),
        );
    }
    if t.most_likely_days > t.pessimistic_days {
        c.fail(
            field("pessimistic_days"),
            format!(
                "must be at least most_likely_days ({} < {})",
                t.pessimistic_days, t.most_likely_days
            ),
        );
    }
    c.number(&field("budgeted_cost"), t.budgeted_cost, 0.0, 1e12);
    let start = c.date(&field("planned_start"), &t.planned_start);
    let finish = c.date(&field("planned_finish"), &t.planned_finish);
    if let (Some(s), Some(f)) = (start, finish) {
        if f < s {
            c.fail(
                field("planned_finish"),
                format!("is before planned_start {s}"),
            );
        }
    }
    if let Some(constraint) = &t.constraint {
        let date_field = if at.starts_with("row") {
            "constraint_date"
        } else {
            "constraint.date"
        };
        match (&constraint.date, constraint.kind.dated()) {
            (Some(date), true) => {
                c.date(&field(date_field), date);
            }
            (None, true) => c.fail(
                field(date_field),
                format!("is needed by '{}'", constraint.kind.as_str()),
            ),
            (Some(_), false) => c.fail(
                field(date_field),
                format!("is not taken by '{}'", constraint.kind.as_str()),
            ),
            (None, false) => {}
        }
    }
    // Progress: the same checks, in the same words, as the progress grid's.
    let progress = app::progress::TaskProgress {
        percent_complete: t.percent_complete,
        actual_start: t.actual_start.clone(),
        actual_finish: t.actual_finish.clone(),
        actual_cost: t.actual_cost,
        remaining_days: t.remaining_days,
    };
    for problem in app::progress::check_task_progress(&progress, None) {
        c.fail(field(problem.field), problem.message);
    }
}

fn resolve_predecessors(
    c: &mut Checker,
    tasks: &[TaskRecord],
    index: &HashMap<String, usize>,
) -> Vec<Vec<usize>> {
    tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.predecessors
                .iter()
                .enumerate()
                .filter_map(|(k, wbs)| match index.get(wbs) {
                    Some(&p) if p == i => {
                        c.fail(
                            format!("tasks[{i}].predecessors[{k}]"),
                            "a task cannot depend on itself",
                        );
                        None
                    }
                    Some(&p) => Some(p),
                    None => {
                        c.fail(
                            format!("tasks[{i}].predecessors[{k}]"),
                            format!("no task has wbs '{wbs}'"),
                        );
                        None
                    }
                })
                .collect()
        })
        .collect()
}

/// A dependency cycle as `1.2 → 1.3 → 1.2`, if there is one (depth-first search, iterative).
fn find_cycle(tasks: &[TaskRecord], predecessors: &[Vec<usize>]) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; tasks.len()];
    for root in 0..tasks.len() {
        if mark[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&p) = predecessors[node].get(*next) {
                *next += 1;
                match mark[p] {
                    Mark::Open => {
                        let from = stack.iter().position(|&(n, _)| n == p).unwrap_or(0);
                        let mut path: Vec<&str> = stack[from..]
                            .iter()
                            .map(|&(n, _)| tasks[n].wbs.as_str())
                            .collect();
                        path.push(&tasks[p].wbs);
                        return Some(path.join(" → "));
                    }
                    Mark::New => {
                        mark[p] = Mark::Open;
                        stack.push((p, 0));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}

fn resolve_risks(
    c: &mut Checker,
    document: &ProjectDocument,
    index: &HashMap<String, usize>,
) -> Vec<Vec<usize>> {
    document
        .risks
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = format!("risks[{i}]");
            c.text(&format!("{at}.title"), &r.title, true);
            c.text(&format!("{at}.owner"), &r.owner, false);
            c.text(&format!("{at}.mitigation"), &r.mitigation, false);
            c.number(&format!("{at}.probability"), r.probability, 0.0, 1.0);
            c.number(&format!("{at}.cost_impact"), r.cost_impact, 0.0, 1e12);
            c.number(
                &format!("{at}.schedule_impact_days"),
                r.schedule_impact_days,
                0.0,
                10_000.0,
            );
            if !matches!(r.status.as_str(), "open" | "mitigating" | "closed") {
                c.fail(
                    format!("{at}.status"),
                    format!("must be open, mitigating or closed, not '{}'", r.status),
                );
            }
            r.affected_tasks
                .iter()
                .enumerate()
                .filter_map(|(k, wbs)| {
                    let found = index.get(wbs).copied();
                    if found.is_none() {
                        c.fail(
                            format!("{at}.affected_tasks[{k}]"),
                            format!("no task has wbs '{wbs}'"),
                        );
                    }
                    found
                })
                .collect()
        })
        .collect()
}
