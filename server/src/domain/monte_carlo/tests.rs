//! Statistical and validation tests of the simulation, with fixed seeds and stated tolerances.

use super::*;

fn task(name: &str, a: f64, m: f64, b: f64, predecessors: &[usize]) -> SimTask {
    SimTask {
        name: name.into(),
        optimistic: a,
        most_likely: m,
        pessimistic: b,
        predecessors: predecessors.to_vec(),
        percent_complete: 0.0,
        remaining_days: None,
        budgeted_cost: 1_000.0,
        actual_cost: 0.0,
    }
}

fn input(tasks: Vec<SimTask>) -> SimInput {
    SimInput {
        tasks,
        risks: Vec::new(),
        target_days: 10.0,
        budget: 10_000.0,
    }
}

fn params(iterations: u32, distribution: DurationDistribution) -> SimParams {
    SimParams {
        iterations,
        seed: 2026,
        distribution,
        threads: 1,
    }
}

fn run(input: &SimInput, p: SimParams) -> MonteCarloResult {
    simulate(input, p).expect("valid simulation")
}

#[test]
fn a_single_triangular_task_has_the_textbook_mean_and_median() {
    // Triangular(2, 5, 14): mean (2 + 5 + 14) / 3 = 7; F(5) = 0.25, so the median is on the right
    // branch: 14 − √(0.5 · 12 · 9) = 14 − √54 ≈ 6.652; P90 = 14 − √(0.1 · 12 · 9) ≈ 10.714.
    let r = run(
        &input(vec![task("Only", 2.0, 5.0, 14.0, &[])]),
        params(40_000, DurationDistribution::Triangular),
    );
    assert!(
        (r.finish_days.mean - 7.0).abs() < 0.05,
        "mean {}",
        r.finish_days.mean
    );
    assert!(
        (r.finish_days.p50 - (14.0 - 54f64.sqrt())).abs() < 0.06,
        "p50 {}",
        r.finish_days.p50
    );
    assert!(
        (r.finish_days.p90 - (14.0 - 10.8f64.sqrt())).abs() < 0.08,
        "p90 {}",
        r.finish_days.p90
    );
    assert_eq!(r.critical_tasks[0].criticality, 1.0);
}

#[test]
fn parallel_paths_show_merge_bias() {
    // Finish = max of two independent Triangular(2, 5, 14): its median is the single task's
    // 70.7th percentile, F⁻¹(√0.5) = 14 − √((1 − 0.7071) · 108) ≈ 8.376, later than either path's 6.652.
    let single = run(
        &input(vec![task("A", 2.0, 5.0, 14.0, &[])]),
        params(40_000, DurationDistribution::Triangular),
    );
    let both = run(
        &input(vec![
            task("A", 2.0, 5.0, 14.0, &[]),
            task("B", 2.0, 5.0, 14.0, &[]),
        ]),
        params(40_000, DurationDistribution::Triangular),
    );
    let expected = 14.0 - ((1.0 - 0.5f64.sqrt()) * 108.0).sqrt();
    assert!(
        (both.finish_days.p50 - expected).abs() < 0.08,
        "merged p50 {}",
        both.finish_days.p50
    );
    assert!(
        both.finish_days.mean > single.finish_days.mean + 1.0,
        "merge bias pushes the mean out"
    );
    for t in &both.critical_tasks {
        assert!(
            (t.criticality - 0.5).abs() < 0.02,
            "{} critical {}",
            t.task,
            t.criticality
        );
    }
}

#[test]
fn a_sure_risk_event_shifts_the_finish_by_its_impact() {
    let mut plan = input(vec![
        task("Dig", 4.0, 4.0, 4.0, &[]),
        task("Pour", 6.0, 6.0, 6.0, &[0]),
    ]);
    let before = run(&plan, params(1_000, DurationDistribution::Pert));
    plan.risks.push(SimRisk {
        title: "Flooding".into(),
        probability: 1.0,
        cost_impact: 2_500.0,
        schedule_impact_days: 7.5,
        affected: vec![0],
    });
    let after = run(&plan, params(1_000, DurationDistribution::Pert));
    assert_eq!(before.finish_days.p50, 10.0);
    assert_eq!(after.finish_days.p10, 17.5);
    assert_eq!(after.finish_days.p95, 17.5);
    assert!((after.cost.mean - before.cost.mean - 2_500.0).abs() < 1e-6);
    assert_eq!(after.probability_on_time, 0.0);
}

