//! Thresholds and the alert rule.
//!
//! For a metric where lower is better (durations), the observed value is the window's p95; it is
//! **warning** above the threshold and **critical** above twice the threshold. For a metric where higher
//! is better (`cache_hit_rate`), the observed value is the latest one; it is warning below the threshold
//! and critical below half of it. A breach must hold for the pending period (default 60 s) before the
//! alert fires, and a firing alert resolves only once the value is 10% inside its limit (below 0.9× the
//! limit, or above 1.1× it), so a value hovering at the limit does not flap. There is at most one active
//! alert per series and severity; resolved alerts are kept with their duration.

use std::collections::{HashMap, VecDeque};

pub use app::performance::{Alert, AlertState, Direction, Metric, Severity, Threshold};
use tokio::time::{Duration, Instant};

/// The metrics with a threshold, in the order the API lists them.
pub const WATCHED: [Metric; 7] = [
    Metric::ReportGenerationTime,
    Metric::AiInsightGenerationTime,
    Metric::MonteCarloAnalysisTime,
    Metric::WebsocketMessageLatency,
    Metric::CacheHitRate,
    Metric::DatabaseQueryTime,
    Metric::ApiResponseTime,
];

/// The seed's warning limit of a watched metric (critical is twice as far); `None` for a metric
/// without a threshold.
pub const fn default_limit(metric: Metric) -> Option<f64> {
    match metric {
        Metric::ReportGenerationTime => Some(30_000.0),
        Metric::AiInsightGenerationTime => Some(10_000.0),
        Metric::MonteCarloAnalysisTime => Some(15_000.0),
        Metric::WebsocketMessageLatency => Some(100.0),
        Metric::CacheHitRate => Some(70.0),
        Metric::DatabaseQueryTime => Some(1_000.0),
        Metric::ApiResponseTime => Some(2_000.0),
        Metric::SectionLoadTime => None,
    }
}

/// A threshold of `metric` at `value` (in the metric's unit, on its bad side).
pub fn threshold(metric: Metric, value: f64) -> Threshold {
    Threshold {
        metric: metric.name().into(),
        value,
        unit: metric.unit().into(),
        direction: metric.direction(),
    }
}

/// The seed's thresholds.
pub fn defaults() -> Vec<Threshold> {
    WATCHED
        .into_iter()
        .filter_map(|m| default_limit(m).map(|v| threshold(m, v)))
        .collect()
}

/// One series' value against its threshold, as the monitor observed it.
#[derive(Debug, Clone)]
pub struct Observation {
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub threshold: Threshold,
}

/// What changed in one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertEvent {
    Fired(Alert),
    Resolved(Alert),
}

type AlertKey = (String, Vec<(String, String)>, Severity);

/// Pending and active alerts, and the history.
#[derive(Debug)]
pub struct AlertEngine {
    pending_for: Duration,
    pending: HashMap<AlertKey, Instant>,
    active: HashMap<AlertKey, (Alert, Instant)>,
    history: VecDeque<Alert>,
    next_id: u64,
}

/// Alerts kept in the history.
const HISTORY: usize = 500;

fn limit_of(t: &Threshold, severity: Severity) -> f64 {
    match (t.direction, severity) {
        (_, Severity::Warning) => t.value,
        (Direction::Above, Severity::Critical) => t.value * 2.0,
        (Direction::Below, Severity::Critical) => t.value / 2.0,
    }
}

fn breached(t: &Threshold, limit: f64, value: f64) -> bool {
    match t.direction {
        Direction::Above => value > limit,
        Direction::Below => value < limit,
    }
}

fn cleared(t: &Threshold, limit: f64, value: f64) -> bool {
    match t.direction {
        Direction::Above => value < limit * 0.9,
        Direction::Below => value > limit * 1.1,
    }
}

fn label_text(labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(" ({})", inner.join(", "))
    }
}

