//! Reports: the read side behind the app's server functions ([`StorePortfolio`]), generation
//! ([`generate`]: earned value, status checks, the Monte Carlo run, insights; `sections`: every
//! section's content from those figures) and its write path ([`regenerate`]). Reads go through the
//! cache; the caller's [`app::access::Access`] decides what they may reach; errors become the app's
//! in `crate::error`.

pub mod args;
mod changes;
pub mod evm_input;
pub mod generate;
mod narrative;
mod planning;
mod project;
pub mod quota;
pub mod regenerate;
mod sections;
pub mod slots;
use std::sync::Arc;

use app::access::Access;
use app::account::Principal;
use app::error::AppError;
use app::model::{GenerationTimings, Portfolio, ReportOutline};
use app::planning::StartedReport;
use app::project::ProjectOverview;
use app::sections::{MonteCarloRerun, ReportSection};
use app::services::PortfolioService;
use async_trait::async_trait;

use crate::cache::{CacheKey, CacheService, Scope};
use crate::insights::InsightEngine;
use crate::monitor::{timed_query, Metric, Monitor};
use crate::storage::reports::{CorrectionStart, Publication};
use crate::storage::{Store, StoreError};
use generate::GenerationParams;
use regenerate::{regenerate, simulate_report};

/// What a regeneration leaves to the layer that keeps people's edits: the shared documents write the
/// edited texts back over the regenerated ones (`collab::docs::Documents`, wired in `state`). Reports
/// know nothing of editing beyond this.
#[async_trait]
pub trait KeepEdits: Send + Sync {
    /// Puts the edits of `report_id` back after its sections were regenerated.
    async fn after_regeneration(&self, report_id: i64);
    /// Writes the last edits of `report_id` into it once it is published (no edit can follow),
    /// stops taking edits to it here and tells whoever has it open, on every instance, that `by`
    /// published it.
    async fn after_publication(&self, report_id: i64, by: &str);
}

/// What the layer that remembers callers is told when an account's rights change here: a project's
/// creator becomes its member, and the remembered caller must see it at once (`auth::revoke`, wired in
/// `state`).
#[async_trait]
pub trait RightsChanged: Send + Sync {
    /// The account's memberships changed.
    async fn memberships_changed(&self, user_id: i64);
}

/// What reports tell the layers above them (wired in `state`).
pub struct Hooks {
    pub edits: Arc<dyn KeepEdits>,
    pub rights: Arc<dyn RightsChanged>,
}

/// Portfolio and report outlines, read from the store, and regeneration of draft reports; each
/// limited to the projects the caller may reach.
pub struct StorePortfolio {
    store: Store,
    cache: CacheService,
    monitor: Monitor,
    generation: GenerationParams,
    insights: Arc<dyn InsightEngine>,
    /// What keeps people's edits through a regeneration (the shared documents).
    edits: Arc<dyn KeepEdits>,
    /// Who to tell when a creator becomes a member of a new project.
    rights: Arc<dyn RightsChanged>,
    /// Each caller's budget of reruns and regenerations.
    quota: quota::CostlyQuota,
    /// The server's simulations at once.
    slots: Arc<slots::SimulationSlots>,
    /// Progress saves on this instance, one at a time (they are rare, and each would otherwise
    /// retry over the others); saves on other instances meet at the store's version check.
    progress_saves: tokio::sync::Mutex<()>,
}

impl StorePortfolio {
    pub fn new(
        store: Store,
        cache: CacheService,
        monitor: Monitor,
        generation: GenerationParams,
        insights: Arc<dyn InsightEngine>,
        hooks: Hooks,
        costly_per_minute: u32,
    ) -> StorePortfolio {
        let Hooks { edits, rights } = hooks;
        StorePortfolio {
            store,
            cache,
            monitor,
            generation,
            insights,
            edits,
            rights,
            quota: quota::CostlyQuota::new(costly_per_minute),
            slots: Arc::new(slots::SimulationSlots::for_this_machine()),
            progress_saves: tokio::sync::Mutex::new(()),
        }
    }

