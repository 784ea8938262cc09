//! Primavera P6 XER: the tab-separated export P6 writes. An `ERMHDR` line, then tables: `%T` names
//! one, `%F` its fields, each `%R` a row; `%E` ends the file. One file may hold several projects;
//! the caller picks one by its `proj_id` ([`projects`] lists them).
//!
//! Read, for the chosen project:
//!
//! - `PROJECT`: `proj_short_name`, `plan_start_date`, `plan_end_date` (or `scd_end_date`),
//!   `clndr_id`; its name is the project node's `wbs_name` in `PROJWBS`;
//! - `PROJWBS`: the WBS tree (`parent_wbs_id`, `seq_num`); each node becomes a WBS level;
//! - `TASK`: `task_code`, `task_name`, `task_type` (`TT_Mile`/`TT_FinMile` milestones, `TT_LOE`
//!   level of effort, `TT_WBS` summaries), `target_drtn_hr_cnt` and `remain_drtn_hr_cnt` (hours; a
//!   day is the calendar's `day_hr_cnt`), `target_start_date`/`target_end_date` (the baseline),
//!   `early_*` and `act_*` dates, `status_code`, the percent complete its `complete_pct_type` names,
//!   `cstr_type`/`cstr_date` (kept as data), `rsrc_id` (the owner);
//! - `TASKPRED`: `pred_type` (`PR_FS`, `PR_SS`, `PR_FF`, `PR_SF`), `lag_hr_cnt`;
//! - `TASKRSRC` and `PROJCOST`: budgeted (`target_cost`) and actual (`act_reg_cost`,
//!   `act_ot_cost`, `act_cost`) costs per task;
//! - `CALENDAR`: the project calendar's `clndr_data` (working weekdays, non-working exceptions);
//! - `UDFTYPE`/`UDFVALUE`: task user fields labelled optimistic, most likely or pessimistic duration.
//!
//! Other tables are named in a warning. Text is UTF-8, or the code page the request names
//! (`?encoding=windows-1252`); bytes that are not UTF-8 in a file that names none are read as
//! windows-1252, P6's usual export, with a warning.

use std::collections::{HashMap, HashSet};

use app::planning::{ConstraintKind, ProjectCalendar};
use chrono::{Datelike, NaiveDate};

use super::schedule::{outline_codes, LinkKind, Schedule, SourceLink, SourceTask};
use super::Problem;

/// Most problems listed before reading stops.
const MAX_PROBLEMS: usize = 200;
/// Tables read; others are named in a warning.
const READ: [&str; 11] = [
    "PROJECT", "PROJWBS", "TASK", "TASKPRED", "CALENDAR", "TASKRSRC", "PROJCOST", "RSRC",
    "UDFTYPE", "UDFVALUE", "CURRTYPE",
];

/// One table: its fields and rows, each row with its line number.
#[derive(Debug, Default)]
struct Table {
    fields: HashMap<String, usize>,
    /// How many `%F` cells there were (a name may repeat).
    width: usize,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    fn get<'a>(&self, row: &'a [String], field: &str) -> Option<&'a str> {
        self.fields
            .get(field)
            .and_then(|&i| row.get(i))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

pub use app::import::P6Project;

/// Whether text looks like an XER file.
pub fn looks_like(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').starts_with("ERMHDR")
}

