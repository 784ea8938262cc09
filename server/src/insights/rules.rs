//! The default insight engine: fixed rules over the report's figures. Each rule states its threshold
//! in code, quotes the exact figures in its evidence, and says what to do.

use app::analysis::{Insight, InsightCategory, InsightSet, Mismatch, Severity};
use app::format::compact_money;
use app::format::{count_of, readable_date};
use async_trait::async_trait;
use std::collections::BTreeMap;

use super::{InsightContext, InsightEngine};
use crate::domain::project::RiskData;

/// Engine name recorded with its insights.
pub const ENGINE: &str = "rules-v2";
/// CPI or SPI(t) below this is a warning; below `CRITICAL_INDEX` critical.
const WARN_INDEX: f64 = 0.95;
const CRITICAL_INDEX: f64 = 0.85;
/// A TCPI above this asks the remaining work to beat plan by more than a team plausibly can.
const TCPI_OUT_OF_REACH: f64 = 1.10;
/// Milestone slip, in calendar days, worth raising.
const SLIP_DAYS: i64 = 10;
/// Tasks in progress at once for one owner before it is flagged.
const MAX_PARALLEL_TASKS: usize = 3;

/// Deterministic rules; see the module docs.
pub struct RulesEngine;

#[async_trait]
impl InsightEngine for RulesEngine {
    fn name(&self) -> &str {
        ENGINE
    }

    async fn insights(&self, ctx: &InsightContext<'_>) -> InsightSet {
        InsightSet {
            engine: ENGINE.into(),
            fallback_reason: None,
            insights: evaluate(ctx),
        }
    }
}

/// Runs every rule; most severe first, then by category.
pub fn evaluate(ctx: &InsightContext<'_>) -> Vec<Insight> {
    let mut all: Vec<Insight> = [
        cost(ctx),
        to_complete(ctx),
        schedule(ctx),
        simulated_finish(ctx),
        risk_exposure(ctx),
        unmitigated_risks(ctx),
        spent_risks(ctx),
        milestone_slip(ctx),
        overloaded_owners(ctx),
        status_mismatch(ctx),
        stale_progress(ctx),
    ]
    .into_iter()
    .flatten()
    .collect();
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then((a.category as u8).cmp(&(b.category as u8)))
    });
    all
}

fn money(ctx: &InsightContext<'_>, amount: f64) -> String {
    compact_money(amount, &ctx.data.currency)
}

fn graded(index: f64) -> Option<Severity> {
    if index < CRITICAL_INDEX {
        Some(Severity::Critical)
    } else if index < WARN_INDEX {
        Some(Severity::Warning)
    } else {
        None
    }
}

fn cost(ctx: &InsightContext<'_>) -> Option<Insight> {
    let cpi = ctx.ev.cpi?;
    let severity = graded(cpi)?;
    Some(Insight {
        category: InsightCategory::Cost,
        severity,
        title: format!(
            "Each {cur} 1.00 of work earned is costing {cur} {:.2}",
            1.0 / cpi,
            cur = ctx.data.currency
        ),
        evidence: vec![
            format!("CPI: {cpi:.2}"),
            format!("EAC ({}): {} against a budget of {}", ctx.ev.eac_method.formula(), money(ctx, ctx.ev.eac), money(ctx, ctx.ev.bac)),
            format!("VAC: {}", money(ctx, ctx.ev.vac)),
        ],
        action: "Find the work packages whose actual cost runs ahead of their earned value (appendix) and decide with the sponsor: re-plan the remaining work, release contingency, or re-baseline.".into(),
    })
}

fn to_complete(ctx: &InsightContext<'_>) -> Option<Insight> {
    let tcpi = ctx.ev.tcpi_bac?;
    (tcpi > TCPI_OUT_OF_REACH && ctx.ev.percent_complete < 95.0).then(|| Insight {
        category: InsightCategory::Cost,
        severity: Severity::Critical,
        title: "Finishing on budget is out of reach".into(),
        evidence: vec![
            format!("TCPI to budget: {tcpi:.2} (the remaining work must run {:.0} % under plan)", (1.0 - 1.0 / tcpi) * 100.0),
            format!("CPI so far: {}", ctx.ev.cpi.map_or("n/a".into(), |c| format!("{c:.2}"))),
        ],
        action: "Ask for a budget change to the EAC rather than promising a recovery the trend does not support.".into(),
    })
}

fn schedule(ctx: &InsightContext<'_>) -> Option<Insight> {
    let spi_t = ctx.es.spi_t?;
    let severity = graded(spi_t)?;
    let mut evidence = vec![
        format!("SPI(t): {spi_t:.2}"),
        format!(
            "SV(t): {}",
            app::format::count(ctx.es.sv_t.round() as i64, "day", "days")
        ),
    ];
    if let Some(ieac) = ctx.es.ieac_t {
        let forecast = ctx.data.start + chrono::Duration::days(ieac.round() as i64 - 1);
        evidence.push(format!(
            "Earned-schedule forecast finish: {} (target {})",
            readable_date(&forecast.to_string()),
            readable_date(&ctx.data.target_finish.to_string())
        ));
    }
    Some(Insight {
        category: InsightCategory::Schedule,
        severity,
        title: format!("Work is progressing at {:.0} % of the planned pace", spi_t * 100.0),
        evidence,
        action: "Re-sequence or add capacity on the critical path; confirm the recovery in next month's SPI(t) rather than in the plan.".into(),
    })
}

