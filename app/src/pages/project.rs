//! The project page at `/projects/{code}`: the plan at a glance (declared and computed status, the
//! WBS as a tree with progress bars, the next milestones), the project's reports by month, and who
//! can reach it. The portfolio's cards and every report's header link here.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{get_project, list_templates, start_report};
use crate::components::{ErrorNotice, RagBadge, Skeleton};
use crate::format::{compact_money, readable_date};
use crate::model::{period_label, ReportLink, ReportStatus};
use crate::planning::{check_period, ProjectCalendar, ReportStart};
use crate::project::{next_milestones, wbs_tree, ProjectMember, ProjectOverview};
use crate::sections::MilestoneRow;

use super::project_import::{imported_notice, ImportTarget, ScheduleImportCard};

/// How many upcoming milestones the page lists.
const NEXT_MILESTONES: usize = 5;

/// The deepest WBS level indented further (the stylesheet has a class for each up to this).
const MAX_INDENT: usize = 5;
/// Rows of the plan's table the page draws at most.
const MAX_PLAN_ROWS: usize = 2_000;

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
        may_edit,
        calendar,
    } = overview;
    let title = format!("{} · {}", summary.code, summary.name);
    let budget = compact_money(summary.budget, &summary.currency);
    let mut rows = wbs_tree(&tasks);
    // A plan of tens of thousands of tasks (a scheduler's file) shows its first rows; the whole of
    // it is in the report's task table and the exports.
    let all_rows = rows.len();
    rows.truncate(MAX_PLAN_ROWS);
    let next = next_milestones(&milestones, NEXT_MILESTONES);
    let task_count = tasks.len();
    let by_rule = tasks.iter().filter(|t| t.estimated_by_rule).count();
    let query = use_query_map();
    let notice = move || {
        query
            .read()
            .get("imported")
            .and_then(|q| imported_notice(&q))
    };
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
                <div class="facts__calendar"><dt>"Calendar"</dt><dd>{calendar.describe()}</dd></div>
            </dl>
        </header>
        {move || notice().map(|text| view! { <p class="notice notice--success" role="status">{text}</p> })}
        {may_edit.then(|| view! { <MonthlyCycle code=summary.code.clone() start=summary.start_date.clone() calendar=calendar.clone()/> })}
        <div class="project-columns">
            <section class="card" aria-labelledby="reports-heading">
                <h2 id="reports-heading">"Reports"</h2>
                <ReportList reports=summary.reports/>
            </section>
            <section class="card" aria-labelledby="milestones-heading">
                <h2 id="milestones-heading">"Next milestones"</h2>
                <MilestoneList milestones=next none_planned=milestones.is_empty()/>
            </section>
            <section class="card" aria-labelledby="members-heading">
                <h2 id="members-heading">"Members"</h2>
                <MemberList members/>
            </section>
        </div>
        {may_edit.then(|| view! { <ScheduleImportCard target=ImportTarget::Replace(summary.code.clone())/> })}
        <section class="card" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"Plan"</h2>
            <p class="muted">
                {format!("{task_count} tasks; each level's progress is weighted by budget.")}
                {(by_rule > 0).then(|| format!(
                    " {} derived by the import's rule from the planned duration, not estimated; the risk analysis says so.",
                    if by_rule == 1 { "One has optimistic and pessimistic durations".to_string() } else { format!("{by_rule} have optimistic and pessimistic durations") }
                ))}
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
                                <td>
                                    {label}
                                    {row.constraint.map(|c| view! {
                                        <span class="wbs__constraint" title="The scheduling tool's date constraint, kept as data; the risk analysis does not enforce it">{c}</span>
                                    })}
                                </td>
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
            {(all_rows > MAX_PLAN_ROWS).then(|| view! {
                <p class="muted">{format!(
                    "The first {MAX_PLAN_ROWS} of {all_rows} rows are shown: the whole plan is in a report's task table and in the exports (JSON, CSV)."
                )}</p>
            })}
        </section>
    }
}

