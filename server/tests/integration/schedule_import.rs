//! Microsoft Project XML and P6 XER files through `POST /api/projects/import` (issue 24): created
//! (201) and replaced (200) by code, told apart by content type or by their first bytes, previewed
//! with `dry_run` (nothing changes), refused with a 422 that names each problem's place (nothing
//! changes either), and the round trip: a plan imported from MSPDI and reported, exported as
//! `pmr.project/v1` and imported again, reports the same earned value figures.

use crate::common;

use axum::http::{Method, StatusCode};
use common::{request, Reply, Role, TestApp, Who};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schedules");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn post(app: &TestApp, who: &Who, uri: &str, content_type: &str, body: Vec<u8>) -> Reply {
    app.send(request(Method::POST, uri, who, Some((content_type, body))))
        .await
}

async fn admin(app: &TestApp) -> Who {
    app.api_token("importer", Role::Admin, &[]).await
}

#[tokio::test]
async fn an_mspdi_file_creates_then_replaces_a_project() {
    let app = common::seeded().await;
    let who = admin(&app).await;
    let uri = "/api/projects/import?code=HCU&status_date=2026-02-02";
    let created = post(
        &app,
        &who,
        uri,
        "application/xml",
        fixture("project-2019.xml"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let body = created.json();
    assert_eq!(
        (
            &body["code"],
            &body["created"],
            &body["tasks"],
            &body["milestones"]
        ),
        (&json!("HCU"), &json!(true), &json!(5), &json!(2))
    );
    assert_eq!(body["read"]["format"], json!("Microsoft Project XML"));
    assert_eq!(body["read"]["summaries"], json!(2));
    assert!(
        body["read"]["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["location"] == json!("task UID 9"))),
        "{body}"
    );
    let export = app.get("/api/projects/HCU/export", &who).await.json();
    assert_eq!(export["project"]["name"], json!("Harbour crane upgrade"));
    assert_eq!(
        export["tasks"][1]["name"],
        json!("Structural design & calculations")
    );
    assert_eq!(export["tasks"][1]["remaining_days"], json!(8.0));
    assert_eq!(
        export["project"]["calendar"]["holidays"],
        json!(["2026-04-06", "2026-04-07", "2026-12-25"])
    );

    // The same file again, renamed, with its own estimate rule: 200, the project replaced.
    let again = post(
        &app,
        &who,
        "/api/projects/import?code=HCU&name=Crane%20works&optimistic=0.5&pessimistic=2&status_date=2026-02-03",
        "application/xml",
        fixture("project-2019.xml"),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["created"], json!(false));
    let export = app.get("/api/projects/HCU/export", &who).await.json();
    assert_eq!(export["project"]["name"], json!("Crane works"));
    assert_eq!(export["tasks"][1]["optimistic_days"], json!(10.0));
    assert_eq!(export["tasks"][1]["pessimistic_days"], json!(40.0));
}

#[tokio::test]
async fn an_xer_file_is_sniffed_and_its_project_chosen() {
    let app = common::seeded().await;
    let who = admin(&app).await;
    let xer = fixture("p6-two-projects.xer");
    // Two projects and none chosen: 422 naming them, nothing created.
    let refused = post(
        &app,
        &who,
        "/api/projects/import?code=CRN",
        "text/plain",
        xer.clone(),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let problems = refused.json()["problems"].clone();
    assert_eq!(problems[0]["location"], json!("p6_project"));
    assert!(problems[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("101 (CRANE-P6") && m.contains("102 (YARD")));
    assert_eq!(app.store().project_id("CRN").await.expect("query"), None);
    // A preview without a choice shows the first project and lists both, to choose from.
    let preview = post(
        &app,
        &who,
        "/api/projects/import?code=CRN&dry_run=true",
        "text/plain",
        xer.clone(),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let body = preview.json();
    assert_eq!(body["p6_projects"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        body["p6_projects"][0]["name"],
        json!("Crane replacement (Café wharf)"),
        "read in the file's code page"
    );
    assert_eq!(body["read"]["warnings"][0]["location"], json!("p6_project"));
    assert_eq!(body["tasks"], json!(4), "project 101's");

    // A refused project of a several-project file: the 422 lists the projects, to choose another.
    let text = String::from_utf8_lossy(&xer).replace("\t256\t400\t", "\t256\t-400\t");
    let refused = post(
        &app,
        &who,
        "/api/projects/import?code=CRN&p6_project=101&dry_run=true",
        "text/plain",
        text.into_bytes(),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let body = refused.json();
    assert_eq!(
        body["p6_projects"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    assert!(
        body["problems"][0]["location"]
            .as_str()
            .is_some_and(|l| l.contains("task A2010")),
        "{body}"
    );

    // Sent as bytes without a type: recognised by its ERMHDR line.
    let created = post(
        &app,
        &who,
        "/api/projects/import?code=CRN&p6_project=101&status_date=2026-02-02",
        "application/octet-stream",
        xer,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let body = created.json();
    assert_eq!(body["read"]["format"], json!("Primavera P6 XER"));
    assert_eq!(
        (&body["tasks"], &body["milestones"]),
        (&json!(4), &json!(1))
    );
    assert_eq!(body["p6_projects"].as_array().map(Vec::len), Some(2));
    let export = app.get("/api/projects/CRN/export", &who).await.json();
    assert_eq!(
        export["project"]["name"],
        json!("Crane replacement (Café wharf)")
    );
    assert_eq!(export["project"]["currency"], json!("USD"));
}

#[tokio::test]
async fn a_dry_run_previews_and_changes_nothing() {
    let app = common::seeded().await;
    let who = admin(&app).await;
    let preview = post(
        &app,
        &who,
        "/api/projects/import?code=PRE&dry_run=true",
        "application/xml",
        fixture("project-2003.xml"),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let body = preview.json();
    assert_eq!(
        (&body["dry_run"], &body["created"], &body["tasks"]),
        (&json!(true), &json!(true), &json!(3))
    );
    assert_eq!(body["read"]["estimated_by_rule"], json!(3));
    assert_eq!(app.store().project_id("PRE").await.expect("query"), None);

    // On an existing project: its risks are kept, the plan is not touched by the preview.
    let before = app.get("/api/projects/HBR/export", &who).await.json();
    let preview = post(
        &app,
        &who,
        "/api/projects/import?code=HBR&dry_run=1",
        "application/xml",
        fixture("project-2003.xml"),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let body = preview.json();
    assert_eq!(body["created"], json!(false));
    assert_eq!(
        body["risks"].as_u64(),
        before["risks"].as_array().map(|r| r.len() as u64)
    );
    let after = app.get("/api/projects/HBR/export", &who).await.json();
    assert_eq!(after, before);
}

#[tokio::test]
async fn bad_files_and_requests_are_refused_and_change_nothing() {
    let app = common::seeded().await;
    let who = admin(&app).await;
    let before = app.get("/api/projects/HBR/export", &who).await.json();
    let mspdi = String::from_utf8(fixture("project-2019.xml")).expect("UTF-8");
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "code=HBR",
            "application/xml",
            b"not xml at all".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not XML",
        ),
        (
            "code=HBR",
            "application/xml",
            mspdi
                .replace("http://schemas.microsoft.com/project", "urn:x")
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "namespace",
        ),
        (
            "code=HBR",
            "text/xml",
            mspdi
                .replace(
                    "<PredecessorUID>2</PredecessorUID>",
                    "<PredecessorUID>8</PredecessorUID>",
                )
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cycle",
        ),
        (
            "code=HBR",
            "text/plain",
            b"HEADER\tx\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "ERMHDR",
        ),
        (
            "code=HBR",
            "text/csv",
            mspdi.clone().into_bytes(),
            StatusCode::BAD_REQUEST,
            "application/xml",
        ),
        (
            "",
            "application/xml",
            mspdi.clone().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "?code=",
        ),
        (
            "code=no%20spaces",
            "application/xml",
            mspdi.clone().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "project code",
        ),
        (
            "code=HBR&optimistic=3",
            "application/xml",
            mspdi.clone().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "between 0.1 and 1",
        ),
        (
            "code=HBR&encoding=klingon",
            "application/xml",
            mspdi.clone().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "klingon",
        ),
        (
            "code=HBR&p6_project=999",
            "text/plain",
            fixture("p6-two-projects.xer"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no project 999",
        ),
    ];
    for (query, content_type, body, status, words) in cases {
        let reply = post(
            &app,
            &who,
            &format!("/api/projects/import?{query}"),
            content_type,
            body,
        )
        .await;
        assert_eq!(
            reply.status, status,
            "{query} {content_type}: {}",
            reply.body
        );
        assert!(
            reply.body.contains(words),
            "{query} {content_type}: '{words}' not in {}",
            reply.body
        );
    }
    assert_eq!(
        app.get("/api/projects/HBR/export", &who).await.json(),
        before
    );

    // An editor may replace a project of theirs, not create one (unless an admin allowed them to:
    // the next test).
    app.account("hbr_pm", Role::Editor, &["HBR"], None).await;
    let pm = app.session("hbr_pm").await;
    let create = post(
        &app,
        &pm,
        "/api/projects/import?code=NEWX",
        "application/xml",
        mspdi.clone().into_bytes(),
    )
    .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN, "{}", create.body);
    let replace = post(
        &app,
        &pm,
        "/api/projects/import?code=HBR&dry_run=true",
        "application/xml",
        mspdi.into_bytes(),
    )
    .await;
    assert_eq!(replace.status, StatusCode::OK, "{}", replace.body);
}

/// An editor an admin allowed to create projects creates one from a scheduler's file and becomes
/// its member; a code taken by a project out of their reach is a conflict, never a replacement;
/// taking the right back holds at once.
#[tokio::test]
async fn an_editor_allowed_to_create_projects_creates_one_from_a_file() {
    let app = common::seeded().await;
    let mspdi = fixture("project-2019.xml");
    app.account("boss", Role::Admin, &[], None).await;
    let boss = app.session("boss").await;
    let pm_id = app.account("maker", Role::Editor, &[], None).await;
    let pm = app.session("maker").await;
    let allow = |allowed: bool| {
        let change = json!({"change": {"id": pm_id, "display_name": "maker",
            "role": "editor", "active": true, "projects": [],
            "may_create_projects": allowed}});
        let boss = boss.clone();
        let app = &app;
        async move {
            let reply = app
                .send(common::server_fn_json("update_account", &boss, &change))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
    };
    let uri = "/api/projects/import?code=MADE&manager=Mara%20Maker&status_date=2026-02-02";
    let refused = post(&app, &pm, uri, "application/xml", mspdi.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body.contains("an editor an admin has allowed to"),
        "{}",
        refused.body
    );

    allow(true).await;
    // The new-project page previews the file before the code is typed: a preview needs no code.
    let uncoded = post(
        &app,
        &pm,
        "/api/projects/import?dry_run=true",
        "application/xml",
        mspdi.clone(),
    )
    .await;
    assert_eq!(uncoded.status, StatusCode::OK, "{}", uncoded.body);
    assert_eq!(uncoded.json()["tasks"], json!(5));
    assert_eq!(uncoded.json()["created"], json!(true));
    // A preview creates nothing and makes no member.
    let preview = post(
        &app,
        &pm,
        &format!("{uri}&dry_run=1"),
        "application/xml",
        mspdi.clone(),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.json()["created"], json!(true));
    assert_eq!(
        app.get("/api/projects/MADE", &pm).await.status,
        StatusCode::NOT_FOUND
    );
    let made = post(&app, &pm, uri, "application/xml", mspdi.clone()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.json()["tasks"], json!(5));
    let page = app.get("/api/projects/MADE", &pm).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let export = app.get("/api/projects/MADE/export", &pm).await.json();
    assert_eq!(export["project"]["manager"], json!("Mara Maker"));
    // Theirs now: replaced like any project of theirs.
    let again = post(
        &app,
        &pm,
        "/api/projects/import?code=MADE&status_date=2026-02-02",
        "application/xml",
        mspdi.clone(),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);

    // A code in use out of their reach: a conflict, and that project is untouched.
    let before = app
        .get("/api/projects/HBR/export", &admin(&app).await)
        .await
        .json();
    let taken = post(
        &app,
        &pm,
        "/api/projects/import?code=HBR",
        "application/xml",
        mspdi.clone(),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(
        app.get("/api/projects/HBR/export", &admin(&app).await)
            .await
            .json(),
        before
    );
    // JSON documents follow the same rule.
    let mut doc = export.clone();
    doc["project"]["code"] = json!("MADE2");
    let json_made = post(
        &app,
        &pm,
        "/api/projects/import",
        "application/json",
        doc.to_string().into_bytes(),
    )
    .await;
    assert_eq!(json_made.status, StatusCode::CREATED, "{}", json_made.body);
    assert_eq!(
        app.get("/api/projects/MADE2", &pm).await.status,
        StatusCode::OK
    );

    // The right taken back holds at the next request.
    allow(false).await;
    let pm = app.session("maker").await;
    let later = post(
        &app,
        &pm,
        "/api/projects/import?code=MADE3",
        "application/xml",
        mspdi,
    )
    .await;
    assert_eq!(later.status, StatusCode::FORBIDDEN, "{}", later.body);
}

/// Key metrics (and the Monte Carlo section) of the month's report of `code` for `period`.
async fn key_metrics(app: &TestApp, who: &Who, code: &str, period: &str) -> (Value, Value) {
    let templates = app.get("/api/templates", who).await.json();
    let template = templates[0]["id"].as_i64().expect("template");
    let started = app
        .send(request(
            Method::POST,
            &format!("/api/projects/{code}/reports"),
            who,
            Some((
                "application/json",
                serde_json::to_vec(&json!({"period": period, "template_id": template}))
                    .expect("json"),
            )),
        ))
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let report = started.json()["report_id"].as_i64().expect("id");
    let document = app.get(&format!("/api/reports/{report}"), who).await.json();
    let section = |key: &str| {
        document["sections"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["key"] == json!(key)))
            .map(|s| s["content"].clone())
            .unwrap_or_else(|| panic!("no section {key}"))
    };
    (section("key-metrics"), section("monte-carlo"))
}

#[tokio::test]
async fn mspdi_reported_exported_and_reimported_gives_the_same_earned_value() {
    let app = common::seeded().await;
    let who = admin(&app).await;
    let imported = post(
        &app,
        &who,
        "/api/projects/import?code=RT1&status_date=2026-02-02",
        "application/xml",
        fixture("project-2019.xml"),
    )
    .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    let (first, simulated) = key_metrics(&app, &who, "RT1", "2026-02").await;
    // The report says that four of the five tasks' spreads come from the estimate rule.
    assert_eq!(
        (&simulated["tasks"], &simulated["estimated_by_rule"]),
        (&json!(5), &json!(4)),
        "{simulated}"
    );

    let mut export = app.get("/api/projects/RT1/export", &who).await.json();
    // What the file told of the tasks is kept and exported: estimates by rule, the constraint.
    let design = export["tasks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["wbs"] == json!("1.2")))
        .expect("task 1.2")
        .clone();
    assert_eq!(
        design["constraint"],
        json!({"kind": "start_no_earlier_than", "date": "2026-01-19"})
    );
    assert_eq!(design["estimated_by_rule"], json!(true));
    let csv = app.get("/api/projects/RT1/tasks.csv", &who).await;
    assert!(
        csv.body.lines().any(|l| l.starts_with("1.2,")
            && l.ends_with(",true,start_no_earlier_than,2026-01-19")),
        "{}",
        csv.body
    );
    export["project"]["code"] = json!("RT2");
    let again = post(
        &app,
        &who,
        "/api/projects/import?status_date=2026-02-02",
        "application/json",
        serde_json::to_vec(&export).expect("json"),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let (second, simulated_again) = key_metrics(&app, &who, "RT2", "2026-02").await;
    assert_eq!(simulated_again["estimated_by_rule"], json!(4));
    assert_eq!(
        app.get("/api/projects/RT2/export", &who).await.json()["tasks"],
        export["tasks"],
        "the re-imported plan is the exported one"
    );

    assert_eq!(first["ev"], second["ev"], "earned value");
    assert_eq!(first["es"], second["es"], "earned schedule");
    // And they are the file's: BAC is the baseline costs, AC the actual costs booked.
    assert_eq!(first["ev"]["bac"], json!(187_000.0));
    assert_eq!(first["ev"]["ac"], json!(33_500.0));
}

/// A plan larger than the progress grid takes (a scheduler's file of thousands of tasks): imported
/// whole; the grid says how to record its progress instead; the project page draws its first rows.
#[tokio::test]
async fn a_plan_larger_than_the_grid_is_imported_and_its_grid_says_what_to_do() {
    let app = common::seeded().await;
    let who = admin(&app).await;
    let tasks: Vec<Value> = (1..=app::progress::MAX_GRID_TASKS + 1)
        .map(|i| {
            json!({"wbs": format!("{}.{}", i / 100 + 1, i % 100 + 1), "name": format!("Activity {i}"),
                "optimistic_days": 2, "most_likely_days": 3, "pessimistic_days": 5,
                "planned_start": "2026-01-05", "planned_finish": "2026-01-07", "budgeted_cost": 100})
        })
        .collect();
    let doc = json!({"schema": "pmr.project/v1", "project": {"code": "BIG", "name": "Big plan",
        "manager": "Ana", "currency": "EUR", "budget_at_completion": 500_100.0,
        "start_date": "2026-01-05", "target_finish": "2026-12-31",
        "declared": {"overall": "green", "scope": "green", "schedule": "green", "cost": "green", "resources": "green"}},
        "tasks": tasks});
    let imported = post(
        &app,
        &who,
        "/api/projects/import?status_date=2026-01-05",
        "application/json",
        doc.to_string().into_bytes(),
    )
    .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    assert_eq!(imported.json()["tasks"], json!(5_001));
    let grid = app.get("/api/projects/BIG/progress", &who).await;
    assert_eq!(grid.status, StatusCode::BAD_REQUEST, "{}", grid.body);
    assert!(
        grid.body
            .contains("This plan has 5001 tasks; the progress grid takes plans of up to 5000"),
        "{}",
        grid.body
    );
    app.account("bigboss", Role::Admin, &[], None).await;
    let boss = app.session("bigboss").await;
    let page = app.get("/projects/BIG", &boss).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("The first 2000 of 5052 rows are shown"),
        "{}",
        &page.body[..page.body.len().min(500)]
    );
}

/// The project's own import address replaces that project's plan, and only that project's.
#[tokio::test]
async fn the_projects_own_import_replaces_its_plan_only() {
    let app = common::seeded().await;
    let who = admin(&app).await;
    let mspdi = fixture("project-2019.xml");
    let replaced = post(
        &app,
        &who,
        "/api/projects/HBR/import?status_date=2026-12-01",
        "application/xml",
        mspdi.clone(),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.json()["code"], json!("HBR"));
    assert_eq!(replaced.json()["created"], json!(false));
    let export = app.get("/api/projects/HBR/export", &who).await.json();
    assert_eq!(export["tasks"].as_array().map(Vec::len), Some(5));

    // Another project's document, a code beside the path, a project that does not exist.
    let mut other = export.clone();
    other["project"]["code"] = json!("OTHER");
    let wrong = post(
        &app,
        &who,
        "/api/projects/HBR/import?status_date=2026-12-01",
        "application/json",
        other.to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains("this address imports into project HBR"),
        "{}",
        wrong.body
    );
    let beside = post(
        &app,
        &who,
        "/api/projects/HBR/import?code=WH2",
        "application/xml",
        mspdi.clone(),
    )
    .await;
    assert_eq!(beside.status, StatusCode::BAD_REQUEST, "{}", beside.body);
    let missing = post(
        &app,
        &who,
        "/api/projects/NOPE/import",
        "application/xml",
        mspdi,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(
        app.get("/api/projects/HBR/export", &who).await.json(),
        export,
        "nothing changed by the refusals"
    );
}
