//! Sign-in throttling, per account name and per client address: a password cannot be guessed by
//! trying many (one account, many tries), by spraying (one address, many accounts), nor by asking
//! many times at once (attempts in flight count); and an attacker cannot use it to lock a user out.
//!
//! The policy (after OWASP ASVS 5.0, V6 Authentication: controls against brute force and credential
//! stuffing that do not deny service to the legitimate user):
//!
//! - **An address** that has [`Limits::client`] failures (20) in a window of 15 minutes is locked for
//!   15 minutes: its attempts are refused without checking the password. Attempts in flight count
//!   towards the limit, so a burst of parallel guesses gets no more than a sequence would.
//! - **An account** is never locked. Its first [`AccountLimit::failures`] failed attempts (5, in
//!   flight included) in a window go at full speed; past that, attempts are slowed: each waits a
//!   growing delay (1 s, then 2, 4, 8, 16, at most 30 s) before its password is checked, and only one
//!   such slowed attempt runs at a time (others are refused with the wait). The right password, from
//!   any address that is not locked, still signs in, after at most the delay.
//! - A success clears the account's count (not the address's: a sprayer who guesses one password
//!   keeps its count). Account names are counted whether or not the account exists, so the answers
//!   never reveal which names do.
//!
//! The counts live in this instance's memory, bounded to [`MAX_KEYS`] keys: with several instances
//! behind a balancer an attacker gets at most the limits per instance, which stays far from useful
//! against 12-character passwords.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most keys remembered; when full, expired keys go first, then the stalest idle ones.
pub const MAX_KEYS: usize = 50_000;

/// An address's limit: failures in a window, and how long it is locked after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

/// An account's limit: failures in a window at full speed, then a delay that doubles per failure
/// from `first_delay` up to `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLimit {
    pub failures: u32,
    pub window: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

/// The limits for account names and client addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub account: AccountLimit,
    pub client: Limit,
}

impl Default for Limits {
    /// 5 failures per account then 1 s to 30 s of delay; 20 per address then 15 minutes locked;
    /// windows of 15 minutes.
    fn default() -> Self {
        let quarter = Duration::from_secs(15 * 60);
        Limits {
            account: AccountLimit {
                failures: 5,
                window: quarter,
                first_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(30),
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
    /// Attempts admitted and not settled yet.
    in_flight: u32,
    /// A slowed attempt of this account is waiting or being checked.
    slowed: bool,
    window_start: Instant,
    locked_until: Option<Instant>,
}

impl Entry {
    fn new(now: Instant) -> Entry {
        Entry {
            failures: 0,
            in_flight: 0,
            slowed: false,
            window_start: now,
            locked_until: None,
        }
    }

    /// Over: no lock, nothing in flight, and the window is past.
    fn expired(&self, now: Instant, window: Duration) -> bool {
        self.locked_until.is_none_or(|t| t <= now)
            && self.in_flight == 0
            && now >= self.window_start + window
    }
}

/// What a sign-in attempt may do.
#[derive(Debug)]
pub enum Admission {
    /// Check the password now.
    Now(Attempt),
    /// Check it after this delay: the account is past its limit.
    After(Duration, Attempt),
    /// Refused without checking: the address is locked (or at its limit with attempts in flight),
    /// or a slowed attempt of the account is already running. Try again after this long.
    Refused(Refusal, Duration),
}

/// Why an attempt was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures from this address.
    Address,
    /// Another attempt for this account is being slowed.
    AccountBusy,
}

/// An admitted attempt; settle it with [`Attempt::failed`] or [`Attempt::succeeded`] (dropping it
/// unsettled counts nothing, as when the store could not be asked).
#[derive(Debug)]
pub struct Attempt {
    throttle: Arc<LoginThrottle>,
    account: String,
    client: String,
    slowed: bool,
    settled: bool,
}

impl Attempt {
    /// The password was wrong (or the account unknown or inactive).
    pub fn failed(mut self, now: Instant) {
        self.settled = true;
        self.throttle.settle(&self, now, false);
    }

    /// The password was right.
    pub fn succeeded(mut self, now: Instant) {
        self.settled = true;
        self.throttle.settle(&self, now, true);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            let throttle = self.throttle.clone();
            throttle.release(self);
        }
    }
}

/// The throttle shared by every sign-in of this instance.
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
    pub fn new(limits: Limits) -> Arc<LoginThrottle> {
        LoginThrottle::with_capacity(limits, MAX_KEYS)
    }

