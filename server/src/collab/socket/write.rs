//! The writer half of a connection: the session's frames, the direct replies, pings (a peer silent
//! for two intervals is dropped) and the close the optimizer asks for.
//!
//! It waits on one thing, the connection's wake (a frame queued, a reply pushed, a close asked for),
//! and the ping interval; once woken it looks at everything, in order of precedence: the close, then
//! the replies, then the frames. So a frame costs one wake and one write, not a round of every
//! source's waiting anew; frames that wait behind it go out in the same write (up to
//! [`COALESCE_BYTES`]). Together with polling each part of a connection only when it was woken
//! (`run`), this cut the server's user-space CPU per delivered frame by about a quarter under the
//! fan-out of `loadgen ws`.

use axum::extract::ws::Message;
use futures_util::{FutureExt, Sink, SinkExt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::replies::Replies;
use super::{send_close, CLOSE_WAIT};
use crate::collab::optimizer::{CloseCode, Connection, Outgoing, WebSocketOptimizer};

/// Most bytes of frames gathered into one write when frames wait (the WebSocket's write buffer is
/// this size, so tungstenite writes them at the flush, not one by one; it keeps the capacity, so
/// this is also what a connection that once fell behind keeps).
pub const COALESCE_BYTES: usize = 4 * 1024;

/// Most frames taken off the queue for one write.
const COALESCE_FRAMES: usize = 64;

/// Frames written back to back, without waiting, before the ping interval is looked at.
const PING_CHECK_EVERY: u32 = 32;

pub async fn write<K: Sink<Message> + Unpin>(
    sink: &mut K,
    conn: Connection,
    replies: &Replies,
    last_heard: &std::sync::Mutex<Instant>,
    optimizer: &WebSocketOptimizer,
    user: &str,
) {
    let config = *optimizer.config();
    // Its own handle on the close, so that a write stuck on a client that does not read can be
    // given up when the close comes.
    let mut close = conn.close.clone();
    let mut ping =
        tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    let mut busy = 0u32;
    loop {
        match close.has_changed() {
            Ok(false) => {}
            Ok(true) => {
                let code = *close.borrow_and_update();
                if let Some(code) = code {
                    if code != CloseCode::SLOW_CONSUMER {
                        flush(sink, &conn).await;
                    }
                    send_close(sink, code).await;
                }
                return;
            }
            Err(_) => return,
        }
        busy += 1;
        if busy.is_multiple_of(PING_CHECK_EVERY) {
            // Frames have not stopped since the last wait: the ping is due anyway.
            if let Some(_due) = ping.tick().now_or_never() {
                if !keep_alive(sink, last_heard, &config, user).await {
                    return;
                }
            }
        }
        if let Some(reply) = replies.take() {
            let closing = matches!(reply, Message::Close(_));
            // Closed while this write was stuck (a client that does not read).
            let Some(sent) = send_unless_closed(sink, reply, &mut close).await else {
                return;
            };
            replies.wrote();
            if !sent || closing {
                return;
            }
            continue;
        }
        if let Some(first) = conn.try_next_frame() {
            // Allocates only for frames behind the first: a frame alone costs no more than before.
            let mut more = Vec::new();
            // Closed while this write was stuck (a slow consumer): give up on it.
            let written = tokio::select! {
                biased;
                ok = write_frames(sink, &conn, &first, &mut more) => Some(ok),
                _ = close.changed() => None,
            };
            written_all(&conn, &first, &more);
            if written != Some(true) {
                return;
            }
            continue;
        }
        busy = 0;
        tokio::select! {
            biased;
            _ = ping.tick() => {
                if !keep_alive(sink, last_heard, &config, user).await {
                    return;
                }
            }
            () = conn.ready() => {}
        }
    }
}

/// Writes `first` and the frames queued behind it, as many as fit in [`COALESCE_BYTES`] (up to
/// [`COALESCE_FRAMES`]), in one write: a connection that fell behind catches up in a few system
/// calls and TCP segments instead of one per frame, and no frame waits for one that has not come
/// (a frame alone is written at once). A frame that would not fit goes out in the next write.
/// Every frame it takes off the queue after `first` ends in `more`, written or not (the caller
/// marks them written, also when it gives the write up); false when the sink failed.
async fn write_frames<K: Sink<Message> + Unpin>(
    sink: &mut K,
    conn: &Connection,
    first: &Outgoing,
    more: &mut Vec<Outgoing>,
) -> bool {
    let mut buffered = 0;
    let mut frame = first.frame.clone();
    loop {
        let len = frame.len();
        if buffered > 0 && buffered + len > COALESCE_BYTES {
            if sink.flush().await.is_err() {
                return false;
            }
            buffered = 0;
        }
        if sink.feed(Message::Text(frame)).await.is_err() {
            return false;
        }
        buffered += len;
        if 1 + more.len() >= COALESCE_FRAMES {
            break;
        }
        let Some(next) = conn.try_next_frame() else {
            break;
        };
        frame = next.frame.clone();
        more.push(next);
    }
    sink.flush().await.is_ok()
}

/// The frames of one [`write_frames`] leave the queue (written or given up).
fn written_all(conn: &Connection, first: &Outgoing, more: &[Outgoing]) {
    conn.written(first);
    for out in more {
        conn.written(out);
    }
}

/// Sends `message` unless the close comes while the write cannot finish: `None` then. A write that
/// finishes at once never looks at the close.
async fn send_unless_closed<K: Sink<Message> + Unpin>(
    sink: &mut K,
    message: Message,
    close: &mut watch::Receiver<Option<CloseCode>>,
) -> Option<bool> {
    tokio::select! {
        biased;
        r = sink.send(message) => Some(r.is_ok()),
        _ = close.changed() => None,
    }
}

/// The ping interval came: drops a peer silent for two intervals (false), pings the others.
async fn keep_alive<K: Sink<Message> + Unpin>(
    sink: &mut K,
    last_heard: &std::sync::Mutex<Instant>,
    config: &crate::collab::WsConfig,
    user: &str,
) -> bool {
    let heard = *last_heard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if heard.elapsed() >= config.ping_interval * 2 {
        tracing::debug!(user, "dropping a collaboration peer that stopped answering");
        return false;
    }
    sink.send(Message::Ping(Default::default())).await.is_ok()
}

/// What the session already sent this connection goes out before the close (a shutdown flushes),
/// within the close's own time limit.
async fn flush<K: Sink<Message> + Unpin>(sink: &mut K, conn: &Connection) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(first) = conn.try_next_frame() {
            let mut more = Vec::new();
            let ok = write_frames(sink, conn, &first, &mut more).await;
            written_all(conn, &first, &more);
            if !ok {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use serde_json::json;

    use super::*;
    use crate::collab::WsConfig;

    /// What the writer did to its socket, in order.
    #[derive(Debug, PartialEq)]
    enum Op {
        Feed(String),
        Flush,
    }

    /// A socket that records every frame fed and every flush; it fails a feed once `fail_at`
    /// frames were fed.
    #[derive(Default)]
    struct Recorder {
        ops: Vec<Op>,
        fail_at: Option<usize>,
    }

    impl Recorder {
        fn fed(&self) -> usize {
            self.ops
                .iter()
                .filter(|op| matches!(op, Op::Feed(_)))
                .count()
        }

        /// The frames of each write (each flush ends one), in order.
        fn writes(&self) -> Vec<Vec<&str>> {
            let mut writes = vec![Vec::new()];
            for op in &self.ops {
                match op {
                    Op::Feed(frame) => writes.last_mut().expect("one").push(frame.as_str()),
                    Op::Flush => writes.push(Vec::new()),
                }
            }
            writes.pop();
            writes
        }
    }

    impl Sink<Message> for Recorder {
        type Error = ();

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), ()> {
            if self.fail_at == Some(self.fed()) {
                return Err(());
            }
            let Message::Text(text) = item else {
                panic!("only text frames here")
            };
            self.ops.push(Op::Feed(text.as_str().to_owned()));
            Ok(())
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            self.ops.push(Op::Flush);
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// A connection (batching off: a frame per message) with these messages queued for it.
    async fn queued(messages: &[serde_json::Value]) -> (WebSocketOptimizer, Connection) {
        let o = WebSocketOptimizer::new(
            WsConfig {
                batching: false,
                ..WsConfig::default()
            },
            "test".into(),
            None,
        );
        let conn = o
            .register_connection("report-1", "ana", json!({"name": "ana"}))
            .expect("joins");
        for m in messages {
            o.queue_message("report-1", m, false);
        }
        // The session's task moves them to the connection.
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        (o, conn)
    }

    /// Writes what waits the way the writer does, round after round, until nothing does.
    async fn write_all(sink: &mut Recorder, conn: &Connection) -> usize {
        let mut rounds = 0;
        while let Some(first) = conn.try_next_frame() {
            let mut more = Vec::new();
            assert!(write_frames(sink, conn, &first, &mut more).await);
            written_all(conn, &first, &more);
            rounds += 1;
        }
        rounds
    }

    #[tokio::test]
    async fn a_frame_alone_is_written_at_once() {
        let (_o, conn) = queued(&[json!({"type": "presence", "n": 0})]).await;
        let mut sink = Recorder::default();
        assert_eq!(write_all(&mut sink, &conn).await, 1);
        assert_eq!(sink.writes().len(), 1);
        assert_eq!(
            sink.ops.last(),
            Some(&Op::Flush),
            "flushed, not left in a buffer"
        );
        assert_eq!(conn.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn waiting_frames_go_out_together_in_order_within_the_limits() {
        // Small frames, then a few over half the limit, then one over it.
        let mut messages: Vec<_> = (0..300)
            .map(|n| json!({"type": "presence", "n": n}))
            .collect();
        for n in 300..304 {
            messages.push(json!({"type": "presence", "n": n, "pad": "x".repeat(2500)}));
        }
        messages.push(json!({"type": "presence", "n": 304, "pad": "y".repeat(9000)}));
        messages.push(json!({"type": "presence", "n": 305}));
        let (_o, conn) = queued(&messages).await;
        let mut sink = Recorder::default();
        write_all(&mut sink, &conn).await;
        assert_eq!(conn.queued_bytes(), 0, "every frame's bytes left the queue");

        let writes = sink.writes();
        let frames: Vec<&str> = writes.iter().flatten().copied().collect();
        let order: Vec<u64> = frames
            .iter()
            .map(|f| {
                let v: serde_json::Value = serde_json::from_str(f).expect("json");
                v["n"].as_u64().expect("n")
            })
            .collect();
        assert_eq!(
            order,
            (0..306).collect::<Vec<_>>(),
            "every frame once, in order"
        );

        // The plain rule, checked write by write: a write holds at most the limit in bytes (or one
        // frame over it, alone) and at most the most frames, and it is full: the frame after it
        // would not have fitted.
        let bytes = |w: &[&str]| w.iter().map(|f| f.len()).sum::<usize>();
        for (i, write) in writes.iter().enumerate() {
            assert!(!write.is_empty());
            assert!(
                write.len() == 1 || bytes(write) <= COALESCE_BYTES,
                "write {i} holds {} bytes",
                bytes(write)
            );
            assert!(write.len() <= COALESCE_FRAMES);
            if let Some(next) = writes.get(i + 1) {
                assert!(
                    write.len() == COALESCE_FRAMES || bytes(write) + next[0].len() > COALESCE_BYTES,
                    "write {i} could have taken the next frame"
                );
            }
        }
        // 300 small frames take a handful of writes, not 300.
        assert!(writes.len() < 20, "{} writes", writes.len());
        let big = writes
            .iter()
            .find(|w| w.iter().any(|f| f.contains("yyyy")))
            .expect("the big frame");
        assert_eq!(big.len(), 1, "a frame over the limit goes alone");
    }

    #[tokio::test]
    async fn a_failed_write_hands_back_every_frame_it_took() {
        let messages: Vec<_> = (0..10)
            .map(|n| json!({"type": "presence", "n": n}))
            .collect();
        let (_o, conn) = queued(&messages).await;
        let mut sink = Recorder {
            fail_at: Some(3),
            ..Recorder::default()
        };
        let first = conn.try_next_frame().expect("a frame");
        let mut more = Vec::new();
        assert!(!write_frames(&mut sink, &conn, &first, &mut more).await);
        assert_eq!(1 + more.len(), 4, "three fed, the fourth failed");
        written_all(&conn, &first, &more);
        let left = std::iter::from_fn(|| conn.try_next_frame()).count();
        assert_eq!(left, 6, "the rest still wait");
    }
}