impl AlertEngine {
    pub fn new(pending_for: Duration) -> AlertEngine {
        AlertEngine {
            pending_for,
            pending: HashMap::new(),
            active: HashMap::new(),
            history: VecDeque::new(),
            next_id: 1,
        }
    }

    /// Applies the rule to the current observations; series without one resolve their alerts.
    pub fn evaluate(&mut self, observations: &[Observation], now: Instant) -> Vec<AlertEvent> {
        let wall = chrono::Utc::now().to_rfc3339();
        let mut events = Vec::new();
        let mut seen: Vec<AlertKey> = Vec::new();
        for obs in observations {
            for severity in [Severity::Warning, Severity::Critical] {
                let key: AlertKey = (obs.metric.clone(), obs.labels.clone(), severity);
                seen.push(key.clone());
                let limit = limit_of(&obs.threshold, severity);
                if self.active.contains_key(&key) {
                    if cleared(&obs.threshold, limit, obs.value) {
                        if let Some(done) = self.resolve(&key, now, &wall) {
                            events.push(AlertEvent::Resolved(done));
                        }
                    }
                    continue;
                }
                if !breached(&obs.threshold, limit, obs.value) {
                    self.pending.remove(&key);
                    continue;
                }
                let since = *self.pending.entry(key.clone()).or_insert(now);
                if now.duration_since(since) < self.pending_for {
                    continue;
                }
                self.pending.remove(&key);
                let alert = Alert {
                    id: self.next_id,
                    metric: obs.metric.clone(),
                    labels: obs.labels.clone(),
                    severity,
                    state: AlertState::Firing,
                    message: format!(
                        "{}{} is {} {}, {} the {} limit of {} {}",
                        obs.metric,
                        label_text(&obs.labels),
                        match obs.threshold.direction {
                            Direction::Above => "at p95",
                            Direction::Below => "at",
                        },
                        round(obs.value),
                        match obs.threshold.direction {
                            Direction::Above => "above",
                            Direction::Below => "below",
                        },
                        severity.as_str(),
                        round(limit),
                        obs.threshold.unit
                    ),
                    value: round(obs.value),
                    limit,
                    unit: obs.threshold.unit.clone(),
                    fired_at: wall.clone(),
                    resolved_at: None,
                    duration_seconds: None,
                };
                self.next_id += 1;
                self.active.insert(key, (alert.clone(), now));
                self.push_history(alert.clone());
                events.push(AlertEvent::Fired(alert));
            }
        }
        let gone: Vec<AlertKey> = self
            .active
            .keys()
            .filter(|k| !seen.contains(k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(done) = self.resolve(&key, now, &wall) {
                events.push(AlertEvent::Resolved(done));
            }
        }
        self.pending.retain(|k, _| seen.contains(k));
        events
    }

    fn resolve(&mut self, key: &AlertKey, now: Instant, wall: &str) -> Option<Alert> {
        let (mut alert, since) = self.active.remove(key)?;
        alert.state = AlertState::Resolved;
        alert.resolved_at = Some(wall.to_string());
        alert.duration_seconds = Some(round(now.duration_since(since).as_secs_f64()));
        if let Some(old) = self.history.iter_mut().find(|a| a.id == alert.id) {
            *old = alert.clone();
        }
        Some(alert)
    }

    fn push_history(&mut self, alert: Alert) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(alert);
    }

    /// Firing alerts, most severe first.
    pub fn active(&self) -> Vec<Alert> {
        let mut list: Vec<Alert> = self.active.values().map(|(a, _)| a.clone()).collect();
        list.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
        list
    }

