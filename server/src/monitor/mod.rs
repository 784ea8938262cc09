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

mod alerting;
pub mod alerts;
pub mod args;
pub mod layer;
pub mod prometheus;
mod query;
pub mod recommend;
mod record;

pub use record::{timed_query, Recorder};
pub mod series;
pub mod service;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tokio::time::Duration;

use alerts::AlertEngine;
pub use app::performance::{
    Alert, AlertState, Direction, Metric, OperationStats, Severity, Threshold, TimelinePoint,
};
use series::{lock, Series};

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

#[cfg(test)]
mod tests;
