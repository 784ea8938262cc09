//! Reading a 50,000-task Microsoft Project XML file (issue 24): the file is generated here (a
//! realistic outline: 50 phases of 10 work packages of 100 tasks, each with a baseline, costs,
//! progress on the first fifth, finish-to-start links along each package and across packages, a
//! start-to-start link in every 50 tasks, three-point estimates on every tenth task, a calendar with
//! holidays, resources and assignments), then read, converted and checked as `POST
//! /api/projects/import` does, five times. The median wall time and the process's peak resident set
//! (`VmHWM`, the generated file included) go to `$PMR_BENCH_DIR/schedule_import.json` for
//! `loadgen report`; without `PMR_BENCH_DIR` they are printed only.
//!
//! Then the import users get: the same file sent to `POST /api/projects/import?code=FLEET` through
//! the whole router (authentication, the import's turn, reading, checking, writing) into a new
//! SQLite database, three times (a creation, then two replacements): the median wall time and the
//! peak resident set of those imports alone (`VmHWM` reset before them; the file in memory
//! included). And the month's report of that 50,000-task plan, generated once (10,000 iterations):
//! its time and the peak resident set then.

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

/// Resets the peak resident set to the current one (`/proc/self/clear_refs`, Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What the full imports and the report measured.
struct Served {
    median_s: f64,
    times_s: Vec<f64>,
    peak_mb: f64,
    report_s: f64,
    report_peak_mb: f64,
    stored_tasks: usize,
}

/// The file through the router into a new SQLite database, `runs` times; then a month's report.
fn serve_imports(bytes: &[u8], runs: usize) -> Served {
    use axum::body::Body;
    use axum::http::{header, Method, Request};
    use clap::{CommandFactory, FromArgMatches};
    use tower::ServiceExt;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let store = server::storage::Store::open(&url).await.expect("store");
        let command = server::Config::command().mut_args(|a| a.env(None::<&str>));
        let matches = command
            .try_get_matches_from(["server", "--database-url", &url, "--seed-demo", "false"])
            .expect("flags");
        let config = server::Config::from_arg_matches(&matches).expect("config");
        let secret = format!("pmr_{}", server::auth::token::issue().0);
        store
            .insert_api_token(&server::storage::tokens::NewToken {
                name: "bench",
                token_hash: &server::auth::token::digest(&secret),
                role: app::model::Role::Admin,
                created_by: None,
                projects: &[],
                now: chrono::Utc::now().timestamp(),
                expires_at: None,
                scope: app::access::Scope::Full,
            })
            .await
            .expect("token");
        store
            .create_template(
                "Standard monthly report",
                &server::seed::standard_template(),
            )
            .await
            .expect("template");
        let state = server::AppState::from_parts(&config, store, None).expect("state");
        let app = server::router(state);
        let send = |method: Method, uri: &str, body: Body, kind: &str| {
            Request::builder()
                .method(method)
                .uri(uri)
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .header(header::AUTHORIZATION, format!("Bearer {secret}"))
                .header(header::CONTENT_TYPE, kind)
                .body(body)
                .expect("request")
        };
        reset_peak();
        let mut times = Vec::with_capacity(runs);
        for run in 0..runs {
            let body = Body::from(bytes.to_vec());
            let began = Instant::now();
            let response = app
                .clone()
                .oneshot(send(
                    Method::POST,
                    "/api/projects/import?code=FLEET&status_date=2026-06-30",
                    body,
                    "application/xml",
                ))
                .await
                .expect("response");
            let status = response.status();
            let answer = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("answer");
            times.push(began.elapsed().as_secs_f64());
            assert!(
                status.is_success(),
                "import {run}: {status} {}",
                String::from_utf8_lossy(&answer[..answer.len().min(2_000)])
            );
        }
        let import_peak = peak_mb().unwrap_or(f64::NAN);
        let plan = {
            let state_store = server::storage::Store::open(&url).await.expect("store");
            let id = state_store
                .project_id("FLEET")
                .await
                .expect("id")
                .expect("exists");
            state_store
                .project_plan(id)
                .await
                .expect("plan")
                .expect("plan")
                .tasks
                .len()
        };
        reset_peak();
        let templates = app
            .clone()
            .oneshot(send(
                Method::GET,
                "/api/templates",
                Body::empty(),
                "application/json",
            ))
            .await
            .expect("templates");
        let templates: serde_json::Value = serde_json::from_slice(
            &axum::body::to_bytes(templates.into_body(), usize::MAX)
                .await
                .expect("templates"),
        )
        .expect("json");
        let start = serde_json::json!({"period": "2026-06", "template_id": templates[0]["id"]});
        let began = Instant::now();
        let report = app
            .clone()
            .oneshot(send(
                Method::POST,
                "/api/projects/FLEET/reports",
                Body::from(start.to_string()),
                "application/json",
            ))
            .await
            .expect("report");
        let status = report.status();
        let report_s = began.elapsed().as_secs_f64();
        let answer = axum::body::to_bytes(report.into_body(), usize::MAX)
            .await
            .expect("answer");
        assert!(
            status.is_success(),
            "report: {status} {}",
            String::from_utf8_lossy(&answer)
        );
        let report_peak_mb = peak_mb().unwrap_or(f64::NAN);
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        Served {
            median_s: sorted[runs / 2],
            times_s: times,
            peak_mb: import_peak,
            report_s,
            report_peak_mb,
            stored_tasks: plan,
        }
    })
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
        "schedule_import: {tasks} tasks, {mb:.1} MB of MSPDI read, converted and checked: median {median:.2} s over {RUNS} runs, peak RSS {peak:.0} MB{}",
        if refused.is_empty() { String::new() } else { format!("; the check refused it: {refused}") }
    );
    assert_eq!(
        tasks,
        PHASES * PACKAGES * TASKS,
        "every work task converted"
    );
    assert!(refused.is_empty(), "the plan is valid: {refused}");
    let served = serve_imports(&bytes, 3);
    println!(
        "schedule_import: POST /api/projects/import into SQLite: median {:.2} s over 3 runs ({:?}), peak RSS {:.0} MB; {} tasks stored; the month's report of them in {:.2} s, peak RSS {:.0} MB",
        served.median_s, served.times_s, served.peak_mb, served.stored_tasks, served.report_s, served.report_peak_mb
    );
    assert_eq!(served.stored_tasks, tasks, "every task stored");
    if let Some(dir) = std::env::var_os("PMR_BENCH_DIR") {
        let json = serde_json::json!({
            "tasks": tasks,
            "file_mb": mb,
            "runs": RUNS,
            "median_s": median,
            "times_s": times.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
            "peak_rss_mb": peak,
            "check": refused,
            "served": {
                "runs": served.times_s.len(),
                "median_s": served.median_s,
                "times_s": served.times_s,
                "peak_rss_mb": served.peak_mb,
                "stored_tasks": served.stored_tasks,
                "report_s": served.report_s,
                "report_peak_rss_mb": served.report_peak_mb,
            },
        });
        let path = std::path::Path::new(&dir).join("schedule_import.json");
        std::fs::write(&path, json.to_string()).expect("write the figures");
    }
}
