//! Monte Carlo benchmarks: the simulation at 200 tasks × 10,000 iterations (one core) and 500 tasks ×
//! 100,000 iterations (both cores), each beside a baseline of the bare sampling loop for the same
//! counts (draw every task's duration every iteration and sum, nothing else), so the ratio of the full
//! simulation to the floor is read off one run. Targets: 200 × 10k under 50 ms; 500 × 100k under 2 s;
//! within 3× of the bare loop.

use std::hint::black_box;
use std::time::Duration;

use app::analysis::DurationDistribution;
use criterion::{criterion_group, criterion_main, Criterion};
use server::domain::monte_carlo::sampler::{Sampler, Xoshiro};
use server::domain::monte_carlo::{simulate, SimInput, SimParams, SimRisk, SimTask};

/// A plan shaped like real ones: three parallel streams, a merge every 20 tasks (about 1.5
/// predecessors per task), three-point estimates skewed right, a few risk events.
fn network(tasks: usize) -> SimInput {
    let tasks: Vec<SimTask> = (0..tasks)
        .map(|i| {
            let predecessors = if i >= 3 && i % 20 < 3 {
                vec![i - 1, i - 2, i - 3]
            } else if i >= 3 {
                vec![i - 3]
            } else {
                vec![]
            };
            let m = 3.0 + (i * 7 % 11) as f64;
            SimTask {
                name: format!("Task {i}"),
                optimistic: m * 0.75,
                most_likely: m,
                pessimistic: m * 1.8,
                predecessors,
                percent_complete: 0.0,
                remaining_days: None,
                budgeted_cost: m * 5_000.0,
                actual_cost: 0.0,
            }
        })
        .collect();
    let n = tasks.len();
    let risks = (0..8)
        .map(|r| SimRisk {
            title: format!("Risk {r}"),
            probability: 0.1 + 0.05 * r as f64,
            cost_impact: 20_000.0,
            schedule_impact_days: 5.0,
            affected: vec![(r * 37) % n, (r * 53 + 11) % n],
        })
        .collect();
    SimInput {
        tasks,
        risks,
        target_days: 2.0 * n as f64,
        budget: 40_000.0 * n as f64,
    }
}

/// The floor: every duration drawn, nothing else done.
fn bare_loop(input: &SimInput, iterations: usize, seed: u64) -> f64 {
    let samplers: Vec<Sampler> = input
        .tasks
        .iter()
        .map(|t| {
            Sampler::new(
                t.optimistic,
                t.most_likely,
                t.pessimistic,
                DurationDistribution::Pert,
            )
        })
        .collect();
    let mut rng = Xoshiro::stream(seed, 0);
    let mut total = 0.0;
    for _ in 0..iterations {
        for s in &samplers {
            total += s.at(rng.unit());
        }
    }
    total
}

fn bare_loop_threads(input: &SimInput, iterations: usize, threads: usize) -> f64 {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || bare_loop(input, iterations / threads, t as u64)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
    })
}

fn small(c: &mut Criterion) {
    let input = network(200);
    let params = SimParams {
        iterations: 10_000,
        seed: 1,
        distribution: DurationDistribution::Pert,
        threads: 1,
    };
    let mut group = c.benchmark_group("monte_carlo_200x10k_1core");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("bare_sampling_loop", |b| {
        b.iter(|| black_box(bare_loop(&input, 10_000, 1)))
    });
    group.bench_function("simulation", |b| {
        b.iter(|| black_box(simulate(&input, params)))
    });
    group.finish();
}

fn large(c: &mut Criterion) {
    let input = network(500);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(2));
    let params = SimParams {
        iterations: 100_000,
        seed: 1,
        distribution: DurationDistribution::Pert,
        threads,
    };
    let mut group = c.benchmark_group("monte_carlo_500x100k_2cores");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("bare_sampling_loop", |b| {
        b.iter(|| black_box(bare_loop_threads(&input, 100_000, threads)))
    });
    group.bench_function("simulation", |b| {
        b.iter(|| black_box(simulate(&input, params)))
    });
    group.finish();
}

criterion_group!(benches, small, large);
criterion_main!(benches);
