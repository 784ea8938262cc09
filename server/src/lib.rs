//! The PMR server as a library: [`router`] builds the whole HTTP application from an [`AppState`],
//! so `main` and the integration tests serve exactly the same thing.
//!
//! Modules (ARCHITECTURE.md is the map): [`config`] (every setting, from each subsystem's `args.rs`),
//! [`state`] (shared state and the wiring between layers), [`error`] (each layer's error to the app's
//! `AppError`, logged once), [`serve`] (the accept loop with connection limits), [`auth`] (accounts,
//! sessions, tokens, revocations, the access policy and the guard enforcing it on every route),
//! [`routes`] (REST endpoints and the WebSocket upgrade), [`reports`] (the services behind the app's
//! server functions, generation), [`domain`] (pure computation: EVM, status, Monte Carlo),
//! [`insights`] (rules and LLM engines), [`cache`] (two-tier cache), [`monitor`] (performance
//! monitor, alerts, `/metrics`), [`collab`] (live collaboration: transport, relay, documents),
//! [`storage`] (SQLite/PostgreSQL store), [`transfer`] (the project exchange formats), [`seed`]
//! (demo portfolio), [`redis_probe`] (Redis readiness).

// Leptos view types nest deeply; the server monomorphizes them while rendering pages.
#![recursion_limit = "256"]

pub mod auth;
pub mod cache;
pub mod collab;
pub mod config;
pub mod domain;
pub mod error;
pub mod insights;
pub mod monitor;
pub mod redis_probe;
pub mod reports;
pub mod routes;
pub mod seed;
pub mod serve;
pub mod state;
pub mod storage;
pub mod transfer;

use app::{shell, App};
use axum::handler::Handler;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use state::AppState;

/// Hands Leptos the nonce the authentication layer chose for this response, so the inline hydration
/// scripts carry the nonce that the layer's `Content-Security-Policy` header allows.
fn use_page_nonce() {
    let nonce = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<auth::guard::PageNonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// The app's page routes, listed once per process. Leptos lists them by rendering the app under a
/// process-wide flag that makes every resource first polled meanwhile, by any render on any thread, wait
/// forever (leptos-rs/leptos#4773); listing once, before any router exists, means no page render can
/// ever overlap a listing, however many routers a process builds (the tests build one each).
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static PAGES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    PAGES.get_or_init(|| generate_route_list(App)).clone()
}

/// The application: health routes, server functions, the server-rendered pages, and static files
/// from the site root (anything else is the app's 404 page).
pub fn router(state: AppState) -> Router {
    let pages = route_list();
    let services = state.services.clone();
    let context = move || {
        provide_context(services.clone());
        use_page_nonce();
    };
    let options = state.leptos_options.clone();
    // The site's static files (`pkg/`, `public/`), and the app's 404 page for anything else. Files
    // are served here rather than by Leptos' file handler: that one extends a file's response with
    // the response options of whatever page was rendering on the same thread, so a file could go out
    // with another request's status (a 403 from a refused page, seen as a WASM chunk failing to load).
    let not_found =
        leptos_axum::file_and_error_handler_with_context::<AppState, _>(context.clone(), shell)
            .with_state(state.clone());
    let files = tower_http::services::ServeDir::new(&*state.leptos_options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(not_found);
    // Every route takes bodies up to `MAX_BODY_BYTES` but the project imports, which set their own.
    // The REST routes answer every error in JSON, axum's own refusals included.
    let rest = Router::new()
        .merge(routes::reports::router())
        .merge(routes::planning::router())
        .merge(routes::cache::router())
        .merge(routes::performance::router())
        .layer(axum::middleware::map_response(
            routes::error::plain_errors_as_json,
        ));
    let limited = Router::new()
        .merge(routes::health::router())
        .merge(rest)
        .merge(routes::collab::router())
        .leptos_routes_with_context(&state, pages, context.clone(), move || {
            shell(options.clone())
        })
        .layer(axum::middleware::from_fn_with_state(
            routes::limits::MAX_BODY_BYTES,
            routes::limits::limit_body,
        ));
    Router::new()
        .merge(limited)
        .merge(
            routes::projects::router().layer(axum::middleware::map_response(
                routes::error::plain_errors_as_json,
            )),
        )
        .fallback_service(files)
        .layer(axum::middleware::from_fn_with_state(
            auth::guard::Guard {
                authority: state.authority.clone(),
                auth: state.auth.clone(),
            },
            auth::guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.monitor.clone(),
            monitor::layer::record_api_time,
        ))
        .layer(TraceLayer::new_for_http())
        // Pages and JSON compressed as they go out (brotli at quality 4, else gzip), when the client
        // accepts it and the body is over 32 bytes; the build's files go out precompressed by
        // `ServeDir` above (brotli at quality 11), which this leaves as they are. A WebSocket
        // upgrade has no body and is untouched.
        .layer(CompressionLayer::new())
        .with_state(state)
}
