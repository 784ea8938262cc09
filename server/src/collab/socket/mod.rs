//! One collaboration connection, from the upgrade to the close: it registers with the optimizer
//! (refused at a cap with close code 1013), sends the welcome, then serves three things at once:
//! frames the session sends it (`write.rs`: written in order; a write that cannot finish because the
//! client stopped reading is abandoned when the optimizer closes the connection as a slow consumer),
//! what the client sends (`read.rs`: checked by the protocol, refused with an error frame and
//! dropped when bad, acted on otherwise), and the watch over its rights (`collab::rights`).
//!
//! The loop is generic over the transport (any `Stream` of messages and `Sink` for them), so the
//! tests drive it through channels, without a server; axum's `WebSocket` is the real one.

mod read;
mod replies;
mod write;

pub use write::COALESCE_BYTES;

#[cfg(test)]
mod tests;

use std::time::Duration;

use app::access::Access;
use app::collab::protocol::{color_of, BatchingInfo, CloseCode, MemberInfo, ServerMessage};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::future::Either;
use futures_util::stream::FuturesUnordered;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::Instant;

use self::read::{read, Budgets, Peer};
use self::replies::Replies;
use self::write::write;
use super::docs::Documents;
use super::optimizer::{Connection, WebSocketOptimizer};
use super::rights::{Rights, Watch};
use crate::auth::caller::Authority;
use crate::auth::revoke::Credential;

/// The hard limit on one incoming message: past it the connection closes with 1009. Between the
/// configured limit and this one, a message gets an error frame and the connection stays.
pub fn hard_message_limit(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_mul(4).max(64 * 1024)
}

/// What the loop asks of a transport's read errors.
pub trait ReadError {
    /// The peer sent a message over the hard limit (the transport refused to read it).
    fn is_too_big(&self) -> bool;
}

impl ReadError for axum::Error {
    fn is_too_big(&self) -> bool {
        use std::error::Error as _;
        matches!(
            self.source()
                .and_then(|e| e.downcast_ref::<tungstenite::Error>()),
            Some(tungstenite::Error::Capacity(
                tungstenite::error::CapacityError::MessageTooLong { .. }
            ))
        )
    }
}

/// Longest wait for the close frame to go out.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

fn close_frame(code: CloseCode) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.code,
        reason: Utf8Bytes::from_static(code.reason),
    }))
}

async fn send_close<K: Sink<Message> + Unpin>(sink: &mut K, code: CloseCode) {
    let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(close_frame(code))).await;
}

fn text(message: &ServerMessage) -> Option<Message> {
    serde_json::to_string(message)
        .ok()
        .map(|json| Message::Text(json.into()))
}

/// What a connection works with.
pub struct Context {
    pub optimizer: WebSocketOptimizer,
    pub documents: Documents,
    pub report_id: i64,
    /// The report's project.
    pub project_id: i64,
    pub who: Access,
    /// The credential the socket was opened with, and when it ends at the latest (Unix seconds).
    pub credential: Credential,
    pub ends_at: Option<i64>,
    /// Reads the credential again when its rights may have changed.
    pub authority: Authority,
    /// Where changes of rights are heard.
    pub revocations: crate::auth::revoke::Revocations,
}

