//! The cost of recording one metric (issue 6 target: under 100 ns), beside the bare HDR histogram
//! record it is built on, and with monitoring switched off.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use server::monitor::{Metric, Monitor, MonitorConfig};

fn record(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = runtime.enter();
    let monitor = Monitor::new(MonitorConfig::default());
    let labels = [
        ("route", "/api/reports/{id}"),
        ("method", "GET"),
        ("status", "200"),
    ];
    let mut group = c.benchmark_group("monitor_record");
    let mut v = 0.0_f64;
    group.bench_function("labelled_api_timing", |b| {
        b.iter(|| {
            v = (v + 0.37) % 50.0;
            monitor.record(
                black_box(Metric::ApiResponseTime),
                black_box(v),
                black_box(&labels),
            );
        })
    });
    group.bench_function("unlabelled_metric", |b| {
        b.iter(|| {
            v = (v + 0.37) % 50.0;
            monitor.record_metric(black_box(Metric::MonteCarloAnalysisTime), black_box(v));
        })
    });
    let mut bare =
        hdrhistogram::Histogram::<u32>::new_with_bounds(1, 100_000_000, 2).expect("bounds");
    group.bench_function("bare_histogram_record", |b| {
        b.iter(|| {
            v = (v + 0.37) % 50.0;
            bare.saturating_record(black_box((v * 1000.0) as u64));
        })
    });
    monitor.set_enabled(false);
    group.bench_function("disabled", |b| {
        b.iter(|| {
            monitor.record(
                black_box(Metric::ApiResponseTime),
                black_box(1.0),
                black_box(&labels),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, record);
criterion_main!(benches);
