//! Liveness and readiness, for load balancers and orchestrators.
//!
//! - `GET /healthz`: the process is up and serving (always 200 while it can answer).
//! - `GET /readyz`: the store answers, and Redis too when one is configured. 200 `ready` when all
//!   do; 200 `degraded` when only Redis is down (the instance still serves everything: reads from its
//!   memory cache and the store, editing within the instance; cross-instance delivery resumes by
//!   itself when Redis returns, so taking every instance out of rotation would only turn a partial
//!   outage into a full one); 503 `not_ready` when the store is down. A single instance without
//!   `REDIS_URL` never checks Redis.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Body of `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct Liveness {
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_seconds: u64,
}

async fn healthz(State(state): State<AppState>) -> Json<Liveness> {
    Json(Liveness {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
    })
}

/// One dependency's state in `GET /readyz`.
#[derive(Debug, Serialize)]
pub struct Check {
    /// `up`, `down` or `not_configured`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Body of `GET /readyz`.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// `ready`, `degraded` (Redis down, still serving) or `not_ready` (the store is down).
    pub status: &'static str,
    pub store: Check,
    pub redis: Check,
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let store = store_check(&state).await;
    let redis = redis_check(&state).await;
    let (code, status) = match (store.status, redis.status) {
        ("up", "down") => (StatusCode::OK, "degraded"),
        ("up", _) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
    };
    let body = Readiness {
        status,
        store,
        redis,
    };
    (code, Json(body))
}

async fn store_check(state: &AppState) -> Check {
    let started = Instant::now();
    let result = state.store.ping().await;
    Check {
        status: if result.is_ok() { "up" } else { "down" },
        backend: Some(state.store.backend().as_str()),
        latency_ms: Some(millis(started.elapsed())),
        error: result.err().map(|e| logged("store", &e.to_string())),
    }
}

async fn redis_check(state: &AppState) -> Check {
    let Some(redis) = &state.redis else {
        return Check {
            status: "not_configured",
            backend: None,
            latency_ms: None,
            error: None,
        };
    };
    let probe = redis.probe().await;
    Check {
        status: if probe.up { "up" } else { "down" },
        backend: None,
        latency_ms: Some(millis(probe.latency)),
        error: probe.error.map(|e| logged("redis", &e)),
    }
}

/// A dependency's failure: the cause goes to the server's log; `/readyz`, which answers anyone,
/// says only that there is one (a database's error can name its user, host or file).
fn logged(dependency: &str, cause: &str) -> String {
    tracing::warn!(dependency, cause, "readiness check failed");
    "unreachable (the server's log has the cause)".to_string()
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
