//! `loadgen`: PMR's load tool. It starts real server processes (the release binary, each scenario
//! with its own settings, on free ports, with a harness-started Redis where a scenario needs two
//! instances), drives them with real clients at a constant arrival rate, and records HDR histograms.
//!
//! - `loadgen ws`: the collaboration benchmarks (fan-out latency with batching on and off, frames and
//!   bytes saved, force-send, the extra latency across two instances, memory per idle connection).
//!
//! - `loadgen http`: reads over HTTP at a constant rate (the cached report API at 2,000 requests/s,
//!   server-rendered report pages at 200/s), the cache hit rate of that workload, and the server's
//!   memory idle and after the load.
//!
//! - `loadgen report`: BENCHMARKS.md from the figures of a `make bench` run.
//!
//! Each command prints its figures and, with `--json FILE`, writes them for `make bench`.

mod api;
mod hist;
mod http;
mod process;
mod report;
mod ws;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use serde::Serialize;

use api::Api;
use process::{Database, ServerProcess, ServerSpec, ADMIN_PASSWORD, DEMO_PASSWORD};

#[derive(Parser)]
#[command(about = "PMR's load tool: real clients against real server processes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ServerArgs {
    /// The server binary (build it with `make build`).
    #[arg(long, default_value = "target/release/server")]
    server: PathBuf,
    /// Its site root.
    #[arg(long, default_value = "target/site")]
    site: PathBuf,
    /// Write the figures here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Collaboration: fan-out latency (batching on and off, one and two instances), frames and bytes
    /// saved, force-send latency, memory per idle connection.
    Ws {
        #[command(flatten)]
        server: ServerArgs,
        /// Connections in the fan-out.
        #[arg(long, default_value_t = 500)]
        conns: usize,
        /// Report sessions they are spread over.
        #[arg(long, default_value_t = 50)]
        sessions: usize,
        /// Presence messages per second per connection.
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        /// Seconds of load per fan-out run.
        #[arg(long, default_value_t = 20)]
        secs: u64,
        /// Idle connections for the memory figure.
        #[arg(long, default_value_t = 10_000)]
        idle: usize,
        /// Shorter runs (5 s each, 5,000 idle connections).
        #[arg(long)]
        quick: bool,
        /// Only the idle-connection memory run.
        #[arg(long)]
        idle_only: bool,
        /// Idle connections per report session (the demo is seeded as many times as that needs).
        #[arg(long, default_value_t = 10)]
        idle_per_session: usize,
    },
    /// Write BENCHMARKS.md from the figures in `--dir` and Criterion's output.
    Report {
        /// Folder of the run's JSON figures.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
        /// Criterion's output folder.
        #[arg(long, default_value = "target/criterion")]
        criterion: PathBuf,
        /// The file to write.
        #[arg(long, default_value = "BENCHMARKS.md")]
        out: PathBuf,
        /// The figures come from a quick run.
        #[arg(long)]
        quick: bool,
    },
    /// HTTP reads at a constant rate: the report API, server-rendered pages, hit rate, memory.
    Http {
        #[command(flatten)]
        server: ServerArgs,
        /// Report API reads per second.
        #[arg(long, default_value_t = 2000.0)]
        rate: f64,
        /// Report pages per second.
        #[arg(long, default_value_t = 200.0)]
        page_rate: f64,
        /// Seconds per run.
        #[arg(long, default_value_t = 20)]
        secs: u64,
        /// 5-second runs.
        #[arg(long)]
        quick: bool,
    },
}

#[derive(Serialize)]
struct HttpReport {
    api: http::RateResult,
    pages: http::RateResult,
    /// Cache hits over lookups during the API run, in percent.
    hit_rate_percent: f64,
    idle_rss_bytes: u64,
    loaded_rss_bytes: u64,
}

#[derive(Serialize)]
struct WsReport {
    fanout: Vec<ws::FanoutResult>,
    idle: Vec<ws::IdleResult>,
}

fn spec(args: &ServerArgs) -> anyhow::Result<ServerSpec> {
    anyhow::ensure!(
        args.server.exists(),
        "{} does not exist: run `make build` first",
        args.server.display()
    );
    Ok(ServerSpec {
        binary: args.server.clone(),
        site_root: args.site.clone(),
    })
}

