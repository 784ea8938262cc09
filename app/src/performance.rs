//! What the performance dashboard shows, as it crosses the wire: the monitor's statistics, alerts and
//! recommendations, the cache's and the WebSocket transport's figures. The server's monitor and cache
//! produce these shapes (its own types serialize to them; a test keeps them in step).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// A metric's threshold; `direction` is `above` (larger is worse) or `below`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub metric: String,
    pub value: f64,
    pub unit: String,
    pub direction: String,
}

/// An alert, firing or resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: u64,
    pub metric: String,
    pub labels: Vec<(String, String)>,
    /// `warning` or `critical`.
    pub severity: String,
    /// `firing` or `resolved`.
    pub state: String,
    pub message: String,
    pub value: f64,
    pub limit: f64,
    pub unit: String,
    pub fired_at: String,
    pub resolved_at: Option<String>,
    pub duration_seconds: Option<f64>,
}

/// A suggestion with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub priority: String,
    pub area: String,
    pub title: String,
    pub evidence: String,
    pub suggestion: String,
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
pub const KEY_METRICS: [(&str, &str); 7] = [
    ("api_response_time", "API response (p95)"),
    ("database_query_time", "Store queries (p95)"),
    ("cache_hit_rate", "Cache hit rate"),
    ("report_generation_time", "Report generation (p95)"),
    ("monte_carlo_analysis_time", "Monte Carlo (p95)"),
    ("ai_insight_generation_time", "AI insights (p95)"),
    ("websocket_message_latency", "WebSocket latency (p95)"),
];

/// The state of a key metric against its threshold: `ok`, `warning`, `critical` or `none` (no
/// data in the window).
pub fn tile_state(value: Option<f64>, threshold: &Threshold) -> &'static str {
    let Some(v) = value else {
        return "none";
    };
    let above = threshold.direction == "above";
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
        let t = |value, direction: &str| Threshold {
            metric: "m".into(),
            value,
            unit: "ms".into(),
            direction: direction.into(),
        };
        assert_eq!(tile_state(None, &t(100.0, "above")), "none");
        assert_eq!(tile_state(Some(50.0), &t(100.0, "above")), "ok");
        assert_eq!(tile_state(Some(150.0), &t(100.0, "above")), "warning");
        assert_eq!(tile_state(Some(250.0), &t(100.0, "above")), "critical");
        assert_eq!(tile_state(Some(60.0), &t(70.0, "below")), "warning");
        assert_eq!(tile_state(Some(30.0), &t(70.0, "below")), "critical");
        assert_eq!(tile_state(Some(90.0), &t(70.0, "below")), "ok");
    }
}
