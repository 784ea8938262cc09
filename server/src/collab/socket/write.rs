//! The writer half of a connection: the session's frames, the direct replies, pings (a peer silent
//! for two intervals is dropped) and the close the optimizer asks for.

use axum::extract::ws::Message;
use futures_util::{Sink, SinkExt};
use tokio::time::Instant;

use super::replies::Replies;
use super::{send_close, CLOSE_WAIT};
use crate::collab::optimizer::{CloseCode, Connection, WebSocketOptimizer};

pub async fn write<K: Sink<Message> + Unpin>(
    sink: &mut K,
    conn: Connection,
    replies: &Replies,
    last_heard: &std::sync::Mutex<Instant>,
    optimizer: &WebSocketOptimizer,
    user: &str,
) {
    let config = *optimizer.config();
    // Its own handle on the close, so that waiting for it and for frames can go together.
    let mut close = conn.close.clone();
    let mut ping =
        tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    loop {
        tokio::select! {
            biased;
            changed = close.changed() => {
                let code = if changed.is_ok() { *close.borrow() } else { None };
                if let Some(code) = code {
                    if code != CloseCode::SLOW_CONSUMER {
                        flush(sink, &conn).await;
                    }
                    send_close(sink, code).await;
                }
                return;
            }
            () = replies.ready.notified() => {
                while let Some(reply) = replies.take() {
                    let closing = matches!(reply, Message::Close(_));
                    let sent = tokio::select! {
                        r = sink.send(reply) => r.is_ok(),
                        // Closed while this write was stuck (a client that does not read).
                        _ = close.changed() => return,
                    };
                    replies.wrote();
                    if !sent || closing {
                        return;
                    }
                }
            }
            out = conn.next_frame() => {
                let written = tokio::select! {
                    r = sink.send(Message::Text(out.frame.clone())) => r.is_ok(),
                    // Closed while this write was stuck (a slow consumer): give up on it.
                    _ = close.changed() => return,
                };
                conn.written(&out);
                if !written {
                    return;
                }
            }
            _ = ping.tick() => {
                let heard = *last_heard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if heard.elapsed() >= config.ping_interval * 2 {
                    tracing::debug!(user, "dropping a collaboration peer that stopped answering");
                    return;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
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
