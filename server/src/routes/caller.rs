//! The caller of a REST request, as the authentication layer resolved it, and the project lookup the
//! handlers share. Membership is the caller's [`Access`] to decide.

use app::access::Access;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::monitor::timed_query;
use crate::state::AppState;

/// The signed-in account or API token making the request, with its rights. The layer has already
/// refused anonymous callers of protected routes; a handler asking for a caller on a public route gets
/// a 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Access);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Access>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::Unauthorized("sign in or send an API token".into()))
    }
}

/// The answer for a project code that does not exist, or that the caller does not reach: the same
/// words, so a refusal never confirms that a code exists.
pub fn no_project(code: &str) -> ApiError {
    ApiError::NotFound(format!("no project has code '{code}'"))
}

/// The id of the project with this code, if the caller reaches it; 404 otherwise.
pub async fn reachable_project(
    state: &AppState,
    who: &Access,
    code: &str,
) -> Result<i64, ApiError> {
    let id = timed_query(&state.monitor, "project_id", state.store.project_id(code))
        .await?
        .ok_or_else(|| no_project(code))?;
    if who.reaches(id) {
        Ok(id)
    } else {
        Err(no_project(code))
    }
}
