//! The performance API over HTTP: figures from real traffic, parameter validation, thresholds and
//! alerts changed at runtime, switching monitoring off and on, deleting data, health, recommendations
//! and the Prometheus exposition.

use crate::common;

use axum::http::{Method, StatusCode};
use common::{request, server_fn, Role, TestApp, Who};

const BASE: &str = "/api/reports/pmr/performance";

async fn app_with_admin(pending_secs: u64) -> (TestApp, Who) {
    let app = common::seeded_with(&["--alert-pending-secs", &pending_secs.to_string()], None).await;
    app.account("root", Role::Admin, &[], None).await;
    let admin = app.session("root").await;
    (app, admin)
}

async fn traffic(app: &TestApp, who: &Who, n: usize) {
    for _ in 0..n {
        assert_eq!(
            app.send(server_fn("list_portfolio", who, "")).await.status,
            200
        );
    }
}

#[tokio::test]
async fn stats_and_metrics_show_real_traffic() {
    let (app, admin) = app_with_admin(60).await;
    traffic(&app, &admin, 5).await;
    let stats = app.get(&format!("{BASE}/stats"), &admin).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    let body = stats.json();
    assert_eq!(body["monitoring_enabled"], true);
    assert_eq!(body["window_minutes"], 15);
    let ops = body["operations"].as_array().expect("operations");
    let route = ops
        .iter()
        .find(|o| {
            o["name"] == "api_response_time"
                && o["labels"].to_string().contains("/api/list_portfolio")
        })
        .expect("the server function's route is timed");
    assert_eq!(route["window"]["count"], 5);
    for key in ["min", "max", "avg", "median", "p95", "p99"] {
        assert!(route["window"][key].as_f64().is_some(), "{key}");
    }
    assert!(
        ops.iter().any(|o| o["name"] == "database_query_time"),
        "store calls are timed"
    );
    assert_eq!(body["thresholds"].as_array().map(Vec::len), Some(7));
    assert!(body["cache"]["by_type"]["metrics"]["hits"].as_u64() >= Some(4));

    // The cache's figures under the seed's names, overall and per type.
    let cache = app.get(&format!("{BASE}/cache/stats"), &admin).await.json();
    assert!(cache["hit_rate"].as_f64() >= Some(50.0), "{cache}");
    assert!(cache["total_keys"].as_u64() >= Some(1), "{cache}");
    assert!(cache["memory_used"].as_u64() > Some(0), "{cache}");
    let metrics = &cache["by_type"]["metrics"];
    assert!(metrics["hit_rate"].as_f64() >= Some(75.0), "{cache}");
    assert!(metrics["total_keys"].as_u64() >= Some(1), "{cache}");
    assert!(metrics["memory_used"].as_u64() > Some(0), "{cache}");
    let keys: u64 = ["report", "insights", "monte_carlo", "metrics", "template"]
        .iter()
        .map(|t| {
            cache["by_type"][t]["total_keys"]
                .as_u64()
                .expect("total_keys per type")
        })
        .sum();
    assert_eq!(Some(keys), cache["total_keys"].as_u64());
    // The health's failure field is the seed's `error` (none here: no Redis).
    assert_eq!(cache["health"]["error"], serde_json::Value::Null);
    assert!(cache["health"].get("error").is_some(), "{cache}");

    let recent = app
        .get(&format!("{BASE}/metrics?limit=3"), &admin)
        .await
        .json();
    assert_eq!(recent["count"], 3);
    assert!(recent["metrics"][0]["timestamp"].is_string());

    let text = app.get("/metrics", &admin).await;
    assert_eq!(text.status, 200);
    assert!(text
        .header("content-type")
        .starts_with("text/plain; version=0.0.4"));
    assert!(text
        .body
        .contains("# TYPE pmr_api_response_seconds histogram"));
    assert!(text.body.contains("route=\"/api/list_portfolio\""));
    assert!(text.body.contains("pmr_cache_hits_total{type=\"metrics\"}"));
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let (app, admin) = app_with_admin(60).await;
    for (path, word) in [
        ("metrics?limit=-1", "limit"),
        ("metrics?limit=0", "limit"),
        ("metrics?limit=abc", "limit"),
        ("metrics?limit=5000", "limit"),
        ("alerts?limit=9999", "limit"),
        ("alerts?severity=bogus", "severity"),
        ("monitor/data?hours=99999", "hours"),
        ("monitor/data?hours=-2", "hours"),
        ("cache/clear?cache_type=bogus", "cache_type"),
    ] {
        let method = if path.starts_with("monitor/data") {
            Method::DELETE
        } else if path.starts_with("cache/clear") {
            Method::POST
        } else {
            Method::GET
        };
        let reply = app
            .send(request(method, &format!("{BASE}/{path}"), &admin, None))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        assert!(
            reply.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains(word)),
            "{path}: {}",
            reply.body
        );
    }
    let put = |metric: &str, body: &str| {
        request(
            Method::PUT,
            &format!("{BASE}/thresholds/{metric}"),
            &admin,
            Some(("application/json", body.as_bytes().to_vec())),
        )
    };
    assert_eq!(app.send(put("nope", r#"{"value": 5}"#)).await.status, 400);
    assert_eq!(
        app.send(put("api_response_time", r#"{"value": -5}"#))
            .await
            .status,
        400
    );
    assert_eq!(
        app.send(put("api_response_time", "not json")).await.status,
        400
    );
    assert_eq!(
        app.send(put("cache_hit_rate", r#"{"value": 120}"#))
            .await
            .status,
        400
    );
    let ok = app
        .send(put("api_response_time", r#"{"value": 750}"#))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let listed = app.get(&format!("{BASE}/thresholds"), &admin).await.json();
    assert!(listed
        .as_array()
        .expect("list")
        .iter()
        .any(|t| t["metric"] == "api_response_time" && t["value"] == 750.0));
}

#[tokio::test]
async fn a_lowered_threshold_fires_an_alert_that_resolves_when_raised() {
    let (app, admin) = app_with_admin(0).await;
    traffic(&app, &admin, 3).await;
    let set = |value: &str| {
        request(
            Method::PUT,
            &format!("{BASE}/thresholds/api_response_time"),
            &admin,
            Some((
                "application/json",
                format!(r#"{{"value": {value}}}"#).into_bytes(),
            )),
        )
    };
    assert_eq!(app.send(set("0.001")).await.status, 200);
    app.state.monitor.evaluate();
    let alerts = app
        .get(&format!("{BASE}/alerts?severity=critical"), &admin)
        .await
        .json();
    let active = alerts["active"].as_array().expect("active");
    assert!(!active.is_empty(), "{alerts}");
    assert_eq!(active[0]["metric"], "api_response_time");
    assert_eq!(active[0]["state"], "firing");
    let health = app.get(&format!("{BASE}/health"), &admin).await.json();
    assert_eq!(health["status"], "degraded");
    assert!(health["alerts_firing"].as_u64() > Some(0));

    assert_eq!(app.send(set("60000")).await.status, 200);
    app.state.monitor.evaluate();
    let alerts = app.get(&format!("{BASE}/alerts"), &admin).await.json();
    assert_eq!(
        alerts["active"].as_array().map(Vec::len),
        Some(0),
        "{alerts}"
    );
    let recent = alerts["recent"].as_array().expect("recent");
    assert!(recent.iter().all(|a| a["state"] == "resolved"));
    assert!(recent[0]["duration_seconds"].as_f64().is_some());
    let recs = app.get(&format!("{BASE}/recommendations"), &admin).await;
    assert_eq!(recs.status, 200);
}

#[tokio::test]
async fn monitoring_switches_off_and_on_and_old_data_can_be_deleted() {
    let (app, admin) = app_with_admin(60).await;
    let count = |app: &TestApp| {
        app.state
            .monitor
            .operation_stats("api_response_time")
            .iter()
            .map(|s| s.since_start.count)
            .sum::<u64>()
    };
    traffic(&app, &admin, 2).await;
    let off = app
        .send(request(
            Method::POST,
            &format!("{BASE}/monitor/disable"),
            &admin,
            None,
        ))
        .await;
    assert_eq!(off.json()["monitoring_enabled"], false);
    let before = count(&app);
    traffic(&app, &admin, 3).await;
    assert_eq!(count(&app), before, "nothing recorded while disabled");
    app.send(request(
        Method::POST,
        &format!("{BASE}/monitor/enable"),
        &admin,
        None,
    ))
    .await;
    traffic(&app, &admin, 1).await;
    assert!(count(&app) > before);
    let deleted = app
        .send(request(
            Method::DELETE,
            &format!("{BASE}/monitor/data?hours=0"),
            &admin,
            None,
        ))
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["deleted_older_than_hours"], 0);
    assert!(
        count(&app) <= 1,
        "only the delete request itself may remain"
    );

    let health = app.get(&format!("{BASE}/health"), &admin).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["store"]["status"], "up");
    assert_eq!(health.json()["store"]["backend"], "sqlite");
    let ws = app
        .get(&format!("{BASE}/websocket/stats"), &admin)
        .await
        .json();
    assert_eq!(ws["total_connections"], 0);
    assert_eq!(ws["redis_enabled"], false);
    assert_eq!(
        app.get(&format!("{BASE}/websocket/sessions/abc"), &admin)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn recommendations_follow_crafted_figures() {
    let (app, admin) = app_with_admin(60).await;
    for _ in 0..10 {
        app.state.monitor.record(
            server::monitor::Metric::ApiResponseTime,
            1900.0,
            &[("route", "/api/slow"), ("method", "GET"), ("status", "200")],
        );
    }
    let recs = app
        .get(&format!("{BASE}/recommendations"), &admin)
        .await
        .json();
    let list = recs.as_array().expect("list");
    let slow = list
        .iter()
        .find(|r| r["area"] == "route")
        .unwrap_or_else(|| panic!("{recs}"));
    assert_eq!(slow["priority"], "high");
    assert!(slow["title"]
        .as_str()
        .is_some_and(|t| t.contains("/api/slow")));
    assert!(slow["evidence"].as_str().is_some_and(|e| e.contains("p95")));
}

/// The seed calls the health check without credentials (and so do load balancers): anyone gets the
/// statuses, nothing more; admins get the details.
#[tokio::test]
async fn the_health_check_answers_anyone_with_statuses_only() {
    let (app, admin) = app_with_admin(60).await;
    app.account("vera", Role::Viewer, &[], None).await;
    let viewer = app.session("vera").await;
    let keys = |v: &serde_json::Value| {
        let mut keys: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    for who in [&Who::Anonymous, &viewer] {
        let reply = app.get(&format!("{BASE}/health"), who).await;
        assert_eq!(reply.status, 200);
        let body = reply.json();
        assert_eq!(keys(&body), ["components", "status"], "{body}");
        assert_eq!(
            keys(&body["components"]),
            ["cache", "monitor", "store"],
            "{body}"
        );
        assert_eq!(body["status"], "healthy", "{body}");
        assert_eq!(body["components"]["store"], "up");
        assert_eq!(body["components"]["cache"], "healthy");
        assert_eq!(body["components"]["monitor"], "enabled");
    }
    let full = app.get(&format!("{BASE}/health"), &admin).await.json();
    assert_eq!(full["status"], "healthy");
    assert!(full["uptime_seconds"].is_u64(), "{full}");
    assert_eq!(full["cache"]["redis"], "not_configured", "{full}");

    // Switched off by an admin: the public answer says so, and stays 200.
    app.send(request(
        Method::POST,
        &format!("{BASE}/monitor/disable"),
        &admin,
        None,
    ))
    .await;
    let off = app.get(&format!("{BASE}/health"), &Who::Anonymous).await;
    assert_eq!(off.status, 200);
    assert_eq!(off.json()["components"]["monitor"], "disabled");
}
