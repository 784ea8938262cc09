//! The cache service against a harness-started Redis: hits and misses, lifetimes per type, two
//! instances kept coherent through pub/sub, one loader for many concurrent misses, Redis going away and
//! coming back, and report edits invalidating exactly their report.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{server_fn, Role, Who};
use server::cache::{CacheConfig, CacheKey, CacheService, CacheType, Scope};

/// A loader that counts its runs and returns `value`.
fn counting(
    runs: &Arc<AtomicUsize>,
    value: &str,
) -> impl FnOnce() -> std::future::Ready<Result<String, String>> {
    let runs = runs.clone();
    let value = value.to_string();
    move || {
        runs.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(value))
    }
}

fn config_with_ttls(secs: [u64; 5]) -> CacheConfig {
    CacheConfig {
        ttls: secs.map(Duration::from_secs),
        ..CacheConfig::default()
    }
}

async fn read(
    cache: &CacheService,
    key: &CacheKey,
    runs: &Arc<AtomicUsize>,
    value: &str,
) -> String {
    cache
        .get_or_load(key, None, counting(runs, value))
        .await
        .expect("loaded")
}

/// Waits until `check` holds, up to `limit`; returns how long it took.
async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

#[tokio::test(start_paused = true)]
async fn memory_tier_hits_misses_and_expires_per_type() {
    let cache = CacheService::in_memory(CacheConfig::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let report = CacheKey::report_outline(1);
    let metrics = CacheKey::portfolio();
    assert_eq!(read(&cache, &report, &runs, "r1").await, "r1");
    assert_eq!(read(&cache, &metrics, &runs, "m1").await, "m1");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "two misses");
    assert_eq!(read(&cache, &report, &runs, "r2").await, "r1", "a hit");
    assert_eq!(read(&cache, &metrics, &runs, "m2").await, "m1");
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // Metrics live 5 minutes, reports an hour.
    tokio::time::advance(Duration::from_secs(301)).await;
    assert_eq!(
        read(&cache, &metrics, &runs, "m3").await,
        "m3",
        "metrics expired"
    );
    assert_eq!(
        read(&cache, &report, &runs, "r3").await,
        "r1",
        "report still fresh"
    );
    tokio::time::advance(Duration::from_secs(3300)).await;
    assert_eq!(
        read(&cache, &report, &runs, "r4").await,
        "r4",
        "report expired"
    );

    // A per-call lifetime overrides the type's.
    let short = CacheKey::template(9);
    let _: String = cache
        .get_or_load(&short, Some(Duration::from_secs(10)), counting(&runs, "t1"))
        .await
        .expect("load");
    tokio::time::advance(Duration::from_secs(11)).await;
    let again: String = cache
        .get_or_load(&short, None, counting(&runs, "t2"))
        .await
        .expect("load");
    assert_eq!(again, "t2");

    let stats = cache.stats().await;
    assert_eq!(stats.by_type["report"].hits, 2);
    assert_eq!(stats.by_type["report"].misses, 2);
    assert_eq!(stats.by_type["metrics"].hit_rate, 33.3);
    assert_eq!(stats.overall.misses, 6);
    assert!(stats.local_bytes > 0 && !stats.redis_enabled);
    // The seed's names: what the memory tier holds now, per type and in all. The metrics entry is
    // past its lifetime (held by moka until its own clock says so, not counted).
    let held = |kind: &str| {
        let t = &stats.by_type[kind];
        (t.total_keys, t.memory_used)
    };
    let report_bytes = (report.render().len() + "\"r4\"".len() + 96) as u64;
    assert_eq!(held("report"), (1, report_bytes));
    assert_eq!(held("metrics"), (0, 0));
    assert_eq!(held("template").0, 1);
    assert_eq!(stats.total_keys, 2);
    assert_eq!(stats.memory_used, report_bytes + held("template").1);
    assert_eq!(stats.hit_rate, stats.overall.hit_rate);
    assert_eq!(cache.health_check().await.status, "healthy");
}

