//! Project data exchange over HTTP:
//!
//! - `GET  /api/projects/{code}`: the project's page as JSON (card, plan, members).
//! - `GET  /api/projects/{code}/export`: the project as a `pmr.project/v1` JSON document.
//! - `GET  /api/projects/{code}/tasks.csv`: the task list as CSV (formula-safe).
//! - `POST /api/projects/import`: create or replace a project from a JSON document, a Microsoft
//!   Project XML file or a P6 XER file (`?code=` names the project of a scheduler's file).
//! - `POST /api/projects/{code}/import`: the same, into that project only (it must exist).
//! - `PUT  /api/projects/{code}/tasks.csv`: replace the task list from CSV (milestones and risks kept;
//!   risks must still name existing tasks).
//!
//! Imports are all-or-nothing: a 422 lists every problem with its place and changes nothing. An
//! import is recorded as the project's progress as of `?status_date=YYYY-MM-DD` (default today), which
//! may not be before the latest status date recorded: a month's report reads the progress in force at
//! its end.
//!
//! Access: reading needs membership of the project (viewer and up); replacing a project's data needs
//! an editor who is a member; importing a project that does not exist yet needs an admin, or an
//! editor an admin allowed to create projects (who becomes its member).

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
use app::import::ScheduleImport;

use crate::transfer::files::{self, SchedulerFormat};
use crate::transfer::schedule::{self, EstimateRule};
use crate::transfer::{csv, parse_json, validate, ProjectDocument};

/// Largest import accepted (the project page's file upload checks the same bound).
const MAX_IMPORT_BYTES: usize = app::import::MAX_IMPORT_BYTES;
/// Largest CSV task list accepted (50,000 tasks are about 8 MB of CSV).
const MAX_CSV_BYTES: usize = 16 * 1024 * 1024;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    // The import reads its body itself, once its turn comes (see `import_turn`).
    let import_route = Router::new()
        .route("/api/projects/import", post(import))
        .route("/api/projects/{code}/import", post(import_into))
        .layer(axum::middleware::from_fn_with_state(
            MAX_IMPORT_BYTES,
            super::limits::limit_body,
        ));
    Router::new()
        .route("/api/projects/{code}", get(overview))
        .route("/api/projects/{code}/export", get(export_json))
        .route(
            "/api/projects/{code}/tasks.csv",
            get(export_csv).put(import_csv),
        )
        .layer(DefaultBodyLimit::max(MAX_CSV_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            MAX_CSV_BYTES,
            super::limits::limit_body,
        ))
        .merge(import_route)
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

/// 400 unless the body is declared as `expected`.
fn expect_type(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with(expected) {
        return Err(ApiError::BadRequest(format!(
            "send the body as {expected}, not '{content_type}'"
        )));
    }
    Ok(())
}

fn body_text(headers: &HeaderMap, body: &Bytes, expected: &str) -> Result<String, ApiError> {
    expect_type(headers, expected)?;
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

/// Imports read at once, server-wide; how long a request waits for its turn.
const IMPORTS_AT_ONCE: usize = 2;
const IMPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn import_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(IMPORTS_AT_ONCE))
}

/// An import's turn: a large file is CPU and a few hundred MB, so at most IMPORTS_AT_ONCE are read
/// at a time, and the turn is taken before the body is read (a request waiting holds no body). The
/// rest wait their turn for a while, then get a 429.
async fn import_turn() -> Result<tokio::sync::SemaphorePermit<'static>, ApiError> {
    tokio::time::timeout(IMPORT_WAIT, import_slots().acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::TooManyRequests(
                "other imports are being read; try again in a few seconds".into(),
            )
        })
}

/// The whole body (the route's limit, `limit` bytes, wraps it): 413 past the limit.
async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut too_large = false;
        while let Some(c) = cause {
            too_large |= c.is::<http_body_util::LengthLimitError>();
            cause = c.source();
        }
        if too_large {
            ApiError::PayloadTooLarge(format!(
                "the request body is larger than the {} MiB this import accepts",
                limit / (1024 * 1024)
            ))
        } else {
            ApiError::BadRequest(format!("the body could not be read: {e}"))
        }
    })
}

/// The query of `POST /api/projects/import`.
#[derive(Debug, serde::Deserialize)]
struct ImportQuery {
    status_date: Option<String>,
    /// The project's code (a scheduler's file has none of PMR's).
    code: Option<String>,
    /// A name replacing the file's.
    name: Option<String>,
    /// The project's manager (default: a replaced project's own; a new one's is the file's, else
    /// the caller).
    manager: Option<String>,
    /// Which project of a P6 XER file (its `proj_id`).
    p6_project: Option<String>,
    /// The file's code page (an XER that is not UTF-8, say `windows-1252`).
    encoding: Option<String>,
    /// The estimate rule's fractions of the duration (see `transfer::schedule::EstimateRule`).
    optimistic: Option<f64>,
    pessimistic: Option<f64>,
    /// Check and count, change nothing (`true` or `1`).
    dry_run: Option<String>,
}

