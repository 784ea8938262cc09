//! What each section shows once its content is in: one component per section type, chosen by
//! [`SectionBody`]. The rules (statuses, sorting, slip in words) live in [`crate::indicators`].

use leptos::prelude::*;

use super::analysis_views::{ChartsView, MonteCarloView};
use crate::analysis::{InsightCategory, InsightSet, Mismatch, Severity};
use crate::components::RagBadge;
use crate::format::{compact_money, readable_date};
use crate::indicators::{heat_level, key_metric_tiles, page_count, slip, sort_tasks, TaskColumn};
use crate::sections::{
    Appendix, Charts, ExecutiveSummary, KeyMetrics, Milestones, MonteCarloSection, ReportSection,
    Risks, SectionPayload,
};

/// A loaded section's content, by type. The high-priority sections' views are in the main WASM (the
/// page hydrates with them); the others are one WASM chunk ([`lower_priority_view`]), fetched with the
/// first of them to be read, which decodes their data (so the decoders are in the chunk too).
pub async fn section_view(section: ReportSection) -> AnyView {
    let report_id = section.report_id;
    let content = section.content;
    // Commentary written for a section (in the shared editor) comes first; the summary's narrative
    // is part of its own view.
    let note = (content.kind() != "executive_summary" && !section.narrative.trim().is_empty())
        .then(|| view! { <div class="section-note">{paragraphs(&section.narrative)}</div> });
    let body = match content.kind() {
        "executive_summary" => drawn(&content, |data: ExecutiveSummary| {
            view! { <SummaryView data narrative=section.narrative/> }
        }),
        "key_metrics" => drawn(
            &content,
            |data: KeyMetrics| view! { <KeyMetricsView data/> },
        ),
        "ai_insights" | "monte_carlo" | "charts" | "milestones" | "risks" | "appendix" => {
            lower_priority_view(report_id, content).await
        }
        _ => no_content(),
    };
    view! { {note} {body} }.into_any()
}

/// The content decoded as `T` and drawn by `draw`, or a message saying why it could not be read.
fn drawn<T, V>(content: &SectionPayload, draw: impl FnOnce(T) -> V) -> AnyView
where
    T: serde::de::DeserializeOwned,
    V: IntoView + 'static,
{
    match content.decode::<T>() {
        Ok(data) => draw(data).into_any(),
        Err(message) => {
            view! { <p class="notice notice--error" role="alert">{message}</p> }.into_any()
        }
    }
}

/// The lower-priority sections' views, one WASM chunk for all six (`#[lazy]`): each split function
/// of a `--split` build also makes a chunk for every set of split functions that share code, one
/// request each, so six chunks here cost the Monte Carlo section a hundred requests on a slow phone.
#[lazy]
fn lower_priority_view(report_id: i64, content: SectionPayload) -> AnyView {
    match content.kind() {
        "ai_insights" => drawn(&content, |data: InsightSet| view! { <InsightsView data/> }),
        "monte_carlo" => drawn(&content, |data: MonteCarloSection| {
            view! { <MonteCarloView report_id data/> }
        }),
        "charts" => drawn(&content, |data: Charts| view! { <ChartsView data/> }),
        "milestones" => drawn(
            &content,
            |data: Milestones| view! { <MilestonesView data/> },
        ),
        "risks" => drawn(&content, |data: Risks| view! { <RisksView data/> }),
        "appendix" => drawn(&content, |data: Appendix| view! { <AppendixView data/> }),
        _ => no_content(),
    }
}

/// What a section of a type this build does not know shows.
fn no_content() -> AnyView {
    view! { <p class="muted">"This section has no content yet: regenerate the report to fill it."</p> }
        .into_any()
}

/// Paragraphs of a narrative (blank lines separate them).
fn paragraphs(text: &str) -> impl IntoView {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| view! { <p>{p.trim().to_string()}</p> })
        .collect_view()
}

fn mismatch_words(m: Mismatch) -> Option<(&'static str, &'static str)> {
    match m {
        Mismatch::None => None,
        Mismatch::Minor => Some(("minor", "One step apart")),
        Mismatch::Watermelon => Some((
            "watermelon",
            "Declared on track while the figures say off track",
        )),
        Mismatch::Pessimistic => Some((
            "pessimistic",
            "Declared off track while the figures say on track",
        )),
    }
}

