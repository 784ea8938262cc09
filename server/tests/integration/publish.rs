//! Publishing a report (issue 23): an editor of the project makes a draft final; it names who
//! published it and when, the portfolio and the report say so at once (the caches are dropped),
//! and nothing changes it afterwards: not a second publication, not a regeneration, not an edit of
//! its shared document on this instance or on another one that had it open. What was edited before
//! the publication is in the published report.

use crate::common;

use axum::http::Method;
use base64::Engine;
use common::{server_fn, Role, TestApp, Who};
use server::collab::docs::{DocError, Documents};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn app() -> (TestApp, Who, i64) {
    let app = common::seeded().await;
    app.account("pm", Role::Editor, &["HBR"], None).await;
    let pm = app.session("pm").await;
    let draft = app.report_id("HBR", false).await;
    (app, pm, draft)
}

async fn publish(app: &TestApp, who: &Who, report: i64) -> common::Reply {
    app.send(common::request(
        Method::POST,
        &format!("/api/reports/{report}/publish"),
        who,
        None,
    ))
    .await
}

/// Appends `words` to the executive summary's narrative through `docs`, as an editor's client.
async fn type_into(docs: &Documents, report: i64, words: &str) -> Result<i64, DocError> {
    let copy = common::client_copy(docs, report).await;
    let update = common::append_to(&copy, "narrative:executive-summary", words);
    docs.apply(report, &B64.encode(update), "pm").await
}

#[tokio::test]
async fn an_editor_publishes_a_draft_and_everyone_sees_it_final() {
    let (app, pm, draft) = app().await;
    // Read first, so the caches hold the draft.
    let before = app.send(server_fn("list_portfolio", &pm, "")).await.json();
    let latest = |portfolio: &serde_json::Value| {
        portfolio["projects"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["code"] == "HBR"))
            .map(|p| p["reports"][0].clone())
            .expect("HBR's latest report")
    };
    assert_eq!(latest(&before)["status"], "draft");
    let outline = app
        .send(server_fn(
            "get_report_outline",
            &pm,
            &format!("report_id={draft}"),
        ))
        .await
        .json();
    assert_eq!(outline["status"], "draft");
    assert!(outline["published_by"].is_null());

    let reply = publish(&app, &pm, draft).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let published = reply.json();
    assert_eq!(published["status"], "final");
    assert_eq!(published["published_by"], "Test pm");
    assert!(published["published_at"]
        .as_str()
        .is_some_and(|at| at.len() >= 10));

    let after = app.send(server_fn("list_portfolio", &pm, "")).await.json();
    assert_eq!(
        latest(&after)["status"],
        "final",
        "the portfolio is not stale"
    );
    let again = app
        .send(server_fn(
            "get_report_outline",
            &pm,
            &format!("report_id={draft}"),
        ))
        .await
        .json();
    assert_eq!(again["published_by"], "Test pm", "the outline is not stale");
    let page = app.get(&format!("/reports/{draft}"), &pm).await;
    assert!(
        page.body.contains("Published by Test pm"),
        "the page says who"
    );
}

#[tokio::test]
async fn a_published_report_is_never_changed_again() {
    let (app, pm, draft) = app().await;
    assert_eq!(publish(&app, &pm, draft).await.status, 200);
    let document = app.get(&format!("/api/reports/{draft}"), &pm).await.body;

    let twice = publish(&app, &pm, draft).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(twice.json()["error"]
        .as_str()
        .is_some_and(|m| m.contains("already published")));
    let regenerate = app
        .send(common::request(
            Method::POST,
            &format!("/api/reports/{draft}/regenerate"),
            &pm,
            None,
        ))
        .await;
    assert_eq!(regenerate.status, 409, "{}", regenerate.body);
    assert!(matches!(
        type_into(&app.state().documents, draft, " late words").await,
        Err(DocError::ReadOnly)
    ));
    assert_eq!(
        app.get(&format!("/api/reports/{draft}"), &pm).await.body,
        document,
        "nothing in the report moved"
    );
}

#[tokio::test]
async fn edits_before_the_publication_are_in_it_and_none_after_on_any_instance() {
    let (app, pm, draft) = app().await;
    // A second instance over the same database has the document open before the publication.
    let other = app.another_instance(&[], None).await;
    let seq = type_into(&other.documents, draft, " Typed before publishing.")
        .await
        .expect("a draft takes edits");
    assert!(seq > 0);
    let logged = app.store().doc_update_count(draft).await.expect("count");

    assert_eq!(publish(&app, &pm, draft).await.status, 200);
    let summary = app
        .store()
        .report_document(draft)
        .await
        .expect("read")
        .expect("report")
        .sections
        .into_iter()
        .find(|s| s.key == "executive-summary")
        .expect("summary")
        .narrative;
    assert!(
        summary.contains("Typed before publishing."),
        "the edit made on the other instance is in the published report: {summary}"
    );
    // The other instance's copy still thinks the report is a draft; the store refuses the edit.
    assert!(matches!(
        type_into(&other.documents, draft, " Typed after.").await,
        Err(DocError::ReadOnly)
    ));
    assert_eq!(
        app.store().doc_update_count(draft).await.expect("count"),
        logged,
        "nothing was appended after the publication"
    );
}

#[tokio::test]
async fn only_the_projects_editors_publish() {
    let (app, _pm, draft) = app().await;
    app.account("reader", Role::Viewer, &["HBR"], None).await;
    app.account("outsider", Role::Editor, &["CDW"], None).await;
    let reader = app.session("reader").await;
    let outsider = app.session("outsider").await;
    assert_eq!(publish(&app, &reader, draft).await.status, 403);
    assert_eq!(publish(&app, &outsider, draft).await.status, 404);
    assert_eq!(publish(&app, &outsider, 999_999).await.status, 404);
    let via_fn = app
        .send(server_fn(
            "publish_report",
            &reader,
            &format!("report_id={draft}"),
        ))
        .await;
    assert_eq!(via_fn.status, 403);
    let outline = app
        .send(server_fn(
            "get_report_outline",
            &reader,
            &format!("report_id={draft}"),
        ))
        .await
        .json();
    assert_eq!(outline["status"], "draft", "refusals change nothing");
}
