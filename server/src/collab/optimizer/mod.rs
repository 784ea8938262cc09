//! The seed's `websocket_optimizer`: the transport of every collaboration session on this
//! instance. [`WebSocketOptimizer`] is the front; behind it:
//!
//! - `registry.rs`: who is connected to which session, the caps (instance, session, a user's share
//!   of a session), metadata, activity, the idle sweep and the closes the server asks for;
//! - `batching.rs`: the batching policy ([`batching::Batcher`], a plain value with no I/O: size,
//!   window, forced messages after what waits, conflation) and the batch envelope;
//! - `delivery.rs`: each session's task (a bounded queue in, the policy, frames out) and each
//!   connection's outbound queue, bounded in bytes (a connection past it is a slow consumer, closed);
//! - `relaying.rs`: the hub's side of the Redis relay (numbered messages out, others' in);
//! - `stats.rs`: the counters and the figures of `GET …/websocket/stats`.

mod batching;
mod delivery;
mod registry;
mod relaying;
mod stats;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

pub use app::collab::protocol::CloseCode;
use app::collab::protocol::ServerMessage;
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use self::batching::{BatchPolicy, Queued};
use self::delivery::{start_session, Outbox};
pub use self::delivery::{Outgoing, SESSION_QUEUE};
use self::registry::Registry;
pub use self::relaying::{RelayOutbox, Relayed};
use self::stats::{count, Counters};
pub use self::stats::{MemberStats, OptimizerStats, SessionStats};
use super::WsConfig;
use crate::monitor::{Metric, Monitor, Recorder};

/// Why a connection could not join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub CloseCode);

struct Inner {
    config: WsConfig,
    instance: String,
    registry: Registry,
    counters: Counters,
    relay: OnceLock<RelayOutbox>,
    /// `websocket_message_latency` of the frames sent alone with `force_send`, and of the others.
    latency: Option<Latency>,
}

struct Latency {
    forced: Recorder,
    queued: Recorder,
}

/// A handle that does not keep the optimizer alive (for its background tasks).
#[derive(Clone)]
pub struct WeakOptimizer(Weak<Inner>);

impl WeakOptimizer {
    pub fn upgrade(&self) -> Option<WebSocketOptimizer> {
        self.0.upgrade().map(|inner| WebSocketOptimizer { inner })
    }
}

/// The transport of every collaboration session on this instance. Cheap to clone.
#[derive(Clone)]
pub struct WebSocketOptimizer {
    inner: Arc<Inner>,
}

/// A registered connection: its id, what the session sends it, and the close the server asks for.
/// Dropping it leaves the session.
pub struct Connection {
    pub id: u64,
    pub session_id: Arc<str>,
    pub close: watch::Receiver<Option<CloseCode>>,
    outbox: Arc<Outbox>,
    optimizer: WebSocketOptimizer,
}

impl Connection {
    /// Waits until something may be there for the connection's writer: a frame, a close asked for,
    /// or whatever its [`Wake`] handles were woken for. A wake while nobody waits is kept (one), so
    /// a writer that looks at everything first and then waits misses nothing.
    pub async fn ready(&self) {
        self.outbox.ready().await;
    }

    /// A handle that wakes this connection's writer (for the frames it sends that are not the
    /// session's: the replies to what its client sent).
    pub fn wake_handle(&self) -> Wake {
        Wake(self.outbox.clone())
    }

    /// The next frame if one waits.
    pub fn try_next_frame(&self) -> Option<Outgoing> {
        self.outbox.try_next()
    }

    /// Marks a frame as written: its bytes leave the queue, and its latency is recorded.
    pub fn written(&self, out: &Outgoing) {
        self.outbox.written(out);
        if let Some(latency) = &self.optimizer.inner.latency {
            let ms = out.queued_at.elapsed().as_secs_f64() * 1000.0;
            let series = if out.forced {
                &latency.forced
            } else {
                &latency.queued
            };
            series.record(ms);
        }
    }

    /// Bytes queued for this connection and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.outbox.bytes()
    }
}

/// Wakes one connection's writer ([`Connection::wake_handle`]).
#[derive(Clone)]
pub struct Wake(Arc<Outbox>);

impl Wake {
    pub fn wake(&self) {
        self.0.wake();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.optimizer
            .inner
            .registry
            .leave(&self.session_id, self.id);
    }
}

