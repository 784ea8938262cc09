//! Recommendations: the monitor's figures turned into suggestions, each with its evidence and a
//! priority from its estimated impact. Healthy figures produce none.

use super::series::Summary;
use super::{Monitor, OperationStats};
use crate::cache::CacheStats;

pub use app::performance::Recommendation;

fn priority(ratio: f64) -> &'static str {
    if ratio >= 0.8 {
        "high"
    } else if ratio >= 0.5 {
        "medium"
    } else {
        "low"
    }
}

fn threshold(monitor: &Monitor, metric: &str) -> f64 {
    monitor
        .thresholds()
        .iter()
        .find(|t| t.metric == metric)
        .map_or(f64::INFINITY, |t| t.value)
}

fn label(stats: &OperationStats, key: &str) -> String {
    stats
        .labels
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(String::new, |(_, v)| v.clone())
}

/// The recommendations for the current figures, most impactful first.
pub fn recommendations(
    monitor: &Monitor,
    cache: Option<&CacheStats>,
    mc_iterations: u32,
) -> Vec<Recommendation> {
    let mut out = Vec::new();
    if let Some(cache) = cache {
        let target = threshold(monitor, "cache_hit_rate");
        for (kind, s) in &cache.by_type {
            let lookups = s.hits + s.misses;
            if lookups < 20 || s.hit_rate >= target {
                continue;
            }
            let (title, suggestion) = if cache.evictions > 0 {
                (
                    format!("Low hit rate for {kind}: entries are evicted"),
                    format!(
                        "Raise PMR_CACHE_MEMORY_MB (now {} MiB): {} entries were evicted to make room.",
                        cache.local_capacity_bytes / (1024 * 1024),
                        cache.evictions
                    ),
                )
            } else {
                (
                    format!("Low hit rate for {kind}"),
                    format!(
                        "Raise PMR_CACHE_TTL_{}_SECS (now {} s) if this data changes less often, or warm it after writes.",
                        kind.to_uppercase(),
                        s.ttl_seconds
                    ),
                )
            };
            out.push(Recommendation {
                priority: if s.hit_rate < target / 2.0 { "high" } else { "medium" }.into(),
                area: "cache".into(),
                title,
                evidence: format!(
                    "hit rate {:.1}% over {lookups} lookups (target {target}%), {} misses, TTL {} s, {} evictions",
                    s.hit_rate, s.misses, s.ttl_seconds, cache.evictions
                ),
                suggestion,
                impact: s.misses as f64,
            });
        }
    }
    let window = |name: &str| -> Vec<OperationStats> {
        monitor
            .operation_stats(name)
            .into_iter()
            .filter(|s| s.window.count > 0)
            .collect()
    };
    let weight = |w: &Summary| w.avg * w.count as f64;
    let mc_limit = threshold(monitor, "monte_carlo_analysis_time");
    for s in window("monte_carlo_analysis_time") {
        let ratio = s.window.p95 / mc_limit;
        if ratio >= 0.5 {
            out.push(Recommendation {
                priority: priority(ratio).into(),
                area: "monte_carlo".into(),
                title: "Monte Carlo runs near their time limit".into(),
                evidence: format!(
                    "p95 {:.0} ms against a {:.0} ms threshold at {mc_iterations} iterations ({} runs)",
                    s.window.p95, mc_limit, s.window.count
                ),
                suggestion: format!(
                    "Lower PMR_MC_ITERATIONS to {} (the P80 estimate's error grows only by √2), or run on more cores.",
                    (mc_iterations / 2).max(1000)
                ),
                impact: weight(&s.window),
            });
        }
    }
    let gen_limit = threshold(monitor, "report_generation_time");
    for s in window("report_generation_time") {
        let ratio = s.window.p95 / gen_limit;
        if ratio >= 0.5 {
            out.push(Recommendation {
                priority: priority(ratio).into(),
                area: "generation".into(),
                title: "Report generation is slow".into(),
                evidence: format!(
                    "p95 {:.0} ms against {:.0} ms over {} runs",
                    s.window.p95, gen_limit, s.window.count
                ),
                suggestion:
                    "Check the Monte Carlo and insight timings: the slower step is where to act."
                        .into(),
                impact: weight(&s.window),
            });
        }
    }
    let api_limit = threshold(monitor, "api_response_time");
    for s in window("api_response_time") {
        let ratio = s.window.p95 / api_limit;
        if s.window.count >= 5 && ratio >= 0.25 {
            out.push(Recommendation {
                priority: priority(ratio * 2.0).into(),
                area: "route".into(),
                title: format!("Slow route {} {}", label(&s, "method"), label(&s, "route")),
                evidence: format!(
                    "p95 {:.0} ms, p99 {:.0} ms over {} requests (status {}), threshold {:.0} ms",
                    s.window.p95, s.window.p99, s.window.count, label(&s, "status"), api_limit
                ),
                suggestion: "Serve its data through the cache, or look at its store queries in database_query_time.".into(),
                impact: weight(&s.window),
            });
        }
    }
    let db_limit = threshold(monitor, "database_query_time");
    for s in window("database_query_time") {
        let ratio = s.window.p95 / db_limit;
        if s.window.count >= 5 && ratio >= 0.1 {
            out.push(Recommendation {
                priority: priority(ratio * 5.0).into(),
                area: "store".into(),
                title: format!("Slow store query {}", label(&s, "query")),
                evidence: format!(
                    "p95 {:.1} ms over {} calls, threshold {:.0} ms",
                    s.window.p95, s.window.count, db_limit
                ),
                suggestion:
                    "Check the query's indexes and the database's load, or cache what it reads."
                        .into(),
                impact: weight(&s.window),
            });
        }
    }
    for s in window("websocket_batch_size") {
        if s.window.count >= 50 && s.window.avg < 1.5 {
            out.push(Recommendation {
                priority: "low".into(),
                area: "websocket".into(),
                title: "WebSocket batches are mostly of one message".into(),
                evidence: format!("average batch size {:.2} over {} batches", s.window.avg, s.window.count),
                suggestion: "Batching only adds latency here: lower WS_BATCH_MAX_WAIT_MS or set WS_ENABLE_BATCHING=false.".into(),
                impact: s.window.count as f64,
            });
        }
    }
    out.sort_by(|a, b| {
        rank(&a.priority)
            .cmp(&rank(&b.priority))
            .then(b.impact.total_cmp(&a.impact))
    });
    out
}

