//! The compiled network and the per-iteration loop: the hot path of the simulation.
//!
//! Tasks are renumbered in topological order and predecessor lists flattened into one array, so an
//! iteration is a single pass over contiguous memory with no allocation: draw, add risk delays, take
//! the latest predecessor finish (remembering which one drove the start), and at the end walk the
//! drivers back from the last finisher to mark the critical path.

use std::collections::VecDeque;

use app::analysis::DurationDistribution;

use super::sampler::{Sampler, Xoshiro};
use super::{SimError, SimInput, SimTask, CHUNK};

/// No predecessor drove this task's start.
const NONE: u32 = u32::MAX;

/// The validated, topologically ordered network.
pub struct Network {
    /// Original task index of each position in topological order.
    order: Vec<usize>,
    /// Samplers, remaining fractions and cost terms, by position.
    samplers: Vec<Sampler>,
    remaining: Vec<f64>,
    /// Remaining budget per working day of sampled duration (0 for finished tasks).
    cost_per_day: Vec<f64>,
    committed_cost: f64,
    /// Predecessor positions of position `p`: `preds[pred_start[p]..pred_start[p + 1]]`.
    pred_start: Vec<u32>,
    preds: Vec<u32>,
    risks: Vec<CompiledRisk>,
}

struct CompiledRisk {
    probability: f64,
    cost: f64,
    days: f64,
    positions: Vec<u32>,
}

/// Raw outcomes of all iterations, in iteration order.
pub struct Runs {
    pub finish: Vec<f64>,
    pub cost: Vec<f64>,
    /// Times each task (original index) was critical.
    pub critical_counts: Vec<u32>,
    /// Durations of the first `sample_rows` iterations, row-major by original task index.
    pub sample_durations: Vec<f32>,
    pub sample_rows: usize,
}

impl Network {
    /// Validates the input and compiles it.
    pub fn build(
        input: &SimInput,
        distribution: DurationDistribution,
    ) -> Result<Network, SimError> {
        if input.tasks.is_empty() {
            return Err(SimError::NoTasks);
        }
        validate_tasks(input)?;
        let order = topological_order(input)?;
        let mut position = vec![0u32; order.len()];
        for (p, &t) in order.iter().enumerate() {
            position[t] = p as u32;
        }
        let mut pred_start = Vec::with_capacity(order.len() + 1);
        let mut preds = Vec::new();
        let (mut samplers, mut remaining, mut cost_per_day) = (Vec::new(), Vec::new(), Vec::new());
        let mut committed_cost = 0.0;
        for &t in &order {
            let task = &input.tasks[t];
            pred_start.push(preds.len() as u32);
            preds.extend(task.predecessors.iter().map(|&q| position[q]));
            samplers.push(Sampler::new(
                task.optimistic,
                task.most_likely,
                task.pessimistic,
                distribution,
            ));
            let left = 1.0 - task.percent_complete / 100.0;
            let budget_left = task.budgeted_cost * left;
            let expected = expected_duration(task, distribution);
            // The factor the sampled full duration is scaled by: the share left to do, or, with
            // an estimate of the days left, what centres the draw's mean on that estimate.
            let scale = match task.remaining_days {
                Some(days) if left > 0.0 && expected > 0.0 => days / expected,
                // Zero-length estimates cannot be rescaled: the task takes no time either way,
                // and an estimate of days left on it is not used.
                Some(_) if left > 0.0 => 0.0,
                _ => left,
            };
            remaining.push(scale);
            // The remaining budget is spent over the sampled remaining days (its mean is the
            // budget); work with no remaining duration commits its budget outright.
            let span = expected * scale;
            if span > 0.0 {
                cost_per_day.push(budget_left / span);
                committed_cost += task.actual_cost;
            } else {
                cost_per_day.push(0.0);
                committed_cost += task.actual_cost + budget_left;
            }
        }
        pred_start.push(preds.len() as u32);
        let risks = compile_risks(input, &position)?;
        Ok(Network {
            order,
            samplers,
            remaining,
            cost_per_day,
            committed_cost,
            pred_start,
            preds,
            risks,
        })
    }