    /// The most recent alerts (firing or resolved), newest first.
    pub fn recent(&self, limit: usize, severity: Option<Severity>) -> Vec<Alert> {
        self.history
            .iter()
            .rev()
            .filter(|a| severity.is_none_or(|s| a.severity == s))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Forgets resolved alerts that fired before `cutoff` (RFC 3339 compares as text).
    pub fn forget_before(&mut self, cutoff: &str) {
        self.history
            .retain(|a| a.state == AlertState::Firing || a.fired_at.as_str() >= cutoff);
    }
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(metric: &str, value: f64) -> Observation {
        let threshold = defaults()
            .into_iter()
            .find(|t| t.metric == metric)
            .expect("known metric");
        Observation {
            metric: metric.into(),
            labels: vec![],
            value,
            threshold,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn alerts_wait_fire_dedupe_and_resolve_with_hysteresis() {
        let mut engine = AlertEngine::new(Duration::from_secs(60));
        let start = Instant::now();
        let slow = [obs("api_response_time", 2500.0)];
        assert!(engine.evaluate(&slow, start).is_empty(), "pending first");
        assert!(engine
            .evaluate(&slow, start + Duration::from_secs(30))
            .is_empty());
        let fired = engine.evaluate(&slow, start + Duration::from_secs(61));
        assert!(matches!(&fired[..], [AlertEvent::Fired(a)] if a.severity == Severity::Warning));
        assert!(
            engine
                .evaluate(&slow, start + Duration::from_secs(90))
                .is_empty(),
            "one active alert per series and severity"
        );
        assert_eq!(engine.active().len(), 1);
        // At the limit but not 10% under it: still firing (no flapping).
        let hovering = [obs("api_response_time", 1900.0)];
        assert!(engine
            .evaluate(&hovering, start + Duration::from_secs(100))
            .is_empty());
        let ok = [obs("api_response_time", 1500.0)];
        let resolved = engine.evaluate(&ok, start + Duration::from_secs(161));
        match &resolved[..] {
            [AlertEvent::Resolved(a)] => {
                assert_eq!(a.state, AlertState::Resolved);
                assert_eq!(a.duration_seconds, Some(100.0));
            }
            other => panic!("{other:?}"),
        }
        assert!(engine.active().is_empty());
        assert_eq!(engine.recent(10, None)[0].state, AlertState::Resolved);
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_breach_never_fires_and_critical_needs_twice_the_threshold() {
        let mut engine = AlertEngine::new(Duration::from_secs(60));
        let t0 = Instant::now();
        engine.evaluate(&[obs("database_query_time", 5000.0)], t0);
        engine.evaluate(
            &[obs("database_query_time", 100.0)],
            t0 + Duration::from_secs(30),
        );
        assert!(engine
            .evaluate(
                &[obs("database_query_time", 5000.0)],
                t0 + Duration::from_secs(70)
            )
            .is_empty());
        let events = engine.evaluate(
            &[obs("database_query_time", 5000.0)],
            t0 + Duration::from_secs(131),
        );
        let severities: Vec<Severity> = events
            .iter()
            .filter_map(|e| match e {
                AlertEvent::Fired(a) => Some(a.severity),
                AlertEvent::Resolved(_) => None,
            })
            .collect();
        assert_eq!(severities, [Severity::Warning, Severity::Critical]);
        assert_eq!(engine.active()[0].severity, Severity::Critical);
        assert_eq!(engine.recent(10, Some(Severity::Critical)).len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn low_hit_rates_alert_and_silent_series_resolve() {
        let mut engine = AlertEngine::new(Duration::from_secs(0));
        let t0 = Instant::now();
        let fired = engine.evaluate(&[obs("cache_hit_rate", 50.0)], t0);
        assert_eq!(fired.len(), 1, "warning below 70%, not critical above 35%");
        assert!(
            engine
                .evaluate(&[obs("cache_hit_rate", 72.0)], t0 + Duration::from_secs(5))
                .is_empty(),
            "72% is not 10% above the limit yet"
        );
        let resolved = engine.evaluate(&[], t0 + Duration::from_secs(10));
        assert!(matches!(&resolved[..], [AlertEvent::Resolved(_)]));
    }
}