#[tokio::test]
async fn loader_errors_are_returned_and_not_cached_and_big_values_are_not_kept() {
    let cache = CacheService::in_memory(CacheConfig {
        max_value_bytes: 100,
        ..CacheConfig::default()
    });
    let key = CacheKey::report_outline(5);
    let failed: Result<String, String> = cache
        .get_or_load(&key, None, || async { Err("database down".to_string()) })
        .await;
    assert_eq!(failed, Err("database down".to_string()));
    let runs = Arc::new(AtomicUsize::new(0));
    assert_eq!(
        read(&cache, &key, &runs, "ok").await,
        "ok",
        "the error was not cached"
    );

    let big = "x".repeat(500);
    let key = CacheKey::report_outline(6);
    read(&cache, &key, &runs, &big).await;
    read(&cache, &key, &runs, &big).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "the big value was loaded twice"
    );
    assert_eq!(cache.stats().await.by_type["report"].oversized, 2);
    assert_eq!(cache.get::<String>(&key).await, None);
}

#[tokio::test]
async fn a_hundred_concurrent_misses_run_the_loader_once() {
    let redis = test_support::RedisServer::start();
    let cache = CacheService::new(CacheConfig::default(), Some(&redis.url())).expect("cache");
    let runs = Arc::new(AtomicUsize::new(0));
    let key = CacheKey::monte_carlo(1, "cold");
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (cache, runs, key) = (cache.clone(), runs.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load(&key, None, move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, String>(vec![1.5_f64, 2.5])
                })
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), Ok(vec![1.5, 2.5]));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let stats = cache.stats().await;
    assert_eq!(stats.by_type["monte_carlo"].loads, 1);
    assert!(
        stats.redis_keys.is_some_and(|k| k >= 1),
        "stored in Redis too"
    );
}

