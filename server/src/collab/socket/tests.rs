//! The connection loop driven through channels, without a server: a seeded store in a temporary
//! SQLite file, the real optimizer, documents and rights behind it, and a test transport whose
//! client side the tests hold.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use app::collab::protocol::{parse_server_frame, ErrorCode, ServerMessage};
use app::model::Role;
use axum::extract::ws::Message;
use base64::Engine;
use futures_util::{Sink, Stream};
use serde_json::json;
use tokio::sync::mpsc;

use super::*;
use crate::auth::revoke::{Revocation, Why};
use crate::collab::WsConfig;
use crate::config::Config;
use crate::state::AppState;
use crate::storage::users::NewUser;
use clap::Parser;

/// How the test transport fails a read.
#[derive(Debug)]
enum Fault {
    /// The peer sent a message over the hard limit.
    TooBig,
    /// The client side is gone.
    Gone,
}

impl ReadError for Fault {
    fn is_too_big(&self) -> bool {
        matches!(self, Fault::TooBig)
    }
}

/// The server's end of a test connection.
struct Pipe {
    from_client: mpsc::UnboundedReceiver<Result<Message, Fault>>,
    to_client: mpsc::UnboundedSender<Message>,
    /// The client stopped reading: every write waits forever.
    stuck: Arc<AtomicBool>,
}

impl Stream for Pipe {
    type Item = Result<Message, Fault>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.from_client.poll_recv(cx)
    }
}

impl Sink<Message> for Pipe {
    type Error = Fault;

