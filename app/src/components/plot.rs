//! Charts of the report and the dashboard, drawn as inline SVG that scales with the page: a line plot
//! over any x axis (with an optional threshold line)
//! ([`Plot`]), a histogram with labelled markers ([`Histogram`]) and a tornado chart of signed values
//! ([`Tornado`]). Every chart has a title for assistive technology, labelled axes, a legend, and a
//! native tooltip (`<title>`) on each point or bar. Series use a colour-blind-safe palette (Okabe–Ito)
//! and differ by dash pattern and marker shape too, so colour is never the only cue.

use leptos::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// One line of a [`Plot`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A vertical line at `x` with a short label (e.g. `P80`, `Target`).
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
    /// The marker's full description, shown as its tooltip.
    pub detail: String,
    /// Emphasised (a target or budget) rather than a percentile.
    pub target: bool,
}

/// Round tick values covering `[lo, hi]`: about five steps of 1, 2 or 5 times a power of ten.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    ticks_at_least(lo, hi, 0.0)
}

/// As [`ticks`], with steps of at least `min_step` (1 for whole numbers such as days).
pub fn ticks_at_least(lo: f64, hi: f64, min_step: f64) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![lo.min(0.0), lo.max(1.0)];
    }
    let raw = ((hi - lo) / 5.0).max(min_step);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|s| s * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() * step;
    let mut out = Vec::new();
    let mut v = first;
    while v < hi + step * 0.999 && out.len() < 12 {
        out.push(v);
        v += step;
    }
    out
}

fn scale(lo: f64, hi: f64, from: f64, to: f64) -> impl Fn(f64) -> f64 + Copy {
    let span = if hi > lo { hi - lo } else { 1.0 };
    move |v: f64| from + (v - lo) / span * (to - from)
}

/// Smallest and largest finite value; `(0, 1)` when there is none.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// The legend under a chart: one key per series, with its colour and dash.
#[component]
fn Legend(labels: Vec<String>) -> impl IntoView {
    view! {
        <figcaption class="plot__legend">
            {labels.into_iter().enumerate().map(|(i, label)| view! {
                <span class=format!("plot__key plot__key--{}", i % 8)>{label}</span>
            }).collect_view()}
        </figcaption>
    }
}

/// How an x-axis label at `at` is anchored: inside the axis at either end (clear of the y axis'
/// labels and of the drawing's edge), centred elsewhere.
fn tick_anchor(at: f64) -> &'static str {
    if at - LEFT < 24.0 {
        "start"
    } else if WIDTH - RIGHT - at < 24.0 {
        "end"
    } else {
        "middle"
    }
}

/// Which side of its line a marker's label goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// The side of marker `i`'s line (at `at`) its label goes: the right, unless another marker's line
/// would run through it there and not on the left. A label is about 7.5 units a character.
fn label_side(markers: &[Marker], i: usize, at: f64, x: &impl Fn(f64) -> f64) -> Side {
    let width = markers[i].label.chars().count() as f64 * 7.5 + 6.0;
    let crossed = |from: f64, to: f64| {
        markers
            .iter()
            .enumerate()
            .any(|(j, m)| j != i && (from..=to).contains(&x(m.x)))
    };
    let right = crossed(at + 0.5, at + width) || at + width > WIDTH;
    let left = crossed(at - width, at - 0.5) || at - width < LEFT;
    if right && !left {
        Side::Left
    } else {
        Side::Right
    }
}

/// Vertical markers across the plotting area.
fn markers_view(markers: &[Marker], x: impl Fn(f64) -> f64) -> impl IntoView {
    markers
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let at = x(m.x);
            // Labels alternate between two rows so neighbouring markers stay readable, and sit on
            // the side of their line where no other marker's line would run through them.
            let label_y = TOP + 10.0 + (i % 2) as f64 * 12.0;
            let (label_x, anchor) = match label_side(markers, i, at, &x) {
                Side::Right => (at + 3.0, "start"),
                Side::Left => (at - 3.0, "end"),
            };
            view! {
                <g class={if m.target { "plot__marker plot__marker--target" } else { "plot__marker" }}>
                    <title>{m.detail.clone()}</title>
                    <line x1=at x2=at y1=TOP y2=HEIGHT - BOTTOM/>
                    <text x=label_x y=label_y text-anchor=anchor>{m.label.clone()}</text>
                </g>
            }
        })
        .collect_view()
}

