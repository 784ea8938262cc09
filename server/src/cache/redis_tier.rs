//! The Redis tier: shared by every instance, reached through one auto-reconnecting
//! `ConnectionManager`, and never a source of errors for readers (every failure is reported to the
//! caller as `Err`, which the service turns into a miss).
//!
//! Bulk invalidation without `KEYS`/`SCAN`: each value is stored in an envelope stamped with the
//! generation counters of everything that covers it (all, its type, its project, its report); an
//! invalidation increments the counter of its scope. A read fetches the value and the current counters
//! in one `MGET` and treats a value whose stamps are behind as stale. Values written by a loader that
//! started before an invalidation carry the old stamps, so they are stale on arrival: no race.
//!
//! A small circuit breaker skips Redis for a moment after a failure, so an outage costs one timeout,
//! not one per request; warnings about failures are rate-limited.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use super::keys::{CacheKey, Scope, NAMESPACE};

/// The pub/sub channel of invalidations.
pub fn channel() -> String {
    format!("{NAMESPACE}:invalidate")
}

/// How long Redis is left alone after a failed call.
const BREAK_FOR: Duration = Duration::from_millis(500);
/// At most one warning about Redis failures per this period.
const WARN_EVERY: Duration = Duration::from_secs(30);
/// Bytes of the stamp header of a stored value.
const HEADER: usize = 32;

/// Generation counters covering a key: all, its type, its project, its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamps(pub [u64; 4]);

/// The outcome of a Redis lookup.
#[derive(Debug)]
pub enum Lookup {
    Hit(Bytes),
    /// Nothing usable; the current stamps, for writing the loaded value.
    Miss {
        stamps: Stamps,
        stale: bool,
    },
}

/// Why a Redis call did not happen or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisFailure {
    /// Skipped: Redis failed a moment ago.
    Skipped,
    Failed(String),
}

/// The Redis side of the cache.
pub struct RedisTier {
    client: redis::Client,
    conn: ConnectionManager,
    timeout: Duration,
    broken_until: Mutex<Option<Instant>>,
    last_error: Mutex<Option<String>>,
    warned: Mutex<(Option<Instant>, u64)>,
    /// Whether the invalidation subscriber is connected.
    pub subscribed: AtomicBool,
}

fn gen_keys(key: &CacheKey) -> [String; 4] {
    let opt = |v: Option<i64>| v.map_or_else(|| "none".to_string(), |v| v.to_string());
    [
        format!("{NAMESPACE}:gen:all"),
        format!("{NAMESPACE}:gen:t:{}", key.kind),
        format!("{NAMESPACE}:gen:p:{}", opt(key.project)),
        format!("{NAMESPACE}:gen:r:{}", opt(key.report)),
    ]
}

