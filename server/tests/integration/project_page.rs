//! The project page's data (issue 23): `GET /api/projects/{code}` and the `get_project` server
//! function answer the same overview, checked against the store's own plan: the portfolio's card,
//! every task once, the members that are active, and the same 404 for a project out of reach as
//! for one that does not exist. The page itself is rendered on the server with its plan.

use crate::common;

use common::{server_fn, Role};
use serde_json::Value;

#[tokio::test]
async fn the_overview_is_the_projects_card_plan_and_active_members() {
    let app = common::seeded().await;
    app.account("pm", Role::Editor, &["HBR"], None).await;
    app.account("reader", Role::Viewer, &["HBR", "CDW"], None)
        .await;
    let gone = app.account("gone", Role::Viewer, &["HBR"], None).await;
    let account = app
        .store()
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.id == gone)
        .expect("the account");
    app.store()
        .update_account(&server::storage::users::AccountUpdate {
            may_create_projects: false,
            id: account.id,
            display_name: account.display_name.clone(),
            role: account.role,
            active: false,
            projects: account.projects.clone(),
        })
        .await
        .expect("deactivate");
    let who = app.session("pm").await;

    let reply = app.get("/api/projects/HBR", &who).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rest = reply.json();
    let via_fn = app.send(server_fn("get_project", &who, "code=HBR")).await;
    assert_eq!(via_fn.status, 200, "{}", via_fn.body);
    assert_eq!(
        via_fn.json(),
        rest,
        "the page and the API read the same thing"
    );

    // The card is the portfolio's.
    let portfolio = app.send(server_fn("list_portfolio", &who, "")).await.json();
    let card = portfolio["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .find(|p| p["code"] == "HBR")
        .expect("HBR on the portfolio")
        .clone();
    assert_eq!(rest["summary"], card);

    // Every task of the stored plan, once, with its progress.
    let id = app.project_ids(&["HBR"]).await[0];
    let plan = app
        .store()
        .project_plan(id)
        .await
        .expect("plan")
        .expect("HBR's plan");
    let tasks = rest["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), plan.tasks.len());
    for (got, want) in tasks.iter().zip(&plan.tasks) {
        assert_eq!(got["wbs"], want.wbs.as_str());
        assert_eq!(
            got["percent_complete"].as_f64(),
            Some(want.percent_complete)
        );
    }
    assert_eq!(
        rest["milestones"].as_array().map(Vec::len),
        Some(plan.milestones.len())
    );

    // Members: the active accounts of the project, not the deactivated one.
    let names: Vec<&str> = rest["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["username"].as_str())
        .collect();
    assert!(
        names.contains(&"pm") && names.contains(&"reader"),
        "{names:?}"
    );
    assert!(!names.contains(&"gone"), "{names:?}");
    let pm = rest["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["username"] == "pm"))
        .expect("pm");
    assert_eq!(pm["role"], "editor");
}

#[tokio::test]
async fn out_of_reach_reads_like_missing_and_bad_codes_are_refused() {
    let app = common::seeded().await;
    app.account("outsider", Role::Editor, &["CDW"], None).await;
    let who = app.session("outsider").await;

    let foreign = app.get("/api/projects/HBR", &who).await;
    let missing = app.get("/api/projects/NOPE", &who).await;
    assert_eq!(foreign.status, 404);
    assert_eq!(missing.status, 404);
    let message = |r: &common::Reply| r.json()["error"].as_str().map(str::to_string);
    assert_eq!(
        message(&foreign).map(|m| m.replace("HBR", "X")),
        message(&missing).map(|m| m.replace("NOPE", "X")),
        "a project out of reach reads like one that does not exist"
    );
    let via_fn = app.send(server_fn("get_project", &who, "code=HBR")).await;
    assert_eq!(via_fn.status, 404);

    let bad = app.get("/api/projects/a%20b", &who).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(message(&bad).is_some_and(|m| m.contains("1 to 16")));
    let long = app
        .send(server_fn(
            "get_project",
            &who,
            &format!("code={}", "A".repeat(40)),
        ))
        .await;
    assert_eq!(long.status, 400, "{}", long.body);
}

#[tokio::test]
async fn a_finished_phase_has_reached_its_milestone() {
    // The demo seed records a milestone's actual date once every task of its phase is finished
    // (it used to leave every milestone open, so finished phases showed as upcoming and late).
    let app = common::seeded().await;
    app.account("pm", Role::Editor, &["CDW"], None).await;
    let who = app.session("pm").await;
    let overview = app.get("/api/projects/CDW", &who).await.json();
    let tasks = overview["tasks"].as_array().expect("tasks");
    let phase_done = |phase: &str| {
        tasks
            .iter()
            .filter(|t| {
                t["wbs"]
                    .as_str()
                    .is_some_and(|w| w.starts_with(&format!("{phase}.")))
            })
            .all(|t| t["percent_complete"].as_f64() == Some(100.0))
    };
    assert!(phase_done("1"), "CDW's first phase is finished in the demo");
    let milestones = overview["milestones"].as_array().expect("milestones");
    let first = &milestones[0];
    assert!(first["actual"].is_string(), "{first}");
    assert_eq!(first["forecast"], first["actual"]);
    let today = chrono::Utc::now().date_naive().to_string();
    for m in milestones {
        if let Some(actual) = m["actual"].as_str() {
            assert!(
                actual <= today.as_str(),
                "no milestone is reached in the future: {m}"
            );
        }
    }
}

#[tokio::test]
async fn the_page_is_rendered_with_its_plan_and_links() {
    let app = common::seeded().await;
    app.account("reader", Role::Viewer, &["HBR"], None).await;
    let who = app.session("reader").await;
    let page = app.get("/projects/HBR", &who).await;
    assert_eq!(page.status, 200);
    for expected in ["Next milestones", "Members", "class=\"wbs\"", "/reports/"] {
        assert!(page.body.contains(expected), "the page shows {expected}");
    }
    let missing = app.get("/projects/NOPE", &who).await;
    assert_eq!(missing.status, 404);
    let report = app.report_id("HBR", true).await;
    let report_page = app.get(&format!("/reports/{report}"), &who).await;
    assert!(
        report_page.body.contains("href=\"/projects/HBR\""),
        "a report links to its project"
    );
    let home = app.get("/", &who).await;
    assert!(
        home.body.contains("href=\"/projects/HBR\""),
        "the portfolio links to projects"
    );
    let _: Value = app.get("/api/projects/HBR", &who).await.json();
}
