//! The cache service (the seed's `PMRCacheService`): two tiers, coherent across instances, never a
//! source of errors.
//!
//! - **Memory tier**: a moka cache in this process, bounded by bytes (each entry weighs its key and
//!   serialized value), with each entry's own lifetime. Without `REDIS_URL` it serves alone.
//! - **Redis tier** ([`redis_tier`]): shared by every instance; stamped values make bulk
//!   invalidation a counter increment, and Redis failures are misses, counted and warned about at a
//!   limited rate.
//! - **Coherence** ([`bus`]): every invalidation is published; the other instances drop their memory
//!   copies. After the subscriber reconnects, the memory tier is cleared (messages may have been
//!   missed), and invalidations that could not be published are sent then.
//! - **Stampede protection**: concurrent misses of one key run the loader once; the others wait for
//!   its result (or its error).
//! - Values are stored as their JSON bytes, so the REST API can serve a cached report without
//!   re-encoding it; values larger than the configured limit are served but not cached (and counted).
//!
//! The rest of the code calls [`CacheService::get_or_load`] (or `_raw` for bytes) and
//! [`CacheService::invalidate`]; the seed's per-type operations (`cache_report`, `get_cached_report`,
//! `invalidate_report`, ...) are thin wrappers kept for its API.

pub mod bus;
pub mod keys;
pub mod redis_tier;
pub mod stats;

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use moka::notification::RemovalCause;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

pub use keys::{input_digest, CacheKey, CacheType, Scope};
use redis_tier::{Lookup, RedisFailure, RedisTier, Stamps};
use stats::{bump, read, Counters};
pub use stats::{CacheStats, TypeStats};

/// Settings of the cache service; from the configuration.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Lifetime of new entries per type, indexed like [`CacheType::ALL`].
    pub ttls: [Duration; 5],
    /// Capacity of the memory tier in bytes (0 disables it).
    pub memory_bytes: u64,
    /// Values whose JSON is larger than this are not cached.
    pub max_value_bytes: usize,
    /// Longest wait for one Redis call before treating it as failed.
    pub redis_timeout: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            ttls: CacheType::ALL.map(CacheType::default_ttl),
            memory_bytes: 64 * 1024 * 1024,
            max_value_bytes: 2 * 1024 * 1024,
            redis_timeout: Duration::from_millis(250),
        }
    }
}

/// One entry of the memory tier.
#[derive(Debug)]
struct LocalEntry {
    bytes: Bytes,
    kind: CacheType,
    project: Option<i64>,
    report: Option<i64>,
    ttl: Duration,
    /// Checked on every read with tokio's clock (so tests can pause time); moka's own expiry, on
    /// the same lifetime, frees the memory.
    expires_at: tokio::time::Instant,
}

struct EntryExpiry;

impl moka::Expiry<String, Arc<LocalEntry>> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<LocalEntry>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A loader's failure, shared with the callers that waited for it.
type SharedError = Arc<dyn Any + Send + Sync>;
type Flight = Arc<OnceCell<Result<Bytes, SharedError>>>;

/// State shared by clones of the service.
struct Inner {
    memory: moka::future::Cache<String, Arc<LocalEntry>>,
    redis: Option<Arc<RedisTier>>,
    config: CacheConfig,
    counters: Arc<Counters>,
    /// Bumped by every invalidation; a load that saw another epoch does not fill the memory tier.
    epoch: AtomicU64,
    flights: Mutex<HashMap<String, Flight>>,
    /// This instance's id on the invalidation channel (its own messages are ignored).
    instance: String,
    /// Invalidations Redis did not take; sent again after the subscriber reconnects.
    pending: Mutex<Vec<Scope>>,
    subscriber: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.subscriber).take() {
            task.abort();
        }
    }
}

/// A handle on the cache that does not keep it alive.
#[derive(Clone)]
pub struct WeakCache(std::sync::Weak<Inner>);

impl WeakCache {
    /// The cache, if it still exists.
    pub fn upgrade(&self) -> Option<CacheService> {
        self.0.upgrade().map(|inner| CacheService { inner })
    }
}

/// The cache service; cheap to clone.
#[derive(Clone)]
pub struct CacheService {
    inner: Arc<Inner>,
}

