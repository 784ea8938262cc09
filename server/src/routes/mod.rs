//! Plain axum routes next to the Leptos pages: one module per resource, each owning its `router()`,
//! the REST error type they share, and the caller extractor
//! ([`caller::Caller`]) with the project membership check.

pub mod cache;
pub mod caller;
pub mod collab;
pub mod error;
pub mod health;
pub mod limits;
pub mod performance;
pub mod planning;
pub mod projects;
pub mod reports;
