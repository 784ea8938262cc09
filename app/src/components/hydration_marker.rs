//! Browser only. Marks the document once the WASM has hydrated it ([`hydration_finished`]), so
//! end-to-end tests (and curious readers of the DOM) can tell a live page from server-rendered HTML;
//! and lets browser-only work that starts with the page wait for a task of its own
//! ([`next_task_while_hydrating`]), so that it does not lengthen the hydration task.

use std::cell::Cell;

use leptos::prelude::*;

thread_local! {
    /// Set once the page is marked hydrated.
    static HYDRATED: Cell<bool> = const { Cell::new(false) };
    /// Parts of the page waiting in [`next_task_while_hydrating`] for their task.
    static WAITING: Cell<usize> = const { Cell::new(0) };
}

/// Called once Leptos has hydrated the whole page (`crate::hydrate`, after `hydrate_from_async`: a
/// lazily loaded page's chunk included; without that wait a test could find the page's own `<title>`
/// not yet set, as axe once did on the dashboard). Sets `data-hydrated="true"` on `<html>`.
///
/// Not at once: the page's `Suspense` and `Transition` contents hydrate in futures of their own
/// (spawned as microtasks once their resources' server-sent values are read). A button inside them
/// has no handler until then, and a click that lands in between is lost (seen as a flaky test:
/// "Change" on the templates page opened nothing). A timeout of zero runs after every pending
/// microtask, so the mark waits for those contents too; and while a part of the page still waits for
/// its own task, the mark waits another timeout.
pub fn hydration_finished() {
    mark_when_settled();
}

fn mark_when_settled() {
    set_timeout(
        || {
            if WAITING.get() > 0 {
                mark_when_settled();
                return;
            }
            HYDRATED.set(true);
            if let Some(root) = document().document_element() {
                // Failing to set a test marker must not disturb the page.
                let _ = root.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

/// While the page hydrates, resolves in a later task of the browser's event loop; afterwards at
/// once.
///
/// For browser-only work that starts with the page but is not part of hydrating it (the
/// collaboration bar, built in the browser in place of the server's placeholder): awaited first, it
/// runs in a task of its own instead of lengthening the hydration task, during which a tap goes
/// unanswered. On a first visit most of that task is V8 compiling each WASM function the first time it
/// is called, so whatever else runs in it adds its own compilation too. (Hydration itself cannot be
/// split this way: Leptos 0.8 hydrates a `Suspense` or a route whose content is not ready at that
/// moment as empty, and the server's HTML then no longer matches.) The page is marked hydrated only
/// once such work has had its task.
pub async fn next_task_while_hydrating() {
    if !HYDRATED.get() {
        /// Counts the wait while it lasts, also when the waiting part is dropped first.
        struct Waiting;
        impl Drop for Waiting {
            fn drop(&mut self) {
                WAITING.set(WAITING.get().saturating_sub(1));
            }
        }
        WAITING.set(WAITING.get() + 1);
        let _waiting = Waiting;
        let next = js_sys::Promise::new(&mut |resolve, _| {
            // Without a window there is no event loop to wait for: resolve at once.
            match web_sys::window() {
                Some(window) => {
                    if window.set_timeout_with_callback(&resolve).is_err() {
                        let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
                    }
                }
                None => {
                    let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
                }
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(next).await;
    }
}
