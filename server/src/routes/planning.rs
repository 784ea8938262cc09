//! The monthly cycle over HTTP, for scripts (API tokens) as for the pages' server functions, through
//! the same `PlanningService`:
//!
//! - `GET  /api/projects/{code}/progress`: the progress grid's rows as last recorded, the version they
//!   are from and the versions recorded so far (editors of the project).
//! - `POST /api/projects/{code}/progress`: record progress for a status date (`ProgressSave`: each
//!   changed row with what it said when loaded and what it says now); 200 with the new version, 400
//!   listing every problem (nothing saved), 409 listing the cells someone else changed differently.
//! - `POST /api/projects/{code}/reports`: start a month's report (`{"period": "YYYY-MM",
//!   "template_id": N}`): 201 with the draft's id; 409 when the month has a report.
//! - `POST /api/projects`: create a project with its plan (`NewProject`; admins): 201.
//! - `GET  /api/templates`: the report templates one can start a report with (anyone signed in).
//! - `POST /api/templates`: create a template (`TemplateDraft`: name and sections; admins): 201 with
//!   it; 400 listing every problem; 409 for a name in use.
//! - `GET  /api/templates/{id}`, `PUT /api/templates/{id}`: one template with its sections and the
//!   count of reports made from it; change it (admins). Reports keep the sections they were made with.

use app::planning::{CreatedProject, NewProject, ReportStart, StartedReport, TemplateChoice};
use app::progress::{ProgressSave, ProgressSaved, ProgressSheet};
use app::templates::{TemplateDraft, TemplateInfo, TemplateSave};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::caller::Caller;
use super::error::ApiError;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/projects", post(create_project))
        .route(
            "/api/projects/{code}/progress",
            get(progress_sheet).post(save_progress),
        )
        .route("/api/projects/{code}/reports", post(start_report))
        .route("/api/templates", get(templates).post(create_template))
        .route("/api/templates/{id}", get(template).put(change_template))
}

/// A JSON body, or a 400 that says what was expected.
fn body<T>(body: Result<Json<T>, JsonRejection>, expected: &str) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::BadRequest(format!("send {expected} as JSON: {}", e.body_text())))
}

fn code_ok(code: &str) -> Result<(), ApiError> {
    app::project::check_project_code(code).map_err(ApiError::BadRequest)
}

async fn progress_sheet(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
) -> Result<Json<ProgressSheet>, ApiError> {
    code_ok(&code)?;
    Ok(Json(
        state.services.planning.progress_sheet(&who, &code).await?,
    ))
}

async fn save_progress(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
    save: Result<Json<ProgressSave>, JsonRejection>,
) -> Result<Json<ProgressSaved>, ApiError> {
    code_ok(&code)?;
    let mut save = body(save, "a progress save")?;
    save.code = code;
    Ok(Json(
        state.services.planning.save_progress(&who, save).await?,
    ))
}

/// The body of a report start (the project is the path's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    period: String,
    template_id: i64,
}

async fn start_report(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
    start: Result<Json<StartBody>, JsonRejection>,
) -> Result<(StatusCode, Json<StartedReport>), ApiError> {
    code_ok(&code)?;
    let start = body(start, "{\"period\": \"YYYY-MM\", \"template_id\": N}")?;
    let started = state
        .services
        .planning
        .start_report(
            &who,
            ReportStart {
                code,
                period: start.period,
                template_id: start.template_id,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(started)))
}

async fn create_project(
    State(state): State<AppState>,
    Caller(who): Caller,
    project: Result<Json<NewProject>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedProject>), ApiError> {
    let project = body(project, "a new project")?;
    let created = state
        .services
        .planning
        .create_project(&who, project)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn templates(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<Vec<TemplateChoice>>, ApiError> {
    Ok(Json(state.services.planning.templates(&who).await?))
}

/// A template id from the path: a positive number.
fn template_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::BadRequest(format!("'{id}' is not a template id")))
}

async fn template(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<TemplateInfo>, ApiError> {
    let id = template_id(&id)?;
    let list = state.services.planning.template_list(&who).await?;
    list.into_iter()
        .find(|t| t.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("There is no template with id {id}.")))
}

async fn create_template(
    State(state): State<AppState>,
    Caller(who): Caller,
    draft: Result<Json<TemplateDraft>, JsonRejection>,
) -> Result<(StatusCode, Json<TemplateInfo>), ApiError> {
    let draft = body(draft, "a template ({\"name\": ..., \"sections\": [...]})")?;
    let saved = state
        .services
        .planning
        .save_template(&who, TemplateSave { id: None, draft })
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

async fn change_template(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    draft: Result<Json<TemplateDraft>, JsonRejection>,
) -> Result<Json<TemplateInfo>, ApiError> {
    let id = template_id(&id)?;
    let draft = body(draft, "a template ({\"name\": ..., \"sections\": [...]})")?;
    Ok(Json(
        state
            .services
            .planning
            .save_template(
                &who,
                TemplateSave {
                    id: Some(id),
                    draft,
                },
            )
            .await?,
    ))
}
