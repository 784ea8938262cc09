//! Report templates, at `/admin/templates` (admins): each template's sections in reading order, with
//! their loading priority and how many reports were made from it; a form to create one or change
//! one (name; sections added, removed, moved up and down, retitled, reprioritised), checked as it is
//! typed with the server's own rules. Reports keep the sections they were started with, so a change
//! reaches the reports started after it. A non-admin gets a 403 page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::{get_templates, save_template};
use crate::components::{ErrorNotice, FormProblems, Skeleton};
use crate::model::{Priority, TemplateSection};
use crate::sections::SECTION_TYPES;
use crate::templates::{
    check_template, default_key, priority_label, type_label, TemplateDraft, TemplateInfo,
    TemplateSave,
};

/// Which form is open: none, a new template, or a change to the template with this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Editing {
    Closed,
    New,
    Template(i64),
}

/// The page.
#[component]
pub fn TemplatesPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let list = Resource::new(move || version.get(), |_| get_templates());
    let editing = RwSignal::new(Editing::Closed);
    let saved = RwSignal::new(None::<String>);
    let refresh = Callback::new(move |name: String| {
        editing.set(Editing::Closed);
        saved.set(Some(name));
        version.update(|v| *v += 1);
    });
    view! {
        <Title text="Report templates"/>
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <A href="/admin">"Administration"</A>
            " › "
            <span aria-current="page">"Report templates"</span>
        </nav>
        <div class="page-head">
            <h1>"Report templates"</h1>
            <button type="button" class="button button--primary" data-testid="new-template"
                disabled=move || editing.get() == Editing::New
                on:click=move |_| { saved.set(None); editing.set(Editing::New); }>
                "New template"
            </button>
        </div>
        <p class="muted">
            "A report is started from a template and keeps the sections it was made with: a change here reaches the reports started after it."
        </p>
        {move || saved.get().map(|name| view! {
            <p class="notice notice--ok" role="status" data-testid="template-saved">{format!("Saved {name}.")}</p>
        })}
        <Transition fallback=|| view! { <Skeleton lines=8 label="Loading templates"/> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    list.await.map(|templates| view! { <TemplateList templates editing refresh/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The templates, each as a card (or its form while it is changed), and the new template's form.
#[component]
fn TemplateList(
    templates: Vec<TemplateInfo>,
    editing: RwSignal<Editing>,
    refresh: Callback<String>,
) -> impl IntoView {
    let names = StoredValue::new(
        templates
            .iter()
            .map(|t| (t.id, t.name.clone()))
            .collect::<Vec<_>>(),
    );
    let others = move |id: Option<i64>| {
        names
            .get_value()
            .into_iter()
            .filter(|(t, _)| Some(*t) != id)
            .map(|(_, n)| n)
            .collect::<Vec<_>>()
    };
    let blank = TemplateDraft {
        name: String::new(),
        sections: ["executive_summary", "key_metrics"]
            .into_iter()
            .map(|t| TemplateSection {
                key: default_key(t),
                section_type: t.into(),
                title: type_label(t).into(),
                priority: Priority::High,
            })
            .collect(),
    };
    // Marks the list once it is live in the browser (its buttons have their handlers): it hydrates
    // after the page, when its resource is read, and a click before that would be lost.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    view! {
        {move || (editing.get() == Editing::New).then(|| view! {
            <TemplateForm id=None draft=blank.clone() names=others(None) editing refresh/>
        })}
        <ul class="template-list" aria-label="Templates" data-live=move || live.get().to_string()>
            {templates.into_iter().map(|t| {
                let id = t.id;
                let card = t.clone();
                view! {
                    <li class="card template-card" data-testid="template">
                        {move || if editing.get() == Editing::Template(id) {
                            let draft = TemplateDraft { name: card.name.clone(), sections: card.sections.clone() };
                            view! { <TemplateForm id=Some(id) draft names=others(Some(id)) editing refresh/> }.into_any()
                        } else {
                            view! { <TemplateCard template=card.clone() editing/> }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// One template, read-only.
#[component]
fn TemplateCard(template: TemplateInfo, editing: RwSignal<Editing>) -> impl IntoView {
    let id = template.id;
    let made = match template.reports {
        0 => "No report made from it yet".to_string(),
        1 => "1 report made from it".to_string(),
        n => format!("{n} reports made from it"),
    };
    view! {
        <div class="template-card__head">
            <h2>{template.name.clone()}</h2>
            <span class="muted">{made}</span>
            <button type="button" class="button" aria-label=format!("Change {}", template.name)
                on:click=move |_| editing.set(Editing::Template(id))>"Change"</button>
        </div>
        <ol class="template-sections">
            {template.sections.into_iter().map(|s| view! {
                <li>
                    <span class="template-sections__title">{s.title.clone()}</span>
                    // What it shows, when the title does not say so already.
                    {(s.title != type_label(&s.section_type)).then(|| view! {
                        <span class="muted">{type_label(&s.section_type)}</span>
                    })}
                    <span class=format!("priority priority--{}", priority_word(s.priority))>{priority_word(s.priority)}</span>
                </li>
            }).collect_view()}
        </ol>
    }
}

fn priority_word(p: Priority) -> &'static str {
    match p {
        Priority::High => "high",
        Priority::Medium => "medium",
        Priority::Low => "low",
    }
}

fn parse_priority(word: &str) -> Priority {
    match word {
        "high" => Priority::High,
        "medium" => Priority::Medium,
        _ => Priority::Low,
    }
}

/// Creating or changing a template.
#[component]
fn TemplateForm(
    id: Option<i64>,
    draft: TemplateDraft,
    names: Vec<String>,
    editing: RwSignal<Editing>,
    refresh: Callback<String>,
) -> impl IntoView {
    let name = RwSignal::new(draft.name);
    let sections = RwSignal::new(draft.sections);
    let touched = RwSignal::new(false);
    let names = StoredValue::new(names);
    let current = move || TemplateDraft {
        name: name.get(),
        sections: sections.get(),
    };
    let problems = Memo::new(move |_| check_template(&current(), &names.get_value()));
    let save = Action::new(move |save: &TemplateSave| {
        let save = save.clone();
        async move { save_template(save).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            refresh.run(saved.name);
        }
    });
    let unused = move || {
        let used = sections.get();
        SECTION_TYPES
            .iter()
            .filter(|t| !used.iter().any(|s| s.section_type == **t))
            .copied()
            .collect::<Vec<_>>()
    };
    let add = move |section_type: String| {
        if !SECTION_TYPES.contains(&section_type.as_str()) {
            return;
        }
        sections.update(|list| {
            let mut key = default_key(&section_type);
            // A key kept by an earlier section of another type (an old template) stays unique.
            while list.iter().any(|s| s.key == key) {
                key.push_str("-2");
            }
            list.push(TemplateSection {
                title: type_label(&section_type).into(),
                key,
                section_type,
                priority: Priority::Low,
            });
        });
    };
    let heading = if id.is_some() {
        "Change the template"
    } else {
        "New template"
    };
    view! {
        <form class="form template-form" data-testid="template-form" novalidate on:submit=move |ev| {
            ev.prevent_default();
            touched.set(true);
            if problems.read_untracked().is_empty() {
                save.dispatch(TemplateSave { id, draft: current() });
            }
        }>
            <h2>{heading}</h2>
            <label class="field">
                <span class="field__label">"Name"</span>
                <input type="text" required maxlength="80" placeholder="e.g. Board pack"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            <table class="template-table">
                <caption class="field__label">"Sections, in reading order"</caption>
                <thead>
                    <tr><th scope="col">"#"</th><th scope="col">"Title"</th><th scope="col">"Shows"</th><th scope="col">"Loads"</th><th scope="col"><span class="visually-hidden">"Move or remove"</span></th></tr>
                </thead>
                <tbody>
                    <For each=move || sections.get() key=|s| s.key.clone() let:section>
                        <SectionRow key=section.key.clone() sections/>
                    </For>
                </tbody>
            </table>
            {move || {
                let left = unused();
                (!left.is_empty()).then(|| view! {
                    <label class="field field--inline">
                        <span class="field__label">"Add a section"</span>
                        <select data-testid="add-section" prop:value="" on:change=move |ev| {
                            let value = event_target_value(&ev);
                            add(value);
                        }>
                            <option value="">"Choose what it shows…"</option>
                            {left.into_iter().map(|t| view! { <option value=t>{type_label(t)}</option> }).collect_view()}
                        </select>
                    </label>
                })
            }}
            <FormProblems problems touched
                refused=Signal::derive(move || save.value().get().and_then(|r| r.err()).map(|e| e.to_string()))/>
            <div class="form-actions">
                <button type="submit" class="button button--primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save the template" }}
                </button>
                <button type="button" class="button" on:click=move |_| editing.set(Editing::Closed)>"Cancel"</button>
            </div>
        </form>
    }
}

/// One section of the form, found in the list by its key (the key does not change while the form
/// is open, so the row keeps its inputs, and their focus, as the list changes around it).
#[component]
fn SectionRow(key: String, sections: RwSignal<Vec<TemplateSection>>) -> impl IntoView {
    let key = StoredValue::new(key);
    let index = move || sections.with(|list| list.iter().position(|s| s.key == key.get_value()));
    let field = move |read: fn(&TemplateSection) -> String| {
        move || {
            sections.with(|list| {
                list.iter()
                    .find(|s| s.key == key.get_value())
                    .map(read)
                    .unwrap_or_default()
            })
        }
    };
    let change = move |edit: &dyn Fn(&mut TemplateSection)| {
        sections.update(|list| {
            if let Some(s) = list.iter_mut().find(|s| s.key == key.get_value()) {
                edit(s);
            }
        });
    };
    let shift = move |by: isize| {
        sections.update(|list| {
            if let Some(i) = list.iter().position(|s| s.key == key.get_value()) {
                let j = i as isize + by;
                if j >= 0 && (j as usize) < list.len() {
                    list.swap(i, j as usize);
                }
            }
        });
    };
    let title = field(|s| s.title.clone());
    let shows = field(|s| type_label(&s.section_type).to_string());
    let priority = field(|s| priority_word(s.priority).to_string());
    let count = move || sections.with(Vec::len);
    view! {
        <tr data-testid="template-section">
            <td>{move || index().map(|i| i + 1)}</td>
            <td>
                <input type="text" required maxlength="80" aria-label=move || format!("Title of {}", shows())
                    prop:value=title
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        change(&|s| s.title = value.clone());
                    }/>
            </td>
            <td>{shows}</td>
            <td>
                <select aria-label=move || format!("Loading priority of {}", shows())
                    prop:value=priority
                    on:change=move |ev| {
                        let value = parse_priority(&event_target_value(&ev));
                        change(&|s| s.priority = value);
                    }>
                    {[Priority::High, Priority::Medium, Priority::Low].into_iter().map(|p| view! {
                        <option value=priority_word(p)>{priority_label(p)}</option>
                    }).collect_view()}
                </select>
            </td>
            <td class="template-table__actions">
                <button type="button" class="button button--small" aria-label=move || format!("Move {} up", shows())
                    disabled=move || index() == Some(0) on:click=move |_| shift(-1)>"↑"</button>
                <button type="button" class="button button--small" aria-label=move || format!("Move {} down", shows())
                    disabled=move || index().map(|i| i + 1) == Some(count()) on:click=move |_| shift(1)>"↓"</button>
                <button type="button" class="button button--small" aria-label=move || format!("Remove {}", shows())
                    on:click=move |_| sections.update(|list| list.retain(|s| s.key != key.get_value()))>"Remove"</button>
            </td>
        </tr>
    }
}
