//! The cache's figures and health: `get_cache_stats` and `health_check`.

use serde::Serialize;

use super::stats::{self, bump, read, CacheStats, TypeStats};
use super::{memory, CacheService, CacheType};

/// The cache's health, as `health_check` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheHealth {
    /// `healthy` (every configured tier works), `degraded` (Redis failing: memory and loaders
    /// serve), `unavailable` (nothing can be cached: Redis failing and no memory tier).
    pub status: &'static str,
    /// `not_configured`, `up` or `down`.
    pub redis: &'static str,
    pub latency_ms: Option<f64>,
    /// Why Redis is failing or last failed (the seed's `error`): the ping's error, else the last
    /// error a Redis call returned.
    pub error: Option<String>,
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
            last_error: h.error.clone(),
        }
    }
}

impl CacheService {
    /// `get_cache_stats`.
    pub async fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        let by_type: Vec<(CacheType, TypeStats)> = CacheType::ALL
            .iter()
            .map(|&t| (t, c.type_stats(t, self.ttl(t).as_secs())))
            .collect();
        self.inner.memory.run_pending_tasks().await;
        // What the memory tier holds, per type (the seed's `memory_used` and `total_keys`).
        let mut held = [(0u64, 0u64); CacheType::ALL.len()];
        let now = tokio::time::Instant::now();
        for (key, entry) in self.inner.memory.iter() {
            if entry.expires_at <= now {
                continue;
            }
            if let Some(i) = CacheType::ALL.iter().position(|&t| t == entry.kind) {
                held[i].0 += memory::weight(&key, &entry) as u64;
                held[i].1 += 1;
            }
        }
        let by_type: Vec<(CacheType, TypeStats)> = by_type
            .into_iter()
            .zip(held)
            .map(|((t, s), (bytes, keys))| {
                let s = TypeStats {
                    memory_used: bytes,
                    total_keys: keys,
                    ..s
                };
                (t, s)
            })
            .collect();
        let overall = stats::sum(&by_type.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>());
        let usage = match &self.inner.redis {
            Some(redis) => redis.usage().await.ok(),
            None => None,
        };
        CacheStats {
            hit_rate: overall.hit_rate,
            memory_used: overall.memory_used,
            total_keys: overall.total_keys,
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
                error: None,
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
            error: ping.err().or_else(|| redis.last_error()),
            subscribed,
        }
    }
}
