//! Reading a whole report over real HTTP (loopback, keep-alive), three ways in one run:
//!
//! - **cached**: `GET /api/reports/{id}` through the whole stack (authentication layer with an API
//!   token, routing, the cache) with the report in the memory tier;
//! - **uncached**: the same request on an instance whose cache is off (no memory tier, no Redis), so
//!   every read assembles the report from the store: the SQLite file, and a harness-started
//!   PostgreSQL (skipped with `PMR_BENCH_POSTGRES=0`);
//! - **static**: a bare handler returning the same bytes from memory, outside the stack.
//!
//! Targets (issue 5): cached at least 20× the uncached throughput, and at least half the static
//! handler's. With `PMR_BENCH_DIR` set, the figures are also written to `cached_reads.json` there
//! (`make bench`). Issue 6: with monitoring on, cached throughput within 5% of monitoring off (runs
//! alternate, off then on, `MONITOR_PAIRS` times, and the medians are compared: a single pair moved
//! by several percent from run to run either way). Run: `cargo bench -p server --bench cached_reads` (set `PMR_BENCH_SECS` to change the
//! 3 seconds per variant). Clients and server share the machine, so absolute figures are pessimistic;
//! the ratios are what to read.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use clap::Parser;
use server::auth::token;
use server::reports::generate::GenerationParams;
use server::seed::seed_if_empty;
use server::storage::tokens::NewToken;
use server::storage::Store;
use server::{router, AppState, Config};

const CLIENTS: usize = 8;

/// Alternating runs of the cached read with monitoring off and on, for the monitoring cost.
const MONITOR_PAIRS: usize = 3;