#[test]
fn a_risk_that_strikes_sometimes_shifts_the_right_share() {
    let mut plan = input(vec![task("Only", 5.0, 5.0, 5.0, &[])]);
    plan.risks.push(SimRisk {
        title: "Strike".into(),
        probability: 0.3,
        cost_impact: 0.0,
        schedule_impact_days: 10.0,
        affected: vec![0],
    });
    let r = run(&plan, params(20_000, DurationDistribution::Pert));
    assert!(
        (r.probability_on_time - 0.7).abs() < 0.015,
        "on time {}",
        r.probability_on_time
    );
}

#[test]
fn progress_is_honoured() {
    let mut done = task("Done", 10.0, 10.0, 10.0, &[]);
    done.percent_complete = 100.0;
    done.actual_cost = 1_200.0;
    let mut half = task("Half", 8.0, 8.0, 8.0, &[0]);
    half.percent_complete = 50.0;
    half.actual_cost = 600.0;
    let r = run(
        &input(vec![done, half]),
        params(100, DurationDistribution::Pert),
    );
    assert_eq!(r.finish_days.p50, 4.0, "only half of 8 days remain");
    assert!(
        (r.cost.p50 - (1_200.0 + 600.0 + 500.0)).abs() < 1e-6,
        "spent plus remaining budget"
    );
}

#[test]
fn criticality_and_sensitivity_find_the_driving_chain() {
    let plan = input(vec![
        task("Design", 5.0, 10.0, 20.0, &[]),
        task("Build", 5.0, 10.0, 20.0, &[0]),
        task("Side job", 1.0, 2.0, 3.0, &[]),
    ]);
    let r = run(&plan, params(5_000, DurationDistribution::Pert));
    let critical: Vec<&str> = r.critical_tasks.iter().map(|t| t.task.as_str()).collect();
    assert_eq!(critical, ["Design", "Build"]);
    assert!(r.critical_tasks.iter().all(|t| t.criticality == 1.0));
    assert!(
        r.sensitive_tasks
            .iter()
            .take(2)
            .all(|t| t.sensitivity > 0.6),
        "{:?}",
        r.sensitive_tasks
    );
    assert!(r
        .sensitive_tasks
        .iter()
        .all(|t| t.task != "Side job" || t.sensitivity.abs() < 0.1));
}

#[test]
fn joint_confidence_is_below_each_marginal() {
    let mut plan = input(
        (0..20)
            .map(|i| {
                task(
                    &format!("T{i}"),
                    1.0,
                    2.0,
                    6.0,
                    if i == 0 { &[] } else { &[0] },
                )
            })
            .collect(),
    );
    plan.target_days = 6.0;
    plan.budget = 20_000.0;
    let r = run(&plan, params(10_000, DurationDistribution::Pert));
    assert!(r.joint_confidence <= r.probability_on_time.min(r.probability_on_budget) + 1e-12);
    assert!(r.joint_confidence > 0.0);
}