impl WebSocketOptimizer {
    /// A transport with these settings; `instance` names this instance (unique among those sharing
    /// Redis) and `monitor` receives `websocket_message_latency`.
    pub fn new(config: WsConfig, instance: String, monitor: Option<Monitor>) -> WebSocketOptimizer {
        WebSocketOptimizer {
            inner: Arc::new(Inner {
                config,
                instance,
                registry: Registry::new(),
                counters: Counters::default(),
                relay: OnceLock::new(),
                latency: monitor.map(|m| Latency {
                    forced: m.recorder(Metric::WebsocketMessageLatency, &[("delivery", "forced")]),
                    queued: m.recorder(Metric::WebsocketMessageLatency, &[("delivery", "queued")]),
                }),
            }),
        }
    }

    pub fn downgrade(&self) -> WeakOptimizer {
        WeakOptimizer(Arc::downgrade(&self.inner))
    }

    pub fn config(&self) -> &WsConfig {
        &self.inner.config
    }

    pub fn instance_id(&self) -> &str {
        &self.inner.instance
    }

    /// Joins a connection to a session (created on its first connection). Refused when the
    /// instance, the session or the user's share of it is at its cap.
    pub fn register_connection(
        &self,
        session_id: &str,
        user_id: &str,
        metadata: serde_json::Value,
    ) -> Result<Connection, Refused> {
        let config = &self.inner.config;
        let policy = BatchPolicy {
            enabled: config.batching,
            max_size: config.batch_max_size,
            max_wait: config.batch_max_wait,
            // Half the outbound queue: a batch frame always fits it, with room for what waits.
            max_bytes: config.outbound_queue_bytes / 2,
        };
        let weak = Arc::downgrade(&self.inner);
        let joined = self
            .inner
            .registry
            .join(config, session_id, user_id, metadata, |key| {
                start_session(weak, key, policy)
            })
            .map_err(|code| {
                count(&self.inner.counters.refused, 1);
                Refused(code)
            })?;
        Ok(Connection {
            id: joined.id,
            session_id: joined.session,
            close: joined.outbox.close.subscribe(),
            outbox: joined.outbox,
            optimizer: self.clone(),
        })
    }

    /// The metadata of every connection of a session on this instance, oldest connection first.
    pub fn members(&self, session_id: &str) -> Vec<serde_json::Value> {
        self.inner.registry.metadata(session_id)
    }

    /// Replaces a connection's metadata (its presence changed).
    pub fn set_metadata(&self, session_id: &str, id: u64, metadata: serde_json::Value) {
        self.inner.registry.set_metadata(session_id, id, metadata);
    }

    /// Counts a message received from a connection as its activity.
    pub fn touch(&self, session_id: &str, id: u64, bytes: usize) {
        let c = &self.inner.counters;
        count(&c.messages_in, 1);
        count(&c.bytes_in, bytes as u64);
        self.inner.registry.touch(session_id, id, bytes);
    }

    /// Sends every session's messages to other instances through `outbox` from now on.
    pub fn set_relay(&self, outbox: RelayOutbox) {
        let _ = self.inner.relay.set(outbox);
    }

    pub fn redis_enabled(&self) -> bool {
        self.inner.relay.get().is_some()
    }

    /// Queues a message for every connection of a session, here and (with Redis) on the other
    /// instances. `force_send` sends it at once, after whatever was queued before it.
    pub fn queue_message(&self, session_id: &str, message: &impl Serialize, force_send: bool) {
        self.queue(session_id, message, force_send, None);
    }

    /// Queues an ephemeral message that a newer one with the same `key` may replace while both wait
    /// in a batch (typing indicators).
    pub fn queue_conflatable(&self, session_id: &str, key: &str, message: &impl Serialize) {
        self.queue(session_id, message, false, Some(key));
    }

    fn queue(
        &self,
        session_id: &str,
        message: &impl Serialize,
        force: bool,
        conflate: Option<&str>,
    ) {
        let json: Box<str> = match serde_json::to_string(message) {
            Ok(json) => json.into(),
            Err(e) => {
                tracing::error!(error = %e, "a collaboration message does not encode");
                return;
            }
        };
        let conflate: Option<Box<str>> = conflate.map(Into::into);
        if let Some(relay) = self.inner.relay.get() {
            let sent = relay.send(Relayed {
                session: session_id.into(),
                json: json.clone(),
                force,
                conflate: conflate.clone(),
                number: 0,
            });
            if !sent {
                self.count_relay_dropped(1);
            }
        }
        self.queue_local(session_id, json, force, conflate);
    }

