//! The HTTP application through `router(...)`: health endpoints, the server-rendered pages and the
//! server functions, against a seeded SQLite store (and a harness-started Redis for readiness).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use server::redis_probe::RedisProbe;
use server::reports::generate::GenerationParams;
use server::seed::seed_if_empty;
use server::storage::Store;
use server::{router, AppState, Config};
use tower::ServiceExt;

/// A seeded store in a temporary folder, with the state around it.
struct App {
    _db: test_support::SqliteDb,
    state: AppState,
}

async fn app_with(redis: Option<RedisProbe>) -> App {
    let db = test_support::SqliteDb::new();
    let store = Store::open(&db.url()).await.expect("open store");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(&store, today, quick()).await.expect("seed");
    let state = AppState::from_parts(&Config::for_database(db.url()), store, redis);
    App { _db: db, state }
}

async fn app() -> App {
    app_with(None).await
}

async fn send(router: Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(app: &App, uri: &str) -> (StatusCode, String) {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    send(router(app.state.clone()), request).await
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn healthz_reports_liveness() {
    let app = app().await;
    let (status, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let body = json(&body);
    assert_eq!(body["status"], "ok");
    assert!(body["uptime_seconds"].is_u64());
}

#[tokio::test]
async fn readyz_checks_the_store_and_skips_unconfigured_redis() {
    let app = app().await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = json(&body);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"]["status"], "up");
    assert_eq!(body["store"]["backend"], "sqlite");
    assert_eq!(body["redis"]["status"], "not_configured");
}

#[tokio::test]
async fn readyz_follows_redis_down_and_up() {
    let mut redis = test_support::RedisServer::start();
    let app = app_with(Some(RedisProbe::new(&redis.url()).expect("probe"))).await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(
        (status, json(&body)["redis"]["status"].clone()),
        (StatusCode::OK, "up".into())
    );
    redis.stop();
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let body = json(&body);
    assert_eq!(
        (body["status"].as_str(), body["redis"]["status"].as_str()),
        (Some("not_ready"), Some("down"))
    );
    assert!(body["redis"]["error"].is_string());
    redis.resume();
    let (status, _) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn readyz_fails_when_the_store_is_gone() {
    let app = app().await;
    app.state.store.close().await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&body)["store"]["status"], "down");
}

#[tokio::test]
async fn home_page_is_server_rendered_with_every_project_and_report() {
    let app = app().await;
    let (status, html) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    for name in [
        "Harbor Bridge Rehabilitation",
        "Customer Portal Replatform",
        "North Plant ERP Rollout",
        "Clinical Data Warehouse",
    ] {
        assert!(html.contains(name), "home page lacks {name}");
    }
    assert_eq!(
        html.matches("href=\"/reports/").count(),
        24,
        "one link per report"
    );
    assert!(html.contains("October 2026"), "latest period is labelled");
    assert!(
        html.contains("/pkg/pmr.js") || html.contains("pmr.js"),
        "hydration script linked"
    );
}

#[tokio::test]
async fn report_page_lists_its_sections_in_template_order() {
    let app = app().await;
    let (status, html) = get(&app, "/reports/1").await;
    assert_eq!(status, StatusCode::OK);
    let titles = [
        "Executive summary",
        "Key metrics",
        "AI insights",
        "Monte Carlo risk analysis",
        "Performance charts",
        "Milestones",
        "Risks",
        "Appendix: task table",
    ];
    let positions: Vec<usize> = titles
        .iter()
        .map(|t| {
            html.find(&format!("<h2>{t}</h2>"))
                .unwrap_or_else(|| panic!("section {t} missing"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sections out of order"
    );
    assert!(
        html.contains("Next month"),
        "first report links to the next month"
    );
}

#[tokio::test]
async fn unknown_reports_are_a_404_with_a_message() {
    let app = app().await;
    let (status, html) = get(&app, "/reports/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("There is no report with id 999999."));
    let (status, html) = get(&app, "/reports/not-a-number").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Report id must be a positive number"));
}

#[tokio::test]
async fn unknown_paths_are_a_404_page() {
    let app = app().await;
    let (status, html) = get(&app, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
}

#[tokio::test]
async fn server_functions_answer_json_and_errors_with_status() {
    let app = app().await;
    let post = |body: &'static str| {
        Request::post("/api/get_report_outline")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request")
    };
    let (status, body) = send(router(app.state.clone()), post("report_id=2")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let outline = json(&body);
    assert_eq!(outline["id"], 2);
    assert_eq!(outline["sections"].as_array().map(Vec::len), Some(8));
    let (status, body) = send(router(app.state.clone()), post("report_id=-4")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("positive number"), "{body}");
    let (status, body) = send(router(app.state.clone()), post("report_id=abc")).await;
    assert!(
        status.is_client_error() || status.is_server_error(),
        "garbage accepted: {status} {body}"
    );
}

/// Demo seeding with a short Monte Carlo run: the figures matter here, not their precision.
fn quick() -> GenerationParams {
    GenerationParams {
        iterations: 300,
        ..GenerationParams::default()
    }
}
