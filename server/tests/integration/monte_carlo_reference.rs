//! The Monte Carlo kernel against a reference simulation written here, deliberately plain and with no
//! code shared with the kernel: the documented model (README, "The risk analysis") done the obvious
//! way. Each task's remaining work is a Beta-PERT draw (two Gamma variates by Marsaglia and Tsang,
//! from a SplitMix64 stream) times its remaining fraction; each open risk strikes with its
//! probability and adds its whole impact to each affected task that is not complete; a forward pass
//! over the predecessors from the status date gives the finish, and the chain of latest predecessors
//! back from the last task to finish is the critical path.
//!
//! Run on every demo project (read through the export API, as a user would get it) and on generated
//! plans, 20,000 iterations each side: P10, P50, P80 and P90 of the finish, the chance of meeting the
//! target and each unfinished task's criticality must agree within the sampling error of that
//! many iterations (4.5 standard errors of the difference of two independent runs).

use crate::common;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};
use common::{Role, TestApp};
use serde_json::Value;
use server::domain::monte_carlo::{simulate, SimInput, SimParams, SimRisk, SimTask};

const ITERATIONS: usize = 20_000;
/// Standard errors of the difference allowed: a false alarm about once in 150,000 comparisons.
const SIGMAS: f64 = 4.5;

// ---- The reference -------------------------------------------------------------------------------

/// A task as the reference reads it.
#[derive(Debug, Clone)]
struct Task {
    name: String,
    low: f64,
    likely: f64,
    high: f64,
    /// Share of the work left, 0–1.
    left: f64,
    /// Working days left as estimated at the status date, if someone did.
    remaining: Option<f64>,
    preds: Vec<usize>,
}

impl Task {
    /// What a full-length draw is multiplied by: the share left, or, with an estimate of the days
    /// left, the estimate over the PERT mean (so the draws average the estimate).
    fn scale(&self) -> f64 {
        match self.remaining {
            Some(days) if self.left > 0.0 => {
                days / ((self.low + 4.0 * self.likely + self.high) / 6.0)
            }
            _ => self.left,
        }
    }
}

