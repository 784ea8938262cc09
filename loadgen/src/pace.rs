//! Sending on time. A constant-rate run measures latency from each request's intended send time, so
//! whatever makes the generator itself send late is counted against the server. Tokio's timer has
//! millisecond granularity and a runtime with little to do parks in whole milliseconds: on an idle
//! 2-core machine `sleep_until` woke 1.6 ms late at the median (p99 2.3 ms), more than a cached read
//! takes. `pace` releases each item from a thread of its own, which sleeps with the operating
//! system's high-resolution timer (0.12 ms late at the median, p99 0.44 ms, on the same machine),
//! and hands it to the async side through `fire` (a channel send). What is left of the lateness is
//! measured by the caller and reported beside the latencies.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::mpsc;

use crate::hist::{self, Summary};

/// Calls `fire` with each item of `schedule` once its instant has come, in order, on a thread of its
/// own; an item whose instant has passed fires at once (a generator that fell behind catches up, it
/// does not skip). Stops at the schedule's end or when `fire` returns `false` (nobody listens).
/// The schedule's instants must not decrease.
pub fn pace<T, S, F>(schedule: S, mut fire: F) -> JoinHandle<()>
where
    T: Send + 'static,
    S: IntoIterator<Item = (Instant, T)>,
    S::IntoIter: Send + 'static,
    F: FnMut(T) -> bool + Send + 'static,
{
    let schedule = schedule.into_iter();
    std::thread::Builder::new()
        .name("loadgen-pace".into())
        .spawn(move || {
            for (at, item) in schedule {
                let now = Instant::now();
                if at > now {
                    std::thread::sleep(at - now);
                }
                if !fire(item) {
                    break;
                }
            }
        })
        .unwrap_or_else(|e| panic!("starting the pacing thread: {e}"))
}

/// The requests of a constant-rate run: request `i` has the intended send time `t0 + i × period`,
/// released then by [`pace`]; how late each one reached the caller is recorded.
pub struct ConstantRate {
    released: mpsc::UnboundedReceiver<u64>,
    pacer: JoinHandle<()>,
    t0: tokio::time::Instant,
    period: Duration,
    lateness: Histogram<u64>,
}

impl ConstantRate {
    pub fn start(t0: tokio::time::Instant, period: Duration, total: u64) -> ConstantRate {
        let (due, released) = mpsc::unbounded_channel();
        let schedule = (0..total).map(move |i| ((t0 + period.mul_f64(i as f64)).into_std(), i));
        ConstantRate {
            released,
            pacer: pace(schedule, move |i| due.send(i).is_ok()),
            t0,
            period,
            lateness: hist::new(),
        }
    }

    /// The next request's number and intended send time, once it is due; `None` after the last.
    pub async fn next(&mut self) -> Option<(u64, tokio::time::Instant)> {
        let i = self.released.recv().await?;
        let intended = self.t0 + self.period.mul_f64(i as f64);
        hist::record(
            &mut self.lateness,
            tokio::time::Instant::now().saturating_duration_since(intended),
        );
        Some((i, intended))
    }

    /// How late the requests were released (the instant each reached the caller minus its intended
    /// send time): part of every latency measured from the intended time that is not the server's.
    pub fn lateness(self) -> anyhow::Result<Summary> {
        self.pacer
            .join()
            .map_err(|_| anyhow::anyhow!("the pacing thread panicked"))?;
        Ok(hist::summary(&self.lateness))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn fires_every_item_in_order_and_never_early() {
        let t0 = Instant::now() + Duration::from_millis(5);
        let schedule: Vec<(Instant, usize)> = (0..50)
            .map(|i| (t0 + Duration::from_micros(300 * i as u64), i))
            .collect();
        let expected = schedule.clone();
        let (tx, rx) = mpsc::channel();
        pace(schedule, move |i| tx.send((i, Instant::now())).is_ok())
            .join()
            .expect("the pacing thread ends");
        let fired: Vec<(usize, Instant)> = rx.iter().collect();
        assert_eq!(
            fired.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..50).collect::<Vec<_>>()
        );
        for ((i, when), (at, _)) in fired.iter().zip(&expected) {
            assert!(when >= at, "item {i} fired before its instant");
        }
    }

    #[test]
    fn items_already_due_fire_at_once_and_a_refusal_stops_the_schedule() {
        let past = Instant::now() - Duration::from_secs(1);
        let far = Instant::now() + Duration::from_secs(3600);
        let schedule = (0..10).map(move |i| (if i < 3 { past } else { far }, i));
        let mut seen = Vec::new();
        let (tx, rx) = mpsc::channel();
        // Refuses the third item: the far-future ones are never waited for.
        pace(schedule, move |i| {
            tx.send(i).expect("the test listens");
            i < 2
        })
        .join()
        .expect("the pacing thread ends");
        seen.extend(rx.iter());
        assert_eq!(seen, vec![0, 1, 2]);
    }
}
