//! "Since last month" on the report page: the figures, status, milestones and risks that moved since
//! the previous month's report, so the narrative can say why (`app::changes`).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::get_report_changes;
use crate::changes::MonthChanges;
use crate::model::{period_label, Rag};

/// The card; nothing for a project's first report.
#[component]
pub fn SinceLastMonth(report_id: i64) -> impl IntoView {
    let changes = Resource::new(move || report_id, get_report_changes);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                // A failure here leaves the report itself readable: the card is left out.
                changes.await.ok().flatten().map(|c| view! { <ChangesCard changes=c/> })
            })}
        </Suspense>
    }
}

fn rag_words(rag: Option<Rag>) -> &'static str {
    rag.map_or("not judged", |r| r.label())
}

#[component]
fn ChangesCard(changes: MonthChanges) -> impl IntoView {
    let month = period_label(&changes.previous_period);
    let quiet = changes.is_quiet();
    let mut lines: Vec<String> = Vec::new();
    if let Some((before, now)) = changes.declared_status {
        lines.push(format!(
            "Declared status: {} → {}.",
            before.label(),
            now.label()
        ));
    }
    if let Some((before, now)) = changes.computed_status {
        lines.push(format!(
            "Computed status: {} → {}.",
            rag_words(before),
            rag_words(now)
        ));
    }
    for m in &changes.slipped {
        lines.push(format!(
            "{} slipped {}: {} → {}.",
            m.name,
            crate::format::count(m.days, "day", "days"),
            m.before,
            m.now
        ));
    }
    for m in &changes.pulled_in {
        lines.push(format!(
            "{} moved {} earlier: {} → {}.",
            m.name,
            crate::format::count(-m.days, "day", "days"),
            m.before,
            m.now
        ));
    }
    for name in &changes.reached {
        lines.push(format!("{name} was reached."));
    }
    for title in &changes.new_risks {
        lines.push(format!("New risk: {title}."));
    }
    for title in &changes.closed_risks {
        lines.push(format!("Closed risk: {title}."));
    }
    let figures = changes.figures.clone();
    let quiet_line = format!("Nothing moved since {month}.");
    let column = month.clone();
    view! {
        <section class="card changes" aria-labelledby="changes-heading" data-testid="changes">
            <h2 id="changes-heading">
                "Since "
                <A href=format!("/reports/{}", changes.previous_report_id)>{month.clone()}</A>
            </h2>
            {quiet.then(|| view! { <p class="muted">{quiet_line}</p> })}
            {(!figures.is_empty()).then(|| view! {
                <div class="grid-scroll" tabindex="0">
                <table class="data-table data-table--compact changes__figures">
                    <thead>
                        <tr>
                            <th scope="col">"Figure"</th>
                            <th scope="col">{column}</th>
                            <th scope="col">"Now"</th>
                            <th scope="col"><span class="visually-hidden">"Direction"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {figures.into_iter().map(|f| {
                            let (mark, class, words) = match f.better {
                                Some(true) => ("▲", "changes__better", "better"),
                                Some(false) => ("▼", "changes__worse", "worse"),
                                None => ("", "", ""),
                            };
                            view! {
                                <tr>
                                    <th scope="row">{f.label}</th>
                                    <td class="num">{f.before}</td>
                                    <td class="num">{f.now}</td>
                                    <td class=class>
                                        <span aria-hidden="true">{mark}</span>
                                        " " {words}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            })}
            {(!lines.is_empty()).then(|| view! {
                <ul class="plain-list changes__lines">
                    {lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
                </ul>
            })}
        </section>
    }
}
