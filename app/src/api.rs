//! Server functions for reading the portfolio and reports. Each is a thin `verb_noun` wrapper that
//! validates its arguments and asks the [`crate::services`] for the data; errors are [`AppError`]s
//! whose status is also set on the HTTP response.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Portfolio, ReportOutline};

/// Lists the portfolio's projects and their reports.
#[server(endpoint = "list_portfolio")]
pub async fn list_portfolio() -> Result<Portfolio, AppError> {
    crate::services::services()?
        .portfolio
        .portfolio()
        .await
        .inspect_err(report_status)
}

/// The header and section titles of one report.
#[server(endpoint = "get_report_outline")]
pub async fn get_report_outline(report_id: i64) -> Result<ReportOutline, AppError> {
    let result = async {
        if report_id <= 0 {
            return Err(AppError::BadRequest(format!(
                "Report id must be a positive number, not {report_id}."
            )));
        }
        crate::services::services()?
            .portfolio
            .report_outline(report_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("There is no report with id {report_id}.")))
    }
    .await;
    result.inspect_err(report_status)
}

/// Puts an error's status on the HTTP response that carries it.
#[cfg(feature = "ssr")]
fn report_status(err: &AppError) {
    crate::response::set_status(err.status());
}
