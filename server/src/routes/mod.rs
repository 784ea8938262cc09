//! Plain axum routes next to the Leptos pages: one module per resource, each owning its `router()`,
//! and the REST error type they share.

pub mod error;
pub mod health;
pub mod projects;
pub mod reports;
