//! The collaboration transport's settings as flags and environment variables (the seed's `WS_*`);
//! their defaults are [`WsConfig::DEFAULT`]'s.

use std::time::Duration;

use clap::{ArgAction, Args};

use super::WsConfig;

const D: WsConfig = WsConfig::DEFAULT;

/// `WS_*`: batching, caps and limits of the collaboration sockets.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Live collaboration")]
pub struct WsArgs {
    /// Most messages in one WebSocket batch.
    #[arg(long, env = "WS_BATCH_MAX_SIZE", default_value_t = D.batch_max_size as u64,
        value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub ws_batch_max_size: u64,

    /// Longest a WebSocket message waits for others to join its batch, in milliseconds.
    #[arg(long, env = "WS_BATCH_MAX_WAIT_MS", default_value_t = D.batch_max_wait.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub ws_batch_max_wait_ms: u64,

    /// Batch WebSocket messages (`false`: each message goes out alone, at once).
    #[arg(long, env = "WS_ENABLE_BATCHING", default_value_t = D.batching, action = ArgAction::Set)]
    pub ws_enable_batching: bool,

    /// A collaboration connection that sends nothing for this many minutes is closed.
    #[arg(long, env = "WS_IDLE_TIMEOUT_MINUTES", default_value_t = D.idle_timeout.as_secs() / 60,
        value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub ws_idle_timeout_minutes: u64,

    /// Most connections to one report's collaboration session.
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_SESSION", default_value_t = D.max_per_session as u64,
        value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub ws_max_connections_per_session: u64,

    /// Most connections one person (an account or an API token) may hold in one report's session.
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_USER", default_value_t = D.max_per_user as u64,
        value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub ws_max_connections_per_user: u64,

    /// Most collaboration connections on this instance.
    #[arg(long, env = "WS_MAX_CONNECTIONS", default_value_t = D.max_connections as u64,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub ws_max_connections: u64,

    /// KiB waiting to be written to one connection before it is closed as a slow consumer.
    #[arg(long, env = "WS_OUTBOUND_QUEUE_KB", default_value_t = D.outbound_queue_bytes as u64 / 1024,
        value_parser = clap::value_parser!(u64).range(16..=65_536))]
    pub ws_outbound_queue_kb: u64,

    /// Largest message a collaboration client may send, in KiB.
    #[arg(long, env = "WS_MAX_MESSAGE_KB", default_value_t = D.max_message_bytes as u64 / 1024,
        value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub ws_max_message_kb: u64,

    /// Seconds between the server's pings to each connection (two unanswered intervals drop it).
    #[arg(long, env = "WS_PING_INTERVAL_SECS", default_value_t = D.ping_interval.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=600))]
    pub ws_ping_interval_secs: u64,
}

impl WsArgs {
    /// Checks what clap cannot: the outbound queue holds the largest frame the server sends (a
    /// sync with the whole document, or a batch of the largest messages), or that frame would end
    /// the connection every time.
    pub fn validate(&self) -> Result<(), String> {
        let config = self.config();
        let batch = if config.batching {
            config
                .batch_max_size
                .saturating_mul(config.max_message_bytes + 1024)
        } else {
            config.max_message_bytes + 1024
        };
        let largest = batch.max(crate::collab::docs::sync_frame_bytes());
        if config.outbound_queue_bytes < largest {
            return Err(format!(
                "WS_OUTBOUND_QUEUE_KB ({}) must hold the largest frame the server sends: at least {} KiB with WS_MAX_MESSAGE_KB {} and WS_BATCH_MAX_SIZE {}",
                self.ws_outbound_queue_kb,
                largest.div_ceil(1024),
                self.ws_max_message_kb,
                self.ws_batch_max_size
            ));
        }
        Ok(())
    }

    /// The transport's settings.
    pub fn config(&self) -> WsConfig {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        WsConfig {
            batch_max_size: size(self.ws_batch_max_size),
            batch_max_wait: Duration::from_millis(self.ws_batch_max_wait_ms),
            batching: self.ws_enable_batching,
            idle_timeout: Duration::from_secs(self.ws_idle_timeout_minutes * 60),
            max_per_session: size(self.ws_max_connections_per_session),
            max_per_user: size(self.ws_max_connections_per_user),
            max_connections: size(self.ws_max_connections),
            outbound_queue_bytes: size(self.ws_outbound_queue_kb * 1024),
            max_message_bytes: size(self.ws_max_message_kb * 1024),
            ping_interval: Duration::from_secs(self.ws_ping_interval_secs),
        }
    }
}
