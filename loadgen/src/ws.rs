//! The collaboration benchmarks: real WebSocket clients on `/ws/reports/{id}` of real server
//! processes.
//!
//! **Fan-out.** `conns` clients in `sessions` report sessions (client `i` in session `i % sessions`;
//! with two instances, alternate clients of a session connect to each). Every client sends a
//! `presence` message at a constant rate; message `k` of client `c` has an intended send time
//! `t0 + offset(c) + k / rate`, fixed in advance. A client that falls behind sends late but keeps the
//! intended times, so latency counts the queueing a slow sender or server causes (no coordinated
//! omission). One thread releases every client's sends at their intended times (`pace`, on the
//! system's high-resolution timer: tokio's timer is millisecond-granular, and a send released late
//! is latency that is not the server's). Every receiver knows each sender's schedule: a session
//! delivers one sender's messages in order, so the `k`-th presence from `c` is message `k`, checked
//! against the section it names. Latency is receipt minus intended send time, for every delivery to
//! every other member.
//!
//! Alongside, the first client of each draft report's session saves a named revision once a second:
//! the server sends `saved` with `force_send`, so its latency (save sent to `saved` received, which
//! includes writing the revision to the store) is the urgent path's.
//!
//! The same schedule drives either server: PMR's socket, or the Socket.IO peer of `bench/peer`
//! (Engine.IO 4 over a WebSocket: `42["m",<message>]` frames carrying the same JSON messages). Around
//! the measured window each instance's CPU time (`/proc`), the TCP segments and bytes its clients'
//! connections carried (the kernel's `TCP_INFO`, through `ss`) and the loopback interface's counters
//! are read, and each instance's resident memory at the end.
//!
//! **Idle.** Many connections that only read, spread over every report; the server's resident memory
//! before and after, per connection.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::{Api, ReportLink};
use crate::hist::{self, Summary};
use crate::kernel;
use crate::pace::pace;
use crate::process;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Section keys the presence messages name, in turn.
/// The bare fan-out's name in the runs' labels and results.
pub const BARE: &str = "Bare Rust fan-out";

const SECTIONS: [&str; 4] = ["executive-summary", "key-metrics", "milestones", "risks"];

/// Which server a fan-out drives, and how its clients sign in.
#[derive(Debug, Clone)]
pub enum Protocol {
    /// PMR's `/ws/reports/{id}`, with the session cookie.
    Pmr { cookie: String },
    /// The Socket.IO peer: the report and user in the query string.
    SocketIo { user: String },
    /// The bare Rust fan-out of `loadgen floor`: PMR's frames, the user in the query string.
    Bare { user: String },
}

impl Protocol {
    fn server(&self) -> &'static str {
        match self {
            Protocol::Pmr { .. } => "PMR",
            Protocol::SocketIo { .. } => "Socket.IO peer",
            Protocol::Bare { .. } => BARE,
        }
    }

    fn is_socket_io(&self) -> bool {
        matches!(self, Protocol::SocketIo { .. })
    }

    async fn connect(&self, base: &str, report: i64) -> anyhow::Result<(Ws, String)> {
        match self {
            Protocol::Pmr { cookie } => connect(base, cookie, report).await,
            Protocol::SocketIo { user } => connect_socket_io(base, user, report).await,
            Protocol::Bare { user } => connect_bare(base, user, report).await,
        }
    }
}

/// One server instance of a run.
pub struct Instance {
    pub base: String,
    pub port: u16,
    pub pid: u32,
    /// An admin of this instance, for PMR's own statistics (none for the peer).
    pub admin: Option<Api>,
}

