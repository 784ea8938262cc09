//! The seed's `websocket_optimizer`: sessions and their connections, batching, the outbound queues
//! and the transport's figures.
//!
//! A session (one per report) has a batcher task that owns its queue. The first message of a batch
//! starts a `batch_max_wait` window; the batch goes out when the window ends or when it holds
//! `batch_max_size` messages. A batch of several messages is one frame,
//! `{"type":"batch","messages":[...],"count":N,"timestamp":"<RFC 3339>"}`; a batch of one is the
//! message itself, since the envelope would only add bytes. A forced (urgent) message first sends
//! the batch waiting ahead of it, then goes out alone, so nothing overtakes what was queued before
//! it. An ephemeral message with a conflation key replaces the one with the same key waiting in the
//! batch (a typing indicator: only the latest per user is worth sending).
//!
//! A frame is encoded once and shared by every connection of the session. Each connection has an
//! outbound queue bounded in bytes: a connection whose queue would exceed the bound is closed with
//! [`CloseCode::SLOW_CONSUMER`] instead of holding more memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::WsConfig;
use crate::monitor::Monitor;

/// A WebSocket close code with its reason, as the server sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseCode {
    pub code: u16,
    pub reason: &'static str,
}

impl CloseCode {
    pub const GOING_AWAY: CloseCode = CloseCode {
        code: 1001,
        reason: "the server is shutting down",
    };
    pub const TOO_BIG: CloseCode = CloseCode {
        code: 1009,
        reason: "message over the hard size limit",
    };
    pub const SESSION_FULL: CloseCode = CloseCode {
        code: 1013,
        reason: "this report's collaboration session is full; try again later",
    };
    pub const USER_SHARE_FULL: CloseCode = CloseCode {
        code: 1013,
        reason: "you have as many connections to this report as one person may; close one first",
    };
    pub const INSTANCE_FULL: CloseCode = CloseCode {
        code: 1013,
        reason: "this server has no room for another connection; try again later",
    };
    pub const IDLE: CloseCode = CloseCode {
        code: 4001,
        reason: "closed after a long time without activity",
    };
    pub const SLOW_CONSUMER: CloseCode = CloseCode {
        code: 4008,
        reason: "messages were not read fast enough",
    };
    /// The credential ended (signed out, expired, deactivated, revoked): the reason says which.
    pub const ENDED: u16 = 4401;
    /// The caller no longer reaches the report's project.
    pub const NO_ACCESS: u16 = 4403;
}

/// Why a connection could not join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub CloseCode);

/// A frame on its way to one connection.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub frame: Utf8Bytes,
    /// When the oldest message in the frame was queued (for `websocket_message_latency`).
    pub queued_at: Instant,
    /// A message sent with `force_send`, alone: its latency is recorded as `delivery=forced`, the
    /// others' as `delivery=queued`.
    pub forced: bool,
}

/// Counters of the whole instance.
#[derive(Default)]
struct Counters {
    messages_in: AtomicU64,
    bytes_in: AtomicU64,
    messages_out: AtomicU64,
    frames_out: AtomicU64,
    bytes_out: AtomicU64,
    /// Frame bytes (payload and WebSocket header) had every message gone out alone.
    bytes_unbatched: AtomicU64,
    batches: AtomicU64,
    batched_messages: AtomicU64,
    conflated: AtomicU64,
    slow_consumers: AtomicU64,
    idle_closed: AtomicU64,
    refused: AtomicU64,
    relay_dropped: AtomicU64,
    relay_gaps: AtomicU64,
}

/// One message in a session's queue.
struct Queued {
    json: Box<str>,
    force: bool,
    conflate: Option<Box<str>>,
    at: Instant,
}

#[derive(Clone)]
struct Outbound {
    tx: mpsc::UnboundedSender<Outgoing>,
    queued: Arc<AtomicUsize>,
    close: Arc<watch::Sender<Option<CloseCode>>>,
}

struct Member {
    user_id: String,
    metadata: serde_json::Value,
    outbound: Outbound,
    connected: SystemTime,
    last_activity: Instant,
}

struct Session {
    members: HashMap<u64, Member>,
    queue: mpsc::UnboundedSender<Queued>,
    messages: u64,
    bytes: u64,
    last_activity: SystemTime,
}

/// Where messages for other instances go: the Redis relay's outbox. Bounded: while Redis is away
/// the relay drops what does not fit rather than holding it. Every message is numbered (per
/// instance, in the order it is queued, dropped ones included), so another instance that finds a
/// number missing knows it lost a message and has its clients resync from the store.
pub struct RelayOutbox {
    tx: mpsc::Sender<Relayed>,
    /// The last number given; its lock keeps numbers in the outbox's order. The publisher shares
    /// it, to say which number it has handled everything up to when it is idle.
    numbered: Arc<Mutex<u64>>,
}

