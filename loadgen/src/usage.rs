//! The cache as readers meet it: many readers over a larger portfolio, choosing reports with a skewed
//! (Zipf) popularity, while regenerations invalidate what they touch, against instances that start
//! cold and share Redis. Every read is classified by the server's `x-cache` answer (`hit`: from
//! memory or Redis; `miss`: this request loaded it from the store), so the hit rate and the latency
//! of hits and misses come from the same requests.
//!
//! Reads arrive at a constant rate (an open model, as in [`crate::http`], released on time by
//! [`crate::pace`]); latency is from the intended send time. A report's popularity rank is a fixed
//! shuffle of the portfolio; each read picks its report by rank with probability ∝ 1/rank^s, then a
//! reader among the accounts that may see it, then an instance in turn. Regenerations pick a draft the same way (popular reports are the
//! ones being worked on).

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;
use tokio::time::Instant;

use crate::api::Api;
use crate::hist::{self, Summary};
use crate::pace::ConstantRate;

/// SplitMix64: a small, fixed-seed generator, so every run makes the same choices.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Ranks 0..n with P(rank k) ∝ 1/(k+1)^s.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let weights: Vec<f64> = (1..=n).map(|k| 1.0 / (k as f64).powf(s)).collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        Zipf {
            cdf: weights
                .iter()
                .map(|w| {
                    acc += w / total;
                    acc
                })
                .collect(),
        }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf
            .partition_point(|c| *c < u)
            .min(self.cdf.len().saturating_sub(1))
    }
}

/// The shape of a run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct UsageParams {
    /// Reads per second.
    pub rate: f64,
    pub seconds: f64,
    /// Zipf exponent of report popularity.
    pub zipf_s: f64,
    /// Regenerations per second (each of a draft, chosen by popularity).
    pub regenerations_per_second: f64,
}