#[test]
fn results_repeat_for_a_seed_whatever_the_threads() {
    let plan = input(
        (0..30usize)
            .map(|i| {
                task(
                    &format!("T{i}"),
                    1.0,
                    3.0,
                    9.0,
                    &i.checked_sub(3).into_iter().collect::<Vec<_>>(),
                )
            })
            .collect(),
    );
    let strip = |mut r: MonteCarloResult| {
        r.elapsed_ms = 0.0;
        r
    };
    let one = strip(run(
        &plan,
        SimParams {
            threads: 1,
            ..params(5_000, DurationDistribution::Pert)
        },
    ));
    let again = strip(run(
        &plan,
        SimParams {
            threads: 1,
            ..params(5_000, DurationDistribution::Pert)
        },
    ));
    let three = strip(run(
        &plan,
        SimParams {
            threads: 3,
            ..params(5_000, DurationDistribution::Pert)
        },
    ));
    assert_eq!(one, again);
    assert_eq!(one, three);
    let other_seed = strip(run(
        &plan,
        SimParams {
            seed: 7,
            ..params(5_000, DurationDistribution::Pert)
        },
    ));
    assert_ne!(one.finish_days, other_seed.finish_days);
}

#[test]
fn bad_inputs_name_the_task_and_problem() {
    let cycle = input(vec![
        task("A", 1.0, 2.0, 3.0, &[1]),
        task("B", 1.0, 2.0, 3.0, &[0]),
    ]);
    assert!(
        matches!(simulate(&cycle, SimParams::default()), Err(SimError::Cycle { task }) if task == "A")
    );
    let backwards = input(vec![task("Survey", 5.0, 3.0, 9.0, &[])]);
    let err = simulate(&backwards, SimParams::default()).expect_err("optimistic above most likely");
    assert!(
        err.to_string()
            .starts_with("task 'Survey': estimates must satisfy"),
        "{err}"
    );
    let negative = input(vec![task("Permit", -1.0, 2.0, 3.0, &[])]);
    assert!(simulate(&negative, SimParams::default())
        .expect_err("negative")
        .to_string()
        .contains("'Permit': optimistic must be a non-negative"));
    let dangling = input(vec![task("Lone", 1.0, 2.0, 3.0, &[5])]);
    assert!(simulate(&dangling, SimParams::default())
        .expect_err("dangling")
        .to_string()
        .contains("task #5"));
    let mut risky = input(vec![task("T", 1.0, 2.0, 3.0, &[])]);
    risky.risks.push(SimRisk {
        title: "Odd".into(),
        probability: 1.5,
        cost_impact: 0.0,
        schedule_impact_days: 0.0,
        affected: vec![],
    });
    assert!(simulate(&risky, SimParams::default())
        .expect_err("probability")
        .to_string()
        .starts_with("risk 'Odd'"));
    let fine = input(vec![task("T", 1.0, 2.0, 3.0, &[])]);
    let too_many = SimParams {
        iterations: MAX_ITERATIONS + 1,
        ..SimParams::default()
    };
    assert!(matches!(
        simulate(&fine, too_many),
        Err(SimError::Iterations { .. })
    ));
    assert!(matches!(
        simulate(
            &fine,
            SimParams {
                iterations: 0,
                ..SimParams::default()
            }
        ),
        Err(SimError::Iterations { .. })
    ));
    assert_eq!(
        simulate(&input(vec![]), SimParams::default()).expect_err("empty"),
        SimError::NoTasks
    );
}

