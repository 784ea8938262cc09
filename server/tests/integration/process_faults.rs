//! Faults of the server process itself, on the real binary (`CARGO_BIN_EXE_server`) with a SQLite
//! file that outlives it:
//!
//! - SIGKILL right after an edit is acknowledged: after a restart the edit is in the document (the
//!   update is appended to the store's log before the `ack` goes out);
//! - SIGTERM: a request in flight is finished and answered, collaboration clients get a close frame
//!   with 1001, the process exits on its own within its grace period, and after a restart the edit is in the document and in the report's text (the
//!   session's end writes the document back);
//! - SIGKILL of one of two instances sharing a Redis, at a random moment while three editors type
//!   without waiting: every acknowledged edit is in the document on both instances afterwards, and
//!   each editor's copy keeps all it typed;
//! - a client that floods `sync` and never reads: it is closed as a slow consumer and the server's
//!   memory stays flat;
//! - a full disk (the process may not grow any file, its log included): edits, sign-ins and regenerations are refused
//!   with a clear message (507 over HTTP), the server stays up and keeps serving reads, and after a restart with room again the
//!   database is intact with every acknowledged edit.
//!
//! And what only the real binary's environment shows: the seed's `PERFORMANCE_MONITORING_ENABLED`
//! (and its older name) switches monitoring at start.

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update, WriteTxn};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const PASSWORD: &str = "process faults password";
const RISKS: &str = "narrative:risks";
const WAIT: Duration = Duration::from_secs(20);
/// Iterations of the simulation rerun that is in flight when SIGTERM arrives (long enough to still
/// run when the signal comes, short enough to finish within the grace period).
const IN_FLIGHT_ITERATIONS: u32 = 20_000;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The server binary on a free port over `db`; killed if still running when dropped.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    async fn start(db: &test_support::SqliteDb) -> Process {
        Process::start_limited(db, None).await
    }

    /// Starts the server as one of the instances sharing the Redis at `redis`.
    async fn start_with_redis(db: &test_support::SqliteDb, redis: &str) -> Process {
        Process::launch(db, None, Some(redis), &[]).await
    }

    /// Starts the server with these settings besides the usual ones.
    async fn start_with(db: &test_support::SqliteDb, env: &[(&str, &str)]) -> Process {
        Process::launch(db, None, None, env).await
    }

    /// Starts the server; with `max_file_bytes`, no file it writes may grow past that size (the
    /// kernel's `RLIMIT_FSIZE`, with `SIGXFSZ` ignored so a write past it fails with `EFBIG`): a
    /// disk that is full for this process.
    async fn start_limited(db: &test_support::SqliteDb, max_file_bytes: Option<u64>) -> Process {
        Process::launch(db, max_file_bytes, None, &[]).await
    }

    async fn launch(
        db: &test_support::SqliteDb,
        max_file_bytes: Option<u64>,
        redis: Option<&str>,
        env: &[(&str, &str)],
    ) -> Process {
        let port = test_support::free_port();
        let binary = env!("CARGO_BIN_EXE_server");
        let mut command = match max_file_bytes {
            None => Command::new(binary),
            Some(bytes) => {
                let mut c = Command::new("sh");
                c.args([
                    "-c",
                    r#"trap '' XFSZ; exec prlimit --fsize="$0" -- "$1""#,
                    &bytes.to_string(),
                    binary,
                ]);
                c
            }
        };
        command
            .env("PMR_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", db.url())
            .env("PMR_ADMIN_PASSWORD", PASSWORD)
            .env("PMR_DEMO_PASSWORD", PASSWORD)
            .env("PMR_MC_ITERATIONS", "500")
            .env("PMR_SHUTDOWN_GRACE_SECS", "5")
            .env("PMR_COSTLY_RUNS_PER_MINUTE", "1000")
            .env("RUST_LOG", "warn")
            .env_remove("REDIS_URL")
            .env_remove("PERFORMANCE_MONITORING_ENABLED")
            .env_remove("PMR_MONITOR_ENABLED");
        if let Some(url) = redis {
            command.env("REDIS_URL", url);
        }
        command.envs(env.iter().copied());
        if let Some(bytes) = max_file_bytes {
            // The server logs to a file on the same full disk: already past the limit, so every
            // log line fails to be written (a server must not fall over for that).
            let path = db.path().with_extension("log");
            let filler = vec![b'.'; usize::try_from(bytes).unwrap_or(0) + 64 * 1024];
            std::fs::write(&path, filler).expect("the log file");
            let log = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("the log file");
            command
                .stdout(log.try_clone().expect("the log file"))
                .stderr(log);
        }
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .expect("the server starts");
        let process = Process { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = reqwest::get(format!("{}/readyz", process.base()))
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return process;
            }
            assert!(Instant::now() < deadline, "not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A sign-in attempt as `username`, with the demo password.
    async fn login(&self, username: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/login", self.base()))
            .header("origin", self.base())
            .form(&[("username", username), ("password", PASSWORD)])
            .send()
            .await
            .expect("login answered")
    }

    /// Signs eddie in; answers the cookie.
    async fn sign_in(&self) -> String {
        let response = self.login("eddie").await;
        assert!(response.status().is_success(), "{}", response.status());
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next().filter(|c| c.contains("pmr_session")))
            .expect("a session cookie")
            .to_string()
    }

    async fn post(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> Value {
        reqwest::Client::new()
            .post(format!("{}{path}", self.base()))
            .header("origin", self.base())
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json")
    }

    /// A draft report's id (drafts take edits).
    async fn draft(&self, cookie: &str) -> i64 {
        let portfolio = self.post(cookie, "/api/list_portfolio", &[]).await;
        portfolio["projects"]
            .as_array()
            .expect("projects")
            .iter()
            .flat_map(|p| p["reports"].as_array().expect("reports").iter())
            .find(|r| r["status"] == "draft")
            .and_then(|r| r["id"].as_i64())
            .expect("a draft")
    }

    async fn join(&self, cookie: &str, report: i64) -> Editor {
        let mut request = format!("ws://127.0.0.1:{}/ws/reports/{report}", self.port)
            .into_client_request()
            .expect("request");
        let headers = request.headers_mut();
        headers.insert(
            "origin",
            HeaderValue::from_str(&self.base()).expect("origin"),
        );
        headers.insert("cookie", HeaderValue::from_str(cookie).expect("cookie"));
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connects");
        let mut editor = Editor {
            ws,
            doc: Doc::new(),
        };
        assert_eq!(editor.next().await["type"], "welcome");
        let sv = B64.encode(StateVector::default().encode_v1());
        editor
            .send(json!({"type": "sync", "state_vector": sv}))
            .await;
        let reply = editor.until("sync").await;
        let bytes = B64
            .decode(reply["update"].as_str().expect("update"))
            .expect("b64");
        editor
            .doc
            .transact_mut()
            .apply_update(Update::decode_v1(&bytes).expect("decodes"))
            .expect("applies");
        editor
    }

    /// Waits for the process to exit by itself; answers whether it did within `limit`.
    fn exits_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A collaboration client with its own copy of the document.
struct Editor {
    ws: Ws,
    doc: Doc,
}

impl Editor {
    async fn send(&mut self, value: Value) {
        self.ws
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("sent");
    }

    /// The next frame, as JSON (a batch's messages come as the batch), or the close frame's code.
    async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame in time")
                .expect("open")
                .expect("readable");
            match frame {
                Message::Text(text) => return serde_json::from_str(text.as_str()).expect("json"),
                Message::Close(close) => {
                    return json!({"type": "close", "code": close.map(|c| u16::from(c.code))})
                }
                _ => {}
            }
        }
    }

    async fn until(&mut self, kind: &str) -> Value {
        loop {
            let m = self.next().await;
            if m["type"] == kind {
                return m;
            }
            if m["type"] == "batch" {
                if let Some(found) = m["messages"]
                    .as_array()
                    .and_then(|all| all.iter().find(|x| x["type"] == kind))
                {
                    return found.clone();
                }
            }
        }
    }

    /// Appends `words` to the risks narrative and waits for the server's ack; answers the error
    /// frame instead if one comes (the local copy keeps the words either way).
    async fn append(&mut self, words: &str) -> Result<(), Value> {
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            let text = txn.get_or_insert_text(RISKS);
            let end = text.len(&txn);
            text.insert(&mut txn, end, words);
        }
        let update = B64.encode(self.doc.transact().encode_state_as_update_v1(&before));
        self.send(json!({"type": "update", "update": update, "ref": 9}))
            .await;
        loop {
            let m = self.next().await;
            let all = match m["type"].as_str() {
                Some("batch") => m["messages"].as_array().cloned().unwrap_or_default(),
                _ => vec![m],
            };
            for m in all {
                match m["type"].as_str() {
                    Some("ack") if m["ref"] == 9 => return Ok(()),
                    Some("error") => return Err(m),
                    _ => {}
                }
            }
        }
    }

    /// Appends `words` to the risks narrative and waits for the server's ack.
    async fn append_and_wait_for_ack(&mut self, words: &str) {
        if let Err(error) = self.append(words).await {
            panic!("the edit was refused: {error}");
        }
    }

    fn risks(&self) -> String {
        let txn = self.doc.transact();
        txn.get_text(RISKS)
            .map(|t| t.get_string(&txn))
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn an_acknowledged_edit_survives_sigkill() {
    let db = test_support::SqliteDb::new();
    let words = " Acknowledged just before the crash.";
    let report = {
        let server = Process::start(&db).await;
        let cookie = server.sign_in().await;
        let report = server.draft(&cookie).await;
        let mut editor = server.join(&cookie, report).await;
        editor.append_and_wait_for_ack(words).await;
        // `server` drops here: SIGKILL, with no chance to write anything more.
        report
    };
    let server = Process::start(&db).await;
    let cookie = server.sign_in().await;
    let editor = server.join(&cookie, report).await;
    assert!(
        editor.risks().ends_with(words),
        "after the restart: {:?}",
        editor.risks()
    );
}

/// Three editors (two on instance A, one on B, sharing a Redis and the database) type markers
/// without waiting for acks; instance A is SIGKILLed a random moment into their typing. Every
/// marker acknowledged before the crash is then in the document on B and on a restarted A; the
/// editors on A come back (on the new A) with their copies, which still hold all they typed, what
/// the crash cut off before its ack reaches the store through the sync, and they type the markers
/// the crash kept them from typing; in the end every marker is in every fresh copy, and every live
/// copy converges on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_edits_survive_a_sigkill_at_a_random_moment_on_two_instances() {
    use common::typist::{missing, Door, Typist};
    const EACH: usize = 300;
    let db = test_support::SqliteDb::new();
    let redis = test_support::RedisServer::start();
    let mut a = Process::start_with_redis(&db, &redis.url()).await;
    let b = Process::start_with_redis(&db, &redis.url()).await;
    let cookie = a.sign_in().await;
    let report = a.draft(&cookie).await;
    let at = |port| Door {
        port,
        cookie: cookie.clone(),
    };
    let mut on_a = vec![
        Typist::join(&at(a.port), report, "a").await,
        Typist::join(&at(a.port), report, "c").await,
    ];
    let mut on_b = Typist::join(&at(b.port), report, "b").await;
    // A first stretch everyone finishes, then the stretch the crash cuts into.
    for t in &mut on_a {
        t.type_markers(0..20).await.expect("typed");
    }
    on_b.type_markers(0..20).await.expect("typed");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    let delay = Duration::from_millis(u64::from(seed % 150));
    eprintln!("SIGKILL {delay:?} into the typing (from the clock's nanoseconds: {seed})");
    let [first, second] = &mut on_a[..] else {
        unreachable!()
    };
    let (cut_a, cut_c, on_b_done, ()) = tokio::join!(
        first.type_markers(20..EACH),
        second.type_markers(20..EACH),
        on_b.type_markers(20..EACH),
        async {
            tokio::time::sleep(delay).await;
            let _ = a.child.kill();
            let _ = a.child.wait();
        }
    );
    on_b_done.expect("the editor on B types on");
    assert!(
        cut_a.is_err() && cut_c.is_err(),
        "the crash cut into the typing on A"
    );
    let acked_before: Vec<_> = on_a.iter().map(|t| t.acked.clone()).collect();

    let a = Process::start_with_redis(&db, &redis.url()).await;
    for (tag, acked) in ["a", "c"].iter().zip(&acked_before) {
        let fresh = Typist::join(&at(b.port), report, "reader")
            .await
            .leave()
            .await;
        let lost = missing(&fresh.text(), tag, acked);
        assert!(lost.is_empty(), "B lost {tag}'s acknowledged {lost:?}");
        let fresh = Typist::join(&at(a.port), report, "reader")
            .await
            .leave()
            .await;
        let lost = missing(&fresh.text(), tag, acked);
        assert!(
            lost.is_empty(),
            "the restarted A lost {tag}'s acknowledged {lost:?}"
        );
    }
    // Back on the restarted A with the copies they had, they type what the crash cut off.
    for t in &mut on_a {
        t.rejoin(&at(a.port), report).await;
    }
    for t in &mut on_a {
        let rest = t.typed.last().map_or(0, |&i| i + 1);
        t.type_markers(rest..EACH).await.expect("typed the rest");
    }
    let typed: Vec<(&str, Vec<usize>)> = ["a", "c", "b"]
        .into_iter()
        .map(|tag| (tag, (0..EACH).collect()))
        .collect();
    let everything = |text: &str| {
        typed
            .iter()
            .all(|(tag, all)| missing(text, tag, all).is_empty())
    };
    for t in on_a.iter_mut().chain(std::iter::once(&mut on_b)) {
        t.read_until(everything).await.expect("converges");
    }
    for port in [a.port, b.port] {
        let fresh = Typist::join(&at(port), report, "reader")
            .await
            .leave()
            .await;
        assert!(
            everything(&fresh.text()),
            "a fresh copy on {port} lacks markers"
        );
    }
}

