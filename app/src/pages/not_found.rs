//! The page for unknown paths.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// "Page not found", served with HTTP 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    crate::response::set_status(404);
    view! {
        <Title text="Page not found"/>
        <section class="empty-state">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address: the page may have been moved, or the link mistyped."</p>
            <A href="/" attr:class="button">"Back to the portfolio"</A>
        </section>
    }
}
