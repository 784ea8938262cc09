//! Reports: the read side behind the app's server functions ([`StorePortfolio`]), the project data the
//! generator reads ([`data`]), and generation itself ([`generate`]): earned value, status checks, the
//! Monte Carlo run, insights and every section's content. Store failures are logged here, once, and
//! mapped to errors a reader can act on. The cache service will sit in front of these reads.

pub mod data;
pub mod evm_input;
pub mod generate;
mod narrative;
pub mod regenerate;
use app::error::AppError;
use app::model::{Portfolio, ReportOutline};
use app::services::PortfolioService;
use async_trait::async_trait;

use crate::storage::{Store, StoreError};

/// Portfolio and report outlines, read from the store.
pub struct StorePortfolio {
    store: Store,
}

impl StorePortfolio {
    pub fn new(store: Store) -> StorePortfolio {
        StorePortfolio { store }
    }
}

#[async_trait]
impl PortfolioService for StorePortfolio {
    async fn portfolio(&self) -> Result<Portfolio, AppError> {
        self.store.portfolio().await.map_err(to_app_error)
    }

    async fn report_outline(&self, report_id: i64) -> Result<Option<ReportOutline>, AppError> {
        self.store
            .report_outline(report_id)
            .await
            .map_err(to_app_error)
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
