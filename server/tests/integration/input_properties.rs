//! Property tests of the inputs the service reads from outside, each through the whole router (the
//! authentication layer, the extractors, the handlers, the store): project imports in JSON and CSV,
//! the performance API's query parameters and bodies, and the arguments of every server function.
//! Inputs are valid ones damaged (a value replaced by any JSON, a key removed, text cut short, a
//! cell rewritten) and plain noise. Whatever comes in, the answer is a success or a refusal with a
//! 4xx status and a JSON message (an import's refusal lists its problems, each with its place);
//! never a 5xx, never a panic, never a hang (each request must answer within 10 s).
//!
//! `PROPTEST_CASES=N` sets the number of cases per test (the suite runs 300 each).

use crate::common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{request, Role, TestApp, Who};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

/// Runs `body` for `cases` values of `strategy` (or `PROPTEST_CASES`), on the current runtime.
fn run<S: Strategy>(strategy: S, body: impl Fn(S::Value) -> Result<(), TestCaseError>) -> u32
where
    S::Value: std::fmt::Debug,
{
    let mut runner = common::proptest_runner(300);
    let ran = std::cell::Cell::new(0u32);
    let outcome = runner.run(&strategy, |value| {
        ran.set(ran.get() + 1);
        body(value)
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    ran.get()
}

/// Sends a request and reads the answer, failing the case on a hang.
fn send(app: &TestApp, req: axum::http::Request<axum::body::Body>) -> common::Reply {
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        handle.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), app.send(req))
                .await
                .expect("an answer within 10 s")
        })
    })
}

/// The answer is a success, or a 4xx with a JSON message; never a 5xx.
fn answered_or_refused(what: &str, reply: &common::Reply) -> Result<(), TestCaseError> {
    prop_assert!(
        !reply.status.is_server_error(),
        "{what}: {} {}",
        reply.status,
        reply.body
    );
    if reply.status.is_client_error() {
        let body: Value = serde_json::from_str(&reply.body).map_err(|e| {
            TestCaseError::fail(format!(
                "{what}: a refusal that is not JSON ({e}): {}",
                reply.body
            ))
        })?;
        // REST answers `{"error": …}`; server functions the app's error, `{"Kind": "message"}`.
        let message = body["error"]
            .as_str()
            .or_else(|| body.as_object().and_then(|o| o.values().next()?.as_str()));
        prop_assert!(
            message.is_some_and(|m| !m.trim().is_empty()),
            "{what}: a refusal without a message: {}",
            reply.body
        );
    }
    Ok(())
}

// ---- Damage to JSON values ----------------------------------------------------------------------

/// Any JSON value, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e300)),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("x".repeat(600))),
        Just(json!("=HYPERLINK(\"http://evil\")")),
        Just(json!("2026-02-30")),
        Just(json!("<script>alert(1)</script>")),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One change to a JSON document.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace the value at the n-th node (in document order) by this one.
    Replace(usize, Value),
    /// Remove the n-th object key.
    Remove(usize),
    /// Serialize and cut the text at this fraction of its length.
    Cut(u16),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (any::<usize>(), any_json()).prop_map(|(n, v)| Edit::Replace(n, v)),
        2 => any::<usize>().prop_map(Edit::Remove),
        1 => any::<u16>().prop_map(Edit::Cut),
    ];
    proptest::collection::vec(edit, 1..4)
}

/// Every node of a JSON value, as a path of keys and indexes.
fn paths(value: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let mut next = at.clone();
                next.push(json!(k));
                paths(v, next, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let mut next = at.clone();
                next.push(json!(i));
                paths(v, next, out);
            }
        }
        _ => {}
    }
}

fn node<'a>(value: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Value::String(k) => v.get_mut(k.as_str()),
        Value::Number(i) => v.get_mut(usize::try_from(i.as_u64()?).ok()?),
        _ => None,
    })
}