/// Serves one connection to a report's session until either side ends it.
///
/// The connection's future lives as long as the connection, so its size is memory per connection:
/// what only the start needs (the context's handles) is taken apart here, before the future, which
/// then holds only what it uses (an `async fn` would keep its arguments beside what it moved out of
/// them for its whole life, about 750 bytes).
pub fn serve<S, E>(socket: S, context: Context) -> impl std::future::Future<Output = ()>
where
    S: Stream<Item = Result<Message, E>> + Sink<Message> + Unpin,
    E: ReadError,
{
    let Context {
        optimizer,
        documents,
        report_id,
        project_id,
        who,
        credential,
        ends_at,
        authority,
        revocations,
    } = context;
    // Listening from before the rights are confirmed: nothing that happens after the upgrade is
    // missed, and nothing before it is welcomed.
    let heard = revocations.subscribe();
    let rights = Rights::new(who.may_edit(project_id));
    let mut watch = Watch {
        authority,
        heard,
        credential,
        project_id,
        ends_at,
        offset: Duration::ZERO,
    };
    let (mut sink, mut stream) = socket.split();
    async move {
        if let Some(code) = super::rights::confirm(&mut watch, &rights).await {
            tracing::info!(user = %who.name(), reason = code.reason, "collaboration connection refused: its rights ended");
            send_close(&mut sink, code).await;
            return;
        }
        let may_edit = rights.may_edit();
        let who = who.principal();
        let session = super::report_session(report_id);
        let conn = match optimizer.register_connection(&session, &who.name, serde_json::Value::Null)
        {
            Ok(conn) => conn,
            Err(refused) => {
                tracing::info!(session, user = %who.name, reason = refused.0.reason, "collaboration connection refused");
                send_close(&mut sink, refused.0).await;
                return;
            }
        };
        let mut me = MemberInfo {
            connection: format!("{}:{}", optimizer.instance_id(), conn.id),
            user: who.name.clone(),
            name: who.display_name.clone(),
            color: color_of(&who.name),
            section: None,
        };
        optimizer.set_metadata(
            &session,
            conn.id,
            serde_json::to_value(&me).unwrap_or_default(),
        );
        let welcome = welcome(&optimizer, &session, &me, may_edit);
        let welcomed = match text(&welcome) {
            Some(frame) => sink.send(frame).await.is_ok(),
            None => false,
        };
        if welcomed {
            optimizer.queue_message(
                &session,
                &ServerMessage::Joined { member: me.clone() },
                false,
            );
            watch.offset = super::rights::RECHECK_EVERY.mul_f64((conn.id % 997) as f64 / 997.0);
            let mut peer = Peer {
                optimizer: &optimizer,
                documents: &documents,
                report_id,
                session: &session,
                rights: &rights,
                me: &mut me,
                budgets: Budgets::new(Instant::now()),
            };
            run(&mut sink, &mut stream, conn, &mut peer, watch).await;
        }
        optimizer.queue_message(
            &session,
            &ServerMessage::Left {
                connection: me.connection.clone(),
                user: me.user.clone(),
            },
            false,
        );
        if optimizer.get_session_stats(&session).is_none() {
            // The last one out on this instance: write the document back and compact its log.
            if let Err(e) = documents.session_ended(report_id).await {
                tracing::warn!(report_id, error = %e, "the document was not compacted at the session's end");
            }
        }
    }
}

/// The first frame: who this connection is, who else is here, and the session's terms.
fn welcome(
    optimizer: &WebSocketOptimizer,
    session: &str,
    me: &MemberInfo,
    can_edit: bool,
) -> ServerMessage {
    let config = *optimizer.config();
    let members = optimizer
        .members(session)
        .into_iter()
        .filter_map(|m| serde_json::from_value::<MemberInfo>(m).ok())
        .filter(|m| m.connection != me.connection)
        .collect();
    ServerMessage::Welcome {
        session: session.to_string(),
        you: me.clone(),
        members,
        batching: BatchingInfo {
            enabled: config.batching,
            max_size: config.batch_max_size,
            max_wait_ms: config.batch_max_wait.as_millis() as u64,
        },
        max_message_bytes: config.max_message_bytes,
        can_edit,
    }
}

/// Serves the connection with three parts in one task: the writer (session frames, direct
/// replies, pings, the close the optimizer asks for), the reader (what the client sends, with the
/// store work some messages need) and the watch over the connection's rights. A slow store call
/// therefore never holds up the frames others send. Each part is polled only when what it waits
/// for woke it (not all three at every frame), and the connection ends when the first one ends.
async fn run<K, R, E>(
    sink: &mut K,
    stream: &mut R,
    conn: Connection,
    peer: &mut Peer<'_>,
    watch: Watch,
) where
    K: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: ReadError,
{
    let replies = Replies::new(conn.wake_handle());
    let last_heard = std::sync::Mutex::new(Instant::now());
    let id = conn.id;
    let user = peer.me.user.clone();
    let (optimizer, session, rights) = (peer.optimizer, peer.session, peer.rights);
    let guard = async {
        let tell = |can_edit: bool| {
            if let Some(frame) = text(&ServerMessage::Access { can_edit }) {
                replies.push(frame);
            }
        };
        let code = super::rights::watch(watch, rights, tell).await;
        tracing::info!(
            user,
            reason = code.reason,
            "closing a collaboration connection whose rights ended"
        );
        optimizer.close_connection(session, id, code);
        // The writer sends the close and ends the connection.
        std::future::pending::<()>().await;
    };
    let write = std::pin::pin!(write(sink, conn, &replies, &last_heard, optimizer, &user));
    let read = std::pin::pin!(read(stream, &replies, &last_heard, peer, id));
    let guard = std::pin::pin!(guard);
    let mut parts: FuturesUnordered<_> = [
        Either::Left(write),
        Either::Right(Either::Left(read)),
        Either::Right(Either::Right(guard)),
    ]
    .into_iter()
    .collect();
    parts.next().await;
}
