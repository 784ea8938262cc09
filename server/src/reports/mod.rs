//! Reports: the read side behind the app's server functions ([`StorePortfolio`]), the project data the
//! generator reads ([`data`]), and generation itself ([`generate`]): earned value, status checks, the
//! Monte Carlo run, insights and every section's content. Store failures are logged here, once, and
//! mapped to errors a reader can act on. The cache service will sit in front of these reads.

pub mod data;
pub mod evm_input;
pub mod generate;
mod narrative;
pub mod regenerate;
use std::sync::Arc;

use app::account::Principal;
use app::error::AppError;
use app::model::{GenerationTimings, Portfolio, ReportOutline};
use app::services::PortfolioService;
use async_trait::async_trait;

use crate::insights::InsightEngine;
use crate::storage::{Store, StoreError};
use generate::GenerationParams;
use regenerate::{regenerate, RegenerateError};

/// Portfolio and report outlines, read from the store, and regeneration of draft reports; each
/// limited to the projects the caller may reach.
pub struct StorePortfolio {
    store: Store,
    generation: GenerationParams,
    insights: Arc<dyn InsightEngine>,
}

impl StorePortfolio {
    pub fn new(
        store: Store,
        generation: GenerationParams,
        insights: Arc<dyn InsightEngine>,
    ) -> StorePortfolio {
        StorePortfolio {
            store,
            generation,
            insights,
        }
    }

    /// `Forbidden` unless the caller may reach the project.
    async fn check_reach(
        &self,
        who: &Principal,
        project_id: i64,
        code: &str,
    ) -> Result<(), AppError> {
        if self
            .store
            .can_reach(who, project_id)
            .await
            .map_err(to_app_error)?
        {
            Ok(())
        } else {
            Err(not_a_member(code))
        }
    }
}

/// The refusal for a project the caller is not a member of.
pub fn not_a_member(code: &str) -> AppError {
    AppError::Forbidden(format!(
        "You are not a member of project {code}; ask an admin for access."
    ))
}

#[async_trait]
impl PortfolioService for StorePortfolio {
    async fn portfolio(&self, who: &Principal) -> Result<Portfolio, AppError> {
        let mut portfolio = self.store.portfolio().await.map_err(to_app_error)?;
        if !who.is_admin() {
            let reachable = self
                .store
                .reachable_projects(who)
                .await
                .map_err(to_app_error)?;
            portfolio.projects.retain(|p| reachable.contains(&p.id));
        }
        Ok(portfolio)
    }

    async fn report_outline(
        &self,
        who: &Principal,
        report_id: i64,
    ) -> Result<Option<ReportOutline>, AppError> {
        let Some(outline) = self
            .store
            .report_outline(report_id)
            .await
            .map_err(to_app_error)?
        else {
            return Ok(None);
        };
        self.check_reach(who, outline.project_id, &outline.project_code)
            .await?;
        Ok(Some(outline))
    }

    async fn regenerate_report(
        &self,
        who: &Principal,
        report_id: i64,
    ) -> Result<GenerationTimings, AppError> {
        let Some(outline) = self
            .store
            .report_outline(report_id)
            .await
            .map_err(to_app_error)?
        else {
            return Err(AppError::NotFound(format!(
                "There is no report with id {report_id}."
            )));
        };
        self.check_reach(who, outline.project_id, &outline.project_code)
            .await?;
        match regenerate(&self.store, report_id, self.generation, self.insights.as_ref()).await {
            Ok(timings) => {
                tracing::info!(report = report_id, by = %who.name, ms = timings.total_ms, "regenerated report");
                Ok(timings)
            }
            Err(RegenerateError::NotFound(_)) => Err(AppError::NotFound(format!(
                "There is no report with id {report_id}."
            ))),
            Err(RegenerateError::Final(_)) => Err(AppError::Conflict(
                "This report is final: a finalized report is a frozen snapshot and is not regenerated."
                    .into(),
            )),
            Err(RegenerateError::Store(e)) => Err(to_app_error(e)),
            Err(e) => {
                tracing::error!(report = report_id, error = %e, "regeneration failed");
                Err(AppError::BadRequest(format!("The report cannot be regenerated: {e}.")))
            }
        }
    }
}

/// Logs a store failure and says what the reader needs to know.
pub fn to_app_error(err: StoreError) -> AppError {
    if err.is_unavailable() {
        tracing::warn!(error = %err, "store unavailable");
        AppError::Unavailable(
            "The report database is unavailable right now; try again in a moment.".into(),
        )
    } else {
        tracing::error!(error = %err, "store query failed");
        AppError::Internal(
            "The server could not read the report data; the error has been logged.".into(),
        )
    }
}
