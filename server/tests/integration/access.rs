//! The access matrix: every route and server function, called by each kind of caller, with the status
//! each must get: an anonymous visitor; a viewer and an editor who are members of the project (HBR),
//! a viewer and an editor who are not; an admin; API tokens of each role, with HBR and with no
//! project, an admin token and a metrics-only token; a deactivated account (its session from before);
//! a revoked token; an editor downgraded to viewer. The matrix must name every entry of the access
//! policy, and the policy every server function and page the app registers, so a new route without
//! expectations here fails this test. What each caller may do once a WebSocket is open (read, update,
//! save) is the second matrix, on real sockets.

use crate::common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{request, server_fn, server_fn_json, Role, TestApp, Who};
use serde_json::json;
use server::auth::policy::ENDPOINTS;

/// Columns of the matrix.
const COLUMNS: usize = 15;

/// The callers, in column order.
const CALLERS: [&str; COLUMNS] = [
    "anonymous",
    "viewer (member)",
    "viewer (not a member)",
    "editor (member)",
    "editor (not a member)",
    "admin",
    "viewer token (HBR)",
    "viewer token (no project)",
    "editor token (HBR)",
    "editor token (no project)",
    "admin token",
    "metrics-only token",
    "deactivated account",
    "revoked token",
    "downgraded editor",
];

type Make = Box<dyn Fn(&Who) -> Request<Body>>;

struct Row {
    key: &'static str,
    make: Make,
    expect: [u16; COLUMNS],
}

fn row(
    key: &'static str,
    expect: [u16; COLUMNS],
    make: impl Fn(&Who) -> Request<Body> + 'static,
) -> Row {
    Row {
        key,
        make: Box::new(make),
        expect,
    }
}

