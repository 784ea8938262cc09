//! Report generation: from a project's data and a status date to the content of every section of a
//! template. Each step is timed; the Monte Carlo run (CPU-bound) goes to the blocking pool.

use std::time::Instant;

use app::analysis::{DurationDistribution, EacMethod, MonteCarloResult};
use app::model::TemplateSection;
use app::sections::{EvmPoint, MonteCarloSection};
use chrono::{Duration, NaiveDate};
use std::convert::Infallible;

use app::analysis::InsightSet;

use crate::cache::{input_digest, CacheKey, CacheService};

use super::evm_input::measure;
use super::narrative::summary_narrative;
use super::sections::{milestone_rows, section, Figures};
use crate::domain::monte_carlo::{simulate, SimError, SimInput, SimParams, SimRisk, SimTask};
use crate::domain::project::ProjectData;
use crate::domain::rag::{status_checks, RagPolicy};
use crate::insights::{InsightContext, InsightEngine};

/// Knobs of a generation run.
#[derive(Debug, Clone, Copy)]
pub struct GenerationParams {
    pub iterations: u32,
    pub distribution: DurationDistribution,
    pub eac_method: EacMethod,
    pub rag: RagPolicy,
    /// Threads for the Monte Carlo run.
    pub threads: usize,
}

impl GenerationParams {
    /// 10,000 iterations (`PMR_MC_ITERATIONS`), Beta-PERT durations, EAC by CPI, the default RAG
    /// bands, one thread.
    pub const DEFAULT: GenerationParams = GenerationParams {
        iterations: 10_000,
        distribution: DurationDistribution::Pert,
        eac_method: EacMethod::Cpi,
        rag: RagPolicy::DEFAULT,
        threads: 1,
    };
}

impl Default for GenerationParams {
    fn default() -> Self {
        GenerationParams::DEFAULT
    }
}

pub use crate::storage::project_data::GeneratedSection;

/// How long each step took, in milliseconds (the app shows it after a regeneration).
pub use app::model::GenerationTimings as Timings;

/// A generated report.
#[derive(Debug, Clone)]
pub struct GeneratedReport {
    pub sections: Vec<GeneratedSection>,
    /// This period's EVM figures, for later reports' charts.
    pub evm_point: EvmPoint,
    pub timings: Timings,
    /// Which costly steps ran here, rather than coming from the cache (their timings then measure
    /// a lookup, not the work).
    pub computed: Computed,
}

/// Which costly steps of a generation ran (see [`GeneratedReport::computed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Computed {
    pub monte_carlo: bool,
    pub insights: bool,
}

/// Why a report could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    #[error("Monte Carlo analysis: {0}")]
    Simulation(#[from] SimError),
    #[error("the template has a section of unknown type '{0}'")]
    UnknownSection(String),
    #[error("the analysis task failed: {0}")]
    Task(String),
    #[error("cannot encode section content: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the server is running as many simulations as it can")]
    Busy,
}

/// Builds every section of `template` for `data` as of `status_date` (the end of `period`).
pub async fn generate(
    data: &ProjectData,
    period: &str,
    status_date: NaiveDate,
    template: &[TemplateSection],
    params: GenerationParams,
    engine: &dyn InsightEngine,
) -> Result<GeneratedReport, GenerationError> {
    generate_cached(data, period, status_date, template, params, engine, None).await
}

/// A Monte Carlo step's failure, in a form the cache can hand to every waiting caller.
#[derive(Debug, Clone)]
enum SimFailure {
    Simulation(SimError),
    Task(String),
    Busy,
}

impl From<SimFailure> for GenerationError {
    fn from(f: SimFailure) -> Self {
        match f {
            SimFailure::Simulation(e) => GenerationError::Simulation(e),
            SimFailure::Task(e) => GenerationError::Task(e),
            SimFailure::Busy => GenerationError::Busy,
        }
    }
}

/// What costly work is shared through: the cache (results computed once) and the server's
/// simulation slots (a bounded number computed at once).
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    pub cache: &'a CacheService,
    pub slots: &'a super::slots::SimulationSlots,
}

