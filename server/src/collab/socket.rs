//! One collaboration connection, from the upgrade to the close: it registers with the optimizer
//! (refused at a cap with close code 1013), sends the welcome, then serves three things at once:
//! frames the session sends it (written in order; a write that cannot finish because the client
//! stopped reading is abandoned when the optimizer closes the connection as a slow consumer), what
//! the client sends (checked by `protocol`, refused with an error frame and dropped when bad), and a
//! ping every `ping_interval` (a peer silent for two intervals is dropped).

use std::time::Duration;

use app::access::Access;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;

use super::docs::Documents;
use super::optimizer::{CloseCode, Connection, WebSocketOptimizer};
use super::protocol::{
    color_of, parse_client, BatchingInfo, ClientMessage, MemberInfo, ServerMessage,
};
use super::rights::{Rights, Watch};
use crate::auth::caller::Authority;
use crate::auth::revoke::Credential;

type Sink = SplitSink<WebSocket, Message>;

/// The hard limit on one incoming message: past it the connection closes with 1009. Between the
/// configured limit and this one, a message gets an error frame and the connection stays.
pub fn hard_message_limit(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_mul(4).max(64 * 1024)
}

/// Longest wait for the close frame to go out.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

async fn send_close(sink: &mut Sink, code: CloseCode) {
    let frame = Message::Close(Some(CloseFrame {
        code: code.code,
        reason: Utf8Bytes::from_static(code.reason),
    }));
    let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(frame)).await;
}