#[tokio::test]
async fn two_instances_share_redis_and_invalidations_reach_the_other_within_100_ms() {
    let redis = test_support::RedisServer::start();
    let a = CacheService::new(CacheConfig::default(), Some(&redis.url())).expect("a");
    let b = CacheService::new(CacheConfig::default(), Some(&redis.url())).expect("b");
    assert!(
        eventually(Duration::from_secs(5), async || {
            a.health_check().await.subscribed && b.health_check().await.subscribed
        })
        .await
        .is_some(),
        "both subscribed"
    );
    let (runs_a, runs_b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let key = CacheKey::report_outline(42);
    assert_eq!(read(&a, &key, &runs_a, "v1").await, "v1");
    assert_eq!(
        read(&b, &key, &runs_b, "other").await,
        "v1",
        "B reads A's value from Redis"
    );
    assert_eq!(runs_b.load(Ordering::SeqCst), 0);
    assert_eq!(
        read(&b, &key, &runs_b, "other").await,
        "v1",
        "then from its memory"
    );
    assert_eq!(b.stats().await.by_type["report"].redis_hits, 1);

    a.invalidate(Scope::Report { report: 42 }).await;
    let took = eventually(Duration::from_millis(100), async || {
        read(&b, &key, &runs_b, "v2").await == "v2"
    })
    .await;
    assert!(
        took.is_some(),
        "B still served the old value 100 ms after A's invalidation"
    );
    assert_eq!(
        runs_b.load(Ordering::SeqCst),
        1,
        "B's next read went to the loader"
    );
    assert_eq!(b.stats().await.remote_invalidations, 1);

    // Bulk: a project covers its listed reports and its own entries, and nothing else.
    let mc = CacheKey::monte_carlo(7, "inputs");
    let other = CacheKey::monte_carlo(8, "inputs");
    read(&a, &mc, &runs_a, "mc7").await;
    read(&a, &other, &runs_a, "mc8").await;
    a.invalidate_project(7, vec![42]).await;
    assert_eq!(a.get::<String>(&mc).await, None);
    assert_eq!(a.get::<String>(&key).await, None);
    assert_eq!(a.get::<String>(&other).await.as_deref(), Some("mc8"));
    assert!(eventually(Duration::from_millis(500), async || b
        .get::<String>(&key)
        .await
        .is_none())
    .await
    .is_some());
    a.clear(Some(CacheType::MonteCarlo)).await;
    assert_eq!(
        b.get::<String>(&other).await,
        None,
        "a type clear reaches Redis"
    );
}

#[tokio::test]
async fn redis_entries_expire_with_their_ttl() {
    let redis = test_support::RedisServer::start();
    let config = config_with_ttls([1, 1, 1, 1, 1]);
    let a = CacheService::new(config.clone(), Some(&redis.url())).expect("a");
    let b = CacheService::new(config, Some(&redis.url())).expect("b");
    let runs = Arc::new(AtomicUsize::new(0));
    let key = CacheKey::template(1);
    read(&a, &key, &runs, "t").await;
    assert_eq!(read(&b, &key, &runs, "u").await, "t");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let fresh =
        CacheService::new(config_with_ttls([1, 1, 1, 1, 1]), Some(&redis.url())).expect("c");
    assert_eq!(
        read(&fresh, &key, &runs, "v").await,
        "v",
        "expired in Redis"
    );
    assert_eq!(
        read(&b, &key, &runs, "w").await,
        "v",
        "B's memory copy expired: it reads Redis's current value"
    );
}

#[tokio::test]
async fn redis_going_away_degrades_without_errors_and_recovery_is_automatic() {
    let mut redis = test_support::RedisServer::start();
    let cache = CacheService::new(CacheConfig::default(), Some(&redis.url())).expect("cache");
    assert!(eventually(Duration::from_secs(5), async || cache
        .health_check()
        .await
        .status
        == "healthy")
    .await
    .is_some());
    let runs = Arc::new(AtomicUsize::new(0));
    let warm = CacheKey::report_outline(1);
    read(&cache, &warm, &runs, "warm").await;

    redis.stop();
    assert!(eventually(Duration::from_secs(5), async || cache
        .health_check()
        .await
        .status
        == "degraded")
    .await
    .is_some());
    tokio::time::sleep(Duration::from_millis(600)).await; // past the breaker's pause
    let before = cache.stats().await.redis_errors;
    // Reads keep working: memory hits, and loaders for what is not in memory.
    assert_eq!(read(&cache, &warm, &runs, "x").await, "warm");
    for i in 0..5 {
        let key = CacheKey::report_outline(100 + i);
        assert_eq!(read(&cache, &key, &runs, "cold").await, "cold");
    }
    let health = cache.health_check().await;
    assert_eq!(health.status, "degraded", "{health:?}");
    assert_eq!(health.redis, "down");
    assert!(health.error.is_some());
    assert!(cache.stats().await.redis_errors > before, "errors counted");
    // An invalidation made while Redis is away is kept and sent later.
    cache.invalidate(Scope::Report { report: 1 }).await;

    redis.resume();
    let recovered = eventually(Duration::from_secs(10), async || {
        cache.health_check().await.status == "healthy"
    })
    .await;
    assert!(recovered.is_some(), "{:?}", cache.health_check().await);
    let stats = cache.stats().await;
    assert!(
        stats.resyncs >= 1,
        "memory tier cleared after the reconnect"
    );
    // Writes reach Redis again.
    let key = CacheKey::report_outline(500);
    read(&cache, &key, &runs, "back").await;
    let other = CacheService::new(CacheConfig::default(), Some(&redis.url())).expect("other");
    let runs_other = Arc::new(AtomicUsize::new(0));
    assert_eq!(read(&other, &key, &runs_other, "no").await, "back");
}

#[tokio::test]
async fn a_report_edit_invalidates_that_report_and_nothing_of_other_projects() {
    let redis = test_support::RedisServer::start();
    let url = redis.url();
    let app = common::seeded_with(&["--redis-url", &url], None).await;
    app.account("root", Role::Admin, &[], None).await;
    let admin = app.session("root").await;
    let hbr = app.report_id("HBR", false).await;
    let cdw = app.report_id("CDW", false).await;
    let outline =
        |id: i64, who: &Who| server_fn("get_report_outline", who, &format!("report_id={id}"));
    for id in [hbr, cdw, hbr, cdw] {
        assert_eq!(app.send(outline(id, &admin)).await.status, 200);
    }
    let loads = |stats: &server::cache::CacheStats| stats.by_type["report"].loads;
    let before = app.state.cache.stats().await;
    assert_eq!(loads(&before), 2, "one load per report, then hits");

    let regenerated = app
        .send(server_fn(
            "regenerate_report",
            &admin,
            &format!("report_id={hbr}"),
        ))
        .await;
    assert_eq!(regenerated.status, 200, "{}", regenerated.body);
    let after_edit = app.state.cache.stats().await;
    app.send(outline(cdw, &admin)).await;
    assert_eq!(
        loads(&app.state.cache.stats().await),
        loads(&after_edit),
        "CDW still cached"
    );
    app.send(outline(hbr, &admin)).await;
    assert_eq!(
        loads(&app.state.cache.stats().await),
        loads(&after_edit) + 1,
        "HBR's report was reloaded"
    );
}

#[tokio::test]
async fn the_seeds_per_type_operations_store_read_and_invalidate() {
    let redis = test_support::RedisServer::start();
    let a = CacheService::new(CacheConfig::default(), Some(&redis.url())).expect("a");
    let b = CacheService::new(CacheConfig::default(), Some(&redis.url())).expect("b");
    a.cache_report(3, &"report three", None).await;
    a.cache_insights(1, "d1", &vec!["insight"]).await;
    a.cache_monte_carlo(1, "d2", &[0.5, 0.8]).await;
    a.cache_metrics(&"portfolio figures").await;
    a.cache_template(1, &"sections").await;
    assert_eq!(
        b.get_cached_report::<String>(3).await.as_deref(),
        Some("report three")
    );
    assert_eq!(
        b.get_cached_insights::<Vec<String>>(1, "d1").await,
        Some(vec!["insight".to_string()])
    );
    assert_eq!(
        b.get_cached_monte_carlo::<Vec<f64>>(1, "d2").await,
        Some(vec![0.5, 0.8])
    );
    assert_eq!(
        b.get_cached_metrics::<String>().await.as_deref(),
        Some("portfolio figures")
    );
    assert_eq!(
        b.get_cached_template::<String>(1).await.as_deref(),
        Some("sections")
    );
    // B holds memory copies now; A's invalidations reach it through pub/sub.
    a.invalidate_report(3).await;
    assert!(eventually(Duration::from_secs(1), async || b
        .get_cached_report::<String>(3)
        .await
        .is_none())
    .await
    .is_some());
    a.clear(None).await;
    assert!(
        eventually(Duration::from_secs(1), async || b
            .get_cached_template::<String>(1)
            .await
            .is_none())
        .await
        .is_some(),
        "clear all reaches every type"
    );
    let stats = b.stats().await;
    assert!(stats.overall.hits >= 5 && stats.redis_used_memory_bytes.is_some_and(|m| m > 0));
}

#[tokio::test]
async fn the_costly_steps_are_timed_only_when_they_run() {
    let app = common::seeded_with(&[], None).await;
    app.account("root", Role::Admin, &[], None).await;
    let admin = app.session("root").await;
    let hbr = app.report_id("HBR", false).await;
    let counts = || {
        [
            "report_generation_time",
            "monte_carlo_analysis_time",
            "ai_insight_generation_time",
        ]
        .map(|name| {
            app.state
                .monitor
                .operation_stats(name)
                .iter()
                .map(|s| s.since_start.count)
                .sum::<u64>()
        })
    };
    let regenerate = || async {
        let regenerated = app
            .send(server_fn(
                "regenerate_report",
                &admin,
                &format!("report_id={hbr}"),
            ))
            .await;
        assert_eq!(regenerated.status, 200, "{}", regenerated.body);
    };
    assert_eq!(counts(), [0, 0, 0]);
    // The first regeneration computes both (the demo was seeded without the cache).
    regenerate().await;
    assert_eq!(counts(), [1, 1, 1]);
    // The second may compute the insights once more (here it does: something the first wrote is
    // among their inputs), then nothing changes.
    regenerate().await;
    let [_, simulations, insights] = counts();
    assert_eq!(simulations, 1, "the simulation came from the cache");
    for _ in 0..2 {
        regenerate().await;
    }
    // Two more generations timed; the simulation and the insights came from the cache, and a
    // lookup's time is not theirs.
    assert_eq!(counts(), [4, simulations, insights]);
}
