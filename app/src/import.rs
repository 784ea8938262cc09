//! What an import of a scheduler's file answers, shared by the server (which builds it) and the project
//! page (which shows it): counts, the estimate rule, warnings and problems, each with its place.

use serde::{Deserialize, Serialize};

/// Longest text field of an imported project (a name, a manager), in characters.
pub const MAX_FIELD_CHARS: usize = 500;
/// Largest import body accepted (`POST /api/projects/import`): a Microsoft Project file of 50,000
/// tasks is about 40 MB (its XML repeats every field's name), the same plan as JSON about 20 MB.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// One problem (or warning) of an import, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `tasks[3].most_likely_days`, `row 5 (wbs 1.4), field percent_complete`, `task UID 12`, or
    /// `document`.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// How estimates are made for tasks whose file has none: the planned duration is the most likely,
/// the optimistic and pessimistic durations these fractions of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EstimateRule {
    pub optimistic: f64,
    pub pessimistic: f64,
}

impl Default for EstimateRule {
    /// 80 % and 150 % of the planned duration: work tends to overrun more than it underruns.
    fn default() -> Self {
        EstimateRule {
            optimistic: 0.8,
            pessimistic: 1.5,
        }
    }
}

impl EstimateRule {
    /// Checks a rule from outside: optimistic 0.1–1, pessimistic 1–5.
    pub fn checked(optimistic: Option<f64>, pessimistic: Option<f64>) -> Result<Self, Problem> {
        let d = EstimateRule::default();
        let rule = EstimateRule {
            optimistic: optimistic.unwrap_or(d.optimistic),
            pessimistic: pessimistic.unwrap_or(d.pessimistic),
        };
        if !(0.1..=1.0).contains(&rule.optimistic) {
            return Err(Problem {
                location: "optimistic".into(),
                message: format!(
                    "must be a fraction of the duration between 0.1 and 1, not {}",
                    rule.optimistic
                ),
            });
        }
        if !(1.0..=5.0).contains(&rule.pessimistic) {
            return Err(Problem {
                location: "pessimistic".into(),
                message: format!(
                    "must be a multiple of the duration between 1 and 5, not {}",
                    rule.pessimistic
                ),
            });
        }
        Ok(rule)
    }
}

/// What a scheduler file gave: counts and warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSummary {
    /// `Microsoft Project XML` or `Primavera P6 XER`.
    pub format: String,
    /// Tasks in the file (summaries and milestones included).
    pub read: usize,
    pub tasks: usize,
    pub milestones: usize,
    /// Summary tasks, which became WBS levels.
    pub summaries: usize,
    /// Dependencies kept (after joining through milestones).
    pub dependencies: usize,
    /// Tasks whose estimates came from the file's three-point fields.
    pub estimated_in_file: usize,
    /// Tasks whose estimates came from the rule.
    pub estimated_by_rule: usize,
    pub rule: EstimateRule,
    pub warnings: Vec<Problem>,
    /// Warnings beyond those listed.
    pub more_warnings: usize,
}

/// A project of a P6 XER file, for choosing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct P6Project {
    pub id: String,
    pub short_name: String,
    pub name: String,
    pub tasks: usize,
}

/// What a scheduler file's import did (or, as a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleImport {
    pub code: String,
    /// Whether the project is (or would be) new.
    pub created: bool,
    pub dry_run: bool,
    pub tasks: usize,
    pub milestones: usize,
    pub risks: usize,
    /// What the file held and what became of it.
    pub read: ScheduleSummary,
    /// The projects of an XER file, for choosing another.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub p6_projects: Vec<P6Project>,
}

/// A refused import's body: the message and the problems by place.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ImportRefusal {
    pub error: String,
    #[serde(default)]
    pub problems: Vec<Problem>,
    #[serde(default)]
    pub problem_count: Option<usize>,
    /// The projects of a P6 file whose chosen project was refused, to choose another.
    #[serde(default)]
    pub p6_projects: Vec<P6Project>,
}

/// The media type a file is sent as, by its name: `.xml` Microsoft Project XML, `.xer` P6,
/// `.json` a `pmr.project/v1` document; `None` for anything else.
pub fn media_type_for(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".xml") {
        Some("application/xml")
    } else if lower.ends_with(".xer") {
        Some("text/plain")
    } else if lower.ends_with(".json") {
        Some("application/json")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_sent_by_their_kind() {
        assert_eq!(media_type_for("Plan.XML"), Some("application/xml"));
        assert_eq!(media_type_for("export.xer"), Some("text/plain"));
        assert_eq!(media_type_for("p.json"), Some("application/json"));
        assert_eq!(media_type_for("plan.mpp"), None);
    }

    #[test]
    fn the_rule_is_bounded() {
        assert!(EstimateRule::checked(Some(0.05), None).is_err());
        assert!(EstimateRule::checked(None, Some(6.0)).is_err());
        assert_eq!(
            EstimateRule::checked(None, None),
            Ok(EstimateRule::default())
        );
    }
}
