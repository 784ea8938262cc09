//! `loadgen`: PMR's load tool. It starts real server processes (the release binary, each scenario
//! with its own settings, on free ports, with a harness-started Redis where a scenario needs two
//! instances), drives them with real clients at a constant arrival rate, and records HDR histograms.
//!
//! - `loadgen ws`: the collaboration benchmarks, PMR beside the Socket.IO peer of `bench/peer` under
//!   the same schedule (one and two instances, batching off and on: deliveries per server CPU-second,
//!   latency from the intended send time, resident memory, TCP segments and bytes as the kernel
//!   counts them), force-send, memory per idle connection.
//!
//! - `loadgen http`: reads over HTTP at a constant rate (the cached report API at 2,000 requests/s,
//!   server-rendered report pages at 200/s) and the server's memory idle and after the load; then
//!   the cache as readers meet it (`usage`): many readers choosing among 240 reports with a Zipf
//!   popularity, regenerations invalidating what they touch, two instances starting cold with Redis
//!   between them: the hit rate and the latency of hits and misses.
//!
//! - `loadgen floor`: the bare Rust fan-out `loadgen ws` also measures (one instance, batching off
//!   and on), the least a server can do for the same messages (`floor`): the bound on what any
//!   change to PMR's own code could reach on the machine.
//!
//! - `loadgen report`: BENCHMARKS.md from the figures of a `make bench` run.
//!
//! Each command prints its figures and, with `--json FILE`, writes them for `make bench`.

mod api;
mod floor;
mod hist;
mod http;
mod kernel;
mod pace;
mod process;
mod report;
mod usage;
mod ws;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use serde::Serialize;

