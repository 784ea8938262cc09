//! The report reader's server functions: each section read with typed content through the cache
//! (and fresh again after a regeneration), bad arguments refused with a message, Monte Carlo reruns
//! bounded and cached, the browser's section load times reaching the monitor, and the report API's
//! `x-cache` answer.

use crate::common;

use common::{server_fn, Role, TestApp, Who};

async fn app_with(role: Role) -> (TestApp, Who, i64) {
    let app = common::seeded().await;
    app.account("reader", role, &["HBR"], None).await;
    let who = app.session("reader").await;
    let draft = app.report_id("HBR", false).await;
    (app, who, draft)
}

async fn section(app: &TestApp, who: &Who, report: i64, key: &str) -> common::Reply {
    app.send(server_fn(
        "get_report_section",
        who,
        &format!("report_id={report}&key={key}"),
    ))
    .await
}

#[tokio::test]
async fn every_section_reads_with_typed_content() {
    let (app, who, draft) = app_with(Role::Viewer).await;
    let expected = [
        ("executive-summary", "executive_summary"),
        ("key-metrics", "key_metrics"),
        ("ai-insights", "ai_insights"),
        ("monte-carlo", "monte_carlo"),
        ("charts", "charts"),
        ("milestones", "milestones"),
        ("risks", "risks"),
        ("appendix", "appendix"),
    ];
    for (key, kind) in expected {
        let reply = section(&app, &who, draft, key).await;
        assert_eq!(reply.status, 200, "{key}: {}", reply.body);
        let body = reply.json();
        assert_eq!(body["key"], key);
        assert_eq!(body["section_type"], kind);
        assert_eq!(body["content"]["type"], kind, "{key} is read by its type");
        assert!(body["content"]["data"].is_object(), "{key} has content");
    }
    let summary = section(&app, &who, draft, "executive-summary").await.json();
    assert!(!summary["narrative"].as_str().unwrap_or("").is_empty());
}

#[tokio::test]
async fn sections_come_from_the_cache_until_the_report_changes() {
    let (app, who, draft) = app_with(Role::Editor).await;
    let first = section(&app, &who, draft, "key-metrics").await.json();
    let before = app.state().cache.stats().await;
    let again = section(&app, &who, draft, "key-metrics").await.json();
    let after = app.state().cache.stats().await;
    assert_eq!(first, again);
    assert!(
        after.by_type["report"].hits > before.by_type["report"].hits,
        "the second read is a cache hit"
    );
    let regenerated = app
        .send(server_fn(
            "regenerate_report",
            &who,
            &format!("report_id={draft}"),
        ))
        .await;
    assert_eq!(regenerated.status, 200, "{}", regenerated.body);
    let fresh = section(&app, &who, draft, "key-metrics").await.json();
    assert_eq!(
        fresh["version"].as_i64(),
        first["version"].as_i64().map(|v| v + 1),
        "a regeneration drops the cached section"
    );
}

/// `GET /api/reports/{id}` says where its bytes came from: the first read loads them (`miss`), the
/// next is served from the cache (`hit`), and a regeneration makes the next read load them again.
#[tokio::test]
async fn the_report_api_says_whether_it_was_a_cache_hit() {
    let (app, who, draft) = app_with(Role::Editor).await;
    let read = || {
        common::request(
            axum::http::Method::GET,
            &format!("/api/reports/{draft}"),
            &who,
            None,
        )
    };
    let first = app.send(read()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("x-cache"), "miss");
    let second = app.send(read()).await;
    assert_eq!(second.header("x-cache"), "hit");
    assert_eq!(first.body, second.body, "the same bytes");
    let regenerated = app
        .send(common::request(
            axum::http::Method::POST,
            &format!("/api/reports/{draft}/regenerate"),
            &who,
            None,
        ))
        .await;
    assert_eq!(regenerated.status, 200, "{}", regenerated.body);
    let fresh = app.send(read()).await;
    assert_eq!(fresh.header("x-cache"), "miss", "a regeneration drops it");
    assert_eq!(app.send(read()).await.header("x-cache"), "hit");
}

#[tokio::test]
async fn bad_section_requests_are_refused_with_a_message() {
    let (app, who, draft) = app_with(Role::Viewer).await;
    let missing = section(&app, &who, draft, "no-such-section").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("no section 'no-such-section'"),
        "{}",
        missing.body
    );
    let bad_key = section(&app, &who, draft, "Key%2FMetrics").await;
    assert_eq!(bad_key.status, 400);
    assert!(bad_key.body.contains("section key"), "{}", bad_key.body);
    let bad_id = section(&app, &who, -4, "risks").await;
    assert_eq!(bad_id.status, 400);
    let no_report = section(&app, &who, 999_999, "risks").await;
    assert_eq!(no_report.status, 404);
}