    /// Runs `iterations` iterations on `threads` threads, keeping durations of the first
    /// `sample_rows` iterations.
    pub fn run(&self, iterations: usize, seed: u64, threads: usize, sample_rows: usize) -> Runs {
        let n = self.order.len();
        let sample_rows = sample_rows.min(iterations);
        let mut finish = vec![0.0; iterations];
        let mut cost = vec![0.0; iterations];
        let mut sample = vec![0f32; sample_rows * n];
        let mut work: Vec<Vec<Chunk<'_>>> = (0..threads).map(|_| Vec::new()).collect();
        let mut sample_rest: &mut [f32] = &mut sample;
        for (index, (f, c)) in finish
            .chunks_mut(CHUNK)
            .zip(cost.chunks_mut(CHUNK))
            .enumerate()
        {
            let rows = sample_rows.saturating_sub(index * CHUNK).min(f.len());
            let (mine, rest) = std::mem::take(&mut sample_rest).split_at_mut(rows * n);
            sample_rest = rest;
            work[index % threads].push(Chunk {
                index,
                finish: f,
                cost: c,
                sample: mine,
            });
        }
        let counts: Vec<Vec<u32>> = std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .into_iter()
                .map(|chunks| scope.spawn(move || self.run_chunks(chunks, seed)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut critical_counts = vec![0u32; n];
        for per_thread in counts {
            for (p, c) in per_thread.into_iter().enumerate() {
                critical_counts[self.order[p]] += c;
            }
        }
        Runs {
            finish,
            cost,
            critical_counts,
            sample_durations: sample,
            sample_rows,
        }
    }

    fn run_chunks(&self, chunks: Vec<Chunk<'_>>, seed: u64) -> Vec<u32> {
        let n = self.order.len();
        let mut scratch = Scratch {
            finish: vec![0.0; n],
            duration: vec![0.0; n],
            delay: vec![0.0; n],
            driver: vec![NONE; n],
            critical: vec![0u32; n],
        };
        for chunk in chunks {
            let mut rng = Xoshiro::stream(seed, chunk.index as u64);
            for i in 0..chunk.finish.len() {
                let (f, c) = self.iteration(&mut rng, &mut scratch);
                chunk.finish[i] = f;
                chunk.cost[i] = c;
                if (i + 1) * n <= chunk.sample.len() {
                    for (p, &d) in scratch.duration.iter().enumerate() {
                        chunk.sample[i * n + self.order[p]] = d as f32;
                    }
                }
            }
        }
        scratch.critical
    }

    /// One iteration: returns (finish, cost) and counts the critical path into `s.critical`.
    #[inline]
    fn iteration(&self, rng: &mut Xoshiro, s: &mut Scratch) -> (f64, f64) {
        let mut cost = self.committed_cost;
        for risk in &self.risks {
            // A sure risk takes no draw: it strikes in every iteration.
            if risk.probability >= 1.0 || rng.unit() < risk.probability {
                cost += risk.cost;
                for &p in &risk.positions {
                    s.delay[p as usize] += risk.days;
                }
            }
        }
        let (mut end, mut last) = (0.0f64, 0usize);
        for p in 0..self.order.len() {
            let drawn = self.samplers[p].at(rng.unit()) * self.remaining[p];
            cost += drawn * self.cost_per_day[p];
            let duration = drawn + s.delay[p];
            s.delay[p] = 0.0;
            let (mut start, mut driver) = (0.0f64, NONE);
            for &q in &self.preds[self.pred_start[p] as usize..self.pred_start[p + 1] as usize] {
                let f = s.finish[q as usize];
                if f > start || driver == NONE {
                    start = start.max(f);
                    driver = q;
                }
            }
            let finish = start + duration;
            s.duration[p] = duration;
            s.finish[p] = finish;
            s.driver[p] = driver;
            if finish > end || p == 0 {
                end = finish;
                last = p;
            }
        }
        let mut p = last as u32;
        while p != NONE {
            s.critical[p as usize] += 1;
            p = s.driver[p as usize];
        }
        (end, cost)
    }
}

struct Chunk<'a> {
    index: usize,
    finish: &'a mut [f64],
    cost: &'a mut [f64],
    sample: &'a mut [f32],
}

struct Scratch {
    finish: Vec<f64>,
    duration: Vec<f64>,
    delay: Vec<f64>,
    driver: Vec<u32>,
    critical: Vec<u32>,
}

/// The mean of a task's duration distribution. A task's budget is read as its expected cost, so the
/// remaining cost of an iteration is the remaining budget scaled by sampled over expected duration:
/// cost uncertainty centres on the budget instead of drifting above it by the estimates' skew.
fn expected_duration(task: &SimTask, distribution: DurationDistribution) -> f64 {
    let (a, m, b) = (task.optimistic, task.most_likely, task.pessimistic);
    match distribution {
        DurationDistribution::Pert => (a + 4.0 * m + b) / 6.0,
        DurationDistribution::Triangular => (a + m + b) / 3.0,
    }
}

fn validate_tasks(input: &SimInput) -> Result<(), SimError> {
    let n = input.tasks.len();
    for task in &input.tasks {
        let fail = |problem: String| {
            Err(SimError::Task {
                task: task.name.clone(),
                problem,
            })
        };
        let values = [
            ("optimistic", task.optimistic),
            ("most likely", task.most_likely),
            ("pessimistic", task.pessimistic),
            ("budgeted cost", task.budgeted_cost),
            ("actual cost", task.actual_cost),
        ];
        for (field, value) in values {
            if !value.is_finite() || value < 0.0 {
                return fail(format!(
                    "{field} must be a non-negative number, not {value}"
                ));
            }
        }
        if task.optimistic > task.most_likely || task.most_likely > task.pessimistic {
            return fail(format!(
                "estimates must satisfy optimistic ≤ most likely ≤ pessimistic, not {} / {} / {}",
                task.optimistic, task.most_likely, task.pessimistic
            ));
        }
        if let Some(days) = task.remaining_days.filter(|d| !d.is_finite() || *d < 0.0) {
            return fail(format!(
                "remaining days must be a non-negative number, not {days}"
            ));
        }
        if !(0.0..=100.0).contains(&task.percent_complete) {
            return fail(format!(
                "percent complete must be 0–100, not {}",
                task.percent_complete
            ));
        }
        if let Some(&bad) = task.predecessors.iter().find(|&&p| p >= n) {
            return fail(format!("depends on task #{bad}, which does not exist"));
        }
    }
    Ok(())
}

/// Kahn's algorithm; on a cycle, names a task that is on it (or waits on it).
fn topological_order(input: &SimInput) -> Result<Vec<usize>, SimError> {
    let n = input.tasks.len();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = vec![0; n];
    for (t, task) in input.tasks.iter().enumerate() {
        for &p in &task.predecessors {
            successors[p].push(t);
            waiting[t] += 1;
        }
    }
    let mut ready: VecDeque<usize> = (0..n).filter(|&t| waiting[t] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(t) = ready.pop_front() {
        order.push(t);
        for &s in &successors[t] {
            waiting[s] -= 1;
            if waiting[s] == 0 {
                ready.push_back(s);
            }
        }
    }
    match (0..n).find(|&t| waiting[t] > 0) {
        Some(t) => Err(SimError::Cycle {
            task: input.tasks[t].name.clone(),
        }),
        None => Ok(order),
    }
}

/// The risks that can still strike, compiled. A risk can only delay work that is left: its days go
/// to the affected tasks that are not complete (the whole impact, to a task in progress too). A
/// risk whose affected tasks are all complete can no longer strike, so it is left out: neither days
/// nor cost, and no random draw (the run is the run without it).
fn compile_risks(input: &SimInput, position: &[u32]) -> Result<Vec<CompiledRisk>, SimError> {
    let mut compiled = Vec::with_capacity(input.risks.len());
    for r in &input.risks {
        let fail = |problem: String| {
            Err(SimError::Risk {
                risk: r.title.clone(),
                problem,
            })
        };
        if !(0.0..=1.0).contains(&r.probability) {
            return fail(format!("probability must be 0–1, not {}", r.probability));
        }
        if !(r.cost_impact >= 0.0 && r.schedule_impact_days >= 0.0) {
            return fail("impacts must be non-negative".into());
        }
        if let Some(&bad) = r.affected.iter().find(|&&t| t >= position.len()) {
            return fail(format!("affects task #{bad}, which does not exist"));
        }
        let open: Vec<u32> = r
            .affected
            .iter()
            .filter(|&&t| input.tasks[t].percent_complete < 100.0)
            .map(|&t| position[t])
            .collect();
        if (!r.affected.is_empty() && open.is_empty()) || r.probability == 0.0 {
            continue;
        }
        compiled.push(CompiledRisk {
            probability: r.probability,
            cost: r.cost_impact,
            days: r.schedule_impact_days,
            positions: open,
        });
    }
    Ok(compiled)
}
