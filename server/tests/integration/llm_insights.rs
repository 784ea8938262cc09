//! The language-model insight engine against a small local HTTP server that speaks the
//! chat-completions protocol: a good answer is used, a bad answer or a slow one falls back to the
//! rules engine with the reason recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::analysis::InsightSet;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use server::insights::llm::{LlmConfig, LlmEngine};
use server::insights::rules::RulesEngine;
use server::insights::InsightEngine;
use server::reports::generate::{generate, GeneratedReport, GenerationParams};
use server::seed::seed_if_empty;
use server::storage::Store;

/// Requests the fake model received: the Authorization header and the JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// How the fake model behaves, and what it saw.
#[derive(Clone)]
struct Fake {
    content: String,
    delay: Duration,
    seen: Seen,
}

async fn completions(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    fake.seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((auth, body));
    tokio::time::sleep(fake.delay).await;
    Json(json!({ "id": "x", "object": "chat.completion", "choices": [
        { "index": 0, "message": { "role": "assistant", "content": fake.content }, "finish_reason": "stop" }
    ]}))
}

async fn serve(fake: Fake) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(fake);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

/// Seeds a store and generates the October report of project `id` with `engine`.
async fn generate_with(engine: &dyn InsightEngine, id: i64) -> GeneratedReport {
    let db = test_support::SqliteDb::new();
    let store = Store::open(&db.url()).await.expect("store");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    let params = GenerationParams {
        iterations: 200,
        ..GenerationParams::default()
    };
    seed_if_empty(&store, today, params).await.expect("seed");
    let data = store
        .project_data(id, "2026-10")
        .await
        .expect("query")
        .expect("project");
    let template = store
        .template_sections(1)
        .await
        .expect("query")
        .expect("template");
    let status = chrono::NaiveDate::from_ymd_opt(2026, 10, 31).expect("date");
    generate(&data, "2026-10", status, &template, params, engine)
        .await
        .expect("generate")
}

fn insights_of(report: &GeneratedReport) -> InsightSet {
    let section = report
        .sections
        .iter()
        .find(|s| s.key == "ai-insights")
        .expect("insights section");
    serde_json::from_str(&section.content).expect("insight set")
}

/// The ERP report's insights from a fake model that answers `content` after `delay`.
async fn insights_with(content: &str, delay: Duration) -> (InsightSet, Seen) {
    let seen = Seen::default();
    let base_url = serve(Fake {
        content: content.into(),
        delay,
        seen: seen.clone(),
    })
    .await;
    let engine = LlmEngine::new(LlmConfig {
        base_url,
        api_key: Some("test-key".into()),
        model: "tiny-model".into(),
        timeout: Duration::from_millis(500),
    })
    .expect("client");
    (insights_of(&generate_with(&engine, 3).await), seen)
}

#[tokio::test]
async fn a_valid_answer_is_used() {
    let answer = json!({ "insights": [{
        "category": "schedule", "severity": "critical", "title": "The go-live date is not credible",
        "evidence": ["SPI(t) 0.74", "P80 finish after the target"], "action": "Re-plan the cutover with the sponsor."
    }]});
    let (set, seen) = insights_with(&answer.to_string(), Duration::ZERO).await;
    assert_eq!(set.engine, "llm:tiny-model");
    assert_eq!(set.fallback_reason, None);
    assert_eq!(set.insights.len(), 1);
    assert_eq!(set.insights[0].title, "The go-live date is not credible");
    let requests = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert_eq!(requests.len(), 1);
    let (auth, body) = &requests[0];
    assert_eq!(auth.as_deref(), Some("Bearer test-key"));
    assert_eq!(body["model"], "tiny-model");
    assert_eq!(body["response_format"]["type"], "json_object");
    let facts: Value =
        serde_json::from_str(body["messages"][1]["content"].as_str().expect("facts"))
            .expect("facts are JSON");
    assert!(
        facts["earned_value"]["cpi"].is_number(),
        "the model sees the figures"
    );
    assert!(facts["rule_based_findings"].is_array());
}

#[tokio::test]
async fn a_malformed_answer_falls_back_to_the_rules() {
    let (set, _) =
        insights_with("Here are my thoughts: the project is fine.", Duration::ZERO).await;
    assert_eq!(set.engine, "rules-v2");
    let reason = set.fallback_reason.expect("reason recorded");
    assert!(
        reason.starts_with("llm:tiny-model: the answer is not the JSON asked for"),
        "{reason}"
    );
    assert!(!set.insights.is_empty(), "the report still has insights");
}

#[tokio::test]
async fn a_slow_model_falls_back_on_timeout() {
    let (set, _) = insights_with("{}", Duration::from_secs(3)).await;
    assert_eq!(set.engine, "rules-v2");
    let reason = set.fallback_reason.expect("reason recorded");
    assert!(
        reason.contains("0.5 s") || reason.contains("request failed"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_falls_back() {
    let port = test_support::free_port();
    let engine = LlmEngine::new(LlmConfig {
        base_url: format!("http://127.0.0.1:{port}/v1?key=secret-in-the-url"),
        api_key: None,
        model: "m".into(),
        timeout: Duration::from_millis(500),
    })
    .expect("client");
    let with_llm = insights_of(&generate_with(&engine, 1).await);
    let with_rules = insights_of(&generate_with(&RulesEngine, 1).await);
    let reason = with_llm.fallback_reason.clone().unwrap_or_default();
    assert!(reason.contains("request failed"), "{reason}");
    // The reason is shown to the report's readers: not the endpoint's address.
    assert!(
        !reason.contains("secret-in-the-url") && !reason.contains(&port.to_string()),
        "{reason}"
    );
    assert_eq!(
        with_llm.insights, with_rules.insights,
        "the fallback is exactly the rules engine"
    );
}