/// A line plot. `x_ticks` name positions on the x axis; `y_format` writes the y axis' values and
/// tooltips; `tip` writes a point's tooltip from its series label, x and y.
#[component]
pub fn Plot(
    #[prop(into)] title: String,
    series: Vec<Series>,
    x_ticks: Vec<(f64, String)>,
    y_format: fn(f64) -> String,
    tip: fn(&str, f64, f64) -> String,
    #[prop(optional)] markers: Vec<Marker>,
    /// Start the y axis at zero even when every value is far above it.
    #[prop(optional)]
    from_zero: bool,
    /// Label of the y axis.
    #[prop(into)]
    y_label: String,
    /// Whole-number steps on the y axis (days, counts).
    #[prop(optional)]
    whole_y: bool,
    /// A limit drawn as a dashed horizontal line (e.g. an alert threshold).
    #[prop(optional)]
    threshold: Option<f64>,
) -> impl IntoView {
    let (mut x_lo, mut x_hi) = bounds(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(x_ticks.iter().map(|t| t.0))
            .chain(markers.iter().map(|m| m.x)),
    );
    let (mut y_lo, y_hi) = bounds(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(threshold),
    );
    if from_zero || y_lo > 0.0 && y_lo < y_hi * 0.3 {
        y_lo = y_lo.min(0.0);
    }
    // Points sit half a step in from the edges, so a single month is a point in the middle.
    if x_hi - x_lo < 1.0 {
        x_lo -= 0.5;
        x_hi += 0.5;
    }
    let y_ticks = ticks_at_least(y_lo, y_hi, if whole_y { 1.0 } else { 0.0 });
    let y_min = y_ticks.first().copied().unwrap_or(0.0);
    let y_max = y_ticks.last().copied().unwrap_or(1.0);
    let x = scale(x_lo, x_hi, LEFT, WIDTH - RIGHT);
    let y = scale(y_min, y_max, HEIGHT - BOTTOM, TOP);
    let labels = series.iter().map(|s| s.label.clone()).collect();
    let empty = series.iter().all(|s| s.points.is_empty());
    view! {
        <figure class="plot" tabindex="0" aria-label=title.clone()>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                <text class="plot__axis-label" x="12" y=TOP + (HEIGHT - BOTTOM - TOP) / 2.0
                    transform=format!("rotate(-90 12 {})", TOP + (HEIGHT - BOTTOM - TOP) / 2.0)
                    text-anchor="middle">{y_label}</text>
                {y_ticks.iter().map(|t| view! {
                    <g class="plot__grid">
                        <line x1=LEFT x2=WIDTH - RIGHT y1=y(*t) y2=y(*t)/>
                        <text x=LEFT - 6.0 y=y(*t) + 4.0 text-anchor="end">{y_format(*t)}</text>
                    </g>
                }).collect_view()}
                {x_ticks.iter().map(|(v, label)| {
                    // A label at either end of the axis stays inside it, clear of the y axis'.
                    let at = x(*v);
                    view! {
                        <text class="plot__tick" x=at y=HEIGHT - BOTTOM + 16.0 text-anchor=tick_anchor(at)>{label.clone()}</text>
                    }
                }).collect_view()}
                {markers_view(&markers, x)}
                {threshold.map(|t| view! {
                    <g class="plot__threshold">
                        <line x1=LEFT x2=WIDTH - RIGHT y1=y(t) y2=y(t)/>
                        <text x=WIDTH - RIGHT y=y(t) - 4.0 text-anchor="end">{format!("threshold {}", y_format(t))}</text>
                    </g>
                })}
                {series.iter().enumerate().map(|(i, s)| {
                    let path: String = s.points.iter().enumerate().map(|(j, (px, py))| {
                        format!("{}{:.1},{:.1}", if j == 0 { "M" } else { " L" }, x(*px), y(*py))
                    }).collect();
                    let dots = s.points.len() <= 40;
                    view! {
                        <g class=format!("plot__series plot__series--{}", i % 8)>
                            <path d=path fill="none"/>
                            {dots.then(|| s.points.iter().map(|(px, py)| {
                                let label = tip(&s.label, *px, *py);
                                match i % 4 {
                                    0 => view! { <circle cx=x(*px) cy=y(*py) r="4"><title>{label}</title></circle> }.into_any(),
                                    1 => view! { <rect x=x(*px) - 3.5 y=y(*py) - 3.5 width="7" height="7"><title>{label}</title></rect> }.into_any(),
                                    2 => view! { <path d=format!("M{:.1},{:.1} l4.5,7.5 h-9 z", x(*px), y(*py) - 4.5)><title>{label}</title></path> }.into_any(),
                                    _ => view! { <path d=format!("M{:.1},{:.1} l4.5,4.5 l-4.5,4.5 l-4.5,-4.5 z", x(*px), y(*py) - 4.5)><title>{label}</title></path> }.into_any(),
                                }
                            }).collect_view())}
                        </g>
                    }
                }).collect_view()}
                {empty.then(|| view! {
                    <text class="plot__empty" x=WIDTH / 2.0 y=HEIGHT / 2.0 text-anchor="middle">"Nothing to plot yet"</text>
                })}
            </svg>
            <Legend labels/>
        </figure>
    }
}