use api::Api;
use process::{Database, PeerProcess, ServerProcess, ServerSpec, ADMIN_PASSWORD, DEMO_PASSWORD};

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
    /// Collaboration, PMR beside the Socket.IO peer (one and two instances, batching off and on):
    /// deliveries per CPU-second, latency, memory, frames, segments and bytes; force-send; memory per
    /// idle connection.
    Ws {
        #[command(flatten)]
        server: ServerArgs,
        /// The Socket.IO peer's server script (its npm packages in `bench/node_modules`).
        #[arg(long, default_value = "bench/peer/server.mjs")]
        peer: PathBuf,
        /// Only the fan-out runs whose label contains this (`PMR`, `peer`, `one instance`,
        /// `batching off`, ...), for a profile of one of them.
        #[arg(long)]
        only: Option<String>,
        /// Connections in the fan-out.
        #[arg(long, default_value_t = 500)]
        conns: usize,
        /// Report sessions they are spread over.
        #[arg(long, default_value_t = 50)]
        sessions: usize,
        /// Presence messages per second per connection.
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        /// Saved revisions per second in each draft's session (0: none).
        #[arg(long, default_value_t = 1.0)]
        save_rate: f64,
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
    /// The bare Rust fan-out server (`loadgen ws` starts it as a process of its own).
    Floor {
        /// The port to listen on (127.0.0.1).
        #[arg(long)]
        port: u16,
        /// Batch each room's messages (10 or 50 ms).
        #[arg(long)]
        batching: bool,
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
    idle_rss_bytes: u64,
    loaded_rss_bytes: u64,
    usage: usage::UsageResult,
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
        "{}: {:.2} CPU-s ({:.2} system) over {:.1} s: {:.0} deliveries per CPU-second; RSS {} MB; server TCP: {} sockets, {} segments and {} bytes out, {} segments in; loopback {} packets, {} bytes",
        r.label,
        r.cpu_seconds,
        r.system_seconds,
        r.window_secs,
        r.deliveries_per_cpu_second(),
        r.rss_bytes.iter().map(|b| format!("{:.1}", *b as f64 / 1e6)).collect::<Vec<_>>().join(" + "),
        r.tcp.sockets,
        r.tcp.segs_out,
        r.tcp.bytes_sent,
        r.tcp.segs_in,
        r.loopback.packets,
        r.loopback.bytes,
    );
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
    peer: PathBuf,
    only: Option<&str>,
    params: Option<ws::FanoutParams>,
    idle: usize,
    per_session: usize,
) -> anyhow::Result<()> {
    let spec = spec(&args)?;
    let db = Database::new()?;
    let mut fanout = Vec::new();
    if let Some(params) = params {
        // The demo is seeded here, by a server of its own: no instance measured below seeded it.
        let reports = {
            let seeder = ServerProcess::start(&spec, &db, &[]).await?;
            users(&seeder).await?.0.reports().await?
        };
        for batching in [false, true] {
            for instances in [1usize, 2] {
                let redis = (instances > 1).then(test_support::RedisServer::start);
                let shape = ws::shape(instances, batching);
                let wanted = |label: &str| only.is_none_or(|o| label.contains(o));
                if wanted(&format!("PMR, {shape}")) {
                    let r = pmr_fanout(
                        &spec,
                        &db,
                        redis.as_ref(),
                        instances,
                        batching,
                        &reports,
                        params,
                    )
                    .await?;
                    print_fanout(&r);
                    fanout.push(r);
                }
                if let Some(redis) = &redis {
                    redis_flush(redis).await?;
                }
                if wanted(&format!("Socket.IO peer, {shape}")) {
                    let r =
                        peer_fanout(&peer, redis.as_ref(), instances, batching, &reports, params)
                            .await?;
                    print_fanout(&r);
                    fanout.push(r);
                }
                // The floor has no relay: one instance only.
                if instances == 1 && wanted(&format!("{}, {shape}", ws::BARE)) {
                    let r = bare_fanout(batching, &reports, params).await?;
                    print_fanout(&r);
                    fanout.push(r);
                }
            }
        }
    }
    // Idle connections `per_session` to a report, then as densely as the default cap allows (a
    // connection's cost grows with its session: the welcome lists every member).
    let mut idle_runs = Vec::new();
    for per_session in [per_session, 50] {
        if idle == 0 {
            break;
        }
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

/// Empties the run's Redis between the two servers, so neither reads what the other left.
async fn redis_flush(redis: &test_support::RedisServer) -> anyhow::Result<()> {
    let status = std::process::Command::new("redis-cli")
        .args(["-u", &redis.url(), "FLUSHALL"])
        .stdout(std::process::Stdio::null())
        .status()
        .context("running redis-cli")?;
    anyhow::ensure!(status.success(), "redis-cli FLUSHALL failed");
    Ok(())
}

/// A fan-out on `instances` PMR servers of the seeded `db` (through `redis` when several).
#[allow(clippy::too_many_arguments)]
async fn pmr_fanout(
    spec: &ServerSpec,
    db: &Database,
    redis: Option<&test_support::RedisServer>,
    instances: usize,
    batching: bool,
    reports: &[api::ReportLink],
    params: ws::FanoutParams,
) -> anyhow::Result<ws::FanoutResult> {
    let mut env = vec![("WS_ENABLE_BATCHING", batching.to_string())];
    if let Some(redis) = redis {
        env.push(("REDIS_URL", redis.url()));
    }
    let mut servers = Vec::new();
    for _ in 0..instances {
        servers.push(ServerProcess::start(spec, db, &env).await?);
    }
    let editor = Api::login(&servers[0].base(), "eddie", DEMO_PASSWORD).await?;
    let mut targets = Vec::new();
    for s in &servers {
        targets.push(ws::Instance {
            base: s.base(),
            port: s.port,
            pid: s.pid(),
            admin: Some(Api::login(&s.base(), "admin", ADMIN_PASSWORD).await?),
        });
    }
    let protocol = ws::Protocol::Pmr {
        cookie: editor.cookie.clone(),
    };
    ws::fanout(&protocol, &targets, reports, params, batching).await
}

/// The same fan-out on `instances` Socket.IO peers.
async fn peer_fanout(
    script: &std::path::Path,
    redis: Option<&test_support::RedisServer>,
    instances: usize,
    batching: bool,
    reports: &[api::ReportLink],
    params: ws::FanoutParams,
) -> anyhow::Result<ws::FanoutResult> {
    let url = redis.map(|r| r.url());
    let mut peers = Vec::new();
    for _ in 0..instances {
        peers.push(PeerProcess::start(script, batching, url.as_deref()).await?);
    }
    let targets: Vec<ws::Instance> = peers.iter().map(PeerProcess::instance).collect();
    let protocol = ws::Protocol::SocketIo {
        user: "eddie".into(),
    };
    ws::fanout(&protocol, &targets, reports, params, batching).await
}

/// The same fan-out on the bare Rust server of `loadgen floor` (one instance).
async fn bare_fanout(
    batching: bool,
    reports: &[api::ReportLink],
    params: ws::FanoutParams,
) -> anyhow::Result<ws::FanoutResult> {
    let floor = PeerProcess::start_floor(batching).await?;
    let targets = [floor.instance()];
    let protocol = ws::Protocol::Bare {
        user: "eddie".into(),
    };
    ws::fanout(&protocol, &targets, reports, params, batching).await
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
    let api = http::constant_rate(
        "GET /api/reports/{id}",
        workload("/api/reports/"),
        rate,
        duration,
    )
    .await?;
    println!(
        "{}: {} ({} ok, {} failed, {:.0} req/s)",
        api.label, api.latency, api.ok, api.failed, api.achieved_rate
    );
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
    drop(server);
    let usage = usage_run(&spec, duration).await?;
    println!(
        "usage: {} reads of {} reports by {} readers on {} cold instances ({:.0}% to the top 10), {} regenerations: hit rate {:.1}% ({} hits, {} misses, {} unlabelled, {} failed)\n  hits {}\n  misses {}",
        usage.reads,
        usage.reports,
        usage.accounts,
        usage.instances,
        usage.top10_share_percent,
        usage.regenerations,
        usage.hit_rate_percent,
        usage.hits,
        usage.misses,
        usage.unlabelled,
        usage.failed,
        usage.hit,
        usage.miss
    );
    write_json(
        &args.json,
        &HttpReport {
            api,
            pages,
            idle_rss_bytes,
            loaded_rss_bytes,
            usage,
        },
    )
}

/// The cache under use: two cold instances sharing a harness-started Redis, the demo seeded ten
/// times (240 reports), 20 reader sessions of the demo accounts.
async fn usage_run(spec: &ServerSpec, duration: Duration) -> anyhow::Result<usage::UsageResult> {
    let db = Database::new()?;
    let redis = test_support::RedisServer::start();
    let reports = {
        let seeder = ServerProcess::start(spec, &db, &[("PMR_SEED_COPIES", "10".into())]).await?;
        users(&seeder).await?.1.reports().await?
    };
    // One admin regenerates a draft a second: above the per-caller quota a person gets by default.
    let env = [
        ("PMR_SEED_COPIES", "10".to_string()),
        ("REDIS_URL", redis.url()),
        ("PMR_COSTLY_RUNS_PER_MINUTE", "600".to_string()),
    ];
    let a = ServerProcess::start(spec, &db, &env).await?;
    let b = ServerProcess::start(spec, &db, &env).await?;
    let bases = [a.base(), b.base()];
    let admin = Api::login(&a.base(), "admin", ADMIN_PASSWORD).await?;
    let mut readers: Vec<(Api, Vec<i64>)> = Vec::new();
    for (user, password, sessions) in [
        ("eddie", DEMO_PASSWORD, 8),
        ("vera", DEMO_PASSWORD, 8),
        ("admin", ADMIN_PASSWORD, 4),
    ] {
        for k in 0..sessions {
            let api = Api::login(&bases[k % 2], user, password).await?;
            let ids = api.reports().await?.iter().map(|r| r.id).collect();
            readers.push((api, ids));
        }
    }
    let readable = reports
        .iter()
        .map(|r| usage::Readable {
            id: r.id,
            draft: r.status == "draft",
            readers: readers
                .iter()
                .filter(|(_, ids)| ids.contains(&r.id))
                .map(|(api, _)| api.cookie.clone())
                .collect(),
        })
        .collect();
    usage::run(
        &bases,
        &admin,
        readable,
        usage::UsageParams {
            rate: 500.0,
            seconds: duration.as_secs_f64(),
            zipf_s: 1.0,
            regenerations_per_second: 1.0,
        },
    )
    .await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ws {
            server,
            peer,
            only,
            conns,
            sessions,
            rate,
            save_rate,
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
                save_rate: save_rate.max(0.0),
            };
            let idle = if quick { idle.min(5_000) } else { idle };
            run_ws(
                server,
                peer,
                only.as_deref(),
                (!idle_only).then_some(params),
                idle,
                idle_per_session.max(1),
            )
            .await
        }
        Command::Floor { port, batching } => floor::serve(port, batching).await,
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
