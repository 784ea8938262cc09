//! The report's analysis sections: the Monte Carlo risk analysis (histograms and S-curves of finish and
//! cost with their percentiles and targets, the sensitivity tornado, the criticality table, joint
//! confidence, and a rerun with another iteration count) and the performance charts (PV/EV/AC over
//! time, milestone slip).

use leptos::prelude::*;

use crate::analysis::{CurvePoint, HistogramBin};
use crate::api::rerun_monte_carlo;
use crate::components::{Bar, Histogram, Marker, Plot, Series, Swing, Tornado};
use crate::format::{compact_money, compact_number, group_thousands, readable_date};
use crate::indicators::{short_period, slip_history};
use crate::sections::{Charts, MonteCarloSection, RERUN_MAX_ITERATIONS, RERUN_MIN_ITERATIONS};

/// Iteration counts offered for a rerun.
const RERUN_CHOICES: [u32; 6] = [1_000, 5_000, 10_000, 25_000, 50_000, 100_000];
const _: () =
    assert!(RERUN_CHOICES[0] >= RERUN_MIN_ITERATIONS && RERUN_CHOICES[5] <= RERUN_MAX_ITERATIONS);

fn days(v: f64) -> String {
    format!("{v:.0} d")
}

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn curve_tip(label: &str, x: f64, y: f64) -> String {
    format!(
        "{label}: {:.0}% chance of at most {}",
        y * 100.0,
        compact_number(x)
    )
}

fn bars(bins: &[HistogramBin]) -> Vec<Bar> {
    bins.iter()
        .map(|b| Bar {
            from: b.from,
            to: b.to,
            share: b.share,
        })
        .collect()
}

fn curve(points: &[CurvePoint]) -> Vec<(f64, f64)> {
    points.iter().map(|p| (p.value, p.probability)).collect()
}

fn marker(x: f64, label: &str, detail: String, target: bool) -> Marker {
    Marker {
        x,
        label: label.into(),
        detail,
        target,
    }
}