/// A report of the run and who may read it.
pub struct Readable {
    pub id: i64,
    pub draft: bool,
    /// Session cookies of the accounts that may read it.
    pub readers: Vec<String>,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct UsageResult {
    pub params: UsageParams,
    pub instances: usize,
    pub reports: usize,
    pub accounts: usize,
    pub reads: u64,
    pub failed: u64,
    pub hits: u64,
    pub misses: u64,
    /// Successful reads without an `x-cache` answer (none expected).
    pub unlabelled: u64,
    pub hit_rate_percent: f64,
    /// The share of reads that went to the 10 most popular reports.
    pub top10_share_percent: f64,
    pub hit: Summary,
    pub miss: Summary,
    /// How late the generator itself released the reads (see [`crate::http::RateResult`]).
    pub send_lateness: Summary,
    pub regenerations: u64,
    pub regenerations_failed: u64,
}

enum Outcome {
    Hit,
    Miss,
    Unlabelled,
    Failed,
}

/// Runs the workload against `bases` (one per instance), regenerating as `admin`.
pub async fn run(
    bases: &[String],
    admin: &Api,
    reports: Vec<Readable>,
    params: UsageParams,
) -> anyhow::Result<UsageResult> {
    if reports.is_empty() || bases.is_empty() {
        bail!("nothing to read");
    }
    let mut rng = Rng::new(0x504d_525f_7573_6531);
    let mut ranked = reports;
    rng.shuffle(&mut ranked);
    let ranked = Arc::new(ranked);
    let zipf = Zipf::new(ranked.len(), params.zipf_s);
    let drafts: Vec<usize> = (0..ranked.len()).filter(|&i| ranked[i].draft).collect();
    let accounts = {
        let mut all: Vec<&String> = ranked.iter().flat_map(|r| r.readers.iter()).collect();
        all.sort();
        all.dedup();
        all.len()
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(30))
        .build()?;
    let total = (params.rate * params.seconds).round() as u64;
    let period = Duration::from_secs_f64(1.0 / params.rate);
    let t0 = Instant::now() + Duration::from_millis(200);
    let end = t0 + Duration::from_secs_f64(params.seconds);

    // Regenerations, alongside: each on a popular draft, through the instances in turn.
    let regenerate = {
        let (admin, bases, ranked) = (admin.clone(), bases.to_vec(), ranked.clone());
        let zipf_drafts = Zipf::new(drafts.len().max(1), params.zipf_s);
        let mut rng = Rng::new(0x7265_6765_6e21);
        tokio::spawn(async move {
            let (mut done, mut failed) = (0u64, 0u64);
            if drafts.is_empty() || params.regenerations_per_second <= 0.0 {
                return (done, failed);
            }
            let every = Duration::from_secs_f64(1.0 / params.regenerations_per_second);
            let mut at = t0 + every / 2;
            let mut k = 0usize;
            while at < end {
                tokio::time::sleep_until(at).await;
                let id = ranked[drafts[zipf_drafts.sample(&mut rng)]].id;
                let base = &bases[k % bases.len()];
                match admin
                    .post_at(base, &format!("/api/reports/{id}/regenerate"))
                    .await
                {
                    Ok(()) => done += 1,
                    Err(_) => failed += 1,
                }
                k += 1;
                at += every;
            }
            (done, failed)
        })
    };

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Duration, Outcome, usize)>();
    let mut requests = ConstantRate::start(t0, period, total);
    while let Some((i, intended)) = requests.next().await {
        let rank = zipf.sample(&mut rng);
        let report = &ranked[rank];
        let cookie = report.readers[rng.below(report.readers.len())].clone();
        let url = format!(
            "{}/api/reports/{}",
            bases[i as usize % bases.len()],
            report.id
        );
        let (client, tx) = (client.clone(), tx.clone());
        tokio::spawn(async move {
            let outcome = match client.get(url).header("cookie", cookie).send().await {
                Ok(r) if r.status().is_success() => {
                    let label = r
                        .headers()
                        .get("x-cache")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    match (r.bytes().await, label.as_deref()) {
                        (Err(_), _) => Outcome::Failed,
                        (Ok(_), Some("hit")) => Outcome::Hit,
                        (Ok(_), Some("miss")) => Outcome::Miss,
                        (Ok(_), _) => Outcome::Unlabelled,
                    }
                }
                _ => Outcome::Failed,
            };
            let _ = tx.send((
                Instant::now().saturating_duration_since(intended),
                outcome,
                rank,
            ));
        });
    }
    let send_lateness = requests.lateness()?;
    drop(tx);
    let (mut hit, mut miss) = (hist::new(), hist::new());
    let (mut hits, mut misses, mut unlabelled, mut failed, mut top10) = (0, 0, 0, 0, 0u64);
    while let Some((took, outcome, rank)) = rx.recv().await {
        if rank < 10 {
            top10 += 1;
        }
        match outcome {
            Outcome::Hit => {
                hits += 1;
                hist::record(&mut hit, took);
            }
            Outcome::Miss => {
                misses += 1;
                hist::record(&mut miss, took);
            }
            Outcome::Unlabelled => unlabelled += 1,
            Outcome::Failed => failed += 1,
        }
    }
    let (regenerations, regenerations_failed) = regenerate.await?;
    Ok(UsageResult {
        params,
        instances: bases.len(),
        reports: ranked.len(),
        accounts,
        reads: total,
        failed,
        hits,
        misses,
        unlabelled,
        hit_rate_percent: 100.0 * hits as f64 / (hits + misses).max(1) as f64,
        top10_share_percent: 100.0 * top10 as f64 / total.max(1) as f64,
        hit: hist::summary(&hit),
        miss: hist::summary(&miss),
        send_lateness,
        regenerations,
        regenerations_failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_ranks_follow_the_power_law() {
        // Against the closed form: P(rank 1) = 1 / H(n, s); P(1) / P(2) = 2^s.
        let (n, s) = (240, 1.0);
        let zipf = Zipf::new(n, s);
        let harmonic: f64 = (1..=n).map(|k| 1.0 / k as f64).sum();
        let mut rng = Rng::new(7);
        let draws = 200_000;
        let mut counts = vec![0u64; n];
        for _ in 0..draws {
            counts[zipf.sample(&mut rng)] += 1;
        }
        let p1 = counts[0] as f64 / draws as f64;
        assert!((p1 - 1.0 / harmonic).abs() < 0.005, "P(rank 1) = {p1}");
        let ratio = counts[0] as f64 / counts[1] as f64;
        assert!((ratio - 2.0).abs() < 0.1, "P(1)/P(2) = {ratio}");
        assert!(counts[n - 1] > 0, "the tail is drawn too");
    }

    #[test]
    fn the_generator_is_fixed_and_in_range() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..1000 {
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            assert_eq!(u.to_bits(), b.unit().to_bits());
        }
        let mut items: Vec<u32> = (0..50).collect();
        a.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>(), "a permutation");
        assert_ne!(items, sorted, "and not the identity");
    }
}
