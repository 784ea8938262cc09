//! The Redis relay: with `REDIS_URL` set, every message a session queues is published on one
//! channel, and every instance queues the messages of the other instances for its own members of the
//! session (its own echoes are recognised by the instance id and ignored).
//!
//! The publisher drains what is waiting and sends it as one pipeline. The subscriber reconnects
//! with backoff when Redis goes away; once subscribed again it sends every local session a forced
//! `resync`, since Redis pub/sub is at-most-once and messages published meanwhile are lost.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::optimizer::{Relayed, WeakOptimizer, WebSocketOptimizer};
use super::protocol::ServerMessage;

/// The channel every instance publishes to and listens on.
pub const CHANNEL: &str = "pmr:ws";
/// Messages waiting for Redis before new ones are dropped.
const OUTBOX: usize = 16_384;
/// Most messages in one pipeline.
const PIPELINE: usize = 256;
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// A relayed message on the channel.
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    /// The publishing instance.
    #[serde(borrow)]
    o: &'a str,
    /// The session.
    #[serde(borrow)]
    s: &'a str,
    /// Forced (urgent).
    #[serde(default)]
    f: bool,
    /// The conflation key, for ephemeral messages.
    #[serde(default, borrow)]
    c: Option<&'a str>,
    /// The message itself.
    #[serde(borrow)]
    m: &'a RawValue,
}

/// Starts relaying `optimizer`'s sessions through the Redis at `client`.
pub fn spawn(optimizer: &WebSocketOptimizer, client: redis::Client) {
    let (tx, rx) = mpsc::channel(OUTBOX);
    optimizer.set_relay(tx);
    let instance = optimizer.instance_id().to_string();
    tokio::spawn(publisher(client.clone(), rx, instance));
    tokio::spawn(subscriber(client, optimizer.downgrade()));
}

async fn publisher(client: redis::Client, mut rx: mpsc::Receiver<Relayed>, instance: String) {
    let mut backoff = BACKOFF_MIN;
    let mut conn = loop {
        match redis::aio::ConnectionManager::new(client.clone()).await {
            Ok(conn) => break conn,
            Err(e) => {
                tracing::debug!(error = %e, "collaboration relay cannot reach Redis yet");
                // Nothing waits for Redis: what is queued meanwhile is dropped.
                while rx.try_recv().is_ok() {}
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    };
    let mut batch = Vec::with_capacity(PIPELINE);
    let mut warned_at: Option<tokio::time::Instant> = None;
    while rx.recv_many(&mut batch, PIPELINE).await > 0 {
        let mut pipe = redis::pipe();
        for m in batch.drain(..) {
            let Ok(raw) = RawValue::from_string(m.json.into()) else {
                continue;
            };
            let envelope = Envelope {
                o: &instance,
                s: &m.session,
                f: m.force,
                c: m.conflate.as_deref(),
                m: &raw,
            };
            if let Ok(payload) = serde_json::to_string(&envelope) {
                pipe.publish(CHANNEL, payload).ignore();
            }
        }
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            if warned_at.is_none_or(|t| t.elapsed() > Duration::from_secs(30)) {
                tracing::warn!(error = %e, "collaboration messages could not be relayed through Redis");
                warned_at = Some(tokio::time::Instant::now());
            }
        }
    }
}

async fn subscriber(client: redis::Client, optimizer: WeakOptimizer) {
    let mut backoff = BACKOFF_MIN;
    let mut first = true;
    loop {
        let connected = tokio::time::timeout(Duration::from_secs(2), async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let Ok(Ok(pubsub)) = connected else {
            if optimizer.upgrade().is_none() {
                return;
            }
            first = false;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            continue;
        };
        backoff = BACKOFF_MIN;
        let Some(o) = optimizer.upgrade() else { return };
        let me = o.instance_id().to_string();
        if !first {
            tracing::info!("collaboration relay subscribed again; clients resync");
            o.queue_everywhere_local(&ServerMessage::Resync {}, true);
        }
        first = false;
        drop(o);
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Some(o) = optimizer.upgrade() else { return };
            let payload: &[u8] = msg.get_payload_bytes();
            match serde_json::from_slice::<Envelope>(payload) {
                Ok(e) if e.o == me => {}
                Ok(e) => o.deliver_remote(Relayed {
                    session: e.s.into(),
                    json: e.m.get().into(),
                    force: e.f,
                    conflate: e.c.map(Into::into),
                }),
                Err(e) => tracing::warn!(error = %e, "unreadable collaboration relay message"),
            }
        }
        tracing::warn!("collaboration relay lost Redis; reconnecting");
    }
}
