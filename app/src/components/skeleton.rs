//! Grey placeholder blocks shown while data loads, shaped like what will replace them.

use leptos::prelude::*;

/// `lines` shimmering bars inside a card-shaped box, announced as busy to assistive technology.
#[component]
pub fn Skeleton(
    /// Number of text lines to imitate.
    #[prop(default = 3)]
    lines: usize,
    /// Accessible description of what is loading.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    view! {
        <div class="skeleton" aria-busy="true" aria-label=label>
            {(0..lines).map(|_| view! { <div class="skeleton__line"></div> }).collect_view()}
        </div>
    }
}
