//! Analysis results that travel from server to browser: earned value and earned schedule, computed
//! status against declared status, Monte Carlo risk analysis and insights. Plain serde types; the
//! server's `domain` module computes them and stores them in report sections, components render them.

use serde::{Deserialize, Serialize};

use crate::model::Rag;

/// The four standard estimate-at-completion formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EacMethod {
    /// `BAC / CPI`: past cost performance continues (the default).
    Cpi,
    /// `AC + (BAC − EV)`: the overrun so far was a one-off; the rest goes to plan.
    Atypical,
    /// `AC + bottom-up ETC`: the remaining work re-estimated task by task.
    BottomUp,
    /// `AC + (BAC − EV) / (CPI × SPI)`: cost and schedule pressure both persist.
    CpiSpi,
}

impl EacMethod {
    /// The formula, for readers.
    pub fn formula(self) -> &'static str {
        match self {
            EacMethod::Cpi => "EAC = BAC / CPI",
            EacMethod::Atypical => "EAC = AC + (BAC − EV)",
            EacMethod::BottomUp => "EAC = AC + bottom-up ETC",
            EacMethod::CpiSpi => "EAC = AC + (BAC − EV) / (CPI × SPI)",
        }
    }
}

/// The raw earned-value figures at a status date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvInputs {
    /// Budget at completion.
    pub bac: f64,
    /// Planned value: budgeted cost of work scheduled by the status date.
    pub pv: f64,
    /// Earned value: budgeted cost of work performed.
    pub ev: f64,
    /// Actual cost of work performed.
    pub ac: f64,
    /// Bottom-up estimate to complete, for [`EacMethod::BottomUp`].
    pub bottom_up_etc: f64,
}

/// Every earned-value indicator. Ratios are `None` when their denominator is zero (e.g. CPI before
/// any cost is booked) rather than infinite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvMetrics {
    pub bac: f64,
    pub pv: f64,
    pub ev: f64,
    pub ac: f64,
    /// Cost variance, `EV − AC`.
    pub cv: f64,
    /// Schedule variance, `EV − PV`.
    pub sv: f64,
    /// Cost performance index, `EV / AC`.
    pub cpi: Option<f64>,
    /// Schedule performance index, `EV / PV`.
    pub spi: Option<f64>,
    /// Estimate at completion by each formula.
    pub eac_cpi: Option<f64>,
    pub eac_atypical: f64,
    pub eac_bottom_up: f64,
    pub eac_cpi_spi: Option<f64>,
    /// The estimate used for ETC, VAC and TCPI(EAC), and its method.
    pub eac: f64,
    pub eac_method: EacMethod,
    /// Estimate to complete, `EAC − AC`.
    pub etc: f64,
    /// Variance at completion, `BAC − EAC`.
    pub vac: f64,
    /// To-complete performance index to finish on budget, `(BAC − EV) / (BAC − AC)`.
    pub tcpi_bac: Option<f64>,
    /// To-complete performance index to finish at the EAC, `(BAC − EV) / (EAC − AC)`.
    pub tcpi_eac: Option<f64>,
    /// Work performed as a share of the budget, `EV / BAC`, in percent.
    pub percent_complete: f64,
    /// Work scheduled as a share of the budget, `PV / BAC`, in percent.
    pub percent_planned: f64,
}

/// Earned schedule indicators, in the time unit of the PV series given (days here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EsMetrics {
    /// Earned schedule: the time at which the plan expected today's EV.
    pub es: f64,
    /// Actual time elapsed.
    pub at: f64,
    /// Planned duration.
    pub pd: f64,
    /// Schedule variance in time, `ES − AT` (negative is late).
    pub sv_t: f64,
    /// Schedule performance index in time, `ES / AT`.
    pub spi_t: Option<f64>,
    /// Independent estimate at completion in time, `PD / SPI(t)`.
    pub ieac_t: Option<f64>,
}

/// A status dimension a manager declares and the numbers may contradict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Overall,
    Scope,
    Schedule,
    Cost,
    Resources,
}

impl Dimension {
    /// All dimensions, in report order.
    pub const ALL: [Dimension; 5] = [
        Dimension::Overall,
        Dimension::Scope,
        Dimension::Schedule,
        Dimension::Cost,
        Dimension::Resources,
    ];

