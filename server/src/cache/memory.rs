//! The memory tier: a moka cache in this process, bounded by bytes (each entry weighs its key and
//! serialized value), each entry with its own lifetime.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use moka::notification::RemovalCause;

use super::stats::{bump, Counters};
use super::{CacheConfig, CacheKey, CacheService, CacheType};

/// One entry of the memory tier.
#[derive(Debug)]
pub(super) struct LocalEntry {
    pub bytes: Bytes,
    pub kind: CacheType,
    pub project: Option<i64>,
    pub report: Option<i64>,
    pub ttl: Duration,
    /// Checked on every read with tokio's clock (so tests can pause time); moka's own expiry, on
    /// the same lifetime, frees the memory.
    pub expires_at: tokio::time::Instant,
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

/// What an entry weighs against the tier's capacity: its key, its value and a fixed overhead.
pub(super) fn weight(key: &str, entry: &LocalEntry) -> usize {
    key.len() + entry.bytes.len() + 96
}

/// The memory tier for `config`, counting size evictions in `counters`.
pub(super) fn tier(
    config: &CacheConfig,
    counters: &Arc<Counters>,
) -> moka::future::Cache<String, Arc<LocalEntry>> {
    let evicted = counters.clone();
    moka::future::Cache::builder()
        .max_capacity(config.memory_bytes)
        .weigher(|key: &String, entry: &Arc<LocalEntry>| {
            u32::try_from(weight(key, entry)).unwrap_or(u32::MAX)
        })
        .expire_after(EntryExpiry)
        .support_invalidation_closures()
        .eviction_listener(move |_key, _value, cause| {
            if cause == RemovalCause::Size {
                bump(&evicted.evictions);
            }
        })
        .build()
}

impl CacheService {
    /// A memory-tier read, honouring the entry's own lifetime.
    pub(super) async fn memory_get(&self, rendered: &str) -> Option<Bytes> {
        let entry = self.inner.memory.get(rendered).await?;
        if tokio::time::Instant::now() >= entry.expires_at {
            self.inner.memory.invalidate(rendered).await;
            return None;
        }
        Some(entry.bytes.clone())
    }

    /// Fills the memory tier unless an invalidation happened since `epoch` (the value may be stale).
    pub(super) async fn memory_put(
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
}
