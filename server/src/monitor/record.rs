//! Recording: a value into its series (made on first use, up to [`MAX_SERIES`]), the recent raw
//! values, and timing a piece of work.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::series::{lock, Series};
use super::{read, write, Metric, Monitor, MAX_SERIES, RECENT};

impl Monitor {
    /// Records a value without labels (the seed's `record_metric`), in the metric's unit.
    pub fn record_metric(&self, metric: Metric, value: f64) {
        self.record(metric, value, &[]);
    }

    /// Records a value of a labelled series, in the metric's unit.
    pub fn record(&self, metric: Metric, value: f64, labels: &[(&str, &str)]) {
        if !self.is_enabled() {
            return;
        }
        // The common case: the series exists, and is recorded into under the registry's read lock
        // (no reference to it is taken, so no count is touched).
        if let Some(series) = read(&self.inner.series).find(metric.name(), labels) {
            self.record_into(series, value);
            return;
        }
        if let Some(series) = self.series_or_drop(metric, labels) {
            self.record_into(&series, value);
        }
    }

    /// A recorder of one series, for a path that records into it often: the series is looked up on
    /// the first value, not on every one.
    pub fn recorder(
        &self,
        metric: Metric,
        labels: &'static [(&'static str, &'static str)],
    ) -> Recorder {
        Recorder {
            monitor: self.clone(),
            metric,
            labels,
            series: std::sync::OnceLock::new(),
        }
    }

    fn record_into(&self, series: &Series, value: f64) {
        // One clock read gives both the window's minute and the timestamp.
        let elapsed = self.since_start();
        series.record(value, elapsed.as_secs() / 60, self.inner.window_minutes);
        let at = self.inner.started_ms + i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX / 2);
        let mut recent = lock(&self.inner.recent);
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back((series.id, value, at));
    }

    /// The series of `metric` and `labels`, or, at the series cap, none and the value counted as
    /// dropped.
    fn series_or_drop(&self, metric: Metric, labels: &[(&str, &str)]) -> Option<Arc<Series>> {
        let found = self.series_for(metric.name(), metric.unit(), labels);
        if found.is_none() {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// The series of `name` and `labels`, made when it is new and there is room for it.
    fn series_for(&self, name: &str, unit: &str, labels: &[(&str, &str)]) -> Option<Arc<Series>> {
        if let Some(found) = read(&self.inner.series).find(name, labels) {
            return Some(found.clone());
        }
        let mut registry = write(&self.inner.series);
        if let Some(found) = registry.find(name, labels) {
            return Some(found.clone());
        }
        let id = u32::try_from(registry.all.len())
            .ok()
            .filter(|&n| (n as usize) < MAX_SERIES)?;
        let owned: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        let series = Arc::new(Series::new(id, name, &owned, unit));
        registry
            .by_name
            .entry(name.into())
            .or_default()
            .push(series.clone());
        registry.all.push(series.clone());
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
}

/// One series of a [`Monitor`], looked up once (series are never removed, so the one found stays
/// the monitor's).
pub struct Recorder {
    monitor: Monitor,
    metric: Metric,
    labels: &'static [(&'static str, &'static str)],
    series: std::sync::OnceLock<Arc<Series>>,
}

impl Recorder {
    /// As [`Monitor::record`] into this recorder's series.
    pub fn record(&self, value: f64) {
        if !self.monitor.is_enabled() {
            return;
        }
        let series = match self.series.get() {
            Some(series) => series,
            // At the series cap the value is dropped, and the series looked up again next time.
            None => match self.monitor.series_or_drop(self.metric, self.labels) {
                Some(found) => self.series.get_or_init(|| found),
                None => return,
            },
        };
        self.monitor.record_into(series, value);
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
