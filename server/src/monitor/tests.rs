//! The monitor as a whole: recording, windows, caps and alerting.

use super::*;

#[test]
fn series_past_the_cap_are_dropped_and_counted() {
    let m = Monitor::new(MonitorConfig::default());
    for i in 0..MAX_SERIES + 50 {
        m.record(Metric::ApiResponseTime, 1.0, &[("n", &i.to_string())]);
    }
    assert_eq!(m.series_list().len(), MAX_SERIES);
    assert_eq!(m.dropped_values(), 50);
    m.record(Metric::ApiResponseTime, 2.0, &[("n", "0")]);
    assert_eq!(m.dropped_values(), 50, "a known series still records");
}

#[tokio::test]
async fn timings_and_gauges_are_recorded_with_labels() {
    let m = Monitor::new(MonitorConfig::default());
    let out = m.time(Metric::ReportGenerationTime, async { 7 }).await;
    assert_eq!(out, 7);
    m.record(
        Metric::ApiResponseTime,
        12.0,
        &[("route", "/"), ("status", "200")],
    );
    m.record(
        Metric::ApiResponseTime,
        30.0,
        &[("route", "/"), ("status", "200")],
    );
    m.record(
        Metric::ApiResponseTime,
        5.0,
        &[("route", "/x"), ("status", "404")],
    );
    m.record_metric(Metric::CacheHitRate, 85.5);
    let api = m.operation_stats("api_response_time");
    assert_eq!(api.len(), 2);
    assert_eq!(api[0].window.count + api[1].window.count, 3);
    assert_eq!(m.operation_stats("cache_hit_rate")[0].last, 85.5);
    assert_eq!(m.recent(2)[0].name.as_ref(), "cache_hit_rate");
    assert_eq!(m.all_stats().len(), 4);
    let line = m.timeline("api_response_time");
    assert_eq!(line.len(), 1);
    assert_eq!((line[0].minutes_ago, line[0].count), (0, 3));
}

#[tokio::test]
async fn disabled_monitoring_records_nothing_and_thresholds_are_checked() {
    let m = Monitor::new(MonitorConfig::default());
    m.set_enabled(false);
    m.record_metric(Metric::SectionLoadTime, 1.0);
    assert!(m.all_stats().is_empty());
    m.set_enabled(true);
    assert!(m.set_threshold("api_response_time", 500.0).is_ok());
    assert!(m.set_threshold("api_response_time", -1.0).is_err());
    assert!(m.set_threshold("cache_hit_rate", 120.0).is_err());
    assert!(m.set_threshold("nope", 1.0).is_err());
}

#[tokio::test(start_paused = true)]
async fn alerts_reach_callbacks() {
    let m = Monitor::new(MonitorConfig {
        pending_for: Duration::from_secs(0),
        ..MonitorConfig::default()
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    m.register_alert_callback(move |a| lock(&sink).push((a.metric.clone(), a.state)));
    m.record_metric(Metric::DatabaseQueryTime, 1500.0);
    m.evaluate();
    m.set_threshold("database_query_time", 5000.0)
        .expect("valid");
    m.evaluate();
    assert_eq!(
        *lock(&seen),
        [
            ("database_query_time".to_string(), AlertState::Firing),
            ("database_query_time".to_string(), AlertState::Resolved)
        ]
    );
    assert_eq!(m.recent_alerts(5, Some(Severity::Warning)).len(), 1);
    assert_eq!(m.delete_older_than(0), 1);
}