    fn poll_ready(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Result<(), Fault>> {
        if self.stuck.load(Ordering::Relaxed) {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Fault> {
        self.to_client.send(item).map_err(|_| Fault::Gone)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Result<(), Fault>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Result<(), Fault>> {
        Poll::Ready(Ok(()))
    }
}

/// The client's end.
struct Client {
    to_server: mpsc::UnboundedSender<Result<Message, Fault>>,
    from_server: mpsc::UnboundedReceiver<Message>,
    /// Messages of a batch frame not yet looked at.
    waiting: std::collections::VecDeque<ServerMessage>,
    stuck: Arc<AtomicBool>,
    served: tokio::task::JoinHandle<()>,
    /// The session's digest (for revocations).
    digest: String,
}

/// Longest wait for something the server owes: only a bug makes a test wait this long.
const OWED: Duration = Duration::from_secs(20);

impl Client {
    fn send(&self, message: serde_json::Value) {
        self.send_frame(Message::Text(message.to_string().into()));
    }

    fn send_frame(&self, frame: Message) {
        self.to_server.send(Ok(frame)).expect("the server reads");
    }

    async fn frame(&mut self) -> Message {
        tokio::time::timeout(OWED, self.from_server.recv())
            .await
            .expect("a frame in time")
            .expect("the connection is open")
    }

    /// The next message, batched or not (pings skipped).
    async fn next(&mut self) -> ServerMessage {
        loop {
            if let Some(m) = self.waiting.pop_front() {
                return m;
            }
            match self.frame().await {
                Message::Text(text) => self.waiting.extend(parse_server_frame(text.as_str())),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The first message that `pick` takes, skipping the others.
    async fn until<T>(&mut self, mut pick: impl FnMut(ServerMessage) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }

    /// The close frame the server ends with, skipping what comes before it.
    async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Message::Close(frame) = self.frame().await {
                let frame = frame.expect("a close frame with a code");
                return (frame.code, frame.reason.to_string());
            }
        }
    }

    async fn error(&mut self) -> ErrorCode {
        self.until(|m| match m {
            ServerMessage::Error { code, .. } => Some(code),
            _ => None,
        })
        .await
    }
}

struct World {
    state: AppState,
    report_id: i64,
    project_id: i64,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/pmr.db", dir.path().display());
    let config = Config::try_parse_from(["server", "--database-url", &url, "--seed-demo", "false"])
        .expect("configuration");
    let store = crate::storage::Store::open(&config.store.database_url)
        .await
        .expect("store");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    crate::seed::seed_if_empty(&store, today, config.generation.params())
        .await
        .expect("seeded");
    let mut draft = None;
    for project in store.project_refs().await.expect("projects") {
        let project_id = project.id;
        for report_id in store.report_ids(project_id).await.expect("reports") {
            let meta = store.report_meta(report_id).await.expect("meta");
            if meta.is_some_and(|m| m.status != app::model::ReportStatus::Final) {
                draft = Some((report_id, project_id));
            }
        }
    }
    let (report_id, project_id) = draft.expect("a draft report");
    let state = AppState::from_parts(&config, store, None).expect("state");
    World {
        state,
        report_id,
        project_id,
        _dir: dir,
    }
}

impl World {
    /// Opens a connection for a new account with `role` on the report's project.
    async fn connect(&self, user: &str, role: Role) -> Client {
        self.connect_to(self.state.collab.clone(), user, role).await
    }

    async fn connect_to(&self, optimizer: WebSocketOptimizer, user: &str, role: Role) -> Client {
        self.connect_with(optimizer, user, role, false).await
    }

    /// As [`World::connect_to`]; with `signed_out`, the session ends between the upgrade (which
    /// resolved it) and the socket's start.
    async fn connect_with(
        &self,
        optimizer: WebSocketOptimizer,
        user: &str,
        role: Role,
        signed_out: bool,
    ) -> Client {
        let store = &self.state.store;
        let new = NewUser {
            username: user.into(),
            display_name: format!("{user} (test)"),
            role,
            password_hash: "not used".into(),
        };
        let user_id = store
            .create_account(&new, &[self.project_id])
            .await
            .expect("account");
        let raw = format!("session-of-{user}");
        let digest = crate::auth::token::digest(&raw);
        let now = crate::auth::caller::now();
        store
            .insert_session(&digest, user_id, now, now + 3600)
            .await
            .expect("session");
        let resolved = self
            .state
            .authority
            .session(&raw)
            .await
            .expect("store")
            .expect("a live session");
        if signed_out {
            store.delete_session(&digest).await.expect("deleted");
        }
        let context = Context {
            optimizer,
            documents: self.state.documents.clone(),
            report_id: self.report_id,
            project_id: self.project_id,
            who: resolved.access,
            credential: resolved.credential,
            ends_at: resolved.ends_at,
            authority: self.state.authority.clone(),
            revocations: self.state.revocations.clone(),
        };
        let (to_server, from_client) = mpsc::unbounded_channel();
        let (to_client, from_server) = mpsc::unbounded_channel();
        let stuck = Arc::new(AtomicBool::new(false));
        let pipe = Pipe {
            from_client,
            to_client,
            stuck: stuck.clone(),
        };
        let served = tokio::spawn(serve(pipe, context));
        Client {
            to_server,
            from_server,
            waiting: Default::default(),
            stuck,
            served,
            digest,
        }
    }
}

async fn welcomed(client: &mut Client) -> (String, bool, usize) {
    match client.next().await {
        ServerMessage::Welcome {
            you,
            can_edit,
            members,
            ..
        } => (you.connection, can_edit, members.len()),
        other => panic!("the first frame is the welcome, not {other:?}"),
    }
}

/// A Yjs update that writes `text` into a section's narrative, as the browser's editor does.
fn narrative_update(section: &str, text: &str) -> String {
    use yrs::{Text, Transact};
    let doc = yrs::Doc::new();
    let narrative = doc.get_or_insert_text(app::editing::narrative_text(section).as_str());
    let mut txn = doc.transact_mut();
    narrative.insert(&mut txn, 0, text);
    base64::engine::general_purpose::STANDARD.encode(txn.encode_update_v1())
}

#[tokio::test]
async fn members_are_welcomed_and_see_each_other() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    let (_, can_edit, others) = welcomed(&mut ana).await;
    assert_eq!((can_edit, others), (true, 0), "an editor, alone");
    let mut ben = w.connect("ben", Role::Viewer).await;
    let (ben_conn, ben_edits, others) = welcomed(&mut ben).await;
    assert_eq!((ben_edits, others), (false, 1), "a viewer, after ana");
    let joined = ana
        .until(|m| match m {
            ServerMessage::Joined { member } if member.user == "ben" => Some(member),
            _ => None,
        })
        .await;
    assert_eq!(
        (joined.connection.as_str(), joined.user.as_str()),
        (ben_conn.as_str(), "ben")
    );
    ben.send(json!({"type": "presence", "section": "risks"}));
    let seen = ana
        .until(|m| match m {
            ServerMessage::Presence { member } if member.user == "ben" => Some(member),
            _ => None,
        })
        .await;
    assert_eq!(seen.section.as_deref(), Some("risks"));
}

#[tokio::test]
async fn bad_messages_are_refused_and_the_connection_stays() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    ana.send_frame(Message::Text("not json".into()));
    assert_eq!(ana.error().await, ErrorCode::Malformed);
    ana.send_frame(Message::Binary(vec![1, 2, 3].into()));
    assert_eq!(ana.error().await, ErrorCode::BinaryUnsupported);
    ana.send(json!({"type": "typing", "section": "Not A Key"}));
    assert_eq!(ana.error().await, ErrorCode::InvalidMessage);
    ana.send(json!({"type": "presence", "section": "summary"}));
    let member = ana
        .until(|m| match m {
            ServerMessage::Presence { member } => Some(member),
            _ => None,
        })
        .await;
    assert_eq!(member.section.as_deref(), Some("summary"), "still served");
}

#[tokio::test]
async fn a_message_past_the_hard_limit_closes_with_1009() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    ana.to_server.send(Err(Fault::TooBig)).expect("reads");
    assert_eq!(ana.closed().await.0, CloseCode::TOO_BIG.code);
}

#[tokio::test]
async fn viewers_may_not_edit_and_an_editors_edit_reaches_everyone() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    let (ana_conn, can_edit, _) = welcomed(&mut ana).await;
    assert!(can_edit);
    let mut ben = w.connect("ben", Role::Viewer).await;
    welcomed(&mut ben).await;
    let update = narrative_update("executive-summary", "On track.");
    ben.send(json!({"type": "update", "update": update, "ref": 1}));
    assert_eq!(ben.error().await, ErrorCode::Forbidden);
    ana.send(json!({"type": "update", "update": update, "ref": 7}));
    let acked = ana
        .until(|m| match m {
            ServerMessage::Ack { reference } => Some(reference),
            ServerMessage::Error { code, message } => panic!("refused: {code:?} {message}"),
            _ => None,
        })
        .await;
    assert_eq!(acked, Some(7));
    let (from, relayed) = ben
        .until(|m| match m {
            ServerMessage::Update {
                connection, update, ..
            } => Some((connection, update)),
            _ => None,
        })
        .await;
    assert_eq!((from, relayed), (ana_conn, update));
}

#[tokio::test]
async fn syncs_past_the_budget_are_refused() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    for _ in 0..read::SYNC_BURST {
        ana.send(json!({"type": "sync", "state_vector": "AA=="}));
        ana.until(|m| match m {
            ServerMessage::Sync { .. } => Some(()),
            ServerMessage::Error { code, message } => panic!("refused: {code:?} {message}"),
            _ => None,
        })
        .await;
    }
    ana.send(json!({"type": "sync", "state_vector": "AA=="}));
    assert_eq!(ana.error().await, ErrorCode::RateLimited);
}

