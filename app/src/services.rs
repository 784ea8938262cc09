//! The seam between server functions and the server's infrastructure (server builds only).
//!
//! Server functions never see a store, a cache or a pool: they ask the [`Services`] found in Leptos
//! context, whose trait objects the `server` crate implements and provides for every request. Tests can
//! provide their own implementations the same way.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{Portfolio, ReportOutline};

/// Read access to the portfolio and report outlines.
#[async_trait]
pub trait PortfolioService: Send + Sync + 'static {
    /// The portfolio with every project and its reports.
    async fn portfolio(&self) -> Result<Portfolio, AppError>;
    /// A report's header and section list; `None` when no report has this id.
    async fn report_outline(&self, report_id: i64) -> Result<Option<ReportOutline>, AppError>;
}

/// Everything server functions may use, cheap to clone, provided as Leptos context.
#[derive(Clone)]
pub struct Services {
    pub portfolio: Arc<dyn PortfolioService>,
}

/// The services of the current request. Missing context is a wiring bug in the server, reported as a
/// server function error rather than a panic.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        AppError::Unavailable("The server is starting up; try again in a moment.".into())
    })
}
