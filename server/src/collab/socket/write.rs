//! The writer half of a connection: the session's frames, the direct replies, pings (a peer silent
//! for two intervals is dropped) and the close the optimizer asks for.
//!
//! It waits on one thing, the connection's wake (a frame queued, a reply pushed, a close asked for),
//! and the ping interval; once woken it looks at everything, in order of precedence: the close, then
//! the replies, then the frames. So a frame costs one wake and one write, not a round of every
//! source's waiting anew. Together with polling each part of a connection only when it was woken
//! (`run`), this cut the server's user-space CPU per delivered frame by about a quarter under the
//! fan-out of `loadgen ws`.

use axum::extract::ws::Message;
use futures_util::{FutureExt, Sink, SinkExt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::replies::Replies;
use super::{send_close, CLOSE_WAIT};
use crate::collab::optimizer::{CloseCode, Connection, WebSocketOptimizer};

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
        if let Some(out) = conn.try_next_frame() {
            // Closed while this write was stuck (a slow consumer): give up on it.
            let written =
                send_unless_closed(sink, Message::Text(out.frame.clone()), &mut close).await;
            conn.written(&out);
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
        while let Some(out) = conn.try_next_frame() {
            if sink.send(Message::Text(out.frame.clone())).await.is_err() {
                break;
            }
            conn.written(&out);
        }
    })
    .await;
}
