//! Regenerating a draft report from the project's current data: the write path of generation. A
//! finalized report is a frozen snapshot and is refused.

use app::model::ReportStatus;
use chrono::NaiveDate;

use app::sections::MonteCarloSection;

use super::generate::{
    generate_cached, monte_carlo_cached, GenerationError, GenerationParams, Shared, Timings,
};
use crate::domain::project::ProjectData;
use crate::insights::InsightEngine;
use crate::monitor::timed_query;
use crate::monitor::{Metric, Monitor};
use crate::storage::project_data::write_generated;
use crate::storage::reports::ReportMeta;
use crate::storage::{Store, StoreError};
use std::sync::Arc;

/// Why a report could not be regenerated.
#[derive(Debug, thiserror::Error)]
pub enum RegenerateError {
    #[error("there is no report with id {0}")]
    NotFound(i64),
    #[error("report {0} is final: a finalized report is a frozen snapshot and is not regenerated")]
    Final(i64),
    #[error("report {id} has an unreadable period '{period}'")]
    BadPeriod { id: i64, period: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A store error met by a read that other callers shared (through the cache).
    #[error(transparent)]
    SharedStore(Arc<StoreError>),
    #[error(transparent)]
    Generation(#[from] GenerationError),
}

pub use crate::domain::calendar::period_end;

/// The Monte Carlo section a report would have with `params` (e.g. another iteration count), from
/// the project's data as of the report's period, without storing anything. Finalized reports too:
/// nothing is written. The flag says whether the simulation ran (rather than came from the cache).
pub async fn simulate_report(
    store: &Store,
    monitor: &Monitor,
    report_id: i64,
    params: GenerationParams,
    shared: Option<Shared<'_>>,
) -> Result<(MonteCarloSection, bool), RegenerateError> {
    let (meta, status_date, data) = report_inputs(store, monitor, report_id, true).await?;
    Ok(monte_carlo_cached(&data, &meta.period, status_date, params, shared).await?)
}

/// What generating a report reads: its row, its status date (its month's reporting day under the
/// project's calendar) and its
/// project's data as of that period. A finalized report is refused unless `final_ok`.
async fn report_inputs(
    store: &Store,
    monitor: &Monitor,
    report_id: i64,
    final_ok: bool,
) -> Result<(ReportMeta, NaiveDate, ProjectData), RegenerateError> {
    let meta = timed_query(monitor, "report_meta", store.report_meta(report_id))
        .await?
        .ok_or(RegenerateError::NotFound(report_id))?;
    if meta.status == ReportStatus::Final && !final_ok {
        return Err(RegenerateError::Final(report_id));
    }
    let read = store.project_data(meta.project_id, &meta.period);
    let data = timed_query(monitor, "project_data", read)
        .await?
        .ok_or(RegenerateError::NotFound(report_id))?;
    let status_date = data
        .status_date(&meta.period)
        .ok_or_else(|| RegenerateError::BadPeriod {
            id: report_id,
            period: meta.period.clone(),
        })?;
    Ok((meta, status_date, data))
}

/// Regenerates every section of a draft report and stores it; returns the step timings, and records
/// those of the costly steps that ran (the callers record the whole generation's).
pub async fn regenerate(
    store: &Store,
    monitor: &Monitor,
    report_id: i64,
    params: GenerationParams,
    engine: &dyn InsightEngine,
    shared: Option<Shared<'_>>,
) -> Result<Timings, RegenerateError> {
    let (meta, status_date, data) = report_inputs(store, monitor, report_id, false).await?;
    // The sections the report was started with: a template changed since does not reach it.
    let template = timed_query(monitor, "report_layout", store.report_layout(report_id)).await?;
    let generated = generate_cached(
        &data,
        &meta.period,
        status_date,
        &template,
        params,
        engine,
        shared,
    )
    .await?;
    let write = async {
        let mut tx = store.begin().await?;
        // Published meanwhile? Then nothing is written (the row lock orders this with publishing).
        crate::storage::lock_draft(&mut tx, report_id).await?;
        write_generated(&mut tx, report_id, &generated.sections).await?;
        tx.commit().await.map_err(StoreError::from)
    };
    timed_query(monitor, "write_generated", write).await?;
    // The costly steps' times, when they ran: a result from the cache took a lookup, and counting
    // it would pull their percentiles (and the alerts on them) down.
    if generated.computed.monte_carlo {
        monitor.record_metric(
            Metric::MonteCarloAnalysisTime,
            generated.timings.monte_carlo_ms,
        );
    }
    if generated.computed.insights {
        monitor.record_metric(
            Metric::AiInsightGenerationTime,
            generated.timings.insights_ms,
        );
    }
    Ok(generated.timings)
}
