//! The dashboard's service ([`MonitorService`], the app's `PerformanceService`): the monitor's
//! figures (already the app's types), the cache's (converted by `cache::stats`), and the admin
//! actions.

use app::account::Principal;
use app::error::AppError;
use app::format::sentence_case;
use app::performance::{PerformanceOverview, WebSocketOverview};
use app::services::PerformanceService;
use async_trait::async_trait;

use super::recommend::recommendations;
use super::{Metric, Monitor};
use crate::cache::{CacheService, CacheType};

/// Timelines shown on the dashboard.
const TIMELINES: [Metric; 4] = [
    Metric::ApiResponseTime,
    Metric::DatabaseQueryTime,
    Metric::ReportGenerationTime,
    Metric::MonteCarloAnalysisTime,
];

/// The live figures of the instance's WebSocket connections (read from the collaboration transport,
/// which itself records into the monitor, so the monitor cannot hold it).
pub type SocketFigures = Box<dyn Fn() -> WebSocketOverview + Send + Sync>;

/// The performance service over the monitor, the cache and the WebSocket transport's figures.
pub struct MonitorService {
    pub monitor: Monitor,
    pub cache: CacheService,
    pub sockets: SocketFigures,
    pub iterations: u32,
    pub started: std::time::Instant,
}

#[async_trait]
impl PerformanceService for MonitorService {
    async fn overview(&self) -> Result<PerformanceOverview, AppError> {
        let cache = self.cache.stats().await;
        let health = self.cache.health_check().await;
        let recs = recommendations(&self.monitor, Some(&cache), self.iterations);
        let timelines = TIMELINES
            .iter()
            .map(|m| (m.name().to_string(), self.monitor.timeline(m.name())))
            .collect();
        Ok(PerformanceOverview {
            monitoring_enabled: self.monitor.is_enabled(),
            window_minutes: self.monitor.window_minutes(),
            uptime_seconds: self.started.elapsed().as_secs(),
            operations: self.monitor.all_stats(),
            thresholds: self.monitor.thresholds(),
            active_alerts: self.monitor.active_alerts(),
            recent_alerts: self.monitor.recent_alerts(20, None),
            recommendations: recs,
            cache: (&cache).into(),
            cache_health: (&health).into(),
            websocket: (self.sockets)(),
            timelines,
        })
    }

    async fn clear_cache(
        &self,
        who: &Principal,
        cache_type: Option<String>,
    ) -> Result<(), AppError> {
        let kind = CacheType::parse_choice(cache_type.as_deref())
            .map_err(|e| AppError::BadRequest(format!("{}.", sentence_case(&e))))?;
        self.cache.clear(kind).await;
        tracing::info!(by = %who.name, cleared = kind.map_or("all", CacheType::as_str), "cleared the cache");
        Ok(())
    }

    async fn set_monitoring(&self, who: &Principal, enabled: bool) -> Result<(), AppError> {
        self.monitor.set_enabled(enabled);
        tracing::info!(by = %who.name, enabled, "monitoring switched from the dashboard");
        Ok(())
    }

    async fn delete_data(&self, who: &Principal, hours: u64) -> Result<(), AppError> {
        self.monitor.delete_older_than(hours);
        tracing::info!(by = %who.name, hours, "deleted monitoring data");
        Ok(())
    }

    fn record_section_load(&self, section_type: &str, ms: f64) {
        self.monitor.record(
            Metric::SectionLoadTime,
            ms,
            &[("section_type", section_type)],
        );
    }

    async fn set_threshold(
        &self,
        who: &Principal,
        metric: String,
        value: f64,
    ) -> Result<(), AppError> {
        self.monitor
            .set_threshold(&metric, value)
            .map_err(|e| AppError::BadRequest(format!("{}.", sentence_case(&e))))?;
        tracing::info!(by = %who.name, metric, value, "threshold changed from the dashboard");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheConfig;
    use crate::monitor::MonitorConfig;

    #[tokio::test(start_paused = true)]
    async fn the_servers_figures_read_as_the_apps_types() {
        let monitor = Monitor::new(MonitorConfig {
            pending_for: std::time::Duration::from_secs(0),
            ..MonitorConfig::default()
        });
        monitor.record(Metric::ApiResponseTime, 2500.0, &[("route", "/")]);
        monitor.record_metric(Metric::MonteCarloAnalysisTime, 14_000.0);
        monitor.evaluate();
        let service = MonitorService {
            monitor,
            cache: CacheService::in_memory(CacheConfig::default()),
            sockets: Box::new(|| WebSocketOverview {
                total_connections: 3,
                ..WebSocketOverview::default()
            }),
            iterations: 10_000,
            started: std::time::Instant::now(),
        };
        let overview = service.overview().await.expect("converts");
        assert_eq!(overview.operations.len(), 2);
        assert_eq!(
            overview.active_alerts[0].state,
            app::performance::AlertState::Firing
        );
        assert_eq!(
            overview.thresholds[4].direction,
            app::performance::Direction::Below
        );
        assert!(!overview.recommendations.is_empty());
        assert_eq!(overview.cache.by_type.len(), 5);
        assert_eq!(overview.cache_health.status, "healthy");
        assert_eq!(overview.websocket.total_connections, 3);
        assert_eq!(overview.timelines[0].1.len(), 1);
    }
}
