//! Live collaboration: the seed's `websocket_optimizer` and what it carries.
//!
//! - `optimizer/`: [`WebSocketOptimizer`], the transport of every collaboration session: the
//!   registry (who is connected to which session, caps per instance, session and user), the batching
//!   policy (up to `WS_BATCH_MAX_SIZE` messages or `WS_BATCH_MAX_WAIT_MS`, whichever comes first;
//!   urgent messages at once, after what was queued before them; conflation of ephemeral messages),
//!   delivery through bounded queues, the relay's hook, idle cleanup, and the figures the performance
//!   API shows.
//! - The messages themselves, both directions, and their validation are one set of types shared
//!   with the browser: `app::collab::protocol` (documented in `docs/protocol.md`).
//! - `relay/`: with `REDIS_URL`, every session's messages reach its members on every instance
//!   through Redis pub/sub (each instance ignores its own echoes; a lost message or a reconnect tells
//!   its clients to resync).
//! - `socket/`: one WebSocket connection: registration, the welcome, reading and checking what the
//!   client sends, writing what the session sends, ping/pong keepalive and the close codes.
//! - `rights.rs`: the connection's rights for its whole life (revocations, expiry, role changes).
//! - `docs/`, `editing.rs`: the shared documents (Yjs) behind the editing messages, and the
//!   revisions and write-backs around them.
//!
//! The route itself (`GET /ws/reports/{report_id}`, with its access checks) is `routes::collab`.

pub mod args;
pub mod docs;
pub mod editing;
pub mod optimizer;
pub mod relay;
pub mod rights;
pub mod socket;

use std::time::Duration;

pub use optimizer::{CloseCode, Connection, Outgoing, Refused, WebSocketOptimizer};

/// The transport's settings (the seed's `WS_*` variables and the limits around them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WsConfig {
    /// Most messages in one batch (`WS_BATCH_MAX_SIZE`).
    pub batch_max_size: usize,
    /// Longest a message waits for others to join its batch (`WS_BATCH_MAX_WAIT_MS`).
    pub batch_max_wait: Duration,
    /// `WS_ENABLE_BATCHING`: when off, every message is sent alone, at once.
    pub batching: bool,
    /// A connection that sends nothing for this long is closed (`WS_IDLE_TIMEOUT_MINUTES`).
    pub idle_timeout: Duration,
    /// Most connections in one session (`WS_MAX_CONNECTIONS_PER_SESSION`).
    pub max_per_session: usize,
    /// Most connections one user (an account or a token) may hold in one session
    /// (`WS_MAX_CONNECTIONS_PER_USER`), so that one person's tabs or scripts cannot fill it.
    pub max_per_user: usize,
    /// Most connections on this instance (`WS_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Bytes waiting to be written to one connection before it counts as a slow consumer and is
    /// closed (`WS_OUTBOUND_QUEUE_KB`).
    pub outbound_queue_bytes: usize,
    /// Largest message a client may send (`WS_MAX_MESSAGE_KB`); a larger one gets an error frame.
    pub max_message_bytes: usize,
    /// How often the server pings each connection; one that answers nothing for two intervals is
    /// dropped (`WS_PING_INTERVAL_SECS`).
    pub ping_interval: Duration,
}

impl WsConfig {
    /// The seed's batching (10 messages or 50 ms) and the limits around it.
    pub const DEFAULT: WsConfig = WsConfig {
        batch_max_size: 10,
        batch_max_wait: Duration::from_millis(50),
        batching: true,
        idle_timeout: Duration::from_secs(30 * 60),
        max_per_session: 50,
        max_per_user: 10,
        max_connections: 20_000,
        outbound_queue_bytes: 1024 * 1024,
        max_message_bytes: 64 * 1024,
        ping_interval: Duration::from_secs(25),
    };
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig::DEFAULT
    }
}

/// The collaboration session of a report.
pub fn report_session(report_id: i64) -> String {
    format!("report-{report_id}")
}
