//! The cache's part of the performance API (the seed's `/api/reports/pmr/performance/cache/*`):
//!
//! - `GET  /api/reports/pmr/performance/cache/stats`: hits, misses and hit rate overall and per type,
//!   memory used (this instance's memory tier and Redis), keys, evictions, Redis errors, and the
//!   cache's health (`healthy`, `degraded`, `unavailable`, with latency and the last error). Admins.
//! - `POST /api/reports/pmr/performance/cache/clear?cache_type=report`: drops one type (`report`,
//!   `insights`, `monte_carlo`, `metrics`, `template`) or, without `cache_type`, everything, on
//!   every instance. Admins.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::caller::Caller;
use super::error::ApiError;
use crate::cache::{CacheHealth, CacheStats, CacheType};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reports/pmr/performance/cache/stats", get(stats))
        .route("/api/reports/pmr/performance/cache/clear", post(clear))
}

/// Body of the stats endpoint.
#[derive(Debug, Serialize)]
pub struct CacheReport {
    pub health: CacheHealth,
    #[serde(flatten)]
    pub stats: CacheStats,
}

async fn stats(State(state): State<AppState>) -> Json<CacheReport> {
    let (health, stats) = tokio::join!(state.cache.health_check(), state.cache.stats());
    Json(CacheReport { health, stats })
}

/// Query of the clear endpoint.
#[derive(Debug, Deserialize)]
pub struct ClearQuery {
    pub cache_type: Option<String>,
}

/// Body of the clear endpoint.
#[derive(Debug, Serialize)]
pub struct Cleared {
    pub cleared: String,
}

async fn clear(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(query): Query<ClearQuery>,
) -> Result<Json<Cleared>, ApiError> {
    let kind =
        CacheType::parse_choice(query.cache_type.as_deref()).map_err(ApiError::BadRequest)?;
    state.cache.clear(kind).await;
    let cleared = kind.map_or("all", CacheType::as_str).to_string();
    tracing::info!(by = %who.name(), cleared, "cleared the cache");
    Ok(Json(Cleared { cleared }))
}
