//! The project page at `/projects/{code}`: the plan at a glance (declared and computed status, the
//! WBS as a tree with progress bars, the next milestones), the project's reports by month, and who
//! can reach it. The portfolio's cards and every report's header link here.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::get_project;
use crate::components::{ErrorNotice, RagBadge, Skeleton};
use crate::format::{compact_money, readable_date};
use crate::model::{period_label, ReportLink, ReportStatus};
use crate::project::{next_milestones, wbs_tree, ProjectMember, ProjectOverview};
use crate::sections::MilestoneRow;

/// How many upcoming milestones the page lists.
const NEXT_MILESTONES: usize = 5;

/// The deepest WBS level indented further (the stylesheet has a class for each up to this).
const MAX_INDENT: usize = 5;

/// The project page; the code comes from the path and is checked by the server.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let overview = Resource::new(code, get_project);
    view! {
        <Suspense fallback=|| view! { <Skeleton lines=8 label="Loading the project"/> }>
            <ErrorBoundary fallback=|errors| view! {
                <Title text="Project unavailable"/>
                <ErrorNotice errors/>
                <A href="/" attr:class="button">"Back to the portfolio"</A>
            }>
                {move || Suspend::new(async move {
                    overview.await.map(|overview| view! { <ProjectView overview/> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// The loaded project.
#[component]
fn ProjectView(overview: ProjectOverview) -> impl IntoView {
    let ProjectOverview {
        summary,
        tasks,
        milestones,
        members,
    } = overview;
    let title = format!("{} · {}", summary.code, summary.name);
    let budget = compact_money(summary.budget, &summary.currency);
    let rows = wbs_tree(&tasks);
    let next = next_milestones(&milestones, NEXT_MILESTONES);
    let task_count = tasks.len();
    view! {
        <Title text=title/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <A href="/">"Portfolio"</A>
            " › "
            <span aria-current="page">{summary.code.clone()}</span>
        </nav>
        <header class="project-head">
            <p class="project-head__code">{summary.code.clone()}</p>
            <h1>{summary.name.clone()}</h1>
            <div class="project-head__status">
                <RagBadge rag=summary.declared_overall prefix="Declared"/>
                {match summary.computed_overall {
                    Some(rag) => view! { <RagBadge rag prefix="Computed"/> }.into_any(),
                    None => view! { <span class="chip">"Computed: not yet"</span> }.into_any(),
                }}
            </div>
            <p class="project-head__justification">{summary.status_justification.clone()}</p>
            <dl class="facts facts--wide">
                <div><dt>"Manager"</dt><dd>{summary.manager.clone()}</dd></div>
                <div><dt>"Budget"</dt><dd>{budget}</dd></div>
                <div><dt>"Start"</dt><dd>{readable_date(&summary.start_date)}</dd></div>
                <div><dt>"Target finish"</dt><dd>{readable_date(&summary.target_finish)}</dd></div>
            </dl>
        </header>
        <div class="project-columns">
            <section class="card" aria-labelledby="reports-heading">
                <h2 id="reports-heading">"Reports"</h2>
                <ReportList reports=summary.reports/>
            </section>
            <section class="card" aria-labelledby="milestones-heading">
                <h2 id="milestones-heading">"Next milestones"</h2>
                <MilestoneList milestones=next/>
            </section>
            <section class="card" aria-labelledby="members-heading">
                <h2 id="members-heading">"Members"</h2>
                <MemberList members/>
            </section>
        </div>
        <section class="card" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"Plan"</h2>
            <p class="muted">
                {format!("{task_count} tasks; each level's progress is weighted by budget.")}
            </p>
            <table class="wbs">
                <thead>
                    <tr>
                        <th scope="col">"WBS"</th>
                        <th scope="col">"Work"</th>
                        <th scope="col">"Progress"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let percent = row.percent;
                        let group = row.task.is_none();
                        let label = row.task.clone().unwrap_or_else(|| {
                            format!("{} task{}", row.tasks, if row.tasks == 1 { "" } else { "s" })
                        });
                        // Indentation by class (the pages' CSP allows no inline styles).
                        let class = format!(
                            "wbs__row wbs__row--depth-{}{}",
                            row.depth.min(MAX_INDENT),
                            if group { " wbs__row--group" } else { "" },
                        );
                        view! {
                            <tr class=class>
                                <th scope="row">{row.wbs}</th>
                                <td>{label}</td>
                                <td>
                                    <div class="progress">
                                        <meter
                                            min="0" max="100" value=format!("{percent:.1}")
                                            aria-label=format!("{percent:.0} % complete")
                                        ></meter>
                                        <span>{format!("{percent:.0} %")}</span>
                                    </div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The project's reports, newest first, each with its state.
#[component]
fn ReportList(reports: Vec<ReportLink>) -> impl IntoView {
    if reports.is_empty() {
        return view! { <p class="muted">"No report yet."</p> }.into_any();
    }
    view! {
        <ul class="plain-list">
            {reports.into_iter().map(|r| {
                let (state, class) = match r.status {
                    ReportStatus::Final => ("Published", "chip chip--final"),
                    ReportStatus::Draft => ("Draft", "chip chip--draft"),
                };
                view! {
                    <li>
                        <A href=format!("/reports/{}", r.id)>{period_label(&r.period)}</A>
                        " " <span class=class>{state}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Milestones still to come, with their slip against the baseline.
#[component]
fn MilestoneList(milestones: Vec<MilestoneRow>) -> impl IntoView {
    if milestones.is_empty() {
        return view! { <p class="muted">"Every milestone is reached."</p> }.into_any();
    }
    view! {
        <ul class="plain-list">
            {milestones.into_iter().map(|m| {
                let slip_words = match m.slip_days {
                    d if d > 0 => format!("{d} days late"),
                    d if d < 0 => format!("{} days early", -d),
                    _ => "on baseline".to_string(),
                };
                view! {
                    <li>
                        <strong>{m.name}</strong>
                        <span class="muted">
                            " · " {readable_date(&m.forecast)} " · " {slip_words}
                        </span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Who can reach the project.
#[component]
fn MemberList(members: Vec<ProjectMember>) -> impl IntoView {
    if members.is_empty() {
        return view! { <p class="muted">"Only administrators can reach this project."</p> }
            .into_any();
    }
    view! {
        <ul class="plain-list">
            {members.into_iter().map(|m| view! {
                <li>
                    {m.display_name} " "
                    <span class="muted">{format!("@{} · {}", m.username, m.role)}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
