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

pub mod args;
pub mod bus;
mod health;
pub mod keys;
mod load;
mod memory;
pub mod redis_tier;
mod scope;
mod seed_api;
pub mod stats;

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

pub use health::CacheHealth;
pub use keys::{input_digest, CacheKey, CacheType, Scope};
use memory::LocalEntry;
use redis_tier::RedisTier;
use stats::{read, Counters};
pub use stats::{CacheStats, TypeStats};

/// Settings of the cache service; from the configuration.
#[derive(Debug, Clone, PartialEq)]
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

impl CacheConfig {
    /// The seed's lifetimes ([`CacheType::default_ttl`]), 64 MiB of memory tier, values up to 2 MiB,
    /// 250 ms for a Redis call.
    pub const DEFAULT: CacheConfig = CacheConfig {
        ttls: [
            CacheType::Report.default_ttl(),
            CacheType::Insights.default_ttl(),
            CacheType::MonteCarlo.default_ttl(),
            CacheType::Metrics.default_ttl(),
            CacheType::Template.default_ttl(),
        ],
        memory_bytes: 64 * 1024 * 1024,
        max_value_bytes: 2 * 1024 * 1024,
        redis_timeout: Duration::from_millis(250),
    };
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig::DEFAULT
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
        let memory = memory::tier(&config, &counters);
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
}

/// A value's JSON bytes. Serializing the app's own types cannot fail; if it ever did, the empty
/// value simply fails to decode and is reloaded.
fn encode<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}
