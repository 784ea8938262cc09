//! The PMR user interface, shared by the server (feature `ssr`) and the browser (feature `hydrate`).
//!
//! This crate owns every page, component and server function, plus the data types that cross the wire
//! ([`model`]) and the error type server functions return ([`error::AppError`]). It never names a type
//! of the `server` crate: server functions reach storage and caches through the [`services`] traits that
//! the server provides as Leptos context.

#![recursion_limit = "256"]

pub mod access;
pub mod account;
pub mod analysis;
pub mod api;
pub mod calendar;
pub mod changes;
pub mod codec;
pub mod collab;
pub mod components;
pub mod editing;
pub mod error;
pub mod format;
pub mod import;
pub mod indicators;
pub mod model;
pub mod pages;
pub mod performance;
pub mod planning;
pub mod progress;
pub mod project;
pub mod report;
mod response;
pub mod sections;
#[cfg(feature = "ssr")]
pub mod services;
pub mod session;
pub mod templates;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use crate::components::{HydrationMarker, SiteHeader};
use crate::pages::{
    AdminPage, HomePage, LoginPage, NewProjectPage, NotFoundPage, PerformancePage, ProgressPage,
    ProjectPage, ReportPage, TemplatesPage,
};

/// Base name of the compiled JS, WASM and CSS files; matches `name` in the workspace's
/// `[[workspace.metadata.leptos]]` table.
pub const OUTPUT_NAME: &str = "pmr";

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // The stylesheet by its content-hashed name when the build has them (`make build`).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: head tags, the site header and the routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_current_user();
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content="Project monthly reports: status, earned value and risk."/>
        <Title formatter=|title: String| format!("{title} · PMR")/>
        <HydrationMarker/>
        <Router>
            <SiteHeader/>
            <main id="main" class="page">
                <Routes fallback=NotFoundPage>
                    // Async rendering: the page is sent once its data is in, so the HTML is complete
                    // without JavaScript and a missing report is a real HTTP 404.
                    // The report page is in the main WASM; every other page is a chunk of its own
                    // (`cargo leptos build --split`), fetched when it is first visited.
                    <Route path=path!("/") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/projects/:code") view={Lazy::<ProjectRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/projects/:code/progress") view={Lazy::<ProgressRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/reports/:id") view=ReportPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/performance") view={Lazy::<PerformanceRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/projects/new") view={Lazy::<NewProjectRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/templates") view={Lazy::<TemplatesRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Declares a page as a lazily loaded route: its code is a separate WASM chunk.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        #[doc = concat!("The `", stringify!($page), "` route, loaded on demand.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(HomeRoute, HomePage);
lazy_page!(ProjectRoute, ProjectPage);
lazy_page!(LoginRoute, LoginPage);
lazy_page!(AdminRoute, AdminPage);
lazy_page!(PerformanceRoute, PerformancePage);
lazy_page!(ProgressRoute, ProgressPage);
lazy_page!(NewProjectRoute, NewProjectPage);
lazy_page!(TemplatesRoute, TemplatesPage);
