//! The structured content of each report section type, as stored (JSON) in a section and rendered by
//! its component. The generator on the server writes these; a finalized report keeps them frozen.

use serde::{Deserialize, Serialize};

use crate::analysis::{EsMetrics, EvMetrics, InsightSet, MonteCarloResult, StatusCheck};
use crate::model::Rag;

/// `executive_summary`: the month in words, and declared against computed status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutiveSummary {
    pub status_date: String,
    pub overall_declared: Rag,
    pub overall_computed: Option<Rag>,
    pub justification: String,
    pub checks: Vec<StatusCheck>,
    /// Generated narrative; the editable copy lives in the section's narrative text.
    pub generated_narrative: String,
}

/// `key_metrics`: earned value and earned schedule at the status date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyMetrics {
    pub status_date: String,
    pub currency: String,
    pub ev: EvMetrics,
    pub es: EsMetrics,
    /// Finish date forecast by earned schedule (start + IEAC(t)), when defined.
    pub forecast_finish: Option<String>,
    pub target_finish: String,
    pub checks: Vec<StatusCheck>,
}

/// `monte_carlo`: the simulation and the dates its working-day figures stand for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonteCarloSection {
    pub status_date: String,
    pub target_finish: String,
    pub currency: String,
    pub p50_finish: String,
    pub p80_finish: String,
    pub p90_finish: String,
    pub result: MonteCarloResult,
    /// The plan's tasks, and how many of them have optimistic and pessimistic durations an
    /// import's rule derived from the planned duration (a scheduler's file without three-point
    /// estimates): the spread of those is assumed, and the section says so. Reports made before
    /// this was recorded read 0.
    #[serde(default)]
    pub tasks: usize,
    #[serde(default)]
    pub estimated_by_rule: usize,
}

impl MonteCarloSection {
    /// The section's words on where the estimates came from, when some were not estimated.
    pub fn estimates_note(&self) -> Option<String> {
        estimates_note(self.tasks, self.estimated_by_rule)
    }
}

fn estimates_note(tasks: usize, by_rule: usize) -> Option<String> {
    if by_rule == 0 {
        return None;
    }
    let which = match (by_rule == tasks, by_rule) {
        (true, 1) => "The plan's one task has".to_string(),
        (true, _) => format!("All {tasks} of the plan's tasks have"),
        (false, 1) => format!("One of the plan's {tasks} tasks has"),
        (false, n) => format!("{n} of the plan's {tasks} tasks have"),
    };
    Some(format!(
        "{which} optimistic and pessimistic durations derived by the import's rule from the planned duration, not estimated by the team: the spread of {} is assumed.",
        if by_rule == 1 { "its outcome" } else { "their outcomes" }
    ))
}

/// EVM figures at the end of one reported month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvmPoint {
    pub period: String,
    pub pv: f64,
    pub ev: f64,
    pub ac: f64,
}

/// A milestone's forecast as it stood in each report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneSlip {
    pub milestone: String,
    pub baseline: String,
    /// `(period, forecast date)`, oldest first.
    pub forecasts: Vec<(String, String)>,
}

/// `charts`: PV/EV/AC over time and milestone slip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charts {
    pub currency: String,
    pub evm_history: Vec<EvmPoint>,
    pub milestone_slip: Vec<MilestoneSlip>,
}

/// One milestone row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneRow {
    pub name: String,
    pub baseline: String,
    pub forecast: String,
    pub actual: Option<String>,
    /// Calendar days between baseline and forecast (or actual); positive is late.
    pub slip_days: i64,
}

/// `milestones`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestones {
    pub rows: Vec<MilestoneRow>,
}

/// One risk row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskRow {
    pub title: String,
    pub probability: f64,
    pub cost_impact: f64,
    pub schedule_impact_days: f64,
    /// Expected cost, probability × cost impact.
    pub exposure: f64,
    pub owner: String,
    pub mitigation: String,
    pub status: String,
    pub affected_tasks: Vec<String>,
}

/// `risks`: the register and a probability × impact heat map. `matrix[p][i]` counts open risks in
/// probability band `p` (0: < 0.2 … 4: ≥ 0.8) and cost-impact band `i` (share of budget: 0: < 1 %,
/// 1: < 2 %, 2: < 4 %, 3: < 8 %, 4: ≥ 8 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risks {
    pub currency: String,
    pub total_exposure: f64,
    pub rows: Vec<RiskRow>,
    pub matrix: [[u32; 5]; 5],
}

/// One task row of the appendix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    pub wbs: String,
    pub name: String,
    pub owner: String,
    pub planned_start: String,
    pub planned_finish: String,
    pub budgeted_cost: f64,
    pub actual_cost: f64,
    pub percent_complete: f64,
}

/// `appendix`: the task table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appendix {
    pub currency: String,
    pub tasks: Vec<TaskRow>,
}

/// `ai_insights` content is an [`InsightSet`].
pub type AiInsights = InsightSet;

