//! Data that crosses the wire between server and browser: the portfolio overview and the outline of a
//! report. Plain serde structs and enums with their display helpers; no I/O. The server's store builds
//! them, server functions send them, components render them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Red/amber/green status of one dimension of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rag {
    Green,
    Amber,
    Red,
}

/// How soon a report section loads: `high` at once (and in the server-rendered HTML), `medium` when
/// near the viewport, `low` when it enters the viewport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    High,
    Medium,
    Low,
}

/// Lifecycle of a monthly report: drafts can be edited, final reports are frozen snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    Draft,
    Final,
}

/// What a user may do: read reports (viewer), edit them (editor), or also run the admin dashboard and
/// manage accounts (admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

/// The error of parsing one of this module's enums from its stored text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}'")]
pub struct ParseEnumError {
    kind: &'static str,
    value: String,
}

macro_rules! text_enum {
    ($ty:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The lowercase text form used in the store, URLs and JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err(ParseEnumError { kind: $kind, value: other.to_string() }),
                }
            }
        }
    };
}

text_enum!(Rag, "RAG status", { Green => "green", Amber => "amber", Red => "red" });
text_enum!(Priority, "priority", { High => "high", Medium => "medium", Low => "low" });
text_enum!(ReportStatus, "report status", { Draft => "draft", Final => "final" });
text_enum!(Role, "role", { Viewer => "viewer", Editor => "editor", Admin => "admin" });

impl Rag {
    /// Words for a reader, e.g. in a badge's accessible label.
    pub fn label(self) -> &'static str {
        match self {
            Rag::Green => "On track",
            Rag::Amber => "At risk",
            Rag::Red => "Off track",
        }
    }
}

/// A monthly period, `YYYY-MM`, with a human label.
pub fn period_label(period: &str) -> String {
    crate::calendar::Date::parse_period(period)
        .map_or_else(|| period.to_string(), crate::calendar::Date::month_and_year)
}

/// What a section of the given type contains, in one sentence for readers.
pub fn section_description(section_type: &str) -> &'static str {
    match section_type {
        "executive_summary" => "The month in a few paragraphs, with declared and computed status side by side.",
        "key_metrics" => "Earned value and earned schedule: CPI, SPI, SPI(t), EAC, VAC, TCPI and progress.",
        "ai_insights" => "Findings on cost, schedule, risk and data quality, each with evidence and an action.",
        "monte_carlo" => "Simulated finish date and cost: confidence levels, S-curves and the most sensitive tasks.",
        "charts" => "Planned value, earned value and actual cost over time, and milestone slip.",
        "milestones" => "Baseline, forecast and actual dates of each milestone, with slip.",
        "risks" => "Open risks by probability and impact, with owners and mitigations.",
        "appendix" => "The task table behind the figures.",
        _ => "Additional material for this report.",
    }
}

/// One report in a project's list of reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportLink {
    pub id: i64,
    /// The month reported on, `YYYY-MM`.
    pub period: String,
    pub status: ReportStatus,
    /// The month's revision: 1, or the correction's number.
    #[serde(default = "first_revision")]
    pub revision: i64,
}

/// A project as the portfolio page lists it, with its reports, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub manager: String,
    pub currency: String,
    /// Budget at completion, in `currency`.
    pub budget: f64,
    pub start_date: String,
    pub target_finish: String,
    /// Overall status as declared by the project manager.
    pub declared_overall: Rag,
    pub status_justification: String,
    /// Overall status computed from the figures in the latest report, when it could be judged.
    pub computed_overall: Option<Rag>,
    /// The lower of CPI and SPI(t) in the latest report: one figure for "how well is it going".
    pub performance: Option<f64>,
    /// How that figure moved since the report before.
    pub trend: Trend,
    pub reports: Vec<ReportLink>,
}

/// How a project's performance index moved between its last two reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Improving,
    Steady,
    Worsening,
    /// Fewer than two reports with figures.
    Unknown,
}

impl Trend {
    /// The trend from the previous report's index to the latest one: a change of 0.02 or more
    /// either way counts, anything smaller is steady.
    pub fn between(previous: Option<f64>, latest: Option<f64>) -> Trend {
        match (previous, latest) {
            (Some(p), Some(l)) if l - p >= 0.02 => Trend::Improving,
            (Some(p), Some(l)) if p - l >= 0.02 => Trend::Worsening,
            (Some(_), Some(_)) => Trend::Steady,
            _ => Trend::Unknown,
        }
    }

    /// The trend's name, for styling.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Improving => "improving",
            Trend::Steady => "steady",
            Trend::Worsening => "worsening",
            Trend::Unknown => "unknown",
        }
    }

    /// An arrow and words, e.g. `("↗", "improving")`.
    pub fn arrow(self) -> (&'static str, &'static str) {
        match self {
            Trend::Improving => ("↗", "improving"),
            Trend::Steady => ("→", "steady"),
            Trend::Worsening => ("↘", "worsening"),
            Trend::Unknown => ("·", "no trend yet"),
        }
    }
}

