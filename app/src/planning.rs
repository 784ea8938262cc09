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
    pub format: PlanFormat,
    /// The file's text (or what was typed).
    pub plan: String,
}

/// Largest plan text accepted from the form (a server function's body is at most 1 MB; the import
/// API takes plans up to 8 MB).
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
    if let Err(e) = crate::project::check_project_code(&p.code) {
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

    fn form() -> NewProject {
        NewProject {
            code: "NEW1".into(),
            name: "New warehouse".into(),
            manager: "Pat Lee".into(),
            currency: "EUR".into(),
            start_date: "2026-09-01".into(),
            target_finish: "2027-06-30".into(),
            budget_at_completion: None,
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
