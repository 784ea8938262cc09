//! The message shown in place of content that failed to load; with a sign-in link when the reason is
//! an ended session.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::error::AppError;
use crate::format::percent_encode_path;

/// Whether any of the errors says the reader is not signed in (any more).
fn signed_out(errors: &Errors) -> bool {
    errors.iter().any(|(_, e)| {
        matches!(
            e.downcast_ref::<AppError>(),
            Some(AppError::Unauthorized(_))
        )
    })
}

/// A heading that says what kind of trouble this is.
fn heading(errors: &Errors) -> &'static str {
    let kinds: Vec<Option<&AppError>> = errors
        .iter()
        .map(|(_, e)| e.downcast_ref::<AppError>())
        .collect();
    match kinds.first().copied().flatten() {
        Some(AppError::Unauthorized(_)) => "You are signed out.",
        Some(AppError::Forbidden(_)) => "You do not have access to this.",
        Some(AppError::NotFound(_)) => "Not found.",
        Some(AppError::Unavailable(_)) => "Temporarily unavailable.",
        Some(AppError::Unwritable(_)) => "Nothing could be saved.",
        _ => "Something went wrong.",
    }
}

/// The login page, coming back to the current page.
fn sign_in_target() -> String {
    let location = use_location();
    let path = location.pathname.get_untracked();
    let search = location.search.get_untracked();
    let search = search.trim_start_matches('?');
    let here = if search.is_empty() {
        path
    } else {
        format!("{path}?{search}")
    };
    format!("/login?next={}", percent_encode_path(&here))
}

/// Lists the errors caught by an `ErrorBoundary` in a visible alert box.
#[component]
pub fn ErrorNotice(
    /// The boundary's errors.
    errors: ArcRwSignal<Errors>,
) -> impl IntoView {
    let errors_for_link = errors.clone();
    let errors_for_heading = errors.clone();
    view! {
        <div class="notice notice--error" role="alert">
            <strong>{move || heading(&errors_for_heading.get())}</strong>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, err)| view! { <li>{err.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
            {move || signed_out(&errors_for_link.get()).then(|| view! {
                <p><a class="button" href=sign_in_target()>"Sign in"</a></p>
            })}
        </div>
    }
}
