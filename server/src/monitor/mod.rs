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

/// The monitor's monotonic clock: time since some fixed point, as the kernel's coarse monotonic
/// clock tells it (`CLOCK_MONOTONIC_COARSE`: read in a few nanoseconds without a system call, where
/// the fine clock takes about 20, and advanced every timer tick, 1 to 10 ms). Every value recorded
/// reads it, for its minute of the window and its timestamp, neither of which needs finer; durations
/// are measured by callers with the fine clock. Not tokio's clock, which tests may pause.
#[cfg(target_os = "linux")]
fn clock() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// Elsewhere, the std monotonic clock since the first read.
#[cfg(not(target_os = "linux"))]
fn clock() -> Duration {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed()
}

/// Unix milliseconds now.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

type Callback = Arc<dyn Fn(&Alert) + Send + Sync>;

/// The monitor's series: by name for lookups (foldhash: a lookup is on every record), and in the
/// order they were made, where a series' [`Series::id`] is its place (series are never removed, so an
/// id always names the same series).
#[derive(Default)]
struct Registry {
    by_name: HashMap<Box<str>, Vec<Arc<Series>>, foldhash::fast::RandomState>,
    all: Vec<Arc<Series>>,
}

impl Registry {
    /// The series of `name` with exactly `labels`, in order.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Arc<Series>> {
        self.by_name.get(name)?.iter().find(|s| {
            s.labels.len() == labels.len()
                && s.labels
                    .iter()
                    .zip(labels)
                    .all(|((k, v), (k2, v2))| k == k2 && v == v2)
        })
    }
}

struct Inner {
    enabled: AtomicBool,
    /// [`clock`] at start.
    started: Duration,
    /// Unix milliseconds at `started`.
    started_ms: i64,
    window_minutes: u64,
    /// Every series; at [`MAX_SERIES`] a value for a new one is dropped and counted.
    series: RwLock<Registry>,
    dropped: std::sync::atomic::AtomicU64,
    /// The latest values: their series' id, the value, Unix milliseconds (a raw metric is built when
    /// read). Ids, not the series: recording a value touches no reference count.
    recent: Mutex<VecDeque<(u32, f64, i64)>>,
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
                started: clock(),
                started_ms: now_millis(),
                window_minutes: (config.window.as_secs() / 60).max(1),
                series: RwLock::new(Registry::default()),
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

    /// Time since the monitor started, by [`clock`].
    fn since_start(&self) -> Duration {
        clock().saturating_sub(self.inner.started)
    }

    fn minute(&self) -> u64 {
        self.since_start().as_secs() / 60
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
