//! Report generation for a 300-task project with a 10,000-iteration Monte Carlo run: earned value,
//! status checks, simulation, insights and every section's JSON, as a cold (uncached) generation
//! does it. Target: under 250 ms.

use std::hint::black_box;
use std::time::Duration as StdDuration;

use app::model::{Priority, Rag, TemplateSection};
use chrono::{Duration, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion};
use server::domain::calendar::STANDARD;
use server::domain::project::{MilestoneData, ProjectData, RiskData, TaskData};
use server::insights::rules::RulesEngine;
use server::reports::generate::{generate, GenerationParams};

fn template() -> Vec<TemplateSection> {
    [
        "executive_summary",
        "key_metrics",
        "ai_insights",
        "monte_carlo",
        "charts",
        "milestones",
        "risks",
        "appendix",
    ]
    .into_iter()
    .map(|t| TemplateSection {
        key: t.replace('_', "-"),
        section_type: t.into(),
        title: t.into(),
        priority: Priority::High,
    })
    .collect()
}

/// Three streams of 100 tasks with merges every 20, half done at the status date.
fn project(status: NaiveDate) -> ProjectData {
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).expect("date");
    let mut tasks: Vec<TaskData> = Vec::with_capacity(300);
    for i in 0..300usize {
        let predecessors = if i >= 3 && i % 20 < 3 {
            vec![i - 1, i - 2, i - 3]
        } else if i >= 3 {
            vec![i - 3]
        } else {
            vec![]
        };
        let begin = predecessors
            .iter()
            .map(|&p| STANDARD.add_working_days(tasks[p].planned_finish, 1))
            .max()
            .unwrap_or(start);
        let m = 2.0 + (i * 7 % 5) as f64;
        let finish = STANDARD.add_working_days(begin, m as i64 - 1);
        let pct = if finish <= status {
            100.0
        } else if begin <= status {
            40.0
        } else {
            0.0
        };
        let budget = m * 4_000.0;
        tasks.push(TaskData {
            wbs: format!("{}", i + 1),
            name: format!("Work package {i}"),
            owner: format!("Owner {}", i % 7),
            optimistic: m * 0.75,
            most_likely: m,
            pessimistic: m * 1.8,
            planned_start: begin,
            planned_finish: finish,
            budgeted_cost: budget,
            actual_cost: budget * pct / 100.0 * 1.1,
            percent_complete: pct,
            actual_start: (pct > 0.0).then_some(begin),
            actual_finish: (pct >= 100.0).then_some(finish),
            remaining_days: None,
            estimated_by_rule: false,
            constraint: None,
            predecessors,
        });
    }
    let end = tasks
        .iter()
        .map(|t| t.planned_finish)
        .max()
        .unwrap_or(start);
    let milestones = (0..6)
        .map(|k| {
            let baseline = tasks[(k + 1) * 50 - 1].planned_finish;
            MilestoneData {
                name: format!("Milestone {k}"),
                baseline,
                forecast: baseline + Duration::days(5),
                actual: None,
                history: vec![],
            }
        })
        .collect();
    let risks = (0..8)
        .map(|r| RiskData {
            title: format!("Risk {r}"),
            probability: 0.1 + 0.07 * r as f64,
            cost_impact: 30_000.0,
            schedule_impact_days: 4.0,
            owner: "Risk owner".into(),
            mitigation: "Mitigation".into(),
            status: "open".into(),
            affected: vec![(r * 37) % 300, (r * 53 + 11) % 300],
        })
        .collect();
    ProjectData {
        id: 1,
        code: "BEN".into(),
        name: "Benchmark project".into(),
        manager: "M".into(),
        currency: "EUR".into(),
        bac: tasks.iter().map(|t| t.budgeted_cost).sum(),
        start,
        target_finish: end + Duration::days(30),
        declared: [Rag::Green; 5],
        justification: "Bench.".into(),
        calendar: Default::default(),
        tasks,
        milestones,
        risks,
        history: vec![],
    }
}

fn generation(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let status = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
    let data = project(status);
    let template = template();
    let params = GenerationParams {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..GenerationParams::default()
    };
    let mut group = c.benchmark_group("report_generation_300_tasks_10k");
    group
        .sample_size(20)
        .measurement_time(StdDuration::from_secs(8));
    group.bench_function("generate", |b| {
        b.iter(|| {
            black_box(runtime.block_on(generate(
                &data,
                "2026-06",
                status,
                &template,
                params,
                &RulesEngine,
            )))
        })
    });
    group.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
