//! Counters of the cache, overall and per type: lock-free atomics bumped on the request path, read
//! into a [`CacheStats`] snapshot on demand.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::keys::CacheType;

/// Counters of one type.
#[derive(Debug, Default)]
pub(super) struct TypeCounters {
    pub local_hits: AtomicU64,
    pub redis_hits: AtomicU64,
    pub misses: AtomicU64,
    pub loads: AtomicU64,
    pub load_errors: AtomicU64,
    pub oversized: AtomicU64,
    pub writes: AtomicU64,
}

/// Every counter of a cache service.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub types: [TypeCounters; 5],
    pub invalidations: AtomicU64,
    pub evictions: AtomicU64,
    pub redis_errors: AtomicU64,
    pub redis_skipped: AtomicU64,
    pub stale_redis_entries: AtomicU64,
    pub remote_invalidations: AtomicU64,
    pub resyncs: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub(super) fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Hits, misses and hit rate of one type (or of all).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TypeStats {
    pub hits: u64,
    /// Hits served by this instance's memory.
    pub local_hits: u64,
    /// Hits served by Redis.
    pub redis_hits: u64,
    pub misses: u64,
    /// Hits over lookups, in percent (0 before any lookup).
    pub hit_rate: f64,
    /// Loader runs (one per concurrent miss of a key).
    pub loads: u64,
    pub load_errors: u64,
    /// Values not cached because they were larger than the configured limit.
    pub oversized: u64,
    pub writes: u64,
    /// The lifetime given to new entries, in seconds.
    pub ttl_seconds: u64,
    /// The seed's `memory_used` and `total_keys`: bytes (as the memory tier weighs them) and entries
    /// this instance's memory tier holds. Redis's own figures are [`CacheStats::redis_used_memory_bytes`]
    /// and [`CacheStats::redis_keys`].
    pub memory_used: u64,
    pub total_keys: u64,
}

/// A snapshot of the cache's state.
#[derive(Debug, Clone, Serialize)]
pub struct CacheStats {
    /// The seed's top-level names: the overall hit rate (percent), and the bytes and entries of this
    /// instance's memory tier (the same as `overall`'s).
    pub hit_rate: f64,
    pub memory_used: u64,
    pub total_keys: u64,
    pub overall: TypeStats,
    pub by_type: BTreeMap<&'static str, TypeStats>,
    /// Entries in this instance's memory tier.
    pub local_entries: u64,
    /// Bytes weighed in this instance's memory tier, and its capacity.
    pub local_bytes: u64,
    pub local_capacity_bytes: u64,
    /// Entries evicted from memory to stay within capacity.
    pub evictions: u64,
    pub invalidations: u64,
    /// Invalidations received from other instances.
    pub remote_invalidations: u64,
    /// Times the memory tier was cleared after Redis came back (messages may have been missed).
    pub resyncs: u64,
    pub redis_enabled: bool,
    /// Failed Redis calls (each served as a miss), and calls skipped while Redis was known down.
    pub redis_errors: u64,
    pub redis_skipped: u64,
    /// Redis entries found but written before a later invalidation (ignored).
    pub stale_redis_entries: u64,
    /// Redis `used_memory` and key count, when Redis answers.
    pub redis_used_memory_bytes: Option<u64>,
    pub redis_keys: Option<u64>,
}

impl From<&TypeStats> for app::performance::CacheTypeStats {
    fn from(s: &TypeStats) -> Self {
        app::performance::CacheTypeStats {
            hits: s.hits,
            misses: s.misses,
            hit_rate: s.hit_rate,
            loads: s.loads,
            oversized: s.oversized,
            ttl_seconds: s.ttl_seconds,
        }
    }
}

/// The dashboard's part of the figures.
impl From<&CacheStats> for app::performance::CacheOverview {
    fn from(s: &CacheStats) -> Self {
        app::performance::CacheOverview {
            overall: (&s.overall).into(),
            by_type: s
                .by_type
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.into()))
                .collect(),
            local_entries: s.local_entries,
            local_bytes: s.local_bytes,
            local_capacity_bytes: s.local_capacity_bytes,
            evictions: s.evictions,
            redis_enabled: s.redis_enabled,
            redis_errors: s.redis_errors,
            redis_used_memory_bytes: s.redis_used_memory_bytes,
            redis_keys: s.redis_keys,
        }
    }
}

impl Counters {
    pub(super) fn of(&self, kind: CacheType) -> &TypeCounters {
        &self.types[kind.index()]
    }

    pub(super) fn type_stats(&self, kind: CacheType, ttl_seconds: u64) -> TypeStats {
        let c = self.of(kind);
        finish(TypeStats {
            local_hits: read(&c.local_hits),
            redis_hits: read(&c.redis_hits),
            misses: read(&c.misses),
            loads: read(&c.loads),
            load_errors: read(&c.load_errors),
            oversized: read(&c.oversized),
            writes: read(&c.writes),
            ttl_seconds,
            ..TypeStats::default()
        })
    }

    pub(super) fn evictions(&self) -> u64 {
        read(&self.evictions)
    }
}

/// Fills in the derived fields.
pub(super) fn finish(mut s: TypeStats) -> TypeStats {
    s.hits = s.local_hits + s.redis_hits;
    let lookups = s.hits + s.misses;
    s.hit_rate = if lookups == 0 {
        0.0
    } else {
        (s.hits as f64 / lookups as f64 * 1000.0).round() / 10.0
    };
    s
}

/// Sums per-type stats into the overall figures.
pub(super) fn sum(parts: &[TypeStats]) -> TypeStats {
    let mut total = TypeStats::default();
    for p in parts {
        total.local_hits += p.local_hits;
        total.redis_hits += p.redis_hits;
        total.misses += p.misses;
        total.loads += p.loads;
        total.load_errors += p.load_errors;
        total.oversized += p.oversized;
        total.writes += p.writes;
        total.memory_used += p.memory_used;
        total.total_keys += p.total_keys;
    }
    finish(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_rates_are_percentages() {
        let s = finish(TypeStats {
            local_hits: 6,
            redis_hits: 1,
            misses: 1,
            ..TypeStats::default()
        });
        assert_eq!((s.hits, s.hit_rate), (7, 87.5));
        assert_eq!(finish(TypeStats::default()).hit_rate, 0.0);
        let held = TypeStats {
            memory_used: 300,
            total_keys: 2,
            ..s.clone()
        };
        let total = sum(&[held, s]);
        assert_eq!((total.hits, total.misses, total.hit_rate), (14, 2, 87.5));
        assert_eq!((total.memory_used, total.total_keys), (300, 2));
    }
}
