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

#[test]
fn a_recorder_records_into_the_series_record_would_and_respects_the_cap() {
    let m = Monitor::new(MonitorConfig::default());
    let queued = m.recorder(Metric::WebsocketMessageLatency, &[("delivery", "queued")]);
    assert!(
        m.series_list().is_empty(),
        "no series before its first value"
    );
    queued.record(4.0);
    queued.record(6.0);
    m.record(
        Metric::WebsocketMessageLatency,
        8.0,
        &[("delivery", "queued")],
    );
    let stats = m.operation_stats("websocket_message_latency");
    assert_eq!(stats.len(), 1, "one series, whichever way it was recorded");
    assert_eq!(stats[0].window.count, 3);
    assert_eq!(stats[0].last, 8.0);
    assert_eq!(m.recent(1)[0].value, 8.0);

    // A recorder whose series does not exist yet when the cap is reached drops and counts.
    let late = m.recorder(Metric::WebsocketMessageLatency, &[("delivery", "forced")]);
    for i in 0..MAX_SERIES {
        m.record(Metric::ApiResponseTime, 1.0, &[("n", &i.to_string())]);
    }
    let dropped = m.dropped_values();
    late.record(1.0);
    assert_eq!(m.dropped_values(), dropped + 1);
    queued.record(2.0);
    assert_eq!(
        m.dropped_values(),
        dropped + 1,
        "a known series still records"
    );
    m.set_enabled(false);
    queued.record(3.0);
    assert_eq!(
        m.operation_stats("websocket_message_latency")[0]
            .window
            .count,
        4,
        "monitoring off: nothing recorded"
    );
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

#[test]
fn recent_values_name_their_own_series_with_the_wall_clock_time() {
    let m = Monitor::new(MonitorConfig::default());
    let before = now_millis();
    for i in 0..30 {
        let route = format!("/r/{}", i % 7);
        m.record(Metric::ApiResponseTime, f64::from(i), &[("route", &route)]);
        m.record_metric(Metric::CacheHitRate, f64::from(100 + i));
    }
    let after = now_millis();
    let recent = m.recent(60);
    assert_eq!(recent.len(), 60);
    // Newest first: the values in reverse, each with the series it was recorded into.
    for (k, raw) in recent.iter().enumerate() {
        let i = 29 - (k / 2) as i32;
        if k % 2 == 0 {
            assert_eq!(raw.name.as_ref(), "cache_hit_rate");
            assert_eq!(raw.value, f64::from(100 + i));
            assert!(raw.labels.is_empty());
        } else {
            assert_eq!(raw.name.as_ref(), "api_response_time");
            assert_eq!(raw.value, f64::from(i));
            let route = format!("/r/{}", i % 7);
            assert_eq!(raw.labels.to_vec(), vec![("route".to_string(), route)]);
        }
        // The coarse clock advances a tick (1 to 10 ms) at a time, and milliseconds are rounded down
        // on both sides.
        assert!(
            raw.timestamp >= before - 15 && raw.timestamp <= after + 15,
            "{} not within {before}..{after}",
            raw.timestamp
        );
    }
}

#[test]
fn recording_reading_and_making_series_at_once_neither_loses_values_nor_deadlocks() {
    let m = Monitor::new(MonitorConfig::default());
    // Each thread says when it is done; a deadlock shows as a missing word within a minute, not as
    // a test run that never ends.
    let (done, finished) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (m, done) = (m.clone(), done.clone());
            std::thread::spawn(move || {
                for i in 0..5_000 {
                    // A new series every 50 values (the registry's write lock) among known ones.
                    let n = (i / 50).to_string();
                    m.record(
                        Metric::ApiResponseTime,
                        1.0,
                        &[("thread", &t.to_string()), ("n", &n)],
                    );
                    if i % 100 == 0 {
                        // Reading takes the ring's lock, then the registry's.
                        assert!(m
                            .recent(50)
                            .iter()
                            .all(|raw| raw.name.as_ref() == "api_response_time"));
                        let _ = m.all_stats();
                    }
                }
                done.send(()).expect("the test waits");
            })
        })
        .collect();
    for _ in 0..4 {
        finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("every recording thread finishes (no deadlock)");
    }
    for t in threads {
        t.join().expect("a recording thread");
    }
    let stats = m.operation_stats("api_response_time");
    assert_eq!(stats.len(), 4 * 100);
    let total: u64 = stats.iter().map(|s| s.since_start.count).sum();
    assert_eq!(total, 4 * 5_000);
    assert_eq!(m.recent(RECENT + 10).len(), RECENT);
}
