//! The error of every REST handler, [`ApiError`]: the app's [`AppError`] (the one conversion of each
//! layer's error, in `crate::error`), plus what only REST answers (an import's list of problems);
//! each variant documents its status, the body is always JSON (`{"error": "...", "problems": [...]}`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use app::error::AppError;

use crate::storage::StoreError;
use crate::transfer::Problem;

/// Problems an import's refusal lists at most (the count says how many there are): enough to fix a
/// file in a few passes, while a damaged 64 MiB file cannot make a response of megabytes.
pub const MAX_PROBLEMS_LISTED: usize = 100;

/// What a REST handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// 404: the named thing does not exist.
    NotFound(String),
    /// 400: the request is malformed (wrong content type, unreadable body).
    BadRequest(String),
    /// 401: no valid session or API token.
    Unauthorized(String),
    /// 403: the caller's role or project membership does not allow this.
    Forbidden(String),
    /// 429: too many attempts.
    TooManyRequests(String),
    /// 413: the body is larger than the endpoint accepts.
    PayloadTooLarge(String),
    /// 422: the content was read but breaks the rules; every problem is listed with its place.
    Invalid(Vec<Problem>),
    /// 422 as [`ApiError::Invalid`], with more fields beside the problems (a P6 file's projects).
    InvalidWith(Vec<Problem>, serde_json::Map<String, serde_json::Value>),
    /// 422: the data cannot be processed (e.g. a plan the simulation refuses), with the reason.
    Unprocessable(String),
    /// 409: the write conflicts with existing data.
    Conflict(String),
    /// 503: the database is unavailable; retrying later may work.
    Unavailable(String),
    /// 507: the database cannot write (disk full, read-only file); nothing was changed.
    Unwritable(String),
    /// 500: anything else; the cause is in the log.
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::from(AppError::from(err))
    }
}

impl From<AppError> for ApiError {
    /// The app's errors (from the services) keep their status and message.
    fn from(err: AppError) -> Self {
        match err {
            AppError::NotFound(m) => ApiError::NotFound(m),
            AppError::BadRequest(m) => ApiError::BadRequest(m),
            AppError::Unauthorized(m) => ApiError::Unauthorized(m),
            AppError::Forbidden(m) => ApiError::Forbidden(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::TooManyRequests(m) => ApiError::TooManyRequests(m),
            AppError::Unavailable(m) => ApiError::Unavailable(m),
            AppError::Unwritable(m) => ApiError::Unwritable(m),
            AppError::Internal(m) => ApiError::Internal(m),
            AppError::ServerFn(_) => ApiError::Internal(crate::storage::FAILED_REASON.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, json!({ "error": m })),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({ "error": m })),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, json!({ "error": m })),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, json!({ "error": m })),
            ApiError::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": m })),
            ApiError::TooManyRequests(m) => {
                let wait = AppError::TooManyRequests(m.clone()).retry_after();
                let mut response =
                    (StatusCode::TOO_MANY_REQUESTS, Json(json!({ "error": m }))).into_response();
                if let Some(secs) = wait.and_then(|s| s.to_string().parse().ok()) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, secs);
                }
                return response;
            }
            ApiError::Invalid(problems) => {
                return ApiError::InvalidWith(problems, serde_json::Map::new()).into_response()
            }
            ApiError::InvalidWith(problems, extra) => {
                let count = problems.len();
                let listed = &problems[..count.min(MAX_PROBLEMS_LISTED)];
                let error = if count > listed.len() {
                    format!("the import has {count} problems (the first {} are listed); nothing was changed", listed.len())
                } else {
                    format!(
                        "the import has {}; nothing was changed",
                        app::format::count_of(count, "problem", "problems")
                    )
                };
                let mut body =
                    json!({ "error": error, "problem_count": count, "problems": listed });
                if let Some(fields) = body.as_object_mut() {
                    fields.extend(extra);
                }
                (StatusCode::UNPROCESSABLE_ENTITY, body)
            }
            ApiError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, json!({ "error": m })),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, json!({ "error": m })),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, json!({ "error": m })),
            ApiError::Unwritable(m) => (StatusCode::INSUFFICIENT_STORAGE, json!({ "error": m })),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": m })),
        };
        (status, Json(body)).into_response()
    }
}

/// Largest plain-text error body turned into JSON; axum's own refusals are a line of text.
const MAX_PLAIN_ERROR_BYTES: usize = 16 * 1024;

/// Response middleware of the REST routes (`map_response`): an error answered in plain text, which
/// is what axum's extractors refuse with (a path id that is not a number, a query that does not
/// parse, a body past its limit), goes out as the REST routes' JSON error, `{"error": "..."}`,
/// with the same status.
pub async fn plain_errors_as_json(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_PLAIN_ERROR_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_string(),
    };
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut json = Json(json!({ "error": text })).into_response();
    parts.headers.extend(json.headers_mut().drain());
    Response::from_parts(parts, json.into_body())
}