/// The cache's health, as `health_check` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheHealth {
    /// `healthy` (every configured tier works), `degraded` (Redis failing: memory and loaders
    /// serve), `unavailable` (nothing can be cached: Redis failing and no memory tier).
    pub status: &'static str,
    /// `not_configured`, `up` or `down`.
    pub redis: &'static str,
    pub latency_ms: Option<f64>,
    pub last_error: Option<String>,
    /// Whether this instance receives other instances' invalidations.
    pub subscribed: bool,
}

/// The dashboard's part of the health.
impl From<&CacheHealth> for app::performance::CacheHealth {
    fn from(h: &CacheHealth) -> Self {
        app::performance::CacheHealth {
            status: h.status.into(),
            redis: h.redis.into(),
            latency_ms: h.latency_ms,
            last_error: h.last_error.clone(),
        }
    }
}

/// A message on the invalidation channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusMessage {
    pub origin: String,
    #[serde(flatten)]
    pub scope: Scope,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CacheService {
    /// A cache with the memory tier alone.
    pub fn in_memory(config: CacheConfig) -> CacheService {
        CacheService::build(config, None)
    }

    /// A cache with Redis behind the memory tier (when `redis_url` is given), and its invalidation
    /// subscriber running. Must be called inside a Tokio runtime.
    pub fn new(config: CacheConfig, redis_url: Option<&str>) -> Result<CacheService, String> {
        let redis = redis_url
            .map(|url| RedisTier::new(url, config.redis_timeout))
            .transpose()?
            .map(Arc::new);
        let service = CacheService::build(config, redis);
        if service.inner.redis.is_some() {
            let task = tokio::spawn(bus::run(Arc::downgrade(&service.inner)));
            *lock(&service.inner.subscriber) = Some(task);
        }
        Ok(service)
    }

    fn build(config: CacheConfig, redis: Option<Arc<RedisTier>>) -> CacheService {
        let counters = Arc::new(Counters::default());
        let evicted = counters.clone();
        let memory = moka::future::Cache::builder()
            .max_capacity(config.memory_bytes)
            .weigher(|key: &String, entry: &Arc<LocalEntry>| {
                u32::try_from(key.len() + entry.bytes.len() + 96).unwrap_or(u32::MAX)
            })
            .expire_after(EntryExpiry)
            .support_invalidation_closures()
            .eviction_listener(move |_key, _value, cause| {
                if cause == RemovalCause::Size {
                    bump(&evicted.evictions);
                }
            })
            .build();
        let mut id = [0u8; 8];
        getrandom::getrandom(&mut id)
            .unwrap_or_else(|e| panic!("the OS random source failed: {e}"));
        CacheService {
            inner: Arc::new(Inner {
                memory,
                redis,
                config,
                counters,
                epoch: AtomicU64::new(0),
                flights: Mutex::new(HashMap::new()),
                instance: id.iter().map(|b| format!("{b:02x}")).collect(),
                pending: Mutex::new(Vec::new()),
                subscriber: Mutex::new(None),
            }),
        }
    }

    /// A handle that does not keep the cache alive (for background tasks).
    pub fn downgrade(&self) -> WeakCache {
        WeakCache(Arc::downgrade(&self.inner))
    }

    /// Hits and misses of every type since start.
    pub fn lookups(&self) -> (u64, u64) {
        let c = &self.inner.counters;
        CacheType::ALL.iter().fold((0, 0), |(h, m), &t| {
            let s = c.of(t);
            (
                h + read(&s.local_hits) + read(&s.redis_hits),
                m + read(&s.misses),
            )
        })
    }

    /// This instance's id on the invalidation channel.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance
    }

    /// The lifetime given to new entries of a type.
    pub fn ttl(&self, kind: CacheType) -> Duration {
        self.inner.config.ttls[kind.index()]
    }

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

    /// A memory-tier read, honouring the entry's own lifetime.
    async fn memory_get(&self, rendered: &str) -> Option<Bytes> {
        let entry = self.inner.memory.get(rendered).await?;
        if tokio::time::Instant::now() >= entry.expires_at {
            self.inner.memory.invalidate(rendered).await;
            return None;
        }
        Some(entry.bytes.clone())
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

    /// Fills the memory tier unless an invalidation happened since `epoch` (the value may be stale).
    async fn memory_put(
        &self,
        key: &CacheKey,
        rendered: &str,
        bytes: &Bytes,
        ttl: Duration,
        epoch: u64,
    ) {
        if self.inner.config.memory_bytes == 0 || self.inner.epoch.load(Ordering::Acquire) != epoch
        {
            return;
        }
        let entry = LocalEntry {
            bytes: bytes.clone(),
            kind: key.kind,
            project: key.project,
            report: key.report,
            ttl,
            expires_at: tokio::time::Instant::now() + ttl,
        };
        self.inner
            .memory
            .insert(rendered.to_string(), Arc::new(entry))
            .await;
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

    /// Drops everything `scope` covers, here and (through Redis) on every instance.
    pub async fn invalidate(&self, scope: Scope) {
        bump(&self.inner.counters.invalidations);
        self.drop_local(&scope).await;
        let Some(redis) = &self.inner.redis else {
            return;
        };
        let message = serde_json::to_string(&BusMessage {
            origin: self.inner.instance.clone(),
            scope: scope.clone(),
        })
        .unwrap_or_default();
        if let Err(e) = redis.invalidate(&scope, &message).await {
            if matches!(e, RedisFailure::Failed(_)) {
                bump(&self.inner.counters.redis_errors);
            }
            // Other instances may keep copies until this reaches them; send it again later.
            let mut pending = lock(&self.inner.pending);
            if pending.len() < 10_000 && !pending.contains(&scope) {
                pending.push(scope);
            }
        }
    }

    /// Drops this instance's memory copies under `scope`.
    async fn drop_local(&self, scope: &Scope) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        match scope {
            Scope::All => self.inner.memory.invalidate_all(),
            Scope::Key { key } => self.inner.memory.invalidate(key).await,
            other => {
                let scope = other.clone();
                // Predicates are registered, not run, here; entries they match are never returned.
                let registered = self.inner.memory.invalidate_entries_if(move |key, entry| {
                    scope.covers(key, entry.kind, entry.project, entry.report)
                });
                if registered.is_err() {
                    self.inner.memory.invalidate_all();
                }
            }
        }
    }

    /// An invalidation received from another instance.
    pub(crate) async fn apply_remote(&self, scope: &Scope) {
        bump(&self.inner.counters.remote_invalidations);
        self.drop_local(scope).await;
    }

    /// After the subscriber reconnected: forget everything local, then send what was pending.
    pub(crate) async fn resync(&self) {
        bump(&self.inner.counters.resyncs);
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.memory.invalidate_all();
        let pending: Vec<Scope> = std::mem::take(&mut *lock(&self.inner.pending));
        for scope in pending {
            self.invalidate(scope).await;
        }
    }

    // The seed's per-type operations.

    /// `cache_report`.
    pub async fn cache_report<T: Serialize>(&self, report: i64, value: &T, ttl: Option<Duration>) {
        self.put(&CacheKey::report_document(report), value, ttl)
            .await;
    }

    /// `get_cached_report`.
    pub async fn get_cached_report<T: DeserializeOwned>(&self, report: i64) -> Option<T> {
        self.get(&CacheKey::report_document(report)).await
    }

    /// `cache_insights`: an insight set, under the digest of its inputs.
    pub async fn cache_insights<T: Serialize>(&self, project: i64, inputs: &str, value: &T) {
        self.put(&CacheKey::insights(project, inputs), value, None)
            .await;
    }

    /// `get_cached_insights`.
    pub async fn get_cached_insights<T: DeserializeOwned>(
        &self,
        project: i64,
        inputs: &str,
    ) -> Option<T> {
        self.get(&CacheKey::insights(project, inputs)).await
    }

    /// `cache_monte_carlo`: a simulation result, under the digest of its inputs.
    pub async fn cache_monte_carlo<T: Serialize>(&self, project: i64, inputs: &str, value: &T) {
        self.put(&CacheKey::monte_carlo(project, inputs), value, None)
            .await;
    }

    /// `get_cached_monte_carlo`.
    pub async fn get_cached_monte_carlo<T: DeserializeOwned>(
        &self,
        project: i64,
        inputs: &str,
    ) -> Option<T> {
        self.get(&CacheKey::monte_carlo(project, inputs)).await
    }

    /// `cache_metrics`: the portfolio's current figures.
    pub async fn cache_metrics<T: Serialize>(&self, value: &T) {
        self.put(&CacheKey::portfolio(), value, None).await;
    }

    /// `get_cached_metrics`.
    pub async fn get_cached_metrics<T: DeserializeOwned>(&self) -> Option<T> {
        self.get(&CacheKey::portfolio()).await
    }

    /// `cache_template`.
    pub async fn cache_template<T: Serialize>(&self, template: i64, value: &T) {
        self.put(&CacheKey::template(template), value, None).await;
    }

    /// `get_cached_template`.
    pub async fn get_cached_template<T: DeserializeOwned>(&self, template: i64) -> Option<T> {
        self.get(&CacheKey::template(template)).await
    }

    /// `invalidate_report`: everything cached for one report.
    pub async fn invalidate_report(&self, report: i64) {
        self.invalidate(Scope::Report { report }).await;
    }

    /// `invalidate_project`: everything of one project and its reports.
    pub async fn invalidate_project(&self, project: i64, reports: Vec<i64>) {
        self.invalidate(Scope::Project { project, reports }).await;
    }

    /// `clear`: one type, or everything.
    pub async fn clear(&self, kind: Option<CacheType>) {
        self.invalidate(match kind {
            Some(kind) => Scope::Type { kind },
            None => Scope::All,
        })
        .await;
    }

    /// `get_cache_stats`.
    pub async fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        let by_type: Vec<(CacheType, TypeStats)> = CacheType::ALL
            .iter()
            .map(|&t| (t, c.type_stats(t, self.ttl(t).as_secs())))
            .collect();
        let overall = stats::sum(&by_type.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>());
        self.inner.memory.run_pending_tasks().await;
        let usage = match &self.inner.redis {
            Some(redis) => redis.usage().await.ok(),
            None => None,
        };
        CacheStats {
            overall,
            by_type: by_type.into_iter().map(|(t, s)| (t.as_str(), s)).collect(),
            local_entries: self.inner.memory.entry_count(),
            local_bytes: self.inner.memory.weighted_size(),
            local_capacity_bytes: self.inner.config.memory_bytes,
            evictions: c.evictions(),
            invalidations: read(&c.invalidations),
            remote_invalidations: read(&c.remote_invalidations),
            resyncs: read(&c.resyncs),
            redis_enabled: self.inner.redis.is_some(),
            redis_errors: read(&c.redis_errors),
            redis_skipped: read(&c.redis_skipped),
            stale_redis_entries: read(&c.stale_redis_entries),
            redis_used_memory_bytes: usage.map(|u| u.0),
            redis_keys: usage.map(|u| u.1),
        }
    }

    /// `health_check`.
    pub async fn health_check(&self) -> CacheHealth {
        let memory = self.inner.config.memory_bytes > 0;
        let Some(redis) = &self.inner.redis else {
            return CacheHealth {
                status: if memory { "healthy" } else { "unavailable" },
                redis: "not_configured",
                latency_ms: None,
                last_error: None,
                subscribed: false,
            };
        };
        let ping = redis.ping().await;
        if ping.is_err() {
            bump(&self.inner.counters.redis_errors);
        }
        let subscribed = redis.is_subscribed();
        let up = ping.is_ok();
        CacheHealth {
            status: match (up && subscribed, memory) {
                (true, _) => "healthy",
                (false, true) => "degraded",
                (false, false) => "unavailable",
            },
            redis: if up { "up" } else { "down" },
            latency_ms: ping
                .as_ref()
                .ok()
                .map(|d| (d.as_secs_f64() * 1e6).round() / 1e3),
            last_error: ping.err().or_else(|| redis.last_error()),
            subscribed,
        }
    }
}

/// A value's JSON bytes. Serializing the app's own types cannot fail; if it ever did, the empty
/// value simply fails to decode and is reloaded.
fn encode<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}