/// One bar of a [`Histogram`]: `[from, to)` and its share of the total (0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub from: f64,
    pub to: f64,
    pub share: f64,
}

/// A histogram with percentile and target markers. `x_format` writes the x axis' values.
#[component]
pub fn Histogram(
    #[prop(into)] title: String,
    bars: Vec<Bar>,
    markers: Vec<Marker>,
    x_format: fn(f64) -> String,
    #[prop(into)] x_label: String,
) -> impl IntoView {
    let (x_lo, x_hi) = bounds(
        bars.iter()
            .flat_map(|b| [b.from, b.to])
            .chain(markers.iter().map(|m| m.x)),
    );
    let top = bars.iter().map(|b| b.share).fold(0.0_f64, f64::max);
    let y_ticks = ticks(0.0, top.max(0.01));
    let y_max = y_ticks.last().copied().unwrap_or(1.0);
    let x = scale(x_lo, x_hi, LEFT, WIDTH - RIGHT);
    let y = scale(0.0, y_max, HEIGHT - BOTTOM, TOP);
    let x_ticks = ticks(x_lo, x_hi);
    view! {
        <figure class="plot" tabindex="0" aria-label=title.clone()>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {y_ticks.iter().map(|t| view! {
                    <g class="plot__grid">
                        <line x1=LEFT x2=WIDTH - RIGHT y1=y(*t) y2=y(*t)/>
                        <text x=LEFT - 6.0 y=y(*t) + 4.0 text-anchor="end">{format!("{:.0}%", t * 100.0)}</text>
                    </g>
                }).collect_view()}
                {bars.iter().map(|b| {
                    let left = x(b.from);
                    let width = (x(b.to) - left - 1.0).max(1.0);
                    view! {
                        <rect class="plot__bar" x=left y=y(b.share) width=width height=(y(0.0) - y(b.share)).max(0.0)>
                            <title>{format!("{} to {}: {:.1}% of iterations", x_format(b.from), x_format(b.to), b.share * 100.0)}</title>
                        </rect>
                    }
                }).collect_view()}
                {x_ticks.into_iter().filter(|t| *t >= x_lo && *t <= x_hi).map(|t| view! {
                    <text class="plot__tick" x=x(t) y=HEIGHT - BOTTOM + 16.0 text-anchor=tick_anchor(x(t))>{x_format(t)}</text>
                }).collect_view()}
                <text class="plot__axis-label" x=(LEFT + WIDTH - RIGHT) / 2.0 y=HEIGHT - 6.0 text-anchor="middle">{x_label}</text>
                {markers_view(&markers, x)}
            </svg>
        </figure>
    }
}