fn write_json(path: &Option<PathBuf>, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(path) = path {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(value)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("figures written to {}", path.display());
    }
    Ok(())
}

async fn users(server: &ServerProcess) -> anyhow::Result<(Api, Api)> {
    let editor = Api::login(&server.base(), "eddie", DEMO_PASSWORD).await?;
    let admin = Api::login(&server.base(), "admin", ADMIN_PASSWORD).await?;
    Ok((editor, admin))
}

fn print_fanout(r: &ws::FanoutResult) {
    println!(
        "{}: sent {} presence, delivered {}/{} ({} out of order)\n  latency {}\n  force-send (saved) {}\n  server queued->written: forced p99 {:.2} ms (n={}), others p99 {:.2} ms (n={})\n  frames {} for {} messages ({:.1}% saved), {:.1} bytes/message; server: frames_out {}, frames_saved {}, bytes_saved {}, slow consumers {}",
        r.label,
        r.sent,
        r.deliveries,
        r.expected_deliveries,
        r.out_of_order,
        r.latency,
        r.forced,
        r.server_forced.p99_ms,
        r.server_forced.count,
        r.server_queued.p99_ms,
        r.server_queued.count,
        r.frames_received,
        r.messages_received,
        100.0 * r.frames_saved(),
        r.bytes_per_message(),
        r.server_frames_out,
        r.server_frames_saved,
        r.server_bytes_saved,
        r.server_slow_consumers,
    );
}

async fn run_ws(
    args: ServerArgs,
    params: Option<ws::FanoutParams>,
    idle: usize,
    per_session: usize,
) -> anyhow::Result<()> {
    let spec = spec(&args)?;
    let db = Database::new()?;
    let mut fanout = Vec::new();
    if let Some(params) = params {
        for batching in [false, true] {
            let server =
                ServerProcess::start(&spec, &db, &[("WS_ENABLE_BATCHING", batching.to_string())])
                    .await?;
            let (editor, admin) = users(&server).await?;
            let reports = editor.reports().await?;
            let label = if batching {
                "one instance, batching on"
            } else {
                "one instance, batching off"
            };
            let r = ws::fanout(label, &editor, &[admin], &reports, params, batching).await?;
            print_fanout(&r);
            fanout.push(r);
        }
        let redis = test_support::RedisServer::start();
        let env = [("REDIS_URL", redis.url())];
        let a = ServerProcess::start(&spec, &db, &env).await?;
        let b = ServerProcess::start(&spec, &db, &env).await?;
        let (editor, admin_a) = users(&a).await?;
        let admin_b = Api::login(&b.base(), "admin", ADMIN_PASSWORD).await?;
        let reports = editor.reports().await?;
        let r = ws::fanout(
            "two instances via Redis, batching on",
            &editor,
            &[admin_a, admin_b],
            &reports,
            params,
            true,
        )
        .await?;
        print_fanout(&r);
        fanout.push(r);
    }
    // Idle connections `per_session` to a report, then as densely as the default cap allows (a
    // connection's cost grows with its session: the welcome lists every member).
    let mut idle_runs = Vec::new();
    for per_session in [per_session, 50] {
        let r = idle_run(&spec, idle, per_session).await?;
        println!(
            "idle: {} connections ({} per session) in {:.1} s; server RSS {:.1} MB -> {:.1} MB: {:.0} bytes per connection",
            r.connections,
            r.per_session,
            r.connect_time.as_secs_f64(),
            r.rss_before_bytes as f64 / 1e6,
            r.rss_after_bytes as f64 / 1e6,
            r.bytes_per_connection
        );
        idle_runs.push(r);
    }
    write_json(
        &args.json,
        &WsReport {
            fanout,
            idle: idle_runs,
        },
    )
}

