//! The progress page at `/projects/{code}/progress`: this month's progress typed (or pasted from a
//! spreadsheet) into a grid of the plan's tasks, milestones and risks, checked as it is typed, and
//! saved all at once as the project's progress on a status date (a new version; earlier ones are
//! kept). Enter and the arrow keys move between rows; Undo takes back the last change of a cell or
//! the last paste. A save that meets someone else's changes to the same cells says which, and can
//! load their version and keep this page's changes on top of it.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{get_progress, save_progress};
use crate::components::{ErrorNotice, Skeleton};
use crate::error::AppError;
use crate::format::readable_date;
use crate::progress::grid::{
    milestone_texts, read_milestone, read_risk, read_task, risk_texts, spread_paste, task_texts,
    Input, Table,
};
use crate::progress::{
    check_new_milestone, check_new_risk, parse_number, parse_paste, CellProblem, Edit,
    MilestoneProgress, NewRisk, ProgressMilestone, ProgressSave, ProgressSheet, RiskAssessment,
};

/// Most undo steps kept.
const UNDO_DEPTH: usize = 200;

/// Changes carried over a reload after a conflict: `(table, key, column) -> text`.
type Carried = HashMap<(Table, String, usize), String>;

/// One row of a table: its key, what it showed when loaded and its cells now.
#[derive(Clone)]
struct Row {
    key: String,
    /// Read-only columns shown before the editable ones.
    shown: Vec<String>,
    original: Vec<String>,
    cells: Vec<RwSignal<String>>,
}

impl Row {
    fn new(key: String, shown: Vec<String>, original: Vec<String>) -> Row {
        let cells = original.iter().map(|t| RwSignal::new(t.clone())).collect();
        Row {
            key,
            shown,
            original,
            cells,
        }
    }

    fn texts(&self) -> Vec<String> {
        self.cells.iter().map(|c| c.get()).collect()
    }

    fn changed(&self) -> bool {
        self.cells
            .iter()
            .zip(&self.original)
            .any(|(c, o)| c.with(|t| t.trim() != o.trim()))
    }
}

/// Milestones and risks a save adds or takes out, kept across a reload after a conflict.
#[derive(Clone, Copy)]
struct Additions {
    milestones: RwSignal<Vec<ProgressMilestone>>,
    risks: RwSignal<Vec<NewRisk>>,
    removed_milestones: RwSignal<Vec<String>>,
    removed_risks: RwSignal<Vec<String>>,
}

impl Additions {
    fn new() -> Self {
        Additions {
            milestones: RwSignal::new(Vec::new()),
            risks: RwSignal::new(Vec::new()),
            removed_milestones: RwSignal::new(Vec::new()),
            removed_risks: RwSignal::new(Vec::new()),
        }
    }

    fn count(&self) -> usize {
        self.milestones.read().len()
            + self.risks.read().len()
            + self.removed_milestones.read().len()
            + self.removed_risks.read().len()
    }

    fn clear(&self) {
        self.milestones.set(Vec::new());
        self.risks.set(Vec::new());
        self.removed_milestones.set(Vec::new());
        self.removed_risks.set(Vec::new());
    }
}

/// One undo step: the cells it changed, with their texts before.
type UndoStep = Vec<(RwSignal<String>, String)>;