/// The document with the edits applied, as text.
fn damaged(base: &Value, edits: &[Edit]) -> String {
    let mut doc = base.clone();
    for edit in edits {
        let mut all = Vec::new();
        paths(&doc, Vec::new(), &mut all);
        match edit {
            Edit::Replace(n, value) => {
                let path = all[n % all.len()].clone();
                if let Some(slot) = node(&mut doc, &path) {
                    *slot = value.clone();
                }
            }
            Edit::Remove(n) => {
                let keyed: Vec<_> = all
                    .iter()
                    .filter(|p| matches!(p.last(), Some(Value::String(_))))
                    .collect();
                if let Some(path) = keyed.get(n % keyed.len().max(1)) {
                    let (last, parent) = path.split_last().expect("a key");
                    if let (Some(Value::Object(map)), Value::String(k)) =
                        (node(&mut doc, parent), last)
                    {
                        map.remove(k);
                    }
                }
            }
            Edit::Cut(_) => {}
        }
    }
    let text = doc.to_string();
    match edits.iter().rev().find_map(|e| match e {
        Edit::Cut(f) => Some(*f),
        _ => None,
    }) {
        Some(fraction) => {
            let at = text.len() * usize::from(fraction) / usize::from(u16::MAX).max(1);
            text.chars().take(at).collect()
        }
        None => text,
    }
}

async fn admin_app() -> (TestApp, Who) {
    let app = common::seeded().await;
    app.account("root", Role::Admin, &[], None).await;
    let who = app.session("root").await;
    (app, who)
}

// ---- Imports --------------------------------------------------------------------------------------

/// A way to damage a scheduler's file.
#[derive(Debug, Clone)]
enum Damage {
    /// Replace the byte at this fraction of the file.
    Flip(f64, u8),
    /// Cut the file at this fraction.
    Cut(f64),
    /// Insert text at this fraction.
    Insert(f64, String),
    /// Remove the line at this fraction.
    DropLine(f64),
    /// Replace an element's or cell's value at this fraction with text.
    Value(f64, String),
}

fn damages() -> impl Strategy<Value = Vec<Damage>> {
    let at = 0.0..1.0f64;
    let text = prop_oneof![
        Just("-1".to_string()),
        Just("-PT8H0M0S".to_string()),
        Just("1e309".to_string()),
        Just("&bogus;".to_string()),
        Just("<".to_string()),
        Just("\t".to_string()),
        Just("%T\tTASK".to_string()),
        Just("NaN".to_string()),
        Just("9999-99-99T00:00:00".to_string()),
        "[ -~]{0,12}",
    ];
    proptest::collection::vec(
        prop_oneof![
            (at.clone(), any::<u8>()).prop_map(|(a, b)| Damage::Flip(a, b)),
            at.clone().prop_map(Damage::Cut),
            (at.clone(), text.clone()).prop_map(|(a, t)| Damage::Insert(a, t)),
            at.clone().prop_map(Damage::DropLine),
            (at, text).prop_map(|(a, t)| Damage::Value(a, t)),
        ],
        1..4,
    )
}