/// The Monte Carlo step of a generation: the simulation of `data`'s remaining work as of
/// `status_date`, seeded from project and period (so a rerun is identical), on the blocking pool, read
/// through `cache` when given (addressed by a digest of the model's version, the plan, the
/// iteration count, the seed and the distribution). The flag says whether this call ran the simulation (rather than the cache or
/// a concurrent caller).
pub async fn monte_carlo_cached(
    data: &ProjectData,
    period: &str,
    status_date: NaiveDate,
    params: GenerationParams,
    shared: Option<Shared<'_>>,
) -> Result<(MonteCarloSection, bool), GenerationError> {
    let input = simulation_input(data, status_date);
    let sim_params = SimParams {
        iterations: params.iterations,
        seed: seed_for(&data.code, period),
        distribution: params.distribution,
        threads: params.threads,
    };
    let digest = input_digest(&(
        crate::domain::monte_carlo::MODEL,
        &input,
        sim_params.iterations,
        sim_params.seed,
        sim_params.distribution,
    ));
    let ran = std::sync::atomic::AtomicBool::new(false);
    let compute = || async {
        ran.store(true, std::sync::atomic::Ordering::Relaxed);
        tokio::task::spawn_blocking(move || simulate(&input, sim_params))
            .await
            .map_err(|e| SimFailure::Task(e.to_string()))?
            .map_err(SimFailure::Simulation)
    };
    let result = match shared {
        Some(Shared { cache, slots }) => {
            let in_a_slot = || async { slots.run(compute()).await.map_err(|_| SimFailure::Busy)? };
            cache
                .get_or_load(&CacheKey::monte_carlo(data.id, &digest), None, in_a_slot)
                .await?
        }
        None => compute().await?,
    };
    let computed = ran.load(std::sync::atomic::Ordering::Relaxed);
    Ok((monte_carlo_section(data, status_date, result), computed))
}

/// As [`generate`], reading the Monte Carlo result and the insights through `cache` when given. Both
/// are addressed by a digest of their inputs (the plan as of the status date, the parameters and the
/// seed; the engine and everything it reads), so a cached result always matches its inputs. Insights
/// that fell back from the language model to the rules are not cached.
pub async fn generate_cached(
    data: &ProjectData,
    period: &str,
    status_date: NaiveDate,
    template: &[TemplateSection],
    params: GenerationParams,
    engine: &dyn InsightEngine,
    shared: Option<Shared<'_>>,
) -> Result<GeneratedReport, GenerationError> {
    let started = Instant::now();
    let (ev, es) = measure(data, status_date, params.eac_method);
    let checks = status_checks(data.declared, &ev, &es, params.rag);
    let earned_value_ms = ms(started);

    let mc_started = Instant::now();
    let (monte_carlo, monte_carlo_ran) =
        monte_carlo_cached(data, period, status_date, params, shared).await?;
    let monte_carlo_ms = ms(mc_started);

    let milestones = milestone_rows(data);
    let insights_started = Instant::now();
    let ctx = InsightContext {
        data,
        status_date,
        ev: &ev,
        es: &es,
        checks: &checks,
        monte_carlo: &monte_carlo,
        milestones: &milestones,
    };
    let (insights, insights_ran) = insights_cached(&ctx, engine, shared.map(|s| s.cache)).await;
    let insights_ms = ms(insights_started);

    let evm_point = EvmPoint {
        period: period.to_string(),
        pv: ev.pv,
        ev: ev.ev,
        ac: ev.ac,
    };
    let mut history = data.history.clone();
    history.push(evm_point.clone());
    let figures = Figures {
        narrative: summary_narrative(
            data,
            status_date,
            &ev,
            &es,
            &monte_carlo,
            &checks,
            &insights,
        ),
        data,
        status_date,
        ev: &ev,
        es: &es,
        checks: &checks,
        monte_carlo: &monte_carlo,
        insights: &insights,
        milestones: &milestones,
        history: &history,
    };
    let sections = template
        .iter()
        .map(|entry| {
            section(entry, &figures)?
                .ok_or_else(|| GenerationError::UnknownSection(entry.section_type.clone()))
        })
        .collect::<Result<Vec<_>, GenerationError>>()?;
    let timings = Timings {
        earned_value_ms,
        monte_carlo_ms,
        insights_ms,
        total_ms: ms(started),
    };
    tracing::debug!(project = %data.code, period, ?timings, "generated report");
    Ok(GeneratedReport {
        sections,
        evm_point,
        timings,
        computed: Computed {
            monte_carlo: monte_carlo_ran,
            insights: insights_ran,
        },
    })
}

