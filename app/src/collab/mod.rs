//! Live collaboration on the report page: who is here and where, typing indicators, the connection's
//! state, and (for editors of a draft) the report's texts edited together, with revisions.
//!
//! [`CollabPanel`] draws a placeholder on the server; in the browser the panel itself (the live bar:
//! the WebSocket client, presence, revisions) takes its place once the page has hydrated. The bar is
//! in the main WASM: as a chunk of its own it needed 89 small shared chunks, one request each, which
//! held a phone's page back by nine seconds on slow 4G (BENCHMARKS.md). The editor and the `yrs`
//! document behind the texts are a chunk, fetched only when someone opens the editor. The wire
//! protocol is `docs/protocol.md`.

#[cfg(feature = "hydrate")]
mod panel;

pub mod protocol;
pub mod text;

use leptos::prelude::*;

/// One section a person may edit: its key and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditableSection {
    pub key: String,
    pub title: String,
}

/// What the panel needs to know about the report and the reader.
#[derive(Debug, Clone, PartialEq)]
pub struct CollabSettings {
    pub report_id: i64,
    pub sections: Vec<EditableSection>,
    /// A draft (editors may edit it; the server's welcome says whether this reader is one).
    pub editable: bool,
    pub is_final: bool,
}

/// The collaboration bar under the report header. The server renders the placeholder; in the
/// browser, once the page has hydrated, the panel takes its place. Both sides render it through a
/// closure, so the hydrated markup matches.
#[component]
pub fn CollabPanel(settings: CollabSettings) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let slot = RwSignal::new_local(None::<AnyView>);
        Effect::new(move |started: Option<()>| {
            if started.is_none() {
                let settings = settings.clone();
                // Under this component's owner: the panel's cleanup (which closes its socket) runs
                // when the report view goes away or re-renders, and a panel that is still loading
                // then is never built. (A task spawned without the owner left the previous panel
                // connected after every re-render: a phantom in everyone's presence bar.)
                leptos::task::spawn_local_scoped_with_cancellation(async move {
                    // Built in a task of its own, not in the page's hydration.
                    crate::components::next_task_while_hydrating().await;
                    let view = panel::collab_panel(settings);
                    slot.set(Some(view));
                });
            }
        });
        move || {
            slot.track();
            slot.try_update_untracked(Option::take)
                .flatten()
                .unwrap_or_else(placeholder)
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = settings;
        placeholder
    }
}

fn placeholder() -> AnyView {
    view! {
        <section class="collab collab--pending" aria-label="Live collaboration">
            <p class="collab__state"><span class="dot dot--idle"></span>"Connecting to live collaboration…"</p>
        </section>
    }
    .into_any()
}
