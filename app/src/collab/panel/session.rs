//! The browser's side of the collaboration socket: connecting (and reconnecting with backoff),
//! the protocol's messages both ways (`crate::collab::protocol`), and what they change in the
//! panel's signals. The document behind the texts comes with the editor (its own chunk, loaded when
//! someone opens it): until then the session carries presence, typing and revisions only, and asks
//! for no document; the session knows the document through [`TextDocument`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use base64::Engine;
use futures::channel::mpsc;
use futures::future::Either;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State, WebSocketError};
use leptos::prelude::*;

use super::{Link, Shared};
use crate::collab::protocol::{
    parse_server_frame, AfterClose, ClientMessage, CloseCode, MemberInfo, ServerMessage,
};
use crate::collab::text::backoff_ms;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Frames waiting for the socket; past it the socket cannot keep up, and is opened again (the sync
/// that follows carries every edit).
const OUTBOX: usize = 1024;

/// The editor's document as the session sees it (updates and state vectors are `yrs` v1 bytes).
pub trait TextDocument {
    /// This copy's state vector, for a sync.
    fn state_vector(&self) -> Vec<u8>;
    /// Applies an update from elsewhere, keeping the caret of the text being typed in (`focus`, a
    /// section's key) where it was in the text around it.
    fn apply_remote(&self, update: &[u8], focus: Option<&str>);
    /// What a copy at `state_vector` lacks, as one update; `None` when the vector cannot be read.
    fn missing_for(&self, state_vector: &[u8]) -> Option<Vec<u8>>;
    /// Whether an update carries no change.
    fn is_empty_update(&self, update: &[u8]) -> bool;
    /// Forgets everything, local edits included: the copy starts empty, for a full sync to fill
    /// (after the server refused this copy's edits for good).
    fn reset(&self);
    /// A textarea's new value as one splice of the section's text; the update to send.
    fn edit_text(&self, key: &str, value: &str) -> Vec<u8>;
    /// A structured field's new value; the update to send.
    fn set_field(&self, key: &str, value: &str) -> Vec<u8>;
}

/// One page's collaboration session: the way to the socket (replaced on every reconnect) and, once
/// the editor has been opened, the document.
pub struct Session {
    report_id: i64,
    shared: Shared,
    document: RefCell<Option<Rc<dyn TextDocument>>>,
    /// Text frames for the socket's task; dropping it ends the task, which closes the socket.
    outbox: RefCell<Option<mpsc::Sender<String>>>,
    /// The server welcomed this connection (cleared when it closes).
    live: Cell<bool>,
    attempt: Cell<u32>,
    stopped: Cell<bool>,
    next_ref: Cell<u64>,
    focus: RefCell<Option<String>>,
    last_typing: Cell<f64>,
    myself: RefCell<std::rc::Weak<Session>>,
    /// Reloads the page's report (when someone publishes it).
    reload: Callback<()>,
    /// While paused after an idle close: the listeners for the reader's return.
    waking: RefCell<Vec<WindowListenerHandle>>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Starts the session; it closes when the current owner is cleaned up (the report page keeps it across
/// re-renders of the report view: `super::super::CollabKeeper`).
pub fn start(report_id: i64, shared: Shared, reload: Callback<()>) -> super::SessionHandle {
    let session = Rc::new(Session {
        report_id,
        shared,
        document: RefCell::new(None),
        outbox: RefCell::new(None),
        live: Cell::new(false),
        attempt: Cell::new(0),
        stopped: Cell::new(false),
        next_ref: Cell::new(1),
        focus: RefCell::new(None),
        last_typing: Cell::new(0.0),
        myself: RefCell::new(std::rc::Weak::new()),
        reload,
        waking: RefCell::new(Vec::new()),
    });
    *session.myself.borrow_mut() = Rc::downgrade(&session);
    session.connect();
    // Typing indicators fade three seconds after the last keystroke.
    let fade = set_interval_with_handle(
        move || {
            let cutoff = now_ms() - 3000.0;
            if shared
                .typing
                .with_untracked(|t| t.values().any(|(_, _, at)| *at < cutoff))
            {
                shared
                    .typing
                    .update(|t| t.retain(|_, (_, _, at)| *at >= cutoff));
            }
        },
        Duration::from_millis(1000),
    )
    .ok();
    let handle = StoredValue::new_local(session);
    on_cleanup(move || {
        if let Some(fade) = fade {
            fade.clear();
        }
        handle.try_with_value(|s| s.stop());
    });
    handle
}

/// What the socket's task waits for next.
enum Event {
    Received(Option<Result<Message, WebSocketError>>),
    ToSend(Option<String>),
}

/// One connection's life: frames from the server go to the session, frames from the outbox go to
/// the server, and when the server closes it the session hears the code and reason (and retries).
/// Ends when the session stops (its outbox closes), once the socket has opened.
async fn run_socket(
    mut ws: WebSocket,
    mut frames: mpsc::Receiver<String>,
    session: std::rc::Weak<Session>,
) {
    // 1006: closed without a close frame (the network went away).
    let mut close = (1006, String::new());
    loop {
        let event = match futures::future::select(ws.next(), frames.next()).await {
            Either::Left((received, _)) => Event::Received(received),
            Either::Right((to_send, _)) => Event::ToSend(to_send),
        };
        match event {
            Event::Received(Some(Ok(Message::Text(text)))) => {
                let Some(s) = session.upgrade() else { return };
                for message in parse_server_frame(&text) {
                    s.handle(message);
                }
            }
            Event::Received(Some(Ok(Message::Bytes(_)))) => {}
            Event::Received(Some(Err(WebSocketError::ConnectionClose(event)))) => {
                close = (event.code, event.reason);
            }
            Event::Received(Some(Err(_))) => {}
            Event::Received(None) => {
                if let Some(s) = session.upgrade() {
                    s.closed(close.0, close.1);
                }
                return;
            }
            Event::ToSend(Some(text)) => {
                // A failed send shows up as the close that follows.
                let _ = ws.send(Message::Text(text)).await;
            }
            Event::ToSend(None) => {
                // Closing a socket that is still connecting makes the browser log "closed before
                // the connection is established": let it open first (the server's welcome is the
                // first frame), then close it. A handshake that never ends is the browser's to fail.
                if matches!(ws.state(), State::Connecting) {
                    while let Some(frame) = ws.next().await {
                        if frame.is_ok() {
                            break;
                        }
                    }
                }
                return;
            }
        }
    }
}

impl Session {
    fn url(&self) -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!(
            "{scheme}://{}/ws/reports/{}",
            location.host().ok()?,
            self.report_id
        ))
    }

    fn connect(&self) {
        if self.stopped.get() {
            return;
        }
        let Some(url) = self.url() else { return };
        let Ok(ws) = WebSocket::open(&url) else {
            self.shared
                .link
                .set(Link::Closed("this browser cannot open a WebSocket".into()));
            return;
        };
        self.shared.link.set(Link::Connecting);
        let (outbox, frames) = mpsc::channel::<String>(OUTBOX);
        *self.outbox.borrow_mut() = Some(outbox);
        let weak = self.myself.borrow().clone();
        leptos::task::spawn_local(run_socket(ws, frames, weak));
    }

    fn closed(&self, code: u16, reason: String) {
        *self.outbox.borrow_mut() = None;
        self.live.set(false);
        self.shared.members.set(Vec::new());
        self.shared.typing.set(Default::default());
        if self.stopped.get() {
            return;
        }
        match CloseCode::then(code) {
            AfterClose::StayClosed => {
                self.shared.link.set(Link::Closed(reason));
                return;
            }
            AfterClose::WaitForActivity => {
                self.shared.link.set(Link::Paused);
                self.wake_on_activity();
                return;
            }
            AfterClose::Retry => {}
        }
        let attempt = self.attempt.get();
        self.attempt.set(attempt + 1);
        let delay = backoff_ms(attempt, js_sys::Math::random());
        self.shared.link.set(Link::Retrying(delay.div_ceil(1000)));
        let weak = self.myself.borrow().clone();
        set_timeout(
            move || {
                if let Some(s) = weak.upgrade() {
                    s.connect();
                }
            },
            Duration::from_millis(u64::from(delay)),
        );
    }

    /// Opens the connection again at the reader's first sign of life: a key, a click or touch, a
    /// scroll, the window or tab coming back into view.
    fn wake_on_activity(&self) {
        let weak = self.myself.borrow().clone();
        let wake = move || {
            let Some(s) = weak.upgrade() else { return };
            let handles = std::mem::take(&mut *s.waking.borrow_mut());
            if handles.is_empty() {
                return;
            }
            handles.into_iter().for_each(WindowListenerHandle::remove);
            s.attempt.set(0);
            s.connect();
        };
        let visible = wake.clone();
        let handles = vec![
            window_event_listener(leptos::ev::keydown, {
                let wake = wake.clone();
                move |_| wake()
            }),
            window_event_listener(leptos::ev::pointerdown, {
                let wake = wake.clone();
                move |_| wake()
            }),
            window_event_listener(leptos::ev::scroll, {
                let wake = wake.clone();
                move |_| wake()
            }),
            window_event_listener(leptos::ev::focus, move |_| wake()),
            window_event_listener(leptos::ev::visibilitychange, move |_| {
                if !document().hidden() {
                    visible();
                }
            }),
        ];
        *self.waking.borrow_mut() = handles;
    }

    fn stop(&self) {
        self.stopped.set(true);
        self.waking
            .borrow_mut()
            .drain(..)
            .for_each(WindowListenerHandle::remove);
        // The socket's task sees its outbox closed and drops the socket, which closes it.
        self.outbox.borrow_mut().take();
    }

    /// Sends a message if the connection is live; false when it could not be sent.
    fn send(&self, message: &ClientMessage) -> bool {
        if !self.live.get() {
            return false;
        }
        let Ok(text) = serde_json::to_string(message) else {
            return false;
        };
        let sent = self
            .outbox
            .borrow_mut()
            .as_mut()
            .map(|outbox| outbox.try_send(text));
        match sent {
            Some(Ok(())) => true,
            Some(Err(e)) if e.is_full() => {
                // The socket cannot keep up: open it again; the sync after the welcome carries
                // what did not go out.
                self.closed(1006, String::new());
                false
            }
            _ => false,
        }
    }

    fn send_presence(&self) {
        let section = self.focus.borrow().clone();
        self.send(&ClientMessage::Presence { section });
    }

    /// Asks for what the document lacks (only once the editor has brought one).
    fn send_sync(&self) {
        let Some(document) = self.document() else {
            return;
        };
        let state_vector = B64.encode(document.state_vector());
        self.send(&ClientMessage::Sync { state_vector });
    }

    /// The editor's document, once it has joined.
    pub fn document(&self) -> Option<Rc<dyn TextDocument>> {
        self.document.borrow().clone()
    }

    /// The editor's document joins the session (once): it is synced now if the connection is live,
    /// else after the welcome.
    pub fn attach(&self, document: Rc<dyn TextDocument>) {
        if self.document.borrow().is_some() {
            return;
        }
        *self.document.borrow_mut() = Some(document);
        self.send_sync();
    }

    /// Sends a local edit (an update of the document).
    pub fn send_update(&self, update: Vec<u8>) {
        if self
            .document()
            .is_some_and(|document| document.is_empty_update(&update))
        {
            return;
        }
        // Unsent while offline: the document keeps the edit, and the sync after reconnecting
        // carries it.
        self.shared.unsaved.update(|n| *n += 1);
        let reference = self.next_ref.get();
        self.next_ref.set(reference + 1);
        self.send(&ClientMessage::Update {
            update: B64.encode(update),
            reference: Some(reference),
        });
    }

    /// One message from the server.
    fn handle(&self, message: ServerMessage) {
        let shared = self.shared;
        match message {
            ServerMessage::Welcome {
                you,
                mut members,
                can_edit,
                ..
            } => {
                self.live.set(true);
                self.attempt.set(0);
                shared.link.set(Link::Live);
                shared.me.set(you.connection.clone());
                members.push(you);
                shared.may_edit.set(can_edit);
                shared.members.set(members);
                self.send_presence();
                self.send_sync();
            }
            ServerMessage::Joined { member } => {
                let newcomer = member.connection != shared.me.get_untracked();
                self.member_seen(member);
                // Members on other instances learn about us from our presence.
                if newcomer {
                    self.send_presence();
                }
            }
            ServerMessage::Presence { member } => self.member_seen(member),
            ServerMessage::Left { connection, .. } => {
                shared
                    .members
                    .update(|list| list.retain(|x| x.connection != connection));
                shared.typing.update(|t| {
                    t.remove(&connection);
                });
            }
            ServerMessage::Typing {
                connection,
                name,
                section,
                ..
            } => {
                shared.typing.update(|t| {
                    t.insert(connection, (name, section, now_ms()));
                });
            }
            ServerMessage::Sync {
                update,
                state_vector,
            } => self.synced(&update, &state_vector),
            ServerMessage::Update {
                connection, update, ..
            } => {
                if connection != shared.me.get_untracked() {
                    self.apply_remote(&update);
                }
            }
            ServerMessage::Ack { .. } => shared.unsaved.update(|n| *n = n.saturating_sub(1)),
            ServerMessage::Saved {
                revision,
                by,
                restored,
            } => {
                let verb = if restored { "restored" } else { "saved" };
                let (number, name) = (revision.number, revision.name);
                shared.notice.set(Some((
                    true,
                    format!("{by} {verb} revision {number} “{name}”."),
                )));
                shared.revisions_changed.update(|n| *n += 1);
            }
            ServerMessage::Error { code, message } => {
                if code.drops_pending_edits() {
                    shared.unsaved.set(0);
                }
                // An edit the server will never take: the later ones build on it, so this copy
                // starts again from what the server holds, and the reader is told.
                let document = self.document().filter(|_| code.discards_local_edits());
                if let Some(document) = document {
                    document.reset();
                    shared.synced.set(false);
                    self.send_sync();
                    let message = format!(
                        "{}. The change was not kept: the texts are back as saved.",
                        message.trim_end_matches('.')
                    );
                    shared.notice.set(Some((false, message)));
                    return;
                }
                shared.notice.set(Some((false, message)));
            }
            ServerMessage::Resync {} => {
                self.send_presence();
                self.send_sync();
            }
            // The role changed while connected: the editor follows what the server allows.
            ServerMessage::Access { can_edit } => shared.may_edit.set(can_edit),
            // Published while open: nobody edits it any more; edits not yet stored are refused. The
            // page reloads the report (this session stays).
            ServerMessage::Published { by } => {
                shared.may_edit.set(false);
                self.reload.run(());
                shared.notice.set(Some((
                    true,
                    format!("{by} published this report: it is read-only now."),
                )));
            }
        }
    }

    /// A member joined or moved: its entry, new or replaced, last (the list is in the order members
    /// were last heard from: where someone with several windows is, is where they moved last).
    fn member_seen(&self, member: MemberInfo) {
        self.shared.members.update(|list| {
            list.retain(|x| x.connection != member.connection);
            list.push(member);
        });
    }

    /// An update from elsewhere (base64), for the document if the editor has brought one.
    fn apply_remote(&self, update: &str) {
        let Some(document) = self.document() else {
            return;
        };
        if let Ok(bytes) = B64.decode(update) {
            let focus = self.focus.borrow().clone();
            document.apply_remote(&bytes, focus.as_deref());
        }
    }

    /// The answer to a sync: what this copy missed, and what the server misses (edits made while
    /// offline), which goes back as one update.
    fn synced(&self, update: &str, state_vector: &str) {
        let Some(document) = self.document() else {
            return;
        };
        self.apply_remote(update);
        self.shared.synced.set(true);
        let missing = B64
            .decode(state_vector)
            .ok()
            .and_then(|theirs| document.missing_for(&theirs));
        if let Some(missing) = missing {
            self.shared.unsaved.set(0);
            self.send_update(missing);
        }
    }

    /// Says that this reader is typing in a section (at most once a second).
    pub fn typed(&self, section: &str) {
        let now = now_ms();
        if now - self.last_typing.get() > 1000.0 {
            self.last_typing.set(now);
            self.send(&ClientMessage::Typing {
                section: section.to_string(),
            });
        }
    }

    /// The reader moved to a section's text (or left them).
    pub fn focus(&self, section: Option<&str>) {
        let section = section.map(str::to_string);
        if *self.focus.borrow() != section {
            *self.focus.borrow_mut() = section;
            self.send_presence();
        }
    }

    /// Asks for a revision; false when it could not be sent.
    pub fn save(&self, name: &str) -> bool {
        let name = name.trim();
        if name.is_empty() {
            return false;
        }
        let sent = self.send(&ClientMessage::Save {
            name: name.to_string(),
        });
        if !sent {
            self.shared.notice.set(Some((
                false,
                "Not connected: save again once the connection is back.".into(),
            )));
        }
        sent
    }
}
