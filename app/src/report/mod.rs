//! The report reader's sections, loaded lazily by priority: the seed's `LazyPMRSectionList` and
//! `LazyPMRSection`.
//!
//! - `high` sections load at once; on a first visit the server runs their server function while
//!   rendering, so their content is in the HTML before the WASM arrives.
//! - `medium` sections load when they come within 200 px of the viewport, `low` ones when they enter
//!   it; one `IntersectionObserver` per list watches them ([`observer`]) and each section loads once.
//! - Each section has its own Suspense boundary with a skeleton of its shape, and its own error
//!   boundary with the message and a Retry button, so one failing section never takes the page down.
//! - The browser reports how long each lazily loaded section took from coming into range to showing
//!   its content (`record_section_load`, the dashboard's `section_load_time`).
//!
//! What each section shows is in [`content`] and [`analysis_views`].

mod analysis_views;
mod changes_view;
mod content;
mod observer;

use leptos::prelude::*;

use crate::api::get_report_section;
use crate::components::PriorityBadge;
use crate::error::AppError;
use crate::model::{section_description, Priority, SectionOutline};
use crate::sections::ReportSection;
pub use changes_view::SinceLastMonth;
pub use content::section_view;
use observer::Observer;

/// The list's observer: browser-local in the browser; on the server (where there is none) ordinary
/// storage, since server-side owners are dropped on any thread.
#[cfg(feature = "hydrate")]
type ObserverCell = StoredValue<Option<Observer>, LocalStorage>;
#[cfg(not(feature = "hydrate"))]
type ObserverCell = StoredValue<Option<Observer>>;

/// What a list shares with its sections: the observer, the list's callbacks, and a request to load
/// everything (before printing).
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct ListContext {
    observer: ObserverCell,
    load_all: RwSignal<bool>,
    on_load: Option<Callback<String>>,
    on_error: Option<Callback<(String, String)>>,
}

/// A report's sections in template order, each loaded by its priority. `load_all` set to true loads
/// every section still waiting (e.g. before printing).
#[component]
#[allow(non_snake_case)]
pub fn LazyPMRSectionList(
    report_id: i64,
    sections: Vec<SectionOutline>,
    /// Called with a section's key when its content is shown.
    #[prop(optional, into)]
    on_section_load: Option<Callback<String>>,
    /// Called with a section's key and the error's message when it fails to load.
    #[prop(optional, into)]
    on_section_error: Option<Callback<(String, String)>>,
    #[prop(optional, into)] load_all: Option<RwSignal<bool>>,
    /// Sections of other priorities are hidden (kept mounted, so nothing loads twice).
    #[prop(optional, into)]
    only: Option<Signal<Option<Priority>>>,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    let observer = StoredValue::new_local(Observer::new());
    #[cfg(not(feature = "hydrate"))]
    let observer: ObserverCell = StoredValue::new(None::<Observer>);
    #[cfg(feature = "hydrate")]
    on_cleanup(move || {
        observer.with_value(|o| {
            if let Some(o) = o {
                o.disconnect();
            }
        })
    });
    provide_context(ListContext {
        observer,
        load_all: load_all.unwrap_or_else(|| RwSignal::new(false)),
        on_load: on_section_load,
        on_error: on_section_error,
    });
    view! {
        <div class="section-list">
            {sections.into_iter().map(|s| {
                let priority = s.priority;
                let hidden = move || only.and_then(|o| o.get()).is_some_and(|p| p != priority);
                view! {
                    <div class="section-slot" hidden=hidden>
                        <LazyPMRSection report_id section_id=s.key section_type=s.section_type title=s.title priority
                            items=s.items/>
                    </div>
                }
            }).collect_view()}
        </div>
    }
}

/// The browser's clock in milliseconds, for section load times and the contents list's jumps (these
/// run only in the browser; on the server it reads 0).
pub(crate) fn clock_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now();
    #[cfg(not(feature = "hydrate"))]
    return 0.0;
}

