//! Starting a month's report and creating a project: wire types and the checks both ends share.

use serde::{Deserialize, Serialize};

use crate::calendar::Date;

/// A report template someone starting a report can pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateChoice {
    pub id: i64,
    pub name: String,
    /// Its section titles, in order.
    pub sections: Vec<String>,
}

/// A new report: the project, the month and the template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportStart {
    pub code: String,
    /// `YYYY-MM`.
    pub period: String,
    pub template_id: i64,
}

/// The report a start made (a draft).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartedReport {
    pub report_id: i64,
    pub period: String,
}

/// Where a new project's plan comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanFormat {
    /// A `pmr.project/v1` document: its tasks, milestones and risks are taken (its header is
    /// replaced by the form's).
    Json,
    /// A task list as CSV, with its header row (as exported, or typed in).
    Csv,
}

/// A new project as the form sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewProject {
    pub code: String,
    pub name: String,
    pub manager: String,
    /// ISO 4217, three capital letters.
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    pub target_finish: String,
    /// The budget at completion; `None`: the sum of the tasks' budgets.
    pub budget_at_completion: Option<f64>,
    /// Working days, holidays and the reporting day.
    #[serde(default)]
    pub calendar: ProjectCalendar,
    pub format: PlanFormat,
    /// The file's text (or what was typed).
    pub plan: String,
}

/// The days of the week, in the order and spelling a calendar uses.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Most holidays one calendar may list.
pub const MAX_HOLIDAYS: usize = 1_000;
/// The reporting day that means each month's last day.
pub const LAST_DAY: u8 = 31;

/// A project code as the imports accept it: 1–16 letters, digits, `-` or `_`. The error is a
/// sentence for the reader.
pub fn check_project_code(code: &str) -> Result<(), String> {
    let ok = !code.is_empty()
        && code.len() <= 16
        && code
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if ok {
        Ok(())
    } else {
        Err("A project code is 1 to 16 letters, digits, '-' or '_'.".into())
    }
}

/// A project's calendar: which days of the week are worked, the holidays, and the day of the month
/// a month's report is true of. Durations, planned value and the simulation's finish dates count
/// working days of this calendar; a report's status date is its month's reporting day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectCalendar {
    /// Three-letter lowercase names (`mon` … `sun`); at least one.
    pub working_days: Vec<String>,
    /// `YYYY-MM-DD`, at most [`MAX_HOLIDAYS`].
    #[serde(default)]
    pub holidays: Vec<String>,
    /// 1–31: the status date of a month's report is this day of the month, or the month's last day
    /// when the month is shorter (31, the default, is always the last day).
    #[serde(default = "last_day")]
    pub reporting_day: u8,
}

fn last_day() -> u8 {
    LAST_DAY
}

impl Default for ProjectCalendar {
    /// Monday to Friday, no holidays, reports as of each month's last day.
    fn default() -> Self {
        ProjectCalendar {
            working_days: WEEKDAYS[..5].iter().map(|d| d.to_string()).collect(),
            holidays: Vec::new(),
            reporting_day: LAST_DAY,
        }
    }
}

impl ProjectCalendar {
    /// Which days of the week are worked, Monday first.
    pub fn week(&self) -> [bool; 7] {
        WEEKDAYS.map(|d| self.working_days.iter().any(|w| w == d))
    }

    /// The same calendar written the one way: weekdays in order, holidays sorted without repeats.
    pub fn tidy(mut self) -> Self {
        let week = self.week();
        self.working_days = WEEKDAYS
            .iter()
            .zip(week)
            .filter(|(_, on)| *on)
            .map(|(d, _)| d.to_string())
            .collect();
        self.holidays = self.holidays.iter().map(|h| h.trim().to_string()).collect();
        self.holidays.sort();
        self.holidays.dedup();
        self
    }

