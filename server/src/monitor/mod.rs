//! The performance monitor (the seed's `PMRPerformanceMonitor`).
//!
//! - Timings and gauges are recorded into series ([`series`]): HDR histograms per one-minute slot for
//!   the sliding window (`PMR_MONITOR_WINDOW_MINUTES`, 15 by default) and one since start, so
//!   percentiles need no sorting and memory is fixed whatever the load. [`Monitor::time`] wraps a
//!   future; the HTTP layer ([`layer`]) records `api_response_time` per matched route and status.
//! - The latest raw metrics (name, value, unit, time, labels) stay in a ring buffer of 1,000.
//! - Thresholds (the seed's, overridable by env and at runtime) feed the alert rule of [`alerts`],
//!   evaluated every 5 seconds; alerts are logged at WARNING and handed to registered callbacks.
//! - Recommendations ([`recommend`]) turn the figures into suggestions with their evidence.
//! - [`prometheus`] renders everything in the Prometheus text format for `GET /metrics`.
//! - Disabled, recording is one relaxed atomic load.

pub mod alerts;
pub mod args;
pub mod layer;
pub mod prometheus;
pub mod recommend;
pub mod series;
pub mod service;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tokio::time::{Duration, Instant};

use alerts::{AlertEngine, AlertEvent, Observation};
pub use app::performance::{
    Alert, AlertState, Direction, Metric, OperationStats, Severity, Threshold, TimelinePoint,
};
use series::{lock, summarize, Series};

/// Raw metrics kept for `GET /metrics?limit=`.
const RECENT: usize = 1000;
/// Most series the monitor keeps (each is a set of per-minute histograms, kept for the life of the
/// process). Every label comes from a closed set, so the product makes a few hundred; the cap is
/// what stands between a bug or a new label and unbounded memory. A value for a series past it is
/// dropped and counted ([`Monitor::dropped_values`]).
pub const MAX_SERIES: usize = 2_000;

/// One recorded value.
#[derive(Debug, Clone, Serialize)]
pub struct RawMetric {
    pub name: Arc<str>,
    pub value: f64,
    pub unit: Arc<str>,
    /// RFC 3339 (kept as Unix milliseconds until it is read: formatting costs more than recording).
    #[serde(serialize_with = "rfc3339_millis")]
    pub timestamp: i64,
    pub labels: Arc<[(String, String)]>,
}

fn rfc3339_millis<S: serde::Serializer>(millis: &i64, s: S) -> Result<S::Ok, S::Error> {
    let text = chrono::DateTime::from_timestamp_millis(*millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    s.serialize_str(&text)
}

/// Unix milliseconds now.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

type Callback = Arc<dyn Fn(&Alert) + Send + Sync>;

struct Inner {
    enabled: AtomicBool,
    /// The std clock (not tokio's): recording must stay cheap even where tokio's clock is mockable.
    started: std::time::Instant,
    /// Unix milliseconds at `started`.
    started_ms: i64,
    window_minutes: u64,
    /// Series by name (foldhash: the lookup is on every record).
    series: RwLock<HashMap<Box<str>, Vec<Arc<Series>>, foldhash::fast::RandomState>>,
    /// Series there are; at [`MAX_SERIES`] a value for a new one is dropped and counted.
    series_count: std::sync::atomic::AtomicUsize,
    dropped: std::sync::atomic::AtomicU64,
    /// The latest values, with their series (a raw metric is built when read).
    recent: Mutex<VecDeque<(Arc<Series>, f64, i64)>>,
    thresholds: RwLock<Vec<Threshold>>,
    alerts: Mutex<AlertEngine>,
    callbacks: RwLock<Vec<Callback>>,
}

/// The monitor; cheap to clone.
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

/// Settings of the monitor; from the configuration.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    pub enabled: bool,
    pub window: Duration,
    /// How long a breach lasts before its alert fires.
    pub pending_for: Duration,
    pub thresholds: Vec<Threshold>,
}

