//! Insights: findings on cost, schedule, risk, resources and data quality, each with the figures it
//! rests on and a recommended action.
//!
//! [`InsightEngine`] is the interface. [`rules::RulesEngine`] is the default: deterministic and
//! explainable, every insight traceable to thresholds over earned value, the Monte Carlo result,
//! milestone slip, risk exposure and the declared-versus-computed status.

pub mod args;
pub mod llm;
pub mod rules;

use app::analysis::{EsMetrics, EvMetrics, InsightSet, StatusCheck};
use app::sections::{MilestoneRow, MonteCarloSection};
use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::project::ProjectData;

/// What an engine may look at.
pub struct InsightContext<'a> {
    pub data: &'a ProjectData,
    pub status_date: NaiveDate,
    pub ev: &'a EvMetrics,
    pub es: &'a EsMetrics,
    pub checks: &'a [StatusCheck],
    pub monte_carlo: &'a MonteCarloSection,
    pub milestones: &'a [MilestoneRow],
}

/// Produces a report's insights.
#[async_trait]
pub trait InsightEngine: Send + Sync {
    /// Engine name shown with its insights.
    fn name(&self) -> &str;
    /// The insights for one report, most severe first.
    async fn insights(&self, ctx: &InsightContext<'_>) -> InsightSet;
}
