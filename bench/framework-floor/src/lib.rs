//! One interactive component, built four ways (see `build.sh`): as an island or as a fully hydrated
//! page under a router, and as a counter or as a view of data loaded from a server function.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One loaded row.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub id: i64,
    pub title: String,
    pub done: bool,
}

/// The rows of a page.
#[server]
pub async fn load_rows(page: u32) -> Result<Vec<Row>, ServerFnError> {
    Ok((0..i64::from(page))
        .map(|id| Row {
            id,
            title: format!("row {id}"),
            done: id % 2 == 0,
        })
        .collect())
}

/// Rows from the server, a button that loads more and a filter typed in.
#[cfg(feature = "data")]
fn body(start: u32) -> impl IntoView {
    let page = RwSignal::new(start);
    let rows = Resource::new(move || page.get(), load_rows);
    let filter = RwSignal::new(String::new());
    view! {
        <input prop:value=filter on:input=move |ev| filter.set(event_target_value(&ev))/>
        <button on:click=move |_| page.update(|p| *p += 1)>"More"</button>
        <Suspense fallback=|| view! { <p>"Loading"</p> }>
            <ul>
                {move || Suspend::new(async move {
                    let rows = rows.await.unwrap_or_default();
                    let typed = filter.get();
                    rows.into_iter()
                        .filter(|r| r.title.contains(&typed))
                        .map(|r| view! { <li class:done=r.done>{r.title}</li> })
                        .collect_view()
                })}
            </ul>
        </Suspense>
    }
}

/// A button that counts its clicks.
#[cfg(not(feature = "data"))]
fn body(start: u32) -> impl IntoView {
    let count = RwSignal::new(start);
    view! { <button on:click=move |_| count.update(|c| *c += 1)>{count}</button> }
}

/// The component as an island.
#[cfg(feature = "islands")]
#[island]
pub fn Floor(start: u32) -> impl IntoView {
    body(start)
}

/// Islands mode: only the islands hydrate.
#[cfg(all(feature = "hydrate", feature = "islands"))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}

/// The component as the one route of a fully hydrated app.
#[cfg(not(feature = "islands"))]
#[component]
pub fn App() -> impl IntoView {
    use leptos_router::components::{Route, Router, Routes};
    use leptos_router::path;
    view! {
        <Router>
            <Routes fallback=|| "Not found">
                <Route path=path!("/") view=|| body(3)/>
            </Routes>
        </Router>
    }
}

/// Full hydration: the whole body hydrates.
#[cfg(all(feature = "hydrate", not(feature = "islands")))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}
