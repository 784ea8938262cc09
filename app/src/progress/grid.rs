//! The progress grid's model, without a browser: the columns of its three tables, a row's cells as
//! the text typed into them, that text read back into values and checked, and pasted blocks spread
//! over the cells.

use super::{
    check_milestone_progress, check_risk_assessment, check_task_progress, parse_number,
    parse_optional_date, CellProblem, MilestoneProgress, RiskAssessment, TaskProgress,
};

/// The grid's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Tasks,
    Milestones,
    Risks,
}

/// What a cell takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Number,
    Date,
    Text,
    /// `open`, `mitigating` or `closed`.
    Status,
}

/// One editable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The field's name, as problems name it.
    pub field: &'static str,
    pub label: &'static str,
    pub input: Input,
}

const fn column(field: &'static str, label: &'static str, input: Input) -> Column {
    Column {
        field,
        label,
        input,
    }
}

const TASKS: [Column; 5] = [
    column("percent_complete", "% complete", Input::Number),
    column("actual_start", "Actual start", Input::Date),
    column("actual_finish", "Actual finish", Input::Date),
    column("actual_cost", "Actual cost", Input::Number),
    column("remaining_days", "Remaining (days)", Input::Number),
];

const MILESTONES: [Column; 2] = [
    column("forecast_date", "Forecast", Input::Date),
    column("actual_date", "Reached on", Input::Date),
];

const RISKS: [Column; 6] = [
    column("probability", "Probability (0–1)", Input::Number),
    column("cost_impact", "Cost impact", Input::Number),
    column("schedule_impact_days", "Delay (days)", Input::Number),
    column("owner", "Owner", Input::Text),
    column("mitigation", "Response", Input::Text),
    column("status", "Status", Input::Status),
];

/// What the grid calls a field in its messages: the column's heading (the fields of new rows
/// have theirs), or the field's name in words.
pub fn field_label(field: &str) -> String {
    let heading = [&TASKS[..], &MILESTONES[..], &RISKS[..]]
        .into_iter()
        .flatten()
        .find(|c| c.field == field)
        .map(|c| c.label);
    // The add-row forms' labels.
    let other = match field {
        "name" => Some("Milestone"),
        "title" => Some("Risk"),
        "baseline_date" => Some("Baseline date"),
        "affected_tasks" => Some("Affects (WBS codes)"),
        _ => None,
    };
    match heading.or(other) {
        Some(label) => label.to_string(),
        None => crate::format::sentence_case(&field.replace('_', " ")),
    }
}

impl Table {
    /// The table's editable columns, in order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Tasks => &TASKS,
            Table::Milestones => &MILESTONES,
            Table::Risks => &RISKS,
        }
    }

    /// What a row is called in messages (`task 1.4`).
    pub fn noun(self) -> &'static str {
        match self {
            Table::Tasks => "task",
            Table::Milestones => "milestone",
            Table::Risks => "risk",
        }
    }
}

/// A number as a cell shows it: no trailing zeros, no exponent.
pub fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn date_text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// A task's progress as the grid's cells.
pub fn task_texts(p: &TaskProgress) -> Vec<String> {
    vec![
        number_text(p.percent_complete),
        date_text(&p.actual_start),
        date_text(&p.actual_finish),
        number_text(p.actual_cost),
        p.remaining_days.map(number_text).unwrap_or_default(),
    ]
}

/// A milestone's dates as the grid's cells.
pub fn milestone_texts(p: &MilestoneProgress) -> Vec<String> {
    vec![p.forecast_date.clone(), date_text(&p.actual_date)]
}

/// A risk's assessment as the grid's cells.
pub fn risk_texts(r: &RiskAssessment) -> Vec<String> {
    vec![
        number_text(r.probability),
        number_text(r.cost_impact),
        number_text(r.schedule_impact_days),
        r.owner.clone(),
        r.mitigation.clone(),
        r.status.clone(),
    ]
}