#[tokio::test]
async fn a_session_signed_out_elsewhere_closes_the_socket_with_4401() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    w.state
        .store
        .delete_session(&ana.digest)
        .await
        .expect("deleted");
    w.state
        .revocations
        .publish(Revocation::Session {
            digest: ana.digest.clone(),
            why: Why::SignedOut,
        })
        .await;
    assert_eq!(
        ana.closed().await,
        (CloseCode::ENDED, Why::SignedOut.reason().to_string())
    );
}

#[tokio::test]
async fn rights_that_ended_after_the_upgrade_are_refused_before_the_welcome() {
    let w = world().await;
    let mut ben = w.connect("ben", Role::Viewer).await;
    welcomed(&mut ben).await;
    let mut ana = w
        .connect_with(w.state.collab.clone(), "ana", Role::Editor, true)
        .await;
    match ana.frame().await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::ENDED),
        other => panic!("closed before anything else, not {other:?}"),
    }
    ben.send(json!({"type": "presence", "section": "risks"}));
    let seen = ben
        .until(|m| match m {
            ServerMessage::Joined { member } if member.user == "ana" => Some(false),
            ServerMessage::Presence { member } if member.user == "ben" => Some(true),
            _ => None,
        })
        .await;
    assert!(seen, "the session never heard of ana");
}