/// A section's content, read by its section type.
#[derive(Debug, Clone, PartialEq)]
pub enum SectionContent {
    ExecutiveSummary(ExecutiveSummary),
    KeyMetrics(KeyMetrics),
    AiInsights(AiInsights),
    MonteCarlo(MonteCarloSection),
    Charts(Charts),
    Milestones(Milestones),
    Risks(Risks),
    Appendix(Appendix),
    /// Nothing generated yet, or a section type this version does not draw: the narrative only.
    Empty,
}

/// The section types this version draws, in template order.
pub const SECTION_TYPES: [&str; 8] = [
    "executive_summary",
    "key_metrics",
    "ai_insights",
    "monte_carlo",
    "charts",
    "milestones",
    "risks",
    "appendix",
];

impl SectionContent {
    /// Reads a section's stored JSON by its type. An empty object (a section never generated) and an
    /// unknown type read as [`SectionContent::Empty`]; a known type whose JSON does not fit is an
    /// error.
    pub fn parse(section_type: &str, json: &str) -> Result<SectionContent, serde_json::Error> {
        let trimmed = json.trim();
        if trimmed.is_empty() || trimmed == "{}" || trimmed == "null" {
            return Ok(SectionContent::Empty);
        }
        Ok(match section_type {
            "executive_summary" => SectionContent::ExecutiveSummary(serde_json::from_str(json)?),
            "key_metrics" => SectionContent::KeyMetrics(serde_json::from_str(json)?),
            "ai_insights" => SectionContent::AiInsights(serde_json::from_str(json)?),
            "monte_carlo" => SectionContent::MonteCarlo(serde_json::from_str(json)?),
            "charts" => SectionContent::Charts(serde_json::from_str(json)?),
            "milestones" => SectionContent::Milestones(serde_json::from_str(json)?),
            "risks" => SectionContent::Risks(serde_json::from_str(json)?),
            "appendix" => SectionContent::Appendix(serde_json::from_str(json)?),
            _ => SectionContent::Empty,
        })
    }

    /// How many entries the section lists in its variable-length part: insight cards, milestone
    /// and risk rows, criticality rows (Monte Carlo), tasks (the appendix, shown a page at a time);
    /// 0 for sections of a fixed shape, `None` for a section with no content yet. The reader's
    /// placeholder draws that many, so it takes the content's height before the content arrives.
    pub fn items(&self) -> Option<u32> {
        let n = match self {
            SectionContent::AiInsights(set) => set.insights.len(),
            SectionContent::MonteCarlo(mc) => mc.result.critical_tasks.len(),
            SectionContent::Milestones(m) => m.rows.len(),
            SectionContent::Risks(r) => r.rows.len(),
            SectionContent::Appendix(a) => a.tasks.len(),
            SectionContent::ExecutiveSummary(_)
            | SectionContent::KeyMetrics(_)
            | SectionContent::Charts(_) => 0,
            SectionContent::Empty => return None,
        };
        Some(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

/// A section's content as it travels to the browser: `{"type": ..., "data": ...}`, its type and its
/// data still in JSON. The browser decodes the data only in the code that draws that type, so the
/// decoders of the medium and low sections' types live in their own lazily loaded WASM chunks, not in
/// the WASM every report page loads first. The server makes one only from content that
/// [`SectionContent::parse`] accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SectionPayload {
    /// The section type, or `empty` for content not generated yet or of a type this version does
    /// not draw.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<Box<serde_json::value::RawValue>>,
}

/// The type of a payload with nothing to draw.
pub const EMPTY_SECTION: &str = "empty";

impl SectionPayload {
    /// A section's stored JSON, checked against its type: an error where [`SectionContent::parse`]
    /// refuses it.
    pub fn parse(section_type: &str, json: &str) -> Result<SectionPayload, serde_json::Error> {
        if SectionContent::parse(section_type, json)? == SectionContent::Empty {
            return Ok(SectionPayload {
                kind: EMPTY_SECTION.into(),
                data: None,
            });
        }
        Ok(SectionPayload {
            kind: section_type.into(),
            data: Some(serde_json::value::RawValue::from_string(
                json.trim().into(),
            )?),
        })
    }

    /// The section type (`empty` when there is nothing to draw).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The data, decoded as the type's content.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        let data = self
            .data
            .as_ref()
            .ok_or_else(|| format!("the {} section has no data", self.kind))?;
        serde_json::from_str(data.get())
            .map_err(|e| format!("the {} section's data does not read: {e}", self.kind))
    }
}

impl PartialEq for SectionPayload {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.data.as_ref().map(|d| d.get()) == other.data.as_ref().map(|d| d.get())
    }
}

/// One section of a report with its content, as the reader loads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSection {
    pub report_id: i64,
    pub key: String,
    pub section_type: String,
    pub title: String,
    pub content: SectionPayload,
    /// The editable text (the executive summary's narrative); empty for most sections.
    pub narrative: String,
    pub version: i64,
    pub updated_at: String,
}