/// Opens a Socket.IO connection (Engine.IO 4, WebSocket transport), joins the default namespace and
/// reads the peer's welcome; answers the socket and its connection id.
async fn connect_socket_io(base: &str, user: &str, report: i64) -> anyhow::Result<(Ws, String)> {
    let ws_base = base.replacen("http://", "ws://", 1);
    let url = format!("{ws_base}/socket.io/?EIO=4&transport=websocket&report={report}&user={user}");
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(url.into_client_request()?, None, true)
            .await
            .with_context(|| format!("connecting to the peer's report {report}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no welcome from the peer within 30 s")?
            .context("the peer closed before the welcome")??;
        let Message::Text(text) = frame else {
            continue;
        };
        let text = text.as_str();
        if text.starts_with('0') {
            // Engine.IO's open packet: join the default namespace.
            ws.send(Message::Text("40".into())).await?;
        } else if let Some(event) = text.strip_prefix("42") {
            let (_, welcome): (serde::de::IgnoredAny, serde_json::Value) =
                serde_json::from_str(event)?;
            let id = welcome["you"]["connection"]
                .as_str()
                .with_context(|| format!("not a welcome: {text}"))?
                .to_string();
            return Ok((ws, id));
        } else if text.starts_with("44") {
            bail!("the peer refused the connection: {text}");
        }
    }
}

/// Opens a collaboration connection and reads the welcome; answers the socket and its connection id.
pub async fn connect(base: &str, cookie: &str, report: i64) -> anyhow::Result<(Ws, String)> {
    let ws_base = base.replacen("http://", "ws://", 1);
    let mut request = format!("{ws_base}/ws/reports/{report}").into_client_request()?;
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(base)?);
    request
        .headers_mut()
        .insert("cookie", HeaderValue::from_str(cookie)?);
    welcomed(request, report).await
}

/// Opens a connection to the bare fan-out (`loadgen floor`), the user named in the query string.
pub(crate) async fn connect_bare(
    base: &str,
    user: &str,
    report: i64,
) -> anyhow::Result<(Ws, String)> {
    let ws_base = base.replacen("http://", "ws://", 1);
    let request = format!("{ws_base}/ws/reports/{report}?user={user}").into_client_request()?;
    welcomed(request, report).await
}

/// Connects with `request` and reads the welcome (PMR's shape); answers the socket and its
/// connection id.
async fn welcomed(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
    report: i64,
) -> anyhow::Result<(Ws, String)> {
    // Like a browser, the client sends small frames without waiting (no Nagle).
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .with_context(|| format!("connecting to report {report}"))?;
    let first = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no welcome within 30 s")?
        .context("closed before the welcome")??;
    let Message::Text(text) = first else {
        bail!("the first frame is not the welcome: {first:?}")
    };
    let welcome: serde_json::Value = serde_json::from_str(text.as_str())?;
    let id = welcome["you"]["connection"]
        .as_str()
        .with_context(|| format!("not a welcome: {text}"))?
        .to_string();
    Ok((ws, id))
}

/// A fan-out run's shape.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FanoutParams {
    pub conns: usize,
    pub sessions: usize,
    /// Presence messages per second per client.
    pub rate: f64,
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// Saves per second per draft session (0: none).
    pub save_rate: f64,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What a fan-out run measured.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutResult {
    pub label: String,
    /// "PMR" or "Socket.IO peer".
    pub server: String,
    pub instances: usize,
    pub batching: bool,
    pub params: FanoutParams,
    /// Presence delivery latency to every other member, from the intended send time.
    pub latency: Summary,
    /// `saved` (sent with force_send) latency from the intended save time, at every member.
    pub forced: Summary,
    pub sent: u64,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    /// Deliveries whose section did not match the sender's schedule (lost or reordered messages).
    pub out_of_order: u64,
    /// Every message the clients received in the measured window (any type, own echoes included).
    pub messages_received: u64,
    pub frames_received: u64,
    /// Bytes of those frames, with their WebSocket header.
    pub frame_bytes_received: u64,
    /// The servers' own accounting (`/websocket/stats`), summed over instances.
    pub server_frames_out: i64,
    pub server_messages_out: i64,
    pub server_frames_saved: i64,
    pub server_bytes_saved: i64,
    pub server_slow_consumers: i64,
    /// The servers' `websocket_message_latency` (queued to written on the socket), worst instance:
    /// messages sent with `force_send`, and the others.
    pub server_forced: ServerLatency,
    pub server_queued: ServerLatency,
    /// CPU time the instances used over the measured window (from the first intended send to the end
    /// of the drain), summed.
    pub cpu_seconds: f64,
    /// The part of it the kernel spent on the servers' behalf (system calls, TCP).
    pub system_seconds: f64,
    pub window_secs: f64,
    /// Each instance's resident memory at the end of the run, its clients still connected.
    pub rss_bytes: Vec<u64>,
    /// The kernel's counters of the clients' connections over the window, summed over instances
    /// (the server's side: what it sent is what its clients received).
    pub tcp: kernel::Tcp,
    /// The loopback interface over the window: every packet of the run (both directions, Redis's
    /// too), headers included.
    pub loopback: kernel::Loopback,
}

