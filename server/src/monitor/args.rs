//! The monitor's settings as flags and environment variables; the defaults are
//! [`MonitorConfig`]'s and the seed's thresholds ([`alerts::default_limit`]). Monitoring is switched
//! by the seed's `PERFORMANCE_MONITORING_ENABLED` or its older name `PMR_MONITOR_ENABLED`.

use std::time::Duration;

use app::performance::Metric;
use clap::{ArgAction, Args};

use super::alerts::{self, default_limit};
use super::MonitorConfig;

/// A watched metric's default limit, for the flags below.
const fn limit(metric: Metric) -> f64 {
    match default_limit(metric) {
        Some(v) => v,
        None => f64::NAN,
    }
}

/// `PERFORMANCE_MONITORING_ENABLED`, `PMR_MONITOR_*`, `PMR_ALERT_PENDING_SECS` and `PMR_THRESHOLD_*`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Performance monitor")]
pub struct MonitorArgs {
    /// Record performance metrics from start (they can be switched at runtime by an admin); the
    /// seed's name. Default: true.
    #[arg(long, env = "PERFORMANCE_MONITORING_ENABLED", action = ArgAction::Set)]
    pub performance_monitoring_enabled: Option<bool>,

    /// The older name of `PERFORMANCE_MONITORING_ENABLED`, still read; both set must agree.
    #[arg(long, env = "PMR_MONITOR_ENABLED", action = ArgAction::Set)]
    pub monitor_enabled: Option<bool>,

    /// Length of the monitor's sliding window, in minutes (1 to 1,440).
    #[arg(long, env = "PMR_MONITOR_WINDOW_MINUTES", default_value_t = MonitorConfig::WINDOW.as_secs() / 60,
        value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub monitor_window_minutes: u64,

    /// Seconds a threshold must stay breached before its alert fires (0 to 3,600).
    #[arg(long, env = "PMR_ALERT_PENDING_SECS", default_value_t = MonitorConfig::PENDING_FOR.as_secs(),
        value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub alert_pending_secs: u64,

    /// Threshold of `report_generation_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_REPORT_GENERATION_MS",
        default_value_t = limit(Metric::ReportGenerationTime))]
    pub threshold_report_generation_ms: f64,

    /// Threshold of `ai_insight_generation_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_AI_INSIGHT_MS",
        default_value_t = limit(Metric::AiInsightGenerationTime))]
    pub threshold_ai_insight_ms: f64,

    /// Threshold of `monte_carlo_analysis_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_MONTE_CARLO_MS",
        default_value_t = limit(Metric::MonteCarloAnalysisTime))]
    pub threshold_monte_carlo_ms: f64,

    /// Threshold of `websocket_message_latency`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_WEBSOCKET_LATENCY_MS",
        default_value_t = limit(Metric::WebsocketMessageLatency))]
    pub threshold_websocket_latency_ms: f64,

    /// Lowest acceptable `cache_hit_rate`, in percent.
    #[arg(long, env = "PMR_THRESHOLD_CACHE_HIT_RATE", default_value_t = limit(Metric::CacheHitRate))]
    pub threshold_cache_hit_rate: f64,

    /// Threshold of `database_query_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_DATABASE_QUERY_MS",
        default_value_t = limit(Metric::DatabaseQueryTime))]
    pub threshold_database_query_ms: f64,

    /// Threshold of `api_response_time`, in ms.
    #[arg(long, env = "PMR_THRESHOLD_API_RESPONSE_MS", default_value_t = limit(Metric::ApiResponseTime))]
    pub threshold_api_response_ms: f64,
}

impl MonitorArgs {
    /// The configured limit of a watched metric, with the variable that sets it.
    pub fn limit(&self, metric: Metric) -> Option<(f64, &'static str)> {
        Some(match metric {
            Metric::ReportGenerationTime => (
                self.threshold_report_generation_ms,
                "PMR_THRESHOLD_REPORT_GENERATION_MS",
            ),
            Metric::AiInsightGenerationTime => {
                (self.threshold_ai_insight_ms, "PMR_THRESHOLD_AI_INSIGHT_MS")
            }
            Metric::MonteCarloAnalysisTime => (
                self.threshold_monte_carlo_ms,
                "PMR_THRESHOLD_MONTE_CARLO_MS",
            ),
            Metric::WebsocketMessageLatency => (
                self.threshold_websocket_latency_ms,
                "PMR_THRESHOLD_WEBSOCKET_LATENCY_MS",
            ),
            Metric::CacheHitRate => (
                self.threshold_cache_hit_rate,
                "PMR_THRESHOLD_CACHE_HIT_RATE",
            ),
            Metric::DatabaseQueryTime => (
                self.threshold_database_query_ms,
                "PMR_THRESHOLD_DATABASE_QUERY_MS",
            ),
            Metric::ApiResponseTime => (
                self.threshold_api_response_ms,
                "PMR_THRESHOLD_API_RESPONSE_MS",
            ),
            Metric::SectionLoadTime => return None,
        })
    }

    /// The monitor's settings.
    pub fn config(&self) -> MonitorConfig {
        MonitorConfig {
            enabled: self
                .performance_monitoring_enabled
                .or(self.monitor_enabled)
                .unwrap_or(MonitorConfig::ENABLED),
            window: Duration::from_secs(self.monitor_window_minutes * 60),
            pending_for: Duration::from_secs(self.alert_pending_secs),
            thresholds: alerts::WATCHED
                .into_iter()
                .filter_map(|m| self.limit(m).map(|(v, _)| alerts::threshold(m, v)))
                .collect(),
        }
    }

    /// Checks what clap cannot: the two names of the switch agree, every limit is a positive number,
    /// and a hit rate at most 100 %.
    pub fn validate(&self) -> Result<(), String> {
        if let (Some(seed), Some(old)) = (self.performance_monitoring_enabled, self.monitor_enabled)
        {
            if seed != old {
                return Err(format!(
                    "PERFORMANCE_MONITORING_ENABLED={seed} and its older name PMR_MONITOR_ENABLED={old} \
                     disagree: set one of them"
                ));
            }
        }
        for metric in alerts::WATCHED {
            let Some((v, name)) = self.limit(metric) else {
                continue;
            };
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, not {v}"));
            }
        }
        if self.threshold_cache_hit_rate > 100.0 {
            return Err("PMR_THRESHOLD_CACHE_HIT_RATE is a percentage: at most 100".into());
        }
        Ok(())
    }
}
