//! The performance API (the seed's `/api/reports/pmr/performance/*`, admins only but for the health
//! check's statuses), and the Prometheus exposition at `GET /metrics`:
//!
//! - `GET  …/stats`: monitoring state, every operation's window and since-start statistics, cache and
//!   WebSocket figures, firing alerts.
//! - `GET  …/metrics?limit=50`: the latest raw metrics (1 to 1,000).
//! - `GET  …/alerts?limit=20&severity=warning|critical`: firing alerts and the recent ones.
//! - `GET  …/recommendations`: suggestions with their evidence.
//! - `GET  …/thresholds`, `PUT …/thresholds/{metric}` with `{"value": 500}`: read and change thresholds.
//! - `GET  …/websocket/stats`, `GET …/websocket/sessions/{session_id}`: the collaboration transport's
//!   figures (well-formed zeros until it is in place; unknown sessions are 404).
//! - `GET  …/health`: store, cache and monitor together; 503 when unhealthy. Anyone gets the statuses,
//!   admins the details.
//! - `POST …/monitor/enable`, `POST …/monitor/disable`, `DELETE …/monitor/data?hours=24`.
//! - `GET /metrics`: Prometheus text format, for scrapers with an admin API token.
//!
//! Bad parameters are a 400 naming the parameter.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use app::access::Access;
use app::model::Role;

use super::caller::Caller;
use super::error::ApiError;
use crate::cache::{CacheHealth, CacheStats};
use crate::collab::optimizer::{OptimizerStats, SessionStats};
use crate::monitor::recommend::{recommendations, Recommendation};
use crate::monitor::{prometheus, Alert, OperationStats, RawMetric, Severity, Threshold};
use crate::state::AppState;

const BASE: &str = "/api/reports/pmr/performance";

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/stats"), get(stats))
        .route(&format!("{BASE}/metrics"), get(metrics))
        .route(&format!("{BASE}/alerts"), get(alerts))
        .route(&format!("{BASE}/recommendations"), get(recommend))
        .route(&format!("{BASE}/thresholds"), get(thresholds))
        .route(&format!("{BASE}/thresholds/{{metric}}"), put(set_threshold))
        .route(&format!("{BASE}/websocket/stats"), get(websocket_stats))
        .route(
            &format!("{BASE}/websocket/sessions/{{session_id}}"),
            get(websocket_session),
        )
        .route(&format!("{BASE}/health"), get(health))
        .route(&format!("{BASE}/monitor/enable"), post(enable))
        .route(&format!("{BASE}/monitor/disable"), post(disable))
        .route(&format!("{BASE}/monitor/data"), delete(delete_data))
        .route("/metrics", get(exposition))
}

/// Parses an optional query parameter, with a 400 naming it when it is not a number in range.
fn bounded(
    params: &HashMap<String, String>,
    name: &str,
    default: u64,
    max: u64,
) -> Result<u64, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|v| (1..=max).contains(v) || (name == "hours" && *v == 0))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "{name} must be a whole number from {} to {max}, not '{}'",
                    if name == "hours" { 0 } else { 1 },
                    text.chars().take(20).collect::<String>()
                ))
            }),
    }
}

/// The WebSocket figures: the collaboration transport's `get_stats()`.
pub type WebSocketStats = OptimizerStats;

fn websocket_figures(state: &AppState) -> WebSocketStats {
    state.collab.get_stats()
}

/// Body of `GET …/stats`.
#[derive(Debug, Serialize)]
pub struct PerformanceStats {
    pub monitoring_enabled: bool,
    pub window_minutes: u64,
    pub uptime_seconds: u64,
    pub operations: Vec<OperationStats>,
    pub thresholds: Vec<Threshold>,
    pub active_alerts: Vec<Alert>,
    pub cache: CacheStats,
    pub websocket: WebSocketStats,
}

async fn stats(State(state): State<AppState>) -> Json<PerformanceStats> {
    Json(PerformanceStats {
        monitoring_enabled: state.monitor.is_enabled(),
        window_minutes: state.monitor.window_minutes(),
        uptime_seconds: state.started.elapsed().as_secs(),
        operations: state.monitor.all_stats(),
        thresholds: state.monitor.thresholds(),
        active_alerts: state.monitor.active_alerts(),
        cache: state.cache.stats().await,
        websocket: websocket_figures(&state),
    })
}