#[tokio::test]
async fn sigterm_closes_sessions_with_1001_and_writes_the_document_back() {
    let db = test_support::SqliteDb::new();
    let words = " Written before a graceful stop.";
    let mut server = Process::start(&db).await;
    let cookie = server.sign_in().await;
    let report = server.draft(&cookie).await;
    let mut editor = server.join(&cookie, report).await;
    editor.append_and_wait_for_ack(words).await;
    // A request in flight when the signal comes: a simulation rerun. It asks `Expect: 100-continue`,
    // so the server's `100 Continue` says the request is being handled (its handler reads the body)
    // before the signal is sent: a request merely sent could still wait in the listen queue, and a
    // request the server never took is not one it owes an answer.
    let body = format!("report_id={report}&iterations={IN_FLIGHT_ITERATIONS}");
    let mut request = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connects");
    let head = format!(
        "POST /api/rerun_monte_carlo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {base}\r\n\
         Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {len}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        port = server.port,
        base = server.base(),
        len = body.len(),
    );
    request.write_all(head.as_bytes()).await.expect("sent");
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(WAIT, request.read(&mut byte))
            .await
            .expect("100 Continue in time")
            .expect("readable");
        assert_eq!(
            n,
            1,
            "closed before 100 Continue: {:?}",
            String::from_utf8_lossy(&interim)
        );
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let close = editor.until("close").await;
    assert_eq!(close["code"], 1001, "{close}");
    // The request in flight is finished and answered before the process goes.
    request.write_all(body.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, request.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("readable");
    let answer = String::from_utf8(answer).expect("text");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(head.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{answer}");
    let rerun: Value = serde_json::from_str(body).expect("json");
    assert_eq!(
        rerun["section"]["result"]["iterations"], IN_FLIGHT_ITERATIONS,
        "{rerun}"
    );
    let exit = server
        .exits_within(Duration::from_secs(10))
        .expect("the process stops by itself within its grace period");
    assert!(exit.success(), "{exit}");

    let server = Process::start(&db).await;
    let cookie = server.sign_in().await;
    let stored: Value = reqwest::Client::new()
        .get(format!("{}/api/reports/{report}", server.base()))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("read")
        .json()
        .await
        .expect("json");
    let risks = stored["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["key"] == "risks")
        .expect("risks");
    assert!(
        risks["narrative"]
            .as_str()
            .is_some_and(|n| n.ends_with(words)),
        "the report's stored text: {risks}"
    );
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_a_clear_error_and_loses_nothing() {
    let db = test_support::SqliteDb::new();
    // Seeded by a first run, stopped cleanly: the write-ahead log is folded into the database.
    {
        let mut server = Process::start(&db).await;
        let status = Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        server.exits_within(Duration::from_secs(10)).expect("stops");
    }
    let size = std::fs::metadata(db.path()).expect("database file").len();
    assert!(size > 1024 * 1024, "the seeded database is {size} bytes");

    // The disk fills: no file may grow past 160 KiB, so the write-ahead log soon cannot grow.
    let server = Process::start_limited(&db, Some(160 * 1024)).await;
    let cookie = server.sign_in().await;
    let report = server.draft(&cookie).await;
    let mut editor = server.join(&cookie, report).await;
    let mut acked = Vec::new();
    let mut refusal = None;
    for i in 0..2000 {
        let words = format!(" Edit {i} on a filling disk.");
        match editor.append(&words).await {
            Ok(()) => acked.push(words),
            Err(error) => {
                refusal = Some(error);
                break;
            }
        }
    }
    let refusal = refusal.expect("an edit is refused once the disk is full");
    assert!(
        !acked.is_empty(),
        "edits were stored before the disk filled"
    );
    assert_eq!(refusal["code"], "not_saved", "{refusal}");
    assert!(
        refusal["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot store data")),
        "{refusal}"
    );
    // Sign-ins (each stores a session) are refused with a message, not a crash or a 500, however
    // many come: more than the pool has connections, so none is left broken by a failed commit.
    for _ in 0..12 {
        let response = server.login("vera").await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 507, "{body}");
        assert!(body.contains("cannot store data"), "{body}");
    }
    // More edits, refused the same way: each failed commit leaves its connection to the pool.
    for i in 0..6 {
        let refused = editor.append(&format!(" Refused {i}.")).await;
        assert_eq!(refused.expect_err("refused")["code"], "not_saved");
    }
    // REST writes in transactions (regenerating the draft) are refused with 507 and a JSON
    // message, on every connection of the pool: none is left unusable by a failed commit.
    for _ in 0..12 {
        let response = reqwest::Client::new()
            .post(format!("{}/api/reports/{report}/regenerate", server.base()))
            .header("origin", server.base())
            .header("cookie", &cookie)
            .send()
            .await
            .expect("regenerate answered");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(status, 507, "{body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("disk is full or read-only")),
            "{body}"
        );
    }
    // The server is still up and still serves reads.
    let health = reqwest::get(format!("{}/healthz", server.base()))
        .await
        .expect("healthz");
    assert!(health.status().is_success());
    let portfolio = server.post(&cookie, "/api/list_portfolio", &[]).await;
    assert!(
        portfolio["projects"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{portfolio}"
    );
    drop(editor);
    drop(server); // SIGKILL: nothing more is written.

    // Room again: the database is intact and holds every acknowledged edit.
    let check = std::process::Command::new("sqlite3")
        .args([db.path().to_str().expect("path"), "PRAGMA integrity_check;"])
        .output()
        .expect("sqlite3 runs");
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "ok");
    let server = Process::start(&db).await;
    let cookie = server.sign_in().await;
    let editor = server.join(&cookie, report).await;
    let text = editor.risks();
    for words in &acked {
        assert!(
            text.contains(words.as_str()),
            "{words:?} is missing after the restart"
        );
    }
}

/// The server's resident memory, in bytes.
fn rss(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// A viewer who sends `sync` in a loop and never reads what comes back. The server answers one,
/// reads no further while the answer waits, and closes the connection as a slow consumer once it
/// cannot write for two ping intervals; its memory stays where it was (before the fix, such a client
/// grew a server from 63 to 371 MB in 20 s and was never closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_flooding_sync_without_reading_is_closed_and_memory_stays_flat() {
    let db = test_support::SqliteDb::new();
    let server = Process::start_with(&db, &[("WS_PING_INTERVAL_SECS", "1")]).await;
    let cookie = server.sign_in().await;
    let report = server.draft(&cookie).await;
    let mut flooder = server.join(&cookie, report).await;
    let before = rss(&server.child);
    let sv = B64.encode(StateVector::default().encode_v1());
    let frame = json!({"type": "sync", "state_vector": sv}).to_string();
    let started = Instant::now();
    let mut sent = 0u64;
    // As fast as the socket takes them, for up to 15 s: the sends stall once the server stops
    // reading and the buffers between are full.
    while started.elapsed() < Duration::from_secs(15) {
        let send = flooder.ws.send(Message::Text(frame.clone().into()));
        match tokio::time::timeout(Duration::from_secs(3), send).await {
            Ok(Ok(())) => sent += 1,
            Ok(Err(_)) | Err(_) => break,
        }
    }
    let after = rss(&server.child);
    eprintln!(
        "flooded {sent} syncs in {:?}; RSS {} -> {} MB",
        started.elapsed(),
        before / 1_000_000,
        after / 1_000_000
    );
    assert!(
        after < before + 64 * 1024 * 1024,
        "the server grew from {before} to {after} bytes"
    );
    // What the socket holds ends with the slow consumer's close (or the connection is gone).
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match flooder.ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the server closed the connection");
    assert!(matches!(closed, Some(4008) | None), "{closed:?}");
    // The server is fine: it answers, and counted the slow consumer.
    let admin = reqwest::Client::new()
        .post(format!("{}/api/login", server.base()))
        .header("origin", server.base())
        .form(&[("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert!(admin.status().is_success());
}

/// The seed's variable switches monitoring at start, as its older name does; the public health check
/// tells which. The two names disagreeing stops the start with a message naming both.
#[tokio::test]
async fn the_seeds_variable_switches_monitoring_at_start() {
    let db = test_support::SqliteDb::new();
    for (name, value, want) in [
        ("PERFORMANCE_MONITORING_ENABLED", "false", "disabled"),
        ("PMR_MONITOR_ENABLED", "false", "disabled"),
        ("PERFORMANCE_MONITORING_ENABLED", "true", "enabled"),
    ] {
        let server = Process::start_with(&db, &[(name, value)]).await;
        let health: Value = reqwest::get(format!(
            "{}/api/reports/pmr/performance/health",
            server.base()
        ))
        .await
        .expect("health answered")
        .json()
        .await
        .expect("health is JSON");
        let monitor = health["components"]["monitor"].as_str().unwrap_or_default();
        // "alerting" is enabled too, with an alert firing.
        let got = if monitor == "alerting" {
            "enabled"
        } else {
            monitor
        };
        assert_eq!(got, want, "{name}={value}: {health}");
    }
    let refused = Command::new(env!("CARGO_BIN_EXE_server"))
        .env(
            "PMR_ADDR",
            format!("127.0.0.1:{}", test_support::free_port()),
        )
        .env("DATABASE_URL", db.url())
        .env("PERFORMANCE_MONITORING_ENABLED", "true")
        .env("PMR_MONITOR_ENABLED", "false")
        .stdin(Stdio::null())
        .output()
        .expect("the server runs");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("PERFORMANCE_MONITORING_ENABLED") && said.contains("PMR_MONITOR_ENABLED"),
        "{said}"
    );
}