/// The engine's insights, read through `cache` when given, under a digest of the engine and
/// everything it reads. A set that fell back from the language model to the rules is not kept.
async fn insights_cached(
    ctx: &InsightContext<'_>,
    engine: &dyn InsightEngine,
    cache: Option<&CacheService>,
) -> (InsightSet, bool) {
    let Some(cache) = cache else {
        return (engine.insights(ctx).await, true);
    };
    let ran = std::sync::atomic::AtomicBool::new(false);
    let digest = input_digest(&(
        engine.name(),
        ctx.data,
        ctx.status_date,
        ctx.ev,
        ctx.es,
        ctx.checks,
        ctx.monte_carlo,
        ctx.milestones,
    ));
    let loaded: Result<InsightSet, Infallible> = cache
        .get_or_load_if(
            &CacheKey::insights(ctx.data.id, &digest),
            None,
            || async {
                ran.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(engine.insights(ctx).await)
            },
            |set: &InsightSet| set.fallback_reason.is_none(),
        )
        .await;
    let set = match loaded {
        Ok(set) => set,
        Err(never) => match never {},
    };
    (set, ran.load(std::sync::atomic::Ordering::Relaxed))
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

pub fn seed_for(code: &str, period: &str) -> u64 {
    code.bytes()
        .chain(period.bytes())
        .fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        })
}

/// The simulation's view of the project: remaining work from the status date, open risks.
pub fn simulation_input(data: &ProjectData, status_date: NaiveDate) -> SimInput {
    let tasks = data
        .tasks
        .iter()
        .map(|t| SimTask {
            name: format!("{} {}", t.wbs, t.name),
            optimistic: t.optimistic,
            most_likely: t.most_likely,
            pessimistic: t.pessimistic,
            predecessors: t.predecessors.clone(),
            percent_complete: t.percent_complete,
            remaining_days: t.remaining_days,
            budgeted_cost: t.budgeted_cost,
            actual_cost: t.actual_cost,
        })
        .collect();
    let risks = data
        .risks
        .iter()
        .filter(|r| r.status != "closed")
        .map(|r| SimRisk {
            title: r.title.clone(),
            probability: r.probability,
            cost_impact: r.cost_impact,
            schedule_impact_days: r.schedule_impact_days,
            affected: r.affected.clone(),
        })
        .collect();
    let next_day = status_date + Duration::days(1);
    let target_days =
        data.working_time()
            .working_days_between(next_day, data.target_finish + Duration::days(1)) as f64;
    SimInput {
        tasks,
        risks,
        target_days,
        budget: data.bac,
    }
}

fn monte_carlo_section(
    data: &ProjectData,
    status_date: NaiveDate,
    result: MonteCarloResult,
) -> MonteCarloSection {
    let calendar = data.working_time();
    let date = |days: f64| {
        calendar
            .date_after_working_days(status_date, days)
            .to_string()
    };
    MonteCarloSection {
        status_date: status_date.to_string(),
        target_finish: data.target_finish.to_string(),
        currency: data.currency.clone(),
        p50_finish: date(result.finish_days.p50),
        p80_finish: date(result.finish_days.p80),
        p90_finish: date(result.finish_days.p90),
        result,
        tasks: data.tasks.len(),
        estimated_by_rule: data.tasks.iter().filter(|t| t.estimated_by_rule).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_stable_and_distinct() {
        assert_eq!(seed_for("HBR", "2026-10"), seed_for("HBR", "2026-10"));
        assert_ne!(seed_for("HBR", "2026-10"), seed_for("HBR", "2026-09"));
    }
}
