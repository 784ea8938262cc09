//! Random numbers and duration sampling for the simulation.
//!
//! [`Xoshiro`] is xoshiro256++ (Blackman and Vigna), seeded through SplitMix64: fast (about 1 ns a
//! number), statistically sound for simulation, and stable across platforms and versions, so a seed
//! gives the same result everywhere. Each chunk of iterations gets its own stream from
//! `(seed, chunk)`, which keeps results independent of the number of threads.
//!
//! Beta-PERT has no closed-form inverse CDF, and exact Beta sampling (two gamma draws) costs several
//! times a table lookup. Each PERT task therefore gets a 256-point quantile table, built once per run
//! by integrating its density on a 1,024-step grid; a sample is one uniform, one lookup and one linear
//! interpolation. The error this adds is far below the Monte Carlo noise at 10,000 iterations
//! (checked against the PERT mean in the tests). Triangular durations use the exact inverse CDF.

use app::analysis::DurationDistribution;

/// Quantile table resolution: 256 points keep 200 tasks' tables (200 KB as f32) inside L2 cache.
const TABLE_POINTS: usize = 256;
/// Integration steps used to build a table.
const GRID_STEPS: usize = 1_024;

/// xoshiro256++.
#[derive(Debug, Clone)]
pub struct Xoshiro([u64; 4]);