    /// Each problem as (field, sentence).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Some(bad) = self
            .working_days
            .iter()
            .find(|d| !WEEKDAYS.contains(&d.as_str()))
        {
            problems.push((
                "working_days",
                format!(
                    "'{bad}' is not a day of the week: write mon, tue, wed, thu, fri, sat or sun"
                ),
            ));
        } else if self.working_days.is_empty() {
            problems.push((
                "working_days",
                "at least one day of the week must be worked".into(),
            ));
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            problems.push((
                "holidays",
                format!(
                    "at most {MAX_HOLIDAYS} holidays, not {}",
                    self.holidays.len()
                ),
            ));
        } else if let Some(bad) = self
            .holidays
            .iter()
            .find(|h| Date::parse_iso(h.trim()).is_none_or(|d| !(1900..=2200).contains(&d.year())))
        {
            problems.push((
                "holidays",
                format!("'{bad}' is not a date as YYYY-MM-DD between 1900 and 2200"),
            ));
        }
        if !(1..=LAST_DAY).contains(&self.reporting_day) {
            problems.push((
                "reporting_day",
                format!(
                    "must be a day of the month, 1 to 31, not {}",
                    self.reporting_day
                ),
            ));
        }
        problems
    }

    /// The status date of the month `period` (`YYYY-MM`): its reporting day, or its last day.
    pub fn status_date(&self, period: &str) -> Option<Date> {
        let first = Date::parse_period(period)?;
        let last = crate::calendar::days_in_month(first.year(), first.month());
        Date::new(
            first.year(),
            first.month(),
            u32::from(self.reporting_day).min(last),
        )
    }

    /// The latest status date on or before `today`: this month's reporting day once it has come,
    /// else last month's.
    pub fn latest_status_date(&self, today: Date) -> Option<Date> {
        let this = self.status_date(&today.iso()[..7])?;
        if this <= today {
            return Some(this);
        }
        let previous = today.previous_month();
        self.status_date(&previous.iso()[..7])
    }

    /// A short description: "Mon–Fri · 3 holidays · status on each month's last day".
    pub fn describe(&self) -> String {
        let week = self.week();
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let days = match week {
            [true, true, true, true, true, false, false] => "Mon–Fri".to_string(),
            [true, true, true, true, true, true, false] => "Mon–Sat".to_string(),
            [true, true, true, true, true, true, true] => "every day".to_string(),
            _ => names
                .iter()
                .zip(week)
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        };
        let holidays = match self.holidays.len() {
            0 => "no holidays".to_string(),
            1 => "1 holiday".to_string(),
            n => format!("{n} holidays"),
        };
        let day = if self.reporting_day >= 28 && self.reporting_day == LAST_DAY {
            "status on each month's last day".to_string()
        } else {
            format!(
                "status on day {} of each month{}",
                self.reporting_day,
                if self.reporting_day > 28 {
                    " (or its last day)"
                } else {
                    ""
                }
            )
        };
        format!("{days} · {holidays} · {day}")
    }
}

/// The kind of date constraint a scheduling tool put on a task (Microsoft Project's constraint
/// types, P6's primary constraints). PMR keeps it as data: it is shown and exported, and the
/// schedule analysis does not enforce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    AsLateAsPossible,
    MustStartOn,
    MustFinishOn,
    StartNoEarlierThan,
    StartNoLaterThan,
    FinishNoEarlierThan,
    FinishNoLaterThan,
    MandatoryStart,
    MandatoryFinish,
}

impl ConstraintKind {
    /// Every kind, in the order of Microsoft Project's constraint types.
    pub const ALL: [ConstraintKind; 9] = [
        ConstraintKind::AsLateAsPossible,
        ConstraintKind::MustStartOn,
        ConstraintKind::MustFinishOn,
        ConstraintKind::StartNoEarlierThan,
        ConstraintKind::StartNoLaterThan,
        ConstraintKind::FinishNoEarlierThan,
        ConstraintKind::FinishNoLaterThan,
        ConstraintKind::MandatoryStart,
        ConstraintKind::MandatoryFinish,
    ];

    /// As written in files and the store: `finish_no_later_than`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintKind::AsLateAsPossible => "as_late_as_possible",
            ConstraintKind::MustStartOn => "must_start_on",
            ConstraintKind::MustFinishOn => "must_finish_on",
            ConstraintKind::StartNoEarlierThan => "start_no_earlier_than",
            ConstraintKind::StartNoLaterThan => "start_no_later_than",
            ConstraintKind::FinishNoEarlierThan => "finish_no_earlier_than",
            ConstraintKind::FinishNoLaterThan => "finish_no_later_than",
            ConstraintKind::MandatoryStart => "mandatory_start",
            ConstraintKind::MandatoryFinish => "mandatory_finish",
        }
    }

    /// The kind [`Self::as_str`] writes.
    pub fn parse(text: &str) -> Option<ConstraintKind> {
        ConstraintKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// In words, as the tools call it.
    pub fn label(self) -> &'static str {
        match self {
            ConstraintKind::AsLateAsPossible => "As late as possible",
            ConstraintKind::MustStartOn => "Must start on",
            ConstraintKind::MustFinishOn => "Must finish on",
            ConstraintKind::StartNoEarlierThan => "Start no earlier than",
            ConstraintKind::StartNoLaterThan => "Start no later than",
            ConstraintKind::FinishNoEarlierThan => "Finish no earlier than",
            ConstraintKind::FinishNoLaterThan => "Finish no later than",
            ConstraintKind::MandatoryStart => "Mandatory start",
            ConstraintKind::MandatoryFinish => "Mandatory finish",
        }
    }

    /// Whether the constraint is about a date (all but "as late as possible").
    pub fn dated(self) -> bool {
        self != ConstraintKind::AsLateAsPossible
    }
}

