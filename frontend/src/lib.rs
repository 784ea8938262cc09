//! The browser entry point. `cargo leptos` builds this crate to WASM; the page's hydration script calls
//! [`hydrate`], which attaches the `app` crate's components to the server-rendered HTML. All UI lives in
//! `app`; this crate only picks its `hydrate` feature. On non-WASM targets it compiles to nothing.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::wasm_bindgen;

/// Hydrates the whole `<body>` with the application.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes: pages other than the report are separate WASM chunks, loaded when visited.
    app::hydrate();
}
