//! The bar at the top of every page: product mark, main navigation, and who is signed in.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::account::Principal;
use crate::api::Logout;
use crate::model::Role;
use crate::session::{load_page, use_current_user};

/// The site header with the product name, links for the signed-in user's role, and the user menu.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let user = use_current_user();
    let location = use_location();
    let on_login_page = move || location.pathname.get_untracked().starts_with("/login");
    view! {
        <header class="site-header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                <span class="brand__mark" aria-hidden="true">"▦"</span>
                <span class="brand__name">"PMR"</span>
                <span class="brand__tag">"Project monthly reports"</span>
            </A>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.0.await {
                        Ok(Some(principal)) => view! { <SignedIn principal/> }.into_any(),
                        _ if on_login_page() => ().into_any(),
                        _ => view! {
                            <a class="button user-menu__sign-in" href="/login">"Sign in"</a>
                        }.into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}

/// Navigation and the user menu of a signed-in user. On a wide screen both sit in the bar; on a
/// phone or a tablet (CSS, 860 px and below) they are behind the "Menu" button, which opens them as a panel under
/// the bar and closes when a link in it is taken, and on Escape.
#[component]
fn SignedIn(principal: Principal) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            load_page("/login");
        }
    });
    let open = RwSignal::new(false);
    // "Admin" is the page where the reader is for every admin page but the performance dashboard,
    // which has its own link (the router's `<A>` would mark both there: one path is the other's
    // prefix).
    let location = use_location();
    let admin_here = move || {
        let path = location.pathname.get();
        let admin = path == "/admin"
            || (path.starts_with("/admin/") && !path.starts_with("/admin/performance"));
        admin.then_some("page")
    };
    // Escape closes the open menu, from its button or from inside it.
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            open.set(false);
            focus_menu_toggle();
        }
    };
    let is_admin = principal.role == Role::Admin;
    view! {
        <button type="button" class="site-menu-toggle button button--ghost" data-testid="menu-toggle"
            aria-expanded=move || open.get().to_string() aria-controls="site-menu"
            on:click=move |_| open.update(|o| *o = !*o) on:keydown=escape>
            <span class="site-menu-toggle__icon" aria-hidden="true"></span>"Menu"
        </button>
        <div id="site-menu" class="site-menu" class:site-menu--open=move || open.get() on:keydown=escape
            on:click=move |ev| {
                // A link taken closes the menu (the page changes under it).
                if is_link_click(&ev) {
                    open.set(false);
                }
            }>
            <nav class="site-nav" aria-label="Main">
                <A href="/">"Portfolio"</A>
                {is_admin.then(|| view! {
                    <a href="/admin" aria-current=admin_here>"Admin"</a>
                    <A href="/admin/performance">"Performance"</A>
                })}
            </nav>
            <div class="user-menu" aria-label="Signed in">
                <span class="user-menu__who">
                    <span class="user-menu__name" data-testid="user-name">{principal.display_name.clone()}</span>
                    <span class=format!("chip chip--role chip--{}", principal.role.as_str())
                        data-testid="user-role">{principal.role.as_str()}</span>
                </span>
                <ActionForm action=logout attr:class="user-menu__form">
                    <button type="submit" class="button button--ghost">"Sign out"</button>
                </ActionForm>
                {move || logout.value().get().and_then(Result::err).map(|e| view! {
                    <span class="user-menu__error" role="alert">{e.to_string()}</span>
                })}
            </div>
        </div>
    }
}

/// Whether a click landed on a link (or inside one).
fn is_link_click(ev: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a").ok().flatten())
            .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// Gives the focus back to the menu's button (after Escape closed the menu).
fn focus_menu_toggle() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(button) = document()
            .query_selector(".site-menu-toggle")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = button.focus();
        }
    }
}