/// The tables of a file; only those in [`READ`] are kept.
fn tables(text: &str, warnings: &mut Vec<Problem>) -> Result<HashMap<String, Table>, Vec<Problem>> {
    let mut lines = text.split('\n').enumerate();
    match lines.next() {
        Some((_, first)) if first.trim_start_matches('\u{feff}').starts_with("ERMHDR") => {}
        _ => {
            return Err(vec![Problem {
                location: "line 1".into(),
                message: "a P6 XER file starts with an ERMHDR line; this one does not".into(),
            }])
        }
    }
    let mut problems = Vec::new();
    let mut tables: HashMap<String, Table> = HashMap::new();
    let mut current: Option<String> = None;
    let mut skipped: Vec<(String, usize)> = Vec::new();
    let mut ended = false;
    for (i, line) in lines {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if ended {
            problems.push(Problem {
                location: format!("line {n}"),
                message: "comes after the end mark %E".into(),
            });
            break;
        }
        let mut cells = line.split('\t');
        let mark = cells.next().unwrap_or("");
        match mark {
            "%T" => {
                let name = cells.next().unwrap_or("").trim().to_string();
                if name.is_empty() {
                    problems.push(Problem {
                        location: format!("line {n}"),
                        message: "%T names no table".into(),
                    });
                } else if READ.contains(&name.as_str()) {
                    if tables.contains_key(&name) {
                        problems.push(Problem {
                            location: format!("line {n}"),
                            message: format!("table {name} comes twice"),
                        });
                    }
                    tables.insert(name.clone(), Table::default());
                } else {
                    skipped.push((name.clone(), 0));
                }
                current = Some(name);
            }
            "%F" => match current.as_deref().and_then(|c| tables.get_mut(c)) {
                Some(table) => {
                    let names: Vec<&str> = cells.collect();
                    table.width = names.len();
                    // The first of a repeated name is the one read.
                    for (k, f) in names.iter().enumerate().rev() {
                        table.fields.insert(f.trim().to_string(), k);
                    }
                }
                None if current.is_none() => problems.push(Problem {
                    location: format!("line {n}"),
                    message: "%F comes before any %T".into(),
                }),
                None => {}
            },
            "%R" => match current.as_deref() {
                Some(name) => {
                    if let Some(table) = tables.get_mut(name) {
                        let row: Vec<String> = cells.map(str::to_string).collect();
                        if row.len() > table.width {
                            problems.push(Problem {
                                location: format!("line {n}"),
                                message: format!(
                                    "has {} values for {} fields of {name}",
                                    row.len(),
                                    table.width
                                ),
                            });
                        } else {
                            table.rows.push((n, row));
                        }
                    } else if let Some(last) = skipped.last_mut() {
                        last.1 += 1;
                    }
                }
                None => problems.push(Problem {
                    location: format!("line {n}"),
                    message: "%R comes before any %T".into(),
                }),
            },
            "%E" => ended = true,
            other => problems.push(Problem {
                location: format!("line {n}"),
                message: format!(
                    "starts with '{}', not %T, %F, %R or %E",
                    other.chars().take(20).collect::<String>()
                ),
            }),
        }
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    for (name, rows) in skipped {
        if rows > 0 {
            warnings.push(Problem {
                location: format!("table {name}"),
                message: format!("{rows} rows are not read (PMR's plan has no place for them)"),
            });
        }
    }
    if problems.is_empty() {
        Ok(tables)
    } else {
        Err(problems)
    }
}

/// The projects in a file.
pub fn projects(text: &str) -> Result<Vec<P6Project>, Vec<Problem>> {
    let tables = tables(text, &mut Vec::new())?;
    Ok(project_list(&tables))
}

fn project_list(tables: &HashMap<String, Table>) -> Vec<P6Project> {
    let Some(project) = tables.get("PROJECT") else {
        return Vec::new();
    };
    let names: HashMap<&str, &str> = tables
        .get("PROJWBS")
        .map(|w| {
            w.rows
                .iter()
                .filter(|(_, r)| w.get(r, "proj_node_flag") == Some("Y"))
                .filter_map(|(_, r)| Some((w.get(r, "proj_id")?, w.get(r, "wbs_name")?)))
                .collect()
        })
        .unwrap_or_default();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    if let Some(t) = tables.get("TASK") {
        for (_, r) in &t.rows {
            if let Some(p) = t.get(r, "proj_id") {
                *counts.entry(p).or_default() += 1;
            }
        }
    }
    project
        .rows
        .iter()
        .filter_map(|(_, r)| {
            let id = project.get(r, "proj_id")?;
            let short = project.get(r, "proj_short_name").unwrap_or(id);
            Some(P6Project {
                id: id.to_string(),
                short_name: short.to_string(),
                name: names.get(id).copied().unwrap_or(short).to_string(),
                tasks: counts.get(id).copied().unwrap_or(0),
            })
        })
        .collect()
}

struct Read {
    problems: Vec<Problem>,
}

impl Read {
    fn fail(&mut self, location: impl Into<String>, message: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                location: location.into(),
                message: message.into(),
            });
        }
    }

    fn number(&mut self, place: &str, field: &str, text: Option<&str>) -> Option<f64> {
        let text = text?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                self.fail(
                    format!("{place}, field {field}"),
                    format!("must be a number, not '{text}'"),
                );
                None
            }
        }
    }

    fn date(&mut self, place: &str, field: &str, text: Option<&str>) -> Option<NaiveDate> {
        let text = text?;
        match text
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            Some(d) => Some(d),
            None => {
                self.fail(
                    format!("{place}, field {field}"),
                    format!("must be a date such as 2026-01-05 08:00, not '{text}'"),
                );
                None
            }
        }
    }
}