fn encode(stamps: Stamps, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    for s in stamps.0 {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.extend_from_slice(payload);
    out
}

fn decode(stored: &[u8]) -> Option<(Stamps, &[u8])> {
    if stored.len() < HEADER {
        return None;
    }
    let mut stamps = [0u64; 4];
    for (i, s) in stamps.iter_mut().enumerate() {
        let bytes: [u8; 8] = stored[i * 8..i * 8 + 8].try_into().ok()?;
        *s = u64::from_le_bytes(bytes);
    }
    Some((Stamps(stamps), &stored[HEADER..]))
}

impl RedisTier {
    /// A tier for `url`; connects lazily, so the app starts whether or not Redis is up.
    pub fn new(url: &str, timeout: Duration) -> Result<RedisTier, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid REDIS_URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("cannot set up the Redis connection: {e}"))?;
        Ok(RedisTier {
            client,
            conn,
            timeout,
            broken_until: Mutex::new(None),
            last_error: Mutex::new(None),
            warned: Mutex::new((None, 0)),
            subscribed: AtomicBool::new(false),
        })
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The last failure's message, if any failure happened since start.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    /// Whether calls are being skipped after a recent failure.
    pub fn is_broken(&self) -> bool {
        lock(&self.broken_until).is_some_and(|t| Instant::now() < t)
    }

    fn check(&self) -> Result<(), RedisFailure> {
        if self.is_broken() {
            Err(RedisFailure::Skipped)
        } else {
            Ok(())
        }
    }

    /// Records a failure: opens the breaker, remembers the message, warns at most every 30 s.
    fn failed(&self, what: &str, err: impl ToString) -> RedisFailure {
        let message = format!("{what}: {}", err.to_string());
        *lock(&self.broken_until) = Some(Instant::now() + BREAK_FOR);
        *lock(&self.last_error) = Some(message.clone());
        let mut warned = lock(&self.warned);
        let due = warned.0.is_none_or(|t| t.elapsed() >= WARN_EVERY);
        if due {
            tracing::warn!(
                suppressed = warned.1,
                "Redis cache tier failing, serving from memory and loaders: {message}"
            );
            *warned = (Some(Instant::now()), 0);
        } else {
            warned.1 += 1;
        }
        RedisFailure::Failed(message)
    }

    /// Runs one call within the timeout, through the breaker.
    async fn call<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, RedisFailure> {
        self.check()?;
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.failed(what, e)),
            Err(_) => Err(self.failed(what, format!("no answer within {:?}", self.timeout))),
        }
    }

    /// The value under `rendered` if its stamps are current, else the current stamps.
    pub async fn get(&self, key: &CacheKey, rendered: &str) -> Result<Lookup, RedisFailure> {
        let gens = gen_keys(key);
        let mut conn = self.conn.clone();
        let keys = [rendered, &gens[0], &gens[1], &gens[2], &gens[3]];
        let values: Vec<Option<Vec<u8>>> = self.call("MGET", conn.mget(&keys[..])).await?;
        let mut current = [0u64; 4];
        for (i, slot) in current.iter_mut().enumerate() {
            *slot = values
                .get(i + 1)
                .and_then(|v| v.as_deref())
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
        let current = Stamps(current);
        match values.first().and_then(|v| v.as_deref()).and_then(decode) {
            Some((stamps, payload)) if stamps == current => {
                Ok(Lookup::Hit(Bytes::copy_from_slice(payload)))
            }
            Some(_) => Ok(Lookup::Miss {
                stamps: current,
                stale: true,
            }),
            None => Ok(Lookup::Miss {
                stamps: current,
                stale: false,
            }),
        }
    }

    /// Stores a value stamped with the generations read before it was loaded.
    pub async fn set(
        &self,
        rendered: &str,
        stamps: Stamps,
        payload: &[u8],
        ttl: Duration,
    ) -> Result<(), RedisFailure> {
        let mut conn = self.conn.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let stored = encode(stamps, payload);
        self.call("SET", conn.pset_ex::<_, _, ()>(rendered, stored, millis))
            .await
    }

    /// Applies an invalidation in Redis (generation bump or delete) and publishes it, atomically.
    pub async fn invalidate(&self, scope: &Scope, message: &str) -> Result<(), RedisFailure> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        match scope {
            Scope::All => {
                pipe.incr(format!("{NAMESPACE}:gen:all"), 1).ignore();
            }
            Scope::Type { kind } => {
                pipe.incr(format!("{NAMESPACE}:gen:t:{kind}"), 1).ignore();
            }
            Scope::Project { project, reports } => {
                pipe.incr(format!("{NAMESPACE}:gen:p:{project}"), 1)
                    .ignore();
                for r in reports {
                    pipe.incr(format!("{NAMESPACE}:gen:r:{r}"), 1).ignore();
                }
            }
            Scope::Report { report } => {
                pipe.incr(format!("{NAMESPACE}:gen:r:{report}"), 1).ignore();
            }
            Scope::Key { key } => {
                pipe.del(key).ignore();
            }
        }
        pipe.publish(channel(), message).ignore();
        let mut conn = self.conn.clone();
        self.call("invalidate", pipe.query_async::<()>(&mut conn))
            .await
    }

    /// Redis `used_memory` and the number of keys.
    pub async fn usage(&self) -> Result<(u64, u64), RedisFailure> {
        let mut conn = self.conn.clone();
        let info: String = self
            .call(
                "INFO",
                redis::cmd("INFO").arg("memory").query_async(&mut conn),
            )
            .await?;
        let used = info
            .lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let keys: u64 = self
            .call("DBSIZE", redis::cmd("DBSIZE").query_async(&mut conn))
            .await?;
        Ok((used, keys))
    }

    /// `PING` round trip, bypassing the breaker (health checks must see recovery).
    pub async fn ping(&self) -> Result<Duration, String> {
        let started = Instant::now();
        let mut conn = self.conn.clone();
        match tokio::time::timeout(
            self.timeout,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await
        {
            Ok(Ok(_)) => {
                *lock(&self.broken_until) = None;
                Ok(started.elapsed())
            }
            Ok(Err(e)) => Err(self.failed("PING", e).to_string()),
            Err(_) => Err(self
                .failed("PING", format!("no answer within {:?}", self.timeout))
                .to_string()),
        }
    }

    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }
}

impl std::fmt::Display for RedisFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedisFailure::Skipped => f.write_str("skipped: Redis failed a moment ago"),
            RedisFailure::Failed(m) => f.write_str(m),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_refuse_short_values() {
        let stored = encode(Stamps([1, 2, 3, 4]), b"{\"a\":1}");
        let (stamps, payload) = decode(&stored).expect("decodes");
        assert_eq!(stamps, Stamps([1, 2, 3, 4]));
        assert_eq!(payload, b"{\"a\":1}");
        assert!(decode(b"short").is_none());
    }

    #[test]
    fn generation_keys_name_every_cover() {
        let keys = gen_keys(&CacheKey::monte_carlo(3, "x"));
        assert_eq!(
            keys,
            [
                "pmr:v1:gen:all",
                "pmr:v1:gen:t:monte_carlo",
                "pmr:v1:gen:p:3",
                "pmr:v1:gen:r:none"
            ]
        );
    }
}
