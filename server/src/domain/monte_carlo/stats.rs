//! Summaries of simulated outcomes: percentiles, histograms, S-curves and Spearman rank correlation.

use app::analysis::{CurvePoint, HistogramBin, Percentiles};

/// Bars of every histogram.
pub const HISTOGRAM_BINS: usize = 30;
/// Points of every S-curve (every 2.5 %).
pub const CURVE_POINTS: usize = 41;

/// The value below which a fraction `q` of the sorted values fall (linear interpolation between
/// order statistics, "type 7").
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    sorted[lower] + (position - lower as f64) * (sorted[upper] - sorted[lower])
}

/// P10, P50, P80, P90, P95 and the mean of sorted values.
pub fn percentiles(sorted: &[f64]) -> Percentiles {
    let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
    Percentiles {
        p10: quantile(sorted, 0.10),
        p50: quantile(sorted, 0.50),
        p80: quantile(sorted, 0.80),
        p90: quantile(sorted, 0.90),
        p95: quantile(sorted, 0.95),
        mean,
    }
}

/// Equal-width bars from the smallest to the largest value.
pub fn histogram(sorted: &[f64]) -> Vec<HistogramBin> {
    let (Some(&low), Some(&high)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let width = ((high - low) / HISTOGRAM_BINS as f64).max(f64::EPSILON);
    let mut counts = [0usize; HISTOGRAM_BINS];
    for &v in sorted {
        counts[(((v - low) / width) as usize).min(HISTOGRAM_BINS - 1)] += 1;
    }
    let n = sorted.len() as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| HistogramBin {
            from: low + i as f64 * width,
            to: low + (i + 1) as f64 * width,
            share: c as f64 / n,
        })
        .collect()
}

/// The cumulative distribution at evenly spaced probabilities.
pub fn s_curve(sorted: &[f64]) -> Vec<CurvePoint> {
    (0..CURVE_POINTS)
        .map(|i| {
            let probability = i as f64 / (CURVE_POINTS - 1) as f64;
            CurvePoint {
                value: quantile(sorted, probability),
                probability,
            }
        })
        .collect()
}

/// Fraction of values at most `limit`.
pub fn share_at_most(sorted: &[f64], limit: f64) -> f64 {
    sorted.partition_point(|&v| v <= limit) as f64 / sorted.len().max(1) as f64
}

/// Ranks (1-based, ties get their average rank). Values are sorted as integer keys (IEEE bits made
/// order-preserving) with their index, which is several times faster than a comparator sort; the
/// sensitivity ranking ranks thousands of values per task.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut keys: Vec<(u64, u32)> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (sortable(v), i as u32))
        .collect();
    keys.sort_unstable();
    average_ranks(keys.len(), keys.into_iter())
}

/// Ranks of single-precision values, as [`ranks`]: each key packs the value's order-preserving bits
/// and its index into one `u64`, the cheapest thing to sort.
pub fn ranks_f32(values: &[f32]) -> Vec<f64> {
    let mut keys: Vec<u64> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (u64::from(sortable_f32(v)) << 32) | i as u64)
        .collect();
    keys.sort_unstable();
    average_ranks(
        keys.len(),
        keys.into_iter()
            .map(|k| (k >> 32, (k & 0xFFFF_FFFF) as u32)),
    )
}

/// Ranks from `(key, index)` pairs in key order: equal keys share their average rank.
fn average_ranks(n: usize, sorted: impl Iterator<Item = (u64, u32)>) -> Vec<f64> {
    let mut ranks = vec![0.0; n];
    let mut group: Vec<u32> = Vec::new();
    let mut group_key = None;
    let mut position = 0usize;
    let mut flush = |group: &mut Vec<u32>, position: usize| {
        let first = position - group.len();
        let average = (first + position - 1) as f64 / 2.0 + 1.0;
        for &i in group.iter() {
            ranks[i as usize] = average;
        }
        group.clear();
    };
    for (key, index) in sorted {
        if group_key != Some(key) && !group.is_empty() {
            flush(&mut group, position);
        }
        group_key = Some(key);
        group.push(index);
        position += 1;
    }
    if !group.is_empty() {
        flush(&mut group, position);
    }
    ranks
}

fn sortable_f32(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | (1 << 31)
    }
}

/// The bits of a float, flipped so that unsigned order is numeric order.
fn sortable(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Pearson correlation; 0 when either side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Spearman rank correlation of `x` with already-ranked `y_ranks`.
pub fn spearman_with_ranks(x: &[f32], y_ranks: &[f64]) -> f64 {
    pearson(&ranks_f32(x), y_ranks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.25), 2.0);
        assert!((quantile(&v, 0.1) - 1.4).abs() < 1e-12);
        assert_eq!(quantile(&v, 1.0), 5.0);
    }

    #[test]
    fn histogram_shares_sum_to_one() {
        let v: Vec<f64> = (0..1000).map(f64::from).collect();
        let h = histogram(&v);
        assert_eq!(h.len(), HISTOGRAM_BINS);
        assert!((h.iter().map(|b| b.share).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn curve_and_shares_agree() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(share_at_most(&v, 80.0), 0.8);
        let curve = s_curve(&v);
        assert_eq!(
            (curve[0].value, curve[CURVE_POINTS - 1].value),
            (1.0, 100.0)
        );
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 5.0]), vec![2.0, 3.5, 3.5, 1.0]);
        assert_eq!(
            ranks(&[-1.5, 0.0, -3.0, 2.0]),
            vec![2.0, 3.0, 1.0, 4.0],
            "negatives sort first"
        );
    }

    #[test]
    fn spearman_sees_monotone_relations() {
        let x: Vec<f32> = (1..=50u16).map(f32::from).collect();
        let cubes: Vec<f64> = x.iter().map(|&v| f64::from(v).powi(3)).collect();
        assert!((spearman_with_ranks(&x, &ranks(&cubes)) - 1.0).abs() < 1e-12);
        let reversed: Vec<f64> = x.iter().rev().map(|&v| f64::from(v)).collect();
        assert!((spearman_with_ranks(&x, &ranks(&reversed)) + 1.0).abs() < 1e-12);
        assert_eq!(ranks_f32(&[3.0, -1.0, 3.0]), vec![2.5, 1.0, 2.5]);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), 0.0);
    }
}