/// A node of `clndr_data`: `(0||name(params)(children))`.
#[derive(Debug, Default)]
struct CalNode {
    name: String,
    params: String,
    children: Vec<CalNode>,
}

/// Parses `clndr_data`; `None` when it is not in P6's form.
fn calendar_nodes(data: &str) -> Option<Vec<CalNode>> {
    let bytes: Vec<char> = data
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let mut at = 0;
    let mut nodes = Vec::new();
    while at < bytes.len() {
        nodes.push(cal_node(&bytes, &mut at, 0)?);
    }
    Some(nodes)
}

fn cal_node(s: &[char], at: &mut usize, depth: usize) -> Option<CalNode> {
    if depth > 32 || s.get(*at) != Some(&'(') {
        return None;
    }
    *at += 1;
    // `0||`
    while s.get(*at).is_some_and(|c| *c != '|') {
        *at += 1;
    }
    if s.get(*at) != Some(&'|') || s.get(*at + 1) != Some(&'|') {
        return None;
    }
    *at += 2;
    let mut node = CalNode::default();
    while let Some(&c) = s.get(*at) {
        if c == '(' {
            break;
        }
        node.name.push(c);
        *at += 1;
    }
    *at += 1; // (
    while let Some(&c) = s.get(*at) {
        if c == ')' {
            break;
        }
        node.params.push(c);
        *at += 1;
    }
    if s.get(*at) != Some(&')') {
        return None;
    }
    *at += 1;
    if s.get(*at) != Some(&'(') {
        return None;
    }
    *at += 1;
    while s.get(*at) == Some(&'(') {
        node.children.push(cal_node(s, at, depth + 1)?);
    }
    if s.get(*at) != Some(&')') {
        return None;
    }
    *at += 1;
    if s.get(*at) != Some(&')') {
        return None;
    }
    *at += 1;
    Some(node)
}

fn find<'a>(nodes: &'a [CalNode], name: &str) -> Option<&'a CalNode> {
    for n in nodes {
        if n.name == name {
            return Some(n);
        }
        if let Some(found) = find(&n.children, name) {
            return Some(found);
        }
    }
    None
}

