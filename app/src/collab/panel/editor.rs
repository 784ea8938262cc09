//! The editor of a draft's shared texts: the declared status and its justification, each section's
//! narrative with who else is typing in it, and Save (a named revision).

use leptos::prelude::*;

use super::{SessionHandle, Shared};
use crate::collab::text::typing_line;
use crate::collab::EditableSection;
use crate::editing::MAX_REVISION_NAME_CHARS;

/// The shared texts, for editors.
#[component]
pub fn Editor(
    sections: Vec<EditableSection>,
    shared: Shared,
    session: SessionHandle,
) -> impl IntoView {
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