/// Iterations a reader may ask a Monte Carlo rerun for.
pub const RERUN_MIN_ITERATIONS: u32 = 1_000;
pub const RERUN_MAX_ITERATIONS: u32 = 100_000;

/// A Monte Carlo rerun's result and how long the server took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonteCarloRerun {
    pub section: MonteCarloSection,
    /// Wall time of the request on the server (simulation, or the cache when the same run was made).
    pub elapsed_ms: f64,
    /// Whether the result came from the cache.
    pub cached: bool,
}

/// Longest section load time the browser may report, in milliseconds (ten minutes).
pub const MAX_SECTION_LOAD_MS: f64 = 600_000.0;

/// Checks a section key from outside: 1 to 64 characters of `a-z`, `0-9`, `-` and `_`.
pub fn check_section_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("A section key is 1 to 64 characters of a-z, 0-9, '-' and '_'".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulation_says_when_estimates_came_from_the_rule() {
        assert_eq!(estimates_note(5, 0), None);
        assert_eq!(
            estimates_note(5, 4).as_deref(),
            Some("4 of the plan's 5 tasks have optimistic and pessimistic durations derived by the import's rule from the planned duration, not estimated by the team: the spread of their outcomes is assumed.")
        );
        assert!(estimates_note(5, 1)
            .is_some_and(|n| n.starts_with("One of the plan's 5 tasks has")
                && n.ends_with("its outcome is assumed.")));
        assert!(
            estimates_note(3, 3).is_some_and(|n| n.starts_with("All 3 of the plan's tasks have"))
        );
        assert!(estimates_note(1, 1).is_some_and(|n| n.starts_with("The plan's one task has")));
    }

    #[test]
    fn contents_read_by_type() {
        assert_eq!(
            SectionContent::parse("risks", "{}").expect("empty"),
            SectionContent::Empty
        );
        assert_eq!(
            SectionContent::parse("future_type", r#"{"x":1}"#).expect("unknown"),
            SectionContent::Empty
        );
        let milestones = r#"{"rows":[{"name":"M1","baseline":"2026-01-05","forecast":"2026-01-09","actual":null,"slip_days":4}]}"#;
        match SectionContent::parse("milestones", milestones).expect("milestones") {
            SectionContent::Milestones(m) => assert_eq!(m.rows[0].slip_days, 4),
            other => panic!("read as {other:?}"),
        }
        assert!(SectionContent::parse("milestones", r#"{"rows":3}"#).is_err());
    }

    #[test]
    fn items_count_what_the_section_lists() {
        let two = r#"{"rows":[{"name":"M1","baseline":"2026-01-05","forecast":"2026-01-09","actual":null,"slip_days":4},
                              {"name":"M2","baseline":"2026-02-05","forecast":"2026-02-05","actual":null,"slip_days":0}]}"#;
        let milestones = SectionContent::parse("milestones", two).expect("milestones");
        assert_eq!(milestones.items(), Some(2));
        let insights = r#"{"engine":"rules-v1","fallback_reason":null,"insights":[]}"#;
        assert_eq!(
            SectionContent::parse("ai_insights", insights)
                .expect("insights")
                .items(),
            Some(0)
        );
        assert_eq!(SectionContent::Empty.items(), None);
    }

    #[test]
    fn payloads_carry_checked_data_to_decode_later() {
        let milestones = r#" {"rows":[{"name":"M1","baseline":"2026-01-05","forecast":"2026-01-05","actual":null,"slip_days":0}]} "#;
        let payload = SectionPayload::parse("milestones", milestones).expect("milestones");
        assert_eq!(payload.kind(), "milestones");
        let wire = serde_json::to_string(&payload).expect("json");
        assert!(
            wire.starts_with(r#"{"type":"milestones","data":{"rows":"#),
            "{wire}"
        );
        let back: SectionPayload = serde_json::from_str(&wire).expect("back");
        assert_eq!(back, payload);
        let rows: Milestones = back.decode().expect("decodes");
        assert_eq!(rows.rows[0].name, "M1");
        assert!(
            back.decode::<Risks>().is_err(),
            "another type's shape is refused"
        );

        let empty = SectionPayload::parse("risks", "{}").expect("empty");
        assert_eq!(empty.kind(), EMPTY_SECTION);
        assert_eq!(
            serde_json::to_string(&empty).expect("json"),
            r#"{"type":"empty"}"#
        );
        assert!(empty
            .decode::<Risks>()
            .expect_err("nothing to decode")
            .contains("no data"));
        assert!(SectionPayload::parse("milestones", r#"{"rows":3}"#).is_err());
    }

    #[test]
    fn section_keys_are_bounded() {
        assert!(check_section_key("key-metrics").is_ok());
        assert!(check_section_key("").is_err());
        assert!(check_section_key("Key").is_err());
        assert!(check_section_key("a/b").is_err());
        assert!(check_section_key(&"a".repeat(65)).is_err());
    }
}
