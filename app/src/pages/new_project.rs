//! Creating a project, at `/admin/projects/new` (admins, and editors an admin allowed to, who become
//! members of what they create), from one of three starts:
//! - a scheduling tool's file (Microsoft Project XML or Primavera P6 XER): the code, and a name and
//!   manager if not the file's; the rest comes from the file, previewed before it is created (the
//!   project page's import card, `project_import.rs`);
//! - a plan file chosen in the browser (the `pmr.project/v1` JSON an export gives, or a CSV task
//!   list), or
//! - the task list typed in as CSV;
//!
//! with, for the last two, its name, code, manager, currency, dates, budget and calendar (working
//! days, holidays, reporting day). Checked as it is typed; the server checks the plan as the import
//! does and lists every problem with its place. Anyone else gets a 403 page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::project_import::{ImportTarget, ScheduleImportCard};
use crate::api::{create_project, get_project_codes};
use crate::components::{ErrorNotice, FormProblems, Skeleton};
use crate::planning::{
    check_new_project, NewProject, PlanFormat, ProjectCalendar, LAST_DAY, WEEKDAYS,
};
use crate::progress::parse_number;

/// The CSV header a typed plan starts with.
const CSV_HEADER: &str = "wbs,name,owner,optimistic_days,most_likely_days,pessimistic_days,planned_start,planned_finish,budgeted_cost,actual_cost,percent_complete,actual_start,actual_finish,predecessors";

/// Dates typed one per line or separated by commas (or spaces).
fn split_dates(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|d| !d.is_empty())
        .map(String::from)
        .collect()
}

