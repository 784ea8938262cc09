//! Plain axum routes next to the Leptos pages: one module per resource, each owning its `router()`.

pub mod health;
