//! A scheduling tool's file (Microsoft Project XML, `.xml`; Primavera P6, `.xer`), chosen in the
//! browser and sent as it is to `POST /api/projects/import`: on the project page of an editor
//! ("Bring your schedule", the plan replaced), and on the new-project page (a project created from
//! it). First a preview (a dry run: what would be imported, the estimates' source, every warning with
//! its place, the projects of a P6 file to choose from, or the problems that refuse it), then "Replace
//! the plan" or "Create the project", which imports it as of today and opens the project's page with a
//! notice of what was imported.

use leptos::prelude::*;

use crate::import::{ImportRefusal, ScheduleImport};

/// What the file becomes.
#[derive(Clone)]
pub enum ImportTarget {
    /// The plan of this project, replaced.
    Replace(String),
    /// A new project: the code, name and manager typed on the page (a blank name or manager: the
    /// file's), and what stops it being created yet (the fields' problems).
    Create {
        code: Signal<String>,
        name: Signal<String>,
        manager: Signal<String>,
        blocked: Signal<Vec<String>>,
    },
}

impl ImportTarget {
    /// The import's address: a preview of a new project goes without a code (it may not be typed
    /// yet).
    fn url(&self, p6_project: &str, dry_run: bool) -> String {
        let enc = crate::format::percent_encode_path;
        let mut url = format!("/api/projects/import?dry_run={dry_run}");
        match self {
            ImportTarget::Replace(code) => url.push_str(&format!("&code={}", enc(code))),
            ImportTarget::Create {
                code,
                name,
                manager,
                ..
            } if !dry_run => {
                url.push_str(&format!("&code={}", enc(code.get_untracked().trim())));
                for (key, value) in [("name", name), ("manager", manager)] {
                    let value = value.get_untracked();
                    if !value.trim().is_empty() {
                        url.push_str(&format!("&{key}={}", enc(value.trim())));
                    }
                }
            }
            ImportTarget::Create { .. } => {}
        }
        if !p6_project.is_empty() {
            url.push_str(&format!("&p6_project={}", enc(p6_project)));
        }
        url
    }
}

