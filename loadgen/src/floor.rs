//! The floor `loadgen ws` measures beside PMR and the Socket.IO peer: the least a server can do for
//! the benchmark's messages, written the plain way in Rust on the crates PMR's own socket stands on
//! (tokio and tungstenite), so that "how many deliveries per CPU-second can a server of this shape
//! reach on this machine" is a measurement, not a guess. `loadgen floor` runs it as a process of its
//! own (its CPU time and memory are counted like the other servers').
//!
//! It answers the same messages in the same JSON shapes as PMR and the peer: a connection
//! (`/ws/reports/{id}?user=<name>`) joins its report's room and gets a `welcome` naming its
//! connection; a `presence` goes to the whole room, its sender included, as
//! `{"type":"presence","member":{...}}`; a `save` is answered with a `saved` to the whole room at once,
//! after the batch waiting ahead of it. With batching the room's messages wait at most 50 ms or until
//! there are 10 and go out as one `{"type":"batch",...}` frame (a batch of one goes out bare): PMR's
//! and the peer's rule. Each frame is encoded once and shared by every connection it goes to; each
//! connection's writer writes whatever waits for it in one system call.
//!
//! What it leaves out, each making it cheaper than PMR and the peer: signing in, rights and their
//! re-checks, rate limits, size accounting and slow-consumer limits, statistics, pings, the revision
//! store, several instances. `GET /healthz` answers 200 once it listens.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// The batching rule PMR and the peer apply.
const MAX_SIZE: usize = 10;
const MAX_WAIT: Duration = Duration::from_millis(50);
/// Longest text kept from a client's field (the peer's bound).
const MAX_TEXT: usize = 200;
/// Largest message a client may send.
const MAX_MESSAGE: usize = 64 * 1024;
/// PMR's socket settings (`server/src/routes/collab.rs`): tungstenite's default read buffer,
/// 128 KiB zeroed on every read, would cost this server most of its CPU.
const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 4 * 1024;

struct Member {
    id: u64,
    out: mpsc::UnboundedSender<Utf8Bytes>,
}

#[derive(Default)]
struct Room {
    members: Vec<Member>,
    /// The waiting batch, each message's JSON.
    waiting: Vec<String>,
    /// Counts the batches opened, so that a window's timer that fires after its batch already went
    /// out (it filled up) leaves the next one alone.
    opened: u64,
}

impl Room {
    fn fan_out(&self, frame: Utf8Bytes) {
        for m in &self.members {
            let _ = m.out.send(frame.clone());
        }
    }

    fn flush(&mut self) {
        let frame = match self.waiting.len() {
            0 => return,
            1 => self.waiting.pop().unwrap_or_default(),
            n => {
                let mut s = String::with_capacity(
                    96 + self.waiting.iter().map(|m| m.len() + 1).sum::<usize>(),
                );
                s.push_str(r#"{"type":"batch","count":"#);
                s.push_str(&n.to_string());
                s.push_str(r#","timestamp":""#);
                s.push_str(&now_iso());
                s.push_str(r#"","messages":["#);
                for (i, m) in self.waiting.drain(..).enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&m);
                }
                s.push_str("]}");
                s
            }
        };
        self.waiting.clear();
        self.fan_out(frame.into());
    }
}

type Rooms = Mutex<HashMap<i64, Arc<Mutex<Room>>>>;

struct Floor {
    batching: bool,
    rooms: Rooms,
    next_id: AtomicU64,
    revisions: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves on `127.0.0.1:port` until the process is stopped.
pub async fn serve(port: u16, batching: bool) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding port {port}"))?;
    let floor = Arc::new(Floor {
        batching,
        rooms: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
        revisions: AtomicU64::new(0),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let floor = floor.clone();
        tokio::spawn(async move {
            let _ = connection(stream, floor).await;
        });
    }
}

/// The room and user a connection's request names, or why not.
fn parse_target(path_and_query: &str) -> Option<(i64, String)> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let report: i64 = path.strip_prefix("/ws/reports/")?.parse().ok()?;
    if report <= 0 {
        return None;
    }
    let user = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("user="))
        .filter(|u| {
            !u.is_empty() && u.len() <= 64 && u.bytes().all(|b| b.is_ascii_alphanumeric())
        })?;
    Some((report, user.to_string()))
}

