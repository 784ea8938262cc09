//! A small label showing a report section's load priority.

use leptos::prelude::*;

use crate::model::Priority;

/// "high", "medium" or "low", styled by priority.
#[component]
pub fn PriorityBadge(priority: Priority) -> impl IntoView {
    view! {
        <span class=format!("priority priority--{}", priority.as_str())>{priority.as_str()}</span>
    }
}
