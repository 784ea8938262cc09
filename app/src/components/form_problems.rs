//! What stands between a form and its submission: the problems found as it was typed (shown once
//! the form has been submitted), and the server's refusal of the last submission.

use leptos::prelude::*;

/// The form's problems, listed once `touched`, then the server's refusal, if any.
#[component]
pub fn FormProblems(
    /// Every problem the form has now, in words the user can act on.
    #[prop(into)]
    problems: Signal<Vec<String>>,
    /// Whether the form has been submitted (problems are not shouted while the user types).
    touched: RwSignal<bool>,
    /// The server's answer to the last submission, when it refused it.
    #[prop(into)]
    refused: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        {move || {
            let list = problems.get();
            (touched.get() && !list.is_empty()).then(|| view! {
                <div class="notice notice--error" role="alert">
                    <ul>{list.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                </div>
            })
        }}
        {move || refused.get().map(|e| view! {
            <p class="notice notice--error" role="alert">{e}</p>
        })}
    }
}