fn rank(p: &str) -> u8 {
    match p {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::Metric;
    use crate::monitor::MonitorConfig;

    #[test]
    fn healthy_figures_give_no_recommendation() {
        let m = Monitor::new(MonitorConfig::default());
        for _ in 0..20 {
            m.record(
                Metric::ApiResponseTime,
                3.0,
                &[("route", "/"), ("method", "GET"), ("status", "200")],
            );
            m.record_metric(Metric::MonteCarloAnalysisTime, 300.0);
        }
        assert!(recommendations(&m, None, 10_000).is_empty());
    }

    #[test]
    fn crafted_figures_give_recommendations_with_evidence() {
        let m = Monitor::new(MonitorConfig::default());
        for _ in 0..10 {
            m.record(
                Metric::ApiResponseTime,
                1800.0,
                &[("route", "/api/x"), ("method", "GET"), ("status", "200")],
            );
            m.record_metric(Metric::MonteCarloAnalysisTime, 14_000.0);
            m.record(
                Metric::DatabaseQueryTime,
                400.0,
                &[("query", "report_document")],
            );
        }
        let recs = recommendations(&m, None, 10_000);
        let areas: Vec<&str> = recs.iter().map(|r| r.area.as_str()).collect();
        assert!(
            areas.contains(&"route") && areas.contains(&"monte_carlo") && areas.contains(&"store"),
            "{areas:?}"
        );
        let mc = recs.iter().find(|r| r.area == "monte_carlo").expect("mc");
        assert_eq!(mc.priority, "high");
        assert!(mc.evidence.contains("10000 iterations"), "{}", mc.evidence);
        assert!(mc.suggestion.contains("5000"));
        assert_eq!(recs[0].priority, "high");
    }
}