#[tokio::test]
async fn a_member_that_does_not_read_is_closed_and_the_others_are_served() {
    let w = world().await;
    let optimizer = WebSocketOptimizer::new(
        WsConfig {
            outbound_queue_bytes: 4096,
            batching: false,
            ..WsConfig::default()
        },
        "tight".into(),
        None,
    );
    let mut ana = w.connect_to(optimizer.clone(), "ana", Role::Editor).await;
    welcomed(&mut ana).await;
    let mut ben = w.connect_to(optimizer.clone(), "ben", Role::Editor).await;
    welcomed(&mut ben).await;
    ana.stuck.store(true, Ordering::Relaxed);
    for i in 0..100 {
        let update = narrative_update("executive-summary", &format!("Line {i}. "));
        ben.send(json!({"type": "update", "update": update, "ref": i}));
        ben.until(|m| match m {
            ServerMessage::Ack { reference } if reference == Some(i) => Some(()),
            ServerMessage::Error { code, message } => panic!("refused: {code:?} {message}"),
            _ => None,
        })
        .await;
    }
    tokio::time::timeout(OWED, &mut ana.served)
        .await
        .expect("the stuck connection ends")
        .expect("served");
    assert_eq!(optimizer.get_stats().slow_consumers_closed, 1);
    assert_eq!(optimizer.get_stats().total_connections, 1, "ben stays");
}

#[tokio::test]
async fn presence_past_the_budget_is_held_and_the_newest_arrives() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Viewer).await;
    welcomed(&mut ana).await;
    let mut ben = w.connect("ben", Role::Viewer).await;
    welcomed(&mut ben).await;
    let started = tokio::time::Instant::now();
    for i in 0..100 {
        ben.send(json!({"type": "presence", "section": format!("s-{i}")}));
    }
    let mut seen = 0u32;
    ana.until(|m| match m {
        ServerMessage::Presence { member } if member.user == "ben" => {
            seen += 1;
            (member.section.as_deref() == Some("s-99")).then_some(())
        }
        _ => None,
    })
    .await;
    // The burst, then one per period of the time it took; the last one always arrives.
    let periods = started.elapsed().as_millis() / read::EPHEMERAL_EVERY.as_millis();
    let most = read::EPHEMERAL_BURST + u32::try_from(periods).unwrap_or(u32::MAX) + 1;
    assert!(
        seen <= most && seen < 100,
        "{seen} presences went out (at most {most})"
    );
}