/// One `websocket_message_latency` series since the server started.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct ServerLatency {
    pub count: u64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl ServerLatency {
    fn worst(self, other: ServerLatency) -> ServerLatency {
        ServerLatency {
            count: self.count + other.count,
            p95_ms: self.p95_ms.max(other.p95_ms),
            p99_ms: self.p99_ms.max(other.p99_ms),
            max_ms: self.max_ms.max(other.max_ms),
        }
    }
}

/// The `websocket_message_latency` series labelled `delivery=<delivery>` in the performance stats.
fn server_latency(stats: &serde_json::Value, delivery: &str) -> ServerLatency {
    stats["operations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|op| {
            op["name"] == "websocket_message_latency"
                && op["labels"][0][0] == "delivery"
                && op["labels"][0][1] == delivery
        })
        .map(|op| {
            let s = &op["since_start"];
            ServerLatency {
                count: s["count"].as_u64().unwrap_or(0),
                p95_ms: s["p95"].as_f64().unwrap_or(0.0),
                p99_ms: s["p99"].as_f64().unwrap_or(0.0),
                max_ms: s["max"].as_f64().unwrap_or(0.0),
            }
        })
        .unwrap_or_default()
}

impl FanoutResult {
    /// Share of frames batching saved, as the clients saw it: 1 − frames / messages.
    pub fn frames_saved(&self) -> f64 {
        if self.messages_received == 0 {
            return 0.0;
        }
        1.0 - self.frames_received as f64 / self.messages_received as f64
    }

    pub fn bytes_per_message(&self) -> f64 {
        self.frame_bytes_received as f64 / self.messages_received.max(1) as f64
    }

    /// Presence deliveries per CPU-second of the servers.
    pub fn deliveries_per_cpu_second(&self) -> f64 {
        self.deliveries as f64 / self.cpu_seconds.max(f64::MIN_POSITIVE)
    }
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    messages: Vec<Frame<'a>>,
    #[serde(default, borrow)]
    member: Option<Member<'a>>,
    #[serde(default, borrow)]
    revision: Option<Revision<'a>>,
}

#[derive(Deserialize)]
struct Member<'a> {
    #[serde(borrow)]
    connection: Cow<'a, str>,
    #[serde(default, borrow)]
    section: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Revision<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// Every client's send schedule, known to every receiver.
struct Schedule {
    t0: Instant,
    period: Duration,
    offsets: Vec<Duration>,
    save_period: Duration,
    index: HashMap<String, usize>,
}

impl Schedule {
    fn presence_at(&self, client: usize, k: u64) -> Instant {
        self.t0 + self.offsets[client] + self.period.mul_f64(k as f64)
    }

    fn save_at(&self, client: usize, k: u64) -> Instant {
        self.t0 + self.offsets[client] + self.period / 2 + self.save_period.mul_f64(k as f64)
    }
}

struct ReaderTally {
    latency: Histogram<u64>,
    forced: Histogram<u64>,
    deliveries: u64,
    out_of_order: u64,
    messages: u64,
    frames: u64,
    frame_bytes: u64,
}

