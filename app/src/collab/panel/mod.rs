//! The collaboration panel (in the main WASM; started after hydration): the connection's state, who is here and in
//! which section, and for editors of a draft the texts edited together (declared status,
//! justification, each section's narrative), typing indicators, Save and the revisions.
//!
//! - this file: the panel's state ([`Shared`]) and the bar (state, people, the editor's toggle);
//!   `../people.rs` groups the connections into people;
//! - `editor/`: the shared texts and fields, typing indicators, Save, and the `yrs` document behind
//!   the texts: a chunk of its own, fetched when someone first opens the editor;
//! - `revisions.rs`: the saved revisions, shown or restored;
//! - `session.rs`: the browser's side of the socket (connect, reconnect with backoff, the
//!   protocol's messages).

mod editor;
mod revisions;
mod session;

use std::collections::BTreeMap;

use leptos::prelude::*;

use self::editor::OpenEditor;
use self::revisions::Revisions;
use super::protocol::MemberInfo;
use super::CollabSettings;

/// The connection as the reader sees it (only the browser moves past `Connecting`).
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Connecting,
    Live,
    /// Lost; the next attempt is in this many seconds.
    Retrying(u32),
    /// The server closed it for good (or the browser has no WebSocket): why.
    Closed(String),
    /// The server let it go after a long time without activity; it opens again when the reader
    /// is back.
    Paused,
}

/// Everything the view shows, as signals the browser session writes.
#[derive(Clone, Copy)]
pub struct Shared {
    pub link: RwSignal<Link>,
    pub members: RwSignal<Vec<MemberInfo>>,
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
    /// The editor's document has had its first sync (the texts are in).
    pub synced: RwSignal<bool>,
}

/// A report's live session and what its bar shows, kept by the report page across re-renders of the
/// report's view ([`super::CollabKeeper`]).
#[derive(Clone, Copy)]
pub struct Live {
    shared: Shared,
    session: SessionHandle,
    /// The editor is open (kept, so that the editor stays open when the report reloads).
    editing: RwSignal<bool>,
}

impl Live {
    /// Connects to the report's session, under the current owner: the session closes when that
    /// owner is cleaned up. `reload` reloads the page's report when someone publishes it.
    pub fn start(report_id: i64, reload: Callback<()>) -> Self {
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
            synced: RwSignal::new(false),
        };
        let session = session::start(report_id, shared, reload);
        Live {
            shared,
            session,
            editing: RwSignal::new(false),
        }
    }
}

/// The panel (the bar, the editor when open, the revisions) over a live session.
pub fn collab_panel(settings: CollabSettings, live: Live) -> AnyView {
    // A report that is no longer a draft (published since the editor was opened) has no editor.
    if !settings.editable {
        live.editing.set(false);
    }
    let Live {
        shared,
        session,
        editing,
    } = live;
    view! { <Panel settings shared session editing/> }.into_any()
}

/// The browser session.
type SessionHandle = StoredValue<std::rc::Rc<session::Session>, LocalStorage>;

#[component]
fn Panel(
    settings: CollabSettings,
    shared: Shared,
    session: SessionHandle,
    editing: RwSignal<bool>,
) -> impl IntoView {
    // The editor's chunk, fetched the first time it opens; its view is built again at each opening.
    let editor = RwSignal::new_local(None::<AnyView>);
    let opening = RwSignal::new(false);
    let editor_sections = settings.sections.clone();
    Effect::new(move |_| {
        if !editing.get() {
            editor.set(None);
            return;
        }
        if opening.get_untracked() {
            return;
        }
        opening.set(true);
        let props = OpenEditor {
            sections: editor_sections.clone(),
            shared,
            session,
        };
        leptos::task::spawn_local_scoped_with_cancellation(async move {
            let view = editor::editor_view(props).await;
            opening.set(false);
            if editing.get_untracked() {
                editor.set(Some(view));
            }
        });
    });
    let editable = settings.editable;
    let can_edit = move || editable && shared.may_edit.get();
    let titles: BTreeMap<String, String> = settings
        .sections
        .iter()
        .map(|s| (s.key.clone(), s.title.clone()))
        .collect();
    // One entry per person (someone with the report open in two windows is one person here).
    let here = move || {
        shared
            .members
            .with(|list| super::people::people(list, &shared.me.get()))
    };
    let state_line = move || match shared.link.get() {
        Link::Connecting => ("idle", "Connecting…".to_string()),
        Link::Live => {
            let n = here().len();
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
        Link::Paused => (
            "idle",
            "Paused after a long time without activity; it reconnects when you come back."
                .to_string(),
        ),
    };
    view! {
        <section class="collab" aria-label="Live collaboration" data-testid="collab">
            <div class="collab__bar">
                <p class="collab__state" role="status" data-testid="collab-state"
                    data-link=move || match shared.link.get() { Link::Live => "live", Link::Connecting => "connecting", Link::Paused => "paused", _ => "down" }>
                    {move || { let (kind, text) = state_line(); view! { <span class=format!("dot dot--{kind}")></span>{text} } }}
                </p>
                <ul class="collab__people" aria-label="Who is here" data-testid="presence">
                    {move || here().into_iter().map(|m| {
                        let place = m.section.as_ref().and_then(|k| titles.get(k).cloned());
                        let label = match (&place, m.mine) {
                            (Some(p), true) => format!("You · in {p}"),
                            (None, true) => "You".to_string(),
                            (Some(p), false) => format!("{} · in {p}", m.name),
                            (None, false) => m.name.clone(),
                        };
                        let title = match m.windows {
                            1 => label.clone(),
                            n => format!("{label} ({n} windows)"),
                        };
                        view! {
                            <li class=format!("person person--c{}", m.color) data-user=m.user.clone()
                                data-windows=m.windows title=title>
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
            {move || {
                editor.track();
                if !editing.get() {
                    return None;
                }
                Some(editor.try_update_untracked(Option::take).flatten().unwrap_or_else(|| view! {
                    <p class="muted" role="status" data-testid="editor-loading">"Opening the editor…"</p>
                }.into_any()))
            }}
            <Revisions report_id=settings.report_id can_restore=Signal::derive(can_edit) shared/>
        </section>
    }
}
