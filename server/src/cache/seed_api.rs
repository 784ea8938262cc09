//! The seed's per-type operations of `PMRCacheService` (`cache_report`, `get_cached_report`,
//! `invalidate_project`, …), as thin wrappers over [`CacheService::put`], [`CacheService::get`] and
//! [`CacheService::invalidate`]. The application itself reads through
//! [`CacheService::get_or_load`] and invalidates by [`Scope`]; the writes run here are
//! `invalidate_report` (an edited document) and `invalidate_project` (a regenerated report). The
//! rest keep the seed's API whole, and `tests/integration/cache.rs` checks each against the keys it names.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{CacheKey, CacheService, Scope};

impl CacheService {
    /// `cache_report`.
    pub async fn cache_report<T: Serialize>(&self, report: i64, value: &T, ttl: Option<Duration>) {
        self.put(&CacheKey::report_document(report), value, ttl)
            .await;
    }

    /// `get_cached_report`.
    pub async fn get_cached_report<T: DeserializeOwned>(&self, report: i64) -> Option<T> {
        self.get(&CacheKey::report_document(report)).await
    }

    /// `cache_insights`: an insight set, under the digest of its inputs.
    pub async fn cache_insights<T: Serialize>(&self, project: i64, inputs: &str, value: &T) {
        self.put(&CacheKey::insights(project, inputs), value, None)
            .await;
    }

    /// `get_cached_insights`.
    pub async fn get_cached_insights<T: DeserializeOwned>(
        &self,
        project: i64,
        inputs: &str,
    ) -> Option<T> {
        self.get(&CacheKey::insights(project, inputs)).await
    }

    /// `cache_monte_carlo`: a simulation result, under the digest of its inputs.
    pub async fn cache_monte_carlo<T: Serialize>(&self, project: i64, inputs: &str, value: &T) {
        self.put(&CacheKey::monte_carlo(project, inputs), value, None)
            .await;
    }

    /// `get_cached_monte_carlo`.
    pub async fn get_cached_monte_carlo<T: DeserializeOwned>(
        &self,
        project: i64,
        inputs: &str,
    ) -> Option<T> {
        self.get(&CacheKey::monte_carlo(project, inputs)).await
    }

    /// `cache_metrics`: the portfolio's current figures.
    pub async fn cache_metrics<T: Serialize>(&self, value: &T) {
        self.put(&CacheKey::portfolio(), value, None).await;
    }

    /// `get_cached_metrics`.
    pub async fn get_cached_metrics<T: DeserializeOwned>(&self) -> Option<T> {
        self.get(&CacheKey::portfolio()).await
    }

    /// `cache_template`.
    pub async fn cache_template<T: Serialize>(&self, template: i64, value: &T) {
        self.put(&CacheKey::template(template), value, None).await;
    }

    /// `get_cached_template`.
    pub async fn get_cached_template<T: DeserializeOwned>(&self, template: i64) -> Option<T> {
        self.get(&CacheKey::template(template)).await
    }

    /// `invalidate_report`: everything cached for one report.
    pub async fn invalidate_report(&self, report: i64) {
        self.invalidate(Scope::Report { report }).await;
    }

    /// `invalidate_project`: everything of one project and its reports.
    pub async fn invalidate_project(&self, project: i64, reports: Vec<i64>) {
        self.invalidate(Scope::Project { project, reports }).await;
    }
}