/// The Monte Carlo section, with a control to rerun the simulation with another iteration count.
#[component]
pub fn MonteCarloView(report_id: i64, data: MonteCarloSection) -> impl IntoView {
    let stored_iterations = data.result.iterations;
    let stored = StoredValue::new(data);
    let choice = RwSignal::new(stored_iterations);
    let rerun = Action::new(move |iterations: &u32| rerun_monte_carlo(report_id, *iterations));
    let shown = move || match rerun.value().get() {
        Some(Ok(run)) => run.section,
        _ => stored.get_value(),
    };
    view! {
        <form class="rerun" on:submit=move |ev| {
            ev.prevent_default();
            rerun.dispatch(choice.get_untracked());
        }>
            <label>"Iterations "
                <select on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).parse() { choice.set(n) }
                }>
                    {RERUN_CHOICES.into_iter().map(|n| view! {
                        <option value=n.to_string() selected=n == stored_iterations>{group_thousands(u64::from(n))}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button" disabled=rerun.pending()>
                {move || if rerun.pending().get() { "Running…" } else { "Run again" }}
            </button>
            <span class="form-status" role="status">
                {move || match rerun.value().get() {
                    Some(Ok(run)) => format!(
                        "{} iterations {} in {:.0} ms. The stored report keeps its {} iterations.",
                        group_thousands(u64::from(run.section.result.iterations)),
                        if run.cached { "served from the cache" } else { "simulated" },
                        run.elapsed_ms,
                        group_thousands(u64::from(stored_iterations)),
                    ),
                    Some(Err(_)) | None => String::new(),
                }}
            </span>
            {move || match rerun.value().get() {
                Some(Err(e)) => Some(view! { <span class="form-status form-status--error" role="alert">{e.to_string()}</span> }),
                _ => None,
            }}
        </form>
        {move || view! { <SimulationFigures data=shown()/> }}
    }
}

/// The figures and charts of one simulation run.
#[component]
fn SimulationFigures(data: MonteCarloSection) -> impl IntoView {
    let r = &data.result;
    let f = r.finish_days;
    let c = r.cost;
    let money = |v: f64| compact_money(v, &data.currency);
    let finish_markers = vec![
        marker(
            f.p50,
            "P50",
            format!(
                "P50 finish: {} ({:.0} working days)",
                readable_date(&data.p50_finish),
                f.p50
            ),
            false,
        ),
        marker(
            f.p80,
            "P80",
            format!(
                "P80 finish: {} ({:.0} working days)",
                readable_date(&data.p80_finish),
                f.p80
            ),
            false,
        ),
        marker(
            f.p90,
            "P90",
            format!(
                "P90 finish: {} ({:.0} working days)",
                readable_date(&data.p90_finish),
                f.p90
            ),
            false,
        ),
        marker(
            r.target_days,
            "Target",
            format!(
                "Target finish: {} ({:.0} working days)",
                readable_date(&data.target_finish),
                r.target_days
            ),
            true,
        ),
    ];
    let cost_markers = vec![
        marker(c.p50, "P50", format!("P50 cost: {}", money(c.p50)), false),
        marker(c.p80, "P80", format!("P80 cost: {}", money(c.p80)), false),
        marker(c.p90, "P90", format!("P90 cost: {}", money(c.p90)), false),
        marker(
            r.budget,
            "Budget",
            format!("Budget: {}", money(r.budget)),
            true,
        ),
    ];
    let percent_ticks = |lo: f64, hi: f64| -> Vec<(f64, String)> {
        crate::components::ticks(lo, hi)
            .into_iter()
            .filter(|t| *t >= lo && *t <= hi)
            .map(|t| (t, compact_number(t)))
            .collect()
    };
    let (f_lo, f_hi) = r
        .finish_curve
        .first()
        .zip(r.finish_curve.last())
        .map_or((0.0, 1.0), |(a, b)| (a.value, b.value));
    let (c_lo, c_hi) = r
        .cost_curve
        .first()
        .zip(r.cost_curve.last())
        .map_or((0.0, 1.0), |(a, b)| (a.value, b.value));
    let swings = r
        .sensitive_tasks
        .iter()
        .map(|t| Swing {
            label: t.task.clone(),
            value: t.sensitivity,
        })
        .collect();
    let estimates_note = data.estimates_note();
    view! {
        {estimates_note.map(|note| view! { <p class="notice notice--warning estimates-note">{note}</p> })}
        <dl class="facts facts--wide">
            <div><dt>"P50 finish"</dt><dd>{readable_date(&data.p50_finish)}</dd></div>
            <div><dt>"P80 finish"</dt><dd>{readable_date(&data.p80_finish)}</dd></div>
            <div><dt>"P90 finish"</dt><dd>{readable_date(&data.p90_finish)}</dd></div>
            <div><dt>"Target finish"</dt><dd>{readable_date(&data.target_finish)}</dd></div>
            <div><dt>"P80 cost"</dt><dd>{money(c.p80)} " of " {money(r.budget)}</dd></div>
            <div><dt>"On time"</dt><dd>{percent(r.probability_on_time)}</dd></div>
            <div><dt>"On budget"</dt><dd>{percent(r.probability_on_budget)}</dd></div>
            <div><dt>"Both (joint confidence)"</dt><dd><strong>{percent(r.joint_confidence)}</strong></dd></div>
        </dl>
        <p class="muted">{format!(
            "{} iterations from {}, {} durations, {:.0} ms.",
            group_thousands(u64::from(r.iterations)),
            readable_date(&data.status_date),
            match r.distribution { crate::analysis::DurationDistribution::Pert => "Beta-PERT", crate::analysis::DurationDistribution::Triangular => "triangular" },
            r.elapsed_ms
        )}</p>
        <div class="chart-grid">
            <Histogram title="Finish: working days from the status date, share of iterations" bars=bars(&r.finish_histogram)
                markers=finish_markers.clone() x_format=days x_label="Working days to finish"/>
            <Plot title="Finish S-curve: probability of finishing within a number of working days"
                series=vec![Series { label: "Probability of finishing by then".into(), points: curve(&r.finish_curve) }]
                x_ticks=percent_ticks(f_lo, f_hi) y_format=percent tip=curve_tip markers=finish_markers from_zero=true
                y_label="Probability"/>
            <Histogram title=format!("Cost at completion ({}), share of iterations", data.currency) bars=bars(&r.cost_histogram)
                markers=cost_markers.clone() x_format=compact_number x_label=format!("Cost at completion ({})", data.currency)/>
            <Plot title=format!("Cost S-curve: probability of finishing within a cost ({})", data.currency)
                series=vec![Series { label: "Probability of costing at most".into(), points: curve(&r.cost_curve) }]
                x_ticks=percent_ticks(c_lo, c_hi) y_format=percent tip=curve_tip markers=cost_markers from_zero=true
                y_label="Probability"/>
        </div>
        <h3>"Most sensitive tasks"</h3>
        <p class="muted">{format!(
            "Rank correlation of each task's duration with the finish, over the first {} iterations: the longer bars drive the date.",
            group_thousands(u64::from(r.sensitivity_sample))
        )}</p>
        <Tornado title="Sensitivity of the finish date to each task's duration" swings/>
        <h3>"Criticality"</h3>
        <div class="table-scroll" tabindex="0">
            <table class="data-table data-table--compact">
                <thead><tr><th scope="col">"Task"</th><th scope="col" class="num">"On the critical path"</th><th scope="col" class="num">"Sensitivity"</th></tr></thead>
                <tbody>
                    {r.critical_tasks.iter().map(|t| view! {
                        <tr>
                            <th scope="row">{t.task.clone()}</th>
                            <td class="num"><svg class="meter" viewBox="0 0 100 8" aria-hidden="true">
                                <rect class="meter__track" width="100" height="8" rx="3"/>
                                <rect class="meter__fill" width=format!("{:.1}", t.criticality * 100.0) height="8" rx="3"/>
                            </svg>{percent(t.criticality)}</td>
                            <td class="num">{format!("{:+.2}", t.sensitivity)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn money_tip(label: &str, x: f64, y: f64) -> String {
    format!("{label}, report {}: {}", x as usize + 1, compact_number(y))
}

fn slip_tip(label: &str, x: f64, y: f64) -> String {
    format!(
        "{label}, report {}: {y:+.0} days against baseline",
        x as usize + 1
    )
}

fn signed_days(v: f64) -> String {
    format!("{v:+.0} d")
}

/// The performance charts: PV, EV and AC by month, and each milestone's slip by month.
#[component]
pub fn ChartsView(data: Charts) -> impl IntoView {
    let history = &data.evm_history;
    let evm_ticks = history
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, short_period(&p.period)))
        .collect();
    let line = |label: &str, pick: fn(&crate::sections::EvmPoint) -> f64| Series {
        label: label.into(),
        points: history
            .iter()
            .enumerate()
            .map(|(i, p)| (i as f64, pick(p)))
            .collect(),
    };
    let evm = vec![
        line("Planned value (PV)", |p| p.pv),
        line("Earned value (EV)", |p| p.ev),
        line("Actual cost (AC)", |p| p.ac),
    ];
    let (periods, slips) = slip_history(&data.milestone_slip);
    let slip_ticks = periods
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, short_period(p)))
        .collect();
    let slip_series = slips
        .into_iter()
        .map(|(label, points)| Series { label, points })
        .collect();
    view! {
        <div class="chart-grid">
            <Plot title=format!("Planned value, earned value and actual cost by month ({})", data.currency)
                series=evm x_ticks=evm_ticks y_format=compact_number tip=money_tip from_zero=true
                y_label=format!("Cumulative {}", data.currency)/>
            <Plot title="Milestone slip: each report's forecast against the baseline, in days"
                series=slip_series x_ticks=slip_ticks y_format=signed_days tip=slip_tip from_zero=true
                whole_y=true y_label="Days late (+) or early (−)"/>
        </div>
    }
}
