//! The per-caller budget for costly operations: Monte Carlo reruns and report regenerations (which
//! run the simulation and the insight engine, possibly a language model). Each caller has a token
//! bucket holding up to `per_minute` runs that refills evenly over a minute, so a burst of
//! `per_minute` runs is allowed and then one every `60 / per_minute` seconds.
//!
//! A run answered from the cache does not use up the budget: the caller's token is given back (while
//! the budget is spent, every run waits, since whether one is cached is known only once it runs). The buckets live in
//! this instance's memory, bounded to [`MAX_CALLERS`]; with several instances a caller gets the
//! budget once per instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::account::Principal;

/// Most callers remembered; when full, the buckets that have refilled completely are forgotten (a
/// full bucket is what a new caller gets anyway), and if none has, the one untouched the longest.
pub const MAX_CALLERS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The budget shared by every costly call on this instance.
#[derive(Debug)]
pub struct CostlyQuota {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl CostlyQuota {
    /// Runs per caller per minute unless configured (`PMR_COSTLY_RUNS_PER_MINUTE`).
    pub const DEFAULT_PER_MINUTE: u32 = 10;

    /// A budget of `per_minute` runs per caller per minute (at least 1).
    pub fn new(per_minute: u32) -> CostlyQuota {
        CostlyQuota {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Runs per caller per minute.
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    /// Tokens regained per second.
    fn rate(&self) -> f64 {
        self.capacity() / 60.0
    }

    fn key(who: &Principal) -> String {
        format!("{:?}", who.kind)
    }

    /// Takes one run from the caller's budget, or says how long until one is free.
    pub fn take(&self, who: &Principal, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CALLERS {
            let (capacity, rate) = (self.capacity(), self.rate());
            buckets.retain(|_, b| refilled(*b, now, capacity, rate) < capacity);
            if buckets.len() >= MAX_CALLERS {
                let stalest = buckets
                    .iter()
                    .min_by_key(|(_, b)| b.at)
                    .map(|(k, _)| k.clone());
                if let Some(key) = stalest {
                    buckets.remove(&key);
                }
            }
        }
        let bucket = buckets.entry(Self::key(who)).or_insert(Bucket {
            tokens: self.capacity(),
            at: now,
        });
        let tokens = refilled(*bucket, now, self.capacity(), self.rate());
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(Duration::from_secs_f64((1.0 - tokens) / self.rate()))
        }
    }

    /// Gives back a run that cost nothing (answered from the cache).
    pub fn refund(&self, who: &Principal) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = buckets.get_mut(&Self::key(who)) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.capacity());
        }
    }
}

/// The bucket's tokens at `now`.
fn refilled(bucket: Bucket, now: Instant, capacity: f64, rate: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * rate).min(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::account::PrincipalKind;
    use app::model::Role;

    fn caller(name: &str) -> Principal {
        let id = name.bytes().fold(0i64, |h, b| h * 131 + i64::from(b));
        Principal {
            kind: PrincipalKind::User(id),
            name: name.into(),
            display_name: name.into(),
            role: Role::Viewer,
        }
    }

    #[test]
    fn a_burst_then_one_run_per_interval() {
        let quota = CostlyQuota::new(6); // one run every 10 s once the burst is spent
        let (vera, eddie) = (caller("vera"), caller("eddie"));
        let t0 = Instant::now();
        for _ in 0..6 {
            assert_eq!(quota.take(&vera, t0), Ok(()));
        }
        let wait = quota.take(&vera, t0).expect_err("the seventh run waits");
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        assert_eq!(quota.take(&eddie, t0), Ok(()), "each caller has a budget");
        assert!(quota.take(&vera, t0 + Duration::from_secs(5)).is_err());
        assert_eq!(quota.take(&vera, t0 + Duration::from_secs(10)), Ok(()));
        assert!(quota.take(&vera, t0 + Duration::from_secs(11)).is_err());
        // A long pause refills the whole burst, no more.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..6 {
            assert_eq!(quota.take(&vera, later), Ok(()));
        }
        assert!(quota.take(&vera, later).is_err());
    }

    #[test]
    fn a_refunded_run_is_free_and_the_table_stays_bounded() {
        let quota = CostlyQuota::new(1);
        let vera = caller("vera");
        let t0 = Instant::now();
        assert_eq!(quota.take(&vera, t0), Ok(()));
        quota.refund(&vera);
        assert_eq!(
            quota.take(&vera, t0),
            Ok(()),
            "the refunded run is available again"
        );
        assert!(quota.take(&vera, t0).is_err());

        for i in 0..MAX_CALLERS + 10 {
            let _ = quota.take(&caller(&format!("u{i}")), t0 + Duration::from_secs(120));
        }
        let held = quota.buckets.lock().expect("lock").len();
        assert!(held <= MAX_CALLERS, "{held}");
    }
}