/// One bar of a [`Tornado`]: a name and a value from −1 to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Swing {
    pub label: String,
    pub value: f64,
}

/// Horizontal bars around zero, strongest first (a sensitivity tornado).
#[component]
pub fn Tornado(#[prop(into)] title: String, swings: Vec<Swing>) -> impl IntoView {
    let row = 24.0;
    let label_width = 260.0;
    let height = TOP + row * swings.len().max(1) as f64 + 28.0;
    let x = scale(-1.0, 1.0, label_width, WIDTH - RIGHT);
    view! {
        <figure class="plot plot--tornado" tabindex="0" aria-label=title.clone()>
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {[-1.0, -0.5, 0.0, 0.5, 1.0].into_iter().map(|t: f64| view! {
                    <g class="plot__grid">
                        <line x1=x(t) x2=x(t) y1=TOP y2=height - 24.0/>
                        <text x=x(t) y=height - 8.0 text-anchor="middle">{format!("{t:+.1}")}</text>
                    </g>
                }).collect_view()}
                {swings.iter().enumerate().map(|(i, s)| {
                    let y = TOP + row * i as f64;
                    let (from, to) = if s.value >= 0.0 { (x(0.0), x(s.value)) } else { (x(s.value), x(0.0)) };
                    let name: String = if s.label.chars().count() > 32 {
                        s.label.chars().take(31).chain(['…']).collect()
                    } else {
                        s.label.clone()
                    };
                    view! {
                        <g class={if s.value >= 0.0 { "plot__swing plot__swing--up" } else { "plot__swing plot__swing--down" }}>
                            <title>{format!("{}: rank correlation {:+.2} with the finish", s.label, s.value)}</title>
                            <text class="plot__tick" x=label_width - 8.0 y=y + 15.0 text-anchor="end">{name}</text>
                            <rect x=from y=y + 4.0 width=(to - from).max(1.0) height=row - 8.0/>
                        </g>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_label_goes_where_no_other_line_crosses_it() {
        let marker = |x: f64, label: &str| Marker {
            x,
            label: label.into(),
            detail: String::new(),
            target: false,
        };
        let same = |v: f64| v;
        // The target's line 10 units right of P50 would cross P50's label: it goes left.
        let close = [marker(200.0, "P50"), marker(210.0, "Target")];
        assert_eq!(label_side(&close, 0, 200.0, &same), Side::Left);
        assert_eq!(label_side(&close, 1, 210.0, &same), Side::Right);
        // Far apart, both on the right; at the axis' left end there is no room on the left.
        let apart = [marker(200.0, "P50"), marker(400.0, "P80")];
        assert_eq!(label_side(&apart, 0, 200.0, &same), Side::Right);
        let edge = [marker(LEFT + 5.0, "P50"), marker(LEFT + 15.0, "P80")];
        assert_eq!(label_side(&edge, 0, LEFT + 5.0, &same), Side::Right);
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(113.0, 187.0);
        assert!(t[0] <= 113.0 && *t.last().expect("ticks") >= 187.0, "{t:?}");
        assert!(t.len() <= 12);
        assert_eq!(ticks(5.0, 5.0), vec![0.0, 5.0]);
        assert_eq!(ticks_at_least(2.0, 4.0, 1.0), vec![2.0, 3.0, 4.0]);
        assert_eq!(bounds([f64::NAN].into_iter()), (0.0, 1.0));
    }
}
