//! The portfolio home: every project with its declared status, the status its latest figures give,
//! its performance index with a trend arrow, its monthly reports, and a filter that narrows the list
//! as you type.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::list_portfolio;
use crate::components::{ErrorNotice, RagBadge, Skeleton};
use crate::format::{compact_money, percent_encode_path, project_matches, readable_date};
use crate::model::{period_label, Portfolio, ProjectSummary};

/// The portfolio page at `/`.
#[component]
pub fn HomePage() -> impl IntoView {
    let portfolio = Resource::new(|| (), |_| list_portfolio());
    let filter = RwSignal::new(String::new());
    view! {
        <Title text="Portfolio"/>
        <div class="page-head">
            <h1>"Portfolio"</h1>
            <input
                class="filter"
                type="search"
                placeholder="Filter by project, code or manager"
                aria-label="Filter projects"
                prop:value=filter
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
        </div>
        <Suspense fallback=|| view! { <Skeleton lines=6 label="Loading the portfolio"/> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    portfolio.await.map(|portfolio| view! { <ProjectGrid portfolio filter/> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// The project cards that match the filter, or a message when none does.
#[component]
fn ProjectGrid(portfolio: Portfolio, filter: RwSignal<String>) -> impl IntoView {
    let total = portfolio.projects.len();
    let projects = StoredValue::new(portfolio.projects);
    // The grid hydrates after the page (its data is read first): it must first draw what the
    // server drew, unfiltered, or a filter typed before then leaves the server's cards in place.
    // Once live, the filter applies.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    let visible = move || {
        let typed = filter.read();
        let query = if live.get() { typed.as_str() } else { "" };
        projects.with_value(|all| {
            all.iter()
                .filter(|p| project_matches(p, query))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let shown = move || visible().len();
    view! {
        <div class="portfolio-bar">
            <p class="muted" aria-live="polite">
                {portfolio.name} " · " {move || format!("{} of {total} projects", shown())}
            </p>
            // Under the page's Suspense with the portfolio, so the page hydrates in one piece.
            {portfolio.may_create_projects.then(|| view! {
                <A href="/admin/projects/new" attr:class="button button--primary">"New project"</A>
            })}
        </div>
        <ul class="project-grid" aria-label="Projects">
            <For each=visible key=|p| p.id let:project>
                <ProjectCard project/>
            </For>
        </ul>
        <Show when=move || total == 0>
            <div class="empty-state">
                <h2>"No projects yet"</h2>
                <p>"You are not a member of any project. Ask an administrator to add you to the projects you work on."</p>
            </div>
        </Show>
        <Show when=move || total != 0 && shown() == 0>
            <p class="empty-state">"No project matches “" {move || filter.get()} "”."</p>
        </Show>
    }
}

/// One project: identity, declared status, budget, and links to its reports (newest first).
#[component]
fn ProjectCard(project: ProjectSummary) -> impl IntoView {
    let budget = compact_money(project.budget, &project.currency);
    let (arrow, trend_words) = project.trend.arrow();
    let performance = project
        .performance
        .map_or_else(|| "index n/a".to_string(), |v| format!("index {v:.2}"));
    let trend_title = "The lower of CPI and SPI(t) in the latest report, and how it moved since the report before";
    let project_href = format!("/projects/{}", percent_encode_path(&project.code));
    let mut reports = project.reports.into_iter();
    let latest = reports.next();
    view! {
        <li class="project-card">
            <div class="project-card__head">
                <span class="project-card__code">{project.code}</span>
                <RagBadge rag=project.declared_overall prefix="Declared"/>
            </div>
            <div class="project-card__status">
                {match project.computed_overall {
                    Some(rag) => view! { <RagBadge rag prefix="Computed"/> }.into_any(),
                    None => view! { <span class="chip">"Computed: not yet"</span> }.into_any(),
                }}
                <span class=format!("trend trend--{}", project.trend.as_str()) title=trend_title>
                    <span aria-hidden="true">{arrow} " "</span>
                    {performance} " " {trend_words}
                </span>
            </div>
            <h2 class="project-card__name">
                <A href=project_href>{project.name}</A>
            </h2>
            <p class="project-card__justification">{project.status_justification}</p>
            <dl class="facts">
                <div><dt>"Manager"</dt><dd>{project.manager}</dd></div>
                <div><dt>"Budget"</dt><dd>{budget}</dd></div>
                <div><dt>"Target finish"</dt><dd>{readable_date(&project.target_finish)}</dd></div>
            </dl>
            {latest.map(|r| view! {
                <A href=format!("/reports/{}", r.id) attr:class="button button--primary">
                    "Latest report: " {period_label(&r.period)}
                </A>
            })}
            <ul class="report-links" aria-label="Earlier reports">
                {reports.map(|r| view! {
                    <li><A href=format!("/reports/{}", r.id)>{period_label(&r.period)}</A></li>
                }).collect_view()}
            </ul>
        </li>
    }
}