impl ImportQuery {
    fn dry_run(&self) -> Result<bool, ApiError> {
        match self.dry_run.as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ApiError::BadRequest(format!(
                "dry_run must be true or false, not '{other}'"
            ))),
        }
    }
}

/// The body's media type (lowercase, without parameters) and its charset, if named.
fn media_type(headers: &HeaderMap) -> (String, Option<String>) {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches('"').to_string())
    });
    (essence, charset)
}

/// Which importer a body goes to: by its media type, or, for `text/plain`,
/// `application/octet-stream` or none, by its first characters.
fn import_format(headers: &HeaderMap, body: &[u8]) -> Result<Option<SchedulerFormat>, ApiError> {
    const KINDS: &str = "send a pmr.project/v1 document as application/json, Microsoft Project XML as application/xml, or a P6 XER file as text/plain";
    let (essence, _) = media_type(headers);
    match essence.as_str() {
        "application/json" => Ok(None),
        "application/xml" | "text/xml" => Ok(Some(SchedulerFormat::Mspdi)),
        "text/plain" | "application/octet-stream" | "" => match files::sniff(body) {
            Some("xer") => Ok(Some(SchedulerFormat::Xer)),
            Some("xml") => Ok(Some(SchedulerFormat::Mspdi)),
            _ => Err(ApiError::BadRequest(format!(
                "the body is not a P6 XER file (it starts with ERMHDR) or XML: {KINDS}"
            ))),
        },
        other => Err(ApiError::BadRequest(format!("{KINDS}, not '{other}'"))),
    }
}

