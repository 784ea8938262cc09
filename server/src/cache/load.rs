//! The read path: memory, then Redis, then the loader (once for concurrent misses of a key), filling
//! both tiers; and direct reads and writes of one key.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::redis_tier::{Lookup, RedisFailure, Stamps};
use super::stats::bump;
use super::{encode, lock, CacheKey, CacheService, SharedError};

impl CacheService {
    /// The cached value, or the loader's (stored in both tiers). Concurrent misses of one key run
    /// the loader once. A loader error is returned (to every caller that waited for it) and not
    /// cached; a Redis failure is a miss.
    pub async fn get_or_load<T, E, Fut>(
        &self,
        key: &CacheKey,
        ttl: Option<Duration>,
        load: impl FnOnce() -> Fut,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        E: Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>>,
    {
        self.get_or_load_if(key, ttl, load, |_: &T| true).await
    }

    /// As [`get_or_load`](Self::get_or_load), caching the loaded value only when `keep` says so
    /// (e.g. not an insight set that fell back to the rules engine).
    pub async fn get_or_load_if<T, E, F, Fut>(
        &self,
        key: &CacheKey,
        ttl: Option<Duration>,
        load: F,
        keep: impl Fn(&T) -> bool,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // The loader runs at most once: as the flight's loader, or below if the shared bytes do not
        // decode (which a value that cannot round-trip through JSON would cause).
        let load = Mutex::new(Some(load));
        let produced = Mutex::new(None::<T>);
        let bytes = self
            .get_or_load_raw(
                key,
                ttl,
                || async {
                    let run = lock(&load).take().expect("a flight runs its loader once");
                    let value = run().await?;
                    let bytes = encode(&value);
                    let round_trips = serde_json::from_slice::<T>(&bytes).is_ok();
                    let cache_it = keep(&value) && round_trips;
                    *lock(&produced) = Some(value);
                    Ok((bytes, cache_it))
                },
                |bytes| serde_json::from_slice::<T>(bytes).is_ok(),
            )
            .await?;
        if let Some(value) = lock(&produced).take() {
            return Ok(value);
        }
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(value),
            Err(_) => {
                let run = lock(&load).take().expect("a waiter still holds its loader");
                run().await
            }
        }
    }

    /// The core of the read path, on JSON bytes. `load` returns the bytes and whether to keep them;
    /// `valid` checks bytes read from the other tiers (a value that fails it is a miss).
    pub async fn get_or_load_raw<E, Fut>(
        &self,
        key: &CacheKey,
        ttl: Option<Duration>,
        load: impl FnOnce() -> Fut,
        valid: impl Fn(&[u8]) -> bool,
    ) -> Result<Bytes, E>
    where
        E: Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(Bytes, bool), E>>,
    {
        let rendered = key.render();
        let counters = self.inner.counters.of(key.kind);
        // Memory entries were checked on the way in (loaded here, or validated from Redis).
        if let Some(bytes) = self.memory_get(&rendered).await {
            bump(&counters.local_hits);
            return Ok(bytes);
        }
        let flight = {
            let mut flights = lock(&self.inner.flights);
            flights.entry(rendered.clone()).or_default().clone()
        };
        let ttl = ttl.unwrap_or_else(|| self.ttl(key.kind));
        let outcome = flight
            .get_or_init(|| self.fetch(key, &rendered, ttl, load, &valid))
            .await
            .clone();
        {
            let mut flights = lock(&self.inner.flights);
            if flights
                .get(&rendered)
                .is_some_and(|f| Arc::ptr_eq(f, &flight))
            {
                flights.remove(&rendered);
            }
        }
        outcome.map_err(|shared| {
            shared
                .downcast_ref::<E>()
                .cloned()
                .unwrap_or_else(|| panic!("loader error of {rendered} has another type"))
        })
    }

