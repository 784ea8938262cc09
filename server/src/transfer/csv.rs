//! The task list as CSV: one header row, then one task per row; `predecessors` lists WBS codes
//! separated by `;`. Rows are numbered as a spreadsheet shows them (the header is row 1).
//!
//! On export, a cell that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
//! or carriage return) gets a leading `'`, so a hostile task name cannot execute in the reader's
//! spreadsheet (CSV injection). Numbers are written as numbers and are not affected.

use super::validate::check_task_fields;
use super::{ConstraintKind, Problem, TaskConstraint, TaskRecord, MAX_TASKS};

/// The header, in order.
pub const COLUMNS: [&str; 14] = [
    "wbs",
    "name",
    "owner",
    "optimistic_days",
    "most_likely_days",
    "pessimistic_days",
    "planned_start",
    "planned_finish",
    "budgeted_cost",
    "actual_cost",
    "percent_complete",
    "actual_start",
    "actual_finish",
    "predecessors",
];

/// Columns a file may leave out (written on export after [`COLUMNS`]); an empty cell is no value.
/// `estimated_by_rule` is `true` for a task whose optimistic and pessimistic durations an import's
/// rule derived; `constraint` is a [`ConstraintKind`] (`finish_no_later_than`), `constraint_date`
/// its date.
pub const OPTIONAL_COLUMNS: [&str; 4] = [
    "remaining_days",
    "estimated_by_rule",
    "constraint",
    "constraint_date",
];

/// Writes tasks as CSV.
pub fn write_tasks(tasks: &[TaskRecord]) -> String {
    let mut out = String::with_capacity(tasks.len() * 128);
    out.push_str(&COLUMNS.join(","));
    for column in OPTIONAL_COLUMNS {
        out.push(',');
        out.push_str(column);
    }
    out.push('\n');
    for t in tasks {
        let cells = [
            text(&t.wbs),
            text(&t.name),
            text(&t.owner),
            t.optimistic_days.to_string(),
            t.most_likely_days.to_string(),
            t.pessimistic_days.to_string(),
            text(&t.planned_start),
            text(&t.planned_finish),
            t.budgeted_cost.to_string(),
            t.actual_cost.to_string(),
            t.percent_complete.to_string(),
            text(t.actual_start.as_deref().unwrap_or("")),
            text(t.actual_finish.as_deref().unwrap_or("")),
            text(&t.predecessors.join(";")),
            t.remaining_days.map(|d| d.to_string()).unwrap_or_default(),
            if t.estimated_by_rule { "true" } else { "" }.to_string(),
            t.constraint
                .as_ref()
                .map(|c| c.kind.as_str())
                .unwrap_or("")
                .to_string(),
            text(
                t.constraint
                    .as_ref()
                    .and_then(|c| c.date.as_deref())
                    .unwrap_or(""),
            ),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A text cell: neutralised against formula injection, then quoted when it needs to be.
fn text(value: &str) -> String {
    let safe = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if safe.contains([',', '"', '\n', '\r']) || safe.starts_with(' ') || safe.ends_with(' ') {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// Reads tasks from CSV, checking every row; all problems are returned together.
pub fn read_tasks(input: &str) -> Result<Vec<TaskRecord>, Vec<Problem>> {
    let mut reader = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_reader(input.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            return Err(vec![problem(
                "row 1",
                format!("cannot read the header: {e}"),
            )])
        }
    };
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![problem(
            "row 1",
            format!(
                "missing {}: {}",
                if missing.len() == 1 {
                    "column"
                } else {
                    "columns"
                },
                missing.join(", ")
            ),
        )]);
    }
    let column = |name: &str| header.iter().position(|h| h == name);
    let mut tasks = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        if tasks.len() >= MAX_TASKS {
            problems.push(problem(
                &format!("row {row}"),
                format!("more than {MAX_TASKS} tasks"),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(&format!("row {row}"), e.to_string()));
                continue;
            }
        };
        let cell = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        let at = format!("row {row} (wbs {})", cell("wbs"));
        let optional = |name: &str| Some(cell(name)).filter(|v| !v.is_empty());
        let estimated_by_rule = match optional("estimated_by_rule").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                problems.push(problem(
                    &format!("{at}, field estimated_by_rule"),
                    format!("must be true or false, not '{other}'"),
                ));
                false
            }
        };
        let constraint_date = optional("constraint_date");
        let constraint = match optional("constraint") {
            None => {
                if constraint_date.is_some() {
                    problems.push(problem(
                        &format!("{at}, field constraint_date"),
                        "is given without a constraint",
                    ));
                }
                None
            }
            Some(kind) => match ConstraintKind::parse(&kind) {
                Some(kind) => Some(TaskConstraint {
                    kind,
                    date: constraint_date,
                }),
                None => {
                    problems.push(problem(
                        &format!("{at}, field constraint"),
                        format!(
                            "must be one of {}, not '{kind}'",
                            ConstraintKind::ALL.map(ConstraintKind::as_str).join(", ")
                        ),
                    ));
                    None
                }
            },
        };
        let mut number = |name: &str, default: Option<f64>| -> f64 {
            let raw = cell(name);
            match (raw.parse::<f64>(), default) {
                (Ok(v), _) => v,
                (Err(_), Some(d)) if raw.is_empty() => d,
                _ => {
                    problems.push(problem(
                        &format!("{at}, field {name}"),
                        format!("must be a number, not '{raw}'"),
                    ));
                    0.0
                }
            }
        };
        let remaining = optional("remaining_days");
        let remaining_days = remaining.map(|_| number("remaining_days", None));
        let task = TaskRecord {
            estimated_by_rule,
            constraint,
            remaining_days,
            optimistic_days: number("optimistic_days", None),
            most_likely_days: number("most_likely_days", None),
            pessimistic_days: number("pessimistic_days", None),
            budgeted_cost: number("budgeted_cost", None),
            actual_cost: number("actual_cost", Some(0.0)),
            percent_complete: number("percent_complete", Some(0.0)),
            wbs: cell("wbs"),
            name: cell("name"),
            owner: cell("owner"),
            planned_start: cell("planned_start"),
            planned_finish: cell("planned_finish"),
            actual_start: optional("actual_start"),
            actual_finish: optional("actual_finish"),
            predecessors: cell("predecessors")
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        };
        check_task_fields(&mut problems, &at, &task);
        tasks.push(task);
    }
    if problems.is_empty() {
        Ok(tasks)
    } else {
        Err(problems)
    }
}

