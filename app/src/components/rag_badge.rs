//! A red/amber/green status badge that does not rely on colour alone.

use leptos::prelude::*;

use crate::model::Rag;

/// A coloured pill with a shape and a word, e.g. "● On track".
#[component]
pub fn RagBadge(
    /// The status to show.
    rag: Rag,
    /// Text before the status word, e.g. "Declared".
    #[prop(optional, into)]
    prefix: Option<String>,
) -> impl IntoView {
    let shape = match rag {
        Rag::Green => "●",
        Rag::Amber => "▲",
        Rag::Red => "■",
    };
    view! {
        <span class=format!("rag rag--{}", rag.as_str()) title=rag.label()>
            <span aria-hidden="true">{shape}</span>
            {prefix.map(|p| format!(" {p}:"))}
            " "
            {rag.label()}
        </span>
    }
}
