//! Turns a demo [`Profile`] into a dated plan: tasks in parallel streams per phase, each phase waiting
//! for the last one (merge points, as real plans have), three-point estimates, budgets, and progress
//! and cost at a status date that reproduce the profile's schedule and cost efficiency.

use chrono::{Duration, NaiveDate};

use crate::domain::calendar::STANDARD;

// The demo's projects keep the standard calendar (Monday to Friday, no holidays).
pub fn add_working_days(date: NaiveDate, n: i64) -> NaiveDate {
    STANDARD.add_working_days(date, n)
}

pub fn working_day_from(date: NaiveDate) -> NaiveDate {
    STANDARD.working_day_from(date)
}

pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    STANDARD.working_days_between(from, to)
}

use super::catalogue::{owners, Profile};

/// Parallel work streams per phase.
const STREAMS: usize = 3;

/// A small deterministic generator (SplitMix64): the demo portfolio is the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[low, high)`.
    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        low + unit * (high - low)
    }

    /// A uniform index below `n` (n > 0).
    pub fn index(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A task of the generated plan, with its progress at the status date.
#[derive(Debug, Clone)]
pub struct PlannedTask {
    pub wbs: String,
    pub name: String,
    pub owner: String,
    pub phase: usize,
    pub optimistic: f64,
    pub most_likely: f64,
    pub pessimistic: f64,
    pub start: NaiveDate,
    pub finish: NaiveDate,
    pub budget: f64,
    /// Indexes of the tasks this one waits for.
    pub predecessors: Vec<usize>,
    pub percent_complete: f64,
    pub actual_cost: f64,
    pub actual_start: Option<NaiveDate>,
    pub actual_finish: Option<NaiveDate>,
}

/// Builds the plan of `profile` starting at `start`, with progress as of `status_date`.
pub fn plan(
    profile: &Profile,
    start: NaiveDate,
    status_date: NaiveDate,
    rng: &mut Rng,
) -> Vec<PlannedTask> {
    let mut tasks = layout(profile, rng);
    schedule(&mut tasks, working_day_from(start));
    let elapsed = (status_date - start).num_days() as f64;
    let effective = start + Duration::days((elapsed * profile.schedule_efficiency).round() as i64);
    let lag = status_date - effective;
    for task in &mut tasks {
        progress(task, effective, lag, profile.cost_efficiency, rng);
    }
    tasks
}

/// Names, estimates, budgets and dependencies, before dates.
fn layout(profile: &Profile, rng: &mut Rng) -> Vec<PlannedTask> {
    let phases = profile.phases.len();
    let per_stream = (profile.task_count as f64 / STREAMS as f64).max(1.0);
    let scale = f64::from(profile.planned_months) * 21.0 / (per_stream * 10.0);
    let people = owners(profile.code);
    let mut tasks: Vec<PlannedTask> = Vec::with_capacity(profile.task_count);
    let mut previous_phase_ends: Vec<usize> = Vec::new();
    for (phase, (_, stems)) in profile.phases.iter().enumerate() {
        let count = profile.task_count / phases + usize::from(phase < profile.task_count % phases);
        let mut stream_last: Vec<Option<usize>> = vec![None; STREAMS];
        for j in 0..count {
            let stream = j % STREAMS;
            let stem = stems[j % stems.len()];
            let round = j / stems.len();
            let name = if count > stems.len() {
                format!("{stem}, part {}", round + 1)
            } else {
                stem.to_string()
            };
            let most_likely = (rng.range(4.0, 16.0) * scale * 2.0).round().max(2.0) / 2.0;
            let predecessors = match stream_last[stream] {
                Some(prev) => vec![prev],
                None => previous_phase_ends.clone(),
            };
            stream_last[stream] = Some(tasks.len());
            tasks.push(PlannedTask {
                wbs: format!("{}.{}", phase + 1, j + 1),
                name,
                owner: people[rng.index(people.len())].to_string(),
                phase,
                optimistic: (most_likely * rng.range(0.65, 0.85) * 2.0).round().max(1.0) / 2.0,
                most_likely,
                pessimistic: (most_likely * rng.range(1.3, 2.1) * 2.0).round() / 2.0,
                start: NaiveDate::MIN,
                finish: NaiveDate::MIN,
                budget: (most_likely * profile.daily_rate * rng.range(0.8, 1.2)).round(),
                predecessors,
                percent_complete: 0.0,
                actual_cost: 0.0,
                actual_start: None,
                actual_finish: None,
            });
        }
        previous_phase_ends = stream_last.into_iter().flatten().collect();
    }
    tasks
}

/// Forward pass: each task starts the working day after its last predecessor finishes. Tasks are in
/// topological order by construction.
fn schedule(tasks: &mut [PlannedTask], project_start: NaiveDate) {
    for i in 0..tasks.len() {
        let start = tasks[i]
            .predecessors
            .iter()
            .map(|&p| add_working_days(tasks[p].finish, 1))
            .max()
            .unwrap_or(project_start);
        let days = tasks[i].most_likely.ceil() as i64;
        tasks[i].start = start;
        tasks[i].finish = add_working_days(start, (days - 1).max(0));
    }
}

/// Progress as if the clock had reached only `effective`, and cost at the profile's CPI.
fn progress(task: &mut PlannedTask, effective: NaiveDate, lag: Duration, cpi: f64, rng: &mut Rng) {
    if effective < task.start {
        return;
    }
    let total = working_days_between(task.start, task.finish + Duration::days(1)).max(1) as f64;
    let done = working_days_between(task.start, effective + Duration::days(1)) as f64;
    let fraction = (done / total).min(1.0);
    task.percent_complete = (fraction * 100.0).round();
    let earned = task.budget * fraction;
    task.actual_cost = (earned / cpi * rng.range(0.96, 1.04)).round();
    task.actual_start = Some(working_day_from(task.start + lag));
    if fraction >= 1.0 {
        task.actual_finish = Some(working_day_from(task.finish + lag));
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalogue::PROFILES;
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn plans_respect_dependencies_and_counts() {
        for profile in PROFILES {
            let start = date(2025, 9, 1);
            let tasks = plan(profile, start, date(2026, 10, 31), &mut Rng::new(7));
            assert_eq!(tasks.len(), profile.task_count, "{}", profile.code);
            for t in &tasks {
                assert!(
                    t.optimistic <= t.most_likely && t.most_likely <= t.pessimistic,
                    "{}",
                    t.name
                );
                for &p in &t.predecessors {
                    assert!(
                        tasks[p].finish < t.start,
                        "{} starts before {}",
                        t.name,
                        tasks[p].name
                    );
                }
                assert!((0.0..=100.0).contains(&t.percent_complete));
            }
        }
    }

    #[test]
    fn plans_are_deterministic() {
        let a = plan(
            &PROFILES[0],
            date(2025, 9, 1),
            date(2026, 10, 31),
            &mut Rng::new(1),
        );
        let b = plan(
            &PROFILES[0],
            date(2025, 9, 1),
            date(2026, 10, 31),
            &mut Rng::new(1),
        );
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn troubled_projects_earn_less_than_they_spend() {
        let erp = PROFILES
            .iter()
            .find(|p| p.code == "ERP")
            .expect("ERP profile");
        let tasks = plan(erp, date(2025, 11, 3), date(2026, 10, 31), &mut Rng::new(3));
        let earned: f64 = tasks
            .iter()
            .map(|t| t.budget * t.percent_complete / 100.0)
            .sum();
        let spent: f64 = tasks.iter().map(|t| t.actual_cost).sum();
        let cpi = earned / spent;
        assert!((0.7..0.86).contains(&cpi), "CPI {cpi}");
    }
}