/// A task's date constraint, kept as the scheduling tool had it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConstraint {
    pub kind: ConstraintKind,
    /// `YYYY-MM-DD`; present exactly when the kind is dated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

impl TaskConstraint {
    /// "Finish no later than 2026-03-01".
    pub fn describe(&self) -> String {
        match &self.date {
            Some(date) => format!("{} {date}", self.kind.label()),
            None => self.kind.label().to_string(),
        }
    }
}

/// Largest plan text accepted from the form (a server function's body is at most 1 MB; the import
/// API takes plans up to 64 MiB).
pub const MAX_PLAN_BYTES: usize = 960 * 1024;

/// What creating a project did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedProject {
    pub code: String,
    pub tasks: usize,
    pub milestones: usize,
    pub risks: usize,
}

/// Checks a month someone may start a report for: a real `YYYY-MM`, not before the project's start
/// month and not after the current month (`today`, `YYYY-MM-DD`).
pub fn check_period(period: &str, project_start: &str, today: &str) -> Result<(), String> {
    let month = Date::parse_period(period)
        .ok_or_else(|| format!("The month must be written YYYY-MM, not '{period}'."))?;
    if let Some(start) = Date::parse_iso(project_start) {
        if period < &project_start[..7] {
            return Err(format!(
                "{} is before the project started ({}).",
                month.month_and_year(),
                start.month_and_year()
            ));
        }
    }
    if today.len() >= 7 && period > &today[..7] {
        return Err(format!(
            "{} has not begun yet: a report covers a month that has started.",
            month.month_and_year()
        ));
    }
    Ok(())
}