/// A portfolio and its projects, ordered by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    pub name: String,
    pub projects: Vec<ProjectSummary>,
    /// Whether the caller may create a project (an admin, or an editor an admin allowed to).
    #[serde(default)]
    pub may_create_projects: bool,
}

/// A whole report as the REST API serves it: the outline and each section's stored content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDocument {
    pub outline: ReportOutline,
    pub sections: Vec<SectionDocument>,
}

/// One section's stored content (the JSON of its type in [`crate::sections`]) and narrative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionDocument {
    pub key: String,
    pub content: serde_json::Value,
    pub narrative: String,
    /// Incremented by every edit.
    pub version: i64,
    /// RFC 3339.
    pub updated_at: String,
}

/// How long each step of a report's generation took, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationTimings {
    pub earned_value_ms: f64,
    pub monte_carlo_ms: f64,
    pub insights_ms: f64,
    pub total_ms: f64,
}

/// One entry of a report template: which section, where, and how soon it loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSection {
    /// Stable key, unique within the template, e.g. `executive-summary`.
    pub key: String,
    /// What the section shows: `executive_summary`, `key_metrics`, `ai_insights`, `monte_carlo`,
    /// `charts`, `milestones`, `risks` or `appendix`.
    #[serde(rename = "type")]
    pub section_type: String,
    pub title: String,
    pub priority: Priority,
}

/// A section of a report without its content: enough for a table of contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionOutline {
    pub id: i64,
    /// Stable key within the report, used as the HTML anchor (`#executive-summary`).
    pub key: String,
    pub section_type: String,
    pub title: String,
    pub priority: Priority,
    pub position: i64,
    /// How many entries (insight cards, table rows) the section's content lists, so that its
    /// placeholder has the content's height before the content loads: 0 for fixed-shape sections,
    /// `None` when the section has no content yet (or content that does not read).
    #[serde(default)]
    pub items: Option<u32>,
}

/// A report's header and its sections in template order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportOutline {
    pub id: i64,
    pub project_id: i64,
    pub project_code: String,
    pub project_name: String,
    pub period: String,
    pub status: ReportStatus,
    pub title: String,
    pub declared_overall: Rag,
    pub previous_report_id: Option<i64>,
    pub next_report_id: Option<i64>,
    /// The executive summary's narrative, when the report has been generated.
    pub summary: Option<String>,
    /// Who published the report (final reports published in PMR; `None` for drafts and for
    /// reports that came final from elsewhere, such as the demo's).
    #[serde(default)]
    pub published_by: Option<String>,
    /// When the report became final (RFC 3339).
    #[serde(default)]
    pub published_at: Option<String>,
    /// 1 for a month's first report; a correction is the next revision of the month.
    #[serde(default = "first_revision")]
    pub revision: i64,
    /// The published report this one corrects.
    #[serde(default)]
    pub corrects: Option<i64>,
    /// The published correction that replaced this report (which stays readable as it was).
    #[serde(default)]
    pub superseded_by: Option<i64>,
    /// A correction of this report being drafted.
    #[serde(default)]
    pub correction_draft: Option<i64>,
    pub sections: Vec<SectionOutline>,
}

fn first_revision() -> i64 {
    1
}

#[cfg(test)]
mod trend_tests {
    use super::Trend;

    #[test]
    fn trends_need_a_real_move() {
        assert_eq!(Trend::between(Some(0.80), Some(0.85)), Trend::Improving);
        assert_eq!(Trend::between(Some(0.85), Some(0.80)), Trend::Worsening);
        assert_eq!(Trend::between(Some(0.85), Some(0.86)), Trend::Steady);
        assert_eq!(Trend::between(None, Some(0.86)), Trend::Unknown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_text() {
        for rag in [Rag::Green, Rag::Amber, Rag::Red] {
            assert_eq!(rag.as_str().parse::<Rag>(), Ok(rag));
        }
        for p in [Priority::High, Priority::Medium, Priority::Low] {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
        assert_eq!("final".parse::<ReportStatus>(), Ok(ReportStatus::Final));
    }

    #[test]
    fn unknown_text_names_the_kind_and_value() {
        let err = "purple"
            .parse::<Rag>()
            .expect_err("purple is not a RAG status");
        assert_eq!(err.to_string(), "unknown RAG status 'purple'");
    }

    #[test]
    fn serde_uses_lowercase() {
        assert_eq!(
            serde_json::to_string(&Priority::Medium).expect("json"),
            "\"medium\""
        );
    }

    #[test]
    fn period_labels_read_as_month_and_year() {
        assert_eq!(period_label("2026-03"), "March 2026");
        assert_eq!(period_label("garbage"), "garbage");
    }
}
