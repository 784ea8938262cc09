//! The caller of a REST request, as the authentication layer resolved it, and the project checks the
//! handlers share.

use app::account::Principal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::reports::timed_query;
use crate::state::AppState;

/// The signed-in account or API token making the request. The layer has already refused anonymous
/// callers of protected routes; a handler asking for a caller on a public route gets a 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::Unauthorized("sign in or send an API token".into()))
    }
}

/// The id of the project with this code, if the caller may reach it: 404 when there is none, 403
/// when the caller is not a member.
pub async fn reachable_project(
    state: &AppState,
    who: &Principal,
    code: &str,
) -> Result<i64, ApiError> {
    let id = timed_query(&state.monitor, "project_id", state.store.project_id(code))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no project has code '{code}'")))?;
    if timed_query(&state.monitor, "can_reach", state.store.can_reach(who, id)).await? {
        Ok(id)
    } else {
        Err(ApiError::Forbidden(format!(
            "you are not a member of project {code}; ask an admin for access"
        )))
    }
}
