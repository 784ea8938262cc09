//! Marks the document once the WASM has hydrated it, so end-to-end tests (and curious readers of the
//! DOM) can tell a live page from server-rendered HTML.

use leptos::prelude::*;

/// Sets `data-hydrated="true"` on `<html>` when it runs in the browser. Effects never run on the
/// server, so the attribute appears only after hydration.
///
/// Not at once: the page's `Suspense` and `Transition` contents hydrate in futures of their own
/// (spawned as microtasks once their resources' server-sent values are read), after this effect
/// has run. A button inside them has no handler until then, and a click that lands in between is
/// lost (seen as a flaky test: "Change" on the templates page opened nothing). A timeout of zero
/// runs after every pending microtask, so the mark waits for those contents too.
#[component]
pub fn HydrationMarker() -> impl IntoView {
    Effect::new(|_| {
        set_timeout(
            || {
                if let Some(root) = document().document_element() {
                    // Failing to set a test marker must not disturb the page.
                    let _ = root.set_attribute("data-hydrated", "true");
                }
            },
            std::time::Duration::ZERO,
        );
    });
}