    /// The cache and the simulation slots, for the costly steps.
    fn shared(&self) -> generate::Shared<'_> {
        generate::Shared {
            cache: &self.cache,
            slots: &self.slots,
        }
    }

    /// Generates every section of a draft report and stores them.
    async fn generate_into(
        &self,
        report_id: i64,
    ) -> Result<generate::Timings, regenerate::RegenerateError> {
        regenerate(
            &self.store,
            &self.monitor,
            report_id,
            self.generation,
            self.insights.as_ref(),
            Some(self.shared()),
        )
        .await
    }

    /// Takes a run from the caller's budget of costly operations, or refuses with when to retry.
    fn spend(&self, who: &Principal) -> Result<(), AppError> {
        self.quota
            .take(who, std::time::Instant::now())
            .map_err(|wait| {
                let per_minute = self.quota.per_minute();
                AppError::TooManyRequests(format!(
                    "Simulation reruns and regenerations are limited to {per_minute} a minute for each person; try again in {} s.",
                    wait.as_secs() + 1
                ))
            })
    }

    /// A report's outline through the cache (a missing report is not cached: it may appear later).
    async fn cached_outline(&self, report_id: i64) -> Result<Option<ReportOutline>, AppError> {
        self.cache
            .get_or_load_if(
                &CacheKey::report_outline(report_id),
                None,
                || async {
                    let read = self.store.report_outline(report_id);
                    timed_query(&self.monitor, "report_outline", read)
                        .await
                        .map_err(AppError::from)
                },
                |outline: &Option<ReportOutline>| outline.is_some(),
            )
            .await
    }

    /// A report's outline, if it exists and the caller reaches its project (`None` otherwise: the
    /// same answer either way).
    async fn reachable_outline(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<Option<ReportOutline>, AppError> {
        Ok(self
            .cached_outline(report_id)
            .await?
            .filter(|outline| who.reaches(outline.project_id)))
    }
}

#[async_trait]
impl PortfolioService for StorePortfolio {
    async fn portfolio(&self, who: &Access) -> Result<Portfolio, AppError> {
        let mut portfolio: Portfolio = self
            .cache
            .get_or_load(&CacheKey::portfolio(), None, || async {
                let read = self.store.portfolio();
                timed_query(&self.monitor, "portfolio", read)
                    .await
                    .map_err(AppError::from)
            })
            .await?;
        portfolio.projects.retain(|p| who.reaches(p.id));
        portfolio.may_create_projects = self.may_create_projects(who).await?;
        Ok(portfolio)
    }

    async fn project(&self, who: &Access, code: &str) -> Result<Option<ProjectOverview>, AppError> {
        self.overview(who, code).await
    }