// The handshake's callback has tungstenite's signature, whose error is a whole HTTP response.
#[allow(clippy::result_large_err)]
async fn connection(mut stream: TcpStream, floor: Arc<Floor>) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let mut head = [0u8; 12];
    let n = stream.peek(&mut head).await?;
    if head[..n].starts_with(b"GET /healthz") {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .await?;
        return Ok(());
    }
    let mut target = None;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER);
    let ws = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        |request: &Request, response: Response| {
            let path = request.uri().path_and_query().map_or("", |p| p.as_str());
            target = parse_target(path);
            Ok(response)
        },
        Some(config),
    )
    .await?;
    let (mut sink, mut stream) = ws.split();
    let Some((report, user)) = target else {
        let _ = sink.close().await;
        return Ok(());
    };
    let id = floor.next_id.fetch_add(1, Ordering::Relaxed);
    let connection = format!("c{id}");
    let color = user
        .bytes()
        .fold(7u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)))
        % 8;
    let (out, mut queued) = mpsc::unbounded_channel::<Utf8Bytes>();
    let room = lock(&floor.rooms).entry(report).or_default().clone();
    let me = Presence {
        connection: &connection,
        user: &user,
        name: &user,
        color,
        section: None,
    };
    let welcome = serde_json::to_string(&Welcome {
        kind: "welcome",
        session: format!("report:{report}"),
        you: &me,
        members: [],
        batching: BatchingInfo {
            enabled: floor.batching,
            max_size: MAX_SIZE,
            max_wait_ms: MAX_WAIT.as_millis() as u64,
        },
    })?;
    sink.send(Message::Text(welcome.into())).await?;
    lock(&room).members.push(Member { id, out });

    let writer = tokio::spawn(async move {
        while let Some(frame) = queued.recv().await {
            if sink.feed(Message::Text(frame)).await.is_err() {
                return;
            }
            while let Ok(frame) = queued.try_recv() {
                if sink.feed(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });

    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            if matches!(message, Message::Close(_)) {
                break;
            }
            continue;
        };
        let Ok(incoming) = serde_json::from_str::<Incoming>(text.as_str()) else {
            continue;
        };
        match incoming.kind.as_ref() {
            "presence" => {
                let section = incoming.section.as_deref().map(bounded);
                let json = serde_json::to_string(&PresenceMessage {
                    kind: "presence",
                    member: Presence { section, ..me },
                })
                .expect("plain structs serialize");
                send(&floor, &room, json, false);
            }
            "save" => {
                let number = floor.revisions.fetch_add(1, Ordering::Relaxed) + 1;
                let json = serde_json::to_string(&Saved {
                    kind: "saved",
                    revision: Revision {
                        number,
                        name: bounded(incoming.name.as_deref().unwrap_or("")),
                        author: &user,
                        created_at: now_iso(),
                    },
                    by: &user,
                    restored: false,
                })
                .expect("plain structs serialize");
                send(&floor, &room, json, true);
            }
            _ => {}
        }
    }
    writer.abort();
    let mut r = lock(&room);
    r.members.retain(|m| m.id != id);
    if r.members.is_empty() {
        drop(r);
        let mut rooms = lock(&floor.rooms);
        if rooms
            .get(&report)
            .is_some_and(|r| lock(r).members.is_empty())
        {
            rooms.remove(&report);
        }
    }
    Ok(())
}

/// Sends `json` to the room: at once and alone with batching off or when forced (after the batch
/// waiting ahead of it), otherwise into the waiting batch.
fn send(floor: &Floor, room: &Arc<Mutex<Room>>, json: String, force: bool) {
    let mut r = lock(room);
    if !floor.batching {
        r.fan_out(json.into());
        return;
    }
    if force {
        r.flush();
        r.fan_out(json.into());
        return;
    }
    r.waiting.push(json);
    if r.waiting.len() >= MAX_SIZE {
        r.flush();
    } else if r.waiting.len() == 1 {
        r.opened += 1;
        let batch = r.opened;
        let room = room.clone();
        tokio::spawn(async move {
            tokio::time::sleep(MAX_WAIT).await;
            let mut r = lock(&room);
            if r.opened == batch {
                r.flush();
            }
        });
    }
}

fn bounded(s: &str) -> &str {
    match s.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// The time now as `2026-12-07T12:00:00.000Z`.
fn now_iso() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    section: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Serialize, Clone, Copy)]
struct Presence<'a> {
    connection: &'a str,
    user: &'a str,
    name: &'a str,
    color: u32,
    section: Option<&'a str>,
}

#[derive(Serialize)]
struct PresenceMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    member: Presence<'a>,
}

#[derive(Serialize)]
struct BatchingInfo {
    enabled: bool,
    max_size: usize,
    max_wait_ms: u64,
}

#[derive(Serialize)]
struct Welcome<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    session: String,
    you: &'a Presence<'a>,
    members: [(); 0],
    batching: BatchingInfo,
}

#[derive(Serialize)]
struct Revision<'a> {
    number: u64,
    name: &'a str,
    author: &'a str,
    created_at: String,
}