impl RelayOutbox {
    pub fn new(tx: mpsc::Sender<Relayed>, numbered: Arc<Mutex<u64>>) -> RelayOutbox {
        RelayOutbox { tx, numbered }
    }

    /// Numbers and queues a message; false when the outbox is full (the message is dropped).
    fn send(&self, mut m: Relayed) -> bool {
        let mut last = self
            .numbered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *last += 1;
        m.number = *last;
        self.tx.try_send(m).is_ok()
    }
}

/// A message for the same session on the other instances.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub session: Arc<str>,
    pub json: Box<str>,
    pub force: bool,
    pub conflate: Option<Box<str>>,
    /// Its number in its instance's stream (1, 2, 3…; 0: not numbered).
    pub number: u64,
}

struct Inner {
    config: WsConfig,
    instance: String,
    sessions: Mutex<HashMap<Arc<str>, Session>>,
    connections: AtomicUsize,
    next_id: AtomicU64,
    counters: Counters,
    relay: OnceLock<RelayOutbox>,
    monitor: Option<Monitor>,
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
    pub outbound: mpsc::UnboundedReceiver<Outgoing>,
    pub close: watch::Receiver<Option<CloseCode>>,
    queued: Arc<AtomicUsize>,
    optimizer: WebSocketOptimizer,
}

impl Connection {
    /// Marks a frame as written: its bytes leave the queue, and its latency is recorded.
    pub fn written(&self, out: &Outgoing) {
        self.queued.fetch_sub(out.frame.len(), Ordering::Relaxed);
        if let Some(monitor) = &self.optimizer.inner.monitor {
            let ms = out.queued_at.elapsed().as_secs_f64() * 1000.0;
            let delivery = if out.forced { "forced" } else { "queued" };
            monitor.record(
                "websocket_message_latency",
                ms,
                "ms",
                &[("delivery", delivery)],
            );
        }
    }

    /// Bytes queued for this connection and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.optimizer.unregister(&self.session_id, self.id);
    }
}

/// The instance's figures, as `GET …/websocket/stats` shows them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OptimizerStats {
    pub total_connections: u64,
    pub total_sessions: u64,
    pub redis_enabled: bool,
    pub batching_enabled: bool,
    pub batch_max_size: u64,
    pub batch_max_wait_ms: u64,
    pub messages_in: u64,
    pub bytes_in: u64,
    /// Messages delivered to connections (a message to a session of 5 counts 5).
    pub messages_out: u64,
    pub frames_out: u64,
    pub bytes_out: u64,
    /// Frames of several messages sent.
    pub batches_sent: u64,
    /// Messages per batch, over the batches of several messages.
    pub average_batch_size: f64,
    /// Frames not sent thanks to batching (messages out − frames out).
    pub frames_saved: u64,
    /// Frame bytes (payload and WebSocket header) not sent thanks to batching; negative when the
    /// envelopes cost more than the frame headers they saved.
    pub bytes_saved: i64,
    /// Ephemeral messages dropped because a newer one with the same key replaced them in a batch.
    pub messages_conflated: u64,
    pub slow_consumers_closed: u64,
    pub idle_closed: u64,
    pub connections_refused: u64,
    /// Messages for other instances that never reached Redis (outbox full, or Redis refused them).
    pub relay_dropped: u64,
    /// Gaps found in other instances' relayed streams (each one resyncs this instance's clients).
    pub relay_gaps: u64,
    pub sessions: Vec<SessionStats>,
}

/// One session's figures.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SessionStats {
    pub session_id: String,
    pub connections: u64,
    /// Distinct users connected.
    pub users: Vec<String>,
    pub messages: u64,
    pub bytes: u64,
    /// RFC 3339.
    pub last_activity: String,
    pub members: Vec<MemberStats>,
}