/// Body of `GET …/metrics`.
#[derive(Debug, Serialize)]
pub struct RecentMetrics {
    pub count: usize,
    pub metrics: Vec<RawMetric>,
}

async fn metrics(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<RecentMetrics>, ApiError> {
    let limit = bounded(&params, "limit", 50, 1000)?;
    let metrics = state.monitor.recent(usize::try_from(limit).unwrap_or(1000));
    Ok(Json(RecentMetrics {
        count: metrics.len(),
        metrics,
    }))
}

/// Body of `GET …/alerts`.
#[derive(Debug, Serialize)]
pub struct Alerts {
    pub active: Vec<Alert>,
    pub recent: Vec<Alert>,
}

async fn alerts(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Alerts>, ApiError> {
    let limit = bounded(&params, "limit", 20, 500)?;
    let severity = match params.get("severity").map(String::as_str) {
        None | Some("") => None,
        Some(text) => Some(Severity::parse(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "severity must be 'warning' or 'critical', not '{}'",
                text.chars().take(20).collect::<String>()
            ))
        })?),
    };
    let mut active = state.monitor.active_alerts();
    if let Some(s) = severity {
        active.retain(|a| a.severity == s);
    }
    Ok(Json(Alerts {
        active,
        recent: state
            .monitor
            .recent_alerts(usize::try_from(limit).unwrap_or(500), severity),
    }))
}

async fn recommend(State(state): State<AppState>) -> Json<Vec<Recommendation>> {
    let cache = state.cache.stats().await;
    Json(recommendations(
        &state.monitor,
        Some(&cache),
        state.generation.iterations,
    ))
}

async fn thresholds(State(state): State<AppState>) -> Json<Vec<Threshold>> {
    Json(state.monitor.thresholds())
}

/// Body of `PUT …/thresholds/{metric}`.
#[derive(Debug, Deserialize)]
pub struct NewThreshold {
    pub value: f64,
}

async fn set_threshold(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(metric): Path<String>,
    body: Result<Json<NewThreshold>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Threshold>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::BadRequest(format!(
            "send {{\"value\": <positive number>}}: {}",
            e.body_text()
        ))
    })?;
    let changed = state
        .monitor
        .set_threshold(&metric, body.value)
        .map_err(ApiError::BadRequest)?;
    tracing::info!(by = %who.name(), metric, value = body.value, "threshold changed");
    Ok(Json(changed))
}

async fn websocket_stats(State(state): State<AppState>) -> Json<WebSocketStats> {
    Json(websocket_figures(&state))
}

async fn websocket_session(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<Json<SessionStats>, ApiError> {
    state
        .collab
        .get_session_stats(&session_id)
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no one is connected to a collaboration session '{}' on this instance",
                session_id.chars().take(64).collect::<String>()
            ))
        })
}

/// Body of `GET …/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `healthy`, `degraded` (the cache lost Redis, or alerts are firing) or `unhealthy` (the
    /// store does not answer).
    pub status: &'static str,
    pub store: StoreHealth,
    pub cache: CacheHealth,
    pub monitoring_enabled: bool,
    pub alerts_firing: usize,
    pub uptime_seconds: u64,
}

/// The store's part of the health check.
#[derive(Debug, Serialize)]
pub struct StoreHealth {
    pub status: &'static str,
    pub backend: &'static str,
    pub latency_ms: f64,
    pub error: Option<String>,
}

/// What anyone may read of the health check (the seed's `curl` example is anonymous, and so are load
/// balancers): the overall status and each component's, nothing that describes the deployment.
#[derive(Debug, Serialize)]
pub struct PublicHealth {
    pub status: &'static str,
    pub components: PublicComponents,
}

/// Each component's status in [`PublicHealth`].
#[derive(Debug, Serialize)]
pub struct PublicComponents {
    /// `up` or `down`.
    pub store: &'static str,
    /// `healthy`, `degraded` or `unavailable`.
    pub cache: &'static str,
    /// `enabled`, `disabled`, or `alerting` while an alert fires.
    pub monitor: &'static str,
}

