//! Faults of the server process itself, on the real binary (`CARGO_BIN_EXE_server`) with a SQLite
//! file that outlives it:
//!
//! - SIGKILL right after an edit is acknowledged: after a restart the edit is in the document (the
//!   update is appended to the store's log before the `ack` goes out);
//! - SIGTERM: collaboration clients get a close frame with 1001, the process exits on its own within
//!   its grace period, and after a restart the edit is in the document and in the report's text (the
//!   session's end writes the document back).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The server binary on a free port over `db`; killed if still running when dropped.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    async fn start(db: &test_support::SqliteDb) -> Process {
        let port = test_support::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("PMR_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", db.url())
            .env("PMR_ADMIN_PASSWORD", PASSWORD)
            .env("PMR_DEMO_PASSWORD", PASSWORD)
            .env("PMR_MC_ITERATIONS", "500")
            .env("PMR_SHUTDOWN_GRACE_SECS", "5")
            .env("RUST_LOG", "warn")
            .env_remove("REDIS_URL")
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

    /// Signs eddie in; answers the cookie.
    async fn sign_in(&self) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/api/login", self.base()))
            .header("origin", self.base())
            .form(&[("username", "eddie"), ("password", PASSWORD)])
            .send()
            .await
            .expect("login");
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

    /// Appends `words` to the risks narrative and waits for the server's ack.
    async fn append_and_wait_for_ack(&mut self, words: &str) {
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            let text = txn.get_or_insert_text(RISKS);
            let end = text.len(&txn);
            text.insert(&mut txn, end, words);
        }
        let update = B64.encode(self.doc.transact().encode_state_as_update_v1(&before));
        self.send(json!({"type": "update", "update": update, "ref": 7}))
            .await;
        let ack = self.until("ack").await;
        assert_eq!(ack["ref"], 7, "{ack}");
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

#[tokio::test]
async fn sigterm_closes_sessions_with_1001_and_writes_the_document_back() {
    let db = test_support::SqliteDb::new();
    let words = " Written before a graceful stop.";
    let mut server = Process::start(&db).await;
    let cookie = server.sign_in().await;
    let report = server.draft(&cookie).await;
    let mut editor = server.join(&cookie, report).await;
    editor.append_and_wait_for_ack(words).await;
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let close = editor.until("close").await;
    assert_eq!(close["code"], 1001, "{close}");
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
