//! The sign-in page at `/login?next=/path`. Signing in loads `next` (the page the reader was sent here
//! from) as a new page; a reader who is already signed in is sent there at once. The form also works
//! without JavaScript: the browser posts it, and the server brings the reader back here, signed in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::Login;
use crate::session::{load_page, safe_next};

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = Memo::new(move |_| safe_next(query.read().get("next").as_deref()));
    let login = ServerAction::<Login>::new();
    // Already signed in (e.g. back here after a form post without JavaScript): go on at once.
    #[cfg(feature = "ssr")]
    if crate::services::principal().is_some() {
        leptos_axum::redirect(&next.get_untracked());
    }
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            load_page(&next.get_untracked());
        }
    });
    let pending = login.pending();
    view! {
        <Title text="Sign in"/>
        <section class="auth-card" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">"Sign in"</h1>
            <p class="muted">"Use the account your administrator gave you."</p>
            <ActionForm action=login attr:class="form" attr:novalidate=false>
                <label class="field">
                    <span class="field__label">"User name"</span>
                    <input name="username" type="text" autocomplete="username" required
                        maxlength="32" autocapitalize="none" spellcheck="false" autofocus/>
                </label>
                <label class="field">
                    <span class="field__label">"Password"</span>
                    <input name="password" type="password" autocomplete="current-password"
                        required maxlength="256"/>
                </label>
                <button type="submit" class="button button--primary" disabled=pending>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            {move || login.value().get().and_then(Result::err).map(|e| view! {
                <p class="notice notice--error" role="alert" data-testid="login-error">{e.to_string()}</p>
            })}
        </section>
    }
}
