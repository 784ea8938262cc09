//! One collaboration connection, from the upgrade to the close: it registers with the optimizer
//! (refused at a cap with close code 1013), sends the welcome, then serves three things at once:
//! frames the session sends it (written in order; a write that cannot finish because the client
//! stopped reading is abandoned when the optimizer closes the connection as a slow consumer), what
//! the client sends (checked by `protocol`, refused with an error frame and dropped when bad), and a
//! ping every `ping_interval` (a peer silent for two intervals is dropped).

use std::time::Duration;

use app::account::Principal;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;

use super::docs::Documents;
use super::optimizer::{CloseCode, Connection, WebSocketOptimizer};
use super::protocol::{
    color_of, parse_client, BatchingInfo, ClientMessage, MemberInfo, ServerMessage,
};

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
    pub who: Principal,
}

/// Serves one connection to a report's session until either side ends it.
pub async fn serve(socket: WebSocket, context: Context) {
    let Context {
        optimizer,
        documents,
        report_id,
        who,
    } = context;
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
        can_edit: who.has_role(app::model::Role::Editor),
    };
    if send_direct(&mut sink, &welcome).await {
        optimizer.queue_message(
            &session,
            &ServerMessage::Joined { member: me.clone() },
            false,
        );
        let mut peer = Peer {
            optimizer: &optimizer,
            documents: &documents,
            report_id,
            session: &session,
            may_edit: who.has_role(app::model::Role::Editor),
            me: &mut me,
        };
        run(&mut sink, &mut stream, conn, &mut peer).await;
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
    may_edit: bool,
    me: &'a mut MemberInfo,
}

/// Frames for this connection alone (answers to what it sent), from the reader half to the writer
/// half of the same task. Unlike a channel, it allocates nothing until there is something to send
/// (an idle connection's memory is what 10,000 of them cost).
#[derive(Default)]
struct Replies {
    queue: std::sync::Mutex<std::collections::VecDeque<Message>>,
    ready: tokio::sync::Notify,
}

impl Replies {
    /// Queues a frame for the writer (the reader stops when the writer has, so nothing waits long).
    fn push(&self, message: Message) {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(message);
        self.ready.notify_one();
    }

    fn take(&self) -> Option<Message> {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = queue.pop_front();
        if queue.is_empty() && queue.capacity() > 8 {
            queue.shrink_to_fit();
        }
        next
    }
}

/// Serves the connection with two halves polled together: the writer (session frames, direct
/// replies, pings, the close the optimizer asks for) and the reader (what the client sends, with the
/// store work some messages need). A slow store call therefore never holds up the frames others send.
async fn run(
    sink: &mut Sink,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    conn: Connection,
    peer: &mut Peer<'_>,
) {
    let replies = Replies::default();
    let last_heard = std::sync::Mutex::new(Instant::now());
    let id = conn.id;
    let user = peer.me.user.clone();
    tokio::select! {
        () = write(sink, conn, &replies, &last_heard, peer.optimizer, &user) => {}
        () = read(stream, &replies, &last_heard, peer, id) => {}
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
                    if sink.send(reply).await.is_err() || closing {
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
            match Box::pin(peer.documents.sync(peer.report_id, &state_vector)).await {
                Ok((update, state_vector)) => Some(ServerMessage::Sync {
                    update,
                    state_vector,
                }),
                Err(e) => refused(e),
            }
        }
        ClientMessage::Update { update, reference } => {
            if !peer.may_edit {
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
            if !peer.may_edit {
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