/// The card.
#[component]
pub fn ScheduleImportCard(target: ImportTarget) -> impl IntoView {
    let creating = matches!(target, ImportTarget::Create { .. });
    let blocked = match &target {
        ImportTarget::Create { blocked, .. } => *blocked,
        ImportTarget::Replace(_) => Signal::derive(Vec::new),
    };
    let input = NodeRef::<leptos::html::Input>::new();
    let chosen = RwSignal::new(None::<String>);
    let p6 = RwSignal::new(String::new());
    let preview = RwSignal::new(None::<Result<ScheduleImport, ImportRefusal>>);
    let applying = RwSignal::new(None::<ImportRefusal>);
    // What is being done ("Reading…", "Replacing…"), if anything.
    let busy = RwSignal::new(None::<&'static str>);
    // The projects of the chosen P6 file: kept until another file is chosen, whatever the answers.
    let projects = RwSignal::new(Vec::<crate::import::P6Project>::new());
    // Each request's number: an answer to anything but the latest is dropped, so a slow preview
    // of an earlier file or choice never stands for the current one.
    let generation = RwSignal::new(0u64);

    // Sends the chosen file: a dry run, or the import itself.
    let send = {
        let target = target.clone();
        move |dry_run: bool| {
            let Some(element) = input.get_untracked() else {
                return;
            };
            let choice = p6.get_untracked();
            let url = target.url(&choice, dry_run);
            let mine = generation.get_untracked() + 1;
            generation.set(mine);
            busy.set(Some(match (dry_run, creating) {
                (true, _) => "Reading…",
                (false, true) => "Creating…",
                (false, false) => "Replacing…",
            }));
            leptos::task::spawn_local(async move {
                let answer = send_file(element, &url).await;
                if generation.get_untracked() != mine {
                    return;
                }
                busy.set(None);
                let listed = match &answer {
                    Ok(found) => found.p6_projects.clone(),
                    Err(refusal) => refusal.p6_projects.clone(),
                };
                if !listed.is_empty() && projects.with_untracked(Vec::is_empty) {
                    if choice.is_empty() {
                        p6.set(listed[0].id.clone());
                    }
                    projects.set(listed);
                }
                match (dry_run, answer) {
                    (true, answer) => preview.set(Some(answer)),
                    (false, Ok(done)) => open_with_notice(&done),
                    (false, Err(refusal)) => applying.set(Some(refusal)),
                }
            });
        }
    };
    let preview_now = send.clone();
    let apply_now = send;
    let on_file = move || {
        preview.set(None);
        applying.set(None);
        p6.set(String::new());
        projects.set(Vec::new());
        let name = input.get_untracked().and_then(|i| chosen_name(&i));
        chosen.set(name.clone());
        if name.is_some() {
            preview_now(true);
        }
    };
    // A file chosen before the page came alive (its change event had no handler yet) is read now.
    let on_file_at_start = on_file.clone();
    Effect::new(move |_| {
        if input.get().and_then(|i| chosen_name(&i)).is_some() && chosen.get_untracked().is_none() {
            on_file_at_start();
        }
    });
    let choose_project = {
        let preview_again = apply_now.clone();
        move |ev| {
            p6.set(event_target_value(&ev));
            applying.set(None);
            preview.set(None);
            preview_again(true);
        }
    };
    let ready = move || {
        matches!(preview.read().as_ref(), Some(Ok(_)))
            && busy.read().is_none()
            && blocked.with(Vec::is_empty)
    };
    let (heading, intro) = if creating {
        (
            "The scheduler's file",
            "The file your scheduling tool saves: Microsoft Project XML (.xml, \"Save as XML\") or Primavera P6 (.xer). Its tasks, milestones, dates, budget, currency and calendar make the project; you see what will be imported before anything is created.",
        )
    } else {
        (
            "Bring your schedule",
            "Replace the plan with the file your scheduling tool saves: Microsoft Project XML (.xml, \"Save as XML\") or Primavera P6 (.xer). You see what will be imported before anything changes; risks, the declared status and the reporting day are kept.",
        )
    };
    let action = if creating {
        "Create the project"
    } else {
        "Replace the plan"
    };

    view! {
        <section class="card import" aria-labelledby="import-heading" aria-busy=move || busy.read().is_some().to_string()>
            <h2 id="import-heading">{heading}</h2>
            <p class="muted">{intro}</p>
            <div class="import__controls">
                <label class="field">
                    <span class="field__label">"Schedule file"</span>
                    <input type="file" accept=".xml,.xer,application/xml,text/xml" node_ref=input on:change=move |_| on_file()
                        disabled=move || busy.read().is_some()/>
                </label>
                {move || {
                    let projects = projects.get();
                    (projects.len() > 1).then(|| view! {
                        <label class="field">
                            <span class="field__label">"P6 project"</span>
                            <select prop:value=move || p6.get() on:change=choose_project.clone()
                                disabled=move || busy.read().is_some()>
                                {projects.into_iter().map(|p| view! {
                                    <option value=p.id.clone()>
                                        {format!("{} · {} ({} task{})", p.short_name, p.name, p.tasks, if p.tasks == 1 { "" } else { "s" })}
                                    </option>
                                }).collect_view()}
                            </select>
                        </label>
                    })
                }}
                <button type="button" class="button button--primary" disabled=move || !ready()
                    on:click=move |_| apply_now(false)>
                    {move || busy.get().unwrap_or(action)}
                </button>
            </div>
            {move || {
                let problems = blocked.get();
                (chosen.read().is_some() && !problems.is_empty()).then(|| view! {
                    <ul class="import__blocked" aria-live="polite">
                        {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                })
            }}
            {move || chosen.get().is_none().then(|| view! {
                <p class="muted import__hint">"Choose a file to see what it holds."</p>
            })}
            {move || preview.get().map(|answer| match answer {
                Ok(found) => view! { <ImportPreview found/> }.into_any(),
                Err(refusal) => view! { <ImportProblems refusal/> }.into_any(),
            })}
            {move || applying.get().map(|refusal| view! { <ImportProblems refusal/> })}
        </section>
    }
}

/// What the file would give.
#[component]
fn ImportPreview(found: ScheduleImport) -> impl IntoView {
    let read = found.read.clone();
    let rule = format!(
        "{:.0} % and {:.0} % of the planned duration",
        read.rule.optimistic * 100.0,
        read.rule.pessimistic * 100.0
    );
    let warning_count = read.warnings.len() + read.more_warnings;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    view! {
        <div class="import__preview" role="status">
            <h3>{format!("{}: what will be imported", read.format)}</h3>
            <dl class="facts facts--wide">
                <div><dt>"Read"</dt><dd>{plural(read.read, "task", "tasks")}</dd></div>
                <div><dt>"Tasks"</dt><dd>{found.tasks}</dd></div>
                <div><dt>"Milestones"</dt><dd>{found.milestones}</dd></div>
                <div><dt>"WBS levels"</dt><dd>{format!("{} (from summary tasks)", read.summaries)}</dd></div>
                <div><dt>"Dependencies"</dt><dd>{read.dependencies}</dd></div>
                <div><dt>"Risks kept"</dt><dd>{found.risks}</dd></div>
            </dl>
            <p class="import__estimates">
                {format!(
                    "Estimates: {} from the file's three-point fields, {} by the rule (optimistic and pessimistic {rule}).",
                    plural(read.estimated_in_file, "task", "tasks"),
                    read.estimated_by_rule,
                )}
            </p>
            {(warning_count > 0).then(|| view! {
                <details class="import__warnings">
                    <summary>{format!("{} — what PMR does not hold, and what it does instead", plural(warning_count, "warning", "warnings"))}</summary>
                    <ul>
                        {read.warnings.into_iter().map(|w| view! {
                            <li><span class="import__place">{w.location}</span>" "{w.message}</li>
                        }).collect_view()}
                        {(read.more_warnings > 0).then(|| view! {
                            <li>{format!("… and {} more", read.more_warnings)}</li>
                        })}
                    </ul>
                </details>
            })}
        </div>
    }
}

/// Why the file is refused.
#[component]
fn ImportProblems(refusal: ImportRefusal) -> impl IntoView {
    let more = refusal
        .problem_count
        .unwrap_or(refusal.problems.len())
        .saturating_sub(refusal.problems.len());
    view! {
        <div class="notice notice--error" role="alert">
            <p>{refusal.error}</p>
            {(!refusal.problems.is_empty()).then(|| view! {
                <ul>
                    {refusal.problems.into_iter().map(|p| view! {
                        <li><span class="import__place">{p.location}</span>" "{p.message}</li>
                    }).collect_view()}
                    {(more > 0).then(|| view! { <li>{format!("… and {more} more")}</li> })}
                </ul>
            })}
        </div>
    }
}

/// The name of the file chosen in the input, if any.
#[cfg(feature = "hydrate")]
fn chosen_name(input: &leptos::web_sys::HtmlInputElement) -> Option<String> {
    input.files().and_then(|f| f.get(0)).map(|f| f.name())
}

#[cfg(not(feature = "hydrate"))]
fn chosen_name(_input: &leptos::web_sys::HtmlInputElement) -> Option<String> {
    None
}

/// A refusal made here (no answer from the server).
fn local(error: impl Into<String>) -> ImportRefusal {
    ImportRefusal {
        error: error.into(),
        problems: Vec::new(),
        problem_count: None,
        p6_projects: Vec::new(),
    }
}

/// The notice the project page shows after an import (`?imported=tasks,milestones`, with `,new`
/// when it created the project).
pub fn imported_notice(query: &str) -> Option<String> {
    let mut parts = query.split(',');
    let tasks: usize = parts.next()?.parse().ok()?;
    let milestones: usize = parts.next()?.parse().ok()?;
    let what = match parts.next() {
        None => "The plan was replaced from the file",
        Some("new") => "The project was created from the file",
        Some(_) => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(format!(
        "{what}: {tasks} task{}, {milestones} milestone{}.",
        if tasks == 1 { "" } else { "s" },
        if milestones == 1 { "" } else { "s" }
    ))
}

/// The project's page after an import, with its notice (a full load: the page's data changed).
#[cfg(feature = "hydrate")]
fn open_with_notice(done: &ScheduleImport) {
    if let Some(window) = leptos::web_sys::window() {
        let _ = window.location().set_href(&format!(
            "/projects/{}?imported={},{}{}",
            crate::format::percent_encode_path(&done.code),
            done.tasks,
            done.milestones,
            if done.created { ",new" } else { "" }
        ));
    }
}

#[cfg(not(feature = "hydrate"))]
fn open_with_notice(_done: &ScheduleImport) {}

/// Sends the chosen file to the import, as a dry run or for real.
#[cfg(feature = "hydrate")]
async fn send_file(
    input: leptos::web_sys::HtmlInputElement,
    url: &str,
) -> Result<ScheduleImport, ImportRefusal> {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{Headers, RequestInit, Response};
    use wasm_bindgen_futures::JsFuture;

    let file = input
        .files()
        .and_then(|files| files.get(0))
        .ok_or_else(|| local("Choose a file first."))?;
    let name = file.name();
    let kind = crate::import::media_type_for(&name)
        .filter(|k| *k != "application/json")
        .ok_or_else(|| {
            local(format!(
                "{name} is not a Microsoft Project XML (.xml) or Primavera P6 (.xer) file."
            ))
        })?;
    if file.size() > crate::import::MAX_IMPORT_BYTES as f64 {
        return Err(local(format!(
            "{name} is larger than {} MB, the import's limit.",
            crate::import::MAX_IMPORT_BYTES / (1024 * 1024)
        )));
    }
    let failed = |_| local("The file could not be sent; check the connection and try again.");
    let headers = Headers::new().map_err(failed)?;
    headers.set("Content-Type", kind).map_err(failed)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&file);
    let window = leptos::web_sys::window().ok_or_else(|| local("No window."))?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    let text = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        serde_json::from_str(&text).map_err(|e| local(format!("An unexpected answer: {e}")))
    } else {
        Err(serde_json::from_str::<ImportRefusal>(&text)
            .unwrap_or_else(|_| local(format!("The import was refused ({}).", response.status()))))
    }
}

#[cfg(not(feature = "hydrate"))]
async fn send_file(
    _input: leptos::web_sys::HtmlInputElement,
    _url: &str,
) -> Result<ScheduleImport, ImportRefusal> {
    Err(local("Importing needs the page's script."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_reads_the_counts() {
        assert_eq!(
            imported_notice("5,2").as_deref(),
            Some("The plan was replaced from the file: 5 tasks, 2 milestones.")
        );
        assert_eq!(
            imported_notice("1,1").as_deref(),
            Some("The plan was replaced from the file: 1 task, 1 milestone.")
        );
        assert_eq!(
            imported_notice("3,0,new").as_deref(),
            Some("The project was created from the file: 3 tasks, 0 milestones.")
        );
        assert_eq!(imported_notice("3,0,old"), None);
        assert_eq!(imported_notice("3,0,new,1"), None);
        assert_eq!(imported_notice("x,1"), None);
        assert_eq!(imported_notice("5"), None);
    }
}
