//! Reports over HTTP:
//!
//! - `GET /api/reports/{id}`: the whole report (outline and every section's content) as JSON, read
//!   through the cache: a cached report is sent as the bytes the cache holds. Members of the report's
//!   project (viewers and up), admins. `x-cache: hit` when the bytes came from the cache (memory or
//!   Redis, or another request's load this one waited for), `miss` when this request loaded them.
//! - `GET /api/reports/{id}/changes`: what changed since the previous month's report (figures,
//!   status, milestones that moved or were reached, new and closed risks); `null` for a project's
//!   first report. Members (viewers and up), admins.
//! - `POST /api/reports/{id}/regenerate`: rebuild every section of a draft report from the project's
//!   current data (earned value, Monte Carlo, insights); editors who are members of the report's
//!   project, and admins. 409 for a finalized report, which is a frozen snapshot. Answers with the
//!   time each step took.

use app::error::AppError;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;

use super::caller::Caller;
use super::error::ApiError;
use crate::cache::CacheKey;
use crate::monitor::timed_query;
use crate::reports::generate::Timings;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reports/{id}", get(report_document))
        .route("/api/reports/{id}/regenerate", post(regenerate_report))
        .route("/api/reports/{id}/publish", post(publish_report))
        .route("/api/reports/{id}/correction", post(correct_report))
        .route("/api/reports/{id}/changes", get(report_changes))
}

/// A report's project, through the cache (a missing report is not cached).
pub(crate) async fn report_project(state: &AppState, id: i64) -> Result<Option<i64>, ApiError> {
    state
        .cache
        .get_or_load_if(
            &CacheKey::report_project(id),
            None,
            || async {
                timed_query(&state.monitor, "report_meta", state.store.report_meta(id))
                    .await
                    .map(|m| m.map(|m| m.project_id))
                    .map_err(|e| AppError::from(&e))
            },
            |p: &Option<i64>| p.is_some(),
        )
        .await
        .map_err(ApiError::from)
}

async fn report_document(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 =
        id.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
            ApiError::BadRequest("the report id must be a positive number".into())
        })?;
    report_project(&state, id)
        .await?
        .filter(|&project| who.reaches(project))
        .ok_or_else(|| ApiError::from(app::access::Access::report_not_found(id)))?;
    let loaded = std::sync::atomic::AtomicBool::new(false);
    let bytes = state
        .cache
        .get_or_load_raw(
            &CacheKey::report_document(id),
            None,
            || async {
                loaded.store(true, std::sync::atomic::Ordering::Relaxed);
                let read = state.store.report_document(id);
                match timed_query(&state.monitor, "report_document", read).await {
                    Ok(Some(doc)) => serde_json::to_vec(&doc)
                        .map(|v| (Bytes::from(v), true))
                        .map_err(|_| AppError::Internal("cannot encode the report".into())),
                    Ok(None) => Err(app::access::Access::report_not_found(id)),
                    Err(e) => Err(AppError::from(&e)),
                }
            },
            |bytes| serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok(),
        )
        .await?;
    let source = if loaded.into_inner() { "miss" } else { "hit" };
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::HeaderName::from_static("x-cache"), source),
        ],
        bytes,
    )
        .into_response())
}

async fn report_changes(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Option<app::changes::MonthChanges>>, ApiError> {
    let id: i64 =
        id.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
            ApiError::BadRequest("the report id must be a positive number".into())
        })?;
    Ok(Json(
        state.services.portfolio.report_changes(&who, id).await?,
    ))
}

async fn publish_report(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<i64>,
) -> Result<Json<app::model::ReportOutline>, ApiError> {
    let outline = state.services.portfolio.publish_report(&who, id).await?;
    Ok(Json(outline))
}

async fn correct_report(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<app::planning::StartedReport>), ApiError> {
    let started = state.services.portfolio.correct_report(&who, id).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// Body of a successful regeneration.
#[derive(Debug, serde::Serialize)]
pub struct Regenerated {
    pub report_id: i64,
    pub timings: Timings,
}

async fn regenerate_report(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<i64>,
) -> Result<Json<Regenerated>, ApiError> {
    let timings = state.services.portfolio.regenerate_report(&who, id).await?;
    Ok(Json(Regenerated {
        report_id: id,
        timings,
    }))
}
