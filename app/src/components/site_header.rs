//! The bar at the top of every page: product mark and main navigation.

use leptos::prelude::*;
use leptos_router::components::A;

/// The site header with the product name and a link to the portfolio.
#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                <span class="brand__mark" aria-hidden="true">"▦"</span>
                <span class="brand__name">"PMR"</span>
                <span class="brand__tag">"Project monthly reports"</span>
            </A>
            <nav class="site-nav" aria-label="Main">
                <A href="/">"Portfolio"</A>
            </nav>
        </header>
    }
}
