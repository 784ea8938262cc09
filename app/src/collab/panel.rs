//! The collaboration panel (a lazily loaded WASM chunk): the connection's state, who is here and in
//! which section, and for editors of a draft the texts edited together (declared status,
//! justification, each section's narrative), typing indicators, Save and the revisions.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::Deserialize;

use super::text::typing_line;
use super::{CollabSettings, EditableSection};
use crate::api::{get_revision, list_revisions, restore_revision};
use crate::editing::{RevisionDetail, MAX_REVISION_NAME_CHARS};

/// A connection of the session, as the server describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Member {
    pub connection: String,
    pub user: String,
    pub name: String,
    pub color: u8,
    pub section: Option<String>,
}

/// The connection as the reader sees it (only the browser moves past `Connecting`).
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Connecting,
    Live,
    /// Lost; the next attempt is in this many seconds.
    Retrying(u32),
    /// The server closed it for good (or the browser has no WebSocket): why.
    Closed(String),
}

/// Everything the view shows, as signals the browser session writes.
#[derive(Clone, Copy)]
pub struct Shared {
    pub link: RwSignal<Link>,
    pub members: RwSignal<Vec<Member>>,
    pub me: RwSignal<String>,
    /// Whether the server lets this reader edit (from the welcome).
    pub may_edit: RwSignal<bool>,
    /// Connection → (name, section, when it was last seen typing, ms since page load).
    pub typing: RwSignal<BTreeMap<String, (String, String, f64)>>,
    pub texts: RwSignal<BTreeMap<String, String>>,
    pub status: RwSignal<String>,
    pub justification: RwSignal<String>,
    /// Edits not yet acknowledged by the server.
    pub unsaved: RwSignal<u32>,
    /// The latest event worth a line (saved, restored, refused).
    pub notice: RwSignal<Option<(bool, String)>>,
    /// Bumped when a revision is saved or restored, to reload the list.
    pub revisions_changed: RwSignal<u32>,
}

/// The panel (loaded on demand).
#[lazy]
pub fn collab_panel(props: CollabSettings) -> AnyView {
    let shared = Shared {
        link: RwSignal::new(Link::Connecting),
        members: RwSignal::new(Vec::new()),
        me: RwSignal::new(String::new()),
        may_edit: RwSignal::new(false),
        typing: RwSignal::new(BTreeMap::new()),
        texts: RwSignal::new(BTreeMap::new()),
        status: RwSignal::new(String::new()),
        justification: RwSignal::new(String::new()),
        unsaved: RwSignal::new(0),
        notice: RwSignal::new(None),
        revisions_changed: RwSignal::new(0),
    };
    let session = browser::start(props.report_id, shared);
    view! { <Panel settings=props shared session/> }.into_any()
}

/// The browser session.
type SessionHandle = StoredValue<std::rc::Rc<browser::Session>, LocalStorage>;