/// The median of a few figures.
fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    let n = figures.len();
    if n % 2 == 1 {
        figures[n / 2]
    } else {
        (figures[n / 2 - 1] + figures[n / 2]) / 2.0
    }
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// Requests per second with `CLIENTS` keep-alive clients for `secs`.
async fn throughput(url: String, bearer: Option<String>, secs: f64) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (url, bearer, done, bytes) = (url.clone(), bearer.clone(), done.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            while Instant::now() < until {
                let mut req = client.get(&url);
                if let Some(b) = &bearer {
                    req = req.bearer_auth(b);
                }
                let resp = req.send().await.expect("request");
                let status = resp.status();
                let body = resp.bytes().await.expect("body");
                assert!(
                    status.is_success(),
                    "{url} {status}: {}",
                    String::from_utf8_lossy(&body)
                );
                bytes.store(body.len() as u64, Ordering::Relaxed);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    for t in tasks {
        t.await.expect("client task");
    }
    let n = done.load(Ordering::Relaxed);
    (
        n as f64 / started.elapsed().as_secs_f64(),
        bytes.load(Ordering::Relaxed),
    )
}

async fn state(url: &str, cache_on: bool, monitor_on: bool) -> AppState {
    let store = Store::open(url).await.expect("store");
    let memory_mb = if cache_on { "64" } else { "0" };
    let config = Config::try_parse_from([
        "server",
        "--database-url",
        url,
        "--seed-demo",
        "false",
        "--cache-memory-mb",
        memory_mb,
        "--monitor-enabled",
        &monitor_on.to_string(),
    ])
    .expect("configuration");
    AppState::from_parts(&config, store, None).expect("state")
}

/// Seeds the demo portfolio and an admin API token; returns the report the clients read.
async fn prepare(url: &str, secret: &str) -> i64 {
    let store = Store::open(url).await.expect("store");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(
        &store,
        today,
        GenerationParams {
            iterations: 2000,
            ..GenerationParams::default()
        },
    )
    .await
    .expect("seed");
    store
        .insert_api_token(&NewToken {
            name: "bench",
            token_hash: &token::digest(secret),
            role: app::model::Role::Admin,
            created_by: None,
            projects: &[],
            now: chrono::Utc::now().timestamp(),
            expires_at: None,
            scope: app::access::Scope::Full,
        })
        .await
        .expect("token");
    store.report_ids(1).await.expect("reports")[0]
}

#[tokio::main]
async fn main() {
    let secs: f64 = std::env::var("PMR_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let db = test_support::SqliteDb::new();
    let secret = format!("pmr_{}", token::issue().0);
    let report = prepare(&db.url(), &secret).await;
    // The same data in PostgreSQL, the backend of multi-instance deployments.
    let postgres = (std::env::var("PMR_BENCH_POSTGRES").as_deref() != Ok("0"))
        .then(test_support::PostgresServer::start);
    let pg_url = postgres.as_ref().map(|pg| pg.fresh_database());
    if let Some(url) = &pg_url {
        prepare(url, &secret).await;
    }

    let cached = serve(router(state(&db.url(), true, true).await)).await;
    let unmonitored = serve(router(state(&db.url(), true, false).await)).await;
    let uncached = serve(router(state(&db.url(), false, true).await)).await;
    let uncached_pg = match &pg_url {
        Some(url) => Some(serve(router(state(url, false, true).await)).await),
        None => None,
    };
    let path = format!("/api/reports/{report}");
    let body = reqwest::Client::new()
        .get(format!("http://{cached}{path}"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("warm")
        .bytes()
        .await
        .expect("body");
    let same: Bytes = body.clone();
    let static_app = Router::new().route(
        "/static",
        get(move || {
            let b = same.clone();
            async move { ([("content-type", "application/json")], b) }
        }),
    );
    let fixed = serve(static_app).await;

    // Warm-up, then the measured runs, one after the other on the same machine.
    throughput(format!("http://{cached}{path}"), Some(secret.clone()), 0.5).await;
    let (static_rps, _) = throughput(format!("http://{fixed}/static"), None, secs).await;
    let (cached_rps, size) =
        throughput(format!("http://{cached}{path}"), Some(secret.clone()), secs).await;
    let unmonitored_url = format!("http://{unmonitored}{path}");
    throughput(unmonitored_url.clone(), Some(secret.clone()), 0.5).await;
    let (mut off_runs, mut on_runs) = (Vec::new(), Vec::new());
    for _ in 0..MONITOR_PAIRS {
        off_runs.push(
            throughput(unmonitored_url.clone(), Some(secret.clone()), secs)
                .await
                .0,
        );
        on_runs.push(
            throughput(format!("http://{cached}{path}"), Some(secret.clone()), secs)
                .await
                .0,
        );
    }
    let (unmonitored_rps, monitored) = (median(off_runs.clone()), median(on_runs.clone()));
    let (uncached_rps, _) = throughput(
        format!("http://{uncached}{path}"),
        Some(secret.clone()),
        secs,
    )
    .await;
    let uncached_pg_rps = match uncached_pg {
        Some(addr) => Some(
            throughput(format!("http://{addr}{path}"), Some(secret.clone()), secs)
                .await
                .0,
        ),
        None => None,
    };

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("cached report read over HTTP ({size} bytes, {CLIENTS} keep-alive clients, {cores} cores, {secs} s each)");
    println!("  static handler   {static_rps:>10.0} req/s");
    println!("  cached           {cached_rps:>10.0} req/s");
    println!("  cached, monitoring off then on, {MONITOR_PAIRS} times: off {off_runs:.0?}, on {on_runs:.0?} req/s");
    println!("  uncached SQLite  {uncached_rps:>10.0} req/s");
    if let Some(pg) = uncached_pg_rps {
        println!("  uncached Postgres{pg:>10.0} req/s");
    }
    println!(
        "  cached / static = {:.2} (target >= 0.50)",
        cached_rps / static_rps
    );
    println!(
        "  cached / uncached SQLite = {:.1}x (target >= 20x)",
        cached_rps / uncached_rps
    );
    if let Some(pg) = uncached_pg_rps {
        println!(
            "  cached / uncached PostgreSQL = {:.1}x (target >= 20x)",
            cached_rps / pg
        );
    }
    println!(
        "  monitoring cost = {:.1}% of cached throughput, medians (target < 5%)",
        (1.0 - monitored / unmonitored_rps) * 100.0
    );
    // For `make bench`, which gathers every figure into BENCHMARKS.md.
    if let Some(dir) = std::env::var_os("PMR_BENCH_DIR") {
        let figures = serde_json::json!({
            "response_bytes": size,
            "clients": CLIENTS,
            "seconds": secs,
            "static_rps": static_rps,
            "cached_rps": cached_rps,
            "monitored_runs": on_runs,
            "unmonitored_runs": off_runs,
            "uncached_sqlite_rps": uncached_rps,
            "uncached_postgres_rps": uncached_pg_rps,
        });
        let path = std::path::Path::new(&dir).join("cached_reads.json");
        std::fs::write(&path, figures.to_string()).expect("write the figures");
    }
}