impl Xoshiro {
    /// A generator for one stream of a seeded run.
    pub fn stream(seed: u64, stream: u64) -> Xoshiro {
        let mut sm = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Xoshiro([next(), next(), next(), next()])
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform number in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// How one task's duration is drawn.
#[derive(Debug, Clone)]
pub enum Sampler {
    /// Always the same duration (optimistic = pessimistic).
    Fixed(f64),
    /// Exact inverse CDF of the triangular distribution on `(a, m, b)`.
    Triangular { a: f64, m: f64, b: f64, split: f64 },
    /// Quantile table of a Beta-PERT on `[a, a + width]`.
    Table {
        a: f64,
        width: f64,
        table: Box<[f32]>,
    },
}

impl Sampler {
    /// The sampler of a three-point estimate (`a <= m <= b`, checked by the caller).
    pub fn new(a: f64, m: f64, b: f64, distribution: DurationDistribution) -> Sampler {
        let width = b - a;
        if width <= f64::EPSILON {
            return Sampler::Fixed(m);
        }
        match distribution {
            DurationDistribution::Triangular => Sampler::Triangular {
                a,
                m,
                b,
                split: (m - a) / width,
            },
            DurationDistribution::Pert => {
                let alpha = 1.0 + 4.0 * (m - a) / width;
                let beta = 1.0 + 4.0 * (b - m) / width;
                Sampler::Table {
                    a,
                    width,
                    table: beta_quantiles(alpha, beta),
                }
            }
        }
    }

    /// The duration for a uniform `u` in `[0, 1)`.
    #[inline]
    pub fn at(&self, u: f64) -> f64 {
        match self {
            Sampler::Fixed(d) => *d,
            Sampler::Triangular { a, m, b, split } => {
                if u < *split {
                    a + (u * (b - a) * (m - a)).sqrt()
                } else {
                    b - ((1.0 - u) * (b - a) * (b - m)).sqrt()
                }
            }
            Sampler::Table { a, width, table } => {
                let x = u * (TABLE_POINTS - 1) as f64;
                let i = (x as usize).min(TABLE_POINTS - 2);
                let frac = x - i as f64;
                let q = f64::from(table[i]) + frac * f64::from(table[i + 1] - table[i]);
                a + width * q
            }
        }
    }
}

/// Quantiles of Beta(alpha, beta) at `k / (TABLE_POINTS − 1)`, by trapezoidal integration of the
/// density on a regular grid and inversion of the cumulative sum.
fn beta_quantiles(alpha: f64, beta: f64) -> Box<[f32]> {
    let step = 1.0 / GRID_STEPS as f64;
    let density = |x: f64| -> f64 {
        if x <= 0.0 || x >= 1.0 {
            // alpha, beta >= 1: the density is finite at the ends, zero unless the exponent is zero.
            let at_zero = if x <= 0.0 { alpha } else { beta };
            return if (at_zero - 1.0).abs() < 1e-12 {
                1.0
            } else {
                0.0
            };
        }
        ((alpha - 1.0) * x.ln() + (beta - 1.0) * (1.0 - x).ln()).exp()
    };
    let mut cumulative = Vec::with_capacity(GRID_STEPS + 1);
    cumulative.push(0.0);
    let mut previous = density(0.0);
    for k in 1..=GRID_STEPS {
        let current = density(k as f64 * step);
        let last = cumulative[k - 1];
        cumulative.push(last + 0.5 * (previous + current) * step);
        previous = current;
    }
    let total = cumulative[GRID_STEPS];
    let mut table = Vec::with_capacity(TABLE_POINTS);
    let mut k = 0;
    for j in 0..TABLE_POINTS {
        let target = total * j as f64 / (TABLE_POINTS - 1) as f64;
        while k < GRID_STEPS && cumulative[k + 1] < target {
            k += 1;
        }
        let (lo, hi) = (cumulative[k], cumulative[(k + 1).min(GRID_STEPS)]);
        let frac = if hi > lo {
            ((target - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        table.push(((k as f64 + frac) * step).min(1.0) as f32);
    }
    table.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_of(sampler: &Sampler, n: usize) -> f64 {
        let mut rng = Xoshiro::stream(42, 0);
        (0..n).map(|_| sampler.at(rng.unit())).sum::<f64>() / n as f64
    }

    #[test]
    fn uniforms_are_uniform() {
        let mut rng = Xoshiro::stream(1, 0);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        let below_tenth = xs.iter().filter(|&&x| x < 0.1).count() as f64 / n as f64;
        assert!((below_tenth - 0.1).abs() < 0.005);
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Xoshiro::stream(7, 0).next_u64()).collect();
        assert!(
            a.windows(2).all(|w| w[0] == w[1]),
            "same seed and stream, same numbers"
        );
        assert_ne!(
            Xoshiro::stream(7, 0).next_u64(),
            Xoshiro::stream(7, 1).next_u64()
        );
    }

    #[test]
    fn pert_table_matches_the_pert_mean() {
        for (a, m, b) in [
            (2.0, 5.0, 14.0),
            (10.0, 11.0, 30.0),
            (3.0, 9.0, 10.0),
            (1.0, 1.0, 4.0),
        ] {
            let sampler = Sampler::new(a, m, b, DurationDistribution::Pert);
            let expected = (a + 4.0 * m + b) / 6.0;
            let got = mean_of(&sampler, 200_000);
            assert!(
                (got - expected).abs() < 0.01 * (b - a),
                "PERT({a},{m},{b}) mean {got}, expected {expected}"
            );
            assert!(
                (sampler.at(0.0) - a).abs() < 1e-3
                    && (sampler.at(0.999_999) - b).abs() < 0.05 * (b - a)
            );
        }
    }

    #[test]
    fn triangular_inverse_cdf_is_exact() {
        let s = Sampler::new(0.0, 2.0, 10.0, DurationDistribution::Triangular);
        assert!(
            (s.at(0.2) - 2.0).abs() < 1e-12,
            "F(m) = (m − a) / (b − a) = 0.2"
        );
        assert!((s.at(0.5) - (10.0 - (0.5_f64 * 10.0 * 8.0).sqrt())).abs() < 1e-12);
        assert!(
            (mean_of(&s, 200_000) - 4.0).abs() < 0.03,
            "mean (a + m + b) / 3"
        );
    }

    #[test]
    fn degenerate_estimates_are_fixed() {
        let s = Sampler::new(5.0, 5.0, 5.0, DurationDistribution::Pert);
        assert_eq!(s.at(0.3), 5.0);
    }
}