#[tokio::test]
async fn monte_carlo_reruns_are_bounded_and_cached() {
    let (app, who, draft) = app_with(Role::Viewer).await;
    let rerun = |iterations: &str| {
        server_fn(
            "rerun_monte_carlo",
            &who,
            &format!("report_id={draft}&iterations={iterations}"),
        )
    };
    for bad in ["999", "100001", "-5"] {
        let reply = app.send(rerun(bad)).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
    }
    let too_many = app.send(rerun("100001")).await;
    assert!(
        too_many
            .body
            .contains("iterations must be from 1000 to 100000"),
        "{}",
        too_many.body
    );
    let first = app.send(rerun("2000")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    assert_eq!(first["section"]["result"]["iterations"], 2000);
    assert_eq!(first["cached"], false);
    let second = app.send(rerun("2000")).await.json();
    assert_eq!(second["cached"], true);
    assert_eq!(
        second["section"], first["section"],
        "the same run, from the cache"
    );
    let stored = section(&app, &who, draft, "monte-carlo").await.json();
    assert_ne!(
        stored["content"]["data"]["result"]["iterations"], 2000,
        "a rerun leaves the stored report alone"
    );
}

#[tokio::test]
async fn section_load_times_reach_the_monitor() {
    let (app, who, _) = app_with(Role::Viewer).await;
    for (body, status) in [
        ("section_type=risks&ms=120.5", 200),
        ("section_type=risks&ms=80", 200),
        ("section_type=charts&ms=300", 200),
        ("section_type=gossip&ms=10", 400),
        ("section_type=risks&ms=-1", 400),
        ("section_type=risks&ms=NaN", 400),
        ("section_type=risks&ms=600001", 400),
    ] {
        let reply = app.send(server_fn("record_section_load", &who, body)).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    let stats = app.state().monitor.operation_stats("section_load_time");
    let risks = stats
        .iter()
        .find(|s| {
            s.labels
                .iter()
                .any(|(k, v)| k == "section_type" && v == "risks")
        })
        .expect("risks load times");
    assert_eq!(risks.window.count, 2);
    assert_eq!(stats.len(), 2, "one series per section type");
}

#[tokio::test]
async fn costly_runs_are_limited_per_caller_and_cached_ones_do_not_count() {
    let app = common::seeded_with(&["--costly-runs-per-minute", "3"], None).await;
    app.account("vera2", Role::Viewer, &["HBR"], None).await;
    app.account("eddie2", Role::Editor, &["HBR"], None).await;
    let (vera, eddie) = (app.session("vera2").await, app.session("eddie2").await);
    let draft = app.report_id("HBR", false).await;
    let rerun = |who: &Who, iterations: u32| {
        server_fn(
            "rerun_monte_carlo",
            who,
            &format!("report_id={draft}&iterations={iterations}"),
        )
    };
    // Two computed runs, then runs answered from the cache, which do not use up the budget...
    for iterations in [1000, 1100] {
        let reply = app.send(rerun(&vera, iterations)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["cached"], false);
    }
    for _ in 0..5 {
        let reply = app.send(rerun(&vera, 1100)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["cached"], true);
    }
    // ...so a third computed run still fits: the whole budget.
    let third = app.send(rerun(&vera, 1200)).await;
    assert_eq!(third.status, 200, "{}", third.body);
    // A fourth computed run is refused with when to retry.
    let refused = app.send(rerun(&vera, 1300)).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused.body.contains("limited to 3 a minute") && refused.body.contains("try again in"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .header("retry-after")
            .parse::<u64>()
            .is_ok_and(|s| s > 0),
        "Retry-After: {:?}",
        refused.header("retry-after")
    );
    // Another caller has a budget of their own, shared by reruns and regenerations (REST too).
    assert_eq!(app.send(rerun(&eddie, 1300)).await.status, 200);
    let regenerate = || {
        common::request(
            axum::http::Method::POST,
            &format!("/api/reports/{draft}/regenerate"),
            &eddie,
            None,
        )
    };
    for _ in 0..2 {
        let reply = app.send(regenerate()).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let refused = app.send(regenerate()).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.json()["error"].is_string(), "{}", refused.body);
}

/// Forty people rerun the simulation at once (each a different run, none from the cache): the
/// server runs a few at a time and queues a few more; the rest are refused at once with 429 and a
/// `Retry-After`, instead of piling up CPU work. Every admitted run completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_simulations_are_capped_server_wide() {
    let app = common::seeded_with(&["--costly-runs-per-minute", "10000"], None).await;
    let draft = app.report_id("HBR", false).await;
    let mut callers = Vec::new();
    for i in 0..40 {
        callers.push(
            app.api_token(&format!("t{i}"), Role::Viewer, &["HBR"])
                .await,
        );
    }
    let runs = callers.iter().enumerate().map(|(i, who)| {
        let iterations = 60_000 + i as u32;
        app.send(server_fn(
            "rerun_monte_carlo",
            who,
            &format!("report_id={draft}&iterations={iterations}"),
        ))
    });
    let replies = futures_util::future::join_all(runs).await;
    let done = replies.iter().filter(|r| r.status == 200).count();
    let refused: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(done + refused.len(), 40, "only 200 or 429");
    assert!(!refused.is_empty(), "some were refused");
    assert!(done >= 2, "the slots ran some");
    for r in &refused {
        assert!(
            r.body.contains("as many simulations as it can"),
            "{}",
            r.body
        );
        assert_eq!(r.header("retry-after"), "5");
    }
}