async fn send_direct(sink: &mut Sink, message: &ServerMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(json) => sink.send(Message::Text(json.into())).await.is_ok(),
        Err(_) => true,
    }
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
pub async fn serve(socket: WebSocket, context: Context) {
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
    // Listening from before the welcome: nothing that happens after the upgrade is missed.
    let heard = revocations.subscribe();
    let may_edit = who.may_edit(project_id);
    let who = who.principal();
    let session = super::report_session(report_id);
    let (mut sink, mut stream) = socket.split();
    let conn = match optimizer.register_connection(&session, &who.name, serde_json::Value::Null) {
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
    let config = *optimizer.config();
    let members = optimizer
        .members(&session)
        .into_iter()
        .filter_map(|m| serde_json::from_value::<MemberInfo>(m).ok())
        .filter(|m| m.connection != me.connection)
        .collect();
    let welcome = ServerMessage::Welcome {
        session: session.clone(),
        you: me.clone(),
        members,
        batching: BatchingInfo {
            enabled: config.batching,
            max_size: config.batch_max_size,
            max_wait_ms: config.batch_max_wait.as_millis() as u64,
        },
        max_message_bytes: config.max_message_bytes,
        can_edit: may_edit,
    };
    if send_direct(&mut sink, &welcome).await {
        optimizer.queue_message(
            &session,
            &ServerMessage::Joined { member: me.clone() },
            false,
        );
        let rights = Rights::new(may_edit);
        let watch = Watch {
            authority,
            heard,
            credential,
            project_id,
            ends_at,
            offset: super::rights::RECHECK_EVERY.mul_f64((conn.id % 997) as f64 / 997.0),
        };
        let mut peer = Peer {
            optimizer: &optimizer,
            documents: &documents,
            report_id,
            session: &session,
            rights: &rights,
            me: &mut me,
            syncs: SyncBudget::new(Instant::now()),
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

/// One connection's side of the session.
struct Peer<'a> {
    optimizer: &'a WebSocketOptimizer,
    documents: &'a Documents,
    report_id: i64,
    session: &'a str,
    /// What the connection may do now (kept current by its watch).
    rights: &'a Rights,
    me: &'a mut MemberInfo,
    syncs: SyncBudget,
}

/// Syncs a connection may ask for at once: a client syncs when it connects, reconnects and is told to
/// resync, so a few in a row are normal.
const SYNC_BURST: u32 = 5;
/// After the burst, one more sync per this long. Each sync reads the store and encodes what the
/// client misses, possibly the whole document: a client asking in a loop would cost that each time.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// A connection's budget of syncs (a token bucket).
#[derive(Debug, Clone, Copy)]
struct SyncBudget {
    left: u32,
    refilled: Instant,
}

impl SyncBudget {
    fn new(now: Instant) -> SyncBudget {
        SyncBudget {
            left: SYNC_BURST,
            refilled: now,
        }
    }

    /// Takes one sync from the budget; false when there is none left.
    fn take(&mut self, now: Instant) -> bool {
        let earned = now.duration_since(self.refilled).as_millis() / SYNC_EVERY.as_millis();
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            self.left = self.left.saturating_add(earned).min(SYNC_BURST);
            self.refilled += SYNC_EVERY * earned.min(SYNC_BURST);
            if self.left == SYNC_BURST {
                self.refilled = now;
            }
        }
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }
}

/// Frames for this connection alone (answers to what it sent), from the reader half to the writer
/// half of the same task. Unlike a channel, it allocates nothing until there is something to send
/// (an idle connection's memory is what 10,000 of them cost). It stays small by construction: the
/// reader reads the client's next message only once the replies to the last one are written
/// ([`Replies::drained`]), so a client that does not read its answers stops being read, and is closed
/// as a slow consumer when an answer cannot be written for two ping intervals.
#[derive(Default)]
struct Replies {
    queue: std::sync::Mutex<std::collections::VecDeque<Message>>,
    ready: tokio::sync::Notify,
    written: tokio::sync::Notify,
}

impl Replies {
    /// Queues a frame for the writer.
    fn push(&self, message: Message) {
        self.lock().push_back(message);
        self.ready.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Message>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take(&self) -> Option<Message> {
        let mut queue = self.lock();
        let next = queue.pop_front();
        if queue.is_empty() && queue.capacity() > 8 {
            queue.shrink_to_fit();
        }
        next
    }

    /// The writer wrote what it took.
    fn wrote(&self) {
        self.written.notify_waiters();
    }

    /// Waits until every queued reply is written.
    async fn drained(&self) {
        loop {
            let written = self.written.notified();
            if self.lock().is_empty() {
                return;
            }
            written.await;
        }
    }
}

/// Serves the connection with three parts polled together: the writer (session frames, direct
/// replies, pings, the close the optimizer asks for), the reader (what the client sends, with the
/// store work some messages need) and the watch over the connection's rights. A slow store call
/// therefore never holds up the frames others send.
async fn run(
    sink: &mut Sink,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    conn: Connection,
    peer: &mut Peer<'_>,
    watch: Watch,
) {
    let replies = Replies::default();
    let last_heard = std::sync::Mutex::new(Instant::now());
    let id = conn.id;
    let user = peer.me.user.clone();
    let (optimizer, session, rights) = (peer.optimizer, peer.session, peer.rights);
    let guard = async {
        let tell = |can_edit: bool| {
            if let Ok(json) = serde_json::to_string(&ServerMessage::Access { can_edit }) {
                replies.push(Message::Text(json.into()));
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
    tokio::select! {
        () = write(sink, conn, &replies, &last_heard, optimizer, &user) => {}
        () = read(stream, &replies, &last_heard, peer, id) => {}
        () = guard => {}
    }
}

async fn write(
    sink: &mut Sink,
    mut conn: Connection,
    replies: &Replies,
    last_heard: &std::sync::Mutex<Instant>,
    optimizer: &WebSocketOptimizer,
    user: &str,
) {
    let config = *optimizer.config();
    let mut ping =
        tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    loop {
        tokio::select! {
            biased;
            changed = conn.close.changed() => {
                let code = if changed.is_ok() { *conn.close.borrow() } else { None };
                if let Some(code) = code {
                    if code != CloseCode::SLOW_CONSUMER {
                        // What the session already sent this connection goes out before the close
                        // (a shutdown flushes), within the close's own time limit.
                        let _ = tokio::time::timeout(CLOSE_WAIT, async {
                            while let Ok(out) = conn.outbound.try_recv() {
                                if sink.send(Message::Text(out.frame.clone())).await.is_err() {
                                    break;
                                }
                                conn.written(&out);
                            }
                        })
                        .await;
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
                        _ = conn.close.changed() => return,
                    };
                    replies.wrote();
                    if !sent || closing {
                        return;
                    }
                }
            }
            out = conn.outbound.recv() => {
                let Some(out) = out else { return };
                let written = tokio::select! {
                    r = sink.send(Message::Text(out.frame.clone())) => r.is_ok(),
                    _ = conn.close.changed() => {
                        // Closed while this write was stuck (a slow consumer): give up on it.
                        return;
                    }
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

async fn read(
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    replies: &Replies,
    last_heard: &std::sync::Mutex<Instant>,
    peer: &mut Peer<'_>,
    id: u64,
) {
    let (optimizer, session) = (peer.optimizer, peer.session);
    let config = *optimizer.config();
    let reply = |message: &ServerMessage| {
        if let Ok(json) = serde_json::to_string(message) {
            replies.push(Message::Text(json.into()));
        }
    };
    while let Some(inbound) = stream.next().await {
        let message = match inbound {
            Ok(message) => message,
            Err(e) => {
                if format!("{e:?}").contains("MessageTooLong") {
                    let frame = CloseFrame {
                        code: CloseCode::TOO_BIG.code,
                        reason: Utf8Bytes::from_static(CloseCode::TOO_BIG.reason),
                    };
                    replies.push(Message::Close(Some(frame)));
                    // The writer sends it and ends the connection.
                    std::future::pending::<()>().await;
                }
                return;
            }
        };
        *last_heard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        let answer = match message {
            Message::Text(text) => {
                optimizer.touch(session, id, text.len());
                peer.rights.touch();
                match parse_client(text.as_str(), config.max_message_bytes) {
                    Ok(message) => act(peer, id, message).await,
                    Err(refusal) => Some(ServerMessage::Error {
                        code: refusal.code,
                        message: refusal.message,
                    }),
                }
            }
            Message::Binary(bytes) => {
                optimizer.touch(session, id, bytes.len());
                Some(ServerMessage::Error {
                    code: "binary_unsupported",
                    message: "messages are JSON text frames".into(),
                })
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => None,
        };
        if let Some(answer) = answer {
            reply(&answer);
        }
        // The next message waits until the answers to this one are written: a client that does not
        // read what it asked for is not read either, and goes when its answers cannot be written.
        let stall = config.ping_interval * 2;
        if tokio::time::timeout(stall, replies.drained())
            .await
            .is_err()
        {
            optimizer.close_slow_consumer(session, id);
            std::future::pending::<()>().await;
        }
    }
}

/// What a checked client message does; answers what goes back to this connection alone. The store
/// work (sync, apply, save) is boxed: inline, its futures would make every connection's task as big
/// as the largest of them for its whole life, idle or not.
async fn act(peer: &mut Peer<'_>, id: u64, message: ClientMessage) -> Option<ServerMessage> {
    let (optimizer, session) = (peer.optimizer, peer.session);
    let refused = |e: super::docs::DocError| {
        if let super::docs::DocError::Store(cause) = &e {
            tracing::warn!(error = %cause, "an editing request failed in the store");
        }
        Some(ServerMessage::Error {
            code: e.code(),
            message: e.to_string(),
        })
    };
    let forbidden = || {
        Some(ServerMessage::Error {
            code: "forbidden",
            message: "editing needs the editor role".into(),
        })
    };
    match message {
        ClientMessage::Presence { section } => {
            peer.me.section = section;
            optimizer.set_metadata(
                session,
                id,
                serde_json::to_value(&*peer.me).unwrap_or_default(),
            );
            optimizer.queue_message(
                session,
                &ServerMessage::Presence {
                    member: peer.me.clone(),
                },
                false,
            );
            None
        }
        ClientMessage::Typing { section } => {
            let key = format!("typing:{}", peer.me.connection);
            optimizer.queue_conflatable(
                session,
                &key,
                &ServerMessage::Typing {
                    connection: peer.me.connection.clone(),
                    user: peer.me.user.clone(),
                    name: peer.me.name.clone(),
                    section,
                },
            );
            None
        }
        ClientMessage::Sync { state_vector } => {
            if !peer.syncs.take(Instant::now()) {
                return Some(ServerMessage::Error {
                    code: "rate_limited",
                    message: format!(
                        "too many sync requests: at most {SYNC_BURST} at once, then one every {} s",
                        SYNC_EVERY.as_secs()
                    ),
                });
            }
            match Box::pin(peer.documents.sync(peer.report_id, &state_vector)).await {
                Ok((update, state_vector)) => Some(ServerMessage::Sync {
                    update,
                    state_vector,
                }),
                Err(e) => refused(e),
            }
        }
        ClientMessage::Update { update, reference } => {
            if !peer.rights.may_edit() {
                return forbidden();
            }
            match Box::pin(peer.documents.apply(peer.report_id, &update, &peer.me.user)).await {
                Ok(_seq) => {
                    optimizer.queue_message(
                        session,
                        &ServerMessage::Update {
                            connection: peer.me.connection.clone(),
                            user: peer.me.user.clone(),
                            update,
                        },
                        false,
                    );
                    Some(ServerMessage::Ack { reference })
                }
                Err(e) => refused(e),
            }
        }
        ClientMessage::Save { name } => {
            if !peer.rights.may_edit() {
                return forbidden();
            }
            match Box::pin(peer.documents.save(peer.report_id, &name, &peer.me.user)).await {
                Ok(revision) => {
                    optimizer.queue_message(
                        session,
                        &ServerMessage::Saved {
                            revision,
                            by: peer.me.name.clone(),
                            restored: false,
                        },
                        true,
                    );
                    None
                }
                Err(e) => refused(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_come_in_a_burst_then_one_per_period() {
        let start = Instant::now();
        let mut budget = SyncBudget::new(start);
        for _ in 0..SYNC_BURST {
            assert!(budget.take(start));
        }
        assert!(!budget.take(start), "the burst is spent");
        assert!(!budget.take(start + SYNC_EVERY / 2));
        assert!(budget.take(start + SYNC_EVERY), "one more after a period");
        assert!(!budget.take(start + SYNC_EVERY));
        let later = start + SYNC_EVERY * 100;
        for _ in 0..SYNC_BURST {
            assert!(
                budget.take(later),
                "a long pause refills the burst, no more"
            );
        }
        assert!(!budget.take(later));
    }
}