/// One idle-connection run on a server of its own, the demo seeded as often as `per_session` needs
/// (24 reports per copy).
async fn idle_run(
    spec: &ServerSpec,
    count: usize,
    per_session: usize,
) -> anyhow::Result<ws::IdleResult> {
    let sessions = count.div_ceil(per_session);
    let copies = sessions.div_ceil(24).clamp(1, 50);
    let db = Database::new()?;
    let server = ServerProcess::start(
        spec,
        &db,
        &[
            ("PMR_SEED_COPIES", copies.to_string()),
            ("PMR_MC_ITERATIONS", "1000".to_string()),
            (
                "WS_MAX_CONNECTIONS_PER_SESSION",
                per_session.max(50).to_string(),
            ),
        ],
    )
    .await?;
    let (editor, _) = users(&server).await?;
    let reports = editor.reports().await?;
    let pid = server.pid();
    ws::idle(&editor, &reports, count, per_session, || {
        process::rss_of(pid)
    })
    .await
}

async fn run_http(
    args: ServerArgs,
    rate: f64,
    page_rate: f64,
    secs: u64,
    quick: bool,
) -> anyhow::Result<()> {
    let spec = spec(&args)?;
    let duration = Duration::from_secs(if quick { secs.min(5) } else { secs });
    let db = Database::new()?;
    let server = ServerProcess::start(&spec, &db, &[]).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss_bytes = process::rss_of(server.pid())?;
    let (editor, admin) = users(&server).await?;
    let viewer = Api::login(&server.base(), "vera", DEMO_PASSWORD).await?;
    // Many readers: each user reads every report they may see, in an interleaved order.
    let mut requests = Vec::new();
    for (who, api) in [("eddie", &editor), ("vera", &viewer), ("admin", &admin)] {
        for r in api.reports().await? {
            requests.push((r.id, who, api.cookie.clone()));
        }
    }
    requests.sort_by_key(|(id, who, _)| ((id * 7919) % 101, *who));
    let workload = |prefix: &str| http::Workload {
        base: server.base(),
        requests: requests
            .iter()
            .map(|(id, _, cookie)| (format!("{prefix}{id}"), cookie.clone()))
            .collect(),
    };
    let (hits_before, misses_before) = admin.cache_lookups().await?;
    let api = http::constant_rate(
        "GET /api/reports/{id}",
        workload("/api/reports/"),
        rate,
        duration,
    )
    .await?;
    let (hits_after, misses_after) = admin.cache_lookups().await?;
    let (hits, misses) = (hits_after - hits_before, misses_after - misses_before);
    let hit_rate_percent = 100.0 * hits as f64 / (hits + misses).max(1) as f64;
    println!("{}: {} ({} ok, {} failed, {:.0} req/s); cache hit rate {hit_rate_percent:.2}% ({hits} hits, {misses} misses)",
        api.label, api.latency, api.ok, api.failed, api.achieved_rate);
    let pages = http::constant_rate(
        "GET /reports/{id} (server-rendered)",
        workload("/reports/"),
        page_rate,
        duration,
    )
    .await?;
    println!(
        "{}: {} ({} ok, {} failed, {:.0} req/s)",
        pages.label, pages.latency, pages.ok, pages.failed, pages.achieved_rate
    );
    let loaded_rss_bytes = process::rss_of(server.pid())?;
    println!(
        "server memory: {:.1} MB idle, {:.1} MB after the load",
        idle_rss_bytes as f64 / 1e6,
        loaded_rss_bytes as f64 / 1e6
    );
    write_json(
        &args.json,
        &HttpReport {
            api,
            pages,
            hit_rate_percent,
            idle_rss_bytes,
            loaded_rss_bytes,
        },
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ws {
            server,
            conns,
            sessions,
            rate,
            secs,
            idle,
            quick,
            idle_only,
            idle_per_session,
        } => {
            let params = ws::FanoutParams {
                conns,
                sessions,
                rate,
                duration: Duration::from_secs(if quick { secs.min(5) } else { secs }),
                save_rate: 1.0,
            };
            let idle = if quick { idle.min(5_000) } else { idle };
            run_ws(
                server,
                (!idle_only).then_some(params),
                idle,
                idle_per_session.max(1),
            )
            .await
        }
        Command::Report {
            dir,
            criterion,
            out,
            quick,
        } => report::write(
            &report::Inputs {
                dir,
                criterion,
                quick,
            },
            &out,
        ),
        Command::Http {
            server,
            rate,
            page_rate,
            secs,
            quick,
        } => run_http(server, rate, page_rate, secs, quick).await,
    }
}
