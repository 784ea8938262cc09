//! HTTP at a constant arrival rate: request `i` has the intended send time `t0 + i / rate` and is
//! sent then on its own task, however many are still in flight (an open model: a slow server gets
//! more concurrent requests, as it would from real users, instead of fewer). Latency is the response's
//! end minus the intended time, so queueing anywhere (client, network, server) is in it. Requests
//! are released on time by `pace` (tokio's timer would send them a millisecond or more late), and
//! how late the generator still sent them is measured and reported beside the latency.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::hist::{self, Summary};
use crate::pace::ConstantRate;

/// What one constant-rate run measured.
#[derive(Debug, Clone, Serialize)]
pub struct RateResult {
    pub label: String,
    pub rate: f64,
    pub seconds: f64,
    pub latency: Summary,
    /// How late the generator itself released the requests (the instant it started each one minus
    /// its intended send time): part of `latency` that is not the server's.
    pub send_lateness: Summary,
    pub ok: u64,
    /// Responses other than 2xx, and transport errors.
    pub failed: u64,
    /// Requests per second actually completed.
    pub achieved_rate: f64,
    pub response_bytes: u64,
}

/// The requests of a run, taken in turn: a GET of a path with a user's session cookie.
pub struct Workload {
    pub base: String,
    pub requests: Vec<(String, String)>,
}

pub async fn constant_rate(
    label: &str,
    workload: Workload,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<RateResult> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(30))
        .build()?;
    let workload = Arc::new(workload);
    let total = (rate * duration.as_secs_f64()).round() as u64;
    let period = Duration::from_secs_f64(1.0 / rate);
    let t0 = Instant::now() + Duration::from_millis(200);
    let (done, mut results) = tokio::sync::mpsc::unbounded_channel::<(Duration, bool, u64)>();
    let mut requests = ConstantRate::start(t0, period, total);
    while let Some((i, intended)) = requests.next().await {
        let (client, workload, done) = (client.clone(), workload.clone(), done.clone());
        tokio::spawn(async move {
            let (path, cookie) = &workload.requests[i as usize % workload.requests.len()];
            let url = format!("{}{path}", workload.base);
            let outcome = match client.get(url).header("cookie", cookie).send().await {
                Ok(r) if r.status().is_success() => match r.bytes().await {
                    Ok(b) => (true, b.len() as u64),
                    Err(_) => (false, 0),
                },
                Ok(r) => {
                    let _ = r.bytes().await;
                    (false, 0)
                }
                Err(_) => (false, 0),
            };
            let _ = done.send((
                Instant::now().saturating_duration_since(intended),
                outcome.0,
                outcome.1,
            ));
        });
    }
    let send_lateness = requests.lateness()?;
    drop(done);
    let mut latency = hist::new();
    let (mut ok, mut failed, mut bytes) = (0, 0, 0);
    let mut last = t0;
    while let Some((took, success, size)) = results.recv().await {
        hist::record(&mut latency, took);
        if success {
            ok += 1;
            bytes += size;
        } else {
            failed += 1;
        }
        last = Instant::now();
    }
    let seconds = last.saturating_duration_since(t0).as_secs_f64();
    Ok(RateResult {
        label: label.to_string(),
        rate,
        seconds,
        latency: hist::summary(&latency),
        send_lateness,
        ok,
        failed,
        achieved_rate: ok as f64 / seconds.max(1e-9),
        response_bytes: bytes,
    })
}
