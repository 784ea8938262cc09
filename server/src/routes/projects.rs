//! Project data exchange over HTTP:
//!
//! - `GET  /api/projects/{code}`: the project's page as JSON (card, plan, members).
//! - `GET  /api/projects/{code}/export`: the project as a `pmr.project/v1` JSON document.
//! - `GET  /api/projects/{code}/tasks.csv`: the task list as CSV (formula-safe).
//! - `POST /api/projects/import`: create or replace a project from a JSON document.
//! - `PUT  /api/projects/{code}/tasks.csv`: replace the task list from CSV (milestones and risks kept;
//!   risks must still name existing tasks).
//!
//! Imports are all-or-nothing: a 422 lists every problem with its place and changes nothing. An
//! import is recorded as the project's progress as of `?status_date=YYYY-MM-DD` (default today), which
//! may not be before the latest status date recorded: a month's report reads the progress in force at
//! its end.
//!
//! Access: reading needs membership of the project (viewer and up); replacing a project's data needs
//! an editor who is a member; importing a project that does not exist yet needs an admin.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use app::access::Access;
use app::model::Role;

use super::caller::{reachable_project, Caller};
use super::error::ApiError;
use crate::monitor::timed_query;
use crate::reports::project_changed;
use crate::state::AppState;
use crate::storage::transfer::ImportOutcome;
use crate::transfer::{csv, parse_json, validate, ProjectDocument};

/// Largest import accepted: 5,000 tasks of JSON fit in well under 8 MB.
const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/projects/import", post(import_json))
        .route("/api/projects/{code}", get(overview))
        .route("/api/projects/{code}/export", get(export_json))
        .route(
            "/api/projects/{code}/tasks.csv",
            get(export_csv).put(import_csv),
        )
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            MAX_IMPORT_BYTES,
            super::limits::limit_body,
        ))
}

async fn document(state: &AppState, who: &Access, code: &str) -> Result<ProjectDocument, ApiError> {
    reachable_project(state, who, code).await?;
    timed_query(
        &state.monitor,
        "export_project",
        state.store.export_project(code),
    )
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no project has code '{code}'")))
}

fn attachment(name: &str, content_type: &'static str) -> [(header::HeaderName, String); 2] {
    [
        (header::CONTENT_TYPE, content_type.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ),
    ]
}

async fn overview(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
) -> Result<Json<app::project::ProjectOverview>, ApiError> {
    app::project::check_project_code(&code).map_err(ApiError::BadRequest)?;
    state
        .services
        .portfolio
        .project(&who, &code)
        .await?
        .map(Json)
        .ok_or_else(|| super::caller::no_project(&code))
}

async fn export_json(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let doc = document(&state, &who, &code).await?;
    Ok((
        attachment(&format!("{code}.json"), "application/json"),
        Json(doc),
    ))
}

async fn export_csv(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let doc = document(&state, &who, &code).await?;
    Ok((
        attachment(&format!("{code}-tasks.csv"), "text/csv; charset=utf-8"),
        csv::write_tasks(&doc.tasks),
    ))
}

fn body_text(headers: &HeaderMap, body: &Bytes, expected: &str) -> Result<String, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with(expected) {
        return Err(ApiError::BadRequest(format!(
            "send the body as {expected}, not '{content_type}'"
        )));
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::BadRequest("the body is not valid UTF-8".into()))
}

/// The status date an import is recorded for.
#[derive(Debug, serde::Deserialize)]
struct ImportAt {
    status_date: Option<String>,
}

/// The import's status date: the query's, or today; not before the project's latest recorded one.
async fn status_date(
    state: &AppState,
    at: &ImportAt,
    project: Option<i64>,
) -> Result<chrono::NaiveDate, ApiError> {
    let day = match &at.status_date {
        None => chrono::Utc::now().date_naive(),
        Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            ApiError::BadRequest(format!(
                "status_date must be a date as YYYY-MM-DD, not '{text}'"
            ))
        })?,
    };
    if let Some(id) = project {
        let latest = timed_query(
            &state.monitor,
            "progress_records",
            state.store.progress_records(id, 1),
        )
        .await?;
        if let Some(latest) = latest.first().filter(|r| r.status_date > day) {
            return Err(ApiError::BadRequest(format!(
                "progress is recorded forward: the latest status date recorded is {}; import as of that date or later",
                latest.status_date
            )));
        }
    }
    Ok(day)
}

async fn import_json(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(at): Query<ImportAt>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ImportOutcome>), ApiError> {
    let text = body_text(&headers, &body, "application/json")?;
    let doc = parse_json(&text).map_err(ApiError::Invalid)?;
    let existing = timed_query(
        &state.monitor,
        "project_id",
        state.store.project_id(&doc.project.code),
    )
    .await?;
    // A code the caller does not reach gets the same answer whether it exists or not.
    if !who.has_role(Role::Admin) && !existing.is_some_and(|id| who.reaches(id)) {
        return Err(ApiError::Forbidden(format!(
            "you may import into your own projects only; creating project {} needs an admin",
            doc.project.code
        )));
    }
    let valid = validate(doc).map_err(ApiError::Invalid)?;
    let day = status_date(&state, &at, existing).await?;
    let outcome = timed_query(
        &state.monitor,
        "import_project",
        state
            .store
            .import_project_by(&valid, &who.principal().display_name, day),
    )
    .await?;
    imported(&state, &outcome.code).await;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    tracing::info!(code = %outcome.code, created = outcome.created, tasks = outcome.tasks, by = %who.name(), "imported project");
    Ok((status, Json(outcome)))
}

async fn import_csv(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
    Query(at): Query<ImportAt>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportOutcome>, ApiError> {
    let text = body_text(&headers, &body, "text/csv")?;
    let mut doc = document(&state, &who, &code).await?;
    doc.tasks = csv::read_tasks(&text).map_err(ApiError::Invalid)?;
    let valid = validate(doc).map_err(ApiError::Invalid)?;
    let project = timed_query(&state.monitor, "project_id", state.store.project_id(&code)).await?;
    let day = status_date(&state, &at, project).await?;
    let outcome = timed_query(
        &state.monitor,
        "import_project",
        state
            .store
            .import_project_by(&valid, &who.principal().display_name, day),
    )
    .await?;
    imported(&state, &outcome.code).await;
    Ok(Json(outcome))
}

/// Drops what an import made stale from the cache. The import is done; a failure here only leaves
/// cached copies to expire, so it is logged, not returned.
async fn imported(state: &AppState, code: &str) {
    let result = async {
        if let Some(id) =
            timed_query(&state.monitor, "project_id", state.store.project_id(code)).await?
        {
            project_changed(&state.store, &state.cache, id).await?;
        }
        Ok::<_, crate::storage::StoreError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(code, error = %e, "imported, but cannot invalidate the cache");
    }
}
