//! The Prometheus text exposition (format 0.0.4) for `GET /metrics`: every series as a histogram
//! (durations in seconds, as Prometheus names them) or, for percentages, a gauge of the latest value;
//! plus the cache's counters and the monitor's own state. Counts are cumulative since start.

use std::fmt::Write;

use super::series::scale;
use super::Monitor;
use crate::cache::CacheStats;

/// Bucket bounds for durations, in milliseconds.
const BUCKETS_MS: [f64; 14] = [
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10_000.0, 30_000.0,
    60_000.0,
];

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(String, String)], extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A counter or gauge kept outside the monitor (the collaboration transport's), rendered as is.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub name: &'static str,
    /// `counter` or `gauge`.
    pub kind: &'static str,
    pub help: &'static str,
    pub value: u64,
}

fn write_samples(out: &mut String, samples: &[Sample]) {
    for s in samples {
        let _ = writeln!(out, "# HELP {} {}", s.name, s.help);
        let _ = writeln!(out, "# TYPE {} {}", s.name, s.kind);
        let _ = writeln!(out, "{} {}", s.name, s.value);
    }
}

/// Renders the exposition: the monitor's series, the cache's figures and `samples`.
pub fn render(monitor: &Monitor, cache: Option<&CacheStats>, samples: &[Sample]) -> String {
    let mut out = String::new();
    let mut series = monitor.series_list();
    series.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.labels.cmp(&b.labels)));
    let mut last_name = String::new();
    for s in &series {
        let base = sanitize(&s.name);
        if &*s.unit == "ms" {
            let name = format!("pmr_{}_seconds", base.trim_end_matches("_time"));
            if name != last_name {
                let _ = writeln!(out, "# HELP {name} {} (seconds).", s.name);
                let _ = writeln!(out, "# TYPE {name} histogram");
                last_name = name.clone();
            }
            let total = s.total();
            for bound in BUCKETS_MS {
                let count = total.count_between(0, scale(bound));
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {count}",
                    labels(&s.labels, Some(("le", format!("{}", bound / 1000.0))))
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{} {}",
                labels(&s.labels, Some(("le", "+Inf".into()))),
                total.len()
            );
            let _ = writeln!(
                out,
                "{name}_sum{} {}",
                labels(&s.labels, None),
                s.sum() / 1000.0
            );
            let _ = writeln!(
                out,
                "{name}_count{} {}",
                labels(&s.labels, None),
                total.len()
            );
        } else {
            let unit = if &*s.unit == "%" {
                "percent".to_string()
            } else {
                sanitize(&s.unit)
            };
            let name = format!("pmr_{base}_{unit}");
            if name != last_name {
                let _ = writeln!(out, "# HELP {name} Latest {} ({}).", s.name, s.unit);
                let _ = writeln!(out, "# TYPE {name} gauge");
                last_name = name.clone();
            }
            let _ = writeln!(out, "{name}{} {}", labels(&s.labels, None), s.last());
        }
    }
    let _ = writeln!(
        out,
        "# HELP pmr_monitor_enabled Whether performance monitoring records."
    );
    let _ = writeln!(out, "# TYPE pmr_monitor_enabled gauge");
    let _ = writeln!(
        out,
        "pmr_monitor_enabled {}",
        u8::from(monitor.is_enabled())
    );
    let _ = writeln!(
        out,
        "# HELP pmr_monitor_dropped_values_total Values dropped because their series would pass the cap."
    );
    let _ = writeln!(out, "# TYPE pmr_monitor_dropped_values_total counter");
    let _ = writeln!(
        out,
        "pmr_monitor_dropped_values_total {}",
        monitor.dropped_values()
    );
    let active = monitor.active_alerts();
    let _ = writeln!(out, "# HELP pmr_alerts_firing Alerts firing, by severity.");
    let _ = writeln!(out, "# TYPE pmr_alerts_firing gauge");
    for sev in ["warning", "critical"] {
        let n = active.iter().filter(|a| a.severity.as_str() == sev).count();
        let _ = writeln!(out, "pmr_alerts_firing{{severity=\"{sev}\"}} {n}");
    }
    if let Some(c) = cache {
        for (metric, help, pick) in [
            ("pmr_cache_hits_total", "Cache hits by type.", 0),
            ("pmr_cache_misses_total", "Cache misses by type.", 1),
        ] {
            let _ = writeln!(out, "# HELP {metric} {help}");
            let _ = writeln!(out, "# TYPE {metric} counter");
            for (kind, s) in &c.by_type {
                let v = if pick == 0 { s.hits } else { s.misses };
                let _ = writeln!(out, "{metric}{{type=\"{kind}\"}} {v}");
            }
        }
        write_samples(
            &mut out,
            &[
                Sample {
                    name: "pmr_cache_memory_bytes",
                    kind: "gauge",
                    help: "Bytes in this instance's memory tier.",
                    value: c.local_bytes,
                },
                Sample {
                    name: "pmr_cache_entries",
                    kind: "gauge",
                    help: "Entries in this instance's memory tier.",
                    value: c.local_entries,
                },
                Sample {
                    name: "pmr_cache_evictions_total",
                    kind: "counter",
                    help: "Entries evicted from memory for room.",
                    value: c.evictions,
                },
                Sample {
                    name: "pmr_cache_redis_errors_total",
                    kind: "counter",
                    help: "Failed Redis cache calls.",
                    value: c.redis_errors,
                },
            ],
        );
    }
    write_samples(&mut out, samples);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::Metric;
    use crate::monitor::MonitorConfig;

    #[test]
    fn histograms_and_gauges_render_in_the_text_format() {
        let m = Monitor::new(MonitorConfig::default());
        m.record(
            Metric::ApiResponseTime,
            3.0,
            &[("route", "/reports/{id}"), ("status", "200")],
        );
        m.record(
            Metric::ApiResponseTime,
            700.0,
            &[("route", "/reports/{id}"), ("status", "200")],
        );
        m.record_metric(Metric::CacheHitRate, 91.5);
        let text = render(
            &m,
            None,
            &[Sample {
                name: "pmr_ws_relay_dropped_total",
                kind: "counter",
                help: "Dropped.",
                value: 3,
            }],
        );
        assert!(
            text.contains("# TYPE pmr_api_response_seconds histogram"),
            "{text}"
        );
        assert!(text.contains("pmr_api_response_seconds_bucket{route=\"/reports/{id}\",status=\"200\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("pmr_api_response_seconds_bucket{route=\"/reports/{id}\",status=\"200\",le=\"1\"} 2"), "{text}");
        assert!(text
            .contains("pmr_api_response_seconds_count{route=\"/reports/{id}\",status=\"200\"} 2"));
        assert!(text.contains("pmr_cache_hit_rate_percent 91.5"));
        assert!(text.contains("# TYPE pmr_ws_relay_dropped_total counter"));
        assert!(text.contains("pmr_ws_relay_dropped_total 3"));
        assert!(text.contains("pmr_monitor_enabled 1"));
        assert_eq!(escape("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
