//! Monte Carlo schedule and cost risk analysis over a project's task network.
//!
//! Each iteration draws every remaining task's duration from its three-point estimate (Beta-PERT by
//! default, or triangular), lets probabilistic risk events strike (adding their schedule impact to the
//! tasks they affect that still have work left, and their cost impact to the project), runs a forward
//! pass over the dependency DAG and walks back the critical path. A risk delays only work that is
//! left: a struck risk adds its whole impact to each affected task that is not complete (in progress
//! too: the event hits the work still to do, and its impact was estimated for the event), and a risk
//! whose affected tasks are all complete can no longer strike, so it moves neither the date nor the
//! cost (a risk that names no task is a project-wide cost risk and keeps its cost). From all iterations it reports P10–P95 of finish and cost, the
//! probability of meeting the target date and the budget (and both together: joint confidence),
//! histograms and S-curves, each task's criticality index, and a sensitivity ranking (Spearman rank
//! correlation of task duration with the finish) for a tornado chart.
//!
//! Time is in working days from the status date. Work already done is fixed: a task at 40 % samples
//! only its remaining 60 %, and its cost is what was spent plus the remaining budget scaled by how
//! long the remaining work takes against its expected duration (the budget is the expected cost).
//!
//! Runs are deterministic for a seed whatever the thread count: iterations are cut into fixed chunks,
//! each with its own random stream. The work is CPU-bound; async callers run it on the blocking pool.

mod kernel;
pub mod sampler;
pub mod stats;

use std::time::Instant;

use app::analysis::{DurationDistribution, MonteCarloResult, TaskRisk};

pub use kernel::Network;

/// The model's version: part of every cached result's address, so results of an earlier model are
/// never served. v2: a risk delays only the affected tasks with work left.
pub const MODEL: &str = "mc-v2";
/// Most iterations one run may ask for: 1,000,000 keeps the worst case (500 tasks) under a minute on
/// one core, and P80 is known to ±0.04 % long before that.
pub const MAX_ITERATIONS: u32 = 1_000_000;
/// Iterations per random stream and unit of work for a thread.
const CHUNK: usize = 1_024;
/// Iterations whose task durations are kept for the sensitivity ranking: 2,000 gives Spearman's ρ a
/// standard error near 0.02, and keeps memory flat (500 tasks: 4 MB) whatever the iteration count.
const SENSITIVITY_SAMPLE: usize = 2_000;
/// Most task durations kept for the ranking (40 MB of `f32`): a plan of more than 5,000 tasks keeps
/// fewer iterations (50,000 tasks: 200, ρ's standard error near 0.07), never more memory.
const SAMPLE_CELLS: usize = 10_000_000;
/// Most task durations one run may draw (iterations × tasks): about half a minute on one core. A
/// large plan gets fewer iterations (50,000 tasks: at most 20,000), and a request for more says so.
pub const MAX_TASK_DRAWS: u64 = 1_000_000_000;

/// The most iterations a run of a plan of `tasks` tasks may ask for.
pub fn max_iterations(tasks: usize) -> u32 {
    let by_work = MAX_TASK_DRAWS / (tasks.max(1) as u64);
    u32::try_from(by_work)
        .unwrap_or(u32::MAX)
        .min(MAX_ITERATIONS)
}

/// Iterations whose durations are kept for the ranking, for a plan of `tasks` tasks.
fn sample_rows(tasks: usize) -> usize {
    SENSITIVITY_SAMPLE.min(SAMPLE_CELLS / tasks.max(1)).max(3)
}
/// Tasks listed by criticality and by sensitivity.
const MOST_CRITICAL: usize = 25;
const MOST_SENSITIVE: usize = 10;

/// A task as the simulation sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimTask {
    pub name: String,
    pub optimistic: f64,
    pub most_likely: f64,
    pub pessimistic: f64,
    /// Indexes (into the task list) of the tasks this one waits for.
    pub predecessors: Vec<usize>,
    /// Percent complete at the status date, 0–100.
    pub percent_complete: f64,
    /// Working days still needed, as estimated at the status date: the task's remaining duration
    /// is then drawn from its distribution rescaled so that its mean is this estimate. `None`: the
    /// distribution times the share left to do.
    pub remaining_days: Option<f64>,
    pub budgeted_cost: f64,
    pub actual_cost: f64,
}

/// A probabilistic risk event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimRisk {
    pub title: String,
    /// Chance that it happens in an iteration, 0–1.
    pub probability: f64,
    pub cost_impact: f64,
    /// Working days added to each affected task that is not complete when it happens.
    pub schedule_impact_days: f64,
    /// Indexes of the affected tasks (none: a project-wide cost risk).
    pub affected: Vec<usize>,
}

/// What to simulate and against which targets.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimInput {
    pub tasks: Vec<SimTask>,
    pub risks: Vec<SimRisk>,
    /// Working days from the status date to the target finish.
    pub target_days: f64,
    /// Budget at completion.
    pub budget: f64,
}

