//! The monthly cycle over the API (issue 23): a project created from a file, progress recorded for
//! status dates (checked as the import checks, merged with concurrent saves, kept per status date and
//! never overwritten), a month's report started from the progress in force at its end.

use crate::common;

use axum::http::{Method, StatusCode};
use common::{request, Role, TestApp, Who};
use serde_json::{json, Value};

async fn app() -> (TestApp, Who, Who) {
    let app = common::seeded().await;
    app.account("boss", Role::Admin, &[], None).await;
    app.account("pm", Role::Editor, &["HBR"], None).await;
    let boss = app.session("boss").await;
    let pm = app.session("pm").await;
    (app, boss, pm)
}

async fn post(app: &TestApp, who: &Who, uri: &str, body: &Value) -> common::Reply {
    app.send(request(
        Method::POST,
        uri,
        who,
        Some(("application/json", body.to_string().into_bytes())),
    ))
    .await
}

/// A plan file: HBR's export under another code.
async fn plan_file(app: &TestApp) -> String {
    let mut doc = app
        .store()
        .export_project("HBR")
        .await
        .expect("export")
        .expect("HBR");
    doc.project.code = "NEWP".into();
    serde_json::to_string(&doc).expect("json")
}

fn new_project(plan: &str) -> Value {
    json!({"code": "NEWP", "name": "New plant", "manager": "Pat Lee", "currency": "EUR",
        "start_date": "2025-10-01", "target_finish": "2027-12-31", "budget_at_completion": null,
        "format": "json", "plan": plan})
}

/// A save of one task's progress: `was` as loaded, `now` with `change` applied.
fn task_edit(task: &Value, change: impl Fn(&mut Value)) -> Value {
    let was = task["progress"].clone();
    let mut now = was.clone();
    change(&mut now);
    json!({"key": task["wbs"], "was": was, "now": now})
}

fn save(code: &str, status_date: &str, base: i64, tasks: Vec<Value>) -> Value {
    json!({"code": code, "status_date": status_date, "base_version": base, "tasks": tasks})
}

