//! Login throttling, per account name and per client address, so a password cannot be guessed by
//! trying many (one account, many tries) nor by spraying (one address, many accounts).
//!
//! Each key counts failures in a fixed window; reaching the limit locks the key until the lockout
//! ends. A locked key refuses attempts without checking the password. Account names are counted
//! whether or not the account exists, so the answers never reveal which names do. A success clears
//! the account's count (not the address's: a sprayer who guesses one password keeps its count).
//!
//! The counts live in this instance's memory, bounded to [`MAX_KEYS`] keys: with several instances
//! behind a balancer an attacker gets at most the limit per instance, which stays far from useful
//! against 12-character passwords.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys remembered; when full, expired keys go first, then the stalest unlocked ones.
pub const MAX_KEYS: usize = 50_000;

/// How many failures a key may have in a window, and how long it is locked after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

/// The limits for account names and client addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub account: Limit,
    pub client: Limit,
}

impl Default for Limits {
    /// 5 failures per account and 20 per address in 15 minutes; 15 minutes of lockout.
    fn default() -> Self {
        let quarter = Duration::from_secs(15 * 60);
        Limits {
            account: Limit {
                failures: 5,
                window: quarter,
                lockout: quarter,
            },
            client: Limit {
                failures: 20,
                window: quarter,
                lockout: quarter,
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

impl Entry {
    fn expired(&self, now: Instant, limit: &Limit) -> bool {
        self.locked_until.is_none_or(|t| t <= now) && now >= self.window_start + limit.window
    }
}

/// The throttle shared by every login of this instance.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: Limits,
    max_keys: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

fn account_key(username: &str) -> String {
    let name: String = username.trim().to_lowercase().chars().take(64).collect();
    format!("a:{name}")
}

fn client_key(client: &str) -> String {
    let addr: String = client.chars().take(64).collect();
    format!("c:{addr}")
}

impl LoginThrottle {
    pub fn new(limits: Limits) -> LoginThrottle {
        LoginThrottle::with_capacity(limits, MAX_KEYS)
    }

    /// A throttle remembering at most `max_keys` keys.
    pub fn with_capacity(limits: Limits, max_keys: usize) -> LoginThrottle {
        LoginThrottle {
            limits,
            max_keys: max_keys.max(2),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn limit(&self, key: &str) -> &Limit {
        if key.starts_with("a:") {
            &self.limits.account
        } else {
            &self.limits.client
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves counts that are still meaningful.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(wait)` when the account or the address is locked, with the longer wait of the two.
    pub fn check(&self, username: &str, client: &str, now: Instant) -> Result<(), Duration> {
        let entries = self.lock();
        let wait = [account_key(username), client_key(client)]
            .iter()
            .filter_map(|k| entries.get(k))
            .filter_map(|e| e.locked_until)
            .filter(|&until| until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt against the account and the address.
    pub fn failed(&self, username: &str, client: &str, now: Instant) {
        let mut entries = self.lock();
        for key in [account_key(username), client_key(client)] {
            let limit = *self.limit(&key);
            if !entries.contains_key(&key) && entries.len() >= self.max_keys {
                self.make_room(&mut entries, now);
            }
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                window_start: now,
                locked_until: None,
            });
            if entry.expired(now, &limit) {
                *entry = Entry {
                    failures: 0,
                    window_start: now,
                    locked_until: None,
                };
            }
            entry.failures += 1;
            if entry.failures >= limit.failures {
                entry.locked_until = Some(now + limit.lockout);
            }
        }
    }

    /// Clears the account's count after a successful sign-in.
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(&account_key(username));
    }

    /// Keys remembered (for tests and stats).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn make_room(&self, entries: &mut HashMap<String, Entry>, now: Instant) {
        entries.retain(|key, e| !e.expired(now, self.limit(key)));
        if entries.len() >= self.max_keys {
            let stalest = entries
                .iter()
                .filter(|(_, e)| e.locked_until.is_none_or(|t| t <= now))
                .min_by_key(|(_, e)| e.window_start)
                .map(|(k, _)| k.clone());
            if let Some(key) = stalest {
                entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(Limits::default())
    }

    #[test]
    fn an_account_locks_after_five_failures_and_unlocks_later() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..4 {
            t.failed("vera", &format!("10.0.0.{i}"), start);
            assert!(t.check("vera", "10.0.0.99", start).is_ok());
        }
        t.failed("VERA", "10.0.0.5", start);
        let wait = t.check("vera", "10.0.0.99", start).expect_err("locked");
        assert_eq!(wait, Duration::from_secs(900));
        assert!(
            t.check("eddie", "10.0.0.99", start).is_ok(),
            "others unaffected"
        );
        let later = start + Duration::from_secs(901);
        assert!(t.check("vera", "10.0.0.99", later).is_ok());
    }

    #[test]
    fn an_address_locks_after_twenty_failures_across_accounts() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..19 {
            t.failed(&format!("user{i}"), "192.0.2.7", now);
        }
        assert!(t.check("someone", "192.0.2.7", now).is_ok());
        t.failed("user19", "192.0.2.7", now);
        assert!(t.check("someone", "192.0.2.7", now).is_err());
        assert!(t.check("someone", "192.0.2.8", now).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t = throttle();
        let start = Instant::now();
        for minute in 0..8 {
            t.failed("vera", "x", start + Duration::from_secs(minute * 4 * 60));
        }
        // Failures at minutes 0, 4, 8, 12 then a new window from minute 16: never 5 in one window.
        assert!(t
            .check("vera", "y", start + Duration::from_secs(29 * 60))
            .is_ok());
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..4 {
            t.failed("vera", "a", now);
        }
        t.succeeded("vera");
        t.failed("vera", "a", now);
        assert!(t.check("vera", "b", now).is_ok());
        for _ in 0..15 {
            t.failed("other", "a", now);
        }
        assert!(t.check("vera", "a", now).is_err(), "address at 20 failures");
    }

    #[test]
    fn memory_is_bounded() {
        let t = LoginThrottle::with_capacity(Limits::default(), 100);
        let now = Instant::now();
        for i in 0..1000 {
            t.failed(&format!("u{i}"), "same", now);
        }
        assert!(t.len() <= 100, "{}", t.len());
        assert!(
            t.check("x", "same", now).is_err(),
            "the address lock survives eviction"
        );
    }
}