fn header_bytes(len: usize) -> u64 {
    match len {
        0..=125 => 2,
        126..=65535 => 4,
        _ => 10,
    }
}

/// A received frame's message: PMR's frames are the message; the peer's are Socket.IO events,
/// `42["m",<message>]` (anything else, a ping or a namespace packet, is not a message).
fn parse_frame(text: &str, socket_io: bool) -> Option<Frame<'_>> {
    if socket_io {
        let event = text.strip_prefix("42")?;
        serde_json::from_str::<(serde::de::IgnoredAny, Frame)>(event)
            .ok()
            .map(|(_, frame)| frame)
    } else {
        serde_json::from_str::<Frame>(text).ok()
    }
}

async fn read_side(
    mut stream: futures_util::stream::SplitStream<Ws>,
    socket_io: bool,
    me: usize,
    schedule: Arc<Schedule>,
    until: Instant,
) -> ReaderTally {
    let mut tally = ReaderTally {
        latency: hist::new(),
        forced: hist::new(),
        deliveries: 0,
        out_of_order: 0,
        messages: 0,
        frames: 0,
        frame_bytes: 0,
    };
    let mut seen: HashMap<usize, u64> = HashMap::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, stream.next()).await {
        let Message::Text(text) = message else {
            continue;
        };
        let now = Instant::now();
        if now < schedule.t0 {
            continue;
        }
        tally.frames += 1;
        tally.frame_bytes += text.len() as u64 + header_bytes(text.len());
        let Some(frame) = parse_frame(text.as_str(), socket_io) else {
            continue;
        };
        let mut one = |m: &Frame| {
            tally.messages += 1;
            match (m.kind.as_ref(), &m.member, &m.revision) {
                ("presence", Some(member), _) => {
                    let Some(&from) = schedule.index.get(member.connection.as_ref()) else {
                        return;
                    };
                    if from == me {
                        return;
                    }
                    let k = seen.entry(from).or_insert(0);
                    let expected = SECTIONS[(*k % SECTIONS.len() as u64) as usize];
                    if member.section.as_deref() != Some(expected) {
                        tally.out_of_order += 1;
                    }
                    hist::record(
                        &mut tally.latency,
                        now.saturating_duration_since(schedule.presence_at(from, *k)),
                    );
                    tally.deliveries += 1;
                    *k += 1;
                }
                ("saved", _, Some(revision)) => {
                    let mut parts = revision.name.split(' ').skip(1);
                    let client = parts.next().and_then(|p| p.parse::<usize>().ok());
                    let k = parts.next().and_then(|p| p.parse::<u64>().ok());
                    if let (Some(client), Some(k)) = (client, k) {
                        if client < schedule.offsets.len() {
                            hist::record(
                                &mut tally.forced,
                                now.saturating_duration_since(schedule.save_at(client, k)),
                            );
                        }
                    }
                }
                _ => {}
            }
        };
        if frame.kind == "batch" {
            for m in &frame.messages {
                one(m);
            }
        } else {
            one(&frame);
        }
    }
    tally
}

/// Every client's sends in time order, up to `end`: `(instant, (client, is_save))`, for `pace` to
/// release (a presence before a save of the same client at the same instant, as each client's own
/// order would have it).
struct Sends {
    schedule: Arc<Schedule>,
    end: Instant,
    /// Each client's next presence and next save, earliest first.
    next: BinaryHeap<Reverse<(Instant, usize, bool)>>,
    presences: Vec<u64>,
    saves: Vec<u64>,
}

impl Sends {
    fn new(schedule: Arc<Schedule>, saving: &[bool], end: Instant) -> Sends {
        let mut next = BinaryHeap::new();
        for (client, &saves) in saving.iter().enumerate() {
            next.push(Reverse((schedule.presence_at(client, 0), client, false)));
            if saves {
                next.push(Reverse((schedule.save_at(client, 0), client, true)));
            }
        }
        next.retain(|Reverse((at, _, _))| *at < end);
        Sends {
            schedule,
            end,
            next,
            presences: vec![0; saving.len()],
            saves: vec![0; saving.len()],
        }
    }
}

