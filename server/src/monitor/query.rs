//! Reading the monitor: statistics per series, the per-minute timeline, the recent raw values.

use std::sync::Arc;

use super::series::{self, lock, summarize, Series};
use super::{read, Monitor, OperationStats, RawMetric, TimelinePoint};

impl Monitor {
    /// Statistics of every series of `name` (the seed's `get_operation_stats`).
    pub fn operation_stats(&self, name: &str) -> Vec<OperationStats> {
        let list: Vec<Arc<Series>> = read(&self.inner.series)
            .by_name
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
        let all: Vec<Arc<Series>> = read(&self.inner.series).all.clone();
        let mut stats: Vec<OperationStats> = all.iter().map(|s| self.stats_of(s)).collect();
        stats.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.labels.cmp(&b.labels)));
        stats
    }

    pub(crate) fn series_list(&self) -> Vec<Arc<Series>> {
        read(&self.inner.series).all.clone()
    }

    /// Per minute of the window, the count, median and p95 of every series named `name` together
    /// (for charts); minutes without values are left out.
    pub fn timeline(&self, name: &str) -> Vec<TimelinePoint> {
        let minute = self.minute();
        let mut merged: std::collections::BTreeMap<u64, hdrhistogram::Histogram<u32>> =
            std::collections::BTreeMap::new();
        let list: Vec<Arc<Series>> = read(&self.inner.series)
            .by_name
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
        // Copied out first: the series are looked up after the ring's lock is let go (a recorder
        // takes the two the other way round).
        let newest: Vec<(u32, f64, i64)> = lock(&self.inner.recent)
            .iter()
            .rev()
            .take(limit)
            .copied()
            .collect();
        let registry = read(&self.inner.series);
        newest
            .into_iter()
            .filter_map(|(id, value, at)| {
                let s = registry.all.get(usize::try_from(id).ok()?)?;
                Some(RawMetric {
                    name: s.name.clone(),
                    value,
                    unit: s.unit.clone(),
                    timestamp: at,
                    labels: s.labels.clone(),
                })
            })
            .collect()
    }
}
