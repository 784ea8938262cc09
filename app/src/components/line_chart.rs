//! A small line chart drawn as inline SVG: minutes on the x axis (now at the right), values on the y
//! axis with labelled ticks, an optional dashed threshold line, a legend, and a title on every point
//! for its exact value. Series are told apart by colour and by marker shape.

use leptos::prelude::*;

/// One line of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSeries {
    pub label: String,
    /// (minutes ago, value).
    pub points: Vec<(f64, f64)>,
}

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

/// A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if v <= step * magnitude {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn fmt(v: f64) -> String {
    if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The chart.
#[component]
pub fn LineChart(
    /// Accessible title of the chart.
    #[prop(into)]
    title: String,
    /// Unit of the values, e.g. `ms`.
    #[prop(into)]
    unit: String,
    series: Vec<ChartSeries>,
    /// Minutes shown, from `span` minutes ago to now.
    span: f64,
    #[prop(optional)] threshold: Option<f64>,
) -> impl IntoView {
    let top_value = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(threshold)
        .fold(0.0_f64, f64::max);
    let y_max = nice_max(top_value * 1.1);
    let span = span.max(1.0);
    let x = move |minutes_ago: f64| LEFT + (1.0 - minutes_ago / span) * (WIDTH - LEFT - RIGHT);
    let y = move |v: f64| TOP + (1.0 - v / y_max) * (HEIGHT - TOP - BOTTOM);
    let empty = series.iter().all(|s| s.points.is_empty());
    let ticks: Vec<f64> = (0..=4).map(|i| y_max * f64::from(i) / 4.0).collect();
    let x_ticks: Vec<f64> = [span, span * 0.75, span * 0.5, span * 0.25, 0.0].to_vec();
    let unit_for_ticks = unit.clone();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {ticks.into_iter().map(|t| view! {
                    <g class="chart__grid">
                        <line x1=LEFT x2=WIDTH - RIGHT y1=y(t) y2=y(t)/>
                        <text x=LEFT - 6.0 y=y(t) + 4.0 text-anchor="end">{format!("{} {}", fmt(t), unit_for_ticks)}</text>
                    </g>
                }).collect_view()}
                {x_ticks.into_iter().map(|m| view! {
                    <text class="chart__axis" x=x(m) y=HEIGHT - 12.0 text-anchor="middle">
                        {if m == 0.0 { "now".to_string() } else { format!("-{} min", fmt(m)) }}
                    </text>
                }).collect_view()}
                {threshold.map(|t| view! {
                    <g class="chart__threshold">
                        <line x1=LEFT x2=WIDTH - RIGHT y1=y(t) y2=y(t)/>
                        <text x=WIDTH - RIGHT y=y(t) - 4.0 text-anchor="end">{format!("threshold {} {}", fmt(t), unit.clone())}</text>
                    </g>
                })}
                {series.iter().enumerate().map(|(i, s)| {
                    let path: String = s.points.iter().enumerate().map(|(j, (m, v))| {
                        format!("{}{:.1},{:.1}", if j == 0 { "M" } else { " L" }, x(*m), y(*v))
                    }).collect();
                    let unit = unit.clone();
                    view! {
                        <g class=format!("chart__series chart__series--{i}")>
                            <path d=path fill="none"/>
                            {s.points.iter().map(|(m, v)| {
                                let label = format!("{}: {} {} ({} min ago)", s.label, fmt(*v), unit, fmt(*m));
                                if i % 2 == 0 {
                                    view! { <circle cx=x(*m) cy=y(*v) r="3.5"><title>{label}</title></circle> }.into_any()
                                } else {
                                    view! { <rect x=x(*m) - 3.5 y=y(*v) - 3.5 width="7" height="7"><title>{label}</title></rect> }.into_any()
                                }
                            }).collect_view()}
                        </g>
                    }
                }).collect_view()}
                {empty.then(|| view! {
                    <text class="chart__empty" x=WIDTH / 2.0 y=HEIGHT / 2.0 text-anchor="middle">"No data in this window yet"</text>
                })}
            </svg>
            <figcaption class="chart__legend">
                {series.iter().enumerate().map(|(i, s)| view! {
                    <span class=format!("chart__key chart__key--{i}")>{s.label.clone()}</span>
                }).collect_view()}
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_bounds_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.3), 10.0);
        assert_eq!(nice_max(1.5), 2.0);
        assert_eq!(nice_max(420.0), 500.0);
        assert_eq!(fmt(1500.0), "1500");
        assert_eq!(fmt(2.345), "2.35");
    }
}