impl MonitorConfig {
    /// Recording is on from start (`PMR_MONITOR_ENABLED`).
    pub const ENABLED: bool = true;
    /// The sliding window's length (`PMR_MONITOR_WINDOW_MINUTES`).
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// How long a breach lasts before its alert fires (`PMR_ALERT_PENDING_SECS`).
    pub const PENDING_FOR: Duration = Duration::from_secs(60);
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            enabled: MonitorConfig::ENABLED,
            window: MonitorConfig::WINDOW,
            pending_for: MonitorConfig::PENDING_FOR,
            thresholds: alerts::defaults(),
        }
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Monitor {
    pub fn new(config: MonitorConfig) -> Monitor {
        Monitor {
            inner: Arc::new(Inner {
                enabled: AtomicBool::new(config.enabled),
                started: std::time::Instant::now(),
                started_ms: now_millis(),
                window_minutes: (config.window.as_secs() / 60).max(1),
                series: RwLock::new(HashMap::default()),
                series_count: std::sync::atomic::AtomicUsize::new(0),
                dropped: std::sync::atomic::AtomicU64::new(0),
                recent: Mutex::new(VecDeque::with_capacity(RECENT)),
                thresholds: RwLock::new(config.thresholds),
                alerts: Mutex::new(AlertEngine::new(config.pending_for)),
                callbacks: RwLock::new(Vec::new()),
            }),
        }
    }

    /// Evaluates the alert rule every `every` until the monitor is dropped.
    pub fn spawn_evaluator(&self, every: Duration) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                Monitor { inner }.evaluate();
            }
        });
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.enabled.load(Ordering::Relaxed)
    }

    /// Turns recording on or off at runtime.
    pub fn set_enabled(&self, on: bool) {
        self.inner.enabled.store(on, Ordering::Relaxed);
        tracing::info!(enabled = on, "performance monitoring switched");
    }

    /// The window's length in minutes.
    pub fn window_minutes(&self) -> u64 {
        self.inner.window_minutes
    }

    fn minute(&self) -> u64 {
        self.inner.started.elapsed().as_secs() / 60
    }

    /// Records a value without labels (the seed's `record_metric`), in the metric's unit.
    pub fn record_metric(&self, metric: Metric, value: f64) {
        self.record(metric, value, &[]);
    }

    /// Records a value of a labelled series, in the metric's unit.
    pub fn record(&self, metric: Metric, value: f64, labels: &[(&str, &str)]) {
        if !self.is_enabled() {
            return;
        }
        let Some(series) = self.series_for(metric.name(), metric.unit(), labels) else {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        // One clock read gives both the window's minute and the timestamp.
        let elapsed = self.inner.started.elapsed();
        series.record(value, elapsed.as_secs() / 60, self.inner.window_minutes);
        let at = self.inner.started_ms + i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX / 2);
        let mut recent = lock(&self.inner.recent);
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back((series, value, at));
    }

    /// The series of `name` and `labels`, made when it is new and there is room for it.
    fn series_for(&self, name: &str, unit: &str, labels: &[(&str, &str)]) -> Option<Arc<Series>> {
        let same = |s: &Arc<Series>| {
            s.labels.len() == labels.len()
                && s.labels
                    .iter()
                    .zip(labels)
                    .all(|((k, v), (k2, v2))| k == k2 && v == v2)
        };
        if let Some(found) = read(&self.inner.series)
            .get(name)
            .and_then(|list| list.iter().find(|s| same(s)).cloned())
        {
            return Some(found);
        }
        let mut all = write(&self.inner.series);
        if let Some(found) = all.get(name).and_then(|list| list.iter().find(|s| same(s))) {
            return Some(found.clone());
        }
        if self.inner.series_count.load(Ordering::Relaxed) >= MAX_SERIES {
            return None;
        }
        let owned: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        let series = Arc::new(Series::new(name, &owned, unit));
        all.entry(name.into()).or_default().push(series.clone());
        self.inner.series_count.fetch_add(1, Ordering::Relaxed);
        Some(series)
    }

    /// Values dropped because their series would have been one past [`MAX_SERIES`].
    pub fn dropped_values(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Runs `work` and records its duration in milliseconds as `metric` (the seed's `track_time`).
    pub async fn time<T>(&self, metric: Metric, work: impl Future<Output = T>) -> T {
        self.time_with(metric, &[], work).await
    }

    /// As [`time`](Self::time), for a labelled series; with monitoring off, not even the clock is read.
    pub async fn time_with<T>(
        &self,
        metric: Metric,
        labels: &[(&str, &str)],
        work: impl Future<Output = T>,
    ) -> T {
        if !self.is_enabled() {
            return work.await;
        }
        let started = std::time::Instant::now();
        let out = work.await;
        self.record(metric, started.elapsed().as_secs_f64() * 1000.0, labels);
        out
    }

    /// Statistics of every series of `name` (the seed's `get_operation_stats`).
    pub fn operation_stats(&self, name: &str) -> Vec<OperationStats> {
        let list: Vec<Arc<Series>> = read(&self.inner.series)
            .get(name)
            .cloned()
            .unwrap_or_default();
        list.iter().map(|s| self.stats_of(s)).collect()
    }

    fn stats_of(&self, s: &Series) -> OperationStats {
        OperationStats {
            name: s.name.to_string(),
            labels: s.labels.to_vec(),
            unit: s.unit.to_string(),
            window: summarize(&s.window(self.minute(), self.inner.window_minutes)),
            since_start: summarize(&s.total()),
            last: s.last(),
        }
    }

    /// Statistics of every series, by name then labels.
    pub fn all_stats(&self) -> Vec<OperationStats> {
        let all: Vec<Arc<Series>> = read(&self.inner.series)
            .values()
            .flatten()
            .cloned()
            .collect();
        let mut stats: Vec<OperationStats> = all.iter().map(|s| self.stats_of(s)).collect();
        stats.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.labels.cmp(&b.labels)));
        stats
    }

    pub(crate) fn series_list(&self) -> Vec<Arc<Series>> {
        read(&self.inner.series)
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// Per minute of the window, the count, median and p95 of every series named `name` together
    /// (for charts); minutes without values are left out.
    pub fn timeline(&self, name: &str) -> Vec<TimelinePoint> {
        let minute = self.minute();
        let mut merged: std::collections::BTreeMap<u64, hdrhistogram::Histogram<u32>> =
            std::collections::BTreeMap::new();
        let list: Vec<Arc<Series>> = read(&self.inner.series)
            .get(name)
            .cloned()
            .unwrap_or_default();
        for s in list {
            for (m, h) in s.slots(minute, self.inner.window_minutes) {
                let slot = merged.entry(m).or_insert_with(series::new_histogram);
                let _ = slot.add(&h);
            }
        }
        merged
            .into_iter()
            .map(|(m, h)| {
                let summary = summarize(&h);
                TimelinePoint {
                    minutes_ago: minute - m,
                    count: summary.count,
                    median: summary.median,
                    p95: summary.p95,
                }
            })
            .collect()
    }

    /// The latest raw metrics, newest first.
    pub fn recent(&self, limit: usize) -> Vec<RawMetric> {
        lock(&self.inner.recent)
            .iter()
            .rev()
            .take(limit)
            .map(|(s, value, at)| RawMetric {
                name: s.name.clone(),
                value: *value,
                unit: s.unit.clone(),
                timestamp: *at,
                labels: s.labels.clone(),
            })
            .collect()
    }

    pub fn thresholds(&self) -> Vec<Threshold> {
        read(&self.inner.thresholds).clone()
    }

    /// Changes a threshold at runtime; `Err` names what is wrong.
    pub fn set_threshold(&self, metric: &str, value: f64) -> Result<Threshold, String> {
        if !value.is_finite() || value <= 0.0 {
            return Err(format!(
                "a threshold must be a positive number, not {value}"
            ));
        }
        let mut all = write(&self.inner.thresholds);
        let Some(t) = all.iter_mut().find(|t| t.metric == metric) else {
            return Err(format!("there is no threshold for '{metric}'"));
        };
        if t.unit == "%" && value > 100.0 {
            return Err(format!("{metric} is a percentage: 0 to 100"));
        }
        t.value = value;
        tracing::info!(metric, value, "threshold changed");
        Ok(t.clone())
    }

    /// Calls `callback` with every alert that fires or resolves.
    pub fn register_alert_callback(&self, callback: impl Fn(&Alert) + Send + Sync + 'static) {
        write(&self.inner.callbacks).push(Arc::new(callback));
    }

    /// Applies the alert rule now; returns what changed.
    pub fn evaluate(&self) -> Vec<AlertEvent> {
        let thresholds = self.thresholds();
        let minute = self.minute();
        let mut observations = Vec::new();
        for series in self.series_list() {
            let Some(t) = thresholds.iter().find(|t| *t.metric == *series.name) else {
                continue;
            };
            let window = series.window(minute, self.inner.window_minutes);
            if window.is_empty() {
                continue;
            }
            let value = match t.direction {
                Direction::Above => summarize(&window).p95,
                Direction::Below => series.last(),
            };
            observations.push(Observation {
                metric: series.name.to_string(),
                labels: series.labels.to_vec(),
                value,
                threshold: t.clone(),
            });
        }
        let events = lock(&self.inner.alerts).evaluate(&observations, Instant::now());
        if !events.is_empty() {
            let callbacks = read(&self.inner.callbacks).clone();
            for event in &events {
                let alert = match event {
                    AlertEvent::Fired(a) => {
                        tracing::warn!(
                            id = a.id,
                            severity = a.severity.as_str(),
                            "alert: {}",
                            a.message
                        );
                        a
                    }
                    AlertEvent::Resolved(a) => {
                        tracing::warn!(
                            id = a.id,
                            "resolved after {:?} s: {}",
                            a.duration_seconds,
                            a.message
                        );
                        a
                    }
                };
                for cb in &callbacks {
                    cb(alert);
                }
            }
        }
        events
    }

    /// Firing alerts.
    pub fn active_alerts(&self) -> Vec<Alert> {
        lock(&self.inner.alerts).active()
    }

    /// Recent alerts, newest first (the seed's `get_recent_alerts` and `get_alerts_by_severity`).
    pub fn recent_alerts(&self, limit: usize, severity: Option<Severity>) -> Vec<Alert> {
        lock(&self.inner.alerts).recent(limit, severity)
    }

    /// Deletes data older than `hours`: window slots, raw metrics, resolved alerts.
    pub fn delete_older_than(&self, hours: u64) -> usize {
        // Slots of the last `hours` (the current minute counts as within any positive span).
        let keep_from = (self.minute() + 1).saturating_sub(hours.saturating_mul(60));
        let mut emptied = 0;
        for s in self.series_list() {
            if s.forget_before(keep_from) {
                emptied += 1;
            }
        }
        let span_ms = i64::try_from(hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
        let cutoff_ms = now_millis().saturating_sub(span_ms);
        lock(&self.inner.recent).retain(|(_, _, at)| *at >= cutoff_ms);
        let cutoff = chrono::DateTime::from_timestamp_millis(cutoff_ms)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        lock(&self.inner.alerts).forget_before(&cutoff);
        emptied
    }
}

/// Runs a store call and records its duration as `database_query_time` with the query's name.
pub async fn timed_query<T>(
    monitor: &Monitor,
    query: &str,
    call: impl std::future::Future<Output = T>,
) -> T {
    monitor
        .time_with(Metric::DatabaseQueryTime, &[("query", query)], call)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_past_the_cap_are_dropped_and_counted() {
        let m = Monitor::new(MonitorConfig::default());
        for i in 0..MAX_SERIES + 50 {
            m.record(Metric::ApiResponseTime, 1.0, &[("n", &i.to_string())]);
        }
        assert_eq!(m.series_list().len(), MAX_SERIES);
        assert_eq!(m.dropped_values(), 50);
        m.record(Metric::ApiResponseTime, 2.0, &[("n", "0")]);
        assert_eq!(m.dropped_values(), 50, "a known series still records");
    }

    #[tokio::test]
    async fn timings_and_gauges_are_recorded_with_labels() {
        let m = Monitor::new(MonitorConfig::default());
        let out = m.time(Metric::ReportGenerationTime, async { 7 }).await;
        assert_eq!(out, 7);
        m.record(
            Metric::ApiResponseTime,
            12.0,
            &[("route", "/"), ("status", "200")],
        );
        m.record(
            Metric::ApiResponseTime,
            30.0,
            &[("route", "/"), ("status", "200")],
        );
        m.record(
            Metric::ApiResponseTime,
            5.0,
            &[("route", "/x"), ("status", "404")],
        );
        m.record_metric(Metric::CacheHitRate, 85.5);
        let api = m.operation_stats("api_response_time");
        assert_eq!(api.len(), 2);
        assert_eq!(api[0].window.count + api[1].window.count, 3);
        assert_eq!(m.operation_stats("cache_hit_rate")[0].last, 85.5);
        assert_eq!(m.recent(2)[0].name.as_ref(), "cache_hit_rate");
        assert_eq!(m.all_stats().len(), 4);
        let line = m.timeline("api_response_time");
        assert_eq!(line.len(), 1);
        assert_eq!((line[0].minutes_ago, line[0].count), (0, 3));
    }

    #[tokio::test]
    async fn disabled_monitoring_records_nothing_and_thresholds_are_checked() {
        let m = Monitor::new(MonitorConfig::default());
        m.set_enabled(false);
        m.record_metric(Metric::SectionLoadTime, 1.0);
        assert!(m.all_stats().is_empty());
        m.set_enabled(true);
        assert!(m.set_threshold("api_response_time", 500.0).is_ok());
        assert!(m.set_threshold("api_response_time", -1.0).is_err());
        assert!(m.set_threshold("cache_hit_rate", 120.0).is_err());
        assert!(m.set_threshold("nope", 1.0).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn alerts_reach_callbacks() {
        let m = Monitor::new(MonitorConfig {
            pending_for: Duration::from_secs(0),
            ..MonitorConfig::default()
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        m.register_alert_callback(move |a| lock(&sink).push((a.metric.clone(), a.state)));
        m.record_metric(Metric::DatabaseQueryTime, 1500.0);
        m.evaluate();
        m.set_threshold("database_query_time", 5000.0)
            .expect("valid");
        m.evaluate();
        assert_eq!(
            *lock(&seen),
            [
                ("database_query_time".to_string(), AlertState::Firing),
                ("database_query_time".to_string(), AlertState::Resolved)
            ]
        );
        assert_eq!(m.recent_alerts(5, Some(Severity::Warning)).len(), 1);
        assert_eq!(m.delete_older_than(0), 1);
    }
}