/// Executive summary: the narrative, the overall status declared and computed, and every dimension's
/// check with its basis; a mismatch is flagged in words.
#[component]
fn SummaryView(data: ExecutiveSummary, narrative: String) -> impl IntoView {
    let text = if narrative.trim().is_empty() {
        data.generated_narrative.clone()
    } else {
        narrative
    };
    let overall = data
        .checks
        .first()
        .map(|c| c.mismatch)
        .unwrap_or(Mismatch::None);
    view! {
        <div class="summary">
            <div class="summary__status">
                <RagBadge rag=data.overall_declared prefix="Declared"/>
                {match data.overall_computed {
                    Some(rag) => view! { <RagBadge rag prefix="Computed"/> }.into_any(),
                    None => view! { <span class="chip">"Computed: not enough data"</span> }.into_any(),
                }}
                <span class="muted">"as of " {readable_date(&data.status_date)}</span>
            </div>
            {mismatch_words(overall).map(|(kind, words)| view! {
                <p class=format!("mismatch mismatch--{kind}") role="note">
                    <strong>"Status mismatch: "</strong>{words}"."
                </p>
            })}
            <div class="narrative">{paragraphs(&text)}</div>
            {(!data.justification.trim().is_empty()).then(|| view! {
                <p class="justification"><strong>"Manager's justification: "</strong>{data.justification.clone()}</p>
            })}
            <div class="table-scroll" tabindex="0">
                <table class="data-table">
                    <caption class="visually-hidden">"Declared and computed status by dimension"</caption>
                    <thead><tr><th scope="col">"Dimension"</th><th scope="col">"Declared"</th><th scope="col">"Computed"</th><th scope="col">"Basis"</th></tr></thead>
                    <tbody>
                        {data.checks.into_iter().map(|c| view! {
                            <tr class:row--flagged=c.mismatch != Mismatch::None>
                                <th scope="row">{c.dimension.label()}</th>
                                <td><RagBadge rag=c.declared/></td>
                                <td>{match c.computed {
                                    Some(rag) => view! { <RagBadge rag/> }.into_any(),
                                    None => view! { <span class="muted">"not measured"</span> }.into_any(),
                                }}</td>
                                <td>{c.basis}{mismatch_words(c.mismatch).map(|(_, w)| view! { <span class="flag">" ⚑ " {w}</span> })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
    }
}

/// Key metrics: a tile per figure with its status colour and meaning, and the raw figures.
#[component]
fn KeyMetricsView(data: KeyMetrics) -> impl IntoView {
    let tiles = key_metric_tiles(&data);
    let money = |v: f64| compact_money(v, &data.currency);
    let ev = &data.ev;
    view! {
        <ul class="kpis" aria-label="Key metrics">
            {tiles.into_iter().map(|t| {
                let state = t.rag.map_or("none", |r| r.as_str());
                let words = t.rag.map_or("not defined yet", |r| r.label());
                view! {
                    <li class=format!("kpi kpi--{state}") tabindex="0" aria-describedby=format!("kpi-{}", t.label.to_lowercase().replace(['(', ')'], ""))>
                        <span class="kpi__label">{t.label}</span>
                        <span class="kpi__value">{t.value}</span>
                        <span class="kpi__state">{words}</span>
                        <span class="kpi__hint" role="tooltip" id=format!("kpi-{}", t.label.to_lowercase().replace(['(', ')'], ""))>{t.meaning}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
        <dl class="facts facts--wide">
            <div><dt>"Budget (BAC)"</dt><dd>{money(ev.bac)}</dd></div>
            <div><dt>"Planned value"</dt><dd>{money(ev.pv)}</dd></div>
            <div><dt>"Earned value"</dt><dd>{money(ev.ev)}</dd></div>
            <div><dt>"Actual cost"</dt><dd>{money(ev.ac)}</dd></div>
            <div><dt>"Cost variance"</dt><dd>{money(ev.cv)}</dd></div>
            <div><dt>"Schedule variance"</dt><dd>{money(ev.sv)} " · " {format!("{:+.0} days", data.es.sv_t)}</dd></div>
            <div><dt>"Forecast finish"</dt><dd>{data.forecast_finish.as_deref().map_or_else(|| "not yet known".to_string(), readable_date)}</dd></div>
            <div><dt>"Target finish"</dt><dd>{readable_date(&data.target_finish)}</dd></div>
        </dl>
    }
}

fn category_label(c: InsightCategory) -> &'static str {
    match c {
        InsightCategory::Cost => "Cost",
        InsightCategory::Schedule => "Schedule",
        InsightCategory::Risk => "Risk",
        InsightCategory::Resources => "Resources",
        InsightCategory::DataQuality => "Data quality",
    }
}

fn severity_label(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Critical => ("critical", "■ Critical"),
        Severity::Warning => ("warning", "▲ Warning"),
        Severity::Info => ("info", "● Info"),
    }
}

/// AI insights: cards by category, most severe first, and which engine made them.
#[component]
fn InsightsView(data: InsightSet) -> impl IntoView {
    let mut insights = data.insights;
    insights.sort_by(|a, b| {
        (a.category as u8)
            .cmp(&(b.category as u8))
            .then(b.severity.cmp(&a.severity))
    });
    let empty = insights.is_empty();
    view! {
        <p class="muted engine">
            "Made by " <code>{data.engine}</code>
            {data.fallback_reason.map(|r| view! { <span>" (the language model was not used: " {r} ")"</span> })}
        </p>
        {empty.then(|| view! { <p>"No findings this month: the figures raise nothing that needs attention."</p> })}
        <div class="insights">
            {insights.into_iter().map(|i| {
                let (class, words) = severity_label(i.severity);
                view! {
                    <article class=format!("insight insight--{class}")>
                        <header class="insight__head">
                            <span class="insight__category">{category_label(i.category)}</span>
                            <span class=format!("severity severity--{class}")>{words}</span>
                        </header>
                        <h3>{i.title}</h3>
                        <ul class="insight__evidence">
                            {i.evidence.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                        </ul>
                        <p class="insight__action"><strong>"Action: "</strong>{i.action}</p>
                    </article>
                }
            }).collect_view()}
        </div>
    }
}

/// Milestones: baseline, forecast, actual and slip in words.
#[component]
fn MilestonesView(data: Milestones) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data-table">
                <thead><tr>
                    <th scope="col">"Milestone"</th><th scope="col">"Baseline"</th><th scope="col">"Forecast"</th>
                    <th scope="col">"Actual"</th><th scope="col">"Slip"</th>
                </tr></thead>
                <tbody>
                    {data.rows.into_iter().map(|m| {
                        let (words, rag) = slip(m.slip_days);
                        view! {
                            <tr>
                                <th scope="row">{m.name}</th>
                                <td class="date">{readable_date(&m.baseline)}</td>
                                <td class="date">{readable_date(&m.forecast)}</td>
                                <td class="date">{m.actual.as_deref().map_or_else(|| "—".to_string(), readable_date)}</td>
                                <td><span class=format!("slip rag--{}", rag.as_str())>{words}</span></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

const PROBABILITY_BANDS: [&str; 5] = ["< 20%", "20–40%", "40–60%", "60–80%", "≥ 80%"];
const IMPACT_BANDS: [&str; 5] = ["< 1%", "1–2%", "2–4%", "4–8%", "≥ 8%"];

/// Risks: a probability × impact heat map of open risks and the register, largest exposure first.
#[component]
fn RisksView(data: Risks) -> impl IntoView {
    let money = move |v: f64| compact_money(v, &data.currency);
    let mut rows = data.rows;
    rows.sort_by(|a, b| b.exposure.total_cmp(&a.exposure));
    let matrix = data.matrix;
    view! {
        <div class="risk-grid">
            <figure class="heatmap">
                <table aria-label="Open risks by probability and cost impact">
                    <tbody>
                        {(0..5).rev().map(|p| view! {
                            <tr>
                                <th scope="row">{PROBABILITY_BANDS[p]}</th>
                                {(0..5).map(|i| {
                                    let n = matrix[p][i];
                                    view! {
                                        <td class=format!("heat heat--{}", heat_level(p, i))
                                            title=format!("{} with probability {} and cost impact {} of budget", crate::format::count(n, "open risk", "open risks"), PROBABILITY_BANDS[p], IMPACT_BANDS[i])>
                                            {(n > 0).then(|| n.to_string())}
                                        </td>
                                    }
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                    <tfoot>
                        <tr><td></td>{IMPACT_BANDS.iter().map(|b| view! { <th scope="col">{*b}</th> }).collect_view()}</tr>
                    </tfoot>
                </table>
                <figcaption class="muted">"Rows: probability. Columns: cost impact as a share of budget."</figcaption>
            </figure>
            <p class="risk-total">"Total expected exposure " <strong>{money(data.total_exposure)}</strong></p>
        </div>
        <div class="table-scroll" tabindex="0">
            <table class="data-table">
                <thead><tr>
                    <th scope="col">"Risk and mitigation"</th><th scope="col" class="num">"Probability"</th><th scope="col" class="num">"Cost impact"</th>
                    <th scope="col" class="num">"Delay"</th><th scope="col" class="num">"Exposure"</th><th scope="col">"Owner"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <th scope="row" class="risk-title">{r.title} " " <span class="chip">{r.status}</span>
                                <span class="cell-note">"Mitigation: " {r.mitigation}</span>
                                {(!r.affected_tasks.is_empty()).then(|| view! { <span class="muted cell-note">"Tasks: " {r.affected_tasks.join(", ")}</span> })}
                            </th>
                            <td class="num">{format!("{:.0}%", r.probability * 100.0)}</td>
                            <td class="num">{money(r.cost_impact)}</td>
                            <td class="num">{format!("{:.0} d", r.schedule_impact_days)}</td>
                            <td class="num">{money(r.exposure)}</td>
                            <td>{r.owner}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Tasks on one page of the appendix's table (its placeholder draws as many rows).
pub(super) const TASKS_PER_PAGE: usize = 20;

/// Appendix: the task table, sortable by any column and paginated.
#[component]
fn AppendixView(data: Appendix) -> impl IntoView {
    let currency = data.currency;
    let tasks = StoredValue::new(data.tasks);
    let sort = RwSignal::new((TaskColumn::Wbs, true));
    let page = RwSignal::new(0_usize);
    let total = tasks.with_value(Vec::len);
    let pages = page_count(total, TASKS_PER_PAGE);
    let rows = move || {
        let (column, ascending) = sort.get();
        let mut all = tasks.get_value();
        sort_tasks(&mut all, column, ascending);
        all.into_iter()
            .skip(page.get() * TASKS_PER_PAGE)
            .take(TASKS_PER_PAGE)
            .collect::<Vec<_>>()
    };
    let choose = move |column: TaskColumn| {
        sort.update(|(current, ascending)| {
            if *current == column {
                *ascending = !*ascending;
            } else {
                *current = column;
                *ascending = !column.numeric();
            }
        });
        page.set(0);
    };
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data-table data-table--tasks">
                <caption class="visually-hidden">"Tasks; choose a column heading to sort"</caption>
                <thead><tr>
                    {TaskColumn::ALL.into_iter().map(|column| {
                        let order = move || match sort.get() {
                            (c, true) if c == column => "ascending",
                            (c, false) if c == column => "descending",
                            _ => "none",
                        };
                        view! {
                            <th scope="col" aria-sort=order class:num=column.numeric()>
                                <button type="button" class="sort" on:click=move |_| choose(column)>
                                    {column.label()}
                                    <span aria-hidden="true" class="sort__arrow">{move || match order() {
                                        "ascending" => "▲", "descending" => "▼", _ => "↕",
                                    }}</span>
                                </button>
                            </th>
                        }
                    }).collect_view()}
                </tr></thead>
                <tbody>
                    {move || {
                        let currency = currency.clone();
                        rows().into_iter().map(move |t| view! {
                            <tr>
                                <td class="mono">{t.wbs}</td>
                                <th scope="row">{t.name}</th>
                                <td>{t.owner}</td>
                                <td class="date">{readable_date(&t.planned_start)}</td>
                                <td class="date">{readable_date(&t.planned_finish)}</td>
                                <td class="num">{compact_money(t.budgeted_cost, &currency)}</td>
                                <td class="num">{compact_money(t.actual_cost, &currency)}</td>
                                <td class="num">{format!("{:.0}%", t.percent_complete)}</td>
                            </tr>
                        }).collect_view()
                    }}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Task table pages">
            <button type="button" class="button" disabled=move || page.get() == 0
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"← Previous"</button>
            <span aria-live="polite">{move || format!("Page {} of {pages} · {total} tasks", page.get() + 1)}</span>
            <button type="button" class="button" disabled=move || { page.get() + 1 >= pages }
                on:click=move |_| page.update(|p| *p = (*p + 1).min(pages - 1))>"Next →"</button>
        </nav>
    }
}