/// How to call as the caller of each column.
enum As {
    Anonymous,
    /// A fresh session of this account for every call.
    Account(&'static str),
    /// The same credential every time.
    Fixed(Who),
}

impl As {
    async fn who(&self, app: &TestApp) -> Who {
        match self {
            As::Anonymous => Who::Anonymous,
            As::Account(name) => app.session(name).await,
            As::Fixed(who) => who.clone(),
        }
    }
}

async fn setup() -> (TestApp, Vec<As>) {
    use app::access::Scope;
    let app = common::seeded().await;
    app.account("v_member", Role::Viewer, &["HBR"], None).await;
    app.account("v_other", Role::Viewer, &["CDW"], None).await;
    app.account("e_member", Role::Editor, &["HBR", "ERP"], None)
        .await;
    app.account("e_other", Role::Editor, &["CPR"], None).await;
    app.account("boss", Role::Admin, &[], None).await;
    let gone = app.account("gone", Role::Editor, &["HBR"], None).await;
    let gone_session = app.session("gone").await;
    let down = app.account("e_down", Role::Editor, &["HBR"], None).await;
    let hbr = app.project_ids(&["HBR"]).await;
    for (id, role, active, projects) in [
        (gone, Role::Editor, false, hbr.clone()),
        (down, Role::Viewer, true, hbr),
    ] {
        app.store()
            .update_account(&server::storage::users::AccountUpdate {
                may_create_projects: false,
                id,
                display_name: "Changed".into(),
                role,
                active,
                projects,
            })
            .await
            .expect("account change");
    }
    let revoked = app.api_token("revoked", Role::Admin, &[]).await;
    let revoked_id = app
        .store()
        .api_tokens()
        .await
        .expect("tokens")
        .iter()
        .find(|t| t.name == "revoked")
        .expect("token")
        .id;
    app.store()
        .revoke_api_token(revoked_id, chrono::Utc::now().timestamp())
        .await
        .expect("revoke");
    let callers = vec![
        As::Anonymous,
        As::Account("v_member"),
        As::Account("v_other"),
        As::Account("e_member"),
        As::Account("e_other"),
        As::Account("boss"),
        As::Fixed(app.api_token("t_viewer", Role::Viewer, &["HBR"]).await),
        As::Fixed(app.api_token("t_viewer_none", Role::Viewer, &[]).await),
        As::Fixed(app.api_token("t_editor", Role::Editor, &["HBR"]).await),
        As::Fixed(app.api_token("t_editor_none", Role::Editor, &[]).await),
        As::Fixed(app.api_token("t_admin", Role::Admin, &[]).await),
        As::Fixed(
            app.api_token_with("t_metrics", Role::Viewer, &[], Scope::Metrics, None)
                .await,
        ),
        As::Fixed(gone_session),
        As::Fixed(revoked),
        As::Account("e_down"),
    ];
    assert_eq!(callers.len(), COLUMNS);
    (app, callers)
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_policy_says() {
    let (app, callers) = setup().await;
    let draft = app.report_id("HBR", false).await;
    let hbr = app.project_ids(&["HBR"]).await[0];
    let login_user = app
        .account(
            "login_user",
            Role::Viewer,
            &[],
            Some("correct horse battery"),
        )
        .await;
    let reset_me = app.account("reset_me", Role::Viewer, &[], None).await;
    let store = app.store().clone();
    let export = serde_json::to_string(
        &store
            .export_project("HBR")
            .await
            .expect("export")
            .expect("HBR"),
    )
    .expect("json");
    let csv_body = {
        let doc = store
            .export_project("HBR")
            .await
            .expect("export")
            .expect("HBR");
        server::transfer::csv::write_tasks(&doc.tasks)
    };
    for i in 0..COLUMNS {
        app.api_token(&format!("to-revoke-{i}"), Role::Viewer, &[])
            .await;
    }
    let to_revoke: Vec<i64> = store
        .api_tokens()
        .await
        .expect("tokens")
        .iter()
        .filter(|t| t.name.starts_with("to-revoke-"))
        .map(|t| t.id)
        .collect();
    // A revision that exists, for the revision rows.
    app.state
        .documents
        .save(draft, "Matrix", "boss")
        .await
        .expect("revision 1");

    // Drafts to publish, a fresh one for each call of the publishing rows (a report is published
    // once; a second publication is a 409, which would hide what the row checks).
    let template_id = store
        .report_meta(draft)
        .await
        .expect("meta")
        .expect("the draft")
        .template_id;
    let mut to_publish = Vec::new();
    for i in 0..2 * COLUMNS {
        let mut tx = store.begin().await.expect("transaction");
        let new = server::storage::reports::NewReport {
            project_id: hbr,
            period: format!("{}-{:02}", 2031 + i / 12, i % 12 + 1),
            template_id,
            status: app::model::ReportStatus::Draft,
            title: format!("Matrix draft {i}"),
        };
        let id = server::storage::reports::insert_report(&mut tx, &new)
            .await
            .expect("draft");
        tx.commit().await.expect("commit");
        to_publish.push(id);
    }
    let to_publish = std::sync::Arc::new(to_publish);
    let published = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let next_draft = move || {
        let i = published.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        to_publish[i % to_publish.len()]
    };
    let next_draft_too = next_draft.clone();
    // Published reports to correct, a fresh one for each call of the correcting rows (a second
    // correction of one report is a 409).
    let mut to_correct = Vec::new();
    for i in 0..2 * COLUMNS {
        let mut tx = store.begin().await.expect("transaction");
        let new = server::storage::reports::NewReport {
            project_id: hbr,
            period: format!("{}-{:02}", 2041 + i / 12, i % 12 + 1),
            template_id,
            status: app::model::ReportStatus::Final,
            title: format!("Matrix report {i}"),
        };
        let id = server::storage::reports::insert_report(&mut tx, &new)
            .await
            .expect("final");
        tx.commit().await.expect("commit");
        to_correct.push(id);
    }
    let to_correct = std::sync::Arc::new(to_correct);
    let corrected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let next_final = move || {
        let i = corrected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        to_correct[i % to_correct.len()]
    };
    let next_final_too = next_final.clone();

    // Months HBR has no report for yet, since its start (the demo started it 14 months ago). The start rows ask for one month per call,
    // in column order (the server function's row, then the REST one); the callers allowed to start
    // a report each get a month of their own, the others any month.
    let months: Vec<String> = {
        use chrono::{Datelike, Months};
        let first = chrono::Utc::now().date_naive().with_day(1).expect("first");
        let portfolio = store.portfolio().await.expect("portfolio");
        let taken: Vec<String> = portfolio
            .projects
            .iter()
            .find(|p| p.code == "HBR")
            .expect("HBR")
            .reports
            .iter()
            .map(|r| r.period.clone())
            .collect();
        let free: Vec<String> = (0..=13)
            .map(|back| (first - Months::new(back)).format("%Y-%m").to_string())
            .filter(|m| !taken.contains(m))
            .collect();
        assert!(free.len() >= 8, "free months: {free:?}");
        let allowed = [3, 5, 8, 10, 18, 20, 23, 25];
        (0..2 * COLUMNS)
            .map(|call| {
                let k = allowed.iter().position(|&a| a == call).unwrap_or(0);
                free[k % free.len()].clone()
            })
            .collect()
    };
    let months = std::sync::Arc::new(months);
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let next_month = move || {
        let i = started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        months[i % months.len()].clone()
    };
    let next_month_too = next_month.clone();
    // A template the change rows change (always to the same thing), and a body for them.
    let matrix_template = store
        .create_template(
            "Matrix template",
            &[app::model::TemplateSection {
                key: "risks".into(),
                section_type: "risks".into(),
                title: "Risks".into(),
                priority: app::model::Priority::Low,
            }],
        )
        .await
        .expect("template")
        .expect("room for a template");
    let template_body = |name: &str| {
        json!({"name": name, "sections": [
            {"key": "executive-summary", "type": "executive_summary", "title": "Summary", "priority": "high"},
            {"key": "risks", "type": "risks", "title": "Risks", "priority": "medium"},
        ]})
    };
    // A progress save that changes one task's actual cost (the same change each time).
    let progress_save = {
        let doc = store
            .export_project("HBR")
            .await
            .expect("export")
            .expect("HBR");
        let t = &doc.tasks[0];
        let was = json!({"percent_complete": t.percent_complete, "actual_start": t.actual_start,
            "actual_finish": t.actual_finish, "actual_cost": t.actual_cost});
        let mut now = was.clone();
        now["actual_cost"] = json!(t.actual_cost + 1.0);
        json!({"code": "HBR", "status_date": chrono::Utc::now().date_naive().to_string(),
            "base_version": 0, "tasks": [{"key": t.wbs, "was": was, "now": now}]})
    };
    let progress_body = progress_save.to_string().into_bytes();
    let new_project = |n: usize, prefix: &str| {
        json!({"code": format!("{prefix}{n}"), "name": "Matrix project", "manager": "Pat",
            "currency": "EUR", "start_date": "2026-01-05", "target_finish": "2026-12-31",
            "budget_at_completion": null, "format": "csv",
            "plan": "wbs,name,owner,optimistic_days,most_likely_days,pessimistic_days,planned_start,planned_finish,budgeted_cost,actual_cost,percent_complete,actual_start,actual_finish,predecessors\n1.1,Design,Kim,5,8,12,2026-01-05,2026-01-16,10000,0,0,,,\n"})
    };

    let get = |uri: String| move |who: &Who| request(Method::GET, &uri, who, None);
    let rows = vec![
        row(
            "GET /healthz",
            [
                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 200,
            ],
            get("/healthz".into()),
        ),
        row(
            "GET /readyz",
            [
                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 200,
            ],
            get("/readyz".into()),
        ),
        row(
            "GET /login",
            [
                200, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 403, 200, 401, 302,
            ],
            get("/login".into()),
        ),
        row(
            "GET /",
            [
                303, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 303, 401, 200,
            ],
            get("/".into()),
        ),
        row(
            "GET /reports/{id}",
            [
                303, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 303, 401, 200,
            ],
            get(format!("/reports/{draft}")),
        ),
        row(
            "GET /projects/{code}",
            [
                303, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 303, 401, 200,
            ],
            get("/projects/HBR".into()),
        ),
        row(
            "GET /projects/{code}/progress",
            [
                303, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 303, 401, 403,
            ],
            get("/projects/HBR/progress".into()),
        ),
        row(
            "GET /admin/projects/new",
            [
                303, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 303, 401, 403,
            ],
            get("/admin/projects/new".into()),
        ),
        row(
            "POST /api/get_progress",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            |who| server_fn("get_progress", who, "code=HBR"),
        ),
        row(
            "POST /api/save_progress",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            {
                let body = json!({ "save": progress_save.clone() });
                move |who| server_fn_json("save_progress", who, &body)
            },
        ),
        row(
            "POST /api/list_templates",
            [
                401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 401, 200,
            ],
            |who| server_fn("list_templates", who, ""),
        ),
        row(
            "POST /api/start_report",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn_json(
                    "start_report",
                    who,
                    &json!({"start": {"code": "HBR", "period": next_month(), "template_id": template_id}}),
                )
            },
        ),
        row(
            "POST /api/get_project_codes",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| server_fn("get_project_codes", who, ""),
        ),
        row(
            "POST /api/create_project",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            {
                let made = std::sync::atomic::AtomicUsize::new(0);
                move |who| {
                    let n = made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    server_fn_json(
                        "create_project",
                        who,
                        &json!({"project": new_project(n, "SF")}),
                    )
                }
            },
        ),
        row(
            "POST /api/projects",
            [
                401, 403, 403, 403, 403, 201, 403, 403, 403, 403, 201, 403, 401, 401, 403,
            ],
            {
                let made = std::sync::atomic::AtomicUsize::new(0);
                move |who| {
                    let n = made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    request(
                        Method::POST,
                        "/api/projects",
                        who,
                        Some((
                            "application/json",
                            new_project(n, "RS").to_string().into_bytes(),
                        )),
                    )
                }
            },
        ),
        row(
            "GET /api/projects/{code}/progress",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            get("/api/projects/HBR/progress".into()),
        ),
        row(
            "POST /api/projects/{code}/progress",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::POST,
                    "/api/projects/HBR/progress",
                    who,
                    Some(("application/json", progress_body.clone())),
                )
            },
        ),
        row(
            "POST /api/projects/{code}/reports",
            [
                401, 403, 403, 201, 404, 201, 403, 403, 201, 404, 201, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::POST,
                    "/api/projects/HBR/reports",
                    who,
                    Some((
                        "application/json",
                        json!({"period": next_month_too(), "template_id": template_id})
                            .to_string()
                            .into_bytes(),
                    )),
                )
            },
        ),
        row(
            "GET /api/templates",
            [
                401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 401, 200,
            ],
            get("/api/templates".into()),
        ),
        row(
            "POST /api/get_templates",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| server_fn("get_templates", who, ""),
        ),
        row(
            "POST /api/save_template",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn_json(
                    "save_template",
                    who,
                    &json!({"save": {"id": matrix_template, "draft": template_body("Matrix template")}}),
                )
            },
        ),
        row(
            "POST /api/templates",
            [
                401, 403, 403, 403, 403, 201, 403, 403, 403, 403, 201, 403, 401, 401, 403,
            ],
            {
                let made = std::sync::atomic::AtomicUsize::new(0);
                move |who| {
                    let n = made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    request(
                        Method::POST,
                        "/api/templates",
                        who,
                        Some((
                            "application/json",
                            template_body(&format!("Matrix new {n}"))
                                .to_string()
                                .into_bytes(),
                        )),
                    )
                }
            },
        ),
        row(
            "GET /api/templates/{id}",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get(format!("/api/templates/{matrix_template}")),
        ),
        row(
            "PUT /api/templates/{id}",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::PUT,
                    &format!("/api/templates/{matrix_template}"),
                    who,
                    Some((
                        "application/json",
                        template_body("Matrix template").to_string().into_bytes(),
                    )),
                )
            },
        ),
        row(
            "GET /admin/templates",
            [
                303, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 303, 401, 403,
            ],
            get("/admin/templates".into()),
        ),
        row(
            "GET /admin",
            [
                303, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 303, 401, 403,
            ],
            get("/admin".into()),
        ),
        row(
            "POST /api/login",
            [
                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 200,
            ],
            |who| {
                server_fn(
                    "login",
                    who,
                    "username=login_user&password=correct+horse+battery",
                )
            },
        ),
        row(
            "POST /api/logout",
            [
                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 200,
            ],
            |who| server_fn("logout", who, ""),
        ),
        row(
            "POST /api/current_user",
            [
                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 200,
            ],
            |who| server_fn("current_user", who, ""),
        ),
        row(
            "POST /api/list_portfolio",
            [
                401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 401, 200,
            ],
            |who| server_fn("list_portfolio", who, ""),
        ),
        row(
            "POST /api/get_project",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            move |who| server_fn("get_project", who, "code=HBR"),
        ),
        row(
            "POST /api/get_report_outline",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            move |who| server_fn("get_report_outline", who, &format!("report_id={draft}")),
        ),
        row(
            "POST /api/get_report_changes",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            move |who| server_fn("get_report_changes", who, &format!("report_id={draft}")),
        ),
        row(
            "GET /api/reports/{id}/changes",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            get(format!("/api/reports/{draft}/changes")),
        ),
        row(
            "POST /api/regenerate_report",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| server_fn("regenerate_report", who, &format!("report_id={draft}")),
        ),
        row(
            "POST /api/publish_report",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn(
                    "publish_report",
                    who,
                    &format!("report_id={}", next_draft()),
                )
            },
        ),
        row(
            "POST /api/correct_report",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn(
                    "correct_report",
                    who,
                    &format!("report_id={}", next_final()),
                )
            },
        ),
        row(
            "POST /api/get_report_section",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            move |who| {
                server_fn(
                    "get_report_section",
                    who,
                    &format!("report_id={draft}&key=milestones"),
                )
            },
        ),
        row(
            "POST /api/rerun_monte_carlo",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            move |who| {
                server_fn(
                    "rerun_monte_carlo",
                    who,
                    &format!("report_id={draft}&iterations=1000"),
                )
            },
        ),
        row(
            "POST /api/list_revisions",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            move |who| server_fn("list_revisions", who, &format!("report_id={draft}")),
        ),
        // Revision 1 exists: members read it, non-members get the 404 of a missing report.
        row(
            "POST /api/get_revision",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            move |who| server_fn("get_revision", who, &format!("report_id={draft}&number=1")),
        ),
        row(
            "POST /api/restore_revision",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn(
                    "restore_revision",
                    who,
                    &format!("report_id={draft}&number=1"),
                )
            },
        ),
        row(
            "POST /api/record_section_load",
            [
                401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 401, 401, 200,
            ],
            |who| server_fn("record_section_load", who, "section_type=risks&ms=120.5"),
        ),
        row(
            "POST /api/admin_overview",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| server_fn("admin_overview", who, ""),
        ),
        row(
            "POST /api/create_account",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            {
                // A new name each call: every caller allowed to creates one.
                let made = std::sync::atomic::AtomicUsize::new(0);
                move |who| {
                    let n = made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    server_fn_json(
                        "create_account",
                        who,
                        &json!({"account": {
                    "username": format!("made_{n}"), "display_name": "Made Here", "role": "viewer",
                    "password": "", "projects": []}}),
                    )
                }
            },
        ),
        row(
            "POST /api/update_account",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn_json(
                    "update_account",
                    who,
                    &json!({"change": {
                "id": login_user, "display_name": "Renamed", "role": "viewer", "active": true,
                "projects": [hbr]}}),
                )
            },
        ),
        row(
            "POST /api/reset_password",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn_json(
                    "reset_password",
                    who,
                    &json!({"user_id": reset_me, "password": ""}),
                )
            },
        ),
        row(
            "POST /api/create_api_token",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            move |who| {
                server_fn_json(
                    "create_api_token",
                    who,
                    &json!({"token": {
                "name": "matrix", "role": "viewer", "projects": [hbr]}}),
                )
            },
        ),
        row(
            "POST /api/revoke_api_token",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            {
                // Another live token each call: every caller allowed to revokes one.
                let next = std::sync::atomic::AtomicUsize::new(0);
                move |who| {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    server_fn_json(
                        "revoke_api_token",
                        who,
                        &json!({"token_id": to_revoke[i % to_revoke.len()]}),
                    )
                }
            },
        ),
        row(
            "POST /api/projects/import",
            [
                401, 403, 403, 200, 403, 200, 403, 403, 200, 403, 200, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::POST,
                    "/api/projects/import",
                    who,
                    Some(("application/json", export.clone().into_bytes())),
                )
            },
        ),
        row(
            "POST /api/projects/{code}/import",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::POST,
                    "/api/projects/HBR/import?dry_run=true",
                    who,
                    Some((
                        "application/xml",
                        include_bytes!("../fixtures/schedules/project-2019.xml").to_vec(),
                    )),
                )
            },
        ),
        row(
            "GET /api/projects/{code}",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            get("/api/projects/HBR".into()),
        ),
        row(
            "GET /api/projects/{code}/export",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            get("/api/projects/HBR/export".into()),
        ),
        row(
            "GET /api/projects/{code}/tasks.csv",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            get("/api/projects/HBR/tasks.csv".into()),
        ),
        row(
            "PUT /api/projects/{code}/tasks.csv",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::PUT,
                    "/api/projects/HBR/tasks.csv",
                    who,
                    Some(("text/csv", csv_body.clone().into_bytes())),
                )
            },
        ),
        row(
            "GET /api/reports/{id}",
            [
                401, 200, 404, 200, 404, 200, 200, 404, 200, 404, 200, 403, 401, 401, 200,
            ],
            get(format!("/api/reports/{draft}")),
        ),
        row(
            "POST /api/reports/{id}/publish",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::POST,
                    &format!("/api/reports/{}/publish", next_draft_too()),
                    who,
                    None,
                )
            },
        ),
        row(
            "POST /api/reports/{id}/correction",
            [
                401, 403, 403, 201, 404, 201, 403, 403, 201, 404, 201, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::POST,
                    &format!("/api/reports/{}/correction", next_final_too()),
                    who,
                    None,
                )
            },
        ),
        // Members who are not upgrading get a 400 (collab.rs opens real sockets).
        row(
            "GET /ws/reports/{report_id}",
            [
                401, 400, 404, 400, 404, 400, 400, 404, 400, 404, 400, 403, 401, 401, 400,
            ],
            get(format!("/ws/reports/{draft}")),
        ),
        row(
            "GET /api/reports/pmr/performance/cache/stats",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/cache/stats".into()),
        ),
        row(
            "POST /api/reports/pmr/performance/cache/clear",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| {
                request(
                    Method::POST,
                    "/api/reports/pmr/performance/cache/clear?cache_type=report",
                    who,
                    None,
                )
            },
        ),
        row(
            "GET /api/reports/pmr/performance/stats",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/stats".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/metrics",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/metrics?limit=5".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/alerts",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/alerts?severity=warning".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/recommendations",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/recommendations".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/thresholds",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/thresholds".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/websocket/stats",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/websocket/stats".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/websocket/sessions/{session_id}",
            [
                401, 403, 403, 403, 403, 404, 403, 403, 403, 403, 404, 403, 401, 401, 403,
            ],
            get("/api/reports/pmr/performance/websocket/sessions/none".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/health",
            [
                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 200,
            ],
            get("/api/reports/pmr/performance/health".into()),
        ),
        row(
            "GET /metrics",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 200, 401, 401, 403,
            ],
            get("/metrics".into()),
        ),
        row(
            "PUT /api/reports/pmr/performance/thresholds/{metric}",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| {
                request(
                    Method::PUT,
                    "/api/reports/pmr/performance/thresholds/api_response_time",
                    who,
                    Some(("application/json", br#"{"value": 2500}"#.to_vec())),
                )
            },
        ),
        row(
            "POST /api/reports/pmr/performance/monitor/enable",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| {
                request(
                    Method::POST,
                    "/api/reports/pmr/performance/monitor/enable",
                    who,
                    None,
                )
            },
        ),
        row(
            "POST /api/reports/pmr/performance/monitor/disable",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| {
                request(
                    Method::POST,
                    "/api/reports/pmr/performance/monitor/disable",
                    who,
                    None,
                )
            },
        ),
        row(
            "DELETE /api/reports/pmr/performance/monitor/data",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| {
                request(
                    Method::DELETE,
                    "/api/reports/pmr/performance/monitor/data?hours=48",
                    who,
                    None,
                )
            },
        ),
        row(
            "GET /admin/performance",
            [
                303, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 303, 401, 403,
            ],
            get("/admin/performance".into()),
        ),
        row(
            "POST /api/performance_overview",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| server_fn("performance_overview", who, ""),
        ),
        row(
            "POST /api/clear_cache",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| server_fn_json("clear_cache", who, &json!({"cache_type": "template"})),
        ),
        row(
            "POST /api/set_monitoring",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| server_fn_json("set_monitoring", who, &json!({"enabled": true})),
        ),
        row(
            "POST /api/delete_monitoring_data",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| server_fn_json("delete_monitoring_data", who, &json!({"hours": 48})),
        ),
        row(
            "POST /api/set_threshold",
            [
                401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 200, 403, 401, 401, 403,
            ],
            |who| {
                server_fn_json(
                    "set_threshold",
                    who,
                    &json!({"metric": "api_response_time", "value": 2000.0}),
                )
            },
        ),
        row(
            "POST /api/reports/{id}/regenerate",
            [
                401, 403, 403, 200, 404, 200, 403, 403, 200, 404, 200, 403, 401, 401, 403,
            ],
            move |who| {
                request(
                    Method::POST,
                    &format!("/api/reports/{draft}/regenerate"),
                    who,
                    None,
                )
            },
        ),
    ];

    // The matrix covers the policy exactly.
    let policy: BTreeSet<String> = ENDPOINTS
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    let matrix: BTreeSet<String> = rows.iter().map(|r| r.key.to_string()).collect();
    let untested: Vec<_> = policy.difference(&matrix).collect();
    assert!(
        untested.is_empty(),
        "routes without a row in the access matrix: {untested:?}"
    );
    let stale: Vec<_> = matrix.difference(&policy).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for routes the policy does not have: {stale:?}"
    );

    let mut failures = Vec::new();
    for r in &rows {
        for (column, caller) in callers.iter().enumerate() {
            let who = caller.who(&app).await;
            let reply = app.send((r.make)(&who)).await;
            let want = r.expect[column];
            if reply.status.as_u16() != want {
                failures.push(format!(
                    "{} as {}: got {}, want {want}: {}",
                    r.key,
                    CALLERS[column],
                    reply.status,
                    reply.body.chars().take(160).collect::<String>()
                ));
            }
            if (reply.status == 401 || reply.status == 403) && r.key.contains("/api/") {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&reply.body).is_ok(),
                    "{} as {}: refusal is not JSON: {}",
                    r.key,
                    CALLERS[column],
                    reply.body
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_policy_names_every_server_function_and_page() {
    let policy: BTreeSet<String> = ENDPOINTS
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    let mut missing = Vec::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let key = format!("{method} {path}");
        if !policy.contains(&key) {
            missing.push(key);
        }
    }
    for route in leptos_axum::generate_route_list(app::App) {
        let key = format!("GET {}", route.path());
        if !policy.contains(&key) {
            missing.push(key);
        }
    }
    assert!(
        missing.is_empty(),
        "registered but not in the access policy: {missing:?}"
    );
}

#[tokio::test]
async fn a_route_without_a_rule_is_closed() {
    let app = common::seeded().await;
    let state = app.state.clone();
    let router = axum::Router::new()
        .route("/api/forgotten", axum::routing::get(|| async { "secret" }))
        .layer(axum::middleware::from_fn_with_state(
            server::auth::guard::Guard {
                authority: state.authority.clone(),
                auth: state.auth.clone(),
            },
            server::auth::guard::guard,
        ))
        .with_state(state);
    let admin = {
        app.account("root", Role::Admin, &[], None).await;
        app.session("root").await
    };
    let response =
        tower::ServiceExt::oneshot(router, request(Method::GET, "/api/forgotten", &admin, None))
            .await
            .expect("response");
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn api_tokens_reach_only_their_projects_and_stop_when_revoked() {
    let app = common::seeded().await;
    let viewer = app.api_token("grafana", Role::Viewer, &["HBR"]).await;
    assert_eq!(
        app.get("/api/projects/HBR/export", &viewer).await.status,
        200
    );
    assert_eq!(
        app.get("/api/projects/CDW/export", &viewer).await.status,
        404,
        "a project out of reach reads as missing"
    );
    let editor = app.api_token("sync", Role::Editor, &["HBR"]).await;
    let csv = app.get("/api/projects/HBR/tasks.csv", &editor).await.body;
    // A bearer request needs no Origin: it carries no ambient credential.
    let mut put = request(
        Method::PUT,
        "/api/projects/HBR/tasks.csv",
        &editor,
        Some(("text/csv", csv.into_bytes())),
    );
    put.headers_mut().remove("origin");
    assert_eq!(app.send(put).await.status, 200);
    let admin = app.api_token("ops", Role::Admin, &[]).await;
    assert_eq!(
        app.get("/api/projects/CDW/export", &admin).await.status,
        200
    );

    let id = app
        .store()
        .api_tokens()
        .await
        .expect("tokens")
        .iter()
        .find(|t| t.name == "grafana")
        .expect("token")
        .id;
    // Revoked through the admin's server function: it takes effect at once.
    app.account("root", Role::Admin, &[], None).await;
    let root = app.session("root").await;
    let revoked = app
        .send(server_fn_json(
            "revoke_api_token",
            &root,
            &json!({ "token_id": id }),
        ))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let reply = app.get("/api/projects/HBR/export", &viewer).await;
    assert_eq!(reply.status, 401);
    assert!(reply.json()["error"]
        .as_str()
        .is_some_and(|e| e.contains("not valid")));
    let made_up = Who::Bearer("pmr_made-up".into());
    assert_eq!(
        app.get("/api/projects/HBR/export", &made_up).await.status,
        401
    );
    let listed = app.store().api_tokens().await.expect("tokens");
    assert!(listed
        .iter()
        .find(|t| t.name == "ops")
        .is_some_and(|t| t.revoked_at.is_none()));
}

/// What a caller gets on the collaboration socket of HBR's draft: the upgrade's refusal, or, once
/// open, the answer to reading (`sync`), writing (`update`) and saving (`save`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum OnSocket {
    Refused(u16),
    Open {
        read: &'static str,
        update: &'static str,
        save: &'static str,
    },
}

/// The socket matrix: every caller, after the upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_upgrade_each_caller_reads_writes_and_saves_as_allowed() {
    use OnSocket::{Open, Refused};
    let (app, callers) = setup().await;
    let draft = app.report_id("HBR", false).await;
    let port = common::listen(app.state.clone()).await;
    let editor = Open {
        read: "sync",
        update: "ack",
        save: "saved",
    };
    let reader = Open {
        read: "sync",
        update: "forbidden",
        save: "forbidden",
    };
    let expected = [
        Refused(401),
        reader.clone(),
        Refused(404),
        editor.clone(),
        Refused(404),
        editor.clone(),
        reader.clone(),
        Refused(404),
        editor.clone(),
        Refused(404),
        editor.clone(),
        Refused(403),
        Refused(401),
        Refused(401),
        reader,
    ];
    let mut failures = Vec::new();
    for (column, caller) in callers.iter().enumerate() {
        let who = caller.who(&app).await;
        let got = on_socket(port, draft, &who).await;
        if got != expected[column] {
            failures.push(format!(
                "{}: got {got:?}, want {:?}",
                CALLERS[column], expected[column]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Opens the socket as `who` and tries a read, a write and a save.
async fn on_socket(port: u16, report: i64, who: &Who) -> OnSocket {
    use base64::Engine;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::Message;
    use yrs::updates::decoder::Decode;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut request = format!("ws://127.0.0.1:{port}/ws/reports/{report}")
        .into_client_request()
        .expect("request");
    let headers = request.headers_mut();
    let origin = format!("http://127.0.0.1:{port}");
    headers.insert("origin", HeaderValue::from_str(&origin).expect("origin"));
    match who {
        Who::Session(t) => {
            let v = HeaderValue::from_str(&format!("pmr_session={t}")).expect("cookie");
            headers.insert("cookie", v);
        }
        Who::Bearer(t) => {
            let v = HeaderValue::from_str(&format!("Bearer {t}")).expect("bearer");
            headers.insert("authorization", v);
        }
        Who::Anonymous => {}
    }
    let mut ws = match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => ws,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            return OnSocket::Refused(response.status().as_u16())
        }
        Err(e) => panic!("the upgrade failed otherwise: {e}"),
    };
    // The next message of one of these types (a batch's messages one by one).
    async fn next_of(
        ws: &mut tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        kinds: &[&str],
    ) -> serde_json::Value {
        loop {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
                .await
                .expect("a frame in time")
                .expect("open")
                .expect("readable");
            let Message::Text(text) = frame else { continue };
            let value: serde_json::Value = serde_json::from_str(text.as_str()).expect("json");
            let all = if value["type"] == "batch" {
                value["messages"].as_array().expect("messages").clone()
            } else {
                vec![value]
            };
            if let Some(m) = all
                .into_iter()
                .find(|m| kinds.contains(&m["type"].as_str().unwrap_or("")))
            {
                return m;
            }
        }
    }
    let send = |v: serde_json::Value| Message::Text(v.to_string().into());
    next_of(&mut ws, &["welcome"]).await;
    ws.send(send(json!({"type": "sync", "state_vector": "AA=="})))
        .await
        .expect("sent");
    let synced = next_of(&mut ws, &["sync", "error"]).await;
    let doc = yrs::Doc::new();
    if let Some(update) = synced["update"].as_str() {
        let bytes = b64.decode(update).expect("b64");
        yrs::Transact::transact_mut(&doc)
            .apply_update(yrs::Update::decode_v1(&bytes).expect("update"))
            .expect("applies");
    }
    let update = b64.encode(common::append_to(&doc, "narrative:risks", " (matrix)"));
    ws.send(send(json!({"type": "update", "update": update, "ref": 1})))
        .await
        .expect("sent");
    let updated = next_of(&mut ws, &["ack", "error"]).await;
    ws.send(send(json!({"type": "save", "name": "Matrix"})))
        .await
        .expect("sent");
    let saved = next_of(&mut ws, &["saved", "error"]).await;
    let outcome = |m: &serde_json::Value| -> &'static str {
        match (m["type"].as_str(), m["code"].as_str()) {
            (Some("sync"), _) => "sync",
            (Some("ack"), _) => "ack",
            (Some("saved"), _) => "saved",
            (Some("error"), Some("forbidden")) => "forbidden",
            (Some("error"), Some("read_only")) => "read_only",
            _ => "other",
        }
    };
    OnSocket::Open {
        read: outcome(&synced),
        update: outcome(&updated),
        save: outcome(&saved),
    }
}