    /// The dimension's name for readers.
    pub fn label(self) -> &'static str {
        match self {
            Dimension::Overall => "Overall",
            Dimension::Scope => "Scope",
            Dimension::Schedule => "Schedule",
            Dimension::Cost => "Cost",
            Dimension::Resources => "Resources",
        }
    }
}

/// How far a declared status is from the computed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    /// Declared and computed agree, or nothing was computed.
    None,
    /// One step apart (green/amber or amber/red).
    Minor,
    /// Declared green while the numbers are red: the "watermelon" report.
    Watermelon,
    /// Declared red while the numbers are green: unduly pessimistic, or the data is stale.
    Pessimistic,
}

/// Declared against computed status for one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusCheck {
    pub dimension: Dimension,
    pub declared: Rag,
    /// `None` where the data cannot judge the dimension (scope and resources have no measure here).
    pub computed: Option<Rag>,
    pub mismatch: Mismatch,
    /// The figures behind the computed status, e.g. "CPI 0.78 (green ≥ 0.95, amber ≥ 0.85)".
    pub basis: String,
}

/// Which sampling distribution turns three-point estimates into durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationDistribution {
    /// Beta-PERT: mean (a + 4m + b) / 6; the default, as in most schedule risk tools.
    Pert,
    /// Triangular on (a, m, b): fatter tails than PERT.
    Triangular,
}

/// The usual confidence levels of a simulated quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p10: f64,
    pub p50: f64,
    pub p80: f64,
    pub p90: f64,
    pub p95: f64,
    pub mean: f64,
}

/// One bar of a histogram: values in `[from, to)` and their share of iterations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistogramBin {
    pub from: f64,
    pub to: f64,
    pub share: f64,
}

/// One point of a cumulative S-curve: the probability that the outcome is at most `value`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub value: f64,
    pub probability: f64,
}

/// A task's share of iterations on the critical path, and how strongly its duration drives the finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRisk {
    pub task: String,
    /// Criticality index: fraction of iterations in which the task was on the critical path.
    pub criticality: f64,
    /// Spearman rank correlation of the task's duration with the project finish.
    pub sensitivity: f64,
}

/// The outcome of a Monte Carlo schedule and cost simulation. Durations are working days from the
/// status date; costs are at completion, in the project's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonteCarloResult {
    pub iterations: u32,
    pub seed: u64,
    pub distribution: DurationDistribution,
    pub finish_days: Percentiles,
    pub cost: Percentiles,
    /// Working days from the status date to the target finish, and the budget, compared against.
    pub target_days: f64,
    pub budget: f64,
    pub probability_on_time: f64,
    pub probability_on_budget: f64,
    /// Probability of meeting both the date and the budget in the same iteration.
    pub joint_confidence: f64,
    pub finish_histogram: Vec<HistogramBin>,
    pub cost_histogram: Vec<HistogramBin>,
    pub finish_curve: Vec<CurvePoint>,
    pub cost_curve: Vec<CurvePoint>,
    /// Tasks by criticality, most critical first (those ever critical, at most 25).
    pub critical_tasks: Vec<TaskRisk>,
    /// Tasks by absolute sensitivity, strongest first (at most 10), for the tornado chart.
    pub sensitive_tasks: Vec<TaskRisk>,
    /// Iterations used for the sensitivity ranking (a deterministic prefix of all iterations).
    pub sensitivity_sample: u32,
    pub elapsed_ms: f64,
}

/// What an insight is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsightCategory {
    Cost,
    Schedule,
    Risk,
    Resources,
    DataQuality,
}

/// How urgently an insight needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One finding: what, the exact figures it rests on, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insight {
    pub category: InsightCategory,
    pub severity: Severity,
    pub title: String,
    /// The figures behind the finding, each a short "label: value" line.
    pub evidence: Vec<String>,
    pub action: String,
}

/// The insights of one report and the engine that made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightSet {
    /// Engine that produced the insights, e.g. `rules-v2`.
    pub engine: String,
    /// Why a requested engine was not used (e.g. the language model timed out), if it was not.
    pub fallback_reason: Option<String>,
    pub insights: Vec<Insight>,
}