async fn import(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<axum::response::Response, ApiError> {
    import_body(state, who, query, headers, body, None).await
}

/// `POST /api/projects/{code}/import`: the project's own import, which replaces its plan (the
/// project must exist and be the caller's to edit: 404 otherwise, as its other addresses).
async fn import_into(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
    Query(mut query): Query<ImportQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<axum::response::Response, ApiError> {
    app::project::check_project_code(&code).map_err(ApiError::BadRequest)?;
    reachable_project(&state, &who, &code).await?;
    if query.code.as_ref().is_some_and(|c| c != &code) {
        return Err(ApiError::BadRequest(format!(
            "this address imports into project {code}; leave out ?code="
        )));
    }
    query.code = Some(code.clone());
    import_body(state, who, query, headers, body, Some(code)).await
}

/// Either import, once its turn comes: a JSON document, or a scheduler's file.
async fn import_body(
    state: AppState,
    who: Access,
    query: ImportQuery,
    headers: HeaderMap,
    body: axum::body::Body,
    into: Option<String>,
) -> Result<axum::response::Response, ApiError> {
    let at = ImportAt {
        status_date: query.status_date.clone(),
    };
    let _turn = import_turn().await?;
    let body = read_body(body, MAX_IMPORT_BYTES).await?;
    match import_format(&headers, &body)? {
        None => {
            if query.dry_run()? {
                return Err(ApiError::BadRequest(
                    "dry_run is for Microsoft Project and P6 files".into(),
                ));
            }
            import_json(state, who, at, headers, body, into)
                .await
                .map(IntoResponse::into_response)
        }
        Some(format) => import_schedule(state, who, query, at, format, headers, body)
            .await
            .map(IntoResponse::into_response),
    }
}

/// Imports a Microsoft Project or P6 file as project `?code=`.
async fn import_schedule(
    state: AppState,
    who: Access,
    query: ImportQuery,
    at: ImportAt,
    format: SchedulerFormat,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ScheduleImport>), ApiError> {
    let problem = |location: &str, message: String| {
        ApiError::Invalid(vec![crate::transfer::Problem {
            location: location.into(),
            message,
        }])
    };
    let dry_run = query.dry_run()?;
    // A preview may go without a code (the new-project page reads the file before the code is
    // typed): it is previewed as a new project.
    let code = match query.code.clone() {
        Some(code) => {
            app::project::check_project_code(&code).map_err(|m| problem("code", m))?;
            Some(code)
        }
        None if dry_run => None,
        None => {
            return Err(problem(
                "code",
                "a Microsoft Project or P6 file is imported as the project ?code=CODE".into(),
            ))
        }
    };
    if let Some(name) = &query.name {
        if name.trim().is_empty() || name.chars().count() > crate::transfer::MAX_TEXT {
            return Err(problem(
                "name",
                format!("must be 1 to {} characters", crate::transfer::MAX_TEXT),
            ));
        }
    }
    let rule = EstimateRule::checked(query.optimistic, query.pessimistic)
        .map_err(|p| ApiError::Invalid(vec![p]))?;
    if let Some(manager) = &query.manager {
        if manager.trim().is_empty() || manager.chars().count() > crate::transfer::MAX_TEXT {
            return Err(problem(
                "manager",
                format!("must be 1 to {} characters", crate::transfer::MAX_TEXT),
            ));
        }
    }
    let (existing, creator, kept) = match &code {
        Some(code) => {
            let read = state.store.project_id(code);
            let existing = timed_query(&state.monitor, "project_id", read).await?;
            let creator = import_right(&state, &who, code, existing).await?;
            let kept = match existing {
                Some(_) => Some(document(&state, &who, code).await?),
                None => None,
            };
            (existing, creator, kept)
        }
        None => (None, None, None),
    };
    let code = code.unwrap_or_default();
    let charset = query.encoding.clone().or(media_type(&headers).1);
    // The manager named in the query, else the project's, else the file's, else the caller.
    let named_manager = query.manager.clone();
    let manager = who.principal().display_name.clone();
    let p6 = query.p6_project.clone();
    let name = query.name.clone();
    // A preview without a code is checked under a stand-in one.
    let code_for = if code.is_empty() {
        "PREVIEW".to_string()
    } else {
        code.clone()
    };
    // Reading a large file is CPU: off the async workers (the caller holds an import's turn).
    let (valid, summary, p6_projects) = tokio::task::spawn_blocking(move || {
        let p6_projects = match format {
            SchedulerFormat::Xer => files::xer_projects(&body, charset.as_deref()),
            SchedulerFormat::Mspdi => Vec::new(),
        };
        let refused = |problems: Vec<crate::transfer::Problem>| {
            let mut extra = serde_json::Map::new();
            if p6_projects.len() > 1 {
                extra.insert("p6_projects".into(), serde_json::json!(p6_projects));
            }
            ApiError::InvalidWith(problems, extra)
        };
        // A preview of a file of several projects, none chosen, shows the first (and lists all,
        // to choose from); the import itself needs the choice.
        let previewed = (dry_run && p6.is_none() && p6_projects.len() > 1)
            .then(|| p6_projects[0].id.clone());
        let chosen = p6.as_deref().or(previewed.as_deref());
        let mut schedule =
            files::read_file(&body, format, charset.as_deref(), chosen).map_err(refused)?;
        if let Some(id) = &previewed {
            schedule.warnings.insert(
                0,
                crate::transfer::Problem {
                    location: "p6_project".into(),
                    message: format!(
                        "the file holds {} projects; this preview shows {id} (choose with p6_project)",
                        p6_projects.len()
                    ),
                },
            );
        }
        let keep = kept.as_ref().map(|d| schedule::Keep {
            header: d.project.clone(),
        });
        let (mut doc, mut summary) =
            schedule::to_document(schedule, &code_for, name.as_deref(), keep, &manager, rule)
                .map_err(refused)?;
        if let Some(old) = kept {
            schedule::keep_risks(&mut doc, old, &mut summary);
        }
        if let Some(named) = named_manager {
            doc.project.manager = named;
        }
        let valid = validate(doc).map_err(refused)?;
        Ok::<_, ApiError>((valid, summary, p6_projects))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the import stopped: {e}")))??;
    let day = status_date(&state, &at, existing).await?;
    let counts = (
        valid.document.tasks.len(),
        valid.document.milestones.len(),
        valid.document.risks.len(),
    );
    if dry_run {
        return Ok((
            StatusCode::OK,
            Json(ScheduleImport {
                code,
                created: existing.is_none(),
                dry_run: true,
                tasks: counts.0,
                milestones: counts.1,
                risks: counts.2,
                read: summary,
                p6_projects,
            }),
        ));
    }
    let outcome = timed_query(
        &state.monitor,
        "import_project",
        write(&state, &valid, &who, day, creator),
    )
    .await?;
    created_by(&state, &outcome, creator).await?;
    imported(&state, &outcome.code).await;
    tracing::info!(code = %outcome.code, created = outcome.created, tasks = outcome.tasks, format = %summary.format, by = %who.name(), "imported a scheduler's file");
    Ok((
        if outcome.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(ScheduleImport {
            code: outcome.code,
            created: outcome.created,
            dry_run: false,
            tasks: outcome.tasks,
            milestones: outcome.milestones,
            risks: outcome.risks,
            read: summary,
            p6_projects,
        }),
    ))
}

async fn import_json(
    state: AppState,
    who: Access,
    at: ImportAt,
    headers: HeaderMap,
    body: Bytes,
    into: Option<String>,
) -> Result<(StatusCode, Json<ImportOutcome>), ApiError> {
    let text = body_text(&headers, &body, "application/json")?;
    drop(body);
    let doc = tokio::task::spawn_blocking(move || parse_json(&text))
        .await
        .map_err(|e| ApiError::Internal(format!("the import stopped: {e}")))?
        .map_err(ApiError::Invalid)?;
    if let Some(code) = into.filter(|c| c != &doc.project.code) {
        return Err(ApiError::Invalid(vec![crate::transfer::Problem {
            location: "project.code".into(),
            message: format!(
                "is '{}', but this address imports into project {code}",
                doc.project.code
            ),
        }]));
    }
    let existing = timed_query(
        &state.monitor,
        "project_id",
        state.store.project_id(&doc.project.code),
    )
    .await?;
    let creator = import_right(&state, &who, &doc.project.code, existing).await?;
    let valid = tokio::task::spawn_blocking(move || validate(doc))
        .await
        .map_err(|e| ApiError::Internal(format!("the import stopped: {e}")))?
        .map_err(ApiError::Invalid)?;
    let day = status_date(&state, &at, existing).await?;
    let outcome = timed_query(
        &state.monitor,
        "import_project",
        write(&state, &valid, &who, day, creator),
    )
    .await?;
    created_by(&state, &outcome, creator).await?;
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
    body: axum::body::Body,
) -> Result<Json<ImportOutcome>, ApiError> {
    // Rights first (no turn is taken for a refusal); then the turn, like the other imports, before
    // the body is read, and the reading off the request threads.
    let mut doc = document(&state, &who, &code).await?;
    expect_type(&headers, "text/csv")?;
    let _turn = import_turn().await?;
    let body = read_body(body, MAX_CSV_BYTES).await?;
    let text = body_text(&headers, &body, "text/csv")?;
    drop(body);
    let valid = tokio::task::spawn_blocking(move || {
        doc.tasks = csv::read_tasks(&text)?;
        validate(doc)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the import stopped: {e}")))?
    .map_err(ApiError::Invalid)?;
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

/// Whether the caller may import as project `code`: into a project they edit, or as a new project
/// if they may create one (an admin, or an editor an admin allowed to, read from the store so that
/// taking the right back holds at once). `Some(account)` is an editor creating a project, who
/// becomes its member. A code out of the caller's reach gets the same answer whether it exists or
/// not, unless they may create projects (then a taken code is a conflict, as on the new-project
/// page).
async fn import_right(
    state: &AppState,
    who: &Access,
    code: &str,
    existing: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    if who.has_role(Role::Admin) || existing.is_some_and(|id| who.may_edit(id)) {
        return Ok(None);
    }
    let account = match who.principal().kind {
        app::account::PrincipalKind::User(id) if who.has_role(Role::Editor) => {
            let read = state.store.may_create_projects(id);
            timed_query(&state.monitor, "may_create_projects", read)
                .await?
                .then_some(id)
        }
        _ => None,
    };
    match (account, existing) {
        (Some(id), None) => Ok(Some(id)),
        (Some(_), Some(_)) => Err(ApiError::Conflict(format!(
            "a project with code {code} exists already, and you are not its editor"
        ))),
        (None, _) => Err(ApiError::Forbidden(format!(
            "you may import into your own projects only; creating project {code} needs an admin, or an editor an admin has allowed to"
        ))),
    }
}

/// Writes an import: an editor creating a project writes a new one only (a code taken meanwhile
/// is a conflict, not a replacement).
async fn write(
    state: &AppState,
    valid: &crate::transfer::ValidProject,
    who: &Access,
    day: chrono::NaiveDate,
    creator: Option<i64>,
) -> Result<ImportOutcome, crate::storage::StoreError> {
    let by = &who.principal().display_name;
    match creator {
        Some(_) => state.store.create_project_by(valid, by, day).await,
        None => state.store.import_project_by(valid, by, day).await,
    }
}

/// An editor who created a project by importing it works on it: a member from now on (every
/// remembered caller of the account is forgotten, on every instance, so the next request sees it).
async fn created_by(
    state: &AppState,
    outcome: &ImportOutcome,
    creator: Option<i64>,
) -> Result<(), ApiError> {
    if let (true, Some(user_id)) = (outcome.created, creator) {
        let join = state.store.add_member(outcome.project_id, user_id);
        timed_query(&state.monitor, "add_member", join).await?;
        crate::reports::RightsChanged::memberships_changed(&state.revocations, user_id).await;
    }
    Ok(())
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