#[tokio::test]
async fn a_project_is_created_from_a_file_and_its_progress_kept_per_status_date() {
    let (app, boss, _) = app().await;
    let plan = plan_file(&app).await;
    let created = post(&app, &boss, "/api/projects", &new_project(&plan)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["tasks"].as_u64().map(|n| n > 50), Some(true));
    // The same code again: 409, and nothing changes.
    let again = post(&app, &boss, "/api/projects", &new_project(&plan)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

    let sheet = app.get("/api/projects/NEWP/progress", &boss).await.json();
    let v1 = sheet["version"].as_i64().expect("version");
    assert_eq!(sheet["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        sheet["records"][0]["recorded_by"],
        json!("Test boss"),
        "named as progress saves name people: by their display name"
    );
    // A task not started yet: started in October, 40 % by the end of October.
    let task = sheet["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["progress"]["percent_complete"] == json!(0.0))
        .expect("a task not started")
        .clone();
    let october = save(
        "NEWP",
        "2026-10-31",
        v1,
        vec![task_edit(&task, |p| {
            p["percent_complete"] = json!(40.0);
            p["actual_start"] = json!("2026-10-05");
        })],
    );
    let saved = post(&app, &boss, "/api/projects/NEWP/progress", &october).await;
    // The plan was imported today, so October is before the latest status date.
    assert_eq!(saved.status, StatusCode::BAD_REQUEST, "{}", saved.body);
    assert!(saved.body.contains("recorded forward"), "{}", saved.body);

    let today = chrono::Utc::now().date_naive();
    let day = today.to_string();
    let first = save(
        "NEWP",
        &day,
        v1,
        vec![task_edit(&task, |p| {
            p["percent_complete"] = json!(40.0);
            p["actual_start"] = json!(day.clone());
        })],
    );
    let saved = post(&app, &boss, "/api/projects/NEWP/progress", &first).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let v2 = saved.json()["version"].as_i64().expect("version");
    assert_eq!(v2, v1 + 1);

    // The live plan says 40 %; the record before it still says 0 % (never overwritten).
    let id = app.project_ids(&["NEWP"]).await[0];
    let records = app.store().progress_records(id, 10).await.expect("records");
    assert_eq!(
        records.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![v2, v1]
    );
    let wbs = task["wbs"].as_str().expect("wbs");
    let percent = |doc: &server::transfer::ProjectDocument| {
        doc.tasks
            .iter()
            .find(|t| t.wbs == wbs)
            .map(|t| t.percent_complete)
    };
    let live = app
        .store()
        .export_project("NEWP")
        .await
        .expect("export")
        .expect("NEWP");
    assert_eq!(percent(&live), Some(40.0));
    let before = app
        .store()
        .progress_as_of(id, today.pred_opt().expect("yesterday"))
        .await
        .expect("as of");
    assert!(before.is_none(), "nothing was recorded before today");
    let (record, doc) = app
        .store()
        .progress_as_of(id, today)
        .await
        .expect("as of")
        .expect("today's record");
    assert_eq!((record.version, percent(&doc)), (v2, Some(40.0)));
}

#[tokio::test]
async fn bad_cells_are_refused_with_their_place_and_nothing_is_saved() {
    let (app, _, pm) = app().await;
    let sheet = app.get("/api/projects/HBR/progress", &pm).await.json();
    let version = sheet["version"].as_i64().expect("version");
    let tasks = sheet["tasks"].as_array().expect("tasks");
    let day = chrono::Utc::now().date_naive().to_string();
    let bad = save(
        "HBR",
        &day,
        version,
        vec![
            task_edit(&tasks[0], |p| p["percent_complete"] = json!(120.0)),
            task_edit(&tasks[1], |p| p["actual_finish"] = json!("2026-02-30")),
        ],
    );
    let reply = post(&app, &pm, "/api/projects/HBR/progress", &bad).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let message = reply.json()["error"].as_str().expect("error").to_string();
    let first = tasks[0]["wbs"].as_str().expect("wbs");
    assert!(
        message.contains(&format!(
            "task {first} percent_complete: must be between 0 and 100, not 120"
        )),
        "{message}"
    );
    assert!(
        message.contains("must be a date as YYYY-MM-DD, not '2026-02-30'"),
        "{message}"
    );
    let after = app.get("/api/projects/HBR/progress", &pm).await.json();
    assert_eq!(after["version"], json!(version), "nothing was saved");
    // A status date that is not one, and a save of nothing.
    let reply = post(
        &app,
        &pm,
        "/api/projects/HBR/progress",
        &save(
            "HBR",
            "soon",
            version,
            vec![task_edit(&tasks[0], |p| p["actual_cost"] = json!(1.0))],
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let reply = post(
        &app,
        &pm,
        "/api/projects/HBR/progress",
        &save("HBR", &day, version, vec![]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}

#[tokio::test]
async fn two_saves_of_one_grid_merge_and_a_real_conflict_is_named() {
    let (app, _, pm) = app().await;
    app.account("vera2", Role::Editor, &["HBR"], None).await;
    let vera = app.session("vera2").await;
    let sheet = app.get("/api/projects/HBR/progress", &pm).await.json();
    let version = sheet["version"].as_i64().expect("version");
    let tasks = sheet["tasks"].as_array().expect("tasks").clone();
    let day = chrono::Utc::now().date_naive().to_string();
    let cost = |t: &Value| t["progress"]["actual_cost"].as_f64().expect("cost");
    // Both loaded the same version; each changes another task: both are kept.
    let mine = save(
        "HBR",
        &day,
        version,
        vec![task_edit(&tasks[0], |p| {
            p["actual_cost"] = json!(cost(&tasks[0]) + 100.0)
        })],
    );
    let theirs = save(
        "HBR",
        &day,
        version,
        vec![task_edit(&tasks[1], |p| {
            p["actual_cost"] = json!(cost(&tasks[1]) + 200.0)
        })],
    );
    let a = post(&app, &pm, "/api/projects/HBR/progress", &mine).await;
    let b = post(&app, &vera, "/api/projects/HBR/progress", &theirs).await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        a.body,
        b.body
    );
    assert_eq!(b.json()["merged_with_others"], json!(true));
    let now = app.get("/api/projects/HBR/progress", &pm).await.json();
    assert_eq!(cost(&now["tasks"][0]), cost(&tasks[0]) + 100.0);
    assert_eq!(cost(&now["tasks"][1]), cost(&tasks[1]) + 200.0);
    // Both change the same cell from the same value to different values: the second is told.
    let clash = save(
        "HBR",
        &day,
        version,
        vec![task_edit(&tasks[0], |p| {
            p["actual_cost"] = json!(cost(&tasks[0]) + 999.0)
        })],
    );
    let reply = post(&app, &vera, "/api/projects/HBR/progress", &clash).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    let wbs = tasks[0]["wbs"].as_str().expect("wbs");
    assert!(
        reply.body.contains(&format!(
            "task {wbs} actual_cost: yours {}, saved meanwhile {}",
            cost(&tasks[0]) + 999.0,
            cost(&tasks[0]) + 100.0
        )),
        "{}",
        reply.body
    );
    let after = app.get("/api/projects/HBR/progress", &pm).await.json();
    assert_eq!(
        cost(&after["tasks"][0]),
        cost(&tasks[0]) + 100.0,
        "nothing was saved"
    );
}

#[tokio::test]
async fn many_concurrent_saves_of_different_rows_all_land() {
    let (app, _, pm) = app().await;
    let sheet = app.get("/api/projects/HBR/progress", &pm).await.json();
    let version = sheet["version"].as_i64().expect("version");
    let tasks = sheet["tasks"].as_array().expect("tasks").clone();
    let day = chrono::Utc::now().date_naive().to_string();
    let n = tasks.len().min(60);
    let saves = (0..n).map(|i| {
        let body = save(
            "HBR",
            &day,
            version,
            vec![task_edit(&tasks[i], |p| {
                p["actual_cost"] = json!(1000.0 + i as f64)
            })],
        );
        let (app, pm) = (&app, &pm);
        async move { post(app, pm, "/api/projects/HBR/progress", &body).await }
    });
    let replies = futures_util::future::join_all(saves).await;
    let mut versions: Vec<i64> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.json()["version"].as_i64().expect("version")
        })
        .collect();
    versions.sort_unstable();
    let expected: Vec<i64> = (version + 1..=version + n as i64).collect();
    assert_eq!(
        versions, expected,
        "one version per save, none lost or doubled"
    );
    // The reference: the loaded plan with every save's change applied.
    let now = app.get("/api/projects/HBR/progress", &pm).await.json();
    for (i, task) in now["tasks"].as_array().expect("tasks").iter().enumerate() {
        let want = if i < n {
            1000.0 + i as f64
        } else {
            tasks[i]["progress"]["actual_cost"].as_f64().expect("cost")
        };
        assert_eq!(
            task["progress"]["actual_cost"].as_f64(),
            Some(want),
            "task {i}"
        );
    }
}

#[tokio::test]
async fn a_months_report_is_started_from_the_progress_in_force_at_its_end() {
    let (app, _, pm) = app().await;
    let templates = app.get("/api/templates", &pm).await.json();
    let template = templates[0]["id"].as_i64().expect("template");
    let this_month = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    let start = |period: &str| json!({"period": period, "template_id": template});
    let started = post(&app, &pm, "/api/projects/HBR/reports", &start(&this_month)).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let report = started.json()["report_id"].as_i64().expect("id");
    let document = app.get(&format!("/api/reports/{report}"), &pm).await;
    assert_eq!(document.status, StatusCode::OK);
    let document = document.json();
    assert_eq!(document["outline"]["status"], json!("draft"));
    assert!(
        document["sections"]
            .as_array()
            .is_some_and(|s| s.len() == 8),
        "every section generated"
    );
    // The month has a report now; a month not begun and nonsense are refused.
    let again = post(&app, &pm, "/api/projects/HBR/reports", &start(&this_month)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let future = post(&app, &pm, "/api/projects/HBR/reports", &start("2099-01")).await;
    assert_eq!(future.status, StatusCode::BAD_REQUEST, "{}", future.body);
    let unknown = post(
        &app,
        &pm,
        "/api/projects/HBR/reports",
        &json!({"period": this_month, "template_id": 999_999}),
    )
    .await;
    assert!(
        unknown.status == StatusCode::BAD_REQUEST || unknown.status == StatusCode::CONFLICT,
        "{}",
        unknown.body
    );

    // The demo's reports read the progress recorded at their month's end: regenerating an old draft
    // after recording today's progress does not change what it reports.
    let id = app.project_ids(&["HBR"]).await[0];
    let portfolio = app.store().portfolio().await.expect("portfolio");
    let hbr = portfolio
        .projects
        .iter()
        .find(|p| p.code == "HBR")
        .expect("HBR");
    let older = hbr
        .reports
        .iter()
        .find(|r| r.period != this_month)
        .expect("an older report");
    let before = app
        .store()
        .project_data(id, &older.period)
        .await
        .expect("data")
        .expect("HBR");
    let sheet = app.get("/api/projects/HBR/progress", &pm).await.json();
    let task = sheet["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["progress"]["percent_complete"].as_f64() < Some(100.0))
        .expect("unfinished")
        .clone();
    let day = chrono::Utc::now().date_naive().to_string();
    let saved = post(
        &app,
        &pm,
        "/api/projects/HBR/progress",
        &save(
            "HBR",
            &day,
            sheet["version"].as_i64().expect("v"),
            vec![task_edit(&task, |p| {
                p["percent_complete"] = json!(100.0);
                p["actual_start"] = json!(p["actual_start"].as_str().unwrap_or(&day));
                p["actual_finish"] = json!(day.clone());
            })],
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let after = app
        .store()
        .project_data(id, &older.period)
        .await
        .expect("data")
        .expect("HBR");
    let pct = |d: &server::domain::project::ProjectData| {
        d.tasks
            .iter()
            .map(|t| t.percent_complete)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pct(&before),
        pct(&after),
        "the older month's progress is untouched"
    );
    let current = app
        .store()
        .project_data(id, &this_month)
        .await
        .expect("data")
        .expect("HBR");
    let wbs = task["wbs"].as_str().expect("wbs");
    assert_eq!(
        current
            .tasks
            .iter()
            .find(|t| t.wbs == wbs)
            .map(|t| t.percent_complete),
        Some(100.0)
    );
}

#[tokio::test]
async fn only_editors_of_the_project_record_and_start_and_only_admins_create() {
    let (app, _, pm) = app().await;
    app.account("reader", Role::Viewer, &["HBR"], None).await;
    let reader = app.session("reader").await;
    let refused = app.get("/api/projects/HBR/progress", &reader).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let other = app.get("/api/projects/CDW/progress", &pm).await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "a project out of reach reads as missing"
    );
    let plan = plan_file(&app).await;
    let create = post(&app, &pm, "/api/projects", &new_project(&plan)).await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
}

/// A section's stored content in a report document, by key.
fn section<'a>(document: &'a Value, key: &str) -> &'a Value {
    document["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["key"] == json!(key)))
        .map(|s| &s["content"])
        .unwrap_or_else(|| panic!("no section {key}"))
}

#[tokio::test]
async fn the_changes_since_last_month_are_the_two_reports_side_by_side() {
    let (app, _, pm) = app().await;
    let portfolio = app.store().portfolio().await.expect("portfolio");
    let reports = &portfolio
        .projects
        .iter()
        .find(|p| p.code == "ERP")
        .expect("ERP")
        .reports;
    app.account("erp_pm", Role::Editor, &["ERP"], None).await;
    let pm_erp = app.session("erp_pm").await;
    // Newest first: each report against the one before it, read independently from their JSON.
    let mut slips = 0;
    for pair in reports.windows(2) {
        let (now_id, before_id) = (pair[0].id, pair[1].id);
        let changes = app
            .get(&format!("/api/reports/{now_id}/changes"), &pm_erp)
            .await
            .json();
        assert_eq!(changes["previous_report_id"], json!(before_id));
        let now = app
            .get(&format!("/api/reports/{now_id}"), &pm_erp)
            .await
            .json();
        let before = app
            .get(&format!("/api/reports/{before_id}"), &pm_erp)
            .await
            .json();
        let cpi = |doc: &Value| {
            section(doc, "key-metrics")["ev"]["cpi"]
                .as_f64()
                .map_or("n/a".to_string(), |v| format!("{v:.2}"))
        };
        let figure = changes["figures"]
            .as_array()
            .expect("figures")
            .iter()
            .find(|f| f["label"] == json!("CPI"))
            .expect("CPI")
            .clone();
        assert_eq!(
            (figure["before"].as_str(), figure["now"].as_str()),
            (Some(cpi(&before).as_str()), Some(cpi(&now).as_str()))
        );
        // Slipped: not reached now, and forecast later than last month's.
        let rows = |doc: &Value| {
            section(doc, "milestones")["rows"]
                .as_array()
                .expect("rows")
                .clone()
        };
        let mut slipped: Vec<String> = rows(&now)
            .iter()
            .filter(|m| m["actual"].is_null())
            .filter(|m| {
                rows(&before).iter().any(|b| {
                    b["name"] == m["name"]
                        && b["actual"].is_null()
                        && b["forecast"].as_str() < m["forecast"].as_str()
                })
            })
            .map(|m| m["name"].as_str().expect("name").to_string())
            .collect();
        let mut said: Vec<String> = changes["slipped"]
            .as_array()
            .expect("slipped")
            .iter()
            .map(|m| m["name"].as_str().expect("name").to_string())
            .collect();
        slipped.sort();
        said.sort();
        assert_eq!(said, slipped, "report {now_id}");
        slips += said.len();
    }
    assert!(
        slips > 0,
        "the troubled demo project slips some milestone in six months"
    );
    // The first report has nothing before it; a report out of reach is a 404.
    let first = reports.last().expect("first").id;
    let none = app
        .get(&format!("/api/reports/{first}/changes"), &pm_erp)
        .await;
    assert_eq!((none.status, none.body.as_str()), (StatusCode::OK, "null"));
    let hidden = app.get(&format!("/api/reports/{first}/changes"), &pm).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}

fn put(uri: &str, who: &Who, body: &Value) -> axum::http::Request<axum::body::Body> {
    request(
        Method::PUT,
        uri,
        who,
        Some(("application/json", body.to_string().into_bytes())),
    )
}

/// Titles of a report's sections, in order.
async fn section_titles(app: &TestApp, who: &Who, report: i64) -> Vec<String> {
    let document = app.get(&format!("/api/reports/{report}"), who).await.json();
    document["outline"]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["title"].as_str().expect("title").to_string())
        .collect()
}

#[tokio::test]
async fn admins_make_and_change_templates_and_a_report_keeps_the_one_it_was_made_with() {
    let (app, boss, pm) = app().await;
    let lean = json!({"name": "Lean monthly", "sections": [
        {"key": "executive-summary", "type": "executive_summary", "title": "The month", "priority": "high"},
        {"key": "key-metrics", "type": "key_metrics", "title": "Figures", "priority": "high"},
        {"key": "risks", "type": "risks", "title": "Risks", "priority": "low"},
    ]});
    // Editors may not; a bad template is refused with every problem; a good one is made.
    let refused = post(&app, &pm, "/api/templates", &lean).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let bad = json!({"name": " ", "sections": [
        {"key": "Risks!", "type": "gantt", "title": "", "priority": "low"},
    ]});
    let bad = post(&app, &boss, "/api/templates", &bad).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    for words in [
        "needs a name",
        "'gantt' is not a section type",
        "Section 1 needs a title",
        "the key must be",
    ] {
        assert!(bad.body.contains(words), "{words}: {}", bad.body);
    }
    // The list as anyone sees it is read (and cached) before the template exists.
    let before = app.get("/api/templates", &pm).await.json();
    let made = post(&app, &boss, "/api/templates", &lean).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made = made.json();
    let id = made["id"].as_i64().expect("id");
    assert_eq!(made["reports"], json!(0));
    let again = post(&app, &boss, "/api/templates", &lean).await;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "a name in use: {}",
        again.body
    );
    assert!(again.body.contains("exists already"), "{}", again.body);
    let after = app.get("/api/templates", &pm).await.json();
    assert_eq!(
        after.as_array().map(Vec::len),
        before.as_array().map(|l| l.len() + 1),
        "the cached list is dropped when a template is made"
    );

    // A report started from it has its sections, in its order.
    let this_month = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    let started = post(
        &app,
        &pm,
        "/api/projects/HBR/reports",
        &json!({"period": this_month, "template_id": id}),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let report = started.json()["report_id"].as_i64().expect("report");
    assert_eq!(
        section_titles(&app, &pm, report).await,
        ["The month", "Figures", "Risks"]
    );

    // Changing the template: the list shows the change at once; the report keeps its sections,
    // regenerated or not; a report started after has the new ones.
    let changed = json!({"name": "Lean monthly (v2)", "sections": [
        {"key": "risks", "type": "risks", "title": "Risks first", "priority": "high"},
        {"key": "monte-carlo", "type": "monte_carlo", "title": "Odds", "priority": "medium"},
    ]});
    let put_reply = app
        .send(put(&format!("/api/templates/{id}"), &boss, &changed))
        .await;
    assert_eq!(put_reply.status, StatusCode::OK, "{}", put_reply.body);
    assert_eq!(put_reply.json()["reports"], json!(1));
    let listed = app.get("/api/templates", &pm).await.json();
    let entry = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["id"] == json!(id))
        .expect("listed")
        .clone();
    assert_eq!(entry["name"], json!("Lean monthly (v2)"));
    assert_eq!(entry["sections"], json!(["Risks first", "Odds"]));
    let versions = |document: &Value| -> Vec<i64> {
        document["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s["version"].as_i64().expect("version"))
            .collect()
    };
    let before = versions(&app.get(&format!("/api/reports/{report}"), &pm).await.json());
    let regenerated = post(
        &app,
        &pm,
        &format!("/api/reports/{report}/regenerate"),
        &json!({}),
    )
    .await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.body);
    assert_eq!(
        section_titles(&app, &pm, report).await,
        ["The month", "Figures", "Risks"],
        "the report keeps the sections it was made with"
    );
    let document = app.get(&format!("/api/reports/{report}"), &pm).await.json();
    assert_eq!(
        versions(&document),
        before.iter().map(|v| v + 1).collect::<Vec<_>>(),
        "every section of the report is generated again, by its own layout"
    );
    let other = post(
        &app,
        &boss,
        "/api/projects/CDW/reports",
        &json!({"period": this_month, "template_id": id}),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    let other = other.json()["report_id"].as_i64().expect("report");
    assert_eq!(
        section_titles(&app, &boss, other).await,
        ["Risks first", "Odds"]
    );

    // Changing one that does not exist, or to a name in use, is refused; nothing changes.
    let missing = app
        .send(put("/api/templates/999999", &boss, &changed))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let standard = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["id"] != json!(id))
        .expect("the standard template")["name"]
        .clone();
    let clash = json!({"name": standard, "sections": changed["sections"]});
    let clash = app
        .send(put(&format!("/api/templates/{id}"), &boss, &clash))
        .await;
    assert_eq!(clash.status, StatusCode::BAD_REQUEST, "{}", clash.body);
    let one = app.get(&format!("/api/templates/{id}"), &boss).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.json()["name"], json!("Lean monthly (v2)"));
    assert_eq!(one.json()["reports"], json!(2));
}

/// The admin page's change to an account: `pm` allowed (or not) to create projects.
async fn allow_creating(app: &TestApp, boss: &Who, allowed: bool) {
    let overview = app
        .send(common::server_fn("admin_overview", boss, ""))
        .await
        .json();
    let pm = overview["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["username"] == json!("pm"))
        .expect("pm")
        .clone();
    let change = json!({"change": {"id": pm["id"], "display_name": pm["display_name"],
        "role": "editor", "active": true, "projects": pm["projects"],
        "may_create_projects": allowed}});
    let reply = app
        .send(common::server_fn_json("update_account", boss, &change))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn an_editor_an_admin_allows_creates_projects_and_becomes_their_member() {
    let (app, boss, pm) = app().await;
    let plan = plan_file(&app).await;
    let refused = post(&app, &pm, "/api/projects", &new_project(&plan)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body.contains("an editor an admin has allowed to"),
        "{}",
        refused.body
    );
    let codes = app
        .send(common::server_fn("get_project_codes", &pm, ""))
        .await;
    assert_eq!(codes.status, StatusCode::FORBIDDEN, "{}", codes.body);
    let portfolio = app
        .send(common::server_fn("list_portfolio", &pm, ""))
        .await
        .json();
    assert_eq!(portfolio["may_create_projects"], json!(false));

    allow_creating(&app, &boss, true).await;
    let portfolio = app
        .send(common::server_fn("list_portfolio", &pm, ""))
        .await
        .json();
    assert_eq!(portfolio["may_create_projects"], json!(true));
    // The form's list of codes in use is the admin's alone: it would tell of projects out of reach.
    let codes = app
        .send(common::server_fn("get_project_codes", &pm, ""))
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.body);
    assert_eq!(codes.json(), json!([]));
    let admin_codes = app
        .send(common::server_fn("get_project_codes", &boss, ""))
        .await
        .json();
    assert!(
        admin_codes
            .as_array()
            .is_some_and(|c| c.contains(&json!("HBR"))),
        "{admin_codes}"
    );

    let made = post(&app, &pm, "/api/projects", &new_project(&plan)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    // A member at once (the remembered caller of the earlier requests is forgotten): the project,
    // its grid and a month's report are theirs to work on.
    let page = app.get("/api/projects/NEWP", &pm).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let grid = app.get("/api/projects/NEWP/progress", &pm).await;
    assert_eq!(grid.status, StatusCode::OK, "{}", grid.body);

    // Taken back: refused at once, though the session is the same.
    allow_creating(&app, &boss, false).await;
    let mut other = new_project(&plan);
    other["code"] = json!("NEWQ");
    let again = post(&app, &pm, "/api/projects", &other).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.body);
}

#[tokio::test]
async fn a_projects_calendar_sets_its_status_dates_and_an_estimate_of_days_left_moves_the_forecast()
{
    let (app, boss, _) = app().await;
    let plan = plan_file(&app).await;
    let with_calendar = |calendar: Value| {
        let mut project = new_project(&plan);
        project["calendar"] = calendar;
        project
    };
    // A week with no working day, and an impossible reporting day: 400, every problem named.
    let idle = post(
        &app,
        &boss,
        "/api/projects",
        &with_calendar(json!({"working_days": [], "holidays": ["2026-13-01"], "reporting_day": 0})),
    )
    .await;
    assert_eq!(idle.status, StatusCode::BAD_REQUEST, "{}", idle.body);
    for words in [
        "Working days: at least one day of the week must be worked.",
        "Holidays: '2026-13-01' is not a date",
        "The reporting day: must be a day of the month, 1 to 31, not 0.",
    ] {
        assert!(idle.body.contains(words), "{words}: {}", idle.body);
    }
    let none = app.get("/api/projects/NEWP", &boss).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "nothing was created");
    // Six working days a week, Christmas off, reports as of the 20th.
    let calendar = json!({"working_days": ["sat", "mon", "tue", "wed", "thu", "fri"],
        "holidays": ["2026-12-25", "2026-12-24"], "reporting_day": 20});
    let created = post(&app, &boss, "/api/projects", &with_calendar(calendar)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let tidy = json!({"working_days": ["mon", "tue", "wed", "thu", "fri", "sat"],
        "holidays": ["2026-12-24", "2026-12-25"], "reporting_day": 20});
    let overview = app.get("/api/projects/NEWP", &boss).await.json();
    assert_eq!(
        overview["calendar"], tidy,
        "the page's data shows it, written one way"
    );
    let export = app.get("/api/projects/NEWP/export", &boss).await.json();
    assert_eq!(
        export["project"]["calendar"], tidy,
        "and the export carries it"
    );

    // The sheet proposes the latest 20th (the page records on the latest date recorded when that
    // is later: here, today's, when the project was created). This month's report is as of its
    // 20th and reads an estimate of 2,000 working days left on one started task.
    let sheet = app.get("/api/projects/NEWP/progress", &boss).await.json();
    let today = chrono::Utc::now().date_naive();
    let suggested = sheet["suggested_status_date"].as_str().expect("date");
    let expected = if chrono::Datelike::day(&today) >= 20 {
        today.format("%Y-%m-20").to_string()
    } else {
        (chrono::Datelike::with_day(&today, 1).expect("first") - chrono::Duration::days(1))
            .format("%Y-%m-20")
            .to_string()
    };
    assert_eq!(suggested, expected);
    let task = sheet["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| {
            let pct = t["progress"]["percent_complete"].as_f64().unwrap_or(0.0);
            pct > 0.0 && pct < 100.0
        })
        .expect("a started task")
        .clone();
    let edit = task_edit(&task, |p| p["remaining_days"] = json!(2000.0));
    let saved = post(
        &app,
        &boss,
        "/api/projects/NEWP/progress",
        &save(
            "NEWP",
            &today.to_string(),
            sheet["version"].as_i64().expect("v"),
            vec![edit],
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let again = app.get("/api/projects/NEWP/progress", &boss).await.json();
    let kept = again["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["wbs"] == task["wbs"])
        .expect("the task");
    assert_eq!(kept["progress"]["remaining_days"], json!(2000.0));

    let templates = app.get("/api/templates", &boss).await.json();
    let template = templates[0]["id"].as_i64().expect("template");
    let period = today.format("%Y-%m").to_string();
    let started = post(
        &app,
        &boss,
        "/api/projects/NEWP/reports",
        &json!({"period": period, "template_id": template}),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let report = started.json()["report_id"].as_i64().expect("id");
    let document = app
        .get(&format!("/api/reports/{report}"), &boss)
        .await
        .json();
    let simulation = section(&document, "monte-carlo");
    let twentieth = today.format("%Y-%m-20").to_string();
    assert_eq!(
        simulation["status_date"],
        json!(twentieth),
        "the month's 20th"
    );
    // 2,000 working days of six a week is over six years; the median draw is well past five.
    let p50 = simulation["p50_finish"].as_str().expect("p50");
    let status_year: i32 = twentieth[..4].parse().expect("year");
    let p50_year: i32 = p50[..4].parse().expect("year");
    assert!(p50_year >= status_year + 5, "p50 {p50} from {twentieth}");
}

#[tokio::test]
async fn a_published_report_is_corrected_by_a_new_revision_and_stays_readable() {
    let (app, _, pm) = app().await;
    app.account("reader", Role::Viewer, &["HBR"], None).await;
    let reader = app.session("reader").await;
    let templates = app.get("/api/templates", &pm).await.json();
    let template = templates[0]["id"].as_i64().expect("template");
    let this_month = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
    let started = post(
        &app,
        &pm,
        "/api/projects/HBR/reports",
        &json!({"period": this_month, "template_id": template}),
    )
    .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let first = started.json()["report_id"].as_i64().expect("id");
    let correct = |id: i64| format!("/api/reports/{id}/correction");
    // A draft is edited, not corrected.
    let early = post(&app, &pm, &correct(first), &json!({})).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST, "{}", early.body);
    let published = post(
        &app,
        &pm,
        &format!("/api/reports/{first}/publish"),
        &json!({}),
    )
    .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);

    // A reader may not correct; an editor starts the correction, once.
    let refused = post(&app, &reader, &correct(first), &json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let started = post(&app, &pm, &correct(first), &json!({})).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let second = started.json()["report_id"].as_i64().expect("id");
    let again = post(&app, &pm, &correct(first), &json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains(&format!("report {second}")),
        "{}",
        again.body
    );

    let (on, as_reader) = (&app, &reader);
    let read = move |id: i64| {
        let uri = format!("/api/reports/{id}");
        async move { on.get(&uri, as_reader).await }
    };
    let original = read(first).await.json();
    assert_eq!(original["outline"]["correction_draft"], json!(second));
    let draft = read(second).await.json();
    assert_eq!(draft["outline"]["status"], json!("draft"));
    assert_eq!(draft["outline"]["revision"], json!(2));
    assert_eq!(draft["outline"]["corrects"], json!(first));
    assert_eq!(
        draft["sections"].as_array().map(Vec::len),
        original["sections"].as_array().map(Vec::len),
        "the correction starts from what was published"
    );
    // While drafted, the project lists the published report as the month's.
    let month_reports = |overview: &Value| -> Vec<i64> {
        overview["summary"]["reports"]
            .as_array()
            .expect("reports")
            .iter()
            .filter(|r| r["period"] == json!(this_month))
            .filter_map(|r| r["id"].as_i64())
            .collect()
    };
    let overview = app.get("/api/projects/HBR", &reader).await.json();
    assert_eq!(month_reports(&overview), [first]);

    let published = post(
        &app,
        &pm,
        &format!("/api/reports/{second}/publish"),
        &json!({}),
    )
    .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    let original = read(first).await.json();
    assert_eq!(original["outline"]["superseded_by"], json!(second));
    assert_eq!(
        original["outline"]["status"],
        json!("final"),
        "kept as published"
    );
    let overview = app.get("/api/projects/HBR", &reader).await.json();
    assert_eq!(
        month_reports(&overview),
        [second],
        "the correction is the month's now"
    );
    let superseded = post(&app, &pm, &correct(first), &json!({})).await;
    assert_eq!(
        superseded.status,
        StatusCode::CONFLICT,
        "{}",
        superseded.body
    );
    let unknown = post(&app, &pm, &correct(9_999_999), &json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
}

#[tokio::test]
async fn a_save_adds_and_removes_milestones_and_risks() {
    let (app, _, pm) = app().await;
    let sheet = app.get("/api/projects/HBR/progress", &pm).await.json();
    let version = sheet["version"].as_i64().expect("version");
    let day = chrono::Utc::now().date_naive().to_string();
    let wbs = sheet["tasks"][0]["wbs"].as_str().expect("wbs").to_string();
    let old_milestone = sheet["milestones"][0]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let old_risk = sheet["risks"][0]["title"]
        .as_str()
        .expect("title")
        .to_string();
    let risk = |title: &str, probability: f64, affected: Vec<String>| {
        json!({"title": title, "affected_tasks": affected, "assessment": {
            "probability": probability, "cost_impact": 40000.0, "schedule_impact_days": 8.0,
            "owner": "Site", "mitigation": "Second crane booked.", "status": "open"}})
    };
    let milestone = json!({"name": "Handover rehearsal", "baseline_date": "2027-05-03",
        "progress": {"forecast_date": "2027-05-10", "actual_date": null}});
    let body = |added_risks: Vec<Value>| {
        json!({"code": "HBR", "status_date": day, "base_version": version,
            "added_milestones": [milestone.clone()], "added_risks": added_risks,
            "removed_milestones": [old_milestone.clone()], "removed_risks": [old_risk.clone()]})
    };
    // Bad rows are refused with their place, and nothing is saved.
    let bad = post(
        &app,
        &pm,
        "/api/projects/HBR/progress",
        &body(vec![risk("Crane failure", 1.5, vec![wbs.clone()])]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        bad.body
            .contains("new risk Crane failure probability: must be between 0 and 1, not 1.5"),
        "{}",
        bad.body
    );
    let unknown = post(
        &app,
        &pm,
        "/api/projects/HBR/progress",
        &body(vec![risk("Crane failure", 0.2, vec!["99.99".into()])]),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert!(unknown.body.contains("99.99"), "{}", unknown.body);
    let same = app.get("/api/projects/HBR/progress", &pm).await.json();
    assert_eq!(same["version"], json!(version), "nothing saved");

    let saved = post(
        &app,
        &pm,
        "/api/projects/HBR/progress",
        &body(vec![risk("Crane failure", 0.2, vec![wbs.clone()])]),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let after = app.get("/api/projects/HBR/progress", &pm).await.json();
    let names = |kind: &str, key: &str| -> Vec<String> {
        after[kind]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r[key].as_str().map(String::from))
            .collect()
    };
    assert!(names("milestones", "name").contains(&"Handover rehearsal".to_string()));
    assert!(!names("milestones", "name").contains(&old_milestone));
    assert!(names("risks", "title").contains(&"Crane failure".to_string()));
    assert!(!names("risks", "title").contains(&old_risk));
    let export = app.get("/api/projects/HBR/export", &pm).await.json();
    let added = export["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .find(|r| r["title"] == json!("Crane failure"))
        .expect("the new risk");
    assert_eq!(added["affected_tasks"], json!([wbs]));

    // Adding what the plan has now (a second grid loaded before the save) is a conflict, named.
    let again = post(
        &app,
        &pm,
        "/api/projects/HBR/progress",
        &json!({"code": "HBR", "status_date": day, "base_version": version,
            "added_risks": [risk("Crane failure", 0.3, vec![])]}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains(
            "risk Crane failure: yours added, saved meanwhile a risk of this title is in the plan"
        ),
        "{}",
        again.body
    );
}