/// One connection of a session.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MemberStats {
    pub connection_id: u64,
    pub user_id: String,
    pub metadata: serde_json::Value,
    /// RFC 3339.
    pub connected_at: String,
    pub idle_seconds: u64,
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Bytes of a server-to-client WebSocket frame header for a payload of `len` bytes.
fn frame_header(len: usize) -> u64 {
    match len {
        0..=125 => 2,
        126..=65_535 => 4,
        _ => 10,
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
                sessions: Mutex::new(HashMap::new()),
                connections: AtomicUsize::new(0),
                next_id: AtomicU64::new(1),
                counters: Counters::default(),
                relay: OnceLock::new(),
                monitor,
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

    /// The metadata of every connection of a session on this instance, oldest connection first.
    pub fn members(&self, session_id: &str) -> Vec<serde_json::Value> {
        let sessions = self.sessions();
        let Some(session) = sessions.get(session_id) else {
            return Vec::new();
        };
        let mut members: Vec<(&u64, &Member)> = session.members.iter().collect();
        members.sort_by_key(|(id, _)| **id);
        members
            .into_iter()
            .map(|(_, m)| m.metadata.clone())
            .collect()
    }

    /// Replaces a connection's metadata (its presence changed).
    pub fn set_metadata(&self, session_id: &str, id: u64, metadata: serde_json::Value) {
        let mut sessions = self.sessions();
        if let Some(member) = sessions
            .get_mut(session_id)
            .and_then(|s| s.members.get_mut(&id))
        {
            member.metadata = metadata;
        }
    }

    /// Sends every session's messages to other instances through `outbox` from now on.
    pub fn set_relay(&self, outbox: RelayOutbox) {
        let _ = self.inner.relay.set(outbox);
    }

    pub fn redis_enabled(&self) -> bool {
        self.inner.relay.get().is_some()
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Session>> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Joins a connection to a session (created on its first connection). Refused when the session
    /// or the instance is at its cap.
    pub fn register_connection(
        &self,
        session_id: &str,
        user_id: &str,
        metadata: serde_json::Value,
    ) -> Result<Connection, Refused> {
        let config = self.inner.config;
        let mut sessions = self.sessions();
        let refuse = |code| {
            self.inner.counters.refused.fetch_add(1, Ordering::Relaxed);
            Err(Refused(code))
        };
        if self.inner.connections.load(Ordering::Relaxed) >= config.max_connections {
            return refuse(CloseCode::INSTANCE_FULL);
        }
        if sessions
            .get(session_id)
            .is_some_and(|s| s.members.len() >= config.max_per_session)
        {
            return refuse(CloseCode::SESSION_FULL);
        }
        if sessions.get(session_id).is_some_and(|s| {
            s.members.values().filter(|m| m.user_id == user_id).count() >= config.max_per_user
        }) {
            return refuse(CloseCode::USER_SHARE_FULL);
        }
        let key: Arc<str> = match sessions.get_key_value(session_id) {
            Some((k, _)) => k.clone(),
            None => {
                let key: Arc<str> = session_id.into();
                let (queue, rx) = mpsc::unbounded_channel();
                tokio::spawn(batcher(
                    Arc::downgrade(&self.inner),
                    key.clone(),
                    rx,
                    config,
                ));
                sessions.insert(
                    key.clone(),
                    Session {
                        members: HashMap::new(),
                        queue,
                        messages: 0,
                        bytes: 0,
                        last_activity: SystemTime::now(),
                    },
                );
                key
            }
        };
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, outbound) = mpsc::unbounded_channel();
        let (close_tx, close) = watch::channel(None);
        let queued = Arc::new(AtomicUsize::new(0));
        let session = sessions.get_mut(&key).expect("inserted above");
        session.members.insert(
            id,
            Member {
                user_id: user_id.to_string(),
                metadata,
                outbound: Outbound {
                    tx,
                    queued: queued.clone(),
                    close: Arc::new(close_tx),
                },
                connected: SystemTime::now(),
                last_activity: Instant::now(),
            },
        );
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Connection {
            id,
            session_id: key,
            outbound,
            close,
            queued,
            optimizer: self.clone(),
        })
    }

    /// Leaves a session; the last one out ends it (its batcher stops with its queue).
    fn unregister(&self, session_id: &str, id: u64) {
        let mut sessions = self.sessions();
        let Some(session) = sessions.get_mut(session_id) else {
            return;
        };
        if session.members.remove(&id).is_some() {
            self.inner.connections.fetch_sub(1, Ordering::Relaxed);
        }
        if session.members.is_empty() {
            sessions.remove(session_id);
        }
    }

    /// Counts a message received from a connection as its activity.
    pub fn touch(&self, session_id: &str, id: u64, bytes: usize) {
        let c = &self.inner.counters;
        c.messages_in.fetch_add(1, Ordering::Relaxed);
        c.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
        let mut sessions = self.sessions();
        if let Some(session) = sessions.get_mut(session_id) {
            session.messages += 1;
            session.bytes += bytes as u64;
            session.last_activity = SystemTime::now();
            if let Some(member) = session.members.get_mut(&id) {
                member.last_activity = Instant::now();
            }
        }
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
        self.inner
            .counters
            .relay_dropped
            .fetch_add(n, Ordering::Relaxed);
    }

    /// Another instance's stream of relayed messages had a gap: this instance missed at least one
    /// of them, perhaps an edit. Every local connection is told to `resync`, which catches it up from
    /// the store.
    pub fn relay_gap(&self) {
        self.inner
            .counters
            .relay_gaps
            .fetch_add(1, Ordering::Relaxed);
        self.queue_everywhere_local(&super::protocol::ServerMessage::Resync {}, true);
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
        let sessions = self.sessions();
        if let Some(session) = sessions.get(session_id) {
            let _ = session.queue.send(Queued {
                json,
                force,
                conflate,
                at: Instant::now(),
            });
        }
    }

    /// Queues a message for every session on this instance (not relayed): the resync after Redis
    /// came back.
    pub fn queue_everywhere_local(&self, message: &impl Serialize, force: bool) {
        let Ok(json) = serde_json::to_string(message) else {
            return;
        };
        let sessions = self.sessions();
        for session in sessions.values() {
            let _ = session.queue.send(Queued {
                json: json.as_str().into(),
                force,
                conflate: None,
                at: Instant::now(),
            });
        }
    }

    /// Closes every connection idle for longer than the idle timeout; answers how many.
    pub fn sweep_idle(&self) -> usize {
        let timeout = self.inner.config.idle_timeout;
        let sessions = self.sessions();
        let mut closed = 0;
        for member in sessions.values().flat_map(|s| s.members.values()) {
            if member.last_activity.elapsed() >= timeout
                && member.outbound.close.send_if_modified(|c| {
                    let first = c.is_none();
                    if first {
                        *c = Some(CloseCode::IDLE);
                    }
                    first
                })
            {
                closed += 1;
            }
        }
        self.inner
            .counters
            .idle_closed
            .fetch_add(closed as u64, Ordering::Relaxed);
        closed
    }

    /// Runs [`Self::sweep_idle`] every `every` for as long as the optimizer lives.
    pub fn spawn_idle_sweeper(&self, every: Duration) {
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = inner.upgrade() else { return };
                let closed = WebSocketOptimizer { inner }.sweep_idle();
                if closed > 0 {
                    tracing::info!(closed, "closed idle collaboration connections");
                }
            }
        });
    }

    /// Closes a connection that does not read the answers to what it sent, and counts it.
    pub fn close_slow_consumer(&self, session_id: &str, id: u64) {
        if self.close_connection(session_id, id, CloseCode::SLOW_CONSUMER) {
            self.inner
                .counters
                .slow_consumers
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                session = session_id,
                "closing a collaboration connection that does not read its answers"
            );
        }
    }

    /// Asks one connection to close with `code` (its rights ended); false if it is gone.
    pub fn close_connection(&self, session_id: &str, id: u64, code: CloseCode) -> bool {
        let sessions = self.sessions();
        let Some(member) = sessions.get(session_id).and_then(|s| s.members.get(&id)) else {
            return false;
        };
        member.outbound.close.send_if_modified(|c| {
            let first = c.is_none();
            if first {
                *c = Some(code);
            }
            first
        })
    }

    /// Asks every connection to close (shutdown).
    pub fn close_all(&self, code: CloseCode) {
        let sessions = self.sessions();
        for member in sessions.values().flat_map(|s| s.members.values()) {
            member.outbound.close.send_replace(Some(code));
        }
    }

    /// The instance's figures (the seed's `get_stats()`).
    pub fn get_stats(&self) -> OptimizerStats {
        let c = &self.inner.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (batches, batched) = (load(&c.batches), load(&c.batched_messages));
        let (messages_out, frames_out) = (load(&c.messages_out), load(&c.frames_out));
        let (unbatched, bytes_out) = (load(&c.bytes_unbatched), load(&c.bytes_out));
        let sessions: Vec<SessionStats> = {
            let sessions = self.sessions();
            let mut all: Vec<SessionStats> = sessions
                .iter()
                .map(|(id, s)| session_stats(id, s))
                .collect();
            all.sort_by(|a, b| a.session_id.cmp(&b.session_id));
            all
        };
        let config = &self.inner.config;
        OptimizerStats {
            total_connections: self.inner.connections.load(Ordering::Relaxed) as u64,
            total_sessions: sessions.len() as u64,
            redis_enabled: self.redis_enabled(),
            batching_enabled: config.batching,
            batch_max_size: config.batch_max_size as u64,
            batch_max_wait_ms: config.batch_max_wait.as_millis() as u64,
            messages_in: load(&c.messages_in),
            bytes_in: load(&c.bytes_in),
            messages_out,
            frames_out,
            bytes_out,
            batches_sent: batches,
            average_batch_size: if batches == 0 {
                0.0
            } else {
                batched as f64 / batches as f64
            },
            frames_saved: messages_out.saturating_sub(frames_out),
            bytes_saved: unbatched as i64 - bytes_out as i64,
            messages_conflated: load(&c.conflated),
            slow_consumers_closed: load(&c.slow_consumers),
            idle_closed: load(&c.idle_closed),
            connections_refused: load(&c.refused),
            relay_dropped: load(&c.relay_dropped),
            relay_gaps: load(&c.relay_gaps),
            sessions,
        }
    }

    /// One session's figures (the seed's `get_session_stats(session_id)`); `None` when no one on
    /// this instance is connected to it.
    pub fn get_session_stats(&self, session_id: &str) -> Option<SessionStats> {
        let sessions = self.sessions();
        sessions
            .get_key_value(session_id)
            .map(|(id, s)| session_stats(id, s))
    }

    /// Sends frames to every connection of a session; closes those whose queue would overflow.
    fn deliver(&self, session_id: &str, batch: &[Queued]) {
        let Some(first) = batch.first() else { return };
        let c = &self.inner.counters;
        let frame: Utf8Bytes = if batch.len() == 1 {
            Utf8Bytes::from(String::from(first.json.as_ref()))
        } else {
            c.batches.fetch_add(1, Ordering::Relaxed);
            c.batched_messages
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            envelope(batch).into()
        };
        let queued_at = batch.iter().map(|q| q.at).min().unwrap_or(first.at);
        let forced = batch.len() == 1 && first.force;
        let alone: u64 = batch
            .iter()
            .map(|q| q.json.len() as u64 + frame_header(q.json.len()))
            .sum();
        let sent = frame.len() as u64 + frame_header(frame.len());
        let cap = self.inner.config.outbound_queue_bytes;
        let sessions = self.sessions();
        let Some(session) = sessions.get(session_id) else {
            return;
        };
        let n = session.members.len() as u64;
        c.frames_out.fetch_add(n, Ordering::Relaxed);
        c.messages_out
            .fetch_add(n * batch.len() as u64, Ordering::Relaxed);
        c.bytes_out.fetch_add(n * sent, Ordering::Relaxed);
        c.bytes_unbatched.fetch_add(n * alone, Ordering::Relaxed);
        for member in session.members.values() {
            let out = &member.outbound;
            let queued = out.queued.fetch_add(frame.len(), Ordering::Relaxed) + frame.len();
            if queued > cap {
                out.queued.fetch_sub(frame.len(), Ordering::Relaxed);
                let first_time = out.close.send_if_modified(|code| {
                    let first = code.is_none();
                    if first {
                        *code = Some(CloseCode::SLOW_CONSUMER);
                    }
                    first
                });
                if first_time {
                    c.slow_consumers.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        session = session_id,
                        user = %member.user_id,
                        queued,
                        "closing a collaboration connection that does not read its messages"
                    );
                }
                continue;
            }
            if out
                .tx
                .send(Outgoing {
                    frame: frame.clone(),
                    queued_at,
                    forced,
                })
                .is_err()
            {
                out.queued.fetch_sub(frame.len(), Ordering::Relaxed);
            }
        }
    }
}

