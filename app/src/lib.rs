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
use leptos_meta::{provide_meta_context, Link, Meta, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, LazyRoute, SsrMode,
};

use crate::components::SiteHeader;
use crate::pages::{
    AdminPage, HomePage, LoginPage, NewProjectPage, NotFoundPage, PerformancePage, ProgressPage,
    ProjectPage, ReportPage, TemplatesPage,
};

/// Base name of the compiled JS, WASM and CSS files; matches `name` in the workspace's
/// `[[workspace.metadata.leptos]]` table.
pub const OUTPUT_NAME: &str = "pmr";

/// The HTML document around the app, rendered only on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // The stylesheet in the page, and the code fetched once the page has painted.
                <components::PageStyle options=options.clone()/>
                <components::StartScripts options/>
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Hydrates the page's `<body>` with [`App`] in the browser, as `leptos::mount::hydrate_lazy` does
/// (lazily loaded pages hydrate once their chunk is in), then tells the hydration marker that the
/// whole page is live.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = document().body() else {
            return;
        };
        let mounted = leptos::mount::hydrate_from_async(body, App).await;
        // The page lives as long as the tab: nothing ever unmounts it.
        mounted.forget();
        components::hydration_finished();
    });
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
        <Router>
            <SiteHeader/>
            <main id="main" class="page">
                <Routes fallback=NotFoundPage>
                    // Async rendering: the page is sent once its data is in, so the HTML is complete
                    // without JavaScript and a missing report is a real HTTP 404.
                    // The report page is in the main WASM; the others are in three chunks
                    // (`cargo leptos build --split`, below), fetched when first visited.
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

// Lazily loaded pages, in three groups of one WASM chunk each. `--split` also makes a chunk for every
// set of split functions that share code, one request each: with every page a split function of its
// own, the dashboard needed 74 chunks over a phone's six connections. The groups are who visits them:
// readers (signing in, the portfolio and a project), editors (the month's progress), admins.

/// A reader's page besides the report.
#[derive(Clone, Copy)]
enum ReaderPageKind {
    Login,
    Home,
    Project,
}

#[lazy]
fn reader_page(page: ReaderPageKind) -> AnyView {
    match page {
        ReaderPageKind::Login => view! { <LoginPage/> }.into_any(),
        ReaderPageKind::Home => view! { <HomePage/> }.into_any(),
        ReaderPageKind::Project => view! { <ProjectPage/> }.into_any(),
    }
}

#[lazy]
fn progress_page() -> AnyView {
    view! { <ProgressPage/> }.into_any()
}

/// An administrator's page.
#[derive(Clone, Copy)]
enum AdminPageKind {
    Admin,
    Performance,
    NewProject,
    Templates,
}

#[lazy]
fn admin_page(page: AdminPageKind) -> AnyView {
    match page {
        AdminPageKind::Admin => view! { <AdminPage/> }.into_any(),
        AdminPageKind::Performance => view! { <PerformancePage/> }.into_any(),
        AdminPageKind::NewProject => view! { <NewProjectPage/> }.into_any(),
        AdminPageKind::Templates => view! { <TemplatesPage/> }.into_any(),
    }
}

/// Declares a route drawn by one of the lazily loaded groups above: `$load` draws it and `$preload`
/// (made by `#[lazy]` in the browser build) fetches its group's chunk before the page hydrates.
macro_rules! lazy_page {
    ($route:ident, $load:ident($($page:expr)?), $preload:ident) => {
        #[doc = concat!("A route drawn by `", stringify!($load), "`, loaded on demand.")]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                $load($($page)?).await
            }

            async fn preload() {
                #[cfg(feature = "hydrate")]
                $preload().await;
            }
        }
    };
}

lazy_page!(
    LoginRoute,
    reader_page(ReaderPageKind::Login),
    __preload_reader_page
);
lazy_page!(
    HomeRoute,
    reader_page(ReaderPageKind::Home),
    __preload_reader_page
);
lazy_page!(
    ProjectRoute,
    reader_page(ReaderPageKind::Project),
    __preload_reader_page
);
lazy_page!(ProgressRoute, progress_page(), __preload_progress_page);
lazy_page!(
    AdminRoute,
    admin_page(AdminPageKind::Admin),
    __preload_admin_page
);
lazy_page!(
    PerformanceRoute,
    admin_page(AdminPageKind::Performance),
    __preload_admin_page
);
lazy_page!(
    NewProjectRoute,
    admin_page(AdminPageKind::NewProject),
    __preload_admin_page
);
lazy_page!(
    TemplatesRoute,
    admin_page(AdminPageKind::Templates),
    __preload_admin_page
);
