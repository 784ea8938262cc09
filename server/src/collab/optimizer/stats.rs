//! The transport's figures: the instance's counters, and the stats the performance API shows
//! (`GET /api/performance/websocket/stats`, the seed's `get_stats()` and `get_session_stats()`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::Serialize;

/// Counters of the whole instance.
#[derive(Default)]
pub(super) struct Counters {
    pub messages_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub frames_out: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Frame bytes (payload and WebSocket header) had every message gone out alone.
    pub bytes_unbatched: AtomicU64,
    pub batches: AtomicU64,
    pub batched_messages: AtomicU64,
    pub conflated: AtomicU64,
    pub slow_consumers: AtomicU64,
    pub idle_closed: AtomicU64,
    pub refused: AtomicU64,
    pub relay_dropped: AtomicU64,
    pub relay_gaps: AtomicU64,
    pub queue_overflows: AtomicU64,
}

/// Adds `n` to a counter.
pub(super) fn count(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
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
    /// Messages dropped because their session's queue was full (each time, the session's clients
    /// are told to resync, which catches them up from the store).
    pub queue_overflows: u64,
    pub sessions: Vec<SessionStats>,
}

impl From<&OptimizerStats> for app::performance::WebSocketOverview {
    /// The part of the figures the dashboard's WebSocket panel shows.
    fn from(s: &OptimizerStats) -> Self {
        app::performance::WebSocketOverview {
            total_connections: s.total_connections,
            total_sessions: s.total_sessions,
            messages_in: s.messages_in,
            messages_out: s.messages_out,
            batches_sent: s.batches_sent,
            average_batch_size: s.average_batch_size,
            redis_enabled: s.redis_enabled,
        }
    }
}

impl OptimizerStats {
    /// The counters' part of the figures (the caller adds the sessions and the settings).
    pub(super) fn from_counters(c: &Counters) -> OptimizerStats {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (batches, batched) = (load(&c.batches), load(&c.batched_messages));
        let (messages_out, frames_out) = (load(&c.messages_out), load(&c.frames_out));
        let (unbatched, bytes_out) = (load(&c.bytes_unbatched), load(&c.bytes_out));
        OptimizerStats {
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
            queue_overflows: load(&c.queue_overflows),
            ..OptimizerStats::default()
        }
    }
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

pub(super) fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Bytes of a server-to-client WebSocket frame header for a payload of `len` bytes.
pub(super) fn frame_header(len: usize) -> u64 {
    match len {
        0..=125 => 2,
        126..=65_535 => 4,
        _ => 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_headers_follow_rfc_6455() {
        assert_eq!(frame_header(0), 2);
        assert_eq!(frame_header(125), 2);
        assert_eq!(frame_header(126), 4);
        assert_eq!(frame_header(65_535), 4);
        assert_eq!(frame_header(65_536), 10);
    }

    #[test]
    fn ratios_come_from_the_counters() {
        let c = Counters::default();
        count(&c.batches, 2);
        count(&c.batched_messages, 15);
        count(&c.messages_out, 20);
        count(&c.frames_out, 7);
        count(&c.bytes_unbatched, 100);
        count(&c.bytes_out, 120);
        let stats = OptimizerStats::from_counters(&c);
        assert_eq!(stats.average_batch_size, 7.5);
        assert_eq!(stats.frames_saved, 13);
        assert_eq!(
            stats.bytes_saved, -20,
            "envelopes may cost more than they save"
        );
    }
}
