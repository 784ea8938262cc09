//! The report page at `/reports/{id}`: header, table of contents (which also shows each section's
//! loading state and prints the whole report) and the report's sections in template order, loaded
//! lazily by priority ([`crate::report`]), with a filter by priority. The outline comes from a server function inside a Transition
//! (so a reload after regeneration keeps the page in place).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{correct_report, get_report_outline, publish_report, regenerate_report};
use crate::collab::{CollabKeeper, CollabPanel, CollabSettings, EditableSection};
use crate::components::{ErrorNotice, RagBadge, Skeleton};
use crate::error::AppError;
use crate::model::{
    period_label, GenerationTimings, Priority, ReportOutline, ReportStatus, Role, SectionOutline,
};
use crate::report::{clock_ms, LazyPMRSectionList};
use crate::session::use_current_user;

/// The report page; an unparsable id is sent to the server as 0 and comes back as a clear error.
#[component]
pub fn ReportPage() -> impl IntoView {
    let params = use_params_map();
    let report_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let outline = Resource::new(report_id, get_report_outline);
    // The live bar's session outlasts the view's rebuilds when the outline reloads; when someone
    // publishes the report while it is open, the page reloads it.
    let keeper = CollabKeeper::new(move || outline.refetch());
    // Lives with the page, not the loaded report, so its message outlasts the reload it triggers.
    let regenerate = Action::new(|id: &i64| regenerate_report(*id));
    Effect::new(move |_| {
        if let Some(Ok(_)) = regenerate.value().get() {
            outline.refetch();
        }
    });
    let publish = Action::new(|id: &i64| publish_report(*id));
    Effect::new(move |_| {
        if let Some(Ok(_)) = publish.value().get() {
            outline.refetch();
        }
    });
    // The header is rebuilt whenever the outline reloads (after a regeneration, say): an open
    // "Publish…" confirmation must survive that, so its state lives here too.
    let publish_confirming = RwSignal::new(false);
    let actions = DraftActions {
        regenerate,
        publish,
        publish_confirming,
    };
    Effect::new(move |previous: Option<i64>| {
        let id = report_id();
        if previous.is_some_and(|p| p != id) {
            regenerate.value().set(None);
            publish.value().set(None);
            publish_confirming.set(false);
        }
        id
    });
    view! {
        <Transition fallback=|| view! { <Skeleton lines=8 label="Loading the report"/> }>
            <ErrorBoundary fallback=|errors| view! {
                <Title text="Report unavailable"/>
                <ErrorNotice errors/>
                <A href="/" attr:class="button">"Back to the portfolio"</A>
            }>
                {move || Suspend::new(async move {
                    outline.await.map(|outline| view! {
                        <ReportView outline actions keeper/>
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// Rebuilding a report from current data: the id in, the step timings out.
type Regenerate = Action<i64, Result<GenerationTimings, AppError>>;

/// Publishing a draft: the id in, the report's outline as published out.
type Publish = Action<i64, Result<ReportOutline, AppError>>;

/// A draft's actions and the open publishing confirmation: they live with the page, not the loaded
/// report, so their state outlasts the reload they trigger.
#[derive(Clone, Copy)]
struct DraftActions {
    regenerate: Regenerate,
    publish: Publish,
    publish_confirming: RwSignal<bool>,
}

/// How long after a jump from the contents list the page keeps its target in view while sections load.
#[cfg(feature = "hydrate")]
const JUMP_SETTLE_MS: f64 = 5_000.0;

/// While `jump` still holds this jump (no newer one, no hand scrolling) and for at most
/// [`JUMP_SETTLE_MS`], checks every 100 ms that the jump's target is still in the upper half of the
/// window, and scrolls it back there when loading sections above it have pushed it away.
#[cfg(feature = "hydrate")]
fn keep_in_view(target: String, started: f64, jump: StoredValue<Option<(String, f64)>>) {
    let current = jump.try_get_value().flatten();
    if current.is_none_or(|(key, at)| key != target || at != started) {
        return;
    }
    if clock_ms() - started > JUMP_SETTLE_MS {
        jump.try_set_value(None);
        return;
    }
    if let Some(element) = document().get_element_by_id(&target) {
        let top = element.get_bounding_client_rect().top();
        let height = window()
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(0.0);
        if top < 0.0 || top > height / 2.0 {
            element.scroll_into_view();
        }
    }
    set_timeout(
        move || keep_in_view(target, started, jump),
        std::time::Duration::from_millis(100),
    );
}

/// A loaded report: header, contents and the lazily loaded sections.
#[component]
fn ReportView(
    outline: ReportOutline,
    actions: DraftActions,
    keeper: CollabKeeper,
) -> impl IntoView {
    let filter = RwSignal::new(None::<Priority>);
    let loaded = RwSignal::new(Vec::<String>::new());
    let failed = RwSignal::new(Vec::<String>::new());
    let load_all = RwSignal::new(false);
    let total = outline.sections.len();
    let printing = RwSignal::new(false);
    // Printing waits until every section has loaded (or failed), so the paper has the whole report.
    Effect::new(move |_| {
        if printing.get() && loaded.with(Vec::len) + failed.with(Vec::len) >= total {
            printing.set(false);
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.print();
            }
        }
    });
    let collab = {
        let sections: Vec<EditableSection> = outline
            .sections
            .iter()
            .map(|s| EditableSection {
                key: s.key.clone(),
                title: s.title.clone(),
            })
            .collect();
        let (report_id, status) = (outline.id, outline.status);
        // Whether this reader may edit comes from the server's welcome, not from the page.
        let settings = CollabSettings {
            report_id,
            sections,
            editable: status == ReportStatus::Draft,
            is_final: status == ReportStatus::Final,
        };
        view! { <CollabPanel settings keeper/> }
    };
    // A jump from the contents list lands on its section, but the sections above it load right then
    // and grow past their skeletons, pushing it down the page (the browser's scroll anchoring loses
    // its anchor when skeletons are swapped for content). Until the reader scrolls by hand, or for a
    // few seconds, the page brings the jump's target back into view when it has been pushed away.
    let jump = StoredValue::new(None::<(String, f64)>);
    #[cfg(feature = "hydrate")]
    {
        let handles = [
            window_event_listener(leptos::ev::wheel, move |_| jump.set_value(None)),
            window_event_listener(leptos::ev::touchmove, move |_| jump.set_value(None)),
            window_event_listener(leptos::ev::keydown, move |_| jump.set_value(None)),
        ];
        on_cleanup(move || handles.into_iter().for_each(|h| h.remove()));
    }
    let on_load = move |key: String| loaded.update(|l| l.push(key));
    let on_error = move |(key, _message): (String, String)| failed.update(|f| f.push(key));
    view! {
        <Title text=format!("{} · {}", outline.project_code, period_label(&outline.period))/>
        <ReportHeader outline=outline.clone() actions/>
        {collab}
        <div class="report-layout">
            <nav class="toc" aria-label="Contents">
                <h2 class="toc__title">"Contents"</h2>
                <ol>
                    {outline.sections.iter().map(|s| {
                        let key = s.key.clone();
                        let target = s.key.clone();
                        let state = move || {
                            if loaded.with(|l| l.contains(&key)) { "loaded" }
                            else if failed.with(|f| f.contains(&key)) { "failed" }
                            else { "waiting" }
                        };
                        view! {
                            <li data-state=state>
                                <a href=format!("#{}", s.key)
                                    on:click=move |_| {
                                        let started = clock_ms();
                                        jump.set_value(Some((target.clone(), started)));
                                        #[cfg(feature = "hydrate")]
                                        keep_in_view(target.clone(), started, jump);
                                    }>
                                    {s.title.clone()}
                                </a>
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <button type="button" class="button button--ghost toc__print" disabled=printing
                    on:click=move |_| { load_all.set(true); printing.set(true); }>
                    {move || if printing.get() { "Loading every section…" } else { "Print the report" }}
                </button>
            </nav>
            <div class="report-body">
                <crate::report::SinceLastMonth report_id=outline.id/>
                <PriorityFilter filter sections=outline.sections.clone()/>
                <LazyPMRSectionList report_id=outline.id sections=outline.sections.clone()
                    on_section_load=on_load on_section_error=on_error load_all only=filter/>
            </div>
        </div>
    }
}

/// Project, period, status, the editors' actions, and links to the neighbouring months.
#[component]
fn ReportHeader(outline: ReportOutline, actions: DraftActions) -> impl IntoView {
    let user = use_current_user();
    let is_draft = outline.status == ReportStatus::Draft;
    let report_id = outline.id;
    let month = period_label(&outline.period);
    let published = published_line(&outline);
    let revisions = revision_notes(&outline);
    let correctable =
        !is_draft && outline.superseded_by.is_none() && outline.correction_draft.is_none();
    let revision = (outline.revision > 1).then(|| {
        view! {
            <span class="chip chip--revision">{format!("Revision {}", outline.revision)}</span>
        }
    });
    view! {
        <header class="report-header">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <A href="/">"Portfolio"</A>
                " › "
                <A href=format!("/projects/{}", crate::format::percent_encode_path(&outline.project_code))>
                    {outline.project_code.clone()} " · " {outline.project_name.clone()}
                </A>
            </nav>
            <h1>{outline.title.clone()}</h1>
            <div class="report-header__meta">
                <span class="period">{month}</span>
                <span class=format!("chip chip--{}", outline.status.as_str())>{match outline.status {
                    ReportStatus::Final => "Published",
                    ReportStatus::Draft => "Draft",
                }}</span>
                {outline.superseded_by.map(|_| view! { <span class="chip chip--superseded">"superseded"</span> })}
                {revision}
                <RagBadge rag=outline.declared_overall prefix="Declared"/>
                {move || (is_draft && user.has_role(Role::Editor)).then(|| view! {
                    <RegenerateButton report_id regenerate=actions.regenerate/>
                    <PublishButton report_id publish=actions.publish confirming=actions.publish_confirming/>
                })}
                {move || (correctable && user.has_role(Role::Editor)).then(|| view! {
                    <CorrectButton report_id/>
                })}
            </div>
            {published}
            {revisions}
            <nav class="period-switcher" aria-label="Other months">
                {outline.previous_report_id.map(|id| view! {
                    <A href=format!("/reports/{id}") attr:rel="prev">"← Previous month"</A>
                })}
                {outline.next_report_id.map(|id| view! {
                    <A href=format!("/reports/{id}") attr:rel="next">"Next month →"</A>
                })}
            </nav>
        </header>
    }
}

/// Rebuilds a draft report from the project's current data, then shows how long it took.
#[component]
fn RegenerateButton(report_id: i64, regenerate: Regenerate) -> impl IntoView {
    view! {
        <span class="report-actions">
            <button type="button" class="button" disabled=regenerate.pending()
                title="Recompute earned value, the Monte Carlo simulation and the insights from the project's current data"
                on:click=move |_| { regenerate.dispatch(report_id); }>
                {move || if regenerate.pending().get() { "Regenerating…" } else { "Regenerate from current data" }}
            </button>
            {move || regenerate.value().get().map(|result| match result {
                Ok(t) => view! {
                    <span class="form-status" role="status">{format!("Regenerated in {:.0} ms.", t.total_ms)}</span>
                }.into_any(),
                Err(e) => view! {
                    <span class="form-status form-status--error" role="alert">{e.to_string()}</span>
                }.into_any(),
            })}
        </span>
    }
}

/// "Published by … on …" under a published report's title.
fn published_line(outline: &ReportOutline) -> Option<impl IntoView> {
    let by = outline.published_by.clone()?;
    let on = outline
        .published_at
        .as_deref()
        .and_then(|at| at.get(..10))
        .map(crate::format::readable_date)
        .unwrap_or_default();
    Some(view! {
        <p class="report-header__published" data-testid="published-by">
            {format!("Published by {by} on {on}. This report is a frozen snapshot: it can no longer be changed.")}
        </p>
    })
}

/// Where a report stands among its month's revisions: the correction that replaced it, the report it
/// corrects, the correction being drafted.
fn revision_notes(outline: &ReportOutline) -> Option<impl IntoView> {
    let link = |id: i64, text: &'static str| view! { <A href=format!("/reports/{id}")>{text}</A> };
    let superseded = outline.superseded_by.map(|id| {
        view! {
            <p class="notice notice--warning" data-testid="superseded">
                "A correction replaced this report; it stays here as it was published. "
                {link(id, "Read the correction")}
            </p>
        }
    });
    let corrects = outline.corrects.map(|id| {
        let what = if outline.status == ReportStatus::Draft {
            "This draft corrects the month's published report; publishing it replaces that one, which stays readable. "
        } else {
            "This revision corrects the month's report as first published, which stays readable. "
        };
        view! {
            <p class="report-header__revision" data-testid="corrects">
                {what} {link(id, "Read the corrected report")}
            </p>
        }
    });
    let drafting = outline.correction_draft.map(|id| {
        view! {
            <p class="report-header__revision" data-testid="correction-draft">
                "A correction of this report is being drafted. " {link(id, "Open the correction")}
            </p>
        }
    });
    (superseded.is_some() || corrects.is_some() || drafting.is_some())
        .then(|| view! { {superseded} {corrects} {drafting} })
}

/// Starts a correction of a published report, after a confirmation, and opens it.
#[component]
fn CorrectButton(report_id: i64) -> impl IntoView {
    let correct = Action::new(|id: &i64| correct_report(*id));
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(started)) = correct.value().get() {
            navigate(
                &format!("/reports/{}", started.report_id),
                Default::default(),
            );
        }
    });
    let confirming = RwSignal::new(false);
    view! {
        <ConfirmedAction report_id action=correct confirming primary=false
            label="Correct…"
            title="Start a corrected revision of this report; this one stays as it was published"
            group="Confirm correcting"
            question="Start a correction? It begins as a draft holding what was published; this report stays as it is until the correction is published. "
            confirm="Start the correction" pending="Starting…"/>
    }
}

/// Publishes a draft, after a confirmation: it becomes final and read-only for everyone.
#[component]
fn PublishButton(report_id: i64, publish: Publish, confirming: RwSignal<bool>) -> impl IntoView {
    view! {
        <ConfirmedAction report_id action=publish confirming primary=true
            label="Publish…"
            title="Make this report final: a read-only snapshot that readers see as the month's report"
            group="Confirm publishing"
            question="Publish this report? Nobody can edit it afterwards. "
            confirm="Publish" pending="Publishing…"/>
    }
}

/// A button whose action runs after a confirmation (a question, the confirming button, Cancel), and
/// the action's refusal beside it.
#[component]
fn ConfirmedAction<T: Send + Sync + 'static>(
    report_id: i64,
    action: Action<i64, Result<T, AppError>>,
    confirming: RwSignal<bool>,
    primary: bool,
    label: &'static str,
    title: &'static str,
    group: &'static str,
    question: &'static str,
    confirm: &'static str,
    pending: &'static str,
) -> impl IntoView {
    let class = if primary {
        "button button--primary"
    } else {
        "button"
    };
    view! {
        <span class="report-actions">
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class=class title=title on:click=move |_| confirming.set(true)>
                        {label}
                    </button>
                }
            >
                <span class="confirm" role="group" aria-label=group>
                    {question}
                    <button type="button" class="button button--primary" disabled=action.pending()
                        on:click=move |_| { action.dispatch(report_id); }>
                        {move || if action.pending().get() { pending } else { confirm }}
                    </button>
                    <button type="button" class="button" on:click=move |_| confirming.set(false)>
                        "Cancel"
                    </button>
                </span>
            </Show>
            {move || action.value().with(|v| v.as_ref().and_then(|r| r.as_ref().err()).map(ToString::to_string)).map(|e| view! {
                <span class="form-status form-status--error" role="alert">{e}</span>
            })}
        </span>
    }
}

/// Buttons that show all sections or only those of one priority.
#[component]
fn PriorityFilter(
    filter: RwSignal<Option<Priority>>,
    sections: Vec<SectionOutline>,
) -> impl IntoView {
    let count = move |p: Option<Priority>| {
        sections
            .iter()
            .filter(|s| p.is_none_or(|p| p == s.priority))
            .count()
    };
    let options = [
        None,
        Some(Priority::High),
        Some(Priority::Medium),
        Some(Priority::Low),
    ];
    view! {
        <div class="segmented" role="group" aria-label="Show sections by priority">
            {options.into_iter().map(|option| {
                let label = option.map_or("All", |p| p.as_str());
                let text = format!("{label} ({})", count(option));
                view! {
                    <button
                        type="button"
                        aria-pressed=move || (filter.get() == option).to_string()
                        on:click=move |_| filter.set(option)
                    >
                        {text}
                    </button>
                }
            }).collect_view()}
        </div>
    }
}
