//! What the performance dashboard shows, as it crosses the wire: the metrics the server measures
//! ([`Metric`], the one list of their names), the monitor's statistics, thresholds, alerts and
//! recommendations (the server's monitor produces these types directly), the cache's and the
//! WebSocket transport's figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A metric the server measures; its name is what the seed calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    ApiResponseTime,
    DatabaseQueryTime,
    CacheHitRate,
    ReportGenerationTime,
    MonteCarloAnalysisTime,
    AiInsightGenerationTime,
    WebsocketMessageLatency,
    SectionLoadTime,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 8] = [
        Metric::ApiResponseTime,
        Metric::DatabaseQueryTime,
        Metric::CacheHitRate,
        Metric::ReportGenerationTime,
        Metric::MonteCarloAnalysisTime,
        Metric::AiInsightGenerationTime,
        Metric::WebsocketMessageLatency,
        Metric::SectionLoadTime,
    ];

    /// The metric's name (`api_response_time`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::ApiResponseTime => "api_response_time",
            Metric::DatabaseQueryTime => "database_query_time",
            Metric::CacheHitRate => "cache_hit_rate",
            Metric::ReportGenerationTime => "report_generation_time",
            Metric::MonteCarloAnalysisTime => "monte_carlo_analysis_time",
            Metric::AiInsightGenerationTime => "ai_insight_generation_time",
            Metric::WebsocketMessageLatency => "websocket_message_latency",
            Metric::SectionLoadTime => "section_load_time",
        }
    }

    /// The unit of its values: milliseconds, or percent for the hit rate.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::CacheHitRate => "%",
            _ => "ms",
        }
    }

    /// Which side of a threshold is bad for this metric.
    pub fn direction(self) -> Direction {
        match self {
            Metric::CacheHitRate => Direction::Below,
            _ => Direction::Above,
        }
    }

    /// The metric of a name.
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which side of a threshold is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger is worse (durations, latencies).
    Above,
    /// Smaller is worse (hit rates).
    Below,
}

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// Whether an alert is still on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// Count, extremes, mean and percentiles of a set of values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub avg: f64,
    pub median: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One series' statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationStats {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub unit: String,
    pub window: Summary,
    pub since_start: Summary,
    pub last: f64,
}

/// A metric's threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub metric: String,
    pub value: f64,
    pub unit: String,
    pub direction: Direction,
}

/// An alert, firing or resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: u64,
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub severity: Severity,
    pub state: AlertState,
    pub message: String,
    /// The observed value when it fired (p95, or the latest value for hit rates).
    pub value: f64,
    /// The limit it crossed (the threshold, or its double/half for critical).
    pub limit: f64,
    pub unit: String,
    /// RFC 3339.
    pub fired_at: String,
    pub resolved_at: Option<String>,
    pub duration_seconds: Option<f64>,
}

/// A suggestion with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// `high`, `medium` or `low`.
    pub priority: String,
    /// What it is about: `cache`, `monte_carlo`, `route`, `store`, `websocket`, `generation`.
    pub area: String,
    pub title: String,
    /// The figures behind it.
    pub evidence: String,
    /// What to do.
    pub suggestion: String,
    /// Estimated impact used for ordering: milliseconds (or misses) per window.
    pub impact: f64,
}

/// One cache type's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CacheTypeStats {
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub loads: u64,
    pub oversized: u64,
    pub ttl_seconds: u64,
}

/// The cache's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheHealth {
    pub status: String,
    pub redis: String,
    pub latency_ms: Option<f64>,
    pub last_error: Option<String>,
}

/// The cache's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheOverview {
    pub overall: CacheTypeStats,
    pub by_type: BTreeMap<String, CacheTypeStats>,
    pub local_entries: u64,
    pub local_bytes: u64,
    pub local_capacity_bytes: u64,
    pub evictions: u64,
    pub redis_enabled: bool,
    pub redis_errors: u64,
    pub redis_used_memory_bytes: Option<u64>,
    pub redis_keys: Option<u64>,
}

/// The collaboration transport's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebSocketOverview {
    pub total_connections: u64,
    pub total_sessions: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub batches_sent: u64,
    pub average_batch_size: f64,
    pub redis_enabled: bool,
}

/// One minute of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    pub minutes_ago: u64,
    pub count: u64,
    pub median: f64,
    pub p95: f64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceOverview {
    pub monitoring_enabled: bool,
    pub window_minutes: u64,
    pub uptime_seconds: u64,
    pub operations: Vec<OperationStats>,
    pub thresholds: Vec<Threshold>,
    pub active_alerts: Vec<Alert>,
    pub recent_alerts: Vec<Alert>,
    pub recommendations: Vec<Recommendation>,
    pub cache: CacheOverview,
    pub cache_health: CacheHealth,
    pub websocket: WebSocketOverview,
    /// Per-minute timelines of the timed operations, by metric name.
    pub timelines: Vec<(String, Vec<TimelinePoint>)>,
}

/// The seed's key metrics, in the order the dashboard shows them, with a reader's name.
pub const KEY_METRICS: [(Metric, &str); 7] = [
    (Metric::ApiResponseTime, "API response (p95)"),
    (Metric::DatabaseQueryTime, "Store queries (p95)"),
    (Metric::CacheHitRate, "Cache hit rate (last 10 s)"),
    (Metric::ReportGenerationTime, "Report generation (p95)"),
    (Metric::MonteCarloAnalysisTime, "Monte Carlo (p95)"),
    (Metric::AiInsightGenerationTime, "AI insights (p95)"),
    (Metric::WebsocketMessageLatency, "WebSocket latency (p95)"),
];

/// The state of a key metric against its threshold: `ok`, `warning`, `critical` or `none` (no
/// data in the window).
pub fn tile_state(value: Option<f64>, threshold: &Threshold) -> &'static str {
    let Some(v) = value else {
        return "none";
    };
    let above = threshold.direction == Direction::Above;
    let (warn, crit) = if above {
        (v > threshold.value, v > threshold.value * 2.0)
    } else {
        (v < threshold.value, v < threshold.value / 2.0)
    };
    match (warn, crit) {
        (_, true) => "critical",
        (true, false) => "warning",
        _ => "ok",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_follow_the_alert_rule() {
        use Direction::{Above, Below};
        let t = |value, direction| Threshold {
            metric: "m".into(),
            value,
            unit: "ms".into(),
            direction,
        };
        assert_eq!(tile_state(None, &t(100.0, Above)), "none");
        assert_eq!(tile_state(Some(50.0), &t(100.0, Above)), "ok");
        assert_eq!(tile_state(Some(150.0), &t(100.0, Above)), "warning");
        assert_eq!(tile_state(Some(250.0), &t(100.0, Above)), "critical");
        assert_eq!(tile_state(Some(60.0), &t(70.0, Below)), "warning");
        assert_eq!(tile_state(Some(30.0), &t(70.0, Below)), "critical");
        assert_eq!(tile_state(Some(90.0), &t(70.0, Below)), "ok");
    }

    #[test]
    fn metric_names_read_back() {
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.name()), Some(m));
            assert_eq!(
                serde_json::to_string(&m).expect("json"),
                format!("\"{}\"", m.name())
            );
        }
        assert_eq!(Metric::parse("made_up"), None);
    }
}