/// A random plan: up to 14 tasks, each waiting on some earlier ones, with random estimates and
/// progress (some finished, some in progress, some not started).
fn plan() -> impl proptest::strategy::Strategy<Value = SimInput> {
    use proptest::prelude::*;
    let one = (
        0.0f64..10.0,
        0.0f64..10.0,
        0.0f64..10.0,
        prop_oneof![Just(0.0), Just(100.0), 1.0f64..99.0],
        proptest::collection::vec(any::<proptest::sample::Index>(), 0..3),
    );
    proptest::collection::vec(one, 1..14).prop_map(|specs| {
        let tasks = specs
            .into_iter()
            .enumerate()
            .map(|(i, (x, y, z, done, preds))| {
                let mut e = [x, y, z];
                e.sort_by(f64::total_cmp);
                let mut predecessors: Vec<usize> = if i == 0 {
                    Vec::new()
                } else {
                    preds.iter().map(|p| p.index(i)).collect()
                };
                predecessors.sort_unstable();
                predecessors.dedup();
                SimTask {
                    name: format!("T{i}"),
                    optimistic: e[0],
                    most_likely: e[1],
                    pessimistic: e[2],
                    predecessors,
                    percent_complete: done,
                    remaining_days: None,
                    budgeted_cost: 1_000.0,
                    actual_cost: 10.0 * done,
                }
            })
            .collect();
        SimInput {
            tasks,
            risks: Vec::new(),
            target_days: 12.0,
            budget: 15_000.0,
        }
    })
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(64))]

    /// A risk that affects only finished tasks changes nothing, whatever its probability and impacts.
    #[test]
    fn a_risk_on_finished_work_changes_nothing(
        mut plan in plan(),
        probability in 0.0f64..=1.0,
        days in 0.0f64..30.0,
        cost in 0.0f64..50_000.0,
    ) {
        let finished: Vec<usize> = (0..plan.tasks.len())
            .filter(|&i| plan.tasks[i].percent_complete >= 100.0)
            .collect();
        proptest::prop_assume!(!finished.is_empty());
        let before = run(&plan, params(2_000, DurationDistribution::Pert));
        plan.risks.push(SimRisk {
            title: "Spent".into(),
            probability,
            cost_impact: cost,
            schedule_impact_days: days,
            affected: finished,
        });
        let after = run(&plan, params(2_000, DurationDistribution::Pert));
        proptest::prop_assert_eq!(before.finish_days, after.finish_days);
        proptest::prop_assert_eq!(before.cost, after.cost);
        proptest::prop_assert_eq!(before.critical_tasks, after.critical_tasks);
        proptest::prop_assert_eq!(before.probability_on_time, after.probability_on_time);
    }

    /// On a plan that is one path, a sure risk on a task with work left shifts every percentile of
    /// the finish by exactly its impact.
    #[test]
    fn a_sure_risk_on_the_only_path_shifts_every_percentile_by_its_impact(
        mut plan in plan(),
        pick in proptest::prelude::any::<proptest::sample::Index>(),
        days in 0.5f64..30.0,
    ) {
        for (i, t) in plan.tasks.iter_mut().enumerate() {
            t.predecessors = if i == 0 { Vec::new() } else { vec![i - 1] };
        }
        let open: Vec<usize> = (0..plan.tasks.len())
            .filter(|&i| plan.tasks[i].percent_complete < 100.0)
            .collect();
        proptest::prop_assume!(!open.is_empty());
        let before = run(&plan, params(2_000, DurationDistribution::Pert));
        plan.risks.push(SimRisk {
            title: "Sure".into(),
            probability: 1.0,
            cost_impact: 0.0,
            schedule_impact_days: days,
            affected: vec![open[pick.index(open.len())]],
        });
        let after = run(&plan, params(2_000, DurationDistribution::Pert));
        let (b, a) = (before.finish_days, after.finish_days);
        for (x, y) in [(b.p10, a.p10), (b.p50, a.p50), (b.p80, a.p80), (b.p90, a.p90), (b.p95, a.p95), (b.mean, a.mean)] {
            proptest::prop_assert!((y - x - days).abs() < 1e-9, "{} then {} for {} days", x, y, days);
        }
    }

    /// With every task finished, the finish is the status date in every iteration, and the cost is
    /// what was spent.
    #[test]
    fn finished_everywhere_is_a_point_at_the_status_date(mut plan in plan(), days in 0.0f64..30.0) {
        for t in &mut plan.tasks {
            t.percent_complete = 100.0;
        }
        plan.risks.push(SimRisk {
            title: "Late".into(),
            probability: 0.7,
            cost_impact: 9_000.0,
            schedule_impact_days: days,
            affected: vec![0],
        });
        let r = run(&plan, params(1_000, DurationDistribution::Pert));
        let f = r.finish_days;
        proptest::prop_assert_eq!([f.p10, f.p50, f.p80, f.p90, f.p95, f.mean], [0.0; 6]);
        let spent: f64 = plan.tasks.iter().map(|t| t.actual_cost).sum();
        proptest::prop_assert!((r.cost.p95 - spent).abs() < 1e-6);
        proptest::prop_assert!((r.cost.p10 - spent).abs() < 1e-6);
        proptest::prop_assert_eq!(r.probability_on_time, 1.0);
    }
}

