//! From a project's tasks to earned-value inputs at a status date: the time-phased planned value
//! (each task's budget spread evenly over its planned working days, under the project's calendar), earned value from percent
//! complete, actual cost, and a bottom-up estimate to complete.

use app::analysis::{EacMethod, EsMetrics, EvInputs, EvMetrics};
use chrono::NaiveDate;

use crate::domain::evm::{earned_schedule, earned_value};
use crate::domain::project::ProjectData;

/// Earned value and earned schedule of `data` at `status_date`.
pub fn measure(
    data: &ProjectData,
    status_date: NaiveDate,
    method: EacMethod,
) -> (EvMetrics, EsMetrics) {
    let curve = planned_value_curve(data);
    let day = (status_date - data.start).num_days();
    let pv = if day < 0 {
        0.0
    } else {
        curve
            .get(day as usize)
            .or(curve.last())
            .copied()
            .unwrap_or(0.0)
    };
    let ev: f64 = data
        .tasks
        .iter()
        .map(|t| t.budgeted_cost * t.percent_complete / 100.0)
        .sum();
    let ac: f64 = data.tasks.iter().map(|t| t.actual_cost).sum();
    let inputs = EvInputs {
        bac: data.bac,
        pv,
        ev,
        ac,
        bottom_up_etc: bottom_up_etc(data),
    };
    let at = (day + 1).max(0) as f64;
    let pd = ((data.target_finish - data.start).num_days() + 1).max(1) as f64;
    (
        earned_value(inputs, method),
        earned_schedule(&curve, ev, at, pd),
    )
}

/// Cumulative planned value at the end of each calendar day from the project start (index 0) to the
/// last planned finish.
pub fn planned_value_curve(data: &ProjectData) -> Vec<f64> {
    let last = data
        .tasks
        .iter()
        .map(|t| t.planned_finish)
        .max()
        .unwrap_or(data.start);
    let days = ((last - data.start).num_days() + 1).max(1) as usize;
    let calendar = data.working_time();
    let mut daily = vec![0.0; days];
    for task in &data.tasks {
        let working: Vec<usize> = task
            .planned_start
            .iter_days()
            .take_while(|d| *d <= task.planned_finish)
            .filter(|d| calendar.is_working(*d))
            .filter_map(|d| usize::try_from((d - data.start).num_days()).ok())
            .filter(|&i| i < days)
            .collect();
        if working.is_empty() {
            let i = usize::try_from((task.planned_finish - data.start).num_days())
                .unwrap_or(0)
                .min(days - 1);
            daily[i] += task.budgeted_cost;
            continue;
        }
        let share = task.budgeted_cost / working.len() as f64;
        for i in working {
            daily[i] += share;
        }
    }
    let mut total = 0.0;
    daily
        .into_iter()
        .map(|d| {
            total += d;
            total
        })
        .collect()
}

/// Remaining cost task by task: each unfinished task's remaining budget at its own cost performance
/// so far (plan rate for tasks without cost or progress yet).
fn bottom_up_etc(data: &ProjectData) -> f64 {
    data.tasks
        .iter()
        .map(|t| {
            let earned = t.budgeted_cost * t.percent_complete / 100.0;
            let remaining = t.budgeted_cost - earned;
            let cpi = if t.actual_cost > 0.0 && earned > 0.0 {
                earned / t.actual_cost
            } else {
                1.0
            };
            remaining / cpi
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::project::TaskData;
    use app::model::Rag;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn task(start: NaiveDate, finish: NaiveDate, budget: f64, pct: f64, ac: f64) -> TaskData {
        TaskData {
            wbs: "1".into(),
            name: "T".into(),
            owner: "O".into(),
            optimistic: 1.0,
            most_likely: 2.0,
            pessimistic: 3.0,
            planned_start: start,
            planned_finish: finish,
            budgeted_cost: budget,
            actual_cost: ac,
            percent_complete: pct,
            actual_start: None,
            actual_finish: None,
            remaining_days: None,
            estimated_by_rule: false,
            constraint: None,
            predecessors: vec![],
        }
    }

    fn project(tasks: Vec<TaskData>) -> ProjectData {
        ProjectData {
            id: 1,
            code: "T".into(),
            name: "Test".into(),
            manager: "M".into(),
            currency: "EUR".into(),
            bac: tasks.iter().map(|t| t.budgeted_cost).sum(),
            start: date(2026, 11, 2),
            target_finish: date(2026, 11, 13),
            declared: [Rag::Green; 5],
            justification: String::new(),
            calendar: Default::default(),
            tasks,
            milestones: vec![],
            risks: vec![],
            history: vec![],
        }
    }

    #[test]
    fn planned_value_accrues_over_working_days_only() {
        // Mon 2 Nov to Fri 13 Nov 2026: ten working days, 100 each; the weekend adds nothing.
        let p = project(vec![task(
            date(2026, 11, 2),
            date(2026, 11, 13),
            1_000.0,
            0.0,
            0.0,
        )]);
        let curve = planned_value_curve(&p);
        assert_eq!(curve.len(), 12);
        assert!((curve[4] - 500.0).abs() < 1e-9, "Friday of week one");
        assert!((curve[6] - 500.0).abs() < 1e-9, "Sunday: unchanged");
        assert!((curve[11] - 1_000.0).abs() < 1e-9);
    }

    #[test]
    fn planned_value_follows_the_project_calendar() {
        // The same task with Wednesday 4 Nov a holiday and Saturdays worked: eleven working days
        // (2–3, 5–7, 9–14 Nov), so each takes 1/11 of the budget and the holiday adds nothing.
        let mut p = project(vec![task(
            date(2026, 11, 2),
            date(2026, 11, 14),
            1_100.0,
            0.0,
            0.0,
        )]);
        p.calendar = app::planning::ProjectCalendar {
            working_days: ["mon", "tue", "wed", "thu", "fri", "sat"]
                .map(String::from)
                .to_vec(),
            holidays: vec!["2026-11-04".into()],
            reporting_day: 31,
        };
        let curve = planned_value_curve(&p);
        assert!((curve[1] - 200.0).abs() < 1e-9, "Mon and Tue");
        assert!((curve[2] - 200.0).abs() < 1e-9, "the holiday: unchanged");
        assert!((curve[5] - 500.0).abs() < 1e-9, "Saturday 7 Nov is worked");
        assert!((curve[6] - 500.0).abs() < 1e-9, "Sunday: unchanged");
        assert!((curve[12] - 1_100.0).abs() < 1e-9);
    }

    #[test]
    fn measures_at_a_status_date() {
        let p = project(vec![
            task(date(2026, 11, 2), date(2026, 11, 6), 500.0, 100.0, 600.0),
            task(date(2026, 11, 9), date(2026, 11, 13), 500.0, 20.0, 100.0),
        ]);
        let (ev, es) = measure(&p, date(2026, 11, 10), EacMethod::Cpi);
        assert!(
            (ev.pv - 700.0).abs() < 1e-9,
            "500 + two days of the second task"
        );
        assert!((ev.ev - 600.0).abs() < 1e-9 && (ev.ac - 700.0).abs() < 1e-9);
        assert!((es.at - 9.0).abs() < 1e-9, "2 Nov to 10 Nov inclusive");
        assert!(
            (es.es - 8.0).abs() < 1e-9,
            "PV reached 600 at the end of day 8 (Mon 9 Nov)"
        );
        let etc = 0.0 + 400.0 / (100.0 / 100.0);
        assert!((ev.eac_bottom_up - (700.0 + etc)).abs() < 1e-9);
    }
}
