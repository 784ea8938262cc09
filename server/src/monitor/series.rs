//! One metric series (a name and its labels): HDR histograms of its values per one-minute slot for
//! the sliding window, one since start, and its last value. Values are kept in thousandths of their
//! unit (microseconds for milliseconds), from 0.001 to 100,000 units at two significant digits, so a
//! slot's histogram is about 14 KB and exists only once the slot has data; memory does not grow with
//! the load.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;

/// Largest value kept, in thousandths (100,000 units: 100 s for milliseconds); larger ones saturate.
const MAX_SCALED: u64 = 100_000_000;
const SIGFIGS: u8 = 2;

pub(super) fn new_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, MAX_SCALED, SIGFIGS)
        .unwrap_or_else(|e| panic!("fixed histogram bounds are valid: {e}"))
}

pub(super) fn scale(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        ((value * 1000.0).round() as u64).clamp(1, MAX_SCALED)
    } else {
        1
    }
}

fn unscale(v: u64) -> f64 {
    v as f64 / 1000.0
}

pub use app::performance::Summary;

/// Count, extremes, mean and percentiles of a histogram's values, in the metric's unit.
pub(super) fn summarize(h: &Histogram<u32>) -> Summary {
    if h.is_empty() {
        return Summary::default();
    }
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    Summary {
        count: h.len(),
        min: unscale(h.min()),
        max: unscale(h.max()),
        avg: round(h.mean() / 1000.0),
        median: unscale(h.value_at_quantile(0.5)),
        p95: unscale(h.value_at_quantile(0.95)),
        p99: unscale(h.value_at_quantile(0.99)),
    }
}

/// Values of one slot of the window.
struct Slot {
    minute: u64,
    histogram: Histogram<u32>,
}

struct Data {
    total: Histogram<u32>,
    slots: VecDeque<Slot>,
    last: f64,
    /// Sum of all values, for Prometheus `_sum` (in thousandths).
    sum: u64,
}

/// A metric series.
pub struct Series {
    /// Its place among the monitor's series, in the order they were made.
    pub id: u32,
    pub name: Arc<str>,
    pub labels: Arc<[(String, String)]>,
    pub unit: Arc<str>,
    /// The total and the window's slots, under one lock (one lock per record).
    data: Mutex<Data>,
}

impl Series {
    pub(super) fn new(id: u32, name: &str, labels: &[(String, String)], unit: &str) -> Series {
        Series {
            id,
            name: name.into(),
            labels: labels.to_vec().into(),
            unit: unit.into(),
            data: Mutex::new(Data {
                total: new_histogram(),
                slots: VecDeque::new(),
                last: 0.0,
                sum: 0,
            }),
        }
    }

    /// Adds one value observed in `minute` (minutes since the monitor started); keeps `window`
    /// minutes of slots.
    pub(super) fn record(&self, value: f64, minute: u64, window: u64) {
        let scaled = scale(value);
        let mut data = lock(&self.data);
        data.last = value;
        data.sum = data.sum.saturating_add(scaled);
        data.total.saturating_record(scaled);
        let slots = &mut data.slots;
        if slots.back().is_none_or(|s| s.minute != minute) {
            while slots.front().is_some_and(|s| s.minute + window <= minute) {
                slots.pop_front();
            }
            slots.push_back(Slot {
                minute,
                histogram: new_histogram(),
            });
        }
        if let Some(slot) = slots.back_mut() {
            slot.histogram.saturating_record(scaled);
        }
    }

    /// The values of the last `window` minutes up to `minute`, merged.
    pub(super) fn window(&self, minute: u64, window: u64) -> Histogram<u32> {
        let mut merged = new_histogram();
        for slot in lock(&self.data).slots.iter() {
            if slot.minute + window > minute {
                // Same bounds everywhere, so adding cannot fail.
                let _ = merged.add(&slot.histogram);
            }
        }
        merged
    }

    /// The window's slots, oldest first, as (minute, histogram).
    pub(super) fn slots(&self, minute: u64, window: u64) -> Vec<(u64, Histogram<u32>)> {
        lock(&self.data)
            .slots
            .iter()
            .filter(|slot| slot.minute + window > minute)
            .map(|slot| (slot.minute, slot.histogram.clone()))
            .collect()
    }

    /// Every value since start (or since the last data deletion).
    pub(super) fn total(&self) -> Histogram<u32> {
        lock(&self.data).total.clone()
    }

    pub(super) fn last(&self) -> f64 {
        lock(&self.data).last
    }

    pub(super) fn sum(&self) -> f64 {
        unscale(lock(&self.data).sum)
    }

    /// Drops slots older than `keep_from` (a minute); when that is everything, resets the totals.
    pub(super) fn forget_before(&self, keep_from: u64) -> bool {
        let mut data = lock(&self.data);
        data.slots.retain(|s| s.minute >= keep_from);
        let empty = data.slots.is_empty();
        if empty {
            data.total.reset();
            data.sum = 0;
        }
        empty
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_known_data() {
        let s = Series::new(0, "t", &[], "ms");
        for v in 1..=1000 {
            s.record(f64::from(v), 0, 15);
        }
        let sum = summarize(&s.window(0, 15));
        assert_eq!(sum.count, 1000);
        assert_eq!(sum.min, 1.0);
        assert!((sum.max - 1000.0).abs() / 1000.0 < 0.01, "{}", sum.max);
        assert!((sum.avg - 500.5).abs() < 5.0, "{}", sum.avg);
        assert!((sum.median - 500.0).abs() / 500.0 < 0.01, "{}", sum.median);
        assert!((sum.p95 - 950.0).abs() / 950.0 < 0.01, "{}", sum.p95);
        assert!((sum.p99 - 990.0).abs() / 990.0 < 0.01, "{}", sum.p99);
        assert_eq!(s.last(), 1000.0);
    }

    #[test]
    fn the_window_slides_and_the_total_stays() {
        let s = Series::new(0, "t", &[], "ms");
        s.record(10.0, 0, 15);
        s.record(20.0, 5, 15);
        s.record(30.0, 16, 15);
        assert_eq!(
            summarize(&s.window(16, 15)).count,
            2,
            "minute 0 left the window"
        );
        assert_eq!(summarize(&s.total()).count, 3);
        assert_eq!(summarize(&s.window(40, 15)).count, 0);
        assert!(!s.forget_before(10));
        assert!(s.forget_before(100));
        assert_eq!(summarize(&s.total()).count, 0);
    }

    #[test]
    fn extreme_values_saturate() {
        assert_eq!(scale(-5.0), 1);
        assert_eq!(scale(f64::NAN), 1);
        assert_eq!(scale(1e12), MAX_SCALED);
        assert_eq!(scale(1.5), 1500);
    }
}
