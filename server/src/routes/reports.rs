//! Report actions over HTTP:
//!
//! - `POST /api/reports/{id}/regenerate`: rebuild every section of a draft report from the project's
//!   current data (earned value, Monte Carlo, insights); editors who are members of the report's
//!   project, and admins. 409 for a finalized report, which is a frozen snapshot. Answers with the
//!   time each step took.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};

use super::caller::Caller;
use super::error::ApiError;
use crate::reports::generate::Timings;
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
    Caller(who): Caller,
    Path(id): Path<i64>,
) -> Result<Json<Regenerated>, ApiError> {
    let timings = state.services.portfolio.regenerate_report(&who, id).await?;
    Ok(Json(Regenerated {
        report_id: id,
        timings,
    }))
}
