//! Marks the document once the WASM has hydrated it, so end-to-end tests (and curious readers of the
//! DOM) can tell a live page from server-rendered HTML.

use leptos::prelude::*;

/// Sets `data-hydrated="true"` on `<html>` when it runs in the browser. Effects never run on the
/// server, so the attribute appears only after hydration.
#[component]
pub fn HydrationMarker() -> impl IntoView {
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            // Failing to set a test marker must not disturb the page.
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
