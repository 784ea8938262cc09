//! The performance dashboard at `/admin/performance` (admins): the seed's key metrics as tiles against
//! their thresholds, alerts, latency charts, recommendations, the percentile table, cache and WebSocket
//! figures, and the admin actions (clear a cache type, switch monitoring, delete old data, edit
//! thresholds), each confirmed and answered with a visible result. It refreshes itself every 5 seconds
//! without reloading the page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    clear_cache, delete_monitoring_data, get_performance_overview, set_monitoring, set_threshold,
};
use crate::components::{ErrorNotice, Plot, Series, Skeleton};
use crate::error::AppError;
use crate::performance::{
    tile_state, Alert, CacheOverview, Direction, Metric, OperationStats, PerformanceOverview,
    Threshold, TimelinePoint, KEY_METRICS,
};

/// How often the dashboard reloads its figures.
const REFRESH_MS: u64 = 5000;

/// The outcome of an admin action, shown at the top of the page.
type Notice = RwSignal<Option<Result<String, String>>>;

/// The dashboard page.
#[component]
pub fn PerformancePage() -> impl IntoView {
    let version = RwSignal::new(0u64);
    let overview = Resource::new(move || version.get(), |_| get_performance_overview());
    let notice: Notice = RwSignal::new(None);
    let refresh = Callback::new(move |()| version.update(|v| *v += 1));
    // Live refresh in the browser only (effects do not run on the server).
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || version.update(|v| *v += 1),
            std::time::Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <Title text="Performance"/>
        <div class="page-head">
            <h1>"Performance"</h1>
            <span class="muted live" aria-live="off">"Live · refreshes every 5 s"</span>
        </div>
        {move || notice.get().map(|n| match n {
            Ok(text) => view! { <p class="notice notice--ok" role="status" data-testid="action-result">{text}</p> }.into_any(),
            Err(text) => view! { <p class="notice notice--error" role="alert" data-testid="action-result">{text}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <Skeleton lines=10 label="Loading the figures"/> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors/> }>
                {move || Suspend::new(async move {
                    overview.await.map(|o| view! { <Dashboard overview=o notice refresh/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The worst window p95 (or, for hit rates, the latest value) of a metric's series.
fn key_value(ops: &[OperationStats], metric: Metric, direction: Direction) -> Option<f64> {
    let series: Vec<&OperationStats> = ops
        .iter()
        .filter(|o| o.name == metric.name() && o.window.count > 0)
        .collect();
    if series.is_empty() {
        return None;
    }
    if direction == Direction::Below {
        series.first().map(|s| s.last)
    } else {
        series.iter().map(|s| s.window.p95).reduce(f64::max)
    }
}

fn show(v: f64, unit: &str) -> String {
    if unit == "%" {
        format!("{v:.1} %")
    } else if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.2} ms")
    }
}

fn labels_text(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs an admin action; reports its result and reloads the figures.
fn act<F>(notice: Notice, refresh: Callback<()>, done: &'static str, fut: F)
where
    F: std::future::Future<Output = Result<(), AppError>> + 'static,
{
    leptos::task::spawn_local(async move {
        match fut.await {
            Ok(()) => notice.set(Some(Ok(done.to_string()))),
            Err(e) => notice.set(Some(Err(e.to_string()))),
        }
        refresh.run(());
    });
}

/// Everything, once loaded.
#[component]
fn Dashboard(
    overview: PerformanceOverview,
    notice: Notice,
    refresh: Callback<()>,
) -> impl IntoView {
    let o = overview;
    let threshold_of = |metric: &str| o.thresholds.iter().find(|t| t.metric == metric).cloned();
    let tiles = KEY_METRICS
        .iter()
        .filter_map(|(metric, label)| {
            let t = threshold_of(metric.name())?;
            let value = key_value(&o.operations, *metric, t.direction);
            Some((label.to_string(), value, t))
        })
        .collect::<Vec<_>>();
    let api_limit = threshold_of(Metric::ApiResponseTime.name()).map(|t| t.value);
    let timeline = |name: &str| -> Vec<TimelinePoint> {
        o.timelines
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    // Minutes ago run leftwards from "now" at the right edge.
    let to_series =
        |label: &str, points: &[TimelinePoint], pick: fn(&TimelinePoint) -> f64| Series {
            label: label.to_string(),
            points: points
                .iter()
                .map(|p| (-(p.minutes_ago as f64), pick(p)))
                .collect(),
        };
    let api = timeline(Metric::ApiResponseTime.name());
    let db = timeline(Metric::DatabaseQueryTime.name());
    let span = (o.window_minutes as f64).max(1.0);
    let minute_ticks = move || -> Vec<(f64, String)> {
        [1.0, 0.75, 0.5, 0.25, 0.0]
            .into_iter()
            .map(|share| {
                let m = (span * share).round();
                let label = if m == 0.0 {
                    "now".to_string()
                } else {
                    format!("-{m} min")
                };
                (-m, label)
            })
            .collect()
    };
    view! {
        <MonitorControls enabled=o.monitoring_enabled notice refresh/>
        <section class="dash-section" aria-labelledby="tiles-title">
            <h2 id="tiles-title" class="visually-hidden">"Key metrics"</h2>
            <ul class="tiles" aria-label="Key metrics">
                {tiles.into_iter().map(|(label, value, t)| {
                    let state = tile_state(value, &t);
                    view! {
                        <li class=format!("tile tile--{state}") data-metric=t.metric.clone()>
                            <span class="tile__label">{label}</span>
                            <span class="tile__value">{value.map_or_else(|| "no data".to_string(), |v| show(v, &t.unit))}</span>
                            <span class="tile__target">
                                {format!("{} {}", if t.direction == Direction::Below { "target ≥" } else { "threshold" }, show(t.value, &t.unit))}
                            </span>
                            <span class="tile__state">{match state { "ok" => "OK", "warning" => "Warning", "critical" => "Critical", _ => "Idle" }}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        <section class="dash-section" aria-labelledby="alerts-title">
            <h2 id="alerts-title">"Alerts"</h2>
            <AlertList active=o.active_alerts.clone() recent=o.recent_alerts.clone()/>
        </section>
        <section class="dash-section dash-grid" aria-labelledby="latency-title">
            <h2 id="latency-title" class="visually-hidden">"Latency"</h2>
            <div class="dash-chart">
                <h3 class="dash-chart__title">"API response time"</h3>
                <Plot title="API response time, p95 and median per minute" y_label="Duration" y_format=milliseconds tip=minute_tip
                    series=vec![to_series("p95", &api, |p| p.p95), to_series("median", &api, |p| p.median)]
                    x_ticks=minute_ticks() from_zero=true threshold=api_limit.unwrap_or(2000.0)/>
            </div>
            <div class="dash-chart">
                <h3 class="dash-chart__title">"Store queries"</h3>
                <Plot title="Store queries, p95 and median per minute" y_label="Duration" y_format=milliseconds tip=minute_tip
                    series=vec![to_series("p95", &db, |p| p.p95), to_series("median", &db, |p| p.median)]
                    x_ticks=minute_ticks() from_zero=true/>
            </div>
        </section>
        <section class="dash-section" aria-labelledby="recs-title">
            <h2 id="recs-title">"Recommendations"</h2>
            {if o.recommendations.is_empty() {
                view! { <p class="muted">"Nothing to recommend: the figures are within their targets."</p> }.into_any()
            } else {
                view! {
                    <ul class="recs">
                        {o.recommendations.iter().map(|r| view! {
                            <li class=format!("rec rec--{}", r.priority)>
                                <span class=format!("chip chip--{}", r.priority)>{r.priority.clone()}</span>
                                <strong>{r.title.clone()}</strong>
                                <p class="muted">{r.evidence.clone()}</p>
                                <p>{r.suggestion.clone()}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="dash-section" aria-labelledby="ops-title">
            <h2 id="ops-title">{format!("Operations (last {} minutes)", o.window_minutes)}</h2>
            <OperationsTable label="Operations" ops=o.operations.clone()/>
        </section>
        <section class="dash-section" aria-labelledby="sections-title">
            <h2 id="sections-title">"Report sections in the browser"</h2>
            <p class="muted">"section_load_time: from a lazily loaded section coming into range to its content on screen, measured by readers' browsers, per section type."</p>
            <OperationsTable label="Section load times" ops=o.operations.iter().filter(|op| op.name == "section_load_time").cloned().collect()/>
        </section>
        <section class="dash-section" aria-labelledby="cache-title">
            <h2 id="cache-title">"Cache"</h2>
            <CachePanel cache=o.cache.clone() status=o.cache_health.status.clone() notice refresh/>
        </section>
        <section class="dash-section" aria-labelledby="thresholds-title">
            <h2 id="thresholds-title">"Thresholds"</h2>
            <ThresholdEditor thresholds=o.thresholds.clone() notice refresh/>
        </section>
        <section class="dash-section" aria-labelledby="ws-title">
            <h2 id="ws-title">"WebSockets"</h2>
            <dl class="facts facts--wide">
                <div><dt>"Connections"</dt><dd>{o.websocket.total_connections}</dd></div>
                <div><dt>"Sessions"</dt><dd>{o.websocket.total_sessions}</dd></div>
                <div><dt>"Messages in / out"</dt><dd>{format!("{} / {}", o.websocket.messages_in, o.websocket.messages_out)}</dd></div>
                <div><dt>"Average batch"</dt><dd>{format!("{:.2}", o.websocket.average_batch_size)}</dd></div>
            </dl>
        </section>
    }
}

/// A latency for the charts' axis and tooltips.
fn milliseconds(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    show(v, "ms")
}

/// A point's tooltip on the latency charts.
fn minute_tip(label: &str, x: f64, y: f64) -> String {
    format!("{label}: {} ({} min ago)", show(y, "ms"), -x)
}

/// Monitoring on/off and deleting old data.
#[component]
fn MonitorControls(enabled: bool, notice: Notice, refresh: Callback<()>) -> impl IntoView {
    let hours = RwSignal::new(24u64);
    let confirming = RwSignal::new(false);
    view! {
        <div class="dash-controls">
            <span class=if enabled { "chip chip--ok" } else { "chip chip--off" } data-testid="monitoring-state">
                {if enabled { "Monitoring on" } else { "Monitoring off" }}
            </span>
            <button type="button" class="button" on:click=move |_| {
                act(notice, refresh, if enabled { "Monitoring switched off." } else { "Monitoring switched on." }, set_monitoring(!enabled));
            }>{if enabled { "Switch monitoring off" } else { "Switch monitoring on" }}</button>
            <label class="inline-field">
                "Delete data older than "
                <input type="number" min="0" max="8760" prop:value=move || hours.get().to_string()
                    on:input=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(24))/>
                " hours"
            </label>
            <Show when=move || confirming.get() fallback=move || view! {
                <button type="button" class="button" on:click=move |_| confirming.set(true)>"Delete…"</button>
            }>
                <button type="button" class="button button--danger" on:click=move |_| {
                    confirming.set(false);
                    act(notice, refresh, "Old monitoring data deleted.", delete_monitoring_data(hours.get_untracked()));
                }>"Confirm delete"</button>
                <button type="button" class="button button--ghost" on:click=move |_| confirming.set(false)>"Cancel"</button>
            </Show>
        </div>
    }
}

/// Firing alerts, then the recent ones.
#[component]
fn AlertList(active: Vec<Alert>, recent: Vec<Alert>) -> impl IntoView {
    view! {
        {if active.is_empty() {
            view! { <p class="muted" data-testid="no-active-alerts">"No alert is firing."</p> }.into_any()
        } else {
            view! {
                <ul class="alerts" aria-label="Firing alerts">
                    {active.into_iter().map(|a| view! {
                        <li class=format!("alert alert--{}", a.severity.as_str()) data-testid="active-alert">
                            <span class=format!("chip chip--{}", a.severity.as_str())>{a.severity.as_str()}</span>
                            <span>{a.message.clone()}</span>
                            <span class="muted">{format!("since {}", a.fired_at.get(11..19).unwrap_or(""))}</span>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(!recent.is_empty()).then(|| view! {
            <details class="recent-alerts">
                <summary>{format!("Recent alerts ({})", recent.len())}</summary>
                <div class="table-scroll" tabindex="0">
                    <table class="data-table" aria-label="Recent alerts">
                        <thead><tr><th>"Severity"</th><th>"Alert"</th><th>"State"</th><th>"Fired"</th><th>"Duration"</th></tr></thead>
                        <tbody>
                            {recent.into_iter().map(|a| view! {
                                <tr data-testid="recent-alert" data-state=a.state.as_str()>
                                    <td><span class=format!("chip chip--{}", a.severity.as_str())>{a.severity.as_str()}</span></td>
                                    <td>{a.message.clone()}</td>
                                    <td>{a.state.as_str()}</td>
                                    <td>{a.fired_at.get(11..19).unwrap_or("").to_string()}</td>
                                    <td>{a.duration_seconds.map_or_else(|| "ongoing".to_string(), |d| format!("{d:.0} s"))}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </details>
        })}
    }
}

/// Percentiles per operation.
#[component]
fn OperationsTable(label: &'static str, ops: Vec<OperationStats>) -> impl IntoView {
    let rows: Vec<OperationStats> = ops.into_iter().filter(|o| o.window.count > 0).collect();
    if rows.is_empty() {
        return view! { <p class="muted">"Nothing recorded in this window yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data-table data-table--numbers" aria-label=label>
                <thead><tr>
                    <th>"Operation"</th><th>"Labels"</th><th>"Count"</th><th>"Min"</th><th>"Median"</th>
                    <th>"Avg"</th><th>"p95"</th><th>"p99"</th><th>"Max"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|o| {
                        let u = o.unit.clone();
                        view! {
                            <tr>
                                <td>{o.name.clone()}</td>
                                <td class="muted">{labels_text(&o.labels)}</td>
                                <td>{o.window.count}</td>
                                <td>{show(o.window.min, &u)}</td>
                                <td>{show(o.window.median, &u)}</td>
                                <td>{show(o.window.avg, &u)}</td>
                                <td>{show(o.window.p95, &u)}</td>
                                <td>{show(o.window.p99, &u)}</td>
                                <td>{show(o.window.max, &u)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Cache figures per type, with clear buttons.
#[component]
fn CachePanel(
    cache: CacheOverview,
    status: String,
    notice: Notice,
    refresh: Callback<()>,
) -> impl IntoView {
    let confirming = RwSignal::new(None::<String>);
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1_048_576.0);
    view! {
        <dl class="facts facts--wide">
            <div><dt>"Health"</dt><dd>{status}</dd></div>
            <div><dt>"Hit rate since start"</dt><dd>{format!("{:.1} %", cache.overall.hit_rate)}</dd></div>
            <div><dt>"Memory"</dt><dd>{format!("{} of {}", mib(cache.local_bytes), mib(cache.local_capacity_bytes))}</dd></div>
            <div><dt>"Entries"</dt><dd>{cache.local_entries}</dd></div>
            <div><dt>"Evictions"</dt><dd>{cache.evictions}</dd></div>
            <div><dt>"Redis"</dt><dd>{if cache.redis_enabled {
                format!("{} keys, {}, {} errors", cache.redis_keys.unwrap_or(0), mib(cache.redis_used_memory_bytes.unwrap_or(0)), cache.redis_errors)
            } else { "not configured".to_string() }}</dd></div>
        </dl>
        <div class="table-scroll" tabindex="0">
            <table class="data-table data-table--numbers" aria-label="Cache by type">
                <thead><tr><th>"Type"</th><th>"Hits"</th><th>"Misses"</th><th>"Hit rate"</th><th>"TTL"</th><th><span class="visually-hidden">"Action"</span></th></tr></thead>
                <tbody>
                    {cache.by_type.into_iter().map(|(kind, s)| {
                        let k = kind.clone();
                        let k2 = kind.clone();
                        let k3 = kind.clone();
                        view! {
                            <tr data-cache-type=kind.clone()>
                                <td>{kind.replace('_', " ")}</td>
                                <td>{s.hits}</td>
                                <td>{s.misses}</td>
                                <td>{format!("{:.1} %", s.hit_rate)}</td>
                                <td>{format!("{} s", s.ttl_seconds)}</td>
                                <td>
                                    <Show when=move || confirming.get().as_deref() == Some(k.as_str()) fallback=move || {
                                        let k = k2.clone();
                                        view! { <button type="button" class="button" on:click=move |_| confirming.set(Some(k.clone()))>"Clear…"</button> }
                                    }>
                                        {
                                            let k = k3.clone();
                                            view! {
                                                <button type="button" class="button button--danger" on:click=move |_| {
                                                    confirming.set(None);
                                                    act(notice, refresh, "Cache cleared.", clear_cache(Some(k.clone())));
                                                }>"Confirm clear"</button>
                                            }
                                        }
                                    </Show>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="dash-controls">
            <Show when=move || confirming.get().as_deref() == Some(EVERY_TYPE) fallback=move || view! {
                <button type="button" class="button" on:click=move |_| confirming.set(Some(EVERY_TYPE.into()))>
                    "Clear the whole cache…"
                </button>
            }>
                <span class="confirm" role="group" aria-label="Confirm clearing the whole cache">
                    "Every type, here and in Redis; each entry is computed again when next asked for. "
                    <button type="button" class="button button--danger" on:click=move |_| {
                        confirming.set(None);
                        act(notice, refresh, "The whole cache cleared.", clear_cache(None));
                    }>"Confirm clear all"</button>
                    <button type="button" class="button button--ghost" on:click=move |_| confirming.set(None)>"Cancel"</button>
                </span>
            </Show>
        </div>
    }
}

/// The confirmation state of clearing every type (the others name their type).
const EVERY_TYPE: &str = "*";

/// One editable row per threshold.
#[component]
fn ThresholdEditor(
    thresholds: Vec<Threshold>,
    notice: Notice,
    refresh: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data-table" aria-label="Thresholds">
                <thead><tr><th>"Metric"</th><th>"Alert when"</th><th>"Value"</th><th><span class="visually-hidden">"Action"</span></th></tr></thead>
                <tbody>
                    {thresholds.into_iter().map(|t| {
                        let value = RwSignal::new(t.value.to_string());
                        let metric = t.metric.clone();
                        view! {
                            <tr data-threshold=t.metric.clone()>
                                <td>{t.metric.clone()}</td>
                                <td>{if t.direction == Direction::Below { "latest value is below" } else { "p95 is above" }}</td>
                                <td>
                                    <input type="number" min="0" step="any" class="number-input"
                                        aria-label=format!("Threshold of {} ({})", t.metric, t.unit)
                                        prop:value=value on:input=move |ev| value.set(event_target_value(&ev))/>
                                    " " {t.unit.clone()}
                                </td>
                                <td>
                                    <button type="button" class="button" on:click=move |_| {
                                        match value.get_untracked().trim().parse::<f64>() {
                                            Ok(v) => act(notice, refresh, "Threshold saved.", set_threshold(metric.clone(), v)),
                                            Err(_) => notice.set(Some(Err("Enter a number for the threshold.".into()))),
                                        }
                                    }>"Save"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_naturally() {
        assert_eq!(show(2500.0, "ms"), "2.50 s");
        assert_eq!(show(42.4, "ms"), "42 ms");
        assert_eq!(show(0.456, "ms"), "0.46 ms");
        assert_eq!(show(91.25, "%"), "91.2 %");
        assert_eq!(labels_text(&[("route".into(), "/".into())]), "route=/");
    }
}
