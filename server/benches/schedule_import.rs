//! Reading a 50,000-task Microsoft Project XML file (issue 24): the file is generated here (a
//! realistic outline: 50 phases of 10 work packages of 100 tasks, each with a baseline, costs,
//! progress on the first fifth, finish-to-start links along each package and across packages, a
//! start-to-start link in every 50 tasks, three-point estimates on every tenth task, a calendar with
//! holidays, resources and assignments), then read, converted and checked as `POST
//! /api/projects/import` does, five times. The median wall time and the process's peak resident set
//! (`VmHWM`, the generated file included) go to `$PMR_BENCH_DIR/schedule_import.json` for
//! `loadgen report`; without `PMR_BENCH_DIR` they are printed only.
//!
//! The check (`transfer::validate`) runs in full and refuses the plan at the end for its size: a
//! plan holds at most 5,000 tasks (`transfer::MAX_TASKS`), so the figure is the importer's work on a
//! file ten times that, not an import the product accepts.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use server::transfer::files::{self, SchedulerFormat};
use server::transfer::schedule::{self, EstimateRule};
use server::transfer::validate;

const PHASES: usize = 50;
const PACKAGES: usize = 10;
const TASKS: usize = 100;
const RUNS: usize = 5;

/// The file: `PHASES × PACKAGES × TASKS` work tasks under their summaries.
fn mspdi() -> String {
    let mut x = String::with_capacity(40 << 20);
    x.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
        "<Project xmlns=\"http://schemas.microsoft.com/project\">\n",
        "<SaveVersion>14</SaveVersion><Title>Fleet renewal programme</Title><Manager>Programme office</Manager>\n",
        "<StartDate>2026-01-05T08:00:00</StartDate><FinishDate>2030-12-20T17:00:00</FinishDate>\n",
        "<CurrencyCode>EUR</CurrencyCode><CalendarUID>1</CalendarUID><MinutesPerDay>480</MinutesPerDay>\n",
        "<ExtendedAttributes>",
        "<ExtendedAttribute><FieldID>188743783</FieldID><FieldName>Duration1</FieldName><Alias>Optimistic</Alias></ExtendedAttribute>",
        "<ExtendedAttribute><FieldID>188743785</FieldID><FieldName>Duration3</FieldName><Alias>Pessimistic</Alias></ExtendedAttribute>",
        "</ExtendedAttributes>\n<Calendars><Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar><WeekDays>",
    ));
    for day in 1..=7 {
        let working = u8::from((2..=6).contains(&day));
        let _ = write!(
            x,
            "<WeekDay><DayType>{day}</DayType><DayWorking>{working}</DayWorking></WeekDay>"
        );
    }
    x.push_str("</WeekDays><Exceptions>");
    for year in 2026..=2030 {
        for (m, d) in [(1, 1), (5, 1), (12, 25), (12, 26)] {
            let _ = write!(
                x,
                "<Exception><TimePeriod><FromDate>{year}-{m:02}-{d:02}T00:00:00</FromDate><ToDate>{year}-{m:02}-{d:02}T23:59:00</ToDate></TimePeriod><Occurrences>1</Occurrences><Name>Holiday</Name><Type>1</Type><DayWorking>0</DayWorking></Exception>"
            );
        }
    }
    x.push_str("</Exceptions></Calendar></Calendars>\n<Tasks>\n");
    x.push_str("<Task><UID>0</UID><ID>0</ID><Name>Fleet renewal programme</Name><OutlineLevel>0</OutlineLevel><Summary>1</Summary></Task>\n");
    let mut uid = 0usize;
    let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("date");
    let mut assignments = String::new();
    for phase in 0..PHASES {
        uid += 1;
        let _ = writeln!(x, "<Task><UID>{uid}</UID><ID>{uid}</ID><Name>Phase {}</Name><OutlineLevel>1</OutlineLevel><Summary>1</Summary></Task>", phase + 1);
        for package in 0..PACKAGES {
            uid += 1;
            let _ = writeln!(x, "<Task><UID>{uid}</UID><ID>{uid}</ID><Name>Work package {}.{}</Name><OutlineLevel>2</OutlineLevel><Summary>1</Summary></Task>", phase + 1, package + 1);
            for task in 0..TASKS {
                uid += 1;
                let n = (phase * PACKAGES + package) * TASKS + task;
                let start =
                    base + chrono::Duration::days((phase * 30 + package * 3 + task / 10) as i64);
                let finish = start + chrono::Duration::days(4);
                let hours = 8 * (3 + n % 7);
                let cost = 1_000 + (n % 13) * 250;
                let _ = write!(
                    x,
                    "<Task><UID>{uid}</UID><ID>{uid}</ID><Name>Task {n} – fit-out step</Name><Active>1</Active><IsNull>0</IsNull><OutlineLevel>3</OutlineLevel>\
                     <Start>{start}T08:00:00</Start><Finish>{finish}T17:00:00</Finish><Duration>PT{hours}H0M0S</Duration><DurationFormat>7</DurationFormat>\
                     <Milestone>0</Milestone><Summary>0</Summary><Cost>{cost}</Cost>"
                );
                if phase < PHASES / 5 {
                    let _ = write!(
                        x,
                        "<PercentComplete>100</PercentComplete><ActualStart>{start}T08:00:00</ActualStart><ActualFinish>{finish}T17:00:00</ActualFinish><ActualCost>{cost}</ActualCost><RemainingDuration>PT0H0M0S</RemainingDuration>"
                    );
                }
                if task > 0 {
                    let _ = write!(x, "<PredecessorLink><PredecessorUID>{}</PredecessorUID><Type>{}</Type><LinkLag>0</LinkLag><LagFormat>7</LagFormat></PredecessorLink>", uid - 1, if n.is_multiple_of(50) { 3 } else { 1 });
                } else if package > 0 {
                    // The previous package's last task.
                    let _ = write!(x, "<PredecessorLink><PredecessorUID>{}</PredecessorUID><Type>1</Type></PredecessorLink>", uid - 2);
                }
                if n.is_multiple_of(10) {
                    let _ = write!(
                        x,
                        "<ExtendedAttribute><FieldID>188743783</FieldID><Value>PT{}H0M0S</Value></ExtendedAttribute><ExtendedAttribute><FieldID>188743785</FieldID><Value>PT{}H0M0S</Value></ExtendedAttribute>",
                        hours * 3 / 4,
                        hours * 2
                    );
                }
                let _ = writeln!(
                    x,
                    "<Baseline><Number>0</Number><Start>{start}T08:00:00</Start><Finish>{finish}T17:00:00</Finish><Duration>PT{hours}H0M0S</Duration><Cost>{cost}</Cost></Baseline></Task>"
                );
                let _ = writeln!(
                    assignments,
                    "<Assignment><UID>{n}</UID><TaskUID>{uid}</TaskUID><ResourceUID>{}</ResourceUID><Units>1</Units></Assignment>",
                    1 + n % 40
                );
            }
        }
    }
    x.push_str("</Tasks>\n<Resources>\n");
    for r in 1..=40 {
        let _ = writeln!(
            x,
            "<Resource><UID>{r}</UID><ID>{r}</ID><Name>Crew {r}</Name></Resource>"
        );
    }
    x.push_str("</Resources>\n<Assignments>\n");
    x.push_str(&assignments);
    x.push_str("</Assignments>\n</Project>\n");
    x
}