#[tokio::test]
async fn saves_past_the_budget_are_refused() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    let started = tokio::time::Instant::now();
    let mut saved = 0u64;
    loop {
        ana.send(json!({"type": "save", "name": format!("v{saved}")}));
        let refused = ana
            .until(|m| match m {
                ServerMessage::Saved { .. } => Some(None),
                ServerMessage::Error { code, .. } => Some(Some(code)),
                _ => None,
            })
            .await;
        match refused {
            None => saved += 1,
            Some(code) => {
                assert_eq!(code, ErrorCode::RateLimited);
                break;
            }
        }
        // The burst, and one more per period of the time the saves took (a slow machine earns
        // more); without a budget this goes on to the report's cap.
        let earned = started.elapsed().as_millis() / read::SAVE_EVERY.as_millis();
        let most = u64::from(read::SAVE_BURST) + u64::try_from(earned).unwrap_or(u64::MAX);
        assert!(saved <= most, "{saved} saves taken, at most {most}");
    }
    assert!(saved >= u64::from(read::SAVE_BURST), "{saved}");
}

#[tokio::test]
async fn a_published_report_takes_no_more_saves() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    ana.send(json!({"type": "save", "name": "before"}));
    ana.until(|m| match m {
        ServerMessage::Saved { .. } => Some(()),
        ServerMessage::Error { code, message } => panic!("refused: {code:?} {message}"),
        _ => None,
    })
    .await;
    // Published elsewhere (another instance): this instance's copy does not know yet.
    w.state
        .store
        .publish_report(w.report_id, "root")
        .await
        .expect("published");
    ana.send(json!({"type": "save", "name": "after"}));
    assert_eq!(ana.error().await, ErrorCode::ReadOnly);
    let kept = w.state.store.revisions(w.report_id).await.expect("list");
    assert_eq!(kept.len(), 1, "{kept:?}");
}

#[tokio::test]
async fn an_update_past_the_documents_size_limit_is_refused() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    // Each update adds 45,000 characters (about 60 KB in base64, under the message limit).
    let chunk = "x".repeat(45_000);
    let mut acked = 0usize;
    let refused = loop {
        let update = narrative_update("executive-summary", &chunk);
        ana.send(json!({"type": "update", "update": update, "ref": acked}));
        let answer = ana
            .until(|m| match m {
                ServerMessage::Ack { .. } => Some(None),
                ServerMessage::Error { code, .. } => Some(Some(code)),
                _ => None,
            })
            .await;
        match answer {
            None => acked += 1,
            Some(code) => break code,
        }
        assert!(acked < 40, "never refused");
    };
    assert_eq!(refused, ErrorCode::DocumentTooLarge);
    let limit = crate::collab::docs::MAX_DOC_BYTES;
    assert!(
        acked * 45_000 <= limit && (acked + 2) * 45_000 > limit,
        "refused after {acked} updates"
    );
    // The document still syncs whole, and later edits that fit are taken.
    ana.send(json!({"type": "sync", "state_vector": "AA=="}));
    ana.until(|m| match m {
        ServerMessage::Sync { .. } => Some(()),
        ServerMessage::Error { code, message } => panic!("refused: {code:?} {message}"),
        _ => None,
    })
    .await;
}

#[tokio::test]
async fn a_document_is_let_go_when_its_session_ends_with_a_write_back_pending() {
    let w = world().await;
    let mut ana = w.connect("ana", Role::Editor).await;
    welcomed(&mut ana).await;
    let update = narrative_update("executive-summary", "Written just before leaving.");
    ana.send(json!({"type": "update", "update": update, "ref": 1}));
    ana.until(|m| match m {
        ServerMessage::Ack { .. } => Some(()),
        ServerMessage::Error { code, message } => panic!("refused: {code:?} {message}"),
        _ => None,
    })
    .await;
    assert_eq!(w.state.documents.held_count(), 1);
    let Client {
        to_server, served, ..
    } = ana;
    drop(to_server);
    tokio::time::timeout(OWED, served)
        .await
        .expect("the connection ends")
        .expect("served");
    assert_eq!(w.state.documents.held_count(), 0, "the session's end");
    // The write-back the edit scheduled (a second after it) runs after the session's end: it must
    // not load the document back for good.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(w.state.documents.held_count(), 0, "after the write-back");
}
