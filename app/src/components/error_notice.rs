//! The message shown in place of content that failed to load.

use leptos::prelude::*;

/// Lists the errors caught by an `ErrorBoundary` in a visible alert box.
#[component]
pub fn ErrorNotice(
    /// The boundary's errors.
    errors: ArcRwSignal<Errors>,
) -> impl IntoView {
    view! {
        <div class="notice notice--error" role="alert">
            <strong>"Something went wrong."</strong>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, err)| view! { <li>{err.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}