/// The process's peak resident set, in MB (`VmHWM`).
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    // `cargo bench` passes Criterion-style flags; this benchmark takes none.
    let file = mspdi();
    let bytes = file.into_bytes();
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut tasks = 0;
    let mut refused = String::new();
    for _ in 0..RUNS {
        let began = Instant::now();
        let schedule = files::read_file(&bytes, SchedulerFormat::Mspdi, None, None)
            .unwrap_or_else(|p| panic!("the generated file is refused: {p:?}"));
        let (doc, summary) = schedule::to_document(
            schedule,
            "FLEET",
            None,
            None,
            "Bench",
            EstimateRule::default(),
        )
        .unwrap_or_else(|p| panic!("the generated file does not convert: {p:?}"));
        tasks = summary.tasks;
        let checked = validate(doc);
        times.push(began.elapsed());
        refused = match checked {
            Ok(_) => String::new(),
            Err(problems) => problems.first().map(|p| p.to_string()).unwrap_or_default(),
        };
    }
    times.sort();
    let median = times[RUNS / 2].as_secs_f64();
    let peak = peak_mb().unwrap_or(f64::NAN);
    let mb = bytes.len() as f64 / (1024.0 * 1024.0);
    println!(
        "schedule_import: {tasks} tasks, {mb:.1} MB of MSPDI: median {median:.2} s over {RUNS} runs, peak RSS {peak:.0} MB; the check says: {refused}"
    );
    assert_eq!(
        tasks,
        PHASES * PACKAGES * TASKS,
        "every work task converted"
    );
    if let Some(dir) = std::env::var_os("PMR_BENCH_DIR") {
        let json = serde_json::json!({
            "tasks": tasks,
            "file_mb": mb,
            "runs": RUNS,
            "median_s": median,
            "times_s": times.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
            "peak_rss_mb": peak,
            "check": refused,
        });
        let path = std::path::Path::new(&dir).join("schedule_import.json");
        std::fs::write(&path, json.to_string()).expect("write the figures");
    }
}