/// Checks the form's own fields (the plan is checked by the import's validation). Every problem,
/// each as a sentence.
pub fn check_new_project(p: &NewProject) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = check_project_code(&p.code) {
        problems.push(e);
    }
    for (label, value) in [("name", &p.name), ("manager", &p.manager)] {
        if value.trim().is_empty() {
            problems.push(format!("The project's {label} must not be empty."));
        } else if value.chars().count() > 500 {
            problems.push(format!(
                "The project's {label} is longer than 500 characters."
            ));
        }
    }
    if p.currency.len() != 3 || !p.currency.chars().all(|c| c.is_ascii_uppercase()) {
        problems.push("The currency is a three-letter code such as EUR or USD.".into());
    }
    let start = Date::parse_iso(&p.start_date);
    let finish = Date::parse_iso(&p.target_finish);
    if start.is_none() {
        problems.push("The start date must be a date as YYYY-MM-DD.".into());
    }
    if finish.is_none() {
        problems.push("The target finish must be a date as YYYY-MM-DD.".into());
    }
    if let (Some(s), Some(f)) = (start, finish) {
        if f < s {
            problems.push("The target finish is before the start date.".into());
        }
    }
    if let Some(bac) = p.budget_at_completion {
        if !bac.is_finite() || !(0.0..=1e12).contains(&bac) {
            problems.push("The budget must be between 0 and 1000000000000.".into());
        }
    }
    for (field, problem) in p.calendar.problems() {
        let label = match field {
            "working_days" => "Working days",
            "holidays" => "Holidays",
            _ => "The reporting day",
        };
        problems.push(format!("{label}: {problem}."));
    }
    if p.plan.trim().is_empty() {
        problems.push("Choose the plan's file, or type its tasks in.".into());
    } else if p.plan.len() > MAX_PLAN_BYTES {
        problems.push(format!(
            "The plan is larger than {} KB: import it with the API (POST /api/projects/import).",
            MAX_PLAN_BYTES / 1024
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_kinds_read_back_what_they_write() {
        for kind in ConstraintKind::ALL {
            assert_eq!(ConstraintKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).expect("serialises");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(ConstraintKind::parse("Must Finish On"), None);
        let c = TaskConstraint {
            kind: ConstraintKind::FinishNoLaterThan,
            date: Some("2026-03-01".into()),
        };
        assert_eq!(c.describe(), "Finish no later than 2026-03-01");
    }

    fn form() -> NewProject {
        NewProject {
            code: "NEW1".into(),
            name: "New warehouse".into(),
            manager: "Pat Lee".into(),
            currency: "EUR".into(),
            start_date: "2026-09-01".into(),
            target_finish: "2027-06-30".into(),
            budget_at_completion: None,
            calendar: ProjectCalendar::default(),
            format: PlanFormat::Csv,
            plan: "wbs,name\n".into(),
        }
    }

    #[test]
    fn a_complete_form_passes() {
        assert!(check_new_project(&form()).is_empty());
    }

    #[test]
    fn every_problem_of_a_form_is_listed() {
        let bad = NewProject {
            code: "no spaces".into(),
            name: " ".into(),
            currency: "euro".into(),
            target_finish: "2026-08-01".into(),
            budget_at_completion: Some(-5.0),
            plan: String::new(),
            ..form()
        };
        let problems = check_new_project(&bad);
        assert_eq!(problems.len(), 6, "{problems:?}");
        assert!(problems.contains(&"The target finish is before the start date.".to_string()));
    }

    #[test]
    fn a_calendar_is_checked_and_written_one_way() {
        let calendar = ProjectCalendar {
            working_days: vec!["sat".into(), "mon".into(), "tue".into()],
            holidays: vec![
                " 2026-12-25".into(),
                "2026-01-01".into(),
                "2026-12-25".into(),
            ],
            reporting_day: 15,
        }
        .tidy();
        assert_eq!(calendar.working_days, ["mon", "tue", "sat"]);
        assert_eq!(calendar.holidays, ["2026-01-01", "2026-12-25"]);
        assert!(calendar.problems().is_empty());
        assert_eq!(
            calendar.describe(),
            "Mon, Tue, Sat · 2 holidays · status on day 15 of each month"
        );
        assert_eq!(
            ProjectCalendar::default().describe(),
            "Mon–Fri · no holidays · status on each month's last day"
        );
        let bad = ProjectCalendar {
            working_days: vec!["funday".into()],
            holidays: vec!["2026-02-30".into()],
            reporting_day: 0,
        };
        let fields: Vec<_> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["working_days", "holidays", "reporting_day"]);
        let idle = ProjectCalendar {
            working_days: Vec::new(),
            ..ProjectCalendar::default()
        };
        assert_eq!(
            idle.problems()[0].1,
            "at least one day of the week must be worked"
        );
        let bad_form = NewProject {
            calendar: bad,
            ..form()
        };
        assert_eq!(check_new_project(&bad_form).len(), 3);
    }

    #[test]
    fn a_status_date_is_the_reporting_day_or_the_month_end() {
        let iso = |d: Option<Date>| d.map(Date::iso);
        let standard = ProjectCalendar::default();
        assert_eq!(
            iso(standard.status_date("2026-02")).as_deref(),
            Some("2026-02-28")
        );
        assert_eq!(
            iso(standard.status_date("2028-02")).as_deref(),
            Some("2028-02-29")
        );
        let on_30th = ProjectCalendar {
            reporting_day: 30,
            ..ProjectCalendar::default()
        };
        assert_eq!(
            iso(on_30th.status_date("2026-02")).as_deref(),
            Some("2026-02-28")
        );
        assert_eq!(
            iso(on_30th.status_date("2026-12")).as_deref(),
            Some("2026-12-30")
        );
        assert_eq!(standard.status_date("2026-13"), None);
        let day = |s: &str| Date::parse_iso(s).expect("date");
        let on_25th = ProjectCalendar {
            reporting_day: 25,
            ..ProjectCalendar::default()
        };
        assert_eq!(
            iso(on_25th.latest_status_date(day("2026-12-25"))).as_deref(),
            Some("2026-12-25")
        );
        assert_eq!(
            iso(on_25th.latest_status_date(day("2026-12-24"))).as_deref(),
            Some("2026-11-25")
        );
        assert_eq!(
            iso(on_25th.latest_status_date(day("2026-01-03"))).as_deref(),
            Some("2025-12-25")
        );
        assert_eq!(
            iso(standard.latest_status_date(day("2026-12-05"))).as_deref(),
            Some("2026-11-30")
        );
        assert_eq!(
            iso(standard.latest_status_date(day("2026-12-31"))).as_deref(),
            Some("2026-12-31")
        );
    }

    #[test]
    fn a_report_month_has_begun_and_follows_the_start() {
        assert!(check_period("2026-11", "2026-01-05", "2026-12-04").is_ok());
        assert!(check_period("2026-12", "2026-01-05", "2026-12-04").is_ok());
        assert_eq!(
            check_period("2027-01", "2026-01-05", "2026-12-04").expect_err("refused"),
            "January 2027 has not begun yet: a report covers a month that has started."
        );
        assert_eq!(
            check_period("2025-12", "2026-01-05", "2026-12-04").expect_err("refused"),
            "December 2025 is before the project started (January 2026)."
        );
        assert!(check_period("2026-13", "2026-01-05", "2026-12-04").is_err());
    }
}