/// Reads the numbers of a row's cells; a cell that is not a number is a problem.
fn numbers<const N: usize>(
    texts: &[String],
    at: [(usize, &'static str); N],
    problems: &mut Vec<CellProblem>,
) -> [f64; N] {
    at.map(|(i, field)| {
        let text = texts.get(i).map(String::as_str).unwrap_or("");
        parse_number(text).unwrap_or_else(|| {
            problems.push(CellProblem {
                field,
                message: format!("must be a number, not '{}'", text.trim()),
            });
            0.0
        })
    })
}

fn cell(texts: &[String], i: usize) -> &str {
    texts.get(i).map(String::as_str).unwrap_or("")
}

/// A task row's cells read and checked: its progress, or every problem.
pub fn read_task(texts: &[String], status_date: &str) -> Result<TaskProgress, Vec<CellProblem>> {
    let mut problems = Vec::new();
    let [percent, cost] = numbers(
        texts,
        [(0, "percent_complete"), (3, "actual_cost")],
        &mut problems,
    );
    // A blank remaining duration is no estimate (not zero days).
    let remaining = cell(texts, 4).trim();
    let remaining_days = if remaining.is_empty() {
        None
    } else {
        let parsed = parse_number(remaining);
        if parsed.is_none() {
            problems.push(CellProblem {
                field: "remaining_days",
                message: format!("must be a number, not '{remaining}'"),
            });
        }
        parsed
    };
    let progress = TaskProgress {
        percent_complete: percent,
        actual_start: parse_optional_date(cell(texts, 1)),
        actual_finish: parse_optional_date(cell(texts, 2)),
        actual_cost: cost,
        remaining_days,
    };
    problems.extend(check_task_progress(&progress, Some(status_date)));
    if problems.is_empty() {
        Ok(progress)
    } else {
        Err(problems)
    }
}

/// A milestone row's cells read and checked.
pub fn read_milestone(texts: &[String]) -> Result<MilestoneProgress, Vec<CellProblem>> {
    let progress = MilestoneProgress {
        forecast_date: cell(texts, 0).trim().to_string(),
        actual_date: parse_optional_date(cell(texts, 1)),
    };
    let problems = check_milestone_progress(&progress);
    if problems.is_empty() {
        Ok(progress)
    } else {
        Err(problems)
    }
}

/// A risk row's cells read and checked.
pub fn read_risk(texts: &[String]) -> Result<RiskAssessment, Vec<CellProblem>> {
    let mut problems = Vec::new();
    let [probability, cost, days] = numbers(
        texts,
        [
            (0, "probability"),
            (1, "cost_impact"),
            (2, "schedule_impact_days"),
        ],
        &mut problems,
    );
    let assessment = RiskAssessment {
        probability,
        cost_impact: cost,
        schedule_impact_days: days,
        owner: cell(texts, 3).trim().to_string(),
        mitigation: cell(texts, 4).trim().to_string(),
        status: cell(texts, 5).trim().to_ascii_lowercase(),
    };
    problems.extend(check_risk_assessment(&assessment));
    if problems.is_empty() {
        Ok(assessment)
    } else {
        Err(problems)
    }
}

/// Where each pasted cell goes: `(row, column, text)`, starting at `(row, column)` and clipped to a
/// table of `rows` rows and `columns` columns.
pub fn spread_paste(
    block: &[Vec<String>],
    row: usize,
    column: usize,
    rows: usize,
    columns: usize,
) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for (r, cells) in block.iter().enumerate() {
        for (c, text) in cells.iter().enumerate() {
            let (at_row, at_column) = (row + r, column + c);
            if at_row < rows && at_column < columns {
                out.push((at_row, at_column, text.trim().to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cells_round_trip_through_text() {
        let p = TaskProgress {
            percent_complete: 42.5,
            actual_start: Some("2026-10-01".into()),
            actual_finish: None,
            actual_cost: 12_000.0,
            remaining_days: Some(12.5),
        };
        assert_eq!(
            task_texts(&p),
            texts(&["42.5", "2026-10-01", "", "12000", "12.5"])
        );
        assert_eq!(read_task(&task_texts(&p), "2026-10-31"), Ok(p.clone()));
        // A blank remaining duration is none, not zero.
        let blank = texts(&["42.5", "2026-10-01", "", "12000", ""]);
        assert_eq!(
            read_task(&blank, "2026-10-31").map(|t| t.remaining_days),
            Ok(None)
        );
        let bad = read_task(
            &texts(&["100", "2026-10-01", "2026-10-20", "1", "4"]),
            "2026-10-31",
        )
        .expect_err("remaining days on a finished task");
        assert_eq!(bad[0].field, "remaining_days");
        let r = RiskAssessment {
            probability: 0.35,
            cost_impact: 50_000.0,
            schedule_impact_days: 10.0,
            owner: "Kim".into(),
            mitigation: "Second supplier".into(),
            status: "open".into(),
        };
        assert_eq!(read_risk(&risk_texts(&r)), Ok(r));
        assert_eq!(number_text(0.1 + 0.2), "0.3");
    }

    #[test]
    fn a_row_lists_every_problem_of_its_cells() {
        let problems = read_task(&texts(&["lots", "2026-11-05", "", "-3"]), "2026-10-31")
            .expect_err("bad row");
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            vec!["percent_complete", "actual_cost", "actual_start"]
        );
        assert_eq!(problems[0].message, "must be a number, not 'lots'");
        assert!(read_risk(&texts(&["0.5", "0", "0", "", "", "maybe"])).is_err());
        assert!(read_milestone(&texts(&["2027-01-15", ""])).is_ok());
    }

    #[test]
    fn a_pasted_block_fills_from_the_cell_and_stays_inside_the_table() {
        let block = vec![
            texts(&["50", "2026-10-01"]),
            texts(&["100", "2026-09-01", "x", "y", "z"]),
        ];
        let placed = spread_paste(&block, 2, 2, 3, 4);
        assert_eq!(
            placed,
            vec![(2, 2, "50".to_string()), (2, 3, "2026-10-01".to_string()),]
        );
        assert_eq!(spread_paste(&block, 0, 0, 10, 4).len(), 6);
    }
}
