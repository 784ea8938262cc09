//! Report actions over HTTP:
//!
//! - `POST /api/reports/{id}/regenerate`: rebuild every section of a draft report from the project's
//!   current data (earned value, Monte Carlo, insights); 409 for a finalized report, which is a frozen
//!   snapshot. Answers with the time each step took.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};

use super::error::ApiError;
use crate::reports::generate::Timings;
use crate::reports::regenerate::{regenerate, RegenerateError};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/reports/{id}/regenerate", post(regenerate_report))
}

/// Body of a successful regeneration.
#[derive(Debug, serde::Serialize)]
pub struct Regenerated {
    pub report_id: i64,
    pub timings: Timings,
}

async fn regenerate_report(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Regenerated>, ApiError> {
    match regenerate(&state.store, id, state.generation, state.insights.as_ref()).await {
        Ok(timings) => Ok(Json(Regenerated {
            report_id: id,
            timings,
        })),
        Err(RegenerateError::NotFound(_)) => Err(ApiError::NotFound(format!(
            "there is no report with id {id}"
        ))),
        Err(e @ RegenerateError::Final(_)) => Err(ApiError::Conflict(e.to_string())),
        Err(RegenerateError::Store(e)) => Err(e.into()),
        Err(e) => {
            tracing::error!(report = id, error = %e, "regeneration failed");
            Err(ApiError::Unprocessable(e.to_string()))
        }
    }
}