    /// A throttle remembering at most `max_keys` keys.
    pub fn with_capacity(limits: Limits, max_keys: usize) -> Arc<LoginThrottle> {
        Arc::new(LoginThrottle {
            limits,
            max_keys: max_keys.max(2),
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn window(&self, key: &str) -> Duration {
        if key.starts_with("a:") {
            self.limits.account.window
        } else {
            self.limits.client.window
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves counts that are still meaningful.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The entry of `key`, fresh when its window is over.
    fn entry<'a>(
        &self,
        entries: &'a mut HashMap<String, Entry>,
        key: &str,
        now: Instant,
    ) -> &'a mut Entry {
        if !entries.contains_key(key) && entries.len() >= self.max_keys {
            self.make_room(entries, now);
        }
        let window = self.window(key);
        let entry = entries.entry(key.to_string()).or_insert(Entry::new(now));
        if entry.expired(now, window) {
            *entry = Entry::new(now);
        }
        entry
    }

    /// Decides what an attempt to sign in as `username` from `client` may do.
    pub fn admit(self: &Arc<Self>, username: &str, client: &str, now: Instant) -> Admission {
        let (account, address) = (account_key(username), client_key(client));
        let mut entries = self.lock();
        let limit = self.limits.client;
        let from = self.entry(&mut entries, &address, now);
        if let Some(until) = from.locked_until.filter(|&t| t > now) {
            return Admission::Refused(Refusal::Address, until - now);
        }
        if from.failures + from.in_flight >= limit.failures {
            // At its limit with attempts still in flight: they decide whether it locks.
            return Admission::Refused(Refusal::Address, Duration::from_secs(1));
        }
        let of = self.entry(&mut entries, &account, now);
        let used = of.failures + of.in_flight;
        let past = used.saturating_sub(self.limits.account.failures - 1);
        if past > 0 && of.slowed {
            return Admission::Refused(Refusal::AccountBusy, self.delay(past));
        }
        of.in_flight += 1;
        of.slowed |= past > 0;
        self.entry(&mut entries, &address, now).in_flight += 1;
        let attempt = Attempt {
            throttle: self.clone(),
            account,
            client: address,
            slowed: past > 0,
            settled: false,
        };
        if past > 0 {
            Admission::After(self.delay(past), attempt)
        } else {
            Admission::Now(attempt)
        }
    }

    /// The delay of the `past`-th attempt beyond the account's limit.
    fn delay(&self, past: u32) -> Duration {
        let a = self.limits.account;
        a.first_delay
            .saturating_mul(1u32 << (past - 1).min(16))
            .min(a.max_delay)
    }

    fn settle(&self, attempt: &Attempt, now: Instant, succeeded: bool) {
        let mut entries = self.lock();
        self.release_in(&mut entries, attempt);
        if succeeded {
            entries.remove(&attempt.account);
            return;
        }
        self.entry(&mut entries, &attempt.account, now).failures += 1;
        let limit = self.limits.client;
        let from = self.entry(&mut entries, &attempt.client, now);
        from.failures += 1;
        if from.failures >= limit.failures {
            from.locked_until = Some(now + limit.lockout);
        }
    }

    fn release(&self, attempt: &Attempt) {
        let mut entries = self.lock();
        self.release_in(&mut entries, attempt);
    }

    fn release_in(&self, entries: &mut HashMap<String, Entry>, attempt: &Attempt) {
        if let Some(e) = entries.get_mut(&attempt.account) {
            e.in_flight = e.in_flight.saturating_sub(1);
            if attempt.slowed {
                e.slowed = false;
            }
        }
        if let Some(e) = entries.get_mut(&attempt.client) {
            e.in_flight = e.in_flight.saturating_sub(1);
        }
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
        entries.retain(|key, e| !e.expired(now, self.window(key)));
        if entries.len() >= self.max_keys {
            let stalest = entries
                .iter()
                .filter(|(_, e)| e.locked_until.is_none_or(|t| t <= now) && e.in_flight == 0)
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

    fn throttle() -> Arc<LoginThrottle> {
        LoginThrottle::new(Limits::default())
    }

    /// Admits and fails an attempt at once (as a wrong password does).
    fn fail(t: &Arc<LoginThrottle>, user: &str, client: &str, now: Instant) -> Admission {
        match t.admit(user, client, now) {
            Admission::Now(a) | Admission::After(_, a) => {
                a.failed(now);
                Admission::Refused(Refusal::Address, Duration::ZERO)
            }
            refused => refused,
        }
    }

    #[test]
    fn an_account_is_slowed_past_five_failures_never_locked() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..5 {
            match t.admit("vera", &format!("10.0.0.{i}"), start) {
                Admission::Now(a) => a.failed(start),
                other => panic!("attempt {i}: {other:?}"),
            }
        }
        // The sixth waits a second, the seventh two, ... at most thirty.
        for (i, want) in [1, 2, 4, 8, 16, 30, 30].into_iter().enumerate() {
            match t.admit("VERA", &format!("10.1.0.{i}"), start) {
                Admission::After(delay, a) => {
                    assert_eq!(delay, Duration::from_secs(want));
                    a.failed(start);
                }
                other => panic!("attempt {i}: {other:?}"),
            }
        }
        // The right password from a new address still gets in, after the delay.
        match t.admit("vera", "192.0.2.200", start) {
            Admission::After(delay, a) => {
                assert_eq!(delay, Duration::from_secs(30));
                a.succeeded(start);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            t.admit("vera", "192.0.2.201", start),
            Admission::Now(_)
        ));
        assert!(matches!(
            t.admit("eddie", "10.0.0.99", start),
            Admission::Now(_)
        ));
    }

    #[test]
    fn a_parallel_burst_gets_no_more_tries_than_a_sequence() {
        let t = throttle();
        let now = Instant::now();
        // Fifty guesses at once from fifty addresses, none settled yet.
        let admitted: Vec<Admission> = (0..50)
            .map(|i| t.admit("vera", &format!("198.51.100.{i}"), now))
            .collect();
        let at_once = admitted
            .iter()
            .filter(|a| matches!(a, Admission::Now(_)))
            .count();
        let slowed = admitted
            .iter()
            .filter(|a| matches!(a, Admission::After(..)))
            .count();
        assert_eq!(
            (at_once, slowed),
            (5, 1),
            "five at full speed, one slowed, the rest refused"
        );
        assert!(admitted
            .iter()
            .skip(6)
            .all(|a| matches!(a, Admission::Refused(Refusal::AccountBusy, _))));
    }

    #[test]
    fn an_address_locks_after_twenty_failures_counting_those_in_flight() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..19 {
            fail(&t, &format!("user{i}"), "192.0.2.7", now);
        }
        let last = t.admit("user19", "192.0.2.7", now);
        assert!(
            matches!(
                t.admit("user20", "192.0.2.7", now),
                Admission::Refused(Refusal::Address, _)
            ),
            "the twentieth in flight counts"
        );
        if let Admission::Now(a) = last {
            a.failed(now);
        }
        match t.admit("someone", "192.0.2.7", now) {
            Admission::Refused(Refusal::Address, wait) => {
                assert_eq!(wait, Duration::from_secs(900))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            t.admit("someone", "192.0.2.8", now),
            Admission::Now(_)
        ));
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t = throttle();
        let start = Instant::now();
        for minute in 0..8 {
            fail(
                &t,
                "vera",
                "x",
                start + Duration::from_secs(minute * 4 * 60),
            );
        }
        // Failures at minutes 0, 4, 8, 12 then a new window from minute 16: never 5 in one window.
        assert!(matches!(
            t.admit("vera", "y", start + Duration::from_secs(29 * 60)),
            Admission::Now(_)
        ));
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..4 {
            fail(&t, "vera", "a", now);
        }
        match t.admit("vera", "a", now) {
            Admission::Now(a) => a.succeeded(now),
            other => panic!("{other:?}"),
        }
        fail(&t, "vera", "a", now);
        assert!(matches!(t.admit("vera", "b", now), Admission::Now(_)));
        for _ in 0..15 {
            fail(&t, "other", "a", now);
        }
        assert!(
            matches!(
                t.admit("vera", "a", now),
                Admission::Refused(Refusal::Address, _)
            ),
            "address at 20 failures"
        );
    }

    #[test]
    fn an_unsettled_attempt_counts_nothing() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..10 {
            drop(t.admit("vera", "a", now));
        }
        assert!(matches!(t.admit("vera", "a", now), Admission::Now(_)));
    }

    #[test]
    fn memory_is_bounded() {
        let t = LoginThrottle::with_capacity(Limits::default(), 100);
        let now = Instant::now();
        for i in 0..1000 {
            fail(&t, &format!("u{i}"), &format!("c{}", i % 3), now);
        }
        assert!(t.len() <= 100, "{}", t.len());
        for i in 0..20 {
            fail(&t, &format!("v{i}"), "same", now);
        }
        assert!(
            matches!(
                t.admit("x", "same", now),
                Admission::Refused(Refusal::Address, _)
            ),
            "the address lock survives eviction"
        );
    }
}