/// The page.
#[component]
pub fn NewProjectPage() -> impl IntoView {
    // Admins and the editors an admin allowed to: the codes in use are refused (403) to anyone else,
    // which makes this page a 403. An editor gets no codes (they would tell of projects out of reach);
    // the server says so if the code is taken.
    let codes = Resource::new(|| (), |_| get_project_codes());
    view! {
        <Title text="New project"/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <A href="/">"Portfolio"</A>
            " › "
            <span aria-current="page">"New project"</span>
        </nav>
        <div class="page-head">
            <h1>"New project"</h1>
        </div>
        <Suspense fallback=|| view! { <Skeleton lines=8 label="Loading"/> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    codes.await.map(|codes| view! { <NewProjectForm codes/> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// Reads the chosen file of a file input: its name and text.
#[cfg(feature = "hydrate")]
async fn read_chosen_file(
    input: leptos::web_sys::HtmlInputElement,
) -> Result<(String, String), String> {
    let file = input
        .files()
        .and_then(|files| files.get(0))
        .ok_or_else(|| "No file was chosen.".to_string())?;
    if file.size() > crate::planning::MAX_PLAN_BYTES as f64 {
        return Err(format!(
            "{} is larger than {} KB: import it with the API (POST /api/projects/import).",
            file.name(),
            crate::planning::MAX_PLAN_BYTES / 1024
        ));
    }
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|_| format!("{} could not be read.", file.name()))?;
    Ok((file.name(), text.as_string().unwrap_or_default()))
}

/// Where the new project's plan comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A scheduling tool's file, imported as it is.
    Scheduler,
    /// A `pmr.project/v1` JSON or CSV file.
    PlanFile,
    /// The task list typed in as CSV.
    Typed,
}

/// The form.
#[component]
fn NewProjectForm(codes: Vec<String>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let manager = RwSignal::new(String::new());
    let currency = RwSignal::new("EUR".to_string());
    let start_date = RwSignal::new(String::new());
    let target_finish = RwSignal::new(String::new());
    let budget = RwSignal::new(String::new());
    let source = RwSignal::new(Source::Scheduler);
    let from_file = Memo::new(move |_| source.get() == Source::PlanFile);
    let file_name = RwSignal::new(None::<String>);
    let file_text = RwSignal::new(String::new());
    let file_error = RwSignal::new(None::<String>);
    let typed = RwSignal::new(format!("{CSV_HEADER}\n"));
    let week = RwSignal::new(ProjectCalendar::default().week());
    let holidays = RwSignal::new(String::new());
    let reporting_day = RwSignal::new(LAST_DAY);

    let form = Memo::new(move |_| {
        let (format, plan) = if from_file.get() {
            let lower = file_name.get().unwrap_or_default().to_ascii_lowercase();
            let json =
                lower.ends_with(".json") || file_text.with(|t| t.trim_start().starts_with('{'));
            (
                if json {
                    PlanFormat::Json
                } else {
                    PlanFormat::Csv
                },
                file_text.get(),
            )
        } else {
            (PlanFormat::Csv, typed.get())
        };
        NewProject {
            code: code.get().trim().to_string(),
            name: name.get(),
            manager: manager.get(),
            currency: currency.get().trim().to_ascii_uppercase(),
            start_date: start_date.get(),
            target_finish: target_finish.get(),
            budget_at_completion: budget
                .with(|b| (!b.trim().is_empty()).then(|| parse_number(b).unwrap_or(f64::NAN))),
            calendar: ProjectCalendar {
                working_days: WEEKDAYS
                    .iter()
                    .zip(week.get())
                    .filter(|(_, on)| *on)
                    .map(|(d, _)| d.to_string())
                    .collect(),
                holidays: holidays.with(|h| split_dates(h)),
                reporting_day: reporting_day.get(),
            }
            .tidy(),
            format,
            plan,
        }
    });
    let touched = RwSignal::new(false);
    // What stops a project being created from a scheduler's file: its code; a name or manager
    // typed in, if any.
    let taken = codes.clone();
    let blocked = Signal::derive(move || {
        let code = code.get().trim().to_string();
        let mut list = Vec::new();
        if code.is_empty() {
            list.push("Type the project's code.".to_string());
        } else if let Err(e) = crate::project::check_project_code(&code) {
            list.push(format!("Code: {e}"));
        } else if taken.iter().any(|c| c.eq_ignore_ascii_case(&code)) {
            list.push(format!("A project with code {code} exists already."));
        }
        for (label, value) in [("Name", name), ("Manager", manager)] {
            if value.with(|v| v.trim().chars().count()) > crate::import::MAX_FIELD_CHARS {
                list.push(format!(
                    "{label}: at most {} characters.",
                    crate::import::MAX_FIELD_CHARS
                ));
            }
        }
        list
    });
    let problems = Memo::new(move |_| {
        let f = form.get();
        let mut list = check_new_project(&f);
        if codes.iter().any(|c| c.eq_ignore_ascii_case(&f.code)) {
            list.push(format!("A project with code {} exists already.", f.code));
        }
        if let Some(e) = file_error.get() {
            list.push(e);
        }
        list
    });
    let create = Action::new(move |project: &NewProject| {
        let project = project.clone();
        async move { create_project(project).await }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            navigate(&format!("/projects/{}", created.code), Default::default());
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            leptos::task::spawn_local(async move {
                match read_chosen_file(input).await {
                    Ok((name, text)) => {
                        file_error.set(None);
                        file_name.set(Some(name));
                        file_text.set(text);
                    }
                    Err(e) => {
                        file_name.set(None);
                        file_text.set(String::new());
                        file_error.set(Some(e));
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let text_field = move |label: &'static str,
                           value: RwSignal<String>,
                           kind: &'static str,
                           hint: &'static str| {
        view! {
            <label class="field">
                <span class="field__label">{label}</span>
                <input type=kind required={kind != "number"} placeholder=hint
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    let optional_field = move |label: &'static str, value: RwSignal<String>, hint: &'static str| {
        view! {
            <label class="field">
                <span class="field__label">{label}</span>
                <input type="text" placeholder=hint
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    let choice = move |value: Source, label: &'static str| {
        view! {
            <label class="check">
                <input type="radio" name="source" prop:checked=move || source.get() == value
                    on:change=move |_| source.set(value)/>
                {label}
            </label>
        }
    };
    view! {
        <form class="form card" on:submit=move |ev| {
            ev.prevent_default();
            // A scheduler's file is sent by its own button, after its preview.
            if source.get_untracked() == Source::Scheduler {
                return;
            }
            touched.set(true);
            if problems.read_untracked().is_empty() {
                create.dispatch(form.get_untracked());
            }
        }>
            <fieldset class="segmented">
                <legend class="field__label">"Start from"</legend>
                {choice(Source::Scheduler, "A scheduler's file (Microsoft Project .xml, Primavera P6 .xer)")}
                {choice(Source::PlanFile, "A file (JSON export or CSV task list)")}
                {choice(Source::Typed, "Type the task list (CSV)")}
            </fieldset>
            {move || if source.get() == Source::Scheduler {
                view! {
                    <h2>"The project"</h2>
                    <div class="form-row">
                        {text_field("Code", code, "text", "e.g. WH2")}
                        {optional_field("Name (blank: the file's)", name, "e.g. Warehouse extension")}
                        {optional_field("Manager (blank: the file's)", manager, "Who runs it")}
                    </div>
                    <ScheduleImportCard target=ImportTarget::Create {
                        code: code.into(),
                        name: name.into(),
                        manager: manager.into(),
                        blocked,
                    }/>
                }.into_any()
            } else {
                view! {
            <h2>"The project"</h2>
            <div class="form-row">
                {text_field("Code", code, "text", "e.g. WH2")}
                {text_field("Name", name, "text", "e.g. Warehouse extension")}
            </div>
            <div class="form-row">
                {text_field("Manager", manager, "text", "Who runs it")}
                {text_field("Currency", currency, "text", "EUR")}
                {text_field("Budget (blank: the tasks' total)", budget, "number", "")}
            </div>
            <div class="form-row">
                {text_field("Start", start_date, "date", "")}
                {text_field("Target finish", target_finish, "date", "")}
            </div>
            <h2>"Calendar"</h2>
            <fieldset class="weekdays">
                <legend class="field__label">"Working days"</legend>
                {WEEKDAYS.iter().enumerate().map(|(i, day)| {
                    let label = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i];
                    view! {
                        <label class="check">
                            <input type="checkbox" name=format!("day-{day}")
                                prop:checked=move || week.with(|w| w[i])
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    week.update(|w| w[i] = on);
                                }/>
                            {label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <div class="form-row">
                <label class="field">
                    <span class="field__label">"Holidays (YYYY-MM-DD, one per line or separated by commas)"</span>
                    <textarea class="holidays" rows="3" spellcheck="false" placeholder="2026-12-25"
                        prop:value=move || holidays.get()
                        on:input=move |ev| holidays.set(event_target_value(&ev))></textarea>
                </label>
                <label class="field">
                    <span class="field__label">"Reporting day (each month's status date)"</span>
                    <select on:change=move |ev| {
                        reporting_day.set(event_target_value(&ev).parse().unwrap_or(LAST_DAY));
                    }>
                        <option value=LAST_DAY.to_string() selected=move || reporting_day.get() == LAST_DAY>
                            "The month's last day"
                        </option>
                        {(1..=28u8).map(|d| view! {
                            <option value=d.to_string() selected=move || reporting_day.get() == d>
                                {format!("Day {d}")}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <p class="muted">"Durations, planned value and the risk analysis's dates count working days of this calendar; a month's report is true of its reporting day."</p>
            <h2>"The plan"</h2>
            {move || if from_file.get() {
                view! {
                    <label class="field">
                        <span class="field__label">"Plan file"</span>
                        <input type="file" accept=".json,.csv,application/json,text/csv" on:change=on_file/>
                        <span class="muted">{move || file_name.get().map(|n| format!("{n}: {} KB read", file_text.with(|t| t.len().div_ceil(1024))))}</span>
                    </label>
                }.into_any()
            } else {
                view! {
                    <label class="field">
                        <span class="field__label">"Tasks, one per line, after the header row"</span>
                        <textarea class="plan-text" rows="10" spellcheck="false"
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev))></textarea>
                    </label>
                }.into_any()
            }}
            <FormProblems problems touched
                refused=Signal::derive(move || create.value().get().and_then(|r| r.err()).map(|e| e.to_string()))/>
            <div class="form-actions">
                <button type="submit" class="button button--primary" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create the project" }}
                </button>
            </div>
                }.into_any()
            }}
        </form>
    }
}