#[test]
fn an_estimate_of_the_days_left_centres_the_remaining_duration_on_it() {
    // Triangular(2, 5, 14), mean 7, half done: without an estimate the remaining duration averages
    // 3.5 days; with "12 days left" it averages 12, keeping the distribution's shape (scaled by
    // 12 / 7). The remaining budget (500 of 1,000) is spent either way, on average.
    let half_done = |remaining_days| SimTask {
        percent_complete: 50.0,
        remaining_days,
        actual_cost: 400.0,
        ..task("Half", 2.0, 5.0, 14.0, &[])
    };
    let p = || params(40_000, DurationDistribution::Triangular);
    let plain = run(&input(vec![half_done(None)]), p());
    let estimated = run(&input(vec![half_done(Some(12.0))]), p());
    assert!(
        (plain.finish_days.mean - 3.5).abs() < 0.03,
        "{}",
        plain.finish_days.mean
    );
    assert!(
        (estimated.finish_days.mean - 12.0).abs() < 0.1,
        "{}",
        estimated.finish_days.mean
    );
    let p90 = 12.0 / 7.0 * (14.0 - 10.8f64.sqrt());
    assert!(
        (estimated.finish_days.p90 - p90).abs() < 0.15,
        "p90 {}",
        estimated.finish_days.p90
    );
    for r in [&plain, &estimated] {
        assert!((r.cost.mean - 900.0).abs() < 2.0, "cost {}", r.cost.mean);
    }
    // "Nothing left" finishes at once and commits the remaining budget.
    let none_left = run(&input(vec![half_done(Some(0.0))]), p());
    assert_eq!(none_left.finish_days.p90, 0.0);
    assert!((none_left.cost.mean - 900.0).abs() < 1e-6);
    // A negative estimate is refused, naming the task.
    let refused = simulate(&input(vec![half_done(Some(-1.0))]), p()).expect_err("refused");
    assert!(refused.to_string().contains("remaining days"), "{refused}");
}

#[test]
fn a_large_plan_gets_fewer_iterations_and_a_bounded_sample() {
    assert_eq!(max_iterations(500), MAX_ITERATIONS);
    assert_eq!(max_iterations(5_000), 200_000);
    assert_eq!(max_iterations(50_000), 20_000);
    assert_eq!(max_iterations(0), MAX_ITERATIONS);
    // The sample of durations for the ranking never exceeds its cells, whatever the plan.
    for tasks in [1, 500, 5_000, 50_000, 60_000] {
        let rows = sample_rows(tasks);
        assert!((3..=SENSITIVITY_SAMPLE).contains(&rows), "{tasks}: {rows}");
        assert!(
            rows * tasks <= SAMPLE_CELLS.max(3 * tasks),
            "{tasks}: {rows}"
        );
    }
    assert_eq!(sample_rows(500), SENSITIVITY_SAMPLE);
    assert_eq!(sample_rows(50_000), 200);
    // A chain of 20,000 tasks: 50,001 iterations are refused with the bound, 50,000 run, and the
    // ranking says how many iterations it kept.
    let chain: Vec<SimTask> = (0..20_000)
        .map(|i| {
            let before: Vec<usize> = if i == 0 { vec![] } else { vec![i - 1] };
            task(&format!("T{i}"), 1.0, 2.0, 3.0, &before)
        })
        .collect();
    let big = input(chain);
    match simulate(&big, params(50_001, DurationDistribution::Pert)) {
        Err(SimError::Iterations { requested, max }) => {
            assert_eq!((requested, max), (50_001, 50_000))
        }
        other => panic!("{:?}", other.map(|r| r.iterations)),
    }
    let result = run(&big, params(1_000, DurationDistribution::Pert));
    assert_eq!(result.sensitivity_sample, 500);
}