fn simulated_finish(ctx: &InsightContext<'_>) -> Option<Insight> {
    let mc = &ctx.monte_carlo.result;
    let p = mc.probability_on_time;
    let severity = if p < 0.2 {
        Severity::Critical
    } else if p < 0.5 {
        Severity::Warning
    } else {
        return None;
    };
    let drivers: Vec<String> = mc
        .critical_tasks
        .iter()
        .take(3)
        .map(|t| format!("{} ({:.0} % critical)", t.task, t.criticality * 100.0))
        .collect();
    Some(Insight {
        category: InsightCategory::Schedule,
        severity,
        title: format!("Only {:.0} % chance of meeting the target date", p * 100.0),
        evidence: vec![
            format!("Target finish: {}", readable_date(&ctx.monte_carlo.target_finish)),
            format!(
                "P50 finish: {}, P80 finish: {}",
                readable_date(&ctx.monte_carlo.p50_finish),
                readable_date(&ctx.monte_carlo.p80_finish)
            ),
            format!("Joint confidence (date and budget): {:.0} %", mc.joint_confidence * 100.0),
            format!("Most critical: {}", drivers.join(", ")),
        ],
        action: "Commit to the P80 date with stakeholders, or cut scope on the most critical tasks listed.".into(),
    })
}

/// A risk that names tasks, all of them finished: it can no longer delay anything, and the
/// simulation leaves it out (a risk that names no task is project-wide and stays live).
fn spent(ctx: &InsightContext<'_>, risk: &RiskData) -> bool {
    !risk.affected.is_empty()
        && risk.affected.iter().all(|&t| {
            ctx.data
                .tasks
                .get(t)
                .is_none_or(|t| t.percent_complete >= 100.0)
        })
}

/// Open risks that can still strike.
fn live_risks<'a>(ctx: &'a InsightContext<'_>) -> impl Iterator<Item = &'a RiskData> + 'a {
    ctx.data
        .risks
        .iter()
        .filter(move |r| r.status != "closed" && !spent(ctx, r))
}

