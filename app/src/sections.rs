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