/// How to simulate.
#[derive(Debug, Clone, Copy)]
pub struct SimParams {
    pub iterations: u32,
    pub seed: u64,
    pub distribution: DurationDistribution,
    /// Worker threads (at least 1).
    pub threads: usize,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            iterations: 10_000,
            seed: 1,
            distribution: DurationDistribution::Pert,
            threads: 1,
        }
    }
}

/// Why a simulation cannot run. Every variant names the task or risk at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("the project has no tasks to simulate")]
    NoTasks,
    #[error("iterations must be between 1 and {max}, not {requested}")]
    Iterations { requested: u32, max: u32 },
    #[error("task '{task}': {problem}")]
    Task { task: String, problem: String },
    #[error("risk '{risk}': {problem}")]
    Risk { risk: String, problem: String },
    #[error("the dependencies form a cycle through task '{task}'")]
    Cycle { task: String },
}

/// Runs the simulation.
pub fn simulate(input: &SimInput, params: SimParams) -> Result<MonteCarloResult, SimError> {
    let started = Instant::now();
    let max = max_iterations(input.tasks.len());
    if params.iterations == 0 || params.iterations > max {
        return Err(SimError::Iterations {
            requested: params.iterations,
            max,
        });
    }
    let network = Network::build(input, params.distribution)?;
    let runs = network.run(
        params.iterations as usize,
        params.seed,
        params.threads.max(1),
        sample_rows(input.tasks.len()),
    );
    Ok(summarise(input, params, &runs, started))
}

fn summarise(
    input: &SimInput,
    params: SimParams,
    runs: &kernel::Runs,
    started: Instant,
) -> MonteCarloResult {
    let mut finish = runs.finish.clone();
    let mut cost = runs.cost.clone();
    finish.sort_by(f64::total_cmp);
    cost.sort_by(f64::total_cmp);
    let n = runs.finish.len() as f64;
    let joint = runs
        .finish
        .iter()
        .zip(&runs.cost)
        .filter(|(f, c)| **f <= input.target_days && **c <= input.budget)
        .count() as f64
        / n;
    let sensitivity = sensitivities(runs);
    let task_risk = |i: usize| TaskRisk {
        task: input.tasks[i].name.clone(),
        criticality: f64::from(runs.critical_counts[i]) / n,
        sensitivity: sensitivity[i],
    };
    let mut by_criticality: Vec<usize> = (0..input.tasks.len())
        .filter(|&i| runs.critical_counts[i] > 0)
        .collect();
    by_criticality.sort_by(|&a, &b| {
        runs.critical_counts[b]
            .cmp(&runs.critical_counts[a])
            .then(a.cmp(&b))
    });
    let mut by_sensitivity: Vec<usize> = (0..input.tasks.len())
        .filter(|&i| sensitivity[i].abs() > 0.0)
        .collect();
    by_sensitivity.sort_by(|&a, &b| {
        sensitivity[b]
            .abs()
            .total_cmp(&sensitivity[a].abs())
            .then(a.cmp(&b))
    });
    MonteCarloResult {
        iterations: params.iterations,
        seed: params.seed,
        distribution: params.distribution,
        finish_days: stats::percentiles(&finish),
        cost: stats::percentiles(&cost),
        target_days: input.target_days,
        budget: input.budget,
        probability_on_time: stats::share_at_most(&finish, input.target_days),
        probability_on_budget: stats::share_at_most(&cost, input.budget),
        joint_confidence: joint,
        finish_histogram: stats::histogram(&finish),
        cost_histogram: stats::histogram(&cost),
        finish_curve: stats::s_curve(&finish),
        cost_curve: stats::s_curve(&cost),
        critical_tasks: by_criticality
            .into_iter()
            .take(MOST_CRITICAL)
            .map(task_risk)
            .collect(),
        sensitive_tasks: by_sensitivity
            .into_iter()
            .take(MOST_SENSITIVE)
            .map(task_risk)
            .collect(),
        sensitivity_sample: runs.sample_rows as u32,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    }
}

/// Spearman's ρ of each task's sampled duration with the finish, over the kept sample.
fn sensitivities(runs: &kernel::Runs) -> Vec<f64> {
    let rows = runs.sample_rows;
    let tasks = runs.critical_counts.len();
    if rows < 3 {
        return vec![0.0; tasks];
    }
    let finish_ranks = stats::ranks(&runs.finish[..rows]);
    let mut column = vec![0f32; rows];
    (0..tasks)
        .map(|t| {
            for (r, slot) in column.iter_mut().enumerate() {
                *slot = runs.sample_durations[r * tasks + t];
            }
            stats::spearman_with_ranks(&column, &finish_ranks)
        })
        .collect()
}

#[cfg(test)]
mod tests;