/// The progress page.
#[component]
pub fn ProgressPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let carried = StoredValue::new(Carried::new());
    let sheet = Resource::new(
        move || (code(), reload.get()),
        |(code, _)| get_progress(code),
    );
    // Kept here, so a save's outcome stays on screen when the grid reloads after it.
    let outcome = RwSignal::new(None::<Result<String, AppError>>);
    let conflict = RwSignal::new(false);
    let additions = Additions::new();
    view! {
        <Transition fallback=|| view! { <Skeleton lines=10 label="Loading the plan"/> }>
            <ErrorBoundary fallback=move |errors| view! {
                <Title text="Progress unavailable"/>
                <ErrorNotice errors/>
                <A href=format!("/projects/{}", code()) attr:class="button">"Back to the project"</A>
            }>
                {move || Suspend::new(async move {
                    sheet.await.map(|sheet| view! { <Grid sheet reload carried outcome conflict additions/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

fn problem_text(table: Table, key: &str, p: &CellProblem) -> String {
    format!(
        "{} {key}, {}: {}",
        table.noun(),
        crate::progress::grid::field_label(p.field),
        p.message
    )
}

/// The loaded grid.
#[component]
fn Grid(
    sheet: ProgressSheet,
    reload: RwSignal<u32>,
    carried: StoredValue<Carried>,
    outcome: RwSignal<Option<Result<String, AppError>>>,
    conflict: RwSignal<bool>,
    additions: Additions,
) -> impl IntoView {
    let code = sheet.code.clone();
    let latest = sheet.records.first().map(|r| r.status_date.clone());
    let proposed = match &latest {
        Some(l) if *l > sheet.suggested_status_date => l.clone(),
        _ => sheet.suggested_status_date.clone(),
    };
    let status_date = RwSignal::new(proposed);
    let tasks: Vec<Row> = sheet
        .tasks
        .iter()
        .map(|t| {
            Row::new(
                t.wbs.clone(),
                vec![
                    t.wbs.clone(),
                    t.name.clone(),
                    readable_date(&t.planned_finish),
                ],
                task_texts(&t.progress),
            )
        })
        .collect();
    let milestones: Vec<Row> = sheet
        .milestones
        .iter()
        .map(|m| {
            Row::new(
                m.name.clone(),
                vec![m.name.clone(), readable_date(&m.baseline_date)],
                milestone_texts(&m.progress),
            )
        })
        .collect();
    let risks: Vec<Row> = sheet
        .risks
        .iter()
        .map(|r| {
            Row::new(
                r.title.clone(),
                vec![r.title.clone()],
                risk_texts(&r.assessment),
            )
        })
        .collect();
    // Changes kept from before a reload go back into their cells.
    carried.update_value(|kept| {
        for (table, rows) in [
            (Table::Tasks, &tasks),
            (Table::Milestones, &milestones),
            (Table::Risks, &risks),
        ] {
            for row in rows {
                for (i, cell) in row.cells.iter().enumerate() {
                    if let Some(text) = kept.remove(&(table, row.key.clone(), i)) {
                        cell.set(text);
                    }
                }
            }
        }
        kept.clear();
    });
    let undo = StoredValue::new(Vec::<UndoStep>::new());
    let push_undo = move |step: UndoStep| {
        if !step.is_empty() {
            undo.update_value(|u| {
                u.push(step);
                if u.len() > UNDO_DEPTH {
                    u.remove(0);
                }
            });
        }
    };
    let can_undo = RwSignal::new(false);
    let do_undo = move || {
        if let Some(step) = undo.try_update_value(|u| u.pop()).flatten() {
            for (cell, before) in step {
                cell.set(before);
            }
        }
        can_undo.set(undo.with_value(|u| !u.is_empty()));
    };

    let (t, m, r) = (tasks.clone(), milestones.clone(), risks.clone());
    let problems = Memo::new(move |_| {
        let day = status_date.get();
        let mut all = Vec::new();
        for row in &t {
            if let Err(ps) = read_task(&row.texts(), &day) {
                all.extend(ps.iter().map(|p| problem_text(Table::Tasks, &row.key, p)));
            }
        }
        let gone_m = additions.removed_milestones.get();
        let gone_r = additions.removed_risks.get();
        for row in m.iter().filter(|row| !gone_m.contains(&row.key)) {
            if let Err(ps) = read_milestone(&row.texts()) {
                all.extend(
                    ps.iter()
                        .map(|p| problem_text(Table::Milestones, &row.key, p)),
                );
            }
        }
        for row in r.iter().filter(|row| !gone_r.contains(&row.key)) {
            if let Err(ps) = read_risk(&row.texts()) {
                all.extend(ps.iter().map(|p| problem_text(Table::Risks, &row.key, p)));
            }
        }
        all
    });
    let (t, m, r) = (tasks.clone(), milestones.clone(), risks.clone());
    let changed = Memo::new(move |_| {
        let gone_m = additions.removed_milestones.get();
        let gone_r = additions.removed_risks.get();
        t.iter().filter(|r| r.changed()).count()
            + m.iter()
                .filter(|r| r.changed() && !gone_m.contains(&r.key))
                .count()
            + r.iter()
                .filter(|r| r.changed() && !gone_r.contains(&r.key))
                .count()
            + additions.count()
    });

    // "Saved as version N" is about the last save: once something more is changed it no longer
    // describes the grid, so it goes (a refusal stays until the next save). Only a rise counts: a
    // save's own clearing of what it added lowers the count before the grid reloads.
    Effect::new(move |previous: Option<usize>| {
        let now = changed.get();
        if previous.is_some_and(|p| now > p) && outcome.with_untracked(|o| matches!(o, Some(Ok(_))))
        {
            outcome.set(None);
        }
        now
    });

    let (t, m, r) = (tasks.clone(), milestones.clone(), risks.clone());
    let base = sheet.clone();
    let save = Action::new(move |save: &ProgressSave| {
        let save = save.clone();
        async move { save_progress(save).await }
    });
    let submit = move || {
        let day = status_date.get_untracked();
        let mut request = ProgressSave {
            code: base.code.clone(),
            status_date: day.clone(),
            base_version: base.version,
            tasks: Vec::new(),
            milestones: Vec::new(),
            risks: Vec::new(),
            added_milestones: additions.milestones.get_untracked(),
            added_risks: additions.risks.get_untracked(),
            removed_milestones: additions.removed_milestones.get_untracked(),
            removed_risks: additions.removed_risks.get_untracked(),
        };
        for (row, loaded) in t.iter().zip(&base.tasks) {
            if row.changed() {
                if let Ok(now) = read_task(&row.texts(), &day) {
                    request.tasks.push(Edit {
                        key: row.key.clone(),
                        was: loaded.progress.clone(),
                        now,
                    });
                }
            }
        }
        for (row, loaded) in m.iter().zip(&base.milestones) {
            if row.changed() && !request.removed_milestones.contains(&row.key) {
                if let Ok(now) = read_milestone(&row.texts()) {
                    request.milestones.push(Edit {
                        key: row.key.clone(),
                        was: loaded.progress.clone(),
                        now,
                    });
                }
            }
        }
        for (row, loaded) in r.iter().zip(&base.risks) {
            if row.changed() && !request.removed_risks.contains(&row.key) {
                if let Ok(now) = read_risk(&row.texts()) {
                    request.risks.push(Edit {
                        key: row.key.clone(),
                        was: loaded.assessment.clone(),
                        now,
                    });
                }
            }
        }
        outcome.set(None);
        save.dispatch(request);
    };
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            match result {
                Ok(saved) => {
                    conflict.set(false);
                    outcome.set(Some(Ok(format!(
                        "Saved as version {} of the plan, for {}{}.",
                        saved.version,
                        readable_date(&saved.status_date),
                        if saved.merged_with_others {
                            ", beside changes others saved meanwhile"
                        } else {
                            ""
                        }
                    ))));
                    // The saved state is the new starting point.
                    additions.clear();
                    reload.update(|n| *n += 1);
                }
                Err(e) => {
                    conflict.set(matches!(e, AppError::Conflict(_)));
                    outcome.set(Some(Err(e)));
                }
            }
        }
    });
    let (t, m, r) = (tasks.clone(), milestones.clone(), risks.clone());
    let keep_and_reload = Callback::new(move |()| {
        carried.update_value(|kept| {
            for (table, rows) in [
                (Table::Tasks, &t),
                (Table::Milestones, &m),
                (Table::Risks, &r),
            ] {
                for row in rows.iter().filter(|row| row.changed()) {
                    for (i, cell) in row.cells.iter().enumerate() {
                        if cell.with_untracked(|c| c.trim() != row.original[i].trim()) {
                            kept.insert((table, row.key.clone(), i), cell.get_untracked());
                        }
                    }
                }
            }
        });
        outcome.set(None);
        conflict.set(false);
        reload.update(|n| *n += 1);
    });

    let title = format!("Progress · {}", sheet.code);
    let records = sheet.records.clone();
    let table_view = move |table: Table,
                           rows: Vec<Row>,
                           headings: Vec<&'static str>,
                           removed: Option<RwSignal<Vec<String>>>| {
        view! {
            <GridTable table rows headings push_undo can_undo status_date removed/>
        }
    };
    let milestone_names: Vec<String> = sheet.milestones.iter().map(|m| m.name.clone()).collect();
    let risk_titles: Vec<String> = sheet.risks.iter().map(|r| r.title.clone()).collect();
    let wbs_codes: Vec<String> = sheet.tasks.iter().map(|t| t.wbs.clone()).collect();
    view! {
        <Title text=title/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <A href="/">"Portfolio"</A>
            " › "
            <A href=format!("/projects/{code}")>{code.clone()}</A>
            " › "
            <span aria-current="page">"Progress"</span>
        </nav>
        <div class="page-head">
            <h1>"Record progress: " {sheet.name.clone()}</h1>
        </div>
        <p class="muted">
            "Type this month's figures or paste them from a spreadsheet (a block of cells, starting at the cell you paste into). "
            "Enter and the arrow keys move between rows. Nothing is stored until you save; each save is kept as a new version."
        </p>
        <form class="progress-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            // The date, the buttons and what saving said stay in view under the site header while
            // the grid scrolls (CSS: sticky).
            <div class="progress-form__bar">
                <div class="form-row">
                    <label class="field">
                        <span class="field__label">"Status date"</span>
                        <input type="date" required
                            prop:value=move || status_date.get()
                            on:change=move |ev| status_date.set(event_target_value(&ev))/>
                    </label>
                    <div class="form-actions">
                        <button type="button" class="button" disabled=move || !can_undo.get() on:click=move |_| do_undo()>"Undo"</button>
                        <button type="submit" class="button button--primary"
                            disabled=move || save.pending().get() || changed.get() == 0 || !problems.read().is_empty()>
                            {move || if save.pending().get() { "Saving…".to_string() } else {
                                match changed.get() { 0 => "Save".to_string(), 1 => "Save 1 changed row".to_string(), n => format!("Save {n} changed rows") }
                            }}
                        </button>
                    </div>
                </div>
                {move || {
                    let list = problems.get();
                    (!list.is_empty()).then(|| view! {
                        // Focusable: in the bar it scrolls past a few lines.
                        <div class="notice notice--error" role="alert" data-testid="grid-problems" tabindex="0">
                            <strong>{format!("{} cell{} to fix before saving:", list.len(), if list.len() == 1 { "" } else { "s" })}</strong>
                            <ul>{list.into_iter().take(20).map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                        </div>
                    })
                }}
                {move || outcome.get().map(|o| match o {
                    Ok(text) => view! { <p class="notice notice--ok" role="status">{text}</p> }.into_any(),
                    Err(e) => view! {
                        <div class="notice notice--error" role="alert">
                            <p>{e.to_string()}</p>
                            {move || conflict.get().then(|| view! {
                                <button type="button" class="button" on:click=move |_| keep_and_reload.run(())>
                                    "Load their version and keep my changes"
                                </button>
                            })}
                        </div>
                    }.into_any(),
                })}
            </div>
            <section class="card" aria-labelledby="tasks-heading">
                <h2 id="tasks-heading">"Tasks"</h2>
                {table_view(Table::Tasks, tasks, vec!["WBS", "Task", "Planned finish"], None)}
            </section>
            <section class="card" aria-labelledby="milestones-heading">
                <h2 id="milestones-heading">"Milestones"</h2>
                {table_view(Table::Milestones, milestones, vec!["Milestone", "Baseline"], Some(additions.removed_milestones))}
                <AddMilestone added=additions.milestones existing=milestone_names/>
            </section>
            <section class="card" aria-labelledby="risks-heading">
                <h2 id="risks-heading">"Risks"</h2>
                {table_view(Table::Risks, risks, vec!["Risk"], Some(additions.removed_risks))}
                <AddRisk added=additions.risks existing=risk_titles tasks=wbs_codes/>
            </section>
        </form>
        <section class="card" aria-labelledby="versions-heading">
            <h2 id="versions-heading">"Recorded versions"</h2>
            {if records.is_empty() {
                view! { <p class="muted">"Nothing recorded yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list">
                        {records.into_iter().map(|r| view! {
                            <li>
                                <strong>{format!("Version {}", r.version)}</strong>
                                {format!(" · status date {} · by {} · {}", readable_date(&r.status_date), r.recorded_by, readable_date(r.recorded_at.get(..10).unwrap_or("")))}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// The id of a cell's input, for moving between rows.
fn cell_id(table: Table, row: usize, column: usize) -> String {
    format!("cell-{}-{row}-{column}", table.noun())
}

/// Moves the focus to a cell, if it exists.
fn focus_cell(table: Table, row: usize, column: usize) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(el) = document()
        .get_element_by_id(&cell_id(table, row, column))
        .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
        // The browser scrolls a cell into view only when it is outside the window: one under the
        // sticky bar (and the header above it), reached by ArrowUp, is brought out from under them.
        #[cfg(feature = "hydrate")]
        if let Some(bar) = document()
            .query_selector(".progress-form__bar")
            .ok()
            .flatten()
        {
            let covered =
                bar.get_bounding_client_rect().bottom() - el.get_bounding_client_rect().top();
            if covered > 0.0 {
                window().scroll_by_with_x_and_y(0.0, -(covered + 8.0));
            }
        }
    }
}

/// The text on the clipboard of a paste event.
fn pasted_text(ev: &leptos::ev::ClipboardEvent) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        ev.clipboard_data()
            .and_then(|d| d.get_data("text/plain").ok())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        None
    }
}

/// One of the grid's tables.
#[component]
fn GridTable(
    table: Table,
    rows: Vec<Row>,
    headings: Vec<&'static str>,
    push_undo: impl Fn(UndoStep) + Copy + Send + Sync + 'static,
    can_undo: RwSignal<bool>,
    status_date: RwSignal<String>,
    /// Keys of the rows the save takes out of the plan, for tables whose rows can be removed.
    removed: Option<RwSignal<Vec<String>>>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">{format!("The plan has no {}s.", table.noun())}</p> }
            .into_any();
    }
    let columns = table.columns();
    let count = rows.len();
    let all = StoredValue::new(rows.clone());
    view! {
        <div class="grid-scroll">
            <table class="data-table data-table--compact progress-grid">
                <thead>
                    <tr>
                        {headings.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}
                        {columns.iter().map(|c| view! { <th scope="col">{c.label}</th> }).collect_view()}
                        {removed.map(|_| view! { <th scope="col">"Remove"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().enumerate().map(|(i, row)| {
                        let label = format!("{} {}", table.noun(), row.key);
                        let shown = row.shown.clone();
                        let changed_row = row.clone();
                        let texts_row = row.clone();
                        // The fields of this row that fail a check, for `aria-invalid`.
                        let fields = Memo::new(move |_| {
                            let day = status_date.get();
                            let texts = texts_row.texts();
                            let problems = match table {
                                Table::Tasks => read_task(&texts, &day).err(),
                                Table::Milestones => read_milestone(&texts).err(),
                                Table::Risks => read_risk(&texts).err(),
                            };
                            problems.unwrap_or_default().into_iter().map(|p| p.field).collect::<Vec<_>>()
                        });
                        let key = row.key.clone();
                        let is_removed = {
                            let key = key.clone();
                            move || removed.is_some_and(|r| r.read().contains(&key))
                        };
                        let remove_cell = removed.map(|list| {
                            let key = key.clone();
                            let checked = is_removed.clone();
                            view! {
                                <td class="progress-grid__remove">
                                    <input type="checkbox" aria-label=format!("Remove {label}")
                                        prop:checked=checked
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            list.update(|l| {
                                                l.retain(|k| *k != key);
                                                if on {
                                                    l.push(key.clone());
                                                }
                                            });
                                        }/>
                                </td>
                            }
                        });
                        view! {
                            <tr class:progress-grid__changed=move || changed_row.changed()
                                class:progress-grid__removed=is_removed>
                                {shown.into_iter().enumerate().map(|(k, s)| if k == 0 {
                                    view! { <th scope="row">{s}</th> }.into_any()
                                } else {
                                    view! { <td>{s}</td> }.into_any()
                                }).collect_view()}
                                {columns.iter().enumerate().map(|(j, column)| {
                                    let cell = row.cells[j];
                                    let before = StoredValue::new(String::new());
                                    let aria = format!("{label} {}", column.label);
                                    let id = cell_id(table, i, j);
                                    let on_focus = move |_| before.set_value(cell.get_untracked());
                                    let on_change = move |_| {
                                        let old = before.get_value();
                                        if cell.with_untracked(|c| *c != old) {
                                            push_undo(vec![(cell, old)]);
                                            can_undo.set(true);
                                            before.set_value(cell.get_untracked());
                                        }
                                    };
                                    let on_key = move |ev: leptos::ev::KeyboardEvent| {
                                        let target = match ev.key().as_str() {
                                            "Enter" | "ArrowDown" => Some(i + 1),
                                            "ArrowUp" => i.checked_sub(1),
                                            _ => return,
                                        };
                                        ev.prevent_default();
                                        if let Some(next) = target.filter(|n| *n < count) {
                                            focus_cell(table, next, j);
                                        }
                                    };
                                    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
                                        let Some(text) = pasted_text(&ev) else { return };
                                        if !text.contains(['\t', '\n']) {
                                            return;
                                        }
                                        ev.prevent_default();
                                        let block = parse_paste(&text, count);
                                        let placed = spread_paste(&block, i, j, count, columns.len());
                                        let step: UndoStep = all.with_value(|rows| {
                                            placed.into_iter().map(|(r, c, text)| {
                                                let target = rows[r].cells[c];
                                                let old = target.get_untracked();
                                                target.set(text);
                                                (target, old)
                                            }).collect()
                                        });
                                        push_undo(step);
                                        can_undo.set(true);
                                    };
                                    let field = column.field;
                                    let invalid = move || if fields.read().contains(&field) { "true" } else { "false" };
                                    match column.input {
                                        Input::Status => view! {
                                            <td>
                                                <select id=id aria-label=aria
                                                    prop:value=move || cell.get()
                                                    on:focus=on_focus
                                                    on:change=move |ev| { cell.set(event_target_value(&ev)); on_change(()); }>
                                                    <option value="open">"open"</option>
                                                    <option value="mitigating">"mitigating"</option>
                                                    <option value="closed">"closed"</option>
                                                </select>
                                            </td>
                                        }.into_any(),
                                        input => view! {
                                            <td>
                                                <input id=id aria-label=aria aria-invalid=invalid
                                                    class=match input { Input::Number => "cell cell--number", Input::Date => "cell cell--date", _ => "cell cell--text" }
                                                    inputmode=if input == Input::Number { "decimal" } else { "text" }
                                                    placeholder=if input == Input::Date { "YYYY-MM-DD" } else { "" }
                                                    prop:value=move || cell.get()
                                                    on:focus=on_focus
                                                    on:input=move |ev| cell.set(event_target_value(&ev))
                                                    on:change=move |_| on_change(())
                                                    on:keydown=on_key
                                                    on:paste=on_paste/>
                                            </td>
                                        }.into_any(),
                                    }
                                }).collect_view()}
                                {remove_cell}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A problem list of a row to add, as one sentence per problem.
fn problem_lines(noun: &str, key: &str, problems: &[CellProblem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            // A row without its name yet is "New risk", not "New risk , …".
            let named = if key.is_empty() {
                String::new()
            } else {
                format!(" {key}")
            };
            format!(
                "New {noun}{named}, {}: {}",
                crate::progress::grid::field_label(p.field),
                p.message
            )
        })
        .collect()
}

/// Adds milestones to the plan with the next save: name, baseline and forecast.
#[component]
fn AddMilestone(added: RwSignal<Vec<ProgressMilestone>>, existing: Vec<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let baseline = RwSignal::new(String::new());
    let forecast = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let add = move |_| {
        let milestone = ProgressMilestone {
            name: name.get_untracked().trim().to_string(),
            baseline_date: baseline.get_untracked(),
            progress: MilestoneProgress {
                forecast_date: forecast.get_untracked(),
                actual_date: None,
            },
        };
        let mut found = problem_lines(
            "milestone",
            &milestone.name,
            &check_new_milestone(&milestone),
        );
        let taken = existing.contains(&milestone.name)
            || added.with_untracked(|a| a.iter().any(|m| m.name == milestone.name));
        if taken {
            found.push(format!(
                "The plan has a milestone called {} already.",
                milestone.name
            ));
        }
        if found.is_empty() {
            added.update(|a| a.push(milestone));
            for field in [name, baseline, forecast] {
                field.set(String::new());
            }
        }
        problems.set(found);
    };
    view! {
        <div class="add-rows" role="group" aria-label="Add a milestone">
            <h3>"Add a milestone"</h3>
            <div class="form-row">
                <label class="field">
                    <span class="field__label">"Milestone"</span>
                    <input type="text" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span class="field__label">"Baseline date"</span>
                    <input type="date" prop:value=move || baseline.get() on:input=move |ev| baseline.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span class="field__label">"Forecast date"</span>
                    <input type="date" prop:value=move || forecast.get() on:input=move |ev| forecast.set(event_target_value(&ev))/>
                </label>
                <div class="form-actions">
                    <button type="button" class="button" on:click=add>"Add the milestone"</button>
                </div>
            </div>
            <AddProblems problems/>
            <AddedList
                items=Signal::derive(move || added.read().iter().map(|m| (
                    m.name.clone(),
                    format!(" · baseline {} · forecast {}", readable_date(&m.baseline_date), readable_date(&m.progress.forecast_date)),
                )).collect())
                remove=Callback::new(move |key: String| added.update(|a| a.retain(|x| x.name != key)))/>
        </div>
    }
}

/// Adds risks to the plan with the next save.
#[component]
fn AddRisk(
    added: RwSignal<Vec<NewRisk>>,
    existing: Vec<String>,
    tasks: Vec<String>,
) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let probability = RwSignal::new(String::new());
    let cost = RwSignal::new(String::new());
    let delay = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let response = RwSignal::new(String::new());
    let affects = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let add = move |_| {
        let mut found = Vec::new();
        let mut number = |field: &str, text: String| {
            parse_number(&text).unwrap_or_else(|| {
                found.push(format!(
                    "New risk, {}: must be a number, not '{}'.",
                    crate::progress::grid::field_label(field),
                    text.trim()
                ));
                0.0
            })
        };
        let assessment = RiskAssessment {
            probability: number("probability", probability.get_untracked()),
            cost_impact: number("cost_impact", cost.get_untracked()),
            schedule_impact_days: number("schedule_impact_days", delay.get_untracked()),
            owner: owner.get_untracked().trim().to_string(),
            mitigation: response.get_untracked().trim().to_string(),
            status: "open".into(),
        };
        let risk = NewRisk {
            title: title.get_untracked().trim().to_string(),
            assessment,
            affected_tasks: affects
                .get_untracked()
                .split([',', ';', ' '])
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
        };
        found.extend(problem_lines("risk", &risk.title, &check_new_risk(&risk)));
        for wbs in risk.affected_tasks.iter().filter(|w| !tasks.contains(w)) {
            found.push(format!("The plan has no task {wbs}."));
        }
        let taken = existing.contains(&risk.title)
            || added.with_untracked(|a| a.iter().any(|r| r.title == risk.title));
        if taken {
            found.push(format!(
                "The plan has a risk titled {} already.",
                risk.title
            ));
        }
        if found.is_empty() {
            added.update(|a| a.push(risk));
            for field in [title, probability, cost, delay, owner, response, affects] {
                field.set(String::new());
            }
        }
        problems.set(found);
    };
    let field = move |label: &'static str, value: RwSignal<String>, kind: &'static str| {
        view! {
            <label class="field">
                <span class="field__label">{label}</span>
                <input type="text" inputmode=kind prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <div class="add-rows" role="group" aria-label="Add a risk">
            <h3>"Add a risk"</h3>
            <div class="form-row">
                {field("Risk", title, "text")}
                {field("Probability (0–1)", probability, "decimal")}
                {field("Cost impact", cost, "decimal")}
                {field("Delay (days)", delay, "decimal")}
            </div>
            <div class="form-row">
                {field("Owner", owner, "text")}
                {field("Response", response, "text")}
                {field("Affects (WBS codes)", affects, "text")}
                <div class="form-actions">
                    <button type="button" class="button" on:click=add>"Add the risk"</button>
                </div>
            </div>
            <AddProblems problems/>
            <AddedList
                items=Signal::derive(move || added.read().iter().map(|r| (
                    r.title.clone(),
                    format!(" · probability {} · affects {}", r.assessment.probability,
                        if r.affected_tasks.is_empty() { "the whole project".to_string() } else { r.affected_tasks.join(", ") }),
                )).collect())
                remove=Callback::new(move |key: String| added.update(|a| a.retain(|x| x.title != key)))/>
        </div>
    }
}

/// The rows the next save adds, each with an Undo: `(name, details)`.
#[component]
fn AddedList(items: Signal<Vec<(String, String)>>, remove: Callback<String>) -> impl IntoView {
    move || {
        let list = items.get();
        (!list.is_empty()).then(|| {
            view! {
                <ul class="plain-list added-rows">
                    {list.into_iter().map(|(name, details)| {
                        let key = name.clone();
                        view! {
                            <li>
                                <strong>{format!("New: {name}")}</strong>
                                {details}
                                " "
                                <button type="button" class="button button--small"
                                    aria-label=format!("Do not add {name}")
                                    on:click=move |_| remove.run(key.clone())>
                                    "Undo"
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
        })
    }
}

/// Why a row was not added.
#[component]
fn AddProblems(problems: RwSignal<Vec<String>>) -> impl IntoView {
    move || {
        let list = problems.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="notice notice--error" role="alert">
                    <ul>{list.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                </div>
            }
        })
    }
}