/// `GET …/health`: 200 while healthy or degraded, 503 when unhealthy, so a load balancer can use it.
/// Admins get the whole [`Health`]; anyone else its statuses only ([`PublicHealth`]).
async fn health(
    State(state): State<AppState>,
    caller: Option<axum::Extension<Access>>,
) -> axum::response::Response {
    let health = check_health(&state).await;
    let code = if health.status == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    if caller.is_some_and(|c| c.has_role(Role::Admin)) {
        return (code, Json(health)).into_response();
    }
    let monitor = match (health.monitoring_enabled, health.alerts_firing) {
        (false, _) => "disabled",
        (true, 0) => "enabled",
        (true, _) => "alerting",
    };
    let public = PublicHealth {
        status: health.status,
        components: PublicComponents {
            store: health.store.status,
            cache: health.cache.status,
            monitor,
        },
    };
    (code, Json(public)).into_response()
}

/// The store, the cache and the monitor, checked now.
async fn check_health(state: &AppState) -> Health {
    let started = Instant::now();
    let ping = state.store.ping().await;
    let store = StoreHealth {
        status: if ping.is_ok() { "up" } else { "down" },
        backend: state.store.backend().as_str(),
        latency_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        error: ping.err().map(|e| e.to_string()),
    };
    let cache = state.cache.health_check().await;
    let alerts_firing = state.monitor.active_alerts().len();
    let status = if store.status == "down" {
        "unhealthy"
    } else if cache.status != "healthy" || alerts_firing > 0 {
        "degraded"
    } else {
        "healthy"
    };
    Health {
        status,
        store,
        cache,
        monitoring_enabled: state.monitor.is_enabled(),
        alerts_firing,
        uptime_seconds: state.started.elapsed().as_secs(),
    }
}

/// Body of the enable, disable and delete endpoints.
#[derive(Debug, Serialize)]
pub struct MonitorState {
    pub monitoring_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_older_than_hours: Option<u64>,
}

async fn enable(State(state): State<AppState>, Caller(who): Caller) -> Json<MonitorState> {
    state.monitor.set_enabled(true);
    tracing::info!(by = %who.name(), "monitoring enabled");
    Json(MonitorState {
        monitoring_enabled: true,
        deleted_older_than_hours: None,
    })
}

async fn disable(State(state): State<AppState>, Caller(who): Caller) -> Json<MonitorState> {
    state.monitor.set_enabled(false);
    tracing::info!(by = %who.name(), "monitoring disabled");
    Json(MonitorState {
        monitoring_enabled: false,
        deleted_older_than_hours: None,
    })
}

async fn delete_data(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<MonitorState>, ApiError> {
    let hours = bounded(&params, "hours", 24, 8760)?;
    state.monitor.delete_older_than(hours);
    tracing::info!(by = %who.name(), hours, "deleted monitoring data");
    Ok(Json(MonitorState {
        monitoring_enabled: state.monitor.is_enabled(),
        deleted_older_than_hours: Some(hours),
    }))
}

async fn exposition(State(state): State<AppState>) -> impl IntoResponse {
    let cache = state.cache.stats().await;
    let ws = state.collab.get_stats();
    let samples = [
        prometheus::Sample {
            name: "pmr_ws_connections",
            kind: "gauge",
            help: "Collaboration connections open on this instance.",
            value: ws.total_connections,
        },
        prometheus::Sample {
            name: "pmr_ws_slow_consumers_closed_total",
            kind: "counter",
            help: "Collaboration connections closed for not reading their messages.",
            value: ws.slow_consumers_closed,
        },
        prometheus::Sample {
            name: "pmr_ws_relay_dropped_total",
            kind: "counter",
            help: "Collaboration messages for other instances that never reached Redis.",
            value: ws.relay_dropped,
        },
        prometheus::Sample {
            name: "pmr_ws_relay_gaps_total",
            kind: "counter",
            help: "Gaps found in other instances' relayed messages (each resyncs this instance's clients).",
            value: ws.relay_gaps,
        },
        prometheus::Sample {
            name: "pmr_ws_queue_overflows_total",
            kind: "counter",
            help: "Collaboration messages dropped because their session's queue was full (each resyncs the session).",
            value: ws.queue_overflows,
        },
    ];
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        prometheus::render(&state.monitor, Some(&cache), &samples),
    )
}
