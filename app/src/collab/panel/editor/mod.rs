//! The editor of a draft's shared texts: the declared status and its justification, each section's
//! narrative with who else is typing in it, and Save (a named revision). A WASM chunk of its own with
//! the document behind the texts (`document.rs`, the `yrs` CRDT), fetched the first time someone opens
//! the editor: readers, and editors who only read, never download it.

mod document;

use std::rc::Rc;

use leptos::prelude::*;

use self::document::Document;
use super::{SessionHandle, Shared};
use crate::collab::text::typing_line;
use crate::collab::EditableSection;
use crate::editing::MAX_REVISION_NAME_CHARS;

/// What the editor needs from the panel.
pub struct OpenEditor {
    pub sections: Vec<EditableSection>,
    pub shared: Shared,
    pub session: SessionHandle,
}

/// The editor (loaded on demand): joins the page's document to the session, syncing it, and draws
/// the form once the texts have arrived.
#[lazy]
pub fn editor_view(props: OpenEditor) -> AnyView {
    let OpenEditor {
        sections,
        shared,
        session,
    } = props;
    // Made the first time the editor opens and kept by the session: its edits survive closing and
    // opening the editor again.
    session.with_value(|s| {
        if s.document().is_none() {
            s.attach(Rc::new(Document::new(shared)));
        }
    });
    view! {
        <Show when=move || shared.synced.get()
            fallback=|| view! { <p class="muted" role="status" data-testid="editor-loading">"Loading the texts…"</p> }>
            <Editor sections=sections.clone() shared session/>
        </Show>
    }
    .into_any()
}

/// The shared texts, for editors.
#[component]
fn Editor(sections: Vec<EditableSection>, shared: Shared, session: SessionHandle) -> impl IntoView {
    // Edits go into the session's document, and its update to the server.
    let set_field = move |key: &'static str, value: String| {
        session.with_value(|s| {
            if let Some(document) = s.document() {
                s.send_update(document.set_field(key, &value));
            }
        });
    };
    let edit_text = move |key: &str, value: String| {
        session.with_value(|s| {
            if let Some(document) = s.document() {
                s.send_update(document.edit_text(key, &value));
                s.typed(key);
            }
        });
    };
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
                            set_field(crate::editing::FIELD_STATUS, event_target_value(&ev));
                        }>
                        <option value="green">"On track (green)"</option>
                        <option value="amber">"At risk (amber)"</option>
                        <option value="red">"Off track (red)"</option>
                    </select>
                </label>
                <label class="grow">
                    "Justification"
                    <input type="text" data-testid="edit-justification" maxlength="500"
                        prop:value=move || shared.justification.get()
                        on:change=move |ev| {
                            set_field(crate::editing::FIELD_JUSTIFICATION, event_target_value(&ev));
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
                                edit_text(&k3, event_target_value(&ev));
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