#[component]
fn Panel(settings: CollabSettings, shared: Shared, session: SessionHandle) -> impl IntoView {
    let editing = RwSignal::new(false);
    let editable = settings.editable;
    let can_edit = move || editable && shared.may_edit.get();
    let sections = settings.sections.clone();
    let titles: BTreeMap<String, String> = settings
        .sections
        .iter()
        .map(|s| (s.key.clone(), s.title.clone()))
        .collect();
    let here = move || {
        let me = shared.me.get();
        let mut list = shared.members.get();
        // Me first, then by name.
        list.sort_by_key(|m| (m.connection != me, m.name.clone()));
        list
    };
    let state_line = move || match shared.link.get() {
        Link::Connecting => ("idle", "Connecting…".to_string()),
        Link::Live => {
            let n = shared.members.with(Vec::len);
            let pending = shared.unsaved.get();
            let saving = if pending > 0 { " · saving…" } else { "" };
            ("live", format!("Live · {n} here{saving}"))
        }
        Link::Retrying(secs) => {
            let kept = if shared.unsaved.get() > 0 {
                " Your edits are kept here and sent when it is back."
            } else {
                ""
            };
            (
                "down",
                format!("Connection lost; retrying in {secs} s.{kept}"),
            )
        }
        Link::Closed(why) => ("down", format!("Not connected: {why}")),
    };
    view! {
        <section class="collab" aria-label="Live collaboration" data-testid="collab">
            <div class="collab__bar">
                <p class="collab__state" role="status" data-testid="collab-state"
                    data-link=move || match shared.link.get() { Link::Live => "live", Link::Connecting => "connecting", _ => "down" }>
                    {move || { let (kind, text) = state_line(); view! { <span class=format!("dot dot--{kind}")></span>{text} } }}
                </p>
                <ul class="collab__people" aria-label="Who is here" data-testid="presence">
                    {move || here().into_iter().map(|m| {
                        let mine = m.connection == shared.me.get_untracked();
                        let place = m.section.as_ref().and_then(|k| titles.get(k).cloned());
                        let label = match (&place, mine) {
                            (Some(p), true) => format!("You · in {p}"),
                            (None, true) => "You".to_string(),
                            (Some(p), false) => format!("{} · in {p}", m.name),
                            (None, false) => m.name.clone(),
                        };
                        let title = label.clone();
                        view! {
                            <li class=format!("person person--c{}", m.color) data-user=m.user.clone() title=title>
                                <span class="person__marker" aria-hidden="true"></span>{label}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {move || can_edit().then(|| view! {
                    <button type="button" class="button" data-testid="edit-toggle"
                        aria-pressed=move || editing.get().to_string()
                        on:click=move |_| editing.update(|e| *e = !*e)>
                        {move || if editing.get() { "Close the editor" } else { "Edit the texts together" }}
                    </button>
                })}
                {settings.is_final.then(|| view! { <span class="muted">"Final report: read only."</span> })}
            </div>
            {move || shared.notice.get().map(|(ok, text)| view! {
                <p class=if ok { "form-status" } else { "form-status form-status--error" }
                    role=if ok { "status" } else { "alert" } data-testid="collab-notice">{text}</p>
            })}
            <Show when=move || editing.get()>
                <Editor sections=sections.clone() shared session/>
            </Show>
            <Revisions report_id=settings.report_id can_restore=Signal::derive(can_edit) shared/>
        </section>
    }
}

/// The shared texts, for editors.
#[component]
fn Editor(sections: Vec<EditableSection>, shared: Shared, session: SessionHandle) -> impl IntoView {
    let save_name = RwSignal::new(String::new());
    let typing_in = move |key: String| {
        let me = shared.me.get();
        let names: Vec<String> = shared.typing.with(|t| {
            t.iter()
                .filter(|(conn, (_, section, _))| **conn != me && *section == key)
                .map(|(_, (name, _, _))| name.clone())
                .collect()
        });
        typing_line(&names)
    };
    view! {
        <form class="collab-editor" data-testid="editor" on:submit=move |ev| {
            ev.prevent_default();
            let name = save_name.get_untracked();
            if session.with_value(|s| s.save(&name)) {
                save_name.set(String::new());
            }
        }>
            <div class="collab-editor__fields">
                <label>
                    "Declared status"
                    <select data-testid="edit-status"
                        prop:value=move || shared.status.get()
                        on:focus=move |_| { session.with_value(|s| s.focus(Some("executive-summary"))); }
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            session.with_value(|s| s.set_field(crate::editing::FIELD_STATUS, &value));
                        }>
                        <option value="green">"Green"</option>
                        <option value="amber">"Amber"</option>
                        <option value="red">"Red"</option>
                    </select>
                </label>
                <label class="grow">
                    "Justification"
                    <input type="text" data-testid="edit-justification" maxlength="500"
                        prop:value=move || shared.justification.get()
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            session.with_value(|s| s.set_field(crate::editing::FIELD_JUSTIFICATION, &value));
                        }/>
                </label>
            </div>
            {sections.into_iter().map(|s| {
                let key = s.key.clone();
                let (k1, k4) = (key.clone(), key.clone());
                let (k2, k3) = (key.clone(), key.clone());
                view! {
                    <label class="collab-editor__text">
                        <span>{s.title.clone()}</span>
                        <textarea id=format!("edit-{key}") data-testid=format!("edit-{key}") maxlength="20000"
                            rows=if key == "executive-summary" { "9" } else { "3" }
                            placeholder="Commentary for this section, shown to readers above its content"
                            prop:value=move || shared.texts.with(|t| t.get(&k1).cloned().unwrap_or_default())
                            on:focus=move |_| { session.with_value(|s| s.focus(Some(&k2))); }
                            on:blur=move |_| { session.with_value(|s| s.focus(None)); }
                            on:input=move |ev| {
                                let value = event_target_value(&ev);
                                session.with_value(|s| s.edit_text(&k3, &value));
                            }></textarea>
                        <span class="typing" aria-live="polite">{move || typing_in(k4.clone())}</span>
                    </label>
                }
            }).collect_view()}
            <div class="collab-editor__save">
                <input type="text" placeholder="Name this revision, e.g. Before the steering committee"
                    data-testid="revision-name" maxlength=MAX_REVISION_NAME_CHARS.to_string()
                    prop:value=move || save_name.get()
                    on:input=move |ev| save_name.set(event_target_value(&ev))/>
                <button type="submit" class="button" data-testid="save-revision"
                    disabled=move || save_name.with(|n| n.trim().is_empty())>"Save a revision"</button>
            </div>
        </form>
    }
}

/// Saved revisions: show one, or restore it (editors).
#[component]
fn Revisions(report_id: i64, can_restore: Signal<bool>, shared: Shared) -> impl IntoView {
    let list = LocalResource::new(move || {
        shared.revisions_changed.track();
        list_revisions(report_id)
    });
    let shown = RwSignal::new(None::<RevisionDetail>);
    let show = Action::new_local(move |number: &i64| get_revision(report_id, *number));
    let restore = Action::new_local(move |number: &i64| restore_revision(report_id, *number));
    Effect::new(move |_| {
        if let Some(Ok(detail)) = show.value().get() {
            shown.set(Some(detail));
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = restore.value().get() {
            shared.notice.set(Some((false, e.to_string())));
        }
    });
    view! {
        <details class="revisions" data-testid="revisions">
            <summary>"Revisions"</summary>
            <Suspense fallback=|| view! { <p class="muted">"Loading the revisions…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(revisions) if revisions.is_empty() => view! {
                            <p class="muted">"No revision saved yet."</p>
                        }.into_any(),
                        Ok(revisions) => view! {
                            <ol class="revisions__list">
                                {revisions.into_iter().map(|r| {
                                    let number = r.number;
                                    view! {
                                        <li data-testid="revision">
                                            <span>{format!("#{} {} — {}, {}", r.number, r.name, r.author, crate::format::readable_date(&r.created_at))}</span>
                                            <button type="button" class="button button--ghost" on:click=move |_| { show.dispatch(number); }>"Show"</button>
                                            {move || can_restore.get().then(|| view! {
                                                <button type="button" class="button button--ghost" data-testid="restore"
                                                    on:click=move |_| { restore.dispatch(number); }>"Restore"</button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {move || shown.get().map(|d| view! {
                <div class="revision" data-testid="revision-shown">
                    <h3>{format!("Revision {}: {}", d.revision.number, d.revision.name)}</h3>
                    {d.content.fields.get(crate::editing::FIELD_STATUS).map(|s| view! { <p>"Declared status: " {s.clone()}</p> })}
                    {d.content.narratives.into_iter().filter(|(_, t)| !t.is_empty()).map(|(k, t)| view! {
                        <p><strong>{k}": "</strong>{t}</p>
                    }).collect_view()}
                </div>
            })}
        </details>
    }
}

mod browser {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::time::Duration;

    use base64::Engine;
    use futures::channel::mpsc;
    use futures::future::Either;
    use futures::{SinkExt, StreamExt};
    use gloo_net::websocket::futures::WebSocket;
    use gloo_net::websocket::{Message, WebSocketError};
    use leptos::prelude::*;
    use serde_json::{json, Value};
    use wasm_bindgen::JsCast;
    use web_sys::HtmlTextAreaElement;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{
        Assoc, Doc, GetString, IndexedSequence, Map, OffsetKind, Options, Out, ReadTxn,
        StateVector, Text, Transact, Update as YUpdate, WriteTxn,
    };

    use super::{Link, Member, Shared};
    use crate::collab::text::{backoff_ms, splice};
    use crate::editing::{narrative_text, FIELDS_MAP, FIELD_JUSTIFICATION, FIELD_STATUS};

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    /// One page's collaboration session: the way to the socket (replaced on every reconnect) and
    /// the document.
    pub struct Session {
        report_id: i64,
        shared: Shared,
        doc: Doc,
        /// Text frames for the socket's task; dropping it ends the task, which closes the socket.
        outbox: RefCell<Option<mpsc::UnboundedSender<String>>>,
        /// The server welcomed this connection (cleared when it closes).
        live: Cell<bool>,
        attempt: Cell<u32>,
        stopped: Cell<bool>,
        next_ref: Cell<u64>,
        focus: RefCell<Option<String>>,
        last_typing: Cell<f64>,
        myself: RefCell<std::rc::Weak<Session>>,
    }

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    /// Starts the session; it closes when the panel goes away.
    pub fn start(report_id: i64, shared: Shared) -> super::SessionHandle {
        let doc = Doc::with_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let session = Rc::new(Session {
            report_id,
            shared,
            doc,
            outbox: RefCell::new(None),
            live: Cell::new(false),
            attempt: Cell::new(0),
            stopped: Cell::new(false),
            next_ref: Cell::new(1),
            focus: RefCell::new(None),
            last_typing: Cell::new(0.0),
            myself: RefCell::new(std::rc::Weak::new()),
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

    /// One connection's life: frames from the server go to the session, frames from the outbox go
    /// to the server, and when the server closes it the session hears the code and reason (and
    /// retries). Ends without a word when the session stops (its outbox closes).
    async fn run_socket(
        mut ws: WebSocket,
        mut frames: mpsc::UnboundedReceiver<String>,
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
                    s.received(&text);
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
                Event::ToSend(None) => return,
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
            let (outbox, frames) = mpsc::unbounded::<String>();
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
            // Refusals that retrying would only repeat: a message too big, a policy refusal, and
            // rights that ended (4401: signed out, expired, deactivated; 4403: access removed).
            if matches!(code, 1008 | 1009 | 4401 | 4403) {
                self.shared.link.set(Link::Closed(reason));
                return;
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

        fn stop(&self) {
            self.stopped.set(true);
            // The socket's task sees its outbox closed and drops the socket, which closes it.
            self.outbox.borrow_mut().take();
        }

        fn send(&self, message: &Value) -> bool {
            if !self.live.get() {
                return false;
            }
            self.outbox
                .borrow()
                .as_ref()
                .is_some_and(|outbox| outbox.unbounded_send(message.to_string()).is_ok())
        }

        /// A text frame from the server: one message, or a batch of them.
        fn received(&self, text: &str) {
            let Ok(frame) = serde_json::from_str::<Value>(text) else {
                return;
            };
            if frame["type"] == "batch" {
                if let Some(messages) = frame["messages"].as_array() {
                    for m in messages {
                        self.handle(m);
                    }
                }
            } else {
                self.handle(&frame);
            }
        }

        fn send_presence(&self) {
            let section = self.focus.borrow().clone();
            self.send(&json!({"type": "presence", "section": section}));
        }

        fn send_sync(&self) {
            let sv = B64.encode(self.doc.transact().state_vector().encode_v1());
            self.send(&json!({"type": "sync", "state_vector": sv}));
        }

        fn send_update(&self, update: Vec<u8>) {
            if YUpdate::decode_v1(&update).is_ok_and(|u| u.is_empty()) {
                return;
            }
            // Unsent while offline: the document keeps the edit, and the sync after reconnecting
            // carries it.
            self.shared.unsaved.update(|n| *n += 1);
            let reference = self.next_ref.get();
            self.next_ref.set(reference + 1);
            self.send(&json!({"type": "update", "update": B64.encode(update), "ref": reference}));
        }

        fn handle(&self, m: &Value) {
            let shared = self.shared;
            let kind = m["type"].as_str().unwrap_or_default();
            let member = || serde_json::from_value::<Member>(m["member"].clone()).ok();
            match kind {
                "welcome" => {
                    self.live.set(true);
                    self.attempt.set(0);
                    shared.link.set(Link::Live);
                    let you = m["you"]["connection"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let mut members: Vec<Member> =
                        serde_json::from_value(m["members"].clone()).unwrap_or_default();
                    if let Ok(me) = serde_json::from_value::<Member>(m["you"].clone()) {
                        members.push(me);
                    }
                    shared.me.set(you);
                    shared.may_edit.set(m["can_edit"] == true);
                    shared.members.set(members);
                    self.send_presence();
                    self.send_sync();
                }
                "joined" | "presence" => {
                    if let Some(member) = member() {
                        let newcomer =
                            kind == "joined" && member.connection != shared.me.get_untracked();
                        shared.members.update(|list| {
                            match list.iter_mut().find(|x| x.connection == member.connection) {
                                Some(slot) => *slot = member,
                                None => list.push(member),
                            }
                        });
                        // Members on other instances learn about us from our presence.
                        if newcomer {
                            self.send_presence();
                        }
                    }
                }
                "left" => {
                    let gone = m["connection"].as_str().unwrap_or_default().to_string();
                    shared
                        .members
                        .update(|list| list.retain(|x| x.connection != gone));
                    shared.typing.update(|t| {
                        t.remove(&gone);
                    });
                }
                "typing" => {
                    let conn = m["connection"].as_str().unwrap_or_default().to_string();
                    let name = m["name"].as_str().unwrap_or_default().to_string();
                    let section = m["section"].as_str().unwrap_or_default().to_string();
                    shared.typing.update(|t| {
                        t.insert(conn, (name, section, now_ms()));
                    });
                }
                "sync" => {
                    if let Some(update) = m["update"].as_str() {
                        self.apply_remote(update);
                    }
                    // What the server misses (edits made while offline) goes back as one update.
                    let theirs = m["state_vector"]
                        .as_str()
                        .and_then(|sv| B64.decode(sv).ok())
                        .and_then(|sv| StateVector::decode_v1(&sv).ok());
                    if let Some(theirs) = theirs {
                        shared.unsaved.set(0);
                        let missing = self.doc.transact().encode_state_as_update_v1(&theirs);
                        self.send_update(missing);
                    }
                }
                "update"
                    if m["connection"].as_str() != Some(shared.me.get_untracked().as_str()) =>
                {
                    if let Some(update) = m["update"].as_str() {
                        self.apply_remote(update);
                    }
                }
                "ack" => shared.unsaved.update(|n| *n = n.saturating_sub(1)),
                "saved" => {
                    let number = m["revision"]["number"].as_i64().unwrap_or_default();
                    let name = m["revision"]["name"].as_str().unwrap_or_default();
                    let by = m["by"].as_str().unwrap_or_default();
                    let verb = if m["restored"] == true {
                        "restored"
                    } else {
                        "saved"
                    };
                    shared.notice.set(Some((
                        true,
                        format!("{by} {verb} revision {number} “{name}”."),
                    )));
                    shared.revisions_changed.update(|n| *n += 1);
                }
                "error" => {
                    if m["code"] == "not_saved"
                        || m["code"] == "read_only"
                        || m["code"] == "forbidden"
                    {
                        shared.unsaved.set(0);
                    }
                    let message = m["message"].as_str().unwrap_or("refused").to_string();
                    shared.notice.set(Some((false, message)));
                }
                "resync" => {
                    self.send_presence();
                    self.send_sync();
                }
                // The role changed while connected: the editor follows what the server allows.
                "access" => shared.may_edit.set(m["can_edit"] == true),
                _ => {}
            }
        }

        /// The textarea being typed in, if it shows one of the document's texts.
        fn focused(&self) -> Option<(String, HtmlTextAreaElement)> {
            let key = self.focus.borrow().clone()?;
            let element = document().get_element_by_id(&format!("edit-{key}"))?;
            let area: HtmlTextAreaElement = element.dyn_into().ok()?;
            (document().active_element()? == **area).then_some((key, area))
        }

        /// Applies an update from elsewhere; the caret of the textarea being typed in stays where
        /// it was in the text around it.
        fn apply_remote(&self, update: &str) {
            let Some(update) = B64
                .decode(update)
                .ok()
                .and_then(|bytes| YUpdate::decode_v1(&bytes).ok())
            else {
                return;
            };
            let focused = self.focused();
            let carets = focused.as_ref().and_then(|(key, area)| {
                let txn = self.doc.transact();
                let text = txn.get_text(narrative_text(key).as_str())?;
                let start = area.selection_start().ok().flatten()?;
                let end = area.selection_end().ok().flatten()?;
                Some((
                    text.sticky_index(&txn, start, Assoc::Before)?,
                    text.sticky_index(&txn, end, Assoc::Before)?,
                ))
            });
            if self.doc.transact_mut().apply_update(update).is_err() {
                return;
            }
            if let (Some((key, area)), Some((start, end))) = (focused, carets) {
                let txn = self.doc.transact();
                if let Some(text) = txn.get_text(narrative_text(&key).as_str()) {
                    let value = text.get_string(&txn);
                    if area.value() != value {
                        area.set_value(&value);
                        let at = |s: &yrs::StickyIndex| s.get_offset(&txn).map(|o| o.index);
                        if let (Some(a), Some(b)) = (at(&start), at(&end)) {
                            let _ = area.set_selection_range(a, b);
                        }
                    }
                }
            }
            self.refresh();
        }

        /// Copies the document's texts and fields into the view's signals.
        fn refresh(&self) {
            let txn = self.doc.transact();
            let mut texts = std::collections::BTreeMap::new();
            for (name, _) in txn.root_refs() {
                if let Some(key) = name.strip_prefix("narrative:") {
                    if let Some(text) = txn.get_text(name) {
                        texts.insert(key.to_string(), text.get_string(&txn));
                    }
                }
            }
            if self.shared.texts.with_untracked(|t| *t != texts) {
                self.shared.texts.set(texts);
            }
            if let Some(fields) = txn.get_map(FIELDS_MAP) {
                let read = |key: &str| match fields.get(&txn, key) {
                    Some(Out::Any(yrs::Any::String(s))) => s.to_string(),
                    _ => String::new(),
                };
                let (status, why) = (read(FIELD_STATUS), read(FIELD_JUSTIFICATION));
                if self.shared.status.get_untracked() != status {
                    self.shared.status.set(status);
                }
                if self.shared.justification.get_untracked() != why {
                    self.shared.justification.set(why);
                }
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

        /// A textarea's new value becomes one splice of the section's text.
        pub fn edit_text(&self, key: &str, value: &str) {
            let before = self.doc.transact().state_vector();
            {
                let mut txn = self.doc.transact_mut();
                let text = txn.get_or_insert_text(narrative_text(key).as_str());
                let old = text.get_string(&txn);
                let (at, removed, inserted) = splice(&old, value);
                if removed > 0 {
                    text.remove_range(&mut txn, at, removed);
                }
                if !inserted.is_empty() {
                    text.insert(&mut txn, at, &inserted);
                }
            }
            let update = self.doc.transact().encode_state_as_update_v1(&before);
            self.send_update(update);
            self.refresh();
            let now = now_ms();
            if now - self.last_typing.get() > 1000.0 {
                self.last_typing.set(now);
                self.send(&json!({"type": "typing", "section": key}));
            }
        }

        /// A structured field's new value.
        pub fn set_field(&self, key: &str, value: &str) {
            let before = self.doc.transact().state_vector();
            {
                let mut txn = self.doc.transact_mut();
                let fields = txn.get_or_insert_map(FIELDS_MAP);
                fields.insert(&mut txn, key, value);
            }
            let update = self.doc.transact().encode_state_as_update_v1(&before);
            self.send_update(update);
            self.refresh();
        }

        /// Asks for a revision; false when it could not be sent.
        pub fn save(&self, name: &str) -> bool {
            let name = name.trim();
            if name.is_empty() {
                return false;
            }
            let sent = self.send(&json!({"type": "save", "name": name}));
            if !sent {
                self.shared.notice.set(Some((
                    false,
                    "Not connected: save again once the connection is back.".into(),
                )));
            }
            sent
        }
    }
}