impl Iterator for Sends {
    type Item = (std::time::Instant, (usize, bool));

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((at, client, is_save)) = self.next.pop()?;
        let following = if is_save {
            self.saves[client] += 1;
            self.schedule.save_at(client, self.saves[client])
        } else {
            self.presences[client] += 1;
            self.schedule.presence_at(client, self.presences[client])
        };
        if following < self.end {
            self.next.push(Reverse((following, client, is_save)));
        }
        Some((at.into_std(), (client, is_save)))
    }
}

/// Sends what `pace` releases for this client (`true`: a save), until the schedule ends.
async fn write_side(
    mut sink: futures_util::stream::SplitSink<Ws, Message>,
    socket_io: bool,
    me: usize,
    mut due: tokio::sync::mpsc::UnboundedReceiver<bool>,
) -> anyhow::Result<(u64, futures_util::stream::SplitSink<Ws, Message>)> {
    let (mut k, mut s) = (0u64, 0u64);
    while let Some(is_save) = due.recv().await {
        let text = if is_save {
            s += 1;
            format!(r#"{{"type":"save","name":"loadgen {me} {}"}}"#, s - 1)
        } else {
            k += 1;
            format!(
                r#"{{"type":"presence","section":"{}"}}"#,
                SECTIONS[((k - 1) % SECTIONS.len() as u64) as usize]
            )
        };
        let text = if socket_io {
            format!(r#"42["m",{text}]"#)
        } else {
            text
        };
        sink.send(Message::Text(text.into())).await?;
    }
    Ok((k, sink))
}

/// The kernel's and the processes' counters at one moment of a run.
struct Counters {
    cpu_seconds: f64,
    system_seconds: f64,
    tcp: kernel::Tcp,
    loopback: kernel::Loopback,
    at: Instant,
}

/// A fan-out configuration's name, as the runs' labels and BENCHMARKS.md's rows carry it:
/// "one instance, batching off", "2 instances via Redis, batching on".
pub fn shape(instances: usize, batching: bool) -> String {
    let where_ = if instances == 1 {
        "one instance".to_string()
    } else {
        format!("{instances} instances via Redis")
    };
    format!("{where_}, batching {}", if batching { "on" } else { "off" })
}

fn counters(instances: &[Instance]) -> anyhow::Result<Counters> {
    let mut c = Counters {
        cpu_seconds: 0.0,
        system_seconds: 0.0,
        tcp: kernel::Tcp::default(),
        loopback: kernel::loopback()?,
        at: Instant::now(),
    };
    for i in instances {
        let (user, system) = kernel::cpu_seconds(i.pid)?;
        c.cpu_seconds += user + system;
        c.system_seconds += system;
        c.tcp.add(kernel::server_tcp(i.port)?);
    }
    Ok(c)
}

/// Runs a fan-out against `instances` (clients spread over them), speaking `protocol`.
pub async fn fanout(
    protocol: &Protocol,
    instances: &[Instance],
    reports: &[ReportLink],
    params: FanoutParams,
    batching: bool,
) -> anyhow::Result<FanoutResult> {
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let sessions = params.sessions.min(reports.len());
    if sessions == 0 || bases.is_empty() {
        bail!("no report or no instance to open sessions on");
    }
    let socket_io = protocol.is_socket_io();
    // Connect everyone first, a few at a time, so no one misses the start.
    let plan: Vec<(usize, i64, String)> = (0..params.conns)
        .map(|i| {
            let session = i % sessions;
            let base = bases[(i / sessions) % bases.len()].clone();
            (i, reports[session].id, base)
        })
        .collect();
    let mut connected: Vec<(usize, Ws, String)> = futures_util::stream::iter(plan)
        .map(|(i, report, base)| async move {
            protocol
                .connect(&base, report)
                .await
                .map(|(ws, id)| (i, ws, id))
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    connected.sort_by_key(|(i, _, _)| *i);
    let period = Duration::from_secs_f64(1.0 / params.rate);
    let golden = 0.618_033_988_749_895_f64;
    let schedule = Arc::new(Schedule {
        t0: Instant::now() + Duration::from_millis(500),
        period,
        offsets: (0..params.conns)
            .map(|i| period.mul_f64((i as f64 * golden).fract()))
            .collect(),
        save_period: if params.save_rate > 0.0 {
            Duration::from_secs_f64(1.0 / params.save_rate)
        } else {
            Duration::MAX / 4
        },
        index: connected
            .iter()
            .map(|(i, _, id)| (id.clone(), *i))
            .collect(),
    });
    let end = schedule.t0 + params.duration;
    let drain = end + Duration::from_millis(1500);
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    let mut saving = Vec::new();
    let mut release = Vec::new();
    for (i, ws, _) in connected {
        let (sink, stream) = ws.split();
        saving.push(params.save_rate > 0.0 && i < sessions && reports[i].status == "draft");
        let (tx, due) = tokio::sync::mpsc::unbounded_channel();
        release.push(tx);
        writers.push(tokio::spawn(write_side(sink, socket_io, i, due)));
        readers.push(tokio::spawn(read_side(
            stream,
            socket_io,
            i,
            schedule.clone(),
            drain,
        )));
    }
    // One thread releases every client's sends on time (`pace`); a client whose writer has
    // failed misses its own, the others go on.
    let pacer = pace(
        Sends::new(schedule.clone(), &saving, end),
        move |(client, is_save)| {
            let _ = release[client].send(is_save);
            true
        },
    );
    tokio::time::sleep_until(schedule.t0).await;
    let before = counters(instances)?;
    let mut sent_by = vec![0u64; params.conns];
    let mut sinks = Vec::new();
    for (i, w) in writers.into_iter().enumerate() {
        let (sent, sink) = w.await??;
        sent_by[i] = sent;
        sinks.push(sink);
    }
    pacer
        .join()
        .map_err(|_| anyhow::anyhow!("the pacing thread panicked"))?;
    let mut result = FanoutResult {
        label: format!(
            "{}, {}",
            protocol.server(),
            shape(instances.len(), batching)
        ),
        server: protocol.server().to_string(),
        instances: bases.len(),
        batching,
        params,
        latency: Summary::default(),
        forced: Summary::default(),
        sent: sent_by.iter().sum(),
        expected_deliveries: 0,
        deliveries: 0,
        out_of_order: 0,
        messages_received: 0,
        frames_received: 0,
        frame_bytes_received: 0,
        server_frames_out: 0,
        server_messages_out: 0,
        server_frames_saved: 0,
        server_bytes_saved: 0,
        server_slow_consumers: 0,
        server_forced: ServerLatency::default(),
        server_queued: ServerLatency::default(),
        cpu_seconds: 0.0,
        system_seconds: 0.0,
        window_secs: 0.0,
        rss_bytes: Vec::new(),
        tcp: kernel::Tcp::default(),
        loopback: kernel::Loopback::default(),
    };
    let members = |session: usize| {
        (0..params.conns)
            .filter(|i| i % sessions == session)
            .count()
    };
    for (i, sent) in sent_by.iter().enumerate() {
        result.expected_deliveries += sent * (members(i % sessions) as u64 - 1);
    }
    let (mut latency, mut forced) = (hist::new(), hist::new());
    for r in readers {
        let t = r.await?;
        latency.add(&t.latency)?;
        forced.add(&t.forced)?;
        result.deliveries += t.deliveries;
        result.out_of_order += t.out_of_order;
        result.messages_received += t.messages;
        result.frames_received += t.frames;
        result.frame_bytes_received += t.frame_bytes;
    }
    // The readers stop at the end of the drain; the sockets stay open (the sinks hold them).
    let after = counters(instances)?;
    result.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
    result.system_seconds = after.system_seconds - before.system_seconds;
    result.window_secs = after.at.duration_since(before.at).as_secs_f64();
    result.tcp = after.tcp.since(before.tcp);
    result.loopback = after.loopback.since(before.loopback);
    for i in instances {
        result.rss_bytes.push(process::rss_of(i.pid)?);
    }
    result.latency = hist::summary(&latency);
    result.forced = hist::summary(&forced);
    for admin in instances.iter().filter_map(|i| i.admin.as_ref()) {
        let stats = admin.websocket_stats().await?;
        let n = |k: &str| stats[k].as_i64().unwrap_or(0);
        result.server_frames_out += n("frames_out");
        result.server_messages_out += n("messages_out");
        result.server_frames_saved += n("frames_saved");
        result.server_bytes_saved += n("bytes_saved");
        result.server_slow_consumers += n("slow_consumers_closed");
        let perf = admin.get_json("/api/reports/pmr/performance/stats").await?;
        result.server_forced = result.server_forced.worst(server_latency(&perf, "forced"));
        result.server_queued = result.server_queued.worst(server_latency(&perf, "queued"));
    }
    drop(sinks);
    Ok(result)
}

/// What the idle-connection run measured.
#[derive(Debug, Clone, Serialize)]
pub struct IdleResult {
    pub connections: usize,
    pub per_session: usize,
    pub rss_before_bytes: u64,
    pub rss_after_bytes: u64,
    pub bytes_per_connection: f64,
    #[serde(serialize_with = "secs")]
    pub connect_time: Duration,
}

/// Opens `count` connections, `per_session` to a report, each read by a task that only drains it, and
/// measures the server's resident memory before and after.
pub async fn idle(
    api: &Api,
    reports: &[ReportLink],
    count: usize,
    per_session: usize,
    rss: impl Fn() -> anyhow::Result<u64>,
) -> anyhow::Result<IdleResult> {
    // Warm the server's paths (authentication, sessions, the document of each report) first, so
    // the figure is the connections' and not one-time set-up.
    let mut warm = Vec::new();
    for r in reports {
        warm.push(connect(&api.base, &api.cookie, r.id).await?.0);
    }
    drop(warm);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss()?;
    let started = Instant::now();
    let cookie = api.cookie.clone();
    let base = api.base.clone();
    let ids: Vec<i64> = (0..count)
        .map(|i| reports[(i / per_session) % reports.len()].id)
        .collect();
    let sockets: Vec<Ws> = futures_util::stream::iter(ids)
        .map(|report| {
            let (base, cookie) = (base.clone(), cookie.clone());
            async move { connect(&base, &cookie, report).await.map(|(ws, _)| ws) }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let connect_time = started.elapsed();
    let mut held = Vec::with_capacity(sockets.len());
    for ws in sockets {
        let (sink, mut stream) = ws.split();
        let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
        held.push((sink, drain));
    }
    // Let the join announcements settle, then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss()?;
    let result = IdleResult {
        connections: count,
        per_session,
        rss_before_bytes: before,
        rss_after_bytes: after,
        // Signed: with few connections the allocator's returns can outweigh them (noise, shown).
        bytes_per_connection: (after as f64 - before as f64) / count as f64,
        connect_time,
    };
    for (_, drain) in &held {
        drain.abort();
    }
    drop(held);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receiver_maps_a_delivery_to_its_intended_send_time() {
        let t0 = Instant::now();
        let schedule = Schedule {
            t0,
            period: Duration::from_millis(50),
            offsets: vec![Duration::ZERO, Duration::from_millis(31)],
            save_period: Duration::from_secs(1),
            index: HashMap::new(),
        };
        assert_eq!(schedule.presence_at(1, 2), t0 + Duration::from_millis(131));
        // Saves fall between two presence messages of the same client.
        assert_eq!(schedule.save_at(0, 1), t0 + Duration::from_millis(1025));
    }

    #[test]
    fn the_paced_sends_are_every_clients_own_schedule_merged_in_time_order() {
        let t0 = Instant::now();
        let schedule = Arc::new(Schedule {
            t0,
            period: Duration::from_millis(50),
            offsets: vec![
                Duration::ZERO,
                Duration::from_millis(31),
                Duration::from_millis(12),
            ],
            save_period: Duration::from_millis(300),
            index: HashMap::new(),
        });
        let saving = [true, false, true];
        let end = t0 + Duration::from_millis(2_000);
        // The plain rule, client by client: the earlier of its next presence and next save (the
        // presence on a tie), until that is at the end; then every client's sends sorted by time.
        let mut expected = Vec::new();
        for (client, &saves) in saving.iter().enumerate() {
            let (mut k, mut s) = (0u64, 0u64);
            loop {
                let presence = schedule.presence_at(client, k);
                let save = saves.then(|| schedule.save_at(client, s));
                let (at, is_save) = match save {
                    Some(save) if save < presence => (save, true),
                    _ => (presence, false),
                };
                if at >= end {
                    break;
                }
                if is_save {
                    s += 1;
                } else {
                    k += 1;
                }
                expected.push((at.into_std(), (client, is_save)));
            }
        }
        expected.sort_by_key(|&(at, (client, is_save))| (at, client, is_save));
        let merged: Vec<_> = Sends::new(schedule, &saving, end).collect();
        assert_eq!(merged.len(), 3 * 40 + 2 * 7);
        assert_eq!(merged, expected);
    }

    #[test]
    fn batches_and_bare_messages_parse() {
        let batch = r#"{"type":"batch","count":2,"timestamp":"t","messages":[
            {"type":"presence","member":{"connection":"a:1","user":"u","name":"U","color":"black","section":"risks"}},
            {"type":"saved","revision":{"number":3,"name":"loadgen 4 7","author":"u","created_at":"t"},"by":"U","restored":false}]}"#;
        let frame: Frame = serde_json::from_str(batch).expect("parses");
        assert_eq!(frame.messages.len(), 2);
        let member = frame.messages[0].member.as_ref().expect("member");
        assert_eq!(
            (member.connection.as_ref(), member.section.as_deref()),
            ("a:1", Some("risks"))
        );
        let revision = frame.messages[1].revision.as_ref().expect("revision");
        assert_eq!(revision.name, "loadgen 4 7");
        assert_eq!(
            (header_bytes(125), header_bytes(126), header_bytes(70_000)),
            (2, 4, 10)
        );
    }

    #[test]
    fn socket_io_events_carry_the_same_messages() {
        let event = r#"42["m",{"type":"presence","member":{"connection":"Xy1","user":"eddie","name":"eddie","color":3,"section":"risks"}}]"#;
        let frame = parse_frame(event, true).expect("an event");
        let member = frame.member.expect("member");
        assert_eq!(
            (member.connection.as_ref(), member.section.as_deref()),
            ("Xy1", Some("risks"))
        );
        // Engine.IO pings and namespace packets are not messages; PMR's frames are read bare.
        assert!(parse_frame("2", true).is_none());
        assert!(parse_frame(r#"40{"sid":"a"}"#, true).is_none());
        assert!(parse_frame(event, false).is_none());
        assert!(parse_frame(r#"{"type":"batch","messages":[]}"#, false).is_some());
    }

    #[test]
    fn the_server_latency_series_is_found_by_its_label() {
        let stats = serde_json::json!({"operations": [
            {"name": "websocket_message_latency", "labels": [["delivery", "queued"]],
             "since_start": {"count": 9, "p95": 40.0, "p99": 49.0, "max": 51.0}},
            {"name": "websocket_message_latency", "labels": [["delivery", "forced"]],
             "since_start": {"count": 3, "p95": 0.3, "p99": 0.4, "max": 0.5}}
        ]});
        let forced = server_latency(&stats, "forced");
        assert_eq!((forced.count, forced.p99_ms), (3, 0.4));
        assert_eq!(server_latency(&stats, "other").count, 0);
    }
}
