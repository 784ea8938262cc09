//! The access matrix: every route and server function, called by an anonymous visitor, a viewer and
//! an editor who are members of the project (HBR), a viewer and an editor who are not, and an admin,
//! with the status each must get. The matrix must name every entry of the access policy, and the
//! policy every server function and page the app registers, so a new route without expectations
//! here fails this test.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{request, server_fn, server_fn_json, Role, TestApp, Who};
use serde_json::json;
use server::auth::policy::ENDPOINTS;

/// The callers, in column order.
const CALLERS: [&str; 6] = [
    "anonymous",
    "viewer (member)",
    "viewer (not a member)",
    "editor (member)",
    "editor (not a member)",
    "admin",
];
const ACCOUNTS: [Option<&str>; 6] = [
    None,
    Some("v_member"),
    Some("v_other"),
    Some("e_member"),
    Some("e_other"),
    Some("boss"),
];

type Make = Box<dyn Fn(&Who) -> Request<Body>>;

struct Row {
    key: &'static str,
    make: Make,
    expect: [u16; 6],
}

fn row(key: &'static str, expect: [u16; 6], make: impl Fn(&Who) -> Request<Body> + 'static) -> Row {
    Row {
        key,
        make: Box::new(make),
        expect,
    }
}

async fn setup() -> TestApp {
    let app = common::seeded().await;
    app.account("v_member", Role::Viewer, &["HBR"], None).await;
    app.account("v_other", Role::Viewer, &["CDW"], None).await;
    app.account("e_member", Role::Editor, &["HBR", "ERP"], None)
        .await;
    app.account("e_other", Role::Editor, &["CPR"], None).await;
    app.account("boss", Role::Admin, &[], None).await;
    app
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_policy_says() {
    let app = setup().await;
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
    let Who::Bearer(_) = app.api_token("to-revoke", Role::Viewer, &[]).await else {
        unreachable!()
    };
    let revoke_id = store.api_tokens().await.expect("tokens")[0].id;

    let get = |uri: String| move |who: &Who| request(Method::GET, &uri, who, None);
    let rows = vec![
        row("GET /healthz", [200; 6], get("/healthz".into())),
        row("GET /readyz", [200; 6], get("/readyz".into())),
        row(
            "GET /login",
            [200, 302, 302, 302, 302, 302],
            get("/login".into()),
        ),
        row("GET /", [303, 200, 200, 200, 200, 200], get("/".into())),
        row(
            "GET /reports/{id}",
            [303, 200, 403, 200, 403, 200],
            get(format!("/reports/{draft}")),
        ),
        row(
            "GET /admin",
            [303, 403, 403, 403, 403, 200],
            get("/admin".into()),
        ),
        row("POST /api/login", [200; 6], |who| {
            server_fn(
                "login",
                who,
                "username=login_user&password=correct+horse+battery",
            )
        }),
        row("POST /api/logout", [200; 6], |who| {
            server_fn("logout", who, "")
        }),
        row("POST /api/current_user", [200; 6], |who| {
            server_fn("current_user", who, "")
        }),
        row(
            "POST /api/list_portfolio",
            [401, 200, 200, 200, 200, 200],
            |who| server_fn("list_portfolio", who, ""),
        ),
        row(
            "POST /api/get_report_outline",
            [401, 200, 403, 200, 403, 200],
            move |who| server_fn("get_report_outline", who, &format!("report_id={draft}")),
        ),
        row(
            "POST /api/regenerate_report",
            [401, 403, 403, 200, 403, 200],
            move |who| server_fn("regenerate_report", who, &format!("report_id={draft}")),
        ),
        row(
            "POST /api/get_report_section",
            [401, 200, 403, 200, 403, 200],
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
            [401, 200, 403, 200, 403, 200],
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
            [401, 200, 403, 200, 403, 200],
            move |who| server_fn("list_revisions", who, &format!("report_id={draft}")),
        ),
        // No revision 99 exists: members reach the 404, others stop at 401/403.
        row(
            "POST /api/get_revision",
            [401, 404, 403, 404, 403, 404],
            move |who| server_fn("get_revision", who, &format!("report_id={draft}&number=99")),
        ),
        row(
            "POST /api/restore_revision",
            [401, 403, 403, 404, 403, 404],
            move |who| {
                server_fn(
                    "restore_revision",
                    who,
                    &format!("report_id={draft}&number=99"),
                )
            },
        ),
        row(
            "POST /api/record_section_load",
            [401, 200, 200, 200, 200, 200],
            |who| server_fn("record_section_load", who, "section_type=risks&ms=120.5"),
        ),
        row(
            "POST /api/admin_overview",
            [401, 403, 403, 403, 403, 200],
            |who| server_fn("admin_overview", who, ""),
        ),
        row(
            "POST /api/create_account",
            [401, 403, 403, 403, 403, 200],
            |who| {
                server_fn_json(
                    "create_account",
                    who,
                    &json!({"account": {
                "username": "made_here", "display_name": "Made Here", "role": "viewer",
                "password": "", "projects": []}}),
                )
            },
        ),
        row(
            "POST /api/update_account",
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 403, 403, 200],
            move |who| server_fn_json("revoke_api_token", who, &json!({"token_id": revoke_id})),
        ),
        row(
            "POST /api/projects/import",
            [401, 403, 403, 200, 403, 200],
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
            "GET /api/projects/{code}/export",
            [401, 200, 403, 200, 403, 200],
            get("/api/projects/HBR/export".into()),
        ),
        row(
            "GET /api/projects/{code}/tasks.csv",
            [401, 200, 403, 200, 403, 200],
            get("/api/projects/HBR/tasks.csv".into()),
        ),
        row(
            "PUT /api/projects/{code}/tasks.csv",
            [401, 403, 403, 200, 403, 200],
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
            [401, 200, 403, 200, 403, 200],
            get(format!("/api/reports/{draft}")),
        ),
        // Members who are not upgrading get a 400 (tests/collab.rs opens real sockets).
        row(
            "GET /ws/reports/{report_id}",
            [401, 400, 403, 400, 403, 400],
            get(format!("/ws/reports/{draft}")),
        ),
        row(
            "GET /api/reports/pmr/performance/cache/stats",
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/cache/stats".into()),
        ),
        row(
            "POST /api/reports/pmr/performance/cache/clear",
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/stats".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/metrics",
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/metrics?limit=5".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/alerts",
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/alerts?severity=warning".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/recommendations",
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/recommendations".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/thresholds",
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/thresholds".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/websocket/stats",
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/websocket/stats".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/websocket/sessions/{session_id}",
            [401, 403, 403, 403, 403, 404],
            get("/api/reports/pmr/performance/websocket/sessions/none".into()),
        ),
        row(
            "GET /api/reports/pmr/performance/health",
            [401, 403, 403, 403, 403, 200],
            get("/api/reports/pmr/performance/health".into()),
        ),
        row(
            "GET /metrics",
            [401, 403, 403, 403, 403, 200],
            get("/metrics".into()),
        ),
        row(
            "PUT /api/reports/pmr/performance/thresholds/{metric}",
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 403, 403, 200],
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
            [303, 403, 403, 403, 403, 200],
            get("/admin/performance".into()),
        ),
        row(
            "POST /api/performance_overview",
            [401, 403, 403, 403, 403, 200],
            |who| server_fn("performance_overview", who, ""),
        ),
        row(
            "POST /api/clear_cache",
            [401, 403, 403, 403, 403, 200],
            |who| server_fn_json("clear_cache", who, &json!({"cache_type": "template"})),
        ),
        row(
            "POST /api/set_monitoring",
            [401, 403, 403, 403, 403, 200],
            |who| server_fn_json("set_monitoring", who, &json!({"enabled": true})),
        ),
        row(
            "POST /api/delete_monitoring_data",
            [401, 403, 403, 403, 403, 200],
            |who| server_fn_json("delete_monitoring_data", who, &json!({"hours": 48})),
        ),
        row(
            "POST /api/set_threshold",
            [401, 403, 403, 403, 403, 200],
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
            [401, 403, 403, 200, 403, 200],
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
        for (column, account) in ACCOUNTS.iter().enumerate() {
            let who = match account {
                None => Who::Anonymous,
                Some(name) => app.session(name).await,
            };
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
            state.clone(),
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
        403
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
