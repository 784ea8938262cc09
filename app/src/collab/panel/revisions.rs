//! The report's saved revisions: the list, one shown, and (for editors) Restore.

use leptos::prelude::*;

use super::Shared;
use crate::api::{get_revision, list_revisions, restore_revision};
use crate::editing::RevisionDetail;

/// Saved revisions: show one, or restore it (editors).
#[component]
pub fn Revisions(report_id: i64, can_restore: Signal<bool>, shared: Shared) -> impl IntoView {
    let list = LocalResource::new(move || {
        shared.revisions_changed.track();
        list_revisions(report_id)
    });
    let shown = RwSignal::new(None::<RevisionDetail>);
    let show = Action::new_local(move |number: &i64| get_revision(report_id, *number));
    let restore = Action::new_local(move |number: &i64| restore_revision(report_id, *number));
    Effect::new(move |_| {
        if let Some(Ok(detail)) = show.value().get() {
            shown.set(Some(detail));
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = restore.value().get() {
            shared.notice.set(Some((false, e.to_string())));
        }
    });
    view! {
        <details class="revisions" data-testid="revisions">
            <summary>"Revisions"</summary>
            <Suspense fallback=|| view! { <p class="muted">"Loading the revisions…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(revisions) if revisions.is_empty() => view! {
                            <p class="muted">"No revision saved yet."</p>
                        }.into_any(),
                        Ok(revisions) => view! {
                            <ol class="revisions__list">
                                {revisions.into_iter().map(|r| {
                                    let number = r.number;
                                    view! {
                                        <li data-testid="revision">
                                            <span>{format!("#{} {} — {}, {}", r.number, r.name, r.author, crate::format::readable_date(&r.created_at))}</span>
                                            <button type="button" class="button button--ghost" on:click=move |_| { show.dispatch(number); }>"Show"</button>
                                            {move || can_restore.get().then(|| view! {
                                                <button type="button" class="button button--ghost" data-testid="restore"
                                                    on:click=move |_| { restore.dispatch(number); }>"Restore"</button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice--error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {move || shown.get().map(|d| view! {
                <div class="revision" data-testid="revision-shown">
                    <h3>{format!("Revision {}: {}", d.revision.number, d.revision.name)}</h3>
                    {d.content.fields.get(crate::editing::FIELD_STATUS).map(|s| view! { <p>"Declared status: " {s.clone()}</p> })}
                    {d.content.narratives.into_iter().filter(|(_, t)| !t.is_empty()).map(|(k, t)| view! {
                        <p><strong>{k}": "</strong>{t}</p>
                    }).collect_view()}
                </div>
            })}
        </details>
    }
}