#[derive(Debug, Clone)]
struct Risk {
    probability: f64,
    days: f64,
    affected: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Plan {
    tasks: Vec<Task>,
    risks: Vec<Risk>,
    target_days: f64,
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Gamma(shape, 1) for shape ≥ 1 (Marsaglia and Tsang).
    fn gamma(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v > 0.0 && self.uniform().ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta-PERT on [low, high] with mode `likely`.
    fn pert(&mut self, low: f64, likely: f64, high: f64) -> f64 {
        if high <= low {
            return low;
        }
        let alpha = 1.0 + 4.0 * (likely - low) / (high - low);
        let beta = 1.0 + 4.0 * (high - likely) / (high - low);
        let x = self.gamma(alpha);
        let y = self.gamma(beta);
        low + (high - low) * x / (x + y)
    }
}

/// What the reference found: sorted finishes and each task's share of critical iterations.
struct Outcome {
    finish: Vec<f64>,
    critical: Vec<f64>,
}

/// Tasks in an order where each comes after its predecessors (depth-first).
fn order(tasks: &[Task]) -> Vec<usize> {
    fn visit(t: usize, tasks: &[Task], seen: &mut [bool], out: &mut Vec<usize>) {
        if seen[t] {
            return;
        }
        seen[t] = true;
        for &p in &tasks[t].preds {
            visit(p, tasks, seen, out);
        }
        out.push(t);
    }
    let mut seen = vec![false; tasks.len()];
    let mut out = Vec::new();
    for t in 0..tasks.len() {
        visit(t, tasks, &mut seen, &mut out);
    }
    out
}

fn reference(plan: &Plan, seed: u64) -> Outcome {
    let n = plan.tasks.len();
    let order = order(&plan.tasks);
    let mut rng = Rng(seed);
    let mut finishes = Vec::with_capacity(ITERATIONS);
    let mut critical = vec![0usize; n];
    for _ in 0..ITERATIONS {
        let mut extra = vec![0.0; n];
        for risk in &plan.risks {
            if rng.uniform() < risk.probability {
                for &t in &risk.affected {
                    if plan.tasks[t].left > 0.0 {
                        extra[t] += risk.days;
                    }
                }
            }
        }
        let mut finish = vec![0.0f64; n];
        for &t in &order {
            let task = &plan.tasks[t];
            let start = task.preds.iter().map(|&p| finish[p]).fold(0.0, f64::max);
            let work = rng.pert(task.low, task.likely, task.high) * task.scale();
            finish[t] = start + work + extra[t];
        }
        let end = finish.iter().copied().fold(0.0, f64::max);
        finishes.push(end);
        // Back from the task that finished last, through the predecessor that finished last.
        let mut at = (0..n).find(|&t| finish[t] == end);
        while let Some(t) = at {
            critical[t] += 1;
            let latest = plan.tasks[t]
                .preds
                .iter()
                .map(|&p| finish[p])
                .fold(f64::NEG_INFINITY, f64::max);
            at = plan.tasks[t]
                .preds
                .iter()
                .copied()
                .find(|&p| finish[p] == latest);
        }
    }
    finishes.sort_by(f64::total_cmp);
    Outcome {
        finish: finishes,
        critical: critical
            .into_iter()
            .map(|c| c as f64 / ITERATIONS as f64)
            .collect(),
    }
}

// ---- Comparing -----------------------------------------------------------------------------------

fn quantile(sorted: &[f64], p: f64) -> f64 {
    sorted[((p * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

/// The allowed difference between two independent estimates of a share `p`.
fn share_tolerance(p: f64) -> f64 {
    SIGMAS * (2.0 * p * (1.0 - p) / ITERATIONS as f64).sqrt() + 1e-3
}

/// The allowed difference between two independent estimates of the `p` quantile, from the density
/// around it in the reference's sample.
fn quantile_tolerance(sorted: &[f64], p: f64) -> f64 {
    let h = 0.02;
    let spread = quantile(sorted, (p + h).min(0.999)) - quantile(sorted, (p - h).max(0.0));
    let density = 2.0 * h / spread.max(1e-9);
    SIGMAS * (2.0 * p * (1.0 - p) / ITERATIONS as f64).sqrt() / density + 0.05
}

/// Runs both on `plan` (the kernel on `input`, the same plan as the kernel takes it); answers what
/// disagrees.
fn compare(what: &str, plan: &Plan, input: &SimInput, seed: u64) -> Vec<String> {
    let kernel = simulate(
        input,
        SimParams {
            iterations: ITERATIONS as u32,
            seed,
            threads: 2,
            ..SimParams::default()
        },
    )
    .expect("the kernel runs");
    let reference = reference(plan, seed ^ 0x5EED);
    let mut wrong = Vec::new();
    let k = &kernel.finish_days;
    for (p, theirs) in [(0.1, k.p10), (0.5, k.p50), (0.8, k.p80), (0.9, k.p90)] {
        let ours = quantile(&reference.finish, p);
        let tolerance = quantile_tolerance(&reference.finish, p);
        if (ours - theirs).abs() > tolerance {
            wrong.push(format!(
                "{what}: P{:.0} is {theirs:.2} working days, the reference says {ours:.2} (±{tolerance:.2})",
                p * 100.0
            ));
        }
    }
    let on_time = reference
        .finish
        .iter()
        .filter(|&&f| f <= plan.target_days)
        .count() as f64
        / ITERATIONS as f64;
    if (on_time - kernel.probability_on_time).abs() > share_tolerance(on_time) {
        wrong.push(format!(
            "{what}: on time {:.3}, the reference says {on_time:.3}",
            kernel.probability_on_time
        ));
    }
    let listed: HashMap<&str, f64> = kernel
        .critical_tasks
        .iter()
        .map(|t| (t.task.as_str(), t.criticality))
        .collect();
    let complete = kernel.critical_tasks.len() < 25;
    for (t, task) in plan.tasks.iter().enumerate() {
        if task.left <= 0.0 {
            continue;
        }
        let ours = reference.critical[t];
        let theirs = match listed.get(task.name.as_str()) {
            Some(&c) => c,
            // Not listed: none, when the list holds every task that was ever critical.
            None if complete => 0.0,
            None => continue,
        };
        if (ours - theirs).abs() > share_tolerance(ours.max(theirs)) {
            wrong.push(format!(
                "{what}: {} is critical in {theirs:.3} of iterations, the reference says {ours:.3}",
                task.name
            ));
        }
    }
    wrong
}

// ---- The demo projects, as exported --------------------------------------------------------------

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// Monday to Friday in `(after, through]`.
fn weekdays(after: NaiveDate, through: NaiveDate) -> f64 {
    after
        .iter_days()
        .skip(1)
        .take_while(|d| *d <= through)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .count() as f64
}

/// The reference's reading of an exported `pmr.project/v1` document at `status_date`.
fn plan_from_export(doc: &Value, status_date: NaiveDate) -> Plan {
    let tasks_json = doc["tasks"].as_array().expect("tasks");
    let index: HashMap<&str, usize> = tasks_json
        .iter()
        .enumerate()
        .map(|(i, t)| (t["wbs"].as_str().expect("wbs"), i))
        .collect();
    let wbs = |v: &Value| index[v.as_str().expect("wbs")];
    let tasks = tasks_json
        .iter()
        .map(|t| Task {
            name: format!(
                "{} {}",
                t["wbs"].as_str().expect("wbs"),
                t["name"].as_str().expect("name")
            ),
            low: t["optimistic_days"].as_f64().expect("a"),
            likely: t["most_likely_days"].as_f64().expect("m"),
            high: t["pessimistic_days"].as_f64().expect("b"),
            left: 1.0 - t["percent_complete"].as_f64().unwrap_or(0.0) / 100.0,
            remaining: t["remaining_days"].as_f64(),
            preds: t["predecessors"]
                .as_array()
                .map(|p| p.iter().map(wbs).collect())
                .unwrap_or_default(),
        })
        .collect();
    let risks = doc["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .filter(|r| r["status"] != "closed")
        .map(|r| Risk {
            probability: r["probability"].as_f64().expect("p"),
            days: r["schedule_impact_days"].as_f64().expect("days"),
            affected: r["affected_tasks"]
                .as_array()
                .map(|a| a.iter().map(wbs).collect())
                .unwrap_or_default(),
        })
        .collect();
    let target = date(doc["project"]["target_finish"].as_str().expect("target"));
    Plan {
        tasks,
        risks,
        target_days: weekdays(status_date, target),
    }
}

/// The status date of a project's latest report, from its Monte Carlo section.
async fn latest_status_date(app: &TestApp, code: &str) -> NaiveDate {
    let report = app.report_id(code, false).await;
    let doc = app
        .store()
        .report_document(report)
        .await
        .expect("read")
        .expect("report");
    let key = &doc
        .outline
        .sections
        .iter()
        .find(|s| s.section_type == "monte_carlo")
        .expect("a Monte Carlo section")
        .key;
    let section = doc
        .sections
        .iter()
        .find(|s| &s.key == key)
        .expect("its content");
    date(
        section.content["status_date"]
            .as_str()
            .expect("status date"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kernel_agrees_with_the_reference_on_every_demo_project() {
    let app = common::seeded().await;
    let admin = app.api_token("reference", Role::Admin, &[]).await;
    let mut wrong = Vec::new();
    for code in ["HBR", "CDW", "ERP", "CPR"] {
        let export = app
            .get(&format!("/api/projects/{code}/export"), &admin)
            .await;
        assert_eq!(export.status.as_u16(), 200, "{}", export.body);
        let status_date = latest_status_date(&app, code).await;
        let plan = plan_from_export(&export.json(), status_date);
        let id = app.project_ids(&[code]).await[0];
        let data = app
            .store()
            .project_plan(id)
            .await
            .expect("read")
            .expect("plan");
        let input = server::reports::generate::simulation_input(&data, status_date);
        assert_eq!(
            input.target_days, plan.target_days,
            "{code}: the target in working days"
        );
        let seed = 7 + code.len() as u64;
        wrong.extend(compare(code, &plan, &input, seed));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---- Generated plans -----------------------------------------------------------------------------

/// A plan of 4 to 40 tasks, each waiting on up to three earlier ones, about a third finished, a
/// third in progress; risks on random tasks (finished ones too), some project-wide.
fn generated(rng: &mut Rng) -> (Plan, SimInput) {
    let n = 4 + (rng.next() % 37) as usize;
    let mut tasks = Vec::new();
    for i in 0..n {
        let low = 1.0 + 10.0 * rng.uniform();
        let likely = low + 10.0 * rng.uniform();
        let high = likely + 20.0 * rng.uniform();
        let done = match rng.next() % 3 {
            0 => 100.0,
            1 => (1.0 + 98.0 * rng.uniform()).round(),
            _ => 0.0,
        };
        let mut preds: Vec<usize> = if i == 0 {
            Vec::new()
        } else {
            (0..rng.next() % 4)
                .map(|_| (rng.next() % i as u64) as usize)
                .collect()
        };
        preds.sort_unstable();
        preds.dedup();
        // Half the started tasks carry their owner's estimate of the days left.
        let remaining = (done > 0.0 && done < 100.0 && rng.next().is_multiple_of(2))
            .then(|| (likely * (0.2 + 1.5 * rng.uniform())).round());
        tasks.push(Task {
            name: format!("T{i}"),
            low,
            likely,
            high,
            left: 1.0 - done / 100.0,
            remaining,
            preds,
        });
    }
    let risks: Vec<Risk> = (0..rng.next() % 6)
        .map(|_| Risk {
            probability: rng.uniform(),
            days: (1.0 + 15.0 * rng.uniform()).round(),
            affected: (0..rng.next() % 4)
                .map(|_| (rng.next() % n as u64) as usize)
                .collect(),
        })
        .collect();
    let input = SimInput {
        tasks: tasks
            .iter()
            .map(|t| SimTask {
                name: t.name.clone(),
                optimistic: t.low,
                most_likely: t.likely,
                pessimistic: t.high,
                predecessors: t.preds.clone(),
                percent_complete: (1.0 - t.left) * 100.0,
                remaining_days: t.remaining,
                budgeted_cost: 1_000.0,
                actual_cost: 0.0,
            })
            .collect(),
        risks: risks
            .iter()
            .enumerate()
            .map(|(i, r)| SimRisk {
                title: format!("R{i}"),
                probability: r.probability,
                cost_impact: 500.0,
                schedule_impact_days: r.days,
                affected: r.affected.clone(),
            })
            .collect(),
        target_days: 30.0 + 30.0 * rng.uniform(),
        budget: 1e9,
    };
    let plan = Plan {
        target_days: input.target_days,
        tasks,
        risks,
    };
    (plan, input)
}

#[test]
fn the_kernel_agrees_with_the_reference_on_generated_plans() {
    let mut rng = Rng(2026);
    let mut wrong = Vec::new();
    for case in 0..24 {
        let (plan, input) = generated(&mut rng);
        wrong.extend(compare(&format!("plan {case}"), &plan, &input, 100 + case));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