/// A calendar's working weekdays and holidays from its `clndr_data`.
fn calendar(data: &str, place: &str, schedule: &mut Schedule) -> Option<ProjectCalendar> {
    let Some(nodes) = calendar_nodes(data) else {
        schedule.warn(
            format!("{place}, field clndr_data"),
            "is not in P6's calendar form; Monday to Friday is used",
        );
        return None;
    };
    let mut week = [true, true, true, true, true, false, false];
    if let Some(days) = find(&nodes, "DaysOfWeek") {
        for day in &days.children {
            // 1 Sunday … 7 Saturday.
            if let Ok(n @ 1..=7) = day.name.parse::<usize>() {
                week[(n + 5) % 7] = !day.children.is_empty();
            }
        }
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let mut holidays = Vec::new();
    if let Some(exceptions) = find(&nodes, "Exceptions") {
        for e in &exceptions.children {
            let serial = e
                .params
                .split('|')
                .skip_while(|p| *p != "d")
                .nth(1)
                .and_then(|d| d.parse::<i64>().ok());
            let Some(day) = serial
                .filter(|d| (0..200_000).contains(d))
                .map(|d| epoch + chrono::Duration::days(d))
            else {
                continue;
            };
            if e.children.is_empty() {
                holidays.push(day);
            } else {
                schedule.warn(
                    format!("{place}, field clndr_data"),
                    format!("{day} is a working exception; PMR's calendar holds non-working days only, so it is not read"),
                );
            }
        }
    }
    if !week.iter().any(|w| *w) {
        schedule.warn(
            place,
            "works on no day of the week; Monday to Friday is used",
        );
        week = [true, true, true, true, true, false, false];
    }
    holidays.sort();
    holidays.dedup();
    holidays.retain(|d| (1900..=2200).contains(&d.year()));
    if holidays.len() > app::planning::MAX_HOLIDAYS {
        schedule.warn(
            place,
            format!(
                "has {} non-working days; the first {} are kept",
                holidays.len(),
                app::planning::MAX_HOLIDAYS
            ),
        );
        holidays.truncate(app::planning::MAX_HOLIDAYS);
    }
    Some(ProjectCalendar {
        working_days: app::planning::WEEKDAYS
            .iter()
            .zip(week)
            .filter(|(_, w)| *w)
            .map(|(d, _)| d.to_string())
            .collect(),
        holidays: holidays
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect(),
        reporting_day: app::planning::LAST_DAY,
    })
}

/// P6's primary constraint (`cstr_type`).
fn constraint_kind(code: &str) -> Option<ConstraintKind> {
    Some(match code {
        "CS_MSO" => ConstraintKind::MustStartOn,
        "CS_MSOA" => ConstraintKind::StartNoEarlierThan,
        "CS_MSOB" => ConstraintKind::StartNoLaterThan,
        "CS_MEO" => ConstraintKind::MustFinishOn,
        "CS_MEOA" => ConstraintKind::FinishNoEarlierThan,
        "CS_MEOB" => ConstraintKind::FinishNoLaterThan,
        "CS_ALAP" => ConstraintKind::AsLateAsPossible,
        "CS_MANDSTART" => ConstraintKind::MandatoryStart,
        "CS_MANDFIN" => ConstraintKind::MandatoryFinish,
        _ => return None,
    })
}

/// Reads the project `p6_project` (a `proj_id`) of an XER file; a file of one project needs none.
pub fn read(text: &str, p6_project: Option<&str>) -> Result<Schedule, Vec<Problem>> {
    let mut schedule = Schedule {
        format: "Primavera P6 XER",
        ..Schedule::default()
    };
    let tables = tables(text, &mut schedule.warnings)?;
    let mut r = Read {
        problems: Vec::new(),
    };
    for needed in ["PROJECT", "TASK"] {
        if !tables.contains_key(needed) {
            return Err(vec![Problem {
                location: "document".into(),
                message: format!("has no {needed} table"),
            }]);
        }
    }
    let list = project_list(&tables);
    let chosen = match (p6_project, list.as_slice()) {
        (_, []) => {
            return Err(vec![Problem {
                location: "table PROJECT".into(),
                message: "has no project".into(),
            }])
        }
        (None, [only]) => only.clone(),
        (None, many) => {
            return Err(vec![Problem {
                location: "p6_project".into(),
                message: format!(
                    "the file holds {} projects; choose one by its id: {}",
                    many.len(),
                    many.iter()
                        .map(|p| format!("{} ({} '{}')", p.id, p.short_name, p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }])
        }
        (Some(id), all) => match all.iter().find(|p| p.id == id) {
            Some(p) => p.clone(),
            None => {
                return Err(vec![Problem {
                    location: "p6_project".into(),
                    message: format!(
                        "the file has no project {id}; it has {}",
                        all.iter()
                            .map(|p| p.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }])
            }
        },
    };
    let pid = chosen.id.as_str();
    let project = &tables["PROJECT"];
    let Some((_, prow)) = project
        .rows
        .iter()
        .find(|(_, r)| project.get(r, "proj_id") == Some(pid))
    else {
        unreachable!("the chosen project is one of the table's rows")
    };
    schedule.name = chosen.name.clone();
    schedule.start = r.date(
        "project",
        "plan_start_date",
        project.get(prow, "plan_start_date"),
    );
    schedule.finish = r
        .date(
            "project",
            "plan_end_date",
            project.get(prow, "plan_end_date"),
        )
        .or_else(|| r.date("project", "scd_end_date", project.get(prow, "scd_end_date")));
    if let Some(curr) = tables.get("CURRTYPE") {
        // One currency is the base (the first row, id 1 in a default database).
        if let Some((_, row)) = curr.rows.first() {
            schedule.currency = curr
                .get(row, "curr_short_name")
                .filter(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()))
                .map(str::to_string);
        }
    }

    // Calendar: the project's default; a day is its day_hr_cnt hours.
    let mut hours_per_day = 8.0;
    let mut calendars_day_hours: HashMap<String, f64> = HashMap::new();
    if let Some(cal) = tables.get("CALENDAR") {
        for (line, row) in &cal.rows {
            let place = format!(
                "line {line} (calendar {})",
                cal.get(row, "clndr_id").unwrap_or("?")
            );
            if let (Some(id), Some(h)) = (
                cal.get(row, "clndr_id"),
                r.number(&place, "day_hr_cnt", cal.get(row, "day_hr_cnt")),
            ) {
                if h > 0.0 && h <= 24.0 {
                    calendars_day_hours.insert(id.to_string(), h);
                }
            }
        }
        let wanted = project.get(prow, "clndr_id");
        let row = cal
            .rows
            .iter()
            .find(|(_, row)| wanted.is_some() && cal.get(row, "clndr_id") == wanted)
            .or_else(|| {
                cal.rows
                    .iter()
                    .find(|(_, row)| cal.get(row, "default_flag") == Some("Y"))
            });
        if let Some((line, row)) = row {
            let place = format!(
                "line {line} (calendar {})",
                cal.get(row, "clndr_id").unwrap_or("?")
            );
            if let Some(h) = cal
                .get(row, "clndr_id")
                .and_then(|id| calendars_day_hours.get(id))
            {
                hours_per_day = *h;
            }
            if let Some(data) = cal.get(row, "clndr_data") {
                schedule.calendar = calendar(data, &place, &mut schedule);
            }
        }
    }

    let task = &tables["TASK"];
    let mine: Vec<&(usize, Vec<String>)> = task
        .rows
        .iter()
        .filter(|(_, row)| task.get(row, "proj_id") == Some(pid))
        .collect();
    if mine.len() > super::schedule::MAX_SCHEDULE_TASKS {
        return Err(vec![Problem {
            location: "table TASK".into(),
            message: format!(
                "has {} tasks for project {pid}; at most {} are read",
                mine.len(),
                super::schedule::MAX_SCHEDULE_TASKS
            ),
        }]);
    }

    // Costs and owners, of this project's tasks only (other projects' rows are not read).
    let my_ids: HashSet<&str> = mine
        .iter()
        .filter_map(|(_, row)| task.get(row, "task_id"))
        .collect();
    let mut budget: HashMap<&str, f64> = HashMap::new();
    let mut actual: HashMap<&str, f64> = HashMap::new();
    let mut first_resource: HashMap<&str, &str> = HashMap::new();
    let resources: HashMap<&str, &str> = tables
        .get("RSRC")
        .map(|t| {
            t.rows
                .iter()
                .filter_map(|(_, r)| Some((t.get(r, "rsrc_id")?, t.get(r, "rsrc_name")?)))
                .collect()
        })
        .unwrap_or_default();
    for table_name in ["TASKRSRC", "PROJCOST"] {
        let Some(t) = tables.get(table_name) else {
            continue;
        };
        for (line, row) in &t.rows {
            let Some(task_id) = t.get(row, "task_id") else {
                continue;
            };
            if !my_ids.contains(task_id) {
                continue;
            }
            let place = format!("line {line} ({table_name})");
            *budget.entry(task_id).or_default() += r
                .number(&place, "target_cost", t.get(row, "target_cost"))
                .unwrap_or(0.0);
            let spent: f64 = ["act_reg_cost", "act_ot_cost", "act_cost"]
                .iter()
                .filter_map(|f| r.number(&place, f, t.get(row, f)))
                .sum();
            *actual.entry(task_id).or_default() += spent;
            if let Some(name) = t.get(row, "rsrc_id").and_then(|id| resources.get(id)) {
                first_resource.entry(task_id).or_insert(name);
            }
        }
    }

    // User fields with three-point estimates.
    let mut udf_kind: HashMap<&str, (usize, bool)> = HashMap::new();
    if let Some(t) = tables.get("UDFTYPE") {
        for (_, row) in &t.rows {
            if t.get(row, "table_name") != Some("TASK") {
                continue;
            }
            let label = t
                .get(row, "udf_type_label")
                .or(t.get(row, "udf_type_name"))
                .unwrap_or("")
                .to_ascii_lowercase();
            let kind = if label.contains("optimistic") {
                0
            } else if label.contains("most likely") || label.contains("most_likely") {
                1
            } else if label.contains("pessimistic") {
                2
            } else {
                continue;
            };
            if let Some(id) = t.get(row, "udf_type_id") {
                let hours = t.get(row, "logical_data_type") == Some("FT_DRTN");
                udf_kind.insert(id, (kind, hours));
            }
        }
    }
    let mut estimates: HashMap<&str, [Option<f64>; 3]> = HashMap::new();
    if let Some(t) = tables.get("UDFVALUE") {
        for (line, row) in &t.rows {
            let Some(&(kind, hours)) = t.get(row, "udf_type_id").and_then(|id| udf_kind.get(id))
            else {
                continue;
            };
            let Some(task_id) = t.get(row, "fk_id") else {
                continue;
            };
            if !my_ids.contains(task_id) {
                continue;
            }
            let place = format!("line {line} (UDFVALUE)");
            if let Some(v) = r.number(&place, "udf_number", t.get(row, "udf_number")) {
                estimates.entry(task_id).or_default()[kind] =
                    Some(if hours { v / hours_per_day } else { v });
            }
        }
    }

    // The WBS tree of the project, then its tasks in it.
    let mut children: HashMap<&str, Vec<(i64, &str, &str, String)>> = HashMap::new();
    let mut root: Option<&str> = None;
    let mut wbs_ids: HashSet<&str> = HashSet::new();
    if let Some(w) = tables.get("PROJWBS") {
        for (_, row) in &w.rows {
            if w.get(row, "proj_id") != Some(pid) {
                continue;
            }
            let Some(id) = w.get(row, "wbs_id") else {
                continue;
            };
            wbs_ids.insert(id);
            if w.get(row, "proj_node_flag") == Some("Y") {
                root = Some(id);
                continue;
            }
            let parent = w.get(row, "parent_wbs_id").unwrap_or("");
            let seq = w
                .get(row, "seq_num")
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0);
            let name = w
                .get(row, "wbs_name")
                .or(w.get(row, "wbs_short_name"))
                .unwrap_or("")
                .to_string();
            children.entry(parent).or_default().push((
                seq,
                id,
                w.get(row, "wbs_short_name").unwrap_or(""),
                name,
            ));
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (a.0, a.2).cmp(&(b.0, b.2)));
    }
    let mut tasks_in: HashMap<&str, Vec<&(usize, Vec<String>)>> = HashMap::new();
    for t in &mine {
        let wbs = task.get(&t.1, "wbs_id").unwrap_or("");
        let wbs = if wbs_ids.contains(wbs) {
            wbs
        } else {
            root.unwrap_or("")
        };
        tasks_in.entry(wbs).or_default().push(t);
    }
    for list in tasks_in.values_mut() {
        list.sort_by(|a, b| {
            task.get(&a.1, "task_code")
                .cmp(&task.get(&b.1, "task_code"))
        });
    }
    // Depth-first: a node's tasks, then its child nodes (each a summary level).
    enum Item<'a> {
        Level(&'a str, String),
        Task(&'a (usize, Vec<String>)),
    }
    let level_names: HashMap<&str, String> = children
        .values()
        .flatten()
        .map(|(_, id, _, name)| (*id, name.clone()))
        .collect();
    let mut order: Vec<(u32, Item)> = Vec::new();
    let top = root.unwrap_or("");
    let mut stack: Vec<(&str, u32)> = vec![(top, 0)];
    let mut visited: HashSet<&str> = HashSet::new();
    while let Some((node, depth)) = stack.pop() {
        if !visited.insert(node) || depth > 60 {
            continue;
        }
        if node != top {
            let name = level_names.get(node).cloned().unwrap_or_default();
            order.push((depth, Item::Level(node, name)));
        }
        for t in tasks_in.get(node).into_iter().flatten() {
            order.push((depth + 1, Item::Task(t)));
        }
        // Children pushed in reverse so the first is visited (and listed) first.
        if let Some(kids) = children.get(node) {
            for (_, id, _, _) in kids.iter().rev() {
                stack.push((id, depth + 1));
            }
        }
    }
    // Tasks whose WBS is not under the project's tree (a broken parent chain) still count.
    let placed: HashSet<usize> = order
        .iter()
        .filter_map(|(_, i)| match i {
            Item::Task(t) => Some(t.0),
            _ => None,
        })
        .collect();
    for t in &mine {
        if !placed.contains(&t.0) {
            schedule.warn(
                format!("line {}", t.0),
                "its WBS node is not under the project's; it is put at the top level",
            );
            order.push((1, Item::Task(t)));
        }
    }

    let levels: Vec<(u32, String)> = order
        .iter()
        .map(|(d, item)| {
            let place = match item {
                Item::Level(id, _) => format!("WBS {id}"),
                Item::Task(t) => format!("task {}", task.get(&t.1, "task_code").unwrap_or("?")),
            };
            ((*d).max(1), place)
        })
        .collect();
    let codes = outline_codes(&levels, &mut schedule.warnings);
    let mut keys: HashSet<String> = HashSet::new();
    for ((_, item), wbs) in order.iter().zip(codes) {
        match item {
            Item::Level(id, name) => schedule.tasks.push(SourceTask {
                place: format!("WBS {id}"),
                key: format!("wbs:{id}"),
                name: name.clone(),
                wbs,
                summary: true,
                ..SourceTask::default()
            }),
            Item::Task((line, row)) => {
                let id = task.get(row, "task_id").unwrap_or("");
                let code = task.get(row, "task_code").unwrap_or(id);
                let place = format!("task {code}");
                if id.is_empty() {
                    r.fail(format!("line {line}"), "a task has no task_id");
                    continue;
                }
                if !keys.insert(id.to_string()) {
                    r.fail(
                        format!("line {line}"),
                        format!("task_id {id} is used twice"),
                    );
                }
                let kind = task.get(row, "task_type").unwrap_or("TT_Task");
                let day_hours = task
                    .get(row, "clndr_id")
                    .and_then(|c| calendars_day_hours.get(c))
                    .copied()
                    .unwrap_or(hours_per_day);
                let target = r
                    .number(
                        &place,
                        "target_drtn_hr_cnt",
                        task.get(row, "target_drtn_hr_cnt"),
                    )
                    .unwrap_or(0.0);
                let remain = r.number(
                    &place,
                    "remain_drtn_hr_cnt",
                    task.get(row, "remain_drtn_hr_cnt"),
                );
                let status = task.get(row, "status_code").unwrap_or("TK_NotStart");
                let actual_start =
                    r.date(&place, "act_start_date", task.get(row, "act_start_date"));
                let actual_finish = r.date(&place, "act_end_date", task.get(row, "act_end_date"));
                let percent = if status == "TK_Complete" {
                    100.0
                } else {
                    match task.get(row, "complete_pct_type").unwrap_or("CP_Drtn") {
                        "CP_Phys" => r
                            .number(
                                &place,
                                "phys_complete_pct",
                                task.get(row, "phys_complete_pct"),
                            )
                            .unwrap_or(0.0),
                        _ if status == "TK_NotStart" => 0.0,
                        _ => match (target, remain) {
                            (t, Some(left)) if t > 0.0 => {
                                ((t - left) / t * 100.0).clamp(0.0, 100.0)
                            }
                            _ => 0.0,
                        },
                    }
                };
                let constraint = match task.get(row, "cstr_type") {
                    Some(c) => {
                        let date = r.date(&place, "cstr_date", task.get(row, "cstr_date"));
                        schedule.constraint(
                            &format!("{place}, field cstr_type"),
                            constraint_kind(c),
                            c,
                            date,
                        )
                    }
                    None => None,
                };
                let early_start = r.date(
                    &place,
                    "early_start_date",
                    task.get(row, "early_start_date"),
                );
                let early_finish =
                    r.date(&place, "early_end_date", task.get(row, "early_end_date"));
                let target_start = r.date(
                    &place,
                    "target_start_date",
                    task.get(row, "target_start_date"),
                );
                let target_finish =
                    r.date(&place, "target_end_date", task.get(row, "target_end_date"));
                let three = estimates.get(id).copied().unwrap_or_default();
                let milestone = matches!(kind, "TT_Mile" | "TT_FinMile");
                let owner = task
                    .get(row, "rsrc_id")
                    .and_then(|rid| resources.get(rid).copied())
                    .or(first_resource.get(id).copied())
                    .unwrap_or("");
                schedule.tasks.push(SourceTask {
                    place,
                    key: id.to_string(),
                    name: task.get(row, "task_name").unwrap_or(code).to_string(),
                    wbs,
                    summary: kind == "TT_WBS",
                    milestone,
                    level_of_effort: kind == "TT_LOE",
                    duration_days: target / day_hours,
                    remaining_days: remain.map(|h| h / day_hours),
                    planned_start: target_start,
                    planned_finish: if milestone {
                        target_finish.or(target_start)
                    } else {
                        target_finish
                    },
                    start: actual_start.or(early_start),
                    finish: actual_finish.or(early_finish).or(if milestone {
                        actual_start.or(early_start)
                    } else {
                        None
                    }),
                    actual_start,
                    actual_finish: actual_finish.or(if milestone && status == "TK_Complete" {
                        actual_start
                    } else {
                        None
                    }),
                    percent_complete: percent,
                    budgeted_cost: budget.get(id).copied().unwrap_or(0.0),
                    actual_cost: actual.get(id).copied().unwrap_or(0.0),
                    optimistic_days: three[0],
                    most_likely_days: three[1],
                    pessimistic_days: three[2],
                    owner: owner.to_string(),
                    constraint,
                });
            }
        }
    }

    // Dependencies of the project's tasks.
    if let Some(t) = tables.get("TASKPRED") {
        for (line, row) in &t.rows {
            let (Some(succ), Some(pred)) = (t.get(row, "task_id"), t.get(row, "pred_task_id"))
            else {
                r.fail(
                    format!("line {line} (TASKPRED)"),
                    "needs task_id and pred_task_id",
                );
                continue;
            };
            let mine_succ = keys.contains(succ);
            let mine_pred = keys.contains(pred);
            if !mine_succ && !mine_pred {
                continue;
            }
            let place = format!("line {line} (TASKPRED {pred} → {succ})");
            let other_project = t.get(row, "pred_proj_id").is_some_and(|p| p != pid)
                || t.get(row, "proj_id").is_some_and(|p| p != pid);
            if other_project {
                schedule.warn(
                    place,
                    "links to another project; PMR's plan holds one project, so it is left out",
                );
                continue;
            }
            let kind = match t.get(row, "pred_type").unwrap_or("PR_FS") {
                "PR_FS" => LinkKind::FinishToStart,
                "PR_SS" => LinkKind::StartToStart,
                "PR_FF" => LinkKind::FinishToFinish,
                "PR_SF" => LinkKind::StartToFinish,
                other => {
                    r.fail(
                        format!("{place}, field pred_type"),
                        format!("must be PR_FS, PR_SS, PR_FF or PR_SF, not '{other}'"),
                    );
                    continue;
                }
            };
            let lag = r
                .number(&place, "lag_hr_cnt", t.get(row, "lag_hr_cnt"))
                .unwrap_or(0.0);
            schedule.links.push(SourceLink {
                place,
                predecessor: pred.to_string(),
                successor: succ.to_string(),
                kind,
                lag_days: lag / hours_per_day,
            });
        }
    }
    if r.problems.is_empty() {
        Ok(schedule)
    } else {
        Err(r.problems)
    }
}