#[derive(Serialize)]
struct Saved<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    revision: Revision<'a>,
    by: &'a str,
    restored: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything `ws` sent until (and with) the first `saved`, batches opened, in order.
    async fn until_saved(ws: &mut crate::ws::Ws) -> Vec<serde_json::Value> {
        let mut got = Vec::new();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("a frame within 10 s")
                .expect("open")
                .expect("a frame");
            let Message::Text(text) = frame else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(text.as_str()).expect("JSON");
            if v["type"] == "batch" {
                let messages = v["messages"].as_array().expect("messages").clone();
                assert_eq!(v["count"], messages.len(), "{v}");
                assert!(messages.len() > 1, "a batch of one goes out bare: {v}");
                got.extend(messages);
            } else {
                let saved = v["type"] == "saved";
                got.push(v);
                if saved {
                    return got;
                }
            }
        }
    }

    async fn fan_out_reaches_the_room_in_order(batching: bool) {
        let port = test_support::free_port();
        tokio::spawn(serve(port, batching));
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let mut tries = 0;
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            tries += 1;
            assert!(tries < 100, "the floor never listened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (mut ana, ana_id) = crate::ws::connect_bare(&base, "ana", 7).await.expect("ana");
        let (mut ben, _) = crate::ws::connect_bare(&base, "ben", 7).await.expect("ben");
        let (mut cy, cy_id) = crate::ws::connect_bare(&base, "cy", 8).await.expect("cy");
        for section in ["one", "two", "three"] {
            let m = format!(r#"{{"type":"presence","section":"{section}"}}"#);
            ana.send(Message::Text(m.into())).await.expect("sends");
        }
        ana.send(Message::Text(r#"{"type":"bogus"}"#.into()))
            .await
            .expect("sends");
        ana.send(Message::Text(r#"{"type":"save","name":"v1"}"#.into()))
            .await
            .expect("sends");
        for got in [until_saved(&mut ben).await, until_saved(&mut ana).await] {
            let sections: Vec<_> = got[..3]
                .iter()
                .map(|m| {
                    assert_eq!(m["member"]["connection"], ana_id.as_str(), "{m}");
                    assert_eq!(m["member"]["user"], "ana", "{m}");
                    m["member"]["section"]
                        .as_str()
                        .expect("section")
                        .to_string()
                })
                .collect();
            assert_eq!(sections, ["one", "two", "three"]);
            assert_eq!(got.len(), 4, "{got:?}");
            assert_eq!(got[3]["revision"]["name"], "v1");
            assert_eq!(got[3]["by"], "ana");
        }
        // Another room heard none of it: its first message is its own.
        cy.send(Message::Text(r#"{"type":"save","name":"c"}"#.into()))
            .await
            .expect("sends");
        let got = until_saved(&mut cy).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0]["revision"]["name"], "c");
        assert_ne!(cy_id, ana_id);
    }

    #[tokio::test]
    async fn with_batching_off_each_message_reaches_its_room_in_order() {
        fan_out_reaches_the_room_in_order(false).await;
    }

    #[tokio::test]
    async fn with_batching_on_each_message_reaches_its_room_in_order() {
        fan_out_reaches_the_room_in_order(true).await;
    }

    #[test]
    fn a_request_names_its_room_and_user() {
        assert_eq!(
            parse_target("/ws/reports/12?user=eddie"),
            Some((12, "eddie".to_string()))
        );
        assert_eq!(parse_target("/ws/reports/12"), None);
        assert_eq!(parse_target("/ws/reports/0?user=eddie"), None);
        assert_eq!(parse_target("/ws/reports/x?user=eddie"), None);
        assert_eq!(parse_target("/other/12?user=eddie"), None);
        assert_eq!(parse_target("/ws/reports/3?user=a%22b"), None);
    }

    #[test]
    fn dates_are_the_calendars() {
        // Checked against `date -u -d @<secs>`.
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_794), (2026, 12, 7));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn a_batch_is_one_frame_of_its_messages_in_order() {
        let (out, mut got) = mpsc::unbounded_channel();
        let mut room = Room {
            members: vec![Member { id: 1, out }],
            ..Room::default()
        };
        room.waiting.push(r#"{"n":1}"#.into());
        room.flush();
        room.waiting.push(r#"{"n":2}"#.into());
        room.waiting.push(r#"{"n":3}"#.into());
        room.flush();
        room.flush();
        let alone = got.try_recv().expect("a batch of one");
        assert_eq!(alone.as_str(), r#"{"n":1}"#);
        let batch = got.try_recv().expect("a batch of two");
        let v: serde_json::Value = serde_json::from_str(batch.as_str()).expect("JSON");
        assert_eq!(v["type"], "batch");
        assert_eq!(v["count"], 2);
        assert_eq!(v["messages"], serde_json::json!([{"n": 2}, {"n": 3}]));
        assert!(got.try_recv().is_err(), "an empty batch sends nothing");
    }
}
