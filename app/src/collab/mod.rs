//! Live collaboration on the report page: who is here and where, typing indicators, the connection's
//! state, and (for editors of a draft) the report's texts edited together, with revisions.
//!
//! [`CollabPanel`] draws a placeholder on the server; in the browser the panel itself (the live bar:
//! the WebSocket client, presence, revisions) takes its place once the page has hydrated. The bar is
//! in the main WASM: as a chunk of its own it needed 89 small shared chunks, one request each, which
//! held a phone's page back by nine seconds on slow 4G (BENCHMARKS.md). The editor and the `yrs`
//! document behind the texts are a chunk, fetched only when someone opens the editor. The session
//! belongs to the report page ([`CollabKeeper`]), not to the bar: a reload of the report (after a
//! regeneration or a publication) rebuilds the bar over the same connection. The wire protocol is
//! `docs/protocol.md`.

#[cfg(feature = "hydrate")]
mod panel;
/// Who is here, grouped by person: the bar's (browser only; a plain function, tested natively).
#[cfg(any(feature = "hydrate", test))]
mod people;

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

/// Keeps the live session of the report on screen across re-renders of the report's view.
///
/// A regeneration or a publication reloads the report's outline, and the view is built again from
/// it, the bar with it. The session (the socket, who is here, the editor's document, whether the
/// editor is open) belongs to the report page instead, through this keeper: the rebuilt bar shows the
/// same connection, so nobody sees this reader leave and come back, and an open editor stays open.
/// Another report (the previous month, say) gets a session of its own, and the last one closes.
/// Made by the report page ([`CollabKeeper::new`]); the session closes when the page goes away.
#[derive(Clone, Copy)]
pub struct CollabKeeper {
    #[cfg(feature = "hydrate")]
    inner: StoredValue<Keeper, LocalStorage>,
}

#[cfg(feature = "hydrate")]
struct Keeper {
    /// The report page's owner: each session lives under a child of it.
    page: Owner,
    /// Reloads the page's report (when it is published while open).
    reload: Callback<()>,
    /// The report's id, the owner of its session (dropping it closes the session), the session.
    kept: Option<(i64, Owner, panel::Live)>,
}

impl CollabKeeper {
    /// Made by the report page, under its owner (the sessions close when the page goes away);
    /// `reload` reloads the page's report, and is called when someone publishes it while it is open.
    pub fn new(reload: impl Fn() + Send + Sync + 'static) -> Self {
        #[cfg(feature = "hydrate")]
        {
            CollabKeeper {
                inner: StoredValue::new_local(Keeper {
                    page: Owner::current().unwrap_or_default(),
                    reload: Callback::new(move |()| reload()),
                    kept: None,
                }),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = reload;
            CollabKeeper {}
        }
    }

    /// The live session of `report_id`: the kept one if it is this report's, else a new one (and the
    /// previous report's closes).
    #[cfg(feature = "hydrate")]
    fn live(self, report_id: i64) -> Option<panel::Live> {
        // Read and replaced in steps: a session is made outside the stored value's lock.
        let (page, reload, kept) = self.inner.try_with_value(|k| {
            let kept = k.kept.as_ref().map(|(id, _, live)| (*id, *live));
            (k.page.clone(), k.reload, kept)
        })?;
        if let Some((id, live)) = kept {
            if id == report_id {
                return Some(live);
            }
        }
        let owner = page.child();
        let live = owner.with(|| panel::Live::start(report_id, reload));
        let previous = self
            .inner
            .try_update_value(|k| k.kept.replace((report_id, owner, live)))?;
        // Dropping the previous report's owner closes its session.
        drop(previous);
        Some(live)
    }
}

/// The collaboration bar under the report header. The server renders the placeholder; in the
/// browser, once the page has hydrated, the panel takes its place. Both sides render it through a
/// closure, so the hydrated markup matches. The session behind it comes from the page's `keeper`.
#[component]
pub fn CollabPanel(settings: CollabSettings, keeper: CollabKeeper) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let slot = RwSignal::new_local(None::<AnyView>);
        Effect::new(move |started: Option<()>| {
            if started.is_none() {
                let settings = settings.clone();
                // Under this component's owner: a panel that is still loading when the report view
                // goes away or re-renders is never built. (A task spawned without the owner left a
                // panel connected after every re-render: a phantom in everyone's presence bar.)
                leptos::task::spawn_local_scoped_with_cancellation(async move {
                    // Built in a task of its own, not in the page's hydration.
                    crate::components::next_task_while_hydrating().await;
                    // The keeper is gone only with the page, and this task with it.
                    let Some(live) = keeper.live(settings.report_id) else {
                        return;
                    };
                    let view = panel::collab_panel(settings, live);
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
        let _ = (settings, keeper);
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