/// The month's work for an editor: record progress, start the month's report.
#[component]
fn MonthlyCycle(code: String, start: String, calendar: ProjectCalendar) -> impl IntoView {
    let templates = Resource::new(|| (), |_| list_templates());
    let period = RwSignal::new(this_month());
    let template = RwSignal::new(String::new());
    let begin = Action::new(move |request: &ReportStart| {
        let request = request.clone();
        async move { start_report(request).await }
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(started)) = begin.value().get() {
            navigate(
                &format!("/reports/{}", started.report_id),
                Default::default(),
            );
        }
    });
    let problem = Memo::new(move |_| check_period(&period.get(), &start, &today()).err());
    let submit_code = code.clone();
    view! {
        <section class="card cycle" aria-labelledby="cycle-heading">
            <h2 id="cycle-heading">"This month"</h2>
            <div class="cycle__steps">
                <div>
                    <p>"Record the month's progress: tasks, milestones and risks as of a status date."</p>
                    <A href=format!("/projects/{code}/progress") attr:class="button">"Record progress"</A>
                </div>
                <form class="cycle__start" on:submit=move |ev| {
                    ev.prevent_default();
                    let Ok(template_id) = template.get_untracked().parse::<i64>() else { return };
                    if problem.get_untracked().is_none() {
                        begin.dispatch(ReportStart { code: submit_code.clone(), period: period.get_untracked(), template_id });
                    }
                }>
                    <label class="field">
                        <span class="field__label">"Month"</span>
                        <input type="month" required prop:value=move || period.get()
                            on:input=move |ev| period.set(event_target_value(&ev))/>
                    </label>
                    <label class="field">
                        <span class="field__label">"Template"</span>
                        <Suspense fallback=|| view! { <select disabled><option>"Loading…"</option></select> }>
                            {move || Suspend::new(async move {
                                templates.await.map(|list| {
                                    if let Some(first) = list.first() {
                                        if template.get_untracked().is_empty() {
                                            template.set(first.id.to_string());
                                        }
                                    }
                                    view! {
                                        <select prop:value=move || template.get() on:change=move |ev| template.set(event_target_value(&ev))>
                                            {list.into_iter().map(|t| view! {
                                                <option value=t.id.to_string() title=t.sections.join(", ")>{t.name}</option>
                                            }).collect_view()}
                                        </select>
                                    }
                                })
                            })}
                        </Suspense>
                    </label>
                    <button type="submit" class="button button--primary"
                        disabled=move || begin.pending().get() || problem.read().is_some()>
                        {move || if begin.pending().get() { "Generating…" } else { "Start the month's report" }}
                    </button>
                    {move || match problem.get() {
                        Some(p) => view! { <p class="form-status form-status--error" role="alert">{p}</p> }.into_any(),
                        None => {
                            let day = calendar.status_date(&period.get()).map(|d| d.readable());
                            view! { <p class="muted cycle__status-date">{day.map(|d| format!("Status date: {d}, the month's reporting day."))}</p> }.into_any()
                        }
                    }}
                    {move || begin.value().get().and_then(|r| r.err()).map(|e| view! {
                        <p class="form-status form-status--error" role="alert">{e.to_string()}</p>
                    })}
                </form>
            </div>
        </section>
    }
}

/// Today as `YYYY-MM-DD` (the browser's clock; the server's on the server).
fn today() -> String {
    crate::calendar::Date::today().map_or_else(String::new, crate::calendar::Date::iso)
}

/// This month as `YYYY-MM`.
fn this_month() -> String {
    today().get(..7).unwrap_or("").to_string()
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
                        {(r.revision > 1).then(|| view! {
                            " " <span class="chip chip--revision">{format!("Corrected: revision {}", r.revision)}</span>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Milestones still to come, with their slip against the baseline.
#[component]
fn MilestoneList(milestones: Vec<MilestoneRow>, none_planned: bool) -> impl IntoView {
    if none_planned {
        return view! { <p class="muted">"The plan has no milestones."</p> }.into_any();
    }
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