fn session_stats(id: &str, s: &Session) -> SessionStats {
    let mut users: Vec<String> = s.members.values().map(|m| m.user_id.clone()).collect();
    users.sort();
    users.dedup();
    let mut members: Vec<MemberStats> = s
        .members
        .iter()
        .map(|(id, m)| MemberStats {
            connection_id: *id,
            user_id: m.user_id.clone(),
            metadata: m.metadata.clone(),
            connected_at: rfc3339(m.connected),
            idle_seconds: m.last_activity.elapsed().as_secs(),
        })
        .collect();
    members.sort_by_key(|m| m.connection_id);
    SessionStats {
        session_id: id.to_string(),
        connections: s.members.len() as u64,
        users,
        messages: s.messages,
        bytes: s.bytes,
        last_activity: rfc3339(s.last_activity),
        members,
    }
}

/// `{"type":"batch","messages":[...],"count":N,"timestamp":"..."}`, built from the messages' JSON.
fn envelope(batch: &[Queued]) -> String {
    let body: usize = batch.iter().map(|q| q.json.len() + 1).sum();
    let mut out = String::with_capacity(body + 96);
    out.push_str(r#"{"type":"batch","messages":["#);
    for (i, q) in batch.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&q.json);
    }
    out.push_str(r#"],"count":"#);
    out.push_str(&batch.len().to_string());
    out.push_str(r#","timestamp":""#);
    out.push_str(&rfc3339(SystemTime::now()));
    out.push_str(r#""}"#);
    out
}

/// Adds a message to the batch, replacing the waiting one with the same conflation key.
fn push_or_conflate(pending: &mut Vec<Queued>, m: Queued, conflated: &AtomicU64) {
    if let Some(key) = &m.conflate {
        if let Some(slot) = pending
            .iter_mut()
            .find(|p| p.conflate.as_deref() == Some(key))
        {
            // The newer content takes the older one's place and age.
            slot.json = m.json;
            conflated.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
    pending.push(m);
}

/// One session's batcher: runs until the session ends (its queue's sender is dropped).
async fn batcher(
    inner: Weak<Inner>,
    session: Arc<str>,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    config: WsConfig,
) {
    let deliver = |batch: &[Queued]| {
        if let Some(inner) = inner.upgrade() {
            WebSocketOptimizer { inner }.deliver(&session, batch);
        }
    };
    let conflated = |m: Queued, pending: &mut Vec<Queued>| {
        if let Some(inner) = inner.upgrade() {
            push_or_conflate(pending, m, &inner.counters.conflated);
        }
    };
    let mut pending: Vec<Queued> = Vec::with_capacity(config.batch_max_size);
    'batches: loop {
        let Some(first) = rx.recv().await else { return };
        if !config.batching || first.force || config.batch_max_size <= 1 {
            deliver(std::slice::from_ref(&first));
            continue;
        }
        pending.push(first);
        let deadline = Instant::now() + config.batch_max_wait;
        while pending.len() < config.batch_max_size {
            tokio::select! {
                biased;
                next = rx.recv() => match next {
                    None => {
                        deliver(&pending);
                        return;
                    }
                    Some(urgent) if urgent.force => {
                        deliver(&pending);
                        pending.clear();
                        deliver(std::slice::from_ref(&urgent));
                        continue 'batches;
                    }
                    Some(m) => conflated(m, &mut pending),
                },
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        deliver(&pending);
        pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn optimizer(config: WsConfig) -> WebSocketOptimizer {
        WebSocketOptimizer::new(config, "test".into(), None)
    }

    fn join(o: &WebSocketOptimizer, session: &str, user: &str) -> Connection {
        o.register_connection(session, user, json!({"name": user}))
            .expect("joins")
    }

    /// Frames waiting for a connection, parsed.
    fn drain(c: &mut Connection) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(o) = c.outbound.try_recv() {
            c.written(&o);
            out.push(serde_json::from_str(o.frame.as_str()).expect("json frame"));
        }
        out
    }

    /// Lets the batcher task run without moving the clock.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    fn n(i: u64) -> Value {
        json!({"type": "presence", "n": i})
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_goes_out_at_once() {
        let o = optimizer(WsConfig::default());
        let mut c = join(&o, "report-1", "ana");
        for i in 0..10 {
            o.queue_message("report-1", &n(i), false);
        }
        settle().await;
        let frames = drain(&mut c);
        assert_eq!(frames.len(), 1, "ten messages, one frame");
        let batch = &frames[0];
        assert_eq!(batch["type"], "batch");
        assert_eq!(batch["count"], 10);
        let ns: Vec<u64> = batch["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["n"].as_u64().expect("n"))
            .collect();
        assert_eq!(ns, (0..10).collect::<Vec<_>>(), "in queue order");
        let stamp = batch["timestamp"].as_str().expect("timestamp");
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_partial_batch_waits_for_the_timer() {
        let o = optimizer(WsConfig::default());
        let mut c = join(&o, "report-1", "ana");
        for i in 0..3 {
            o.queue_message("report-1", &n(i), false);
        }
        settle().await;
        assert!(drain(&mut c).is_empty(), "nothing before 50 ms");
        tokio::time::advance(Duration::from_millis(49)).await;
        settle().await;
        assert!(drain(&mut c).is_empty(), "nothing at 49 ms");
        tokio::time::advance(Duration::from_millis(1)).await;
        settle().await;
        let frames = drain(&mut c);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0]["count"], 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_of_one_is_the_message_itself() {
        let o = optimizer(WsConfig::default());
        let mut c = join(&o, "report-1", "ana");
        o.queue_message("report-1", &n(7), false);
        settle().await;
        tokio::time::advance(Duration::from_millis(50)).await;
        settle().await;
        assert_eq!(drain(&mut c), vec![n(7)]);
        assert_eq!(o.get_stats().batches_sent, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn forced_and_queued_latencies_are_recorded_apart() {
        let monitor = crate::monitor::Monitor::new(crate::monitor::MonitorConfig::default());
        let o = WebSocketOptimizer::new(WsConfig::default(), "test".into(), Some(monitor.clone()));
        let mut c = join(&o, "report-1", "ana");
        o.queue_message("report-1", &n(1), false);
        o.queue_message("report-1", &n(2), false);
        o.queue_message("report-1", &json!({"type": "urgent"}), true);
        settle().await;
        assert_eq!(drain(&mut c).len(), 2, "the batch, then the urgent message");
        let count = |delivery: &str| {
            monitor
                .all_stats()
                .into_iter()
                .find(|s| {
                    s.name == "websocket_message_latency"
                        && s.labels == [("delivery".to_string(), delivery.to_string())]
                })
                .map_or(0, |s| s.since_start.count)
        };
        assert_eq!((count("queued"), count("forced")), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn eleven_messages_are_a_batch_of_ten_then_one() {
        let o = optimizer(WsConfig::default());
        let mut c = join(&o, "report-1", "ana");
        for i in 0..11 {
            o.queue_message("report-1", &n(i), false);
        }
        settle().await;
        let frames = drain(&mut c);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0]["count"], 10);
        settle().await;
        tokio::time::advance(Duration::from_millis(50)).await;
        settle().await;
        assert_eq!(drain(&mut c), vec![n(10)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_forced_message_goes_at_once_after_what_was_queued_before_it() {
        let o = optimizer(WsConfig::default());
        let mut c = join(&o, "report-1", "ana");
        o.queue_message("report-1", &n(1), false);
        o.queue_message("report-1", &n(2), false);
        o.queue_message("report-1", &json!({"type": "urgent"}), true);
        o.queue_message("report-1", &n(3), false);
        settle().await;
        let frames = drain(&mut c);
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!(frames[0]["count"], 2, "the earlier messages first");
        assert_eq!(frames[1], json!({"type": "urgent"}));
        settle().await;
        tokio::time::advance(Duration::from_millis(50)).await;
        settle().await;
        assert_eq!(
            drain(&mut c),
            vec![n(3)],
            "the later one waits for its own batch"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_forced_message_alone_is_not_delayed() {
        let o = optimizer(WsConfig::default());
        let mut c = join(&o, "report-1", "ana");
        o.queue_message("report-1", &json!({"type": "urgent"}), true);
        settle().await;
        assert_eq!(drain(&mut c), vec![json!({"type": "urgent"})]);
    }

    #[tokio::test(start_paused = true)]
    async fn without_batching_every_message_goes_alone_at_once() {
        let o = optimizer(WsConfig {
            batching: false,
            ..WsConfig::default()
        });
        let mut c = join(&o, "report-1", "ana");
        for i in 0..5 {
            o.queue_message("report-1", &n(i), false);
        }
        settle().await;
        assert_eq!(drain(&mut c), (0..5).map(n).collect::<Vec<_>>());
        let stats = o.get_stats();
        assert_eq!((stats.frames_out, stats.frames_saved), (5, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn typing_indicators_conflate_within_a_batch() {
        let o = optimizer(WsConfig::default());
        let mut c = join(&o, "report-1", "ana");
        o.queue_message("report-1", &n(1), false);
        for i in 0..5 {
            o.queue_conflatable(
                "report-1",
                "typing:ana",
                &json!({"type": "typing", "user": "ana", "i": i}),
            );
        }
        o.queue_conflatable(
            "report-1",
            "typing:ben",
            &json!({"type": "typing", "user": "ben"}),
        );
        settle().await;
        tokio::time::advance(Duration::from_millis(50)).await;
        settle().await;
        let frames = drain(&mut c);
        let messages = frames[0]["messages"].as_array().expect("batch").clone();
        assert_eq!(
            messages,
            vec![
                n(1),
                json!({"type": "typing", "user": "ana", "i": 4}),
                json!({"type": "typing", "user": "ben"})
            ],
            "only ana's latest, in the place of her first"
        );
        assert_eq!(o.get_stats().messages_conflated, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn every_member_gets_the_same_frame_and_the_figures_add_up() {
        let o = optimizer(WsConfig::default());
        let mut a = join(&o, "report-1", "ana");
        let mut b = join(&o, "report-1", "ben");
        let mut other = join(&o, "report-2", "cy");
        for i in 0..10 {
            o.queue_message("report-1", &n(i), false);
        }
        settle().await;
        let frame = a.outbound.try_recv().expect("a frame");
        a.written(&frame);
        assert_eq!(a.queued_bytes(), 0);
        let same = b.outbound.try_recv().expect("the same frame");
        assert_eq!(frame.frame, same.frame);
        assert!(drain(&mut other).is_empty(), "other sessions hear nothing");
        let stats = o.get_stats();
        assert_eq!(stats.total_connections, 3);
        assert_eq!(stats.total_sessions, 2);
        assert_eq!(stats.messages_out, 20);
        assert_eq!(stats.frames_out, 2);
        assert_eq!(stats.frames_saved, 18);
        assert_eq!(stats.batches_sent, 1);
        assert_eq!(stats.average_batch_size, 10.0);
        // Frame bytes (payload and header): the envelope costs more than the nine small frame
        // headers it saves, which the figures show as it is.
        let sent = frame.frame.len() as u64 + frame_header(frame.frame.len());
        let alone: u64 = (0..10).map(|i| n(i).to_string().len() as u64 + 2).sum();
        assert_eq!(stats.bytes_out, 2 * sent);
        assert_eq!(stats.bytes_saved, 2 * alone as i64 - 2 * sent as i64);
        let session = o.get_session_stats("report-1").expect("session");
        assert_eq!(session.users, vec!["ana", "ben"]);
        assert_eq!(session.connections, 2);
        assert!(o.get_session_stats("report-9").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_session_cap_and_the_instance_cap_refuse_with_a_close_code() {
        let o = optimizer(WsConfig {
            max_per_session: 2,
            max_connections: 3,
            ..WsConfig::default()
        });
        let _a = join(&o, "report-1", "ana");
        let b = join(&o, "report-1", "ben");
        let refused = o.register_connection("report-1", "cy", Value::Null);
        assert_eq!(refused.err(), Some(Refused(CloseCode::SESSION_FULL)));
        let _c = join(&o, "report-2", "cy");
        let refused = o.register_connection("report-3", "dee", Value::Null);
        assert_eq!(refused.err(), Some(Refused(CloseCode::INSTANCE_FULL)));
        drop(b);
        assert!(o.register_connection("report-1", "cy", Value::Null).is_ok());
        assert_eq!(o.get_stats().connections_refused, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_connection_out_ends_the_session() {
        let o = optimizer(WsConfig::default());
        let a = join(&o, "report-1", "ana");
        let b = join(&o, "report-1", "ben");
        drop(a);
        assert_eq!(o.get_stats().total_sessions, 1);
        drop(b);
        let stats = o.get_stats();
        assert_eq!((stats.total_sessions, stats.total_connections), (0, 0));
        o.queue_message("report-1", &n(1), false);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_are_closed_and_active_ones_kept() {
        let o = optimizer(WsConfig::default());
        let a = join(&o, "report-1", "ana");
        let b = join(&o, "report-1", "ben");
        tokio::time::advance(Duration::from_secs(29 * 60)).await;
        o.touch("report-1", b.id, 20);
        assert_eq!(o.sweep_idle(), 0);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(o.sweep_idle(), 1, "ana said nothing for 30 minutes");
        assert_eq!(*a.close.borrow(), Some(CloseCode::IDLE));
        assert_eq!(*b.close.borrow(), None);
        assert_eq!(o.sweep_idle(), 0, "closed once");
        assert_eq!(o.get_stats().idle_closed, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_does_not_read_is_closed_not_buffered() {
        let o = optimizer(WsConfig {
            outbound_queue_bytes: 4096,
            batching: false,
            ..WsConfig::default()
        });
        let slow = join(&o, "report-1", "ana");
        let mut fast = join(&o, "report-1", "ben");
        let big = json!({"type": "presence", "pad": "x".repeat(1000)});
        for _ in 0..10 {
            o.queue_message("report-1", &big, false);
            settle().await;
            drain(&mut fast);
        }
        assert_eq!(*slow.close.borrow(), Some(CloseCode::SLOW_CONSUMER));
        assert!(slow.queued_bytes() <= 4096, "{}", slow.queued_bytes());
        assert_eq!(
            *fast.close.borrow(),
            None,
            "the reader keeps its connection"
        );
        assert_eq!(o.get_stats().slow_consumers_closed, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn messages_are_relayed_and_remote_ones_are_not_relayed_again() {
        let o = optimizer(WsConfig::default());
        let (tx, mut rx) = mpsc::channel(16);
        o.set_relay(RelayOutbox::new(tx, Arc::default()));
        let mut c = join(&o, "report-1", "ana");
        o.queue_message("report-1", &n(1), true);
        let relayed = rx.try_recv().expect("published");
        assert_eq!(&*relayed.session, "report-1");
        assert!(relayed.force);
        assert_eq!(relayed.number, 1);
        o.deliver_remote(Relayed {
            session: "report-1".into(),
            json: n(2).to_string().into(),
            force: true,
            conflate: None,
            number: 7,
        });
        settle().await;
        assert_eq!(drain(&mut c), vec![n(1), n(2)]);
        assert!(
            rx.try_recv().is_err(),
            "a remote message is not published back"
        );
        assert!(o.get_stats().redis_enabled);
    }

    #[tokio::test(start_paused = true)]
    async fn relayed_messages_are_numbered_and_a_full_outbox_drops_and_counts() {
        let o = optimizer(WsConfig::default());
        let (tx, mut rx) = mpsc::channel(2);
        o.set_relay(RelayOutbox::new(tx, Arc::default()));
        let _c = join(&o, "report-1", "ana");
        for i in 1..=4 {
            o.queue_message("report-1", &n(i), false);
        }
        assert_eq!(rx.try_recv().expect("first").number, 1);
        assert_eq!(rx.try_recv().expect("second").number, 2);
        assert!(rx.try_recv().is_err(), "the outbox held two");
        assert_eq!(o.get_stats().relay_dropped, 2);
        o.queue_message("report-1", &n(5), false);
        assert_eq!(
            rx.try_recv().expect("after room").number,
            5,
            "dropped messages keep their numbers: the gap shows"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_relay_gap_resyncs_every_local_connection() {
        let o = optimizer(WsConfig::default());
        let mut a = join(&o, "report-1", "ana");
        let mut b = join(&o, "report-2", "ben");
        o.relay_gap();
        settle().await;
        let resync = serde_json::json!({"type": "resync"});
        assert_eq!(drain(&mut a), vec![resync.clone()]);
        assert_eq!(drain(&mut b), vec![resync]);
        assert_eq!(o.get_stats().relay_gaps, 1);
    }
}