    async fn report_outline(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<Option<ReportOutline>, AppError> {
        self.reachable_outline(who, report_id).await
    }

    async fn report_changes(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<Option<app::changes::MonthChanges>, AppError> {
        self.changes(who, report_id).await
    }

    async fn publish_report(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<ReportOutline, AppError> {
        let Some(outline) = self.reachable_outline(who, report_id).await? else {
            return Err(Access::report_not_found(report_id));
        };
        if !who.may_edit(outline.project_id) {
            return Err(AppError::Forbidden(
                "Publishing a report needs the editor role.".into(),
            ));
        }
        let by = who.principal().display_name.clone();
        let publish = self.store.publish_report(report_id, &by);
        match timed_query(&self.monitor, "publish_report", publish).await? {
            Publication::Published => {}
            Publication::AlreadyFinal => {
                return Err(AppError::Conflict(
                    "This report is already published: it is a frozen snapshot.".into(),
                ))
            }
            Publication::Missing => return Err(Access::report_not_found(report_id)),
        }
        self.edits.after_publication(report_id, &by).await;
        if outline.corrects.is_some() {
            // The corrected report is superseded now, and the month's current report changed:
            // every report of the project may link or compare differently.
            project_changed(&self.store, &self.cache, outline.project_id).await?;
        } else {
            self.cache.invalidate_report(report_id).await;
            self.cache
                .invalidate(Scope::Key {
                    key: CacheKey::portfolio().render(),
                })
                .await;
        }
        tracing::info!(report = report_id, by = %who.name(), "published report");
        self.reachable_outline(who, report_id)
            .await?
            .ok_or_else(|| Access::report_not_found(report_id))
    }

    async fn correct_report(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<StartedReport, AppError> {
        let Some(outline) = self.reachable_outline(who, report_id).await? else {
            return Err(Access::report_not_found(report_id));
        };
        if !who.may_edit(outline.project_id) {
            return Err(AppError::Forbidden(
                "Correcting a report needs the editor role.".into(),
            ));
        }
        let start = self.store.start_correction(report_id);
        let correction =
            match timed_query(&self.monitor, "start_correction", start).await? {
                CorrectionStart::Started(id) => id,
                CorrectionStart::Drafting(id) => {
                    return Err(AppError::Conflict(format!(
                        "A correction of this report is being drafted already: report {id}."
                    )))
                }
                CorrectionStart::Superseded(id) => {
                    return Err(AppError::Conflict(format!(
                        "This report was corrected already by report {id}: correct that one."
                    )))
                }
                CorrectionStart::NotPublished => return Err(AppError::BadRequest(
                    "This report is a draft: edit it, or regenerate it, instead of correcting it."
                        .into(),
                )),
                CorrectionStart::Missing => return Err(Access::report_not_found(report_id)),
            };
        // The corrected report links to its correction now.
        self.cache.invalidate_report(report_id).await;
        tracing::info!(report = report_id, correction, by = %who.name(), "started a correction");
        Ok(StartedReport {
            report_id: correction,
            period: outline.period,
        })
    }

    async fn regenerate_report(
        &self,
        who: &Access,
        report_id: i64,
    ) -> Result<GenerationTimings, AppError> {
        let Some(outline) = self.reachable_outline(who, report_id).await? else {
            return Err(Access::report_not_found(report_id));
        };
        if !who.may_edit(outline.project_id) {
            return Err(AppError::Forbidden(
                "Regenerating a report needs the editor role.".into(),
            ));
        }
        self.spend(who.principal())?;
        match self.generate_into(report_id).await {
            Ok(timings) => {
                // A report people have edited keeps their narratives, status and justification.
                self.edits.after_regeneration(report_id).await;
                self.cache.invalidate_report(report_id).await;
                self.monitor
                    .record_metric(Metric::ReportGenerationTime, timings.total_ms);
                tracing::info!(report = report_id, by = %who.name(), ms = timings.total_ms, "regenerated report");
                Ok(timings)
            }
            Err(e) => Err(AppError::from(e)),
        }
    }

    async fn report_section(
        &self,
        who: &Access,
        report_id: i64,
        key: &str,
    ) -> Result<Option<ReportSection>, AppError> {
        let Some(outline) = self.reachable_outline(who, report_id).await? else {
            return Ok(None);
        };
        if !outline.sections.iter().any(|s| s.key == key) {
            return Ok(None);
        }
        self.cache
            .get_or_load_if(
                &CacheKey::report_section(report_id, key),
                None,
                || async {
                    let read = self.store.report_section(report_id, key);
                    timed_query(&self.monitor, "report_section", read)
                        .await
                        .map_err(AppError::from)
                },
                |section: &Option<ReportSection>| section.is_some(),
            )
            .await
    }

    async fn rerun_monte_carlo(
        &self,
        who: &Access,
        report_id: i64,
        iterations: u32,
    ) -> Result<MonteCarloRerun, AppError> {
        if self.reachable_outline(who, report_id).await?.is_none() {
            return Err(Access::report_not_found(report_id));
        }
        self.spend(who.principal())?;
        let params = GenerationParams {
            iterations,
            ..self.generation
        };
        let started = std::time::Instant::now();
        let (section, computed) = simulate_report(
            &self.store,
            &self.monitor,
            report_id,
            params,
            Some(self.shared()),
        )
        .await
        .map_err(AppError::from)?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let cached = !computed;
        if cached {
            self.quota.refund(who.principal());
        }
        if computed {
            self.monitor
                .record_metric(Metric::MonteCarloAnalysisTime, section.result.elapsed_ms);
        }
        tracing::info!(report = report_id, by = %who.name(), iterations, ms = elapsed_ms, cached, "Monte Carlo rerun");
        Ok(MonteCarloRerun {
            section,
            elapsed_ms,
            cached,
        })
    }
}

/// Drops what a change of a project's data made stale: its reports' cached copies (outlines show the
/// project's name), its Monte Carlo and insight results, and the portfolio.
pub async fn project_changed(
    store: &Store,
    cache: &CacheService,
    project_id: i64,
) -> Result<(), StoreError> {
    let reports = store.report_ids(project_id).await?;
    cache.invalidate_project(project_id, reports).await;
    cache
        .invalidate(Scope::Key {
            key: CacheKey::portfolio().render(),
        })
        .await;
    Ok(())
}
