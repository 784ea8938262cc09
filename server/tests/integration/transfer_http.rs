//! Project import and export over HTTP: formats, status codes, error bodies that name the place at
//! fault, and the promise that a refused import changes nothing.

use crate::common;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use common::{Role, TestApp, Who};
use serde_json::Value;

/// A seeded app and an admin API token that every request of these tests carries.
struct App {
    app: TestApp,
    bearer: String,
}

impl std::ops::Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn app() -> App {
    let app = common::seeded().await;
    let Who::Bearer(bearer) = app.api_token("tests", Role::Admin, &[]).await else {
        unreachable!("api_token returns a bearer");
    };
    App { app, bearer }
}

/// Sends a request with the admin token: status, content type, body.
async fn call(app: &App, mut request: Request<Body>) -> (StatusCode, String, String) {
    request.headers_mut().insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {}", app.bearer)).expect("header"),
    );
    request
        .headers_mut()
        .insert(header::HOST, HeaderValue::from_static(common::HOST));
    let reply = app.app.send(request).await;
    let content_type = reply.header("content-type");
    (reply.status, content_type, reply.body)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

fn send(method: &str, uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .expect("request")
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn exports_json_and_csv() {
    let app = app().await;
    let (status, content_type, body) = call(&app, get("/api/projects/HBR/export")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("application/json"));
    let doc = json(&body);
    assert_eq!(doc["schema"], "pmr.project/v1");
    assert_eq!(doc["tasks"].as_array().map(Vec::len), Some(120));
    let (status, content_type, csv) = call(&app, get("/api/projects/HBR/tasks.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    assert!(csv.starts_with("wbs,name,owner,optimistic_days"));
    assert_eq!(csv.lines().count(), 121);
}

#[tokio::test]
async fn unknown_projects_are_404_with_json() {
    let app = app().await;
    let (status, _, body) = call(&app, get("/api/projects/NOPE/export")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["error"], "no project has code 'NOPE'");
}

#[tokio::test]
async fn a_valid_import_creates_a_project() {
    let app = app().await;
    let (_, _, body) = call(&app, get("/api/projects/CDW/export")).await;
    let new = body.replacen("\"code\":\"CDW\"", "\"code\":\"CDW-2\"", 1);
    let (status, _, body) = call(
        &app,
        send("POST", "/api/projects/import", "application/json", new),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let outcome = json(&body);
    assert_eq!(
        (
            outcome["code"].as_str(),
            outcome["created"].as_bool(),
            outcome["tasks"].as_u64()
        ),
        (Some("CDW-2"), Some(true), Some(60))
    );
    let (status, _, _) = call(&app, get("/api/projects/CDW-2/export")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_refused_import_lists_problems_and_changes_nothing() {
    let app = app().await;
    let (_, _, before) = call(&app, get("/api/projects/ERP/export")).await;
    let mut doc = json(&before);
    doc["tasks"][4]["pessimistic_days"] = Value::from(-3);
    doc["tasks"][7]["predecessors"] = serde_json::json!(["404.1"]);
    doc["project"]["name"] = Value::from("Renamed, but must not stick");
    let (status, _, body) = call(
        &app,
        send(
            "POST",
            "/api/projects/import",
            "application/json",
            doc.to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let reply = json(&body);
    let problems: Vec<String> = reply["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["location"].as_str().unwrap_or(""),
                p["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("tasks[4].pessimistic_days: must be between 0 and 10000")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p == "tasks[7].predecessors[0]: no task has wbs '404.1'"),
        "{problems:?}"
    );
    assert!(reply["error"]
        .as_str()
        .is_some_and(|e| e.contains("nothing was changed")));
    let (_, _, after) = call(&app, get("/api/projects/ERP/export")).await;
    assert_eq!(json(&after), json(&before));
}

#[tokio::test]
async fn csv_task_updates_apply_or_name_the_row() {
    let app = app().await;
    let (_, _, csv) = call(&app, get("/api/projects/HBR/tasks.csv")).await;
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    assert!(lines[1].starts_with("1.1,"), "{}", lines[1]);
    let row = |percent: &str| {
        format!(
            "1.1,Structural survey,J. Moreau,2,3,4,2026-01-05,2026-01-08,27000,0,{percent},,,,,,,"
        )
    };
    lines[1] = row("150");
    let (status, _, body) = call(
        &app,
        send(
            "PUT",
            "/api/projects/HBR/tasks.csv",
            "text/csv",
            lines.join("\n"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let reply = json(&body);
    assert_eq!(
        reply["problems"][0]["location"], "row 2 (wbs 1.1), field percent_complete",
        "{body}"
    );
    lines[1] = row("100");
    let (status, _, body) = call(
        &app,
        send(
            "PUT",
            "/api/projects/HBR/tasks.csv",
            "text/csv",
            lines.join("\n"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, csv) = call(&app, get("/api/projects/HBR/tasks.csv")).await;
    assert_eq!(csv.lines().nth(1), Some(row("100").as_str()));
}

#[tokio::test]
async fn wrong_content_types_and_huge_bodies_are_refused() {
    let app = app().await;
    let (status, _, body) = call(
        &app,
        send("POST", "/api/projects/import", "text/plain", "{}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json(&body)["error"]
        .as_str()
        .is_some_and(|e| e.contains("application/json")));
    let (status, _, body) = call(
        &app,
        send(
            "POST",
            "/api/projects/import",
            "application/json",
            "{not json",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("line 1, column"), "{body}");
    // Past the import's 64 MiB (sent without a declared length: counted as it is read).
    let huge = format!("{{\"schema\":\"{}\"}}", "x".repeat(65 * 1024 * 1024));
    let (status, _, body) = call(
        &app,
        send("POST", "/api/projects/import", "application/json", huge),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("64 MiB this import accepts"), "{body}");
    // A CSV task list past its 16 MiB.
    let csv = format!("{}\n", "x".repeat(17 * 1024 * 1024));
    let (status, _, body) = call(
        &app,
        send("PUT", "/api/projects/HBR/tasks.csv", "text/csv", csv),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn drafts_regenerate_from_current_data_and_final_reports_stay_frozen() {
    let app = app().await;
    let portfolio = app.state.store.portfolio().await.expect("portfolio");
    let hbr = portfolio
        .projects
        .iter()
        .find(|p| p.code == "HBR")
        .expect("HBR");
    let (draft, final_report) = (hbr.reports[0].id, hbr.reports[1].id);
    let frozen = app
        .state
        .store
        .section_content(final_report, "key-metrics")
        .await
        .expect("query");
    let (_, _, csv) = call(&app, get("/api/projects/HBR/tasks.csv")).await;
    let mut tasks = server::transfer::csv::read_tasks(&csv).expect("exported CSV reads back");
    for t in &mut tasks {
        t.percent_complete = 100.0;
    }
    let done = server::transfer::csv::write_tasks(&tasks);
    // Recorded as the progress at the end of the draft's month: the draft reads it.
    let month_end =
        server::reports::regenerate::period_end(&hbr.reports[0].period).expect("period");
    let (status, _, body) = call(
        &app,
        send(
            "PUT",
            &format!("/api/projects/HBR/tasks.csv?status_date={month_end}"),
            "text/csv",
            done.clone(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Not before the latest status date recorded: that month's progress stays as it was.
    let (status, _, body) = call(
        &app,
        send(
            "PUT",
            "/api/projects/HBR/tasks.csv?status_date=2026-01-31",
            "text/csv",
            done,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("recorded forward"), "{body}");
    let before: Value = json(
        &app.state
            .store
            .section_content(draft, "key-metrics")
            .await
            .expect("query")
            .expect("section"),
    );
    let (status, _, body) = call(
        &app,
        send(
            "POST",
            &format!("/api/reports/{draft}/regenerate"),
            "application/json",
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(json(&body)["timings"]["monte_carlo_ms"].as_f64().is_some());
    let after: Value = json(
        &app.state
            .store
            .section_content(draft, "key-metrics")
            .await
            .expect("query")
            .expect("section"),
    );
    assert!(
        after["ev"]["ev"].as_f64() > before["ev"]["ev"].as_f64(),
        "more work earned after the update"
    );
    let (status, _, body) = call(
        &app,
        send(
            "POST",
            &format!("/api/reports/{final_report}/regenerate"),
            "application/json",
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(json(&body)["error"]
        .as_str()
        .is_some_and(|e| e.contains("frozen snapshot")));
    assert_eq!(
        app.state
            .store
            .section_content(final_report, "key-metrics")
            .await
            .expect("query"),
        frozen
    );
    let (status, _, _) = call(
        &app,
        send(
            "POST",
            "/api/reports/99999/regenerate",
            "application/json",
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A file with thousands of problems is refused with all of them counted and the first 100 listed,
/// so a damaged import cannot make a response of megabytes.
#[tokio::test]
async fn a_refusal_lists_at_most_a_hundred_problems_and_counts_them_all() {
    let app = app().await;
    let (_, _, before) = call(&app, get("/api/projects/ERP/export")).await;
    let mut doc = json(&before);
    for task in doc["tasks"].as_array_mut().expect("tasks") {
        task["pessimistic_days"] = Value::from(-1);
        task["optimistic_days"] = Value::from(-1);
        task["budgeted_cost"] = Value::from(-1);
    }
    let (status, _, body) = call(
        &app,
        send(
            "POST",
            "/api/projects/import",
            "application/json",
            doc.to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = json(&body);
    let count = reply["problem_count"].as_u64().expect("a count");
    assert!(count > 100, "{count}");
    assert_eq!(reply["problems"].as_array().expect("listed").len(), 100);
    assert!(reply["error"]
        .as_str()
        .is_some_and(|e| e.contains("the first 100 are listed")));
}