fn damage_file(file: &[u8], damages: &[Damage]) -> Vec<u8> {
    let mut bytes = file.to_vec();
    let index = |bytes: &Vec<u8>, f: f64| ((bytes.len() as f64) * f) as usize % bytes.len().max(1);
    for d in damages {
        if bytes.is_empty() {
            break;
        }
        match d {
            Damage::Flip(f, b) => {
                let i = index(&bytes, *f);
                bytes[i] = *b;
            }
            Damage::Cut(f) => {
                let i = index(&bytes, *f);
                bytes.truncate(i);
            }
            Damage::Insert(f, t) => {
                let i = index(&bytes, *f);
                bytes.splice(i..i, t.bytes());
            }
            Damage::DropLine(f) => {
                let i = index(&bytes, *f);
                let start = bytes[..i]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = bytes[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
                bytes.drain(start..end);
            }
            Damage::Value(f, t) => {
                // The text between the next '>' and '<' (XML), or the next tab and tab (XER).
                let i = index(&bytes, *f);
                let open = bytes[i..].iter().position(|b| *b == b'>' || *b == b'\t');
                if let Some(o) = open {
                    let from = i + o + 1;
                    let close = bytes[from..]
                        .iter()
                        .position(|b| *b == b'<' || *b == b'\t' || *b == b'\n');
                    let to = close.map_or(bytes.len(), |c| from + c);
                    bytes.splice(from..to, t.bytes());
                }
            }
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_scheduler_files_import_or_are_refused_with_their_problems() {
    let (app, who) = admin_app().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schedules");
    let files: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            std::fs::read(format!("{dir}/project-2019.xml")).expect("fixture"),
            "application/xml",
            "",
        ),
        (
            std::fs::read(format!("{dir}/project-2003.xml")).expect("fixture"),
            "application/octet-stream",
            "",
        ),
        (
            std::fs::read(format!("{dir}/p6-two-projects.xer")).expect("fixture"),
            "text/plain",
            "&p6_project=101",
        ),
    ];
    let refused = std::cell::Cell::new(0u32);
    let ran = run(
        (0..files.len(), damages(), any::<bool>()),
        |(which, damages, dry)| {
            let (file, content_type, extra) = &files[which];
            let body = damage_file(file, &damages);
            let uri = format!("/api/projects/import?code=DMG{extra}&dry_run={dry}");
            let reply = send(
                &app,
                request(Method::POST, &uri, &who, Some((content_type, body))),
            );
            answered_or_refused("scheduler import", &reply)?;
            if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
                refused.set(refused.get() + 1);
                let problems = reply.json()["problems"].clone();
                let problems = problems.as_array().cloned().unwrap_or_default();
                prop_assert!(
                    !problems.is_empty(),
                    "a 422 lists its problems: {}",
                    reply.body
                );
                for p in problems {
                    prop_assert!(p["location"].is_string() && p["message"].is_string(), "{p}");
                }
            }
            Ok(())
        },
    );
    assert!(
        refused.get() > ran / 4,
        "the damage is real: {} of {ran} refused",
        refused.get()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_project_documents_import_or_are_refused_with_their_problems() {
    let (app, who) = admin_app().await;
    let base = app.get("/api/projects/HBR/export", &who).await.json();
    let refused = std::cell::Cell::new(0u32);
    let ran = run(edits(), |edits| {
        let text = damaged(&base, &edits);
        let reply = send(
            &app,
            request(
                Method::POST,
                "/api/projects/import",
                &who,
                Some(("application/json", text.into_bytes())),
            ),
        );
        answered_or_refused("import", &reply)?;
        if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
            refused.set(refused.get() + 1);
            let problems = reply.json()["problems"].clone();
            let problems = problems.as_array().cloned().unwrap_or_default();
            prop_assert!(
                !problems.is_empty(),
                "a 422 lists its problems: {}",
                reply.body
            );
            for p in problems {
                prop_assert!(p["location"].is_string() && p["message"].is_string(), "{p}");
            }
        }
        Ok(())
    });
    assert!(
        refused.get() > 0,
        "none of {ran} damaged documents was refused"
    );
    // The service still works, and HBR still exports.
    assert_eq!(app.get("/api/projects/HBR/export", &who).await.status, 200);
}

/// One change to a CSV text.
#[derive(Debug, Clone)]
enum CsvEdit {
    /// Rewrite the cell at (row, column) (both taken modulo the table's size).
    Cell(usize, usize, String),
    /// Drop a line.
    DropLine(usize),
    /// Insert text at a fraction of the length.
    Insert(u16, String),
    /// Cut the text at a fraction of its length.
    Cut(u16),
}

fn csv_edits() -> impl Strategy<Value = Vec<CsvEdit>> {
    let cell = prop_oneof![
        ".{0,10}",
        Just(String::new()),
        Just("-5".to_string()),
        Just("1e309".to_string()),
        Just("NaN".to_string()),
        Just("2026-13-40".to_string()),
        Just("=1+2".to_string()),
        Just("\"".to_string()),
        Just("a,b".to_string()),
        Just("T999".to_string()),
        Just("x".repeat(600)),
    ];
    let edit = prop_oneof![
        4 => (any::<usize>(), any::<usize>(), cell).prop_map(|(r, c, v)| CsvEdit::Cell(r, c, v)),
        1 => any::<usize>().prop_map(CsvEdit::DropLine),
        2 => (any::<u16>(), "[\",\\n\\r;=a-z0-9]{1,6}").prop_map(|(at, s)| CsvEdit::Insert(at, s)),
        1 => any::<u16>().prop_map(CsvEdit::Cut),
    ];
    proptest::collection::vec(edit, 1..4)
}

fn csv_damaged(base: &str, edits: &[CsvEdit]) -> String {
    let mut text = base.to_string();
    let at = |text: &str, f: u16| {
        let n = text.chars().count() * usize::from(f) / usize::from(u16::MAX);
        text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
    };
    for edit in edits {
        match edit {
            CsvEdit::Cell(r, c, value) => {
                let mut lines: Vec<Vec<String>> = text
                    .lines()
                    .map(|l| l.split(',').map(str::to_string).collect())
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                let row = r % lines.len();
                let cells = &mut lines[row];
                let col = c % cells.len();
                cells[col] = value.clone();
                text = lines
                    .iter()
                    .map(|l| l.join(","))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            CsvEdit::DropLine(n) => {
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    lines.remove(n % lines.len());
                }
                text = lines.join("\n");
            }
            CsvEdit::Insert(f, s) => {
                let i = at(&text, *f);
                text.insert_str(i, s);
            }
            CsvEdit::Cut(f) => {
                let i = at(&text, *f);
                text.truncate(i);
            }
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_task_lists_import_or_are_refused_with_their_problems() {
    let (app, who) = admin_app().await;
    let base = app.get("/api/projects/HBR/tasks.csv", &who).await;
    assert_eq!(base.status, 200);
    let base = base.body;
    let refused = std::cell::Cell::new(0u32);
    let ran = run(csv_edits(), |edits| {
        let text = csv_damaged(&base, &edits);
        // The reader alone, then the whole route.
        let read = server::transfer::csv::read_tasks(&text);
        if let Err(problems) = &read {
            prop_assert!(!problems.is_empty());
        }
        let reply = send(
            &app,
            request(
                Method::PUT,
                "/api/projects/HBR/tasks.csv",
                &who,
                Some(("text/csv", text.into_bytes())),
            ),
        );
        answered_or_refused("tasks.csv", &reply)?;
        if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
            refused.set(refused.get() + 1);
            prop_assert!(reply.json()["problems"]
                .as_array()
                .is_some_and(|p| !p.is_empty()));
        }
        Ok(())
    });
    assert!(
        refused.get() > 0,
        "none of {ran} damaged task lists was refused"
    );
    // Noise, not CSV at all, through the reader alone.
    run(proptest::collection::vec(any::<char>(), 0..200), |chars| {
        let text: String = chars.into_iter().collect();
        let _ = server::transfer::csv::read_tasks(&text);
        Ok(())
    });
}

// ---- The performance API ------------------------------------------------------------------------

/// A query-string value: numbers in and out of range, words, and bytes that need escaping.
fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0u64..2000).prop_map(|n| n.to_string()),
        Just("1e3".to_string()),
        Just(String::new()),
        Just("warning".to_string()),
        Just("critical".to_string()),
        Just("99999999999999999999999".to_string()),
        ".{0,12}",
    ]
}

fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug, Clone)]
enum PerfCall {
    Get(&'static str, Vec<(String, String)>),
    DeleteData(Vec<(String, String)>),
    Threshold(String, Value),
}

fn perf_calls() -> impl Strategy<Value = PerfCall> {
    let params = || {
        let names = prop_oneof![
            Just("limit".to_string()),
            Just("severity".to_string()),
            Just("hours".to_string()),
            "[a-z]{1,6}",
        ];
        proptest::collection::vec((names, query_value()), 0..4)
    };
    let endpoint = prop_oneof![
        Just("metrics"),
        Just("alerts"),
        Just("stats"),
        Just("recommendations"),
        Just("thresholds"),
        Just("websocket/stats"),
        Just("health"),
    ];
    let metric = prop_oneof![
        Just("report_generation_time".to_string()),
        Just("cache_hit_rate".to_string()),
        ".{0,16}",
    ];
    let body = prop_oneof![
        any::<f64>().prop_map(|v| json!({ "value": v })),
        (-1e6f64..1e6).prop_map(|v| json!({ "value": v })),
        any_json(),
    ];
    prop_oneof![
        (endpoint, params()).prop_map(|(e, p)| PerfCall::Get(e, p)),
        params().prop_map(PerfCall::DeleteData),
        (metric, body).prop_map(|(m, b)| PerfCall::Threshold(m, b)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performance_api_parameters_are_read_or_refused() {
    let (app, who) = admin_app().await;
    let base = "/api/reports/pmr/performance";
    let query = |params: &[(String, String)]| {
        params
            .iter()
            .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let bad = std::cell::Cell::new(0u32);
    run(perf_calls(), |call| {
        let (what, req) = match &call {
            PerfCall::Get(endpoint, params) => (
                *endpoint,
                request(
                    Method::GET,
                    &format!("{base}/{endpoint}?{}", query(params)),
                    &who,
                    None,
                ),
            ),
            PerfCall::DeleteData(params) => (
                "monitor/data",
                request(
                    Method::DELETE,
                    &format!("{base}/monitor/data?{}", query(params)),
                    &who,
                    None,
                ),
            ),
            PerfCall::Threshold(metric, body) => (
                "thresholds",
                request(
                    Method::PUT,
                    &format!("{base}/thresholds/{}", escape(metric)),
                    &who,
                    Some(("application/json", body.to_string().into_bytes())),
                ),
            ),
        };
        let reply = send(&app, req);
        answered_or_refused(what, &reply)?;
        if reply.status.is_client_error() {
            bad.set(bad.get() + 1);
        }
        Ok(())
    });
    assert!(bad.get() > 0, "no call was refused");
}

// ---- Server functions -----------------------------------------------------------------------------

/// Server functions that take URL-encoded arguments, with their argument names.
const FORM_FUNCTIONS: &[(&str, &[&str])] = &[
    ("list_portfolio", &[]),
    ("get_report_outline", &["report_id"]),
    ("regenerate_report", &["report_id"]),
    ("get_report_section", &["report_id", "key"]),
    ("rerun_monte_carlo", &["report_id", "iterations"]),
    ("list_revisions", &["report_id"]),
    ("get_revision", &["report_id", "number"]),
    ("restore_revision", &["report_id", "number"]),
    ("record_section_load", &["section_type", "ms"]),
    ("current_user", &[]),
    ("login", &["username", "password"]),
    ("logout", &[]),
    ("admin_overview", &[]),
    ("performance_overview", &[]),
];

/// Server functions that take a JSON body, with an example of a valid one.
fn json_functions() -> Vec<(&'static str, Value)> {
    vec![
        (
            "create_account",
            json!({"account": {"username": "fuzzed", "display_name": "F", "role": "viewer", "password": "", "projects": [1]}}),
        ),
        (
            "update_account",
            json!({"change": {"id": 1, "display_name": "F", "role": "viewer", "active": true, "projects": []}}),
        ),
        ("reset_password", json!({"user_id": 1, "password": ""})),
        (
            "create_api_token",
            json!({"token": {"name": "fuzz", "role": "viewer", "projects": []}}),
        ),
        ("revoke_api_token", json!({"token_id": 1})),
        ("clear_cache", json!({"cache_type": "report"})),
        ("set_monitoring", json!({"enabled": true})),
        ("delete_monitoring_data", json!({"hours": 24})),
        (
            "set_threshold",
            json!({"metric": "cache_hit_rate", "value": 70.0}),
        ),
    ]
}

#[derive(Debug, Clone)]
enum FnCall {
    Form(usize, Vec<(Option<usize>, String, String)>),
    Json(usize, Vec<Edit>),
    Noise(usize, String, String),
}

fn fn_calls() -> impl Strategy<Value = FnCall> {
    let pair = (
        proptest::option::weighted(0.8, any::<usize>()),
        "[a-z_]{1,8}",
        prop_oneof![
            query_value(),
            Just("1".to_string()),
            Just("true".to_string()),
            Just("risks".to_string()),
            Just("x".repeat(2000)),
        ],
    );
    let noise = prop_oneof![
        Just("application/x-www-form-urlencoded".to_string()),
        Just("application/json".to_string()),
        Just("text/plain".to_string()),
        "[ -~]{0,20}",
    ];
    prop_oneof![
        3 => (any::<usize>(), proptest::collection::vec(pair, 0..4)).prop_map(|(f, p)| FnCall::Form(f, p)),
        3 => (any::<usize>(), edits()).prop_map(|(f, e)| FnCall::Json(f, e)),
        1 => (any::<usize>(), noise, ".{0,40}").prop_map(|(f, t, b)| FnCall::Noise(f, t, b)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_function_arguments_are_read_or_refused() {
    let (app, _) = admin_app().await;
    let json_fns = json_functions();
    let handle = tokio::runtime::Handle::current();
    let refused = std::cell::Cell::new(0u32);
    run(fn_calls(), |call| {
        // A fresh session each time: a call may sign out or reset the caller's password.
        let who = tokio::task::block_in_place(|| handle.block_on(app.session("root")));
        let (name, content_type, body) = match &call {
            FnCall::Form(f, pairs) => {
                let (name, args) = FORM_FUNCTIONS[f % FORM_FUNCTIONS.len()];
                let form = pairs
                    .iter()
                    .map(|(known, other, value)| {
                        let key = match known {
                            Some(i) if !args.is_empty() => args[i % args.len()],
                            _ => other.as_str(),
                        };
                        format!("{}={}", escape(key), escape(value))
                    })
                    .collect::<Vec<_>>()
                    .join("&");
                (name, "application/x-www-form-urlencoded".to_string(), form)
            }
            FnCall::Json(f, edits) => {
                let (name, valid) = &json_fns[f % json_fns.len()];
                (*name, "application/json".to_string(), damaged(valid, edits))
            }
            FnCall::Noise(f, content_type, body) => {
                let name = FORM_FUNCTIONS[f % FORM_FUNCTIONS.len()].0;
                (name, content_type.clone(), body.clone())
            }
        };
        let reply = send(
            &app,
            request(
                Method::POST,
                &format!("/api/{name}"),
                &who,
                Some((content_type.as_str(), body.into_bytes())),
            ),
        );
        answered_or_refused(name, &reply)?;
        if reply.status.is_client_error() {
            refused.set(refused.get() + 1);
        }
        Ok(())
    });
    assert!(refused.get() > 0, "no call was refused");
    // The app still answers its own questions.
    let who = app.session("root").await;
    let reply = app
        .send(common::server_fn("list_portfolio", &who, ""))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// axum's own refusals (a path or query that does not parse, a body past its limit sent without a
/// length) are answered like every other REST error: the status, and `{"error": "..."}`.
#[tokio::test]
async fn refusals_before_the_handler_are_json_too() {
    let (app, who) = admin_app().await;
    let cases = [
        (Method::POST, "/api/reports/abc/publish".to_string(), None),
        (Method::GET, "/api/reports/12x".to_string(), None),
        (
            Method::PUT,
            "/api/projects/HBR/tasks.csv?status_date=2026-11-01&status_date=2026-12-01".to_string(),
            Some(("text/csv", b"wbs,name\n".to_vec())),
        ),
        (
            Method::GET,
            "/api/reports/pmr/performance/metrics?limit=lots".to_string(),
            None,
        ),
    ];
    for (method, uri, body) in cases {
        let reply = app.send(request(method.clone(), &uri, &who, body)).await;
        assert!(
            reply.status.is_client_error(),
            "{method} {uri}: {} {}",
            reply.status,
            reply.body
        );
        let error = reply.json()["error"].as_str().map(str::to_owned);
        assert!(
            error.is_some_and(|e| !e.is_empty()),
            "{method} {uri}: {}",
            reply.body
        );
    }
    // A task list past its limit without a declared length: the body is cut and refused in JSON.
    let big = vec![b'x'; 16 * 1024 * 1024 + 1];
    let stream = futures_util::stream::iter(
        big.chunks(1024 * 1024)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let chunked = axum::http::Request::builder()
        .method(Method::PUT)
        .uri("/api/projects/HBR/tasks.csv")
        .header(axum::http::header::HOST, common::HOST)
        .header(axum::http::header::ORIGIN, common::ORIGIN)
        .header(axum::http::header::CONTENT_TYPE, "text/csv")
        .header(
            axum::http::header::COOKIE,
            match &who {
                Who::Session(token) => format!("pmr_session={token}"),
                _ => unreachable!("an admin's session"),
            },
        )
        .body(axum::body::Body::from_stream(stream))
        .expect("request");
    let reply = app.send(chunked).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    let error = reply.json()["error"].as_str().map(str::to_owned);
    assert!(
        error.as_deref().is_some_and(|e| e.contains("16 MiB")),
        "{}",
        reply.body
    );
}
