//! `loadgen report`: BENCHMARKS.md from the figures of one `make bench` run: Criterion's estimates
//! (`target/criterion`), the JSON the cached-read benchmark and `loadgen ws`/`http` wrote, and the
//! WASM sizes. One table per area: figure, measured, the seed's promise, the target, and whether it
//! is met (a miss says by how much).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

/// Where the figures are.
pub struct Inputs {
    /// JSON files of this run (`ws.json`, `http.json`, `cached_reads.json`, `wasm.json`).
    pub dir: PathBuf,
    /// Criterion's output folder.
    pub criterion: PathBuf,
    pub quick: bool,
}

struct Row {
    figure: String,
    measured: String,
    promise: &'static str,
    target: String,
    verdict: String,
}

/// A target's verdict: "met", or "missed by …".
fn upper(value: f64, limit: f64, unit: &str) -> String {
    if value <= limit {
        "met".into()
    } else {
        format!(
            "**missed** by {} ({:.1}×)",
            fmt_num(value - limit, unit),
            value / limit
        )
    }
}

fn lower(value: f64, floor: f64, unit: &str) -> String {
    if value >= floor {
        "met".into()
    } else if unit == "×" {
        format!("**missed**: {value:.2}× of {floor}×")
    } else {
        format!("**missed** by {}", fmt_num(floor - value, unit))
    }
}

fn fmt_num(v: f64, unit: &str) -> String {
    match unit {
        "ms" if v < 1.0 => format!("{v:.3} ms"),
        "ms" if v < 100.0 => format!("{v:.2} ms"),
        "ms" => format!("{v:.0} ms"),
        "ns" => format!("{v:.1} ns"),
        "s" if v < 0.001 => "under 1 ms".into(),
        "s" if v < 1.0 => format!("{:.0} ms", v * 1000.0),
        "s" => format!("{v:.2} s"),
        "%" => format!("{v:.1} %"),
        "×" => format!("{v:.2}×"),
        "KB" => format!("{v:.0} KB"),
        "B" => format!("{v:.0} B"),
        _ => format!("{v:.2} {unit}"),
    }
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// The framework's own floor (`bench/framework-floor`, `framework-floor.json`): one small component
/// built by Leptos as an island and as a fully hydrated page, in this run, as sentences and a table
/// for the initial WASM's cause note; empty without the file.
fn framework_floor(dir: &Path) -> String {
    let Some(f) = read_json(&dir.join("framework-floor.json")) else {
        return String::new();
    };
    let size = |name: &str| {
        f["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|v| {
                (v["name"].as_str() == Some(name)).then(|| {
                    (
                        v["raw"].as_f64().unwrap_or(0.0),
                        v["brotli"].as_f64().unwrap_or(0.0),
                    )
                })
            })
    };
    let rows = [
        ("islands counter", "an island: a button counting its clicks (`hydrate_islands`)"),
        (
            "islands data",
            "an island: rows from a server function (a resource, Suspense, a list filtered as you type, a button loading more)",
        ),
        ("hydrated counter", "the counter as the one route of a fully hydrated app (router, `hydrate_body`)"),
        ("hydrated data", "the rows as the one route of a fully hydrated app"),
    ];
    let mut table = String::from("\n\n| The smallest build of | Raw | Brotli |\n|---|---|---|\n");
    for (name, what) in rows {
        if let Some((raw, br)) = size(name) {
            let _ = writeln!(
                table,
                "| {what} | {:.0} KB | {:.1} KB |",
                raw / 1000.0,
                br / 1000.0
            );
        }
    }
    let Some((_, island)) = size("islands data") else {
        return String::new();
    };
    format!(
        " What the framework itself costs, measured in this run: one small component built by the same \
         Leptos, flags and crate versions as the product (`bench/framework-floor`), as an island and as a \
         fully hydrated page. An island that loads data is {:.1} KB brotli by itself, so under islands the \
         report page's own interactive code would have to fit in the other {:.0} KB; the same component \
         hydrated with a router is the runtime a fully hydrated page cannot shed.{}\n\n",
        island / 1000.0,
        (200_000.0 - island).max(0.0) / 1000.0,
        table.trim_end()
    )
}

