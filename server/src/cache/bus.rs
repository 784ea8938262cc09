//! The invalidation subscriber: one task per cache service with Redis. It subscribes to the
//! invalidation channel, applies other instances' messages to the memory tier (its own are ignored
//! by instance id), and when the connection drops it retries with backoff; once subscribed again it
//! clears the memory tier (messages sent meanwhile are lost: Redis pub/sub is at-most-once) and sends
//! the invalidations that could not be published while Redis was away.

use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::Duration;

use futures_util::StreamExt;

use super::redis_tier::channel;
use super::{BusMessage, CacheService, Inner};

/// First and longest wait between reconnection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Runs until the cache service is dropped.
pub(super) async fn run(inner: Weak<Inner>) {
    let mut backoff = BACKOFF_MIN;
    let mut first = true;
    loop {
        let Some(service) = inner.upgrade().map(|inner| CacheService { inner }) else {
            return;
        };
        let Some(redis) = service.inner.redis.clone() else {
            return;
        };
        let connected = tokio::time::timeout(Duration::from_secs(2), async {
            let mut pubsub = redis.client().get_async_pubsub().await?;
            pubsub.subscribe(channel()).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let pubsub = match connected {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "cache invalidation subscriber cannot connect");
                first = false;
                drop(service);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
            Err(_) => {
                first = false;
                drop(service);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        backoff = BACKOFF_MIN;
        redis.subscribed.store(true, Ordering::Relaxed);
        if !first {
            tracing::info!("cache invalidation subscriber reconnected; memory tier cleared");
            service.resync().await;
        }
        first = false;
        let me = service.instance_id().to_string();
        drop(service);
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Some(service) = inner.upgrade().map(|inner| CacheService { inner }) else {
                return;
            };
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<BusMessage>(&payload) {
                Ok(m) if m.origin == me => {}
                Ok(m) => service.apply_remote(&m.scope).await,
                Err(e) => tracing::warn!(error = %e, "unreadable cache invalidation message"),
            }
        }
        redis.subscribed.store(false, Ordering::Relaxed);
        tracing::warn!("cache invalidation subscriber lost Redis; reconnecting");
    }
}
