//! The server's simulation slots: at most a few Monte Carlo runs at a time (each keeps a core busy
//! for its whole run) and a short queue behind them; a run that finds the queue full is refused at
//! once with when to retry, so a burst of reruns and regenerations from many people cannot pile up
//! CPU work the server will not get to. Results served from the cache take no slot. Each caller's
//! own budget of costly runs is [`super::quota`]; this is the server's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

/// Runs queued behind the running ones before more are refused.
pub const QUEUED: usize = 16;
/// What a refused caller is told to wait: about one run of the default size on a loaded server.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Slots for simulations on this instance.
#[derive(Debug)]
pub struct SimulationSlots {
    running: Semaphore,
    /// Runs holding or waiting for a slot.
    admitted: AtomicUsize,
    at_once: usize,
    queued: usize,
}

impl SimulationSlots {
    /// `at_once` runs at a time (at least one), `queued` more waiting.
    pub fn new(at_once: usize, queued: usize) -> SimulationSlots {
        let at_once = at_once.max(1);
        SimulationSlots {
            running: Semaphore::new(at_once),
            admitted: AtomicUsize::new(0),
            at_once,
            queued,
        }
    }

    /// One run per core of this machine, at most eight, and [`QUEUED`] waiting.
    pub fn for_this_machine() -> SimulationSlots {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        SimulationSlots::new(cores.min(8), QUEUED)
    }

    /// Runs `work` in a slot, waiting for one if needed; `Busy` without running it when the queue
    /// is full.
    pub async fn run<T>(&self, work: impl std::future::Future<Output = T>) -> Result<T, Busy> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let _leave = Leave(&self.admitted);
        if before >= self.at_once + self.queued {
            return Err(Busy);
        }
        let _slot = self.running.acquire().await.map_err(|_| Busy)?;
        Ok(work.await)
    }
}

/// Gives the admission back however the run ends (done, failed, or its caller went away).
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_beyond_the_slots_and_the_queue_are_refused() {
        let slots = std::sync::Arc::new(SimulationSlots::new(2, 3));
        let (release, gate) = tokio::sync::watch::channel(false);
        let mut held = Vec::new();
        for _ in 0..5 {
            let (slots, mut gate) = (slots.clone(), gate.clone());
            held.push(tokio::spawn(async move {
                slots
                    .run(async move {
                        let _ = gate.wait_for(|open| *open).await;
                    })
                    .await
            }));
        }
        tokio::task::yield_now().await;
        while slots.admitted.load(Ordering::Acquire) < 5 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            slots.run(async {}).await,
            Err(Busy),
            "two running, three queued"
        );
        release.send_replace(true);
        for h in held {
            assert_eq!(h.await.expect("joined"), Ok(()));
        }
        assert_eq!(slots.run(async { 7 }).await, Ok(7), "room again");
    }
}