/// The median of some figures; NaN for none.
fn median(figures: &[f64]) -> f64 {
    let mut sorted = figures.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Criterion's mean estimate of `group/function`, in nanoseconds.
fn criterion_mean(dir: &Path, group: &str, function: &str) -> Option<f64> {
    let v = read_json(&dir.join(group).join(function).join("new/estimates.json"))?;
    v["mean"]["point_estimate"].as_f64()
}

/// The 95th percentile of Criterion's per-sample means of `group/function`, in nanoseconds.
fn criterion_p95(dir: &Path, group: &str, function: &str) -> Option<f64> {
    let v = read_json(&dir.join(group).join(function).join("new/sample.json"))?;
    let iters = v["iters"].as_array()?;
    let times = v["times"].as_array()?;
    let mut per: Vec<f64> = iters
        .iter()
        .zip(times)
        .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
        .collect();
    if per.is_empty() {
        return None;
    }
    per.sort_by(f64::total_cmp);
    let at = ((per.len() as f64 * 0.95).ceil() as usize).clamp(1, per.len()) - 1;
    Some(per[at])
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or_else(String::new, |kb| {
            format!(", {:.0} GB RAM", kb / 1024.0 / 1024.0)
        });
    format!("{cores} cores, {model}{memory}")
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn missing(figure: &str, why: &str) -> Row {
    Row {
        figure: figure.into(),
        measured: format!("not measured ({why})"),
        promise: "",
        target: String::new(),
        verdict: "—".into(),
    }
}

fn table(out: &mut String, title: &str, intro: &str, rows: &[Row]) {
    let _ = writeln!(out, "## {title}\n\n{intro}\n");
    let _ = writeln!(
        out,
        "| Figure | Measured | Seed's promise | Target | Verdict |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.figure,
            r.measured,
            if r.promise.is_empty() {
                "—"
            } else {
                r.promise
            },
            if r.target.is_empty() {
                "—"
            } else {
                &r.target
            },
            r.verdict
        );
    }
    out.push('\n');
}

fn monte_carlo(c: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for (group, label, limit) in [
        (
            "monte_carlo_200x10k_1core",
            "200 tasks × 10,000 iterations, one core",
            50.0,
        ),
        (
            "monte_carlo_500x100k_2cores",
            "500 tasks × 100,000 iterations, both cores",
            2000.0,
        ),
    ] {
        match (
            criterion_mean(c, group, "simulation"),
            criterion_mean(c, group, "bare_sampling_loop"),
        ) {
            (Some(sim), Some(bare)) => {
                let (sim, bare) = (sim / 1e6, bare / 1e6);
                rows.push(Row {
                    figure: format!("{label} (`{group}`)"),
                    measured: format!("{} mean", fmt_num(sim, "ms")),
                    promise: "< 15 s (`monte_carlo_analysis_time`)",
                    target: format!("< {limit:.0} ms"),
                    verdict: upper(sim, limit, "ms"),
                });
                rows.push(Row {
                    figure: format!(
                        "{label}: ratio to the bare sampling loop ({} in the same run)",
                        fmt_num(bare, "ms")
                    ),
                    measured: fmt_num(sim / bare, "×"),
                    promise: "",
                    target: "≤ 3×".into(),
                    verdict: upper(sim / bare, 3.0, "×"),
                });
            }
            _ => rows.push(missing(
                label,
                "run `cargo bench -p server --bench monte_carlo`",
            )),
        }
    }
    rows
}

fn generation(c: &Path) -> Vec<Row> {
    let group = "report_generation_300_tasks_10k";
    match (criterion_p95(c, group, "generate"), criterion_mean(c, group, "generate")) {
        (Some(p95), Some(mean)) => vec![Row {
            figure: "Cold generation of every section, 300-task project, 10k iterations (`report_generation_300_tasks_10k`)".into(),
            measured: format!("p95 {} (mean {})", fmt_num(p95 / 1e6, "ms"), fmt_num(mean / 1e6, "ms")),
            promise: "< 30 s (`report_generation_time`)",
            target: "p95 < 250 ms".into(),
            verdict: upper(p95 / 1e6, 250.0, "ms"),
        }],
        _ => vec![missing("Report generation", "run `cargo bench -p server --bench report_generation`")],
    }
}

/// How late the load generator itself released a run's requests (`pace`), part of every latency
/// beside it that is not the server's.
fn send_lateness(v: &Value) -> String {
    format!(
        "the generator sent them p50 {} and p99 {} after their intended time",
        fmt_num(num(&v["p50_ms"]), "ms"),
        fmt_num(num(&v["p99_ms"]), "ms")
    )
}

fn reads(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    match read_json(&dir.join("http.json")) {
        Some(h) => {
            let api = &h["api"];
            let p99 = api["latency"]["p99_ms"].as_f64().unwrap_or(f64::NAN);
            rows.push(Row {
                figure: format!(
                    "Cached `GET /api/reports/{{id}}` at a constant {:.0} requests/s ({} requests, {} failed; p50 {}, p99.9 {}; {})",
                    api["rate"].as_f64().unwrap_or(0.0),
                    api["ok"].as_u64().unwrap_or(0) + api["failed"].as_u64().unwrap_or(0),
                    api["failed"].as_u64().unwrap_or(0),
                    fmt_num(api["latency"]["p50_ms"].as_f64().unwrap_or(f64::NAN), "ms"),
                    fmt_num(api["latency"]["p999_ms"].as_f64().unwrap_or(f64::NAN), "ms"),
                    send_lateness(&api["send_lateness"]),
                ),
                measured: format!("p99 {}", fmt_num(p99, "ms")),
                promise: "< 2 s (`api_response_time`); 40–60% faster for cached data",
                target: "p99 < 5 ms".into(),
                verdict: upper(p99, 5.0, "ms"),
            });
            let u = &h["usage"];
            let rate = num(&u["hit_rate_percent"]);
            let p = &u["params"];
            rows.push(Row {
                figure: format!(
                    "Cache hit rate under use: {} reads at {:.0}/s by {} reader sessions over {} reports with a Zipf popularity (s = {}; {:.0}% of reads to the 10 most popular), {} instances starting cold with Redis between them, a regeneration of a popular draft every {:.0} s ({} done, {} refused) dropping its cached copies on every instance; {} hits, {} misses, {} failed, each read classified by its `x-cache` answer",
                    u["reads"],
                    num(&p["rate"]),
                    u["accounts"],
                    u["reports"],
                    p["zipf_s"],
                    num(&u["top10_share_percent"]),
                    u["instances"],
                    1.0 / num(&p["regenerations_per_second"]),
                    u["regenerations"],
                    u["regenerations_failed"],
                    u["hits"],
                    u["misses"],
                    u["failed"],
                ),
                measured: fmt_num(rate, "%"),
                promise: "> 70% (`cache_hit_rate`)",
                target: "> 70%".into(),
                verdict: lower(rate, 70.0, "%"),
            });
            let (hit, miss) = (&u["hit"], &u["miss"]);
            let lat = |v: &Value| {
                format!(
                    "p50 {}, p99 {}",
                    fmt_num(num(&v["p50_ms"]), "ms"),
                    fmt_num(num(&v["p99_ms"]), "ms")
                )
            };
            rows.push(Row {
                figure: format!(
                    "Latency of those reads from the intended send time: hits beside misses (a miss reads the report from SQLite and encodes it; {})",
                    send_lateness(&u["send_lateness"])
                ),
                measured: format!("hits {}; misses {}", lat(hit), lat(miss)),
                promise: "40–60% faster for cached data",
                target: "hit p50 ≤ half the miss p50".into(),
                verdict: upper(num(&hit["p50_ms"]), num(&miss["p50_ms"]) / 2.0, "ms"),
            });
            let pages = &h["pages"];
            let p99 = pages["latency"]["p99_ms"].as_f64().unwrap_or(f64::NAN);
            rows.push(Row {
                figure: format!(
                    "Server-rendered `GET /reports/{{id}}` at a constant {:.0} requests/s ({} failed; p50 {})",
                    pages["rate"].as_f64().unwrap_or(0.0),
                    pages["failed"].as_u64().unwrap_or(0),
                    fmt_num(pages["latency"]["p50_ms"].as_f64().unwrap_or(f64::NAN), "ms"),
                ),
                measured: format!("p99 {}", fmt_num(p99, "ms")),
                promise: "",
                target: "p99 < 20 ms".into(),
                verdict: upper(p99, 20.0, "ms"),
            });
        }
        None => rows.push(missing("HTTP reads", "run `loadgen http`")),
    }
    match read_json(&dir.join("cached_reads.json")) {
        Some(c) => {
            let (stat, cached) = (
                c["static_rps"].as_f64().unwrap_or(f64::NAN),
                c["cached_rps"].as_f64().unwrap_or(f64::NAN),
            );
            rows.push(Row {
                figure: format!(
                    "Cached read throughput ({} keep-alive clients, {} B): {cached:.0} req/s vs a bare handler serving the same bytes {stat:.0} req/s (`cached_reads`)",
                    c["clients"], c["response_bytes"]
                ),
                measured: fmt_num(cached / stat, "×"),
                promise: "",
                target: "≥ 0.5× static".into(),
                verdict: lower(cached / stat, 0.5, "×"),
            });
            let uncached = c["uncached_sqlite_rps"].as_f64().unwrap_or(f64::NAN);
            let mut figure = format!("Cached vs uncached throughput: SQLite {uncached:.0} req/s");
            if let Some(pg) = c["uncached_postgres_rps"].as_f64() {
                let _ = write!(
                    figure,
                    ", PostgreSQL {pg:.0} req/s ({})",
                    fmt_num(cached / pg, "×")
                );
            }
            rows.push(Row {
                figure,
                measured: format!("{} (SQLite)", fmt_num(cached / uncached, "×")),
                promise: "Database load 50–70% lower with caching",
                target: "≥ 20× (issue 5)".into(),
                verdict: lower(cached / uncached, 20.0, "×"),
            });
        }
        None => rows.push(missing(
            "Cached vs static throughput",
            "run `cargo bench -p server --bench cached_reads`",
        )),
    }
    rows
}

/// A fan-out run of `ws.json` by server, instances and batching.
fn fanout_run(w: &Value, server: &str, instances: u64, batching: bool) -> Option<Value> {
    w["fanout"]
        .as_array()?
        .iter()
        .find(|r| {
            r["server"].as_str() == Some(server)
                && r["instances"].as_u64() == Some(instances)
                && r["batching"].as_bool() == Some(batching)
        })
        .cloned()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Server CPU per delivered message, in microseconds.
fn cpu_per_delivery_us(r: &Value) -> f64 {
    1e6 * num(&r["cpu_seconds"]) / num(&r["deliveries"]).max(1.0)
}

/// A kernel counter per delivered message.
fn per_delivery(r: &Value, group: &str, counter: &str) -> f64 {
    num(&r[group][counter]) / num(&r["deliveries"]).max(1.0)
}

/// "N% fewer" or "N% more", from `after` against `before`.
fn change(after: f64, before: f64, what: &str) -> String {
    let saved = 100.0 * (1.0 - after / before);
    if saved >= 0.0 {
        format!("{} fewer {what}", fmt_num(saved, "%"))
    } else {
        format!("{} more {what}", fmt_num(-saved, "%"))
    }
}

fn websocket(dir: &Path) -> Vec<Row> {
    let Some(w) = read_json(&dir.join("ws.json")) else {
        return vec![missing("WebSocket", "run `loadgen ws`")];
    };
    let mut rows = Vec::new();
    let (Some(on), Some(off)) = (
        fanout_run(&w, "PMR", 1, true),
        fanout_run(&w, "PMR", 1, false),
    ) else {
        return vec![missing("WebSocket fan-out", "incomplete ws.json")];
    };
    let p = &on["params"];
    let shape = format!(
        "{} connections in {} sessions, {} presence messages/s each, {} s",
        p["conns"], p["sessions"], p["rate"], p["duration"]
    );
    let ms = |r: &Value, k: &str| r["latency"][k].as_f64().unwrap_or(f64::NAN);
    let delivered = |r: &Value| {
        format!(
            "{}/{} delivered, {} out of order",
            r["deliveries"], r["expected_deliveries"], r["out_of_order"]
        )
    };
    let latencies = |r: &Value| {
        format!(
            "p50 {}, p99 {}, p99.9 {}",
            fmt_num(ms(r, "p50_ms"), "ms"),
            fmt_num(ms(r, "p99_ms"), "ms"),
            fmt_num(ms(r, "p999_ms"), "ms")
        )
    };
    rows.push(Row {
        figure: format!(
            "Delivery latency from the intended send time, one instance, batching **off** ({shape}; {})",
            delivered(&off)
        ),
        measured: latencies(&off),
        promise: "< 100 ms (`websocket_message_latency`)",
        target: "p99 < 100 ms".into(),
        verdict: upper(ms(&off, "p99_ms"), 100.0, "ms"),
    });
    rows.push(Row {
        figure: format!(
            "The same, batching **on** (10 messages or 50 ms; {}). A message waits for its batch up to the 50 ms window, by design: latency rises, and what batching buys is below",
            delivered(&on)
        ),
        measured: latencies(&on),
        promise: "< 100 ms (`websocket_message_latency`)",
        target: "p99 < 100 ms".into(),
        verdict: upper(ms(&on, "p99_ms"), 100.0, "ms"),
    });
    let rise = ms(&on, "p50_ms") - ms(&off, "p50_ms");
    rows.push(Row {
        figure: format!(
            "The seed's \"60–80% lower latency\" with batching: p50 {} on vs {} off, p99 {} vs {}",
            fmt_num(ms(&on, "p50_ms"), "ms"),
            fmt_num(ms(&off, "p50_ms"), "ms"),
            fmt_num(ms(&on, "p99_ms"), "ms"),
            fmt_num(ms(&off, "p99_ms"), "ms"),
        ),
        measured: if rise >= 0.0 {
            format!("p50 {} higher", fmt_num(rise, "ms"))
        } else {
            format!("p50 {} lower", fmt_num(-rise, "ms"))
        },
        promise: "60–80% lower latency with batching",
        target: "none: batching trades latency for work".into(),
        verdict: if rise > 0.0 {
            "**not met, by design**: waiting for a batch cannot make a message earlier".into()
        } else {
            "lower here: the unbatched server was the bottleneck".into()
        },
    });
    let (cpu_on, cpu_off) = (cpu_per_delivery_us(&on), cpu_per_delivery_us(&off));
    rows.push(Row {
        figure: format!(
            "Server CPU per delivered message (`/proc/<pid>/stat`, user + system, over the run): {cpu_on:.2} µs on vs {cpu_off:.2} µs off ({:.2} vs {:.2} CPU-s)",
            num(&on["cpu_seconds"]),
            num(&off["cpu_seconds"])
        ),
        measured: change(cpu_on, cpu_off, "CPU per message"),
        promise: "",
        target: "reported".into(),
        verdict: "—".into(),
    });
    let frames = |r: &Value| num(&r["frames_received"]) / num(&r["messages_received"]).max(1.0);
    let saved = 100.0 * (1.0 - frames(&on) / frames(&off));
    rows.push(Row {
        figure: format!(
            "WebSocket frames per message received, as the clients count them: {:.3} on vs {:.3} off",
            frames(&on),
            frames(&off),
        ),
        measured: format!("{} fewer frames", fmt_num(saved, "%")),
        promise: "60–80% less network overhead",
        target: "≥ 70% fewer frames".into(),
        verdict: lower(saved, 70.0, "%"),
    });
    let (segs_on, segs_off) = (
        per_delivery(&on, "tcp", "segs_out"),
        per_delivery(&off, "tcp", "segs_out"),
    );
    let (bytes_on, bytes_off) = (
        per_delivery(&on, "tcp", "bytes_sent"),
        per_delivery(&off, "tcp", "bytes_sent"),
    );
    rows.push(Row {
        figure: format!(
            "What the server's TCP sent per delivered message, as the kernel counts it (`TCP_INFO` of its clients' connections, through `ss`): {segs_on:.3} segments and {bytes_on:.1} bytes of payload on vs {segs_off:.3} and {bytes_off:.1} off"
        ),
        measured: format!(
            "{}; {}{}",
            change(segs_on, segs_off, "segments"),
            change(bytes_on, bytes_off, "payload bytes"),
            if bytes_on > bytes_off {
                " (the batch envelope)"
            } else {
                ""
            }
        ),
        promise: "60–80% less network overhead",
        target: "reported".into(),
        verdict: "—".into(),
    });
    let (lo_p_on, lo_p_off) = (
        per_delivery(&on, "loopback", "packets"),
        per_delivery(&off, "loopback", "packets"),
    );
    let (lo_b_on, lo_b_off) = (
        per_delivery(&on, "loopback", "bytes"),
        per_delivery(&off, "loopback", "bytes"),
    );
    let wire_saved = 100.0 * (1.0 - lo_b_on / lo_b_off);
    rows.push(Row {
        figure: format!(
            "Bytes on the wire per delivered message: the loopback interface's counters over the run (every packet both ways, the clients' sends and the ACKs included, IP and TCP headers included): {lo_b_on:.1} bytes in {lo_p_on:.3} packets on vs {lo_b_off:.1} bytes in {lo_p_off:.3} packets off"
        ),
        measured: format!(
            "{}; {}",
            change(lo_b_on, lo_b_off, "bytes"),
            change(lo_p_on, lo_p_off, "packets")
        ),
        promise: "60–80% less network overhead",
        target: "≥ 60% fewer bytes (the seed's floor)".into(),
        verdict: lower(wire_saved, 60.0, "%"),
    });
    let server_forced = &on["server_forced"];
    let sp99 = server_forced["p99_ms"].as_f64().unwrap_or(f64::NAN);
    rows.push(Row {
        figure: format!(
            "Force-send under the same load, batching on: a `force_send` message from queued to written on every member's socket (the server's `websocket_message_latency{{delivery=forced}}`, {} frames; batched messages beside it: p99 {})",
            server_forced["count"],
            fmt_num(on["server_queued"]["p99_ms"].as_f64().unwrap_or(f64::NAN), "ms")
        ),
        measured: format!("p99 {}", fmt_num(sp99, "ms")),
        promise: "urgent messages sent at once",
        target: "p99 < 10 ms".into(),
        verdict: upper(sp99, 10.0, "ms"),
    });
    let forced = &on["forced"];
    let fp99 = forced["p99_ms"].as_f64().unwrap_or(f64::NAN);
    rows.push(Row {
        figure: format!(
            "The same seen by the clients, end to end: `save` sent to the force-sent `saved` received by every member ({} deliveries; p50 {}); this includes writing the text back and the revision to SQLite",
            forced["count"],
            fmt_num(forced["p50_ms"].as_f64().unwrap_or(f64::NAN), "ms")
        ),
        measured: format!("p99 {}", fmt_num(fp99, "ms")),
        promise: "",
        target: "reported (the store write is not force-send's)".into(),
        verdict: "—".into(),
    });
    if let Some(two) = fanout_run(&w, "PMR", 2, false) {
        let extra = ms(&two, "p99_ms") - ms(&off, "p99_ms");
        rows.push(Row {
            figure: format!(
                "Two instances via Redis, batching **off** (half of each session on each; no batch window hides the relay, whose publisher lingers 1 ms to pack while messages come less than 1 ms apart, as they do here): p50 {}, p99 {} vs one instance p50 {}, p99 {} ({}); server CPU per delivered message {:.2} µs vs {:.2} µs",
                fmt_num(ms(&two, "p50_ms"), "ms"),
                fmt_num(ms(&two, "p99_ms"), "ms"),
                fmt_num(ms(&off, "p50_ms"), "ms"),
                fmt_num(ms(&off, "p99_ms"), "ms"),
                delivered(&two),
                cpu_per_delivery_us(&two),
                cpu_off,
            ),
            measured: format!("{} extra p99", fmt_num(extra, "ms")),
            promise: "",
            target: "< 5 ms extra p99".into(),
            verdict: upper(extra.max(0.0), 5.0, "ms"),
        });
    }
    if let Some(two) = fanout_run(&w, "PMR", 2, true) {
        let extra = ms(&two, "p99_ms") - ms(&on, "p99_ms");
        rows.push(Row {
            figure: format!(
                "Two instances via Redis, batching on: p50 {}, p99 {} vs one instance p99 {} ({})",
                fmt_num(ms(&two, "p50_ms"), "ms"),
                fmt_num(ms(&two, "p99_ms"), "ms"),
                fmt_num(ms(&on, "p99_ms"), "ms"),
                delivered(&two)
            ),
            measured: if extra >= 0.0 {
                format!("{} extra p99", fmt_num(extra, "ms"))
            } else {
                format!("p99 {} lower", fmt_num(-extra, "ms"))
            },
            promise: "",
            target: "reported (the window hides the relay)".into(),
            verdict: "—".into(),
        });
    }
    for (i, idle) in w["idle"].as_array().into_iter().flatten().enumerate() {
        let per = idle["bytes_per_connection"].as_f64().unwrap_or(f64::NAN);
        let figure = format!(
            "Server memory per idle connection ({} connections, {} per report session; RSS {:.1} MB → {:.1} MB)",
            idle["connections"],
            idle["per_session"],
            idle["rss_before_bytes"].as_f64().unwrap_or(0.0) / 1e6,
            idle["rss_after_bytes"].as_f64().unwrap_or(0.0) / 1e6
        );
        rows.push(if i == 0 {
            Row {
                figure,
                measured: fmt_num(per, "B"),
                promise: "",
                target: "< 16 KB (16,384 B)".into(),
                verdict: upper(per, 16384.0, "B"),
            }
        } else {
            Row {
                figure: format!("{figure}: as dense as the default cap allows; each connection keeps a write buffer the size of the largest frame it was sent, and the welcome lists every member"),
                measured: fmt_num(per, "B"),
                promise: "",
                target: "reported".into(),
                verdict: "—".into(),
            }
        });
    }
    rows
}

/// The versions the peer ran with: its npm packages from `bench/package-lock.json`, and Node.js.
fn peer_versions() -> String {
    let lock = read_json(Path::new("bench/package-lock.json"));
    let version = |name: &str| {
        lock.as_ref()
            .and_then(|l| l["packages"][format!("node_modules/{name}")]["version"].as_str())
            .unwrap_or("?")
            .to_string()
    };
    format!(
        "Socket.IO {}, `@socket.io/redis-adapter` {}, `ioredis` {}, Node.js {}",
        version("socket.io"),
        version("@socket.io/redis-adapter"),
        version("ioredis"),
        command_output("node", &["--version"]).trim_start_matches('v')
    )
}

/// PMR beside the Socket.IO peer, one row per configuration.
fn peer_table(out: &mut String, dir: &Path) {
    let _ = writeln!(out, "## Beside the peer: Socket.IO\n");
    let Some(w) = read_json(&dir.join("ws.json")) else {
        let _ = writeln!(out, "Not measured (run `loadgen ws`).\n");
        return;
    };
    let _ = writeln!(
        out,
        "What a team would otherwise deploy for batched collaboration over WebSockets across instances: `bench/peer/server.mjs` on {}. \
         `loadgen ws` drives it and PMR with the same schedule, payload and sessions (the runs of the table above): the same presence \
         messages to every member of a report's room, the same saves answered by a force-sent `saved`, and for batching the same rule \
         in its server (10 messages or 50 ms; each instance batches what its own clients sent). The peer does less per message than \
         PMR: no sign-in or rights, no revision store, no rate limits. Deliveries per CPU-second count the presence deliveries over \
         the server processes' CPU time (user + system, every thread; Redis and the clients not counted) from the first intended send \
         to the end of the drain. Latency is from the intended send time. Memory is each instance's resident set at the end of the run, \
         its clients still connected; no instance measured seeded the demo (a server of its own did, before). Targets: at least 3× the \
         peer's deliveries per CPU-second, a p99 no higher than the peer's, at most a third of its memory per instance.\n",
        peer_versions()
    );
    let _ = writeln!(
        out,
        "| Configuration | Deliveries per server CPU-second: PMR / peer | ≥ 3× | Latency PMR: p50 / p99 / p99.9 | Latency peer: p50 / p99 / p99.9 | p99 ≤ peer | Memory per instance: PMR / peer | ≤ ⅓ |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for batching in [false, true] {
        for instances in [1u64, 2] {
            let config = {
                let shape = crate::ws::shape(instances as usize, batching);
                let mut first = shape.chars();
                first
                    .next()
                    .map(|c| c.to_uppercase().chain(first).collect::<String>())
                    .unwrap_or_default()
            };
            let (Some(pmr), Some(peer)) = (
                fanout_run(&w, "PMR", instances, batching),
                fanout_run(&w, "Socket.IO peer", instances, batching),
            ) else {
                let _ = writeln!(out, "| {config} | not measured | — | | | — | | — |");
                continue;
            };
            let rate = |r: &Value| num(&r["deliveries"]) / num(&r["cpu_seconds"]);
            let ratio = rate(&pmr) / rate(&peer);
            let lat = |r: &Value| {
                format!(
                    "{} / {} / {}",
                    fmt_num(num(&r["latency"]["p50_ms"]), "ms"),
                    fmt_num(num(&r["latency"]["p99_ms"]), "ms"),
                    fmt_num(num(&r["latency"]["p999_ms"]), "ms")
                )
            };
            let (p99_pmr, p99_peer) = (
                num(&pmr["latency"]["p99_ms"]),
                num(&peer["latency"]["p99_ms"]),
            );
            let rss = |r: &Value| {
                r["rss_bytes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(num)
                    .fold(0.0_f64, f64::max)
            };
            let mem = |r: &Value| {
                r["rss_bytes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| format!("{:.0}", num(b) / 1e6))
                    .collect::<Vec<_>>()
                    .join(" + ")
                    + " MB"
            };
            let mem_ratio = rss(&pmr) / rss(&peer);
            let complete = |r: &Value| num(&r["deliveries"]) >= num(&r["expected_deliveries"]);
            let _ = writeln!(
                out,
                "| {config}{} | {:.0} / {:.0} ({:.2}×) | {} | {} | {} | {} | {} / {} (largest: {:.2}) | {} |",
                if complete(&pmr) && complete(&peer) {
                    String::new()
                } else {
                    format!(
                        " (delivered: PMR {}/{}, peer {}/{})",
                        pmr["deliveries"], pmr["expected_deliveries"], peer["deliveries"], peer["expected_deliveries"]
                    )
                },
                rate(&pmr),
                rate(&peer),
                ratio,
                lower(ratio, 3.0, "×"),
                lat(&pmr),
                lat(&peer),
                if p99_pmr <= p99_peer {
                    "met".to_string()
                } else {
                    format!("**missed** by {}", fmt_num(p99_pmr - p99_peer, "ms"))
                },
                mem(&pmr),
                mem(&peer),
                mem_ratio,
                if mem_ratio <= 1.0 / 3.0 {
                    "met".to_string()
                } else {
                    format!("**missed**: {:.3} of the peer's", mem_ratio)
                },
            );
        }
    }
    out.push('\n');
}

fn monitor(c: &Path, dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    match (
        criterion_mean(c, "monitor_record", "labelled_api_timing"),
        criterion_mean(c, "monitor_record", "bare_histogram_record"),
    ) {
        (Some(labelled), Some(bare)) => rows.push(Row {
            figure: format!("Recording one labelled metric (`monitor_record`; a bare HDR record in the same run: {})", fmt_num(bare, "ns")),
            measured: fmt_num(labelled, "ns"),
            promise: "",
            target: "< 100 ns".into(),
            verdict: upper(labelled, 100.0, "ns"),
        }),
        _ => rows.push(missing("Monitor record", "run `cargo bench -p server --bench monitor`")),
    }
    if let Some(c) = read_json(&dir.join("cached_reads.json")) {
        let runs = |key: &str| -> Vec<f64> {
            c[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect()
        };
        let (on_runs, off_runs) = (runs("monitored_runs"), runs("unmonitored_runs"));
        let (on, off) = (median(&on_runs), median(&off_runs));
        let cost = 100.0 * (1.0 - on / off);
        let list = |v: &[f64]| {
            v.iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        rows.push(Row {
            figure: format!(
                "Cached-read throughput with monitoring on vs off, {} runs of each alternating off then on: medians {on:.0} vs {off:.0} req/s (on {}; off {})",
                on_runs.len(),
                list(&on_runs),
                list(&off_runs)
            ),
            measured: format!("{} cost", fmt_num(cost, "%")),
            promise: "",
            target: "< 5%".into(),
            verdict: upper(cost.max(0.0), 5.0, "%"),
        });
    }
    rows
}

fn sizes(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    match read_json(&dir.join("wasm.json")) {
        Some(w) => {
            let raw = w["main_raw"].as_f64().unwrap_or(f64::NAN) / 1000.0;
            let br = w["main_brotli"].as_f64().unwrap_or(f64::NAN) / 1000.0;
            rows.push(Row {
                figure: format!(
                    "Initial WASM of the report page after wasm-opt (`pkg/pmr.wasm`; {} lazy chunks beside it, {:.0} KB raw / {:.0} KB brotli in all)",
                    w["chunks"], w["chunks_raw"].as_f64().unwrap_or(0.0) / 1000.0, w["chunks_brotli"].as_f64().unwrap_or(0.0) / 1000.0
                ),
                measured: format!("{raw:.0} KB raw, {br:.0} KB brotli"),
                promise: "20–30% less memory with lazy loading",
                target: "< 600 KB raw, < 200 KB brotli".into(),
                verdict: match (raw <= 600.0, br <= 200.0) {
                    (true, true) => "met".into(),
                    _ => format!("**missed** by {:.0} KB raw, {:.0} KB brotli", (raw - 600.0).max(0.0), (br - 200.0).max(0.0)),
                },
            });
        }
        None => rows.push(missing("WASM size", "run `make build`")),
    }
    if let Some(h) = read_json(&dir.join("http.json")) {
        rows.push(Row {
            figure:
                "Server resident memory: idle after start (demo ×3 seeded), and after the HTTP load"
                    .into(),
            measured: format!(
                "{:.1} MB idle, {:.1} MB loaded",
                h["idle_rss_bytes"].as_f64().unwrap_or(0.0) / 1e6,
                h["loaded_rss_bytes"].as_f64().unwrap_or(0.0) / 1e6
            ),
            promise: "",
            target: "reported".into(),
            verdict: "—".into(),
        });
    }
    rows
}

/// `bench/pages.mjs`: Lighthouse on three pages, the report page under devtools throttling, and the
/// bytes on the wire of a first and a repeat visit.
fn phone(dir: &Path) -> Vec<Row> {
    let Some(p) = read_json(&dir.join("pages.json")) else {
        return vec![missing(
            "Lighthouse and bytes on the wire",
            "run `make bench` (bench/pages.mjs)",
        )];
    };
    let mut rows = Vec::new();
    let runs = p["runs"].as_u64().unwrap_or(0);
    for (key, name) in [
        ("portfolio", "the portfolio"),
        ("report", "a report page"),
        ("dashboard", "the performance dashboard"),
    ] {
        let page = &p["pages"][key];
        let score = |k: &str| page[k].as_f64().unwrap_or(f64::NAN);
        let (perf, a11y, best) = (
            score("performance"),
            score("accessibility"),
            score("best_practices"),
        );
        let failed: Vec<String> = ["failed_accessibility", "failed_best_practices"]
            .iter()
            .flat_map(|k| page[*k].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        rows.push(Row {
            figure: format!(
                "Lighthouse 12, mobile defaults, {name} (`{}`; median of {runs}; LCP {:.1} s, TBT {:.0} ms, {:.0} KB transferred; Lighthouse's benchmark index of this machine during the runs {:.0}{})",
                page["path"].as_str().unwrap_or("?"),
                score("lcp_ms") / 1000.0,
                score("tbt_ms"),
                score("bytes") / 1000.0,
                score("benchmark_index"),
                if failed.is_empty() { String::new() } else { format!("; audits short of full marks: {}", failed.join(", ")) }
            ),
            measured: format!("performance {perf:.0}, accessibility {a11y:.0}, best practices {best:.0}"),
            promise: "",
            target: "≥ 95, 100, 100".into(),
            verdict: match (perf >= 95.0, a11y >= 100.0, best >= 100.0) {
                (true, true, true) => "met".into(),
                _ => format!(
                    "**missed**:{}{}{}",
                    if perf < 95.0 { format!(" performance by {:.0}", 95.0 - perf) } else { String::new() },
                    if a11y < 100.0 { format!(" accessibility by {:.0}", 100.0 - a11y) } else { String::new() },
                    if best < 100.0 { format!(" best practices by {:.0}", 100.0 - best) } else { String::new() },
                ),
            },
        });
    }
    let d = &p["report_devtools"];
    let lcp = d["lcp_ms"].as_f64().unwrap_or(f64::NAN);
    let tti = d["tti_ms"].as_f64().unwrap_or(f64::NAN);
    rows.push(Row {
        figure: format!("The report page under devtools throttling (slow 4G, 4× CPU; median of {runs}): largest contentful paint"),
        measured: fmt_num(lcp, "ms"),
        promise: "",
        target: "< 2,000 ms".into(),
        verdict: upper(lcp, 2000.0, "ms"),
    });
    rows.push(Row {
        figure: "The same runs: time to interactive".into(),
        measured: fmt_num(tti, "ms"),
        promise: "",
        target: "< 3,500 ms".into(),
        verdict: upper(tti, 3500.0, "ms"),
    });
    let idle = &p["report_idle"];
    if idle.is_object() {
        let ms = |k: &str| idle[k].as_f64().unwrap_or(f64::NAN);
        rows.push(Row {
            figure: format!(
                "The report page left open at its top (a phone-sized window, no throttling; after hydration and the sections in view have loaded): Chromium's main-thread task time per second over the next {:.0} s (`TaskDuration`; of it style and layout {:.1} ms/s), and the animations still running ({}). Only a placeholder whose section is loading shimmers; an endless shimmer on the placeholders waiting below repainted every frame for as long as the page was open",
                ms("seconds"),
                ms("style_layout_ms_per_s"),
                idle["animations"],
            ),
            measured: fmt_num(ms("task_ms_per_s"), "ms/s"),
            promise: "",
            target: "reported".into(),
            verdict: "—".into(),
        });
    }
    let (lazy, eager) = (&p["report_task"], &p["report_task_eager"]);
    if lazy.is_object() && eager.is_object() {
        let ms = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        rows.push(Row {
            figure: format!(
                "The report page's longest main-thread task on a first visit (a Chromium trace, no throttling: Lighthouse's simulation counts it four times; median of {runs}), and how much of it was V8 compiling WASM functions on their first call ({:.0} functions; {:.0} in the whole visit); with that compilation done ahead instead (`--js-flags=--no-wasm-lazy-compilation`, which no page can ask for), the longest task took {:.1} ms",
                ms(lazy, "functions_compiled"),
                ms(lazy, "functions_compiled_in_all"),
                ms(eager, "task_ms"),
            ),
            measured: format!(
                "{:.1} ms, of which {:.1} ms compiling",
                ms(lazy, "task_ms"),
                ms(lazy, "compile_ms")
            ),
            promise: "",
            target: "reported".into(),
            verdict: "—".into(),
        });
    }
    for (key, label, limit) in [
        ("first", "first visit", 300.0),
        (
            "repeat",
            "repeat visit (same browser, its cache warm)",
            30.0,
        ),
    ] {
        let v = &p["wire"][key];
        let kb = v["bytes"].as_f64().unwrap_or(f64::NAN) / 1000.0;
        let largest: Vec<String> = v["largest"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .take(3)
            .map(|r| {
                format!(
                    "{} {:.0} KB",
                    r["path"].as_str().unwrap_or("?"),
                    r["bytes"].as_f64().unwrap_or(0.0) / 1000.0
                )
            })
            .collect();
        rows.push(Row {
            figure: format!(
                "Bytes on the wire, report page, {label}: every response's encoded length in Chromium (headers and body), until the network is idle after hydration; {} requests, {} from the cache or 304; largest: {}",
                v["requests"], v["from_cache"], largest.join(", ")
            ),
            measured: fmt_num(kb, "KB"),
            promise: "",
            target: format!("< {limit:.0} KB"),
            verdict: upper(kb, limit, "KB"),
        });
    }
    rows
}

fn schedule_import(dir: &Path) -> Vec<Row> {
    let Some(j) = read_json(&dir.join("schedule_import.json")) else {
        return vec![missing(
            "Scheduler import",
            "run `cargo bench -p server --bench schedule_import` with PMR_BENCH_DIR",
        )];
    };
    let median = j["median_s"].as_f64().unwrap_or(f64::NAN);
    let peak = j["peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
    let what = format!(
        "a {}-task Microsoft Project XML file ({:.1} MB)",
        j["tasks"],
        j["file_mb"].as_f64().unwrap_or(f64::NAN)
    );
    let served = &j["served"];
    let import_s = served["median_s"].as_f64().unwrap_or(f64::NAN);
    let import_peak = served["peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
    let report_s = served["report_s"].as_f64().unwrap_or(f64::NAN);
    let report_peak = served["report_peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
    vec![
        Row {
            figure: format!(
                "Importing {what}: `POST /api/projects/import` through the whole router into SQLite (read, checked, {} tasks stored; a creation then two replacements), median of {} runs",
                served["stored_tasks"], served["runs"]
            ),
            measured: format!("{import_s:.3} s"),
            promise: "",
            target: "< 5 s on 2 cores".into(),
            verdict: if import_s < 5.0 {
                "met".into()
            } else {
                format!(
                    "**missed** by {} ({:.1}×)",
                    fmt_num(import_s - 5.0, "s"),
                    import_s / 5.0
                )
            },
        },
        Row {
            figure: "Peak resident set of the process during those imports (the file in memory included)"
                .into(),
            measured: format!("{import_peak:.0} MB"),
            promise: "",
            target: "< 512 MB".into(),
            verdict: if import_peak < 512.0 {
                "met".into()
            } else {
                format!("**missed** by {:.0} MB", import_peak - 512.0)
            },
        },
        Row {
            figure: "The month's report of that plan (every section, 10,000 iterations), and the peak resident set then".into(),
            measured: format!("{report_s:.2} s, {report_peak:.0} MB"),
            promise: "",
            target: "reported".into(),
            verdict: "—".into(),
        },
        Row {
            figure: format!(
                "Of which reading, converting and checking the file (no storage), median of {} runs",
                j["runs"]
            ),
            measured: format!("{median:.3} s"),
            promise: "",
            target: "< 5 s on 2 cores".into(),
            verdict: if median < 5.0 {
                "met".into()
            } else {
                format!(
                    "**missed** by {} ({:.1}×)",
                    fmt_num(median - 5.0, "s"),
                    median / 5.0
                )
            },
        },
        Row {
            figure: "Peak resident set of the process over all of the above before the imports (the generated file included)"
                .into(),
            measured: format!("{peak:.0} MB"),
            promise: "",
            target: "< 512 MB".into(),
            verdict: if peak < 512.0 {
                "met".into()
            } else {
                format!("**missed** by {:.0} MB", peak - 512.0)
            },
        },
    ]
}

/// Why the targets known to be out of reach on this machine are missed, with the measurement that
/// shows the cause; written only for the targets this run actually missed.
fn notes(out: &mut String, inputs: &Inputs) {
    let mut any = false;
    let mut note = |out: &mut String, text: String| {
        if !any {
            let _ = writeln!(out, "## Missed targets: the causes\n");
            any = true;
        }
        let _ = writeln!(out, "{text}\n");
    };
    if let Some(w) = read_json(&inputs.dir.join("wasm.json")) {
        let (raw, br) = (
            w["main_raw"].as_f64().unwrap_or(0.0),
            w["main_brotli"].as_f64().unwrap_or(0.0),
        );
        if raw > 600_000.0 || br > 200_000.0 {
            let floor = framework_floor(&inputs.dir);
            let mut text = format!(
                "**Initial WASM.** Everything only editors, admins or later sections need is already split out \
                 (`#[lazy]` routes and section views, the shared editor and its `yrs` document: the chunks above; \
                 the live bar every reader sees stays in the main file), and the bundle \
                 is built for size: `opt-level = \"z\"`, LTO, one codegen unit, `wasm-opt -Oz`; panics abort at \
                 once with a standard library rebuilt for size (`make build`: `-Cpanic=immediate-abort`, \
                 `-Zbuild-std`, `optimize_for_size`: 13% of the main file; no panic locations or `{{:?}}` formatting: \
                 2.5% more); server functions' answers are JSON \
                 read as text, so each answer type has one decoder in the WASM instead of two (`app::codec`); \
                 the pages' few date sums are the app's own (`app::calendar`) instead of `chrono`; components \
                 are type-erased (`--cfg erase_components` in the server's and the browser's builds alike, \
                 `.cargo/config.toml`: one copy of the rendering code per output type instead of one per \
                 closure; at `aadf77c` it took the main file from 1291 KB raw / 378 KB brotli to 1226 / 334, \
                 and the chunks from 709 KB brotli to 464). What stays is \
                 what hydrating a page needs: the Leptos runtime (`reactive_graph`, `tachys`, the router), \
                 serde for the server functions' answers, and the report page's own views and live bar. The runtime alone is \
                 over the target: with every page lazy, the report page too, the main file is still 620 KB raw \
                 / 211 KB brotli (measured at `d38e924` by giving the report route `Lazy::<…>` like the others). \
                 Meeting it would take islands (`leptos/islands`: only interactive parts hydrate), a different \
                 architecture for every page, and islands alone are not enough: the whole app in islands mode \
                 (every page's interactive part an island, the other pages' islands lazy; built once on a \
                 branch at `61a76f1`, before type erasure, with every Playwright test of the time passing) \
                 had a main file of 303 KB brotli and a first visit to the report page of 334 KB, the \
                 report page's own islands (the live bar, the sections with their views and decoders, the \
                 editors' actions) being most of it.{floor} The profile below is the \
                 main module before `wasm-bindgen` and `wasm-opt` (`tools/wasm-profile.js`: code bytes per \
                 crate from the name section); `core`/`alloc` are generic code instantiated for the crates \
                 above, and `wasm_bindgen` includes descriptors that `wasm-bindgen` removes.\n\n\
                 | Crate | Code bytes | Share | Functions |\n|---|---|---|---|\n",
            );
            if let Some(p) = read_json(&inputs.dir.join("wasm-profile.json")) {
                let total = p["code_bytes"].as_f64().unwrap_or(1.0).max(1.0);
                for c in p["crates"].as_array().into_iter().flatten().take(12) {
                    let bytes = c["bytes"].as_f64().unwrap_or(0.0);
                    let _ = writeln!(
                        text,
                        "| `{}` | {:.0} KB | {:.1}% | {} |",
                        c["crate"].as_str().unwrap_or("?"),
                        bytes / 1000.0,
                        100.0 * bytes / total,
                        c["functions"]
                    );
                }
                let _ = write!(
                    text,
                    "| all | {:.0} KB | 100% | {} |",
                    total / 1000.0,
                    p["functions"]
                );
            }
            note(out, text);
        }
    }
    if let Some(p) = read_json(&inputs.dir.join("pages.json")) {
        let short: Vec<String> = ["portfolio", "report", "dashboard"]
            .iter()
            .filter_map(|k| {
                let page = &p["pages"][*k];
                let perf = page["performance"].as_f64()?;
                (perf < 95.0).then(|| {
                    format!(
                        "{k} {perf:.0} (total blocking time {:.0} ms)",
                        page["tbt_ms"].as_f64().unwrap_or(f64::NAN)
                    )
                })
            })
            .collect();
        let (lazy, eager) = (&p["report_task"], &p["report_task_eager"]);
        if !short.is_empty() && lazy.is_object() && eager.is_object() {
            let ms = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            note(
                out,
                format!(
                    "**Lighthouse performance** ({}). The paints are in time; what is short is total blocking \
                     time, which the simulation takes as four times each main-thread task this machine ran, \
                     less 50 ms. The longest task on the report page is hydration; the collaboration bar is \
                     already built in a task of its own after it. A Chromium trace of a first visit here (no \
                     throttling, median of {}): the longest task took **{:.1} ms**, of which **{:.1} ms** was V8 \
                     compiling {:.0} WASM functions the first time they were called ({:.0} in the whole visit). \
                     V8 compiles WebAssembly lazily, one function at a time, on the main thread; with that \
                     compilation done ahead, on background threads while the file downloads \
                     (`--js-flags=--no-wasm-lazy-compilation`), the longest task took **{:.1} ms**. No page \
                     can ask Chromium for that: the WebAssembly compilation hints that would are behind \
                     `--experimental-wasm-compilation-hints` in Chromium 148. Hydration is one task in Leptos \
                     0.8 (a `Suspense` or route whose content is not ready when hydration reaches it fails to \
                     hydrate), so it cannot be cut into shorter tasks either; what shortens it is calling fewer \
                     functions while hydrating, i.e. hydrating less of the page (islands).",
                    short.join(", "),
                    p["runs"],
                    ms(lazy, "task_ms"),
                    ms(lazy, "compile_ms"),
                    ms(lazy, "functions_compiled"),
                    ms(lazy, "functions_compiled_in_all"),
                    ms(eager, "task_ms"),
                ),
            );
        }
    }
    if let Some(w) = read_json(&inputs.dir.join("ws.json")) {
        let mut lines = Vec::new();
        for batching in [false, true] {
            for instances in [1u64, 2] {
                let (Some(pmr), Some(peer)) = (
                    fanout_run(&w, "PMR", instances, batching),
                    fanout_run(&w, "Socket.IO peer", instances, batching),
                ) else {
                    continue;
                };
                let ratio = cpu_per_delivery_us(&peer) / cpu_per_delivery_us(&pmr);
                if ratio >= 3.0 {
                    continue;
                }
                let system_us =
                    |r: &Value| 1e6 * num(&r["system_seconds"]) / num(&r["deliveries"]).max(1.0);
                let third = cpu_per_delivery_us(&peer) / 3.0;
                lines.push(format!(
                    "| {} instance{}, batching {} | {:.2} µs ({:.0}% of it in the kernel: {:.2} µs) | {:.2} µs ({:.2} µs in the kernel) | {:.2} µs | {} | {:.3} / {:.3} |",
                    instances,
                    if instances == 1 { "" } else { "s" },
                    if batching { "on" } else { "off" },
                    cpu_per_delivery_us(&pmr),
                    100.0 * num(&pmr["system_seconds"]) / num(&pmr["cpu_seconds"]),
                    system_us(&pmr),
                    cpu_per_delivery_us(&peer),
                    system_us(&peer),
                    third,
                    if system_us(&pmr) > third { "yes" } else { "no" },
                    per_delivery(&pmr, "tcp", "segs_out"),
                    per_delivery(&peer, "tcp", "segs_out"),
                ));
            }
        }
        if !lines.is_empty() {
            note(
                out,
                format!(
                    "**3× the peer's deliveries per CPU-second.** Where the CPU goes, from this run's counters \
                     (`/proc/<pid>/stat`: user and system time): a large part of both servers' CPU is the kernel's \
                     (system time: a system call per write, and on loopback the TCP work of every segment sent \
                     and received, charged to the process that sends it), and both servers send about the same \
                     segments per delivery. 3× needs PMR's whole CPU per delivery under a third of the peer's; \
                     where the kernel's part alone is above that third, no change to PMR's own code can reach \
                     the target without sending fewer segments per message, which is what batching is.\n\n\
                     | Configuration | PMR: CPU per delivery | Peer: CPU per delivery | A third of the peer's | PMR's kernel part alone over it | TCP segments per delivery: PMR / peer |\n\
                     |---|---|---|---|---|---|\n{}",
                    lines.join("\n")
                ),
            );
        }
        // The floor: the bare fan-out of `loadgen floor`, one instance, in the same run.
        let mut floor = Vec::new();
        let mut floor_short = Vec::new();
        for batching in [false, true] {
            let (Some(pmr), Some(peer), Some(bare)) = (
                fanout_run(&w, "PMR", 1, batching),
                fanout_run(&w, "Socket.IO peer", 1, batching),
                fanout_run(&w, crate::ws::BARE, 1, batching),
            ) else {
                continue;
            };
            let over_peer = cpu_per_delivery_us(&peer) / cpu_per_delivery_us(&bare);
            if over_peer < 3.0 {
                floor_short.push(format!(
                    "{:.2}× with batching {}",
                    over_peer,
                    if batching { "on" } else { "off" }
                ));
            }
            floor.push(format!(
                "| 1 instance, batching {} | {:.0} ({:.2} µs, of it {:.2} µs in the kernel) | {:.2}× | {:.2}× | {:.0} ({:.2} µs, of it {:.2} µs in the kernel) |",
                if batching { "on" } else { "off" },
                1.0 / cpu_per_delivery_us(&bare) * 1e6,
                cpu_per_delivery_us(&bare),
                1e6 * num(&bare["system_seconds"]) / num(&bare["deliveries"]).max(1.0),
                over_peer,
                cpu_per_delivery_us(&bare) / cpu_per_delivery_us(&pmr),
                1.0 / cpu_per_delivery_us(&pmr) * 1e6,
                cpu_per_delivery_us(&pmr),
                1e6 * num(&pmr["system_seconds"]) / num(&pmr["deliveries"]).max(1.0),
            ));
        }
        if !floor.is_empty() {
            let verdict = if floor_short.is_empty() {
                "The bare server reaches 3× the peer here: the distance is PMR's own work."
                    .to_string()
            } else {
                format!(
                    "**Not even the bare server reaches 3× the peer** ({}): on this machine the target asks more \
                     than a plain server of this shape gives before doing any of PMR's work (PMR / bare is what \
                     that work costs).",
                    floor_short.join(", ")
                )
            };
            note(
                out,
                format!(
                    "**The least a server can do.** `loadgen floor` (`loadgen/src/floor.rs`) is the plain Rust fan-out of \
                     the same messages on the crates PMR's socket stands on (tokio, tungstenite, PMR's socket buffer \
                     sizes), with nothing else: no sign-in, rights, limits, statistics, pings or relay; each frame \
                     encoded once and shared, each connection's waiting frames written in one system call. It ran under \
                     the same schedule in this run. {verdict}\n\n\
                     | Configuration | Bare fan-out: deliveries per CPU-second | Bare / peer | PMR / bare | PMR: deliveries per CPU-second |\n\
                     |---|---|---|---|---|\n{}",
                    floor.join("\n")
                ),
            );
        }
    }
    if let Some(c) = read_json(&inputs.dir.join("cached_reads.json")) {
        let f = |k: &str| c[k].as_f64().unwrap_or(f64::NAN);
        let (stat, cached, uncached) = (f("static_rps"), f("cached_rps"), f("uncached_sqlite_rps"));
        if cached / uncached < 20.0 {
            note(
                out,
                format!(
                    "**Cached 20× uncached.** Out of reach with the database on the same machine: a bare handler \
                     that serves the same bytes from memory, outside the whole stack, is itself only {:.1}× the \
                     uncached read ({stat:.0} vs {uncached:.0} requests/s). At full load the machine spends \
                     {:.0} µs per request on the bare handler (HTTP and the clients, which share the cores), \
                     {:.0} µs per cached read and {:.0} µs per uncached one: the cache saves {:.0} µs of store \
                     queries and JSON assembly, but the {:.0} µs every request costs anyway bound the ratio. With \
                     a database across a network the ratio grows with its latency.",
                    stat / uncached,
                    1e6 / stat,
                    1e6 / cached,
                    1e6 / uncached,
                    1e6 / uncached - 1e6 / cached,
                    1e6 / stat,
                ),
            );
        }
    }
}

/// Writes BENCHMARKS.md's text.
pub fn render(inputs: &Inputs) -> anyhow::Result<String> {
    anyhow::ensure!(
        inputs.dir.is_dir(),
        "{} has no figures: run `make bench`",
        inputs.dir.display()
    );
    let c = inputs.criterion.as_path();
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `make bench{}` (`loadgen report`); do not edit by hand. Machine: {}; Rust {}; commit {}.\n",
        if inputs.quick { "-quick" } else { "" },
        machine(),
        command_output("rustc", &["--version"]).trim_start_matches("rustc "),
        command_output("git", &["rev-parse", "--short", "HEAD"])
            + if command_output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty() {
                ""
            } else {
                " with uncommitted changes"
            }
    );
    let _ = writeln!(out, "The load generator runs on the same machine as the servers it measures, so every latency includes its competition for the cores: pessimistic. Ratios are taken against a baseline measured in the same run. {}\n",
        if inputs.quick { "This is a **quick** run (shorter measurements, 5,000 idle connections): read the ratios, and run `make bench` for the full figures." } else { "" });
    table(&mut out, "Monte Carlo", "Criterion, `cargo bench -p server --bench monte_carlo`: the simulation beside the bare sampling loop (draw every task's duration, nothing else).", &monte_carlo(c));
    table(&mut out, "Report generation", "Criterion, `cargo bench -p server --bench report_generation`: every section of a 300-task project from cold (earned value, Monte Carlo, insights, charts); the p95 is over Criterion's samples.", &generation(c));
    table(&mut out, "Reads and the cache", "`loadgen http` at a constant arrival rate, latency from the intended send time (requests released by a thread of the generator's own on the system's high-resolution timer, not tokio's millisecond timer; how late it still released them is in the rows; a release server on SQLite with the in-process cache and the demo seeded three times, 72 reports; the cache-under-use rows say their own portfolio and instances); and `cargo bench -p server --bench cached_reads` for throughput against a bare handler serving the same bytes.", &reads(&inputs.dir));
    table(&mut out, "Live collaboration (WebSocket)", "`loadgen ws`: real WebSocket clients against release servers; a presence message from every client at a constant rate, delivered to every other member of its session, and a save a second in every draft's session. One instance and two through a harness-started Redis, batching off and on, all in one run; kernel counters are read around each run.", &websocket(&inputs.dir));
    peer_table(&mut out, &inputs.dir);
    table(&mut out, "Performance monitor", "Criterion, `cargo bench -p server --bench monitor`, and the cached-read benchmark with monitoring on and off.", &monitor(c, &inputs.dir));
    table(&mut out, "Scheduler imports", "`cargo bench -p server --bench schedule_import`: a generated 50,000-task MSPDI file (summaries, baselines, costs, progress, links, three-point fields, a calendar) imported through the router into a new SQLite database, then reported; and read, converted and checked alone, in one process.", &schedule_import(&inputs.dir));
    table(&mut out, "Pages on a phone", "`bench/pages.mjs` against a release server on SQLite with the demo portfolio, signed in as the admin: Lighthouse 12 (mobile, its default simulated slow 4G and 4× CPU slowdown) on three pages, the report page again with devtools throttling, and the bytes Chromium receives for a first and a repeat visit of the report page in a phone-sized window.", &phone(&inputs.dir));
    table(&mut out, "Sizes and memory", "The report page's WASM as the browser downloads it (`make build`, brotli at quality 11), and the server's resident set.", &sizes(&inputs.dir));
    notes(&mut out, inputs);
    Ok(out)
}

/// Reads `path` or fails with the file named.
pub fn write(inputs: &Inputs, path: &Path) -> anyhow::Result<()> {
    let text = render(inputs)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_say_by_how_much_a_target_is_missed() {
        assert_eq!(upper(4.0, 5.0, "ms"), "met");
        assert_eq!(upper(7.5, 5.0, "ms"), "**missed** by 2.50 ms (1.5×)");
        // A time just over its limit says by how many milliseconds, not "by 0.00 s".
        assert_eq!(upper(5.0042, 5.0, "s"), "**missed** by 4 ms (1.0×)");
        assert_eq!(upper(5.0004, 5.0, "s"), "**missed** by under 1 ms (1.0×)");
        assert_eq!(upper(6.5, 5.0, "s"), "**missed** by 1.50 s (1.3×)");
        assert_eq!(lower(95.0, 90.0, "%"), "met");
        assert_eq!(lower(80.0, 90.0, "%"), "**missed** by 10.0 %");
        assert_eq!(lower(5.0, 20.0, "×"), "**missed**: 5.00× of 20×");
        assert_eq!(lower(0.43, 0.5, "×"), "**missed**: 0.43× of 0.5×");
    }

    #[test]
    fn medians_of_odd_even_and_no_runs() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn the_framework_floor_is_told_with_the_room_it_leaves() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(framework_floor(dir.path()), "", "nothing without the file");
        std::fs::write(
            dir.path().join("framework-floor.json"),
            serde_json::json!({"variants": [
                {"name": "islands counter", "raw": 135_692, "brotli": 53_514},
                {"name": "islands data", "raw": 256_127, "brotli": 91_161},
                {"name": "hydrated counter", "raw": 241_284, "brotli": 82_211},
                {"name": "hydrated data", "raw": 381_751, "brotli": 129_773},
            ]})
            .to_string(),
        )
        .expect("write");
        let text = framework_floor(dir.path());
        assert!(text.contains("91.2 KB brotli by itself"), "{text}");
        assert!(text.contains("the other 109 KB"), "{text}");
        assert!(text.contains("| 256 KB | 91.2 KB |"), "{text}");
        assert!(text.contains("| 382 KB | 129.8 KB |"), "{text}");
        // The table ends its paragraph, so the text after it is not read as one more row.
        assert!(text.ends_with("|\n\n"), "{text}");
    }

    #[test]
    fn the_p95_is_over_criterion_samples_per_iteration() {
        let dir = tempfile::tempdir().expect("dir");
        let new = dir.path().join("g/f/new");
        std::fs::create_dir_all(&new).expect("mkdir");
        // 20 samples of 2 iterations: 1..=20 ns per iteration.
        let iters: Vec<f64> = vec![2.0; 20];
        let times: Vec<f64> = (1..=20).map(|i| 2.0 * f64::from(i)).collect();
        std::fs::write(
            new.join("sample.json"),
            serde_json::json!({"iters": iters, "times": times}).to_string(),
        )
        .expect("write");
        assert_eq!(criterion_p95(dir.path(), "g", "f"), Some(19.0));
        assert_eq!(criterion_p95(dir.path(), "g", "missing"), None);
    }

    #[test]
    fn a_run_without_figures_says_what_to_run() {
        let dir = tempfile::tempdir().expect("dir");
        let text = render(&Inputs {
            dir: dir.path().to_path_buf(),
            criterion: dir.path().join("criterion"),
            quick: true,
        })
        .expect("renders");
        assert!(text.contains("not measured (run `loadgen ws`)"), "{text}");
        assert!(text.contains("**quick** run"), "{text}");
        assert!(!text.contains("## Missed targets"), "{text}");
    }

    #[test]
    fn the_peer_table_compares_each_configuration_against_its_targets() {
        let run = |server: &str, batching: bool, cpu: f64, system: f64, p99: f64, rss: f64| {
            serde_json::json!({
                "server": server, "instances": 1, "batching": batching,
                "deliveries": 450_000, "expected_deliveries": 450_000,
                "cpu_seconds": cpu, "system_seconds": system,
                "latency": {"p50_ms": 5.0, "p99_ms": p99, "p999_ms": p99 * 2.0},
                "rss_bytes": [rss],
                "tcp": {"segs_out": 450_000},
            })
        };
        let ws = serde_json::json!({"fanout": [
            // Batching off: 2× the peer's rate, a lower p99, half its memory.
            run("PMR", false, 2.0, 1.0, 30.0, 60e6),
            run("Socket.IO peer", false, 4.0, 1.5, 250.0, 120e6),
            // Batching on: 4× the peer's rate, a higher p99, a quarter of its memory.
            run("PMR", true, 1.0, 0.2, 60.0, 30e6),
            run("Socket.IO peer", true, 4.0, 0.5, 50.0, 120e6),
            // The bare fan-out: 2.5× the peer with batching off, 4× with batching on.
            run(crate::ws::BARE, false, 1.6, 1.2, 20.0, 10e6),
            run(crate::ws::BARE, true, 1.0, 0.3, 50.0, 10e6),
        ]});
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("ws.json"), ws.to_string()).expect("write");
        let mut out = String::new();
        peer_table(&mut out, dir.path());
        let row = |config: &str| {
            out.lines()
                .find(|l| l.starts_with(&format!("| {config} |")))
                .unwrap_or_else(|| panic!("no row {config} in {out}"))
                .to_string()
        };
        let off = row("One instance, batching off");
        assert!(off.contains("(2.00×) | **missed**: 2.00× of 3×"), "{off}");
        assert!(
            off.contains("| met | 60 MB / 120 MB (largest: 0.50) | **missed**"),
            "{off}"
        );
        let on = row("One instance, batching on");
        assert!(on.contains("(4.00×) | met |"), "{on}");
        assert!(on.contains("**missed** by 10.00 ms"), "{on}");
        assert!(on.ends_with("(largest: 0.25) | met |"), "{on}");
        assert!(row("2 instances via Redis, batching off").contains("not measured"));
        // The cause note lists the configuration that missed 3×, with the kernel's share.
        let text = render(&Inputs {
            dir: dir.path().to_path_buf(),
            criterion: dir.path().join("criterion"),
            quick: false,
        })
        .expect("renders");
        assert!(
            text.contains("| 1 instance, batching off | 4.44 µs (50% of it in the kernel: 2.22 µs) | 8.89 µs (3.33 µs in the kernel) | 2.96 µs | no |"),
            "{text}"
        );
        assert!(
            !text.contains("| 1 instance, batching on | 2.22 µs"),
            "{text}"
        );
        // The floor beside them: short of 3× with batching off only, and what PMR's work costs.
        assert!(
            text.contains(
                "**Not even the bare server reaches 3× the peer** (2.50× with batching off)"
            ),
            "{text}"
        );
        assert!(
            text.contains("| 1 instance, batching off | 281250 (3.56 µs, of it 2.67 µs in the kernel) | 2.50× | 0.80× | 225000 (4.44 µs, of it 2.22 µs in the kernel) |"),
            "{text}"
        );
        assert!(
            text.contains("| 1 instance, batching on | 450000 (2.22 µs, of it 0.67 µs in the kernel) | 4.00× | 1.00× |"),
            "{text}"
        );
    }

    #[test]
    fn a_short_performance_score_is_explained_by_the_traced_task() {
        let page = |performance: f64, tbt: f64| {
            serde_json::json!({"path": "/", "performance": performance, "accessibility": 100,
                "best_practices": 100, "tbt_ms": tbt, "lcp_ms": 900, "bytes": 400_000})
        };
        let task = |task: f64, compile: f64| {
            serde_json::json!({"task_ms": task, "compile_ms": compile,
                "functions_compiled": 2000, "functions_compiled_in_all": 2500})
        };
        let pages = |report_score: f64| {
            serde_json::json!({"runs": 3,
                "pages": {"portfolio": page(98.0, 150.0), "report": page(report_score, 330.0),
                    "dashboard": page(96.0, 200.0)},
                "report_task": task(35.5, 24.25), "report_task_eager": task(14.0, 0.0)})
        };
        let render_with = |p: serde_json::Value| {
            let dir = tempfile::tempdir().expect("dir");
            std::fs::write(dir.path().join("pages.json"), p.to_string()).expect("write");
            render(&Inputs {
                dir: dir.path().to_path_buf(),
                criterion: dir.path().join("criterion"),
                quick: false,
            })
            .expect("renders")
        };
        let short = render_with(pages(92.0));
        assert!(
            short.contains("**Lighthouse performance** (report 92 (total blocking time 330 ms))"),
            "{short}"
        );
        assert!(
            short.contains("took **35.5 ms**, of which **24.2 ms** was V8"),
            "{short}"
        );
        assert!(
            short
                .contains("compiling 2000 WASM functions the first time they were called (2500 in"),
            "{short}"
        );
        assert!(
            short.contains("the longest task took **14.0 ms**"),
            "{short}"
        );
        // Every page at 95 or more: nothing to explain.
        let met = render_with(pages(95.0));
        assert!(!met.contains("**Lighthouse performance**"), "{met}");
        assert!(
            met.contains("| 35.5 ms, of which 24.2 ms compiling |"),
            "{met}"
        );
    }
}