    /// Counts relayed messages lost on their way out (the outbox was full, or Redis refused them).
    pub fn count_relay_dropped(&self, n: u64) {
        count(&self.inner.counters.relay_dropped, n);
    }

    /// Another instance's stream of relayed messages had a gap: this instance missed at least one
    /// of them, perhaps an edit. Every local connection is told to `resync`, which catches it up from
    /// the store.
    pub fn relay_gap(&self) {
        count(&self.inner.counters.relay_gaps, 1);
        self.queue_everywhere_local(&ServerMessage::Resync {}, true);
    }

    /// Queues a message that another instance published, for this instance's connections only.
    pub fn deliver_remote(&self, m: Relayed) {
        self.queue_local(&m.session, m.json, m.force, m.conflate);
    }

    fn queue_local(
        &self,
        session_id: &str,
        json: Box<str>,
        force: bool,
        conflate: Option<Box<str>>,
    ) {
        let m = Queued {
            json,
            force,
            conflate,
            at: Instant::now(),
        };
        self.inner.registry.with_queue(session_id, |q| q.send(m));
    }

    /// Queues a message for every session on this instance (not relayed): the resync after Redis
    /// came back.
    pub fn queue_everywhere_local(&self, message: &impl Serialize, force: bool) {
        let Ok(json) = serde_json::to_string(message) else {
            return;
        };
        self.inner.registry.each_queue(|queue| {
            queue.send(Queued {
                json: json.as_str().into(),
                force,
                conflate: None,
                at: Instant::now(),
            });
        });
    }

    /// Closes every connection idle for longer than the idle timeout; answers how many.
    pub fn sweep_idle(&self) -> usize {
        let closed = self
            .inner
            .registry
            .close_idle(self.inner.config.idle_timeout);
        count(&self.inner.counters.idle_closed, closed as u64);
        closed
    }

    /// Runs [`Self::sweep_idle`] every `every` for as long as the optimizer lives.
    pub fn spawn_idle_sweeper(&self, every: Duration) {
        let weak = self.downgrade();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(optimizer) = weak.upgrade() else {
                    return;
                };
                let closed = optimizer.sweep_idle();
                if closed > 0 {
                    tracing::info!(closed, "closed idle collaboration connections");
                }
            }
        });
    }

    /// Closes a connection that does not read the answers to what it sent, and counts it.
    pub fn close_slow_consumer(&self, session_id: &str, id: u64) {
        if self.close_connection(session_id, id, CloseCode::SLOW_CONSUMER) {
            count(&self.inner.counters.slow_consumers, 1);
            tracing::info!(
                session = session_id,
                "closing a collaboration connection that does not read its answers"
            );
        }
    }

    /// Asks one connection to close with `code` (its rights ended); false if it is gone.
    pub fn close_connection(&self, session_id: &str, id: u64, code: CloseCode) -> bool {
        self.inner.registry.close(session_id, id, code)
    }

    /// Asks every connection to close (shutdown).
    pub fn close_all(&self, code: CloseCode) {
        self.inner.registry.close_all(code);
    }

    /// Resolves once no connection of this instance is left (after [`close_all`](Self::close_all):
    /// once each has written what it had and its close frame, or given up on a client that does not
    /// read). A shutdown waits for it, or the process could end with close frames still unwritten.
    pub async fn connections_ended(&self) {
        while self.inner.registry.connections() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The instance's figures (the seed's `get_stats()`).
    pub fn get_stats(&self) -> OptimizerStats {
        let config = &self.inner.config;
        let sessions = self.inner.registry.all_stats();
        OptimizerStats {
            total_connections: self.inner.registry.connections() as u64,
            total_sessions: sessions.len() as u64,
            redis_enabled: self.redis_enabled(),
            batching_enabled: config.batching,
            batch_max_size: config.batch_max_size as u64,
            batch_max_wait_ms: config.batch_max_wait.as_millis() as u64,
            sessions,
            ..OptimizerStats::from_counters(&self.inner.counters)
        }
    }

    /// One session's figures (the seed's `get_session_stats(session_id)`); `None` when no one on
    /// this instance is connected to it.
    pub fn get_session_stats(&self, session_id: &str) -> Option<SessionStats> {
        self.inner.registry.stats(session_id)
    }
}