fn risk_exposure(ctx: &InsightContext<'_>) -> Option<Insight> {
    let open: Vec<_> = live_risks(ctx).collect();
    let exposure: f64 = open.iter().map(|r| r.probability * r.cost_impact).sum();
    let margin = ctx.ev.bac - ctx.ev.eac;
    if exposure <= 0.0 || exposure < 0.02 * ctx.ev.bac {
        return None;
    }
    let severity = if margin < exposure {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut top = open.clone();
    top.sort_by(|a, b| (b.probability * b.cost_impact).total_cmp(&(a.probability * a.cost_impact)));
    let names: Vec<String> = top
        .iter()
        .take(3)
        .map(|r| {
            format!(
                "{} ({})",
                r.title,
                money(ctx, r.probability * r.cost_impact)
            )
        })
        .collect();
    Some(Insight {
        category: InsightCategory::Risk,
        severity,
        title: format!("Open risks carry {} of expected cost", money(ctx, exposure)),
        evidence: vec![
            format!(
                "Expected cost of {} open risks: {}",
                open.len(),
                money(ctx, exposure)
            ),
            format!("Budget left after the EAC: {}", money(ctx, margin)),
            format!("Largest: {}", names.join("; ")),
        ],
        action: "Fund contingency for the expected cost, and work the largest exposures first."
            .into(),
    })
}

fn unmitigated_risks(ctx: &InsightContext<'_>) -> Option<Insight> {
    let likely: Vec<String> = live_risks(ctx)
        .filter(|r| r.status == "open" && r.probability >= 0.5)
        .map(|r| format!("{} ({:.0} %)", r.title, r.probability * 100.0))
        .collect();
    (!likely.is_empty()).then(|| Insight {
        category: InsightCategory::Risk,
        severity: Severity::Warning,
        title: match likely.len() {
            1 => "1 likely risk has no mitigation under way".to_string(),
            n => format!("{n} likely risks have no mitigation under way"),
        },
        evidence: likely,
        action: "Give each an owner's mitigation with a date, or accept it explicitly in the risk register.".into(),
    })
}

fn spent_risks(ctx: &InsightContext<'_>) -> Option<Insight> {
    let stale: Vec<String> = ctx
        .data
        .risks
        .iter()
        .filter(|r| r.status != "closed" && spent(ctx, r))
        .map(|r| {
            let tasks: Vec<&str> = r
                .affected
                .iter()
                .filter_map(|&t| ctx.data.tasks.get(t))
                .map(|t| t.wbs.as_str())
                .collect();
            format!(
                "{} is open, but every task it affects is finished ({})",
                r.title,
                tasks.join(", ")
            )
        })
        .collect();
    (!stale.is_empty()).then(|| Insight {
        category: InsightCategory::DataQuality,
        severity: Severity::Warning,
        title: match stale.len() {
            1 => "1 open risk threatens only finished work".to_string(),
            n => format!("{n} open risks threaten only finished work"),
        },
        evidence: stale,
        action: "Close each of these risks, or point it at the work it still threatens: until then it counts neither in the forecast nor in the risk exposure.".into(),
    })
}

fn milestone_slip(ctx: &InsightContext<'_>) -> Option<Insight> {
    let late: Vec<String> = ctx
        .milestones
        .iter()
        .filter(|m| m.actual.is_none() && m.slip_days >= SLIP_DAYS)
        .map(|m| {
            format!(
                "{}: {} late (forecast {})",
                m.name,
                app::format::count(m.slip_days, "day", "days"),
                readable_date(&m.forecast)
            )
        })
        .collect();
    let severity = if late.len() >= 3 {
        Severity::Critical
    } else {
        Severity::Warning
    };
    (!late.is_empty()).then(|| Insight {
        category: InsightCategory::Schedule,
        severity,
        title: format!(
            "{} forecast {SLIP_DAYS}+ days past baseline",
            count_of(late.len(), "milestone", "milestones")
        ),
        evidence: late,
        action: "Review the slip trend chart: a forecast that moves every month is a plan that needs re-baselining, not another month of hope.".into(),
    })
}

fn overloaded_owners(ctx: &InsightContext<'_>) -> Option<Insight> {
    let mut active: BTreeMap<&str, usize> = BTreeMap::new();
    for t in ctx
        .data
        .tasks
        .iter()
        .filter(|t| t.percent_complete > 0.0 && t.percent_complete < 100.0)
    {
        *active.entry(t.owner.as_str()).or_default() += 1;
    }
    let busy: Vec<String> = active
        .into_iter()
        .filter(|(_, n)| *n > MAX_PARALLEL_TASKS)
        .map(|(owner, n)| format!("{owner}: {n} tasks in progress"))
        .collect();
    (!busy.is_empty()).then(|| Insight {
        category: InsightCategory::Resources,
        severity: Severity::Warning,
        title: "Some owners juggle too many tasks at once".into(),
        evidence: busy,
        action: format!("Limit work in progress to {MAX_PARALLEL_TASKS} tasks per owner; finish before starting."),
    })
}

fn status_mismatch(ctx: &InsightContext<'_>) -> Option<Insight> {
    let flagged: Vec<_> = ctx
        .checks
        .iter()
        .filter(|c| c.mismatch == Mismatch::Watermelon)
        .collect();
    let first = flagged.first()?;
    Some(Insight {
        category: InsightCategory::DataQuality,
        severity: Severity::Critical,
        title: "Declared green, measured red".into(),
        evidence: flagged.iter().map(|c| format!("{}: declared {}, computed red from {}", c.dimension.label(), c.declared.as_str(), c.basis)).collect(),
        action: format!("Ask the project manager to reconcile the {} status with the figures, or explain what the data misses.", first.dimension.label().to_lowercase()),
    })
}

fn stale_progress(ctx: &InsightContext<'_>) -> Option<Insight> {
    let overdue = ctx
        .data
        .tasks
        .iter()
        .filter(|t| {
            t.planned_finish < ctx.status_date
                && t.percent_complete == 0.0
                && t.actual_start.is_none()
        })
        .count();
    let unclosed = ctx
        .data
        .tasks
        .iter()
        .filter(|t| t.percent_complete >= 100.0 && t.actual_finish.is_none())
        .count();
    let cost_no_progress = ctx
        .data
        .tasks
        .iter()
        .filter(|t| t.actual_cost > 0.0 && t.percent_complete == 0.0)
        .count();
    let mut evidence = Vec::new();
    if overdue > 0 {
        evidence.push(format!(
            "{} past the planned finish and not started",
            count_of(overdue, "task", "tasks")
        ));
    }
    if unclosed > 0 {
        evidence.push(format!(
            "{} at 100 % without an actual finish date",
            count_of(unclosed, "task", "tasks")
        ));
    }
    if cost_no_progress > 0 {
        evidence.push(format!(
            "{} with cost booked but no progress",
            count_of(cost_no_progress, "task", "tasks")
        ));
    }
    (!evidence.is_empty()).then(|| Insight {
        category: InsightCategory::DataQuality,
        severity: Severity::Info,
        title: "Task progress needs updating".into(),
        evidence,
        action: "Ask task owners to update progress and dates before the report is finalized; earned value is only as good as they are.".into(),
    })
}