    /// Redis, then the loader; fills both tiers.
    async fn fetch<E, Fut>(
        &self,
        key: &CacheKey,
        rendered: &str,
        ttl: Duration,
        load: impl FnOnce() -> Fut,
        valid: &impl Fn(&[u8]) -> bool,
    ) -> Result<Bytes, SharedError>
    where
        E: Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(Bytes, bool), E>>,
    {
        let counters = self.inner.counters.of(key.kind);
        let epoch = self.inner.epoch.load(Ordering::Acquire);
        let mut stamps: Option<Stamps> = None;
        if let Some(redis) = &self.inner.redis {
            match redis.get(key, rendered).await {
                Ok(Lookup::Hit(bytes)) if valid(&bytes) => {
                    bump(&counters.redis_hits);
                    self.memory_put(key, rendered, &bytes, ttl, epoch).await;
                    return Ok(bytes);
                }
                Ok(Lookup::Hit(_)) => {}
                Ok(Lookup::Miss { stamps: s, stale }) => {
                    if stale {
                        bump(&self.inner.counters.stale_redis_entries);
                    }
                    stamps = Some(s);
                }
                Err(RedisFailure::Skipped) => bump(&self.inner.counters.redis_skipped),
                Err(RedisFailure::Failed(_)) => bump(&self.inner.counters.redis_errors),
            }
        }
        bump(&counters.misses);
        bump(&counters.loads);
        let (bytes, keep) = match load().await {
            Ok(loaded) => loaded,
            Err(e) => {
                bump(&counters.load_errors);
                return Err(Arc::new(e));
            }
        };
        if !keep {
            return Ok(bytes);
        }
        if bytes.len() > self.inner.config.max_value_bytes {
            bump(&counters.oversized);
            return Ok(bytes);
        }
        self.memory_put(key, rendered, &bytes, ttl, epoch).await;
        if let (Some(redis), Some(stamps)) = (&self.inner.redis, stamps) {
            match redis.set(rendered, stamps, &bytes, ttl).await {
                Ok(()) => {}
                Err(RedisFailure::Skipped) => bump(&self.inner.counters.redis_skipped),
                Err(RedisFailure::Failed(_)) => bump(&self.inner.counters.redis_errors),
            }
        }
        bump(&counters.writes);
        Ok(bytes)
    }

    /// Stores a value directly (the seed's `cache_*` operations).
    pub async fn put<T: Serialize>(&self, key: &CacheKey, value: &T, ttl: Option<Duration>) {
        let bytes = encode(value);
        let ttl = ttl.unwrap_or_else(|| self.ttl(key.kind));
        let counters = self.inner.counters.of(key.kind);
        if bytes.len() > self.inner.config.max_value_bytes {
            bump(&counters.oversized);
            return;
        }
        let rendered = key.render();
        let epoch = self.inner.epoch.load(Ordering::Acquire);
        let stamps = match &self.inner.redis {
            Some(redis) => match redis.get(key, &rendered).await {
                Ok(Lookup::Miss { stamps, .. }) => Some(stamps),
                Ok(Lookup::Hit(_)) => None,
                Err(_) => {
                    bump(&self.inner.counters.redis_errors);
                    None
                }
            },
            None => None,
        };
        self.memory_put(key, &rendered, &bytes, ttl, epoch).await;
        if let (Some(redis), Some(stamps)) = (&self.inner.redis, stamps) {
            if redis.set(&rendered, stamps, &bytes, ttl).await.is_err() {
                bump(&self.inner.counters.redis_errors);
            }
        }
        bump(&counters.writes);
    }

    /// The cached value, if any, without loading (the seed's `get_cached_*` operations).
    pub async fn get<T: DeserializeOwned>(&self, key: &CacheKey) -> Option<T> {
        let rendered = key.render();
        let counters = self.inner.counters.of(key.kind);
        if let Some(bytes) = self.memory_get(&rendered).await {
            if let Ok(value) = serde_json::from_slice(&bytes) {
                bump(&counters.local_hits);
                return Some(value);
            }
        }
        if let Some(redis) = &self.inner.redis {
            let epoch = self.inner.epoch.load(Ordering::Acquire);
            match redis.get(key, &rendered).await {
                Ok(Lookup::Hit(bytes)) => {
                    if let Ok(value) = serde_json::from_slice(&bytes) {
                        bump(&counters.redis_hits);
                        self.memory_put(key, &rendered, &bytes, self.ttl(key.kind), epoch)
                            .await;
                        return Some(value);
                    }
                }
                Ok(Lookup::Miss { .. }) => {}
                Err(RedisFailure::Skipped) => bump(&self.inner.counters.redis_skipped),
                Err(RedisFailure::Failed(_)) => bump(&self.inner.counters.redis_errors),
            }
        }
        bump(&counters.misses);
        None
    }
}