/// One section: heading, then a skeleton until its content arrives, its content, or its error with a
/// Retry button. Inside a [`LazyPMRSectionList`] it loads by `priority`; alone, it loads at once.
#[component]
#[allow(non_snake_case)]
pub fn LazyPMRSection(
    report_id: i64,
    #[prop(into)] section_id: String,
    #[prop(into)] section_type: String,
    #[prop(into)] title: String,
    priority: Priority,
    /// Content already in hand: shown as is, nothing is fetched.
    #[prop(optional)]
    data: Option<ReportSection>,
    #[prop(optional, into)] on_load: Option<Callback<()>>,
    #[prop(optional, into)] on_error: Option<Callback<AppError>>,
    /// How many entries the content lists ([`SectionOutline::items`]), for the placeholder's
    /// height; `None` (no content yet) draws one line.
    #[prop(optional_no_strip)]
    items: Option<u32>,
) -> impl IntoView {
    let list = use_context::<ListContext>();
    let in_hand = data.is_some();
    let lazy = list.is_some() && priority != Priority::High && !in_hand;
    let requested = RwSignal::new(!lazy && !in_hand);
    let settled = RwSignal::new(in_hand);
    let key = section_id.clone();
    let section = Resource::new(
        move || requested.get(),
        move |go| {
            let key = key.clone();
            async move {
                if go {
                    Some(get_report_section(report_id, key).await)
                } else {
                    None
                }
            }
        },
    );
    if let Some(list) = list {
        Effect::new(move |_| {
            if list.load_all.get() {
                requested.set(true);
            }
        });
    }

    // Browser only: watch the section, time it from coming into range to showing its content, and
    // tell the callbacks.
    let watch = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let started = StoredValue::new(None::<f64>);
        let key = section_id.clone();
        Effect::new(move |_| {
            let Some(element) = watch.get() else { return };
            match list.filter(|_| lazy) {
                Some(list) if !requested.get_untracked() => {
                    let watched = list.observer.with_value(|o| {
                        o.as_ref()
                            .map(|o| o.watch(&element, &key, requested))
                            .is_some()
                    });
                    if !watched {
                        requested.set(true);
                    }
                }
                _ => {}
            }
        });
        Effect::new(move |_| {
            if lazy && requested.get() && started.get_value().is_none() {
                started.set_value(Some(clock_ms()));
            }
        });
        let key = section_id.clone();
        let kind = section_type.clone();
        Effect::new(move |_| match section.get() {
            Some(Some(Ok(_))) => {
                settled.set(true);
                if let Some(callback) = on_load {
                    callback.run(());
                }
                if let Some(callback) = list.and_then(|l| l.on_load) {
                    callback.run(key.clone());
                }
                if let Some(from) = started.get_value() {
                    started.set_value(Some(f64::NAN));
                    if from.is_finite() {
                        let kind = kind.clone();
                        request_animation_frame(move || {
                            let ms = (clock_ms() - from).max(0.0);
                            leptos::task::spawn_local(async move {
                                // A lost measurement is not worth bothering the reader with.
                                let _ = crate::api::record_section_load(kind, ms).await;
                            });
                        });
                    }
                }
            }
            Some(Some(Err(e))) => {
                settled.set(true);
                if let Some(callback) = on_error {
                    callback.run(e.clone());
                }
                if let Some(callback) = list.and_then(|l| l.on_error) {
                    callback.run((key.clone(), e.to_string()));
                }
            }
            _ => {}
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (on_load, on_error);

    let busy = move || (requested.get() && !settled.get()).to_string();
    let retry = Callback::new(move |()| {
        settled.set(false);
        section.refetch();
    });
    let heading_id = format!("{section_id}-title");
    let labelled_by = heading_id.clone();
    let kind = section_type.clone();
    let skeleton = move || view! { <SectionSkeleton section_type=kind.clone() items/> };
    let placeholder = skeleton.clone();
    let data = StoredValue::new(data);
    view! {
        <section class=format!("report-section report-section--{section_type}") id=section_id.clone()
            data-priority=priority.as_str() data-state=move || { if settled.get() { "done" } else if requested.get() { "loading" } else { "waiting" } }
            aria-busy=busy aria-labelledby=labelled_by>
            <div class=format!("report-section__watch report-section__watch--{}", priority.as_str())
                data-watch=section_id.clone() node_ref=watch aria-hidden="true"></div>
            <div class="report-section__head">
                <h2 id=heading_id>{title}</h2>
                <PriorityBadge priority/>
            </div>
            <p class="report-section__about muted">{section_description(&section_type)}</p>
            <div class="report-section__body">
                {move || match data.get_value() {
                    Some(section) => view! {
                        <Suspense fallback=skeleton.clone()>
                            {Suspend::new(section_view(section))}
                        </Suspense>
                    }.into_any(),
                    None => {
                        let placeholder = placeholder.clone();
                        view! {
                            <Suspense fallback=skeleton.clone()>
                                <ErrorBoundary fallback=move |errors| view! { <SectionError errors retry/> }>
                                    {move || {
                                        let placeholder = placeholder.clone();
                                        Suspend::new(async move {
                                            match section.await {
                                                None => Ok(placeholder().into_any()),
                                                Some(Ok(section)) => Ok(section_view(section).await),
                                                Some(Err(e)) => Err(e),
                                            }
                                        })
                                    }}
                                </ErrorBoundary>
                            </Suspense>
                        }.into_any()
                    }
                }}
            </div>
        </section>
    }
}

/// One part of a placeholder: a box of class `class` holding `parts` boxes of class `part`.
struct Bone {
    class: &'static str,
    parts: usize,
    part: &'static str,
}

const fn bone(class: &'static str, parts: usize, part: &'static str) -> Bone {
    Bone { class, parts, part }
}

/// A line of text, as wide as the column or shorter.
const LINE: Bone = bone("skeleton__line", 0, "");
const SHORT_LINE: Bone = bone("skeleton__line skeleton__line--short", 0, "");

/// A table: a header row and `rows` rows of the height its modifier class gives.
fn table(class: &'static str, rows: u32) -> Bone {
    bone(class, rows as usize + 1, "skeleton__row")
}

/// The parts of a section type's placeholder, laid out with the content's own layout classes
/// (`chart-grid`, `facts`, `insights`, `risk-grid`) so that it takes the content's height at every
/// width; `items` is how many cards or rows the content lists (the appendix shows a page of them).
/// Without a count the section has nothing to draw yet, and shows one line saying so.
fn bones(section_type: &str, items: Option<u32>) -> Vec<Bone> {
    let lines = |n| (0..n).map(|_| LINE);
    let Some(items) = items else {
        return vec![LINE];
    };
    match section_type {
        "executive_summary" => [SHORT_LINE, SHORT_LINE]
            .into_iter()
            .chain(lines(4))
            .chain([table("skeleton__table", 5)])
            .collect(),
        "key_metrics" => vec![bone("kpis", 7, "skeleton__tile")],
        "ai_insights" => vec![
            SHORT_LINE,
            bone("insights", items.max(1) as usize, "skeleton__card"),
        ],
        "monte_carlo" => vec![
            bone("skeleton__control", 0, ""),
            bone("facts facts--wide", 8, "skeleton__fact"),
            LINE,
            bone("chart-grid", 4, "skeleton__plot"),
            bone("skeleton__heading", 0, ""),
            LINE,
            bone("skeleton__plot skeleton__plot--tornado", 0, ""),
            bone("skeleton__heading", 0, ""),
            table("skeleton__table", items),
        ],
        "charts" => vec![bone(
            "chart-grid skeleton__plots--legend",
            2,
            "skeleton__plot",
        )],
        "milestones" => vec![table("skeleton__table", items.max(1))],
        "risks" => vec![
            bone("risk-grid", 1, "skeleton__heatmap"),
            table("skeleton__table skeleton__table--risks", items.max(1)),
        ],
        "appendix" => vec![
            table(
                "skeleton__table skeleton__table--tasks",
                items.clamp(1, content::TASKS_PER_PAGE as u32),
            ),
            bone("skeleton__control", 0, ""),
        ],
        _ => lines(3).collect(),
    }
}

/// A placeholder of the section's shape ([`bones`]): lines for text, boxes for tiles, cards and
/// charts, rows for tables.
#[component]
fn SectionSkeleton(section_type: String, items: Option<u32>) -> impl IntoView {
    let parts = bones(&section_type, items);
    view! {
        <div class=format!("skeleton skeleton--{section_type}") aria-hidden="true">
            {parts.into_iter().map(|b| view! {
                <div class=b.class>{(0..b.parts).map(|_| view! { <div class=b.part></div> }).collect_view()}</div>
            }).collect_view()}
        </div>
    }
}

/// What a failed section shows: the message and a Retry button.
#[component]
fn SectionError(errors: ArcRwSignal<Errors>, retry: Callback<()>) -> impl IntoView {
    let message = move || {
        errors
            .get()
            .iter()
            .map(|(_, e)| e.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! {
        <div class="notice notice--error section-error" role="alert">
            <p><strong>"This section could not be loaded. "</strong>{message}</p>
            <button type="button" class="button" on:click=move |_| retry.run(())>"Retry"</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::bones;

    #[test]
    fn placeholders_draw_what_the_content_lists() {
        // The appendix shows a page of 20 tasks: a header row and 20 rows, however many tasks.
        let appendix = bones("appendix", Some(120));
        assert_eq!(appendix[0].parts, 21);
        assert_eq!(bones("appendix", Some(3))[0].parts, 4);
        // One card per insight; the Monte Carlo table has a row per critical task.
        assert_eq!(bones("ai_insights", Some(7))[1].parts, 7);
        assert_eq!(
            bones("monte_carlo", Some(25)).last().map(|b| b.parts),
            Some(26)
        );
        // Nothing generated yet: one line, like the message the section will show.
        let empty = bones("monte_carlo", None);
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].class, "skeleton__line");
    }
}