fn problem(location: &str, message: impl Into<String>) -> Problem {
    Problem {
        location: location.to_string(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::{ConstraintKind, TaskConstraint};

    fn task(wbs: &str, name: &str) -> TaskRecord {
        TaskRecord {
            wbs: wbs.into(),
            name: name.into(),
            owner: "Ana".into(),
            optimistic_days: 2.0,
            most_likely_days: 3.5,
            pessimistic_days: 6.0,
            planned_start: "2026-01-05".into(),
            planned_finish: "2026-01-08".into(),
            budgeted_cost: 1_000.0,
            actual_cost: 250.5,
            percent_complete: 25.0,
            actual_start: Some("2026-01-05".into()),
            actual_finish: None,
            remaining_days: None,
            estimated_by_rule: false,
            constraint: None,
            predecessors: vec![],
        }
    }

    #[test]
    fn round_trips() {
        let mut b = task("1.2", "Pour, then \"cure\"");
        b.predecessors = vec!["1.1".into()];
        b.remaining_days = Some(6.5);
        b.estimated_by_rule = true;
        b.constraint = Some(TaskConstraint {
            kind: ConstraintKind::FinishNoLaterThan,
            date: Some("2026-01-09".into()),
        });
        let mut c = task("1.3", "Backfill");
        c.constraint = Some(TaskConstraint {
            kind: ConstraintKind::AsLateAsPossible,
            date: None,
        });
        let tasks = vec![task("1.1", "Dig"), b, c];
        let csv = write_tasks(&tasks);
        assert!(
            csv.lines()
                .nth(2)
                .is_some_and(|l| l.ends_with(",6.5,true,finish_no_later_than,2026-01-09")),
            "{csv}"
        );
        assert_eq!(read_tasks(&csv).expect("valid"), tasks);
    }

    #[test]
    fn estimates_by_rule_and_constraints_are_checked_by_row() {
        let header = format!(
            "{},estimated_by_rule,constraint,constraint_date",
            COLUMNS.join(",")
        );
        let row = "1.1,Dig,Ana,2,3,4,2026-01-05,2026-01-08,100,0,0,,,";
        let problems = |cells: &str| -> Vec<String> {
            read_tasks(&format!("{header}\n{row},{cells}\n"))
                .err()
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(problems("true,,"), Vec::<String>::new());
        assert_eq!(
            problems("maybe,,"),
            ["row 2 (wbs 1.1), field estimated_by_rule: must be true or false, not 'maybe'"]
        );
        assert!(problems("false,Must Finish On,2026-01-09")[0].starts_with(
            "row 2 (wbs 1.1), field constraint: must be one of as_late_as_possible, must_start_on"
        ));
        assert_eq!(
            problems("false,must_finish_on,"),
            ["row 2 (wbs 1.1), field constraint_date: is needed by 'must_finish_on'"]
        );
        assert_eq!(
            problems("false,must_finish_on,9 Jan"),
            ["row 2 (wbs 1.1), field constraint_date: must be a date as YYYY-MM-DD, not '9 Jan'"]
        );
        assert_eq!(
            problems("false,as_late_as_possible,2026-01-09"),
            ["row 2 (wbs 1.1), field constraint_date: is not taken by 'as_late_as_possible'"]
        );
        assert_eq!(
            problems("false,,2026-01-09"),
            ["row 2 (wbs 1.1), field constraint_date: is given without a constraint"]
        );
    }

    #[test]
    fn the_remaining_duration_column_may_be_left_out() {
        let csv = format!(
            "{}\n1.1,Dig,Ana,2,3,4,2026-01-05,2026-01-08,100,0,10,2026-01-05,,\n",
            COLUMNS.join(",")
        );
        assert_eq!(read_tasks(&csv).expect("valid")[0].remaining_days, None);
        let with = format!(
            "{},remaining_days\n1.1,Dig,Ana,2,3,4,2026-01-05,2026-01-08,100,0,10,2026-01-05,,,soon\n",
            COLUMNS.join(",")
        );
        let problems = read_tasks(&with).expect_err("not a number");
        assert_eq!(
            problems[0].to_string(),
            "row 2 (wbs 1.1), field remaining_days: must be a number, not 'soon'"
        );
    }

    #[test]
    fn formulas_are_neutralised_on_export() {
        let csv = write_tasks(&[
            task("1", "=HYPERLINK(\"http://x\")"),
            task("2", "@SUM(A1)"),
            task("3", "-2+3"),
        ]);
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
        assert!(
            csv.contains(",'@SUM(A1),") && csv.contains(",'-2+3,"),
            "{csv}"
        );
        let back = read_tasks(&csv).expect("still valid");
        assert_eq!(
            back[0].name, "'=HYPERLINK(\"http://x\")",
            "kept as inert text"
        );
    }

    #[test]
    fn problems_name_the_row_and_field() {
        let csv = format!(
            "{}\n1.1,Dig,Ana,2,3,4,2026-01-05,2026-01-08,100,0,0,,,\n1.2,Pour,Ana,5,3,4,2026-01-05,2026-01-08,lots,0,140,,,\n",
            COLUMNS.join(",")
        );
        let problems = read_tasks(&csv).expect_err("row 3 is wrong");
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text.contains(
                &"row 3 (wbs 1.2), field budgeted_cost: must be a number, not 'lots'".to_string()
            ),
            "{text:#?}"
        );
        assert!(text.iter().any(|t| t.starts_with(
            "row 3 (wbs 1.2), field most_likely_days: must be at least optimistic_days"
        )));
        assert!(text.iter().any(
            |t| t.starts_with("row 3 (wbs 1.2), field percent_complete: must be between 0 and 100")
        ));
        assert!(
            !text.iter().any(|t| t.starts_with("row 2")),
            "row 2 is fine"
        );
    }

    #[test]
    fn missing_columns_are_named() {
        let problems = read_tasks("wbs,name\n1,Dig\n").expect_err("columns missing");
        assert!(problems[0].message.contains("optimistic_days"));
        assert_eq!(problems[0].location, "row 1");
    }
}
