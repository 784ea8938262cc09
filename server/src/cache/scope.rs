//! Invalidation: dropping what a scope covers here, and on every instance through Redis; what
//! another instance sent; and the resync after the subscriber was away.

use std::sync::atomic::Ordering;

use super::redis_tier::RedisFailure;
use super::stats::bump;
use super::{lock, BusMessage, CacheService, CacheType, Scope};

impl CacheService {
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

    /// `clear`: one type, or everything.
    pub async fn clear(&self, kind: Option<CacheType>) {
        self.invalidate(match kind {
            Some(kind) => Scope::Type { kind },
            None => Scope::All,
        })
        .await;
    }
}
